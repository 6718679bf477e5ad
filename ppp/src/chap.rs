//! The Challenge-Handshake Authentication Protocol (RFC 1994) with MD5, and Microsoft's
//! MS-CHAPv2 dialect of it (RFC 2759), both sides.
//!
//! The authenticator drives the exchange: it sends a Challenge and retransmits it on the
//! restart timer until a Response arrives (RFC 1994 §4.1); the peer answers every Challenge
//! and has no timer of its own beyond giving up. MS-CHAPv2 adds mutual authentication (the
//! `S=` in Success, RFC 2759 §5), typed failures that may invite a retry (RFC 2759 §6) and
//! Change-Password for an expired password (RFC 2759 §7).

use std::collections::VecDeque;

use sansio::{Duration, Instant};
use tracing::debug;

use crate::auth::{AuthFailure, AuthOutcome};
use crate::mschapv2::{
    NtHash, PasswordChangeError, chap_md5_response, generate_authenticator_response,
    generate_nt_response, new_password_encrypted_with_old_nt_password_hash, nt_password_hash,
    old_nt_password_hash_encrypted_with_new_nt_password_hash, recover_new_password,
};
use crate::random::Random;
use crate::wire::chap::{
    AuthenticatorResponse, ChangePassword, ChapRepr, FailureMessage, MsChapV2Response,
    PASSWORD_CHANGE_VERSION, SuccessMessage, error_code, ms_chap_v2_challenge,
};
use crate::wire::lcp::AuthProtocol;

/// Which CHAP algorithm a link agreed on (LCP Authentication-Protocol, RFC 1994 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChapAlgorithm {
    /// MD5 (RFC 1994 §2.2, algorithm 5).
    Md5,
    /// MS-CHAPv2 (RFC 2759 §2, algorithm 0x81).
    MsChapV2,
}

impl ChapAlgorithm {
    /// The algorithm `protocol` names, if it is a CHAP we implement.
    pub fn from_auth_protocol(protocol: AuthProtocol) -> Option<Self> {
        match protocol {
            AuthProtocol::ChapMd5 => Some(ChapAlgorithm::Md5),
            AuthProtocol::MsChapV2 => Some(ChapAlgorithm::MsChapV2),
            AuthProtocol::Pap | AuthProtocol::Eap | AuthProtocol::Other(_) => None,
        }
    }
}

/// Why the caller's answer to an MS-CHAPv2 Failure cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthRetryError {
    /// No Failure is waiting for new credentials: the authenticator did not allow a retry
    /// or a password change, the exchange is over, or the protocol has neither (PAP,
    /// CHAP-MD5).
    #[error("the authenticator is not waiting for new credentials")]
    NotInvited,
    /// The new password cannot be sent.
    #[error(transparent)]
    PasswordChange(#[from] PasswordChangeError),
}

/// MS-CHAPv2 `C=`: the challenge a retry or Change-Password answers, and the Identifier
/// the answer carries (the Failure's plus one, RFC 2759 §7).
#[derive(Debug, Clone, Copy)]
struct Invitation {
    identifier: u8,
    challenge: [u8; 16],
}

/// The Response we sent last, to repeat if the Challenge is repeated and to match the
/// answer against.
#[derive(Debug, Clone)]
struct Answered {
    identifier: u8,
    challenge: Vec<u8>,
    packet: Vec<u8>,
    /// MS-CHAPv2: the `S=` a genuine authenticator will send (RFC 2759 §8.7).
    expected: Option<[u8; 20]>,
}

/// The side that proves its identity (the dialer).
#[derive(Debug)]
pub struct ChapClient {
    algorithm: ChapAlgorithm,
    name: Vec<u8>,
    password: String,
    random: Random,
    /// The restart timer: how long a Response waits for Success or Failure before it is
    /// sent again (RFC 1994 §4.1, the peer's side of the retransmission).
    restart_interval: Duration,
    /// How many times a Response goes out before we give up; `restart_interval` times
    /// this is also how long we wait for the first Challenge.
    max_transmits: u32,
    /// Transmissions of the Response we sent last.
    transmits: u32,
    deadline: Option<Instant>,
    answered: Option<Answered>,
    invitation: Option<Invitation>,
    outgoing: VecDeque<Vec<u8>>,
    outcome: Option<AuthOutcome>,
    finished: bool,
}

impl ChapClient {
    /// A client named `name` (sent as is, domain included; RFC 2759 §8.2 strips the domain
    /// where the hash needs it). It sends each Response up to `max_transmits` times,
    /// `restart_interval` apart, until Success or Failure arrives: RFC 1994 §4.2 has the
    /// authenticator answer a repeated Response again precisely because the answer can be
    /// lost. It waits as long for the first Challenge.
    pub fn new(
        algorithm: ChapAlgorithm,
        name: &str,
        password: &str,
        restart_interval: Duration,
        max_transmits: u32,
        random: Random,
    ) -> Self {
        ChapClient {
            algorithm,
            name: name.as_bytes().to_vec(),
            password: password.to_owned(),
            random,
            restart_interval,
            max_transmits: max_transmits.max(1),
            transmits: 0,
            deadline: None,
            answered: None,
            invitation: None,
            outgoing: VecDeque::new(),
            outcome: None,
            finished: false,
        }
    }

