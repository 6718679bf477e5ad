//! The Extensible Authentication Protocol over PPP (RFC 3748), both roles: the peer that
//! proves its identity (the dialer, [`EapPeer`]) and the authenticator that drives the
//! method sequence ([`EapAuthenticator`]): Identity, an optional Notification, then the
//! methods it offers in order, falling back along the peer's Nak (RFC 3748 §5.3.1).
//!
//! Methods: MD5-Challenge (RFC 3748 §5.4, the RFC 1994 computation with the EAP
//! Identifier), Generic Token Card (§5.6) and EAP-MSCHAPv2
//! (draft-kamath-pppext-eap-mschapv2-02), whose inner exchange is the MS-CHAPv2 of
//! [`crate::chap`] — retry and Change-Password included — carried in EAP Type-Data.
//!
//! The peer needs its user for some Requests (an identity it was not given, a token, a
//! password it does not have, a Notification to confirm): it then reports an
//! [`EapPrompt`] and waits, without a timer of its own (RFC 3748 §4.3 leaves the wait to
//! the authenticator's retransmissions), until [`EapPeer::answer`].
//!
//! Identifiers (RFC 3748 §4.1, §4.2): the authenticator uses a new Identifier for each new
//! Request and discards Responses that do not carry the outstanding one; the peer answers
//! a duplicate Request with its previous Response, unprocessed, and takes Success or
//! Failure only with the Identifier of its last Response.

use std::collections::VecDeque;
use std::fmt;

use sansio::{Duration, Instant};
use tracing::debug;

use crate::auth::{AuthFailure, AuthOutcome};
use crate::chap::{
    AuthRetryError, ChapAlgorithm, ChapAttempt, ChapClient, ChapServer, ChapVerdict, Proof,
};
use crate::mschapv2::chap_md5_response;
use crate::random::{Random, SeededRandom};
use crate::wire::chap::{ChapCode, ChapRepr};
use crate::wire::eap::{EapMessage, EapMethod, EapRepr, MsChapV2Data, eap_type};

/// How the peer answers, besides its user name and password (given to [`EapPeer::new`]:
/// the MD5-Challenge Name and MS-CHAPv2 user name, and their secret; an empty password
/// means asking the user, [`EapPrompt::Credentials`], when a method needs one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EapPeerConfig {
    /// The identity for Request/Identity (RFC 3748 §5.1); `None` means the user name, or
    /// asking the user ([`EapPrompt::Identity`]) when that is empty too.
    pub identity: Option<String>,
    /// The methods we agree to, best first; a Request for any other is Nak'd with these.
    pub methods: Vec<EapMethod>,
    /// Wait for the user to confirm each Notification ([`EapPrompt::Notification`])
    /// instead of answering it at once and reporting [`EapPeerEvent::Notification`].
    pub confirm_notifications: bool,
}

impl Default for EapPeerConfig {
    fn default() -> Self {
        EapPeerConfig {
            identity: None,
            methods: EapMethod::ALL.to_vec(),
            confirm_notifications: false,
        }
    }
}

/// What the method needs from the user before the peer can answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EapPrompt {
    /// Request/Identity with no identity configured; `message` is the Request's prompt.
    Identity {
        /// The authenticator's displayable prompt (may be empty).
        message: String,
    },
    /// A Notification to confirm ([`EapPeerConfig::confirm_notifications`]).
    Notification {
        /// The text to show.
        message: String,
    },
    /// A user name and password for `method` (none configured).
    Credentials {
        /// The method that needs them.
        method: EapMethod,
    },
    /// A Generic Token Card Request: the one-time token, asked for by `message`.
    Token {
        /// The authenticator's displayable prompt.
        message: String,
    },
}

impl EapPrompt {
    fn kind(&self) -> &'static str {
        match self {
            EapPrompt::Identity { .. } => "an identity",
            EapPrompt::Notification { .. } => "an acknowledgement",
            EapPrompt::Credentials { .. } => "credentials",
            EapPrompt::Token { .. } => "a token",
        }
    }
}

/// The user's answer to an [`EapPrompt`]. Its `Debug` leaves the password and the token
/// out, so logging an answer leaks no secret.
#[derive(Clone, PartialEq, Eq)]
pub enum EapAnswer {
    /// For [`EapPrompt::Identity`].
    Identity(String),
    /// For [`EapPrompt::Notification`].
    Acknowledge,
    /// For [`EapPrompt::Credentials`].
    Credentials {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
    /// For [`EapPrompt::Token`].
    Token(String),
}

impl fmt::Debug for EapAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EapAnswer::Identity(identity) => f.debug_tuple("Identity").field(identity).finish(),
            EapAnswer::Acknowledge => f.write_str("Acknowledge"),
            EapAnswer::Credentials { user, .. } => f
                .debug_struct("Credentials")
                .field("user", user)
                .finish_non_exhaustive(),
            EapAnswer::Token(_) => f.write_str("Token(..)"),
        }
    }
}

/// Why an [`EapAnswer`] cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EapAnswerError {
    /// No prompt is waiting.
    #[error("the EAP method is not waiting for the user")]
    NotAsked,
    /// The answer does not fit the prompt.
    #[error("the EAP method asked for {asked}")]
    WrongAnswer {
        /// What the prompt asked for.
        asked: &'static str,
    },
    /// RFC 3748 §5.6: a token is "greater than zero octets"; a password likewise here.
    #[error("the {0} is empty")]
    Empty(&'static str),
}

/// What the peer reports besides its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EapPeerEvent {
    /// The method waits for the user: answer with [`EapPeer::answer`].
    Prompt(EapPrompt),
    /// A Notification, already acknowledged (RFC 3748 §5.2), to show the user.
    Notification(String),
}

/// A Request waiting for the user.
#[derive(Debug, Clone)]
struct Pending {
    identifier: u8,
    request: EapMessage,
    prompt: EapPrompt,
}

