//! The dialer's end of a PPP link: LCP, then the authentication the peer demands (PAP,
//! CHAP-MD5, MS-CHAPv2 or EAP), then IPCP, through the RFC 1661 §3 phases. This is what the dial engine drives over the serial line once the
//! modem has connected.

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use sansio::{Duration, Instant, Machine};
use tracing::{debug, info};

use crate::auth::AuthOutcome;
use crate::cbcp::{CbcpClient, CbcpClientConfig, CbcpOutcome};
use crate::chap::{AuthRetryError, ChapAlgorithm, ChapClient};
use crate::eap::{EapAnswer, EapAnswerError, EapPeer, EapPeerConfig, EapPeerEvent, EapPrompt};
use crate::fsm::{Event, FsmConfig, LayerEvent, State};
use crate::hdlc::{DEFAULT_MRU, Decoder, Encoder, Frame, ReceiveAccm, flag_segments};
use crate::ipcp::{Ipcp, IpcpConfig, new_ipcp};
use crate::keepalive::{Keepalive, KeepaliveConfig, KeepaliveEvent};
use crate::lcp::{Lcp, LcpConfig, LcpExtensions, MultilinkAgreement, MultilinkConfig, new_lcp};
use crate::pap::PapClient;
use crate::random::{Entropy, Random, SeededRandom};
use crate::wire::control::CodeSet;
use crate::wire::lcp::{AuthProtocol, CallbackOperation, LcpOption};
use crate::wire::{ControlRepr, Protocol};

/// What a dial needs to bring a link up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// PAP Peer-ID, CHAP Name: sent as given (a `DOMAIN\\user` stays whole; MS-CHAPv2
    /// leaves the domain out of its hashes, RFC 2759 §8.2).
    pub user: String,
    /// PAP Password, CHAP secret. After a successful [`Client::change_password`], the new
    /// password.
    pub password: String,
    /// Authentication protocols we agree to when the peer demands one, best first (default
    /// MS-CHAPv2, CHAP-MD5, PAP; EAP only when listed, as Windows asks RASEO_RequireEAP). The peer's demand is Acked if listed, otherwise Nak'd with
    /// the first (RFC 1661 §6.2); empty means we authenticate to nobody.
    pub auth_protocols: Vec<AuthProtocol>,
    /// EAP's identity, methods and Notification handling, when EAP is agreed.
    pub eap: EapPeerConfig,
    /// Restart timer (RFC 1661 §4.6, default 3 s); also PAP's retransmission period.
    pub restart_interval: Duration,
    /// Max-Configure (default 10); also the most Authenticate-Requests sent, and how many
    /// restart periods we wait for a CHAP authenticator to act.
    pub max_configure: u32,
    /// Max-Terminate (default 2).
    pub max_terminate: u32,
    /// Max-Failure (default 5).
    pub max_failure: u32,
    /// Source of our Magic-Numbers and of the random octets authentication needs
    /// (MS-CHAPv2 Peer-Challenges, Change-Password padding): the system's generator on a
    /// real link (RFC 1661 §6.4, RFC 2759 §4); with a seed, same seed, same trace.
    pub entropy: Entropy,
    /// Our Maximum-Receive-Unit (default 1500).
    pub mru: u16,
    /// LCP echo keepalive once the network is up (RFC 1661 §5.8): default an
    /// Echo-Request every 30 s, the link declared dead after 4 unanswered; `None` turns it
    /// off.
    pub keepalive: Option<KeepaliveConfig>,
    /// Ask the server to call back: LCP Callback with operation 6 (MS-CBCP §2.2.1), then,
    /// once authenticated, CBCP as this configures it. `None` (the default): no callback.
    pub callback: Option<CbcpClientConfig>,
    /// Take part in multilink (RFC 1990 §5.1): request MRRU, Endpoint Discriminator and,
    /// if asked, Short Sequence Number Header Format on this link. `None` (the default):
    /// multilink options are neither requested nor accepted.
    pub multilink: Option<MultilinkConfig>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        let fsm = FsmConfig::default();
        ClientConfig {
            user: String::new(),
            password: String::new(),
            auth_protocols: vec![
                AuthProtocol::MsChapV2,
                AuthProtocol::ChapMd5,
                AuthProtocol::Pap,
            ],
            eap: EapPeerConfig::default(),
            restart_interval: fsm.restart_interval,
            max_configure: fsm.max_configure,
            max_terminate: fsm.max_terminate,
            max_failure: fsm.max_failure,
            entropy: Entropy::Os,
            mru: DEFAULT_MRU,
            keepalive: Some(KeepaliveConfig::default()),
            callback: None,
            multilink: None,
        }
    }
}

impl ClientConfig {
    fn fsm(&self) -> FsmConfig {
        FsmConfig {
            restart_interval: self.restart_interval,
            max_configure: self.max_configure,
            max_terminate: self.max_terminate,
            max_failure: self.max_failure,
        }
    }
}

/// RFC 1661 §3.2 link phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Link Dead: not started, or finished.
    Dead,
    /// Link Establishment: LCP negotiating.
    Establish,
    /// Authentication.
    Authenticate,
    /// Network-Layer Protocol: IPCP negotiating or open.
    Network,
    /// Link Termination.
    Terminate,
}

