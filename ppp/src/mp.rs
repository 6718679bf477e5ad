//! The PPP Multilink Protocol (RFC 1990), sans-IO: a [`Bundle`] of member links that splits
//! packets into sequenced fragments and puts them back together on the far side, and a
//! [`BundleTable`] that decides which bundle a newly authenticated link belongs to.
//!
//! A driver calls [`Bundle::fragment`] with a packet (its PPP Protocol field and
//! Information, as RFC 1990 §3 carries them) and sends each piece on the link it names, in a
//! Protocol 0x003d frame. Information fields of 0x003d frames received on a member link go to
//! [`Bundle::receive`]; whole packets and losses come out of [`Bundle::poll_event`] in
//! sequence order.
//!
//! Loss detection follows RFC 1990 §4.1: every link carries strictly increasing sequence
//! numbers, so once each member link has delivered something numbered above a missing
//! fragment (M, the minimum over the links of their most recent sequence number, has passed
//! it), the fragment is never coming, and the packet it belonged to is given up.
//! Reassembly buffers at most [`BundleConfig::max_buffered_fragments`]; past that the oldest
//! incomplete packet is given up as well, so no pattern of loss or reordering grows memory
//! without limit.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use tracing::{debug, trace};

use crate::hdlc::DEFAULT_MRU;
use crate::lcp::MultilinkAgreement;
use crate::wire::WireError;
use crate::wire::lcp::EndpointDiscriminator;
use crate::wire::mp::{MpPacket, MpRepr, SequenceFormat};

/// A member link of a bundle, as the bundle numbers them (never reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkId(pub u32);

impl fmt::Display for LinkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "link {}", self.0)
    }
}

/// How a bundle sends and reassembles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BundleConfig {
    /// Header format toward the peer: short if the peer asked for it (RFC 1990 §5.1.2).
    pub transmit_format: SequenceFormat,
    /// Header format the peer sends us: short if we asked and it Acked.
    pub receive_format: SequenceFormat,
    /// The largest packet the peer reassembles (its MRRU, RFC 1990 §5.1.1).
    pub transmit_mrru: u16,
    /// The largest packet we reassemble (our MRRU); bigger ones are discarded.
    pub receive_mrru: u16,
    /// Packets are spread over the links in pieces of at least this many octets (smaller
    /// packets go whole, on one link); a link's MRU may still force smaller pieces.
    pub min_fragment: usize,
    /// Fragments reassembly may hold while it waits for missing ones.
    pub max_buffered_fragments: usize,
}

impl Default for BundleConfig {
    fn default() -> Self {
        BundleConfig {
            transmit_format: SequenceFormat::Long,
            receive_format: SequenceFormat::Long,
            transmit_mrru: DEFAULT_MRU,
            receive_mrru: DEFAULT_MRU,
            min_fragment: 128,
            max_buffered_fragments: 128,
        }
    }
}

impl BundleConfig {
    /// The configuration LCP agreed on (other settings at their defaults).
    pub fn from_agreement(agreement: &MultilinkAgreement) -> Self {
        let format = |short| {
            if short {
                SequenceFormat::Short
            } else {
                SequenceFormat::Long
            }
        };
        BundleConfig {
            transmit_format: format(agreement.transmit_short_sequence),
            receive_format: format(agreement.receive_short_sequence),
            transmit_mrru: agreement.transmit_mrru,
            receive_mrru: agreement.receive_mrru,
            ..BundleConfig::default()
        }
    }
}

/// What reassembly produced, in sequence order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MpEvent {
    /// A whole packet, as the peer passed it to its bundle.
    Packet(Vec<u8>),
    /// Sequence numbers given up: never received, or received but belonging to a packet
    /// that could not be completed (RFC 1990 §4.1), too big, or squeezed out of the buffer.
    Lost {
        /// The first sequence number given up, as on the wire.
        first_sequence: u32,
        /// How many consecutive sequence numbers.
        count: u32,
    },
}

