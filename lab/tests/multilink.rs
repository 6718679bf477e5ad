//! Multilink, RASEDM_DialAll, in the lab: one connection over several modems
//! (ras-reference §4.5 rules 26–28, §4.7 C, §4.4 rule 22). The phonebook text is §6.5's
//! multilink example with the ports and numbers of this lab.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, Mutex};

use modem_sim::Network;
use ppp_peer_sim::Script;
use ras_engine::api::{
    DialParams, EngineConfig, HRasConn, Notifier, NotifyControl, get_subentry_properties,
};
use ras_engine::phonebook::Phonebook;
use ras_engine::ras::{RasConnState, RasError};
use ras_lab::Lab;

use RasConnState::*;

/// Two-link entry (§6.5), `{PORTS}` and `{NUMBERS}` filled in per test.
fn phonebook(links: &[(&str, &str)]) -> Phonebook {
    let mut text = String::from(
        "[Bonded ISP]\nEncoding=1\nType=1\nNegotiateMultilinkAlways=1\nDialMode=1\n\
         SharedPhoneNumbers=0\nCallbackMode=0\nAuthRestrictions=552\n",
    );
    for (index, (port, number)) in links.iter().enumerate() {
        text.push_str(&format!(
            "\nMEDIA=serial\nPort={port}\nDevice=Modem {index}\nConnectBPS=115200\n\n\
             DEVICE=modem\nPhoneNumber={number}\nUseDialingRules=0\nTryNextAlternateOnFail=1\n"
        ));
    }
    Phonebook::parse(&text, None).unwrap()
}

const PORTS: [&str; 3] = ["/dev/ttyS0", "/dev/ttyS1", "/dev/ttyS2"];

const NETWORK: &str = r#"
modems: ["5550100", "5550101", "5550102"]
numbers:
  "5551234": {connect: 33600, peer: builtin}
  "5551235": {connect: 31200, peer: builtin}
  "5551236": {connect: 28800, peer: builtin}
  "5551240": {connect: 33600, peer: builtin, drop-after-seconds: 30}
  "5551241": {connect: 33600, peer: builtin, drop-after-seconds: 60}
  "5550000": busy
"#;

const SERVER: &str =
    "auth: mschapv2\nusers: {alice: wonderland}\nmultilink: {accept: true, max-links: 3}\n";

fn lab(modems: usize, script: &str) -> Lab {
    let network = Network::from_yaml(NETWORK).unwrap();
    PORTS[..modems]
        .iter()
        .fold(Lab::builder(EngineConfig::default()), |builder, port| {
            builder.modem(*port, network.clone())
        })
        .server(Script::from_yaml(script).unwrap(), 7)
        .build()
}

fn params() -> DialParams {
    DialParams {
        entry_name: "Bonded ISP".into(),
        user_name: "alice".into(),
        password: "wonderland".into(),
        ..DialParams::default()
    }
}

/// (subentry, state, error) as a RasDialFunc2 sees them.
type Trace = Arc<Mutex<Vec<(u32, RasConnState, u32)>>>;

fn func2(stop_at: Option<(u32, RasConnState)>) -> (Trace, Notifier) {
    let trace: Trace = Arc::default();
    let seen = Arc::clone(&trace);
    let notifier = Notifier::Func2(Box::new(
        move |_id, subentry, _handle, _msg, state, error, _extended| {
            seen.lock().unwrap().push((subentry, state, error));
            if stop_at == Some((subentry, state)) {
                NotifyControl::Stop
            } else {
                NotifyControl::Continue
            }
        },
    ));
    (trace, notifier)
}

fn of_link(trace: &Trace, subentry: u32) -> Vec<(RasConnState, u32)> {
    trace
        .lock()
        .unwrap()
        .iter()
        .filter(|(s, ..)| *s == subentry)
        .map(|(_, state, error)| (*state, *error))
        .collect()
}

/// A link's progress, as for a single-link dial (§4.7 A), ending in SubEntryConnected.
fn link_up() -> Vec<(RasConnState, u32)> {
    [
        OpenPort,
        PortOpened,
        ConnectDevice,
        DeviceConnected,
        AllDevicesConnected,
        Authenticate,
        AuthNotify,
        AuthProject,
        Authenticated,
        Projected,
        SubEntryConnected,
    ]
    .into_iter()
    .map(|state| (state, 0))
    .collect()
}

fn settled(lab: &Lab, handle: HRasConn) -> bool {
    let ras = lab.ras();
    lab.run_until(|| {
        ras.connect_status(handle)
            .is_ok_and(|s| s.state == Connected || s.error.is_some())
    })
}

