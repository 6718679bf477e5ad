//! RasCustomDial plug-ins (ras-reference §4.5 rule 29): a C application
//! (`tests/c/custom_host.c`) dials entries whose `CustomDialDll=` names the example
//! dialers — the C one with a pre-dial step, the Rust one (`examples/rust_dialer.rs`)
//! that refuses nameless dials, one without the entry point, and a file that is not
//! there — against modem-sim on a PTY.

mod common;

use std::path::Path;
use std::process::Command;

use modem_sim::Network;
use modem_sim::realtime::{CallInfo, spawn_pty};
use ppp_peer_sim::{Script, Server};

const NETWORK: &str = "numbers:\n  \"5551234\": {connect: 33600, peer: builtin}\n";
const SCRIPT: &str = "auth: pap\nusers: {alice: wonderland}\n";
fn entry(name: &str, dll: &Path, port: &Path) -> String {
    format!(
        "[{name}]\r\nCustomDialDll={}\r\nMEDIA=serial\r\nPort={}\r\nDEVICE=modem\r\nPhoneNumber=5551234\r\n\r\n",
        dll.display(),
        port.display()
    )
}

#[test]
fn custom_dialers_in_c_and_rust_and_the_broken_ones() {
    let Some(cc) = common::compiler() else { return };
    let dir = common::scratch("custom-dial");
    let examples = common::c_sources()
        .parent()
        .and_then(Path::parent)
        .expect("ras-capi")
        .join("examples");
    let rust_dialer = common::profile_dir()
        .join("examples")
        .join("librust_dialer.so");
    assert!(
        rust_dialer.is_file(),
        "{} is missing: `cargo test` builds the examples; after a narrower build run \
         `cargo build -p ras-capi --example rust_dialer`",
        rust_dialer.display()
    );
    let c_dialer = dir.join("libpredial_dialer.so");
    common::compile(
        &cc,
        &[examples.join("c").join("predial_dialer.c")],
        &[],
        common::Output::SharedObject {
            path: &c_dialer,
            with_libras: true,
        },
    );
    let no_entry = dir.join("libno_entry_point.so");
    common::compile(
        &cc,
        &[examples.join("c").join("no_entry_point.c")],
        &[],
        common::Output::SharedObject {
            path: &no_entry,
            with_libras: false,
        },
    );
    let host = dir.join("custom_host");
    common::compile(
        &cc,
        &[common::c_sources().join("custom_host.c")],
        &[],
        common::Output::Program(&host),
    );

    let network = Network::from_yaml(NETWORK).expect("network");
    let script = Script::from_yaml(SCRIPT).expect("script");
    let peers = Box::new(move |_: &CallInfo| Ok(Server::new(script.clone(), 7).boxed()));
    let modem = spawn_pty(network, peers, common::time_scale()).expect("modem-sim on a PTY");
    let port = modem.path();
    let phonebook = dir.join("plugins.pbk");
    let text = [
        entry("Plugin C", &c_dialer, port),
        entry("Plugin Rust", &rust_dialer, port),
        entry("Plugin no entry", &no_entry, port),
        entry("Plugin missing", &dir.join("libnot-there.so"), port),
    ]
    .concat();
    std::fs::write(&phonebook, text).expect("write the phonebook");
    let log = dir.join("plugin.log");

    let output = Command::new(&host)
        .arg(&phonebook)
        .arg(&log)
        .env("RAS_TIME_SCALE", common::time_scale().factor().to_string())
        .env("RAS_PLUGIN_LOG", &log)
        .env("RAS_LOG", "warn")
        .output()
        .expect("run the C host");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}\n{stderr}");
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("0 failed"), "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
    // RAS_LOG=warn: the library says which file it could not load, and why.
    assert!(
        stderr.contains("libnot-there.so") && stderr.contains("No such file"),
        "{stderr}"
    );
    assert!(
        stderr.contains("libno_entry_point.so") && stderr.contains("RasCustomDial"),
        "{stderr}"
    );
    drop(modem);
    let _ = std::fs::remove_dir_all(dir);
}
