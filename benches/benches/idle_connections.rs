//! `idle_connections`: what one connected, idle connection costs the realtime driver.
//! N modem-sim modems on PTYs (one thread of their own), one `Ras` dialing all of them,
//! and, once every connection is up and quiet, the live heap counted by an allocation-
//! counting global allocator (dhat's), not guessed from RSS. Issue 9's target: at most
//! 64 KiB a connection, growing linearly. Also reports the engine's threads.
//!
//! `cargo bench -p benches --bench idle_connections` (prints a table; no criterion
//! timing: this measures memory).

use std::sync::mpsc;
use std::time::Duration;

use modem_sim::Network;
use modem_sim::rack::{DtrWatch, spawn_rack};
use modem_sim::realtime::CallInfo;
use ppp_peer_sim::{Script, Server};
use ras_engine::api::{DialParams, EngineConfig, Notifier, Ras};
use ras_engine::phonebook::{Entry, Phonebook};
use ras_engine::ras::RasConnState;
use sansio::TimeScale;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

const NETWORK: &str = "numbers:\n  \"5551234\": {connect: 33600, peer: builtin}\n";
const SCRIPT: &str = "auth: pap\nusers: {alice: wonderland}\n";

/// Live heap bytes now.
fn live() -> u64 {
    dhat::HeapStats::get().curr_bytes as u64
}

/// Threads of this process whose name starts with `prefix`.
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|tasks| {
            tasks
                .flatten()
                .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
                .filter(|name| name.starts_with(prefix))
                .count()
        })
        .unwrap_or(0)
}

/// Connect `count` entries, then measure the heap the connections hold.
fn measure(count: usize) -> (u64, usize) {
    let scale = TimeScale::new(0.05).expect("valid");
    let network = Network::from_yaml(NETWORK).expect("network");
    let script = Script::from_yaml(SCRIPT).expect("script");
    let rack = spawn_rack(
        count,
        &network,
        |index| {
            let script = script.clone();
            Box::new(move |_: &CallInfo| Ok(Server::new(script.clone(), index as u32).boxed()))
        },
        scale,
        DtrWatch::Unwatched,
    )
    .expect("modems");
    let phonebook = Phonebook::from_entries(
        rack.paths()
            .iter()
            .enumerate()
            .map(|(i, path)| Entry::modem(format!("E{i}"), path, "5551234")),
    );
    let ras = Ras::new(EngineConfig {
        time_scale: scale,
        seed: Some(1),
        // No keepalive traffic is needed to be idle; the engine's default keeps it.
        ..EngineConfig::default()
    });
    // Warm the engine (its thread, runtime and first allocations) with the table empty.
    std::thread::sleep(Duration::from_millis(50));
    let before = live();
    let (tx, rx) = mpsc::channel();
    let mut handles = Vec::new();
    for i in 0..count {
        let tx = tx.clone();
        let notifier = Notifier::Func(Box::new(move |_, state, error| {
            if state == RasConnState::Connected || error != 0 {
                let _ = tx.send(error);
            }
        }));
        let params = DialParams {
            entry_name: format!("E{i}"),
            user_name: "alice".into(),
            password: "wonderland".into(),
            ..DialParams::default()
        };
        handles.push(
            ras.dial(None, &phonebook, &params, Some(notifier))
                .expect("dial"),
        );
    }
    for _ in 0..count {
        let error = rx
            .recv_timeout(Duration::from_secs(120))
            .expect("every dial ends");
        assert_eq!(error, 0, "a dial failed");
    }
    // Idle: the notifier threads go (2 s keep-alive) and nothing is in flight.
    std::thread::sleep(Duration::from_secs(3));
    let after = live();
    let threads = threads_named("ras-");
    for handle in handles {
        let _ = ras.hang_up(handle);
        ras.wait_released(handle);
    }
    drop(rack);
    // The rack's modems and servers live in this process too: the figure is engine plus
    // far ends, an upper bound for the engine alone.
    (after.saturating_sub(before) / count as u64, threads)
}

fn main() {
    let _profiler = dhat::Profiler::builder().testing().build();
    // modem-sim watches each PTY with an inotify instance and Linux allows 128 a user by
    // default, which caps the rack (the engine itself has no such limit).
    let sizes = [1usize, 10, 100];
    println!("| connections | live heap per connection | engine threads |");
    println!("|---:|---:|---:|");
    for count in sizes {
        let (per_connection, threads) = measure(count);
        println!(
            "| {count} | {:.1} KiB | {threads} |",
            per_connection as f64 / 1024.0
        );
    }
}
