//! End to end: the engine's `ras_ppp::Client` against the scripted `ppp_peer_sim::Server`,
//! through in-memory pipes on a virtual clock that jumps to the next deadline.

#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;

use ppp_peer_sim::{Script, Server};
use proptest::prelude::*;
use ras_ppp::{AuthProtocol, Client, ClientConfig, ClientEvent, LinkDownReason};
use sansio::sim::{Pipe, earliest};
use sansio::{Duration, Instant, Machine, PeerEvent};

/// One-way latency of the simulated line.
const LATENCY: Duration = Duration::from_millis(20);

struct Dial {
    now: Instant,
    client: Client,
    server: Option<Server>,
    to_server: Pipe,
    to_client: Pipe,
    client_events: Vec<(Instant, ClientEvent)>,
    server_events: Vec<(Instant, PeerEvent)>,
    /// Frames the client put on the line (counted per write).
    client_writes: usize,
    /// Lose the client's PAP frames on their way to the server.
    drop_client_pap: bool,
}

impl Dial {
    fn new(script: Option<&str>, password: &str) -> Self {
        let config = ClientConfig {
            user: "alice".into(),
            password: password.into(),
            magic_seed: 7,
            ..ClientConfig::default()
        };
        Dial {
            now: Instant::ZERO,
            client: Client::new(config),
            server: script.map(|yaml| Server::new(Script::from_yaml(yaml).unwrap(), 7)),
            to_server: Pipe::new(LATENCY),
            to_client: Pipe::new(LATENCY),
            client_events: Vec::new(),
            server_events: Vec::new(),
            client_writes: 0,
            drop_client_pap: false,
        }
    }

    /// Move bytes and events until nothing is left to happen (or a minute of virtual time).
    fn run(&mut self) {
        let limit = self.now + Duration::from_secs(600);
        loop {
            while let Some(bytes) = self.client.poll_transmit() {
                self.client_writes += 1;
                if self.drop_client_pap && is_pap(&bytes) {
                    continue;
                }
                self.to_server.send(self.now, bytes);
            }
            while let Some(event) = self.client.poll_event() {
                self.client_events.push((self.now, event));
            }
            if let Some(server) = &mut self.server {
                while let Some(bytes) = server.poll_transmit() {
                    self.to_client.send(self.now, bytes);
                }
                while let Some(event) = server.poll_event() {
                    self.server_events.push((self.now, event));
                }
            }
            let next = earliest([
                self.client.poll_timeout(),
                self.server.as_ref().and_then(Server::poll_timeout),
                self.to_server.next_delivery(),
                self.to_client.next_delivery(),
            ]);
            let Some(next) = next else { break };
            assert!(next <= limit, "dial did not settle");
            self.now = self.now.max(next);
            while let Some(bytes) = self.to_server.take_due(self.now) {
                // A silent server: the bytes go nowhere.
                if let Some(server) = &mut self.server {
                    server.handle_input(self.now, &bytes);
                }
            }
            while let Some(bytes) = self.to_client.take_due(self.now) {
                self.client.handle_input(self.now, &bytes);
            }
            if self.client.poll_timeout().is_some_and(|t| t <= self.now) {
                self.client.handle_timeout(self.now);
            }
            if let Some(server) = &mut self.server
                && server.poll_timeout().is_some_and(|t| t <= self.now)
            {
                server.handle_timeout(self.now);
            }
        }
    }

    fn events(&self) -> Vec<ClientEvent> {
        self.client_events.iter().map(|(_, e)| e.clone()).collect()
    }

    fn dial(&mut self) {
        self.client.open(self.now);
        self.run();
    }
}

fn is_pap(bytes: &[u8]) -> bool {
    let mut frames = Vec::new();
    let mut decoder = ras_ppp::hdlc::Decoder::new(1500);
    // After LCP the client sends control characters raw (it was asked for map 0).
    decoder.set_accm(ras_ppp::hdlc::ReceiveAccm(0));
    decoder.decode(bytes, &mut frames);
    frames
        .iter()
        .any(|f| f.protocol == ras_ppp::wire::Protocol::PAP)
}

const PAP_SCRIPT: &str = "
auth: pap
users:
  alice: secret
