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
            LcpOption::Pfc | LcpOption::Acfc => {}
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
            LcpOption::Unknown { kind, data } => write!(f, "option {kind} ({} octets)", data.len()),
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
            _ => AuthProtocol::Other(protocol),
        }
    }

    /// The Authentication-Protocol option that requests it.
    pub fn to_option(self) -> LcpOption {
        let (protocol, data) = match self {
            AuthProtocol::Pap => (Protocol::PAP, vec![]),
            AuthProtocol::ChapMd5 => (Protocol::CHAP, vec![chap_algorithm::MD5]),
            AuthProtocol::MsChapV2 => (Protocol::CHAP, vec![chap_algorithm::MS_CHAP_V2]),
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
            AuthProtocol::Other(number) => write!(f, "{}", Protocol(*number)),
        }
    }
}

#[cfg(test)]
mod tests {
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
        let bytes = [0x03, 0x05, 0xc2, 0x23, 0x81, 0x0d, 0x03, 0x06];
        let options: Vec<LcpOption> = parse_list(&bytes).unwrap();
        assert_eq!(options[0], AuthProtocol::MsChapV2.to_option());
        assert_eq!(
            options[1],
            LcpOption::Unknown {
                kind: 13,
                data: vec![6]
            }
        );
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
