//! Microsoft Callback Control Protocol packets (protocol 0xC029; draft-ietf-pppext-callback-cp,
//! MS-CBCP §2.2): LCP's packet layout (Code, Identifier, Length, Data) whose Data is a list of
//! callback configuration options (Type, Length, then the option's fields).
//!
//! ```text
//! option: | Type | Length | Delay | Address Type | Address ... NUL |
//! ```
//!
//! Delay (seconds) and the addresses are present or not depending on the Type
//! (MS-CBCP §2.2.3, §2.2.4).

use std::fmt;

use super::WireError;
use super::control::{ControlPacket, HEADER_LEN};
use super::options::{ConfigOption, emit_list, list_len, parse_list};

/// CBCP Code values, one table (MS-CBCP §2.2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum CbcpCode {
    /// The answerer lists the callbacks it offers (§2.2.4.1).
    CallbackRequest = 1,
    /// The caller picks one (§2.2.4.2).
    CallbackResponse = 2,
    /// The answerer confirms the pick (§2.2.4.3).
    CallbackAck = 3,
}

impl CbcpCode {
    /// The code for `value`, if CBCP defines it.
    pub fn from_u8(value: u8) -> Option<CbcpCode> {
        match value {
            1 => Some(CbcpCode::CallbackRequest),
            2 => Some(CbcpCode::CallbackResponse),
            3 => Some(CbcpCode::CallbackAck),
            _ => None,
        }
    }
}

/// Callback option Type values, one table (MS-CBCP §2.2.3; 4 from the draft).
pub mod kind {
    /// No callback.
    pub const NO_CALLBACK: u8 = 1;
    /// Callback to a number the caller gives.
    pub const USER_NUMBER: u8 = 2;
    /// Callback to a number the answerer's administrator set.
    pub const ADMIN_NUMBER: u8 = 3;
    /// Callback to any of a list of numbers.
    pub const NUMBER_LIST: u8 = 4;
}

/// MS-CBCP §2.2.2: the only Address Type defined, a PSTN or ISDN number.
const ADDRESS_TYPE_PSTN: u8 = 1;

/// A callback configuration option. Numbers are ASCII octets without their NUL terminator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CbcpOption {
    /// Type 1: no callback; no Delay, no Address.
    NoCallback,
    /// Type 2: call back the number the caller gives. In a Callback-Request the number is
    /// empty (MS-CBCP §2.2.4.1); in the Response it is where to call.
    UserNumber {
        /// Seconds to wait before calling back.
        delay: u8,
        /// The number.
        number: Vec<u8>,
    },
    /// Type 3: call back a number the answerer already knows; no Address.
    AdminNumber {
        /// Seconds to wait before calling back.
        delay: u8,
    },
    /// Type 4: call back any of these numbers.
    NumberList {
        /// Seconds to wait before calling back.
        delay: u8,
        /// The numbers.
        numbers: Vec<Vec<u8>>,
    },
    /// Any other type, kept raw.
    Unknown {
        /// The Type octet.
        kind: u8,
        /// The octets after Length.
        data: Vec<u8>,
    },
}

/// Split the NUL-terminated PSTN addresses that fill `bytes` (MS-CBCP §2.2.2).
fn parse_addresses(mut bytes: &[u8]) -> Result<Vec<Vec<u8>>, WireError> {
    let mut addresses = Vec::new();
    while let Some((&address_type, rest)) = bytes.split_first() {
        if address_type != ADDRESS_TYPE_PSTN {
            return Err(WireError::Invalid {
                what: "CBCP address",
                problem: "Address Type is not 1 (PSTN/ISDN)",
            });
        }
        let nul = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(WireError::Invalid {
                what: "CBCP address",
                problem: "address is not NUL-terminated",
            })?;
        addresses.push(rest[..nul].to_vec());
        bytes = &rest[nul + 1..];
    }
    Ok(addresses)
}

fn emit_address(number: &[u8], out: &mut Vec<u8>) {
    out.push(ADDRESS_TYPE_PSTN);
    out.extend_from_slice(number);
    out.push(0);
}

impl ConfigOption for CbcpOption {
    fn kind(&self) -> u8 {
        match self {
            CbcpOption::NoCallback => kind::NO_CALLBACK,
            CbcpOption::UserNumber { .. } => kind::USER_NUMBER,
            CbcpOption::AdminNumber { .. } => kind::ADMIN_NUMBER,
            CbcpOption::NumberList { .. } => kind::NUMBER_LIST,
            CbcpOption::Unknown { kind, .. } => *kind,
        }
    }

