//! Builds the generated part of the seed corpora in `fuzz/corpus/` from real exchanges:
//!
//! - PPP: the engine's client dials the scripted server (PAP, CHAP-MD5, MS-CHAPv2, no
//!   authentication, a wrong password) on a virtual clock; each direction's line bytes seed
//!   the deframer, link and capture targets, and every frame's Information field seeds the
//!   packet target of its protocol;
//! - Hayes: the engine's dialer talks to the simulated modem (connect, busy, no answer,
//!   voice, no dial tone); the modem's answers seed the result and dialer targets, the
//!   dialer's command lines the V.250 and interpreter targets;
//! - YAML: each bundled scenario seeds the scenario target, and its `network:` and
//!   `server:` sections the network and script targets.
//!
//! Run from the workspace root: `cargo run -p fuzz-targets --example seed_corpus`. Files
//! are named by content, so a rerun adds only what changed. Hand-written seeds (the
//! phonebooks of ras-reference §6.5) live beside these and are left alone.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use modem_sim::{Modem, Network};
use ppp_peer_sim::{Script, Server};
use ras_engine::hayes::{Dialer, DialerConfig};
use ras_ppp::cbcp::{
    CallbackPrivilege, CbcpClient, CbcpClientConfig, CbcpServer, CbcpServerConfig,
};
use ras_ppp::hdlc::{Decoder, ReceiveAccm};
use ras_ppp::mp::{Bundle, BundleConfig};
use ras_ppp::wire::Protocol;
use ras_ppp::wire::mp::SequenceFormat;
use ras_ppp::{Client, ClientConfig};
use sansio::{Duration, Instant, Machine};

/// The packet target each protocol's Information fields seed.
const PACKET_CORPORA: &[(Protocol, &str)] = &[
    (Protocol::LCP, "lcp_packet"),
    (Protocol::IPCP, "ipcp_packet"),
    (Protocol::PAP, "pap_packet"),
    (Protocol::CHAP, "chap_decode"),
    (Protocol::CBCP, "cbcp_decode"),
];

/// Server scripts and the password the client offers.
const DIALS: &[(&str, &str)] = &[
    ("auth: pap\nusers: {alice: secret}\n", "secret"),
    ("auth: pap\nusers: {alice: secret}\n", "wrong"),
    ("auth: chap-md5\nusers: {alice: secret}\n", "secret"),
    ("auth: mschapv2\nusers: {alice: secret}\n", "secret"),
    ("auth: mschapv2\nusers: {alice: secret}\n", "wrong"),
    ("auth: none\n", "secret"),
];

/// Numbers of [`NETWORK`], one per way a call can end.
const CALLS: &[&str] = &["5551234", "5550001", "5550002", "5550003"];

const NETWORK: &str = r#"
numbers:
  "5551234": {connect: 33600}
  "5550001": busy
  "5550002": no-answer
  "5550003": voice
"#;

