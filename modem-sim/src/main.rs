//! `modem-sim`: a simulated Hayes/V.250 modem on a pseudo-terminal, for any dialer.

use std::fs;
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use clap::Parser;
use miette::{Diagnostic, IntoDiagnostic, NamedSource, SourceSpan, WrapErr};
use modem_sim::peer::LineEcho;
use modem_sim::realtime::{Exchange, ModemPty, serve};
use modem_sim::{CallInfo, Modem, Network, PeerFactory};
use sansio::{DelayScale, LinePeer, Pace, RealClock, TimeScale};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;
use tracing::{Instrument, info, info_span, warn};

const EXAMPLE: &str = r#"NETWORK FILE (YAML)
    dialtone: true            # default true; false: every dial gives NO DIALTONE
    line: {pacing: false, bit-error-rate: 0, drop-rate: 0, seed: 0}   # the defaults
    numbers:
      "5551234": {connect: 33600, peer: builtin}
      "5551235": {connect: 28800, exec: "pppd notty local noauth 192.168.7.1:192.168.7.2"}
      "5551236": {connect: 33600, tcp: "127.0.0.1:2323"}
      "5551237": {connect: 33600, answer-delay: 10, drop-after-seconds: 30}
      "5551238": {connect: 33600, drop-after-bytes: 500, call-back: {number: "5550100", after: 20}}
      "5550000": busy
      "5550001": no-answer
      "5550002": no-carrier
      "5550003": voice

    Numbers are matched on their digits, '*' and '#' only, so ATDT555-1234 reaches
    "5551234". A number not listed gives NO CARRIER once S7 (50 s) runs out. Without
    --network the line has dial tone and no numbers.

    The far end of a connected call:
      peer: builtin   this standalone tool has no PPP server of its own, so a builtin peer
                      echoes every byte back (enough to see data cross the call);
      exec: COMMAND   runs COMMAND; its stdin/stdout are the line, its stderr goes to
                      ours; it exiting is the far end hanging up. A plain command is split
                      into words (spaces separate; '...' and "..." quote, \" and \\ inside
                      "..."; \ escapes one character) and run without a shell; one using
                      | & ; < > ( ) $ ` * ? [ ] { } ~ # ! or starting VAR=value goes to
                      sh -c. It runs in a process group of its own, which is killed (with
                      everything the command started) when the call ends and when
                      modem-sim stops;
      tcp: HOST:PORT  connects there; the connection is the line. Every call opens a
                      connection of its own, so one `ppp-peer-sim --listen HOST:PORT`
                      answers the calls of all modems (--count) at once and bundles
                      multilink calls (its multilink: script key).
    answer-delay (s) replaces the 2 s ring before the far end picks up; drop-after-bytes
    and drop-after-seconds make the network cut the carrier (NO CARRIER after S10);
    call-back rings this modem `after` seconds once the call is over (RING every 6 s;
    answer with ATA, or set S0 to auto-answer).
    modems: ["5550100", ...] gives each modem (--count) its own number (default 5550100
    + index); a far end that calls back calls that number.

CALLBACK CONTROL
    An exec: far end finds the modem's control socket (a Unix socket) in the environment
    variable MODEM_SIM_CONTROL. Writing one line `callback NUMBER SECONDS` to it asks the
    network to call NUMBER that many seconds later; if NUMBER is this modem's own, it rings
    and the answered call runs the same exec: command again (ppp-peer-sim does this for
    its callback: script key). Other numbers are not in service.
    line: pacing delivers data at the CONNECT rate (10 bits a byte); bit-error-rate and
    drop-rate damage bytes crossing the call, from a generator seeded with seed.

TIMING (virtual seconds from ATD, defaults X4 S6=2 S7=50 S8=2 S10=14)
    CONNECT 6 s, BUSY 4 s, VOICE 6 s, NO DIALTONE 5 s, NO ANSWER / NO CARRIER 52 s;
    each ',' in the number adds S8, 'W' 1 s, '!' 0.5 s. These, the rings, S10, the
    line's pacing and the network's drop and callback delays are modeled delays: real
    time = virtual time x --delay-scale (0: an instant modem and network). The +++ guard
    time (S12) is a timer the dialer keeps too: real time = virtual time x --time-scale.

COMMANDS
    E Q V X0-4 Z &F &W &V &C &D0-3 I0-9 L M H0 H1 O A D S0-S12 (Sn? Sn=v) A/,
    dial modifiers T P W , ; @ ! and ATDL (last number); +GMI +GMM +GMR +GCAP;
    &K \N %C +FCLASS=0 are accepted with OK. Anything else: ERROR.

EXAMPLES
    modem-sim --link /tmp/ttyMODEM --network network.yaml
    minicom -D /tmp/ttyMODEM                     # type ATZ, then ATDT5551234
    modem-sim --link /tmp/ttyMODEM --time-scale 0.1   # everything 10x faster
    modem-sim --link /tmp/ttyMODEM --time-scale 0.05 --delay-scale 0   # instant modem,
                                                 # timers 20x faster (the dialer's too)
    modem-sim --link /tmp/ttyS --count 2         # /tmp/ttyS0 and /tmp/ttyS1
    ppp-peer-sim --script server.yaml --listen 127.0.0.1:2323 &  # one PPP server for
    modem-sim --link /tmp/ttyS --count 2 --network tcp.yaml       # both, through a number
                                                 # {connect: 33600, tcp: "127.0.0.1:2323"}

    Hanging up: +++ (1 s of silence either side), then ATH; or close the port, which
    counts as the DTE dropping DTR (AT&D2 hangs up, &D1 keeps the call, &D0 ignores it)
    once the last program holding the port has closed it, as on a real serial port. A
    close followed at once by a reopen may be too short a DTR drop to notice."#;

/// A simulated Hayes/V.250 modem on a pseudo-terminal.
///
/// Creates a PTY whose slave side behaves like a serial port with a modem on it: AT
/// commands, result codes, call progress on a simulated phone network, incoming calls,
/// transparent data once CONNECTed, and the +++ escape (S2, S12 guard time) back to
/// online command state. Point any dialer (chat, pppd, minicom, your own) at the --link
/// path. Logs calls on stderr; RUST_LOG=debug adds the AT transcript and every byte. Serves
/// until interrupted (Ctrl-C or SIGTERM), then removes the links.
#[derive(Debug, Parser)]
#[command(version, after_long_help = EXAMPLE)]
struct Args {
    /// Make PATH a symlink to the PTY's slave (/dev/pts/N); with --count N > 1, PATH0 to
    /// PATH<N-1>, as socat's link= does. A symlink already there is replaced; any other
    /// file is left alone and the tool refuses to start.
    #[arg(long, value_name = "PATH")]
    link: PathBuf,

    /// The phone network to dial into (YAML; see below). Each modem has its own copy.
    #[arg(long, value_name = "FILE")]
    network: Option<PathBuf>,

    /// How many modems to serve, each on its own PTY.
    #[arg(long, value_name = "N", default_value = "1", value_parser = clap::value_parser!(u16).range(1..))]
    count: u16,

    /// Real time per unit of protocol time (the modem's clock, the +++ guard time), from
    /// 0.0001 to 1000; give the dialer the same factor. A dialer with real-time timeouts
    /// needs 1. Also the default of --delay-scale.
    #[arg(
        long,
        value_name = "F",
        default_value = "1",
        allow_negative_numbers = true
    )]
    time_scale: TimeScale,

    /// Real time per unit of modeled delay (call progress, rings, line pacing, the
    /// network's drop and callback): 1 is a real modem's pace, 0.01 runs a 6 s dial in
    /// 60 ms, 0 connects at once; from 0 to 1000. Default: --time-scale.
    #[arg(long, value_name = "F", allow_negative_numbers = true)]
    delay_scale: Option<DelayScale>,
}

impl Args {
    /// The two knobs, the delays defaulting to the timers' factor.
    fn pace(&self) -> Pace {
        Pace {
            timers: self.time_scale,
            delays: self.delay_scale.unwrap_or(self.time_scale.into()),
        }
    }
}

/// A network file that does not parse, shown with the offending line.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[error("{message}")]
struct NetworkFileError {
    message: String,
    #[source_code]
    source_code: NamedSource<String>,
    #[label("here")]
    at: Option<SourceSpan>,
}

fn load_network(path: Option<&Path>) -> miette::Result<Network> {
    let Some(path) = path else {
        return Ok(Network::default());
    };
    let text = fs::read_to_string(path)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot read {}", path.display()))?;
    Network::from_yaml(&text).map_err(|err| {
        let (line, column) = err.position();
        let at = offset_of(&text, line, column).map(SourceSpan::from);
        // The position is in the label (`FILE:LINE:COLUMN`), not repeated in the text;
        // without a position the message names the file itself.
        let message = match at {
            Some(_) => err.rule(),
            None => format!("{}: {}", path.display(), err.rule()),
        };
        NetworkFileError {
            message,
            source_code: NamedSource::new(path.display().to_string(), text.clone()),
            at,
        }
        .into()
    })
}

/// The byte offset of 1-based `line` and `column` in `text`.
fn offset_of(text: &str, line: u64, column: u64) -> Option<usize> {
    let line_index = usize::try_from(line.checked_sub(1)?).ok()?;
    let start: usize = text
        .split_inclusive('\n')
        .take(line_index)
        .map(str::len)
        .sum();
    let line_text = text[start..].lines().next().unwrap_or_default();
    let column_chars = usize::try_from(column.saturating_sub(1)).ok()?;
    let within = line_text
        .char_indices()
        .nth(column_chars)
        .map_or(line_text.len(), |(i, _)| i);
    Some(start + within)
}

/// Point `link` at `target`, replacing an old symlink but nothing else.
fn make_link(link: &Path, target: &Path) -> miette::Result<()> {
    match fs::symlink_metadata(link) {
        Ok(meta) if meta.file_type().is_symlink() => {
            let old = fs::read_link(link).unwrap_or_default();
            warn!(link = %link.display(), old = %old.display(), "replacing existing symlink");
            fs::remove_file(link)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot remove {}", link.display()))?;
        }
        Ok(_) => miette::bail!(
            "refusing to replace {}: it exists and is not a symlink",
            link.display()
        ),
        Err(err) if err.kind() == ErrorKind::NotFound => {}
        Err(err) => {
            return Err(err)
                .into_diagnostic()
                .wrap_err_with(|| format!("cannot inspect {}", link.display()));
        }
    }
    std::os::unix::fs::symlink(target, link)
        .into_diagnostic()
        .wrap_err_with(|| format!("cannot create symlink {}", link.display()))
}

/// Remove `link` if it still points at `target` (someone may have replaced it meanwhile).
fn remove_link(link: &Path, target: &Path) {
    if !fs::read_link(link).is_ok_and(|points_to| points_to == target) {
        return;
    }
    if let Err(err) = fs::remove_file(link) {
        warn!(link = %link.display(), %err, "cannot remove symlink");
    }
}

/// `peer: builtin` in the standalone tool: echo (see the help text).
fn standalone_peers() -> PeerFactory {
    Box::new(|call: &CallInfo| {
        info!(number = %call.number, "builtin peer: echoing line data (no PPP server in the standalone tool)");
        Ok(Box::new(LineEcho::default()) as LinePeer)
    })
}

/// The links to make: PATH for one modem, PATH0.. for several.
fn link_paths(link: &Path, count: u16) -> Vec<PathBuf> {
    if count == 1 {
        return vec![link.to_owned()];
    }
    (0..count)
        .map(|index| {
            let mut name = link.as_os_str().to_owned();
            name.push(index.to_string());
            PathBuf::from(name)
        })
        .collect()
}

async fn until_signalled() {
    let terminate = async {
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(err) => {
                warn!(%err, "cannot watch SIGTERM; stop with Ctrl-C");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        result = tokio::signal::ctrl_c() => {
            if let Err(err) = result {
                warn!(%err, "cannot watch Ctrl-C");
                std::future::pending::<()>().await;
            }
        }
        () = terminate => {}
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> miette::Result<()> {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        // A log nobody reads any more (`2>&1 | head`) is no reason to stop serving, nor
        // to panic in an eprintln! about it (issue 16 #2).
        .log_internal_errors(false)
        .init();

    let network = load_network(args.network.as_deref())?;
    let pace = args.pace();
    let clock = RealClock::start(pace.timers);
    let (stop, stopped) = watch::channel(false);
    let mut modems = JoinSet::new();
    let mut links = Vec::new();
    let exchange = Exchange::default();
    for (index, link) in link_paths(&args.link, args.count).into_iter().enumerate() {
        let pty = ModemPty::open().into_diagnostic()?;
        let slave = pty.path().to_owned();
        make_link(&link, &slave)?;
        let number = network.modem_number(index);
        // Best effort, like the log: the link works whether or not anyone reads this.
        let _ = writeln!(
            std::io::stdout(),
            "{} -> {} (number {number})",
            link.display(),
            slave.display()
        );
        // Calls to the modem's number (callbacks) ring it through the exchange.
        let (line, calls) = mpsc::unbounded_channel();
        exchange.connect(&number, line);
        let mut stopped = stopped.clone();
        let shutdown = async move {
            // An error means the sender is gone, which is a stop too.
            let _ = stopped.wait_for(|stop| *stop).await;
        };
        let span = info_span!("modem", link = %link.display());
        modems.spawn(
            serve(
                Modem::new(network.clone())
                    .with_number(&number)
                    .with_delays(pace.delays_on_clock()),
                pty,
                standalone_peers(),
                clock,
                calls,
                exchange.clone(),
                shutdown,
            )
            .instrument(span),
        );
        links.push((link, slave));
    }

    let served = tokio::select! {
        () = until_signalled() => Ok(()),
        // A modem that stops on its own has failed; stop the others too.
        Some(joined) = modems.join_next() => match joined {
            Ok(result) => result.into_diagnostic(),
            Err(err) => Err(err).into_diagnostic(),
        },
    };
    // No receiver left only means every modem has stopped already.
    let _ = stop.send(true);
    while let Some(joined) = modems.join_next().await {
        if let Ok(Err(err)) = joined {
            warn!(%err, "modem stopped with an error");
        }
    }
    for (link, slave) in &links {
        remove_link(link, slave);
    }
    served
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_lines_and_columns() {
        let text = "numbers:\n  \"1\": bussy\n";
        assert_eq!(offset_of(text, 1, 1), Some(0));
        assert_eq!(offset_of(text, 2, 3), Some(11));
        assert_eq!(offset_of(text, 9, 1), Some(text.len()));
        assert_eq!(offset_of(text, 0, 1), None);
    }

    #[test]
    fn several_modems_get_numbered_links() {
        let link = Path::new("/tmp/ttyS");
        assert_eq!(link_paths(link, 1), vec![PathBuf::from("/tmp/ttyS")]);
        assert_eq!(
            link_paths(link, 2),
            vec![PathBuf::from("/tmp/ttyS0"), PathBuf::from("/tmp/ttyS1")]
        );
    }
}
