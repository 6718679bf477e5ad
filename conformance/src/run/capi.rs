//! The C API dial path (`dial: {api: c}`): the application calls `RasDialA` of ras-capi
//! with a C notifier of the scenario's kind, as a C program does, and RAS hands a
//! custom-dial entry to its dialer (ras-reference §4.5 rule 29). The dialers are
//! ras-capi's examples, loaded into this process; the ones that dial through RAS call
//! this process's `RasDialA` back (build.rs exports it), with `RDEOPT_CustomDial`.
//!
//! Everything after the dial (status, hang-up, resume) goes through the scenario's `Ras`
//! directly: the C API only adds the way in. Its notifications come back through the C
//! functions here into the scenario's recording [`Notifier`], so the application's
//! script and records are the same as for a dial through the Rust API.
//!
//! One engine at a time: the C API has one engine per process, and a `RASDIALFUNC` gets
//! no pointer of the application's to tell dials apart. So a [`Session`] lends the
//! scenario's engine to the C API (`ras::lend`) and keeps the notifier in one slot for
//! the whole dial, until the application has hung up and the port is released; sessions
//! in parallel (`conformance run --jobs`, the test threads, the two drivers) wait for
//! their turn at `ras::lend`. Only single-dial scenarios take this path (scenario.rs
//! refuses `api: c` with a `program`), so a session has one dial.

// The C boundary: RasDialA takes raw pointers, and the notifiers are `extern "C"`
// functions that RAS (or a custom dialer) calls with them.
#![allow(unsafe_code)]

use std::ffi::{CString, c_char, c_void};
use std::os::unix::ffi::OsStrExt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use ras::abi::{
    DWORD, HRASCONN, HWND, LPARAM, LRESULT, RASCONNSTATE, RASDIALEXTENSIONS, RASDIALPARAMSA,
    RASWINDOW, UINT, ULONG_PTR, WPARAM, notifier_type,
};
use ras_engine::api::{
    DialError, DialExtensions, DialParams, HRasConn, Notifier, NotifyControl, Ras, WindowMessage,
};
use ras_engine::phonebook::Phonebook;
use ras_engine::ras::{RasConnState, RasError};

use crate::scenario::Scenario;

/// ras-capi's example C dialers, by the name a scenario gives them and the file
/// conformance's build script compiles each to (in `CONFORMANCE_DIALERS`).
const C_DIALERS: [(&str, &str); 2] = [
    // Runs a pre-dial step, then dials through RAS and forwards every notification.
    ("c-predial", "libpredial_dialer.so"),
    // Exports a misspelt entry point: 755 ERROR_CANNOT_DO_CUSTOMDIAL.
    ("no-entry-point", "libno_entry_point.so"),
];
/// Dials for a named user, refuses a nameless dial with its own 649: ras-capi's
/// example, as ras-capi builds it or as conformance builds it again for its own tests
/// (Cargo.toml).
const RUST_DIALER: (&str, [&str; 2]) = (
    "rust-dialer",
    ["librust_dialer.so", "libscenario_rust_dialer.so"],
);

/// The file of the custom dialer `name` (an example's name, or a path relative to the
/// scenario's folder).
pub(super) fn dialer_path(scenario: &Scenario, name: &str) -> Result<PathBuf, String> {
    if let Some(&(_, file)) = C_DIALERS.iter().find(|(known, _)| *known == name) {
        let path = Path::new(env!("CONFORMANCE_DIALERS")).join(file);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "the example C dialer `{name}` was not built ({} is missing): conformance's \
                 build script needs a C compiler (see its warning)",
                path.display()
            ))
        };
    }
    if name == RUST_DIALER.0 {
        return rust_dialer();
    }
    // "./x.so", not "x.so": a bare name would send the loader searching the system.
    let folder = scenario
        .path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    Ok(folder.join(name))
}

