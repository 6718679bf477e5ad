//! The RasDial-style public surface (DESIGN §5): `dial`, `hang_up`, `connect_status`,
//! `enum_connections`, `error_string`. The API's rules live once in [`RasCore`], a sans-IO
//! connection table; a [`Driver`] runs it: the realtime one (`crate::driver`, real serial
//! devices, all connections on one engine thread) or a virtual-time one (the `ras-lab`
//! crate). See DESIGN-NOTES.md for why the seam sits there.

mod core;
mod notifier;

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use sansio::{Duration, Instant, TimeScale};

pub use self::core::{Action, ConnectionNotification, Delivery, RasCore};

pub use notifier::{
    Dispatcher, Notifier, NotifyControl, RasDialFunc, RasDialFunc1, RasDialFunc2, WM_RASDIALEVENT,
    WindowMessage,
};

use crate::driver;
use crate::hayes::DialerConfig;
use crate::phonebook::{
    AuthRestrictions, CallbackMode, Entry, Phonebook, SubEntryProperties, SwitchPosition,
};
use crate::ppp::cbcp::CbcpClientConfig;
use crate::ppp::lcp::MultilinkConfig;
use crate::ppp::random::{Entropy, Random};
use crate::ppp::wire::lcp::{EndpointClass, EndpointDiscriminator};
use crate::ppp::{AuthProtocol, ClientConfig, EapAnswer, EapMethod, EapPeerConfig, EapPrompt};
use crate::ras::{ASK_FOR_NUMBER, DialPlan, RasConnState, RasError, is_valid_callback_number};
use crate::script::DialScript;

/// `RASCN_*` flags of `RasConnectionNotification` (ras-reference §3.6, H1, D9).
pub mod rascn {
    /// A connection is created (it reached Connected).
    pub const CONNECTION: u32 = 0x0000_0001;
    /// The connection ends; for multilink, only once every subentry is down (rule 28).
    pub const DISCONNECTION: u32 = 0x0000_0002;
    /// A subentry of a multilink connection connects (after the connection is up).
    pub const BANDWIDTH_ADDED: u32 = 0x0000_0004;
    /// A subentry of a multilink connection disconnects.
    pub const BANDWIDTH_REMOVED: u32 = 0x0000_0008;
}

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
    /// it this way), else the user name alone. `szDomain = "*"` stands for the domain
    /// stored in the entry, `entry_domain` (ras-reference §3.2).
    pub fn authentication_name(&self, entry_domain: &str) -> String {
        let domain = match self.domain.as_str() {
            "*" => entry_domain,
            domain => domain,
        };
        if domain.is_empty() {
            self.user_name.clone()
        } else {
            format!("{domain}\\{}", self.user_name)
        }
    }
}

/// `RASDIALEXTENSIONS` (ras-reference §3.3); `None` in `dial` means all flags clear.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DialExtensions {
    /// `dwfOptions`: `RDEOPT_*` flags from [`rdeopt`].
    pub options: u32,
    /// `RasEapInfo`: the EAP blob of [`get_eap_user_identity`] (ras-reference §4.5 rule
    /// 30). The blob is the method's own; ours is the EAP identity in UTF-8 [inferred],
    /// which answers the authenticator's Request/Identity. Empty: the user name.
    pub eap_info: Vec<u8>,
}

/// `RASEAPUSERIDENTITY`: what [`get_eap_user_identity`] returns (ras-reference §4.5 rule
/// 30): the user name for `RASDIALPARAMS.szUserName` and the blob for
/// `RASDIALEXTENSIONS.RasEapInfo`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EapUserIdentity {
    /// `szUserName`.
    pub user_name: String,
    /// `pbEapInfo` (see [`DialExtensions::eap_info`]).
    pub eap_info: Vec<u8>,
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
    /// for LCP, authentication and IPCP each retrying. A dial script gets the same time
    /// before PPP (its `waitfor` without `until` waits at most this long [inferred]); time
    /// paused in Interactive or InvokeEapUI does not count.
    pub ppp_deadline: Duration,
    /// How long the modem may take to answer each init command before the dial fails with
    /// 666 ERROR_DEVICE_NOT_READY. [inferred] Default 5 s, ample for a real modem; a
    /// harness that shrinks time on a busy machine sets it generously, since it guards
    /// against a dead device rather than models anything.
    pub modem_response_timeout: Duration,
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
            modem_response_timeout: DEFAULT_MODEM_RESPONSE_TIMEOUT,
            capture_dir: None,
        }
    }
}

