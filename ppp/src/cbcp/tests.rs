use super::*;

fn at(secs: u64) -> Instant {
    Instant::ZERO + Duration::from_secs(secs)
}

fn parsed(packets: &[Vec<u8>]) -> Vec<CbcpRepr> {
    packets
        .iter()
        .map(|p| CbcpRepr::parse_bytes(p).unwrap())
        .collect()
}

/// Let the two talk at `now` until neither has anything to say.
fn converse(server: &mut CbcpServer, client: &mut CbcpClient, now: Instant) {
    loop {
        let mut quiet = true;
        while let Some(packet) = server.poll_packet() {
            quiet = false;
            client.receive(now, &packet);
        }
        while let Some(packet) = client.poll_packet() {
            quiet = false;
            server.receive(&packet);
        }
        if quiet {
            return;
        }
    }
}

fn negotiate(
    privilege: CallbackPrivilege,
    delay: u8,
    number: Option<&str>,
    own_delay: u8,
) -> (CbcpOutcome, CbcpOutcome) {
    let mut server = CbcpServer::new(CbcpServerConfig {
        privilege,
        delay,
        ..CbcpServerConfig::default()
    });
    let mut client = CbcpClient::new(CbcpClientConfig {
        callback_number: number.map(str::to_owned),
        delay: own_delay,
        ..CbcpClientConfig::default()
    });
    server.start(at(0));
    converse(&mut server, &mut client, at(0));
    assert_eq!((server.poll_timeout(), client.poll_timeout()), (None, None));
    (
        server.take_outcome().unwrap(),
        client.take_outcome().unwrap(),
    )
}

#[test]
fn no_callback_privilege() {
    let outcome = negotiate(CallbackPrivilege::NoCallback, 0, Some("5551234"), 0);
    assert_eq!(outcome, (CbcpOutcome::NoCallback, CbcpOutcome::NoCallback));
}

#[test]
fn caller_set_number_with_the_larger_delay() {
    let (server, client) = negotiate(CallbackPrivilege::CallerSet, 5, Some("5551234"), 12);
    let agreed = CbcpOutcome::Callback {
        number: Some("5551234".into()),
        delay: Duration::from_secs(12),
    };
    assert_eq!((server, client.clone()), (agreed.clone(), agreed));
    let (server, _) = negotiate(CallbackPrivilege::CallerSet, 20, Some("5551234"), 12);
    assert_eq!(
        server,
        CbcpOutcome::Callback {
            number: Some("5551234".into()),
            delay: Duration::from_secs(20)
        }
    );
}

#[test]
fn caller_set_but_the_caller_declines() {
    let outcome = negotiate(CallbackPrivilege::CallerSet, 5, None, 0);
    assert_eq!(outcome, (CbcpOutcome::NoCallback, CbcpOutcome::NoCallback));
}

#[test]
fn administrator_set_number_whatever_the_caller_prefers() {
    for number in [None, Some("999")] {
        let (server, client) = negotiate(
            CallbackPrivilege::AdminSet {
                number: "4930123".into(),
            },
            3,
            number,
            0,
        );
        assert_eq!(
            server,
            CbcpOutcome::Callback {
                number: Some("4930123".into()),
                delay: Duration::from_secs(3)
            }
        );
        assert_eq!(
            client,
            CbcpOutcome::Callback {
                number: None,
                delay: Duration::from_secs(3)
            }
        );
    }
}

#[test]
fn the_request_lists_the_offers_and_the_ack_repeats_the_choice() {
    let mut server = CbcpServer::new(CbcpServerConfig {
        privilege: CallbackPrivilege::CallerSet,
        ..CbcpServerConfig::default()
    });
    server.start(at(0));
    let request = parsed(&[server.poll_packet().unwrap()]).remove(0);
    assert_eq!(
        request,
        CbcpRepr {
            code: CbcpCode::CallbackRequest,
            identifier: 1,
            options: vec![
                CbcpOption::UserNumber {
                    delay: 0,
                    number: vec![]
                },
                CbcpOption::NoCallback
            ]
        }
    );
    let mut client = CbcpClient::new(CbcpClientConfig {
        callback_number: Some("77".into()),
        ..CbcpClientConfig::default()
    });
    client.receive(at(0), &request.to_bytes());
    let response = client.poll_packet().unwrap();
    server.receive(&response);
    let ack = parsed(&[server.poll_packet().unwrap()]).remove(0);
    let response = CbcpRepr::parse_bytes(&response).unwrap();
    assert_eq!(ack.code, CbcpCode::CallbackAck);
    assert_eq!((ack.identifier, &ack.options), (1, &response.options));
}

