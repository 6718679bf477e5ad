//! The Password Authentication Protocol (RFC 1334 §2), both sides.
//!
//! The peer being authenticated sends Authenticate-Request and repeats it on the restart
//! timer until it gets an answer (§2.2.1); the authenticator answers every request, a
//! repeated one with the same answer.

use std::collections::VecDeque;

use sansio::{Duration, Instant};
use tracing::debug;

use crate::auth::{AuthFailure, AuthOutcome};
use crate::wire::control::ControlPacket;
use crate::wire::pap::PapRepr;

/// The side that proves its identity (the dialer).
#[derive(Debug)]
pub struct PapClient {
    peer_id: Vec<u8>,
    password: Vec<u8>,
    restart_interval: Duration,
    requests_left: u32,
    identifier: u8,
    deadline: Option<Instant>,
    outgoing: VecDeque<Vec<u8>>,
    outcome: Option<AuthOutcome>,
}

impl PapClient {
    /// A client that sends at most `max_requests` Authenticate-Requests, `restart_interval`
    /// apart.
    pub fn new(
        peer_id: &str,
        password: &str,
        restart_interval: Duration,
        max_requests: u32,
    ) -> Self {
        PapClient {
            peer_id: peer_id.as_bytes().to_vec(),
            password: password.as_bytes().to_vec(),
            restart_interval,
            requests_left: max_requests.max(1),
            identifier: 0,
            deadline: None,
            outgoing: VecDeque::new(),
            outcome: None,
        }
    }

    /// Send the first Authenticate-Request.
    pub fn start(&mut self, now: Instant) {
        self.identifier = self.identifier.wrapping_add(1);
        self.send_request(now);
    }

    fn send_request(&mut self, now: Instant) {
        let request = PapRepr::AuthenticateRequest {
            identifier: self.identifier,
            peer_id: self.peer_id.clone(),
            password: self.password.clone(),
        };
        debug!("PAP sent {request}");
        self.outgoing.push_back(request.to_bytes());
        self.requests_left = self.requests_left.saturating_sub(1);
        self.deadline = Some(now + self.restart_interval);
    }

    /// A PAP packet arrived.
    pub fn receive(&mut self, information: &[u8]) {
        if self.outcome.is_some() {
            return;
        }
        let repr = match ControlPacket::new_checked(information).and_then(|p| PapRepr::parse(&p)) {
            Ok(repr) => repr,
            Err(error) => {
                debug!(%error, "PAP: malformed packet discarded");
                return;
            }
        };
        debug!("PAP rcvd {repr}");
        let outcome = match repr {
            // RFC 1334 §2.2.2: an answer must carry the request's Identifier.
            PapRepr::AuthenticateAck {
                identifier,
                message,
            } if identifier == self.identifier => {
                AuthOutcome::Succeeded(String::from_utf8_lossy(&message).into_owned())
            }
            PapRepr::AuthenticateNak {
                identifier,
                message,
            } if identifier == self.identifier => AuthOutcome::Failed(AuthFailure::plain(
                String::from_utf8_lossy(&message).into_owned(),
            )),
            _ => {
                debug!("PAP: packet does not answer our request, discarded");
                return;
            }
        };
        self.deadline = None;
        self.outcome = Some(outcome);
    }

    /// Retransmit, or give up, if the restart timer is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.deadline {
            Some(deadline) if deadline <= now => {
                if self.requests_left > 0 {
                    self.send_request(now);
                } else {
                    self.deadline = None;
                    self.outcome = Some(AuthOutcome::TimedOut);
                }
            }
            _ => {}
        }
    }

    /// The restart timer's deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// The next PAP packet to send.
    pub fn poll_packet(&mut self) -> Option<Vec<u8>> {
        self.outgoing.pop_front()
    }

    /// How it ended, once it has (reported once).
    pub fn take_outcome(&mut self) -> Option<AuthOutcome> {
        self.outcome.take()
    }
}

/// An Authenticate-Request the authenticator must decide on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PapRequest {
    /// The Peer-ID.
    pub peer_id: Vec<u8>,
    /// The Password.
    pub password: Vec<u8>,
}

