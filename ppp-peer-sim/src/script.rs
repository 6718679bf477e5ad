//! The server script: what the scripted peer does, as YAML.
//!
//! ```yaml
//! auth: mschapv2        # pap (default), chap-md5, mschapv2, eap or none
//! retries: 2            # MS-CHAPv2: refusals answered with R=1 and a new C= before R=0
//! users:
//!   alice: secret                             # name: password, accepted
//!   bob: {password: pw, fail: 2}              # the first 2 attempts refused (E=691)
//!   carol: {password: old, outcome: expired}  # E=648, then a Change-Password from "old"
//!   dave: {password: pw, outcome: disabled}   # E=647 (no-dial-in: 649, logon-hours: 646)
//!   erin: {password: pw, tokens: ["314159", "271828"]}  # EAP-GTC one-time tokens
//!   frank: {password: pw, callback: caller-set}  # this account's callback privilege
//! callback: {server-set: "5550100"}   # everyone else's: none (default) | caller-set |
//!                                     # {server-set: NUMBER}; faults: never: true (agree,
//!                                     # hang up, never call), busy-callee: true (call at
//!                                     # once, while the caller's line is still busy),
//!                                     # reauth-fails: true (refuse the credentials on the
//!                                     # callback, E=691), refuse-number: true (end the
//!                                     # link instead of acknowledging the caller's choice)
//! callback-delay: 5                   # seconds between hanging up and calling back
//! multilink: {accept: true, max-links: 2}  # PPP Multilink (RFC 1990): Ack MRRU and
//!                                     # Endpoint Discriminator (default: Reject them);
//!                                     # also bap: true (RFC 2125), mrru: 1500,
//!                                     # echo: true (packets received are sent back)
//! ```
//!
//! Callback (MS-CBCP): when the client asked for it in LCP (Callback operation 6), the
//! server runs CBCP after authentication, offering what the account's privilege allows.
//! Once a callback is acknowledged it terminates LCP, hangs up and asks the network to call
//! the number ([`sansio::PeerEvent::CallBack`]); on that call it answers PPP afresh (LCP,
//! authentication, IPCP) and offers no callback.
//!
//! With `auth: eap` (RFC 3748), an `eap:` map says how the server runs it:
//!
//! ```yaml
//! eap:
//!   methods: [md5, mschapv2, gtc]   # offered in order; a Nak picks among the rest
//!   identity-prompt: "Name:"        # text of Request/Identity (default empty)
//!   notification: "Hello"           # a Notification after the identity (default none)
//!   token-prompt: "Token:"          # text of the GTC Request (default "Token:")
//! ```
//!
//! A `login:` map puts a terminal server's text login before PPP (see [`LoginScript`]):
//!
//! ```yaml
//! login:
//!   banner: "ACME dial-in"      # sent first (default none)
//!   prompt: "login: "           # default "login: "
//!   password-prompt: "Password: "  # default "Password: "
//!   users: {alice: secret}      # terminal accounts, name: password
//!   attempts: 1                 # failed logins before the server hangs up (default 1)
//! ```
//!
//! PAP, CHAP-MD5, EAP-MD5 and EAP-GTC carry no error codes and no retry: there every
//! refusal is a plain failure, and the server ends the link. EAP-MSCHAPv2 behaves as
//! MS-CHAPv2 (`retries`, outcomes, Change-Password).

use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_saphyr::Spanned;

use ras_ppp::EapMethod;
use ras_ppp::cbcp::CallbackPrivilege;

use crate::fault::{Fault, Faults};
use crate::login::LoginScript;

/// Which authentication the server demands (LCP Authentication-Protocol, RFC 1661 §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    /// PAP (RFC 1334), the default.
    #[default]
    Pap,
    /// No authentication phase.
    None,
    /// CHAP with MD5 (RFC 1994).
    ChapMd5,
    /// MS-CHAP-V2 (RFC 2759): error codes, retries and password changes.
    #[serde(rename = "mschapv2")]
    MsChapV2,
    /// EAP (RFC 3748), run as the `eap:` map says.
    Eap,
}