    /// Start waiting for the first Challenge.
    pub fn start(&mut self, now: Instant) {
        self.deadline = Some(now + self.restart_interval * self.max_transmits);
    }

    /// A Failure invited new credentials and nobody has answered it yet.
    pub fn awaiting_credentials(&self) -> bool {
        self.invitation.is_some()
    }

    /// A CHAP packet arrived.
    pub fn receive(&mut self, now: Instant, information: &[u8]) {
        if self.finished {
            return;
        }
        let repr = match ChapRepr::parse_bytes(information) {
            Ok(repr) => repr,
            Err(error) => {
                debug!(%error, "CHAP: malformed packet discarded");
                return;
            }
        };
        debug!("CHAP rcvd {repr}");
        let answers_us = |identifier| {
            self.answered
                .as_ref()
                .is_some_and(|answered| answered.identifier == identifier)
        };
        match repr {
            ChapRepr::Challenge {
                identifier, value, ..
            } => self.on_challenge(now, identifier, value),
            ChapRepr::Success {
                identifier,
                message,
            } if answers_us(identifier) && self.invitation.is_none() => self.on_success(&message),
            ChapRepr::Failure {
                identifier,
                message,
            } if answers_us(identifier) && self.invitation.is_none() => {
                self.on_failure(identifier, &message)
            }
            _ => debug!("CHAP: packet does not answer our Response, discarded"),
        }
    }

    fn on_challenge(&mut self, now: Instant, identifier: u8, challenge: Vec<u8>) {
        if self.invitation.is_some() {
            debug!("CHAP: Challenge while new credentials are awaited, discarded");
            return;
        }
        // RFC 1994 §4.1: a repeated Challenge means our Response was lost; answer it the
        // same way, so an MS-CHAPv2 Peer-Challenge stays the one the S= will cover.
        if let Some(answered) = &self.answered
            && answered.identifier == identifier
            && answered.challenge == challenge
        {
            self.outgoing.push_back(answered.packet.clone());
            return;
        }
        let (value, expected) = match self.algorithm {
            ChapAlgorithm::Md5 => (
                chap_md5_response(identifier, self.password.as_bytes(), &challenge).to_vec(),
                None,
            ),
            ChapAlgorithm::MsChapV2 => match ms_chap_v2_challenge(&challenge) {
                Ok(authenticator_challenge) => {
                    let (response, expected) =
                        self.ms_chap_v2_response(&authenticator_challenge, &self.password.clone());
                    (response.to_value(), Some(expected))
                }
                Err(error) => {
                    debug!(%error, "CHAP: Challenge discarded");
                    return;
                }
            },
        };
        let response = ChapRepr::Response {
            identifier,
            value,
            name: self.name.clone(),
        };
        self.send(now, identifier, challenge, response, expected);
    }

    /// RFC 2759 §4 Response value for `password`, with the `S=` it calls for (§8.7).
    fn ms_chap_v2_response(
        &mut self,
        authenticator_challenge: &[u8; 16],
        password: &str,
    ) -> (MsChapV2Response, [u8; 20]) {
        let peer_challenge: [u8; 16] = self.random.bytes();
        let nt_response = generate_nt_response(
            authenticator_challenge,
            &peer_challenge,
            &self.name,
            password,
        );
        let expected = generate_authenticator_response(
            &nt_password_hash(password),
            &nt_response,
            &peer_challenge,
            authenticator_challenge,
            &self.name,
        );
        let response = MsChapV2Response {
            peer_challenge,
            nt_response,
            flags: 0,
        };
        (response, expected)
    }

    fn send(
        &mut self,
        now: Instant,
        identifier: u8,
        challenge: Vec<u8>,
        repr: ChapRepr,
        expected: Option<[u8; 20]>,
    ) {
        debug!("CHAP sent {repr}");
        let packet = repr.to_bytes();
        self.outgoing.push_back(packet.clone());
        self.answered = Some(Answered {
            identifier,
            challenge,
            packet,
            expected,
        });
        self.transmits = 1;
        self.deadline = Some(now + self.restart_interval);
    }

    fn on_success(&mut self, message: &[u8]) {
        let expected = self
            .answered
            .as_ref()
            .and_then(|answered| answered.expected);
        let outcome = match expected {
            None => AuthOutcome::Succeeded(String::from_utf8_lossy(message).into_owned()),
            // RFC 2759 §5: a missing or wrong S= means the authenticator does not know
            // the password; the peer MUST end the session.
            Some(expected) => match SuccessMessage::parse(message) {
                Ok(success) if constant_time_eq(&success.authenticator_response.0, &expected) => {
                    AuthOutcome::Succeeded(success.message)
                }
                Ok(_) => AuthOutcome::ServerNotAuthenticated,
                Err(error) => {
                    debug!(%error, "CHAP: Success without a valid S=");
                    AuthOutcome::ServerNotAuthenticated
                }
            },
        };
        self.finish(outcome);
    }

