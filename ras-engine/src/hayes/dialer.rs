//! The dialer: send the init strings one by one, then the dial command, and read result
//! codes until the call is up or has failed. Sans-IO (DESIGN §2).

use std::collections::VecDeque;

use sansio::{Duration, Instant, Machine};

use super::ResultCode;

/// How to talk to the modem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DialerConfig {
    /// Commands sent before dialing, each of which must answer `OK`. The default resets
    /// the modem, turns echo off and selects verbose result codes, which is what the
    /// result parser expects (`V1`).
    pub init: Vec<String>,
    /// The dial command without the number (`ATDT` for tone, `ATDP` for pulse).
    pub dial_command: String,
    /// The number to dial, as it goes on the line.
    pub number: String,
    /// How long an init command may take to answer.
    pub response_timeout: Duration,
    /// How long the dial may take to end in a result (a modem's S7 default is 50 s; this
    /// leaves it room to report `NO CARRIER` itself). When answering: how long to wait
    /// for the incoming call to connect.
    pub dial_timeout: Duration,
    /// Answer instead of dialing: after the init commands (which should arm auto-answer,
    /// `ATS0=1`), send nothing and wait for the modem to ring and report `CONNECT`.
    pub answer: bool,
}

impl DialerConfig {
    /// Default init strings for `number`.
    pub fn new(number: impl Into<String>) -> Self {
        DialerConfig {
            init: vec!["ATZ".to_owned(), "ATE0V1".to_owned()],
            dial_command: "ATDT".to_owned(),
            number: number.into(),
            response_timeout: Duration::from_secs(5),
            dial_timeout: Duration::from_secs(60),
            answer: false,
        }
    }

    /// Wait for an incoming call for up to `wait`: reset the modem, the usual result
    /// format, and auto-answer at the first ring (V.250 §6.3.8 S0; [inferred]: Windows
    /// leaves the answer to the modem's INF, a callback is answered at once).
    pub fn answer(wait: Duration) -> Self {
        DialerConfig {
            init: vec!["ATZ".to_owned(), "ATE0V1".to_owned(), "ATS0=1".to_owned()],
            dial_timeout: wait,
            answer: true,
            ..DialerConfig::new("")
        }
    }
}

/// Where in the conversation the dialer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Sending init command number `.0` (0-based).
    Init(usize),
    /// The dial command is out; waiting for the call's outcome.
    Dial,
    /// Answering: waiting for an incoming call to ring and connect.
    Answer,
}

/// Why a dial did not connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialFailure {
    /// The modem answered with a final result other than the one wanted.
    Result {
        /// The stage it answered in.
        stage: Stage,
        /// What it said.
        code: ResultCode,
    },
    /// Nothing usable came back in time.
    NoResponse {
        /// The stage that timed out.
        stage: Stage,
        /// Lines that came back but were not result codes (a device that answers in a
        /// language we do not understand, rather than a silent one).
        unrecognized: Vec<String>,
    },
}

/// What the dialer reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DialerEvent {
    /// `CONNECT`: the call is up. `data` holds bytes that followed the result line in the
    /// same read; they belong to the next protocol (PPP), not to the modem.
    Connected {
        /// The rate from `CONNECT <rate>`.
        rate: Option<u32>,
        /// Bytes after the `CONNECT` line.
        data: Vec<u8>,
    },
    /// The dial failed; the dialer is finished.
    Failed(DialFailure),
    /// Answering: the modem is ready and waits for a call ([`DialerConfig::answer`]).
    AwaitingCall,
}

/// Longest response line kept; a modem that never ends a line cannot grow memory.
const MAX_LINE: usize = 256;

/// The Hayes dialer machine.
#[derive(Debug)]
pub struct Dialer {
    config: DialerConfig,
    stage: Stage,
    /// The command last sent, to recognise its echo.
    sent: String,
    line: Vec<u8>,
    unrecognized: Vec<String>,
    deadline: Option<Instant>,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<DialerEvent>,
}

impl Dialer {
    /// Start dialing at `now`: the first command is queued at once.
    pub fn new(now: Instant, config: DialerConfig) -> Self {
        let mut dialer = Dialer {
            config,
            stage: Stage::Init(0),
            sent: String::new(),
            line: Vec::new(),
            unrecognized: Vec::new(),
            deadline: None,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
        };
        dialer.send_stage(now);
        dialer
    }

