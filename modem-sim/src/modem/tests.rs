//! The modem driven by hand, in virtual time: every delay is exact.

use proptest::prelude::*;
use sansio::{Duration, Instant, Machine};

use super::*;
use crate::call::{BUSY_DETECT, DIAL_TONE_TIMEOUT};

const NETWORK: &str = r#"
numbers:
  "5551234": {connect: 33600, peer: builtin}
  "5550000": busy
  "5550001": no-answer
  "5550002": no-carrier
  "5550003": voice
"#;

fn modem() -> Modem {
    Modem::new(Network::from_yaml(NETWORK).unwrap())
}

fn at_ms(ms: u64) -> Instant {
    Instant::ZERO + Duration::from_millis(ms)
}

fn at_secs(secs: u64) -> Instant {
    Instant::ZERO + Duration::from_secs(secs)
}

/// Everything queued for the DTE, as text.
fn output(modem: &mut Modem) -> String {
    let mut text = Vec::new();
    while let Some(bytes) = modem.poll_transmit() {
        text.extend(bytes);
    }
    String::from_utf8_lossy(&text).into_owned()
}

fn events(modem: &mut Modem) -> Vec<ModemEvent> {
    std::iter::from_fn(|| modem.poll_event()).collect()
}

/// Send `text` at `now` and return what the modem answers at once.
fn send(modem: &mut Modem, now: Instant, text: &str) -> String {
    modem.handle_input(now, text.as_bytes());
    output(modem)
}

/// Fire the modem's timer (which must be set) and return when and what it said.
fn next_timeout(modem: &mut Modem) -> (Instant, String) {
    let due = modem.poll_timeout().expect("a timer is set");
    modem.handle_timeout(due);
    (due, output(modem))
}

/// A modem with echo off, so tests see only responses.
fn quiet_echo() -> Modem {
    let mut m = modem();
    assert_eq!(send(&mut m, Instant::ZERO, "ATE0\r"), "ATE0\r\r\nOK\r\n");
    events(&mut m);
    m
}

#[test]
fn at_answers_ok_with_echo() {
    let mut m = modem();
    assert_eq!(send(&mut m, Instant::ZERO, "AT\r"), "AT\r\r\nOK\r\n");
    assert_eq!(
        events(&mut m),
        vec![
            ModemEvent::CommandLine("AT".into()),
            ModemEvent::Result(ResultCode::Ok)
        ]
    );
}

#[test]
fn echo_can_be_switched_off_and_on() {
    let mut m = quiet_echo();
    assert_eq!(send(&mut m, Instant::ZERO, "AT\r"), "\r\nOK\r\n");
    // E1 takes effect after the line that carries it was echoed (or not).
    assert_eq!(send(&mut m, Instant::ZERO, "ATE1\r"), "\r\nOK\r\n");
    assert_eq!(send(&mut m, Instant::ZERO, "AT\r"), "AT\r\r\nOK\r\n");
}

#[test]
fn v0_gives_numeric_codes_and_v1_verbose() {
    let mut m = quiet_echo();
    assert_eq!(send(&mut m, Instant::ZERO, "ATV0\r"), "0\r");
    assert_eq!(send(&mut m, Instant::ZERO, "ATY\r"), "4\r");
    assert_eq!(send(&mut m, Instant::ZERO, "ATV1\r"), "\r\nOK\r\n");
    assert_eq!(send(&mut m, Instant::ZERO, "ATY\r"), "\r\nERROR\r\n");
}

#[test]
fn q1_suppresses_result_codes_but_not_information_text() {
    let mut m = quiet_echo();
    assert_eq!(send(&mut m, Instant::ZERO, "ATQ1\r"), "");
    assert_eq!(send(&mut m, Instant::ZERO, "ATS7?\r"), "\r\n050\r\n");
    assert_eq!(send(&mut m, Instant::ZERO, "ATQ0\r"), "\r\nOK\r\n");
}