    fn on_failure(&mut self, identifier: u8, message: &[u8]) {
        let failure = match self.algorithm {
            ChapAlgorithm::Md5 => AuthFailure::plain(String::from_utf8_lossy(message).into_owned()),
            ChapAlgorithm::MsChapV2 => match FailureMessage::parse(message) {
                Ok(failure) => {
                    // RFC 2759 §6 R=1, or §7 E=648: the Failure's C= is the challenge to
                    // answer. Without one there is nothing to answer.
                    let invited = failure.retry || failure.error == error_code::PASSWD_EXPIRED;
                    if let (true, Some(challenge)) = (invited, failure.challenge) {
                        self.invitation = Some(Invitation {
                            identifier: identifier.wrapping_add(1),
                            challenge,
                        });
                    }
                    AuthFailure {
                        message: failure.message,
                        error: Some(failure.error),
                        retry_allowed: failure.retry && self.invitation.is_some(),
                    }
                }
                Err(error) => {
                    debug!(%error, "CHAP: Failure message not in RFC 2759 §6 form");
                    AuthFailure::plain(String::from_utf8_lossy(message).into_owned())
                }
            },
        };
        if self.invitation.is_some() {
            // The caller is asking its user: no timer of ours runs meanwhile (the
            // authenticator bounds the wait, RFC 2759 §6).
            self.deadline = None;
            self.outcome = Some(AuthOutcome::Failed(failure));
        } else {
            self.finish(AuthOutcome::Failed(failure));
        }
    }

    /// RFC 2759 §6 retry: answer the Failure's `C=` challenge with new credentials.
    pub fn retry(
        &mut self,
        now: Instant,
        name: &str,
        password: &str,
    ) -> Result<(), AuthRetryError> {
        let invitation = self.invitation.take().ok_or(AuthRetryError::NotInvited)?;
        self.name = name.as_bytes().to_vec();
        self.password = password.to_owned();
        let (response, expected) = self.ms_chap_v2_response(&invitation.challenge, password);
        let repr = ChapRepr::Response {
            identifier: invitation.identifier,
            value: response.to_value(),
            name: self.name.clone(),
        };
        self.send(
            now,
            invitation.identifier,
            invitation.challenge.to_vec(),
            repr,
            Some(expected),
        );
        Ok(())
    }

    /// RFC 2759 §7 Change-Password: replace our password with `new_password`, proving
    /// knowledge of the old one. On Success, `new_password` is the password.
    pub fn change_password(
        &mut self,
        now: Instant,
        new_password: &str,
    ) -> Result<(), AuthRetryError> {
        let invitation = self.invitation.ok_or(AuthRetryError::NotInvited)?;
        // RFC 2759 §8.9: the new password in a PW block under the old password's hash.
        let encrypted_password = new_password_encrypted_with_old_nt_password_hash(
            new_password,
            &self.password,
            &mut self.random,
        )?;
        self.invitation = None;
        let encrypted_hash =
            old_nt_password_hash_encrypted_with_new_nt_password_hash(new_password, &self.password);
        let (response, expected) = self.ms_chap_v2_response(&invitation.challenge, new_password);
        self.password = new_password.to_owned();
        let repr = ChapRepr::ChangePassword {
            identifier: invitation.identifier,
            packet: Box::new(ChangePassword {
                encrypted_password,
                encrypted_hash,
                peer_challenge: response.peer_challenge,
                nt_response: response.nt_response,
                flags: 0,
            }),
        };
        self.send(
            now,
            invitation.identifier,
            invitation.challenge.to_vec(),
            repr,
            Some(expected),
        );
        Ok(())
    }

    fn finish(&mut self, outcome: AuthOutcome) {
        self.deadline = None;
        self.finished = true;
        self.outcome = Some(outcome);
    }

    /// The restart timer: send the Response again, or give up once it has gone out
    /// `max_transmits` times (or no Challenge came at all).
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_none_or(|deadline| deadline > now) {
            return;
        }
        match &self.answered {
            Some(answered) if self.transmits < self.max_transmits => {
                debug!(
                    transmits = self.transmits,
                    "CHAP: no Success or Failure yet, Response sent again"
                );
                self.outgoing.push_back(answered.packet.clone());
                self.transmits += 1;
                self.deadline = Some(now + self.restart_interval);
            }
            _ => self.finish(AuthOutcome::TimedOut),
        }
    }

    /// When we give up waiting.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// The next CHAP packet to send.
    pub fn poll_packet(&mut self) -> Option<Vec<u8>> {
        self.outgoing.pop_front()
    }

    /// How it ended, or a Failure that awaits new credentials (reported once each).
    pub fn take_outcome(&mut self) -> Option<AuthOutcome> {
        self.outcome.take()
    }
}

