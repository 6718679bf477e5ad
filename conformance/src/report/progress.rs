//! `conformance run`'s output while it runs: on a terminal, the scenario lines scroll
//! above a progress bar (indicatif) that counts scenarios done, failures and time; when
//! stdout is not a terminal (CI logs, pipes, files), plain lines only, exactly as they
//! would be without a bar.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How often the bar redraws by itself (its clock moves while a long scenario runs).
const TICK: Duration = Duration::from_millis(100);

/// The bar: elapsed time, bar, done/total, failures so far.
const TEMPLATE: &str = "{elapsed:>4} [{bar:40}] {pos}/{len} {msg}";

/// Where the run's lines go.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    failed: AtomicUsize,
}

impl Progress {
    /// For a run of `total` scenarios: a bar when stdout is a terminal, else plain lines.
    pub fn new(total: usize) -> Self {
        let bar = std::io::stdout().is_terminal().then(|| {
            let length = u64::try_from(total).unwrap_or(u64::MAX);
            let bar = ProgressBar::with_draw_target(Some(length), ProgressDrawTarget::stdout());
            // The template is a constant; should it ever be refused, the default style
            // still counts.
            if let Ok(style) = ProgressStyle::with_template(TEMPLATE) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(TICK);
            bar
        });
        Progress {
            bar,
            failed: AtomicUsize::new(0),
        }
    }

    /// Print `text` and a newline on stdout (above the bar, when there is one). Best
    /// effort: a reader that went away (`| head`) must not change the run's verdict.
    pub fn say(&self, text: &str) {
        let print = || {
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        };
        match &self.bar {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }

    /// One more scenario done.
    pub fn advance(&self, passed: bool) {
        let Some(bar) = &self.bar else { return };
        if !passed {
            let failed = self.failed.fetch_add(1, Ordering::Relaxed) + 1;
            bar.set_message(format!("{failed} failed"));
        }
        bar.inc(1);
    }

    /// The run is over: the bar goes, leaving only the lines.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
