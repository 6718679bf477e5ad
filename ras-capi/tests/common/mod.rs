//! Compiling C against `include/ras.h` and linking it to the `libras.so` that `cargo test`
//! built, with the warnings the issue asks for (`-Wall -Wextra -Werror`).

#![allow(dead_code, clippy::print_stderr)]

use std::path::{Path, PathBuf};
use std::process::Command;

use sansio::TimeScale;

/// The lab's time scale: modem-sim and the library (`RAS_TIME_SCALE`) run at it. 0.05
/// rather than the workspace's usual 0.01: the engine then gives the modem 250 ms, not
/// 50 ms, to answer a command (5 s of modem time), which a loaded machine needs (a busy
/// dial once got 666 ERROR_DEVICE_NOT_READY at 0.01 with several builds running).
pub fn time_scale() -> TimeScale {
    TimeScale::new(0.05).expect("a valid factor")
}

/// The C compiler, or `None` (the test skips loudly) outside CI when there is none.
pub fn compiler() -> Option<PathBuf> {
    testkit::required_program("cc", "gcc")
}

/// `ras-capi/include`.
pub fn include_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("include")
}

/// `ras-capi/tests/c`: the C sources of the tests.
pub fn c_sources() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("c")
}

/// The folder holding the `libras.so` built for this test run: `target/PROFILE/deps`, the
/// folder of this test's own executable. (`cargo test` builds the library there and
/// copies it up to `target/PROFILE` only on `cargo build`, so that copy may be stale.)
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test's own path");
    let dir = exe.parent().expect("target/PROFILE/deps/TEST").to_owned();
    assert!(
        dir.join("libras.so").is_file(),
        "no libras.so in {}",
        dir.display()
    );
    dir
}

/// `target/PROFILE`, where `cargo test` puts the examples (in `examples/`).
pub fn profile_dir() -> PathBuf {
    lib_dir().parent().expect("target/PROFILE/deps").to_owned()
}

/// A fresh scratch folder for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ras-capi-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch folder");
    dir
}

/// What to build from C sources.
pub enum Output<'a> {
    /// An executable linked to libras.
    Program(&'a Path),
    /// A shared object (a custom dialer), linked to libras when `with_libras`.
    SharedObject { path: &'a Path, with_libras: bool },
}

/// Compile `sources` with warnings as errors (`-Wall -Wextra -Werror`, and `extra`);
/// panics with the compiler's messages when it fails. (`-pedantic` suits the header, not
/// SDK-style programs: they pass notifier functions as `LPVOID`, which ISO C frowns on.)
pub fn compile(cc: &Path, sources: &[PathBuf], extra: &[&str], output: Output<'_>) {
    let lib = lib_dir();
    let mut command = Command::new(cc);
    command
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-pthread", "-g"])
        .args(extra)
        .arg("-I")
        .arg(include_dir())
        .args(sources);
    let link_libras = match output {
        Output::Program(path) => {
            command.arg("-o").arg(path);
            true
        }
        Output::SharedObject { path, with_libras } => {
            command.args(["-shared", "-fPIC", "-o"]).arg(path);
            with_libras
        }
    };
    if link_libras {
        command
            .arg("-L")
            .arg(&lib)
            .arg(format!("-Wl,-rpath,{}", lib.display()))
            .arg("-lras");
    }
    let result = command.output().expect("run the C compiler");
    assert!(
        result.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
}
