//! The RAS API's own rules, written once (DESIGN §2, MUST): the connection table, handles,
//! references, ports in use, notifier dispatch, hang-up (also from inside a notifier),
//! resume and status. Sans-IO like every machine in the project: a driver feeds it port
//! events, expired timers and the notifier's return, and carries out the [`Action`]s it
//! asks for. The realtime driver (`crate::driver`) and any virtual-time driver (the lab
//! crate) run this same core, so an application's test in virtual time, the conformance
//! suite and a real dial exercise one implementation.
//!
//! Two rules shape it:
//!
//! - **The connection waits while its notifier runs** (ras-reference §4.1 rule 7). A
//!   notification leaves the core as an [`Action::Notify`] that carries the application's
//!   notifier with it; until the driver hands it back through [`RasCore::notified`], that
//!   connection is frozen: its input is held, its timers do not fire, nothing is sent.
//!   Other connections go on, so a slow notifier holds up only its own connection.
//! - **A handle stays valid until its port is released** (rule 21). `RasHangUp` returns at
//!   once; the link then terminates and the port closes, and only when the driver reports
//!   [`RasCore::port_closed`] does the handle become ERROR_INVALID_HANDLE. Until then the
//!   port counts as in use, so a redial that polls `connect_status` as rule 21 says never
//!   races the old dial on the device.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sansio::{Duration, Instant, Machine};

use super::notifier::Dispatcher;
use super::{
    ConnectStatus, DialError, DialExtensions, DialParams, EngineConfig, HRasConn, Notifier, RasConn,
};
use crate::phonebook::Phonebook;
use crate::ppp::{EapAnswer, EapPrompt};
use crate::ras::{Connection, ConnectionEvent, DialPlan, Notification, RasConnState, RasError};
use crate::script::DialScript;

/// What the core asks of its driver, in order.
#[derive(Debug)]
pub enum Action {
    /// Open the serial device for `handle`, then call [`RasCore::port_opened`] or
    /// [`RasCore::port_failed`].
    OpenPort {
        /// The connection.
        handle: HRasConn,
        /// The device path (`Port=` of the entry).
        device: PathBuf,
        /// The DTE speed to open it at.
        baud: u32,
        /// The entry's name (for the driver's capture file name).
        entry_name: String,
    },
    /// Write these bytes to `handle`'s port.
    Transmit {
        /// The connection.
        handle: HRasConn,
        /// What to write.
        bytes: Vec<u8>,
    },
    /// Close `handle`'s port (dropping DTR hangs the modem up), then call
    /// [`RasCore::port_closed`].
    ClosePort {
        /// The connection.
        handle: HRasConn,
    },
    /// Call the application's notifier ([`Delivery::deliver`]) on a thread that is not the
    /// application's own, then give the delivery back with [`RasCore::notified`].
    Notify(Delivery),
    /// A synchronous dial has its outcome ([`RasCore::outcome`]): wake whoever waits.
    Settled {
        /// The connection.
        handle: HRasConn,
    },
}

/// One notifier call, carried out by the driver. It owns the notifier meanwhile, so the
/// core can be used (status, hang-up) from inside the notifier.
#[derive(Debug)]
pub struct Delivery {
    handle: HRasConn,
    dispatcher: Dispatcher,
    notification: Notification,
    /// The notification of a referenced dial (§4.4 rule 23): its notifier is the second
    /// dial's own, used once.
    reference: bool,
}

impl Delivery {
    /// The connection notified.
    pub fn handle(&self) -> HRasConn {
        self.handle
    }

    /// What is notified.
    pub fn notification(&self) -> &Notification {
        &self.notification
    }

    /// Call the notifier (by the rules of ras-reference §4.1, see [`Dispatcher`]).
    pub fn deliver(&mut self) {
        self.dispatcher.deliver(&self.notification);
    }
}

/// How a connection's progress reaches the application.
#[derive(Debug)]
enum Listener {
    /// An asynchronous dial's notifier; `None` while a [`Delivery`] has it.
    Notifier(Option<Dispatcher>),
    /// A synchronous dial: the caller waits in `RasDial` for this.
    Caller(Option<Result<(), RasError>>),
}

