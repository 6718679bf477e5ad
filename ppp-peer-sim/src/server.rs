//! The server role: LCP demanding the script's authentication, PAP, CHAP-MD5, MS-CHAPv2 or
//! EAP (MD5, MS-CHAPv2, GTC) checked against the script's accounts (with their scripted
//! outcomes), callback control (MS-CBCP) when the client asks for it, IPCP assigning the
//! script's addresses.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use ras_ppp::cbcp::{CallbackPrivilege, CbcpOutcome, CbcpServer, CbcpServerConfig};
use ras_ppp::chap::{ChapAlgorithm, ChapAttempt, ChapServer, ChapVerdict, Proof};
use ras_ppp::eap::{EapAttempt, EapAuthenticator, EapAuthenticatorConfig, EapProof};
use ras_ppp::fsm::{Event, FsmConfig, LayerEvent, State};
use ras_ppp::hdlc::{Decoder, Encoder, Frame, ReceiveAccm, flag_segments};
use ras_ppp::ipcp::{Ipcp, IpcpConfig, new_ipcp};
use ras_ppp::lcp::{Lcp, LcpConfig, LcpExtensions, MultilinkConfig, new_lcp};
use ras_ppp::mp::{BundleConfig, BundleId, BundleKey, BundleTable, Joined, LinkId, MpEvent};
use ras_ppp::mschapv2::user_name_without_domain;
use ras_ppp::pap::PapServer;
use ras_ppp::random::{Entropy, Random, SeededRandom};
use ras_ppp::wire::Protocol;
use ras_ppp::wire::chap::error_code;
use ras_ppp::wire::eap::EapMethod;
use ras_ppp::wire::lcp::{CallbackOperation, EndpointClass, EndpointDiscriminator};
use ras_ppp::{AuthProtocol, Phase};
use sansio::{Duration, Instant, LinePeer, Machine, PeerEvent};
use tracing::{debug, info};

use crate::fault::{Arrival, FaultInjector, Faults};
use crate::login::{LoginProgress, TerminalLogin};
use crate::script::{Account, AccountOutcome, AuthMode, Callback, Script};

/// The server's Endpoint Discriminator (RFC 1990 §5.1.3): class 1, Locally Assigned
/// Address, the same on every call so a client sees one system behind all its links.
fn server_discriminator() -> EndpointDiscriminator {
    EndpointDiscriminator {
        class: EndpointClass::Local,
        address: b"ppp-peer-sim".to_vec(),
    }
}

/// What the server says in Authenticate-Ack and CHAP Success.
const WELCOME: &str = "Welcome";

/// The name in our CHAP Challenges (RFC 1994 §4.1).
const CHAP_NAME: &str = "ppp-peer-sim";

/// How long the server waits for the answer to an MS-CHAPv2 Failure that invites one (a
/// retry, R=1, or a Change-Password after E=648). RFC 2759 §6: with R=1 the authenticator
/// "disables short timeouts, expecting the peer to prompt the user for new credentials";
/// the RFC names no figure. Two minutes lets a person retype a password, and is four
/// times the 30 s we give a client to authenticate at all.
const INVITATION_WAIT: Duration = Duration::from_secs(120);

/// What the server says when it refuses, by MS-CHAPv2 error code (RFC 2759 §6).
fn refusal_message(error: u32) -> &'static str {
    match error {
        error_code::RESTRICTED_LOGON_HOURS => "Not permitted to log on at this time",
        error_code::ACCT_DISABLED => "Account disabled",
        error_code::PASSWD_EXPIRED => "Password expired",
        error_code::NO_DIALIN_PERMISSION => "No dial-in permission",
        _ => "Authentication failure",
    }
}

/// The server's decision on an authentication attempt, whichever protocol carried it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Accept,
    /// Refused, with the MS-CHAPv2 code that says why (only MS-CHAPv2 sends it).
    Refuse {
        error: u32,
    },
}

/// How long the server waits for an Authenticate-Request once LCP is open: as long as a
/// client retransmits it (Max-Configure × restart timer, RFC 1334 §2.2.1 with RFC 1661 §4.6
/// defaults). RFC 1334 leaves the authenticator's patience open.
fn auth_wait() -> Duration {
    let fsm = FsmConfig::default();
    fsm.restart_interval * fsm.max_configure
}

/// Mixed into the caller's seed so a client and a server given the same seed still draw
/// different Magic-Numbers (equal ones look like a looped line, RFC 1661 §6.4).
const SERVER_SEED_SALT: u32 = 0x5345_5256; // "SERV"

/// Which call of a dial the server is answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leg {
    /// The client called: a callback may be agreed.
    Called,
    /// The server called the client back: no callback is offered again.
    CalledBack,
}

