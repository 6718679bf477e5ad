//! The realtime driver (DESIGN §2): the [`Modem`] served on a real pseudo-terminal, with
//! tokio, real timers scaled by a [`sansio::Pace`], and a [`LinePeer`] at the far end of
//! each connected call.
//!
//! The dialer opens the PTY's slave side (`/dev/pts/N`) by its path, like any serial
//! port. The driver keeps its own descriptor on the slave open, so the master never sees
//! the end-of-file a PTY gives when the last slave descriptor closes, and the port
//! survives dialers that open and close it. A PTY has no DTR line; closing the port is
//! what a dialer does instead, so the driver watches the slave with inotify and treats
//! each close as DTR dropping ([`Modem::dtr_drop`]).
//!
//! The far end of a call is either a [`LinePeer`] machine (`peer: builtin`, built by the
//! driver's [`PeerFactory`]) or a byte stream the driver opens itself: a spawned
//! process's stdin and stdout (`exec:`) or a TCP connection (`tcp:`). A stream that
//! ends, or cannot be opened, is the far end hanging up.
//!
//! A machine far end that asks to call back ([`PeerEvent::CallBack`]) keeps running: if the
//! number is this modem's own ([`Modem::number`]) the network rings the modem after the
//! delay and, once answered, puts the same machine on the new call. A number another modem
//! on the same [`Exchange`] owns rings that modem instead, where its own far end answers;
//! any other number is not in service, and the callback fails.
//!
//! A process far end (`exec:`) asks the same through the modem's control socket, whose
//! path it finds in the [`CONTROL_ENV`] environment variable: it connects and writes one
//! line, `callback NUMBER SECONDS` (seconds may have a fraction). If the number is this
//! modem's, the network rings it that long after and runs the call's `exec:` command
//! again to answer the new call.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::future::Future;
use std::mem::MaybeUninit;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::{fmt, io, thread};

use rustix::fs::inotify;
use rustix::termios::{self, OptionalActions, QueueSelector};
use sansio::sim::earliest;
use sansio::{Instant, LinePeer, Machine, Pace, PeerEvent, RealClock};
use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::call::IncomingCall;
use crate::control::ControlRequest;
use crate::dte_log::DteLog;
use crate::far_command::FarCommand;
use crate::modem::{Modem, ModemEvent};
use crate::network::{Network, PeerSpec, normalise_number};
use crate::timer::Sleeper;

/// The environment variable that gives an `exec:` far end the path of the modem's control
/// socket (see the module docs).
pub const CONTROL_ENV: &str = "MODEM_SIM_CONTROL";

/// The longest control request read, and how long a client may take to send it.
const CONTROL_LIMIT: usize = 256;
const CONTROL_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// The modem's control socket: a Unix socket in the temporary folder, removed on drop.
struct Control {
    listener: tokio::net::UnixListener,
    path: PathBuf,
}

impl Control {
    fn bind() -> Result<Control, ModemSimError> {
        static SOCKETS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "modem-sim-{}-{}.sock",
            std::process::id(),
            SOCKETS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        ));
        // A socket left by an earlier process with the same id is stale.
        let _ = std::fs::remove_file(&path);
        let listener =
            tokio::net::UnixListener::bind(&path).map_err(|source| ModemSimError::Io {
                what: "bind the control socket",
                source,
            })?;
        Ok(Control { listener, path })
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Read one control request from a client (see [`crate::control`]).
async fn control_request(mut stream: tokio::net::UnixStream) -> Result<ControlRequest, String> {
    let mut text = Vec::new();
    let read = async {
        let mut buf = [0u8; CONTROL_LIMIT];
        while text.len() < CONTROL_LIMIT && !text.contains(&b'\n') {
            let n = stream.read(&mut buf).await.map_err(|e| e.to_string())?;
            if n == 0 {
                break;
            }
            text.extend_from_slice(&buf[..n]);
        }
        Ok::<(), String>(())
    };
    tokio::time::timeout(CONTROL_WAIT, read)
        .await
        .map_err(|_| "the control client sent no request in time".to_owned())??;
    let text = String::from_utf8_lossy(&text);
    ControlRequest::parse(text.lines().next().unwrap_or_default()).map_err(|e| e.to_string())
}

