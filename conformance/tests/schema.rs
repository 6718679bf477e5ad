//! `conformance schema` (issue 14): the committed `schemas/` are what the code derives, every
//! bundled scenario validates against the scenario schema (and its `network:`/`server:`
//! against the network and server schemas), converted from YAML to JSON as an editor's
//! language server does, and the malformed fixtures are rejected.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use conformance::scenario::discover;
use conformance::schema::SchemaKind;
use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn validator(kind: SchemaKind) -> jsonschema::Validator {
    let schema = serde_json::to_value(kind.schema()).unwrap();
    jsonschema::draft202012::new(&schema).unwrap()
}

/// The YAML file as JSON, or why it is not JSON-shaped (duplicate keys, bad YAML).
fn as_json(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_saphyr::from_str::<Value>(&text).map_err(|e| e.to_string())
}

/// Every error the validator finds, one line each.
fn problems(validator: &jsonschema::Validator, value: &Value) -> Vec<String> {
    validator
        .iter_errors(value)
        .map(|error| format!("{}: {error}", error.instance_path()))
        .collect()
}

#[test]
fn committed_schemas_are_up_to_date() {
    for kind in SchemaKind::ALL {
        let path = workspace().join("schemas").join(kind.file_name());
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == kind.text(),
            "{} is stale: run `cargo run -p conformance -- schema {kind:?} > schemas/{}` (lowercase kind)",
            path.display(),
            kind.file_name()
        );
    }
}

#[test]
fn every_bundled_scenario_validates() {
    let scenario = validator(SchemaKind::Scenario);
    let network = validator(SchemaKind::Network);
    let server = validator(SchemaKind::Server);
    let files = discover(&conformance::bundled_scenarios()).unwrap();
    assert!(files.len() >= 100, "{} scenarios", files.len());
    let mut failures = Vec::new();
    for file in &files {
        let value = match as_json(file) {
            Ok(value) => value,
            Err(error) => {
                failures.push(format!("{}: not JSON-shaped: {error}", file.display()));
                continue;
            }
        };
        let mut found = problems(&scenario, &value);
        found.extend(problems(&network, &value["network"]));
        if let Some(script) = value.get("server").filter(|s| !s.is_null()) {
            found.extend(problems(&server, script));
        }
        failures.extend(
            found
                .into_iter()
                .map(|p| format!("{}: {p}", file.display())),
        );
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn malformed_fixtures_are_rejected() {
    let scenario = validator(SchemaKind::Scenario);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut shape_errors: Vec<PathBuf> = discover(&fixtures.join("malformed")).unwrap();
    // Unrunnable files whose fault is their shape: a number too big for a code, a list
    // for a result, an empty file, a key given twice (no JSON object has that).
    for name in ["big", "untagged", "null", "dup"] {
        shape_errors.push(fixtures.join("unrunnable").join(format!("{name}.yaml")));
    }
    assert!(shape_errors.len() >= 8);
    for file in &shape_errors {
        let rejected = match as_json(file) {
            Err(_) => true,
            Ok(value) => !scenario.is_valid(&value),
        };
        assert!(rejected, "{} passes the schema", file.display());
    }
    // The rest break rules the loader checks after the shape (a code that exists, a
    // server behind `peer: builtin`, no commands, resumes only with a notifier): the
    // schema admits them, the loader does not. Say so, so the boundary stays known.
    for name in [
        "exec",
        "no-server",
        "pause-sync",
        "trace-code",
        "unknown-code",
    ] {
        let file = fixtures.join("unrunnable").join(format!("{name}.yaml"));
        let value = as_json(&file).unwrap();
        assert!(
            scenario.is_valid(&value),
            "{name}: {:?}",
            problems(&scenario, &value)
        );
        assert!(
            conformance::scenario::load(&fixtures, &file).is_err(),
            "{name}"
        );
    }
}
