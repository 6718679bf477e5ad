//! The string limits of `RASDIALPARAMS` (ras-reference §3.1–3.2), checked before a dial
//! touches any device.
//!
//! On Windows the limits are the sizes of the structure's fixed arrays: a caller cannot
//! pass a longer user name at all. Here strings have no fixed size, so an over-long one is
//! refused up front instead of being cut on the wire (PAP's Peer-ID and Passwd carry at
//! most 255 octets, RFC 1334 §2.2.1), which would only fail later with a misleading 691.

use crate::api::DialParams;
use crate::ras::RasError;

/// `RAS_MaxEntryName` (ras-reference §3.1).
pub const RAS_MAX_ENTRY_NAME: usize = 256;
/// `RAS_MaxPhoneNumber` (ras-reference §3.1).
pub const RAS_MAX_PHONE_NUMBER: usize = 128;
/// `RAS_MaxCallbackNumber` = `RAS_MaxPhoneNumber` (ras-reference §3.1).
pub const RAS_MAX_CALLBACK_NUMBER: usize = RAS_MAX_PHONE_NUMBER;
/// `UNLEN`, the longest user name (ras-reference §3.1, `lmcons.h`).
pub const UNLEN: usize = 256;
/// `PWLEN`, the longest password (ras-reference §3.1, `lmcons.h`).
pub const PWLEN: usize = 256;
/// `DNLEN` = `CNLEN`, the longest domain name (ras-reference §3.1, `lmcons.h`).
pub const DNLEN: usize = 15;

/// Characters as the W structures count them: UTF-16 code units, without the NUL
/// (ras-reference §3.1: arrays of `Max + 1` WCHARs). [inferred] The W variant is the one a
/// Unicode string maps onto.
fn wide_len(text: &str) -> usize {
    text.encode_utf16().count()
}

/// A phone number that fits `szPhoneNumber`, else 723 ERROR_PHONE_NUMBER_TOO_LONG
/// (ras-reference §2).
pub fn check_phone_number(number: &str) -> Result<(), RasError> {
    if wide_len(number) > RAS_MAX_PHONE_NUMBER {
        return Err(RasError::ERROR_PHONE_NUMBER_TOO_LONG);
    }
    Ok(())
}

impl DialParams {
    /// Check every string against its `RASDIALPARAMS` array (ras-reference §3.2): a phone
    /// number that does not fit is 723 ERROR_PHONE_NUMBER_TOO_LONG; any other string that
    /// does not fit is 87 ERROR_INVALID_PARAMETER. [inferred] Windows cannot receive such a
    /// structure, so it documents no error for it; 87 is what RAS APIs return for a
    /// parameter they cannot use (ras-reference §2).
    pub fn validate(&self) -> Result<(), RasError> {
        check_phone_number(&self.phone_number)?;
        let fields = [
            (&self.entry_name, RAS_MAX_ENTRY_NAME),
            (&self.callback_number, RAS_MAX_CALLBACK_NUMBER),
            (&self.user_name, UNLEN),
            (&self.password, PWLEN),
            (&self.domain, DNLEN),
        ];
        if fields.iter().any(|(text, max)| wide_len(text) > *max) {
            return Err(RasError::ERROR_INVALID_PARAMETER);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_count_utf16_units() {
        let at_limit = DialParams {
            phone_number: "5".repeat(RAS_MAX_PHONE_NUMBER),
            user_name: "ü".repeat(UNLEN),
            password: "p".repeat(PWLEN),
            domain: "D".repeat(DNLEN),
            ..DialParams::default()
        };
        assert_eq!(at_limit.validate(), Ok(()));
        // One astral character is two UTF-16 units.
        let over = DialParams {
            domain: format!("{}😀", "D".repeat(DNLEN - 1)),
            ..DialParams::default()
        };
        assert_eq!(over.validate(), Err(RasError::ERROR_INVALID_PARAMETER));
    }
}
