//! RFC 1662 asynchronous HDLC-like framing: flag sequence, control-escape transparency with
//! the Async-Control-Character-Map, and the Frame Check Sequence (FCS-16 or FCS-32).
//!
//! The [`Decoder`] is a streaming deframer: feed it byte chunks of any size and it yields whole
//! PPP frames. It never panics, whatever arrives; frames that fail a check are dropped and
//! counted in [`DecoderStats`]. The [`Encoder`] frames a protocol and information field
//! under the negotiated transmit map and compression options.

use crc::{CRC_16_IBM_SDLC, CRC_32_ISO_HDLC, Crc, Table};
use tracing::trace;

use crate::wire::{Protocol, ppp_frame};

/// RFC 1662 §3.1: the Flag Sequence that begins and ends every frame.
pub const FLAG: u8 = 0x7E;
/// RFC 1662 §4.2: the Control Escape octet.
pub const CONTROL_ESCAPE: u8 = 0x7D;

/// Line bytes cut just after each flag. A receiver deframes and acts on one segment at a
/// time, so that what a frame changes (LCP opening switches the receive ACCM, RFC 1662
/// §7.1) applies to the frames behind it that arrived in the same read: a peer that has
/// seen our Configure-Ack may already be sending with the negotiated map.
pub fn flag_segments(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes.split_inclusive(|&byte| byte == FLAG)
}
/// RFC 1662 §4.2: an escaped octet is transmitted XOR 0x20.
pub const ESCAPE_XOR: u8 = 0x20;
/// RFC 1662 §3.1: the All-Stations address.
pub const ADDRESS_ALL_STATIONS: u8 = 0xFF;
/// RFC 1662 §3.1: Unnumbered Information with the P/F bit zero.
pub const CONTROL_UI: u8 = 0x03;

/// RFC 1662 Appendix C (§C.2): the CRC the X.25/HDLC FCS-16 uses. Slice-by-16 tables
/// (8 KiB, built at compile time) check a 1500-octet frame several times faster than the
/// octet-at-a-time table of RFC 1662 §C.2 (BENCHMARKS.md, `hdlc`). A `static`, so the
/// table exists once rather than at every use.
static FCS16: Crc<u16, Table<16>> = Crc::<u16, Table<16>>::new(&CRC_16_IBM_SDLC);
/// RFC 1662 Appendix C (§C.3): the CRC the 32-bit FCS uses (slice-by-16 as well, 16 KiB).
static FCS32: Crc<u32, Table<16>> = Crc::<u32, Table<16>>::new(&CRC_32_ISO_HDLC);
/// RFC 1662 §C.2: the register value after a good frame, FCS included (`PPPGOODFCS16`).
pub const GOOD_FCS16: u16 = 0xF0B8;
/// RFC 1662 §C.3: the register value after a good frame, FCS included (`PPPGOODFCS32`).
pub const GOOD_FCS32: u32 = 0xDEBB_20E3;

/// RFC 1661 §6.1: the default Maximum-Receive-Unit.
pub const DEFAULT_MRU: u16 = 1500;

/// Which Frame Check Sequence the link uses (RFC 1662 §3.1; FCS-32 only when negotiated,
/// RFC 1570 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FcsKind {
    /// The default 16-bit FCS.
    #[default]
    Fcs16,
    /// The 32-bit FCS.
    Fcs32,
}

impl FcsKind {
    /// Octets the FCS occupies on the wire.
    pub const fn octets(self) -> usize {
        match self {
            FcsKind::Fcs16 => 2,
            FcsKind::Fcs32 => 4,
        }
    }

    /// The FCS to transmit after `bytes`, least significant octet first (RFC 1662 §C.2).
    pub fn compute(self, bytes: &[u8]) -> Vec<u8> {
        self.over(&[bytes])[..self.octets()].to_vec()
    }

