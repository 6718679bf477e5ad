//! The modem itself: a sans-IO V.250 DCE (DESIGN §2). The DTE side is the
//! [`sansio::Machine`] impl (bytes from and to the dialer); the line side is
//! [`Modem::handle_line_input`], [`Modem::poll_line_transmit`] and
//! [`Modem::remote_hang_up`].

use std::collections::VecDeque;

use sansio::sim::earliest;
use sansio::{DelayScale, Instant, Machine};
use tracing::debug;

use crate::call::{
    ABORT_GRACE, CALLER_PATIENCE, CallAttempt, CallProgress, CallTerms, Ending, HANDSHAKE,
    IncomingCall, RING_CADENCE, place_call,
};
use crate::command::{Assembled, Body, Command, DialTarget, DtrMode, LineAssembler, parse};
use crate::escape::EscapeGuard;
use crate::line::{Channel, SplitMix64};
use crate::network::{Network, PeerSpec, normalise_number};
use crate::registers::{SRegister, SRegisters};
use crate::result::ResultCode;

/// What the modem reports to its driver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModemEvent {
    /// A complete command line arrived from the DTE (as `AT…` or `A/`), before it runs.
    CommandLine(String),
    /// The modem issued this result code (also under `ATQ1`, which keeps it off the wire).
    /// An incoming call shows up as [`ResultCode::Ring`] at each ring.
    Result(ResultCode),
    /// The carrier is up: the driver must now attach a [`sansio::LinePeer`] for `peer`
    /// and shuttle line bytes, or call [`Modem::remote_hang_up`] if it cannot.
    CallConnected {
        /// The normalised number that was dialled (for an answered incoming call, the
        /// number the network called).
        number: String,
        /// The line rate reported in `CONNECT`.
        speed: u32,
        /// What the network says answers.
        peer: PeerSpec,
    },
    /// A connected call is over (either end hung up); the driver drops its peer.
    CallEnded,
}

/// The settings `ATZ` restores from the stored profile and `AT&F` from the factory.
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
    /// &C (V.250 §6.2.8), factory 1.
    dcd_follows_carrier: bool,
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
            dcd_follows_carrier: true,
            dtr: DtrMode::HangUp,
            registers: SRegisters::default(),
        }
    }
}

impl Configuration {
    /// The `&V` lines for this profile: the basic settings, then every S-register.
    fn describe(&self) -> [String; 2] {
        let basic = format!(
            "E{} Q{} V{} X{} &C{} &D{}",
            u8::from(self.echo),
            u8::from(self.quiet),
            u8::from(self.verbose),
            self.progress.level(),
            u8::from(self.dcd_follows_carrier),
            self.dtr.value(),
        );
        let registers = self
            .registers
            .iter()
            .map(|(number, value)| format!("S{number:02}:{value:03}"))
            .collect::<Vec<_>>()
            .join(" ");
        [basic, registers]
    }
}

/// Which V.250 state the DCE is in.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    /// Command state: bytes from the DTE are command lines.
    Command,
    /// Off-hook, dialling (or answering) and waiting for the call to complete.
    Dialling(CallAttempt),
    /// Online data state: bytes pass through to the line, watched for the escape
    /// sequence.
    OnlineData(EscapeGuard),
    /// Online command state: the call stays up while the DTE sends commands. Data from
    /// the far end is discarded meanwhile.
    OnlineCommand,
}

/// The call in progress while the modem is online.
#[derive(Debug, Clone)]
struct ActiveCall {
    terms: CallTerms,
    connected_at: Instant,
    /// Bytes that crossed the line so far, both ways (for `drop-after-bytes`).
    bytes: u64,
    /// When the carrier went, if it did: the modem hangs up S10 later (V.250 §6.3.12).
    carrier_lost_at: Option<Instant>,
    to_far_end: Channel,
    to_dte: Channel,
}

impl ActiveCall {
    /// How many of `len` bytes may still cross before the network drops the call.
    fn allowance(&self, len: usize) -> usize {
        match self.terms.drop_after_bytes {
            Some(limit) => {
                let left = limit.saturating_sub(self.bytes);
                usize::try_from(left).map_or(len, |left| left.min(len))
            }
            None => len,
        }
    }

    /// Whether the network's byte or time limit for the call has been reached.
    fn due_to_drop(&self, now: Instant) -> bool {
        self.terms
            .drop_after_bytes
            .is_some_and(|limit| self.bytes >= limit)
            || self
                .terms
                .drop_after
                .is_some_and(|after| self.connected_at + after <= now)
    }
}

