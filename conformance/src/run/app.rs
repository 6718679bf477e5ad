//! The scenario's application: what a RAS client program does, written once against the
//! public `Ras` API and played under either driver. Status points, hang-ups, resumes and
//! outcomes all come from the API; the only thing a driver supplies is how time passes
//! while the application waits ([`World`]).

use std::collections::BTreeMap;
use std::sync::{Arc, mpsc};

use sansio::Duration;

use ras_engine::api::{
    DialParams, HRasConn, Notifier, NotifyControl, Ras, WM_RASDIALEVENT, WindowMessage,
    get_eap_user_identity,
};
use ras_engine::phonebook::Phonebook;
use ras_engine::ppp::EapAnswer;
use ras_engine::ras::{RasConnState, RasError};

use super::{Record, capi, dial_extensions, dial_params, settled};
use crate::report::timeline::{Clock, Happening, Timeline};
use crate::scenario::{
    Api, App, DialResult, EapAnswerSpec, NotifierKind, Scenario, Step, TerminalStep,
};
use crate::trace::{StatusLine, StatusPoint, StatusResult, TraceLine};

/// Where the application runs: a `Ras` and a way to let time pass.
pub(super) trait World {
    /// The RAS client.
    fn ras(&self) -> &Ras;
    /// Let time pass until `ready` holds (checked as things happen); false if it did not
    /// within the world's limit.
    fn wait(&self, ready: &mut dyn FnMut() -> bool) -> bool;
    /// Let `time` (virtual) pass.
    fn sleep(&self, time: Duration);
    /// What a notifier calls to take `time` (virtual) before it returns.
    fn spender(&self) -> Spend;
    /// The world's clock, for the run's timeline.
    fn clock(&self) -> Clock;
}

/// How a notifier takes its time ([`World::spender`]).
pub(super) type Spend = Arc<dyn Fn(Duration) + Send + Sync>;

/// What the recording notifier saw.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    /// A notification.
    Line(TraceLine),
    /// The same call, with every argument as the notifier was given it.
    Call(String),
    /// A status the application took inside the notifier.
    Status(StatusLine),
    /// The application hung up from inside the notifier (after recording the line).
    HungUp,
    /// The application asked RasDialFunc2 to stop notifying.
    Stopped,
    /// The notifier returned (RasDialFunc/1/2; a window procedure's return tells RAS
    /// nothing).
    Returned,
    /// A window message, as the window procedure reads it: the line and the call.
    Window(TraceLine, String),
}

