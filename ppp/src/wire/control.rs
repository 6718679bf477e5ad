//! The packet format LCP and the NCPs share (RFC 1661 §5): Code, Identifier, Length, Data.

use std::fmt;

use super::options::{ConfigOption, emit_list, list_len, parse_list};
use super::{Protocol, WireError, be16, be32};

/// Code field values, one table (RFC 1661 §5; NCPs such as IPCP use only 1–7, RFC 1332 §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Code {
    /// RFC 1661 §5.1.
    ConfigureRequest = 1,
    /// RFC 1661 §5.2.
    ConfigureAck = 2,
    /// RFC 1661 §5.3.
    ConfigureNak = 3,
    /// RFC 1661 §5.4.
    ConfigureReject = 4,
    /// RFC 1661 §5.5.
    TerminateRequest = 5,
    /// RFC 1661 §5.5.
    TerminateAck = 6,
    /// RFC 1661 §5.6.
    CodeReject = 7,
    /// RFC 1661 §5.7 (LCP only).
    ProtocolReject = 8,
    /// RFC 1661 §5.8 (LCP only).
    EchoRequest = 9,
    /// RFC 1661 §5.8 (LCP only).
    EchoReply = 10,
    /// RFC 1661 §5.9 (LCP only).
    DiscardRequest = 11,
}

impl Code {
    /// The code for `value`, if `codes` defines it.
    pub fn from_u8(value: u8, codes: CodeSet) -> Option<Code> {
        let code = match value {
            1 => Code::ConfigureRequest,
            2 => Code::ConfigureAck,
            3 => Code::ConfigureNak,
            4 => Code::ConfigureReject,
            5 => Code::TerminateRequest,
            6 => Code::TerminateAck,
            7 => Code::CodeReject,
            8 => Code::ProtocolReject,
            9 => Code::EchoRequest,
            10 => Code::EchoReply,
            11 => Code::DiscardRequest,
            _ => return None,
        };
        (codes == CodeSet::Lcp || value <= Code::CodeReject as u8).then_some(code)
    }
}

/// Which codes a protocol defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeSet {
    /// Codes 1–11 (RFC 1661 §5).
    Lcp,
    /// Codes 1–7, as IPCP (RFC 1332 §2) and other NCPs.
    Ncp,
}

/// RFC 1661 §5: Code, Identifier and a two-octet Length.
pub const HEADER_LEN: usize = 4;

/// A checked view over a control packet.
#[derive(Debug, Clone)]
pub struct ControlPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> ControlPacket<T> {
    /// Wrap without checking; accessors may panic on short buffers.
    pub fn new_unchecked(buffer: T) -> Self {
        ControlPacket { buffer }
    }

