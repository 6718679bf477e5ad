//! CHAP packets (RFC 1994 §4) and the MS-CHAPv2 layouts carried in them (RFC 2759 §3–§7):
//! the 49-octet Response value, the `S=` Success message, the `E= R= C= V= M=` Failure
//! message and the Change-Password packet.

use std::fmt;

use super::WireError;
use super::control::{ControlPacket, HEADER_LEN};
use crate::mschapv2::PW_BLOCK_LEN;

/// CHAP Code values, one table (RFC 1994 §4; 7 from RFC 2759 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ChapCode {
    /// RFC 1994 §4.1.
    Challenge = 1,
    /// RFC 1994 §4.1.
    Response = 2,
    /// RFC 1994 §4.2.
    Success = 3,
    /// RFC 1994 §4.2.
    Failure = 4,
    /// RFC 2759 §7 (MS-CHAPv2 only; 5 and 6 are MS-CHAPv1's, RFC 2433 §7).
    ChangePassword = 7,
}

impl ChapCode {
    /// The code for `value`, if CHAP or MS-CHAPv2 defines it.
    pub fn from_u8(value: u8) -> Option<ChapCode> {
        match value {
            1 => Some(ChapCode::Challenge),
            2 => Some(ChapCode::Response),
            3 => Some(ChapCode::Success),
            4 => Some(ChapCode::Failure),
            7 => Some(ChapCode::ChangePassword),
            _ => None,
        }
    }
}

/// MS-CHAPv2 `E=` error codes, one table (RFC 2759 §6). They are Windows RAS error numbers
/// (`raserror.h`), and a peer must cope with others.
pub mod error_code {
    /// ERROR_RESTRICTED_LOGON_HOURS.
    pub const RESTRICTED_LOGON_HOURS: u32 = 646;
    /// ERROR_ACCT_DISABLED.
    pub const ACCT_DISABLED: u32 = 647;
    /// ERROR_PASSWD_EXPIRED: the peer may answer with Change-Password (RFC 2759 §7).
    pub const PASSWD_EXPIRED: u32 = 648;
    /// ERROR_NO_DIALIN_PERMISSION.
    pub const NO_DIALIN_PERMISSION: u32 = 649;
    /// ERROR_AUTHENTICATION_FAILURE.
    pub const AUTHENTICATION_FAILURE: u32 = 691;
    /// ERROR_CHANGING_PASSWORD.
    pub const CHANGING_PASSWORD: u32 = 709;
}

/// RFC 2759 §6: "For MS-CHAP-V2, this value SHOULD always be 3."
pub const PASSWORD_CHANGE_VERSION: u32 = 3;

/// RFC 2759 §3: the Challenge value is 16 octets.
pub const MS_CHAP_V2_CHALLENGE_LEN: usize = 16;

/// RFC 2759 §4: the Response value is 49 octets.
pub const MS_CHAP_V2_RESPONSE_LEN: usize = 49;

/// RFC 2759 §7: the Change-Password packet's fields after the header.
const CHANGE_PASSWORD_DATA_LEN: usize = PW_BLOCK_LEN + 16 + 16 + 8 + 24 + 2;

/// A parsed CHAP packet. Names and messages are octet strings (RFC 1994 §4.1, §4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChapRepr {
    /// RFC 1994 §4.1: the authenticator's challenge.
    Challenge {
        /// Identifier.
        identifier: u8,
        /// The challenge value.
        value: Vec<u8>,
        /// The authenticator's name.
        name: Vec<u8>,
    },
    /// RFC 1994 §4.1: the peer's answer.
    Response {
        /// The challenge's Identifier.
        identifier: u8,
        /// The response value (MD5 digest, or [`MsChapV2Response`]).
        value: Vec<u8>,
        /// The peer's name.
        name: Vec<u8>,
    },
    /// RFC 1994 §4.2.
    Success {
        /// The response's Identifier.
        identifier: u8,
        /// Message (MS-CHAPv2: [`SuccessMessage`]).
        message: Vec<u8>,
    },
    /// RFC 1994 §4.2.
    Failure {
        /// The response's Identifier.
        identifier: u8,
        /// Message (MS-CHAPv2: [`FailureMessage`]).
        message: Vec<u8>,
    },
    /// RFC 2759 §7.
    ChangePassword {
        /// The Failure's Identifier plus one.
        identifier: u8,
        /// The fields.
        packet: Box<ChangePassword>,
    },
}

