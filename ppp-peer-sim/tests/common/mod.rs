//! For the tests that run the `ppp-peer-sim` binary: the engine's `ras_ppp::Client` dials
//! it in real time, scaled 100× so a dial takes milliseconds.

use std::io::{Read, Write};
use std::sync::mpsc;
use std::time::Duration as StdDuration;

use ras_ppp::{Client, ClientConfig, ClientEvent};
use sansio::{Machine, RealClock, TimeScale};

/// The time scale both ends run at (`--time-scale`).
pub const TIME_SCALE: f64 = 0.01;

/// A dial that has not ended after this much wall-clock time has failed (a guard against a
/// hang, not a timing assertion: the dial itself takes milliseconds).
const PATIENCE: StdDuration = StdDuration::from_secs(20);

/// Whatever `from_server` gives, in chunks, read on a thread of its own; the channel closes
/// when it reaches its end or fails.
pub fn read_on_a_thread(mut from_server: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(n) = from_server.read(&mut buffer) {
            if n == 0 || sender.send(buffer[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    receiver
}

/// Dial as alice/secret, close the link as soon as the network is up, and return every
/// client event up to its `LinkDown`.
pub fn dial_and_hang_up(
    to_server: &mut impl Write,
    from_server: &mpsc::Receiver<Vec<u8>>,
) -> Vec<ClientEvent> {
    let clock = RealClock::start(TimeScale::new(TIME_SCALE).unwrap());
    let mut client = Client::new(ClientConfig {
        user: "alice".into(),
        password: "secret".into(),
        entropy: ras_ppp::random::Entropy::Seed(99),
        ..ClientConfig::default()
    });
    client.open(clock.now());
    let mut events = Vec::new();
    let mut closed = false;
    let give_up = std::time::Instant::now() + PATIENCE;
    while !matches!(events.last(), Some(ClientEvent::LinkDown(_))) {
        assert!(
            std::time::Instant::now() < give_up,
            "no LinkDown; events so far: {events:?}"
        );
        while let Some(bytes) = client.poll_transmit() {
            to_server.write_all(&bytes).unwrap();
        }
        to_server.flush().unwrap();
        while let Some(event) = client.poll_event() {
            if matches!(event, ClientEvent::NetworkUp { .. }) && !closed {
                closed = true;
                client.close(clock.now());
            }
            // The Network-phase marker is left out: the tests compare outcomes.
            if event != ClientEvent::NetworkPhase {
                events.push(event);
            }
        }
        let wait = client
            .poll_timeout()
            .map(|deadline| {
                clock
                    .real_deadline(deadline)
                    .saturating_duration_since(std::time::Instant::now())
            })
            .unwrap_or(StdDuration::from_millis(50));
        match from_server.recv_timeout(wait) {
            Ok(bytes) => client.handle_input(clock.now(), &bytes),
            Err(_) => client.handle_timeout(clock.now()),
        }
    }
    events
}

/// Wait for `child` to exit, failing the test if it does not within the patience.
pub fn wait(child: &mut std::process::Child) -> std::process::ExitStatus {
    let give_up = std::time::Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if std::time::Instant::now() > give_up {
            let _ = child.kill();
            panic!("ppp-peer-sim did not exit");
        }
        std::thread::sleep(StdDuration::from_millis(10));
    }
}
