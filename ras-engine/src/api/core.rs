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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};

use sansio::{Duration, Instant, Machine};

use super::notifier::Dispatcher;
use super::{
    ConnectStatus, DialError, DialExtensions, DialParams, EngineConfig, HRasConn, Notifier,
    RasConn, rascn,
};
use crate::phonebook::{DialMode, Phonebook, Threshold};
use crate::ppp::hdlc::DEFAULT_MRU;
use crate::ppp::lcp::MultilinkAgreement;
use crate::ppp::mp::{Bundle as MpBundle, BundleConfig, LinkId, MpEvent};
use crate::ppp::wire::Protocol;
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

/// One link of a connection: a port, the modem on it and the call it places.
#[derive(Debug)]
struct Link {
    /// The port's handle in [`Action`]s and port events: the connection's own handle for a
    /// single-link dial, the subentry handle (`RasGetSubEntryHandle`, rule 22) for each link
    /// of a multilink one.
    handle: HRasConn,
    device: PathBuf,
    baud: u32,
    machine: Connection,
    /// Bytes that arrived while the notifier ran.
    held_input: Vec<u8>,
    port_open: bool,
    /// The driver has closed the port for good.
    closed: bool,
    /// Where the link stands in its bundle (multilink only).
    outcome: LinkOutcome,
    /// Added by dial-as-needed after the connection was up: its progress goes to
    /// RasConnectionNotification, not to the RasDial notifier (ras-reference §4.5 rule 27).
    added: bool,
}

impl Link {
    fn new(handle: HRasConn, device: PathBuf, baud: u32, plan: DialPlan) -> Self {
        Link {
            handle,
            device,
            baud,
            machine: Connection::new(plan),
            held_input: Vec::new(),
            port_open: false,
            closed: false,
            outcome: LinkOutcome::Dialing,
            added: false,
        }
    }

    fn subentry(&self) -> u32 {
        self.machine.plan().subentry
    }

    /// `RasGetConnectStatus` on the link's subentry handle.
    fn status(&self) -> ConnectStatus {
        let plan = self.machine.plan();
        ConnectStatus {
            state: self.machine.state(),
            error: self.machine.error(),
            device_type: plan.device_type.clone(),
            device_name: plan.device_name.clone(),
            phone_number: plan.dialer.number.clone(),
        }
    }
}

/// A multilink link's outcome, as the bundle counts it (ras-reference §4.5 rule 26).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LinkOutcome {
    /// Still dialing: no final state yet.
    Dialing,
    /// SubEntryConnected was reported.
    Up,
    /// The link failed, dropped or was hung up: the state it failed in and why.
    Down {
        state: RasConnState,
        error: RasError,
    },
}

/// Where a multilink (RASEDM_DialAll) connection stands as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bundle {
    /// Some link has no final state yet.
    Dialing,
    /// Connected was reported; at least one link is up.
    Connected,
    /// Every link failed: the dial failed.
    Failed,
    /// Connected once, and every link has gone down since.
    Ended,
}

/// The client's side of a multilink bundle: MP (RFC 1990) over the links that are up.
#[derive(Debug)]
struct DataPath {
    bundle: MpBundle,
    /// Each member link's id in the bundle, by link index.
    members: BTreeMap<usize, LinkId>,
}

impl DataPath {
    /// Link `index` (its `agreement`) joins; the first one opens the bundle with what its
    /// LCP agreed.
    fn join(path: &mut Option<DataPath>, index: usize, agreement: &MultilinkAgreement) {
        let data = path.get_or_insert_with(|| DataPath {
            bundle: MpBundle::new(BundleConfig::from_agreement(agreement)),
            members: BTreeMap::new(),
        });
        match data.bundle.add_link(DEFAULT_MRU) {
            Ok(link) => {
                data.members.insert(index, link);
            }
            Err(error) => tracing::info!(%error, "the link cannot join the bundle"),
        }
    }

    /// Link `index` went down: it leaves the bundle.
    fn leave(path: &mut Option<DataPath>, index: usize) {
        if let Some(data) = path
            && let Some(link) = data.members.remove(&index)
        {
            let _ = data.bundle.remove_link(link);
        }
    }
}

#[derive(Debug)]
struct Record {
    entry_name: String,
    status: ConnectStatus,
    sub_entry: u32,
    /// Dials of this connected entry not yet balanced by a hang-up (§4.4 rule 23).
    references: u32,
    /// The links: one, or one per subentry of a dial-all entry (subentry *k* at *k* − 1).
    links: Vec<Link>,
    /// `None` for a single-link connection.
    bundle: Option<Bundle>,
    /// Notifications waiting for the notifier (a bundle may owe two at once).
    outbox: VecDeque<Notification>,
    /// Why the link that went down last after being up went down: the connection's error
    /// once no link is left.
    last_loss: Option<RasError>,
    /// The links up with multilink agreed, as one MP bundle (RFC 1990): what
    /// [`RasCore::send_packet`] fragments over and what reassembles the peer's fragments.
    mp: Option<DataPath>,
    /// Network-layer packets received, whole (protocol field and information), for
    /// [`RasCore::receive_packet`].
    inbox: VecDeque<Vec<u8>>,
    /// Dial-as-needed (RASEDM_DialAsNeeded): the links not dialed yet and the traffic
    /// that decides when to dial or drop one.
    demand: Option<Demand>,
    /// How many subentries the connection has (dialed or not).
    subentries: u32,
    /// RASCN_* events for [`RasCore::connection_notification`]'s watchers.
    signals: Vec<u32>,
    /// RASCN_Connection was signalled and RASCN_Disconnection is still owed.
    announced: bool,
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

