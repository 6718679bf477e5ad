//! The modem's V.250 interpreter: how fast AT command lines go through it, against two
//! floors measured in the same run on the same bytes (BENCHMARKS.md): a plain copy, and
//! a byte-by-byte loop that only looks for the end of each line.
//!
//! And the modem as a dialer meets it: `AT`→`OK` over a real PTY (`spawn_pty`, the
//! realtime driver), against the floor of the same PTY stack with an echo behind it (a
//! tokio task on the master writing back what it reads), measured in the same run.

use std::hint::black_box;

use benches::{open_port, round_trip, spawn_echo_pty};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use modem_sim::{Modem, Network, PeerFactory, spawn_pty};
use sansio::{Instant, Machine, TimeScale};

/// Command lines a dialer really sends: init strings, register reads and writes,
/// identification, a chained line, and one that ends in ERROR.
const LINES: &[&str] = &[
    "AT&F E1 V1 &C1 &D2 S0=0 +FCLASS=0\r",
    "ATZ\r",
    "ATQ0 V1 E1 X4 S7=60 S10=20\r",
    "ATS7?\r",
    "AT&K3\\N3%C0L1M1\r",
    "ATI3\r",
    "ATE0V0\r",
    "ATE1V1\r",
    "AT S2? S12?\r",
    "ATY1\r",
];

/// About 16 KiB of command lines.
fn workload() -> Vec<u8> {
    let round: Vec<u8> = LINES.concat().into_bytes();
    round.repeat(16 * 1024 / round.len() + 1)
}

fn interpreter(c: &mut Criterion) {
    let input = workload();
    let network = Network::default();
    let mut group = c.benchmark_group("modem_interpreter");
    group.throughput(Throughput::Bytes(input.len() as u64));

    group.bench_function("at_commands", |b| {
        b.iter(|| {
            let mut modem = Modem::new(network.clone());
            modem.handle_input(Instant::ZERO, black_box(&input));
            let mut answered = 0;
            while let Some(bytes) = modem.poll_transmit() {
                answered += bytes.len();
            }
            while modem.poll_event().is_some() {}
            answered
        });
    });

    group.bench_function("floor_memcpy", |b| {
        b.iter(|| black_box(&input).to_vec());
    });

    group.bench_function("floor_byte_loop", |b| {
        b.iter(|| {
            black_box(&input).iter().fold(0usize, |lines, &byte| {
                lines + usize::from(black_box(byte) == b'\r')
            })
        });
    });
    group.finish();
}

fn pty_round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("modem_pty");
    let mut seen = Vec::new();

    let mut echo = open_port(&spawn_echo_pty());
    group.bench_function("floor_pty_echo", |b| {
        b.iter(|| round_trip(&mut echo, b"AT\r", b"AT\r", &mut seen));
    });

    let peers: PeerFactory = Box::new(|_call| Err("no calls in this bench".into()));
    let modem = spawn_pty(Network::default(), peers, TimeScale::DEFAULT).expect("spawn_pty");
    let mut port = open_port(modem.path());
    // Echo on (E1, the factory default): the answer is `AT\r\r\nOK\r\n`.
    round_trip(&mut port, b"AT\r", b"OK\r\n", &mut seen);
    assert_eq!(seen, b"AT\r\r\nOK\r\n");
    group.bench_function("at_ok", |b| {
        b.iter(|| round_trip(&mut port, b"AT\r", b"OK\r\n", &mut seen));
    });
    group.finish();
    drop(port);
    modem.shutdown().expect("the modem stops cleanly");
}

criterion_group!(benches, interpreter, pty_round_trip);
criterion_main!(benches);
