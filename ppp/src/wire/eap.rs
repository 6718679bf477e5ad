//! EAP packets (RFC 3748 §4, carried in PPP as protocol 0xC227, §3.1): Request, Response,
//! Success and Failure, and the Type-Data of the types we speak — Identity (§5.1),
//! Notification (§5.2), Nak (§5.3.1), MD5-Challenge (§5.4), Generic Token Card (§5.6) and
//! EAP-MSCHAPv2 (type 26, draft-kamath-pppext-eap-mschapv2-02 §2).
//!
//! Every length is checked before it is used: the EAP Length against the octets present
//! (pppd's CVE-2020-8597 trusted it), MD5's Value-Size against the Type-Data, and
//! EAP-MSCHAPv2's MS-Length against the EAP Length.

use std::fmt;

use super::chap::{ChapCode, ChapRepr};
use super::{WireError, be16};

/// EAP Code values, one table (RFC 3748 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum EapCode {
    /// RFC 3748 §4.1.
    Request = 1,
    /// RFC 3748 §4.1.
    Response = 2,
    /// RFC 3748 §4.2.
    Success = 3,
    /// RFC 3748 §4.2.
    Failure = 4,
}

impl EapCode {
    /// The code for `value`, if EAP defines it (RFC 3748 §4: others are discarded).
    pub fn from_u8(value: u8) -> Option<EapCode> {
        match value {
            1 => Some(EapCode::Request),
            2 => Some(EapCode::Response),
            3 => Some(EapCode::Success),
            4 => Some(EapCode::Failure),
            _ => None,
        }
    }
}

/// EAP Type values, one table (RFC 3748 §5 and the IANA EAP registry).
pub mod eap_type {
    /// RFC 3748 §5.1.
    pub const IDENTITY: u8 = 1;
    /// RFC 3748 §5.2.
    pub const NOTIFICATION: u8 = 2;
    /// RFC 3748 §5.3.1 (legacy Nak, Response only).
    pub const NAK: u8 = 3;
    /// RFC 3748 §5.4.
    pub const MD5_CHALLENGE: u8 = 4;
    /// RFC 3748 §5.5.
    pub const ONE_TIME_PASSWORD: u8 = 5;
    /// RFC 3748 §5.6.
    pub const GENERIC_TOKEN_CARD: u8 = 6;
    /// draft-kamath-pppext-eap-mschapv2-02 §2 (IANA: EAP-MSCHAP-V2).
    pub const MS_CHAP_V2: u8 = 26;
    /// RFC 3748 §5.7.
    pub const EXPANDED: u8 = 254;
    /// RFC 3748 §5.8.
    pub const EXPERIMENTAL: u8 = 255;
    /// RFC 3748 §5.3.1: a Nak of 0 means "no alternative".
    pub const NO_ALTERNATIVE: u8 = 0;
}

/// The authentication methods we implement, best first in the order of this table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EapMethod {
    /// EAP-MSCHAPv2 (type 26).
    MsChapV2,
    /// MD5-Challenge (type 4).
    Md5,
    /// Generic Token Card (type 6).
    Gtc,
}

impl EapMethod {
    /// Every method, in the order above.
    pub const ALL: [EapMethod; 3] = [EapMethod::MsChapV2, EapMethod::Md5, EapMethod::Gtc];

    /// Its Type number.
    pub fn type_number(self) -> u8 {
        match self {
            EapMethod::MsChapV2 => eap_type::MS_CHAP_V2,
            EapMethod::Md5 => eap_type::MD5_CHALLENGE,
            EapMethod::Gtc => eap_type::GENERIC_TOKEN_CARD,
        }
    }

    /// The method with Type `number`, if we implement it.
    pub fn from_type(number: u8) -> Option<EapMethod> {
        EapMethod::ALL
            .into_iter()
            .find(|method| method.type_number() == number)
    }
}

impl fmt::Display for EapMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            EapMethod::MsChapV2 => "EAP-MSCHAPv2",
            EapMethod::Md5 => "EAP-MD5",
            EapMethod::Gtc => "EAP-GTC",
        })
    }
}

/// RFC 3748 §4: Code, Identifier, Length.
pub const HEADER_LEN: usize = 4;

/// RFC 3748 §4.1: Requests and Responses add a Type octet.
pub const TYPED_HEADER_LEN: usize = HEADER_LEN + 1;

