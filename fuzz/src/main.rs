//! One AFL++ harness for every target of `fuzz-targets`: `ras-fuzz TARGET` fuzzes the
//! target of that name in persistent mode. `fuzz/run` starts it under `cargo afl fuzz`;
//! `ras-fuzz` alone lists the targets.

use std::process::ExitCode;

fn main() -> ExitCode {
    let name = std::env::args().nth(1).unwrap_or_default();
    let Some(target) = fuzz_targets::target(&name) else {
        eprintln!("usage: ras-fuzz TARGET (AFL++ feeds the input on stdin); targets:");
        for target in fuzz_targets::TARGETS {
            eprintln!("  {}", target.name);
        }
        return ExitCode::from(2);
    };
    afl::fuzz!(|data: &[u8]| (target.run)(data));
    ExitCode::SUCCESS
}
