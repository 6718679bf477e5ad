//! The `suite` bench runs the bundled custom-dial scenarios, whose C dialers bind
//! `RasDialA` to the host process's own at load time (conformance/build.rs): the bench
//! binaries export their symbols, as conformance's binary and tests do.

fn main() {
    println!("cargo::rustc-link-arg-benches=-Wl,--export-dynamic");
}
