//! The RAS connection machine: RASCONNSTATE progression for one link, from opening the
//! port through the Hayes dial and PPP to `Connected`, and the error that ends a failed
//! dial. Sans-IO (DESIGN §2): the driver opens and closes the port when asked and feeds
//! bytes and timers; notifications come out as events.
//!
//! State sequence for a modem link (ras-reference §4.7 A, [inferred] there; ours):
//!
//! | step                           | notification                         |
//! |--------------------------------|--------------------------------------|
//! | dial starts                    | OpenPort                             |
//! | driver opened the port         | PortOpened, ConnectDevice            |
//! | modem said CONNECT             | DeviceConnected, AllDevicesConnected, Authenticate |
//! | PPP authentication succeeded   | AuthNotify, AuthProject              |
//! | (no authentication demanded)   | AuthProject                          |
//! | IPCP opened                    | Authenticated, Projected, Connected  |
//!
//! A callback (§4.7 B, [inferred] there; ours) adds, between authentication and projection:
//!
//! | step                                        | notification                       |
//! |---------------------------------------------|------------------------------------|
//! | server's CBCP Request offers a callback     | AuthCallback                       |
//! | it lets us set the number and ours is `"*"` | CallbackSetByCaller (paused)       |
//! | server's CBCP Ack: it will call back        | AuthAck, PrepareForCallback        |
//! | the call is down (LCP ended, NO CARRIER)    | WaitForModemReset                  |
//! | modem reset and armed to auto-answer        | WaitForCallback                    |
//! | the server's call connected                 | ReAuthenticate                     |
//! | authentication on the new call succeeded    | AuthNotify, then as above          |
//!
//! RASCS_CallbackComplete is left out: ras-reference §1 marks it Windows 9x/Me only.
//! The callback leg reports ReAuthenticate where a dial reports DeviceConnected …
//! Authenticate, since the device states belong to the call we placed.
//! Three things may stand between the modem's `CONNECT` and PPP, or before the dial
//! (ras-reference §3.7, §6.3): a terminal before dialing (RASEO_TerminalBeforeDial) or
//! after connecting (RASEO_TerminalAfterDial), each a pause in `Interactive` while the
//! application talks to the raw line ([`Connection::terminal_write`],
//! [`Connection::terminal_read`]), and a dial script (RASEO_CustomScript), which runs
//! without pausing. An EAP method that needs the user pauses in `InvokeEapUI`
//! ([`Connection::invoke_eap_ui`] takes the answer).
//!
//! | step                            | notification                           |
//! |---------------------------------|----------------------------------------|
//! | terminal before dial            | PortOpened, Interactive (paused)       |
//! | resumed                         | ConnectDevice                          |
//! | terminal after dial             | AllDevicesConnected, Interactive       |
//! | resumed (or a script finished)  | Authenticate                           |
//! | EAP asks the user               | InvokeEapUI (paused)                   |
//! | resumed                         | Authenticate [inferred]                |
//!
//! A failure is a second notification of the current state with the error (§4.1 rule 2).
//!
//! Once the modem has connected, two more things can end a dial besides PPP itself: the
//! modem saying `NO CARRIER` (the call dropped; see [`CarrierWatch`]) and the overall PPP
//! deadline ([`DialPlan::ppp_deadline`]), which bounds a negotiation the RFC would let
//! loop for ever.

use std::collections::VecDeque;

use sansio::{Duration, Instant, Machine};

use super::{RasConnState, RasError};
use crate::hayes::{
    CarrierWatch, DialFailure, Dialer, DialerConfig, DialerEvent, ResultCode, Stage,
};
use crate::ppp::lcp::MultilinkAgreement;
use crate::ppp::wire::Protocol;
use crate::ppp::{
    Client, ClientConfig, ClientEvent, EapAnswer, EapPrompt, LinkDownReason, Phase as PppPhase,
};
use crate::script::{DialScript, ScriptEvent, ScriptRunner};

/// How long after the agreed callback delay the server's call may take to connect before
/// the dial fails with ERROR_REQUEST_TIMEOUT [inferred: Windows documents no figure; one
/// minute covers ringing (S0=1 answers the first ring) and training with room to spare].
const CALLBACK_ANSWER_WAIT: Duration = Duration::from_secs(60);
/// How long WaitForModemReset waits for the modem to report the dropped call (`NO
/// CARRIER`) before resetting it anyway [inferred: a modem reports it S10 (1.4 s) after
/// the carrier goes; this is only a bound for one that never does]. A `NO CARRIER` that
/// arrives during the reset after all starts the reset again (the Hayes dialer's answer
/// mode).
const CARRIER_DROP_WAIT: Duration = Duration::from_secs(30);

/// Everything one link's dial needs, resolved from the phonebook entry and the dial
/// parameters.
#[derive(Debug, Clone)]
pub struct DialPlan {
    /// 1-based subentry (link) index this machine dials.
    pub subentry: u32,
    /// The device's type as `RASCONNSTATUS.szDeviceType` reports it (`"modem"`).
    pub device_type: String,
    /// The device's name (for a serial modem: its path, e.g. `/dev/ttyUSB0`).
    pub device_name: String,
    /// How to talk to the modem, including the number to dial.
    pub dialer: DialerConfig,
    /// PPP settings, including the credentials.
    pub ppp: ClientConfig,
    /// What a `NO CARRIER` answer to the dial is reported as (see
    /// `EngineConfig::no_carrier`).
    pub no_carrier: RasError,
    /// How long PPP may take from `CONNECT` to `Connected` (see
    /// `EngineConfig::ppp_deadline`); time spent paused does not count.
    pub ppp_deadline: Duration,
    /// `RDEOPT_PausedStates`: stop in RetryAuthentication / PasswordExpired /
    /// CallbackSetByCaller and wait for [`Connection::resume`] instead of failing
    /// (ras-reference §4.3 rule 14).
    pub paused_states: bool,
    /// RASEO_TerminalBeforeDial: pause in Interactive once the port is open.
    pub terminal_before_dial: bool,
    /// RASEO_TerminalAfterDial: pause in Interactive once the modem has connected.
    pub terminal_after_dial: bool,
    /// RASEO_CustomScript: the dial script run after `CONNECT` (and after a terminal).
    pub script: Option<DialScript>,
}

