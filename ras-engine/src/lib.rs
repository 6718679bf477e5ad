//! ras-engine: the Windows RAS dialing contract (RasDial, its notifiers, states and error
//! codes) as a real dial engine for Linux serial devices.
//!
//! Layout (DESIGN §3): [`ppp`] is the role-agnostic PPP stack, [`hayes`] the dialer side of
//! the AT conversation, [`ras`] the connection machine and the RAS numbers, [`api`] the
//! RasDial-style surface, [`script`] the Windows dial-script interpreter, and `driver` the
//! realtime driver behind it. Every protocol machine is sans-IO (`sansio::Machine`).

pub mod api;
mod driver;
pub mod env;
pub mod hayes;
pub mod phonebook;
pub mod port;
pub mod ras;
pub mod script;

/// Role-agnostic PPP, shared with `ppp-peer-sim` (DESIGN §3).
pub use ras_ppp as ppp;
