//! Every fuzz target as an ordinary test: its seed corpus (`fuzz/corpus/<target>/`), then
//! seeded mutations of that corpus, so a regression a fuzzer once found (or would find
//! quickly) fails `cargo test` without a fuzzer installed.
//!
//! One trial per target (`cargo test -p fuzz-targets -- lcp_packet`). The number of
//! mutations is [`DEFAULT_MUTATIONS`], or `FUZZ_REPLAY_MUTATIONS` from the environment for a
//! longer run. A failing input is written to `target/fuzz-replay/<target>/` so it can be
//! run again, minimised by the fuzzer (`fuzz/README.md`) and added to the corpus.

use std::fs;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use fuzz_targets::{TARGETS, Target};
use libtest_mimic::{Arguments, Failed, Trial};
use ras_ppp::random::SeededRandom;

/// Mutations per target in a plain `cargo test`: enough to reach past the corpus, few
/// enough that the whole replay stays within seconds.
const DEFAULT_MUTATIONS: u64 = 2_000;

/// Inputs grow no longer than this; the corpora are far shorter and a parser's bugs do not
/// need megabytes to show.
const MAX_INPUT_LEN: usize = 4_096;

/// Octets that mean something to one decoder or another: HDLC flag and escape, the PPP
/// address and control, CR/LF, the YAML and `.pbk` punctuation, and the edges of a byte.
const INTERESTING: &[u8] = &[
    0x00, 0x01, 0x02, 0x03, 0x04, 0x7D, 0x7E, 0x7F, 0x80, 0xFE, 0xFF, b'\r', b'\n', b' ', b':',
    b'-', b'"', b'[', b']', b'{', b'}', b'=', b'#', b'&', b'*', b'!', b'|', b'0', b'9',
];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate sits in the workspace")
        .to_path_buf()
}

fn corpus_dir(target: &Target) -> PathBuf {
    workspace_root().join("fuzz/corpus").join(target.name)
}

/// The corpus of `target`, in file-name order so the mutations are the same on every run.
fn corpus(target: &Target) -> Result<Vec<(String, Vec<u8>)>, Failed> {
    let dir = corpus_dir(target);
    let mut entries = fs::read_dir(&dir)
        .map_err(|error| format!("{}: {error}", dir.display()))?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| format!("{}: {error}", dir.display()))?;
    entries.sort();
    let mut seeds = Vec::new();
    for path in entries {
        let bytes = fs::read(&path).map_err(|error| format!("{}: {error}", path.display()))?;
        let name = path
            .file_name()
            .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
        seeds.push((name, bytes));
    }
    if seeds.is_empty() {
        return Err(format!("{}: no seed inputs", dir.display()).into());
    }
    Ok(seeds)
}

fn below(random: &mut SeededRandom, bound: usize) -> usize {
    // The modulo bias is irrelevant for picking mutation positions.
    (random.next_u64() % bound.max(1) as u64) as usize
}

/// A position and a length inside `len` octets (both zero for an empty input).
fn span(random: &mut SeededRandom, len: usize) -> (usize, usize) {
    let at = below(random, len);
    (at, 1 + below(random, (len - at).clamp(1, 32)))
}

/// AFL-style havoc: one to eight stacked edits of a corpus entry, sometimes spliced with
/// another entry; one input in sixteen is plain random octets.
fn mutate(random: &mut SeededRandom, seeds: &[(String, Vec<u8>)]) -> Vec<u8> {
    if below(random, 16) == 0 {
        let mut noise = vec![0; below(random, 256)];
        random.fill(&mut noise);
        return noise;
    }
    let mut input = seeds[below(random, seeds.len())].1.clone();
    for _ in 0..1 + below(random, 8) {
        let len = input.len();
        match below(random, 8) {
            0 if len > 0 => input[below(random, len)] ^= 1 << below(random, 8),
            1 if len > 0 => {
                input[below(random, len)] = INTERESTING[below(random, INTERESTING.len())]
            }
            2 if len > 0 => input[below(random, len)] = random.bytes::<1>()[0],
            3 if len > 0 => {
                let (at, n) = span(random, len);
                input.drain(at..(at + n).min(len));
            }
            4 if len > 0 => {
                let (from, n) = span(random, len);
                let copy = input[from..(from + n).min(len)].to_vec();
                let at = below(random, len + 1);
                input.splice(at..at, copy);
            }
            5 => {
                let mut fresh = vec![0; 1 + below(random, 16)];
                random.fill(&mut fresh);
                let at = below(random, len + 1);
                input.splice(at..at, fresh);
            }
            6 => {
                let other = &seeds[below(random, seeds.len())].1;
                let keep = below(random, len + 1);
                input.truncate(keep);
                input.extend_from_slice(&other[below(random, other.len() + 1)..]);
            }
            _ => input.truncate(below(random, len + 1)),
        }
    }
    input.truncate(MAX_INPUT_LEN);
    input
}

fn mutations() -> Result<u64, Failed> {
    match std::env::var("FUZZ_REPLAY_MUTATIONS") {
        Ok(value) => value
            .parse()
            .map_err(|_| format!("FUZZ_REPLAY_MUTATIONS={value:?} is not a count").into()),
        Err(_) => Ok(DEFAULT_MUTATIONS),
    }
}

/// Run one input; on a panic, keep the input and say where it is.
fn run_one(target: &Target, label: &str, input: &[u8]) -> Result<(), Failed> {
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| (target.run)(input)));
    if outcome.is_ok() {
        return Ok(());
    }
    let dir = workspace_root()
        .join("target/fuzz-replay")
        .join(target.name);
    let kept = fs::create_dir_all(&dir)
        .and_then(|()| fs::write(dir.join(label), input))
        .map_or_else(
            |error| format!("(could not keep it: {error})"),
            |()| format!("kept as {}", dir.join(label).display()),
        );
    Err(format!(
        "{}: input {label} ({} octets) panicked, {kept}; text: {:?}",
        target.name,
        input.len(),
        String::from_utf8_lossy(&input[..input.len().min(200)]),
    )
    .into())
}

fn replay(target: &Target) -> Result<(), Failed> {
    let seeds = corpus(target)?;
    for (name, bytes) in &seeds {
        run_one(target, name, bytes)?;
    }
    for index in 0..mutations()? {
        let mut random = SeededRandom::new(index);
        let input = mutate(&mut random, &seeds);
        run_one(target, &format!("mutation-{index}"), &input)?;
    }
    Ok(())
}

/// Every corpus folder belongs to a target, so a renamed target cannot leave its corpus
/// silently unreplayed.
fn corpus_folders_are_targets() -> Result<(), Failed> {
    let dir = workspace_root().join("fuzz/corpus");
    for entry in fs::read_dir(&dir).map_err(|error| format!("{}: {error}", dir.display()))? {
        let name = entry
            .map_err(|error| format!("{}: {error}", dir.display()))?
            .file_name();
        let name = name.to_string_lossy();
        if fuzz_targets::target(&name).is_none() {
            return Err(format!("fuzz/corpus/{name} is no target's corpus").into());
        }
    }
    Ok(())
}

fn main() {
    let arguments = Arguments::from_args();
    let mut trials: Vec<Trial> = TARGETS
        .iter()
        .map(|target| Trial::test(target.name, move || replay(target)))
        .collect();
    trials.push(Trial::test(
        "corpus_folders_are_targets",
        corpus_folders_are_targets,
    ));
    libtest_mimic::run(&arguments, trials).exit();
}