/// The modems of one phone network, by their own numbers: where a callback to a number
/// that is not the calling modem's own goes. Clones share it.
#[derive(Debug, Clone, Default)]
pub struct Exchange(std::sync::Arc<std::sync::Mutex<Lines>>);

/// Each modem's line, by its normalised number.
type Lines = BTreeMap<String, mpsc::UnboundedSender<IncomingCall>>;

impl Exchange {
    /// Calls to `number` ring the modem that `line` reaches (the `incoming` of its
    /// [`serve`]).
    pub fn connect(&self, number: &str, line: mpsc::UnboundedSender<IncomingCall>) {
        self.lines().insert(normalise_number(number), line);
    }

    fn line(&self, number: &str) -> Option<mpsc::UnboundedSender<IncomingCall>> {
        self.lines().get(&normalise_number(number)).cloned()
    }

    fn lines(&self) -> std::sync::MutexGuard<'_, Lines> {
        // The map stays consistent whatever a panicking holder was doing.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Callbacks in progress on one modem.
#[derive(Default)]
struct CallBacks {
    /// The machine far end that will answer the callback ringing this modem.
    answering: Option<LinePeer>,
    /// Requests from machine far ends, to route once the pump is done.
    requests: Vec<CallBackRequest>,
}

/// A far end's request for a call back, and the machine that answers it if it is one.
struct CallBackRequest {
    number: String,
    after: sansio::Duration,
    machine: Option<LinePeer>,
}

/// Place a call back: ring this modem later (its `calling_back` machine answering), or the
/// exchange's modem owning the number, or nobody.
fn route_call_back(
    modem: &mut Modem,
    calling_back: &mut Option<LinePeer>,
    exchange: &Exchange,
    clock: &RealClock,
    request: CallBackRequest,
) {
    let CallBackRequest {
        number,
        after,
        machine,
    } = request;
    let (speed, spec) = modem
        .call_terms()
        .unwrap_or((CALLBACK_SPEED, PeerSpec::Builtin));
    // A machine far end answers its own callback here; elsewhere the callee's far end does.
    let spec = if machine.is_some() {
        PeerSpec::Builtin
    } else {
        spec
    };
    let now = clock.now();
    // The network's callback delay is modeled, like the modem's own.
    let after = modem.delays().apply(after);
    if modem.owns_number(&number) {
        info!(%number, ?after, "far end calls back");
        let call = IncomingCall {
            number: modem.number().to_owned(),
            speed,
            peer: spec,
        };
        modem.schedule_call(now + after, call);
        *calling_back = machine;
    } else if let Some(line) = exchange.line(&number) {
        info!(%number, ?after, "far end calls back another modem");
        let call = IncomingCall {
            number: normalise_number(&number),
            speed,
            peer: spec,
        };
        let wait = clock.real_deadline(now + after);
        tokio::spawn(async move {
            tokio::time::sleep_until(wait.into()).await;
            // A modem that has stopped is a line out of service.
            let _ = line.send(call);
        });
    } else {
        warn!(%number, "callback to a number not in service");
    }
}

/// A call the driver needs a far end for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInfo {
    /// The normalised number dialled.
    pub number: String,
    /// The line rate of the call.
    pub speed: u32,
    /// What the network says should answer.
    pub peer: PeerSpec,
}

/// Builds the far end of each connected call whose peer is [`PeerSpec::Builtin`]
/// (`exec:` and `tcp:` peers the driver opens itself). An `Err` (with the reason) fails
/// the call: the DTE sees `NO CARRIER` after `CONNECT` and S10, as if the far end had
/// hung up.
pub type PeerFactory = Box<dyn FnMut(&CallInfo) -> Result<LinePeer, String> + Send>;

