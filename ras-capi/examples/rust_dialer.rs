//! An example custom dialer (RasCustomDial plug-in) written in Rust, built as a cdylib
//! (`target/debug/examples/librust_dialer.so`): name it in an entry's `CustomDialDll=`.
//!
//! Its policy: it dials only for a named user. A dial without a user name is refused with
//! its own error, 649 ERROR_NO_DIALIN_PERMISSION, which reaches the application both as
//! the return of `RasDialA` and, for an asynchronous dial, as an error notification in
//! RASCS_OpenPort. Any other dial goes to RAS with `RDEOPT_CustomDial` set and the
//! application's own notifier, so the notifications reach it unchanged.
//!
//! Like a Windows custom-dial DLL that calls rasapi32's RasDial, it calls the `RasDialA`
//! of the libras the application loaded (looked up in the process, not linked into the
//! plug-in): there is one connection table per process, and the handle it returns must be
//! one the application can hang up.

// A C plug-in: its entry point takes raw pointers from C and calls C function pointers.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_void};
use std::mem::size_of;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::ptr;

use libloading::os::unix::Library;
use ras::abi::{
    DWORD, HINSTANCE, HRASCONN, RASDIALEXTENSIONS, RASDIALFUNC, RASDIALFUNC1, RASDIALFUNC2,
    RASDIALPARAMSA, RASWINDOW, notifier_type,
};
use ras_engine::api::{WM_RASDIALEVENT, rdeopt};
use ras_engine::ras::{RasConnState, RasError};

/// `RasDialA`'s signature.
type RasDialAFn = unsafe extern "C" fn(
    *mut RASDIALEXTENSIONS,
    *const c_char,
    *mut RASDIALPARAMSA,
    DWORD,
    *mut c_void,
    *mut HRASCONN,
) -> DWORD;

/// The error this dialer refuses with.
const REFUSED: RasError = RasError::ERROR_NO_DIALIN_PERMISSION;

/// A copy of the caller's structure of type `T`: the `dwSize` bytes it passed (an older
/// version is shorter), zero after, and `dwSize` set to the whole structure's.
///
/// # Safety
///
/// `structure` points to a `T` of the version its first `DWORD` names; `T` is one of
/// the RAS structures, for which zero bytes are a valid value.
unsafe fn copy_of<T: Copy>(structure: *const T) -> T {
    // SAFETY: the caller's promise.
    unsafe {
        let mut copy: T = std::mem::zeroed();
        let size = (structure.cast::<u32>().read_unaligned() as usize).min(size_of::<T>());
        ptr::copy_nonoverlapping(structure.cast::<u8>(), (&raw mut copy).cast::<u8>(), size);
        (&raw mut copy)
            .cast::<u32>()
            .write_unaligned(size_of::<T>() as u32);
        copy
    }
}

/// Tell the application's notifier that the dial failed in RASCS_OpenPort with `error`.
///
/// # Safety
///
/// `notifier` is what `kind` says (see `RasDialA`).
unsafe fn notify_refusal(kind: DWORD, notifier: *mut c_void, callback_id: usize, error: u32) {
    let state = RasConnState::OpenPort.value();
    // SAFETY: the caller's promise about the notifier.
    unsafe {
        match kind {
            notifier_type::RASDIALFUNC => {
                let f = std::mem::transmute::<*mut c_void, RASDIALFUNC>(notifier);
                f(WM_RASDIALEVENT, state, error);
            }
            notifier_type::RASDIALFUNC1 => {
                let f = std::mem::transmute::<*mut c_void, RASDIALFUNC1>(notifier);
                f(ptr::null_mut(), WM_RASDIALEVENT, state, error, 0);
            }
            notifier_type::RASDIALFUNC2 => {
                let f = std::mem::transmute::<*mut c_void, RASDIALFUNC2>(notifier);
                f(
                    callback_id,
                    1,
                    ptr::null_mut(),
                    WM_RASDIALEVENT,
                    state,
                    error,
                    0,
                );
            }
            notifier_type::HWND => {
                let window = notifier.cast::<RASWINDOW>();
                if let Some(procedure) = window.read().lpfnWndProc {
                    procedure(window, WM_RASDIALEVENT, state as usize, error as isize);
                }
            }
            _ => {}
        }
    }
}

/// The dial, as `RasCustomDial` got it.
///
/// # Safety
///
/// The arguments are valid as `RasDialA` documents them.
unsafe fn dial(
    extensions: *mut RASDIALEXTENSIONS,
    phonebook: *const c_char,
    params: *mut RASDIALPARAMSA,
    kind: DWORD,
    notifier: *mut c_void,
    handle: *mut HRASCONN,
) -> DWORD {
    if params.is_null() || handle.is_null() {
        return RasError::ERROR_INVALID_PARAMETER.code();
    }
    // SAFETY: the caller's promises.
    let mut params = unsafe { copy_of(params) };
    if params.szUserName[0] == 0 {
        if !notifier.is_null() {
            // SAFETY: the caller's promise about the notifier.
            unsafe { notify_refusal(kind, notifier, params.dwCallbackId, REFUSED.code()) };
        }
        return REFUSED.code();
    }
    let mut extensions = if extensions.is_null() {
        // SAFETY: zero is a valid RASDIALEXTENSIONS.
        let mut none: RASDIALEXTENSIONS = unsafe { std::mem::zeroed() };
        none.dwSize = size_of::<RASDIALEXTENSIONS>() as u32;
        none
    } else {
        // SAFETY: the caller's promise.
        unsafe { copy_of(extensions) }
    };
    extensions.dwfOptions |= rdeopt::CUSTOM_DIAL;
    // The application's libras, already in the process (see the module notes).
    // SAFETY: RasDialA has this signature (ras.h).
    let ras_dial = match unsafe { Library::this().get::<RasDialAFn>("RasDialA") } {
        Ok(symbol) => *symbol,
        Err(_) => return RasError::ERROR_CANNOT_DO_CUSTOMDIAL.code(),
    };
    // SAFETY: our copies, and the caller's own phonebook, notifier and handle.
    unsafe {
        ras_dial(
            &raw mut extensions,
            phonebook,
            &raw mut params,
            kind,
            notifier,
            handle,
        )
    }
}

/// The entry point (seed RasCustomDialFn).
///
/// # Safety
///
/// Called by libras with `RasDialA`'s own arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn RasCustomDial(
    _instance: HINSTANCE,
    extensions: *mut RASDIALEXTENSIONS,
    phonebook: *const c_char,
    params: *mut RASDIALPARAMSA,
    kind: DWORD,
    notifier: *mut c_void,
    handle: *mut HRASCONN,
    _flags: DWORD,
) -> DWORD {
    // No panic may unwind into C.
    catch_unwind(AssertUnwindSafe(|| unsafe {
        dial(extensions, phonebook, params, kind, notifier, handle)
    }))
    .unwrap_or(RasError::ERROR_UNKNOWN.code())
}
