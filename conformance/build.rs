//! The custom-dial scenarios (`entry: {custom-dial: …}`) load ras-capi's example
//! dialers, and dial through the C API of this very process.
//!
//! - The C dialers (`ras-capi/examples/c`) are compiled here into shared objects in
//!   `OUT_DIR`, whose path the harness reads from `CONFORMANCE_DIALERS`. They are not
//!   linked to `libras.so`: a dialer's `RasDialA` binds at load time to the host's own,
//!   so that it dials the scenario's engine (ras-capi/examples/c/predial_dialer.c).
//! - For that, the binary and the tests export their symbols (`--export-dynamic`), as a
//!   C program linked to libras does.
//!
//! Without a C compiler the build goes on with a warning; the scenarios that need these
//! dialers then say so (and `cargo test` skips them loudly, or fails them under CI=true).

use std::path::{Path, PathBuf};

#[path = "build_codes.rs"]
mod build_codes;

/// The example C dialers, by source file; each becomes `lib{name}.so`.
const C_DIALERS: [&str; 2] = ["predial_dialer", "no_entry_point"];

fn main() {
    println!("cargo::rustc-link-arg-bins=-Wl,--export-dynamic");
    println!("cargo::rustc-link-arg-tests=-Wl,--export-dynamic");
    let Some(out) = std::env::var_os("OUT_DIR").map(PathBuf::from) else {
        println!("cargo::warning=OUT_DIR is not set: the example C dialers were not built");
        return;
    };
    // The errors and states the engine's source names (conformance coverage/explain); the
    // crate cannot be built without them.
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    if let Err(error) = build_codes::write(&manifest, &out) {
        panic!("cannot list the engine's errors and states from its source: {error}");
    }
    let capi = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("ras-capi");
    let include = capi.join("include");
    println!("cargo::rerun-if-changed={}", include.display());
    println!("cargo::rustc-env=CONFORMANCE_DIALERS={}", out.display());
    let compiler = match cc::Build::new().cargo_metadata(false).try_get_compiler() {
        Ok(compiler) => compiler,
        Err(error) => {
            println!(
                "cargo::warning=no C compiler ({error}): the example C dialers were not built"
            );
            return;
        }
    };
    for name in C_DIALERS {
        let source = capi.join("examples").join("c").join(format!("{name}.c"));
        println!("cargo::rerun-if-changed={}", source.display());
        let library = out.join(format!("lib{name}.so"));
        // A failed compile must not leave the last build's library standing in.
        let _ = std::fs::remove_file(&library);
        let mut command = compiler.to_command();
        command
            .args(["-shared", "-fPIC", "-Wall", "-Wextra", "-Werror", "-I"])
            .arg(&include)
            .arg(&source)
            .arg("-o")
            .arg(&library);
        match command.output() {
            Ok(output) if output.status.success() => {}
            Ok(output) => println!(
                "cargo::warning={} did not compile: {}",
                source.display(),
                String::from_utf8_lossy(&output.stderr).replace('\n', " ")
            ),
            Err(error) => println!(
                "cargo::warning=cannot run the C compiler for {}: {error}",
                source.display()
            ),
        }
    }
}
