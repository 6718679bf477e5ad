//! LCP Configuration Options (RFC 1661 §6, RFC 1662 §7.1).

use std::fmt;

use super::options::{ConfigOption, expect_len};
use super::{Protocol, WireError, be16, be32};

/// LCP option Type values, one table (IANA "PPP LCP Configuration Option Types").
pub mod kind {
    /// Maximum-Receive-Unit (RFC 1661 §6.1).
    pub const MRU: u8 = 1;
    /// Async-Control-Character-Map (RFC 1662 §7.1).
    pub const ACCM: u8 = 2;
    /// Authentication-Protocol (RFC 1661 §6.2).
    pub const AUTH_PROTOCOL: u8 = 3;
    /// Quality-Protocol (RFC 1661 §6.3).
    pub const QUALITY_PROTOCOL: u8 = 4;
    /// Magic-Number (RFC 1661 §6.4).
    pub const MAGIC_NUMBER: u8 = 5;
    /// Protocol-Field-Compression (RFC 1661 §6.5).
    pub const PFC: u8 = 7;
    /// Address-and-Control-Field-Compression (RFC 1661 §6.6).
    pub const ACFC: u8 = 8;
    /// Callback (RFC 1570 §2.3).
    pub const CALLBACK: u8 = 13;
    /// Multilink Maximum-Received-Reconstructed-Unit (RFC 1990 §5.1.1).
    pub const MRRU: u8 = 17;
    /// Multilink Short-Sequence-Number-Header-Format (RFC 1990 §5.1.2).
    pub const SHORT_SEQUENCE: u8 = 18;
    /// Endpoint-Discriminator (RFC 1990 §5.1.3).
    pub const ENDPOINT_DISCRIMINATOR: u8 = 19;
    /// Link-Discriminator for BACP (RFC 2125 §2.1).
    pub const LINK_DISCRIMINATOR: u8 = 23;
}

/// CHAP algorithm octets carried in the Authentication-Protocol option.
mod chap_algorithm {
    /// CHAP with MD5 (RFC 1994 §3).
    pub const MD5: u8 = 5;
    /// MS-CHAP-V2 (RFC 2759 §2).
    pub const MS_CHAP_V2: u8 = 0x81;
}

/// An LCP Configuration Option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LcpOption {
    /// RFC 1661 §6.1: the largest Information field the sender can receive.
    Mru(u16),
    /// RFC 1662 §7.1: control characters the sender wants escaped toward it.
    Accm(u32),
    /// RFC 1661 §6.2: the protocol the sender requires its peer to authenticate with.
    AuthProtocol {
        /// The authentication protocol number (0xC023 PAP, 0xC223 CHAP).
        protocol: u16,
        /// Protocol-specific data (CHAP's algorithm octet).
        data: Vec<u8>,
    },
    /// RFC 1661 §6.4: loopback detection.
    MagicNumber(u32),
    /// RFC 1661 §6.5: the sender can receive one-octet protocol fields.
    Pfc,
    /// RFC 1661 §6.6: the sender can receive frames without Address and Control.
    Acfc,
    /// RFC 1570 §2.3: the sender asks to be called back (Microsoft: to negotiate it by CBCP
    /// after authentication, MS-CBCP §2.2.1).
    Callback {
        /// How the callback location is to be determined.
        operation: CallbackOperation,
        /// Operation-specific data (a dialing string, a name...); empty for CBCP.
        message: Vec<u8>,
    },
    /// RFC 1990 §5.1.1: the sender implements MP and reassembles packets up to this size.
    Mrru(u16),
    /// RFC 1990 §5.1.2: the sender wants to receive MP headers with 12-bit sequence numbers.
    ShortSequence,
    /// RFC 1990 §5.1.3: who the sender is, so links from one system join one bundle.
    EndpointDiscriminator(EndpointDiscriminator),
    /// RFC 2125 §2.1: the number by which BAP's Link-Drop-Query-Request names this link
    /// within the bundle.
    LinkDiscriminator(u16),
    /// Any other option, kept raw so it can be Rejected (RFC 1661 §5.4).
    Unknown {
        /// The Type octet.
        kind: u8,
        /// The Data octets.
        data: Vec<u8>,
    },
}

