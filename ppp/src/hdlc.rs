//! RFC 1662 asynchronous HDLC-like framing: flag sequence, control-escape transparency with
//! the Async-Control-Character-Map, and the Frame Check Sequence (FCS-16 or FCS-32).
//!
//! The [`Decoder`] is a streaming deframer: feed it byte chunks of any size and it yields whole
//! PPP frames. It never panics, whatever arrives; frames that fail a check are dropped and
//! counted in [`DecoderStats`]. The [`Encoder`] frames a protocol and information field
//! under the negotiated transmit map and compression options.

use crc::{CRC_16_IBM_SDLC, CRC_32_ISO_HDLC, Crc};
use crc_fast::CrcAlgorithm;
use std::fmt;
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

/// RFC 1662 Appendix C (§C.2): the CRC the X.25/HDLC FCS-16 uses, octet at a time with the
/// §C.2 table, for the header octets in front of an information field (at most four).
static FCS16_HEADER: Crc<u16> = Crc::<u16>::new(&CRC_16_IBM_SDLC);
/// RFC 1662 Appendix C (§C.3): the CRC the 32-bit FCS uses, for the header octets likewise.
static FCS32_HEADER: Crc<u32> = Crc::<u32>::new(&CRC_32_ISO_HDLC);
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
        self.over(&[], bytes)[..self.octets()].to_vec()
    }

    /// The FCS over `header` then `information`, least significant octet first; only the
    /// first [`FcsKind::octets`] of the four are meaningful.
    ///
    /// The few header octets go through the octet-at-a-time table; the information field,
    /// where the length is, through `crc-fast`'s carry-less-multiply folding, started from
    /// the register the header left.
    fn over(self, header: &[u8], information: &[u8]) -> [u8; 4] {
        match self {
            FcsKind::Fcs16 => {
                let mut digest = FCS16_HEADER.digest();
                digest.update(header);
                let register = digest.finalize() ^ 0xFFFF;
                let mut rest =
                    crc_fast::Digest::new_with_init_state(self.algorithm(), register.into());
                rest.update(information);
                // A 16-bit algorithm leaves a 16-bit value.
                let [low, high, ..] = rest.finalize().to_le_bytes();
                [low, high, 0, 0]
            }
            FcsKind::Fcs32 => {
                let mut digest = FCS32_HEADER.digest();
                digest.update(header);
                let register = digest.finalize() ^ 0xFFFF_FFFF;
                let mut rest =
                    crc_fast::Digest::new_with_init_state(self.algorithm(), register.into());
                rest.update(information);
                let [b0, b1, b2, b3, ..] = rest.finalize().to_le_bytes();
                [b0, b1, b2, b3]
            }
        }
    }

    /// The catalogue algorithm: CRC-16/IBM-SDLC (X.25) for FCS-16, CRC-32/ISO-HDLC for
    /// FCS-32 (RFC 1662 Appendix C).
    const fn algorithm(self) -> CrcAlgorithm {
        match self {
            FcsKind::Fcs16 => CrcAlgorithm::Crc16IbmSdlc,
            FcsKind::Fcs32 => CrcAlgorithm::Crc32IsoHdlc,
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
    // The algorithm is 16 bits wide: the upper bits of the result are zero.
    let checksum = crc_fast::checksum(CrcAlgorithm::Crc16IbmSdlc, bytes) as u16;
    checksum ^ 0xFFFF
}

/// The RFC 1662 §C.3 `pppfcs32` register after running over `bytes` from 0xFFFFFFFF.
pub fn fcs32_register(bytes: &[u8]) -> u32 {
    // The algorithm is 32 bits wide: the upper bits of the result are zero.
    let checksum = crc_fast::checksum(CrcAlgorithm::Crc32IsoHdlc, bytes) as u32;
    checksum ^ 0xFFFF_FFFF
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
///
/// The map is kept as the wire form of every octet (itself, or Control Escape and the octet
/// XOR 0x20), built once when the map is made, so the encoder does one table look-up per
/// octet and no branch.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TransmitAccm {
    words: [u32; 8],
    /// What each octet becomes on the wire: `[octet, _]` sent as itself (the second octet
    /// is scratch), `[CONTROL_ESCAPE, octet ^ ESCAPE_XOR]` escaped.
    wire: [[u8; 2]; 256],
    /// Only Flag and Control Escape are escaped: the encoder copies the runs between them.
    escapes_only_framing: bool,
}

impl TransmitAccm {
    /// RFC 1662 §7.1: every control character escaped (plus 0x7D, 0x7E).
    pub const DEFAULT: TransmitAccm = TransmitAccm::from_words([0xFFFF_FFFF, 0, 0, 0, 0, 0, 0, 0]);

    /// The map with the 32 control characters taken from a negotiated ACCM option and all
    /// other octets clear (except the always-escaped 0x7D and 0x7E).
    pub const fn from_async_map(map: u32) -> Self {
        TransmitAccm::from_words([map, 0, 0, 0, 0, 0, 0, 0])
    }

    /// The full 256-bit map.
    pub const fn from_words(words: [u32; 8]) -> Self {
        let mut wire = [[0; 2]; 256];
        let mut escapes_only_framing = true;
        let mut index = 0;
        while index < wire.len() {
            let octet = index as u8;
            // 0x5E is never escaped, whatever the map says: escaped it would read 0x7D 0x7E,
            // the abort sequence (RFC 1662 §4.2).
            let mapped = octet != FLAG ^ ESCAPE_XOR && words[index / 32] & (1 << (index % 32)) != 0;
            let framing = octet == FLAG || octet == CONTROL_ESCAPE;
            wire[index] = if mapped || framing {
                [CONTROL_ESCAPE, octet ^ ESCAPE_XOR]
            } else {
                [octet, octet]
            };
            if mapped && !framing {
                escapes_only_framing = false;
            }
            index += 1;
        }
        TransmitAccm {
            words,
            wire,
            escapes_only_framing,
        }
    }

    /// Whether `byte` is sent escaped (RFC 1662 §4.2).
    pub fn escapes(&self, byte: u8) -> bool {
        // Only an escaped octet's wire form starts with Control Escape: 0x7D itself is.
        self.wire[usize::from(byte)][0] == CONTROL_ESCAPE
    }
}

impl fmt::Debug for TransmitAccm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The wire table follows from the words.
        f.debug_tuple("TransmitAccm").field(&self.words).finish()
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
    /// What each line octet is to the unescaping pass, from the map: see [`octet_classes`].
    classes: [u8; 256],
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
            classes: octet_classes(ReceiveAccm::DEFAULT),
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
        self.classes = octet_classes(accm);
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
        if !self.synchronised {
            // Noise before the first flag (a modem's result codes, say).
            let Some(at) = memchr::memchr(FLAG, bytes) else {
                return;
            };
            bytes = &bytes[at..];
            self.synchronised = true;
        }
        // Between flags, found by a vectorised search, the content is unescaped in one pass.
        while !bytes.is_empty() {
            let at = memchr::memchr(FLAG, bytes).unwrap_or(bytes.len());
            let (content, rest) = bytes.split_at(at);
            self.unescape(content);
            let Some((_flag, rest)) = rest.split_first() else {
                return;
            };
            if self.escaped {
                // RFC 1662 §4.2: Control Escape immediately before the closing flag aborts
                // the frame.
                self.stats.aborted += 1;
                self.restart();
            } else if let Some(frame) = self.finish_frame() {
                frames.push(frame);
            }
            bytes = rest;
        }
    }

    /// Append the unescaped form of `content` (line octets with no flag among them).
    ///
    /// Under a receive map of 0, [`Decoder::unescape_runs`]. Otherwise one branch-free
    /// pass assumes the content is regular, as any RFC 1662 sender makes it: nothing the
    /// receive map discards, no Control Escape escaped. It notes as it goes whether that
    /// held; when it did not (line noise, a peer escaping 0x7D as 0x7D 0x7D), the pass is
    /// undone and [`Decoder::unescape_each`] takes the octets one by one.
    fn unescape(&mut self, content: &[u8]) {
        // The fast pass writes all of `content` before it checks the length: keep that
        // bounded by the longest a frame can be on the wire, every octet escaped.
        if self.overflowed
            || content.is_empty()
            || self.buffer.len() + content.len() > 2 * self.max_frame_len
        {
            self.unescape_each(content);
            return;
        }
        if self.accm == ReceiveAccm(0) {
            self.unescape_runs(content);
            return;
        }
        let start = self.buffer.len();
        self.buffer.resize(start + content.len(), 0);
        // Slices of their own, so the loop keeps pointers and lengths in registers.
        let classes = &self.classes;
        let room = &mut self.buffer[start..];
        let mut end = 0;
        // The XOR the next octet takes: ESCAPE_XOR right after Control Escape, else 0.
        let mut xor = if self.escaped { ESCAPE_XOR } else { 0 };
        let mut irregular = 0;
        // Eight octets at a time into an 8-octet window, as the encoder does: `end`
        // never passes the octets seen, so the window is always inside `room`.
        let mut octets = content.chunks_exact(8);
        for eight in &mut octets {
            let window = &mut room[end..end + 8];
            let mut kept = 0;
            for &byte in eight {
                kept += unescape_octet(classes, byte, &mut xor, &mut irregular, window, kept, 7);
            }
            end += kept;
        }
        for &byte in octets.remainder() {
            end += unescape_octet(
                classes,
                byte,
                &mut xor,
                &mut irregular,
                room,
                end,
                usize::MAX,
            );
        }
        if irregular != 0 {
            self.buffer.truncate(start);
            self.unescape_each(content);
            return;
        }
        self.buffer.truncate(start + end);
        self.escaped = xor != 0;
        if self.buffer.len() > self.max_frame_len {
            self.overflowed = true;
            self.buffer.clear();
        }
    }

    /// [`Decoder::unescape`] under a receive map of 0 (what LCP negotiates on most
    /// links): nothing is discarded and escapes are rare, so a vectorised search finds
    /// each Control Escape and the runs between are copied whole.
    fn unescape_runs(&mut self, mut content: &[u8]) {
        loop {
            if std::mem::take(&mut self.escaped) {
                // RFC 1662 §4.2: the octet after Control Escape, whatever it is, XOR 0x20.
                let Some((&byte, rest)) = content.split_first() else {
                    self.escaped = true;
                    return;
                };
                self.push(byte ^ ESCAPE_XOR);
                content = rest;
            }
            let at = memchr::memchr(CONTROL_ESCAPE, content).unwrap_or(content.len());
            let (run, rest) = content.split_at(at);
            self.push_run(run);
            let Some((_escape, rest)) = rest.split_first() else {
                return;
            };
            self.escaped = true;
            content = rest;
        }
    }

    /// Append a run of unescaped octets, or note that the frame outgrew the limit.
    fn push_run(&mut self, run: &[u8]) {
        if self.overflowed {
            return;
        }
        if self.buffer.len() + run.len() > self.max_frame_len {
            self.overflowed = true;
            self.buffer.clear();
            return;
        }
        self.buffer.extend_from_slice(run);
    }

    /// [`Decoder::unescape`] octet by octet, for content that is not regular.
    fn unescape_each(&mut self, content: &[u8]) {
        for &byte in content {
            if self.accm.discards(byte) {
                // A control character the line inserted (RFC 1662 §7.1).
                continue;
            }
            // RFC 1662 §4.2: the octet after Control Escape is taken XOR 0x20, whatever it
            // is (0x7D 0x7D carries 0x5D).
            if std::mem::take(&mut self.escaped) {
                self.push(byte ^ ESCAPE_XOR);
            } else if byte == CONTROL_ESCAPE {
                self.escaped = true;
            } else {
                self.push(byte);
            }
        }
    }

    /// Append an unescaped octet, or note that the frame outgrew the limit (its octets are
    /// then dropped until the next flag).
    fn push(&mut self, octet: u8) {
        if self.overflowed {
            return;
        }
        if self.buffer.len() >= self.max_frame_len {
            self.overflowed = true;
            self.buffer.clear();
            return;
        }
        self.buffer.push(octet);
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

/// One octet of the decoder's branch-free pass: store `byte` (XOR `xor`, the escape the
/// octet before it set) at `room[at & mask]` and return 1 if it stays, 0 for Control
/// Escape, which the next octet overwrites (RFC 1662 §4.2). `irregular` collects what the
/// pass cannot take: an escaped Control Escape, a discarded octet. `mask` as for
/// [`escape_octet`].
#[inline(always)]
fn unescape_octet(
    classes: &[u8; 256],
    byte: u8,
    xor: &mut u8,
    irregular: &mut u8,
    room: &mut [u8],
    at: usize,
    mask: usize,
) -> usize {
    let class = classes[usize::from(byte)];
    room[at & mask] = byte ^ *xor;
    *irregular |= class & (*xor | CLASS_DISCARD);
    *xor = class & CLASS_ESCAPE;
    usize::from(class & CLASS_ESCAPE == 0)
}

/// [`octet_classes`]: Control Escape. The same bit as [`ESCAPE_XOR`], so that the class of
/// an octet is also the XOR the octet after it takes.
const CLASS_ESCAPE: u8 = ESCAPE_XOR;
/// [`octet_classes`]: a control character the receive map discards (RFC 1662 §7.1).
const CLASS_DISCARD: u8 = 1;

/// The unescaping pass's table: [`CLASS_ESCAPE`] for 0x7D, [`CLASS_DISCARD`] for the
/// octets `accm` discards, 0 for the octets that stand for themselves.
fn octet_classes(accm: ReceiveAccm) -> [u8; 256] {
    std::array::from_fn(|index| match u8::try_from(index) {
        Ok(CONTROL_ESCAPE) => CLASS_ESCAPE,
        Ok(octet) if accm.discards(octet) => CLASS_DISCARD,
        _ => 0,
    })
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
        let fcs = self.fcs.over(header_octets, information);
        let accm = if is_lcp {
            &TransmitAccm::DEFAULT
        } else {
            &self.accm
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

/// Store `byte`'s wire form at `room[at & mask]` and return how many octets it took.
/// Both octets of the form are stored; the second is overwritten by the next octet unless
/// the first was Control Escape. `mask` is all ones, or a window's length less one so the
/// compiler sees the offset in range (the caller keeps it there).
#[inline(always)]
fn escape_octet(accm: &TransmitAccm, byte: u8, room: &mut [u8], at: usize, mask: usize) -> usize {
    let wire = accm.wire[usize::from(byte)];
    room[at & mask] = wire[0];
    room[(at + 1) & mask] = wire[1];
    1 + usize::from(wire[0] == CONTROL_ESCAPE)
}

/// Append `bytes` to `out` with every octet the map names escaped (RFC 1662 §4.2).
///
/// Under a map that escapes only Flag and Control Escape (a negotiated map of 0), escapes
/// are rare: a vectorised search finds them and the runs between are copied whole. Under
/// any other map (the default one escapes every control character, about one octet in
/// eight of binary data) runs are short and a search per escape costs more than it saves:
/// each octet's wire form comes from the map's table and is stored without a branch.
fn escape_into(accm: &TransmitAccm, bytes: &[u8], out: &mut Vec<u8>) {
    if accm.escapes_only_framing {
        let mut bytes = bytes;
        while let Some(at) = memchr::memchr2(FLAG, CONTROL_ESCAPE, bytes) {
            let (plain, rest) = bytes.split_at(at);
            out.extend_from_slice(plain);
            let Some((&byte, rest)) = rest.split_first() else {
                return;
            };
            out.extend_from_slice(&[CONTROL_ESCAPE, byte ^ ESCAPE_XOR]);
            bytes = rest;
        }
        out.extend_from_slice(bytes);
        return;
    }
    let start = out.len();
    // Room for every octet escaped; what is not used is cut off below.
    out.resize(start + 2 * bytes.len(), 0);
    // A slice of its own, so the loops keep its pointer and length in registers.
    let room = &mut out[start..];
    let mut end = 0;
    // Eight octets at a time into a 16-octet window: one bounds check per window, and
    // offsets within it the compiler sees are in range (the mask never changes them:
    // eight octets take at most 16). The window, and each slot the remainder takes, is
    // always inside `room`: `end` is at most twice the octets taken so far.
    let mut octets = bytes.chunks_exact(8);
    for eight in &mut octets {
        let window = &mut room[end..end + 16];
        let mut taken = 0;
        for &byte in eight {
            taken += escape_octet(accm, byte, window, taken, 15);
        }
        end += taken;
    }
    for &byte in octets.remainder() {
        end += escape_octet(accm, byte, room, end, usize::MAX);
    }
    out.truncate(start + end);
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

    /// The FCS register after `bytes`, bit by bit from the RFC 1662 §C.2/§C.3 definition
    /// (reflected polynomials 0x8408 and 0xEDB88320, all-ones start): the reference the
    /// table and SIMD versions are checked against.
    fn reference_register(fcs: FcsKind, bytes: &[u8]) -> u32 {
        let (mut register, polynomial): (u32, u32) = match fcs {
            FcsKind::Fcs16 => (0xFFFF, 0x8408),
            FcsKind::Fcs32 => (0xFFFF_FFFF, 0xEDB8_8320),
        };
        for &byte in bytes {
            register ^= u32::from(byte);
            for _ in 0..8 {
                register = if register & 1 != 0 {
                    (register >> 1) ^ polynomial
                } else {
                    register >> 1
                };
            }
        }
        register
    }

    /// RFC 1662 framing written as plainly as possible: one octet at a time, the map read
    /// bit by bit, the FCS from [`reference_register`].
    fn reference_encode(
        words: [u32; 8],
        fcs: FcsKind,
        acfc: bool,
        pfc: bool,
        protocol: Protocol,
        information: &[u8],
    ) -> Vec<u8> {
        let is_lcp = protocol == Protocol::LCP;
        let words = if is_lcp {
            [u32::MAX, 0, 0, 0, 0, 0, 0, 0]
        } else {
            words
        };
        let mut content = Vec::new();
        if !acfc || is_lcp {
            content.extend([ADDRESS_ALL_STATIONS, CONTROL_UI]);
        }
        if pfc && !is_lcp && protocol.0 < 0x100 {
            content.push(protocol.0 as u8);
        } else {
            content.extend(protocol.0.to_be_bytes());
        }
        content.extend_from_slice(information);
        let register = !reference_register(fcs, &content);
        content.extend(&register.to_le_bytes()[..fcs.octets()]);
        let mut wire = vec![FLAG];
        for octet in content {
            let mapped = words[usize::from(octet / 32)] & (1 << (octet % 32)) != 0;
            if octet == FLAG || octet == CONTROL_ESCAPE || (mapped && octet != 0x5E) {
                wire.extend([CONTROL_ESCAPE, octet ^ ESCAPE_XOR]);
            } else {
                wire.push(octet);
            }
        }
        wire.push(FLAG);
        wire
    }

    /// RFC 1662 deframing written as plainly as possible: one octet at a time through the
    /// whole stream, with the same outcome counts as [`Decoder`].
    fn reference_decode(
        bytes: &[u8],
        accm: u32,
        fcs: FcsKind,
        mru: u16,
    ) -> (Vec<Frame>, DecoderStats) {
        let max = usize::from(mru) + 2 + 2 + 4;
        let (mut frames, mut stats) = (Vec::new(), DecoderStats::default());
        let (mut synchronised, mut escaped, mut overflowed) = (false, false, false);
        let mut content = Vec::new();
        for &byte in bytes {
            if byte == FLAG {
                if escaped {
                    stats.aborted += 1;
                } else if overflowed {
                    stats.oversize += 1;
                } else if content.is_empty() {
                    // Inter-frame fill.
                } else if content.len() < fcs.octets() + 1 {
                    stats.runts += 1;
                } else if reference_register(fcs, &content)
                    != match fcs {
                        FcsKind::Fcs16 => u32::from(GOOD_FCS16),
                        FcsKind::Fcs32 => GOOD_FCS32,
                    }
                {
                    stats.bad_fcs += 1;
                } else {
                    match ppp_frame::FrameRepr::parse(&content[..content.len() - fcs.octets()]) {
                        Ok(repr) => {
                            stats.frames += 1;
                            frames.push(Frame {
                                protocol: repr.protocol,
                                information: repr.information.to_vec(),
                            });
                        }
                        Err(_) => stats.malformed += 1,
                    }
                }
                content.clear();
                (synchronised, escaped, overflowed) = (true, false, false);
                continue;
            }
            if !synchronised || (byte < 0x20 && accm & (1 << byte) != 0) {
                continue;
            }
            let octet = if escaped {
                escaped = false;
                byte ^ ESCAPE_XOR
            } else if byte == CONTROL_ESCAPE {
                escaped = true;
                continue;
            } else {
                byte
            };
            if overflowed {
                continue;
            }
            if content.len() >= max {
                overflowed = true;
                content.clear();
                continue;
            }
            content.push(octet);
        }
        (frames, stats)
    }

    fn fcs_strategy() -> impl Strategy<Value = FcsKind> {
        prop_oneof![Just(FcsKind::Fcs16), Just(FcsKind::Fcs32)]
    }

    /// A line's worth of octets: whole frames under assorted maps, with noise, stray
    /// control characters, doubled escapes and aborts between and inside them.
    fn line_strategy() -> impl Strategy<Value = Vec<u8>> {
        let frame = (
            proptest::array::uniform8(prop_oneof![Just(0u32), Just(u32::MAX), any::<u32>()]),
            protocol_strategy(),
            proptest::collection::vec(any::<u8>(), 0..120),
        )
            .prop_map(|(words, protocol, information)| {
                Encoder {
                    accm: TransmitAccm::from_words(words),
                    ..Encoder::default()
                }
                .encode(protocol, &information)
            });
        let noise = proptest::collection::vec(
            prop_oneof![
                Just(FLAG),
                Just(CONTROL_ESCAPE),
                Just(0x11u8),
                Just(0x5E),
                any::<u8>()
            ],
            0..24,
        );
        proptest::collection::vec(prop_oneof![3 => frame, 1 => noise], 0..12)
            .prop_map(|pieces| pieces.concat())
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
            // Octets in the map never appear raw between the flags. LCP always goes out
            // under the default map (RFC 1662 §7.1), whatever was negotiated.
            let map = if protocol == Protocol::LCP { &TransmitAccm::DEFAULT } else { &encoder.accm };
            let mut body = wire[1..wire.len() - 1].iter();
            while let Some(&byte) = body.next() {
                if byte == CONTROL_ESCAPE {
                    body.next();
                } else {
                    prop_assert!(!map.escapes(byte), "{:#04x} sent raw", byte);
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
        fn fcs_equals_the_bitwise_definition(
            fcs in fcs_strategy(),
            header in proptest::collection::vec(any::<u8>(), 0..5),
            information in proptest::collection::vec(any::<u8>(), 0..700),
        ) {
            let mut whole = header.clone();
            whole.extend_from_slice(&information);
            let register = reference_register(fcs, &whole);
            let expected = (!register).to_le_bytes();
            prop_assert_eq!(&fcs.over(&header, &information)[..fcs.octets()], &expected[..fcs.octets()]);
            let measured = match fcs {
                FcsKind::Fcs16 => u32::from(fcs16_register(&whole)),
                FcsKind::Fcs32 => fcs32_register(&whole),
            };
            prop_assert_eq!(measured, register);
        }

        #[test]
        fn encoder_equals_the_reference(
            words in proptest::array::uniform8(prop_oneof![Just(0u32), Just(u32::MAX), any::<u32>()]),
            acfc in any::<bool>(),
            pfc in any::<bool>(),
            fcs in fcs_strategy(),
            protocol in prop_oneof![Just(Protocol::LCP), protocol_strategy()],
            information in proptest::collection::vec(any::<u8>(), 0..600),
        ) {
            let encoder = Encoder { accm: TransmitAccm::from_words(words), fcs, acfc, pfc };
            prop_assert_eq!(
                encoder.encode(protocol, &information),
                reference_encode(words, fcs, acfc, pfc, protocol, &information)
            );
        }

        #[test]
        fn decoder_equals_the_reference(
            line in line_strategy(),
            accm in prop_oneof![Just(0u32), Just(u32::MAX), any::<u32>()],
            fcs in fcs_strategy(),
            mru in prop_oneof![Just(16u16), Just(64), Just(DEFAULT_MRU)],
            chunk in 1usize..200,
        ) {
            let (expected, expected_stats) = reference_decode(&line, accm, fcs, mru);
            let mut decoder = Decoder::new(mru);
            decoder.set_accm(ReceiveAccm(accm));
            decoder.set_fcs(fcs);
            let mut frames = Vec::new();
            for piece in line.chunks(chunk) {
                decoder.decode(piece, &mut frames);
            }
            prop_assert_eq!(frames, expected);
            prop_assert_eq!(decoder.stats(), expected_stats);
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