#[derive(Debug)]
struct Record {
    entry_name: String,
    device: PathBuf,
    baud: u32,
    status: ConnectStatus,
    sub_entry: u32,
    /// Dials of this connected entry not yet balanced by a hang-up (§4.4 rule 23).
    references: u32,
    machine: Connection,
    /// The domain stored with the entry, for `szDomain = "*"` (ras-reference §3.2).
    entry_domain: String,
    listener: Listener,
    /// The application released the last reference: the link is going down and the handle
    /// lives on only until the port is closed.
    released: bool,
    /// RasHangUp was called while the notifier ran: it takes effect once the notifier
    /// returns (§4.1 rule 8).
    hang_up_pending: bool,
    /// A resume that arrived while the notifier that reported the pause was still running
    /// (the application's other thread may be quicker than the notifier's return).
    resume_pending: Option<DialParams>,
    /// Bytes that arrived while the notifier ran.
    held_input: Vec<u8>,
    port_open: bool,
    /// Since when the connection has waited for its notifier.
    frozen_since: Option<Instant>,
    /// Set when the application releases the connection: a notification queued but not
    /// yet begun is then not delivered (§4.1 rule 3c).
    cancelled: Arc<AtomicBool>,
    /// How long the connection has waited for its notifiers in all: its machine lives on
    /// a clock that stood still meanwhile, so a slow notifier never makes a protocol timer
    /// (the modem's answer, an LCP restart) run out behind its back.
    lag: Duration,
}

impl Record {
    fn in_notifier(&self) -> bool {
        matches!(self.listener, Listener::Notifier(None))
    }

    /// `now` on the connection's own clock (see [`Record::lag`]).
    fn local(&self, now: Instant) -> Instant {
        let lag = u64::try_from(self.lag.as_nanos()).unwrap_or(u64::MAX);
        Instant::from_nanos(now.as_nanos().saturating_sub(lag))
    }

    /// When the machine's next timer is due, on the driver's clock.
    fn next_timeout(&self) -> Option<Instant> {
        self.machine.poll_timeout().map(|at| at + self.lag)
    }
}

/// The connection table and the RAS calls on it, without I/O (see the module docs).
#[derive(Debug)]
pub struct RasCore {
    config: EngineConfig,
    next_handle: u64,
    connections: BTreeMap<HRasConn, Record>,
    actions: VecDeque<Action>,
}

impl RasCore {
    /// An empty table.
    pub fn new(config: EngineConfig) -> Self {
        RasCore {
            config,
            next_handle: 0,
            connections: BTreeMap::new(),
            actions: VecDeque::new(),
        }
    }

    /// The engine settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// `RasDial` of a new connection (or a referenced one). The dial starts at once; its
    /// progress comes out as actions. A synchronous dial (`notifier` `None`) then waits
    /// for [`RasCore::outcome`].
    pub fn dial(
        &mut self,
        now: Instant,
        extensions: Option<&DialExtensions>,
        phonebook: &Phonebook,
        params: &DialParams,
        notifier: Option<Notifier>,
        script: Option<DialScript>,
    ) -> Result<HRasConn, DialError> {
        let entry = phonebook
            .entry(&params.entry_name)
            .ok_or(DialError::before_start(
                RasError::ERROR_CANNOT_FIND_PHONEBOOK_ENTRY,
            ))?;
        // Custom dialers (ras-reference §4.5 rule 29): an entry that names one is dialed by
        // its DLL's RasCustomDial (the C API loads it), which dials back through here with
        // RDEOPT_CustomDial; any other path to such an entry cannot dial it.
        if entry.custom_dial_dll.is_some()
            && extensions.is_none_or(|e| e.options & super::rdeopt::CUSTOM_DIAL == 0)
        {
            return Err(DialError::before_start(
                RasError::ERROR_CANNOT_DO_CUSTOMDIAL,
            ));
        }
        // Referenced connections (ras-reference §4.4 rule 23): dialing an entry that is
        // already connected succeeds at once and adds a reference, which needs its own
        // hang-up.
        let connected = self.connections.iter_mut().find(|(_, record)| {
            record.entry_name.eq_ignore_ascii_case(&entry.name)
                && record.status.state == RasConnState::Connected
                && !record.released
        });
        if let Some((&handle, record)) = connected {
            record.references += 1;
            if let Some(notifier) = notifier {
                // [inferred: rule 23 leaves open whether an asynchronous re-dial notifies]
                // The second dial's notifier hears Connected at once.
                self.actions.push_back(Action::Notify(Delivery {
                    handle,
                    dispatcher: Dispatcher::new(notifier, handle, params.callback_id)
                        .cancelled_by(&record.cancelled),
                    notification: Notification {
                        subentry: record.sub_entry,
                        state: RasConnState::Connected,
                        error: None,
                        extended_error: 0,
                    },
                    reference: true,
                }));
            }
            return Ok(handle);
        }
        // One dial per port: a second dial on a device in use (or still being released)
        // fails before it starts.
        if self
            .connections
            .values()
            .any(|record| record.device == entry.device)
        {
            return Err(DialError::before_start(RasError::ERROR_PORT_ALREADY_OPEN));
        }
        let handle = HRasConn(self.next_handle + 1);
        let mut plan = DialPlan::resolve(entry, params, extensions, &self.config, handle)
            .map_err(DialError::before_start)?;
        // A synchronous dial has no way to hear of a pause, so it fails instead
        // [inferred: ras-reference §4.2 rule 13 leaves this undocumented].
        plan.paused_states &= notifier.is_some();
        // Nor can it show an EAP Notification: acknowledge those at once.
        plan.ppp.eap.confirm_notifications &= plan.paused_states;
        plan.script = script;
        self.next_handle += 1;
        let status = ConnectStatus {
            state: RasConnState::OpenPort,
            error: None,
            device_type: plan.device_type.clone(),
            device_name: plan.device_name.clone(),
            phone_number: plan.dialer.number.clone(),
        };
        let cancelled = Arc::new(AtomicBool::new(false));
        let listener = match notifier {
            Some(notifier) => Listener::Notifier(Some(
                Dispatcher::new(notifier, handle, params.callback_id).cancelled_by(&cancelled),
            )),
            None => Listener::Caller(None),
        };
        self.connections.insert(
            handle,
            Record {
                entry_name: entry.name.clone(),
                device: entry.device.clone(),
                baud: entry.connect_bps,
                status,
                sub_entry: plan.subentry,
                references: 1,
                machine: Connection::new(plan),
                entry_domain: entry.domain().to_owned(),
                listener,
                released: false,
                hang_up_pending: false,
                resume_pending: None,
                held_input: Vec::new(),
                port_open: false,
                frozen_since: None,
                cancelled,
                lag: Duration::ZERO,
            },
        );
        self.pump(now, handle);
        Ok(handle)
    }

