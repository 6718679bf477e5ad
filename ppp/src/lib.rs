//! Role-agnostic, sans-IO PPP (DESIGN §2): RFC 1662 framing, packet views for LCP, PAP and
//! IPCP, the RFC 1661 option-negotiation automaton, and the protocols built on it. The dial
//! engine runs it in the client role ([`Client`]); `ppp-peer-sim` runs the same protocols in
//! the server role.
//!
//! Nothing here performs I/O or reads a clock: callers pass `now` in and drain what the
//! machines want to send.

// Tests may unwrap; the library itself never does on anything from the line.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod capture;
mod client;
pub mod fsm;
pub mod hdlc;
pub mod ipcp;
pub mod lcp;
pub mod pap;
pub mod wire;

pub use capture::{Capture, CaptureError, Direction};
pub use client::{Client, ClientConfig, ClientEvent, LinkDownReason, Phase};
pub use wire::lcp::AuthProtocol;
