//! The `rasphone.pbk` format (ras-reference §6): reader and writer.
//!
//! Reading rules:
//! - `[Name]` starts an entry; `key=value` lines belong to the innermost open subsection;
//!   blank lines and lines starting with `;` are skipped (comments are not written back).
//!   LF and CRLF line ends are both accepted.
//! - Size: at most [`MAX_PHONEBOOK_BYTES`] (1 MiB). Real phonebooks are a few kilobytes
//!   (a hundred entries fit in well under 100 KiB); anything larger is the wrong file
//!   (`/dev/zero`, a log) and is refused before it is read whole.
//! - Byte-order marks: a UTF-8 BOM is skipped; with a UTF-16LE or UTF-16BE BOM (as some
//!   Windows versions write `rasphone.pbk`) the file is UTF-16. [`Phonebook::encoding`]
//!   remembers which, and [`Phonebook::write`] writes the same encoding back.
//! - Keys are trimmed and matched case-insensitively; values are kept verbatim (everything
//!   after the first `=`). The subsection keys are `NETCOMPONENTS=`, `MEDIA=`, `DEVICE=` and
//!   `PhoneNumber=` (§6.1). `DEVICE` must be written in capitals: S1 and real files also
//!   have a MEDIA key `Device=` (the friendly name) that differs from it only in case.
//! - After a `PhoneNumber=`, the per-number keys (`AreaCode=`, `CountryCode=`,
//!   `CountryID=`, `UseDialingRules=`, `Comment=`, `FriendlyName=`) belong to that number;
//!   any other key belongs to the device again (S1's own sample puts `LastSelectedPhone=`
//!   and the modem settings after the last number).
//! - Encoding (§6.1): text is UTF-8. A line that is not valid UTF-8 is read as ISO 8859-1
//!   (every byte one character, so nothing is lost or rejected) — unless its entry says
//!   `Encoding=1`, in which case it is an error. `Encoding=0` files are in a Windows ANSI
//!   code page we cannot know, so non-ASCII text from them may come out wrong.
//! - Errors name the line and what is wrong; nothing in the input can make the reader panic.
//!   Text quoted from the file is cut after [`QUOTE_MAX`] characters and its control
//!   characters are escaped, so a message never replays a 50 MB line or a terminal escape
//!   sequence hidden in a phonebook.
//!
//! Writing: UTF-8 with `Encoding=1` and CRLF line ends, one blank line before every
//! subsection and between entries, as real files have them (§6.1). Typed keys come after
//! the kept entry-level keys; everything reads back to an equal [`Phonebook`].

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};

use super::{
    AuthRestrictions, BandwidthKeys, CallbackMode, DEFAULT_CONNECT_BPS, Device, DeviceKind,
    DialMode, Entry, FileEncoding, LinkDetails, Phonebook, Setting, SubEntry,
};

/// The largest phonebook file read (see the module documentation).
pub const MAX_PHONEBOOK_BYTES: usize = 1024 * 1024;

/// How many characters of the file's text an error message quotes.
pub const QUOTE_MAX: usize = 60;

/// Text from a phonebook as a message shows it: control characters escaped (`\u{1b}`),
/// cut after [`QUOTE_MAX`] characters with `…`.
struct Quoted<'a>(&'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, c) in self.0.chars().enumerate() {
            if i == QUOTE_MAX {
                return f.write_char('…');
            }
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                f.write_char(c)?;
            }
        }
        Ok(())
    }
}

/// A phonebook that could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PhonebookError {
    /// The file could not be read (→ 621 ERROR_CANNOT_OPEN_PHONEBOOK).
    #[error("cannot open phonebook {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The contents are not a valid phonebook (→ 625 ERROR_CORRUPT_PHONEBOOK).
    #[error("{}: {problem}", Position(path.as_deref(), *line, *column))]
    Corrupt {
        /// The file, if the text came from one.
        path: Option<PathBuf>,
        /// The 1-based line number.
        line: usize,
        /// The 1-based column (in characters): of the value for a bad value, of the key
        /// for a misplaced key, 1 for what concerns the whole line.
        column: usize,
        /// What is wrong there.
        problem: Problem,
    },
    /// The file is larger than [`MAX_PHONEBOOK_BYTES`] (→ 625 ERROR_CORRUPT_PHONEBOOK).
    #[error(
        "{}the file is larger than {} KiB, which no phonebook is (is it the right file?)",
        Located(path.as_deref()),
        MAX_PHONEBOOK_BYTES / 1024
    )]
    TooLarge {
        /// The file, if the bytes came from one.
        path: Option<PathBuf>,
    },
    /// The file could not be written (→ 624 ERROR_CANNOT_WRITE_PHONEBOOK).
    #[error("cannot write phonebook {}: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An entry holds something the format cannot express (→ 624).
    #[error("entry `{}` cannot be written: {problem}", Quoted(entry))]
    Unwritable {
        /// The entry's name.
        entry: String,
        /// What cannot be written.
        problem: Unwritable,
    },
}

/// Prefixes a path and a colon, when there is a path.
struct Located<'a>(Option<&'a Path>);

/// `FILE:LINE:COLUMN`, or `line L, column C` for text that came from no file.
struct Position<'a>(Option<&'a Path>, usize, usize);