/// Whether `name` is one of the example C dialers and the build script did not build it.
pub(super) fn unbuilt_c_dialer(name: &str) -> bool {
    C_DIALERS.iter().any(|&(known, file)| {
        known == name && !Path::new(env!("CONFORMANCE_DIALERS")).join(file).is_file()
    })
}

/// The Rust example dialer, in `target/PROFILE/examples` next to this binary
/// (`target/PROFILE/conformance`) or to the test (`target/PROFILE/deps/…`).
fn rust_dialer() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    exe.ancestors()
        .skip(1)
        .take(2)
        .flat_map(|dir| RUST_DIALER.1.map(|file| dir.join("examples").join(file)))
        .find(|path| path.is_file())
        .ok_or_else(|| {
            format!(
                "the example Rust dialer ({}) is not built next to {}: run `cargo build -p \
                 ras-capi --example rust_dialer` (`cargo test` builds it)",
                RUST_DIALER.1[0],
                exe.display()
            )
        })
}

/// The scenario's notifier while its dial goes on, for the C functions below.
static NOTIFIER: Mutex<Option<Notifier>> = Mutex::new(None);

fn notifier() -> MutexGuard<'static, Option<Notifier>> {
    // Each update is one assignment: a panic elsewhere leaves it consistent.
    NOTIFIER.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The application's side of one dial through the C API: the engine lent to it, the
/// phonebook written where `RasDialA` can read it, and the window its messages go to.
pub(super) struct Session {
    phonebook: PhonebookFile,
    /// The Linux stand-in for the application's window (notifier type 0xFFFFFFFF).
    window: Box<RASWINDOW>,
    /// Dropped last: the next session starts once this one has cleaned up.
    _loan: ras::Loan,
}

impl Session {
    /// Lend `ras` to the C API (waiting for the session before to end) and write
    /// `phonebook` to a file for it.
    pub(super) fn open(ras: &Ras, phonebook: &Phonebook) -> Result<Self, String> {
        let loan = ras::lend(ras.clone());
        Ok(Session {
            phonebook: PhonebookFile::write(phonebook)?,
            window: Box::new(RASWINDOW {
                lpfnWndProc: Some(window_procedure),
                lpContext: std::ptr::null_mut(),
            }),
            _loan: loan,
        })
    }

    /// `RasDialA` with the scenario's extensions and parameters and, for an asynchronous
    /// dial, the C notifier of `notifier`'s kind, which hands each call to `notifier`.
    pub(super) fn dial(
        &self,
        extensions: &DialExtensions,
        params: &DialParams,
        recording: Option<Notifier>,
    ) -> Result<HRasConn, DialError> {
        let (kind, function) = match &recording {
            None => (notifier_type::RASDIALFUNC, std::ptr::null_mut()),
            Some(Notifier::Func(_)) => (notifier_type::RASDIALFUNC, func as *mut c_void),
            Some(Notifier::Func1(_)) => (notifier_type::RASDIALFUNC1, func1 as *mut c_void),
            Some(Notifier::Func2(_)) => (notifier_type::RASDIALFUNC2, func2 as *mut c_void),
            Some(Notifier::Window(_)) => (
                notifier_type::HWND,
                std::ptr::from_ref::<RASWINDOW>(&self.window)
                    .cast_mut()
                    .cast::<c_void>(),
            ),
        };
        *notifier() = recording;
        let mut c_extensions = c_extensions(extensions);
        let mut c_params = c_params(params);
        let mut handle: HRASCONN = std::ptr::null_mut();
        // SAFETY: valid structures of the current version, a NUL-terminated path, a
        // notifier of the type given (the window lives in `self` until after the dial's
        // last notification: the session ends after the port is released), and a
        // writable handle that starts NULL (rule 11).
        let code = unsafe {
            ras::api::RasDialA(
                &raw mut c_extensions,
                self.phonebook.c_path.as_ptr(),
                &raw mut c_params,
                kind,
                function,
                &raw mut handle,
            )
        };
        let handle = ras::from_hrasconn(handle);
        match (code, handle) {
            (0, Some(handle)) => Ok(handle),
            // A custom dialer that reports success without a handle broke the contract.
            (0, None) => Err(DialError {
                error: RasError::ERROR_UNKNOWN,
                handle: None,
            }),
            (code, handle) => Err(DialError {
                error: RasError::from_code(code),
                handle,
            }),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        // Calls after the dial (none are due once the port is released) find no one.
        *notifier() = None;
    }
}

/// The scenario's phonebook as a file, removed when the session ends.
struct PhonebookFile {
    path: PathBuf,
    c_path: CString,
}

impl PhonebookFile {
    fn write(phonebook: &Phonebook) -> Result<Self, String> {
        // Sessions follow each other, in this process and in others: each its own file.
        static FILES: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "conformance-{}-{}.pbk",
            std::process::id(),
            FILES.fetch_add(1, Ordering::Relaxed)
        ));
        phonebook
            .write(&path)
            .map_err(|e| format!("cannot write the phonebook {}: {e}", path.display()))?;
        let c_path = CString::new(path.as_os_str().as_bytes())
            .map_err(|_| format!("{} has a NUL byte", path.display()))?;
        Ok(PhonebookFile { path, c_path })
    }
}

