//! The modem itself: a sans-IO V.250 DCE (DESIGN §2). The DTE side is the
//! [`sansio::Machine`] impl (bytes from and to the dialer); the line side is
//! [`Modem::handle_line_input`], [`Modem::poll_line_transmit`] and
//! [`Modem::remote_hang_up`].

use std::collections::VecDeque;

use sansio::{Instant, Machine};

use crate::call::{ABORT_GRACE, CallAttempt, CallProgress, Ending, place_call};
use crate::command::{Assembled, Command, DtrMode, LineAssembler, parse};
use crate::escape::EscapeGuard;
use crate::network::{Network, PeerSpec};
use crate::registers::{SRegister, SRegisters};
use crate::result::ResultCode;

/// What the modem reports to its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModemEvent {
    /// A complete command line arrived from the DTE (as `AT…` or `A/`), before it runs.
    CommandLine(String),
    /// The modem issued this result code (also under `ATQ1`, which keeps it off the wire).
    Result(ResultCode),
    /// The carrier is up: the driver must now attach a [`sansio::LinePeer`] for `peer`
    /// and shuttle line bytes, or call [`Modem::remote_hang_up`] if it cannot.
    CallConnected {
        /// The normalised number that was dialled.
        number: String,
        /// The line rate reported in `CONNECT`.
        speed: u32,
        /// What the network says answers.
        peer: PeerSpec,
    },
    /// A connected call is over (either end hung up); the driver drops its peer.
    CallEnded,
}

/// The settings `ATZ` and `AT&F` restore (there is no stored profile yet, so both restore
/// the factory set).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Configuration {
    /// E (V.250 §6.2.4), factory 1.
    echo: bool,
    /// Q (V.250 §6.2.5), factory 0.
    quiet: bool,
    /// V (V.250 §6.2.6), factory 1.
    verbose: bool,
    /// X (V.250 §6.2.7), factory 4: every detection and result code.
    progress: CallProgress,
    /// &D (V.250 §6.2.9), factory 2.
    dtr: DtrMode,
    registers: SRegisters,
}

impl Default for Configuration {
    fn default() -> Self {
        Configuration {
            echo: true,
            quiet: false,
            verbose: true,
            progress: CallProgress::new(4),
            dtr: DtrMode::HangUp,
            registers: SRegisters::default(),
        }
    }
}

/// Which V.250 state the DCE is in.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    /// Command state: bytes from the DTE are command lines.
    Command,
    /// Off-hook, dialling and waiting for the call to complete.
    Dialling(CallAttempt),
    /// Online data state: bytes pass through to the line unchanged, watched for the
    /// escape sequence.
    Online { speed: u32, escape: EscapeGuard },
    /// Online command state: the call stays up while the DTE sends commands. Data from
    /// the far end is discarded meanwhile.
    OnlineCommand { speed: u32 },
}

/// A simulated V.250 modem plugged into a simulated [`Network`].
///
/// Sans-IO: it never reads a clock or a file descriptor. Drive it with
/// [`Machine::handle_input`] (bytes from the DTE), [`Machine::handle_timeout`],
/// [`Modem::handle_line_input`], [`Modem::remote_hang_up`] and [`Modem::dtr_drop`], and
/// drain [`Machine::poll_transmit`] (to the DTE), [`Modem::poll_line_transmit`] (to the
/// far end) and [`Machine::poll_event`].
#[derive(Debug, Clone)]
pub struct Modem {
    network: Network,
    config: Configuration,
    assembler: LineAssembler,
    /// The last command line's body, for `A/` (V.250 §5.2.4).
    last_body: Vec<u8>,
    mode: Mode,
    to_dte: Vec<u8>,
    to_line: Vec<u8>,
    events: VecDeque<ModemEvent>,
}

impl Modem {
    /// A modem on-hook in command state with the factory configuration.
    pub fn new(network: Network) -> Modem {
        Modem {
            network,
            config: Configuration::default(),
            assembler: LineAssembler::default(),
            last_body: Vec::new(),
            mode: Mode::Command,
            to_dte: Vec::new(),
            to_line: Vec::new(),
            events: VecDeque::new(),
        }
    }

    /// Whether a call is connected (online data or online command state).
    pub fn is_online(&self) -> bool {
        matches!(self.mode, Mode::Online { .. } | Mode::OnlineCommand { .. })
    }

    /// Bytes from the far end; in online data state they go to the DTE unchanged.
    /// Ignored in any other state.
    pub fn handle_line_input(&mut self, _now: Instant, bytes: &[u8]) {
        if let Mode::Online { .. } = self.mode {
            self.to_dte.extend_from_slice(bytes);
        }
    }

    /// DTE data for the far end (online data state only), in order.
    pub fn poll_line_transmit(&mut self) -> Option<Vec<u8>> {
        (!self.to_line.is_empty()).then(|| std::mem::take(&mut self.to_line))
    }

