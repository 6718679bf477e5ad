//! The `rasphone.pbk` reader and writer (ras-reference §6): the §6.5 examples, error
//! lines, round trips, and inputs that must never panic.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use ras_engine::phonebook::{
    AuthRestrictions, BandwidthKeys, CallbackMode, DEFAULT_DIAL_EXTRA, DEFAULT_HANG_UP_EXTRA,
    Device, DeviceKind, DialMode, Entry, KeyOrder, LinkDetails, NoSuchSubEntry, Phonebook,
    PhonebookError, Problem, Setting, SubEntry, SubEntryProperties, SwitchPosition, Threshold,
    Unwritable,
};
use ras_engine::ras::RasError;

/// ras-reference §6.5, "Minimal modem entry" (P3), with CRLF line ends as on Windows.
const MINIMAL: &str = "[UMTSTOOLS]\r\nEncoding=1\r\nType=1\r\nAutoLogon=0\r\nBaseProtocol=1\r\n\
LcpExtensions=1\r\n\r\nMEDIA=serial\r\nPort=COM3\r\n\r\nDEVICE=modem\r\nPhoneNumber=*99#\r\n";

/// ras-reference §6.5, entry "dd1" (S1 §4.10, abridged).
const DD1: &str = "\
[dd1]
Encoding=1
Type=1
DialMode=1
CallbackMode=0
SharedPhoneNumbers=1
PreferredPort=COM3
PreferredDevice=Compaq 56K USB External Fax Modem
PreferredBps=115200
AuthRestrictions=544
IpAssign=1
NETCOMPONENTS=
ms_msclient=0
ms_server=0
MEDIA=serial
Port=COM3
Device=Compaq 56K USB External Fax Modem
ConnectBPS=115200
DEVICE=switch
Terminal=1
DEVICE=modem
PhoneNumber=2006034
AreaCode=
CountryCode=91
CountryID=91
UseDialingRules=0
Comment=
FriendlyName=
PhoneNumber=2006035
AreaCode=
CountryCode=91
CountryID=91
UseDialingRules=0
Comment=
FriendlyName=
LastSelectedPhone=0
PromoteAlternates=0
TryNextAlternateOnFail=1
HwFlowControl=1
Protocol=1
Compression=1
Speaker=0
MdmProtocol=0
";

/// ras-reference §6.5, the illustrative multilink entry.
const BONDED: &str = "\
[Bonded ISP]
Encoding=1
Type=1
NegotiateMultilinkAlways=1
DialMode=1
SharedPhoneNumbers=0
CallbackMode=0
AuthRestrictions=552

MEDIA=serial
Port=COM1
Device=Modem A
ConnectBPS=115200

DEVICE=modem
PhoneNumber=5550100
UseDialingRules=0
TryNextAlternateOnFail=1

MEDIA=serial
Port=COM2
Device=Modem B
ConnectBPS=115200

DEVICE=modem
PhoneNumber=5550101
UseDialingRules=0
TryNextAlternateOnFail=1
";

fn parse(text: &str) -> Phonebook {
    match Phonebook::parse(text, None) {
        Ok(phonebook) => phonebook,
        Err(error) => panic!("{error}\n{text}"),
    }
}

/// The problem and line of a corrupt phonebook.
fn corrupt(text: &str) -> (usize, Problem) {
    match Phonebook::parse(text, None) {
        Err(PhonebookError::Corrupt { line, problem, .. }) => (line, problem),
        other => panic!("expected a corrupt phonebook, got {other:?}"),
    }
}

fn round_trip(phonebook: &Phonebook) -> Phonebook {
    let text = match phonebook.to_pbk_string() {
        Ok(text) => text,
        Err(error) => panic!("{error}: {phonebook:#?}"),
    };
    match Phonebook::parse(&text, None) {
        Ok(again) => again,
        Err(error) => panic!("{error}\n{text}"),
    }
}

#[test]
fn minimal_entry() {
    let phonebook = parse(MINIMAL);
    let entry = phonebook.entry("umtstools").expect("entry");
    assert_eq!(entry.name, "UMTSTOOLS");
    assert_eq!(entry.device, PathBuf::from("COM3"));
    assert_eq!(entry.device_name, "COM3", "Device= absent: the port");
    assert_eq!(entry.phone_numbers, ["*99#"]);
    assert_eq!(entry.connect_bps, 115_200);
    assert_eq!(entry.link.media, "serial");
    assert_eq!(entry.link.devices, [Device::new(DeviceKind::Modem)]);
    assert_eq!(entry.setting("type"), Some("1"));
    assert_eq!(entry.setting("LcpExtensions"), Some("1"));
    assert_eq!(entry.dial_mode, DialMode::FirstAvailable);
    assert!(entry.subentries.is_empty());
    assert_eq!(entry.link_count(), 1);
    assert_eq!(phonebook.entry_names(), ["UMTSTOOLS"]);
}

#[test]
fn dd1_entry_with_a_switch_and_an_alternate_number() {
    let phonebook = parse(DD1);
    let entry = &phonebook.entries[0];
    assert_eq!(entry.device, PathBuf::from("COM3"));
    assert_eq!(entry.device_name, "Compaq 56K USB External Fax Modem");
    assert_eq!(entry.phone_numbers, ["2006034", "2006035"]);
    assert_eq!(entry.dial_mode, DialMode::All);
    assert_eq!(entry.callback_mode, CallbackMode::NoCallback);
    assert!(entry.shared_phone_numbers);
    let auth = entry.auth_restrictions.expect("AuthRestrictions");
    assert!(auth.allows(AuthRestrictions::MD5_CHAP | AuthRestrictions::MSCHAP_V2));
    assert!(!auth.allows(AuthRestrictions::PAP));
    assert_eq!(entry.setting("IpAssign"), Some("1"));
    assert_eq!(
        entry.net_components.as_deref(),
        Some(
            &[
                Setting::new("ms_msclient", "0"),
                Setting::new("ms_server", "0")
            ][..]
        )
    );
    let kinds: Vec<_> = entry.link.devices.iter().map(|d| d.kind.clone()).collect();
    assert_eq!(kinds, [DeviceKind::Switch, DeviceKind::Modem]);
    assert_eq!(entry.link.devices[0].setting("terminal"), Some("1"));
    let modem = entry.link.dialing_device().expect("dialing device");
    assert_eq!(modem.kind, DeviceKind::Modem);
    // The keys after the last number are the modem's, not the number's.
    assert_eq!(modem.setting("TryNextAlternateOnFail"), Some("1"));
    assert_eq!(modem.setting("MdmProtocol"), Some("0"));
    assert_eq!(entry.link.number_settings.len(), 2);
    assert!(entry.link.number_settings[1].contains(&Setting::new("CountryCode", "91")));
    assert_eq!(entry.link.number_settings[1].len(), 6);
}

