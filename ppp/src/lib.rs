//! Role-agnostic, sans-IO PPP (DESIGN §2): RFC 1662 framing, packet views for LCP, PAP,
//! CHAP (with MS-CHAPv2), EAP, IPCP, CBCP and the Multilink header, the RFC 1661 option-negotiation
//! automaton, and the protocols built on it, plus multilink bundles ([`mp`]), their bandwidth
//! allocation ([`bacp`], [`bap`]: RFC 2125) and the LCP echo keepalive. The dial
//! engine runs it in the client role ([`Client`]); `ppp-peer-sim` runs the same protocols in
//! the server role.
//!
//! Nothing here performs I/O or reads a clock: callers pass `now` in and drain what the
//! machines want to send.

// Tests may unwrap; the library itself never does on anything from the line.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod auth;
pub mod bacp;
pub mod bap;
pub mod capture;
pub mod cbcp;
pub mod chap;
mod client;
pub mod eap;
pub mod fsm;
pub mod hdlc;
pub mod ipcp;
pub mod keepalive;
pub mod lcp;
pub mod mp;
pub mod mschapv2;
pub mod pap;
pub mod random;
pub mod wire;

pub use capture::{Capture, CaptureError, Direction};
pub use chap::AuthRetryError;
pub use client::{Client, ClientConfig, ClientEvent, LinkDownReason, Phase};
pub use eap::{EapAnswer, EapAnswerError, EapPeerConfig, EapPrompt};
pub use wire::eap::EapMethod;
pub use wire::lcp::AuthProtocol;
