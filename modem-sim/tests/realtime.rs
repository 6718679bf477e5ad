//! The modem on a real PTY, opened by path like a serial port.

#![allow(clippy::unwrap_used)]

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use modem_sim::peer::LineEcho;
use modem_sim::{IncomingCall, Network, PeerFactory, PeerSpec, spawn_pty};
use rustix::termios::{self, OptionalActions, SpecialCodeIndex};
use sansio::{LinePeer, TimeScale};

/// Every read in this test gives up after this long, so a broken modem fails, not hangs.
const PATIENCE: Duration = Duration::from_secs(10);

/// Open the slave by path as a dialer would, in raw mode, with reads that return after
/// 0.1 s even when nothing came (VMIN 0, VTIME 1).
fn open_port(path: &std::path::Path) -> File {
    let port = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    let mut modes = termios::tcgetattr(&port).unwrap();
    modes.make_raw();
    modes.special_codes[SpecialCodeIndex::VMIN] = 0;
    modes.special_codes[SpecialCodeIndex::VTIME] = 1;
    termios::tcsetattr(&port, OptionalActions::Now, &modes).unwrap();
    port
}

/// Read until `expected` has arrived; returns everything read.
fn read_until(port: &mut File, expected: &str) -> String {
    let started = Instant::now();
    let mut seen = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&seen).contains(expected) {
        assert!(
            started.elapsed() < PATIENCE,
            "waited for {expected:?}, got {:?}",
            String::from_utf8_lossy(&seen)
        );
        let n = port.read(&mut buf).unwrap();
        seen.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[test]
fn dials_over_a_real_pty() {
    let network =
        Network::from_yaml("numbers:\n  \"5551234\": {connect: 33600, peer: builtin}\n").unwrap();
    let peers: PeerFactory = Box::new(|_call| Ok(Box::new(LineEcho::default()) as LinePeer));
    let modem = spawn_pty(network, peers, TimeScale::new(0.01).unwrap()).unwrap();
    assert!(
        modem.path().starts_with("/dev/pts"),
        "{}",
        modem.path().display()
    );

    let mut port = open_port(modem.path());
    port.write_all(b"ATZ\r").unwrap();
    assert!(read_until(&mut port, "\r\nOK\r\n").starts_with("ATZ\r"));

    port.write_all(b"ATDT5551234\r").unwrap();
    let dial_started = Instant::now();
    read_until(&mut port, "\r\nCONNECT 33600\r\n");
    // 6 s of virtual time at 0.01 is 60 ms; allow for a loaded machine.
    assert!(dial_started.elapsed() < Duration::from_secs(5));

    // Online: the echo peer sends data back through the call.
    port.write_all(b"\x7e\xff\x03hello\x7e").unwrap();
    read_until(&mut port, "hello");

    // Closing the port drops DTR: the call ends, and a new open finds command state with
    // nothing stale waiting (the echo of this goes unread).
    port.write_all(b"stale").unwrap();
    std::thread::sleep(Duration::from_millis(100));
    drop(port);
    std::thread::sleep(Duration::from_millis(100));
    let mut port = open_port(modem.path());
    port.write_all(b"AT\r").unwrap();
    assert_eq!(read_until(&mut port, "\r\nOK\r\n"), "AT\r\r\nOK\r\n");

    modem.shutdown().unwrap();
}

#[test]
fn an_incoming_call_rings_and_ata_connects() {
    let peers: PeerFactory = Box::new(|_call| Ok(Box::new(LineEcho::default()) as LinePeer));
    let modem = spawn_pty(Network::default(), peers, TimeScale::new(0.01).unwrap()).unwrap();
    let mut port = open_port(modem.path());
    port.write_all(b"ATE0\r").unwrap();
    read_until(&mut port, "\r\nOK\r\n");

    modem.call_in(IncomingCall {
        number: "5550100".into(),
        speed: 28800,
        peer: PeerSpec::Builtin,
    });
    // The first RING at once, the next one a (scaled) 6 s cadence later.
    assert_eq!(read_until(&mut port, "\r\nRING\r\n"), "\r\nRING\r\n");
    read_until(&mut port, "\r\nRING\r\n");
    port.write_all(b"ATA\r").unwrap();
    read_until(&mut port, "\r\nCONNECT 28800\r\n");
    port.write_all(b"through the call").unwrap();
    read_until(&mut port, "through the call");
    modem.shutdown().unwrap();
}

#[test]
fn an_exec_peer_is_a_spawned_process() {
    // `cat` is the simplest far end there is: it sends back what it gets.
    let network =
        Network::from_yaml("numbers:\n  \"1\": {connect: 9600, exec: \"cat\"}\n").unwrap();
    let peers: PeerFactory = Box::new(|_call| Err("only exec peers here".into()));
    let modem = spawn_pty(network, peers, TimeScale::new(0.01).unwrap()).unwrap();
    let mut port = open_port(modem.path());
    port.write_all(b"ATE0D1\r").unwrap();
    read_until(&mut port, "\r\nCONNECT 9600\r\n");
    port.write_all(b"via cat").unwrap();
    read_until(&mut port, "via cat");
    modem.shutdown().unwrap();
}

#[test]
fn a_tcp_peer_is_a_connection() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        stream.write_all(b"hello from tcp").unwrap();
        // Closing the connection is the far end hanging up.
    });
    let network = Network::from_yaml(&format!(
        "numbers:\n  \"1\": {{connect: 9600, tcp: \"{address}\"}}\n"
    ))
    .unwrap();
    let peers: PeerFactory = Box::new(|_call| Err("only tcp peers here".into()));
    let modem = spawn_pty(network, peers, TimeScale::new(0.01).unwrap()).unwrap();
    let mut port = open_port(modem.path());
    port.write_all(b"ATE0D1\r").unwrap();
    read_until(&mut port, "hello from tcp");
    read_until(&mut port, "\r\nNO CARRIER\r\n");
    server.join().unwrap();
    modem.shutdown().unwrap();
}

