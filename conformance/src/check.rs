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

/// Each list a record keeps, as rendered text, with what a mismatch calls it; a
/// program's traces come one list per dial name.
fn lists(record: &Record) -> Vec<(String, String)> {
    let mut lists = vec![
        ("notification trace".to_owned(), render(&record.trace)),
        (
            "RasGetConnectStatus results".to_owned(),
            render(&record.status),
        ),
        ("notifier calls".to_owned(), render(&record.calls)),
        ("program log".to_owned(), render(&record.log)),
    ];
    for (name, trace) in &record.traces {
        lists.push((format!("notification trace of `{name}`"), render(trace)));
    }
    lists
}

/// The lists a scenario expects, rendered the same way (absent ones are not checked).
fn expected_lists(scenario: &Scenario) -> Vec<(String, Option<String>)> {
    let mut lists = vec![
        (
            "notification trace".to_owned(),
            scenario.trace.as_deref().map(render),
        ),
        (
            "RasGetConnectStatus results".to_owned(),
            scenario.status.as_deref().map(render),
        ),
        (
            "notifier calls".to_owned(),
            scenario.file.expect.calls.as_deref().map(render),
        ),
        (
            "program log".to_owned(),
            scenario.file.expect.log.as_deref().map(render),
        ),
    ];
    for (name, trace) in scenario.traces.iter().flatten() {
        lists.push((
            format!("notification trace of `{name}`"),
            Some(render(trace)),
        ));
    }
    lists
}

/// Check one driver's record against the scenario.
pub fn check(scenario: &Scenario, driver: Driver, record: &Record) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    if let Some(expected) = scenario.result
        && record.result != Some(expected)
    {
        let actual = record
            .result
            .map_or_else(|| "no result".to_owned(), |r| r.to_string());
        mismatches.push(Mismatch {
            driver: Some(driver),
            summary: format!("expected result {expected}, got {actual}"),
            diff: None,
        });
    }
    let fragments = [
        (
            "PPP packets",
            scenario.file.expect.packets.as_ref(),
            &record.packets,
        ),
        // Only the simulated driver hears the modem's side of the conversation.
        (
            "AT conversation",
            scenario
                .file
                .expect
                .at
                .as_ref()
                .filter(|_| driver == Driver::Simulated),
            &record.transcript,
        ),
    ];
    for (what, expected, actual) in fragments {
        if let Some(expected) = expected
            && let Some(missing) = first_missing(expected, actual)
        {
            mismatches.push(Mismatch {
                driver: Some(driver),
                summary: format!("{what}: no `{missing}` where the expected order puts it"),
                diff: Some(render(actual)),
            });
        }
    }
    let actual = lists(record);
    for (what, expected) in expected_lists(scenario) {
        let Some(expected) = expected else { continue };
        let got = actual
            .iter()
            .find(|(name, _)| *name == what)
            .map_or("", |(_, text)| text.as_str());
        if expected != got {
            mismatches.push(Mismatch {
                driver: Some(driver),
                summary: format!("{what} differs from the expected one"),
                diff: Some(diff(
                    "expected",
                    &expected,
                    &format!("actual ({driver})"),
                    got,
                )),
            });
        }
    }
    mismatches
}

/// The drivers must agree on every list they record: notification traces, statuses,
/// notifier calls and program logs (DESIGN §2).
pub fn compare_drivers(simulated: &Record, realtime: &Record) -> Vec<Mismatch> {
    let realtime_lists = lists(realtime);
    lists(simulated)
        .into_iter()
        .filter_map(|(what, simulated_text)| {
            let realtime_text = realtime_lists
                .iter()
                .find(|(name, _)| *name == what)
                .map_or("", |(_, text)| text.as_str());
            (simulated_text != realtime_text).then(|| Mismatch {
                driver: None,
                summary: format!("the simulated and realtime drivers disagree on the {what}"),
                diff: Some(diff(
                    "simulated",
                    &simulated_text,
                    "realtime",
                    realtime_text,
                )),
            })
        })
        .collect()
}

/// The first of `fragments` not found, in order, each in a later line of `lines` than the
/// one before.
fn first_missing<'a>(fragments: &'a [String], lines: &[String]) -> Option<&'a str> {
    let mut rest = lines.iter();
    fragments
        .iter()
        .find(|fragment| !rest.any(|line| line.contains(fragment.as_str())))
        .map(String::as_str)
}
