use super::*;
use crate::wire::bap::{PhoneDeltaPart, action, link_type, status};
use proptest::prelude::*;

fn at(millis: u64) -> Instant {
    Instant::ZERO + Duration::from_millis(millis)
}

fn analog() -> BapOption {
    BapOption::LinkType {
        speed_kbps: 33,
        types: link_type::ANALOG,
    }
}

fn packets(bap: &mut Bap) -> Vec<Vec<u8>> {
    std::iter::from_fn(|| bap.poll_packet()).collect()
}

fn events(bap: &mut Bap) -> Vec<BapEvent> {
    std::iter::from_fn(|| bap.poll_event()).collect()
}

/// Deliver everything `from` has to send to `to`.
fn deliver(now: Instant, from: &mut Bap, to: &mut Bap) {
    for packet in packets(from) {
        to.receive(now, &packet).unwrap();
    }
}

#[test]
fn a_call_request_is_granted_with_a_phone_delta() {
    let (mut caller, mut answerer) = (
        Bap::new(BapConfig::default()),
        Bap::new(BapConfig::default()),
    );
    let id = caller
        .send_request(at(0), BapType::CallRequest, vec![analog()])
        .unwrap();
    let sent = packets(&mut caller);
    // Type 1, id 0, Length 9, Link-Type (1, 5, 33 kbit/s, analog): checked by hand.
    assert_eq!(
        sent,
        [vec![0x01, 0x00, 0x00, 0x09, 0x01, 0x05, 0x00, 0x21, 0x04]]
    );
    answerer.receive(at(10), &sent[0]).unwrap();
    let [BapEvent::Request(request)] = &events(&mut answerer)[..] else {
        panic!("one request");
    };
    assert_eq!(request.identifier, id);
    let delta = BapOption::PhoneDelta(vec![
        PhoneDeltaPart::UniqueDigits(1),
        PhoneDeltaPart::SubscriberNumber(b"1".to_vec()),
    ]);
    answerer
        .respond(id, ResponseCode::Ack, vec![delta.clone()])
        .unwrap();
    assert_eq!(
        answerer.respond(id, ResponseCode::Ack, vec![]),
        Err(BapError::NoSuchRequest(id)),
        "answered once"
    );
    let answer = packets(&mut answerer);
    // Type 2, id 0, Length 13, Request-Ack, Phone-Delta (2, 8, (1, 3, 1), (2, 3, "1")).
    assert_eq!(
        answer,
        [vec![
            0x02, 0x00, 0x00, 0x0d, 0x00, 0x02, 0x08, 0x01, 0x03, 0x01, 0x02, 0x03, b'1'
        ]]
    );
    caller.receive(at(20), &answer[0]).unwrap();
    assert_eq!(
        events(&mut caller),
        [BapEvent::Response {
            request: BapType::CallRequest,
            response: BapRepr::response(BapType::CallResponse, id, ResponseCode::Ack, vec![delta]),
        }]
    );
    assert_eq!(caller.poll_timeout(), None, "nothing outstanding");
}

#[test]
fn an_unanswered_request_is_retransmitted_then_given_up() {
    let config = BapConfig::default();
    let mut bap = Bap::new(config);
    bap.send_request(
        at(0),
        BapType::LinkDropQueryRequest,
        vec![BapOption::LinkDiscriminator(7)],
    )
    .unwrap();
    let queued = bap
        .send_request(
            at(0),
            BapType::CallStatusIndication,
            vec![BapOption::CallStatus {
                status: status::SUCCESS,
                action: action::NO_RETRY,
            }],
        )
        .unwrap();
    let first = packets(&mut bap);
    assert_eq!(first.len(), 1, "one request outstanding at a time");
    let mut now;
    // Early: nothing.
    bap.handle_timeout(at(2_999));
    assert!(packets(&mut bap).is_empty());
    for sent in 2..=config.max_transmissions {
        now = bap.poll_timeout().expect("outstanding");
        assert_eq!(now, at(3_000 * u64::from(sent - 1)));
        bap.handle_timeout(now);
        assert_eq!(
            packets(&mut bap),
            first,
            "same octets, same identifier ({sent})"
        );
    }
    now = bap.poll_timeout().unwrap();
    bap.handle_timeout(now);
    assert_eq!(
        events(&mut bap),
        [BapEvent::NoResponse {
            request: BapType::LinkDropQueryRequest,
            identifier: 0
        }]
    );
    // The waiting one goes out now.
    let next = packets(&mut bap);
    assert_eq!(next.len(), 1);
    assert_eq!(BapRepr::parse_bytes(&next[0]).unwrap().identifier, queued);
}

