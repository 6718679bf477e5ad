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
        "ATS13?\r",
        "AT+XYZ\r",
        "AT+FCLASS=2\r",
        "ATH2\r",
        "ATI10\r",
        "AT&D4\r",
        "AT&Z\r",
        "ATDL\r",
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
fn remote_hang_up_gives_no_carrier_after_s10() {
    let mut m = connected();
    m.remote_hang_up(at_secs(8));
    assert_eq!(output(&mut m), "");
    // V.250 §6.3.12: the modem waits S10 (1.4 s) for the carrier to come back; the line
    // carries nothing meanwhile.
    m.handle_input(at_ms(8_100), b"lost");
    assert_eq!(m.poll_line_transmit(), None);
    assert!(m.is_online());
    assert_eq!(m.poll_timeout(), Some(at_ms(9_400)));
    assert_eq!(
        next_timeout(&mut m),
        (at_ms(9_400), "\r\nNO CARRIER\r\n".into())
    );
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
        // Whatever state that left, once any dial has finished the far end hanging up
        // ends any call within S10.
        now += Duration::from_secs(60);
        m.handle_timeout(now);
        m.remote_hang_up(now);
        m.handle_timeout(now + Duration::from_secs(26));
        prop_assert!(!m.is_online());
    }
}

/// Dial `number` on a quiet-echo modem (configured first by `setup`, if not empty) and
/// return when and what the final result was.
fn dial_result(setup: &str, number: &str) -> (Instant, String) {
    let mut m = quiet_echo();
    if !setup.is_empty() {
        assert_eq!(
            send(&mut m, Instant::ZERO, setup),
            "\r\nOK\r\n",
            "{setup:?}"
        );
    }
    send(&mut m, Instant::ZERO, &format!("ATD{number}\r"));
    next_timeout(&mut m)
}

#[test]
fn every_result_code_has_its_numeric_form_under_v0() {
    for (number, code) in [
        ("5551234", "1\r"),
        ("5550000", "7\r"),
        ("5550001", "8\r"),
        ("5550002", "3\r"),
        ("5550003", "12\r"),
    ] {
        let mut m = quiet_echo();
        assert_eq!(send(&mut m, Instant::ZERO, "ATV0\r"), "0\r");
        send(&mut m, Instant::ZERO, &format!("ATD{number}\r"));
        assert_eq!(next_timeout(&mut m).1, code, "{number}");
    }
    let mut m = Modem::new(Network::from_yaml("dialtone: false").unwrap());
    assert_eq!(send(&mut m, Instant::ZERO, "ATE0V0D1\r"), "ATE0V0D1\r");
    assert_eq!(next_timeout(&mut m).1, "6\r");
    assert_eq!(send(&mut m, at_secs(9), "AT?\r"), "4\r");
    m.incoming_call(at_secs(10), caller());
    assert_eq!(output(&mut m), "2\r");
}

#[test]
fn x_levels_choose_detections_and_codes() {
    // X1: CONNECT with speed, but no busy detection and blind dialling (S6).
    assert_eq!(
        dial_result("ATX1\r", "5551234"),
        (at_secs(7), "\r\nCONNECT 33600\r\n".into())
    );
    assert_eq!(
        dial_result("ATX1\r", "5550000"),
        (at_secs(53), "\r\nNO CARRIER\r\n".into())
    );
    assert_eq!(
        dial_result("ATX1\r", "5550001"),
        (at_secs(53), "\r\nNO ANSWER\r\n".into())
    );
    // X2: dial tone detection, still no busy.
    assert_eq!(
        dial_result("ATX2\r", "5550000"),
        (at_secs(52), "\r\nNO CARRIER\r\n".into())
    );
    // X3: busy detection, blind dialling.
    assert_eq!(
        dial_result("ATX3\r", "5550000"),
        (at_secs(5), "\r\nBUSY\r\n".into())
    );
    // X0: basic codes only, VOICE and NO ANSWER become NO CARRIER.
    assert_eq!(
        dial_result("ATX0\r", "5550003"),
        (at_secs(53), "\r\nNO CARRIER\r\n".into())
    );
    assert_eq!(
        dial_result("ATX0\r", "5550001"),
        (at_secs(53), "\r\nNO CARRIER\r\n".into())
    );
    // Without dial tone detection a dead line gives NO CARRIER, not NO DIALTONE.
    let dead = || Modem::new(Network::from_yaml("dialtone: false").unwrap());
    for (setup, expected) in [
        ("ATX3D1\r", "\r\nNO CARRIER\r\n"),
        ("ATX2D1\r", "\r\nNO DIALTONE\r\n"),
    ] {
        let mut m = dead();
        send(&mut m, Instant::ZERO, setup);
        output(&mut m);
        assert_eq!(next_timeout(&mut m).1, expected, "{setup:?}");
    }
}

