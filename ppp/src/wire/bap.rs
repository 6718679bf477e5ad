//! BAP datagrams (RFC 2125 §5.5, §6): the requests and responses two multilink peers use to
//! agree on adding and dropping links.
//!
//! ```text
//! | Type | Identifier | Length (2) | [Response Code] | options ... |
//! ```
//!
//! The Response Code octet is there in the four responses only. Options have the
//! Configuration Option layout (Type, Length, Data; RFC 1661 §6), so the list reuses
//! [`parse_list`]. Type and option numbers, checked against Windows' `bap.h` and Wireshark's
//! BAP dissector, are in one table each below.

use std::fmt;

use super::options::{ConfigOption, emit_list, expect_len, parse_list};
use super::{WireError, be16};

/// RFC 2125 §5.5: Type, Identifier, Length.
pub const HEADER_LEN: usize = 4;

/// The datagram types (RFC 2125 §5.5.1–§5.5.8), a request (odd) and its response (even).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BapType {
    /// 1: the sender wants to add a link by calling the peer.
    CallRequest = 1,
    /// 2: the answer, with the numbers to call (Phone-Delta) on Request-Ack.
    CallResponse = 2,
    /// 3: the sender wants the peer to call it, at the numbers given.
    CallbackRequest = 3,
    /// 4: the answer.
    CallbackResponse = 4,
    /// 5: the sender wants to drop the link named by its Link-Discriminator.
    LinkDropQueryRequest = 5,
    /// 6: the answer.
    LinkDropQueryResponse = 6,
    /// 7: how a call made after a Call- or Callback-Request went.
    CallStatusIndication = 7,
    /// 8: its acknowledgement.
    CallStatusResponse = 8,
}

/// Every type with its RFC name.
const TYPES: [(BapType, &str); 8] = [
    (BapType::CallRequest, "Call-Request"),
    (BapType::CallResponse, "Call-Response"),
    (BapType::CallbackRequest, "Callback-Request"),
    (BapType::CallbackResponse, "Callback-Response"),
    (BapType::LinkDropQueryRequest, "Link-Drop-Query-Request"),
    (BapType::LinkDropQueryResponse, "Link-Drop-Query-Response"),
    (BapType::CallStatusIndication, "Call-Status-Indication"),
    (BapType::CallStatusResponse, "Call-Status-Response"),
];

impl BapType {
    /// The type with this number.
    pub fn from_u8(value: u8) -> Option<Self> {
        TYPES
            .iter()
            .map(|&(kind, _)| kind)
            .find(|&kind| kind as u8 == value)
    }

    /// Whether this is a response (and so carries a Response Code).
    pub fn is_response(self) -> bool {
        (self as u8).is_multiple_of(2)
    }

    /// The response that answers this request (a response answers itself).
    pub fn response(self) -> BapType {
        BapType::from_u8((self as u8 + 1) & !1).unwrap_or(self)
    }

    /// The RFC's name.
    pub fn name(self) -> &'static str {
        TYPES
            .iter()
            .find(|&&(kind, _)| kind == self)
            .map_or("", |&(_, name)| name)
    }
}

/// The Response Code of a response (RFC 2125 §5.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseCode {
    /// 0: the request is granted.
    Ack = 0,
    /// 1: not now, but the request as such is acceptable (try again later).
    Nak = 1,
    /// 2: the request is refused (it is not understood or not allowed).
    Reject = 2,
    /// 3: refused because the bundle is already at its limit of links.
    FullNak = 3,
}

/// Every Response Code with its RFC name.
const RESPONSE_CODES: [(ResponseCode, &str); 4] = [
    (ResponseCode::Ack, "Request-Ack"),
    (ResponseCode::Nak, "Request-Nak"),
    (ResponseCode::Reject, "Request-Rej"),
    (ResponseCode::FullNak, "Request-Full-Nak"),
];

impl ResponseCode {
    /// The code with this number.
    pub fn from_u8(value: u8) -> Option<Self> {
        RESPONSE_CODES
            .iter()
            .map(|&(code, _)| code)
            .find(|&code| code as u8 == value)
    }

