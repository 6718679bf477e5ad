//! Interop: Wireshark's `tshark` (Debian package `tshark`) dissects EAP dials (RFC 3748 over
//! PPP, protocol 0xC227) between the engine's `ras_ppp::Client` and the scripted `Server`,
//! captured by `ras_ppp::Capture`: EAP-MD5, EAP-MSCHAPv2 (draft-kamath) and its
//! Change-Password exchange after an expired password, each frame as the protocol it is,
//! no malformed packet and no expert warning. Without tshark the test is skipped loudly,
//! except under `CI=true`, where it fails.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use ras_ppp::{AuthProtocol, Capture, Client, ClientConfig, ClientEvent, EapMethod, EapPeerConfig};

mod sim;

use sim::Line;

const SCRIPT: &str = "
auth: eap
eap: {identity-prompt: \"Name:\", notification: \"Hello\"}
users:
  alice: secret
  carol: {password: old, outcome: expired}
";

/// Dial as `user` with EAP `method` until the network is up, capturing the line; the pcap
/// bytes. An expired password is changed to a new one on the way.
fn captured_dial(method: EapMethod, user: &str, password: &str) -> Vec<u8> {
    let mut client = Client::new(ClientConfig {
        user: user.into(),
        password: password.into(),
        auth_protocols: vec![AuthProtocol::Eap],
        eap: EapPeerConfig {
            methods: vec![method],
            ..EapPeerConfig::default()
        },
        keepalive: None,
        ..ClientConfig::default()
    });
    let mut line = Line::new(SCRIPT);
    line.capture = Some(Capture::new(Vec::new()).unwrap());
    client.open(line.now);
    let events = line.run(&mut client, |client, now, event| match event {
        ClientEvent::NetworkUp { .. } => true,
        ClientEvent::AuthFailed {
            error: Some(648), ..
        } => {
            client.change_password(now, "brand-new").unwrap();
            false
        }
        _ => false,
    });
    assert!(
        matches!(events.last(), Some(ClientEvent::NetworkUp { .. })),
        "{events:?}"
    );
    line.capture.take().unwrap().into_inner()
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

fn write(name: &str, bytes: &[u8]) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "ppp-peer-sim-tshark-{}-{name}.pcap",
        std::process::id()
    ));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn tshark_decodes_eap_md5_and_eap_ms_chap_v2_dials() {
    const CHALLENGE_RESPONSE_SUCCESS: [&str; 4] = [
        "EAP-MS-CHAP-v2 OpCode: Challenge (1)",
        "EAP-MS-CHAP-v2 OpCode: Response (2)",
        "EAP-MS-CHAP-v2 OpCode: Success (3)",
        "EAP-MS-CHAP-v2 NT-Response",
    ];
    let Some(program) = testkit::required_program("tshark", "tshark") else {
        return;
    };
    // What tshark must show of each method, in Wireshark's words (it calls type 26
    // "MS-Authentication EAP" and dissects the draft's OpCodes under it).
    for (method, user, password, name, shows) in [
        (
            EapMethod::Md5,
            "alice",
            "secret",
            "md5",
            &["MD5-Challenge EAP (EAP-MD5-CHALLENGE) (4)"][..],
        ),
        (
            EapMethod::MsChapV2,
            "alice",
            "secret",
            "mschapv2",
            &CHALLENGE_RESPONSE_SUCCESS[..],
        ),
        (
            EapMethod::MsChapV2,
            "carol",
            "old",
            "mschapv2-change-password",
            &[
                "EAP-MS-CHAP-v2 OpCode: Failure (4)",
                "EAP-MS-CHAP-v2 OpCode: Change-Password (7)",
                "EAP-MS-CHAP-v2 OpCode: Success (3)",
            ][..],
        ),
    ] {
        let file = write(name, &captured_dial(method, user, password));
        let verbose = tshark(&program, &["-V"], &file);
        for dissector in [
            "PPP Link Control Protocol",
            "Extensible Authentication Protocol",
            "PPP IP Control Protocol",
            "Identity (1)",
            "Notification (2)",
        ]
        .iter()
        .chain(shows)
        {
            assert!(
                verbose.contains(dissector),
                "{name}: tshark shows no `{dissector}`:\n{verbose}"
            );
        }
        for warning in ["Malformed", "[Unknown"] {
            assert!(
                !verbose.contains(warning),
                "{name}: tshark reports `{warning}`:\n{verbose}"
            );
        }
        // Wireshark marks every EAP-MD5 Request with a Security-group warning (MD5 is open
        // to a man in the middle): advice about the method, not about our bytes. Any other
        // expert note is a fault.
        for line in verbose.lines().filter(|line| line.contains("[Expert Info")) {
            assert!(
                line.contains("(Warning/Security): Vulnerable to MITM attacks"),
                "{name}: tshark reports `{line}`:\n{verbose}"
            );
        }
        // Every EAP frame is one tshark reads as EAP, with the Code and Length we sent.
        let fields = tshark(
            &program,
            &[
                "-Y", "eap", "-T", "fields", "-e", "eap.code", "-e", "eap.len",
            ],
            &file,
        );
        let codes: Vec<&str> = fields
            .lines()
            .filter_map(|l| l.split('\t').next())
            .collect();
        assert!(
            codes.contains(&"1") && codes.contains(&"2") && codes.contains(&"3"),
            "{name}: {fields}"
        );
        let _ = std::fs::remove_file(&file);
    }
}