impl fmt::Display for AuthMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AuthMode::Pap => "pap",
            AuthMode::None => "none",
            AuthMode::ChapMd5 => "chap-md5",
            AuthMode::MsChapV2 => "mschapv2",
            AuthMode::Eap => "eap",
        })
    }
}

/// What an account does once its password checks out (and its `fail` count is spent).
/// The MS-CHAPv2 `E=` code each sends is in brackets (RFC 2759 §6); under PAP and CHAP-MD5
/// every refusal is a plain failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum AccountOutcome {
    /// Accepted.
    #[default]
    Accept,
    /// Password expired [648]: the server accepts an MS-CHAPv2 Change-Password that proves
    /// the old password, records the new one and accepts; a new password equal to the old
    /// one is refused with 709 ERROR_CHANGING_PASSWORD.
    Expired,
    /// Account disabled [647].
    Disabled,
    /// No dial-in permission [649].
    NoDialIn,
    /// Outside its permitted logon hours [646].
    LogonHours,
}

/// An account: `name: password`, or `name: {password: ..., fail: N, outcome: ...,
/// tokens: [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Account {
    /// The password (PAP Password, CHAP secret).
    pub password: String,
    /// Refuse this many attempts first (E=691), whatever the password.
    #[serde(default)]
    pub fail: u32,
    /// What happens after that, for the right password.
    #[serde(default)]
    pub outcome: AccountOutcome,
    /// EAP-GTC one-time tokens (RFC 3748 §5.6): each is accepted once, then spent.
    #[serde(default)]
    pub tokens: Vec<String>,
    /// This account's callback privilege; the script's `callback:` when absent.
    #[serde(default)]
    pub callback: Option<Callback>,
}

/// A callback privilege (MS-CBCP §2.3.1) and how the server then misbehaves, if it does.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(try_from = "RawCallback")]
#[schemars(with = "RawCallback")]
pub struct Callback {
    /// What CBCP offers.
    pub privilege: CallbackPrivilege,
    /// Fault: agree on the callback, hang up, and never call.
    pub never: bool,
    /// Fault: call back at once, before the caller's modem has put the phone down, so the
    /// callee's line is busy and the callback fails.
    pub busy_callee: bool,
    /// Fault: on the callback, refuse the credentials that were good on the first call.
    pub reauth_fails: bool,
    /// Fault: refuse the caller's choice (its number): terminate the link instead of
    /// sending the CBCP Ack.
    pub refuse_number: bool,
}

impl Default for Callback {
    /// No callback.
    fn default() -> Self {
        Callback {
            privilege: CallbackPrivilege::NoCallback,
            never: false,
            busy_callee: false,
            reauth_fails: false,
            refuse_number: false,
        }
    }
}

/// `callback:` as written: `none`, `caller-set`, or a map.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(untagged)]
#[schemars(rename = "Callback")]
enum RawCallback {
    Name(String),
    Map(RawCallbackMap),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(rename = "CallbackMap")]
struct RawCallbackMap {
    server_set: Option<String>,
    #[serde(default)]
    caller_set: bool,
    #[serde(default)]
    never: bool,
    #[serde(default)]
    busy_callee: bool,
    #[serde(default)]
    reauth_fails: bool,
    #[serde(default)]
    refuse_number: bool,
}

impl TryFrom<RawCallback> for Callback {
    type Error = String;

    fn try_from(raw: RawCallback) -> Result<Callback, String> {
        let usage = "callback: none | caller-set | {server-set: \"NUMBER\"} | {caller-set: true}, with never, busy-callee, reauth-fails or refuse-number: true";
        match raw {
            RawCallback::Name(name) => {
                let privilege = match name.as_str() {
                    "none" => CallbackPrivilege::NoCallback,
                    "caller-set" => CallbackPrivilege::CallerSet,
                    other => return Err(format!("unknown callback {other:?}; {usage}")),
                };
                Ok(Callback {
                    privilege,
                    ..Callback::default()
                })
            }
            RawCallback::Map(map) => {
                let privilege = match (map.server_set, map.caller_set) {
                    (Some(number), false) if !number.trim().is_empty() => {
                        CallbackPrivilege::AdminSet { number }
                    }
                    (None, true) => CallbackPrivilege::CallerSet,
                    _ => return Err(format!("name exactly one privilege; {usage}")),
                };
                Ok(Callback {
                    privilege,
                    never: map.never,
                    busy_callee: map.busy_callee,
                    reauth_fails: map.reauth_fails,
                    refuse_number: map.refuse_number,
                })
            }
        }
    }
}

