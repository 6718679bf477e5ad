//! The `conformance run` command line as a CI suite uses it: parallel jobs, selection,
//! sharding, the JSON report, and the folder walk's defences (empty folders, symlink
//! loops, FIFOs, unusable `--artifacts`).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Command, Output};

fn conformance(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(args)
        .output()
        .expect("conformance runs")
}

/// Scenario names from PASS/FAIL lines.
fn ran(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let rest = line
                .strip_prefix("PASS ")
                .or_else(|| line.strip_prefix("FAIL "))?;
            rest.split_whitespace().next().map(str::to_owned)
        })
        .collect()
}

/// A scratch folder, removed when the test is done with it.
struct Scratch(PathBuf);

impl std::ops::Deref for Scratch {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn scratch(name: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("conformance-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    Scratch(dir)
}

fn bundled(path: &str) -> String {
    conformance::bundled_scenarios()
        .join(path)
        .display()
        .to_string()
}

#[test]
fn three_partitions_run_every_scenario_exactly_once() {
    let all = conformance(&["run", "--driver", "simulated"]);
    assert_eq!(all.status.code(), Some(0), "{all:?}");
    let everything: BTreeSet<String> = ran(&all).into_iter().collect();
    assert!(everything.len() > 50, "the bundled suite: {everything:?}");
    for kind in ["count", "hash"] {
        let mut seen = Vec::new();
        for shard in 1..=3 {
            let partition = format!("{kind}:{shard}/3");
            let output = conformance(&["run", "--driver", "simulated", "--partition", &partition]);
            assert_eq!(output.status.code(), Some(0), "{partition}: {output:?}");
            let names = ran(&output);
            assert!(!names.is_empty(), "{partition} ran nothing");
            seen.extend(names);
        }
        seen.sort();
        let unique: BTreeSet<String> = seen.iter().cloned().collect();
        assert_eq!(unique.len(), seen.len(), "{kind}: a scenario ran twice");
        assert_eq!(unique, everything, "{kind}: shards miss scenarios");
    }
}

#[test]
fn filters_and_skips_select_by_name() {
    let output = conformance(&[
        "run",
        "--driver",
        "simulated",
        "--filter",
        "paused/",
        "--skip",
        "password",
    ]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let names = ran(&output);
    assert!(!names.is_empty());
    assert!(
        names
            .iter()
            .all(|n| n.starts_with("paused/") && !n.contains("password")),
        "{names:?}"
    );
}

#[test]
fn parallel_output_is_in_scenario_order() {
    let serial = conformance(&["run", "--driver", "simulated", "--jobs", "1"]);
    let parallel = conformance(&["run", "--driver", "simulated", "--jobs", "4"]);
    assert_eq!(ran(&serial), ran(&parallel));
}

#[test]
fn the_json_report_has_one_run_per_scenario_and_driver() {
    let dir = scratch("json");
    let report = dir.join("report.json");
    let output = conformance(&[
        "run",
        &bundled("basic"),
        "--json",
        &report.display().to_string(),
    ]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let text = std::fs::read_to_string(&report).expect("report written");
    let document: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert_eq!(document["format"], conformance::json::FORMAT);
    assert_eq!(document["version"], conformance::json::VERSION);
    let scenarios = document["scenarios"].as_array().expect("scenarios");
    assert_eq!(scenarios.len(), ran(&output).len());
    for scenario in scenarios {
        let runs = scenario["runs"].as_array().expect("runs");
        let drivers: Vec<&str> = runs.iter().filter_map(|r| r["driver"].as_str()).collect();
        assert_eq!(drivers, ["simulated", "realtime"]);
        for run in runs {
            assert_eq!(run["ok"], true);
            assert!(run["trace"].as_array().is_some_and(|t| !t.is_empty()));
            assert!(run["elapsed_ms"].as_f64().is_some_and(|ms| ms > 0.0));
        }
    }
}

#[test]
fn an_empty_folder_is_a_usage_error_unless_allowed() {
    let dir = scratch("empty");
    let path = dir.display().to_string();
    assert_eq!(conformance(&["run", &path]).status.code(), Some(2));
    let allowed = conformance(&["run", &path, "--allow-empty"]);
    assert_eq!(allowed.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&allowed.stdout).contains("0 passed, 0 failed"));
}

#[test]
fn a_symlink_loop_is_walked_once() {
    let dir = scratch("loop");
    std::fs::copy(bundled("basic/busy.yaml"), dir.join("busy.yaml")).expect("copy");
    std::os::unix::fs::symlink(&*dir, dir.join("again")).expect("symlink");
    let output = conformance(&["run", "--driver", "simulated", &dir.display().to_string()]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(ran(&output), ["busy"]);
}

#[test]
fn a_fifo_named_yaml_is_refused_not_read() {
    let dir = scratch("fifo");
    let fifo = dir.join("pipe.yaml");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let output = conformance(&["run", &dir.display().to_string()]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("not a regular file"));
}

#[test]
fn an_unusable_artifacts_folder_is_a_usage_error() {
    let dir = scratch("artifacts");
    let file = dir.join("a-file");
    std::fs::write(&file, "not a folder").expect("write");
    let output = conformance(&[
        "run",
        &bundled("basic/busy.yaml"),
        "--artifacts",
        &file.display().to_string(),
    ]);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
}