/// [`EngineConfig::modem_response_timeout`]'s default.
pub const DEFAULT_MODEM_RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);

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
        let callback_number = params.callback_number.as_str();
        if callback_number != ASK_FOR_NUMBER && !is_valid_callback_number(callback_number) {
            return Err(RasError::ERROR_INVALID_CALLBACK_NUMBER);
        }
        // Ask for a callback (LCP Callback operation 6, then CBCP) when the entry allows
        // one or the caller gives a number [inferred: Windows clients ask on every dial;
        // asking only when callback is in play keeps other dials' LCP as it was]. An
        // empty number then declines a caller-set offer, and "*" asks the application
        // (ras-reference §4.3 rules 17-18).
        let callback = (entry.callback_mode != CallbackMode::NoCallback
            || !callback_number.is_empty())
        .then(|| CbcpClientConfig {
            callback_number: (!callback_number.is_empty() && callback_number != ASK_FOR_NUMBER)
                .then(|| callback_number.to_owned()),
            ask_for_number: callback_number == ASK_FOR_NUMBER,
            delay: CALLBACK_RESET_SECONDS,
            ..CbcpClientConfig::default()
        });
        let defaults = ClientConfig::default();
        let paused_states = extensions.is_some_and(|e| e.options & rdeopt::PAUSED_STATES != 0);
        // EAP is offered only to an entry that requires it (RASEO_RequireEAP), first.
        let mut implemented = defaults.auth_protocols.clone();
        if entry.requires_eap() {
            implemented.insert(0, AuthProtocol::Eap);
        }
        let eap_identity = extensions
            .map(|e| String::from_utf8_lossy(&e.eap_info).into_owned())
            .filter(|identity| !identity.is_empty());
        let eap = EapPeerConfig {
            identity: eap_identity,
            // `CustomAuthKey=` names the entry's one method (ras-reference §6.2).
            methods: match entry.custom_auth_key().and_then(EapMethod::from_type) {
                Some(method) => vec![method],
                None => defaults.eap.methods.clone(),
            },
            // A Notification is shown to the user only when the dial can pause for it.
            confirm_notifications: paused_states,
        };
        let ppp = ClientConfig {
            callback,
            user: params.authentication_name(entry.domain()),
            password: params.password.clone(),
            entropy: config.entropy(handle),
            auth_protocols: match entry.auth_restrictions {
                Some(restrictions) => allowed_auth(restrictions, &implemented),
                None => implemented,
            },
            eap,
            multilink: entry.negotiates_multilink().then(|| MultilinkConfig {
                discriminator: Some(endpoint_discriminator(config.entropy(handle))),
                ..MultilinkConfig::default()
            }),
            ..defaults
        };
        Ok(DialPlan {
            subentry: params.sub_entry.max(1),
            device_type: "modem".to_owned(),
            device_name: entry.device_name.clone(),
            dialer: DialerConfig {
                response_timeout: config.modem_response_timeout,
                ..DialerConfig::new(number)
            },
            ppp,
            no_carrier: config.no_carrier,
            ppp_deadline: config.ppp_deadline,
            paused_states,
            terminal_before_dial: entry.terminal(SwitchPosition::BeforeDial),
            terminal_after_dial: entry.terminal(SwitchPosition::AfterDial),
            // Read by `Ras::dial` (the core does no I/O).
            script: None,
        })
    }

    /// The plan of link `subentry` (1-based) of a multilink dial whose link 1 is `self`:
    /// its RASSUBENTRY's number (the entry's, with `SharedPhoneNumbers=1`) and device name, its
    /// own magic numbers (`handle` is the link's), the same credentials and the same
    /// Endpoint Discriminator (RFC 1990 §5.1.3: one system, one discriminator).
    pub fn link(
        &self,
        entry: &Entry,
        subentry: u32,
        config: &EngineConfig,
        handle: HRasConn,
    ) -> Result<DialPlan, RasError> {
        let mut plan = self.clone();
        plan.subentry = subentry;
        if subentry == 1 {
            return Ok(plan);
        }
        let link = entry
            .subentry_properties(subentry as usize)
            .ok_or(RasError::ERROR_NO_MORE_ITEMS)?;
        if link.local_phone_number.is_empty() {
            return Err(RasError::ERROR_BAD_PHONE_NUMBER);
        }
        crate::ras::limits::check_phone_number(&link.local_phone_number)?;
        plan.dialer.number = link.local_phone_number;
        plan.device_name = link.device_name;
        plan.ppp.entropy = config.entropy(handle);
        Ok(plan)
    }
}

