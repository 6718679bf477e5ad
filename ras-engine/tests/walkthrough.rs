//! The README's `rasdial` walk-throughs (a dial, and a callback), run as written: the
//! files are taken from their heredocs and the commands from their shell blocks, so the
//! README cannot drift from what works. `modem-sim` and `ppp-peer-sim` run as the separate programs the reader starts;
//! the only changes are a scratch directory instead of `/tmp/ras-lab` and a time scale of
//! 0.01 so the dials take tens of milliseconds.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The README sections these tests run, and where each one's files live (replaced by a
/// scratch directory).
const SECTION: &str = "## Walk-through: dial with `rasdial`";
const README_DIR: &str = "/tmp/ras-lab";
const CALLBACK_SECTION: &str = "## Walk-through: a callback";
const CALLBACK_README_DIR: &str = "/tmp/ras-callback";
/// How long any one program may take before the test gives up on it.
const PROGRAM_LIMIT: Duration = Duration::from_secs(60);
const TIME_SCALE: &str = "0.01";
/// The walk-through account's password (its `server.yaml`).
const PASSWORD: &str = "wonderland";

fn readme_section(title: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let text = std::fs::read_to_string(&path).expect("README.md");
    let start = text.find(title).expect("the walk-through section");
    let rest = &text[start + title.len()..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    rest[..end].to_owned()
}

/// `cat > NAME <<'EOF'` … `EOF` blocks: (file name, contents).
fn heredocs(section: &str) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if let Some(name) = line
            .strip_prefix("cat > ")
            .and_then(|rest| rest.strip_suffix(" <<'EOF'"))
        {
            let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "EOF").collect();
            files.push((name.to_owned(), body.join("\n") + "\n"));
        }
    }
    files
}

/// A command line split as the shell would for the plain words and double quotes used in
/// the README; the trailing `# comment` is returned separately.
fn split_command(line: &str) -> (Vec<String>, String) {
    let (command, comment) = line.split_once(" #").unwrap_or((line, ""));
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut in_word = false;
    for c in command.trim().chars() {
        match c {
            '"' => {
                quoted = !quoted;
                in_word = true;
            }
            ' ' if !quoted => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                }
                in_word = false;
            }
            c => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    (words, comment.trim().to_owned())
}

/// Lines of the section's shell blocks that start with `program `.
fn commands<'a>(section: &'a str, program: &str) -> Vec<&'a str> {
    section
        .lines()
        .filter(|line| line.starts_with(&format!("{program} ")))
        .collect()
}

/// The directory holding the workspace's programs, built if missing.
fn programs() -> PathBuf {
    let rasdial = PathBuf::from(env!("CARGO_BIN_EXE_rasdial"));
    let dir = rasdial.parent().expect("bin dir").to_owned();
    let mut build = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    build.args(["build", "-q", "-p", "modem-sim", "-p", "ppp-peer-sim"]);
    if dir.ends_with("release") {
        build.arg("--release");
    }
    let status = build.status().expect("run cargo build");
    assert!(
        status.success(),
        "building modem-sim and ppp-peer-sim failed"
    );
    for program in ["modem-sim", "ppp-peer-sim"] {
        assert!(
            dir.join(program).exists(),
            "{program} not in {}",
            dir.display()
        );
    }
    dir
}

