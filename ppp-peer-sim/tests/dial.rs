//! End to end: the engine's `ras_ppp::Client` against the scripted `ppp_peer_sim::Server`,
//! through in-memory pipes on a virtual clock that jumps to the next deadline.

#![allow(clippy::unwrap_used)]

use std::net::Ipv4Addr;

use ppp_peer_sim::{Script, Server};
use proptest::prelude::*;
use ras_ppp::keepalive::KeepaliveConfig;
use ras_ppp::wire::Protocol;
use ras_ppp::wire::chap::{ChapRepr, SuccessMessage};
use ras_ppp::{
    AuthProtocol, Client, ClientConfig, ClientEvent, EapAnswer, EapMethod, EapPeerConfig,
    EapPrompt, LinkDownReason,
};
use sansio::sim::{Pipe, earliest};
use sansio::{Duration, Instant, Machine, PeerEvent};

/// One-way latency of the simulated line.
const LATENCY: Duration = Duration::from_millis(20);

/// The application's reaction to a client event.
type Respond = dyn FnMut(&mut Client, Instant, &ClientEvent);

/// A rewrite of a frame's Information field, by protocol.
type Tamper = dyn FnMut(Protocol, Vec<u8>) -> Vec<u8>;

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
    /// Deliver everything each side writes in one turn as a single read, as a PTY or a
    /// paced modem line does.
    coalesce: bool,
    /// What the application does when the client reports something.
    respond: Box<Respond>,
    /// Rewrites each frame the server sends (after HDLC decoding).
    tamper: Box<Tamper>,
}

impl Dial {
    fn new(script: Option<&str>, password: &str) -> Self {
        Dial::with_client(
            script,
            ClientConfig {
                user: "alice".into(),
                password: password.into(),
                entropy: ras_ppp::random::Entropy::Seed(7),
                // These dials are about negotiation; they run until nothing is left to
                // happen, which an echo keepalive never allows.
                keepalive: None,
                ..ClientConfig::default()
            },
        )
    }