impl fmt::Display for Position<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(path) => write!(f, "{}:{}:{}", path.display(), self.1, self.2),
            None => write!(f, "line {}, column {}", self.1, self.2),
        }
    }
}

impl fmt::Display for Located<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(path) => write!(f, "{}: ", path.display()),
            None => Ok(()),
        }
    }
}

/// What is wrong with a line of a phonebook.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// A `key=value` line before the first `[Entry]`.
    #[error(
        "`{}=` is outside any entry (an entry starts with a `[Name]` line)",
        Quoted(key)
    )]
    KeyOutsideEntry {
        /// The key.
        key: String,
    },
    /// A line that is neither `[Entry]`, `key=value`, a `;` comment nor blank.
    #[error("expected `[Entry Name]` or `key=value`, found `{}`", Quoted(text))]
    NotKeyValue {
        /// The line.
        text: String,
    },
    /// `=value` with nothing before the `=`.
    #[error("a line starts with `=`: the key is missing")]
    EmptyKey,
    /// A line starting with `[` but not ending with `]`.
    #[error("the entry name is not closed with `]`")]
    UnclosedName,
    /// `[]` (§6.1: a name has at least one character).
    #[error("the entry name is empty")]
    EmptyName,
    /// A second entry with the same name (names compare case-insensitively).
    #[error("entry `{}` is already defined at line {first_line}", Quoted(name))]
    DuplicateEntry {
        /// The name.
        name: String,
        /// Where the first one starts.
        first_line: usize,
    },
    /// An entry without any `MEDIA=` block, so nothing to dial.
    #[error(
        "entry `{}` has no `MEDIA=` block (a link needs MEDIA=, Port= and DEVICE=)",
        Quoted(name)
    )]
    NoMedia {
        /// The entry's name.
        name: String,
    },
    /// A `MEDIA=` block without `Port=` (§6.3: required; RRAS discards such entries).
    #[error("this `MEDIA=` block has no `Port=` (on Linux, the device path such as /dev/ttyUSB0)")]
    MediaWithoutPort,
    /// `DEVICE=` before any `MEDIA=`.
    #[error("`DEVICE=` comes before any `MEDIA=` of this entry")]
    DeviceOutsideMedia,
    /// `PhoneNumber=` before any `DEVICE=` of its `MEDIA=` block.
    #[error("`PhoneNumber=` comes before any `DEVICE=` of this `MEDIA=` block")]
    NumberOutsideDevice,
    /// Phone numbers under two different `DEVICE=` subsections of one link.
    #[error("this `MEDIA=` block already has phone numbers under an earlier `DEVICE=`")]
    NumbersUnderTwoDevices,
    /// A key whose value must be a decimal number.
    #[error("`{}={}`: expected a decimal number", Quoted(key), Quoted(value))]
    NotANumber {
        /// The key.
        key: String,
        /// The value found.
        value: String,
    },
    /// A number outside the values a key allows.
    #[error("`{}={}`: expected {expected}", Quoted(key), Quoted(value))]
    OutOfRange {
        /// The key.
        key: String,
        /// The value found.
        value: String,
        /// What is allowed.
        expected: &'static str,
    },
    /// Bytes that are not UTF-8 in an entry that says `Encoding=1`.
    #[error("the entry says Encoding=1 (UTF-8) but this line is not valid UTF-8")]
    InvalidUtf8,
    /// A file with a UTF-16 byte-order mark whose text is not UTF-16 (an odd number of
    /// bytes, or half a surrogate pair).
    #[error("the file starts with a UTF-16 byte-order mark but this line is not valid UTF-16")]
    InvalidUtf16,
}

/// What in an entry the `rasphone.pbk` format cannot express.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unwritable {
    /// A name, key or value with a line break in it.
    #[error("{field} contains a line break")]
    LineBreak {
        /// Which text.
        field: String,
    },
    /// An empty entry name.
    #[error("the name is empty")]
    EmptyName,
    /// A key the reader would not read back as this key.
    #[error("key `{key}` is empty, contains `=`, has surrounding spaces or starts with `[` or `;`")]
    BadKey {
        /// The key.
        key: String,
    },
    /// A key that means something else in this place (a typed field, a subsection start,
    /// or for a phone number, a key that belongs to the device).
    #[error("key `{key}` would be read back as something else here; set the typed field instead")]
    ReservedKey {
        /// The key.
        key: String,
    },
    /// A link without a port.
    #[error("link {link} has no port")]
    EmptyPort {
        /// 1-based link number.
        link: usize,
    },
    /// A typed value outside what its key allows, which the reader would refuse.
    #[error("`{key}={value}`: expected {expected}")]
    OutOfRange {
        /// The key.
        key: &'static str,
        /// The value.
        value: u32,
        /// What is allowed.
        expected: &'static str,
    },
    /// A path that is not UTF-8.
    #[error("path {} is not valid UTF-8", path.display())]
    NonUtf8Path {
        /// The path.
        path: PathBuf,
    },
}

// ---------------------------------------------------------------------------------------
// Keys

/// Subsection keys (§6.1). `DEVICE` is matched in capitals only (see the module docs).
const NETCOMPONENTS: &str = "NETCOMPONENTS";
const MEDIA: &str = "MEDIA";
const DEVICE: &str = "DEVICE";
const PHONE_NUMBER: &str = "PhoneNumber";