/// The authenticator's side (the server).
#[derive(Debug, Default)]
pub struct PapServer {
    /// The last request answered and the answer, repeated for retransmissions.
    answered: Option<(u8, Vec<u8>, bool)>,
    pending: Option<u8>,
    outgoing: VecDeque<Vec<u8>>,
}

impl PapServer {
    /// A PAP packet arrived. Returns a request the caller must [`PapServer::answer`]; a
    /// retransmission of an answered request is answered again here, the same way.
    pub fn receive(&mut self, information: &[u8]) -> Option<PapRequest> {
        let repr = match ControlPacket::new_checked(information).and_then(|p| PapRepr::parse(&p)) {
            Ok(repr) => repr,
            Err(error) => {
                debug!(%error, "PAP: malformed packet discarded");
                return None;
            }
        };
        debug!("PAP rcvd {repr}");
        match repr {
            PapRepr::AuthenticateRequest {
                identifier,
                peer_id,
                password,
            } => {
                if let Some((answered, message, ack)) = &self.answered
                    && *answered == identifier
                {
                    let (message, ack) = (message.clone(), *ack);
                    self.send_answer(identifier, ack, message);
                    return None;
                }
                self.pending = Some(identifier);
                Some(PapRequest { peer_id, password })
            }
            _ => {
                debug!("PAP: only Authenticate-Request is meaningful to the authenticator");
                None
            }
        }
    }

    /// Answer the pending request with Authenticate-Ack (`ack`) or -Nak and `message`.
    pub fn answer(&mut self, ack: bool, message: &str) {
        if let Some(identifier) = self.pending.take() {
            let message = message.as_bytes().to_vec();
            self.answered = Some((identifier, message.clone(), ack));
            self.send_answer(identifier, ack, message);
        }
    }

    fn send_answer(&mut self, identifier: u8, ack: bool, message: Vec<u8>) {
        let repr = if ack {
            PapRepr::AuthenticateAck {
                identifier,
                message,
            }
        } else {
            PapRepr::AuthenticateNak {
                identifier,
                message,
            }
        };
        debug!("PAP sent {repr}");
        self.outgoing.push_back(repr.to_bytes());
    }

    /// The next PAP packet to send.
    pub fn poll_packet(&mut self) -> Option<Vec<u8>> {
        self.outgoing.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_retransmits_then_times_out() {
        let mut client = PapClient::new("alice", "pw", Duration::from_secs(3), 3);
        client.start(Instant::ZERO);
        let mut sent = std::iter::from_fn(|| client.poll_packet()).count();
        while let Some(deadline) = client.poll_timeout() {
            client.handle_timeout(deadline);
            sent += std::iter::from_fn(|| client.poll_packet()).count();
        }
        assert_eq!(sent, 3);
        assert_eq!(client.take_outcome(), Some(AuthOutcome::TimedOut));
    }

    #[test]
    fn server_answers_and_repeats_its_answer() {
        let mut client = PapClient::new("alice", "pw", Duration::from_secs(3), 3);
        let mut server = PapServer::default();
        client.start(Instant::ZERO);
        let request = client.poll_packet().unwrap();
        let asked = server.receive(&request).unwrap();
        assert_eq!(
            asked,
            PapRequest {
                peer_id: b"alice".to_vec(),
                password: b"pw".to_vec()
            }
        );
        server.answer(false, "bad password");
        let first = server.poll_packet().unwrap();
        // The same request again gets the same answer without asking the caller.
        assert_eq!(server.receive(&request), None);
        assert_eq!(server.poll_packet().unwrap(), first);
        client.receive(&first);
        assert_eq!(
            client.take_outcome(),
            Some(AuthOutcome::Failed(AuthFailure::plain(
                "bad password".into()
            )))
        );
    }

    #[test]
    fn answer_with_wrong_identifier_is_ignored() {
        let mut client = PapClient::new("alice", "pw", Duration::from_secs(3), 3);
        client.start(Instant::ZERO);
        client.receive(
            &PapRepr::AuthenticateAck {
                identifier: 99,
                message: vec![],
            }
            .to_bytes(),
        );
        assert_eq!(client.take_outcome(), None);
    }
}
