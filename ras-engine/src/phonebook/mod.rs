//! Phonebook entries: what to dial and on which device, read from and written to the
//! Windows `rasphone.pbk` format (ras-reference §6; the format itself lives in [`pbk`]).
//!
//! An [`Entry`] keeps its first link (the first `MEDIA=` block) in flat fields — `device`,
//! `device_name`, `phone_numbers`, `connect_bps` — because that is what a single-link
//! modem dial uses; further links of a multilink entry are [`SubEntry`]s (MEDIA block *k*
//! ↔ subentry *k*, 1-based, ras-reference §6.5). Keys the engine has a use for are typed;
//! every other key is kept as a [`Setting`], in file order, so that a phonebook written back
//! still carries them.

mod pbk;

use std::io::Read as _;
use std::path::{Path, PathBuf};

pub use pbk::{KeyOrder, MAX_PHONEBOOK_BYTES, PhonebookError, Problem, QUOTE_MAX, Unwritable};

use crate::ras::RasError;

/// A `key=value` line kept as read: keys we have no typed field for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    /// The key, as spelled in the file.
    pub key: String,
    /// Everything after the first `=`, verbatim (an empty value means "default", §6.1).
    pub value: String,
}

impl Setting {
    /// A setting `key=value`.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Setting {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// The value of `key` (compared case-insensitively, as INI keys are) among `settings`; the
/// last one wins if a key is repeated.
fn lookup<'a>(settings: &'a [Setting], key: &str) -> Option<&'a str> {
    settings
        .iter()
        .rev()
        .find(|setting| setting.key.eq_ignore_ascii_case(key))
        .map(|setting| setting.value.as_str())
}

/// `DialMode=`: how a multilink entry dials its subentries (ras-reference §6.2, §3.6).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum DialMode {
    /// 0: dial the first available subentry only.
    #[default]
    FirstAvailable = 0,
    /// 1: dial all subentries (`RASEDM_DialAll`).
    All = 1,
    /// 2: add subentries as bandwidth is needed (`RASEDM_DialAsNeeded`).
    AsNeeded = 2,
}

/// A dial-as-needed threshold: the share of the bundle's bandwidth in use, and how long it
/// must stay above (to add a link) or below (to drop one) it (ras-reference §6.2, §3.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Threshold {
    /// Percent of the connection's bandwidth, 0–100.
    pub percent: u32,
    /// The sample window in seconds, 0–3600.
    pub seconds: u32,
}

/// The dial-as-needed keys of an entry (ras-reference §6.2: `DialPercent=`, `DialSeconds=`,
/// `HangUpPercent=`, `HangUpSeconds=`; RASENTRY's `dwDialExtraPercent`,
/// `dwDialExtraSampleSeconds`, `dwHangUpExtraPercent`, `dwHangUpExtraSampleSeconds`,
/// §3.6). `None` is a key the file leaves out (or leaves empty); [`Entry::dial_extra`] and
/// [`Entry::hang_up_extra`] then use [`DEFAULT_DIAL_EXTRA`] and [`DEFAULT_HANG_UP_EXTRA`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct BandwidthKeys {
    /// `DialPercent=`: add a link when usage stays above this (0–100).
    pub dial_percent: Option<u32>,
    /// `DialSeconds=`: … for this many seconds (0–3600).
    pub dial_seconds: Option<u32>,
    /// `HangUpPercent=`: drop a link when usage stays below this (0–100 [inferred]: the
    /// reference gives the range for `DialPercent=` only).
    pub hang_up_percent: Option<u32>,
    /// `HangUpSeconds=`: … for this many seconds (0–3600 [inferred], as `DialSeconds=`).
    pub hang_up_seconds: Option<u32>,
}

/// The threshold for adding a link when the entry gives none: above 75 % for 120 s
/// [inferred: ras-reference §6.2 names the keys but no defaults].
pub const DEFAULT_DIAL_EXTRA: Threshold = Threshold {
    percent: 75,
    seconds: 120,
};

/// The threshold for dropping a link when the entry gives none: below 10 % for 120 s
/// [inferred, as [`DEFAULT_DIAL_EXTRA`]].
pub const DEFAULT_HANG_UP_EXTRA: Threshold = Threshold {
    percent: 10,
    seconds: 120,
};