    /// When a link's next timer is due, on the driver's clock.
    fn next_timeout(&self) -> Option<Instant> {
        let links = self
            .links
            .iter()
            .filter_map(|link| link.machine.poll_timeout())
            .min()
            .map(|at| at + self.lag);
        sansio::sim::earliest([links, self.next_sample()])
    }

    /// When dial-as-needed looks at the traffic next (while connected).
    fn next_sample(&self) -> Option<Instant> {
        self.demand
            .as_ref()
            .filter(|_| self.bundle == Some(Bundle::Connected) && !self.released)
            .map(|demand| demand.next_sample)
    }

    /// The link a paused dial waits on (resume, EAP, terminal), else link 1.
    fn focus(&mut self) -> &mut Link {
        let index = self
            .links
            .iter()
            .position(|link| link.machine.is_paused())
            .unwrap_or(0);
        &mut self.links[index]
    }

    /// Every port is closed (or was never opened and never will be).
    fn all_closed(&self) -> bool {
        self.links.iter().all(|link| link.closed)
    }

    /// Turn a link's notification into the bundle's (ras-reference §4.5 rule 26, §4.7 C):
    /// progress passes with its subentry; a link's Connected is SubEntryConnected; a link's
    /// failure is SubEntryDisconnected with its error. Once every link has a final state,
    /// the connection's own outcome follows (see [`Record::settle_bundle`]).
    ///
    /// A link only joins a bundle when LCP agreed on multilink (RFC 1990 §5.1.1). A server
    /// that refuses it leaves the connection single-link: the first link up stays, and
    /// every later one is hung up and reported SubEntryDisconnected(754
    /// ERROR_BUNDLE_NOT_FOUND) [inferred: Windows documents no code; 754 says there is
    /// no bundle for the link to join].
    fn bundle_notification(&mut self, now: Instant, index: usize, notification: Notification) {
        let up: Vec<bool> = self
            .links
            .iter()
            .filter(|link| link.outcome == LinkOutcome::Up)
            .map(|link| link.machine.multilink().is_some())
            .collect();
        // A link up without multilink, or this one without it, while another is up.
        let no_bundle = !up.is_empty()
            && (up.contains(&false) || self.links[index].machine.multilink().is_none());
        let link = &mut self.links[index];
        let subentry = link.subentry();
        match (notification.state, notification.error) {
            (RasConnState::Connected, None) if link.added && !no_bundle => {
                link.outcome = LinkOutcome::Up;
                // The windows start afresh with the new capacity.
                if let Some(demand) = &mut self.demand {
                    demand.samples.clear();
                }
                if let Some(agreement) = link.machine.multilink() {
                    DataPath::join(&mut self.mp, index, &agreement);
                }
                self.signals.push(rascn::BANDWIDTH_ADDED);
            }
            (state, error) if link.added => {
                let error = error.or(no_bundle.then_some(RasError::ERROR_BUNDLE_NOT_FOUND));
                if let Some(error) = error {
                    if state == RasConnState::Connected {
                        link.machine.hang_up(now);
                    }
                    tracing::info!(subentry, %error, "the link added for bandwidth failed");
                    link.outcome = LinkOutcome::Down { state, error };
                }
            }
            (RasConnState::Connected, None) if no_bundle => {
                tracing::info!(subentry, "no multilink bundle to join: hanging the link up");
                link.machine.hang_up(now);
                let error = RasError::ERROR_BUNDLE_NOT_FOUND;
                link.outcome = LinkOutcome::Down {
                    state: RasConnState::Connected,
                    error,
                };
                self.outbox.push_back(plain(
                    subentry,
                    RasConnState::SubEntryDisconnected,
                    Some(error),
                ));
            }
            (RasConnState::Connected, None) => {
                link.outcome = LinkOutcome::Up;
                if let Some(agreement) = link.machine.multilink() {
                    DataPath::join(&mut self.mp, index, &agreement);
                }
                self.outbox
                    .push_back(plain(subentry, RasConnState::SubEntryConnected, None));
            }
            (state, Some(error)) => {
                link.outcome = LinkOutcome::Down { state, error };
                self.outbox.push_back(plain(
                    subentry,
                    RasConnState::SubEntryDisconnected,
                    Some(error),
                ));
            }
            _ => self.outbox.push_back(notification),
        }
        self.settle_bundle();
    }

    /// A link that was up and has gone down since (the call dropped, PPP ended): it
    /// reports no notification of its own (§4.1 rule 3), so the bundle reports
    /// SubEntryDisconnected for it.
    fn watch_links(&mut self) {
        for (index, link) in self.links.iter_mut().enumerate() {
            if link.outcome == LinkOutcome::Up && link.machine.state() == RasConnState::Disconnected
            {
                DataPath::leave(&mut self.mp, index);
                self.signals.push(rascn::BANDWIDTH_REMOVED);
                let error = link
                    .machine
                    .error()
                    .unwrap_or(RasError::ERROR_USER_DISCONNECTION);
                link.outcome = LinkOutcome::Down {
                    state: RasConnState::Disconnected,
                    error,
                };
                self.last_loss = Some(error);
                if !link.added {
                    self.outbox.push_back(plain(
                        link.subentry(),
                        RasConnState::SubEntryDisconnected,
                        Some(error),
                    ));
                }
            }
        }
        self.settle_bundle();
    }

