//! Phonebook entries: what to dial and on which device. (The `rasphone.pbk` reader and
//! writer of ras-reference §6 builds on this.)

use std::path::PathBuf;

/// One phonebook entry with one link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The entry name (`[Name]` in a `.pbk` file).
    pub name: String,
    /// The serial device the modem is on (`Port=` names it; on Linux, a path such as
    /// `/dev/ttyUSB0`).
    pub device: PathBuf,
    /// The modem's friendly name (`Device=`); defaults to the path.
    pub device_name: String,
    /// Primary number first, then alternates (`PhoneNumber=`).
    pub phone_numbers: Vec<String>,
    /// The DTE speed to open the port at (`ConnectBPS=`).
    pub connect_bps: u32,
}

impl Entry {
    /// An entry dialing `number` on the modem at `device`, at 115200 bit/s.
    pub fn modem(
        name: impl Into<String>,
        device: impl Into<PathBuf>,
        number: impl Into<String>,
    ) -> Self {
        let device = device.into();
        Entry {
            name: name.into(),
            device_name: device.display().to_string(),
            device,
            phone_numbers: vec![number.into()],
            connect_bps: 115_200,
        }
    }
}

/// A set of entries (`lpszPhonebook`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Phonebook {
    /// Where it was read from, if it came from a file.
    pub path: Option<PathBuf>,
    /// The entries, in file order.
    pub entries: Vec<Entry>,
}

impl Phonebook {
    /// A phonebook holding `entries`.
    pub fn from_entries(entries: impl IntoIterator<Item = Entry>) -> Self {
        Phonebook {
            path: None,
            entries: entries.into_iter().collect(),
        }
    }

    /// The entry called `name`. Entry names compare case-insensitively, as on Windows
    /// [inferred].
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|entry| entry.name.eq_ignore_ascii_case(name))
    }
}