#[test]
fn two_links_come_up_and_connect_once_both_have() {
    let lab = lab(2, SERVER);
    let ras = lab.ras();
    let book = phonebook(&[(PORTS[0], "5551234"), (PORTS[1], "5551235")]);
    let (trace, notifier) = func2(None);
    let handle = ras.dial(None, &book, &params(), Some(notifier)).unwrap();
    assert!(settled(&lab, handle));
    let mut link1 = link_up();
    link1.push((Connected, 0));
    assert_eq!(
        of_link(&trace, 1),
        link1,
        "Connected carries the lowest link up"
    );
    assert_eq!(of_link(&trace, 2), link_up());
    // Interleaved: link 2 started before link 1 finished.
    let all = trace.lock().unwrap().clone();
    let second_open = all.iter().position(|n| *n == (2, OpenPort, 0)).unwrap();
    let first_up = all
        .iter()
        .position(|n| *n == (1, SubEntryConnected, 0))
        .unwrap();
    assert!(second_open < first_up, "{all:?}");
    assert_eq!(all.last(), Some(&(1, Connected, 0)));
    assert!(
        all.iter().all(|(s, ..)| matches!(s, 1 | 2)),
        "only subentries 1 and 2: {all:?}"
    );
    // Both links are connected, each with a handle of its own.
    let link2 = ras.get_subentry_handle(handle, 2).unwrap();
    assert_ne!(link2, handle);
    assert_eq!(ras.connect_status(link2).unwrap().state, Connected);
    assert_eq!(ras.connect_status(link2).unwrap().phone_number, "5551235");
    let properties = get_subentry_properties(&book, "Bonded ISP", 2).unwrap();
    assert_eq!(properties.local_phone_number, "5551235");
    assert_eq!(properties.device_name, "Modem 1");
    assert_eq!(
        get_subentry_properties(&book, "Bonded ISP", 3).unwrap_err(),
        RasError::ERROR_NO_MORE_ITEMS
    );
    assert_eq!(ras.enum_connections().len(), 1);
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
    assert_eq!(
        ras.connect_status(link2).unwrap_err(),
        RasError::ERROR_INVALID_HANDLE
    );
}

#[test]
fn three_links_and_a_synchronous_dial() {
    let lab = lab(3, SERVER);
    let ras = lab.ras();
    let book = phonebook(&[
        (PORTS[0], "5551234"),
        (PORTS[1], "5551235"),
        (PORTS[2], "5551236"),
    ]);
    let handle = ras.dial(None, &book, &params(), None).unwrap();
    assert_eq!(ras.connect_status(handle).unwrap().state, Connected);
    for subentry in 1..=3 {
        let link = ras.get_subentry_handle(handle, subentry).unwrap();
        assert_eq!(ras.connect_status(link).unwrap().state, Connected);
    }
    assert_eq!(
        ras.get_subentry_handle(handle, 4).unwrap_err(),
        RasError::ERROR_NO_MORE_ITEMS
    );
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
}

#[test]
fn a_busy_link_is_reported_and_the_other_connects() {
    let lab = lab(2, SERVER);
    let ras = lab.ras();
    let book = phonebook(&[(PORTS[0], "5551234"), (PORTS[1], "5550000")]);
    let (trace, notifier) = func2(None);
    let handle = ras.dial(None, &book, &params(), Some(notifier)).unwrap();
    assert!(settled(&lab, handle));
    let busy = RasError::ERROR_LINE_BUSY.code();
    assert_eq!(
        of_link(&trace, 2),
        vec![
            (OpenPort, 0),
            (PortOpened, 0),
            (ConnectDevice, 0),
            (SubEntryDisconnected, busy)
        ]
    );
    assert_eq!(trace.lock().unwrap().last(), Some(&(1, Connected, 0)));
    assert_eq!(
        ras.get_subentry_handle(handle, 2).unwrap_err(),
        RasError::ERROR_PORT_NOT_OPEN
    );
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
}

#[test]
fn all_links_busy_fails_with_the_first_subentrys_error() {
    let lab = lab(2, SERVER);
    let ras = lab.ras();
    let book = phonebook(&[(PORTS[0], "5550000"), (PORTS[1], "5550000")]);
    let (trace, notifier) = func2(None);
    let handle = ras.dial(None, &book, &params(), Some(notifier)).unwrap();
    assert!(settled(&lab, handle));
    let busy = RasError::ERROR_LINE_BUSY.code();
    let all = trace.lock().unwrap().clone();
    assert!(all.contains(&(1, SubEntryDisconnected, busy)), "{all:?}");
    assert!(all.contains(&(2, SubEntryDisconnected, busy)), "{all:?}");
    assert_eq!(all.last(), Some(&(1, ConnectDevice, busy)));
    let status = ras.connect_status(handle).unwrap();
    assert_eq!(status.error, Some(RasError::ERROR_LINE_BUSY));
    // A synchronous dial fails the same way.
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
    let error = ras.dial(None, &book, &params(), None).unwrap_err();
    assert_eq!(error.error, RasError::ERROR_LINE_BUSY);
    ras.hang_up(error.handle.unwrap()).unwrap();
}