/// A scripted PPP server (sans-IO). It stays quiet until the client's first bytes arrive,
/// then sends its own Configure-Request and follows the script; once the link is finished
/// it reports [`PeerEvent::HangUp`] and ignores the line.
#[derive(Debug)]
pub struct Server {
    script: Script,
    /// Where the randomness comes from, as given (the callback leg's server draws from it
    /// afresh).
    entropy: Entropy,
    leg: Leg,
    phase: Phase,
    decoder: Decoder,
    encoder: Encoder,
    lcp: Lcp,
    pap: PapServer,
    chap: Option<ChapServer>,
    eap: Option<EapAuthenticator>,
    ipcp: Ipcp,
    /// The accounts as they stand now: `fail` counts down, a changed password replaces the
    /// old one.
    accounts: BTreeMap<String, Account>,
    /// Refusals (E=691) so far, against the script's `retries`.
    refusals: u32,
    /// Where CHAP challenges come from, and the seed of the next CHAP exchange's stream
    /// when they come from a seed (the fallback's seed otherwise).
    chap_entropy: Entropy,
    chap_seed: u64,
    /// When we give up waiting for an Authenticate-Request.
    auth_deadline: Option<Instant>,
    /// The account that authenticated (its callback privilege applies).
    authenticated: Option<String>,
    /// Callback control, between authentication and the Network phase.
    cbcp: Option<CbcpServer>,
    /// The callback agreed and the fault it runs under, carried out once LCP has finished.
    calling_back: Option<(String, Duration, Callback)>,
    /// The script's fault steps, applied to the frames each way.
    faults: FaultInjector,
    /// The text login still running before PPP, if the script has one.
    login: Option<TerminalLogin>,
    hung_up: bool,
    /// The bundles of this server process (RFC 1990 §5.1.3), shared by its calls.
    bundles: Bundles,
    /// The bundle this call's link joined, once authenticated with multilink agreed.
    member: Option<Joined>,
    /// The login's last text, sent before any frame.
    text: VecDeque<Vec<u8>>,
    transmit: VecDeque<Vec<u8>>,
    events: VecDeque<PeerEvent>,
}

impl Server {
    /// A server playing `script`, its Magic-Numbers and CHAP challenges drawn from
    /// `magic_seed`: the same seed gives the same bytes.
    pub fn new(script: Script, magic_seed: u32) -> Self {
        Server::with_entropy(script, Entropy::Seed(magic_seed))
    }

    /// A server playing `script`, its Magic-Numbers and CHAP challenges drawn from
    /// `entropy` (the system's generator when it serves real dialers).
    pub fn with_entropy(script: Script, entropy: Entropy) -> Self {
        Server::answering(script, entropy, Leg::Called, Bundles::default())
    }

    /// A server answering one call of a server process whose calls share `bundles`: a
    /// link that agreed on multilink joins the bundle of its peer's Endpoint Discriminator
    /// and authenticated name (RFC 1990 §5.1.3), up to the script's `max-links`.
    pub fn in_process(script: Script, entropy: Entropy, bundles: &Bundles) -> Self {
        Server::answering(script, entropy, Leg::Called, bundles.clone())
    }