    /// The RFC's name.
    pub fn name(self) -> &'static str {
        RESPONSE_CODES
            .iter()
            .find(|&&(code, _)| code == self)
            .map_or("", |&(_, name)| name)
    }
}

/// BAP option Type values, one table (RFC 2125 §6).
pub mod kind {
    /// Link-Type (§6.1): Length 5, speed in kbit/s and a type octet.
    pub const LINK_TYPE: u8 = 1;
    /// Phone-Delta (§6.2): sub-options giving a number to call.
    pub const PHONE_DELTA: u8 = 2;
    /// No-Phone-Number-Needed (§6.3): Length 2.
    pub const NO_PHONE_NUMBER_NEEDED: u8 = 3;
    /// Reason (§6.4): free text.
    pub const REASON: u8 = 4;
    /// Link-Discriminator (§6.5): Length 4, the LCP Link Discriminator of a link.
    pub const LINK_DISCRIMINATOR: u8 = 5;
    /// Call-Status (§6.6): Length 4, status and action.
    pub const CALL_STATUS: u8 = 6;
}

/// Phone-Delta sub-option Type values (RFC 2125 §6.2.1).
pub mod sub_kind {
    /// Unique-Digits: how many trailing digits of the caller's own number to replace.
    pub const UNIQUE_DIGITS: u8 = 1;
    /// Subscriber-Number: the digits that replace them.
    pub const SUBSCRIBER_NUMBER: u8 = 2;
    /// Phone-Number-Sub-Address: an ISDN sub-address.
    pub const SUB_ADDRESS: u8 = 3;
}

/// Link-Type bits (RFC 2125 §6.1 numbers them 0–4: ISDN, X.25, analog, switched digital,
/// ISDN data over voice; bit 0 is taken as the least significant [inferred]). Wireshark
/// reads the octet as an index instead (it shows 0x04 as "ISDN data over voice").
pub mod link_type {
    /// ISDN.
    pub const ISDN: u8 = 0x01;
    /// X.25.
    pub const X25: u8 = 0x02;
    /// Analog (a modem).
    pub const ANALOG: u8 = 0x04;
    /// Switched digital (non-ISDN).
    pub const SWITCHED_DIGITAL: u8 = 0x08;
    /// ISDN data over voice.
    pub const ISDN_DATA_OVER_VOICE: u8 = 0x10;
}

/// Call-Status actions (RFC 2125 §6.6).
pub mod action {
    /// The caller will not try again.
    pub const NO_RETRY: u8 = 0;
    /// The caller will try again.
    pub const RETRY: u8 = 1;
}

/// Call-Status status values: Q.931 cause values (RFC 2125 §6.6), with these two of its
/// own.
pub mod status {
    /// The call succeeded.
    pub const SUCCESS: u8 = 0;
    /// A failure without a more specific cause.
    pub const NON_SPECIFIC_FAILURE: u8 = 255;
}

/// A Phone-Delta sub-option (RFC 2125 §6.2.1). Text fields are kept as the octets sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PhoneDeltaPart {
    /// Replace this many trailing digits of the number the caller knows.
    UniqueDigits(u8),
    /// The replacement digits (ASCII).
    SubscriberNumber(Vec<u8>),
    /// An ISDN sub-address (ASCII).
    SubAddress(Vec<u8>),
    /// A sub-option this version does not know, kept raw.
    Unknown {
        /// Its Type.
        kind: u8,
        /// Its data.
        data: Vec<u8>,
    },
}

impl ConfigOption for PhoneDeltaPart {
    fn kind(&self) -> u8 {
        match self {
            PhoneDeltaPart::UniqueDigits(_) => sub_kind::UNIQUE_DIGITS,
            PhoneDeltaPart::SubscriberNumber(_) => sub_kind::SUBSCRIBER_NUMBER,
            PhoneDeltaPart::SubAddress(_) => sub_kind::SUB_ADDRESS,
            PhoneDeltaPart::Unknown { kind, .. } => *kind,
        }
    }

