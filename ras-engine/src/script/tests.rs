//! Unit tests of the dial-script language: SCRIPT.DOC's constructs, its errors, and the
//! runner on a scripted line.

// Tests may unwrap.
#![allow(clippy::unwrap_used)]

use proptest::prelude::*;
use std::net::Ipv4Addr;

use sansio::{Duration, Instant, Machine};

use super::*;

const SECOND: Duration = Duration::from_secs(1);

/// A login of the kind SCRIPT.DOC's examples show.
const LOGIN: &str = r#"
; Log in to a terminal server, then start PPP.
proc main
   integer tries = 0
   string prompt = "ogin:"

retry:
   tries = tries + 1
   if tries > 3 then
      halt
   endif
   transmit "^M"
   waitfor prompt until 5
   if !$SUCCESS then
      goto retry
   endif
   transmit $USERID, raw
   transmit "<cr>"
   waitfor "Password:" matchcase until 10
   transmit $PASSWORD + "^M", raw
   waitfor "Welcome" then done, "Login incorrect" then failed until 10
   halt
failed:
   halt
done:
   set port databits 8
   set port parity none
   set port stopbits 1
   set screen keyboard off
endproc
"#;

fn runner(text: &str) -> ScriptRunner {
    ScriptRunner::new(DialScript::parse(text).unwrap(), "alice", "s^cret")
}

fn sent(runner: &mut ScriptRunner) -> Vec<u8> {
    std::iter::from_fn(|| runner.poll_transmit())
        .flatten()
        .collect()
}

fn events(runner: &mut ScriptRunner) -> Vec<ScriptEvent> {
    std::iter::from_fn(|| runner.poll_event()).collect()
}

#[test]
fn a_login_script_logs_in() {
    let mut runner = runner(LOGIN);
    let now = Instant::ZERO;
    runner.start(now);
    assert_eq!(sent(&mut runner), b"\r");
    runner.handle_input(now, b"\r\nACME terminal server\r\nLOGIN: ");
    // $USERID raw, then "<cr>" translated.
    assert_eq!(sent(&mut runner), b"alice\r");
    // `matchcase`: "password:" does not match "Password:".
    runner.handle_input(now, b"password:");
    assert_eq!(sent(&mut runner), b"");
    runner.handle_input(now, b"\r\nPassword:");
    // `raw` applies to the whole expression: the password's caret and the appended "^M"
    // both go out as written (which is why SCRIPT.DOC has `raw`: for passwords).
    assert_eq!(sent(&mut runner), b"s^cret^M");
    runner.handle_input(now, b"\r\nWelcome, alice\r\n~\xff\x7d\x23");
    assert_eq!(
        events(&mut runner),
        [
            ScriptEvent::SetPort(PortSetting::DataBits(8)),
            ScriptEvent::SetPort(PortSetting::Parity(Parity::None)),
            ScriptEvent::SetPort(PortSetting::StopBits(1)),
            ScriptEvent::Keyboard(false),
            ScriptEvent::Finished,
        ]
    );
    assert!(runner.is_done());
    assert_eq!(runner.poll_timeout(), None);
    // What came after "Welcome" is PPP's.
    assert_eq!(runner.take_received(), b", alice\r\n~\xff\x7d\x23");
    runner.handle_input(now, b"more");
    assert_eq!(
        runner.take_received(),
        b"",
        "a finished script reads nothing"
    );
}

#[test]
fn a_prompt_that_never_comes_times_out_into_the_retry_loop_then_halts() {
    let mut runner = runner(LOGIN);
    let mut now = Instant::ZERO;
    runner.start(now);
    for _ in 0..3 {
        assert_eq!(sent(&mut runner), b"\r");
        let deadline = runner.poll_timeout().unwrap();
        assert_eq!(deadline, now + SECOND * 5, "until 5");
        now = deadline;
        runner.handle_timeout(now);
    }
    assert_eq!(events(&mut runner), [ScriptEvent::Halted]);
}

#[test]
fn the_second_arm_of_a_waitfor_jumps_to_its_label() {
    let mut runner = runner(LOGIN);
    runner.start(Instant::ZERO);
    runner.handle_input(Instant::ZERO, b"login:Password:Login incorrect\r\n");
    assert_eq!(events(&mut runner), [ScriptEvent::Halted]);
}

#[test]
fn getip_reads_the_address_the_server_announces() {
    let script = r#"
proc main
   string address
   waitfor "address is"
   address = getip
   set ipaddr address
   set ipaddr getip 2
   delay 2
endproc
"#;
    let mut runner = runner(script);
    let now = Instant::ZERO;
    runner.start(now);
    runner.handle_input(now, b"Your address is 192.0.2");
    assert_eq!(events(&mut runner), [], "the address is not complete yet");
    runner.handle_input(now, b".7, gateway 10.0.0.1 and 10.0.0.9\r\n");
    assert_eq!(
        events(&mut runner),
        [
            ScriptEvent::IpAddress(Ipv4Addr::new(192, 0, 2, 7)),
            ScriptEvent::IpAddress(Ipv4Addr::new(10, 0, 0, 9)),
        ]
    );
    assert_eq!(runner.poll_timeout(), Some(now + SECOND * 2));
    runner.handle_timeout(now + SECOND * 2);
    assert_eq!(events(&mut runner), [ScriptEvent::Finished]);
}

#[test]
fn while_loops_and_expressions() {
    let script = r#"
proc main
   integer n = 0
   string s = ""
   boolean go = TRUE
   while go and n < 3 do
      n = n + 1
      s = s + "x"
      go = !(n * 2 == 4)
   endwhile
   if s == "xx" then transmit s + "<lf>" endif
   if -n + 10 / 5 != 0 or FALSE then transmit "bad" endif
endproc
"#;
    let mut runner = runner(script);
    runner.start(Instant::ZERO);
    assert_eq!(sent(&mut runner), b"xx\n");
    assert_eq!(events(&mut runner), [ScriptEvent::Finished]);
}