/// Where a callback stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Callback {
    /// None agreed (yet).
    None,
    /// The server acknowledged a callback due at this instant; the call we placed ends.
    Agreed { due: Instant },
    /// The server's call connected: the dial goes on on the new call.
    CalledBack,
}

/// Why a dial is paused (ras-reference §1, the RASCS_PAUSED states).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pause {
    /// The server refused the credentials and allows another try (MS-CHAPv2 `R=1`).
    RetryAuthentication,
    /// The server says the password has expired (MS-CHAPv2 `E=648`).
    PasswordExpired,
    /// The server will call back and lets us give the number; ours was `"*"`.
    CallbackSetByCaller,
    /// The entry wants a terminal window (RASEO_TerminalBeforeDial / AfterDial).
    Interactive,
    /// The EAP method needs the user (ras-reference §4.3 rule 16).
    InvokeEapUi,
}

impl Pause {
    /// The state a dial that fails while paused fails on: for authentication failures
    /// AuthNotify (§4.7 A′), for the callback offer AuthCallback [inferred]; a terminal or
    /// an EAP prompt fails where it is (Interactive, InvokeEapUI) [inferred].
    fn origin(self) -> RasConnState {
        match self {
            Pause::RetryAuthentication | Pause::PasswordExpired => RasConnState::AuthNotify,
            Pause::CallbackSetByCaller => RasConnState::AuthCallback,
            Pause::Interactive | Pause::InvokeEapUi => self.state(),
        }
    }

    fn state(self) -> RasConnState {
        match self {
            Pause::RetryAuthentication => RasConnState::RetryAuthentication,
            Pause::PasswordExpired => RasConnState::PasswordExpired,
            Pause::CallbackSetByCaller => RasConnState::CallbackSetByCaller,
            Pause::Interactive => RasConnState::Interactive,
            Pause::InvokeEapUi => RasConnState::InvokeEapUI,
        }
    }
}

/// One call of the application's notifier: the arguments of `RasDialFunc2` less the
/// callback id and handle, which the API layer adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notification {
    /// 1-based subentry index.
    pub subentry: u32,
    /// The state entered (or, with an error, the state that failed).
    pub state: RasConnState,
    /// Zero on entry to a state; the error otherwise (§4.1 rules 1–2).
    pub error: Option<RasError>,
    /// Nonzero only for 650, 640, 645 and 639 (§3.9); none of which a modem link produces.
    pub extended_error: u32,
}

/// What the connection machine asks of its driver or tells its application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionEvent {
    /// Open the serial port, then call [`Connection::port_opened`] or
    /// [`Connection::port_failed`].
    OpenPort,
    /// Tell the application (through its notifier).
    Notify(Notification),
    /// Close the port (which drops DTR and so hangs the modem up). Nothing follows.
    ClosePort,
}

#[derive(Debug)]
enum Phase {
    /// Waiting for the driver to open the port.
    Opening,
    Dialing(Box<Dialer>),
    /// PPP is negotiating (`Authenticate` … `AuthProject`).
    Ppp(Box<Client>),
    /// A callback is agreed and the call is going down: waiting (until the instant) for
    /// the modem to say `NO CARRIER` before resetting it.
    AwaitingHangUp(Instant),
    /// `Connected`; PPP keeps running (echo replies, the peer terminating).
    Connected(Box<Client>),
    /// The dial failed; the port stays open until the application hangs up (§4.2 rule 12).
    /// A failure during PPP keeps the client running: it still owes the server a
    /// Terminate-Ack (RFC 1661 §5.5 MUST) and may be terminating the link itself.
    Failed(Option<Box<Client>>),
    /// Paused in Interactive: the application has the raw line (before the dial when
    /// `before_dial`, else between `CONNECT` and PPP).
    Terminal {
        before_dial: bool,
    },
    /// The dial script runs on the raw line.
    Script(Box<ScriptRunner>),
    /// Hanging up: PPP is terminating politely before the port closes.
    Terminating(Box<Client>),
    /// The port is (being) closed. Nothing more happens.
    Closed,
}

/// The connection machine for one link.
#[derive(Debug)]
pub struct Connection {
    plan: DialPlan,
    phase: Phase,
    state: RasConnState,
    error: Option<RasError>,
    /// Watches the line for the modem's `NO CARRIER` once it has connected.
    carrier: CarrierWatch,
    /// The line rate the modem reported (`CONNECT <rate>`), in bit/s.
    line_rate: Option<u32>,
    /// When PPP must have reached `Connected` by (none while paused).
    ppp_deadline: Option<Instant>,
    /// The dial is waiting in a paused state for the application.
    paused: Option<Pause>,
    callback: Callback,
    events: VecDeque<ConnectionEvent>,
    /// In Interactive: what the line sent that the application has not read yet.
    terminal_in: Vec<u8>,
    /// Bytes for the raw line ahead of the phase's own: what the user typed in
    /// Interactive, what the script sent just before it finished.
    line_out: VecDeque<Vec<u8>>,
    /// In InvokeEapUI: what the method asked for, and the answer once given.
    eap: Option<(EapPrompt, Option<EapAnswer>)>,
}

impl Connection {
    /// Start a dial: the first notification (OpenPort) and the request to open the port
    /// are queued at once.
    pub fn new(plan: DialPlan) -> Self {
        let mut connection = Connection {
            plan,
            phase: Phase::Opening,
            state: RasConnState::OpenPort,
            error: None,
            carrier: CarrierWatch::default(),
            line_rate: None,
            ppp_deadline: None,
            paused: None,
            callback: Callback::None,
            events: VecDeque::new(),
            terminal_in: Vec::new(),
            line_out: VecDeque::new(),
            eap: None,
        };
        connection.enter(RasConnState::OpenPort);
        connection.events.push_back(ConnectionEvent::OpenPort);
        connection
    }