/// The most Type-Data a packet can carry (the Length field is 16 bits).
const MAX_TYPE_DATA: usize = u16::MAX as usize - TYPED_HEADER_LEN;

/// A checked view over an EAP packet.
#[derive(Debug, Clone)]
pub struct EapPacket<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> EapPacket<T> {
    /// Wrap without checking; accessors may panic on short buffers.
    pub fn new_unchecked(buffer: T) -> Self {
        EapPacket { buffer }
    }

    /// Wrap after checking the header and the Length field. RFC 3748 §4: octets beyond
    /// Length are padding and ignored; a Length beyond the octets received means the
    /// packet is discarded. Requests and Responses must hold a Type; Success and Failure
    /// hold nothing else (§4.2).
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let len = buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(WireError::Truncated {
                what: "EAP packet",
                len,
                need: HEADER_LEN,
            });
        }
        let packet = EapPacket { buffer };
        let length = usize::from(packet.length());
        if length < HEADER_LEN || length > len {
            return Err(WireError::BadLength {
                what: "EAP packet",
                length,
                available: len,
            });
        }
        match EapCode::from_u8(packet.code()) {
            None => Err(WireError::UnknownCode {
                code: packet.code(),
            }),
            Some(EapCode::Request | EapCode::Response) if length < TYPED_HEADER_LEN => {
                Err(WireError::BadLength {
                    what: "EAP Request/Response",
                    length,
                    available: len,
                })
            }
            Some(EapCode::Success | EapCode::Failure) if length != HEADER_LEN => {
                Err(WireError::BadLength {
                    what: "EAP Success/Failure",
                    length,
                    available: len,
                })
            }
            Some(_) => Ok(packet),
        }
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

    /// The Type field of a Request or Response.
    pub fn type_field(&self) -> u8 {
        self.buffer.as_ref()[HEADER_LEN]
    }

    /// The Type-Data of a Request or Response, padding excluded.
    pub fn type_data(&self) -> &[u8] {
        &self.buffer.as_ref()[TYPED_HEADER_LEN..usize::from(self.length())]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EapPacket<T> {
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

    /// Set the Type field.
    pub fn set_type_field(&mut self, kind: u8) {
        self.buffer.as_mut()[HEADER_LEN] = kind;
    }

    /// The Type-Data, up to the end of the buffer.
    pub fn type_data_mut(&mut self) -> &mut [u8] {
        &mut self.buffer.as_mut()[TYPED_HEADER_LEN..]
    }
}

/// The Type-Data of an EAP-MSCHAPv2 packet (draft-kamath-pppext-eap-mschapv2-02 §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MsChapV2Data {
    /// OpCode, MS-CHAPv2-ID, MS-Length and the rest: laid out exactly as the CHAP packet
    /// of the same code (Challenge, Response, Success, Failure, Change-Password), with
    /// MS-Length the EAP Length minus 5.
    Packet(ChapRepr),
    /// The peer's bare Success-Response or Failure-Response: the OpCode alone (§2, "Success
    /// Response" / "Failure Response").
    Acknowledge(ChapCode),
}

/// A Request's or Response's Type and Type-Data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EapMessage {
    /// Identity (RFC 3748 §5.1): the Request's optional displayable prompt, the
    /// Response's identity.
    Identity(Vec<u8>),
    /// Notification (RFC 3748 §5.2): a displayable message in the Request (non-empty),
    /// nothing in the Response.
    Notification(Vec<u8>),
    /// Legacy Nak (RFC 3748 §5.3.1, Response only): the authentication Types the peer
    /// would accept, at least one; [`eap_type::NO_ALTERNATIVE`] alone for none.
    Nak(Vec<u8>),
    /// MD5-Challenge (RFC 3748 §5.4): a Value (at least one octet, its size in one octet)
    /// and a Name, as in CHAP (RFC 1994 §4.1).
    Md5Challenge {
        /// The challenge, or the MD5 digest answering it.
        value: Vec<u8>,
        /// The sender's name.
        name: Vec<u8>,
    },
    /// Generic Token Card (RFC 3748 §5.6): the Request's displayable prompt, the
    /// Response's token (both non-empty).
    GenericTokenCard(Vec<u8>),
    /// EAP-MSCHAPv2 (type 26).
    MsChapV2(MsChapV2Data),
    /// Any other Type, uninterpreted (Expanded and Experimental included).
    Other {
        /// The Type field.
        kind: u8,
        /// The Type-Data.
        data: Vec<u8>,
    },
}

