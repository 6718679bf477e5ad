//! The `rasdial` binary as a process (ras-reference §5): usage, listing, and the failures
//! that need no modem. Dialing a modem end to end belongs to the conformance crate. The
//! argument parser, exit-status mapping and progress table are unit-tested in
//! `src/bin/rasdial/cli.rs`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ras_engine::ras::RasError;

fn rasdial(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_rasdial"));
    command
        .args(args)
        .env_remove("RAS_TIME_SCALE")
        .env_remove("XDG_CONFIG_HOME");
    for (key, value) in env {
        command.env(key, value);
    }
    match command.output() {
        Ok(output) => output,
        Err(error) => panic!("cannot run rasdial: {error}"),
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A scratch directory for this test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rasdial-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A phonebook with one entry whose port does not exist.
fn phonebook(dir: &Path) -> PathBuf {
    let path = dir.join("rasphone.pbk");
    std::fs::write(
        &path,
        "[Lab ISP]\r\nEncoding=1\r\nType=1\r\n\r\nMEDIA=serial\r\nPort=/nonexistent/ttyMODEM\r\n\r\nDEVICE=modem\r\nPhoneNumber=5550100\r\n",
    )
    .expect("write phonebook");
    path
}

fn error_line(error: RasError) -> String {
    format!(
        "Remote Access error {} - {}",
        error.code(),
        error.description().unwrap_or("?")
    )
}

#[test]
fn help_prints_the_usage() {
    for flag in ["/?", "--help"] {
        let output = rasdial(&[flag], &[]);
        assert_eq!(output.status.code(), Some(0));
        let text = stdout(&output);
        assert!(
            text.contains("rasdial entryname [username [password|*]]"),
            "{text}"
        );
        assert!(text.contains("/PHONEBOOK:phonebookfile"), "{text}");
        assert!(text.contains("RAS_TIME_SCALE"), "{text}");
        assert!(text.contains("600 + status"), "{text}");
        assert!(text.contains("sees none"), "{text}");
    }
}

#[test]
fn no_arguments_lists_no_connections() {
    let output = rasdial(&[], &[]);
    assert_eq!(output.status.code(), Some(0));
    assert!(stdout(&output).starts_with("No connections"), "{output:?}");
}

#[test]
fn disconnect_in_a_fresh_process_finds_nothing() {
    let output = rasdial(&["Lab ISP", "/DISCONNECT"], &[]);
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stdout(&output).starts_with("You are not connected to Lab ISP."),
        "{output:?}"
    );
}

#[test]
fn unknown_entry_is_623() {
    let dir = scratch("623");
    let pbk = phonebook(&dir);
    let switch = format!("/PHONEBOOK:{}", pbk.display());
    let output = rasdial(&["NoSuchEntry", &switch], &[]);
    assert_eq!(output.status.code(), Some(23), "{output:?}");
    assert_eq!(
        stdout(&output).trim_end(),
        error_line(RasError::ERROR_CANNOT_FIND_PHONEBOOK_ENTRY)
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn missing_phonebook_is_621() {
    let dir = scratch("621");
    let switch = format!("/phonebook:{}", dir.join("missing.pbk").display());
    let output = rasdial(&["Lab ISP", "user", "pw", &switch], &[]);
    assert_eq!(output.status.code(), Some(21), "{output:?}");
    assert_eq!(
        stdout(&output).trim_end(),
        error_line(RasError::ERROR_CANNOT_OPEN_PHONEBOOK)
    );
    assert!(stderr(&output).contains("missing.pbk"), "{output:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn corrupt_phonebook_is_625_with_the_line() {
    let dir = scratch("625");
    let path = dir.join("bad.pbk");
    std::fs::write(&path, "[A]\nMEDIA=serial\nPort=COM1\nConnectBPS=fast\n").expect("write");
    let switch = format!("/PHONEBOOK:{}", path.display());
    let output = rasdial(&["A", &switch], &[]);
    assert_eq!(output.status.code(), Some(25), "{output:?}");
    assert_eq!(
        stdout(&output).trim_end(),
        error_line(RasError::ERROR_CORRUPT_PHONEBOOK)
    );
    assert!(stderr(&output).contains("bad.pbk:4:12: "), "{output:?}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn default_phonebook_under_xdg_config_home_and_a_port_that_is_not_there() {
    let dir = scratch("xdg");
    std::fs::create_dir_all(dir.join("ras")).expect("dir");
    std::fs::rename(phonebook(&dir), dir.join("ras/rasphone.pbk")).expect("move");
    let config = dir.display().to_string();
    let output = rasdial(
        &["lab isp"],
        &[("XDG_CONFIG_HOME", &config), ("RAS_TIME_SCALE", "0.01")],
    );
    let expected = RasError::ERROR_PORT_NOT_FOUND;
    assert_eq!(
        output.status.code(),
        Some(i32::from(
            u8::try_from(expected.code() - 600).expect("in range")
        )),
        "{output:?}"
    );
    assert_eq!(
        stdout(&output),
        format!("Connecting to lab isp...\n{}\n", error_line(expected))
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn bad_command_lines_give_255_and_the_usage() {
    for args in [
        &["ISP", "/NOSUCH"][..],
        &["ISP", "/PHONE"],
        &["a", "b", "c", "d"],
    ] {
        let output = rasdial(args, &[]);
        assert_eq!(output.status.code(), Some(255), "{args:?}");
        assert!(stderr(&output).contains("USAGE:"), "{output:?}");
    }
    // Issue 16 #1: 1e-30 used to pass the check and panic in the clock (reported as 628).
    for bad in ["fast", "1e-30", "-1"] {
        let output = rasdial(&["ISP"], &[("RAS_TIME_SCALE", bad)]);
        assert_eq!(output.status.code(), Some(255), "{bad}");
        let text = stderr(&output);
        assert!(text.contains("RAS_TIME_SCALE"), "{text}");
        assert!(text.contains("from 0.0001 to 1000"), "{text}");
    }
}

/// Issue 16 #2: with stdout and stderr going to a reader that has gone
/// (`rasdial X /PHONEBOOK: 2>&1 | head -1`), every outcome keeps its documented exit
/// status instead of a panic's 101.
#[test]
fn a_closed_output_keeps_the_exit_status() {
    let dir = scratch("closed-output");
    let book = phonebook(&dir);
    let book = format!("/PHONEBOOK:{}", book.display());
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)]);
    let cases: [Case; 6] = [
        (&["X", "/PHONEBOOK:"], &[]),
        (&["Lab ISP", &book], &[]),
        (&["/?"], &[]),
        (&[], &[]),
        (&["ISP", "/NOSUCH"], &[]),
        (&["ISP"], &[("RAS_TIME_SCALE", "1e-30")]),
    ];
    for (args, env) in cases {
        let expected = rasdial(args, env).status.code();
        let mut command = Command::new(env!("CARGO_BIN_EXE_rasdial"));
        command
            .args(args)
            .env_remove("RAS_TIME_SCALE")
            .envs(env.iter().copied())
            .stdout(testkit::reader_gone())
            .stderr(testkit::reader_gone());
        let status = match command.status() {
            Ok(status) => status,
            Err(error) => panic!("cannot run rasdial: {error}"),
        };
        assert_eq!(status.code(), expected, "{args:?} {env:?}");
        assert_ne!(status.code(), Some(101), "{args:?} {env:?}");
    }
}

/// Issue 16 #15: a port that is no serial device says why, before the 692 line.
#[test]
fn an_unusable_port_says_why() {
    let dir = scratch("unusable-port");
    for (port, why) in [
        ("/dev/null", "not a serial port or terminal"),
        ("/tmp", "is a directory"),
    ] {
        let path = dir.join("rasphone.pbk");
        std::fs::write(
            &path,
            format!(
                "[Lab]\r\nMEDIA=serial\r\nPort={port}\r\nDEVICE=modem\r\nPhoneNumber=5550100\r\n"
            ),
        )
        .expect("write phonebook");
        let book = format!("/PHONEBOOK:{}", path.display());
        let output = rasdial(&["Lab", &book], &[]);
        let text = stderr(&output);
        assert!(
            text.contains(&format!("port {port} cannot be used")),
            "{port}: {text}"
        );
        assert!(text.contains(why), "{port}: {text}");
        assert_ne!(output.status.code(), Some(0), "{port}");
    }
}

#[test]
fn a_custom_dial_entry_is_755_without_touching_the_port() {
    // Rule 29 (ras-reference §4.5) [inferred]: rasdial is unattended, so an entry dialed
    // by a custom dialer gives 755 ERROR_CANNOT_DO_CUSTOMDIAL. The DLL is not loaded.
    let dir = scratch("custom");
    let path = dir.join("rasphone.pbk");
    std::fs::write(
        &path,
        "[Custom]\r\nCustomDialDll=/nonexistent/libdialer.so\r\nMEDIA=serial\r\nPort=/nonexistent/ttyMODEM\r\nDEVICE=modem\r\nPhoneNumber=5550100\r\n",
    )
    .expect("write phonebook");
    let phonebook = format!("/PHONEBOOK:{}", path.display());
    let output = rasdial(&["Custom", &phonebook], &[]);
    let expected = RasError::ERROR_CANNOT_DO_CUSTOMDIAL;
    assert_eq!(output.status.code(), Some(155), "{output:?}");
    assert_eq!(stdout(&output), format!("{}\n", error_line(expected)));
    assert!(
        stderr(&output).contains("/nonexistent/libdialer.so"),
        "{output:?}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
