//! What `DialPlan::resolve` makes of an entry, the dial parameters and the engine's
//! settings, before any device is touched.

use ras_engine::api::{DialParams, EngineConfig, HRasConn, Ras};
use ras_engine::phonebook::{Entry, Phonebook};
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

/// Issue 16 #10: strings longer than their RASDIALPARAMS arrays (ras-reference §3.1–3.2)
/// are refused before the dial starts: the phone number with 723, the others with 87.
/// A 300-octet password used to be cut to PAP's 255 and end in 691.
#[test]
fn over_long_dial_parameters_are_refused_up_front() {
    let config = EngineConfig::default();
    let long = |n: usize| "x".repeat(n);
    let number = |n: usize| "5".repeat(n);
    assert!(resolve(&params(), &config).is_ok());
    let at_limits = DialParams {
        phone_number: number(128),
        callback_number: number(128),
        user_name: long(256),
        password: long(256),
        domain: long(15),
        ..params()
    };
    assert!(resolve(&at_limits, &config).is_ok());
    let cases = [
        (
            DialParams {
                phone_number: number(129),
                ..params()
            },
            RasError::ERROR_PHONE_NUMBER_TOO_LONG,
        ),
        (
            DialParams {
                password: long(300),
                ..params()
            },
            RasError::ERROR_INVALID_PARAMETER,
        ),
        (
            DialParams {
                user_name: long(257),
                ..params()
            },
            RasError::ERROR_INVALID_PARAMETER,
        ),
        (
            DialParams {
                domain: long(16),
                ..params()
            },
            RasError::ERROR_INVALID_PARAMETER,
        ),
        (
            DialParams {
                callback_number: number(129),
                ..params()
            },
            RasError::ERROR_INVALID_PARAMETER,
        ),
        (
            DialParams {
                entry_name: long(257),
                ..params()
            },
            RasError::ERROR_INVALID_PARAMETER,
        ),
    ];
    for (params, error) in cases {
        assert_eq!(resolve(&params, &config).err(), Some(error), "{params:?}");
    }
}

/// Issue 16 #10: an entry's own number longer than RAS_MaxPhoneNumber is 723 too, and
/// `Ras::dial` reports it before it opens the port (whose absence would be a port error).
#[test]
fn an_over_long_number_fails_before_the_port_is_opened() {
    let mut entry = Entry::modem("Long", "/nonexistent/ttyMODEM", "5".repeat(129));
    entry.phone_numbers.push("5551234".to_owned());
    let book = Phonebook::from_entries([entry]);
    let ras = Ras::new(EngineConfig::default());
    let params = DialParams {
        entry_name: "Long".to_owned(),
        ..DialParams::default()
    };
    let error = ras
        .dial(None, &book, &params, None)
        .expect_err("the number does not fit");
    assert_eq!(error.error, RasError::ERROR_PHONE_NUMBER_TOO_LONG);
    assert_eq!(error.handle, None);
}
