//! The Link Control Protocol (RFC 1661 §5–§6, RFC 1662 §7.1): the options a link negotiates
//! before anything else, judged the same way in either role. What differs between a dialer
//! and a server is configuration: which authentication protocol to demand of the peer, and
//! which ones we are willing to perform.

use tracing::{debug, warn};

use crate::fsm::{Fsm, Negotiator, Verdict};
use crate::hdlc::{DEFAULT_MRU, Encoder, FcsKind, ReceiveAccm, TransmitAccm};
use crate::random::{Entropy, Random};
use crate::wire::Protocol;
use crate::wire::control::CodeSet;
use crate::wire::lcp::{AuthProtocol, CallbackOperation, LcpOption};

mod extensions;

use extensions::Extensions;
pub use extensions::{LcpExtensions, MultilinkAgreement, MultilinkConfig};

/// LCP driven by the RFC 1661 automaton.
pub type Lcp = Fsm<LcpNegotiator>;

/// The smallest MRU we accept from a peer; smaller requests are Nak'd with the default.
/// (RFC 1661 §6.1 fixes no minimum; 128 is pppd's floor and carries any LCP packet we send.)
const MIN_PEER_MRU: u16 = 128;

/// Magic-Number collisions after which the link is declared looped back (RFC 1661 §6.4:
/// "the same Magic-Number ... repeatedly"). Two honest peers drawing equal random numbers
/// three times running is a 2^-96 event.
const LOOPBACK_COLLISIONS: u32 = 3;

/// How LCP should behave in this role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LcpConfig {
    /// Our Maximum-Receive-Unit; requested only when it differs from 1500 (RFC 1661 §6.1).
    pub mru: u16,
    /// Where Magic-Numbers come from: RFC 1661 §6.4 wants them random (the system's
    /// generator on a real link); a seed makes a run reproducible.
    pub entropy: Entropy,
    /// The authentication protocol we demand of the peer (server role), if any.
    pub require_auth: Option<AuthProtocol>,
    /// Authentication protocols we can perform when the peer demands one, best first
    /// (client role). Empty: we authenticate to nobody and Reject the option.
    pub accept_auth: Vec<AuthProtocol>,
    /// Naks of the peer's Authentication-Protocol after which we consider that it insists
    /// on a protocol we cannot do (RFC 1661 §4.6 Max-Failure).
    pub max_failure: u32,
    /// How we answer the options of the peer's Configure-Requests. Anything but the default
    /// [`PeerOptionPolicy::Negotiate`] is a deliberate fault, for testing how a peer copes.
    pub peer_options: PeerOptionPolicy,
    /// The multilink and callback options to negotiate beyond RFC 1661 (none by default).
    pub extensions: LcpExtensions,
}

/// How LCP answers the options the peer requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PeerOptionPolicy {
    /// Judge each option on its merits (RFC 1661 §5.1–§5.4, §6).
    #[default]
    Negotiate,
    /// Configure-Nak every option we can put a value in, and never turn the Naks into a
    /// Reject: this breaks RFC 1661 §4.6, whose Max-Failure converts Naks to Rejects after
    /// five. An option we cannot parse is still Rejected (there is no value to suggest for
    /// it), and a request without options is still Acked (there is nothing to Nak).
    NakEverything,
    /// Configure-Reject every option, as RFC 1661 §5.4 allows for options "not acceptable
    /// for negotiation (as configured by a network administrator)": the peer falls back to
    /// the §6 defaults and its empty request is then Acked.
    RejectEverything,
}

impl Default for LcpConfig {
    fn default() -> Self {
        LcpConfig {
            mru: DEFAULT_MRU,
            entropy: Entropy::Os,
            require_auth: None,
            accept_auth: Vec::new(),
            max_failure: 5,
            peer_options: PeerOptionPolicy::Negotiate,
            extensions: LcpExtensions::default(),
        }
    }
}

/// Where Magic-Numbers come from (RFC 1661 §6.4: random, and never zero).
#[derive(Debug, Clone)]
enum MagicGenerator {
    /// Deterministic (xorshift32) from a seed, for replayable runs.
    Seeded(u32),
    /// The operating system's generator, for real links.
    Os(Random),
}

impl MagicGenerator {
    fn new(entropy: Entropy) -> Self {
        match entropy {
            Entropy::Seed(seed) => {
                // Spread small seeds (0, 1, 2...) over the whole range; never start at zero.
                let mixed = seed.wrapping_mul(0x9E37_79B9) ^ 0xA5A5_5A5A;
                MagicGenerator::Seeded(if mixed == 0 { 0x1234_5678 } else { mixed })
            }
            Entropy::Os => MagicGenerator::Os(Random::from_entropy(Entropy::Os, MAGIC_SALT)),
        }
    }

