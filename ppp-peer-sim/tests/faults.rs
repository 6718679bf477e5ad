//! The script's fault steps against the engine's `ras_ppp::Client`, on a virtual clock.
//!
//! Unlike `dial.rs`, this harness plays the line as a modem would: when the server hangs
//! up the carrier drops (whatever is in flight is lost), and it plays the dial engine's
//! overall deadline: at `dial_deadline` the client is closed, as the engine hangs up a dial
//! that has not connected in time. So every call ends, even against a server that never
//! lets LCP converge.

#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;

use ppp_peer_sim::{Script, Server};
use proptest::prelude::*;
use ras_ppp::hdlc::{Decoder, ReceiveAccm};
use ras_ppp::wire::Protocol;
use ras_ppp::{AuthProtocol, Client, ClientConfig, ClientEvent, LinkDownReason};
use sansio::sim::{Pipe, earliest};
use sansio::{Duration, Instant, Machine, PeerEvent};

/// More loop iterations than any call may take (a two-minute Nak loop at 5 ms a hop takes
/// about 50 000).
const MAX_STEPS: usize = 200_000;

fn secs(s: u64) -> Instant {
    Instant::ZERO + Duration::from_secs(s)
}

/// One call: client and scripted server over two pipes.
struct Call {
    now: Instant,
    client: Client,
    server: Server,
    to_server: Pipe,
    to_client: Pipe,
    /// When the engine would give up on the dial and close the client.
    dial_deadline: Instant,
    closed: bool,
    client_events: Vec<(Instant, ClientEvent)>,
    server_events: Vec<(Instant, PeerEvent)>,
    /// The line is cut (the server hung up).
    carrier_lost: bool,
    /// Writes (one frame each) the client made, and how many reached the server.
    client_frames: usize,
    frames_to_server: usize,
    /// LCP Configure-Requests among the client's frames.
    client_configure_requests: usize,
    steps: usize,
}

impl Call {
    fn new(script: &str, password: &str, latency: Duration) -> Self {
        let script = Script::from_yaml(script).unwrap();
        Call {
            now: Instant::ZERO,
            client: Client::new(ClientConfig {
                user: "alice".into(),
                password: password.into(),
                entropy: ras_ppp::random::Entropy::Seed(7),
                ..ClientConfig::default()
            }),
            server: Server::new(script, 7),
            to_server: Pipe::new(latency),
            to_client: Pipe::new(latency),
            dial_deadline: secs(120),
            closed: false,
            client_events: Vec::new(),
            server_events: Vec::new(),
            carrier_lost: false,
            client_frames: 0,
            frames_to_server: 0,
            client_configure_requests: 0,
            steps: 0,
        }
    }

    /// Dial and run until nothing is left to happen.
    fn run(mut self) -> Self {
        self.client.open(self.now);
        loop {
            self.steps += 1;
            assert!(self.steps < MAX_STEPS, "the call never ended: {}", self.now);
            while let Some(bytes) = self.client.poll_transmit() {
                self.client_frames += 1;
                if is_configure_request(&bytes) {
                    self.client_configure_requests += 1;
                }
                if !self.carrier_lost {
                    self.to_server.send(self.now, bytes);
                }
            }
            // The Network-phase marker is left out: these tests are about outcomes.
            self.client_events.extend(
                std::iter::from_fn(|| self.client.poll_event())
                    .filter(|e| *e != ClientEvent::NetworkPhase)
                    .map(|e| (self.now, e)),
            );
            while let Some(bytes) = self.server.poll_transmit() {
                if !self.carrier_lost {
                    self.to_client.send(self.now, bytes);
                }
            }
            self.take_server_events();
            let deadline = (!self.closed && !self.client_finished()).then_some(self.dial_deadline);
            let Some(next) = earliest([
                self.client.poll_timeout(),
                self.server.poll_timeout(),
                self.to_server.next_delivery(),
                self.to_client.next_delivery(),
                deadline,
            ]) else {
                return self;
            };
            self.now = self.now.max(next);
            while let Some(bytes) = self.to_server.take_due(self.now) {
                self.frames_to_server += 1;
                self.server.handle_input(self.now, &bytes);
                // A hang-up cuts the line before the next write arrives.
                self.take_server_events();
            }
            while let Some(bytes) = self.to_client.take_due(self.now) {
                self.client.handle_input(self.now, &bytes);
            }
            if self.client.poll_timeout().is_some_and(|t| t <= self.now) {
                self.client.handle_timeout(self.now);
            }
            if self.server.poll_timeout().is_some_and(|t| t <= self.now) {
                self.server.handle_timeout(self.now);
            }
            if deadline.is_some_and(|t| t <= self.now) {
                self.closed = true;
                self.client.close(self.now);
            }
        }
    }

