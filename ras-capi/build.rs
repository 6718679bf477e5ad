//! The integration tests export their symbols to shared objects they load, as a C
//! program linked to libras does: a custom dialer that a test loads then finds the
//! test's own `RasDialA` (tests/lab_plugins.rs runs the C API on a virtual-time lab
//! installed in the test process, and the dialers must dial through that one).

fn main() {
    println!("cargo::rustc-link-arg-tests=-Wl,--export-dynamic");
}
