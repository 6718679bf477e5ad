//! ras-engine: the Windows RAS dialing contract on Linux.
pub mod ppp;