#[test]
fn chained_commands_run_left_to_right() {
    let mut m = modem();
    // E0 takes effect for what follows: the line itself was echoed, the next is not.
    assert_eq!(send(&mut m, Instant::ZERO, "ATE0V0\r"), "ATE0V0\r0\r");
    assert_eq!(send(&mut m, Instant::ZERO, "AT S7=30 S7?\r"), "030\r\n0\r");
    // An error stops the line: V1 after the unknown command never runs.
    assert_eq!(send(&mut m, Instant::ZERO, "ATE1Y0V1\r"), "4\r");
    assert_eq!(
        send(&mut m, Instant::ZERO, "AT\r"),
        "AT\r0\r",
        "E1 before the error did run"
    );
}

#[test]
fn unknown_commands_and_bad_values_give_error() {
    let mut m = quiet_echo();
    for line in [
        "ATY\r",
        "ATE2\r",
        "ATS99?\r",
        "ATS7=0\r",
        "AT+GMI\r",
        "ATH1\r",
        "ATD555;\r",
    ] {
        assert_eq!(
            send(&mut m, Instant::ZERO, line),
            "\r\nERROR\r\n",
            "{line:?}"
        );
    }
}

#[test]
fn garbage_before_at_is_ignored_and_prefix_is_case_insensitive() {
    let mut m = quiet_echo();
    assert_eq!(send(&mut m, Instant::ZERO, "xyz\r\n~~at\r"), "\r\nOK\r\n");
    assert_eq!(send(&mut m, Instant::ZERO, "aTe0v1\r"), "\r\nOK\r\n");
    assert_eq!(send(&mut m, Instant::ZERO, "At\r"), "\r\nOK\r\n");
    // A command line split across reads is one line.
    assert_eq!(send(&mut m, Instant::ZERO, "A"), "");
    assert_eq!(send(&mut m, Instant::ZERO, "TZ"), "");
    assert_eq!(send(&mut m, Instant::ZERO, "\r"), "\r\nOK\r\n");
}

#[test]
fn atz_restores_the_factory_configuration() {
    let mut m = quiet_echo();
    assert_eq!(send(&mut m, Instant::ZERO, "ATV0S7=10\r"), "0\r");
    // Echo was off while ATZ arrived; it is on again for the next line.
    assert_eq!(send(&mut m, Instant::ZERO, "ATZ\r"), "\r\nOK\r\n");
    assert_eq!(
        send(&mut m, Instant::ZERO, "ATS7?\r"),
        "ATS7?\r\r\n050\r\n\r\nOK\r\n"
    );
}

#[test]
fn a_slash_repeats_the_last_line() {
    let mut m = quiet_echo();
    assert_eq!(
        send(&mut m, Instant::ZERO, "ATS7?\r"),
        "\r\n050\r\n\r\nOK\r\n"
    );
    assert_eq!(send(&mut m, Instant::ZERO, "A/"), "\r\n050\r\n\r\nOK\r\n");
}

#[test]
fn dialling_a_modem_connects_after_six_seconds() {
    let mut m = quiet_echo();
    assert_eq!(send(&mut m, Instant::ZERO, "ATDT555-1234\r"), "");
    assert_eq!(
        events(&mut m),
        vec![ModemEvent::CommandLine("ATDT555-1234".into())]
    );
    assert_eq!(m.poll_timeout(), Some(at_secs(6)));
    m.handle_timeout(at_ms(5_999));
    assert_eq!(output(&mut m), "");
    assert_eq!(
        next_timeout(&mut m),
        (at_secs(6), "\r\nCONNECT 33600\r\n".into())
    );
    assert_eq!(
        events(&mut m),
        vec![
            ModemEvent::Result(ResultCode::Connect),
            ModemEvent::CallConnected {
                number: "5551234".into(),
                speed: 33600,
                peer: PeerSpec::Builtin
            },
        ]
    );
    assert!(m.is_online());
    assert_eq!(m.poll_timeout(), None);
}