    /// The far end dropped the call (or could not be reached after `CONNECT`): the
    /// carrier goes, the DTE gets `NO CARRIER`, and the modem returns to command state.
    pub fn remote_hang_up(&mut self, _now: Instant) {
        if self.is_online() {
            self.end_call();
            self.result(ResultCode::NoCarrier);
        }
    }

    /// The DTE dropped DTR (closed the port), per `&D` (V.250 §6.2.9): `&D0` ignores it,
    /// `&D1` takes a call to online command state, `&D2` clears any call down and returns
    /// to command state. No result code is sent: a DTE without DTR is not listening, and
    /// anything queued for it is discarded so the next program to open the port does not
    /// read it.
    pub fn dtr_drop(&mut self, _now: Instant) {
        match (self.config.dtr, &self.mode) {
            (DtrMode::Ignore, _) => return,
            (DtrMode::OnlineCommand, Mode::Online { speed, .. }) => {
                self.mode = Mode::OnlineCommand { speed: *speed };
            }
            (DtrMode::OnlineCommand, Mode::OnlineCommand { .. }) => {}
            (_, Mode::Online { .. } | Mode::OnlineCommand { .. }) => self.end_call(),
            (_, Mode::Command | Mode::Dialling(_)) => self.mode = Mode::Command,
        }
        self.assembler.reset();
        self.to_dte.clear();
    }

    fn end_call(&mut self) {
        self.mode = Mode::Command;
        self.to_line.clear();
        self.events.push_back(ModemEvent::CallEnded);
    }

    /// Queue a result code in the current format (V.250 §5.7.1): verbose
    /// `S3 S4 text S3 S4`, numeric `code S3`; nothing at all under Q1.
    fn result(&mut self, code: ResultCode) {
        self.result_with_text(code, None);
    }

    /// As [`Modem::result`], with `detail` after the verbose text (`CONNECT 33600`).
    fn result_with_text(&mut self, code: ResultCode, detail: Option<String>) {
        self.events.push_back(ModemEvent::Result(code));
        if self.config.quiet {
            return;
        }
        let cr = self.config.registers.get(SRegister::CommandLineTermination);
        let lf = self.config.registers.get(SRegister::ResponseFormatting);
        if self.config.verbose {
            self.to_dte.extend([cr, lf]);
            self.to_dte.extend_from_slice(code.verbose().as_bytes());
            if let Some(detail) = detail {
                self.to_dte.push(b' ');
                self.to_dte.extend_from_slice(detail.as_bytes());
            }
            self.to_dte.extend([cr, lf]);
        } else {
            // Numeric codes carry no detail: `CONNECT 33600` is plain `1` under V0.
            self.to_dte
                .extend_from_slice(code.numeric().to_string().as_bytes());
            self.to_dte.push(cr);
        }
    }

    /// Queue information text (V.250 §5.7.1): `S3 S4 text S3 S4` verbose, `text S3 S4`
    /// numeric. Q1 does not suppress it.
    fn information_text(&mut self, text: &str) {
        let cr = self.config.registers.get(SRegister::CommandLineTermination);
        let lf = self.config.registers.get(SRegister::ResponseFormatting);
        if self.config.verbose {
            self.to_dte.extend([cr, lf]);
        }
        self.to_dte.extend_from_slice(text.as_bytes());
        self.to_dte.extend([cr, lf]);
    }

    /// One byte from the DTE in command state.
    fn command_byte(&mut self, now: Instant, byte: u8) {
        if self.config.echo {
            self.to_dte.push(byte);
        }
        let termination = self.config.registers.get(SRegister::CommandLineTermination);
        let editing = self.config.registers.get(SRegister::CommandLineEditing);
        match self.assembler.push(byte, termination, editing) {
            None => {}
            Some(Assembled::Repeat) => {
                self.events.push_back(ModemEvent::CommandLine("A/".into()));
                let body = self.last_body.clone();
                self.execute(now, &body);
            }
            Some(Assembled::Line { body, overflowed }) => {
                self.events.push_back(ModemEvent::CommandLine(format!(
                    "AT{}",
                    String::from_utf8_lossy(&body)
                )));
                if overflowed {
                    self.result(ResultCode::Error);
                } else {
                    self.execute(now, &body);
                    self.last_body = body;
                }
            }
        }
    }

