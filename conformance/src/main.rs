//! `conformance`: run YAML scenarios against the RAS engine under both drivers.

use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use clap::{Parser, Subcommand};

use conformance::artifacts::Artifacts;
use conformance::json::Reported;
use conformance::outcome::{Verdict, evaluate_with};
use conformance::report::progress::Progress;
use conformance::run::{Driver, RunOptions};
use conformance::scenario::{LoadError, Scenario, discover, load};
use conformance::select::{NameFilter, Partition};

/// Exit status when a scenario failed.
const EXIT_FAILED: u8 = 1;
/// Exit status when a scenario file is bad (takes precedence over failures).
const EXIT_BAD_SCENARIO: u8 = 2;

/// Print a line on stdout, best effort: a reader that went away (`| head`) must not turn
/// the run's verdict into a panic, so the exit status stays the documented one.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

/// The same for stderr.
macro_rules! complain {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr().lock(), $($arg)*);
    }};
}

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
    Run(RunArgs),
    /// Print the JSON Schema of a scenario, a network file or a server script (derived
    /// from the types the files are read into; also in the repository's `schemas/`).
    Schema {
        /// Which file's schema.
        #[arg(value_enum, default_value = "scenario")]
        kind: conformance::schema::SchemaKind,
    },
    /// Run a scenario under both drivers and write what they observed into its `expect:`
    /// (result and trace, or a program's log and traces; status and calls where the file
    /// has them), refusing when the drivers disagree. Only `expect:` is rewritten: comments
    /// and key order elsewhere stay; inside it the recorded keys are rewritten in block
    /// style (comments in them are lost) and `at`/`packets` fragments are kept.
    Record {
        /// The scenario file.
        file: PathBuf,
    },
    /// Write a commented scenario template to NAME (`.yaml` added when missing) that
    /// passes as written; refuses to overwrite a file.
    New {
        /// The file to create, e.g. scenarios/modem/slow-answer.
        name: PathBuf,
    },
    /// Explain an error: its number, name and text, whether the engine can report it, and
    /// which scenarios produce it (each run once, simulated).
    Explain {
        /// The error, as a number (676) or a symbol (ERROR_LINE_BUSY).
        code: String,
        /// Scenario files or folders (default: the bundled scenarios/).
        paths: Vec<PathBuf>,
    },
    /// List every RASCONNSTATE, every error the engine can produce, each notifier type and
    /// each server fault with the scenarios that reach it (each run once, simulated),
    /// marking what none reaches; the last line sums it up.
    Coverage {
        /// Scenario files or folders (default: the bundled scenarios/).
        paths: Vec<PathBuf>,
        /// Name every scenario, not only the first three.
        #[arg(long, short)]
        verbose: bool,
    },
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Scenario files or folders to search for *.yaml (default: the bundled scenarios/).
    /// Symlinked folders are not walked; a *.yaml that is not a regular file is an error.
    paths: Vec<PathBuf>,
    /// Also write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Also write the run as JSON to FILE (versioned format: docs/report-format.md): one
    /// object per scenario and driver, with result, trace, statuses, timings and artifacts.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Run only under this driver (repeatable; default: both).
    #[arg(long = "driver", value_enum)]
    drivers: Vec<Driver>,
    /// Leave each scenario's notification trace (`.trace`, the text the checks compare)
    /// and the engine's line as PPP frames (`.pcap`, for Wireshark/tshark) in DIR,
    /// created if missing. Files are named after the scenario (`DIR/basic/busy.pcap`);
    /// when more than one driver runs, the driver is part of the name
    /// (`DIR/basic/busy.simulated.pcap`, `DIR/basic/busy.realtime.pcap`). Each scenario's
    /// dial is drawn as a sequence diagram (`DIR/basic/busy.svg`), and `DIR/index.html`
    /// shows the whole run.
    #[arg(long, value_name = "DIR")]
    artifacts: Option<PathBuf>,
    /// Run N scenarios at a time (default: the machine's cores). Output keeps the
    /// scenarios' order whatever finishes first.
    #[arg(long, short = 'j', value_name = "N")]
    jobs: Option<NonZeroUsize>,
    /// Run only scenarios whose name contains PATTERN (repeatable: any of them).
    #[arg(long, value_name = "PATTERN")]
    filter: Vec<String>,
    /// Leave out scenarios whose name contains PATTERN (repeatable).
    #[arg(long, value_name = "PATTERN")]
    skip: Vec<String>,
    /// Run one shard of the suite: `M/N` or `count:M/N` deals scenarios round robin in
    /// name order, `hash:M/N` by a hash of the name. Shards 1/N … N/N together run
    /// every scenario exactly once.
    #[arg(long, value_name = "M/N")]
    partition: Option<Partition>,
    /// Succeed when no scenario is selected (otherwise that is a usage error, exit 2).
    #[arg(long)]
    allow_empty: bool,
}