    /// `RasDial` on the handle of a paused dial (ras-reference §4.3 rule 15): go on with
    /// the updated parameters. The notifier stays the original call's (see `Ras::resume`).
    ///
    /// ERROR_INVALID_HANDLE for an unknown (or released) handle, ERROR_INVALID_PARAMETER
    /// for a dial that is not paused [inferred].
    pub fn resume(
        &mut self,
        now: Instant,
        handle: HRasConn,
        params: &DialParams,
    ) -> Result<(), RasError> {
        let record = self.live_mut(handle)?;
        if !record.machine.is_paused() || record.resume_pending.is_some() {
            return Err(RasError::ERROR_INVALID_PARAMETER);
        }
        if record.in_notifier() {
            // The notifier that reported the pause has not returned yet: the resume
            // follows its return (rule 7: the dial waits for the notifier).
            record.resume_pending = Some(params.clone());
            return Ok(());
        }
        let local = record.local(now);
        let result = resume_machine(record, local, params);
        self.pump(now, handle);
        result
    }

    /// `RasInvokeEapUI`: the user's answer for the paused link `sub_entry` of `handle`
    /// (0 means the first, as in RASDIALPARAMS).
    pub fn invoke_eap_ui(
        &mut self,
        handle: HRasConn,
        sub_entry: u32,
        answer: EapAnswer,
    ) -> Result<(), RasError> {
        let record = self.live_mut(handle)?;
        if sub_entry.max(1) != record.sub_entry {
            return Err(RasError::ERROR_INVALID_PARAMETER);
        }
        record.machine.invoke_eap_ui(answer)
    }

    /// What the EAP method of `handle` asks the user, while paused in InvokeEapUI.
    pub fn eap_prompt(&self, handle: HRasConn) -> Result<Option<EapPrompt>, RasError> {
        self.connections
            .get(&handle)
            .filter(|record| !record.released)
            .map(|record| record.machine.eap_prompt().cloned())
            .ok_or(RasError::ERROR_INVALID_HANDLE)
    }

    /// What the user types on the terminal of `handle` (paused in Interactive).
    pub fn terminal_write(
        &mut self,
        now: Instant,
        handle: HRasConn,
        bytes: &[u8],
    ) -> Result<(), RasError> {
        self.live_mut(handle)?.machine.terminal_write(bytes)?;
        self.pump(now, handle);
        Ok(())
    }

    /// What the line of `handle` (paused in Interactive) sent since the last read.
    pub fn terminal_read(&mut self, handle: HRasConn) -> Result<Vec<u8>, RasError> {
        self.live_mut(handle)?.machine.terminal_read()
    }