/// `unMsg` as the SDK names it.
fn message_name(message: u32) -> String {
    if message == WM_RASDIALEVENT {
        "WM_RASDIALEVENT".to_owned()
    } else {
        format!("{message:#x}")
    }
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
                Seen::Window(
                    TraceLine {
                        subentry: 1,
                        state: m.wparam,
                        error: m.lparam,
                    },
                    format!("{}({}, {})", message_name(m.message), m.wparam, m.lparam),
                )
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
fn recording_notifier(
    kind: NotifierKind,
    app: &App,
    ras: &Ras,
    spend: Spend,
    timeline: &Timeline,
) -> Option<(Notifier, Inbox)> {
    let (tx, rx) = mpsc::channel();
    let app = app.clone();
    let ras = ras.clone();
    let timeline = timeline.clone();
    // The receiver is gone only once the run is over; late calls have nowhere to go.
    let record = move |handle: Option<HRasConn>, subentry, state, error, call: String| {
        let line = TraceLine {
            subentry,
            state,
            error,
        };
        timeline.note(Happening::Notified {
            line,
            call: call.clone(),
        });
        let _ = tx.send(Seen::Line(line));
        let _ = tx.send(Seen::Call(call));
        let entering = error == 0;
        if let Some((slow, seconds)) = app.slow_at
            && entering
            && slow == state
        {
            spend(Duration::from_secs(u64::from(seconds)));
        }
        if app.hang_up_on_error
            && !entering
            && let Some(handle) = handle
        {
            timeline.note(Happening::HungUp);
            let _ = ras.hang_up(handle);
            let _ = tx.send(Seen::HungUp);
        }
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
            timeline.note(Happening::HungUp);
            let _ = ras.hang_up(handle);
            let _ = tx.send(Seen::HungUp);
        }
        let control = if entering
            && app.stop_at == Some(state)
            && app.stop_subentry.is_none_or(|only| only == subentry)
        {
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
        NotifierKind::Func => Notifier::Func(Box::new(move |msg, state, error| {
            let call = format!("RasDialFunc({}, {state}, {error})", message_name(msg));
            record(None, 1, state, error, call);
        })),
        NotifierKind::Func1 => Notifier::Func1(Box::new(move |handle, msg, state, error, ext| {
            let call = format!(
                "RasDialFunc1(h{}, {}, {state}, {error}, {ext})",
                handle.value(),
                message_name(msg)
            );
            record(Some(handle), 1, state, error, call);
        })),
        NotifierKind::Func2 => Notifier::Func2(Box::new(
            move |id, subentry, handle, msg, state, error, ext| {
                let call = format!(
                    "RasDialFunc2({id}, {subentry}, h{}, {}, {state}, {error}, {ext})",
                    handle.value(),
                    message_name(msg)
                );
                record(Some(handle), subentry, state, error, call)
            },
        )),
    };
    Some((notifier, Inbox::Calls(rx)))
}

/// Play the scenario in `world`: its `program`, or its single dial.
pub(super) fn play_scenario(
    world: &dyn World,
    scenario: &Scenario,
    phonebook: &Phonebook,
) -> Result<Record, String> {
    match &scenario.program {
        Some(steps) => run_program(world, scenario, phonebook, steps),
        None => play(world, scenario, phonebook),
    }
}

/// Play the scenario's single dial in `world`, dialing `phonebook`'s first entry.
fn play(world: &dyn World, scenario: &Scenario, phonebook: &Phonebook) -> Result<Record, String> {
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
    let mut calls = Vec::new();
    let mut hung_up = false;
    // The way in: the Rust API, or RasDialA of the C API (which may hand the dial to the
    // entry's custom dialer); the session lasts until the port is released below.
    let c_api = match scenario.file.dial.api {
        Api::Rust => None,
        Api::C => Some(capi::Session::open(ras, phonebook)?),
    };
    let timeline = Timeline::new(world.clock());
    let dial = |notifier| {
        timeline.note(Happening::Dial);
        match &c_api {
            Some(session) => session.dial(&extensions, &params, notifier),
            None => ras.dial(Some(&extensions), phonebook, &params, notifier),
        }
    };
    let notifier = recording_notifier(
        scenario.file.dial.notifier,
        app,
        ras,
        world.spender(),
        &timeline,
    );
    let (handle, result) = match notifier {
        None => {
            // Synchronous: RasDial itself returns the outcome; nothing is notified.
            match dial(None) {
                Ok(handle) => (Some(handle), DialResult::Connected),
                Err(failure) => (failure.handle, DialResult::Failed(failure.error)),
            }
        }
        Some((notifier, inbox)) => {
            match dial(Some(notifier)) {
                // RasDial refused to start (623, 602, …): its return value is the result.
                // A custom dialer that refuses may have told the notifier first.
                Err(failure) => {
                    while let Some(seen) = inbox.try_next() {
                        match seen {
                            Seen::Line(line) => trace.push(line),
                            Seen::Call(call) => calls.push(call),
                            Seen::Window(line, call) => {
                                trace.push(line);
                                calls.push(call);
                            }
                            Seen::Status(_) | Seen::HungUp | Seen::Stopped | Seen::Returned => {}
                        }
                    }
                    (failure.handle, DialResult::Failed(failure.error))
                }
                Ok(handle) => {
                    let mut follower = Follower {
                        world,
                        handle,
                        params,
                        resumes: app.resume.iter(),
                        inbox,
                        timeline: &timeline,
                        trace: &mut trace,
                        calls: &mut calls,
                        statuses: &mut statuses,
                        hung_up: false,
                    };
                    let result = follower.follow()?;
                    hung_up = follower.hung_up;
                    (Some(handle), result)
                }
            }
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
        timeline.note(Happening::HungUp);
        let _ = ras.hang_up(handle);
        ras.wait_released(handle);
        if app.asks_status(StatusPoint::HungUp) {
            statuses.push(status(ras, StatusPoint::HungUp, handle));
        }
    }
    Ok(Record {
        result: Some(result),
        trace,
        calls,
        status: statuses,
        timeline: timeline.take(),
        ..Record::default()
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
    /// Where the application notes its calls (and a window procedure its messages).
    timeline: &'a Timeline,
    trace: &'a mut Vec<TraceLine>,
    calls: &'a mut Vec<String>,
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
            if let Some(Seen::Window(line, call)) = next {
                // A window message is seen when the window procedure reads it.
                self.timeline.note(Happening::Notified {
                    line,
                    call: call.clone(),
                });
                self.calls.push(call);
                next = Some(Seen::Line(line));
            }
            match next {
                Some(Seen::Window(..)) => {}
                Some(Seen::Call(call)) => self.calls.push(call),
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
                self.at_terminal(&resume.terminal)?;
                if let Some(answer) = &resume.eap {
                    ras.invoke_eap_ui(self.handle, 0, answer.to_answer())
                        .map_err(|e| format!("RasInvokeEapUI refused: {e}"))?;
                }
                self.params = resume.apply(&self.params);
                self.timeline.note(Happening::Resumed);
                ras.resume(self.handle, &self.params)
                    .map_err(|e| format!("resume refused: {e}"))?;
                Ok(None)
            }
            None => {
                self.timeline.note(Happening::HungUp);
                ras.hang_up(self.handle)
                    .map_err(|e| format!("hang-up at a pause refused: {e}"))?;
                self.hung_up = true;
                Ok(Some(DialResult::HungUp))
            }
        }
    }
}

impl Follower<'_> {
    /// The user at the terminal window of a dial paused in Interactive: wait for text on
    /// the line, type.
    fn at_terminal(&self, steps: &[TerminalStep]) -> Result<(), String> {
        let ras = self.world.ras();
        let mut screen = Vec::new();
        for step in steps {
            match step {
                TerminalStep::Type(text) => ras
                    .terminal_write(self.handle, text.as_bytes())
                    .map_err(|e| format!("terminal write refused: {e}"))?,
                TerminalStep::Wait(text) => {
                    let mut failed = None;
                    let seen = self
                        .world
                        .wait(&mut || match ras.terminal_read(self.handle) {
                            Ok(bytes) => {
                                screen.extend_from_slice(&bytes);
                                find(&screen, text.as_bytes()).is_some()
                            }
                            Err(error) => {
                                failed = Some(error);
                                true
                            }
                        });
                    if let Some(error) = failed {
                        return Err(format!("terminal read refused: {error}"));
                    }
                    let Some(at) = find(&screen, text.as_bytes()).filter(|_| seen) else {
                        return Err(format!(
                            "the terminal never showed {text:?} (it showed {:?})",
                            String::from_utf8_lossy(&screen)
                        ));
                    };
                    // What the user has seen is gone from the screen's unread part.
                    screen.drain(..at + text.len());
                }
            }
        }
        Ok(())
    }
}

/// Where `needle` starts in `haystack`.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

impl EapAnswerSpec {
    /// The answer as RasInvokeEapUI takes it.
    fn to_answer(&self) -> EapAnswer {
        match self {
            EapAnswerSpec::Token(token) => EapAnswer::Token(token.clone()),
            EapAnswerSpec::Identity(identity) => EapAnswer::Identity(identity.clone()),
            EapAnswerSpec::Acknowledge => EapAnswer::Acknowledge,
            EapAnswerSpec::Credentials { user, password } => EapAnswer::Credentials {
                user: user.clone(),
                password: password.clone(),
            },
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

/// One dial of a program.
struct Dialed {
    handle: Option<HRasConn>,
    inbox: Option<Inbox>,
    /// Its RASCN_* events (RasConnectionNotification).
    rascn: Option<std::sync::mpsc::Receiver<ras_engine::api::ConnectionNotification>>,
    trace: Vec<TraceLine>,
    /// The last notifier call has returned.
    idle: bool,
}

impl Dialed {
    /// Take in what the notifier has sent so far.
    fn drain(&mut self) {
        while let Some(seen) = self.inbox.as_ref().and_then(Inbox::try_next) {
            match seen {
                Seen::Line(line) | Seen::Window(line, _) => {
                    self.trace.push(line);
                    self.idle = matches!(self.inbox, Some(Inbox::Window(_)));
                }
                Seen::Returned => self.idle = true,
                Seen::Call(_) | Seen::Status(_) | Seen::HungUp | Seen::Stopped => {}
            }
        }
    }

    /// Whether the notifier has been told of `state` (or of the dial's end) and has
    /// returned.
    fn reached(&self, state: RasConnState) -> bool {
        self.idle
            && self.trace.iter().any(|line| {
                // A multilink link's failure does not end the dial (rule 26).
                (line.error != 0 && line.state != RasConnState::SubEntryDisconnected)
                    || line.state == state
                    || line.state == RasConnState::Connected
            })
    }
}

/// A RASCN_* flag as the program log names it.
fn rascn_name(flag: u32) -> &'static str {
    use ras_engine::api::rascn;
    match flag {
        rascn::CONNECTION => "Connection",
        rascn::DISCONNECTION => "Disconnection",
        rascn::BANDWIDTH_ADDED => "BandwidthAdded",
        rascn::BANDWIDTH_REMOVED => "BandwidthRemoved",
        _ => "other",
    }
}

/// Play a scenario's `program` in `world`: each step is one RAS call (or a wait), and
/// each leaves a line in the log.
fn run_program(
    world: &dyn World,
    scenario: &Scenario,
    phonebook: &Phonebook,
    steps: &[Step],
) -> Result<Record, String> {
    let ras = world.ras();
    let extensions = dial_extensions(scenario);
    // Several dials: the timeline keeps their RAS calls and their notifier calls (the
    // calls name their handles).
    let timeline = Timeline::new(world.clock());
    let mut dials: BTreeMap<String, Dialed> = BTreeMap::new();
    let mut log = Vec::new();
    let handle_of = |dials: &BTreeMap<String, Dialed>, name: &str| {
        dials
            .get(name)
            .and_then(|dialed| dialed.handle)
            // A dial that never got a handle: ask about one that cannot be valid.
            .unwrap_or(HRasConn::from_raw(u64::MAX))
    };
    for step in steps {
        match step {
            Step::Dial { entry, name, sync } => {
                let params = DialParams {
                    entry_name: entry.clone(),
                    ..dial_params(scenario)
                };
                let notifier = if *sync {
                    None
                } else {
                    recording_notifier(
                        scenario.file.dial.notifier,
                        &scenario.app,
                        ras,
                        world.spender(),
                        &timeline,
                    )
                };
                let (notifier, inbox) = match notifier {
                    Some((notifier, inbox)) => (Some(notifier), Some(inbox)),
                    None => (None, None),
                };
                timeline.note(Happening::Dial);
                let (handle, line) = match ras.dial(Some(&extensions), phonebook, &params, notifier)
                {
                    Ok(handle) if *sync => (Some(handle), format!("connected h{}", handle.value())),
                    Ok(handle) => (Some(handle), format!("started h{}", handle.value())),
                    Err(failure) => (
                        failure.handle,
                        match failure.handle {
                            Some(handle) => {
                                format!("{} h{}", error_name(failure.error), handle.value())
                            }
                            None => error_name(failure.error),
                        },
                    ),
                };
                log.push(format!("dial {name}: {line}"));
                let rascn = handle
                    .and_then(|handle| ras.connection_notification(Some(handle), u32::MAX).ok());
                dials.insert(
                    name.clone(),
                    Dialed {
                        handle,
                        inbox,
                        rascn,
                        trace: Vec::new(),
                        idle: true,
                    },
                );
            }
            Step::WaitFor { name, state } => {
                let reached = world.wait(&mut || {
                    dials.values_mut().for_each(Dialed::drain);
                    dials.get(name).is_none_or(|dialed| dialed.reached(*state))
                });
                let last = dials
                    .get(name)
                    .and_then(|dialed| dialed.trace.last())
                    .map_or_else(|| "nothing".to_owned(), ToString::to_string);
                if !reached {
                    return Err(format!("`wait {name} {state}` never came (last: {last})"));
                }
                log.push(format!("wait {name} {state}: {last}"));
            }
            Step::Sleep(seconds) => {
                world.sleep(Duration::from_secs(u64::from(*seconds)));
                log.push(format!("wait {seconds}"));
            }
            Step::Status(name) => {
                let line = status(ras, StatusPoint::Settled, handle_of(&dials, name));
                let text = line.to_string();
                let result = text.split_once(": ").map_or(text.as_str(), |(_, r)| r);
                log.push(format!("status {name}: {result}"));
            }
            Step::EapIdentity(entry) => {
                let result = match get_eap_user_identity(phonebook, entry) {
                    Ok(identity) => format!("user {:?}", identity.user_name),
                    Err(error) => error_name(error),
                };
                log.push(format!("eap-identity {entry}: {result}"));
            }
            Step::Enum => {
                let names: Vec<String> = ras
                    .enum_connections()
                    .iter()
                    .map(|conn| format!("{} h{}", conn.entry_name, conn.handle.value()))
                    .collect();
                log.push(format!("enum: [{}]", names.join(", ")));
            }
            Step::HangUp(name) => {
                timeline.note(Happening::HungUp);
                let result = match ras.hang_up(handle_of(&dials, name)) {
                    Ok(()) => "ok".to_owned(),
                    Err(error) => error_name(error),
                };
                log.push(format!("hang-up {name}: {result}"));
            }
            Step::Released(name) => {
                ras.wait_released(handle_of(&dials, name));
                log.push(format!("released {name}"));
            }
            Step::Send { name, octets } => {
                let handle = handle_of(&dials, name);
                let packet = [0x45; 1000];
                let result = (0..octets.div_ceil(1000))
                    .map(|_| ras.send_packet(handle, 0x0021, &packet))
                    .find_map(Result::err)
                    .map_or_else(|| "ok".to_owned(), error_name);
                log.push(format!("send {name} {octets}: {result}"));
            }
            Step::Notifications(name) => {
                let events: Vec<&str> = dials
                    .get(name)
                    .and_then(|dialed| dialed.rascn.as_ref())
                    .map(|events| events.try_iter().map(|n| rascn_name(n.flag)).collect())
                    .unwrap_or_default();
                log.push(format!("notifications {name}: [{}]", events.join(", ")));
            }
            Step::SubEntry {
                name,
                index,
                handle_name,
            } => {
                let (handle, result) =
                    match ras.get_subentry_handle(handle_of(&dials, name), *index) {
                        Ok(handle) => (Some(handle), format!("h{}", handle.value())),
                        Err(error) => (None, error_name(error)),
                    };
                log.push(format!("subentry {name} {index}: {result}"));
                dials.insert(
                    handle_name.clone(),
                    Dialed {
                        handle,
                        inbox: None,
                        rascn: None,
                        trace: Vec::new(),
                        idle: true,
                    },
                );
            }
        }
    }
    // Every dial is balanced by a hang-up in the end (rules 12 and 23), and the ports
    // released.
    for dialed in dials.values() {
        if let Some(handle) = dialed.handle {
            timeline.note(Happening::HungUp);
            let _ = ras.hang_up(handle);
        }
    }
    for dialed in dials.values_mut() {
        if let Some(handle) = dialed.handle {
            ras.wait_released(handle);
        }
        dialed.drain();
    }
    Ok(Record {
        log,
        traces: dials
            .into_iter()
            .filter(|(_, dialed)| dialed.inbox.is_some())
            .map(|(name, dialed)| (name, dialed.trace))
            .collect(),
        timeline: timeline.take(),
        ..Record::default()
    })
}

/// An error as the log writes it: the symbol where there is one.
fn error_name(error: RasError) -> String {
    match error.symbol() {
        Some(symbol) => symbol.to_owned(),
        None => error.code().to_string(),
    }
}
