//! Checking a run against a scenario's expectations, and comparing the drivers.

use similar::TextDiff;

use crate::run::{Driver, Record};
use crate::scenario::{DialModeSpec, Scenario};
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

/// Whether the scenario dials a multilink entry (`dial-mode: all` or `as-needed`, with
/// subentries).
pub fn dials_multilink(scenario: &Scenario) -> bool {
    std::iter::once(&scenario.file.entry)
        .chain(&scenario.file.entries)
        .any(|entry| entry.dial_mode != DialModeSpec::First && !entry.subentries.is_empty())
}

/// A multilink dial's links run side by side, so how their notifications interleave
/// depends on timing and differs between the drivers. Its notification lists are
/// compared link by link: lines stably ordered by subentry (`[n] State`, the second
/// argument of `RasDialFunc2(…)`); lines that carry no subentry (RasDialFunc,
/// RasDialFunc1, window messages) are compared as a sorted list, the last line (the
/// dial's outcome) kept last.
fn per_link(text: &str, what: &str) -> String {
    if !(what.starts_with("notification trace") || what == "notifier calls") {
        return text.to_owned();
    }
    let mut lines: Vec<&str> = text.lines().collect();
    let subentry = |line: &str| -> Option<u32> {
        if let Some(rest) = line.strip_prefix('[') {
            return rest.split(']').next()?.parse().ok();
        }
        let args = line.strip_prefix("RasDialFunc2(")?;
        args.split(", ").nth(1)?.parse().ok()
    };
    if lines.iter().any(|line| subentry(line).is_some()) {
        lines.sort_by_key(|line| subentry(line).unwrap_or(1));
    } else if let Some(last) = lines.pop() {
        lines.sort_unstable();
        lines.push(last);
    }
    lines.iter().map(|line| format!("{line}\n")).collect()
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
    let multilink = dials_multilink(scenario);
    for (what, expected) in expected_lists(scenario) {
        let Some(mut expected) = expected else {
            continue;
        };
        let mut got = actual
            .iter()
            .find(|(name, _)| *name == what)
            .map_or(String::new(), |(_, text)| text.clone());
        if multilink {
            expected = per_link(&expected, &what);
            got = per_link(&got, &what);
        }
        if expected != got {
            mismatches.push(Mismatch {
                driver: Some(driver),
                summary: format!("{what} differs from the expected one"),
                diff: Some(diff(
                    "expected",
                    &expected,
                    &format!("actual ({driver})"),
                    &got,
                )),
            });
        }
    }
    mismatches
}

/// The drivers must agree on every list they record: notification traces, statuses,
/// notifier calls and program logs (DESIGN §2).
pub fn compare_drivers(
    scenario: &Scenario,
    simulated: &Record,
    realtime: &Record,
) -> Vec<Mismatch> {
    let multilink = dials_multilink(scenario);
    let realtime_lists = lists(realtime);
    lists(simulated)
        .into_iter()
        .filter_map(|(what, mut simulated_text)| {
            let mut realtime_text = realtime_lists
                .iter()
                .find(|(name, _)| *name == what)
                .map_or(String::new(), |(_, text)| text.clone());
            if multilink {
                simulated_text = per_link(&simulated_text, &what);
                realtime_text = per_link(&realtime_text, &what);
            }
            (simulated_text != realtime_text).then(|| Mismatch {
                driver: None,
                summary: format!("the simulated and realtime drivers disagree on the {what}"),
                diff: Some(diff(
                    "simulated",
                    &simulated_text,
                    "realtime",
                    &realtime_text,
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
