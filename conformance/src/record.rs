//! `conformance record FILE` (issue 14): run a scenario under both drivers and write what
//! they observed into its `expect:`, as insta's accept or packetdrill's recorded scripts.
//!
//! The file is edited as text, so everything outside `expect:` stays as written: comments,
//! key order, flow or block style. Inside `expect:` the keys that are recorded — `result`,
//! `trace` (a single dial), `log` and `traces` (a `program`), `status` and `calls` (when
//! the file already has them: their points and presence are the author's choice) — are
//! written anew in block style, which drops comments inside them; the keys that are
//! fragments chosen by the author (`at`, `packets`) are kept as written. A one-line flow
//! `expect: {…}` is rewritten whole in block style. serde-saphyr reads YAML but keeps no
//! comments, hence the text edit.
//!
//! Recording refuses when the two drivers disagree: an expectation must hold under both.

use std::fmt::Write as _;
use std::path::Path;

use ras_engine::ras::RasError;

use crate::check::compare_drivers;
use crate::run::{Driver, Record, run};
use crate::scenario::{DialResult, Scenario, parse};
use crate::trace::{StatusLine, StatusResult, TraceLine};

/// Why a scenario could not be recorded.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The file cannot be read or written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The file is not a scenario (apart from its expectations).
    #[error("{0}")]
    Invalid(String),
    /// A driver could not run it.
    #[error("{0}")]
    Run(String),
    /// The drivers observed different things; nothing was written.
    #[error("the simulated and realtime drivers disagree, nothing recorded:\n{0}")]
    Disagree(String),
}

/// The keys `record` writes, in the order it adds the ones a file lacks.
const RECORDED: [&str; 6] = ["result", "trace", "log", "traces", "status", "calls"];

/// Record `path` in place; returns the new text.
pub fn record_file(path: &Path, name: &str) -> Result<String, RecordError> {
    let text = std::fs::read_to_string(path)?;
    let scenario = load_for_recording(name, path, &text)?;
    let mut records = Vec::new();
    for driver in Driver::BOTH {
        records.push(run(&scenario, driver).map_err(|e| RecordError::Run(e.to_string()))?);
    }
    let disagreements = compare_drivers(&scenario, &records[0], &records[1]);
    if !disagreements.is_empty() {
        let mut why = String::new();
        for mismatch in disagreements {
            let _ = writeln!(why, "  {}", mismatch.summary);
            for line in mismatch.diff.unwrap_or_default().lines() {
                let _ = writeln!(why, "    {line}");
            }
        }
        return Err(RecordError::Disagree(why));
    }
    let recorded = with_expect(&text, &scenario, &records[0]);
    std::fs::write(path, &recorded)?;
    Ok(recorded)
}

/// The scenario as it runs: its expectations may be missing or wrong (that is what is
/// being recorded). A single dial without `result` is read as if it expected `connected`
/// (its other keys kept: `status` says where to ask); a file without a readable `expect:`
/// as if it had none.
fn load_for_recording(name: &str, path: &Path, text: &str) -> Result<Scenario, RecordError> {
    let error = match parse(name, path, text) {
        Ok(scenario) => return Ok(scenario),
        Err(error) => error,
    };
    let lines: Vec<&str> = text.lines().collect();
    let (start, end) = expect_block(text).unwrap_or((lines.len(), lines.len()));
    let mut attempts = Vec::new();
    if let Some(first) = lines.get(start) {
        let mut with_result: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
        if first.trim_end() == "expect:" {
            with_result.insert(start + 1, "  result: connected".to_owned());
            attempts.push(with_result.join("\n"));
        } else if let Some(rest) = first.strip_prefix("expect: {") {
            with_result[start] = format!("expect: {{result: connected, {rest}");
            attempts.push(with_result.join("\n"));
        }
    }
    let without = [&lines[..start], &lines[end..]].concat().join("\n");
    for stand_in in ["expect: {}", "expect: {result: connected}"] {
        attempts.push(format!("{without}\n{stand_in}\n"));
    }
    attempts
        .iter()
        .find_map(|text| parse(name, path, text).ok())
        .ok_or_else(|| RecordError::Invalid(error.summary()))
}