/// Our Endpoint Discriminator (RFC 1990 §5.1.3): class 1, Locally Assigned Address, eight
/// octets drawn once per connection [inferred: Windows' choice of class is undocumented;
/// any value works as long as every link of the connection sends the same one].
fn endpoint_discriminator(entropy: Entropy) -> EndpointDiscriminator {
    let mut address = vec![0; 8];
    Random::from_entropy(entropy, ENDPOINT_DISCRIMINATOR_SALT).fill(&mut address);
    EndpointDiscriminator {
        class: EndpointClass::Local,
        address,
    }
}

/// Keeps the discriminator's random stream apart from the link's magic numbers.
const ENDPOINT_DISCRIMINATOR_SALT: u64 = 0x4d50_4544; // "MPED"

/// The callback delay the dialer asks for in CBCP (MS-CBCP §2.2.4.2: the caller states
/// the delay it needs): time for the modem to drop the call and be reset before the
/// server's call rings [inferred: no Windows figure is documented; a modem's S10 carrier
/// wait and three AT commands take a couple of seconds].
const CALLBACK_RESET_SECONDS: u8 = 5;

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
                AuthProtocol::Eap => AuthRestrictions::EAP,
                AuthProtocol::Other(_) => return false,
            };
            restrictions.allows(bit)
        })
        .collect()
}

/// The connection table behind its lock, shared by the [`Ras`] handles and the driver
/// that runs it. The lock is never held while a notifier runs.
#[derive(Debug, Clone)]
pub struct SharedCore(Arc<Mutex<RasCore>>);

impl SharedCore {
    /// A new, empty table.
    pub fn new(config: EngineConfig) -> Self {
        SharedCore(Arc::new(Mutex::new(RasCore::new(config))))
    }

    /// Lock the table. A notifier that panicked poisons nothing the core relies on: every
    /// call leaves the table consistent before it could panic.
    pub fn lock(&self) -> MutexGuard<'_, RasCore> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What runs a [`RasCore`]: carries out its actions on real or simulated ports, keeps its
/// clock and calls notifiers (DESIGN §2: one API, two drivers). The engine's own realtime
/// driver opens serial devices by path; a virtual-time driver (the `ras-lab` crate) runs
/// in-memory modems and servers.
pub trait Driver: Send + Sync {
    /// The current instant on the driver's clock (what the core's calls are stamped with).
    fn now(&self) -> Instant;
    /// An API call queued actions: have them carried out.
    fn wake(&self);
    /// Block the calling thread until `ready` holds for the table (re-checked after every
    /// step of the driver). A synchronous `RasDial` waits here; a virtual-time driver
    /// runs its clock forward meanwhile.
    fn wait(&self, ready: &mut dyn FnMut(&RasCore) -> bool);
}

struct Shared {
    core: SharedCore,
    driver: Box<dyn Driver>,
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
            .field("config", self.shared.core.lock().config())
            .finish_non_exhaustive()
    }
}

impl Default for Ras {
    fn default() -> Self {
        Ras::new(EngineConfig::default())
    }
}