/// RFC 2759 §7 Change-Password fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangePassword {
    /// The new password in a PW block encrypted with the old NT hash (RFC 2759 §8.9).
    pub encrypted_password: [u8; PW_BLOCK_LEN],
    /// The old NT hash encrypted with the new one (RFC 2759 §8.12).
    pub encrypted_hash: [u8; 16],
    /// The peer's challenge.
    pub peer_challenge: [u8; 16],
    /// GenerateNTResponse with the new password and the Failure's `C=` challenge.
    pub nt_response: [u8; 24],
    /// Flags, reserved, zero.
    pub flags: u16,
}

/// Split the Value-Size-prefixed value and the name (RFC 1994 §4.1).
fn split_value(data: &[u8], what: &'static str) -> Result<(Vec<u8>, Vec<u8>), WireError> {
    let (&size, rest) = data.split_first().ok_or(WireError::Truncated {
        what,
        len: 0,
        need: 1,
    })?;
    let size = usize::from(size);
    if size > rest.len() {
        return Err(WireError::BadLength {
            what,
            length: size,
            available: rest.len(),
        });
    }
    let (value, name) = rest.split_at(size);
    Ok((value.to_vec(), name.to_vec()))
}

/// Copy `N` octets from `data` at `at`; the caller has checked the length.
fn field<const N: usize>(data: &[u8], at: usize) -> [u8; N] {
    let mut out = [0; N];
    out.copy_from_slice(&data[at..at + N]);
    out
}

impl ChangePassword {
    fn parse(data: &[u8]) -> Result<Self, WireError> {
        if data.len() < CHANGE_PASSWORD_DATA_LEN {
            return Err(WireError::Truncated {
                what: "MS-CHAPv2 Change-Password",
                len: data.len(),
                need: CHANGE_PASSWORD_DATA_LEN,
            });
        }
        // 8 reserved octets between the Peer-Challenge and the NT-Response are ignored.
        Ok(ChangePassword {
            encrypted_password: field(data, 0),
            encrypted_hash: field(data, PW_BLOCK_LEN),
            peer_challenge: field(data, PW_BLOCK_LEN + 16),
            nt_response: field(data, PW_BLOCK_LEN + 40),
            flags: u16::from_be_bytes(field(data, PW_BLOCK_LEN + 64)),
        })
    }

    fn emit(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.encrypted_password);
        out.extend_from_slice(&self.encrypted_hash);
        out.extend_from_slice(&self.peer_challenge);
        out.extend_from_slice(&[0; 8]);
        out.extend_from_slice(&self.nt_response);
        out.extend_from_slice(&self.flags.to_be_bytes());
    }
}

impl ChapRepr {
    /// Parse a checked packet.
    pub fn parse<T: AsRef<[u8]>>(packet: &ControlPacket<T>) -> Result<Self, WireError> {
        let identifier = packet.identifier();
        let data = packet.data();
        let code = ChapCode::from_u8(packet.code()).ok_or(WireError::UnknownCode {
            code: packet.code(),
        })?;
        Ok(match code {
            ChapCode::Challenge => {
                let (value, name) = split_value(data, "CHAP Challenge")?;
                ChapRepr::Challenge {
                    identifier,
                    value,
                    name,
                }
            }
            ChapCode::Response => {
                let (value, name) = split_value(data, "CHAP Response")?;
                ChapRepr::Response {
                    identifier,
                    value,
                    name,
                }
            }
            ChapCode::Success => ChapRepr::Success {
                identifier,
                message: data.to_vec(),
            },
            ChapCode::Failure => ChapRepr::Failure {
                identifier,
                message: data.to_vec(),
            },
            ChapCode::ChangePassword => ChapRepr::ChangePassword {
                identifier,
                packet: Box::new(ChangePassword::parse(data)?),
            },
        })
    }

