//! BACP and BAP (RFC 2125) between the engine's `ras_ppp::Client` and the server, in
//! process on virtual time: the server offers BACP on the bundle's first link, a client
//! that runs BAP answers it, and the server grants a Call-Request with the number to dial
//! and a Link-Drop-Query-Request.

#![allow(clippy::unwrap_used)]

use ras_ppp::bap::BapEvent;
use ras_ppp::lcp::MultilinkConfig;
use ras_ppp::random::Entropy;
use ras_ppp::wire::bap::{
    BapOption, BapType, PhoneDeltaPart, ResponseCode, kind, link_type, phone_delta_number,
};
use ras_ppp::{Client, ClientConfig, ClientEvent};
use sansio::{Duration, Instant, Machine};

use ppp_peer_sim::{Bundles, Script, Server};

const SCRIPT: &str = "auth: pap\nusers: {alice: secret}\n\
                      multilink: {accept: true, bap: true, bap-number: \"5559876\"}\n";

/// Exchange bytes and fire timers for `span` of virtual time from `now`.
fn run(client: &mut Client, server: &mut Server, now: &mut Instant, span: Duration) {
    let end = *now + span;
    while *now < end {
        let mut moved = false;
        while let Some(bytes) = client.poll_transmit() {
            server.handle_input(*now, &bytes);
            moved = true;
        }
        while let Some(bytes) = server.poll_transmit() {
            client.handle_input(*now, &bytes);
            moved = true;
        }
        if !moved {
            *now += Duration::from_millis(10);
            client.handle_timeout(*now);
            server.handle_timeout(*now);
        }
    }
}

fn client(bap: bool) -> Client {
    let mut client = Client::new(ClientConfig {
        user: "alice".into(),
        password: "secret".into(),
        entropy: Entropy::Seed(99),
        keepalive: None,
        multilink: Some(MultilinkConfig {
            mrru: 1500,
            short_sequence: false,
            discriminator: None,
        }),
        bap,
        ..ClientConfig::default()
    });
    client.open(Instant::ZERO);
    client
}

fn network_up(client: &mut Client) -> bool {
    std::iter::from_fn(|| client.poll_event()).any(|e| matches!(e, ClientEvent::NetworkUp { .. }))
}

fn answer(client: &mut Client) -> (BapType, ras_ppp::wire::bap::BapRepr) {
    match client.poll_bap_event() {
        Some(BapEvent::Response { request, response }) => (request, response),
        other => panic!("no BAP response: {other:?}"),
    }
}

#[test]
fn the_server_grants_a_call_request_with_its_number_and_a_link_drop() {
    let script = Script::from_yaml(SCRIPT).unwrap();
    let mut server = Server::in_process(script, Entropy::Seed(7), &Bundles::default());
    let mut client = client(true);
    let mut now = Instant::ZERO;
    run(&mut client, &mut server, &mut now, Duration::from_secs(5));
    assert!(network_up(&mut client));
    assert!(client.bap_open(), "BACP opened");
    client
        .send_bap_request(
            now,
            BapType::CallRequest,
            vec![BapOption::LinkType {
                speed_kbps: 33,
                types: link_type::ANALOG,
            }],
        )
        .unwrap();
    run(&mut client, &mut server, &mut now, Duration::from_secs(1));
    let (request, response) = answer(&mut client);
    assert_eq!(request, BapType::CallRequest);
    assert_eq!(response.response, Some(ResponseCode::Ack));
    let Some(BapOption::PhoneDelta(parts)) = response.option(kind::PHONE_DELTA) else {
        panic!("no Phone-Delta in {response:?}");
    };
    assert_eq!(
        phone_delta_number("5551234", parts).as_deref(),
        Some("5559876")
    );
    assert!(parts.contains(&PhoneDeltaPart::UniqueDigits(7)));
    client
        .send_bap_request(
            now,
            BapType::LinkDropQueryRequest,
            vec![BapOption::LinkDiscriminator(2)],
        )
        .unwrap();
    run(&mut client, &mut server, &mut now, Duration::from_secs(1));
    let (request, response) = answer(&mut client);
    assert_eq!(request, BapType::LinkDropQueryRequest);
    assert_eq!(response.response, Some(ResponseCode::Ack));
}

#[test]
fn a_client_without_bap_rejects_bacp_and_keeps_the_link() {
    let script = Script::from_yaml(SCRIPT).unwrap();
    let mut server = Server::in_process(script, Entropy::Seed(7), &Bundles::default());
    let mut client = client(false);
    let mut now = Instant::ZERO;
    run(&mut client, &mut server, &mut now, Duration::from_secs(5));
    assert!(network_up(&mut client));
    assert!(!client.bap_open());
    assert_eq!(
        client.send_bap_request(now, BapType::CallRequest, Vec::new()),
        Err(ras_ppp::bap::BapError::NotOpen)
    );
    run(&mut client, &mut server, &mut now, Duration::from_secs(10));
    assert!(
        std::iter::from_fn(|| client.poll_event()).all(|e| !matches!(e, ClientEvent::LinkDown(_))),
        "the link stays up"
    );
}
