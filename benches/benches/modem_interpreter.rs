//! The modem's V.250 interpreter: how fast AT command lines go through it, against two
//! floors measured in the same run on the same bytes (BENCHMARKS.md): a plain copy, and
//! a byte-by-byte loop that only looks for the end of each line.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use modem_sim::{Modem, Network};
use sansio::{Instant, Machine};

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

criterion_group!(benches, interpreter);
criterion_main!(benches);
