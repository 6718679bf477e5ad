//! PAP packets (RFC 1334 §2.2): Authenticate-Request carries Peer-ID and Password, each
//! preceded by a one-octet length; Authenticate-Ack/Nak carry a length-prefixed Message.

use std::fmt;

use super::WireError;
use super::control::{ControlPacket, HEADER_LEN};

/// PAP Code values, one table (RFC 1334 §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum PapCode {
    /// RFC 1334 §2.2.1.
    AuthenticateRequest = 1,
    /// RFC 1334 §2.2.2.
    AuthenticateAck = 2,
    /// RFC 1334 §2.2.2.
    AuthenticateNak = 3,
}

impl PapCode {
    /// The code for `value`, if PAP defines it.
    pub fn from_u8(value: u8) -> Option<PapCode> {
        match value {
            1 => Some(PapCode::AuthenticateRequest),
            2 => Some(PapCode::AuthenticateAck),
            3 => Some(PapCode::AuthenticateNak),
            _ => None,
        }
    }
}

/// A parsed PAP packet. Peer-ID, Password and Message are octet strings (RFC 1334 does not
/// fix a character set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PapRepr {
    /// RFC 1334 §2.2.1.
    AuthenticateRequest {
        /// Identifier.
        identifier: u8,
        /// The name to authenticate.
        peer_id: Vec<u8>,
        /// Its password, in the clear.
        password: Vec<u8>,
    },
    /// RFC 1334 §2.2.2.
    AuthenticateAck {
        /// Identifier of the request.
        identifier: u8,
        /// Human-readable message.
        message: Vec<u8>,
    },
    /// RFC 1334 §2.2.2.
    AuthenticateNak {
        /// Identifier of the request.
        identifier: u8,
        /// Human-readable message.
        message: Vec<u8>,
    },
}

/// Split a length-prefixed field off the front of `bytes`.
fn take_field<'a>(bytes: &'a [u8], what: &'static str) -> Result<(&'a [u8], &'a [u8]), WireError> {
    let (&length, rest) = bytes.split_first().ok_or(WireError::Truncated {
        what,
        len: 0,
        need: 1,
    })?;
    let length = usize::from(length);
    if length > rest.len() {
        return Err(WireError::BadLength {
            what,
            length,
            available: rest.len(),
        });
    }
    Ok(rest.split_at(length))
}

impl PapRepr {
    /// Parse a checked packet.
    pub fn parse<T: AsRef<[u8]>>(packet: &ControlPacket<T>) -> Result<Self, WireError> {
        let identifier = packet.identifier();
        let data = packet.data();
        let code = PapCode::from_u8(packet.code()).ok_or(WireError::UnknownCode {
            code: packet.code(),
        })?;
        Ok(match code {
            PapCode::AuthenticateRequest => {
                let (peer_id, rest) = take_field(data, "PAP Peer-ID")?;
                let (password, _) = take_field(rest, "PAP Password")?;
                PapRepr::AuthenticateRequest {
                    identifier,
                    peer_id: peer_id.to_vec(),
                    password: password.to_vec(),
                }
            }
            PapCode::AuthenticateAck | PapCode::AuthenticateNak => {
                // A zero-length data field is tolerated: some servers omit Msg-Length.
                let message = if data.is_empty() {
                    &[][..]
                } else {
                    take_field(data, "PAP Message")?.0
                };
                let message = message.to_vec();
                if code == PapCode::AuthenticateAck {
                    PapRepr::AuthenticateAck {
                        identifier,
                        message,
                    }
                } else {
                    PapRepr::AuthenticateNak {
                        identifier,
                        message,
                    }
                }
            }
        })
    }

