//! The simulated driver (DESIGN §2): engine, modem and server machines joined by
//! in-memory pipes, on a virtual clock that jumps to the next deadline. Nothing here reads
//! a clock or touches a file descriptor, so the same scenario and seed always give the
//! same trace, byte for byte.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration as RealDuration;

use modem_sim::{Modem, ModemEvent};
use ras_engine::api::{Dispatcher, HRasConn};
use ras_engine::ppp::{Capture, Direction};
use ras_engine::ras::{Connection, ConnectionEvent, DialPlan, RasError};
use sansio::sim::{Pipe, earliest};
use sansio::{Duration, Instant, LinePeer, Machine, PeerEvent};

use super::{
    AppCalls, Record, RunOptions, Seen, dial_extensions, dial_params, engine_config, entry,
    recording_notifier, settled,
};
use crate::scenario::{DialResult, NotifierKind, Scenario};
use crate::trace::{StatusPoint, StatusResult, TraceLine};

/// Serial-cable latency between the engine and the modem (each way).
const DTE_LATENCY: Duration = Duration::from_millis(1);
/// Line latency between the two modems once a call is up (each way).
const LINE_LATENCY: Duration = Duration::from_millis(20);
/// A run that has not settled after this much virtual time is stuck.
const VIRTUAL_TIME_LIMIT: Duration = Duration::from_secs(3600);
/// How many loop turns a run may take before it counts as stuck.
const STEP_LIMIT: usize = 1_000_000;

/// Everything on the simulated desk.
struct Bench {
    now: Instant,
    connection: Connection,
    modem: Modem,
    peer: Option<LinePeer>,
    to_modem: Pipe,
    to_engine: Pipe,
    to_peer: Pipe,
    from_peer: Pipe,
    port_open: bool,
    /// The application hung up from inside its notifier.
    app_hung_up: bool,
    hang_up_requested: Arc<AtomicBool>,
    /// What `RasGetConnectStatus` on our handle returns right now, as the API's
    /// connection table would have it.
    status: Arc<Mutex<StatusResult>>,
    transcript: Vec<String>,
    /// The engine's side of the serial cable, as it sent and received it.
    capture: Option<Capture<Vec<u8>>>,
}

/// What `RasGetConnectStatus` says of a handle not (or no longer) in the table.
const INVALID_HANDLE: StatusResult = StatusResult::Failed(6);