/// Why the realtime modem could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ModemSimError {
    /// No pseudo-terminal could be allocated.
    #[error("cannot open a pseudo-terminal")]
    OpenPty(#[source] pty_process::Error),
    /// The pseudo-terminal could not be set up (name, raw mode, close watch).
    #[error("cannot set up the pseudo-terminal ({what})")]
    SetUp {
        /// The step that failed.
        what: &'static str,
        /// The system's reason.
        #[source]
        source: io::Error,
    },
    /// Reading or writing the pseudo-terminal failed while serving.
    #[error("pseudo-terminal {what} failed")]
    Io {
        /// The operation that failed.
        what: &'static str,
        /// The system's reason.
        #[source]
        source: io::Error,
    },
    /// The runtime or thread that serves the modem could not start.
    #[error("cannot start the modem's event loop")]
    Runtime(#[source] io::Error),
    /// The thread serving the modem panicked.
    #[error("the modem's event loop panicked")]
    Panicked,
}

fn set_up(what: &'static str) -> impl FnOnce(rustix::io::Errno) -> ModemSimError {
    move |errno| ModemSimError::SetUp {
        what,
        source: errno.into(),
    }
}

/// A pseudo-terminal ready to serve a modem: the master for the driver, the slave kept
/// open in raw mode, and the slave's path for the dialer.
pub struct ModemPty {
    master: pty_process::Pty,
    slave: pty_process::Pts,
    path: PathBuf,
    /// Every open and close of the slave, watched from before its path is known to
    /// anyone, so that no DTE's open goes uncounted; `None` for a PTY whose DTE never
    /// closes it while served ([`ModemPty::open_unwatched`]).
    closes: Option<AsyncFd<rustix::fd::OwnedFd>>,
}

impl fmt::Debug for ModemPty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModemPty")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl ModemPty {
    /// Allocate a PTY and put its slave side in raw mode with echo off (a dialer opening
    /// it sets its own modes; raw is what a serial port to a modem needs anyway).
    ///
    /// Must be called inside a tokio runtime: the master registers with its reactor.
    pub fn open() -> Result<ModemPty, ModemSimError> {
        let mut pty = ModemPty::open_unwatched()?;
        pty.closes = Some(watch_closes(&pty.path)?);
        Ok(pty)
    }

    /// The same without watching the DTE's opens and closes: DTR never drops. Each watch
    /// is an inotify instance, of which Linux allows 128 a user by default; a test that
    /// holds a thousand connections and never closes a port mid-call needs none.
    pub fn open_unwatched() -> Result<ModemPty, ModemSimError> {
        let (master, slave) = pty_process::open().map_err(ModemSimError::OpenPty)?;
        let name = rustix::pty::ptsname(&master, Vec::new()).map_err(set_up("ptsname"))?;
        let path = PathBuf::from(OsStr::from_bytes(name.as_bytes()));
        let mut modes = termios::tcgetattr(&slave).map_err(set_up("tcgetattr"))?;
        modes.make_raw();
        termios::tcsetattr(&slave, OptionalActions::Now, &modes).map_err(set_up("tcsetattr"))?;
        Ok(ModemPty {
            master,
            slave,
            path,
            closes: None,
        })
    }

    /// The slave's path (`/dev/pts/N`): what the dialer opens.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Serve `modem` on `pty` until `shutdown` completes.
///
/// Bytes from the PTY go to the modem, the modem's output to the PTY; on
/// [`ModemEvent::CallConnected`] a peer comes from `peers` and line bytes flow between it
/// and the modem until either hangs up. Timers are the earliest of the modem's and the
/// peer's deadlines, mapped to real time through `clock`. The AT transcript is logged
/// with `tracing` at debug level (one line per command: at info it cost ≈ 20 % of an
/// `AT`→`OK` round trip, issue 15).
///
/// Each call received on `incoming` rings the modem ([`Modem::incoming_call`]).
pub async fn serve(
    mut modem: Modem,
    pty: ModemPty,
    mut peers: PeerFactory,
    clock: RealClock,
    mut incoming: mpsc::UnboundedReceiver<IncomingCall>,
    exchange: Exchange,
    shutdown: impl Future<Output = ()>,
) -> Result<(), ModemSimError> {
    let ModemPty {
        mut master,
        slave,
        path,
        closes,
    } = pty;
    let control = Control::bind()?;
    let (mut from_dte, mut to_dte_port) = master.split();
    let mut peer: Option<FarEnd> = None;
    let mut call_backs = CallBacks::default();
    let mut to_dte: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 4096];
    // The DTE's bytes as the debug log shows them: PAP and CHAP frames redacted.
    let mut dte_log = DteLog::default();
    let mut events_buf = [MaybeUninit::<u8>::uninit(); 1024];
    // Programs holding the slave open, other than this one.
    let mut openers = Openers::default();
    let mut callers_left = true;
    // Deadlines to the microsecond, not tokio's millisecond.
    let mut sleeper = Sleeper::default();
    tokio::pin!(shutdown);
    info!(path = %path.display(), number = %modem.number(), control = %control.path.display(), "modem ready");

    loop {
        pump(
            &mut modem,
            &mut peer,
            &mut call_backs,
            &mut peers,
            &control.path,
            &mut to_dte,
            clock.now(),
        );
        for request in std::mem::take(&mut call_backs.requests) {
            route_call_back(
                &mut modem,
                &mut call_backs.answering,
                &exchange,
                &clock,
                request,
            );
        }
        let deadline = earliest([
            modem.poll_timeout(),
            match &peer {
                Some(FarEnd::Machine(p)) => p.poll_timeout(),
                Some(FarEnd::Stream(_)) | None => None,
            },
        ]);
        let wake = deadline.map(|d| clock.real_deadline(d));
        tokio::select! {
            biased;
            () = &mut shutdown => break,
            read = from_dte.read(&mut buf) => {
                let n = read.map_err(|source| ModemSimError::Io { what: "read", source })?;
                if n == 0 {
                    // Cannot happen while the slave is held open; nothing left to serve.
                    break;
                }
                let shown = dte_log.redact(&buf[..n]);
                if !shown.is_empty() {
                    debug!(bytes = ?shown, "from DTE");
                }
                // Opens and closes reach inotify before the open() or close() returns, so
                // every one that came before these bytes is queued now. A close after
                // which nobody holds the port means the bytes came from the old DTE: they
                // go first, then DTR drops. A close followed by a reopen is a DTR pulse:
                // the modem still hangs up, and before these bytes, which are the new
                // DTE's (its command must not be cancelled by the old DTE's close).
                let dtr = closes
                    .as_ref()
                    .map_or(Dtr::Held, |closes| openers.update(closes.get_ref(), &mut events_buf));
                match dtr {
                    Dtr::Pulsed => {
                        dtr_dropped(&mut modem, &mut to_dte, &slave, clock.now());
                        modem.handle_input(clock.now(), &buf[..n]);
                    }
                    Dtr::Dropped => {
                        modem.handle_input(clock.now(), &buf[..n]);
                        dtr_dropped(&mut modem, &mut to_dte, &slave, clock.now());
                    }
                    Dtr::Held => modem.handle_input(clock.now(), &buf[..n]),
                }
            }
            written = to_dte_port.write(&to_dte), if !to_dte.is_empty() => {
                let n = written.map_err(|source| ModemSimError::Io { what: "write", source })?;
                to_dte.drain(..n);
            }
            ready = readable(closes.as_ref()) => {
                let mut guard = ready.map_err(|source| ModemSimError::Io { what: "inotify", source })?;
                if openers.update(guard.get_inner(), &mut events_buf) != Dtr::Held {
                    dtr_dropped(&mut modem, &mut to_dte, &slave, clock.now());
                }
                guard.clear_ready();
            }
            () = async { if let Some(wake) = wake { sleeper.sleep_until(wake).await } }, if wake.is_some() => {
                // The real clock may land a hair before the virtual deadline it stands for.
                let now = clock.now().max(deadline.unwrap_or(Instant::ZERO));
                modem.handle_timeout(now);
                if let Some(FarEnd::Machine(peer)) = peer.as_mut() {
                    peer.handle_timeout(now);
                }
            }
            call = incoming.recv(), if callers_left => match call {
                Some(call) => {
                    info!(number = %call.number, "incoming call");
                    modem.incoming_call(clock.now(), call);
                }
                None => callers_left = false,
            },
            accepted = control.listener.accept() => match accepted {
                Ok((stream, _)) => match control_request(stream).await {
                    Ok(ControlRequest::CallBack { number, after }) => {
                        let request = CallBackRequest { number, after, machine: None };
                        route_call_back(&mut modem, &mut call_backs.answering, &exchange, &clock, request);
                    }
                    Err(reason) => warn!(%reason, "bad control request"),
                },
                Err(error) => warn!(%error, "control socket"),
            },
            received = from_stream(&mut peer) => match received {
                Some(bytes) => modem.handle_line_input(clock.now(), &bytes),
                None => {
                    info!("far end hung up");
                    peer = None;
                    modem.remote_hang_up(clock.now());
                }
            },
        }
    }
    info!(path = %path.display(), "modem stopped");
    Ok(())
}

