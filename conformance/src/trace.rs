//! The notification trace: one line per notifier call, in a canonical text form that
//! scenarios write and failure reports diff.
//!
//! Form: `State` for an entry notification (error 0), `State 676` for an error
//! notification; a subentry other than 1 is prefixed as `[2] State`. On input, the error
//! may also be given by symbol (`ConnectDevice ERROR_LINE_BUSY`).

use std::fmt;
use std::str::FromStr;

use ras_engine::ras::{Notification, RasConnState, RasError};

/// One notification as the trace records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceLine {
    /// 1-based subentry.
    pub subentry: u32,
    /// The state notified.
    pub state: RasConnState,
    /// Zero or the error.
    pub error: u32,
}

impl From<&Notification> for TraceLine {
    fn from(n: &Notification) -> Self {
        TraceLine {
            subentry: n.subentry,
            state: n.state,
            error: n.error.map_or(0, RasError::code),
        }
    }
}

impl fmt::Display for TraceLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.subentry != 1 {
            write!(f, "[{}] ", self.subentry)?;
        }
        write!(f, "{}", self.state)?;
        if self.error != 0 {
            write!(f, " {}", self.error)?;
        }
        Ok(())
    }
}

/// A trace line that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceLineError {
    /// Unknown state name.
    #[error(transparent)]
    State(#[from] ras_engine::ras::UnknownState),
    /// Unknown error.
    #[error(transparent)]
    Error(#[from] ras_engine::ras::UnknownError),
    /// Bad shape.
    #[error("`{0}` is not a trace line (expected `State`, `State ERROR` or `[N] State ERROR`)")]
    Shape(String),
    /// Bad shape of a status line.
    #[error(
        "`{0}` is not a status line (expected `POINT: State`, `POINT: State ERROR` or `POINT: ERROR`, POINT being before, a state name, settled or hung-up)"
    )]
    StatusShape(String),
}

impl FromStr for TraceLine {
    type Err = TraceLineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut rest = s.trim();
        let mut subentry = 1;
        if let Some(after) = rest.strip_prefix('[') {
            let (index, tail) = after
                .split_once(']')
                .ok_or_else(|| TraceLineError::Shape(s.to_owned()))?;
            subentry = index
                .trim()
                .parse()
                .map_err(|_| TraceLineError::Shape(s.to_owned()))?;
            rest = tail.trim_start();
        }
        let mut words = rest.split_whitespace();
        let state: RasConnState = words
            .next()
            .ok_or_else(|| TraceLineError::Shape(s.to_owned()))?
            .parse()?;
        let error = match words.next() {
            Some(word) => word.parse::<RasError>()?.code(),
            None => 0,
        };
        if words.next().is_some() {
            return Err(TraceLineError::Shape(s.to_owned()));
        }
        Ok(TraceLine {
            subentry,
            state,
            error,
        })
    }
}

/// Where the application calls `RasGetConnectStatus` (an `expect.status` line's point).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusPoint {
    /// Before dialing, on the handle the dial is about to get.
    Before,
    /// Inside the notifier, on entering this state.
    At(RasConnState),
    /// Once the dial has its outcome (Connected or failed), before hanging up.
    Settled,
    /// After the application has hung up.
    HungUp,
}

impl fmt::Display for StatusPoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusPoint::Before => f.write_str("before"),
            StatusPoint::At(state) => write!(f, "{state}"),
            StatusPoint::Settled => f.write_str("settled"),
            StatusPoint::HungUp => f.write_str("hung-up"),
        }
    }
}

impl FromStr for StatusPoint {
    type Err = TraceLineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim() {
            "before" => StatusPoint::Before,
            "settled" => StatusPoint::Settled,
            "hung-up" => StatusPoint::HungUp,
            state => StatusPoint::At(state.parse()?),
        })
    }
}

/// What `RasGetConnectStatus` returned: the status (state and `dwError`), or the call's
/// own error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusResult {
    /// `rasconnstate` and `dwError` (zero for none).
    Status {
        /// The state.
        state: RasConnState,
        /// The error the dial keeps, or zero.
        error: u32,
    },
    /// The call failed with this error (ERROR_INVALID_HANDLE for a handle not, or no
    /// longer, valid).
    Failed(u32),
}

/// One `RasGetConnectStatus` call: `PortOpened: PortOpened`, `settled: ConnectDevice
/// 676`, `hung-up: ERROR_INVALID_HANDLE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusLine {
    /// When the application asked.
    pub point: StatusPoint,
    /// What it got.
    pub result: StatusResult,
}

impl fmt::Display for StatusLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.point)?;
        match self.result {
            StatusResult::Status { state, error: 0 } => write!(f, "{state}"),
            StatusResult::Status { state, error } => write!(f, "{state} {error}"),
            StatusResult::Failed(code) => match RasError::from_code(code).symbol() {
                Some(symbol) => f.write_str(symbol),
                None => write!(f, "error {code}"),
            },
        }
    }
}

impl FromStr for StatusLine {
    type Err = TraceLineError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let shape = || TraceLineError::StatusShape(s.to_owned());
        let (point, result) = s.split_once(':').ok_or_else(shape)?;
        let point = point.parse()?;
        let mut words = result.split_whitespace();
        let first = words.next().ok_or_else(shape)?;
        let result = match first.parse::<RasConnState>() {
            Ok(state) => StatusResult::Status {
                state,
                error: match words.next() {
                    Some(word) => word.parse::<RasError>()?.code(),
                    None => 0,
                },
            },
            Err(_) => StatusResult::Failed(first.parse::<RasError>()?.code()),
        };
        if words.next().is_some() {
            return Err(shape());
        }
        Ok(StatusLine { point, result })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_lines_parse_and_print_canonically() {
        let line: StatusLine = "settled: ConnectDevice ERROR_LINE_BUSY"
            .parse()
            .expect("valid");
        assert_eq!(
            line,
            StatusLine {
                point: StatusPoint::Settled,
                result: StatusResult::Status {
                    state: RasConnState::ConnectDevice,
                    error: 676
                }
            }
        );
        assert_eq!(line.to_string(), "settled: ConnectDevice 676");
        let line: StatusLine = "hung-up: 6".parse().expect("valid");
        assert_eq!(line.to_string(), "hung-up: ERROR_INVALID_HANDLE");
        let line: StatusLine = "PortOpened: PortOpened".parse().expect("valid");
        assert_eq!(line.point, StatusPoint::At(RasConnState::PortOpened));
        assert!("settled ConnectDevice".parse::<StatusLine>().is_err());
        assert!("later: Connected".parse::<StatusLine>().is_err());
        assert!("before: Connected 676 x".parse::<StatusLine>().is_err());
    }

    #[test]
    fn parses_and_prints_canonically() {
        let line: TraceLine = "ConnectDevice ERROR_LINE_BUSY".parse().expect("valid");
        assert_eq!(
            line,
            TraceLine {
                subentry: 1,
                state: RasConnState::ConnectDevice,
                error: 676
            }
        );
        assert_eq!(line.to_string(), "ConnectDevice 676");
        let line: TraceLine = "[2] RASCS_SubEntryConnected".parse().expect("valid");
        assert_eq!(line.to_string(), "[2] SubEntryConnected");
        assert!("ConnectDevice 676 extra".parse::<TraceLine>().is_err());
        assert!("Dialing".parse::<TraceLine>().is_err());
        assert!("[x] OpenPort".parse::<TraceLine>().is_err());
    }
}
