//! Targets for `ras-capi`: the C API's structures as a hostile caller fills them.

// The target calls the C exports with the raw pointers C would pass; that is the point.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::ptr;

use ras::abi::HRASCONN;
use ras::api::{RasDialA, RasEnumConnectionsA, RasGetConnectStatusA, RasGetErrorStringA};

/// Larger than any structure of `ras.h`.
const ARENA: usize = 4096;
/// Where the extensions start in the arena (past every RASDIALPARAMSA version).
const EXTENSIONS_AT: usize = 2048;
const GUARD: u8 = 0xA5;

/// Any bytes as RASDIALPARAMSA / RASDIALEXTENSIONS / RASCONNSTATUSA / RASCONNA, any
/// notifier type, any buffer size: a documented code every time, never a panic, never a
/// write past the size the caller gave. The first byte picks the function.
pub fn capi_structures(data: &[u8]) {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let mut arena = vec![GUARD; ARENA];
    let filled = rest.len().min(ARENA);
    arena[..filled].copy_from_slice(&rest[..filled]);
    let word = |at: usize| {
        rest.get(at..at + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    match selector % 4 {
        0 => {
            let phonebook = CString::new("/nonexistent/fuzz.pbk").expect("no NUL");
            let extensions = if selector & 0x10 != 0 {
                arena[EXTENSIONS_AT..].as_mut_ptr().cast()
            } else {
                ptr::null_mut()
            };
            let mut handle: HRASCONN = ptr::null_mut();
            // SAFETY: every dwSize the library accepts fits in the arena, for the
            // parameters at its start and the extensions at EXTENSIONS_AT; no notifier.
            let rc = unsafe {
                RasDialA(
                    extensions,
                    phonebook.as_ptr(),
                    arena.as_mut_ptr().cast(),
                    word(0),
                    ptr::null_mut(),
                    &raw mut handle,
                )
            };
            // 632 for a size that is no version, else the phonebook cannot be opened.
            assert!([632, 621].contains(&rc), "{rc}");
            assert!(handle.is_null());
        }
        1 => {
            // SAFETY: the arena outlasts every version of RASCONNSTATUSA.
            let rc = unsafe {
                RasGetConnectStatusA(
                    ptr::without_provenance_mut(word(4) as usize),
                    arena.as_mut_ptr().cast(),
                )
            };
            assert!([632, 6].contains(&rc), "{rc}");
        }
        2 => {
            let offered = word(4) % ARENA as u32;
            let mut cb = offered;
            let mut count = 0;
            // SAFETY: `offered` bytes are writable.
            let rc = unsafe {
                RasEnumConnectionsA(arena.as_mut_ptr().cast(), &raw mut cb, &raw mut count)
            };
            assert!([0, 603, 632].contains(&rc), "{rc}");
        }
        _ => {
            let size = word(4) % ARENA as u32;
            arena.fill(GUARD);
            // SAFETY: `size` bytes are writable.
            let rc = unsafe { RasGetErrorStringA(word(0), arena.as_mut_ptr().cast(), size) };
            assert!([0, 87, 122].contains(&rc), "{rc}");
            assert!(arena[size as usize..].iter().all(|&b| b == GUARD));
        }
    }
}
