//! `realtime_dial`: a PAP dial to Connected over a real PTY, in one process: modem-sim
//! serving the PTY (`spawn_pty`, its ppp-peer-sim server as the far end), the engine's
//! realtime driver opening the slave as a serial port, a synchronous `RasDial` through the
//! public `Ras` API. Issue 15's row "a realtime dial within 2× of the line".
//!
//! Two paces, both with protocol timers at `Pace::SIMULATED_DEVICES`' generous scale
//! (none fires in a dial that goes well): modeled delays 0 (an instant modem and network:
//! what is left is computation and line round trips) and the default 0.01 (the 6 s of
//! dialling and training in 60 ms). The floor, in the same run: a PTY ping-pong, one byte
//! to a tokio echo task behind the master and back.
//!
//! Only the dial is timed; the hang-up and the wait for the port's release that follow
//! each dial are not.
//!
//! `realtime_dial/sleep_1_2ms/*`: a 1.2 ms modeled delay as the modem's driver sleeps it
//! (`modem_sim::timer::Sleeper`: tokio's wheel to the last millisecond, then a timerfd)
//! beside a plain `tokio::time::sleep`, whose wheel rounds up to whole milliseconds.

use std::time::{Duration, Instant};

use benches::{open_port, round_trip, spawn_echo_pty};
use criterion::{Criterion, criterion_group, criterion_main};
use modem_sim::realtime::CallInfo;
use modem_sim::timer::Sleeper;
use modem_sim::{Network, PeerFactory, spawn_pty};
use ppp_peer_sim::{Script, Server};
use ras_engine::api::{DialParams, EngineConfig, Ras};
use ras_engine::phonebook::{Entry, Phonebook};
use sansio::{DelayScale, Pace};

const NETWORK: &str = "numbers:\n  \"5551234\": {connect: 33600, peer: builtin}\n";
const SCRIPT: &str = "auth: pap\nusers: {alice: wonderland}\n";

fn realtime_dial(c: &mut Criterion) {
    let mut group = c.benchmark_group("realtime_dial");

    let mut echo = open_port(&spawn_echo_pty());
    let mut seen = Vec::new();
    group.bench_function("floor_pty_ping_pong", |b| {
        b.iter(|| round_trip(&mut echo, b"x", b"x", &mut seen));
    });

    let network = Network::from_yaml(NETWORK).expect("network");
    let script = Script::from_yaml(SCRIPT).expect("script");
    let params = DialParams {
        entry_name: "ISP".to_owned(),
        user_name: "alice".to_owned(),
        password: "wonderland".to_owned(),
        ..DialParams::default()
    };
    for (name, delays) in [
        ("pap_dial_delays_0", DelayScale::INSTANT),
        ("pap_dial_delays_default", DelayScale::DEFAULT),
    ] {
        let pace = Pace {
            delays,
            ..Pace::SIMULATED_DEVICES
        };
        let script = script.clone();
        let peers: PeerFactory =
            Box::new(move |_call: &CallInfo| Ok(Server::new(script.clone(), 7).boxed()));
        let modem = spawn_pty(network.clone(), peers, pace).expect("modem-sim on a PTY");
        let phonebook = Phonebook::from_entries([Entry::modem("ISP", modem.path(), "5551234")]);
        let ras = Ras::new(EngineConfig {
            time_scale: pace.timers,
            ..EngineConfig::default()
        });
        group.bench_function(name, |b| {
            b.iter_custom(|iterations| {
                let mut dialling = Duration::ZERO;
                for _ in 0..iterations {
                    let started = Instant::now();
                    let handle = ras
                        .dial(None, &phonebook, &params, None)
                        .expect("the dial connects");
                    dialling += started.elapsed();
                    ras.hang_up(handle).expect("hang up");
                    ras.wait_released(handle);
                }
                dialling
            });
        });
        drop(ras);
        modem.shutdown().expect("the modem stops cleanly");
    }
    group.finish();
}

fn sub_millisecond_sleep(c: &mut Criterion) {
    const DELAY: Duration = Duration::from_micros(1_200);
    let mut group = c.benchmark_group("realtime_dial/sleep_1_2ms");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut sleeper = Sleeper::default();
    group.bench_function("sleeper", |b| {
        b.iter(|| runtime.block_on(sleeper.sleep_until(Instant::now() + DELAY)));
    });
    group.bench_function("tokio_sleep", |b| {
        b.iter(|| runtime.block_on(async { tokio::time::sleep(DELAY).await }));
    });
    group.finish();
}

criterion_group!(benches, realtime_dial, sub_millisecond_sleep);
criterion_main!(benches);
