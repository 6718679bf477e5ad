//! The realtime driver (DESIGN §2): one thread per dial running a current-thread tokio
//! runtime, a real serial device opened by its path in raw mode (a PTY slave from
//! `modem-sim` or `/dev/ttyUSB0` alike), real timers scaled by the engine's time scale.
//! The notifier is called on this thread, and the connection machine waits while it runs
//! (ras-reference §4.1 rule 7).

pub(crate) mod capture;

use std::path::PathBuf;
use std::sync::{Arc, mpsc};

use ras_ppp::Direction;

use sansio::{Machine, RealClock, TimeScale};
use serial2_tokio::SerialPort;
use tokio::sync::mpsc as async_mpsc;

use crate::api::{Dispatcher, HRasConn, Shared};
use crate::ras::{Connection, ConnectionEvent, DialPlan, RasConnState, RasError};

/// What the application asks of a running dial.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    /// `RasHangUp`.
    HangUp,
    /// `RasDial` on a paused dial's handle, with the (domain-qualified) user name and the
    /// password to go on with.
    Resume { user: String, password: String },
}

pub(crate) type CommandSender = async_mpsc::UnboundedSender<Command>;

pub(crate) fn command_channel() -> (CommandSender, async_mpsc::UnboundedReceiver<Command>) {
    async_mpsc::unbounded_channel()
}

/// Where a dial's progress goes.
#[derive(Debug)]
pub(crate) enum Outcome {
    /// Asynchronous dial: the application's notifier.
    Notify(Dispatcher),
    /// Synchronous dial: the caller blocked in `dial` waits for Connected or the error.
    Sync(mpsc::Sender<Result<(), RasError>>),
}

/// One dial, handed to its thread.
pub(crate) struct Job {
    pub(crate) shared: Arc<Shared>,
    pub(crate) handle: HRasConn,
    pub(crate) plan: DialPlan,
    pub(crate) device: PathBuf,
    pub(crate) baud: u32,
    pub(crate) outcome: Outcome,
    pub(crate) commands: async_mpsc::UnboundedReceiver<Command>,
    pub(crate) time_scale: TimeScale,
    /// Where to record the line, if capturing is on (`EngineConfig::capture_dir`).
    pub(crate) capture: Option<PathBuf>,
}

/// Start the dial's thread.
pub(crate) fn spawn(job: Job) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    std::thread::Builder::new()
        .name(format!("ras-dial-{}", job.handle))
        .spawn(move || runtime.block_on(run(job)))?;
    Ok(())
}

/// Read buffer size: larger than any PPP frame we accept after escaping.
const READ_BUFFER: usize = 4096;

async fn run(mut job: Job) {
    let clock = RealClock::start(job.time_scale);
    let mut tap = capture::LineTap::create(job.capture.as_deref());
    let mut machine = Connection::new(job.plan.clone());
    let mut port: Option<SerialPort> = None;
    let mut buffer = vec![0u8; READ_BUFFER];
    loop {
        // Events first: they may open or close the port and call the notifier.
        while let Some(event) = machine.poll_event() {
            match event {
                ConnectionEvent::OpenPort => match SerialPort::open(&job.device, job.baud) {
                    Ok(opened) => {
                        port = Some(opened);
                        machine.port_opened(clock.now());
                    }
                    Err(error) => {
                        tracing::warn!(device = %job.device.display(), %error, "cannot open the port");
                        machine.port_failed(open_error(&error));
                    }
                },
                ConnectionEvent::Notify(notification) => {
                    // While the notifier runs, the status is the state it is told of (the
                    // machine may already be further on).
                    job.shared
                        .set_status(job.handle, notification.state, notification.error);
                    deliver(&mut job, &notification);
                }
                ConnectionEvent::ClosePort => {
                    tracing::debug!(handle = %job.handle, "port closed");
                    return; // dropping the port closes it, which drops DTR
                }
            }
        }
        job.shared
            .set_status(job.handle, machine.state(), machine.error());
        if let Some(port) = &port {
            while let Some(bytes) = machine.poll_transmit() {
                tap.record(clock.now(), Direction::Sent, &bytes);
                if let Err(error) = port.write_all(&bytes).await {
                    tracing::warn!(%error, "write to the port failed");
                    machine.port_lost();
                    break;
                }
            }
        }
        if machine.has_events() {
            continue;
        }
        let deadline = machine
            .poll_timeout()
            .map(|at| tokio::time::Instant::from_std(clock.real_deadline(at)));
        tokio::select! {
            read = read_port(port.as_ref(), &mut buffer) => match read {
                Ok(n) if n > 0 => {
                    let now = clock.now();
                    tap.record(now, Direction::Received, &buffer[..n]);
                    machine.handle_input(now, &buffer[..n]);
                }
                Ok(_) | Err(_) => {
                    tracing::warn!(result = ?read.map(|_| ()), "the port closed under us");
                    port = None;
                    machine.port_lost();
                }
            },
            () = sleep_until(deadline) => machine.handle_timeout(clock.now()),
            command = job.commands.recv() => match command {
                Some(Command::Resume { user, password }) => {
                    if let Err(error) = machine.resume(clock.now(), &user, &password) {
                        // The API checked the state; the dial moved on meanwhile.
                        tracing::debug!(%error, "resume of a dial that is no longer paused");
                    }
                }
                Some(Command::HangUp) | None => {
                    if let Outcome::Notify(dispatcher) = &mut job.outcome {
                        dispatcher.end();
                    }
                    machine.hang_up(clock.now());
                }
            },
        }
    }
}

/// Hand a notification to the application, unless it hung up meanwhile (a hang-up from
/// inside an earlier notifier call takes effect here, after that call returned).
fn deliver(job: &mut Job, notification: &crate::ras::Notification) {
    if !job.shared.is_live(job.handle) {
        if let Outcome::Notify(dispatcher) = &mut job.outcome {
            dispatcher.end();
        }
        return;
    }
    match &mut job.outcome {
        Outcome::Notify(dispatcher) => {
            dispatcher.deliver(notification);
        }
        Outcome::Sync(waiting) => {
            let result = match notification.error {
                Some(error) => Err(error),
                None if notification.state == RasConnState::Connected => Ok(()),
                None => return,
            };
            // The caller may have given up waiting; nothing to do then.
            let _ = waiting.send(result);
        }
    }
}

async fn read_port(port: Option<&SerialPort>, buffer: &mut [u8]) -> std::io::Result<usize> {
    match port {
        Some(port) => port.read(buffer).await,
        None => std::future::pending().await,
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
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