    /// Delay is optional on the wire (MS-CBCP §2.2.3) and reads as zero when absent. Fields
    /// a type must not carry (Delay for type 1, an Address for type 3) are ignored.
    fn parse_data(option_kind: u8, data: &[u8]) -> Result<Self, WireError> {
        let delay = data.first().copied().unwrap_or(0);
        let addresses = || parse_addresses(data.get(1..).unwrap_or_default());
        Ok(match option_kind {
            kind::NO_CALLBACK => CbcpOption::NoCallback,
            kind::USER_NUMBER => {
                let mut addresses = addresses()?;
                if addresses.len() > 1 {
                    return Err(WireError::Invalid {
                        what: "CBCP callback to a user-specified number",
                        problem: "more than one address",
                    });
                }
                CbcpOption::UserNumber {
                    delay,
                    number: addresses.pop().unwrap_or_default(),
                }
            }
            kind::ADMIN_NUMBER => CbcpOption::AdminNumber { delay },
            kind::NUMBER_LIST => CbcpOption::NumberList {
                delay,
                numbers: addresses()?,
            },
            _ => CbcpOption::Unknown {
                kind: option_kind,
                data: data.to_vec(),
            },
        })
    }

    fn emit_data(&self, out: &mut Vec<u8>) {
        match self {
            CbcpOption::NoCallback => {}
            CbcpOption::UserNumber { delay, number } => {
                out.push(*delay);
                emit_address(number, out);
            }
            CbcpOption::AdminNumber { delay } => out.push(*delay),
            CbcpOption::NumberList { delay, numbers } => {
                out.push(*delay);
                for number in numbers {
                    emit_address(number, out);
                }
            }
            CbcpOption::Unknown { data, .. } => out.extend_from_slice(data),
        }
    }
}

impl fmt::Display for CbcpOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let number = |n: &[u8]| String::from_utf8_lossy(n).into_owned();
        match self {
            CbcpOption::NoCallback => write!(f, "no callback"),
            CbcpOption::UserNumber { delay, number: n } => {
                write!(f, "user number {:?} delay {delay}s", number(n))
            }
            CbcpOption::AdminNumber { delay } => write!(f, "admin number delay {delay}s"),
            CbcpOption::NumberList { delay, numbers } => {
                let numbers: Vec<String> = numbers.iter().map(|n| number(n)).collect();
                write!(f, "one of {numbers:?} delay {delay}s")
            }
            CbcpOption::Unknown { kind, data } => {
                write!(f, "option {kind} ({} octets)", data.len())
            }
        }
    }
}

/// A parsed CBCP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CbcpRepr {
    /// What the packet is.
    pub code: CbcpCode,
    /// Matches a Response to its Request and an Ack to its Response (MS-CBCP §2.2.4).
    pub identifier: u8,
    /// Offered (Request) or chosen (Response, Ack) callbacks.
    pub options: Vec<CbcpOption>,
}

impl CbcpRepr {
    /// Parse a checked packet.
    pub fn parse<T: AsRef<[u8]>>(packet: &ControlPacket<T>) -> Result<Self, WireError> {
        let code = CbcpCode::from_u8(packet.code()).ok_or(WireError::UnknownCode {
            code: packet.code(),
        })?;
        Ok(CbcpRepr {
            code,
            identifier: packet.identifier(),
            options: parse_list(packet.data())?,
        })
    }

    /// Parse raw bytes.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, WireError> {
        CbcpRepr::parse(&ControlPacket::new_checked(bytes)?)
    }

    /// Octets [`CbcpRepr::emit`] writes.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + list_len(&self.options)
    }

    /// Write the packet into `packet`, whose buffer is [`CbcpRepr::buffer_len`] octets.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut ControlPacket<T>) {
        packet.set_code(self.code as u8);
        packet.set_identifier(self.identifier);
        packet.set_length(u16::try_from(self.buffer_len()).unwrap_or(u16::MAX));
        let mut data = Vec::new();
        emit_list(&self.options, &mut data);
        packet.data_mut()[..data.len()].copy_from_slice(&data);
    }

    /// The packet as a fresh byte vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = vec![0; self.buffer_len()];
        self.emit(&mut ControlPacket::new_unchecked(&mut bytes[..]));
        bytes
    }
}

