//! The server role: LCP demanding the script's authentication, PAP checked against the
//! script's accounts, IPCP assigning the script's addresses.

use std::collections::VecDeque;

use ras_ppp::fsm::{Event, FsmConfig, LayerEvent, State};
use ras_ppp::hdlc::{Decoder, Encoder, Frame, ReceiveAccm};
use ras_ppp::ipcp::{Ipcp, IpcpConfig, new_ipcp};
use ras_ppp::lcp::{Lcp, LcpConfig, new_lcp};
use ras_ppp::pap::PapServer;
use ras_ppp::wire::Protocol;
use ras_ppp::{AuthProtocol, Phase};
use sansio::{Duration, Instant, LinePeer, Machine, PeerEvent};
use tracing::{debug, info};

use crate::fault::{Arrival, FaultInjector};
use crate::script::{AuthMode, Script};

/// What the server says in Authenticate-Ack.
const WELCOME: &str = "Welcome";
/// What it says in Authenticate-Nak.
const REFUSED: &str = "Authentication failure";

/// How long the server waits for an Authenticate-Request once LCP is open: as long as a
/// client retransmits it (Max-Configure × restart timer, RFC 1334 §2.2.1 with RFC 1661 §4.6
/// defaults). RFC 1334 leaves the authenticator's patience open.
fn auth_wait() -> Duration {
    let fsm = FsmConfig::default();
    fsm.restart_interval * fsm.max_configure
}

/// Mixed into the caller's seed so a client and a server given the same seed still draw
/// different Magic-Numbers (equal ones look like a looped line, RFC 1661 §6.4).
const SERVER_SEED_SALT: u32 = 0x5345_5256; // "SERV"

/// A scripted PPP server (sans-IO). It stays quiet until the client's first bytes arrive,
/// then sends its own Configure-Request and follows the script; once the link is finished
/// it reports [`PeerEvent::HangUp`] and ignores the line.
#[derive(Debug)]
pub struct Server {
    script: Script,
    phase: Phase,
    decoder: Decoder,
    encoder: Encoder,
    lcp: Lcp,
    pap: PapServer,
    ipcp: Ipcp,
    /// When we give up waiting for an Authenticate-Request.
    auth_deadline: Option<Instant>,
    /// The script's fault steps, applied to the frames each way.
    faults: FaultInjector,
    hung_up: bool,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<PeerEvent>,
}