impl Account {
    /// An account that accepts `password`.
    pub fn with_password(password: impl Into<String>) -> Self {
        Account {
            password: password.into(),
            fail: 0,
            outcome: AccountOutcome::Accept,
            callback: None,
            tokens: Vec::new(),
        }
    }
}

/// The short form `name: password` or the full map (whose own rules and positions apply).
fn deserialize_account<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Account, D::Error> {
    struct AccountVisitor;

    impl<'de> Visitor<'de> for AccountVisitor {
        type Value = Account;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a password, or a map with `password`, `fail` and `outcome`")
        }

        fn visit_str<E: de::Error>(self, password: &str) -> Result<Account, E> {
            Ok(Account::with_password(password))
        }

        // An unquoted `1234` is a number to YAML, but as a password it is its digits.
        fn visit_u64<E: de::Error>(self, password: u64) -> Result<Account, E> {
            Ok(Account::with_password(password.to_string()))
        }

        fn visit_i64<E: de::Error>(self, password: i64) -> Result<Account, E> {
            Ok(Account::with_password(password.to_string()))
        }

        fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Account, M::Error> {
            Account::deserialize(de::value::MapAccessDeserializer::new(map))
        }
    }

    deserializer.deserialize_any(AccountVisitor)
}

/// `users:` as written.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(transparent)]
#[schemars(rename = "Users")]
struct RawUsers(
    #[serde(deserialize_with = "deserialize_users")]
    #[schemars(schema_with = "users_schema")]
    BTreeMap<String, Account>,
);

/// The schema of what [`deserialize_users`] reads, by hand next to it (test
/// `users_schema_in_step`): each account is a password (a string, or digits YAML reads as
/// a number) or an [`Account`] map.
fn users_schema(generator: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "additionalProperties": {
            "anyOf": [
                {"description": "The password; the account is accepted.", "type": ["string", "integer"]},
                generator.subschema_for::<Account>()
            ]
        }
    })
}

fn deserialize_users<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, Account>, D::Error> {
    #[derive(Deserialize)]
    #[serde(transparent)]
    struct One(#[serde(deserialize_with = "deserialize_account")] Account);
    let users = BTreeMap::<String, One>::deserialize(deserializer)?;
    Ok(users
        .into_iter()
        .map(|(name, One(account))| (name, account))
        .collect())
}

/// An EAP method as a script names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EapMethodName {
    /// MD5-Challenge (RFC 3748 §5.4).
    Md5,
    /// EAP-MSCHAPv2 (draft-kamath-pppext-eap-mschapv2).
    #[serde(rename = "mschapv2")]
    MsChapV2,
    /// Generic Token Card (RFC 3748 §5.6): a one-time token from the account's `tokens`.
    Gtc,
}

impl From<EapMethodName> for EapMethod {
    fn from(name: EapMethodName) -> EapMethod {
        match name {
            EapMethodName::Md5 => EapMethod::Md5,
            EapMethodName::MsChapV2 => EapMethod::MsChapV2,
            EapMethodName::Gtc => EapMethod::Gtc,
        }
    }
}

/// How the server runs EAP (`eap:`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct EapScript {
    /// Methods offered in order (default `[mschapv2, md5, gtc]`).
    pub methods: Vec<EapMethodName>,
    /// The Request/Identity text (default empty).
    pub identity_prompt: String,
    /// A Notification sent after the identity (default none).
    pub notification: Option<String>,
    /// The GTC Request text (default `Token:`).
    pub token_prompt: String,
}

impl Default for EapScript {
    fn default() -> Self {
        EapScript {
            methods: vec![
                EapMethodName::MsChapV2,
                EapMethodName::Md5,
                EapMethodName::Gtc,
            ],
            identity_prompt: String::new(),
            notification: None,
            token_prompt: "Token:".into(),
        }
    }
}