    /// `RasHangUp`: release one reference; the last one starts the link's termination.
    /// The handle stays valid, in state Disconnected [inferred: rule 21 only says the
    /// status is ERROR_INVALID_HANDLE once the hang-up has finished], until the port is
    /// closed. Inside the notifier it takes effect once the notifier returns (§4.1 rule 8).
    pub fn hang_up(&mut self, now: Instant, handle: HRasConn) -> Result<(), RasError> {
        let record = self
            .connections
            .get_mut(&handle)
            .ok_or(RasError::ERROR_INVALID_HANDLE)?;
        if record.released {
            // Already going down: a second hang-up changes nothing.
            return Ok(());
        }
        record.references = record.references.saturating_sub(1);
        if record.references > 0 {
            return Ok(());
        }
        record.released = true;
        record.cancelled.store(true, Ordering::SeqCst);
        record.status.state = RasConnState::Disconnected;
        record.resume_pending = None;
        if let Listener::Caller(outcome @ None) = &mut record.listener {
            *outcome = Some(Err(RasError::ERROR_USER_DISCONNECTION));
            self.actions.push_back(Action::Settled { handle });
        }
        if record.in_notifier() {
            record.hang_up_pending = true;
            return Ok(());
        }
        if let Listener::Notifier(Some(dispatcher)) = &mut record.listener {
            dispatcher.end();
        }
        let local = record.local(now);
        record.machine.hang_up(local);
        self.pump(now, handle);
        Ok(())
    }

    /// `RasGetConnectStatus`.
    pub fn connect_status(&self, handle: HRasConn) -> Result<ConnectStatus, RasError> {
        self.connections
            .get(&handle)
            .map(|record| record.status.clone())
            .ok_or(RasError::ERROR_INVALID_HANDLE)
    }

    /// `RasEnumConnections`: connections that are connected (NT-family behaviour,
    /// ras-reference §4.4 rule 24), in handle order.
    pub fn enum_connections(&self) -> Vec<RasConn> {
        self.connections
            .iter()
            .filter(|(_, record)| {
                record.status.state == RasConnState::Connected && !record.released
            })
            .map(|(handle, record)| RasConn {
                handle: *handle,
                entry_name: record.entry_name.clone(),
                device_type: record.status.device_type.clone(),
                device_name: record.status.device_name.clone(),
                sub_entry: record.sub_entry,
            })
            .collect()
    }

    /// How a synchronous dial ended, once it has: `Ok` when connected.
    pub fn outcome(&self, handle: HRasConn) -> Option<Result<(), RasError>> {
        match self.connections.get(&handle).map(|record| &record.listener) {
            Some(Listener::Caller(outcome)) => *outcome,
            // A connection already gone was hung up (by another thread).
            None => Some(Err(RasError::ERROR_USER_DISCONNECTION)),
            Some(Listener::Notifier(_)) => None,
        }
    }

    /// Whether no connection is left (every port released).
    pub fn is_empty(&self) -> bool {
        self.connections.is_empty()
    }

