//! Running a scenario under a driver and recording what happened.

mod app;
mod capi;
mod realtime;
mod simulated;

use std::fmt;

use ras_engine::api::{DialExtensions, DialParams, EngineConfig, rdeopt};
use ras_engine::phonebook::{
    AuthRestrictions, CallbackMode, DEFAULT_CONNECT_BPS, Device, DeviceKind, DialMode, Entry,
    LinkDetails, Phonebook, Setting, SubEntry,
};
use ras_engine::ras::{RasConnState, RasError};

use sansio::{LinePeer, TimeScale};

use crate::scenario::{DialModeSpec, DialResult, EntrySpec, Resume, Scenario, TerminalAt};
use crate::trace::{StatusLine, TraceLine};

/// Which driver runs the machines (DESIGN §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, clap::ValueEnum)]
pub enum Driver {
    /// The deterministic discrete-event loop on a virtual clock.
    Simulated,
    /// tokio, a real PTY from modem-sim, the engine opening it as a serial port.
    Realtime,
}

impl Driver {
    /// Both drivers, in the order they run.
    pub const BOTH: [Driver; 2] = [Driver::Simulated, Driver::Realtime];
}

impl fmt::Display for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Driver::Simulated => "simulated",
            Driver::Realtime => "realtime",
        })
    }
}

/// What one run recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// Every notification the application received, in order.
    pub trace: Vec<TraceLine>,
    /// How the dial ended, if it ended.
    pub result: Option<DialResult>,
    /// The modem's AT transcript (`>` from the dialer, `<` from the modem), where the
    /// driver can see it.
    pub transcript: Vec<String>,
    /// Every `RasGetConnectStatus` the application made, in order.
    pub status: Vec<StatusLine>,
    /// Every notifier call with all its arguments (`RasDialFunc2(7, 1, h1, …)`).
    pub calls: Vec<String>,
    /// A program's log: one line per step.
    pub log: Vec<String>,
    /// The PPP packets on the line, summarised ([`crate::packets`]), when captured.
    pub packets: Vec<String>,
    /// A program's notification traces, by dial name.
    pub traces: std::collections::BTreeMap<String, Vec<TraceLine>>,
    /// The engine's line as a pcap file (`ras_ppp::Capture`), when [`RunOptions::capture`]
    /// asked for it.
    pub capture: Option<Vec<u8>>,
    /// Realtime runs: the least real time the run can take at the driver's pace (its
    /// modeled delays and timers, computation aside), from a simulated twin of it.
    pub floor: Option<std::time::Duration>,
    /// The application's calls, its notifier's calls and the AT conversation, with the
    /// virtual instant of each (the sequence diagram's material, `crate::report`).
    pub timeline: Vec<crate::report::timeline::Moment>,
    /// Where the capture's timestamps start from: a capture timestamp minus this is on
    /// the timeline's clock (zero for the lab; for the realtime engine, about the wall
    /// clock when the run began, so packets sit within milliseconds of real time).
    pub capture_origin: std::time::Duration,
}

/// What a run records beyond the notification trace.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// Record every byte the engine sends and receives, as PPP frames in a pcap file.
    pub capture: bool,
}

/// How a dial stands once it has settled, as `RasGetConnectStatus` reports it: an error,
/// Connected, or (still in progress) nothing yet.
fn settled(state: RasConnState, error: Option<RasError>) -> Option<DialResult> {
    match error {
        // One link of a multilink dial failed, not the dial (ras-reference §4.5 rule 26).
        Some(_) if state == RasConnState::SubEntryDisconnected => None,
        Some(error) => Some(DialResult::Failed(error)),
        None if state == RasConnState::Connected => Some(DialResult::Connected),
        None => None,
    }
}

/// A run that could not be carried out (as opposed to one whose expectations failed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{driver} driver: {message}")]
pub struct RunError {
    /// The driver.
    pub driver: Driver,
    /// What went wrong.
    pub message: String,
}

/// Run `scenario` under `driver`.
pub fn run(scenario: &Scenario, driver: Driver) -> Result<Record, RunError> {
    run_with(scenario, driver, RunOptions::default())
}

