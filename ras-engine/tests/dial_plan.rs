//! What `DialPlan::resolve` makes of an entry, the dial parameters and the engine's
//! settings, before any device is touched.

use ras_engine::api::{DialParams, EngineConfig, HRasConn};
use ras_engine::phonebook::Entry;
use ras_engine::ppp::random::Entropy;
use ras_engine::ras::{DialPlan, RasError};

fn entry() -> Entry {
    Entry::modem("Lab ISP", "/dev/ttyUSB0", "5551234")
}

fn params() -> DialParams {
    DialParams {
        entry_name: "Lab ISP".to_owned(),
        user_name: "alice".to_owned(),
        password: "wonderland".to_owned(),
        ..DialParams::default()
    }
}

fn resolve(params: &DialParams, config: &EngineConfig) -> Result<DialPlan, RasError> {
    DialPlan::resolve(&entry(), params, None, config, HRasConn::from_raw(1))
}

/// Issue 16 #16: a real dial (no seed) draws its Magic-Numbers and MS-CHAPv2
/// Peer-Challenges from the system (RFC 1661 §6.4, RFC 2759 §4); a seed, as the simulated
/// lab and the scenarios give, still fixes them per connection.
#[test]
fn a_dial_without_a_seed_draws_from_the_system() {
    let plan = resolve(&params(), &EngineConfig::default()).expect("a plan");
    assert_eq!(plan.ppp.entropy, Entropy::Os);

    let seeded = EngineConfig {
        seed: Some(7),
        ..EngineConfig::default()
    };
    let one = resolve(&params(), &seeded).expect("a plan").ppp.entropy;
    assert_eq!(
        one,
        resolve(&params(), &seeded).expect("a plan").ppp.entropy
    );
    assert!(matches!(one, Entropy::Seed(_)));
    let other = DialPlan::resolve(&entry(), &params(), None, &seeded, HRasConn::from_raw(2))
        .expect("a plan")
        .ppp
        .entropy;
    assert_ne!(one, other, "each connection has its own stream");
}