    /// The state last entered (what `RasGetConnectStatus` reports).
    pub fn state(&self) -> RasConnState {
        self.state
    }

    /// The error that ended the dial, if it failed.
    pub fn error(&self) -> Option<RasError> {
        self.error
    }

    /// The plan this connection dials.
    pub fn plan(&self) -> &DialPlan {
        &self.plan
    }

    /// Multilink as LCP agreed it on this link (RFC 1990 §5.1.1), while PPP runs; `None`
    /// when the server refused it or it was not asked for.
    pub fn multilink(&self) -> Option<MultilinkAgreement> {
        match &self.phase {
            Phase::Ppp(client) | Phase::Connected(client) => client.multilink(),
            _ => None,
        }
    }

    /// Send a network-layer frame (IPv4, or a Multilink fragment on a multilink link)
    /// once connected; `false` (nothing sent) otherwise.
    pub fn send_datagram(&mut self, protocol: Protocol, information: &[u8]) -> bool {
        match &mut self.phase {
            Phase::Connected(client) => client.send_datagram(protocol, information),
            _ => false,
        }
    }

    /// The next network-layer frame the link received since it connected.
    pub fn poll_datagram(&mut self) -> Option<(Protocol, Vec<u8>)> {
        match &mut self.phase {
            Phase::Connected(client) => client.poll_datagram(),
            _ => None,
        }
    }

    /// The line rate the modem reported when it connected (`CONNECT <rate>`), in bit/s.
    pub fn line_rate(&self) -> Option<u32> {
        self.line_rate
    }

    /// Whether events are waiting to be polled.
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// Whether the dial is over, one way or the other (Connected, failed or hung up).
    pub fn is_settled(&self) -> bool {
        matches!(
            self.phase,
            Phase::Connected(_) | Phase::Failed(_) | Phase::Closed | Phase::Terminating(_)
        )
    }

    /// Whether the dial is waiting in a paused state for [`Connection::resume`].
    pub fn is_paused(&self) -> bool {
        self.paused.is_some()
    }

    /// Resume a paused dial with the application's updated dial parameters (ras-reference
    /// §4.3 rule 15): after RetryAuthentication `user` and `password` are the new
    /// credentials (AuthRetry follows); after PasswordExpired `password` is the new
    /// password, which the change-password exchange sets (AuthChangePassword follows);
    /// after CallbackSetByCaller `callback_number` is where to be called back (AuthAck
    /// follows once the server agrees), or empty to decline the callback (rule 18).
    ///
    /// A connection that is not paused refuses with ERROR_INVALID_PARAMETER [inferred:
    /// the documentation only describes resuming a paused dial]; a callback number that
    /// is `"*"` again, or has a character a number cannot have, is refused with
    /// ERROR_INVALID_CALLBACK_NUMBER and the dial stays paused.
    ///
    /// After Interactive the dial goes on (ConnectDevice, or the script / Authenticate);
    /// after InvokeEapUI the answer given to [`Connection::invoke_eap_ui`] is sent.
    pub fn resume(
        &mut self,
        now: Instant,
        user: &str,
        password: &str,
        callback_number: &str,
    ) -> Result<(), RasError> {
        match self.paused {
            Some(Pause::Interactive) => self.resume_interactive(now),
            Some(Pause::InvokeEapUi) => self.resume_eap(now, user, password),
            _ => self.resume_authentication(now, user, password, callback_number),
        }
    }

    /// Resume RetryAuthentication, PasswordExpired or CallbackSetByCaller.
    fn resume_authentication(
        &mut self,
        now: Instant,
        user: &str,
        password: &str,
        callback_number: &str,
    ) -> Result<(), RasError> {
        let (Some(pause), Phase::Ppp(client)) = (self.paused, &mut self.phase) else {
            return Err(RasError::ERROR_INVALID_PARAMETER);
        };
        let (sent, next) = match pause {
            Pause::RetryAuthentication => (
                client.retry_authentication(now, user, password),
                RasConnState::AuthRetry,
            ),
            Pause::PasswordExpired => (
                client.change_password(now, password),
                RasConnState::AuthChangePassword,
            ),
            Pause::CallbackSetByCaller => {
                if callback_number == ASK_FOR_NUMBER || !is_valid_callback_number(callback_number) {
                    return Err(RasError::ERROR_INVALID_CALLBACK_NUMBER);
                }
                // Empty declines the callback (rule 18); the server's Ack brings AuthAck.
                let number = (!callback_number.is_empty()).then(|| callback_number.to_owned());
                client.provide_callback_number(now, number);
                self.paused = None;
                // No state is entered until the server answers (AuthAck, or AuthProject for a
                // declined callback); until then the dial is back in callback control, which
                // is what the status says and where a failure is reported [inferred].
                self.state = RasConnState::AuthCallback;
                self.ppp_deadline = Some(now + self.plan.ppp_deadline);
                self.pump(now);
                return Ok(());
            }
            Pause::Interactive | Pause::InvokeEapUi => {
                return Err(RasError::ERROR_INVALID_PARAMETER);
            }
        };
        if let Err(error) = sent {
            // A password PPP cannot carry (longer than PWLEN) leaves the dial paused.
            tracing::info!(%error, "cannot resume with these parameters");
            return Err(RasError::ERROR_INVALID_PARAMETER);
        }
        self.paused = None;
        self.ppp_deadline = Some(now + self.plan.ppp_deadline);
        self.enter(next);
        self.pump(now);
        Ok(())
    }