/// The side that proves its identity (the dialer).
#[derive(Debug)]
pub struct EapPeer {
    config: EapPeerConfig,
    user: String,
    password: String,
    random: SeededRandom,
    patience: Duration,
    deadline: Option<Instant>,
    /// The last Response sent: its Identifier and packet (RFC 3748 §4.1 duplicates).
    last: Option<(u8, Vec<u8>)>,
    pending: Option<Pending>,
    /// EAP-MSCHAPv2's inner exchange, once it has begun.
    chap: Option<ChapClient>,
    /// The Identifier of the Request the inner exchange answers now.
    chap_identifier: u8,
    /// How the method ended, for the EAP Success or Failure that follows.
    method_result: Option<AuthOutcome>,
    outgoing: VecDeque<Vec<u8>>,
    events: VecDeque<EapPeerEvent>,
    outcome: Option<AuthOutcome>,
    finished: bool,
}

impl EapPeer {
    /// A peer called `user` with `password`, that waits `patience` for each Request.
    pub fn new(
        config: EapPeerConfig,
        user: &str,
        password: &str,
        patience: Duration,
        random: SeededRandom,
    ) -> Self {
        EapPeer {
            config,
            user: user.to_owned(),
            password: password.to_owned(),
            random,
            patience,
            deadline: None,
            last: None,
            pending: None,
            chap: None,
            chap_identifier: 0,
            method_result: None,
            outgoing: VecDeque::new(),
            events: VecDeque::new(),
            outcome: None,
            finished: false,
        }
    }

    /// Start waiting for the first Request.
    pub fn start(&mut self, now: Instant) {
        self.deadline = Some(now + self.patience);
    }

    /// The user name and password as they stand (answers to prompts replace them).
    pub fn credentials(&self) -> (&str, &str) {
        (&self.user, &self.password)
    }

    /// The user is being waited for: a prompt, or an EAP-MSCHAPv2 Failure inviting a retry
    /// or a Change-Password.
    pub fn waiting_for_user(&self) -> bool {
        self.pending.is_some() || self.awaiting_credentials()
    }

    /// An EAP-MSCHAPv2 Failure invited new credentials and nobody has answered it yet.
    pub fn awaiting_credentials(&self) -> bool {
        self.chap
            .as_ref()
            .is_some_and(ChapClient::awaiting_credentials)
    }

    /// An EAP packet arrived.
    pub fn receive(&mut self, now: Instant, information: &[u8]) {
        if self.finished {
            return;
        }
        let repr = match EapRepr::parse_bytes(information) {
            Ok(repr) => repr,
            Err(error) => {
                debug!(%error, "EAP: malformed packet discarded");
                return;
            }
        };
        debug!("EAP rcvd {repr}");
        let answers_last = |identifier| self.last.as_ref().is_some_and(|(id, _)| *id == identifier);
        match repr {
            EapRepr::Request { identifier, .. }
                if self
                    .pending
                    .as_ref()
                    .is_some_and(|p| p.identifier == identifier) =>
            {
                debug!("EAP: Request repeated while the user is asked, discarded");
            }
            EapRepr::Request { identifier, .. } if answers_last(identifier) => {
                // RFC 3748 §4.1: resend the original Response without reprocessing.
                if let Some((_, packet)) = &self.last {
                    self.outgoing.push_back(packet.clone());
                }
            }
            EapRepr::Request {
                identifier,
                message,
            } => {
                // A new Request supersedes one the user has not answered yet [inferred].
                self.pending = None;
                self.on_request(now, identifier, message);
            }
            EapRepr::Success { identifier } if answers_last(identifier) => self.on_success(),
            EapRepr::Failure { identifier } if answers_last(identifier) => {
                let outcome = match self.method_result.take() {
                    Some(failed @ AuthOutcome::Failed(_)) => failed,
                    _ => AuthOutcome::Failed(AuthFailure::plain(String::new())),
                };
                self.finish(outcome);
            }
            EapRepr::Response { .. } | EapRepr::Success { .. } | EapRepr::Failure { .. } => {
                debug!("EAP: packet does not answer our Response, discarded")
            }
        }
        if !self.finished {
            self.deadline = (!self.waiting_for_user()).then_some(now + self.patience);
        }
    }

    fn identity(&self) -> Option<String> {
        self.config
            .identity
            .clone()
            .or_else(|| (!self.user.is_empty()).then(|| self.user.clone()))
    }

    fn allows(&self, method: EapMethod) -> bool {
        self.config.methods.contains(&method)
    }

    fn on_request(&mut self, now: Instant, identifier: u8, message: EapMessage) {
        match &message {
            EapMessage::Identity(prompt) => match self.identity() {
                Some(identity) => {
                    self.respond(identifier, EapMessage::Identity(identity.into_bytes()))
                }
                None => {
                    let request = EapMessage::Identity(prompt.clone());
                    let message = text(prompt);
                    self.ask(identifier, request, EapPrompt::Identity { message })
                }
            },
            EapMessage::Notification(text_octets) => {
                let message = text(text_octets);
                if self.config.confirm_notifications {
                    let request = EapMessage::Notification(text_octets.clone());
                    self.ask(identifier, request, EapPrompt::Notification { message });
                } else {
                    self.events.push_back(EapPeerEvent::Notification(message));
                    self.respond(identifier, EapMessage::Notification(Vec::new()));
                }
            }
            EapMessage::Md5Challenge { value, .. } if self.allows(EapMethod::Md5) => {
                if self.password.is_empty() {
                    let prompt = EapPrompt::Credentials {
                        method: EapMethod::Md5,
                    };
                    self.ask(identifier, message.clone(), prompt);
                    return;
                }
                // RFC 3748 §5.4: the RFC 1994 computation, with the EAP Identifier.
                let digest = chap_md5_response(identifier, self.password.as_bytes(), value);
                let name = self.user.clone().into_bytes();
                self.respond(
                    identifier,
                    EapMessage::Md5Challenge {
                        value: digest.to_vec(),
                        name,
                    },
                );
            }
            EapMessage::GenericTokenCard(prompt) if self.allows(EapMethod::Gtc) => {
                let message = text(prompt);
                self.ask(
                    identifier,
                    EapMessage::GenericTokenCard(prompt.clone()),
                    EapPrompt::Token { message },
                );
            }
            EapMessage::MsChapV2(MsChapV2Data::Packet(packet))
                if self.allows(EapMethod::MsChapV2) =>
            {
                if self.chap.is_none() && self.password.is_empty() {
                    let prompt = EapPrompt::Credentials {
                        method: EapMethod::MsChapV2,
                    };
                    self.ask(identifier, message.clone(), prompt);
                    return;
                }
                let chap = self.chap.get_or_insert_with(|| {
                    ChapClient::new(
                        ChapAlgorithm::MsChapV2,
                        &self.user,
                        &self.password,
                        // Never consulted: the EAP layer keeps the time and
                        // retransmits.
                        self.patience,
                        1,
                        Random::seeded(self.random.next_u64()),
                    )
                });
                self.chap_identifier = identifier;
                chap.receive(now, &packet.to_bytes());
                self.drain_chap();
            }
            _ => {
                // RFC 3748 §5.3.1: Nak an unacceptable authentication Type with the ones
                // we would accept, or 0 for none.
                let mut desired: Vec<u8> = self
                    .config
                    .methods
                    .iter()
                    .map(|m| m.type_number())
                    .collect();
                if desired.is_empty() {
                    desired.push(eap_type::NO_ALTERNATIVE);
                }
                debug!(kind = message.kind(), "EAP: method not acceptable, Nak");
                self.respond(identifier, EapMessage::Nak(desired));
            }
        }
    }

