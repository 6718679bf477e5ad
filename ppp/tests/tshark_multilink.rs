//! Interop: Wireshark's `tshark` (Debian package `tshark`) dissects what this crate puts on
//! a multilink line: LCP with MRRU, Short-Sequence, Endpoint- and Link-Discriminator
//! (RFC 1990 §5.1, RFC 2125 §2.1), BACP's Favored-Peer (RFC 2125 §4), every BAP datagram
//! the machine sends (§5.5, §6) and MP fragments (RFC 1990 §3), each as the protocol it is,
//! no malformed packet. Without tshark the test is skipped loudly, except under `CI=true`,
//! where it fails.

#![allow(clippy::unwrap_used)]

use std::process::Command;

use ras_ppp::bap::{Bap, BapConfig, BapEvent};
use ras_ppp::hdlc::Encoder;
use ras_ppp::mp::{Bundle, BundleConfig};
use ras_ppp::wire::Protocol;
use ras_ppp::wire::bacp::BacpOption;
use ras_ppp::wire::bap::{BapOption, BapType, PhoneDeltaPart, ResponseCode, action, link_type};
use ras_ppp::wire::control::ControlRepr;
use ras_ppp::wire::lcp::{EndpointDiscriminator, LcpOption};
use ras_ppp::{Capture, Direction};
use sansio::{Duration, Instant};

/// A capture of one side of a multilink line: `(direction, protocol, information)` each.
fn capture(frames: &[(Direction, Protocol, Vec<u8>)]) -> Vec<u8> {
    let mut capture = Capture::new(Vec::new()).unwrap();
    let encoder = Encoder::default();
    for (n, (direction, protocol, information)) in frames.iter().enumerate() {
        let now = Instant::ZERO + Duration::from_millis(10 * n as u64);
        let written = capture
            .record(now, *direction, &encoder.encode(*protocol, information))
            .unwrap();
        assert_eq!(written, 1);
    }
    capture.into_inner()
}

/// The frames: LCP and BACP requests, a BAP add-link and drop exchange between two
/// machines, and a packet split over two links.
fn frames() -> Vec<(Direction, Protocol, Vec<u8>)> {
    let mut frames = Vec::new();
    let lcp = ControlRepr::ConfigureRequest {
        identifier: 1,
        options: vec![
            LcpOption::Mrru(1614),
            LcpOption::ShortSequence,
            LcpOption::EndpointDiscriminator(
                EndpointDiscriminator::parse(&[1, 0xca, 0xfe]).unwrap(),
            ),
            LcpOption::LinkDiscriminator(0x0001),
        ],
    };
    frames.push((Direction::Sent, Protocol::LCP, lcp.to_bytes()));
    let bacp = ControlRepr::ConfigureRequest {
        identifier: 1,
        options: vec![BacpOption::FavoredPeer(0x1234_5678)],
    };
    frames.push((Direction::Sent, Protocol::BACP, bacp.to_bytes()));

    let (mut dialer, mut server) = (
        Bap::new(BapConfig::default()),
        Bap::new(BapConfig::default()),
    );
    let now = Instant::ZERO;
    let analog = BapOption::LinkType {
        speed_kbps: 33,
        types: link_type::ANALOG,
    };
    let exchange = |dialer: &mut Bap, server: &mut Bap, frames: &mut Vec<_>| {
        while let Some(packet) = dialer.poll_packet() {
            server.receive(now, &packet).unwrap();
            frames.push((Direction::Sent, Protocol::BAP, packet));
        }
        while let Some(event) = server.poll_event() {
            if let BapEvent::Request(request) = event {
                let options = match request.kind {
                    BapType::CallRequest => vec![BapOption::PhoneDelta(vec![
                        PhoneDeltaPart::UniqueDigits(1),
                        PhoneDeltaPart::SubscriberNumber(b"1".to_vec()),
                    ])],
                    _ => vec![BapOption::Reason(b"ok".to_vec())],
                };
                server
                    .respond(request.identifier, ResponseCode::Ack, options)
                    .unwrap();
            }
        }
        while let Some(packet) = server.poll_packet() {
            dialer.receive(now, &packet).unwrap();
            frames.push((Direction::Received, Protocol::BAP, packet));
        }
    };
    dialer
        .send_request(
            now,
            BapType::CallRequest,
            vec![analog.clone(), BapOption::NoPhoneNumberNeeded],
        )
        .unwrap();
    exchange(&mut dialer, &mut server, &mut frames);
    dialer
        .send_request(
            now,
            BapType::CallStatusIndication,
            vec![BapOption::CallStatus {
                status: 0,
                action: action::NO_RETRY,
            }],
        )
        .unwrap();
    exchange(&mut dialer, &mut server, &mut frames);
    dialer
        .send_request(
            now,
            BapType::CallbackRequest,
            vec![
                analog,
                BapOption::PhoneDelta(vec![PhoneDeltaPart::UniqueDigits(0)]),
            ],
        )
        .unwrap();
    exchange(&mut dialer, &mut server, &mut frames);
    dialer
        .send_request(
            now,
            BapType::LinkDropQueryRequest,
            vec![BapOption::LinkDiscriminator(1)],
        )
        .unwrap();
    exchange(&mut dialer, &mut server, &mut frames);

    let mut bundle = Bundle::new(BundleConfig {
        min_fragment: 40,
        ..BundleConfig::default()
    });
    bundle.add_link(1500).unwrap();
    bundle.add_link(1500).unwrap();
    // An IPv4 datagram's worth of octets, split over the two links.
    for (_, fragment) in bundle.fragment(&[0x45; 120]).unwrap() {
        frames.push((Direction::Sent, Protocol::MULTILINK, fragment));
    }
    frames
}

#[test]
fn tshark_decodes_lcp_multilink_options_bacp_bap_and_mp() {
    let Some(program) = testkit::required_program("tshark", "tshark") else {
        return;
    };
    let path = std::env::temp_dir().join(format!(
        "ras-ppp-tshark-multilink-{}.pcap",
        std::process::id()
    ));
    std::fs::write(&path, capture(&frames())).unwrap();
    let output = Command::new(&program)
        .arg("-r")
        .arg(&path)
        .arg("-V")
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let verbose = String::from_utf8(output.stdout).unwrap();
    // Wireshark's names for them.
    for shown in [
        "PPP Link Control Protocol",
        "Multilink MRRU: 1614",
        "Multilink Short Sequence Number Header",
        "Multilink Endpoint Discriminator",
        "Link Discriminator for BACP",
        "PPP Bandwidth Allocation Control Protocol",
        "Favored-Peer",
        "PPP Bandwidth Allocation Protocol",
        "Type: Call Request (0x01)",
        "Type: Call Response (0x02)",
        "Type: Callback Request (0x03)",
        "Type: Callback Response (0x04)",
        "Type: Link Drop Query Request (0x05)",
        "Type: Link Drop Query Response (0x06)",
        "Type: Call Status Indication (0x07)",
        "Type: Call Status Response (0x08)",
        "Response Code: Request Ack (0x00)",
        "Link Speed: 33Kbps",
        "Sub-Option Type: Unique Digit (1)",
        "Status: Call successful (0x00)",
        "PPP Multilink Protocol",
        "Sequence number: 1",
    ] {
        assert!(
            verbose.contains(shown),
            "tshark shows no `{shown}`:\n{verbose}"
        );
    }
    assert!(!verbose.contains("Malformed"), "{verbose}");
}
