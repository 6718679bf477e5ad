//! `ppp-peer-sim`: a scripted PPP server on standard input and output, or on a tty.
//!
//! A thin realtime driver (DESIGN §2) around [`ppp_peer_sim::Server`]: a thread reads the
//! line (stdin, or the tty opened raw), the main loop feeds the machine, writes what it
//! sends to the line (stdout, or the tty) and honours its timers on the (optionally scaled)
//! wall clock. Logs go to stderr.

use std::io::{ErrorKind, Read, Write};
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};

use anyhow::Context;
use clap::{ArgGroup, Parser};
use ppp_peer_sim::{Bundles, Script, Server};
use ras_ppp::random::Entropy;
use sansio::{Machine, PeerEvent, RealClock, TimeScale};

mod tty;

const SCRIPT_HELP: &str = "\
SCRIPT FORMAT (YAML; unknown keys are errors, everything but `users` has a default):

  auth: pap              # pap (default), chap-md5, mschapv2, eap or none
  users:                 # accounts (required unless auth: none)
    alice: secret        #   name: password
    bob:                 #   or the full form:
      password: pw
      fail: 2            #   refuse the first 2 attempts whatever the password (E=691)
      outcome: expired   #   then, for the right password: accept (default), expired (E=648;
                         #   a new password equal to the old is refused with E=709),
                         #   disabled (E=647), no-dial-in (E=649) or logon-hours (E=646)
      tokens: [\"314159\"] #   EAP-GTC one-time tokens: each accepted once, then spent
  retries: 1             # mschapv2 and eap (EAP-MSCHAPv2) only: refusals (E=691) sent
                         # with R=1 and a new challenge before the final R=0 (default 0)
  eap:                   # auth: eap only (RFC 3748); every key has a default
    methods: [mschapv2, md5, gtc]  # offered in this order (the default); a Nak from
                                   #   the caller picks the first of the rest it names
    identity-prompt: \"Name:\"       # text of the Request/Identity (default empty)
    notification: \"Hello\"          # sent after the identity (default none)
    token-prompt: \"Token:\"         # text of the GTC Request (default \"Token:\")
  login:                 # a terminal server's text login before PPP (default none)
    banner: \"ACME\"       #   sent first, then CR LF (default none)
    prompt: \"login: \"    #   the user-name prompt (default \"login: \")
    password-prompt: \"Password: \"  # (default \"Password: \")
    users: {alice: pw}   #   terminal accounts, name: password (required)
    attempts: 1          #   failed logins before the server hangs up (default 1)
  address:
    server: 10.0.0.1     # the server's own IPCP address (default 10.0.0.1)
    client: 10.0.0.2     # assigned to the caller, Nak'd back to its 0.0.0.0 (default 10.0.0.2)
  dns: [192.0.2.53]      # up to two DNS servers (RFC 1877); without it DNS requests are Rejected
  faults:                # deliberate misbehaviour, none by default (see FAULTS)
    - nak-forever
    - {drop-at-packet: 12}

WHAT THE SERVER DOES:
  It waits for the caller's first bytes, then negotiates LCP (demanding the `auth` protocol),
  authenticates the caller against `users` and runs IPCP. A name sent as DOMAIN\\user also
  finds the account `user`. Accepted: Authenticate-Ack or CHAP Success \"Welcome\" (MS-CHAPv2
  with its S= proof). Refused: Authenticate-Nak or CHAP Failure, then LCP Terminate-Request.
  Only MS-CHAPv2 says why (E=) and can keep the line open: after R=1 it waits for a new
  Response, after E=648 for a Change-Password proving the old password (the account then
  has the new one and is accepted). It waits 120 s for either (RFC 2759 §6 asks for no short
  timeout here), and 30 s (10 challenges, 3 s apart) for a first answer. PAP and CHAP-MD5
  refusals, whatever the account says, are plain failures. `faults` change all this.
  With auth: eap it asks for the identity, sends the notification (if any), then runs the
  first method of `eap.methods` the caller accepts: MD5 (the password), MS-CHAPv2 (as above:
  E=, R=1 retries, Change-Password) or GTC (one of the account's unspent `tokens`). It waits
  120 s for a person (a notification, a token, a retry) and retransmits other requests
  every 3 s, 10 times. EAP Success or Failure ends the method; a failure hangs up.

  With login: the banner and prompt go out as the call connects; user names are echoed,
  passwords not; a good login starts PPP on the same line, \"Login incorrect\" follows a
  bad one, and the server hangs up once `attempts` are spent. A Windows dial script (.scp)
  or a person at a terminal answers it.

FAULTS (each deterministic; frames count from 1, every protocol, in each direction):
  silent             read everything, send nothing, never hang up: the caller's LCP times out
  nak-forever        Configure-Nak every LCP option the caller requests and never turn the
                     Naks into a Reject (breaks RFC 1661 4.6 Max-Failure on purpose)
  reject-all         Configure-Reject every LCP option the caller requests (LCP then opens on
                     the RFC defaults) and Protocol-Reject its IPCP: no network protocol
  drop-at-packet: N  hang up as the caller's Nth good frame arrives, without answering it
  corrupt-fcs: N     send the server's Nth frame with a spoiled FCS (may be repeated)
  At most one of silent, nak-forever and reject-all.

EXIT STATUS:
  0  the call is over: the server hung up (the link was terminated by either side, or a
     drop-at-packet fault), logged as \"hung up\"; or the line closed under it (stdin at
     end of file, the tty hung up), logged as \"carrier lost\"
  1  nothing was served: the script is unreadable or invalid (with its line and column),
     the --tty PATH cannot be opened as a serial line, or writing to the line failed
  2  bad command line