/// Addresses IPCP hands out (RFC 1332 §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct AddressPlan {
    /// The server's own address (default 10.0.0.1).
    pub server: Ipv4Addr,
    /// The address assigned to the client (default 10.0.0.2).
    pub client: Ipv4Addr,
}

impl Default for AddressPlan {
    fn default() -> Self {
        AddressPlan {
            server: Ipv4Addr::new(10, 0, 0, 1),
            client: Ipv4Addr::new(10, 0, 0, 2),
        }
    }
}

/// A validated server script. It deserializes (with its checks) wherever a script is
/// embedded in a larger YAML document, such as a conformance scenario's `server:`. Its
/// JSON Schema is that of the script as written (the checks of `TryFrom` are not in it).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(try_from = "RawScript")]
#[schemars(with = "RawScript")]
pub struct Script {
    /// Authentication demanded of the client.
    pub auth: AuthMode,
    /// Accounts by user name.
    pub users: BTreeMap<String, Account>,
    /// MS-CHAPv2: how many refused attempts (E=691) invite a retry (R=1 with a new C=)
    /// before the final R=0.
    pub retries: u32,
    /// IPCP addresses.
    pub address: AddressPlan,
    /// DNS servers offered (RFC 1877), at most two, primary first.
    pub dns: Vec<Ipv4Addr>,
    /// Deliberate misbehaviour (`faults:`); none by default.
    pub faults: Faults,
    /// The callback privilege of accounts that name none (`callback:`; default none).
    pub callback: Callback,
    /// Seconds between hanging up and calling back (`callback-delay:`; default 0).
    pub callback_delay: u8,
    /// How EAP runs, under `auth: eap`.
    pub eap: EapScript,
    /// A text login before PPP; none by default.
    pub login: Option<LoginScript>,
    /// Multilink (`multilink:`, RFC 1990); refused (MRRU Rejected) by default.
    pub multilink: Multilink,
}

/// `multilink: {accept: true, max-links: N, bap: true, mrru: 1500}`: whether the server
/// takes part in PPP Multilink (RFC 1990) and how far.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Multilink {
    /// Ack the client's MRRU and Endpoint Discriminator, send our own: the link may join a
    /// bundle. `false` (the default) Rejects them, so every call is a single link.
    #[serde(default)]
    pub accept: bool,
    /// The most links one bundle may have; a call beyond that is refused (LCP
    /// Terminate-Request after authentication). Default 2.
    #[serde(default = "Multilink::default_max_links")]
    pub max_links: u32,
    /// Negotiate BACP and answer BAP call requests (RFC 2125). Default off.
    #[serde(default)]
    pub bap: bool,
    /// The number a BAP Call-Response sends the dialer to (as a Phone-Delta, RFC 2125
    /// §6.2); without it, the number the dialer called already.
    #[serde(default)]
    pub bap_number: Option<String>,
    /// The MRRU the server asks for (RFC 1990 §5.1.1; default 1500).
    #[serde(default = "Multilink::default_mrru")]
    pub mrru: u16,
    /// Send every network-layer packet received back to the caller: fragmented over the
    /// bundle when the link is in one, else whole. A peer for testing a data path.
    /// Default off.
    #[serde(default)]
    pub echo: bool,
}

impl Multilink {
    fn default_max_links() -> u32 {
        2
    }

    fn default_mrru() -> u16 {
        ras_ppp::hdlc::DEFAULT_MRU
    }
}

impl Default for Multilink {
    fn default() -> Self {
        Multilink {
            accept: false,
            max_links: Multilink::default_max_links(),
            bap: false,
            bap_number: None,
            mrru: Multilink::default_mrru(),
            echo: false,
        }
    }
}

impl Default for Script {
    /// No authentication, default addresses, no DNS.
    fn default() -> Self {
        Script {
            auth: AuthMode::None,
            users: BTreeMap::new(),
            retries: 0,
            address: AddressPlan::default(),
            dns: Vec::new(),
            faults: Faults::default(),
            callback: Callback::default(),
            callback_delay: 0,
            eap: EapScript::default(),
            login: None,
            multilink: Multilink::default(),
        }
    }
}