#[test]
fn second_link_failing_authentication_leaves_the_first() {
    // The server behind link 2's number refuses alice (E=691); link 1's accepts her.
    let accepting = Script::from_yaml(SERVER).unwrap();
    let refusing = Script::from_yaml(
        "auth: mschapv2\nusers: {alice: {password: wonderland, fail: 1}}\n\
         multilink: {accept: true}\n",
    )
    .unwrap();
    let network = Network::from_yaml(NETWORK).unwrap();
    let lab = Lab::builder(EngineConfig::default())
        .modem(PORTS[0], network.clone())
        .modem(PORTS[1], network)
        .peers(Box::new(move |call| {
            let script = if call.number == "5551235" {
                refusing.clone()
            } else {
                accepting.clone()
            };
            Ok(ppp_peer_sim::Server::new(script, 7).boxed())
        }))
        .build();
    let ras = lab.ras();
    let book = phonebook(&[(PORTS[0], "5551234"), (PORTS[1], "5551235")]);
    let (trace, notifier) = func2(None);
    let handle = ras.dial(None, &book, &params(), Some(notifier)).unwrap();
    assert!(settled(&lab, handle));
    let refused = RasError::ERROR_AUTHENTICATION_FAILURE.code();
    let link2 = of_link(&trace, 2);
    assert_eq!(
        link2.last(),
        Some(&(SubEntryDisconnected, refused)),
        "{link2:?}"
    );
    assert_eq!(trace.lock().unwrap().last(), Some(&(1, Connected, 0)));
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
}

#[test]
fn a_link_lost_after_connected_is_reported_and_the_last_ends_it() {
    let lab = lab(2, SERVER);
    let ras = lab.ras();
    let book = phonebook(&[(PORTS[0], "5551241"), (PORTS[1], "5551240")]);
    let (trace, notifier) = func2(None);
    let handle = ras.dial(None, &book, &params(), Some(notifier)).unwrap();
    assert!(settled(&lab, handle));
    assert_eq!(trace.lock().unwrap().last(), Some(&(1, Connected, 0)));
    // Link 2's call drops after 30 s: the connection carries on.
    lab.run_for(sansio::Duration::from_secs(40));
    let lost = *trace.lock().unwrap().last().unwrap();
    assert_eq!((lost.0, lost.1), (2, SubEntryDisconnected));
    assert_ne!(lost.2, 0);
    assert_eq!(ras.connect_status(handle).unwrap().state, Connected);
    assert_eq!(
        ras.get_subentry_handle(handle, 2).unwrap_err(),
        RasError::ERROR_PORT_NOT_OPEN
    );
    // Link 1's drops at 60 s: the last link, so the connection ends.
    lab.run_for(sansio::Duration::from_secs(30));
    let last = *trace.lock().unwrap().last().unwrap();
    assert_eq!((last.0, last.1), (1, SubEntryDisconnected));
    let status = ras.connect_status(handle).unwrap();
    assert_eq!(status.state, Disconnected);
    assert!(status.error.is_some());
    assert!(ras.enum_connections().is_empty());
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
}

#[test]
fn hanging_up_a_subentry_handle_drops_only_that_link() {
    let lab = lab(2, SERVER);
    let ras = lab.ras();
    let book = phonebook(&[(PORTS[0], "5551234"), (PORTS[1], "5551235")]);
    let handle = ras.dial(None, &book, &params(), None).unwrap();
    assert_eq!(
        ras.get_subentry_handle(HRasConn::from_raw(999), 1)
            .unwrap_err(),
        RasError::ERROR_INVALID_HANDLE
    );
    let link2 = ras.get_subentry_handle(handle, 2).unwrap();
    ras.hang_up(link2).unwrap();
    lab.run_for(sansio::Duration::from_secs(10));
    assert_eq!(ras.connect_status(handle).unwrap().state, Connected);
    assert_eq!(
        ras.get_subentry_handle(handle, 2).unwrap_err(),
        RasError::ERROR_PORT_NOT_OPEN
    );
    // The modem on link 2 is free again: its port was closed (DTR dropped).
    let transcript = lab.transcript(PORTS[1].as_ref());
    assert!(
        transcript
            .iter()
            .any(|l| l == "< NO CARRIER" || l.starts_with("> ATD"))
    );
    assert!(ras.get_subentry_handle(handle, 1).is_ok());
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
}