    fn parse_data(kind: u8, data: &[u8]) -> Result<Self, WireError> {
        let text = |data: &[u8]| -> Result<Vec<u8>, WireError> {
            if data.is_empty() {
                return Err(WireError::BadOptionLength { kind, length: 2 });
            }
            Ok(data.to_vec())
        };
        Ok(match kind {
            sub_kind::UNIQUE_DIGITS => {
                expect_len(kind, data, 1)?;
                PhoneDeltaPart::UniqueDigits(data[0])
            }
            sub_kind::SUBSCRIBER_NUMBER => PhoneDeltaPart::SubscriberNumber(text(data)?),
            sub_kind::SUB_ADDRESS => PhoneDeltaPart::SubAddress(text(data)?),
            _ => PhoneDeltaPart::Unknown {
                kind,
                data: data.to_vec(),
            },
        })
    }

    fn emit_data(&self, out: &mut Vec<u8>) {
        match self {
            PhoneDeltaPart::UniqueDigits(digits) => out.push(*digits),
            PhoneDeltaPart::SubscriberNumber(data)
            | PhoneDeltaPart::SubAddress(data)
            | PhoneDeltaPart::Unknown { data, .. } => out.extend_from_slice(data),
        }
    }
}

/// A BAP datagram option (RFC 2125 §6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BapOption {
    /// §6.1: the kind of link asked for or offered.
    LinkType {
        /// Link speed in kbit/s.
        speed_kbps: u16,
        /// [`link_type`] bits.
        types: u8,
    },
    /// §6.2: a number to call, as a change to a number the caller knows.
    PhoneDelta(Vec<PhoneDeltaPart>),
    /// §6.3: the caller knows the number; the answer must not send one.
    NoPhoneNumberNeeded,
    /// §6.4: free text for the log.
    Reason(Vec<u8>),
    /// §6.5: which link (its LCP Link Discriminator).
    LinkDiscriminator(u16),
    /// §6.6: how a call went.
    CallStatus {
        /// A Q.931 cause ([`status`]).
        status: u8,
        /// What the caller does next ([`action`]).
        action: u8,
    },
    /// Any other option, kept raw.
    Unknown {
        /// Its Type.
        kind: u8,
        /// Its data.
        data: Vec<u8>,
    },
}

impl ConfigOption for BapOption {
    fn kind(&self) -> u8 {
        match self {
            BapOption::LinkType { .. } => kind::LINK_TYPE,
            BapOption::PhoneDelta(_) => kind::PHONE_DELTA,
            BapOption::NoPhoneNumberNeeded => kind::NO_PHONE_NUMBER_NEEDED,
            BapOption::Reason(_) => kind::REASON,
            BapOption::LinkDiscriminator(_) => kind::LINK_DISCRIMINATOR,
            BapOption::CallStatus { .. } => kind::CALL_STATUS,
            BapOption::Unknown { kind, .. } => *kind,
        }
    }

    fn parse_data(option_kind: u8, data: &[u8]) -> Result<Self, WireError> {
        Ok(match option_kind {
            kind::LINK_TYPE => {
                expect_len(option_kind, data, 3)?;
                BapOption::LinkType {
                    speed_kbps: be16(data, 0),
                    types: data[2],
                }
            }
            kind::PHONE_DELTA => {
                // Wireshark's minimum Length is 4: at least one sub-option.
                if data.len() < 2 {
                    return Err(WireError::BadOptionLength {
                        kind: option_kind,
                        length: data.len() + 2,
                    });
                }
                BapOption::PhoneDelta(parse_list(data)?)
            }
            kind::NO_PHONE_NUMBER_NEEDED => {
                expect_len(option_kind, data, 0)?;
                BapOption::NoPhoneNumberNeeded
            }
            kind::REASON => BapOption::Reason(data.to_vec()),
            kind::LINK_DISCRIMINATOR => {
                expect_len(option_kind, data, 2)?;
                BapOption::LinkDiscriminator(be16(data, 0))
            }
            kind::CALL_STATUS => {
                expect_len(option_kind, data, 2)?;
                BapOption::CallStatus {
                    status: data[0],
                    action: data[1],
                }
            }
            _ => BapOption::Unknown {
                kind: option_kind,
                data: data.to_vec(),
            },
        })
    }

