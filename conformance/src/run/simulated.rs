//! The simulated driver (DESIGN §2): the scenario's application dials through the public
//! `Ras` API in a `ras_lab::Lab`, where the modem, the phone network and the server are
//! machines on a virtual clock that jumps to the next deadline. Nothing reads a clock or
//! touches a file descriptor, so the same scenario and seed always give the same trace,
//! byte for byte.

use std::path::Path;

use ras_engine::api::Ras;
use ras_engine::phonebook::Phonebook;
use ras_lab::Lab;

use super::app::{World, play};
use super::{Record, RunOptions, builtin_peer, engine_config, entry};
use crate::scenario::Scenario;

/// The modem's device path in the lab (nothing exists on disk).
const DEVICE: &str = "/dev/simulated-modem";

struct Simulated {
    lab: Lab,
    ras: Ras,
}

impl World for Simulated {
    fn ras(&self) -> &Ras {
        &self.ras
    }

    fn wait(&self, ready: &mut dyn FnMut() -> bool) -> bool {
        self.lab.run_until(ready)
    }
}

pub(super) fn run(scenario: &Scenario, options: RunOptions) -> Result<Record, String> {
    let device = Path::new(DEVICE);
    let peer_scenario = scenario.clone();
    let lab = Lab::builder(engine_config(scenario))
        .modem(device, scenario.file.network.clone())
        .peers(Box::new(move |_call| {
            builtin_peer(&peer_scenario, peer_scenario.file.seed)
        }))
        .capture(options.capture)
        .build();
    let world = Simulated {
        ras: lab.ras(),
        lab,
    };
    let phonebook = Phonebook::from_entries([entry(scenario, device)]);
    let mut record = play(&world, scenario, &phonebook)?;
    record.transcript = world.lab.transcript(device);
    record.capture = world.lab.take_capture(device);
    Ok(record)
}