    /// Parse raw bytes.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, WireError> {
        PapRepr::parse(&ControlPacket::new_checked(bytes)?)
    }

    /// The Code field.
    pub fn code(&self) -> PapCode {
        match self {
            PapRepr::AuthenticateRequest { .. } => PapCode::AuthenticateRequest,
            PapRepr::AuthenticateAck { .. } => PapCode::AuthenticateAck,
            PapRepr::AuthenticateNak { .. } => PapCode::AuthenticateNak,
        }
    }

    /// The Identifier field.
    pub fn identifier(&self) -> u8 {
        match self {
            PapRepr::AuthenticateRequest { identifier, .. }
            | PapRepr::AuthenticateAck { identifier, .. }
            | PapRepr::AuthenticateNak { identifier, .. } => *identifier,
        }
    }

    /// The length-prefixed fields, each truncated to 255 octets (the most its length octet
    /// can say).
    fn fields(&self) -> Vec<&[u8]> {
        fn clip(field: &[u8]) -> &[u8] {
            &field[..field.len().min(255)]
        }
        match self {
            PapRepr::AuthenticateRequest {
                peer_id, password, ..
            } => vec![clip(peer_id), clip(password)],
            PapRepr::AuthenticateAck { message, .. } | PapRepr::AuthenticateNak { message, .. } => {
                vec![clip(message)]
            }
        }
    }

    /// Octets [`PapRepr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
            + self
                .fields()
                .iter()
                .map(|field| 1 + field.len())
                .sum::<usize>()
    }

    /// Write the packet; the buffer must be [`PapRepr::buffer_len`] octets long.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut ControlPacket<T>) {
        packet.set_code(self.code() as u8);
        packet.set_identifier(self.identifier());
        packet.set_length(u16::try_from(self.buffer_len()).unwrap_or(u16::MAX));
        let mut data = Vec::new();
        for field in self.fields() {
            data.push(u8::try_from(field.len()).unwrap_or(u8::MAX));
            data.extend_from_slice(field);
        }
        packet.data_mut()[..data.len()].copy_from_slice(&data);
    }

    /// The packet as a fresh byte vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![0; self.buffer_len()];
        self.emit(&mut ControlPacket::new_unchecked(&mut bytes[..]));
        bytes
    }
}

impl fmt::Display for PapRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // Never log the password.
            PapRepr::AuthenticateRequest {
                identifier,
                peer_id,
                ..
            } => {
                write!(
                    f,
                    "Authenticate-Request id={identifier} peer-id={:?}",
                    String::from_utf8_lossy(peer_id)
                )
            }
            PapRepr::AuthenticateAck {
                identifier,
                message,
            } => {
                write!(
                    f,
                    "Authenticate-Ack id={identifier} {:?}",
                    String::from_utf8_lossy(message)
                )
            }
            PapRepr::AuthenticateNak {
                identifier,
                message,
            } => {
                write!(
                    f,
                    "Authenticate-Nak id={identifier} {:?}",
                    String::from_utf8_lossy(message)
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_layout_matches_rfc_1334() {
        let repr = PapRepr::AuthenticateRequest {
            identifier: 1,
            peer_id: b"alice".to_vec(),
            password: b"pw".to_vec(),
        };
        let bytes = repr.to_bytes();
        assert_eq!(
            bytes,
            [1, 1, 0, 13, 5, b'a', b'l', b'i', b'c', b'e', 2, b'p', b'w']
        );
        assert_eq!(PapRepr::parse_bytes(&bytes), Ok(repr));
    }

    #[test]
    fn ack_and_nak_carry_messages() {
        let ack = PapRepr::AuthenticateAck {
            identifier: 9,
            message: b"Welcome".to_vec(),
        };
        assert_eq!(PapRepr::parse_bytes(&ack.to_bytes()), Ok(ack));
        assert_eq!(
            PapRepr::parse_bytes(&[3, 2, 0, 4]),
            Ok(PapRepr::AuthenticateNak {
                identifier: 2,
                message: vec![]
            })
        );
    }

    #[test]
    fn bad_field_lengths_are_errors() {
        assert!(matches!(
            PapRepr::parse_bytes(&[1, 1, 0, 6, 5, b'a']),
            Err(WireError::BadLength { .. })
        ));
        assert!(matches!(
            PapRepr::parse_bytes(&[1, 1, 0, 6, 1, b'a']),
            Err(WireError::Truncated { .. })
        ));
        assert_eq!(
            PapRepr::parse_bytes(&[4, 1, 0, 4]),
            Err(WireError::UnknownCode { code: 4 })
        );
    }
}
