//! rasdial's command line (ras-reference §5.1), exit statuses and progress lines (§5.2):
//! pure functions, so the tests need no modem.

use std::ffi::OsString;
use std::path::PathBuf;

use ras_engine::ras::{RasConnState, RasError};

/// The usage text (`rasdial /?`).
pub const USAGE: &str = "\
USAGE:
        rasdial entryname [username [password|*]] [/DOMAIN:domain]
                [/PHONE:phonenumber] [/CALLBACK:callbacknumber]
                [/PHONEBOOK:phonebookfile] [/PREFIXSUFFIX]

        rasdial [entryname] /DISCONNECT

        rasdial

Dials a phonebook entry (rasphone.pbk format) with the ras-engine and stays in the
foreground holding the connection; Ctrl+C (SIGINT) or SIGTERM hangs up.

  entryname         The entry to dial (compared case-insensitively).
  username          User name for authentication (PAP/CHAP).
  password          Its password; * asks for it on the terminal without echo.
                    There is no saved-credentials store: omitted means empty.
  /DOMAIN:d         Authentication domain.
  /PHONE:n          Dial n instead of the entry's numbers.
  /CALLBACK:n       Callback number.
  /PHONEBOOK:file   Phonebook file. Default: $XDG_CONFIG_HOME/ras/rasphone.pbk,
                    or ~/.config/ras/rasphone.pbk when XDG_CONFIG_HOME is unset.
  /PREFIXSUFFIX     Apply the dialing prefix and suffix.
  /DISCONNECT       Hang up the entry's connection.
  /?                This text (also -h, --help).

Switches are case-insensitive and may be abbreviated to any unique prefix (/DISC, /PHONEB).

Connections belong to the rasdial process that dialed them: another rasdial process,
such as `rasdial` alone or `rasdial ENTRY /DISCONNECT`, sees none (it prints
`No connections`). To hang up, stop the dialing process (Ctrl+C, or kill -TERM).

Environment:
  RAS_TIME_SCALE    Factor applied to every protocol timer and deadline (LCP restart, the
                    modem response timeout, the PPP deadline), from 0.0001 to 1000;
                    default 1 (real time). Tests against modem-sim use the simulator's
                    --time-scale. rasdial models no delays of its own: a simulated
                    modem's dialling and line are modem-sim's --delay-scale, which may be
                    0 (an instant modem) while the timers stay generous, e.g.
                    `modem-sim --time-scale 0.05 --delay-scale 0` with RAS_TIME_SCALE=0.05.

Exit status (Windows rasdial exits with the RAS error number itself, which does not
fit in a Linux 8-bit status):
  0                 Success.
  1-254             RAS error 600 + status: 23 = 623 (entry not found), 76 = 676
                    (line busy), 78 = 678 (no answer), 91 = 691 (authentication).
  255               Any other error (a bad command line, an error outside 601-854);
                    the printed `Remote Access error NNN` line says which.
";

/// How to get the password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Password {
    /// Not given: empty (there are no saved credentials to fall back on).
    Omitted,
    /// Given on the command line.
    Given(String),
    /// `*`: ask on the terminal.
    Prompt,
}

/// What to dial (`rasdial ENTRY …`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dial {
    /// `szEntryName`.
    pub entry: String,
    /// `szUserName`.
    pub user: String,
    /// `szPassword`.
    pub password: Password,
    /// `/DOMAIN:` → `szDomain`.
    pub domain: String,
    /// `/PHONE:` → `szPhoneNumber`.
    pub phone: String,
    /// `/CALLBACK:` → `szCallbackNumber`.
    pub callback: String,
    /// `/PHONEBOOK:` → `lpszPhonebook`.
    pub phonebook: Option<PathBuf>,
    /// `/PREFIXSUFFIX` → `RDEOPT_UsePrefixSuffix`.
    pub prefix_suffix: bool,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `/?`: print the usage.
    Help,
    /// No arguments: list the connections.
    List,
    /// `[ENTRY] /DISCONNECT`.
    Disconnect {
        /// The entry to hang up; `None` means every connection.
        entry: Option<String>,
    },
    /// Dial an entry.
    Dial(Dial),
}

