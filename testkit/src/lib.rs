//! Support shared by the workspace's integration tests (a dev-dependency only).
//!
//! Interop tests drive programs nobody here wrote (DESIGN §8): `chat` against modem-sim,
//! `tshark` on our captures. On a developer's machine a missing program skips the test with
//! a loud message; under `CI=true` it fails the test instead, because CI installs them
//! (`.ci/run`) and a silent skip there would hide a broken install step.

#![allow(clippy::print_stderr)]

use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// Folders searched after `PATH`: `chat` lives in `/usr/sbin`, which is often not on a
/// user's `PATH`.
const SYSTEM_DIRS: [&str; 4] = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

/// Where the program `name` is, or `None` after saying loudly that the tests needing it
/// were skipped.
///
/// # Panics
///
/// When the program is missing and the environment says `CI=true`: the test fails with a
/// message naming the Debian package to install.
pub fn required_program(name: &str, debian_package: &str) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    let found = path_dirs
        .iter()
        .map(PathBuf::as_path)
        .chain(SYSTEM_DIRS.iter().map(Path::new))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file());
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{name} is not installed, and CI=true: install the Debian package `{debian_package}`"
        );
        let line = "!".repeat(72);
        eprintln!(
            "\n\n{line}\n!!! SKIPPED: `{name}` (Debian package `{debian_package}`) is not installed,\n\
             !!! so the tests that drive it did not run.\n\
             !!! apt-get install {debian_package}\n{line}\n"
        );
    }
    found
}

/// An output for a child process whose reader has already gone, like `cmd | head -1` once
/// `head` has exited: every write the child makes fails with `EPIPE` (Rust programs ignore
/// `SIGPIPE`). A socket pair rather than a pipe, so that no timing decides whether the
/// reader is gone before the first write.
///
/// # Panics
///
/// When the system has no sockets left to give.
pub fn reader_gone() -> Stdio {
    let (ours, theirs) = UnixStream::pair().expect("a socket pair");
    drop(ours);
    Stdio::from(OwnedFd::from(theirs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gone_reader_breaks_the_pipe() {
        use std::os::unix::process::ExitStatusExt;
        // The shell does not ignore SIGPIPE: its echo is killed by it.
        let status = std::process::Command::new("sh")
            .args(["-c", "echo hello"])
            .stdout(reader_gone())
            .status()
            .expect("sh runs");
        assert_eq!(status.signal(), Some(13), "{status:?}");
    }

    #[test]
    fn finds_a_program_every_system_has() {
        assert!(required_program("sh", "dash").is_some());
    }
}
