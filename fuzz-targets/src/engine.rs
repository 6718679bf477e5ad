//! Targets for `ras-engine`: what the modem says to the dialer, and the phonebook.

use ras_engine::hayes::{CarrierWatch, Dialer, DialerConfig, ResultCode};
use ras_engine::phonebook::Phonebook;
use sansio::{Duration, Instant, Machine};

/// The Hayes result parser (V.250 §5.7) and the `NO CARRIER` watch: every line either is a
/// result code or is not, and a code's own text reads back as the same code; the watch
/// gives the same verdict whether the bytes come in one read or one at a time.
pub fn hayes_result(data: &[u8]) {
    for line in String::from_utf8_lossy(data).lines() {
        if let Some(code) = ResultCode::parse(line) {
            assert_eq!(ResultCode::parse(&code.to_string()), Some(code), "{line:?}");
        }
    }
    let whole = CarrierWatch::default().feed(data);
    let mut watch = CarrierWatch::default();
    let mut lost = false;
    for byte in data {
        lost = watch.feed(std::slice::from_ref(byte));
    }
    assert_eq!(
        lost, whole,
        "the verdict depends on how the bytes were read"
    );
}

/// The engine's Hayes dialer: any modem responses, in any chunking, must never panic, and
/// the dialer must finish at most once.
pub fn hayes_dialer(data: &[u8]) {
    let mut now = Instant::ZERO;
    let mut dialer = Dialer::new(now, DialerConfig::new("5551234"));
    let mut finished = 0;
    for piece in data.chunks(7) {
        now += Duration::from_millis(500);
        dialer.handle_input(now, piece);
        dialer.handle_timeout(now);
        while dialer.poll_transmit().is_some() {}
        while dialer.poll_event().is_some() {
            finished += 1;
        }
    }
    assert!(finished <= 1, "the dialer finished {finished} times");
}

/// The `rasphone.pbk` reader: any bytes either parse or give a typed error, never a panic;
/// whatever parses and can be written reads back equal.
pub fn pbk_parse(data: &[u8]) {
    let Ok(phonebook) = Phonebook::parse_bytes(data, None) else {
        return;
    };
    // Values with a lone CR (or other unwritable text) are refused by the writer.
    let Ok(text) = phonebook.to_pbk_string() else {
        return;
    };
    // Written back in the encoding it came in (a UTF-16 or BOM file stays one).
    match Phonebook::parse_bytes(&phonebook.encoding.encode(&text), None) {
        Ok(again) => assert_eq!(again, phonebook, "round trip changed the phonebook"),
        Err(error) => panic!("written phonebook does not read back: {error}\n{text}"),
    }
}

/// The Windows dial-script (`.scp`) parser and runner: any text either parses or gives a
/// positioned error; a script that parses then runs against the same bytes as line input,
/// and through its timers, without panicking.
pub fn scp_parse(data: &[u8]) {
    use ras_engine::script::{DialScript, ScriptRunner, translate};
    use sansio::{Duration, Instant, Machine};

    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = translate(text);
    match DialScript::parse(text) {
        Ok(script) => {
            let mut runner = ScriptRunner::new(script, "alice", "secret");
            runner.start(Instant::ZERO);
            runner.handle_input(Instant::ZERO, data);
            let mut now = Instant::ZERO;
            for _ in 0..8 {
                let Some(next) = runner.poll_timeout() else {
                    break;
                };
                now = next.max(now + Duration::from_millis(1));
                runner.handle_timeout(now);
            }
            while runner.poll_transmit().is_some() {}
            while runner.poll_event().is_some() {}
        }
        Err(error) => assert!(error.line >= 1 && error.column >= 1),
    }
}
