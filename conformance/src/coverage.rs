//! `conformance coverage` and `conformance explain` (issue 14): what the scenarios reach.
//!
//! Each scenario runs once under the simulated driver (the suite's own runs check that the
//! realtime driver agrees), and what it observed is collected: every state notified, every
//! error in a notification, a result, a status or a program's log. What there is to reach
//! comes from the code, not from a hand-kept list: the states the engine enters and the
//! errors it can report ([`crate::codes`], scanned from its source), every `RASCONNSTATE`
//! of `ras.h`, the notifier types and the server's faults and refusals (from the schemas
//! derived from the types the scenario files are read into).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use ras_engine::ras::{RasConnState, RasError};
use serde_json::Value;

use crate::codes::{Producible, entered_states, producible_errors};
use crate::run::{Driver, Record, run};
use crate::scenario::{DialResult, Scenario};
use crate::schema::SchemaKind;
use crate::trace::StatusResult;

/// States a single modem link cannot reach: they need several links (multilink,
/// ras-reference §1 rows 23, 24). [`modem_link_states`] leaves them out.
pub const MULTILINK_ONLY: [RasConnState; 2] = [
    RasConnState::SubEntryConnected,
    RasConnState::SubEntryDisconnected,
];

/// The states the engine enters on a single modem link: every one of them must be
/// reached by a bundled scenario.
pub fn modem_link_states() -> Vec<RasConnState> {
    entered_states()
        .into_iter()
        .filter(|state| !MULTILINK_ONLY.contains(state))
        .collect()
}

/// What one scenario reached.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reached {
    /// States notified.
    pub states: BTreeSet<RasConnState>,
    /// Error numbers observed.
    pub errors: BTreeSet<u32>,
    /// The notifier type (`func2`, …) and the API (`rust`, `c`).
    pub notifiers: BTreeSet<String>,
    /// Server faults and refusals in its script (`fault drop-at-packet`, `callback never`,
    /// `account expired`).
    pub faults: BTreeSet<String>,
}

/// Every scenario's reach, by scenario name.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    /// Scenario name → what it reached.
    pub scenarios: BTreeMap<String, Reached>,
    /// Scenarios that could not run, with why.
    pub failed: Vec<(String, String)>,
}

/// Run every scenario under the simulated driver and collect what each reached.
pub fn collect(scenarios: &[Scenario]) -> Coverage {
    let mut coverage = Coverage::default();
    for scenario in scenarios {
        match run(scenario, Driver::Simulated) {
            Ok(record) => {
                coverage
                    .scenarios
                    .insert(scenario.name.clone(), reached(scenario, &record));
            }
            Err(error) => coverage
                .failed
                .push((scenario.name.clone(), error.to_string())),
        }
    }
    coverage
}

/// What `record` (a run of `scenario`) reached.
pub fn reached(scenario: &Scenario, record: &Record) -> Reached {
    let mut reached = Reached::default();
    for line in record.trace.iter().chain(record.traces.values().flatten()) {
        reached.states.insert(line.state);
        if line.error != 0 {
            reached.errors.insert(line.error);
        }
    }
    if let Some(DialResult::Failed(error)) = record.result {
        reached.errors.insert(error.code());
    }
    for status in &record.status {
        match status.result {
            StatusResult::Status { state, error } => {
                reached.states.insert(state);
                if error != 0 {
                    reached.errors.insert(error);
                }
            }
            StatusResult::Failed(code) => {
                reached.errors.insert(code);
            }
        }
    }
    // A program's log names errors by symbol (`dial X: ERROR_…`) or after a state
    // (`wait X Connected: ConnectDevice 676`), and the state a status or wait saw first
    // after the colon.
    for line in &record.log {
        let Some((_, said)) = line.split_once(':') else {
            continue;
        };
        let words: Vec<&str> = said
            .split(|c: char| c.is_whitespace() || matches!(c, ',' | '[' | ']'))
            .filter(|w| !w.is_empty())
            .collect();
        if let Some(Ok(state)) = words.first().map(|w| w.parse::<RasConnState>()) {
            reached.states.insert(state);
        }
        for (index, word) in words.iter().enumerate() {
            let after_state = index > 0 && words[index - 1].parse::<RasConnState>().is_ok();
            let symbol = word.chars().next().is_some_and(|c| c.is_ascii_uppercase());
            if (symbol || after_state)
                && let Ok(error) = word.parse::<RasError>()
                && error.symbol().is_some()
            {
                reached.errors.insert(error.code());
            }
        }
    }
    let dial = &scenario.file.dial;
    reached.notifiers.insert(variant_name(&dial.notifier));
    reached
        .notifiers
        .insert(format!("api {}", variant_name(&dial.api)));
    if let Some(script) = &scenario.file.server {
        reached.faults = script_faults(script);
    }
    reached
}