    /// Parse raw bytes.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, WireError> {
        ChapRepr::parse(&ControlPacket::new_checked(bytes)?)
    }

    /// The Code field.
    pub fn code(&self) -> ChapCode {
        match self {
            ChapRepr::Challenge { .. } => ChapCode::Challenge,
            ChapRepr::Response { .. } => ChapCode::Response,
            ChapRepr::Success { .. } => ChapCode::Success,
            ChapRepr::Failure { .. } => ChapCode::Failure,
            ChapRepr::ChangePassword { .. } => ChapCode::ChangePassword,
        }
    }

    /// The Identifier field.
    pub fn identifier(&self) -> u8 {
        match self {
            ChapRepr::Challenge { identifier, .. }
            | ChapRepr::Response { identifier, .. }
            | ChapRepr::Success { identifier, .. }
            | ChapRepr::Failure { identifier, .. }
            | ChapRepr::ChangePassword { identifier, .. } => *identifier,
        }
    }

    /// The Data field. A value longer than its one-octet Value-Size can say is cut to 255
    /// octets; a Data field longer than the Length field can say is cut to fit.
    fn data(&self) -> Vec<u8> {
        let mut data = Vec::new();
        match self {
            ChapRepr::Challenge { value, name, .. } | ChapRepr::Response { value, name, .. } => {
                let value = &value[..value.len().min(255)];
                data.push(u8::try_from(value.len()).unwrap_or(u8::MAX));
                data.extend_from_slice(value);
                data.extend_from_slice(name);
            }
            ChapRepr::Success { message, .. } | ChapRepr::Failure { message, .. } => {
                data.extend_from_slice(message);
            }
            ChapRepr::ChangePassword { packet, .. } => packet.emit(&mut data),
        }
        data.truncate(usize::from(u16::MAX) - HEADER_LEN);
        data
    }

    /// Octets [`ChapRepr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.data().len()
    }

    /// Write the packet; the buffer must be [`ChapRepr::buffer_len`] octets long.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut ControlPacket<T>) {
        let data = self.data();
        packet.set_code(self.code() as u8);
        packet.set_identifier(self.identifier());
        packet.set_length(u16::try_from(HEADER_LEN + data.len()).unwrap_or(u16::MAX));
        packet.data_mut()[..data.len()].copy_from_slice(&data);
    }

    /// The packet as a fresh byte vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![0; self.buffer_len()];
        self.emit(&mut ControlPacket::new_unchecked(&mut bytes[..]));
        bytes
    }
}

impl fmt::Display for ChapRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let id = self.identifier();
        match self {
            ChapRepr::Challenge { value, name, .. } => write!(
                f,
                "Challenge id={id} value={} octets name={:?}",
                value.len(),
                String::from_utf8_lossy(name)
            ),
            ChapRepr::Response { value, name, .. } => write!(
                f,
                "Response id={id} value={} octets name={:?}",
                value.len(),
                String::from_utf8_lossy(name)
            ),
            ChapRepr::Success { message, .. } => {
                write!(f, "Success id={id} {:?}", String::from_utf8_lossy(message))
            }
            ChapRepr::Failure { message, .. } => {
                write!(f, "Failure id={id} {:?}", String::from_utf8_lossy(message))
            }
            // Never log the encrypted password block.
            ChapRepr::ChangePassword { .. } => write!(f, "Change-Password id={id}"),
        }
    }
}