/// A corpus being written: file name (from the content) to content, per target.
#[derive(Default)]
struct Corpora(BTreeMap<&'static str, BTreeMap<String, Vec<u8>>>);

impl Corpora {
    fn add(&mut self, target: &'static str, bytes: Vec<u8>) {
        // FNV-1a names the file after its content, so seeds never collide or duplicate.
        let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |hash, &byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        self.0
            .entry(target)
            .or_default()
            .insert(format!("gen-{hash:016x}"), bytes);
    }

    fn write(&self, root: &Path) -> std::io::Result<()> {
        for (target, seeds) in &self.0 {
            let dir = root.join(target);
            fs::create_dir_all(&dir)?;
            for (name, bytes) in seeds {
                fs::write(dir.join(name), bytes)?;
            }
            println!("{target}: {} generated seeds", seeds.len());
        }
        Ok(())
    }
}

/// One PPP dial to its end (or ten virtual minutes); the bytes each side put on the line.
fn ppp_dial(script: &str, password: &str) -> (Vec<u8>, Vec<u8>) {
    let script = Script::from_yaml(script).expect("the scripts above are valid");
    let mut server = Server::new(script, 7);
    let mut client = Client::new(ClientConfig {
        user: "alice".into(),
        password: password.into(),
        entropy: ras_engine::ppp::random::Entropy::Seed(7),
        keepalive: None,
        ..ClientConfig::default()
    });
    let (mut sent, mut received) = (Vec::new(), Vec::new());
    let mut now = Instant::ZERO;
    client.open(now);
    let end = Instant::ZERO + Duration::from_secs(600);
    while now < end {
        let mut moved = false;
        while let Some(bytes) = client.poll_transmit() {
            server.handle_input(now, &bytes);
            sent.extend_from_slice(&bytes);
            moved = true;
        }
        while let Some(bytes) = server.poll_transmit() {
            client.handle_input(now, &bytes);
            received.extend_from_slice(&bytes);
            moved = true;
        }
        while client.poll_event().is_some() {}
        while server.poll_event().is_some() {}
        if moved {
            continue;
        }
        match [client.poll_timeout(), server.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
        {
            Some(next) => {
                now = next.max(now);
                client.handle_timeout(now);
                server.handle_timeout(now);
            }
            None => break,
        }
    }
    (sent, received)
}

/// A CBCP exchange (MS-CBCP §3): the server offers caller-set callback, the client answers
/// with its number, as the `cbcp_decode` target configures both roles. Every packet, both
/// ways.
fn cbcp_exchange() -> Vec<Vec<u8>> {
    let mut server = CbcpServer::new(CbcpServerConfig {
        privilege: CallbackPrivilege::CallerSet,
        ..CbcpServerConfig::default()
    });
    let mut client = CbcpClient::new(CbcpClientConfig {
        callback_number: Some("5551234".into()),
        ..CbcpClientConfig::default()
    });
    let now = Instant::ZERO;
    server.start(now);
    let mut packets = Vec::new();
    for _ in 0..4 {
        while let Some(packet) = server.poll_packet() {
            client.receive(now, &packet);
            packets.push(packet);
        }
        while let Some(packet) = client.poll_packet() {
            server.receive(&packet);
            packets.push(packet);
        }
    }
    packets
}

/// Multilink fragments of two packets over `links` members in either header format
/// (RFC 1990 §3), laid out as the `mp_reassemble` target reads them: a settings octet, then
/// link, length and fragment for each.
fn mp_fragments(links: u8, format: SequenceFormat) -> Vec<u8> {
    let mut bundle = Bundle::new(BundleConfig {
        transmit_format: format,
        min_fragment: 8,
        ..BundleConfig::default()
    });
    for _ in 0..links {
        bundle.add_link(1500).expect("1500 holds any MP header");
    }
    let short = u8::from(format == SequenceFormat::Short);
    let mut out = vec![short | (links - 1) << 1];
    for packet in [&b"\x00\x21first packet, in pieces"[..], b"\x00\x21second"] {
        for (link, fragment) in bundle.fragment(packet).expect("small packets fit") {
            // The target's bundle numbers its links as this one does.
            out.push(u8::try_from(link.0).unwrap_or(0));
            out.push(u8::try_from(fragment.len()).unwrap_or(u8::MAX));
            out.extend_from_slice(&fragment);
        }
    }
    out
}

/// One Hayes dial to the dialer's verdict: what the dialer sent and what the modem said.
fn hayes_dial(number: &str) -> (Vec<u8>, Vec<u8>) {
    let network = Network::from_yaml(NETWORK).expect("the network above is valid");
    let mut modem = Modem::new(network);
    let mut now = Instant::ZERO;
    let mut dialer = Dialer::new(now, DialerConfig::new(number));
    let (mut commands, mut answers) = (Vec::new(), Vec::new());
    let end = Instant::ZERO + Duration::from_secs(600);
    let mut finished = false;
    while now < end && !finished {
        let mut moved = false;
        while let Some(bytes) = dialer.poll_transmit() {
            modem.handle_input(now, &bytes);
            commands.extend_from_slice(&bytes);
            moved = true;
        }
        while let Some(bytes) = modem.poll_transmit() {
            dialer.handle_input(now, &bytes);
            answers.extend_from_slice(&bytes);
            moved = true;
        }
        finished = dialer.poll_event().is_some();
        while modem.poll_event().is_some() {}
        if moved || finished {
            continue;
        }
        match [dialer.poll_timeout(), modem.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
        {
            Some(next) => {
                now = next.max(now);
                dialer.handle_timeout(now);
                modem.handle_timeout(now);
            }
            None => break,
        }
    }
    (commands, answers)
}

/// The top-level block `key:` of a scenario, dedented, if it has one.
fn section(scenario: &str, key: &str) -> Option<String> {
    let mut lines = scenario
        .lines()
        .skip_while(|line| *line != format!("{key}:"));
    lines.next()?;
    let body: Vec<&str> = lines
        .take_while(|line| line.is_empty() || line.starts_with(' '))
        .collect();
    let text = body
        .iter()
        .map(|line| line.strip_prefix("  ").unwrap_or(line))
        .collect::<Vec<_>>()
        .join("\n");
    (!text.trim().is_empty()).then(|| text + "\n")
}

fn scenarios(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            scenarios(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "yaml") {
            out.push(path);
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate sits in the workspace")
        .to_path_buf();
    let mut corpora = Corpora::default();

    for (script, password) in DIALS {
        let (sent, received) = ppp_dial(script, password);
        for line in [sent, received] {
            // hdlc_deframe: FCS-16, an empty receive map (what LCP agrees once it is up,
            // RFC 1662 §7.1), reads of 16 octets (0x42 >> 2).
            corpora.add("hdlc_deframe", [&[0x42][..], &line].concat());
            // ppp_link and line_capture: reads of 32 octets.
            corpora.add("ppp_link", [&[32][..], &line].concat());
            corpora.add("line_capture", [&[32][..], &line].concat());
            let mut frames = Vec::new();
            let mut decoder = Decoder::default();
            decoder.set_accm(ReceiveAccm(0));
            decoder.decode(&line, &mut frames);
            for frame in frames {
                if let Some((_, target)) = PACKET_CORPORA
                    .iter()
                    .find(|(protocol, _)| *protocol == frame.protocol)
                {
                    corpora.add(target, frame.information);
                }
            }
        }
    }

    for packet in cbcp_exchange() {
        corpora.add("cbcp_decode", packet);
    }
    for links in 1..=3 {
        for format in [SequenceFormat::Long, SequenceFormat::Short] {
            corpora.add("mp_reassemble", mp_fragments(links, format));
        }
    }

    for number in CALLS {
        let (commands, answers) = hayes_dial(number);
        corpora.add("hayes_result", answers.clone());
        corpora.add("hayes_dialer", answers);
        // v250_command: S3 = CR and S5 = BS, as after reset (V.250 §6.2.1, §6.2.3).
        corpora.add("v250_command", [&b"\r\x08"[..], &commands].concat());
        // modem_interpreter: one chunk per command line, 100 ms apart.
        let mut chunks = Vec::new();
        for line in commands.split_inclusive(|&byte| byte == b'\r') {
            for piece in line.chunks(usize::from(u8::MAX)) {
                chunks.push(1);
                chunks.push(u8::try_from(piece.len()).unwrap_or(u8::MAX));
                chunks.extend_from_slice(piece);
            }
        }
        corpora.add("modem_interpreter", chunks);
    }

    let mut files = Vec::new();
    scenarios(&root.join("scenarios"), &mut files)?;
    files.sort();
    for file in files {
        let text = fs::read_to_string(&file)?;
        if let Some(network) = section(&text, "network") {
            corpora.add("network_yaml", network.into_bytes());
        }
        if let Some(server) = section(&text, "server") {
            corpora.add("script_yaml", server.into_bytes());
        }
        corpora.add("scenario_parse", text.into_bytes());
    }

    corpora.write(&root.join("fuzz/corpus"))
}
