//! Issue 16 #17: hanging up a dial that failed during PPP still ends the link the way
//! RFC 1661 wants: the server's Terminate-Request is acknowledged (§5.5 MUST) and, while
//! LCP is still open, the engine sends its own before the port closes.
//!
//! The engine's connection machine meets the scripted server directly, sans-IO, on a
//! virtual clock: a three-line stand-in answers the AT commands, then the bytes go to
//! `ppp_peer_sim::Server`.

use ppp_peer_sim::{Script, Server};
use ras_engine::api::{DialParams, EngineConfig, HRasConn};
use ras_engine::phonebook::Entry;
use ras_engine::ppp::hdlc::{Decoder, ReceiveAccm};
use ras_engine::ppp::wire::Protocol;
use ras_engine::ras::{Connection, ConnectionEvent, DialPlan, RasError};
use sansio::{Duration, Instant, LinePeer, Machine};

/// LCP codes (RFC 1661 §5).
const TERMINATE_REQUEST: u8 = 5;
const TERMINATE_ACK: u8 = 6;

/// The engine on one side, the server on the other, and what crossed the line.
struct Lab {
    now: Instant,
    engine: Connection,
    server: LinePeer,
    /// Still talking AT (until the dial command is answered CONNECT).
    command_mode: bool,
    at_line: Vec<u8>,
    /// LCP codes the engine sent, in order.
    engine_lcp: Vec<u8>,
    decoder: Decoder,
    failure: Option<RasError>,
    port_closed: bool,
}

impl Lab {
    fn new(script: &str, password: &str) -> Self {
        let script = Script::from_yaml(script).expect("script");
        let params = DialParams {
            entry_name: "ISP".to_owned(),
            user_name: "alice".to_owned(),
            password: password.to_owned(),
            ..DialParams::default()
        };
        let config = EngineConfig {
            seed: Some(1),
            ..EngineConfig::default()
        };
        let entry = Entry::modem("ISP", "/dev/ttyLAB", "5551234");
        let plan = DialPlan::resolve(&entry, &params, None, &config, HRasConn::from_raw(1))
            .expect("a plan");
        let mut decoder = Decoder::default();
        decoder.set_accm(ReceiveAccm(0));
        Lab {
            now: Instant::ZERO,
            engine: Connection::new(plan),
            server: Server::new(script, 7).boxed(),
            command_mode: true,
            at_line: Vec::new(),
            engine_lcp: Vec::new(),
            decoder,
            failure: None,
            port_closed: false,
        }
    }

    /// Move bytes and events until nothing is left to do now.
    fn settle(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(event) = self.engine.poll_event() {
                progressed = true;
                match event {
                    ConnectionEvent::OpenPort => self.engine.port_opened(self.now),
                    ConnectionEvent::Notify(notification) => {
                        assert!(self.failure.is_none(), "notification after the failure");
                        self.failure = notification.error;
                    }
                    ConnectionEvent::ClosePort => self.port_closed = true,
                }
            }
            while let Some(bytes) = self.engine.poll_transmit() {
                progressed = true;
                if self.command_mode {
                    self.modem(&bytes);
                } else {
                    let mut frames = Vec::new();
                    self.decoder.decode(&bytes, &mut frames);
                    for frame in frames {
                        if frame.protocol == Protocol::LCP && !frame.information.is_empty() {
                            self.engine_lcp.push(frame.information[0]);
                        }
                    }
                    self.server.handle_input(self.now, &bytes);
                }
            }
            while let Some(bytes) = self.server.poll_transmit() {
                progressed = true;
                self.engine.handle_input(self.now, &bytes);
            }
            while self.server.poll_event().is_some() {}
            if !progressed {
                return;
            }
        }
    }

    /// The stand-in modem: OK to every command, CONNECT to the dial.
    fn modem(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if byte != b'\r' {
                self.at_line.push(byte);
                continue;
            }
            let dial = self.at_line.starts_with(b"ATD");
            self.at_line.clear();
            let answer: &[u8] = if dial {
                self.command_mode = false;
                b"\r\nCONNECT 33600\r\n"
            } else {
                b"\r\nOK\r\n"
            };
            self.engine.handle_input(self.now, answer);
        }
    }

    /// Run until `done` holds, jumping the clock to each next deadline; at most `limit`
    /// of virtual time.
    fn run_until(&mut self, limit: Duration, done: impl Fn(&Lab) -> bool) {
        let end = self.now + limit;
        loop {
            self.settle();
            if done(self) {
                return;
            }
            let next = [self.engine.poll_timeout(), self.server.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(deadline) if deadline <= end => {
                    self.now = self.now.max(deadline);
                    self.engine.handle_timeout(self.now);
                    self.server.handle_timeout(self.now);
                }
                _ => return,
            }
        }
    }
}

/// PAP refused: the server Naks and sends its Terminate-Request at once. The engine
/// acknowledges it although the dial has failed, and the hang-up closes the port within
/// the bounded termination (Max-Terminate × restart timer, RFC 1661 §4.6).
#[test]
fn a_refused_pap_dial_acknowledges_the_servers_terminate_request() {
    let mut lab = Lab::new("auth: pap\nusers: {alice: wonderland}\n", "wrong");
    lab.run_until(Duration::from_secs(30), |lab| lab.failure.is_some());
    assert_eq!(lab.failure, Some(RasError::ERROR_AUTHENTICATION_FAILURE));
    // The application has not hung up yet; the Terminate exchange still completes.
    lab.run_until(Duration::from_secs(1), |lab| {
        lab.engine_lcp.contains(&TERMINATE_ACK)
    });
    assert!(
        lab.engine_lcp.contains(&TERMINATE_ACK),
        "the server's Terminate-Request went unanswered: {:?}",
        lab.engine_lcp
    );
    assert!(!lab.port_closed, "the port stays open until the hang-up");
    lab.engine.hang_up(lab.now);
    lab.run_until(Duration::from_secs(10), |lab| lab.port_closed);
    assert!(lab.port_closed, "the hang-up never closed the port");
}

/// MS-CHAPv2 refused with R=1 and no paused states: the dial fails with LCP still open.
/// The hang-up sends the engine's own Terminate-Request before closing the port.
#[test]
fn hanging_up_a_refused_dial_with_lcp_open_terminates_first() {
    let mut lab = Lab::new(
        "auth: mschapv2\nretries: 1\nusers: {alice: wonderland}\n",
        "wrong",
    );
    lab.run_until(Duration::from_secs(30), |lab| lab.failure.is_some());
    assert_eq!(lab.failure, Some(RasError::ERROR_AUTHENTICATION_FAILURE));
    assert!(!lab.engine_lcp.contains(&TERMINATE_REQUEST));
    lab.engine.hang_up(lab.now);
    let hung_up_at = lab.now;
    lab.run_until(Duration::from_secs(10), |lab| lab.port_closed);
    assert!(lab.port_closed, "the hang-up never closed the port");
    assert!(
        lab.engine_lcp.contains(&TERMINATE_REQUEST),
        "no Terminate-Request before the port closed: {:?}",
        lab.engine_lcp
    );
    // The server acknowledges at once: no restart timer had to expire.
    assert_eq!(lab.now, hung_up_at);
}
