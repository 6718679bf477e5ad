//! Why a serial port cannot be used: the explanation behind 615, 692 and 633 (ras-reference
//! §4.6), for tools that tell a user what to fix. The error codes themselves say only
//! "port not found" or "port or device error"; a phonebook with `Port=/dev/null` or
//! `Port=/dev` deserves a sentence.

use std::path::Path;

use rustix::fs::{FileType, Mode, OFlags};

/// What is wrong with a port path.
#[derive(Debug, thiserror::Error)]
pub enum PortProblem {
    /// Nothing at that path.
    #[error("there is no such file (is the device plugged in, or the simulator running?)")]
    NotFound,
    /// A folder.
    #[error("it is a directory, not a serial device")]
    Directory,
    /// A regular file, pipe, socket…: not a device at all.
    #[error("it is a {0}, not a serial device")]
    NotADevice(&'static str),
    /// A character device that is not a terminal, such as `/dev/null`.
    #[error("it is a character device but not a serial port or terminal (like /dev/null)")]
    NotATerminal,
    /// The path exists but cannot be opened.
    #[error("it cannot be opened: {0}")]
    Inaccessible(std::io::Error),
}

/// Check that `path` is a serial device (a terminal) this process can open. `Ok` means
/// the trouble lies elsewhere (the device answered its open, at least).
///
/// This opens the device (non-blocking, without becoming its controlling terminal) for
/// the check; call it to explain a failure, not before every dial.
pub fn check(path: &Path) -> Result<(), PortProblem> {
    let stat = match rustix::fs::stat(path) {
        Ok(stat) => stat,
        Err(rustix::io::Errno::NOENT) => return Err(PortProblem::NotFound),
        Err(errno) => return Err(PortProblem::Inaccessible(errno.into())),
    };
    match FileType::from_raw_mode(stat.st_mode) {
        FileType::CharacterDevice => {}
        FileType::Directory => return Err(PortProblem::Directory),
        FileType::RegularFile => return Err(PortProblem::NotADevice("regular file")),
        FileType::Fifo => return Err(PortProblem::NotADevice("named pipe")),
        FileType::Socket => return Err(PortProblem::NotADevice("socket")),
        FileType::BlockDevice => return Err(PortProblem::NotADevice("block device")),
        FileType::Symlink | FileType::Unknown => {
            return Err(PortProblem::NotADevice("file of an unknown kind"));
        }
    }
    let fd = rustix::fs::open(
        path,
        OFlags::RDWR | OFlags::NOCTTY | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|errno| PortProblem::Inaccessible(errno.into()))?;
    if rustix::termios::isatty(&fd) {
        Ok(())
    } else {
        Err(PortProblem::NotATerminal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explains_what_is_not_a_port() {
        assert!(matches!(
            check(Path::new("/dev/null")),
            Err(PortProblem::NotATerminal)
        ));
        assert!(matches!(check(Path::new("/")), Err(PortProblem::Directory)));
        assert!(matches!(
            check(Path::new("/nonexistent/ttyS0")),
            Err(PortProblem::NotFound)
        ));
        let file = std::env::temp_dir().join(format!("port-check-{}", std::process::id()));
        std::fs::write(&file, b"").expect("a file");
        assert!(matches!(
            check(&file),
            Err(PortProblem::NotADevice("regular file"))
        ));
        let _ = std::fs::remove_file(&file);
    }
}