/// A parsed EAP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EapRepr {
    /// RFC 3748 §4.1.
    Request {
        /// Identifier.
        identifier: u8,
        /// Type and Type-Data.
        message: EapMessage,
    },
    /// RFC 3748 §4.1.
    Response {
        /// The Request's Identifier.
        identifier: u8,
        /// Type and Type-Data.
        message: EapMessage,
    },
    /// RFC 3748 §4.2.
    Success {
        /// The last Response's Identifier.
        identifier: u8,
    },
    /// RFC 3748 §4.2.
    Failure {
        /// The last Response's Identifier.
        identifier: u8,
    },
}

fn invalid(what: &'static str, problem: &'static str) -> WireError {
    WireError::Invalid { what, problem }
}

impl EapMessage {
    /// Parse the Type-Data of `kind`; `request` says which direction it travels.
    pub fn parse(kind: u8, data: &[u8], request: bool) -> Result<Self, WireError> {
        Ok(match kind {
            eap_type::IDENTITY => EapMessage::Identity(data.to_vec()),
            eap_type::NOTIFICATION => {
                // RFC 3748 §5.2: "greater than zero octets" in the Request, zero in the
                // Response.
                if request == data.is_empty() {
                    return Err(invalid(
                        "EAP Notification",
                        "a Request holds a message, a Response nothing",
                    ));
                }
                EapMessage::Notification(data.to_vec())
            }
            eap_type::NAK => {
                if request {
                    return Err(invalid("EAP Nak", "Nak is valid only in a Response"));
                }
                if data.is_empty() {
                    return Err(invalid("EAP Nak", "no desired Type"));
                }
                EapMessage::Nak(data.to_vec())
            }
            eap_type::MD5_CHALLENGE => {
                let (&size, rest) = data.split_first().ok_or(WireError::Truncated {
                    what: "EAP MD5-Challenge",
                    len: 0,
                    need: 1,
                })?;
                let size = usize::from(size);
                if size == 0 {
                    return Err(invalid("EAP MD5-Challenge", "Value-Size is zero"));
                }
                if size > rest.len() {
                    return Err(WireError::BadLength {
                        what: "EAP MD5-Challenge Value-Size",
                        length: size,
                        available: rest.len(),
                    });
                }
                let (value, name) = rest.split_at(size);
                EapMessage::Md5Challenge {
                    value: value.to_vec(),
                    name: name.to_vec(),
                }
            }
            eap_type::GENERIC_TOKEN_CARD => {
                if data.is_empty() {
                    // RFC 3748 §5.6: prompt and token are both "greater than zero octets".
                    return Err(invalid("EAP Generic Token Card", "empty Type-Data"));
                }
                EapMessage::GenericTokenCard(data.to_vec())
            }
            eap_type::MS_CHAP_V2 => EapMessage::MsChapV2(parse_ms_chap_v2(data, request)?),
            kind => EapMessage::Other {
                kind,
                data: data.to_vec(),
            },
        })
    }

    /// The Type field.
    pub fn kind(&self) -> u8 {
        match self {
            EapMessage::Identity(_) => eap_type::IDENTITY,
            EapMessage::Notification(_) => eap_type::NOTIFICATION,
            EapMessage::Nak(_) => eap_type::NAK,
            EapMessage::Md5Challenge { .. } => eap_type::MD5_CHALLENGE,
            EapMessage::GenericTokenCard(_) => eap_type::GENERIC_TOKEN_CARD,
            EapMessage::MsChapV2(_) => eap_type::MS_CHAP_V2,
            EapMessage::Other { kind, .. } => *kind,
        }
    }

