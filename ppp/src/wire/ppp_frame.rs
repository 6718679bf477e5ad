//! The PPP encapsulation inside an HDLC-like frame (RFC 1661 §2, RFC 1662 §3): optional
//! Address/Control, a one- or two-octet Protocol field, the Information field.

use std::fmt;

use super::{Protocol, WireError};
use crate::hdlc::{ADDRESS_ALL_STATIONS, CONTROL_UI};

/// The frame between the opening flag and the FCS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameRepr<'a> {
    /// Address and Control present (absent only under ACFC, RFC 1661 §6.6).
    pub address_control: bool,
    /// Protocol field sent as one octet (PFC, RFC 1661 §6.5); only possible below 0x100.
    pub compress_protocol: bool,
    /// The Protocol field.
    pub protocol: Protocol,
    /// The Information field.
    pub information: &'a [u8],
}

impl<'a> FrameRepr<'a> {
    /// Parse frame content (FCS already removed). Address/Control and protocol compression
    /// are recognised whether or not they were negotiated, as RFC 1661 §6.5/§6.6 recommend.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, WireError> {
        let (address_control, rest) = match bytes {
            [ADDRESS_ALL_STATIONS, CONTROL_UI, rest @ ..] => (true, rest),
            [ADDRESS_ALL_STATIONS, control, ..] => {
                return Err(WireError::BadAddressControl(ADDRESS_ALL_STATIONS, *control));
            }
            _ => (false, bytes),
        };
        match rest {
            // RFC 1661 §2: an odd first octet is a compressed (one-octet) protocol.
            [first, information @ ..] if first & 1 == 1 => Ok(FrameRepr {
                address_control,
                compress_protocol: true,
                protocol: Protocol(u16::from(*first)),
                information,
            }),
            [hi, lo, information @ ..] => {
                let protocol = Protocol(u16::from_be_bytes([*hi, *lo]));
                if !protocol.is_valid() {
                    return Err(WireError::BadProtocol);
                }
                Ok(FrameRepr {
                    address_control,
                    compress_protocol: false,
                    protocol,
                    information,
                })
            }
            _ => Err(WireError::Truncated {
                what: "PPP frame",
                len: bytes.len(),
                need: 2,
            }),
        }
    }

    fn protocol_len(&self) -> usize {
        if self.compress_protocol && self.protocol.0 < 0x100 {
            1
        } else {
            2
        }
    }

    /// Octets [`FrameRepr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        let header = if self.address_control { 2 } else { 0 };
        header + self.protocol_len() + self.information.len()
    }

    /// Write the frame into `buffer`, which must be [`FrameRepr::buffer_len`] octets long.
    pub fn emit(&self, buffer: &mut [u8]) {
        let mut at = 0;
        if self.address_control {
            buffer[0] = ADDRESS_ALL_STATIONS;
            buffer[1] = CONTROL_UI;
            at = 2;
        }
        let protocol = self.protocol.0.to_be_bytes();
        if self.protocol_len() == 1 {
            buffer[at] = protocol[1];
            at += 1;
        } else {
            buffer[at..at + 2].copy_from_slice(&protocol);
            at += 2;
        }
        buffer[at..at + self.information.len()].copy_from_slice(self.information);
    }
}

impl fmt::Display for FrameRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "PPP {} ({} octets)",
            self.protocol,
            self.information.len()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_and_compressed_headers() {
        let full = FrameRepr::parse(&[0xFF, 0x03, 0x80, 0x21, 0x01]).unwrap();
        assert_eq!(
            (full.address_control, full.protocol, full.information),
            (true, Protocol::IPCP, &[1u8][..])
        );
        let compressed = FrameRepr::parse(&[0x21, 0x45]).unwrap();
        assert_eq!(
            (compressed.address_control, compressed.protocol),
            (false, Protocol::IPV4)
        );
        assert!(compressed.compress_protocol);
    }

    #[test]
    fn rejects_bad_headers() {
        assert_eq!(
            FrameRepr::parse(&[0xFF, 0x13, 0xC0, 0x21]),
            Err(WireError::BadAddressControl(0xFF, 0x13))
        );
        // An odd first octet is a compressed protocol, not an error.
        assert_eq!(
            FrameRepr::parse(&[0xC1, 0x20]).unwrap().protocol,
            Protocol(0x00C1)
        );
        assert_eq!(FrameRepr::parse(&[0x02, 0x20]), Err(WireError::BadProtocol));
        assert!(matches!(
            FrameRepr::parse(&[0xFF, 0x03, 0xC0]),
            Err(WireError::Truncated { .. })
        ));
    }

    #[test]
    fn emit_round_trips() {
        let repr = FrameRepr {
            address_control: false,
            compress_protocol: true,
            protocol: Protocol::IPV4,
            information: &[9, 9],
        };
        let mut buffer = vec![0; repr.buffer_len()];
        repr.emit(&mut buffer);
        assert_eq!(buffer, [0x21, 9, 9]);
        assert_eq!(FrameRepr::parse(&buffer).unwrap(), repr);
    }
}
