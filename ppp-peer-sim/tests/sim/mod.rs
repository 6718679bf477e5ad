//! For the tests that run a client machine against the `Server` in memory: both ends on a
//! virtual clock that jumps to the next deadline, joined by pipes with a fixed latency,
//! optionally tapped by `ras_ppp::Capture` from the client's side.

use ppp_peer_sim::{Script, Server};
use ras_ppp::{Capture, Direction};
use sansio::sim::{Pipe, earliest};
use sansio::{Duration, Instant, Machine, PeerEvent};

/// One-way latency of the simulated line.
const LATENCY: Duration = Duration::from_millis(20);

/// A call that runs longer than this has hung.
const LIMIT: Duration = Duration::from_secs(600);

/// The server and the line to it.
pub struct Line {
    pub now: Instant,
    pub server: Server,
    to_server: Pipe,
    to_client: Pipe,
    /// The server put the phone down.
    pub hung_up: bool,
    /// The line as the client sees it, if tapped.
    pub capture: Option<Capture<Vec<u8>>>,
}

impl Line {
    /// A server playing `script` (YAML), seed 7.
    pub fn new(script: &str) -> Self {
        Line {
            now: Instant::ZERO,
            server: Server::new(Script::from_yaml(script).unwrap(), 7),
            to_server: Pipe::new(LATENCY),
            to_client: Pipe::new(LATENCY),
            hung_up: false,
            capture: None,
        }
    }

    /// Run `client` against the server until `react` (shown each client event, free to
    /// answer it) says stop, or nothing is left to happen; the client's events.
    pub fn run<M: Machine>(
        &mut self,
        client: &mut M,
        mut react: impl FnMut(&mut M, Instant, &M::Event) -> bool,
    ) -> Vec<M::Event> {
        let mut events = Vec::new();
        loop {
            // Events first: answering one gives the client more to send.
            while let Some(event) = client.poll_event() {
                let stop = react(client, self.now, &event);
                events.push(event);
                if stop {
                    return events;
                }
            }
            while let Some(bytes) = client.poll_transmit() {
                self.tap(Direction::Sent, &bytes);
                self.to_server.send(self.now, bytes);
            }
            while let Some(bytes) = self.server.poll_transmit() {
                self.to_client.send(self.now, bytes);
            }
            while let Some(PeerEvent::HangUp) = self.server.poll_event() {
                self.hung_up = true;
            }
            let Some(next) = earliest([
                client.poll_timeout(),
                self.server.poll_timeout(),
                self.to_server.next_delivery(),
                self.to_client.next_delivery(),
            ]) else {
                return events;
            };
            assert!(next < Instant::ZERO + LIMIT, "the call never ends");
            self.now = self.now.max(next);
            while let Some(bytes) = self.to_server.take_due(self.now) {
                self.server.handle_input(self.now, &bytes);
            }
            while let Some(bytes) = self.to_client.take_due(self.now) {
                self.tap(Direction::Received, &bytes);
                client.handle_input(self.now, &bytes);
            }
            if client.poll_timeout().is_some_and(|t| t <= self.now) {
                client.handle_timeout(self.now);
            }
            if self.server.poll_timeout().is_some_and(|t| t <= self.now) {
                self.server.handle_timeout(self.now);
            }
        }
    }

    fn tap(&mut self, direction: Direction, bytes: &[u8]) {
        if let Some(capture) = &mut self.capture {
            capture.record(self.now, direction, bytes).unwrap();
        }
    }
}