/// A malformed MS-CHAPv2 value or message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MsChapV2Error {
    /// A Challenge or Response value of the wrong size (RFC 2759 §3, §4).
    #[error("MS-CHAPv2 {what}: Value-Size {size}, must be {expected}")]
    ValueSize {
        /// Which value.
        what: &'static str,
        /// Its size.
        size: usize,
        /// The size RFC 2759 fixes.
        expected: usize,
    },
    /// A Success message without a well-formed `S=` (RFC 2759 §5).
    #[error("MS-CHAPv2 Success message: {0}")]
    BadSuccess(&'static str),
    /// A Failure message without a well-formed `E=` or with a malformed field (RFC 2759 §6).
    #[error("MS-CHAPv2 Failure message: {0}")]
    BadFailure(&'static str),
}

/// RFC 2759 §3: the authenticator's 16-octet challenge out of a Challenge value.
pub fn ms_chap_v2_challenge(value: &[u8]) -> Result<[u8; 16], MsChapV2Error> {
    value.try_into().map_err(|_| MsChapV2Error::ValueSize {
        what: "Challenge",
        size: value.len(),
        expected: MS_CHAP_V2_CHALLENGE_LEN,
    })
}

/// RFC 2759 §4: the Response value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsChapV2Response {
    /// The peer's random challenge.
    pub peer_challenge: [u8; 16],
    /// GenerateNTResponse (RFC 2759 §8.1).
    pub nt_response: [u8; 24],
    /// Flags, reserved, zero.
    pub flags: u8,
}

impl MsChapV2Response {
    /// Parse a Response value: 16 Peer-Challenge, 8 reserved (ignored), 24 NT-Response,
    /// 1 Flags.
    pub fn parse(value: &[u8]) -> Result<Self, MsChapV2Error> {
        if value.len() != MS_CHAP_V2_RESPONSE_LEN {
            return Err(MsChapV2Error::ValueSize {
                what: "Response",
                size: value.len(),
                expected: MS_CHAP_V2_RESPONSE_LEN,
            });
        }
        Ok(MsChapV2Response {
            peer_challenge: field(value, 0),
            nt_response: field(value, 24),
            flags: value[48],
        })
    }

    /// The 49-octet value, reserved octets zero (RFC 2759 §4).
    pub fn to_value(&self) -> Vec<u8> {
        let mut value = Vec::with_capacity(MS_CHAP_V2_RESPONSE_LEN);
        value.extend_from_slice(&self.peer_challenge);
        value.extend_from_slice(&[0; 8]);
        value.extend_from_slice(&self.nt_response);
        value.push(self.flags);
        value
    }
}

/// The authenticator's proof that it knows the password (RFC 2759 §8.7), shown as `S=` and
/// 40 uppercase hex digits (RFC 2759 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthenticatorResponse(pub [u8; 20]);

impl fmt::Display for AuthenticatorResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "S=")?;
        for octet in self.0 {
            write!(f, "{octet:02X}")?;
        }
        Ok(())
    }
}