impl ConfigOption for LcpOption {
    fn kind(&self) -> u8 {
        match self {
            LcpOption::Mru(_) => kind::MRU,
            LcpOption::Accm(_) => kind::ACCM,
            LcpOption::AuthProtocol { .. } => kind::AUTH_PROTOCOL,
            LcpOption::MagicNumber(_) => kind::MAGIC_NUMBER,
            LcpOption::Pfc => kind::PFC,
            LcpOption::Acfc => kind::ACFC,
            LcpOption::Callback { .. } => kind::CALLBACK,
            LcpOption::Mrru(_) => kind::MRRU,
            LcpOption::ShortSequence => kind::SHORT_SEQUENCE,
            LcpOption::EndpointDiscriminator(_) => kind::ENDPOINT_DISCRIMINATOR,
            LcpOption::LinkDiscriminator(_) => kind::LINK_DISCRIMINATOR,
            LcpOption::Unknown { kind, .. } => *kind,
        }
    }

    fn parse_data(option_kind: u8, data: &[u8]) -> Result<Self, WireError> {
        Ok(match option_kind {
            kind::MRU => {
                expect_len(option_kind, data, 2)?;
                LcpOption::Mru(be16(data, 0))
            }
            kind::ACCM => {
                expect_len(option_kind, data, 4)?;
                LcpOption::Accm(be32(data, 0))
            }
            kind::AUTH_PROTOCOL => {
                if data.len() < 2 {
                    return Err(WireError::BadOptionLength {
                        kind: option_kind,
                        length: data.len() + 2,
                    });
                }
                LcpOption::AuthProtocol {
                    protocol: be16(data, 0),
                    data: data[2..].to_vec(),
                }
            }
            kind::MAGIC_NUMBER => {
                expect_len(option_kind, data, 4)?;
                LcpOption::MagicNumber(be32(data, 0))
            }
            kind::PFC => {
                expect_len(option_kind, data, 0)?;
                LcpOption::Pfc
            }
            kind::ACFC => {
                expect_len(option_kind, data, 0)?;
                LcpOption::Acfc
            }
            kind::CALLBACK => {
                // RFC 1570 §2.3: Length >= 3, the Operation octet then the Message.
                let (&operation, message) =
                    data.split_first().ok_or(WireError::BadOptionLength {
                        kind: option_kind,
                        length: data.len() + 2,
                    })?;
                LcpOption::Callback {
                    operation: CallbackOperation::from_u8(operation),
                    message: message.to_vec(),
                }
            }
            kind::MRRU => {
                expect_len(option_kind, data, 2)?;
                LcpOption::Mrru(be16(data, 0))
            }
            kind::SHORT_SEQUENCE => {
                expect_len(option_kind, data, 0)?;
                LcpOption::ShortSequence
            }
            kind::ENDPOINT_DISCRIMINATOR => {
                LcpOption::EndpointDiscriminator(EndpointDiscriminator::parse(data)?)
            }
            kind::LINK_DISCRIMINATOR => {
                expect_len(option_kind, data, 2)?;
                LcpOption::LinkDiscriminator(be16(data, 0))
            }
            _ => LcpOption::Unknown {
                kind: option_kind,
                data: data.to_vec(),
            },
        })
    }

    fn emit_data(&self, out: &mut Vec<u8>) {
        match self {
            LcpOption::Mru(mru) => out.extend_from_slice(&mru.to_be_bytes()),
            LcpOption::Accm(map) => out.extend_from_slice(&map.to_be_bytes()),
            LcpOption::AuthProtocol { protocol, data } => {
                out.extend_from_slice(&protocol.to_be_bytes());
                out.extend_from_slice(data);
            }
            LcpOption::MagicNumber(magic) => out.extend_from_slice(&magic.to_be_bytes()),
            LcpOption::Pfc | LcpOption::Acfc | LcpOption::ShortSequence => {}
            LcpOption::Callback { operation, message } => {
                out.push(operation.to_u8());
                out.extend_from_slice(message);
            }
            LcpOption::Mrru(mrru) | LcpOption::LinkDiscriminator(mrru) => {
                out.extend_from_slice(&mrru.to_be_bytes())
            }
            LcpOption::EndpointDiscriminator(discriminator) => {
                out.push(discriminator.class.to_u8());
                out.extend_from_slice(&discriminator.address);
            }
            LcpOption::Unknown { data, .. } => out.extend_from_slice(data),
        }
    }
}