/// `CallbackMode=` (ras-reference §6.2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum CallbackMode {
    /// 0: no callback.
    #[default]
    NoCallback = 0,
    /// 1: callback optional.
    Optional = 1,
    /// 2: callback negotiated.
    Negotiated = 2,
}

/// `AuthRestrictions=`: the authentication protocols the entry allows, a bit mask
/// (ras-reference §6.4, with S1's bit numbers read 1-based). Unknown bits are kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AuthRestrictions(pub u32);

impl AuthRestrictions {
    /// PAP.
    pub const PAP: u32 = 0x0008;
    /// SPAP.
    pub const SPAP: u32 = 0x0010;
    /// MD5-CHAP.
    pub const MD5_CHAP: u32 = 0x0020;
    /// MS-CHAP v1.
    pub const MSCHAP: u32 = 0x0040;
    /// EAP.
    pub const EAP: u32 = 0x0080;
    /// MS-CHAP v2.
    pub const MSCHAP_V2: u32 = 0x0200;
    /// Windows 95-compatible MS-CHAP.
    pub const W95_MSCHAP: u32 = 0x0400;
    /// IKEv2 with a machine certificate.
    pub const IKEV2_MACHINE_CERT: u32 = 0x0800;
    /// IKEv2 with a pre-shared key.
    pub const IKEV2_PSK: u32 = 0x1000;

    /// Whether every bit of `protocols` (one or more of the constants above) is allowed.
    pub fn allows(self, protocols: u32) -> bool {
        self.0 & protocols == protocols
    }
}

/// The type of a `DEVICE=` subsection (ras-reference §6.3). The file's spelling is matched
/// case-insensitively: S1's table capitalises (`Modem`), real files do not (`modem`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    /// `Generic`.
    Generic,
    /// `Atm`.
    Atm,
    /// `FrameRelay`.
    FrameRelay,
    /// `Irda`.
    Irda,
    /// `Isdn`.
    Isdn,
    /// `Modem`.
    Modem,
    /// `Pad` (X.25 PAD).
    Pad,
    /// `PPPoE`.
    PPPoE,
    /// `Rastapi`.
    Rastapi,
    /// `Serial` (null modem).
    Serial,
    /// `Sonet`.
    Sonet,
    /// `SW56`.
    Sw56,
    /// `Switch`: a pre- or post-connect switch (terminal window or script).
    Switch,
    /// `Vpn`.
    Vpn,
    /// `X25`.
    X25,
    /// Any other type, spelled as in the file.
    Other(String),
}

/// Every named kind and its spelling when written (lower case, as real files have it,
/// except `PPPoE`, which they capitalise).
const DEVICE_KINDS: &[(DeviceKind, &str)] = &[
    (DeviceKind::Generic, "generic"),
    (DeviceKind::Atm, "atm"),
    (DeviceKind::FrameRelay, "framerelay"),
    (DeviceKind::Irda, "irda"),
    (DeviceKind::Isdn, "isdn"),
    (DeviceKind::Modem, "modem"),
    (DeviceKind::Pad, "pad"),
    (DeviceKind::PPPoE, "PPPoE"),
    (DeviceKind::Rastapi, "rastapi"),
    (DeviceKind::Serial, "serial"),
    (DeviceKind::Sonet, "sonet"),
    (DeviceKind::Sw56, "sw56"),
    (DeviceKind::Switch, "switch"),
    (DeviceKind::Vpn, "vpn"),
    (DeviceKind::X25, "x25"),
];

impl DeviceKind {
    /// The kind a `DEVICE=` value names.
    pub fn parse(value: &str) -> Self {
        DEVICE_KINDS
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(value))
            .map_or_else(
                || DeviceKind::Other(value.to_owned()),
                |(kind, _)| kind.clone(),
            )
    }

    /// The `DEVICE=` value written for this kind.
    pub fn as_str(&self) -> &str {
        match self {
            DeviceKind::Other(name) => name,
            named => DEVICE_KINDS
                .iter()
                .find(|(kind, _)| kind == named)
                .map_or("", |(_, name)| name),
        }
    }
}

/// One `DEVICE=` subsection of a link, without its phone numbers (those are the link's
/// `phone_numbers`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// The `DEVICE=` value.
    pub kind: DeviceKind,
    /// The subsection's keys (`Terminal=`, `HwFlowControl=`, `TryNextAlternateOnFail=`, …).
    pub settings: Vec<Setting>,
}

