//! Targets for `ras-ppp`: the RFC 1662 deframer, the control-packet and option decoders of
//! LCP, IPCP, PAP, CHAP and CBCP, multilink reassembly, the whole client and server, and the
//! line capture.

use pcap_file::pcap::PcapReader;
use ras_ppp::bap::{Bap, BapConfig};
use ras_ppp::cbcp::{
    CallbackPrivilege, CbcpClient, CbcpClientConfig, CbcpServer, CbcpServerConfig,
};
use ras_ppp::chap::{ChapAlgorithm, ChapClient, ChapServer};
use ras_ppp::fsm::{Fsm, FsmConfig, Negotiator};
use ras_ppp::hdlc::{Decoder, Encoder, FcsKind, Frame, ReceiveAccm, TransmitAccm};
use ras_ppp::ipcp::{IpcpConfig, new_ipcp};
use ras_ppp::lcp::{LcpConfig, new_lcp};
use ras_ppp::mp::{Bundle, BundleConfig, LinkId, MpEvent};
use ras_ppp::mschapv2::recover_new_password;
use ras_ppp::pap::{PapClient, PapServer};
use ras_ppp::wire::ControlRepr;
use ras_ppp::wire::Protocol;
use ras_ppp::wire::bacp::BacpOption;
use ras_ppp::wire::bap::BapRepr;
use ras_ppp::wire::chap::{ChapRepr, FailureMessage, MsChapV2Response, SuccessMessage};
use ras_ppp::wire::control::CodeSet;
use ras_ppp::wire::ipcp::IpcpOption;
use ras_ppp::wire::lcp::LcpOption;
use ras_ppp::wire::mp::{MpPacket, MpRepr, SequenceFormat};
use ras_ppp::wire::options::{ConfigOption, emit_list, parse_list};
use ras_ppp::wire::pap::PapRepr;
use ras_ppp::wire::ppp_frame::FrameRepr;
use ras_ppp::{Capture, Client, ClientConfig, Direction};
use sansio::{Duration, Instant, Machine};

/// The RFC 1662 deframer's paths agree: the decoder takes each stretch of a line one of
/// three ways (a branch-free pass, an octet-by-octet fallback for irregular content, run
/// copying under a receive map of 0), so feeding the line in chunks, which moves where
/// stretches start and end, must give exactly what one call gives, frames and every
/// counter. Four leading octets pick the receive map (0, all, or one from the input), the
/// FCS, the MRU and the chunk size. Then the line, framed by the encoder under that map,
/// must decode back to itself.
pub fn hdlc_chunking(data: &[u8]) {
    let Some((&[pick, map0, map1, chunk], line)) = data.split_first_chunk::<4>() else {
        return;
    };
    let accm = match pick & 3 {
        0 => 0,
        1 => u32::MAX,
        _ => u32::from_le_bytes([map0, map1, map0 ^ map1, pick]),
    };
    let fcs = if pick & 4 == 0 {
        FcsKind::Fcs16
    } else {
        FcsKind::Fcs32
    };
    let mru = if pick & 8 == 0 { 1500 } else { 32 };
    let chunk = usize::from(chunk).max(1);
    let fresh = || {
        let mut decoder = Decoder::new(mru);
        decoder.set_accm(ReceiveAccm(accm));
        decoder.set_fcs(fcs);
        decoder
    };

    let mut whole = fresh();
    let mut expected = Vec::new();
    whole.decode(line, &mut expected);
    let mut chunked = fresh();
    let mut frames = Vec::new();
    for piece in line.chunks(chunk) {
        chunked.decode(piece, &mut frames);
    }
    assert_eq!(frames, expected, "chunking changed the frames");
    assert_eq!(
        chunked.stats(),
        whole.stats(),
        "chunking changed the counts"
    );

    // The sender escapes every control character the receiver may discard.
    let encoder = Encoder {
        accm: TransmitAccm::from_async_map(accm),
        fcs,
        ..Encoder::default()
    };
    let information = &line[..line.len().min(usize::from(mru))];
    let wire = encoder.encode(Protocol::IPV4, information);
    let mut decoder = fresh();
    let mut frames = Vec::new();
    for piece in wire.chunks(chunk) {
        decoder.decode(piece, &mut frames);
    }
    assert_eq!(
        frames,
        vec![Frame {
            protocol: Protocol::IPV4,
            information: information.to_vec(),
        }],
        "a frame did not survive the encoder and decoder"
    );
}