/// An incoming call that is ringing.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Ringing {
    call: IncomingCall,
    next_ring: Instant,
    rings: u8,
}

/// A simulated V.250 modem plugged into a simulated [`Network`].
///
/// Sans-IO: it never reads a clock or a file descriptor. Drive it with
/// [`Machine::handle_input`] (bytes from the DTE), [`Machine::handle_timeout`],
/// [`Modem::handle_line_input`], [`Modem::remote_hang_up`], [`Modem::dtr_drop`] and
/// [`Modem::incoming_call`], and drain [`Machine::poll_transmit`] (to the DTE),
/// [`Modem::poll_line_transmit`] (to the far end) and [`Machine::poll_event`].
#[derive(Debug, Clone)]
pub struct Modem {
    network: Network,
    /// The modem's own number on the network (what a callback calls), normalised.
    number: String,
    config: Configuration,
    /// The profile `ATZ` restores and `AT&W` writes.
    stored: Configuration,
    assembler: LineAssembler,
    /// The last command line's body, for `A/` (V.250 §5.2.4).
    last_body: Body,
    /// The last dial string, for `ATDL`.
    last_dial: Option<String>,
    /// What follows `;` on a dial command line, run once the digits are out.
    resume: Body,
    mode: Mode,
    /// `Some` exactly while the mode is online data or online command.
    call: Option<ActiveCall>,
    /// Off-hook by `ATH1`: incoming calls find the line busy.
    off_hook: bool,
    ringing: Option<Ringing>,
    /// A call the network will place to the modem (a callback).
    scheduled: Option<(Instant, IncomingCall)>,
    faults: SplitMix64,
    /// How long the modeled delays (call progress, rings, S7, S10, the line's rate, the
    /// network's drop and callback) last on this modem's clock. The `+++` guard time is
    /// not one: the dialer keeps it on its own timers.
    delays: DelayScale,
    to_dte: Vec<u8>,
    to_line: Vec<u8>,
    events: VecDeque<ModemEvent>,
}

/// What executing one command means for the rest of its line.
enum Flow {
    /// Go on with the next command.
    Next,
    /// The line's final result comes from elsewhere (a dial, an answer, `ATO`).
    Finished,
}

impl Modem {
    /// A modem on-hook in command state with the factory configuration.
    pub fn new(network: Network) -> Modem {
        let faults = SplitMix64::new(network.line.seed);
        Modem {
            number: network.modem_number(0),
            network,
            config: Configuration::default(),
            stored: Configuration::default(),
            assembler: LineAssembler::default(),
            last_body: Body::new(),
            last_dial: None,
            resume: Body::new(),
            mode: Mode::Command,
            call: None,
            off_hook: false,
            ringing: None,
            scheduled: None,
            faults,
            delays: DelayScale::MODEL,
            to_dte: Vec::new(),
            to_line: Vec::new(),
            events: VecDeque::new(),
        }
    }

    /// The same modem with its modeled delays at `delays` of their model on its clock
    /// ([`sansio::Pace::delays_on_clock`] under a realtime driver; [`DelayScale::INSTANT`]
    /// for a modem that connects at once).
    pub fn with_delays(mut self, delays: DelayScale) -> Modem {
        self.delays = delays;
        self
    }

    /// The scale of this modem's modeled delays, for what its driver schedules on its
    /// behalf (a far end's callback).
    pub fn delays(&self) -> DelayScale {
        self.delays
    }

    /// The same modem with `number` as its own (see [`Network::modem_number`]).
    pub fn with_number(mut self, number: &str) -> Modem {
        self.number = normalise_number(number);
        self
    }

    /// The modem's own number, normalised.
    pub fn number(&self) -> &str {
        &self.number
    }

    /// Whether dialling `dial_string` reaches this modem.
    pub fn owns_number(&self, dial_string: &str) -> bool {
        normalise_number(dial_string) == self.number
    }

    /// The line rate and far end of the call that is up, if one is.
    pub fn call_terms(&self) -> Option<(u32, PeerSpec)> {
        self.call
            .as_ref()
            .map(|call| (call.terms.speed, call.terms.peer.clone()))
    }

    /// The network will call the modem at `at` ([`Modem::incoming_call`] then), as it
    /// does for a far end calling back. A call already scheduled is replaced.
    pub fn schedule_call(&mut self, at: Instant, call: IncomingCall) {
        self.scheduled = Some((at, call));
    }

