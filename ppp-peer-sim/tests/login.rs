//! The server's terminal login before PPP (`login:`), answered the way Windows answers it:
//! by a dial script (`.scp`) run by the engine's interpreter, then the engine's PPP client.

#![allow(clippy::unwrap_used)]

use ras_engine::script::{DialScript, ScriptEvent, ScriptRunner};
use ras_ppp::{Client, ClientConfig, ClientEvent};
use sansio::{Duration, Instant};

const SERVER: &str = "
auth: pap
users: {alice: secret}
login:
  banner: ACME dial-in
  prompt: \"login: \"
  password-prompt: \"Password: \"
  users: {alice: s^cret}
";

/// Log in as $USERID / $PASSWORD, then start PPP; halt on \"Login incorrect\".
const LOGIN_SCRIPT: &str = r#"
proc main
   waitfor "login:" until 10
   if $FAILURE then
      halt
   endif
   transmit $USERID + "^M"
   waitfor "Password:" until 10
   transmit $PASSWORD, raw      ; raw: the password may hold a caret
   transmit "^M"
   waitfor "Login incorrect" then refused until 2
   goto ppp
refused:
   halt
ppp:
endproc
"#;

mod sim;

use sim::Line;

/// What the engine does after CONNECT: the dial script, then PPP.
impl Line {
    /// The dial script, as the engine runs it after CONNECT.
    fn script(&mut self, text: &str, password: &str) -> Vec<ScriptEvent> {
        let mut runner = ScriptRunner::new(DialScript::parse(text).unwrap(), "alice", password);
        runner.start(self.now);
        self.run(&mut runner, |_, _, event| {
            matches!(
                event,
                ScriptEvent::Finished | ScriptEvent::Halted | ScriptEvent::Failed(_)
            )
        })
    }

    /// PPP after the script.
    fn ppp(&mut self) -> Vec<ClientEvent> {
        let mut client = Client::new(ClientConfig {
            user: "alice".into(),
            password: "secret".into(),
            keepalive: None,
            ..ClientConfig::default()
        });
        client.open(self.now);
        self.run(&mut client, |_, _, event| {
            matches!(
                event,
                ClientEvent::NetworkUp { .. } | ClientEvent::LinkDown(_)
            )
        })
    }
}

#[test]
fn a_dial_script_logs_in_and_ppp_follows() {
    let mut line = Line::new(SERVER);
    assert_eq!(line.script(LOGIN_SCRIPT, "s^cret"), [ScriptEvent::Finished]);
    assert!(!line.hung_up);
    let events = line.ppp();
    assert!(
        matches!(events.last(), Some(ClientEvent::NetworkUp { .. })),
        "{events:?}"
    );
}

#[test]
fn a_bad_login_is_hung_up_on() {
    let mut line = Line::new(SERVER);
    assert_eq!(line.script(LOGIN_SCRIPT, "guess"), [ScriptEvent::Halted]);
    assert!(line.hung_up);
}

#[test]
fn a_second_attempt_may_succeed() {
    let server = SERVER.replace(
        "  users: {alice: s^cret}",
        "  users: {alice: s^cret}\n  attempts: 2",
    );
    let script = r#"
proc main
   string password = "guess"
again:
   waitfor "login:" until 10
   transmit $USERID + "^M"
   waitfor "Password:" until 10
   transmit password + "^M"
   waitfor "Login incorrect" until 2
   if $SUCCESS then
      password = $PASSWORD
      goto again
   endif
endproc
"#;
    let mut line = Line::new(&server);
    // The second password, $PASSWORD, goes through translation: "s\^cret" keeps its caret.
    assert_eq!(line.script(script, "s\\^cret"), [ScriptEvent::Finished]);
    assert!(!line.hung_up);
    assert!(matches!(
        line.ppp().last(),
        Some(ClientEvent::NetworkUp { .. })
    ));
}

#[test]
fn a_prompt_that_never_comes_halts_the_script() {
    let server = SERVER.replace("prompt: \"login: \"", "prompt: \"Username: \"");
    let mut line = Line::new(&server);
    assert_eq!(line.script(LOGIN_SCRIPT, "s^cret"), [ScriptEvent::Halted]);
    assert_eq!(
        line.now,
        Instant::ZERO + Duration::from_secs(10),
        "until 10"
    );
}