pub(super) fn run(scenario: &Scenario, options: RunOptions) -> Result<Record, String> {
    let mut params = dial_params(scenario);
    let mut resumes = scenario.app.resume.iter();
    let entry = entry(scenario, std::path::Path::new("/dev/simulated-modem"));
    // The realtime driver's first handle is 1 too, so both drivers seed PPP alike.
    let handle = HRasConn::from_raw(1);
    let extensions = dial_extensions(scenario);
    let mut plan = DialPlan::resolve(
        &entry,
        &params,
        Some(&extensions),
        &engine_config(scenario),
        handle,
    )
    .map_err(|e| e.to_string())?;
    // As `Ras::dial` does: a synchronous dial cannot pause.
    plan.paused_states &= scenario.file.dial.notifier != NotifierKind::None;
    // A hang-up from inside the notifier is noted here and acted on once the notifier
    // has returned, as RasHangUp does (ras-reference §4.1 rule 8).
    let hang_up_requested = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&hang_up_requested);
    let status = Arc::new(Mutex::new(INVALID_HANDLE));
    let board = Arc::clone(&status);
    let calls = AppCalls {
        hang_up: Arc::new(move |_handle| flag.store(true, Ordering::SeqCst)),
        status: Arc::new(move |_handle| *board.lock().unwrap_or_else(|p| p.into_inner())),
    };
    let app = &scenario.app;
    let mut statuses: Vec<_> = calls
        .status_line(app, StatusPoint::Before, handle)
        .into_iter()
        .collect();
    let (mut dispatcher, source) =
        match recording_notifier(scenario.file.dial.notifier, app.clone(), calls.clone()) {
            Some((notifier, source)) => (
                Some(Dispatcher::new(notifier, handle, params.callback_id)),
                Some(source),
            ),
            None => (None, None),
        };

    let mut bench = Bench {
        now: Instant::ZERO,
        connection: Connection::new(plan),
        modem: Modem::new(scenario.file.network.clone()),
        peer: None,
        to_modem: Pipe::new(DTE_LATENCY),
        to_engine: Pipe::new(DTE_LATENCY),
        to_peer: Pipe::new(LINE_LATENCY),
        from_peer: Pipe::new(LINE_LATENCY),
        port_open: false,
        app_hung_up: false,
        hang_up_requested,
        status,
        transcript: Vec::new(),
        capture: options
            .capture
            .then(|| Capture::new(Vec::new()))
            .transpose()
            .map_err(|e| e.to_string())?,
    };
    let mut trace = Vec::new();
    let mut result = None;
    for _ in 0..STEP_LIMIT {
        let closed = bench.pump(scenario, dispatcher.as_mut())?;
        while let Some(seen) = source.as_ref().and_then(|s| s.next(RealDuration::ZERO)) {
            match seen {
                Seen::Line(line) => trace.push(line),
                Seen::Status(line) => statuses.push(line),
                Seen::HungUp | Seen::Stopped => {}
            }
        }
        if closed {
            // A hang-up from the notifier closes the port at once.
            let result = result.or_else(|| outcome(&trace, &bench));
            if bench.app_hung_up {
                // It hung up before the outcome: the handle is already gone.
                statuses.extend(calls.status_line(app, StatusPoint::Settled, handle));
            }
            statuses.extend(calls.status_line(app, StatusPoint::HungUp, handle));
            return Ok(Record {
                result,
                trace,
                transcript: bench.transcript,
                status: statuses,
                capture: bench.capture.map(Capture::into_inner),
            });
        }
        if result.is_none() && !bench.app_hung_up && bench.connection.is_paused() {
            // The notifier has returned: the application resumes with its next change to
            // the dial parameters, or gives up and hangs up.
            let now = bench.now;
            match resumes.next() {
                Some(resume) => {
                    params = resume.apply(&params);
                    bench
                        .connection
                        .resume(now, &params.authentication_name(), &params.password)
                        .map_err(|e| format!("resume refused: {e}"))?;
                }
                None => {
                    if let Some(dispatcher) = dispatcher.as_mut() {
                        dispatcher.end();
                    }
                    bench.app_hung_up = true;
                    bench.connection.hang_up(now);
                    bench.set_status(INVALID_HANDLE);
                }
            }
            continue;
        }
        if result.is_none() {
            // An outcome notified counts even if the application hung up inside that very
            // notification; then a hang-up before any outcome; then the connection's own
            // (notifications may have been stopped, or there is no notifier).
            result = outcome(&trace, &bench);
            // The application's part: once the dial has an outcome it hangs up, as every
            // application must (ras-reference §4.2 rule 12).
            if result.is_some() && !bench.app_hung_up {
                bench.set_status(StatusResult::Status {
                    state: bench.connection.state(),
                    error: bench.connection.error().map_or(0, |e| e.code()),
                });
                statuses.extend(calls.status_line(app, StatusPoint::Settled, handle));
                if let Some(dispatcher) = dispatcher.as_mut() {
                    dispatcher.end();
                }
                bench.connection.hang_up(bench.now);
                bench.set_status(INVALID_HANDLE);
                continue;
            }
        }
        let next = earliest([
            bench.connection.poll_timeout(),
            bench.modem.poll_timeout(),
            bench.peer.as_ref().and_then(|p| p.poll_timeout()),
            bench.to_modem.next_delivery(),
            bench.to_engine.next_delivery(),
            bench.to_peer.next_delivery(),
            bench.from_peer.next_delivery(),
        ]);
        let Some(next) = next else {
            return Err(format!(
                "stalled at {} in state {} with nothing left to happen",
                bench.now,
                bench.connection.state()
            ));
        };
        if next.saturating_duration_since(Instant::ZERO) > VIRTUAL_TIME_LIMIT {
            return Err(format!(
                "no outcome within {} s of virtual time",
                VIRTUAL_TIME_LIMIT.as_secs()
            ));
        }
        bench.now = bench.now.max(next);
        bench.advance()?;
    }
    Err(format!("no outcome within {STEP_LIMIT} steps"))
}

/// How the dial stands: an outcome notified counts even if the application hung up inside
/// that very notification (as the realtime driver reads it off the notifier); then a
/// hang-up before any outcome; then the connection's own state, for a dial that notifies
/// nobody (synchronous, or notifications stopped).
fn outcome(trace: &[TraceLine], bench: &Bench) -> Option<DialResult> {
    trace
        .iter()
        .find_map(|line| {
            let error = (line.error != 0).then(|| RasError::from_code(line.error));
            settled(line.state, error)
        })
        .or(bench.app_hung_up.then_some(DialResult::HungUp))
        .or_else(|| settled(bench.connection.state(), bench.connection.error()))
}

impl Bench {
    fn set_status(&self, status: StatusResult) {
        *self.status.lock().unwrap_or_else(|p| p.into_inner()) = status;
    }

