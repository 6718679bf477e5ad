//! RAS error codes (`raserror.h`, ras-reference §2) and the plain Win32 codes RAS APIs
//! return. Each number is written once, in [`error_table.rs`](self); everything else refers
//! to the named constants.

use std::fmt;
use std::str::FromStr;

/// `RASBASE`: every RAS error is `RASBASE + n`.
pub const RASBASE: u32 = 600;
/// `RASBASEEND` of the current SDK header (H2).
pub const RASBASEEND: u32 = 878;

/// A RAS or Win32 error number, as `RasDial` and the notifiers report it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RasError(u32);

macro_rules! ras_errors {
    ($($code:literal $symbol:ident $text:literal;)*) => {
        #[allow(missing_docs)]
        impl RasError {
            $(pub const $symbol: RasError = RasError($code);)*
        }

        /// `(code, symbol, our own short description)` for every code 600–878.
        const RAS_ERRORS: &[(u32, &str, &str)] = &[$(($code, stringify!($symbol), $text),)*];
    };
}

include!("error_table.rs");

/// Win32 codes that RAS APIs return besides their own (ras-reference §2 preamble).
const WIN32_ERRORS: &[(u32, &str, &str)] = &[
    (
        6,
        "ERROR_INVALID_HANDLE",
        "The connection handle is not valid (or was hung up).",
    ),
    (8, "ERROR_NOT_ENOUGH_MEMORY", "Not enough memory."),
    (87, "ERROR_INVALID_PARAMETER", "A parameter is not valid."),
    (122, "ERROR_INSUFFICIENT_BUFFER", "The buffer is too small."),
    (259, "ERROR_NO_MORE_ITEMS", "There are no more items."),
];

impl RasError {
    /// `ERROR_INVALID_HANDLE` (Win32).
    pub const ERROR_INVALID_HANDLE: RasError = RasError(6);
    /// `ERROR_INVALID_PARAMETER` (Win32).
    pub const ERROR_INVALID_PARAMETER: RasError = RasError(87);
    /// `ERROR_INSUFFICIENT_BUFFER` (Win32).
    pub const ERROR_INSUFFICIENT_BUFFER: RasError = RasError(122);
    /// `ERROR_NO_MORE_ITEMS` (Win32).
    pub const ERROR_NO_MORE_ITEMS: RasError = RasError(259);

    /// The error with this number (any number: unknown ones print as such).
    pub const fn from_code(code: u32) -> Self {
        RasError(code)
    }

    /// The number.
    pub const fn code(self) -> u32 {
        self.0
    }

    fn entry(self) -> Option<&'static (u32, &'static str, &'static str)> {
        RAS_ERRORS
            .iter()
            .chain(WIN32_ERRORS)
            .find(|(code, _, _)| *code == self.0)
    }

    /// The header symbol, e.g. `ERROR_LINE_BUSY`, if the number is known.
    pub fn symbol(self) -> Option<&'static str> {
        self.entry().map(|(_, symbol, _)| *symbol)
    }

    /// A short description in our own words (what `RasGetErrorString` is for).
    pub fn description(self) -> Option<&'static str> {
        self.entry().map(|(_, _, text)| *text)
    }
}

impl fmt::Debug for RasError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.symbol() {
            Some(symbol) => write!(f, "{}({})", symbol, self.0),
            None => write!(f, "RasError({})", self.0),
        }
    }
}

impl fmt::Display for RasError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.entry() {
            Some((code, symbol, text)) => write!(f, "{code} {symbol}: {text}"),
            None => write!(f, "error {}", self.0),
        }
    }
}

impl std::error::Error for RasError {}

/// Text that is neither an error number nor a known symbol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{0}` is not a RAS error (expected a number such as 676 or a symbol such as ERROR_LINE_BUSY)"
)]
pub struct UnknownError(pub String);

impl FromStr for RasError {
    type Err = UnknownError;
    /// Accepts a number (`676`) or a symbol (`ERROR_LINE_BUSY`, case-insensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(code) = s.parse::<u32>() {
            return Ok(RasError(code));
        }
        RAS_ERRORS
            .iter()
            .chain(WIN32_ERRORS)
            .find(|(_, symbol, _)| symbol.eq_ignore_ascii_case(s))
            .map(|(code, _, _)| RasError(*code))
            .ok_or_else(|| UnknownError(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_covers_rasbase_to_rasbaseend_once_each() {
        let codes: Vec<u32> = RAS_ERRORS.iter().map(|(code, _, _)| *code).collect();
        assert_eq!(codes, (RASBASE..=RASBASEEND).collect::<Vec<_>>());
    }

    #[test]
    fn numbers_match_raserror_h() {
        // Spot checks against ras-reference §2 (H2).
        assert_eq!(RasError::PENDING.code(), 600);
        assert_eq!(RasError::ERROR_CANNOT_FIND_PHONEBOOK_ENTRY.code(), 623);
        assert_eq!(RasError::ERROR_LINE_BUSY.code(), 676);
        assert_eq!(RasError::ERROR_NO_CARRIER.code(), 679);
        assert_eq!(RasError::ERROR_AUTHENTICATION_FAILURE.code(), 691);
        assert_eq!(RasError::ERROR_CHANGING_PASSWORD.code(), 709);
        assert_eq!(RasError::ERROR_PPP_LOOPBACK_DETECTED.code(), 737);
        assert_eq!(RasError::ERROR_CANNOT_DO_CUSTOMDIAL.code(), 755);
        assert_eq!(RasError::ERROR_WINHTTP_AUTO_PROXY_SERVICE.code(), 878);
    }

    #[test]
    fn parses_numbers_and_symbols() {
        assert_eq!("676".parse(), Ok(RasError::ERROR_LINE_BUSY));
        assert_eq!("error_line_busy".parse(), Ok(RasError::ERROR_LINE_BUSY));
        assert_eq!(
            "ERROR_INVALID_HANDLE".parse(),
            Ok(RasError::ERROR_INVALID_HANDLE)
        );
        assert!("ERROR_LINE_BUZY".parse::<RasError>().is_err());
        assert_eq!(
            format!("{:?}", RasError::ERROR_LINE_BUSY),
            "ERROR_LINE_BUSY(676)"
        );
    }
}
