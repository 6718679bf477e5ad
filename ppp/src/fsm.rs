//! The RFC 1661 §4 option-negotiation automaton, shared by LCP and every NCP.
//!
//! The transition table is data ([`TRANSITIONS`]), transcribed from RFC 1661 §4.1 and checked
//! against the RFC's own text by a test. [`Fsm`] runs it for one protocol: it owns the
//! restart timer and counters (§4.6), matches identifiers, builds Configure-Ack/Nak/Reject
//! from a [`Negotiator`]'s verdicts, and reports This-Layer-Up/Down/Started/Finished as
//! [`LayerEvent`]s. It never reads a clock: every entry point takes `now`.

use std::collections::VecDeque;
use std::fmt;

use sansio::{Duration, Instant};
use tracing::{debug, trace};

use crate::wire::control::{Code, CodeSet, ControlPacket};
use crate::wire::options::ConfigOption;
use crate::wire::{ControlRepr, Protocol, WireError};

/// RFC 1661 §4.2: the ten states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// 0: lower layer down, no Open.
    Initial,
    /// 1: Open issued, waiting for the lower layer.
    Starting,
    /// 2: lower layer up, no Open.
    Closed,
    /// 3: Open, but negotiation ended (terminated or failed).
    Stopped,
    /// 4: Terminate-Request sent after Close.
    Closing,
    /// 5: Terminate-Request sent (or received) while open.
    Stopping,
    /// 6: Configure-Request sent.
    ReqSent,
    /// 7: Configure-Request sent and acknowledged.
    AckRcvd,
    /// 8: Configure-Request sent, the peer's acknowledged.
    AckSent,
    /// 9: both directions configured.
    Opened,
}

impl State {
    /// Every state, in the RFC's numbering.
    pub const ALL: [State; 10] = [
        State::Initial,
        State::Starting,
        State::Closed,
        State::Stopped,
        State::Closing,
        State::Stopping,
        State::ReqSent,
        State::AckRcvd,
        State::AckSent,
        State::Opened,
    ];

    /// RFC 1661 §4.6: the restart timer runs only while a Configure- or Terminate-Request
    /// awaits its answer.
    pub fn runs_restart_timer(self) -> bool {
        matches!(
            self,
            State::Closing | State::Stopping | State::ReqSent | State::AckRcvd | State::AckSent
        )
    }

    fn is_negotiating(self) -> bool {
        matches!(self, State::ReqSent | State::AckRcvd | State::AckSent)
    }
}

/// RFC 1661 §4.3: the events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// Lower layer is Up.
    Up,
    /// Lower layer is Down.
    Down,
    /// Administrative Open.
    Open,
    /// Administrative Close.
    Close,
    /// TO+: restart timer expired, counter still above zero.
    TimeoutRetry,
    /// TO-: restart timer expired, counter exhausted.
    TimeoutExpired,
    /// RCR+: Configure-Request received, acceptable.
    RcrGood,
    /// RCR-: Configure-Request received, not acceptable.
    RcrBad,
    /// RCA: Configure-Ack received.
    Rca,
    /// RCN: Configure-Nak or Configure-Reject received.
    Rcn,
    /// RTR: Terminate-Request received.
    Rtr,
    /// RTA: Terminate-Ack received.
    Rta,
    /// RUC: unknown code received.
    Ruc,
    /// RXJ+: permitted Code-Reject or Protocol-Reject received.
    RxjPermitted,
    /// RXJ-: catastrophic Code-Reject or Protocol-Reject received.
    RxjCatastrophic,
    /// RXR: Echo-Request, Echo-Reply or Discard-Request received.
    Rxr,
}

impl Event {
    /// Every event, in the RFC table's row order.
    pub const ALL: [Event; 16] = [
        Event::Up,
        Event::Down,
        Event::Open,
        Event::Close,
        Event::TimeoutRetry,
        Event::TimeoutExpired,
        Event::RcrGood,
        Event::RcrBad,
        Event::Rca,
        Event::Rcn,
        Event::Rtr,
        Event::Rta,
        Event::Ruc,
        Event::RxjPermitted,
        Event::RxjCatastrophic,
        Event::Rxr,
    ];
}

/// RFC 1661 §4.4: the actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// This-Layer-Up.
    Tlu,
    /// This-Layer-Down.
    Tld,
    /// This-Layer-Started.
    Tls,
    /// This-Layer-Finished.
    Tlf,
    /// Initialize-Restart-Count.
    Irc,
    /// Zero-Restart-Count.
    Zrc,
    /// Send-Configure-Request.
    Scr,
    /// Send-Configure-Ack.
    Sca,
    /// Send-Configure-Nak (or Reject).
    Scn,
    /// Send-Terminate-Request.
    Str,
    /// Send-Terminate-Ack.
    Sta,
    /// Send-Code-Reject.
    Scj,
    /// Send-Echo-Reply.
    Ser,
}

/// One cell of the table: the actions, in order, then the next state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// Actions to perform, in the RFC's order.
    pub actions: &'static [Action],
    /// The state afterwards.
    pub next: State,
}

const fn go(actions: &'static [Action], next: State) -> Option<Transition> {
    Some(Transition { actions, next })
}

/// "-" in the RFC: the event cannot occur in this state (a driver bug); it is ignored.
const IMPOSSIBLE: Option<Transition> = None;

use Action::{Irc, Sca, Scj, Scn, Scr, Ser, Sta, Str, Tld, Tlf, Tls, Tlu, Zrc};
use State::{
    AckRcvd, AckSent, Closed, Closing, Initial, Opened, ReqSent, Starting, Stopped, Stopping,
};

