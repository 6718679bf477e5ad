//! A dial-up lab in virtual time: modems (modem-sim machines) on named device paths, the
//! phone network behind each, and the RAS servers (ppp-peer-sim machines) that answer,
//! joined by in-memory lines on a clock that jumps to the next deadline. It gives out a
//! real [`Ras`]: the same connection table, notifier rules, hang-up and resume code that
//! dials `/dev/ttyUSB0` (the engine's `RasCore`), only driven by this lab instead of the
//! realtime driver (DESIGN §2). Same inputs and seed, byte-identical runs.
//!
//! An application author tests their notifier code against it like this:
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use modem_sim::Network;
//! use ppp_peer_sim::Script;
//! use ras_engine::api::{DialParams, EngineConfig, Notifier};
//! use ras_engine::phonebook::{Entry, Phonebook};
//! use ras_engine::ras::RasConnState;
//! use ras_lab::Lab;
//!
//! let network = Network::from_yaml(r#"numbers: {"5551234": {connect: 33600, peer: builtin}}"#)?;
//! let lab = Lab::builder(EngineConfig::default())
//!     .modem("/dev/ttyS0", network)
//!     .server(Script::from_yaml("auth: pap\nusers: {alice: wonderland}")?, 7)
//!     .build();
//! let ras = lab.ras();
//! let phonebook = Phonebook::from_entries([Entry::modem("ISP", "/dev/ttyS0", "5551234")]);
//! let params = DialParams { entry_name: "ISP".into(), user_name: "alice".into(),
//!                           password: "wonderland".into(), ..DialParams::default() };
//! let states = Arc::new(Mutex::new(Vec::new()));
//! let seen = Arc::clone(&states);
//! let notifier = Notifier::Func(Box::new(move |_msg, state, _error| seen.lock().unwrap().push(state)));
//! let handle = ras.dial(None, &phonebook, &params, Some(notifier))?;
//! lab.run_until(|| ras.connect_status(handle).is_ok_and(|s| s.state == RasConnState::Connected));
//! assert_eq!(states.lock().unwrap().last(), Some(&RasConnState::Connected));
//! ras.hang_up(handle)?;
//! ras.wait_released(handle); // virtual time runs until the port is free
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Notifiers run on the thread that runs the lab (the one inside [`Lab::run_until`],
//! [`Lab::run_for`] or a blocking `Ras` call), one at a time. A notifier that stands for
//! slow application code says how long it takes with [`Lab::spend`]: its connection then
//! waits that much virtual time before going on, while everything else runs.

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use modem_sim::call::IncomingCall;
use modem_sim::realtime::{CallInfo, PeerFactory};
use modem_sim::{Modem, ModemEvent, Network};
use ppp_peer_sim::{Bundles, Script, Server};
use ras_engine::api::{Action, Delivery, Driver, EngineConfig, HRasConn, Ras, RasCore, SharedCore};
use ras_engine::ppp::random::Entropy;
use ras_engine::ppp::{Capture, Direction};
use ras_engine::ras::RasError;
use sansio::sim::{Pipe, earliest};
use sansio::{DelayScale, Duration, Instant, LinePeer, Machine, PeerEvent};

/// The engine's seed in a lab whose configuration names none.
pub const LAB_SEED: u32 = 0;

/// Serial-cable latency between the engine and a modem (each way): modeled, like the
/// next one (both shrink with [`LabBuilder::delays`]).
const DTE_LATENCY: Duration = Duration::from_millis(1);
/// Line latency between the two modems once a call is up (each way).
const LINE_LATENCY: Duration = Duration::from_millis(20);
/// The line rate of a callback placed after its call had already gone.
const CALLBACK_SPEED: u32 = 33_600;
/// How much virtual time a blocking call may run the lab before giving up (a dial that
/// never settles is a bug somewhere; an hour of virtual time is far past every timer).
const DEFAULT_WAIT_LIMIT: Duration = Duration::from_secs(3600);

/// Sets a lab up.
pub struct LabBuilder {
    config: EngineConfig,
    modems: Vec<(PathBuf, Network)>,
    peers: Option<PeerFactory>,
    capture: bool,
    wait_limit: Duration,
    delays: DelayScale,
}

impl fmt::Debug for LabBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LabBuilder")
            .field("modems", &self.modems.len())
            .field("capture", &self.capture)
            .finish_non_exhaustive()
    }
}

