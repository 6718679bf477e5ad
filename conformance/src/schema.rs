//! `conformance schema`: JSON Schemas (draft 2020-12) of the files the harness and the
//! simulators read, derived with `schemars` from the very types serde reads them into, so
//! they cannot drift from the parser. Where a type reads itself by hand (a network's
//! outcomes, a probability, a script's accounts) its schema is written next to that code,
//! with a test keeping the two in step.
//!
//! The schemas describe the shape of a file; the rules the loaders check after serde (an
//! error a result names exists, a server for every `peer: builtin` number, at most one
//! negotiation fault, …) are not in them.

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema};

use crate::scenario::ScenarioFile;

/// The kinds of file with a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaKind {
    /// A conformance scenario (`scenarios/**/*.yaml`).
    Scenario,
    /// A modem-sim network file (`modem-sim --network FILE`; a scenario's `network:`).
    Network,
    /// A ppp-peer-sim server script (`ppp-peer-sim --script FILE`; a scenario's `server:`).
    Server,
}

impl SchemaKind {
    /// Every kind, in the order `schemas/` lists them.
    pub const ALL: [SchemaKind; 3] = [
        SchemaKind::Scenario,
        SchemaKind::Network,
        SchemaKind::Server,
    ];

    /// The schema's file name under `schemas/`.
    pub fn file_name(self) -> &'static str {
        match self {
            SchemaKind::Scenario => "scenario.schema.json",
            SchemaKind::Network => "network.schema.json",
            SchemaKind::Server => "server.schema.json",
        }
    }

    /// The schema, as a JSON value.
    pub fn schema(self) -> Schema {
        match self {
            SchemaKind::Scenario => root::<ScenarioFile>("A ras-dial conformance scenario"),
            SchemaKind::Network => root::<modem_sim::Network>("A modem-sim phone network"),
            SchemaKind::Server => root::<ppp_peer_sim::Script>("A ppp-peer-sim server script"),
        }
    }

    /// The schema as the text `conformance schema` prints and `schemas/` holds.
    pub fn text(self) -> String {
        // A `Schema` is a JSON value: printing it cannot fail.
        let mut text = serde_json::to_string_pretty(&self.schema()).unwrap_or_default();
        text.push('\n');
        text
    }
}

/// The schema of `T` as read (serde's deserialize contract), titled.
fn root<T: JsonSchema>(title: &str) -> Schema {
    let mut schema = SchemaSettings::draft2020_12()
        .for_deserialize()
        .with_transform(RecursiveTransform(bound_wide_integers))
        .into_generator()
        .into_root_schema_for::<T>();
    schema.insert("title".to_owned(), title.into());
    schema
}

/// schemars bounds `u8`/`u16` but leaves `u32`/`u64` to their `format`, which validators
/// need not check: write the maximum serde enforces, so `result: 1e308` is refused.
fn bound_wide_integers(schema: &mut Schema) {
    let maximum = match schema.get("format").and_then(|format| format.as_str()) {
        Some("uint32") => u64::from(u32::MAX),
        Some("uint64") => u64::MAX,
        _ => return,
    };
    schema.insert("maximum".to_owned(), maximum.into());
}
