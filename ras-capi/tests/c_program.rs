//! The C conformance program (`tests/c/conformance.c`), compiled against `include/ras.h`
//! with `-Wall -Wextra -Werror` and linked to the `libras.so` this crate builds, dials
//! modem-sim on a PTY answered by the scripted PPP server: it connects, fails with 676 on
//! a busy number, and hangs up cleanly, with every notifier type.

mod common;

use std::path::Path;
use std::process::Command;

use modem_sim::Network;
use modem_sim::realtime::{CallInfo, PtyModem, spawn_pty};
use ppp_peer_sim::{Script, Server};

const NETWORK: &str = "numbers:
  \"5551234\": {connect: 33600, peer: builtin}
  \"5550000\": busy
  \"5552000\": {connect: 33600, peer: builtin}
";
/// The server on 5551234.
const PAP: &str = "auth: pap\nusers: {alice: wonderland}\n";
/// The server on 5552000: a wrong password may be retried once.
const MSCHAPV2_RETRY: &str = "auth: mschapv2\nretries: 1\nusers: {alice: wonderland}\n";

fn modem() -> PtyModem {
    let network = Network::from_yaml(NETWORK).expect("network");
    let pap = Script::from_yaml(PAP).expect("script");
    let retry = Script::from_yaml(MSCHAPV2_RETRY).expect("script");
    let peers = Box::new(move |call: &CallInfo| {
        let script = if call.number == "5552000" {
            &retry
        } else {
            &pap
        };
        Ok(Server::new(script.clone(), 7).boxed())
    });
    spawn_pty(network, peers, common::time_scale()).expect("modem-sim on a PTY")
}

/// A phonebook with the lab's three entries on `port`.
fn lab_phonebook(port: &Path) -> String {
    let port = port.display();
    format!(
        "[Lab ISP]\r\nMEDIA=serial\r\nPort={port}\r\nDEVICE=modem\r\nPhoneNumber=5551234\r\n\r\n\
         [Lab busy]\r\nMEDIA=serial\r\nPort={port}\r\nDEVICE=modem\r\nPhoneNumber=5550000\r\n\r\n\
         [Lab retry]\r\nMEDIA=serial\r\nPort={port}\r\nDEVICE=modem\r\nPhoneNumber=5552000\r\n"
    )
}

#[test]
fn the_sdk_style_c_program_dials_the_lab() {
    let Some(cc) = common::compiler() else { return };
    let dir = common::scratch("conformance");
    let exe = dir.join("conformance");
    common::compile(
        &cc,
        &[common::c_sources().join("conformance.c")],
        &[],
        common::Output::Program(&exe),
    );
    let modem = modem();
    let phonebook = dir.join("lab.pbk");
    std::fs::write(&phonebook, lab_phonebook(modem.path())).expect("write the phonebook");

    let output = Command::new(&exe)
        .arg(&phonebook)
        .env("RAS_TIME_SCALE", common::time_scale().factor().to_string())
        .output()
        .expect("run the C program");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // Shown with --nocapture: the program's own account of each check.
    println!("{stdout}");
    assert!(
        output.status.success(),
        "the C program failed:\n{stdout}\n{stderr}"
    );
    for needle in [
        "ok - synchronous RasDial(\"Lab ISP\") connects",
        "ok - synchronous RasDial(\"Lab busy\") is 676",
        "ok - RasDialFunc2 busy: ",
        "ok - window messages connect: ",
        "ok - the second RasDial on the handle resumes",
        "0 failed",
    ] {
        assert!(stdout.contains(needle), "missing {needle:?} in:\n{stdout}");
    }
    assert!(!stdout.contains("FAIL"), "{stdout}");
    drop(modem);
    let _ = std::fs::remove_dir_all(dir);
}
