//! The server's terminal login before PPP (`login:`), answered the way Windows answers it:
//! by a dial script (`.scp`) run by the engine's interpreter, then the engine's PPP client.

#![allow(clippy::unwrap_used)]

use ppp_peer_sim::{Script, Server};
use ras_engine::script::{DialScript, ScriptEvent, ScriptRunner};
use ras_ppp::{Client, ClientConfig, ClientEvent};
use sansio::sim::{Pipe, earliest};
use sansio::{Duration, Instant, Machine, PeerEvent};

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

/// Both ends on a virtual clock, joined by pipes.
struct Line {
    now: Instant,
    server: Server,
    to_server: Pipe,
    to_client: Pipe,
    hung_up: bool,
}

impl Line {
    fn new(script: &str) -> Self {
        Line {
            now: Instant::ZERO,
            server: Server::new(Script::from_yaml(script).unwrap(), 7),
            to_server: Pipe::new(Duration::from_millis(20)),
            to_client: Pipe::new(Duration::from_millis(20)),
            hung_up: false,
        }
    }

    /// Run `client` against the server until `done` says so from one of its events, or
    /// nothing is left to happen; the client's events.
    fn run<M: Machine>(
        &mut self,
        client: &mut M,
        done: impl Fn(&M::Event) -> bool,
    ) -> Vec<M::Event> {
        let mut events = Vec::new();
        loop {
            while let Some(event) = client.poll_event() {
                let stop = done(&event);
                events.push(event);
                if stop {
                    return events;
                }
            }
            while let Some(bytes) = client.poll_transmit() {
                self.to_server.send(self.now, bytes);
            }
            while let Some(bytes) = self.server.poll_transmit() {
                self.to_client.send(self.now, bytes);
            }
            while let Some(PeerEvent::HangUp) = self.server.poll_event() {
                self.hung_up = true;
            }
            let Some(next) = earliest([
                client.poll_timeout(),
                self.server.poll_timeout(),
                self.to_server.next_delivery(),
                self.to_client.next_delivery(),
            ]) else {
                return events;
            };
            assert!(next < Instant::ZERO + Duration::from_secs(600), "no end");
            self.now = self.now.max(next);
            while let Some(bytes) = self.to_server.take_due(self.now) {
                self.server.handle_input(self.now, &bytes);
            }
            while let Some(bytes) = self.to_client.take_due(self.now) {
                client.handle_input(self.now, &bytes);
            }
            if client.poll_timeout().is_some_and(|t| t <= self.now) {
                client.handle_timeout(self.now);
            }
            if self.server.poll_timeout().is_some_and(|t| t <= self.now) {
                self.server.handle_timeout(self.now);
            }
        }
    }

    /// The dial script, as the engine runs it after CONNECT.
    fn script(&mut self, text: &str, password: &str) -> Vec<ScriptEvent> {
        let mut runner = ScriptRunner::new(DialScript::parse(text).unwrap(), "alice", password);
        runner.start(self.now);
        self.run(&mut runner, |event| {
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
        self.run(&mut client, |event| {
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