#[test]
fn s3_and_s5_can_be_changed() {
    let mut m = quiet_echo();
    // S5 = '#' (35) edits; S3 = '!' (33) ends lines, and a CR is then ignored.
    assert_eq!(send(&mut m, Instant::ZERO, "ATS5=35\r"), "\r\nOK\r\n");
    assert_eq!(send(&mut m, Instant::ZERO, "ATS3=33\r"), "!\nOK!\n");
    // Responses now end with S3 too.
    assert_eq!(send(&mut m, Instant::ZERO, "ATE3#0!"), "!\nOK!\n");
    assert_eq!(send(&mut m, Instant::ZERO, "ATS3?\r!"), "!\n033!\n!\nOK!\n");
}

#[test]
fn backspace_edits_the_line() {
    let mut m = modem();
    // Echo shows the backspace; the command that runs is the edited one.
    assert_eq!(send(&mut m, Instant::ZERO, "ATV2\x080\r"), "ATV2\x080\r0\r");
    assert_eq!(
        send(&mut m, Instant::ZERO, "AT\x08\x08\x08V1\r"),
        "AT\x08\x08\x08V1\r\r\nOK\r\n"
    );
}

#[test]
fn an_over_long_line_gives_error() {
    let mut m = quiet_echo();
    let line = format!("AT{}\r", "E0".repeat(200));
    assert_eq!(send(&mut m, Instant::ZERO, &line), "\r\nERROR\r\n");
    // The buffer is fine again for the next line.
    assert_eq!(
        send(&mut m, Instant::ZERO, &format!("AT{}\r", "E0".repeat(100))),
        "\r\nOK\r\n"
    );
}

#[test]
fn a_slash_repeats_an_error_and_a_dial_too() {
    let mut m = quiet_echo();
    assert_eq!(send(&mut m, Instant::ZERO, "ATE0Y\r"), "\r\nERROR\r\n");
    assert_eq!(send(&mut m, Instant::ZERO, "A/"), "\r\nERROR\r\n");
    send(&mut m, Instant::ZERO, "ATD5550000\r");
    next_timeout(&mut m);
    send(&mut m, at_secs(10), "a/");
    assert_eq!(next_timeout(&mut m), (at_secs(14), "\r\nBUSY\r\n".into()));
}

#[test]
fn and_w_stores_what_z_restores_and_and_f_does_not_touch() {
    let mut m = quiet_echo();
    assert_eq!(send(&mut m, Instant::ZERO, "ATS7=30&W\r"), "\r\nOK\r\n");
    assert_eq!(send(&mut m, Instant::ZERO, "ATS7=40\r"), "\r\nOK\r\n");
    // Z restores the stored profile (echo off, S7 30), &F the factory one.
    assert_eq!(send(&mut m, Instant::ZERO, "ATZ\r"), "\r\nOK\r\n");
    assert_eq!(
        send(&mut m, Instant::ZERO, "ATS7?\r"),
        "\r\n030\r\n\r\nOK\r\n"
    );
    assert_eq!(send(&mut m, Instant::ZERO, "AT&F\r"), "\r\nOK\r\n");
    assert_eq!(
        send(&mut m, Instant::ZERO, "ATS7?\r"),
        "ATS7?\r\r\n050\r\n\r\nOK\r\n"
    );
}