#[test]
fn switches_before_and_after_the_modem_mean_terminals_and_scripts() {
    // dd1's switch comes before the modem: RASEO_TerminalBeforeDial (ras-reference §6.1).
    let dd1 = &parse(DD1).entries[0];
    assert!(dd1.terminal(SwitchPosition::BeforeDial));
    assert!(!dd1.terminal(SwitchPosition::AfterDial));
    assert_eq!(dd1.dial_script(), None);
    assert!(!dd1.requires_eap());
    // A post-connect switch with a terminal and a script; EAP by AuthRestrictions.
    let text = "[Post]\r\nAuthRestrictions=128\r\nCustomAuthKey=26\r\nMEDIA=serial\r\n\
                Port=/dev/ttyS0\r\nDEVICE=modem\r\nPhoneNumber=5551234\r\n\
                DEVICE=switch\r\nTerminal=1\r\nName=login.scp\r\nScript=1\r\n";
    let post = &parse(text).entries[0];
    assert!(!post.terminal(SwitchPosition::BeforeDial));
    assert!(post.terminal(SwitchPosition::AfterDial));
    assert_eq!(post.dial_script(), Some(Path::new("login.scp")));
    assert!(post.requires_eap());
    assert_eq!(post.custom_auth_key(), Some(26));
    // `Script=0` keeps the name but runs nothing.
    let off = text.replace("Script=1", "Script=0");
    assert_eq!(parse(&off).entries[0].dial_script(), None);
}

#[test]
fn multilink_entry_has_one_subentry_per_extra_media_block() {
    let phonebook = parse(BONDED);
    let entry = phonebook.entry("Bonded ISP").expect("entry");
    assert_eq!(entry.link_count(), 2);
    assert_eq!(entry.device, PathBuf::from("COM1"));
    assert_eq!(entry.device_name, "Modem A");
    assert_eq!(entry.phone_numbers, ["5550100"]);
    let link2 = &entry.subentries[0];
    assert_eq!(link2.device, PathBuf::from("COM2"));
    assert_eq!(link2.device_name, "Modem B");
    assert_eq!(link2.phone_numbers, ["5550101"]);
    assert_eq!(link2.connect_bps, 115_200);
    assert_eq!(
        link2
            .link
            .dialing_device()
            .and_then(|d| d.setting("TryNextAlternateOnFail")),
        Some("1")
    );
    assert_eq!(
        entry.auth_restrictions,
        Some(AuthRestrictions(
            AuthRestrictions::PAP | AuthRestrictions::MD5_CHAP | AuthRestrictions::MSCHAP_V2
        ))
    );
}

#[test]
fn linux_ports_are_paths() {
    let phonebook = parse(
        "[Lab]\nMEDIA=serial\nPort=/tmp/ttyMODEM\nConnectBPS=57600\nDEVICE=MODEM\nPhoneNumber=5551234\n",
    );
    let entry = &phonebook.entries[0];
    assert_eq!(entry.device, Path::new("/tmp/ttyMODEM"));
    assert_eq!(entry.device_name, "/tmp/ttyMODEM");
    assert_eq!(entry.connect_bps, 57_600);
    assert_eq!(
        entry.link.devices[0].kind,
        DeviceKind::Modem,
        "DEVICE= type is case-insensitive"
    );
}

#[test]
fn examples_round_trip() {
    for text in [MINIMAL, DD1, BONDED] {
        let phonebook = parse(text);
        assert_eq!(round_trip(&phonebook), phonebook);
    }
    let all = parse(&format!("{MINIMAL}\n{DD1}\n{BONDED}"));
    assert_eq!(all.entries.len(), 3);
    assert_eq!(round_trip(&all), all);
}

/// Found by the `pbk_parse` fuzz target: a device key before a per-number key that comes
/// before the first `PhoneNumber=` was written after the numbers, so the device's keys came
/// back in another order.
#[test]
fn device_keys_before_the_first_number_keep_their_order() {
    let text = "[Order]\nMEDIA=serial\nPort=COM1\nDEVICE=modem\nSpeaker=0\nFriendlyName=Office\n\
                Terminal=1\nPhoneNumber=5550100\nAreaCode=020\nHwFlowControl=1\n";
    let phonebook = parse(text);
    let keys = |phonebook: &Phonebook| -> Vec<String> {
        phonebook.entries[0].link.devices[0]
            .settings
            .iter()
            .map(|setting| setting.key.clone())
            .collect()
    };
    assert_eq!(
        keys(&phonebook),
        ["Speaker", "FriendlyName", "Terminal", "HwFlowControl"]
    );
    let again = round_trip(&phonebook);
    assert_eq!(keys(&again), keys(&phonebook));
    assert_eq!(again, phonebook);
}

#[test]
fn written_text_looks_like_a_windows_phonebook() {
    let text = parse(MINIMAL).to_pbk_string().expect("writable");
    assert!(
        text.starts_with("[UMTSTOOLS]\r\nEncoding=1\r\nType=1\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\r\n\r\nMEDIA=serial\r\nPort=COM3\r\n"),
        "{text}"
    );
    assert!(
        text.contains("\r\n\r\nDEVICE=modem\r\nPhoneNumber=*99#\r\n"),
        "{text}"
    );
    assert!(!text.replace("\r\n", "").contains('\n'), "CRLF only");
}

