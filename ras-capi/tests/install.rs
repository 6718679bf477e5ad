//! A Rust host chooses the engine behind the C API before the first call (`ras::install`).

use ras_engine::api::{EngineConfig, Ras};

/// An engine told apart by its seed, which its `Debug` shows.
fn engine(seed: u32) -> Ras {
    Ras::new(EngineConfig {
        seed: Some(seed),
        ..EngineConfig::default()
    })
}

#[test]
fn the_installed_engine_is_the_one_the_exports_use_and_stays() {
    assert!(ras::install(engine(0xC0FFEE)).is_ok());
    let chosen = format!("{:?}", ras::ras());
    assert!(
        chosen.contains(&format!("seed: Some({})", 0xC0FFEE)),
        "{chosen}"
    );
    assert!(ras::install(engine(7)).is_err(), "the first engine stays");
    assert_eq!(format!("{:?}", ras::ras()), chosen);
}
