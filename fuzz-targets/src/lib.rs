//! The fuzz targets of the workspace, as plain functions over `&[u8]`.
//!
//! Each target feeds one decoder (and, where there is one, the machine behind it) with
//! arbitrary bytes and panics only when a property the code promises is broken: a parser
//! never panics and gives a typed error for what it cannot read, whatever parses is emitted
//! and reads back equal, a machine answers garbage without panicking. The same functions run
//! in two places:
//!
//! - `fuzz/` (outside the workspace) wraps each in AFL++ (`cargo afl`) for coverage-guided
//!   runs on the stable toolchain; `fuzz/run` runs them all for a set time;
//! - `tests/replay.rs` replays every seed corpus in `fuzz/corpus/<target>/` and a few
//!   thousand seeded mutations of it in `cargo test`, so a regression fails CI.
//!
//! [`TARGETS`] is the one list both use.

pub mod capi;
pub mod engine;
pub mod modem;
pub mod ppp;
pub mod yaml;

/// One fuzz target: its name (also its corpus folder, `fuzz/corpus/<name>/`) and its body.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    /// The target's name, as `fuzz/run` and the corpus folder spell it.
    pub name: &'static str,
    /// Run one input; panics when a property is broken.
    pub run: fn(&[u8]),
}

/// Every target, one row each.
pub const TARGETS: &[Target] = &[
    // ras-ppp: wire decoders and the machines behind them.
    Target {
        name: "hdlc_deframe",
        run: ppp::hdlc_deframe,
    },
    Target {
        name: "hdlc_chunking",
        run: ppp::hdlc_chunking,
    },
    Target {
        name: "lcp_packet",
        run: ppp::lcp_packet,
    },
    Target {
        name: "ipcp_packet",
        run: ppp::ipcp_packet,
    },
    Target {
        name: "pap_packet",
        run: ppp::pap_packet,
    },
    Target {
        name: "chap_decode",
        run: ppp::chap_decode,
    },
    Target {
        name: "cbcp_decode",
        run: ppp::cbcp_decode,
    },
    Target {
        name: "mp_header",
        run: ppp::mp_header,
    },
    Target {
        name: "mp_reassemble",
        run: ppp::mp_reassemble,
    },
    Target {
        name: "bap_decode",
        run: ppp::bap_decode,
    },
    Target {
        name: "ppp_link",
        run: ppp::ppp_link,
    },
    Target {
        name: "line_capture",
        run: ppp::line_capture,
    },
    Target {
        name: "eap_decode",
        run: ppp::eap_decode,
    },
    Target {
        name: "terminal_login",
        run: ppp::terminal_login,
    },
    // ras-engine: the modem's answers and the phonebook.
    Target {
        name: "hayes_result",
        run: engine::hayes_result,
    },
    Target {
        name: "hayes_dialer",
        run: engine::hayes_dialer,
    },
    Target {
        name: "scp_parse",
        run: engine::scp_parse,
    },
    Target {
        name: "pbk_parse",
        run: engine::pbk_parse,
    },
    // ras-capi: the C API's structures from a hostile caller.
    Target {
        name: "capi_structures",
        run: capi::capi_structures,
    },
    // modem-sim: the V.250 command line, the whole interpreter and the control line.
    Target {
        name: "v250_command",
        run: modem::v250_command,
    },
    Target {
        name: "modem_interpreter",
        run: modem::modem_interpreter,
    },
    Target {
        name: "control_request",
        run: modem::control_request,
    },
    // Every YAML format.
    Target {
        name: "network_yaml",
        run: yaml::network_yaml,
    },
    Target {
        name: "script_yaml",
        run: yaml::script_yaml,
    },
    Target {
        name: "scenario_parse",
        run: yaml::scenario_parse,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|target| target.name == name)
}
