//! `rasdial`: the Windows command-line dialer (ras-reference §5) over the ras-engine.
//!
//! `rasdial ENTRY [USER [PASSWORD|*]] [/DOMAIN:D] [/PHONE:N] [/CALLBACK:N]
//! [/PHONEBOOK:FILE] [/PREFIXSUFFIX]` dials and, once connected, stays in the foreground
//! holding the connection until SIGINT or SIGTERM, then hangs up and exits 0.
//! `rasdial [ENTRY] /DISCONNECT` and `rasdial` alone work on this process's connections,
//! which for a fresh process means none (see the usage text in [`cli::USAGE`]).
//!
//! Output follows §5.2: a progress line per state (see [`cli::progress_line`]),
//! `Command completed successfully.` on success, `Remote Access error NNN - text` on
//! failure. The exit status is [`cli::exit_status`] of the error: `code - 600` for RAS
//! errors 601–854, 255 for anything else.
//!
//! The engine runs in real time unless `RAS_TIME_SCALE` says otherwise (tests against
//! `modem-sim` use the simulator's factor).

mod cli;

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::time::Duration;

use cli::{Command, Dial, Password};
use ras_engine::api::{
    DialExtensions, DialParams, EngineConfig, HRasConn, Notifier, NotifyControl, Ras, rdeopt,
};
use ras_engine::phonebook::Phonebook;
use ras_engine::ras::{RasConnState, RasError};
use rustix::termios::{LocalModes, OptionalActions, Termios, tcgetattr, tcsetattr};
use tokio::signal::unix::{Signal, SignalKind, signal};

/// How often a held connection is checked for having dropped.
const LINK_CHECK_INTERVAL: Duration = Duration::from_millis(500);

fn main() -> ExitCode {
    let command = match cli::parse_args(std::env::args_os().skip(1)) {
        Ok(command) => command,
        Err(error) => {
            complain(format_args!("{error}\n\n{}", cli::USAGE));
            return ExitCode::from(cli::exit_status(RasError::ERROR_INVALID_PARAMETER));
        }
    };
    let time_scale = match ras_engine::env::time_scale_from_env() {
        Ok(scale) => scale,
        Err(error) => {
            complain(format_args!("RAS_TIME_SCALE: {error}"));
            return ExitCode::from(cli::exit_status(RasError::ERROR_INVALID_PARAMETER));
        }
    };
    let ras = Ras::new(EngineConfig {
        time_scale,
        ..EngineConfig::default()
    });
    match command {
        Command::Help => {
            say(cli::USAGE.trim_end());
            ExitCode::SUCCESS
        }
        Command::List => list(&ras),
        Command::Disconnect { entry } => disconnect(&ras, entry.as_deref()),
        Command::Dial(args) => dial(&ras, args),
    }
}

/// Print a line on stdout; a closed stdout is not worth a panic.
fn say(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

/// Print `rasdial: MESSAGE` on stderr. A reader that went away (`2>&1 | head -1`) must not
/// turn the documented exit status into a panic's 101 (issue 16 #2), so write errors are
/// dropped, as for [`say`].
fn complain(message: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "rasdial: {message}");
}

/// Before a port error's `Remote Access error` line, say what is wrong with the port
/// (issue 16 #15: `Port=/dev/null` or a folder used to give 692 and nothing else).
fn explain_port(error: RasError, device: Option<&std::path::Path>) {
    let port_error = [
        RasError::ERROR_PORT_NOT_FOUND,
        RasError::ERROR_PORT_NOT_AVAILABLE,
        RasError::ERROR_PORT_OR_DEVICE,
    ]
    .contains(&error);
    if let (true, Some(device)) = (port_error, device)
        && let Err(problem) = ras_engine::port::check(device)
    {
        complain(format_args!(
            "port {} cannot be used: {problem}",
            device.display()
        ));
    }
}

/// Report `error` the way rasdial does and give its exit status.
fn fail(error: RasError) -> ExitCode {
    say(&cli::error_line(error));
    ExitCode::from(cli::exit_status(error))
}

/// `rasdial`: the connections (`RasEnumConnections`).
fn list(ras: &Ras) -> ExitCode {
    let connections = ras.enum_connections();
    if connections.is_empty() {
        say("No connections");
    } else {
        say("Connected to");
        for connection in connections {
            say(&connection.entry_name);
        }
    }
    say("Command completed successfully.");
    ExitCode::SUCCESS
}

