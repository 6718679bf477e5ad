//! Running scenarios under the drivers and collecting their verdicts.

use std::time::{Duration, Instant};

use crate::check::{Mismatch, check, compare_drivers};
use crate::run::{Driver, Record, RunError, RunOptions, run_with};
use crate::scenario::Scenario;

/// The verdict on one scenario.
#[derive(Debug, Clone)]
pub struct Verdict {
    /// The scenario's name.
    pub name: String,
    /// Each driver's record, or why it could not run.
    pub runs: Vec<(Driver, Result<Record, RunError>)>,
    /// Every expectation that failed.
    pub mismatches: Vec<Mismatch>,
    /// Wall time taken.
    pub elapsed: Duration,
    /// Wall time each run took, in the order of `runs`.
    pub timings: Vec<Duration>,
}

impl Verdict {
    /// Whether every driver ran and every expectation held.
    pub fn passed(&self) -> bool {
        self.mismatches.is_empty() && self.runs.iter().all(|(_, run)| run.is_ok())
    }

    /// A human-readable account of what failed (empty when it passed).
    pub fn explain(&self) -> String {
        let mut text = String::new();
        for (_, run) in &self.runs {
            if let Err(error) = run {
                text.push_str(&format!("  {error}\n"));
            }
        }
        for mismatch in &self.mismatches {
            let who = mismatch
                .driver
                .map_or_else(|| "drivers".to_owned(), |d| d.to_string());
            text.push_str(&format!("  {who}: {}\n", mismatch.summary));
            if let Some(diff) = &mismatch.diff {
                for line in diff.lines() {
                    text.push_str(&format!("    {line}\n"));
                }
            }
        }
        text
    }
}

/// Run `scenario` under each of `drivers`, check each run, and check that the drivers
/// agree with each other.
pub fn evaluate(scenario: &Scenario, drivers: &[Driver]) -> Verdict {
    evaluate_with(scenario, drivers, RunOptions::default())
}

/// [`evaluate`], with each run recording what `options` ask for.
pub fn evaluate_with(scenario: &Scenario, drivers: &[Driver], options: RunOptions) -> Verdict {
    let started = Instant::now();
    let mut timings = Vec::new();
    let runs: Vec<(Driver, Result<Record, RunError>)> = drivers
        .iter()
        .map(|&driver| {
            let started = Instant::now();
            let run = run_with(scenario, driver, options);
            timings.push(started.elapsed());
            (driver, run)
        })
        .collect();
    let mut mismatches = Vec::new();
    for (driver, run) in &runs {
        if let Ok(record) = run {
            mismatches.extend(check(scenario, *driver, record));
        }
    }
    let record_of = |wanted| {
        runs.iter()
            .find(|(d, _)| *d == wanted)
            .and_then(|(_, r)| r.as_ref().ok())
    };
    if let (Some(simulated), Some(realtime)) =
        (record_of(Driver::Simulated), record_of(Driver::Realtime))
    {
        mismatches.extend(compare_drivers(scenario, simulated, realtime));
    }
    Verdict {
        name: scenario.name.clone(),
        runs,
        mismatches,
        elapsed: started.elapsed(),
        timings,
    }
}
