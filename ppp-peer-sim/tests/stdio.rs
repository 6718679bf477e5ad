//! The `ppp-peer-sim --stdio` binary, driven by the engine's `ras_ppp::Client` in real time
//! (scaled 100× so the dial takes milliseconds).

#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration as StdDuration;

use ras_ppp::{Client, ClientConfig, ClientEvent, LinkDownReason};
use sansio::{Machine, RealClock, TimeScale};

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
        .args(["--stdio", "--time-scale", "0.01", "--script"])
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut to_server = child.stdin.take().unwrap();
    let mut from_server = child.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(n) = from_server.read(&mut buffer) {
            if n == 0 || sender.send(buffer[..n].to_vec()).is_err() {
                break;
            }
        }
    });

    let scale = TimeScale::new(0.01).unwrap();
    let clock = RealClock::start(scale);
    let mut client = Client::new(ClientConfig {
        user: "alice".into(),
        password: "secret".into(),
        magic_seed: 99,
        ..ClientConfig::default()
    });
    client.open(clock.now());
    let mut events = Vec::new();
    let mut closed = false;
    let give_up = std::time::Instant::now() + StdDuration::from_secs(20);
    while !matches!(events.last(), Some(ClientEvent::LinkDown(_))) {
        assert!(
            std::time::Instant::now() < give_up,
            "no LinkDown; events so far: {events:?}"
        );
        while let Some(bytes) = client.poll_transmit() {
            to_server.write_all(&bytes).unwrap();
        }
        to_server.flush().unwrap();
        while let Some(event) = client.poll_event() {
            if matches!(event, ClientEvent::NetworkUp { .. }) && !closed {
                closed = true;
                client.close(clock.now());
            }
            events.push(event);
        }
        let wait = client
            .poll_timeout()
            .map(|deadline| {
                clock
                    .real_deadline(deadline)
                    .saturating_duration_since(std::time::Instant::now())
            })
            .unwrap_or(StdDuration::from_millis(50));
        match receiver.recv_timeout(wait) {
            Ok(bytes) => client.handle_input(clock.now(), &bytes),
            Err(_) => client.handle_timeout(clock.now()),
        }
    }
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
    let status = child.wait().unwrap();
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
        stderr.contains("line 2, column 10") && stderr.contains("only MS-CHAPv2"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