MULTILINK (RFC 1990):
  multilink: {accept: true, max-links: 2, bap: false, mrru: 1500, echo: false}
  accept: true Acks the caller's MRRU and Endpoint Discriminator (default: Reject them, so
  every call is a single link). The calls one server process answers share its bundles: an
  authenticated link joins the bundle of its Endpoint Discriminator and user name, and a
  bundle that has max-links links already ends the newcomer (Terminate-Request). One
  process answers several calls with --listen ADDR: put modem-sim's numbers on
  `{connect: 33600, tcp: \"ADDR\"}` and every modem's call reaches it. Multilink fragments
  are reassembled per bundle (RFC 1990 §4.1); echo: true sends every packet received back
  to the caller, fragmented over the bundle (whole on a single link).

EXAMPLE:
  printf 'users:\\n  alice: secret\\ndns: [192.0.2.53]\\n' > server.yaml
  ppp-peer-sim --script server.yaml --stdio            # PPP on stdin/stdout
  ppp-peer-sim --script server.yaml --tty /dev/ttyUSB1 --baud 115200  # on a serial line
  ppp-peer-sim --script server.yaml --listen 127.0.0.1:2323  # every TCP connection a call
  pppd pty 'ppp-peer-sim --script server.yaml --stdio' user alice password secret noauth nodetach