/// Why the link went down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkDownReason {
    /// Max-Configure exhausted without agreement, or the authenticator never answered.
    Timeout,
    /// The peer sent Terminate-Request.
    PeerTerminated,
    /// Our own Magic-Number kept coming back (RFC 1661 §6.4).
    Loopback,
    /// IPCP was rejected or never opened.
    NoNetworkProtocol,
    /// The peer refused our credentials.
    AuthFailed,
    /// MS-CHAPv2 Success without the right `S=`: the peer does not know our password, so
    /// it is not the server it claims to be (RFC 2759 §5, mutual authentication).
    ServerNotAuthenticated,
    /// The peer insists on an authentication protocol we do not implement.
    AuthNotSupported,
    /// We closed the link ([`Client::close`]).
    LocalClose,
    /// CBCP failed: the server never acknowledged our choice (it refused the number) or
    /// offered nothing we could accept.
    CallbackFailed,
}

/// What happened on the link, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientEvent {
    /// LCP reached Opened; `auth` is what the peer requires of us. If the peer later
    /// renegotiates LCP (RFC 1661 §4.3, RCR in Opened) the link goes back through the
    /// phases and this is reported again.
    LinkEstablished {
        /// The authentication protocol the peer requires, if any.
        auth: Option<AuthProtocol>,
    },
    /// PAP Authenticate-Ack or CHAP Success (for MS-CHAPv2, with the server's `S=`
    /// verified).
    AuthSucceeded {
        /// The server's message (MS-CHAPv2: the `M=` text).
        message: String,
    },
    /// PAP Authenticate-Nak or CHAP Failure. If `retry_allowed`, or `error` is 648
    /// (ERROR_PASSWD_EXPIRED) with a challenge to answer, the link stays in the
    /// Authenticate phase until [`Client::retry_authentication`],
    /// [`Client::change_password`] or [`Client::close`]; otherwise it terminates and a
    /// [`ClientEvent::LinkDown`] follows.
    AuthFailed {
        /// The server's message (MS-CHAPv2: the `M=` text).
        message: String,
        /// MS-CHAPv2 `E=` (RFC 2759 §6: 646, 647, 648, 649, 691, 709 or another); `None`
        /// for PAP and CHAP-MD5.
        error: Option<u32>,
        /// MS-CHAPv2 `R=1`: new credentials may be tried.
        retry_allowed: bool,
    },
    /// The Network phase starts (IPCP begins): authentication, and callback control if
    /// any, are behind us.
    NetworkPhase,
    /// The server offers to call back (its first CBCP Callback-Request, MS-CBCP §2.2.4.1).
    /// With `number_wanted` the client waits for [`Client::provide_callback_number`].
    CallbackOffered {
        /// The caller may give the number (a user-number offer).
        caller_sets_number: bool,
        /// The number is the application's to give (`ask_for_number`).
        number_wanted: bool,
    },
    /// The server acknowledged a callback (MS-CBCP §2.2.4.3): it will terminate the link,
    /// hang up and call back after `delay`.
    CallbackAgreed {
        /// Where it calls: ours, or `None` for the number the server has on file.
        number: Option<String>,
        /// How long the server waits before dialing.
        delay: Duration,
    },
    /// The EAP method needs the user (RFC 3748: an identity, a Generic Token Card token,
    /// credentials, a Notification to confirm): the link waits in the Authenticate phase,
    /// with no timer of ours, until [`Client::eap_answer`] or [`Client::close`] — the point
    /// where a RAS dial pauses in RASCS_InvokeEapUI.
    EapPrompt(EapPrompt),
    /// An EAP Notification (RFC 3748 §5.2), already acknowledged, to show the user.
    EapNotification {
        /// The authenticator's text.
        message: String,
    },
    /// IPCP reached Opened.
    NetworkUp {
        /// Our address.
        local: Ipv4Addr,
        /// The server's address, if it told us.
        peer: Option<Ipv4Addr>,
        /// DNS servers, primary first.
        dns: Vec<Ipv4Addr>,
    },
    /// The link is down for good; nothing follows.
    LinkDown(LinkDownReason),
}

/// The dialer's PPP link (sans-IO): bytes in from the serial line, bytes out to it.
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    phase: Phase,
    decoder: Decoder,
    encoder: Encoder,
    lcp: Lcp,
    auth: Option<Authentication>,
    /// Callback control, between authentication and the Network phase.
    cbcp: Option<CbcpClient>,
    /// Where authentication randomness comes from.
    random: Random,
    /// A password change sent and not yet answered.
    new_password: Option<String>,
    ipcp: Ipcp,
    /// Echo-Requests while the network is up.
    keepalive: Option<Keepalive>,
    /// Why we are terminating, once decided; the first reason wins.
    down_reason: Option<LinkDownReason>,
    /// The peer asked to terminate while the link was open.
    peer_terminated: bool,
    /// [`ClientEvent::LinkDown`] has been reported.
    finished: bool,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<ClientEvent>,
    /// Network-layer frames received, for [`Client::poll_datagram`].
    datagrams: VecDeque<(Protocol, Vec<u8>)>,
}