/// Entry-level keys with a typed field (§6.2).
const ENCODING: &str = "Encoding";
const DIAL_MODE: &str = "DialMode";
const CALLBACK_MODE: &str = "CallbackMode";
const AUTH_RESTRICTIONS: &str = "AuthRestrictions";
const CUSTOM_RAS_DIAL_DLL: &str = "CustomRasDialDll";
/// S1 §4.10's spelling of `CustomRasDialDll`.
const CUSTOM_RRAS_DIAL_DLL: &str = "CustomRRASDialDll";
/// The legacy key for the same DLL (§6.2, `RASENTRY.szCustomDialDll`).
const CUSTOM_DIAL_DLL: &str = "CustomDialDll";
const SHARED_PHONE_NUMBERS: &str = "SharedPhoneNumbers";
const DIAL_PERCENT: &str = "DialPercent";
const DIAL_SECONDS: &str = "DialSeconds";
const HANG_UP_PERCENT: &str = "HangUpPercent";
const HANG_UP_SECONDS: &str = "HangUpSeconds";
const ENTRY_TYPED: &[&str] = &[
    ENCODING,
    DIAL_MODE,
    DIAL_PERCENT,
    DIAL_SECONDS,
    HANG_UP_PERCENT,
    HANG_UP_SECONDS,
    CALLBACK_MODE,
    AUTH_RESTRICTIONS,
    CUSTOM_RAS_DIAL_DLL,
    CUSTOM_RRAS_DIAL_DLL,
    CUSTOM_DIAL_DLL,
    SHARED_PHONE_NUMBERS,
];

/// The entry-level keys with a typed field that the writer places (`Encoding=1` always comes
/// first), in the order it writes those a file did not place: S1's order (§6.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum TypedKey {
    DialMode,
    DialPercent,
    DialSeconds,
    HangUpPercent,
    HangUpSeconds,
    CallbackMode,
    CustomRasDialDll,
    SharedPhoneNumbers,
    AuthRestrictions,
}

const TYPED_KEYS: [TypedKey; 9] = [
    TypedKey::DialMode,
    TypedKey::DialPercent,
    TypedKey::DialSeconds,
    TypedKey::HangUpPercent,
    TypedKey::HangUpSeconds,
    TypedKey::CallbackMode,
    TypedKey::CustomRasDialDll,
    TypedKey::SharedPhoneNumbers,
    TypedKey::AuthRestrictions,
];

/// Where a file had an entry's typed keys among its other entry-level keys, so that an
/// entry written back keeps the file's order (ras-reference §6.5's multilink example has
/// `SharedPhoneNumbers=` before `CallbackMode=`, S1's `dd1` after it).
///
/// Each typed key is kept with the number of [`Entry::settings`] before it. The reader
/// leaves out the keys the writer would put in the same place anyway (a run in S1's order
/// after the last setting), so an entry made in code (empty order) and its read-back copy
/// compare equal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct KeyOrder(Vec<(TypedKey, usize)>);

impl KeyOrder {
    /// Note `key`, read after `settings` other keys; only its first occurrence counts.
    fn place(&mut self, key: TypedKey, settings: usize) {
        if !self.0.iter().any(|&(placed, _)| placed == key) {
            self.0.push((key, settings));
        }
    }

    /// Drop the trailing run the writer would produce unasked (see the type's docs).
    fn normalize(mut self, settings: usize) -> Self {
        let mut keep = self.0.len();
        while keep > 0
            && self.0[keep - 1].1 == settings
            && self
                .0
                .get(keep)
                .is_none_or(|next| self.0[keep - 1].0 < next.0)
        {
            keep -= 1;
        }
        self.0.truncate(keep);
        self
    }

    /// The keys placed before setting `index` (of `settings`; a position past the end
    /// counts as the end).
    fn before(&self, index: usize, settings: usize) -> impl Iterator<Item = TypedKey> + '_ {
        self.0
            .iter()
            .filter(move |&&(_, at)| at.min(settings) == index)
            .map(|&(key, _)| key)
    }

    fn contains(&self, key: TypedKey) -> bool {
        self.0.iter().any(|&(placed, _)| placed == key)
    }
}

/// MEDIA keys with a typed field (§6.3).
const PORT: &str = "Port";
const DEVICE_NAME: &str = "Device";
const CONNECT_BPS: &str = "ConnectBPS";
const MEDIA_TYPED: &[&str] = &[PORT, DEVICE_NAME, CONNECT_BPS];

/// The keys of a `PhoneNumber=` subsection (§6.3).
const NUMBER_KEYS: &[&str] = &[
    "AreaCode",
    "CountryCode",
    "CountryID",
    "UseDialingRules",
    "Comment",
    "FriendlyName",
];

fn is(key: &str, name: &str) -> bool {
    key.eq_ignore_ascii_case(name)
}

fn is_any(key: &str, names: &[&str]) -> bool {
    names.iter().any(|name| is(key, name))
}

/// Whether `key` starts a subsection.
fn is_subsection(key: &str) -> bool {
    key == DEVICE || is(key, NETCOMPONENTS) || is(key, MEDIA) || is(key, PHONE_NUMBER)
}

// ---------------------------------------------------------------------------------------
// Reader

