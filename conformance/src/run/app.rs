//! The scenario's application: what a RAS client program does, written once against the
//! public `Ras` API and played under either driver. Status points, hang-ups, resumes and
//! outcomes all come from the API; the only thing a driver supplies is how time passes
//! while the application waits ([`World`]).

use std::sync::mpsc;

use ras_engine::api::{DialParams, HRasConn, Notifier, NotifyControl, Ras, WindowMessage};
use ras_engine::phonebook::Phonebook;
use ras_engine::ras::{RasConnState, RasError};

use super::{Record, dial_extensions, dial_params, settled};
use crate::scenario::{App, DialResult, NotifierKind, Scenario};
use crate::trace::{StatusLine, StatusPoint, StatusResult, TraceLine};

/// Where the application runs: a `Ras` and a way to let time pass.
pub(super) trait World {
    /// The RAS client.
    fn ras(&self) -> &Ras;
    /// Let time pass until `ready` holds (checked as things happen); false if it did not
    /// within the world's limit.
    fn wait(&self, ready: &mut dyn FnMut() -> bool) -> bool;
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
    /// The notifier returned (RasDialFunc/1/2; a window procedure's return tells RAS
    /// nothing).
    Returned,
}

/// Where a recording notifier's calls arrive.
enum Inbox {
    /// RasDialFunc/1/2 record what they see directly.
    Calls(mpsc::Receiver<Seen>),
    /// A window notifier's messages, turned into lines as they are read (the "window
    /// procedure"); a window message has no subentry, so its lines say 1.
    Window(mpsc::Receiver<WindowMessage>),
}

impl Inbox {
    fn try_next(&self) -> Option<Seen> {
        match self {
            Inbox::Calls(rx) => rx.try_recv().ok(),
            Inbox::Window(rx) => rx.try_recv().ok().map(|m| {
                Seen::Line(TraceLine {
                    subentry: 1,
                    state: m.wparam,
                    error: m.lparam,
                })
            }),
        }
    }
}

/// `RasGetConnectStatus`, as a status line.
fn status(ras: &Ras, point: StatusPoint, handle: HRasConn) -> StatusLine {
    StatusLine {
        point,
        result: StatusResult::of(
            ras.connect_status(handle)
                .map(|status| (status.state, status.error)),
        ),
    }
}

/// A notifier of the scenario's kind that records every call and plays the scenario's
/// application script inside the notifier (status calls, hang-up, stop); `None` for a
/// synchronous dial. RasDialFunc and RasDialFunc1 have no subentry, so their lines say 1.
fn recording_notifier(kind: NotifierKind, app: &App, ras: &Ras) -> Option<(Notifier, Inbox)> {
    let (tx, rx) = mpsc::channel();
    let app = app.clone();
    let ras = ras.clone();
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
            && app.asks_status(StatusPoint::At(state))
        {
            let _ = tx.send(Seen::Status(status(&ras, StatusPoint::At(state), handle)));
        }
        if entering
            && app.hang_up_at == Some(state)
            && let Some(handle) = handle
        {
            // The record says whether it worked; the harness checks the outcome.
            let _ = ras.hang_up(handle);
            let _ = tx.send(Seen::HungUp);
        }
        let control = if entering && app.stop_at == Some(state) {
            let _ = tx.send(Seen::Stopped);
            NotifyControl::Stop
        } else {
            NotifyControl::Continue
        };
        let _ = tx.send(Seen::Returned);
        control
    };
    let notifier = match kind {
        NotifierKind::None => return None,
        NotifierKind::Window => {
            let (tx, rx) = mpsc::channel();
            return Some((Notifier::Window(tx), Inbox::Window(rx)));
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
    Some((notifier, Inbox::Calls(rx)))
}

/// Play the scenario's application in `world`, dialing `phonebook`'s entry.
pub(super) fn play(
    world: &dyn World,
    scenario: &Scenario,
    phonebook: &Phonebook,
) -> Result<Record, String> {
    let ras = world.ras();
    let app = &scenario.app;
    let params = dial_params(scenario);
    let extensions = dial_extensions(scenario);
    let mut statuses = Vec::new();
    // A new table hands out handle 1 first: "before" asks about the handle the dial is
    // about to get.
    if app.asks_status(StatusPoint::Before) {
        statuses.push(status(ras, StatusPoint::Before, HRasConn::from_raw(1)));
    }
    let mut trace = Vec::new();
    let mut hung_up = false;
    let (handle, result) = match recording_notifier(scenario.file.dial.notifier, app, ras) {
        None => {
            // Synchronous: RasDial itself returns the outcome; nothing is notified.
            match ras.dial(Some(&extensions), phonebook, &params, None) {
                Ok(handle) => (Some(handle), DialResult::Connected),
                Err(failure) => (failure.handle, DialResult::Failed(failure.error)),
            }
        }
        Some((notifier, inbox)) => {
            let handle = ras
                .dial(Some(&extensions), phonebook, &params, Some(notifier))
                .map_err(|e| format!("RasDial did not start: {e}"))?;
            let mut follower = Follower {
                world,
                handle,
                params,
                resumes: app.resume.iter(),
                inbox,
                trace: &mut trace,
                statuses: &mut statuses,
                hung_up: false,
            };
            let result = follower.follow()?;
            hung_up = follower.hung_up;
            (Some(handle), result)
        }
    };
    // Every application hangs up in the end (ras-reference §4.2 rule 12), and waits for
    // the port to be released (rule 21) before it goes.
    if let Some(handle) = handle {
        if hung_up {
            // It hung up already: the handle goes once the port is free.
            ras.wait_released(handle);
        }
        if app.asks_status(StatusPoint::Settled) {
            statuses.push(status(ras, StatusPoint::Settled, handle));
        }
        // A second hang-up of a handle already released is the application's business.
        let _ = ras.hang_up(handle);
        ras.wait_released(handle);
        if app.asks_status(StatusPoint::HungUp) {
            statuses.push(status(ras, StatusPoint::HungUp, handle));
        }
    }
    Ok(Record {
        result: Some(result),
        trace,
        transcript: Vec::new(),
        status: statuses,
        capture: None,
    })
}

/// The application's side of an asynchronous dial, outside its notifier.
struct Follower<'a> {
    world: &'a dyn World,
    handle: HRasConn,
    /// The dial parameters as last passed to RasDial.
    params: DialParams,
    /// How to resume each pause still to come.
    resumes: std::slice::Iter<'a, crate::scenario::Resume>,
    inbox: Inbox,
    trace: &'a mut Vec<TraceLine>,
    statuses: &'a mut Vec<StatusLine>,
    /// The application hung up (inside the notifier or at a pause).
    hung_up: bool,
}