impl fmt::Display for CbcpRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} id={}", self.code, self.identifier)?;
        for option in &self.options {
            write!(f, " <{option}>")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_a_callback_request_offering_every_type() {
        // What an answerer sends a user with caller-set privilege: user number (empty
        // address, MS-CBCP §2.2.4.1), no callback; then an administrator-set offer.
        let bytes = [
            0x01, 0x01, 0x00, 0x0e, 0x02, 0x05, 0x00, 0x01, 0x00, 0x01, 0x02, 0x03, 0x03, 0x0c,
        ];
        let repr = CbcpRepr::parse_bytes(&bytes).unwrap();
        assert_eq!(
            repr,
            CbcpRepr {
                code: CbcpCode::CallbackRequest,
                identifier: 1,
                options: vec![
                    CbcpOption::UserNumber {
                        delay: 0,
                        number: vec![]
                    },
                    CbcpOption::NoCallback,
                    CbcpOption::AdminNumber { delay: 12 },
                ]
            }
        );
        assert_eq!(repr.to_bytes(), bytes);
        assert_eq!(
            repr.to_string(),
            "CallbackRequest id=1 <user number \"\" delay 0s> <no callback> <admin number delay 12s>"
        );
    }

    #[test]
    fn parses_a_response_with_a_number_and_a_list() {
        let response = [
            0x02, 0x07, 0x00, 0x0e, 0x02, 0x0a, 0x05, 0x01, b'5', b'5', b'5', b'1', b'2', 0x00,
        ];
        assert_eq!(
            CbcpRepr::parse_bytes(&response).unwrap().options,
            [CbcpOption::UserNumber {
                delay: 5,
                number: b"55512".to_vec()
            }]
        );
        let list = [0x04, 0x08, 0x00, 0x01, b'1', 0x00, 0x01, 0x00];
        let options: Vec<CbcpOption> = parse_list(&list).unwrap();
        assert_eq!(
            options,
            [CbcpOption::NumberList {
                delay: 0,
                numbers: vec![b"1".to_vec(), vec![]]
            }]
        );
    }

    #[test]
    fn tolerates_missing_delay_and_ignores_forbidden_fields() {
        let options: Vec<CbcpOption> = parse_list(&[0x03, 0x02, 0x01, 0x03, 0x09]).unwrap();
        assert_eq!(
            options,
            [CbcpOption::AdminNumber { delay: 0 }, CbcpOption::NoCallback]
        );
        let options: Vec<CbcpOption> = parse_list(&[0x03, 0x05, 0x04, 0x01, 0x00]).unwrap();
        assert_eq!(options, [CbcpOption::AdminNumber { delay: 4 }]);
    }

    #[test]
    fn malformed_packets_are_typed_errors() {
        let bad_type = [0x02, 0x05, 0x00, 0x02, 0x00];
        assert!(matches!(
            parse_list::<CbcpOption>(&bad_type),
            Err(WireError::Invalid {
                problem: "Address Type is not 1 (PSTN/ISDN)",
                ..
            })
        ));
        let unterminated = [0x02, 0x05, 0x00, 0x01, b'9'];
        assert!(matches!(
            parse_list::<CbcpOption>(&unterminated),
            Err(WireError::Invalid {
                problem: "address is not NUL-terminated",
                ..
            })
        ));
        let two = [0x02, 0x07, 0x00, 0x01, 0x00, 0x01, 0x00];
        assert!(matches!(
            parse_list::<CbcpOption>(&two),
            Err(WireError::Invalid { .. })
        ));
        assert_eq!(
            CbcpRepr::parse_bytes(&[0x04, 0x01, 0x00, 0x04]),
            Err(WireError::UnknownCode { code: 4 })
        );
        assert!(matches!(
            CbcpRepr::parse_bytes(&[0x01, 0x01, 0x00, 0x07, 0x02, 0x09, 0x00]),
            Err(WireError::BadLength { .. })
        ));
        assert!(matches!(
            CbcpRepr::parse_bytes(&[0x01, 0x01, 0x00]),
            Err(WireError::Truncated { .. })
        ));
    }

    fn number() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(b'0'..=b'9', 0..20)
    }

    fn option() -> impl Strategy<Value = CbcpOption> {
        prop_oneof![
            Just(CbcpOption::NoCallback),
            (any::<u8>(), number())
                .prop_map(|(delay, number)| CbcpOption::UserNumber { delay, number }),
            any::<u8>().prop_map(|delay| CbcpOption::AdminNumber { delay }),
            (any::<u8>(), prop::collection::vec(number(), 0..5))
                .prop_map(|(delay, numbers)| CbcpOption::NumberList { delay, numbers }),
            (5u8.., prop::collection::vec(any::<u8>(), 0..10))
                .prop_map(|(kind, data)| CbcpOption::Unknown { kind, data }),
        ]
    }

    proptest! {
        #[test]
        fn emit_then_parse_is_identity(
            code in 1u8..=3,
            identifier in any::<u8>(),
            options in prop::collection::vec(option(), 0..5),
        ) {
            let repr = CbcpRepr {
                code: CbcpCode::from_u8(code).unwrap(),
                identifier,
                options,
            };
            prop_assert_eq!(CbcpRepr::parse_bytes(&repr.to_bytes()), Ok(repr));
        }

        #[test]
        fn parsing_anything_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = CbcpRepr::parse_bytes(&bytes);
        }
    }
}