    /// The FCS over `parts` one after the other, least significant octet first; only the
    /// first [`FcsKind::octets`] of the four are meaningful.
    fn over(self, parts: &[&[u8]]) -> [u8; 4] {
        match self {
            FcsKind::Fcs16 => {
                let mut digest = FCS16.digest();
                parts.iter().for_each(|part| digest.update(part));
                let [low, high] = digest.finalize().to_le_bytes();
                [low, high, 0, 0]
            }
            FcsKind::Fcs32 => {
                let mut digest = FCS32.digest();
                parts.iter().for_each(|part| digest.update(part));
                digest.finalize().to_le_bytes()
            }
        }
    }

    /// Whether `bytes` (frame content followed by its FCS) leaves the good residue.
    pub fn is_good(self, bytes: &[u8]) -> bool {
        match self {
            FcsKind::Fcs16 => fcs16_register(bytes) == GOOD_FCS16,
            FcsKind::Fcs32 => fcs32_register(bytes) == GOOD_FCS32,
        }
    }
}

/// The RFC 1662 §C.2 `pppfcs16` register after running over `bytes` from the initial value
/// 0xFFFF (the crc crate complements its result; undo that to see the raw register).
pub fn fcs16_register(bytes: &[u8]) -> u16 {
    FCS16.checksum(bytes) ^ 0xFFFF
}

/// The RFC 1662 §C.3 `pppfcs32` register after running over `bytes` from 0xFFFFFFFF.
pub fn fcs32_register(bytes: &[u8]) -> u32 {
    FCS32.checksum(bytes) ^ 0xFFFF_FFFF
}

/// The 32-bit receive Async-Control-Character-Map (RFC 1662 §7.1): bit `n` set means the
/// control character `n` may have been inserted by the line and is discarded on receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiveAccm(pub u32);

impl ReceiveAccm {
    /// RFC 1662 §7.1: until negotiated, every control character is mapped.
    pub const DEFAULT: ReceiveAccm = ReceiveAccm(0xFFFF_FFFF);

    /// Whether `byte` is a mapped control character to discard.
    pub fn discards(self, byte: u8) -> bool {
        byte < 0x20 && self.0 & (1 << byte) != 0
    }
}

impl Default for ReceiveAccm {
    fn default() -> Self {
        ReceiveAccm::DEFAULT
    }
}

/// The 256-bit transmit map (RFC 1662 §7.1 extended as its §4.2 allows): bit `n` set means
/// octet `n` is sent escaped. Flag and Control Escape are always escaped, whatever the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransmitAccm([u32; 8]);

impl TransmitAccm {
    /// RFC 1662 §7.1: every control character escaped (plus 0x7D, 0x7E).
    pub const DEFAULT: TransmitAccm = TransmitAccm([0xFFFF_FFFF, 0, 0, 0, 0, 0, 0, 0]);

    /// The map with the 32 control characters taken from a negotiated ACCM option and all
    /// other octets clear (except the always-escaped 0x7D and 0x7E).
    pub const fn from_async_map(map: u32) -> Self {
        TransmitAccm([map, 0, 0, 0, 0, 0, 0, 0])
    }

    /// The full 256-bit map.
    pub const fn from_words(words: [u32; 8]) -> Self {
        TransmitAccm(words)
    }

    /// Whether `byte` is sent escaped. 0x5E never is, whatever the map says: escaped it would
    /// read 0x7D 0x7E, the abort sequence (RFC 1662 §4.2).
    pub fn escapes(self, byte: u8) -> bool {
        if byte == FLAG ^ ESCAPE_XOR {
            return false;
        }
        byte == FLAG
            || byte == CONTROL_ESCAPE
            || self.0[usize::from(byte / 32)] & (1 << (byte % 32)) != 0
    }
}

impl Default for TransmitAccm {
    fn default() -> Self {
        TransmitAccm::DEFAULT
    }
}

/// One PPP frame as carried between flags, with address/control and FCS removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The Protocol field (RFC 1661 §2), decompressed.
    pub protocol: Protocol,
    /// The Information field, padding included.
    pub information: Vec<u8>,
}