/// The RFC 1662 deframer. The first octet picks the read size, the FCS (RFC 1662 §C.2 or
/// §C.3) and whether the receive map is the default or empty; the rest is the line. The
/// decoder must never panic, never deliver more than its MRU allows, and every frame it
/// delivers must survive the encoder and a second decoder unchanged. The frame content
/// parser ([`FrameRepr`]) gets the same bytes and must emit what it parsed.
pub fn hdlc_deframe(data: &[u8]) {
    let Some((&settings, line)) = data.split_first() else {
        return;
    };
    const MRU: u16 = 64;
    let fcs = if settings & 1 == 0 {
        FcsKind::Fcs16
    } else {
        FcsKind::Fcs32
    };
    let mut decoder = Decoder::new(MRU);
    decoder.set_fcs(fcs);
    if settings & 2 != 0 {
        decoder.set_accm(ReceiveAccm(0));
    }
    let chunk = usize::from(settings >> 2).max(1);
    let mut frames = Vec::new();
    for piece in line.chunks(chunk) {
        decoder.decode(piece, &mut frames);
    }
    let stats = decoder.stats();
    assert_eq!(
        stats.frames,
        frames.len() as u64,
        "every delivered frame counted"
    );

    let encoder = Encoder {
        fcs,
        ..Encoder::default()
    };
    for frame in &frames {
        // Address, control, a two-octet protocol and the larger FCS on top of the MRU.
        assert!(
            frame.information.len() <= usize::from(MRU) + 8,
            "frame over the limit"
        );
        let mut again = Decoder::new(u16::MAX);
        again.set_fcs(fcs);
        let mut decoded: Vec<Frame> = Vec::new();
        again.decode(
            &encoder.encode(frame.protocol, &frame.information),
            &mut decoded,
        );
        assert_eq!(
            decoded.as_slice(),
            std::slice::from_ref(frame),
            "re-encoded frame"
        );
    }

    if let Ok(repr) = FrameRepr::parse(line) {
        let mut out = vec![0; repr.buffer_len()];
        repr.emit(&mut out);
        assert_eq!(FrameRepr::parse(&out), Ok(repr), "frame content round trip");
    }
}

/// An option list alone must parse, emit and read back equal.
fn option_list_round_trip<O: ConfigOption>(data: &[u8]) {
    if let Ok(options) = parse_list::<O>(data) {
        let mut out = Vec::new();
        emit_list(&options, &mut out);
        assert_eq!(parse_list::<O>(&out), Ok(options), "option list round trip");
    }
}

/// A control packet must parse, emit and read back equal.
fn control_round_trip<O: ConfigOption + Eq>(data: &[u8], codes: CodeSet) {
    if let Ok(repr) = ControlRepr::<O>::parse_bytes(data, codes) {
        assert_eq!(
            ControlRepr::parse_bytes(&repr.to_bytes(), codes),
            Ok(repr),
            "control packet round trip"
        );
    }
}

/// The same packet three times, three seconds apart, into an automaton that is up and
/// opening, answering whatever it sends (RFC 1661 §4): no panic, and a bounded queue.
fn drive_automaton<N: Negotiator>(mut fsm: Fsm<N>, data: &[u8]) {
    let mut now = Instant::ZERO;
    fsm.up(now);
    fsm.open(now);
    for _ in 0..3 {
        fsm.receive(now, data);
        now += Duration::from_secs(3);
        fsm.handle_timeout(now);
        let mut sent = 0;
        while fsm.poll_packet().is_some() {
            sent += 1;
        }
        assert!(sent <= 4, "one packet in answered with {sent}");
        while fsm.poll_event().is_some() {}
    }
}