    /// Leave Interactive: dial (a terminal before dialing), or go on to the script or PPP
    /// with what the line sent that the application did not read.
    fn resume_interactive(&mut self, now: Instant) -> Result<(), RasError> {
        let Phase::Terminal { before_dial } = self.phase else {
            return Err(RasError::ERROR_INVALID_PARAMETER);
        };
        self.paused = None;
        let unread = std::mem::take(&mut self.terminal_in);
        if before_dial {
            self.start_dialing(now);
            if !unread.is_empty() {
                tracing::debug!(len = unread.len(), "unread terminal text dropped");
            }
        } else {
            self.ppp_deadline = Some(now + self.plan.ppp_deadline);
            self.after_terminal(now, unread);
        }
        self.pump(now);
        Ok(())
    }

    /// Leave InvokeEapUI: send the answer [`Connection::invoke_eap_ui`] took. For
    /// credentials the resuming call's `user` and `password` serve when the application
    /// gave none there [inferred: RASDIALPARAMS is how RasDial takes credentials].
    fn resume_eap(&mut self, now: Instant, user: &str, password: &str) -> Result<(), RasError> {
        let (Some((prompt, answer)), Phase::Ppp(client)) = (&self.eap, &mut self.phase) else {
            return Err(RasError::ERROR_INVALID_PARAMETER);
        };
        let answer = match (answer, prompt) {
            (Some(answer), _) => answer.clone(),
            (None, EapPrompt::Credentials { .. }) => EapAnswer::Credentials {
                user: user.to_owned(),
                password: password.to_owned(),
            },
            // RasInvokeEapUI first (rule 16) [inferred: resuming without it is refused].
            (None, _) => return Err(RasError::ERROR_INVALID_PARAMETER),
        };
        if let Err(error) = client.eap_answer(now, answer) {
            tracing::info!(%error, "cannot resume with this EAP answer");
            return Err(RasError::ERROR_INVALID_PARAMETER);
        }
        self.eap = None;
        self.paused = None;
        self.ppp_deadline = Some(now + self.plan.ppp_deadline);
        // [inferred] The authentication goes on: Authenticate again.
        self.enter(RasConnState::Authenticate);
        self.pump(now);
        Ok(())
    }

    /// `RasInvokeEapUI` (ras-reference §4.3 rule 16): the user's answer to what the EAP
    /// method asked, sent on the next resume. ERROR_INVALID_PARAMETER unless the dial is
    /// paused in InvokeEapUI [inferred].
    pub fn invoke_eap_ui(&mut self, answer: EapAnswer) -> Result<(), RasError> {
        match &mut self.eap {
            Some((_, slot)) if self.paused == Some(Pause::InvokeEapUi) => {
                *slot = Some(answer);
                Ok(())
            }
            _ => Err(RasError::ERROR_INVALID_PARAMETER),
        }
    }

    /// What the EAP method asks the user, while paused in InvokeEapUI.
    pub fn eap_prompt(&self) -> Option<&EapPrompt> {
        self.eap.as_ref().map(|(prompt, _)| prompt)
    }

    /// In Interactive: write what the user typed to the line. ERROR_INVALID_PARAMETER
    /// outside Interactive [inferred].
    pub fn terminal_write(&mut self, bytes: &[u8]) -> Result<(), RasError> {
        if !matches!(self.phase, Phase::Terminal { .. }) {
            return Err(RasError::ERROR_INVALID_PARAMETER);
        }
        self.line_out.push_back(bytes.to_vec());
        Ok(())
    }

    /// In Interactive: what the line sent since the last read. ERROR_INVALID_PARAMETER
    /// outside Interactive [inferred].
    pub fn terminal_read(&mut self) -> Result<Vec<u8>, RasError> {
        if !matches!(self.phase, Phase::Terminal { .. }) {
            return Err(RasError::ERROR_INVALID_PARAMETER);
        }
        Ok(std::mem::take(&mut self.terminal_in))
    }

    /// The driver opened the port.
    pub fn port_opened(&mut self, now: Instant) {
        if !matches!(self.phase, Phase::Opening) {
            return;
        }
        self.enter(RasConnState::PortOpened);
        if self.plan.terminal_before_dial {
            self.interactive(true);
        } else {
            self.start_dialing(now);
        }
    }

    /// ConnectDevice: the Hayes dialer takes the line.
    fn start_dialing(&mut self, now: Instant) {
        self.enter(RasConnState::ConnectDevice);
        self.phase = Phase::Dialing(Box::new(Dialer::new(now, self.plan.dialer.clone())));
    }

    /// The entry wants a terminal: pause in Interactive, or without paused states fail
    /// with 703 ERROR_INTERACTIVE_MODE (ras-reference §4.3 rule 14 [inferred]).
    fn interactive(&mut self, before_dial: bool) {
        if !self.plan.paused_states {
            self.fail(RasError::ERROR_INTERACTIVE_MODE);
            return;
        }
        self.phase = Phase::Terminal { before_dial };
        self.paused = Some(Pause::Interactive);
        self.ppp_deadline = None;
        self.enter(RasConnState::Interactive);
    }

    /// After `CONNECT` and any terminal: run the script, if the entry has one, else PPP.
    /// `data` is what the line sent that nobody has consumed yet.
    fn after_terminal(&mut self, now: Instant, data: Vec<u8>) {
        match self.plan.script.clone() {
            Some(script) => {
                let ppp = &self.plan.ppp;
                let mut runner = Box::new(ScriptRunner::new(script, &ppp.user, &ppp.password));
                runner.start(now);
                self.phase = Phase::Script(runner);
                if !data.is_empty() {
                    self.receive_data(now, &data);
                }
            }
            None => self.start_ppp(now, &data),
        }
    }

