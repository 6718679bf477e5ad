//! Carrier loss, as the data stream shows it.
//!
//! A serial port normally reports a lost carrier on its DCD line; a PTY (and many USB
//! adapters) has none. What every Hayes modem does do, once the carrier has been gone for
//! S10 tenths of a second, is hang up and send its `NO CARRIER` result code to the DTE
//! (V.250 §6.3.12 S10, §5.7 result codes). The engine initialises the modem with `V1`, so
//! that result arrives as the verbose text `<CR><LF>NO CARRIER<CR><LF>` (V.250 §5.7.1)
//! between or in the middle of PPP frames.
//!
//! [inferred] The verbose text framed by `CR LF` is what we watch for. Under the default
//! async-control-character map (RFC 1662 §7.1) CR and LF inside a PPP frame are escaped,
//! so the pattern cannot occur in a frame; only a link that negotiated an ACCM clearing
//! both and then carries that exact text as data could trip it.

/// What the modem sends when the carrier is gone (V.250 §5.7.1 verbose form, `<CR><LF>`
/// header, the text, then the trailer's `<CR>`).
const NO_CARRIER: &[u8] = b"\r\nNO CARRIER\r";

/// Watches received bytes for the modem's `NO CARRIER` across read boundaries.
#[derive(Debug, Clone, Default)]
pub struct CarrierWatch {
    /// The last bytes seen, at most one short of the pattern, so a result split across
    /// reads is still found.
    tail: Vec<u8>,
    lost: bool,
}

impl CarrierWatch {
    /// Feed received bytes; true once the modem has said `NO CARRIER` (and from then on).
    pub fn feed(&mut self, bytes: &[u8]) -> bool {
        if self.lost {
            return true;
        }
        self.tail.extend_from_slice(bytes);
        self.lost = self
            .tail
            .windows(NO_CARRIER.len())
            .any(|window| window == NO_CARRIER);
        let keep = NO_CARRIER.len() - 1;
        if self.tail.len() > keep {
            self.tail.drain(..self.tail.len() - keep);
        }
        self.lost
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_the_result_between_frames() {
        let mut watch = CarrierWatch::default();
        assert!(!watch.feed(b"\x7e\xff\x7d\x23\xc0\x21\x7e"));
        assert!(watch.feed(b"\r\nNO CARRIER\r\n"));
        assert!(watch.feed(b""), "stays lost");
    }

    #[test]
    fn ignores_escaped_text_and_other_results() {
        let mut watch = CarrierWatch::default();
        // CR LF escaped as RFC 1662 §4.2 does under the default ACCM.
        assert!(!watch.feed(b"\x7e\x7d\x2d\x7d\x2aNO CARRIER\x7d\x2d\x7e"));
        assert!(!watch.feed(b"\r\nNO DIALTONE\r\n\r\nCARRIER 33600\r\n"));
    }

    proptest! {
        #[test]
        fn found_however_the_reads_are_split(
            before in proptest::collection::vec(any::<u8>(), 0..64),
            cut_a in 0usize..20,
            cut_b in 0usize..20,
        ) {
            let mut stream = before.clone();
            stream.extend_from_slice(b"\r\nNO CARRIER\r\n");
            let a = cut_a.min(stream.len());
            let b = (a + cut_b).min(stream.len());
            let mut watch = CarrierWatch::default();
            watch.feed(&stream[..a]);
            watch.feed(&stream[a..b]);
            prop_assert!(watch.feed(&stream[b..]));
        }
    }
}