/// `rasdial [ENTRY] /DISCONNECT`: hang up the entry's connections (every connection
/// without an entry). Nothing to hang up is not an error: the entry is not connected,
/// which is what was asked for.
fn disconnect(ras: &Ras, entry: Option<&str>) -> ExitCode {
    let targets: Vec<HRasConn> = ras
        .enum_connections()
        .into_iter()
        .filter(|c| entry.is_none_or(|name| c.entry_name.eq_ignore_ascii_case(name)))
        .map(|c| c.handle)
        .collect();
    match (targets.is_empty(), entry) {
        (true, Some(name)) => say(&format!("You are not connected to {name}.")),
        (true, None) => say("No connections"),
        (false, _) => {
            for handle in targets {
                if let Err(error) = ras.hang_up(handle) {
                    return fail(error);
                }
            }
        }
    }
    say("Command completed successfully.");
    ExitCode::SUCCESS
}

/// `rasdial ENTRY …`: read the phonebook, dial, hold the connection.
fn dial(ras: &Ras, args: Dial) -> ExitCode {
    let path = args
        .phonebook
        .clone()
        .or_else(ras_engine::env::default_phonebook_from_env);
    let Some(path) = path else {
        complain(format_args!(
            "no default phonebook (neither XDG_CONFIG_HOME nor HOME is set); use /PHONEBOOK:file"
        ));
        return fail(RasError::ERROR_CANNOT_OPEN_PHONEBOOK);
    };
    let phonebook = match Phonebook::read(&path) {
        Ok(phonebook) => phonebook,
        Err(error) => {
            complain(format_args!("{error}"));
            return fail(error.ras_error());
        }
    };
    // Rule 29 (ras-reference §4.5) [inferred]: an unattended dialer cannot run an
    // entry's custom dialer, which expects to talk to a user: 755, as the error's text says.
    if let Some(dll) = phonebook
        .entry(&args.entry)
        .and_then(|entry| entry.custom_dial_dll.as_ref())
    {
        eprintln!(
            "rasdial: entry {:?} is dialed by its custom dialer {}",
            args.entry,
            dll.display()
        );
        return fail(RasError::ERROR_CANNOT_DO_CUSTOMDIAL);
    }
    let password = match args.password {
        Password::Omitted => String::new(),
        Password::Given(password) => password,
        // No point asking for the password of an entry that is not there: the dial
        // reports 623 straight away.
        Password::Prompt if phonebook.entry(&args.entry).is_none() => String::new(),
        Password::Prompt => match prompt_password(&args.user, &args.entry) {
            Ok(password) => password,
            Err(error) => {
                complain(format_args!("cannot read the password: {error}"));
                return fail(RasError::ERROR_INVALID_PARAMETER);
            }
        },
    };
    let params = DialParams {
        entry_name: args.entry.clone(),
        phone_number: args.phone,
        callback_number: args.callback,
        user_name: args.user,
        password,
        domain: args.domain,
        ..DialParams::default()
    };
    let extensions = DialExtensions {
        options: if args.prefix_suffix {
            rdeopt::USE_PREFIX_SUFFIX
        } else {
            0
        },
        ..DialExtensions::default()
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            complain(format_args!("cannot start: {error}"));
            return fail(RasError::ERROR_UNKNOWN);
        }
    };
    runtime.block_on(dial_and_hold(ras, &phonebook, &params, &extensions))
}

/// SIGINT and SIGTERM: either one hangs up.
struct Stop {
    interrupt: Signal,
    terminate: Signal,
}

