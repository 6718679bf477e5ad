//! Many modems on one thread: `count` PTYs, each served by its own [`Modem`] (the same
//! [`serve`] loop `modem-sim --count N` runs), all on one current-thread tokio runtime.
//! For tests and benches that hold hundreds of calls at once without a thread per modem.

use std::path::{Path, PathBuf};
use std::thread;

use sansio::{Pace, RealClock};
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

use crate::modem::Modem;
use crate::network::Network;
use crate::realtime::{Exchange, ModemPty, ModemSimError, PeerFactory, serve};

/// Modems served on one thread; dropping the rack stops them and closes their PTYs.
#[derive(Debug)]
pub struct PtyRack {
    paths: Vec<PathBuf>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl PtyRack {
    /// The slaves' paths (`/dev/pts/N`), one per modem, in order.
    pub fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// Modem `index`'s slave path.
    pub fn path(&self, index: usize) -> Option<&Path> {
        self.paths.get(index).map(PathBuf::as_path)
    }
}

impl Drop for PtyRack {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // The thread may have ended already; nobody to tell then.
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            warn!("the rack's thread panicked");
        }
    }
}

/// Whether a rack's modems watch their DTE's opens and closes (DTR).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtrWatch {
    /// Closing the port drops DTR, as for a standalone modem: one inotify instance per
    /// modem, of which Linux allows 128 a user by default.
    Watched,
    /// DTR never drops ([`ModemPty::open_unwatched`]): for DTEs that keep their ports
    /// open while served, in any number.
    Unwatched,
}

/// Serve `count` modems on `network`, each call's far end built by `peers(index)`'s
/// factory, at `pace`, all on one new thread. Returns once every slave path is ready.
pub fn spawn_rack(
    count: usize,
    network: &Network,
    mut peers: impl FnMut(usize) -> PeerFactory,
    pace: impl Into<Pace>,
    dtr: DtrWatch,
) -> Result<PtyRack, ModemSimError> {
    let pace = pace.into();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ModemSimError::Runtime)?;
    let clock = RealClock::start(pace.timers);
    let (stop, stopped) = oneshot::channel::<()>();
    let mut paths = Vec::with_capacity(count);
    let exchange = Exchange::default();
    {
        let _inside = runtime.enter();
        for index in 0..count {
            let pty = match dtr {
                DtrWatch::Watched => ModemPty::open()?,
                DtrWatch::Unwatched => ModemPty::open_unwatched()?,
            };
            paths.push(pty.path().to_owned());
            // The rack places no calls of its own; a far end calling back rings the modem
            // owning the number through the rack's exchange.
            let number = network.modem_number(index);
            let (line, calls) = mpsc::unbounded_channel();
            exchange.connect(&number, line);
            let modem = serve(
                Modem::new(network.clone())
                    .with_number(&number)
                    .with_delays(pace.delays_on_clock()),
                pty,
                peers(index),
                clock,
                calls,
                exchange.clone(),
                std::future::pending(),
            );
            runtime.spawn(async move {
                if let Err(error) = modem.await {
                    warn!(%error, "a rack modem stopped");
                }
            });
        }
    }
    let thread = thread::Builder::new()
        .name("modem-sim rack".to_owned())
        .spawn(move || {
            runtime.block_on(async {
                // A dropped sender means stop too.
                let _ = stopped.await;
            });
        })
        .map_err(ModemSimError::Runtime)?;
    Ok(PtyRack {
        paths,
        stop: Some(stop),
        thread: Some(thread),
    })
}
