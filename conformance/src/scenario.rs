//! The scenario model (DESIGN §6) and its loader. Unknown keys are rejected; every problem
//! in a file is reported with file:line:column, all of them at once where serde lets us
//! go on (shape errors stop the parse; name errors in expectations are collected).

use std::fmt;
use std::path::{Path, PathBuf};

use miette::{Diagnostic, LabeledSpan, NamedSource, SourceSpan};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use ras_engine::ras::{RasConnState, RasError};

use crate::trace::{StatusLine, StatusPoint, TraceLine};

/// One scenario file, as written.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ScenarioFile {
    /// What the scenario shows, in a sentence.
    #[serde(default)]
    pub description: String,
    /// The clauses it exercises, e.g. `RasDial/async`, `rfc1661#5.3`.
    #[serde(default)]
    pub refs: Vec<String>,
    /// The phonebook entry dialed (the program's first entry).
    #[serde(default)]
    pub entry: EntrySpec,
    /// More phonebook entries, for a `program` that dials several.
    #[serde(default)]
    pub entries: Vec<EntrySpec>,
    /// How many modems the lab has, each on its own port and each with `network` behind
    /// it; an entry's `modem` picks one (default 1).
    #[serde(default = "one")]
    pub modems: u8,
    /// The application as a sequence of RAS calls (see scenarios/README.md), instead of
    /// the single dial of `dial` and `app`.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub program: Option<Vec<Spanned<String>>>,
    /// The dial parameters and the notifier.
    #[serde(default)]
    pub dial: DialSpec,
    /// The phone network behind the simulated modem.
    pub network: modem_sim::Network,
    /// The server answering the call (absent: the number's peer has no PPP server).
    #[serde(default)]
    pub server: Option<ppp_peer_sim::Script>,
    /// Engine options.
    #[serde(default)]
    pub engine: EngineSpec,
    /// What the application does from inside its notifier.
    #[serde(default)]
    pub app: AppSpec,
    /// Seeds everything random in the run (PPP magic numbers).
    #[serde(default)]
    pub seed: u32,
    /// What must happen.
    pub expect: ExpectSpec,
}

/// The entry to dial.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EntrySpec {
    /// Entry name.
    #[serde(default = "default_entry_name")]
    pub name: String,
    /// The entry's phone number.
    #[serde(default)]
    pub phone: String,
    /// `AuthRestrictions=`: the authentication protocols the entry allows (ras-reference
    /// §6.4 bits: 8 PAP, 32 MD5-CHAP, 512 MS-CHAPv2); absent, the engine's defaults.
    #[serde(default)]
    pub auth_restrictions: Option<u32>,
    /// The domain stored with the entry, which `szDomain: "*"` stands for.
    #[serde(default)]
    pub domain: String,
    /// Which modem (1-based) the entry's `Port=` names.
    #[serde(default = "one")]
    pub modem: u8,
    /// `CallbackMode=` (ras-reference §6): 0 no callback (default), 1 optional, 2
    /// negotiated. Not 0: the dial asks the server for a callback.
    #[serde(default)]
    pub callback_mode: u8,
    /// `CustomDialDll=`: the entry's custom dialer, one of ras-capi's examples by name
    /// (`c-predial`, `rust-dialer`, `no-entry-point`) or a path (relative to the
    /// scenario's folder).
    #[serde(default)]
    pub custom_dial: Option<String>,
    /// `CustomAuthKey=`: the EAP method type (4 MD5, 6 GTC, 26 EAP-MSCHAPv2) of an entry
    /// whose `auth-restrictions` has the EAP bit (128, RASEO_RequireEAP).
    #[serde(default)]
    pub custom_auth_key: Option<u8>,
    /// `User=`: the stored user name, which RasGetEapUserIdentity returns.
    #[serde(default)]
    pub user: String,
    /// A terminal window: `before` the dial (RASEO_TerminalBeforeDial, a pre-connect
    /// `DEVICE=switch` with `Terminal=1`) or `after` it (RASEO_TerminalAfterDial).
    #[serde(default)]
    pub terminal: Option<TerminalAt>,
    /// A dial script (RASEO_CustomScript): a `.scp` file, relative to the scenario's
    /// folder, run after `CONNECT`.
    #[serde(default)]
    pub script: Option<String>,
    /// `DialMode=` of a multilink entry (ras-reference §3.6): `all` dials every link at
    /// once (RASEDM_DialAll); `first` (the default) dials link 1 only.
    #[serde(default)]
    pub dial_mode: DialModeSpec,
    /// Links 2 and up (the entry's further `MEDIA=` blocks, ras-reference §6.5), each on
    /// its own modem.
    #[serde(default)]
    pub subentries: Vec<SubEntrySpec>,
    /// `DialPercent=` / `DialSeconds=` of a dial-as-needed entry.
    #[serde(default)]
    pub dial_extra: Option<ThresholdSpec>,
    /// `HangUpPercent=` / `HangUpSeconds=` of a dial-as-needed entry.
    #[serde(default)]
    pub hang_up_extra: Option<ThresholdSpec>,
}

/// A dial-as-needed threshold: `{percent: 75, seconds: 5}`.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThresholdSpec {
    /// Percent of the connection's bandwidth.
    pub percent: u32,
    /// The sample window.
    pub seconds: u32,
}

/// `DialMode=` as a scenario names it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DialModeSpec {
    /// 0: the first available link.
    #[default]
    First,
    /// 1: RASEDM_DialAll.
    All,
    /// 2: RASEDM_DialAsNeeded.
    AsNeeded,
}