impl Device {
    /// A device of this kind with no settings.
    pub fn new(kind: DeviceKind) -> Self {
        Device {
            kind,
            settings: Vec::new(),
        }
    }

    /// The value of `key` in this subsection (case-insensitive).
    pub fn setting(&self, key: &str) -> Option<&str> {
        lookup(&self.settings, key)
    }
}

/// What a link (`MEDIA=` block) has besides its port, device name, speed and numbers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkDetails {
    /// The `MEDIA=` value (`serial`, `rastapi`, `isdn`, …).
    pub media: String,
    /// The MEDIA block's other keys, in file order.
    pub settings: Vec<Setting>,
    /// The `DEVICE=` subsections in file order: for `MEDIA=serial`, pre-connect switch,
    /// modem, X.25 PAD, post-connect switch (§6.1).
    pub devices: Vec<Device>,
    /// Which of `devices` the phone numbers belong to. `None` when the link has no
    /// numbers; the writer then puts any numbers under the first modem (or the last
    /// device).
    pub dialing_device: Option<usize>,
    /// The keys following each `PhoneNumber=` (`AreaCode=`, `CountryCode=`, `CountryID=`,
    /// `UseDialingRules=`, `Comment=`, `FriendlyName=`), index-aligned with the link's
    /// `phone_numbers`. Numbers past the end have none; the reader leaves no empty
    /// element at the end, so a link built in code compares equal to its read-back copy.
    pub number_settings: Vec<Vec<Setting>>,
}

impl LinkDetails {
    /// A serial link with one modem and no other settings.
    pub fn modem() -> Self {
        LinkDetails {
            media: "serial".to_owned(),
            settings: Vec::new(),
            devices: vec![Device::new(DeviceKind::Modem)],
            dialing_device: Some(0),
            number_settings: Vec::new(),
        }
    }

    /// The device subsection the phone numbers belong to.
    pub fn dialing_device(&self) -> Option<&Device> {
        self.dialing_device
            .and_then(|index| self.devices.get(index))
    }

    /// The value of `key` in the MEDIA block (case-insensitive).
    pub fn setting(&self, key: &str) -> Option<&str> {
        lookup(&self.settings, key)
    }

    /// The index of the device the numbers are (or would be written) under: the dialing
    /// device, else the first modem, else the last device; `None` without devices.
    fn number_device(&self) -> Option<usize> {
        self.dialing_device
            .filter(|&index| index < self.devices.len())
            .or_else(|| {
                self.devices
                    .iter()
                    .position(|device| device.kind == DeviceKind::Modem)
            })
            .or_else(|| self.devices.len().checked_sub(1))
    }
}

/// The `ConnectBPS=` used when a MEDIA block gives none.
pub const DEFAULT_CONNECT_BPS: u32 = 115_200;

/// A link of a multilink entry beyond the first: MEDIA block *k* is subentry *k*
/// (`dwSubEntry`, 1-based; the entry's own fields are subentry 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubEntry {
    /// The serial device (`Port=`).
    pub device: PathBuf,
    /// The device's friendly name (`Device=`); defaults to the port.
    pub device_name: String,
    /// Primary number first, then alternates (`PhoneNumber=`).
    pub phone_numbers: Vec<String>,
    /// The DTE speed to open the port at (`ConnectBPS=`).
    pub connect_bps: u32,
    /// Everything else about the link.
    pub link: LinkDetails,
}

/// What `RasGetSubEntryProperties` reports about one link: RASSUBENTRY's fields
/// (ras-reference §3.6; `dwSize` and the reserved `dwfFlags` have no use here), plus the
/// port and speed the engine opens the link's device with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubEntryProperties {
    /// `szDeviceType`: the type of the link's dialing device (`DEVICE=`, §6.3).
    pub device_type: DeviceKind,
    /// `szDeviceName`: the device's friendly name (`Device=`).
    pub device_name: String,
    /// `szLocalPhoneNumber`: the number the link dials first; empty when it has none.
    pub local_phone_number: String,
    /// The list at `dwAlternateOffset`: the numbers tried after it, in order.
    pub alternate_numbers: Vec<String>,
    /// The serial device (`Port=`; not in RASSUBENTRY, which names only the device).
    pub port: PathBuf,
    /// The DTE speed (`ConnectBPS=`; not in RASSUBENTRY).
    pub connect_bps: u32,
}