impl Server {
    /// A server playing `script`, its Magic-Numbers drawn from `magic_seed`.
    pub fn new(script: Script, magic_seed: u32) -> Self {
        let require_auth = match script.auth {
            AuthMode::Pap => Some(AuthProtocol::Pap),
            // The script loader refuses the others; without auth is the safe reading.
            AuthMode::None | AuthMode::ChapMd5 | AuthMode::MsChapV2 => None,
        };
        let mut lcp = new_lcp(
            LcpConfig {
                magic_seed: magic_seed ^ SERVER_SEED_SALT,
                require_auth,
                accept_auth: Vec::new(),
                peer_options: script.faults.peer_option_policy(),
                ..LcpConfig::default()
            },
            FsmConfig::default(),
        );
        // Administrative Open now; the lower layer comes up with the first bytes.
        lcp.open(Instant::ZERO);
        let ipcp = new_ipcp(
            IpcpConfig {
                local: script.address.server,
                request_dns: false,
                assign_peer: Some(script.address.client),
                dns_servers: script.dns.clone(),
            },
            FsmConfig::default(),
        );
        Server {
            faults: FaultInjector::new(script.faults.clone()),
            script,
            phase: Phase::Dead,
            decoder: Decoder::default(),
            encoder: Encoder::default(),
            lcp,
            pap: PapServer::default(),
            ipcp,
            auth_deadline: None,
            hung_up: false,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// As the boxed [`LinePeer`] a modem simulator connects callers to.
    pub fn boxed(self) -> LinePeer {
        Box::new(self)
    }

    /// The current RFC 1661 §3 phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    fn flush(&mut self) {
        while let Some(packet) = self.lcp.poll_packet() {
            self.transmit
                .push_back(self.encoder.encode(Protocol::LCP, &packet));
        }
        while let Some(packet) = self.pap.poll_packet() {
            self.transmit
                .push_back(self.encoder.encode(Protocol::PAP, &packet));
        }
        while let Some(packet) = self.ipcp.poll_packet() {
            if self.phase == Phase::Network {
                self.transmit
                    .push_back(self.encoder.encode(Protocol::IPCP, &packet));
            }
        }
    }

    fn terminate(&mut self, now: Instant, why: &str) {
        if self.phase == Phase::Terminate || self.phase == Phase::Dead {
            return;
        }
        info!(why, "peer-sim: terminating the link");
        self.leave_network(now);
        self.phase = Phase::Terminate;
        self.lcp.close(now);
    }

    fn leave_network(&mut self, now: Instant) {
        if !matches!(self.ipcp.state(), State::Initial | State::Starting) {
            self.ipcp.down(now);
        }
    }

    fn enter_network(&mut self, now: Instant) {
        self.phase = Phase::Network;
        if self.script.faults.refuses_network_protocols() {
            // Fault `reject-all`: no NCP of ours; the client's are Protocol-Rejected.
            return;
        }
        self.ipcp.open(now);
        self.ipcp.up(now);
    }

    fn dispatch(&mut self, now: Instant, frame: Frame) {
        match frame.protocol {
            Protocol::LCP => self.lcp.receive(now, &frame.information),
            Protocol::PAP if matches!(self.phase, Phase::Authenticate | Phase::Network) => {
                // Requests retransmitted after the Ack are answered again (RFC 1334 §2.2.1).
                if let Some(request) = self.pap.receive(&frame.information) {
                    self.authenticate(now, &request.peer_id, &request.password);
                }
            }
            Protocol::IPCP
                if self.phase == Phase::Network
                    && self.script.faults.refuses_network_protocols() =>
            {
                // RFC 1661 §5.7: the client must stop sending IPCP.
                self.lcp.reject_protocol(frame.protocol, &frame.information)
            }
            Protocol::IPCP if self.phase == Phase::Network => {
                self.ipcp.receive(now, &frame.information)
            }
            Protocol::PAP | Protocol::IPCP => {
                debug!(protocol = %frame.protocol, phase = ?self.phase, "peer-sim: packet out of phase discarded")
            }
            Protocol::IPV4 => debug!(
                len = frame.information.len(),
                "peer-sim: IPv4 datagram discarded"
            ),
            protocol => self.lcp.reject_protocol(protocol, &frame.information),
        }
    }

    fn authenticate(&mut self, now: Instant, peer_id: &[u8], password: &[u8]) {
        self.auth_deadline = None;
        let user = String::from_utf8_lossy(peer_id);
        let accepted = self
            .script
            .users
            .get(user.as_ref())
            .is_some_and(|expected| expected.as_bytes() == password);
        if accepted {
            info!(%user, "peer-sim: PAP accepted");
            self.pap.answer(true, WELCOME);
            if self.phase == Phase::Authenticate {
                self.enter_network(now);
            }
        } else {
            info!(%user, "peer-sim: PAP refused");
            self.pap.answer(false, REFUSED);
            // The Nak must reach the line before the Terminate-Request.
            self.flush();
            self.terminate(now, "authentication failed");
        }
    }

    fn pump(&mut self, now: Instant) {
        loop {
            let mut progressed = false;
            while let Some(event) = self.lcp.poll_event() {
                progressed = true;
                self.on_lcp(now, event);
            }
            while let Some(event) = self.ipcp.poll_event() {
                progressed = true;
                match event {
                    LayerEvent::Up => {
                        let n = self.ipcp.negotiator();
                        info!(peer = ?n.peer_address(), local = ?n.local_address(), "peer-sim: IPCP opened");
                    }
                    LayerEvent::Finished { .. } if self.phase == Phase::Network => {
                        self.terminate(now, "IPCP did not open");
                    }
                    _ => {}
                }
            }
            if self.lcp.negotiator().looped_back()
                && !matches!(self.phase, Phase::Terminate | Phase::Dead)
            {
                progressed = true;
                self.terminate(now, "line looped back");
            }
            if !progressed {
                break;
            }
        }
        self.flush();
    }

    fn on_lcp(&mut self, now: Instant, event: LayerEvent) {
        match event {
            LayerEvent::Up => {
                let parameters = self.lcp.negotiator().parameters();
                self.encoder = parameters.encoder();
                self.decoder.set_accm(parameters.decoder_accm());
                match (self.script.auth, parameters.we_require) {
                    (AuthMode::None, _) => self.enter_network(now),
                    (_, Some(AuthProtocol::Pap)) => {
                        self.phase = Phase::Authenticate;
                        self.auth_deadline = Some(now + auth_wait());
                    }
                    // The client rejected authentication: no account, no link.
                    _ => self.terminate(now, "client refused to authenticate"),
                }
            }
            LayerEvent::Down { cause } => {
                self.auth_deadline = None;
                self.encoder = Encoder::default();
                self.decoder.set_accm(ReceiveAccm::DEFAULT);
                self.leave_network(now);
                if cause == Event::Rtr || self.phase == Phase::Terminate {
                    self.phase = Phase::Terminate;
                } else {
                    self.phase = Phase::Establish;
                }
            }
            LayerEvent::Started => {}
            LayerEvent::Finished { cause } => {
                info!(?cause, "peer-sim: link finished");
                self.hang_up();
            }
            LayerEvent::ProtocolRejected(protocol) => {
                if protocol == Protocol::IPCP {
                    self.terminate(now, "client rejected IPCP");
                }
            }
        }
    }

    /// Put the phone down: report [`PeerEvent::HangUp`] and ignore the line from now on.
    fn hang_up(&mut self) {
        info!("peer-sim: hanging up");
        self.phase = Phase::Dead;
        self.hung_up = true;
        self.events.push_back(PeerEvent::HangUp);
    }
}

impl From<Server> for LinePeer {
    fn from(server: Server) -> LinePeer {
        server.boxed()
    }
}

impl Machine for Server {
    type Event = PeerEvent;

    fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        if self.hung_up {
            return;
        }
        if self.phase == Phase::Dead && !self.faults.is_silent() {
            // The caller is talking: our lower layer is up (RFC 1661 §3.2).
            self.phase = Phase::Establish;
            self.lcp.up(now);
            self.pump(now);
        }
        let mut frames = Vec::new();
        self.decoder.decode(bytes, &mut frames);
        for frame in frames {
            if self.hung_up {
                break;
            }
            match self.faults.frame_received() {
                Arrival::Answer => {
                    self.dispatch(now, frame);
                    self.pump(now);
                }
                Arrival::Ignore => {}
                Arrival::HangUp => {
                    info!("peer-sim: fault drop-at-packet: the line drops");
                    // The carrier is gone: nothing still queued reaches the client.
                    self.transmit.clear();
                    self.hang_up();
                }
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.hung_up {
            return;
        }
        self.lcp.handle_timeout(now);
        self.ipcp.handle_timeout(now);
        if self.auth_deadline.is_some_and(|deadline| deadline <= now) {
            self.auth_deadline = None;
            self.terminate(now, "the client never sent an Authenticate-Request");
        }
        self.pump(now);
    }

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        let mut frame = self.transmit.pop_front()?;
        self.faults.frame_sent(&mut frame);
        Some(frame)
    }

    fn poll_event(&mut self) -> Option<PeerEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.hung_up {
            return None;
        }
        sansio::sim::earliest([
            self.lcp.poll_timeout(),
            self.ipcp.poll_timeout(),
            self.auth_deadline,
        ])
    }
}
