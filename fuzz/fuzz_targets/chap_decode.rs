//! The CHAP and MS-CHAPv2 decoders under libFuzzer: packets, the Response value, the `S=`
//! and `E= R= C= V= M=` messages and the Change-Password PW block either parse or give a
//! typed error, never a panic; whatever parses is emitted and reads back equal. The same
//! bytes then go into both machines, in both algorithms.
//!
//! Run with `cargo +nightly fuzz run chap_decode` from this directory.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ras_ppp::chap::{ChapAlgorithm, ChapClient, ChapServer};
use ras_ppp::mschapv2::recover_new_password;
use ras_ppp::random::Random;
use ras_ppp::wire::chap::{ChapRepr, FailureMessage, MsChapV2Response, SuccessMessage};
use sansio::{Duration, Instant};

fuzz_target!(|data: &[u8]| {
    if let Ok(repr) = ChapRepr::parse_bytes(data) {
        assert_eq!(
            ChapRepr::parse_bytes(&repr.to_bytes()),
            Ok(repr.clone()),
            "round trip"
        );
        match repr {
            ChapRepr::Response { value, .. } => {
                if let Ok(response) = MsChapV2Response::parse(&value) {
                    assert_eq!(MsChapV2Response::parse(&response.to_value()), Ok(response));
                }
            }
            ChapRepr::ChangePassword { packet, .. } => {
                let _ = recover_new_password(
                    &packet.encrypted_password,
                    &packet.encrypted_hash,
                    &[7; 16],
                );
            }
            _ => {}
        }
    }
    if let Ok(success) = SuccessMessage::parse(data) {
        assert_eq!(SuccessMessage::parse(&success.to_bytes()), Ok(success));
    }
    if let Ok(failure) = FailureMessage::parse(data) {
        assert_eq!(FailureMessage::parse(&failure.to_bytes()), Ok(failure));
    }
    for algorithm in [ChapAlgorithm::Md5, ChapAlgorithm::MsChapV2] {
        let second = Duration::from_secs(1);
        let mut client = ChapClient::new(
            algorithm,
            "alice",
            "secret",
            second * 3,
            10,
            Random::seeded(1),
        );
        client.start(Instant::ZERO);
        client.receive(Instant::ZERO, data);
        while client.poll_packet().is_some() {}
        let mut server = ChapServer::new(
            algorithm,
            "server",
            second * 3,
            10,
            second * 120,
            Random::seeded(2),
        );
        server.start(Instant::ZERO);
        let _ = server.receive(data, |_| Some("secret".to_owned()));
        while server.poll_packet().is_some() {}
    }
});
