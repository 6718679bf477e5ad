//! The realtime driver's line capture (opt-in, `EngineConfig::capture_dir`): every byte the
//! dial writes to or reads from the port goes through a [`Capture`] into a pcap file.
//!
//! A capture is a diagnostic: a file that cannot be created or written never fails the
//! dial. The problem is logged once and the dial goes on without a capture.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use ras_ppp::{Capture, Direction};
use sansio::Instant;

use crate::api::HRasConn;

/// `<entry name>-<handle>.pcap`, with every character of the name that is not an ASCII
/// letter, digit, `-`, `_` or `.` written as `_` (entry names may hold `/` or spaces).
pub(crate) fn file_name(entry_name: &str, handle: HRasConn) -> String {
    let name: String = entry_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{name}-{}.pcap", handle.value())
}

/// One dial's capture file, or nothing when capturing is off or has failed.
#[derive(Debug)]
pub(crate) struct LineTap {
    path: PathBuf,
    /// The file is written unbuffered: every chunk is on disk as soon as it is recorded,
    /// so the file is whole whenever the dial's thread ends, and at modem speeds the
    /// extra writes cost nothing that matters.
    capture: Option<Capture<File>>,
}

impl LineTap {
    /// Start capturing to `path`. Timestamps are the machines' `now` (the dial's clock, so
    /// protocol time under a time scale) counted from the wall-clock time of this call.
    pub(crate) fn create(path: Option<&Path>) -> Self {
        let Some(path) = path else {
            return LineTap {
                path: PathBuf::new(),
                capture: None,
            };
        };
        let origin = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let capture = File::create(path)
            .map_err(|error| error.to_string())
            .and_then(|file| Capture::with_origin(file, origin).map_err(|error| error.to_string()));
        let capture = match capture {
            Ok(capture) => Some(capture),
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "cannot start the line capture");
                None
            }
        };
        LineTap {
            path: path.to_owned(),
            capture,
        }
    }

    /// Record `bytes` that crossed the port in `direction` at `now`.
    pub(crate) fn record(&mut self, now: Instant, direction: Direction, bytes: &[u8]) {
        let Some(capture) = &mut self.capture else {
            return;
        };
        if let Err(error) = capture.record(now, direction, bytes) {
            tracing::warn!(path = %self.path.display(), %error, "line capture stopped");
            self.capture = None;
        }
    }
}

impl Drop for LineTap {
    fn drop(&mut self) {
        if let Some(capture) = &self.capture {
            let (sent, received) = (
                capture.stats(Direction::Sent),
                capture.stats(Direction::Received),
            );
            tracing::debug!(
                path = %self.path.display(),
                sent = sent.frames,
                received = received.frames,
                discarded = sent.discarded() + received.discarded(),
                "line capture closed"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_and_per_connection() {
        assert_eq!(
            file_name("Dial-up ISP/2", HRasConn::from_raw(7)),
            "Dial-up_ISP_2-7.pcap"
        );
        assert_eq!(file_name("..", HRasConn::from_raw(1)), "..-1.pcap");
    }
}
