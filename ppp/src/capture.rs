//! A line tap that writes the PPP frames crossing a serial line to a pcap file, for
//! Wireshark and tshark.
//!
//! The tap is given the raw line bytes of each direction as the dialer sent or received
//! them, with the time they crossed. Each direction has its own passive RFC 1662 deframer;
//! every frame it completes becomes one pcap record of link type `LINKTYPE_PPP_WITH_DIR`
//! (204 on the tcpdump.org link-layer header types page): a one-octet pseudo-header, zero
//! for a frame this host received and non-zero for one it sent, then the frame as RFC 1662
//! carries it between the flags, without the FCS.
//!
//! What the tap writes, and what it leaves out:
//! - Every frame is written with Address/Control (`ff 03`) and an uncompressed two-octet
//!   Protocol field, whatever ACFC/PFC compression put on the line (RFC 1661 §6.5, §6.6),
//!   so that a reader needs no negotiated state to dissect it.
//! - The tap discards no control character (its receive map is empty): it records what the
//!   line carried, not what a receiver with a negotiated map would keep.
//! - Bytes before the first flag (the modem's AT commands and result codes) are not PPP
//!   and are skipped.
//! - A frame whose FCS does not check cannot be marked as bad in a pcap record, so it is
//!   not written; it is counted in [`Capture::stats`] (`bad_fcs`) instead. Runts, aborted
//!   frames and frames whose Address/Control or Protocol field is invalid are counted the
//!   same way. Text the modem sends between two PPP sessions (`NO CARRIER` before a
//!   callback, say) ends up as one such discarded "frame".
//! - The FCS is checked as FCS-16 (RFC 1662 §C.2), the only FCS this project negotiates.
//!
//! The tap reads no clock: timestamps are the `now` the driver passes, counted from the
//! origin given to [`Capture::with_origin`] (the Unix epoch by default), so a simulated run
//! on a virtual clock writes a byte-identical file every time.

use std::io::Write;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, Endianness, PcapError, TsResolution};
use sansio::{Duration, Instant};

use crate::hdlc::{Decoder, DecoderStats, Frame, ReceiveAccm};
use crate::wire::ppp_frame::FrameRepr;

/// Which way bytes crossed the line, from the dialer's (this host's) point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Written to the line by this host.
    Sent,
    /// Read from the line by this host.
    Received,
}

impl Direction {
    /// The `LINKTYPE_PPP_WITH_DIR` pseudo-header octet (tcpdump.org link-layer header types:
    /// 0 = received by this host, non-zero = sent by this host; libpcap's `ppp.h` writes 1,
    /// `PPP_WITHDIRECTION_OUT`).
    pub const fn pseudo_header(self) -> u8 {
        match self {
            Direction::Sent => 1,
            Direction::Received => 0,
        }
    }
}

/// The largest record the tap writes: the pseudo-header, Address/Control, a two-octet
/// Protocol and an Information field of up to 65535 octets. It sits above libpcap's
/// default snapshot length of 65535, so the header says 262144 (libpcap's
/// `MAXIMUM_SNAPLEN`), which every reader accepts.
const SNAPLEN: u32 = 262_144;

/// Why the capture could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The underlying writer failed, or a record could not be represented (a timestamp
    /// past the year 2106 does not fit the pcap record's 32-bit seconds).
    #[error("cannot write the pcap capture: {0}")]
    Write(#[source] PcapError),
}

/// A pcap writer fed with raw line bytes (see the module documentation).
#[derive(Debug)]
pub struct Capture<W: Write> {
    writer: PcapWriter<W>,
    origin: Duration,
    sent: Decoder,
    received: Decoder,
    /// Frames finished by the current chunk (kept to reuse its allocation).
    frames: Vec<Frame>,
    /// The record being written (kept to reuse its allocation).
    record: Vec<u8>,
}

impl<W: Write> Capture<W> {
    /// A capture whose timestamps count from the Unix epoch: `Instant::ZERO` is
    /// 1970-01-01 00:00:00 UTC. Writes the pcap file header at once.
    pub fn new(writer: W) -> Result<Self, CaptureError> {
        Capture::with_origin(writer, Duration::ZERO)
    }

    /// A capture whose `Instant::ZERO` is `origin` after the Unix epoch (a realtime driver
    /// passes the wall-clock time its clock started at). Writes the pcap file header.
    pub fn with_origin(writer: W, origin: Duration) -> Result<Self, CaptureError> {
        let header = PcapHeader {
            snaplen: SNAPLEN,
            datalink: DataLink::PPP_WITH_DIR,
            ts_resolution: TsResolution::MicroSecond,
            // Fixed rather than native, so the same run writes the same bytes anywhere.
            endianness: Endianness::Little,
            ..PcapHeader::default()
        };
        let writer = PcapWriter::with_header(writer, header).map_err(CaptureError::Write)?;
        Ok(Capture {
            writer,
            origin,
            sent: tap_decoder(),
            received: tap_decoder(),
            frames: Vec::new(),
            record: Vec::new(),
        })
    }