fn wait_with_limit(child: &mut Child, what: &str) -> ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if started.elapsed() > PROGRAM_LIMIT {
            let _ = child.kill();
            panic!("{what} did not finish within {PROGRAM_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

struct Lab {
    dir: PathBuf,
    path: String,
    modem: Child,
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.modem.kill();
        let _ = self.modem.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Lab {
    fn command(&self, words: &[String]) -> Command {
        let mut command = Command::new(&words[0]);
        command
            .args(&words[1..])
            .current_dir(&self.dir)
            .env("PATH", &self.path)
            .env("RAS_TIME_SCALE", TIME_SCALE)
            .env_remove("XDG_CONFIG_HOME")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }
}

fn start_lab(section: &str, readme_dir: &str) -> Lab {
    let scratch = readme_dir.trim_start_matches("/tmp/");
    let dir = std::env::temp_dir().join(format!("{scratch}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let here = dir.to_str().expect("utf-8 temp dir").to_owned();
    let files = heredocs(section);
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["server.yaml", "network.yaml", "lab.pbk"]);
    for (name, body) in files {
        std::fs::write(dir.join(name), body.replace(readme_dir, &here)).expect("write file");
    }
    let path = format!(
        "{}:{}",
        programs().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let [modem_line] = commands(section, "modem-sim")[..] else {
        panic!("one modem-sim command expected");
    };
    // `2>modem.log &`: the log goes to a file, and the program runs in the background.
    let modem_line = modem_line
        .strip_suffix(" 2>modem.log &")
        .expect("modem-sim runs in the background with its log in modem.log");
    let (mut words, _) = split_command(&modem_line.replace(readme_dir, &here));
    words.extend(["--time-scale".to_owned(), TIME_SCALE.to_owned()]);
    let log = std::fs::File::create(dir.join("modem.log")).expect("modem.log");
    let mut modem = Command::new(&words[0]);
    modem
        .args(&words[1..])
        .current_dir(&dir)
        .env("PATH", &path)
        // Every byte and frame in the log (issue 16 #5: none of them may be the password);
        // ppp-peer-sim, started by modem-sim, inherits it and logs to the same file.
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(log);
    let mut modem = modem.spawn().expect("start modem-sim");
    // modem-sim prints `LINK -> /dev/pts/N` once the link exists.
    let mut first = String::new();
    BufReader::new(modem.stdout.take().expect("stdout"))
        .read_line(&mut first)
        .expect("modem-sim's first line");
    assert!(first.contains(" -> /dev/pts/"), "modem-sim said {first:?}");
    Lab { dir, path, modem }
}

/// Run `rasdial` with `words` until it says `Command completed successfully.`, press
/// Ctrl-C, and check that it hangs up and exits 0 and that no log holds the password;
/// the progress lines it printed.
fn dial_and_interrupt(lab: &Lab, words: &[String]) -> Vec<String> {
    let mut child = lab.command(words).spawn().expect("start rasdial");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut seen = Vec::new();
    let mut line = String::new();
    while stdout.read_line(&mut line).expect("read") > 0 {
        seen.push(line.trim_end().to_owned());
        line.clear();
        if seen
            .last()
            .is_some_and(|l| l == "Command completed successfully.")
        {
            break;
        }
    }
    // Ctrl-C.
    let pid = child.id().to_string();
    let interrupted = Command::new("kill").args(["-INT", &pid]).status();
    assert!(interrupted.is_ok_and(|s| s.success()), "kill -INT failed");
    let status = wait_with_limit(&mut child, "rasdial after Ctrl-C");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("read");
    assert_eq!(status.code(), Some(0), "rest of output: {rest}");
    assert!(rest.contains("Disconnected from Lab ISP."), "{rest}");
    let mut errors = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        std::io::Read::read_to_string(&mut stderr, &mut errors).expect("read");
    }

    // Issue 16 #5: the PAP password crossed the line in clear, yet no log holds it.
    let log = std::fs::read_to_string(lab.dir.join("modem.log")).expect("modem.log");
    assert!(log.contains("from DTE"), "a debug log: {log}");
    assert!(log.contains("<PAP frame redacted>"), "{log}");
    for (what, text) in [
        ("modem.log", &log),
        ("rasdial's output", &format!("{seen:?}{rest}{errors}")),
    ] {
        assert!(!text.contains(PASSWORD), "the password is in {what}");
    }
    seen
}

#[test]
fn the_readme_walk_through_works_as_written() {
    let section = readme_section(SECTION);
    let lab = start_lab(&section, README_DIR);
    let here = lab.dir.to_str().expect("utf-8").to_owned();

    // The successful dial: progress, then held until Ctrl-C, then hung up with status 0.
    let rasdial: Vec<&str> = commands(&section, "rasdial");
    let (connect, _) = split_command(rasdial[0]);
    assert_eq!(
        dial_and_interrupt(&lab, &connect),
        [
            "Connecting to Lab ISP...",
            "Dialing...",
            "Verifying username and password...",
            "Registering your computer on the network...",
            "Connected to Lab ISP.",
            "Command completed successfully.",
        ]
    );

    // The failures: each README line's comment says the error and the exit status.
    for line in &rasdial[1..] {
        let (words, comment) = split_command(&line.replace(README_DIR, &here));
        let error = comment
            .strip_prefix("Remote Access error ")
            .and_then(|rest| rest.get(..3))
            .expect("the comment names the error");
        let exit: i32 = comment
            .rsplit_once("(exit ")
            .and_then(|(_, rest)| rest.strip_suffix(')'))
            .and_then(|n| n.parse().ok())
            .expect("the comment names the exit status");
        let mut child = lab.command(&words).spawn().expect("start rasdial");
        let status = wait_with_limit(&mut child, line);
        let output = child.wait_with_output().expect("output");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            text.contains(&format!("Remote Access error {error} - ")),
            "{line}: {text}"
        );
        assert_eq!(status.code(), Some(exit), "{line}: {text}");
    }
}

#[test]
fn the_readme_callback_walk_through_works_as_written() {
    let section = readme_section(CALLBACK_SECTION);
    let lab = start_lab(&section, CALLBACK_README_DIR);
    let [dial] = commands(&section, "rasdial")[..] else {
        panic!("one rasdial command expected");
    };
    let (words, _) = split_command(dial);
    assert_eq!(
        dial_and_interrupt(&lab, &words),
        [
            "Connecting to Lab ISP...",
            "Dialing...",
            "Verifying username and password...",
            "Preparing for callback...",
            "Waiting for callback...",
            "Verifying username and password...",
            "Registering your computer on the network...",
            "Connected to Lab ISP.",
            "Command completed successfully.",
        ]
    );
    // Both calls are in the modem's log: the dial out, then the ring that was answered.
    let log = std::fs::read_to_string(lab.dir.join("modem.log")).expect("modem.log");
    for wanted in ["ATDT5551234", "ATS0=1", "RING"] {
        assert!(log.contains(wanted), "{wanted} not in modem.log:\n{log}");
    }
}

const MULTILINK_SECTION: &str = "## Walk-through: two modems, one connection (multilink)";
const MULTILINK_README_DIR: &str = "/tmp/ras-multilink";
/// The address the README's ppp-peer-sim listens on (a free port replaces it here).
const MULTILINK_README_ADDRESS: &str = "127.0.0.1:2323";

/// The multilink walk-through: `ppp-peer-sim --listen` and `modem-sim --count 2` as the
/// README starts them (in the background, logs in files), then its `rasdial`.
#[test]
fn the_readme_multilink_walk_through_works_as_written() {
    let section = readme_section(MULTILINK_SECTION);
    let scratch = MULTILINK_README_DIR.trim_start_matches("/tmp/");
    let dir = std::env::temp_dir().join(format!("{scratch}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let here = dir.to_str().expect("utf-8 temp dir").to_owned();
    // A port nobody uses now, for the README's 2323.
    let address = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .to_string();
    let localise = |text: &str| {
        text.replace(MULTILINK_README_DIR, &here)
            .replace(MULTILINK_README_ADDRESS, &address)
    };
    let files = heredocs(&section);
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["server.yaml", "network.yaml", "lab.pbk"]);
    for (name, body) in files {
        std::fs::write(dir.join(name), localise(&body)).expect("write file");
    }
    let path = format!(
        "{}:{}",
        programs().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // Each background program: its README line less `2>LOG &`, with the test's time scale.
    let background = |program: &str, log: &str| -> Child {
        let [line] = commands(&section, program)[..] else {
            panic!("one {program} command expected");
        };
        let line = line
            .strip_suffix(&format!(" 2>{log} &"))
            .unwrap_or_else(|| panic!("{program} runs in the background with its log in {log}"));
        let (mut words, _) = split_command(&localise(line));
        words.extend(["--time-scale".to_owned(), TIME_SCALE.to_owned()]);
        let log = std::fs::File::create(dir.join(log)).expect("log file");
        Command::new(&words[0])
            .args(&words[1..])
            .current_dir(&dir)
            .env("PATH", &path)
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {program}: {e}"))
    };
    let mut server = background("ppp-peer-sim", "server.log");
    // Listening once it says so in its log.
    let started = Instant::now();
    while !std::fs::read_to_string(dir.join("server.log"))
        .is_ok_and(|log| log.contains("listening on"))
    {
        assert!(
            started.elapsed() < PROGRAM_LIMIT,
            "ppp-peer-sim never listened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut modems = background("modem-sim", "modem.log");
    // modem-sim prints `LINK -> /dev/pts/N` for each of its modems.
    let mut stdout = BufReader::new(modems.stdout.take().expect("stdout"));
    for _ in 0..2 {
        let mut line = String::new();
        stdout.read_line(&mut line).expect("modem-sim's line");
        assert!(line.contains(" -> /dev/pts/"), "modem-sim said {line:?}");
    }
    let lab = Lab {
        dir: dir.clone(),
        path,
        modem: modems,
    };
    let [dial] = commands(&section, "rasdial")[..] else {
        panic!("one rasdial command expected");
    };
    let (words, _) = split_command(dial);
    let mut seen = dial_and_interrupt_multilink(&lab, &words);
    // The two links' steps interleave by timing; the README lists them sorted.
    let last = seen.split_off(seen.len() - 2);
    seen[1..].sort();
    let mut expected: Vec<&str> = section
        .split("```text\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("the README's output block")
        .lines()
        .filter(|line| !line.starts_with("^C"))
        .collect();
    let expected_last = expected.split_off(expected.len() - 2);
    expected[1..].sort();
    assert_eq!(seen, expected);
    assert_eq!(last, expected_last);
    let _ = server.kill();
    let _ = server.wait();
    // One server process bundled both calls (RFC 1990 §5.1.3).
    let log = std::fs::read_to_string(dir.join("server.log")).expect("server.log");
    let joined: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("the link joined a bundle"))
        .collect();
    assert_eq!(joined.len(), 2, "{log}");
    assert!(joined[1].contains("created=false"), "{log}");
    assert!(!log.contains(PASSWORD), "the password is in server.log");
    drop(lab);
}

/// As [`dial_and_interrupt`], without its single-modem log checks.
fn dial_and_interrupt_multilink(lab: &Lab, words: &[String]) -> Vec<String> {
    let mut child = lab.command(words).spawn().expect("start rasdial");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut seen = Vec::new();
    let mut line = String::new();
    while stdout.read_line(&mut line).expect("read") > 0 {
        seen.push(line.trim_end().to_owned());
        line.clear();
        if seen
            .last()
            .is_some_and(|l| l == "Command completed successfully.")
        {
            break;
        }
    }
    let pid = child.id().to_string();
    let interrupted = Command::new("kill").args(["-INT", &pid]).status();
    assert!(interrupted.is_ok_and(|s| s.success()), "kill -INT failed");
    let status = wait_with_limit(&mut child, "rasdial after Ctrl-C");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("read");
    assert_eq!(status.code(), Some(0), "{seen:?} rest of output: {rest}");
    assert!(rest.contains("Disconnected from Lab ISP."), "{rest}");
    seen
}
