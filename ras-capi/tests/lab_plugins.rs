//! The C API and its custom dialers under the virtual-time driver: a `ras-lab` lab is
//! installed as the engine behind the exports (`ras::install`), and the example dialers —
//! the C one, the Rust one, one without the entry point — are dialed through `RasDialA`
//! from this test, as the realtime tests do from a C program over a PTY. The dialers
//! bind to this test's own `RasDialA` (build.rs exports it), so their dials run in the lab.
//!
//! Nothing else in this test binary may use the C API first: the lab must be the engine
//! the exports start with.

// The test calls the C exports with the raw pointers C would pass.
#![allow(unsafe_code)]

mod common;

use std::ffi::{CString, c_char, c_void};
use std::mem::size_of;
use std::path::Path;
use std::ptr;
use std::sync::Mutex;

use modem_sim::Network;
use ppp_peer_sim::Script;
use ras::abi::{HRASCONN, RASCONNSTATUSA, RASDIALFUNC2, RASDIALPARAMSA};
use ras::api::{RasDialA, RasGetConnectStatusA, RasHangUpA};
use ras_engine::api::{EngineConfig, WM_RASDIALEVENT};
use ras_engine::ras::{RasConnState, RasError};
use ras_lab::Lab;

const PORT: &str = "/dev/ttyLAB0";
const NETWORK: &str = "numbers: {\"5551234\": {connect: 33600, peer: builtin}}";
const SCRIPT: &str = "auth: pap\nusers: {alice: wonderland}\n";

/// The notifications of the asynchronous dial: (callback id, state, error).
static SEEN: Mutex<Vec<(usize, u32, u32)>> = Mutex::new(Vec::new());

unsafe extern "C" fn notifier(
    callback_id: usize,
    _subentry: u32,
    _handle: HRASCONN,
    message: u32,
    state: u32,
    error: u32,
    _extended: u32,
) -> u32 {
    assert_eq!(message, WM_RASDIALEVENT);
    SEEN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push((callback_id, state, error));
    1
}

fn seen() -> Vec<(usize, u32, u32)> {
    SEEN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clone()
}

fn params(entry: &str, user: &str) -> RASDIALPARAMSA {
    // SAFETY: zero is a valid RASDIALPARAMSA.
    let mut params: RASDIALPARAMSA = unsafe { std::mem::zeroed() };
    params.dwSize = size_of::<RASDIALPARAMSA>() as u32;
    for (field, text) in [
        (&mut params.szEntryName[..], entry),
        (&mut params.szUserName[..], user),
        (&mut params.szPassword[..], "wonderland"),
    ] {
        for (slot, byte) in field.iter_mut().zip(text.bytes()) {
            *slot = byte as c_char;
        }
    }
    params.dwCallbackId = 0xC0FFEE;
    params
}

fn dial(
    phonebook: &CString,
    entry: &str,
    user: &str,
    notify: Option<RASDIALFUNC2>,
) -> (u32, HRASCONN) {
    let mut params = params(entry, user);
    let mut handle: HRASCONN = ptr::null_mut();
    let (kind, notifier) = match notify {
        Some(function) => (2, function as *mut c_void),
        None => (0, ptr::null_mut()),
    };
    // SAFETY: a valid RASDIALPARAMSA, phonebook path and handle; the notifier, if any,
    // is a RASDIALFUNC2.
    let rc = unsafe {
        RasDialA(
            ptr::null_mut(),
            phonebook.as_ptr(),
            &raw mut params,
            kind,
            notifier,
            &raw mut handle,
        )
    };
    (rc, handle)
}

fn state(handle: HRASCONN) -> Result<u32, u32> {
    // SAFETY: zero is a valid RASCONNSTATUSA.
    let mut status: RASCONNSTATUSA = unsafe { std::mem::zeroed() };
    status.dwSize = size_of::<RASCONNSTATUSA>() as u32;
    // SAFETY: a writable RASCONNSTATUSA of the current version.
    match unsafe { RasGetConnectStatusA(handle, &raw mut status) } {
        0 => Ok(status.rasconnstate),
        error => Err(error),
    }
}