/// RFC 1661 §4.1, state × event, rows in [`State::ALL`] order, columns in [`Event::ALL`]
/// order (Up, Down, Open, Close, TO+, TO-, RCR+, RCR-, RCA, RCN, RTR, RTA, RUC, RXJ+, RXJ-,
/// RXR). The optional behaviours the RFC marks are not taken: no restart on Open (`[r]`),
/// Stopped is entered actively on TO- (`[p]`), and a crossed connection (`[x]`) simply sends a
/// new Configure-Request as the table says.
pub const TRANSITIONS: [[Option<Transition>; 16]; 10] = [
    // 0 Initial
    [
        go(&[], Closed),
        IMPOSSIBLE,
        go(&[Tls], Starting),
        go(&[], Initial),
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
    ],
    // 1 Starting
    [
        go(&[Irc, Scr], ReqSent),
        IMPOSSIBLE,
        go(&[], Starting),
        go(&[Tlf], Initial),
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
        IMPOSSIBLE,
    ],
    // 2 Closed
    [
        IMPOSSIBLE,
        go(&[], Initial),
        go(&[Irc, Scr], ReqSent),
        go(&[], Closed),
        IMPOSSIBLE,
        IMPOSSIBLE,
        go(&[Sta], Closed),
        go(&[Sta], Closed),
        go(&[Sta], Closed),
        go(&[Sta], Closed),
        go(&[Sta], Closed),
        go(&[], Closed),
        go(&[Scj], Closed),
        go(&[], Closed),
        go(&[Tlf], Closed),
        go(&[], Closed),
    ],
    // 3 Stopped
    [
        IMPOSSIBLE,
        go(&[Tls], Starting),
        go(&[], Stopped),
        go(&[], Closed),
        IMPOSSIBLE,
        IMPOSSIBLE,
        go(&[Irc, Scr, Sca], AckSent),
        go(&[Irc, Scr, Scn], ReqSent),
        go(&[Sta], Stopped),
        go(&[Sta], Stopped),
        go(&[Sta], Stopped),
        go(&[], Stopped),
        go(&[Scj], Stopped),
        go(&[], Stopped),
        go(&[Tlf], Stopped),
        go(&[], Stopped),
    ],
    // 4 Closing
    [
        IMPOSSIBLE,
        go(&[], Initial),
        go(&[], Stopping),
        go(&[], Closing),
        go(&[Str], Closing),
        go(&[Tlf], Closed),
        go(&[], Closing),
        go(&[], Closing),
        go(&[], Closing),
        go(&[], Closing),
        go(&[Sta], Closing),
        go(&[Tlf], Closed),
        go(&[Scj], Closing),
        go(&[], Closing),
        go(&[Tlf], Closed),
        go(&[], Closing),
    ],
    // 5 Stopping
    [
        IMPOSSIBLE,
        go(&[], Starting),
        go(&[], Stopping),
        go(&[], Closing),
        go(&[Str], Stopping),
        go(&[Tlf], Stopped),
        go(&[], Stopping),
        go(&[], Stopping),
        go(&[], Stopping),
        go(&[], Stopping),
        go(&[Sta], Stopping),
        go(&[Tlf], Stopped),
        go(&[Scj], Stopping),
        go(&[], Stopping),
        go(&[Tlf], Stopped),
        go(&[], Stopping),
    ],
    // 6 Req-Sent
    [
        IMPOSSIBLE,
        go(&[], Starting),
        go(&[], ReqSent),
        go(&[Irc, Str], Closing),
        go(&[Scr], ReqSent),
        go(&[Tlf], Stopped),
        go(&[Sca], AckSent),
        go(&[Scn], ReqSent),
        go(&[Irc], AckRcvd),
        go(&[Irc, Scr], ReqSent),
        go(&[Sta], ReqSent),
        go(&[], ReqSent),
        go(&[Scj], ReqSent),
        go(&[], ReqSent),
        go(&[Tlf], Stopped),
        go(&[], ReqSent),
    ],
    // 7 Ack-Rcvd
    [
        IMPOSSIBLE,
        go(&[], Starting),
        go(&[], AckRcvd),
        go(&[Irc, Str], Closing),
        go(&[Scr], ReqSent),
        go(&[Tlf], Stopped),
        go(&[Sca, Tlu], Opened),
        go(&[Scn], AckRcvd),
        go(&[Scr], ReqSent),
        go(&[Scr], ReqSent),
        go(&[Sta], ReqSent),
        go(&[], ReqSent),
        go(&[Scj], AckRcvd),
        go(&[], ReqSent),
        go(&[Tlf], Stopped),
        go(&[], AckRcvd),
    ],
    // 8 Ack-Sent
    [
        IMPOSSIBLE,
        go(&[], Starting),
        go(&[], AckSent),
        go(&[Irc, Str], Closing),
        go(&[Scr], AckSent),
        go(&[Tlf], Stopped),
        go(&[Sca], AckSent),
        go(&[Scn], ReqSent),
        go(&[Irc, Tlu], Opened),
        go(&[Irc, Scr], AckSent),
        go(&[Sta], ReqSent),
        go(&[], AckSent),
        go(&[Scj], AckSent),
        go(&[], AckSent),
        go(&[Tlf], Stopped),
        go(&[], AckSent),
    ],
    // 9 Opened
    [
        IMPOSSIBLE,
        go(&[Tld], Starting),
        go(&[], Opened),
        go(&[Tld, Irc, Str], Closing),
        IMPOSSIBLE,
        IMPOSSIBLE,
        go(&[Tld, Scr, Sca], AckSent),
        go(&[Tld, Scr, Scn], ReqSent),
        go(&[Tld, Scr], ReqSent),
        go(&[Tld, Scr], ReqSent),
        go(&[Tld, Zrc, Sta], Stopping),
        go(&[Tld, Scr], ReqSent),
        go(&[Scj], Opened),
        go(&[], Opened),
        go(&[Tld, Irc, Str], Stopping),
        go(&[Ser], Opened),
    ],
];