/// The lines `[start, end)` of the top-level `expect:` block.
fn expect_block(text: &str) -> Option<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.iter().position(|line| line.starts_with("expect:"))?;
    let end = lines[start + 1..]
        .iter()
        .position(|line| starts_top_level_key(line))
        .map_or(lines.len(), |offset| start + 1 + offset);
    // Blank lines and comments right before the next key belong to it.
    let mut end = end;
    while end > start + 1 && is_blank_or_comment(lines[end - 1]) && end < lines.len() {
        end -= 1;
    }
    Some((start, end))
}

fn starts_top_level_key(line: &str) -> bool {
    line.chars()
        .next()
        .is_some_and(|c| !c.is_whitespace() && c != '#')
}

fn is_blank_or_comment(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed.is_empty() || trimmed.starts_with('#')
}

/// The sub-keys of a block-style `expect:` as (key, its lines), in order; `None` for a flow
/// mapping or anything else this edit does not understand.
fn sub_blocks<'a>(lines: &[&'a str]) -> Option<Vec<(String, Vec<&'a str>)>> {
    let indent = lines
        .iter()
        .find(|line| !is_blank_or_comment(line))
        .map(|line| line.len() - line.trim_start().len())?;
    if indent == 0 {
        return None;
    }
    let mut blocks: Vec<(String, Vec<&str>)> = Vec::new();
    let mut leading: Vec<&str> = Vec::new();
    for line in lines {
        let own_indent = line.len() - line.trim_start().len();
        if !is_blank_or_comment(line) && own_indent == indent {
            let key = line.trim_start().split(':').next()?.trim().to_owned();
            let mut block = std::mem::take(&mut leading);
            block.push(line);
            blocks.push((key, block));
        } else if let Some((_, block)) = blocks.last_mut() {
            block.push(line);
        } else {
            leading.push(line);
        }
    }
    Some(blocks)
}

/// `text` with its `expect:` holding what `record` observed.
fn with_expect(text: &str, scenario: &Scenario, record: &Record) -> String {
    let mut recorded: Vec<(&str, String)> = Vec::new();
    let expect = &scenario.file.expect;
    let program = scenario.program.is_some();
    if let Some(result) = record.result
        && (!program || expect.result.is_some())
    {
        recorded.push(("result", format!("  result: {}\n", result_text(result))));
    }
    if program {
        recorded.push(("log", list("log", record.log.iter().map(|l| quoted(l)))));
        let mut traces = String::from(if record.traces.is_empty() {
            "  traces: {}\n"
        } else {
            "  traces:\n"
        });
        for (name, trace) in &record.traces {
            let _ = writeln!(traces, "    {}:", quoted(name));
            for line in trace {
                let _ = writeln!(traces, "      - {}", trace_text(line));
            }
        }
        recorded.push(("traces", traces));
    } else {
        recorded.push(("trace", list("trace", record.trace.iter().map(trace_text))));
    }
    if expect.status.is_some() {
        recorded.push((
            "status",
            list("status", record.status.iter().map(status_text)),
        ));
    }
    if expect.calls.is_some() {
        recorded.push((
            "calls",
            list("calls", record.calls.iter().map(|c| quoted(c))),
        ));
    }

    let lines: Vec<&str> = text.lines().collect();
    let (start, end) = expect_block(text).unwrap_or((lines.len(), lines.len()));
    let mut block = String::from("expect:\n");
    match sub_blocks(&lines[(start + 1).min(lines.len())..end]) {
        Some(kept) => {
            for (key, key_lines) in &kept {
                match recorded.iter().position(|(name, _)| name == key) {
                    Some(index) => block.push_str(&recorded.remove(index).1),
                    None if RECORDED.contains(&key.as_str()) => {}
                    None => key_lines.iter().for_each(|l| {
                        block.push_str(l);
                        block.push('\n');
                    }),
                }
            }
        }
        None => {
            // A flow `expect: {…}`: keep its fragments by reading them back.
            for (key, fragments) in [("at", &expect.at), ("packets", &expect.packets)] {
                if let Some(fragments) = fragments {
                    block.push_str(&list(key, fragments.iter().map(|f| quoted(f))));
                }
            }
        }
    }
    for (_, text) in recorded {
        block.push_str(&text);
    }
    let mut out = String::new();
    for line in &lines[..start] {
        out.push_str(line);
        out.push('\n');
    }
    out.push_str(&block);
    for line in &lines[end..] {
        out.push_str(line);
        out.push('\n');
    }
    out
}

