//! Call progress: what the modem hears between `ATD` and the final result code, and
//! when, in the machine's (virtual) time.
//!
//! With the defaults (X4, S6 = 2, S7 = 50, no `,` in the number) a dial runs:
//!
//! | from `ATD` | what happens                                   | result        |
//! |-----------:|------------------------------------------------|---------------|
//! | 1 s        | dial tone recognised ([`DIAL_TONE_DETECT`])    |               |
//! | 2 s        | digits sent ([`DIGITS_DIALLED`])               |               |
//! | 4 s        | busy cadence recognised ([`BUSY_DETECT`])      | `BUSY`        |
//! | 4 s        | far end answers ([`ANSWER_DELAY`])             |               |
//! | 6 s        | modems trained up ([`HANDSHAKE`])              | `CONNECT 33600` |
//! | 6 s        | a voice recognised ([`VOICE_DETECT`])          | `VOICE`       |
//! | 5 s        | no dial tone at all ([`DIAL_TONE_TIMEOUT`])    | `NO DIALTONE` |
//! | 52 s       | S7 ran out after dialling                      | `NO ANSWER` / `NO CARRIER` |
//!
//! Dial modifiers (V.250 §6.3.1.1) add to the dialling: each `,` pauses S8, each `W`
//! waits for a second dial tone ([`DIAL_TONE_DETECT`]), each `!` flashes the hook
//! ([`HOOK_FLASH`]); `T`, `P` and `@` take no time here. A number's `answer-delay`
//! replaces [`ANSWER_DELAY`].
//!
//! The delays are round numbers rather than a model of real signalling (a V.34 training
//! alone takes 6–10 s): close enough to real behaviour that dialer timeouts meet realistic
//! orders of magnitude, simple enough that a test can state exactly when a result comes.

use sansio::{Duration, Instant};

use crate::network::{CallBack, Network, Outcome, PeerSpec, normalise_number};
use crate::registers::{SRegister, SRegisters};
use crate::result::ResultCode;

/// Off-hook to dial tone recognised, when the X level detects dial tone (X2, X4).
pub const DIAL_TONE_DETECT: Duration = Duration::from_secs(1);
/// How long the modem listens for a dial tone that never comes before `NO DIALTONE`.
pub const DIAL_TONE_TIMEOUT: Duration = Duration::from_secs(5);
/// Sending the digits of any ordinary number (DTMF tones and gaps). Each `,` adds S8.
pub const DIGITS_DIALLED: Duration = Duration::from_secs(1);
/// End of dialling to busy tone recognised (a couple of 0.5 s on / 0.5 s off cadences).
pub const BUSY_DETECT: Duration = Duration::from_secs(2);
/// End of dialling to the far end picking up (about one ring).
pub const ANSWER_DELAY: Duration = Duration::from_secs(2);
/// `!` in a dial string: the hook flash (Hayes: half a second on-hook).
pub const HOOK_FLASH: Duration = Duration::from_millis(500);
/// Answer to carrier: answer tone, modulation and speed negotiation.
pub const HANDSHAKE: Duration = Duration::from_secs(2);
/// Answer to a voice recognised (speech instead of an answer tone).
pub const VOICE_DETECT: Duration = Duration::from_secs(2);
/// V.250 §6.3.1: characters the DTE sends this soon after the dial command's S3 (a line
/// feed after the carriage return) do not abort the dial.
pub const ABORT_GRACE: Duration = Duration::from_millis(125);

/// A RING cycle (V.250 leaves the cadence to the network; this is the North American
/// one: 2 s of ring, 4 s of silence). `RING` is sent at the start of each.
pub const RING_CADENCE: Duration = Duration::from_secs(6);
/// How many rings a caller lets go by before giving up on an unanswered call.
pub const CALLER_PATIENCE: u8 = 10;

/// How a call attempt ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The attempt fails with this result code.
    Fails(ResultCode),
    /// The digits are out and the modem is back in command state (`ATD…;`): `OK`.
    Dialled,
    /// The carrier comes up.
    Connects(CallTerms),
}

/// What a connected call is: its rate, its far end, and what the network will do to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallTerms {
    /// The number dialled (or, for an incoming call, the number the network called).
    pub number: String,
    /// Line rate for `CONNECT <speed>`.
    pub speed: u32,
    /// What talks at the far end.
    pub peer: PeerSpec,
    /// The network drops the carrier after this many bytes either way.
    pub drop_after_bytes: Option<u64>,
    /// The network drops the carrier this long after `CONNECT`.
    pub drop_after: Option<Duration>,
    /// The network calls back once the call is over.
    pub call_back: Option<CallBack>,
}

/// A call the network places to the modem (a callback, or one the driver makes up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingCall {
    /// The number the network called; what [`crate::ModemEvent::CallConnected`] reports.
    pub number: String,
    /// Line rate once answered.
    pub speed: u32,
    /// What talks at the far end once answered.
    pub peer: PeerSpec,
}

impl IncomingCall {
    /// The terms of the call once answered: nothing scheduled on it.
    pub fn terms(&self) -> CallTerms {
        CallTerms {
            number: self.number.clone(),
            speed: self.speed,
            peer: self.peer.clone(),
            drop_after_bytes: None,
            drop_after: None,
            call_back: None,
        }
    }
}

