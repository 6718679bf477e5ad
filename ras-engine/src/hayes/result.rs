//! Hayes result codes as the dialer reads them (ITU-T V.250 §5.7 and the classic Hayes set).

use std::fmt;

/// A final result code from the modem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResultCode {
    /// `OK` / `0`: command line accepted.
    Ok,
    /// `CONNECT [rate]` / `1` (and vendor rate codes): the call is up, data follows.
    Connect {
        /// The rate the modem reported, if it reported one.
        rate: Option<u32>,
    },
    /// `RING` / `2`: an incoming call (not final for a dial; answered elsewhere).
    Ring,
    /// `NO CARRIER` / `3`.
    NoCarrier,
    /// `ERROR` / `4`.
    Error,
    /// `NO DIALTONE` / `6`.
    NoDialtone,
    /// `BUSY` / `7`.
    Busy,
    /// `NO ANSWER` / `8`.
    NoAnswer,
    /// `VOICE`: a person answered (vendor extension).
    Voice,
}

/// Verbose text and numeric (V0) form of each code: V.250 §6.2.6 table 1 for 0–4, the
/// Hayes extended set for 6–8. `VOICE` has no standard number.
const RESULT_CODES: &[(&str, Option<u8>, ResultCode)] = &[
    ("OK", Some(0), ResultCode::Ok),
    ("RING", Some(2), ResultCode::Ring),
    ("NO CARRIER", Some(3), ResultCode::NoCarrier),
    ("ERROR", Some(4), ResultCode::Error),
    ("NO DIALTONE", Some(6), ResultCode::NoDialtone),
    ("NO DIAL TONE", None, ResultCode::NoDialtone),
    ("BUSY", Some(7), ResultCode::Busy),
    ("NO ANSWER", Some(8), ResultCode::NoAnswer),
    ("VOICE", None, ResultCode::Voice),
];

impl ResultCode {
    /// Parse one response line (without its line ending). Returns `None` for anything
    /// that is not a result code (echo, banners, information text).
    pub fn parse(line: &str) -> Option<ResultCode> {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("CONNECT") {
            // `CONNECT`, `CONNECT 33600`, `CONNECT 33600/ARQ/V34` …
            let rate = rest
                .trim_start()
                .split(|c: char| !c.is_ascii_digit())
                .next();
            let rate = rate.and_then(|digits| digits.parse().ok());
            return (rest.is_empty() || rest.starts_with([' ', '/']))
                .then_some(ResultCode::Connect { rate });
        }
        if line == "1" {
            return Some(ResultCode::Connect { rate: None });
        }
        RESULT_CODES.iter().find_map(|(verbose, numeric, code)| {
            let numeric_match = numeric.is_some_and(|n| line == n.to_string());
            (line.eq_ignore_ascii_case(verbose) || numeric_match).then(|| code.clone())
        })
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResultCode::Connect { rate: Some(rate) } => write!(f, "CONNECT {rate}"),
            ResultCode::Connect { rate: None } => f.write_str("CONNECT"),
            other => {
                let text = RESULT_CODES
                    .iter()
                    .find(|(_, _, code)| code == other)
                    .map_or("?", |(text, _, _)| *text);
                f.write_str(text)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_verbose_and_numeric_forms() {
        assert_eq!(ResultCode::parse("OK"), Some(ResultCode::Ok));
        assert_eq!(ResultCode::parse("0"), Some(ResultCode::Ok));
        assert_eq!(
            ResultCode::parse("CONNECT 33600"),
            Some(ResultCode::Connect { rate: Some(33600) })
        );
        assert_eq!(
            ResultCode::parse("CONNECT 115200/ARQ"),
            Some(ResultCode::Connect { rate: Some(115200) })
        );
        assert_eq!(
            ResultCode::parse("CONNECT"),
            Some(ResultCode::Connect { rate: None })
        );
        assert_eq!(
            ResultCode::parse("1"),
            Some(ResultCode::Connect { rate: None })
        );
        assert_eq!(ResultCode::parse("BUSY"), Some(ResultCode::Busy));
        assert_eq!(ResultCode::parse("7"), Some(ResultCode::Busy));
        assert_eq!(
            ResultCode::parse("NO DIALTONE"),
            Some(ResultCode::NoDialtone)
        );
        assert_eq!(ResultCode::parse("NO CARRIER"), Some(ResultCode::NoCarrier));
        assert_eq!(ResultCode::parse("VOICE"), Some(ResultCode::Voice));
    }

    #[test]
    fn ignores_what_is_not_a_result() {
        for line in ["ATDT5551234", "CONNECTED", "Hayes Smartmodem", "", "42"] {
            assert_eq!(ResultCode::parse(line), None, "{line:?}");
        }
    }

    #[test]
    fn displays_verbose_text() {
        assert_eq!(ResultCode::NoDialtone.to_string(), "NO DIALTONE");
        assert_eq!(
            ResultCode::Connect { rate: Some(9600) }.to_string(),
            "CONNECT 9600"
        );
    }
}