    /// The connection's outcome once every link has a final state (rule 26): Connected
    /// with the lowest connected subentry [inferred: §7 question 6, undocumented], or,
    /// with none up, the failure of the lowest subentry repeated as the connection's
    /// (its state and error) [inferred]. After Connected, the last link going down ends
    /// the connection: Disconnected with that link's error.
    fn settle_bundle(&mut self) {
        let Some(stage) = self.bundle else {
            return;
        };
        let up = self
            .links
            .iter()
            .find(|link| link.outcome == LinkOutcome::Up)
            .map(Link::subentry);
        match stage {
            Bundle::Dialing => {
                if self
                    .links
                    .iter()
                    .any(|link| link.outcome == LinkOutcome::Dialing)
                {
                    return;
                }
                if let Some(subentry) = up {
                    self.bundle = Some(Bundle::Connected);
                    self.announced = true;
                    self.signals.push(rascn::CONNECTION);
                    self.outbox
                        .push_back(plain(subentry, RasConnState::Connected, None));
                } else if let Some((subentry, state, error)) =
                    self.links.iter().find_map(|link| match link.outcome {
                        LinkOutcome::Down { state, error } => Some((link.subentry(), state, error)),
                        _ => None,
                    })
                {
                    self.bundle = Some(Bundle::Failed);
                    self.outbox.push_back(plain(subentry, state, Some(error)));
                }
            }
            Bundle::Connected if up.is_none() => {
                self.bundle = Some(Bundle::Ended);
                // RASCN_Disconnection only once every subentry is down (rule 28).
                if std::mem::take(&mut self.announced) {
                    self.signals.push(rascn::DISCONNECTION);
                }
                if !self.released {
                    self.status.state = RasConnState::Disconnected;
                    self.status.error = self.last_loss;
                }
            }
            Bundle::Connected | Bundle::Failed | Bundle::Ended => {}
        }
    }
}

/// Move what `record`'s links received to its inbox: Multilink fragments through the
/// bundle's reassembly (whole packets in sequence, RFC 1990 §4.1), other frames as they
/// are (protocol field first).
fn receive_datagrams(record: &mut Record) {
    for (index, link) in record.links.iter_mut().enumerate() {
        while let Some((protocol, information)) = link.machine.poll_datagram() {
            if let Some(demand) = &mut record.demand {
                demand.current += information.len() as u64;
            }
            let member = record
                .mp
                .as_mut()
                .and_then(|data| Some((data.members.get(&index).copied()?, &mut data.bundle)));
            match (protocol, member) {
                (Protocol::MULTILINK, Some((member, bundle))) => {
                    if let Err(error) = bundle.receive(member, &information) {
                        tracing::debug!(%error, "a Multilink fragment discarded");
                    }
                }
                (Protocol::MULTILINK, None) => {
                    tracing::debug!("a Multilink fragment on a link outside the bundle")
                }
                (protocol, _) => {
                    let mut packet = protocol.0.to_be_bytes().to_vec();
                    packet.extend_from_slice(&information);
                    record.inbox.push_back(packet);
                }
            }
        }
    }
    if let Some(data) = &mut record.mp {
        while let Some(event) = data.bundle.poll_event() {
            match event {
                MpEvent::Packet(packet) => record.inbox.push_back(packet),
                MpEvent::Lost {
                    first_sequence,
                    count,
                } => tracing::debug!(first_sequence, count, "Multilink fragments lost"),
            }
        }
    }
}

/// A packet as MP carries it (RFC 1990 §3: the PPP Protocol field, one octet when
/// compressed, then the Information) split into protocol and information.
fn split_protocol(packet: &[u8]) -> Option<(u16, Vec<u8>)> {
    let (&first, rest) = packet.split_first()?;
    // RFC 1661 §2: a Protocol field's first octet is even, its last odd.
    if first & 1 == 1 {
        return Some((u16::from(first), rest.to_vec()));
    }
    let (&second, information) = rest.split_first()?;
    Some((u16::from_be_bytes([first, second]), information.to_vec()))
}

/// A notification with no extended error.
fn plain(subentry: u32, state: RasConnState, error: Option<RasError>) -> Notification {
    Notification {
        subentry,
        state,
        error,
        extended_error: 0,
    }
}

/// The connection table and the RAS calls on it, without I/O (see the module docs).
#[derive(Debug)]
pub struct RasCore {
    config: EngineConfig,
    next_handle: u64,
    connections: BTreeMap<HRasConn, Record>,
    /// Every port handle (a link's) → its connection's handle.
    ports: BTreeMap<HRasConn, HRasConn>,
    actions: VecDeque<Action>,
    /// `RasConnectionNotification` registrations.
    watchers: Vec<Watcher>,
}

/// One `RasConnectionNotification` registration: which connection (any, for `None`),
/// which RASCN_* flags, and where the events go.
#[derive(Debug)]
struct Watcher {
    handle: Option<HRasConn>,
    flags: u32,
    events: mpsc::Sender<ConnectionNotification>,
}

/// A RASCN_* event (ras-reference §3.6) for a `RasConnectionNotification` watcher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionNotification {
    /// The connection.
    pub handle: HRasConn,
    /// One RASCN_* flag (see [`rascn`]).
    pub flag: u32,
}