#[test]
fn entry_made_in_code_round_trips() {
    let phonebook = Phonebook::from_entries([
        Entry::modem("One", "/dev/ttyUSB0", "5550100"),
        Entry::modem("Two", "/tmp/ttyMODEM", "5550101"),
    ]);
    assert_eq!(round_trip(&phonebook), phonebook);
}

#[test]
fn read_and_write_files() {
    let dir = std::env::temp_dir().join(format!("ras-pbk-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("rasphone.pbk");
    let phonebook = parse(DD1);
    phonebook.write(&path).expect("write");
    let again = Phonebook::read(&path).expect("read");
    assert_eq!(again.path.as_deref(), Some(path.as_path()));
    assert_eq!(again.entries, phonebook.entries);

    let missing = Phonebook::read(dir.join("missing.pbk")).expect_err("missing file");
    assert!(matches!(missing, PhonebookError::Open { .. }));
    assert_eq!(missing.ras_error(), RasError::ERROR_CANNOT_OPEN_PHONEBOOK);

    let unwritable = phonebook
        .write(dir.join("no/such/dir/x.pbk"))
        .expect_err("no dir");
    assert_eq!(
        unwritable.ras_error(),
        RasError::ERROR_CANNOT_WRITE_PHONEBOOK
    );

    std::fs::write(&path, "[A]\nMEDIA=serial\n").expect("write");
    let bad = Phonebook::read(&path).expect_err("corrupt");
    assert_eq!(bad.ras_error(), RasError::ERROR_CORRUPT_PHONEBOOK);
    let message = bad.to_string();
    assert!(message.contains("rasphone.pbk:2:1: "), "{message}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn errors_name_the_line() {
    assert!(
        matches!(corrupt("\nType=1\n"), (2, Problem::KeyOutsideEntry { key }) if key == "Type")
    );
    assert!(matches!(
        corrupt("[A]\nMEDIA=serial\nDevice=x\n"),
        (2, Problem::MediaWithoutPort)
    ));
    assert!(matches!(
        corrupt("[A]\nMEDIA=serial\nPort=COM1\nConnectBPS=fast\n"),
        (4, Problem::NotANumber { key, value }) if key == "ConnectBPS" && value == "fast"
    ));
    assert!(matches!(
        corrupt("[A]\nDialMode=7\n"),
        (2, Problem::OutOfRange { key, .. }) if key == "DialMode"
    ));
    assert!(matches!(corrupt("[A]\nType=1\n"), (1, Problem::NoMedia { name }) if name == "A"));
    assert!(matches!(
        corrupt("[A]\nDEVICE=modem\n"),
        (2, Problem::DeviceOutsideMedia)
    ));
    assert!(matches!(
        corrupt("[A]\nMEDIA=serial\nPort=COM1\nPhoneNumber=1\n"),
        (4, Problem::NumberOutsideDevice)
    ));
    assert!(matches!(
        corrupt(
            "[A]\nMEDIA=serial\nPort=COM1\nDEVICE=modem\nPhoneNumber=1\nDEVICE=isdn\nPhoneNumber=2\n"
        ),
        (7, Problem::NumbersUnderTwoDevices)
    ));
    assert!(matches!(corrupt("[A\n"), (1, Problem::UnclosedName)));
    assert!(matches!(corrupt("[]\n"), (1, Problem::EmptyName)));
    assert!(matches!(corrupt("[A]\n=1\n"), (2, Problem::EmptyKey)));
    assert!(
        matches!(corrupt("[A]\r\njunk\r\n"), (2, Problem::NotKeyValue { text }) if text == "junk")
    );
    let twice = format!("{MINIMAL}[umtstools]\n");
    assert!(matches!(
        corrupt(&twice),
        (13, Problem::DuplicateEntry { first_line: 1, .. })
    ));
    let message = Phonebook::parse("[A]\nMEDIA=x\n", Some(Path::new("/etc/x.pbk")))
        .expect_err("corrupt")
        .to_string();
    assert_eq!(
        message,
        "/etc/x.pbk:2:1: this `MEDIA=` block has no `Port=` (on Linux, the device path such as /dev/ttyUSB0)"
    );
}

#[test]
fn encoding() {
    // Encoding=0 (ANSI): a non-UTF-8 byte is read as ISO 8859-1.
    let bytes = b"[Caf\xe9]\r\nEncoding=0\r\nMEDIA=serial\r\nPort=COM1\r\n";
    let phonebook = Phonebook::parse_bytes(bytes, None).expect("latin-1");
    assert_eq!(phonebook.entries[0].name, "Café");
    // Written back as UTF-8 with Encoding=1, it reads back equal.
    assert_eq!(round_trip(&phonebook), phonebook);
    // Encoding=1 promises UTF-8.
    let bytes = b"[Caf\xe9]\r\nEncoding=1\r\nMEDIA=serial\r\nPort=COM1\r\n";
    assert!(matches!(
        Phonebook::parse_bytes(bytes, None),
        Err(PhonebookError::Corrupt {
            line: 1,
            problem: Problem::InvalidUtf8,
            ..
        })
    ));
    // A UTF-8 name, with a byte-order mark in front.
    let phonebook =
        parse("\u{feff}[宽带连接]\nEncoding=1\nMEDIA=rastapi\nPort=PPPoE4-0\nDEVICE=PPPoE\n");
    assert_eq!(phonebook.entries[0].name, "宽带连接");
    assert_eq!(phonebook.entries[0].link.devices[0].kind, DeviceKind::PPPoE);
}

#[test]
fn custom_dialer_and_its_spellings() {
    for key in [
        "CustomRasDialDll",
        "CustomRRASDialDll",
        "customrasdialdll",
        "CustomDialDll",
    ] {
        let phonebook = parse(&format!(
            "[A]\n{key}=/usr/lib/libdialer.so\nMEDIA=serial\nPort=COM1\n"
        ));
        assert_eq!(
            phonebook.entries[0].custom_dial_dll.as_deref(),
            Some(Path::new("/usr/lib/libdialer.so"))
        );
    }
    let phonebook = parse("[A]\nCustomRasDialDll=\nMEDIA=serial\nPort=COM1\n");
    assert_eq!(
        phonebook.entries[0].custom_dial_dll, None,
        "empty means none"
    );
    // Windows 10 writes every spelling, the unused ones empty (§6.2 order: CustomDialDll,
    // CustomDialFunc, CustomRasDialDll): an empty one clears nothing.
    let phonebook = parse(
        "[A]\nCustomDialDll=/opt/d.so\nCustomDialFunc=\nCustomRasDialDll=\nMEDIA=serial\nPort=COM1\n",
    );
    assert_eq!(
        phonebook.entries[0].custom_dial_dll.as_deref(),
        Some(Path::new("/opt/d.so"))
    );
}

#[test]
fn unwritable_entries_are_refused() {
    let mut entry = Entry::modem("A", "/dev/ttyS0", "1");
    entry.settings.push(Setting::new("MEDIA", "serial"));
    let error = Phonebook::from_entries([entry])
        .to_pbk_string()
        .expect_err("reserved");
    assert!(matches!(
        error,
        PhonebookError::Unwritable {
            problem: Unwritable::ReservedKey { .. },
            ..
        }
    ));
    assert_eq!(error.ras_error(), RasError::ERROR_CANNOT_WRITE_PHONEBOOK);

    let entry = Entry::modem("A", "/dev/ttyS0", "1\r\nMEDIA=x");
    assert!(matches!(
        Phonebook::from_entries([entry]).to_pbk_string(),
        Err(PhonebookError::Unwritable {
            problem: Unwritable::LineBreak { .. },
            ..
        })
    ));
    let entry = Entry::modem("A", "", "1");
    assert!(matches!(
        Phonebook::from_entries([entry]).to_pbk_string(),
        Err(PhonebookError::Unwritable {
            problem: Unwritable::EmptyPort { link: 1 },
            ..
        })
    ));
}

// ---------------------------------------------------------------------------------------
// Properties

fn text() -> impl Strategy<Value = String> {
    // No line breaks (the format cannot hold them); anything else, including `=`, `[`, `;`.
    "[^\r\n]{0,12}"
}

fn key() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9_]{0,10}"
}

/// Keys with a meaning of their own somewhere, which a plain setting cannot use.
const RESERVED: &[&str] = &[
    "NETCOMPONENTS",
    "MEDIA",
    "DEVICE",
    "PhoneNumber",
    "Encoding",
    "DialMode",
    "CallbackMode",
    "AuthRestrictions",
    "CustomRasDialDll",
    "CustomRRASDialDll",
    "SharedPhoneNumbers",
    "DialPercent",
    "DialSeconds",
    "HangUpPercent",
    "HangUpSeconds",
    "Port",
    "Device",
    "ConnectBPS",
    "AreaCode",
    "CountryCode",
    "CountryID",
    "UseDialingRules",
    "Comment",
    "FriendlyName",
];

/// Where the per-number keys start in [`RESERVED`].
const NUMBER_KEYS: usize = 18;

fn settings() -> impl Strategy<Value = Vec<Setting>> {
    prop::collection::vec(
        (key(), text())
            .prop_filter("reserved", |(k, _)| {
                !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(k))
            })
            .prop_map(|(k, v)| Setting::new(k, v)),
        0..4,
    )
}

