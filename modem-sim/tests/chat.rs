//! Interop: the real `chat` program (Debian package `ppp`) drives `modem-sim --link`.
//!
//! chat was written for hardware modems by people who never saw this code, so these
//! tests are the outside check on the V.250 interpreter. Without chat they are skipped
//! with a loud message, except under `CI=true`, where they fail.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The modem runs 20x faster than real time: a 6 s handshake takes 0.3 s, the 1 s
/// escape guard 50 ms. chat's own timeouts stay realistic (seconds).
const TIME_SCALE: &str = "0.05";

const NETWORK: &str = r#"
numbers:
  "5551234": {connect: 33600, peer: builtin}
  "5551238": {connect: 33600, drop-after-seconds: 5, call-back: {number: "5550100", after: 10}}
  "5550000": busy
  "5550001": no-answer
"#;

/// Where chat is, or `None` (after saying so loudly) when it is missing and this is not
/// CI. Under `CI=true` a missing chat is a failure: CI installs it (`.ci/run`).
fn chat() -> Option<PathBuf> {
    testkit::required_program("chat", "ppp")
}

/// A `modem-sim --link` process in its own directory; killed and cleaned up on drop.
struct ModemSim {
    child: Child,
    dir: PathBuf,
    link: PathBuf,
}

impl ModemSim {
    fn start(name: &str, network: &str) -> ModemSim {
        let dir =
            std::env::temp_dir().join(format!("modem-sim-chat-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let network_file = dir.join("network.yaml");
        fs::write(&network_file, network).unwrap();
        let link = dir.join("ttyMODEM");
        let mut child = Command::new(env!("CARGO_BIN_EXE_modem-sim"))
            .arg("--link")
            .arg(&link)
            .arg("--network")
            .arg(&network_file)
            .arg("--time-scale")
            .arg(TIME_SCALE)
            // The AT transcript is logged at debug level (issue 15); these tests read it.
            .env("RUST_LOG", "modem_sim=debug")
            .stdout(Stdio::piped())
            .stderr(File::create(dir.join("transcript.log")).unwrap())
            .spawn()
            .unwrap();
        // The tool prints `LINK -> /dev/pts/N` once the port is ready.
        let mut ready = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut ready)
            .unwrap();
        assert!(ready.contains("/dev/pts/"), "modem-sim said {ready:?}");
        ModemSim { child, dir, link }
    }

    /// Run chat with `script` on the port; its exit code.
    fn chat(&self, chat: &Path, script: &[&str]) -> i32 {
        let port = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&self.link)
            .unwrap();
        let started = Instant::now();
        let status = Command::new(chat)
            .args(["-v", "-s", "-t", "10"])
            .args(script)
            .stdin(port.try_clone().unwrap())
            .stdout(port)
            .status()
            .unwrap();
        assert!(started.elapsed() < Duration::from_secs(30));
        status.code().unwrap_or(-1)
    }

    /// The AT transcript modem-sim logged so far.
    fn transcript(&self) -> String {
        let mut text = String::new();
        File::open(self.dir.join("transcript.log"))
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        text
    }
}

impl Drop for ModemSim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// chat's exit code for the Nth (1-based) ABORT string matched.
fn aborted_by(n: i32) -> i32 {
    3 + n
}

#[test]
fn chat_inits_dials_and_connects() {
    let Some(chat) = chat() else { return };
    let modem = ModemSim::start("connect", NETWORK);
    let code = modem.chat(
        &chat,
        &[
            "ABORT",
            "BUSY",
            "ABORT",
            "NO CARRIER",
            "",
            "ATZ",
            "OK",
            "AT&F E1 V1 &C1 &D2 S0=0 +FCLASS=0",
            "OK",
            "ATDT555-1234",
            "CONNECT",
            "\\c",
        ],
    );
    assert_eq!(code, 0, "{}", modem.transcript());
    assert!(
        modem.transcript().contains("CONNECT"),
        "{}",
        modem.transcript()
    );
}

#[test]
fn chat_aborts_on_busy() {
    let Some(chat) = chat() else { return };
    let modem = ModemSim::start("busy", NETWORK);
    let code = modem.chat(
        &chat,
        &[
            "ABORT",
            "NO CARRIER",
            "ABORT",
            "BUSY",
            "",
            "ATZ",
            "OK",
            "ATDT5550000",
            "CONNECT",
            "\\c",
        ],
    );
    assert_eq!(code, aborted_by(2), "{}", modem.transcript());
}

#[test]
fn chat_aborts_on_no_dialtone() {
    let Some(chat) = chat() else { return };
    let modem = ModemSim::start("dialtone", "dialtone: false\n");
    let code = modem.chat(
        &chat,
        &[
            "ABORT",
            "BUSY",
            "ABORT",
            "NO DIALTONE",
            "",
            "ATZ",
            "OK",
            "ATDT5551234",
            "CONNECT",
            "\\c",
        ],
    );
    assert_eq!(code, aborted_by(2), "{}", modem.transcript());
}

#[test]
fn chat_aborts_on_no_answer() {
    let Some(chat) = chat() else { return };
    let modem = ModemSim::start("no-answer", NETWORK);
    let code = modem.chat(
        &chat,
        &[
            "ABORT",
            "BUSY",
            "ABORT",
            "NO CARRIER",
            "ABORT",
            "NO ANSWER",
            "",
            "ATZ",
            "OK",
            "ATDT5550001",
            "CONNECT",
            "\\c",
        ],
    );
    // S7 (50 s) takes 2.6 s at this time scale, well inside chat's 10 s.
    assert_eq!(code, aborted_by(3), "{}", modem.transcript());
}

#[test]
fn chat_escapes_with_plus_plus_plus_and_hangs_up() {
    let Some(chat) = chat() else { return };
    let modem = ModemSim::start("escape", NETWORK);
    // `\d` is chat's one-second pause: the guard time before and after `+++` (S12 is
    // 50 ms here); `\c` sends it without a carriage return.
    let code = modem.chat(
        &chat,
        &[
            "ABORT",
            "BUSY",
            "ABORT",
            "ERROR",
            "",
            "ATZ",
            "OK",
            "ATDT5551234",
            "CONNECT",
            "\\d+++\\c",
            "OK",
            "ATH0",
            "OK",
            "ATI3",
            "modem-sim",
        ],
    );
    assert_eq!(code, 0, "{}", modem.transcript());
    let transcript = modem.transcript();
    let hang_up = transcript.find("ATH0").unwrap();
    assert!(transcript[hang_up..].contains("call ended"), "{transcript}");
}

#[test]
fn chat_answers_the_networks_callback() {
    let Some(chat) = chat() else { return };
    let modem = ModemSim::start("callback", NETWORK);
    // The far end drops the call after 5 s and the network rings back 10 s later: RING,
    // ATA, CONNECT — the modem side of a RAS callback.
    let code = modem.chat(
        &chat,
        &[
            "ABORT",
            "BUSY",
            "",
            "ATZ",
            "OK",
            "ATDT5551238",
            "CONNECT",
            "\\c",
            "NO CARRIER",
            "\\c",
            "RING",
            "ATA",
            "CONNECT 33600",
            "\\c",
        ],
    );
    assert_eq!(code, 0, "{}", modem.transcript());
    assert!(
        modem.transcript().contains("5550100"),
        "{}",
        modem.transcript()
    );
}