    /// The Type-Data, cut to what a Length field can say.
    fn data(&self) -> Vec<u8> {
        let mut data = match self {
            EapMessage::Identity(data)
            | EapMessage::Notification(data)
            | EapMessage::Nak(data)
            | EapMessage::GenericTokenCard(data)
            | EapMessage::Other { data, .. } => data.clone(),
            EapMessage::Md5Challenge { value, name } => {
                let value = &value[..value.len().min(255)];
                let mut data = vec![u8::try_from(value.len()).unwrap_or(u8::MAX)];
                data.extend_from_slice(value);
                data.extend_from_slice(name);
                data
            }
            EapMessage::MsChapV2(MsChapV2Data::Packet(packet)) => {
                let mut bytes = packet.to_bytes();
                bytes.truncate(MAX_TYPE_DATA);
                // MS-Length is the EAP Length minus 5 (draft §2): re-state it after a cut.
                let ms_length = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
                bytes[2..4].copy_from_slice(&ms_length.to_be_bytes());
                bytes
            }
            EapMessage::MsChapV2(MsChapV2Data::Acknowledge(code)) => vec![*code as u8],
        };
        data.truncate(MAX_TYPE_DATA);
        data
    }
}

/// draft-kamath-pppext-eap-mschapv2-02 §2: a bare OpCode (the peer's Success- or
/// Failure-Response), or a CHAP-shaped packet whose MS-Length is the whole Type-Data.
fn parse_ms_chap_v2(data: &[u8], request: bool) -> Result<MsChapV2Data, WireError> {
    if let [opcode] = data {
        let code = ChapCode::from_u8(*opcode).ok_or(WireError::UnknownCode { code: *opcode })?;
        return match code {
            ChapCode::Success | ChapCode::Failure if !request => {
                Ok(MsChapV2Data::Acknowledge(code))
            }
            _ => Err(WireError::Truncated {
                what: "EAP-MSCHAPv2",
                len: 1,
                need: HEADER_LEN,
            }),
        };
    }
    let packet = ChapRepr::parse_bytes(data)?;
    let ms_length = usize::from(be16(data, 2));
    if ms_length != data.len() {
        return Err(WireError::BadLength {
            what: "EAP-MSCHAPv2 MS-Length",
            length: ms_length,
            available: data.len(),
        });
    }
    // Which side sends which OpCode (draft §2): Challenge, Success and Failure come from
    // the authenticator; Response and Change-Password from the peer.
    let from_authenticator = matches!(
        packet.code(),
        ChapCode::Challenge | ChapCode::Success | ChapCode::Failure
    );
    if from_authenticator != request {
        return Err(invalid(
            "EAP-MSCHAPv2",
            "OpCode not valid in this direction",
        ));
    }
    Ok(MsChapV2Data::Packet(packet))
}

impl EapRepr {
    /// Parse a checked packet.
    pub fn parse<T: AsRef<[u8]>>(packet: &EapPacket<T>) -> Result<Self, WireError> {
        let identifier = packet.identifier();
        let code = EapCode::from_u8(packet.code()).ok_or(WireError::UnknownCode {
            code: packet.code(),
        })?;
        Ok(match code {
            EapCode::Request => EapRepr::Request {
                identifier,
                message: EapMessage::parse(packet.type_field(), packet.type_data(), true)?,
            },
            EapCode::Response => EapRepr::Response {
                identifier,
                message: EapMessage::parse(packet.type_field(), packet.type_data(), false)?,
            },
            EapCode::Success => EapRepr::Success { identifier },
            EapCode::Failure => EapRepr::Failure { identifier },
        })
    }

    /// Parse raw bytes.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, WireError> {
        EapRepr::parse(&EapPacket::new_checked(bytes)?)
    }

    /// The Code field.
    pub fn code(&self) -> EapCode {
        match self {
            EapRepr::Request { .. } => EapCode::Request,
            EapRepr::Response { .. } => EapCode::Response,
            EapRepr::Success { .. } => EapCode::Success,
            EapRepr::Failure { .. } => EapCode::Failure,
        }
    }

    /// The Identifier field.
    pub fn identifier(&self) -> u8 {
        match self {
            EapRepr::Request { identifier, .. }
            | EapRepr::Response { identifier, .. }
            | EapRepr::Success { identifier }
            | EapRepr::Failure { identifier } => *identifier,
        }
    }

    fn message(&self) -> Option<&EapMessage> {
        match self {
            EapRepr::Request { message, .. } | EapRepr::Response { message, .. } => Some(message),
            EapRepr::Success { .. } | EapRepr::Failure { .. } => None,
        }
    }

    /// Octets [`EapRepr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        match self.message() {
            Some(message) => TYPED_HEADER_LEN + message.data().len(),
            None => HEADER_LEN,
        }
    }

    /// Write the packet; the buffer must be [`EapRepr::buffer_len`] octets long.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut EapPacket<T>) {
        packet.set_code(self.code() as u8);
        packet.set_identifier(self.identifier());
        match self.message() {
            Some(message) => {
                let data = message.data();
                packet.set_length(u16::try_from(TYPED_HEADER_LEN + data.len()).unwrap_or(u16::MAX));
                packet.set_type_field(message.kind());
                packet.type_data_mut()[..data.len()].copy_from_slice(&data);
            }
            None => packet.set_length(HEADER_LEN as u16),
        }
    }

    /// The packet as a fresh byte vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![0; self.buffer_len()];
        self.emit(&mut EapPacket::new_unchecked(&mut bytes[..]));
        bytes
    }
}

