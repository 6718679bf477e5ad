//! The `rasphone.pbk` reader under libFuzzer: any bytes either parse or give a typed
//! error, never a panic; whatever parses and can be written reads back equal.
//!
//! Run with `cargo +nightly fuzz run pbk_parse` from this directory.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ras_engine::phonebook::Phonebook;

fuzz_target!(|data: &[u8]| {
    let Ok(phonebook) = Phonebook::parse_bytes(data, None) else {
        return;
    };
    // Values with a lone CR (or other unwritable text) are refused by the writer.
    let Ok(text) = phonebook.to_pbk_string() else {
        return;
    };
    match Phonebook::parse(&text, None) {
        Ok(again) => assert_eq!(again, phonebook, "round trip changed the phonebook"),
        Err(error) => panic!("written phonebook does not read back: {error}\n{text}"),
    }
});