#[test]
fn busy_line_gives_busy_after_four_seconds() {
    let mut m = quiet_echo();
    send(&mut m, Instant::ZERO, "ATDT5550000\r");
    assert_eq!(
        next_timeout(&mut m),
        (at_secs(2) + BUSY_DETECT, "\r\nBUSY\r\n".into())
    );
    assert_eq!(
        send(&mut m, at_secs(5), "AT\r"),
        "\r\nOK\r\n",
        "back in command state"
    );
}

#[test]
fn no_dialtone_gives_no_dialtone() {
    let mut m = Modem::new(Network {
        dialtone: false,
        ..Network::from_yaml(NETWORK).unwrap()
    });
    m.handle_input(Instant::ZERO, b"ATE0\r");
    output(&mut m);
    send(&mut m, Instant::ZERO, "ATD5551234\r");
    assert_eq!(
        next_timeout(&mut m),
        (
            Instant::ZERO + DIAL_TONE_TIMEOUT,
            "\r\nNO DIALTONE\r\n".into()
        )
    );
}

#[test]
fn unknown_and_no_carrier_numbers_give_no_carrier_after_s7() {
    for number in ["5559999", "5550002"] {
        let mut m = quiet_echo();
        send(&mut m, Instant::ZERO, &format!("ATD{number}\r"));
        // Dial tone (1 s) and digits (1 s), then S7 = 50 s.
        assert_eq!(
            next_timeout(&mut m),
            (at_secs(52), "\r\nNO CARRIER\r\n".into()),
            "{number}"
        );
    }
}

#[test]
fn s7_sets_how_long_an_unanswered_call_rings() {
    let mut m = quiet_echo();
    send(&mut m, Instant::ZERO, "ATS7=30D5550001\r");
    assert_eq!(
        next_timeout(&mut m),
        (at_secs(32), "\r\nNO ANSWER\r\n".into())
    );
    assert_eq!(
        events(&mut m).last(),
        Some(&ModemEvent::Result(ResultCode::NoAnswer))
    );
}

#[test]
fn no_answer_after_s7() {
    let mut m = quiet_echo();
    send(&mut m, Instant::ZERO, "ATD5550001\r");
    assert_eq!(
        next_timeout(&mut m),
        (at_secs(52), "\r\nNO ANSWER\r\n".into())
    );
}

#[test]
fn voice_answer_gives_voice() {
    let mut m = quiet_echo();
    send(&mut m, Instant::ZERO, "ATDT5550003\r");
    assert_eq!(next_timeout(&mut m), (at_secs(6), "\r\nVOICE\r\n".into()));
}

#[test]
fn x0_reports_only_basic_codes() {
    let mut m = quiet_echo();
    send(&mut m, Instant::ZERO, "ATX0\r");
    // Blind dialling waits S6 (2 s); no busy detection, so S7 runs out.
    send(&mut m, Instant::ZERO, "ATD5550000\r");
    assert_eq!(
        next_timeout(&mut m),
        (at_secs(53), "\r\nNO CARRIER\r\n".into())
    );
    send(&mut m, at_secs(60), "ATD5551234\r");
    assert_eq!(
        next_timeout(&mut m),
        (at_secs(67), "\r\nCONNECT\r\n".into())
    );
}

#[test]
fn commas_pause_for_s8() {
    let mut m = quiet_echo();
    send(&mut m, Instant::ZERO, "ATDT555,,1234\r");
    assert_eq!(next_timeout(&mut m).0, at_secs(10));
}

