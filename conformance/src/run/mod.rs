//! Running a scenario under a driver and recording what happened.

mod realtime;
mod simulated;

use std::fmt;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use ras_engine::api::{
    DialExtensions, DialParams, EngineConfig, HRasConn, Notifier, NotifyControl, WindowMessage,
    rdeopt,
};
use ras_engine::phonebook::{AuthRestrictions, Entry};
use ras_engine::ras::{RasConnState, RasError};

use sansio::{LinePeer, TimeScale};

use crate::scenario::{App, DialResult, NotifierKind, Resume, Scenario};
use crate::trace::{StatusLine, StatusPoint, StatusResult, TraceLine};

/// Which driver runs the machines (DESIGN §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum Driver {
    /// The deterministic discrete-event loop on a virtual clock.
    Simulated,
    /// tokio, a real PTY from modem-sim, the engine opening it as a serial port.
    Realtime,
}

impl Driver {
    /// Both drivers, in the order they run.
    pub const BOTH: [Driver; 2] = [Driver::Simulated, Driver::Realtime];
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Driver::Simulated => "simulated",
            Driver::Realtime => "realtime",
        })
    }
}

/// What one run recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Every notification the application received, in order.
    pub trace: Vec<TraceLine>,
    /// How the dial ended, if it ended.
    pub result: Option<DialResult>,
    /// The modem's AT transcript (`>` from the dialer, `<` from the modem), where the
    /// driver can see it.
    pub transcript: Vec<String>,
    /// Every `RasGetConnectStatus` the application made, in order.
    pub status: Vec<StatusLine>,
    /// The engine's line as a pcap file (`ras_ppp::Capture`), when [`RunOptions::capture`]
    /// asked for it.
    pub capture: Option<Vec<u8>>,
}

/// What a run records beyond the notification trace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Record every byte the engine sends and receives, as PPP frames in a pcap file.
    pub capture: bool,
}

impl StatusResult {
    /// What a `connect_status` call returned.
    fn of(result: Result<(RasConnState, Option<RasError>), RasError>) -> Self {
        match result {
            Ok((state, error)) => StatusResult::Status {
                state,
                error: error.map_or(0, RasError::code),
            },
            Err(error) => StatusResult::Failed(error.code()),
        }
    }
}

/// How a dial stands once it has settled, as `RasGetConnectStatus` reports it: an error,
/// Connected, or (still in progress) nothing yet.
fn settled(state: RasConnState, error: Option<RasError>) -> Option<DialResult> {
    match error {
        Some(error) => Some(DialResult::Failed(error)),
        None if state == RasConnState::Connected => Some(DialResult::Connected),
        None => None,
    }
}

/// A run that could not be carried out (as opposed to one whose expectations failed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{driver} driver: {message}")]
pub struct RunError {
    /// The driver.
    pub driver: Driver,
    /// What went wrong.
    pub message: String,
}

/// Run `scenario` under `driver`.
pub fn run(scenario: &Scenario, driver: Driver) -> Result<Record, RunError> {
    run_with(scenario, driver, RunOptions::default())
}

/// Run `scenario` under `driver`, recording what `options` ask for.
pub fn run_with(
    scenario: &Scenario,
    driver: Driver,
    options: RunOptions,
) -> Result<Record, RunError> {
    match driver {
        Driver::Simulated => simulated::run(scenario, options),
        Driver::Realtime => realtime::run(scenario, options),
    }
    .map_err(|message| RunError { driver, message })
}

/// The dial parameters a scenario asks for.
fn dial_params(scenario: &Scenario) -> DialParams {
    let dial = &scenario.file.dial;
    DialParams {
        entry_name: scenario.file.entry.name.clone(),
        phone_number: dial.phone.clone(),
        user_name: dial.user.clone(),
        password: dial.password.clone(),
        domain: dial.domain.clone(),
        callback_id: dial.callback_id,
        ..DialParams::default()
    }
}

/// The dial extensions a scenario asks for.
fn dial_extensions(scenario: &Scenario) -> DialExtensions {
    DialExtensions {
        options: if scenario.file.dial.paused_states {
            rdeopt::PAUSED_STATES
        } else {
            0
        },
    }
}

impl Resume {
    /// The dial parameters for resuming: `params` with this resume's changes.
    fn apply(&self, params: &DialParams) -> DialParams {
        let mut params = params.clone();
        for (field, change) in [
            (&mut params.user_name, &self.user),
            (&mut params.password, &self.password),
            (&mut params.domain, &self.domain),
        ] {
            if let Some(value) = change {
                field.clone_from(value);
            }
        }
        params
    }
}

/// The engine settings a scenario runs with.
fn engine_config(scenario: &Scenario) -> EngineConfig {
    EngineConfig {
        seed: Some(scenario.file.seed),
        time_scale: TimeScale::DEFAULT,
        no_carrier: scenario.no_carrier,
        ..EngineConfig::default()
    }
}