impl SubEntryProperties {
    /// The link's numbers: the local number first, then the alternates.
    pub fn phone_numbers(&self) -> Vec<String> {
        std::iter::once(&self.local_phone_number)
            .filter(|number| !number.is_empty())
            .chain(&self.alternate_numbers)
            .cloned()
            .collect()
    }
}

/// A subentry index (`dwSubEntry`) the entry has no link for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("subentry {index} does not exist: the entry has {links} link(s), numbered from 1")]
pub struct NoSuchSubEntry {
    /// The 1-based index asked for.
    pub index: usize,
    /// How many links the entry has.
    pub links: usize,
}

/// One phonebook entry. Its own `device`, `device_name`, `phone_numbers` and `connect_bps`
/// are link 1; `subentries` are links 2 and up.
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
    /// The rest of link 1.
    pub link: LinkDetails,
    /// Links 2 and up of a multilink entry.
    pub subentries: Vec<SubEntry>,
    /// `DialMode=`.
    pub dial_mode: DialMode,
    /// `DialPercent=`, `DialSeconds=`, `HangUpPercent=`, `HangUpSeconds=`.
    pub bandwidth: BandwidthKeys,
    /// `CallbackMode=`.
    pub callback_mode: CallbackMode,
    /// `AuthRestrictions=`; `None` when the entry leaves it to the defaults.
    pub auth_restrictions: Option<AuthRestrictions>,
    /// `CustomRasDialDll=` (S1 §4.10 also spells it `CustomRRASDialDll`): the custom
    /// dialer, on Linux a shared object with a `RasCustomDial` entry point (DESIGN §5).
    pub custom_dial_dll: Option<PathBuf>,
    /// `SharedPhoneNumbers=1`: every link dials the entry's own numbers (RASEO_SharedPhoneNumbers).
    pub shared_phone_numbers: bool,
    /// Every other entry-level key (`Type=`, `IpAssign=`, `PBVersion=`, …), in file order.
    pub settings: Vec<Setting>,
    /// The `NETCOMPONENTS=` subsection (`ms_msclient=`, `ms_server=`), if there is one.
    pub net_components: Option<Vec<Setting>>,
    /// Where the file had the typed entry-level keys among [`Entry::settings`], so that
    /// writing keeps their order; empty (the default) writes them after the settings.
    pub key_order: KeyOrder,
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
            connect_bps: DEFAULT_CONNECT_BPS,
            link: LinkDetails::modem(),
            subentries: Vec::new(),
            dial_mode: DialMode::default(),
            bandwidth: BandwidthKeys::default(),
            callback_mode: CallbackMode::default(),
            auth_restrictions: None,
            custom_dial_dll: None,
            shared_phone_numbers: false,
            settings: Vec::new(),
            net_components: None,
            key_order: KeyOrder::default(),
        }
    }

    /// The value of the entry-level `key` kept in [`Entry::settings`] (case-insensitive),
    /// e.g. `setting("IpAssign")`.
    pub fn setting(&self, key: &str) -> Option<&str> {
        lookup(&self.settings, key)
    }

    /// Whether a dial of this entry negotiates PPP Multilink (RFC 1990 MRRU): a dial-all
    /// or dial-as-needed entry with more than one link, or `NegotiateMultilinkAlways=1`
    /// (ras-reference §6.2).
    pub fn negotiates_multilink(&self) -> bool {
        (self.dial_mode != DialMode::FirstAvailable && !self.subentries.is_empty())
            || self.setting("NegotiateMultilinkAlways") == Some("1")
    }

    /// Whether a dial of this entry brings up every link at once (RASEDM_DialAll with
    /// subentries, ras-reference §3.6).
    pub fn dials_all(&self) -> bool {
        self.dial_mode == DialMode::All && !self.subentries.is_empty()
    }

    /// The domain stored with the entry, which `szDomain = "*"` stands for (ras-reference
    /// §3.2). Windows keeps it with the entry's saved dial parameters, outside the `.pbk`
    /// file; here it is the entry's `Domain=` key [inferred], empty when there is none.
    pub fn domain(&self) -> &str {
        self.setting("Domain").unwrap_or_default()
    }

    /// RASEO_RequireEAP (ras-reference §3.7): the entry authenticates with EAP. In a `.pbk`
    /// file that is the EAP bit of `AuthRestrictions=` (§6.4) [inferred: the file has no
    /// key of its own for the flag; `CustomAuthKey=` only names the method].
    pub fn requires_eap(&self) -> bool {
        self.auth_restrictions
            .is_some_and(|restrictions| restrictions.allows(AuthRestrictions::EAP))
    }

    /// `CustomAuthKey=`: the EAP method type the entry uses (ras-reference §6.2; e.g. 4
    /// MD5-Challenge, 6 Generic Token Card, 26 EAP-MSCHAPv2), when it names one.
    pub fn custom_auth_key(&self) -> Option<u8> {
        self.setting("CustomAuthKey")
            .and_then(|value| value.trim().parse().ok())
            .filter(|&key| key != 0)
    }

    /// Where link 1's switch devices stand (ras-reference §6.1: a `MEDIA=serial` link has
    /// pre-connect switch, modem, X.25 PAD, post-connect switch, in that order): before or
    /// after the dialing device.
    fn switches(&self) -> impl Iterator<Item = (SwitchPosition, &Device)> {
        let dialing = self.link.dialing_device.unwrap_or(usize::MAX);
        self.link
            .devices
            .iter()
            .enumerate()
            .filter(|(_, device)| device.kind == DeviceKind::Switch)
            .map(move |(index, device)| {
                let position = if index < dialing {
                    SwitchPosition::BeforeDial
                } else {
                    SwitchPosition::AfterDial
                };
                (position, device)
            })
    }

    /// RASEO_TerminalBeforeDial / RASEO_TerminalAfterDial (ras-reference §3.7): a
    /// `DEVICE=switch` subsection with `Terminal=1` (§6.3) before or after the modem.
    pub fn terminal(&self, position: SwitchPosition) -> bool {
        self.switches()
            .any(|(at, device)| at == position && device.setting("Terminal") == Some("1"))
    }

    /// RASEO_CustomScript's script (ras-reference §3.7, §6.3): the post-connect switch's
    /// `Name=` when its `Script=1`.
    pub fn dial_script(&self) -> Option<&Path> {
        self.switches()
            .filter(|(at, device)| {
                *at == SwitchPosition::AfterDial && device.setting("Script") == Some("1")
            })
            .find_map(|(_, device)| device.setting("Name"))
            .filter(|name| !name.is_empty())
            .map(Path::new)
    }

    /// How many links the entry has (`RASENTRY.dwSubEntries`).
    pub fn link_count(&self) -> usize {
        1 + self.subentries.len()
    }

    /// When a dial-as-needed connection adds a link (`DialPercent=`, `DialSeconds=`), with
    /// [`DEFAULT_DIAL_EXTRA`] for a key the entry leaves out.
    pub fn dial_extra(&self) -> Threshold {
        Threshold {
            percent: self
                .bandwidth
                .dial_percent
                .unwrap_or(DEFAULT_DIAL_EXTRA.percent),
            seconds: self
                .bandwidth
                .dial_seconds
                .unwrap_or(DEFAULT_DIAL_EXTRA.seconds),
        }
    }

    /// When a dial-as-needed connection drops a link (`HangUpPercent=`, `HangUpSeconds=`),
    /// with [`DEFAULT_HANG_UP_EXTRA`] for a key the entry leaves out.
    pub fn hang_up_extra(&self) -> Threshold {
        Threshold {
            percent: self
                .bandwidth
                .hang_up_percent
                .unwrap_or(DEFAULT_HANG_UP_EXTRA.percent),
            seconds: self
                .bandwidth
                .hang_up_seconds
                .unwrap_or(DEFAULT_HANG_UP_EXTRA.seconds),
        }
    }

    /// Link `index` (1-based `dwSubEntry`; MEDIA block *k* is subentry *k*, ras-reference
    /// §6.5) as port, device name, speed, numbers and link details. With
    /// `SharedPhoneNumbers=1` every link dials the entry's own numbers (RASEO_SharedPhoneNumbers).
    fn link(&self, index: usize) -> Option<(&Path, &str, u32, &[String], &LinkDetails)> {
        let (port, name, bps, numbers, link) = match index {
            1 => (
                self.device.as_path(),
                self.device_name.as_str(),
                self.connect_bps,
                self.phone_numbers.as_slice(),
                &self.link,
            ),
            _ => {
                let sub = self.subentries.get(index.checked_sub(2)?)?;
                (
                    sub.device.as_path(),
                    sub.device_name.as_str(),
                    sub.connect_bps,
                    sub.phone_numbers.as_slice(),
                    &sub.link,
                )
            }
        };
        let numbers = if self.shared_phone_numbers {
            &self.phone_numbers
        } else {
            numbers
        };
        Some((port, name, bps, numbers, link))
    }

    /// RASSUBENTRY of link `index` (1-based `dwSubEntry`), what the engine dials that link
    /// with; `None` for an index the entry has no link for (0 included).
    pub fn subentry_properties(&self, index: usize) -> Option<SubEntryProperties> {
        let (port, device_name, connect_bps, numbers, link) = self.link(index)?;
        let (local, alternates) = match numbers.split_first() {
            Some((local, alternates)) => (local.clone(), alternates.to_vec()),
            None => (String::new(), Vec::new()),
        };
        Some(SubEntryProperties {
            device_type: link
                .number_device()
                .and_then(|index| link.devices.get(index))
                .map_or(DeviceKind::Modem, |device| device.kind.clone()),
            device_name: device_name.to_owned(),
            local_phone_number: local,
            alternate_numbers: alternates,
            port: port.to_owned(),
            connect_bps,
        })
    }

    /// `RasSetSubEntryProperties`: set link `index` (1-based). Index `link_count() + 1` adds a
    /// link [inferred: the reference does not say how a subentry is created; this is how a
    /// phonebook grows one MEDIA block]. The link's other details (its media, other devices,
    /// per-device keys) stay; a new link is a serial link with one device of the given type.
    /// With `SharedPhoneNumbers=1` the numbers are the entry's, so setting any link's
    /// numbers sets them for all.
    pub fn set_subentry_properties(
        &mut self,
        index: usize,
        properties: SubEntryProperties,
    ) -> Result<(), NoSuchSubEntry> {
        let links = self.link_count();
        if index == 0 || index > links + 1 {
            return Err(NoSuchSubEntry { index, links });
        }
        let numbers = properties.phone_numbers();
        let SubEntryProperties {
            device_type,
            device_name,
            port,
            connect_bps,
            ..
        } = properties;
        if index == links + 1 {
            self.subentries.push(SubEntry {
                device: PathBuf::new(),
                device_name: String::new(),
                phone_numbers: Vec::new(),
                connect_bps,
                link: LinkDetails {
                    devices: Vec::new(),
                    dialing_device: None,
                    ..LinkDetails::modem()
                },
            });
        }
        let shared = self.shared_phone_numbers;
        let (device, name, bps, own_numbers, link) = if index == 1 {
            (
                &mut self.device,
                &mut self.device_name,
                &mut self.connect_bps,
                &mut self.phone_numbers,
                &mut self.link,
            )
        } else {
            let sub = &mut self.subentries[index - 2];
            (
                &mut sub.device,
                &mut sub.device_name,
                &mut sub.connect_bps,
                &mut sub.phone_numbers,
                &mut sub.link,
            )
        };
        *device = port;
        *name = device_name;
        *bps = connect_bps;
        let dialing = match link.number_device() {
            Some(dialing) => dialing,
            None => {
                link.devices.push(Device::new(device_type.clone()));
                link.devices.len() - 1
            }
        };
        if let Some(device) = link.devices.get_mut(dialing) {
            device.kind = device_type;
        }
        if shared && index != 1 {
            // The link's own numbers are not dialed; the entry's are (RASEO_SharedPhoneNumbers).
            self.link.number_settings.truncate(numbers.len());
            self.phone_numbers = numbers;
            return Ok(());
        }
        link.dialing_device = (!numbers.is_empty()).then_some(dialing);
        link.number_settings.truncate(numbers.len());
        *own_numbers = numbers;
        Ok(())
    }
}

