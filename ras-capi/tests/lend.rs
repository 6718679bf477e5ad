//! A host that runs engines one after the other lends each to the C API in turn
//! (`ras::lend`): the exports use the lent engine while the loan lasts, and loans from
//! threads running in parallel take turns.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ras_engine::api::{EngineConfig, Ras};

/// An engine told apart by its seed, which its `Debug` shows.
fn engine(seed: u32) -> Ras {
    Ras::new(EngineConfig {
        seed: Some(seed),
        ..EngineConfig::default()
    })
}

fn seed_of_the_exports_engine() -> String {
    format!("{:?}", ras::ras())
}

/// How an engine's `Debug` shows `seed`.
fn seed(seed: u32) -> String {
    format!("seed: Some({seed})")
}

#[test]
fn a_lent_engine_is_used_until_the_loan_ends_and_loans_take_turns() {
    let loan = ras::lend(engine(0xA1));
    assert!(seed_of_the_exports_engine().contains(&seed(0xA1)));
    // Another thread asking for a loan waits for this one to end.
    let second_started = Arc::new(AtomicBool::new(false));
    let second = {
        let started = Arc::clone(&second_started);
        std::thread::spawn(move || {
            let _loan = ras::lend(engine(0xB2));
            started.store(true, Ordering::SeqCst);
            seed_of_the_exports_engine()
        })
    };
    std::thread::sleep(Duration::from_millis(50));
    assert!(
        !second_started.load(Ordering::SeqCst),
        "the second loan waits"
    );
    assert!(seed_of_the_exports_engine().contains(&seed(0xA1)));
    drop(loan);
    let seen = second.join().expect("the second thread");
    assert!(seen.contains(&seed(0xB2)), "{seen}");
    // Both loans over: the exports' own engine again.
    let own = seed_of_the_exports_engine();
    assert!(
        !own.contains(&seed(0xA1)) && !own.contains(&seed(0xB2)),
        "{own}"
    );
}