    fn next(&mut self) -> u32 {
        match self {
            MagicGenerator::Seeded(state) => {
                let mut x = *state;
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                *state = x;
                x
            }
            MagicGenerator::Os(random) => loop {
                let magic = random.next_u32();
                if magic != 0 {
                    break magic;
                }
            },
        }
    }
}

/// Seeds the fallback stream of [`MagicGenerator::Os`] (see [`Random::Os`]).
const MAGIC_SALT: u64 = 0x4D41_4749_4321;

/// What was agreed, in both directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkParameters {
    /// The largest Information field the peer accepts (its MRU).
    pub peer_mru: u16,
    /// Control characters to escape toward the peer (its ACCM).
    pub transmit_accm: u32,
    /// Control characters the peer escapes toward us (our acknowledged ACCM).
    pub receive_accm: u32,
    /// We may compress the protocol field toward the peer.
    pub transmit_pfc: bool,
    /// We may omit address and control toward the peer.
    pub transmit_acfc: bool,
    /// The protocol the peer demands we authenticate with.
    pub peer_requires: Option<AuthProtocol>,
    /// The protocol the peer agreed to authenticate with toward us.
    pub we_require: Option<AuthProtocol>,
    /// Our Magic-Number, zero if not negotiated.
    pub magic_number: u32,
}

impl Default for LinkParameters {
    /// RFC 1661 §6 and RFC 1662 §7.1 defaults: MRU 1500, every control character escaped,
    /// no compression, no authentication.
    fn default() -> Self {
        LinkParameters {
            peer_mru: DEFAULT_MRU,
            transmit_accm: 0xFFFF_FFFF,
            receive_accm: 0xFFFF_FFFF,
            transmit_pfc: false,
            transmit_acfc: false,
            peer_requires: None,
            we_require: None,
            magic_number: 0,
        }
    }
}

impl LinkParameters {
    /// The framer for non-LCP frames toward the peer under these parameters (LCP frames
    /// keep the defaults whatever this says, see [`Encoder::encode`]).
    pub fn encoder(&self) -> Encoder {
        Encoder {
            accm: TransmitAccm::from_async_map(self.transmit_accm),
            fcs: FcsKind::Fcs16,
            acfc: self.transmit_acfc,
            pfc: self.transmit_pfc,
        }
    }

    /// The receive map for our deframer under these parameters.
    pub fn decoder_accm(&self) -> ReceiveAccm {
        ReceiveAccm(self.receive_accm)
    }
}

/// Our LCP requests and judgements.
#[derive(Debug, Clone)]
pub struct LcpNegotiator {
    config: LcpConfig,
    magic: MagicGenerator,
    // What we will request next.
    request_mru: bool,
    request_accm: Option<u32>,
    request_magic: Option<u32>,
    request_pfc: bool,
    request_acfc: bool,
    request_auth: Option<AuthProtocol>,
    agreed: LinkParameters,
    magic_collisions: u32,
    auth_naks: u32,
    refused_auth: Option<AuthProtocol>,
    auth_rejected_by_peer: bool,
    extensions: Extensions,
}

impl LcpNegotiator {
    /// A negotiator for `config`.
    pub fn new(config: LcpConfig) -> Self {
        let magic = MagicGenerator::new(config.entropy);
        let extensions = Extensions::new(config.extensions.clone());
        let mut negotiator = LcpNegotiator {
            config,
            magic,
            request_mru: false,
            request_accm: None,
            request_magic: None,
            request_pfc: false,
            request_acfc: false,
            request_auth: None,
            agreed: LinkParameters::default(),
            magic_collisions: 0,
            auth_naks: 0,
            refused_auth: None,
            auth_rejected_by_peer: false,
            extensions,
        };
        negotiator.reset();
        negotiator
    }

    /// Also negotiate the multilink and callback options `extensions` asks for.
    pub fn with_extensions(mut self, extensions: LcpExtensions) -> Self {
        self.extensions = Extensions::new(extensions);
        self
    }

    /// Multilink as agreed, if both sides' MRRU were Acked (RFC 1990 §5.1.1).
    pub fn multilink(&self) -> Option<MultilinkAgreement> {
        self.extensions.multilink()
    }

    /// The Link Discriminators of this link (RFC 2125 §2.1) as Acked: ours, then the
    /// peer's. BAP names a link to drop by the discriminator its sender gave it.
    pub fn link_discriminators(&self) -> (Option<u16>, Option<u16>) {
        self.extensions.link_discriminators()
    }

