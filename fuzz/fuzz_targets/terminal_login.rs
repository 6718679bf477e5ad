//! ppp-peer-sim's terminal login under libFuzzer: whatever a caller types, in whatever
//! chunks, the login never panics, and what it hands to PPP is the tail of the caller's
//! own input.
//!
//! Run with `cargo +nightly fuzz run terminal_login` from this directory.

#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use ppp_peer_sim::{LoginProgress, LoginScript, TerminalLogin};

fuzz_target!(|data: &[u8]| {
    let mut login = TerminalLogin::new(LoginScript {
        prompt: "login: ".into(),
        password_prompt: "Password: ".into(),
        banner: "fuzz".into(),
        users: BTreeMap::from([("alice".to_owned(), "secret".to_owned())]),
        attempts: 3,
    });
    // The first octet splits the rest into chunks of that many octets.
    let Some((&size, rest)) = data.split_first() else {
        return;
    };
    for chunk in rest.chunks(usize::from(size).max(1)) {
        match login.receive(chunk) {
            LoginProgress::Pending => {}
            LoginProgress::LoggedIn { rest } => {
                assert!(chunk.ends_with(&rest));
                break;
            }
            LoginProgress::Refused => break,
        }
    }
    while login.poll_transmit().is_some() {}
});