/// The server behind `peer: builtin`: the scenario's scripted PPP server.
fn builtin_peer(scenario: &Scenario, seed: u32) -> Result<LinePeer, String> {
    let script = scenario.file.server.clone().ok_or_else(|| {
        "the dialed number connects to `peer: builtin`, but the scenario has no `server:` script".to_owned()
    })?;
    Ok(Box::new(ppp_peer_sim::Server::new(
        script,
        seed ^ SERVER_SEED_SALT,
    )))
}

/// Keeps the server's magic numbers apart from the engine's for the same seed.
const SERVER_SEED_SALT: u32 = 0x5345_5256;

/// The phonebook entry a scenario dials, on `device`.
fn entry(scenario: &Scenario, device: &std::path::Path) -> Entry {
    let spec = &scenario.file.entry;
    let mut entry = Entry::modem(&spec.name, device, &spec.phone);
    entry.auth_restrictions = spec.auth_restrictions.map(AuthRestrictions);
    entry
}

/// How the application hangs up from inside its notifier, given the handle the notifier
/// was called with.
pub(crate) type HangUp = Arc<dyn Fn(HRasConn) + Send + Sync>;

/// How the application calls `RasGetConnectStatus` on a handle.
pub(crate) type StatusProbe = Arc<dyn Fn(HRasConn) -> StatusResult + Send + Sync>;

/// What the application can do from inside its notifier, as the driver provides it.
#[derive(Clone)]
pub(crate) struct AppCalls {
    /// `RasHangUp`.
    pub(crate) hang_up: HangUp,
    /// `RasGetConnectStatus`.
    pub(crate) status: StatusProbe,
}

impl AppCalls {
    /// A status line for `point`, if the scenario asks for one there.
    fn status_line(&self, app: &App, point: StatusPoint, handle: HRasConn) -> Option<StatusLine> {
        app.asks_status(point).then(|| StatusLine {
            point,
            result: (self.status)(handle),
        })
    }
}

/// What the recording notifier saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// A notification.
    Line(TraceLine),
    /// A status the application took inside the notifier.
    Status(StatusLine),
    /// The application hung up from inside the notifier (after recording the line).
    HungUp,
    /// The application asked RasDialFunc2 to stop notifying.
    Stopped,
}

/// Where a recording notifier's calls arrive.
enum TraceSource {
    /// RasDialFunc/1/2 record what they see directly.
    Calls(mpsc::Receiver<Seen>),
    /// A window notifier's messages, turned into lines as they are read (the "window
    /// procedure"); a window message has no subentry, so its lines say 1.
    Window(mpsc::Receiver<WindowMessage>),
}

impl TraceSource {
    /// The next thing seen, waiting at most `timeout`.
    fn next(&self, timeout: Duration) -> Option<Seen> {
        match self {
            TraceSource::Calls(rx) => rx.recv_timeout(timeout).ok(),
            TraceSource::Window(rx) => rx.recv_timeout(timeout).ok().map(|m| {
                Seen::Line(TraceLine {
                    subentry: 1,
                    state: m.wparam,
                    error: m.lparam,
                })
            }),
        }
    }
}

/// A notifier of the scenario's kind that records every call and plays the scenario's
/// application script; `None` for a synchronous dial. Each kind records what it is
/// given: RasDialFunc and RasDialFunc1 have no subentry, so their lines say 1.
fn recording_notifier(
    kind: NotifierKind,
    app: App,
    calls: AppCalls,
) -> Option<(Notifier, TraceSource)> {
    let (tx, rx) = mpsc::channel();
    // The receiver is gone only once the run is over; late calls have nowhere to go.
    let record = move |handle: Option<HRasConn>, subentry, state, error| {
        let _ = tx.send(Seen::Line(TraceLine {
            subentry,
            state,
            error,
        }));
        let entering = error == 0;
        if let Some(handle) = handle
            && entering
            && let Some(line) = calls.status_line(&app, StatusPoint::At(state), handle)
        {
            let _ = tx.send(Seen::Status(line));
        }
        if entering
            && app.hang_up_at == Some(state)
            && let Some(handle) = handle
        {
            (calls.hang_up)(handle);
            let _ = tx.send(Seen::HungUp);
        }
        if entering && app.stop_at == Some(state) {
            let _ = tx.send(Seen::Stopped);
            return NotifyControl::Stop;
        }
        NotifyControl::Continue
    };
    let notifier = match kind {
        NotifierKind::None => return None,
        NotifierKind::Window => {
            let (tx, rx) = mpsc::channel();
            return Some((Notifier::Window(tx), TraceSource::Window(rx)));
        }
        NotifierKind::Func => Notifier::Func(Box::new(move |_msg, state, error| {
            record(None, 1, state, error);
        })),
        NotifierKind::Func1 => {
            Notifier::Func1(Box::new(move |handle, _msg, state, error, _ext| {
                record(Some(handle), 1, state, error);
            }))
        }
        NotifierKind::Func2 => Notifier::Func2(Box::new(
            move |_id, subentry, handle, _msg, state, error, _ext| {
                record(Some(handle), subentry, state, error)
            },
        )),
    };
    Some((notifier, TraceSource::Calls(rx)))
}