    /// Wrap after checking the header and the Length field (RFC 1661 §5: octets beyond
    /// Length are padding and ignored; a Length beyond the buffer is an error).
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let len = buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(WireError::Truncated {
                what: "control packet",
                len,
                need: HEADER_LEN,
            });
        }
        let packet = ControlPacket { buffer };
        let length = usize::from(packet.length());
        if length < HEADER_LEN || length > len {
            return Err(WireError::BadLength {
                what: "control packet",
                length,
                available: len,
            });
        }
        Ok(packet)
    }

    /// The Code field.
    pub fn code(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// The Identifier field.
    pub fn identifier(&self) -> u8 {
        self.buffer.as_ref()[1]
    }

    /// The Length field.
    pub fn length(&self) -> u16 {
        be16(self.buffer.as_ref(), 2)
    }

    /// The Data field, padding excluded.
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..usize::from(self.length())]
    }

    /// The packet itself, padding excluded (what a Code-Reject copies).
    pub fn packet(&self) -> &[u8] {
        &self.buffer.as_ref()[..usize::from(self.length())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ControlPacket<T> {
    /// Set the Code field.
    pub fn set_code(&mut self, code: u8) {
        self.buffer.as_mut()[0] = code;
    }

    /// Set the Identifier field.
    pub fn set_identifier(&mut self, identifier: u8) {
        self.buffer.as_mut()[1] = identifier;
    }

    /// Set the Length field.
    pub fn set_length(&mut self, length: u16) {
        self.buffer.as_mut()[2..4].copy_from_slice(&length.to_be_bytes());
    }

    /// The Data field, up to the end of the buffer.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[HEADER_LEN..]
    }
}

/// A parsed control packet of a protocol whose options are `O`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlRepr<O> {
    /// RFC 1661 §5.1.
    ConfigureRequest {
        /// Identifier.
        identifier: u8,
        /// Options requested.
        options: Vec<O>,
    },
    /// RFC 1661 §5.2: every option of the request, unchanged.
    ConfigureAck {
        /// Identifier of the request.
        identifier: u8,
        /// Options acknowledged.
        options: Vec<O>,
    },
    /// RFC 1661 §5.3: the options with acceptable values instead.
    ConfigureNak {
        /// Identifier of the request.
        identifier: u8,
        /// Options with suggested values.
        options: Vec<O>,
    },
    /// RFC 1661 §5.4: the unacceptable options, unchanged.
    ConfigureReject {
        /// Identifier of the request.
        identifier: u8,
        /// Options rejected.
        options: Vec<O>,
    },
    /// RFC 1661 §5.5.
    TerminateRequest {
        /// Identifier.
        identifier: u8,
        /// Uninterpreted data.
        data: Vec<u8>,
    },
    /// RFC 1661 §5.5.
    TerminateAck {
        /// Identifier of the request.
        identifier: u8,
        /// Uninterpreted data.
        data: Vec<u8>,
    },
    /// RFC 1661 §5.6.
    CodeReject {
        /// Identifier.
        identifier: u8,
        /// The rejected packet, from its Code field on.
        rejected: Vec<u8>,
    },
    /// RFC 1661 §5.7 (LCP only).
    ProtocolReject {
        /// Identifier.
        identifier: u8,
        /// The rejected protocol.
        protocol: Protocol,
        /// The rejected packet's Information field.
        rejected: Vec<u8>,
    },
    /// RFC 1661 §5.8 (LCP only).
    EchoRequest {
        /// Identifier.
        identifier: u8,
        /// The sender's Magic-Number, or zero.
        magic_number: u32,
        /// Uninterpreted data.
        data: Vec<u8>,
    },
    /// RFC 1661 §5.8 (LCP only).
    EchoReply {
        /// Identifier of the request.
        identifier: u8,
        /// The sender's Magic-Number, or zero.
        magic_number: u32,
        /// The request's data.
        data: Vec<u8>,
    },
    /// RFC 1661 §5.9 (LCP only).
    DiscardRequest {
        /// Identifier.
        identifier: u8,
        /// The sender's Magic-Number, or zero.
        magic_number: u32,
        /// Uninterpreted data.
        data: Vec<u8>,
    },
}

impl<O: ConfigOption> ControlRepr<O> {
    /// Parse a checked packet. A code outside `codes` is [`WireError::UnknownCode`].
    pub fn parse<T: AsRef<[u8]>>(
        packet: &ControlPacket<T>,
        codes: CodeSet,
    ) -> Result<Self, WireError> {
        let identifier = packet.identifier();
        let data = packet.data();
        let code = Code::from_u8(packet.code(), codes).ok_or(WireError::UnknownCode {
            code: packet.code(),
        })?;
        let magic_and_data = |what| {
            if data.len() < 4 {
                Err(WireError::Truncated {
                    what,
                    len: data.len(),
                    need: 4,
                })
            } else {
                Ok((be32(data, 0), data[4..].to_vec()))
            }
        };
        Ok(match code {
            Code::ConfigureRequest => ControlRepr::ConfigureRequest {
                identifier,
                options: parse_list(data)?,
            },
            Code::ConfigureAck => ControlRepr::ConfigureAck {
                identifier,
                options: parse_list(data)?,
            },
            Code::ConfigureNak => ControlRepr::ConfigureNak {
                identifier,
                options: parse_list(data)?,
            },
            Code::ConfigureReject => ControlRepr::ConfigureReject {
                identifier,
                options: parse_list(data)?,
            },
            Code::TerminateRequest => ControlRepr::TerminateRequest {
                identifier,
                data: data.to_vec(),
            },
            Code::TerminateAck => ControlRepr::TerminateAck {
                identifier,
                data: data.to_vec(),
            },
            Code::CodeReject => ControlRepr::CodeReject {
                identifier,
                rejected: data.to_vec(),
            },
            Code::ProtocolReject => {
                if data.len() < 2 {
                    return Err(WireError::Truncated {
                        what: "Protocol-Reject",
                        len: data.len(),
                        need: 2,
                    });
                }
                ControlRepr::ProtocolReject {
                    identifier,
                    protocol: Protocol(be16(data, 0)),
                    rejected: data[2..].to_vec(),
                }
            }
            Code::EchoRequest => {
                let (magic_number, data) = magic_and_data("Echo-Request")?;
                ControlRepr::EchoRequest {
                    identifier,
                    magic_number,
                    data,
                }
            }
            Code::EchoReply => {
                let (magic_number, data) = magic_and_data("Echo-Reply")?;
                ControlRepr::EchoReply {
                    identifier,
                    magic_number,
                    data,
                }
            }
            Code::DiscardRequest => {
                let (magic_number, data) = magic_and_data("Discard-Request")?;
                ControlRepr::DiscardRequest {
                    identifier,
                    magic_number,
                    data,
                }
            }
        })
    }