    fn answering(script: Script, given_entropy: Entropy, leg: Leg, bundles: Bundles) -> Self {
        let entropy = match given_entropy {
            Entropy::Seed(seed) => Entropy::Seed(seed ^ SERVER_SEED_SALT),
            Entropy::Os => Entropy::Os,
        };
        let require_auth = match script.auth {
            AuthMode::Pap => Some(AuthProtocol::Pap),
            AuthMode::ChapMd5 => Some(AuthProtocol::ChapMd5),
            AuthMode::MsChapV2 => Some(AuthProtocol::MsChapV2),
            AuthMode::Eap => Some(AuthProtocol::Eap),
            AuthMode::None => None,
        };
        let mut lcp = new_lcp(
            LcpConfig {
                entropy,
                require_auth,
                accept_auth: Vec::new(),
                peer_options: script.faults.peer_option_policy(),
                // A RAS server agrees to run CBCP (MS-CBCP §2.2.1) on the call it answered;
                // on the call it placed there is nothing more to agree.
                extensions: LcpExtensions {
                    accept_callback: match leg {
                        Leg::Called => vec![CallbackOperation::Cbcp],
                        Leg::CalledBack => Vec::new(),
                    },
                    // RFC 1990 §5.1: the server's own MRRU and a discriminator of its own
                    // (class 1, locally assigned) so the client can tell it is one system.
                    multilink: script.multilink.accept.then(|| MultilinkConfig {
                        mrru: script.multilink.mrru,
                        short_sequence: false,
                        discriminator: Some(server_discriminator()),
                    }),
                    ..LcpExtensions::default()
                },
                ..LcpConfig::default()
            },
            FsmConfig::default(),
        );
        // Administrative Open now; the lower layer comes up with the first bytes.
        lcp.open(Instant::ZERO);
        let ipcp = new_ipcp(
            IpcpConfig {
                local: script.address.server,
                request_dns: false,
                assign_peer: Some(script.address.client),
                dns_servers: script.dns.clone(),
            },
            FsmConfig::default(),
        );
        Server {
            faults: FaultInjector::new(script.faults.clone()),
            // The server's own call goes straight to PPP: the caller, called back, runs no
            // login script [inferred].
            login: match leg {
                Leg::Called => script.login.clone().map(TerminalLogin::new),
                Leg::CalledBack => None,
            },
            accounts: script.users.clone(),
            script,
            entropy: given_entropy,
            leg,
            phase: Phase::Dead,
            decoder: Decoder::default(),
            encoder: Encoder::default(),
            lcp,
            pap: PapServer::default(),
            chap: None,
            eap: None,
            ipcp,
            refusals: 0,
            chap_entropy: entropy,
            chap_seed: match entropy {
                Entropy::Seed(seed) => u64::from(seed),
                Entropy::Os => 0,
            },
            auth_deadline: None,
            authenticated: None,
            cbcp: None,
            calling_back: None,
            hung_up: false,
            bundles,
            member: None,
            text: VecDeque::new(),
            transmit: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// As the boxed [`LinePeer`] a modem simulator connects callers to.
    pub fn boxed(self) -> LinePeer {
        Box::new(self)
    }

    /// The current RFC 1661 §3 phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// An account as it stands now (after any password change), by the name a client
    /// would send (`DOMAIN\\` prefix allowed).
    pub fn account(&self, name: &str) -> Option<&Account> {
        self.accounts.get(account_name(&self.accounts, name)?)
    }

    fn flush(&mut self) {
        while let Some(packet) = self.lcp.poll_packet() {
            self.transmit
                .push_back(self.encoder.encode(Protocol::LCP, &packet));
        }
        while let Some(packet) = self.pap.poll_packet() {
            self.transmit
                .push_back(self.encoder.encode(Protocol::PAP, &packet));
        }
        if let Some(chap) = &mut self.chap {
            while let Some(packet) = chap.poll_packet() {
                self.transmit
                    .push_back(self.encoder.encode(Protocol::CHAP, &packet));
            }
        }
        if let Some(cbcp) = &mut self.cbcp {
            while let Some(packet) = cbcp.poll_packet() {
                self.transmit
                    .push_back(self.encoder.encode(Protocol::CBCP, &packet));
            }
        }
        if let Some(eap) = &mut self.eap {
            while let Some(packet) = eap.poll_packet() {
                self.transmit
                    .push_back(self.encoder.encode(Protocol::EAP, &packet));
            }
        }
        while let Some(packet) = self.ipcp.poll_packet() {
            if self.phase == Phase::Network {
                self.transmit
                    .push_back(self.encoder.encode(Protocol::IPCP, &packet));
            }
        }
    }

    fn terminate(&mut self, now: Instant, why: &str) {
        if self.phase == Phase::Terminate || self.phase == Phase::Dead {
            return;
        }
        info!(why, "peer-sim: terminating the link");
        self.cbcp = None;
        self.leave_network(now);
        self.phase = Phase::Terminate;
        self.lcp.close(now);
    }

    fn leave_network(&mut self, now: Instant) {
        if !matches!(self.ipcp.state(), State::Initial | State::Starting) {
            self.ipcp.down(now);
        }
    }

    fn enter_network(&mut self, now: Instant) {
        self.phase = Phase::Network;
        if self.script.faults.refuses_network_protocols() {
            // Fault `reject-all`: no NCP of ours; the client's are Protocol-Rejected.
            return;
        }
        self.ipcp.open(now);
        self.ipcp.up(now);
    }

    fn dispatch(&mut self, now: Instant, frame: Frame) {
        match frame.protocol {
            Protocol::LCP => self.lcp.receive(now, &frame.information),
            Protocol::PAP if matches!(self.phase, Phase::Authenticate | Phase::Network) => {
                // Requests retransmitted after the Ack are answered again (RFC 1334 §2.2.1).
                if let Some(request) = self.pap.receive(&frame.information) {
                    self.auth_deadline = None;
                    let name = String::from_utf8_lossy(&request.peer_id).into_owned();
                    let proof = match self.account(&name) {
                        Some(account) if account.password.as_bytes() == request.password => {
                            Proof::Valid
                        }
                        _ => Proof::Invalid,
                    };
                    let decision = self.decide(&name, proof);
                    self.pap
                        .answer(decision == Decision::Accept, message(decision));
                    self.after_decision(now, decision, false);
                }
            }
            Protocol::CHAP if matches!(self.phase, Phase::Authenticate | Phase::Network) => {
                // Responses repeated after Success are answered again (RFC 1994 §4.2).
                let accounts = &self.accounts;
                let attempt = self.chap.as_mut().and_then(|chap| {
                    chap.receive(&frame.information, |name| {
                        let name = account_name(accounts, name)?;
                        accounts.get(name).map(|account| account.password.clone())
                    })
                });
                if let Some(attempt) = attempt {
                    self.chap_attempt(now, attempt);
                }
            }
            Protocol::CBCP if self.cbcp.is_some() => {
                if let Some(cbcp) = &mut self.cbcp {
                    cbcp.receive(&frame.information);
                }
            }
            Protocol::EAP if self.phase == Phase::Authenticate => {
                let accounts = &self.accounts;
                let attempt = self.eap.as_mut().and_then(|eap| {
                    eap.receive(now, &frame.information, |name| {
                        let name = account_name(accounts, name)?;
                        accounts.get(name).map(|account| account.password.clone())
                    })
                });
                if let Some(attempt) = attempt {
                    self.eap_attempt(now, attempt);
                }
                self.eap_progress(now);
            }
            Protocol::IPCP
                if self.phase == Phase::Network
                    && self.script.faults.refuses_network_protocols() =>
            {
                // RFC 1661 §5.7: the client must stop sending IPCP.
                self.lcp.reject_protocol(frame.protocol, &frame.information)
            }
            Protocol::IPCP if self.phase == Phase::Network => {
                self.ipcp.receive(now, &frame.information)
            }
            Protocol::PAP | Protocol::CHAP | Protocol::EAP | Protocol::IPCP => {
                debug!(protocol = %frame.protocol, phase = ?self.phase, "peer-sim: packet out of phase discarded")
            }
            Protocol::MULTILINK if self.phase == Phase::Network => {
                if let Some(member) = self.member {
                    for packet in self.bundles.receive(member, &frame.information) {
                        self.echo(&packet);
                    }
                } else {
                    debug!("peer-sim: a Multilink fragment on a link in no bundle, discarded");
                }
            }
            Protocol::IPV4 if self.phase == Phase::Network => {
                let mut packet = Protocol::IPV4.0.to_be_bytes().to_vec();
                packet.extend_from_slice(&frame.information);
                self.echo(&packet);
                self.bundles.deliver(packet);
            }
            Protocol::IPV4 => debug!(
                len = frame.information.len(),
                "peer-sim: IPv4 datagram out of phase discarded"
            ),
            protocol => self.lcp.reject_protocol(protocol, &frame.information),
        }
    }

    /// Judge an attempt by the account's script: `fail` refusals first, then its outcome
    /// for the right password; a proven password change replaces the password.
    fn decide(&mut self, name: &str, proof: Proof) -> Decision {
        let Some(key) = account_name(&self.accounts, name).map(str::to_owned) else {
            info!(%name, "peer-sim: no such account");
            return Decision::Refuse {
                error: error_code::AUTHENTICATION_FAILURE,
            };
        };
        let Some(account) = self.accounts.get_mut(&key) else {
            return Decision::Refuse {
                error: error_code::AUTHENTICATION_FAILURE,
            };
        };
        if let Proof::NewPassword(password) = &proof {
            // The usual domain history rule: the new password must differ from the old
            // one, or the change fails (RFC 2759 §6 lists 709 ERROR_CHANGING_PASSWORD).
            if *password == account.password {
                info!(%name, "peer-sim: new password equals the old one, change refused");
                return Decision::Refuse {
                    error: error_code::CHANGING_PASSWORD,
                };
            }
            info!(%name, "peer-sim: password changed");
            account.password = password.clone();
            account.outcome = AccountOutcome::Accept;
        }
        let callback = account.callback.as_ref().unwrap_or(&self.script.callback);
        if self.leg == Leg::CalledBack && callback.reauth_fails {
            info!(%name, "peer-sim: fault reauth-fails: refused on the callback");
            return Decision::Refuse {
                error: error_code::AUTHENTICATION_FAILURE,
            };
        }
        if account.fail > 0 {
            account.fail -= 1;
            info!(%name, left = account.fail, "peer-sim: scripted refusal");
            return Decision::Refuse {
                error: error_code::AUTHENTICATION_FAILURE,
            };
        }
        let error = match (proof, account.outcome) {
            (Proof::Invalid, _) => error_code::AUTHENTICATION_FAILURE,
            (_, AccountOutcome::Accept) => {
                self.authenticated = Some(key);
                return Decision::Accept;
            }
            (_, AccountOutcome::Expired) => error_code::PASSWD_EXPIRED,
            (_, AccountOutcome::Disabled) => error_code::ACCT_DISABLED,
            (_, AccountOutcome::NoDialIn) => error_code::NO_DIALIN_PERMISSION,
            (_, AccountOutcome::LogonHours) => error_code::RESTRICTED_LOGON_HOURS,
        };
        info!(%name, error, "peer-sim: refused");
        Decision::Refuse { error }
    }

    /// The verdict for `decision`; with `can_retry` (MS-CHAPv2), a wrong password may be
    /// invited to try again.
    fn verdict(&mut self, decision: Decision, can_retry: bool) -> ChapVerdict {
        match decision {
            Decision::Accept => ChapVerdict::Accept,
            Decision::Refuse { error } => {
                // The script's `retries` budget is for wrong credentials (RFC 2759 §6 R=1);
                // a disabled account gains nothing from another try.
                let retry = can_retry
                    && error == error_code::AUTHENTICATION_FAILURE
                    && self.refusals < self.script.retries;
                if error == error_code::AUTHENTICATION_FAILURE {
                    self.refusals += 1;
                }
                ChapVerdict::Reject { error, retry }
            }
        }
    }

    fn chap_attempt(&mut self, now: Instant, attempt: ChapAttempt) {
        let decision = self.decide(&attempt.name, attempt.proof);
        let verdict = self.verdict(decision, true);
        let Some(chap) = &mut self.chap else {
            return;
        };
        chap.answer(now, verdict, message(decision));
        let invited = chap.awaiting_answer();
        self.after_decision(now, decision, invited);
    }

    /// Judge an EAP attempt: a password proof as under CHAP; a GTC token is good if it is
    /// one of the account's unspent tokens, which it then spends (RFC 3748 §5.6: one-time).
    fn eap_attempt(&mut self, now: Instant, attempt: EapAttempt) {
        let proof = match attempt.proof {
            EapProof::Password(proof) => proof,
            EapProof::Token(token) => {
                let account = account_name(&self.accounts, &attempt.name)
                    .map(str::to_owned)
                    .and_then(|key| self.accounts.get_mut(&key));
                match account.and_then(|a| Some((a.tokens.iter().position(|t| *t == token)?, a))) {
                    Some((at, account)) => {
                        account.tokens.remove(at);
                        info!(name = %attempt.name, left = account.tokens.len(), "peer-sim: token spent");
                        Proof::Valid
                    }
                    None => Proof::Invalid,
                }
            }
        };
        let decision = self.decide(&attempt.name, proof);
        let verdict = self.verdict(decision, attempt.method == EapMethod::MsChapV2);
        if let Some(eap) = &mut self.eap {
            eap.answer(now, verdict, message(decision));
        }
    }

    /// Once EAP has sent Success or Failure: into the network phase, or off the line.
    fn eap_progress(&mut self, now: Instant) {
        let Some(eap) = &self.eap else {
            return;
        };
        let decision = match eap.outcome() {
            Some(true) => Decision::Accept,
            Some(false) => Decision::Refuse {
                error: error_code::AUTHENTICATION_FAILURE,
            },
            None => return,
        };
        self.after_decision(now, decision, false);
    }

    /// Into the network phase, or (unless a retry or Change-Password is invited) off the line.
    fn after_decision(&mut self, now: Instant, decision: Decision, invited: bool) {
        match decision {
            Decision::Accept if self.phase == Phase::Authenticate && self.cbcp.is_none() => {
                self.after_authentication(now)
            }
            Decision::Accept => {}
            Decision::Refuse { .. } if invited => {}
            Decision::Refuse { .. } => {
                // The refusal must reach the line before the Terminate-Request.
                self.flush();
                self.terminate(now, "authentication failed");
            }
        }
    }

    /// The callback privilege that applies: the authenticated account's, else the script's.
    fn callback(&self) -> Callback {
        self.authenticated
            .as_ref()
            .and_then(|name| self.accounts.get(name))
            .and_then(|account| account.callback.clone())
            .unwrap_or_else(|| self.script.callback.clone())
    }

    /// Authenticated (or nothing to authenticate): callback control when LCP agreed on
    /// it (MS-CBCP §1.3: after authentication, before the Network phase), else IPCP.
    fn after_authentication(&mut self, now: Instant) {
        if !self.join_bundle(now) {
            return;
        }
        let agreed = self.lcp.negotiator().peer_callback() == Some(CallbackOperation::Cbcp);
        if self.leg == Leg::CalledBack || !agreed {
            self.enter_network(now);
            return;
        }
        let mut cbcp = CbcpServer::new(CbcpServerConfig {
            privilege: self.callback().privilege,
            delay: self.script.callback_delay,
            ..CbcpServerConfig::default()
        });
        cbcp.start(now);
        self.cbcp = Some(cbcp);
    }

    fn on_cbcp(&mut self, now: Instant, outcome: CbcpOutcome) {
        match outcome {
            CbcpOutcome::NoCallback => {
                // The Ack must go out before callback control is dropped.
                self.flush();
                self.cbcp = None;
                self.enter_network(now);
            }
            CbcpOutcome::Callback { .. } if self.callback().refuse_number => {
                // The Ack queued for the caller is dropped with callback control.
                info!("peer-sim: fault refuse-number: ending the link instead of the Ack");
                self.terminate(now, "callback number refused");
            }
            CbcpOutcome::Callback { number, delay } => {
                let callback = self.callback();
                // The server's own number for an admin-set callback; the caller's else.
                let number = match (&callback.privilege, number) {
                    (CallbackPrivilege::AdminSet { number }, _) => number.clone(),
                    (_, Some(number)) => number,
                    (_, None) => String::new(),
                };
                info!(%number, ?delay, "peer-sim: callback agreed; hanging up to call back");
                // The Ack must reach the line before the Terminate-Request.
                self.flush();
                self.calling_back = Some((number, delay, callback));
                self.terminate(now, "calling back");
            }
            CbcpOutcome::TimedOut | CbcpOutcome::NoAcceptableOffer => {
                self.terminate(now, "callback control failed")
            }
        }
    }

    /// The link is down after an agreed callback: ask the network for the call (unless
    /// the script's fault says never), hang up, and become the server answering it.
    fn call_back(&mut self, number: String, delay: Duration, callback: Callback) {
        if callback.never {
            info!("peer-sim: fault never: the callback is never placed");
            self.hang_up();
            return;
        }
        let after = if callback.busy_callee {
            info!("peer-sim: fault busy-callee: calling back before the caller has hung up");
            Duration::ZERO
        } else {
            delay
        };
        self.events.push_back(PeerEvent::CallBack { number, after });
        self.hang_up();
        let events = std::mem::take(&mut self.events);
        let accounts = std::mem::take(&mut self.accounts);
        // The fault steps count the dial's frames across both calls.
        let faults = std::mem::replace(&mut self.faults, FaultInjector::new(Faults::default()));
        self.leave_bundle();
        *self = Server::answering(
            self.script.clone(),
            self.entropy,
            Leg::CalledBack,
            self.bundles.clone(),
        );
        self.accounts = accounts;
        self.events = events;
        self.faults = faults;
    }

    /// The authenticator challenges on LCP's restart timer and counts (RFC 1994 §4.1 asks
    /// for a retransmission timer; RFC 1661 §4.6's defaults serve it), so a client that
    /// never answers is given up on after the same 30 s as under PAP.
    fn start_chap(&mut self, now: Instant, protocol: AuthProtocol) {
        let Some(algorithm) = ChapAlgorithm::from_auth_protocol(protocol) else {
            return;
        };
        let fsm = FsmConfig::default();
        // A fresh stream per LCP renegotiation, still fixed by the seed.
        self.chap_seed = self.chap_seed.wrapping_add(1);
        let mut chap = ChapServer::new(
            algorithm,
            CHAP_NAME,
            fsm.restart_interval,
            fsm.max_configure,
            INVITATION_WAIT,
            match self.chap_entropy {
                Entropy::Seed(_) => Random::seeded(self.chap_seed),
                Entropy::Os => Random::from_entropy(Entropy::Os, self.chap_seed),
            },
        );
        chap.start(now);
        self.chap = Some(chap);
    }

    /// EAP as the script's `eap:` says, retransmitting on LCP's restart timer as CHAP does.
    fn start_eap(&mut self, now: Instant) {
        let fsm = FsmConfig::default();
        self.chap_seed = self.chap_seed.wrapping_add(1);
        let eap = &self.script.eap;
        let mut authenticator = EapAuthenticator::new(
            EapAuthenticatorConfig {
                name: CHAP_NAME.to_owned(),
                methods: eap.methods.iter().copied().map(EapMethod::from).collect(),
                identity_prompt: eap.identity_prompt.clone(),
                notification: eap.notification.clone(),
                token_prompt: eap.token_prompt.clone(),
                restart_interval: fsm.restart_interval,
                max_requests: fsm.max_configure,
                user_wait: INVITATION_WAIT,
            },
            SeededRandom::new(self.chap_seed),
        );
        authenticator.start(now);
        self.eap = Some(authenticator);
    }

    fn pump(&mut self, now: Instant) {
        loop {
            let mut progressed = false;
            while let Some(event) = self.lcp.poll_event() {
                progressed = true;
                self.on_lcp(now, event);
            }
            if let Some(outcome) = self.cbcp.as_mut().and_then(CbcpServer::take_outcome) {
                progressed = true;
                self.on_cbcp(now, outcome);
            }
            while let Some(event) = self.ipcp.poll_event() {
                progressed = true;
                match event {
                    LayerEvent::Up => {
                        let n = self.ipcp.negotiator();
                        info!(peer = ?n.peer_address(), local = ?n.local_address(), "peer-sim: IPCP opened");
                    }
                    LayerEvent::Finished { .. } if self.phase == Phase::Network => {
                        self.terminate(now, "IPCP did not open");
                    }
                    _ => {}
                }
            }
            if self.lcp.negotiator().looped_back()
                && !matches!(self.phase, Phase::Terminate | Phase::Dead)
            {
                progressed = true;
                self.terminate(now, "line looped back");
            }
            if !progressed {
                break;
            }
        }
        self.flush();
    }

    fn on_lcp(&mut self, now: Instant, event: LayerEvent) {
        match event {
            LayerEvent::Up => {
                let parameters = self.lcp.negotiator().parameters();
                self.encoder = parameters.encoder();
                self.decoder.set_accm(parameters.decoder_accm());
                match (self.script.auth, parameters.we_require) {
                    (AuthMode::None, _) => self.after_authentication(now),
                    (_, Some(AuthProtocol::Pap)) => {
                        self.phase = Phase::Authenticate;
                        self.auth_deadline = Some(now + auth_wait());
                    }
                    (_, Some(protocol @ (AuthProtocol::ChapMd5 | AuthProtocol::MsChapV2))) => {
                        self.phase = Phase::Authenticate;
                        self.start_chap(now, protocol);
                    }
                    (_, Some(AuthProtocol::Eap)) => {
                        self.phase = Phase::Authenticate;
                        self.start_eap(now);
                    }
                    // The client rejected authentication: no account, no link.
                    _ => self.terminate(now, "client refused to authenticate"),
                }
            }
            LayerEvent::Down { cause } => {
                self.auth_deadline = None;
                self.chap = None;
                self.cbcp = None;
                self.eap = None;
                self.encoder = Encoder::default();
                self.decoder.set_accm(ReceiveAccm::DEFAULT);
                self.leave_network(now);
                if cause == Event::Rtr || self.phase == Phase::Terminate {
                    self.phase = Phase::Terminate;
                } else {
                    self.phase = Phase::Establish;
                }
            }
            LayerEvent::Started => {}
            LayerEvent::Finished { cause } => {
                info!(?cause, "peer-sim: link finished");
                match self.calling_back.take() {
                    Some((number, delay, callback)) => self.call_back(number, delay, callback),
                    None => self.hang_up(),
                }
            }
            LayerEvent::ProtocolRejected(protocol) => {
                if protocol == Protocol::IPCP {
                    self.terminate(now, "client rejected IPCP");
                }
            }
        }
    }

    /// RFC 1990 §5.1.3: a link that agreed on multilink joins the bundle of its peer (the
    /// authenticated name and Endpoint Discriminator), or starts one. A bundle that has
    /// `max-links` links already takes no more: the link is ended (LCP
    /// Terminate-Request). Returns whether the call goes on.
    fn join_bundle(&mut self, now: Instant) -> bool {
        let Some(agreement) = self.lcp.negotiator().multilink() else {
            return true;
        };
        let key = BundleKey::new(
            self.authenticated.as_deref().map(str::as_bytes),
            agreement.peer_discriminator.clone(),
        );
        let mru = self.lcp.negotiator().parameters().peer_mru;
        let max_links = self.script.multilink.max_links as usize;
        let joined = {
            let mut process = self.bundles.process();
            let table = &mut process.table;
            let members = table
                .find(&key)
                .and_then(|bundle| table.bundle_mut(bundle))
                .map_or(0, |bundle| bundle.links().count());
            if members >= max_links {
                None
            } else {
                table
                    .join(key, BundleConfig::from_agreement(&agreement), mru)
                    .ok()
            }
        };
        match joined {
            Some(joined) => {
                info!(bundle = %joined.bundle, link = %joined.link, created = joined.created, "peer-sim: the link joined a bundle");
                self.member = Some(joined);
                true
            }
            None => {
                info!(max_links, "peer-sim: the bundle is full; ending the link");
                self.terminate(now, "bundle full");
                false
            }
        }
    }

    /// `echo: true`: send a packet received (protocol field first) back: fragmented over
    /// the bundle when this link is in one (RFC 1990 §3), else whole on this link.
    fn echo(&mut self, packet: &[u8]) {
        if !self.script.multilink.echo {
            return;
        }
        if let Some(member) = self.member
            && self.bundles.send(member, packet)
        {
            return;
        }
        if let [high, low, information @ ..] = packet {
            let protocol = Protocol(u16::from_be_bytes([*high, *low]));
            self.transmit
                .push_back(self.encoder.encode(protocol, information));
        }
    }

    /// The call is over: its link leaves its bundle (the bundle closes with its last).
    fn leave_bundle(&mut self) {
        if let Some(Joined { bundle, link, .. }) = self.member.take() {
            let closed = self
                .bundles
                .process()
                .table
                .leave(bundle, link)
                .unwrap_or(false);
            info!(%bundle, %link, closed, "peer-sim: the link left its bundle");
        }
    }

    /// Put the phone down: report [`PeerEvent::HangUp`] and ignore the line from now on.
    fn hang_up(&mut self) {
        self.leave_bundle();
        info!("peer-sim: hanging up");
        self.phase = Phase::Dead;
        self.hung_up = true;
        self.events.push_back(PeerEvent::HangUp);
    }
}

impl Drop for Server {
    /// A call that ends without the server hanging up (the line dropped) leaves its
    /// bundle too.
    fn drop(&mut self) {
        self.leave_bundle();
    }
}

/// The multilink bundles of one server process (RFC 1990 §5.1.3), shared by the
/// [`Server`]s answering its calls: clones share the table.
/// They also collect the network-layer packets the calls received (reassembled by MP
/// over a bundle, RFC 1990 §4.1), which stand in for the server's network.
#[derive(Debug, Clone, Default)]
pub struct Bundles(Arc<Mutex<Process>>);

/// What the calls of one server process share.
#[derive(Debug, Default)]
struct Process {
    table: BundleTable,
    /// Packets received, protocol field first, in the order they were completed.
    delivered: Vec<Vec<u8>>,
    /// Sequence numbers given up by reassembly.
    lost: u64,
    /// Fragments each member link is to send, by bundle and link.
    outboxes: BTreeMap<(BundleId, LinkId), VecDeque<Vec<u8>>>,
}

impl Bundles {
    fn process(&self) -> MutexGuard<'_, Process> {
        // A server that panicked holding the lock left the table as it was.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A Multilink fragment (RFC 1990 §3) received on `member`: into its bundle's
    /// reassembly; whole packets go to the delivered ones.
    fn receive(&self, member: Joined, fragment: &[u8]) -> Vec<Vec<u8>> {
        let mut process = self.process();
        let Process {
            table,
            delivered,
            lost,
            ..
        } = &mut *process;
        let Some(bundle) = table.bundle_mut(member.bundle) else {
            return Vec::new();
        };
        if let Err(error) = bundle.receive(member.link, fragment) {
            debug!(%error, "peer-sim: a Multilink fragment discarded");
        }
        let mut completed = Vec::new();
        while let Some(event) = bundle.poll_event() {
            match event {
                MpEvent::Packet(packet) => completed.push(packet),
                MpEvent::Lost { count, .. } => *lost += u64::from(count),
            }
        }
        delivered.extend(completed.iter().cloned());
        completed
    }

    /// Fragment `packet` over `member`'s bundle into its links' outboxes; `false` when
    /// the bundle cannot carry it.
    fn send(&self, member: Joined, packet: &[u8]) -> bool {
        let mut process = self.process();
        let Process {
            table, outboxes, ..
        } = &mut *process;
        let Some(pieces) = table
            .bundle_mut(member.bundle)
            .and_then(|bundle| bundle.fragment(packet).ok())
        else {
            return false;
        };
        for (link, piece) in pieces {
            outboxes
                .entry((member.bundle, link))
                .or_default()
                .push_back(piece);
        }
        true
    }

    /// The fragments `member`'s link is to send.
    fn take_outbox(&self, member: Joined) -> VecDeque<Vec<u8>> {
        self.process()
            .outboxes
            .remove(&(member.bundle, member.link))
            .unwrap_or_default()
    }

    fn deliver(&self, packet: Vec<u8>) {
        self.process().delivered.push(packet);
    }

    /// The network-layer packets the process's calls received so far (protocol field
    /// first), oldest first; taken, so the next call returns only newer ones.
    pub fn take_delivered(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.process().delivered)
    }

    /// How many Multilink sequence numbers reassembly gave up (RFC 1990 §4.1).
    pub fn lost(&self) -> u64 {
        self.process().lost
    }

    /// How many bundles are open.
    pub fn len(&self) -> usize {
        self.process().table.len()
    }

    /// Whether no bundle is open.
    pub fn is_empty(&self) -> bool {
        self.process().table.is_empty()
    }
}

/// What the server says with its decision.
fn message(decision: Decision) -> &'static str {
    match decision {
        Decision::Accept => WELCOME,
        Decision::Refuse { error } => refusal_message(error),
    }
}