/// The script as written, with positions for the checks serde cannot express.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
#[schemars(rename = "Script")]
struct RawScript {
    /// Authentication demanded of the client (default pap).
    #[schemars(with = "Option<AuthMode>")]
    auth: Option<Spanned<AuthMode>>,
    /// Accounts by user name: `name: password` or `name: {password, fail, outcome, ...}`.
    users: Option<RawUsers>,
    /// MS-CHAPv2: refused attempts (E=691) that invite a retry before the final R=0.
    #[schemars(with = "Option<u32>")]
    retries: Option<Spanned<u32>>,
    /// IPCP addresses.
    #[serde(default)]
    address: AddressPlan,
    /// DNS servers offered (RFC 1877), at most two, primary first.
    #[schemars(with = "Option<Vec<Ipv4Addr>>", length(max = 2))]
    dns: Option<Spanned<Vec<Ipv4Addr>>>,
    /// Deliberate misbehaviour, in order.
    #[schemars(with = "Option<Vec<Fault>>")]
    faults: Option<Vec<Spanned<Fault>>>,
    /// The callback privilege of accounts that name none (default none).
    #[serde(default)]
    callback: Callback,
    /// Seconds between hanging up and calling back (default 0).
    #[serde(default)]
    callback_delay: u8,
    /// How EAP runs, under `auth: eap`.
    #[schemars(with = "Option<EapScript>")]
    eap: Option<Spanned<EapScript>>,
    /// A text login before PPP.
    #[schemars(with = "Option<LoginScript>")]
    login: Option<Spanned<LoginScript>>,
    /// Multilink (RFC 1990); refused by default.
    #[serde(default)]
    multilink: Multilink,
}

/// A script that cannot be used, with where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    /// Not valid YAML, or not the shape of a script (unknown key, bad address, ...).
    #[error("{}{message}", position(*line, *column))]
    Syntax {
        /// 1-based line, when known.
        line: Option<u64>,
        /// 1-based column, when known.
        column: Option<u64>,
        /// What is wrong.
        message: String,
    },
    /// Well-formed, but it asks for something the server cannot do.
    #[error("{}{message}", position(*line, *column))]
    Invalid {
        /// 1-based line, when known.
        line: Option<u64>,
        /// 1-based column, when known.
        column: Option<u64>,
        /// What is wrong.
        message: String,
    },
}

impl ScriptError {
    /// The message as a tool shows it for the script `file`: `FILE:LINE:COLUMN: rule`.
    pub fn in_file(&self, file: &std::path::Path) -> String {
        let (ScriptError::Syntax {
            line,
            column,
            message,
        }
        | ScriptError::Invalid {
            line,
            column,
            message,
        }) = self;
        let at = match (line, column) {
            (Some(line), Some(column)) => format!(":{line}:{column}"),
            (Some(line), None) => format!(":{line}"),
            _ => String::new(),
        };
        format!("{}{at}: {message}", file.display())
    }
}

fn position(line: Option<u64>, column: Option<u64>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!("line {line}, column {column}: "),
        (Some(line), None) => format!("line {line}: "),
        _ => String::new(),
    }
}

pub(crate) fn invalid(
    at: Option<&serde_saphyr::Location>,
    message: impl Into<String>,
) -> ScriptError {
    ScriptError::Invalid {
        line: at.map(|l| l.line()),
        column: at.map(|l| l.column()),
        message: message.into(),
    }
}

impl ScriptError {
    /// 1-based line and column, when known.
    pub fn location(&self) -> Option<(u64, Option<u64>)> {
        match self {
            ScriptError::Syntax { line, column, .. }
            | ScriptError::Invalid { line, column, .. } => line.map(|line| (line, *column)),
        }
    }
}