/// Where a `DEVICE=switch` subsection acts: before the modem dials or after it connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SwitchPosition {
    /// A pre-connect switch (RASEO_TerminalBeforeDial).
    BeforeDial,
    /// A post-connect switch (RASEO_TerminalAfterDial, RASEO_CustomScript).
    AfterDial,
}

/// A set of entries (`lpszPhonebook`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Phonebook {
    /// Where it was read from, if it came from a file.
    pub path: Option<PathBuf>,
    /// The entries, in file order.
    pub entries: Vec<Entry>,
    /// How the file was encoded, and so how [`Phonebook::write`] writes it back.
    pub encoding: FileEncoding,
}

/// The character encoding of a `rasphone.pbk` file, told by its byte-order mark (see
/// the `pbk` module).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FileEncoding {
    /// UTF-8 without a byte-order mark: what this engine writes for a new phonebook.
    #[default]
    Utf8,
    /// UTF-8 after an `EF BB BF` byte-order mark.
    Utf8Bom,
    /// UTF-16 little-endian after an `FF FE` byte-order mark (Windows' "Unicode").
    Utf16Le,
    /// UTF-16 big-endian after an `FE FF` byte-order mark.
    Utf16Be,
}

impl Phonebook {
    /// A phonebook holding `entries`.
    pub fn from_entries(entries: impl IntoIterator<Item = Entry>) -> Self {
        Phonebook {
            path: None,
            entries: entries.into_iter().collect(),
            encoding: FileEncoding::default(),
        }
    }