/// Dial-as-needed (ras-reference §3.6, §4.5 rule 27): the links not dialed yet, and the
/// traffic, in one-second samples, that decides when to dial one or drop one.
#[derive(Debug)]
struct Demand {
    /// Links in subentry order, not dialed yet.
    spare: VecDeque<Link>,
    dial_extra: Threshold,
    hang_up_extra: Threshold,
    /// Octets carried per one-second sample, newest last.
    samples: VecDeque<u64>,
    /// Octets carried in the sample under way.
    current: u64,
    next_sample: Instant,
}

impl Demand {
    /// The usage over the last `seconds` samples, in percent of `capacity` bit/s; `None`
    /// until that many samples exist.
    fn usage(&self, seconds: u32, capacity: u64) -> Option<u64> {
        let seconds = seconds.max(1) as usize;
        if self.samples.len() < seconds || capacity == 0 {
            return None;
        }
        let octets: u64 = self.samples.iter().rev().take(seconds).sum();
        Some(octets * 8 * 100 / (capacity * seconds as u64))
    }
}

/// One sample a second [inferred: Windows documents only the windows, not how often it
/// looks].
const SAMPLE: Duration = Duration::from_secs(1);

impl RasCore {
    /// An empty table.
    pub fn new(config: EngineConfig) -> Self {
        RasCore {
            config,
            next_handle: 0,
            connections: BTreeMap::new(),
            ports: BTreeMap::new(),
            actions: VecDeque::new(),
            watchers: Vec::new(),
        }
    }