impl Drop for PhonebookFile {
    fn drop(&mut self) {
        // A leftover in the temporary folder is harmless.
        let _ = std::fs::remove_file(&self.path);
    }
}

/// `RASDIALEXTENSIONS` with the scenario's options.
fn c_extensions(extensions: &DialExtensions) -> RASDIALEXTENSIONS {
    // SAFETY: zero is a valid RASDIALEXTENSIONS (integers and NULL pointers).
    let mut out: RASDIALEXTENSIONS = unsafe { std::mem::zeroed() };
    out.dwSize = size_of::<RASDIALEXTENSIONS>() as DWORD;
    out.dwfOptions = extensions.options;
    out
}

/// `RASDIALPARAMSA` with the scenario's parameters.
fn c_params(params: &DialParams) -> RASDIALPARAMSA {
    // SAFETY: zero is a valid RASDIALPARAMSA (integers and character arrays).
    let mut out: RASDIALPARAMSA = unsafe { std::mem::zeroed() };
    out.dwSize = size_of::<RASDIALPARAMSA>() as DWORD;
    for (field, text) in [
        (&mut out.szEntryName[..], &params.entry_name),
        (&mut out.szPhoneNumber[..], &params.phone_number),
        (&mut out.szCallbackNumber[..], &params.callback_number),
        (&mut out.szUserName[..], &params.user_name),
        (&mut out.szPassword[..], &params.password),
        (&mut out.szDomain[..], &params.domain),
    ] {
        // Truncated to the field, which keeps its NUL (the fields are zero).
        let room = field.len().saturating_sub(1);
        for (slot, &byte) in field
            .iter_mut()
            .zip(&text.as_bytes()[..text.len().min(room)])
        {
            *slot = byte as c_char;
        }
    }
    out.dwSubEntry = params.sub_entry;
    out.dwCallbackId = params.callback_id as ULONG_PTR;
    out
}

/// Hand a C notification to the scenario's notifier, if it is of the kind `call` takes;
/// no panic unwinds into the C caller.
fn deliver<T>(
    state: RASCONNSTATE,
    idle: T,
    call: impl FnOnce(&mut Notifier, RasConnState) -> Option<T>,
) -> T {
    let Some(state) = RasConnState::from_value(state) else {
        tracing::warn!(state, "a notification with no RASCONNSTATE: ignored");
        return idle;
    };
    catch_unwind(AssertUnwindSafe(|| {
        notifier()
            .as_mut()
            .and_then(|notifier| call(notifier, state))
    }))
    .ok()
    .flatten()
    .unwrap_or(idle)
}

/// A handle as a C notifier got it: NULL (a dialer that refused before RAS gave one) is
/// `h0`, which no connection has.
fn handle_of(handle: HRASCONN) -> HRasConn {
    ras::from_hrasconn(handle).unwrap_or(HRasConn::from_raw(0))
}