    /// Send what the inner MS-CHAPv2 exchange produced, and settle what it decided.
    fn drain_chap(&mut self) {
        let Some(chap) = &mut self.chap else {
            return;
        };
        let identifier = self.chap_identifier;
        let mut packets = Vec::new();
        while let Some(bytes) = chap.poll_packet() {
            match ChapRepr::parse_bytes(&bytes) {
                Ok(packet) => packets.push(packet),
                Err(error) => debug!(%error, "EAP: inner MS-CHAPv2 packet unusable"),
            }
        }
        let outcome = chap.take_outcome();
        let invited = chap.awaiting_credentials();
        for packet in packets {
            self.respond(
                identifier,
                EapMessage::MsChapV2(MsChapV2Data::Packet(packet)),
            );
        }
        let acknowledge = |code| EapMessage::MsChapV2(MsChapV2Data::Acknowledge(code));
        match outcome {
            None => {}
            // The draft (§2): a verified Success-Request is acknowledged and EAP Success
            // awaited; so is a final Failure-Request, and EAP Failure awaited.
            Some(AuthOutcome::Succeeded(message)) => {
                self.respond(identifier, acknowledge(ChapCode::Success));
                self.method_result = Some(AuthOutcome::Succeeded(message));
            }
            Some(AuthOutcome::Failed(failure)) if invited => {
                self.outcome = Some(AuthOutcome::Failed(failure));
            }
            Some(AuthOutcome::Failed(failure)) => {
                self.respond(identifier, acknowledge(ChapCode::Failure));
                self.method_result = Some(AuthOutcome::Failed(failure));
            }
            Some(other) => self.finish(other),
        }
    }

    fn on_success(&mut self) {
        let outcome = match self.method_result.take() {
            Some(AuthOutcome::Succeeded(message)) => AuthOutcome::Succeeded(message),
            // EAP-MSCHAPv2 is mutual: a Success before the authenticator proved it knows
            // our password (its S=) is not to be believed (RFC 2759 §5; draft §2).
            _ if self.chap.is_some() => AuthOutcome::ServerNotAuthenticated,
            _ => AuthOutcome::Succeeded(String::new()),
        };
        self.finish(outcome);
    }

    fn ask(&mut self, identifier: u8, request: EapMessage, prompt: EapPrompt) {
        debug!(asked = prompt.kind(), "EAP: the method needs the user");
        self.events.push_back(EapPeerEvent::Prompt(prompt.clone()));
        self.pending = Some(Pending {
            identifier,
            request,
            prompt,
        });
    }

    fn respond(&mut self, identifier: u8, message: EapMessage) {
        let repr = EapRepr::Response {
            identifier,
            message,
        };
        debug!("EAP sent {repr}");
        let packet = repr.to_bytes();
        self.outgoing.push_back(packet.clone());
        self.last = Some((identifier, packet));
    }

    /// The user's answer to the last [`EapPrompt`].
    pub fn answer(&mut self, now: Instant, answer: EapAnswer) -> Result<(), EapAnswerError> {
        let pending = self.pending.as_ref().ok_or(EapAnswerError::NotAsked)?;
        let identifier = pending.identifier;
        let wrong = EapAnswerError::WrongAnswer {
            asked: pending.prompt.kind(),
        };
        match (&pending.prompt, answer) {
            (EapPrompt::Identity { .. }, EapAnswer::Identity(identity)) => {
                self.pending = None;
                self.config.identity = Some(identity.clone());
                self.respond(identifier, EapMessage::Identity(identity.into_bytes()));
            }
            (EapPrompt::Notification { .. }, EapAnswer::Acknowledge) => {
                self.pending = None;
                self.respond(identifier, EapMessage::Notification(Vec::new()));
            }
            (EapPrompt::Credentials { .. }, EapAnswer::Credentials { user, password }) => {
                if password.is_empty() {
                    return Err(EapAnswerError::Empty("password"));
                }
                let request = pending.request.clone();
                self.pending = None;
                self.user = user;
                self.password = password;
                self.on_request(now, identifier, request);
            }
            (EapPrompt::Token { .. }, EapAnswer::Token(token)) => {
                if token.is_empty() {
                    return Err(EapAnswerError::Empty("token"));
                }
                self.pending = None;
                self.respond(identifier, EapMessage::GenericTokenCard(token.into_bytes()));
            }
            _ => return Err(wrong),
        }
        self.deadline = (!self.waiting_for_user()).then_some(now + self.patience);
        Ok(())
    }

    fn invited_chap(&mut self) -> Result<&mut ChapClient, AuthRetryError> {
        match &mut self.chap {
            Some(chap) if chap.awaiting_credentials() => Ok(chap),
            _ => Err(AuthRetryError::NotInvited),
        }
    }