    fn take_server_events(&mut self) {
        while let Some(event) = self.server.poll_event() {
            self.server_events.push((self.now, event));
            // The far end put the phone down: nothing more crosses the line.
            self.carrier_lost = true;
            self.to_server.clear();
            self.to_client.clear();
        }
    }

    fn client_finished(&self) -> bool {
        matches!(
            self.client_events.last(),
            Some((_, ClientEvent::LinkDown(_)))
        )
    }

    fn events(&self) -> Vec<ClientEvent> {
        self.client_events.iter().map(|(_, e)| e.clone()).collect()
    }

    fn event_at(&self, wanted: &ClientEvent) -> Instant {
        self.client_events
            .iter()
            .find(|(_, e)| e == wanted)
            .map(|(at, _)| *at)
            .unwrap()
    }

    fn hung_up(&self) -> bool {
        self.server_events
            .iter()
            .any(|(_, e)| *e == PeerEvent::HangUp)
    }
}

/// Whether a client write is an LCP Configure-Request (always sent with the default map).
fn is_configure_request(bytes: &[u8]) -> bool {
    let mut decoder = Decoder::default();
    decoder.set_accm(ReceiveAccm(0));
    let mut frames = Vec::new();
    decoder.decode(bytes, &mut frames);
    frames
        .iter()
        .any(|f| f.protocol == Protocol::LCP && f.information.first() == Some(&1))
}

const LATENCY: Duration = Duration::from_millis(20);

const PAP: &str = "users: {alice: secret}\ndns: [192.0.2.53]\n";

fn with_faults(faults: &str) -> String {
    format!("{PAP}faults: {faults}\n")
}

fn network_up() -> ClientEvent {
    ClientEvent::NetworkUp {
        local: Ipv4Addr::new(10, 0, 0, 2),
        peer: Some(Ipv4Addr::new(10, 0, 0, 1)),
        dns: vec![Ipv4Addr::new(192, 0, 2, 53)],
    }
}

fn pap_dial() -> [ClientEvent; 3] {
    [
        ClientEvent::LinkEstablished {
            auth: Some(AuthProtocol::Pap),
        },
        ClientEvent::AuthSucceeded {
            message: "Welcome".into(),
        },
        network_up(),
    ]
}

#[test]
fn without_faults_the_dial_succeeds_and_ends_at_the_deadline() {
    let call = Call::new(PAP, "secret", LATENCY).run();
    let mut expected = pap_dial().to_vec();
    expected.push(ClientEvent::LinkDown(LinkDownReason::LocalClose));
    assert_eq!(call.events(), expected);
    assert_eq!(call.client.framing_stats().bad_fcs, 0);
}

#[test]
fn a_silent_server_makes_the_client_time_out() {
    let call = Call::new(&with_faults("[silent]"), "secret", LATENCY).run();
    assert_eq!(
        call.events(),
        [ClientEvent::LinkDown(LinkDownReason::Timeout)]
    );
    // RFC 1661 §4.6: Max-Configure (10) requests, 3 s apart, all heard, none answered.
    let down = call.event_at(&ClientEvent::LinkDown(LinkDownReason::Timeout));
    assert_eq!(down, secs(30));
    assert_eq!(call.client_frames, 10);
    assert_eq!(call.frames_to_server, 10);
    // A silent server never hangs up by itself.
    assert!(call.server_events.is_empty());
}

#[test]
fn nak_forever_keeps_the_client_negotiating_until_the_dial_deadline() {
    let call = Call::new(&with_faults("[nak-forever]"), "secret", LATENCY).run();
    // RFC 1661 gives the receiver of Naks no limit: each Nak restarts its counter
    // (§4.1 RCN: irc, scr), so Max-Configure never runs out, and §4.5 leaves loops like
    // this to "higher level timeouts". Here that is the engine's dial deadline.
    assert_eq!(
        call.events(),
        [ClientEvent::LinkDown(LinkDownReason::LocalClose)]
    );
    let down = call.event_at(&ClientEvent::LinkDown(LinkDownReason::LocalClose));
    assert!(down >= call.dial_deadline, "{down}");
    // One request per 40 ms round trip for two minutes: far beyond Max-Configure (10) and
    // Max-Failure (5).
    assert!(
        call.client_configure_requests > 2900,
        "{}",
        call.client_configure_requests
    );
    // After the client's Terminate-Request the server retries its own request to nobody,
    // then gives up (Max-Configure) and hangs up.
    assert!(call.hung_up());
}