/// Where the next `key=value` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    Entry,
    NetComponents,
    Media,
    Device,
    Number,
}

/// A MEDIA block being read.
#[derive(Debug)]
struct LinkBuilder {
    line: usize,
    media: String,
    port: Option<String>,
    device_name: Option<String>,
    connect_bps: Option<u32>,
    settings: Vec<Setting>,
    devices: Vec<Device>,
    dialing_device: Option<usize>,
    numbers: Vec<String>,
    number_settings: Vec<Vec<Setting>>,
}

impl LinkBuilder {
    fn new(line: usize, media: &str) -> Self {
        LinkBuilder {
            line,
            media: media.to_owned(),
            port: None,
            device_name: None,
            connect_bps: None,
            settings: Vec::new(),
            devices: Vec::new(),
            dialing_device: None,
            numbers: Vec::new(),
            number_settings: Vec::new(),
        }
    }

    /// The finished link, or the MEDIA line and why it is incomplete.
    fn finish(mut self) -> Result<SubEntry, (usize, Problem)> {
        // Numbers without keys of their own at the end need no element (see LinkDetails).
        while self.number_settings.last().is_some_and(Vec::is_empty) {
            self.number_settings.pop();
        }
        let port = self
            .port
            .filter(|port| !port.is_empty())
            .ok_or((self.line, Problem::MediaWithoutPort))?;
        Ok(SubEntry {
            device_name: self
                .device_name
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| port.clone()),
            device: PathBuf::from(port),
            phone_numbers: self.numbers,
            connect_bps: self.connect_bps.unwrap_or(DEFAULT_CONNECT_BPS),
            link: LinkDetails {
                media: self.media,
                settings: self.settings,
                devices: self.devices,
                dialing_device: self.dialing_device,
                number_settings: self.number_settings,
            },
        })
    }
}

/// An entry being read.
#[derive(Debug)]
struct EntryBuilder {
    name: String,
    line: usize,
    utf8_declared: bool,
    first_non_utf8: Option<usize>,
    dial_mode: DialMode,
    bandwidth: BandwidthKeys,
    callback_mode: CallbackMode,
    auth_restrictions: Option<AuthRestrictions>,
    custom_dial_dll: Option<PathBuf>,
    shared_phone_numbers: bool,
    settings: Vec<Setting>,
    net_components: Option<Vec<Setting>>,
    key_order: KeyOrder,
    links: Vec<LinkBuilder>,
    place: Place,
}

type LineResult<T> = Result<T, Problem>;

/// A decimal number; `None` for an empty value, which means "default" (§6.1).
fn number(key: &str, value: &str) -> LineResult<Option<u32>> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    trimmed.parse().map(Some).map_err(|_| Problem::NotANumber {
        key: key.to_owned(),
        value: value.to_owned(),
    })
}

/// What the dial-as-needed keys allow (§6.2; the HangUp ranges [inferred] the same).
const PERCENT: &str = "a percentage from 0 to 100";
const SECONDS: &str = "0 to 3600 seconds";

/// A number that must be one of `0..=max`.
fn small(key: &str, value: &str, max: u32, expected: &'static str) -> LineResult<Option<u32>> {
    match number(key, value)? {
        Some(n) if n > max => Err(Problem::OutOfRange {
            key: key.to_owned(),
            value: value.to_owned(),
            expected,
        }),
        n => Ok(n),
    }
}

impl EntryBuilder {
    fn new(name: String, line: usize) -> Self {
        EntryBuilder {
            name,
            line,
            utf8_declared: false,
            first_non_utf8: None,
            dial_mode: DialMode::default(),
            bandwidth: BandwidthKeys::default(),
            callback_mode: CallbackMode::default(),
            auth_restrictions: None,
            custom_dial_dll: None,
            shared_phone_numbers: false,
            settings: Vec::new(),
            net_components: None,
            key_order: KeyOrder::default(),
            links: Vec::new(),
            place: Place::Entry,
        }
    }

    fn key_value(&mut self, line: usize, key: &str, value: &str) -> LineResult<()> {
        let setting = || Setting::new(key, value);
        if is_subsection(key) {
            return self.subsection(line, key, value);
        }
        match self.place {
            Place::Entry => self.entry_key(key, value)?,
            Place::NetComponents => {
                self.net_components
                    .get_or_insert_with(Vec::new)
                    .push(setting());
            }
            Place::Media => {
                let link = self.links.last_mut().ok_or(Problem::DeviceOutsideMedia)?;
                if is(key, PORT) {
                    link.port = Some(value.to_owned());
                } else if is(key, DEVICE_NAME) {
                    link.device_name = Some(value.to_owned());
                } else if is(key, CONNECT_BPS) {
                    link.connect_bps = number(key, value)?;
                } else {
                    link.settings.push(setting());
                }
            }
            Place::Device | Place::Number => {
                let link = self.links.last_mut().ok_or(Problem::DeviceOutsideMedia)?;
                let number = link.number_settings.last_mut();
                match number {
                    Some(number) if self.place == Place::Number && is_any(key, NUMBER_KEYS) => {
                        number.push(setting());
                    }
                    _ => link
                        .devices
                        .last_mut()
                        .ok_or(Problem::DeviceOutsideMedia)?
                        .settings
                        .push(setting()),
                }
            }
        }
        Ok(())
    }

