//! The caller's versioned structures: read and written by the `dwSize` the caller set,
//! never past it (see [`crate::abi`]).

use std::mem::size_of;
use std::ptr;

use ras_engine::ras::RasError;

use crate::abi::Versioned;

/// A structure of all zero bytes, the value every field has before the library fills it.
pub(crate) fn zeroed<T: Versioned>() -> T {
    // SAFETY: `Versioned` promises that all-zero bytes are a valid `T`.
    unsafe { std::mem::zeroed() }
}

/// The `dwSize` of the structure at `structure`, if it is the size of one of `T`'s
/// versions; 632 ERROR_INVALID_SIZE otherwise.
///
/// # Safety
///
/// `structure` is non-null and its first four bytes are readable.
pub(crate) unsafe fn declared_size<T: Versioned>(structure: *const T) -> Result<usize, RasError> {
    // SAFETY: the caller's promise; `dwSize` is the first field of every `Versioned`.
    let size = unsafe { structure.cast::<u32>().read_unaligned() };
    usize::try_from(size)
        .ok()
        .filter(|size| T::SIZES.contains(size))
        .ok_or(RasError::ERROR_INVALID_SIZE)
}

/// A copy of the caller's structure: its version's bytes, zero beyond them.
///
/// # Safety
///
/// `structure` is non-null and points to a `T` of the version its `dwSize` names.
pub(crate) unsafe fn read_in<T: Versioned>(structure: *const T) -> Result<T, RasError> {
    // SAFETY: the caller's promise.
    let size = unsafe { declared_size(structure) }?;
    let mut value = zeroed::<T>();
    // SAFETY: `size` bytes are readable at `structure` (the caller's version) and writable
    // in `value` (`SIZES` never exceeds `size_of::<T>()`); the two do not overlap.
    unsafe {
        ptr::copy_nonoverlapping(structure.cast::<u8>(), (&raw mut value).cast::<u8>(), size);
    }
    Ok(value)
}

/// Write the first `size` bytes of `value` (the caller's version) to `structure`.
///
/// # Safety
///
/// `structure` is non-null and `size` bytes are writable there.
pub(crate) unsafe fn write_out<T: Versioned>(value: &T, structure: *mut T, size: usize) {
    // SAFETY: the caller's promise; `value` has at least `size` bytes once clamped.
    unsafe {
        ptr::copy_nonoverlapping(
            ptr::from_ref(value).cast::<u8>(),
            structure.cast::<u8>(),
            size.min(size_of::<T>()),
        );
    }
}
