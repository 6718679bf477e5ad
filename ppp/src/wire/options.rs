//! The Configuration Option list shared by LCP and every NCP (RFC 1661 §6): a sequence of
//! Type, Length, Data, where Length counts the Type and Length octets too.

use std::fmt;

use super::WireError;

/// One protocol's configuration option (LCP's, IPCP's, ...).
pub trait ConfigOption: Sized + Clone + fmt::Debug + PartialEq {
    /// The Type octet.
    fn kind(&self) -> u8;
    /// Parse the Data of an option of type `kind`. Unknown types must be kept (raw), so
    /// they can be Configure-Rejected (RFC 1661 §5.4); only a known type with an impossible
    /// length is an error.
    fn parse_data(kind: u8, data: &[u8]) -> Result<Self, WireError>;
    /// Append the Data octets.
    fn emit_data(&self, out: &mut Vec<u8>);
}

/// RFC 1661 §6: Type and Length precede the Data.
const OPTION_HEADER_LEN: usize = 2;

/// Parse a whole option list; any option whose Length runs past the list, or is below 2, is
/// an error for the whole packet.
pub fn parse_list<O: ConfigOption>(mut bytes: &[u8]) -> Result<Vec<O>, WireError> {
    let mut options = Vec::new();
    while !bytes.is_empty() {
        let [kind, length, ..] = *bytes else {
            return Err(WireError::Truncated {
                what: "option",
                len: bytes.len(),
                need: OPTION_HEADER_LEN,
            });
        };
        let length = usize::from(length);
        if length < OPTION_HEADER_LEN || length > bytes.len() {
            return Err(WireError::BadLength {
                what: "option",
                length,
                available: bytes.len(),
            });
        }
        options.push(O::parse_data(kind, &bytes[OPTION_HEADER_LEN..length])?);
        bytes = &bytes[length..];
    }
    Ok(options)
}

/// Append `options` in order.
pub fn emit_list<O: ConfigOption>(options: &[O], out: &mut Vec<u8>) {
    for option in options {
        let start = out.len();
        out.push(option.kind());
        out.push(0);
        option.emit_data(out);
        // Data is bounded by the option types themselves (at most 253 octets for raw data
        // that came off the wire); saturate rather than wrap if a caller built a bigger one.
        out[start + 1] = u8::try_from(out.len() - start).unwrap_or(u8::MAX);
    }
}

/// Octets [`emit_list`] writes.
pub fn list_len<O: ConfigOption>(options: &[O]) -> usize {
    let mut out = Vec::new();
    emit_list(options, &mut out);
    out.len()
}

/// Check that a known option's data is exactly `expected` octets.
pub(crate) fn expect_len(kind: u8, data: &[u8], expected: usize) -> Result<(), WireError> {
    if data.len() == expected {
        Ok(())
    } else {
        Err(WireError::BadOptionLength {
            kind,
            length: data.len() + OPTION_HEADER_LEN,
        })
    }
}