/// The last DTE closed the port: DTR drops (issue 16 #6, #7: only the last close of any
/// number of openers counts, as on a real serial port).
fn dtr_dropped(modem: &mut Modem, to_dte: &mut Vec<u8>, slave: &pty_process::Pts, now: Instant) {
    info!("DTE closed the port: DTR dropped");
    modem.dtr_drop(now);
    // Anything still queued for the old DTE must not reach the next one.
    to_dte.clear();
    if let Err(errno) = termios::tcflush(slave, QueueSelector::IFlush) {
        warn!(%errno, "cannot discard output the DTE left unread");
    }
}

/// How many programs hold the slave open (not counting this one's own descriptor, opened
/// before the watch began), from the inotify open and close events.
#[derive(Debug, Default)]
struct Openers {
    count: u32,
}

/// The watch's next readiness; never, without a watch.
async fn readable(
    closes: Option<&AsyncFd<rustix::fd::OwnedFd>>,
) -> io::Result<tokio::io::unix::AsyncFdReadyGuard<'_, rustix::fd::OwnedFd>> {
    match closes {
        Some(closes) => closes.readable().await,
        None => std::future::pending().await,
    }
}

/// What the DTE's opens and closes did to DTR since they were last looked at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dtr {
    /// Someone held the port throughout.
    Held,
    /// The last opener closed it, and nobody has opened it again.
    Dropped,
    /// The last opener closed it and a new one has opened it since: DTR dropped and rose.
    Pulsed,
}

