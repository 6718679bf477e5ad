//! The harness's own guarantees: drivers agree, simulated runs replay exactly, wrong
//! expectations fail with a diff, malformed files are reported with file:line:column.

use std::path::{Path, PathBuf};
use std::process::Command;

use conformance::outcome::evaluate;
use conformance::run::{Driver, RunOptions, run, run_with};
use conformance::scenario::{Scenario, discover, load};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

fn bundled() -> Vec<Scenario> {
    let root = conformance::bundled_scenarios();
    discover(&root)
        .expect("scenarios folder")
        .iter()
        .map(|file| load(&root, file).expect("bundled scenarios are valid"))
        // The example C dialers need a C compiler at build time: without one the
        // scenarios naming them skip loudly (and fail under CI=true).
        .filter(|scenario| {
            !conformance::run::c_dialers_missing(scenario)
                || testkit::required_program("cc", "gcc").is_some()
        })
        .collect()
}

#[test]
fn both_drivers_produce_the_identical_notification_trace() {
    let scenarios = bundled();
    assert!(
        scenarios.len() >= 2,
        "expected the bundled scenarios, found {}",
        scenarios.len()
    );
    for scenario in &scenarios {
        let simulated = run(scenario, Driver::Simulated).expect("simulated run");
        let realtime = run(scenario, Driver::Realtime).expect("realtime run");
        assert!(
            simulated.result.is_some() || scenario.program.is_some(),
            "{}: no outcome",
            scenario.name
        );
        if conformance::check::dials_multilink(scenario) {
            // A multilink dial's links interleave by timing: the drivers agree link by
            // link (scenarios/README.md, "Multilink").
            let disagreements =
                conformance::check::compare_drivers(scenario, &simulated, &realtime);
            assert!(
                disagreements.is_empty(),
                "{}: drivers disagree: {disagreements:?}",
                scenario.name
            );
        } else {
            assert_eq!(
                simulated.trace, realtime.trace,
                "{}: drivers disagree",
                scenario.name
            );
            assert_eq!(
                (&simulated.log, &simulated.traces),
                (&realtime.log, &realtime.traces),
                "{}: drivers disagree on the program",
                scenario.name
            );
        }
        assert_eq!(
            simulated.result, realtime.result,
            "{}: drivers disagree on the result",
            scenario.name
        );
    }
}

#[test]
fn simulated_runs_replay_byte_for_byte() {
    // The line capture too: the same scenario gives the same pcap file.
    let captured = RunOptions { capture: true };
    for scenario in bundled() {
        let first = run_with(&scenario, Driver::Simulated, captured).expect("first run");
        let second = run_with(&scenario, Driver::Simulated, captured).expect("second run");
        assert!(first.capture.is_some(), "{}: no capture", scenario.name);
        assert_eq!(
            first, second,
            "{}: same scenario and seed, different record",
            scenario.name
        );
    }
}

#[test]
fn canonical_traces_match_their_snapshots() {
    for scenario in bundled() {
        let record = run(&scenario, Driver::Simulated).expect("simulated run");
        let rendered: String = record
            .trace
            .iter()
            .map(|line| format!("{line}\n"))
            .collect();
        let transcript = record.transcript.join("\n");
        let status: String = record
            .status
            .iter()
            .map(|line| format!("{line}\n"))
            .collect();
        let status = if status.is_empty() {
            status
        } else {
            format!("\n--- RasGetConnectStatus ---\n{status}")
        };
        // A program's log and its dials' traces, by name.
        let mut program = String::new();
        if !record.log.is_empty() {
            program.push_str("\n--- program log ---\n");
            record
                .log
                .iter()
                .for_each(|line| program.push_str(&format!("{line}\n")));
        }
        for (name, trace) in &record.traces {
            program.push_str(&format!("\n--- trace of {name} ---\n"));
            trace
                .iter()
                .for_each(|line| program.push_str(&format!("{line}\n")));
        }
        insta::assert_snapshot!(
            format!("{}-trace", scenario.name.replace('/', "__")),
            format!("{rendered}\n--- AT transcript ---\n{transcript}\n{status}{program}")
        );
    }
}