/// LCP packets and options (RFC 1661 §5, §6; RFC 1570, RFC 1990 options).
pub fn lcp_packet(data: &[u8]) {
    control_round_trip::<LcpOption>(data, CodeSet::Lcp);
    option_list_round_trip::<LcpOption>(data);
    drive_automaton(new_lcp(LcpConfig::default(), FsmConfig::default()), data);
}

/// IPCP packets and options (RFC 1332 §2, §3; RFC 1877).
pub fn ipcp_packet(data: &[u8]) {
    control_round_trip::<IpcpOption>(data, CodeSet::Ncp);
    option_list_round_trip::<IpcpOption>(data);
    drive_automaton(new_ipcp(IpcpConfig::default(), FsmConfig::default()), data);
}

/// PAP packets (RFC 1334 §2.2) into the decoder and both roles: the peer must not send
/// anything in answer to what it cannot parse, and the authenticator must ask for a verdict
/// only on a well-formed Authenticate-Request.
pub fn pap_packet(data: &[u8]) {
    let parsed = PapRepr::parse_bytes(data);
    if let Ok(repr) = &parsed {
        assert_eq!(PapRepr::parse_bytes(&repr.to_bytes()).as_ref(), Ok(repr));
    }
    let mut client = PapClient::new("alice", "secret", Duration::from_secs(3), 3);
    client.start(Instant::ZERO);
    while client.poll_packet().is_some() {}
    client.receive(data);
    assert_eq!(client.poll_packet(), None, "the peer answers no packet");
    let _ = client.take_outcome();

    let mut server = PapServer::default();
    let request = server.receive(data);
    if request.is_some() {
        assert!(matches!(parsed, Ok(PapRepr::AuthenticateRequest { .. })));
        server.answer(false, "no");
        assert!(
            server.poll_packet().is_some(),
            "an answered request is answered"
        );
    }
}

/// CBCP packets (MS-CBCP §2.2): any bytes must parse to a packet or a typed error, never a
/// panic; whatever parses must survive emit-then-parse unchanged; and both roles must take
/// any packet without panicking or answering what they could not parse.
pub fn cbcp_decode(data: &[u8]) {
    use ras_ppp::wire::cbcp::CbcpRepr;

    let parsed = CbcpRepr::parse_bytes(data);
    if let Ok(repr) = &parsed {
        assert_eq!(CbcpRepr::parse_bytes(&repr.to_bytes()).as_ref(), Ok(repr));
    }
    let mut server = CbcpServer::new(CbcpServerConfig {
        privilege: CallbackPrivilege::CallerSet,
        ..CbcpServerConfig::default()
    });
    let mut client = CbcpClient::new(CbcpClientConfig {
        callback_number: Some("5551234".into()),
        ..CbcpClientConfig::default()
    });
    let mut now = Instant::ZERO;
    server.start(now);
    while server.poll_packet().is_some() {}
    for _ in 0..3 {
        server.receive(data);
        client.receive(now, data);
        if parsed.is_err() {
            assert_eq!(client.poll_packet(), None);
        }
        now += Duration::from_secs(3);
        server.handle_timeout(now);
        client.handle_timeout(now);
        while server.poll_packet().is_some() {}
        while client.poll_packet().is_some() {}
    }
}

