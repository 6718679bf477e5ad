//! A simulated V.250 (Hayes) modem and the phone network behind it (DESIGN §3).
//!
//! - [`network`]: which numbers exist and what dialling them does, read from YAML;
//! - [`Modem`]: the modem as a sans-IO machine (DESIGN §2), with its own V.250
//!   interpreter — deliberately sharing no code with the engine's dialer, so that each
//!   side tests the other;
//! - [`control`]: the line a far-end process sends to ask the network for a call back;
//! - [`realtime`]: a tokio driver that serves the modem on a real pseudo-terminal, where
//!   any dialer (the engine, `chat`, `minicom`, …) can open it like a serial port.
//!
//! Time is the machine's own [`sansio::Instant`]: the call-progress delays in [`call`] are
//! virtual, so the simulated driver runs a 50 s S7 timeout instantly and the realtime
//! driver scales them with a [`sansio::Pace`]: modeled delays by its delay scale
//! ([`Modem::with_delays`], 0 for an instant modem), the clock by its time scale;
//! [`timer`] sleeps to its deadlines to the microsecond.

// Tests may unwrap: a failure there is the test failing (DESIGN §4 forbids it on input).
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod call;
pub mod command;
pub mod control;
pub mod dte_log;
pub mod escape;
pub mod far_command;
pub mod line;
mod modem;
pub mod network;
pub mod peer;
pub mod rack;
pub mod realtime;
pub mod registers;
mod result;
pub mod timer;

pub use call::IncomingCall;
pub use line::LineConditions;
pub use modem::{Modem, ModemEvent};
pub use network::{CallBack, Network, NetworkError, Outcome, PeerSpec};
pub use realtime::{
    CallInfo, Exchange, ModemSimError, PeerFactory, PtyModem, spawn_pty, spawn_pty_on,
};
pub use result::ResultCode;