#[test]
fn a_wrong_expectation_fails_with_a_diff_of_expected_and_actual() {
    let root = fixtures().join("wrong");
    let scenario =
        load(&root, &root.join("busy-expected-connected.yaml")).expect("well-formed fixture");
    let verdict = evaluate(&scenario, &[Driver::Simulated]);
    assert!(!verdict.passed());
    let explanation = verdict.explain();
    assert!(
        explanation.contains("expected result connected, got error 676 ERROR_LINE_BUSY"),
        "{explanation}"
    );
    assert!(explanation.contains("--- expected"), "{explanation}");
    assert!(
        explanation.contains("+++ actual (simulated)"),
        "{explanation}"
    );
    assert!(explanation.contains("-DeviceConnected"), "{explanation}");
    assert!(explanation.contains("+ConnectDevice 676"), "{explanation}");
}

#[test]
fn a_malformed_scenario_exits_2_and_names_file_line_and_column() {
    let file = fixtures().join("malformed").join("unknown-key.yaml");
    let output = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["run", "--driver", "simulated"])
        .arg(&file)
        .output()
        .expect("conformance runs");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let location = format!("{}:9:3:", file.display());
    assert!(
        stderr.contains(&location),
        "expected {location} in:\n{stderr}"
    );
    assert!(
        stderr.contains("reslt"),
        "the message names the unknown key:\n{stderr}"
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("0 passed, 1 failed"), "{stdout}");
}

#[test]
fn the_cli_runs_the_bundled_scenarios_and_counts_them() {
    let output = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .arg("run")
        .output()
        .expect("conformance runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let count = bundled().len();
    assert!(
        stdout.contains(&format!("{count} passed, 0 failed")),
        "{stdout}"
    );
    assert_eq!(output.status.code(), Some(0), "{stdout}");
}

#[test]
fn junit_report_lists_every_scenario() {
    let dir = std::env::temp_dir().join(format!("conformance-junit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let report = dir.join("report.xml");
    let status = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["run", "--driver", "simulated", "--junit"])
        .arg(&report)
        .status()
        .expect("conformance runs");
    assert!(status.success());
    let xml = std::fs::read_to_string(&report).expect("report written");
    for scenario in bundled() {
        assert!(
            xml.contains(&format!("name=\"{}\"", scenario.name)),
            "{} missing from\n{xml}",
            scenario.name
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn realtime_runs_capture_the_line_through_the_engine() {
    let root = conformance::bundled_scenarios();
    let scenario = load(&root, &root.join("basic/pap-connect.yaml")).expect("bundled");
    let record =
        run_with(&scenario, Driver::Realtime, RunOptions { capture: true }).expect("realtime run");
    let pcap = record.capture.expect("the engine's capture file");
    let mut reader = pcap_file::pcap::PcapReader::new(&pcap[..]).expect("a pcap");
    assert_eq!(reader.header().datalink, pcap_file::DataLink::PPP_WITH_DIR);
    let mut seen = std::collections::BTreeSet::new();
    while let Some(packet) = reader.next_packet() {
        let data = packet.expect("a record").data;
        // (sent?, protocol)
        seen.insert((data[0] != 0, u16::from_be_bytes([data[3], data[4]])));
    }
    for protocol in [0xC021, 0xC023, 0x8021] {
        for sent in [true, false] {
            assert!(
                seen.contains(&(sent, protocol)),
                "no {protocol:#06x} frame with sent={sent}: {seen:?}"
            );
        }
    }
}

/// Issue 16 #2: with stdout and stderr going to a reader that has gone
/// (`conformance run | head -1`), the exit status is still the documented one (here 2, a
/// malformed scenario), not a panic's 101.
#[test]
fn a_closed_output_keeps_the_exit_status() {
    let file = fixtures().join("malformed").join("unknown-key.yaml");
    let status = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["run", "--driver", "simulated"])
        .arg(&file)
        .stdout(testkit::reader_gone())
        .stderr(testkit::reader_gone())
        .status()
        .expect("conformance runs");
    assert_eq!(status.code(), Some(2), "{status:?}");
}