#[test]
fn stopping_from_subentry_2_stops_every_subentry() {
    let lab = lab(2, SERVER);
    let ras = lab.ras();
    let book = phonebook(&[(PORTS[0], "5551234"), (PORTS[1], "5551235")]);
    let (trace, notifier) = func2(Some((2, PortOpened)));
    let handle = ras.dial(None, &book, &params(), Some(notifier)).unwrap();
    assert!(settled(&lab, handle));
    let all = trace.lock().unwrap().clone();
    assert_eq!(all.last(), Some(&(2, PortOpened, 0)), "{all:?}");
    // The dial itself went on (rule 5).
    assert_eq!(ras.connect_status(handle).unwrap().state, Connected);
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
}

#[test]
fn rasdialfunc_and_rasdialfunc1_see_the_states_without_subentries() {
    let lab = lab(2, SERVER);
    let ras = lab.ras();
    let book = phonebook(&[(PORTS[0], "5551234"), (PORTS[1], "5550000")]);
    let states: Arc<Mutex<Vec<(RasConnState, u32)>>> = Arc::default();
    let seen = Arc::clone(&states);
    let notifier = Notifier::Func(Box::new(move |_msg, state, error| {
        seen.lock().unwrap().push((state, error));
    }));
    let handle = ras.dial(None, &book, &params(), Some(notifier)).unwrap();
    assert!(settled(&lab, handle));
    let func = states.lock().unwrap().clone();
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);

    let states1: Arc<Mutex<Vec<(RasConnState, u32)>>> = Arc::default();
    let seen = Arc::clone(&states1);
    let notifier = Notifier::Func1(Box::new(move |_handle, _msg, state, error, _ext| {
        seen.lock().unwrap().push((state, error));
    }));
    let (trace, func2_notifier) = func2(None);
    let handle = ras.dial(None, &book, &params(), Some(notifier)).unwrap();
    assert!(settled(&lab, handle));
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
    let handle = ras
        .dial(None, &book, &params(), Some(func2_notifier))
        .unwrap();
    assert!(settled(&lab, handle));
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);

    // The same interleaved flow, each link's states one after the other, without saying
    // which link: two OpenPorts, one SubEntryConnected and one SubEntryDisconnected (the
    // busy number), then Connected.
    let without_subentry: Vec<_> = trace.lock().unwrap().iter().map(|n| (n.1, n.2)).collect();
    assert_eq!(func, without_subentry);
    assert_eq!(*states1.lock().unwrap(), without_subentry);
    assert_eq!(func.iter().filter(|n| n.0 == OpenPort).count(), 2);
    assert_eq!(func.iter().filter(|n| n.0 == SubEntryConnected).count(), 1);
    assert_eq!(
        func.iter().filter(|n| n.0 == SubEntryDisconnected).count(),
        1
    );
    assert_eq!(func.last(), Some(&(Connected, 0)));
}

#[test]
fn a_server_refusing_multilink_keeps_the_connection_single_link() {
    let lab = lab(2, "auth: mschapv2\nusers: {alice: wonderland}\n");
    let ras = lab.ras();
    let book = phonebook(&[(PORTS[0], "5551234"), (PORTS[1], "5551235")]);
    let (trace, notifier) = func2(None);
    let handle = ras.dial(None, &book, &params(), Some(notifier)).unwrap();
    assert!(settled(&lab, handle));
    let all = trace.lock().unwrap().clone();
    let no_bundle = RasError::ERROR_BUNDLE_NOT_FOUND.code();
    // Whichever link finishes PPP first stays; the other is dropped.
    let dropped: Vec<_> = all.iter().filter(|n| n.1 == SubEntryDisconnected).collect();
    assert_eq!(dropped.len(), 1, "{all:?}");
    assert_eq!(dropped[0].2, no_bundle);
    let kept = if dropped[0].0 == 1 { 2 } else { 1 };
    assert_eq!(all.last(), Some(&(kept, Connected, 0)));
    lab.run_for(sansio::Duration::from_secs(10));
    assert_eq!(
        ras.get_subentry_handle(handle, dropped[0].0).unwrap_err(),
        RasError::ERROR_PORT_NOT_OPEN
    );
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
}