dns: [192.0.2.53]
";

#[test]
fn pap_success_brings_the_network_up() {
    let mut dial = Dial::new(Some(PAP_SCRIPT), "secret");
    dial.dial();
    assert_eq!(
        dial.events(),
        [
            ClientEvent::LinkEstablished {
                auth: Some(AuthProtocol::Pap)
            },
            ClientEvent::AuthSucceeded {
                message: "Welcome".into()
            },
            ClientEvent::NetworkUp {
                local: Ipv4Addr::new(10, 0, 0, 2),
                peer: Some(Ipv4Addr::new(10, 0, 0, 1)),
                dns: vec![Ipv4Addr::new(192, 0, 2, 53)],
            },
        ]
    );
    assert_eq!(dial.client.phase(), ras_ppp::Phase::Network);
    // A handful of round trips, no retransmission: well under one restart period.
    let (up_at, _) = dial.client_events.last().unwrap();
    assert!(
        *up_at < Instant::ZERO + Duration::from_secs(1),
        "network up at {up_at}"
    );
    assert!(dial.server_events.is_empty());
    assert_eq!(dial.client.framing_stats().discarded(), 0);

    // Hang up from our side: Terminate-Request, Ack, LinkDown(LocalClose); the server hangs
    // up after its RFC 1661 §4.4 zrc pause.
    dial.client.close(dial.now);
    dial.run();
    assert_eq!(
        dial.events().last(),
        Some(&ClientEvent::LinkDown(LinkDownReason::LocalClose))
    );
    assert_eq!(
        dial.server_events
            .iter()
            .map(|(_, e)| e.clone())
            .collect::<Vec<_>>(),
        [PeerEvent::HangUp]
    );
}

#[test]
fn wrong_password_fails_auth_and_the_server_hangs_up() {
    let mut dial = Dial::new(Some(PAP_SCRIPT), "guess");
    dial.dial();
    assert_eq!(
        dial.events(),
        [
            ClientEvent::LinkEstablished {
                auth: Some(AuthProtocol::Pap)
            },
            ClientEvent::AuthFailed {
                message: "Authentication failure".into(),
                error: None,
                retry_allowed: false,
            },
            ClientEvent::LinkDown(LinkDownReason::AuthFailed),
        ]
    );
    assert_eq!(
        dial.server_events
            .iter()
            .map(|(_, e)| e.clone())
            .collect::<Vec<_>>(),
        [PeerEvent::HangUp]
    );
    assert_eq!(dial.client.poll_timeout(), None);
}

#[test]
fn unknown_user_fails_auth_too() {
    let mut dial = Dial::new(Some("users: {bob: secret}\n"), "secret");
    dial.dial();
    assert!(matches!(dial.events()[1], ClientEvent::AuthFailed { .. }));
    assert_eq!(
        dial.events().last(),
        Some(&ClientEvent::LinkDown(LinkDownReason::AuthFailed))
    );
}

#[test]
fn silent_server_times_out_after_max_configure() {
    let mut dial = Dial::new(None, "secret");
    dial.dial();
    assert_eq!(
        dial.events(),
        [ClientEvent::LinkDown(LinkDownReason::Timeout)]
    );
    // RFC 1661 §4.6: ten Configure-Requests, three seconds apart, then TO-.
    assert_eq!(dial.client_writes, 10);
    let (down_at, _) = dial.client_events[0];
    assert_eq!(down_at, Instant::ZERO + Duration::from_secs(30));
}

#[test]
fn no_auth_goes_straight_to_the_network() {
    let mut dial = Dial::new(
        Some("auth: none\naddress: {server: 172.16.0.1, client: 172.16.0.77}\n"),
        "",
    );
    dial.dial();
    assert_eq!(
        dial.events(),
        [
            ClientEvent::LinkEstablished { auth: None },
            // No DNS configured: the server Rejects the DNS options and the client drops them.
            ClientEvent::NetworkUp {
                local: Ipv4Addr::new(172, 16, 0, 77),
                peer: Some(Ipv4Addr::new(172, 16, 0, 1)),
                dns: vec![]
            },
        ]
    );
}

