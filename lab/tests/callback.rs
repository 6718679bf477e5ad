//! Callback end to end in the lab: the server hangs up and calls the modem back by its
//! own number (ras-reference §4.7 B).

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use modem_sim::Network;
use ppp_peer_sim::Script;
use ras_engine::api::{DialExtensions, DialParams, EngineConfig, Notifier, rdeopt};
use ras_engine::phonebook::{CallbackMode, Entry, Phonebook};
use ras_engine::ras::RasConnState;
use ras_lab::Lab;

use RasConnState::*;

const NETWORK: &str = r#"
modems: ["5550100"]
numbers: {"5551234": {connect: 33600, peer: builtin}}
"#;

type Trace = Arc<Mutex<Vec<(RasConnState, u32)>>>;

fn lab(script: &str) -> Lab {
    Lab::builder(EngineConfig::default())
        .modem("/dev/ttyS0", Network::from_yaml(NETWORK).unwrap())
        .server(Script::from_yaml(script).unwrap(), 7)
        .build()
}

fn phonebook(mode: CallbackMode) -> Phonebook {
    let mut entry = Entry::modem("ISP", "/dev/ttyS0", "5551234");
    entry.callback_mode = mode;
    Phonebook::from_entries([entry])
}

fn params(callback_number: &str) -> DialParams {
    DialParams {
        entry_name: "ISP".into(),
        user_name: "alice".into(),
        password: "wonderland".into(),
        callback_number: callback_number.into(),
        ..DialParams::default()
    }
}

fn recorder() -> (Trace, Notifier) {
    let trace: Trace = Arc::default();
    let seen = Arc::clone(&trace);
    let notifier = Notifier::Func(Box::new(move |_msg, state, error| {
        seen.lock().unwrap().push((state, error));
    }));
    (trace, notifier)
}

fn states(trace: &Trace) -> Vec<RasConnState> {
    trace
        .lock()
        .unwrap()
        .iter()
        .map(|(state, _)| *state)
        .collect()
}

const CALLBACK_TAIL: [RasConnState; 11] = [
    AuthCallback,
    AuthAck,
    PrepareForCallback,
    WaitForModemReset,
    WaitForCallback,
    ReAuthenticate,
    AuthNotify,
    AuthProject,
    Authenticated,
    Projected,
    Connected,
];

fn expected(pause: bool) -> Vec<RasConnState> {
    let mut states = vec![
        OpenPort,
        PortOpened,
        ConnectDevice,
        DeviceConnected,
        AllDevicesConnected,
        Authenticate,
        AuthNotify,
        AuthCallback,
    ];
    if pause {
        states.push(CallbackSetByCaller);
    }
    states.extend_from_slice(&CALLBACK_TAIL[1..]);
    states
}

#[test]
fn server_set_callback_needs_no_input() {
    let lab =
        lab("users: {alice: wonderland}\ncallback: {server-set: \"5550100\"}\ncallback-delay: 5\n");
    let ras = lab.ras();
    let (trace, notifier) = recorder();
    let handle = ras
        .dial(
            None,
            &phonebook(CallbackMode::Optional),
            &params(""),
            Some(notifier),
        )
        .unwrap();
    assert!(lab.run_until(|| {
        ras.connect_status(handle)
            .is_ok_and(|s| s.state == Connected || s.error.is_some())
    }));
    assert_eq!(states(&trace), expected(false));
    let transcript = lab.transcript("/dev/ttyS0".as_ref());
    assert!(transcript.iter().any(|l| l == "> ATS0=1"), "{transcript:?}");
    assert!(transcript.iter().any(|l| l == "< RING"), "{transcript:?}");
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
}

#[test]
fn caller_set_star_pauses_and_resumes_with_the_number() {
    let lab = lab("users: {alice: wonderland}\ncallback: caller-set\n");
    let ras = lab.ras();
    let (trace, notifier) = recorder();
    let extensions = DialExtensions {
        options: rdeopt::PAUSED_STATES,
        ..DialExtensions::default()
    };
    let handle = ras
        .dial(
            Some(&extensions),
            &phonebook(CallbackMode::NoCallback),
            &params("*"),
            Some(notifier),
        )
        .unwrap();
    assert!(lab.run_until(|| {
        ras.connect_status(handle)
            .is_ok_and(|s| s.state == CallbackSetByCaller)
    }));
    ras.resume(handle, &params("555-0100")).unwrap();
    assert!(lab.run_until(|| {
        ras.connect_status(handle)
            .is_ok_and(|s| s.state == Connected || s.error.is_some())
    }));
    assert_eq!(states(&trace), expected(true));
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
}

#[test]
fn a_synchronous_dial_returns_after_the_callback_connected() {
    let lab = lab("users: {alice: wonderland}\ncallback: caller-set\n");
    let ras = lab.ras();
    let handle = ras
        .dial(
            None,
            &phonebook(CallbackMode::NoCallback),
            &params("5550100"),
            None,
        )
        .unwrap();
    assert_eq!(ras.connect_status(handle).unwrap().state, Connected);
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
}