    fn subsection(&mut self, line: usize, key: &str, value: &str) -> LineResult<()> {
        if is(key, NETCOMPONENTS) {
            // The value is empty in every known file; a subsection key carries none.
            self.net_components.get_or_insert_with(Vec::new);
            self.place = Place::NetComponents;
        } else if is(key, MEDIA) {
            self.links.push(LinkBuilder::new(line, value));
            self.place = Place::Media;
        } else if key == DEVICE {
            let link = self.links.last_mut().ok_or(Problem::DeviceOutsideMedia)?;
            link.devices.push(Device::new(DeviceKind::parse(value)));
            self.place = Place::Device;
        } else {
            // PhoneNumber=
            let link = self.links.last_mut().ok_or(Problem::NumberOutsideDevice)?;
            let device = link
                .devices
                .len()
                .checked_sub(1)
                .ok_or(Problem::NumberOutsideDevice)?;
            if link.dialing_device.is_some_and(|d| d != device) {
                return Err(Problem::NumbersUnderTwoDevices);
            }
            link.dialing_device = Some(device);
            link.numbers.push(value.to_owned());
            link.number_settings.push(Vec::new());
            self.place = Place::Number;
        }
        Ok(())
    }

    fn entry_key(&mut self, key: &str, value: &str) -> LineResult<()> {
        let typed = if is(key, ENCODING) {
            self.utf8_declared = small(key, value, 1, "0 (ASCII) or 1 (UTF-8)")? == Some(1);
            None
        } else if is(key, DIAL_MODE) {
            self.dial_mode = match small(key, value, 2, "0, 1 or 2")? {
                Some(1) => DialMode::All,
                Some(2) => DialMode::AsNeeded,
                _ => DialMode::FirstAvailable,
            };
            Some(TypedKey::DialMode)
        } else if is(key, DIAL_PERCENT) {
            self.bandwidth.dial_percent = small(key, value, 100, PERCENT)?;
            Some(TypedKey::DialPercent)
        } else if is(key, DIAL_SECONDS) {
            self.bandwidth.dial_seconds = small(key, value, 3600, SECONDS)?;
            Some(TypedKey::DialSeconds)
        } else if is(key, HANG_UP_PERCENT) {
            self.bandwidth.hang_up_percent = small(key, value, 100, PERCENT)?;
            Some(TypedKey::HangUpPercent)
        } else if is(key, HANG_UP_SECONDS) {
            self.bandwidth.hang_up_seconds = small(key, value, 3600, SECONDS)?;
            Some(TypedKey::HangUpSeconds)
        } else if is(key, CALLBACK_MODE) {
            self.callback_mode = match small(key, value, 2, "0, 1 or 2")? {
                Some(1) => CallbackMode::Optional,
                Some(2) => CallbackMode::Negotiated,
                _ => CallbackMode::NoCallback,
            };
            Some(TypedKey::CallbackMode)
        } else if is(key, AUTH_RESTRICTIONS) {
            self.auth_restrictions = number(key, value)?.map(AuthRestrictions);
            Some(TypedKey::AuthRestrictions)
        } else if is_any(
            key,
            &[CUSTOM_RAS_DIAL_DLL, CUSTOM_RRAS_DIAL_DLL, CUSTOM_DIAL_DLL],
        ) {
            // Windows 10 files carry all three keys, mostly empty: an empty one says
            // nothing and must not clear a DLL another spelling named.
            (!value.is_empty()).then(|| {
                self.custom_dial_dll = Some(PathBuf::from(value));
                TypedKey::CustomRasDialDll
            })
        } else if is(key, SHARED_PHONE_NUMBERS) {
            self.shared_phone_numbers = number(key, value)?.is_some_and(|n| n != 0);
            Some(TypedKey::SharedPhoneNumbers)
        } else {
            self.settings.push(Setting::new(key, value));
            None
        };
        if let Some(typed) = typed {
            self.key_order.place(typed, self.settings.len());
        }
        Ok(())
    }

    fn finish(self) -> Result<Entry, (usize, Problem)> {
        if let (true, Some(line)) = (self.utf8_declared, self.first_non_utf8) {
            return Err((line, Problem::InvalidUtf8));
        }
        let mut links = self.links.into_iter();
        let first = links
            .next()
            .ok_or_else(|| {
                (
                    self.line,
                    Problem::NoMedia {
                        name: self.name.clone(),
                    },
                )
            })?
            .finish()?;
        let subentries = links.map(LinkBuilder::finish).collect::<Result<_, _>>()?;
        Ok(Entry {
            name: self.name,
            device: first.device,
            device_name: first.device_name,
            phone_numbers: first.phone_numbers,
            connect_bps: first.connect_bps,
            link: first.link,
            subentries,
            dial_mode: self.dial_mode,
            bandwidth: self.bandwidth,
            callback_mode: self.callback_mode,
            auth_restrictions: self.auth_restrictions,
            custom_dial_dll: self.custom_dial_dll,
            shared_phone_numbers: self.shared_phone_numbers,
            key_order: self.key_order.normalize(self.settings.len()),
            settings: self.settings,
            net_components: self.net_components,
        })
    }
}

/// One line, classified.
enum Line<'a> {
    Skip,
    Header(&'a str),
    KeyValue(&'a str, &'a str),
}