/// A far end that, as soon as the caller speaks, asks the network to call `number` back
/// and hangs up (what a RAS server does once a callback is agreed).
struct CallsBack {
    number: &'static str,
    events: std::collections::VecDeque<sansio::PeerEvent>,
    asked: bool,
}

impl sansio::Machine for CallsBack {
    type Event = sansio::PeerEvent;

    fn handle_input(&mut self, _now: sansio::Instant, _bytes: &[u8]) {
        if !std::mem::replace(&mut self.asked, true) {
            self.events.push_back(sansio::PeerEvent::CallBack {
                number: self.number.to_owned(),
                after: sansio::Duration::from_secs(2),
            });
            self.events.push_back(sansio::PeerEvent::HangUp);
        }
    }

    fn handle_timeout(&mut self, _now: sansio::Instant) {}

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        None
    }

    fn poll_event(&mut self) -> Option<sansio::PeerEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<sansio::Instant> {
        None
    }
}

#[test]
fn a_callback_rings_the_modem_that_owns_the_number() {
    let network = Network::from_yaml(
        "modems: [\"5550100\", \"5550101\"]\nnumbers:\n  \"5551234\": {connect: 33600, peer: builtin}\n",
    )
    .unwrap();
    let exchange = modem_sim::Exchange::default();
    let scale = TimeScale::new(0.01).unwrap();
    let caller: PeerFactory = Box::new(|_call| {
        Ok(Box::new(CallsBack {
            number: "555-0101",
            events: Default::default(),
            asked: false,
        }) as LinePeer)
    });
    let callee: PeerFactory = Box::new(|_call| Ok(Box::new(LineEcho::default()) as LinePeer));
    let first = modem_sim::spawn_pty_on(network.clone(), caller, scale, &exchange, 0).unwrap();
    let second = modem_sim::spawn_pty_on(network, callee, scale, &exchange, 1).unwrap();
    let mut dialer = open_port(first.path());
    let mut answerer = open_port(second.path());
    answerer.write_all(b"ATE0S0=1\r").unwrap();
    read_until(&mut answerer, "\r\nOK\r\n");

    dialer.write_all(b"ATE0D5551234\r").unwrap();
    read_until(&mut dialer, "\r\nCONNECT 33600\r\n");
    dialer.write_all(b"please call me back").unwrap();
    read_until(&mut dialer, "\r\nNO CARRIER\r\n");
    // The second modem rings, answers by itself (S0=1), and its far end is on the line.
    read_until(&mut answerer, "\r\nRING\r\n");
    read_until(&mut answerer, "\r\nCONNECT 33600\r\n");
    answerer.write_all(b"called back").unwrap();
    read_until(&mut answerer, "called back");
    first.shutdown().unwrap();
    second.shutdown().unwrap();
}

