//! `sim_dial`: a whole PAP dial through the public `Ras` API on the virtual-time driver
//! (`ras_lab::Lab`): a synchronous RasDial to Connected, RasHangUp, and the wait for the
//! port's release, with the modem, the phone network and the server as machines. Inputs
//! (network, script, phonebook) are parsed once, outside the measurement, as a suite that
//! parses each file once does. Issue 9's target: ≥ 50,000 dials/s on one core.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use modem_sim::Network;
use ppp_peer_sim::Script;
use ras_engine::api::{DialParams, EngineConfig};
use ras_engine::phonebook::{Entry, Phonebook};
use ras_lab::Lab;
use sansio::DelayScale;

const NETWORK: &str = "numbers:\n  \"5551234\": {connect: 33600, peer: builtin}\n";
const SCRIPT: &str = "auth: pap\nusers: {alice: wonderland}\n";
const DEVICE: &str = "/dev/bench-modem";

fn sim_dial(c: &mut Criterion) {
    let network = Network::from_yaml(NETWORK).expect("network");
    let script = Script::from_yaml(SCRIPT).expect("script");
    let phonebook = Phonebook::from_entries([Entry::modem("ISP", DEVICE, "5551234")]);
    let params = DialParams {
        entry_name: "ISP".to_owned(),
        user_name: "alice".to_owned(),
        password: "wonderland".to_owned(),
        ..DialParams::default()
    };
    let mut group = c.benchmark_group("sim_dial");
    group.throughput(Throughput::Elements(1));
    // As modeled (6 s of dialling and a 20 ms line in virtual time), and with an instant
    // modem and network (issue 15's second knob): the same machines, fewer clock jumps.
    for (name, delays) in [
        ("pap_dial_connect_hang_up", DelayScale::MODEL),
        ("pap_dial_connect_hang_up_delays_0", DelayScale::INSTANT),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let lab = Lab::builder(EngineConfig::default())
                    .modem(DEVICE, network.clone())
                    .server(script.clone(), 7)
                    .delays(delays)
                    .build();
                let ras = lab.ras();
                let handle = ras
                    .dial(None, &phonebook, &params, None)
                    .expect("the dial connects");
                ras.hang_up(handle).expect("hang up");
                ras.wait_released(handle);
                black_box(handle)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sim_dial);
criterion_main!(benches);
