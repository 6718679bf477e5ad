//! LCP keepalive (RFC 1661 §5.8): send an Echo-Request every interval while the link is
//! open, and declare the peer dead once `max_missed` of them in a row went unanswered.
//!
//! Intended call pattern, for whoever owns the LCP automaton (the dial engine's `Client`,
//! the peer simulator):
//!
//! ```text
//! LCP reaches Opened        -> keepalive.start(now, lcp.negotiator().parameters().magic_number)
//! LCP leaves Opened         -> keepalive.stop()
//! next wake-up              =  min(other deadlines, keepalive.poll_timeout())
//! timer due                 -> if let Some(info) = keepalive.handle_timeout(now) {
//!                                  send info in a Protocol::LCP frame
//!                              }
//! LCP packet received       -> if it parses as ControlRepr::EchoReply { identifier,
//!                              magic_number, .. }: keepalive.on_echo_reply(identifier,
//!                              magic_number); hand it to the LCP automaton as before
//!                              (which also watches Magic-Numbers for loopback)
//! keepalive.poll_event()    -> Dead: the link is gone (hang up, report the loss);
//!                              LoopedBack: our own requests are coming back
//! ```
//!
//! Echo-Requests use an Identifier sequence of their own; any Echo-Reply whose Identifier
//! matches one of the unanswered requests counts as an answer, so a reply slower than the
//! interval still proves the peer alive.

use std::collections::VecDeque;

use sansio::{Duration, Instant};
use tracing::{debug, warn};

use crate::wire::ControlRepr;
use crate::wire::lcp::LcpOption;

/// How often to probe and how much silence to bear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepaliveConfig {
    /// Time between Echo-Requests.
    pub interval: Duration,
    /// Consecutive unanswered Echo-Requests after which the peer is dead.
    pub max_missed: u32,
}

impl Default for KeepaliveConfig {
    /// pppd's customary `lcp-echo-interval 30`, `lcp-echo-failure 4`.
    fn default() -> Self {
        KeepaliveConfig {
            interval: Duration::from_secs(30),
            max_missed: 4,
        }
    }
}

/// What the keepalive noticed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeepaliveEvent {
    /// This many Echo-Requests in a row went unanswered: the peer is gone. Reported once;
    /// the keepalive stops.
    Dead {
        /// Unanswered requests.
        missed: u32,
    },
    /// An Echo-Reply carried our own Magic-Number: the line is looped back (RFC 1661
    /// §6.4). It does not count as an answer.
    LoopedBack,
}

/// The LCP echo keepalive of one link.
#[derive(Debug)]
pub struct Keepalive {
    config: KeepaliveConfig,
    /// Our Magic-Number, zero until negotiated (RFC 1661 §5.8).
    magic_number: u32,
    identifier: u8,
    /// Identifiers of the requests sent since the last answer, oldest first.
    unanswered: VecDeque<u8>,
    deadline: Option<Instant>,
    dead: bool,
    events: VecDeque<KeepaliveEvent>,
}

impl Keepalive {
    /// A stopped keepalive.
    pub fn new(config: KeepaliveConfig) -> Self {
        Keepalive {
            config: KeepaliveConfig {
                max_missed: config.max_missed.max(1),
                ..config
            },
            magic_number: 0,
            identifier: 0,
            unanswered: VecDeque::new(),
            deadline: None,
            dead: false,
            events: VecDeque::new(),
        }
    }

    /// LCP is Opened: probe every interval from now on, with our Magic-Number (zero if
    /// none was negotiated).
    pub fn start(&mut self, now: Instant, magic_number: u32) {
        self.magic_number = magic_number;
        self.unanswered.clear();
        self.dead = false;
        self.deadline = Some(now + self.config.interval);
    }

    /// LCP left Opened: stop probing.
    pub fn stop(&mut self) {
        self.deadline = None;
        self.unanswered.clear();
    }