    /// The engine settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// `RasDial` of a new connection (or a referenced one). The dial starts at once; its
    /// progress comes out as actions. A synchronous dial (`notifier` `None`) then waits
    /// for [`RasCore::outcome`].
    ///
    /// A dial-all entry (`DialMode=1` with subentries, ras-reference §3.6) dials every
    /// link at once, each on its own port under its own subentry handle; notifications
    /// carry the subentry (rule 26, see [`Record::bundle_notification`]).
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
                    notification: plain(record.sub_entry, RasConnState::Connected, None),
                    reference: true,
                }));
            }
            return Ok(handle);
        }
        let as_needed = entry.dial_mode == DialMode::AsNeeded && !entry.subentries.is_empty();
        let multilink = entry.dials_all() || as_needed;
        let link_count = if multilink { entry.link_count() } else { 1 };
        let devices: Vec<(PathBuf, u32)> = (1..=link_count)
            .filter_map(|k| entry.subentry_properties(k))
            .map(|link| (link.port, link.connect_bps))
            .collect();
        // One dial per port: a second dial on a device in use (or still being released)
        // fails before it starts; so does a dial-all entry naming one port twice.
        let in_use = |device: &PathBuf| {
            self.connections
                .values()
                .flat_map(|record| &record.links)
                .any(|link| link.device == *device)
        };
        let repeated = devices
            .iter()
            .enumerate()
            .any(|(i, (device, _))| devices[..i].iter().any(|(other, _)| other == device));
        if repeated || devices.iter().any(|(device, _)| in_use(device)) {
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
        let mut demand = None;
        let links = if multilink {
            // Link k's subentry handle follows the connection's.
            let mut links = Vec::with_capacity(devices.len());
            for (k, (device, baud)) in (1..).zip(devices) {
                let link_handle = HRasConn(handle.0 + u64::from(k));
                let link_plan = plan
                    .link(entry, k, &self.config, link_handle)
                    .map_err(DialError::before_start)?;
                links.push(Link::new(link_handle, device, baud, link_plan));
            }
            if as_needed {
                // Rule 27: the first link is the one dwSubEntry names (1 when it names
                // none, or one beyond the entry [inferred]); the rest wait for traffic.
                let first = (params.sub_entry as usize)
                    .checked_sub(1)
                    .filter(|&k| k < links.len())
                    .unwrap_or(0);
                let chosen = links.remove(first);
                demand = Some(Demand {
                    spare: links.into(),
                    dial_extra: entry.dial_extra(),
                    hang_up_extra: entry.hang_up_extra(),
                    samples: VecDeque::new(),
                    current: 0,
                    next_sample: now + SAMPLE,
                });
                vec![chosen]
            } else {
                links
            }
        } else {
            plan.subentry = params.sub_entry.max(1);
            vec![Link::new(
                handle,
                entry.device.clone(),
                entry.connect_bps,
                plan.clone(),
            )]
        };
        self.next_handle = links
            .last()
            .map_or(handle.0, |link| link.handle.0.max(handle.0));
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
                Dispatcher::new(notifier, handle, params.callback_id)
                    .cancelled_by(&cancelled)
                    .multilink(multilink),
            )),
            None => Listener::Caller(None),
        };
        for link in links
            .iter()
            .chain(demand.iter().flat_map(|demand| &demand.spare))
        {
            self.ports.insert(link.handle, handle);
        }
        self.connections.insert(
            handle,
            Record {
                entry_name: entry.name.clone(),
                status,
                sub_entry: if multilink { 1 } else { plan.subentry },
                references: 1,
                links,
                bundle: multilink.then_some(Bundle::Dialing),
                outbox: VecDeque::new(),
                last_loss: None,
                mp: None,
                inbox: VecDeque::new(),
                demand,
                subentries: u32::try_from(link_count).unwrap_or(u32::MAX),
                signals: Vec::new(),
                announced: false,
                entry_domain: entry.domain().to_owned(),
                listener,
                released: false,
                hang_up_pending: false,
                resume_pending: None,
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
        if !record.focus().machine.is_paused() || record.resume_pending.is_some() {
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
        let link = match record.bundle {
            Some(_) => record
                .links
                .iter_mut()
                .find(|link| link.subentry() == sub_entry.max(1)),
            None => record
                .links
                .first_mut()
                .filter(|link| link.subentry() == sub_entry.max(1)),
        };
        link.ok_or(RasError::ERROR_INVALID_PARAMETER)?
            .machine
            .invoke_eap_ui(answer)
    }

    /// What the EAP method of `handle` asks the user, while paused in InvokeEapUI.
    pub fn eap_prompt(&self, handle: HRasConn) -> Result<Option<EapPrompt>, RasError> {
        self.connections
            .get(&handle)
            .filter(|record| !record.released)
            .map(|record| {
                record
                    .links
                    .iter()
                    .find_map(|link| link.machine.eap_prompt().cloned())
            })
            .ok_or(RasError::ERROR_INVALID_HANDLE)
    }

    /// What the user types on the terminal of `handle` (paused in Interactive).
    pub fn terminal_write(
        &mut self,
        now: Instant,
        handle: HRasConn,
        bytes: &[u8],
    ) -> Result<(), RasError> {
        self.live_mut(handle)?
            .focus()
            .machine
            .terminal_write(bytes)?;
        self.pump(now, handle);
        Ok(())
    }

    /// What the line of `handle` (paused in Interactive) sent since the last read.
    pub fn terminal_read(&mut self, handle: HRasConn) -> Result<Vec<u8>, RasError> {
        self.live_mut(handle)?.focus().machine.terminal_read()
    }

    /// `RasGetSubEntryHandle` (ras-reference §4.4 rule 22): the handle of link `sub_entry`
    /// (1-based) of connection `handle`. ERROR_INVALID_HANDLE for a handle that is not a
    /// live connection's, ERROR_NO_MORE_ITEMS for an index beyond the connection's links
    /// (0 included [inferred]), ERROR_PORT_NOT_OPEN for a link that is not connected. A
    /// single-link connection's subentry 1 is the connection's own handle [inferred].
    pub fn get_subentry_handle(
        &self,
        handle: HRasConn,
        sub_entry: u32,
    ) -> Result<HRasConn, RasError> {
        let record = self
            .connections
            .get(&handle)
            .filter(|record| !record.released)
            .ok_or(RasError::ERROR_INVALID_HANDLE)?;
        if sub_entry == 0 || sub_entry > record.subentries {
            return Err(RasError::ERROR_NO_MORE_ITEMS);
        }
        // A dial-as-needed link not dialed (yet) is not connected.
        let link = record
            .links
            .iter()
            .find(|link| link.subentry() == sub_entry || record.bundle.is_none())
            .ok_or(RasError::ERROR_PORT_NOT_OPEN)?;
        let connected = match record.bundle {
            Some(_) => link.outcome == LinkOutcome::Up,
            None => link.machine.state() == RasConnState::Connected,
        };
        if !connected {
            return Err(RasError::ERROR_PORT_NOT_OPEN);
        }
        Ok(link.handle)
    }

    /// `RasHangUp`: release one reference; the last one starts the link's termination.
    /// The handle stays valid, in state Disconnected [inferred: rule 21 only says the
    /// status is ERROR_INVALID_HANDLE once the hang-up has finished], until the port is
    /// closed. Inside the notifier it takes effect once the notifier returns (§4.1 rule 8).
    ///
    /// On a subentry handle it drops only that link (rule 22); the connection goes on, or,
    /// if that was its last link up, ends with ERROR_USER_DISCONNECTION. Like any
    /// RasHangUp it is not notified (§4.1 rule 3) [inferred].
    pub fn hang_up(&mut self, now: Instant, handle: HRasConn) -> Result<(), RasError> {
        if let Some((owner, index)) = self.subentry_link(handle) {
            return self.hang_up_link(now, owner, index);
        }
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
        // The connection ends: RASCN_Disconnection [inferred: also for the application's
        // own hang-up].
        if std::mem::take(&mut record.announced) {
            record.signals.push(rascn::DISCONNECTION);
        }
        record.status.state = RasConnState::Disconnected;
        record.resume_pending = None;
        record.outbox.clear();
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
        for link in &mut record.links {
            link.machine.hang_up(local);
        }
        self.pump(now, handle);
        self.forget_if_closed(handle);
        Ok(())
    }

    /// RasHangUp on the subentry handle of link `index` of `owner` (rule 22).
    fn hang_up_link(
        &mut self,
        now: Instant,
        owner: HRasConn,
        index: usize,
    ) -> Result<(), RasError> {
        let record = self.live_mut(owner)?;
        let local = record.local(now);
        let link = &mut record.links[index];
        if matches!(link.outcome, LinkOutcome::Down { .. }) {
            return Ok(());
        }
        link.machine.hang_up(local);
        if link.outcome == LinkOutcome::Up {
            record.last_loss = Some(RasError::ERROR_USER_DISCONNECTION);
            DataPath::leave(&mut record.mp, index);
            record.signals.push(rascn::BANDWIDTH_REMOVED);
        }
        let link = &mut record.links[index];
        link.outcome = LinkOutcome::Down {
            state: link.machine.state(),
            error: RasError::ERROR_USER_DISCONNECTION,
        };
        record.settle_bundle();
        self.pump(now, owner);
        Ok(())
    }

    /// `RasGetConnectStatus`, on a connection's handle or a subentry handle (the link's
    /// own state; rule 22: it cannot confirm that link's hang-up).
    pub fn connect_status(&self, handle: HRasConn) -> Result<ConnectStatus, RasError> {
        if let Some((owner, index)) = self.subentry_link(handle) {
            return self
                .connections
                .get(&owner)
                .map(|record| record.links[index].status())
                .ok_or(RasError::ERROR_INVALID_HANDLE);
        }
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

    /// Send a network-layer packet (its PPP protocol number and information, e.g.
    /// 0x0021 and an IPv4 datagram) on connection `handle`: over a multilink bundle,
    /// fragmented with MP sequence numbers across the links that are up (RFC 1990 §3);
    /// else on the one link. ERROR_INVALID_HANDLE for an unknown handle (or a subentry's),
    /// ERROR_PORT_NOT_OPEN when no link can carry it (not connected, or the peer's MRRU is
    /// smaller than the packet).
    pub fn send_packet(
        &mut self,
        now: Instant,
        handle: HRasConn,
        protocol: u16,
        information: &[u8],
    ) -> Result<(), RasError> {
        let record = self.live_mut(handle)?;
        if let Some(demand) = &mut record.demand {
            demand.current += information.len() as u64 + 2;
        }
        let sent = match &mut record.mp {
            Some(data) => {
                let mut packet = protocol.to_be_bytes().to_vec();
                packet.extend_from_slice(information);
                let pieces = data
                    .bundle
                    .fragment(&packet)
                    .map_err(|_| RasError::ERROR_PORT_NOT_OPEN)?;
                pieces.into_iter().all(|(link, piece)| {
                    data.members
                        .iter()
                        .find(|(_, member)| **member == link)
                        .and_then(|(index, _)| record.links.get_mut(*index))
                        .is_some_and(|link| link.machine.send_datagram(Protocol::MULTILINK, &piece))
                })
            }
            None => record
                .links
                .iter_mut()
                .find(|link| link.machine.state() == RasConnState::Connected)
                .is_some_and(|link| link.machine.send_datagram(Protocol(protocol), information)),
        };
        self.pump(now, handle);
        if sent {
            Ok(())
        } else {
            Err(RasError::ERROR_PORT_NOT_OPEN)
        }
    }

    /// The next network-layer packet connection `handle` received (reassembled, in
    /// sequence, when it came over a multilink bundle): its protocol number and
    /// information.
    pub fn receive_packet(&mut self, handle: HRasConn) -> Result<Option<(u16, Vec<u8>)>, RasError> {
        let record = self.live_mut(handle)?;
        Ok(record
            .inbox
            .pop_front()
            .and_then(|packet| split_protocol(&packet)))
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
                for link in &mut record.links {
                    if link.machine.poll_timeout().is_some_and(|t| t <= local) {
                        link.machine.handle_timeout(local);
                    }
                }
            }
            self.sample_demand(now, handle);
            self.pump(now, handle);
        }
    }

    /// Bytes read from the port `port`.
    pub fn handle_input(&mut self, now: Instant, port: HRasConn, bytes: &[u8]) {
        let Some((handle, record, index)) = self.port_mut(port) else {
            return;
        };
        if record.in_notifier() {
            record.links[index].held_input.extend_from_slice(bytes);
            return;
        }
        let local = record.local(now);
        record.links[index].machine.handle_input(local, bytes);
        self.pump(now, handle);
    }

    /// The driver opened the port `port`.
    pub fn port_opened(&mut self, now: Instant, port: HRasConn) {
        let Some((handle, record, index)) = self.port_mut(port) else {
            return;
        };
        let local = record.local(now);
        let link = &mut record.links[index];
        link.port_open = true;
        link.machine.port_opened(local);
        self.pump(now, handle);
    }

    /// The driver could not open the port `port`.
    pub fn port_failed(&mut self, now: Instant, port: HRasConn, error: RasError) {
        let Some((handle, record, index)) = self.port_mut(port) else {
            return;
        };
        record.links[index].machine.port_failed(error);
        self.pump(now, handle);
    }

    /// The port `port` stopped working (read or write failed, the device went away).
    pub fn port_lost(&mut self, now: Instant, port: HRasConn) {
        let Some((handle, record, index)) = self.port_mut(port) else {
            return;
        };
        let link = &mut record.links[index];
        link.port_open = false;
        link.machine.port_lost();
        self.pump(now, handle);
    }

    /// The driver closed the port `port`. Once every port of a released connection is
    /// closed, the hang-up is complete and the handle ends.
    pub fn port_closed(&mut self, port: HRasConn) {
        let Some((handle, record, index)) = self.port_mut(port) else {
            return;
        };
        let link = &mut record.links[index];
        link.port_open = false;
        link.closed = true;
        self.forget_if_closed(handle);
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
            for link in &mut record.links {
                link.machine.hang_up(local);
            }
        } else if let Some(params) = record.resume_pending.take() {
            resume_error = resume_machine(record, local, &params).err();
        }
        record.listener = Listener::Notifier(Some(dispatcher));
        for link in &mut record.links {
            let held = std::mem::take(&mut link.held_input);
            if !held.is_empty() {
                link.machine.handle_input(local, &held);
            }
        }
        if let Some(error) = resume_error {
            tracing::info!(%handle, %error, "the resume queued during the notifier was refused");
        }
        self.pump(now, handle);
        self.forget_if_closed(handle);
    }

    /// `RasConnectionNotification` (ras-reference §3.6, rules 27–28): the RASCN_* events
    /// in `flags` of connection `handle` (`None`: every connection) come out of the
    /// returned receiver. ERROR_INVALID_HANDLE for a handle that is not a live
    /// connection's.
    pub fn connection_notification(
        &mut self,
        handle: Option<HRasConn>,
        flags: u32,
    ) -> Result<mpsc::Receiver<ConnectionNotification>, RasError> {
        if let Some(handle) = handle {
            self.live_mut(handle)?;
        }
        let (events, receiver) = mpsc::channel();
        self.watchers.push(Watcher {
            handle,
            flags,
            events,
        });
        Ok(receiver)
    }

    /// Dial-as-needed's one-second look at the traffic (rule 27): usage above
    /// `DialPercent` over `DialSeconds` dials the next spare link; usage below
    /// `HangUpPercent` over `HangUpSeconds` with more than one link up drops the last one
    /// added. Usage is the octets carried both ways against the line rates of the links
    /// up [inferred: Windows does not say how it measures]. A change starts the windows
    /// afresh. Links are dialed plainly (no BAP Call-Request) [inferred].
    fn sample_demand(&mut self, now: Instant, handle: HRasConn) {
        let Some(record) = self.connections.get_mut(&handle) else {
            return;
        };
        if record.next_sample().is_none_or(|at| at > now) {
            return;
        }
        let local = record.local(now);
        let up: Vec<usize> = (0..record.links.len())
            .filter(|&i| record.links[i].outcome == LinkOutcome::Up)
            .collect();
        let dialing = record
            .links
            .iter()
            .any(|link| link.outcome == LinkOutcome::Dialing);
        let capacity: u64 = up
            .iter()
            .map(|&i| {
                let link = &record.links[i];
                u64::from(link.machine.line_rate().unwrap_or(link.baud))
            })
            .sum();
        let Some(demand) = &mut record.demand else {
            return;
        };
        demand.next_sample = now + SAMPLE;
        demand
            .samples
            .push_back(std::mem::take(&mut demand.current));
        let window = demand
            .dial_extra
            .seconds
            .max(demand.hang_up_extra.seconds)
            .max(1);
        while demand.samples.len() > window as usize {
            demand.samples.pop_front();
        }
        let busy = demand
            .usage(demand.dial_extra.seconds, capacity)
            .is_some_and(|usage| usage >= u64::from(demand.dial_extra.percent));
        let idle = demand
            .usage(demand.hang_up_extra.seconds, capacity)
            .is_some_and(|usage| usage < u64::from(demand.hang_up_extra.percent));
        if busy && !dialing {
            if let Some(mut link) = demand.spare.pop_front() {
                tracing::info!(
                    subentry = link.subentry(),
                    "traffic above DialPercent: adding a link"
                );
                demand.samples.clear();
                link.added = true;
                record.links.push(link);
            }
        } else if idle && up.len() > 1 {
            // Links are kept in the order they were dialed: the last up is the newest.
            if let Some(&last) = up.last() {
                tracing::info!(
                    subentry = record.links[last].subentry(),
                    "traffic below HangUpPercent: dropping a link"
                );
                demand.samples.clear();
                let link = &mut record.links[last];
                link.machine.hang_up(local);
                link.outcome = LinkOutcome::Down {
                    state: RasConnState::Connected,
                    error: RasError::ERROR_USER_DISCONNECTION,
                };
                DataPath::leave(&mut record.mp, last);
                record.signals.push(rascn::BANDWIDTH_REMOVED);
            }
        }
    }

    /// Hand `handle`'s RASCN_* events to the watchers that asked for them.
    fn signal(&mut self, handle: HRasConn) {
        let Some(record) = self.connections.get_mut(&handle) else {
            return;
        };
        for flag in std::mem::take(&mut record.signals) {
            self.watchers.retain(|watcher| {
                if watcher.handle.is_some_and(|h| h != handle) || watcher.flags & flag == 0 {
                    return true;
                }
                // A watcher whose receiver is gone is forgotten.
                watcher
                    .events
                    .send(ConnectionNotification { handle, flag })
                    .is_ok()
            });
        }
    }

    /// The live (not released) record of `handle`.
    fn live_mut(&mut self, handle: HRasConn) -> Result<&mut Record, RasError> {
        self.connections
            .get_mut(&handle)
            .filter(|record| !record.released)
            .ok_or(RasError::ERROR_INVALID_HANDLE)
    }

    /// The connection and link index behind a subentry handle of a multilink connection
    /// (not a connection's own handle).
    fn subentry_link(&self, handle: HRasConn) -> Option<(HRasConn, usize)> {
        let owner = *self.ports.get(&handle).filter(|&&owner| owner != handle)?;
        let index = self
            .connections
            .get(&owner)?
            .links
            .iter()
            .position(|link| link.handle == handle)?;
        Some((owner, index))
    }

    /// The connection (handle and record) and link index of the port `port`.
    fn port_mut(&mut self, port: HRasConn) -> Option<(HRasConn, &mut Record, usize)> {
        let handle = *self.ports.get(&port)?;
        let record = self.connections.get_mut(&handle)?;
        let index = record.links.iter().position(|link| link.handle == port)?;
        Some((handle, record, index))
    }

    /// Forget a released connection whose ports are all closed: its handles end.
    fn forget_if_closed(&mut self, handle: HRasConn) {
        if self
            .connections
            .get(&handle)
            .is_some_and(|record| record.released && record.all_closed())
            && let Some(record) = self.connections.remove(&handle)
        {
            for link in record
                .links
                .iter()
                .chain(record.demand.iter().flat_map(|demand| &demand.spare))
            {
                self.ports.remove(&link.handle);
            }
        }
    }

    /// Turn what `handle`'s links produced into actions, up to the next notifier call.
    fn pump(&mut self, now: Instant, handle: HRasConn) {
        let Some(record) = self.connections.get_mut(&handle) else {
            return;
        };
        loop {
            if record.in_notifier() {
                return; // the connection waits for its notifier (§4.1 rule 7)
            }
            if let Some(notification) = record.outbox.pop_front() {
                notify(&mut self.actions, now, handle, record, notification);
                continue;
            }
            let Some((index, event)) = record
                .links
                .iter_mut()
                .enumerate()
                .find_map(|(index, link)| link.machine.poll_event().map(|event| (index, event)))
            else {
                if record.bundle.is_some() {
                    record.watch_links();
                    if !record.outbox.is_empty() {
                        continue;
                    }
                }
                break;
            };
            let link = &record.links[index];
            match event {
                ConnectionEvent::OpenPort => self.actions.push_back(Action::OpenPort {
                    handle: link.handle,
                    device: link.device.clone(),
                    baud: link.baud,
                    entry_name: record.entry_name.clone(),
                }),
                ConnectionEvent::ClosePort => {
                    self.actions.push_back(Action::ClosePort {
                        handle: link.handle,
                    });
                }
                ConnectionEvent::Notify(notification) if record.bundle.is_some() => {
                    if !record.released {
                        let local = record.local(now);
                        record.bundle_notification(local, index, notification);
                    }
                }
                ConnectionEvent::Notify(notification) => record.outbox.push_back(notification),
            }
        }
        receive_datagrams(record);
        for link in &mut record.links {
            if link.port_open {
                while let Some(bytes) = link.machine.poll_transmit() {
                    self.actions.push_back(Action::Transmit {
                        handle: link.handle,
                        bytes,
                    });
                }
            }
        }
        if record.bundle == Some(Bundle::Ended)
            && let Listener::Notifier(Some(dispatcher)) = &mut record.listener
        {
            // The last link's SubEntryDisconnected was the flow's last notification.
            dispatcher.end();
        }
        if !record.released && record.bundle.is_none() {
            record.status.state = record.links[0].machine.state();
            record.status.error = record.links[0].machine.error();
            // A single link's RASCN_Connection and RASCN_Disconnection.
            let connected = record.status.state == RasConnState::Connected;
            if connected != record.announced {
                record.announced = connected;
                record.signals.push(if connected {
                    rascn::CONNECTION
                } else {
                    rascn::DISCONNECTION
                });
            }
        }
        self.signal(handle);
    }
}