impl Client {
    /// A link in the Dead phase.
    pub fn new(config: ClientConfig) -> Self {
        let lcp = new_lcp(
            LcpConfig {
                mru: config.mru,
                entropy: config.entropy,
                require_auth: None,
                accept_auth: config.auth_protocols.clone(),
                max_failure: config.max_failure,
                extensions: LcpExtensions {
                    request_callback: config.callback.as_ref().map(|_| CallbackOperation::Cbcp),
                    multilink: config.multilink.clone(),
                    ..LcpExtensions::default()
                },
                ..LcpConfig::default()
            },
            config.fsm(),
        );
        let ipcp = new_ipcp(
            IpcpConfig {
                request_dns: true,
                ..IpcpConfig::default()
            },
            config.fsm(),
        );
        Client {
            decoder: Decoder::new(config.mru.max(DEFAULT_MRU)),
            encoder: Encoder::default(),
            lcp,
            auth: None,
            cbcp: None,
            random: Random::from_entropy(config.entropy, AUTH_SEED_SALT),
            new_password: None,
            ipcp,
            keepalive: config.keepalive.map(Keepalive::new),
            phase: Phase::Dead,
            down_reason: None,
            peer_terminated: false,
            finished: false,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            datagrams: VecDeque::new(),
            config,
        }
    }

    /// The lower layer is up (the modem connected) and the link is administratively open:
    /// start LCP (RFC 1661 §3.2, Dead → Establish). Only the first call counts.
    pub fn open(&mut self, now: Instant) {
        if self.phase != Phase::Dead || self.finished {
            return;
        }
        self.phase = Phase::Establish;
        self.lcp.open(now);
        self.lcp.up(now);
        self.pump(now);
    }

    /// Administrative Close: Terminate-Request, then `LinkDown(LocalClose)` once the peer
    /// acknowledges or Max-Terminate runs out.
    pub fn close(&mut self, now: Instant) {
        if self.finished {
            return;
        }
        if self.phase == Phase::Dead {
            // Never opened: nothing to terminate.
            self.finish(LinkDownReason::LocalClose);
            return;
        }
        self.terminate(now, LinkDownReason::LocalClose);
        self.pump(now);
    }

    /// The current RFC 1661 §3 phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Send a network-layer frame (an IPv4 datagram, or a Multilink fragment when
    /// multilink was agreed) once IPCP is Opened; `false` (nothing sent) before.
    pub fn send_datagram(&mut self, protocol: Protocol, information: &[u8]) -> bool {
        let ready = self.ipcp.state() == State::Opened
            && (protocol == Protocol::IPV4
                || (protocol == Protocol::MULTILINK && self.multilink().is_some()));
        if ready {
            self.transmit
                .push_back(self.encoder.encode(protocol, information));
        }
        ready
    }

    /// The next network-layer frame received (IPv4, or a Multilink fragment) since the
    /// network came up.
    pub fn poll_datagram(&mut self) -> Option<(Protocol, Vec<u8>)> {
        self.datagrams.pop_front()
    }

    /// Multilink as LCP agreed it on this link (RFC 1990 §5.1.1: both MRRUs Acked), or
    /// `None` when the peer refused it (the link is then an ordinary PPP link).
    pub fn multilink(&self) -> Option<MultilinkAgreement> {
        self.lcp.negotiator().multilink()
    }

    /// Frames the deframer dropped, and why.
    pub fn framing_stats(&self) -> crate::hdlc::DecoderStats {
        self.decoder.stats()
    }

    fn terminate(&mut self, now: Instant, reason: LinkDownReason) {
        if self.down_reason.is_none() {
            info!(?reason, "PPP: terminating the link");
            self.down_reason = Some(reason);
        }
        self.leave_network(now);
        self.auth = None;
        self.cbcp = None;
        self.phase = Phase::Terminate;
        self.lcp.close(now);
    }

    fn finish(&mut self, reason: LinkDownReason) {
        info!(?reason, "PPP: link down");
        self.phase = Phase::Dead;
        self.auth = None;
        self.finished = true;
        self.events.push_back(ClientEvent::LinkDown(reason));
    }

    /// Authentication is done: callback control if LCP agreed on it (MS-CBCP §1.3: CBCP
    /// runs after authentication, before the Network phase), else the Network phase.
    fn after_authentication(&mut self, now: Instant) {
        let agreed = self.lcp.negotiator().own_callback() == Some(CallbackOperation::Cbcp);
        match (&self.config.callback, agreed) {
            (Some(config), true) => {
                info!("PPP: callback control (CBCP)");
                self.cbcp = Some(CbcpClient::new(config.clone()));
            }
            _ => self.enter_network(now),
        }
    }

    /// After [`ClientEvent::CallbackOffered`] with `number_wanted`: the number to be
    /// called back at, or `None` to decline the callback. False when none is wanted.
    pub fn provide_callback_number(&mut self, now: Instant, number: Option<String>) -> bool {
        let provided = self
            .cbcp
            .as_mut()
            .is_some_and(|cbcp| cbcp.provide_number(now, number));
        self.pump(now);
        provided
    }

    fn on_cbcp(&mut self, now: Instant, outcome: CbcpOutcome) {
        match outcome {
            CbcpOutcome::NoCallback => {
                self.cbcp = None;
                self.enter_network(now);
            }
            CbcpOutcome::Callback { number, delay } => {
                info!(?delay, "PPP: the server will call back");
                // The server now terminates the link; CBCP stays to repeat its Response
                // should the Ack be repeated.
                self.events
                    .push_back(ClientEvent::CallbackAgreed { number, delay });
            }
            CbcpOutcome::TimedOut | CbcpOutcome::NoAcceptableOffer => {
                info!(?outcome, "PPP: callback control failed");
                self.terminate(now, LinkDownReason::CallbackFailed);
            }
        }
    }