    /// The callback the peer asked us to perform and we Acked (answerer side).
    pub fn peer_callback(&self) -> Option<CallbackOperation> {
        self.extensions.peer_callback()
    }

    /// The callback we asked for and the peer Acked (dialer side).
    pub fn own_callback(&self) -> Option<CallbackOperation> {
        self.extensions.own_callback()
    }

    /// What has been agreed so far (complete once LCP is Opened).
    pub fn parameters(&self) -> LinkParameters {
        self.agreed
    }

    /// RFC 1661 §6.4: our own Magic-Number keeps coming back; the line is looped.
    pub fn looped_back(&self) -> bool {
        self.magic_collisions >= LOOPBACK_COLLISIONS
    }

    /// The peer demanded an authentication protocol we cannot perform, and kept demanding
    /// it through Max-Failure Naks.
    pub fn auth_insisted(&self) -> bool {
        self.refused_auth.is_some() && self.auth_naks >= self.config.max_failure
    }

    /// The authentication protocol the peer asked for that we Nak'd, if any.
    pub fn refused_auth(&self) -> Option<AuthProtocol> {
        self.refused_auth
    }

    /// The peer Configure-Rejected the authentication we demand (server role).
    pub fn auth_rejected_by_peer(&self) -> bool {
        self.auth_rejected_by_peer
    }

    /// [`PeerOptionPolicy::NakEverything`]: a plausible-looking suggestion for every option,
    /// never the peer's own value where a different one exists.
    fn nak_anyway(&mut self, option: &LcpOption) -> Verdict<LcpOption> {
        let suggestion = match option {
            LcpOption::Mru(mru) if *mru == DEFAULT_MRU => LcpOption::Mru(MIN_PEER_MRU),
            LcpOption::Mru(_) => LcpOption::Mru(DEFAULT_MRU),
            // Escape every control character (RFC 1662 §7.1's default map).
            LcpOption::Accm(_) => LcpOption::Accm(0xFFFF_FFFF),
            // RFC 1661 §6.4: a Nak'd Magic-Number makes the peer draw a new one.
            LcpOption::MagicNumber(magic) => LcpOption::MagicNumber(self.fresh_magic(*magic)),
            // No value to change: the Nak just repeats the option.
            LcpOption::Pfc
            | LcpOption::Acfc
            | LcpOption::AuthProtocol { .. }
            | LcpOption::Callback { .. }
            | LcpOption::Mrru(_)
            | LcpOption::ShortSequence
            | LcpOption::EndpointDiscriminator(_)
            | LcpOption::LinkDiscriminator(_) => option.clone(),
            LcpOption::Unknown { .. } => return Verdict::Reject,
        };
        Verdict::Nak(suggestion)
    }

    fn fresh_magic(&mut self, avoid: u32) -> u32 {
        loop {
            let magic = self.magic.next();
            if magic != avoid {
                return magic;
            }
        }
    }
}

impl Negotiator for LcpNegotiator {
    type Opt = LcpOption;
    const PROTOCOL: Protocol = Protocol::LCP;
    const CODES: CodeSet = CodeSet::Lcp;

    fn reset(&mut self) {
        self.request_mru = self.config.mru != DEFAULT_MRU;
        // We need no control character escaped (RFC 1662 §7.1); ask for the empty map.
        self.request_accm = Some(0);
        let magic = self.fresh_magic(0);
        self.request_magic = Some(magic);
        self.request_pfc = true;
        self.request_acfc = true;
        self.request_auth = self.config.require_auth;
        self.auth_rejected_by_peer = false;
        self.agreed = LinkParameters::default();
        self.extensions.reset();
    }

    fn own_options(&mut self) -> Vec<LcpOption> {
        let mut options = Vec::new();
        if self.request_mru {
            options.push(LcpOption::Mru(self.config.mru));
        }
        if let Some(map) = self.request_accm {
            options.push(LcpOption::Accm(map));
        }
        if let Some(auth) = self.request_auth {
            options.push(auth.to_option());
        }
        if let Some(magic) = self.request_magic {
            options.push(LcpOption::MagicNumber(magic));
        }
        if self.request_pfc {
            options.push(LcpOption::Pfc);
        }
        if self.request_acfc {
            options.push(LcpOption::Acfc);
        }
        self.extensions.own_options(&mut options);
        options
    }

