//! Property tests over random scenarios on the simulated driver (DESIGN §8): random phone
//! network outcomes, server scripts, credentials, notifier types and in-notifier actions,
//! checked against the notification rules of ras-reference §4.1.

use std::path::Path;

use proptest::prelude::*;

use conformance::run::{Driver, Record, run};
use conformance::scenario::{DialResult, NotifierKind, Scenario, parse};
use ras_engine::ras::RasConnState;

/// What the dialed number does.
fn outcomes() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        3 => Just("{connect: 33600, peer: builtin}"),
        1 => Just("{connect: 2400, peer: builtin}"),
        1 => Just("busy"),
        1 => Just("no-answer"),
        1 => Just("no-carrier"),
        1 => Just("voice"),
    ]
}

fn notifiers() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("none"),
        Just("func"),
        Just("func1"),
        Just("func2"),
        Just("window")
    ]
}

/// States an application might act on.
fn action_states() -> impl Strategy<Value = Option<&'static str>> {
    prop_oneof![
        3 => Just(None),
        1 => Just(Some("PortOpened")),
        1 => Just(Some("ConnectDevice")),
        1 => Just(Some("DeviceConnected")),
        1 => Just(Some("Authenticate")),
        1 => Just(Some("AuthProject")),
    ]
}

#[derive(Debug, Clone)]
struct Case {
    outcome: &'static str,
    dialtone: bool,
    auth: &'static str,
    right_password: bool,
    notifier: &'static str,
    hang_up_at: Option<&'static str>,
    stop_at: Option<&'static str>,
    seed: u32,
}

fn cases() -> impl Strategy<Value = Case> {
    (
        outcomes(),
        prop::bool::weighted(0.9),
        prop_oneof![Just("pap"), Just("none")],
        prop::bool::weighted(0.7),
        notifiers(),
        action_states(),
        action_states(),
        any::<u32>(),
    )
        .prop_map(
            |(outcome, dialtone, auth, right_password, notifier, hang_up_at, stop_at, seed)| Case {
                outcome,
                dialtone,
                auth,
                right_password,
                // Actions need a notifier that can take them (the loader rejects the rest).
                hang_up_at: hang_up_at.filter(|_| matches!(notifier, "func1" | "func2")),
                stop_at: stop_at.filter(|_| notifier == "func2"),
                notifier,
                seed,
            },
        )
}

fn scenario(case: &Case) -> Scenario {
    let password = if case.right_password {
        "wonderland"
    } else {
        "rabbit"
    };
    let mut app = String::new();
    if let Some(state) = case.hang_up_at {
        app.push_str(&format!("  hang-up-at: {state}\n"));
    }
    if let Some(state) = case.stop_at {
        app.push_str(&format!("  stop-at: {state}\n"));
    }
    let app = if app.is_empty() {
        String::new()
    } else {
        format!("app:\n{app}")
    };
    let text = format!(
        "seed: {seed}\nentry:\n  phone: \"5551234\"\ndial:\n  user: alice\n  password: {password}\n  notifier: {notifier}\n\
         {app}network:\n  dialtone: {dialtone}\n  numbers:\n    \"5551234\": {outcome}\n\
         server:\n  auth: {auth}\n  users: {{alice: wonderland}}\nexpect:\n  result: connected\n",
        seed = case.seed,
        notifier = case.notifier,
        dialtone = case.dialtone,
        outcome = case.outcome,
        auth = case.auth,
    );
    parse("property", Path::new("property.yaml"), &text).expect("generated scenarios are valid")
}

/// The §4.1 rules every trace obeys.
fn check_rules(scenario: &Scenario, record: &Record) -> Result<(), TestCaseError> {
    let trace = &record.trace;
    if scenario.file.dial.notifier == NotifierKind::None {
        prop_assert!(trace.is_empty(), "a synchronous dial notifies nothing");
    } else {
        prop_assert_eq!(
            trace.first().map(|l| l.state),
            Some(RasConnState::OpenPort),
            "first is OpenPort"
        );
    }
    let errors: Vec<usize> = trace
        .iter()
        .enumerate()
        .filter(|(_, l)| l.error != 0)
        .map(|(i, _)| i)
        .collect();
    prop_assert!(
        errors.len() <= 1,
        "at most one error notification: {:?}",
        trace
    );
    if let Some(&at) = errors.first() {
        prop_assert_eq!(at, trace.len() - 1, "the error notification is the last");
    }
    if let Some(at) = trace
        .iter()
        .position(|l| l.state == RasConnState::Connected)
    {
        prop_assert_eq!(at, trace.len() - 1, "Connected is terminal");
        prop_assert_eq!(trace[at].error, 0, "Connected carries no error");
    }
    prop_assert!(
        trace.iter().all(|l| !l.state.is_paused()),
        "no paused state without RDEOPT_PausedStates"
    );
    prop_assert!(
        trace.iter().all(|l| l.subentry == 1),
        "a one-link entry notifies subentry 1"
    );
    for action in [scenario.app.hang_up_at, scenario.app.stop_at]
        .into_iter()
        .flatten()
    {
        // Nothing after a hang-up or a stop: the action's state is the last line if the
        // dial got that far.
        if let Some(at) = trace.iter().position(|l| l.state == action && l.error == 0) {
            prop_assert_eq!(
                at,
                trace.len() - 1,
                "nothing after the action at {}",
                action
            );
        }
    }
    match record.result {
        Some(DialResult::HungUp) => prop_assert!(scenario.app.hang_up_at.is_some()),
        Some(DialResult::Connected) => {}
        Some(DialResult::Failed(error)) => {
            if let Some(last) = trace.last().filter(|l| l.error != 0) {
                prop_assert_eq!(last.error, error.code(), "the result is the error notified");
            }
        }
        None => prop_assert!(false, "every simulated dial ends with an outcome"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    #[test]
    fn notification_rules_hold_for_any_scenario(case in cases()) {
        let scenario = scenario(&case);
        let record = run(&scenario, Driver::Simulated).map_err(|e| TestCaseError::fail(e.to_string()))?;
        check_rules(&scenario, &record)?;
    }

    #[test]
    fn the_same_seed_gives_the_same_record(case in cases()) {
        let scenario = scenario(&case);
        let first = run(&scenario, Driver::Simulated).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let second = run(&scenario, Driver::Simulated).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(first, second);
    }
}
