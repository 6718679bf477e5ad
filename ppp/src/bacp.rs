//! The Bandwidth Allocation Control Protocol (RFC 2125 §3, §4): an NCP on the RFC 1661
//! automaton that elects the favored peer, whose BAP request wins when both peers ask at
//! once (§5.4). Each side offers a random Favored-Peer number; the lower one is favored.

use crate::fsm::{Fsm, FsmConfig, Negotiator, Verdict};
use crate::random::{Entropy, Random};
use crate::wire::Protocol;
use crate::wire::bacp::BacpOption;
use crate::wire::control::CodeSet;

/// BACP driven by the RFC 1661 automaton.
pub type Bacp = Fsm<BacpNegotiator>;

/// Seeds the stream of Favored-Peer numbers (see [`Random::from_entropy`]).
const FAVORED_PEER_SALT: u64 = 0x4241_4350_4650;

/// Our Favored-Peer number and what the peer sent.
#[derive(Debug, Clone)]
pub struct BacpNegotiator {
    random: Random,
    /// The number we offer (RFC 2125 §4.1).
    own: u32,
    /// The peer acknowledged `own`.
    own_acked: bool,
    /// The number we acknowledged from the peer.
    peer: Option<u32>,
    /// The peer rejected the option: it will not take part in the election.
    rejected: bool,
}

impl BacpNegotiator {
    /// A negotiator drawing its numbers from `entropy`.
    pub fn new(entropy: Entropy) -> Self {
        let mut random = Random::from_entropy(entropy, FAVORED_PEER_SALT);
        let own = random.next_u32();
        BacpNegotiator {
            random,
            own,
            own_acked: false,
            peer: None,
            rejected: false,
        }
    }

    /// A number other than `avoid`.
    fn fresh(&mut self, avoid: u32) -> u32 {
        loop {
            let number = self.random.next_u32();
            if number != avoid {
                return number;
            }
        }
    }

    /// Whether we are the favored peer: `Some` once both numbers were acknowledged, `true`
    /// when ours is the lower (RFC 2125 §4.1). `None` while BACP has not settled it, or
    /// when the peer rejected the option; a BAP machine then yields in a race [inferred].
    pub fn favored(&self) -> Option<bool> {
        match (self.own_acked, self.peer) {
            (true, Some(peer)) => Some(self.own < peer),
            _ => None,
        }
    }
}

impl Negotiator for BacpNegotiator {
    type Opt = BacpOption;
    const PROTOCOL: Protocol = Protocol::BACP;
    // RFC 2125 §3: LCP's packet format with codes 1–7 only, as an NCP.
    const CODES: CodeSet = CodeSet::Ncp;

    fn reset(&mut self) {
        self.own_acked = false;
        self.peer = None;
        self.rejected = false;
    }

    fn own_options(&mut self) -> Vec<BacpOption> {
        if self.rejected {
            Vec::new()
        } else {
            vec![BacpOption::FavoredPeer(self.own)]
        }
    }

    fn judge(&mut self, option: &BacpOption) -> Verdict<BacpOption> {
        match option {
            // Equal numbers elect no one: suggest another; the peer's Nak of ours makes us
            // pick anew too, as with LCP's Magic-Number (RFC 1661 §6.4) [inferred for BACP].
            BacpOption::FavoredPeer(peer) if *peer == self.own => {
                Verdict::Nak(BacpOption::FavoredPeer(self.fresh(self.own)))
            }
            BacpOption::FavoredPeer(_) => Verdict::Ack,
            BacpOption::Unknown { .. } => Verdict::Reject,
        }
    }

    fn peer_acked(&mut self, options: &[BacpOption]) {
        self.peer = options.iter().find_map(|option| match option {
            BacpOption::FavoredPeer(number) => Some(*number),
            BacpOption::Unknown { .. } => None,
        });
    }

    fn own_acked(&mut self, options: &[BacpOption]) {
        self.own_acked = options.contains(&BacpOption::FavoredPeer(self.own));
    }

    fn own_nakked(&mut self, option: &BacpOption) {
        // The peer holds the same number: pick another (RFC 1661 §6.4's rule) [inferred].
        if let BacpOption::FavoredPeer(suggested) = option {
            self.own = self.fresh(*suggested);
        }
    }

    fn own_rejected(&mut self, option: &BacpOption) {
        if matches!(option, BacpOption::FavoredPeer(_)) {
            self.rejected = true;
        }
    }
}

/// A fresh BACP automaton.
pub fn new_bacp(entropy: Entropy, fsm: FsmConfig) -> Bacp {
    Fsm::new(BacpNegotiator::new(entropy), fsm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsm::State;
    use sansio::Instant;

    fn exchange(a: &mut Bacp, b: &mut Bacp) {
        for _ in 0..8 {
            while let Some(p) = a.poll_packet() {
                b.receive(Instant::ZERO, &p);
            }
            while let Some(p) = b.poll_packet() {
                a.receive(Instant::ZERO, &p);
            }
        }
    }

    fn start(seed: u32) -> Bacp {
        let mut bacp = new_bacp(Entropy::Seed(seed), FsmConfig::default());
        bacp.open(Instant::ZERO);
        bacp.up(Instant::ZERO);
        bacp
    }

    #[test]
    fn exactly_one_side_is_favored() {
        for seed in 0..20 {
            let (mut a, mut b) = (start(seed), start(seed + 1000));
            exchange(&mut a, &mut b);
            assert_eq!((a.state(), b.state()), (State::Opened, State::Opened));
            let (fa, fb) = (a.negotiator().favored(), b.negotiator().favored());
            assert!(fa.is_some() && fb.is_some());
            assert_ne!(fa, fb, "seed {seed}");
        }
    }

    #[test]
    fn equal_numbers_are_nakked_and_replaced() {
        let mut negotiator = BacpNegotiator::new(Entropy::Seed(7));
        let own = negotiator.own;
        let Verdict::Nak(BacpOption::FavoredPeer(suggested)) =
            negotiator.judge(&BacpOption::FavoredPeer(own))
        else {
            panic!("equal numbers must be Nakked");
        };
        assert_ne!(suggested, own);
        assert_eq!(
            negotiator.judge(&BacpOption::FavoredPeer(own ^ 1)),
            Verdict::Ack
        );
        negotiator.own_nakked(&BacpOption::FavoredPeer(own));
        assert_ne!(negotiator.own, own, "a Nakked number is replaced");
        assert_eq!(
            negotiator.own_options(),
            [BacpOption::FavoredPeer(negotiator.own)]
        );
    }

    #[test]
    fn a_peer_without_the_option_elects_no_one() {
        let mut a = start(1);
        // A peer rejecting every option: hand-made Configure-Reject of our request.
        let request = a.poll_packet().expect("Configure-Request");
        let mut reject = request.clone();
        reject[0] = 4;
        a.receive(Instant::ZERO, &reject);
        // Then it asks for nothing and we Ack.
        a.receive(Instant::ZERO, &[0x01, 0x09, 0x00, 0x04]);
        let mut sent = Vec::new();
        while let Some(p) = a.poll_packet() {
            sent.push(p);
        }
        assert!(sent.iter().any(|p| p[..2] == [0x02, 0x09]), "{sent:?}");
        let ack_of_ours = sent
            .iter()
            .find(|p| p[0] == 1)
            .expect("new request")
            .clone();
        assert_eq!(ack_of_ours.len(), 4, "no option any more");
        let mut ack = ack_of_ours;
        ack[0] = 2;
        a.receive(Instant::ZERO, &ack);
        assert_eq!(a.state(), State::Opened);
        assert_eq!(a.negotiator().favored(), None);
    }
}
