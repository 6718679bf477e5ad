//! Peers that need nothing outside this crate.

use sansio::{Instant, Machine, PeerEvent};

/// A far end that sends every byte straight back: enough to see data flow through a
/// connected call without a PPP server. It never hangs up.
#[derive(Debug, Default, Clone)]
pub struct LineEcho {
    pending: Vec<u8>,
}

impl Machine for LineEcho {
    type Event = PeerEvent;

    fn handle_input(&mut self, _now: Instant, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    fn handle_timeout(&mut self, _now: Instant) {}

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        (!self.pending.is_empty()).then(|| std::mem::take(&mut self.pending))
    }

    fn poll_event(&mut self) -> Option<PeerEvent> {
        None
    }

    fn poll_timeout(&self) -> Option<Instant> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sends_back_what_it_gets() {
        let mut echo = LineEcho::default();
        echo.handle_input(Instant::ZERO, b"ab");
        echo.handle_input(Instant::ZERO, b"c");
        assert_eq!(echo.poll_transmit(), Some(b"abc".to_vec()));
        assert_eq!(echo.poll_transmit(), None);
        assert_eq!(echo.poll_event(), None);
    }
}