fn number_settings() -> impl Strategy<Value = Vec<Setting>> {
    prop::collection::vec(
        (prop::sample::select(&RESERVED[NUMBER_KEYS..]), text())
            .prop_map(|(k, v)| Setting::new(k, v)),
        0..3,
    )
}

fn device_kind() -> impl Strategy<Value = DeviceKind> {
    prop_oneof![
        Just(DeviceKind::Modem),
        Just(DeviceKind::Switch),
        Just(DeviceKind::Isdn),
        Just(DeviceKind::PPPoE),
        "[a-z]{1,6}".prop_map(|name| DeviceKind::parse(&name)),
    ]
}

prop_compose! {
    fn link()(
        port in "[^\r\n]{1,16}",
        device_name in "[^\r\n]{1,16}",
        connect_bps in any::<u32>(),
        media in "[a-z]{0,8}",
        media_settings in settings(),
        devices in prop::collection::vec(
            (device_kind(), settings()).prop_map(|(kind, settings)| Device { kind, settings }),
            1..4,
        ),
        numbers in prop::collection::vec(("[^\r\n]{0,12}", number_settings()), 0..3),
        dialing in any::<prop::sample::Index>(),
    ) -> SubEntry {
        let dialing_device = (!numbers.is_empty()).then(|| dialing.index(devices.len()));
        let (phone_numbers, mut number_settings): (Vec<String>, Vec<Vec<Setting>>) =
            numbers.into_iter().unzip();
        while number_settings.last().is_some_and(Vec::is_empty) {
            number_settings.pop();
        }
        SubEntry {
            device: PathBuf::from(port),
            device_name,
            phone_numbers,
            connect_bps,
            link: LinkDetails { media, settings: media_settings, devices, dialing_device, number_settings },
        }
    }
}

prop_compose! {
    fn bandwidth_keys()(
        dial_percent in prop::option::of(0..=100u32),
        dial_seconds in prop::option::of(0..=3600u32),
        hang_up_percent in prop::option::of(0..=100u32),
        hang_up_seconds in prop::option::of(0..=3600u32),
    ) -> BandwidthKeys {
        BandwidthKeys { dial_percent, dial_seconds, hang_up_percent, hang_up_seconds }
    }
}

