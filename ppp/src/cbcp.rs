//! The Microsoft Callback Control Protocol (MS-CBCP; draft-ietf-pppext-callback-cp), both
//! roles. When LCP agreed on Callback operation 6, CBCP runs after authentication:
//!
//! 1. the answerer ([`CbcpServer`]) sends a Callback-Request listing the callbacks the
//!    user's privilege allows, and repeats it, with a new Identifier each time (MS-CBCP
//!    §2.2.4.1), on its restart timer until it gets a Response;
//! 2. the caller ([`CbcpClient`]) answers with a Callback-Response naming one of them, and
//!    repeats it on its own timer until it gets the Ack;
//! 3. the answerer confirms with a Callback-Ack carrying the chosen option unchanged
//!    (§2.2.4.3), answering a repeated Response the same way.
//!
//! Both sides then know whether and where the answerer will call back, and after how long.
//! Like the other machines here, neither reads a clock: pass `now` in, drain
//! [`CbcpServer::poll_packet`] and call `handle_timeout` at `poll_timeout`.

use std::collections::VecDeque;

use sansio::{Duration, Instant};
use tracing::debug;

use crate::wire::cbcp::{CbcpCode, CbcpOption, CbcpRepr, kind};
use crate::wire::options::ConfigOption;

/// How the callback negotiation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CbcpOutcome {
    /// No callback: the link carries on as it is.
    NoCallback,
    /// The answerer will hang up and call back after `delay`.
    Callback {
        /// Where: the caller's number, or the administrator's; `None` for a caller told
        /// only that the answerer will use the number it has on file.
        number: Option<String>,
        /// How long the answerer waits before dialing.
        delay: Duration,
    },
    /// No answer came before the last retransmission.
    TimedOut,
    /// The caller could accept none of the offers (it has no number to give and the
    /// answerer offers nothing else).
    NoAcceptableOffer,
}

/// RFC 1661 §4.6 defaults, which CBCP's retransmission borrows.
const DEFAULT_RESTART: Duration = Duration::from_secs(3);
const DEFAULT_MAX_TRANSMISSIONS: u32 = 10;

fn seconds(delay: u8) -> Duration {
    Duration::from_secs(u64::from(delay))
}

fn text(number: &[u8]) -> String {
    String::from_utf8_lossy(number).into_owned()
}

/// One queue of packets to send and one restart timer, as both roles need.
#[derive(Debug)]
struct Transmitter {
    restart_interval: Duration,
    transmissions_left: u32,
    max_transmissions: u32,
    deadline: Option<Instant>,
    outgoing: VecDeque<Vec<u8>>,
}

impl Transmitter {
    fn new(restart_interval: Duration, max_transmissions: u32) -> Self {
        let max_transmissions = max_transmissions.max(1);
        Transmitter {
            restart_interval,
            transmissions_left: max_transmissions,
            max_transmissions,
            deadline: None,
            outgoing: VecDeque::new(),
        }
    }

    /// Send `repr` and (re)start the timer; `fresh` starts a new count of transmissions.
    fn send(&mut self, now: Instant, repr: &CbcpRepr, fresh: bool) {
        if fresh {
            self.transmissions_left = self.max_transmissions;
        }
        self.queue(repr);
        self.transmissions_left = self.transmissions_left.saturating_sub(1);
        self.deadline = Some(now + self.restart_interval);
    }

    /// Send `repr` once, expecting no answer, and stop the timer.
    fn send_final(&mut self, repr: &CbcpRepr) {
        self.queue(repr);
        self.deadline = None;
    }

    fn queue(&mut self, repr: &CbcpRepr) {
        debug!("CBCP sent {repr}");
        self.outgoing.push_back(repr.to_bytes());
    }

    /// Whether the timer is due; if it is, whether another transmission is allowed.
    fn expired(&mut self, now: Instant) -> Option<bool> {
        match self.deadline {
            Some(deadline) if deadline <= now => {
                if self.transmissions_left == 0 {
                    self.deadline = None;
                }
                Some(self.transmissions_left > 0)
            }
            _ => None,
        }
    }
}

fn parse(information: &[u8]) -> Option<CbcpRepr> {
    match CbcpRepr::parse_bytes(information) {
        Ok(repr) => {
            debug!("CBCP rcvd {repr}");
            Some(repr)
        }
        Err(error) => {
            debug!(%error, "CBCP: malformed packet discarded");
            None
        }
    }
}

