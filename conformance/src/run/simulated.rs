//! The simulated driver (DESIGN §2): the scenario's application dials through the public
//! `Ras` API in a `ras_lab::Lab`, where the modems, the phone network and the server are
//! machines on a virtual clock that jumps to the next deadline. Nothing reads a clock or
//! touches a file descriptor, so the same scenario and seed always give the same trace,
//! byte for byte.

use std::path::PathBuf;
use std::sync::Arc;

use ras_engine::api::Ras;
use ras_lab::Lab;
use sansio::{DelayScale, Duration, Pace};

use super::app::{Spend, World, play_scenario};
use super::{Record, RunOptions, builtin_peer, engine_config, phonebook};
use crate::report::timeline::{Clock, Happening, Moment, merge};
use crate::scenario::Scenario;

struct Simulated {
    lab: Lab,
    ras: Ras,
    /// The application's own time is modeled: it shrinks with the lab's delays.
    delays: DelayScale,
}

impl World for Simulated {
    fn ras(&self) -> &Ras {
        &self.ras
    }

    fn wait(&self, ready: &mut dyn FnMut() -> bool) -> bool {
        self.lab.run_until(ready)
    }

    fn sleep(&self, time: Duration) {
        self.lab.run_for(self.delays.apply(time));
    }

    fn spender(&self) -> Spend {
        let lab = self.lab.clone();
        let delays = self.delays;
        Arc::new(move |time| lab.spend(delays.apply(time)))
    }

    fn clock(&self) -> Clock {
        let lab = self.lab.clone();
        Arc::new(move || lab.now())
    }
}

/// Modem N's device path in the lab (nothing exists on disk).
fn device(index: u8) -> PathBuf {
    match index {
        1 => PathBuf::from("/dev/simulated-modem"),
        n => PathBuf::from(format!("/dev/simulated-modem{n}")),
    }
}

pub(super) fn run(scenario: &Scenario, options: RunOptions) -> Result<Record, String> {
    play_in_lab(scenario, options, DelayScale::MODEL).map(|(record, _)| record)
}

/// The least real time a realtime run of `scenario` at `pace` can take: the scenario in
/// a lab whose modeled delays last what they do on that pace's clock, the lab's virtual
/// time at the pace's time scale. Concurrent delays and timers overlap as they would in
/// real time (a deadline running through a long exchange of packets), which a sum of the
/// scenario's delays would not capture.
pub(super) fn realtime_floor(
    scenario: &Scenario,
    pace: Pace,
) -> Result<std::time::Duration, String> {
    let (_, lab) = play_in_lab(scenario, RunOptions::default(), pace.delays_on_clock())?;
    Ok(pace.timers.to_real(lab.now().since_epoch()))
}

/// Play `scenario` in a lab with its modeled delays at `delays`.
fn play_in_lab(
    scenario: &Scenario,
    options: RunOptions,
    delays: DelayScale,
) -> Result<(Record, Lab), String> {
    let devices: Vec<PathBuf> = (1..=scenario.file.modems.max(1)).map(device).collect();
    let peer_scenario = scenario.clone();
    let bundles = ppp_peer_sim::Bundles::default();
    let mut builder = Lab::builder(engine_config(scenario))
        .peers(Box::new(move |_call| {
            builtin_peer(&peer_scenario, peer_scenario.file.seed, &bundles)
        }))
        .capture(options.capture)
        .delays(delays);
    for device in &devices {
        builder = builder.modem(device, scenario.file.network.clone());
    }
    let lab = builder.build();
    let world = Simulated {
        ras: lab.ras(),
        lab,
        delays,
    };
    let mut record = play_scenario(&world, scenario, &phonebook(scenario, &devices)?)?;
    let transcript = world.lab.timed_transcript(&devices[0]);
    record.transcript = transcript.iter().map(|(_, line)| line.clone()).collect();
    merge(
        &mut record.timeline,
        transcript.into_iter().map(|(at, line)| Moment {
            at,
            what: Happening::Modem(line),
        }),
    );
    record.capture = world.lab.take_capture(&devices[0]);
    Ok((record, world.lab))
}
