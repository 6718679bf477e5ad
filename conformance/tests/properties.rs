//! Property tests over random scenarios on the simulated driver (DESIGN §8): random phone
//! network outcomes and carrier losses, server scripts (auth protocol, account outcome,
//! retries, fault steps, callback privileges and faults), credentials, callback numbers,
//! notifier types, pause flags, resumes and in-notifier actions, checked against the
//! notification rules of ras-reference §4.1, the paused-state rules of §4.3 and the
//! callback order of §4.7 B.

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
        1 => Just(Some("AuthCallback")),
        1 => Just(Some("WaitForCallback")),
        1 => Just(Some("ReAuthenticate")),
    ]
}

/// The server's callback privilege and fault (ppp-peer-sim `callback:`), mostly none.
fn callbacks() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        4 => Just(""),
        2 => Just("caller-set"),
        2 => Just("{server-set: \"5550100\"}"),
        1 => Just("{server-set: \"5550100\", never: true}"),
        1 => Just("{server-set: \"5550100\", busy-callee: true}"),
        1 => Just("{server-set: \"5550100\", reauth-fails: true}"),
        1 => Just("{caller-set: true, reauth-fails: true}"),
        1 => Just("{caller-set: true, refuse-number: true}"),
    ]
}

/// `szCallbackNumber`: none, the modem's own number, ask ("*"), a number not in service.
fn callback_numbers() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        3 => Just(""),
        2 => Just("5550100"),
        2 => Just("*"),
        1 => Just("5559999"),
    ]
}

/// What the server's account says once the password is right.
fn account_outcomes() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        4 => Just("accept"),
        1 => Just("expired"),
        1 => Just("disabled"),
        1 => Just("no-dial-in"),
    ]
}

/// Server fault steps (ppp-peer-sim `faults:`), mostly none.
fn server_faults() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => Just(String::new()),
        1 => Just("[silent]".to_owned()),
        1 => Just("[reject-all]".to_owned()),
        1 => Just("[nak-forever]".to_owned()),
        1 => (1u32..12).prop_map(|n| format!("[{{drop-at-packet: {n}}}]")),
        1 => (1u32..8).prop_map(|n| format!("[{{corrupt-fcs: {n}}}]")),
    ]
}

/// The network cutting the call after this many bytes (a carrier loss at any stage).
fn line_drops() -> impl Strategy<Value = Option<u32>> {
    prop_oneof![4 => Just(None), 1 => (1u32..600).prop_map(Some)]
}

/// What an application resumes with: a password (the right one, a wrong one, a new one)
/// and a callback number (the modem's own, or none to decline).
fn resumes() -> impl Strategy<Value = Vec<(&'static str, &'static str)>> {
    prop::collection::vec(
        (
            prop_oneof![Just("wonderland"), Just("hatter"), Just("looking-glass")],
            prop_oneof![Just("5550100"), Just("")],
        ),
        0..3,
    )
}

#[derive(Debug, Clone)]
struct Case {
    outcome: &'static str,
    dialtone: bool,
    drop_after_bytes: Option<u32>,
    auth: &'static str,
    account: &'static str,
    terminal: Option<&'static str>,
    retries: u32,
    faults: String,
    callback: &'static str,
    callback_mode: u8,
    callback_number: &'static str,
    right_password: bool,
    notifier: &'static str,
    paused_states: bool,
    resume: Vec<(&'static str, &'static str)>,
    hang_up_at: Option<&'static str>,
    stop_at: Option<&'static str>,
    seed: u32,
}

