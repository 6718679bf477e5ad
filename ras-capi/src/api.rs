//! The exported functions of `ras.h` (ras-reference §3.9, §4), ANSI variants. Each one
//! checks its arguments the way Windows does — NULL where the documentation needs a
//! pointer is 87 ERROR_INVALID_PARAMETER, a `dwSize` that is no version of the structure
//! is 632 ERROR_INVALID_SIZE — then calls the process's [`Ras`](crate::ras) and writes the
//! answer back into the caller's structures. No panic leaves these functions.

// The SDK's names, so that the code reads against the documentation.
#![allow(non_snake_case)]

use std::collections::BTreeMap;
use std::ffi::{c_char, c_void};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};

use ras_engine::api::{DialExtensions, DialParams, HRasConn, Notifier, rdeopt};
use ras_engine::phonebook::Phonebook;
use ras_engine::ras::RasError;

use crate::abi::{
    DWORD, HRASCONN, RASCONNA, RASCONNSTATUSA, RASDIALEXTENSIONS, RASDIALPARAMSA, RASENTRYNAMEA,
    REN_User, UINT, Versioned,
};
use crate::memory::{declared_size, read_in, write_out, zeroed};
use crate::text::{argument, from_field, to_field};
use crate::{boundary, custom, from_hrasconn, notify, ras, to_hrasconn};

/// `RasDialA` (ras-reference §3.9, §4.2–4.3): dial an entry, or resume the paused dial
/// whose handle `*lphRasConn` holds. Synchronous when `lpvNotifier` is NULL: returns 0
/// once connected, else the error. Asynchronous otherwise: returns 0 once the dial has
/// started; progress goes to the notifier. Either way a handle set in `*lphRasConn` must
/// be hung up, even after a failure (rule 12).
///
/// An entry with a custom dialer (`CustomDialDll=`) is dialed by its `RasCustomDial`
/// unless `RDEOPT_CustomDial` is set (rule 29; see [`custom`]); its return is this one's.
///
/// # Safety
///
/// Each pointer is NULL or valid as `ras.h` documents it: `lpRasDialExtensions` and
/// `lpRasDialParams` point to structures of the version their `dwSize` names,
/// `lpszPhonebook` to a NUL-terminated path, `lpvNotifier` to what `dwNotifierType`
/// says, `lphRasConn` to a writable `HRASCONN`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn RasDialA(
    lpRasDialExtensions: *mut RASDIALEXTENSIONS,
    lpszPhonebook: *const c_char,
    lpRasDialParams: *mut RASDIALPARAMSA,
    dwNotifierType: DWORD,
    lpvNotifier: *mut c_void,
    lphRasConn: *mut HRASCONN,
) -> DWORD {
    boundary("RasDialA", || {
        if lpRasDialParams.is_null() || lphRasConn.is_null() {
            return Err(RasError::ERROR_INVALID_PARAMETER);
        }
        // SAFETY (this block and the next): the caller's promises above.
        let params = dial_params(&unsafe { read_in(lpRasDialParams) }?);
        let extensions = if lpRasDialExtensions.is_null() {
            None
        } else {
            let extensions = unsafe { read_in(lpRasDialExtensions) }?;
            Some(DialExtensions {
                options: extensions.dwfOptions,
                ..DialExtensions::default()
            })
        };
        // SAFETY: the caller's promise about the notifier.
        let notifier = unsafe { notify::from_c(dwNotifierType, lpvNotifier) }?;
        // SAFETY: checked non-null; the caller's promise.
        let paused = unsafe { lphRasConn.read() };
        if let Some(handle) = from_hrasconn(paused) {
            return resume(handle, &params, notifier);
        }
        // SAFETY: the caller's promise.
        let phonebook_path = unsafe { argument(lpszPhonebook) }
            .map(|path| PathBuf::from(std::ffi::OsStr::from_bytes(path.to_bytes())));
        let phonebook = read_phonebook(phonebook_path)?;
        let custom_dialer = phonebook
            .entry(&params.entry_name)
            .and_then(|entry| entry.custom_dial_dll.as_deref())
            .filter(|_| {
                extensions
                    .as_ref()
                    .is_none_or(|e| e.options & rdeopt::CUSTOM_DIAL == 0)
            });
        if let Some(path) = custom_dialer {
            let dialer = custom::load(path).map_err(|error| {
                tracing::error!(entry = %params.entry_name, "{error}");
                error.ras_error()
            })?;
            // SAFETY: the plug-in gets the caller's own arguments, valid as promised;
            // dwFlags is reserved, 0 (seed RasCustomDialFn).
            let code = unsafe {
                (dialer.entry_point)(
                    dialer.instance(),
                    lpRasDialExtensions,
                    lpszPhonebook,
                    lpRasDialParams,
                    dwNotifierType,
                    lpvNotifier,
                    lphRasConn,
                    0,
                )
            };
            return match code {
                0 => Ok(()),
                code => Err(RasError::from_code(code)),
            };
        }
        let dialed = ras().dial(extensions.as_ref(), &phonebook, &params, notifier);
        let (handle, result) = match dialed {
            Ok(handle) => (Some(handle), Ok(())),
            Err(failure) => (failure.handle, Err(failure.error)),
        };
        if let Some(handle) = handle {
            dialed_from(handle, &phonebook);
            // SAFETY: checked non-null; the caller's promise.
            unsafe { lphRasConn.write(to_hrasconn(handle)) };
        }
        result
    })
}