    fn enter_network(&mut self, now: Instant) {
        self.events.push_back(ClientEvent::NetworkPhase);
        self.phase = Phase::Network;
        self.ipcp.open(now);
        self.ipcp.up(now);
    }

    /// IPCP's lower layer (LCP's network phase) goes away.
    fn leave_network(&mut self, now: Instant) {
        if let Some(keepalive) = &mut self.keepalive {
            keepalive.stop();
        }
        if !matches!(self.ipcp.state(), State::Initial | State::Starting) {
            self.ipcp.down(now);
        }
    }

    fn dispatch(&mut self, now: Instant, frame: Frame) {
        match frame.protocol {
            Protocol::LCP => {
                if let Some(keepalive) = &mut self.keepalive
                    && let Ok(ControlRepr::EchoReply {
                        identifier,
                        magic_number,
                        ..
                    }) = ControlRepr::<LcpOption>::parse_bytes(&frame.information, CodeSet::Lcp)
                {
                    keepalive.on_echo_reply(identifier, magic_number);
                }
                self.lcp.receive(now, &frame.information)
            }
            Protocol::PAP | Protocol::CHAP | Protocol::EAP => match (&mut self.auth, self.phase) {
                (Some(auth), Phase::Authenticate) if auth.protocol() == frame.protocol => {
                    auth.receive(now, &frame.information)
                }
                _ => {
                    debug!(protocol = %frame.protocol, "authentication packet not expected now, discarded")
                }
            },
            Protocol::CBCP => match &mut self.cbcp {
                Some(cbcp) => cbcp.receive(now, &frame.information),
                None => self.lcp.reject_protocol(frame.protocol, &frame.information),
            },
            Protocol::IPCP => {
                // RFC 1661 §3.4: NCP packets before the Network phase are discarded.
                if self.phase == Phase::Network {
                    self.ipcp.receive(now, &frame.information);
                } else {
                    debug!(phase = ?self.phase, "IPCP packet outside the Network phase discarded");
                }
            }
            // Network-layer data, whole (IPv4) or as Multilink fragments (RFC 1990 §3),
            // for whoever carries the datagrams; only once the network is up.
            Protocol::IPV4 | Protocol::MULTILINK if self.ipcp.state() == State::Opened => {
                self.datagrams
                    .push_back((frame.protocol, frame.information.to_vec()));
            }
            Protocol::IPV4 => debug!(
                len = frame.information.len(),
                "IPv4 datagram before the network is up, discarded"
            ),
            protocol => {
                // RFC 1661 §5.7: an unsupported protocol is Protocol-Rejected (LCP only
                // sends it when Opened).
                debug!(%protocol, "unsupported protocol");
                self.lcp.reject_protocol(protocol, &frame.information);
            }
        }
    }

    /// Run the consequences of whatever just happened until nothing changes.
    fn pump(&mut self, now: Instant) {
        loop {
            let mut progressed = false;
            while let Some(event) = self.lcp.poll_event() {
                progressed = true;
                self.on_lcp(now, event);
            }
            while let Some(event) = self.auth.as_mut().and_then(Authentication::poll_event) {
                progressed = true;
                self.events.push_back(match event {
                    EapPeerEvent::Prompt(prompt) => ClientEvent::EapPrompt(prompt),
                    EapPeerEvent::Notification(message) => ClientEvent::EapNotification { message },
                });
            }
            if let Some(outcome) = self.auth.as_mut().and_then(Authentication::take_outcome) {
                progressed = true;
                self.on_auth(now, outcome);
            }
            if let Some(offer) = self.cbcp.as_mut().and_then(CbcpClient::take_offer) {
                progressed = true;
                self.events.push_back(ClientEvent::CallbackOffered {
                    caller_sets_number: offer.caller_sets_number,
                    number_wanted: offer.number_wanted,
                });
            }
            if let Some(outcome) = self.cbcp.as_mut().and_then(CbcpClient::take_outcome) {
                progressed = true;
                self.on_cbcp(now, outcome);
            }
            while let Some(event) = self.ipcp.poll_event() {
                progressed = true;
                self.on_ipcp(now, event);
            }
            while let Some(event) = self.keepalive.as_mut().and_then(Keepalive::poll_event) {
                progressed = true;
                let reason = match event {
                    KeepaliveEvent::Dead { missed } => {
                        info!(missed, "PPP: the peer stopped answering Echo-Requests");
                        LinkDownReason::Timeout
                    }
                    KeepaliveEvent::LoopedBack => LinkDownReason::Loopback,
                };
                self.terminate(now, reason);
            }
            if self.down_reason.is_none() && !self.finished {
                let negotiator = self.lcp.negotiator();
                if negotiator.looped_back() {
                    progressed = true;
                    self.terminate(now, LinkDownReason::Loopback);
                } else if negotiator.auth_insisted() {
                    progressed = true;
                    self.terminate(now, LinkDownReason::AuthNotSupported);
                }
            }
            if !progressed {
                break;
            }
        }
        self.collect_transmit();
    }

