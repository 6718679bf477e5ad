//! The fault sweep (issue 16): every server fault at every frame of a reference PAP,
//! CHAP-MD5 and MS-CHAPv2 dial, and bit errors and lost bytes on the line at several rates,
//! each dialed through the public `Ras` API in the virtual-time lab. Whatever the fault,
//! the dial must end — Connected or one of the errors the engine documents for a failing
//! link — within a bounded virtual time, notify nothing after its end, and leave the port
//! free once hung up.

use std::sync::{Arc, Mutex};

use modem_sim::Network;
use ppp_peer_sim::Script;
use ras_engine::api::{DialParams, EngineConfig, Notifier, NotifyControl};
use ras_engine::phonebook::{Entry, Phonebook};
use ras_engine::ras::{RasConnState, RasError};
use ras_lab::Lab;
use sansio::Duration;

/// How long a faulty dial may take to end, in virtual time: the modem's dial, the PPP
/// deadline (60 s) and the slack of the restart timers around it.
const BOUND: Duration = Duration::from_secs(150);

/// The frames of a reference dial the sweep hits, one by one (a clean PAP dial has about
/// ten server frames; MS-CHAPv2 a few more).
const FRAMES: u32 = 16;

/// Errors a dial over a faulty link may end in (ras-reference §2 and DESIGN §7): the
/// carrier went, PPP timed out or was terminated, authentication failed or could not be
/// negotiated, or the modem's answers were garbled.
const LINK_ERRORS: [RasError; 10] = [
    RasError::ERROR_DISCONNECTION,
    RasError::ERROR_PPP_TIMEOUT,
    RasError::ERROR_PPP_LCP_TERMINATED,
    RasError::ERROR_PPP_NO_PROTOCOLS_CONFIGURED,
    RasError::ERROR_AUTHENTICATION_FAILURE,
    RasError::ERROR_UNABLE_TO_AUTHENTICATE_SERVER,
    RasError::ERROR_PPP_LOOPBACK_DETECTED,
    RasError::ERROR_NO_CARRIER,
    RasError::ERROR_UNRECOGNIZED_RESPONSE,
    RasError::ERROR_DEVICE_NOT_READY,
];

#[derive(Default)]
struct Seen {
    calls: Vec<(RasConnState, u32)>,
    after_end: bool,
}

fn dial_with(auth: &str, faults: &str, line: &str) -> Result<(), String> {
    let label = format!("auth {auth}, faults {faults}, line {line}");
    let network = Network::from_yaml(&format!(
        "line: {line}\nnumbers:\n  \"5551234\": {{connect: 33600, peer: builtin}}\n"
    ))
    .map_err(|e| format!("{label}: network: {e}"))?;
    let script = Script::from_yaml(&format!(
        "auth: {auth}\nusers: {{alice: wonderland}}\nfaults: {faults}\n"
    ))
    .map_err(|e| format!("{label}: script: {e}"))?;
    let lab = Lab::builder(EngineConfig::default())
        .modem("/dev/sweep", network)
        .server(script, 11)
        .build();
    let ras = lab.ras();
    let phonebook = Phonebook::from_entries([Entry::modem("ISP", "/dev/sweep", "5551234")]);
    let params = DialParams {
        entry_name: "ISP".into(),
        user_name: "alice".into(),
        password: "wonderland".into(),
        ..DialParams::default()
    };
    let seen = Arc::new(Mutex::new(Seen::default()));
    let record = Arc::clone(&seen);
    let notifier = Notifier::Func2(Box::new(move |_, _, _, _, state, error, _| {
        let mut seen = record.lock().unwrap_or_else(|p| p.into_inner());
        if seen
            .calls
            .last()
            .is_some_and(|(s, e)| *e != 0 || *s == RasConnState::Connected)
        {
            seen.after_end = true;
        }
        seen.calls.push((state, error));
        NotifyControl::Continue
    }));
    let started = lab.now();
    let handle = ras
        .dial(None, &phonebook, &params, Some(notifier))
        .map_err(|e| format!("{label}: RasDial refused: {e}"))?;
    let ended = lab.run_until(|| {
        ras.connect_status(handle)
            .is_ok_and(|s| s.error.is_some() || s.state == RasConnState::Connected)
    });
    let took = lab.now().saturating_duration_since(started);
    let status = ras
        .connect_status(handle)
        .map_err(|e| format!("{label}: status: {e}"))?;
    if !ended || took > BOUND {
        return Err(format!(
            "{label}: no end within {BOUND:?} (after {took:?}: {status:?})"
        ));
    }
    if let Some(error) = status.error
        && !LINK_ERRORS.contains(&error)
    {
        return Err(format!("{label}: ended in {error}, not a link error"));
    }
    // Give a stray notification every chance to come, then hang up and release.
    lab.run_for(Duration::from_secs(5));
    ras.hang_up(handle)
        .map_err(|e| format!("{label}: hang-up: {e}"))?;
    ras.wait_released(handle);
    if ras.connect_status(handle) != Err(RasError::ERROR_INVALID_HANDLE) {
        return Err(format!(
            "{label}: the port was not released (the dial ended {status:?}; now {:?})",
            ras.connect_status(handle)
        ));
    }
    let seen = seen.lock().unwrap_or_else(|p| p.into_inner());
    if seen.after_end {
        return Err(format!(
            "{label}: a notification after the end: {:?}",
            seen.calls
        ));
    }
    if seen.calls.first() != Some(&(RasConnState::OpenPort, 0)) {
        return Err(format!(
            "{label}: did not start with OpenPort: {:?}",
            seen.calls
        ));
    }
    Ok(())
}

fn sweep(auth: &str) -> Vec<String> {
    let clean = "{}";
    let mut runs: Vec<(String, String)> = vec![
        ("[]".to_owned(), clean.to_owned()),
        ("[silent]".to_owned(), clean.to_owned()),
        ("[nak-forever]".to_owned(), clean.to_owned()),
        ("[reject-all]".to_owned(), clean.to_owned()),
    ];
    for frame in 1..=FRAMES {
        runs.push((format!("[{{drop-at-packet: {frame}}}]"), clean.to_owned()));
        runs.push((format!("[{{corrupt-fcs: {frame}}}]"), clean.to_owned()));
    }
    for rate in ["1e-4", "1e-3", "1e-2"] {
        for seed in 1..=4 {
            runs.push((
                "[]".to_owned(),
                format!("{{bit-error-rate: {rate}, seed: {seed}}}"),
            ));
            runs.push((
                "[]".to_owned(),
                format!("{{drop-rate: {rate}, seed: {seed}}}"),
            ));
        }
    }
    runs.iter()
        .filter_map(|(faults, line)| dial_with(auth, faults, line).err())
        .collect()
}

#[test]
fn every_fault_at_every_frame_ends_cleanly_pap() {
    let failures = sweep("pap");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_fault_at_every_frame_ends_cleanly_chap_md5() {
    let failures = sweep("chap-md5");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_fault_at_every_frame_ends_cleanly_mschapv2() {
    let failures = sweep("mschapv2");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
