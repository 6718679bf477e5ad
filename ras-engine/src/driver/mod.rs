//! The realtime driver (DESIGN §2): real serial devices opened by their path in raw mode
//! (a PTY slave from `modem-sim` or `/dev/ttyUSB0` alike), real timers scaled by the
//! engine's time scale, and every connection of one [`crate::api::Ras`] on one engine
//! thread running a current-thread tokio runtime: no thread per dial.
//!
//! The engine task owns the ports and carries out the [`RasCore`]'s actions. Each open
//! port has a reader task and a writer task on the same runtime. Notifiers run on the
//! runtime's blocking pool, a thread that is never the application's (ras-reference §4.1
//! rule 7): while one runs, the core holds its connection still, and the others go on, so
//! a slow or blocking notifier holds up only its own connection. The pool's threads exist
//! only while notifiers run.

pub(crate) mod capture;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};

use ras_ppp::Direction;
use sansio::{Instant, RealClock};
use serial2_tokio::SerialPort;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::api::{Action, Delivery, Driver, EngineConfig, HRasConn, RasCore, SharedCore};
use crate::ras::RasError;

/// Read buffer size: larger than any PPP frame we accept after escaping.
const READ_BUFFER: usize = 4096;

/// How long an idle notifier thread is kept for the next notification.
const NOTIFIER_THREAD_KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(2);

/// What reaches the engine task.
enum Event {
    /// An API call queued actions.
    Wake,
    /// Bytes read from a port.
    Input(HRasConn, Vec<u8>),
    /// A port's read or write failed.
    Lost(HRasConn),
    /// A port has been closed (its last queued write done, the descriptor dropped).
    Closed(HRasConn),
    /// A notifier returned.
    Notified(Delivery),
}

/// Wakes callers blocked in [`Driver::wait`] after every step of the engine.
#[derive(Default)]
struct Steps {
    count: Mutex<u64>,
    changed: Condvar,
}

impl Steps {
    fn lock(&self) -> std::sync::MutexGuard<'_, u64> {
        self.count.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn stepped(&self) {
        *self.lock() += 1;
        self.changed.notify_all();
    }
}

/// The realtime driver of one `Ras`. Dropping it stops the engine thread, which closes
/// every port still open.
pub(crate) struct Realtime {
    core: SharedCore,
    clock: RealClock,
    events: mpsc::UnboundedSender<Event>,
    steps: Arc<Steps>,
    /// Dropped with the driver: the engine task ends when it sees this go.
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Realtime {
    /// Start the engine thread for `core`.
    pub(crate) fn start(core: SharedCore, config: &EngineConfig) -> Self {
        let clock = RealClock::start(config.time_scale);
        let (events, receiver) = mpsc::unbounded_channel();
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let steps = Arc::new(Steps::default());
        let engine = Engine {
            core: core.clone(),
            clock,
            events: events.clone(),
            steps: Arc::clone(&steps),
            ports: HashMap::new(),
            capture_dir: config.capture_dir.clone(),
        };
        let started = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("ras-notifier")
            .thread_keep_alive(NOTIFIER_THREAD_KEEP_ALIVE)
            .build()
            .and_then(|runtime| {
                std::thread::Builder::new()
                    .name("ras-engine".to_owned())
                    .spawn(move || runtime.block_on(engine.run(receiver, stopped)))
            });
        if let Err(error) = started {
            // Without its thread the engine cannot dial; every dial then waits in vain,
            // so say it loudly. (Thread creation fails only when the process is out of
            // resources.)
            tracing::error!(%error, "cannot start the RAS engine thread");
        }
        Realtime {
            core,
            clock,
            events,
            steps,
            _stop: stop,
        }
    }
}

impl Driver for Realtime {
    fn now(&self) -> Instant {
        self.clock.now()
    }

    fn wake(&self) {
        // A closed channel means the engine is gone; nothing is left to wake.
        let _ = self.events.send(Event::Wake);
    }