impl fmt::Display for LcpOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LcpOption::Mru(mru) => write!(f, "mru {mru}"),
            LcpOption::Accm(map) => write!(f, "asyncmap {map:#010x}"),
            LcpOption::AuthProtocol { protocol, data } => {
                write!(f, "auth {}", AuthProtocol::from_option(*protocol, data))
            }
            LcpOption::MagicNumber(magic) => write!(f, "magic {magic:#010x}"),
            LcpOption::Pfc => write!(f, "pcomp"),
            LcpOption::Acfc => write!(f, "accomp"),
            LcpOption::Callback { operation, message } => {
                write!(f, "callback {operation}")?;
                if !message.is_empty() {
                    write!(f, " {:?}", String::from_utf8_lossy(message))?;
                }
                Ok(())
            }
            LcpOption::Mrru(mrru) => write!(f, "mrru {mrru}"),
            LcpOption::ShortSequence => write!(f, "ssnhf"),
            LcpOption::EndpointDiscriminator(discriminator) => {
                write!(f, "endpoint {discriminator}")
            }
            LcpOption::LinkDiscriminator(discriminator) => {
                write!(f, "link-discriminator {discriminator:#06x}")
            }
            LcpOption::Unknown { kind, data } => write!(f, "option {kind} ({} octets)", data.len()),
        }
    }
}

/// The Operation field of the Callback option, one table (RFC 1570 §2.3; 6 from MS-CBCP
/// §2.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallbackOperation {
    /// 0: the location is determined by user authentication.
    ByAuthentication,
    /// 1: the Message is a dialing string.
    DialingString,
    /// 2: the Message is a location identifier.
    LocationIdentifier,
    /// 3: the Message is an E.164 number.
    E164Number,
    /// 4: the Message is a distinguished name.
    DistinguishedName,
    /// 6: negotiate the callback with CBCP after authentication (Microsoft).
    Cbcp,
    /// Any other operation.
    Other(u8),
}

impl CallbackOperation {
    /// The operation for an Operation octet.
    pub fn from_u8(value: u8) -> Self {
        match value {
            0 => CallbackOperation::ByAuthentication,
            1 => CallbackOperation::DialingString,
            2 => CallbackOperation::LocationIdentifier,
            3 => CallbackOperation::E164Number,
            4 => CallbackOperation::DistinguishedName,
            6 => CallbackOperation::Cbcp,
            other => CallbackOperation::Other(other),
        }
    }

    /// The Operation octet.
    pub fn to_u8(self) -> u8 {
        match self {
            CallbackOperation::ByAuthentication => 0,
            CallbackOperation::DialingString => 1,
            CallbackOperation::LocationIdentifier => 2,
            CallbackOperation::E164Number => 3,
            CallbackOperation::DistinguishedName => 4,
            CallbackOperation::Cbcp => 6,
            CallbackOperation::Other(other) => other,
        }
    }
}

impl fmt::Display for CallbackOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallbackOperation::ByAuthentication => write!(f, "by-auth"),
            CallbackOperation::DialingString => write!(f, "dialing-string"),
            CallbackOperation::LocationIdentifier => write!(f, "location"),
            CallbackOperation::E164Number => write!(f, "e164"),
            CallbackOperation::DistinguishedName => write!(f, "name"),
            CallbackOperation::Cbcp => write!(f, "cbcp"),
            CallbackOperation::Other(other) => write!(f, "op{other}"),
        }
    }
}

/// The Class field of the Endpoint-Discriminator option, one table (RFC 1990 §5.1.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EndpointClass {
    /// 0: Null Class, no address; equivalent to sending no discriminator.
    Null,
    /// 1: Locally Assigned Address, at most 20 octets.
    Local,
    /// 2: Internet Protocol (IPv4) Address, 4 octets.
    Ipv4,
    /// 3: IEEE 802.1 Globally Assigned MAC Address, 6 octets.
    Ieee802Mac,
    /// 4: PPP Magic-Number Block, one to five Magic-Numbers (4 to 20 octets).
    MagicNumberBlock,
    /// 5: Public Switched Network Directory Number, at most 15 octets.
    DirectoryNumber,
    /// Any other class, kept as received.
    Other(u8),
}