    /// Execute a command line's body (V.250 §5.6): left to right, stopping at the first
    /// error; a dial ends the line and its result comes later.
    fn execute(&mut self, now: Instant, body: &[u8]) {
        for command in parse(body) {
            let Ok(command) = command else {
                self.result(ResultCode::Error);
                return;
            };
            match command {
                Command::Echo(on) => self.config.echo = on,
                Command::Quiet(on) => self.config.quiet = on,
                Command::Verbose(on) => self.config.verbose = on,
                Command::ResultCodeSelection(level) => {
                    self.config.progress = CallProgress::new(level)
                }
                Command::DtrBehaviour(mode) => self.config.dtr = mode,
                Command::Reset | Command::FactoryDefaults => {
                    // V.250 §6.1.1: Z also hangs up; so does &F here, as a reset.
                    if self.is_online() {
                        self.end_call();
                    }
                    self.config = Configuration::default();
                }
                Command::DcdBehaviour | Command::DialMethod | Command::Speaker => {}
                Command::HookOn => {
                    if self.is_online() {
                        self.end_call();
                    }
                }
                Command::ReturnOnline => {
                    // V.250 §6.3.7: back to the call, reported as on connecting.
                    let Mode::OnlineCommand { speed } = self.mode else {
                        self.result(ResultCode::NoCarrier);
                        return;
                    };
                    self.go_online(now, speed);
                    return;
                }
                Command::SetRegister(register, value) => {
                    if self.config.registers.set(register, value).is_err() {
                        self.result(ResultCode::Error);
                        return;
                    }
                }
                Command::ReadRegister(register) => {
                    // V.250 §5.3.2: three decimal digits with leading zeros.
                    let text = format!("{:03}", self.config.registers.get(register));
                    self.information_text(&text);
                }
                Command::Dial(_) if self.is_online() => {
                    // One line, one call.
                    self.result(ResultCode::Error);
                    return;
                }
                Command::Dial(dial_string) => {
                    let attempt = place_call(
                        &self.network,
                        &dial_string,
                        &self.config.registers,
                        self.config.progress,
                        now,
                    );
                    self.mode = Mode::Dialling(attempt);
                    return;
                }
            }
        }
        self.result(ResultCode::Ok);
    }

    /// The call attempt is due to end.
    fn complete_call(&mut self, now: Instant, attempt: CallAttempt) {
        match attempt.ending {
            Ending::Fails(code) => {
                self.mode = Mode::Command;
                self.result(code);
            }
            Ending::Connects { speed, peer } => {
                self.go_online(now, speed);
                self.events.push_back(ModemEvent::CallConnected {
                    number: attempt.number,
                    speed,
                    peer,
                });
            }
        }
    }

    /// Enter online data state with `CONNECT [speed]` (the speed from X1 on).
    fn go_online(&mut self, now: Instant, speed: u32) {
        self.mode = Mode::Online {
            speed,
            escape: EscapeGuard::new(now),
        };
        let detail = self
            .config
            .progress
            .extended_codes()
            .then(|| speed.to_string());
        self.result_with_text(ResultCode::Connect, detail);
    }
}

impl Machine for Modem {
    type Event = ModemEvent;

    /// Bytes from the DTE: command lines in command states, data for the far end online
    /// (watched for the `+++` escape, see [`crate::escape`]). While dialling, any byte
    /// arriving after [`ABORT_GRACE`] aborts the attempt with `NO CARRIER` (V.250
    /// §6.3.1); the byte itself is consumed.
    fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        self.handle_timeout(now);
        let escape_character = self.config.registers.get(SRegister::EscapeCharacter);
        let guard = self.config.registers.escape_guard();
        for &byte in bytes {
            match &mut self.mode {
                Mode::Command | Mode::OnlineCommand { .. } => self.command_byte(now, byte),
                Mode::Online { escape, .. } => {
                    escape.byte(now, byte, escape_character, guard);
                    self.to_line.push(byte);
                }
                Mode::Dialling(attempt) => {
                    if now.saturating_duration_since(attempt.started) >= ABORT_GRACE {
                        self.mode = Mode::Command;
                        self.result(ResultCode::NoCarrier);
                    }
                }
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if let Mode::Online { speed, escape } = &self.mode {
            let guard = self.config.registers.escape_guard();
            if escape.completes_at(guard).is_some_and(|at| at <= now) {
                self.mode = Mode::OnlineCommand { speed: *speed };
                self.result(ResultCode::Ok);
            }
            return;
        }
        if !matches!(&self.mode, Mode::Dialling(attempt) if attempt.ends_at <= now) {
            return;
        }
        if let Mode::Dialling(attempt) = std::mem::replace(&mut self.mode, Mode::Command) {
            self.complete_call(now, attempt);
        }
    }

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        (!self.to_dte.is_empty()).then(|| std::mem::take(&mut self.to_dte))
    }

    fn poll_event(&mut self) -> Option<ModemEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match &self.mode {
            Mode::Dialling(attempt) => Some(attempt.ends_at),
            Mode::Online { escape, .. } => {
                escape.completes_at(self.config.registers.escape_guard())
            }
            Mode::Command | Mode::OnlineCommand { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests;