impl fmt::Display for EapMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EapMessage::Identity(identity) => {
                write!(f, "Identity {:?}", String::from_utf8_lossy(identity))
            }
            EapMessage::Notification(text) => {
                write!(f, "Notification {:?}", String::from_utf8_lossy(text))
            }
            EapMessage::Nak(types) => write!(f, "Nak {types:?}"),
            EapMessage::Md5Challenge { value, name } => write!(
                f,
                "MD5-Challenge value={} octets name={:?}",
                value.len(),
                String::from_utf8_lossy(name)
            ),
            // A token is a one-time password: its length only.
            EapMessage::GenericTokenCard(data) => {
                write!(f, "Generic-Token-Card {} octets", data.len())
            }
            EapMessage::MsChapV2(MsChapV2Data::Packet(packet)) => {
                write!(f, "MSCHAPv2 {packet}")
            }
            EapMessage::MsChapV2(MsChapV2Data::Acknowledge(code)) => {
                write!(f, "MSCHAPv2 {code:?}-Response")
            }
            EapMessage::Other { kind, data } => {
                write!(f, "type {kind} ({} octets)", data.len())
            }
        }
    }
}

impl fmt::Display for EapRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.identifier();
        match self {
            EapRepr::Request { message, .. } => write!(f, "Request id={id} {message}"),
            EapRepr::Response { message, .. } => write!(f, "Response id={id} {message}"),
            EapRepr::Success { .. } => write!(f, "Success id={id}"),
            EapRepr::Failure { .. } => write!(f, "Failure id={id}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::wire::chap::ChangePassword;

    #[test]
    fn identity_request_and_response() {
        // RFC 3748 §5.1: Request/Identity with no prompt, Response with the identity.
        let request = [1, 7, 0, 5, 1];
        assert_eq!(
            EapRepr::parse_bytes(&request),
            Ok(EapRepr::Request {
                identifier: 7,
                message: EapMessage::Identity(vec![])
            })
        );
        let response = EapRepr::Response {
            identifier: 7,
            message: EapMessage::Identity(b"user@example.com".to_vec()),
        };
        let bytes = response.to_bytes();
        assert_eq!(bytes[..5], [2, 7, 0, 21, 1]);
        assert_eq!(&bytes[5..], b"user@example.com");
        assert_eq!(EapRepr::parse_bytes(&bytes), Ok(response));
    }

    #[test]
    fn success_and_failure_are_four_octets() {
        // RFC 3748 §4.2.
        assert_eq!(
            EapRepr::parse_bytes(&[3, 9, 0, 4]),
            Ok(EapRepr::Success { identifier: 9 })
        );
        assert_eq!(
            EapRepr::parse_bytes(&[4, 9, 0, 4, 0xAA]),
            Ok(EapRepr::Failure { identifier: 9 }),
            "octets beyond Length are padding"
        );
        assert!(matches!(
            EapRepr::parse_bytes(&[3, 9, 0, 5, 0]),
            Err(WireError::BadLength { .. })
        ));
        assert_eq!(EapRepr::Failure { identifier: 2 }.to_bytes(), [4, 2, 0, 4]);
    }

    #[test]
    fn lengths_that_lie_are_refused() {
        for bad in [
            &[1, 1, 0][..],         // shorter than the header
            &[1, 1, 0, 3],          // Length below the header
            &[1, 1, 0, 4],          // a Request without a Type
            &[1, 1, 0, 9, 1, 0],    // Length beyond the octets (CVE-2020-8597's shape)
            &[1, 1, 0, 7, 4, 5, 1], // MD5 Value-Size beyond the Type-Data
            &[1, 1, 0, 6, 4, 0],    // MD5 Value-Size zero
            &[5, 1, 0, 4],          // unknown Code
        ] {
            assert!(EapRepr::parse_bytes(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn md5_challenge_layout() {
        // RFC 3748 §5.4: Value-Size, Value, Name.
        let bytes = [
            1, 2, 0, 14, 4, 4, 0xde, 0xad, 0xbe, 0xef, b's', b'r', b'v', b'1',
        ];
        assert_eq!(
            EapRepr::parse_bytes(&bytes),
            Ok(EapRepr::Request {
                identifier: 2,
                message: EapMessage::Md5Challenge {
                    value: vec![0xde, 0xad, 0xbe, 0xef],
                    name: b"srv1".to_vec()
                }
            })
        );
    }

    #[test]
    fn notification_nak_and_gtc_rules() {
        // RFC 3748 §5.2: an empty Notification Request, or a Response with data, is bad.
        assert!(EapRepr::parse_bytes(&[1, 1, 0, 5, 2]).is_err());
        assert!(EapRepr::parse_bytes(&[2, 1, 0, 6, 2, b'x']).is_err());
        assert_eq!(
            EapRepr::parse_bytes(&[2, 1, 0, 5, 2]),
            Ok(EapRepr::Response {
                identifier: 1,
                message: EapMessage::Notification(vec![])
            })
        );
        // RFC 3748 §5.3.1: Nak only in a Response, and never empty.
        assert!(EapRepr::parse_bytes(&[1, 1, 0, 6, 3, 4]).is_err());
        assert!(EapRepr::parse_bytes(&[2, 1, 0, 5, 3]).is_err());
        assert_eq!(
            EapRepr::parse_bytes(&[2, 1, 0, 7, 3, 26, 6]),
            Ok(EapRepr::Response {
                identifier: 1,
                message: EapMessage::Nak(vec![26, 6])
            })
        );
        // RFC 3748 §5.6: the prompt and the token are not empty.
        assert!(EapRepr::parse_bytes(&[2, 1, 0, 5, 6]).is_err());
    }

    #[test]
    fn ms_chap_v2_layout_per_the_draft() {
        // draft-kamath-pppext-eap-mschapv2-02 §2: Challenge-Request, MS-Length = Length − 5.
        let challenge = EapRepr::Request {
            identifier: 3,
            message: EapMessage::MsChapV2(MsChapV2Data::Packet(ChapRepr::Challenge {
                identifier: 3,
                value: vec![0x5a; 16],
                name: b"srv".to_vec(),
            })),
        };
        let bytes = challenge.to_bytes();
        assert_eq!(bytes.len(), 5 + 4 + 1 + 16 + 3);
        assert_eq!(bytes[..9], [1, 3, 0, 29, 26, 1, 3, 0, 24]);
        assert_eq!(bytes[9], 16, "Value-Size");
        assert_eq!(EapRepr::parse_bytes(&bytes), Ok(challenge));
        // The peer's Success-Response is the OpCode alone.
        let ack = EapRepr::Response {
            identifier: 4,
            message: EapMessage::MsChapV2(MsChapV2Data::Acknowledge(ChapCode::Success)),
        };
        assert_eq!(ack.to_bytes(), [2, 4, 0, 6, 26, 3]);
        assert_eq!(EapRepr::parse_bytes(&[2, 4, 0, 6, 26, 3]), Ok(ack));
        // ...which is no Request.
        assert!(EapRepr::parse_bytes(&[1, 4, 0, 6, 26, 3]).is_err());
        // An MS-Length that disagrees with the EAP Length.
        let mut lying = bytes.clone();
        lying[8] = 23;
        assert!(matches!(
            EapRepr::parse_bytes(&lying),
            Err(WireError::BadLength { .. })
        ));
        // A Challenge travelling from the peer.
        let mut reversed = bytes;
        reversed[0] = 2;
        assert!(EapRepr::parse_bytes(&reversed).is_err());
    }

    fn bytes(range: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), range)
    }

    fn request_messages() -> impl Strategy<Value = EapMessage> {
        prop_oneof![
            bytes(0..40).prop_map(EapMessage::Identity),
            bytes(1..40).prop_map(EapMessage::Notification),
            (bytes(1..256), bytes(0..40))
                .prop_map(|(value, name)| EapMessage::Md5Challenge { value, name }),
            bytes(1..40).prop_map(EapMessage::GenericTokenCard),
            (any::<u8>(), bytes(1..64), bytes(0..20)).prop_map(|(identifier, value, name)| {
                EapMessage::MsChapV2(MsChapV2Data::Packet(ChapRepr::Challenge {
                    identifier,
                    value,
                    name,
                }))
            }),
            (any::<u8>(), bytes(0..80)).prop_map(|(identifier, message)| {
                EapMessage::MsChapV2(MsChapV2Data::Packet(ChapRepr::Failure {
                    identifier,
                    message,
                }))
            }),
            (7u8..=254, bytes(0..40)).prop_filter_map("not a type we parse", |(kind, data)| {
                (EapMethod::from_type(kind).is_none()).then_some(EapMessage::Other { kind, data })
            }),
        ]
    }

    fn response_messages() -> impl Strategy<Value = EapMessage> {
        prop_oneof![
            bytes(0..40).prop_map(EapMessage::Identity),
            Just(EapMessage::Notification(vec![])),
            bytes(1..8).prop_map(EapMessage::Nak),
            (bytes(1..256), bytes(0..40))
                .prop_map(|(value, name)| EapMessage::Md5Challenge { value, name }),
            bytes(1..40).prop_map(EapMessage::GenericTokenCard),
            (any::<u8>(), bytes(1..64), bytes(0..20)).prop_map(|(identifier, value, name)| {
                EapMessage::MsChapV2(MsChapV2Data::Packet(ChapRepr::Response {
                    identifier,
                    value,
                    name,
                }))
            }),
            (any::<u8>(), any::<[u8; 16]>()).prop_map(|(identifier, peer_challenge)| {
                EapMessage::MsChapV2(MsChapV2Data::Packet(ChapRepr::ChangePassword {
                    identifier,
                    packet: Box::new(ChangePassword {
                        encrypted_password: [7; crate::mschapv2::PW_BLOCK_LEN],
                        encrypted_hash: [8; 16],
                        peer_challenge,
                        nt_response: [9; 24],
                        flags: 0,
                    }),
                }))
            }),
            prop_oneof![Just(ChapCode::Success), Just(ChapCode::Failure)]
                .prop_map(|code| EapMessage::MsChapV2(MsChapV2Data::Acknowledge(code))),
        ]
    }

    fn reprs() -> impl Strategy<Value = EapRepr> {
        prop_oneof![
            (any::<u8>(), request_messages()).prop_map(|(identifier, message)| EapRepr::Request {
                identifier,
                message
            }),
            (any::<u8>(), response_messages()).prop_map(|(identifier, message)| {
                EapRepr::Response {
                    identifier,
                    message,
                }
            }),
            any::<u8>().prop_map(|identifier| EapRepr::Success { identifier }),
            any::<u8>().prop_map(|identifier| EapRepr::Failure { identifier }),
        ]
    }

    proptest! {
        #[test]
        fn decoder_never_panics(bytes in bytes(0..700)) {
            let _ = EapRepr::parse_bytes(&bytes);
        }

        #[test]
        fn repr_round_trips(repr in reprs()) {
            let bytes = repr.to_bytes();
            prop_assert_eq!(usize::from(be16(&bytes, 2)), bytes.len());
            prop_assert_eq!(EapRepr::parse_bytes(&bytes), Ok(repr));
        }

        /// No length lies: whatever the decoder accepts, its Length fits the octets, and
        /// re-encoding what it understood gives back exactly the octets Length covers.
        #[test]
        fn accepted_packets_re_encode_to_their_length(repr in reprs(), tail in bytes(0..8), cut in 0usize..8) {
            let mut packet = repr.to_bytes();
            packet.truncate(packet.len().saturating_sub(cut));
            packet.extend_from_slice(&tail);
            if let Ok(parsed) = EapRepr::parse_bytes(&packet) {
                let length = usize::from(be16(&packet, 2));
                prop_assert!(length <= packet.len());
                prop_assert_eq!(parsed.to_bytes(), packet[..length].to_vec());
            }
        }

        #[test]
        fn lying_lengths_are_refused(repr in reprs(), extra in 1u16..300) {
            let mut packet = repr.to_bytes();
            let lie = be16(&packet, 2).saturating_add(extra);
            packet[2..4].copy_from_slice(&lie.to_be_bytes());
            prop_assert!(EapRepr::parse_bytes(&packet).is_err());
        }
    }
}