impl LabBuilder {
    /// A modem on `device` (any path: nothing is created on disk), its calls going
    /// through `network`. Its own number, which callbacks call, is
    /// `network.modem_number(i)` for the `i`th modem added (0-based).
    pub fn modem(mut self, device: impl Into<PathBuf>, network: Network) -> Self {
        self.modems.push((device.into(), network));
        self
    }

    /// The server that answers every `peer: builtin` number: a fresh ppp-peer-sim
    /// [`Server`] running `script` for each call, its magic numbers seeded by `seed`; the
    /// calls share one server process's multilink bundles.
    pub fn server(self, script: Script, seed: u32) -> Self {
        // One server process: its calls share the multilink bundles (RFC 1990 §5.1.3).
        let bundles = Bundles::default();
        self.peers(Box::new(move |_call: &CallInfo| {
            Ok(Server::in_process(script.clone(), Entropy::Seed(seed), &bundles).boxed())
        }))
    }

    /// Build the far end of each `peer: builtin` call with `factory` (an `Err` fails the
    /// call: the dialer sees the carrier drop). `exec:` and `tcp:` far ends are not run in
    /// the lab: a lab never starts processes or opens sockets; such a call fails the same
    /// way.
    pub fn peers(mut self, factory: PeerFactory) -> Self {
        self.peers = Some(factory);
        self
    }

    /// Record each modem's DTE line as PPP frames ([`Lab::take_capture`]).
    pub fn capture(mut self, on: bool) -> Self {
        self.capture = on;
        self
    }

    /// How much virtual time one blocking call (a synchronous dial, `wait_released`) may
    /// run the lab before it gives up.
    pub fn wait_limit(mut self, limit: Duration) -> Self {
        self.wait_limit = limit;
        self
    }

    /// Run every modeled delay (the modems' call progress, line latency and pacing, the
    /// network's callbacks) at `delays` of its model; protocol timers, the engine's and
    /// the servers', keep their length. [`DelayScale::INSTANT`]: an instant modem and
    /// network, for dials as fast as the machines go. With the delays at
    /// [`sansio::Pace::delays_on_clock`], the lab's clock times the pace's time scale is
    /// what a realtime run at that pace takes, computation aside.
    pub fn delays(mut self, delays: DelayScale) -> Self {
        self.delays = delays;
        self
    }

    /// The lab, its clock at zero. A lab is deterministic: an engine configuration
    /// without a seed gets [`LAB_SEED`], so magic numbers and challenges never come from
    /// the system's generator here.
    pub fn build(mut self) -> Lab {
        self.config.seed.get_or_insert(LAB_SEED);
        let stations = self
            .modems
            .into_iter()
            .enumerate()
            .map(|(index, (device, network))| {
                let number = network.modem_number(index);
                Station::new(
                    device,
                    Modem::new(network)
                        .with_number(&number)
                        .with_delays(self.delays),
                    self.capture,
                )
            })
            .collect();
        Lab {
            shared: Arc::new(LabShared {
                core: SharedCore::new(self.config),
                state: Mutex::new(State {
                    stations,
                    ports: HashMap::new(),
                    returning: BTreeMap::new(),
                    next_return: 0,
                    peers: self.peers,
                }),
                now: AtomicU64::new(0),
                spent: AtomicU64::new(0),
                running: AtomicBool::new(false),
                wait_limit: self.wait_limit,
            }),
        }
    }
}

/// The lab (see the crate docs). Clones share it.
#[derive(Clone)]
pub struct Lab {
    shared: Arc<LabShared>,
}

impl fmt::Debug for Lab {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lab")
            .field("now", &self.now())
            .finish_non_exhaustive()
    }
}