#[test]
fn the_server_repeats_its_request_with_a_new_identifier_then_gives_up() {
    let mut server = CbcpServer::new(CbcpServerConfig {
        max_requests: 3,
        ..CbcpServerConfig::default()
    });
    server.start(at(0));
    let mut identifiers = Vec::new();
    let mut now = at(0);
    while let Some(deadline) = server.poll_timeout() {
        while let Some(packet) = server.poll_packet() {
            identifiers.push(CbcpRepr::parse_bytes(&packet).unwrap().identifier);
        }
        assert_eq!(deadline, now + Duration::from_secs(3));
        now = deadline;
        server.handle_timeout(now);
    }
    assert_eq!(identifiers, [1, 2, 3]);
    assert_eq!(server.take_outcome(), Some(CbcpOutcome::TimedOut));
    assert_eq!(server.poll_packet(), None);
}

#[test]
fn a_lost_request_and_a_lost_ack_are_recovered() {
    let mut server = CbcpServer::new(CbcpServerConfig {
        privilege: CallbackPrivilege::CallerSet,
        ..CbcpServerConfig::default()
    });
    let mut client = CbcpClient::new(CbcpClientConfig {
        callback_number: Some("5550100".into()),
        ..CbcpClientConfig::default()
    });
    server.start(at(0));
    // The first Request is lost.
    assert!(server.poll_packet().is_some());
    server.handle_timeout(at(3));
    let second = server.poll_packet().unwrap();
    assert_eq!(CbcpRepr::parse_bytes(&second).unwrap().identifier, 2);
    client.receive(at(3), &second);
    server.receive(&client.poll_packet().unwrap());
    // The Ack is lost: the client repeats its Response, the server its Ack.
    assert!(server.poll_packet().is_some());
    assert!(server.take_outcome().is_some());
    assert_eq!(client.poll_timeout(), Some(at(6)));
    client.handle_timeout(at(6));
    let repeated = client.poll_packet().unwrap();
    assert_eq!(CbcpRepr::parse_bytes(&repeated).unwrap().identifier, 2);
    server.receive(&repeated);
    client.receive(at(6), &server.poll_packet().unwrap());
    assert_eq!(
        client.take_outcome(),
        Some(CbcpOutcome::Callback {
            number: Some("5550100".into()),
            delay: Duration::ZERO
        })
    );
    assert_eq!(client.poll_timeout(), None);
}

#[test]
fn the_client_gives_up_when_no_ack_comes() {
    let mut client = CbcpClient::new(CbcpClientConfig {
        max_responses: 2,
        ..CbcpClientConfig::default()
    });
    let request = CbcpRepr {
        code: CbcpCode::CallbackRequest,
        identifier: 4,
        options: vec![CbcpOption::NoCallback],
    };
    client.receive(at(0), &request.to_bytes());
    client.handle_timeout(at(3));
    client.handle_timeout(at(6));
    assert_eq!(
        std::iter::from_fn(|| client.poll_packet()).count(),
        2,
        "two Responses"
    );
    assert_eq!(client.take_outcome(), Some(CbcpOutcome::TimedOut));
}

#[test]
fn a_caller_without_a_number_cannot_take_a_user_number_only_offer() {
    let mut client = CbcpClient::new(CbcpClientConfig::default());
    let request = CbcpRepr {
        code: CbcpCode::CallbackRequest,
        identifier: 1,
        options: vec![CbcpOption::UserNumber {
            delay: 0,
            number: vec![],
        }],
    };
    client.receive(at(0), &request.to_bytes());
    assert_eq!(client.poll_packet(), None);
    assert_eq!(client.take_outcome(), Some(CbcpOutcome::NoAcceptableOffer));
}

#[test]
fn malformed_or_unoffered_answers_are_ignored() {
    let mut server = CbcpServer::new(CbcpServerConfig::default());
    server.start(at(0));
    server.poll_packet();
    let response = |identifier, options| {
        CbcpRepr {
            code: CbcpCode::CallbackResponse,
            identifier,
            options,
        }
        .to_bytes()
    };
    for bytes in [
        vec![],
        vec![0x02, 0x01, 0x00],
        vec![0x02, 0x01, 0x00, 0x09, 0x02, 0x05, 0x00, 0x07, 0x00],
        // Not offered (NoCallback privilege): a number.
        response(
            1,
            vec![CbcpOption::UserNumber {
                delay: 0,
                number: b"1".to_vec(),
            }],
        ),
        // Answers a Request never sent.
        response(9, vec![CbcpOption::NoCallback]),
        // Two choices.
        response(1, vec![CbcpOption::NoCallback, CbcpOption::NoCallback]),
        // The caller's own packet type, or an unknown code.
        CbcpRepr {
            code: CbcpCode::CallbackRequest,
            identifier: 1,
            options: vec![],
        }
        .to_bytes(),
        vec![0x07, 0x01, 0x00, 0x04],
    ] {
        server.receive(&bytes);
        assert_eq!(server.poll_packet(), None);
        assert_eq!(server.take_outcome(), None);
    }
    let mut client = CbcpClient::new(CbcpClientConfig::default());
    for bytes in [
        vec![0x01, 0x01, 0x00, 0x05, 0x04],
        vec![0x03, 0x01, 0x00, 0x06, 0x01, 0x02],
    ] {
        client.receive(at(0), &bytes);
        assert_eq!(client.poll_packet(), None);
        assert_eq!(client.take_outcome(), None);
    }
}