#[test]
fn repeats_and_strays_do_not_reach_the_owner() {
    let (mut a, mut b) = (
        Bap::new(BapConfig::default()),
        Bap::new(BapConfig::default()),
    );
    a.send_request(at(0), BapType::CallRequest, vec![analog()])
        .unwrap();
    let request = packets(&mut a).remove(0);
    b.receive(at(1), &request).unwrap();
    // Repeated before the owner answered: dropped.
    b.receive(at(2), &request).unwrap();
    assert_eq!(events(&mut b).len(), 1);
    b.respond(0, ResponseCode::FullNak, vec![]).unwrap();
    let answer = packets(&mut b);
    // Repeated after: the same answer again, no event.
    b.receive(at(3), &request).unwrap();
    assert_eq!(packets(&mut b), answer);
    assert!(events(&mut b).is_empty());
    // A response for another identifier, or of another type, answers nothing.
    let mut stray = answer[0].clone();
    stray[1] = 9;
    a.receive(at(4), &stray).unwrap();
    let mut wrong_type = answer[0].clone();
    wrong_type[0] = BapType::CallbackResponse as u8;
    a.receive(at(4), &wrong_type).unwrap();
    assert!(events(&mut a).is_empty());
    a.receive(at(5), &answer[0]).unwrap();
    assert!(matches!(
        &events(&mut a)[..],
        [BapEvent::Response { response, .. }] if response.response == Some(ResponseCode::FullNak)
    ));
    // The same response again answers nothing any more.
    a.receive(at(6), &answer[0]).unwrap();
    assert!(events(&mut a).is_empty());
}

/// RFC 2125 §5.4: both peers ask for a link at once; the favored peer's request wins.
#[test]
fn the_favored_peer_wins_a_race() {
    let (mut favored, mut other) = (
        Bap::new(BapConfig::default()),
        Bap::new(BapConfig::default()),
    );
    favored.set_favored(true);
    favored
        .send_request(at(0), BapType::CallRequest, vec![analog()])
        .unwrap();
    other
        .send_request(
            at(0),
            BapType::CallbackRequest,
            vec![
                analog(),
                BapOption::PhoneDelta(vec![PhoneDeltaPart::UniqueDigits(0)]),
            ],
        )
        .unwrap();
    // The requests cross on the line.
    let (from_favored, from_other) = (packets(&mut favored), packets(&mut other));
    for packet in &from_other {
        favored.receive(at(5), packet).unwrap();
    }
    for packet in &from_favored {
        other.receive(at(5), packet).unwrap();
    }
    // The favored side Naks by itself and tells its owner nothing yet.
    assert!(events(&mut favored).is_empty());
    // The other side's owner sees the request and grants it.
    let [BapEvent::Request(request)] = &events(&mut other)[..] else {
        panic!("the favored peer's request reaches the owner");
    };
    other
        .respond(request.identifier, ResponseCode::Ack, vec![])
        .unwrap();
    deliver(at(10), &mut favored, &mut other);
    deliver(at(10), &mut other, &mut favored);
    assert!(matches!(
        &events(&mut favored)[..],
        [BapEvent::Response { request: BapType::CallRequest, response }]
            if response.response == Some(ResponseCode::Ack)
    ));
    assert!(matches!(
        &events(&mut other)[..],
        [BapEvent::Response { request: BapType::CallbackRequest, response }]
            if response.response == Some(ResponseCode::Nak)
    ));
    // Requests of different kinds do not race: a drop query while adding is passed on.
    favored
        .send_request(at(20), BapType::CallRequest, vec![analog()])
        .unwrap();
    other
        .send_request(
            at(20),
            BapType::LinkDropQueryRequest,
            vec![BapOption::LinkDiscriminator(1)],
        )
        .unwrap();
    deliver(at(21), &mut other, &mut favored);
    assert!(matches!(&events(&mut favored)[..], [BapEvent::Request(_)]));
}

