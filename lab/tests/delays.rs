//! Issue 15: the lab's modeled delays have their own scale, apart from protocol timers.

use modem_sim::Network;
use ppp_peer_sim::Script;
use ras_engine::api::{DialParams, EngineConfig};
use ras_engine::phonebook::{Entry, Phonebook};
use ras_lab::Lab;
use sansio::{DelayScale, Duration, Instant};

/// The virtual time a synchronous PAP dial takes to Connected in a lab at `delays`.
fn dial_time(delays: DelayScale) -> Duration {
    let network = Network::from_yaml(r#"numbers: {"5551234": {connect: 33600, peer: builtin}}"#)
        .expect("a network");
    let script = Script::from_yaml("auth: pap\nusers: {alice: wonderland}").expect("a script");
    let lab = Lab::builder(EngineConfig::default())
        .modem("/dev/ttyS0", network)
        .server(script, 7)
        .delays(delays)
        .build();
    let ras = lab.ras();
    let phonebook = Phonebook::from_entries([Entry::modem("ISP", "/dev/ttyS0", "5551234")]);
    let params = DialParams {
        entry_name: "ISP".into(),
        user_name: "alice".into(),
        password: "wonderland".into(),
        ..DialParams::default()
    };
    let handle = ras
        .dial(None, &phonebook, &params, None)
        .expect("the dial connects");
    let connected = lab.now() - Instant::ZERO;
    ras.hang_up(handle).expect("hang up");
    ras.wait_released(handle);
    connected
}

#[test]
fn an_instant_modem_and_network_connect_without_modeled_time() {
    let modeled = dial_time(DelayScale::MODEL);
    // Dial tone 1 s, digits 1 s, answer 2 s, training 2 s, then PPP over a 20 ms line.
    assert!(modeled >= Duration::from_secs(6), "{modeled:?}");
    assert_eq!(dial_time(DelayScale::INSTANT), Duration::ZERO);
    let tenth = dial_time(DelayScale::new(0.1).expect("in range"));
    assert!(
        tenth.abs_diff(modeled / 10) < Duration::from_millis(1),
        "{tenth:?} against {modeled:?}"
    );
}