fn classify(text: &str) -> LineResult<Line<'_>> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.starts_with(';') {
        return Ok(Line::Skip);
    }
    if let Some(rest) = trimmed.strip_prefix('[') {
        let name = rest.strip_suffix(']').ok_or(Problem::UnclosedName)?;
        if name.is_empty() {
            return Err(Problem::EmptyName);
        }
        return Ok(Line::Header(name));
    }
    let (key, value) = text.split_once('=').ok_or_else(|| Problem::NotKeyValue {
        text: trimmed.to_owned(),
    })?;
    let key = key.trim();
    if key.is_empty() {
        return Err(Problem::EmptyKey);
    }
    Ok(Line::KeyValue(key, value))
}

/// A line's text: UTF-8 if it is, else ISO 8859-1 (and `false`).
fn decode(bytes: &[u8]) -> (Cow<'_, str>, bool) {
    match std::str::from_utf8(bytes) {
        Ok(text) => (Cow::Borrowed(text), true),
        Err(_) => (
            Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
            false,
        ),
    }
}

/// Read a phonebook from the bytes of a `rasphone.pbk` file.
pub(super) fn parse(bytes: &[u8], path: Option<&Path>) -> Result<Phonebook, PhonebookError> {
    let corrupt_at = |line, column, problem| PhonebookError::Corrupt {
        path: path.map(Path::to_owned),
        line,
        column,
        problem,
    };
    let corrupt = |(line, problem)| corrupt_at(line, 1, problem);
    if bytes.len() > MAX_PHONEBOOK_BYTES {
        return Err(PhonebookError::TooLarge {
            path: path.map(Path::to_owned),
        });
    }
    let (encoding, text) =
        FileEncoding::decode(bytes).map_err(|line| corrupt_at(line, 1, Problem::InvalidUtf16))?;
    let bytes: &[u8] = &text;
    let mut entries: Vec<Entry> = Vec::new();
    let mut first_lines: Vec<usize> = Vec::new();
    let mut current: Option<EntryBuilder> = None;
    for (index, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = index + 1;
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let (text, utf8) = decode(raw);
        match classify(&text).map_err(|problem| corrupt((line, problem)))? {
            Line::Skip => {}
            Line::Header(name) => {
                if let Some(done) = current.take() {
                    entries.push(done.finish().map_err(corrupt)?);
                }
                let earlier = entries
                    .iter()
                    .zip(&first_lines)
                    .find(|(entry, _)| entry.name.eq_ignore_ascii_case(name));
                if let Some((entry, &first_line)) = earlier {
                    return Err(corrupt((
                        line,
                        Problem::DuplicateEntry {
                            name: entry.name.clone(),
                            first_line,
                        },
                    )));
                }
                first_lines.push(line);
                current = Some(EntryBuilder::new(name.to_owned(), line));
            }
            Line::KeyValue(key, value) => {
                let entry = current.as_mut().ok_or_else(|| {
                    corrupt_at(
                        line,
                        key_column(&text),
                        Problem::KeyOutsideEntry {
                            key: key.to_owned(),
                        },
                    )
                })?;
                entry.key_value(line, key, value).map_err(|problem| {
                    // A bad value is pointed at; a misplaced key at the key.
                    let column = match problem {
                        Problem::NotANumber { .. } | Problem::OutOfRange { .. } => {
                            value_column(&text)
                        }
                        _ => key_column(&text),
                    };
                    corrupt_at(line, column, problem)
                })?;
            }
        }
        if let (false, Some(entry)) = (utf8, current.as_mut()) {
            entry.first_non_utf8.get_or_insert(line);
        }
    }
    if let Some(done) = current {
        entries.push(done.finish().map_err(corrupt)?);
    }
    Ok(Phonebook {
        path: path.map(Path::to_owned),
        entries,
        encoding,
    })
}

// ---------------------------------------------------------------------------------------
// Writer

/// Builds one entry's text, checking that everything reads back as written.
struct EntryWriter<'a> {
    out: &'a mut String,
    entry: &'a str,
}