    fn emit_data(&self, out: &mut Vec<u8>) {
        match self {
            BapOption::LinkType { speed_kbps, types } => {
                out.extend_from_slice(&speed_kbps.to_be_bytes());
                out.push(*types);
            }
            BapOption::PhoneDelta(parts) => emit_list(parts, out),
            BapOption::NoPhoneNumberNeeded => {}
            BapOption::Reason(data) | BapOption::Unknown { data, .. } => {
                out.extend_from_slice(data)
            }
            BapOption::LinkDiscriminator(discriminator) => {
                out.extend_from_slice(&discriminator.to_be_bytes())
            }
            BapOption::CallStatus { status, action } => out.extend_from_slice(&[*status, *action]),
        }
    }
}

/// The number a Phone-Delta names (RFC 2125 §6.2), built from `known`, a number the caller
/// already reaches the peer at (the one it dialed for the first link): its rightmost
/// Unique-Digits digits replaced by the rightmost that many of the Subscriber-Number
/// [inferred from the RFC's wording: Unique-Digits counts "the rightmost digits of the
/// subscriber number that are different"]. `None` without both sub-options, or when
/// Unique-Digits exceeds the Subscriber-Number or the number is not ASCII.
pub fn phone_delta_number(known: &str, parts: &[PhoneDeltaPart]) -> Option<String> {
    let unique = parts.iter().find_map(|part| match part {
        PhoneDeltaPart::UniqueDigits(digits) => Some(usize::from(*digits)),
        _ => None,
    })?;
    let subscriber = parts.iter().find_map(|part| match part {
        PhoneDeltaPart::SubscriberNumber(number) => std::str::from_utf8(number).ok(),
        _ => None,
    })?;
    if !known.is_ascii() || !subscriber.is_ascii() || unique > subscriber.len() {
        return None;
    }
    let kept = &known[..known.len().saturating_sub(unique)];
    Some(format!(
        "{kept}{}",
        &subscriber[subscriber.len() - unique..]
    ))
}

/// The Phone-Delta that turns `known` into `target` (the answering side of
/// [`phone_delta_number`]): Unique-Digits counts the rightmost digits of `target` that
/// differ from `known`, all of them when `target` is the longer. `None` when no delta can
/// say it (a `target` shorter than `known`: only `known`'s rightmost digits can be
/// replaced), or for a target that is empty, too long for one sub-option or not ASCII.
pub fn phone_delta(known: &str, target: &str) -> Option<Vec<PhoneDeltaPart>> {
    if target.is_empty() || !target.is_ascii() || target.len() > 253 || target.len() < known.len() {
        return None;
    }
    let unique = if known.len() == target.len() {
        let same = known
            .bytes()
            .zip(target.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        target.len() - same
    } else {
        target.len()
    };
    Some(vec![
        PhoneDeltaPart::UniqueDigits(u8::try_from(unique).ok()?),
        PhoneDeltaPart::SubscriberNumber(target.as_bytes().to_vec()),
    ])
}

impl fmt::Display for PhoneDeltaPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PhoneDeltaPart::UniqueDigits(digits) => write!(f, "unique-digits {digits}"),
            PhoneDeltaPart::SubscriberNumber(number) => {
                write!(f, "subscriber-number {}", String::from_utf8_lossy(number))
            }
            PhoneDeltaPart::SubAddress(address) => {
                write!(f, "sub-address {}", String::from_utf8_lossy(address))
            }
            PhoneDeltaPart::Unknown { kind, data } => {
                write!(f, "sub-option {kind} ({} octets)", data.len())
            }
        }
    }
}

impl fmt::Display for BapOption {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BapOption::LinkType { speed_kbps, types } => {
                write!(f, "link-type {speed_kbps}kbit/s types={types:#04x}")
            }
            BapOption::PhoneDelta(parts) => {
                f.write_str("phone-delta")?;
                for part in parts {
                    write!(f, " {part}")?;
                }
                Ok(())
            }
            BapOption::NoPhoneNumberNeeded => f.write_str("no-phone-number-needed"),
            BapOption::Reason(reason) => {
                write!(f, "reason \"{}\"", String::from_utf8_lossy(reason))
            }
            BapOption::LinkDiscriminator(discriminator) => {
                write!(f, "link-discriminator {discriminator:#06x}")
            }
            BapOption::CallStatus { status, action } => {
                write!(f, "call-status status={status} action={action}")
            }
            BapOption::Unknown { kind, data } => {
                write!(f, "option {kind} ({} octets)", data.len())
            }
        }
    }
}

