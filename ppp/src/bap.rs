//! The Bandwidth Allocation Protocol machine (RFC 2125 §5), sans-IO, for either peer: it
//! sends requests and retransmits them until answered, matches responses by Identifier,
//! hands the peer's requests to its owner to answer, and settles the race of §5.4.
//!
//! The owner decides policy (whether to grant a call, which number to give): a peer's
//! request comes out of [`Bap::poll_event`] as [`BapEvent::Request`] and is answered with
//! [`Bap::respond`]. What the machine settles itself:
//!
//! - **Retransmission.** A request goes out again, with the same Identifier, every
//!   [`BapConfig::restart_interval`] until its response arrives; after
//!   [`BapConfig::max_transmissions`] it is given up ([`BapEvent::NoResponse`]). The RFC
//!   leaves the numbers to the implementation; these are RFC 1661 §4.6's Restart timer and
//!   Max-Configure defaults [inferred]. One request is outstanding at a time; later ones
//!   wait their turn.
//! - **Duplicates.** A repeated request (our response was lost) gets the same response
//!   again without reaching the owner; a response that answers nothing outstanding is
//!   dropped.
//! - **Races (§5.4).** When both peers ask to add a link (Call- or Callback-Request) or
//!   both ask to drop one at once, the favored peer's request wins (BACP elects it,
//!   RFC 2125 §4.1): the favored side answers the peer's request with Request-Nak by
//!   itself; the other side passes it on as usual, and its own request will be Nakked.
//! - **Mandatory options** (RFC 2125's appendix): a request without them is answered with
//!   Request-Rej [inferred: the RFC does not say what a malformed request gets], and one
//!   we would send without them is refused with [`BapError::MissingOption`].

use std::collections::VecDeque;

use sansio::{Duration, Instant};
use tracing::{debug, trace};

use crate::wire::WireError;
use crate::wire::bap::{BapOption, BapRepr, BapType, ResponseCode, kind};

/// Retransmission settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BapConfig {
    /// How long to wait for a response before sending the request again (3 s).
    pub restart_interval: Duration,
    /// How many times a request is sent in all before it is given up (10).
    pub max_transmissions: u32,
}

impl Default for BapConfig {
    fn default() -> Self {
        BapConfig {
            restart_interval: Duration::from_secs(3),
            max_transmissions: 10,
        }
    }
}

/// What the machine tells its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BapEvent {
    /// The peer asks: answer with [`Bap::respond`] (its `identifier`).
    Request(BapRepr),
    /// The peer answered our request of type `request`.
    Response {
        /// The type of our request.
        request: BapType,
        /// The response.
        response: BapRepr,
    },
    /// Our request went unanswered [`BapConfig::max_transmissions`] times.
    NoResponse {
        /// Its type.
        request: BapType,
        /// Its Identifier.
        identifier: u8,
    },
}

/// A request or answer the machine cannot send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BapError {
    /// `send_request` was given a response type.
    #[error("{0:?} is a response, not a request")]
    NotARequest(BapType),
    /// A request without an option RFC 2125's appendix requires.
    #[error("a {request:?} must carry option {option}")]
    MissingOption {
        /// The request.
        request: BapType,
        /// The option Type it lacks.
        option: u8,
    },
    /// `respond` names no request of the peer that awaits an answer.
    #[error("no request of the peer with identifier {0} awaits an answer")]
    NoSuchRequest(u8),
}

/// The options each request must carry (RFC 2125's appendix).
const MANDATORY: &[(BapType, &[u8])] = &[
    (BapType::CallRequest, &[kind::LINK_TYPE]),
    (
        BapType::CallbackRequest,
        &[kind::LINK_TYPE, kind::PHONE_DELTA],
    ),
    (BapType::LinkDropQueryRequest, &[kind::LINK_DISCRIMINATOR]),
    (BapType::CallStatusIndication, &[kind::CALL_STATUS]),
];