/// A link of a multilink entry beyond the first.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SubEntrySpec {
    /// Which modem (1-based) the link's `Port=` names.
    pub modem: u8,
    /// The number the link dials.
    pub phone: String,
}

/// Where an entry's terminal window comes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TerminalAt {
    /// Before the modem dials.
    Before,
    /// After the modem connected, before PPP.
    After,
}

fn default_entry_name() -> String {
    "Scenario".to_owned()
}

fn one() -> u8 {
    1
}

impl Default for EntrySpec {
    fn default() -> Self {
        EntrySpec {
            name: default_entry_name(),
            phone: String::new(),
            auth_restrictions: None,
            domain: String::new(),
            modem: 1,
            callback_mode: 0,
            custom_dial: None,
            custom_auth_key: None,
            user: String::new(),
            terminal: None,
            script: None,
            dial_mode: DialModeSpec::First,
            subentries: Vec::new(),
            dial_extra: None,
            hang_up_extra: None,
        }
    }
}

/// `RASDIALPARAMS` and the notifier type.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DialSpec {
    /// `szUserName`.
    #[serde(default)]
    pub user: String,
    /// `szPassword`.
    #[serde(default)]
    pub password: String,
    /// `szDomain`.
    #[serde(default)]
    pub domain: String,
    /// `szPhoneNumber` (overrides the entry's number).
    #[serde(default)]
    pub phone: String,
    /// `dwCallbackId`.
    #[serde(default)]
    pub callback_id: usize,
    /// `szCallbackNumber`: where the server should call back (`"*"`: ask the application
    /// in CallbackSetByCaller).
    #[serde(default)]
    pub callback: String,
    /// Which notifier the application passes.
    #[serde(default)]
    pub notifier: NotifierKind,
    /// `RDEOPT_PausedStates`: let the dial stop in paused states (RetryAuthentication,
    /// PasswordExpired) instead of failing.
    #[serde(default)]
    pub paused_states: bool,
    /// `RDEOPT_CustomDial`: the caller is the custom dialer, so RAS dials the entry
    /// itself instead of handing the dial to the entry's `CustomDialDll=`.
    #[serde(default)]
    pub custom_dial: bool,
    /// Which API the application dials through.
    #[serde(default)]
    pub api: Api,
}

/// The API a scenario's application dials through.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Api {
    /// `Ras::dial`, as `rasdial` and other Rust programs call it (ras-reference §4.5 rule
    /// 29: a custom-dial entry is refused with 755).
    #[default]
    Rust,
    /// `RasDialA` of the C API (ras-capi), which hands a custom-dial entry to its
    /// dialer; the notifier is a C function (or window) of the scenario's kind.
    C,
}

/// Engine options a scenario may set.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct EngineSpec {
    /// What `NO CARRIER` after a dial is reported as (default 679; 678 is the other
    /// reading of ras-reference §4.6).
    #[serde(default)]
    #[schemars(with = "Option<ResultValue>")]
    pub no_carrier: Option<Spanned<ResultValue>>,
}

/// The application's actions, each taken inside the notifier when the named state is
/// entered.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct AppSpec {
    /// Call RasHangUp (needs a notifier that is given the handle: func1 or func2).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub hang_up_at: Option<Spanned<String>>,
    /// Return 0 from RasDialFunc2 (func2 only).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub stop_at: Option<Spanned<String>>,
    /// Call RasHangUp inside the notifier call that reports the dial's error (func1 or
    /// func2).
    #[serde(default)]
    pub hang_up_on_error: bool,
    /// A slow application: on entering this state the notifier takes `seconds` (virtual;
    /// scaled in real time) before it returns, and the dial waits for it.
    #[serde(default)]
    pub slow_at: Option<SlowSpec>,
    /// Each time the dial pauses, resume it (RasDial again on the same handle, after the
    /// notifier has returned) with the next of these changes to the dial parameters. A
    /// pause with none left makes the application hang up instead.
    #[serde(default)]
    pub resume: Vec<Resume>,
}

/// A notifier that takes its time.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SlowSpec {
    /// The state whose entry notification is slow.
    #[schemars(with = "String")]
    pub state: Spanned<String>,
    /// How long the notifier takes, in (virtual) seconds.
    pub seconds: u32,
}

/// The `RASDIALPARAMS` fields an application changes before resuming (ras-reference §4.3
/// rule 15): new credentials after RetryAuthentication, the new password after
/// PasswordExpired. Fields left out keep their value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Resume {
    /// `szUserName`.
    pub user: Option<String>,
    /// `szPassword` (the new password, for PasswordExpired).
    pub password: Option<String>,
    /// `szDomain`.
    pub domain: Option<String>,
    /// `szPhoneNumber`.
    pub phone: Option<String>,
    /// `szCallbackNumber`.
    pub callback: Option<String>,
    /// At InvokeEapUI: the answer given to RasInvokeEapUI before resuming.
    pub eap: Option<EapAnswerSpec>,
    /// At Interactive: what the user does on the terminal before resuming, in order.
    #[serde(default)]
    pub terminal: Vec<TerminalStep>,
}

/// The user's answer to the EAP method (RasInvokeEapUI): exactly one of the forms.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub enum EapAnswerSpec {
    /// `{token: "123456"}`: a Generic Token Card's one-time token.
    Token(String),
    /// `{identity: alice}`: the identity the method asked for.
    Identity(String),
    /// `acknowledge`: the Notification was seen.
    Acknowledge,
    /// `{credentials: {user, password}}`: for EAP-MSCHAPv2 without stored credentials.
    Credentials {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
}