    /// When [`Keepalive::handle_timeout`] must next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// The interval is up: count the silence, and return the next Echo-Request (an LCP
    /// Information field) unless the peer has just been declared dead.
    pub fn handle_timeout(&mut self, now: Instant) -> Option<Vec<u8>> {
        match self.deadline {
            Some(deadline) if deadline <= now => {}
            _ => return None,
        }
        let missed = u32::try_from(self.unanswered.len()).unwrap_or(u32::MAX);
        if missed >= self.config.max_missed {
            warn!(
                missed,
                "LCP keepalive: peer stopped answering Echo-Requests"
            );
            self.deadline = None;
            self.dead = true;
            self.events.push_back(KeepaliveEvent::Dead { missed });
            return None;
        }
        self.identifier = self.identifier.wrapping_add(1);
        self.unanswered.push_back(self.identifier);
        self.deadline = Some(now + self.config.interval);
        // RFC 1661 §5.8: the Magic-Number field carries ours, or zero until negotiated.
        let request = ControlRepr::<LcpOption>::EchoRequest {
            identifier: self.identifier,
            magic_number: self.magic_number,
            data: Vec::new(),
        };
        debug!("LCP keepalive sent {request}");
        Some(request.to_bytes())
    }

    /// An Echo-Reply arrived with this Identifier and Magic-Number.
    pub fn on_echo_reply(&mut self, identifier: u8, magic_number: u32) {
        if self.deadline.is_none() {
            return;
        }
        if magic_number != 0 && magic_number == self.magic_number {
            // RFC 1661 §6.4: our own number came back; that is us, not the peer.
            warn!(
                magic_number,
                "LCP keepalive: Echo-Reply carries our own Magic-Number"
            );
            self.events.push_back(KeepaliveEvent::LoopedBack);
            return;
        }
        // RFC 1661 §5.8: a reply copies its request's Identifier; others are not ours.
        if !self.unanswered.contains(&identifier) {
            debug!(
                identifier,
                "LCP keepalive: Echo-Reply answers no pending request"
            );
            return;
        }
        self.unanswered.clear();
    }

    /// Whether the peer has been declared dead (until the next [`Keepalive::start`]).
    pub fn dead(&self) -> bool {
        self.dead
    }

    /// The next thing noticed.
    pub fn poll_event(&mut self) -> Option<KeepaliveEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsm::{FsmConfig, State};
    use crate::lcp::{LcpConfig, new_lcp};
    use crate::wire::control::CodeSet;

    const MAGIC: u32 = 0x0bad_cafe;

    fn at(secs: u64) -> Instant {
        Instant::ZERO + Duration::from_secs(secs)
    }

    fn config(max_missed: u32) -> KeepaliveConfig {
        KeepaliveConfig {
            interval: Duration::from_secs(10),
            max_missed,
        }
    }

    fn echo(bytes: &[u8]) -> (u8, u32) {
        match ControlRepr::<LcpOption>::parse_bytes(bytes, CodeSet::Lcp).unwrap() {
            ControlRepr::EchoRequest {
                identifier,
                magic_number,
                data,
            } => {
                assert!(data.is_empty());
                (identifier, magic_number)
            }
            other => panic!("not an Echo-Request: {other}"),
        }
    }

    #[test]
    fn probes_every_interval_and_stays_alive_while_answered() {
        let mut keepalive = Keepalive::new(config(2));
        assert_eq!(keepalive.poll_timeout(), None);
        keepalive.start(at(0), MAGIC);
        assert_eq!(keepalive.handle_timeout(at(9)), None, "not yet due");
        for round in 1..=10u8 {
            let now = at(u64::from(round) * 10);
            assert_eq!(keepalive.poll_timeout(), Some(now));
            let (identifier, magic) = echo(&keepalive.handle_timeout(now).unwrap());
            assert_eq!((identifier, magic), (round, MAGIC));
            keepalive.on_echo_reply(identifier, 0x1234_5678);
        }
        assert!(!keepalive.dead());
        assert_eq!(keepalive.poll_event(), None);
    }

    #[test]
    fn dies_after_max_missed_unanswered_requests() {
        let mut keepalive = Keepalive::new(config(3));
        keepalive.start(at(0), MAGIC);
        let mut sent = 0;
        let mut now = at(0);
        while let Some(deadline) = keepalive.poll_timeout() {
            now = deadline;
            if keepalive.handle_timeout(now).is_some() {
                sent += 1;
            }
        }
        assert_eq!((sent, now), (3, at(40)));
        assert!(keepalive.dead());
        assert_eq!(
            keepalive.poll_event(),
            Some(KeepaliveEvent::Dead { missed: 3 })
        );
        assert_eq!(keepalive.poll_event(), None);
    }

