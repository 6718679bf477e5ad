//! Strings across the boundary: the fixed `CHAR[N]` fields of the RAS structures and the
//! NUL-terminated `LPCSTR` arguments.

use std::ffi::{CStr, c_char};

/// The text of a `CHAR[N]` field: up to its first NUL (or the whole array if it has none);
/// bytes that are not UTF-8 become U+FFFD.
pub(crate) fn from_field(field: &[c_char]) -> String {
    let bytes: Vec<u8> = field
        .iter()
        .map(|&c| c.to_ne_bytes()[0])
        .take_while(|&b| b != 0)
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Fill a `CHAR[N]` field with `text`: cut at a character boundary to fit N - 1 bytes,
/// NUL-terminated, zero after.
pub(crate) fn to_field(field: &mut [c_char], text: &str) {
    let room = field.len().saturating_sub(1);
    let mut end = text.len().min(room);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    field.fill(0);
    for (slot, &byte) in field.iter_mut().zip(&text.as_bytes()[..end]) {
        *slot = c_char::from_ne_bytes([byte]);
    }
}

/// A NUL-terminated argument; `None` for NULL.
///
/// # Safety
///
/// `text` is NULL or points to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn argument<'a>(text: *const c_char) -> Option<&'a CStr> {
    // SAFETY: the caller's promise.
    (!text.is_null()).then(|| unsafe { CStr::from_ptr(text) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_cut_to_fit_with_their_nul() {
        let mut field = [0x55 as c_char; 5];
        to_field(&mut field, "abcdef");
        assert_eq!(from_field(&field), "abcd");
        assert_eq!(field[4], 0);
        // A two-byte character that would straddle the end is left out whole.
        to_field(&mut field, "abcé");
        assert_eq!(from_field(&field), "abc");
        to_field(&mut field, "");
        assert_eq!(field, [0; 5]);
    }

    #[test]
    fn a_field_without_nul_is_read_to_its_end() {
        let field = [b'x' as c_char; 3];
        assert_eq!(from_field(&field), "xxx");
    }
}