impl Ras {
    /// A client with its own, empty connection table, dialing real serial devices. All
    /// its connections share one engine thread; notifiers run on a small pool of other
    /// threads (ras-reference §4.1 rule 7), each connection waiting for its own.
    pub fn new(config: EngineConfig) -> Self {
        let core = SharedCore::new(config.clone());
        let driver = driver::Realtime::start(core.clone(), &config);
        Ras::with_driver(core, Box::new(driver))
    }

    /// A client over `core` run by `driver` (a virtual-time lab, for instance).
    pub fn with_driver(core: SharedCore, driver: Box<dyn Driver>) -> Self {
        Ras {
            shared: Arc::new(Shared { core, driver }),
        }
    }

    /// Run `call` on the table at the driver's now, then let the driver act on it.
    fn call<T>(&self, call: impl FnOnce(&mut RasCore, Instant) -> T) -> T {
        let now = self.shared.driver.now();
        let result = call(&mut self.shared.core.lock(), now);
        self.shared.driver.wake();
        result
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
        let synchronous = notifier.is_none();
        let script = match phonebook.entry(&params.entry_name) {
            Some(entry) => load_dial_script(phonebook, entry).map_err(DialError::before_start)?,
            None => None,
        };
        let handle =
            self.call(|core, now| core.dial(now, extensions, phonebook, params, notifier, script))?;
        if !synchronous {
            return Ok(handle);
        }
        let mut outcome = None;
        self.shared.driver.wait(&mut |core| {
            outcome = core.outcome(handle);
            outcome.is_some()
        });
        match outcome {
            Some(Ok(())) => Ok(handle),
            Some(Err(error)) => Err(DialError {
                error,
                handle: Some(handle),
            }),
            // The driver stopped before the dial had an outcome.
            None => Err(DialError {
                error: RasError::ERROR_DISCONNECTION,
                handle: Some(handle),
            }),
        }
    }

    /// `RasDial` on the handle of a paused dial: resume it with the updated `params`
    /// (ras-reference §4.3 rule 15): new credentials after RetryAuthentication, the new
    /// password in `password` after PasswordExpired.
    ///
    /// The notifier: Windows insists the resuming call passes the same notifier as the
    /// first. A Rust closure cannot be passed twice, and no other notifier is allowed, so
    /// this call takes none: the dial goes on with the original call's notifier, which the
    /// engine keeps. Never call this from inside the notifier; to give up instead, call
    /// [`Ras::hang_up`]. Called while the notifier that reported the pause is still
    /// returning, the resume follows its return.
    ///
    /// ERROR_INVALID_HANDLE for an unknown handle, ERROR_INVALID_PARAMETER for a dial that
    /// is not paused [inferred].
    pub fn resume(&self, handle: HRasConn, params: &DialParams) -> Result<(), RasError> {
        self.call(|core, now| core.resume(now, handle, params))
    }

    /// `RasInvokeEapUI` (ras-reference §4.3 rule 16): while `handle`'s link `sub_entry` is
    /// paused in InvokeEapUI, take the user's `answer` to what the EAP method asked
    /// ([`Ras::eap_prompt`]); [`Ras::resume`] then sends it. ERROR_INVALID_HANDLE for an
    /// unknown handle, ERROR_INVALID_PARAMETER for a dial not paused there [inferred].
    pub fn invoke_eap_ui(
        &self,
        handle: HRasConn,
        sub_entry: u32,
        answer: EapAnswer,
    ) -> Result<(), RasError> {
        self.call(|core, _| core.invoke_eap_ui(handle, sub_entry, answer))
    }

    /// What the EAP method asks the user while `handle` is paused in InvokeEapUI (the
    /// prompt RasInvokeEapUI's dialog would show).
    pub fn eap_prompt(&self, handle: HRasConn) -> Result<Option<EapPrompt>, RasError> {
        self.shared.core.lock().eap_prompt(handle)
    }