/// One thing the user does on the terminal window.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub enum TerminalStep {
    /// `{wait: "login: "}`: read until the line has shown this text.
    Wait(String),
    /// `{type: "alice\r"}`: type this.
    Type(String),
}

/// `dwNotifierType`, or none for a synchronous dial.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NotifierKind {
    /// No notifier: a synchronous dial that returns when connected or failed.
    None,
    /// RasDialFunc (type 0).
    Func,
    /// RasDialFunc1 (type 1).
    Func1,
    /// RasDialFunc2 (type 2).
    #[default]
    Func2,
    /// A window receiving WM_RASDIALEVENT.
    Window,
}

/// A result as written: `connected`, an error number or an error symbol.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ResultValue {
    /// A number.
    Number(u32),
    /// `connected` or a symbol.
    Text(String),
}

/// The expectations, as written.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ExpectSpec {
    /// `connected`, `hung-up`, or the error the dial ends with (also an error RasDial
    /// returns at once). Required unless the scenario has a `program`.
    #[serde(default)]
    #[schemars(with = "Option<ResultValue>")]
    pub result: Option<Spanned<ResultValue>>,
    /// Every notifier call with all its arguments, e.g.
    /// `RasDialFunc2(7, 1, h1, WM_RASDIALEVENT, OpenPort, 0, 0)`.
    #[serde(default)]
    pub calls: Option<Vec<String>>,
    /// Fragments of the PPP packets on the line, in order (each a part of one packet's
    /// summary, e.g. `sent PAP Authenticate-Request id=1 peer-id=alice`).
    #[serde(default)]
    pub packets: Option<Vec<String>>,
    /// Fragments of the AT conversation, in order (`> ATDT5551234`, `< CONNECT 33600`);
    /// checked under the simulated driver, whose modem the harness can hear.
    #[serde(default)]
    pub at: Option<Vec<String>>,
    /// A `program`'s log: one line per step (see scenarios/README.md).
    #[serde(default)]
    pub log: Option<Vec<String>>,
    /// A `program`'s notification traces, by dial name.
    #[serde(default)]
    #[schemars(with = "Option<std::collections::BTreeMap<String, Vec<String>>>")]
    pub traces: Option<std::collections::BTreeMap<String, Vec<Spanned<String>>>>,
    /// The exact notification trace.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub trace: Option<Vec<Spanned<String>>>,
    /// `RasGetConnectStatus` calls, in order: where the application asks and what it
    /// gets (`settled: ConnectDevice 676`). The application asks at exactly these points.
    #[serde(default)]
    #[schemars(with = "Option<Vec<String>>")]
    pub status: Option<Vec<Spanned<String>>>,
}

/// How a dial ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DialResult {
    /// RASCS_Connected.
    Connected,
    /// The application hung up before the dial had an outcome.
    HungUp,
    /// The error of the final notification.
    Failed(RasError),
}

impl fmt::Display for DialResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DialResult::Connected => f.write_str("connected"),
            DialResult::HungUp => f.write_str("hung-up"),
            DialResult::Failed(error) => match error.symbol() {
                Some(symbol) => write!(f, "error {} {}", error.code(), symbol),
                None => write!(f, "error {}", error.code()),
            },
        }
    }
}

/// A loaded, validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Its name: the file's path relative to the scenarios folder, without `.yaml`.
    pub name: String,
    /// Where it was read from.
    pub path: PathBuf,
    /// The file's contents, as written.
    pub file: ScenarioFile,
    /// The expected result, resolved (a `program` may leave it out).
    pub result: Option<DialResult>,
    /// The application's program, resolved (`None`: the single dial).
    pub program: Option<Vec<Step>>,
    /// A program's expected traces by dial name, resolved.
    pub traces: Option<std::collections::BTreeMap<String, Vec<TraceLine>>>,
    /// The expected trace, resolved.
    pub trace: Option<Vec<TraceLine>>,
    /// The expected status calls, resolved.
    pub status: Option<Vec<StatusLine>>,
    /// The application's actions, resolved.
    pub app: App,
    /// What NO CARRIER maps to.
    pub no_carrier: RasError,
}

/// The application's actions, resolved (see [`AppSpec`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct App {
    /// Hang up on entering this state.
    pub hang_up_at: Option<RasConnState>,
    /// Stop notifications on entering this state.
    pub stop_at: Option<RasConnState>,
    /// ... of this subentry only (`stop-at: "[2] State"`); any subentry when `None`.
    pub stop_subentry: Option<u32>,
    /// Call `RasGetConnectStatus` at these points (from `expect.status`).
    pub status_at: Vec<StatusPoint>,
    /// How to resume each pause, in order.
    pub resume: Vec<Resume>,
    /// Hang up inside the notifier call that reports the error.
    pub hang_up_on_error: bool,
    /// Take this many (virtual) seconds in the notifier on entering this state.
    pub slow_at: Option<(RasConnState, u32)>,
}