impl EndpointClass {
    /// The class for a Class octet.
    pub fn from_u8(value: u8) -> Self {
        match value {
            0 => EndpointClass::Null,
            1 => EndpointClass::Local,
            2 => EndpointClass::Ipv4,
            3 => EndpointClass::Ieee802Mac,
            4 => EndpointClass::MagicNumberBlock,
            5 => EndpointClass::DirectoryNumber,
            other => EndpointClass::Other(other),
        }
    }

    /// The Class octet.
    pub fn to_u8(self) -> u8 {
        match self {
            EndpointClass::Null => 0,
            EndpointClass::Local => 1,
            EndpointClass::Ipv4 => 2,
            EndpointClass::Ieee802Mac => 3,
            EndpointClass::MagicNumberBlock => 4,
            EndpointClass::DirectoryNumber => 5,
            EndpointClass::Other(other) => other,
        }
    }

    /// RFC 1990 §5.1.3: the Address lengths this class allows.
    pub fn allows_length(self, length: usize) -> bool {
        match self {
            EndpointClass::Null => length == 0,
            EndpointClass::Local => length <= 20,
            EndpointClass::Ipv4 => length == 4,
            EndpointClass::Ieee802Mac => length == 6,
            EndpointClass::MagicNumberBlock => matches!(length, 4 | 8 | 12 | 16 | 20),
            EndpointClass::DirectoryNumber => length <= 15,
            // The option's own Length octet is the only limit we know of.
            EndpointClass::Other(_) => true,
        }
    }
}

/// An Endpoint Discriminator (RFC 1990 §5.1.3): a class and an address in that class.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EndpointDiscriminator {
    /// How to read the address.
    pub class: EndpointClass,
    /// The address, of a length its class allows.
    pub address: Vec<u8>,
}

impl EndpointDiscriminator {
    /// Parse the option's Data (Class then Address), checking the class's length rule.
    pub fn parse(data: &[u8]) -> Result<Self, WireError> {
        let bad_length = WireError::BadOptionLength {
            kind: kind::ENDPOINT_DISCRIMINATOR,
            length: data.len() + 2,
        };
        let (&class, address) = data.split_first().ok_or(bad_length.clone())?;
        let class = EndpointClass::from_u8(class);
        if !class.allows_length(address.len()) {
            return Err(bad_length);
        }
        Ok(EndpointDiscriminator {
            class,
            address: address.to_vec(),
        })
    }

    /// RFC 1990 §5.1.3: the Null Class "is equivalent to the absence of this option".
    pub fn is_null(&self) -> bool {
        self.class == EndpointClass::Null
    }
}

impl fmt::Display for EndpointDiscriminator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.class {
            EndpointClass::Null => write!(f, "null"),
            EndpointClass::Ipv4 => {
                let [a, b, c, d] = self.address[..] else {
                    return write!(f, "IP (malformed)");
                };
                write!(f, "IP:{a}.{b}.{c}.{d}")
            }
            EndpointClass::DirectoryNumber => {
                write!(f, "phone:{}", String::from_utf8_lossy(&self.address))
            }
            class => {
                let label = match class {
                    EndpointClass::Local => "local".to_owned(),
                    EndpointClass::Ieee802Mac => "MAC".to_owned(),
                    EndpointClass::MagicNumberBlock => "magic".to_owned(),
                    other => format!("class{}", other.to_u8()),
                };
                write!(f, "{label}:")?;
                for octet in &self.address {
                    write!(f, "{octet:02x}")?;
                }
                Ok(())
            }
        }
    }
}

/// An authentication protocol as named in the Authentication-Protocol option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthProtocol {
    /// PAP (RFC 1334).
    Pap,
    /// CHAP with MD5 (RFC 1994).
    ChapMd5,
    /// MS-CHAP-V2 (RFC 2759).
    MsChapV2,
    /// EAP (RFC 3748 §3.1: protocol 0xC227, no data).
    Eap,
    /// Anything else (including CHAP with another algorithm), by protocol number.
    Other(u16),
}