prop_compose! {
    fn entry()(
        name in "[^\r\n]{1,16}",
        first in link(),
        subentries in prop::collection::vec(link(), 0..3),
        dial_mode in prop_oneof![Just(DialMode::FirstAvailable), Just(DialMode::All), Just(DialMode::AsNeeded)],
        bandwidth in bandwidth_keys(),
        callback_mode in prop_oneof![Just(CallbackMode::NoCallback), Just(CallbackMode::Optional), Just(CallbackMode::Negotiated)],
        auth in prop::option::of(any::<u32>()),
        custom in prop::option::of("/[a-z/]{1,12}\\.so"),
        shared in any::<bool>(),
        entry_settings in settings(),
        net_components in prop::option::of(settings()),
    ) -> Entry {
        Entry {
            name,
            device: first.device,
            device_name: first.device_name,
            phone_numbers: first.phone_numbers,
            connect_bps: first.connect_bps,
            link: first.link,
            subentries,
            dial_mode,
            bandwidth,
            callback_mode,
            auth_restrictions: auth.map(AuthRestrictions),
            custom_dial_dll: custom.map(PathBuf::from),
            shared_phone_numbers: shared,
            settings: entry_settings,
            net_components,
            key_order: KeyOrder::default(),
        }
    }
}

fn phonebook() -> impl Strategy<Value = Phonebook> {
    prop::collection::vec(entry(), 0..4).prop_map(|mut entries| {
        // Names are unique, case-insensitively.
        let mut seen = std::collections::HashSet::new();
        entries.retain(|e| seen.insert(e.name.to_ascii_lowercase()));
        Phonebook::from_entries(entries)
    })
}

/// Text that looks like a phonebook, so the parser gets past the first line.
fn pbk_like_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        Just(String::new()),
        "\\[[^\r\n]{0,8}\\]?",
        (
            prop::sample::select(vec![
                "MEDIA",
                "DEVICE",
                "PhoneNumber",
                "Port",
                "Device",
                "NETCOMPONENTS",
                "DialMode",
                "DialPercent",
                "HangUpSeconds",
                "CallbackMode",
                "SharedPhoneNumbers",
                "ConnectBPS",
                "Encoding",
                "AreaCode",
                "AuthRestrictions",
                "x",
            ]),
            "[0-9a-z=\\[\\]; ]{0,6}",
        )
            .prop_map(|(k, v)| format!("{k}={v}")),
        "[^\n]{0,10}",
    ];
    (
        any::<bool>(),
        prop::collection::vec(line, 0..24),
        prop::sample::select(vec!["\n", "\r\n"]),
    )
        .prop_map(|(valid_start, mut lines, end)| {
            if valid_start {
                // Often enough a phonebook that parses, to exercise the round trip below.
                let start = ["[E]", "MEDIA=serial", "Port=COM1", "DEVICE=modem"];
                lines.splice(0..0, start.map(String::from));
            }
            lines.join(end)
        })
}

proptest! {
    #[test]
    fn generated_phonebooks_round_trip(phonebook in phonebook()) {
        prop_assert_eq!(round_trip(&phonebook), phonebook);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Phonebook::parse_bytes(&bytes, None);
    }

    #[test]
    fn random_text_never_panics(text in pbk_like_text()) {
        // Whatever parses also writes (or is refused) and reads back the same.
        if let Ok(phonebook) = Phonebook::parse(&text, None)
            && let Ok(written) = phonebook.to_pbk_string()
        {
            let again = Phonebook::parse(&written, None);
            prop_assert_eq!(again.ok(), Some(phonebook));
        }
    }
}

/// The entry's callback setting (ras-reference §6: `CallbackMode=` 0, 1 or 2, an
/// entry-level key before `MEDIA=`) reads and writes back, and a value outside it is a
/// corrupt phonebook.
#[test]
fn callback_mode_reads_and_writes_back() {
    for (value, mode) in [
        ("0", CallbackMode::NoCallback),
        ("1", CallbackMode::Optional),
        ("2", CallbackMode::Negotiated),
    ] {
        let text = format!(
            "[Lab ISP]\r\nCallbackMode={value}\r\nMEDIA=serial\r\nPort=/dev/ttyS0\r\nDEVICE=modem\r\nPhoneNumber=5551234\r\n"
        );
        let phonebook = parse(&text);
        let entry = phonebook.entry("Lab ISP").expect("the entry");
        assert_eq!(entry.callback_mode, mode, "CallbackMode={value}");
        let again = round_trip(&phonebook);
        assert_eq!(
            again.entry("Lab ISP").expect("the entry").callback_mode,
            mode
        );
        let written = phonebook.to_pbk_string().expect("writes");
        assert!(
            written.contains(&format!("CallbackMode={value}\r\n")),
            "{written}"
        );
    }
    corrupt("[Lab ISP]\r\nCallbackMode=3\r\nMEDIA=serial\r\n");
}

/// A scratch folder for this test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pbk-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Issue 16 #8: an endless or huge file is refused after MAX_PHONEBOOK_BYTES (it used to
/// grow to gigabytes), as 625.
#[test]
fn a_file_larger_than_the_cap_is_refused_without_reading_it_all() {
    use ras_engine::phonebook::MAX_PHONEBOOK_BYTES;
    let error = Phonebook::read("/dev/zero").expect_err("not a phonebook");
    assert!(
        matches!(error, PhonebookError::TooLarge { .. }),
        "{error:?}"
    );
    assert_eq!(error.ras_error(), RasError::ERROR_CORRUPT_PHONEBOOK);
    assert!(error.to_string().contains("1024 KiB"), "{error}");

    let dir = scratch("cap");
    let at_limit = dir.join("at-limit.pbk");
    let mut text = MINIMAL.to_owned();
    text.push_str(&";".repeat(MAX_PHONEBOOK_BYTES - text.len()));
    std::fs::write(&at_limit, &text).expect("write");
    assert!(Phonebook::read(&at_limit).is_ok());
    text.push(';');
    std::fs::write(&at_limit, &text).expect("write");
    assert!(matches!(
        Phonebook::read(&at_limit),
        Err(PhonebookError::TooLarge { .. })
    ));
}