/// A unit variant's name as a scenario writes it (`func2`, `c`): these enums' variants are
/// one word, so their Debug name in lower case (test `catalog_names_match_the_schema`).
fn variant_name<T: std::fmt::Debug>(value: &T) -> String {
    format!("{value:?}").to_lowercase()
}

/// The faults and refusals a server script plays, named as the schema names their keys.
fn script_faults(script: &ppp_peer_sim::Script) -> BTreeSet<String> {
    use ppp_peer_sim::{AccountOutcome, Negotiation};
    let mut faults = BTreeSet::new();
    let mut add = |kind: &str, name: &str| faults.insert(format!("{kind} {name}"));
    match script.faults.negotiation {
        Negotiation::Honest => {}
        Negotiation::Silent => {
            add("fault", "silent");
        }
        Negotiation::NakForever => {
            add("fault", "nak-forever");
        }
        Negotiation::RejectAll => {
            add("fault", "reject-all");
        }
    }
    if script.faults.drop_at_packet.is_some() {
        add("fault", "drop-at-packet");
    }
    if !script.faults.corrupt_fcs.is_empty() {
        add("fault", "corrupt-fcs");
    }
    let callbacks = std::iter::once(&script.callback)
        .chain(script.users.values().filter_map(|a| a.callback.as_ref()));
    for callback in callbacks {
        for (on, name) in [
            (callback.never, "never"),
            (callback.busy_callee, "busy-callee"),
            (callback.reauth_fails, "reauth-fails"),
            (callback.refuse_number, "refuse-number"),
        ] {
            if on {
                add("callback", name);
            }
        }
    }
    for account in script.users.values() {
        if account.fail > 0 {
            add("account", "fail");
        }
        let outcome = match account.outcome {
            AccountOutcome::Accept => continue,
            AccountOutcome::Expired => "expired",
            AccountOutcome::Disabled => "disabled",
            AccountOutcome::NoDialIn => "no-dial-in",
            AccountOutcome::LogonHours => "logon-hours",
        };
        add("account", outcome);
    }
    faults
}

/// The names a schema definition gives its variants: `const`/`enum` strings, and the one
/// key of each single-key object variant (`{drop-at-packet: N}`).
fn variant_names(definition: &Value) -> Vec<String> {
    let mut names = Vec::new();
    let variants = definition
        .get("oneOf")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_else(|| vec![definition.clone()]);
    for variant in &variants {
        if let Some(name) = variant.get("const").and_then(Value::as_str) {
            names.push(name.to_owned());
        }
        for name in variant
            .get("enum")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            names.extend(name.as_str().map(str::to_owned));
        }
        if let Some([key]) = variant
            .get("required")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            names.extend(key.as_str().map(str::to_owned));
        }
    }
    names
}

fn definition(kind: SchemaKind, name: &str) -> Value {
    let schema = serde_json::to_value(kind.schema()).unwrap_or_default();
    schema["$defs"][name].clone()
}

