//! Property tests on the public `Ras` API (issue 9): random sequences of dial, resume,
//! hang-up, status and enumeration over one to four entries on one to three modems, run in
//! virtual time, checked against ras-reference §4.1–4.4:
//!
//! - a new connection never gets the handle of a live one; a dial of a connected entry
//!   returns that connection's handle (rule 23);
//! - a handle stays valid until its last reference is released and its port closed, then
//!   is ERROR_INVALID_HANDLE for status and hang-up alike (rules 20, 21, 23);
//! - a second entry on a port in use fails with 602 before it starts;
//! - no notification after the application's hang-up or after RasDialFunc2 returned 0,
//!   the first one is OpenPort, at most one carries an error and it is the last, nothing
//!   follows Connected (rules 1–5);
//! - at the end, with every reference released, every port is free again: each entry
//!   dials anew and connects or fails with its own number's error.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use modem_sim::Network;
use ppp_peer_sim::Script;
use proptest::prelude::*;
use ras_engine::api::{
    DialExtensions, DialParams, EngineConfig, HRasConn, Notifier, NotifyControl, rdeopt,
};
use ras_engine::phonebook::{Entry, Phonebook};
use ras_engine::ras::{RasConnState, RasError};
use ras_lab::Lab;
use sansio::Duration;

const NETWORK: &str = "numbers:\n  \"5551234\": {connect: 33600, peer: builtin}\n  \"5550000\": busy\n  \"5559999\": {connect: 33600, peer: builtin}\n";
/// 5559999 reaches the same server, whose account for `bob` expires its password (a
/// pause, when paused states are on).
const SCRIPT: &str =
    "auth: mschapv2\nusers:\n  alice: wonderland\n  bob: {password: pw, outcome: expired}\n";

/// One entry: its modem and its number.
#[derive(Debug, Clone)]
struct EntrySpec {
    modem: usize,
    number: &'static str,
    user: &'static str,
}

#[derive(Debug, Clone)]
enum Op {
    /// RasDial of entry N: synchronous, or with a RasDialFunc2 that stops at a state.
    Dial {
        entry: usize,
        sync: bool,
        paused_states: bool,
        stop_at: Option<RasConnState>,
    },
    /// RasHangUp of the Nth handle handed out so far.
    HangUp(usize),
    /// RasDial on the Nth handle (resume), with a new password.
    Resume(usize),
    /// RasGetConnectStatus of the Nth handle.
    Status(usize),
    /// RasEnumConnections.
    Enum,
    /// Let time pass.
    Run(u64),
}

fn entries() -> impl Strategy<Value = Vec<EntrySpec>> {
    prop::collection::vec(
        (
            0usize..3,
            prop_oneof![3 => Just("5551234"), 1 => Just("5550000"), 1 => Just("5559999")],
        )
            .prop_map(|(modem, number)| EntrySpec {
                modem,
                number,
                user: if number == "5559999" { "bob" } else { "alice" },
            }),
        1..=4,
    )
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        3 => (0usize..4, any::<bool>(), any::<bool>(), prop_oneof![
            4 => Just(None),
            1 => Just(Some(RasConnState::PortOpened)),
            1 => Just(Some(RasConnState::Authenticate)),
        ])
            .prop_map(|(entry, sync, paused_states, stop_at)| Op::Dial { entry, sync, paused_states, stop_at }),
        2 => (0usize..6).prop_map(Op::HangUp),
        1 => (0usize..6).prop_map(Op::Resume),
        1 => (0usize..6).prop_map(Op::Status),
        1 => Just(Op::Enum),
        2 => (0u64..40).prop_map(Op::Run),
    ];
    prop::collection::vec(op, 1..12)
}

/// What one asynchronous dial's notifier saw.
#[derive(Debug, Default)]
struct Seen {
    calls: Vec<(RasConnState, u32)>,
    /// A call came after the application's hang-up returned or after it asked to stop.
    late: bool,
}

/// One handle the application holds, with its notifier's record.
struct Held {
    handle: HRasConn,
    entry: usize,
    seen: Option<Arc<Mutex<Seen>>>,
    ended: Arc<AtomicBool>,
}

fn lab(modems: usize) -> Lab {
    let network = Network::from_yaml(NETWORK).expect("network");
    let script = Script::from_yaml(SCRIPT).expect("script");
    let mut builder = Lab::builder(EngineConfig::default()).server(script, 3);
    for modem in 0..modems {
        builder = builder.modem(format!("/dev/lab{modem}"), network.clone());
    }
    builder.build()
}