/// Run `scenario` under `driver`, recording what `options` ask for.
pub fn run_with(
    scenario: &Scenario,
    driver: Driver,
    options: RunOptions,
) -> Result<Record, RunError> {
    // Packet expectations read the capture.
    let options = RunOptions {
        capture: options.capture || scenario.file.expect.packets.is_some(),
    };
    let mut record = match driver {
        Driver::Simulated => simulated::run(scenario, options),
        Driver::Realtime => realtime::run(scenario, options),
    }
    .map_err(|message| RunError { driver, message })?;
    if let Some(capture) = &record.capture {
        record.packets =
            crate::packets::summarize(capture).map_err(|message| RunError { driver, message })?;
    }
    Ok(record)
}

/// The dial parameters a scenario asks for.
fn dial_params(scenario: &Scenario) -> DialParams {
    let dial = &scenario.file.dial;
    DialParams {
        entry_name: scenario.file.entry.name.clone(),
        phone_number: dial.phone.clone(),
        user_name: dial.user.clone(),
        password: dial.password.clone(),
        domain: dial.domain.clone(),
        callback_id: dial.callback_id,
        callback_number: dial.callback.clone(),
        ..DialParams::default()
    }
}

/// The dial extensions a scenario asks for.
fn dial_extensions(scenario: &Scenario) -> DialExtensions {
    DialExtensions {
        options: [
            (scenario.file.dial.paused_states, rdeopt::PAUSED_STATES),
            (scenario.file.dial.custom_dial, rdeopt::CUSTOM_DIAL),
        ]
        .into_iter()
        .filter(|&(set, _)| set)
        .fold(0, |options, (_, flag)| options | flag),
        ..DialExtensions::default()
    }
}

impl Resume {
    /// The dial parameters for resuming: `params` with this resume's changes.
    fn apply(&self, params: &DialParams) -> DialParams {
        let mut params = params.clone();
        for (field, change) in [
            (&mut params.user_name, &self.user),
            (&mut params.password, &self.password),
            (&mut params.domain, &self.domain),
            (&mut params.phone_number, &self.phone),
            (&mut params.callback_number, &self.callback),
        ] {
            if let Some(value) = change {
                field.clone_from(value);
            }
        }
        params
    }
}

/// The engine settings a scenario runs with.
fn engine_config(scenario: &Scenario) -> EngineConfig {
    EngineConfig {
        seed: Some(scenario.file.seed),
        time_scale: TimeScale::DEFAULT,
        no_carrier: scenario.no_carrier,
        // A guard, not a model: modem-sim always answers, and at the default time scale
        // the engine's 5 s would be 50 ms of real time, which a loaded machine (parallel
        // runs, CI) can miss. Both drivers use the same value, so traces still agree.
        modem_response_timeout: GENEROUS_MODEM_RESPONSE_TIMEOUT,
        ..EngineConfig::default()
    }
}

/// [`engine_config`]'s modem response timeout (virtual time).
const GENEROUS_MODEM_RESPONSE_TIMEOUT: sansio::Duration = sansio::Duration::from_secs(60);

/// The server behind `peer: builtin`: the scenario's scripted PPP server, one server
/// process for the run whose calls share `bundles` (multilink).
fn builtin_peer(
    scenario: &Scenario,
    seed: u32,
    bundles: &ppp_peer_sim::Bundles,
) -> Result<LinePeer, String> {
    let script = scenario.file.server.clone().ok_or_else(|| {
        "the dialed number connects to `peer: builtin`, but the scenario has no `server:` script".to_owned()
    })?;
    Ok(Box::new(ppp_peer_sim::Server::in_process(
        script,
        ras_engine::ppp::random::Entropy::Seed(seed ^ SERVER_SEED_SALT),
        bundles,
    )))
}

/// Keeps the server's magic numbers apart from the engine's for the same seed.
const SERVER_SEED_SALT: u32 = 0x5345_5256;

