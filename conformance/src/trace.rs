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

#[cfg(test)]
mod tests {
    use super::*;

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
