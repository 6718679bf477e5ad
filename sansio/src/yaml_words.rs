//! The YAML loaders' messages in their users' words.
//!
//! `modem-sim`'s network file and `ppp-peer-sim`'s script are read with serde-saphyr,
//! whose messages sometimes speak of the library ("set DuplicateKeyPolicy in Options if
//! acceptable") or of Rust types ("invalid u32") instead of the file. Both tools pass the
//! library's message through [`plain`]. It lives here, string in and string out, because
//! `sansio` is the one crate both tools share and it must depend on nothing.

use std::borrow::Cow;

/// `message` (a serde-saphyr error message, without its position) reworded where it names
/// library internals; any other message is returned as it is.
pub fn plain(message: &str) -> Cow<'_, str> {
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest
            .split_once(", set DuplicateKeyPolicy")
            .map_or(rest, |(key, _)| key);
        return Cow::Owned(format!(
            "`{key}` is given twice here; each key may appear only once"
        ));
    }
    if let Some(kind) = message.strip_prefix("invalid ")
        && let Some(range) = integer_range(kind.trim())
    {
        return Cow::Owned(format!("expected a whole number from {range}"));
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        return Cow::Owned(match rest.split_once(", expected one of ") {
            Some((key, keys)) => format!("unknown key {key}; the keys allowed here are {keys}"),
            None => format!("unknown key {rest}"),
        });
    }
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        return Cow::Owned(match rest.split_once(", expected one of ") {
            Some((value, values)) => {
                format!("{value} is not allowed here; expected one of {values}")
            }
            None => format!("{rest} is not allowed here"),
        });
    }
    if message.contains("did not match any variant of untagged enum") {
        return Cow::Borrowed("this value has none of the forms allowed here (see --help)");
    }
    Cow::Borrowed(message)
}

/// The values of Rust integer type `kind`, in words.
fn integer_range(kind: &str) -> Option<String> {
    Some(match kind {
        "u8" => format!("0 to {}", u8::MAX),
        "u16" => format!("0 to {}", u16::MAX),
        "u32" => format!("0 to {}", u32::MAX),
        "u64" => format!("0 to {}", u64::MAX),
        "usize" => format!("0 to {}", usize::MAX),
        "i32" => format!("{} to {}", i32::MIN, i32::MAX),
        "i64" => format!("{} to {}", i64::MIN, i64::MAX),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_words_become_the_users() {
        assert_eq!(
            plain("duplicate mapping key: users, set DuplicateKeyPolicy in Options if acceptable"),
            "`users` is given twice here; each key may appear only once"
        );
        assert_eq!(
            plain("invalid u32"),
            "expected a whole number from 0 to 4294967295"
        );
        assert_eq!(
            plain("data did not match any variant of untagged enum ResultValue"),
            "this value has none of the forms allowed here (see --help)"
        );
        assert_eq!(
            plain("unknown field `x`, expected one of a, b"),
            "unknown key `x`; the keys allowed here are a, b"
        );
        assert_eq!(
            plain("unknown variant `papp`, expected one of pap, none"),
            "`papp` is not allowed here; expected one of pap, none"
        );
        assert_eq!(plain("invalid type: string"), "invalid type: string");
    }
}