    fn with_client(script: Option<&str>, config: ClientConfig) -> Self {
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
            coalesce: false,
            respond: Box::new(|_, _, _| {}),
            tamper: Box::new(|_, information| information),
        }
    }

    /// Move bytes and events until nothing is left to happen (within ten minutes of
    /// virtual time).
    fn run(&mut self) {
        self.run_until(self.now + Duration::from_secs(600), true);
    }

    /// Move bytes and events until `limit`; if `settle`, everything must have happened by
    /// then.
    fn run_until(&mut self, limit: Instant, settle: bool) {
        loop {
            // Events first: the application's reaction may give the client more to send.
            while let Some(event) = self.client.poll_event() {
                (self.respond)(&mut self.client, self.now, &event);
                self.client_events.push((self.now, event));
            }
            let mut burst = Vec::new();
            while let Some(bytes) = self.client.poll_transmit() {
                self.client_writes += 1;
                if self.drop_client_pap && is_pap(&bytes) {
                    continue;
                }
                if self.coalesce {
                    burst.extend(bytes);
                } else {
                    self.to_server.send(self.now, bytes);
                }
            }
            if !burst.is_empty() {
                self.to_server.send(self.now, std::mem::take(&mut burst));
            }
            if let Some(server) = &mut self.server {
                while let Some(bytes) = server.poll_transmit() {
                    let bytes = retamper(&mut self.tamper, bytes);
                    if self.coalesce {
                        burst.extend(bytes);
                    } else {
                        self.to_client.send(self.now, bytes);
                    }
                }
                if !burst.is_empty() {
                    self.to_client.send(self.now, burst);
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
            if next > limit {
                assert!(!settle, "dial did not settle");
                break;
            }
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

    /// What the client reported, less the Network-phase marker (the outcomes are what
    /// these tests are about).
    fn events(&self) -> Vec<ClientEvent> {
        self.client_events
            .iter()
            .map(|(_, e)| e.clone())
            .filter(|e| *e != ClientEvent::NetworkPhase)
            .collect()
    }

    fn dial(&mut self) {
        self.client.open(self.now);
        self.run();
    }
}

/// Pass the server's frames through `tamper`, re-framed with the default (escape everything)
/// encoder, which any receiver accepts.
fn retamper(tamper: &mut Tamper, bytes: Vec<u8>) -> Vec<u8> {
    let mut frames = Vec::new();
    let mut decoder = ras_ppp::hdlc::Decoder::new(1500);
    decoder.set_accm(ras_ppp::hdlc::ReceiveAccm(0));
    decoder.decode(&bytes, &mut frames);
    let encoder = ras_ppp::hdlc::Encoder::default();
    frames
        .into_iter()
        .flat_map(|frame| {
            encoder.encode(frame.protocol, &tamper(frame.protocol, frame.information))
        })
        .collect()
}

fn is_pap(bytes: &[u8]) -> bool {
    let mut frames = Vec::new();
    let mut decoder = ras_ppp::hdlc::Decoder::new(1500);
    // After LCP the client sends control characters raw (it was asked for map 0).
    decoder.set_accm(ras_ppp::hdlc::ReceiveAccm(0));
    decoder.decode(bytes, &mut frames);
    frames.iter().any(|f| f.protocol == Protocol::PAP)
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
fn frames_read_together_are_deframed_under_the_map_in_force_for_each() {
    // The client sends its Configure-Ack and, LCP now open with ACCM 0 (RFC 1662 §7.1),
    // its Authenticate-Request with raw control characters, in one write. A receiver that
    // deframed the whole read under the default map would discard the request as a bad
    // frame and wait a restart period for the retransmission.
    let mut dial = Dial::new(Some(PAP_SCRIPT), "secret");
    dial.coalesce = true;
    dial.dial();
    assert!(matches!(
        dial.events().last(),
        Some(ClientEvent::NetworkUp { .. })
    ));
    let (up_at, _) = dial.client_events.last().unwrap();
    assert!(
        *up_at < Instant::ZERO + Duration::from_secs(1),
        "network up at {up_at}: a frame was lost and retransmitted"
    );
    assert_eq!(dial.client.framing_stats().discarded(), 0);
}

#[test]
fn the_keepalive_probes_an_answering_server_and_finds_a_vanished_one_dead() {
    let keepalive = KeepaliveConfig {
        interval: Duration::from_secs(30),
        max_missed: 4,
    };
    let mut dial = Dial::with_client(
        Some(PAP_SCRIPT),
        ClientConfig {
            user: "alice".into(),
            password: "secret".into(),
            entropy: ras_ppp::random::Entropy::Seed(7),
            keepalive: Some(keepalive),
            ..ClientConfig::default()
        },
    );
    dial.client.open(dial.now);
    dial.run_until(Instant::ZERO + Duration::from_secs(1), false);
    assert!(matches!(
        dial.events().last(),
        Some(ClientEvent::NetworkUp { .. })
    ));
    // Ten minutes of an answering server: 20 Echo-Requests (RFC 1661 §5.8), all answered.
    let writes = dial.client_writes;
    dial.run_until(Instant::ZERO + Duration::from_secs(601), false);
    assert_eq!(dial.client_writes - writes, 20);
    assert!(matches!(
        dial.events().last(),
        Some(ClientEvent::NetworkUp { .. })
    ));
    // The server vanishes without a word: four unanswered requests later the link is down.
    dial.server = None;
    let gone_at = dial.now;
    dial.run();
    assert_eq!(
        dial.events().last(),
        Some(&ClientEvent::LinkDown(LinkDownReason::Timeout))
    );
    let (down_at, _) = dial.client_events.last().unwrap();
    let waited = down_at.saturating_duration_since(gone_at);
    // 4 × 30 s of silence, then Terminate-Requests for Max-Terminate × 3 s.
    assert!(
        waited >= Duration::from_secs(120) && waited <= Duration::from_secs(160),
        "down after {waited:?}"
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
        keepalive: None,
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

const CHAP_MD5_SCRIPT: &str = "
auth: chap-md5
users:
  alice: secret
";

const MSCHAPV2_SCRIPT: &str = "
auth: mschapv2
retries: 1
users:
  alice: secret
  CORP\\bob: {password: pw, fail: 1}
  carol: {password: old, outcome: expired}
  dave: {password: pw, outcome: disabled}
  erin: {password: pw, outcome: no-dial-in}
  frank: {password: pw, outcome: logon-hours}
";

fn network_up() -> ClientEvent {
    ClientEvent::NetworkUp {
        local: Ipv4Addr::new(10, 0, 0, 2),
        peer: Some(Ipv4Addr::new(10, 0, 0, 1)),
        dns: vec![],
    }
}

fn welcome() -> ClientEvent {
    ClientEvent::AuthSucceeded {
        message: "Welcome".into(),
    }
}

fn dial_as(script: &str, user: &str, password: &str) -> Dial {
    let mut dial = Dial::new(Some(script), password);
    dial.client = Client::new(ClientConfig {
        user: user.into(),
        password: password.into(),
        entropy: ras_ppp::random::Entropy::Seed(7),
        keepalive: None,
        ..ClientConfig::default()
    });
    dial
}

#[test]
fn chap_md5_and_ms_chap_v2_dials_bring_the_network_up() {
    for (script, auth) in [
        (CHAP_MD5_SCRIPT, AuthProtocol::ChapMd5),
        (MSCHAPV2_SCRIPT, AuthProtocol::MsChapV2),
    ] {
        let mut dial = dial_as(script, "alice", "secret");
        dial.dial();
        assert_eq!(
            dial.events(),
            [
                ClientEvent::LinkEstablished { auth: Some(auth) },
                welcome(),
                network_up()
            ],
            "{auth}"
        );
        let (up_at, _) = dial.client_events.last().unwrap();
        assert!(*up_at < Instant::ZERO + Duration::from_secs(1), "{up_at}");
    }
}

#[test]
fn chap_md5_wrong_password_is_a_plain_failure() {
    let mut dial = dial_as(CHAP_MD5_SCRIPT, "alice", "guess");
    dial.dial();
    assert_eq!(
        dial.events()[1..],
        [
            ClientEvent::AuthFailed {
                message: "Authentication failure".into(),
                error: None,
                retry_allowed: false,
            },
            ClientEvent::LinkDown(LinkDownReason::AuthFailed),
        ]
    );
}

#[test]
fn ms_chap_v2_retry_with_the_right_password() {
    let mut dial = dial_as(MSCHAPV2_SCRIPT, "alice", "guess");
    dial.respond = Box::new(|client, now, event| {
        if let ClientEvent::AuthFailed {
            retry_allowed: true,
            ..
        } = event
        {
            client.retry_authentication(now, "alice", "secret").unwrap();
        }
    });
    dial.dial();
    assert_eq!(
        dial.events()[1..],
        [
            ClientEvent::AuthFailed {
                message: "Authentication failure".into(),
                error: Some(691),
                retry_allowed: true,
            },
            welcome(),
            network_up()
        ]
    );
}

#[test]
fn ms_chap_v2_retries_run_out() {
    let mut dial = dial_as(MSCHAPV2_SCRIPT, "alice", "guess");
    dial.respond = Box::new(|client, now, event| {
        if let ClientEvent::AuthFailed {
            retry_allowed: true,
            ..
        } = event
        {
            client.retry_authentication(now, "alice", "wrong").unwrap();
        }
    });
    dial.dial();
    assert_eq!(
        dial.events()[1..],
        [
            ClientEvent::AuthFailed {
                message: "Authentication failure".into(),
                error: Some(691),
                retry_allowed: true,
            },
            // `retries: 1`: the second refusal is final (R=0).
            ClientEvent::AuthFailed {
                message: "Authentication failure".into(),
                error: Some(691),
                retry_allowed: false,
            },
            ClientEvent::LinkDown(LinkDownReason::AuthFailed),
        ]
    );
}

#[test]
fn ms_chap_v2_scripted_refusals_then_acceptance_with_a_domain() {
    // `fail: 1` refuses the first attempt even with the right password; the account is
    // found under the name with its domain.
    let mut dial = dial_as(MSCHAPV2_SCRIPT, "CORP\\bob", "pw");
    dial.respond = Box::new(|client, now, event| {
        if let ClientEvent::AuthFailed {
            retry_allowed: true,
            ..
        } = event
        {
            client.retry_authentication(now, "CORP\\bob", "pw").unwrap();
        }
    });
    dial.dial();
    assert!(matches!(
        dial.events()[1],
        ClientEvent::AuthFailed {
            error: Some(691),
            retry_allowed: true,
            ..
        }
    ));
    assert_eq!(dial.events()[2..], [welcome(), network_up()]);
}

#[test]
fn ms_chap_v2_expired_password_is_changed_on_the_server() {
    let mut dial = dial_as(MSCHAPV2_SCRIPT, "carol", "old");
    dial.respond = Box::new(|client, now, event| {
        if let ClientEvent::AuthFailed {
            error: Some(648), ..
        } = event
        {
            client.change_password(now, "brand-new").unwrap();
        }
    });
    dial.dial();
    assert_eq!(
        dial.events()[1..],
        [
            ClientEvent::AuthFailed {
                message: "Password expired".into(),
                error: Some(648),
                retry_allowed: false,
            },
            welcome(),
            network_up()
        ]
    );
    let account = dial.server.as_ref().unwrap().account("carol").unwrap();
    assert_eq!(account.password, "brand-new");
}

#[test]
fn ms_chap_v2_account_outcomes_end_the_link_with_their_code() {
    for (user, error, message) in [
        ("dave", 647, "Account disabled"),
        ("erin", 649, "No dial-in permission"),
        ("frank", 646, "Not permitted to log on at this time"),
    ] {
        let mut dial = dial_as(MSCHAPV2_SCRIPT, user, "pw");
        dial.dial();
        assert_eq!(
            dial.events()[1..],
            [
                ClientEvent::AuthFailed {
                    message: message.into(),
                    error: Some(error),
                    retry_allowed: false,
                },
                ClientEvent::LinkDown(LinkDownReason::AuthFailed),
            ],
            "{user}"
        );
    }
}

#[test]
fn ms_chap_v2_expired_password_under_pap_is_a_plain_failure() {
    let script = "auth: pap\nusers: {alice: {password: secret, outcome: expired}}\n";
    let mut dial = dial_as(script, "alice", "secret");
    dial.dial();
    assert_eq!(
        dial.events()[1..],
        [
            ClientEvent::AuthFailed {
                message: "Password expired".into(),
                error: None,
                retry_allowed: false,
            },
            ClientEvent::LinkDown(LinkDownReason::AuthFailed),
        ]
    );
}

#[test]
fn an_unanswered_retry_invitation_is_hung_up_on() {
    let mut dial = dial_as(MSCHAPV2_SCRIPT, "alice", "guess");
    dial.dial();
    let (failed_at, _) = dial.client_events[1];
    assert_eq!(
        dial.events().last(),
        Some(&ClientEvent::LinkDown(LinkDownReason::PeerTerminated))
    );
    // The server's two minutes of patience (RFC 2759 §6), then Terminate-Request, its Ack
    // and the hang-up.
    let (hung_up_at, _) = dial.server_events[0];
    let waited = hung_up_at.saturating_duration_since(failed_at);
    assert!(
        waited >= Duration::from_secs(120) && waited < Duration::from_secs(121),
        "{waited:?}"
    );
}

#[test]
fn a_wrong_authenticator_response_fails_the_server() {
    let mut dial = dial_as(MSCHAPV2_SCRIPT, "alice", "secret");
    dial.tamper = Box::new(|protocol, information| {
        if protocol != Protocol::CHAP {
            return information;
        }
        match ChapRepr::parse_bytes(&information) {
            Ok(ChapRepr::Success {
                identifier,
                message,
            }) => {
                let mut success = SuccessMessage::parse(&message).unwrap();
                success.authenticator_response.0[7] ^= 0x40;
                ChapRepr::Success {
                    identifier,
                    message: success.to_bytes(),
                }
                .to_bytes()
            }
            _ => information,
        }
    });
    dial.dial();
    assert_eq!(
        dial.events()[1..],
        [ClientEvent::LinkDown(
            LinkDownReason::ServerNotAuthenticated
        )]
    );
}

/// A frame of one of the protocols the machines speak, with random content, so fuzzing
/// reaches past the FCS check into the packet parsers and automata.
const EAP_SCRIPT: &str = "
auth: eap
retries: 1
eap:
  methods: [mschapv2, md5, gtc]
  identity-prompt: \"Name:\"
  notification: \"Maintenance tonight\"
users:
  alice: secret
  carol: {password: old, outcome: expired}
  erin: {password: pw, tokens: [\"314159\", \"271828\"]}
";

/// A client that agrees to EAP only, with `methods`.
fn eap_dial(script: &str, user: &str, password: &str, methods: &[EapMethod]) -> Dial {
    let mut dial = Dial::new(Some(script), password);
    dial.client = Client::new(ClientConfig {
        user: user.into(),
        password: password.into(),
        entropy: ras_engine::ppp::random::Entropy::Seed(7),
        keepalive: None,
        auth_protocols: vec![AuthProtocol::Eap],
        eap: EapPeerConfig {
            methods: methods.to_vec(),
            ..EapPeerConfig::default()
        },
        ..ClientConfig::default()
    });
    dial
}

fn notification() -> ClientEvent {
    ClientEvent::EapNotification {
        message: "Maintenance tonight".into(),
    }
}

#[test]
fn eap_md5_good_and_bad_password() {
    // The client Naks MS-CHAPv2 (RFC 3748 §5.3.1) and the server falls back to MD5.
    let mut dial = eap_dial(EAP_SCRIPT, "alice", "secret", &[EapMethod::Md5]);
    dial.dial();
    assert_eq!(
        dial.events(),
        [
            ClientEvent::LinkEstablished {
                auth: Some(AuthProtocol::Eap)
            },
            notification(),
            ClientEvent::AuthSucceeded {
                message: String::new()
            },
            network_up()
        ]
    );
    let mut dial = eap_dial(EAP_SCRIPT, "alice", "guess", &[EapMethod::Md5]);
    dial.dial();
    assert_eq!(
        dial.events()[2..],
        [
            ClientEvent::AuthFailed {
                message: String::new(),
                error: None,
                retry_allowed: false,
            },
            ClientEvent::LinkDown(LinkDownReason::AuthFailed),
        ]
    );
    assert_eq!(dial.server_events.len(), 1, "the server hung up");
}

#[test]
fn eap_ms_chap_v2_good() {
    let mut dial = eap_dial(EAP_SCRIPT, "alice", "secret", &EapMethod::ALL);
    dial.dial();
    assert_eq!(
        dial.events()[1..],
        [notification(), welcome(), network_up()]
    );
}

#[test]
fn eap_ms_chap_v2_retry() {
    let mut dial = eap_dial(EAP_SCRIPT, "alice", "guess", &[EapMethod::MsChapV2]);
    dial.respond = Box::new(|client, now, event| {
        if let ClientEvent::AuthFailed {
            retry_allowed: true,
            ..
        } = event
        {
            client.retry_authentication(now, "alice", "secret").unwrap();
        }
    });
    dial.dial();
    assert_eq!(
        dial.events()[2..],
        [
            ClientEvent::AuthFailed {
                message: "Authentication failure".into(),
                error: Some(691),
                retry_allowed: true,
            },
            welcome(),
            network_up()
        ]
    );
}

#[test]
fn eap_ms_chap_v2_expired_password_is_changed() {
    let mut dial = eap_dial(EAP_SCRIPT, "carol", "old", &[EapMethod::MsChapV2]);
    dial.respond = Box::new(|client, now, event| {
        if let ClientEvent::AuthFailed {
            error: Some(648), ..
        } = event
        {
            client.change_password(now, "brand-new").unwrap();
        }
    });
    dial.dial();
    assert_eq!(
        dial.events()[2..],
        [
            ClientEvent::AuthFailed {
                message: "Password expired".into(),
                error: Some(648),
                retry_allowed: false,
            },
            welcome(),
            network_up()
        ]
    );
    let account = dial.server.as_ref().unwrap().account("carol").unwrap();
    assert_eq!(account.password, "brand-new");
}

#[test]
fn eap_ms_chap_v2_without_a_password_asks_for_credentials() {
    let mut dial = eap_dial(EAP_SCRIPT, "", "", &[EapMethod::MsChapV2]);
    dial.respond = Box::new(|client, now, event| match event {
        ClientEvent::EapPrompt(EapPrompt::Identity { .. }) => client
            .eap_answer(now, EapAnswer::Identity("alice".into()))
            .unwrap(),
        ClientEvent::EapPrompt(EapPrompt::Credentials { .. }) => client
            .eap_answer(
                now,
                EapAnswer::Credentials {
                    user: "alice".into(),
                    password: "secret".into(),
                },
            )
            .unwrap(),
        _ => {}
    });
    dial.dial();
    assert_eq!(
        dial.events()[1..],
        [
            ClientEvent::EapPrompt(EapPrompt::Identity {
                message: "Name:".into()
            }),
            notification(),
            ClientEvent::EapPrompt(EapPrompt::Credentials {
                method: EapMethod::MsChapV2
            }),
            welcome(),
            network_up()
        ]
    );
}

/// A GTC dial as erin answering each token prompt from `tokens`, in turn.
fn gtc_dial(tokens: &'static [&'static str]) -> Dial {
    let mut dial = eap_dial(EAP_SCRIPT, "erin", "pw", &[EapMethod::Gtc]);
    let mut tokens = tokens.iter();
    dial.respond = Box::new(move |client, now, event| {
        if let ClientEvent::EapPrompt(EapPrompt::Token { message }) = event {
            assert_eq!(message, "Token:");
            let token = tokens.next().unwrap();
            client
                .eap_answer(now, EapAnswer::Token((*token).into()))
                .unwrap();
        }
    });
    dial
}

#[test]
fn eap_gtc_tokens_are_one_time() {
    let mut dial = gtc_dial(&["271828"]);
    dial.dial();
    assert_eq!(dial.events().last(), Some(&network_up()));
    assert_eq!(
        dial.server
            .as_ref()
            .unwrap()
            .account("erin")
            .unwrap()
            .tokens,
        ["314159"],
        "the token is spent"
    );
    // The same token again, on a server that has spent it.
    let spent =
        "auth: eap\neap: {methods: [gtc]}\nusers:\n  erin: {password: pw, tokens: [\"314159\"]}\n";
    let mut dial = gtc_dial(&["271828"]);
    dial.server = Some(Server::new(Script::from_yaml(spent).unwrap(), 7));
    dial.dial();
    assert_eq!(
        dial.events()[2..],
        [
            ClientEvent::AuthFailed {
                message: String::new(),
                error: None,
                retry_allowed: false,
            },
            ClientEvent::LinkDown(LinkDownReason::AuthFailed),
        ]
    );
}

#[test]
fn eap_gtc_unanswered_token_prompt_is_hung_up_on() {
    let mut dial = eap_dial(EAP_SCRIPT, "erin", "pw", &[EapMethod::Gtc]);
    dial.dial();
    assert!(matches!(
        dial.events()[2],
        ClientEvent::EapPrompt(EapPrompt::Token { .. })
    ));
    assert_eq!(
        dial.events().last(),
        Some(&ClientEvent::LinkDown(LinkDownReason::PeerTerminated))
    );
}

fn frames() -> impl Strategy<Value = Vec<u8>> {
    let protocol = prop_oneof![
        Just(0xC021u16),
        Just(0xC023),
        Just(0xC223),
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
        script in prop_oneof![Just(PAP_SCRIPT), Just(MSCHAPV2_SCRIPT), Just(CHAP_MD5_SCRIPT)],
    ) {
        let mut client = Client::new(ClientConfig::default());
        let mut server = Server::new(Script::from_yaml(script).unwrap(), 3);
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

/// MS-CBCP end to end at the PPP level: the client asks for Callback operation 6, the
/// server offers a caller-set callback after PAP, takes the client's number, acknowledges,
/// terminates and asks the network to call back, then hangs up; the delay is the larger of
/// the two sides' (MS-CBCP §2.2.4.2).
#[test]
fn a_caller_set_callback_is_agreed_and_asked_of_the_network() {
    let mut dial = Dial::with_client(
        Some("users:\n  alice: secret\ncallback: caller-set\ncallback-delay: 3\n"),
        ClientConfig {
            user: "alice".into(),
            password: "secret".into(),
            entropy: ras_ppp::random::Entropy::Seed(7),
            keepalive: None,
            callback: Some(ras_ppp::cbcp::CbcpClientConfig {
                callback_number: Some("5550100".into()),
                delay: 5,
                ..ras_ppp::cbcp::CbcpClientConfig::default()
            }),
            ..ClientConfig::default()
        },
    );
    dial.dial();
    assert_eq!(
        dial.events(),
        [
            ClientEvent::LinkEstablished {
                auth: Some(AuthProtocol::Pap)
            },
            welcome(),
            ClientEvent::CallbackOffered {
                caller_sets_number: true,
                number_wanted: false
            },
            ClientEvent::CallbackAgreed {
                number: Some("5550100".into()),
                delay: Duration::from_secs(5)
            },
            ClientEvent::LinkDown(LinkDownReason::PeerTerminated),
        ]
    );
    let server_events: Vec<PeerEvent> = dial.server_events.iter().map(|(_, e)| e.clone()).collect();
    assert_eq!(
        server_events,
        [
            PeerEvent::CallBack {
                number: "5550100".into(),
                after: Duration::from_secs(5)
            },
            PeerEvent::HangUp
        ]
    );
}

/// "*" (the application gives the number): the client holds the server's Request until it
/// has one; an empty answer declines, and the link goes on to IPCP on the same call.
#[test]
fn a_held_offer_declined_goes_on_to_the_network() {
    let mut dial = Dial::with_client(
        Some("users:\n  alice: secret\ncallback: caller-set\n"),
        ClientConfig {
            user: "alice".into(),
            password: "secret".into(),
            entropy: ras_ppp::random::Entropy::Seed(7),
            keepalive: None,
            callback: Some(ras_ppp::cbcp::CbcpClientConfig {
                ask_for_number: true,
                ..ras_ppp::cbcp::CbcpClientConfig::default()
            }),
            ..ClientConfig::default()
        },
    );
    dial.respond = Box::new(|client, now, event| {
        if let ClientEvent::CallbackOffered {
            number_wanted: true,
            ..
        } = event
        {
            assert!(client.provide_callback_number(now, None));
        }
    });
    dial.dial();
    let events = dial.events();
    assert!(
        events.contains(&ClientEvent::CallbackOffered {
            caller_sets_number: true,
            number_wanted: true
        }),
        "{events:?}"
    );
    assert!(
        matches!(events.last(), Some(ClientEvent::NetworkUp { .. })),
        "{events:?}"
    );
    assert!(dial.server_events.is_empty(), "{:?}", dial.server_events);
}