struct LabShared {
    core: SharedCore,
    state: Mutex<State>,
    /// The virtual clock, in nanoseconds (readable from inside a notifier).
    now: AtomicU64,
    /// Virtual time the notifier now running says it takes ([`Lab::spend`]).
    spent: AtomicU64,
    /// The lab's loop is running (a blocking call from inside a notifier must not run
    /// it again).
    running: AtomicBool,
    wait_limit: Duration,
}

struct State {
    stations: Vec<Station>,
    /// Which station each open port is.
    ports: HashMap<HRasConn, usize>,
    /// Notifiers that took virtual time ([`Lab::spend`]): they return at the key's instant
    /// (ties in the order they were called).
    returning: BTreeMap<(Instant, u64), Delivery>,
    next_return: u64,
    peers: Option<PeerFactory>,
}

/// One modem on its device path, and the line behind it.
struct Station {
    device: PathBuf,
    modem: Modem,
    /// The connection whose port is open on it.
    owner: Option<HRasConn>,
    peer: Option<LinePeer>,
    /// The far end that is calling this modem back; it answers the call once connected.
    calling_back: Option<LinePeer>,
    to_modem: Pipe,
    to_engine: Pipe,
    to_peer: Pipe,
    from_peer: Pipe,
    /// The AT conversation, each line with the instant the modem heard or said it.
    transcript: Vec<(Instant, String)>,
    capture: Option<Capture<Vec<u8>>>,
}

impl Station {
    fn new(device: PathBuf, modem: Modem, capture: bool) -> Self {
        let delays = modem.delays();
        let capture = capture.then(|| Capture::new(Vec::new())).and_then(|made| {
            // Writing a pcap header to memory cannot fail; if it ever did, the lab
            // would simply run without a capture.
            made.inspect_err(|error| tracing::warn!(%error, "no capture"))
                .ok()
        });
        Station {
            device,
            modem,
            owner: None,
            peer: None,
            calling_back: None,
            to_modem: Pipe::new(delays.apply(DTE_LATENCY)),
            to_engine: Pipe::new(delays.apply(DTE_LATENCY)),
            to_peer: Pipe::new(delays.apply(LINE_LATENCY)),
            from_peer: Pipe::new(delays.apply(LINE_LATENCY)),
            transcript: Vec::new(),
            capture,
        }
    }

    fn tap(&mut self, now: Instant, direction: Direction, bytes: &[u8]) {
        if let Some(capture) = &mut self.capture
            && let Err(error) = capture.record(now, direction, bytes)
        {
            tracing::warn!(%error, "capture stopped");
            self.capture = None;
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        earliest([
            self.modem.poll_timeout(),
            self.peer.as_ref().and_then(|p| p.poll_timeout()),
            self.to_modem.next_delivery(),
            self.to_engine.next_delivery(),
            self.to_peer.next_delivery(),
            self.from_peer.next_delivery(),
        ])
    }

    /// The call is gone: nothing more crosses the line.
    fn end_call(&mut self) {
        self.peer = None;
        self.to_peer.clear();
        self.from_peer.clear();
    }
}

impl Lab {
    /// Start setting up a lab whose engine runs with `config`.
    pub fn builder(config: EngineConfig) -> LabBuilder {
        LabBuilder {
            config,
            modems: Vec::new(),
            peers: None,
            capture: false,
            wait_limit: DEFAULT_WAIT_LIMIT,
            delays: DelayScale::MODEL,
        }
    }

    /// A RAS client whose dials run in this lab.
    pub fn ras(&self) -> Ras {
        Ras::with_driver(self.shared.core.clone(), Box::new(LabDriver(self.clone())))
    }

    /// The virtual clock.
    pub fn now(&self) -> Instant {
        Instant::from_nanos(self.shared.now.load(Ordering::SeqCst))
    }

    /// Called from inside a notifier: the application takes `time` of virtual time before
    /// it returns. Its connection waits that long (ras-reference §4.1 rule 7); the rest
    /// of the lab runs on.
    pub fn spend(&self, time: Duration) {
        let nanos = u64::try_from(time.as_nanos()).unwrap_or(u64::MAX);
        self.shared.spent.fetch_add(nanos, Ordering::SeqCst);
    }