    fn collect_transmit(&mut self) {
        while let Some(packet) = self.lcp.poll_packet() {
            self.transmit
                .push_back(self.encoder.encode(Protocol::LCP, &packet));
        }
        if let Some(auth) = &mut self.auth {
            while let Some(packet) = auth.poll_packet() {
                self.transmit
                    .push_back(self.encoder.encode(auth.protocol(), &packet));
            }
        }
        if let Some(cbcp) = &mut self.cbcp {
            while let Some(packet) = cbcp.poll_packet() {
                self.transmit
                    .push_back(self.encoder.encode(Protocol::CBCP, &packet));
            }
        }
        while let Some(packet) = self.ipcp.poll_packet() {
            if self.phase == Phase::Network {
                self.transmit
                    .push_back(self.encoder.encode(Protocol::IPCP, &packet));
            }
        }
    }

    fn on_lcp(&mut self, now: Instant, event: LayerEvent) {
        match event {
            LayerEvent::Up => {
                let parameters = self.lcp.negotiator().parameters();
                self.encoder = parameters.encoder();
                self.decoder.set_accm(parameters.decoder_accm());
                let auth = parameters.peer_requires;
                info!(?auth, "PPP: LCP opened");
                self.events.push_back(ClientEvent::LinkEstablished { auth });
                match auth.map(|protocol| self.authentication(protocol)) {
                    None => self.after_authentication(now),
                    Some(Some(mut authentication)) => {
                        self.phase = Phase::Authenticate;
                        authentication.start(now);
                        self.auth = Some(authentication);
                    }
                    // We only Ack what we implement, so this cannot be agreed; be safe.
                    Some(None) => self.terminate(now, LinkDownReason::AuthNotSupported),
                }
            }
            LayerEvent::Down { cause } => {
                self.encoder = Encoder::default();
                self.decoder.set_accm(ReceiveAccm::DEFAULT);
                self.leave_network(now);
                self.auth = None;
                self.cbcp = None;
                if cause == Event::Rtr {
                    // RFC 1661 §3.7: the peer is terminating the link.
                    self.peer_terminated = true;
                    self.phase = Phase::Terminate;
                } else if self.phase != Phase::Terminate {
                    // A renegotiation: back to Link Establishment.
                    self.phase = Phase::Establish;
                }
            }
            LayerEvent::Started => {}
            LayerEvent::Finished { cause } => {
                if self.finished {
                    return;
                }
                let reason = self
                    .down_reason
                    .unwrap_or_else(|| self.reason_for_finish(cause));
                self.finish(reason);
            }
            LayerEvent::ProtocolRejected(protocol) => match protocol {
                Protocol::IPCP => self.terminate(now, LinkDownReason::NoNetworkProtocol),
                Protocol::PAP | Protocol::CHAP | Protocol::EAP => {
                    self.terminate(now, LinkDownReason::AuthNotSupported)
                }
                other => debug!(%other, "peer rejected a protocol we do not need"),
            },
        }
    }

    /// Why LCP finished when we had not decided to terminate.
    fn reason_for_finish(&self, cause: Event) -> LinkDownReason {
        if self.peer_terminated {
            return LinkDownReason::PeerTerminated;
        }
        if self.lcp.negotiator().refused_auth().is_some() {
            // We Nak'd the peer's authentication protocol and it gave up on us.
            return LinkDownReason::AuthNotSupported;
        }
        match cause {
            Event::TimeoutExpired => LinkDownReason::Timeout,
            _ => LinkDownReason::PeerTerminated,
        }
    }

    /// The machine for the protocol LCP agreed on, if we implement it.
    fn authentication(&mut self, protocol: AuthProtocol) -> Option<Authentication> {
        let config = &self.config;
        if protocol == AuthProtocol::Pap {
            return Some(Authentication::Pap(PapClient::new(
                &config.user,
                &config.password,
                config.restart_interval,
                config.max_configure,
            )));
        }
        if protocol == AuthProtocol::Eap {
            return Some(Authentication::Eap(Box::new(EapPeer::new(
                config.eap.clone(),
                &config.user,
                &config.password,
                config.restart_interval * config.max_configure,
                // A stream of its own, so a renegotiated link draws fresh challenges.
                SeededRandom::new(self.random.next_u64()),
            ))));
        }
        let algorithm = ChapAlgorithm::from_auth_protocol(protocol)?;
        Some(Authentication::Chap(ChapClient::new(
            algorithm,
            &config.user,
            &config.password,
            config.restart_interval,
            config.max_configure,
            // A stream of its own, so a renegotiated link draws fresh challenges.
            self.random.split(),
        )))
    }

    fn on_auth(&mut self, now: Instant, outcome: AuthOutcome) {
        match outcome {
            AuthOutcome::Succeeded(message) => {
                info!(%message, "PPP: authentication succeeded");
                self.auth = None;
                if let Some(password) = self.new_password.take() {
                    self.config.password = password;
                }
                self.events
                    .push_back(ClientEvent::AuthSucceeded { message });
                self.after_authentication(now);
            }
            AuthOutcome::Failed(failure) => {
                info!(message = %failure.message, error = ?failure.error, retry = failure.retry_allowed, "PPP: authentication failed");
                self.new_password = None;
                self.events.push_back(ClientEvent::AuthFailed {
                    message: failure.message,
                    error: failure.error,
                    retry_allowed: failure.retry_allowed,
                });
                let invited = self
                    .auth
                    .as_ref()
                    .is_some_and(Authentication::awaiting_credentials);
                if !invited {
                    self.terminate(now, LinkDownReason::AuthFailed);
                }
            }
            AuthOutcome::ServerNotAuthenticated => {
                self.terminate(now, LinkDownReason::ServerNotAuthenticated)
            }
            AuthOutcome::TimedOut => self.terminate(now, LinkDownReason::Timeout),
        }
    }

