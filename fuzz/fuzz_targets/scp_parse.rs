//! The Windows dial-script (`.scp`) parser and runner under libFuzzer: any text either
//! parses or gives a positioned error, never a panic; a script that parses then runs
//! against the same bytes as line input, and through its timers, without panicking.
//!
//! Run with `cargo +nightly fuzz run scp_parse` from this directory.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ras_engine::script::{DialScript, ScriptRunner, translate};
use sansio::{Duration, Instant, Machine};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = translate(text);
    match DialScript::parse(text) {
        Ok(script) => {
            let mut runner = ScriptRunner::new(script, "alice", "secret");
            runner.start(Instant::ZERO);
            runner.handle_input(Instant::ZERO, data);
            let mut now = Instant::ZERO;
            for _ in 0..8 {
                let Some(next) = runner.poll_timeout() else {
                    break;
                };
                now = next.max(now + Duration::from_millis(1));
                runner.handle_timeout(now);
            }
            while runner.poll_transmit().is_some() {}
            while runner.poll_event().is_some() {}
        }
        Err(error) => assert!(error.line >= 1 && error.column >= 1),
    }
});