fn cases() -> impl Strategy<Value = Case> {
    let line = (outcomes(), prop::bool::weighted(0.9), line_drops());
    let server = (
        prop_oneof![
            Just("pap"),
            Just("none"),
            Just("chap-md5"),
            Just("mschapv2"),
            Just("eap")
        ],
        account_outcomes(),
        0u32..3,
        server_faults(),
        prop_oneof![
            3 => Just(None),
            1 => Just(Some("before")),
            1 => Just(Some("after")),
        ],
    );
    let app = (
        prop::bool::weighted(0.7),
        notifiers(),
        any::<bool>(),
        resumes(),
        action_states(),
        action_states(),
    );
    let callback = (callbacks(), 0u8..3, callback_numbers());
    (line, server, app, callback, any::<u32>()).prop_map(
        |(
            (outcome, dialtone, drop_after_bytes),
            (auth, account, retries, faults, terminal),
            (right_password, notifier, paused_states, resume, hang_up_at, stop_at),
            (callback, callback_mode, callback_number),
            seed,
        )| Case {
            outcome,
            dialtone,
            drop_after_bytes,
            auth,
            account,
            terminal,
            // The script loader allows retries only under MS-CHAPv2.
            retries: if auth == "mschapv2" { retries } else { 0 },
            faults,
            callback,
            callback_mode,
            callback_number,
            right_password,
            paused_states,
            // A synchronous dial never pauses, so the loader refuses resumes for it.
            resume: if notifier == "none" {
                Vec::new()
            } else {
                resume
            },
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
    // A synchronous dial never pauses, so a scenario may not give it resumes (the loader
    // refuses them as unreachable).
    if !case.resume.is_empty() && case.notifier != "none" {
        let resumes: Vec<String> = case
            .resume
            .iter()
            .map(|(p, n)| format!("{{password: {p}, callback: \"{n}\"}}"))
            .collect();
        app.push_str(&format!("  resume: [{}]\n", resumes.join(", ")));
    }
    let app = if app.is_empty() {
        String::new()
    } else {
        format!("app:\n{app}")
    };
    let outcome = match case.drop_after_bytes {
        Some(bytes) if case.outcome.starts_with('{') => case
            .outcome
            .replace('}', &format!(", drop-after-bytes: {bytes}}}")),
        _ => case.outcome.to_owned(),
    };
    let mut server = format!(
        "server:\n  auth: {auth}\n  users: {{alice: {{password: wonderland, outcome: {account}}}}}\n",
        auth = case.auth,
        account = case.account,
    );
    // EAP (EAP-MSCHAPv2, the outcomes as MS-CHAPv2's) for an entry with RASEO_RequireEAP.
    let mut entry = format!(
        "entry:\n  phone: \"5551234\"\n  callback-mode: {}\n",
        case.callback_mode
    );
    if case.auth == "eap" {
        server.push_str("  eap: {methods: [mschapv2]}\n");
        entry.push_str("  auth-restrictions: 128\n");
    }
    if let Some(terminal) = case.terminal {
        entry.push_str(&format!("  terminal: {terminal}\n"));
    }
    if case.retries > 0 {
        server.push_str(&format!("  retries: {}\n", case.retries));
    }
    if !case.faults.is_empty() {
        server.push_str(&format!("  faults: {}\n", case.faults));
    }
    if !case.callback.is_empty() {
        server.push_str(&format!(
            "  callback: {}\n  callback-delay: 5\n",
            case.callback
        ));
    }
    let text = format!(
        "seed: {seed}\n{entry}dial:\n  user: alice\n  password: {password}\n  callback: \"{number}\"\n  notifier: {notifier}\n  paused-states: {paused}\n\
         {app}network:\n  dialtone: {dialtone}\n  modems: [\"5550100\"]\n  numbers:\n    \"5551234\": {outcome}\n\
         {server}expect:\n  result: connected\n",
        seed = case.seed,
        number = case.callback_number,
        notifier = case.notifier,
        paused = case.paused_states,
        dialtone = case.dialtone,
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
    let pauses_enabled =
        scenario.file.dial.paused_states && scenario.file.dial.notifier != NotifierKind::None;
    prop_assert!(
        pauses_enabled || trace.iter().all(|l| !l.state.is_paused()),
        "no paused state without RDEOPT_PausedStates and a notifier"
    );
    let pauses = trace.iter().filter(|l| l.state.is_paused()).count();
    for (at, line) in trace
        .iter()
        .enumerate()
        .filter(|(_, l)| l.state.is_paused())
    {
        prop_assert_eq!(line.error, 0, "a pause is entered without an error");
        // Resumed: the matching resume state follows; not resumed: the application hung
        // up and nothing follows (unless the server gave up on the pause first).
        if let Some(next) = trace.get(at + 1) {
            // A callback number resumes into the server's Ack, an empty one into projection.
            let resumed: &[RasConnState] = match line.state {
                RasConnState::RetryAuthentication => &[RasConnState::AuthRetry],
                RasConnState::CallbackSetByCaller => {
                    &[RasConnState::AuthAck, RasConnState::AuthProject]
                }
                RasConnState::Interactive => {
                    &[RasConnState::ConnectDevice, RasConnState::Authenticate]
                }
                RasConnState::InvokeEapUI => &[RasConnState::Authenticate],
                _ => &[RasConnState::AuthChangePassword],
            };
            prop_assert!(
                resumed.contains(&next.state) || next.error != 0,
                "after {} comes one of {:?} or an error, not {}",
                line.state,
                resumed,
                next
            );
        }
    }
    prop_assert!(
        pauses <= scenario.app.resume.len() + 1,
        "each pause but the last is resumed: {:?}",
        trace
    );
    prop_assert!(
        trace.iter().all(|l| l.subentry == 1),
        "a one-link entry notifies subentry 1"
    );
    check_callback_order(scenario, trace)?;
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
        Some(DialResult::HungUp) => prop_assert!(
            scenario.app.hang_up_at.is_some()
                || pauses > scenario.app.resume.len()
                // With notifications stopped, the pause is found by polling the status.
                || (scenario.app.stop_at.is_some() && pauses_enabled),
            "hung up only by the application: at a state, or at a pause it does not resume"
        ),
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

/// ras-reference §4.7 B: the callback states come once each, in order, each (but the
/// optional pause) after its predecessor; none without a server that calls back.
fn check_callback_order(
    scenario: &Scenario,
    trace: &[conformance::trace::TraceLine],
) -> Result<(), TestCaseError> {
    use RasConnState::*;
    const ORDER: [RasConnState; 7] = [
        AuthCallback,
        CallbackSetByCaller,
        AuthAck,
        PrepareForCallback,
        WaitForModemReset,
        WaitForCallback,
        ReAuthenticate,
    ];
    let entered: Vec<usize> = trace
        .iter()
        .filter(|l| l.error == 0)
        .filter_map(|l| ORDER.iter().position(|s| *s == l.state))
        .collect();
    prop_assert!(
        entered.windows(2).all(|w| w[0] < w[1]),
        "callback states out of order: {:?}",
        trace
    );
    for (at, &rank) in entered.iter().enumerate() {
        let before = at.checked_sub(1).map(|i| entered[i]);
        let expected = match rank {
            0 => None,
            1 => Some(0),
            // AuthAck follows AuthCallback, or the pause resumed with a number.
            2 => before.filter(|b| *b == 0 || *b == 1),
            rank => Some(rank - 1),
        };
        prop_assert_eq!(
            before,
            expected,
            "{} out of its place: {:?}",
            ORDER[rank],
            trace
        );
    }
    let calls_back = scenario.file.server.as_ref().is_some_and(|script| {
        script.callback.privilege != ras_engine::ppp::cbcp::CallbackPrivilege::NoCallback
    });
    prop_assert!(
        calls_back || entered.is_empty(),
        "callback states without a callback privilege: {:?}",
        trace
    );
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
