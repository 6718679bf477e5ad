//! The realtime driver: modem-sim serves a real PTY on its own thread, the engine opens
//! the slave by its path as a serial port and dials through the public `Ras` API, with
//! timers and modem delays shrunk together by the default time scale.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use modem_sim::realtime::{CallInfo, spawn_pty};
use ras_engine::api::{DialParams, HRasConn, Ras};
use ras_engine::phonebook::Phonebook;
use ras_engine::ras::RasError;

use super::settled;
use super::{
    AppCalls, Record, RunOptions, Seen, StatusProbe, TraceSource, builtin_peer, dial_extensions,
    dial_params, engine_config, entry, recording_notifier,
};
use crate::scenario::{DialResult, Resume, Scenario};
use crate::trace::{StatusPoint, StatusResult};

/// Real time a dial may take before the run counts as stuck. At the default time scale a
/// whole PAP dial takes a small fraction of this.
const DIAL_TIME_LIMIT: Duration = Duration::from_secs(20);
/// How long to keep listening after the flow has ended, so that a notification that
/// should not have come is caught (and makes the drivers disagree).
const STRAY_WINDOW: Duration = Duration::from_millis(20);
/// How often to poll `connect_status` once notifications have been stopped.
const STATUS_POLL: Duration = Duration::from_millis(2);

pub(super) fn run(scenario: &Scenario, options: RunOptions) -> Result<Record, String> {
    let mut config = engine_config(scenario);
    // The engine writes its capture file into a folder of this run's own, read back below.
    let capture_dir = options.capture.then(CaptureDir::create).transpose()?;
    config.capture_dir = capture_dir.as_ref().map(|dir| dir.0.clone());
    let factory_scenario = scenario.clone();
    let peers = Box::new(move |_call: &CallInfo| {
        builtin_peer(&factory_scenario, factory_scenario.file.seed)
    });
    let modem = spawn_pty(scenario.file.network.clone(), peers, config.time_scale)
        .map_err(|e| format!("cannot start modem-sim on a PTY: {e}"))?;
    let phonebook = Phonebook::from_entries([entry(scenario, modem.path())]);
    let ras = Ras::new(config.clone());
    let hang_up_ras = ras.clone();
    let status_ras = ras.clone();
    let status: StatusProbe = Arc::new(move |handle| {
        StatusResult::of(
            status_ras
                .connect_status(handle)
                .map(|status| (status.state, status.error)),
        )
    });
    let calls = AppCalls {
        hang_up: Arc::new(move |handle| {
            // The record says whether it worked; a second hang-up of the same handle is
            // the application's mistake, not the run's.
            let _ = hang_up_ras.hang_up(handle);
        }),
        status,
    };
    let params = dial_params(scenario);
    let extensions = dial_extensions(scenario);
    let app = &scenario.app;
    // A new table hands out handle 1 first: "before" asks about the handle the dial is
    // about to get.
    let before = calls.status_line(app, StatusPoint::Before, HRasConn::from_raw(1));

    let (handle, mut record) =
        match recording_notifier(scenario.file.dial.notifier, app.clone(), calls.clone()) {
            None => {
                // Synchronous: RasDial itself returns the outcome; nothing is notified.
                let (result, handle) = match ras.dial(Some(&extensions), &phonebook, &params, None)
                {
                    Ok(handle) => (DialResult::Connected, Some(handle)),
                    Err(failure) => (DialResult::Failed(failure.error), failure.handle),
                };
                (
                    handle,
                    Record {
                        trace: Vec::new(),
                        result: Some(result),
                        transcript: Vec::new(),
                        status: Vec::new(),
                        capture: None,
                    },
                )
            }
            Some((notifier, source)) => {
                let handle = ras
                    .dial(Some(&extensions), &phonebook, &params, Some(notifier))
                    .map_err(|e| format!("RasDial did not start: {e}"))?;
                let app = App {
                    ras: &ras,
                    handle,
                    params,
                    resumes: scenario.app.resume.iter(),
                };
                (Some(handle), follow(app, &source)?)
            }
        };
    record.status.splice(0..0, before);
    // Hang up as every application must, then give the link time to come down so the
    // PTY is not torn away from a port still in use.
    if let Some(handle) = handle {
        record
            .status
            .extend(calls.status_line(app, StatusPoint::Settled, handle));
        let _ = ras.hang_up(handle);
        record
            .status
            .extend(calls.status_line(app, StatusPoint::HungUp, handle));
    }
    std::thread::sleep(ras.hang_up_settle_time());
    drop(modem);
    // By now the link is down and the dial's thread has written its last frame (the
    // capture file is unbuffered). A dial that never got a handle left no file.
    if let Some(path) = handle.and_then(|h| config.capture_path(&scenario.file.entry.name, h)) {
        record.capture = Some(read_capture(&path)?);
    }
    Ok(record)
}

