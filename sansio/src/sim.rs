//! Building blocks of the simulated driver (DESIGN §2): in-memory byte pipes with latency
//! and optional baud-rate pacing, on a virtual clock that only moves when the event loop
//! jumps to the next deadline. Nothing here is random; the same inputs give the same
//! deliveries at the same instants.

use std::collections::VecDeque;

use crate::time::{Duration, Instant};

/// Bits on the wire per byte of asynchronous serial data: start, 8 data, stop.
const BITS_PER_BYTE: u64 = 10;

/// One direction of an in-memory line.
#[derive(Debug, Default, Clone)]
pub struct Pipe {
    latency: Duration,
    bits_per_second: Option<u64>,
    /// When the (paced) line has finished sending everything queued so far.
    line_free_at: Instant,
    in_flight: VecDeque<(Instant, Vec<u8>)>,
}

impl Pipe {
    /// A pipe that delivers each write `latency` after it was sent.
    pub fn new(latency: Duration) -> Self {
        Pipe {
            latency,
            ..Pipe::default()
        }
    }

    /// Also pace writes at `bits_per_second` (10 bits a byte), as a real serial line does.
    pub fn with_pacing(mut self, bits_per_second: u64) -> Self {
        self.bits_per_second = (bits_per_second > 0).then_some(bits_per_second);
        self
    }

    /// Put `bytes` on the pipe at `now`.
    pub fn send(&mut self, now: Instant, bytes: Vec<u8>) {
        if bytes.is_empty() {
            return;
        }
        let start = now.max(self.line_free_at);
        let on_wire = match self.bits_per_second {
            Some(bps) => {
                let bits = bytes.len() as u64 * BITS_PER_BYTE;
                Duration::from_nanos(bits.saturating_mul(1_000_000_000) / bps)
            }
            None => Duration::ZERO,
        };
        self.line_free_at = start + on_wire;
        self.in_flight
            .push_back((self.line_free_at + self.latency, bytes));
    }

    /// When the next write arrives at the far end, if any is in flight.
    pub fn next_delivery(&self) -> Option<Instant> {
        self.in_flight.front().map(|(at, _)| *at)
    }

    /// The next write that has arrived by `now`, in sending order.
    pub fn take_due(&mut self, now: Instant) -> Option<Vec<u8>> {
        match self.in_flight.front() {
            Some((at, _)) if *at <= now => self.in_flight.pop_front().map(|(_, bytes)| bytes),
            _ => None,
        }
    }

    /// Forget everything in flight (the line was cut).
    pub fn clear(&mut self) {
        self.in_flight.clear();
    }

    /// Whether nothing is in flight.
    pub fn is_idle(&self) -> bool {
        self.in_flight.is_empty()
    }
}

/// The earliest of several optional deadlines.
pub fn earliest(deadlines: impl IntoIterator<Item = Option<Instant>>) -> Option<Instant> {
    deadlines.into_iter().flatten().min()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::ZERO + Duration::from_millis(ms)
    }

    #[test]
    fn delivers_in_order_after_latency() {
        let mut pipe = Pipe::new(Duration::from_millis(5));
        pipe.send(at(0), b"AT\r".to_vec());
        pipe.send(at(1), b"ATZ\r".to_vec());
        assert_eq!(pipe.next_delivery(), Some(at(5)));
        assert_eq!(pipe.take_due(at(4)), None);
        assert_eq!(pipe.take_due(at(6)), Some(b"AT\r".to_vec()));
        assert_eq!(pipe.take_due(at(6)), Some(b"ATZ\r".to_vec()));
        assert!(pipe.is_idle());
    }

    #[test]
    fn pacing_takes_ten_bits_a_byte_and_queues_behind_earlier_writes() {
        // 9600 bit/s: 960 bytes a second, so 96 bytes take 100 ms on the wire.
        let mut pipe = Pipe::new(Duration::ZERO).with_pacing(9600);
        pipe.send(at(0), vec![0; 96]);
        pipe.send(at(0), vec![0; 96]);
        assert_eq!(pipe.take_due(at(99)), None);
        assert!(pipe.take_due(at(100)).is_some());
        assert_eq!(pipe.next_delivery(), Some(at(200)));
    }

    #[test]
    fn earliest_ignores_missing_deadlines() {
        assert_eq!(earliest([None, Some(at(3)), Some(at(2))]), Some(at(2)));
        assert_eq!(earliest([None, None]), None);
    }
}
