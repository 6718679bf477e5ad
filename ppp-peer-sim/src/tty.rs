//! The binary's `--tty PATH`: a serial device or the slave side of a PTY, opened by path in
//! raw mode. serial2 is the blocking core of serial2-tokio (the engine's serial crate); the
//! peer's driver reads on a thread of its own, so it needs no async runtime.

use std::path::Path;

use anyhow::Context;
use serial2::{SerialPort, Settings};

/// The two ends of an open serial line: one handle to read on the reader thread, one to
/// write from the server loop.
#[derive(Debug)]
pub(crate) struct Tty {
    pub(crate) reader: SerialPort,
    pub(crate) writer: SerialPort,
}

/// Open `path` raw (no echo, no line editing, no character translation, 8 data bits: every
/// octet of a PPP frame passes as it is), at `baud` when given, else at its current speed.
pub(crate) fn open(path: &Path, baud: Option<u32>) -> anyhow::Result<Tty> {
    let writer = SerialPort::open(path, |mut settings: Settings| {
        settings.set_raw();
        if let Some(baud) = baud {
            settings.set_baud_rate(baud)?;
        }
        Ok(settings)
    })
    .with_context(|| format!("cannot open --tty {} as a serial line", path.display()))?;
    let reader = writer
        .try_clone()
        .with_context(|| format!("cannot open --tty {} for reading", path.display()))?;
    Ok(Tty { reader, writer })
}
