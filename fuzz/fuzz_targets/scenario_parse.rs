//! The conformance scenario loader: any text either loads or gives located problems,
//! never a panic.
//!
//! Run with `cargo +nightly fuzz run scenario_parse` from this directory.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(error) = conformance::scenario::parse("fuzz", Path::new("fuzz.yaml"), &text) {
        assert!(
            !error.problems.is_empty(),
            "an error names at least one problem"
        );
        let _ = error.summary();
    }
});