/// A parsed BAP datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BapRepr {
    /// The datagram type.
    pub kind: BapType,
    /// Matches a response to its request.
    pub identifier: u8,
    /// The Response Code: `Some` exactly for the four responses.
    pub response: Option<ResponseCode>,
    /// The options, in order.
    pub options: Vec<BapOption>,
}

impl BapRepr {
    /// A request (or indication) of `kind`.
    pub fn request(kind: BapType, identifier: u8, options: Vec<BapOption>) -> Self {
        BapRepr {
            kind,
            identifier,
            response: None,
            options,
        }
    }

    /// The response of type `kind` with `code`.
    pub fn response(
        kind: BapType,
        identifier: u8,
        code: ResponseCode,
        options: Vec<BapOption>,
    ) -> Self {
        BapRepr {
            kind,
            identifier,
            response: Some(code),
            options,
        }
    }

    /// Parse a Protocol 0xC02D Information field. Octets past the Length field are padding
    /// and ignored (as RFC 1661 §5 has it for control packets).
    pub fn parse_bytes(bytes: &[u8]) -> Result<Self, WireError> {
        let [kind, identifier, hi, lo, ..] = *bytes else {
            return Err(WireError::Truncated {
                what: "BAP datagram",
                len: bytes.len(),
                need: HEADER_LEN,
            });
        };
        let kind = BapType::from_u8(kind).ok_or(WireError::UnknownCode { code: kind })?;
        let header = HEADER_LEN + usize::from(kind.is_response());
        let length = usize::from(u16::from_be_bytes([hi, lo]));
        if length < header || length > bytes.len() {
            return Err(WireError::BadLength {
                what: "BAP datagram",
                length,
                available: bytes.len(),
            });
        }
        let response = if kind.is_response() {
            let code = bytes[HEADER_LEN];
            Some(ResponseCode::from_u8(code).ok_or(WireError::Invalid {
                what: "BAP Response Code",
                problem: "not 0 (Ack), 1 (Nak), 2 (Rej) or 3 (Full-Nak)",
            })?)
        } else {
            None
        };
        Ok(BapRepr {
            kind,
            identifier,
            response,
            options: parse_list(&bytes[header..length])?,
        })
    }

    /// The datagram's octets. A response built without a code is sent as Request-Ack.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![self.kind as u8, self.identifier, 0, 0];
        if self.kind.is_response() {
            out.push(self.response.unwrap_or(ResponseCode::Ack) as u8);
        }
        emit_list(&self.options, &mut out);
        let length = u16::try_from(out.len()).unwrap_or(u16::MAX);
        out[2..4].copy_from_slice(&length.to_be_bytes());
        out
    }

    /// The first option of a kind ([`kind`]), if present.
    pub fn option(&self, option_kind: u8) -> Option<&BapOption> {
        self.options
            .iter()
            .find(|option| option.kind() == option_kind)
    }
}