#[test]
fn and_v_shows_active_and_stored_profiles() {
    let mut m = quiet_echo();
    let text = send(&mut m, Instant::ZERO, "ATX3&D1&V\r");
    assert_eq!(
        text,
        "\r\nACTIVE PROFILE:\r\n\r\nE0 Q0 V1 X3 &C1 &D1\r\n\r\n\
         S00:000 S01:000 S02:043 S03:013 S04:010 S05:008 S06:002 S07:050 S08:002 S09:006 S10:014 S11:095 S12:050\r\n\
         \r\nSTORED PROFILE:\r\n\r\nE1 Q0 V1 X4 &C1 &D2\r\n\r\n\
         S00:000 S01:000 S02:043 S03:013 S04:010 S05:008 S06:002 S07:050 S08:002 S09:006 S10:014 S11:095 S12:050\r\n\
         \r\nOK\r\n"
    );
}

#[test]
fn every_s_register_from_s0_to_s12_reads_its_default() {
    let mut m = quiet_echo();
    for (register, default) in [
        (0, 0),
        (1, 0),
        (2, 43),
        (3, 13),
        (4, 10),
        (5, 8),
        (6, 2),
        (7, 50),
        (8, 2),
        (9, 6),
        (10, 14),
        (11, 95),
        (12, 50),
    ] {
        assert_eq!(
            send(&mut m, Instant::ZERO, &format!("ATS{register}?\r")),
            format!("\r\n{default:03}\r\n\r\nOK\r\n"),
            "S{register}"
        );
    }
    assert_eq!(send(&mut m, Instant::ZERO, "ATS11=49\r"), "\r\nERROR\r\n");
    assert_eq!(
        send(&mut m, Instant::ZERO, "ATS0=2S0?\r"),
        "\r\n002\r\n\r\nOK\r\n"
    );
}

#[test]
fn identification_commands_answer_text_then_ok() {
    let mut m = quiet_echo();
    assert_eq!(
        send(&mut m, Instant::ZERO, "ATI0\r"),
        "\r\n33600\r\n\r\nOK\r\n"
    );
    assert_eq!(
        send(&mut m, Instant::ZERO, "ATI3\r"),
        "\r\nmodem-sim\r\n\r\nOK\r\n"
    );
    for n in 0..=9 {
        let text = send(&mut m, Instant::ZERO, &format!("ATI{n}\r"));
        assert!(
            text.ends_with("\r\n\r\nOK\r\n") && text.len() > 10,
            "I{n}: {text:?}"
        );
    }
    assert_eq!(
        send(&mut m, Instant::ZERO, "AT+GMM\r"),
        "\r\nmodem-sim V.250 simulated modem\r\n\r\nOK\r\n"
    );
}

#[test]
fn real_init_strings_with_unsupported_settings_get_ok() {
    let mut m = modem();
    for init in [
        "AT&F E0 V1 &C1 &D2 &K3 \\N3 %C0 +FCLASS=0\r",
        "ATQ0 V1 E0 S0=0 &C1 &D2 +FCLASS=0\r",
        "ATL1M1X4\r",
        "AT&K0;\r",
    ] {
        assert!(
            send(&mut m, Instant::ZERO, init).ends_with("\r\nOK\r\n"),
            "{init:?}"
        );
    }
}

#[test]
fn dial_modifiers_take_their_time() {
    // W waits for a second dial tone (1 s), ! flashes the hook (0.5 s); T, P, @ are free.
    assert_eq!(dial_result("", "T555W1234").0, at_secs(7));
    assert_eq!(dial_result("", "P!555@1234").0, at_ms(6_500));
    assert_eq!(dial_result("ATS8=5\r", "555,1234").0, at_secs(11));
}

