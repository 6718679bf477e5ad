//! The `ppp-peer-sim --stdio` binary, driven by the engine's `ras_ppp::Client` in real time
//! (scaled 100× so the dial takes milliseconds).

#![allow(clippy::unwrap_used)]

mod common;

use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

use ras_ppp::{ClientEvent, LinkDownReason};

#[test]
fn dials_the_binary_over_stdio_and_hangs_up() {
    let dir = std::env::temp_dir().join(format!("ppp-peer-sim-stdio-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("server.yaml");
    std::fs::write(
        &script,
        "users:\n  alice: secret\ndns: [192.0.2.53, 192.0.2.54]\n",
    )
    .unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_ppp-peer-sim"))
        .args(["--stdio", "--time-scale", &common::TIME_SCALE.to_string()])
        .arg("--script")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut to_server = child.stdin.take().unwrap();
    let from_server = common::read_on_a_thread(child.stdout.take().unwrap());
    let events = common::dial_and_hang_up(&mut to_server, &from_server);
    assert_eq!(
        events,
        [
            ClientEvent::LinkEstablished {
                auth: Some(ras_ppp::AuthProtocol::Pap)
            },
            ClientEvent::AuthSucceeded {
                message: "Welcome".into()
            },
            ClientEvent::NetworkUp {
                local: Ipv4Addr::new(10, 0, 0, 2),
                peer: Some(Ipv4Addr::new(10, 0, 0, 1)),
                dns: vec![Ipv4Addr::new(192, 0, 2, 53), Ipv4Addr::new(192, 0, 2, 54)],
            },
            ClientEvent::LinkDown(LinkDownReason::LocalClose),
        ]
    );
    // The server hangs up (exits 0) after acknowledging our Terminate-Request.
    let status = common::wait(&mut child);
    assert!(status.success(), "{status}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_script_is_reported_with_its_position() {
    let dir = std::env::temp_dir().join(format!("ppp-peer-sim-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("bad.yaml");
    std::fs::write(&script, "users: {a: b}\nretries: 1\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_ppp-peer-sim"))
        .args(["--stdio", "--script"])
        .arg(&script)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.yaml:2:10: ") && stderr.contains("only MS-CHAPv2"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Issue 16 #1: a factor outside the documented range is refused with the range (and a
/// negative one is a value, not an unknown option) instead of panicking in the clock.
#[test]
fn a_time_scale_out_of_range_names_the_range() {
    for bad in ["1e-30", "-1", "0"] {
        let output = Command::new(env!("CARGO_BIN_EXE_ppp-peer-sim"))
            .args([
                "--stdio",
                "--script",
                "/nonexistent.yaml",
                "--time-scale",
                bad,
            ])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("from 0.0001 to 1000"), "{bad}: {stderr}");
    }
}

/// Issue 16 #2: with stderr going to a reader that has gone, the log is lost but the
/// documented status stays: 0 when the line closes, 1 for a script it cannot read.
#[test]
fn a_closed_stderr_keeps_the_exit_status() {
    let dir = std::env::temp_dir().join(format!("ppp-peer-sim-epipe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("server.yaml");
    std::fs::write(&script, "users:\n  alice: secret\n").unwrap();
    for (script, expected) in [
        (script.as_path(), 0),
        (dir.join("missing.yaml").as_path(), 1),
    ] {
        let status = Command::new(env!("CARGO_BIN_EXE_ppp-peer-sim"))
            .arg("--stdio")
            .arg("--script")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(testkit::reader_gone())
            .stderr(testkit::reader_gone())
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(expected), "{}", script.display());
    }
}

/// Issue 16 #15: a log that goes to a file or pipe carries no ANSI colour codes.
#[test]
fn no_colours_when_stderr_is_not_a_terminal() {
    let dir = std::env::temp_dir().join(format!("ppp-peer-sim-ansi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("server.yaml");
    std::fs::write(&script, "users:\n  alice: secret\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_ppp-peer-sim"))
        .arg("--stdio")
        .arg("--script")
        .arg(&script)
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("serving PPP on stdio"), "{log}");
    assert!(!log.contains('\u{1b}'), "{log:?}");
}