/// Equal, compared without an early exit.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// What a Response or Change-Password proved, once checked against the account's password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// The response was computed from the account's password.
    Valid,
    /// No such account, or a response that does not match its password.
    Invalid,
    /// An MS-CHAPv2 Change-Password from a peer that knows the old password (RFC 2759 §7):
    /// the new password, with which the response was computed.
    NewPassword(String),
}

/// A Response or Change-Password the authenticator's caller must decide on with
/// [`ChapServer::answer`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChapAttempt {
    /// The peer's name as sent (for Change-Password, the name of the Response before it).
    pub name: String,
    /// What the packet proved.
    pub proof: Proof,
}

/// The authenticator's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChapVerdict {
    /// Success.
    Accept,
    /// Failure. MS-CHAPv2 sends `error` as `E=` and, with `retry`, invites another
    /// Response (`R=1` and a new `C=`); [`error_code::PASSWD_EXPIRED`] invites a
    /// Change-Password. CHAP-MD5 has neither: the failure is final.
    Reject {
        /// MS-CHAPv2 `E=` (RFC 2759 §6).
        error: u32,
        /// MS-CHAPv2 `R=1`.
        retry: bool,
    },
}

/// Where the authenticator stands.
#[derive(Debug, Clone)]
enum ServerState {
    /// Not started.
    Idle,
    /// A Challenge is out; it is repeated on the restart timer.
    Challenged {
        packet: Vec<u8>,
        sent: u32,
        deadline: Instant,
    },
    /// A Response or Change-Password awaits the caller's [`ChapServer::answer`].
    Deciding {
        identifier: u8,
        /// MS-CHAPv2: the `S=` owed if the caller accepts.
        authenticator_response: Option<AuthenticatorResponse>,
    },
    /// A Failure invited a retry or a Change-Password.
    Invited { until: Instant },
    /// Answered for good; a repeated Response gets the same answer (RFC 1994 §4.2).
    Answered { identifier: u8, packet: Vec<u8> },
    /// Nothing came in time.
    GaveUp,
}

/// The authenticator's side (the server).
#[derive(Debug)]
pub struct ChapServer {
    algorithm: ChapAlgorithm,
    name: Vec<u8>,
    random: Random,
    restart_interval: Duration,
    max_challenges: u32,
    invitation_wait: Duration,
    identifier: u8,
    /// The challenge the next Response answers (a Challenge's value, or a Failure's `C=`).
    challenge: Vec<u8>,
    /// The Identifier the next Response or Change-Password must carry.
    expected_identifier: u8,
    /// MS-CHAPv2: who the last Response said it was (Change-Password names nobody).
    peer_name: Vec<u8>,
    state: ServerState,
    outgoing: VecDeque<Vec<u8>>,
}

impl ChapServer {
    /// An authenticator called `name` that sends at most `max_challenges` Challenges,
    /// `restart_interval` apart (RFC 1994 §4.1), and waits `invitation_wait` for the answer
    /// to a Failure that invites one.
    pub fn new(
        algorithm: ChapAlgorithm,
        name: &str,
        restart_interval: Duration,
        max_challenges: u32,
        invitation_wait: Duration,
        random: Random,
    ) -> Self {
        ChapServer {
            algorithm,
            name: name.as_bytes().to_vec(),
            random,
            restart_interval,
            max_challenges: max_challenges.max(1),
            invitation_wait,
            identifier: 0,
            challenge: Vec::new(),
            expected_identifier: 0,
            peer_name: Vec::new(),
            state: ServerState::Idle,
            outgoing: VecDeque::new(),
        }
    }

    /// Send the first Challenge.
    pub fn start(&mut self, now: Instant) {
        // RFC 1994 §4.1: a fresh Identifier and value for each Challenge. RFC 2759 §3
        // fixes 16 octets for MS-CHAPv2; we use as many for MD5.
        self.identifier = self.identifier.wrapping_add(1);
        self.expected_identifier = self.identifier;
        let challenge: [u8; 16] = self.random.bytes();
        self.challenge = challenge.to_vec();
        let repr = ChapRepr::Challenge {
            identifier: self.identifier,
            value: self.challenge.clone(),
            name: self.name.clone(),
        };
        debug!("CHAP sent {repr}");
        let packet = repr.to_bytes();
        self.outgoing.push_back(packet.clone());
        self.state = ServerState::Challenged {
            packet,
            sent: 1,
            deadline: now + self.restart_interval,
        };
    }

    /// A Failure invited a retry or a Change-Password and its answer has not come yet.
    pub fn awaiting_answer(&self) -> bool {
        matches!(self.state, ServerState::Invited { .. })
    }

    /// The authenticator gave up: no Response to its Challenges, or no answer to an
    /// invitation in time. The caller should end the link.
    pub fn gave_up(&self) -> bool {
        matches!(self.state, ServerState::GaveUp)
    }

