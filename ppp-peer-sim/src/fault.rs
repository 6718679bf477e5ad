//! Fault steps (DESIGN §3): the ways a script makes the server misbehave on purpose, so a
//! dialer's timeouts, limits and error paths can be exercised. Every fault is deterministic:
//! it counts frames, never draws random numbers or reads a clock.
//!
//! A script lists them under `faults:`:
//!
//! ```yaml
//! faults:
//!   - nak-forever          # at most one of silent, nak-forever, reject-all
//!   - drop-at-packet: 7    # hang up as the client's 7th frame arrives
//!   - corrupt-fcs: 1       # spoil the FCS of the 1st frame the server sends
//!   - corrupt-fcs: 3       # ... and of the 3rd
//! ```

use std::collections::BTreeSet;
use std::num::NonZeroU32;

use ras_ppp::hdlc::{CONTROL_ESCAPE, ESCAPE_XOR, FLAG, TransmitAccm};
use ras_ppp::lcp::PeerOptionPolicy;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::script::{ScriptError, invalid};

/// One fault step, as written in a script's `faults:` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// `silent`: read everything and never transmit, nor hang up. A client's LCP gets no
    /// answer and gives up after Max-Configure (RFC 1661 §4.6).
    Silent,
    /// `nak-forever`: LCP Configure-Nak every option of every Configure-Request, never
    /// turning the Naks into a Configure-Reject after Max-Failure (deliberately breaking
    /// RFC 1661 §4.6). The server's own requests are as usual.
    NakForever,
    /// `reject-all`: LCP Configure-Reject every option the client requests (RFC 1661 §5.4),
    /// so LCP opens on the §6 defaults, and answer the client's IPCP with Protocol-Reject
    /// (RFC 1661 §5.7): the server offers no network protocol. Its own LCP request and its
    /// authentication are as usual.
    RejectAll,
    /// `drop-at-packet: N`: hang up (the carrier drops) as the client's Nth frame arrives.
    /// That frame is not answered, nothing more is sent, and the server reports
    /// [`sansio::PeerEvent::HangUp`]. Frames count from 1, whatever their protocol; frames
    /// that fail the FCS check do not count.
    DropAtPacket(u32),
    /// `corrupt-fcs: N`: the Nth frame the server sends (counting from 1, every protocol)
    /// goes out with a spoiled FCS, which the client must discard (RFC 1662 §3.1) and
    /// recover from by retransmission. May be given once per frame number.
    CorruptFcs(u32),
}

/// How the server answers the client's negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Negotiation {
    /// By the RFCs.
    #[default]
    Honest,
    /// [`Fault::Silent`].
    Silent,
    /// [`Fault::NakForever`].
    NakForever,
    /// [`Fault::RejectAll`].
    RejectAll,
}

/// A script's fault steps, checked: at most one way of answering, one drop, distinct frames
/// to corrupt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// How negotiation is answered.
    pub negotiation: Negotiation,
    /// Hang up as the client's frame with this number arrives.
    pub drop_at_packet: Option<NonZeroU32>,
    /// Numbers of the server's frames to send with a bad FCS.
    pub corrupt_fcs: BTreeSet<NonZeroU32>,
}

impl Faults {
    /// Check the steps of a `faults:` list.
    pub(crate) fn from_steps(steps: Vec<Spanned<Fault>>) -> Result<Faults, ScriptError> {
        let mut faults = Faults::default();
        // The step that set `negotiation`, and where it was written.
        let mut negotiation_step: Option<(Fault, serde_saphyr::Location)> = None;
        for Spanned {
            value, referenced, ..
        } in steps
        {
            let at = Some(&referenced);
            let negotiation = match value {
                Fault::Silent => Negotiation::Silent,
                Fault::NakForever => Negotiation::NakForever,
                Fault::RejectAll => Negotiation::RejectAll,
                Fault::DropAtPacket(n) => {
                    let n = frame_number(n, at, "drop-at-packet")?;
                    if faults.drop_at_packet.replace(n).is_some() {
                        return Err(invalid(
                            at,
                            "faults: drop-at-packet is given twice (the line drops only once)",
                        ));
                    }
                    continue;
                }
                Fault::CorruptFcs(n) => {
                    let n = frame_number(n, at, "corrupt-fcs")?;
                    if !faults.corrupt_fcs.insert(n) {
                        return Err(invalid(
                            at,
                            format!("faults: corrupt-fcs: {n} is given twice"),
                        ));
                    }
                    continue;
                }
            };
            if let Some((first, _)) = negotiation_step {
                return Err(invalid(
                    at,
                    format!(
                        "faults: {} and {} both say how the server answers; keep one",
                        step_name(first),
                        step_name(value)
                    ),
                ));
            }
            negotiation_step = Some((value, referenced));
            faults.negotiation = negotiation;
        }
        if let Some((Fault::Silent, at)) = &negotiation_step
            && !faults.corrupt_fcs.is_empty()
        {
            return Err(invalid(
                Some(at),
                "faults: a silent server sends no frame, so corrupt-fcs has nothing to corrupt",
            ));
        }
        Ok(faults)
    }