/// Hand `notification` of `record` to its listener: the notifier (the connection then
/// waits for it), or the synchronous caller once the dial has its outcome.
fn notify(
    actions: &mut VecDeque<Action>,
    now: Instant,
    handle: HRasConn,
    record: &mut Record,
    notification: Notification,
) {
    // A link lost after Connected leaves the connection's status as it is (rule 26).
    let after_connected = notification.state == RasConnState::SubEntryDisconnected
        && matches!(
            record.status.state,
            RasConnState::Connected | RasConnState::Disconnected
        );
    if !record.released && !after_connected {
        // While the notifier runs, the status is the state it is told of (the machine may
        // already be further on). A link's failure is not the connection's (rule 26).
        record.status.state = notification.state;
        if notification.state != RasConnState::SubEntryDisconnected {
            record.status.error = notification.error;
        }
    }
    match &mut record.listener {
        Listener::Notifier(slot) => {
            if let Some(dispatcher) = slot.take_if(|d| !d.has_ended()) {
                record.frozen_since = Some(now);
                actions.push_back(Action::Notify(Delivery {
                    handle,
                    dispatcher,
                    notification,
                    reference: false,
                }));
            }
        }
        Listener::Caller(outcome @ None) => {
            let settled = match notification.error {
                // A link's failure is not the dial's (rule 26).
                Some(_) if notification.state == RasConnState::SubEntryDisconnected => None,
                Some(error) => Some(Err(error)),
                None if notification.state == RasConnState::Connected => Some(Ok(())),
                None => None,
            };
            if settled.is_some() {
                *outcome = settled;
                actions.push_back(Action::Settled { handle });
            }
        }
        Listener::Caller(Some(_)) => {}
    }
}

/// Resume `record`'s paused link with the application's new parameters (`now` on the
/// connection's clock).
fn resume_machine(record: &mut Record, now: Instant, params: &DialParams) -> Result<(), RasError> {
    let user = params.authentication_name(&record.entry_domain);
    record
        .focus()
        .machine
        .resume(now, &user, &params.password, &params.callback_number)
}