    fn judge(&mut self, option: &LcpOption) -> Verdict<LcpOption> {
        match self.config.peer_options {
            PeerOptionPolicy::Negotiate => {}
            PeerOptionPolicy::NakEverything => return self.nak_anyway(option),
            PeerOptionPolicy::RejectEverything => return Verdict::Reject,
        }
        match option {
            LcpOption::Mru(mru) if *mru < MIN_PEER_MRU => Verdict::Nak(LcpOption::Mru(DEFAULT_MRU)),
            LcpOption::Mru(_) | LcpOption::Accm(_) | LcpOption::Pfc | LcpOption::Acfc => {
                Verdict::Ack
            }
            LcpOption::AuthProtocol { protocol, data } => {
                let wanted = AuthProtocol::from_option(*protocol, data);
                if self.config.accept_auth.contains(&wanted) {
                    return Verdict::Ack;
                }
                // RFC 1661 §6.2: Nak with the protocol we would rather use; with none to
                // offer, Reject.
                match self.config.accept_auth.first() {
                    Some(ours) => {
                        self.refused_auth = Some(wanted);
                        self.auth_naks += 1;
                        debug!(%wanted, offer = %ours, "LCP: peer demands an authentication protocol we cannot do");
                        Verdict::Nak(ours.to_option())
                    }
                    None => Verdict::Reject,
                }
            }
            LcpOption::MagicNumber(0) => {
                // RFC 1661 §6.4: zero is illegal and MUST be Nak'd.
                let own = self.request_magic.unwrap_or(0);
                Verdict::Nak(LcpOption::MagicNumber(self.fresh_magic(own)))
            }
            LcpOption::MagicNumber(magic) if Some(*magic) == self.request_magic => {
                // RFC 1661 §6.4: equal Magic-Numbers: maybe a looped line. Choose a new one
                // for ourselves and Nak the peer with yet another.
                self.magic_collisions += 1;
                warn!(
                    magic,
                    collisions = self.magic_collisions,
                    "LCP: peer's Magic-Number equals ours"
                );
                let own = self.fresh_magic(*magic);
                self.request_magic = Some(own);
                Verdict::Nak(LcpOption::MagicNumber(self.fresh_magic(own)))
            }
            LcpOption::MagicNumber(_) => Verdict::Ack,
            LcpOption::Callback { .. }
            | LcpOption::Mrru(_)
            | LcpOption::ShortSequence
            | LcpOption::EndpointDiscriminator(_)
            | LcpOption::LinkDiscriminator(_) => self.extensions.judge(option),
            // Quality-Protocol (RFC 1661 §6.3) among them: we send no LQRs.
            LcpOption::Unknown { .. } => Verdict::Reject,
        }
    }

    fn peer_acked(&mut self, options: &[LcpOption]) {
        // Options absent from the peer's request keep their defaults (RFC 1661 §6).
        self.agreed.peer_mru = DEFAULT_MRU;
        self.agreed.transmit_accm = 0xFFFF_FFFF;
        self.agreed.transmit_pfc = false;
        self.agreed.transmit_acfc = false;
        self.agreed.peer_requires = None;
        for option in options {
            match option {
                LcpOption::Mru(mru) => self.agreed.peer_mru = *mru,
                LcpOption::Accm(map) => self.agreed.transmit_accm = *map,
                LcpOption::Pfc => self.agreed.transmit_pfc = true,
                LcpOption::Acfc => self.agreed.transmit_acfc = true,
                LcpOption::AuthProtocol { protocol, data } => {
                    self.agreed.peer_requires = Some(AuthProtocol::from_option(*protocol, data));
                }
                _ => {}
            }
        }
        self.extensions.peer_acked(options);
        // The peer settled on something we can do: it no longer insists.
        self.refused_auth = None;
        self.auth_naks = 0;
    }

    fn own_acked(&mut self, options: &[LcpOption]) {
        self.agreed.receive_accm = 0xFFFF_FFFF;
        self.agreed.we_require = None;
        self.agreed.magic_number = 0;
        for option in options {
            match option {
                LcpOption::Accm(map) => self.agreed.receive_accm = *map,
                LcpOption::AuthProtocol { protocol, data } => {
                    self.agreed.we_require = Some(AuthProtocol::from_option(*protocol, data));
                }
                LcpOption::MagicNumber(magic) => self.agreed.magic_number = *magic,
                _ => {}
            }
        }
        self.extensions.own_acked(options);
    }