    /// The entry called `name`. Entry names compare case-insensitively, as on Windows
    /// [inferred].
    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|entry| entry.name.eq_ignore_ascii_case(name))
    }

    /// The entry names in file order (what `RasEnumEntries` lists).
    pub fn entry_names(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|entry| entry.name.clone())
            .collect()
    }

    /// Read a `rasphone.pbk` file (ras-reference §6). A file that cannot be read is
    /// [`PhonebookError::Open`] (→ 621), bad contents [`PhonebookError::Corrupt`] (→ 625).
    ///
    /// At most [`MAX_PHONEBOOK_BYTES`] are read: a larger file (or an endless one such
    /// as `/dev/zero`) is [`PhonebookError::TooLarge`] (→ 625) without being read whole.
    pub fn read(path: impl AsRef<Path>) -> Result<Phonebook, PhonebookError> {
        let path = path.as_ref();
        let open = |source| PhonebookError::Open {
            path: path.to_owned(),
            source,
        };
        let file = std::fs::File::open(path).map_err(open)?;
        let mut bytes = Vec::new();
        // One byte more than allowed tells a file at the limit from a larger one.
        let limit = u64::try_from(pbk::MAX_PHONEBOOK_BYTES + 1).unwrap_or(u64::MAX);
        file.take(limit).read_to_end(&mut bytes).map_err(open)?;
        pbk::parse(&bytes, Some(path))
    }

    /// Parse `rasphone.pbk` text; `path` only labels errors and becomes [`Phonebook::path`].
    pub fn parse(text: &str, path: Option<&Path>) -> Result<Phonebook, PhonebookError> {
        pbk::parse(text.as_bytes(), path)
    }

    /// Parse a `rasphone.pbk` file's bytes (which need not be UTF-8; see [`pbk`]).
    pub fn parse_bytes(bytes: &[u8], path: Option<&Path>) -> Result<Phonebook, PhonebookError> {
        pbk::parse(bytes, path)
    }

    /// The phonebook as `rasphone.pbk` text: UTF-8, CRLF line ends, `Encoding=1`.
    pub fn to_pbk_string(&self) -> Result<String, PhonebookError> {
        pbk::write(self)
    }

    /// Write the phonebook to `path` (failure → 624 ERROR_CANNOT_WRITE_PHONEBOOK), in its
    /// [`Phonebook::encoding`]: a file read as UTF-16 is written back as UTF-16.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<(), PhonebookError> {
        let path = path.as_ref();
        let bytes = self.encoding.encode(&self.to_pbk_string()?);
        std::fs::write(path, bytes).map_err(|source| PhonebookError::Write {
            path: path.to_owned(),
            source,
        })
    }
}

impl PhonebookError {
    /// The RAS error an API call reports for this failure: 621 for a file that cannot be
    /// opened, 625 for bad contents, 624 for a file (or an entry) that cannot be written.
    pub fn ras_error(&self) -> RasError {
        match self {
            PhonebookError::Open { .. } => RasError::ERROR_CANNOT_OPEN_PHONEBOOK,
            PhonebookError::Corrupt { .. } | PhonebookError::TooLarge { .. } => {
                RasError::ERROR_CORRUPT_PHONEBOOK
            }
            PhonebookError::Write { .. } | PhonebookError::Unwritable { .. } => {
                RasError::ERROR_CANNOT_WRITE_PHONEBOOK
            }
        }
    }
}