    /// After [`ClientEvent::AuthFailed`] with `retry_allowed`: answer the MS-CHAPv2 (or
    /// EAP-MSCHAPv2) Failure's challenge with new credentials (RFC 2759 §6), which become
    /// the config's.
    pub fn retry_authentication(
        &mut self,
        now: Instant,
        user: &str,
        password: &str,
    ) -> Result<(), AuthRetryError> {
        match self.authenticating()? {
            Authentication::Chap(chap) => chap.retry(now, user, password)?,
            Authentication::Eap(eap) => eap.retry(now, user, password)?,
            Authentication::Pap(_) => return Err(AuthRetryError::NotInvited),
        }
        self.config.user = user.to_owned();
        self.config.password = password.to_owned();
        self.pump(now);
        Ok(())
    }

    /// After [`ClientEvent::AuthFailed`] with error 648 (password expired): send an
    /// MS-CHAPv2 (or EAP-MSCHAPv2) Change-Password (RFC 2759 §7) from the config's
    /// password to `new_password`; once the server answers Success, the config holds the
    /// new one.
    pub fn change_password(
        &mut self,
        now: Instant,
        new_password: &str,
    ) -> Result<(), AuthRetryError> {
        match self.authenticating()? {
            Authentication::Chap(chap) => chap.change_password(now, new_password)?,
            Authentication::Eap(eap) => eap.change_password(now, new_password)?,
            Authentication::Pap(_) => return Err(AuthRetryError::NotInvited),
        }
        self.new_password = Some(new_password.to_owned());
        self.pump(now);
        Ok(())
    }

    /// After [`ClientEvent::EapPrompt`]: the user's answer. Credentials given here become
    /// the config's.
    pub fn eap_answer(&mut self, now: Instant, answer: EapAnswer) -> Result<(), EapAnswerError> {
        let Ok(Authentication::Eap(eap)) = self.authenticating() else {
            return Err(EapAnswerError::NotAsked);
        };
        eap.answer(now, answer)?;
        let (user, password) = eap.credentials();
        let (user, password) = (user.to_owned(), password.to_owned());
        self.config.user = user;
        self.config.password = password;
        self.pump(now);
        Ok(())
    }

    /// The protocol running in the Authenticate phase.
    fn authenticating(&mut self) -> Result<&mut Authentication, AuthRetryError> {
        match &mut self.auth {
            Some(auth) if self.phase == Phase::Authenticate => Ok(auth),
            _ => Err(AuthRetryError::NotInvited),
        }
    }

    fn on_ipcp(&mut self, now: Instant, event: LayerEvent) {
        match event {
            LayerEvent::Up => {
                let negotiator = self.ipcp.negotiator();
                match negotiator.local_address().filter(|a| !a.is_unspecified()) {
                    Some(local) => {
                        let peer = negotiator.peer_address();
                        let dns = negotiator.dns_servers();
                        info!(%local, ?peer, ?dns, "PPP: IPCP opened");
                        let magic = self.lcp.negotiator().parameters().magic_number;
                        if let Some(keepalive) = &mut self.keepalive {
                            keepalive.start(now, magic);
                        }
                        self.events
                            .push_back(ClientEvent::NetworkUp { local, peer, dns });
                    }
                    // The server neither gave us an address nor accepted one: no IP.
                    None => self.terminate(now, LinkDownReason::NoNetworkProtocol),
                }
            }
            LayerEvent::Finished { .. } if self.phase == Phase::Network => {
                self.terminate(now, LinkDownReason::NoNetworkProtocol);
            }
            _ => {}
        }
    }
}

impl Machine for Client {
    type Event = ClientEvent;

    fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        if self.finished || self.phase == Phase::Dead {
            return;
        }
        let mut frames = Vec::new();
        for segment in flag_segments(bytes) {
            self.decoder.decode(segment, &mut frames);
            for frame in frames.drain(..) {
                if self.finished {
                    return;
                }
                self.dispatch(now, frame);
                self.pump(now);
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.finished {
            return;
        }
        self.lcp.handle_timeout(now);
        if let Some(auth) = &mut self.auth {
            auth.handle_timeout(now);
        }
        if let Some(cbcp) = &mut self.cbcp {
            cbcp.handle_timeout(now);
        }
        self.ipcp.handle_timeout(now);
        if let Some(request) = self.keepalive.as_mut().and_then(|k| k.handle_timeout(now)) {
            self.transmit
                .push_back(self.encoder.encode(Protocol::LCP, &request));
        }
        self.pump(now);
    }

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.finished {
            return None;
        }
        sansio::sim::earliest([
            self.lcp.poll_timeout(),
            self.auth.as_ref().and_then(Authentication::poll_timeout),
            self.cbcp.as_ref().and_then(CbcpClient::poll_timeout),
            self.ipcp.poll_timeout(),
            self.keepalive.as_ref().and_then(Keepalive::poll_timeout),
        ])
    }
}

