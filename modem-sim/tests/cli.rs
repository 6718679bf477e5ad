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
