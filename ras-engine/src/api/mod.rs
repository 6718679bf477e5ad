//! The RasDial-style public surface (DESIGN §5): `dial`, `hang_up`, `connect_status`,
//! `enum_connections`, `error_string`, over a connection table. The realtime driver
//! (`crate::driver`) runs each dial on its own thread, which is the thread the notifier is
//! called on (ras-reference §4.1 rule 7).

mod notifier;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, mpsc};

use sansio::{Duration, TimeScale};

pub use notifier::{
    Dispatcher, Notifier, NotifyControl, RasDialFunc, RasDialFunc1, RasDialFunc2, WM_RASDIALEVENT,
    WindowMessage,
};

use crate::driver::{self, Command};
use crate::hayes::DialerConfig;
use crate::phonebook::{AuthRestrictions, Entry, Phonebook};
use crate::ppp::random::Entropy;
use crate::ppp::{AuthProtocol, ClientConfig};
use crate::ras::{DialPlan, Notification, RasConnState, RasError};

/// `RDEOPT_*` flags of `RASDIALEXTENSIONS.dwfOptions` (ras-reference §3.3, H1).
pub mod rdeopt {
    /// Apply the device's dialing prefix and suffix.
    pub const USE_PREFIX_SUFFIX: u32 = 0x0000_0001;
    /// Allow the dial to stop in paused states instead of failing.
    pub const PAUSED_STATES: u32 = 0x0000_0002;
    /// The caller is a custom dialer: do not hand the dial to the entry's custom dialer.
    pub const CUSTOM_DIAL: u32 = 0x0000_1000;
}

/// `HRASCONN`: a connection handle. Never zero.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HRasConn(u64);

impl HRasConn {
    /// A handle with this raw value (drivers other than the built-in one hand these out;
    /// the built-in table numbers them from 1).
    pub fn from_raw(value: u64) -> Self {
        HRasConn(value)
    }

    /// The handle's raw value.
    pub fn value(self) -> u64 {
        self.0
    }
}

impl fmt::Debug for HRasConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HRasConn({:#x})", self.0)
    }
}

impl fmt::Display for HRasConn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

/// `RASDIALPARAMS` (ras-reference §3.2).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DialParams {
    /// `szEntryName`.
    pub entry_name: String,
    /// `szPhoneNumber`: empty means the entry's own number.
    pub phone_number: String,
    /// `szCallbackNumber`.
    pub callback_number: String,
    /// `szUserName`.
    pub user_name: String,
    /// `szPassword`.
    pub password: String,
    /// `szDomain`.
    pub domain: String,
    /// `dwSubEntry` (1-based; 0 means the first).
    pub sub_entry: u32,
    /// `dwCallbackId`, handed back as RasDialFunc2's first argument.
    pub callback_id: usize,
}

impl DialParams {
    /// The name the engine authenticates with: `DOMAIN\user` when a domain is given, as
    /// Windows sends it to a RAS server (MS-CHAPv2's user name field, RFC 2759 §4, carries
    /// it this way), else the user name alone.
    pub fn authentication_name(&self) -> String {
        if self.domain.is_empty() {
            self.user_name.clone()
        } else {
            format!("{}\\{}", self.domain, self.user_name)
        }
    }
}

/// `RASDIALEXTENSIONS` (ras-reference §3.3); `None` in `dial` means all flags clear.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DialExtensions {
    /// `dwfOptions`: `RDEOPT_*` flags from [`rdeopt`].
    pub options: u32,
}

/// `RASCONNSTATUS` (ras-reference §3.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectStatus {
    /// `rasconnstate`.
    pub state: RasConnState,
    /// `dwError`: why the dial failed, kept until hang-up (§4.4 rule 20).
    pub error: Option<RasError>,
    /// `szDeviceType`.
    pub device_type: String,
    /// `szDeviceName`.
    pub device_name: String,
    /// `szPhoneNumber`.
    pub phone_number: String,
}

/// `RASCONN` (ras-reference §3.5), as `enum_connections` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RasConn {
    /// `hrasconn`.
    pub handle: HRasConn,
    /// `szEntryName`.
    pub entry_name: String,
    /// `szDeviceType`.
    pub device_type: String,
    /// `szDeviceName`.
    pub device_name: String,
    /// `dwSubEntry`.
    pub sub_entry: u32,
}