/// What the [`Decoder`] threw away, and why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecoderStats {
    /// Frames delivered.
    pub frames: u64,
    /// Frames whose FCS did not check (RFC 1662 §3.1: silently discarded).
    pub bad_fcs: u64,
    /// Frames too short to hold a protocol field and an FCS.
    pub runts: u64,
    /// Frames longer than the receive limit.
    pub oversize: u64,
    /// Frames ended by the abort sequence 0x7D 0x7E (RFC 1662 §4.2).
    pub aborted: u64,
    /// Frames with a good FCS but a bad address, control or protocol field.
    pub malformed: u64,
}

impl DecoderStats {
    /// Everything discarded, whatever the reason.
    pub fn discarded(&self) -> u64 {
        self.bad_fcs + self.runts + self.oversize + self.aborted + self.malformed
    }
}

/// Streaming RFC 1662 deframer.
#[derive(Debug, Clone)]
pub struct Decoder {
    accm: ReceiveAccm,
    fcs: FcsKind,
    /// The longest frame content (address to FCS, unescaped) accepted.
    max_frame_len: usize,
    buffer: Vec<u8>,
    /// A flag has been seen: we are between flags rather than in pre-frame noise.
    synchronised: bool,
    escaped: bool,
    /// The current frame outgrew the limit; drop octets until the next flag.
    overflowed: bool,
    stats: DecoderStats,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new(DEFAULT_MRU)
    }
}

impl Decoder {
    /// A decoder for frames whose information field is at most `mru` octets (plus room for
    /// address, control, an uncompressed protocol and the larger FCS), with the default
    /// receive map and FCS-16.
    pub fn new(mru: u16) -> Self {
        Decoder {
            accm: ReceiveAccm::DEFAULT,
            fcs: FcsKind::Fcs16,
            max_frame_len: usize::from(mru) + 2 + 2 + FcsKind::Fcs32.octets(),
            buffer: Vec::new(),
            synchronised: false,
            escaped: false,
            overflowed: false,
            stats: DecoderStats::default(),
        }
    }

    /// Use a negotiated receive map from now on.
    pub fn set_accm(&mut self, accm: ReceiveAccm) {
        self.accm = accm;
    }

    /// Use a negotiated FCS from now on.
    pub fn set_fcs(&mut self, fcs: FcsKind) {
        self.fcs = fcs;
    }

    /// What has been delivered and discarded so far.
    pub fn stats(&self) -> DecoderStats {
        self.stats
    }

    /// Feed `bytes`; every complete frame they finish is appended to `frames`.
    pub fn decode(&mut self, mut bytes: &[u8], frames: &mut Vec<Frame>) {
        while let Some((&byte, rest)) = bytes.split_first() {
            if byte == FLAG {
                if self.escaped {
                    // RFC 1662 §4.2: Control Escape immediately before the closing flag
                    // aborts the frame.
                    self.stats.aborted += 1;
                    self.restart();
                } else if let Some(frame) = self.finish_frame() {
                    frames.push(frame);
                }
                self.synchronised = true;
                bytes = rest;
                continue;
            }
            if !self.synchronised {
                // Noise before the first flag (a modem's result codes, say).
                let skip = rest.iter().position(|&b| b == FLAG).unwrap_or(rest.len());
                bytes = &rest[skip..];
                continue;
            }
            if self.accm.discards(byte) {
                // A control character the line inserted (RFC 1662 §7.1).
                bytes = rest;
                continue;
            }
            // RFC 1662 §4.2: the octet after Control Escape is taken XOR 0x20, whatever it
            // is (0x7D 0x7D carries 0x5D).
            if std::mem::take(&mut self.escaped) {
                self.push(&[byte ^ ESCAPE_XOR]);
                bytes = rest;
                continue;
            }
            if byte == CONTROL_ESCAPE {
                self.escaped = true;
                bytes = rest;
                continue;
            }
            // A run of octets that stand for themselves, taken in one copy.
            let run = bytes
                .iter()
                .position(|&b| b == FLAG || b == CONTROL_ESCAPE || self.accm.discards(b))
                .unwrap_or(bytes.len());
            let (octets, rest) = bytes.split_at(run);
            self.push(octets);
            bytes = rest;
        }
    }