/// The key of the account `name` means: the name as sent, or else without its `DOMAIN\\`
/// (the engine sends `DOMAIN\\user` when the entry has a domain).
fn account_name<'a>(accounts: &'a BTreeMap<String, Account>, name: &str) -> Option<&'a str> {
    let bare = String::from_utf8_lossy(user_name_without_domain(name.as_bytes())).into_owned();
    [name, bare.as_str()]
        .into_iter()
        .find_map(|key| accounts.get_key_value(key).map(|(key, _)| key.as_str()))
}

impl From<Server> for LinePeer {
    fn from(server: Server) -> LinePeer {
        server.boxed()
    }
}

impl Machine for Server {
    type Event = PeerEvent;

    fn handle_input(&mut self, now: Instant, bytes: &[u8]) {
        if self.hung_up {
            return;
        }
        let rest;
        let bytes = match self.login.as_mut().map(|login| login.receive(bytes)) {
            None => bytes,
            Some(LoginProgress::Pending) => return,
            Some(LoginProgress::LoggedIn { rest: after }) => {
                // Its last words (the CR LF after the password) go out before PPP.
                if let Some(login) = &mut self.login {
                    self.text
                        .extend(std::iter::from_fn(|| login.poll_transmit()));
                }
                self.login = None;
                rest = after;
                if rest.is_empty() {
                    return;
                }
                &rest[..]
            }
            Some(LoginProgress::Refused) => {
                if let Some(login) = &mut self.login {
                    self.text
                        .extend(std::iter::from_fn(|| login.poll_transmit()));
                }
                self.login = None;
                self.hang_up();
                return;
            }
        };
        if self.phase == Phase::Dead && !self.faults.is_silent() {
            // The caller is talking: our lower layer is up (RFC 1661 §3.2).
            self.phase = Phase::Establish;
            self.lcp.up(now);
            self.pump(now);
        }
        let mut frames = Vec::new();
        // One flag-delimited segment at a time: LCP opening changes the receive ACCM for
        // the frames behind it.
        for segment in flag_segments(bytes) {
            self.decoder.decode(segment, &mut frames);
            for frame in frames.drain(..) {
                if self.hung_up {
                    return;
                }
                match self.faults.frame_received() {
                    Arrival::Answer => {
                        self.dispatch(now, frame);
                        self.pump(now);
                    }
                    Arrival::Ignore => {}
                    Arrival::HangUp => {
                        info!("peer-sim: fault drop-at-packet: the line drops");
                        // The carrier is gone: nothing still queued reaches the client.
                        self.transmit.clear();
                        self.hang_up();
                    }
                }
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        if self.hung_up {
            return;
        }
        self.lcp.handle_timeout(now);
        self.ipcp.handle_timeout(now);
        if self.auth_deadline.is_some_and(|deadline| deadline <= now) {
            self.auth_deadline = None;
            self.terminate(now, "the client never sent an Authenticate-Request");
        }
        if let Some(cbcp) = &mut self.cbcp {
            cbcp.handle_timeout(now);
        }
        if let Some(chap) = &mut self.chap {
            chap.handle_timeout(now);
            if chap.gave_up() {
                self.chap = None;
                self.terminate(now, "the client never answered the CHAP exchange");
            }
        }
        if let Some(eap) = &mut self.eap {
            eap.handle_timeout(now);
            if eap.gave_up() {
                self.eap = None;
                self.terminate(now, "the client never answered the EAP exchange");
            }
        }
        self.pump(now);
    }

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        // The login's text is no PPP frame: the fault steps do not count it.
        if let Some(text) = self.login.as_mut().and_then(TerminalLogin::poll_transmit) {
            return Some(text);
        }
        if let Some(text) = self.text.pop_front() {
            return Some(text);
        }
        // Fragments of an echo that the bundle put on this link (from any link's server).
        if let Some(member) = self.member {
            for piece in self.bundles.take_outbox(member) {
                self.transmit
                    .push_back(self.encoder.encode(Protocol::MULTILINK, &piece));
            }
        }
        let mut frame = self.transmit.pop_front()?;
        self.faults.frame_sent(&mut frame);
        Some(frame)
    }

    fn poll_event(&mut self) -> Option<PeerEvent> {
        self.events.pop_front()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        if self.hung_up {
            return None;
        }
        sansio::sim::earliest([
            self.lcp.poll_timeout(),
            self.ipcp.poll_timeout(),
            self.auth_deadline,
            self.chap.as_ref().and_then(ChapServer::poll_timeout),
            self.cbcp.as_ref().and_then(CbcpServer::poll_timeout),
            self.eap.as_ref().and_then(EapAuthenticator::poll_timeout),
        ])
    }
}