/// A command line that does not fit the syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsageError {
    /// An argument that is not valid UTF-8.
    #[error("argument {0:?} is not valid UTF-8")]
    NotUtf8(OsString),
    /// `/SOMETHING` we do not know.
    #[error("unknown switch `{0}`")]
    UnknownSwitch(String),
    /// A prefix of more than one switch.
    #[error("`{0}` is ambiguous: it abbreviates more than one switch")]
    AmbiguousSwitch(String),
    /// `/PHONE` without `:number`, or with an empty one.
    #[error("`/{0}` needs a value: /{0}:value")]
    MissingValue(&'static str),
    /// A value given to a switch that takes none.
    #[error("`/{0}` takes no value")]
    UnexpectedValue(&'static str),
    /// More than entry, user and password.
    #[error("too many arguments: `{0}` (expected entryname [username [password|*]])")]
    TooManyArguments(String),
    /// `/DISCONNECT` with a user, password or dial switch.
    #[error("/DISCONNECT takes only an entry name")]
    DisconnectArguments,
    /// Dial switches without an entry name.
    #[error("an entry name is needed before username, password and dial switches")]
    NoEntry,
}

/// The switches, as written in the usage text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Switch {
    Domain,
    Phone,
    Callback,
    Phonebook,
    PrefixSuffix,
    Disconnect,
    Help,
}

const SWITCHES: &[(&str, Switch)] = &[
    ("DOMAIN", Switch::Domain),
    ("PHONE", Switch::Phone),
    ("CALLBACK", Switch::Callback),
    ("PHONEBOOK", Switch::Phonebook),
    ("PREFIXSUFFIX", Switch::PrefixSuffix),
    ("DISCONNECT", Switch::Disconnect),
    ("?", Switch::Help),
];

/// The switch `name` names: exactly (so `/PHONE` is not `/PHONEBOOK`), or as the unique
/// switch it is a prefix of (`/DISC`) [ours: whether Windows rasdial accepts
/// abbreviations is not documented].
fn switch(name: &str) -> Result<(Switch, &'static str), UsageError> {
    let exact = SWITCHES
        .iter()
        .find(|(full, _)| full.eq_ignore_ascii_case(name));
    if let Some(&(full, switch)) = exact {
        return Ok((switch, full));
    }
    let mut matches = SWITCHES.iter().filter(|(full, _)| {
        !name.is_empty()
            && full.len() > name.len()
            && full.as_bytes()[..name.len()].eq_ignore_ascii_case(name.as_bytes())
    });
    match (matches.next(), matches.next()) {
        (Some(&(full, switch)), None) => Ok((switch, full)),
        (Some(_), Some(_)) => Err(UsageError::AmbiguousSwitch(format!("/{name}"))),
        _ => Err(UsageError::UnknownSwitch(format!("/{name}"))),
    }
}

/// Parse rasdial's arguments (without the program name). Switches start with `/`;
/// everything else is, in order, the entry name, the user name and the password.
pub fn parse_args<I>(args: I) -> Result<Command, UsageError>
where
    I: IntoIterator,
    I::Item: Into<OsString>,
{
    let mut positional: Vec<String> = Vec::new();
    let mut dial = Dial {
        entry: String::new(),
        user: String::new(),
        password: Password::Omitted,
        domain: String::new(),
        phone: String::new(),
        callback: String::new(),
        phonebook: None,
        prefix_suffix: false,
    };
    let mut disconnect = false;
    let mut dial_switch = false;
    let mut any = false;
    for arg in args {
        any = true;
        let arg = arg.into().into_string().map_err(UsageError::NotUtf8)?;
        if matches!(arg.as_str(), "-h" | "--help" | "-?") {
            return Ok(Command::Help);
        }
        let Some(rest) = arg.strip_prefix('/') else {
            positional.push(arg);
            continue;
        };
        let (name, given) = match rest.split_once(':') {
            Some((name, given)) => (name, Some(given)),
            None => (rest, None),
        };
        let (switch, full) = switch(name)?;
        let value = || match given {
            Some(given) if !given.is_empty() => Ok(given.to_owned()),
            _ => Err(UsageError::MissingValue(full)),
        };
        let no_value = || match given {
            None => Ok(()),
            Some(_) => Err(UsageError::UnexpectedValue(full)),
        };
        match switch {
            Switch::Help => return Ok(Command::Help),
            Switch::Disconnect => {
                no_value()?;
                disconnect = true;
            }
            Switch::PrefixSuffix => {
                no_value()?;
                dial.prefix_suffix = true;
                dial_switch = true;
            }
            Switch::Domain => (dial.domain, dial_switch) = (value()?, true),
            Switch::Phone => (dial.phone, dial_switch) = (value()?, true),
            Switch::Callback => (dial.callback, dial_switch) = (value()?, true),
            Switch::Phonebook => dial.phonebook = Some(PathBuf::from(value()?)),
        }
    }
    if !any {
        return Ok(Command::List);
    }
    let mut positional = positional.into_iter();
    let entry = positional.next();
    if disconnect {
        if positional.next().is_some() || dial_switch {
            return Err(UsageError::DisconnectArguments);
        }
        return Ok(Command::Disconnect { entry });
    }
    dial.entry = entry.ok_or(UsageError::NoEntry)?;
    if let Some(user) = positional.next() {
        dial.user = user;
    }
    dial.password = match positional.next() {
        Some(star) if star == "*" => Password::Prompt,
        Some(password) => Password::Given(password),
        None => Password::Omitted,
    };
    if let Some(extra) = positional.next() {
        return Err(UsageError::TooManyArguments(extra));
    }
    Ok(Command::Dial(dial))
}