    /// Deliver what has arrived and fire what is due, at `self.now`.
    fn advance(&mut self) -> Result<(), String> {
        let now = self.now;
        while let Some(bytes) = self.to_modem.take_due(now) {
            self.modem.handle_input(now, &bytes);
        }
        while let Some(bytes) = self.to_engine.take_due(now) {
            if self.port_open {
                self.tap(Direction::Received, &bytes)?;
                self.connection.handle_input(now, &bytes);
            }
        }
        while let Some(bytes) = self.to_peer.take_due(now) {
            if let Some(peer) = &mut self.peer {
                peer.handle_input(now, &bytes);
            }
        }
        while let Some(bytes) = self.from_peer.take_due(now) {
            self.modem.handle_line_input(now, &bytes);
        }
        if self.connection.poll_timeout().is_some_and(|t| t <= now) {
            self.connection.handle_timeout(now);
        }
        if self.modem.poll_timeout().is_some_and(|t| t <= now) {
            self.modem.handle_timeout(now);
        }
        if let Some(peer) = &mut self.peer
            && peer.poll_timeout().is_some_and(|t| t <= now)
        {
            peer.handle_timeout(now);
        }
        Ok(())
    }

    /// Record bytes crossing the engine's port, when capturing.
    fn tap(&mut self, direction: Direction, bytes: &[u8]) -> Result<(), String> {
        if let Some(capture) = &mut self.capture {
            capture
                .record(self.now, direction, bytes)
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Move every queued output to where it goes, until nothing moves. Returns true once
    /// the engine has closed its port (the run is over).
    fn pump(
        &mut self,
        scenario: &Scenario,
        mut dispatcher: Option<&mut Dispatcher>,
    ) -> Result<bool, String> {
        let now = self.now;
        loop {
            let mut moved = false;
            while let Some(event) = self.connection.poll_event() {
                moved = true;
                match event {
                    ConnectionEvent::OpenPort => {
                        self.port_open = true;
                        self.connection.port_opened(now);
                    }
                    ConnectionEvent::Notify(notification) => {
                        // The table shows the state being notified while the notifier
                        // runs, as the realtime driver's does.
                        if !self.app_hung_up {
                            self.set_status(StatusResult::Status {
                                state: notification.state,
                                error: notification.error.map_or(0, |e| e.code()),
                            });
                        }
                        if let Some(dispatcher) = dispatcher.as_deref_mut() {
                            dispatcher.deliver(&notification);
                            if self.hang_up_requested.swap(false, Ordering::SeqCst) {
                                dispatcher.end();
                                self.app_hung_up = true;
                                self.connection.hang_up(now);
                                self.set_status(INVALID_HANDLE);
                            }
                        }
                    }
                    ConnectionEvent::ClosePort => {
                        self.port_open = false;
                        self.modem.dtr_drop(now);
                        self.drain_modem(scenario)?;
                        return Ok(true);
                    }
                }
            }
            while let Some(bytes) = self.connection.poll_transmit() {
                moved = true;
                self.tap(Direction::Sent, &bytes)?;
                self.to_modem.send(now, bytes);
            }
            moved |= self.drain_modem(scenario)?;
            if let Some(peer) = &mut self.peer {
                while let Some(bytes) = peer.poll_transmit() {
                    moved = true;
                    self.from_peer.send(now, bytes);
                }
                let mut hung_up = false;
                while let Some(PeerEvent::HangUp) = peer.poll_event() {
                    hung_up = true;
                }
                if hung_up {
                    moved = true;
                    self.end_call();
                    self.modem.remote_hang_up(now);
                }
            }
            if !moved {
                return Ok(false);
            }
        }
    }

    /// Move the modem's output; returns whether anything moved.
    fn drain_modem(&mut self, scenario: &Scenario) -> Result<bool, String> {
        let now = self.now;
        let mut moved = false;
        while let Some(bytes) = self.modem.poll_transmit() {
            moved = true;
            self.to_engine.send(now, bytes);
        }
        while let Some(bytes) = self.modem.poll_line_transmit() {
            moved = true;
            self.to_peer.send(now, bytes);
        }
        while let Some(event) = self.modem.poll_event() {
            moved = true;
            match event {
                ModemEvent::CommandLine(line) => self.transcript.push(format!("> {line}")),
                ModemEvent::Result(code) => self.transcript.push(format!("< {code}")),
                ModemEvent::CallConnected { .. } => {
                    self.peer = Some(super::builtin_peer(scenario, scenario.file.seed)?);
                }
                ModemEvent::CallEnded => self.end_call(),
            }
        }
        Ok(moved)
    }

    /// The call is gone: nothing more crosses the line.
    fn end_call(&mut self) {
        self.peer = None;
        self.to_peer.clear();
        self.from_peer.clear();
    }
}
