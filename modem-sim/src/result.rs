//! Result codes (V.250 §5.7): what the modem answers a command line with, and the
//! unsolicited codes it sends when a call changes.

use std::fmt;

/// A result code. Its verbose text and numeric (V0) form are written once, in
/// `ResultCode::forms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResultCode {
    /// The command line was executed.
    Ok,
    /// A data connection is up; the modem is now in online data mode.
    Connect,
    /// An incoming call is ringing.
    Ring,
    /// The connection failed or was lost.
    NoCarrier,
    /// The command line was not understood or could not be executed.
    Error,
    /// No dial tone on the line.
    NoDialtone,
    /// The called line is engaged.
    Busy,
    /// Ringback was heard, but nobody answered before S7 ran out.
    NoAnswer,
    /// A person answered (vendor extension).
    Voice,
}

impl ResultCode {
    /// `(numeric, verbose)`: the one table of both forms.
    ///
    /// 0–4 are V.250 §5.7 Table 1; 6–8 are the classic Hayes extended set that V.250
    /// leaves to the manufacturer. `VOICE` has no standard number: 12 is the one
    /// U.S. Robotics modems use.
    const fn forms(self) -> (u8, &'static str) {
        match self {
            ResultCode::Ok => (0, "OK"),
            ResultCode::Connect => (1, "CONNECT"),
            ResultCode::Ring => (2, "RING"),
            ResultCode::NoCarrier => (3, "NO CARRIER"),
            ResultCode::Error => (4, "ERROR"),
            ResultCode::NoDialtone => (6, "NO DIALTONE"),
            ResultCode::Busy => (7, "BUSY"),
            ResultCode::NoAnswer => (8, "NO ANSWER"),
            ResultCode::Voice => (12, "VOICE"),
        }
    }

    /// The numeric form sent under `ATV0`.
    pub const fn numeric(self) -> u8 {
        self.forms().0
    }

    /// The verbose form sent under `ATV1`.
    pub const fn verbose(self) -> &'static str {
        self.forms().1
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.verbose())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_match_v250_table_1() {
        assert_eq!(
            (ResultCode::Ok.numeric(), ResultCode::Ok.verbose()),
            (0, "OK")
        );
        assert_eq!(
            (
                ResultCode::NoCarrier.numeric(),
                ResultCode::NoCarrier.verbose()
            ),
            (3, "NO CARRIER")
        );
        assert_eq!(ResultCode::Busy.to_string(), "BUSY");
        assert_eq!(ResultCode::NoAnswer.numeric(), 8);
    }
}
