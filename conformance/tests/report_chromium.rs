//! The `--artifacts` report in a real browser: headless Chromium (Debian package
//! `chromium`) loads `index.html` of a run with a passing and a failing scenario, takes a
//! screenshot, and must see no console message (the page logs nothing itself, so any line
//! is an error: a script exception, a blocked load); its script must have run (the
//! "shown" count is filled in). Every file the page shows or links to exists. Without
//! Chromium the test is skipped loudly, except under `CI=true`, where it fails.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The run under test: one scenario that passes, one whose expectation is wrong.
fn run_report(dir: &Path) {
    let passing = conformance::bundled_scenarios().join("basic/pap-connect.yaml");
    let failing = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wrong/busy-expected-connected.yaml");
    let output = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["run", "--driver", "simulated", "--artifacts"])
        .arg(dir)
        .arg(&passing)
        .arg(&failing)
        .output()
        .unwrap();
    // The wrong expectation fails the run.
    assert_eq!(output.status.code(), Some(1), "{output:?}");
}

/// Headless Chromium on `page` with `args`; every console message goes to stderr.
fn chromium(program: &Path, page: &Path, args: &[&str]) -> Output {
    let url = format!("file://{}", page.display());
    Command::new(program)
        // CI runs as root, where Chromium's sandbox cannot start.
        .args(["--headless", "--no-sandbox", "--disable-gpu"])
        .args(["--enable-logging=stderr", "--v=0"])
        // Lets the page's script and lazy images finish before the capture.
        .arg("--virtual-time-budget=5000")
        .args(args)
        .arg(url)
        .output()
        .unwrap()
}

/// Chromium's log lines for the page's console.
fn console_lines(output: &Output) -> Vec<String> {
    String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|line| line.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect()
}

/// Every `src="…"` and `href="…"` of `page`, relative to its folder.
fn references(page: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attribute| page.match_indices(attribute).map(|(at, a)| at + a.len()))
        .map(|start| {
            let end = start + page[start..].find('"').unwrap();
            page[start..end].to_owned()
        })
        .filter(|reference| !reference.starts_with('#'))
        .collect()
}

#[test]
fn the_report_loads_in_headless_chromium_without_console_errors() {
    let Some(program) = testkit::required_program("chromium", "chromium") else {
        return;
    };
    let dir: PathBuf =
        std::env::temp_dir().join(format!("conformance-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    run_report(&dir);
    let page = dir.join("index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("1 passed, 1 failed"), "{html}");
    let references = references(&html);
    assert!(
        references.iter().any(|r| r.ends_with(".svg")),
        "{references:?}"
    );
    for reference in &references {
        assert!(dir.join(reference).is_file(), "{reference} is missing");
    }

    let screenshot = dir.join("report.png");
    let shot = chromium(
        &program,
        &page,
        &[
            &format!("--screenshot={}", screenshot.display()),
            "--window-size=1280,2400",
        ],
    );
    assert!(shot.status.success(), "{shot:?}");
    assert_eq!(console_lines(&shot), Vec::<String>::new());
    let png = std::fs::read(&screenshot).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    assert!(
        png.len() > 10_000,
        "a nearly empty screenshot: {} bytes",
        png.len()
    );

    // The DOM after the script ran: both rows counted, the failure's diff on the page.
    let dom = chromium(&program, &page, &["--dump-dom"]);
    assert!(dom.status.success(), "{dom:?}");
    assert_eq!(console_lines(&dom), Vec::<String>::new());
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert!(dom.contains("<span id=\"shown\">2</span>"), "{dom}");
    assert!(dom.contains("+ConnectDevice 676"), "{dom}");

    // The failing scenario's diagram on its own: an SVG document Chromium draws.
    let svg = dir.join("busy-expected-connected.svg");
    let drawn = chromium(
        &program,
        &svg,
        &[
            &format!("--screenshot={}", dir.join("failure.png").display()),
            "--window-size=1100,900",
        ],
    );
    assert!(drawn.status.success(), "{drawn:?}");
    assert_eq!(console_lines(&drawn), Vec::<String>::new());
    let _ = std::fs::remove_dir_all(&dir);
}
