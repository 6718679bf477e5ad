//! Custom dialers (ras-reference §4.5 rule 29, seed RasCustomDialFn, DESIGN §5): an entry
//! whose `CustomDialDll=` names a shared object is dialed by that object's `RasCustomDial`
//! entry point ([`RasCustomDialFn`]), which gets the whole dial: the extensions,
//! phonebook, parameters, notifier type and notifier, and the handle out-pointer, exactly
//! as `RasDialA` received them. A dialer that dials through RAS itself calls `RasDialA`
//! with `RDEOPT_CustomDial` set, which skips the plug-in, so it does not loop.
//!
//! The path is handed to the loader as written: a name with a `/` is a file (relative to
//! the working directory), a bare name is searched for the way `dlopen` searches
//! (`LD_LIBRARY_PATH`, the cache, the system folders). A library is loaded once and never
//! unloaded: the notifiers it wraps may be called long after its `RasCustomDial` returned
//! [inferred: Windows' RasMan likewise keeps custom-dial DLLs loaded].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use libloading::os::unix::Library;
use ras_engine::ras::RasError;

use crate::abi::{HINSTANCE, RasCustomDialFn};

/// The entry point a custom dialer exports (seed RasCustomDialFn).
pub const ENTRY_POINT: &str = "RasCustomDial";

/// Why an entry's custom dialer cannot dial.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomDialError {
    /// The loader refused the file (missing, not a shared object, unresolved symbols …).
    #[error("cannot load the custom dialer {}: {message}", path.display())]
    Load {
        /// The entry's `CustomDialDll=`.
        path: PathBuf,
        /// The loader's own message (`dlerror`).
        message: String,
    },
    /// The library loaded but has no `RasCustomDial`.
    #[error("the custom dialer {} has no `{ENTRY_POINT}` entry point", path.display())]
    MissingEntryPoint {
        /// The entry's `CustomDialDll=`.
        path: PathBuf,
    },
}

impl CustomDialError {
    /// The RAS error `RasDialA` returns: 755 ERROR_CANNOT_DO_CUSTOMDIAL for a missing
    /// entry point (rule 29), and for a library that cannot be loaded as well [inferred:
    /// the reference has no code for it, and either way the custom dial cannot be done].
    pub fn ras_error(&self) -> RasError {
        RasError::ERROR_CANNOT_DO_CUSTOMDIAL
    }
}

/// A loaded custom dialer.
#[derive(Debug, Clone, Copy)]
pub struct CustomDialer {
    /// The loader's handle, passed as `hInstDll` (kept as an address so the table of
    /// loaded dialers can be shared between threads).
    instance: usize,
    /// `RasCustomDial`.
    pub entry_point: RasCustomDialFn,
}

impl CustomDialer {
    /// `hInstDll`: the library's handle.
    pub fn instance(&self) -> HINSTANCE {
        std::ptr::with_exposed_provenance_mut(self.instance)
    }
}

/// The dialers loaded so far, by the path the entry gave.
static LOADED: Mutex<BTreeMap<PathBuf, CustomDialer>> = Mutex::new(BTreeMap::new());

/// Load the custom dialer at `path` (once per process) and find its entry point.
pub fn load(path: &Path) -> Result<CustomDialer, CustomDialError> {
    // Each update is one insert: a panic elsewhere leaves the table consistent.
    let mut loaded = LOADED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(dialer) = loaded.get(path) {
        return Ok(*dialer);
    }
    // SAFETY: loading runs the library's initialisers. The phonebook entry names this
    // library as its dialer, which is trusting it with the dial by design (rule 29).
    let library = unsafe { Library::new(path) }.map_err(|error| CustomDialError::Load {
        path: path.to_owned(),
        message: loader_message(&error),
    })?;
    // SAFETY: the seed fixes `RasCustomDial`'s signature; a library exporting the name
    // with another one breaks the contract it was written against.
    let entry_point = match unsafe { library.get::<RasCustomDialFn>(ENTRY_POINT) } {
        Ok(symbol) => *symbol,
        Err(_) => {
            return Err(CustomDialError::MissingEntryPoint {
                path: path.to_owned(),
            });
        }
    };
    let dialer = CustomDialer {
        // Never unloaded (see the module notes): the handle outlives every dial.
        instance: library.into_raw().expose_provenance(),
        entry_point,
    };
    tracing::debug!(path = %path.display(), "custom dialer loaded");
    loaded.insert(path.to_owned(), dialer);
    Ok(dialer)
}

/// The loader's message: libloading says "dlopen failed" and keeps `dlerror`'s text (the
/// file and what was wrong with it) as the error's source.
fn loader_message(error: &libloading::Error) -> String {
    let mut message = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        message = format!("{message}: {cause}");
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_library_is_755_naming_the_file_and_the_loader_message() {
        let path = Path::new("/nonexistent/libdialer.so");
        let error = load(path).expect_err("no such file");
        assert_eq!(error.ras_error(), RasError::ERROR_CANNOT_DO_CUSTOMDIAL);
        let text = error.to_string();
        assert!(text.contains("/nonexistent/libdialer.so"), "{text}");
        assert!(text.contains("No such file"), "{text}");
    }

    #[test]
    fn a_library_without_the_entry_point_is_755() {
        // The C library every process has loaded exports no RasCustomDial.
        let path = Path::new("libc.so.6");
        let error = load(path).expect_err("libc has no RasCustomDial");
        assert_eq!(
            error,
            CustomDialError::MissingEntryPoint {
                path: path.to_owned()
            }
        );
        assert_eq!(error.ras_error(), RasError::ERROR_CANNOT_DO_CUSTOMDIAL);
    }
}