/// What the answerer allows this user, after the privileges of MS-CBCP §2.3.1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackPrivilege {
    /// Never call back.
    NoCallback,
    /// Call back a number the caller gives, or not at all if the caller prefers.
    CallerSet,
    /// Always call back this number.
    AdminSet {
        /// The number on file.
        number: String,
    },
}

/// How the answerer runs CBCP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CbcpServerConfig {
    /// What to offer.
    pub privilege: CallbackPrivilege,
    /// Seconds the answerer waits before calling back, at least (the caller may ask for
    /// more).
    pub delay: u8,
    /// Time between Callback-Requests.
    pub restart_interval: Duration,
    /// Callback-Requests to send before giving up.
    pub max_requests: u32,
}

impl Default for CbcpServerConfig {
    fn default() -> Self {
        CbcpServerConfig {
            privilege: CallbackPrivilege::NoCallback,
            delay: 0,
            restart_interval: DEFAULT_RESTART,
            max_requests: DEFAULT_MAX_TRANSMISSIONS,
        }
    }
}

/// The answerer's side.
#[derive(Debug)]
pub struct CbcpServer {
    config: CbcpServerConfig,
    offers: Vec<CbcpOption>,
    /// The Identifier of the latest Request; every Request has a new one (MS-CBCP §2.2.4.1).
    identifier: u8,
    /// Identifiers of every Request sent, any of which a (late) Response may answer.
    sent: Vec<u8>,
    transmitter: Transmitter,
    /// The Ack sent, repeated for a repeated Response.
    acked: Option<CbcpRepr>,
    outcome: Option<CbcpOutcome>,
}

impl CbcpServer {
    /// An answerer that will offer what `config.privilege` allows.
    pub fn new(config: CbcpServerConfig) -> Self {
        let delay = config.delay;
        // MS-CBCP §2.2.4.1: a user-number offer carries an empty address.
        let offers = match &config.privilege {
            CallbackPrivilege::NoCallback => vec![CbcpOption::NoCallback],
            CallbackPrivilege::CallerSet => vec![
                CbcpOption::UserNumber {
                    delay,
                    number: Vec::new(),
                },
                CbcpOption::NoCallback,
            ],
            CallbackPrivilege::AdminSet { .. } => vec![CbcpOption::AdminNumber { delay }],
        };
        CbcpServer {
            transmitter: Transmitter::new(config.restart_interval, config.max_requests),
            config,
            offers,
            identifier: 0,
            sent: Vec::new(),
            acked: None,
            outcome: None,
        }
    }

    /// Send the first Callback-Request.
    pub fn start(&mut self, now: Instant) {
        self.send_request(now, true);
    }

    fn send_request(&mut self, now: Instant, fresh: bool) {
        self.identifier = self.identifier.wrapping_add(1);
        self.sent.push(self.identifier);
        let request = CbcpRepr {
            code: CbcpCode::CallbackRequest,
            identifier: self.identifier,
            options: self.offers.clone(),
        };
        self.transmitter.send(now, &request, fresh);
    }

    /// What the caller's choice means, if it is one we offered.
    fn accept(&self, choice: &CbcpOption) -> Option<CbcpOutcome> {
        if !self.offers.iter().any(|o| o.kind() == choice.kind()) {
            return None;
        }
        match (choice, &self.config.privilege) {
            (CbcpOption::NoCallback, _) => Some(CbcpOutcome::NoCallback),
            (CbcpOption::UserNumber { delay, number }, _) if !number.is_empty() => {
                Some(CbcpOutcome::Callback {
                    number: Some(text(number)),
                    delay: seconds(self.config.delay.max(*delay)),
                })
            }
            (CbcpOption::AdminNumber { delay }, CallbackPrivilege::AdminSet { number }) => {
                Some(CbcpOutcome::Callback {
                    number: Some(number.clone()),
                    delay: seconds(self.config.delay.max(*delay)),
                })
            }
            _ => None,
        }
    }