impl Script {
    /// Parse and check a script.
    pub fn from_yaml(text: &str) -> Result<Script, ScriptError> {
        // An empty document is an empty script: every default.
        let raw: RawScript = if text.trim().is_empty() {
            RawScript {
                auth: None,
                users: None,
                retries: None,
                address: AddressPlan::default(),
                dns: None,
                faults: None,
                callback: Callback::default(),
                callback_delay: 0,
                eap: None,
                login: None,
                multilink: Multilink::default(),
            }
        } else {
            serde_saphyr::from_str(text).map_err(|error| {
                let location = error.location();
                // The message alone (the position is in the fields), in the script's
                // words rather than the YAML library's.
                let message = serde_saphyr::MessageFormatter::format_message(
                    &serde_saphyr::DefaultMessageFormatter,
                    &error,
                );
                ScriptError::Syntax {
                    line: location.map(|l| l.line()),
                    column: location.map(|l| l.column()),
                    message: sansio::yaml_words::plain(&message).into_owned(),
                }
            })?
        };
        Script::try_from(raw)
    }
}

impl TryFrom<RawScript> for Script {
    type Error = ScriptError;

    fn try_from(raw: RawScript) -> Result<Script, ScriptError> {
        let (auth, auth_at) = match raw.auth {
            Some(spanned) => (spanned.value, Some(spanned.referenced)),
            None => (AuthMode::default(), None),
        };
        let users = raw.users.map(|RawUsers(users)| users).unwrap_or_default();
        if auth != AuthMode::None && users.is_empty() {
            return Err(invalid(
                auth_at.as_ref(),
                format!(
                    "auth: {auth} needs at least one account under `users:` (or say `auth: none`)"
                ),
            ));
        }
        let retries = match raw.retries {
            // RFC 2759 §6 R=1 exists in MS-CHAPv2 (and EAP-MSCHAPv2) only.
            Some(spanned)
                if spanned.value > 0 && !matches!(auth, AuthMode::MsChapV2 | AuthMode::Eap) =>
            {
                return Err(invalid(
                    Some(&spanned.referenced),
                    format!("retries: only MS-CHAPv2 can invite a retry (auth is {auth})"),
                ));
            }
            Some(spanned) => spanned.value,
            None => 0,
        };
        let dns = match raw.dns {
            Some(spanned) if spanned.value.len() > 2 => {
                return Err(invalid(
                    Some(&spanned.referenced),
                    format!(
                        "dns: at most two servers (primary and secondary), got {}",
                        spanned.value.len()
                    ),
                ));
            }
            Some(spanned) => spanned.value,
            None => Vec::new(),
        };
        let eap = match raw.eap {
            Some(spanned) if auth != AuthMode::Eap => {
                return Err(invalid(
                    Some(&spanned.referenced),
                    format!("eap: only applies to `auth: eap` (auth is {auth})"),
                ));
            }
            Some(spanned) if spanned.value.methods.is_empty() => {
                return Err(invalid(
                    Some(&spanned.referenced),
                    "eap: `methods` needs at least one of md5, mschapv2, gtc",
                ));
            }
            Some(spanned) => spanned.value,
            None => EapScript::default(),
        };
        let login = match raw.login {
            Some(spanned) if spanned.value.users.is_empty() => {
                return Err(invalid(
                    Some(&spanned.referenced),
                    "login: needs at least one account under its `users:`",
                ));
            }
            Some(spanned) if spanned.value.attempts == 0 => {
                return Err(invalid(
                    Some(&spanned.referenced),
                    "login: `attempts` must be at least 1",
                ));
            }
            Some(spanned) => Some(spanned.value),
            None => None,
        };
        let faults = Faults::from_steps(raw.faults.unwrap_or_default())?;
        Ok(Script {
            auth,
            users,
            retries,
            address: raw.address,
            dns,
            faults,
            callback: raw.callback,
            callback_delay: raw.callback_delay,
            eap,
            login,
            multilink: raw.multilink,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every form the hand-written users schema admits is read by `deserialize_users`.
    #[test]
    fn users_schema_in_step() {
        let schema = schemars::schema_for!(Script);
        let forms = &schema.as_value()["$defs"]["Users"]["additionalProperties"]["anyOf"];
        assert_eq!(
            forms[0]["type"].to_string(),
            r#"["string","integer"]"#,
            "{forms}"
        );
        assert_eq!(forms[1]["$ref"], "#/$defs/Account", "{forms}");
        let script =
            Script::from_yaml("users: {a: text, b: 1234, c: {password: pw, fail: 1}}\n").unwrap();
        assert_eq!(script.users["b"].password, "1234");
        assert_eq!(script.users["c"].fail, 1);
    }

    #[test]
    fn full_script() {
        let script = Script::from_yaml(
            "auth: pap\nusers:\n  alice: secret\naddress:\n  server: 192.0.2.1\n  client: 192.0.2.9\ndns: [192.0.2.53, 192.0.2.54]\n",
        )
        .unwrap();
        assert_eq!(script.auth, AuthMode::Pap);
        assert_eq!(
            script.users.get("alice"),
            Some(&Account::with_password("secret"))
        );
        assert_eq!(script.address.client, Ipv4Addr::new(192, 0, 2, 9));
        assert_eq!(script.dns.len(), 2);
    }

    #[test]
    fn defaults() {
        let script = Script::from_yaml("users: {bob: pw}\n").unwrap();
        assert_eq!(script.auth, AuthMode::Pap);
        assert_eq!(script.address, AddressPlan::default());
        assert!(script.dns.is_empty());
        assert_eq!(Script::from_yaml("auth: none\n").unwrap().users.len(), 0);
    }

    #[test]
    fn unknown_keys_are_rejected_with_a_position() {
        let error = Script::from_yaml("auth: none\nadress:\n  client: 10.0.0.3\n").unwrap_err();
        assert!(
            matches!(error, ScriptError::Syntax { line: Some(2), .. }),
            "{error}"
        );
    }

    #[test]
    fn incomplete_scripts_say_why() {
        let error = Script::from_yaml("auth: chap-md5\n").unwrap_err();
        assert_eq!(error.location(), Some((1, Some(7))));
        assert!(error.to_string().contains("chap-md5 needs"), "{error}");
        assert!(
            Script::from_yaml("auth: mschapv2\n")
                .unwrap_err()
                .to_string()
                .contains("mschapv2")
        );
        assert!(
            Script::from_yaml("auth: pap\n")
                .unwrap_err()
                .to_string()
                .contains("users")
        );
        let error =
            Script::from_yaml("auth: none\ndns: [1.1.1.1, 1.0.0.1, 8.8.8.8]\n").unwrap_err();
        assert_eq!(error.location().map(|l| l.0), Some(2));
        assert!(matches!(
            Script::from_yaml("auth: none\ndns: [not-an-address]\n"),
            Err(ScriptError::Syntax { .. })
        ));
    }

    #[test]
    fn accounts_short_and_full() {
        let script = Script::from_yaml(
            "auth: mschapv2\nretries: 2\nusers:\n  alice: secret\n  pin: 1234\n  bob: {password: pw, fail: 2}\n  carol:\n    password: old\n    outcome: expired\n  dave: {password: pw, outcome: no-dial-in}\n",
        )
        .unwrap();
        assert_eq!(script.auth, AuthMode::MsChapV2);
        assert_eq!(script.retries, 2);
        assert_eq!(script.users["pin"], Account::with_password("1234"));
        assert_eq!(
            script.users["bob"],
            Account {
                password: "pw".into(),
                fail: 2,
                outcome: AccountOutcome::Accept,
                callback: None,
                tokens: Vec::new(),
            }
        );
        assert_eq!(script.users["carol"].outcome, AccountOutcome::Expired);
        assert_eq!(script.users["dave"].outcome, AccountOutcome::NoDialIn);
    }

    #[test]
    fn callback_privileges_default_and_per_account() {
        let script = Script::from_yaml(
            "users:\n  a: pw\n  b: {password: pw, callback: caller-set}\n  c: {password: pw, callback: none}\ncallback: {server-set: \"5550100\", never: true}\ncallback-delay: 7\n",
        )
        .unwrap();
        assert_eq!(script.callback_delay, 7);
        assert_eq!(
            script.callback.privilege,
            CallbackPrivilege::AdminSet {
                number: "5550100".into()
            }
        );
        assert!(script.callback.never && !script.callback.busy_callee);
        assert_eq!(script.users["a"].callback, None);
        assert_eq!(
            script.users["b"].callback.as_ref().map(|c| &c.privilege),
            Some(&CallbackPrivilege::CallerSet)
        );
        assert_eq!(
            script.users["c"].callback.as_ref().map(|c| &c.privilege),
            Some(&CallbackPrivilege::NoCallback)
        );
        assert_eq!(Script::default().callback, Callback::default());
        for bad in [
            "callback: sometimes\nauth: none\n",
            "callback: {server-set: \"1\", caller-set: true}\nauth: none\n",
            "callback: {server-set: \"\"}\nauth: none\n",
            "callback: {never: true}\nauth: none\n",
            "callback: {server-set: \"1\", nevr: true}\nauth: none\n",
        ] {
            assert!(Script::from_yaml(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn account_mistakes_are_positioned() {
        // An unknown account key, and an unknown outcome, say where.
        let error = Script::from_yaml("users:\n  bob: {password: pw, fial: 2}\n").unwrap_err();
        assert!(
            matches!(error, ScriptError::Syntax { line: Some(2), .. }),
            "{error}"
        );
        assert!(error.to_string().contains("fial"), "{error}");
        let error = Script::from_yaml("users:\n  bob:\n    password: pw\n    outcome: locked\n")
            .unwrap_err();
        assert!(
            matches!(error, ScriptError::Syntax { line: Some(4), .. }),
            "{error}"
        );
        assert!(
            Script::from_yaml("users:\n  bob: {fail: 2}\n")
                .unwrap_err()
                .to_string()
                .contains("password")
        );
        // Retries exist in MS-CHAPv2 only.
        let error = Script::from_yaml("users: {a: b}\nretries: 1\n").unwrap_err();
        assert_eq!(error.location(), Some((2, Some(10))));
        assert!(error.to_string().contains("MS-CHAPv2"), "{error}");
    }

    #[test]
    fn eap_section() {
        let script = Script::from_yaml(
            "auth: eap\neap:\n  methods: [gtc, md5]\n  identity-prompt: \"Name:\"\n  notification: Hello\nusers:\n  erin: {password: pw, tokens: [\"314159\", \"271828\"]}\n",
        )
        .unwrap();
        assert_eq!(script.auth, AuthMode::Eap);
        assert_eq!(script.eap.methods, [EapMethodName::Gtc, EapMethodName::Md5]);
        assert_eq!(script.eap.identity_prompt, "Name:");
        assert_eq!(script.eap.notification.as_deref(), Some("Hello"));
        assert_eq!(script.eap.token_prompt, "Token:");
        assert_eq!(script.users["erin"].tokens, ["314159", "271828"]);
        // `eap:` without `auth: eap`, an empty method list, an unknown method.
        let error = Script::from_yaml("users: {a: b}\neap: {methods: [md5]}\n").unwrap_err();
        assert_eq!(error.location().map(|l| l.0), Some(2));
        assert!(error.to_string().contains("auth: eap"), "{error}");
        assert!(
            Script::from_yaml("auth: eap\nusers: {a: b}\neap: {methods: []}\n")
                .unwrap_err()
                .to_string()
                .contains("at least one")
        );
        assert!(matches!(
            Script::from_yaml("auth: eap\nusers: {a: b}\neap: {methods: [leap]}\n"),
            Err(ScriptError::Syntax { line: Some(3), .. })
        ));
    }

    #[test]
    fn login_section() {
        let script =
            Script::from_yaml("auth: none\nlogin:\n  banner: ACME\n  users: {alice: secret}\n")
                .unwrap();
        let login = script.login.unwrap();
        assert_eq!(login.prompt, "login: ");
        assert_eq!(login.password_prompt, "Password: ");
        assert_eq!(login.attempts, 1);
        let error = Script::from_yaml("auth: none\nlogin: {users: {}}\n").unwrap_err();
        assert_eq!(error.location().map(|l| l.0), Some(2));
        assert!(matches!(
            Script::from_yaml("auth: none\nlogin: {users: {a: b}, colour: red}\n"),
            Err(ScriptError::Syntax { line: Some(2), .. })
        ));
    }
}