/// Why the bundle refused a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MpError {
    /// Nothing to send on.
    #[error("the bundle has no member links")]
    NoLinks,
    /// An empty packet has nothing to fragment.
    #[error("empty packet")]
    EmptyPacket,
    /// RFC 1990 §5.1.1: the peer cannot reassemble a packet this big.
    #[error("packet of {len} octets exceeds the peer's MRRU of {mrru}")]
    TooLarge {
        /// The packet's length.
        len: usize,
        /// The peer's MRRU.
        mrru: u16,
    },
    /// A link whose MRU cannot hold an MP header and at least one octet of data.
    #[error("link MRU {mru} leaves no room after a {header}-octet MP header")]
    MruTooSmall {
        /// The link's MRU.
        mru: u16,
        /// The header's length.
        header: usize,
    },
    /// The link is not a member of this bundle.
    #[error("{0} is not a member of this bundle")]
    UnknownLink(LinkId),
    /// No bundle has this id.
    #[error("{0} does not exist")]
    UnknownBundle(BundleId),
    /// A malformed MP header.
    #[error(transparent)]
    Wire(#[from] WireError),
}

#[derive(Debug, Clone)]
struct Member {
    /// The peer's MRU on this link: the largest Information field we may send on it.
    mru: u16,
    /// The most recent sequence number received on it (extended, see [`Reassembly`]).
    last_received: Option<u64>,
}

#[derive(Debug, Clone)]
struct Fragment {
    begin: bool,
    end: bool,
    data: Vec<u8>,
}

/// How the packet starting at the next expected sequence number stands.
enum Head {
    /// Fragments `next..=end` form a whole packet.
    Complete(u64),
    /// Fragments from `next` up to (not including) this one can never form a packet.
    Broken(u64),
    /// The packet is still missing this sequence number.
    Missing(u64),
}

/// The receive side. Sequence numbers are extended to 64 bits relative to `next`, so the
/// wrap of the 12- or 24-bit wire number (RFC 1990 §3) needs no special case: a number up to
/// half the sequence space ahead of `next` is new, anything else is old.
#[derive(Debug, Clone)]
struct Reassembly {
    format: SequenceFormat,
    mrru: usize,
    max_fragments: usize,
    /// Every sequence number below this was delivered or given up.
    next: u64,
    fragments: BTreeMap<u64, Fragment>,
}

impl Reassembly {
    fn new(config: &BundleConfig) -> Self {
        Reassembly {
            format: config.receive_format,
            mrru: usize::from(config.receive_mrru),
            max_fragments: config.max_buffered_fragments.max(1),
            next: 0,
            fragments: BTreeMap::new(),
        }
    }

    fn wire(&self, sequence: u64) -> u32 {
        // The mask keeps at most 24 bits, which always fit.
        u32::try_from(sequence & u64::from(self.format.max_sequence())).unwrap_or(0)
    }

    /// The extended number of a wire sequence number, or `None` if it lies behind `next`.
    fn extend(&self, wire: u32) -> Option<u64> {
        let modulus = 1u64 << self.format.bits();
        let ahead = (u64::from(wire) + modulus - self.next % modulus) % modulus;
        (ahead < modulus / 2).then_some(self.next + ahead)
    }

    fn head(&self) -> Head {
        let mut size = 0usize;
        let mut sequence = self.next;
        loop {
            let Some(fragment) = self.fragments.get(&sequence) else {
                return Head::Missing(sequence);
            };
            if sequence == self.next && !fragment.begin {
                // The tail of a packet whose beginning was given up.
                return Head::Broken(sequence + 1);
            }
            if sequence != self.next && fragment.begin {
                // A new packet starts before this one ended: the sender broke RFC 1990 §3.
                return Head::Broken(sequence);
            }
            size += fragment.data.len();
            if size > self.mrru {
                // RFC 1990 §5.1.1: more than we said we reassemble.
                return Head::Broken(sequence + 1);
            }
            if fragment.end {
                return Head::Complete(sequence);
            }
            sequence += 1;
        }
    }