/// A failed `dial`. As with `RasDial`, a handle may have been set even though the dial
/// failed; it must still be hung up (ras-reference §4.2 rule 12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{error}")]
pub struct DialError {
    /// What went wrong.
    pub error: RasError,
    /// The handle, if one was set.
    pub handle: Option<HRasConn>,
}

impl DialError {
    fn before_start(error: RasError) -> Self {
        DialError {
            error,
            handle: None,
        }
    }
}

/// Engine-wide settings.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// Scales every protocol timer (see [`TimeScale`]); [`TimeScale::REAL`] for real modems.
    pub time_scale: TimeScale,
    /// Seeds PPP Magic-Numbers and MS-CHAPv2 Peer-Challenges, so that a dial can be
    /// replayed byte for byte (the simulated lab, scenarios). `None`, the default, draws
    /// them from the system's generator, as RFC 1661 §6.4 and RFC 2759 §4 require of a
    /// real link.
    pub seed: Option<u32>,
    /// The error a `NO CARRIER` answer to the dial is reported as. The reference leaves
    /// it open (ras-reference §4.6 caveat a): the name says 679 ERROR_NO_CARRIER, which is
    /// the default; TAPI-era Windows is often seen reporting 678 ERROR_NO_ANSWER instead.
    pub no_carrier: RasError,
    /// How long PPP may take from the modem's `CONNECT` to `Connected` before the dial
    /// fails with 718 ERROR_PPP_TIMEOUT. RFC 1661 bounds each automaton (Max-Configure,
    /// Max-Failure) but not the whole: a peer that keeps renegotiating LCP, or Naks for
    /// ever, would hold the dial indefinitely. [inferred] Default 60 s: twice the longest
    /// a single automaton may take with the RFC's defaults (10 × 3 s), which leaves room
    /// for LCP, authentication and IPCP each retrying.
    pub ppp_deadline: Duration,
    /// Opt-in line capture: when set, every dial records the PPP frames it sends and
    /// receives to a pcap file in this folder (which must exist), named by
    /// [`EngineConfig::capture_path`]. Off by default.
    pub capture_dir: Option<PathBuf>,
}

impl EngineConfig {
    /// Where the PPP randomness of connection `handle` comes from: with a seed, a stream
    /// different for every connection and the same for the same seed and handle.
    pub fn entropy(&self, handle: HRasConn) -> Entropy {
        // Truncation is fine: the handle only varies the seed.
        self.seed.map_or(Entropy::Os, |seed| {
            Entropy::Seed(seed ^ (handle.0 as u32).wrapping_mul(0x9E37_79B9))
        })
    }

    /// Where the capture of connection `handle` to `entry_name` goes, when capturing is on:
    /// `<capture_dir>/<entry name>-<handle>.pcap`, with characters other than ASCII letters,
    /// digits, `-`, `_` and `.` in the entry name written as `_`. A later dial with the
    /// same name and handle (another `Ras`) replaces the file.
    pub fn capture_path(&self, entry_name: &str, handle: HRasConn) -> Option<PathBuf> {
        self.capture_dir
            .as_ref()
            .map(|dir| dir.join(driver::capture::file_name(entry_name, handle)))
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            time_scale: TimeScale::REAL,
            seed: None,
            no_carrier: RasError::ERROR_NO_CARRIER,
            ppp_deadline: DEFAULT_PPP_DEADLINE,
            capture_dir: None,
        }
    }
}

/// [`EngineConfig::ppp_deadline`]'s default.
pub const DEFAULT_PPP_DEADLINE: Duration = Duration::from_secs(60);