/// The CHAP and MS-CHAPv2 decoders: packets, the Response value, the `S=` and
/// `E= R= C= V= M=` messages and the Change-Password PW block either parse or give a typed
/// error, never a panic; whatever parses is emitted and reads back equal. The same bytes
/// then go into both machines, in both algorithms.
pub fn chap_decode(data: &[u8]) {
    if let Ok(repr) = ChapRepr::parse_bytes(data) {
        assert_eq!(
            ChapRepr::parse_bytes(&repr.to_bytes()),
            Ok(repr.clone()),
            "round trip"
        );
        match repr {
            ChapRepr::Response { value, .. } => {
                if let Ok(response) = MsChapV2Response::parse(&value) {
                    assert_eq!(MsChapV2Response::parse(&response.to_value()), Ok(response));
                }
            }
            ChapRepr::ChangePassword { packet, .. } => {
                let _ = recover_new_password(
                    &packet.encrypted_password,
                    &packet.encrypted_hash,
                    &[7; 16],
                );
            }
            _ => {}
        }
    }
    if let Ok(success) = SuccessMessage::parse(data) {
        assert_eq!(SuccessMessage::parse(&success.to_bytes()), Ok(success));
    }
    if let Ok(failure) = FailureMessage::parse(data) {
        assert_eq!(FailureMessage::parse(&failure.to_bytes()), Ok(failure));
    }
    let second = Duration::from_secs(1);
    for algorithm in [ChapAlgorithm::Md5, ChapAlgorithm::MsChapV2] {
        let mut client = ChapClient::new(
            algorithm,
            "alice",
            "secret",
            second * 3,
            10,
            ras_ppp::random::Random::seeded(1),
        );
        client.start(Instant::ZERO);
        client.receive(Instant::ZERO, data);
        while client.poll_packet().is_some() {}
        let mut server = ChapServer::new(
            algorithm,
            "server",
            second * 3,
            10,
            second * 120,
            ras_ppp::random::Random::seeded(2),
        );
        server.start(Instant::ZERO);
        let _ = server.receive(data, |_| Some("secret".to_owned()));
        while server.poll_packet().is_some() {}
    }
}

/// Multilink reassembly (RFC 1990 §4): arbitrary MP fragments on arbitrary member links, in
/// either header format, must never panic, never hold more than the buffer bound, and never
/// deliver a packet bigger than the MRRU.
pub fn mp_reassemble(data: &[u8]) {
    const MAX_BUFFERED: usize = 32;
    const MRRU: u16 = 64;
    let Some((&settings, mut rest)) = data.split_first() else {
        return;
    };
    let format = if settings & 1 == 0 {
        SequenceFormat::Long
    } else {
        SequenceFormat::Short
    };
    let mut bundle = Bundle::new(BundleConfig {
        receive_format: format,
        receive_mrru: MRRU,
        max_buffered_fragments: MAX_BUFFERED,
        ..BundleConfig::default()
    });
    for _ in 0..1 + (settings >> 1) % 4 {
        bundle.add_link(1500).expect("1500 holds any MP header");
    }
    // Each frame: a link octet, a length octet, then that many octets (or what is left).
    while let [link, len, tail @ ..] = rest {
        let (frame, next) = tail.split_at(usize::from(*len).min(tail.len()));
        rest = next;
        let _ = bundle.receive(LinkId(u32::from(*link % 5)), frame);
        assert!(bundle.buffered_fragments() <= MAX_BUFFERED);
        while let Some(event) = bundle.poll_event() {
            if let MpEvent::Packet(packet) = event {
                assert!(packet.len() <= usize::from(MRRU));
            }
        }
    }
    bundle.flush();
    assert_eq!(bundle.buffered_fragments(), 0);
}

/// The Multilink header decoder (RFC 1990 §3): any bytes, read in both header formats,
/// give a header or a typed error for fewer octets than a header; a header written back
/// reads back equal, with the same fragment, and differs from the input only in the
/// reserved bits, which it writes as zero.
pub fn mp_header(data: &[u8]) {
    for format in [SequenceFormat::Long, SequenceFormat::Short] {
        let Ok(packet) = MpPacket::new_checked(data, format) else {
            assert!(data.len() < format.header_len());
            continue;
        };
        let header = MpRepr::parse(&packet);
        assert!(header.sequence <= format.max_sequence());
        let written = header.to_bytes(packet.fragment());
        let again = MpPacket::new_checked(&written[..], format).expect("a whole header");
        assert_eq!(MpRepr::parse(&again), header);
        assert_eq!(again.fragment(), packet.fragment());
        // B and E, then 6 (long) or 2 (short) reserved bits.
        let reserved = match format {
            SequenceFormat::Long => 0x3f,
            SequenceFormat::Short => 0x30,
        };
        assert_eq!(written[0] & reserved, 0);
        assert_eq!(written[0] & !reserved, data[0] & !reserved);
        assert_eq!(written[1..], data[1..]);
    }
}