    /// Authenticate (ReAuthenticate on the server's call back): PPP starts on the line.
    fn start_ppp(&mut self, now: Instant, data: &[u8]) {
        let mut config = self.plan.ppp.clone();
        if self.callback == Callback::CalledBack {
            // The server's call: authenticate again, and ask for no more callbacks.
            self.enter(RasConnState::ReAuthenticate);
            config.callback = None;
        } else {
            self.enter(RasConnState::Authenticate);
        }
        let mut client = Box::new(Client::new(config));
        client.open(now);
        self.ppp_deadline = Some(now + self.plan.ppp_deadline);
        self.phase = Phase::Ppp(client);
        if !data.is_empty() {
            self.receive_data(now, data);
        }
    }

    /// What the dial script did.
    fn on_script_event(&mut self, now: Instant, event: ScriptEvent) {
        match event {
            // The line's settings and the address are the driver's and IPCP's business;
            // the PTYs and modems here take any framing [inferred].
            ScriptEvent::SetPort(_) | ScriptEvent::Keyboard(_) | ScriptEvent::IpAddress(_) => {
                tracing::debug!(?event, "script setting not applied");
            }
            ScriptEvent::Finished => {
                let mut rest = Vec::new();
                if let Phase::Script(runner) = &mut self.phase {
                    // The last `transmit`s go out before PPP's first frame.
                    self.line_out
                        .extend(std::iter::from_fn(|| runner.poll_transmit()));
                    rest = runner.take_received();
                }
                self.start_ppp(now, &rest);
            }
            // `halt` leaves the login to the user in Windows' terminal window, which a dial
            // without one cannot offer: 703 [inferred].
            ScriptEvent::Halted => self.fail(RasError::ERROR_INTERACTIVE_MODE),
            // A script that cannot go on: the nearest code is the script error [inferred].
            ScriptEvent::Failed(error) => {
                tracing::info!(%error, "the dial script failed");
                self.fail(RasError::ERROR_SCRIPT_SYNTAX);
            }
        }
    }

    /// The driver could not open the port.
    pub fn port_failed(&mut self, error: RasError) {
        if matches!(self.phase, Phase::Opening) {
            self.fail(error);
        }
    }

    /// The port stopped working under us (read or write failed: the device went away).
    /// A dial in progress fails with ERROR_HARDWARE_FAILURE; a connected link goes down.
    pub fn port_lost(&mut self) {
        match self.phase {
            Phase::Opening
            | Phase::Dialing(_)
            | Phase::Ppp(_)
            | Phase::AwaitingHangUp(_)
            | Phase::Terminal { .. }
            | Phase::Script(_) => self.fail_line_gone(RasError::ERROR_HARDWARE_FAILURE),
            Phase::Connected(_) => self.disconnected(RasError::ERROR_HARDWARE_FAILURE),
            Phase::Terminating(_) => self.closed(),
            Phase::Failed(_) | Phase::Closed => {}
        }
    }

    /// The modem said `NO CARRIER` after it had connected: the call is gone. A dial still
    /// in PPP fails with ERROR_DISCONNECTION [inferred: ras-reference §4.6 offers 628, 629
    /// or 630 for a carrier lost after CONNECT; the modem cannot tell us which end dropped
    /// it, and 629 would claim the remote did]; a connected link goes down with it.
    fn carrier_lost(&mut self, now: Instant) {
        tracing::info!(state = %self.state, "the modem lost the carrier");
        match self.phase {
            // The server hung up to call back, as agreed.
            Phase::Ppp(_) | Phase::AwaitingHangUp(_)
                if matches!(self.callback, Callback::Agreed { .. }) =>
            {
                self.reset_for_callback(now)
            }
            // The server hung up in callback control without agreeing: it refused the
            // number (see the LinkDown case) [inferred].
            Phase::Ppp(_) if self.state == RasConnState::AuthCallback => {
                self.fail_line_gone(RasError::ERROR_BAD_CALLBACK_NUMBER)
            }
            Phase::Ppp(_) | Phase::Script(_) | Phase::Terminal { before_dial: false } => {
                self.fail_line_gone(RasError::ERROR_DISCONNECTION)
            }
            Phase::Connected(_) => self.disconnected(RasError::ERROR_DISCONNECTION),
            Phase::Terminating(_) => self.closed(),
            Phase::Opening
            | Phase::Dialing(_)
            | Phase::AwaitingHangUp(_)
            | Phase::Terminal { before_dial: true }
            | Phase::Failed(_)
            | Phase::Closed => {}
        }
    }

    /// The call is down after an agreed callback: WaitForModemReset (reset the modem and
    /// arm auto-answer), then WaitForCallback.
    fn reset_for_callback(&mut self, now: Instant) {
        let Callback::Agreed { due } = self.callback else {
            return;
        };
        if !matches!(self.state, RasConnState::WaitForModemReset) {
            self.enter(RasConnState::WaitForModemReset);
        }
        self.carrier = CarrierWatch::default();
        let wait = due.saturating_duration_since(now) + CALLBACK_ANSWER_WAIT;
        self.phase = Phase::Dialing(Box::new(Dialer::new(now, DialerConfig::answer(wait))));
    }

    /// A connected link went down. Notifications ended with Connected (§4.1 rule 3); the
    /// status shows what happened until the application hangs up.
    fn disconnected(&mut self, error: RasError) {
        self.state = RasConnState::Disconnected;
        self.error = Some(error);
        self.phase = Phase::Failed(None);
    }

    /// Hanging up is complete: close the port.
    fn closed(&mut self) {
        self.phase = Phase::Closed;
        self.events.push_back(ConnectionEvent::ClosePort);
    }