    /// Deliver and give up what `limit` settles: a sequence number below `limit` that has
    /// not arrived never will (RFC 1990 §4.1, `limit` is M). `None`: nothing is settled yet.
    fn process(&mut self, limit: Option<u64>, events: &mut VecDeque<MpEvent>) {
        while let Some((&first, _)) = self.fragments.first_key_value() {
            if first > self.next {
                let settled = limit.map_or(self.next, |m| m.min(first));
                if settled <= self.next {
                    return;
                }
                self.give_up(settled, events);
                continue;
            }
            match self.head() {
                Head::Complete(end) => {
                    let mut packet = Vec::new();
                    for (_, fragment) in self.fragments.range(self.next..=end) {
                        packet.extend_from_slice(&fragment.data);
                    }
                    self.fragments.retain(|&sequence, _| sequence > end);
                    self.next = end + 1;
                    trace!(len = packet.len(), "MP: packet reassembled");
                    events.push_back(MpEvent::Packet(packet));
                }
                Head::Broken(upto) => self.give_up(upto, events),
                Head::Missing(hole) if limit.is_some_and(|m| hole < m) => {
                    self.give_up(hole + 1, events);
                }
                Head::Missing(_) => return,
            }
        }
    }

    /// A limit that settles at least the oldest incomplete packet: just past the first hole
    /// after the first buffered fragment.
    fn forcing_limit(&self) -> Option<u64> {
        let (&first, _) = self.fragments.first_key_value()?;
        let mut sequence = first;
        while self.fragments.contains_key(&sequence) {
            sequence += 1;
        }
        Some(sequence + 1)
    }

    /// Settle `limit`, then give up the oldest packets while the buffer is over its bound.
    fn settle(&mut self, limit: Option<u64>, events: &mut VecDeque<MpEvent>) {
        self.process(limit, events);
        while self.fragments.len() > self.max_fragments {
            let forced = self.forcing_limit();
            debug!(
                buffered = self.fragments.len(),
                "MP: reassembly buffer full, giving up the oldest packet"
            );
            self.process(forced, events);
        }
    }

    /// Give up every sequence number from `next` to `upto` (exclusive).
    fn give_up(&mut self, upto: u64, events: &mut VecDeque<MpEvent>) {
        let first_sequence = self.wire(self.next);
        let count = u32::try_from(upto - self.next).unwrap_or(u32::MAX);
        self.fragments.retain(|&sequence, _| sequence >= upto);
        self.next = upto;
        debug!(first_sequence, count, "MP: fragments lost");
        if let Some(MpEvent::Lost {
            first_sequence: previous,
            count: previous_count,
        }) = events.back_mut()
            && self.wire(u64::from(*previous) + u64::from(*previous_count)) == first_sequence
        {
            *previous_count = previous_count.saturating_add(count);
            return;
        }
        events.push_back(MpEvent::Lost {
            first_sequence,
            count,
        });
    }
}

/// One MP bundle: its member links, the transmit sequence and the reassembly.
#[derive(Debug, Clone)]
pub struct Bundle {
    config: BundleConfig,
    members: BTreeMap<LinkId, Member>,
    next_link_id: u32,
    /// The link that carried the last fragment; the next goes to the one after it.
    last_used: Option<LinkId>,
    /// RFC 1990 §4.1: the first fragment on a new bundle is numbered zero.
    next_transmit: u32,
    reassembly: Reassembly,
    events: VecDeque<MpEvent>,
}

impl Bundle {
    /// An empty bundle.
    pub fn new(config: BundleConfig) -> Self {
        Bundle {
            reassembly: Reassembly::new(&config),
            config,
            members: BTreeMap::new(),
            next_link_id: 0,
            last_used: None,
            next_transmit: 0,
            events: VecDeque::new(),
        }
    }

    /// The bundle's configuration.
    pub fn config(&self) -> &BundleConfig {
        &self.config
    }

    /// Add a member link whose peer accepts Information fields of up to `mru` octets.
    /// RFC 1990 §4.1: joining changes nothing in the sequence space.
    pub fn add_link(&mut self, mru: u16) -> Result<LinkId, MpError> {
        let header = self.config.transmit_format.header_len();
        if usize::from(mru) <= header {
            return Err(MpError::MruTooSmall { mru, header });
        }
        let link = LinkId(self.next_link_id);
        self.next_link_id += 1;
        self.members.insert(
            link,
            Member {
                mru,
                last_received: None,
            },
        );
        Ok(link)
    }