/// The first mandatory option `repr` lacks.
fn missing_option(repr: &BapRepr) -> Option<u8> {
    MANDATORY
        .iter()
        .find(|(request, _)| *request == repr.kind)
        .and_then(|(_, options)| {
            options
                .iter()
                .copied()
                .find(|&option| repr.option(option).is_none())
        })
}

/// Which requests race each other (§5.4): two that add a link, or two that drop one.
fn race_class(request: BapType) -> Option<u8> {
    match request {
        BapType::CallRequest | BapType::CallbackRequest => Some(0),
        BapType::LinkDropQueryRequest => Some(1),
        _ => None,
    }
}

/// Our request awaiting its response.
#[derive(Debug, Clone)]
struct Outstanding {
    request: BapType,
    identifier: u8,
    bytes: Vec<u8>,
    sent: u32,
    deadline: Instant,
}

/// One BAP endpoint.
#[derive(Debug, Clone)]
pub struct Bap {
    config: BapConfig,
    favored: bool,
    next_identifier: u8,
    outstanding: Option<Outstanding>,
    waiting: VecDeque<BapRepr>,
    /// The peer's requests handed to the owner and not answered yet.
    unanswered: Vec<BapRepr>,
    /// The last response we sent: the answer to a repeated request.
    last_response: Option<(BapType, u8, Vec<u8>)>,
    packets: VecDeque<Vec<u8>>,
    events: VecDeque<BapEvent>,
}

