//! The escape sequence that takes a modem from online data state to online command state
//! without dropping the call: guard time, three escape characters, guard time (`+++`).
//!
//! V.250 §5.1 leaves the mechanism to the manufacturer; this is the Hayes one every
//! dialer expects: S2 is the escape character (above 127 disables it) and S12 the guard
//! time in fiftieths of a second. The characters still go to the far end as data, as on
//! a real modem; only the silence after them turns them into an escape.

use sansio::{Duration, Instant};

/// Watches the DTE's data for `guard, S2 S2 S2, guard`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscapeGuard {
    /// When the DTE last sent a byte (or the call connected).
    last_byte_at: Instant,
    /// Escape characters seen so far in a candidate sequence.
    escapes: u8,
}

/// Escape characters in a sequence.
const SEQUENCE_LEN: u8 = 3;

impl EscapeGuard {
    /// Start watching at `now`, counting it as the last activity.
    pub fn new(now: Instant) -> Self {
        EscapeGuard {
            last_byte_at: now,
            escapes: 0,
        }
    }

    /// One byte of DTE data at `now`, with the current S2 and guard time.
    pub fn byte(&mut self, now: Instant, byte: u8, escape_character: u8, guard: Duration) {
        let quiet_before = now.saturating_duration_since(self.last_byte_at) >= guard;
        self.escapes = match self.escapes {
            _ if escape_character > 127 || byte != escape_character => 0,
            // The first needs silence before it; the others must follow within the guard.
            0 if quiet_before => 1,
            n @ 1..SEQUENCE_LEN if !quiet_before || guard.is_zero() => n + 1,
            _ => 0,
        };
        self.last_byte_at = now;
    }

    /// When the escape completes if the DTE stays silent until then.
    pub fn completes_at(&self, guard: Duration) -> Option<Instant> {
        (self.escapes == SEQUENCE_LEN).then(|| self.last_byte_at + guard)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUARD: Duration = Duration::from_secs(1);

    fn at_ms(ms: u64) -> Instant {
        Instant::ZERO + Duration::from_millis(ms)
    }

    fn feed(guard: &mut EscapeGuard, at: Instant, bytes: &[u8]) {
        for &b in bytes {
            guard.byte(at, b, b'+', GUARD);
        }
    }

    #[test]
    fn needs_silence_before_and_after() {
        let mut g = EscapeGuard::new(Instant::ZERO);
        feed(&mut g, at_ms(1000), b"+++");
        assert_eq!(g.completes_at(GUARD), Some(at_ms(2000)));

        let mut g = EscapeGuard::new(Instant::ZERO);
        feed(&mut g, at_ms(500), b"+++");
        assert_eq!(g.completes_at(GUARD), None, "too soon after the last data");

        let mut g = EscapeGuard::new(Instant::ZERO);
        feed(&mut g, at_ms(1000), b"data+++");
        assert_eq!(g.completes_at(GUARD), None);
    }

    #[test]
    fn a_fourth_character_or_a_slow_one_spoils_it() {
        let mut g = EscapeGuard::new(Instant::ZERO);
        feed(&mut g, at_ms(1000), b"++++");
        assert_eq!(g.completes_at(GUARD), None);

        let mut g = EscapeGuard::new(Instant::ZERO);
        feed(&mut g, at_ms(1000), b"++");
        feed(&mut g, at_ms(2500), b"+");
        assert_eq!(g.completes_at(GUARD), None);
    }

    #[test]
    fn s2_above_127_disables_it() {
        let mut g = EscapeGuard::new(Instant::ZERO);
        for &b in b"+++" {
            g.byte(at_ms(1000), b, 200, GUARD);
        }
        assert_eq!(g.completes_at(GUARD), None);
    }
}
