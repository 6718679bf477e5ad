//! IPCP Configuration Options (RFC 1332 §3, RFC 1877 §1).

use std::fmt;
use std::net::Ipv4Addr;

use super::WireError;
use super::be32;
use super::options::{ConfigOption, expect_len};

/// IPCP option Type values, one table (IANA "PPP IPCP Configuration Option Types").
pub mod kind {
    /// IP-Addresses, deprecated (RFC 1332 §3.1); kept raw and rejected.
    pub const IP_ADDRESSES: u8 = 1;
    /// IP-Compression-Protocol (RFC 1332 §3.2); not implemented, rejected.
    pub const IP_COMPRESSION_PROTOCOL: u8 = 2;
    /// IP-Address (RFC 1332 §3.3).
    pub const IP_ADDRESS: u8 = 3;
    /// Primary-DNS-Server-Address (RFC 1877 §1.1).
    pub const PRIMARY_DNS: u8 = 129;
    /// Secondary-DNS-Server-Address (RFC 1877 §1.3).
    pub const SECONDARY_DNS: u8 = 131;
}

/// An IPCP Configuration Option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpcpOption {
    /// RFC 1332 §3.3: the sender's own address; 0.0.0.0 asks the peer to assign one.
    IpAddress(Ipv4Addr),
    /// RFC 1877 §1.1: 0.0.0.0 asks the peer for its primary DNS server.
    PrimaryDns(Ipv4Addr),
    /// RFC 1877 §1.3: 0.0.0.0 asks the peer for its secondary DNS server.
    SecondaryDns(Ipv4Addr),
    /// Any other option, kept raw so it can be Rejected.
    Unknown {
        /// The Type octet.
        kind: u8,
        /// The Data octets.
        data: Vec<u8>,
    },
}

impl ConfigOption for IpcpOption {
    fn kind(&self) -> u8 {
        match self {
            IpcpOption::IpAddress(_) => kind::IP_ADDRESS,
            IpcpOption::PrimaryDns(_) => kind::PRIMARY_DNS,
            IpcpOption::SecondaryDns(_) => kind::SECONDARY_DNS,
            IpcpOption::Unknown { kind, .. } => *kind,
        }
    }

    fn parse_data(option_kind: u8, data: &[u8]) -> Result<Self, WireError> {
        let address = |data: &[u8]| -> Result<Ipv4Addr, WireError> {
            expect_len(option_kind, data, 4)?;
            Ok(Ipv4Addr::from(be32(data, 0)))
        };
        Ok(match option_kind {
            kind::IP_ADDRESS => IpcpOption::IpAddress(address(data)?),
            kind::PRIMARY_DNS => IpcpOption::PrimaryDns(address(data)?),
            kind::SECONDARY_DNS => IpcpOption::SecondaryDns(address(data)?),
            _ => IpcpOption::Unknown {
                kind: option_kind,
                data: data.to_vec(),
            },
        })
    }

    fn emit_data(&self, out: &mut Vec<u8>) {
        match self {
            IpcpOption::IpAddress(address)
            | IpcpOption::PrimaryDns(address)
            | IpcpOption::SecondaryDns(address) => out.extend_from_slice(&address.octets()),
            IpcpOption::Unknown { data, .. } => out.extend_from_slice(data),
        }
    }
}

impl fmt::Display for IpcpOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpcpOption::IpAddress(address) => write!(f, "addr {address}"),
            IpcpOption::PrimaryDns(address) => write!(f, "ms-dns1 {address}"),
            IpcpOption::SecondaryDns(address) => write!(f, "ms-dns2 {address}"),
            IpcpOption::Unknown { kind, data } => {
                write!(f, "option {kind} ({} octets)", data.len())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::options::{emit_list, parse_list};

    #[test]
    fn parses_address_and_dns_requests() {
        // A Windows-style request: IP-Address 0.0.0.0, DNS 0.0.0.0 twice, VJ compression.
        let bytes = [
            0x02, 0x06, 0x00, 0x2d, 0x0f, 0x01, 0x03, 0x06, 0, 0, 0, 0, 0x81, 0x06, 0, 0, 0, 0,
            0x83, 0x06, 0, 0, 0, 0,
        ];
        let options: Vec<IpcpOption> = parse_list(&bytes).unwrap();
        assert_eq!(
            options,
            [
                IpcpOption::Unknown {
                    kind: kind::IP_COMPRESSION_PROTOCOL,
                    data: vec![0x00, 0x2d, 0x0f, 0x01]
                },
                IpcpOption::IpAddress(Ipv4Addr::UNSPECIFIED),
                IpcpOption::PrimaryDns(Ipv4Addr::UNSPECIFIED),
                IpcpOption::SecondaryDns(Ipv4Addr::UNSPECIFIED),
            ]
        );
        let mut out = Vec::new();
        emit_list(&options, &mut out);
        assert_eq!(out, bytes);
    }

    #[test]
    fn short_address_is_an_error() {
        assert_eq!(
            parse_list::<IpcpOption>(&[0x03, 0x04, 10, 0]),
            Err(WireError::BadOptionLength { kind: 3, length: 4 })
        );
    }
}