#[test]
fn a_semicolon_returns_to_command_state_and_runs_the_rest() {
    let mut m = quiet_echo();
    assert_eq!(send(&mut m, Instant::ZERO, "ATDT5551234;V0\r"), "");
    // Dial tone 1 s, digits 1 s, then the rest of the line (V0) and its result.
    assert_eq!(next_timeout(&mut m), (at_secs(2), "0\r".into()));
    assert!(!m.is_online());
    assert_eq!(send(&mut m, at_secs(3), "ATH\r"), "0\r");
}

#[test]
fn atdl_redials_the_last_number() {
    let mut m = quiet_echo();
    send(&mut m, Instant::ZERO, "ATDT555-0000\r");
    assert_eq!(next_timeout(&mut m).1, "\r\nBUSY\r\n");
    send(&mut m, at_secs(10), "ATDL\r");
    assert_eq!(next_timeout(&mut m), (at_secs(14), "\r\nBUSY\r\n".into()));
}

fn caller() -> IncomingCall {
    IncomingCall {
        number: "5550100".into(),
        speed: 28800,
        peer: PeerSpec::Builtin,
    }
}

#[test]
fn an_incoming_call_rings_and_ata_answers_it() {
    let mut m = quiet_echo();
    m.incoming_call(at_secs(1), caller());
    assert!(m.is_ringing());
    assert_eq!(output(&mut m), "\r\nRING\r\n");
    assert_eq!(next_timeout(&mut m), (at_secs(7), "\r\nRING\r\n".into()));
    assert_eq!(send(&mut m, at_secs(8), "ATS1?\r"), "\r\n002\r\n\r\nOK\r\n");
    events(&mut m);
    assert_eq!(send(&mut m, at_secs(9), "ATA\r"), "");
    assert!(!m.is_ringing());
    assert_eq!(
        next_timeout(&mut m),
        (at_secs(11), "\r\nCONNECT 28800\r\n".into())
    );
    assert_eq!(
        events(&mut m),
        vec![
            ModemEvent::CommandLine("ATA".into()),
            ModemEvent::Result(ResultCode::Connect),
            ModemEvent::CallConnected {
                number: "5550100".into(),
                speed: 28800,
                peer: PeerSpec::Builtin
            },
        ]
    );
    m.handle_line_input(at_secs(12), b"ppp");
    assert_eq!(output(&mut m), "ppp");
}

#[test]
fn s0_answers_by_itself_after_that_many_rings() {
    let mut m = quiet_echo();
    send(&mut m, Instant::ZERO, "ATS0=2\r");
    m.incoming_call(Instant::ZERO, caller());
    assert_eq!(output(&mut m), "\r\nRING\r\n");
    assert_eq!(next_timeout(&mut m), (at_secs(6), "\r\nRING\r\n".into()));
    assert_eq!(
        next_timeout(&mut m),
        (at_secs(8), "\r\nCONNECT 28800\r\n".into())
    );
    assert!(m.is_online());
}

#[test]
fn an_unanswered_caller_gives_up_and_a_busy_line_refuses_calls() {
    let mut m = quiet_echo();
    m.incoming_call(Instant::ZERO, caller());
    let mut rings = output(&mut m).matches("RING").count();
    while let Some(due) = m.poll_timeout() {
        m.handle_timeout(due);
        rings += output(&mut m).matches("RING").count();
    }
    assert_eq!(rings, 10);
    assert!(!m.is_ringing());
    assert_eq!(
        send(&mut m, at_secs(100), "ATS1?\r"),
        "\r\n000\r\n\r\nOK\r\n"
    );

    // Off-hook (H1) or dialling, the line is busy to callers.
    send(&mut m, at_secs(100), "ATH1\r");
    m.incoming_call(at_secs(101), caller());
    assert!(!m.is_ringing());
    send(&mut m, at_secs(102), "ATH0D5551234\r");
    m.incoming_call(at_secs(103), caller());
    assert!(!m.is_ringing());
}