fn list(key: &str, items: impl Iterator<Item = String>) -> String {
    let mut text = format!("  {key}:\n");
    let mut empty = true;
    for item in items {
        empty = false;
        let _ = writeln!(text, "    - {item}");
    }
    if empty {
        text = format!("  {key}: []\n");
    }
    text
}

/// A YAML double-quoted scalar (JSON's string syntax is a subset of it).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

fn error_text(code: u32) -> String {
    RasError::from_code(code)
        .symbol()
        .map_or_else(|| code.to_string(), str::to_owned)
}

fn result_text(result: DialResult) -> String {
    match result {
        DialResult::Connected => "connected".to_owned(),
        DialResult::HungUp => "hung-up".to_owned(),
        DialResult::Failed(error) => error_text(error.code()),
    }
}

fn trace_text(line: &TraceLine) -> String {
    let mut text = String::new();
    if line.subentry != 1 {
        let _ = write!(text, "\"[{}] ", line.subentry);
    }
    text.push_str(line.state.name());
    if line.error != 0 {
        let _ = write!(text, " {}", error_text(line.error));
    }
    if line.subentry != 1 {
        text.push('"');
    }
    text
}

/// `"settled: ConnectDevice ERROR_LINE_BUSY"`: a status with errors by symbol, quoted.
fn status_text(line: &StatusLine) -> String {
    let result = match line.result {
        StatusResult::Status { state, error: 0 } => state.name().to_owned(),
        StatusResult::Status { state, error } => format!("{} {}", state.name(), error_text(error)),
        StatusResult::Failed(code) => error_text(code),
    };
    quoted(&format!("{}: {result}", line.point))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SCENARIO: &str =
        "network: {numbers: {\"1\": busy}}\nentry: {phone: \"1\"}\nexpect: {result: 676}\n";

    fn line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("expect:".to_owned()),
            Just("expect: {result: 1}".to_owned()),
            Just("  result: connected".to_owned()),
            Just("  at: [\"> AT\"]".to_owned()),
            Just("  trace:".to_owned()),
            Just("    - OpenPort".to_owned()),
            Just("# a comment".to_owned()),
            Just("  # an indented comment".to_owned()),
            Just(String::new()),
            Just("network: {}".to_owned()),
            "[ -~]{0,12}",
        ]
    }

    proptest! {
        /// Whatever the text, the edit does not panic, keeps every line before `expect:`,
        /// and writes the recorded result (and reading it back for a run never panics).
        #[test]
        fn the_edit_keeps_what_is_outside_expect(lines in proptest::collection::vec(line(), 0..24)) {
            let text = lines.join("\n");
            let scenario = parse("t", Path::new("t.yaml"), SCENARIO).unwrap();
            let record = Record {
                result: Some(DialResult::Connected),
                ..Record::default()
            };
            let edited = with_expect(&text, &scenario, &record);
            let before = expect_block(&text).map_or(text.lines().count(), |(start, _)| start);
            let kept: Vec<&str> = text.lines().take(before).collect();
            let edited_lines: Vec<&str> = edited.lines().collect();
            prop_assert_eq!(&edited_lines[..before], &kept[..]);
            prop_assert!(edited.contains("  result: connected\n"));
            let _ = load_for_recording("t", Path::new("t.yaml"), &text);
        }
    }

    #[test]
    fn a_flow_expect_is_rewritten_in_block_style() {
        let text = "network: {numbers: {\"1\": busy}}\nexpect: {at: [\"> ATD\"], result: 1}\n# after\nseed: 1\n";
        let scenario = parse(
            "t",
            Path::new("t.yaml"),
            &text.replace("result: 1", "result: 676"),
        )
        .unwrap();
        let record = Record {
            result: Some(DialResult::Failed(RasError::ERROR_LINE_BUSY)),
            ..Record::default()
        };
        let edited = with_expect(text, &scenario, &record);
        assert_eq!(
            edited,
            "network: {numbers: {\"1\": busy}}\nexpect:\n  at:\n    - \"> ATD\"\n  result: ERROR_LINE_BUSY\n  trace: []\n# after\nseed: 1\n"
        );
    }
}