    /// After an EAP-MSCHAPv2 Failure with `R=1`: answer its challenge with new credentials
    /// (RFC 2759 §6), in a Response to the Failure-Request [inferred: the draft names only
    /// Change-Password as an answer, so a retry takes the same place].
    pub fn retry(
        &mut self,
        now: Instant,
        user: &str,
        password: &str,
    ) -> Result<(), AuthRetryError> {
        self.invited_chap()?.retry(now, user, password)?;
        self.user = user.to_owned();
        self.password = password.to_owned();
        self.drain_chap();
        self.deadline = Some(now + self.patience);
        Ok(())
    }

    /// After an EAP-MSCHAPv2 Failure with `E=648`: send Change-Password (RFC 2759 §7,
    /// draft §2 "Change-Password Packet") from the configured password to `new_password`.
    pub fn change_password(
        &mut self,
        now: Instant,
        new_password: &str,
    ) -> Result<(), AuthRetryError> {
        self.invited_chap()?.change_password(now, new_password)?;
        self.drain_chap();
        self.deadline = Some(now + self.patience);
        Ok(())
    }

    fn finish(&mut self, outcome: AuthOutcome) {
        self.deadline = None;
        self.pending = None;
        self.finished = true;
        self.outcome = Some(outcome);
    }

    /// Give up if the authenticator has kept us waiting too long.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_some_and(|deadline| deadline <= now) {
            self.finish(AuthOutcome::TimedOut);
        }
    }

    /// When we give up waiting.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// The next EAP packet to send.
    pub fn poll_packet(&mut self) -> Option<Vec<u8>> {
        self.outgoing.pop_front()
    }

    /// The next prompt or notification for the user.
    pub fn poll_event(&mut self) -> Option<EapPeerEvent> {
        self.events.pop_front()
    }

    /// How it ended, or a Failure that awaits new credentials (reported once each).
    pub fn take_outcome(&mut self) -> Option<AuthOutcome> {
        self.outcome.take()
    }
}

/// A displayable octet string as text.
fn text(octets: &[u8]) -> String {
    String::from_utf8_lossy(octets).into_owned()
}

/// How the authenticator runs the exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EapAuthenticatorConfig {
    /// Our name in MD5 and MS-CHAPv2 Challenges.
    pub name: String,
    /// The methods offered, in order: the first is requested, the rest are what a Nak may
    /// choose from (RFC 3748 §5.3.1).
    pub methods: Vec<EapMethod>,
    /// The displayable prompt in Request/Identity (RFC 3748 §5.1; may be empty).
    pub identity_prompt: String,
    /// A Notification sent after the identity, before the method (RFC 3748 §5.2).
    pub notification: Option<String>,
    /// The Generic Token Card prompt (RFC 3748 §5.6).
    pub token_prompt: String,
    /// Retransmission period of a Request (RFC 3748 §4.3 leaves it to the lower layer;
    /// RFC 1661 §4.6's restart timer serves).
    pub restart_interval: Duration,
    /// The most times one Request is sent.
    pub max_requests: u32,
    /// How long a Notification confirmation, a token, or the answer to an
    /// MS-CHAPv2 Failure that invites one may take: a person is typing.
    pub user_wait: Duration,
}

/// A method answer the authenticator's caller must judge with [`EapAuthenticator::answer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EapAttempt {
    /// The identity the peer gave (RFC 3748 §5.1).
    pub identity: String,
    /// The method that carried the attempt.
    pub method: EapMethod,
    /// The account the proof is for: the MD5 or MS-CHAPv2 name, the identity for GTC.
    pub name: String,
    /// What the peer sent.
    pub proof: EapProof,
}

/// What an attempt proved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EapProof {
    /// MD5 or MS-CHAPv2, checked against the account's password.
    Password(Proof),
    /// A Generic Token Card token, for the caller to check (a secret: never log it).
    Token(String),
}

/// Where the authenticator stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Idle,
    Identity,
    Notification,
    Method(EapMethod),
    /// An attempt awaits [`EapAuthenticator::answer`].
    Deciding(EapMethod),
    /// EAP-MSCHAPv2's Success- or Failure-Request is out; the peer's acknowledgement
    /// decides between EAP Success and Failure (draft §2).
    MsChapV2Result {
        accepted: bool,
    },
    /// EAP Success (true) or Failure sent.
    Done {
        accepted: bool,
    },
    GaveUp,
}

/// The Request awaiting its Response.
#[derive(Debug, Clone)]
struct Outstanding {
    packet: Vec<u8>,
    sent: u32,
    deadline: Instant,
    /// Retransmitted on the restart timer; otherwise waited for once (a person types).
    retransmit: bool,
}

/// The authenticator's side (the server).
#[derive(Debug)]
pub struct EapAuthenticator {
    config: EapAuthenticatorConfig,
    random: SeededRandom,
    identifier: u8,
    stage: Stage,
    outstanding: Option<Outstanding>,
    identity: String,
    tried: Vec<EapMethod>,
    md5_challenge: Vec<u8>,
    chap: Option<ChapServer>,
    outgoing: VecDeque<Vec<u8>>,
}

impl EapAuthenticator {
    /// An authenticator following `config`.
    pub fn new(config: EapAuthenticatorConfig, random: SeededRandom) -> Self {
        EapAuthenticator {
            config,
            random,
            identifier: 0,
            stage: Stage::Idle,
            outstanding: None,
            identity: String::new(),
            tried: Vec::new(),
            md5_challenge: Vec::new(),
            chap: None,
            outgoing: VecDeque::new(),
        }
    }

    /// Send Request/Identity.
    pub fn start(&mut self, now: Instant) {
        self.stage = Stage::Identity;
        let prompt = self.config.identity_prompt.clone().into_bytes();
        self.request(now, EapMessage::Identity(prompt), true);
    }

    /// `Some(true)` once EAP Success is sent, `Some(false)` once EAP Failure is.
    pub fn outcome(&self) -> Option<bool> {
        match self.stage {
            Stage::Done { accepted } => Some(accepted),
            _ => None,
        }
    }

    /// The peer never answered a Request: the caller should end the link.
    pub fn gave_up(&self) -> bool {
        self.stage == Stage::GaveUp
    }