/// The phonebook each connection was dialed from, for `RASCONN.szPhonebook`: the
/// engine's table knows the entry, not the file.
static PHONEBOOKS: Mutex<BTreeMap<HRasConn, String>> = Mutex::new(BTreeMap::new());

fn phonebooks() -> MutexGuard<'static, BTreeMap<HRasConn, String>> {
    // Each update is one insert or remove: a panic elsewhere leaves it consistent.
    PHONEBOOKS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The full path of `phonebook`'s file, as `RASCONN.szPhonebook` and
/// `RASENTRYNAME.szPhonebookPath` give it (the path as given if it cannot be resolved).
fn full_path(phonebook: &Phonebook) -> String {
    phonebook
        .path
        .as_deref()
        .map(|path| {
            std::fs::canonicalize(path)
                .unwrap_or_else(|_| path.to_owned())
                .to_string_lossy()
                .into_owned()
        })
        .unwrap_or_default()
}

/// Remember where `handle` was dialed from, and forget the connections that are gone
/// (handles are never reused, so a stale path is only memory).
fn dialed_from(handle: HRasConn, phonebook: &Phonebook) {
    let ras = ras();
    let mut phonebooks = phonebooks();
    phonebooks.retain(|&live, _| ras.connect_status(live).is_ok());
    phonebooks.insert(handle, full_path(phonebook));
}

/// Resume the paused dial `handle` (rule 15). Windows wants the original notifier passed
/// again; the engine kept it, so the one given here is not needed.
fn resume(
    handle: HRasConn,
    params: &DialParams,
    _same_notifier: Option<Notifier>,
) -> Result<(), RasError> {
    ras().resume(handle, params)
}

/// The engine's `DialParams` from the caller's structure (fields past the caller's
/// version are zero: subentry 0 is the first, callback id 0).
fn dial_params(params: &RASDIALPARAMSA) -> DialParams {
    DialParams {
        entry_name: from_field(&params.szEntryName),
        phone_number: from_field(&params.szPhoneNumber),
        callback_number: from_field(&params.szCallbackNumber),
        user_name: from_field(&params.szUserName),
        password: from_field(&params.szPassword),
        domain: from_field(&params.szDomain),
        sub_entry: params.dwSubEntry,
        callback_id: params.dwCallbackId,
    }
}

/// The phonebook at `path`, or the default one (`rasdial`'s, see
/// [`ras_engine::env::default_phonebook`]) for NULL (rule 13): 621 if it cannot be read,
/// 625 if it is not a phonebook.
fn read_phonebook(path: Option<PathBuf>) -> Result<Phonebook, RasError> {
    let path = path
        .or_else(ras_engine::env::default_phonebook_from_env)
        .ok_or(RasError::ERROR_CANNOT_OPEN_PHONEBOOK)?;
    Phonebook::read(&path).map_err(|error| {
        tracing::warn!("{error}");
        error.ras_error()
    })
}

/// `RasHangUpA`: end the connection (or release one reference to it, rule 23). Returns
/// at once; the link goes down shortly after (rule 21: poll `RasGetConnectStatusA` until
/// it returns ERROR_INVALID_HANDLE). NULL or an ended handle is 6 ERROR_INVALID_HANDLE.
///
/// # Safety
///
/// None beyond the C signature: the handle is only compared, never dereferenced.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn RasHangUpA(hrasconn: HRASCONN) -> DWORD {
    boundary("RasHangUpA", || {
        let handle = from_hrasconn(hrasconn).ok_or(RasError::ERROR_INVALID_HANDLE)?;
        ras().hang_up(handle)
    })
}