/// A scenario file, loaded or not.
enum Loaded {
    Scenario(Box<Scenario>),
    Invalid { file: PathBuf, message: String },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        // The report is the output; the libraries' logs only when asked for (a dialer
        // that a scenario expects to fail to load would otherwise print errors).
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CONFORMANCE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Run(args) => run(args),
        Command::Schema { kind } => {
            say!("{}", kind.text().trim_end());
            ExitCode::SUCCESS
        }
        Command::Record { file } => {
            let name = file
                .file_stem()
                .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
            match conformance::record::record_file(&file, &name) {
                Ok(_) => {
                    say!("recorded {}", file.display());
                    ExitCode::SUCCESS
                }
                Err(error @ conformance::record::RecordError::Disagree(_)) => {
                    complain!("{}: {error}", file.display());
                    ExitCode::from(EXIT_FAILED)
                }
                Err(error) => {
                    complain!("{}: {error}", file.display());
                    ExitCode::from(EXIT_BAD_SCENARIO)
                }
            }
        }
        Command::New { name } => {
            let file = if name.extension().is_some() {
                name
            } else {
                name.with_extension("yaml")
            };
            let text =
                conformance::template::template(&file, &conformance::bundled_scenario_schema());
            let written = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&file)
                .and_then(|mut out| std::io::Write::write_all(&mut out, text.as_bytes()));
            match written {
                Ok(()) => {
                    say!("wrote {}", file.display());
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    complain!("{}: {error}", file.display());
                    ExitCode::from(EXIT_BAD_SCENARIO)
                }
            }
        }
        Command::Explain { code, paths } => authoring(&paths, |coverage| {
            let error = code
                .parse::<ras_engine::ras::RasError>()
                .map_err(|e| e.to_string())?;
            Ok(conformance::coverage::explain(error, coverage))
        }),
        Command::Coverage { paths, verbose } => {
            authoring(&paths, |coverage| Ok(coverage.report(verbose)))
        }
    }
}

/// Load the scenarios under `paths`, collect their coverage, and print what `say` makes
/// of it; a bad scenario file or a bad argument exits 2.
fn authoring(
    paths: &[PathBuf],
    say: impl FnOnce(&conformance::coverage::Coverage) -> Result<String, String>,
) -> ExitCode {
    let (scenarios, bad) = conformance::scenario::load_all(paths);
    for (file, why) in &bad {
        complain!("{}: {why}", file.display());
    }
    let coverage = conformance::coverage::collect(&scenarios);
    match say(&coverage) {
        Ok(text) if bad.is_empty() => {
            say!("{}", text.trim_end());
            ExitCode::SUCCESS
        }
        Ok(text) => {
            say!("{}", text.trim_end());
            ExitCode::from(EXIT_BAD_SCENARIO)
        }
        Err(message) => {
            complain!("{message}");
            ExitCode::from(EXIT_BAD_SCENARIO)
        }
    }
}