impl DialPlan {
    /// Resolve what connection `handle` dials for `entry` with `params` and `extensions`
    /// (ras-reference §3.2–3.3): the phone number given in the parameters wins over the
    /// entry's.
    pub fn resolve(
        entry: &Entry,
        params: &DialParams,
        extensions: Option<&DialExtensions>,
        config: &EngineConfig,
        handle: HRasConn,
    ) -> Result<DialPlan, RasError> {
        params.validate()?;
        let number = if params.phone_number.is_empty() {
            entry.phone_numbers.first().cloned().unwrap_or_default()
        } else {
            params.phone_number.clone()
        };
        if number.is_empty() {
            return Err(RasError::ERROR_BAD_PHONE_NUMBER);
        }
        crate::ras::limits::check_phone_number(&number)?;
        let defaults = ClientConfig::default();
        let ppp = ClientConfig {
            user: params.authentication_name(),
            password: params.password.clone(),
            entropy: config.entropy(handle),
            auth_protocols: match entry.auth_restrictions {
                Some(restrictions) => allowed_auth(restrictions, &defaults.auth_protocols),
                None => defaults.auth_protocols.clone(),
            },
            ..defaults
        };
        Ok(DialPlan {
            subentry: params.sub_entry.max(1),
            device_type: "modem".to_owned(),
            device_name: entry.device_name.clone(),
            dialer: DialerConfig::new(number),
            ppp,
            no_carrier: config.no_carrier,
            ppp_deadline: config.ppp_deadline,
            paused_states: extensions.is_some_and(|e| e.options & rdeopt::PAUSED_STATES != 0),
        })
    }
}

/// The authentication protocols an entry's `AuthRestrictions=` allows (ras-reference
/// §6.4), from those the engine implements, in the engine's order of preference. The
/// others the mask may name (SPAP, MS-CHAP v1, EAP, IKEv2) the engine cannot do.
fn allowed_auth(restrictions: AuthRestrictions, implemented: &[AuthProtocol]) -> Vec<AuthProtocol> {
    implemented
        .iter()
        .copied()
        .filter(|protocol| {
            let bit = match protocol {
                AuthProtocol::Pap => AuthRestrictions::PAP,
                AuthProtocol::ChapMd5 => AuthRestrictions::MD5_CHAP,
                AuthProtocol::MsChapV2 => AuthRestrictions::MSCHAP_V2,
                AuthProtocol::Other(_) => return false,
            };
            restrictions.allows(bit)
        })
        .collect()
}

struct Record {
    entry_name: String,
    /// The serial device the connection holds open.
    device: PathBuf,
    status: ConnectStatus,
    sub_entry: u32,
    /// Dials of this connected entry not yet balanced by a hang-up (§4.4 rule 23).
    references: u32,
    commands: driver::CommandSender,
}

#[derive(Default)]
struct Table {
    next_handle: u64,
    connections: BTreeMap<HRasConn, Record>,
}

pub(crate) struct Shared {
    config: EngineConfig,
    table: Mutex<Table>,
}

impl Shared {
    fn table(&self) -> MutexGuard<'_, Table> {
        // A notifier that panicked poisons nothing we rely on: the table stays consistent
        // because every update is a single assignment.
        self.table
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether `handle` has not been hung up.
    pub(crate) fn is_live(&self, handle: HRasConn) -> bool {
        self.table().connections.contains_key(&handle)
    }

    /// Record a state change for `connect_status`.
    pub(crate) fn set_status(
        &self,
        handle: HRasConn,
        state: RasConnState,
        error: Option<RasError>,
    ) {
        if let Some(record) = self.table().connections.get_mut(&handle) {
            record.status.state = state;
            record.status.error = error;
        }
    }
}

/// The RAS client: a connection table and the calls that work on it. Clone it freely
/// (into notifiers, for instance); clones share the table.
#[derive(Clone)]
pub struct Ras {
    shared: Arc<Shared>,
}

impl fmt::Debug for Ras {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ras")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl Default for Ras {
    fn default() -> Self {
        Ras::new(EngineConfig::default())
    }
}

impl Ras {
    /// A client with its own, empty connection table.
    pub fn new(config: EngineConfig) -> Self {
        Ras {
            shared: Arc::new(Shared {
                config,
                table: Mutex::new(Table::default()),
            }),
        }
    }