    /// Take `bytes` that crossed the line in `direction` at `now`, and write a record for
    /// every frame they complete. Returns how many records were written.
    pub fn record(
        &mut self,
        now: Instant,
        direction: Direction,
        bytes: &[u8],
    ) -> Result<usize, CaptureError> {
        let decoder = match direction {
            Direction::Sent => &mut self.sent,
            Direction::Received => &mut self.received,
        };
        self.frames.clear();
        decoder.decode(bytes, &mut self.frames);
        let timestamp = self.origin + now.since_epoch();
        for frame in &self.frames {
            let repr = FrameRepr {
                address_control: true,
                compress_protocol: false,
                protocol: frame.protocol,
                information: &frame.information,
            };
            self.record.clear();
            self.record.resize(1 + repr.buffer_len(), 0);
            self.record[0] = direction.pseudo_header();
            repr.emit(&mut self.record[1..]);
            // The frame is whole, so the original length is the captured length. It fits
            // in u32: the decoder caps frames far below that.
            let length = u32::try_from(self.record.len()).unwrap_or(u32::MAX);
            self.writer
                .write_packet(&PcapPacket::new(timestamp, length, &self.record))
                .map_err(CaptureError::Write)?;
        }
        Ok(self.frames.len())
    }

    /// What the tap of `direction` has written and discarded so far.
    pub fn stats(&self, direction: Direction) -> DecoderStats {
        match direction {
            Direction::Sent => self.sent.stats(),
            Direction::Received => self.received.stats(),
        }
    }

    /// The writer, with everything recorded so far written to it.
    pub fn into_inner(self) -> W {
        self.writer.into_writer()
    }
}