    #[test]
    fn wrong_identifiers_do_not_count_but_late_replies_do() {
        let mut keepalive = Keepalive::new(config(2));
        keepalive.start(at(0), 0);
        let (first, magic) = echo(&keepalive.handle_timeout(at(10)).unwrap());
        assert_eq!(magic, 0, "no Magic-Number negotiated: zero");
        keepalive.on_echo_reply(first.wrapping_add(100), 0);
        let (second, _) = echo(&keepalive.handle_timeout(at(20)).unwrap());
        assert_ne!(first, second);
        // The answer to the first request arrives late: the peer is alive all the same.
        keepalive.on_echo_reply(first, 0);
        assert!(keepalive.handle_timeout(at(30)).is_some());
        assert!(keepalive.handle_timeout(at(40)).is_some());
        assert_eq!(keepalive.handle_timeout(at(50)), None);
        assert!(keepalive.dead());
    }

    #[test]
    fn our_own_magic_coming_back_is_a_loop_not_an_answer() {
        let mut keepalive = Keepalive::new(config(1));
        keepalive.start(at(0), MAGIC);
        let (identifier, _) = echo(&keepalive.handle_timeout(at(10)).unwrap());
        keepalive.on_echo_reply(identifier, MAGIC);
        assert_eq!(keepalive.poll_event(), Some(KeepaliveEvent::LoopedBack));
        assert_eq!(keepalive.handle_timeout(at(20)), None);
        assert_eq!(
            keepalive.poll_event(),
            Some(KeepaliveEvent::Dead { missed: 1 })
        );
    }

    #[test]
    fn stop_cancels_and_start_revives() {
        let mut keepalive = Keepalive::new(config(1));
        keepalive.start(at(0), MAGIC);
        keepalive.handle_timeout(at(10));
        keepalive.stop();
        assert_eq!(keepalive.poll_timeout(), None);
        assert_eq!(keepalive.handle_timeout(at(100)), None);
        keepalive.on_echo_reply(1, 0);
        assert_eq!(keepalive.poll_event(), None);
        keepalive.start(at(100), MAGIC);
        assert!(keepalive.handle_timeout(at(110)).is_some());
        assert_eq!(keepalive.handle_timeout(at(120)), None);
        assert!(keepalive.dead());
        keepalive.start(at(200), MAGIC);
        assert!(!keepalive.dead());
    }

    #[test]
    fn a_real_lcp_peer_answers_the_probe() {
        // Two LCP automata open a link; the keepalive rides on the dialer's side.
        let mut dialer = new_lcp(LcpConfig::default(), FsmConfig::default());
        let mut server = new_lcp(
            LcpConfig {
                entropy: crate::random::Entropy::Seed(2),
                ..LcpConfig::default()
            },
            FsmConfig::default(),
        );
        for lcp in [&mut dialer, &mut server] {
            lcp.open(at(0));
            lcp.up(at(0));
        }
        for _ in 0..4 {
            while let Some(p) = dialer.poll_packet() {
                server.receive(at(0), &p);
            }
            while let Some(p) = server.poll_packet() {
                dialer.receive(at(0), &p);
            }
        }
        assert_eq!(
            (dialer.state(), server.state()),
            (State::Opened, State::Opened)
        );
        let magic = dialer.negotiator().parameters().magic_number;
        let mut keepalive = Keepalive::new(config(1));
        keepalive.start(at(0), magic);
        for round in 1..=3 {
            let now = at(round * 10);
            server.receive(now, &keepalive.handle_timeout(now).unwrap());
            let reply = server.poll_packet().unwrap();
            let ControlRepr::EchoReply {
                identifier,
                magic_number,
                ..
            } = ControlRepr::<LcpOption>::parse_bytes(&reply, CodeSet::Lcp).unwrap()
            else {
                panic!("expected an Echo-Reply");
            };
            assert_eq!(magic_number, server.negotiator().parameters().magic_number);
            keepalive.on_echo_reply(identifier, magic_number);
            dialer.receive(now, &reply);
        }
        assert!(!keepalive.dead());
        assert_eq!(dialer.state(), State::Opened);
    }
}
