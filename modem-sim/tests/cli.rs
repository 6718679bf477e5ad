//! The `modem-sim` binary's command line: what it refuses, and how it says so.

use std::process::{Command, Output};

fn modem_sim(args: &[&str]) -> Output {
    match Command::new(env!("CARGO_BIN_EXE_modem-sim"))
        .args(args)
        .output()
    {
        Ok(output) => output,
        Err(error) => panic!("cannot run modem-sim: {error}"),
    }
}

/// Issue 16 #1: a factor outside the documented range is refused with the range, before
/// any PTY exists; a negative one is a value, not an unknown option.
#[test]
fn a_time_scale_out_of_range_names_the_range() {
    let link = std::env::temp_dir().join(format!("modem-sim-cli-{}", std::process::id()));
    let link = link.to_string_lossy();
    for bad in ["1e-30", "-1", "0", "1001"] {
        let output = modem_sim(&["--link", &link, "--time-scale", bad]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("from 0.0001 to 1000"), "{bad}: {stderr}");
        assert!(!stderr.contains("panicked"), "{bad}: {stderr}");
    }
}

/// Issue 15: the modeled delays' factor may be 0 (an instant modem), not negative nor
/// beyond the time scale's largest.
#[test]
fn a_delay_scale_out_of_range_names_the_range() {
    let link = std::env::temp_dir().join(format!("modem-sim-cli-d-{}", std::process::id()));
    let link = link.to_string_lossy();
    for bad in ["-1", "1001", "NaN", "fast"] {
        let output = modem_sim(&["--link", &link, "--delay-scale", bad]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("from 0 to 1000"), "{bad}: {stderr}");
    }
}

/// Issue 16 #2: with stdout and stderr going to a reader that has gone (`modem-sim … |
/// head -1` once head exits), the modem still serves and ends with status 0 on SIGTERM,
/// not with a panic's 101 at its first line of output.
#[test]
fn a_closed_output_does_not_stop_the_modem() {
    let link = std::env::temp_dir().join(format!("modem-sim-epipe-{}", std::process::id()));
    let mut child = Command::new(env!("CARGO_BIN_EXE_modem-sim"))
        .arg("--link")
        .arg(&link)
        .stdout(testkit::reader_gone())
        .stderr(testkit::reader_gone())
        .spawn()
        .expect("modem-sim starts");
    let started = std::time::Instant::now();
    while std::fs::symlink_metadata(&link).is_err() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "no link"
        );
        assert!(
            child.try_wait().expect("wait").is_none(),
            "modem-sim ended early"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // Its first log lines and the link line have been written (and failed) by now.
    std::thread::sleep(std::time::Duration::from_millis(100));
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(
        std::fs::symlink_metadata(&link).is_err(),
        "link left behind"
    );
}

/// Issue 16 #12: a bad network file is reported with its name, line and column and the
/// rule in the file's words; the tool's internals (the diagnostic code) stay out.
#[test]
fn a_bad_network_file_names_file_line_and_column() {
    let dir = std::env::temp_dir().join(format!("modem-sim-badnet-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("bad.yaml");
    std::fs::write(&file, "numbers:\n  \"1\": {connect: 9600}\n  \"1\": busy\n").expect("write");
    let link = dir.join("tty").to_string_lossy().into_owned();
    let output = modem_sim(&["--link", &link, "--network", &file.to_string_lossy()]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("bad.yaml:3:3"), "{stderr}");
    assert!(stderr.contains("given twice"), "{stderr}");
    assert!(!stderr.contains("modem_sim::"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
