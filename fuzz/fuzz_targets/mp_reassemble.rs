//! Multilink reassembly (RFC 1990 §4): arbitrary MP fragments on arbitrary member links, in
//! either header format, must never panic, never hold more than the buffer bound, and never
//! deliver a packet bigger than the MRRU.
//!
//! Run with `cargo +nightly fuzz run mp_reassemble` from this directory.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ras_ppp::mp::{Bundle, BundleConfig, LinkId, MpEvent};
use ras_ppp::wire::mp::SequenceFormat;

const MAX_BUFFERED: usize = 32;
const MRRU: u16 = 64;

fuzz_target!(|data: &[u8]| {
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
});