#[test]
fn mandatory_options_are_checked_both_ways() {
    let mut bap = Bap::new(BapConfig::default());
    assert_eq!(
        bap.send_request(at(0), BapType::CallbackRequest, vec![analog()]),
        Err(BapError::MissingOption {
            request: BapType::CallbackRequest,
            option: kind::PHONE_DELTA
        })
    );
    assert_eq!(
        bap.send_request(at(0), BapType::CallResponse, vec![]),
        Err(BapError::NotARequest(BapType::CallResponse))
    );
    assert!(packets(&mut bap).is_empty());
    // A Link-Drop-Query-Request without its Link-Discriminator: Request-Rej, no event.
    bap.receive(at(0), &[0x05, 0x03, 0x00, 0x04]).unwrap();
    assert!(events(&mut bap).is_empty());
    assert_eq!(packets(&mut bap), [vec![0x06, 0x03, 0x00, 0x05, 0x02]]);
    // Malformed datagrams are errors and change nothing.
    assert!(bap.receive(at(0), &[0x05]).is_err());
    assert!(packets(&mut bap).is_empty());
}

#[derive(Debug, Clone)]
enum Step {
    Receive(Vec<u8>),
    Timeout(u16),
    Send(u8),
    Respond(u8, u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..24).prop_map(Step::Receive),
        // Datagrams that parse, so the machine gets past the decoder.
        (
            1u8..=8,
            any::<u8>(),
            prop::collection::vec(any::<u8>(), 0..8)
        )
            .prop_map(|(kind, id, rest)| {
                let mut bytes = vec![kind, id, 0, 0];
                if kind % 2 == 0 {
                    bytes.push(rest.first().copied().unwrap_or(0) % 4);
                }
                bytes.extend([
                    0x01, 0x05, 0x00, 0x21, 0x04, 0x05, 0x04, 0x00, 0x01, 0x06, 0x04,
                ]);
                bytes.extend(rest.iter().take(2));
                let len = bytes.len() as u16;
                bytes[2..4].copy_from_slice(&len.to_be_bytes());
                Step::Receive(bytes)
            }),
        any::<u16>().prop_map(Step::Timeout),
        (1u8..=8).prop_map(Step::Send),
        (any::<u8>(), 0u8..4).prop_map(|(id, code)| Step::Respond(id, code)),
    ]
}

proptest! {
    /// Any datagrams, timeouts, requests and answers in any order: never a panic, every
    /// packet sent parses, and at most one request is outstanding.
    #[test]
    fn the_machine_never_panics(steps in prop::collection::vec(step(), 0..60), favored in any::<bool>()) {
        let mut bap = Bap::new(BapConfig::default());
        bap.set_favored(favored);
        let mut now = Instant::ZERO;
        let all = [analog(), BapOption::LinkDiscriminator(1), BapOption::CallStatus { status: 0, action: 0 },
                   BapOption::PhoneDelta(vec![PhoneDeltaPart::UniqueDigits(2)])];
        for step in steps {
            match step {
                Step::Receive(bytes) => { let _ = bap.receive(now, &bytes); }
                Step::Timeout(ms) => {
                    now += Duration::from_millis(u64::from(ms));
                    bap.handle_timeout(now);
                }
                Step::Send(kind) => {
                    if let Some(kind) = BapType::from_u8(kind) {
                        let _ = bap.send_request(now, kind, all.to_vec());
                    }
                }
                Step::Respond(id, code) => {
                    if let Some(code) = ResponseCode::from_u8(code) {
                        let _ = bap.respond(id, code, vec![]);
                    }
                }
            }
            let mut requests = 0;
            while let Some(packet) = bap.poll_packet() {
                let repr = BapRepr::parse_bytes(&packet);
                prop_assert!(repr.is_ok(), "{:?}", packet);
                requests += usize::from(repr.is_ok_and(|r| !r.kind.is_response()));
            }
            prop_assert!(requests <= 1);
            while bap.poll_event().is_some() {}
        }
    }

    /// Whatever parses emits the same octets (up to the Length field) and parses again equal.
    #[test]
    fn datagrams_round_trip(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(repr) = BapRepr::parse_bytes(&bytes) {
            let written = repr.to_bytes();
            prop_assert_eq!(&written[..], &bytes[..written.len()]);
            prop_assert_eq!(BapRepr::parse_bytes(&written), Ok(repr));
        }
    }
}