/// The entry's `DEVICE=switch` subsections (ras-reference §6.1, §6.3): a pre-connect
/// terminal before the modem, a post-connect terminal and/or script after it. The script
/// path is made absolute from the scenario's `folder`.
fn add_switches(entry: &mut Entry, spec: &EntrySpec, folder: Option<&std::path::Path>) {
    let terminal = || {
        let mut switch = Device::new(DeviceKind::Switch);
        switch.settings.push(Setting::new("Terminal", "1"));
        switch
    };
    if spec.terminal == Some(TerminalAt::Before) {
        entry.link.devices.insert(0, terminal());
        entry.link.dialing_device = entry.link.dialing_device.map(|index| index + 1);
    }
    if spec.terminal == Some(TerminalAt::After) || spec.script.is_some() {
        let mut switch = match spec.terminal {
            Some(TerminalAt::After) => terminal(),
            _ => Device::new(DeviceKind::Switch),
        };
        if let Some(script) = &spec.script {
            let path = folder.map_or_else(|| script.into(), |folder| folder.join(script));
            switch
                .settings
                .push(Setting::new("Name", path.display().to_string()));
            switch.settings.push(Setting::new("Script", "1"));
        }
        entry.link.devices.push(switch);
    }
}

/// The scenario's phonebook: `entry` and `entries`, each on the device of its modem
/// (`devices[0]` is modem 1), with its custom dialer found ([`capi::dialer_path`]).
fn phonebook(scenario: &Scenario, devices: &[std::path::PathBuf]) -> Result<Phonebook, String> {
    let file = &scenario.file;
    let device = |modem: u8| {
        devices
            .get(usize::from(modem.max(1)) - 1)
            .or(devices.first())
            .cloned()
            .unwrap_or_default()
    };
    let entries = std::iter::once(&file.entry)
        .chain(&file.entries)
        .map(|spec| {
            let mut entry = Entry::modem(&spec.name, device(spec.modem), &spec.phone);
            entry.dial_mode = match spec.dial_mode {
                DialModeSpec::First => DialMode::FirstAvailable,
                DialModeSpec::All => DialMode::All,
                DialModeSpec::AsNeeded => DialMode::AsNeeded,
            };
            entry.bandwidth.dial_percent = spec.dial_extra.map(|t| t.percent);
            entry.bandwidth.dial_seconds = spec.dial_extra.map(|t| t.seconds);
            entry.bandwidth.hang_up_percent = spec.hang_up_extra.map(|t| t.percent);
            entry.bandwidth.hang_up_seconds = spec.hang_up_extra.map(|t| t.seconds);
            entry.subentries = spec
                .subentries
                .iter()
                .map(|link| {
                    let device = device(link.modem);
                    SubEntry {
                        device_name: device.display().to_string(),
                        device,
                        phone_numbers: vec![link.phone.clone()],
                        connect_bps: DEFAULT_CONNECT_BPS,
                        link: LinkDetails::modem(),
                    }
                })
                .collect();
            entry.auth_restrictions = spec.auth_restrictions.map(AuthRestrictions);
            entry.callback_mode = match spec.callback_mode {
                0 => CallbackMode::NoCallback,
                1 => CallbackMode::Optional,
                _ => CallbackMode::Negotiated,
            };
            for (key, value) in [
                ("Domain", spec.domain.clone()),
                ("User", spec.user.clone()),
                (
                    "CustomAuthKey",
                    spec.custom_auth_key
                        .map(|key| key.to_string())
                        .unwrap_or_default(),
                ),
            ] {
                if !value.is_empty() {
                    entry.settings.push(Setting::new(key, value));
                }
            }
            add_switches(&mut entry, spec, scenario.path.parent());
            entry.custom_dial_dll = spec
                .custom_dial
                .as_deref()
                .map(|dialer| capi::dialer_path(scenario, dialer))
                .transpose()?;
            Ok(entry)
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Phonebook::from_entries(entries))
}

/// Whether the scenario names one of the example C dialers and they were not built
/// (conformance's build script found no C compiler).
pub fn c_dialers_missing(scenario: &Scenario) -> bool {
    std::iter::once(&scenario.file.entry)
        .chain(&scenario.file.entries)
        .filter_map(|spec| spec.custom_dial.as_deref())
        .any(capi::unbuilt_c_dialer)
}