/// One step of a scenario's `program`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `dial ENTRY [as NAME] [sync]`: RasDial of the entry, with the scenario's `dial`
    /// parameters and notifier (`sync`: none), its handle known as NAME (default: the
    /// entry's name).
    Dial {
        /// The entry.
        entry: String,
        /// The handle's name in later steps.
        name: String,
        /// A synchronous dial.
        sync: bool,
    },
    /// `wait NAME STATE`: until that dial's notifier has been told of STATE (or the dial
    /// has ended).
    WaitFor {
        /// The dial.
        name: String,
        /// The state.
        state: RasConnState,
    },
    /// `wait SECONDS`: let time pass (virtual seconds; scaled in real time).
    Sleep(u32),
    /// `status NAME`: RasGetConnectStatus.
    Status(String),
    /// `enum`: RasEnumConnections.
    Enum,
    /// `eap-identity ENTRY`: RasGetEapUserIdentity.
    EapIdentity(String),
    /// `hang-up NAME`: RasHangUp.
    HangUp(String),
    /// `released NAME`: poll RasGetConnectStatus until ERROR_INVALID_HANDLE (rule 21).
    Released(String),
    /// `send NAME OCTETS`: that many octets of IPv4 packets (1,000 octets each) on the
    /// connection (`Ras::send_packet`).
    Send {
        /// The dial.
        name: String,
        /// How many octets.
        octets: u32,
    },
    /// `notifications NAME`: the RASCN_* events of that dial so far
    /// (RasConnectionNotification, registered when it was dialed).
    Notifications(String),
    /// `subentry NAME K as SUB`: RasGetSubEntryHandle of link K of that dial, the handle
    /// known as SUB (for `status SUB`, `hang-up SUB`).
    SubEntry {
        /// The dial.
        name: String,
        /// The 1-based subentry.
        index: u32,
        /// The subentry handle's name in later steps.
        handle_name: String,
    },
}

impl Step {
    /// Parse one program line. (An entry the phonebook lacks is allowed: RasDial then
    /// fails with 623, which a scenario may want.)
    fn parse(line: &str) -> Result<Step, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["dial", entry, rest @ ..] => {
                let entry = (*entry).to_owned();
                let (name, sync) = match rest {
                    [] => (entry.clone(), false),
                    ["sync"] => (entry.clone(), true),
                    ["as", name] => ((*name).to_owned(), false),
                    ["as", name, "sync"] => ((*name).to_owned(), true),
                    _ => return Err(format!("`{line}`: write `dial ENTRY [as NAME] [sync]`")),
                };
                Ok(Step::Dial { entry, name, sync })
            }
            ["wait", seconds] if seconds.parse::<u32>().is_ok() => {
                Ok(Step::Sleep(seconds.parse().unwrap_or_default()))
            }
            ["wait", name, state] => Ok(Step::WaitFor {
                name: (*name).to_owned(),
                state: state
                    .parse()
                    .map_err(|e: ras_engine::ras::UnknownState| e.to_string())?,
            }),
            ["status", name] => Ok(Step::Status((*name).to_owned())),
            ["enum"] => Ok(Step::Enum),
            ["eap-identity", entry] => Ok(Step::EapIdentity((*entry).to_owned())),
            ["hang-up", name] => Ok(Step::HangUp((*name).to_owned())),
            ["released", name] => Ok(Step::Released((*name).to_owned())),
            ["send", name, octets] => Ok(Step::Send {
                name: (*name).to_owned(),
                octets: octets
                    .parse()
                    .map_err(|_| format!("`{line}`: the octets are a number"))?,
            }),
            ["notifications", name] => Ok(Step::Notifications((*name).to_owned())),
            ["subentry", name, index, "as", handle_name] => Ok(Step::SubEntry {
                name: (*name).to_owned(),
                index: index
                    .parse()
                    .map_err(|_| format!("`{line}`: the subentry is a number (1, 2, …)"))?,
                handle_name: (*handle_name).to_owned(),
            }),
            _ => Err(format!(
                "`{line}` is not a step (dial ENTRY [as NAME] [sync], wait NAME STATE, wait SECONDS, status NAME, enum, eap-identity ENTRY, hang-up NAME, released NAME, subentry NAME K as SUB, send NAME OCTETS, notifications NAME)"
            )),
        }
    }

    /// The dial name a step refers to, if it refers to one it does not create.
    fn refers_to(&self) -> Option<&str> {
        match self {
            Step::WaitFor { name, .. }
            | Step::Status(name)
            | Step::HangUp(name)
            | Step::Released(name)
            | Step::SubEntry { name, .. }
            | Step::Send { name, .. }
            | Step::Notifications(name) => Some(name),
            Step::Dial { .. } | Step::Sleep(_) | Step::Enum | Step::EapIdentity(_) => None,
        }
    }
}

impl App {
    /// Whether the application asks for the status at `point`.
    pub fn asks_status(&self, point: StatusPoint) -> bool {
        self.status_at.contains(&point)
    }
}

/// One problem in a scenario file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line (0 when unknown).
    pub line: u64,
    /// 1-based column (0 when unknown).
    pub column: u64,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
}

/// A scenario file that cannot be used: every problem found, with the source for display.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{}", self.summary())]
pub struct ScenarioError {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub problems: Vec<Problem>,
    text: NamedSource<String>,
}