/// RasHangUp, then the poll of rule 21, with the lab's clock running meanwhile.
fn hang_up(lab: &Lab, handle: HRASCONN) {
    // SAFETY: a handle RasDialA gave.
    assert_eq!(unsafe { RasHangUpA(handle) }, 0);
    assert!(lab.run_until(|| state(handle).is_err()));
}

fn entry(name: &str, dll: &Path) -> String {
    format!(
        "[{name}]\r\nCustomDialDll={}\r\nMEDIA=serial\r\nPort={PORT}\r\nDEVICE=modem\r\nPhoneNumber=5551234\r\n\r\n",
        dll.display()
    )
}

#[test]
fn custom_dialers_dial_through_the_lab() {
    let Some(cc) = common::compiler() else { return };
    let dir = common::scratch("lab-plugins");
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
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
    let rust_dialer = common::profile_dir()
        .join("examples")
        .join("librust_dialer.so");
    assert!(
        rust_dialer.is_file(),
        "{} is missing (cargo test builds it)",
        rust_dialer.display()
    );
    let pbk = dir.join("lab.pbk");
    std::fs::write(
        &pbk,
        [
            entry("Plugin C", &c_dialer),
            entry("Plugin Rust", &rust_dialer),
            entry("Plugin no entry", &no_entry),
        ]
        .concat(),
    )
    .expect("write the phonebook");
    let phonebook = CString::new(pbk.display().to_string()).expect("no NUL");

    let lab = Lab::builder(EngineConfig::default())
        .modem(PORT, Network::from_yaml(NETWORK).expect("network"))
        .server(Script::from_yaml(SCRIPT).expect("script"), 7)
        .build();
    assert!(
        ras::install(lab.ras()).is_ok(),
        "the lab is the first engine"
    );

    // Synchronous through the C dialer: the blocking call runs the lab's clock.
    let (rc, handle) = dial(&phonebook, "Plugin C", "alice", None);
    assert_eq!(rc, 0);
    assert_eq!(state(handle), Ok(RasConnState::Connected.value()));
    hang_up(&lab, handle);

    // Asynchronous through the C dialer: its forwarded notifications, our callback id.
    let (rc, handle) = dial(&phonebook, "Plugin C", "alice", Some(notifier));
    assert_eq!(rc, 0);
    assert!(
        lab.run_until(|| seen().last().is_some_and(|&(_, state, error)| {
            state == RasConnState::Connected.value() || error != 0
        }))
    );
    let trace = seen();
    assert_eq!(
        trace.first(),
        Some(&(0xC0FFEE, RasConnState::OpenPort.value(), 0))
    );
    assert_eq!(
        trace.last(),
        Some(&(0xC0FFEE, RasConnState::Connected.value(), 0))
    );
    hang_up(&lab, handle);

    // The Rust dialer dials for a named user and refuses a nameless dial with its 649.
    let (rc, handle) = dial(&phonebook, "Plugin Rust", "alice", None);
    assert_eq!(rc, 0);
    hang_up(&lab, handle);
    SEEN.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .clear();
    let (rc, handle) = dial(&phonebook, "Plugin Rust", "", Some(notifier));
    let refused = RasError::ERROR_NO_DIALIN_PERMISSION.code();
    assert_eq!((rc, handle), (refused, ptr::null_mut()));
    assert_eq!(
        seen(),
        [(0xC0FFEE, RasConnState::OpenPort.value(), refused)]
    );

    // No entry point: 755.
    let (rc, handle) = dial(&phonebook, "Plugin no entry", "alice", None);
    assert_eq!(rc, RasError::ERROR_CANNOT_DO_CUSTOMDIAL.code());
    assert!(handle.is_null());
    let _ = std::fs::remove_dir_all(dir);
}
