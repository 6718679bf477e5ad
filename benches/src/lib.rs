//! Helpers the benches in `benches/` share: the PTY floor every realtime bench measures
//! against, and a dialer's side of a PTY.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::mpsc;
use std::thread;

use rustix::termios::{self, OptionalActions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Open a PTY slave by path as a dialer does, in raw mode (blocking reads).
pub fn open_port(path: &std::path::Path) -> File {
    let port = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .expect("open the PTY slave");
    let mut modes = termios::tcgetattr(&port).expect("tcgetattr");
    modes.make_raw();
    termios::tcsetattr(&port, OptionalActions::Now, &modes).expect("tcsetattr");
    port
}

/// Write `command`, then read until the answer ends with `expected`.
pub fn round_trip(port: &mut File, command: &[u8], expected: &[u8], seen: &mut Vec<u8>) {
    port.write_all(command).expect("write to the PTY");
    seen.clear();
    let mut buf = [0u8; 64];
    while !seen.ends_with(expected) {
        let n = port.read(&mut buf).expect("read from the PTY");
        assert!(n > 0, "the PTY closed");
        seen.extend_from_slice(&buf[..n]);
    }
}

/// The floor: a PTY whose master a tokio task (current-thread runtime on its own
/// thread, as `spawn_pty` serves the modem) reads and writes straight back. Returns the
/// slave's path; the thread runs until the process ends.
pub fn spawn_echo_pty() -> PathBuf {
    let (ready, path) = mpsc::channel();
    thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(async move {
            let (mut master, slave) = pty_process::open().expect("open a PTY");
            let mut modes = termios::tcgetattr(&slave).expect("tcgetattr");
            modes.make_raw();
            termios::tcsetattr(&slave, OptionalActions::Now, &modes).expect("tcsetattr");
            let name = rustix::pty::ptsname(&master, Vec::new()).expect("ptsname");
            let path = PathBuf::from(name.to_string_lossy().into_owned());
            ready.send(path).expect("the bench waits for the path");
            // The slave stays open here, as the modem driver keeps it.
            let _slave = slave;
            let mut buf = [0u8; 4096];
            loop {
                let Ok(n @ 1..) = master.read(&mut buf).await else {
                    return;
                };
                if master.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        });
    });
    path.recv().expect("the echo PTY starts")
}