    /// Take a link out of the bundle (it went down). It no longer holds back loss detection.
    pub fn remove_link(&mut self, link: LinkId) -> Result<(), MpError> {
        self.members
            .remove(&link)
            .ok_or(MpError::UnknownLink(link))?;
        self.reassemble();
        Ok(())
    }

    /// The member links.
    pub fn links(&self) -> impl Iterator<Item = LinkId> + '_ {
        self.members.keys().copied()
    }

    fn next_link(&mut self) -> Option<(LinkId, u16)> {
        let after = self.last_used.and_then(|last| {
            self.members
                .range((std::ops::Bound::Excluded(last), std::ops::Bound::Unbounded))
                .next()
        });
        let (&link, member) = after.or_else(|| self.members.first_key_value())?;
        self.last_used = Some(link);
        Some((link, member.mru))
    }

    /// Split `packet` into fragments with consecutive sequence numbers, spread round-robin
    /// over the member links, each small enough for its link's MRU. Returns each fragment's
    /// Information field (MP header and data) with the link to send it on, in sequence
    /// order; a link's fragments must go out in that order (RFC 1990 §4.1).
    pub fn fragment(&mut self, packet: &[u8]) -> Result<Vec<(LinkId, Vec<u8>)>, MpError> {
        if packet.is_empty() {
            return Err(MpError::EmptyPacket);
        }
        let mrru = self.config.transmit_mrru;
        if packet.len() > usize::from(mrru) {
            return Err(MpError::TooLarge {
                len: packet.len(),
                mrru,
            });
        }
        if self.members.is_empty() {
            return Err(MpError::NoLinks);
        }
        let format = self.config.transmit_format;
        let pieces = packet
            .len()
            .div_ceil(self.config.min_fragment.max(1))
            .clamp(1, self.members.len());
        let target = packet.len().div_ceil(pieces);
        let mut fragments = Vec::with_capacity(pieces);
        let mut rest = packet;
        while let Some((link, mru)) = self.next_link() {
            // `add_link` made sure every MRU has room for at least one octet.
            let room = usize::from(mru) - format.header_len();
            let (data, tail) = rest.split_at(target.min(room).min(rest.len()));
            let header = MpRepr {
                begin: fragments.is_empty(),
                end: tail.is_empty(),
                sequence: self.next_transmit,
                format,
            };
            trace!(%link, "MP sent {header}");
            fragments.push((link, header.to_bytes(data)));
            self.next_transmit = (self.next_transmit + 1) & format.max_sequence();
            rest = tail;
            if rest.is_empty() {
                break;
            }
        }
        Ok(fragments)
    }

    /// The Information field of an MP frame received on `link`.
    pub fn receive(&mut self, link: LinkId, information: &[u8]) -> Result<(), MpError> {
        let format = self.reassembly.format;
        let member = self
            .members
            .get_mut(&link)
            .ok_or(MpError::UnknownLink(link))?;
        let packet = MpPacket::new_checked(information, format)?;
        let header = MpRepr::parse(&packet);
        trace!(%link, "MP rcvd {header}");
        let Some(sequence) = self.reassembly.extend(header.sequence) else {
            debug!(%link, sequence = header.sequence, "MP: fragment behind the reassembly point, discarded");
            return Ok(());
        };
        // RFC 1990 §4.1 has each link's numbers strictly increase; should a sender break
        // that, M still never moves back.
        member.last_received = member.last_received.max(Some(sequence));
        self.reassembly
            .fragments
            .entry(sequence)
            .or_insert_with(|| Fragment {
                begin: header.begin,
                end: header.end,
                data: packet.fragment().to_vec(),
            });
        self.reassemble();
        Ok(())
    }

    /// RFC 1990 §4.1: M, the least of the links' most recent sequence numbers. A link that
    /// has received nothing yet could still bring anything, so it settles nothing.
    fn settled_limit(&self) -> Option<u64> {
        self.members
            .values()
            .map(|member| member.last_received)
            .min()
            .flatten()
    }

    fn reassemble(&mut self) {
        let limit = self.settled_limit();
        self.reassembly.settle(limit, &mut self.events);
    }

    /// Nothing more will arrive (the bundle is closing, or the driver's reassembly timer
    /// expired): deliver what is complete and give up every hole.
    pub fn flush(&mut self) {
        self.reassembly.settle(Some(u64::MAX), &mut self.events);
    }

    /// Fragments held for reassembly (at most [`BundleConfig::max_buffered_fragments`]).
    pub fn buffered_fragments(&self) -> usize {
        self.reassembly.fragments.len()
    }

    /// The next packet or loss, in sequence order.
    pub fn poll_event(&mut self) -> Option<MpEvent> {
        self.events.pop_front()
    }
}

