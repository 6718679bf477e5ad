//! The line capture (`ras_ppp::Capture`): arbitrary bytes from both directions of a line,
//! split where the input says, must never panic, and what it writes must read back as a
//! pcap with one record per frame the taps counted.
//!
//! Run with `cargo +nightly fuzz run line_capture` from this directory.

#![no_main]

use libfuzzer_sys::fuzz_target;
use pcap_file::pcap::PcapReader;
use ras_ppp::{Capture, Direction};
use sansio::{Duration, Instant};

fuzz_target!(|data: &[u8]| {
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
});