impl Openers {
    /// Take the queued events and say what they did to DTR.
    fn update(&mut self, fd: &rustix::fd::OwnedFd, buf: &mut [MaybeUninit<u8>]) -> Dtr {
        let mut reader = inotify::Reader::new(fd, buf);
        let mut dropped = false;
        loop {
            match reader.next() {
                Ok(event) => {
                    let flags = event.events();
                    if flags.contains(inotify::ReadFlags::OPEN) {
                        self.count += 1;
                    }
                    if flags.intersects(
                        inotify::ReadFlags::CLOSE_WRITE | inotify::ReadFlags::CLOSE_NOWRITE,
                    ) {
                        self.count = self.count.saturating_sub(1);
                        dropped |= self.count == 0;
                    }
                    if flags.contains(inotify::ReadFlags::QUEUE_OVERFLOW) {
                        // Events were lost: the count is a guess from here on.
                        warn!("too many opens and closes of the port to follow");
                    }
                }
                Err(rustix::io::Errno::AGAIN) => break,
                Err(errno) => {
                    warn!(%errno, "cannot read open and close notifications");
                    break;
                }
            }
        }
        match (dropped, self.count) {
            (false, _) => Dtr::Held,
            (true, 0) => Dtr::Dropped,
            (true, _) => Dtr::Pulsed,
        }
    }
}

/// An inotify descriptor that reports every open and close of the slave by anyone.
fn watch_closes(path: &Path) -> Result<AsyncFd<rustix::fd::OwnedFd>, ModemSimError> {
    let fd = inotify::init(inotify::CreateFlags::NONBLOCK | inotify::CreateFlags::CLOEXEC)
        .map_err(set_up("inotify_init"))?;
    inotify::add_watch(
        &fd,
        path,
        inotify::WatchFlags::OPEN
            | inotify::WatchFlags::CLOSE_WRITE
            | inotify::WatchFlags::CLOSE_NOWRITE,
    )
    .map_err(set_up("inotify_add_watch"))?;
    // `AsyncFd::new` is deprecated for types whose `as_raw_fd` could change under it; an
    // `OwnedFd` keeps one descriptor for its whole life, which is what `register` (the
    // unsafe replacement this crate may not call) asks the caller to promise.
    #[allow(deprecated)]
    AsyncFd::new(fd).map_err(|source| ModemSimError::SetUp {
        what: "inotify registration",
        source,
    })
}