/// Decode exactly `N` octets of hex digits (either case).
fn parse_hex<const N: usize>(digits: &str) -> Option<[u8; N]> {
    if digits.len() != 2 * N || !digits.is_ascii() {
        return None;
    }
    let mut out = [0; N];
    for (octet, pair) in out.iter_mut().zip(digits.as_bytes().chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *octet = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// RFC 2759 §5 Success message: `S=<auth_string> M=<message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuccessMessage {
    /// The authenticator response the peer must check.
    pub authenticator_response: AuthenticatorResponse,
    /// The text after `M=`, empty if absent.
    pub message: String,
}

impl SuccessMessage {
    /// Parse the Message field of a Success packet. Only `S=` is required; the `M=` part is
    /// optional, as not every server sends it.
    pub fn parse(bytes: &[u8]) -> Result<Self, MsChapV2Error> {
        let text = String::from_utf8_lossy(bytes);
        let rest = text
            .strip_prefix("S=")
            .ok_or(MsChapV2Error::BadSuccess("no S= at the start"))?;
        let digits = rest
            .get(..40)
            .ok_or(MsChapV2Error::BadSuccess("S= needs 40 hexadecimal digits"))?;
        let response = parse_hex::<20>(digits)
            .ok_or(MsChapV2Error::BadSuccess("S= needs 40 hexadecimal digits"))?;
        let rest = &rest[40..];
        let message = if rest.is_empty() {
            String::new()
        } else {
            rest.trim_start()
                .strip_prefix("M=")
                .ok_or(MsChapV2Error::BadSuccess("text after S= is not M="))?
                .to_owned()
        };
        Ok(SuccessMessage {
            authenticator_response: AuthenticatorResponse(response),
            message,
        })
    }

    /// The Message field.
    pub fn to_bytes(&self) -> Vec<u8> {
        format!("{} M={}", self.authenticator_response, self.message).into_bytes()
    }
}

/// RFC 2759 §6 Failure message: `E=eeeeeeeeee R=r C=cccc… V=vvvvvvvvvv M=<msg>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureMessage {
    /// `E=`: a decimal error code, normally one of [`error_code`].
    pub error: u32,
    /// `R=1`: the peer may try again with the challenge in `C=`.
    pub retry: bool,
    /// `C=`: the challenge for a retry or a Change-Password. RFC 2759 §6 says it MUST be
    /// present; older servers omit it.
    pub challenge: Option<[u8; 16]>,
    /// `V=`: the password-change protocol version (3 for MS-CHAPv2).
    pub version: Option<u32>,
    /// `M=`: human-readable text, to the end of the message.
    pub message: String,
}

impl FailureMessage {
    /// Parse the Message field of a Failure packet. `E=` is required; `R=` defaults to 0;
    /// `M=` takes the rest of the text; unknown fields are skipped.
    pub fn parse(bytes: &[u8]) -> Result<Self, MsChapV2Error> {
        let text = String::from_utf8_lossy(bytes);
        let mut error = None;
        let mut retry = false;
        let mut challenge = None;
        let mut version = None;
        let mut message = String::new();
        let mut rest = text.trim_start();
        while !rest.is_empty() {
            if let Some(text) = rest.strip_prefix("M=") {
                message = text.to_owned();
                break;
            }
            let (token, after) = rest.split_once(' ').unwrap_or((rest, ""));
            rest = after.trim_start();
            let Some((key, value)) = token.split_once('=') else {
                return Err(MsChapV2Error::BadFailure("a field without ="));
            };
            match key {
                "E" => {
                    error = Some(
                        value
                            .parse()
                            .map_err(|_| MsChapV2Error::BadFailure("E= is not a number"))?,
                    );
                }
                "R" => {
                    retry = match value {
                        "0" => false,
                        "1" => true,
                        _ => return Err(MsChapV2Error::BadFailure("R= is neither 0 nor 1")),
                    };
                }
                "C" => {
                    challenge = Some(
                        parse_hex::<16>(value)
                            .ok_or(MsChapV2Error::BadFailure("C= needs 32 hexadecimal digits"))?,
                    );
                }
                "V" => {
                    version = Some(
                        value
                            .parse()
                            .map_err(|_| MsChapV2Error::BadFailure("V= is not a number"))?,
                    );
                }
                _ => {}
            }
        }
        Ok(FailureMessage {
            error: error.ok_or(MsChapV2Error::BadFailure("no E="))?,
            retry,
            challenge,
            version,
            message,
        })
    }

    /// The Message field.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_string().into_bytes()
    }
}