#[test]
fn ata_with_nothing_ringing_gives_no_carrier_after_s7() {
    let mut m = quiet_echo();
    send(&mut m, Instant::ZERO, "ATS7=20A\r");
    assert_eq!(
        next_timeout(&mut m),
        (at_secs(20), "\r\nNO CARRIER\r\n".into())
    );
}

const TERMS: &str = r#"
numbers:
  "1": {connect: 9600, answer-delay: 5, drop-after-seconds: 10, call-back: {number: "5550100", after: 30}}
  "2": {connect: 9600, drop-after-bytes: 5}
"#;

#[test]
fn the_network_drops_after_seconds_and_calls_back() {
    let mut m = Modem::new(Network::from_yaml(TERMS).unwrap());
    send(&mut m, Instant::ZERO, "ATE0S0=1\r");
    send(&mut m, Instant::ZERO, "ATD1\r");
    // Dial tone 1 s, digits 1 s, answer-delay 5 s, handshake 2 s.
    assert_eq!(
        next_timeout(&mut m),
        (at_secs(9), "\r\nCONNECT 9600\r\n".into())
    );
    // Dropped 10 s after CONNECT, NO CARRIER after S10.
    assert_eq!(next_timeout(&mut m).0, at_secs(19));
    assert_eq!(
        next_timeout(&mut m),
        (at_ms(20_400), "\r\nNO CARRIER\r\n".into())
    );
    events(&mut m);
    // 30 s after the call ended the network calls back; S0 = 1 answers the first ring.
    assert_eq!(next_timeout(&mut m), (at_ms(50_400), "\r\nRING\r\n".into()));
    assert_eq!(
        next_timeout(&mut m),
        (at_ms(52_400), "\r\nCONNECT 9600\r\n".into())
    );
    assert_eq!(
        events(&mut m),
        vec![
            ModemEvent::Result(ResultCode::Ring),
            ModemEvent::Result(ResultCode::Connect),
            ModemEvent::CallConnected {
                number: "5550100".into(),
                speed: 9600,
                peer: PeerSpec::Builtin
            },
        ]
    );
}

#[test]
fn the_network_drops_after_bytes() {
    let mut m = Modem::new(Network::from_yaml(TERMS).unwrap());
    send(&mut m, Instant::ZERO, "ATE0D2\r");
    assert_eq!(next_timeout(&mut m).1, "\r\nCONNECT 9600\r\n");
    m.handle_input(at_secs(7), b"abc");
    m.handle_line_input(at_secs(7), b"defgh");
    assert_eq!(m.poll_line_transmit(), Some(b"abc".to_vec()));
    assert_eq!(output(&mut m), "de", "only 5 bytes cross");
    assert_eq!(
        next_timeout(&mut m),
        (at_ms(8_400), "\r\nNO CARRIER\r\n".into())
    );
}

#[test]
fn s10_sets_the_carrier_loss_delay() {
    let mut m = quiet_echo();
    send(&mut m, Instant::ZERO, "ATS10=50D5551234\r");
    next_timeout(&mut m);
    m.remote_hang_up(at_secs(10));
    assert_eq!(
        next_timeout(&mut m),
        (at_secs(15), "\r\nNO CARRIER\r\n".into())
    );
}

#[test]
fn s12_sets_the_escape_guard_time_and_s2_the_character() {
    let mut m = quiet_echo();
    // Guard 0.5 s, escape character '-'.
    send(&mut m, Instant::ZERO, "ATS12=25S2=45D5551234\r");
    next_timeout(&mut m);
    m.handle_input(at_ms(6_400), b"---");
    assert_eq!(
        m.poll_timeout(),
        None,
        "0.4 s after CONNECT is inside the guard"
    );
    m.handle_input(at_ms(7_000), b"---");
    assert_eq!(next_timeout(&mut m), (at_ms(7_500), "\r\nOK\r\n".into()));
}