CALLBACK:
  callback: none | caller-set | {server-set: \"NUMBER\"} (per account too) lets a caller that
  asks for it in LCP (Callback operation 6) be called back: after authentication the server
  runs CBCP, acknowledges, terminates LCP and hangs up; callback-delay (seconds) later the
  network calls the number and a new ppp-peer-sim answers it (no callback offered again).
  Run as a modem-sim `exec:` far end, the request goes to modem-sim's control socket, whose
  path modem-sim puts in MODEM_SIM_CONTROL: one line `callback NUMBER SECONDS`. Faults:
  never: true (hang up, never call), busy-callee: true (call at once, into a busy line),
  reauth-fails: true (refuse the credentials on the callback), refuse-number: true (end
  the link instead of acknowledging the caller's choice).

Set RUST_LOG=debug to see every PPP packet on stderr.";

/// A scripted PPP server peer for testing dial-up clients.
#[derive(Debug, Parser)]
#[command(name = "ppp-peer-sim", version, about, after_help = SCRIPT_HELP)]
#[command(group(ArgGroup::new("line").required(true).args(["stdio", "tty", "listen"])))]
struct Cli {
    /// The server script (YAML, see below).
    #[arg(long, value_name = "FILE")]
    script: PathBuf,
    /// Speak PPP on standard input and output.
    #[arg(long)]
    stdio: bool,
    /// Speak PPP on the serial device or PTY slave at PATH, opened in raw mode.
    #[arg(long, value_name = "PATH")]
    tty: Option<PathBuf>,
    /// Accept TCP connections on ADDR (e.g. 127.0.0.1:2323), each a call served at once
    /// by this one server process: calls that agree on multilink join one bundle by
    /// Endpoint Discriminator and user name (modem-sim's `tcp:` far end connects here).
    /// Runs until killed.
    #[arg(long, value_name = "ADDR")]
    listen: Option<std::net::SocketAddr>,
    /// With --tty: set the line speed (default: keep the device's current speed).
    #[arg(long, value_name = "RATE", conflicts_with = "stdio")]
    baud: Option<u32>,
    /// Scale the protocol timers: real time = protocol time × FACTOR (1 = wall clock;
    /// 0.01 runs the 3 s restart timer in 30 ms), from 0.0001 to 1000. Use the caller's
    /// factor. The script's callback-delay is a modeled delay, not a timer: the network
    /// places the call, so modem-sim's --delay-scale scales it.
    #[arg(
        long,
        value_name = "FACTOR",
        default_value = "1",
        allow_negative_numbers = true
    )]
    time_scale: TimeScale,
    /// Seed for LCP Magic-Numbers and CHAP challenges: runs with the same seed send the
    /// same bytes. Without it they come from the system's random generator, as RFC 1661
    /// §6.4 and RFC 1994 §2.3 want on a real link.
    #[arg(long, value_name = "N")]
    magic_seed: Option<u32>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        // Colours only for a person at a terminal, not in a log file (issue 16 #15).
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        // A closed stderr only loses the log; tracing's own eprintln! about it would
        // panic (issue 16 #2).
        .log_internal_errors(false)
        .init();
    let text = std::fs::read_to_string(&cli.script)
        .with_context(|| format!("cannot read script {}", cli.script.display()))?;
    let script =
        Script::from_yaml(&text).map_err(|error| anyhow::anyhow!(error.in_file(&cli.script)))?;
    let entropy = cli.magic_seed.map_or(Entropy::Os, Entropy::Seed);
    if let Some(address) = cli.listen {
        return listen(address, script, cli.magic_seed, cli.time_scale);
    }
    let server = Server::with_entropy(script, entropy);
    match &cli.tty {
        Some(path) => {
            let line = tty::open(path, cli.baud)?;
            let name = path.display().to_string();
            serve(server, cli.time_scale, &name, line.reader, line.writer)
        }
        None => serve(
            server,
            cli.time_scale,
            "stdio",
            std::io::stdin(),
            std::io::stdout().lock(),
        ),
    }
}

/// `--listen`: every accepted connection is a call, served on a thread of its own by a
/// server sharing this process's bundles. With a seed, the calls' seeds follow it (the
/// first call's is the seed itself).
fn listen(
    address: std::net::SocketAddr,
    script: Script,
    seed: Option<u32>,
    scale: TimeScale,
) -> anyhow::Result<()> {
    let listener = std::net::TcpListener::bind(address)
        .with_context(|| format!("cannot listen on {address}"))?;
    tracing::info!("listening on {}", listener.local_addr()?);
    let bundles = Bundles::default();
    for (call, connection) in (0u32..).zip(listener.incoming()) {
        let stream = match connection {
            Ok(stream) => stream,
            Err(error) => {
                tracing::warn!(%error, "a connection could not be accepted");
                continue;
            }
        };
        let peer = stream
            .peer_addr()
            .map_or_else(|_| "a caller".to_owned(), |a| a.to_string());
        let reader = stream
            .try_clone()
            .with_context(|| format!("cannot share the connection from {peer}"))?;
        let entropy = seed.map_or(Entropy::Os, |seed| Entropy::Seed(seed.wrapping_add(call)));
        let server = Server::in_process(script.clone(), entropy, &bundles);
        std::thread::spawn(move || {
            let _ = stream.set_nodelay(true);
            if let Err(error) = serve(server, scale, &peer, reader, stream) {
                tracing::warn!("{error:#}");
            }
        });
    }
    Ok(())
}