/// The application's side of an asynchronous dial, outside its notifier.
struct App<'a> {
    ras: &'a Ras,
    handle: HRasConn,
    /// The dial parameters as last passed to RasDial.
    params: DialParams,
    /// How to resume each pause still to come.
    resumes: std::slice::Iter<'a, Resume>,
}

impl App<'_> {
    /// The dial paused and the notifier has returned: resume with the next change to the
    /// dial parameters, or give up and hang up (then the outcome is `hung-up`).
    fn paused(&mut self) -> Result<Option<DialResult>, String> {
        match self.resumes.next() {
            Some(resume) => {
                self.params = resume.apply(&self.params);
                self.ras
                    .resume(self.handle, &self.params)
                    .map_err(|e| format!("resume refused: {e}"))?;
                Ok(None)
            }
            None => {
                self.ras
                    .hang_up(self.handle)
                    .map_err(|e| format!("hang-up at a pause refused: {e}"))?;
                Ok(Some(DialResult::HungUp))
            }
        }
    }
}

/// A fresh folder for one run's capture, removed when the run is over.
struct CaptureDir(PathBuf);

impl CaptureDir {
    fn create() -> Result<Self, String> {
        // Runs may go on in parallel (one per test thread): each gets its own folder.
        static RUNS: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "conformance-capture-{}-{}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create the capture folder {}: {e}", dir.display()))?;
        Ok(CaptureDir(dir))
    }
}

impl Drop for CaptureDir {
    fn drop(&mut self) {
        // Leftovers in the temporary folder are harmless.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read_capture(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path)
        .map_err(|e| format!("the engine left no capture at {}: {e}", path.display()))
}

/// Read the notifier's calls until the dial has an outcome (or the application hung up),
/// then keep listening briefly for calls that should not come.
fn follow(mut app: App<'_>, source: &TraceSource) -> Result<Record, String> {
    let ras = app.ras;
    let handle = app.handle;
    let started = Instant::now();
    let left = || DIAL_TIME_LIMIT.saturating_sub(started.elapsed());
    let mut trace = Vec::new();
    let mut status = Vec::new();
    let mut result = None;
    let mut stopped = false;
    while result.is_none() && !stopped {
        match source.next(left()) {
            Some(Seen::Line(line)) => {
                trace.push(line);
                let error = (line.error != 0).then(|| RasError::from_code(line.error));
                result = settled(line.state, error);
                if error.is_none() && line.state.is_paused() {
                    result = app.paused()?;
                }
            }
            Some(Seen::Status(line)) => status.push(line),
            Some(Seen::HungUp) => result = Some(DialResult::HungUp),
            Some(Seen::Stopped) => stopped = true,
            None => break,
        }
    }
    // Notifications were stopped: the application polls the status instead, and handles a
    // pause it finds there once (until the dial has left that paused state).
    let mut handled_pause = false;
    while result.is_none() && stopped && !left().is_zero() {
        match ras.connect_status(handle) {
            Ok(status) if status.state.is_paused() && status.error.is_none() => {
                if !handled_pause {
                    handled_pause = true;
                    result = app.paused()?;
                }
            }
            Ok(status) => {
                handled_pause = false;
                result = settled(status.state, status.error);
            }
            Err(error) => {
                return Err(format!(
                    "status unavailable after notifications stopped: {error}"
                ));
            }
        }
        std::thread::sleep(STATUS_POLL);
    }
    while let Some(seen) = source.next(STRAY_WINDOW) {
        match seen {
            Seen::Line(line) => trace.push(line),
            Seen::Status(line) => status.push(line),
            Seen::HungUp | Seen::Stopped => {}
        }
    }
    match result {
        Some(_) => Ok(Record {
            result,
            trace,
            transcript: Vec::new(),
            status,
            capture: None,
        }),
        None => Err(format!(
            "no outcome within {} s (trace so far: {})",
            DIAL_TIME_LIMIT.as_secs(),
            trace
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}