/// `RasGetConnectStatusA` (rules 19–20): the state, and in `dwError` why a failed dial
/// failed, until it is hung up; 6 ERROR_INVALID_HANDLE after.
///
/// # Safety
///
/// `lprasconnstatus` is NULL or points to a writable `RASCONNSTATUSA` of the version its
/// `dwSize` names.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn RasGetConnectStatusA(
    hrasconn: HRASCONN,
    lprasconnstatus: *mut RASCONNSTATUSA,
) -> DWORD {
    boundary("RasGetConnectStatusA", || {
        if lprasconnstatus.is_null() {
            return Err(RasError::ERROR_INVALID_PARAMETER);
        }
        // SAFETY: non-null; the caller's promise.
        let size = unsafe { declared_size(lprasconnstatus) }?;
        let handle = from_hrasconn(hrasconn).ok_or(RasError::ERROR_INVALID_HANDLE)?;
        let status = ras().connect_status(handle)?;
        let mut out: RASCONNSTATUSA = zeroed();
        out.dwSize = size as DWORD;
        out.rasconnstate = status.state.value();
        out.dwError = status.error.map_or(0, RasError::code);
        to_field(&mut out.szDeviceType, &status.device_type);
        to_field(&mut out.szDeviceName, &status.device_name);
        to_field(&mut out.szPhoneNumber, &status.phone_number);
        // SAFETY: the caller's version is `size` bytes, writable.
        unsafe { write_out(&out, lprasconnstatus, size) };
        Ok(())
    })
}

/// The buffer-size protocol of the `RasEnum*` functions (rule 24): `records` written to
/// `buffer` at the stride of the caller's `dwSize`, or 603 ERROR_BUFFER_TOO_SMALL with the
/// size needed in `*lpcb`. A NULL `buffer` with `*lpcb == 0` asks for the size (603 with
/// the size, or 0 when there is nothing to list); a NULL `buffer` claiming a size is 87.
///
/// # Safety
///
/// `buffer` is NULL or points to `*lpcb` writable bytes whose first structure's `dwSize`
/// is set; `lpcb` and `lpcount` are NULL or writable.
unsafe fn enumerate<T: Versioned>(
    records: &[T],
    buffer: *mut T,
    lpcb: *mut DWORD,
    lpcount: *mut DWORD,
) -> Result<(), RasError> {
    if lpcb.is_null() || lpcount.is_null() {
        return Err(RasError::ERROR_INVALID_PARAMETER);
    }
    // SAFETY: non-null; the caller's promise.
    let offered = unsafe { lpcb.read() } as usize;
    let stride = if buffer.is_null() {
        if offered != 0 {
            return Err(RasError::ERROR_INVALID_PARAMETER);
        }
        std::mem::size_of::<T>()
    } else {
        // SAFETY: non-null; the caller's promise.
        unsafe { declared_size(buffer) }?
    };
    let needed = records.len() * stride;
    let needed_dword = DWORD::try_from(needed).map_err(|_| RasError::ERROR_BUFFER_TOO_SMALL)?;
    // SAFETY (the writes below): lpcb and lpcount are non-null; the caller's promise.
    unsafe { lpcount.write(records.len() as DWORD) };
    if offered < needed {
        unsafe { lpcb.write(needed_dword) };
        return Err(RasError::ERROR_BUFFER_TOO_SMALL);
    }
    for (index, record) in records.iter().enumerate() {
        // SAFETY: `needed <= offered` bytes are writable at `buffer`: record `index` fits
        // at `index * stride`.
        unsafe {
            let slot = buffer.cast::<u8>().add(index * stride).cast::<T>();
            write_out(record, slot, stride);
        }
    }
    unsafe { lpcb.write(needed_dword) };
    Ok(())
}