impl ScenarioError {
    /// `file:line:column: message` for each problem, one per line.
    pub fn summary(&self) -> String {
        self.problems
            .iter()
            .map(|p| {
                format!(
                    "{}:{}:{}: {}",
                    self.path.display(),
                    p.line,
                    p.column,
                    p.message
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn offset(&self, line: u64, column: u64) -> usize {
        let mut offset = 0;
        let source_text = self.text.inner();
        for (index, text) in source_text.split_inclusive('\n').enumerate() {
            if index as u64 + 1 == line {
                let column_bytes: usize = text
                    .chars()
                    .take(column.saturating_sub(1) as usize)
                    .map(char::len_utf8)
                    .sum();
                return offset + column_bytes;
            }
            offset += text.len();
        }
        offset.min(source_text.len())
    }
}

impl Diagnostic for ScenarioError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("conformance::bad_scenario"))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let hints: Vec<&str> = self
            .problems
            .iter()
            .filter_map(|p| p.hint.as_deref())
            .collect();
        (!hints.is_empty()).then(|| Box::new(hints.join("\n")) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.text as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(self.problems.iter().filter(|p| p.line > 0).map(
            |p| {
                let span = SourceSpan::from((self.offset(p.line, p.column), 1));
                LabeledSpan::new_with_span(Some(p.message.clone()), span)
            },
        )))
    }
}

impl ScenarioError {
    /// A miette report, snippets included.
    pub fn report(&self) -> miette::Report {
        miette::Report::new(self.clone())
    }
}

/// A file that could not even be read.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct ReadError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// Unreadable file.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Bad contents.
    #[error(transparent)]
    Invalid(#[from] ScenarioError),
}

fn at(location: &serde_saphyr::Location) -> (u64, u64) {
    (location.line(), location.column())
}

/// Parse and validate scenario `text` (from `path`; `name` is what reports call it).
pub fn parse(name: &str, path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let invalid = |problems| ScenarioError {
        path: path.to_owned(),
        problems,
        text: NamedSource::new(path.display().to_string(), text.to_owned()),
    };
    let file: ScenarioFile = serde_saphyr::from_str(text).map_err(|error| {
        let (line, column) = error.location().map_or((0, 0), |l| at(&l));
        let message = error.without_snippet().to_string();
        let message = message.lines().next().unwrap_or("invalid scenario");
        // The location is reported separately; keep the message itself short.
        let message = match message.rfind(" at line ") {
            Some(cut) => message[..cut].to_owned(),
            None => message.to_owned(),
        };
        let message = in_user_words(&message, text);
        invalid(vec![Problem {
            line,
            column,
            message,
            hint: Some("see scenarios/README.md for the keys a scenario may have".to_owned()),
        }])
    })?;

    let mut problems = Vec::new();
    for spec in std::iter::once(&file.entry).chain(&file.entries) {
        if spec.callback_mode > 2 {
            problems.push(Problem {
                line: 0,
                column: 0,
                message: format!(
                    "entry {:?}: callback-mode {} is not a CallbackMode",
                    spec.name, spec.callback_mode
                ),
                hint: Some("0 no callback, 1 optional, 2 negotiated".to_owned()),
            });
        }
    }
    check_runnable(&file, text, &mut problems);
    check_modems(&file, &mut problems);
    let result = file
        .expect
        .result
        .as_ref()
        .and_then(|spec| dial_result(spec, &mut problems));
    if file.expect.result.is_none() && file.program.is_none() {
        problems.push(Problem {
            line: 0,
            column: 0,
            message: "`expect.result` is missing".to_owned(),
            hint: Some("a scenario without a `program` says how its dial ends: `result: connected`, or an error".to_owned()),
        });
    }
    let program = file
        .program
        .as_ref()
        .map(|lines| resolve_program(&file, lines, &mut problems));
    let traces = file.expect.traces.as_ref().map(|traces| {
        traces
            .iter()
            .map(|(name, lines)| (name.clone(), trace_lines(lines, &mut problems)))
            .collect()
    });
    let trace = file
        .expect
        .trace
        .as_ref()
        .map(|lines| trace_lines(lines, &mut problems));
    let notifier = file.dial.notifier;
    let mut status = file.expect.status.as_ref().map(|_| Vec::new());
    for line in file.expect.status.iter().flatten() {
        let (l, c) = at(&line.referenced);
        match line.value.parse::<StatusLine>() {
            Ok(parsed) => {
                if matches!(parsed.point, StatusPoint::At(_))
                    && !matches!(notifier, NotifierKind::Func1 | NotifierKind::Func2)
                {
                    problems.push(Problem {
                        line: l,
                        column: c,
                        message: "a status taken inside the notifier needs a notifier that is given the handle (func1 or func2)".to_owned(),
                        hint: None,
                    });
                }
                status.iter_mut().for_each(|s| s.push(parsed));
            }
            Err(error) => problems.push(Problem {
                line: l,
                column: c,
                message: error.to_string(),
                hint: Some(
                    "status lines read `POINT: RESULT`, e.g. `settled: ConnectDevice 676` or `hung-up: ERROR_INVALID_HANDLE`"
                        .to_owned(),
                ),
            }),
        }
    }
    // `stop-at: "[2] PortOpened"`: only on that subentry's notification (multilink).
    let mut stop_at = file.app.stop_at.clone();
    let stop_subentry = stop_at.as_mut().and_then(|spec| {
        let (subentry, state) = spec.value.strip_prefix('[')?.split_once("] ")?;
        let subentry = subentry.parse().ok()?;
        spec.value = state.to_owned();
        Some(subentry)
    });
    let mut app_state = |spec: &Option<Spanned<String>>, allowed: &[NotifierKind], why: &str| {
        let spec = spec.as_ref()?;
        let (line, column) = at(&spec.referenced);
        if !allowed.contains(&notifier) {
            problems.push(Problem {
                line,
                column,
                message: why.to_owned(),
                hint: None,
            });
        }
        match spec.value.parse::<RasConnState>() {
            Ok(state) => Some(state),
            Err(error) => {
                problems.push(Problem {
                    line,
                    column,
                    message: error.to_string(),
                    hint: None,
                });
                None
            }
        }
    };
    let app = App {
        hang_up_at: app_state(
            &file.app.hang_up_at,
            &[NotifierKind::Func1, NotifierKind::Func2],
            "hang-up-at needs a notifier that is given the handle (func1 or func2)",
        ),
        stop_subentry,
        stop_at: app_state(
            &stop_at,
            &[NotifierKind::Func2],
            "stop-at needs RasDialFunc2 (notifier: func2), the only notifier whose return value counts",
        ),
        status_at: status.iter().flatten().map(|line| line.point).collect(),
        resume: file.app.resume.clone(),
        hang_up_on_error: file.app.hang_up_on_error,
        slow_at: file.app.slow_at.as_ref().and_then(|slow| {
            match slow.state.value.parse::<RasConnState>() {
                Ok(state) => Some((state, slow.seconds)),
                Err(error) => {
                    let (line, column) = at(&slow.state.referenced);
                    problems.push(Problem {
                        line,
                        column,
                        message: error.to_string(),
                        hint: None,
                    });
                    None
                }
            }
        }),
    };
    if app.hang_up_on_error && !matches!(notifier, NotifierKind::Func1 | NotifierKind::Func2) {
        problems.push(Problem {
            line: 0,
            column: 0,
            message: "hang-up-on-error needs a notifier that is given the handle (func1 or func2)"
                .to_owned(),
            hint: None,
        });
    }
    let no_carrier = match &file.engine.no_carrier {
        None => RasError::ERROR_NO_CARRIER,
        Some(spec) => match &spec.value {
            ResultValue::Number(code) => RasError::from_code(*code),
            ResultValue::Text(text) => {
                text.parse()
                    .unwrap_or_else(|error: ras_engine::ras::UnknownError| {
                        let (line, column) = at(&spec.referenced);
                        problems.push(Problem {
                            line,
                            column,
                            message: error.to_string(),
                            hint: None,
                        });
                        RasError::ERROR_NO_CARRIER
                    })
            }
        },
    };
    match result {
        _ if problems.is_empty() => Ok(Scenario {
            name: name.to_owned(),
            path: path.to_owned(),
            file,
            result,
            program,
            traces,
            trace,
            status,
            app,
            no_carrier,
        }),
        _ => {
            problems.sort_by_key(|problem| (problem.line, problem.column));
            Err(invalid(problems))
        }
    }
}

/// A YAML library's message, said in the scenario author's words: no library types or
/// options (issue 16 #12).
fn in_user_words(message: &str, text: &str) -> String {
    if text.trim().is_empty() {
        return "the file is empty: a scenario needs at least `network` and `expect`".to_owned();
    }
    if message.contains("untagged enum ResultValue") {
        return "not a result: write `connected`, `hung-up`, an error number such as 676, or a symbol such as ERROR_LINE_BUSY".to_owned();
    }
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest.split(',').next().unwrap_or(rest).trim();
        return format!("`{key}` is given twice; give each key once");
    }
    if message.contains("budget breached") {
        return "the file is too large or too deeply nested to be a scenario".to_owned();
    }
    if let Some(field) = message
        .strip_prefix("duplicate field `")
        .and_then(|rest| rest.split('`').next())
    {
        return format!(
            "`{field}` is given twice (or together with a key that means the same, such as `exec` with `tcp`); give one"
        );
    }
    message.to_owned()
}

