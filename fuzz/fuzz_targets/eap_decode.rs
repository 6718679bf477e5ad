//! The EAP decoder under libFuzzer (RFC 3748 §4; pppd's CVE-2020-8597 was an EAP length
//! overflow): every packet either parses or gives a typed error, never a panic; whatever
//! parses has a Length within the octets, and is emitted and reads back equal, its new
//! Length the octets emitted.
//!
//! Run with `cargo +nightly fuzz run eap_decode` from this directory.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ras_ppp::wire::eap::EapRepr;

fuzz_target!(|data: &[u8]| {
    if let Ok(repr) = EapRepr::parse_bytes(data) {
        let length = usize::from(u16::from_be_bytes([data[2], data[3]]));
        assert!(length <= data.len(), "Length within the octets");
        let bytes = repr.to_bytes();
        assert_eq!(
            usize::from(u16::from_be_bytes([bytes[2], bytes[3]])),
            bytes.len()
        );
        assert_eq!(EapRepr::parse_bytes(&bytes), Ok(repr), "round trip");
    }
});
