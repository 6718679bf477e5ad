//! The RAS side: connection states, error codes and the connection machine.

mod connection;
mod error;
pub mod limits;
mod state;

pub use connection::{
    ASK_FOR_NUMBER, Connection, ConnectionEvent, DialPlan, Notification, is_valid_callback_number,
};
pub use error::{RASBASE, RASBASEEND, RasError, UnknownError};
pub use state::{RASCS_DONE, RASCS_PAUSED, RasConnState, UnknownState};
