//! BACP Configuration Options (RFC 2125 §4): BACP is an NCP with LCP's packet format and
//! codes 1–7 (§3) and one option, Favored-Peer.

use std::fmt;

use super::WireError;
use super::be32;
use super::options::{ConfigOption, expect_len};

/// BACP option Type values, one table (RFC 2125 §4).
pub mod kind {
    /// Favored-Peer (RFC 2125 §4.1): Type 1, Length 6, a Magic-Number.
    pub const FAVORED_PEER: u8 = 1;
}

/// A BACP Configuration Option.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BacpOption {
    /// RFC 2125 §4.1: a random number; of the two peers, the one that sent the lower
    /// number is the favored peer, whose request wins when both ask at once (§5.4).
    FavoredPeer(u32),
    /// Any other option, kept raw so it can be Rejected.
    Unknown {
        /// The Type octet.
        kind: u8,
        /// The Data octets.
        data: Vec<u8>,
    },
}

impl ConfigOption for BacpOption {
    fn kind(&self) -> u8 {
        match self {
            BacpOption::FavoredPeer(_) => kind::FAVORED_PEER,
            BacpOption::Unknown { kind, .. } => *kind,
        }
    }

    fn parse_data(option_kind: u8, data: &[u8]) -> Result<Self, WireError> {
        Ok(match option_kind {
            kind::FAVORED_PEER => {
                expect_len(option_kind, data, 4)?;
                BacpOption::FavoredPeer(be32(data, 0))
            }
            _ => BacpOption::Unknown {
                kind: option_kind,
                data: data.to_vec(),
            },
        })
    }

    fn emit_data(&self, out: &mut Vec<u8>) {
        match self {
            BacpOption::FavoredPeer(magic) => out.extend_from_slice(&magic.to_be_bytes()),
            BacpOption::Unknown { data, .. } => out.extend_from_slice(data),
        }
    }
}

impl fmt::Display for BacpOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BacpOption::FavoredPeer(magic) => write!(f, "favored-peer {magic:#010x}"),
            BacpOption::Unknown { kind, data } => {
                write!(f, "option {kind} ({} octets)", data.len())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::control::{Code, CodeSet, ControlRepr};
    use crate::wire::options::{emit_list, parse_list};

    /// A Configure-Request, hand-assembled from RFC 2125 §4.1's diagram: Code 1, id 7,
    /// Length 10, then Type 1, Length 6, Magic-Number 0x12345678.
    const CONFIGURE_REQUEST: [u8; 10] =
        [0x01, 0x07, 0x00, 0x0a, 0x01, 0x06, 0x12, 0x34, 0x56, 0x78];

    #[test]
    fn favored_peer_configure_request() {
        let repr = ControlRepr::<BacpOption>::parse_bytes(&CONFIGURE_REQUEST, CodeSet::Ncp)
            .expect("valid");
        assert_eq!(repr.code(), Code::ConfigureRequest);
        assert_eq!(repr.to_bytes(), CONFIGURE_REQUEST);
        let options: Vec<BacpOption> = parse_list(&CONFIGURE_REQUEST[4..]).unwrap();
        assert_eq!(options, [BacpOption::FavoredPeer(0x1234_5678)]);
        let mut out = Vec::new();
        emit_list(&options, &mut out);
        assert_eq!(out, CONFIGURE_REQUEST[4..]);
    }

    #[test]
    fn a_short_favored_peer_is_an_error() {
        assert_eq!(
            parse_list::<BacpOption>(&[0x01, 0x04, 0, 0]),
            Err(WireError::BadOptionLength { kind: 1, length: 4 })
        );
    }
}
