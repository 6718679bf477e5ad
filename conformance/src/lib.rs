//! The conformance harness (DESIGN §6, §8): YAML scenarios describing a phonebook entry,
//! dial parameters, a phone network and a server script, run under both drivers, with the
//! notification trace checked against the scenario's expectations and between drivers.

// Tests may unwrap; the library itself never does on anything from a file or a user.
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod artifacts;
pub mod check;
pub mod codes;
pub mod coverage;
pub mod json;
pub mod junit;
pub mod outcome;
pub mod packets;
pub mod record;
pub mod report;
pub mod run;
pub mod scenario;
pub mod schema;
pub mod select;
pub mod template;
pub mod trace;

use std::path::PathBuf;

/// The JSON Schema of a scenario as committed (`schemas/scenario.schema.json`).
pub fn bundled_scenario_schema() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("schemas")
        .join(schema::SchemaKind::Scenario.file_name())
}

/// The scenarios bundled with the project (`scenarios/` at the workspace root).
pub fn bundled_scenarios() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("scenarios")
}
