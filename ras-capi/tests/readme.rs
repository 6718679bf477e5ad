//! The README's "Use it from C" section, run as written: `dial.c` is taken from its
//! heredoc, compiled with its `cc` line, and each `./dial` line is run and must print what
//! its `# comment` says. The lab is the walk-through's (its `lab.pbk` heredoc), with these
//! changes: modem-sim runs in this process on a PTY with the scripted server built in
//! (instead of `exec: ppp-peer-sim`), both sides at `common::time_scale`, and the library
//! is the one this test run built (in `target/PROFILE/deps`), not `target/release`.

mod common;

use std::path::Path;
use std::process::Command;

use modem_sim::Network;
use modem_sim::realtime::{CallInfo, spawn_pty};
use ppp_peer_sim::{Script, Server};

const SECTION: &str = "## Use it from C";
const WALKTHROUGH: &str = "## Walk-through: dial with `rasdial`";
const README_DIR: &str = "/tmp/ras-lab";
const NETWORK: &str =
    "numbers:\n  \"5551234\": {connect: 33600, peer: builtin}\n  \"5550000\": busy\n";
const SCRIPT: &str = "auth: pap\nusers: {alice: wonderland}\n";
fn section(title: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let text = std::fs::read_to_string(path).expect("README.md");
    let start = text.find(title).expect("the section");
    let rest = &text[start + title.len()..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    rest[..end].to_owned()
}

/// The body of the `cat > NAME <<'EOF'` heredoc in `text`.
fn heredoc(text: &str, name: &str) -> String {
    let opening = format!("cat > {name} <<'EOF'\n");
    let start = text.find(&opening).expect("the heredoc") + opening.len();
    let end = text[start..].find("\nEOF\n").expect("its end") + start;
    text[start..=end].to_owned()
}

#[test]
fn the_use_it_from_c_section_works_as_written() {
    let Some(cc) = common::compiler() else { return };
    let readme = section(SECTION);
    let dir = common::scratch("readme");
    std::fs::write(dir.join("dial.c"), heredoc(&readme, "dial.c")).expect("dial.c");

    let modem = {
        let network = Network::from_yaml(NETWORK).expect("network");
        let script = Script::from_yaml(SCRIPT).expect("script");
        let peers = Box::new(move |_: &CallInfo| Ok(Server::new(script.clone(), 7).boxed()));
        spawn_pty(network, peers, common::time_scale()).expect("modem-sim on a PTY")
    };
    let phonebook = heredoc(&section(WALKTHROUGH), "lab.pbk").replace(
        &format!("{README_DIR}/ttyMODEM"),
        &modem.path().display().to_string(),
    );
    std::fs::write(dir.join("lab.pbk"), phonebook).expect("lab.pbk");

    // The cc line, with the repository's paths replaced by this run's.
    let cc_line = readme
        .lines()
        .find(|line| line.starts_with("cc "))
        .expect("the cc line");
    let lib = common::lib_dir().display().to_string();
    let include = common::include_dir().display().to_string();
    let cc_line = cc_line
        .replace("$RAS/target/release", &lib)
        .replace("$RAS/ras-capi/include", &include);
    let words: Vec<&str> = cc_line.split_whitespace().skip(1).collect();
    let compiled = Command::new(&cc)
        .args(&words)
        .current_dir(&dir)
        .output()
        .expect("run cc");
    assert!(
        compiled.status.success(),
        "{cc_line}\n{}",
        String::from_utf8_lossy(&compiled.stderr)
    );

    let runs: Vec<(&str, &str)> = readme
        .lines()
        .filter(|line| line.starts_with("./dial "))
        .filter_map(|line| line.split_once('#'))
        .collect();
    assert_eq!(runs.len(), 2, "the two ./dial lines");
    for (command, expected) in runs {
        let entry = command
            .trim()
            .strip_prefix("./dial ")
            .expect("./dial")
            .trim_matches('"');
        let output = Command::new(dir.join("dial"))
            .arg(entry)
            .current_dir(&dir)
            .env("RAS_TIME_SCALE", common::time_scale().factor().to_string())
            .output()
            .expect("run dial");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(stdout.trim(), expected.trim(), "{command}");
        assert_eq!(
            output.status.success(),
            expected.trim() == "connected",
            "{command}"
        );
    }
    drop(modem);
    let _ = std::fs::remove_dir_all(dir);
}