/// BAP and BACP (RFC 2125): the first octet picks whether the machine is the favored peer;
/// the rest is datagrams, each a length octet and that many octets. Every datagram either
/// parses or is a typed error; what parses writes back the octets it was read from (up to
/// its Length field) and parses again equal; BACP's option list likewise; and the BAP
/// machine takes it all, with a timeout after each, without panicking, only ever sending
/// datagrams that parse.
pub fn bap_decode(data: &[u8]) {
    let Some((&settings, mut rest)) = data.split_first() else {
        return;
    };
    let mut bap = Bap::new(BapConfig::default());
    bap.set_favored(settings & 1 == 1);
    let mut now = Instant::ZERO;
    while let [len, tail @ ..] = rest {
        let (datagram, next) = tail.split_at(usize::from(*len).min(tail.len()));
        rest = next;
        if let Ok(repr) = BapRepr::parse_bytes(datagram) {
            let written = repr.to_bytes();
            assert_eq!(written[..], datagram[..written.len()]);
            assert_eq!(BapRepr::parse_bytes(&written), Ok(repr));
        }
        if let Ok(options) = parse_list::<BacpOption>(datagram) {
            let mut written = Vec::new();
            emit_list(&options, &mut written);
            assert_eq!(parse_list::<BacpOption>(&written), Ok(options));
        }
        let _ = bap.receive(now, datagram);
        now += Duration::from_secs(1);
        bap.handle_timeout(now);
        while let Some(packet) = bap.poll_packet() {
            assert!(BapRepr::parse_bytes(&packet).is_ok(), "sent {packet:02x?}");
        }
        while bap.poll_event().is_some() {}
    }
}

/// Every PPP decoder at once (HDLC framing, LCP, PAP, IPCP packets and options): arbitrary
/// bytes from the line into an engine-role client and a server-role peer, split where the
/// input says, must never panic.
pub fn ppp_link(data: &[u8]) {
    let script = ppp_peer_sim::Script::from_yaml("auth: pap\nusers: {alice: secret}\n")
        .expect("fixed script");
    let mut server = ppp_peer_sim::Server::new(script, 1);
    let mut client = Client::new(ClientConfig {
        user: "alice".into(),
        password: "secret".into(),
        ..ClientConfig::default()
    });
    let mut now = Instant::ZERO;
    client.open(now);
    // The first byte picks the chunk size, so frames straddle reads in every way.
    let chunk = usize::from(data.first().copied().unwrap_or(1)).max(1);
    for piece in data.chunks(chunk) {
        now += Duration::from_millis(100);
        client.handle_input(now, piece);
        server.handle_input(now, piece);
        client.handle_timeout(now);
        server.handle_timeout(now);
        while client.poll_transmit().is_some() {}
        while server.poll_transmit().is_some() {}
        while client.poll_event().is_some() {}
        while server.poll_event().is_some() {}
    }
}