/// Every notifier type and API a scenario can dial with (`func2`, `api c`).
pub fn notifier_catalog() -> Vec<String> {
    let mut names = variant_names(&definition(SchemaKind::Scenario, "NotifierKind"));
    names.extend(
        variant_names(&definition(SchemaKind::Scenario, "Api"))
            .into_iter()
            .map(|api| format!("api {api}")),
    );
    names
}

/// Every fault and refusal a server script can play (`fault silent`, `callback never`,
/// `account expired`).
pub fn fault_catalog() -> Vec<String> {
    let mut names: Vec<String> = variant_names(&definition(SchemaKind::Server, "Fault"))
        .into_iter()
        .map(|fault| format!("fault {fault}"))
        .collect();
    let callback = definition(SchemaKind::Server, "CallbackMap");
    for (key, property) in callback["properties"].as_object().into_iter().flatten() {
        // The privileges are not faults; the boolean keys besides `caller-set` are.
        if property["type"] == "boolean" && key != "caller-set" {
            names.push(format!("callback {key}"));
        }
    }
    names.push("account fail".to_owned());
    names.extend(
        variant_names(&definition(SchemaKind::Server, "AccountOutcome"))
            .into_iter()
            .filter(|outcome| outcome != "accept")
            .map(|outcome| format!("account {outcome}")),
    );
    names
}

impl Coverage {
    /// The scenarios that reached something, by a test on their reach.
    fn who(&self, test: impl Fn(&Reached) -> bool) -> Vec<&str> {
        self.scenarios
            .iter()
            .filter(|(_, reached)| test(reached))
            .map(|(name, _)| name.as_str())
            .collect()
    }

    /// The scenarios that produced `error`.
    pub fn producing(&self, error: RasError) -> Vec<&str> {
        self.who(|r| r.errors.contains(&error.code()))
    }

    /// The states the engine enters on a modem link that no scenario reached.
    pub fn unreached_states(&self) -> Vec<RasConnState> {
        modem_link_states()
            .into_iter()
            .filter(|state| self.who(|r| r.states.contains(state)).is_empty())
            .collect()
    }

    /// The report: one section per kind, each item with the scenarios that reach it
    /// (`verbose`: all of them, else the first three and how many more), `UNREACHED` for
    /// what none reaches; then the summary line.
    pub fn report(&self, verbose: bool) -> String {
        let mut text = String::new();
        let entered = entered_states();
        let mut tally = Vec::new();

        let _ = writeln!(text, "RASCONNSTATE (ras.h; `-` the engine never enters it)");
        let mut count = (0, 0);
        for &state in RasConnState::ALL {
            let who = self.who(|r| r.states.contains(&state));
            let label = format!("{:>5} {}", state.value(), state.name());
            if !entered.contains(&state) {
                let _ = writeln!(text, "  {label:<36} -");
                continue;
            }
            count.1 += 1;
            count.0 += usize::from(!who.is_empty());
            let _ = writeln!(text, "  {label:<36} {}", names(&who, verbose));
        }
        tally.push(format!("{}/{} states", count.0, count.1));

        let _ = writeln!(text, "\nraserror.h and Win32 codes the engine can produce");
        let producible = producible_errors();
        let mut count = (0, 0);
        for Producible { error, from } in &producible {
            let who = self.producing(*error);
            count.1 += 1;
            count.0 += usize::from(!who.is_empty());
            let source = if from.is_empty() {
                " (server's E=)"
            } else {
                ""
            };
            let label = format!(
                "{:>5} {}{source}",
                error.code(),
                error.symbol().unwrap_or("?")
            );
            let _ = writeln!(text, "  {label:<48} {}", names(&who, verbose));
        }
        tally.push(format!("{}/{} errors", count.0, count.1));

        for (title, catalog, test, unit) in [
            (
                "Notifier types and APIs",
                notifier_catalog(),
                (|r: &Reached, n: &str| r.notifiers.contains(n)) as fn(&Reached, &str) -> bool,
                "notifiers",
            ),
            (
                "Server faults and refusals",
                fault_catalog(),
                |r: &Reached, n: &str| r.faults.contains(n),
                "server faults",
            ),
        ] {
            let _ = writeln!(text, "\n{title}");
            let mut count = (0, 0);
            for name in &catalog {
                let who = self.who(|r| test(r, name));
                count.1 += 1;
                count.0 += usize::from(!who.is_empty());
                let _ = writeln!(text, "  {name:<36} {}", names(&who, verbose));
            }
            tally.push(format!("{}/{} {unit}", count.0, count.1));
        }
        for (name, why) in &self.failed {
            let _ = writeln!(text, "\ncould not run {name}: {why}");
        }
        let _ = writeln!(
            text,
            "\ncoverage: {} reached by {} scenarios",
            tally.join(", "),
            self.scenarios.len()
        );
        text
    }
}

