//! The C boundary against hostile callers, through the crate's own exports: every older
//! `dwSize` of a structure accepted and no byte written past it, NULL where a pointer is
//! required (87), and — as properties — arbitrary structure bytes, sizes and buffer
//! lengths giving one of the documented codes without a panic or a write out of bounds.

// Calling the C exports from Rust takes the raw pointers C would pass.
#![allow(unsafe_code)]

use std::ffi::{CString, c_char, c_void};
use std::mem::size_of;
use std::ptr;

use proptest::prelude::*;
use ras::abi::{
    HRASCONN, RASCONNA, RASCONNSTATUSA, RASDIALEXTENSIONS, RASDIALPARAMSA, RASENTRYNAMEA, Versioned,
};
use ras::api::{
    RasDialA, RasEnumConnectionsA, RasEnumEntriesA, RasGetConnectStatusA, RasGetErrorStringA,
    RasHangUpA,
};
use ras_engine::ras::RasError;

/// Bytes that outlast any structure of the header, 8-byte aligned like a C stack buffer.
const ARENA: usize = 4096;
const GUARD: u8 = 0xA5;

fn arena() -> Vec<u64> {
    vec![u64::from_ne_bytes([GUARD; 8]); ARENA / 8]
}

fn bytes(arena: &[u64]) -> &[u8] {
    // SAFETY: u64s viewed as their bytes.
    unsafe { std::slice::from_raw_parts(arena.as_ptr().cast::<u8>(), arena.len() * 8) }
}

fn set_size(arena: &mut [u64], size: u32) {
    // SAFETY: the arena holds at least four bytes.
    unsafe { arena.as_mut_ptr().cast::<u32>().write_unaligned(size) };
}

/// A phonebook path that cannot be opened.
fn no_phonebook() -> CString {
    CString::new("/nonexistent/ras-capi-test.pbk").expect("no NUL")
}

fn code(error: RasError) -> u32 {
    error.code()
}

#[test]
fn every_version_of_rasconnstatus_is_accepted_and_only_its_bytes_are_written() {
    // No connection has handle 1 here, so the call gets as far as the handle and no
    // further: the size is checked first (632 would come before 6).
    let handle: HRASCONN = ptr::without_provenance_mut(usize::MAX);
    for &size in RASCONNSTATUSA::SIZES {
        let mut arena = arena();
        set_size(&mut arena, size as u32);
        // SAFETY: the arena is larger than any version.
        let rc = unsafe { RasGetConnectStatusA(handle, arena.as_mut_ptr().cast()) };
        assert_eq!(rc, code(RasError::ERROR_INVALID_HANDLE), "dwSize {size}");
        assert!(bytes(&arena)[size..].iter().all(|&b| b == GUARD));
    }
    for size in [0, 4, 159, 161, 333, u32::MAX as usize] {
        let mut arena = arena();
        set_size(&mut arena, size as u32);
        // SAFETY: as above.
        let rc = unsafe { RasGetConnectStatusA(handle, arena.as_mut_ptr().cast()) };
        assert_eq!(rc, code(RasError::ERROR_INVALID_SIZE), "dwSize {size}");
    }
    // SAFETY: NULL is what is being checked.
    let rc = unsafe { RasGetConnectStatusA(handle, ptr::null_mut()) };
    assert_eq!(rc, code(RasError::ERROR_INVALID_PARAMETER));
}

#[test]
fn rasdial_takes_every_version_of_its_structures() {
    let phonebook = no_phonebook();
    for &params_size in RASDIALPARAMSA::SIZES {
        for &extensions_size in RASDIALEXTENSIONS::SIZES {
            let mut params = arena();
            set_size(&mut params, params_size as u32);
            let mut extensions = arena();
            set_size(&mut extensions, extensions_size as u32);
            let mut handle: HRASCONN = ptr::null_mut();
            // SAFETY: both arenas outlast every version; the path is NUL-terminated.
            let rc = unsafe {
                RasDialA(
                    extensions.as_mut_ptr().cast(),
                    phonebook.as_ptr(),
                    params.as_mut_ptr().cast(),
                    0,
                    ptr::null_mut(),
                    &raw mut handle,
                )
            };
            // Past the structures, the phonebook is what fails.
            assert_eq!(rc, code(RasError::ERROR_CANNOT_OPEN_PHONEBOOK));
            assert!(handle.is_null());
        }
    }
}

