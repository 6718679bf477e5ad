//! The sans-IO script runner: received bytes and timeouts in, bytes to send and events out.

use std::collections::VecDeque;
use std::net::Ipv4Addr;

use sansio::{Duration, Instant, Machine};
use tracing::debug;

use super::{BinaryOp, DialScript, Expr, Op, PortSetting, SystemVariable, translate};

/// Commands run without waiting before the runner calls the script runaway (a `while`
/// that never waits would otherwise spin forever inside one call).
const STEP_BUDGET: usize = 100_000;

/// Received text kept for `waitfor` and `getip`; older text is dropped.
const RECEIVE_WINDOW: usize = 64 * 1024;

/// What the script did, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptEvent {
    /// `set port …`: the driver changes the serial line.
    SetPort(PortSetting),
    /// `set screen keyboard on|off`: whether the user may type in the terminal window.
    Keyboard(bool),
    /// `set ipaddr …`: the address the dial should use (SLIP/PPP).
    IpAddress(Ipv4Addr),
    /// The end of `proc main`: Dial-Up Networking starts PPP (SCRIPT.DOC §7.0 `endproc`).
    Finished,
    /// `halt`: the script stopped without finishing (SCRIPT.DOC §8.0).
    Halted,
    /// The script could not go on.
    Failed(ScriptRuntimeError),
}

/// Why a running script stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScriptRuntimeError {
    /// Integer division by zero, or an overflow.
    #[error("arithmetic error: {0}")]
    Arithmetic(&'static str),
    /// `delay` or `until` with a negative number of seconds.
    #[error("a negative time: {0} seconds")]
    NegativeTime(i64),
    /// `set ipaddr` with something that is no IPv4 address.
    #[error("`{0}` is not an IP address")]
    BadIpAddress(String),
    /// `set ipaddr getip` before any address was received.
    #[error("no IP address received")]
    NoIpAddress,
    /// Too many commands without waiting for the line: a loop that never ends.
    #[error("the script ran {STEP_BUDGET} commands without waiting (an endless loop?)")]
    Runaway,
}

/// A value at run time.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Integer(i64),
    Text(String),
    Boolean(bool),
}

/// What the script is waiting for.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Wait {
    /// Running, or not started.
    Nothing,
    /// `waitfor`: these byte patterns (lower-cased where the match ignores case).
    Text {
        patterns: Vec<(Vec<u8>, bool, Option<usize>)>,
        deadline: Option<Instant>,
    },
    /// `delay`.
    Delay(Instant),
    /// `getip n`.
    Address { index: usize, into: Option<usize> },
    /// Finished, halted or failed.
    Done,
}

/// Runs a [`DialScript`] on the raw line.
#[derive(Debug)]
pub struct ScriptRunner {
    script: DialScript,
    user: String,
    password: String,
    pc: usize,
    variables: Vec<Value>,
    success: bool,
    received: Vec<u8>,
    last_address: Option<Ipv4Addr>,
    wait: Wait,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<ScriptEvent>,
}