/// Mixed into the Magic-Number seed so authentication draws a different stream from it.
const AUTH_SEED_SALT: u64 = 0x4155_5448_0000_0000; // "AUTH"

/// The authentication protocol running in the Authenticate phase.
#[derive(Debug)]
enum Authentication {
    Pap(PapClient),
    Chap(ChapClient),
    /// Boxed: it holds an MS-CHAPv2 client of its own.
    Eap(Box<EapPeer>),
}

impl Authentication {
    fn protocol(&self) -> Protocol {
        match self {
            Authentication::Pap(_) => Protocol::PAP,
            Authentication::Chap(_) => Protocol::CHAP,
            Authentication::Eap(_) => Protocol::EAP,
        }
    }

    fn start(&mut self, now: Instant) {
        match self {
            Authentication::Pap(pap) => pap.start(now),
            Authentication::Chap(chap) => chap.start(now),
            Authentication::Eap(eap) => eap.start(now),
        }
    }

    fn receive(&mut self, now: Instant, information: &[u8]) {
        match self {
            Authentication::Pap(pap) => pap.receive(information),
            Authentication::Chap(chap) => chap.receive(now, information),
            Authentication::Eap(eap) => eap.receive(now, information),
        }
    }

    fn awaiting_credentials(&self) -> bool {
        match self {
            Authentication::Pap(_) => false,
            Authentication::Chap(chap) => chap.awaiting_credentials(),
            Authentication::Eap(eap) => eap.awaiting_credentials(),
        }
    }

    fn poll_event(&mut self) -> Option<EapPeerEvent> {
        match self {
            Authentication::Eap(eap) => eap.poll_event(),
            Authentication::Pap(_) | Authentication::Chap(_) => None,
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        match self {
            Authentication::Pap(pap) => pap.handle_timeout(now),
            Authentication::Chap(chap) => chap.handle_timeout(now),
            Authentication::Eap(eap) => eap.handle_timeout(now),
        }
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Authentication::Pap(pap) => pap.poll_timeout(),
            Authentication::Chap(chap) => chap.poll_timeout(),
            Authentication::Eap(eap) => eap.poll_timeout(),
        }
    }

    fn poll_packet(&mut self) -> Option<Vec<u8>> {
        match self {
            Authentication::Pap(pap) => pap.poll_packet(),
            Authentication::Chap(chap) => chap.poll_packet(),
            Authentication::Eap(eap) => eap.poll_packet(),
        }
    }