    fn own_nakked(&mut self, option: &LcpOption) {
        match option {
            LcpOption::Mru(mru) => {
                // The peer cannot send us that much; RFC 1661 §6.1 lets us accept its value.
                self.request_mru = *mru != DEFAULT_MRU;
                self.config.mru = *mru;
            }
            // RFC 1662 §7.1: escape what the peer suggests on top of what we asked.
            LcpOption::Accm(map) => self.request_accm = Some(self.request_accm.unwrap_or(0) | map),
            LcpOption::MagicNumber(suggested) => {
                // RFC 1661 §6.4: a Nak'd Magic-Number means choose a new one; the suggestion
                // may be our own number coming back, so draw afresh.
                let magic = self.fresh_magic(*suggested);
                self.request_magic = Some(magic);
            }
            LcpOption::AuthProtocol { protocol, data } => {
                // We demand this protocol (server role): keep demanding it; the peer's
                // Max-Failure will turn its Naks into a Reject, which ends the matter.
                debug!(suggested = %AuthProtocol::from_option(*protocol, data), "LCP: peer suggests another authentication protocol");
            }
            // PFC and ACFC carry no value: a Nak can only mean no.
            LcpOption::Pfc => self.request_pfc = false,
            LcpOption::Acfc => self.request_acfc = false,
            LcpOption::Callback { .. }
            | LcpOption::Mrru(_)
            | LcpOption::ShortSequence
            | LcpOption::EndpointDiscriminator(_)
            | LcpOption::LinkDiscriminator(_) => self.extensions.own_nakked(option),
            LcpOption::Unknown { .. } => {}
        }
    }

    fn own_rejected(&mut self, option: &LcpOption) {
        match option {
            LcpOption::Mru(_) => self.request_mru = false,
            LcpOption::Accm(_) => self.request_accm = None,
            LcpOption::AuthProtocol { .. } => {
                self.request_auth = None;
                self.auth_rejected_by_peer = true;
            }
            LcpOption::MagicNumber(_) => self.request_magic = None,
            LcpOption::Pfc => self.request_pfc = false,
            LcpOption::Acfc => self.request_acfc = false,
            LcpOption::Callback { .. }
            | LcpOption::Mrru(_)
            | LcpOption::ShortSequence
            | LcpOption::EndpointDiscriminator(_)
            | LcpOption::LinkDiscriminator(_) => self.extensions.own_rejected(option),
            LcpOption::Unknown { .. } => {}
        }
    }

    fn magic_number(&self) -> u32 {
        self.agreed.magic_number
    }

    fn magic_received(&mut self, magic_number: u32) {
        // RFC 1661 §6.4/§5.8: an Echo or Discard carrying our own number came back to us.
        if magic_number != 0 && magic_number == self.agreed.magic_number {
            self.magic_collisions += 1;
            warn!(
                magic_number,
                "LCP: received our own Magic-Number in an Echo"
            );
        }
    }
}