/// `a, b, c +4 more`, or `UNREACHED`.
fn names(who: &[&str], verbose: bool) -> String {
    match who.len() {
        0 => "UNREACHED".to_owned(),
        n if verbose || n <= 3 => who.join(", "),
        n => format!("{} +{} more", who[..3].join(", "), n - 3),
    }
}

/// `conformance explain CODE`: the error's number, name and text, whether the engine can
/// produce it (and where), and the scenarios that produce it.
pub fn explain(error: RasError, coverage: &Coverage) -> String {
    let mut text = String::new();
    let _ = writeln!(
        text,
        "{} {}",
        error.code(),
        error.symbol().unwrap_or("(not a known RAS or Win32 error)")
    );
    if let Some(description) = error.description() {
        let _ = writeln!(text, "  {description}");
    }
    match producible_errors().iter().find(|p| p.error == error) {
        Some(Producible { from: [], .. }) => {
            let _ = writeln!(
                text,
                "  the engine reports it when the server's MS-CHAPv2 failure says E={} (RFC 2759 §6)",
                error.code()
            );
        }
        Some(Producible { from, .. }) => {
            let _ = writeln!(text, "  the engine reports it from {}", from.join(", "));
        }
        None => {
            let _ = writeln!(text, "  the engine never reports it");
        }
    }
    let who = coverage.producing(error);
    if who.is_empty() {
        let _ = writeln!(text, "  no bundled scenario produces it");
    } else {
        let _ = writeln!(text, "  produced by {} scenario(s):", who.len());
        for name in who {
            let _ = writeln!(text, "    {name}");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Api, NotifierKind};

    #[test]
    fn catalog_names_match_the_schema() {
        let catalog = notifier_catalog();
        for kind in [
            NotifierKind::None,
            NotifierKind::Func,
            NotifierKind::Func1,
            NotifierKind::Func2,
            NotifierKind::Window,
        ] {
            assert!(
                catalog.contains(&variant_name(&kind)),
                "{kind:?} in {catalog:?}"
            );
        }
        for api in [Api::Rust, Api::C] {
            assert!(catalog.contains(&format!("api {}", variant_name(&api))));
        }
        let faults = fault_catalog();
        for name in [
            "fault silent",
            "fault drop-at-packet",
            "callback never",
            "account expired",
            "account no-dial-in",
        ] {
            assert!(faults.contains(&name.to_owned()), "{name} in {faults:?}");
        }
        assert!(
            !faults
                .iter()
                .any(|f| f.contains("caller-set") || f.contains("accept"))
        );
    }

    #[test]
    fn every_fault_a_script_plays_is_in_the_catalog() {
        let script = ppp_peer_sim::Script::from_yaml(
            "auth: mschapv2\nusers:\n  a: {password: p, fail: 1, outcome: logon-hours}\n  b: {password: p, callback: {caller-set: true, refuse-number: true}}\nfaults: [reject-all, {drop-at-packet: 3}, {corrupt-fcs: 1}]\n",
        )
        .unwrap();
        let played = script_faults(&script);
        assert_eq!(played.len(), 6, "{played:?}");
        let catalog = fault_catalog();
        for fault in &played {
            assert!(catalog.contains(fault), "{fault} not in {catalog:?}");
        }
    }
}
