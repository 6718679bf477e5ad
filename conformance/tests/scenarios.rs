//! Every bundled scenario as its own test (libtest-mimic), so `cargo test` and
//! `cargo nextest run` list, filter and shard them by name: `scenario::basic/busy`.

use libtest_mimic::{Arguments, Failed, Trial};

use conformance::outcome::evaluate;
use conformance::run::Driver;
use conformance::scenario::{discover, load};

fn main() {
    let args = Arguments::from_args();
    let root = conformance::bundled_scenarios();
    let trials = match discover(&root) {
        Ok(files) => files
            .into_iter()
            .map(|file| {
                let name = conformance::scenario::scenario_name(&root, &file);
                let root = root.clone();
                Trial::test(format!("scenario::{name}"), move || {
                    let scenario = load(&root, &file).map_err(|e| Failed::from(e.to_string()))?;
                    // The example C dialers need a C compiler at build time: without one
                    // the scenarios naming them skip loudly (and fail under CI=true).
                    if conformance::run::c_dialers_missing(&scenario)
                        && testkit::required_program("cc", "gcc").is_none()
                    {
                        return Ok(());
                    }
                    let verdict = evaluate(&scenario, &Driver::BOTH);
                    if verdict.passed() {
                        Ok(())
                    } else {
                        Err(Failed::from(verdict.explain()))
                    }
                })
            })
            .collect(),
        Err(error) => vec![Trial::test("scenario::discover", move || {
            Err(Failed::from(error.to_string()))
        })],
    };
    libtest_mimic::run(&args, trials).exit();
}