/// Where `needle` first appears in `text`, as (line, column), 1-based; (0, 0) when absent.
fn locate(text: &str, needle: &str) -> (u64, u64) {
    text.lines()
        .enumerate()
        .find_map(|(index, line)| {
            line.find(needle)
                .map(|column| (index as u64 + 1, column as u64 + 1))
        })
        .unwrap_or((0, 0))
}

/// Rules a scenario must keep to be able to pass at all (issue 16 #3, #13): a result or
/// trace names an error that exists, a synchronous dial is not given resumes, every number that answers with the built-in server has one, and nothing runs commands.
fn check_runnable(file: &ScenarioFile, text: &str, problems: &mut Vec<Problem>) {
    // A synchronous dial with paused states is a fine scenario (the pause becomes the
    // error, see paused/synchronous-dial-cannot-pause); resumes it can never reach are not.
    if file.dial.notifier == NotifierKind::None && !file.app.resume.is_empty() {
        let (line, column) = locate(text, "resume");
        problems.push(Problem {
            line,
            column,
            message: "`app.resume` with `notifier: none`: a synchronous dial never pauses, so it never resumes".to_owned(),
            hint: Some("give a notifier (func1 or func2) and `paused-states: true`, or drop the resumes".to_owned()),
        });
    }
    for (number, outcome) in &file.network.numbers {
        let modem_sim::network::Outcome::Connect { peer, .. } = outcome else {
            continue;
        };
        let (line, column) = locate(text, number);
        match peer {
            modem_sim::network::PeerSpec::Builtin if file.server.is_none() => {
                problems.push(Problem {
                    line,
                    column,
                    message: format!("number {number} answers with `peer: builtin`, but the scenario has no `server:`"),
                    hint: Some("add a `server:` script (ppp-peer-sim --help lists its keys)".to_owned()),
                });
            }
            modem_sim::network::PeerSpec::Exec(_) | modem_sim::network::PeerSpec::Tcp(_) => {
                problems.push(Problem {
                    line,
                    column,
                    message: format!("number {number} answers with `exec:` or `tcp:`; a scenario never runs commands or opens sockets"),
                    hint: Some("use `peer: builtin` and a `server:` script; exec/tcp far ends are for the standalone modem-sim".to_owned()),
                });
            }
            modem_sim::network::PeerSpec::Builtin => {}
        }
    }
}