    fn take_outcome(&mut self) -> Option<AuthOutcome> {
        match self {
            Authentication::Pap(pap) => pap.take_outcome(),
            Authentication::Chap(chap) => chap.take_outcome(),
            Authentication::Eap(eap) => eap.take_outcome(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hdlc::DecoderStats;

    /// Issue 16 #16: two clients without a seed open with different Magic-Numbers, so
    /// two dialer processes no longer send the same one (RFC 1661 §6.4).
    #[test]
    fn unseeded_clients_send_different_magic_numbers() {
        let first_request = || {
            let mut client = Client::new(ClientConfig::default());
            client.open(Instant::ZERO);
            client.poll_transmit().expect("a Configure-Request")
        };
        assert_ne!(first_request(), first_request());
    }

    /// A hand-driven far end: a bare LCP (in whatever configuration the test wants) that
    /// ignores PAP and either ignores or Protocol-Rejects IPCP.
    struct Peer {
        lcp: Lcp,
        decoder: Decoder,
        encoder: Encoder,
        reject_ipcp: bool,
        pap_requests: usize,
    }

    impl Peer {
        fn new(require_auth: Option<AuthProtocol>) -> Self {
            let config = LcpConfig {
                entropy: Entropy::Seed(1000),
                require_auth,
                ..LcpConfig::default()
            };
            let mut lcp = new_lcp(config, FsmConfig::default());
            lcp.open(Instant::ZERO);
            lcp.up(Instant::ZERO);
            Peer {
                lcp,
                decoder: Decoder::default(),
                encoder: Encoder::default(),
                reject_ipcp: false,
                pap_requests: 0,
            }
        }

        fn receive(&mut self, now: Instant, bytes: &[u8]) {
            let mut frames = Vec::new();
            self.decoder.decode(bytes, &mut frames);
            for frame in frames {
                match frame.protocol {
                    Protocol::LCP => self.lcp.receive(now, &frame.information),
                    Protocol::PAP => self.pap_requests += 1,
                    Protocol::IPCP if self.reject_ipcp => {
                        self.lcp.reject_protocol(Protocol::IPCP, &frame.information)
                    }
                    _ => {}
                }
            }
            while let Some(event) = self.lcp.poll_event() {
                if event == LayerEvent::Up {
                    // Honour the map we asked for, or raw control characters get dropped.
                    self.decoder
                        .set_accm(self.lcp.negotiator().parameters().decoder_accm());
                }
            }
        }

        fn transmit(&mut self) -> Vec<Vec<u8>> {
            std::iter::from_fn(|| self.lcp.poll_packet())
                .map(|p| self.encoder.encode(Protocol::LCP, &p))
                .collect()
        }
    }

    /// Run client and peer back to back (no latency) on a virtual clock; `on_event` may act
    /// on the peer when the client reports something.
    fn run(
        client: &mut Client,
        peer: &mut Peer,
        mut on_event: impl FnMut(Instant, &ClientEvent, &mut Peer),
    ) -> Vec<(Instant, ClientEvent)> {
        let mut now = Instant::ZERO;
        let mut events = Vec::new();
        client.open(now);
        for _ in 0..10_000 {
            // Exchange until both sides are quiet, then jump to the next deadline.
            loop {
                let from_peer = peer.transmit();
                let from_client: Vec<_> = std::iter::from_fn(|| client.poll_transmit()).collect();
                if from_peer.is_empty() && from_client.is_empty() {
                    break;
                }
                for bytes in from_peer {
                    client.handle_input(now, &bytes);
                }
                for bytes in from_client {
                    peer.receive(now, &bytes);
                }
            }
            let before = events.len();
            while let Some(event) = client.poll_event() {
                on_event(now, &event, peer);
                events.push((now, event));
            }
            if client.finished {
                break;
            }
            if events.len() > before {
                // The peer may have reacted: exchange again before time moves.
                continue;
            }
            let Some(next) =
                sansio::sim::earliest([client.poll_timeout(), peer.lcp.poll_timeout()])
            else {
                break;
            };
            now = now.max(next);
            client.handle_timeout(now);
            peer.lcp.handle_timeout(now);
        }
        events
    }

    fn kinds(events: &[(Instant, ClientEvent)]) -> Vec<ClientEvent> {
        events.iter().map(|(_, e)| e.clone()).collect()
    }

    #[test]
    fn a_peer_insisting_on_chap_gets_auth_not_supported() {
        let mut client = Client::new(ClientConfig {
            auth_protocols: vec![AuthProtocol::Pap],
            ..ClientConfig::default()
        });
        let mut peer = Peer::new(Some(AuthProtocol::ChapMd5));
        let events = run(&mut client, &mut peer, |_, _, _| {});
        assert_eq!(
            kinds(&events),
            [ClientEvent::LinkDown(LinkDownReason::AuthNotSupported)]
        );
    }

    #[test]
    fn pap_never_answered_times_out() {
        let mut client = Client::new(ClientConfig::default());
        let mut peer = Peer::new(Some(AuthProtocol::Pap));
        let events = run(&mut client, &mut peer, |_, _, _| {});
        assert_eq!(
            kinds(&events),
            [
                ClientEvent::LinkEstablished {
                    auth: Some(AuthProtocol::Pap)
                },
                ClientEvent::LinkDown(LinkDownReason::Timeout)
            ]
        );
        assert_eq!(peer.pap_requests, 10);
        // Ten requests three seconds apart, then the Terminate-Request exchange.
        let (down_at, _) = events[1];
        assert!(
            down_at >= Instant::ZERO + Duration::from_secs(30),
            "{down_at}"
        );
    }

    #[test]
    fn a_protocol_rejected_ipcp_means_no_network_protocol() {
        let mut client = Client::new(ClientConfig::default());
        let mut peer = Peer::new(None);
        peer.reject_ipcp = true;
        let events = run(&mut client, &mut peer, |_, _, _| {});
        assert_eq!(
            kinds(&events),
            [
                ClientEvent::LinkEstablished { auth: None },
                ClientEvent::NetworkPhase,
                ClientEvent::LinkDown(LinkDownReason::NoNetworkProtocol)
            ]
        );
    }

    #[test]
    fn an_ipcp_that_never_answers_means_no_network_protocol() {
        let mut client = Client::new(ClientConfig::default());
        let mut peer = Peer::new(None);
        let events = run(&mut client, &mut peer, |_, _, _| {});
        assert_eq!(
            events.last().map(|(_, e)| e.clone()),
            Some(ClientEvent::LinkDown(LinkDownReason::NoNetworkProtocol))
        );
    }

    #[test]
    fn peer_terminate_request_means_peer_terminated() {
        let mut client = Client::new(ClientConfig::default());
        let mut peer = Peer::new(None);
        let events = run(&mut client, &mut peer, |now, event, peer| {
            if matches!(event, ClientEvent::LinkEstablished { .. }) {
                peer.lcp.close(now);
            }
        });
        assert_eq!(
            kinds(&events),
            [
                ClientEvent::LinkEstablished { auth: None },
                ClientEvent::NetworkPhase,
                ClientEvent::LinkDown(LinkDownReason::PeerTerminated)
            ]
        );
        assert_eq!(client.phase(), Phase::Dead);
        assert_eq!(
            client.framing_stats(),
            DecoderStats {
                frames: client.framing_stats().frames,
                ..DecoderStats::default()
            }
        );
    }

    #[test]
    fn close_before_open_reports_local_close_once() {
        let mut client = Client::new(ClientConfig::default());
        client.close(Instant::ZERO);
        client.close(Instant::ZERO);
        client.open(Instant::ZERO);
        let events: Vec<_> = std::iter::from_fn(|| client.poll_event()).collect();
        assert_eq!(events, [ClientEvent::LinkDown(LinkDownReason::LocalClose)]);
        assert_eq!(client.poll_transmit(), None);
    }
}