/// Move everything that can move without waiting: the modem's output and events, line
/// bytes between the modem and the peer, and the peer's hang-up.
fn pump(
    modem: &mut Modem,
    peer: &mut Option<FarEnd>,
    call_backs: &mut CallBacks,
    peers: &mut PeerFactory,
    control: &Path,
    to_dte: &mut Vec<u8>,
    now: Instant,
) {
    loop {
        let mut moved = false;
        while let Some(bytes) = modem.poll_transmit() {
            to_dte.extend_from_slice(&bytes);
        }
        while let Some(event) = modem.poll_event() {
            moved = true;
            match event {
                ModemEvent::CommandLine(line) => debug!(%line, "DTE command"),
                ModemEvent::Result(code) => debug!(%code, "modem result"),
                ModemEvent::CallConnected {
                    number,
                    speed,
                    peer: spec,
                } => {
                    let call = CallInfo {
                        number,
                        speed,
                        peer: spec,
                    };
                    let far_end = match (&call.peer, call_backs.answering.take()) {
                        // The far end that asked for this callback answers it.
                        (_, Some(machine)) => Ok(FarEnd::Machine(machine)),
                        (PeerSpec::Builtin, None) => peers(&call).map(FarEnd::Machine),
                        (PeerSpec::Exec(command), None) => {
                            exec_peer(command, control).map(FarEnd::Stream)
                        }
                        (PeerSpec::Tcp(address), None) => {
                            Ok(FarEnd::Stream(tcp_peer(address.clone())))
                        }
                    };
                    match far_end {
                        Ok(far_end) => {
                            info!(number = %call.number, speed, peer = ?call.peer, "call connected");
                            *peer = Some(far_end);
                        }
                        Err(reason) => {
                            warn!(number = %call.number, %reason, "no peer for the call");
                            modem.remote_hang_up(now);
                        }
                    }
                }
                ModemEvent::CallEnded => {
                    info!("call ended");
                    *peer = None;
                }
            }
        }
        if let Some(FarEnd::Stream(stream)) = peer.as_mut() {
            while let Some(bytes) = modem.poll_line_transmit() {
                // A closed channel means the stream ended; its hang-up is on the way.
                let _ = stream.to_far.send(bytes);
            }
        }
        if let Some(FarEnd::Machine(far_end)) = peer.as_mut() {
            while let Some(bytes) = modem.poll_line_transmit() {
                far_end.handle_input(now, &bytes);
                moved = true;
            }
            while let Some(bytes) = far_end.poll_transmit() {
                modem.handle_line_input(now, &bytes);
                moved = true;
            }
            let mut hung_up = false;
            let mut call_back = None;
            while let Some(event) = far_end.poll_event() {
                match event {
                    PeerEvent::HangUp => hung_up = true,
                    PeerEvent::CallBack { number, after } => call_back = Some((number, after)),
                }
            }
            if let Some((number, after)) = call_back
                && let Some(FarEnd::Machine(machine)) = peer.take()
            {
                call_backs.requests.push(CallBackRequest {
                    number,
                    after,
                    machine: Some(machine),
                });
            }
            if hung_up {
                info!("far end hung up");
                modem.remote_hang_up(now);
                moved = true;
            }
        }
        if !moved {
            return;
        }
    }
}

/// The line rate of a callback when the call it follows has already gone.
const CALLBACK_SPEED: u32 = 33_600;

/// The far end of a connected call.
enum FarEnd {
    /// A sans-IO peer run by this loop.
    Machine(LinePeer),
    /// A process or a TCP connection, shuttled by its own task.
    Stream(StreamPeer),
}

/// A byte stream at the far end, bridged to the loop by two channels. Dropping it stops
/// the task, which drops (and so kills or closes) the process or connection.
struct StreamPeer {
    to_far: mpsc::UnboundedSender<Vec<u8>>,
    from_far: mpsc::UnboundedReceiver<Vec<u8>>,
    task: JoinHandle<()>,
    /// An `exec:` far end's process group, ended with the call.
    group: Option<ProcessGroup>,
}

