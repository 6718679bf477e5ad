//! The PPP packets on the engine's line, one summary line each, read from a run's capture
//! (`LINKTYPE_PPP_WITH_DIR` pcap): what `expect.packets` matches, in order, by fragment
//! (DESIGN §6). A summary names the direction from the dialer's side, the protocol, the
//! packet and the fields a scenario checks. Secrets stay out: a PAP request shows its
//! Peer-ID, never its password (only the capture itself holds what the wire holds).

use std::time::Duration;

use pcap_file::pcap::PcapReader;
use ras_engine::ppp::wire::Protocol;
use ras_engine::ppp::wire::bacp::BacpOption;
use ras_engine::ppp::wire::bap::BapRepr;
use ras_engine::ppp::wire::cbcp::CbcpRepr;
use ras_engine::ppp::wire::chap::ChapRepr;
use ras_engine::ppp::wire::control::{CodeSet, ControlRepr};
use ras_engine::ppp::wire::eap::EapRepr;
use ras_engine::ppp::wire::ipcp::IpcpOption;
use ras_engine::ppp::wire::lcp::LcpOption;
use ras_engine::ppp::wire::pap::PapRepr;

/// `LINKTYPE_PPP_WITH_DIR`'s direction octet for a frame the dialer sent.
const SENT: u8 = 1;
/// Address and Control of every frame the capture writes (RFC 1662 §3.1).
const ADDRESS_CONTROL: [u8; 2] = [0xFF, 0x03];

/// Every frame in `pcap`, summarised, in order. A capture that cannot be read is an error.
pub fn summarize(pcap: &[u8]) -> Result<Vec<String>, String> {
    Ok(summarize_timed(pcap)?
        .into_iter()
        .map(|(_, line)| line)
        .collect())
}

/// [`summarize`], each summary with its record's timestamp (since the Unix epoch).
pub fn summarize_timed(pcap: &[u8]) -> Result<Vec<(Duration, String)>, String> {
    let mut reader = PcapReader::new(pcap).map_err(|e| format!("unreadable capture: {e}"))?;
    let mut lines = Vec::new();
    while let Some(packet) = reader.next_packet() {
        let packet = packet.map_err(|e| format!("unreadable capture record: {e}"))?;
        lines.push((packet.timestamp, summarize_frame(&packet.data)));
    }
    Ok(lines)
}

/// One record: direction octet, `ff 03`, protocol, information.
fn summarize_frame(record: &[u8]) -> String {
    let [direction, a, c, hi, lo, information @ ..] = record else {
        return format!("short record of {} octets", record.len());
    };
    let direction = if *direction == SENT {
        "sent"
    } else {
        "received"
    };
    if [*a, *c] != ADDRESS_CONTROL {
        return format!("{direction} frame without ff 03");
    }
    let protocol = Protocol(u16::from_be_bytes([*hi, *lo]));
    let body = match protocol {
        Protocol::LCP => control::<LcpOption>("LCP", information, CodeSet::Lcp),
        Protocol::IPCP => control::<IpcpOption>("IPCP", information, CodeSet::Ncp),
        Protocol::PAP => match PapRepr::parse_bytes(information) {
            Ok(PapRepr::AuthenticateRequest {
                identifier,
                peer_id,
                ..
            }) => format!(
                "PAP Authenticate-Request id={identifier} peer-id={}",
                String::from_utf8_lossy(&peer_id)
            ),
            Ok(PapRepr::AuthenticateAck { identifier, .. }) => {
                format!("PAP Authenticate-Ack id={identifier}")
            }
            Ok(PapRepr::AuthenticateNak { identifier, .. }) => {
                format!("PAP Authenticate-Nak id={identifier}")
            }
            Err(error) => format!("PAP malformed ({error})"),
        },
        Protocol::CHAP => parsed("CHAP", ChapRepr::parse_bytes(information)),
        Protocol::EAP => parsed("EAP", EapRepr::parse_bytes(information)),
        Protocol::CBCP => parsed("CBCP", CbcpRepr::parse_bytes(information)),
        Protocol::BACP => control::<BacpOption>("BACP", information, CodeSet::Ncp),
        Protocol::BAP => parsed("BAP", BapRepr::parse_bytes(information)),
        other => format!(
            "{} ({} octets)",
            other
                .name()
                .map_or_else(|| format!("protocol {:#06x}", other.0), str::to_owned),
            information.len()
        ),
    };
    format!("{direction} {body}")
}

/// A packet whose decoder prints it (the decoders keep secrets out: a token or a password
/// shows as its length only).
fn parsed<R: std::fmt::Display, E: std::fmt::Display>(name: &str, repr: Result<R, E>) -> String {
    match repr {
        Ok(repr) => format!("{name} {repr}"),
        Err(error) => format!("{name} malformed ({error})"),
    }
}

fn control<O>(name: &str, information: &[u8], codes: CodeSet) -> String
where
    O: ras_engine::ppp::wire::options::ConfigOption + std::fmt::Display,
{
    match ControlRepr::<O>::parse_bytes(information, codes) {
        Ok(repr) => format!("{name} {repr}"),
        Err(error) => format!("{name} malformed ({error})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(direction: u8, protocol: Protocol, information: &[u8]) -> Vec<u8> {
        let mut record = vec![direction, 0xFF, 0x03];
        record.extend_from_slice(&protocol.0.to_be_bytes());
        record.extend_from_slice(information);
        record
    }

    #[test]
    fn callback_control_is_decoded() {
        // MS-CBCP §2.2.4.1: a Callback Request offering "no callback" and a user-set number.
        let request = [
            0x01, 0x01, 0x00, 0x0b, 0x01, 0x02, 0x02, 0x05, 0x00, 0x01, 0x00,
        ];
        let line = summarize_frame(&record(0, Protocol::CBCP, &request));
        assert!(line.starts_with("received CBCP "), "{line}");
        assert!(!line.contains("octets"), "{line}");
    }

    #[test]
    fn eap_is_decoded_and_keeps_a_token_secret() {
        // RFC 3748 §5.1: Response/Identity "alice".
        let identity = [0x02, 0x07, 0x00, 0x0a, 0x01, b'a', b'l', b'i', b'c', b'e'];
        assert_eq!(
            summarize_frame(&record(SENT, Protocol::EAP, &identity)),
            "sent EAP Response id=7 Identity \"alice\""
        );
        // RFC 3748 §5.6: Response/Generic Token Card with the token "123456".
        let token = [
            0x02, 0x08, 0x00, 0x0b, 0x06, b'1', b'2', b'3', b'4', b'5', b'6',
        ];
        let line = summarize_frame(&record(SENT, Protocol::EAP, &token));
        assert_eq!(line, "sent EAP Response id=8 Generic-Token-Card 6 octets");
    }

    #[test]
    fn a_truncated_bap_packet_is_malformed_not_a_panic() {
        let line = summarize_frame(&record(0, Protocol::BAP, &[0x01, 0x01, 0x00]));
        assert!(line.starts_with("received BAP malformed ("), "{line}");
    }
}