/// A dial in progress: started at `started`, it ends with `ending` at `ends_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallAttempt {
    /// When the dial command was executed.
    pub started: Instant,
    /// When the final result is due.
    pub ends_at: Instant,
    /// What the final result is.
    pub ending: Ending,
}

/// What the X level (V.250 §6.2.7) lets the modem detect and report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallProgress {
    level: u8,
}

impl CallProgress {
    /// X0 to X4.
    pub fn new(level: u8) -> Self {
        CallProgress { level }
    }

    /// The X level itself (for `AT&V`).
    pub fn level(self) -> u8 {
        self.level
    }

    /// X2, X4: wait for dial tone (and report `NO DIALTONE`) instead of dialling blind.
    fn detects_dial_tone(self) -> bool {
        matches!(self.level, 2 | 4)
    }

    /// X3, X4: recognise busy tone (and report `BUSY`).
    fn detects_busy(self) -> bool {
        matches!(self.level, 3 | 4)
    }

    /// X1 and up: `CONNECT <speed>`, and the extended codes `NO ANSWER` and `VOICE`
    /// (X0 keeps to the basic codes 0–4).
    pub fn extended_codes(self) -> bool {
        self.level >= 1
    }
}

/// Work out how dialling `dial_string` at `now` goes, on `network`, with the modem's
/// current registers and X level. `stay_in_command_state` is the `;` modifier: the
/// attempt ends with `OK` once dialled, whatever the number is.
pub fn place_call(
    network: &Network,
    dial_string: &str,
    stay_in_command_state: bool,
    registers: &SRegisters,
    progress: CallProgress,
    now: Instant,
) -> CallAttempt {
    let number = normalise_number(dial_string);
    let fails_at = |ends_at: Instant, code: ResultCode| CallAttempt {
        started: now,
        ends_at,
        ending: Ending::Fails(code),
    };

    let mut dialled = now;
    if progress.detects_dial_tone() {
        if !network.dialtone {
            return fails_at(now + DIAL_TONE_TIMEOUT, ResultCode::NoDialtone);
        }
        dialled += DIAL_TONE_DETECT;
    } else {
        // V.250 §6.3.9: without dial tone detection, wait S6 and dial blind.
        dialled += registers.seconds(SRegister::BlindDialPause);
    }
    let count = |modifier: char| {
        let n = dial_string
            .chars()
            .filter(|c| c.eq_ignore_ascii_case(&modifier))
            .count();
        u32::try_from(n).unwrap_or(u32::MAX)
    };
    dialled += DIGITS_DIALLED
        + registers
            .seconds(SRegister::CommaDialModifierTime)
            .saturating_mul(count(','))
        + DIAL_TONE_DETECT.saturating_mul(count('W'))
        + HOOK_FLASH.saturating_mul(count('!'));
    if stay_in_command_state {
        return CallAttempt {
            started: now,
            ends_at: dialled,
            ending: Ending::Dialled,
        };
    }

    // V.250 §6.3.10: S7 counts from the end of dialling; whatever has not happened by
    // then ends in NO CARRIER (or NO ANSWER if ringback was heard).
    let gives_up_at = dialled + registers.seconds(SRegister::ConnectionCompletionTimeout);
    let outcome = if network.dialtone {
        network.numbers.get(&number)
    } else {
        None
    };
    let (at, ending) = match outcome {
        None | Some(Outcome::NoCarrier) => (gives_up_at, Ending::Fails(ResultCode::NoCarrier)),
        Some(Outcome::NoAnswer) if progress.extended_codes() => {
            (gives_up_at, Ending::Fails(ResultCode::NoAnswer))
        }
        Some(Outcome::NoAnswer) => (gives_up_at, Ending::Fails(ResultCode::NoCarrier)),
        Some(Outcome::Busy) if progress.detects_busy() => {
            (dialled + BUSY_DETECT, Ending::Fails(ResultCode::Busy))
        }
        Some(Outcome::Busy) => (gives_up_at, Ending::Fails(ResultCode::NoCarrier)),
        Some(Outcome::Voice) if progress.extended_codes() => (
            dialled + ANSWER_DELAY + VOICE_DETECT,
            Ending::Fails(ResultCode::Voice),
        ),
        Some(Outcome::Voice) => (gives_up_at, Ending::Fails(ResultCode::NoCarrier)),
        Some(Outcome::Connect {
            speed,
            peer,
            answer_delay,
            drop_after_bytes,
            drop_after,
            call_back,
        }) => (
            dialled + answer_delay.unwrap_or(ANSWER_DELAY) + HANDSHAKE,
            Ending::Connects(CallTerms {
                number: number.clone(),
                speed: *speed,
                peer: peer.clone(),
                drop_after_bytes: *drop_after_bytes,
                drop_after: *drop_after,
                call_back: call_back.clone(),
            }),
        ),
    };
    if at > gives_up_at {
        return fails_at(gives_up_at, ResultCode::NoCarrier);
    }
    CallAttempt {
        started: now,
        ends_at: at,
        ending,
    }
}
