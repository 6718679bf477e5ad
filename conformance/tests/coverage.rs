//! `conformance coverage` and `conformance explain` (issue 14) on the bundled suite.

#![allow(clippy::unwrap_used)]

use std::process::Command;

use conformance::coverage::{collect, modem_link_states};
use conformance::scenario::load_all;

/// Every RASCONNSTATE the engine enters on a modem link is reached by a bundled scenario.
#[test]
fn every_modem_link_state_is_reached() {
    let (mut scenarios, bad) = load_all(&[]);
    assert!(bad.is_empty(), "{bad:?}");
    // The example C dialers need a C compiler at build time: without one the scenarios
    // naming them skip loudly (and fail under CI=true), as in tests/scenarios.rs.
    scenarios.retain(|scenario| {
        !conformance::run::c_dialers_missing(scenario)
            || testkit::required_program("cc", "gcc").is_some()
    });
    let coverage = collect(&scenarios);
    assert!(coverage.failed.is_empty(), "{:?}", coverage.failed);
    assert!(modem_link_states().len() >= 20);
    assert_eq!(
        coverage.unreached_states(),
        vec![],
        "add scenarios that reach these"
    );
}

fn conformance(args: &[&str]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[test]
fn coverage_ends_with_its_summary() {
    let (ok, out) = conformance(&["coverage"]);
    assert!(ok, "{out}");
    let last = out.lines().last().unwrap();
    assert!(last.starts_with("coverage: "), "{last}");
    assert!(
        last.contains(" states, ") && last.contains(" errors, "),
        "{last}"
    );
    assert!(out.contains("ERROR_LINE_BUSY"), "{out}");
}

#[test]
fn explain_names_the_error_and_its_scenarios() {
    for code in ["676", "error_line_busy"] {
        let (ok, out) = conformance(&["explain", code]);
        assert!(ok, "{out}");
        assert!(out.starts_with("676 ERROR_LINE_BUSY\n"), "{out}");
        assert!(out.contains("    basic/busy\n"), "{out}");
        assert!(out.contains("ras-engine/src/ras/connection.rs"), "{out}");
    }
    let (ok, _) = conformance(&["explain", "NOT_AN_ERROR"]);
    assert!(!ok, "an unknown name is a usage error");
}