    /// How LCP answers the client's options under these faults.
    pub(crate) fn peer_option_policy(&self) -> PeerOptionPolicy {
        match self.negotiation {
            Negotiation::NakForever => PeerOptionPolicy::NakEverything,
            Negotiation::RejectAll => PeerOptionPolicy::RejectEverything,
            Negotiation::Honest | Negotiation::Silent => PeerOptionPolicy::Negotiate,
        }
    }

    /// `reject-all`: no network protocol is offered and the client's are Protocol-Rejected.
    pub(crate) fn refuses_network_protocols(&self) -> bool {
        self.negotiation == Negotiation::RejectAll
    }
}

fn frame_number(
    n: u32,
    at: Option<&serde_saphyr::Location>,
    step: &str,
) -> Result<NonZeroU32, ScriptError> {
    NonZeroU32::new(n).ok_or_else(|| invalid(at, format!("faults: {step} counts frames from 1")))
}

fn step_name(fault: Fault) -> &'static str {
    match fault {
        Fault::Silent => "silent",
        Fault::NakForever => "nak-forever",
        Fault::RejectAll => "reject-all",
        Fault::DropAtPacket(_) => "drop-at-packet",
        Fault::CorruptFcs(_) => "corrupt-fcs",
    }
}

/// What the server does with a frame that arrived from the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arrival {
    /// Handle it as usual.
    Answer,
    /// `silent`: take it and do nothing.
    Ignore,
    /// `drop-at-packet`: the line drops with this frame.
    HangUp,
}

/// The faults of a running server: counts the frames each way and applies the steps.
#[derive(Debug, Clone)]
pub(crate) struct FaultInjector {
    faults: Faults,
    received: u32,
    sent: u32,
}

impl FaultInjector {
    pub(crate) fn new(faults: Faults) -> Self {
        FaultInjector {
            faults,
            received: 0,
            sent: 0,
        }
    }

    /// `silent`: the server never starts negotiating.
    pub(crate) fn is_silent(&self) -> bool {
        self.faults.negotiation == Negotiation::Silent
    }

    /// A good frame arrived from the client.
    pub(crate) fn frame_received(&mut self) -> Arrival {
        self.received = self.received.saturating_add(1);
        if self
            .faults
            .drop_at_packet
            .is_some_and(|n| n.get() == self.received)
        {
            Arrival::HangUp
        } else if self.is_silent() {
            Arrival::Ignore
        } else {
            Arrival::Answer
        }
    }

    /// A whole encoded frame is about to go on the line.
    pub(crate) fn frame_sent(&mut self, frame: &mut Vec<u8>) {
        self.sent = self.sent.saturating_add(1);
        if NonZeroU32::new(self.sent).is_some_and(|n| self.faults.corrupt_fcs.contains(&n)) {
            corrupt_fcs(frame);
        }
    }
}