impl Bap {
    /// An endpoint; it is not favored until [`Bap::set_favored`] says so.
    pub fn new(config: BapConfig) -> Self {
        Bap {
            config,
            favored: false,
            next_identifier: 0,
            outstanding: None,
            waiting: VecDeque::new(),
            unanswered: Vec::new(),
            last_response: None,
            packets: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// BACP's election (`BacpNegotiator::favored`): whether our requests win races.
    pub fn set_favored(&mut self, favored: bool) {
        self.favored = favored;
    }

    /// Whether we are the favored peer.
    pub fn favored(&self) -> bool {
        self.favored
    }

    /// Send a request (or Call-Status-Indication) of `request` type with `options`; it goes
    /// out now, or after the one outstanding is answered. Returns its Identifier.
    pub fn send_request(
        &mut self,
        now: Instant,
        request: BapType,
        options: Vec<BapOption>,
    ) -> Result<u8, BapError> {
        if request.is_response() {
            return Err(BapError::NotARequest(request));
        }
        let identifier = self.next_identifier;
        let repr = BapRepr::request(request, identifier, options);
        if let Some(option) = missing_option(&repr) {
            return Err(BapError::MissingOption { request, option });
        }
        self.next_identifier = self.next_identifier.wrapping_add(1);
        self.waiting.push_back(repr);
        self.start_next(now);
        Ok(identifier)
    }

    fn start_next(&mut self, now: Instant) {
        if self.outstanding.is_some() {
            return;
        }
        let Some(repr) = self.waiting.pop_front() else {
            return;
        };
        trace!("BAP sent {repr}");
        let bytes = repr.to_bytes();
        self.packets.push_back(bytes.clone());
        self.outstanding = Some(Outstanding {
            request: repr.kind,
            identifier: repr.identifier,
            bytes,
            sent: 1,
            deadline: now + self.config.restart_interval,
        });
    }

    /// Answer the peer's request `identifier` (from [`BapEvent::Request`]).
    pub fn respond(
        &mut self,
        identifier: u8,
        code: ResponseCode,
        options: Vec<BapOption>,
    ) -> Result<(), BapError> {
        let index = self
            .unanswered
            .iter()
            .position(|request| request.identifier == identifier)
            .ok_or(BapError::NoSuchRequest(identifier))?;
        let request = self.unanswered.remove(index);
        self.send_response(&request, code, options);
        Ok(())
    }

    fn send_response(&mut self, request: &BapRepr, code: ResponseCode, options: Vec<BapOption>) {
        let response =
            BapRepr::response(request.kind.response(), request.identifier, code, options);
        trace!("BAP sent {response}");
        let bytes = response.to_bytes();
        self.last_response = Some((request.kind, request.identifier, bytes.clone()));
        self.packets.push_back(bytes);
    }

    /// The Information field of a BAP frame (Protocol 0xC02D) from the peer. A malformed
    /// one is dropped and its error returned for the log.
    pub fn receive(&mut self, now: Instant, information: &[u8]) -> Result<(), WireError> {
        let repr = BapRepr::parse_bytes(information)?;
        trace!("BAP rcvd {repr}");
        if repr.kind.is_response() {
            self.receive_response(now, repr);
        } else {
            self.receive_request(repr);
        }
        Ok(())
    }

    fn receive_response(&mut self, now: Instant, response: BapRepr) {
        let answers = self.outstanding.as_ref().is_some_and(|outstanding| {
            outstanding.identifier == response.identifier
                && outstanding.request.response() == response.kind
        });
        let Some(outstanding) = self.outstanding.take_if(|_| answers) else {
            debug!("BAP: {response} answers no outstanding request, dropped");
            return;
        };
        self.events.push_back(BapEvent::Response {
            request: outstanding.request,
            response,
        });
        self.start_next(now);
    }

    fn receive_request(&mut self, request: BapRepr) {
        if let Some((kind, identifier, bytes)) = &self.last_response
            && *kind == request.kind
            && *identifier == request.identifier
        {
            debug!("BAP: {request} repeated, answered again");
            self.packets.push_back(bytes.clone());
            return;
        }
        if self
            .unanswered
            .iter()
            .any(|pending| pending.kind == request.kind && pending.identifier == request.identifier)
        {
            debug!("BAP: {request} repeated while its answer is pending");
            return;
        }
        if missing_option(&request).is_some() {
            debug!("BAP: {request} lacks a mandatory option, rejected");
            self.send_response(&request, ResponseCode::Reject, Vec::new());
            return;
        }
        let races = self.outstanding.as_ref().is_some_and(|outstanding| {
            race_class(outstanding.request).is_some()
                && race_class(outstanding.request) == race_class(request.kind)
        });
        if races && self.favored {
            // RFC 2125 §5.4: the favored peer's request wins.
            debug!("BAP: {request} races ours and we are favored: Request-Nak");
            self.send_response(&request, ResponseCode::Nak, Vec::new());
            return;
        }
        self.unanswered.push(request.clone());
        self.events.push_back(BapEvent::Request(request));
    }

    /// When [`Bap::handle_timeout`] wants to run: the outstanding request's deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.outstanding
            .as_ref()
            .map(|outstanding| outstanding.deadline)
    }

    /// Retransmit the outstanding request, or give it up, if its time has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(outstanding) = self.outstanding.as_mut() else {
            return;
        };
        if now < outstanding.deadline {
            return;
        }
        if outstanding.sent < self.config.max_transmissions {
            outstanding.sent += 1;
            outstanding.deadline = now + self.config.restart_interval;
            debug!(
                identifier = outstanding.identifier,
                sent = outstanding.sent,
                "BAP: request retransmitted"
            );
            self.packets.push_back(outstanding.bytes.clone());
            return;
        }
        debug!(
            identifier = outstanding.identifier,
            "BAP: request given up without a response"
        );
        self.events.push_back(BapEvent::NoResponse {
            request: outstanding.request,
            identifier: outstanding.identifier,
        });
        self.outstanding = None;
        self.start_next(now);
    }

    /// The next Information field to send in a Protocol 0xC02D frame.
    pub fn poll_packet(&mut self) -> Option<Vec<u8>> {
        self.packets.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<BapEvent> {
        self.events.pop_front()
    }
}

#[cfg(test)]
mod tests;