/// `RasEnumConnectionsA`: the connected connections, with the buffer-size protocol of
/// rule 24: `*lpcb` bytes offered, 603 ERROR_BUFFER_TOO_SMALL with the bytes
/// needed, and a NULL `lprasconn` with `*lpcb == 0` asks for the size. Each `RASCONNA`
/// carries the caller's `dwSize`.
///
/// # Safety
///
/// As for the buffer-size protocol: `lprasconn` NULL or `*lpcb` writable bytes starting
/// with a `RASCONNA` whose `dwSize` is set; `lpcb`, `lpcConnections` writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn RasEnumConnectionsA(
    lprasconn: *mut RASCONNA,
    lpcb: *mut DWORD,
    lpcConnections: *mut DWORD,
) -> DWORD {
    boundary("RasEnumConnectionsA", || {
        let size = if lprasconn.is_null() {
            std::mem::size_of::<RASCONNA>()
        } else {
            // SAFETY: non-null; the caller's promise.
            unsafe { declared_size(lprasconn) }?
        };
        let phonebooks = phonebooks();
        let records: Vec<RASCONNA> = ras()
            .enum_connections()
            .into_iter()
            .map(|connection| {
                let mut out: RASCONNA = zeroed();
                out.dwSize = size as DWORD;
                out.hrasconn = to_hrasconn(connection.handle);
                to_field(&mut out.szEntryName, &connection.entry_name);
                to_field(&mut out.szDeviceType, &connection.device_type);
                to_field(&mut out.szDeviceName, &connection.device_name);
                if let Some(path) = phonebooks.get(&connection.handle) {
                    to_field(&mut out.szPhonebook, path);
                }
                out.dwSubEntry = connection.sub_entry;
                out
            })
            .collect();
        drop(phonebooks);
        // SAFETY: the caller's promises, as this function's.
        unsafe { enumerate(&records, lprasconn, lpcb, lpcConnections) }
    })
}

/// `RasEnumEntriesA`: the entry names of a phonebook (NULL: the default one), in file
/// order, with the buffer-size protocol of [`RasEnumConnectionsA`]. `reserved` must be
/// NULL (87 otherwise, \[inferred\]).
///
/// # Safety
///
/// `lpszPhonebook` NULL or a NUL-terminated path; the rest as for
/// [`RasEnumConnectionsA`], with `RASENTRYNAMEA`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn RasEnumEntriesA(
    reserved: *const c_char,
    lpszPhonebook: *const c_char,
    lprasentryname: *mut RASENTRYNAMEA,
    lpcb: *mut DWORD,
    lpcEntries: *mut DWORD,
) -> DWORD {
    boundary("RasEnumEntriesA", || {
        if !reserved.is_null() {
            return Err(RasError::ERROR_INVALID_PARAMETER);
        }
        let size = if lprasentryname.is_null() {
            std::mem::size_of::<RASENTRYNAMEA>()
        } else {
            // SAFETY: non-null; the caller's promise.
            unsafe { declared_size(lprasentryname) }?
        };
        // SAFETY: the caller's promise.
        let path = unsafe { argument(lpszPhonebook) }
            .map(|path| PathBuf::from(std::ffi::OsStr::from_bytes(path.to_bytes())));
        let phonebook = read_phonebook(path)?;
        let phonebook_path = full_path(&phonebook);
        let records: Vec<RASENTRYNAMEA> = ras_engine::api::enum_entries(&phonebook)
            .iter()
            .map(|name| {
                let mut out: RASENTRYNAMEA = zeroed();
                out.dwSize = size as DWORD;
                to_field(&mut out.szEntryName, name);
                out.dwFlags = REN_User;
                to_field(&mut out.szPhonebookPath, &phonebook_path);
                out
            })
            .collect();
        // SAFETY: the caller's promises, as this function's.
        unsafe { enumerate(&records, lprasentryname, lpcb, lpcEntries) }
    })
}

/// `RasGetErrorStringA` (rule 25): the text of a RAS error (or of the Win32 codes RAS
/// returns), NUL-terminated. 87 ERROR_INVALID_PARAMETER for a NULL buffer or a code with
/// no text, 122 ERROR_INSUFFICIENT_BUFFER when `cBufSize` is too small (512 is always
/// enough).
///
/// # Safety
///
/// `lpszErrorString` is NULL or points to `cBufSize` writable bytes.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn RasGetErrorStringA(
    uErrorValue: UINT,
    lpszErrorString: *mut c_char,
    cBufSize: DWORD,
) -> DWORD {
    boundary("RasGetErrorStringA", || {
        if lpszErrorString.is_null() {
            return Err(RasError::ERROR_INVALID_PARAMETER);
        }
        let text =
            ras_engine::api::error_string(uErrorValue).ok_or(RasError::ERROR_INVALID_PARAMETER)?;
        if text.len() >= cBufSize as usize {
            return Err(RasError::ERROR_INSUFFICIENT_BUFFER);
        }
        // SAFETY: `text.len() + 1 <= cBufSize` bytes are writable at the buffer.
        let buffer = unsafe { std::slice::from_raw_parts_mut(lpszErrorString, text.len() + 1) };
        to_field(buffer, text);
        Ok(())
    })
}