impl AuthProtocol {
    /// Recognise the option's protocol number and data.
    pub fn from_option(protocol: u16, data: &[u8]) -> Self {
        match (Protocol(protocol), data) {
            (Protocol::PAP, []) => AuthProtocol::Pap,
            (Protocol::CHAP, [chap_algorithm::MD5]) => AuthProtocol::ChapMd5,
            (Protocol::CHAP, [chap_algorithm::MS_CHAP_V2]) => AuthProtocol::MsChapV2,
            (Protocol::EAP, []) => AuthProtocol::Eap,
            _ => AuthProtocol::Other(protocol),
        }
    }

    /// The Authentication-Protocol option that requests it.
    pub fn to_option(self) -> LcpOption {
        let (protocol, data) = match self {
            AuthProtocol::Pap => (Protocol::PAP, vec![]),
            AuthProtocol::ChapMd5 => (Protocol::CHAP, vec![chap_algorithm::MD5]),
            AuthProtocol::MsChapV2 => (Protocol::CHAP, vec![chap_algorithm::MS_CHAP_V2]),
            AuthProtocol::Eap => (Protocol::EAP, vec![]),
            AuthProtocol::Other(number) => (Protocol(number), vec![]),
        };
        LcpOption::AuthProtocol {
            protocol: protocol.0,
            data,
        }
    }
}

impl fmt::Display for AuthProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthProtocol::Pap => write!(f, "PAP"),
            AuthProtocol::ChapMd5 => write!(f, "CHAP-MD5"),
            AuthProtocol::MsChapV2 => write!(f, "MS-CHAP-V2"),
            AuthProtocol::Eap => write!(f, "EAP"),
            AuthProtocol::Other(number) => write!(f, "{}", Protocol(*number)),
        }
    }
}

#[cfg(test)]
mod tests {

    /// RFC 2125 §2.1: Type 23, Length 4, the 2-octet discriminator.
    #[test]
    fn link_discriminator_option() {
        use crate::wire::options::{emit_list, parse_list};
        let bytes = [23, 4, 0x12, 0x34];
        let options: Vec<LcpOption> = parse_list(&bytes).unwrap();
        assert_eq!(options, [LcpOption::LinkDiscriminator(0x1234)]);
        let mut out = Vec::new();
        emit_list(&options, &mut out);
        assert_eq!(out, bytes);
        assert_eq!(options[0].to_string(), "link-discriminator 0x1234");
        assert_eq!(
            parse_list::<LcpOption>(&[23, 3, 0x12]),
            Err(WireError::BadOptionLength {
                kind: 23,
                length: 3
            })
        );
    }
    use super::*;
    use crate::wire::options::{emit_list, parse_list};

    #[test]
    fn parses_pppd_options() {
        // The options of pppd's usual Configure-Request: asyncmap 0, magic, pcomp, accomp.
        let bytes = [
            0x02, 0x06, 0, 0, 0, 0, 0x05, 0x06, 0x5d, 0x58, 0xcf, 0x41, 0x07, 0x02, 0x08, 0x02,
        ];
        let options: Vec<LcpOption> = parse_list(&bytes).unwrap();
        assert_eq!(
            options,
            [
                LcpOption::Accm(0),
                LcpOption::MagicNumber(0x5d58_cf41),
                LcpOption::Pfc,
                LcpOption::Acfc
            ]
        );
        let mut out = Vec::new();
        emit_list(&options, &mut out);
        assert_eq!(out, bytes);
    }

    #[test]
    fn keeps_unknown_options_and_auth_data() {
        // Identification (RFC 1570 §2.4) is not one we model: it stays raw.
        let bytes = [0x03, 0x05, 0xc2, 0x23, 0x81, 0x0c, 0x03, 0x06];
        let options: Vec<LcpOption> = parse_list(&bytes).unwrap();
        assert_eq!(options[0], AuthProtocol::MsChapV2.to_option());
        assert_eq!(
            options[1],
            LcpOption::Unknown {
                kind: 12,
                data: vec![6]
            }
        );
    }