#[test]
fn reject_all_opens_lcp_on_defaults_then_refuses_ipcp() {
    let call = Call::new(&with_faults("[reject-all]"), "secret", LATENCY).run();
    assert_eq!(
        call.events(),
        [
            ClientEvent::LinkEstablished {
                auth: Some(AuthProtocol::Pap)
            },
            ClientEvent::AuthSucceeded {
                message: "Welcome".into()
            },
            ClientEvent::LinkDown(LinkDownReason::NoNetworkProtocol),
        ]
    );
    // The client withdrew its options after the Reject and its empty request was Acked.
    assert_eq!(call.client_configure_requests, 2);
    let call = Call::new("auth: none\nfaults: [reject-all]\n", "", LATENCY).run();
    assert_eq!(
        call.events(),
        [
            ClientEvent::LinkEstablished { auth: None },
            ClientEvent::LinkDown(LinkDownReason::NoNetworkProtocol),
        ]
    );
    // Every frame the client sent after the defaults applied (raw control characters,
    // RFC 1662 §7.1 map all-ones toward the client) was understood: nothing discarded.
    assert_eq!(call.client.framing_stats().discarded(), 0);
}

#[test]
fn drop_at_packet_hangs_up_as_that_frame_arrives() {
    use LinkDownReason::{NoNetworkProtocol, Timeout};
    let established = ClientEvent::LinkEstablished {
        auth: Some(AuthProtocol::Pap),
    };
    let authenticated = ClientEvent::AuthSucceeded {
        message: "Welcome".into(),
    };
    // The client's frames in this dial: 1 LCP Configure-Request, 2 Configure-Ack, 3 PAP
    // Authenticate-Request, 4 IPCP Configure-Request (0.0.0.0 and DNS), 5 IPCP
    // Configure-Ack, 6 IPCP request after the server's Reject (of the secondary DNS), 7 after
    // its Nak (of the address); the server's Ack of the 7th brings the network up. The client never hears the line drop (that is the
    // modem's news): it gives up by its own timers in whichever phase it was left, after
    // Max-Configure requests and the Max-Terminate Terminate-Requests (RFC 1661 §4.6).
    let lcp_stalls = vec![ClientEvent::LinkDown(Timeout)];
    let pap_stalls = vec![established.clone(), ClientEvent::LinkDown(Timeout)];
    let ipcp_stalls = vec![
        established.clone(),
        authenticated.clone(),
        ClientEvent::LinkDown(NoNetworkProtocol),
    ];
    for (n, outcome) in [
        (1, &lcp_stalls),
        (2, &pap_stalls),
        (3, &pap_stalls),
        (4, &ipcp_stalls),
        (5, &ipcp_stalls),
        (6, &ipcp_stalls),
        (7, &ipcp_stalls),
    ] {
        let call = Call::new(
            &with_faults(&format!("[{{drop-at-packet: {n}}}]")),
            "secret",
            LATENCY,
        )
        .run();
        assert_eq!(call.frames_to_server, n, "drop-at-packet: {n}");
        assert_eq!(call.server_events.len(), 1, "drop-at-packet: {n}");
        assert_eq!(&call.events(), outcome, "drop-at-packet: {n}");
    }
    // The 8th frame is the client's own Terminate-Request at the dial deadline.
    let call = Call::new(&with_faults("[{drop-at-packet: 8}]"), "secret", LATENCY).run();
    let mut expected = pap_dial().to_vec();
    expected.push(ClientEvent::LinkDown(LinkDownReason::LocalClose));
    assert_eq!(call.events(), expected);
}

