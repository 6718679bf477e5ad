//! The dialer side of the Hayes/V.250 conversation: init strings, dial, result-code
//! parsing. This is the engine's own AT code; `modem-sim` has an independent interpreter
//! on the other side of the line, so a test between the two means something (DESIGN §3).

mod carrier;
mod dialer;
mod result;

pub use carrier::CarrierWatch;
pub use dialer::{DialFailure, Dialer, DialerConfig, DialerEvent, Stage};
pub use result::ResultCode;
