//! `conformance record` and `conformance new` (issue 14): recording a scenario whose
//! `expect:` was removed gives a scenario that passes, with everything outside `expect:`
//! as written; a new template validates against the schema and passes as written.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use conformance::outcome::evaluate;
use conformance::run::Driver;
use conformance::scenario::load;

/// A scratch folder, removed at the end.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("conformance-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn conformance(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(args)
        .output()
        .unwrap()
}

fn passes(root: &Path, file: &Path) {
    let scenario = load(root, file).unwrap();
    let verdict = evaluate(&scenario, &Driver::BOTH);
    assert!(
        verdict.passed(),
        "{}:\n{}\n{}",
        file.display(),
        verdict.explain(),
        std::fs::read_to_string(file).unwrap()
    );
}

/// Single dials, a program, a callback and a status scenario: each, with its `expect:`
/// removed, records into a scenario that passes; a single dial with only result and trace
/// comes back byte for byte.
#[test]
fn recording_without_expect_round_trips() {
    let scratch = Scratch::new("record");
    let bundled = conformance::bundled_scenarios();
    for (name, identical) in [
        ("basic/busy", true),
        ("basic/pap-connect", false),
        ("api/handle-valid-until-released", false),
        ("callback/caller-set-with-number", false),
        ("paused/retry-authentication-resumed", false),
    ] {
        let original = std::fs::read_to_string(bundled.join(format!("{name}.yaml"))).unwrap();
        let cut = original.find("\nexpect:").unwrap() + 1;
        let file = scratch.0.join(format!("{}.yaml", name.replace('/', "-")));
        std::fs::write(&file, &original[..cut]).unwrap();
        let output = conformance(&["record", file.to_str().unwrap()]);
        assert!(output.status.success(), "{name}: {output:?}");
        let recorded = std::fs::read_to_string(&file).unwrap();
        assert!(
            recorded.starts_with(&original[..cut]),
            "{name}: the rest is kept"
        );
        if identical {
            assert_eq!(recorded, original, "{name}");
        }
        passes(&scratch.0, &file);
    }
}

/// Keys and comments the author wrote in `expect:` that are not recorded stay; a wrong
/// result is replaced; status points in a flow mapping are kept and their values filled.
#[test]
fn recording_keeps_fragments_and_status_points() {
    let scratch = Scratch::new("record-keep");
    let bundled = conformance::bundled_scenarios();
    let original = std::fs::read_to_string(bundled.join("status/after-a-busy-dial.yaml")).unwrap();
    let cut = original.find("\nexpect:").unwrap() + 1;
    let file = scratch.0.join("status.yaml");
    std::fs::write(
        &file,
        format!(
            "{}expect: {{status: [\"ConnectDevice: OpenPort\", \"settled: OpenPort\", \"hung-up: OpenPort\"]}}\n",
            &original[..cut]
        ),
    )
    .unwrap();
    assert!(
        conformance(&["record", file.to_str().unwrap()])
            .status
            .success()
    );
    let recorded = std::fs::read_to_string(&file).unwrap();
    assert!(
        recorded.contains("\"settled: ConnectDevice ERROR_LINE_BUSY\""),
        "{recorded}"
    );
    passes(&scratch.0, &file);

    let file = scratch.0.join("fragments.yaml");
    std::fs::write(
        &file,
        format!(
            "{}expect:\n  # the fragments that matter\n  at: [\"> ATDT\", \"< BUSY\"]\n  result: connected   # wrong on purpose\n",
            &original[..cut]
        ),
    )
    .unwrap();
    assert!(
        conformance(&["record", file.to_str().unwrap()])
            .status
            .success()
    );
    let recorded = std::fs::read_to_string(&file).unwrap();
    assert!(recorded.contains("  # the fragments that matter\n  at: [\"> ATDT\", \"< BUSY\"]\n  result: ERROR_LINE_BUSY\n"), "{recorded}");
    passes(&scratch.0, &file);
}

#[test]
fn a_new_template_validates_and_passes() {
    let scratch = Scratch::new("new");
    let file = scratch.0.join("fresh.yaml");
    let output = conformance(&["new", scratch.0.join("fresh").to_str().unwrap()]);
    assert!(output.status.success(), "{output:?}");
    assert!(
        !conformance(&["new", file.to_str().unwrap()])
            .status
            .success(),
        "no overwrite"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with("# yaml-language-server: $schema="),
        "{text}"
    );
    let value: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let schema = serde_json::to_value(conformance::schema::SchemaKind::Scenario.schema()).unwrap();
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    assert!(validator.is_valid(&value));
    passes(&scratch.0, &file);
}