impl fmt::Display for BapRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} id={}", self.kind.name(), self.identifier)?;
        if let Some(code) = self.response {
            write!(f, " {}", code.name())?;
        }
        for option in &self.options {
            write!(f, " {option}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Call-Request for a 33.6 kbit/s analog link whose number the caller knows,
    /// assembled by hand from RFC 2125 §5.5.1, §6.1 and §6.3: Type 1, id 0x2a, Length 11,
    /// Link-Type (1, 5, 0x0021 = 33 kbit/s, 0x04 analog), No-Phone-Number-Needed (3, 2).
    const CALL_REQUEST: [u8; 11] = [
        0x01, 0x2a, 0x00, 0x0b, 0x01, 0x05, 0x00, 0x21, 0x04, 0x03, 0x02,
    ];

    /// Its Call-Response granting it and giving the number as a Phone-Delta: replace
    /// 2 unique digits with "01" (§6.2): Type 2, id 0x2a, Length 14, code 0, Phone-Delta
    /// (2, 9, Unique-Digits (1, 3, 2), Subscriber-Number (2, 4, "01")).
    const CALL_RESPONSE: [u8; 14] = [
        0x02, 0x2a, 0x00, 0x0e, 0x00, 0x02, 0x09, 0x01, 0x03, 0x02, 0x02, 0x04, b'0', b'1',
    ];

    #[test]
    fn call_request_and_response() {
        let request = BapRepr::parse_bytes(&CALL_REQUEST).unwrap();
        assert_eq!(
            request,
            BapRepr::request(
                BapType::CallRequest,
                0x2a,
                vec![
                    BapOption::LinkType {
                        speed_kbps: 33,
                        types: link_type::ANALOG
                    },
                    BapOption::NoPhoneNumberNeeded,
                ]
            )
        );
        assert_eq!(request.to_bytes(), CALL_REQUEST);
        assert_eq!(
            request.to_string(),
            "Call-Request id=42 link-type 33kbit/s types=0x04 no-phone-number-needed"
        );

        let response = BapRepr::parse_bytes(&CALL_RESPONSE).unwrap();
        assert_eq!(response.response, Some(ResponseCode::Ack));
        assert_eq!(
            response.options,
            [BapOption::PhoneDelta(vec![
                PhoneDeltaPart::UniqueDigits(2),
                PhoneDeltaPart::SubscriberNumber(b"01".to_vec()),
            ])]
        );
        assert_eq!(response.to_bytes(), CALL_RESPONSE);
        assert_eq!(
            response.to_string(),
            "Call-Response id=42 Request-Ack phone-delta unique-digits 2 subscriber-number 01"
        );
    }

    #[test]
    fn link_drop_and_call_status() {
        // Link-Drop-Query-Request for link 0x0102 (§5.5.5, §6.5): Length 8.
        let drop = [0x05, 0x07, 0x00, 0x08, 0x05, 0x04, 0x01, 0x02];
        let repr = BapRepr::parse_bytes(&drop).unwrap();
        assert_eq!(repr.options, [BapOption::LinkDiscriminator(0x0102)]);
        assert_eq!(repr.to_bytes(), drop);
        // Its Request-Full-Nak... is not what a drop gets; a Request-Nak with a Reason.
        let nak = [0x06, 0x07, 0x00, 0x09, 0x01, 0x04, 0x04, b'b', b'y'];
        let repr = BapRepr::parse_bytes(&nak).unwrap();
        assert_eq!(repr.response, Some(ResponseCode::Nak));
        assert_eq!(repr.options, [BapOption::Reason(b"by".to_vec())]);
        assert_eq!(repr.to_bytes(), nak);
        // Call-Status-Indication: busy (Q.931 cause 17), will retry (§6.6).
        let status = [0x07, 0x08, 0x00, 0x08, 0x06, 0x04, 17, action::RETRY];
        let repr = BapRepr::parse_bytes(&status).unwrap();
        assert_eq!(
            repr.options,
            [BapOption::CallStatus {
                status: 17,
                action: action::RETRY
            }]
        );
        assert_eq!(repr.to_bytes(), status);
    }

    #[test]
    fn malformed_datagrams_are_typed_errors() {
        assert!(matches!(
            BapRepr::parse_bytes(&[0x01, 0x00, 0x00]),
            Err(WireError::Truncated { .. })
        ));
        assert_eq!(
            BapRepr::parse_bytes(&[0x09, 0x00, 0x00, 0x04]),
            Err(WireError::UnknownCode { code: 9 })
        );
        // A response needs room for its code.
        assert!(matches!(
            BapRepr::parse_bytes(&[0x02, 0x00, 0x00, 0x04, 0x00]),
            Err(WireError::BadLength { .. })
        ));
        assert!(matches!(
            BapRepr::parse_bytes(&[0x02, 0x00, 0x00, 0x05, 0x04]),
            Err(WireError::Invalid { .. })
        ));
        // Link-Type must be 5 octets; Unique-Digits 3.
        assert_eq!(
            BapRepr::parse_bytes(&[0x01, 0x00, 0x00, 0x08, 0x01, 0x04, 0x00, 0x21]),
            Err(WireError::BadOptionLength { kind: 1, length: 4 })
        );
        assert!(
            BapRepr::parse_bytes(&[0x02, 0x00, 0x00, 0x0a, 0x00, 0x02, 0x04, 0x01, 0x02, 0x02])
                .is_err()
        );
        // Padding after Length is ignored.
        let mut padded = CALL_REQUEST.to_vec();
        padded.extend([0, 0, 0]);
        assert_eq!(
            BapRepr::parse_bytes(&padded).unwrap().to_bytes(),
            CALL_REQUEST
        );
    }

    #[test]
    fn phone_deltas_name_numbers_relative_to_a_known_one() {
        // The peer's second port is 5550101 and we dialed 5550100: one unique digit.
        let delta = phone_delta("5550100", "5550101").unwrap();
        assert_eq!(
            delta,
            [
                PhoneDeltaPart::UniqueDigits(1),
                PhoneDeltaPart::SubscriberNumber(b"5550101".to_vec())
            ]
        );
        assert_eq!(
            phone_delta_number("5550100", &delta).as_deref(),
            Some("5550101")
        );
        // Dialing prefixes the peer cannot know stay the caller's own.
        assert_eq!(
            phone_delta_number("9,5550100", &delta).as_deref(),
            Some("9,5550101")
        );
        // A longer number is sent whole; a shorter one cannot be said as a delta.
        let whole = phone_delta("5550100", "015550199").unwrap();
        assert_eq!(whole[0], PhoneDeltaPart::UniqueDigits(9));
        assert_eq!(
            phone_delta_number("5550100", &whole).as_deref(),
            Some("015550199")
        );
        assert_eq!(phone_delta("5550100", "4431"), None);
        // The same number: nothing unique.
        assert_eq!(
            phone_delta_number("5550100", &phone_delta("5550100", "5550100").unwrap()).as_deref(),
            Some("5550100")
        );
        // Unusable deltas.
        assert_eq!(
            phone_delta_number("1", &[PhoneDeltaPart::UniqueDigits(1)]),
            None
        );
        assert_eq!(
            phone_delta_number(
                "1",
                &[
                    PhoneDeltaPart::UniqueDigits(3),
                    PhoneDeltaPart::SubscriberNumber(b"12".to_vec())
                ]
            ),
            None
        );
        assert_eq!(phone_delta("1", &"9".repeat(254)), None);
    }

    proptest::proptest! {
        /// What the answering side says, the caller dials: for any known number and any
        /// target at least as long.
        #[test]
        fn a_phone_delta_leads_back_to_its_target(
            known in "[0-9]{0,12}",
            extra in "[0-9]{0,6}",
            change in proptest::prelude::any::<proptest::sample::Index>(),
        ) {
            let mut target = format!("{known}{extra}").into_bytes();
            if !target.is_empty() {
                let at = change.index(target.len());
                target[at] = b'0' + (target[at] - b'0' + 1) % 10;
            }
            let target = String::from_utf8(target).unwrap();
            let Some(delta) = phone_delta(&known, &target) else {
                proptest::prop_assert!(target.is_empty());
                return Ok(());
            };
            // It goes on the wire and comes back the same.
            let option = BapOption::PhoneDelta(delta.clone());
            let mut bytes = Vec::new();
            emit_list(std::slice::from_ref(&option), &mut bytes);
            proptest::prop_assert_eq!(parse_list::<BapOption>(&bytes), Ok(vec![option]));
            proptest::prop_assert_eq!(phone_delta_number(&known, &delta), Some(target));
        }
    }

    #[test]
    fn types_pair_requests_with_responses() {
        for (kind, _) in TYPES {
            assert_eq!(BapType::from_u8(kind as u8), Some(kind));
            assert!(kind.response().is_response());
            assert_eq!(kind.is_response(), kind.response() == kind);
        }
        assert_eq!(
            BapType::LinkDropQueryRequest.response(),
            BapType::LinkDropQueryResponse
        );
    }
}