/// The cell for `state` × `event`; `None` where the RFC writes "-".
pub fn transition(state: State, event: Event) -> Option<Transition> {
    let row = State::ALL.iter().position(|s| *s == state)?;
    let column = Event::ALL.iter().position(|e| *e == event)?;
    TRANSITIONS[row][column]
}

/// RFC 1661 §4.6 timer and counter settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FsmConfig {
    /// Restart timer period (default 3 s).
    pub restart_interval: Duration,
    /// Configure-Requests sent without an answer before giving up (default 10).
    pub max_configure: u32,
    /// Terminate-Requests sent without an answer before giving up (default 2).
    pub max_terminate: u32,
    /// Configure-Naks sent without an Ack before Naks turn into Rejects (default 5).
    pub max_failure: u32,
}

impl Default for FsmConfig {
    fn default() -> Self {
        FsmConfig {
            restart_interval: Duration::from_secs(3),
            max_configure: 10,
            max_terminate: 2,
            max_failure: 5,
        }
    }
}

/// A protocol's judgement on one option the peer requested (RFC 1661 §5.1–§5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict<O> {
    /// Acceptable as it is.
    Ack,
    /// Recognisable, but this value is not acceptable; suggest this one instead.
    Nak(O),
    /// Not recognisable or not negotiable.
    Reject,
}

/// What a protocol (LCP, IPCP, ...) contributes to the generic automaton: its options and
/// how to judge and apply them.
pub trait Negotiator {
    /// The protocol's Configuration Option type.
    type Opt: ConfigOption + fmt::Display;
    /// The Protocol field its packets travel under.
    const PROTOCOL: Protocol;
    /// The codes it defines (LCP's eleven, or an NCP's seven).
    const CODES: CodeSet;

    /// Forget everything negotiated: a fresh negotiation begins.
    fn reset(&mut self);
    /// The options to put in our next Configure-Request.
    fn own_options(&mut self) -> Vec<Self::Opt>;
    /// Judge one option of the peer's Configure-Request.
    fn judge(&mut self, option: &Self::Opt) -> Verdict<Self::Opt>;
    /// We acknowledged the peer's request: these values are now in force toward the peer.
    fn peer_acked(&mut self, options: &[Self::Opt]);
    /// The peer acknowledged our request.
    fn own_acked(&mut self, options: &[Self::Opt]);
    /// The peer suggested a different value (or an option we did not request).
    fn own_nakked(&mut self, option: &Self::Opt);
    /// The peer rejected one of our options: stop requesting it.
    fn own_rejected(&mut self, option: &Self::Opt);
    /// Our Magic-Number for Echo-Reply (RFC 1661 §5.8); zero when none was negotiated.
    fn magic_number(&self) -> u32 {
        0
    }
    /// The Magic-Number carried by a received Echo or Discard packet.
    fn magic_received(&mut self, _magic_number: u32) {}
}

/// What the automaton tells its owner (RFC 1661 §4.4 layer actions, plus rejected
/// protocols).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerEvent {
    /// This-Layer-Up: the automaton reached Opened.
    Up,
    /// This-Layer-Down: it left Opened; `cause` is the event that made it.
    Down {
        /// The event that made the layer go down.
        cause: Event,
    },
    /// This-Layer-Started: it needs the lower layer.
    Started,
    /// This-Layer-Finished: it no longer needs the lower layer; `cause` is the event.
    Finished {
        /// The event that finished the layer.
        cause: Event,
    },
    /// The peer sent Protocol-Reject for another protocol (RFC 1661 §5.7, RXJ+): stop
    /// sending it.
    ProtocolRejected(Protocol),
}

/// What the packet that triggered an event contributes to the actions.
enum Trigger<O> {
    /// An administrative or timer event, or a packet whose answer needs nothing from it.
    Nothing,
    /// A packet whose Identifier a Terminate-Ack echoes.
    Identifier(u8),
    /// A Configure-Request and the answer already prepared for it.
    ConfigureRequest {
        identifier: u8,
        answer: ControlRepr<O>,
        is_nak: bool,
    },
    /// An unknown code: the packet to Code-Reject.
    UnknownCode { identifier: u8, packet: Vec<u8> },
    /// An Echo-Request to answer.
    EchoRequest { identifier: u8, data: Vec<u8> },
}

impl<O> Trigger<O> {
    fn identifier(&self) -> u8 {
        match self {
            Trigger::Nothing => 0,
            Trigger::Identifier(identifier)
            | Trigger::ConfigureRequest { identifier, .. }
            | Trigger::UnknownCode { identifier, .. }
            | Trigger::EchoRequest { identifier, .. } => *identifier,
        }
    }
}

/// Our last Configure-Request and whether it has had its answer.
#[derive(Debug)]
struct OwnRequest<O> {
    identifier: u8,
    options: Vec<O>,
    /// RFC 1661 §5.1: once a valid reply arrived the Identifier is spent; duplicates of
    /// that reply (answers to a retransmission) are stale and discarded.
    answered: bool,
}

/// The RFC 1661 automaton for one protocol.
#[derive(Debug)]
pub struct Fsm<N: Negotiator> {
    negotiator: N,
    config: FsmConfig,
    state: State,
    restart_counter: u32,
    /// Configure-Naks sent since the last Configure-Ack (RFC 1661 §4.6 Max-Failure).
    failure_counter: u32,
    deadline: Option<Instant>,
    next_identifier: u8,
    /// Our last Configure-Request.
    request: Option<OwnRequest<N::Opt>>,
    outgoing: VecDeque<Vec<u8>>,
    events: VecDeque<LayerEvent>,
}

