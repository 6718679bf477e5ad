//! The public `Ras` API against a real modem-sim PTY and the scripted server: status
//! during and after a dial, referenced connections, enumeration.

use std::sync::mpsc;
use std::time::Duration;

use modem_sim::Network;
use modem_sim::realtime::{CallInfo, spawn_pty};
use ppp_peer_sim::{Script, Server};
use ras_engine::api::{DialParams, EngineConfig, Notifier, NotifyControl, Ras};
use ras_engine::phonebook::{Entry, Phonebook};
use ras_engine::ras::{RasConnState, RasError};
use sansio::TimeScale;

const NETWORK: &str = "numbers:\n  \"5551234\": {connect: 33600, peer: builtin}\n";
const SCRIPT: &str = "auth: pap\nusers: {alice: wonderland}\n";

fn params() -> DialParams {
    DialParams {
        entry_name: "ISP".to_owned(),
        user_name: "alice".to_owned(),
        password: "wonderland".to_owned(),
        ..DialParams::default()
    }
}

#[test]
fn referenced_connections_each_need_their_own_hang_up() {
    let network = Network::from_yaml(NETWORK).expect("network");
    let script = Script::from_yaml(SCRIPT).expect("script");
    let peers = Box::new(move |_: &CallInfo| Ok(Server::new(script.clone(), 7).boxed()));
    let modem = spawn_pty(network, peers, TimeScale::DEFAULT).expect("modem-sim on a PTY");
    let phonebook = Phonebook::from_entries([Entry::modem("ISP", modem.path(), "5551234")]);
    let ras = Ras::new(EngineConfig {
        time_scale: TimeScale::DEFAULT,
        ..EngineConfig::default()
    });

    assert!(
        ras.enum_connections().is_empty(),
        "nothing is connected before the dial"
    );
    let first = ras
        .dial(None, &phonebook, &params(), None)
        .expect("synchronous dial connects");
    let status = ras.connect_status(first).expect("status");
    assert_eq!(status.state, RasConnState::Connected);
    assert_eq!(status.error, None);
    assert_eq!(status.device_type, "modem");
    assert_eq!(status.phone_number, "5551234");
    let listed = ras.enum_connections();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].handle, first);
    assert_eq!(listed[0].entry_name, "ISP");

    // Dialing the connected entry again succeeds at once with the same connection, and an
    // asynchronous notifier hears Connected straight away [inferred].
    let (tx, rx) = mpsc::channel();
    let notifier = Notifier::Func2(Box::new(move |_, subentry, _, _, state, error, _| {
        let _ = tx.send((subentry, state, error));
        NotifyControl::Continue
    }));
    let second = ras
        .dial(None, &phonebook, &params(), Some(notifier))
        .expect("referenced dial");
    assert_eq!(second, first);
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)),
        Ok((1, RasConnState::Connected, 0))
    );

    ras.hang_up(first)
        .expect("first hang-up releases one reference");
    assert_eq!(
        ras.connect_status(first).map(|s| s.state),
        Ok(RasConnState::Connected),
        "still up"
    );
    ras.hang_up(second)
        .expect("second hang-up releases the last");
    ras.wait_released(first);
    assert_eq!(
        ras.connect_status(first),
        Err(RasError::ERROR_INVALID_HANDLE)
    );
    assert_eq!(ras.hang_up(first), Err(RasError::ERROR_INVALID_HANDLE));
}