/// The application's `RASDIALFUNC`.
unsafe extern "C" fn func(message: UINT, state: RASCONNSTATE, error: DWORD) {
    deliver(state, (), |notifier, state| match notifier {
        Notifier::Func(f) => {
            f(message, state, error);
            Some(())
        }
        _ => None,
    });
}

/// The application's `RASDIALFUNC1`.
unsafe extern "C" fn func1(
    handle: HRASCONN,
    message: UINT,
    state: RASCONNSTATE,
    error: DWORD,
    extended: DWORD,
) {
    deliver(state, (), |notifier, state| match notifier {
        Notifier::Func1(f) => {
            f(handle_of(handle), message, state, error, extended);
            Some(())
        }
        _ => None,
    });
}

/// The application's `RASDIALFUNC2`: nonzero keeps the notifications coming (§4.1 rule 5).
unsafe extern "C" fn func2(
    callback_id: ULONG_PTR,
    subentry: DWORD,
    handle: HRASCONN,
    message: UINT,
    state: RASCONNSTATE,
    error: DWORD,
    extended: DWORD,
) -> DWORD {
    let control = deliver(
        state,
        NotifyControl::Continue,
        |notifier, state| match notifier {
            Notifier::Func2(f) => Some(f(
                callback_id,
                subentry,
                handle_of(handle),
                message,
                state,
                error,
                extended,
            )),
            _ => None,
        },
    );
    DWORD::from(control == NotifyControl::Continue)
}

/// The application's window procedure: the message goes to the window's queue.
unsafe extern "C" fn window_procedure(
    _window: HWND,
    message: UINT,
    wparam: WPARAM,
    lparam: LPARAM,
) -> LRESULT {
    // wParam and lParam carry a state and an error (§4.1 rule 4), both DWORDs.
    let (state, error) = (wparam as RASCONNSTATE, lparam as DWORD);
    deliver(state, (), |notifier, state| match notifier {
        Notifier::Window(queue) => {
            // The receiver is gone only once the run is over.
            let _ = queue.send(WindowMessage {
                message,
                wparam: state,
                lparam: error,
            });
            Some(())
        }
        _ => None,
    });
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(field: &[c_char]) -> String {
        field
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8 as char)
            .collect()
    }

    #[test]
    fn parameters_fill_their_fields_and_keep_a_nul_when_too_long() {
        let params = DialParams {
            entry_name: "Dial-up ISP".to_owned(),
            user_name: "u".repeat(1000),
            callback_id: 7,
            ..DialParams::default()
        };
        let c = c_params(&params);
        assert_eq!(text(&c.szEntryName), "Dial-up ISP");
        assert_eq!(text(&c.szUserName).len(), c.szUserName.len() - 1);
        assert_eq!(c.szUserName.last(), Some(&0));
        // Copies: the SDK's 4-byte packing leaves the fields unaligned.
        let (callback_id, size) = (c.dwCallbackId, c.dwSize);
        assert_eq!(callback_id, 7);
        assert_eq!(size as usize, size_of::<RASDIALPARAMSA>());
    }

    #[test]
    fn a_dialer_path_is_relative_to_the_scenario_and_never_a_bare_name() {
        let mut scenario = crate::scenario::parse(
            "t",
            Path::new("t.yaml"),
            "network: {numbers: {}}\nexpect: {result: connected}\n",
        )
        .unwrap();
        assert_eq!(
            dialer_path(&scenario, "lib.so").unwrap(),
            Path::new("./lib.so")
        );
        scenario.path = PathBuf::from("scenarios/custom-dial/t.yaml");
        assert_eq!(
            dialer_path(&scenario, "lib.so").unwrap(),
            Path::new("scenarios/custom-dial/lib.so")
        );
        assert_eq!(
            dialer_path(&scenario, "/abs/lib.so").unwrap(),
            Path::new("/abs/lib.so")
        );
    }
}