impl<N: Negotiator> Fsm<N> {
    /// An automaton in the Initial state.
    pub fn new(negotiator: N, config: FsmConfig) -> Self {
        Fsm {
            negotiator,
            config,
            state: State::Initial,
            restart_counter: 0,
            failure_counter: 0,
            deadline: None,
            next_identifier: 1,
            request: None,
            outgoing: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The protocol's negotiator (what was agreed).
    pub fn negotiator(&self) -> &N {
        &self.negotiator
    }

    /// The protocol's negotiator, mutably.
    pub fn negotiator_mut(&mut self) -> &mut N {
        &mut self.negotiator
    }

    /// The lower layer is up.
    pub fn up(&mut self, now: Instant) {
        self.run(now, Event::Up, Trigger::Nothing);
    }

    /// The lower layer is down.
    pub fn down(&mut self, now: Instant) {
        self.run(now, Event::Down, Trigger::Nothing);
    }

    /// Administrative Open.
    pub fn open(&mut self, now: Instant) {
        self.run(now, Event::Open, Trigger::Nothing);
    }

    /// Administrative Close.
    pub fn close(&mut self, now: Instant) {
        self.run(now, Event::Close, Trigger::Nothing);
    }

    /// The restart timer's deadline, while it runs.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// Fire the restart timer if it is due (TO+ or TO-, RFC 1661 §4.3).
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.deadline {
            Some(deadline) if deadline <= now => {
                self.deadline = None;
                let event = if self.restart_counter > 0 {
                    Event::TimeoutRetry
                } else {
                    Event::TimeoutExpired
                };
                self.run(now, event, Trigger::Nothing);
            }
            _ => {}
        }
    }

    /// The next control packet to send (the Information field of a frame of
    /// [`Negotiator::PROTOCOL`]).
    pub fn poll_packet(&mut self) -> Option<Vec<u8>> {
        self.outgoing.pop_front()
    }

    /// The next layer event.
    pub fn poll_event(&mut self) -> Option<LayerEvent> {
        self.events.pop_front()
    }

    /// Send a Protocol-Reject for a frame of an unsupported protocol (RFC 1661 §5.7: only
    /// in the Opened state, and only for LCP).
    pub fn reject_protocol(&mut self, protocol: Protocol, information: &[u8]) {
        if N::CODES != CodeSet::Lcp || self.state != State::Opened {
            trace!(%protocol, state = ?self.state, "{}: not sending Protocol-Reject", N::PROTOCOL);
            return;
        }
        let identifier = self.fresh_identifier();
        self.send(ControlRepr::ProtocolReject {
            identifier,
            protocol,
            rejected: information.to_vec(),
        });
    }

    /// A packet of this protocol arrived (the frame's Information field).
    pub fn receive(&mut self, now: Instant, information: &[u8]) {
        let packet = match ControlPacket::new_checked(information) {
            Ok(packet) => packet,
            Err(error) => {
                debug!(%error, "{}: malformed packet discarded", N::PROTOCOL);
                return;
            }
        };
        let repr = match ControlRepr::<N::Opt>::parse(&packet, N::CODES) {
            Ok(repr) => repr,
            Err(WireError::UnknownCode { code }) => {
                debug!(code, "{}: unknown code", N::PROTOCOL);
                let trigger = Trigger::UnknownCode {
                    identifier: packet.identifier(),
                    packet: packet.packet().to_vec(),
                };
                self.run(now, Event::Ruc, trigger);
                return;
            }
            Err(error) => {
                debug!(%error, "{}: malformed packet discarded", N::PROTOCOL);
                return;
            }
        };
        debug!("{} rcvd {repr}", N::PROTOCOL);
        match repr {
            ControlRepr::ConfigureRequest {
                identifier,
                options,
            } => self.receive_configure_request(now, identifier, options),
            ControlRepr::ConfigureAck {
                identifier,
                options,
            } => {
                if !self.answers_request(identifier) {
                    return;
                }
                if self
                    .request
                    .as_ref()
                    .is_some_and(|request| request.options != options)
                {
                    // RFC 1661 §5.2: the options must match the request exactly.
                    debug!(
                        "{}: Configure-Ack does not match our request, discarded",
                        N::PROTOCOL
                    );
                    return;
                }
                if matches!(self.state, State::ReqSent | State::AckSent) {
                    self.negotiator.own_acked(&options);
                }
                self.mark_answered();
                self.run(now, Event::Rca, Trigger::Nothing);
            }
            ControlRepr::ConfigureNak {
                identifier,
                options,
            } => {
                if !self.answers_request(identifier) {
                    return;
                }
                if self.state.is_negotiating() || self.state == State::Opened {
                    for option in &options {
                        self.negotiator.own_nakked(option);
                    }
                }
                self.mark_answered();
                self.run(now, Event::Rcn, Trigger::Nothing);
            }
            ControlRepr::ConfigureReject {
                identifier,
                options,
            } => {
                if !self.answers_request(identifier) {
                    return;
                }
                if self.state.is_negotiating() || self.state == State::Opened {
                    for option in &options {
                        self.negotiator.own_rejected(option);
                    }
                }
                self.mark_answered();
                self.run(now, Event::Rcn, Trigger::Nothing);
            }
            ControlRepr::TerminateRequest { identifier, .. } => {
                self.run(now, Event::Rtr, Trigger::Identifier(identifier))
            }
            ControlRepr::TerminateAck { .. } => self.run(now, Event::Rta, Trigger::Nothing),
            ControlRepr::CodeReject { rejected, .. } => {
                // RFC 1661 §5.6: rejecting a code the automaton needs (1–7) is catastrophic.
                let catastrophic = rejected
                    .first()
                    .is_none_or(|code| *code <= Code::CodeReject as u8);
                let event = if catastrophic {
                    Event::RxjCatastrophic
                } else {
                    Event::RxjPermitted
                };
                self.run(now, event, Trigger::Nothing);
            }
            ControlRepr::ProtocolReject { protocol, .. } => {
                // RFC 1661 §5.7: a rejected LCP is catastrophic; any other protocol is just
                // no longer to be sent.
                if protocol == N::PROTOCOL {
                    self.run(now, Event::RxjCatastrophic, Trigger::Nothing);
                } else {
                    self.events
                        .push_back(LayerEvent::ProtocolRejected(protocol));
                    self.run(now, Event::RxjPermitted, Trigger::Nothing);
                }
            }
            ControlRepr::EchoRequest {
                identifier,
                magic_number,
                data,
            } => {
                self.negotiator.magic_received(magic_number);
                self.run(now, Event::Rxr, Trigger::EchoRequest { identifier, data });
            }
            ControlRepr::EchoReply { magic_number, .. }
            | ControlRepr::DiscardRequest { magic_number, .. } => {
                self.negotiator.magic_received(magic_number);
                self.run(now, Event::Rxr, Trigger::Nothing);
            }
        }
    }

    /// RFC 1661 §5.2–§5.4: an answer whose Identifier is not that of our last
    /// Configure-Request is silently discarded.
    fn answers_request(&self, identifier: u8) -> bool {
        let matches = self
            .request
            .as_ref()
            .is_some_and(|request| request.identifier == identifier && !request.answered);
        if !matches {
            debug!(
                identifier,
                "{}: not an answer to our pending request, discarded",
                N::PROTOCOL
            );
        }
        matches
    }

    fn mark_answered(&mut self) {
        if let Some(request) = &mut self.request {
            request.answered = true;
        }
    }

    fn receive_configure_request(&mut self, now: Instant, identifier: u8, options: Vec<N::Opt>) {
        let mut naks = Vec::new();
        let mut rejects = Vec::new();
        for option in &options {
            match self.negotiator.judge(option) {
                Verdict::Ack => {}
                Verdict::Nak(suggestion) => naks.push((option.clone(), suggestion)),
                Verdict::Reject => rejects.push(option.clone()),
            }
        }
        // RFC 1661 §4.6: after Max-Failure Naks without an Ack, Nak turns into Reject.
        if !naks.is_empty() && self.failure_counter >= self.config.max_failure {
            debug!(
                "{}: Max-Failure reached, rejecting instead of Nak",
                N::PROTOCOL
            );
            rejects.extend(naks.drain(..).map(|(option, _)| option));
        }
        let (event, answer, is_nak) = if !rejects.is_empty() {
            // RFC 1661 §5.4: Reject takes precedence and lists only the rejected options.
            (
                Event::RcrBad,
                ControlRepr::ConfigureReject {
                    identifier,
                    options: rejects,
                },
                false,
            )
        } else if !naks.is_empty() {
            let options = naks.into_iter().map(|(_, suggestion)| suggestion).collect();
            (
                Event::RcrBad,
                ControlRepr::ConfigureNak {
                    identifier,
                    options,
                },
                true,
            )
        } else {
            (
                Event::RcrGood,
                ControlRepr::ConfigureAck {
                    identifier,
                    options,
                },
                false,
            )
        };
        self.run(
            now,
            event,
            Trigger::ConfigureRequest {
                identifier,
                answer,
                is_nak,
            },
        );
    }

    fn fresh_identifier(&mut self) -> u8 {
        let identifier = self.next_identifier;
        self.next_identifier = self.next_identifier.wrapping_add(1);
        identifier
    }

    fn send(&mut self, repr: ControlRepr<N::Opt>) {
        debug!("{} sent {repr}", N::PROTOCOL);
        self.outgoing.push_back(repr.to_bytes());
    }

    fn start_timer(&mut self, now: Instant) {
        self.deadline = Some(now + self.config.restart_interval);
    }

    fn run(&mut self, now: Instant, event: Event, trigger: Trigger<N::Opt>) {
        let Some(transition) = transition(self.state, event) else {
            debug!(state = ?self.state, ?event, "{}: event cannot occur in this state, ignored", N::PROTOCOL);
            return;
        };
        trace!(state = ?self.state, ?event, next = ?transition.next, actions = ?transition.actions, "{}", N::PROTOCOL);
        let from = self.state;
        let mut trigger = trigger;
        for action in transition.actions {
            self.perform(now, *action, event, from, transition.actions, &mut trigger);
        }
        self.state = transition.next;
        if !self.state.runs_restart_timer() {
            self.deadline = None;
        }
    }

    fn perform(
        &mut self,
        now: Instant,
        action: Action,
        event: Event,
        from: State,
        actions: &[Action],
        trigger: &mut Trigger<N::Opt>,
    ) {
        match action {
            Action::Tlu => self.events.push_back(LayerEvent::Up),
            Action::Tld => self.events.push_back(LayerEvent::Down { cause: event }),
            Action::Tls => self.events.push_back(LayerEvent::Started),
            Action::Tlf => self.events.push_back(LayerEvent::Finished { cause: event }),
            Action::Irc => {
                // RFC 1661 §4.4: Max-Terminate when a Terminate-Request follows, otherwise
                // Max-Configure.
                self.restart_counter = if actions.contains(&Action::Str) {
                    self.config.max_terminate
                } else {
                    self.config.max_configure
                };
            }
            Action::Zrc => {
                // RFC 1661 §4.4: zero the counter but still wait one restart period.
                self.restart_counter = 0;
                self.start_timer(now);
            }
            Action::Scr => {
                let options = match (&self.request, event) {
                    // A retransmission keeps its Identifier and options (RFC 1661 §5.1),
                    // unless the request was answered: then the Identifier must change.
                    (Some(request), Event::TimeoutRetry) if !request.answered => {
                        Some((request.identifier, request.options.clone()))
                    }
                    _ => None,
                };
                let (identifier, options) = match options {
                    Some(retransmission) => retransmission,
                    None => {
                        if !from.is_negotiating() {
                            // Not negotiating yet: start from the defaults.
                            self.negotiator.reset();
                            self.failure_counter = 0;
                        }
                        (self.fresh_identifier(), self.negotiator.own_options())
                    }
                };
                self.request = Some(OwnRequest {
                    identifier,
                    options: options.clone(),
                    answered: false,
                });
                self.send(ControlRepr::ConfigureRequest {
                    identifier,
                    options,
                });
                self.restart_counter = self.restart_counter.saturating_sub(1);
                self.start_timer(now);
            }
            Action::Sca | Action::Scn => {
                if let Trigger::ConfigureRequest { answer, is_nak, .. } =
                    std::mem::replace(trigger, Trigger::Nothing)
                {
                    if let ControlRepr::ConfigureAck { options, .. } = &answer {
                        self.negotiator.peer_acked(options);
                        self.failure_counter = 0;
                    } else if is_nak {
                        self.failure_counter += 1;
                    }
                    self.send(answer);
                }
            }
            Action::Str => {
                let identifier = self.fresh_identifier();
                self.send(ControlRepr::TerminateRequest {
                    identifier,
                    data: Vec::new(),
                });
                self.restart_counter = self.restart_counter.saturating_sub(1);
                self.start_timer(now);
            }
            Action::Sta => {
                let identifier = trigger.identifier();
                self.send(ControlRepr::TerminateAck {
                    identifier,
                    data: Vec::new(),
                });
            }
            Action::Scj => {
                if let Trigger::UnknownCode { packet, .. } =
                    std::mem::replace(trigger, Trigger::Nothing)
                {
                    let identifier = self.fresh_identifier();
                    self.send(ControlRepr::CodeReject {
                        identifier,
                        rejected: packet,
                    });
                }
            }
            Action::Ser => {
                // Only an Echo-Request is answered; Echo-Reply and Discard-Request are RXR
                // too but need nothing.
                if let Trigger::EchoRequest { identifier, data } =
                    std::mem::replace(trigger, Trigger::Nothing)
                {
                    let magic_number = self.negotiator.magic_number();
                    self.send(ControlRepr::EchoReply {
                        identifier,
                        magic_number,
                        data,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 1661 §4.1, verbatim (both halves of the table).
    const RFC_1661_TABLE: &str = "
      | State
      |    0         1         2         3         4         5
Events| Initial   Starting  Closed    Stopped   Closing   Stopping
------+-----------------------------------------------------------
 Up   |    2     irc,scr/6     -         -         -         -
 Down |    -         -         0       tls/1       0         1
 Open |  tls/1       1     irc,scr/6     3r        5r        5r
 Close|    0       tlf/0       2         2         4         4
      |
  TO+ |    -         -         -         -       str/4     str/5
  TO- |    -         -         -         -       tlf/2     tlf/3
      |
 RCR+ |    -         -       sta/2 irc,scr,sca/8   4         5
 RCR- |    -         -       sta/2 irc,scr,scn/6   4         5
 RCA  |    -         -       sta/2     sta/3       4         5
 RCN  |    -         -       sta/2     sta/3       4         5
      |
 RTR  |    -         -       sta/2     sta/3     sta/4     sta/5
 RTA  |    -         -         2         3       tlf/2     tlf/3
      |
 RUC  |    -         -       scj/2     scj/3     scj/4     scj/5
 RXJ+ |    -         -         2         3         4         5
 RXJ- |    -         -       tlf/2     tlf/3     tlf/2     tlf/3
      |
 RXR  |    -         -         2         3         4         5

      | State
      |    6         7         8           9
Events| Req-Sent  Ack-Rcvd  Ack-Sent    Opened
------+-----------------------------------------
 Up   |    -         -         -           -
 Down |    1         1         1         tld/1
 Open |    6         7         8           9r
 Close|irc,str/4 irc,str/4 irc,str/4 tld,irc,str/4
      |
  TO+ |  scr/6     scr/6     scr/8         -
  TO- |  tlf/3p    tlf/3p    tlf/3p        -
      |
 RCR+ |  sca/8   sca,tlu/9   sca/8   tld,scr,sca/8
 RCR- |  scn/6     scn/7     scn/6   tld,scr,scn/6
 RCA  |  irc/7     scr/6x  irc,tlu/9   tld,scr/6x
 RCN  |irc,scr/6   scr/6x  irc,scr/8   tld,scr/6x
      |
 RTR  |  sta/6     sta/6     sta/6   tld,zrc,sta/5
 RTA  |    6         6         8       tld,scr/6
      |
 RUC  |  scj/6     scj/7     scj/8       scj/9
 RXJ+ |    6         6         8           9
 RXJ- |  tlf/3     tlf/3     tlf/3   tld,irc,str/5
      |
 RXR  |    6         7         8         ser/9
";

    fn event_named(name: &str) -> Event {
        match name {
            "Up" => Event::Up,
            "Down" => Event::Down,
            "Open" => Event::Open,
            "Close" => Event::Close,
            "TO+" => Event::TimeoutRetry,
            "TO-" => Event::TimeoutExpired,
            "RCR+" => Event::RcrGood,
            "RCR-" => Event::RcrBad,
            "RCA" => Event::Rca,
            "RCN" => Event::Rcn,
            "RTR" => Event::Rtr,
            "RTA" => Event::Rta,
            "RUC" => Event::Ruc,
            "RXJ+" => Event::RxjPermitted,
            "RXJ-" => Event::RxjCatastrophic,
            "RXR" => Event::Rxr,
            other => panic!("unknown event {other}"),
        }
    }

    fn action_named(name: &str) -> Action {
        match name {
            "tlu" => Action::Tlu,
            "tld" => Action::Tld,
            "tls" => Action::Tls,
            "tlf" => Action::Tlf,
            "irc" => Action::Irc,
            "zrc" => Action::Zrc,
            "scr" => Action::Scr,
            "sca" => Action::Sca,
            "scn" => Action::Scn,
            "str" => Action::Str,
            "sta" => Action::Sta,
            "scj" => Action::Scj,
            "ser" => Action::Ser,
            other => panic!("unknown action {other}"),
        }
    }

    /// Parse a cell such as `irc,scr/6`, `3r`, `tlf/3p` or `-`.
    fn parse_cell(cell: &str) -> Cell {
        if cell == "-" {
            return None;
        }
        let (actions, next) = match cell.split_once('/') {
            Some((actions, next)) => (actions.split(',').map(action_named).collect(), next),
            None => (Vec::new(), cell),
        };
        // Drop the [p], [r], [x] option markers.
        let digits: String = next.chars().filter(char::is_ascii_digit).collect();
        Some((actions, State::ALL[digits.parse::<usize>().unwrap()]))
    }

    /// A parsed cell: the actions and the next state, `None` for "-".
    type Cell = Option<(Vec<Action>, State)>;

    /// Every state × event cell of the RFC text, as (state, event, cell).
    fn rfc_cells() -> Vec<(State, Event, Cell)> {
        let mut cells = Vec::new();
        let mut columns: Vec<State> = Vec::new();
        for line in RFC_1661_TABLE.lines() {
            let Some((label, rest)) = line.split_once('|') else {
                continue;
            };
            let label = label.trim();
            let fields: Vec<&str> = rest.split_whitespace().collect();
            if label.is_empty() {
                if fields
                    .first()
                    .is_some_and(|f| f.chars().all(|c| c.is_ascii_digit()))
                {
                    columns = fields
                        .iter()
                        .map(|n| State::ALL[n.parse::<usize>().unwrap()])
                        .collect();
                }
                continue;
            }
            if label == "Events" {
                continue;
            }
            let event = event_named(label);
            // "irc,str/4 irc,str/4" cells are separated by whitespace, one per column.
            assert_eq!(fields.len(), columns.len(), "row {label}: {fields:?}");
            for (state, field) in columns.iter().zip(fields) {
                cells.push((*state, event, parse_cell(field)));
            }
        }
        cells
    }

    #[test]
    fn transition_table_matches_rfc_1661_section_4_1() {
        let cells = rfc_cells();
        assert_eq!(cells.len(), 10 * 16, "the RFC table has 160 cells");
        for (state, event, expected) in cells {
            let ours = transition(state, event).map(|t| (t.actions.to_vec(), t.next));
            assert_eq!(ours, expected, "{state:?} × {event:?}");
        }
    }

    /// A negotiator with one option kind: it wants its peer to accept everything.
    #[derive(Debug, Default)]
    struct Plain {
        resets: u32,
    }

    impl Negotiator for Plain {
        type Opt = crate::wire::ipcp::IpcpOption;
        const PROTOCOL: Protocol = Protocol::IPCP;
        const CODES: CodeSet = CodeSet::Ncp;
        fn reset(&mut self) {
            self.resets += 1;
        }
        fn own_options(&mut self) -> Vec<Self::Opt> {
            Vec::new()
        }
        fn judge(&mut self, option: &Self::Opt) -> Verdict<Self::Opt> {
            match option {
                Self::Opt::IpAddress(a) if a.is_unspecified() => {
                    Verdict::Nak(Self::Opt::IpAddress([10, 0, 0, 2].into()))
                }
                Self::Opt::IpAddress(_) => Verdict::Ack,
                _ => Verdict::Reject,
            }
        }
        fn peer_acked(&mut self, _: &[Self::Opt]) {}
        fn own_acked(&mut self, _: &[Self::Opt]) {}
        fn own_nakked(&mut self, _: &Self::Opt) {}
        fn own_rejected(&mut self, _: &Self::Opt) {}
    }

    fn at(secs: u64) -> Instant {
        Instant::ZERO + Duration::from_secs(secs)
    }

    fn sent(fsm: &mut Fsm<Plain>) -> Vec<ControlRepr<crate::wire::ipcp::IpcpOption>> {
        std::iter::from_fn(|| fsm.poll_packet())
            .map(|bytes| ControlRepr::parse_bytes(&bytes, CodeSet::Ncp).unwrap())
            .collect()
    }

    #[test]
    fn max_configure_requests_then_finished() {
        let mut fsm = Fsm::new(Plain::default(), FsmConfig::default());
        fsm.up(at(0));
        fsm.open(at(0));
        let mut requests = sent(&mut fsm).len();
        while let Some(deadline) = fsm.poll_timeout() {
            fsm.handle_timeout(deadline);
            requests += sent(&mut fsm).len();
        }
        assert_eq!(requests, 10);
        assert_eq!(fsm.state(), State::Stopped);
        let events: Vec<_> = std::iter::from_fn(|| fsm.poll_event()).collect();
        // Up then Open goes through Closed, so there is no This-Layer-Started.
        assert_eq!(
            events,
            [LayerEvent::Finished {
                cause: Event::TimeoutExpired
            }]
        );
    }

    #[test]
    fn retransmissions_keep_their_identifier_and_stale_answers_are_discarded() {
        let mut fsm = Fsm::new(Plain::default(), FsmConfig::default());
        fsm.up(at(0));
        fsm.open(at(0));
        let first = sent(&mut fsm).remove(0).identifier();
        fsm.handle_timeout(at(3));
        assert_eq!(sent(&mut fsm).remove(0).identifier(), first);
        // An Ack with another identifier is ignored.
        let stale = ControlRepr::<crate::wire::ipcp::IpcpOption>::ConfigureAck {
            identifier: first.wrapping_add(7),
            options: vec![],
        };
        fsm.receive(at(4), &stale.to_bytes());
        assert_eq!(fsm.state(), State::ReqSent);
        let ack = ControlRepr::<crate::wire::ipcp::IpcpOption>::ConfigureAck {
            identifier: first,
            options: vec![],
        };
        fsm.receive(at(4), &ack.to_bytes());
        assert_eq!(fsm.state(), State::AckRcvd);
    }

    #[test]
    fn a_duplicate_ack_of_a_retransmitted_request_is_stale() {
        use crate::wire::ipcp::IpcpOption;
        let mut fsm = Fsm::new(Plain::default(), FsmConfig::default());
        fsm.up(at(0));
        fsm.open(at(0));
        let id = sent(&mut fsm).remove(0).identifier();
        fsm.handle_timeout(at(3));
        sent(&mut fsm);
        let ack = ControlRepr::<IpcpOption>::ConfigureAck {
            identifier: id,
            options: vec![],
        };
        let request = ControlRepr::<IpcpOption>::ConfigureRequest {
            identifier: 1,
            options: vec![],
        };
        fsm.receive(at(4), &ack.to_bytes());
        fsm.receive(at(4), &request.to_bytes());
        assert_eq!(fsm.state(), State::Opened);
        // The peer's Ack of our retransmission arrives late: it must not restart the
        // negotiation (RFC 1661 §5.1: the Identifier was spent by the first Ack).
        fsm.receive(at(4), &ack.to_bytes());
        assert_eq!(fsm.state(), State::Opened);
    }

    #[test]
    fn naks_turn_into_rejects_after_max_failure() {
        use crate::wire::ipcp::IpcpOption;
        let mut fsm = Fsm::new(Plain::default(), FsmConfig::default());
        fsm.up(at(0));
        fsm.open(at(0));
        sent(&mut fsm);
        let request = ControlRepr::ConfigureRequest {
            identifier: 1,
            options: vec![IpcpOption::IpAddress([0, 0, 0, 0].into())],
        };
        let mut codes = Vec::new();
        for _ in 0..6 {
            fsm.receive(at(1), &request.to_bytes());
            codes.extend(sent(&mut fsm).iter().map(ControlRepr::code));
        }
        assert_eq!(
            codes,
            [[Code::ConfigureNak; 5].as_slice(), &[Code::ConfigureReject]].concat()
        );
    }

    #[test]
    fn unknown_code_is_code_rejected_and_echo_is_not_an_ncp_code() {
        let mut fsm = Fsm::new(Plain::default(), FsmConfig::default());
        fsm.up(at(0));
        fsm.open(at(0));
        sent(&mut fsm);
        fsm.receive(at(1), &[9, 4, 0, 8, 0, 0, 0, 0]);
        let reply = sent(&mut fsm);
        assert_eq!(
            reply,
            [ControlRepr::CodeReject {
                identifier: 2,
                rejected: vec![9, 4, 0, 8, 0, 0, 0, 0]
            }]
        );
    }

    #[test]
    fn peer_terminate_in_opened_waits_one_restart_period() {
        use crate::wire::ipcp::IpcpOption;
        let mut fsm = Fsm::new(Plain::default(), FsmConfig::default());
        fsm.up(at(0));
        fsm.open(at(0));
        let id = sent(&mut fsm).remove(0).identifier();
        fsm.receive(
            at(0),
            &ControlRepr::<IpcpOption>::ConfigureAck {
                identifier: id,
                options: vec![],
            }
            .to_bytes(),
        );
        fsm.receive(
            at(0),
            &ControlRepr::<IpcpOption>::ConfigureRequest {
                identifier: 9,
                options: vec![],
            }
            .to_bytes(),
        );
        assert_eq!(fsm.state(), State::Opened);
        sent(&mut fsm);
        fsm.receive(
            at(1),
            &ControlRepr::<IpcpOption>::TerminateRequest {
                identifier: 5,
                data: vec![],
            }
            .to_bytes(),
        );
        assert_eq!(
            sent(&mut fsm),
            [ControlRepr::TerminateAck {
                identifier: 5,
                data: vec![]
            }]
        );
        assert_eq!(
            (fsm.state(), fsm.poll_timeout()),
            (State::Stopping, Some(at(4)))
        );
        fsm.handle_timeout(at(4));
        assert_eq!(fsm.state(), State::Stopped);
        let events: Vec<_> = std::iter::from_fn(|| fsm.poll_event()).collect();
        assert_eq!(
            events,
            [
                LayerEvent::Up,
                LayerEvent::Down { cause: Event::Rtr },
                LayerEvent::Finished {
                    cause: Event::TimeoutExpired
                }
            ]
        );
    }
}