/// Whether `error` is one the engine knows (a raserror.h code or a Win32 code it names).
fn known_error(error: RasError) -> bool {
    error.symbol().is_some()
}

/// `expect.result` resolved: `connected`, `hung-up`, or an error by number or symbol.
fn dial_result(spec: &Spanned<ResultValue>, problems: &mut Vec<Problem>) -> Option<DialResult> {
    match &spec.value {
        ResultValue::Number(code) if known_error(RasError::from_code(*code)) => {
            Some(DialResult::Failed(RasError::from_code(*code)))
        }
        ResultValue::Number(code) => {
            let (line, column) = at(&spec.referenced);
            problems.push(Problem {
                line,
                column,
                message: format!("{code} is not an error the engine knows"),
                hint: Some("see ../shared/ras-reference.md §2 for the raserror.h codes".to_owned()),
            });
            None
        }
        ResultValue::Text(text) if text.eq_ignore_ascii_case("connected") => {
            Some(DialResult::Connected)
        }
        ResultValue::Text(text) if text.eq_ignore_ascii_case("hung-up") => Some(DialResult::HungUp),
        ResultValue::Text(text) => match text.parse::<RasError>() {
            Ok(error) => Some(DialResult::Failed(error)),
            Err(error) => {
                let (line, column) = at(&spec.referenced);
                problems.push(Problem {
                    line,
                    column,
                    message: error.to_string(),
                    hint: Some(
                        "`result` is `connected`, `hung-up`, an error number such as 676, or a symbol such as ERROR_LINE_BUSY"
                            .to_owned(),
                    ),
                });
                None
            }
        },
    }
}

/// Trace lines as written, parsed; each bad one is a problem.
fn trace_lines(lines: &[Spanned<String>], problems: &mut Vec<Problem>) -> Vec<TraceLine> {
    lines
        .iter()
        .filter_map(|line| match line.value.parse::<TraceLine>() {
            Ok(parsed) if parsed.error != 0 && !known_error(RasError::from_code(parsed.error)) => {
                let (l, c) = at(&line.referenced);
                problems.push(Problem {
                    line: l,
                    column: c,
                    message: format!("{} is not an error the engine knows", parsed.error),
                    hint: Some(
                        "see ../shared/ras-reference.md §2 for the raserror.h codes".to_owned(),
                    ),
                });
                None
            }
            Ok(parsed) => Some(parsed),
            Err(error) => {
                let (l, c) = at(&line.referenced);
                problems.push(Problem {
                    line: l,
                    column: c,
                    message: error.to_string(),
                    hint: Some(
                        "trace lines read `State` or `State ERROR`, e.g. `ConnectDevice 676`"
                            .to_owned(),
                    ),
                });
                None
            }
        })
        .collect()
}

/// A program's steps, parsed and checked: entries exist, names are dialed before use,
/// modems exist.
/// Every link of every entry is on a modem the lab has.
fn check_modems(file: &ScenarioFile, problems: &mut Vec<Problem>) {
    for entry in std::iter::once(&file.entry).chain(&file.entries) {
        for link in &entry.subentries {
            if link.modem == 0 || link.modem > file.modems {
                problems.push(Problem {
                    line: 0,
                    column: 0,
                    message: format!(
                        "a subentry of entry `{}` is on modem {}, but the scenario has modems 1 to {}",
                        entry.name, link.modem, file.modems
                    ),
                    hint: Some("set `modems:` to how many modems the lab has".to_owned()),
                });
            }
        }
    }
}

fn resolve_program(
    file: &ScenarioFile,
    lines: &[Spanned<String>],
    problems: &mut Vec<Problem>,
) -> Vec<Step> {
    for entry in std::iter::once(&file.entry).chain(&file.entries) {
        if entry.modem == 0 || entry.modem > file.modems {
            problems.push(Problem {
                line: 0,
                column: 0,
                message: format!(
                    "entry `{}` is on modem {}, but the scenario has modems 1 to {}",
                    entry.name, entry.modem, file.modems
                ),
                hint: Some("set `modems:` to how many modems the lab has".to_owned()),
            });
        }
    }
    if file.dial.api == Api::C {
        problems.push(Problem {
            line: 0,
            column: 0,
            message: "`dial: {api: c}` plays the single dial, not a `program`".to_owned(),
            hint: Some(
                "a program dials through the Rust API; give the C dial as a scenario of its own"
                    .to_owned(),
            ),
        });
    }
    let mut dialed: Vec<String> = Vec::new();
    let mut steps = Vec::new();
    for line in lines {
        let (l, c) = at(&line.referenced);
        match Step::parse(&line.value) {
            Ok(step) => {
                if let Some(name) = step.refers_to()
                    && !dialed.iter().any(|dialed| dialed == name)
                {
                    problems.push(Problem {
                        line: l,
                        column: c,
                        message: format!("`{name}` has not been dialed by this step"),
                        hint: Some("name a dial with `dial ENTRY as NAME` first".to_owned()),
                    });
                }
                if let Step::Dial { name, .. }
                | Step::SubEntry {
                    handle_name: name, ..
                } = &step
                {
                    dialed.push(name.clone());
                }
                steps.push(step);
            }
            Err(message) => problems.push(Problem {
                line: l,
                column: c,
                message,
                hint: None,
            }),
        }
    }
    steps
}