#[test]
fn same_seed_on_both_ends_is_not_mistaken_for_loopback() {
    // Dial::new already gives both ends seed 7; make it explicit that this dial works.
    let mut dial = Dial::new(Some("auth: none\n"), "");
    dial.dial();
    assert!(matches!(
        dial.events().last(),
        Some(ClientEvent::NetworkUp { .. })
    ));
}

#[test]
fn a_client_whose_authentication_never_arrives_is_hung_up_on() {
    let mut dial = Dial::new(Some(PAP_SCRIPT), "secret");
    // Lose every Authenticate-Request, and let the client keep trying far longer than the
    // server waits.
    dial.drop_client_pap = true;
    dial.client = Client::new(ClientConfig {
        user: "alice".into(),
        password: "secret".into(),
        max_configure: 100,
        ..ClientConfig::default()
    });
    dial.dial();
    let (hung_up_at, _) = dial.server_events[0];
    // RFC 1661 §4.6 defaults: 10 × 3 s of patience, then Terminate-Request and its Ack.
    assert!(
        hung_up_at >= Instant::ZERO + Duration::from_secs(30),
        "{hung_up_at}"
    );
    assert!(
        hung_up_at < Instant::ZERO + Duration::from_secs(31),
        "{hung_up_at}"
    );
    assert_eq!(
        dial.events().last(),
        Some(&ClientEvent::LinkDown(LinkDownReason::PeerTerminated))
    );
}

#[test]
fn a_looped_line_is_detected() {
    // The client's own bytes come straight back to it.
    let mut client = Client::new(ClientConfig::default());
    let mut pipe = Pipe::new(LATENCY);
    let mut now = Instant::ZERO;
    client.open(now);
    let mut events = Vec::new();
    for _ in 0..1000 {
        while let Some(bytes) = client.poll_transmit() {
            pipe.send(now, bytes);
        }
        events.extend(std::iter::from_fn(|| client.poll_event()));
        let Some(next) = earliest([client.poll_timeout(), pipe.next_delivery()]) else {
            break;
        };
        now = now.max(next);
        while let Some(bytes) = pipe.take_due(now) {
            client.handle_input(now, &bytes);
        }
        client.handle_timeout(now);
    }
    assert_eq!(
        events.last(),
        Some(&ClientEvent::LinkDown(LinkDownReason::Loopback))
    );
}

/// A frame of one of the protocols the machines speak, with random content, so fuzzing
/// reaches past the FCS check into the packet parsers and automata.
fn frames() -> impl Strategy<Value = Vec<u8>> {
    let protocol = prop_oneof![
        Just(0xC021u16),
        Just(0xC023),
        Just(0x8021),
        Just(0x0021),
        Just(0x80FD),
    ];
    proptest::collection::vec(
        (protocol, proptest::collection::vec(any::<u8>(), 0..40)),
        0..12,
    )
    .prop_map(|frames| {
        let encoder = ras_ppp::hdlc::Encoder::default();
        frames
            .into_iter()
            .flat_map(|(protocol, information)| {
                encoder.encode(ras_ppp::wire::Protocol(protocol), &information)
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn random_bytes_never_panic_either_end(
        noise in proptest::collection::vec(any::<u8>(), 0..400),
        framed in frames(),
        chunk in 1usize..50,
    ) {
        let mut client = Client::new(ClientConfig::default());
        let mut server = Server::new(Script::from_yaml(PAP_SCRIPT).unwrap(), 3);
        let mut now = Instant::ZERO;
        client.open(now);
        for bytes in [&noise, &framed] {
            for piece in bytes.chunks(chunk) {
                now += Duration::from_millis(500);
                client.handle_input(now, piece);
                server.handle_input(now, piece);
                client.handle_timeout(now);
                server.handle_timeout(now);
                while client.poll_transmit().is_some() {}
                while server.poll_transmit().is_some() {}
            }
        }
        // Whatever happened, LinkDown is last if it came at all.
        let events: Vec<_> = std::iter::from_fn(|| client.poll_event()).collect();
        if let Some(at) = events.iter().position(|e| matches!(e, ClientEvent::LinkDown(_))) {
            prop_assert_eq!(at, events.len() - 1);
        }
    }
}