#[test]
fn one_server_process_puts_both_links_in_one_bundle() {
    let bundles = ppp_peer_sim::Bundles::default();
    let shared = bundles.clone();
    let script = Script::from_yaml(SERVER).unwrap();
    let network = Network::from_yaml(NETWORK).unwrap();
    let lab = Lab::builder(EngineConfig::default())
        .modem(PORTS[0], network.clone())
        .modem(PORTS[1], network)
        .peers(Box::new(move |_call| {
            Ok(ppp_peer_sim::Server::in_process(
                script.clone(),
                ras_engine::ppp::random::Entropy::Seed(7),
                &shared,
            )
            .boxed())
        }))
        .build();
    let ras = lab.ras();
    let book = phonebook(&[(PORTS[0], "5551234"), (PORTS[1], "5551235")]);
    let handle = ras.dial(None, &book, &params(), None).unwrap();
    // The same Endpoint Discriminator and name on both calls: one bundle (RFC 1990
    // §5.1.3).
    assert_eq!(bundles.len(), 1);
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
    lab.run_for(sansio::Duration::from_secs(10));
    assert!(bundles.is_empty(), "the bundle closes with its last link");
    // A redial opens a bundle again.
    let first = ras.dial(None, &book, &params(), None).unwrap();
    assert_eq!(bundles.len(), 1);
    ras.hang_up(first).unwrap();
    ras.wait_released(first);
}

/// What a link's number does, for the property test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkFate {
    Up,
    Busy,
    NoCarrier,
}

impl LinkFate {
    fn number(self) -> &'static str {
        match self {
            LinkFate::Up => "5551234",
            LinkFate::Busy => "5550000",
            LinkFate::NoCarrier => "5550002",
        }
    }
}

const PROPERTY_NETWORK: &str = r#"
modems: ["5550100", "5550101", "5550102"]
numbers:
  "5551234": {connect: 33600, peer: builtin}
  "5550000": busy
  "5550002": no-carrier
"#;

fn fate() -> impl proptest::strategy::Strategy<Value = LinkFate> {
    use proptest::prelude::*;
    prop_oneof![3 => Just(LinkFate::Up), 1 => Just(LinkFate::Busy), 1 => Just(LinkFate::NoCarrier)]
}

/// Random dial-all entries of two or three links, each on its own modem with its own
/// fate, dialed synchronously or with a RasDialFunc2, then one link hung up by its
/// subentry handle: the rules of §4.5 rule 26 and §4.4 rule 22 hold.
fn check_multilink(
    fates: &[LinkFate],
    sync: bool,
    drop_link: u32,
) -> Result<(), proptest::test_runner::TestCaseError> {
    use proptest::{prop_assert, prop_assert_eq};
    let network = Network::from_yaml(PROPERTY_NETWORK).unwrap();
    let lab = PORTS[..fates.len()]
        .iter()
        .fold(Lab::builder(EngineConfig::default()), |builder, port| {
            builder.modem(*port, network.clone())
        })
        .server(Script::from_yaml(SERVER).unwrap(), 7)
        .build();
    let ras = lab.ras();
    let links: Vec<(&str, &str)> = PORTS
        .iter()
        .zip(fates)
        .map(|(port, fate)| (*port, fate.number()))
        .collect();
    let book = phonebook(&links);
    let first_up = fates.iter().position(|f| *f == LinkFate::Up);
    let link1_error = match fates[0] {
        LinkFate::Up => None,
        LinkFate::Busy => Some(RasError::ERROR_LINE_BUSY),
        LinkFate::NoCarrier => Some(RasError::ERROR_NO_CARRIER),
    };
    let (handle, trace) = if sync {
        let result = ras.dial(None, &book, &params(), None);
        match first_up {
            Some(_) => prop_assert!(result.is_ok(), "{result:?}"),
            None => prop_assert_eq!(result.map_err(|f| f.error), Err(link1_error.unwrap())),
        }
        let handle = match result {
            Ok(handle) => handle,
            Err(failure) => failure.handle.unwrap(),
        };
        (handle, None)
    } else {
        let (trace, notifier) = func2(None);
        let handle = ras.dial(None, &book, &params(), Some(notifier)).unwrap();
        prop_assert!(settled(&lab, handle));
        (handle, Some(trace))
    };
    if let Some(trace) = trace {
        let all = trace.lock().unwrap().clone();
        for (index, fate) in fates.iter().enumerate() {
            let subentry = index as u32 + 1;
            let link = of_link(&trace, subentry);
            prop_assert_eq!(link.first(), Some(&(OpenPort, 0)));
            let finals: Vec<_> = link
                .iter()
                .filter(|(s, _)| matches!(s, SubEntryConnected | SubEntryDisconnected))
                .collect();
            prop_assert_eq!(finals.len(), 1, "one final state per link: {:?}", link);
            prop_assert_eq!(
                finals[0].0 == SubEntryConnected,
                *fate == LinkFate::Up,
                "{:?}",
                link
            );
        }
        // The connection's outcome comes last, after every link's final state.
        let last = *all.last().unwrap();
        match first_up {
            Some(index) => prop_assert_eq!(last, (index as u32 + 1, Connected, 0)),
            None => {
                prop_assert_eq!(last.0, 1);
                prop_assert_eq!(last.2, link1_error.unwrap().code());
            }
        }
    }
    if first_up.is_some() {
        // Rule 22: exactly the links that are up have handles.
        for (index, fate) in fates.iter().enumerate() {
            let result = ras.get_subentry_handle(handle, index as u32 + 1);
            match fate {
                LinkFate::Up => prop_assert!(result.is_ok()),
                _ => prop_assert_eq!(result, Err(RasError::ERROR_PORT_NOT_OPEN)),
            }
        }
        prop_assert_eq!(
            ras.get_subentry_handle(handle, fates.len() as u32 + 1),
            Err(RasError::ERROR_NO_MORE_ITEMS)
        );
        let drop_index = drop_link as usize % fates.len();
        if let Ok(link) = ras.get_subentry_handle(handle, drop_index as u32 + 1) {
            prop_assert_eq!(ras.hang_up(link), Ok(()));
            lab.run_for(sansio::Duration::from_secs(10));
            let others_up = fates
                .iter()
                .enumerate()
                .any(|(i, f)| i != drop_index && *f == LinkFate::Up);
            let status = ras.connect_status(handle).unwrap();
            if others_up {
                prop_assert_eq!(status.state, Connected);
            } else {
                prop_assert_eq!(status.state, Disconnected);
                prop_assert_eq!(status.error, Some(RasError::ERROR_USER_DISCONNECTION));
            }
        }
    }
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
    prop_assert_eq!(
        ras.connect_status(handle),
        Err(RasError::ERROR_INVALID_HANDLE)
    );
    // Every port is free again.
    let again = ras.dial(None, &book, &params(), None);
    let again = match again {
        Ok(handle) => handle,
        Err(failure) => {
            prop_assert!(failure.error != RasError::ERROR_PORT_ALREADY_OPEN);
            failure.handle.unwrap()
        }
    };
    ras.hang_up(again).unwrap();
    ras.wait_released(again);
    Ok(())
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config { cases: 64, ..Default::default() })]

    #[test]
    fn random_multilink_entries_keep_the_rules(
        fates in proptest::collection::vec(fate(), 2..=3),
        sync in proptest::bool::ANY,
        drop_link in 0u32..3,
    ) {
        check_multilink(&fates, sync, drop_link)?;
    }
}