    /// The terminal of a dial paused in Interactive (ras-reference §1, RASCS_Interactive):
    /// write what the user types to the raw line. ERROR_INVALID_PARAMETER outside
    /// Interactive [inferred].
    pub fn terminal_write(&self, handle: HRasConn, bytes: &[u8]) -> Result<(), RasError> {
        self.call(|core, now| core.terminal_write(now, handle, bytes))
    }

    /// The terminal of a dial paused in Interactive: what the line sent since the last
    /// read (possibly nothing yet).
    pub fn terminal_read(&self, handle: HRasConn) -> Result<Vec<u8>, RasError> {
        self.shared.core.lock().terminal_read(handle)
    }

    /// `RasHangUp`. Returns at once; the link terminates and the port closes afterwards.
    /// Until then the handle stays valid in state Disconnected, so polling
    /// [`Ras::connect_status`] until ERROR_INVALID_HANDLE tells when the port is free
    /// (ras-reference §4.4 rule 21; [`Ras::wait_released`] does that poll). Called from
    /// inside a notifier, it takes effect once the notifier returns.
    pub fn hang_up(&self, handle: HRasConn) -> Result<(), RasError> {
        self.call(|core, now| core.hang_up(now, handle))
    }

    /// Block until `handle` is no longer valid: its hang-up has finished and its port is
    /// released (the poll loop of ras-reference §4.4 rule 21, without the polling). Under
    /// a virtual-time driver the clock runs meanwhile.
    pub fn wait_released(&self, handle: HRasConn) {
        self.shared
            .driver
            .wait(&mut |core| core.connect_status(handle).is_err());
    }

    /// `RasGetConnectStatus`, on a connection's handle or a subentry handle (that link's
    /// own state).
    pub fn connect_status(&self, handle: HRasConn) -> Result<ConnectStatus, RasError> {
        self.shared.core.lock().connect_status(handle)
    }

    /// Send a network-layer packet on `handle` (its PPP protocol number, 0x0021 for an
    /// IPv4 datagram, and its information): an in-process data path, no network interface.
    /// Over a multilink connection it is fragmented across the links with MP sequence
    /// numbers (RFC 1990 §3). ERROR_PORT_NOT_OPEN when the connection cannot carry it.
    pub fn send_packet(
        &self,
        handle: HRasConn,
        protocol: u16,
        information: &[u8],
    ) -> Result<(), RasError> {
        self.call(|core, now| core.send_packet(now, handle, protocol, information))
    }

    /// The next network-layer packet `handle` received (reassembled in sequence over a
    /// multilink connection), if one is waiting: its protocol number and information.
    pub fn receive_packet(&self, handle: HRasConn) -> Result<Option<(u16, Vec<u8>)>, RasError> {
        self.shared.core.lock().receive_packet(handle)
    }

    /// `RasConnectionNotification` (ras-reference §3.6, §4.5 rules 27–28): the
    /// [`rascn`] events in `flags` of `handle` (`None`: of every connection) arrive on the
    /// returned receiver (Windows signals an event object instead). A dial-as-needed
    /// connection reports the links it adds and drops here, not to the RasDial notifier.
    pub fn connection_notification(
        &self,
        handle: Option<HRasConn>,
        flags: u32,
    ) -> Result<std::sync::mpsc::Receiver<ConnectionNotification>, RasError> {
        self.shared
            .core
            .lock()
            .connection_notification(handle, flags)
    }

    /// `RasGetSubEntryHandle` (ras-reference §4.4 rule 22): the handle of link
    /// `sub_entry` (1-based) of `handle`, which [`Ras::hang_up`] drops alone.
    /// ERROR_INVALID_HANDLE, ERROR_PORT_NOT_OPEN (that link is not connected) or
    /// ERROR_NO_MORE_ITEMS (no such subentry).
    pub fn get_subentry_handle(
        &self,
        handle: HRasConn,
        sub_entry: u32,
    ) -> Result<HRasConn, RasError> {
        self.shared
            .core
            .lock()
            .get_subentry_handle(handle, sub_entry)
    }

    /// `RasEnumConnections`: connections that are connected (NT-family behaviour,
    /// ras-reference §4.4 rule 24).
    pub fn enum_connections(&self) -> Vec<RasConn> {
        self.shared.core.lock().enum_connections()
    }
}