#[test]
fn and_d3_hangs_up_and_restores_the_stored_profile() {
    let mut m = quiet_echo();
    send(&mut m, Instant::ZERO, "AT&D3V0D5551234\r");
    next_timeout(&mut m);
    events(&mut m);
    m.dtr_drop(at_secs(7));
    assert_eq!(events(&mut m), vec![ModemEvent::CallEnded]);
    assert_eq!(
        send(&mut m, at_secs(8), "AT\r"),
        "AT\r\r\nOK\r\n",
        "E1 V1 again"
    );
}

#[test]
fn a_paced_line_delivers_at_the_connect_rate() {
    let network =
        Network::from_yaml("line: {pacing: true}\nnumbers: {\"1\": {connect: 1000}}").unwrap();
    let mut m = Modem::new(network);
    send(&mut m, Instant::ZERO, "ATE0D1\r");
    assert_eq!(next_timeout(&mut m).0, at_secs(6));
    m.handle_line_input(at_secs(7), b"0123456789");
    assert_eq!(output(&mut m), "");
    // 100 bits at 1000 bit/s.
    assert_eq!(next_timeout(&mut m), (at_ms(7_100), "0123456789".into()));
    m.handle_input(at_secs(8), b"xy");
    assert_eq!(m.poll_line_transmit(), None);
    assert_eq!(m.poll_timeout(), Some(at_ms(8_020)));
    m.handle_timeout(at_ms(8_020));
    assert_eq!(m.poll_line_transmit(), Some(b"xy".to_vec()));
}

#[test]
fn seeded_faults_damage_line_data_the_same_way_each_time() {
    let network = Network::from_yaml(
        "line: {bit-error-rate: 0.01, drop-rate: 0.01, seed: 3}\nnumbers: {\"1\": {connect: 9600}}",
    )
    .unwrap();
    let run = || {
        let mut m = Modem::new(network.clone());
        send(&mut m, Instant::ZERO, "ATE0D1\r");
        next_timeout(&mut m);
        m.handle_line_input(at_secs(7), &[0u8; 2000]);
        let mut received = Vec::new();
        while let Some(bytes) = m.poll_transmit() {
            received.extend(bytes);
        }
        received
    };
    let first = run();
    assert_eq!(first, run());
    assert!(first.len() < 2000 && first.iter().any(|&b| b != 0));
}

#[test]
fn numbers_are_written_in_place() {
    assert_eq!(&super::three_digits(0), b"000");
    assert_eq!(&super::three_digits(7), b"007");
    assert_eq!(&super::three_digits(60), b"060");
    assert_eq!(&super::three_digits(255), b"255");
}

/// Issue 15: modeled delays have their own scale. Halved, the 6 s dial connects at 3 s and
/// a paced line runs at twice the rate; instant, the dial connects at once and the line
/// is not paced at all.
#[test]
fn modeled_delays_follow_the_delay_scale() {
    let network =
        Network::from_yaml("line: {pacing: true}\nnumbers: {\"1\": {connect: 1000}}").unwrap();
    let half = DelayScale::new(0.5).unwrap();
    let mut m = Modem::new(network.clone()).with_delays(half);
    send(&mut m, Instant::ZERO, "ATE0D1\r");
    assert_eq!(next_timeout(&mut m).0, at_secs(3));
    m.handle_line_input(at_secs(4), b"0123456789");
    // 100 bits at twice 1000 bit/s.
    assert_eq!(next_timeout(&mut m), (at_ms(4_050), "0123456789".into()));

    let mut m = Modem::new(network).with_delays(DelayScale::INSTANT);
    send(&mut m, Instant::ZERO, "ATE0D1\r");
    assert_eq!(
        next_timeout(&mut m),
        (Instant::ZERO, "\r\nCONNECT 1000\r\n".into())
    );
    m.handle_line_input(Instant::ZERO, b"at once");
    assert_eq!(output(&mut m), "at once");
    assert_eq!(m.poll_timeout(), None);
}
