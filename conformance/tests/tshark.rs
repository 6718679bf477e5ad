//! Interop: Wireshark's `tshark` (Debian package `tshark`) reads the captures the harness
//! writes, which nobody who wrote them can vouch for by themselves (DESIGN §8).
//!
//! A whole negotiation (LCP, authentication, IPCP, termination) runs through the simulated
//! driver with the capture on; tshark must dissect every frame as the protocol it is,
//! raise no malformed-packet or expert warning, and read each frame's direction as the
//! pseudo-header octet says; a callback capture shows CBCP and both calls. Without tshark
//! the tests are skipped loudly, except under `CI=true`, where they fail.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use conformance::run::{Driver, RunOptions, run_with};
use conformance::scenario::load;
use pcap_file::pcap::PcapReader;

/// Each bundled scenario that authenticates, and the name of tshark's dissector for its
/// authentication protocol. A new authentication protocol is one more line here.
const AUTHENTICATED_DIALS: &[(&str, &str)] = &[
    ("basic/pap-connect", "PPP Password Authentication Protocol"),
    (
        "auth/chap-md5-connect",
        "PPP Challenge Handshake Authentication Protocol",
    ),
    (
        "auth/mschapv2-connect",
        "PPP Challenge Handshake Authentication Protocol",
    ),
    (
        "paused/password-expired-resumed",
        "PPP Challenge Handshake Authentication Protocol",
    ),
];

/// Dissectors every connected dial's capture must show.
const LINK_AND_NETWORK: [&str; 2] = ["PPP Link Control Protocol", "PPP IP Control Protocol"];

/// The scenario's simulated run, captured, written to a file of its own.
fn capture(scenario_name: &str) -> PathBuf {
    let root = conformance::bundled_scenarios();
    let scenario = load(&root, &root.join(format!("{scenario_name}.yaml"))).unwrap();
    let record = run_with(&scenario, Driver::Simulated, RunOptions { capture: true }).unwrap();
    let path = std::env::temp_dir().join(format!(
        "conformance-tshark-{}-{}.pcap",
        std::process::id(),
        scenario_name.replace('/', "__")
    ));
    std::fs::write(&path, record.capture.unwrap()).unwrap();
    path
}

fn tshark(program: &Path, args: &[&str], file: &Path) -> String {
    let output = Command::new(program)
        .arg("-r")
        .arg(file)
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "tshark failed on {}: {}",
        file.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// (direction octet, protocol) of every record, as the capture itself says.
fn records(file: &Path) -> Vec<(u8, u16)> {
    let bytes = std::fs::read(file).unwrap();
    let mut reader = PcapReader::new(&bytes[..]).unwrap();
    let mut records = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let data = packet.unwrap().data;
        assert_eq!(&data[1..3], &[0xFF, 0x03], "every record carries ff 03");
        records.push((data[0], u16::from_be_bytes([data[3], data[4]])));
    }
    records
}

#[test]
fn tshark_decodes_a_whole_negotiation_with_directions() {
    let Some(program) = testkit::required_program("tshark", "tshark") else {
        return;
    };
    for &(scenario, auth_dissector) in AUTHENTICATED_DIALS {
        let file = capture(scenario);

        let verbose = tshark(&program, &["-V"], &file);
        for dissector in LINK_AND_NETWORK.iter().chain([&auth_dissector]) {
            assert!(
                verbose.contains(dissector),
                "{scenario}: tshark shows no `{dissector}`:\n{verbose}"
            );
        }
        for warning in ["Malformed", "Expert Info", "[Unknown"] {
            assert!(
                !verbose.contains(warning),
                "{scenario}: tshark reports `{warning}`:\n{verbose}"
            );
        }

        // Wireshark numbers directions the other way round: its P2P_DIR_SENT is 0 and
        // P2P_DIR_RECV is 1, where the pseudo-header says non-zero for sent.
        let fields = tshark(
            &program,
            &["-T", "fields", "-e", "frame.p2p_dir", "-e", "ppp.protocol"],
            &file,
        );
        let decoded: Vec<(String, String)> = fields
            .lines()
            .map(|line| {
                let (direction, protocol) = line.split_once('\t').unwrap();
                (direction.to_owned(), protocol.to_owned())
            })
            .collect();
        let expected: Vec<(String, String)> = records(&file)
            .into_iter()
            .map(|(direction, protocol)| {
                let p2p_dir = if direction == 0 { "1" } else { "0" };
                (p2p_dir.to_owned(), format!("{protocol:#06x}"))
            })
            .collect();
        assert_eq!(decoded, expected, "{scenario}: tshark reads other frames");
        for direction in ["0", "1"] {
            assert!(
                decoded.iter().any(|(d, _)| d == direction),
                "{scenario}: no frame in direction {direction}"
            );
        }
        let _ = std::fs::remove_file(&file);
    }
}