/// Issue 16 #8: a message quotes at most QUOTE_MAX characters of the file and escapes
/// control characters, so neither a huge line nor a terminal escape sequence reaches the
/// user's terminal.
#[test]
fn messages_cut_long_quotes_and_escape_control_characters() {
    let long = format!("[A]\n{}\n", "x".repeat(100_000));
    let message = Phonebook::parse(&long, None)
        .expect_err("not key=value")
        .to_string();
    assert!(message.len() < 200, "{} bytes", message.len());
    assert!(
        message.contains(&format!("{}…", "x".repeat(60))),
        "{message}"
    );

    let hostile = "[A]\n\u{1b}]0;pwned\u{7}\n";
    let message = Phonebook::parse(hostile, None)
        .expect_err("not key=value")
        .to_string();
    assert!(!message.chars().any(char::is_control), "{message:?}");
    assert!(message.contains("\\u{1b}]0;pwned\\u{7}"), "{message}");

    let (_, problem) = corrupt("[A]\nMEDIA=serial\nPort=/dev/ttyS0\nConnectBPS=\u{1b}[2J\n");
    assert!(
        !problem.to_string().chars().any(char::is_control),
        "{problem}"
    );
}

/// Issue 16 #9: UTF-16 phonebooks with a byte-order mark (as some Windows versions write
/// rasphone.pbk), and UTF-8 with one, read like UTF-8 ones and are written back in the
/// encoding they came in.
#[test]
fn byte_order_marks_choose_the_encoding_and_writing_keeps_it() {
    use ras_engine::phonebook::FileEncoding;
    let text =
        "[Büro ☎]\r\nMEDIA=serial\r\nPort=/dev/ttyS0\r\nDEVICE=modem\r\nPhoneNumber=5551234\r\n";
    let utf16 = |to: fn(u16) -> [u8; 2]| -> Vec<u8> { text.encode_utf16().flat_map(to).collect() };
    let cases = [
        (FileEncoding::Utf8, text.as_bytes().to_vec()),
        (
            FileEncoding::Utf8Bom,
            [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
        ),
        (
            FileEncoding::Utf16Le,
            [vec![0xFF, 0xFE], utf16(u16::to_le_bytes)].concat(),
        ),
        (
            FileEncoding::Utf16Be,
            [vec![0xFE, 0xFF], utf16(u16::to_be_bytes)].concat(),
        ),
    ];
    let dir = scratch("encodings");
    for (encoding, bytes) in cases {
        let path = dir.join(format!("{encoding:?}.pbk"));
        std::fs::write(&path, &bytes).expect("write");
        let phonebook = Phonebook::read(&path).unwrap_or_else(|e| panic!("{encoding:?}: {e}"));
        assert_eq!(phonebook.encoding, encoding);
        let entry = phonebook.entry("Büro ☎").expect("the entry");
        assert_eq!(entry.phone_numbers, ["5551234"]);
        phonebook.write(&path).expect("write back");
        let written = std::fs::read(&path).expect("read back");
        let again = Phonebook::read(&path).expect("parse back");
        assert_eq!(again.encoding, encoding, "{encoding:?}");
        assert_eq!(again.entries, phonebook.entries, "{encoding:?}");
        assert_eq!(written[..2], bytes[..2], "{encoding:?}: the same mark");
    }
}

#[test]
fn broken_utf16_is_corrupt_with_its_line() {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(
        "[A]\nMEDIA=serial\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes),
    );
    bytes.extend([0x00, 0xD8, b'x', 0]); // an unpaired high surrogate
    match Phonebook::parse_bytes(&bytes, None) {
        Err(PhonebookError::Corrupt { line, problem, .. }) => {
            assert_eq!((line, problem), (3, Problem::InvalidUtf16));
        }
        other => panic!("{other:?}"),
    }
    let odd = [0xFF, 0xFE, b'[', 0, b'A'];
    assert!(matches!(
        Phonebook::parse_bytes(&odd, None),
        Err(PhonebookError::Corrupt {
            problem: Problem::InvalidUtf16,
            ..
        })
    ));
}

/// Issue 16 #12: every phonebook message names the file, the line and the column, and the
/// rule in the file's terms.
#[test]
fn phonebook_messages() {
    let cases = [
        ("key before any entry", "Port=COM1\n"),
        ("not key=value", "[A]\njunk\n"),
        ("no key", "[A]\n=x\n"),
        ("unclosed name", "[A\n"),
        ("empty name", "[]\n"),
        ("entry twice", "[A]\nMEDIA=serial\nPort=COM1\n[a]\n"),
        ("no MEDIA", "[A]\nType=1\n"),
        ("MEDIA without Port", "[A]\nMEDIA=serial\n"),
        ("DEVICE before MEDIA", "[A]\nDEVICE=modem\n"),
        (
            "number before DEVICE",
            "[A]\nMEDIA=serial\nPort=COM1\nPhoneNumber=1\n",
        ),
        (
            "not a number",
            "[A]\nMEDIA=serial\nPort=COM1\nConnectBPS=fast\n",
        ),
        ("out of range", "[A]\nDialMode=7\nMEDIA=serial\nPort=COM1\n"),
        ("control characters", "[A]\n\u{1b}]0;title\u{7}\n"),
    ];
    let file = Path::new("/home/user/.config/ras/rasphone.pbk");
    let report: String = cases
        .iter()
        .map(|(what, text)| match Phonebook::parse(text, Some(file)) {
            Ok(phonebook) => panic!("{what}: accepted {phonebook:?}"),
            Err(error) => format!("{what}:\n  {error}\n"),
        })
        .collect();
    insta::assert_snapshot!(report);
}

// ---------------------------------------------------------------------------------------
// Multilink (issue 11): subentries, dial mode, dial-as-needed keys

/// ras-reference §6.5's multilink example with Windows' CRLF line ends.
fn bonded_crlf() -> String {
    BONDED.replace('\n', "\r\n")
}

/// The §6.5 multilink example is written back byte for byte: the typed keys keep the
/// file's order (`SharedPhoneNumbers=` before `CallbackMode=`, which S1's order has the
/// other way round), blank lines stand before every subsection as there.
#[test]
fn multilink_example_round_trips_byte_for_byte() {
    let text = bonded_crlf();
    let phonebook = parse(&text);
    assert_eq!(phonebook.to_pbk_string().expect("writable"), text);
    // And the one built in code from its parts writes the same but for the key order.
    let entry = &phonebook.entries[0];
    let mut rebuilt = entry.clone();
    rebuilt.key_order = KeyOrder::default();
    let written = Phonebook::from_entries([rebuilt.clone()])
        .to_pbk_string()
        .expect("writable");
    assert!(
        written.contains("DialMode=1\r\nCallbackMode=0\r\nSharedPhoneNumbers=0\r\n"),
        "S1 order without a file's: {written}"
    );
    assert_eq!(
        round_trip(&Phonebook::from_entries([rebuilt.clone()])).entries[0],
        rebuilt
    );
}

#[test]
fn dial_mode_and_subentries_of_the_multilink_example() {
    let phonebook = parse(BONDED);
    let entry = &phonebook.entries[0];
    assert_eq!(entry.dial_mode, DialMode::All);
    assert_eq!(entry.dial_mode as u32, 1, "RASEDM_DialAll");
    assert_eq!(DialMode::AsNeeded as u32, 2, "RASEDM_DialAsNeeded");
    assert!(!entry.shared_phone_numbers);
    assert_eq!(entry.subentry_properties(0), None, "dwSubEntry is 1-based");
    assert_eq!(entry.subentry_properties(3), None);
    let link = |k| entry.subentry_properties(k).expect("link");
    assert_eq!(
        link(1),
        SubEntryProperties {
            device_type: DeviceKind::Modem,
            device_name: "Modem A".into(),
            local_phone_number: "5550100".into(),
            alternate_numbers: vec![],
            port: "COM1".into(),
            connect_bps: 115_200,
        }
    );
    assert_eq!(link(2).device_name, "Modem B");
    assert_eq!(link(2).port, Path::new("COM2"));
    assert_eq!(link(2).phone_numbers(), ["5550101"]);
}

#[test]
fn shared_phone_numbers_give_every_link_the_entrys_numbers() {
    let text = BONDED.replace("SharedPhoneNumbers=0", "SharedPhoneNumbers=1");
    let entry = parse(&text).entries.remove(0);
    assert!(entry.shared_phone_numbers);
    let second = entry.subentry_properties(2).expect("link 2");
    assert_eq!(second.local_phone_number, "5550100");
    assert_eq!(
        second.port,
        Path::new("COM2"),
        "the port stays the link's own"
    );
}

#[test]
fn dial_as_needed_keys_read_write_and_default() {
    let text = "[Grow]\nDialMode=2\nDialPercent=60\nDialSeconds=30\nHangUpPercent=20\n\
                HangUpSeconds=3600\nMEDIA=serial\nPort=COM1\nDEVICE=modem\nPhoneNumber=1\n\
                MEDIA=serial\nPort=COM2\nDEVICE=modem\nPhoneNumber=2\n";
    let phonebook = parse(text);
    let entry = &phonebook.entries[0];
    assert_eq!(entry.dial_mode, DialMode::AsNeeded);
    assert_eq!(
        entry.bandwidth,
        BandwidthKeys {
            dial_percent: Some(60),
            dial_seconds: Some(30),
            hang_up_percent: Some(20),
            hang_up_seconds: Some(3600),
        }
    );
    assert_eq!(
        entry.dial_extra(),
        Threshold {
            percent: 60,
            seconds: 30
        }
    );
    assert_eq!(
        entry.hang_up_extra(),
        Threshold {
            percent: 20,
            seconds: 3600
        }
    );
    assert_eq!(round_trip(&phonebook), phonebook);
    let written = phonebook.to_pbk_string().expect("writable");
    assert!(
        written.contains(
            "DialMode=2\r\nDialPercent=60\r\nDialSeconds=30\r\nHangUpPercent=20\r\nHangUpSeconds=3600\r\n"
        ),
        "{written}"
    );

    // Keys left out (or empty) take the [inferred] defaults and are not written.
    let bare = parse("[Bare]\nDialMode=2\nDialPercent=\nMEDIA=serial\nPort=COM1\n");
    let entry = &bare.entries[0];
    assert_eq!(entry.bandwidth, BandwidthKeys::default());
    assert_eq!(entry.dial_extra(), DEFAULT_DIAL_EXTRA);
    assert_eq!(entry.hang_up_extra(), DEFAULT_HANG_UP_EXTRA);
    assert!(!bare.to_pbk_string().expect("writable").contains("Percent"));

    // §6.2's ranges: percent 0–100, seconds 0–3600.
    for (key, bad) in [
        ("DialPercent", "101"),
        ("DialSeconds", "3601"),
        ("HangUpPercent", "250"),
        ("HangUpSeconds", "99999"),
    ] {
        let text = format!("[Bad]\n{key}={bad}\nMEDIA=serial\nPort=COM1\n");
        let (line, problem) = corrupt(&text);
        assert_eq!(line, 2, "{key}");
        assert!(
            matches!(problem, Problem::OutOfRange { key: ref k, .. } if k == key),
            "{problem:?}"
        );
    }
    assert!(matches!(
        corrupt("[Bad]\nDialPercent=most\nMEDIA=serial\nPort=COM1\n").1,
        Problem::NotANumber { .. }
    ));

    // What the reader would refuse, the writer refuses too.
    let mut entry = Entry::modem("Too much", "/dev/ttyS0", "1");
    entry.bandwidth.hang_up_seconds = Some(3601);
    assert!(matches!(
        Phonebook::from_entries([entry]).to_pbk_string(),
        Err(PhonebookError::Unwritable {
            problem: Unwritable::OutOfRange {
                key: "HangUpSeconds",
                value: 3601,
                ..
            },
            ..
        })
    ));
}

#[test]
fn subentry_properties_set_and_add_links() {
    let mut entry = parse(BONDED).entries.remove(0);
    let third = SubEntryProperties {
        device_type: DeviceKind::Isdn,
        device_name: "Modem C".into(),
        local_phone_number: "5550102".into(),
        alternate_numbers: vec!["5550103".into()],
        port: "/dev/ttyUSB2".into(),
        connect_bps: 57_600,
    };
    assert_eq!(
        entry.set_subentry_properties(4, third.clone()),
        Err(NoSuchSubEntry { index: 4, links: 2 })
    );
    assert_eq!(
        entry.set_subentry_properties(0, third.clone()),
        Err(NoSuchSubEntry { index: 0, links: 2 })
    );
    entry
        .set_subentry_properties(3, third.clone())
        .expect("link 3 is added");
    assert_eq!(entry.link_count(), 3);
    assert_eq!(entry.subentry_properties(3), Some(third.clone()));

    // Changing link 2 keeps its other keys (TryNextAlternateOnFail=1 under its modem).
    let mut second = entry.subentry_properties(2).expect("link 2");
    second.local_phone_number = "5550199".into();
    second.alternate_numbers = vec!["5550198".into()];
    entry
        .set_subentry_properties(2, second.clone())
        .expect("link 2 exists");
    assert_eq!(entry.subentry_properties(2), Some(second));
    assert_eq!(
        entry.subentries[0]
            .link
            .dialing_device()
            .and_then(|d| d.setting("TryNextAlternateOnFail")),
        Some("1")
    );

    let phonebook = Phonebook::from_entries([entry]);
    let again = round_trip(&phonebook);
    assert_eq!(again, phonebook);
    assert_eq!(again.entries[0].subentry_properties(3), Some(third));
}

/// One entry-level line of [`canonical_multilink_text`]: a typed key with a value it
/// writes back the same, or a plain setting.
fn entry_line() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        (0..=2u32).prop_map(|n| ("DialMode".into(), n.to_string())),
        (0..=100u32).prop_map(|n| ("DialPercent".into(), n.to_string())),
        (0..=3600u32).prop_map(|n| ("DialSeconds".into(), n.to_string())),
        (0..=100u32).prop_map(|n| ("HangUpPercent".into(), n.to_string())),
        (0..=3600u32).prop_map(|n| ("HangUpSeconds".into(), n.to_string())),
        (0..=2u32).prop_map(|n| ("CallbackMode".into(), n.to_string())),
        (0..=1u32).prop_map(|n| ("SharedPhoneNumbers".into(), n.to_string())),
        any::<u32>().prop_map(|n| ("AuthRestrictions".into(), n.to_string())),
        "/[a-z]{1,8}\\.so".prop_map(|dll| ("CustomRasDialDll".into(), dll)),
        (key(), text()).prop_filter_map("reserved", |(k, v)| {
            (!RESERVED.iter().any(|r| r.eq_ignore_ascii_case(&k))).then_some((k, v))
        }),
    ]
}