    /// The next thing the driver must do.
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The earliest instant a connection's timer is due (frozen connections excluded).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.connections
            .values()
            .filter(|record| !record.in_notifier())
            .filter_map(Record::next_timeout)
            .min()
    }

    /// Fire every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let due: Vec<HRasConn> = self
            .connections
            .iter()
            .filter(|(_, record)| {
                !record.in_notifier() && record.next_timeout().is_some_and(|t| t <= now)
            })
            .map(|(handle, _)| *handle)
            .collect();
        for handle in due {
            if let Some(record) = self.connections.get_mut(&handle) {
                let local = record.local(now);
                record.machine.handle_timeout(local);
            }
            self.pump(now, handle);
        }
    }

    /// Bytes read from `handle`'s port.
    pub fn handle_input(&mut self, now: Instant, handle: HRasConn, bytes: &[u8]) {
        let Some(record) = self.connections.get_mut(&handle) else {
            return;
        };
        if record.in_notifier() {
            record.held_input.extend_from_slice(bytes);
            return;
        }
        let local = record.local(now);
        record.machine.handle_input(local, bytes);
        self.pump(now, handle);
    }

    /// The driver opened `handle`'s port.
    pub fn port_opened(&mut self, now: Instant, handle: HRasConn) {
        if let Some(record) = self.connections.get_mut(&handle) {
            record.port_open = true;
            let local = record.local(now);
            record.machine.port_opened(local);
        }
        self.pump(now, handle);
    }

    /// The driver could not open `handle`'s port.
    pub fn port_failed(&mut self, now: Instant, handle: HRasConn, error: RasError) {
        if let Some(record) = self.connections.get_mut(&handle) {
            record.machine.port_failed(error);
        }
        self.pump(now, handle);
    }

    /// `handle`'s port stopped working (read or write failed, the device went away).
    pub fn port_lost(&mut self, now: Instant, handle: HRasConn) {
        if let Some(record) = self.connections.get_mut(&handle) {
            record.port_open = false;
            record.machine.port_lost();
        }
        self.pump(now, handle);
    }

    /// The driver closed `handle`'s port: the hang-up is complete and the handle ends.
    pub fn port_closed(&mut self, handle: HRasConn) {
        if self
            .connections
            .get(&handle)
            .is_some_and(|record| record.released)
        {
            self.connections.remove(&handle);
        } else if let Some(record) = self.connections.get_mut(&handle) {
            record.port_open = false;
        }
    }

    /// The notifier of `delivery` has returned: the connection goes on (and a hang-up or
    /// resume asked for meanwhile takes effect now).
    pub fn notified(&mut self, now: Instant, delivery: Delivery) {
        if delivery.reference {
            return;
        }
        let handle = delivery.handle;
        let Some(record) = self.connections.get_mut(&handle) else {
            return;
        };
        if let Some(since) = record.frozen_since.take() {
            record.lag += now - since;
        }
        let local = record.local(now);
        let mut dispatcher = delivery.dispatcher;
        let mut resume_error = None;
        if record.hang_up_pending {
            record.hang_up_pending = false;
            dispatcher.end();
            record.machine.hang_up(local);
        } else if let Some(params) = record.resume_pending.take() {
            resume_error = resume_machine(record, local, &params).err();
        }
        record.listener = Listener::Notifier(Some(dispatcher));
        let held = std::mem::take(&mut record.held_input);
        if !held.is_empty() {
            record.machine.handle_input(local, &held);
        }
        if let Some(error) = resume_error {
            tracing::info!(%handle, %error, "the resume queued during the notifier was refused");
        }
        self.pump(now, handle);
    }

    /// The live (not released) record of `handle`.
    fn live_mut(&mut self, handle: HRasConn) -> Result<&mut Record, RasError> {
        self.connections
            .get_mut(&handle)
            .filter(|record| !record.released)
            .ok_or(RasError::ERROR_INVALID_HANDLE)
    }

    /// Turn what `handle`'s machine produced into actions, up to the next notifier call.
    fn pump(&mut self, now: Instant, handle: HRasConn) {
        let Some(record) = self.connections.get_mut(&handle) else {
            return;
        };
        loop {
            if record.in_notifier() {
                return; // the connection waits for its notifier (§4.1 rule 7)
            }
            let Some(event) = record.machine.poll_event() else {
                break;
            };
            match event {
                ConnectionEvent::OpenPort => self.actions.push_back(Action::OpenPort {
                    handle,
                    device: record.device.clone(),
                    baud: record.baud,
                    entry_name: record.entry_name.clone(),
                }),
                ConnectionEvent::ClosePort => {
                    self.actions.push_back(Action::ClosePort { handle });
                }
                ConnectionEvent::Notify(notification) => {
                    if !record.released {
                        // While the notifier runs, the status is the state it is told of
                        // (the machine may already be further on).
                        record.status.state = notification.state;
                        record.status.error = notification.error;
                    }
                    match &mut record.listener {
                        Listener::Notifier(slot) => {
                            if let Some(dispatcher) = slot.take_if(|d| !d.has_ended()) {
                                record.frozen_since = Some(now);
                                self.actions.push_back(Action::Notify(Delivery {
                                    handle,
                                    dispatcher,
                                    notification,
                                    reference: false,
                                }));
                            }
                        }
                        Listener::Caller(outcome @ None) => {
                            let settled = match notification.error {
                                Some(error) => Some(Err(error)),
                                None if notification.state == RasConnState::Connected => {
                                    Some(Ok(()))
                                }
                                None => None,
                            };
                            if settled.is_some() {
                                *outcome = settled;
                                self.actions.push_back(Action::Settled { handle });
                            }
                        }
                        Listener::Caller(Some(_)) => {}
                    }
                }
            }
        }
        if record.port_open {
            while let Some(bytes) = record.machine.poll_transmit() {
                self.actions.push_back(Action::Transmit { handle, bytes });
            }
        }
        if !record.released {
            record.status.state = record.machine.state();
            record.status.error = record.machine.error();
        }
    }
}

/// Resume `record`'s paused machine with the application's new parameters (`now` on the
/// connection's clock).
fn resume_machine(record: &mut Record, now: Instant, params: &DialParams) -> Result<(), RasError> {
    let user = params.authentication_name(&record.entry_domain);
    record
        .machine
        .resume(now, &user, &params.password, &params.callback_number)
}