impl EntryWriter<'_> {
    fn fail(&self, problem: Unwritable) -> PhonebookError {
        PhonebookError::Unwritable {
            entry: self.entry.to_owned(),
            problem,
        }
    }

    fn text<'t>(&self, field: &str, text: &'t str) -> Result<&'t str, PhonebookError> {
        if text.contains(['\r', '\n']) {
            return Err(self.fail(Unwritable::LineBreak {
                field: field.to_owned(),
            }));
        }
        Ok(text)
    }

    fn path<'p>(&self, path: &'p Path) -> Result<&'p str, PhonebookError> {
        let text = path.to_str().ok_or_else(|| {
            self.fail(Unwritable::NonUtf8Path {
                path: path.to_owned(),
            })
        })?;
        self.text("a path", text)
    }

    fn line(&mut self, key: &str, value: &str) -> Result<(), PhonebookError> {
        let value = self.text(&format!("the value of `{key}`"), value)?;
        // Writing to a String cannot fail.
        let _ = write!(self.out, "{key}={value}\r\n");
        Ok(())
    }

    fn blank(&mut self) {
        self.out.push_str("\r\n");
    }

    /// A kept setting, refused if its key would not read back as a plain setting here.
    fn setting(&mut self, setting: &Setting, reserved: &[&str]) -> Result<(), PhonebookError> {
        let key = setting.key.as_str();
        let bad =
            key.is_empty() || key.contains('=') || key.trim() != key || key.starts_with(['[', ';']);
        if bad {
            self.text("a key", key)?;
            return Err(self.fail(Unwritable::BadKey {
                key: key.to_owned(),
            }));
        }
        if is_subsection(key) || is_any(key, reserved) {
            return Err(self.fail(Unwritable::ReservedKey {
                key: key.to_owned(),
            }));
        }
        self.line(key, &setting.value)
    }

    fn settings(&mut self, settings: &[Setting], reserved: &[&str]) -> Result<(), PhonebookError> {
        settings
            .iter()
            .try_for_each(|setting| self.setting(setting, reserved))
    }

    fn link(
        &mut self,
        index: usize,
        port: &Path,
        device_name: &str,
        numbers: &[String],
        connect_bps: u32,
        link: &LinkDetails,
    ) -> Result<(), PhonebookError> {
        if port.as_os_str().is_empty() {
            return Err(self.fail(Unwritable::EmptyPort { link: index }));
        }
        self.blank();
        self.line(MEDIA, &link.media)?;
        let port = self.path(port)?;
        self.line(PORT, port)?;
        self.line(DEVICE_NAME, device_name)?;
        self.line(CONNECT_BPS, &connect_bps.to_string())?;
        self.settings(&link.settings, MEDIA_TYPED)?;
        // The numbers go under the device they were read from; for a link built in code,
        // under its first modem (or its last device).
        let target = link.number_device();
        let synthesized;
        let devices = if target.is_none() && !numbers.is_empty() {
            synthesized = [Device::new(DeviceKind::Modem)];
            &synthesized[..]
        } else {
            &link.devices[..]
        };
        let target = target.unwrap_or(0);
        for (d, device) in devices.iter().enumerate() {
            self.blank();
            let kind = self.text("a DEVICE= type", device.kind.as_str())?;
            self.line(DEVICE, kind)?;
            if d != target || numbers.is_empty() {
                self.settings(&device.settings, &[])?;
                continue;
            }
            // A per-number key among the device's own settings was read before the first
            // number (after one, it belongs to that number). Everything up to the last such
            // key goes before the numbers and the rest after, so the keys keep their order.
            let split = device
                .settings
                .iter()
                .rposition(|setting| is_any(&setting.key, NUMBER_KEYS))
                .map_or(0, |last| last + 1);
            let (early, late) = device.settings.split_at(split);
            self.settings(early, &[])?;
            for (n, number) in numbers.iter().enumerate() {
                self.line(PHONE_NUMBER, number)?;
                for setting in link.number_settings.get(n).into_iter().flatten() {
                    if !is_any(&setting.key, NUMBER_KEYS) {
                        return Err(self.fail(Unwritable::ReservedKey {
                            key: setting.key.clone(),
                        }));
                    }
                    self.setting(setting, &[])?;
                }
            }
            self.settings(late, &[])?;
        }
        Ok(())
    }

    /// A dial-as-needed value, refused past `max` as the reader would refuse it.
    fn bounded(
        &self,
        key: &'static str,
        value: Option<u32>,
        max: u32,
        expected: &'static str,
    ) -> Result<Option<String>, PhonebookError> {
        match value {
            Some(value) if value > max => Err(self.fail(Unwritable::OutOfRange {
                key,
                value,
                expected,
            })),
            value => Ok(value.map(|n| n.to_string())),
        }
    }

    /// A typed entry-level key's line, if the entry has a value for it.
    fn typed(&mut self, entry: &Entry, key: TypedKey) -> Result<(), PhonebookError> {
        let flag = |on: bool| if on { "1" } else { "0" }.to_owned();
        let bandwidth = &entry.bandwidth;
        let (name, value) = match key {
            TypedKey::DialMode => (DIAL_MODE, Some((entry.dial_mode as u32).to_string())),
            TypedKey::DialPercent => (
                DIAL_PERCENT,
                self.bounded(DIAL_PERCENT, bandwidth.dial_percent, 100, PERCENT)?,
            ),
            TypedKey::DialSeconds => (
                DIAL_SECONDS,
                self.bounded(DIAL_SECONDS, bandwidth.dial_seconds, 3600, SECONDS)?,
            ),
            TypedKey::HangUpPercent => (
                HANG_UP_PERCENT,
                self.bounded(HANG_UP_PERCENT, bandwidth.hang_up_percent, 100, PERCENT)?,
            ),
            TypedKey::HangUpSeconds => (
                HANG_UP_SECONDS,
                self.bounded(HANG_UP_SECONDS, bandwidth.hang_up_seconds, 3600, SECONDS)?,
            ),
            TypedKey::CallbackMode => (
                CALLBACK_MODE,
                Some((entry.callback_mode as u32).to_string()),
            ),
            TypedKey::CustomRasDialDll => (
                CUSTOM_RAS_DIAL_DLL,
                match &entry.custom_dial_dll {
                    Some(dll) => Some(self.path(dll)?.to_owned()),
                    None => None,
                },
            ),
            TypedKey::SharedPhoneNumbers => {
                (SHARED_PHONE_NUMBERS, Some(flag(entry.shared_phone_numbers)))
            }
            TypedKey::AuthRestrictions => (
                AUTH_RESTRICTIONS,
                entry
                    .auth_restrictions
                    .map(|AuthRestrictions(mask)| mask.to_string()),
            ),
        };
        match value {
            Some(value) => self.line(name, &value),
            None => Ok(()),
        }
    }

    fn entry(&mut self, entry: &Entry) -> Result<(), PhonebookError> {
        if entry.name.is_empty() {
            return Err(self.fail(Unwritable::EmptyName));
        }
        let name = self.text("the name", &entry.name)?;
        let _ = write!(self.out, "[{name}]\r\n");
        self.line(ENCODING, "1")?;
        // The typed keys where the file had them (KeyOrder), the others after the settings.
        let order = &entry.key_order;
        let kept = entry.settings.len();
        for index in 0..=kept {
            for key in order.before(index, kept) {
                self.typed(entry, key)?;
            }
            if let Some(setting) = entry.settings.get(index) {
                self.setting(setting, ENTRY_TYPED)?;
            }
        }
        for key in TYPED_KEYS.into_iter().filter(|&key| !order.contains(key)) {
            self.typed(entry, key)?;
        }
        if let Some(components) = &entry.net_components {
            self.blank();
            self.line(NETCOMPONENTS, "")?;
            self.settings(components, &[])?;
        }
        self.link(
            1,
            &entry.device,
            &entry.device_name,
            &entry.phone_numbers,
            entry.connect_bps,
            &entry.link,
        )?;
        for (k, sub) in entry.subentries.iter().enumerate() {
            self.link(
                k + 2,
                &sub.device,
                &sub.device_name,
                &sub.phone_numbers,
                sub.connect_bps,
                &sub.link,
            )?;
        }
        Ok(())
    }
}

