//! What `conformance run --artifacts DIR` draws for a person: a sequence diagram of each
//! scenario's dial ([`sequence`], an SVG) and one page for the whole run ([`html`],
//! `index.html`). Both are self-contained: no scripts or fonts from anywhere else. And
//! while the run goes on, its progress on a terminal ([`progress`]).

pub mod html;
pub mod progress;
pub mod sequence;
pub mod timeline;

use crate::outcome::Verdict;
use crate::run::{Driver, Record};

/// `text` safe inside XML/HTML text and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters are not allowed in XML 1.0 (a modem may echo noise).
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The run a scenario's diagram shows: the simulated one when it completed (all of its
/// times are on one exact virtual clock), else the first run that completed.
pub fn diagram_run(verdict: &Verdict) -> Option<(Driver, &Record)> {
    let completed = || {
        verdict
            .runs
            .iter()
            .filter_map(|(driver, run)| run.as_ref().ok().map(|record| (*driver, record)))
    };
    completed()
        .find(|(driver, _)| *driver == Driver::Simulated)
        .or_else(|| completed().next())
}

/// The sequence diagram of `verdict`'s dial as an SVG document, or `None` when no run
/// completed. A capture that cannot be read is an error.
pub fn diagram(verdict: &Verdict) -> Option<Result<String, String>> {
    let (driver, record) = diagram_run(verdict)?;
    Some(
        sequence::events(record)
            .map(|events| sequence::svg(&format!("{} ({driver})", verdict.name), &events)),
    )
}