#[test]
fn a_corrupted_frame_is_discarded_counted_and_recovered_from() {
    // Each of the server's frames in a clean dial, corrupted in turn: LCP Configure-Request
    // and Configure-Ack, PAP Authenticate-Ack, IPCP Configure-Request, -Reject, -Nak, -Ack.
    for n in 1..=7 {
        let call = Call::new(
            &with_faults(&format!("[{{corrupt-fcs: {n}}}]")),
            "secret",
            LATENCY,
        )
        .run();
        let mut expected = pap_dial().to_vec();
        expected.push(ClientEvent::LinkDown(LinkDownReason::LocalClose));
        assert_eq!(call.events(), expected, "corrupt-fcs: {n}");
        assert_eq!(call.client.framing_stats().bad_fcs, 1, "corrupt-fcs: {n}");
        assert_eq!(
            call.client.framing_stats().discarded(),
            1,
            "corrupt-fcs: {n}"
        );
        // Recovery waits for a restart timer (RFC 1661 §4.6, 3 s) to retransmit.
        let up_at = call.event_at(&network_up());
        assert!(up_at >= secs(3), "corrupt-fcs: {n}: up at {up_at}");
    }
    // Several at once.
    let call = Call::new(
        &with_faults("[{corrupt-fcs: 1}, {corrupt-fcs: 2}, {corrupt-fcs: 4}]"),
        "secret",
        LATENCY,
    )
    .run();
    assert!(call.events().contains(&network_up()));
    assert_eq!(call.client.framing_stats().bad_fcs, 3);
}

/// A random, valid `faults:` list.
fn fault_steps() -> impl Strategy<Value = String> {
    let negotiation = prop_oneof![
        Just(None),
        Just(Some("silent")),
        Just(Some("nak-forever")),
        Just(Some("reject-all")),
    ];
    (
        negotiation,
        proptest::option::of(1u32..15),
        proptest::collection::btree_set(1u32..15, 0..4),
    )
        .prop_map(|(negotiation, drop, corrupt)| {
            let mut steps: Vec<String> = negotiation.iter().map(|s| s.to_string()).collect();
            steps.extend(drop.map(|n| format!("{{drop-at-packet: {n}}}")));
            if negotiation != Some("silent") {
                steps.extend(corrupt.iter().map(|n| format!("{{corrupt-fcs: {n}}}")));
            }
            format!("[{}]", steps.join(", "))
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_faulty_call_ends_without_panicking(
        faults in fault_steps(),
        pap in any::<bool>(),
        right_password in any::<bool>(),
        latency_ms in 5u64..60,
    ) {
        let script = if pap {
            with_faults(&faults)
        } else {
            format!("auth: none\nfaults: {faults}\n")
        };
        let password = if right_password { "secret" } else { "guess" };
        let call = Call::new(&script, password, Duration::from_millis(latency_ms)).run();
        // It ended (run returned within MAX_STEPS), with exactly one LinkDown, last.
        let events = call.events();
        let downs = events.iter().filter(|e| matches!(e, ClientEvent::LinkDown(_))).count();
        prop_assert_eq!(downs, 1, "{:?}", events);
        prop_assert!(matches!(events.last(), Some(ClientEvent::LinkDown(_))), "{:?}", events);
        prop_assert!(call.server_events.len() <= 1);
        prop_assert_eq!(call.client.poll_timeout(), None);
    }
}

/// Issue 16 #11: the server's 4th frame (after LCP Configure-Request, Configure-Ack and
/// the CHAP Challenge) is its Success; corrupted, it is lost. The client sends its
/// Response again on the restart timer, the server answers the repeated Response with
/// Success again (RFC 1994 §4.2), and the dial connects instead of waiting out the
/// engine's deadline.
#[test]
fn a_lost_chap_success_is_recovered() {
    for (auth, protocol) in [
        ("chap-md5", AuthProtocol::ChapMd5),
        ("mschapv2", AuthProtocol::MsChapV2),
    ] {
        let script = format!(
            "auth: {auth}\nusers: {{alice: secret}}\ndns: [192.0.2.53]\nfaults: [{{corrupt-fcs: 4}}]\n"
        );
        let call = Call::new(&script, "secret", LATENCY).run();
        let events = call.events();
        assert_eq!(
            events.first(),
            Some(&ClientEvent::LinkEstablished {
                auth: Some(protocol)
            }),
            "{auth}"
        );
        assert!(events.contains(&network_up()), "{auth}: {events:?}");
        assert_eq!(call.client.framing_stats().bad_fcs, 1, "{auth}");
        // One restart timer (3 s) after the lost Success, well before the deadline.
        let up_at = call.event_at(&network_up());
        assert!(
            up_at >= secs(3) && up_at < secs(10),
            "{auth}: up at {up_at}"
        );
    }
}