/// A callback (ras-reference §4.7 B) in one capture: the first call's LCP (asking for
/// Callback operation 6), PAP and CBCP Request, Response (with the number) and Ack, the
/// server's Terminate, then the second call's LCP, PAP and IPCP.
#[test]
fn tshark_decodes_a_callback_with_both_calls() {
    let Some(program) = testkit::required_program("tshark", "tshark") else {
        return;
    };
    let scenario = "callback/caller-set-with-number";
    let file = capture(scenario);
    let verbose = tshark(&program, &["-V"], &file);
    for warning in ["Malformed", "Expert Info", "[Unknown"] {
        assert!(
            !verbose.contains(warning),
            "{scenario}: tshark reports `{warning}`:\n{verbose}"
        );
    }
    assert!(
        verbose.contains("Callback: Location is determined during CBCP negotiation"),
        "{scenario}: no LCP Callback option 6:\n{verbose}"
    );
    let codes: Vec<usize> = [
        "Code: Callback Request (1)",
        "Code: Callback Response (2)",
        "Code: Callback Ack (3)",
    ]
    .iter()
    .map(|code| {
        verbose
            .find(code)
            .unwrap_or_else(|| panic!("{scenario}: no `{code}`:\n{verbose}"))
    })
    .collect();
    assert!(codes.is_sorted(), "{scenario}: CBCP out of order");

    // The server's offer has an empty address (MS-CBCP §2.2.4.1); the number travels in
    // the Response and comes back in the Ack (§2.2.4.3).
    let addresses = tshark(
        &program,
        &[
            "-Y",
            "cbcp.address",
            "-T",
            "fields",
            "-e",
            "frame.p2p_dir",
            "-e",
            "cbcp.address",
        ],
        &file,
    );
    assert_eq!(addresses, "1\t\n0\t555-0100\n1\t555-0100\n", "{scenario}");

    // Both calls: two LCP negotiations and two authentications, the second after the Ack.
    let summary = tshark(&program, &[], &file);
    let lines: Vec<&str> = summary.lines().collect();
    let at = |what: &str| -> Vec<usize> {
        lines
            .iter()
            .enumerate()
            .filter(|(_, line)| line.contains(what))
            .map(|(i, _)| i)
            .collect()
    };
    let authentications = at("Authenticate-Request");
    let acks = at("Callback Ack");
    assert_eq!(authentications.len(), 2, "{scenario}:\n{summary}");
    assert_eq!(acks.len(), 1, "{scenario}:\n{summary}");
    assert!(
        authentications[0] < acks[0] && acks[0] < authentications[1],
        "{scenario}: the callback is not between the calls:\n{summary}"
    );
    assert!(
        at("Termination Request")[0] > acks[0],
        "{scenario}:\n{summary}"
    );
    assert!(
        !at("PPP IPCP").is_empty(),
        "{scenario}: no IPCP on the callback"
    );
    let _ = std::fs::remove_file(&file);
}

/// A multilink dial (ras-reference §4.7 C): on link 1's line both sides' LCP
/// Configure-Requests carry Multilink MRRU and Endpoint Discriminator (RFC 1990 §5.1.1,
/// §5.1.3), which tshark dissects as such, and in both directions, without a warning.
#[test]
fn tshark_decodes_the_multilink_lcp_options() {
    let Some(program) = testkit::required_program("tshark", "tshark") else {
        return;
    };
    let file = capture("multilink/two-links-up");
    let verbose = tshark(&program, &["-V"], &file);
    for warning in ["Malformed", "Expert Info", "[Unknown"] {
        assert!(
            !verbose.contains(warning),
            "tshark reports `{warning}`:\n{verbose}"
        );
    }
    let fields = tshark(
        &program,
        &[
            "-Y",
            "lcp && ppp.code == 1",
            "-T",
            "fields",
            "-e",
            "frame.p2p_dir",
            "-e",
            "lcp.opt.mrru",
            "-e",
            "lcp.opt.ep_disc_class",
        ],
        &file,
    );
    // Each side's Configure-Request: MRRU 1500, class 1 (locally assigned address).
    for direction in ["0", "1"] {
        assert!(
            fields
                .lines()
                .any(|line| line == format!("{direction}\t1500\t1")),
            "no Configure-Request with MRRU and discriminator in direction {direction}:\n{fields}"
        );
    }
    let _ = std::fs::remove_file(&file);
}