#[test]
fn rasdial_refuses_an_unknown_notifier_type_and_null_pointers() {
    let phonebook = no_phonebook();
    let mut params = arena();
    set_size(&mut params, size_of::<RASDIALPARAMSA>() as u32);
    let mut handle: HRASCONN = ptr::null_mut();
    let mut notifier = 0u8;
    // SAFETY: valid arguments but for the notifier type, which is what is checked.
    let rc = unsafe {
        RasDialA(
            ptr::null_mut(),
            phonebook.as_ptr(),
            params.as_mut_ptr().cast(),
            3,
            (&raw mut notifier).cast::<c_void>(),
            &raw mut handle,
        )
    };
    assert_eq!(rc, code(RasError::ERROR_INVALID_PARAMETER));
    // SAFETY: NULL handle pointer, which is what is checked.
    let rc = unsafe {
        RasDialA(
            ptr::null_mut(),
            phonebook.as_ptr(),
            params.as_mut_ptr().cast(),
            0,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    assert_eq!(rc, code(RasError::ERROR_INVALID_PARAMETER));
    // SAFETY: NULL handle: nothing is dereferenced.
    assert_eq!(
        unsafe { RasHangUpA(ptr::null_mut()) },
        code(RasError::ERROR_INVALID_HANDLE)
    );
}

#[test]
fn the_enumerations_check_their_counters_and_the_reserved_argument() {
    let mut cb = 0u32;
    let mut count = 0u32;
    // SAFETY: NULL counters, which is what is checked.
    unsafe {
        assert_eq!(
            RasEnumConnectionsA(ptr::null_mut(), ptr::null_mut(), &raw mut count),
            code(RasError::ERROR_INVALID_PARAMETER)
        );
        assert_eq!(
            RasEnumConnectionsA(ptr::null_mut(), &raw mut cb, ptr::null_mut()),
            code(RasError::ERROR_INVALID_PARAMETER)
        );
    }
    // A NULL buffer that claims a size is not the size query.
    cb = 100;
    // SAFETY: counters valid; the NULL buffer is what is checked.
    let rc = unsafe { RasEnumConnectionsA(ptr::null_mut(), &raw mut cb, &raw mut count) };
    assert_eq!(rc, code(RasError::ERROR_INVALID_PARAMETER));
    // Older RASCONNA versions are accepted (nothing is connected in this process).
    for &size in RASCONNA::SIZES {
        let mut arena = arena();
        set_size(&mut arena, size as u32);
        cb = size as u32;
        // SAFETY: the arena outlasts cb.
        let rc =
            unsafe { RasEnumConnectionsA(arena.as_mut_ptr().cast(), &raw mut cb, &raw mut count) };
        assert_eq!((rc, cb, count), (0, 0, 0), "dwSize {size}");
    }
    let reserved = CString::new("x").expect("no NUL");
    let phonebook = no_phonebook();
    cb = 0;
    // SAFETY: a non-NULL reserved argument, which is what is checked.
    let rc = unsafe {
        RasEnumEntriesA(
            reserved.as_ptr(),
            phonebook.as_ptr(),
            ptr::null_mut::<RASENTRYNAMEA>(),
            &raw mut cb,
            &raw mut count,
        )
    };
    assert_eq!(rc, code(RasError::ERROR_INVALID_PARAMETER));
}

proptest! {
    /// Any bytes as RASDIALPARAMSA and RASDIALEXTENSIONS: refused for their size, or read
    /// (strings without a NUL included) and failing on the phonebook; never a panic.
    #[test]
    fn rasdial_with_arbitrary_structures(
        params in proptest::collection::vec(any::<u8>(), 0..1200),
        extensions in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..80)),
        kind in any::<u32>(),
    ) {
        let phonebook = no_phonebook();
        let mut params_arena = arena();
        // SAFETY: the arena is larger than the generated bytes.
        unsafe { ptr::copy_nonoverlapping(params.as_ptr(), params_arena.as_mut_ptr().cast::<u8>(), params.len()) };
        let mut extensions_arena = arena();
        let extensions_ptr = match &extensions {
            Some(bytes) => {
                // SAFETY: as above.
                unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), extensions_arena.as_mut_ptr().cast::<u8>(), bytes.len()) };
                extensions_arena.as_mut_ptr().cast::<RASDIALEXTENSIONS>()
            }
            None => ptr::null_mut(),
        };
        let mut handle: HRASCONN = ptr::null_mut();
        // SAFETY: every dwSize the library accepts fits in the arenas; no notifier.
        let rc = unsafe {
            RasDialA(extensions_ptr, phonebook.as_ptr(), params_arena.as_mut_ptr().cast(), kind, ptr::null_mut(), &raw mut handle)
        };
        prop_assert!(
            [RasError::ERROR_INVALID_SIZE, RasError::ERROR_CANNOT_OPEN_PHONEBOOK].map(code).contains(&rc),
            "{rc}"
        );
        prop_assert!(handle.is_null());
    }

    /// RasGetErrorStringA with any code and buffer size: the text fits with its NUL, or
    /// 87 / 122; not one byte is written past cBufSize.
    #[test]
    fn error_strings_never_overrun(error in 0u32..1000, size in 0u32..600) {
        let mut arena = arena();
        let buffer = arena.as_mut_ptr().cast::<c_char>();
        // SAFETY: size < ARENA bytes are writable.
        let rc = unsafe { RasGetErrorStringA(error, buffer, size) };
        let written = bytes(&arena);
        prop_assert!(written[size as usize..].iter().all(|&b| b == GUARD));
        match rc {
            0 => {
                let nul = written.iter().position(|&b| b == 0);
                prop_assert!(nul.is_some_and(|n| n < size as usize));
            }
            87 | 122 => {}
            other => prop_assert!(false, "{other}"),
        }
    }

    /// The enumeration with any dwSize and any offered size: 0, 603 with the size needed,
    /// or 632; nothing written past the offered bytes.
    #[test]
    fn enumerations_never_overrun(size in any::<u32>(), offered in 0u32..2048) {
        let mut arena = arena();
        set_size(&mut arena, size);
        let mut cb = offered;
        let mut count = 0u32;
        // SAFETY: `offered` < ARENA bytes are writable.
        let rc = unsafe { RasEnumConnectionsA(arena.as_mut_ptr().cast(), &raw mut cb, &raw mut count) };
        prop_assert!([0, 603, 632].contains(&rc), "{rc}");
        prop_assert!(bytes(&arena)[offered.max(4) as usize..].iter().all(|&b| b == GUARD));
    }
}
