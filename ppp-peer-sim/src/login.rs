//! A terminal server's text login before PPP, as old dial-in servers ran it (and as Windows
//! dial scripts and RASCS_Interactive exist to answer): a banner, a user-name prompt, a
//! password prompt, then PPP on the same line — or "Login incorrect" and, once the
//! attempts are spent, the phone put down.
//!
//! The banner and first prompt go out as soon as the call connects. User names are echoed,
//! passwords are not; a line ends at CR or LF (CR LF counts once); an empty user name just
//! brings the prompt back [inferred: what getty-style servers do].

use std::collections::{BTreeMap, VecDeque};

use schemars::JsonSchema;
use serde::Deserialize;
use tracing::info;

/// `login:` in a server script.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct LoginScript {
    /// The user-name prompt (default `login: `).
    #[serde(default = "default_prompt")]
    pub prompt: String,
    /// The password prompt (default `Password: `).
    #[serde(default = "default_password_prompt")]
    pub password_prompt: String,
    /// Text sent first, before the prompt (default none); a CR LF follows it.
    #[serde(default)]
    pub banner: String,
    /// Terminal accounts: name → password (separate from the PPP `users`).
    pub users: BTreeMap<String, String>,
    /// How many logins may fail before the server hangs up (default 1).
    #[serde(default = "default_attempts")]
    pub attempts: u32,
}

fn default_prompt() -> String {
    "login: ".into()
}

fn default_password_prompt() -> String {
    "Password: ".into()
}

fn default_attempts() -> u32 {
    1
}

/// What the caller has typed so far.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    User,
    Password { user: String },
}

/// How the login stands after some input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginProgress {
    /// Still prompting.
    Pending,
    /// Logged in: PPP starts; `rest` is what the caller sent after the password line.
    LoggedIn {
        /// Bytes for PPP.
        rest: Vec<u8>,
    },
    /// Every attempt failed: hang up (after sending what is queued).
    Refused,
}

/// The login conversation (sans-IO: bytes in, text out).
#[derive(Debug)]
pub struct TerminalLogin {
    script: LoginScript,
    stage: Stage,
    line: Vec<u8>,
    /// The last byte ended a line with CR: an LF right after it is the same line end.
    after_cr: bool,
    failures: u32,
    transmit: VecDeque<Vec<u8>>,
}

impl TerminalLogin {
    /// A login that has sent its banner and first prompt.
    pub fn new(script: LoginScript) -> Self {
        let mut greeting = Vec::new();
        if !script.banner.is_empty() {
            greeting.extend_from_slice(script.banner.as_bytes());
            greeting.extend_from_slice(b"\r\n");
        }
        greeting.extend_from_slice(script.prompt.as_bytes());
        TerminalLogin {
            script,
            stage: Stage::User,
            line: Vec::new(),
            after_cr: false,
            failures: 0,
            transmit: VecDeque::from([greeting]),
        }
    }

    /// Text for the caller.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    /// The caller typed `bytes`.
    pub fn receive(&mut self, bytes: &[u8]) -> LoginProgress {
        for (at, &byte) in bytes.iter().enumerate() {
            let after_cr = std::mem::replace(&mut self.after_cr, byte == b'\r');
            match byte {
                b'\n' if after_cr => {}
                b'\r' | b'\n' => match self.end_of_line() {
                    None => {}
                    Some(true) => {
                        let mut rest = &bytes[at + 1..];
                        if byte == b'\r' {
                            rest = rest.strip_prefix(b"\n".as_slice()).unwrap_or(rest);
                        }
                        return LoginProgress::LoggedIn {
                            rest: rest.to_vec(),
                        };
                    }
                    Some(false) => return LoginProgress::Refused,
                },
                byte => {
                    if self.stage == Stage::User {
                        self.transmit.push_back(vec![byte]);
                    }
                    self.line.push(byte);
                }
            }
        }
        LoginProgress::Pending
    }

    /// A line is complete: `Some(true)` logged in, `Some(false)` refused for good.
    fn end_of_line(&mut self) -> Option<bool> {
        let line = String::from_utf8_lossy(&std::mem::take(&mut self.line)).into_owned();
        self.transmit.push_back(b"\r\n".to_vec());
        match std::mem::replace(&mut self.stage, Stage::User) {
            Stage::User if line.is_empty() => {
                self.transmit
                    .push_back(self.script.prompt.clone().into_bytes());
                None
            }
            Stage::User => {
                self.stage = Stage::Password { user: line };
                self.transmit
                    .push_back(self.script.password_prompt.clone().into_bytes());
                None
            }
            Stage::Password { user } => {
                if self.script.users.get(&user) == Some(&line) {
                    info!(%user, "peer-sim: terminal login accepted");
                    return Some(true);
                }
                self.failures += 1;
                info!(%user, failures = self.failures, "peer-sim: terminal login refused");
                self.transmit.push_back(b"Login incorrect\r\n".to_vec());
                if self.failures >= self.script.attempts {
                    return Some(false);
                }
                self.transmit
                    .push_back(self.script.prompt.clone().into_bytes());
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn login(attempts: u32) -> TerminalLogin {
        TerminalLogin::new(LoginScript {
            prompt: "login: ".into(),
            password_prompt: "Password: ".into(),
            banner: "ACME".into(),
            users: BTreeMap::from([("alice".into(), "secret".into())]),
            attempts,
        })
    }

    fn sent(login: &mut TerminalLogin) -> String {
        let bytes: Vec<u8> = std::iter::from_fn(|| login.poll_transmit())
            .flatten()
            .collect();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn a_good_login_hands_the_rest_to_ppp() {
        let mut login = login(1);
        assert_eq!(sent(&mut login), "ACME\r\nlogin: ");
        assert_eq!(login.receive(b"\r\n"), LoginProgress::Pending);
        assert_eq!(sent(&mut login), "\r\nlogin: ");
        assert_eq!(login.receive(b"alice\r"), LoginProgress::Pending);
        assert_eq!(sent(&mut login), "alice\r\nPassword: ");
        assert_eq!(
            login.receive(b"secret\r\n~\x7d\x23"),
            LoginProgress::LoggedIn {
                rest: b"~\x7d\x23".to_vec()
            }
        );
        assert_eq!(sent(&mut login), "\r\n", "the password is not echoed");
    }

    #[test]
    fn bad_logins_are_refused_after_the_attempts() {
        let mut login = login(2);
        sent(&mut login);
        assert_eq!(login.receive(b"alice\nguess\n"), LoginProgress::Pending);
        assert!(sent(&mut login).ends_with("Login incorrect\r\nlogin: "));
        assert_eq!(login.receive(b"bob\nsecret\n"), LoginProgress::Refused);
        assert!(sent(&mut login).ends_with("Login incorrect\r\n"));
    }

    proptest! {
        /// Any input: no panic, and what PPP gets after a login is the input's own tail.
        #[test]
        fn any_input_is_handled(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..6)) {
            let mut login = login(2);
            for chunk in &chunks {
                match login.receive(chunk) {
                    LoginProgress::Pending => {}
                    LoginProgress::LoggedIn { rest } => {
                        prop_assert!(chunk.ends_with(&rest));
                        break;
                    }
                    LoginProgress::Refused => break,
                }
            }
            while login.poll_transmit().is_some() {}
        }
    }
}