    /// `RasDial`. With a notifier it returns as soon as the dial has started and reports
    /// progress through the notifier; without one it blocks until the dial connected
    /// (`Ok`) or failed (`Err`, with the handle to hang up).
    ///
    /// Paused states (`RDEOPT_PausedStates` in `extensions`) need a notifier: a synchronous
    /// dial has no way to hear of the pause, so it fails instead [inferred: ras-reference
    /// §4.2 rule 13 leaves this undocumented].
    pub fn dial(
        &self,
        extensions: Option<&DialExtensions>,
        phonebook: &Phonebook,
        params: &DialParams,
        notifier: Option<Notifier>,
    ) -> Result<HRasConn, DialError> {
        let entry = phonebook
            .entry(&params.entry_name)
            .ok_or(DialError::before_start(
                RasError::ERROR_CANNOT_FIND_PHONEBOOK_ENTRY,
            ))?;
        let handle = {
            let mut table = self.shared.table();
            // Referenced connections (ras-reference §4.4 rule 23): dialing an entry that
            // is already connected succeeds at once and adds a reference, which needs
            // its own hang-up.
            let connected = table.connections.iter_mut().find(|(_, record)| {
                record.entry_name.eq_ignore_ascii_case(&entry.name)
                    && record.status.state == RasConnState::Connected
            });
            if let Some((&handle, record)) = connected {
                record.references += 1;
                drop(table);
                tell_already_connected(notifier, handle, params.callback_id);
                return Ok(handle);
            }
            // One dial per port: a second dial on a device in use fails before it starts.
            if table
                .connections
                .values()
                .any(|record| record.device == entry.device)
            {
                return Err(DialError::before_start(RasError::ERROR_PORT_ALREADY_OPEN));
            }
            table.next_handle += 1;
            HRasConn(table.next_handle)
        };
        let mut plan = DialPlan::resolve(entry, params, extensions, &self.shared.config, handle)
            .map_err(DialError::before_start)?;
        plan.paused_states &= notifier.is_some();
        let status = ConnectStatus {
            state: RasConnState::OpenPort,
            error: None,
            device_type: plan.device_type.clone(),
            device_name: plan.device_name.clone(),
            phone_number: plan.dialer.number.clone(),
        };
        let (sync_tx, sync_rx) = mpsc::channel();
        let synchronous = notifier.is_none();
        let outcome = match notifier {
            Some(notifier) => {
                driver::Outcome::Notify(Dispatcher::new(notifier, handle, params.callback_id))
            }
            None => driver::Outcome::Sync(sync_tx),
        };
        let (commands, receiver) = driver::command_channel();
        self.shared.table().connections.insert(
            handle,
            Record {
                entry_name: entry.name.clone(),
                device: entry.device.clone(),
                status,
                sub_entry: plan.subentry,
                references: 1,
                commands,
            },
        );
        let job = driver::Job {
            shared: Arc::clone(&self.shared),
            handle,
            plan,
            device: entry.device.clone(),
            baud: entry.connect_bps,
            outcome,
            commands: receiver,
            time_scale: self.shared.config.time_scale,
            capture: self.shared.config.capture_path(&entry.name, handle),
        };
        if let Err(error) = driver::spawn(job) {
            tracing::error!(%error, "cannot start the dial thread");
            self.shared.table().connections.remove(&handle);
            return Err(DialError::before_start(RasError::ERROR_UNKNOWN));
        }
        if synchronous {
            // Synchronous: wait for the outcome. A worker that vanished without one
            // counts as a disconnection.
            return match sync_rx.recv() {
                Ok(Ok(())) => Ok(handle),
                Ok(Err(error)) => Err(DialError {
                    error,
                    handle: Some(handle),
                }),
                Err(_) => Err(DialError {
                    error: RasError::ERROR_DISCONNECTION,
                    handle: Some(handle),
                }),
            };
        }
        Ok(handle)
    }

    /// `RasDial` on the handle of a paused dial: resume it with the updated `params`
    /// (ras-reference §4.3 rule 15). New credentials after RetryAuthentication; the new
    /// password in `password` after PasswordExpired. The dial goes on with the notifier
    /// of the original call (Windows insists the same notifier is passed again; a Rust
    /// closure cannot be passed twice, so the engine keeps it). Never call this from
    /// inside the notifier; to give up instead, call [`Ras::hang_up`].
    ///
    /// ERROR_INVALID_HANDLE for an unknown handle, ERROR_INVALID_PARAMETER for a dial that
    /// is not paused [inferred].
    pub fn resume(&self, handle: HRasConn, params: &DialParams) -> Result<(), RasError> {
        let table = self.shared.table();
        let record = table
            .connections
            .get(&handle)
            .ok_or(RasError::ERROR_INVALID_HANDLE)?;
        if !record.status.state.is_paused() {
            return Err(RasError::ERROR_INVALID_PARAMETER);
        }
        record
            .commands
            .send(Command::Resume {
                user: params.authentication_name(),
                password: params.password.clone(),
            })
            .map_err(|_| RasError::ERROR_INVALID_HANDLE)
    }

