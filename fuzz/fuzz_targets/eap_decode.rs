//! The EAP decoder under libFuzzer (RFC 3748 §4; pppd's CVE-2020-8597 was an EAP length
//! overflow): every packet either parses or gives a typed error, never a panic; whatever
//! parses has a Length within the octets, and is emitted and reads back equal, its new
//! Length the octets emitted. The same bytes then go into both machines.
//!
//! Run with `cargo +nightly fuzz run eap_decode` from this directory.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ras_ppp::eap::{EapAuthenticator, EapAuthenticatorConfig, EapPeer, EapPeerConfig};
use ras_ppp::random::SeededRandom;
use ras_ppp::wire::eap::{EapMethod, EapRepr};
use sansio::{Duration, Instant};

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
    let second = Duration::from_secs(1);
    let mut peer = EapPeer::new(
        EapPeerConfig::default(),
        "alice",
        "secret",
        second * 30,
        SeededRandom::new(1),
    );
    peer.start(Instant::ZERO);
    peer.receive(Instant::ZERO, data);
    while peer.poll_packet().is_some() {}
    let mut authenticator = EapAuthenticator::new(
        EapAuthenticatorConfig {
            name: "server".into(),
            methods: EapMethod::ALL.to_vec(),
            identity_prompt: String::new(),
            notification: None,
            token_prompt: "Token:".into(),
            restart_interval: second * 3,
            max_requests: 10,
            user_wait: second * 120,
        },
        SeededRandom::new(2),
    );
    authenticator.start(Instant::ZERO);
    let _ = authenticator.receive(Instant::ZERO, data, |_| Some("secret".to_owned()));
    while authenticator.poll_packet().is_some() {}
});
