//! `index.html`: the whole run on one page. A table of every scenario (passed or failed,
//! its time and each driver's), a filter by name and outcome, and per scenario its
//! sequence diagram, what failed with the trace diff, and links to its trace and pcap
//! files. The page's own small script and style sheet are inline; nothing is fetched.

use std::fmt::Write as _;
use std::path::Path;

use super::escape;
use crate::json::Reported;

/// The page's style sheet.
const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}\
table{border-collapse:collapse}th,td{padding:.2em .6em;text-align:left;border-bottom:1px solid #ddd}\
tr.pass td.outcome{color:#2e7d32}tr.fail td.outcome{color:#c62828;font-weight:bold}\
.filters{margin:1em 0}.filters input[type=search]{width:20em}\
section{margin:1.5em 0;border-top:2px solid #ccc;padding-top:.5em}\
section.fail h2{color:#c62828}\
pre{background:#f6f6f6;padding:.6em;overflow-x:auto}\
.del{color:#c62828}.ins{color:#2e7d32}.hunk{color:#777}\
img.sequence{max-width:100%;border:1px solid #ddd}";

/// Filters the table rows and sections (everything with `data-name`) by the search text
/// and the "failures only" box.
const SCRIPT: &str = "\
(function(){\
var search=document.getElementById('filter'),failed=document.getElementById('failed-only');\
function apply(){var q=search.value.toLowerCase();\
document.querySelectorAll('[data-name]').forEach(function(el){\
var show=el.getAttribute('data-name').toLowerCase().indexOf(q)>=0&&\
(!failed.checked||el.classList.contains('fail'));el.hidden=!show;});\
document.getElementById('shown').textContent=\
document.querySelectorAll('tr[data-name]:not([hidden])').length;}\
search.addEventListener('input',apply);failed.addEventListener('change',apply);apply();})();";

/// `path` as a link from a page in `dir`.
fn href(dir: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(dir).unwrap_or(path);
    // Scenario names are paths with `/`; a `#` or `?` in one must not end the path.
    escape(
        &relative
            .to_string_lossy()
            .replace('%', "%25")
            .replace('#', "%23")
            .replace('?', "%3F"),
    )
}

/// A unified diff (or any failure text) with its removed and added lines marked.
fn diff_html(text: &str) -> String {
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let class = if trimmed.starts_with("@@") {
                Some("hunk")
            } else if trimmed.starts_with('-') && !trimmed.starts_with("---") {
                Some("del")
            } else if trimmed.starts_with('+') && !trimmed.starts_with("+++") {
                Some("ins")
            } else {
                None
            };
            match class {
                Some(class) => format!("<span class=\"{class}\">{}</span>\n", escape(line)),
                None => format!("{}\n", escape(line)),
            }
        })
        .collect()
}

/// The page for `scenarios` and the `invalid` files, with links relative to `dir` (where
/// the page is written).
pub fn index(dir: &Path, scenarios: &[Reported<'_>], invalid: &[(String, String)]) -> String {
    let passed = scenarios.iter().filter(|s| s.verdict.passed()).count();
    let failed = scenarios.len() - passed + invalid.len();
    let summary = format!("{passed} passed, {failed} failed");
    let mut rows = String::new();
    let mut sections = String::new();
    for (number, reported) in scenarios.iter().enumerate() {
        let verdict = reported.verdict;
        let outcome = if verdict.passed() { "pass" } else { "fail" };
        let name = escape(&verdict.name);
        let anchor = format!("scenario-{number}");
        let drivers: Vec<String> = verdict
            .runs
            .iter()
            .zip(&verdict.timings)
            .map(|((driver, run), time)| {
                let state = if run.is_ok() { "" } else { " (did not run)" };
                format!("{driver} {:.3} s{state}", time.as_secs_f64())
            })
            .collect();
        let links: Vec<String> = reported
            .artifacts
            .iter()
            .filter(|path| path.extension().is_some_and(|e| e != "svg"))
            .map(|path| {
                let file = path.file_name().map(|f| f.to_string_lossy().into_owned());
                format!(
                    "<a href=\"{}\">{}</a>",
                    href(dir, path),
                    escape(&file.unwrap_or_default())
                )
            })
            .collect();
        let _ = writeln!(
            rows,
            "<tr class=\"{outcome}\" data-name=\"{name}\"><td><a href=\"#{anchor}\">{name}</a></td>\
             <td class=\"outcome\">{}</td><td>{:.3} s</td><td>{}</td><td>{}</td></tr>",
            outcome.to_uppercase(),
            verdict.elapsed.as_secs_f64(),
            escape(&drivers.join(", ")),
            links.join(" "),
        );
        let _ = write!(
            sections,
            "<section class=\"{outcome}\" id=\"{anchor}\" data-name=\"{name}\">\
             <h2>{name} — {}</h2>\n<p>{} · {}</p>\n",
            outcome.to_uppercase(),
            escape(&reported.file.display().to_string()),
            escape(&drivers.join(", ")),
        );
        if !verdict.passed() {
            let _ = writeln!(
                sections,
                "<pre class=\"diff\">{}</pre>",
                diff_html(&verdict.explain())
            );
        }
        match reported
            .artifacts
            .iter()
            .find(|path| path.extension().is_some_and(|e| e == "svg"))
        {
            Some(svg) => {
                let _ = writeln!(
                    sections,
                    "<img class=\"sequence\" src=\"{}\" alt=\"sequence diagram of {name}\">",
                    href(dir, svg)
                );
            }
            None => sections.push_str("<p>No diagram: no run completed.</p>\n"),
        }
        sections.push_str("</section>\n");
    }
    for (file, message) in invalid {
        let file = escape(file);
        let _ = writeln!(
            rows,
            "<tr class=\"fail\" data-name=\"{file}\"><td>{file}</td><td class=\"outcome\">BAD</td>\
             <td></td><td></td><td></td></tr>"
        );
        let _ = writeln!(
            sections,
            "<section class=\"fail\" data-name=\"{file}\"><h2>{file} — BAD</h2>\
             <pre>{}</pre></section>",
            escape(message)
        );
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>conformance: {summary}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Conformance run</h1>\n<p class=\"summary\">{summary}</p>\n\
         <div class=\"filters\"><input id=\"filter\" type=\"search\" placeholder=\"filter by name\" \
         aria-label=\"filter by name\"> <label><input id=\"failed-only\" type=\"checkbox\"> \
         failures only</label> · <span id=\"shown\"></span> shown</div>\n\
         <table id=\"scenarios\">\n<thead><tr><th>scenario</th><th>result</th><th>time</th>\
         <th>drivers</th><th>artifacts</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n\
         {sections}<script>{SCRIPT}</script>\n</body>\n</html>\n"
    )
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;
    use std::time::Duration;

    use super::*;
    use crate::check::Mismatch;
    use crate::outcome::Verdict;
    use crate::run::{Driver, Record};

    fn verdict(name: &str, mismatches: Vec<Mismatch>) -> Verdict {
        Verdict {
            name: name.to_owned(),
            runs: Driver::BOTH
                .iter()
                .map(|&d| (d, Ok(Record::default())))
                .collect(),
            mismatches,
            elapsed: Duration::from_millis(1_250),
            timings: vec![Duration::from_millis(50), Duration::from_millis(1_200)],
        }
    }

    #[test]
    fn the_page_lists_every_scenario_with_its_diff_links_and_diagram() {
        let dir = PathBuf::from("/tmp/run");
        let passed = verdict("basic/pap-connect", Vec::new());
        let failed = verdict(
            "basic/<busy>",
            vec![Mismatch {
                driver: Some(Driver::Simulated),
                summary: "the trace differs".to_owned(),
                diff: Some("--- expected\n+++ simulated\n@@ -1,2 +1,2 @@\n OpenPort\n-ConnectDevice 676\n+Connected\n".to_owned()),
            }],
        );
        let reported = [
            Reported {
                verdict: &passed,
                file: PathBuf::from("scenarios/basic/pap-connect.yaml"),
                artifacts: vec![
                    dir.join("basic/pap-connect.simulated.trace"),
                    dir.join("basic/pap-connect.simulated.pcap"),
                    dir.join("basic/pap-connect.svg"),
                ],
            },
            Reported {
                verdict: &failed,
                file: PathBuf::from("scenarios/basic/busy.yaml"),
                artifacts: vec![dir.join("basic/<busy>.svg")],
            },
        ];
        let invalid = [(
            "scenarios/bad.yaml".to_owned(),
            "bad.yaml:1:1: nope".to_owned(),
        )];
        let page = index(&dir, &reported, &invalid);
        assert!(page.starts_with("<!DOCTYPE html>"));
        assert!(page.contains("<p class=\"summary\">1 passed, 2 failed</p>"));
        assert_eq!(page.matches("<tr class=\"pass\"").count(), 1);
        assert_eq!(page.matches("<tr class=\"fail\"").count(), 2);
        assert_eq!(page.matches("<section ").count(), 3);
        // Per-scenario time and each driver's.
        assert!(page.contains("<td>1.250 s</td><td>simulated 0.050 s, realtime 1.200 s</td>"));
        // Links relative to the page; the failing scenario's name escaped everywhere.
        assert!(page.contains(
            "<a href=\"basic/pap-connect.simulated.pcap\">pap-connect.simulated.pcap</a>"
        ));
        assert!(page.contains("src=\"basic/pap-connect.svg\""));
        assert!(page.contains("src=\"basic/&lt;busy&gt;.svg\""));
        assert!(!page.contains("<busy>"));
        // The failure with its trace diff, lines marked.
        assert!(page.contains("simulated: the trace differs"));
        assert!(page.contains("<span class=\"del\">    -ConnectDevice 676</span>"));
        assert!(page.contains("<span class=\"ins\">    +Connected</span>"));
        assert_eq!(page.matches("<pre class=\"diff\">").count(), 1);
        // The filter works on every row and section; nothing comes from the network.
        assert!(page.contains("id=\"filter\"") && page.contains("id=\"failed-only\""));
        assert!(!page.contains("src=\"http") && !page.contains("href=\"http"));
    }
}