    /// A CHAP packet arrived. Returns an attempt the caller must [`ChapServer::answer`];
    /// `password` looks up an account's password by the name the peer sent.
    pub fn receive(
        &mut self,
        information: &[u8],
        password: impl FnOnce(&str) -> Option<String>,
    ) -> Option<ChapAttempt> {
        let repr = match ChapRepr::parse_bytes(information) {
            Ok(repr) => repr,
            Err(error) => {
                debug!(%error, "CHAP: malformed packet discarded");
                return None;
            }
        };
        debug!("CHAP rcvd {repr}");
        match (&self.state, repr) {
            // RFC 1994 §4.2: a repeated Response gets the answer again.
            (
                ServerState::Answered {
                    identifier: answered,
                    packet,
                },
                ChapRepr::Response { identifier, .. },
            ) if *answered == identifier => {
                self.outgoing.push_back(packet.clone());
                None
            }
            (
                ServerState::Challenged { .. } | ServerState::Invited { .. },
                ChapRepr::Response {
                    identifier,
                    value,
                    name,
                },
            ) if identifier == self.expected_identifier => {
                self.peer_name = name;
                let name = String::from_utf8_lossy(&self.peer_name).into_owned();
                let known = password(&name);
                let (proof, authenticator_response) = self.check_response(&value, known);
                self.state = ServerState::Deciding {
                    identifier,
                    authenticator_response,
                };
                Some(ChapAttempt { name, proof })
            }
            (ServerState::Invited { .. }, ChapRepr::ChangePassword { identifier, packet })
                if identifier == self.expected_identifier
                    && self.algorithm == ChapAlgorithm::MsChapV2 =>
            {
                let name = String::from_utf8_lossy(&self.peer_name).into_owned();
                let known = password(&name);
                let (proof, authenticator_response) = self.check_change_password(&packet, known);
                self.state = ServerState::Deciding {
                    identifier,
                    authenticator_response,
                };
                Some(ChapAttempt { name, proof })
            }
            _ => {
                debug!("CHAP: packet not expected now, discarded");
                None
            }
        }
    }

    fn check_response(
        &self,
        value: &[u8],
        password: Option<String>,
    ) -> (Proof, Option<AuthenticatorResponse>) {
        let Some(password) = password else {
            return (Proof::Invalid, None);
        };
        match self.algorithm {
            ChapAlgorithm::Md5 => {
                let expected = chap_md5_response(
                    self.expected_identifier,
                    password.as_bytes(),
                    &self.challenge,
                );
                let proof = if constant_time_eq(&expected, value) {
                    Proof::Valid
                } else {
                    Proof::Invalid
                };
                (proof, None)
            }
            ChapAlgorithm::MsChapV2 => {
                let Ok(response) = MsChapV2Response::parse(value) else {
                    return (Proof::Invalid, None);
                };
                match self.ms_chap_v2_proof(
                    &password,
                    &response.peer_challenge,
                    &response.nt_response,
                ) {
                    Some(authenticator_response) => (Proof::Valid, Some(authenticator_response)),
                    None => (Proof::Invalid, None),
                }
            }
        }
    }

    /// RFC 2759 §7: decrypt the new password with the old hash, check the Encrypted-Hash,
    /// then check the NT-Response as computed with the new password.
    fn check_change_password(
        &self,
        packet: &ChangePassword,
        old_password: Option<String>,
    ) -> (Proof, Option<AuthenticatorResponse>) {
        let Some(old_password) = old_password else {
            return (Proof::Invalid, None);
        };
        let new_password = match recover_new_password(
            &packet.encrypted_password,
            &packet.encrypted_hash,
            &nt_password_hash(&old_password),
        ) {
            Ok(new_password) => new_password,
            Err(error) => {
                debug!(%error, "CHAP: Change-Password refused");
                return (Proof::Invalid, None);
            }
        };
        match self.ms_chap_v2_proof(&new_password, &packet.peer_challenge, &packet.nt_response) {
            Some(authenticator_response) => (
                Proof::NewPassword(new_password),
                Some(authenticator_response),
            ),
            None => (Proof::Invalid, None),
        }
    }

    /// The `S=` owed for an NT-Response computed from `password`, or `None` if it was not.
    fn ms_chap_v2_proof(
        &self,
        password: &str,
        peer_challenge: &[u8; 16],
        nt_response: &[u8; 24],
    ) -> Option<AuthenticatorResponse> {
        let authenticator_challenge = ms_chap_v2_challenge(&self.challenge).ok()?;
        let expected = generate_nt_response(
            &authenticator_challenge,
            peer_challenge,
            &self.peer_name,
            password,
        );
        if !constant_time_eq(&expected, nt_response) {
            return None;
        }
        let hash: NtHash = nt_password_hash(password);
        Some(AuthenticatorResponse(generate_authenticator_response(
            &hash,
            nt_response,
            peer_challenge,
            &authenticator_challenge,
            &self.peer_name,
        )))
    }

