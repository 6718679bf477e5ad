//! What the engine can produce, listed from its source at build time (`build_codes.rs`):
//! the errors it names or passes on, and the states it enters.

use ras_engine::ras::{RasConnState, RasError};

include!(concat!(env!("OUT_DIR"), "/engine_codes.rs"));

/// An error the engine can report, and the source files that report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Producible {
    /// The error.
    pub error: RasError,
    /// Where the engine names it (empty: passed on from the server's MS-CHAPv2 `E=`).
    pub from: &'static [&'static str],
}

/// Every error the engine can report, by number.
pub fn producible_errors() -> Vec<Producible> {
    let mut errors: Vec<Producible> = NAMED_ERRORS
        .iter()
        .filter_map(|(symbol, from)| {
            symbol
                .parse::<RasError>()
                .ok()
                .map(|error| Producible { error, from })
        })
        .collect();
    for &code in PASSED_ON_ERRORS {
        if !errors.iter().any(|p| p.error.code() == code) {
            errors.push(Producible {
                error: RasError::from_code(code),
                from: &[],
            });
        }
    }
    errors.sort_by_key(|p| p.error.code());
    errors
}

/// Every state the engine enters, in `ras.h` order.
pub fn entered_states() -> Vec<RasConnState> {
    RasConnState::ALL
        .iter()
        .copied()
        .filter(|state| ENTERED_STATES.iter().any(|(name, _)| *name == state.name()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_source_lists_what_every_dial_goes_through() {
        let states = entered_states();
        for state in [
            RasConnState::OpenPort,
            RasConnState::ConnectDevice,
            RasConnState::Connected,
        ] {
            assert!(states.contains(&state), "{state}");
        }
        assert!(!states.contains(&RasConnState::CallbackComplete), "9x only");
        let errors = producible_errors();
        for code in [676, 678, 691, 648, 646] {
            assert!(errors.iter().any(|p| p.error.code() == code), "{code}");
        }
        // Every name the scan found is a symbol of the engine's table.
        for (symbol, _) in NAMED_ERRORS {
            assert!(symbol.parse::<RasError>().is_ok(), "{symbol}");
        }
    }
}
