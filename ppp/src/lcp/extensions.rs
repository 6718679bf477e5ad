//! The LCP options beyond RFC 1661 that a RAS link may negotiate: multilink (RFC 1990 §5.1:
//! MRRU, Short Sequence Number Header Format, Endpoint Discriminator) and callback
//! (RFC 1570 §2.3; Microsoft uses operation 6 to agree on running CBCP, MS-CBCP §2.2.1).
//!
//! All of it is off by default: without an [`LcpExtensions`] configuration the negotiator
//! Rejects these options as it always did (RFC 1990 §5.1.1: a peer that Rejects MRRU does not
//! do MP).

use crate::fsm::Verdict;
use crate::hdlc::DEFAULT_MRU;
use crate::wire::lcp::{CallbackOperation, EndpointDiscriminator, LcpOption};

/// The smallest MRRU we accept from a peer; smaller ones are Nak'd with the default. RFC 1990
/// §5.1.1 fixes no minimum; like the MRU floor, this keeps reassembled packets meaningful.
const MIN_PEER_MRRU: u16 = 128;

/// Which optional LCP options to request and accept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LcpExtensions {
    /// Take part in multilink: request these and accept the peer's MRRU, Short Sequence and
    /// Endpoint Discriminator. `None`: Reject them all.
    pub multilink: Option<MultilinkConfig>,
    /// The Callback operation to request (dialer side; Windows asks for
    /// [`CallbackOperation::Cbcp`]).
    pub request_callback: Option<CallbackOperation>,
    /// Callback operations we agree to perform when the peer asks (answerer side), best
    /// first. Another operation is Nak'd with the first of these; with none, Rejected.
    pub accept_callback: Vec<CallbackOperation>,
    /// Our Link Discriminator for this link (RFC 2125 §2.1), requested when set; for BAP
    /// to name links. The peer's is accepted whenever we take part in multilink.
    pub link_discriminator: Option<u16>,
}

/// Our side of multilink (RFC 1990 §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultilinkConfig {
    /// The largest packet we reassemble (RFC 1990 §5.1.1: default 1500).
    pub mrru: u16,
    /// Ask the peer to send 12-bit sequence numbers (RFC 1990 §5.1.2).
    pub short_sequence: bool,
    /// Who we are, so the peer puts our links in one bundle (RFC 1990 §5.1.3).
    pub discriminator: Option<EndpointDiscriminator>,
}

impl Default for MultilinkConfig {
    fn default() -> Self {
        MultilinkConfig {
            mrru: DEFAULT_MRU,
            short_sequence: false,
            discriminator: None,
        }
    }
}

/// What a link agreed about multilink, in both directions. MP is in use on the link only when
/// both sides sent MRRU and both were Acked (RFC 1990 §5.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultilinkAgreement {
    /// The largest reconstructed packet we may send (the peer's MRRU).
    pub transmit_mrru: u16,
    /// Send 12-bit sequence numbers (the peer asked for them).
    pub transmit_short_sequence: bool,
    /// The largest reconstructed packet we accept (our MRRU, as Acked).
    pub receive_mrru: u16,
    /// Expect 12-bit sequence numbers (the peer Acked our request).
    pub receive_short_sequence: bool,
    /// The peer's Endpoint Discriminator, the Null class read as none (RFC 1990 §5.1.3).
    pub peer_discriminator: Option<EndpointDiscriminator>,
}

/// The options one side holds (requested by it and Acked by the other).
#[derive(Debug, Clone, Default)]
struct Held {
    mrru: Option<u16>,
    short_sequence: bool,
    discriminator: Option<EndpointDiscriminator>,
    callback: Option<CallbackOperation>,
    link_discriminator: Option<u16>,
}

impl Held {
    fn from_options(options: &[LcpOption]) -> Self {
        let mut held = Held::default();
        for option in options {
            match option {
                LcpOption::Mrru(mrru) => held.mrru = Some(*mrru),
                LcpOption::ShortSequence => held.short_sequence = true,
                LcpOption::EndpointDiscriminator(discriminator) => {
                    held.discriminator = (!discriminator.is_null()).then(|| discriminator.clone());
                }
                LcpOption::Callback { operation, .. } => held.callback = Some(*operation),
                LcpOption::LinkDiscriminator(number) => held.link_discriminator = Some(*number),
                _ => {}
            }
        }
        held
    }
}

/// The negotiation of the extension options, driven by [`super::LcpNegotiator`].
#[derive(Debug, Clone)]
pub(super) struct Extensions {
    config: LcpExtensions,
    /// What we request next.
    request: Held,
    /// The peer's options we Acked.
    peer: Held,
    /// Our options the peer Acked.
    own: Held,
}

impl Extensions {
    pub(super) fn new(config: LcpExtensions) -> Self {
        let mut extensions = Extensions {
            config,
            request: Held::default(),
            peer: Held::default(),
            own: Held::default(),
        };
        extensions.reset();
        extensions
    }

