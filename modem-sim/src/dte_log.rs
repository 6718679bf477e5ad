//! What the debug log shows of the bytes a DTE sends: everything, except the inside of
//! PPP authentication frames. A dialer's PAP Authenticate-Request carries the password in
//! clear (RFC 1334 §2.2.1), and MS-CHAPv2's Change-Password carries an encrypted one
//! (RFC 2759 §7), so a `RUST_LOG=debug` log must never hold those frames' bytes. Only a
//! wire capture may, as the wire itself does.
//!
//! modem-sim knows nothing of PPP otherwise (it depends on no engine code), so this is the
//! least that recognises the frames: RFC 1662 §4 async HDLC (`7E` flags, `7D` escapes),
//! an optional `FF 03` address and control field, and the protocol that follows. A frame
//! may be split over any number of reads; the few bytes needed to see its protocol are
//! held back until they have arrived.

/// RFC 1662 §4.1 flag sequence.
const FLAG: u8 = 0x7e;
/// RFC 1662 §4.2 control escape.
const ESCAPE: u8 = 0x7d;
/// RFC 1334 PAP and RFC 1994 CHAP protocol numbers (RFC 1661 §2, PPP DLL Protocol
/// Numbers).
const PAP: [u8; 2] = [0xc0, 0x23];
const CHAP: [u8; 2] = [0xc2, 0x23];

/// Where the redactor stands in the byte stream.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum State {
    /// Outside any frame: AT commands and other text, logged as is.
    #[default]
    Text,
    /// After a flag, before the protocol is known: the raw bytes so far (held back) and
    /// their unescaped values.
    Header { raw: Vec<u8>, plain: Vec<u8> },
    /// Inside a frame of a protocol that may be logged.
    Open,
    /// Inside an authentication frame: nothing is logged until the next flag.
    Redacting,
}

/// Turns the DTE's byte stream into loggable text, chunk by chunk.
#[derive(Debug, Default)]
pub struct DteLog {
    state: State,
    /// The previous raw byte was a `7D` escape (inside a header).
    escaped: bool,
}