/// The process exit status for a RAS error: `code - 600` for 601..=854 (so 623 → 23,
/// 676 → 76, 691 → 91), 255 for anything else (including the Win32 codes such as 87
/// ERROR_INVALID_PARAMETER for a bad command line). Windows rasdial exits with the RAS
/// number itself (ras-reference §5.2), which an 8-bit Linux status cannot hold; this
/// mapping keeps every RAS error of the 600–854 range distinct and never gives 0.
pub fn exit_status(error: RasError) -> u8 {
    match error.code() {
        code @ 601..=854 => u8::try_from(code - 600).unwrap_or(u8::MAX),
        _ => u8::MAX,
    }
}

/// The line rasdial prints on entering `state` (ras-reference §5.2, and `Dialing...` for
/// the modem's dial), if any. Other states pass silently.
///
/// | state       | line                                          |
/// |-------------|-----------------------------------------------|
/// | OpenPort    | `Connecting to ENTRY...`                      |
/// | ConnectDevice | `Dialing...`                                |
/// | Authenticate | `Verifying username and password...`         |
/// | AuthProject | `Registering your computer on the network...` |
/// | PrepareForCallback | `Preparing for callback...`            |
/// | WaitForCallback | `Waiting for callback...`                 |
/// | ReAuthenticate | `Verifying username and password...`       |
/// | Connected   | `Connected to ENTRY.`                         |
///
/// The callback lines are [inferred]: §5.2 records no callback transcript; they follow the
/// state names, and the callback's authentication prints the same line as the first.
pub fn progress_line(state: RasConnState, entry: &str) -> Option<String> {
    Some(match state {
        RasConnState::OpenPort => format!("Connecting to {entry}..."),
        RasConnState::ConnectDevice => "Dialing...".to_owned(),
        RasConnState::Authenticate | RasConnState::ReAuthenticate => {
            "Verifying username and password...".to_owned()
        }
        RasConnState::PrepareForCallback => "Preparing for callback...".to_owned(),
        RasConnState::WaitForCallback => "Waiting for callback...".to_owned(),
        RasConnState::AuthProject => "Registering your computer on the network...".to_owned(),
        RasConnState::Connected => format!("Connected to {entry}."),
        _ => return None,
    })
}