    /// The identity the peer gave.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    fn request(&mut self, now: Instant, message: EapMessage, retransmit: bool) {
        // RFC 3748 §4.1: a new Identifier for each new Request.
        self.identifier = self.identifier.wrapping_add(1);
        let repr = EapRepr::Request {
            identifier: self.identifier,
            message,
        };
        debug!("EAP sent {repr}");
        let packet = repr.to_bytes();
        self.outgoing.push_back(packet.clone());
        let wait = if retransmit {
            self.config.restart_interval
        } else {
            self.config.user_wait
        };
        self.outstanding = Some(Outstanding {
            packet,
            sent: 1,
            deadline: now + wait,
            retransmit,
        });
    }

    fn conclude(&mut self, accepted: bool) {
        // RFC 3748 §4.2: the Identifier of the Response answered.
        let repr = if accepted {
            EapRepr::Success {
                identifier: self.identifier,
            }
        } else {
            EapRepr::Failure {
                identifier: self.identifier,
            }
        };
        debug!("EAP sent {repr}");
        self.outgoing.push_back(repr.to_bytes());
        self.outstanding = None;
        self.stage = Stage::Done { accepted };
    }

    fn start_method(&mut self, now: Instant, method: EapMethod) {
        self.tried.push(method);
        self.stage = Stage::Method(method);
        match method {
            EapMethod::Md5 => {
                let challenge: [u8; 16] = self.random.bytes();
                self.md5_challenge = challenge.to_vec();
                let message = EapMessage::Md5Challenge {
                    value: self.md5_challenge.clone(),
                    name: self.config.name.clone().into_bytes(),
                };
                self.request(now, message, true);
            }
            EapMethod::Gtc => {
                let prompt = self.config.token_prompt.clone().into_bytes();
                self.request(now, EapMessage::GenericTokenCard(prompt), false);
            }
            EapMethod::MsChapV2 => {
                let mut chap = ChapServer::new(
                    ChapAlgorithm::MsChapV2,
                    &self.config.name,
                    // The EAP layer retransmits and keeps the time; never consulted.
                    self.config.user_wait,
                    1,
                    self.config.user_wait,
                    Random::seeded(self.random.next_u64()),
                );
                chap.start(now);
                self.chap = Some(chap);
                self.send_chap(now, true);
            }
        }
    }

    /// Wrap the inner exchange's next packet in a Request.
    fn send_chap(&mut self, now: Instant, retransmit: bool) {
        let Some(bytes) = self.chap.as_mut().and_then(ChapServer::poll_packet) else {
            return;
        };
        match ChapRepr::parse_bytes(&bytes) {
            Ok(packet) => self.request(
                now,
                EapMessage::MsChapV2(MsChapV2Data::Packet(packet)),
                retransmit,
            ),
            Err(error) => debug!(%error, "EAP: inner MS-CHAPv2 packet unusable"),
        }
    }

    /// After the identity (and the Notification, if any): the first method.
    fn after_identity(&mut self, now: Instant) {
        match self.config.methods.first().copied() {
            Some(method) => self.start_method(now, method),
            None => self.conclude(false),
        }
    }

    /// An EAP packet arrived. Returns an attempt the caller must
    /// [`EapAuthenticator::answer`]; `password` looks up an account's password by name.
    pub fn receive(
        &mut self,
        now: Instant,
        information: &[u8],
        password: impl FnOnce(&str) -> Option<String>,
    ) -> Option<EapAttempt> {
        let repr = match EapRepr::parse_bytes(information) {
            Ok(repr) => repr,
            Err(error) => {
                debug!(%error, "EAP: malformed packet discarded");
                return None;
            }
        };
        debug!("EAP rcvd {repr}");
        let message = match repr {
            // RFC 3748 §4.1: only a Response to the outstanding Request counts.
            EapRepr::Response {
                identifier,
                message,
            } if identifier == self.identifier && self.outstanding.is_some() => message,
            _ => {
                debug!("EAP: packet does not answer our Request, discarded");
                return None;
            }
        };
        match (self.stage, message) {
            (Stage::Identity, EapMessage::Identity(identity)) => {
                self.identity = text(&identity);
                match self.config.notification.clone() {
                    Some(notification) => {
                        self.stage = Stage::Notification;
                        self.request(
                            now,
                            EapMessage::Notification(notification.into_bytes()),
                            false,
                        );
                    }
                    None => self.after_identity(now),
                }
                None
            }
            (Stage::Notification, EapMessage::Notification(_)) => {
                self.after_identity(now);
                None
            }
            (Stage::Method(_), EapMessage::Nak(desired)) => {
                // RFC 3748 §5.3.1: one of the peer's choices we offer and have not tried.
                let next = self.config.methods.iter().copied().find(|method| {
                    !self.tried.contains(method) && desired.contains(&method.type_number())
                });
                match next {
                    Some(method) => self.start_method(now, method),
                    None => {
                        debug!(?desired, "EAP: no method both sides accept");
                        self.conclude(false);
                    }
                }
                None
            }
            (Stage::Method(EapMethod::Md5), EapMessage::Md5Challenge { value, name }) => {
                let name = if name.is_empty() {
                    self.identity.clone()
                } else {
                    text(&name)
                };
                let expected = password(&name).map(|password| {
                    chap_md5_response(self.identifier, password.as_bytes(), &self.md5_challenge)
                });
                let proof = match expected {
                    Some(expected) if expected[..] == value[..] => Proof::Valid,
                    _ => Proof::Invalid,
                };
                Some(self.attempt(EapMethod::Md5, name, EapProof::Password(proof)))
            }
            (Stage::Method(EapMethod::Gtc), EapMessage::GenericTokenCard(token)) => {
                let name = self.identity.clone();
                Some(self.attempt(EapMethod::Gtc, name, EapProof::Token(text(&token))))
            }
            (
                Stage::Method(EapMethod::MsChapV2),
                EapMessage::MsChapV2(MsChapV2Data::Packet(packet)),
            ) => {
                let ChapAttempt { name, proof } =
                    self.chap.as_mut()?.receive(&packet.to_bytes(), password)?;
                Some(self.attempt(EapMethod::MsChapV2, name, EapProof::Password(proof)))
            }
            (
                Stage::Method(EapMethod::MsChapV2),
                EapMessage::MsChapV2(MsChapV2Data::Acknowledge(ChapCode::Failure)),
            ) => {
                // The peer declined the invitation to retry or change its password.
                self.conclude(false);
                None
            }
            (
                Stage::MsChapV2Result { accepted },
                EapMessage::MsChapV2(MsChapV2Data::Acknowledge(code)),
            ) => {
                self.conclude(accepted && code == ChapCode::Success);
                None
            }
            (_, message) => {
                debug!(
                    kind = message.kind(),
                    "EAP: Response of the wrong type, discarded"
                );
                None
            }
        }
    }

    fn attempt(&mut self, method: EapMethod, name: String, proof: EapProof) -> EapAttempt {
        self.outstanding = None;
        self.stage = Stage::Deciding(method);
        EapAttempt {
            identity: self.identity.clone(),
            method,
            name,
            proof,
        }
    }

    /// Judge the pending attempt. MD5 and GTC end at once in EAP Success or Failure;
    /// EAP-MSCHAPv2 sends its Success- or Failure-Request (with `message`, and for a
    /// Failure the verdict's `E=` and `R=`) and ends once the peer acknowledges it.
    pub fn answer(&mut self, now: Instant, verdict: ChapVerdict, message: &str) {
        let Stage::Deciding(method) = self.stage else {
            return;
        };
        let accepted = verdict == ChapVerdict::Accept;
        match (method, &mut self.chap) {
            (EapMethod::MsChapV2, Some(chap)) => {
                chap.answer(now, verdict, message);
                let invited = chap.awaiting_answer();
                self.stage = if invited {
                    Stage::Method(EapMethod::MsChapV2)
                } else {
                    Stage::MsChapV2Result { accepted }
                };
                // An invitation waits for a person; the rest is retransmitted.
                self.send_chap(now, !invited);
            }
            _ => self.conclude(accepted),
        }
    }

    /// Repeat the outstanding Request, or give up, if its timer is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(outstanding) = &mut self.outstanding else {
            return;
        };
        if outstanding.deadline > now {
            return;
        }
        if outstanding.retransmit && outstanding.sent < self.config.max_requests {
            outstanding.sent += 1;
            outstanding.deadline = now + self.config.restart_interval;
            self.outgoing.push_back(outstanding.packet.clone());
        } else {
            debug!("EAP: no Response to our Request");
            self.outstanding = None;
            self.stage = Stage::GaveUp;
        }
    }

    /// When the outstanding Request is repeated or given up on.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.outstanding
            .as_ref()
            .map(|outstanding| outstanding.deadline)
    }

    /// The next EAP packet to send.
    pub fn poll_packet(&mut self) -> Option<Vec<u8>> {
        self.outgoing.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use md5::{Digest, Md5};

    use super::*;
    use crate::wire::chap::error_code;

    const SECOND: Duration = Duration::from_secs(1);

    fn peer((config, user, password): (EapPeerConfig, &str, &str)) -> EapPeer {
        let mut peer = EapPeer::new(config, user, password, SECOND * 30, SeededRandom::new(1));
        peer.start(Instant::ZERO);
        peer
    }

    fn alice(methods: &[EapMethod]) -> (EapPeerConfig, &'static str, &'static str) {
        with_password(methods, "secret")
    }

    fn with_password<'a>(
        methods: &[EapMethod],
        password: &'a str,
    ) -> (EapPeerConfig, &'static str, &'a str) {
        let config = EapPeerConfig {
            methods: methods.to_vec(),
            ..EapPeerConfig::default()
        };
        (config, "alice", password)
    }

    fn authenticator(methods: &[EapMethod], notification: Option<&str>) -> EapAuthenticator {
        let mut authenticator = EapAuthenticator::new(
            EapAuthenticatorConfig {
                name: "srv".into(),
                methods: methods.to_vec(),
                identity_prompt: "Who are you?".into(),
                notification: notification.map(str::to_owned),
                token_prompt: "Token:".into(),
                restart_interval: SECOND * 3,
                max_requests: 3,
                user_wait: SECOND * 120,
            },
            SeededRandom::new(2),
        );
        authenticator.start(Instant::ZERO);
        authenticator
    }

    fn accounts(name: &str) -> Option<String> {
        (name == "alice").then(|| "secret".to_owned())
    }

    /// Carry packets both ways until both sides are quiet; the attempt to judge, if any.
    fn exchange(peer: &mut EapPeer, server: &mut EapAuthenticator) -> Option<EapAttempt> {
        let now = Instant::ZERO;
        let mut attempt = None;
        loop {
            let to_peer: Vec<_> = std::iter::from_fn(|| server.poll_packet()).collect();
            let to_server: Vec<_> = std::iter::from_fn(|| peer.poll_packet()).collect();
            if to_peer.is_empty() && to_server.is_empty() {
                return attempt;
            }
            for packet in to_peer {
                peer.receive(now, &packet);
            }
            for packet in to_server {
                attempt = server.receive(now, &packet, accounts).or(attempt);
            }
        }
    }

    fn events(peer: &mut EapPeer) -> Vec<EapPeerEvent> {
        std::iter::from_fn(|| peer.poll_event()).collect()
    }

    #[test]
    fn md5_response_is_md5_of_identifier_secret_and_challenge() {
        // RFC 3748 §5.4 with RFC 1994 §2.2: MD5(Identifier || secret || Challenge).
        let mut peer = peer(alice(&[EapMethod::Md5]));
        let request = EapRepr::Request {
            identifier: 0x2a,
            message: EapMessage::Md5Challenge {
                value: vec![0x01, 0x02, 0x03, 0x04],
                name: b"srv".to_vec(),
            },
        };
        peer.receive(Instant::ZERO, &request.to_bytes());
        let response = EapRepr::parse_bytes(&peer.poll_packet().unwrap()).unwrap();
        let expected: [u8; 16] = Md5::new()
            .chain_update([0x2a])
            .chain_update(b"secret")
            .chain_update([0x01, 0x02, 0x03, 0x04])
            .finalize()
            .into();
        assert_eq!(
            response,
            EapRepr::Response {
                identifier: 0x2a,
                message: EapMessage::Md5Challenge {
                    value: expected.to_vec(),
                    name: b"alice".to_vec()
                }
            }
        );
    }

    #[test]
    fn md5_good_and_bad_password() {
        for (password, proof, verdict) in [
            ("secret", Proof::Valid, ChapVerdict::Accept),
            (
                "wrong",
                Proof::Invalid,
                ChapVerdict::Reject {
                    error: error_code::AUTHENTICATION_FAILURE,
                    retry: false,
                },
            ),
        ] {
            let mut peer = peer(with_password(&[EapMethod::Md5], password));
            let mut server = authenticator(&[EapMethod::Md5], None);
            let attempt = exchange(&mut peer, &mut server).unwrap();
            assert_eq!(server.identity(), "alice");
            assert_eq!(attempt.proof, EapProof::Password(proof));
            server.answer(Instant::ZERO, verdict, "");
            exchange(&mut peer, &mut server);
            let accepted = verdict == ChapVerdict::Accept;
            assert_eq!(server.outcome(), Some(accepted));
            let outcome = peer.take_outcome().unwrap();
            assert_eq!(matches!(outcome, AuthOutcome::Succeeded(_)), accepted);
        }
    }

    #[test]
    fn a_nak_moves_the_authenticator_to_a_method_the_peer_accepts() {
        // RFC 3748 §5.3.1: the peer accepts only GTC; the authenticator offers MD5 first.
        let mut peer = peer(alice(&[EapMethod::Gtc]));
        let mut server = authenticator(&[EapMethod::Md5, EapMethod::Gtc], None);
        assert_eq!(exchange(&mut peer, &mut server), None);
        assert_eq!(
            events(&mut peer),
            [EapPeerEvent::Prompt(EapPrompt::Token {
                message: "Token:".into()
            })]
        );
        assert!(peer.waiting_for_user());
        assert_eq!(
            peer.poll_timeout(),
            None,
            "the user is not timed by the peer"
        );
        assert_eq!(
            peer.answer(Instant::ZERO, EapAnswer::Acknowledge),
            Err(EapAnswerError::WrongAnswer { asked: "a token" })
        );
        assert_eq!(
            peer.answer(Instant::ZERO, EapAnswer::Token(String::new())),
            Err(EapAnswerError::Empty("token"))
        );
        peer.answer(Instant::ZERO, EapAnswer::Token("123456".into()))
            .unwrap();
        let attempt = exchange(&mut peer, &mut server).unwrap();
        assert_eq!(attempt.method, EapMethod::Gtc);
        assert_eq!(attempt.proof, EapProof::Token("123456".into()));
        server.answer(Instant::ZERO, ChapVerdict::Accept, "");
        exchange(&mut peer, &mut server);
        assert_eq!(
            peer.take_outcome(),
            Some(AuthOutcome::Succeeded(String::new()))
        );
    }

    #[test]
    fn answers_keep_their_secrets_out_of_debug() {
        let credentials = EapAnswer::Credentials {
            user: "alice".into(),
            password: "hunter2".into(),
        };
        assert_eq!(
            format!("{credentials:?}"),
            "Credentials { user: \"alice\", .. }"
        );
        assert_eq!(
            format!("{:?}", EapAnswer::Token("314159".into())),
            "Token(..)"
        );
    }

    #[test]
    fn no_common_method_ends_in_failure() {
        let mut peer = peer(alice(&[EapMethod::Md5]));
        let mut server = authenticator(&[EapMethod::Gtc], None);
        assert_eq!(exchange(&mut peer, &mut server), None);
        assert_eq!(server.outcome(), Some(false));
        assert!(matches!(peer.take_outcome(), Some(AuthOutcome::Failed(_))));
    }

    #[test]
    fn identity_and_notification_can_ask_the_user() {
        let config = EapPeerConfig {
            confirm_notifications: true,
            ..EapPeerConfig::default()
        };
        let mut peer = peer((config, "", ""));
        let mut server = authenticator(&[EapMethod::Md5], Some("Maintenance at 02:00"));
        exchange(&mut peer, &mut server);
        assert_eq!(
            events(&mut peer),
            [EapPeerEvent::Prompt(EapPrompt::Identity {
                message: "Who are you?".into()
            })]
        );
        peer.answer(Instant::ZERO, EapAnswer::Identity("alice".into()))
            .unwrap();
        exchange(&mut peer, &mut server);
        assert_eq!(
            events(&mut peer),
            [EapPeerEvent::Prompt(EapPrompt::Notification {
                message: "Maintenance at 02:00".into()
            })]
        );
        peer.answer(Instant::ZERO, EapAnswer::Acknowledge).unwrap();
        exchange(&mut peer, &mut server);
        assert_eq!(
            events(&mut peer),
            [EapPeerEvent::Prompt(EapPrompt::Credentials {
                method: EapMethod::Md5
            })]
        );
        peer.answer(
            Instant::ZERO,
            EapAnswer::Credentials {
                user: "alice".into(),
                password: "secret".into(),
            },
        )
        .unwrap();
        let attempt = exchange(&mut peer, &mut server).unwrap();
        assert_eq!(attempt.proof, EapProof::Password(Proof::Valid));
        assert_eq!(peer.credentials(), ("alice", "secret"));
    }

    #[test]
    fn an_unconfirmed_notification_is_answered_and_reported() {
        let mut peer = peer(alice(&[EapMethod::Md5]));
        let mut server = authenticator(&[EapMethod::Md5], Some("Hello"));
        assert!(exchange(&mut peer, &mut server).is_some());
        assert_eq!(
            events(&mut peer),
            [EapPeerEvent::Notification("Hello".into())]
        );
    }

    #[test]
    fn a_duplicate_request_gets_the_same_response_unprocessed() {
        // RFC 3748 §4.1.
        let mut peer = peer(alice(&[EapMethod::MsChapV2]));
        let mut server = authenticator(&[EapMethod::MsChapV2], None);
        let identity = server.poll_packet().unwrap();
        peer.receive(Instant::ZERO, &identity);
        let first = peer.poll_packet().unwrap();
        server.receive(Instant::ZERO, &first, accounts);
        let challenge = server.poll_packet().unwrap();
        peer.receive(Instant::ZERO, &challenge);
        let response = peer.poll_packet().unwrap();
        peer.receive(Instant::ZERO, &challenge);
        assert_eq!(peer.poll_packet(), Some(response));
        // The authenticator ignores a Response with a stale Identifier.
        assert_eq!(server.receive(Instant::ZERO, &first, accounts), None);
    }

    #[test]
    fn the_authenticator_retransmits_then_gives_up() {
        let mut server = authenticator(&[EapMethod::Md5], None);
        let first = server.poll_packet().unwrap();
        for n in 1..3 {
            server.handle_timeout(Instant::ZERO + SECOND * 3 * n);
            assert_eq!(server.poll_packet().as_ref(), Some(&first));
        }
        server.handle_timeout(Instant::ZERO + SECOND * 9);
        assert!(server.gave_up());
        assert_eq!(server.poll_timeout(), None);
    }

    fn ms_chap_v2(password: &str) -> (EapPeer, EapAuthenticator, EapAttempt) {
        let mut peer = peer(with_password(&[EapMethod::MsChapV2], password));
        let mut server = authenticator(&[EapMethod::MsChapV2], None);
        let attempt = exchange(&mut peer, &mut server).unwrap();
        (peer, server, attempt)
    }

    #[test]
    fn ms_chap_v2_success_is_mutual() {
        let (mut peer, mut server, attempt) = ms_chap_v2("secret");
        assert_eq!(attempt.name, "alice");
        assert_eq!(attempt.proof, EapProof::Password(Proof::Valid));
        server.answer(Instant::ZERO, ChapVerdict::Accept, "Welcome");
        exchange(&mut peer, &mut server);
        assert_eq!(server.outcome(), Some(true));
        assert_eq!(
            peer.take_outcome(),
            Some(AuthOutcome::Succeeded("Welcome".into()))
        );
    }

    #[test]
    fn an_eap_success_without_the_ms_chap_v2_proof_is_refused() {
        let (mut peer, _server, _) = ms_chap_v2("secret");
        let (identifier, _) = peer.last.clone().unwrap();
        peer.receive(Instant::ZERO, &EapRepr::Success { identifier }.to_bytes());
        assert_eq!(
            peer.take_outcome(),
            Some(AuthOutcome::ServerNotAuthenticated)
        );
    }

    #[test]
    fn ms_chap_v2_retry_then_final_failure() {
        let (mut peer, mut server, attempt) = ms_chap_v2("wrong");
        assert_eq!(attempt.proof, EapProof::Password(Proof::Invalid));
        let refuse = |retry| ChapVerdict::Reject {
            error: error_code::AUTHENTICATION_FAILURE,
            retry,
        };
        server.answer(Instant::ZERO, refuse(true), "try again");
        exchange(&mut peer, &mut server);
        let Some(AuthOutcome::Failed(failure)) = peer.take_outcome() else {
            panic!("no failure");
        };
        assert!(failure.retry_allowed);
        assert!(peer.awaiting_credentials());
        peer.retry(Instant::ZERO, "alice", "secret").unwrap();
        let attempt = exchange(&mut peer, &mut server).unwrap();
        assert_eq!(attempt.proof, EapProof::Password(Proof::Valid));
        // Refused anyway, finally: the peer acknowledges and EAP Failure follows.
        server.answer(Instant::ZERO, refuse(false), "no");
        exchange(&mut peer, &mut server);
        assert_eq!(server.outcome(), Some(false));
        let Some(AuthOutcome::Failed(failure)) = peer.take_outcome() else {
            panic!("no failure");
        };
        assert_eq!(failure.error, Some(error_code::AUTHENTICATION_FAILURE));
        assert_eq!(
            peer.retry(Instant::ZERO, "a", "b"),
            Err(AuthRetryError::NotInvited)
        );
    }

    #[test]
    fn ms_chap_v2_expired_password_is_changed() {
        let (mut peer, mut server, _) = ms_chap_v2("secret");
        server.answer(
            Instant::ZERO,
            ChapVerdict::Reject {
                error: error_code::PASSWD_EXPIRED,
                retry: false,
            },
            "expired",
        );
        exchange(&mut peer, &mut server);
        assert!(matches!(peer.take_outcome(), Some(AuthOutcome::Failed(_))));
        peer.change_password(Instant::ZERO, "newer").unwrap();
        let attempt = exchange(&mut peer, &mut server).unwrap();
        assert_eq!(
            attempt.proof,
            EapProof::Password(Proof::NewPassword("newer".into()))
        );
        server.answer(Instant::ZERO, ChapVerdict::Accept, "changed");
        exchange(&mut peer, &mut server);
        assert_eq!(
            peer.take_outcome(),
            Some(AuthOutcome::Succeeded("changed".into()))
        );
    }

    #[test]
    fn ms_chap_v2_without_a_password_asks_for_credentials() {
        let mut peer = peer(with_password(&[EapMethod::MsChapV2], ""));
        let mut server = authenticator(&[EapMethod::MsChapV2], None);
        assert_eq!(exchange(&mut peer, &mut server), None);
        assert_eq!(
            events(&mut peer),
            [EapPeerEvent::Prompt(EapPrompt::Credentials {
                method: EapMethod::MsChapV2
            })]
        );
        peer.answer(
            Instant::ZERO,
            EapAnswer::Credentials {
                user: "alice".into(),
                password: "secret".into(),
            },
        )
        .unwrap();
        let attempt = exchange(&mut peer, &mut server).unwrap();
        assert_eq!(attempt.proof, EapProof::Password(Proof::Valid));
    }

    proptest::proptest! {
        #[test]
        fn machines_never_panic_on_any_packet(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120)) {
            let mut peer = peer(alice(&EapMethod::ALL));
            peer.receive(Instant::ZERO, &bytes);
            let mut server = authenticator(&EapMethod::ALL, Some("x"));
            let _ = server.receive(Instant::ZERO, &bytes, accounts);
        }
    }
}