/// `RasGetSubEntryProperties` (ras-reference §3.6): RASSUBENTRY of link `sub_entry`
/// (1-based) of `entry_name`. ERROR_CANNOT_FIND_PHONEBOOK_ENTRY for an unknown entry,
/// ERROR_NO_MORE_ITEMS for an index the entry has no link for [inferred: the seeds give
/// no code; rule 22 uses it for the same case].
pub fn get_subentry_properties(
    phonebook: &Phonebook,
    entry_name: &str,
    sub_entry: u32,
) -> Result<SubEntryProperties, RasError> {
    phonebook
        .entry(entry_name)
        .ok_or(RasError::ERROR_CANNOT_FIND_PHONEBOOK_ENTRY)?
        .subentry_properties(sub_entry as usize)
        .ok_or(RasError::ERROR_NO_MORE_ITEMS)
}

/// `RasEnumEntries`: the entry names of `phonebook`, in file order.
pub fn enum_entries(phonebook: &Phonebook) -> Vec<String> {
    phonebook.entry_names()
}

/// `RasGetEapUserIdentity` (ras-reference §4.5 rule 30): for an entry with
/// RASEO_RequireEAP, the identity to dial with; 780 ERROR_INVALID_FUNCTION_FOR_ENTRY for
/// any other entry (dial it normally), 623 for a missing one. The identity is the entry's
/// `User=` [inferred: Windows asks the EAP method, which asks the user or a certificate
/// store; a phonebook has only this], and the blob carries it (see
/// [`DialExtensions::eap_info`]).
pub fn get_eap_user_identity(
    phonebook: &Phonebook,
    entry: &str,
) -> Result<EapUserIdentity, RasError> {
    let entry = phonebook
        .entry(entry)
        .ok_or(RasError::ERROR_CANNOT_FIND_PHONEBOOK_ENTRY)?;
    if !entry.requires_eap() {
        return Err(RasError::ERROR_INVALID_FUNCTION_FOR_ENTRY);
    }
    let user_name = entry.setting("User").unwrap_or_default().to_owned();
    Ok(EapUserIdentity {
        eap_info: user_name.as_bytes().to_vec(),
        user_name,
    })
}

/// Read and check the dial script of `entry` (RASEO_CustomScript), if it has one; a
/// relative path is taken from the phonebook's folder [inferred]. A script that cannot be
/// read or parsed fails the dial before it starts with 752 ERROR_SCRIPT_SYNTAX [inferred:
/// the only script code in ras-reference §2].
fn load_dial_script(phonebook: &Phonebook, entry: &Entry) -> Result<Option<DialScript>, RasError> {
    let Some(path) = entry.dial_script() else {
        return Ok(None);
    };
    let path = match phonebook.path.as_deref().and_then(std::path::Path::parent) {
        Some(folder) if path.is_relative() => folder.join(path),
        _ => path.to_path_buf(),
    };
    let text = std::fs::read(&path).map_err(|error| {
        tracing::info!(path = %path.display(), %error, "cannot read the dial script");
        RasError::ERROR_SCRIPT_SYNTAX
    })?;
    DialScript::parse(&String::from_utf8_lossy(&text))
        .map(Some)
        .map_err(|error| {
            tracing::info!(path = %path.display(), %error, "the dial script is not valid");
            RasError::ERROR_SCRIPT_SYNTAX
        })
}

