//! `include/ras.h` and `raserror.h` as a C compiler reads them, against the engine's
//! tables and the Rust mirror of the structures: every error code and state by name and
//! value, the RDEOPT flags the engine implements, and every structure's size and field
//! offsets. The header also compiles cleanly with `-Wall -Wextra -Werror -pedantic`.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::mem::{offset_of, size_of};
use std::process::Command;

use ras::abi::{RASCONNA, RASCONNSTATUSA, RASDIALEXTENSIONS, RASDIALPARAMSA, RASENTRYNAMEA};
use ras_engine::api::{WM_RASDIALEVENT, rdeopt};
use ras_engine::ras::{RASBASE, RASBASEEND, RasConnState, RasError};

/// `(name as C spells it, value Rust expects)` for every number the header declares that
/// Rust also knows.
fn expected() -> Vec<(String, u64)> {
    let mut names: Vec<(String, u64)> = Vec::new();
    for code in RASBASE..=RASBASEEND {
        let error = RasError::from_code(code);
        let symbol = error.symbol().expect("every RAS code has a symbol");
        names.push((symbol.to_owned(), u64::from(code)));
    }
    for (name, error) in [
        ("ERROR_INVALID_HANDLE", RasError::ERROR_INVALID_HANDLE),
        ("ERROR_INVALID_PARAMETER", RasError::ERROR_INVALID_PARAMETER),
        (
            "ERROR_INSUFFICIENT_BUFFER",
            RasError::ERROR_INSUFFICIENT_BUFFER,
        ),
    ] {
        names.push((name.to_owned(), u64::from(error.code())));
    }
    names.push(("RASBASEEND".to_owned(), u64::from(RASBASEEND)));
    for state in RasConnState::ALL {
        names.push((format!("RASCS_{}", state.name()), u64::from(state.value())));
    }
    for (name, flag) in [
        ("RDEOPT_UsePrefixSuffix", rdeopt::USE_PREFIX_SUFFIX),
        ("RDEOPT_PausedStates", rdeopt::PAUSED_STATES),
        ("RDEOPT_CustomDial", rdeopt::CUSTOM_DIAL),
    ] {
        names.push((name.to_owned(), u64::from(flag)));
    }
    names.push(("WM_RASDIALEVENT".to_owned(), u64::from(WM_RASDIALEVENT)));
    macro_rules! layout {
        ($ty:ident: $($field:ident),*) => {
            names.push((format!("sizeof({})", stringify!($ty)), size_of::<$ty>() as u64));
            $(names.push((
                format!("offsetof({}, {})", stringify!($ty), stringify!($field)),
                offset_of!($ty, $field) as u64,
            ));)*
        };
    }
    layout!(RASDIALPARAMSA: szEntryName, szPhoneNumber, szCallbackNumber, szUserName,
        szPassword, szDomain, dwSubEntry, dwCallbackId, dwIfIndex, szEncPassword);
    layout!(RASDIALEXTENSIONS: dwfOptions, hwndParent, reserved, reserved1, RasEapInfo,
        fSkipPppAuth, RasDevSpecificInfo);
    layout!(RASCONNSTATUSA: rasconnstate, dwError, szDeviceType, szDeviceName,
        szPhoneNumber, localEndPoint, remoteEndPoint, rasconnsubstate);
    layout!(RASCONNA: hrasconn, szEntryName, szDeviceType, szDeviceName, szPhonebook,
        dwSubEntry, guidEntry, dwFlags, luid, guidCorrelationId);
    layout!(RASENTRYNAMEA: szEntryName, dwFlags, szPhonebookPath);
    names
}

#[test]
fn the_header_declares_what_the_engine_implements() {
    let Some(cc) = common::compiler() else { return };
    let expected = expected();
    let mut program = String::from(
        "#include <stdio.h>\n#include <stddef.h>\n#include \"ras.h\"\nint main(void) {\n",
    );
    for (name, _) in &expected {
        // A name the header lacks fails the compile, and says which.
        let _ = writeln!(
            program,
            "    printf(\"%s=%llu\\n\", \"{}\", (unsigned long long)({name}));",
            name.replace('"', "\\\"")
        );
    }
    program.push_str("    return 0;\n}\n");
    let dir = common::scratch("header");
    let source = dir.join("constants.c");
    std::fs::write(&source, program).expect("write the program");
    let exe = dir.join("constants");
    common::compile(
        &cc,
        &[source],
        &["-pedantic"],
        common::Output::Program(&exe),
    );
    let output = Command::new(&exe).output().expect("run it");
    assert!(output.status.success());
    let seen: BTreeMap<String, u64> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let (name, value) = line.rsplit_once('=')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect();
    let wrong: Vec<String> = expected
        .iter()
        .filter(|(name, value)| seen.get(name) != Some(value))
        .map(|(name, value)| format!("{name}: header {:?}, Rust {value}", seen.get(name)))
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let _ = std::fs::remove_dir_all(dir);
}