impl fmt::Display for FailureMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "E={} R={}", self.error, u8::from(self.retry))?;
        if let Some(challenge) = self.challenge {
            write!(f, " C=")?;
            for octet in challenge {
                write!(f, "{octet:02X}")?;
            }
        }
        if let Some(version) = self.version {
            write!(f, " V={version}")?;
        }
        write!(f, " M={}", self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn challenge_layout_matches_rfc_1994() {
        let repr = ChapRepr::Challenge {
            identifier: 7,
            value: vec![0xAA, 0xBB],
            name: b"srv".to_vec(),
        };
        let bytes = repr.to_bytes();
        assert_eq!(bytes, [1, 7, 0, 10, 2, 0xAA, 0xBB, b's', b'r', b'v']);
        assert_eq!(ChapRepr::parse_bytes(&bytes), Ok(repr));
        assert_eq!(
            ChapRepr::parse_bytes(&[3, 7, 0, 6, b'o', b'k']),
            Ok(ChapRepr::Success {
                identifier: 7,
                message: b"ok".to_vec()
            })
        );
    }

    #[test]
    fn bad_packets_are_errors() {
        assert!(matches!(
            ChapRepr::parse_bytes(&[1, 1, 0, 6, 5, 0]),
            Err(WireError::BadLength { .. })
        ));
        assert!(matches!(
            ChapRepr::parse_bytes(&[2, 1, 0, 4]),
            Err(WireError::Truncated { .. })
        ));
        assert_eq!(
            ChapRepr::parse_bytes(&[5, 1, 0, 4]),
            Err(WireError::UnknownCode { code: 5 })
        );
        assert!(matches!(
            ChapRepr::parse_bytes(&[7, 1, 0, 8, 0, 0, 0, 0]),
            Err(WireError::Truncated { .. })
        ));
    }

    #[test]
    fn ms_chap_v2_response_value_layout() {
        let response = MsChapV2Response {
            peer_challenge: [0x11; 16],
            nt_response: [0x22; 24],
            flags: 0,
        };
        let value = response.to_value();
        assert_eq!(value.len(), 49);
        assert_eq!(value[16..24], [0; 8]);
        assert_eq!(value[24..48], [0x22; 24]);
        assert_eq!(MsChapV2Response::parse(&value), Ok(response));
        assert!(MsChapV2Response::parse(&value[..48]).is_err());
        assert!(ms_chap_v2_challenge(&[0; 8]).is_err());
    }

    #[test]
    fn change_password_layout_matches_rfc_2759_section_7() {
        let repr = ChapRepr::ChangePassword {
            identifier: 3,
            packet: Box::new(ChangePassword {
                encrypted_password: [1; PW_BLOCK_LEN],
                encrypted_hash: [2; 16],
                peer_challenge: [3; 16],
                nt_response: [4; 24],
                flags: 0,
            }),
        };
        let bytes = repr.to_bytes();
        // RFC 2759 §7: Length 586.
        assert_eq!(bytes[..4], [7, 3, 0x02, 0x4A]);
        assert_eq!(bytes.len(), 586);
        assert_eq!(bytes[4 + 516 + 32..4 + 516 + 40], [0; 8]);
        assert_eq!(ChapRepr::parse_bytes(&bytes), Ok(repr));
    }

    #[test]
    fn success_message_per_rfc_2759_section_5() {
        let message =
            SuccessMessage::parse(b"S=407A5589115FD0D6209F510FE9C04566932CDA56 M=Welcome home")
                .unwrap();
        assert_eq!(message.message, "Welcome home");
        assert_eq!(
            message.authenticator_response.to_string(),
            "S=407A5589115FD0D6209F510FE9C04566932CDA56"
        );
        assert_eq!(
            SuccessMessage::parse(&message.to_bytes()),
            Ok(message.clone())
        );
        assert!(
            SuccessMessage::parse(b"S=407a5589115fd0d6209f510fe9c04566932cda56")
                .unwrap()
                .message
                .is_empty()
        );
        for bad in [
            &b"Welcome"[..],
            b"S=407A",
            b"S=407A5589115FD0D6209F510FE9C04566932CDAZZ M=x",
            b"S=407A5589115FD0D6209F510FE9C04566932CDA56 X=y",
        ] {
            assert!(SuccessMessage::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn failure_message_per_rfc_2759_section_6() {
        let text = b"E=691 R=1 C=00112233445566778899AABBCCDDEEFF V=3 M=Bad password, try again";
        let message = FailureMessage::parse(text).unwrap();
        assert_eq!(
            message,
            FailureMessage {
                error: error_code::AUTHENTICATION_FAILURE,
                retry: true,
                challenge: Some([
                    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC,
                    0xDD, 0xEE, 0xFF
                ]),
                version: Some(PASSWORD_CHANGE_VERSION),
                message: "Bad password, try again".into(),
            }
        );
        assert_eq!(message.to_bytes(), text);
        // Old servers: no C=, V= or M=.
        assert_eq!(
            FailureMessage::parse(b"E=648 R=0").unwrap(),
            FailureMessage {
                error: 648,
                retry: false,
                challenge: None,
                version: None,
                message: String::new()
            }
        );
        for bad in [
            &b""[..],
            b"R=1",
            b"E=six",
            b"E=691 R=2",
            b"E=691 C=0011",
            b"E=691 junk",
        ] {
            assert!(FailureMessage::parse(bad).is_err(), "{bad:?}");
        }
    }

    fn reprs() -> impl Strategy<Value = ChapRepr> {
        let bytes = |max| proptest::collection::vec(any::<u8>(), 0..max);
        prop_oneof![
            (any::<u8>(), bytes(255), bytes(64)).prop_map(|(identifier, value, name)| {
                ChapRepr::Challenge {
                    identifier,
                    value,
                    name,
                }
            }),
            (any::<u8>(), bytes(255), bytes(64)).prop_map(|(identifier, value, name)| {
                ChapRepr::Response {
                    identifier,
                    value,
                    name,
                }
            }),
            (any::<u8>(), bytes(100)).prop_map(|(identifier, message)| ChapRepr::Success {
                identifier,
                message
            }),
            (any::<u8>(), bytes(100)).prop_map(|(identifier, message)| ChapRepr::Failure {
                identifier,
                message
            }),
            (
                any::<u8>(),
                proptest::collection::vec(any::<u8>(), PW_BLOCK_LEN),
                any::<[u8; 16]>(),
                any::<[u8; 16]>(),
                any::<[u8; 24]>(),
                any::<u16>()
            )
                .prop_map(
                    |(identifier, block, encrypted_hash, peer_challenge, nt_response, flags)| {
                        let mut encrypted_password = [0; PW_BLOCK_LEN];
                        encrypted_password.copy_from_slice(&block);
                        ChapRepr::ChangePassword {
                            identifier,
                            packet: Box::new(ChangePassword {
                                encrypted_password,
                                encrypted_hash,
                                peer_challenge,
                                nt_response,
                                flags,
                            }),
                        }
                    }
                ),
        ]
    }

    proptest! {
        #[test]
        fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..700)) {
            if let Ok(ChapRepr::Response { value, .. }) = ChapRepr::parse_bytes(&bytes) {
                let _ = MsChapV2Response::parse(&value);
            }
            let _ = SuccessMessage::parse(&bytes);
            let _ = FailureMessage::parse(&bytes);
            let _ = ms_chap_v2_challenge(&bytes);
        }

        #[test]
        fn text_decoders_never_panic(text in "\\PC{0,120}") {
            let _ = SuccessMessage::parse(text.as_bytes());
            let _ = FailureMessage::parse(text.as_bytes());
        }

        #[test]
        fn repr_round_trips(repr in reprs()) {
            prop_assert_eq!(ChapRepr::parse_bytes(&repr.to_bytes()), Ok(repr));
        }

        #[test]
        fn failure_message_round_trips(
            error in any::<u32>(),
            retry in any::<bool>(),
            challenge in proptest::option::of(any::<[u8; 16]>()),
            version in proptest::option::of(any::<u32>()),
            message in "\\PC{0,60}",
        ) {
            let failure = FailureMessage { error, retry, challenge, version, message };
            prop_assert_eq!(FailureMessage::parse(&failure.to_bytes()), Ok(failure));
        }
    }
}