    /// The stage the dialer is in.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    fn send_stage(&mut self, now: Instant) {
        let (command, timeout) = match self.stage {
            Stage::Init(i) => match self.config.init.get(i) {
                Some(command) => (command.clone(), self.config.response_timeout),
                None => {
                    self.stage = if self.config.answer {
                        Stage::Answer
                    } else {
                        Stage::Dial
                    };
                    return self.send_stage(now);
                }
            },
            Stage::Answer => {
                self.sent.clear();
                self.unrecognized.clear();
                self.deadline = Some(now + self.config.dial_timeout);
                self.events.push_back(DialerEvent::AwaitingCall);
                return;
            }
            Stage::Dial => (
                format!("{}{}", self.config.dial_command, self.config.number),
                self.config.dial_timeout,
            ),
        };
        tracing::debug!(%command, "dialer sends");
        let mut bytes = command.clone().into_bytes();
        bytes.push(b'\r'); // V.250 §5.2.1: S3 (CR) ends the command line.
        self.transmit.push_back(bytes);
        self.sent = command;
        self.unrecognized.clear();
        self.deadline = Some(now + timeout);
    }

    fn finish(&mut self, event: DialerEvent) {
        self.deadline = None;
        self.events.push_back(event);
    }

    fn is_finished(&self) -> bool {
        self.deadline.is_none()
    }

    /// Handle one complete response line; returns true when the dialer finished.
    fn handle_line(&mut self, now: Instant, line: &str, rest: &[u8]) -> bool {
        let line = line.trim();
        if line.is_empty() || line.eq_ignore_ascii_case(&self.sent) {
            return false; // blank separators and the modem's echo of our command
        }
        let Some(code) = ResultCode::parse(line) else {
            tracing::debug!(line, "modem said something that is not a result code");
            if self.unrecognized.len() < 8 {
                self.unrecognized.push(line.to_owned());
            }
            return false;
        };
        tracing::debug!(%code, stage = ?self.stage, "modem result");
        match (self.stage, code) {
            (Stage::Init(i), ResultCode::Ok) => {
                self.stage = Stage::Init(i + 1);
                self.send_stage(now);
                false
            }
            (Stage::Dial | Stage::Answer, ResultCode::Connect { rate }) => {
                let data = rest
                    .iter()
                    .copied()
                    .skip_while(|b| matches!(b, b'\r' | b'\n'))
                    .collect();
                self.finish(DialerEvent::Connected { rate, data });
                true
            }
            // RING while dialing out is an incoming call racing ours; keep waiting. While
            // answering, the modem answers it itself (S0).
            (_, ResultCode::Ring) => false,
            // Answering after a call: the modem reporting that call gone, late, while we
            // reset it. The reset starts again on a modem now surely in command state.
            (Stage::Init(_), ResultCode::NoCarrier) if self.config.answer => {
                tracing::debug!("NO CARRIER from the previous call: resetting again");
                self.stage = Stage::Init(0);
                self.send_stage(now);
                false
            }
            (stage, code) => {
                self.finish(DialerEvent::Failed(DialFailure::Result { stage, code }));
                true
            }
        }
    }
}

impl Machine for Dialer {
    type Event = DialerEvent;

    fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        for (i, &byte) in bytes.iter().enumerate() {
            if self.is_finished() {
                return;
            }
            if matches!(byte, b'\r' | b'\n') {
                let line = String::from_utf8_lossy(&self.line).into_owned();
                self.line.clear();
                if self.handle_line(now, &line, &bytes[i + 1..]) {
                    return;
                }
            } else if self.line.len() < MAX_LINE {
                self.line.push(byte);
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_some_and(|deadline| now >= deadline) {
            let unrecognized = std::mem::take(&mut self.unrecognized);
            self.finish(DialerEvent::Failed(DialFailure::NoResponse {
                stage: self.stage,
                unrecognized,
            }));
        }
    }

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    fn poll_event(&mut self) -> Option<DialerEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> Instant {
        Instant::ZERO + Duration::from_secs(secs)
    }

    fn sent(dialer: &mut Dialer) -> String {
        String::from_utf8(dialer.poll_transmit().expect("a command")).expect("ascii")
    }

    #[test]
    fn walks_init_then_dials_and_connects() {
        let mut d = Dialer::new(at(0), DialerConfig::new("5551234"));
        assert_eq!(sent(&mut d), "ATZ\r");
        d.handle_input(at(0), b"ATZ\r\r\nOK\r\n"); // echo is still on after ATZ
        assert_eq!(sent(&mut d), "ATE0V1\r");
        d.handle_input(at(0), b"\r\nOK\r\n");
        assert_eq!(sent(&mut d), "ATDT5551234\r");
        assert_eq!(d.stage(), Stage::Dial);
        d.handle_input(at(6), b"\r\nCONNECT 33600\r\n~\xff\x7d\x23");
        assert_eq!(
            d.poll_event(),
            Some(DialerEvent::Connected {
                rate: Some(33600),
                data: b"~\xff\x7d\x23".to_vec()
            })
        );
        assert_eq!(d.poll_timeout(), None);
    }

    #[test]
    fn reports_the_failing_result_and_stage() {
        let mut d = Dialer::new(
            at(0),
            DialerConfig {
                init: vec![],
                ..DialerConfig::new("5550000")
            },
        );
        assert_eq!(sent(&mut d), "ATDT5550000\r");
        d.handle_input(at(4), b"\r\nBU");
        d.handle_input(at(4), b"SY\r\n");
        assert_eq!(
            d.poll_event(),
            Some(DialerEvent::Failed(DialFailure::Result {
                stage: Stage::Dial,
                code: ResultCode::Busy
            }))
        );
    }

    #[test]
    fn times_out_with_what_it_did_not_understand() {
        let mut d = Dialer::new(at(0), DialerConfig::new("1"));
        d.handle_input(at(1), b"garbage\r\n");
        d.handle_timeout(at(4));
        assert_eq!(d.poll_event(), None, "not due yet");
        d.handle_timeout(at(5));
        assert_eq!(
            d.poll_event(),
            Some(DialerEvent::Failed(DialFailure::NoResponse {
                stage: Stage::Init(0),
                unrecognized: vec!["garbage".to_owned()]
            }))
        );
    }

    #[test]
    fn answers_after_arming_auto_answer() {
        let mut d = Dialer::new(at(0), DialerConfig::answer(Duration::from_secs(90)));
        assert_eq!(sent(&mut d), "ATZ\r");
        d.handle_input(at(0), b"OK\r\n");
        assert_eq!(sent(&mut d), "ATE0V1\r");
        d.handle_input(at(0), b"OK\r\n");
        assert_eq!(sent(&mut d), "ATS0=1\r");
        d.handle_input(at(1), b"\r\nOK\r\n");
        assert_eq!(d.poll_event(), Some(DialerEvent::AwaitingCall));
        assert_eq!(d.poll_transmit(), None, "nothing is dialed");
        assert_eq!(d.poll_timeout(), Some(at(91)));
        d.handle_input(at(20), b"\r\nRING\r\n");
        d.handle_input(at(22), b"\r\nCONNECT 33600\r\n~");
        assert_eq!(
            d.poll_event(),
            Some(DialerEvent::Connected {
                rate: Some(33600),
                data: b"~".to_vec()
            })
        );
    }

    #[test]
    fn a_late_no_carrier_restarts_the_reset() {
        let mut d = Dialer::new(at(0), DialerConfig::answer(Duration::from_secs(90)));
        assert_eq!(sent(&mut d), "ATZ\r");
        d.handle_input(at(0), b"\r\nNO CARRIER\r\n");
        assert_eq!(sent(&mut d), "ATZ\r");
        assert_eq!(d.poll_event(), None);
        d.handle_input(at(0), b"OK\r\n");
        assert_eq!(sent(&mut d), "ATE0V1\r");
    }

    #[test]
    fn a_call_that_never_comes_times_out_in_the_answer_stage() {
        let mut d = Dialer::new(
            at(0),
            DialerConfig {
                init: vec![],
                ..DialerConfig::answer(Duration::from_secs(30))
            },
        );
        assert_eq!(d.poll_event(), Some(DialerEvent::AwaitingCall));
        d.handle_timeout(at(30));
        assert_eq!(
            d.poll_event(),
            Some(DialerEvent::Failed(DialFailure::NoResponse {
                stage: Stage::Answer,
                unrecognized: vec![]
            }))
        );
    }

    #[test]
    fn error_to_an_init_command_fails_that_stage() {
        let mut d = Dialer::new(at(0), DialerConfig::new("1"));
        d.handle_input(at(0), b"OK\r\n");
        d.handle_input(at(0), b"ERROR\r\n");
        assert_eq!(
            d.poll_event(),
            Some(DialerEvent::Failed(DialFailure::Result {
                stage: Stage::Init(1),
                code: ResultCode::Error
            }))
        );
    }
}