#[test]
fn any_character_aborts_a_dial_but_a_trailing_line_feed_does_not() {
    let mut m = quiet_echo();
    send(&mut m, Instant::ZERO, "ATD5551234\r");
    assert_eq!(send(&mut m, at_ms(10), "\n"), "");
    assert_eq!(m.poll_timeout(), Some(at_secs(6)));
    assert_eq!(send(&mut m, at_secs(3), "AT\r"), "\r\nNO CARRIER\r\n");
    assert_eq!(m.poll_timeout(), None);
    assert_eq!(send(&mut m, at_secs(4), "AT\r"), "\r\nOK\r\n");
}

fn connected() -> Modem {
    let mut m = quiet_echo();
    send(&mut m, Instant::ZERO, "ATD5551234\r");
    next_timeout(&mut m);
    events(&mut m);
    m
}

#[test]
fn online_mode_passes_bytes_both_ways() {
    let mut m = connected();
    // Not a command: AT in online data state is data for the far end.
    m.handle_input(at_secs(7), b"AT\r\x7e\xff\x03");
    assert_eq!(output(&mut m), "");
    assert_eq!(m.poll_line_transmit(), Some(b"AT\r\x7e\xff\x03".to_vec()));
    assert_eq!(m.poll_line_transmit(), None);
    m.handle_line_input(at_secs(7), b"\x7e\x00hello");
    assert_eq!(m.poll_transmit(), Some(b"\x7e\x00hello".to_vec()));
    assert_eq!(events(&mut m), vec![]);
}

#[test]
fn remote_hang_up_gives_no_carrier() {
    let mut m = connected();
    m.remote_hang_up(at_secs(8));
    assert_eq!(output(&mut m), "\r\nNO CARRIER\r\n");
    assert_eq!(
        events(&mut m),
        vec![
            ModemEvent::CallEnded,
            ModemEvent::Result(ResultCode::NoCarrier)
        ]
    );
    assert!(!m.is_online());
    assert_eq!(send(&mut m, at_secs(9), "AT\r"), "\r\nOK\r\n");
    // Line bytes after the call are dropped.
    m.handle_line_input(at_secs(9), b"late");
    assert_eq!(output(&mut m), "");
}

#[test]
fn dtr_drop_hangs_up_silently_and_forgets_pending_output() {
    let mut m = connected();
    m.handle_line_input(at_secs(7), b"unread");
    m.dtr_drop(at_secs(8));
    assert_eq!(output(&mut m), "");
    assert_eq!(events(&mut m), vec![ModemEvent::CallEnded]);
    assert_eq!(send(&mut m, at_secs(9), "AT\r"), "\r\nOK\r\n");

    // A half-typed line is forgotten too.
    send(&mut m, at_secs(9), "ATV0");
    m.dtr_drop(at_secs(10));
    assert_eq!(send(&mut m, at_secs(11), "\r"), "");
}

#[test]
fn dtr_is_ignored_under_and_d0() {
    let mut m = quiet_echo();
    send(&mut m, Instant::ZERO, "AT&D0D5551234\r");
    next_timeout(&mut m);
    m.dtr_drop(at_secs(7));
    assert!(m.is_online());
}

#[test]
fn escape_sequence_reaches_online_command_state_and_ath_hangs_up() {
    let mut m = connected();
    m.handle_input(at_secs(7), b"data");
    // One guard time (S12 = 50 → 1 s) of silence, +++, another guard time.
    m.handle_input(at_secs(8), b"+++");
    assert_eq!(
        m.poll_line_transmit(),
        Some(b"data+++".to_vec()),
        "escape characters are still data"
    );
    assert_eq!(m.poll_timeout(), Some(at_secs(9)));
    assert_eq!(next_timeout(&mut m), (at_secs(9), "\r\nOK\r\n".into()));
    assert!(m.is_online(), "the call stays up in online command state");
    m.handle_line_input(at_secs(9), b"dropped");
    assert_eq!(output(&mut m), "");
    events(&mut m);

    assert_eq!(send(&mut m, at_secs(10), "ATH\r"), "\r\nOK\r\n");
    assert_eq!(
        events(&mut m),
        vec![
            ModemEvent::CommandLine("ATH".into()),
            ModemEvent::CallEnded,
            ModemEvent::Result(ResultCode::Ok),
        ]
    );
    assert!(!m.is_online());
}