    /// Answer the pending attempt with `verdict` and the human-readable `message`.
    pub fn answer(&mut self, now: Instant, verdict: ChapVerdict, message: &str) {
        let ServerState::Deciding {
            identifier,
            authenticator_response,
        } = self.state.clone()
        else {
            return;
        };
        let (repr, invited) = match (verdict, self.algorithm) {
            (ChapVerdict::Accept, ChapAlgorithm::Md5) => (
                ChapRepr::Success {
                    identifier,
                    message: message.as_bytes().to_vec(),
                },
                false,
            ),
            (ChapVerdict::Accept, ChapAlgorithm::MsChapV2) => {
                let message = match authenticator_response {
                    Some(authenticator_response) => SuccessMessage {
                        authenticator_response,
                        message: message.to_owned(),
                    }
                    .to_bytes(),
                    // Accepting an unproven peer leaves no S= to send; say so plainly
                    // rather than forge one (the peer will refuse us, RFC 2759 §5).
                    None => message.as_bytes().to_vec(),
                };
                (
                    ChapRepr::Success {
                        identifier,
                        message,
                    },
                    false,
                )
            }
            (ChapVerdict::Reject { .. }, ChapAlgorithm::Md5) => (
                ChapRepr::Failure {
                    identifier,
                    message: message.as_bytes().to_vec(),
                },
                false,
            ),
            (ChapVerdict::Reject { error, retry }, ChapAlgorithm::MsChapV2) => {
                // RFC 2759 §6: C= MUST be present; it is the challenge a retry or a
                // Change-Password answers.
                let challenge: [u8; 16] = self.random.bytes();
                let invited = retry || error == error_code::PASSWD_EXPIRED;
                if invited {
                    self.challenge = challenge.to_vec();
                    self.expected_identifier = identifier.wrapping_add(1);
                }
                let failure = FailureMessage {
                    error,
                    retry,
                    challenge: Some(challenge),
                    version: Some(PASSWORD_CHANGE_VERSION),
                    message: message.to_owned(),
                };
                (
                    ChapRepr::Failure {
                        identifier,
                        message: failure.to_bytes(),
                    },
                    invited,
                )
            }
        };
        debug!("CHAP sent {repr}");
        let packet = repr.to_bytes();
        self.outgoing.push_back(packet.clone());
        self.state = if invited {
            ServerState::Invited {
                until: now + self.invitation_wait,
            }
        } else {
            ServerState::Answered { identifier, packet }
        };
    }

    /// Repeat the Challenge, or give up, if the timer is due.
    pub fn handle_timeout(&mut self, now: Instant) {
        match &mut self.state {
            ServerState::Challenged {
                packet,
                sent,
                deadline,
            } if *deadline <= now => {
                if *sent < self.max_challenges {
                    *sent += 1;
                    *deadline = now + self.restart_interval;
                    self.outgoing.push_back(packet.clone());
                } else {
                    debug!("CHAP: no Response to any Challenge");
                    self.state = ServerState::GaveUp;
                }
            }
            ServerState::Invited { until } if *until <= now => {
                debug!("CHAP: no answer to the Failure's invitation");
                self.state = ServerState::GaveUp;
            }
            _ => {}
        }
    }