    /// Run until `done` holds (checked whenever the lab is quiet at an instant), until
    /// nothing is left to happen, or until the wait limit. Returns whether `done` held.
    pub fn run_until(&self, mut done: impl FnMut() -> bool) -> bool {
        self.run(&mut done, None)
    }

    /// Run for `time` of virtual time.
    pub fn run_for(&self, time: Duration) {
        let end = self.now() + time;
        self.run(&mut || false, Some(end));
    }

    /// Have the network call the modem on `device` (it rings; answer with `ATA` or S0).
    /// Returns false when there is no such modem.
    pub fn call_modem(&self, device: &Path, call: IncomingCall) -> bool {
        let now = self.now();
        let mut state = self.state();
        match state.stations.iter_mut().find(|s| s.device == device) {
            Some(station) => {
                station.modem.incoming_call(now, call);
                true
            }
            None => false,
        }
    }

    /// The AT conversation on `device` so far: `> line` from the dialer, `< RESULT` from
    /// the modem.
    pub fn transcript(&self, device: &Path) -> Vec<String> {
        self.timed_transcript(device)
            .into_iter()
            .map(|(_, line)| line)
            .collect()
    }

    /// [`Lab::transcript`], each line with the virtual instant the modem heard the command
    /// line or gave the result (for a sequence diagram on the lab's clock).
    pub fn timed_transcript(&self, device: &Path) -> Vec<(Instant, String)> {
        self.state()
            .stations
            .iter()
            .find(|s| s.device == device)
            .map(|s| s.transcript.clone())
            .unwrap_or_default()
    }

