//! What happened when, on a run's clock: the application's RAS calls and notifier calls,
//! and the modem's AT conversation, each with the virtual instant it happened. With the
//! capture's packets (timestamped on the same clock) it is what a sequence diagram draws
//! ([`super::sequence`]).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use sansio::Instant;

use crate::trace::TraceLine;

/// One thing the run saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Happening {
    /// The application called `RasDial` to start a dial.
    Dial,
    /// RAS called the application's notifier: the trace line and the call as the
    /// notifier saw it (`RasDialFunc2(…)`).
    Notified {
        /// The notification.
        line: TraceLine,
        /// The call with every argument.
        call: String,
    },
    /// The application resumed a paused dial (`RasDial` again on its handle).
    Resumed,
    /// The application called `RasHangUp`.
    HungUp,
    /// A line of the modem's AT conversation in transcript form: `> ATDT5551234` heard
    /// from the dialer, `< CONNECT 33600` answered.
    Modem(String),
}

/// A [`Happening`] and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moment {
    /// On the run's virtual clock (the lab's, or the realtime driver's scaled one).
    pub at: Instant,
    /// What.
    pub what: Happening,
}

/// The run's clock, as the application reads it.
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

/// Where the application (and its notifier, on whatever thread RAS calls it) notes what
/// it does; cheap to clone.
#[derive(Clone)]
pub struct Timeline {
    clock: Clock,
    moments: Arc<Mutex<Vec<Moment>>>,
}

impl fmt::Debug for Timeline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeline").finish_non_exhaustive()
    }
}

impl Timeline {
    /// An empty timeline read off `clock`.
    pub fn new(clock: Clock) -> Self {
        Timeline {
            clock,
            moments: Arc::default(),
        }
    }

    /// Note `what`, now.
    pub fn note(&self, what: Happening) {
        let at = (self.clock)();
        self.lock().push(Moment { at, what });
    }

    /// Everything noted so far, in the order noted.
    pub fn take(&self) -> Vec<Moment> {
        std::mem::take(&mut *self.lock())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Moment>> {
        // A notifier that panicked mid-push leaves a usable list.
        self.moments.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `moments` with `more` merged in by time; at the same instant the ones already in
/// `moments` come first (the sort is stable).
pub fn merge(moments: &mut Vec<Moment>, more: impl IntoIterator<Item = Moment>) {
    moments.extend(more);
    moments.sort_by_key(|moment| moment.at);
}
