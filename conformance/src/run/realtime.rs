//! The realtime driver: modem-sim serves a real PTY on its own thread, the engine opens
//! the slave by its path as a serial port, and the scenario's application dials through
//! the public `Ras` API at [`PACE`]: modeled delays (the modem's, the network's) shrunk
//! by the default scale, protocol timers, deadlines and the application's own time by a
//! more generous one.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use modem_sim::realtime::{CallInfo, Exchange, spawn_pty_on};
use ras_engine::api::{HRasConn, Ras};
use sansio::{Pace, RealClock};

use super::app::{Spend, World, play_scenario};
use super::{Record, RunOptions, builtin_peer, engine_config, phonebook};
use crate::report::timeline::Clock;
use crate::scenario::Scenario;

/// Real time a run may wait for something to happen before it counts as stuck. At the
/// default time scale a whole PAP dial takes a small fraction of this.
const WAIT_LIMIT: Duration = Duration::from_secs(20);
/// How often the application looks again while it waits.
const POLL: Duration = Duration::from_micros(200);

/// The realtime driver's two knobs (issue 15): modeled delays (the modem's, the
/// network's) at the default 0.01, protocol timers, deadlines and the application's
/// time more generous, so that a loaded machine does not fail a dial on a timer.
pub const PACE: Pace = Pace::SIMULATED_DEVICES;

struct Realtime {
    ras: Ras,
    pace: Pace,
    /// Started with the engine, so its instants are close to the engine's own (and to
    /// the capture's, counted from the engine's start).
    clock: Arc<RealClock>,
}

impl World for Realtime {
    fn ras(&self) -> &Ras {
        &self.ras
    }

    fn wait(&self, ready: &mut dyn FnMut() -> bool) -> bool {
        let started = Instant::now();
        loop {
            if ready() {
                return true;
            }
            if started.elapsed() > WAIT_LIMIT {
                return false;
            }
            std::thread::sleep(POLL);
        }
    }

    // The application's own time (a program's `wait N`, a slow notifier) runs on the
    // engine's clock, as in the lab: a scenario's seconds are measured against RAS's own
    // timers and windows (a dial-as-needed sample window, the modem's response timer),
    // which run at the timer scale, not at the modem's modeled pace.
    fn sleep(&self, time: sansio::Duration) {
        std::thread::sleep(self.pace.timers.to_real(time));
    }

    fn spender(&self) -> Spend {
        let timers = self.pace.timers;
        Arc::new(move |time| std::thread::sleep(timers.to_real(time)))
    }

    fn clock(&self) -> Clock {
        let clock = Arc::clone(&self.clock);
        Arc::new(move || clock.now())
    }
}

pub(super) fn run(scenario: &Scenario, options: RunOptions) -> Result<Record, String> {
    let mut config = engine_config(scenario);
    config.time_scale = PACE.timers;
    // The engine writes its capture file into a folder of this run's own, read back below.
    let capture_dir = options.capture.then(CaptureDir::create).transpose()?;
    config.capture_dir = capture_dir.as_ref().map(|dir| dir.0.clone());
    let factory_scenario = Arc::new(scenario.clone());
    // One server process for every modem's calls (multilink bundles span them).
    let bundles = ppp_peer_sim::Bundles::default();
    let peers = move || -> modem_sim::realtime::PeerFactory {
        let scenario = Arc::clone(&factory_scenario);
        let bundles = bundles.clone();
        Box::new(move |_call: &CallInfo| builtin_peer(&scenario, scenario.file.seed, &bundles))
    };
    // One exchange: a callback reaches whichever modem owns the number.
    let exchange = Exchange::default();
    let modems = (0..usize::from(scenario.file.modems.max(1)))
        .map(|index| {
            let network = scenario.file.network.clone();
            spawn_pty_on(network, peers(), PACE, &exchange, index)
                .map_err(|e| format!("cannot start modem-sim on a PTY: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let devices: Vec<PathBuf> = modems.iter().map(|m| m.path().to_owned()).collect();
    let clock = Arc::new(RealClock::start(config.time_scale));
    // The engine's capture counts its clock from the wall-clock time it opened the file,
    // a moment after this.
    let capture_origin = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let world = Realtime {
        ras: Ras::new(config.clone()),
        pace: PACE,
        clock,
    };
    let mut record = play_scenario(&world, scenario, &phonebook(scenario, &devices)?)?;
    // The application waited for the ports to be released: the links are down and the
    // engine has written its last frame (the capture file is unbuffered).
    drop(modems);
    // The first dial of a fresh table has handle 1, and a multilink connection's first
    // link (the first modem's line, what the simulated driver reads) the subentry handle
    // after it; a dial that never got a handle left no file.
    let path = [1, 2].into_iter().find_map(|raw| {
        config
            .capture_path(&scenario.file.entry.name, HRasConn::from_raw(raw))
            .filter(|path| path.exists())
    });
    if let Some(path) = path {
        record.capture = Some(read_capture(&path)?);
        record.capture_origin = capture_origin;
    }
    // What the run could have taken at best: reported beside its wall time (`--json`).
    record.floor = super::simulated::realtime_floor(scenario, PACE).ok();
    Ok(record)
}

/// A fresh folder for one run's capture, removed when the run is over.
struct CaptureDir(PathBuf);

impl CaptureDir {
    fn create() -> Result<Self, String> {
        // Runs may go on in parallel (one per test thread): each gets its own folder.
        static RUNS: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "conformance-capture-{}-{}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create the capture folder {}: {e}", dir.display()))?;
        Ok(CaptureDir(dir))
    }
}

impl Drop for CaptureDir {
    fn drop(&mut self) {
        // Leftovers in the temporary folder are harmless.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn read_capture(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path)
        .map_err(|e| format!("the engine left no capture at {}: {e}", path.display()))
}