    /// Parse raw bytes (header check plus [`ControlRepr::parse`]).
    pub fn parse_bytes(bytes: &[u8], codes: CodeSet) -> Result<Self, WireError> {
        ControlRepr::parse(&ControlPacket::new_checked(bytes)?, codes)
    }

    /// The Code field.
    pub fn code(&self) -> Code {
        match self {
            ControlRepr::ConfigureRequest { .. } => Code::ConfigureRequest,
            ControlRepr::ConfigureAck { .. } => Code::ConfigureAck,
            ControlRepr::ConfigureNak { .. } => Code::ConfigureNak,
            ControlRepr::ConfigureReject { .. } => Code::ConfigureReject,
            ControlRepr::TerminateRequest { .. } => Code::TerminateRequest,
            ControlRepr::TerminateAck { .. } => Code::TerminateAck,
            ControlRepr::CodeReject { .. } => Code::CodeReject,
            ControlRepr::ProtocolReject { .. } => Code::ProtocolReject,
            ControlRepr::EchoRequest { .. } => Code::EchoRequest,
            ControlRepr::EchoReply { .. } => Code::EchoReply,
            ControlRepr::DiscardRequest { .. } => Code::DiscardRequest,
        }
    }

    /// The Identifier field.
    pub fn identifier(&self) -> u8 {
        match self {
            ControlRepr::ConfigureRequest { identifier, .. }
            | ControlRepr::ConfigureAck { identifier, .. }
            | ControlRepr::ConfigureNak { identifier, .. }
            | ControlRepr::ConfigureReject { identifier, .. }
            | ControlRepr::TerminateRequest { identifier, .. }
            | ControlRepr::TerminateAck { identifier, .. }
            | ControlRepr::CodeReject { identifier, .. }
            | ControlRepr::ProtocolReject { identifier, .. }
            | ControlRepr::EchoRequest { identifier, .. }
            | ControlRepr::EchoReply { identifier, .. }
            | ControlRepr::DiscardRequest { identifier, .. } => *identifier,
        }
    }

    fn data_len(&self) -> usize {
        match self {
            ControlRepr::ConfigureRequest { options, .. }
            | ControlRepr::ConfigureAck { options, .. }
            | ControlRepr::ConfigureNak { options, .. }
            | ControlRepr::ConfigureReject { options, .. } => list_len(options),
            ControlRepr::TerminateRequest { data, .. } | ControlRepr::TerminateAck { data, .. } => {
                data.len()
            }
            ControlRepr::CodeReject { rejected, .. } => rejected.len(),
            ControlRepr::ProtocolReject { rejected, .. } => 2 + rejected.len(),
            ControlRepr::EchoRequest { data, .. }
            | ControlRepr::EchoReply { data, .. }
            | ControlRepr::DiscardRequest { data, .. } => 4 + data.len(),
        }
    }

    /// Octets [`ControlRepr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.data_len()
    }

    /// Write the packet into `packet`, whose buffer must be [`ControlRepr::buffer_len`]
    /// octets long.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut ControlPacket<T>) {
        packet.set_code(self.code() as u8);
        packet.set_identifier(self.identifier());
        packet.set_length(u16::try_from(self.buffer_len()).unwrap_or(u16::MAX));
        let mut data = Vec::with_capacity(self.data_len());
        self.emit_data(&mut data);
        packet.data_mut()[..data.len()].copy_from_slice(&data);
    }

    /// Append the Data field (everything after the header).
    fn emit_data(&self, data: &mut Vec<u8>) {
        match self {
            ControlRepr::ConfigureRequest { options, .. }
            | ControlRepr::ConfigureAck { options, .. }
            | ControlRepr::ConfigureNak { options, .. }
            | ControlRepr::ConfigureReject { options, .. } => emit_list(options, data),
            ControlRepr::TerminateRequest { data: bytes, .. }
            | ControlRepr::TerminateAck { data: bytes, .. }
            | ControlRepr::CodeReject {
                rejected: bytes, ..
            } => data.extend_from_slice(bytes),
            ControlRepr::ProtocolReject {
                protocol, rejected, ..
            } => {
                data.extend_from_slice(&protocol.0.to_be_bytes());
                data.extend_from_slice(rejected);
            }
            ControlRepr::EchoRequest {
                magic_number,
                data: bytes,
                ..
            }
            | ControlRepr::EchoReply {
                magic_number,
                data: bytes,
                ..
            }
            | ControlRepr::DiscardRequest {
                magic_number,
                data: bytes,
                ..
            } => {
                data.extend_from_slice(&magic_number.to_be_bytes());
                data.extend_from_slice(bytes);
            }
        }
    }

    /// The packet as a fresh byte vector: written in one pass, the Length field filled in
    /// last (sizing an option list first would emit it twice; issue 15's profile of a
    /// simulated dial found that allocation among the largest costs).
    pub fn to_bytes(&self) -> Vec<u8> {
        // Room for the usual LCP or IPCP Configure-Request without growing.
        let mut bytes = Vec::with_capacity(HEADER_LEN + 32);
        bytes.extend_from_slice(&[self.code() as u8, self.identifier(), 0, 0]);
        self.emit_data(&mut bytes);
        let length = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
        bytes[2..HEADER_LEN].copy_from_slice(&length.to_be_bytes());
        bytes
    }
}