/// The phonebook as `rasphone.pbk` text.
pub(super) fn write(phonebook: &Phonebook) -> Result<String, PhonebookError> {
    let mut out = String::new();
    for (i, entry) in phonebook.entries.iter().enumerate() {
        if i > 0 {
            out.push_str("\r\n");
        }
        EntryWriter {
            out: &mut out,
            entry: &entry.name,
        }
        .entry(entry)?;
    }
    Ok(out)
}

impl FileEncoding {
    /// The encoding `bytes` announce with their byte-order mark, and the text after it as
    /// UTF-8 bytes (borrowed unless it was UTF-16). A UTF-16 file that is not valid UTF-16
    /// gives the 1-based line of the first bad unit.
    fn decode(bytes: &[u8]) -> Result<(FileEncoding, Cow<'_, [u8]>), usize> {
        let (encoding, body) = if let Some(body) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
            (FileEncoding::Utf8Bom, body)
        } else if let Some(body) = bytes.strip_prefix(b"\xFF\xFE") {
            (FileEncoding::Utf16Le, body)
        } else if let Some(body) = bytes.strip_prefix(b"\xFE\xFF") {
            (FileEncoding::Utf16Be, body)
        } else {
            (FileEncoding::Utf8, bytes)
        };
        let from_pair: fn([u8; 2]) -> u16 = match encoding {
            FileEncoding::Utf8 | FileEncoding::Utf8Bom => {
                return Ok((encoding, Cow::Borrowed(body)));
            }
            FileEncoding::Utf16Le => u16::from_le_bytes,
            FileEncoding::Utf16Be => u16::from_be_bytes,
        };
        let chunks = body.chunks_exact(2);
        let odd = !chunks.remainder().is_empty();
        let units = chunks.map(|pair| from_pair([pair[0], pair[1]]));
        let mut text = String::with_capacity(body.len() / 2);
        for unit in char::decode_utf16(units) {
            match unit {
                Ok(c) => text.push(c),
                Err(_) => return Err(line_after(&text)),
            }
        }
        if odd {
            return Err(line_after(&text));
        }
        Ok((encoding, Cow::Owned(text.into_bytes())))
    }

    /// `text` (UTF-8 `rasphone.pbk` text) in this encoding, byte-order mark included.
    pub fn encode(self, text: &str) -> Vec<u8> {
        let units = || text.encode_utf16();
        match self {
            FileEncoding::Utf8 => text.as_bytes().to_vec(),
            FileEncoding::Utf8Bom => [b"\xEF\xBB\xBF", text.as_bytes()].concat(),
            FileEncoding::Utf16Le => [0xFF, 0xFE]
                .into_iter()
                .chain(units().flat_map(u16::to_le_bytes))
                .collect(),
            FileEncoding::Utf16Be => [0xFE, 0xFF]
                .into_iter()
                .chain(units().flat_map(u16::to_be_bytes))
                .collect(),
        }
    }
}

/// The 1-based column of a `key=value` line's key (its first non-blank character).
fn key_column(line: &str) -> usize {
    line.chars().take_while(|c| c.is_whitespace()).count() + 1
}

/// The 1-based column of a `key=value` line's value (just after the first `=`).
fn value_column(line: &str) -> usize {
    line.split_once('=')
        .map_or(1, |(key, _)| key.chars().count() + 2)
}

/// The 1-based line the next character of a file would be on, after `text`.
fn line_after(text: &str) -> usize {
    text.bytes().filter(|&b| b == b'\n').count() + 1
}