/// Multilink fragments (protocol 0x003d) the engine sent (`sent`) or received in a
/// link's capture.
fn fragments(capture: &[u8], sent: bool) -> usize {
    let mut reader = pcap_file::pcap::PcapReader::new(capture).unwrap();
    let mut count = 0;
    while let Some(packet) = reader.next_packet() {
        let data = packet.unwrap().data;
        // Direction octet (nonzero: sent), ff 03, then the protocol.
        if (data[0] != 0) == sent && data[3..5] == [0x00, 0x3d] {
            count += 1;
        }
    }
    count
}

/// Two modems whose calls reach one server process (running `script`) sharing
/// `bundles`, capturing each line.
fn bundled_lab(bundles: &ppp_peer_sim::Bundles, script: &str) -> Lab {
    let shared = bundles.clone();
    let script = Script::from_yaml(script).unwrap();
    let network = Network::from_yaml(NETWORK).unwrap();
    Lab::builder(EngineConfig::default())
        .modem(PORTS[0], network.clone())
        .modem(PORTS[1], network)
        .capture(true)
        .peers(Box::new(move |_call| {
            Ok(ppp_peer_sim::Server::in_process(
                script.clone(),
                ras_engine::ppp::random::Entropy::Seed(7),
                &shared,
            )
            .boxed())
        }))
        .build()
}