/// Spoil the FCS of one encoded frame (`7E ... FCS 7E`, RFC 1662 §3.1) by flipping the top
/// bit of its last octet, the FCS's most significant one (RFC 1662 §C.2 sends it least
/// significant first). The CRC catches every one-bit error, so the receiver's check fails
/// and it discards the frame. That octet may travel escaped (RFC 1662 §4.2): it is
/// unescaped, flipped, and escaped again when any receive map could need it. Anything that
/// is not a whole frame is left alone.
pub(crate) fn corrupt_fcs(frame: &mut Vec<u8>) {
    let Some(closing) = frame.len().checked_sub(1) else {
        return;
    };
    if closing == 0 || frame.first() != Some(&FLAG) || frame.get(closing) != Some(&FLAG) {
        return;
    }
    // Walk from the opening flag: 0x7D is an escape or, after one, an escaped 0x5D.
    let mut at = 1;
    let mut last = None;
    while at < closing {
        last = Some(at);
        at += if frame.get(at) == Some(&CONTROL_ESCAPE) {
            2
        } else {
            1
        };
    }
    let Some(last) = last else { return };
    if at != closing {
        // Control Escape right before the closing flag: an aborted frame (RFC 1662 §4.2).
        return;
    }
    let octet = match &frame[last..closing] {
        [escape, escaped] if *escape == CONTROL_ESCAPE => escaped ^ ESCAPE_XOR,
        [plain] => *plain,
        _ => return,
    };
    let spoiled = octet ^ 0x80;
    let replacement = if TransmitAccm::DEFAULT.escapes(spoiled) {
        vec![CONTROL_ESCAPE, spoiled ^ ESCAPE_XOR]
    } else {
        vec![spoiled]
    };
    frame.splice(last..closing, replacement);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ras_ppp::hdlc::{Decoder, Encoder, ReceiveAccm};
    use ras_ppp::wire::Protocol;

    /// Decode `bytes` with every control character accepted raw or escaped.
    fn decode(bytes: &[u8]) -> (usize, Decoder) {
        let mut decoder = Decoder::default();
        decoder.set_accm(ReceiveAccm(0));
        let mut frames = Vec::new();
        decoder.decode(bytes, &mut frames);
        (frames.len(), decoder)
    }

    use crate::script::Script;

    fn faults(yaml: &str) -> Result<Faults, ScriptError> {
        Script::from_yaml(&format!("auth: none\n{yaml}")).map(|script| script.faults)
    }

    fn frame(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn fault_steps_parse() {
        assert_eq!(faults("").unwrap(), Faults::default());
        assert_eq!(faults("faults: []\n").unwrap(), Faults::default());
        assert_eq!(
            faults("faults: [silent, {drop-at-packet: 4}]\n").unwrap(),
            Faults {
                negotiation: Negotiation::Silent,
                drop_at_packet: Some(frame(4)),
                corrupt_fcs: BTreeSet::new(),
            }
        );
        let parsed = faults(
            "faults:\n  - corrupt-fcs: 3\n  - nak-forever\n  - corrupt-fcs: 1\n  - drop-at-packet: 9\n",
        )
        .unwrap();
        assert_eq!(parsed.negotiation, Negotiation::NakForever);
        assert_eq!(parsed.drop_at_packet, Some(frame(9)));
        assert_eq!(parsed.corrupt_fcs, BTreeSet::from([frame(1), frame(3)]));
        assert_eq!(
            faults("faults: [reject-all]\n").unwrap().negotiation,
            Negotiation::RejectAll
        );
    }

    #[test]
    fn contradictory_or_meaningless_steps_are_refused_where_written() {
        for (yaml, line, says) in [
            (
                "faults:\n  - silent\n  - reject-all\n",
                4,
                "silent and reject-all",
            ),
            (
                "faults:\n  - nak-forever\n  - nak-forever\n",
                4,
                "nak-forever and nak-forever",
            ),
            ("faults:\n  - drop-at-packet: 0\n", 3, "from 1"),
            ("faults:\n  - corrupt-fcs: 0\n", 3, "from 1"),
            (
                "faults:\n  - drop-at-packet: 2\n  - drop-at-packet: 3\n",
                4,
                "only once",
            ),
            (
                "faults:\n  - corrupt-fcs: 2\n  - corrupt-fcs: 2\n",
                4,
                "corrupt-fcs: 2 is given twice",
            ),
            (
                "faults:\n  - corrupt-fcs: 2\n  - silent\n",
                4,
                "nothing to corrupt",
            ),
        ] {
            let error = faults(yaml).unwrap_err();
            assert!(
                matches!(error, ScriptError::Invalid { .. }),
                "{yaml}: {error}"
            );
            assert_eq!(
                error.location().map(|(l, _)| l),
                Some(line),
                "{yaml}: {error}"
            );
            assert!(error.to_string().contains(says), "{yaml}: {error}");
        }
    }

    #[test]
    fn misspelt_or_misshapen_steps_are_syntax_errors_with_a_position() {
        for (yaml, line) in [
            ("faults:\n  - silence\n", 3),
            ("faults:\n  - drop-at-packet: -1\n", 3),
            ("faults:\n  - {corrupt-fcs: 1, drop-at-packet: 2}\n", 3),
            ("faults: silent\n", 2),
        ] {
            let error = faults(yaml).unwrap_err();
            assert!(
                matches!(error, ScriptError::Syntax { .. }),
                "{yaml}: {error}"
            );
            assert_eq!(
                error.location().map(|(l, _)| l),
                Some(line),
                "{yaml}: {error}"
            );
        }
    }

    #[test]
    fn the_injector_counts_frames_each_way() {
        let mut injector = FaultInjector::new(
            faults("faults: [{drop-at-packet: 3}, {corrupt-fcs: 2}]\n").unwrap(),
        );
        assert_eq!(injector.frame_received(), Arrival::Answer);
        assert_eq!(injector.frame_received(), Arrival::Answer);
        assert_eq!(injector.frame_received(), Arrival::HangUp);
        let good = Encoder::default().encode(Protocol::LCP, &[9, 1, 0, 4]);
        let sent: Vec<Vec<u8>> = (0..3)
            .map(|_| {
                let mut frame = good.clone();
                injector.frame_sent(&mut frame);
                frame
            })
            .collect();
        assert_eq!(sent[0], good);
        assert_ne!(sent[1], good);
        assert_eq!(sent[2], good);

        let mut silent = FaultInjector::new(faults("faults: [silent]\n").unwrap());
        assert_eq!(silent.frame_received(), Arrival::Ignore);
    }

    #[test]
    fn a_corrupted_frame_fails_the_fcs_check_and_the_next_one_still_decodes() {
        let encoder = Encoder::default();
        let mut spoiled = encoder.encode(Protocol::LCP, &[1, 1, 0, 4]);
        let good = spoiled.clone();
        corrupt_fcs(&mut spoiled);
        assert_ne!(spoiled, good);
        spoiled.extend(&good);
        let (frames, decoder) = decode(&spoiled);
        assert_eq!(frames, 1);
        assert_eq!(decoder.stats().bad_fcs, 1);
    }

    #[test]
    fn non_frames_are_left_alone() {
        for bytes in [&b""[..], b"\x7e", b"\x7e\x7e", b"\x7e\x01\x7d\x7e", b"AT\r"] {
            let mut copy = bytes.to_vec();
            corrupt_fcs(&mut copy);
            assert_eq!(copy, bytes);
        }
    }

    /// One list entry, well-formed or not.
    fn any_step() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("silent".to_string()),
            Just("nak-forever".to_string()),
            Just("reject-all".to_string()),
            Just("silence".to_string()),
            Just("{}".to_string()),
            Just("[1, 2]".to_string()),
            (0i64..6).prop_map(|n| format!("{{drop-at-packet: {n}}}")),
            (-2i64..6).prop_map(|n| format!("{{corrupt-fcs: {n}}}")),
            Just("{corrupt-fcs: 99999999999}".to_string()),
            Just("{drop-at-packet: x}".to_string()),
            Just("{silent: 1}".to_string()),
        ]
    }

    proptest! {
        #[test]
        fn any_fault_list_parses_or_says_where_it_is_wrong(
            steps in proptest::collection::vec(any_step(), 0..6),
        ) {
            let yaml = format!("auth: none\nfaults: [{}]\n", steps.join(", "));
            match Script::from_yaml(&yaml) {
                Ok(script) => {
                    let faults = script.faults;
                    // Only a step that exists was taken, once.
                    prop_assert!(faults.corrupt_fcs.len() <= steps.len());
                    prop_assert!(
                        faults.negotiation != Negotiation::Silent || faults.corrupt_fcs.is_empty()
                    );
                }
                Err(error) => prop_assert_eq!(error.location().map(|(line, _)| line), Some(2)),
            }
        }

        #[test]
        fn every_corrupted_frame_is_discarded(
            information in proptest::collection::vec(any::<u8>(), 0..64),
            map in any::<u32>(),
            escape_high in any::<bool>(),
        ) {
            let mut words = [map, 0, 0, 0, 0, 0, 0, 0];
            if escape_high {
                // Escape 0x5D and everything from 0xE0 up, so escaped octets can read 0x7D.
                words[2] = 1 << (0x5D % 32);
                words[7] = u32::MAX;
            }
            let encoder = Encoder {
                accm: TransmitAccm::from_words(words),
                ..Encoder::default()
            };
            let mut frame = encoder.encode(Protocol::IPCP, &information);
            corrupt_fcs(&mut frame);
            let (frames, decoder) = decode(&frame);
            prop_assert_eq!(frames, 0);
            prop_assert_eq!(decoder.stats().bad_fcs, 1);
        }
    }
}
