//! `libras`: the ras-engine behind the Windows RAS C API, for C and C++ dial-up code
//! written against `ras.h` (issue 12). `include/ras.h` declares the ANSI functions and
//! structures of ras-reference §3 with Linux types; this crate builds `libras.so` and
//! `libras.a` that implement them over one process-wide [`ras_engine::api::Ras`].
//!
//! - [`api`]: the exported functions (`RasDialA`, `RasHangUpA`, `RasGetConnectStatusA`,
//!   `RasEnumConnectionsA`, `RasEnumEntriesA`, `RasGetErrorStringA`).
//! - [`abi`]: the C structures and types, in the SDK's 4-byte packing.
//! - [`custom`]: `RasCustomDial` plug-ins named by an entry's `CustomDialDll=`.
//!
//! Handles: an `HRASCONN` is the engine's connection number ([`HRasConn::value`], never
//! zero) written as a pointer that points at nothing ([`to_hrasconn`], [`from_hrasconn`]).
//! NULL is no connection, so C code sets its handle to NULL before a new dial, as the SDK
//! requires (ras-reference §4.2 rule 11).
//!
//! Environment: `RAS_TIME_SCALE` scales the engine's timers as for `rasdial`; a NULL
//! phonebook is `rasdial`'s default one ([`ras_engine::env`]); `RAS_LOG` (a `tracing`
//! filter such as `warn` or `ras_engine=debug`) makes the library log to stderr, which is
//! where a custom dialer that cannot be loaded is named along with the loader's message.

// This crate is the C boundary: every export takes raw pointers from C and calls C
// function pointers (notifiers, plug-ins), which Rust can only do in `unsafe`. Each block
// says what it relies on; the rest of the workspace stays free of `unsafe`.
#![allow(unsafe_code)]

pub mod abi;
pub mod api;
pub mod custom;
mod memory;
mod notify;
mod text;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Mutex, MutexGuard, Once, OnceLock, PoisonError, RwLock};

use ras_engine::api::{EngineConfig, HRasConn, Ras};
use ras_engine::ras::RasError;
use sansio::TimeScale;

use abi::{DWORD, HRASCONN};

/// The variable that turns the library's logging on (a `tracing` filter).
pub const LOG_VAR: &str = "RAS_LOG";

/// The engine behind the exports, once chosen.
static RAS: OnceLock<Ras> = OnceLock::new();

/// The engine lent by [`lend`], while the loan lasts: it stands in for [`RAS`].
static LENT: RwLock<Option<Ras>> = RwLock::new(None);

/// Loans are taken one at a time: [`lend`] waits for the one before to end.
static LOANS: Mutex<()> = Mutex::new(());

/// The process's RAS client: one connection table for every caller of the C API, as
/// Windows has one per system. While a [`lend`] lasts it is the lent engine; otherwise,
/// unless [`install`] chose it, it is built on first use from the environment
/// (`RAS_TIME_SCALE`).
pub fn ras() -> Ras {
    // A panic elsewhere cannot leave the slot half-written: it is one assignment.
    if let Some(lent) = LENT.read().unwrap_or_else(PoisonError::into_inner).as_ref() {
        return lent.clone();
    }
    RAS.get_or_init(|| {
        let time_scale = ras_engine::env::time_scale_from_env().unwrap_or_else(|error| {
            tracing::warn!(%error, "{}: ignored, running in real time", ras_engine::env::TIME_SCALE_VAR);
            TimeScale::REAL
        });
        Ras::new(EngineConfig {
            time_scale,
            ..EngineConfig::default()
        })
    })
    .clone()
}

/// Put the C API on `ras` instead: for a Rust host (a test harness, say) that wants C
/// code, or a custom dialer, to dial through an engine it configured itself. Only before
/// the first export runs; afterwards the engine in use is kept and `ras` handed back.
pub fn install(ras: Ras) -> Result<(), Ras> {
    RAS.set(ras)
}

/// Put the C API on `ras` until the [`Loan`] is dropped: for a host that runs several
/// engines one after the other in one process (the conformance harness plays each
/// scenario in an engine of its own). The exports then see only `ras`, on every thread:
/// a custom dialer's `RasDialA` dials it, and handles from another engine are not
/// known to it. Loans are serialised: `lend` blocks until the loan before has ended, so
/// hosts running in parallel take turns at the C API.
pub fn lend(ras: Ras) -> Loan {
    // A host that panicked during its loan released it on unwinding; the lock guards
    // nothing but the turn.
    let turn = LOANS.lock().unwrap_or_else(PoisonError::into_inner);
    *LENT.write().unwrap_or_else(PoisonError::into_inner) = Some(ras);
    Loan { _turn: turn }
}

/// A loan of an engine to the C API ([`lend`]); dropping it gives the exports back their
/// own engine and lets the next loan start.
#[derive(Debug)]
#[must_use = "the loan ends when this is dropped"]
pub struct Loan {
    _turn: MutexGuard<'static, ()>,
}

impl Drop for Loan {
    fn drop(&mut self) {
        // Runs before `_turn` is released: the next loan finds the slot empty.
        *LENT.write().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// The C handle of connection `handle`.
pub fn to_hrasconn(handle: HRasConn) -> HRASCONN {
    // The engine numbers connections from 1, one per dial: far below usize::MAX on any
    // target this builds for. The pointer has no provenance: it is never dereferenced.
    std::ptr::without_provenance_mut(handle.value() as usize)
}

/// The connection a C handle names; `None` for NULL.
pub fn from_hrasconn(handle: HRASCONN) -> Option<HRasConn> {
    (!handle.is_null()).then(|| HRasConn::from_raw(handle.addr() as u64))
}

/// Log to stderr as [`LOG_VAR`] says, once per process, before the first export does
/// anything.
fn start_logging() {
    static STARTED: Once = Once::new();
    STARTED.call_once(|| {
        if let Ok(filter) = std::env::var(LOG_VAR) {
            // Someone else's subscriber (a Rust host) wins; that is fine.
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_writer(std::io::stderr)
                .try_init();
        }
    });
}

/// Run the body of an export: its error as the `DWORD` it returns, and a panic caught here
/// instead of unwinding into C (which would abort the process). A panic is a bug in the
/// library; the caller sees 635 ERROR_UNKNOWN [inferred].
fn boundary(function: &'static str, body: impl FnOnce() -> Result<(), RasError>) -> DWORD {
    match catch_unwind(AssertUnwindSafe(|| {
        start_logging();
        body()
    })) {
        Ok(Ok(())) => 0,
        Ok(Err(error)) => error.code(),
        Err(_) => {
            tracing::error!(function, "panic stopped at the C boundary");
            RasError::ERROR_UNKNOWN.code()
        }
    }
}
