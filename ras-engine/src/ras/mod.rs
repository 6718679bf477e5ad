//! The RAS side: connection states, error codes and the connection machine.

mod connection;
mod error;
pub mod limits;
mod state;

pub use connection::{Connection, ConnectionEvent, DialPlan, Notification};
pub use error::{RASBASE, RASBASEEND, RasError, UnknownError};
pub use state::{RASCS_DONE, RASCS_PAUSED, RasConnState, UnknownState};
