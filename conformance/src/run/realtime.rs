//! The realtime driver: modem-sim serves a real PTY on its own thread, the engine opens
//! the slave by its path as a serial port and dials through the public `Ras` API, with
//! timers and modem delays shrunk together by the default time scale.

use std::time::{Duration, Instant};

use modem_sim::realtime::{CallInfo, spawn_pty};
use ras_engine::api::Ras;
use ras_engine::phonebook::Phonebook;

use super::{Record, builtin_peer, dial_params, engine_config, entry, recording_notifier};
use crate::scenario::Scenario;

/// Real time a dial may take before the run counts as stuck. At the default time scale a
/// whole PAP dial takes a small fraction of this.
const DIAL_TIME_LIMIT: Duration = Duration::from_secs(20);

pub(super) fn run(scenario: &Scenario) -> Result<Record, String> {
    let config = engine_config(scenario);
    let factory_scenario = scenario.clone();
    let peers = Box::new(move |_call: &CallInfo| {
        builtin_peer(&factory_scenario, factory_scenario.file.seed)
    });
    let modem = spawn_pty(scenario.file.network.clone(), peers, config.time_scale)
        .map_err(|e| format!("cannot start modem-sim on a PTY: {e}"))?;
    let phonebook = Phonebook::from_entries([entry(scenario, modem.path())]);
    let ras = Ras::new(config);
    let (notifier, source) = recording_notifier(scenario.file.dial.notifier);
    let handle = ras
        .dial(None, &phonebook, &dial_params(scenario), Some(notifier))
        .map_err(|e| format!("RasDial did not start: {e}"))?;

    let started = Instant::now();
    let mut trace = Vec::new();
    let mut result = None;
    while result.is_none() {
        let left = DIAL_TIME_LIMIT.saturating_sub(started.elapsed());
        if left.is_zero() {
            break;
        }
        if let Some(line) = source.next(left) {
            trace.push(line);
            result = Record::result_of(&trace);
        }
    }
    // Hang up as every application must, then give the link time to come down so the
    // PTY is not torn away from a port still in use.
    let _ = ras.hang_up(handle);
    std::thread::sleep(ras.hang_up_settle_time());
    drop(modem);
    match result {
        Some(_) => Ok(Record {
            result,
            trace,
            transcript: Vec::new(),
        }),
        None => Err(format!(
            "no final notification within {} s (trace so far: {})",
            DIAL_TIME_LIMIT.as_secs(),
            trace
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}