    /// `RasHangUp`. The handle is invalid as soon as this returns; the link itself goes
    /// down shortly after (ras-reference §4.4 rule 21). Called from inside a notifier, it
    /// takes effect once the notifier returns.
    pub fn hang_up(&self, handle: HRasConn) -> Result<(), RasError> {
        let mut table = self.shared.table();
        let record = table
            .connections
            .get_mut(&handle)
            .ok_or(RasError::ERROR_INVALID_HANDLE)?;
        // A referenced connection stays up until its last reference is released
        // (ras-reference §4.4 rule 23 [inferred]).
        record.references = record.references.saturating_sub(1);
        if record.references > 0 {
            return Ok(());
        }
        if let Some(record) = table.connections.remove(&handle) {
            // A worker that already finished has nothing left to hang up.
            let _ = record.commands.send(Command::HangUp);
        }
        Ok(())
    }

    /// `RasGetConnectStatus`.
    pub fn connect_status(&self, handle: HRasConn) -> Result<ConnectStatus, RasError> {
        self.shared
            .table()
            .connections
            .get(&handle)
            .map(|record| record.status.clone())
            .ok_or(RasError::ERROR_INVALID_HANDLE)
    }

    /// `RasEnumConnections`: connections that are connected (NT-family behaviour,
    /// ras-reference §4.4 rule 24).
    pub fn enum_connections(&self) -> Vec<RasConn> {
        self.shared
            .table()
            .connections
            .iter()
            .filter(|(_, record)| record.status.state == RasConnState::Connected)
            .map(|(handle, record)| RasConn {
                handle: *handle,
                entry_name: record.entry_name.clone(),
                device_type: record.status.device_type.clone(),
                device_name: record.status.device_name.clone(),
                sub_entry: record.sub_entry,
            })
            .collect()
    }

    /// How long to wait after `hang_up` before the port is surely free, at this
    /// engine's time scale (the documentation's example waits about 3 s, §4.4 rule 21).
    pub fn hang_up_settle_time(&self) -> Duration {
        self.shared
            .config
            .time_scale
            .to_real(Duration::from_secs(3))
    }
}

/// A dial of an entry that is already connected: the application hears RASCS_Connected
/// at once, on a thread of its own as every notification is [inferred: ras-reference
/// §4.4 rule 23 leaves open whether an asynchronous re-dial notifies at all]. A synchronous
/// dial simply returns.
fn tell_already_connected(notifier: Option<Notifier>, handle: HRasConn, callback_id: usize) {
    let Some(notifier) = notifier else { return };
    let connected = Notification {
        subentry: 1,
        state: RasConnState::Connected,
        error: None,
        extended_error: 0,
    };
    let spawned = std::thread::Builder::new()
        .name(format!("ras-ref-{handle}"))
        .spawn(move || Dispatcher::new(notifier, handle, callback_id).deliver(&connected));
    if let Err(error) = spawned {
        tracing::warn!(%error, "cannot notify the referenced connection");
    }
}

/// `RasEnumEntries`: the entry names of `phonebook`, in file order.
pub fn enum_entries(phonebook: &Phonebook) -> Vec<String> {
    phonebook.entry_names()
}