    pub(super) fn reset(&mut self) {
        let multilink = self.config.multilink.as_ref();
        self.request = Held {
            mrru: multilink.map(|m| m.mrru),
            short_sequence: multilink.is_some_and(|m| m.short_sequence),
            discriminator: multilink.and_then(|m| m.discriminator.clone()),
            callback: self.config.request_callback,
            link_discriminator: self.config.link_discriminator,
        };
        self.peer = Held::default();
        self.own = Held::default();
    }

    pub(super) fn own_options(&self, options: &mut Vec<LcpOption>) {
        if let Some(operation) = self.request.callback {
            // MS-CBCP §2.2.1: the Message "SHOULD NOT be present" for CBCP; we send none.
            options.push(LcpOption::Callback {
                operation,
                message: Vec::new(),
            });
        }
        if let Some(mrru) = self.request.mrru {
            options.push(LcpOption::Mrru(mrru));
        }
        if self.request.short_sequence {
            options.push(LcpOption::ShortSequence);
        }
        if let Some(discriminator) = &self.request.discriminator {
            options.push(LcpOption::EndpointDiscriminator(discriminator.clone()));
        }
        if let Some(number) = self.request.link_discriminator {
            options.push(LcpOption::LinkDiscriminator(number));
        }
    }

    /// The verdict on one of the extension options; anything else is the caller's.
    pub(super) fn judge(&self, option: &LcpOption) -> Verdict<LcpOption> {
        match option {
            LcpOption::Mrru(_)
            | LcpOption::ShortSequence
            | LcpOption::EndpointDiscriminator(_)
            | LcpOption::LinkDiscriminator(_)
                if self.config.multilink.is_none() =>
            {
                Verdict::Reject
            }
            LcpOption::Mrru(mrru) if *mrru < MIN_PEER_MRRU => {
                Verdict::Nak(LcpOption::Mrru(DEFAULT_MRU))
            }
            LcpOption::Mrru(_)
            | LcpOption::ShortSequence
            | LcpOption::EndpointDiscriminator(_)
            | LcpOption::LinkDiscriminator(_) => Verdict::Ack,
            LcpOption::Callback { operation, .. } => {
                if self.config.accept_callback.contains(operation) {
                    Verdict::Ack
                } else {
                    // RFC 1570 §2.3 / RFC 1661 §5.3: Nak with an operation we can do; with
                    // none to offer, Reject.
                    match self.config.accept_callback.first() {
                        Some(ours) => Verdict::Nak(LcpOption::Callback {
                            operation: *ours,
                            message: Vec::new(),
                        }),
                        None => Verdict::Reject,
                    }
                }
            }
            _ => Verdict::Reject,
        }
    }

    pub(super) fn peer_acked(&mut self, options: &[LcpOption]) {
        self.peer = Held::from_options(options);
    }

    pub(super) fn own_acked(&mut self, options: &[LcpOption]) {
        self.own = Held::from_options(options);
    }

    pub(super) fn own_nakked(&mut self, option: &LcpOption) {
        match option {
            // RFC 1990 §5.1.1: the peer suggests an MRRU it can live with; take it.
            LcpOption::Mrru(mrru) => self.request.mrru = Some(*mrru),
            // The peer wants another number for this link (ours clashes with one of its
            // links, RFC 2125 §2.1): take it [inferred].
            LcpOption::LinkDiscriminator(number) => self.request.link_discriminator = Some(*number),
            // The others carry no value we could change: a Nak can only mean no.
            _ => self.own_rejected(option),
        }
    }

    pub(super) fn own_rejected(&mut self, option: &LcpOption) {
        match option {
            LcpOption::Mrru(_) => self.request.mrru = None,
            LcpOption::ShortSequence => self.request.short_sequence = false,
            LcpOption::EndpointDiscriminator(_) => self.request.discriminator = None,
            LcpOption::Callback { .. } => self.request.callback = None,
            LcpOption::LinkDiscriminator(_) => self.request.link_discriminator = None,
            _ => {}
        }
    }

    pub(super) fn multilink(&self) -> Option<MultilinkAgreement> {
        Some(MultilinkAgreement {
            transmit_mrru: self.peer.mrru?,
            transmit_short_sequence: self.peer.short_sequence,
            receive_mrru: self.own.mrru?,
            receive_short_sequence: self.own.short_sequence,
            peer_discriminator: self.peer.discriminator.clone(),
        })
    }

    pub(super) fn link_discriminators(&self) -> (Option<u16>, Option<u16>) {
        (self.own.link_discriminator, self.peer.link_discriminator)
    }

    pub(super) fn peer_callback(&self) -> Option<CallbackOperation> {
        self.peer.callback
    }

    pub(super) fn own_callback(&self) -> Option<CallbackOperation> {
        self.own.callback
    }
}