impl ScriptRunner {
    /// A runner for `script` whose `$USERID` and `$PASSWORD` are `user` and `password`.
    pub fn new(script: DialScript, user: &str, password: &str) -> Self {
        ScriptRunner {
            variables: vec![Value::Boolean(false); script.variables],
            script,
            user: user.to_owned(),
            password: password.to_owned(),
            pc: 0,
            success: false,
            received: Vec::new(),
            last_address: None,
            wait: Wait::Nothing,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Run from the top until the script waits or ends.
    pub fn start(&mut self, now: Instant) {
        if self.wait == Wait::Nothing && self.pc == 0 {
            self.run(now);
        }
    }

    /// The script has finished, halted or failed.
    pub fn is_done(&self) -> bool {
        self.wait == Wait::Done
    }

    /// What the line sent that no `waitfor` or `getip` consumed. Once the script has
    /// finished, this is the start of what follows it (the server's first PPP frames, if
    /// it spoke first): the engine hands it to PPP.
    pub fn take_received(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.received)
    }

    fn stop(&mut self, event: ScriptEvent) {
        debug!(?event, "script: stopped");
        self.events.push_back(event);
        self.wait = Wait::Done;
    }

    fn run(&mut self, now: Instant) {
        for _ in 0..STEP_BUDGET {
            if self.wait != Wait::Nothing {
                return;
            }
            let Some(op) = self.script.ops.get(self.pc).cloned() else {
                self.stop(ScriptEvent::Finished);
                return;
            };
            if let Err(error) = self.step(now, op) {
                self.stop(ScriptEvent::Failed(error));
                return;
            }
        }
        self.stop(ScriptEvent::Failed(ScriptRuntimeError::Runaway));
    }

    fn step(&mut self, now: Instant, op: Op) -> Result<(), ScriptRuntimeError> {
        self.pc += 1;
        match op {
            Op::Assign { slot, value } => self.variables[slot] = self.eval(&value)?,
            Op::Transmit { text, raw } => {
                let text = self.text(&text)?;
                let bytes = if raw {
                    text.into_bytes()
                } else {
                    translate(&text)
                };
                // Never the bytes: they may be the password.
                debug!(len = bytes.len(), "script: transmit");
                self.transmit.push_back(bytes);
            }
            Op::WaitFor { arms, until } => {
                let mut patterns = Vec::new();
                for arm in &arms {
                    let mut pattern = translate(&self.text(&arm.text)?);
                    if !arm.match_case {
                        pattern.make_ascii_lowercase();
                    }
                    patterns.push((pattern, arm.match_case, arm.then));
                }
                let deadline = match until {
                    Some(seconds) => Some(now + self.seconds(&seconds)?),
                    None => None,
                };
                self.wait = Wait::Text { patterns, deadline };
                self.try_match();
            }
            Op::Delay(seconds) => {
                self.wait = Wait::Delay(now + self.seconds(&seconds)?);
            }
            Op::GetIp { index, into } => {
                let index = usize::try_from(self.integer(&index)?.max(1)).unwrap_or(1);
                self.wait = Wait::Address { index, into };
                self.try_match();
            }
            Op::SetIpAddr(address) => {
                let text = self.text(&address)?;
                let address = text
                    .trim()
                    .parse()
                    .map_err(|_| ScriptRuntimeError::BadIpAddress(text))?;
                self.events.push_back(ScriptEvent::IpAddress(address));
            }
            Op::SetIpAddrFromLast => {
                let address = self.last_address.ok_or(ScriptRuntimeError::NoIpAddress)?;
                self.events.push_back(ScriptEvent::IpAddress(address));
            }
            Op::SetPort(setting) => self.events.push_back(ScriptEvent::SetPort(setting)),
            Op::SetKeyboard(on) => self.events.push_back(ScriptEvent::Keyboard(on)),
            Op::Halt => self.stop(ScriptEvent::Halted),
            Op::Jump(to) => self.pc = to,
            Op::JumpUnless { condition, to } => {
                if self.eval(&condition)? != Value::Boolean(true) {
                    self.pc = to;
                }
            }
            Op::End => self.stop(ScriptEvent::Finished),
        }
        Ok(())
    }

    /// Settle a `waitfor` or `getip` if the received text allows.
    fn try_match(&mut self) {
        match &self.wait {
            Wait::Text { patterns, .. } => {
                let lowered = self.received.to_ascii_lowercase();
                // The arm whose text is complete first wins [inferred].
                let found = patterns
                    .iter()
                    .filter_map(|(pattern, match_case, then)| {
                        let haystack = if *match_case {
                            &self.received
                        } else {
                            &lowered
                        };
                        find(haystack, pattern).map(|at| (at + pattern.len(), *then))
                    })
                    .min_by_key(|(end, _)| *end);
                if let Some((end, then)) = found {
                    self.received.drain(..end);
                    self.success = true;
                    if let Some(then) = then {
                        self.pc = then;
                    }
                    self.wait = Wait::Nothing;
                }
            }
            Wait::Address { index, into } => {
                if let Some((address, end)) = nth_address(&self.received, *index) {
                    self.received.drain(..end);
                    self.success = true;
                    self.last_address = Some(address);
                    if let Some(slot) = into {
                        self.variables[*slot] = Value::Text(address.to_string());
                    }
                    self.wait = Wait::Nothing;
                }
            }
            _ => {}
        }
    }

    fn seconds(&self, expr: &Expr) -> Result<Duration, ScriptRuntimeError> {
        let seconds = self.integer(expr)?;
        u64::try_from(seconds)
            .map(Duration::from_secs)
            .map_err(|_| ScriptRuntimeError::NegativeTime(seconds))
    }

    fn integer(&self, expr: &Expr) -> Result<i64, ScriptRuntimeError> {
        match self.eval(expr)? {
            Value::Integer(value) => Ok(value),
            _ => Err(ScriptRuntimeError::Arithmetic("not an integer")),
        }
    }

    fn text(&self, expr: &Expr) -> Result<String, ScriptRuntimeError> {
        match self.eval(expr)? {
            Value::Text(text) => Ok(text),
            _ => Err(ScriptRuntimeError::Arithmetic("not a string")),
        }
    }

    /// The parser typed every expression; a mismatch here cannot happen, and is reported
    /// rather than trusted.
    fn eval(&self, expr: &Expr) -> Result<Value, ScriptRuntimeError> {
        Ok(match expr {
            Expr::Integer(value) => Value::Integer(*value),
            Expr::Text(text) => Value::Text(text.clone()),
            Expr::Boolean(value) => Value::Boolean(*value),
            Expr::Variable(slot) => self.variables[*slot].clone(),
            Expr::System(SystemVariable::UserId) => Value::Text(self.user.clone()),
            Expr::System(SystemVariable::Password) => Value::Text(self.password.clone()),
            Expr::System(SystemVariable::Success) => Value::Boolean(self.success),
            Expr::System(SystemVariable::Failure) => Value::Boolean(!self.success),
            Expr::Not(inner) => match self.eval(inner)? {
                Value::Boolean(value) => Value::Boolean(!value),
                _ => return Err(ScriptRuntimeError::Arithmetic("`!` of a non-boolean")),
            },
            Expr::Negate(inner) => Value::Integer(
                self.integer(inner)?
                    .checked_neg()
                    .ok_or(ScriptRuntimeError::Arithmetic("overflow"))?,
            ),
            Expr::Binary(op, left, right) => binary(*op, self.eval(left)?, self.eval(right)?)?,
        })
    }
}

fn binary(op: BinaryOp, left: Value, right: Value) -> Result<Value, ScriptRuntimeError> {
    use BinaryOp::*;
    let overflow = ScriptRuntimeError::Arithmetic("overflow");
    Ok(match (op, left, right) {
        (Add, Value::Text(l), Value::Text(r)) => Value::Text(l + &r),
        (Add, Value::Integer(l), Value::Integer(r)) => {
            Value::Integer(l.checked_add(r).ok_or(overflow)?)
        }
        (Subtract, Value::Integer(l), Value::Integer(r)) => {
            Value::Integer(l.checked_sub(r).ok_or(overflow)?)
        }
        (Multiply, Value::Integer(l), Value::Integer(r)) => {
            Value::Integer(l.checked_mul(r).ok_or(overflow)?)
        }
        (Divide, Value::Integer(_), Value::Integer(0)) => {
            return Err(ScriptRuntimeError::Arithmetic("division by zero"));
        }
        (Divide, Value::Integer(l), Value::Integer(r)) => {
            Value::Integer(l.checked_div(r).ok_or(overflow)?)
        }
        (Less, Value::Integer(l), Value::Integer(r)) => Value::Boolean(l < r),
        (Greater, Value::Integer(l), Value::Integer(r)) => Value::Boolean(l > r),
        (LessEqual, Value::Integer(l), Value::Integer(r)) => Value::Boolean(l <= r),
        (GreaterEqual, Value::Integer(l), Value::Integer(r)) => Value::Boolean(l >= r),
        (Equal, l, r) => Value::Boolean(l == r),
        (NotEqual, l, r) => Value::Boolean(l != r),
        (And, Value::Boolean(l), Value::Boolean(r)) => Value::Boolean(l && r),
        (Or, Value::Boolean(l), Value::Boolean(r)) => Value::Boolean(l || r),
        _ => return Err(ScriptRuntimeError::Arithmetic("operands of the wrong type")),
    })
}

/// Where `needle` first occurs in `haystack`; an empty needle matches at once.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// The `index`th (1-based) dotted-quad IPv4 address in `text`, and where it ends. An
/// address still being received (digits at the very end) is not taken yet.
fn nth_address(text: &[u8], index: usize) -> Option<(Ipv4Addr, usize)> {
    let mut seen = 0;
    let mut at = 0;
    while at < text.len() {
        if !text[at].is_ascii_digit() || (at > 0 && is_address_octet(text[at - 1])) {
            at += 1;
            continue;
        }
        let end = text[at..]
            .iter()
            .position(|&b| !is_address_octet(b))
            .map_or(text.len(), |n| at + n);
        if end == text.len() {
            return None;
        }
        let candidate = std::str::from_utf8(&text[at..end]).ok()?;
        if let Ok(address) = candidate.trim_end_matches('.').parse::<Ipv4Addr>() {
            seen += 1;
            if seen == index {
                return Some((address, end));
            }
        }
        at = end;
    }
    None
}

fn is_address_octet(byte: u8) -> bool {
    byte.is_ascii_digit() || byte == b'.'
}

impl Machine for ScriptRunner {
    type Event = ScriptEvent;

    fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        if self.wait == Wait::Done {
            return;
        }
        self.received.extend_from_slice(bytes);
        if self.received.len() > RECEIVE_WINDOW {
            let excess = self.received.len() - RECEIVE_WINDOW;
            self.received.drain(..excess);
        }
        self.try_match();
        self.run(now);
    }

    fn handle_timeout(&mut self, now: Instant) {
        match self.wait {
            Wait::Text {
                deadline: Some(deadline),
                ..
            } if deadline <= now => {
                // SCRIPT.DOC §8.0 `until`: time is up; $SUCCESS says it failed.
                self.success = false;
                self.wait = Wait::Nothing;
            }
            Wait::Delay(until) if until <= now => self.wait = Wait::Nothing,
            _ => return,
        }
        self.run(now);
    }

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.transmit.pop_front()
    }

    fn poll_event(&mut self) -> Option<ScriptEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        match self.wait {
            Wait::Text { deadline, .. } => deadline,
            Wait::Delay(until) => Some(until),
            _ => None,
        }
    }
}