/// Which bundle a link belongs to (RFC 1990 §3, §5.1.3): the peer's authenticated name and
/// its Endpoint Discriminator. Links agreeing on both join one bundle; links with neither
/// all join the one anonymous bundle.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BundleKey {
    /// The name the peer authenticated with, if it authenticated.
    pub peer_name: Option<Vec<u8>>,
    /// The peer's discriminator; the Null class counts as none (RFC 1990 §5.1.3).
    pub discriminator: Option<EndpointDiscriminator>,
}

impl BundleKey {
    /// The key for a link's peer.
    pub fn new(peer_name: Option<&[u8]>, discriminator: Option<EndpointDiscriminator>) -> Self {
        BundleKey {
            peer_name: peer_name.map(<[u8]>::to_vec),
            discriminator: discriminator.filter(|d| !d.is_null()),
        }
    }
}

/// A bundle in a [`BundleTable`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BundleId(pub u32);

impl fmt::Display for BundleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "bundle {}", self.0)
    }
}

/// Where [`BundleTable::join`] put a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Joined {
    /// The bundle.
    pub bundle: BundleId,
    /// The link within it.
    pub link: LinkId,
    /// The link started a new bundle (the first link of a call, RFC 1990 §3).
    pub created: bool,
}

/// Every bundle of one system, keyed by whom the links lead to.
#[derive(Debug, Clone, Default)]
pub struct BundleTable {
    bundles: BTreeMap<BundleId, (BundleKey, Bundle)>,
    next_id: u32,
}

impl BundleTable {
    /// No bundles.
    pub fn new() -> Self {
        BundleTable::default()
    }

    /// The bundle for `key`, if one is open.
    pub fn find(&self, key: &BundleKey) -> Option<BundleId> {
        self.bundles
            .iter()
            .find(|(_, (existing, _))| existing == key)
            .map(|(&id, _)| id)
    }

    /// Add a link (peer MRU `mru`) to the bundle for `key`, opening one with `config` if
    /// there is none. A link joining an open bundle uses that bundle's configuration.
    pub fn join(
        &mut self,
        key: BundleKey,
        config: BundleConfig,
        mru: u16,
    ) -> Result<Joined, MpError> {
        if let Some(bundle) = self.find(&key) {
            let link = self
                .bundle_mut(bundle)
                .ok_or(MpError::UnknownBundle(bundle))?
                .add_link(mru)?;
            return Ok(Joined {
                bundle,
                link,
                created: false,
            });
        }
        let mut fresh = Bundle::new(config);
        let link = fresh.add_link(mru)?;
        let bundle = BundleId(self.next_id);
        self.next_id += 1;
        self.bundles.insert(bundle, (key, fresh));
        Ok(Joined {
            bundle,
            link,
            created: true,
        })
    }

    /// Take `link` out of `bundle`; the bundle closes with its last link. Returns whether
    /// it closed.
    pub fn leave(&mut self, bundle: BundleId, link: LinkId) -> Result<bool, MpError> {
        let (_, members) = self
            .bundles
            .get_mut(&bundle)
            .ok_or(MpError::UnknownBundle(bundle))?;
        members.remove_link(link)?;
        let closed = members.links().next().is_none();
        if closed {
            self.bundles.remove(&bundle);
        }
        Ok(closed)
    }

    /// A bundle, to send and receive on.
    pub fn bundle_mut(&mut self, bundle: BundleId) -> Option<&mut Bundle> {
        self.bundles.get_mut(&bundle).map(|(_, b)| b)
    }

    /// Open bundles.
    pub fn len(&self) -> usize {
        self.bundles.len()
    }

    /// Whether no bundle is open.
    pub fn is_empty(&self) -> bool {
        self.bundles.is_empty()
    }
}

#[cfg(test)]
mod tests;