    /// A CBCP packet arrived.
    pub fn receive(&mut self, information: &[u8]) {
        let Some(repr) = parse(information) else {
            return;
        };
        if repr.code != CbcpCode::CallbackResponse {
            debug!("CBCP: only Callback-Response is meaningful to the answerer");
            return;
        }
        if let Some(ack) = &self.acked {
            if ack.identifier == repr.identifier {
                // Our Ack was lost and the caller repeats itself: repeat the Ack.
                let ack = ack.clone();
                self.transmitter.send_final(&ack);
            }
            return;
        }
        if !self.sent.contains(&repr.identifier) {
            debug!("CBCP: Response answers no Request of ours, discarded");
            return;
        }
        // MS-CBCP §2.2.4.2: the Response carries the one option the caller chose.
        let [choice] = &repr.options[..] else {
            debug!("CBCP: Response must name exactly one option, discarded");
            return;
        };
        let Some(outcome) = self.accept(choice) else {
            debug!(%choice, "CBCP: caller chose something not offered, discarded");
            return;
        };
        let ack = CbcpRepr {
            code: CbcpCode::CallbackAck,
            identifier: repr.identifier,
            options: repr.options,
        };
        self.transmitter.send_final(&ack);
        self.acked = Some(ack);
        self.outcome = Some(outcome);
    }

    /// Repeat the Request, or give up, if the restart timer is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.transmitter.expired(now) {
            Some(true) => self.send_request(now, false),
            Some(false) => self.outcome = Some(CbcpOutcome::TimedOut),
            None => {}
        }
    }

    /// The restart timer's deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.transmitter.deadline
    }

    /// The next CBCP packet to send.
    pub fn poll_packet(&mut self) -> Option<Vec<u8>> {
        self.transmitter.outgoing.pop_front()
    }

    /// How it ended, once it has (reported once).
    pub fn take_outcome(&mut self) -> Option<CbcpOutcome> {
        self.outcome.take()
    }
}

/// How the caller runs CBCP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CbcpClientConfig {
    /// The number to be called back at, when the answerer lets the caller set it
    /// (RASDIALPARAMS' callback number); `None` asks for no callback where that is offered.
    pub callback_number: Option<String>,
    /// When the answerer lets the caller set the number and `callback_number` is `None`,
    /// hold the Request and ask the application ([`CbcpClient::wants_number`]) instead of
    /// declining: RASDIALPARAMS' `"*"` with paused states (ras-reference §4.3 rule 17).
    pub ask_for_number: bool,
    /// Seconds the caller needs before the callback (its modem must reset), at least.
    pub delay: u8,
    /// Time between Callback-Responses while no Ack comes.
    pub restart_interval: Duration,
    /// Callback-Responses to send before giving up.
    pub max_responses: u32,
}

impl Default for CbcpClientConfig {
    fn default() -> Self {
        CbcpClientConfig {
            callback_number: None,
            ask_for_number: false,
            delay: 0,
            restart_interval: DEFAULT_RESTART,
            max_responses: DEFAULT_MAX_TRANSMISSIONS,
        }
    }
}

/// The caller's side.
#[derive(Debug)]
pub struct CbcpClient {
    config: CbcpClientConfig,
    /// The Response we sent and await an Ack for.
    response: Option<CbcpRepr>,
    transmitter: Transmitter,
    /// A Request held until the application gives its number (`ask_for_number`).
    held: Option<CbcpRepr>,
    /// What the first Request offering a callback offered, until taken.
    offer: Option<CallbackOffer>,
    /// A Request offering a callback has arrived.
    offered: bool,
    outcome: Option<CbcpOutcome>,
}

/// The answerer offers to call back (reported once, on its first such Request).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallbackOffer {
    /// The caller may (or must) give the number: a user-number offer (MS-CBCP §2.2.3).
    pub caller_sets_number: bool,
    /// The Request is held until [`CbcpClient::provide_number`].
    pub number_wanted: bool,
}

impl CbcpClient {
    /// A caller that answers from `config`. It waits for the answerer's first Request.
    pub fn new(config: CbcpClientConfig) -> Self {
        CbcpClient {
            transmitter: Transmitter::new(config.restart_interval, config.max_responses),
            config,
            response: None,
            held: None,
            offer: None,
            offered: false,
            outcome: None,
        }
    }

    /// Whether a Request is held for the application's number.
    pub fn wants_number(&self) -> bool {
        self.held.is_some()
    }

    /// The application's answer to a held Request: the number to be called back at, or
    /// `None` to decline. Returns false when no Request is held.
    pub fn provide_number(&mut self, now: Instant, number: Option<String>) -> bool {
        let Some(request) = self.held.take() else {
            return false;
        };
        self.config.callback_number = number;
        self.config.ask_for_number = false;
        self.answer(now, &request);
        true
    }

    /// The answerer's callback offer, once (see [`CallbackOffer`]).
    pub fn take_offer(&mut self) -> Option<CallbackOffer> {
        self.offer.take()
    }