fn run(args: RunArgs) -> ExitCode {
    let drivers = if args.drivers.is_empty() {
        Driver::BOTH.to_vec()
    } else {
        args.drivers.clone()
    };
    let artifacts = match args.artifacts.as_deref().map(Artifacts::create).transpose() {
        Ok(artifacts) => artifacts,
        Err(error) => {
            // A folder that cannot be made is the command line's fault, not a scenario's.
            complain!("--artifacts: {error}");
            return ExitCode::from(EXIT_BAD_SCENARIO);
        }
    };
    let options = RunOptions {
        capture: artifacts.is_some(),
    };
    let roots = if args.paths.is_empty() {
        vec![conformance::bundled_scenarios()]
    } else {
        args.paths.clone()
    };

    // Load everything first: selection and sharding work on names.
    let mut loaded: Vec<Loaded> = Vec::new();
    for root in &roots {
        let files = match discover(root) {
            Ok(files) => files,
            Err(error) => {
                loaded.push(Loaded::Invalid {
                    file: root.clone(),
                    message: error.to_string(),
                });
                continue;
            }
        };
        let base = if root.is_dir() {
            root.clone()
        } else {
            root.parent().map(PathBuf::from).unwrap_or_default()
        };
        for file in files {
            loaded.push(match load(&base, &file) {
                Ok(scenario) => Loaded::Scenario(Box::new(scenario)),
                Err(LoadError::Invalid(error)) => {
                    complain!("{:?}", error.report());
                    Loaded::Invalid {
                        file,
                        message: error.summary(),
                    }
                }
                Err(LoadError::Read(error)) => Loaded::Invalid {
                    file,
                    message: error.to_string(),
                },
            });
        }
    }
    let names = NameFilter {
        filters: args.filter.clone(),
        skips: args.skip.clone(),
    };
    let mut selected = Vec::new();
    let mut invalid: Vec<(String, String)> = Vec::new();
    let mut index = 0;
    for item in loaded {
        match item {
            Loaded::Scenario(scenario) => {
                if !names.takes(&scenario.name) {
                    continue;
                }
                let in_shard = args
                    .partition
                    .is_none_or(|p| p.takes(index, &scenario.name));
                index += 1;
                if in_shard {
                    selected.push(*scenario);
                }
            }
            Loaded::Invalid { file, message } => {
                say!("BAD  {}", file.display());
                complain!("{message}");
                invalid.push((file.display().to_string(), message));
            }
        }
    }
    if selected.is_empty() && invalid.is_empty() && !args.allow_empty {
        complain!(
            "no scenario selected (paths: {}); pass --allow-empty if that is expected",
            roots
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return ExitCode::from(EXIT_BAD_SCENARIO);
    }

    let jobs = args
        .jobs
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, NonZeroUsize::get);
    let progress = Progress::new(selected.len());
    let verdicts = run_all(&selected, &drivers, options, jobs, |verdict| {
        let mark = if verdict.passed() { "PASS" } else { "FAIL" };
        let under: Vec<String> = drivers.iter().map(ToString::to_string).collect();
        progress.say(&format!(
            "{mark} {} ({}) {:.2}s",
            verdict.name,
            under.join(", "),
            verdict.elapsed.as_secs_f64()
        ));
        if !verdict.passed() {
            progress.say(verdict.explain().trim_end());
        }
        progress.advance(verdict.passed());
    });
    progress.finish();

    let mut artifacts_failed = false;
    let mut reported = Vec::new();
    for (scenario, verdict) in selected.iter().zip(&verdicts) {
        let written = match artifacts.as_ref().map(|a| a.write(verdict)) {
            Some(Ok(paths)) => paths,
            Some(Err(error)) => {
                complain!("--artifacts: {error}");
                artifacts_failed = true;
                Vec::new()
            }
            None => Vec::new(),
        };
        reported.push(Reported {
            verdict,
            file: scenario.path.clone(),
            artifacts: written,
        });
    }

    if let Some(Err(error)) = artifacts.as_ref().map(|a| a.index(&reported, &invalid)) {
        complain!("--artifacts: {error}");
        artifacts_failed = true;
    }

    let passed = verdicts.iter().filter(|v| v.passed()).count();
    let failed = verdicts.len() - passed + invalid.len();
    say!("{passed} passed, {failed} failed");

    if let Some(path) = &args.junit {
        let written = conformance::junit::report(&verdicts, &invalid)
            .map_err(|e| e.to_string())
            .and_then(|xml| std::fs::write(path, xml).map_err(|e| e.to_string()));
        if let Err(error) = written {
            complain!("cannot write JUnit report {}: {error}", path.display());
            return ExitCode::from(EXIT_FAILED);
        }
    }
    if let Some(path) = &args.json {
        let document = conformance::json::report(&reported, &invalid);
        let written = serde_json::to_string_pretty(&document)
            .map_err(|e| e.to_string())
            .and_then(|text| std::fs::write(path, text + "\n").map_err(|e| e.to_string()));
        if let Err(error) = written {
            complain!("cannot write JSON report {}: {error}", path.display());
            return ExitCode::from(EXIT_FAILED);
        }
    }
    if !invalid.is_empty() {
        ExitCode::from(EXIT_BAD_SCENARIO)
    } else if failed > 0 || artifacts_failed {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

/// Evaluate `scenarios` on `jobs` threads, handing each verdict to `report` in the
/// scenarios' order as soon as it and all before it are done.
fn run_all(
    scenarios: &[Scenario],
    drivers: &[Driver],
    options: RunOptions,
    jobs: usize,
    mut report: impl FnMut(&Verdict),
) -> Vec<Verdict> {
    let next = AtomicUsize::new(0);
    let (done, finished) = mpsc::channel::<(usize, Verdict)>();
    let mut verdicts: Vec<Option<Verdict>> = scenarios.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(scenarios.len()).max(1) {
            let done = done.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(scenario) = scenarios.get(index) else {
                        return;
                    };
                    let verdict = evaluate_with(scenario, drivers, options);
                    if done.send((index, verdict)).is_err() {
                        return;
                    }
                }
            });
        }
        drop(done);
        let mut printed = 0;
        for (index, verdict) in finished {
            verdicts[index] = Some(verdict);
            while let Some(Some(verdict)) = verdicts.get(printed) {
                report(verdict);
                printed += 1;
            }
        }
    });
    verdicts.into_iter().flatten().collect()
}