    /// Append unescaped content, or note that the frame outgrew the limit (its octets are
    /// then dropped until the next flag).
    fn push(&mut self, octets: &[u8]) {
        if self.overflowed {
            return;
        }
        if self.buffer.len() + octets.len() > self.max_frame_len {
            self.overflowed = true;
            self.buffer.clear();
            return;
        }
        self.buffer.extend_from_slice(octets);
    }

    fn restart(&mut self) {
        self.buffer.clear();
        self.escaped = false;
        self.overflowed = false;
    }

    fn finish_frame(&mut self) -> Option<Frame> {
        if self.overflowed {
            self.stats.oversize += 1;
            self.restart();
            return None;
        }
        // The buffer keeps its allocation from frame to frame; what is delivered is
        // copied out once, at its exact size.
        let content = std::mem::take(&mut self.buffer);
        let frame = self.check_frame(&content);
        self.buffer = content;
        self.restart();
        frame
    }

    /// The frame `content` (unescaped, FCS included) carries, if it passes every check.
    fn check_frame(&mut self, content: &[u8]) -> Option<Frame> {
        if content.is_empty() {
            // Back-to-back flags: inter-frame fill (RFC 1662 §3.1), not an error.
            return None;
        }
        let fcs_len = self.fcs.octets();
        // The shortest valid frame is a compressed protocol field plus the FCS.
        if content.len() < fcs_len + 1 {
            self.stats.runts += 1;
            trace!(len = content.len(), "hdlc: runt frame discarded");
            return None;
        }
        if !self.fcs.is_good(content) {
            self.stats.bad_fcs += 1;
            trace!(len = content.len(), "hdlc: bad FCS, frame discarded");
            return None;
        }
        let body = &content[..content.len() - fcs_len];
        match ppp_frame::FrameRepr::parse(body) {
            Ok(repr) => {
                self.stats.frames += 1;
                Some(Frame {
                    protocol: repr.protocol,
                    information: repr.information.to_vec(),
                })
            }
            Err(error) => {
                self.stats.malformed += 1;
                trace!(%error, "hdlc: malformed frame discarded");
                None
            }
        }
    }
}

/// RFC 1662 framer for the transmit direction.
#[derive(Debug, Clone, Copy, Default)]
pub struct Encoder {
    /// Octets to escape.
    pub accm: TransmitAccm,
    /// FCS to append.
    pub fcs: FcsKind,
    /// Omit address and control (RFC 1661 §6.6, once the peer accepted ACFC).
    pub acfc: bool,
    /// Compress protocol numbers below 0x100 to one octet (RFC 1661 §6.5).
    pub pfc: bool,
}

impl Encoder {
    /// One whole frame, opening and closing flags included.
    ///
    /// LCP frames always go out with the default map, full address/control and an
    /// uncompressed protocol field, whatever was negotiated (RFC 1661 §6.5, §6.6 and
    /// RFC 1662 §7.1), so that a renegotiation can always be understood.
    pub fn encode(&self, protocol: Protocol, information: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(protocol, information, &mut out);
        out
    }

    /// [`Encoder::encode`], appending the frame to `out` (which keeps its allocation
    /// across frames).
    pub fn encode_into(&self, protocol: Protocol, information: &[u8], out: &mut Vec<u8>) {
        let is_lcp = protocol == Protocol::LCP;
        let header = ppp_frame::FrameRepr {
            address_control: !self.acfc || is_lcp,
            compress_protocol: self.pfc && !is_lcp,
            protocol,
            information: &[],
        };
        // Address, control and a two-octet protocol at most.
        let mut header_octets = [0; 4];
        let header_octets = &mut header_octets[..header.buffer_len()];
        header.emit(header_octets);
        let fcs = self.fcs.over(&[header_octets, information]);
        let accm = if is_lcp {
            TransmitAccm::DEFAULT
        } else {
            self.accm
        };
        // Room for every octet escaped, and the two flags.
        out.reserve(2 * (header_octets.len() + information.len() + fcs.len()) + 2);
        out.push(FLAG);
        for part in [&header_octets[..], information, &fcs[..self.fcs.octets()]] {
            escape_into(accm, part, out);
        }
        out.push(FLAG);
    }
}