impl Drop for StreamPeer {
    fn drop(&mut self) {
        self.task.abort();
        drop(self.group.take());
    }
}

/// The process group an `exec:` far end runs in: the command and everything it forks.
/// Dropping it kills the whole group, so nothing the command started outlives the call,
/// or modem-sim (whose stop on SIGTERM or Ctrl-C drops every call).
#[derive(Debug)]
struct ProcessGroup(rustix::process::Pid);

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        match rustix::process::kill_process_group(self.0, rustix::process::Signal::KILL) {
            // ESRCH: every member has already exited.
            Ok(()) | Err(rustix::io::Errno::SRCH) => {}
            Err(errno) => {
                warn!(pgid = self.0.as_raw_nonzero().get(), %errno, "cannot end the far end's processes")
            }
        }
    }
}

/// The next bytes from a stream far end; `None` once it ended. Pending forever when the
/// far end is not a stream.
async fn from_stream(peer: &mut Option<FarEnd>) -> Option<Vec<u8>> {
    match peer {
        Some(FarEnd::Stream(stream)) => stream.from_far.recv().await,
        Some(FarEnd::Machine(_)) | None => std::future::pending().await,
    }
}

/// Run `bridge` on its own task with the two channel ends it needs.
fn stream_peer<F, Fut>(bridge: F) -> StreamPeer
where
    F: FnOnce(mpsc::UnboundedReceiver<Vec<u8>>, mpsc::UnboundedSender<Vec<u8>>) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let (to_far, outgoing) = mpsc::unbounded_channel();
    let (incoming, from_far) = mpsc::unbounded_channel();
    StreamPeer {
        to_far,
        from_far,
        task: tokio::spawn(bridge(outgoing, incoming)),
        group: None,
    }
}

/// `exec:`: run `command` (directly, or with `sh -c` when it uses shell syntax; see
/// [`FarCommand`]) in a process group of its own, its stdin and stdout the line, its
/// stderr ours, with the modem's control socket in its environment.
fn exec_peer(command: &str, control: &Path) -> Result<StreamPeer, String> {
    let mut process = match FarCommand::parse(command) {
        FarCommand::Direct(words) => {
            let Some((program, args)) = words.split_first() else {
                return Err(format!("{command:?} names no program"));
            };
            let mut process = tokio::process::Command::new(program);
            process.args(args);
            process
        }
        FarCommand::Shell(line) => {
            let mut process = tokio::process::Command::new("sh");
            process.arg("-c").arg(line);
            process
        }
    };
    let mut child = process
        .env(CONTROL_ENV, control)
        // Its own group (pgid = its pid), so the call's end can reach its children too.
        .process_group(0)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|err| format!("cannot run {command:?}: {err}"))?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(format!("{command:?} has no stdin or stdout"));
    };
    info!(%command, pid = ?child.id(), "far end: process");
    let group = child
        .id()
        .and_then(|pid| i32::try_from(pid).ok())
        .and_then(rustix::process::Pid::from_raw)
        .map(ProcessGroup);
    let mut peer = stream_peer(move |outgoing, incoming| async move {
        if let Err(err) = shuttle(stdout, stdin, outgoing, incoming).await {
            warn!(%err, "far-end process I/O failed");
        }
        // Dropping the child kills it if it is still running (kill_on_drop); the
        // StreamPeer's group kills what it forked.
        drop(child);
    });
    peer.group = group;
    Ok(peer)
}

/// `tcp:`: connect to `address`; a refused connection is a far end that hangs up.
fn tcp_peer(address: String) -> StreamPeer {
    stream_peer(move |outgoing, incoming| async move {
        match tokio::net::TcpStream::connect(&address).await {
            Ok(stream) => {
                info!(%address, "far end: TCP connection");
                let (reader, writer) = stream.into_split();
                if let Err(err) = shuttle(reader, writer, outgoing, incoming).await {
                    warn!(%address, %err, "far-end connection failed");
                }
            }
            Err(err) => warn!(%address, %err, "cannot connect to the far end"),
        }
    })
}