    fn wait(&self, ready: &mut dyn FnMut(&RasCore) -> bool) {
        let mut count = self.steps.lock();
        loop {
            if ready(&self.core.lock()) || self.events.is_closed() {
                return;
            }
            count = self
                .steps
                .changed
                .wait(count)
                .unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// One open port: the writer's queue and the reader task.
struct Port {
    writer: mpsc::UnboundedSender<Vec<u8>>,
    reader: JoinHandle<()>,
    tap: capture::LineTap,
}

struct Engine {
    core: SharedCore,
    clock: RealClock,
    events: mpsc::UnboundedSender<Event>,
    steps: Arc<Steps>,
    ports: HashMap<HRasConn, Port>,
    capture_dir: Option<std::path::PathBuf>,
}

impl Engine {
    async fn run(
        mut self,
        mut events: mpsc::UnboundedReceiver<Event>,
        mut stopped: tokio::sync::oneshot::Receiver<()>,
    ) {
        loop {
            self.core.lock().handle_timeout(self.clock.now());
            self.carry_out_actions();
            self.steps.stepped();
            let deadline = self.core.lock().poll_timeout();
            let sleep = async {
                match deadline {
                    Some(at) => {
                        let at = tokio::time::Instant::from_std(self.clock.real_deadline(at));
                        tokio::time::sleep_until(at).await
                    }
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                _ = &mut stopped => break,
                event = events.recv() => match event {
                    Some(event) => self.on_event(event),
                    None => break,
                },
                () = sleep => {}
            }
        }
        // Dropping the ports closes them, which drops DTR and so the calls.
        self.ports.clear();
        self.steps.stepped();
    }

    fn on_event(&mut self, event: Event) {
        let now = self.clock.now();
        match event {
            Event::Wake => {}
            Event::Input(handle, bytes) => {
                if let Some(port) = self.ports.get_mut(&handle) {
                    port.tap.record(now, Direction::Received, &bytes);
                }
                self.core.lock().handle_input(now, handle, &bytes);
            }
            Event::Lost(handle) => {
                tracing::warn!(%handle, "the port stopped working");
                self.core.lock().port_lost(now, handle);
            }
            Event::Closed(handle) => self.core.lock().port_closed(handle),
            Event::Notified(delivery) => self.core.lock().notified(now, delivery),
        }
    }

    /// Carry out everything the core has queued (which may queue more).
    fn carry_out_actions(&mut self) {
        loop {
            let Some(action) = self.core.lock().poll_action() else {
                return;
            };
            let now = self.clock.now();
            match action {
                Action::OpenPort {
                    handle,
                    device,
                    baud,
                    entry_name,
                } => match SerialPort::open(&device, baud) {
                    Ok(port) => {
                        let capture = self
                            .capture_dir
                            .as_ref()
                            .map(|dir| dir.join(capture::file_name(&entry_name, handle)));
                        self.attach(handle, port, capture.as_deref());
                        self.core.lock().port_opened(now, handle);
                    }
                    Err(error) => {
                        tracing::warn!(device = %device.display(), %error, "cannot open the port");
                        self.core
                            .lock()
                            .port_failed(now, handle, open_error(&error));
                    }
                },
                Action::Transmit { handle, bytes } => {
                    if let Some(port) = self.ports.get_mut(&handle) {
                        port.tap.record(now, Direction::Sent, &bytes);
                        // A writer that has stopped reported the loss already.
                        let _ = port.writer.send(bytes);
                    }
                }
                Action::ClosePort { handle } => match self.ports.remove(&handle) {
                    // The writer finishes what is queued, then the port closes and the
                    // writer reports it.
                    Some(port) => port.reader.abort(),
                    None => self.core.lock().port_closed(handle),
                },
                Action::Notify(mut delivery) => {
                    let events = self.events.clone();
                    tokio::task::spawn_blocking(move || {
                        delivery.deliver();
                        let _ = events.send(Event::Notified(delivery));
                    });
                }
                // Waiters are woken after every step.
                Action::Settled { .. } => {}
            }
        }
    }

    /// Start the reader and writer tasks of a freshly opened port.
    fn attach(&mut self, handle: HRasConn, port: SerialPort, capture: Option<&Path>) {
        let port = Arc::new(port);
        let events = self.events.clone();
        let reading = Arc::clone(&port);
        let reader = tokio::spawn(async move {
            let mut buffer = vec![0u8; READ_BUFFER];
            loop {
                match reading.read(&mut buffer).await {
                    Ok(n) if n > 0 => {
                        if events
                            .send(Event::Input(handle, buffer[..n].to_vec()))
                            .is_err()
                        {
                            return;
                        }
                    }
                    result => {
                        tracing::warn!(result = ?result.map(|_| ()), "the port closed under us");
                        let _ = events.send(Event::Lost(handle));
                        return;
                    }
                }
            }
        });
        let (writer, mut queue) = mpsc::unbounded_channel::<Vec<u8>>();
        let events = self.events.clone();
        let reader_done = reader.abort_handle();
        tokio::spawn(async move {
            let mut failed = false;
            while let Some(bytes) = queue.recv().await {
                if !failed && let Err(error) = port.write_all(&bytes).await {
                    tracing::warn!(%error, "write to the port failed");
                    failed = true;
                    let _ = events.send(Event::Lost(handle));
                }
            }
            // The queue closed: the port is being closed. Wait for the reader to let go
            // of it, so that the descriptor is really closed when the core hears so.
            reader_done.abort();
            while !reader_done.is_finished() {
                tokio::task::yield_now().await;
            }
            drop(port);
            let _ = events.send(Event::Closed(handle));
        });
        self.ports.insert(
            handle,
            Port {
                writer,
                reader,
                tap: capture::LineTap::create(capture),
            },
        );
    }
}

/// Why a port would not open, in RAS terms (ras-reference §4.6).
fn open_error(error: &std::io::Error) -> RasError {
    match error.kind() {
        std::io::ErrorKind::NotFound => RasError::ERROR_PORT_NOT_FOUND,
        std::io::ErrorKind::PermissionDenied => RasError::ERROR_PORT_NOT_AVAILABLE,
        _ => RasError::ERROR_PORT_OR_DEVICE,
    }
}