#[test]
fn ato_returns_to_the_call() {
    let mut m = connected();
    m.handle_input(at_secs(8), b"+++");
    next_timeout(&mut m);
    assert_eq!(
        send(&mut m, at_secs(10), "ATD123\r"),
        "\r\nERROR\r\n",
        "no second call"
    );
    assert_eq!(send(&mut m, at_secs(10), "ATO\r"), "\r\nCONNECT 33600\r\n");
    m.handle_input(at_secs(11), b"more");
    assert_eq!(m.poll_line_transmit(), Some(b"+++more".to_vec()));
    assert_eq!(
        send(&mut m, at_secs(12), "ATO\r"),
        "",
        "ATO in data state is data"
    );
}

#[test]
fn escape_needs_the_guard_times() {
    let mut m = connected();
    m.handle_input(at_ms(6_500), b"+++");
    assert_eq!(m.poll_timeout(), None, "only 0.5 s after CONNECT");
    m.handle_input(at_secs(9), b"+++");
    m.handle_input(at_ms(9_500), b"x");
    m.handle_timeout(at_secs(11));
    assert_eq!(
        output(&mut m),
        "",
        "data within the guard after +++ cancels it"
    );
    assert!(m.poll_line_transmit().is_some());
}

#[test]
fn ato_without_a_call_gives_no_carrier() {
    let mut m = quiet_echo();
    assert_eq!(send(&mut m, Instant::ZERO, "ATO\r"), "\r\nNO CARRIER\r\n");
}

#[test]
fn dtr_drop_under_and_d1_keeps_the_call_in_online_command_state() {
    let mut m = quiet_echo();
    send(&mut m, Instant::ZERO, "AT&D1D5551234\r");
    next_timeout(&mut m);
    events(&mut m);
    m.dtr_drop(at_secs(7));
    assert!(m.is_online());
    assert_eq!(send(&mut m, at_secs(8), "ATH\r"), "\r\nOK\r\n");
    assert!(!m.is_online());
}

/// DTE input that is sometimes noise and sometimes the words that move the modem
/// between states, so the property reaches dialling, online and escape paths.
fn dte_chunk() -> impl Strategy<Value = Vec<u8>> {
    const WORDS: &[&str] = &[
        "AT",
        "at",
        "\r",
        "\n",
        "D5551234",
        "DT5550000",
        "D5550003",
        "D5559999",
        "+++",
        "O",
        "H",
        "Z",
        "E0",
        "V0",
        "Q1",
        "X0",
        "&D0",
        "&D1",
        "S7=1",
        "S3=13",
        "S12=0",
        "A/",
    ];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..64),
        proptest::collection::vec(proptest::sample::select(WORDS), 1..8)
            .prop_map(|words| words.concat().into_bytes()),
    ]
}

proptest! {
    /// Whatever a DTE and the far end send, in whatever pieces and at whatever times, the
    /// modem never panics and a remote hang-up always ends the call.
    #[test]
    fn random_dte_bytes_never_panic(
        chunks in proptest::collection::vec(
            (0u64..70_000, dte_chunk()),
            0..48,
        )
    ) {
        let mut m = modem();
        let mut now = Instant::ZERO;
        for (advance_ms, bytes) in chunks {
            now += Duration::from_millis(advance_ms);
            m.handle_timeout(now);
            m.handle_input(now, &bytes);
            m.handle_line_input(now, &bytes);
            while m.poll_transmit().is_some() {}
            while m.poll_line_transmit().is_some() {}
            while m.poll_event().is_some() {}
        }
        // Whatever state that left, the far end hanging up ends any call.
        m.remote_hang_up(now);
        prop_assert!(!m.is_online());
    }
}
