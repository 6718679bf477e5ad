//! CBCP packets (MS-CBCP §2.2): any bytes must parse to a packet or a typed error, never a
//! panic; whatever parses must survive emit-then-parse unchanged; and both roles must take
//! any packet without panicking or answering what they could not parse.
//!
//! Run with `cargo +nightly fuzz run cbcp_decode` from this directory.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ras_ppp::cbcp::{
    CallbackPrivilege, CbcpClient, CbcpClientConfig, CbcpServer, CbcpServerConfig,
};
use ras_ppp::wire::cbcp::CbcpRepr;
use sansio::{Duration, Instant};

fuzz_target!(|data: &[u8]| {
    let parsed = CbcpRepr::parse_bytes(data);
    if let Ok(repr) = &parsed {
        assert_eq!(CbcpRepr::parse_bytes(&repr.to_bytes()).as_ref(), Ok(repr));
    }
    let mut server = CbcpServer::new(CbcpServerConfig {
        privilege: CallbackPrivilege::CallerSet,
        ..CbcpServerConfig::default()
    });
    let mut client = CbcpClient::new(CbcpClientConfig {
        callback_number: Some("5551234".into()),
        ..CbcpClientConfig::default()
    });
    let mut now = Instant::ZERO;
    server.start(now);
    while server.poll_packet().is_some() {}
    for _ in 0..3 {
        server.receive(data);
        client.receive(now, data);
        if parsed.is_err() {
            assert_eq!(client.poll_packet(), None);
        }
        now += Duration::from_secs(3);
        server.handle_timeout(now);
        client.handle_timeout(now);
        while server.poll_packet().is_some() {}
        while client.poll_packet().is_some() {}
    }
});
