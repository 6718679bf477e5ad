//! The server script: what the scripted peer does, as YAML.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::fault::{Fault, Faults};

/// Which authentication the server demands (LCP Authentication-Protocol, RFC 1661 §6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMode {
    /// PAP (RFC 1334), the default.
    #[default]
    Pap,
    /// No authentication phase.
    None,
    /// CHAP with MD5 (RFC 1994): accepted spelling, not yet supported.
    ChapMd5,
    /// MS-CHAP-V2 (RFC 2759): accepted spelling, not yet supported.
    #[serde(rename = "mschapv2")]
    MsChapV2,
}

/// Addresses IPCP hands out (RFC 1332 §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
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
/// embedded in a larger YAML document, such as a conformance scenario's `server:`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawScript")]
pub struct Script {
    /// Authentication demanded of the client.
    pub auth: AuthMode,
    /// Accounts: user name → password.
    pub users: BTreeMap<String, String>,
    /// IPCP addresses.
    pub address: AddressPlan,
    /// DNS servers offered (RFC 1877), at most two, primary first.
    pub dns: Vec<Ipv4Addr>,
    /// Deliberate misbehaviour (`faults:`); none by default.
    pub faults: Faults,
}

impl Default for Script {
    /// No authentication, default addresses, no DNS.
    fn default() -> Self {
        Script {
            auth: AuthMode::None,
            users: BTreeMap::new(),
            address: AddressPlan::default(),
            dns: Vec::new(),
            faults: Faults::default(),
        }
    }
}

/// The script as written, with positions for the checks serde cannot express.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawScript {
    auth: Option<Spanned<AuthMode>>,
    users: Option<BTreeMap<String, String>>,
    #[serde(default)]
    address: AddressPlan,
    dns: Option<Spanned<Vec<Ipv4Addr>>>,
    faults: Option<Vec<Spanned<Fault>>>,
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
                address: AddressPlan::default(),
                dns: None,
                faults: None,
            }
        } else {
            serde_saphyr::from_str(text).map_err(|error| {
                let location = error.location();
                ScriptError::Syntax {
                    line: location.map(|l| l.line()),
                    column: location.map(|l| l.column()),
                    message: error.to_string(),
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
        match auth {
            AuthMode::ChapMd5 | AuthMode::MsChapV2 => {
                let name = if auth == AuthMode::ChapMd5 {
                    "chap-md5"
                } else {
                    "mschapv2"
                };
                return Err(invalid(
                    auth_at.as_ref(),
                    format!("auth: {name} is not yet supported by ppp-peer-sim (use pap or none)"),
                ));
            }
            AuthMode::Pap | AuthMode::None => {}
        }
        let users = raw.users.unwrap_or_default();
        if auth != AuthMode::None && users.is_empty() {
            return Err(invalid(
                auth_at.as_ref(),
                "auth: pap needs at least one account under `users:` (or say `auth: none`)",
            ));
        }
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
        let faults = Faults::from_steps(raw.faults.unwrap_or_default())?;
        Ok(Script {
            auth,
            users,
            address: raw.address,
            dns,
            faults,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_script() {
        let script = Script::from_yaml(
            "auth: pap\nusers:\n  alice: secret\naddress:\n  server: 192.0.2.1\n  client: 192.0.2.9\ndns: [192.0.2.53, 192.0.2.54]\n",
        )
        .unwrap();
        assert_eq!(script.auth, AuthMode::Pap);
        assert_eq!(
            script.users.get("alice").map(String::as_str),
            Some("secret")
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
    fn unsupported_and_incomplete_scripts_say_why() {
        let error = Script::from_yaml("users: {a: b}\nauth: chap-md5\n").unwrap_err();
        assert_eq!(error.location(), Some((2, Some(7))));
        assert!(error.to_string().contains("not yet supported"), "{error}");
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
}
