//! A scripted PPP server peer (DESIGN §3): the far end of a dial, in the server role of the
//! same sans-IO PPP stack the engine dials with (`ras_ppp`). A [`Script`] says which
//! accounts exist, which authentication to demand, which addresses to hand out and which
//! [`Fault`]s to commit on purpose, and whether a text login ([`LoginScript`]) comes before
//! PPP; a [`Server`] plays it over a byte stream.

// Tests may unwrap; the library itself never does on anything from the line or a file.
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod fault;
mod login;
mod script;
mod server;

pub use fault::{Fault, Faults, Negotiation};
pub use login::{LoginProgress, LoginScript, TerminalLogin};
pub use script::{Account, AccountOutcome, AddressPlan, AuthMode, Script, ScriptError};
pub use server::{Bundles, Server};