impl Stop {
    fn install() -> std::io::Result<Self> {
        Ok(Stop {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    async fn requested(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
    }
}

async fn dial_and_hold(
    ras: &Ras,
    phonebook: &Phonebook,
    params: &DialParams,
    extensions: &DialExtensions,
) -> ExitCode {
    // Installed before dialing, so that Ctrl+C during the dial hangs up cleanly too.
    let mut stop = match Stop::install() {
        Ok(stop) => stop,
        Err(error) => {
            complain(format_args!("cannot handle signals: {error}"));
            return fail(RasError::ERROR_UNKNOWN);
        }
    };
    let entry = params.entry_name.as_str();
    let device = phonebook.entry(entry).map(|e| e.device.as_path());
    // The notifier runs on the dial's thread (ras-reference §4.1 rule 7): hand each
    // notification over to this one.
    let (tx, mut notifications) = tokio::sync::mpsc::unbounded_channel();
    let notifier = Notifier::Func2(Box::new(move |_, _, _, _, state, error, _| {
        let _ = tx.send((state, error));
        NotifyControl::Continue
    }));
    let handle = match ras.dial(Some(extensions), phonebook, params, Some(notifier)) {
        Ok(handle) => handle,
        Err(error) => {
            // §4.2 rule 12: a handle set by a failed dial must still be hung up.
            if let Some(handle) = error.handle {
                let _ = ras.hang_up(handle);
            }
            explain_port(error.error, device);
            return fail(error.error);
        }
    };
    let mut connecting = false;
    loop {
        tokio::select! {
            notification = notifications.recv() => match notification {
                Some((state, 0)) => {
                    // "Connecting to ENTRY..." once, though each link of a multilink
                    // entry opens its port [inferred].
                    let again = state == RasConnState::OpenPort && std::mem::replace(&mut connecting, true);
                    if let Some(line) = cli::progress_line(state, entry).filter(|_| !again) {
                        say(&line);
                    }
                    if state == RasConnState::Connected {
                        break;
                    }
                }
                // One link of a multilink entry failed, not the dial (ras-reference §4.5
                // rule 26): the others go on.
                Some((RasConnState::SubEntryDisconnected, code)) => {
                    complain(format_args!(
                        "a link failed: {}",
                        RasError::from_code(code)
                    ));
                }
                Some((_, code)) => {
                    let _ = ras.hang_up(handle);
                    explain_port(RasError::from_code(code), device);
                    return fail(RasError::from_code(code));
                }
                None => {
                    // The dial ended without telling us how.
                    let _ = ras.hang_up(handle);
                    return fail(RasError::ERROR_DISCONNECTION);
                }
            },
            () = stop.requested() => {
                let _ = ras.hang_up(handle);
                return fail(RasError::ERROR_USER_DISCONNECTION);
            }
        }
    }
    say("Command completed successfully.");
    let mut check = tokio::time::interval(LINK_CHECK_INTERVAL);
    loop {
        tokio::select! {
            () = stop.requested() => break,
            _ = check.tick() => match ras.connect_status(handle) {
                Ok(status) if status.state == RasConnState::Connected && status.error.is_none() => {}
                Ok(status) => {
                    let _ = ras.hang_up(handle);
                    return fail(status.error.unwrap_or(RasError::ERROR_DISCONNECTION));
                }
                Err(error) => return fail(error),
            },
        }
    }
    let _ = ras.hang_up(handle);
    // Let the link terminate and the port close before the process ends (rule 21).
    let releasing = ras.clone();
    let _ = tokio::task::spawn_blocking(move || releasing.wait_released(handle)).await;
    say(&format!("Disconnected from {entry}."));
    ExitCode::SUCCESS
}

/// Turns terminal echo off for as long as it lives.
struct EchoOff {
    saved: Termios,
}

impl EchoOff {
    fn new() -> std::io::Result<Self> {
        let stdin = std::io::stdin();
        let saved = tcgetattr(&stdin)?;
        let mut quiet = saved.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        // Keep the newline visible so the cursor moves on after Enter.
        quiet.local_modes.insert(LocalModes::ECHONL);
        tcsetattr(&stdin, OptionalActions::Now, &quiet)?;
        Ok(EchoOff { saved })
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        let _ = tcsetattr(std::io::stdin(), OptionalActions::Now, &self.saved);
    }
}

/// `*`: ask for the password on the terminal, without echo when stdin is a terminal
/// (from a pipe, the first line is read as it is).
fn prompt_password(user: &str, entry: &str) -> std::io::Result<String> {
    let stdin = std::io::stdin();
    let echo_off = if stdin.is_terminal() {
        let mut stderr = std::io::stderr();
        write!(
            stderr,
            "Enter the password for {user} to connect to {entry}: "
        )?;
        stderr.flush()?;
        Some(EchoOff::new()?)
    } else {
        None
    };
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    drop(echo_off);
    let password = line.trim_end_matches(['\r', '\n']);
    Ok(password.to_owned())
}