/// `RasGetErrorString`: our own text for a RAS (or Win32) error number.
pub fn error_string(code: u32) -> Option<&'static str> {
    RasError::from_code(code).description()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phonebook() -> Phonebook {
        Phonebook::from_entries([
            Entry::modem("First", "/nonexistent/ras-test-port", "5551234"),
            Entry::modem("Second", "/nonexistent/ras-test-port", "5559876"),
        ])
    }

    fn params(entry: &str) -> DialParams {
        DialParams {
            entry_name: entry.to_owned(),
            ..DialParams::default()
        }
    }

    #[test]
    fn a_missing_entry_is_error_623_before_anything_starts() {
        let ras = Ras::default();
        let failure = ras
            .dial(None, &phonebook(), &params("Nope"), None)
            .expect_err("no such entry");
        assert_eq!(
            failure,
            DialError {
                error: RasError::ERROR_CANNOT_FIND_PHONEBOOK_ENTRY,
                handle: None
            }
        );
    }

    #[test]
    fn a_synchronous_dial_on_a_missing_port_fails_with_a_handle_to_hang_up() {
        let ras = Ras::default();
        let failure = ras
            .dial(None, &phonebook(), &params("First"), None)
            .expect_err("no such port");
        assert_eq!(failure.error, RasError::ERROR_PORT_NOT_FOUND);
        let handle = failure.handle.expect("a handle was set");
        // The failed dial keeps its error until hung up (§4.4 rule 20) …
        let status = ras.connect_status(handle).expect("still valid");
        assert_eq!(status.error, Some(RasError::ERROR_PORT_NOT_FOUND));
        assert_eq!(status.state, RasConnState::OpenPort);
        // … and the port counts as taken until then.
        let second = ras
            .dial(None, &phonebook(), &params("Second"), None)
            .expect_err("port in use");
        assert_eq!(
            second,
            DialError {
                error: RasError::ERROR_PORT_ALREADY_OPEN,
                handle: None
            }
        );
        ras.hang_up(handle).expect("hang up");
        assert_eq!(
            ras.connect_status(handle),
            Err(RasError::ERROR_INVALID_HANDLE)
        );
        assert_eq!(ras.hang_up(handle), Err(RasError::ERROR_INVALID_HANDLE));
    }

    #[test]
    fn an_asynchronous_dial_reports_the_open_failure_on_open_port() {
        let ras = Ras::default();
        let (tx, rx) = mpsc::channel();
        let notifier = Notifier::Func(Box::new(move |msg, state, error| {
            let _ = tx.send((msg, state, error));
        }));
        let handle = ras
            .dial(None, &phonebook(), &params("First"), Some(notifier))
            .expect("dial starts");
        let seen: Vec<_> = rx.iter().take(2).collect();
        assert_eq!(
            seen,
            vec![
                (WM_RASDIALEVENT, RasConnState::OpenPort, 0),
                (
                    WM_RASDIALEVENT,
                    RasConnState::OpenPort,
                    RasError::ERROR_PORT_NOT_FOUND.code()
                ),
            ]
        );
        ras.hang_up(handle).expect("hang up");
    }

    #[test]
    fn auth_restrictions_choose_the_protocols_the_engine_agrees_to() {
        let implemented = ClientConfig::default().auth_protocols;
        // ras-reference §6.4's examples: 544 = MD5-CHAP + MS-CHAPv2, 552 adds PAP.
        assert_eq!(
            allowed_auth(AuthRestrictions(544), &implemented),
            [AuthProtocol::MsChapV2, AuthProtocol::ChapMd5]
        );
        assert_eq!(
            allowed_auth(AuthRestrictions(552), &implemented),
            [
                AuthProtocol::MsChapV2,
                AuthProtocol::ChapMd5,
                AuthProtocol::Pap
            ]
        );
        // EAP only: nothing the engine can do.
        assert!(allowed_auth(AuthRestrictions(AuthRestrictions::EAP), &implemented).is_empty());
        let mut entry = Entry::modem("Strict", "/dev/null", "5551234");
        entry.auth_restrictions = Some(AuthRestrictions(AuthRestrictions::PAP));
        let plan = DialPlan::resolve(
            &entry,
            &params("Strict"),
            None,
            &EngineConfig::default(),
            HRasConn(1),
        )
        .expect("resolves");
        assert_eq!(plan.ppp.auth_protocols, [AuthProtocol::Pap]);
    }

    #[test]
    fn error_strings_cover_every_ras_code() {
        for code in crate::ras::RASBASE..=crate::ras::RASBASEEND {
            assert!(
                error_string(code).is_some_and(|text| !text.is_empty()),
                "{code}"
            );
        }
        assert_eq!(
            error_string(6),
            Some("The connection handle is not valid (or was hung up).")
        );
        assert_eq!(error_string(1), None);
    }
}