/// Copy `reader` to `incoming` and `outgoing` to `writer` until either side ends.
async fn shuttle(
    mut reader: impl AsyncRead + Unpin,
    mut writer: impl AsyncWrite + Unpin,
    mut outgoing: mpsc::UnboundedReceiver<Vec<u8>>,
    incoming: mpsc::UnboundedSender<Vec<u8>>,
) -> io::Result<()> {
    let mut buf = vec![0u8; 4096];
    loop {
        tokio::select! {
            read = reader.read(&mut buf) => {
                let n = read?;
                if n == 0 || incoming.send(buf[..n].to_vec()).is_err() {
                    return Ok(());
                }
            }
            bytes = outgoing.recv() => match bytes {
                Some(bytes) => {
                    writer.write_all(&bytes).await?;
                    writer.flush().await?;
                }
                None => return Ok(()),
            },
        }
    }
}

/// A modem served on its own thread; dropping it stops the modem and closes the PTY.
#[derive(Debug)]
pub struct PtyModem {
    path: PathBuf,
    incoming: mpsc::UnboundedSender<IncomingCall>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<Result<(), ModemSimError>>>,
}

impl PtyModem {
    /// The slave's path (`/dev/pts/N`): what the dialer opens.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Have the network call the modem (it rings; see [`Modem::incoming_call`]). Ignored
    /// once the modem has stopped.
    pub fn call_in(&self, call: IncomingCall) {
        // A closed channel means the loop has ended: nobody is there to ring.
        let _ = self.incoming.send(call);
    }

    /// Stop the modem and wait for its thread; reports how serving ended.
    pub fn shutdown(mut self) -> Result<(), ModemSimError> {
        self.stop_and_join()
    }

    fn stop_and_join(&mut self) -> Result<(), ModemSimError> {
        if let Some(stop) = self.stop.take() {
            // The loop may already have ended on an error; then there is nobody to tell.
            let _ = stop.send(());
        }
        match self.thread.take() {
            Some(thread) => thread.join().map_err(|_| ModemSimError::Panicked)?,
            None => Ok(()),
        }
    }
}

impl Drop for PtyModem {
    fn drop(&mut self) {
        if let Err(err) = self.stop_and_join() {
            warn!(error = %err, "modem stopped with an error");
        }
    }
}

/// Serve a fresh [`Modem`] on `network` on a new PTY, on its own thread with a
/// current-thread tokio runtime, at `pace` (a [`sansio::TimeScale`] runs modeled delays and
/// timers alike). Returns once the slave path is ready to open.
/// The modem is the network's first (its number `network.modem_number(0)`), alone on its
/// exchange.
pub fn spawn_pty(
    network: Network,
    peers: PeerFactory,
    pace: impl Into<Pace>,
) -> Result<PtyModem, ModemSimError> {
    spawn_pty_on(network, peers, pace, &Exchange::default(), 0)
}

/// As [`spawn_pty`], for the network's modem number `index` (0-based), reachable through
/// `exchange` by its number: modems spawned on one exchange can call each other back.
pub fn spawn_pty_on(
    network: Network,
    peers: PeerFactory,
    pace: impl Into<Pace>,
    exchange: &Exchange,
    index: usize,
) -> Result<PtyModem, ModemSimError> {
    let pace = pace.into();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ModemSimError::Runtime)?;
    let pty = {
        let _inside = runtime.enter();
        ModemPty::open()?
    };
    let path = pty.path().to_owned();
    let (stop, stopped) = oneshot::channel::<()>();
    let (incoming, calls) = mpsc::unbounded_channel();
    let clock = RealClock::start(pace.timers);
    let number = network.modem_number(index);
    exchange.connect(&number, incoming.clone());
    let exchange = exchange.clone();
    let thread = thread::Builder::new()
        .name(format!("modem-sim {}", path.display()))
        .spawn(move || {
            let shutdown = async move {
                // A dropped sender means stop too.
                let _ = stopped.await;
            };
            runtime.block_on(serve(
                Modem::new(network)
                    .with_number(&number)
                    .with_delays(pace.delays_on_clock()),
                pty,
                peers,
                clock,
                calls,
                exchange,
                shutdown,
            ))
        })
        .map_err(ModemSimError::Runtime)?;
    Ok(PtyModem {
        path,
        incoming,
        stop: Some(stop),
        thread: Some(thread),
    })
}