/// Whether process `pid` has ended (gone, or a zombie nobody reaped yet).
fn has_ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        // `pid (comm) S ...`: the state follows the last `)`.
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
    }
}

/// Wait for `pid` to end; false if it is still running after PATIENCE.
fn ends_soon(pid: u32) -> bool {
    let started = Instant::now();
    while started.elapsed() < PATIENCE {
        if has_ended(pid) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// A far end that forks: `sleep` in the background, then `cat` as the line. Returns the
/// network and the file the background child's pid is written to.
fn forking_far_end(name: &str) -> (String, std::path::PathBuf) {
    let pid_file = std::env::temp_dir().join(format!("modem-sim-{name}-{}", std::process::id()));
    let _ = std::fs::remove_file(&pid_file);
    let network = format!(
        "numbers:\n  \"1\": {{connect: 9600, exec: \"sleep 600 & echo $! > {}; exec cat\"}}\n",
        pid_file.display()
    );
    (network, pid_file)
}

fn read_pid(pid_file: &std::path::Path) -> u32 {
    let started = Instant::now();
    loop {
        if let Some(pid) = std::fs::read_to_string(pid_file)
            .ok()
            .and_then(|text| text.trim().parse().ok())
        {
            return pid;
        }
        assert!(started.elapsed() < PATIENCE, "the far end never started");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Issue 16 #4: when an `exec:` call ends, what the command forked ends with it (it used
/// to be orphaned, one per call).
#[test]
fn an_exec_far_end_and_its_children_end_with_the_call() {
    let (network, pid_file) = forking_far_end("call-end");
    let peers: PeerFactory = Box::new(|_call| Err("only exec peers here".into()));
    let modem = spawn_pty(
        Network::from_yaml(&network).unwrap(),
        peers,
        TimeScale::new(0.01).unwrap(),
    )
    .unwrap();
    let mut port = open_port(modem.path());
    port.write_all(b"ATE0D1\r").unwrap();
    read_until(&mut port, "\r\nCONNECT 9600\r\n");
    port.write_all(b"via cat").unwrap();
    read_until(&mut port, "via cat");
    let child = read_pid(&pid_file);
    assert!(!has_ended(child));
    // +++ with its guard times (1 s scaled to 10 ms), then ATH ends the call.
    std::thread::sleep(Duration::from_millis(100));
    port.write_all(b"+++").unwrap();
    read_until(&mut port, "\r\nOK\r\n");
    port.write_all(b"ATH\r").unwrap();
    read_until(&mut port, "\r\nOK\r\n");
    assert!(
        ends_soon(child),
        "the far end's child {child} outlived the call"
    );
    modem.shutdown().unwrap();
    let _ = std::fs::remove_file(&pid_file);
}

/// Issue 16 #4: SIGTERM to the modem-sim tool ends every far end's process group too.
#[test]
fn sigterm_ends_the_far_ends_children() {
    let (network, pid_file) = forking_far_end("sigterm");
    let dir = std::env::temp_dir().join(format!("modem-sim-term-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let network_file = dir.join("network.yaml");
    std::fs::write(&network_file, network).unwrap();
    let link = dir.join("ttyMODEM");
    let mut tool = std::process::Command::new(env!("CARGO_BIN_EXE_modem-sim"))
        .arg("--link")
        .arg(&link)
        .arg("--network")
        .arg(&network_file)
        .args(["--time-scale", "0.01"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::fs::symlink_metadata(&link).is_err() {
        assert!(started.elapsed() < PATIENCE, "no link");
        std::thread::sleep(Duration::from_millis(10));
    }
    let mut port = open_port(&link);
    port.write_all(b"ATE0D1\r").unwrap();
    read_until(&mut port, "\r\nCONNECT 9600\r\n");
    let child = read_pid(&pid_file);
    let status = std::process::Command::new("kill")
        .args(["-TERM", &tool.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert_eq!(tool.wait().unwrap().code(), Some(0));
    assert!(
        ends_soon(child),
        "the far end's child {child} outlived modem-sim"
    );
    let _ = std::fs::remove_file(&pid_file);
}

/// Issue 15: a plain `exec:` command runs without a shell (so its pid is the far end's
/// own, and a path with spaces needs only quotes).
#[test]
fn a_plain_exec_command_runs_without_a_shell() {
    let dir = std::env::temp_dir().join(format!("modem-sim plain {}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("greeting file");
    std::fs::write(&file, "hello from the far end").unwrap();
    let network = format!(
        "numbers:\n  \"1\": {{connect: 9600, exec: \"cat '{}' -\"}}\n",
        file.display()
    );
    let peers: PeerFactory = Box::new(|_call| Err("only exec peers here".into()));
    let modem = spawn_pty(
        Network::from_yaml(&network).unwrap(),
        peers,
        TimeScale::new(0.01).unwrap(),
    )
    .unwrap();
    let mut port = open_port(modem.path());
    port.write_all(b"ATE0D1\r").unwrap();
    // The greeting may come in the same read as the CONNECT.
    let seen = read_until(&mut port, "hello from the far end");
    assert!(seen.contains("\r\nCONNECT 9600\r\nhello"), "{seen:?}");
    modem.shutdown().unwrap();
}

/// Issue 16 #6: after `+++`, `ATH` and closing the port, a dialer that reopens at once and
/// dials is answered every time (the old close used to be seen after the new command
/// line and cancel the new dial, about one time in four).
#[test]
fn an_immediate_reopen_and_dial_is_answered_every_time() {
    let network =
        Network::from_yaml("numbers:\n  \"1\": {connect: 9600, peer: builtin}\n").unwrap();
    let peers: PeerFactory = Box::new(|_call| Ok(Box::new(LineEcho::default()) as LinePeer));
    let modem = spawn_pty(network, peers, TimeScale::new(0.01).unwrap()).unwrap();
    let mut port = open_port(modem.path());
    port.write_all(b"ATE0\r").unwrap();
    read_until(&mut port, "\r\nOK\r\n");
    for cycle in 0..100 {
        port.write_all(b"ATD1\r").unwrap();
        // A lost dial fails here, showing what came instead (nothing, or NO CARRIER).
        let answer = read_until(&mut port, "\r\nCONNECT 9600\r\n");
        assert_eq!(answer, "\r\nCONNECT 9600\r\n", "cycle {cycle}");
        // +++ needs 1 s of silence either side (10 ms at this scale).
        std::thread::sleep(Duration::from_millis(30));
        port.write_all(b"+++").unwrap();
        read_until(&mut port, "\r\nOK\r\n");
        port.write_all(b"ATH\r").unwrap();
        read_until(&mut port, "\r\nOK\r\n");
        drop(port);
        port = open_port(modem.path());
    }
    modem.shutdown().unwrap();
}

/// Issue 16 #7: with two programs holding the port, the first one closing is not DTR
/// dropping: the other's call stays up and its commands are answered. The last close is.
#[test]
fn dtr_drops_when_the_last_opener_closes() {
    let network =
        Network::from_yaml("numbers:\n  \"1\": {connect: 9600, peer: builtin}\n").unwrap();
    let peers: PeerFactory = Box::new(|_call| Ok(Box::new(LineEcho::default()) as LinePeer));
    let modem = spawn_pty(network, peers, TimeScale::new(0.01).unwrap()).unwrap();
    let mut dialer = open_port(modem.path());
    dialer.write_all(b"ATE0\r").unwrap();
    read_until(&mut dialer, "\r\nOK\r\n");
    dialer.write_all(b"ATD1\r").unwrap();
    read_until(&mut dialer, "\r\nCONNECT 9600\r\n");

    // A second program opens the port and closes it again.
    let other = open_port(modem.path());
    std::thread::sleep(Duration::from_millis(50));
    drop(other);
    std::thread::sleep(Duration::from_millis(100));

    // The call is still up (the echo peer answers) and commands are still answered.
    dialer.write_all(b"still online").unwrap();
    read_until(&mut dialer, "still online");
    std::thread::sleep(Duration::from_millis(30));
    dialer.write_all(b"+++").unwrap();
    read_until(&mut dialer, "\r\nOK\r\n");
    dialer.write_all(b"AT\r").unwrap();
    read_until(&mut dialer, "\r\nOK\r\n");
    // ATO: back online, so the last close below has a call to end.
    dialer.write_all(b"ATO\r").unwrap();
    read_until(&mut dialer, "\r\nCONNECT 9600\r\n");

    // The last opener closing is DTR dropping (&D2): the call ends; a new opener finds
    // command state.
    drop(dialer);
    std::thread::sleep(Duration::from_millis(100));
    let mut again = open_port(modem.path());
    again.write_all(b"AT\r").unwrap();
    assert_eq!(read_until(&mut again, "\r\nOK\r\n"), "\r\nOK\r\n");
    modem.shutdown().unwrap();
}