    /// `RasHangUp`: no notification follows (§4.1 rule 3). A link that got as far as PPP
    /// is terminated politely (LCP Terminate-Request, RFC 1661 §3.7) before the port
    /// closes, also after a failure during PPP (a refused authentication): the client
    /// answers the server's pending Terminate-Request and sends its own while LCP is
    /// still open, bounded as any termination by Max-Terminate (RFC 1661 §4.6).
    /// Anything earlier closes the port at once, which drops DTR and the call.
    pub fn hang_up(&mut self, now: Instant) {
        match std::mem::replace(&mut self.phase, Phase::Closed) {
            Phase::Ppp(mut client)
            | Phase::Connected(mut client)
            | Phase::Failed(Some(mut client))
                if client.phase() != PppPhase::Dead =>
            {
                client.close(now);
                self.phase = Phase::Terminating(client);
                // The close may already be complete (nothing was negotiated yet).
                self.pump(now);
            }
            Phase::Terminating(client) => self.phase = Phase::Terminating(client),
            Phase::Closed => {}
            Phase::Opening
            | Phase::Dialing(_)
            | Phase::AwaitingHangUp(_)
            | Phase::Ppp(_)
            | Phase::Connected(_)
            | Phase::Terminal { .. }
            | Phase::Script(_)
            | Phase::Failed(_) => self.events.push_back(ConnectionEvent::ClosePort),
        }
    }

    fn enter(&mut self, state: RasConnState) {
        self.state = state;
        self.notify(state, None);
    }

    fn notify(&mut self, state: RasConnState, error: Option<RasError>) {
        if matches!(self.phase, Phase::Terminating(_) | Phase::Closed) {
            return; // nothing after hang-up (§4.1 rule 3)
        }
        let notification = Notification {
            subentry: self.plan.subentry,
            state,
            error,
            extended_error: 0,
        };
        self.events.push_back(ConnectionEvent::Notify(notification));
    }

    /// The error notification that ends the dial (§4.1 rule 2–3). A PPP client keeps
    /// running (see [`Phase::Failed`]).
    fn fail(&mut self, error: RasError) {
        self.ppp_deadline = None;
        self.eap = None;
        self.error = Some(error);
        // A dial that fails while paused (the server gave up, the call dropped) is no
        // longer paused: nothing is left to resume or answer.
        if let Some(pause) = self.paused.take() {
            // A paused state is only ever entered (§4.3, with error 0): the failure is
            // reported on the state that led to the pause (see [`Pause::origin`]).
            self.state = pause.origin();
        }
        self.notify(self.state, Some(error));
        let client = match std::mem::replace(&mut self.phase, Phase::Closed) {
            Phase::Ppp(client) => Some(client),
            _ => None,
        };
        self.phase = Phase::Failed(client);
    }

    /// A line that is gone: the dial fails and PPP has nobody left to terminate with.
    fn fail_line_gone(&mut self, error: RasError) {
        self.fail(error);
        self.phase = Phase::Failed(None);
    }

    fn on_dialer_event(&mut self, now: Instant, event: DialerEvent) {
        match event {
            DialerEvent::Connected { data, rate } => {
                self.line_rate = rate;
                if let Callback::Agreed { .. } = self.callback {
                    // The server's call: straight to PPP (ReAuthenticate).
                    self.callback = Callback::CalledBack;
                    self.start_ppp(now, &data);
                    return;
                }
                self.enter(RasConnState::DeviceConnected);
                self.enter(RasConnState::AllDevicesConnected);
                if self.plan.terminal_after_dial {
                    self.interactive(false);
                    if self.paused.is_some() {
                        self.receive_data(now, &data);
                    }
                } else {
                    // The script, like PPP, has the PPP deadline to get through.
                    self.ppp_deadline = Some(now + self.plan.ppp_deadline);
                    self.after_terminal(now, data);
                }
            }
            DialerEvent::AwaitingCall => self.enter(RasConnState::WaitForCallback),
            DialerEvent::Failed(failure) => {
                self.fail(dial_failure_error(&failure, self.plan.no_carrier))
            }
        }
    }