/// A deframer that keeps everything the line carries: an empty receive map (nothing is
/// taken for line noise) and room for the largest Information field a peer may negotiate
/// (the MRU is a 16-bit field, RFC 1661 §6.1).
fn tap_decoder() -> Decoder {
    let mut decoder = Decoder::new(u16::MAX);
    decoder.set_accm(ReceiveAccm(0));
    decoder
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hdlc::{Encoder, TransmitAccm};
    use crate::wire::Protocol;
    use pcap_file::pcap::PcapReader;

    /// Every record of a capture: (timestamp, pseudo-header + frame).
    fn records(pcap: &[u8]) -> (PcapHeader, Vec<(Duration, Vec<u8>)>) {
        let mut reader = PcapReader::new(pcap).unwrap();
        let header = reader.header();
        let mut records = Vec::new();
        while let Some(packet) = reader.next_packet() {
            let packet = packet.unwrap();
            assert_eq!(packet.orig_len as usize, packet.data.len());
            records.push((packet.timestamp, packet.data.into_owned()));
        }
        (header, records)
    }

    const CONFREQ: [u8; 4] = [0x01, 0x01, 0x00, 0x04];

    #[test]
    fn writes_each_direction_as_ppp_with_dir_records() {
        let mut capture = Capture::new(Vec::new()).unwrap();
        let encoder = Encoder::default();
        let at = |millis| Instant::ZERO + Duration::from_millis(millis);
        // The dialer's AT chatter, then its Configure-Request split over two reads.
        let mut sent = b"ATDT5551234\r".to_vec();
        sent.extend(encoder.encode(Protocol::LCP, &CONFREQ));
        let (first, second) = sent.split_at(15);
        assert_eq!(capture.record(at(1), Direction::Sent, first).unwrap(), 0);
        assert_eq!(capture.record(at(2), Direction::Sent, second).unwrap(), 1);
        // The modem's answer and the server's request, in one read.
        let mut received = b"\r\nCONNECT 33600\r\n".to_vec();
        received.extend(encoder.encode(Protocol::LCP, &[0x01, 0x07, 0x00, 0x04]));
        assert_eq!(
            capture
                .record(at(1500), Direction::Received, &received)
                .unwrap(),
            1
        );
        let (header, records) = records(&capture.into_inner());
        assert_eq!(header.datalink, DataLink::PPP_WITH_DIR);
        assert_eq!(
            records,
            vec![
                (
                    Duration::from_millis(2),
                    vec![1, 0xFF, 0x03, 0xC0, 0x21, 0x01, 0x01, 0x00, 0x04]
                ),
                (
                    Duration::from_millis(1500),
                    vec![0, 0xFF, 0x03, 0xC0, 0x21, 0x01, 0x07, 0x00, 0x04]
                ),
            ]
        );
    }

    #[test]
    fn expands_compressed_headers_and_keeps_control_characters() {
        let mut capture =
            Capture::with_origin(Vec::new(), Duration::from_secs(1_700_000_000)).unwrap();
        // ACFC, PFC and an empty transmit map: 0x11 and 0x13 go out raw, and the tap must
        // not take them for inserted XON/XOFF.
        let encoder = Encoder {
            accm: TransmitAccm::from_async_map(0),
            acfc: true,
            pfc: true,
            ..Encoder::default()
        };
        let datagram = [0x45, 0x00, 0x11, 0x13, 0x7E, 0x7D];
        let wire = encoder.encode(Protocol::IPV4, &datagram);
        assert_eq!(&wire[..2], &[0x7E, 0x21]);
        let now = Instant::ZERO + Duration::from_micros(250);
        assert_eq!(capture.record(now, Direction::Sent, &wire).unwrap(), 1);
        let (_, records) = records(&capture.into_inner());
        let mut expected = vec![1, 0xFF, 0x03, 0x00, 0x21];
        expected.extend(datagram);
        assert_eq!(
            records,
            vec![(Duration::new(1_700_000_000, 250_000), expected)]
        );
    }

    #[test]
    fn counts_bad_frames_instead_of_writing_them() {
        let mut capture = Capture::new(Vec::new()).unwrap();
        let good = Encoder::default().encode(Protocol::PAP, &[0x01, 0x01, 0x00, 0x06, 0, 0]);
        let mut corrupted = good.clone();
        corrupted[6] ^= 0x40;
        let mut line = corrupted;
        line.extend(&good[1..]); // share the flag
        assert_eq!(
            capture
                .record(Instant::ZERO, Direction::Received, &line)
                .unwrap(),
            1
        );
        let stats = capture.stats(Direction::Received);
        assert_eq!((stats.frames, stats.bad_fcs), (1, 1));
        assert_eq!(capture.stats(Direction::Sent).frames, 0);
        assert_eq!(records(&capture.into_inner()).1.len(), 1);
    }

    #[test]
    fn the_same_input_gives_the_same_bytes() {
        let run = || {
            let mut capture = Capture::new(Vec::new()).unwrap();
            let wire = Encoder::default().encode(Protocol::IPCP, &CONFREQ);
            capture
                .record(Instant::from_nanos(123_456_789), Direction::Sent, &wire)
                .unwrap();
            capture.into_inner()
        };
        assert_eq!(run(), run());
    }

    proptest::proptest! {
        #[test]
        fn any_line_bytes_give_a_readable_pcap(
            chunks in proptest::collection::vec(
                (proptest::bool::ANY, proptest::collection::vec(
                    proptest::prop_oneof![
                        proptest::strategy::Just(0x7Eu8),
                        proptest::strategy::Just(0x7D),
                        proptest::num::u8::ANY,
                    ],
                    0..64,
                )),
                0..16,
            ),
        ) {
            let mut capture = Capture::new(Vec::new()).unwrap();
            let encoder = Encoder::default();
            for (index, (sent, bytes)) in chunks.iter().enumerate() {
                let direction = if *sent { Direction::Sent } else { Direction::Received };
                let now = Instant::from_nanos(index as u64 * 1_000_000);
                capture.record(now, direction, bytes).unwrap();
                // And a good frame now and then, so records are written too.
                let frame = encoder.encode(Protocol::IPCP, bytes);
                capture.record(now, direction, &frame).unwrap();
            }
            let written = capture.stats(Direction::Sent).frames
                + capture.stats(Direction::Received).frames;
            let (_, records) = records(&capture.into_inner());
            proptest::prop_assert_eq!(records.len() as u64, written);
        }
    }

    /// A writer that refuses everything.
    struct Full;
    impl Write for Full {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn writer_failures_are_errors() {
        assert!(matches!(Capture::new(Full), Err(CaptureError::Write(_))));
        // A timestamp past what pcap's 32-bit seconds can hold.
        let mut capture = Capture::new(Vec::new()).unwrap();
        let wire = Encoder::default().encode(Protocol::LCP, &CONFREQ);
        let far = Instant::ZERO + Duration::from_secs(u64::from(u32::MAX) + 1);
        assert!(matches!(
            capture.record(far, Direction::Sent, &wire),
            Err(CaptureError::Write(_))
        ));
    }
}
