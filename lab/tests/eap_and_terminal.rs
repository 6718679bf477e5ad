//! The API around the last two paused states, in virtual time: what RasInvokeEapUI and the
//! terminal of an Interactive pause accept and refuse (ras-reference §4.3 rules 15–16).

use std::sync::{Arc, Mutex};

use modem_sim::Network;
use ppp_peer_sim::Script;
use ras_engine::api::{DialExtensions, DialParams, EngineConfig, HRasConn, Notifier, Ras, rdeopt};
use ras_engine::phonebook::{AuthRestrictions, Device, DeviceKind, Entry, Phonebook, Setting};
use ras_engine::ppp::{EapAnswer, EapPrompt};
use ras_engine::ras::{RasConnState, RasError};
use ras_lab::Lab;

const DEVICE: &str = "/dev/ttyS0";

fn lab(server: &str) -> Lab {
    let network = Network::from_yaml(r#"numbers: {"5551234": {connect: 33600, peer: builtin}}"#)
        .expect("network");
    Lab::builder(EngineConfig::default())
        .modem(DEVICE, network)
        .server(Script::from_yaml(server).expect("server script"), 7)
        .build()
}

fn params(user: &str, password: &str) -> DialParams {
    DialParams {
        entry_name: "Entry".into(),
        user_name: user.into(),
        password: password.into(),
        ..DialParams::default()
    }
}

/// Dial with paused states; the states notified so far are in the returned list.
fn dial(ras: &Ras, entry: Entry, params: &DialParams) -> (HRasConn, Arc<Mutex<Vec<RasConnState>>>) {
    let states = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&states);
    let notifier = Notifier::Func(Box::new(move |_, state, _| {
        seen.lock().expect("states").push(state)
    }));
    let extensions = DialExtensions {
        options: rdeopt::PAUSED_STATES,
        ..DialExtensions::default()
    };
    let phonebook = Phonebook::from_entries([entry]);
    let handle = ras
        .dial(Some(&extensions), &phonebook, params, Some(notifier))
        .expect("dial starts");
    (handle, states)
}

fn reached(lab: &Lab, states: &Mutex<Vec<RasConnState>>, state: RasConnState) -> bool {
    lab.run_until(|| states.lock().expect("states").contains(&state))
}

#[test]
fn invoke_eap_ui_takes_the_token_the_method_asks_for() {
    let lab = lab(
        "auth: eap\neap: {methods: [gtc], token-prompt: \"PIN:\"}\nusers:\n  erin: {password: pw, tokens: [\"314159\"]}\n",
    );
    let ras = lab.ras();
    let mut entry = Entry::modem("Entry", DEVICE, "5551234");
    entry.auth_restrictions = Some(AuthRestrictions(AuthRestrictions::EAP));
    let (handle, states) = dial(&ras, entry, &params("erin", "pw"));
    // Before the pause there is nothing to answer.
    assert!(reached(&lab, &states, RasConnState::Authenticate));
    assert_eq!(ras.eap_prompt(handle), Ok(None));
    assert!(reached(&lab, &states, RasConnState::InvokeEapUI));
    assert_eq!(
        ras.eap_prompt(handle),
        Ok(Some(EapPrompt::Token {
            message: "PIN:".into()
        }))
    );
    // Rule 16: RasInvokeEapUI before the resume; a resume without it is refused, and so
    // is an answer of the wrong kind or for another link.
    assert_eq!(
        ras.resume(handle, &params("erin", "pw")),
        Err(RasError::ERROR_INVALID_PARAMETER)
    );
    assert_eq!(
        ras.invoke_eap_ui(handle, 2, EapAnswer::Token("314159".into())),
        Err(RasError::ERROR_INVALID_PARAMETER)
    );
    ras.invoke_eap_ui(handle, 1, EapAnswer::Acknowledge)
        .expect("taken; checked on resume");
    assert_eq!(
        ras.resume(handle, &params("erin", "pw")),
        Err(RasError::ERROR_INVALID_PARAMETER)
    );
    ras.invoke_eap_ui(handle, 0, EapAnswer::Token("314159".into()))
        .expect("the token");
    ras.resume(handle, &params("erin", "pw")).expect("resumed");
    assert!(reached(&lab, &states, RasConnState::Connected));
    // Connected: nothing to answer, no terminal.
    assert_eq!(
        ras.invoke_eap_ui(handle, 0, EapAnswer::Acknowledge),
        Err(RasError::ERROR_INVALID_PARAMETER)
    );
    assert_eq!(
        ras.terminal_write(handle, b"AT\r"),
        Err(RasError::ERROR_INVALID_PARAMETER)
    );
    ras.hang_up(handle).expect("hang up");
    ras.wait_released(handle);
    assert_eq!(
        ras.invoke_eap_ui(handle, 0, EapAnswer::Acknowledge),
        Err(RasError::ERROR_INVALID_HANDLE)
    );
    assert_eq!(
        ras.terminal_read(handle),
        Err(RasError::ERROR_INVALID_HANDLE)
    );
}

#[test]
fn the_terminal_before_dialing_talks_to_the_modem() {
    let lab = lab("auth: pap\nusers: {alice: wonderland}\n");
    let ras = lab.ras();
    let mut entry = Entry::modem("Entry", DEVICE, "5551234");
    let mut switch = Device::new(DeviceKind::Switch);
    switch.settings.push(Setting::new("Terminal", "1"));
    entry.link.devices.insert(0, switch);
    entry.link.dialing_device = Some(1);
    let (handle, states) = dial(&ras, entry, &params("alice", "wonderland"));
    assert!(reached(&lab, &states, RasConnState::Interactive));
    assert_eq!(
        ras.connect_status(handle).map(|s| s.state),
        Ok(RasConnState::Interactive)
    );
    ras.terminal_write(handle, b"ATI0\r").expect("typed");
    let mut screen = Vec::new();
    assert!(lab.run_until(|| {
        screen.extend(ras.terminal_read(handle).expect("in Interactive"));
        screen.windows(2).any(|w| w == b"OK")
    }));
    ras.resume(handle, &params("alice", "wonderland"))
        .expect("resumed");
    assert!(reached(&lab, &states, RasConnState::Connected));
    let states = states.lock().expect("states").clone();
    assert_eq!(
        states[..4],
        [
            RasConnState::OpenPort,
            RasConnState::PortOpened,
            RasConnState::Interactive,
            RasConnState::ConnectDevice
        ]
    );
    assert_eq!(
        ras.terminal_read(handle),
        Err(RasError::ERROR_INVALID_PARAMETER)
    );
    ras.hang_up(handle).expect("hang up");
    ras.wait_released(handle);
}
