//! ras-engine: the Windows RAS dialing contract on Linux.

/// Role-agnostic PPP, shared with `ppp-peer-sim` (DESIGN §3).
pub use ras_ppp as ppp;