/// `RasGetErrorString`: our own text for a RAS (or Win32) error number.
pub fn error_string(code: u32) -> Option<&'static str> {
    RasError::from_code(code).description()
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

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
    fn a_custom_dial_entry_needs_its_dialer_or_rdeopt_custom_dial() {
        let mut entry = Entry::modem("Custom", "/nonexistent/ras-test-port", "5551234");
        entry.custom_dial_dll = Some("/nonexistent/dialer.so".into());
        let phonebook = Phonebook::from_entries([entry]);
        let ras = Ras::default();
        // Rule 29: every path but the entry's own dialer gives 755 …
        let refused = ras
            .dial(None, &phonebook, &params("Custom"), None)
            .expect_err("not through the engine directly");
        assert_eq!(
            refused,
            DialError {
                error: RasError::ERROR_CANNOT_DO_CUSTOMDIAL,
                handle: None
            }
        );
        // … and the dialer itself dials with RDEOPT_CustomDial (here: to a missing port).
        let extensions = DialExtensions {
            options: rdeopt::CUSTOM_DIAL,
            ..DialExtensions::default()
        };
        let through = ras
            .dial(Some(&extensions), &phonebook, &params("Custom"), None)
            .expect_err("no such port");
        assert_eq!(through.error, RasError::ERROR_PORT_NOT_FOUND);
        if let Some(handle) = through.handle {
            ras.hang_up(handle).expect("hang up");
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
        ras.wait_released(handle);
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
    fn domain_star_means_the_entry_domain() {
        let params = |domain: &str| DialParams {
            user_name: "alice".to_owned(),
            domain: domain.to_owned(),
            ..DialParams::default()
        };
        // ras-reference §3.2: empty = the server's domain, "*" = the entry's.
        assert_eq!(params("").authentication_name("CORP"), "alice");
        assert_eq!(params("*").authentication_name("CORP"), "CORP\\alice");
        assert_eq!(params("*").authentication_name(""), "alice");
        assert_eq!(params("LAB").authentication_name("CORP"), "LAB\\alice");
        let mut entry = Entry::modem("Corp", "/dev/null", "5551234");
        entry
            .settings
            .push(crate::phonebook::Setting::new("Domain", "CORP"));
        let plan = DialPlan::resolve(
            &entry,
            &params("*"),
            None,
            &EngineConfig::default(),
            HRasConn(1),
        )
        .expect("resolves");
        assert_eq!(plan.ppp.user, "CORP\\alice");
    }

    #[test]
    fn eap_identity_only_for_eap_entries_and_eap_offered_only_to_them() {
        let mut eap = Entry::modem("Eap", "/dev/null", "5551234");
        eap.auth_restrictions = Some(AuthRestrictions(AuthRestrictions::EAP));
        eap.settings
            .push(crate::phonebook::Setting::new("User", "alice"));
        eap.settings
            .push(crate::phonebook::Setting::new("CustomAuthKey", "6"));
        let phonebook =
            Phonebook::from_entries([eap.clone(), Entry::modem("Plain", "/dev/null", "1")]);
        // ras-reference §4.5 rule 30.
        assert_eq!(
            get_eap_user_identity(&phonebook, "Plain"),
            Err(RasError::ERROR_INVALID_FUNCTION_FOR_ENTRY)
        );
        assert_eq!(
            get_eap_user_identity(&phonebook, "Nowhere"),
            Err(RasError::ERROR_CANNOT_FIND_PHONEBOOK_ENTRY)
        );
        let identity = get_eap_user_identity(&phonebook, "Eap").expect("an EAP entry");
        assert_eq!(identity.user_name, "alice");
        // The blob carries the identity into the dial; CustomAuthKey picks the method.
        let extensions = DialExtensions {
            options: rdeopt::PAUSED_STATES,
            eap_info: identity.eap_info,
        };
        let plan = DialPlan::resolve(
            &eap,
            &params("Eap"),
            Some(&extensions),
            &EngineConfig::default(),
            HRasConn(1),
        )
        .expect("resolves");
        assert_eq!(plan.ppp.auth_protocols, [AuthProtocol::Eap]);
        assert_eq!(plan.ppp.eap.identity.as_deref(), Some("alice"));
        assert_eq!(plan.ppp.eap.methods, [EapMethod::Gtc]);
        assert!(plan.ppp.eap.confirm_notifications);
        let plain = DialPlan::resolve(
            &Entry::modem("Plain", "/dev/null", "1"),
            &params("Plain"),
            None,
            &EngineConfig::default(),
            HRasConn(1),
        )
        .expect("resolves");
        assert!(!plain.ppp.auth_protocols.contains(&AuthProtocol::Eap));
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
