//! The Multilink header (RFC 1990 §3): the first octets of the Information field of a
//! Protocol 0x003d frame, then a fragment of the bundle's packet.
//!
//! ```text
//! long (default):  |B|E|0|0|0|0|0|0| sequence (24 bits) ............ |
//! short (§5.1.2):  |B|E|0|0| sequence (12 bits) |
//! ```
//!
//! B marks a packet's first fragment, E its last; a packet sent whole has both.

use std::fmt;

use super::WireError;

/// RFC 1990 §3: the (B)eginning fragment bit.
const BEGIN: u8 = 0x80;
/// RFC 1990 §3: the (E)nding fragment bit.
const END: u8 = 0x40;

/// Which sequence number format a direction of the bundle uses (RFC 1990 §3, §5.1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SequenceFormat {
    /// 24-bit sequence numbers in a 4-octet header (the default).
    Long,
    /// 12-bit sequence numbers in a 2-octet header, when the receiver asked for them with
    /// the Short Sequence Number Header Format option.
    Short,
}

impl SequenceFormat {
    /// Octets of header before the fragment data.
    pub const fn header_len(self) -> usize {
        match self {
            SequenceFormat::Long => 4,
            SequenceFormat::Short => 2,
        }
    }

    /// Bits in the sequence number.
    pub const fn bits(self) -> u32 {
        match self {
            SequenceFormat::Long => 24,
            SequenceFormat::Short => 12,
        }
    }

    /// The largest sequence number; the next one is zero again.
    pub const fn max_sequence(self) -> u32 {
        (1 << self.bits()) - 1
    }
}

/// A checked view over a Multilink Information field.
#[derive(Debug, Clone)]
pub struct MpPacket<T: AsRef<[u8]>> {
    buffer: T,
    format: SequenceFormat,
}

impl<T: AsRef<[u8]>> MpPacket<T> {
    /// Wrap without checking; accessors may panic on short buffers.
    pub fn new_unchecked(buffer: T, format: SequenceFormat) -> Self {
        MpPacket { buffer, format }
    }

    /// Wrap after checking that the header is there.
    pub fn new_checked(buffer: T, format: SequenceFormat) -> Result<Self, WireError> {
        let len = buffer.as_ref().len();
        if len < format.header_len() {
            return Err(WireError::Truncated {
                what: "MP header",
                len,
                need: format.header_len(),
            });
        }
        Ok(MpPacket { buffer, format })
    }

    /// The header format this view reads.
    pub fn format(&self) -> SequenceFormat {
        self.format
    }

    /// The (B)eginning fragment bit.
    pub fn begin(&self) -> bool {
        self.buffer.as_ref()[0] & BEGIN != 0
    }

    /// The (E)nding fragment bit.
    pub fn end(&self) -> bool {
        self.buffer.as_ref()[0] & END != 0
    }

    /// The sequence number. The reserved bits between E and the number are ignored, as
    /// RFC 1990 §3 has the sender set them to zero and gives them no meaning.
    pub fn sequence(&self) -> u32 {
        let b = self.buffer.as_ref();
        match self.format {
            SequenceFormat::Long => u32::from_be_bytes([0, b[1], b[2], b[3]]),
            SequenceFormat::Short => u32::from(u16::from_be_bytes([b[0] & 0x0f, b[1]])),
        }
    }

    /// The fragment data after the header.
    pub fn fragment(&self) -> &[u8] {
        &self.buffer.as_ref()[self.format.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> MpPacket<T> {
    /// Write the header: both bits, zero reserved bits, and `sequence` truncated to the
    /// format's width.
    pub fn set_header(&mut self, begin: bool, end: bool, sequence: u32) {
        let flags = if begin { BEGIN } else { 0 } | if end { END } else { 0 };
        let sequence = sequence & self.format.max_sequence();
        let b = self.buffer.as_mut();
        match self.format {
            SequenceFormat::Long => {
                let [_, s1, s2, s3] = sequence.to_be_bytes();
                b[..4].copy_from_slice(&[flags, s1, s2, s3]);
            }
            SequenceFormat::Short => {
                let [_, _, s2, s3] = sequence.to_be_bytes();
                b[..2].copy_from_slice(&[flags | s2, s3]);
            }
        }
    }

    /// The fragment data, up to the end of the buffer.
    pub fn fragment_mut(&mut self) -> &mut [u8] {
        let start = self.format.header_len();
        &mut self.buffer.as_mut()[start..]
    }
}

/// A parsed Multilink header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpRepr {
    /// The (B)eginning fragment bit.
    pub begin: bool,
    /// The (E)nding fragment bit.
    pub end: bool,
    /// The sequence number, within the format's width.
    pub sequence: u32,
    /// The header format.
    pub format: SequenceFormat,
}

impl MpRepr {
    /// Parse a checked packet's header.
    pub fn parse<T: AsRef<[u8]>>(packet: &MpPacket<T>) -> Self {
        MpRepr {
            begin: packet.begin(),
            end: packet.end(),
            sequence: packet.sequence(),
            format: packet.format(),
        }
    }

    /// Octets of header [`MpRepr::emit`] writes.
    pub fn header_len(&self) -> usize {
        self.format.header_len()
    }

    /// Write the header into `packet`, whose buffer is at least [`MpRepr::header_len`]
    /// octets.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut MpPacket<T>) {
        packet.set_header(self.begin, self.end, self.sequence);
    }

    /// Header and `fragment` as one Information field.
    pub fn to_bytes(&self, fragment: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0; self.header_len() + fragment.len()];
        let mut packet = MpPacket::new_unchecked(&mut bytes[..], self.format);
        self.emit(&mut packet);
        packet.fragment_mut().copy_from_slice(fragment);
        bytes
    }
}

