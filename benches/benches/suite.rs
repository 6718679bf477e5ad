//! `suite`: the bundled conformance scenarios, each file parsed once outside the
//! measurement (as `conformance run` does).
//!
//! - `suite/simulated_all`: every bundled scenario under the simulated driver, one
//!   iteration a whole pass (issue 15's "parse each file once": what is timed is the runs).
//! - `suite/realtime_basic`: the `basic/` scenarios under the realtime driver (real PTYs
//!   at its pace, `conformance::run` docs): a pass of the whole suite takes half a minute,
//!   too long for criterion's samples, so its per-scenario timings against their floors
//!   come from `conformance run --json` instead (`benches/run` keeps and compares them).

use std::hint::black_box;

use conformance::run::{Driver, c_dialers_missing, run};
use conformance::scenario::{Scenario, discover, load};
use criterion::{Criterion, criterion_group, criterion_main};

/// Every bundled scenario that can run in this binary: the example dialers (C, built by
/// conformance's build script; Rust, `cargo build -p ras-capi --example rust_dialer`) are
/// looked for next to the test binaries, so the custom-dial scenarios that load them may
/// be left out here. The bench says how many.
fn bundled() -> Vec<Scenario> {
    let root = conformance::bundled_scenarios();
    let all: Vec<Scenario> = discover(&root)
        .expect("the bundled scenarios")
        .iter()
        .map(|file| load(&root, file).expect("a bundled scenario loads"))
        .collect();
    let total = all.len();
    let runnable: Vec<Scenario> = all
        .into_iter()
        .filter(|scenario| !c_dialers_missing(scenario))
        .filter(|scenario| run(scenario, Driver::Simulated).is_ok())
        .collect();
    eprintln!(
        "suite: {} of the {total} bundled scenarios run in this binary",
        runnable.len()
    );
    runnable
}

fn suite(c: &mut Criterion) {
    let scenarios = bundled();
    let mut group = c.benchmark_group("suite");
    group.sample_size(10);
    group.bench_function("simulated_all", |b| {
        b.iter(|| {
            for scenario in &scenarios {
                black_box(run(scenario, Driver::Simulated).expect("the run is carried out"));
            }
        });
    });
    let basic: Vec<&Scenario> = scenarios
        .iter()
        .filter(|scenario| scenario.name.starts_with("basic/"))
        .collect();
    group.bench_function("realtime_basic", |b| {
        b.iter(|| {
            for scenario in &basic {
                black_box(run(scenario, Driver::Realtime).expect("the run is carried out"));
            }
        });
    });
    group.finish();
}

criterion_group!(benches, suite);
criterion_main!(benches);
