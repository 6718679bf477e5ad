//! The V.250 interpreter under libFuzzer: whatever a DTE and the far end send, in
//! whatever pieces and at whatever times, the modem must not panic.
//!
//! Run with `cargo +nightly fuzz run modem_interpreter` from this directory.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modem_sim::{Modem, Network};
use sansio::{Duration, Instant, Machine};

/// A network where every kind of call is reachable, so dials go somewhere.
const NETWORK: &str = r#"
line: {pacing: true, bit-error-rate: 0.001, drop-rate: 0.001, seed: 1}
numbers:
  "1": {connect: 33600, drop-after-bytes: 64, call-back: {number: "9", after: 1}}
  "2": busy
  "3": no-answer
  "4": voice
  "5": {connect: 2400, drop-after-seconds: 3}
"#;

fuzz_target!(|data: &[u8]| {
    let Ok(network) = Network::from_yaml(NETWORK) else {
        return;
    };
    let mut modem = Modem::new(network);
    let mut now = Instant::ZERO;
    // Each chunk: one byte of time advance (in 100 ms steps), one byte of length, then
    // that many bytes, sent from the DTE and from the far end.
    let mut rest = data;
    while let [advance, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (bytes, next) = tail.split_at(len);
        rest = next;
        now += Duration::from_millis(100 * u64::from(*advance));
        modem.handle_timeout(now);
        modem.handle_input(now, bytes);
        modem.handle_line_input(now, bytes);
        if advance % 7 == 0 {
            modem.remote_hang_up(now);
        }
        if advance % 11 == 0 {
            modem.dtr_drop(now);
        }
        while modem.poll_transmit().is_some() {}
        while modem.poll_line_transmit().is_some() {}
        while modem.poll_event().is_some() {}
        let _ = modem.poll_timeout();
    }
});