    /// Answer a Request with our choice, or give up when nothing offered will do.
    fn answer(&mut self, now: Instant, request: &CbcpRepr) {
        match self.choose(&request.options) {
            Some(choice) => {
                let response = CbcpRepr {
                    code: CbcpCode::CallbackResponse,
                    identifier: request.identifier,
                    options: vec![choice],
                };
                self.transmitter.send(now, &response, true);
                self.response = Some(response);
            }
            None => {
                debug!("CBCP: no offer we can accept");
                self.transmitter.deadline = None;
                self.outcome = Some(CbcpOutcome::NoAcceptableOffer);
            }
        }
    }

    /// Pick from the offers: our own number if we have one and may give it, else no
    /// callback if allowed, else the administrator's number. The delay is the larger of
    /// the offer's and ours (MS-CBCP §2.2.4.2: the caller states the delay it requires).
    fn choose(&self, offers: &[CbcpOption]) -> Option<CbcpOption> {
        let offered = |wanted| offers.iter().find(|o| o.kind() == wanted);
        let delay = |offer: &CbcpOption| match offer {
            CbcpOption::UserNumber { delay, .. } | CbcpOption::AdminNumber { delay } => {
                self.config.delay.max(*delay)
            }
            _ => self.config.delay,
        };
        if let (Some(number), Some(offer)) =
            (&self.config.callback_number, offered(kind::USER_NUMBER))
        {
            return Some(CbcpOption::UserNumber {
                delay: delay(offer),
                number: number.as_bytes().to_vec(),
            });
        }
        if offered(kind::NO_CALLBACK).is_some() {
            return Some(CbcpOption::NoCallback);
        }
        offered(kind::ADMIN_NUMBER).map(|offer| CbcpOption::AdminNumber {
            delay: delay(offer),
        })
    }

    /// A CBCP packet arrived.
    pub fn receive(&mut self, now: Instant, information: &[u8]) {
        if self.outcome.is_some() {
            return;
        }
        let Some(repr) = parse(information) else {
            return;
        };
        match repr.code {
            // A new Request (the answerer did not get our Response): answer it afresh.
            CbcpCode::CallbackRequest => {
                let offers = |wanted| repr.options.iter().any(|o| o.kind() == wanted);
                let caller_sets_number = offers(kind::USER_NUMBER);
                let number_wanted = caller_sets_number
                    && self.config.ask_for_number
                    && self.config.callback_number.is_none();
                if !self.offered && (caller_sets_number || offers(kind::ADMIN_NUMBER)) {
                    self.offered = true;
                    self.offer = Some(CallbackOffer {
                        caller_sets_number,
                        number_wanted,
                    });
                }
                if number_wanted {
                    // A repeated Request replaces the held one: answer the latest.
                    self.held = Some(repr);
                } else {
                    self.answer(now, &repr);
                }
            }
            CbcpCode::CallbackAck => {
                let Some(response) = &self.response else {
                    debug!("CBCP: Ack before any Response, discarded");
                    return;
                };
                // MS-CBCP §2.2.4.3: the Ack repeats our Response's Identifier and option.
                if repr.identifier != response.identifier || repr.options != response.options {
                    debug!("CBCP: Ack does not match our Response, discarded");
                    return;
                }
                self.transmitter.deadline = None;
                self.outcome = Some(match &response.options[..] {
                    [CbcpOption::UserNumber { delay, number }] => CbcpOutcome::Callback {
                        number: Some(text(number)),
                        delay: seconds(*delay),
                    },
                    [CbcpOption::AdminNumber { delay }] => CbcpOutcome::Callback {
                        number: None,
                        delay: seconds(*delay),
                    },
                    _ => CbcpOutcome::NoCallback,
                });
            }
            CbcpCode::CallbackResponse => {
                debug!("CBCP: Callback-Response is the caller's own packet, discarded");
            }
        }
    }

    /// Repeat the Response, or give up, if the timer is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        match self.transmitter.expired(now) {
            Some(true) => {
                if let Some(response) = self.response.clone() {
                    self.transmitter.send(now, &response, false);
                }
            }
            Some(false) => self.outcome = Some(CbcpOutcome::TimedOut),
            None => {}
        }
    }

    /// The retransmission deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.transmitter.deadline
    }

    /// The next CBCP packet to send.
    pub fn poll_packet(&mut self) -> Option<Vec<u8>> {
        self.transmitter.outgoing.pop_front()
    }

    /// How it ended, once it has (reported once).
    pub fn take_outcome(&mut self) -> Option<CbcpOutcome> {
        self.outcome.take()
    }
}

#[cfg(test)]
mod tests;
