//! Targets for `modem-sim`: the V.250 command line and the whole interpreter.

use modem_sim::command::{Assembled, LineAssembler, parse};
use modem_sim::{Modem, Network};
use sansio::{Duration, Instant, Machine};

/// V.250 §5.2.1 asks for at least 40 characters of body; modem-sim keeps 255.
const MAX_BODY_LEN: usize = 255;

/// The line editor (V.250 §5.2) and the command parser (§5.3, §5.4). The first two octets
/// are S3 (termination) and S5 (editing), the rest is what the DTE typed. Every assembled
/// body is bounded; parsing it takes at least one character per command and stops only at
/// the end of the body (after an error, §5.6 drops the rest).
pub fn v250_command(data: &[u8]) {
    let [termination, editing, typed @ ..] = data else {
        return;
    };
    let mut assembler = LineAssembler::default();
    for &byte in typed {
        let Some(Assembled::Line { body, .. }) = assembler.push(byte, *termination, *editing)
        else {
            continue;
        };
        assert!(
            body.len() <= MAX_BODY_LEN,
            "a body of {} characters",
            body.len()
        );
        let mut commands = parse(&body);
        let mut taken = 0;
        for _ in commands.by_ref() {
            taken += 1;
            assert!(
                taken <= body.len(),
                "{taken} commands from {} characters",
                body.len()
            );
        }
        assert!(
            commands.rest().is_empty(),
            "the parser stopped before the end"
        );
    }
}

/// A network where every kind of call is reachable, so dials go somewhere.
const NETWORK: &str = r#"
line: {pacing: true, bit-error-rate: 0.001, drop-rate: 0.001, seed: 1}
numbers:
  "1": {connect: 33600, drop-after-bytes: 64, call-back: {number: "9", after: 1}}
  "2": busy
  "3": no-answer
  "4": voice
  "5": {connect: 2400, drop-after-seconds: 3}
"#;

/// The V.250 interpreter: whatever a DTE and the far end send, in whatever pieces and at
/// whatever times, the modem must not panic.
pub fn modem_interpreter(data: &[u8]) {
    let network = Network::from_yaml(NETWORK).expect("fixed network");
    let mut modem = Modem::new(network);
    let mut now = Instant::ZERO;
    // Each chunk: one byte of time advance (in 100 ms steps), one byte of length, then
    // that many bytes, sent from the DTE and from the far end.
    let mut rest = data;
    while let [advance, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (bytes, next) = tail.split_at(len);
        rest = next;
        now += Duration::from_millis(100 * u64::from(*advance));
        modem.handle_timeout(now);
        modem.handle_input(now, bytes);
        modem.handle_line_input(now, bytes);
        if advance % 7 == 0 {
            modem.remote_hang_up(now);
        }
        if advance % 11 == 0 {
            modem.dtr_drop(now);
        }
        while modem.poll_transmit().is_some() {}
        while modem.poll_line_transmit().is_some() {}
        while modem.poll_event().is_some() {}
        let _ = modem.poll_timeout();
    }
}

/// The control line a far-end process sends (`callback NUMBER SECONDS`): any text reads or
/// says why, and what reads writes back to the same request.
pub fn control_request(data: &[u8]) {
    let line = String::from_utf8_lossy(data);
    if let Ok(request) = modem_sim::control::ControlRequest::parse(&line) {
        let again = modem_sim::control::ControlRequest::parse(&request.to_string());
        assert!(again.is_ok(), "{request:?} does not read back: {again:?}");
    }
}