    fn on_ppp_event(&mut self, now: Instant, event: ClientEvent) {
        // Once Connected, the RAS state stays Connected while PPP renegotiates (a peer may
        // restart LCP or an NCP at any time, RFC 1661 §3.7): only the link going down
        // matters. (Treating a second NetworkUp as the first dropped the PPP client and
        // left a hang-up with nothing to terminate; the fault sweep found it.)
        if matches!(self.phase, Phase::Connected(_)) && !matches!(event, ClientEvent::LinkDown(_)) {
            tracing::debug!(?event, "PPP renegotiated on a connected link");
            return;
        }
        match event {
            ClientEvent::LinkEstablished { .. } => {}
            ClientEvent::AuthSucceeded { .. } => self.enter(RasConnState::AuthNotify),
            ClientEvent::NetworkPhase => self.enter(RasConnState::AuthProject),
            ClientEvent::CallbackOffered { number_wanted, .. } => {
                self.enter(RasConnState::AuthCallback);
                if number_wanted {
                    if self.plan.paused_states {
                        self.paused = Some(Pause::CallbackSetByCaller);
                        self.ppp_deadline = None;
                        self.enter(RasConnState::CallbackSetByCaller);
                    } else {
                        // ras-reference §4.3 rule 17 [inferred]: "*" without paused states.
                        self.fail(RasError::ERROR_BAD_CALLBACK_NUMBER);
                    }
                }
            }
            ClientEvent::CallbackAgreed { delay, .. } => {
                self.callback = Callback::Agreed { due: now + delay };
                // The rest of the dial happens on the server's call.
                self.ppp_deadline = None;
                self.enter(RasConnState::AuthAck);
                self.enter(RasConnState::PrepareForCallback);
            }
            ClientEvent::AuthFailed {
                error,
                retry_allowed,
                ..
            } => {
                // DESIGN §7: MS-CHAPv2 carries the RAS error itself (`E=`, RFC 2759 §6):
                // 646, 647, 648, 649, 691, 709; PAP and CHAP-MD5 can only say no: 691.
                let error =
                    error.map_or(RasError::ERROR_AUTHENTICATION_FAILURE, RasError::from_code);
                let pause = if error == RasError::ERROR_PASSWD_EXPIRED {
                    Some(Pause::PasswordExpired)
                } else if retry_allowed {
                    Some(Pause::RetryAuthentication)
                } else {
                    None
                };
                match pause {
                    Some(pause) if self.plan.paused_states => {
                        self.paused = Some(pause);
                        self.ppp_deadline = None;
                        self.enter(pause.state());
                    }
                    // ras-reference §4.3 rule 14 [inferred]: without paused states the
                    // pause becomes the authentication error itself (648 for an expired
                    // password), reported on AuthNotify as every auth failure is (§4.7 A′).
                    _ => {
                        self.state = RasConnState::AuthNotify;
                        self.fail(error);
                    }
                }
            }
            // The EAP method needs the user: InvokeEapUI (rule 16), or without paused
            // states rule 14's answer, 703 [inferred].
            ClientEvent::EapPrompt(prompt) => {
                if self.plan.paused_states {
                    self.eap = Some((prompt, None));
                    self.paused = Some(Pause::InvokeEapUi);
                    self.ppp_deadline = None;
                    self.enter(RasConnState::InvokeEapUI);
                } else {
                    self.fail(RasError::ERROR_INTERACTIVE_MODE);
                }
            }
            ClientEvent::EapNotification { .. } => {}
            ClientEvent::NetworkUp { .. } => {
                self.enter(RasConnState::Authenticated);
                self.enter(RasConnState::Projected);
                self.enter(RasConnState::Connected);
                self.ppp_deadline = None;
                if let Phase::Ppp(client) = std::mem::replace(&mut self.phase, Phase::Closed) {
                    self.phase = Phase::Connected(client);
                }
            }
            ClientEvent::LinkDown(LinkDownReason::PeerTerminated)
                if matches!(self.callback, Callback::Agreed { .. })
                    && matches!(self.phase, Phase::Ppp(_)) =>
            {
                // The server ended the link to call back: wait for the modem to report
                // the call gone, then reset it.
                self.enter(RasConnState::WaitForModemReset);
                self.phase = Phase::AwaitingHangUp(now + CARRIER_DROP_WAIT);
            }
            // The server ended the link in callback control instead of acknowledging our
            // choice: it refused the number [inferred].
            ClientEvent::LinkDown(LinkDownReason::PeerTerminated)
                if self.state == RasConnState::AuthCallback
                    && matches!(self.phase, Phase::Ppp(_)) =>
            {
                self.fail(RasError::ERROR_BAD_CALLBACK_NUMBER)
            }
            ClientEvent::LinkDown(reason) => match self.phase {
                Phase::Ppp(_) => self.fail(link_down_error(reason)),
                Phase::Connected(_) => self.disconnected(link_down_error(reason)),
                Phase::Terminating(_) => self.closed(),
                Phase::Opening
                | Phase::Dialing(_)
                | Phase::AwaitingHangUp(_)
                | Phase::Terminal { .. }
                | Phase::Script(_)
                | Phase::Failed(_)
                | Phase::Closed => {}
            },
        }
    }

    /// Bytes from the modem once it has connected: PPP, unless the modem has dropped the
    /// call and says so.
    fn receive_data(&mut self, now: Instant, bytes: &[u8]) {
        if self.carrier.feed(bytes) {
            self.carrier_lost(now);
        } else if let Phase::Script(runner) = &mut self.phase {
            runner.handle_input(now, bytes);
        } else if let Phase::Terminal { .. } = self.phase {
            self.terminal_in.extend_from_slice(bytes);
        } else if let Some(client) = self.client_mut() {
            client.handle_input(now, bytes);
        }
    }

    fn client_mut(&mut self) -> Option<&mut Client> {
        match &mut self.phase {
            Phase::Ppp(client)
            | Phase::Connected(client)
            | Phase::Terminating(client)
            | Phase::Failed(Some(client)) => Some(client),
            _ => None,
        }
    }

    /// Move what the inner machine produced into our own queues.
    fn pump(&mut self, now: Instant) {
        loop {
            let progressed = match &mut self.phase {
                Phase::Dialing(dialer) => match dialer.poll_event() {
                    Some(event) => {
                        self.on_dialer_event(now, event);
                        true
                    }
                    None => false,
                },
                Phase::Ppp(client) | Phase::Connected(client) | Phase::Terminating(client) => {
                    match client.poll_event() {
                        Some(event) => {
                            self.on_ppp_event(now, event);
                            true
                        }
                        None => false,
                    }
                }
                // After the failure only the link's end is left to happen; the
                // application has had its last notification (§4.1 rule 3).
                Phase::Failed(Some(client)) => match client.poll_event() {
                    Some(event) => {
                        tracing::debug!(?event, "PPP after the failed dial");
                        true
                    }
                    None => false,
                },
                Phase::Script(runner) => match runner.poll_event() {
                    Some(event) => {
                        self.on_script_event(now, event);
                        true
                    }
                    None => false,
                },
                Phase::Opening
                | Phase::AwaitingHangUp(_)
                | Phase::Terminal { .. }
                | Phase::Failed(None)
                | Phase::Closed => false,
            };
            if !progressed {
                return;
            }
        }
    }
}

/// Modem outcome → RAS error (DESIGN §7, ras-reference §4.6 [inferred]).
fn dial_failure_error(failure: &DialFailure, no_carrier: RasError) -> RasError {
    match failure {
        DialFailure::Result { code, .. } => match code {
            ResultCode::Busy => RasError::ERROR_LINE_BUSY,
            ResultCode::Voice => RasError::ERROR_VOICE_ANSWER,
            ResultCode::NoAnswer => RasError::ERROR_NO_ANSWER,
            ResultCode::NoCarrier => no_carrier,
            ResultCode::NoDialtone => RasError::ERROR_NO_DIALTONE,
            ResultCode::Error => RasError::ERROR_FROM_DEVICE,
            // A final result that makes no sense where it came (CONNECT to an init
            // string, OK to a dial) is a response we cannot use.
            ResultCode::Ok | ResultCode::Connect { .. } | ResultCode::Ring => {
                RasError::ERROR_UNRECOGNIZED_RESPONSE
            }
        },
        DialFailure::NoResponse { unrecognized, .. } if !unrecognized.is_empty() => {
            RasError::ERROR_UNRECOGNIZED_RESPONSE
        }
        DialFailure::NoResponse {
            stage: Stage::Init(_),
            ..
        } => RasError::ERROR_DEVICE_NOT_READY,
        // The modem took the dial but never said how it ended: nobody answered, as far
        // as anyone can tell.
        DialFailure::NoResponse {
            stage: Stage::Dial, ..
        } => RasError::ERROR_NO_ANSWER,
        // The server's callback never connected [inferred: raserror.h has no code for
        // it; 638 is the generic one for a request that timed out].
        DialFailure::NoResponse {
            stage: Stage::Answer,
            ..
        } => RasError::ERROR_REQUEST_TIMEOUT,
    }
}