#[test]
fn packets_cross_the_bundle_fragmented_and_arrive_in_order() {
    let bundles = ppp_peer_sim::Bundles::default();
    let lab = bundled_lab(&bundles, SERVER);
    let ras = lab.ras();
    let book = phonebook(&[(PORTS[0], "5551234"), (PORTS[1], "5551235")]);
    let handle = ras.dial(None, &book, &params(), None).unwrap();
    // 2,000 "datagrams" of 20 to 1,400 octets, each numbered.
    let packets: Vec<Vec<u8>> = (0..2000u32)
        .map(|n| {
            let len = 20 + (n as usize * 7919) % 1381;
            let mut packet = n.to_be_bytes().to_vec();
            packet.extend((0..len - 4).map(|i| (i as u32 ^ n) as u8));
            packet
        })
        .collect();
    for (n, packet) in packets.iter().enumerate() {
        ras.send_packet(handle, 0x0021, packet).unwrap();
        if n % 50 == 49 {
            // Let the lines drain now and then, as a sender paced by its link would.
            lab.run_for(sansio::Duration::from_secs(2));
        }
    }
    lab.run_for(sansio::Duration::from_secs(30));
    let delivered = bundles.take_delivered();
    let expected: Vec<Vec<u8>> = packets
        .iter()
        .map(|packet| [&[0x00, 0x21][..], packet].concat())
        .collect();
    assert_eq!(delivered.len(), expected.len());
    assert!(
        delivered == expected,
        "the server got other packets, or out of order"
    );
    assert_eq!(bundles.lost(), 0);
    // Both links carried fragments.
    for port in &PORTS[..2] {
        let capture = lab.take_capture(port.as_ref()).unwrap();
        assert!(
            fragments(&capture, true) > 100,
            "{port} carried few fragments"
        );
    }
    // Nothing came back: the server does not echo unless asked.
    assert_eq!(ras.receive_packet(handle), Ok(None));
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
    assert_eq!(
        ras.send_packet(handle, 0x0021, b"late"),
        Err(RasError::ERROR_INVALID_HANDLE)
    );
}

#[test]
fn packets_the_server_sends_back_are_received_in_order() {
    let echo =
        "auth: mschapv2\nusers: {alice: wonderland}\nmultilink: {accept: true, echo: true}\n";
    let bundles = ppp_peer_sim::Bundles::default();
    let lab = bundled_lab(&bundles, echo);
    let ras = lab.ras();
    let book = phonebook(&[(PORTS[0], "5551234"), (PORTS[1], "5551235")]);
    let handle = ras.dial(None, &book, &params(), None).unwrap();
    let packets: Vec<Vec<u8>> = (0..200u32)
        .map(|n| {
            let mut packet = n.to_be_bytes().to_vec();
            packet.resize(100 + (n as usize * 13) % 900, n as u8);
            packet
        })
        .collect();
    let mut received = Vec::new();
    for packet in &packets {
        ras.send_packet(handle, 0x0021, packet).unwrap();
        // The echoes come back fragmented over both links and are reassembled in order.
        lab.run_for(sansio::Duration::from_secs(1));
        while let Some(packet) = ras.receive_packet(handle).unwrap() {
            received.push(packet);
        }
    }
    let expected: Vec<(u16, Vec<u8>)> = packets.into_iter().map(|p| (0x0021, p)).collect();
    assert_eq!(received.len(), expected.len());
    assert!(received == expected, "the echoes differ");
    // They came as Multilink fragments on both links.
    for port in &PORTS[..2] {
        let capture = lab.take_capture(port.as_ref()).unwrap();
        assert!(
            fragments(&capture, false) > 50,
            "{port} received few fragments"
        );
    }
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
}

/// A dial-as-needed entry (DialMode=2) with its thresholds, two links.
fn as_needed_phonebook() -> Phonebook {
    let text = "[Bonded ISP]\nType=1\nDialMode=2\nDialPercent=75\nDialSeconds=5\n\
                HangUpPercent=10\nHangUpSeconds=10\n\n\
                MEDIA=serial\nPort=/dev/ttyS0\nDevice=Modem 0\n\nDEVICE=modem\nPhoneNumber=5551234\n\n\
                MEDIA=serial\nPort=/dev/ttyS1\nDevice=Modem 1\n\nDEVICE=modem\nPhoneNumber=5551235\n";
    Phonebook::parse(text, None).unwrap()
}