/// A fresh LCP automaton.
pub fn new_lcp(config: LcpConfig, mut fsm: crate::fsm::FsmConfig) -> Lcp {
    if config.peer_options == PeerOptionPolicy::NakEverything {
        // The fault is to ignore RFC 1661 §4.6 Max-Failure: the automaton would otherwise
        // turn the sixth Nak into a Configure-Reject.
        fsm.max_failure = u32::MAX;
    }
    Fsm::new(LcpNegotiator::new(config), fsm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsm::{FsmConfig, State};
    use crate::wire::ControlRepr;
    use sansio::Instant;

    fn packets(lcp: &mut Lcp) -> Vec<ControlRepr<LcpOption>> {
        std::iter::from_fn(|| lcp.poll_packet())
            .map(|b| ControlRepr::parse_bytes(&b, CodeSet::Lcp).unwrap())
            .collect()
    }

    /// Open both ends and let them talk until both are Opened.
    fn converse(client: &mut Lcp, server: &mut Lcp) {
        for lcp in [&mut *client, &mut *server] {
            lcp.open(Instant::ZERO);
            lcp.up(Instant::ZERO);
        }
        for _ in 0..4 {
            for p in packets(client) {
                server.receive(Instant::ZERO, &p.to_bytes());
            }
            for p in packets(server) {
                client.receive(Instant::ZERO, &p.to_bytes());
            }
        }
        assert_eq!(
            (client.state(), server.state()),
            (State::Opened, State::Opened)
        );
    }

    fn with_extensions(seed: u32, extensions: LcpExtensions) -> Lcp {
        let config = LcpConfig {
            entropy: Entropy::Seed(seed),
            ..LcpConfig::default()
        };
        Fsm::new(
            LcpNegotiator::new(config).with_extensions(extensions),
            FsmConfig::default(),
        )
    }

    #[test]
    fn quality_protocol_is_rejected() {
        // RFC 1661 §6.3: Quality-Protocol (LQR, RFC 1989 §2.5, reporting period 1 s).
        let quality = LcpOption::Unknown {
            kind: crate::wire::lcp::kind::QUALITY_PROTOCOL,
            data: vec![0xc0, 0x25, 0, 0, 0, 100],
        };
        let mut lcp = new_lcp(LcpConfig::default(), FsmConfig::default());
        lcp.open(Instant::ZERO);
        lcp.up(Instant::ZERO);
        packets(&mut lcp);
        let request = ControlRepr::ConfigureRequest {
            identifier: 9,
            options: vec![LcpOption::Mru(1500), quality.clone()],
        };
        lcp.receive(Instant::ZERO, &request.to_bytes());
        assert_eq!(
            packets(&mut lcp),
            [ControlRepr::ConfigureReject {
                identifier: 9,
                options: vec![quality]
            }]
        );
    }

    #[test]
    fn by_default_multilink_and_callback_are_rejected_and_not_requested() {
        let mut negotiator = LcpNegotiator::new(LcpConfig::default());
        for option in [
            LcpOption::Mrru(1500),
            LcpOption::ShortSequence,
            LcpOption::EndpointDiscriminator(
                crate::wire::lcp::EndpointDiscriminator::parse(&[1, 7]).unwrap(),
            ),
            LcpOption::Callback {
                operation: CallbackOperation::Cbcp,
                message: vec![],
            },
        ] {
            assert_eq!(negotiator.judge(&option), Verdict::Reject, "{option}");
        }
        assert!(negotiator.own_options().iter().all(|o| matches!(
            o,
            LcpOption::Accm(_) | LcpOption::MagicNumber(_) | LcpOption::Pfc | LcpOption::Acfc
        )));
    }

    #[test]
    fn multilink_is_agreed_in_both_directions() {
        let discriminator =
            crate::wire::lcp::EndpointDiscriminator::parse(&[1, 0xca, 0xfe]).unwrap();
        let mut client = with_extensions(
            1,
            LcpExtensions {
                multilink: Some(MultilinkConfig {
                    mrru: 1614,
                    short_sequence: true,
                    discriminator: Some(discriminator.clone()),
                }),
                ..LcpExtensions::default()
            },
        );
        let mut server = with_extensions(
            2,
            LcpExtensions {
                multilink: Some(MultilinkConfig::default()),
                ..LcpExtensions::default()
            },
        );
        converse(&mut client, &mut server);
        assert_eq!(
            client.negotiator().multilink(),
            Some(MultilinkAgreement {
                transmit_mrru: 1500,
                transmit_short_sequence: false,
                receive_mrru: 1614,
                receive_short_sequence: true,
                peer_discriminator: None,
            })
        );
        assert_eq!(
            server.negotiator().multilink(),
            Some(MultilinkAgreement {
                transmit_mrru: 1614,
                transmit_short_sequence: true,
                receive_mrru: 1500,
                receive_short_sequence: false,
                peer_discriminator: Some(discriminator),
            })
        );
    }

    /// RFC 2125 §2.1: each side names the link for BAP; without multilink the option is
    /// Rejected like the other multilink options.
    #[test]
    fn link_discriminators_are_exchanged_for_bap() {
        let multilink = |number| LcpExtensions {
            multilink: Some(MultilinkConfig::default()),
            link_discriminator: Some(number),
            ..LcpExtensions::default()
        };
        let (mut client, mut server) = (
            with_extensions(1, multilink(0x0001)),
            with_extensions(2, multilink(0x0100)),
        );
        assert!(
            client
                .negotiator_mut()
                .own_options()
                .contains(&LcpOption::LinkDiscriminator(1))
        );
        converse(&mut client, &mut server);
        assert_eq!(
            client.negotiator().link_discriminators(),
            (Some(0x0001), Some(0x0100))
        );
        assert_eq!(
            server.negotiator().link_discriminators(),
            (Some(0x0100), Some(0x0001))
        );

        let mut plain = with_extensions(3, LcpExtensions::default());
        let mut asking = with_extensions(4, multilink(7));
        converse(&mut asking, &mut plain);
        assert_eq!(asking.negotiator().link_discriminators(), (None, None));
        assert!(
            !asking
                .negotiator_mut()
                .own_options()
                .contains(&LcpOption::LinkDiscriminator(7)),
            "a Rejected option is not asked for again"
        );
    }

    #[test]
    fn multilink_needs_both_sides_and_tiny_mrru_is_nakked() {
        let mut client = with_extensions(
            1,
            LcpExtensions {
                multilink: Some(MultilinkConfig::default()),
                ..LcpExtensions::default()
            },
        );
        let mut server = new_lcp(
            LcpConfig {
                entropy: Entropy::Seed(2),
                ..LcpConfig::default()
            },
            FsmConfig::default(),
        );
        converse(&mut client, &mut server);
        assert_eq!(client.negotiator().multilink(), None);
        assert_eq!(server.negotiator().multilink(), None);
        // The server Rejected our MRRU: we stopped asking for it.
        assert!(
            !client
                .negotiator_mut()
                .own_options()
                .contains(&LcpOption::Mrru(1500))
        );
        let negotiator = LcpNegotiator::new(LcpConfig::default()).with_extensions(LcpExtensions {
            multilink: Some(MultilinkConfig::default()),
            ..LcpExtensions::default()
        });
        assert_eq!(
            negotiator.extensions.judge(&LcpOption::Mrru(64)),
            Verdict::Nak(LcpOption::Mrru(1500))
        );
    }

    #[test]
    fn callback_by_cbcp_is_agreed_or_refused() {
        let dialer = || {
            with_extensions(
                1,
                LcpExtensions {
                    request_callback: Some(CallbackOperation::Cbcp),
                    ..LcpExtensions::default()
                },
            )
        };
        let mut client = dialer();
        let mut server = with_extensions(
            2,
            LcpExtensions {
                accept_callback: vec![CallbackOperation::Cbcp],
                ..LcpExtensions::default()
            },
        );
        converse(&mut client, &mut server);
        assert_eq!(
            client.negotiator().own_callback(),
            Some(CallbackOperation::Cbcp)
        );
        assert_eq!(
            server.negotiator().peer_callback(),
            Some(CallbackOperation::Cbcp)
        );

        // A server that does not call back Rejects the option; the link still opens.
        let mut client = dialer();
        let mut server = new_lcp(
            LcpConfig {
                entropy: Entropy::Seed(2),
                ..LcpConfig::default()
            },
            FsmConfig::default(),
        );
        converse(&mut client, &mut server);
        assert_eq!(client.negotiator().own_callback(), None);
        assert_eq!(server.negotiator().peer_callback(), None);

        // One that calls back another way Naks with its operation.
        let negotiator = LcpNegotiator::new(LcpConfig::default()).with_extensions(LcpExtensions {
            accept_callback: vec![CallbackOperation::ByAuthentication],
            ..LcpExtensions::default()
        });
        assert_eq!(
            negotiator.extensions.judge(&LcpOption::Callback {
                operation: CallbackOperation::Cbcp,
                message: vec![]
            }),
            Verdict::Nak(LcpOption::Callback {
                operation: CallbackOperation::ByAuthentication,
                message: vec![]
            })
        );
    }

    #[test]
    fn magic_numbers_are_deterministic_and_nonzero() {
        let a: Vec<u32> = {
            let mut g = MagicGenerator::new(Entropy::Seed(7));
            (0..100).map(|_| g.next()).collect()
        };
        let b: Vec<u32> = {
            let mut g = MagicGenerator::new(Entropy::Seed(7));
            (0..100).map(|_| g.next()).collect()
        };
        assert_eq!(a, b);
        assert!(a.iter().all(|m| *m != 0));
        assert_ne!(
            MagicGenerator::new(Entropy::Seed(0)).next(),
            MagicGenerator::new(Entropy::Seed(1)).next()
        );
    }

    /// Issue 16 #16: without a seed, two links draw their Magic-Numbers from the system,
    /// so two processes no longer send the same one (RFC 1661 §6.4).
    #[test]
    fn unseeded_magic_numbers_come_from_the_system() {
        let draw = || {
            let mut g = MagicGenerator::new(Entropy::Os);
            [g.next(), g.next()]
        };
        let (a, b) = (draw(), draw());
        // 64 random bits each: equal with probability 2^-64.
        assert_ne!(a, b);
        assert!(a.iter().chain(&b).all(|m| *m != 0));
        assert_eq!(LcpConfig::default().entropy, Entropy::Os);
    }

    #[test]
    fn a_looped_line_is_detected() {
        // Everything we send comes straight back.
        let mut lcp = new_lcp(LcpConfig::default(), FsmConfig::default());
        lcp.open(Instant::ZERO);
        lcp.up(Instant::ZERO);
        for _ in 0..10 {
            for packet in packets(&mut lcp) {
                lcp.receive(Instant::ZERO, &packet.to_bytes());
            }
            if lcp.negotiator().looped_back() {
                break;
            }
        }
        assert!(lcp.negotiator().looped_back());
        assert_ne!(lcp.state(), State::Opened);
    }

    #[test]
    fn client_naks_chap_with_pap_and_notices_insistence() {
        let config = LcpConfig {
            accept_auth: vec![AuthProtocol::Pap],
            ..LcpConfig::default()
        };
        let mut negotiator = LcpNegotiator::new(config);
        for _ in 0..5 {
            assert_eq!(
                negotiator.judge(&AuthProtocol::ChapMd5.to_option()),
                Verdict::Nak(AuthProtocol::Pap.to_option())
            );
        }
        assert!(negotiator.auth_insisted());
        assert_eq!(
            negotiator.judge(&AuthProtocol::Pap.to_option()),
            Verdict::Ack
        );
    }

    /// An LCP in `policy`, opened, with its own Configure-Request drained.
    fn misbehaving(policy: PeerOptionPolicy) -> Lcp {
        let mut lcp = new_lcp(
            LcpConfig {
                peer_options: policy,
                ..LcpConfig::default()
            },
            FsmConfig::default(),
        );
        lcp.open(Instant::ZERO);
        lcp.up(Instant::ZERO);
        packets(&mut lcp);
        lcp
    }

    fn request(identifier: u8, options: Vec<LcpOption>) -> Vec<u8> {
        ControlRepr::ConfigureRequest {
            identifier,
            options,
        }
        .to_bytes()
    }

    #[test]
    fn nak_everything_outlasts_max_failure() {
        let mut lcp = misbehaving(PeerOptionPolicy::NakEverything);
        let asked = vec![
            LcpOption::Mru(1500),
            LcpOption::Accm(0),
            LcpOption::MagicNumber(0x1234_5678),
            LcpOption::Pfc,
            LcpOption::Acfc,
        ];
        // Four times the RFC 1661 §4.6 Max-Failure default: still Naks, never a Reject.
        for identifier in 1..=20 {
            lcp.receive(Instant::ZERO, &request(identifier, asked.clone()));
            let answers = packets(&mut lcp);
            let [ControlRepr::ConfigureNak { options, .. }] = answers.as_slice() else {
                panic!("request {identifier}: {answers:?}");
            };
            assert_eq!(options.len(), asked.len());
            assert_eq!(options[0], LcpOption::Mru(MIN_PEER_MRU));
            assert_eq!(options[1], LcpOption::Accm(0xFFFF_FFFF));
            assert!(matches!(options[2], LcpOption::MagicNumber(m) if m != 0x1234_5678 && m != 0));
            assert_eq!(options[3..], asked[3..]);
        }
        // Nothing to put a value in: Rejected; nothing at all: Acked.
        let unknown = LcpOption::Unknown {
            kind: 99,
            data: vec![1],
        };
        lcp.receive(Instant::ZERO, &request(21, vec![unknown.clone()]));
        assert_eq!(
            packets(&mut lcp),
            [ControlRepr::ConfigureReject {
                identifier: 21,
                options: vec![unknown]
            }]
        );
        lcp.receive(Instant::ZERO, &request(22, Vec::new()));
        assert!(matches!(
            packets(&mut lcp).as_slice(),
            [ControlRepr::ConfigureAck { identifier: 22, .. }]
        ));
    }

    #[test]
    fn reject_everything_rejects_each_option_and_acks_an_empty_request() {
        let mut lcp = misbehaving(PeerOptionPolicy::RejectEverything);
        let asked = vec![
            LcpOption::Accm(0),
            LcpOption::MagicNumber(7),
            LcpOption::Pfc,
        ];
        lcp.receive(Instant::ZERO, &request(1, asked.clone()));
        assert_eq!(
            packets(&mut lcp),
            [ControlRepr::ConfigureReject {
                identifier: 1,
                options: asked
            }]
        );
        lcp.receive(Instant::ZERO, &request(2, Vec::new()));
        assert!(matches!(
            packets(&mut lcp).as_slice(),
            [ControlRepr::ConfigureAck { identifier: 2, .. }]
        ));
    }

    #[test]
    fn echo_request_is_answered_with_our_magic() {
        let mut client = new_lcp(
            LcpConfig {
                entropy: Entropy::Seed(1),
                ..LcpConfig::default()
            },
            FsmConfig::default(),
        );
        let mut server = new_lcp(
            LcpConfig {
                entropy: Entropy::Seed(2),
                ..LcpConfig::default()
            },
            FsmConfig::default(),
        );
        converse(&mut client, &mut server);
        let params = client.negotiator().parameters();
        assert_eq!(
            (
                params.transmit_accm,
                params.transmit_pfc,
                params.transmit_acfc
            ),
            (0, true, true)
        );
        let echo = ControlRepr::<LcpOption>::EchoRequest {
            identifier: 42,
            magic_number: 0x1111,
            data: b"ping".to_vec(),
        };
        client.receive(Instant::ZERO, &echo.to_bytes());
        assert_eq!(
            packets(&mut client),
            [ControlRepr::EchoReply {
                identifier: 42,
                magic_number: params.magic_number,
                data: b"ping".to_vec()
            }]
        );
        assert_ne!(params.magic_number, 0);
    }
}
