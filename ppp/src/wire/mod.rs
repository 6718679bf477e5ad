//! Packet views and `Repr` types (smoltcp style): a checked zero-copy view over the bytes and
//! an owned representation with `parse`, `emit` and `buffer_len`. Parsing never panics; a
//! malformed packet is a [`WireError`] that says which rule it broke.

pub mod bacp;
pub mod bap;
pub mod cbcp;
pub mod chap;
pub mod control;
pub mod eap;
pub mod ipcp;
pub mod lcp;
pub mod mp;
pub mod options;
pub mod pap;
pub mod ppp_frame;

use std::fmt;

pub use control::{Code, ControlPacket, ControlRepr};

/// A malformed packet or option.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Fewer octets than the fixed header needs.
    #[error("{what}: truncated ({len} octets, need at least {need})")]
    Truncated {
        /// What was being parsed.
        what: &'static str,
        /// Octets available.
        len: usize,
        /// Octets the header needs.
        need: usize,
    },
    /// A Length field smaller than its header or larger than the octets that carry it.
    #[error("{what}: Length field {length} does not fit {available} octets")]
    BadLength {
        /// What was being parsed.
        what: &'static str,
        /// The Length field.
        length: usize,
        /// Octets actually present.
        available: usize,
    },
    /// A known configuration option with a length its RFC does not allow.
    #[error("option type {kind}: length {length} is not allowed")]
    BadOptionLength {
        /// The option's Type.
        kind: u8,
        /// Its Length field.
        length: usize,
    },
    /// A Code field this protocol does not define (answered with Code-Reject, RFC 1661 §5.6).
    #[error("unknown code {code}")]
    UnknownCode {
        /// The Code field.
        code: u8,
    },
    /// A field holding a value its specification does not allow.
    #[error("{what}: {problem}")]
    Invalid {
        /// What was being parsed.
        what: &'static str,
        /// The rule it broke.
        problem: &'static str,
    },
    /// RFC 1661 §2: the Protocol field's low octet must be odd and its high octet even.
    #[error("invalid Protocol field")]
    BadProtocol,
    /// RFC 1662 §3.1: address must be 0xFF and control 0x03.
    #[error("address/control {0:#04x} {1:#04x} is not 0xFF 0x03")]
    BadAddressControl(u8, u8),
}

/// A PPP Protocol field value (RFC 1661 §2; assigned numbers from the IANA PPP registry).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Protocol(pub u16);

impl Protocol {
    /// Internet Protocol version 4 (RFC 1332 §3).
    pub const IPV4: Protocol = Protocol(0x0021);
    /// Multilink (RFC 1990 §3).
    pub const MULTILINK: Protocol = Protocol(0x003D);
    /// IP Control Protocol (RFC 1332 §2).
    pub const IPCP: Protocol = Protocol(0x8021);
    /// Link Control Protocol (RFC 1661 §5).
    pub const LCP: Protocol = Protocol(0xC021);
    /// Password Authentication Protocol (RFC 1334 §2).
    pub const PAP: Protocol = Protocol(0xC023);
    /// Link Quality Report (RFC 1989 §2.5).
    pub const LQR: Protocol = Protocol(0xC025);
    /// Microsoft Callback Control Protocol (CBCP).
    pub const CBCP: Protocol = Protocol(0xC029);
    /// Bandwidth Allocation Control Protocol (RFC 2125 §3).
    pub const BACP: Protocol = Protocol(0xC02B);
    /// Bandwidth Allocation Protocol (RFC 2125 §5).
    pub const BAP: Protocol = Protocol(0xC02D);
    /// Challenge-Handshake Authentication Protocol (RFC 1994 §4).
    pub const CHAP: Protocol = Protocol(0xC223);
    /// Extensible Authentication Protocol (RFC 3748 §3.1).
    pub const EAP: Protocol = Protocol(0xC227);

    /// The protocol's usual name, if it is one we know.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Protocol::IPV4 => "IPv4",
            Protocol::MULTILINK => "MP",
            Protocol::IPCP => "IPCP",
            Protocol::LCP => "LCP",
            Protocol::PAP => "PAP",
            Protocol::LQR => "LQR",
            Protocol::CBCP => "CBCP",
            Protocol::BACP => "BACP",
            Protocol::BAP => "BAP",
            Protocol::CHAP => "CHAP",
            Protocol::EAP => "EAP",
            _ => return None,
        })
    }

    /// RFC 1661 §2: "the least significant bit of the least significant octet" is 1 and
    /// "the least significant bit of the most significant octet" is 0.
    pub fn is_valid(self) -> bool {
        let [hi, lo] = self.0.to_be_bytes();
        lo & 1 == 1 && hi & 1 == 0
    }
}

impl fmt::Debug for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name}"),
            None => write!(f, "{:#06x}", self.0),
        }
    }
}

/// Read a big-endian u16 at `at`; callers have checked the length.
pub(crate) fn be16(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

/// Read a big-endian u32 at `at`; callers have checked the length.
pub(crate) fn be32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}