impl DteLog {
    /// The loggable form of the next `bytes` from the DTE: the bytes themselves (lossy
    /// UTF-8), with each authentication frame replaced by `<PAP frame redacted>` or
    /// `<CHAP frame redacted>`. Bytes that might begin such a frame are held back until
    /// the next call tells.
    pub fn redact(&mut self, bytes: &[u8]) -> String {
        let mut out = Vec::with_capacity(bytes.len());
        for &byte in bytes {
            if byte == FLAG {
                // A flag ends a frame and starts the next: whatever header was pending
                // belonged to a frame too short to carry a protocol; log it.
                if let State::Header { raw, .. } = &self.state {
                    out.extend_from_slice(raw);
                }
                out.push(FLAG);
                self.state = State::Header {
                    raw: Vec::new(),
                    plain: Vec::new(),
                };
                self.escaped = false;
                continue;
            }
            match &mut self.state {
                State::Text | State::Open => out.push(byte),
                State::Redacting => {}
                State::Header { raw, plain } => {
                    raw.push(byte);
                    if byte == ESCAPE {
                        self.escaped = true;
                        continue;
                    }
                    plain.push(if std::mem::take(&mut self.escaped) {
                        byte ^ 0x20
                    } else {
                        byte
                    });
                    if let Some(auth) = authentication(plain) {
                        out.extend_from_slice(format!("<{auth} frame redacted>").as_bytes());
                        self.state = State::Redacting;
                    } else if plain.len() >= 4 || !could_be_authentication(plain) {
                        out.extend_from_slice(raw);
                        self.state = State::Open;
                    }
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// The start of a frame's unescaped bytes, without the `FF 03` address and control field
/// if it is there (RFC 1662 §3.2; ACFC may leave it out).
fn protocol_field(plain: &[u8]) -> &[u8] {
    plain.strip_prefix(&[0xff, 0x03]).unwrap_or(plain)
}

/// "PAP" or "CHAP" once `plain` shows an authentication protocol.
fn authentication(plain: &[u8]) -> Option<&'static str> {
    match protocol_field(plain).get(..2)? {
        p if p == PAP => Some("PAP"),
        p if p == CHAP => Some("CHAP"),
        _ => None,
    }
}

/// Whether more bytes could still make `plain` an authentication frame's start.
fn could_be_authentication(plain: &[u8]) -> bool {
    let starts = |field: &[u8]| PAP.starts_with(field) || CHAP.starts_with(field);
    match plain {
        [] | [0xff] => true,
        [0xff, 0x03, rest @ ..] => starts(rest),
        _ => starts(plain),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// An HDLC frame of `information` under `protocol` (escaping every byte below 0x20
    /// and the flag and escape themselves, as the default ACCM does; no FCS needed).
    fn frame(protocol: [u8; 2], information: &[u8]) -> Vec<u8> {
        let mut out = vec![FLAG];
        for &b in [0xff, 0x03].iter().chain(&protocol).chain(information) {
            if b < 0x20 || b == FLAG || b == ESCAPE {
                out.extend([ESCAPE, b ^ 0x20]);
            } else {
                out.push(b);
            }
        }
        out.push(FLAG);
        out
    }

    /// PAP Authenticate-Request: id 1, peer-id "alice", password "s3cr3t-pw".
    fn pap_request() -> Vec<u8> {
        let mut info = vec![1, 1, 0, 20, 5];
        info.extend(b"alice");
        info.push(9);
        info.extend(b"s3cr3t-pw");
        frame(PAP, &info)
    }

    #[test]
    fn text_and_other_frames_are_logged_as_they_are() {
        let mut log = DteLog::default();
        assert_eq!(log.redact(b"ATDT5551234\r"), "ATDT5551234\r");
        let lcp = frame([0xc0, 0x21], b"LCP stuff");
        assert_eq!(log.redact(&lcp), String::from_utf8_lossy(&lcp));
    }

    #[test]
    fn a_pap_request_is_redacted_however_it_is_split() {
        let bytes = [b"AT\r".as_slice(), &pap_request(), &frame(CHAP, b"x")].concat();
        for split in 0..bytes.len() {
            let mut log = DteLog::default();
            let text = log.redact(&bytes[..split]) + &log.redact(&bytes[split..]);
            assert!(!text.contains("s3cr3t"), "split at {split}: {text:?}");
            assert!(
                text.contains("<PAP frame redacted>"),
                "split at {split}: {text:?}"
            );
            assert!(
                text.contains("<CHAP frame redacted>"),
                "split at {split}: {text:?}"
            );
            assert!(text.starts_with("AT\r"), "split at {split}: {text:?}");
        }
    }

    #[test]
    fn compressed_address_and_escaped_protocol_are_recognised() {
        let mut log = DteLog::default();
        // ACFC: no FF 03; the protocol's 0x23 is not escaped, but escape it anyway.
        let text = log.redact(&[FLAG, 0xc0, ESCAPE, 0x23 ^ 0x20, 1, 1, b'p', b'w', FLAG]);
        assert_eq!(text, "\u{7e}<PAP frame redacted>\u{7e}");
    }

    proptest! {
        /// Whatever surrounds it and however the stream is cut, the password never shows.
        #[test]
        fn the_password_never_shows(
            before in proptest::collection::vec(any::<u8>(), 0..40),
            cuts in proptest::collection::vec(0usize..80, 0..4),
        ) {
            let mut bytes = before;
            bytes.extend(pap_request());
            let mut log = DteLog::default();
            let mut text = String::new();
            let mut rest = bytes.as_slice();
            for cut in cuts {
                let (head, tail) = rest.split_at(cut.min(rest.len()));
                text += &log.redact(head);
                rest = tail;
            }
            text += &log.redact(rest);
            prop_assert!(!text.contains("s3cr3t"), "{:?}", text);
        }
    }
}