fn check(entries: &[EntrySpec], ops: &[Op]) -> Result<(), TestCaseError> {
    let lab = lab(3);
    let ras = lab.ras();
    let phonebook = Phonebook::from_entries(entries.iter().enumerate().map(|(i, spec)| {
        Entry::modem(
            format!("E{i}"),
            format!("/dev/lab{}", spec.modem),
            spec.number,
        )
    }));
    let mut held: Vec<Held> = Vec::new();
    // References each live handle holds (rule 23), by handle.
    let mut references: BTreeMap<HRasConn, u32> = BTreeMap::new();
    for op in ops {
        match op {
            Op::Dial {
                entry,
                sync,
                paused_states,
                stop_at,
            } => {
                let entry = entry % entries.len();
                let params = DialParams {
                    entry_name: format!("E{entry}"),
                    user_name: entries[entry].user.to_owned(),
                    password: if entries[entry].user == "bob" {
                        "pw"
                    } else {
                        "wonderland"
                    }
                    .to_owned(),
                    ..DialParams::default()
                };
                let extensions = DialExtensions {
                    options: if *paused_states {
                        rdeopt::PAUSED_STATES
                    } else {
                        0
                    },
                    ..DialExtensions::default()
                };
                let connected_same_entry = held.iter().find(|h| {
                    h.entry == entry
                        && references.contains_key(&h.handle)
                        && ras
                            .connect_status(h.handle)
                            .is_ok_and(|s| s.state == RasConnState::Connected)
                });
                let expected_reference = connected_same_entry.map(|h| h.handle);
                let port_taken = held.iter().any(|h| {
                    ras.connect_status(h.handle).is_ok()
                        && entries[h.entry].modem == entries[entry].modem
                });
                let (notifier, seen, ended) = if *sync {
                    (None, None, Arc::new(AtomicBool::new(false)))
                } else {
                    let seen = Arc::new(Mutex::new(Seen::default()));
                    let ended = Arc::new(AtomicBool::new(false));
                    let (record, stopped) = (Arc::clone(&seen), Arc::clone(&ended));
                    let stop_at = *stop_at;
                    let notifier = Notifier::Func2(Box::new(move |_, _, _, _, state, error, _| {
                        let mut seen = record.lock().unwrap_or_else(|p| p.into_inner());
                        if stopped.load(Ordering::SeqCst) {
                            seen.late = true;
                        }
                        seen.calls.push((state, error));
                        if stop_at == Some(state) && error == 0 {
                            stopped.store(true, Ordering::SeqCst);
                            return NotifyControl::Stop;
                        }
                        NotifyControl::Continue
                    }));
                    (Some(notifier), Some(seen), ended)
                };
                match ras.dial(Some(&extensions), &phonebook, &params, notifier) {
                    Ok(handle) => {
                        if let Some(existing) = expected_reference {
                            prop_assert_eq!(handle, existing, "rule 23: the same connection");
                        } else {
                            prop_assert!(
                                !references.contains_key(&handle),
                                "a live handle {handle} was handed out again"
                            );
                        }
                        *references.entry(handle).or_default() += 1;
                        held.push(Held {
                            handle,
                            entry,
                            seen,
                            ended,
                        });
                    }
                    Err(failure) => match failure.handle {
                        Some(handle) => {
                            // A synchronous dial that failed still holds its handle.
                            prop_assert!(*sync);
                            *references.entry(handle).or_default() += 1;
                            held.push(Held {
                                handle,
                                entry,
                                seen,
                                ended,
                            });
                        }
                        None => {
                            prop_assert_eq!(failure.error, RasError::ERROR_PORT_ALREADY_OPEN);
                            prop_assert!(port_taken, "602 with the port free");
                        }
                    },
                }
            }
            Op::HangUp(n) => {
                let Some(h) = held.get(*n % held.len().max(1)) else {
                    continue;
                };
                let handle = h.handle;
                match references.get_mut(&handle) {
                    Some(count) => {
                        prop_assert_eq!(ras.hang_up(handle), Ok(()));
                        *count -= 1;
                        if *count == 0 {
                            references.remove(&handle);
                            // Nothing is notified once RasHangUp has returned.
                            for h in held.iter().filter(|h| h.handle == handle) {
                                h.ended.store(true, Ordering::SeqCst);
                            }
                            ras.wait_released(handle);
                            prop_assert_eq!(
                                ras.connect_status(handle),
                                Err(RasError::ERROR_INVALID_HANDLE)
                            );
                        } else {
                            prop_assert!(ras.connect_status(handle).is_ok(), "a reference is left");
                        }
                    }
                    None => {
                        prop_assert_eq!(ras.hang_up(handle), Err(RasError::ERROR_INVALID_HANDLE))
                    }
                }
            }
            Op::Resume(n) => {
                let Some(h) = held.get(*n % held.len().max(1)) else {
                    continue;
                };
                let params = DialParams {
                    entry_name: format!("E{}", h.entry),
                    user_name: entries[h.entry].user.to_owned(),
                    password: "new-password".to_owned(),
                    ..DialParams::default()
                };
                let paused = ras
                    .connect_status(h.handle)
                    .is_ok_and(|s| s.state.is_paused());
                let result = ras.resume(h.handle, &params);
                if !references.contains_key(&h.handle) {
                    prop_assert_eq!(result, Err(RasError::ERROR_INVALID_HANDLE));
                } else if !paused {
                    prop_assert_eq!(result, Err(RasError::ERROR_INVALID_PARAMETER));
                }
            }
            Op::Status(n) => {
                let Some(h) = held.get(*n % held.len().max(1)) else {
                    continue;
                };
                let status = ras.connect_status(h.handle);
                prop_assert_eq!(status.is_ok(), references.contains_key(&h.handle));
            }
            Op::Enum => {
                for conn in ras.enum_connections() {
                    prop_assert!(
                        references.contains_key(&conn.handle),
                        "enum lists a released handle"
                    );
                    let status = ras.connect_status(conn.handle);
                    prop_assert!(status.is_ok_and(|s| s.state == RasConnState::Connected));
                }
            }
            Op::Run(seconds) => lab.run_for(Duration::from_secs(*seconds)),
        }
    }
    // Release everything.
    for (handle, count) in std::mem::take(&mut references) {
        for _ in 0..count {
            prop_assert_eq!(ras.hang_up(handle), Ok(()));
        }
        for h in held.iter().filter(|h| h.handle == handle) {
            h.ended.store(true, Ordering::SeqCst);
        }
        ras.wait_released(handle);
        prop_assert_eq!(
            ras.connect_status(handle),
            Err(RasError::ERROR_INVALID_HANDLE)
        );
    }
    lab.run_for(Duration::from_secs(5));
    prop_assert!(ras.enum_connections().is_empty());
    for h in &held {
        if let Some(seen) = &h.seen {
            let seen = seen.lock().unwrap_or_else(|p| p.into_inner());
            prop_assert!(
                !seen.late,
                "a notification after hang-up or stop: {:?}",
                seen.calls
            );
            // Referenced dials hear Connected alone; new ones start with OpenPort.
            if let Some(first) = seen.calls.first() {
                prop_assert!(
                    first.0 == RasConnState::OpenPort || first.0 == RasConnState::Connected,
                    "first notification {:?}",
                    first
                );
            }
            let ends = seen
                .calls
                .iter()
                .position(|(state, error)| *error != 0 || *state == RasConnState::Connected);
            if let Some(end) = ends {
                prop_assert_eq!(
                    end,
                    seen.calls.len() - 1,
                    "nothing after the end: {:?}",
                    seen.calls
                );
            }
        }
    }
    // Every port is free: each entry dials anew, synchronously, to its number's outcome.
    for (index, spec) in entries.iter().enumerate() {
        let params = DialParams {
            entry_name: format!("E{index}"),
            user_name: "alice".to_owned(),
            password: "wonderland".to_owned(),
            ..DialParams::default()
        };
        let result = ras.dial(None, &phonebook, &params, None);
        let handle = match &result {
            Ok(handle) => *handle,
            Err(failure) => match failure.handle {
                Some(handle) => handle,
                None => {
                    // Another entry on the same modem is connected from this loop.
                    prop_assert_eq!(failure.error, RasError::ERROR_PORT_ALREADY_OPEN);
                    continue;
                }
            },
        };
        match spec.number {
            "5550000" => {
                prop_assert_eq!(result.map_err(|f| f.error), Err(RasError::ERROR_LINE_BUSY))
            }
            _ => prop_assert!(result.is_ok(), "entry {index}: {:?}", result),
        }
        prop_assert_eq!(ras.hang_up(handle), Ok(()));
        ras.wait_released(handle);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn the_api_keeps_its_rules_under_any_sequence(entries in entries(), ops in ops()) {
        check(&entries, &ops)?;
    }
}