/// Chunks read from the line; `None` once it is closed.
type Input = Option<Vec<u8>>;

/// Play `server` on a line: bytes from `input` (read on a thread of its own), bytes to
/// `output`, until the server hangs up or the line closes.
fn serve(
    mut server: Server,
    scale: TimeScale,
    name: &str,
    mut input: impl Read + Send + 'static,
    mut output: impl Write,
) -> anyhow::Result<()> {
    let (sender, receiver) = mpsc::channel::<Input>();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        loop {
            match input.read(&mut buffer) {
                // A serial line's read gives up after a while with nothing to read.
                Err(error)
                    if matches!(error.kind(), ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
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
    tracing::info!("serving PPP on {name}");
    let clock = RealClock::start(scale);
    loop {
        match transmit(&mut server, &mut output) {
            Ok(()) => {}
            Err(error) if is_line_gone(&error) => {
                tracing::info!("{name} hung up: carrier lost");
                return Ok(());
            }
            Err(error) => return Err(error).with_context(|| format!("writing to {name}")),
        }
        while let Some(event) = server.poll_event() {
            match event {
                // The end of the call.
                PeerEvent::HangUp => {
                    tracing::info!("hung up: the call is over");
                    return Ok(());
                }
                PeerEvent::CallBack { number, after } => ask_for_callback(&number, after),
            }
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
                tracing::info!("{name} closed: carrier lost");
                return Ok(());
            }
            Err(RecvTimeoutError::Timeout) => server.handle_timeout(clock.now()),
        }
    }
}

/// The environment variable modem-sim sets for an `exec:` far end: its control socket.
const CONTROL_ENV: &str = "MODEM_SIM_CONTROL";

/// Ask the phone network to call `number` back after `after`: one line,
/// `callback NUMBER SECONDS`, to modem-sim's control socket. Without one (not run by
/// modem-sim) there is no network to call through.
fn ask_for_callback(number: &str, after: sansio::Duration) {
    let Some(path) = std::env::var_os(CONTROL_ENV) else {
        tracing::warn!(%number, "a callback was agreed, but there is no network to call back through ({CONTROL_ENV} is not set)");
        return;
    };
    let request = format!("callback {number} {}\n", after.as_secs_f64());
    match std::os::unix::net::UnixStream::connect(&path)
        .and_then(|mut control| control.write_all(request.as_bytes()))
    {
        Ok(()) => tracing::info!(%number, ?after, "asked the network to call back"),
        Err(error) => tracing::warn!(%error, "cannot reach the network's control socket"),
    }
}

/// Put everything the server has to send on the line.
fn transmit(server: &mut Server, output: &mut impl Write) -> std::io::Result<()> {
    let mut wrote = false;
    while let Some(bytes) = server.poll_transmit() {
        output.write_all(&bytes)?;
        wrote = true;
    }
    if wrote {
        output.flush()?;
    }
    Ok(())
}

/// The far end of the line is gone: a closed pipe (stdout), or a tty that hung up (EIO).
fn is_line_gone(error: &std::io::Error) -> bool {
    error.kind() == ErrorKind::BrokenPipe
        || rustix::io::Errno::from_io_error(error) == Some(rustix::io::Errno::IO)
}