impl<O: ConfigOption + fmt::Display> fmt::Display for ControlRepr<O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} id={}", self.code(), self.identifier())?;
        match self {
            ControlRepr::ConfigureRequest { options, .. }
            | ControlRepr::ConfigureAck { options, .. }
            | ControlRepr::ConfigureNak { options, .. }
            | ControlRepr::ConfigureReject { options, .. } => {
                for option in options {
                    write!(f, " <{option}>")?;
                }
                Ok(())
            }
            ControlRepr::ProtocolReject { protocol, .. } => write!(f, " protocol {protocol}"),
            ControlRepr::EchoRequest { magic_number, .. }
            | ControlRepr::EchoReply { magic_number, .. }
            | ControlRepr::DiscardRequest { magic_number, .. } => {
                write!(f, " magic {magic_number:#010x}")
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::ipcp::IpcpOption;
    use crate::wire::lcp::LcpOption;

    #[test]
    fn parses_a_configure_request_and_ignores_padding() {
        let bytes = [
            0x01, 0x07, 0x00, 0x0a, 0x05, 0x06, 0xde, 0xad, 0xbe, 0xef, 0xAA, 0xBB,
        ];
        let repr = ControlRepr::<LcpOption>::parse_bytes(&bytes, CodeSet::Lcp).unwrap();
        assert_eq!(
            repr,
            ControlRepr::ConfigureRequest {
                identifier: 7,
                options: vec![LcpOption::MagicNumber(0xdead_beef)]
            }
        );
        assert_eq!(repr.to_bytes(), bytes[..10]);
    }

    #[test]
    fn echo_and_protocol_reject_round_trip() {
        let echo = ControlRepr::<LcpOption>::EchoRequest {
            identifier: 3,
            magic_number: 0x0102_0304,
            data: vec![9],
        };
        assert_eq!(echo.to_bytes(), [0x09, 0x03, 0x00, 0x09, 1, 2, 3, 4, 9]);
        let reject = ControlRepr::<LcpOption>::ProtocolReject {
            identifier: 4,
            protocol: Protocol(0x80fd),
            rejected: vec![1, 1, 0, 4],
        };
        assert_eq!(
            ControlRepr::parse_bytes(&reject.to_bytes(), CodeSet::Lcp),
            Ok(reject)
        );
    }

    #[test]
    fn length_and_code_errors() {
        assert!(matches!(
            ControlPacket::new_checked(&[1u8, 1, 0][..]),
            Err(WireError::Truncated { .. })
        ));
        assert!(matches!(
            ControlPacket::new_checked(&[1u8, 1, 0, 3][..]),
            Err(WireError::BadLength { .. })
        ));
        assert!(matches!(
            ControlPacket::new_checked(&[1u8, 1, 0, 9, 0][..]),
            Err(WireError::BadLength { .. })
        ));
        // Echo-Request is LCP's; for IPCP it is an unknown code (RFC 1332 §2).
        assert_eq!(
            ControlRepr::<IpcpOption>::parse_bytes(&[9, 1, 0, 8, 0, 0, 0, 0], CodeSet::Ncp),
            Err(WireError::UnknownCode { code: 9 })
        );
        assert!(matches!(
            ControlRepr::<LcpOption>::parse_bytes(&[9, 1, 0, 6, 0, 0], CodeSet::Lcp),
            Err(WireError::Truncated { .. })
        ));
    }
}