    #[test]
    fn parses_windows_callback_and_multilink_options() {
        // MS-CBCP §4.1: Windows asks for CBCP with 0D 03 06; then MRRU 1614, short sequence
        // numbers and a locally assigned discriminator, as a Windows multilink dial sends.
        let bytes = [
            0x0d, 0x03, 0x06, 0x11, 0x04, 0x06, 0x4e, 0x12, 0x02, 0x13, 0x05, 0x01, 0xab, 0xcd,
        ];
        let options: Vec<LcpOption> = parse_list(&bytes).unwrap();
        assert_eq!(
            options,
            [
                LcpOption::Callback {
                    operation: CallbackOperation::Cbcp,
                    message: vec![]
                },
                LcpOption::Mrru(1614),
                LcpOption::ShortSequence,
                LcpOption::EndpointDiscriminator(EndpointDiscriminator {
                    class: EndpointClass::Local,
                    address: vec![0xab, 0xcd]
                }),
            ]
        );
        let mut out = Vec::new();
        emit_list(&options, &mut out);
        assert_eq!(out, bytes);
        let shown: Vec<String> = options.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["callback cbcp", "mrru 1614", "ssnhf", "endpoint local:abcd"]
        );
    }

    #[test]
    fn callback_with_a_message_round_trips() {
        let option = LcpOption::Callback {
            operation: CallbackOperation::E164Number,
            message: b"4930123".to_vec(),
        };
        let mut out = Vec::new();
        emit_list(std::slice::from_ref(&option), &mut out);
        assert_eq!(out[..3], [0x0d, 10, 3]);
        assert_eq!(
            parse_list::<LcpOption>(&out).unwrap(),
            std::slice::from_ref(&option)
        );
        assert_eq!(option.to_string(), "callback e164 \"4930123\"");
        // RFC 1570 §2.3: the Operation octet is mandatory.
        assert_eq!(
            parse_list::<LcpOption>(&[0x0d, 0x02]),
            Err(WireError::BadOptionLength {
                kind: 13,
                length: 2
            })
        );
    }

    #[test]
    fn endpoint_discriminator_lengths_follow_their_class() {
        let parse = |data: &[u8]| {
            let mut bytes = vec![19, u8::try_from(data.len() + 2).unwrap()];
            bytes.extend_from_slice(data);
            parse_list::<LcpOption>(&bytes)
        };
        // RFC 1990 §5.1.3, class by class: (class, a legal length, an illegal one).
        for (class, good, bad) in [
            (0u8, 0usize, 1usize),
            (1, 20, 21),
            (2, 4, 5),
            (3, 6, 4),
            (4, 8, 6),
            (5, 15, 16),
        ] {
            let mut data = vec![class];
            data.resize(1 + good, 0x31);
            assert!(parse(&data).is_ok(), "class {class} length {good}");
            data.resize(1 + bad, 0x31);
            assert_eq!(
                parse(&data),
                Err(WireError::BadOptionLength {
                    kind: 19,
                    length: bad + 3
                }),
                "class {class} length {bad}"
            );
        }
        // The Class octet itself is mandatory.
        assert!(parse(&[]).is_err());
        let ip = EndpointDiscriminator::parse(&[2, 10, 0, 0, 1]).unwrap();
        assert_eq!(ip.to_string(), "IP:10.0.0.1");
        let phone = EndpointDiscriminator::parse(b"\x055551234").unwrap();
        assert_eq!(phone.to_string(), "phone:5551234");
        assert!(EndpointDiscriminator::parse(&[0]).unwrap().is_null());
    }

    #[test]
    fn bad_lengths_are_errors() {
        assert_eq!(
            parse_list::<LcpOption>(&[0x01, 0x03, 0x05]),
            Err(WireError::BadOptionLength { kind: 1, length: 3 })
        );
        assert!(matches!(
            parse_list::<LcpOption>(&[0x05, 0x06, 0, 0]),
            Err(WireError::BadLength { .. })
        ));
        assert!(matches!(
            parse_list::<LcpOption>(&[0x05, 0x01]),
            Err(WireError::BadLength { .. })
        ));
        assert!(matches!(
            parse_list::<LcpOption>(&[0x05]),
            Err(WireError::Truncated { .. })
        ));
    }
}