    /// Whether a call is connected (online data or online command state, including the
    /// S10 wait after the carrier went).
    pub fn is_online(&self) -> bool {
        self.call.is_some()
    }

    /// Whether an incoming call is ringing.
    pub fn is_ringing(&self) -> bool {
        self.ringing.is_some()
    }

    /// The network calls the modem: it rings at once and every [`RING_CADENCE`], sending
    /// `RING` and counting in S1, until the DTE answers (`ATA`), S0 rings pass with S0
    /// set (auto-answer, V.250 §6.3.8), or the caller gives up after
    /// [`CALLER_PATIENCE`] rings. A line that is not idle (a call up, dialling, off-hook,
    /// already ringing) is busy to the caller, and the call is lost.
    pub fn incoming_call(&mut self, now: Instant, call: IncomingCall) {
        if self.mode != Mode::Command || self.call.is_some() || self.off_hook || self.is_ringing() {
            debug!(number = %call.number, "incoming call finds the line busy");
            return;
        }
        self.ringing = Some(Ringing {
            call,
            next_ring: now,
            rings: 0,
        });
        self.ring(now);
    }

    /// Bytes from the far end; in online data state they go to the DTE (through the
    /// line's pacing and faults). Ignored in any other state.
    pub fn handle_line_input(&mut self, now: Instant, bytes: &[u8]) {
        if !matches!(self.mode, Mode::OnlineData(_)) {
            return;
        }
        let Some(call) = self.call.as_mut() else {
            return;
        };
        if call.carrier_lost_at.is_some() {
            return;
        }
        let allowed = call.allowance(bytes.len());
        call.bytes += allowed as u64;
        call.to_dte.send(now, &bytes[..allowed], &mut self.faults);
        self.to_dte.extend(call.to_dte.take(now));
        self.check_drop(now);
    }

    /// DTE data for the far end (online data state only), in order.
    pub fn poll_line_transmit(&mut self) -> Option<Vec<u8>> {
        (!self.to_line.is_empty()).then(|| std::mem::take(&mut self.to_line))
    }

    /// The far end dropped the call (or could not be reached after `CONNECT`): the
    /// carrier goes, and after S10 (V.250 §6.3.12) the modem hangs up, sends
    /// `NO CARRIER` and returns to command state. Line data stops at once.
    pub fn remote_hang_up(&mut self, now: Instant) {
        if let Some(call) = self.call.as_mut()
            && call.carrier_lost_at.is_none()
        {
            debug!("carrier lost");
            call.carrier_lost_at = Some(now);
        }
    }

    /// The DTE dropped DTR (closed the port), per `&D` (V.250 §6.2.9): `&D0` ignores it,
    /// `&D1` takes a call to online command state, `&D2` clears any call down and returns
    /// to command state, `&D3` does that and restores the stored profile. No result code
    /// is sent: a DTE without DTR is not listening, and anything queued for it is
    /// discarded so the next program to open the port does not read it.
    pub fn dtr_drop(&mut self, now: Instant) {
        match self.config.dtr {
            DtrMode::Ignore => return,
            DtrMode::OnlineCommand => {
                if let Mode::OnlineData(_) = self.mode {
                    self.mode = Mode::OnlineCommand;
                } else if !self.is_online() {
                    self.mode = Mode::Command;
                }
            }
            DtrMode::HangUp | DtrMode::Reset => {
                self.hang_up(now);
                if self.config.dtr == DtrMode::Reset {
                    self.config = self.stored.clone();
                }
            }
        }
        self.resume.clear();
        self.assembler.reset();
        self.to_dte.clear();
    }

