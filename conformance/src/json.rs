//! `conformance run --json FILE`: the run as one JSON document, for CI dashboards and
//! scripts. The format is versioned; `docs/report-format.md` describes every field, and a
//! change that removes or renames one raises `version`.

use std::path::PathBuf;

use serde_json::{Value, json};

use crate::check::render;
use crate::outcome::Verdict;
use crate::run::Driver;

/// The format's name, in every report.
pub const FORMAT: &str = "ras-dial-conformance-report";
/// The format's version.
pub const VERSION: u32 = 1;

/// One scenario's verdict with the artifact files written for it.
#[derive(Debug)]
pub struct Reported<'a> {
    /// The verdict.
    pub verdict: &'a Verdict,
    /// Its scenario file.
    pub file: PathBuf,
    /// Artifact files (`.trace`, `.pcap`, `.svg`) written for it, if any.
    pub artifacts: Vec<PathBuf>,
}

/// The whole run: every scenario, and every file that could not be loaded (with why).
pub fn report(scenarios: &[Reported<'_>], invalid: &[(String, String)]) -> Value {
    let passed = scenarios.iter().filter(|s| s.verdict.passed()).count();
    json!({
        "format": FORMAT,
        "version": VERSION,
        "passed": passed,
        "failed": scenarios.len() - passed + invalid.len(),
        "scenarios": scenarios.iter().map(scenario).collect::<Vec<_>>(),
        "invalid": invalid
            .iter()
            .map(|(file, message)| json!({"file": file, "message": message}))
            .collect::<Vec<_>>(),
    })
}

fn lines<L: std::fmt::Display>(lines: &[L]) -> Vec<String> {
    render(lines).lines().map(str::to_owned).collect()
}

fn scenario(reported: &Reported<'_>) -> Value {
    let verdict = reported.verdict;
    let artifact = |driver: Driver, extension: &str| {
        reported
            .artifacts
            .iter()
            .find(|path| {
                let name = path.to_string_lossy();
                name.ends_with(extension)
                    && (name.contains(&format!(".{driver}.")) || verdict.runs.len() == 1)
            })
            .map(|path| path.display().to_string())
    };
    let runs: Vec<Value> = verdict
        .runs
        .iter()
        .zip(&verdict.timings)
        .map(|((driver, run), elapsed)| {
            let mut value = json!({
                "driver": driver.to_string(),
                "elapsed_ms": elapsed.as_secs_f64() * 1000.0,
                "artifacts": {
                    "trace": artifact(*driver, ".trace"),
                    "pcap": artifact(*driver, ".pcap"),
                },
            });
            match run {
                Ok(record) => {
                    value["ok"] = json!(true);
                    value["result"] = json!(record.result.map(|r| r.to_string()));
                    value["trace"] = json!(lines(&record.trace));
                    value["status"] = json!(lines(&record.status));
                    value["calls"] = json!(record.calls);
                    value["log"] = json!(record.log);
                    value["traces"] = json!(
                        record
                            .traces
                            .iter()
                            .map(|(name, trace)| (name.clone(), lines(trace)))
                            .collect::<std::collections::BTreeMap<_, _>>()
                    );
                    value["packets"] = json!(record.packets);
                    value["transcript"] = json!(record.transcript);
                    if let Some(floor) = record.floor {
                        value["floor_ms"] = json!(floor.as_secs_f64() * 1000.0);
                    }
                }
                Err(error) => {
                    value["ok"] = json!(false);
                    value["error"] = json!(error.message);
                }
            }
            value
        })
        .collect();
    json!({
        "name": verdict.name,
        "file": reported.file.display().to_string(),
        "passed": verdict.passed(),
        "elapsed_ms": verdict.elapsed.as_secs_f64() * 1000.0,
        "diagram": reported
            .artifacts
            .iter()
            .find(|path| path.extension().is_some_and(|e| e == "svg"))
            .map(|path| path.display().to_string()),
        "mismatches": verdict.mismatches.iter().map(|m| json!({
            "driver": m.driver.map(|d| d.to_string()),
            "summary": m.summary,
            "diff": m.diff,
        })).collect::<Vec<_>>(),
        "runs": runs,
    })
}
