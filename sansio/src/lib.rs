//! The spine of the project (DESIGN §2): every protocol machine — the engine's Hayes
//! dialer, the modem's V.250 interpreter, each PPP protocol, the RAS connection machine
//! and the scripted server — is a plain state machine with no I/O, no threads and no clock
//! of its own. This crate fixes the pieces they all share:
//!
//! - [`Instant`]: the one time type, used for real time (through [`RealClock`]) and for
//!   virtual time (through the simulated driver's clock);
//! - [`Machine`]: the sans-IO shape (`handle_input`, `handle_timeout`, `poll_transmit`,
//!   `poll_event`, `poll_timeout`);
//! - [`LinePeer`]: what sits at the far end of a phone line (a machine whose only event is
//!   that it hung up);
//! - [`sim`]: the in-memory pipe and event queue the simulated driver is built from.
//!
//! It depends on nothing, so `modem-sim` can share it without depending on engine code.

mod clock;
pub mod sim;
mod time;
pub mod yaml_words;

pub use clock::{DelayScale, DelayScaleError, Pace, RealClock, TimeScale, TimeScaleError};
pub use time::{Duration, Instant};

/// The sans-IO shape every protocol machine implements (DESIGN §2, after quinn-proto).
///
/// A driver feeds it bytes and expired timers, and drains what it wants to send, what
/// happened, and when it next needs to be woken. A machine never blocks, never reads a
/// clock and never touches a file descriptor.
pub trait Machine {
    /// What the machine reports to its driver (state changes, results).
    type Event;

    /// Bytes arrived from the line.
    fn handle_input(&mut self, now: Instant, bytes: &[u8]);

    /// The deadline returned by [`Machine::poll_timeout`] has passed.
    ///
    /// Drivers may call this early or more than once; a machine ignores timers that are
    /// not yet due.
    fn handle_timeout(&mut self, now: Instant);

    /// Bytes to put on the line, in order. `None` once the queue is empty.
    fn poll_transmit(&mut self) -> Option<Vec<u8>>;

    /// The next thing that happened, in order. `None` once the queue is empty.
    fn poll_event(&mut self) -> Option<Self::Event>;

    /// The earliest instant at which [`Machine::handle_timeout`] must be called.
    fn poll_timeout(&self) -> Option<Instant>;
}

/// What the far end of a phone line asks of the network: to put the phone down, or to
/// place a call.
///
/// Anything a peer wants recorded beyond that goes through `tracing`, not through here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerEvent {
    /// The peer dropped the call (its carrier goes away).
    HangUp,
    /// The peer asks the network to call `number` after `after`, and to put it (the same
    /// machine) on that call once answered: a RAS server calling a dialer back. It hangs
    /// up the current call itself ([`PeerEvent::HangUp`] follows). The number may be
    /// unknown or busy; then the call fails and the peer is dropped.
    CallBack {
        /// The number to call, as the peer has it.
        number: String,
        /// How long after the hang-up the call is placed.
        after: Duration,
    },
}

/// The machine at the far end of a call once the modems have connected: a scripted PPP
/// server, a bridge to a spawned process, anything that speaks bytes.
pub type LinePeer = Box<dyn Machine<Event = PeerEvent> + Send>;