/// A multilink entry as the writer lays one out (`Encoding=1` first, CRLF, a blank line
/// before every subsection), with its entry-level keys in any order and each typed key
/// at most once, as a real file has them.
fn canonical_multilink_text() -> impl Strategy<Value = String> {
    (
        "[A-Za-z][A-Za-z0-9 ]{0,10}",
        prop::collection::vec(entry_line(), 0..12),
        prop::collection::vec(("[A-Za-z0-9/]{1,10}", "[0-9]{1,8}"), 2..5),
    )
        .prop_map(|(name, lines, links)| {
            let mut text = format!("[{name}]\r\nEncoding=1\r\n");
            let mut typed = std::collections::HashSet::new();
            for (key, value) in lines {
                let is_typed = RESERVED.contains(&key.as_str()) || key == "CustomRasDialDll";
                if !is_typed || typed.insert(key.clone()) {
                    text.push_str(&format!("{key}={value}\r\n"));
                }
            }
            // The typed keys a file leaves out are written after everything else, in
            // S1's order; the generated file has them all so that it reads back as is.
            for key in ["DialMode", "CallbackMode", "SharedPhoneNumbers"] {
                if !typed.contains(key) {
                    text.push_str(&format!("{key}=0\r\n"));
                }
            }
            for (port, number) in links {
                text.push_str(&format!(
                    "\r\nMEDIA=serial\r\nPort={port}\r\nDevice={port}\r\nConnectBPS=115200\r\n\
                     \r\nDEVICE=modem\r\nPhoneNumber={number}\r\n"
                ));
            }
            text
        })
}

proptest! {
    /// Random multilink entries (2–4 links, any dial mode and thresholds) round-trip, and
    /// every link's RASSUBENTRY survives.
    #[test]
    fn random_multilink_entries_round_trip(
        mut entry in entry(),
        extra in prop::collection::vec(link(), 1..3),
    ) {
        entry.subentries.extend(extra);
        let phonebook = Phonebook::from_entries([entry]);
        let again = round_trip(&phonebook);
        prop_assert_eq!(&again, &phonebook);
        let (before, after) = (&phonebook.entries[0], &again.entries[0]);
        prop_assert!(before.link_count() >= 2);
        for k in 1..=before.link_count() {
            prop_assert_eq!(before.subentry_properties(k), after.subentry_properties(k));
        }
    }

    /// A file laid out as the writer does comes back byte for byte, whatever the order of
    /// its entry-level keys.
    #[test]
    fn multilink_files_round_trip_byte_for_byte(text in canonical_multilink_text()) {
        let phonebook = parse(&text);
        prop_assert_eq!(phonebook.to_pbk_string().expect("writable"), text);
        prop_assert_eq!(round_trip(&phonebook), phonebook);
    }
}
