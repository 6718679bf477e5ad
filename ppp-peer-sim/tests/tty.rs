//! The `ppp-peer-sim --tty PATH` binary on the slave side of a PTY this test creates, driven
//! from the master side by the engine's `ras_ppp::Client` in real time (scaled 100×).

#![allow(clippy::unwrap_used)]

mod common;

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration as StdDuration;

use ras_ppp::{AuthProtocol, ClientEvent, LinkDownReason};
use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
use rustix::termios::{self, OptionalActions};

/// A PTY pair: the master (the "modem" side this test drives) and the slave's path, kept
/// open here in raw mode so nothing the client sends before the server opens it is echoed
/// or edited, and so the master does not see the line hang up in between.
struct Pty {
    master: File,
    _slave: File,
    path: PathBuf,
}

fn open_pty() -> Pty {
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let path = PathBuf::from(ptsname(&master, Vec::new()).unwrap().into_string().unwrap());
    let slave = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .unwrap();
    let mut modes = termios::tcgetattr(&slave).unwrap();
    modes.make_raw();
    termios::tcsetattr(&slave, OptionalActions::Now, &modes).unwrap();
    Pty {
        master: File::from(master),
        _slave: slave,
        path,
    }
}

fn script(name: &str, text: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("ppp-peer-sim-tty-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let script = dir.join("server.yaml");
    std::fs::write(&script, text).unwrap();
    (dir, script)
}

/// `ppp-peer-sim --tty` on the PTY's slave, its log lines (stderr) read on a thread.
fn spawn_on(pty: &Pty, script: &Path) -> (Child, mpsc::Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ppp-peer-sim"))
        .args(["--time-scale", &common::TIME_SCALE.to_string()])
        .arg("--tty")
        .arg(&pty.path)
        .arg("--script")
        .arg(script)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let log = BufReader::new(child.stderr.take().unwrap());
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in log.lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    (child, receiver)
}

#[test]
fn dials_the_binary_over_a_pty_and_hangs_up() {
    let (dir, script) = script("dial", "users:\n  alice: secret\ndns: [192.0.2.53]\n");
    let pty = open_pty();
    let (mut child, log) = spawn_on(&pty, &script);
    let from_server = common::read_on_a_thread(pty.master.try_clone().unwrap());
    let mut to_server = pty.master.try_clone().unwrap();
    let events = common::dial_and_hang_up(&mut to_server, &from_server);
    assert_eq!(
        events,
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
            ClientEvent::LinkDown(LinkDownReason::LocalClose),
        ]
    );
    // After acknowledging our Terminate-Request the server hangs up: exit 0, and says so.
    let status = common::wait(&mut child);
    let log: Vec<String> = log.iter().collect();
    assert!(status.success(), "{status}: {log:#?}");
    assert!(log.iter().any(|l| l.contains("hung up")), "{log:#?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_tty_closing_is_the_carrier_lost() {
    // A silent server never hangs up by itself: the line must end the call.
    let (dir, script) = script("carrier", "auth: none\nfaults: [silent]\n");
    let pty = open_pty();
    let (mut child, log) = spawn_on(&pty, &script);
    // Once it has the line open, hang up our side: close the master.
    let serving = log
        .recv_timeout(StdDuration::from_secs(20))
        .expect("ppp-peer-sim logs where it serves");
    assert!(serving.contains("serving PPP on"), "{serving}");
    drop(pty);
    let status = common::wait(&mut child);
    let log: Vec<String> = log.iter().collect();
    assert!(status.success(), "{status}: {log:#?}");
    assert!(log.iter().any(|l| l.contains("carrier lost")), "{log:#?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_missing_or_unusable_tty_is_a_clear_error() {
    let (dir, script) = script("missing", "auth: none\n");
    let run = |path: &str| -> Output {
        Command::new(env!("CARGO_BIN_EXE_ppp-peer-sim"))
            .args(["--tty", path, "--script"])
            .arg(&script)
            .env("RUST_BACKTRACE", "0")
            .output()
            .unwrap()
    };
    let missing = dir.join("no-such-tty");
    let output = run(missing.to_str().unwrap());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cannot open --tty {}", missing.display()))
            && stderr.contains("No such file"),
        "{stderr}"
    );
    // A regular file is no serial line.
    let output = run(script.to_str().unwrap());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("as a serial line"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}
