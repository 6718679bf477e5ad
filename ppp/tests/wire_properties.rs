//! Properties of the LCP, IPCP and PAP decoders (the CHAP and CBCP ones have theirs beside
//! their code): well-framed input of any content either parses or is refused with a typed
//! error, and whatever parses is emitted and reads back equal. The fuzz targets
//! `lcp_packet`, `ipcp_packet` and `pap_packet` (`fuzz-targets`) take unframed bytes; these
//! build the framing right, so every run reaches the option and field decoders.

use proptest::collection::vec;
use proptest::prelude::*;
use ras_ppp::wire::control::CodeSet;
use ras_ppp::wire::ipcp::IpcpOption;
use ras_ppp::wire::lcp::LcpOption;
use ras_ppp::wire::options::{ConfigOption, emit_list, parse_list};
use ras_ppp::wire::pap::{PapCode, PapRepr};
use ras_ppp::wire::{Code, ControlRepr};

/// One option as RFC 1661 §6 frames it: Type, Length (counting both), Data. The type is
/// drawn mostly from the small numbers where LCP's and IPCP's known options sit.
fn option() -> impl Strategy<Value = Vec<u8>> {
    let kind = prop_oneof![3 => 0..=20_u8, 1 => any::<u8>()];
    (kind, vec(any::<u8>(), 0..=12)).prop_map(|(kind, data)| {
        let mut option = vec![kind, u8::try_from(data.len() + 2).unwrap_or(u8::MAX)];
        option.extend(data);
        option
    })
}

/// A Configure-Request (RFC 1661 §5.1) carrying well-framed options.
fn configure_request() -> impl Strategy<Value = (Vec<u8>, Vec<u8>)> {
    (any::<u8>(), vec(option(), 0..8)).prop_map(|(identifier, options)| {
        let options = options.concat();
        let length = u16::try_from(options.len() + 4).unwrap_or(u16::MAX);
        let mut packet = vec![Code::ConfigureRequest as u8, identifier];
        packet.extend(length.to_be_bytes());
        packet.extend(&options);
        (packet, options)
    })
}

fn options_round_trip<O: ConfigOption + Eq>(list: &[u8], packet: &[u8], codes: CodeSet) {
    let parsed = parse_list::<O>(list);
    if let Ok(options) = &parsed {
        let mut out = Vec::new();
        emit_list(options, &mut out);
        assert_eq!(parse_list::<O>(&out).as_ref(), Ok(options));
    }
    let repr = ControlRepr::<O>::parse_bytes(packet, codes);
    // The packet parses exactly when its option list does.
    assert_eq!(repr.is_ok(), parsed.is_ok(), "{repr:?} / {parsed:?}");
    if let Ok(repr) = repr {
        assert_eq!(ControlRepr::parse_bytes(&repr.to_bytes(), codes), Ok(repr));
    }
}

fn field() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..=255)
}

fn pap() -> impl Strategy<Value = PapRepr> {
    prop_oneof![
        (any::<u8>(), field(), field()).prop_map(|(identifier, peer_id, password)| {
            PapRepr::AuthenticateRequest {
                identifier,
                peer_id,
                password,
            }
        }),
        (any::<u8>(), field()).prop_map(|(identifier, message)| PapRepr::AuthenticateAck {
            identifier,
            message
        }),
        (any::<u8>(), field()).prop_map(|(identifier, message)| PapRepr::AuthenticateNak {
            identifier,
            message
        }),
    ]
}

proptest! {
    #[test]
    fn lcp_options_parse_or_refuse_and_round_trip((packet, list) in configure_request()) {
        options_round_trip::<LcpOption>(&list, &packet, CodeSet::Lcp);
    }

    #[test]
    fn ipcp_options_parse_or_refuse_and_round_trip((packet, list) in configure_request()) {
        options_round_trip::<IpcpOption>(&list, &packet, CodeSet::Ncp);
    }

    /// RFC 1334 §2.2: every field that fits its length octet is carried unchanged.
    #[test]
    fn pap_packets_round_trip(repr in pap()) {
        prop_assert_eq!(PapRepr::parse_bytes(&repr.to_bytes()), Ok(repr));
    }

    /// Whatever the length octets of a PAP request claim, the decoder never reads past
    /// the packet.
    #[test]
    fn pap_request_fields_never_overrun(identifier: u8, data in vec(any::<u8>(), 0..64)) {
        let length = u16::try_from(data.len() + 4).unwrap_or(u16::MAX);
        let mut packet = vec![PapCode::AuthenticateRequest as u8, identifier];
        packet.extend(length.to_be_bytes());
        packet.extend(&data);
        if let Ok(repr) = PapRepr::parse_bytes(&packet) {
            prop_assert_eq!(PapRepr::parse_bytes(&repr.to_bytes()), Ok(repr));
        }
    }
}
