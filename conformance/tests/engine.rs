//! The realtime driver's shape (issue 9): every connection of a `Ras` on one engine
//! thread, notifiers on other threads, and a slow notifier holding up only its own
//! connection. Modems are modem-sim machines on real PTYs, all served by one thread of
//! this test, so the threads counted are the engine's.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use modem_sim::Network;
use modem_sim::rack::{DtrWatch, PtyRack, spawn_rack};
use modem_sim::realtime::CallInfo;
use ppp_peer_sim::{Script, Server};
use ras_engine::api::{DialParams, EngineConfig, Notifier, Ras};
use ras_engine::phonebook::{Entry, Phonebook};
use ras_engine::ras::RasConnState;
use sansio::TimeScale;

const NETWORK: &str = "numbers:\n  \"5551234\": {connect: 33600, peer: builtin}\n";
const SCRIPT: &str = "auth: pap\nusers: {alice: wonderland}\n";
/// Slower than the default scale: a hundred dials at once on a loaded 2-core machine must
/// not run into their own protocol timers.
const SCALE: f64 = 0.1;

/// `count` modems on PTYs, all served by one thread of this test.
fn rack(count: usize, dtr: DtrWatch, scale: f64) -> PtyRack {
    let network = Network::from_yaml(NETWORK).expect("network");
    let script = Script::from_yaml(SCRIPT).expect("script");
    spawn_rack(
        count,
        &network,
        |index| {
            let script = script.clone();
            let seed = index as u32;
            Box::new(move |_: &CallInfo| Ok(Server::new(script.clone(), seed).boxed()))
        },
        TimeScale::new(scale).expect("valid"),
        dtr,
    )
    .expect("modems on PTYs")
}

fn params(entry: &str) -> DialParams {
    DialParams {
        entry_name: entry.to_owned(),
        user_name: "alice".to_owned(),
        password: "wonderland".to_owned(),
        ..DialParams::default()
    }
}

fn ras(scale: f64) -> Ras {
    Ras::new(EngineConfig {
        time_scale: TimeScale::new(scale).expect("valid"),
        // Guards, not models: a thousand dials starting at once keep both cores busy for
        // a while, and these bound only a dead device or a stuck negotiation.
        modem_response_timeout: Duration::from_secs(600),
        ppp_deadline: Duration::from_secs(600),
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

/// How many connections the thread-count test holds at once (issue 9: a thousand). The
/// rack's modems do not watch DTR (no inotify instance each), since no port closes
/// mid-call here.
const CONNECTIONS: usize = 1_000;
/// Real time for the thousand: their modems and servers share one thread of this test,
/// and the servers' own PPP timers (a 3 s restart, ten tries) must not run out while
/// it works through a thousand handshakes on a 2-core machine.
const THOUSAND_SCALE: f64 = 1.0;

#[test]
fn many_connections_share_one_engine_thread() {
    let rack = rack(CONNECTIONS, DtrWatch::Unwatched, THOUSAND_SCALE);
    let entries: Vec<Entry> = rack
        .paths()
        .iter()
        .enumerate()
        .map(|(index, path)| Entry::modem(format!("ISP {index}"), path, "5551234"))
        .collect();
    let phonebook = Phonebook::from_entries(entries);
    let ras = ras(THOUSAND_SCALE);
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
    for &handle in &handles {
        ras.hang_up(handle).expect("hang up");
    }
    for handle in handles {
        ras.wait_released(handle);
    }
}

#[test]
fn a_slow_notifier_holds_up_only_its_own_connection() {
    let rack = rack(2, DtrWatch::Watched, SCALE);
    let phonebook = Phonebook::from_entries([
        Entry::modem("Slow", &rack.paths()[0], "5551234"),
        Entry::modem("Quick", &rack.paths()[1], "5551234"),
    ]);
    let ras = ras(SCALE);
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
