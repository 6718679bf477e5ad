//! The realtime driver's shape (issue 9): every connection of a `Ras` on one engine
//! thread, notifiers on other threads, and a slow notifier holding up only its own
//! connection. Modems are modem-sim machines on real PTYs, all served by one thread of
//! this test, so the threads counted are the engine's.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use modem_sim::Network;
use modem_sim::realtime::{CallInfo, ModemPty, serve};
use ppp_peer_sim::{Script, Server};
use ras_engine::api::{DialParams, EngineConfig, Notifier, Ras};
use ras_engine::phonebook::{Entry, Phonebook};
use ras_engine::ras::RasConnState;
use sansio::{RealClock, TimeScale};

const NETWORK: &str = "numbers:\n  \"5551234\": {connect: 33600, peer: builtin}\n";
const SCRIPT: &str = "auth: pap\nusers: {alice: wonderland}\n";
/// Slower than the default scale: a hundred dials at once on a loaded 2-core machine must
/// not run into their own protocol timers.
const SCALE: f64 = 0.1;

/// `count` modems on PTYs, all served by one thread; dropping it stops them.
struct ModemRack {
    paths: Vec<PathBuf>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ModemRack {
    fn start(count: usize) -> ModemRack {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let network = Network::from_yaml(NETWORK).expect("network");
        let script = Script::from_yaml(SCRIPT).expect("script");
        let clock = RealClock::start(TimeScale::new(SCALE).expect("valid"));
        let mut paths = Vec::new();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        {
            let _inside = runtime.enter();
            for index in 0..count {
                let pty = ModemPty::open().expect("a PTY");
                paths.push(pty.path().to_owned());
                let script = script.clone();
                let seed = index as u32;
                let peers =
                    Box::new(move |_: &CallInfo| Ok(Server::new(script.clone(), seed).boxed()));
                let (_calls, incoming) = tokio::sync::mpsc::unbounded_channel();
                runtime.spawn(serve(
                    modem_sim::Modem::new(network.clone()),
                    pty,
                    peers,
                    clock,
                    incoming,
                    modem_sim::realtime::Exchange::default(),
                    std::future::pending(),
                ));
            }
        }
        let thread = std::thread::spawn(move || {
            runtime.block_on(async {
                let _ = stopped.await;
            });
        });
        ModemRack {
            paths,
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

impl Drop for ModemRack {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn params(entry: &str) -> DialParams {
    DialParams {
        entry_name: entry.to_owned(),
        user_name: "alice".to_owned(),
        password: "wonderland".to_owned(),
        ..DialParams::default()
    }
}

fn ras() -> Ras {
    Ras::new(EngineConfig {
        time_scale: TimeScale::new(SCALE).expect("valid"),
        ..EngineConfig::default()
    })
}

/// Threads of this process whose name starts with `prefix`.
fn threads_named(prefix: &str) -> usize {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

/// How many connections the thread-count test holds at once. modem-sim watches each PTY
/// with an inotify instance, and Linux allows 128 per user by default; the engine side
/// has no such limit.
const CONNECTIONS: usize = 100;

#[test]
fn many_connections_share_one_engine_thread() {
    let rack = ModemRack::start(CONNECTIONS);
    let entries: Vec<Entry> = rack
        .paths
        .iter()
        .enumerate()
        .map(|(index, path)| Entry::modem(format!("ISP {index}"), path, "5551234"))
        .collect();
    let phonebook = Phonebook::from_entries(entries);
    let ras = ras();
    let (tx, rx) = mpsc::channel();
    let mut handles = Vec::new();
    for index in 0..CONNECTIONS {
        let tx = tx.clone();
        let notifier = Notifier::Func(Box::new(move |_, state, error| {
            if state == RasConnState::Connected || error != 0 {
                let _ = tx.send((index, state, error));
            }
        }));
        handles.push(
            ras.dial(
                None,
                &phonebook,
                &params(&format!("ISP {index}")),
                Some(notifier),
            )
            .expect("dial starts"),
        );
    }
    for _ in 0..CONNECTIONS {
        let (index, state, error) = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("every dial ends");
        assert_eq!(
            (state, error),
            (RasConnState::Connected, 0),
            "connection {index}"
        );
    }
    assert_eq!(ras.enum_connections().len(), CONNECTIONS);
    // Idle: the notifier threads go once their keep-alive has passed; the engine is one
    // thread however many connections it holds.
    let deadline = Instant::now() + Duration::from_secs(10);
    while threads_named("ras-notifier") > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(threads_named("ras-engine"), 1);
    assert_eq!(threads_named("ras-notifier"), 0);
    for handle in handles {
        ras.hang_up(handle).expect("hang up");
    }
    for handle in ras.enum_connections() {
        ras.wait_released(handle.handle);
    }
}

#[test]
fn a_slow_notifier_holds_up_only_its_own_connection() {
    let rack = ModemRack::start(2);
    let phonebook = Phonebook::from_entries([
        Entry::modem("Slow", &rack.paths[0], "5551234"),
        Entry::modem("Quick", &rack.paths[1], "5551234"),
    ]);
    let ras = ras();
    let (tx, rx) = mpsc::channel();
    let slow_tx = tx.clone();
    let slow = Notifier::Func(Box::new(move |_, state, _| {
        if state == RasConnState::DeviceConnected {
            // The application takes its time (a dialog box, say).
            std::thread::sleep(Duration::from_secs(2));
            let _ = slow_tx.send(("slow notifier returned", Instant::now()));
        }
        if state == RasConnState::Connected {
            let _ = slow_tx.send(("slow connected", Instant::now()));
        }
    }));
    let quick = Notifier::Func(Box::new(move |_, state, _| {
        if state == RasConnState::Connected {
            let _ = tx.send(("quick connected", Instant::now()));
        }
    }));
    let slow_handle = ras
        .dial(None, &phonebook, &params("Slow"), Some(slow))
        .expect("dial");
    let quick_handle = ras
        .dial(None, &phonebook, &params("Quick"), Some(quick))
        .expect("dial");
    let mut seen: Vec<(&str, Instant)> = (0..3)
        .map(|_| rx.recv_timeout(Duration::from_secs(30)).expect("event"))
        .collect();
    seen.sort_by_key(|(_, at)| *at);
    let order: Vec<&str> = seen.iter().map(|(what, _)| *what).collect();
    assert_eq!(
        order,
        [
            "quick connected",
            "slow notifier returned",
            "slow connected"
        ],
        "the quick dial connects while the slow notifier runs, and the slow dial waits for it"
    );
    for handle in [slow_handle, quick_handle] {
        ras.hang_up(handle).expect("hang up");
        ras.wait_released(handle);
    }
}
