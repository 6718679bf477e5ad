//! A Rust host chooses the engine behind the C API before the first call (`ras::install`).

use ras_engine::api::{EngineConfig, Ras};
use sansio::{Duration, TimeScale};

#[test]
fn the_installed_engine_is_the_one_the_exports_use_and_stays() {
    let half: TimeScale = "0.5".parse().expect("a time scale");
    let engine = Ras::new(EngineConfig {
        time_scale: half,
        ..EngineConfig::default()
    });
    assert!(ras::install(engine).is_ok());
    // The engine's settle time is 3 s of modem time (ras-reference §4.4 rule 21).
    assert_eq!(
        ras::ras().hang_up_settle_time(),
        Duration::from_millis(1500)
    );
    assert!(
        ras::install(Ras::default()).is_err(),
        "the first engine stays"
    );
    assert_eq!(
        ras::ras().hang_up_settle_time(),
        Duration::from_millis(1500)
    );
}
