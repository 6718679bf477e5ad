//! `conformance`: run YAML scenarios against the RAS engine under both drivers.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use conformance::artifacts::Artifacts;
use conformance::outcome::{Verdict, evaluate_with};
use conformance::run::{Driver, RunOptions};
use conformance::scenario::{LoadError, discover, load};

/// `println!` that survives a reader that went away (`conformance run | head -1`): the
/// exit status stays the documented one instead of a panic's 101 (issue 16 #2).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// `eprintln!` that survives a closed stderr, as [`say`] does for stdout.
macro_rules! complain {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

/// Exit status when a scenario failed.
const EXIT_FAILED: u8 = 1;
/// Exit status when a scenario file is bad (takes precedence over failures).
const EXIT_BAD_SCENARIO: u8 = 2;

#[derive(Debug, Parser)]
#[command(
    name = "conformance",
    version,
    about = "Run RAS dialing scenarios against the engine, a simulated modem and a scripted PPP server",
    long_about = "Run RAS dialing scenarios (YAML) against the engine, a simulated modem and a scripted \
PPP server.\n\nEach scenario runs under both drivers: `simulated` (a deterministic event loop on a \
virtual clock) and `realtime` (a real PTY served by modem-sim, opened by the engine as a serial \
port). A scenario passes when each run ends as `expect.result` says, its notification trace matches \
`expect.trace` when one is given, and both drivers produced the same trace.\n\nExit status: 0 all \
passed, 1 a scenario failed, 2 a scenario file is invalid."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run scenarios and report one line each, then `N passed, M failed`.
    Run {
        /// Scenario files or folders to search for *.yaml (default: the bundled scenarios/).
        paths: Vec<PathBuf>,
        /// Also write a JUnit XML report to FILE.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Run only under this driver (repeatable; default: both).
        #[arg(long = "driver", value_enum)]
        drivers: Vec<Driver>,
        /// Leave each scenario's notification trace (`.trace`, the text the checks compare)
        /// and the engine's line as PPP frames (`.pcap`, for Wireshark/tshark) in DIR,
        /// created if missing. Files are named after the scenario (`DIR/basic/busy.pcap`);
        /// when more than one driver runs, the driver is part of the name
        /// (`DIR/basic/busy.simulated.pcap`, `DIR/basic/busy.realtime.pcap`).
        #[arg(long, value_name = "DIR")]
        artifacts: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("CONFORMANCE_LOG"))
        .with_writer(std::io::stderr)
        .log_internal_errors(false)
        .init();
    let Cli {
        command:
            Command::Run {
                paths,
                junit,
                drivers,
                artifacts,
            },
    } = Cli::parse();
    let drivers = if drivers.is_empty() {
        Driver::BOTH.to_vec()
    } else {
        drivers
    };
    let artifacts = match artifacts.as_deref().map(Artifacts::create).transpose() {
        Ok(artifacts) => artifacts,
        Err(error) => {
            complain!("--artifacts: {error}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let options = RunOptions {
        capture: artifacts.is_some(),
    };
    let mut artifacts_failed = false;
    let roots = if paths.is_empty() {
        vec![conformance::bundled_scenarios()]
    } else {
        paths
    };

    let mut verdicts: Vec<Verdict> = Vec::new();
    let mut unloadable: Vec<(String, String)> = Vec::new();
    for root in &roots {
        let files = match discover(root) {
            Ok(files) => files,
            Err(error) => {
                complain!("{error}");
                unloadable.push((root.display().to_string(), error.to_string()));
                continue;
            }
        };
        let base = if root.is_dir() {
            root.clone()
        } else {
            root.parent().map(PathBuf::from).unwrap_or_default()
        };
        for file in files {
            match load(&base, &file) {
                Ok(scenario) => {
                    let verdict = evaluate_with(&scenario, &drivers, options);
                    let mark = if verdict.passed() { "PASS" } else { "FAIL" };
                    let under: Vec<String> = drivers.iter().map(ToString::to_string).collect();
                    say!(
                        "{mark} {} ({}) {:.2}s",
                        verdict.name,
                        under.join(", "),
                        verdict.elapsed.as_secs_f64()
                    );
                    if !verdict.passed() {
                        // Ends in a newline of its own; best effort, as say! is.
                        let _ = std::io::Write::write_all(
                            &mut std::io::stdout().lock(),
                            verdict.explain().as_bytes(),
                        );
                    }
                    if let Some(Err(error)) = artifacts.as_ref().map(|a| a.write(&verdict)) {
                        complain!("--artifacts: {error}");
                        artifacts_failed = true;
                    }
                    verdicts.push(verdict);
                }
                Err(LoadError::Invalid(error)) => {
                    say!("BAD  {}", file.display());
                    complain!("{}", error.summary());
                    complain!("{:?}", error.report());
                    unloadable.push((file.display().to_string(), error.summary()));
                }
                Err(LoadError::Read(error)) => {
                    say!("BAD  {}", file.display());
                    complain!("{error}");
                    unloadable.push((file.display().to_string(), error.to_string()));
                }
            }
        }
    }

    let passed = verdicts.iter().filter(|v| v.passed()).count();
    let failed = verdicts.len() - passed + unloadable.len();
    say!("{passed} passed, {failed} failed");

    if let Some(path) = junit {
        let written = conformance::junit::report(&verdicts, &unloadable)
            .map_err(|e| e.to_string())
            .and_then(|xml| std::fs::write(&path, xml).map_err(|e| e.to_string()));
        if let Err(error) = written {
            complain!("cannot write JUnit report {}: {error}", path.display());
            return ExitCode::from(EXIT_FAILED);
        }
    }
    if !unloadable.is_empty() {
        ExitCode::from(EXIT_BAD_SCENARIO)
    } else if failed > 0 || artifacts_failed {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}
