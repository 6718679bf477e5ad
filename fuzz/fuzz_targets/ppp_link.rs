//! Every PPP decoder at once (HDLC framing, LCP, PAP, IPCP packets and options): arbitrary
//! bytes from the line into an engine-role client and a server-role peer, split where the
//! input says, must never panic.
//!
//! Run with `cargo +nightly fuzz run ppp_link` from this directory.

#![no_main]

use libfuzzer_sys::fuzz_target;
use ras_ppp::{Client, ClientConfig};
use sansio::{Duration, Instant, Machine};

fuzz_target!(|data: &[u8]| {
    let script = ppp_peer_sim::Script::from_yaml("auth: pap\nusers: {alice: secret}\n")
        .expect("fixed script");
    let mut server = ppp_peer_sim::Server::new(script, 1);
    let mut client = Client::new(ClientConfig {
        user: "alice".into(),
        password: "secret".into(),
        ..ClientConfig::default()
    });
    let mut now = Instant::ZERO;
    client.open(now);
    // The first byte picks the chunk size, so frames straddle reads in every way.
    let chunk = usize::from(data.first().copied().unwrap_or(1)).max(1);
    for piece in data.chunks(chunk) {
        now += Duration::from_millis(100);
        client.handle_input(now, piece);
        server.handle_input(now, piece);
        client.handle_timeout(now);
        server.handle_timeout(now);
        while client.poll_transmit().is_some() {}
        while server.poll_transmit().is_some() {}
        while client.poll_event().is_some() {}
        while server.poll_event().is_some() {}
    }
});