    /// Go on-hook: end any call (or attempt) and return to command state.
    fn hang_up(&mut self, now: Instant) {
        self.off_hook = false;
        self.mode = Mode::Command;
        let Some(call) = self.call.take() else {
            return;
        };
        self.to_line.clear();
        self.events.push_back(ModemEvent::CallEnded);
        if let Some(call_back) = call.terms.call_back {
            self.scheduled = Some((
                now + self.delays.apply(call_back.after),
                IncomingCall {
                    number: call_back.number,
                    speed: call.terms.speed,
                    peer: call.terms.peer,
                },
            ));
        }
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
            let digits = three_digits(code.numeric());
            // No leading zeros; the last digit stays.
            let first = digits[..2]
                .iter()
                .take_while(|&&digit| digit == b'0')
                .count();
            self.to_dte.extend_from_slice(&digits[first..]);
            self.to_dte.push(cr);
        }
    }

    /// Queue information text (V.250 §5.7.1): `S3 S4 text S3 S4` verbose, `text S3 S4`
    /// numeric. Q1 does not suppress it.
    fn information_text(&mut self, text: impl AsRef<[u8]>) {
        let cr = self.config.registers.get(SRegister::CommandLineTermination);
        let lf = self.config.registers.get(SRegister::ResponseFormatting);
        if self.config.verbose {
            self.to_dte.extend([cr, lf]);
        }
        self.to_dte.extend_from_slice(text.as_ref());
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
                let body = self.last_body;
                self.execute(now, body.as_bytes());
            }
            Some(Assembled::Line { body, overflowed }) => {
                self.events.push_back(ModemEvent::CommandLine(format!(
                    "AT{}",
                    String::from_utf8_lossy(body.as_bytes())
                )));
                if overflowed {
                    // V.250 §5.2.1: a line longer than the buffer is an error.
                    self.result(ResultCode::Error);
                } else {
                    self.execute(now, body.as_bytes());
                    self.last_body = body;
                }
            }
        }
    }

    /// Execute a command line's body (V.250 §5.6): left to right, stopping at the first
    /// error; a dial or an answer ends the line and its result comes later.
    fn execute(&mut self, now: Instant, body: &[u8]) {
        let mut commands = parse(body);
        while let Some(command) = commands.next() {
            let flow = match command {
                Ok(command) => self.run(now, command),
                Err(_) => Err(ResultCode::Error),
            };
            match flow {
                Ok(Flow::Next) => {}
                Ok(Flow::Finished) => {
                    self.resume = Body::from_bytes(commands.rest());
                    return;
                }
                Err(code) => {
                    self.result(code);
                    return;
                }
            }
        }
        self.result(ResultCode::Ok);
    }

    /// Run one command; `Err` is the result code that ends the line early.
    fn run(&mut self, now: Instant, command: Command) -> Result<Flow, ResultCode> {
        match command {
            Command::Echo(on) => self.config.echo = on,
            Command::Quiet(on) => self.config.quiet = on,
            Command::Verbose(on) => self.config.verbose = on,
            Command::ResultCodeSelection(level) => self.config.progress = CallProgress::new(level),
            Command::DcdBehaviour(follows) => self.config.dcd_follows_carrier = follows,
            Command::DtrBehaviour(mode) => self.config.dtr = mode,
            Command::Reset => {
                // V.250 §6.1.1: Z hangs up, then restores the stored profile.
                self.hang_up(now);
                self.config = self.stored.clone();
            }
            Command::FactoryDefaults => {
                // V.250 §6.1.2 does not hang up; it only restores the factory settings.
                self.config = Configuration::default();
            }
            Command::StoreProfile => self.stored = self.config.clone(),
            Command::ShowConfiguration => {
                self.information_text("ACTIVE PROFILE:");
                for line in self.config.describe() {
                    self.information_text(&line);
                }
                self.information_text("STORED PROFILE:");
                for line in self.stored.describe() {
                    self.information_text(&line);
                }
            }
            Command::Identification(text) => self.information_text(text),
            Command::DialMethod | Command::Speaker | Command::Accepted => {}
            Command::HookOn => self.hang_up(now),
            Command::HookOff => self.off_hook = true,
            Command::ReturnOnline => {
                // V.250 §6.3.7: back to the call, reported as on connecting.
                if self.mode != Mode::OnlineCommand {
                    return Err(ResultCode::NoCarrier);
                }
                self.go_online(now);
                return Ok(Flow::Finished);
            }
            Command::SetRegister(register, value) => self
                .config
                .registers
                .set(register, value)
                .map_err(|_| ResultCode::Error)?,
            Command::ReadRegister(register) => {
                // V.250 §5.3.2: three decimal digits with leading zeros.
                self.information_text(three_digits(self.config.registers.get(register)));
            }
            Command::Answer => {
                if self.is_online() {
                    return Err(ResultCode::Error);
                }
                self.answer(now);
                return Ok(Flow::Finished);
            }
            Command::Dial { .. } if self.is_online() || self.is_ringing() => {
                // One line, one call.
                return Err(ResultCode::Error);
            }
            Command::Dial {
                target,
                stay_in_command_state,
            } => {
                let dial_string = match target {
                    DialTarget::Number(number) => number,
                    DialTarget::LastNumber => self.last_dial.clone().ok_or(ResultCode::Error)?,
                };
                let mut attempt = place_call(
                    &self.network,
                    &dial_string,
                    stay_in_command_state,
                    &self.config.registers,
                    self.config.progress,
                    now,
                );
                attempt.ends_at = now + self.delays.apply(attempt.ends_at - now);
                self.last_dial = Some(dial_string);
                self.mode = Mode::Dialling(attempt);
                return Ok(Flow::Finished);
            }
        }
        Ok(Flow::Next)
    }

    /// `ATA` (V.250 §6.3.5): pick up a ringing call and train up; with nothing ringing,
    /// listen for a carrier for S7 and give `NO CARRIER`.
    fn answer(&mut self, now: Instant) {
        let attempt = match self.ringing.take() {
            Some(ringing) => {
                self.clear_ring_count();
                CallAttempt {
                    started: now,
                    ends_at: now + self.delays.apply(HANDSHAKE),
                    ending: Ending::Connects(ringing.call.terms()),
                }
            }
            None => CallAttempt {
                started: now,
                ends_at: now
                    + self.delays.apply(
                        self.config
                            .registers
                            .seconds(SRegister::ConnectionCompletionTimeout),
                    ),
                ending: Ending::Fails(ResultCode::NoCarrier),
            },
        };
        self.mode = Mode::Dialling(attempt);
    }

    fn clear_ring_count(&mut self) {
        // S1 is the modem's own counter; 0 is always in range.
        let _ = self.config.registers.set(SRegister::RingCount, 0);
    }

    /// The ring that is due: `RING`, count it, and auto-answer at S0 rings.
    fn ring(&mut self, now: Instant) {
        let Some(ringing) = self.ringing.as_mut() else {
            return;
        };
        if ringing.rings >= CALLER_PATIENCE {
            debug!(number = %ringing.call.number, "caller gave up");
            self.ringing = None;
            self.clear_ring_count();
            return;
        }
        ringing.rings += 1;
        ringing.next_ring = now + self.delays.apply(RING_CADENCE);
        self.config.registers.count_ring();
        self.result(ResultCode::Ring);
        let auto_answer = self.config.registers.get(SRegister::AutoAnswerRings);
        if auto_answer > 0 && self.config.registers.get(SRegister::RingCount) >= auto_answer {
            self.answer(now);
        }
    }

    /// The call attempt is due to end.
    fn complete_call(&mut self, now: Instant, attempt: CallAttempt) {
        match attempt.ending {
            Ending::Fails(code) => {
                self.mode = Mode::Command;
                self.resume.clear();
                self.result(code);
            }
            Ending::Dialled => {
                self.mode = Mode::Command;
                let rest = std::mem::take(&mut self.resume);
                self.execute(now, rest.as_bytes());
            }
            Ending::Connects(mut terms) => {
                self.resume.clear();
                terms.drop_after = terms.drop_after.map(|after| self.delays.apply(after));
                let event = ModemEvent::CallConnected {
                    number: terms.number.clone(),
                    speed: terms.speed,
                    peer: terms.peer.clone(),
                };
                self.call = Some(ActiveCall {
                    to_far_end: Channel::new(&self.network.line, terms.speed, self.delays),
                    to_dte: Channel::new(&self.network.line, terms.speed, self.delays),
                    terms,
                    connected_at: now,
                    bytes: 0,
                    carrier_lost_at: None,
                });
                self.go_online(now);
                self.events.push_back(event);
            }
        }
    }

    /// Enter online data state with `CONNECT [speed]` (the speed from X1 on).
    fn go_online(&mut self, now: Instant) {
        let Some(call) = &self.call else {
            return;
        };
        let detail = self
            .config
            .progress
            .extended_codes()
            .then(|| call.terms.speed.to_string());
        self.mode = Mode::OnlineData(EscapeGuard::new(now));
        self.result_with_text(ResultCode::Connect, detail);
    }

    /// DTE data in online data state: to the far end through the line, up to what the
    /// network lets cross.
    fn send_to_line(&mut self, now: Instant, bytes: &[u8]) {
        let Some(call) = self.call.as_mut() else {
            return;
        };
        if call.carrier_lost_at.is_some() {
            return;
        }
        let allowed = call.allowance(bytes.len());
        call.bytes += allowed as u64;
        call.to_far_end
            .send(now, &bytes[..allowed], &mut self.faults);
        self.to_line.extend(call.to_far_end.take(now));
        self.check_drop(now);
    }

    /// The network drops the call once its byte or time limit is reached.
    fn check_drop(&mut self, now: Instant) {
        if self.call.as_ref().is_some_and(|call| call.due_to_drop(now)) {
            self.remote_hang_up(now);
        }
    }

    /// The timers of a connected call: paced deliveries, the network's drop, and S10.
    fn call_timeout(&mut self, now: Instant) {
        let online_data = matches!(self.mode, Mode::OnlineData(_));
        let Some(call) = self.call.as_mut() else {
            return;
        };
        let to_line = call.to_far_end.take(now);
        let to_dte = call.to_dte.take(now);
        if call.carrier_lost_at.is_none() {
            self.to_line.extend(to_line);
            if online_data {
                self.to_dte.extend(to_dte);
            }
        }
        self.check_drop(now);
        let delay = self
            .delays
            .apply(self.config.registers.carrier_loss_delay());
        if self
            .call
            .as_ref()
            .and_then(|call| call.carrier_lost_at)
            .is_some_and(|lost| lost + delay <= now)
        {
            self.hang_up(now);
            self.result(ResultCode::NoCarrier);
        }
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
        for (index, &byte) in bytes.iter().enumerate() {
            match &mut self.mode {
                Mode::Command | Mode::OnlineCommand => self.command_byte(now, byte),
                Mode::OnlineData(escape) => {
                    // Nothing in data state changes the mode until a timer fires, so the
                    // rest of the chunk is data.
                    let data = &bytes[index..];
                    for &byte in data {
                        escape.byte(now, byte, escape_character, guard);
                    }
                    self.send_to_line(now, data);
                    return;
                }
                Mode::Dialling(attempt) => {
                    if now.saturating_duration_since(attempt.started) >= ABORT_GRACE {
                        self.mode = Mode::Command;
                        self.resume.clear();
                        self.result(ResultCode::NoCarrier);
                    }
                }
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if let Mode::OnlineData(escape) = &self.mode {
            let guard = self.config.registers.escape_guard();
            if escape.completes_at(guard).is_some_and(|at| at <= now) {
                self.mode = Mode::OnlineCommand;
                self.result(ResultCode::Ok);
            }
        }
        self.call_timeout(now);
        if matches!(&self.mode, Mode::Dialling(attempt) if attempt.ends_at <= now)
            && let Mode::Dialling(attempt) = std::mem::replace(&mut self.mode, Mode::Command)
        {
            self.complete_call(now, attempt);
        }
        if self.scheduled.as_ref().is_some_and(|(at, _)| *at <= now)
            && let Some((_, call)) = self.scheduled.take()
        {
            self.incoming_call(now, call);
        }
        if self
            .ringing
            .as_ref()
            .is_some_and(|ringing| ringing.next_ring <= now)
        {
            self.ring(now);
        }
    }

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        (!self.to_dte.is_empty()).then(|| std::mem::take(&mut self.to_dte))
    }

    fn poll_event(&mut self) -> Option<ModemEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        let registers = &self.config.registers;
        let mode = match &self.mode {
            Mode::Dialling(attempt) => Some(attempt.ends_at),
            Mode::OnlineData(escape) => escape.completes_at(registers.escape_guard()),
            Mode::Command | Mode::OnlineCommand => None,
        };
        let call = self.call.as_ref();
        earliest([
            mode,
            call.and_then(|c| c.to_far_end.next_delivery()),
            call.and_then(|c| c.to_dte.next_delivery()),
            call.filter(|c| c.carrier_lost_at.is_none())
                .and_then(|c| c.terms.drop_after.map(|after| c.connected_at + after)),
            call.and_then(|c| c.carrier_lost_at)
                .map(|lost| lost + self.delays.apply(registers.carrier_loss_delay())),
            self.scheduled.as_ref().map(|(at, _)| *at),
            self.ringing.as_ref().map(|ringing| ringing.next_ring),
        ])
    }
}

/// `value` in three decimal digits, leading zeros included: written in place, so that
/// answering a command allocates nothing.
fn three_digits(value: u8) -> [u8; 3] {
    [
        b'0' + value / 100,
        b'0' + value / 10 % 10,
        b'0' + value % 10,
    ]
}

#[cfg(test)]
mod tests;