impl fmt::Display for MpRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MP seq={}{}{}{}",
            self.sequence,
            if self.format == SequenceFormat::Short {
                " short"
            } else {
                ""
            },
            if self.begin { " B" } else { "" },
            if self.end { " E" } else { "" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_header() {
        let bytes = [0x80, 0x12, 0x34, 0x56, 0xaa, 0xbb];
        let packet = MpPacket::new_checked(&bytes[..], SequenceFormat::Long).unwrap();
        let repr = MpRepr::parse(&packet);
        assert_eq!(
            repr,
            MpRepr {
                begin: true,
                end: false,
                sequence: 0x12_3456,
                format: SequenceFormat::Long
            }
        );
        assert_eq!(packet.fragment(), [0xaa, 0xbb]);
        assert_eq!(repr.to_bytes(&[0xaa, 0xbb]), bytes);
        assert_eq!(repr.to_string(), "MP seq=1193046 B");
    }

    #[test]
    fn short_header() {
        let bytes = [0x4a, 0xbc, 0x21];
        let packet = MpPacket::new_checked(&bytes[..], SequenceFormat::Short).unwrap();
        let repr = MpRepr::parse(&packet);
        assert_eq!((repr.begin, repr.end, repr.sequence), (false, true, 0xabc));
        assert_eq!(packet.fragment(), [0x21]);
        assert_eq!(repr.to_bytes(&[0x21]), bytes);
        assert_eq!(repr.to_string(), "MP seq=2748 short E");
    }

    #[test]
    fn reserved_bits_are_ignored_and_emitted_as_zero() {
        let packet = MpPacket::new_checked(&[0xff, 0, 0, 7][..], SequenceFormat::Long).unwrap();
        let repr = MpRepr::parse(&packet);
        assert_eq!((repr.begin, repr.end, repr.sequence), (true, true, 7));
        assert_eq!(repr.to_bytes(&[]), [0xc0, 0, 0, 7]);
        let packet = MpPacket::new_checked(&[0x3f, 0xff][..], SequenceFormat::Short).unwrap();
        assert_eq!(MpRepr::parse(&packet).sequence, 0xfff);
        assert_eq!(MpRepr::parse(&packet).to_bytes(&[]), [0x0f, 0xff]);
    }

    #[test]
    fn sequence_numbers_wrap_at_the_format_width() {
        for (format, max) in [
            (SequenceFormat::Long, 0xff_ffff),
            (SequenceFormat::Short, 0xfff),
        ] {
            assert_eq!(format.max_sequence(), max);
            // The sender counts on; the header keeps the low bits, so max + 1 reads as 0.
            for (sent, read) in [(max, max), (max + 1, 0), (max + 2, 1)] {
                let mut bytes = vec![0; format.header_len()];
                MpPacket::new_unchecked(&mut bytes[..], format).set_header(true, true, sent);
                let packet = MpPacket::new_checked(&bytes[..], format).unwrap();
                assert_eq!(packet.sequence(), read, "{format:?} {sent}");
                assert!(packet.begin() && packet.end());
            }
        }
    }

    #[test]
    fn truncated_headers_are_errors() {
        assert_eq!(
            MpPacket::new_checked(&[0x80, 0, 1][..], SequenceFormat::Long).map(|_| ()),
            Err(WireError::Truncated {
                what: "MP header",
                len: 3,
                need: 4
            })
        );
        assert!(MpPacket::new_checked(&[0x80][..], SequenceFormat::Short).is_err());
        assert!(MpPacket::new_checked(&[0x80, 0][..], SequenceFormat::Short).is_ok());
    }
}
