//! The control channel a far-end process uses to ask the phone network for a call: one line
//! per connection to the modem's control socket (path in
//! [`crate::realtime::CONTROL_ENV`]).
//!
//! ```text
//! callback NUMBER SECONDS
//! ```
//!
//! asks the network to call `NUMBER` `SECONDS` (decimal, may have a fraction) from now, as
//! a RAS server does once it has agreed a callback and hung up. This module only reads and
//! writes the line; [`crate::realtime`] carries it out.

use std::fmt;

use sansio::Duration;

/// What a control line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlRequest {
    /// Call `number` after `after`.
    CallBack {
        /// The number to call, as written (the network normalises it).
        number: String,
        /// How long from now.
        after: Duration,
    },
}

/// A control line that cannot be carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ControlError {
    /// Not `callback NUMBER SECONDS`.
    #[error("unknown control request {0:?}; expected `callback NUMBER SECONDS`")]
    Unknown(String),
    /// The seconds are not a non-negative number a duration can hold.
    #[error("{0:?} is not a number of seconds")]
    Seconds(String),
}

impl ControlRequest {
    /// Read one control line (a trailing line end is allowed).
    pub fn parse(line: &str) -> Result<ControlRequest, ControlError> {
        match line.split_whitespace().collect::<Vec<_>>()[..] {
            ["callback", number, seconds] => {
                let after = seconds
                    .parse::<f64>()
                    .ok()
                    .and_then(|s| Duration::try_from_secs_f64(s).ok())
                    .ok_or_else(|| ControlError::Seconds(seconds.to_owned()))?;
                Ok(ControlRequest::CallBack {
                    number: number.to_owned(),
                    after,
                })
            }
            _ => Err(ControlError::Unknown(line.trim_end().to_owned())),
        }
    }
}

/// The line, as a far end writes it (with its line end).
impl fmt::Display for ControlRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlRequest::CallBack { number, after } => {
                writeln!(f, "callback {number} {}", after.as_secs_f64())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_a_callback_and_refuses_the_rest() {
        assert_eq!(
            ControlRequest::parse("callback 555-0100 2.5\n"),
            Ok(ControlRequest::CallBack {
                number: "555-0100".into(),
                after: Duration::from_millis(2500)
            })
        );
        assert!(matches!(
            ControlRequest::parse("callback 5550100 -1"),
            Err(ControlError::Seconds(_))
        ));
        assert!(matches!(
            ControlRequest::parse("callback 5550100 NaN"),
            Err(ControlError::Seconds(_))
        ));
        for bad in ["", "callback", "callback 1", "dial 1 2", "callback 1 2 3"] {
            assert!(
                matches!(ControlRequest::parse(bad), Err(ControlError::Unknown(_))),
                "{bad}"
            );
        }
    }

    proptest! {
        #[test]
        fn what_is_written_reads_back(number in "[0-9#*()-]{1,20}", millis in 0u64..10_000_000) {
            let request = ControlRequest::CallBack {
                number,
                after: Duration::from_millis(millis),
            };
            prop_assert_eq!(ControlRequest::parse(&request.to_string()), Ok(request));
        }

        #[test]
        fn any_line_reads_or_says_why(line in ".{0,80}") {
            let _ = ControlRequest::parse(&line);
        }
    }
}