impl Follower<'_> {
    /// Read the notifier's calls until the dial has an outcome (or the application hung
    /// up). After a RasDialFunc2 asked to stop, poll the status instead.
    fn follow(&mut self) -> Result<DialResult, String> {
        let ras = self.world.ras();
        let mut stopped = false;
        // The outcome, once known; the application still waits for its notifier to
        // return (it may hang up inside it) before it goes on.
        let mut outcome = None;
        let returns = matches!(self.inbox, Inbox::Calls(_));
        // A pause found by polling is handled once, until the dial leaves it.
        let mut handled_pause = false;
        loop {
            let mut next = None;
            let inbox = &self.inbox;
            let handle = self.handle;
            let mut polled = None;
            let arrived = self.world.wait(&mut || {
                next = inbox.try_next();
                if next.is_some() {
                    return true;
                }
                if stopped && outcome.is_none() {
                    polled = ras.connect_status(handle).ok().map(|s| (s.state, s.error));
                    return match polled {
                        Some((state, None)) if state.is_paused() => !handled_pause,
                        Some((state, error)) => settled(state, error).is_some(),
                        None => true,
                    };
                }
                false
            });
            if !arrived {
                return Err(format!(
                    "no outcome (trace so far: {})",
                    self.trace
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            match next {
                Some(Seen::Line(line)) => {
                    self.trace.push(line);
                    let error = (line.error != 0).then(|| RasError::from_code(line.error));
                    if outcome.is_none() {
                        outcome = settled(line.state, error);
                    }
                    if outcome.is_none() && error.is_none() && line.state.is_paused() {
                        outcome = self.paused()?;
                    }
                    if outcome.is_some() && !returns {
                        return Ok(outcome.unwrap_or(DialResult::HungUp));
                    }
                }
                Some(Seen::Status(line)) => self.statuses.push(line),
                Some(Seen::HungUp) => {
                    self.hung_up = true;
                    outcome = outcome.or(Some(DialResult::HungUp));
                }
                Some(Seen::Stopped) => stopped = true,
                Some(Seen::Returned) => {
                    if let Some(result) = outcome {
                        return Ok(result);
                    }
                }
                None => match polled {
                    Some((state, None)) if state.is_paused() => {
                        handled_pause = true;
                        if let Some(result) = self.paused()? {
                            return Ok(result);
                        }
                    }
                    Some((state, error)) => {
                        handled_pause = false;
                        if let Some(result) = settled(state, error) {
                            return Ok(result);
                        }
                    }
                    None => {
                        return Err("the handle went away after notifications stopped".into());
                    }
                },
            }
        }
    }

    /// The dial paused and the notifier has returned: resume with the next change to the
    /// dial parameters, or give up and hang up (then the outcome is `hung-up`).
    fn paused(&mut self) -> Result<Option<DialResult>, String> {
        let ras = self.world.ras();
        match self.resumes.next() {
            Some(resume) => {
                self.params = resume.apply(&self.params);
                ras.resume(self.handle, &self.params)
                    .map_err(|e| format!("resume refused: {e}"))?;
                Ok(None)
            }
            None => {
                ras.hang_up(self.handle)
                    .map_err(|e| format!("hang-up at a pause refused: {e}"))?;
                self.hung_up = true;
                Ok(Some(DialResult::HungUp))
            }
        }
    }
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