/// `szCallbackNumber = "*"`: ask the application for the number (ras-reference §4.3
/// rule 17).
pub const ASK_FOR_NUMBER: &str = "*";

/// Whether `number` may be a callback number: ras-reference §2 (751
/// ERROR_INVALID_CALLBACK_NUMBER) allows only `0-9 T P W ( ) - @` and space. Empty is valid
/// (no callback).
pub fn is_valid_callback_number(number: &str) -> bool {
    number
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, 'T' | 'P' | 'W' | '(' | ')' | '-' | '@' | ' '))
}

/// PPP failure → RAS error (DESIGN §7: the ERROR_PPP_* family).
fn link_down_error(reason: LinkDownReason) -> RasError {
    match reason {
        LinkDownReason::Timeout => RasError::ERROR_PPP_TIMEOUT,
        LinkDownReason::PeerTerminated => RasError::ERROR_PPP_LCP_TERMINATED,
        LinkDownReason::Loopback => RasError::ERROR_PPP_LOOPBACK_DETECTED,
        LinkDownReason::NoNetworkProtocol => RasError::ERROR_PPP_NO_PROTOCOLS_CONFIGURED,
        LinkDownReason::AuthFailed => RasError::ERROR_AUTHENTICATION_FAILURE,
        LinkDownReason::ServerNotAuthenticated => RasError::ERROR_UNABLE_TO_AUTHENTICATE_SERVER,
        LinkDownReason::AuthNotSupported => RasError::ERROR_PPP_NO_PROTOCOLS_CONFIGURED,
        LinkDownReason::LocalClose => RasError::ERROR_USER_DISCONNECTION,
        // The server never acknowledged our callback choice: it refused the number
        // [inferred].
        LinkDownReason::CallbackFailed => RasError::ERROR_BAD_CALLBACK_NUMBER,
    }
}

impl Machine for Connection {
    type Event = ConnectionEvent;

    fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        match &mut self.phase {
            Phase::Dialing(dialer) => dialer.handle_input(now, bytes),
            // Before the dial the terminal talks to the modem: no call to lose yet.
            Phase::Terminal { before_dial: true } => self.terminal_in.extend_from_slice(bytes),
            Phase::Ppp(_)
            | Phase::Connected(_)
            | Phase::Terminating(_)
            | Phase::Failed(Some(_))
            | Phase::Terminal { .. }
            | Phase::Script(_) => self.receive_data(now, bytes),
            Phase::AwaitingHangUp(_) => {
                if self.carrier.feed(bytes) {
                    self.carrier_lost(now);
                }
            }
            Phase::Opening | Phase::Failed(None) | Phase::Closed => {}
        }
        self.pump(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        if matches!(self.phase, Phase::Script(_))
            && self.ppp_deadline.is_some_and(|deadline| deadline <= now)
        {
            // A `waitfor` without `until` waits at most this long; the prompt never came
            // [inferred: 638 ERROR_REQUEST_TIMEOUT].
            tracing::info!("the dial script did not finish within the deadline");
            self.fail(RasError::ERROR_REQUEST_TIMEOUT);
            return;
        }
        if matches!(self.phase, Phase::Ppp(_))
            && self.ppp_deadline.is_some_and(|deadline| deadline <= now)
        {
            tracing::info!(state = %self.state, "PPP did not complete within the deadline");
            self.fail(RasError::ERROR_PPP_TIMEOUT);
            return;
        }
        match &mut self.phase {
            Phase::Dialing(dialer) => dialer.handle_timeout(now),
            Phase::Ppp(client)
            | Phase::Connected(client)
            | Phase::Terminating(client)
            | Phase::Failed(Some(client)) => client.handle_timeout(now),
            Phase::Script(runner) => runner.handle_timeout(now),
            Phase::AwaitingHangUp(until) => {
                if *until <= now {
                    tracing::info!("the modem never reported the call gone; resetting it");
                    self.reset_for_callback(now);
                }
            }
            Phase::Opening | Phase::Terminal { .. } | Phase::Failed(None) | Phase::Closed => {}
        }
        self.pump(now);
    }

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if let Some(bytes) = self.line_out.pop_front() {
            return Some(bytes);
        }
        match &mut self.phase {
            Phase::Dialing(dialer) => dialer.poll_transmit(),
            Phase::Script(runner) => runner.poll_transmit(),
            _ => self.client_mut().and_then(|client| client.poll_transmit()),
        }
    }

    fn poll_event(&mut self) -> Option<ConnectionEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match &self.phase {
            Phase::Dialing(dialer) => dialer.poll_timeout(),
            Phase::Ppp(client) => sansio::sim::earliest([client.poll_timeout(), self.ppp_deadline]),
            Phase::Connected(client) | Phase::Terminating(client) | Phase::Failed(Some(client)) => {
                client.poll_timeout()
            }
            Phase::Script(runner) => {
                sansio::sim::earliest([runner.poll_timeout(), self.ppp_deadline])
            }
            Phase::AwaitingHangUp(until) => Some(*until),
            Phase::Opening | Phase::Terminal { .. } | Phase::Failed(None) | Phase::Closed => None,
        }
    }
}
