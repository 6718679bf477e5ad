//! `conformance run` draws its progress bar only on a terminal: piped, its stdout is the
//! plain lines and nothing else (no carriage returns, no escape sequences), one per
//! scenario in order, then the summary.

#![allow(clippy::unwrap_used)]

use std::process::Command;

#[test]
fn piped_output_is_plain_lines_in_order() {
    let output = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args([
            "run",
            "--driver",
            "simulated",
            "--jobs",
            "2",
            "--filter",
            "basic/",
        ])
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(!stdout.contains(['\r', '\x1b']), "{stdout:?}");
    let lines: Vec<&str> = stdout.lines().collect();
    let (summary, scenarios) = lines.split_last().unwrap();
    assert_eq!(*summary, format!("{} passed, 0 failed", scenarios.len()));
    let names: Vec<&str> = scenarios
        .iter()
        .map(|line| {
            let rest = line.strip_prefix("PASS ").unwrap();
            assert!(
                rest.contains(" (simulated) ") && rest.ends_with('s'),
                "{line}"
            );
            rest.split(' ').next().unwrap()
        })
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "scenarios come out in name order");
    assert!(names.contains(&"basic/pap-connect"), "{names:?}");
}