/// Append `bytes` to `out` with every octet the map names escaped (RFC 1662 §4.2), copying
/// the runs between escapes whole.
fn escape_into(accm: TransmitAccm, mut bytes: &[u8], out: &mut Vec<u8>) {
    loop {
        let run = bytes
            .iter()
            .position(|&byte| accm.escapes(byte))
            .unwrap_or(bytes.len());
        let (plain, rest) = bytes.split_at(run);
        out.extend_from_slice(plain);
        let Some((&byte, rest)) = rest.split_first() else {
            return;
        };
        out.extend_from_slice(&[CONTROL_ESCAPE, byte ^ ESCAPE_XOR]);
        bytes = rest;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(decoder: &mut Decoder, bytes: &[u8]) -> Vec<Frame> {
        let mut frames = Vec::new();
        decoder.decode(bytes, &mut frames);
        frames
    }

    #[test]
    fn fcs_check_values_from_the_crc_catalogue() {
        // The catalogue's check input "123456789": CRC-16/IBM-SDLC (X.25) = 0x906E,
        // CRC-32/ISO-HDLC = 0xCBF43926.
        assert_eq!(
            FcsKind::Fcs16.compute(b"123456789"),
            0x906E_u16.to_le_bytes()
        );
        assert_eq!(
            FcsKind::Fcs32.compute(b"123456789"),
            0xCBF4_3926_u32.to_le_bytes()
        );
    }

    #[test]
    fn good_frame_leaves_the_rfc_1662_residues() {
        // RFC 1662 §C.2/§C.3: running the FCS over data plus its (complemented, LSB-first)
        // FCS leaves PPPGOODFCS16 = 0xF0B8 / PPPGOODFCS32 = 0xDEBB20E3.
        for data in [&b""[..], b"\xff\x03\xc0\x21\x01\x01\x00\x04", b"123456789"] {
            let mut with16 = data.to_vec();
            with16.extend(FcsKind::Fcs16.compute(data));
            assert_eq!(fcs16_register(&with16), 0xF0B8);
            let mut with32 = data.to_vec();
            with32.extend(FcsKind::Fcs32.compute(data));
            assert_eq!(fcs32_register(&with32), 0xDEBB_20E3);
        }
    }

    /// A minimal LCP Configure-Request as pppd puts it on the wire (default map, so 0x03 and
    /// every option octet below 0x20 escaped); vector from Zephyr's modem_ppp test suite.
    const EMPTY_CONFREQ_WIRE: [u8; 17] = [
        0x7E, 0xFF, 0x7D, 0x23, 0xC0, 0x21, 0x7D, 0x21, 0x7D, 0x21, 0x7D, 0x20, 0x7D, 0x24, 0xD1,
        0xB5, 0x7E,
    ];

    /// pppd's usual Configure-Request: ACCM 0, Magic 0x5d58cf41, PFC, ACFC (Zephyr's PPP
    /// driver tests).
    const PPPD_CONFREQ_WIRE: [u8; 45] = [
        0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21, 0x7d, 0x21, 0x7d, 0x21, 0x7d, 0x20, 0x7d, 0x34, 0x7d,
        0x22, 0x7d, 0x26, 0x7d, 0x20, 0x7d, 0x20, 0x7d, 0x20, 0x7d, 0x20, 0x7d, 0x25, 0x7d, 0x26,
        0x5d, 0x58, 0xcf, 0x41, 0x7d, 0x27, 0x7d, 0x22, 0x7d, 0x28, 0x7d, 0x22, 0xc4, 0xc9, 0x7e,
    ];
    const PPPD_CONFREQ_INFO: [u8; 20] = [
        0x01, 0x01, 0x00, 0x14, 0x02, 0x06, 0x00, 0x00, 0x00, 0x00, 0x05, 0x06, 0x5d, 0x58, 0xcf,
        0x41, 0x07, 0x02, 0x08, 0x02,
    ];

    #[test]
    fn decodes_literal_frames() {
        let mut decoder = Decoder::default();
        let frames = decode_all(&mut decoder, &EMPTY_CONFREQ_WIRE);
        assert_eq!(
            frames,
            vec![Frame {
                protocol: Protocol::LCP,
                information: vec![0x01, 0x01, 0x00, 0x04]
            }]
        );
        let frames = decode_all(&mut decoder, &PPPD_CONFREQ_WIRE);
        assert_eq!(
            frames,
            vec![Frame {
                protocol: Protocol::LCP,
                information: PPPD_CONFREQ_INFO.to_vec()
            }]
        );
        assert_eq!(decoder.stats().frames, 2);
        assert_eq!(decoder.stats().discarded(), 0);
    }

    #[test]
    fn encodes_literal_frames_byte_for_byte() {
        let encoder = Encoder::default();
        assert_eq!(
            encoder.encode(Protocol::LCP, &[0x01, 0x01, 0x00, 0x04]),
            EMPTY_CONFREQ_WIRE
        );
        assert_eq!(
            encoder.encode(Protocol::LCP, &PPPD_CONFREQ_INFO),
            PPPD_CONFREQ_WIRE
        );
    }

    #[test]
    fn lcp_ignores_negotiated_compression_and_map() {
        let encoder = Encoder {
            accm: TransmitAccm::from_async_map(0),
            acfc: true,
            pfc: true,
            ..Encoder::default()
        };
        assert_eq!(
            encoder.encode(Protocol::LCP, &[0x01, 0x01, 0x00, 0x04]),
            EMPTY_CONFREQ_WIRE
        );
        // IPv4 with both compressions: no address/control, one-octet protocol 0x21.
        let frame = encoder.encode(Protocol::IPV4, &[0x45]);
        assert_eq!(&frame[..3], &[FLAG, 0x21, 0x45]);
    }

    #[test]
    fn handles_chunking_noise_and_missing_address_control() {
        let mut decoder = Decoder::default();
        let mut wire = b"CONNECT 33600\r\n".to_vec();
        wire.extend_from_slice(&EMPTY_CONFREQ_WIRE);
        let compressed = Encoder {
            acfc: true,
            pfc: true,
            ..Encoder::default()
        }
        .encode(Protocol::IPCP, &[1, 2, 0, 4]);
        wire.extend_from_slice(&compressed[1..]); // share the previous closing flag
        let mut frames = Vec::new();
        for chunk in wire.chunks(3) {
            decoder.decode(chunk, &mut frames);
        }
        assert_eq!(frames.len(), 2);
        assert_eq!(
            frames[1],
            Frame {
                protocol: Protocol::IPCP,
                information: vec![1, 2, 0, 4]
            }
        );
    }

    #[test]
    fn counts_bad_fcs_runts_aborts_and_oversize() {
        let mut decoder = Decoder::new(16);
        let mut corrupted = EMPTY_CONFREQ_WIRE;
        corrupted[14] ^= 0x01;
        assert!(decode_all(&mut decoder, &corrupted).is_empty());
        assert!(decode_all(&mut decoder, &[FLAG, 0x41, 0x42, FLAG]).is_empty());
        assert!(decode_all(&mut decoder, &[FLAG, 0xFF, 0x03, CONTROL_ESCAPE, FLAG]).is_empty());
        let big = Encoder::default().encode(Protocol::IPV4, &[0x55; 64]);
        assert!(decode_all(&mut decoder, &big).is_empty());
        let stats = decoder.stats();
        assert_eq!(
            (stats.bad_fcs, stats.runts, stats.aborted, stats.oversize),
            (1, 1, 1, 1)
        );
        // And it still decodes afterwards.
        assert_eq!(decode_all(&mut decoder, &EMPTY_CONFREQ_WIRE).len(), 1);
    }

    #[test]
    fn receive_map_drops_inserted_control_characters() {
        let mut wire = EMPTY_CONFREQ_WIRE.to_vec();
        wire.insert(5, 0x11); // an XON the modem slipped in
        let mut decoder = Decoder::default();
        assert_eq!(decode_all(&mut decoder, &wire).len(), 1);
        decoder.set_accm(ReceiveAccm(0));
        assert!(decode_all(&mut decoder, &wire).is_empty());
        assert_eq!(decoder.stats().bad_fcs, 1);
    }

    fn protocol_strategy() -> impl Strategy<Value = Protocol> {
        // RFC 1661 §2: low octet odd, high octet even.
        // 0x00FF is excluded: compressed to one octet it reads as the Address field (RFC 1661
        // §6.5 forbids compressing it for that reason).
        (0u8..=0x7F, 0u8..=0x7F)
            .prop_map(|(hi, lo)| Protocol(u16::from_be_bytes([hi << 1, (lo << 1) | 1])))
            .prop_filter("0x00FF is reserved", |p| p.0 != 0x00FF)
    }

    proptest! {
        #[test]
        fn encode_decode_round_trips(
            words in proptest::array::uniform8(any::<u32>()),
            acfc in any::<bool>(),
            pfc in any::<bool>(),
            fcs32 in any::<bool>(),
            protocol in protocol_strategy(),
            information in proptest::collection::vec(any::<u8>(), 0..200),
            chunk in 1usize..64,
        ) {
            let fcs = if fcs32 { FcsKind::Fcs32 } else { FcsKind::Fcs16 };
            let encoder = Encoder { accm: TransmitAccm::from_words(words), fcs, acfc, pfc };
            let wire = encoder.encode(protocol, &information);
            // Octets in the map never appear raw between the flags.
            let mut body = wire[1..wire.len() - 1].iter();
            while let Some(&byte) = body.next() {
                if byte == CONTROL_ESCAPE {
                    body.next();
                } else {
                    prop_assert!(!encoder.accm.escapes(byte), "{:#04x} sent raw", byte);
                }
            }
            let mut decoder = Decoder::default();
            decoder.set_fcs(fcs);
            // The receiver may discard the control characters the sender always escapes,
            // except those that are the escaped form (octet XOR 0x20) of an escaped
            // 0x20..0x3F: those arrive after 0x7D and must survive.
            decoder.set_accm(ReceiveAccm(words[0] & !words[1]));
            let mut frames = Vec::new();
            for piece in wire.chunks(chunk) {
                decoder.decode(piece, &mut frames);
            }
            prop_assert_eq!(frames, vec![Frame { protocol, information }]);
        }

        #[test]
        fn chunking_never_changes_what_is_decoded(
            // Octets drawn mostly from the ones the decoder treats specially.
            bytes in proptest::collection::vec(
                prop_oneof![Just(FLAG), Just(CONTROL_ESCAPE), Just(0x11u8), Just(0x5E), any::<u8>()],
                0..400,
            ),
            accm in any::<u32>(),
            chunk in 1usize..32,
        ) {
            let mut whole = Decoder::new(64);
            whole.set_accm(ReceiveAccm(accm));
            let mut chunked = whole.clone();
            let mut expected = Vec::new();
            whole.decode(&bytes, &mut expected);
            let mut frames = Vec::new();
            for piece in bytes.chunks(chunk) {
                chunked.decode(piece, &mut frames);
            }
            prop_assert_eq!(frames, expected);
            prop_assert_eq!(chunked.stats(), whole.stats());
        }

        #[test]
        fn decoding_random_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut decoder = Decoder::new(64);
            let mut frames = Vec::new();
            decoder.decode(&bytes, &mut frames);
            prop_assert!(frames.len() as u64 == decoder.stats().frames);
        }
    }
}