    /// The next deadline: the restart timer while challenging, the invitation's end while
    /// invited.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.state {
            ServerState::Challenged { deadline, .. } => Some(*deadline),
            ServerState::Invited { until } => Some(*until),
            _ => None,
        }
    }

    /// The next CHAP packet to send.
    pub fn poll_packet(&mut self) -> Option<Vec<u8>> {
        self.outgoing.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn pair(algorithm: ChapAlgorithm, password: &str) -> (ChapClient, ChapServer) {
        let client = ChapClient::new(
            algorithm,
            "CORP\\alice",
            password,
            SECOND * 3,
            10,
            Random::seeded(1),
        );
        let server = ChapServer::new(
            algorithm,
            "server",
            SECOND * 3,
            3,
            SECOND * 60,
            Random::seeded(2),
        );
        (client, server)
    }

    /// The account database of these tests: alice's password is "secret".
    fn accounts(name: &str) -> Option<String> {
        (name == "CORP\\alice").then(|| "secret".to_owned())
    }

    /// Carry the client's packets to the server; the attempt it has to decide on, if any.
    fn to_server(client: &mut ChapClient, server: &mut ChapServer) -> Option<ChapAttempt> {
        let mut attempt = None;
        while let Some(packet) = client.poll_packet() {
            attempt = server.receive(&packet, accounts).or(attempt);
        }
        attempt
    }

    fn to_client(now: Instant, server: &mut ChapServer, client: &mut ChapClient) {
        while let Some(packet) = server.poll_packet() {
            client.receive(now, &packet);
        }
    }

    /// Challenge, then the Response to it.
    fn challenge(client: &mut ChapClient, server: &mut ChapServer) -> ChapAttempt {
        let now = Instant::ZERO;
        client.start(now);
        server.start(now);
        to_client(now, server, client);
        to_server(client, server).unwrap()
    }

    #[test]
    fn md5_success_and_failure() {
        for (password, proof, verdict, outcome) in [
            (
                "secret",
                Proof::Valid,
                ChapVerdict::Accept,
                AuthOutcome::Succeeded("Welcome".into()),
            ),
            (
                "guess",
                Proof::Invalid,
                ChapVerdict::Reject {
                    error: error_code::AUTHENTICATION_FAILURE,
                    retry: true,
                },
                AuthOutcome::Failed(AuthFailure::plain("Welcome".into())),
            ),
        ] {
            let (mut client, mut server) = pair(ChapAlgorithm::Md5, password);
            let attempt = challenge(&mut client, &mut server);
            assert_eq!(
                attempt,
                ChapAttempt {
                    name: "CORP\\alice".into(),
                    proof
                }
            );
            server.answer(Instant::ZERO, verdict, "Welcome");
            to_client(Instant::ZERO, &mut server, &mut client);
            assert_eq!(client.take_outcome(), Some(outcome));
            // MD5 has no retry: the failure is final for both.
            assert!(!client.awaiting_credentials());
            assert_eq!(server.poll_timeout(), None);
        }
    }

    #[test]
    fn ms_chap_v2_success_checks_the_authenticator_response() {
        let (mut client, mut server) = pair(ChapAlgorithm::MsChapV2, "secret");
        assert_eq!(challenge(&mut client, &mut server).proof, Proof::Valid);
        server.answer(Instant::ZERO, ChapVerdict::Accept, "Welcome");
        let success = server.poll_packet().unwrap();
        // A repeated Response gets the same Success (RFC 1994 §4.2).
        let repeat = client.answered.as_ref().unwrap().packet.clone();
        assert_eq!(server.receive(&repeat, accounts), None);
        assert_eq!(server.poll_packet(), Some(success.clone()));

        // A forged S= (one bit off) is refused.
        let (mut forged_client, _) = pair(ChapAlgorithm::MsChapV2, "secret");
        forged_client.answered = client.answered.clone();
        let Ok(ChapRepr::Success {
            identifier,
            message,
        }) = ChapRepr::parse_bytes(&success)
        else {
            panic!("not a Success");
        };
        let mut forged = SuccessMessage::parse(&message).unwrap();
        forged.authenticator_response.0[0] ^= 1;
        let forged = ChapRepr::Success {
            identifier,
            message: forged.to_bytes(),
        };
        forged_client.receive(Instant::ZERO, &forged.to_bytes());
        assert_eq!(
            forged_client.take_outcome(),
            Some(AuthOutcome::ServerNotAuthenticated)
        );

        client.receive(Instant::ZERO, &success);
        assert_eq!(
            client.take_outcome(),
            Some(AuthOutcome::Succeeded("Welcome".into()))
        );
    }

    #[test]
    fn ms_chap_v2_retry_with_new_credentials() {
        let (mut client, mut server) = pair(ChapAlgorithm::MsChapV2, "guess");
        assert_eq!(challenge(&mut client, &mut server).proof, Proof::Invalid);
        let now = Instant::ZERO + SECOND;
        server.answer(
            now,
            ChapVerdict::Reject {
                error: error_code::AUTHENTICATION_FAILURE,
                retry: true,
            },
            "Try again",
        );
        // The authenticator now waits for the retry, not forever.
        assert_eq!(server.poll_timeout(), Some(now + SECOND * 60));
        to_client(now, &mut server, &mut client);
        assert_eq!(
            client.take_outcome(),
            Some(AuthOutcome::Failed(AuthFailure {
                message: "Try again".into(),
                error: Some(691),
                retry_allowed: true,
            }))
        );
        assert!(client.awaiting_credentials());
        assert_eq!(client.poll_timeout(), None);
        // Only the invitation's answers are possible, and only once.
        client.retry(now, "CORP\\alice", "secret").unwrap();
        assert_eq!(
            client.retry(now, "CORP\\alice", "secret"),
            Err(AuthRetryError::NotInvited)
        );
        let attempt = to_server(&mut client, &mut server).unwrap();
        assert_eq!(attempt.proof, Proof::Valid);
        server.answer(now, ChapVerdict::Accept, "Welcome");
        to_client(now, &mut server, &mut client);
        assert_eq!(
            client.take_outcome(),
            Some(AuthOutcome::Succeeded("Welcome".into()))
        );
    }

    #[test]
    fn ms_chap_v2_expired_password_is_changed() {
        let (mut client, mut server) = pair(ChapAlgorithm::MsChapV2, "secret");
        assert_eq!(challenge(&mut client, &mut server).proof, Proof::Valid);
        let now = Instant::ZERO;
        server.answer(
            now,
            ChapVerdict::Reject {
                error: error_code::PASSWD_EXPIRED,
                retry: false,
            },
            "Password expired",
        );
        to_client(now, &mut server, &mut client);
        assert_eq!(
            client.take_outcome(),
            Some(AuthOutcome::Failed(AuthFailure {
                message: "Password expired".into(),
                error: Some(648),
                retry_allowed: false,
            }))
        );
        assert_eq!(
            client.change_password(now, &"x".repeat(300)),
            Err(AuthRetryError::PasswordChange(
                PasswordChangeError::TooLong { units: 300 }
            ))
        );
        client.change_password(now, "n3w").unwrap();
        let attempt = to_server(&mut client, &mut server).unwrap();
        assert_eq!(
            attempt,
            ChapAttempt {
                name: "CORP\\alice".into(),
                proof: Proof::NewPassword("n3w".into())
            }
        );
        server.answer(now, ChapVerdict::Accept, "Changed");
        to_client(now, &mut server, &mut client);
        // The S= was computed with the new password, and the client checked it.
        assert_eq!(
            client.take_outcome(),
            Some(AuthOutcome::Succeeded("Changed".into()))
        );
    }

    #[test]
    fn a_change_password_with_the_wrong_old_password_proves_nothing() {
        let (mut client, mut server) = pair(ChapAlgorithm::MsChapV2, "not-secret");
        challenge(&mut client, &mut server);
        server.answer(
            Instant::ZERO,
            ChapVerdict::Reject {
                error: error_code::PASSWD_EXPIRED,
                retry: false,
            },
            "",
        );
        to_client(Instant::ZERO, &mut server, &mut client);
        client.change_password(Instant::ZERO, "n3w").unwrap();
        assert_eq!(
            to_server(&mut client, &mut server).unwrap().proof,
            Proof::Invalid
        );
    }

    #[test]
    fn server_repeats_its_challenge_then_gives_up() {
        let (mut client, mut server) = pair(ChapAlgorithm::MsChapV2, "secret");
        server.start(Instant::ZERO);
        let first = server.poll_packet().unwrap();
        client.start(Instant::ZERO);
        client.receive(Instant::ZERO, &first);
        let response = client.poll_packet().unwrap();
        // The Response is lost; the same Challenge comes again and gets the same Response.
        while let Some(deadline) = server.poll_timeout() {
            server.handle_timeout(deadline);
            if let Some(again) = server.poll_packet() {
                assert_eq!(again, first);
                client.receive(deadline, &again);
                assert_eq!(client.poll_packet(), Some(response.clone()));
            }
        }
        assert!(server.gave_up());
        // The client gives up too, once its Response has gone out Max-Configure times on
        // its own restart timer with nothing coming back.
        let mut resent = 0;
        while let Some(deadline) = client.poll_timeout() {
            client.handle_timeout(deadline);
            while let Some(again) = client.poll_packet() {
                assert_eq!(again, response);
                resent += 1;
            }
        }
        assert_eq!(resent, 9);
        assert_eq!(client.take_outcome(), Some(AuthOutcome::TimedOut));
    }

    /// Issue 16 #11: the Success is lost; the client sends its Response again on the
    /// restart timer and the authenticator, already done, answers it again (RFC 1994
    /// §4.2), so the client succeeds after all.
    #[test]
    fn a_lost_success_is_recovered_by_resending_the_response() {
        for algorithm in [ChapAlgorithm::Md5, ChapAlgorithm::MsChapV2] {
            let (mut client, mut server) = pair(algorithm, "secret");
            challenge(&mut client, &mut server);
            server.answer(Instant::ZERO, ChapVerdict::Accept, "Welcome");
            let lost = server.poll_packet().expect("a Success");
            assert!(!lost.is_empty());
            assert_eq!(client.take_outcome(), None);
            let deadline = client.poll_timeout().expect("the restart timer");
            assert_eq!(deadline, Instant::ZERO + SECOND * 3, "{algorithm:?}");
            client.handle_timeout(deadline);
            // Already answered: no new decision, the same Success again.
            assert_eq!(to_server(&mut client, &mut server), None, "{algorithm:?}");
            let success = server.poll_packet().expect("the Success again");
            client.receive(deadline, &success);
            assert!(
                matches!(client.take_outcome(), Some(AuthOutcome::Succeeded(_))),
                "{algorithm:?}"
            );
        }
    }

    #[test]
    fn an_unanswered_invitation_ends() {
        let (mut client, mut server) = pair(ChapAlgorithm::MsChapV2, "guess");
        challenge(&mut client, &mut server);
        server.answer(
            Instant::ZERO,
            ChapVerdict::Reject {
                error: 691,
                retry: true,
            },
            "",
        );
        let until = server.poll_timeout().unwrap();
        server.handle_timeout(Instant::ZERO + SECOND * 59);
        assert!(!server.gave_up());
        server.handle_timeout(until);
        assert!(server.gave_up());
    }

    #[test]
    fn answers_with_the_wrong_identifier_are_ignored() {
        let (mut client, mut server) = pair(ChapAlgorithm::Md5, "secret");
        challenge(&mut client, &mut server);
        let identifier = client.answered.as_ref().unwrap().identifier;
        let stray = ChapRepr::Success {
            identifier: identifier.wrapping_add(9),
            message: vec![],
        };
        client.receive(Instant::ZERO, &stray.to_bytes());
        assert_eq!(client.take_outcome(), None);
        // An MS-CHAPv2 challenge of the wrong size is not answered.
        let (mut client, _) = pair(ChapAlgorithm::MsChapV2, "secret");
        let odd = ChapRepr::Challenge {
            identifier: 1,
            value: vec![0; 8],
            name: vec![],
        };
        client.receive(Instant::ZERO, &odd.to_bytes());
        assert_eq!(client.poll_packet(), None);
    }
}