    /// The engine's side of `device`'s line so far as a pcap file
    /// (`LINKTYPE_PPP_WITH_DIR`), when the lab was built with [`LabBuilder::capture`]. The
    /// capture ends here: later bytes are not recorded.
    pub fn take_capture(&self, device: &Path) -> Option<Vec<u8>> {
        self.state()
            .stations
            .iter_mut()
            .find(|s| s.device == device)
            .and_then(|s| s.capture.take())
            .map(Capture::into_inner)
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn set_now(&self, now: Instant) {
        self.shared.now.store(now.as_nanos(), Ordering::SeqCst);
    }

    /// The loop: settle everything due now, check `done`, jump to the next deadline.
    fn run(&self, done: &mut dyn FnMut() -> bool, end: Option<Instant>) -> bool {
        if self.shared.running.swap(true, Ordering::SeqCst) {
            // Called from inside a notifier the loop is delivering: the loop cannot run
            // again underneath itself.
            tracing::warn!("a blocking RAS call from inside a notifier does not run the lab");
            return done();
        }
        let limit = self.now() + self.shared.wait_limit;
        let result = loop {
            self.settle();
            if done() {
                break true;
            }
            let Some(next) = self.next_deadline() else {
                // Nothing is left to happen; the time asked for passes all the same.
                if let Some(end) = end {
                    self.set_now(end.max(self.now()));
                }
                break false;
            };
            if let Some(end) = end
                && next > end
            {
                self.set_now(end.max(self.now()));
                break false;
            }
            if next > limit {
                tracing::warn!(limit = ?self.shared.wait_limit, "the lab ran into its wait limit");
                break false;
            }
            self.set_now(next.max(self.now()));
            self.fire_due();
        };
        self.shared.running.store(false, Ordering::SeqCst);
        result
    }

    fn next_deadline(&self) -> Option<Instant> {
        let core_next = self.shared.core.lock().poll_timeout();
        let state = self.state();
        earliest(
            [core_next, state.returning.keys().next().map(|(at, _)| *at)]
                .into_iter()
                .chain(state.stations.iter().map(Station::next_deadline)),
        )
    }

    /// Carry out every action and move every byte that can move at `now`, calling
    /// notifiers (without holding any lock) as they come.
    fn settle(&self) {
        loop {
            let mut moved = false;
            loop {
                let Some(action) = self.shared.core.lock().poll_action() else {
                    break;
                };
                moved = true;
                match action {
                    Action::Notify(delivery) => self.deliver(delivery),
                    action => self.carry_out(action),
                }
            }
            moved |= self.pump_stations();
            if !moved {
                return;
            }
        }
    }

    fn deliver(&self, mut delivery: Delivery) {
        self.shared.spent.store(0, Ordering::SeqCst);
        delivery.deliver();
        let spent = Duration::from_nanos(self.shared.spent.swap(0, Ordering::SeqCst));
        let now = self.now();
        if spent.is_zero() {
            self.shared.core.lock().notified(now, delivery);
        } else {
            let mut state = self.state();
            let order = state.next_return;
            state.next_return += 1;
            state.returning.insert((now + spent, order), delivery);
        }
    }

    fn carry_out(&self, action: Action) {
        let now = self.now();
        let core = &self.shared.core;
        let mut state = self.state();
        match action {
            Action::OpenPort { handle, device, .. } => {
                let free = state
                    .stations
                    .iter()
                    .position(|s| s.device == device && s.owner.is_none());
                match free {
                    Some(index) => {
                        state.stations[index].owner = Some(handle);
                        state.ports.insert(handle, index);
                        core.lock().port_opened(now, handle);
                    }
                    None => {
                        tracing::info!(device = %device.display(), "no modem on that port in the lab");
                        core.lock()
                            .port_failed(now, handle, RasError::ERROR_PORT_NOT_FOUND);
                    }
                }
            }
            Action::Transmit { handle, bytes } => {
                if let Some(&index) = state.ports.get(&handle) {
                    let station = &mut state.stations[index];
                    station.tap(now, Direction::Sent, &bytes);
                    station.to_modem.send(now, bytes);
                }
            }
            Action::ClosePort { handle } => {
                if let Some(index) = state.ports.remove(&handle) {
                    let station = &mut state.stations[index];
                    station.owner = None;
                    // Closing a serial port drains its output before DTR drops (a tty's
                    // close waits for the UART): what the dialer wrote reaches the modem
                    // first, and what the modem answers goes to a closed port.
                    while let Some(bytes) = station.to_modem.take_due(Instant::from_nanos(u64::MAX))
                    {
                        station.modem.handle_input(now, &bytes);
                    }
                    while station.modem.poll_transmit().is_some() {}
                    station.to_engine.clear();
                    station.modem.dtr_drop(now);
                }
                core.lock().port_closed(handle);
            }
            Action::Notify(delivery) => {
                drop(state);
                self.deliver(delivery);
            }
            Action::Settled { .. } => {}
        }
    }

    /// Move every modem's and peer's output to where it goes; returns whether anything
    /// moved.
    fn pump_stations(&self) -> bool {
        let now = self.now();
        let mut guard = self.state();
        let state = &mut *guard;
        let mut moved = false;
        // Callbacks asked for, placed once every station has been pumped.
        let mut callbacks = Vec::new();
        for station in &mut state.stations {
            while let Some(bytes) = station.modem.poll_transmit() {
                moved = true;
                // With no port open the modem talks to nobody.
                if station.owner.is_some() {
                    station.to_engine.send(now, bytes);
                }
            }
            while let Some(bytes) = station.modem.poll_line_transmit() {
                moved = true;
                station.to_peer.send(now, bytes);
            }
            while let Some(event) = station.modem.poll_event() {
                moved = true;
                match event {
                    ModemEvent::CommandLine(line) => {
                        station.transcript.push((now, format!("> {line}")));
                    }
                    ModemEvent::Result(code) => station.transcript.push((now, format!("< {code}"))),
                    ModemEvent::CallConnected {
                        number,
                        speed,
                        peer,
                    } => {
                        let call = CallInfo {
                            number,
                            speed,
                            peer,
                        };
                        let answering = match station.calling_back.take() {
                            // The far end that asked for this callback answers it.
                            Some(machine) => Ok(machine),
                            None => far_end(state.peers.as_mut(), &call),
                        };
                        match answering {
                            Ok(peer) => station.peer = Some(peer),
                            Err(reason) => {
                                tracing::info!(%reason, "the far end cannot answer");
                                station.modem.remote_hang_up(now);
                            }
                        }
                    }
                    ModemEvent::CallEnded => station.end_call(),
                }
            }
            if let Some(peer) = &mut station.peer {
                while let Some(bytes) = peer.poll_transmit() {
                    moved = true;
                    station.from_peer.send(now, bytes);
                }
                let mut hung_up = false;
                let mut call_back = None;
                while let Some(event) = peer.poll_event() {
                    match event {
                        PeerEvent::HangUp => hung_up = true,
                        PeerEvent::CallBack { number, after } => call_back = Some((number, after)),
                    }
                }
                if let Some((number, after)) = call_back
                    && let Some(machine) = station.peer.take()
                {
                    let speed = station
                        .modem
                        .call_terms()
                        .map_or(CALLBACK_SPEED, |(speed, _)| speed);
                    let after = station.modem.delays().apply(after);
                    callbacks.push((number, now + after, speed, machine));
                }
                if hung_up {
                    moved = true;
                    station.end_call();
                    station.modem.remote_hang_up(now);
                }
            }
        }
        for (number, at, speed, machine) in callbacks {
            moved = true;
            match state
                .stations
                .iter_mut()
                .find(|s| s.modem.owns_number(&number))
            {
                Some(callee) => {
                    tracing::info!(%number, "the far end calls back");
                    let call = IncomingCall {
                        number: callee.modem.number().to_owned(),
                        speed,
                        peer: modem_sim::network::PeerSpec::Builtin,
                    };
                    // A line still in use when it rings is busy, and the call is lost.
                    callee.modem.schedule_call(at, call);
                    callee.calling_back = Some(machine);
                }
                None => tracing::info!(%number, "callback to a number not in service"),
            }
        }
        moved
    }

    /// Deliver what has arrived and fire what is due at the clock's instant.
    fn fire_due(&self) {
        let now = self.now();
        let core = &self.shared.core;
        let mut state = self.state();
        for station in &mut state.stations {
            while let Some(bytes) = station.to_modem.take_due(now) {
                station.modem.handle_input(now, &bytes);
            }
            while let Some(bytes) = station.to_engine.take_due(now) {
                if let Some(handle) = station.owner {
                    station.tap(now, Direction::Received, &bytes);
                    core.lock().handle_input(now, handle, &bytes);
                }
            }
            while let Some(bytes) = station.to_peer.take_due(now) {
                if let Some(peer) = &mut station.peer {
                    peer.handle_input(now, &bytes);
                }
            }
            while let Some(bytes) = station.from_peer.take_due(now) {
                station.modem.handle_line_input(now, &bytes);
            }
            if station.modem.poll_timeout().is_some_and(|t| t <= now) {
                station.modem.handle_timeout(now);
            }
            if let Some(peer) = &mut station.peer
                && peer.poll_timeout().is_some_and(|t| t <= now)
            {
                peer.handle_timeout(now);
            }
        }
        core.lock().handle_timeout(now);
        while let Some(entry) = state.returning.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let delivery = entry.remove();
            core.lock().notified(now, delivery);
        }
    }
}

/// The far end of a connected call.
fn far_end(peers: Option<&mut PeerFactory>, call: &CallInfo) -> Result<LinePeer, String> {
    match (&call.peer, peers) {
        (modem_sim::network::PeerSpec::Builtin, Some(factory)) => factory(call),
        (modem_sim::network::PeerSpec::Builtin, None) => {
            Err("the number answers with `peer: builtin` but the lab has no server".to_owned())
        }
        (other, _) => Err(format!(
            "the lab never starts processes or opens sockets, so {other:?} cannot answer"
        )),
    }
}

/// The lab as the engine's driver.
struct LabDriver(Lab);

impl Driver for LabDriver {
    fn now(&self) -> Instant {
        self.0.now()
    }

    fn wake(&self) {
        // The lab runs when someone runs it (a blocking call, run_until, run_for).
    }

    fn wait(&self, ready: &mut dyn FnMut(&RasCore) -> bool) {
        let core = self.0.shared.core.clone();
        self.0.run(&mut || ready(&core.lock()), None);
    }
}
