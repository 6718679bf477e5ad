//! `ppp-peer-sim`: a scripted PPP server on standard input and output.
//!
//! A thin realtime driver (DESIGN §2) around [`ppp_peer_sim::Server`]: a thread reads stdin,
//! the main loop feeds the machine, writes what it sends to stdout and honours its timers
//! on the (optionally scaled) wall clock. Logs go to stderr.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};

use anyhow::{Context, bail};
use clap::Parser;
use ppp_peer_sim::{Script, Server};
use sansio::{Machine, PeerEvent, RealClock, TimeScale};

const SCRIPT_HELP: &str = "\
SCRIPT FORMAT (YAML; unknown keys are errors, everything but `users` has a default):

  auth: pap              # pap (default), chap-md5, mschapv2 or none
  users:                 # accounts (required unless auth: none)
    alice: secret        #   name: password
    bob:                 #   or the full form:
      password: pw
      fail: 2            #   refuse the first 2 attempts whatever the password (E=691)
      outcome: expired   #   then, for the right password: accept (default), expired (E=648),
                         #   disabled (E=647), no-dial-in (E=649) or logon-hours (E=646)
  retries: 1             # mschapv2 only: refusals (E=691) sent with R=1 and a new challenge
                         # before the final R=0 (default 0)
  address:
    server: 10.0.0.1     # the server's own IPCP address (default 10.0.0.1)
    client: 10.0.0.2     # assigned to the caller, Nak'd back to its 0.0.0.0 (default 10.0.0.2)
  dns: [192.0.2.53]      # up to two DNS servers (RFC 1877); without it DNS requests are Rejected

WHAT THE SERVER DOES:
  It waits for the caller's first bytes, then negotiates LCP (demanding the `auth` protocol),
  authenticates the caller against `users` and runs IPCP. A name sent as DOMAIN\\user also
  finds the account `user`. Accepted: Authenticate-Ack or CHAP Success \"Welcome\" (MS-CHAPv2
  with its S= proof). Refused: Authenticate-Nak or CHAP Failure, then LCP Terminate-Request.
  Only MS-CHAPv2 says why (E=) and can keep the line open: after R=1 it waits for a new
  Response, after E=648 for a Change-Password proving the old password (the account then
  has the new one and is accepted). It waits 120 s for either (RFC 2759 §6 asks for no short
  timeout here), and 30 s (10 challenges, 3 s apart) for a first answer. PAP and CHAP-MD5
  refusals, whatever the account says, are plain failures. It exits 0 once the link has been
  terminated by either side, and when stdin closes (carrier lost).

EXAMPLE:
  printf 'users:\\n  alice: secret\\ndns: [192.0.2.53]\\n' > server.yaml
  ppp-peer-sim --script server.yaml --stdio            # PPP on stdin/stdout
  pppd pty 'ppp-peer-sim --script server.yaml --stdio' user alice password secret noauth nodetach

Set RUST_LOG=debug to see every PPP packet on stderr.";

/// A scripted PPP server peer for testing dial-up clients.
#[derive(Debug, Parser)]
#[command(name = "ppp-peer-sim", version, about, after_help = SCRIPT_HELP)]
struct Cli {
    /// The server script (YAML, see below).
    #[arg(long, value_name = "FILE")]
    script: PathBuf,
    /// Speak PPP on standard input and output.
    #[arg(long)]
    stdio: bool,
    /// Scale the protocol timers: real time = protocol time × FACTOR (1 = wall clock;
    /// 0.01 runs the 3 s restart timer in 30 ms). Use the caller's factor.
    #[arg(long, value_name = "FACTOR", default_value = "1")]
    time_scale: TimeScale,
    /// Seed for LCP Magic-Numbers and CHAP challenges (runs with the same seed send the same
    /// bytes).
    #[arg(long, value_name = "N", default_value_t = 1)]
    magic_seed: u32,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    if !cli.stdio {
        bail!("say where to speak PPP: --stdio (--tty is not implemented yet)");
    }
    let text = std::fs::read_to_string(&cli.script)
        .with_context(|| format!("cannot read script {}", cli.script.display()))?;
    let script = Script::from_yaml(&text).with_context(|| format!("{}", cli.script.display()))?;
    serve_stdio(Server::new(script, cli.magic_seed), cli.time_scale)
}

/// Chunks read from stdin; `None` once it is closed.
type Input = Option<Vec<u8>>;

fn serve_stdio(mut server: Server, scale: TimeScale) -> anyhow::Result<()> {
    let (sender, receiver) = mpsc::channel::<Input>();
    std::thread::spawn(move || {
        let mut stdin = std::io::stdin().lock();
        let mut buffer = [0u8; 4096];
        loop {
            match stdin.read(&mut buffer) {
                Ok(0) | Err(_) => {
                    let _ = sender.send(None);
                    return;
                }
                Ok(n) => {
                    if sender.send(Some(buffer[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    });
    let clock = RealClock::start(scale);
    let mut stdout = std::io::stdout().lock();
    loop {
        while let Some(bytes) = server.poll_transmit() {
            stdout.write_all(&bytes).context("writing to stdout")?;
        }
        stdout.flush().context("writing to stdout")?;
        // HangUp is the only thing a line peer reports, and the end of the call.
        if let Some(PeerEvent::HangUp) = server.poll_event() {
            tracing::info!("hung up");
            return Ok(());
        }
        let received = match server.poll_timeout() {
            Some(deadline) => {
                let wait = clock
                    .real_deadline(deadline)
                    .saturating_duration_since(std::time::Instant::now());
                receiver.recv_timeout(wait)
            }
            None => receiver.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(Some(bytes)) => server.handle_input(clock.now(), &bytes),
            Ok(None) | Err(RecvTimeoutError::Disconnected) => {
                tracing::info!("stdin closed: carrier lost");
                return Ok(());
            }
            Err(RecvTimeoutError::Timeout) => server.handle_timeout(clock.now()),
        }
    }
}
