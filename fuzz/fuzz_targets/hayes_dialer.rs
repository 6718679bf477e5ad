//! The engine's Hayes result parser and dialer: any modem responses, in any chunking, must
//! never panic, and the dialer must finish at most once.
//!
//! Run with `cargo +nightly fuzz run hayes_dialer` from this directory.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ras_engine::hayes::{Dialer, DialerConfig, ResultCode};
use sansio::{Duration, Instant, Machine};

fuzz_target!(|data: &[u8]| {
    for line in String::from_utf8_lossy(data).lines() {
        let _ = ResultCode::parse(line);
    }
    let mut now = Instant::ZERO;
    let mut dialer = Dialer::new(now, DialerConfig::new("5551234"));
    let mut finished = 0;
    for piece in data.chunks(7) {
        now += Duration::from_millis(500);
        dialer.handle_input(now, piece);
        dialer.handle_timeout(now);
        while dialer.poll_transmit().is_some() {}
        while dialer.poll_event().is_some() {
            finished += 1;
        }
    }
    assert!(finished <= 1, "the dialer finished {finished} times");
});