/// The failure line: `Remote Access error NNN - text` (ras-reference §5.2).
pub fn error_line(error: RasError) -> String {
    let text = error.description().unwrap_or("Unknown error.");
    format!("Remote Access error {} - {text}", error.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Command, UsageError> {
        parse_args(args.iter().copied())
    }

    fn dial(args: &[&str]) -> Dial {
        match parse(args) {
            Ok(Command::Dial(dial)) => dial,
            other => panic!("{args:?}: {other:?}"),
        }
    }

    #[test]
    fn no_arguments_lists_and_help_is_help() {
        assert_eq!(parse(&[]), Ok(Command::List));
        for args in [&["/?"][..], &["-?"], &["-h"], &["--help"], &["ISP", "/?"]] {
            assert_eq!(parse(args), Ok(Command::Help), "{args:?}");
        }
    }

    #[test]
    fn full_dial_line() {
        let d = dial(&[
            "My ISP",
            "alice",
            "s3cret",
            "/domain:CORP",
            "/PHONE:5550100",
            "/CallBack:5550199",
            "/phonebook:/tmp/x.pbk",
            "/PREFIXSUFFIX",
        ]);
        assert_eq!(
            d,
            Dial {
                entry: "My ISP".into(),
                user: "alice".into(),
                password: Password::Given("s3cret".into()),
                domain: "CORP".into(),
                phone: "5550100".into(),
                callback: "5550199".into(),
                phonebook: Some(PathBuf::from("/tmp/x.pbk")),
                prefix_suffix: true,
            }
        );
    }

    #[test]
    fn entry_alone_and_password_prompt() {
        let d = dial(&["ISP"]);
        assert_eq!((d.user.as_str(), &d.password), ("", &Password::Omitted));
        assert_eq!(dial(&["ISP", "bob", "*"]).password, Password::Prompt);
        // Switches may come first; a Windows-style path after the colon is kept whole.
        let d = dial(&["/PHONEBOOK:C:\\pbk\\rasphone.pbk", "ISP"]);
        assert_eq!(d.phonebook, Some(PathBuf::from("C:\\pbk\\rasphone.pbk")));
    }

    #[test]
    fn switch_names_and_abbreviations() {
        assert_eq!(dial(&["ISP", "/PHONE:1"]).phone, "1", "exact beats prefix");
        assert_eq!(
            dial(&["ISP", "/PHONEB:a.pbk"]).phonebook,
            Some(PathBuf::from("a.pbk"))
        );
        assert_eq!(dial(&["ISP", "/dom:X"]).domain, "X");
        assert_eq!(
            parse(&["ISP", "/disc"]),
            Ok(Command::Disconnect {
                entry: Some("ISP".into())
            })
        );
        assert_eq!(
            parse(&["ISP", "/D"]),
            Err(UsageError::AmbiguousSwitch("/D".into())),
            "DOMAIN or DISCONNECT"
        );
        assert_eq!(
            parse(&["ISP", "/P:1"]),
            Err(UsageError::AmbiguousSwitch("/P".into()))
        );
        assert_eq!(
            parse(&["ISP", "/FOO"]),
            Err(UsageError::UnknownSwitch("/FOO".into()))
        );
        assert_eq!(
            parse(&["ISP", "/PHONE"]),
            Err(UsageError::MissingValue("PHONE"))
        );
        assert_eq!(
            parse(&["ISP", "/PHONEBOOK:"]),
            Err(UsageError::MissingValue("PHONEBOOK"))
        );
        assert_eq!(
            parse(&["ISP", "/DISCONNECT:now"]),
            Err(UsageError::UnexpectedValue("DISCONNECT"))
        );
    }

    #[test]
    fn disconnect_forms() {
        assert_eq!(
            parse(&["/DISCONNECT"]),
            Ok(Command::Disconnect { entry: None })
        );
        assert_eq!(
            parse(&["isp", "/disconnect", "/PHONEBOOK:x.pbk"]),
            Ok(Command::Disconnect {
                entry: Some("isp".into())
            })
        );
        assert_eq!(
            parse(&["isp", "bob", "/DISCONNECT"]),
            Err(UsageError::DisconnectArguments)
        );
        assert_eq!(
            parse(&["/DISCONNECT", "/PHONE:1"]),
            Err(UsageError::DisconnectArguments)
        );
    }

    #[test]
    fn bad_positionals() {
        assert_eq!(
            parse(&["ISP", "u", "p", "extra"]),
            Err(UsageError::TooManyArguments("extra".into()))
        );
        assert_eq!(parse(&["/PHONE:1"]), Err(UsageError::NoEntry));
    }

    #[test]
    fn exit_status_mapping() {
        assert_eq!(exit_status(RasError::ERROR_CANNOT_OPEN_PHONEBOOK), 21);
        assert_eq!(exit_status(RasError::ERROR_CANNOT_FIND_PHONEBOOK_ENTRY), 23);
        assert_eq!(exit_status(RasError::ERROR_CORRUPT_PHONEBOOK), 25);
        assert_eq!(exit_status(RasError::ERROR_LINE_BUSY), 76);
        assert_eq!(exit_status(RasError::ERROR_AUTHENTICATION_FAILURE), 91);
        assert_eq!(exit_status(RasError::from_code(601)), 1);
        assert_eq!(exit_status(RasError::from_code(854)), 254);
        for other in [0, 87, 600, 855, 878, 6, 1000, u32::MAX] {
            assert_eq!(exit_status(RasError::from_code(other)), 255, "{other}");
        }
        // Distinct for every RAS number in range, and never success.
        let statuses: std::collections::HashSet<u8> = (601..=854)
            .map(|c| exit_status(RasError::from_code(c)))
            .collect();
        assert_eq!(statuses.len(), 254);
        assert!(!statuses.contains(&0) && !statuses.contains(&255));
    }

    #[test]
    fn progress_and_error_lines() {
        assert_eq!(
            progress_line(RasConnState::OpenPort, "ISP").as_deref(),
            Some("Connecting to ISP...")
        );
        assert_eq!(
            progress_line(RasConnState::Connected, "ISP").as_deref(),
            Some("Connected to ISP.")
        );
        assert_eq!(progress_line(RasConnState::PortOpened, "ISP"), None);
        assert_eq!(
            progress_line(RasConnState::WaitForCallback, "ISP").as_deref(),
            Some("Waiting for callback...")
        );
        assert_eq!(
            progress_line(RasConnState::ReAuthenticate, "ISP"),
            progress_line(RasConnState::Authenticate, "ISP")
        );
        assert_eq!(progress_line(RasConnState::WaitForModemReset, "ISP"), None);
        let busy = error_line(RasError::ERROR_LINE_BUSY);
        assert!(busy.starts_with("Remote Access error 676 - "), "{busy}");
        assert!(busy.ends_with(RasError::ERROR_LINE_BUSY.description().unwrap_or("?")));
        assert_eq!(
            error_line(RasError::from_code(9999)),
            "Remote Access error 9999 - Unknown error."
        );
    }
}
