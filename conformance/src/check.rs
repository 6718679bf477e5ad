//! Checking a run against a scenario's expectations, and comparing the drivers.

use similar::TextDiff;

use crate::run::{Driver, Record};
use crate::scenario::Scenario;
use std::fmt::Display;

/// One expectation that did not hold, with what to show the reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// Which driver's run (or both, for a disagreement between them).
    pub driver: Option<Driver>,
    /// A one-line summary.
    pub summary: String,
    /// A unified diff of expected vs actual, when there is one.
    pub diff: Option<String>,
}

/// Lines as text, one per line: what the checks compare and diff.
pub fn render<L: Display>(lines: &[L]) -> String {
    lines.iter().map(|line| format!("{line}\n")).collect()
}

fn diff(expected_label: &str, expected: &str, actual_label: &str, actual: &str) -> String {
    TextDiff::from_lines(expected, actual)
        .unified_diff()
        .context_radius(3)
        .header(expected_label, actual_label)
        .to_string()
}

/// Check one driver's record against the scenario.
pub fn check(scenario: &Scenario, driver: Driver, record: &Record) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    if record.result != Some(scenario.result) {
        let actual = record
            .result
            .map_or_else(|| "no result".to_owned(), |r| r.to_string());
        mismatches.push(Mismatch {
            driver: Some(driver),
            summary: format!("expected result {}, got {actual}", scenario.result),
            diff: None,
        });
    }
    if let Some(expected) = &scenario.trace
        && expected != &record.trace
    {
        mismatches.push(Mismatch {
            driver: Some(driver),
            summary: "notification trace differs from the expected one".to_owned(),
            diff: Some(diff(
                "expected",
                &render(expected),
                &format!("actual ({driver})"),
                &render(&record.trace),
            )),
        });
    }
    if let Some(expected) = &scenario.status
        && expected != &record.status
    {
        mismatches.push(Mismatch {
            driver: Some(driver),
            summary: "RasGetConnectStatus results differ from the expected ones".to_owned(),
            diff: Some(diff(
                "expected",
                &render(expected),
                &format!("actual ({driver})"),
                &render(&record.status),
            )),
        });
    }
    mismatches
}

/// The drivers must agree on the notification trace and on every status taken (DESIGN
/// §2).
pub fn compare_drivers(simulated: &Record, realtime: &Record) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    if simulated.trace != realtime.trace {
        mismatches.push(Mismatch {
            driver: None,
            summary: "the simulated and realtime drivers produced different notification traces"
                .to_owned(),
            diff: Some(diff(
                "simulated",
                &render(&simulated.trace),
                "realtime",
                &render(&realtime.trace),
            )),
        });
    }
    if simulated.status != realtime.status {
        mismatches.push(Mismatch {
            driver: None,
            summary: "the simulated and realtime drivers saw different connection statuses"
                .to_owned(),
            diff: Some(diff(
                "simulated",
                &render(&simulated.status),
                "realtime",
                &render(&realtime.status),
            )),
        });
    }
    mismatches
}