#[test]
fn runtime_errors_stop_the_script() {
    for (script, error) in [
        (
            "proc main\nwhile TRUE do\nendwhile\nendproc",
            ScriptRuntimeError::Runaway,
        ),
        (
            "proc main\ninteger z\ndelay 1 / z\nendproc",
            ScriptRuntimeError::Arithmetic("division by zero"),
        ),
        (
            "proc main\ndelay 0 - 1\nendproc",
            ScriptRuntimeError::NegativeTime(-1),
        ),
        (
            "proc main\nset ipaddr \"nowhere\"\nendproc",
            ScriptRuntimeError::BadIpAddress("nowhere".into()),
        ),
    ] {
        let mut runner = runner(script);
        runner.start(Instant::ZERO);
        assert_eq!(
            events(&mut runner),
            [ScriptEvent::Failed(error)],
            "{script}"
        );
    }
}

#[test]
fn string_literals_translate_as_script_doc_says() {
    // SCRIPT.DOC §4.0.
    assert_eq!(translate("a^Mb"), b"a\rb");
    assert_eq!(translate("^c^[<cr><LF>"), [0x03, 0x1B, b'\r', b'\n']);
    assert_eq!(translate(r#"\"\^M\<cr>\\"#), br#""^M<cr>\"#);
    assert_eq!(translate("^1 <x> ^"), b"^1 <x> ^");
}

fn error_at(text: &str) -> (u32, u32, SyntaxError) {
    let error = DialScript::parse(text).unwrap_err();
    (error.line, error.column, error.error)
}

#[test]
fn bad_scripts_say_where() {
    assert_eq!(
        error_at("proc main\n  frobnicate 3\nendproc"),
        (2, 3, SyntaxError::UnknownCommand("frobnicate".into()))
    );
    assert_eq!(
        error_at("proc main\n  x = 1\nendproc"),
        (2, 3, SyntaxError::Undeclared("x".into()))
    );
    assert_eq!(
        error_at("proc main\n  delay \"soon\"\nendproc"),
        (
            2,
            9,
            SyntaxError::Type {
                expected: Type::Integer,
                found: Type::String
            }
        )
    );
    assert_eq!(
        error_at("proc main\n  goto nowhere\nendproc"),
        (2, 8, SyntaxError::UnknownLabel("nowhere".into()))
    );
    assert_eq!(
        error_at("proc main\n  transmit \"abc\nendproc"),
        (2, 12, SyntaxError::UnterminatedString)
    );
    assert_eq!(
        error_at("proc main\n  transmit \"a\"\n"),
        (
            2,
            12,
            SyntaxError::UnexpectedEnd {
                expected: "endproc"
            }
        )
    );
    assert_eq!(
        error_at("proc other\nendproc"),
        (1, 6, SyntaxError::NotMain("other".into()))
    );
    assert_eq!(
        error_at("proc main\n  set port databits 9\nendproc").2,
        SyntaxError::BadPortValue("databits must be 5, 6, 7 or 8")
    );
    assert_eq!(
        error_at("proc main\n  if 1 then\n  endif\nendproc").2,
        SyntaxError::Type {
            expected: Type::Boolean,
            found: Type::Integer
        }
    );
    assert_eq!(
        error_at("proc main\n  integer x\n  x = \"a\" + 1\nendproc").2,
        SyntaxError::Operands {
            operator: "+",
            left: Type::String,
            right: Type::Integer
        }
    );
    assert_eq!(
        error_at("proc main\n  transmit $USER\nendproc").2,
        SyntaxError::UnknownSystemVariable("USER".into())
    );
    assert_eq!(
        error_at("proc main\nendproc\ntransmit \"x\"").0,
        3,
        "nothing after endproc"
    );
    assert!(DialScript::parse("").is_err());
    assert!(DialScript::parse(LOGIN).is_ok());
}

/// Words and symbols of the language, for scripts that are almost right.
fn script_soup() -> impl Strategy<Value = String> {
    let word = prop_oneof![
        Just("proc main\n"),
        Just("endproc\n"),
        Just("integer n = 1\n"),
        Just("string s\n"),
        Just("waitfor \"x\" then l until 2\n"),
        Just("transmit $USERID, raw\n"),
        Just("if $SUCCESS then\n"),
        Just("endif\n"),
        Just("while n < 2 do\n"),
        Just("endwhile\n"),
        Just("l:\n"),
        Just("goto l\n"),
        Just("n = n / 0\n"),
        Just("set ipaddr getip 2\n"),
        Just("delay n\n"),
        Just("halt\n"),
        Just("\"unterminated\n"),
        Just("(("),
        Just("^M<cr>"),
    ];
    proptest::collection::vec(word, 0..24).prop_map(|words| words.concat())
}

proptest! {
    #[test]
    fn the_parser_never_panics(text in "\\PC{0,200}") {
        let _ = DialScript::parse(&text);
    }

    /// Whatever parses also runs without panicking, on whatever the line says.
    #[test]
    fn parsed_soup_runs_without_panicking(text in script_soup(), line in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(script) = DialScript::parse(&text) {
            let mut runner = ScriptRunner::new(script, "u", "p");
            runner.start(Instant::ZERO);
            runner.handle_input(Instant::ZERO, &line);
            runner.handle_timeout(Instant::ZERO + SECOND * 10);
            while runner.poll_event().is_some() {}
        }
    }

    #[test]
    fn translation_never_panics(text in "\\PC{0,60}") {
        let _ = translate(&text);
    }
}