/// Read and parse the scenario at `path`, naming it relative to `root`.
pub fn load(root: &Path, path: &Path) -> Result<Scenario, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| ReadError {
        path: path.to_owned(),
        source,
    })?;
    Ok(parse(&scenario_name(root, path), path, &text)?)
}

/// A scenario's name: its path under `root` without the extension (`basic/busy`).
pub fn scenario_name(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    relative
        .with_extension("")
        .to_string_lossy()
        .replace('\\', "/")
}

/// Every scenario under `roots` (the bundled ones when empty), each named relative to its
/// root, and the files that could not be loaded with why.
pub fn load_all(roots: &[PathBuf]) -> (Vec<Scenario>, Vec<(PathBuf, String)>) {
    let bundled = [crate::bundled_scenarios()];
    let roots = if roots.is_empty() {
        &bundled[..]
    } else {
        roots
    };
    let mut scenarios = Vec::new();
    let mut bad = Vec::new();
    for root in roots {
        let base = if root.is_dir() {
            root.clone()
        } else {
            root.parent().map(PathBuf::from).unwrap_or_default()
        };
        match discover(root) {
            Ok(files) => {
                for file in files {
                    match load(&base, &file) {
                        Ok(scenario) => scenarios.push(scenario),
                        Err(error) => bad.push((file, error.to_string())),
                    }
                }
            }
            Err(error) => bad.push((root.clone(), error.to_string())),
        }
    }
    (scenarios, bad)
}

/// Every `*.yaml`/`*.yml` file under `path` (or `path` itself if it is a file), sorted.
pub fn discover(path: &Path) -> Result<Vec<PathBuf>, ReadError> {
    let failed = |path: &Path| {
        let path = path.to_owned();
        move |source| ReadError { path, source }
    };
    let not_regular = |path: &Path| ReadError {
        path: path.to_owned(),
        source: std::io::Error::other("not a regular file (a scenario is a plain YAML file)"),
    };
    let mut found = Vec::new();
    // Folders already walked, by their real path: a symlink loop is walked once.
    let mut walked = std::collections::HashSet::new();
    let mut pending = vec![path.to_owned()];
    while let Some(next) = pending.pop() {
        // A path given by the user may be a symlink; follow it once.
        let metadata = std::fs::metadata(&next).map_err(failed(&next))?;
        if !metadata.is_dir() {
            if !metadata.is_file() {
                return Err(not_regular(&next));
            }
            found.push(next);
            continue;
        }
        let real = std::fs::canonicalize(&next).map_err(failed(&next))?;
        if !walked.insert(real) {
            continue;
        }
        for entry in std::fs::read_dir(&next).map_err(failed(&next))? {
            let entry = entry.map_err(failed(&next))?;
            let child = entry.path();
            let kind = entry.file_type().map_err(failed(&child))?;
            let is_yaml = child
                .extension()
                .is_some_and(|ext| ext == "yaml" || ext == "yml");
            if kind.is_dir() {
                pending.push(child);
            } else if kind.is_symlink() {
                // Symlinked folders are not walked (loops); symlinked files are read.
                match std::fs::metadata(&child) {
                    Ok(target) if target.is_file() && is_yaml => found.push(child),
                    Ok(target) if !target.is_dir() && is_yaml => return Err(not_regular(&child)),
                    _ => {}
                }
            } else if is_yaml {
                // A FIFO or device named *.yaml would block the reader for ever.
                if !kind.is_file() {
                    return Err(not_regular(&child));
                }
                found.push(child);
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NETWORK: &str = "network: {numbers: {\"5551234\": busy}}\n";

    fn parse_text(text: &str) -> Result<Scenario, ScenarioError> {
        parse("test", Path::new("custom-dial/test.yaml"), text)
    }

    #[test]
    fn custom_dial_keys_parse() {
        let scenario = parse_text(&format!(
            "entry: {{custom-dial: c-predial}}\ndial: {{api: c, custom-dial: true}}\n{NETWORK}expect: {{result: connected}}\n"
        ))
        .unwrap();
        assert_eq!(
            scenario.file.entry.custom_dial.as_deref(),
            Some("c-predial")
        );
        assert_eq!(scenario.file.dial.api, Api::C);
        assert!(scenario.file.dial.custom_dial);
        let plain = parse_text(&format!("{NETWORK}expect: {{result: connected}}\n")).unwrap();
        assert_eq!(plain.file.dial.api, Api::Rust, "the Rust API by default");
        assert!(!plain.file.dial.custom_dial);
    }

    #[test]
    fn the_c_api_plays_single_dials_only() {
        let error = parse_text(&format!(
            "dial: {{api: c}}\nprogram: [dial Scenario]\n{NETWORK}expect: {{log: []}}\n"
        ))
        .unwrap_err();
        assert!(
            error
                .problems
                .iter()
                .any(|problem| problem.message.contains("api: c")),
            "{:?}",
            error.problems
        );
    }

    #[test]
    fn an_unknown_api_is_refused() {
        let error = parse_text(&format!(
            "dial: {{api: pascal}}\n{NETWORK}expect: {{result: connected}}\n"
        ))
        .unwrap_err();
        assert_eq!(error.problems[0].line, 1, "{:?}", error.problems);
    }
}