#[test]
fn dial_as_needed_adds_a_link_under_load_and_drops_it_when_idle() {
    use ras_engine::api::rascn;
    let lab = lab(2, SERVER);
    let ras = lab.ras();
    let book = as_needed_phonebook();
    let everything = rascn::CONNECTION
        | rascn::DISCONNECTION
        | rascn::BANDWIDTH_ADDED
        | rascn::BANDWIDTH_REMOVED;
    let any = ras.connection_notification(None, everything).unwrap();
    // Rule 27: dwSubEntry names the first link: subentry 2.
    let (trace, notifier) = func2(None);
    let mut first_link_2 = params();
    first_link_2.sub_entry = 2;
    let handle = ras
        .dial(None, &book, &first_link_2, Some(notifier))
        .unwrap();
    assert!(settled(&lab, handle));
    let mut expected = link_up();
    expected.push((Connected, 0));
    assert_eq!(of_link(&trace, 2), expected);
    assert!(of_link(&trace, 1).is_empty(), "link 1 is not dialed yet");
    assert_eq!(
        ras.get_subentry_handle(handle, 1),
        Err(RasError::ERROR_PORT_NOT_OPEN)
    );
    let events = ras
        .connection_notification(Some(handle), everything)
        .unwrap();
    let flags = |events: &std::sync::mpsc::Receiver<ras_engine::api::ConnectionNotification>| {
        events.try_iter().map(|n| n.flag).collect::<Vec<_>>()
    };
    assert_eq!(flags(&any), [rascn::CONNECTION]);
    // Load: 4,000 octets a second, about 95 % of a 33,600 bit/s line, until the second
    // link is up (DialSeconds to notice, then the time a dial takes).
    let mut added = Vec::new();
    for _ in 0..60 {
        for _ in 0..4 {
            ras.send_packet(handle, 0x0021, &[0x45; 998]).unwrap();
        }
        lab.run_for(sansio::Duration::from_secs(1));
        added.extend(flags(&events));
        if !added.is_empty() {
            break;
        }
    }
    assert_eq!(added, [rascn::BANDWIDTH_ADDED]);
    assert!(
        ras.get_subentry_handle(handle, 1).is_ok(),
        "link 1 was added"
    );
    // Idle for HangUpSeconds: the added link goes.
    lab.run_for(sansio::Duration::from_secs(15));
    assert_eq!(flags(&events), [rascn::BANDWIDTH_REMOVED]);
    assert_eq!(
        ras.get_subentry_handle(handle, 1),
        Err(RasError::ERROR_PORT_NOT_OPEN)
    );
    assert_eq!(ras.connect_status(handle).unwrap().state, Connected);
    // The RasDial notifier heard nothing of it (rule 27).
    assert_eq!(trace.lock().unwrap().last(), Some(&(2, Connected, 0)));
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
    assert_eq!(flags(&events), [rascn::DISCONNECTION]);
    assert_eq!(
        ras.connection_notification(Some(handle), everything)
            .unwrap_err(),
        RasError::ERROR_INVALID_HANDLE
    );
}

#[test]
fn rascn_disconnection_comes_only_when_every_link_is_down() {
    use ras_engine::api::rascn;
    let lab = lab(2, SERVER);
    let ras = lab.ras();
    let book = phonebook(&[(PORTS[0], "5551241"), (PORTS[1], "5551240")]);
    let handle = ras.dial(None, &book, &params(), None).unwrap();
    let events = ras
        .connection_notification(
            Some(handle),
            rascn::DISCONNECTION | rascn::BANDWIDTH_REMOVED,
        )
        .unwrap();
    lab.run_for(sansio::Duration::from_secs(40));
    let flags: Vec<u32> = events.try_iter().map(|n| n.flag).collect();
    assert_eq!(
        flags,
        [rascn::BANDWIDTH_REMOVED],
        "link 2 dropped, link 1 up"
    );
    lab.run_for(sansio::Duration::from_secs(30));
    let flags: Vec<u32> = events.try_iter().map(|n| n.flag).collect();
    assert_eq!(flags, [rascn::BANDWIDTH_REMOVED, rascn::DISCONNECTION]);
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
}

/// Interop (DESIGN §8): tshark dissects a bundled link's capture, MP fragments included
/// (RFC 1990 §3, long sequence numbers), without a warning.
#[test]
fn tshark_decodes_the_multilink_fragments() {
    let Some(tshark) = testkit::required_program("tshark", "tshark") else {
        return;
    };
    let bundles = ppp_peer_sim::Bundles::default();
    let lab = bundled_lab(&bundles, SERVER);
    let ras = lab.ras();
    let book = phonebook(&[(PORTS[0], "5551234"), (PORTS[1], "5551235")]);
    let handle = ras.dial(None, &book, &params(), None).unwrap();
    for n in 0..20u8 {
        ras.send_packet(handle, 0x0021, &[n; 600]).unwrap();
    }
    lab.run_for(sansio::Duration::from_secs(5));
    assert_eq!(bundles.take_delivered().len(), 20);
    let path = std::env::temp_dir().join(format!("multilink-{}.pcap", std::process::id()));
    std::fs::write(&path, lab.take_capture(PORTS[0].as_ref()).unwrap()).unwrap();
    let output = std::process::Command::new(tshark)
        .arg("-r")
        .arg(&path)
        .arg("-V")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(output.status.success());
    let verbose = String::from_utf8(output.stdout).unwrap();
    for wanted in [
        "PPP Multilink Protocol",
        "Multilink MRRU",
        "Multilink Endpoint Discriminator",
    ] {
        assert!(
            verbose.contains(wanted),
            "tshark shows no `{wanted}`:\n{verbose}"
        );
    }
    for warning in ["Malformed", "Expert Info"] {
        assert!(
            !verbose.contains(warning),
            "tshark reports `{warning}`:\n{verbose}"
        );
    }
    ras.hang_up(handle).unwrap();
    ras.wait_released(handle);
}