/// The line capture ([`Capture`]): arbitrary bytes from both directions of a line, split
/// where the input says, must never panic, and what it writes must read back as a pcap with
/// one record per frame the taps counted.
pub fn line_capture(data: &[u8]) {
    let mut capture = Capture::new(Vec::new()).expect("a Vec takes the header");
    let mut now = Instant::ZERO;
    // The first byte picks the chunk size; each chunk's first byte its direction.
    let chunk = usize::from(data.first().copied().unwrap_or(1)).max(1);
    for piece in data.chunks(chunk) {
        now += Duration::from_millis(1);
        let direction = if piece[0] & 1 == 0 {
            Direction::Sent
        } else {
            Direction::Received
        };
        capture
            .record(now, direction, piece)
            .expect("a Vec takes every record");
    }
    let written = capture.stats(Direction::Sent).frames + capture.stats(Direction::Received).frames;
    let pcap = capture.into_inner();
    let mut reader = PcapReader::new(&pcap[..]).expect("the header reads back");
    let mut records = 0;
    while let Some(packet) = reader.next_packet() {
        let packet = packet.expect("every record reads back");
        assert_eq!(&packet.data[1..3], &[0xFF, 0x03]);
        records += 1;
    }
    assert_eq!(records, written);
}

/// The EAP decoder and both EAP machines (RFC 3748 §4; pppd's CVE-2020-8597 was an EAP
/// length overflow): every packet either parses or gives a typed error; whatever parses
/// has a Length within the octets, and is emitted and reads back equal, its new Length the
/// octets emitted. The same bytes then go into both machines, which must not panic.
pub fn eap_decode(data: &[u8]) {
    use ras_ppp::eap::{EapAuthenticator, EapAuthenticatorConfig, EapPeer, EapPeerConfig};
    use ras_ppp::random::SeededRandom;
    use ras_ppp::wire::eap::{EapMethod, EapRepr};
    use sansio::{Duration, Instant};

    if let Ok(repr) = EapRepr::parse_bytes(data) {
        let length = usize::from(u16::from_be_bytes([data[2], data[3]]));
        assert!(length <= data.len(), "Length within the octets");
        let bytes = repr.to_bytes();
        assert_eq!(
            usize::from(u16::from_be_bytes([bytes[2], bytes[3]])),
            bytes.len()
        );
        assert_eq!(EapRepr::parse_bytes(&bytes), Ok(repr), "round trip");
    }
    let second = Duration::from_secs(1);
    let mut peer = EapPeer::new(
        EapPeerConfig::default(),
        "alice",
        "secret",
        second * 30,
        SeededRandom::new(1),
    );
    peer.start(Instant::ZERO);
    peer.receive(Instant::ZERO, data);
    while peer.poll_packet().is_some() {}
    let mut authenticator = EapAuthenticator::new(
        EapAuthenticatorConfig {
            name: "server".into(),
            methods: EapMethod::ALL.to_vec(),
            identity_prompt: String::new(),
            notification: None,
            token_prompt: "Token:".into(),
            restart_interval: second * 3,
            max_requests: 10,
            user_wait: second * 120,
        },
        SeededRandom::new(2),
    );
    authenticator.start(Instant::ZERO);
    let _ = authenticator.receive(Instant::ZERO, data, |_| Some("secret".to_owned()));
    while authenticator.poll_packet().is_some() {}
}

/// ppp-peer-sim's terminal login: whatever a caller types, in whatever chunks (the first
/// octet sets the chunk size), the login never panics, and what it hands to PPP is the
/// tail of the caller's own input.
pub fn terminal_login(data: &[u8]) {
    use ppp_peer_sim::{LoginProgress, LoginScript, TerminalLogin};

    let mut login = TerminalLogin::new(LoginScript {
        prompt: "login: ".into(),
        password_prompt: "Password: ".into(),
        banner: "fuzz".into(),
        users: std::collections::BTreeMap::from([("alice".to_owned(), "secret".to_owned())]),
        attempts: 3,
    });
    let Some((&size, rest)) = data.split_first() else {
        return;
    };
    for chunk in rest.chunks(usize::from(size).max(1)) {
        match login.receive(chunk) {
            LoginProgress::Pending => {}
            LoginProgress::LoggedIn { rest } => {
                assert!(chunk.ends_with(&rest));
                break;
            }
            LoginProgress::Refused => break,
        }
    }
    while login.poll_transmit().is_some() {}
}
