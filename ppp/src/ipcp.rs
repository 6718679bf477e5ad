//! The IP Control Protocol (RFC 1332) with the RFC 1877 DNS extensions: one negotiator for
//! both roles. A dialer requests 0.0.0.0 for itself and its DNS servers and takes the values
//! the server Naks back; a server Naks those requests with the addresses it assigns.

use std::net::Ipv4Addr;

use crate::fsm::{Fsm, FsmConfig, Negotiator, Verdict};
use crate::wire::Protocol;
use crate::wire::control::CodeSet;
use crate::wire::ipcp::IpcpOption;

/// IPCP driven by the RFC 1661 automaton.
pub type Ipcp = Fsm<IpcpNegotiator>;

/// How IPCP should behave in this role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpcpConfig {
    /// The address we request for ourselves; 0.0.0.0 asks the peer to assign one
    /// (RFC 1332 §3.3).
    pub local: Ipv4Addr,
    /// Ask the peer for DNS servers (RFC 1877 §1.1, §1.3).
    pub request_dns: bool,
    /// The address the peer must use (server role): other requests are Nak'd with it.
    /// `None` accepts whatever non-zero address the peer asks for.
    pub assign_peer: Option<Ipv4Addr>,
    /// DNS servers to hand out, primary first (server role); asking for more is Rejected.
    pub dns_servers: Vec<Ipv4Addr>,
}

impl Default for IpcpConfig {
    /// A dialer's request: an address and nothing else.
    fn default() -> Self {
        IpcpConfig {
            local: Ipv4Addr::UNSPECIFIED,
            request_dns: false,
            assign_peer: None,
            dns_servers: Vec::new(),
        }
    }
}

/// Our IPCP requests and judgements.
#[derive(Debug, Clone)]
pub struct IpcpNegotiator {
    config: IpcpConfig,
    request_address: Option<Ipv4Addr>,
    request_dns: [Option<Ipv4Addr>; 2],
    local: Option<Ipv4Addr>,
    peer: Option<Ipv4Addr>,
    dns: [Option<Ipv4Addr>; 2],
}

impl IpcpNegotiator {
    /// A negotiator for `config`.
    pub fn new(config: IpcpConfig) -> Self {
        let mut negotiator = IpcpNegotiator {
            config,
            request_address: None,
            request_dns: [None; 2],
            local: None,
            peer: None,
            dns: [None; 2],
        };
        negotiator.reset();
        negotiator
    }

    /// Our address, once the peer acknowledged it.
    pub fn local_address(&self) -> Option<Ipv4Addr> {
        self.local
    }

    /// The peer's address, if it told us one we acknowledged.
    pub fn peer_address(&self) -> Option<Ipv4Addr> {
        self.peer
    }

    /// DNS servers the peer gave us, primary first.
    pub fn dns_servers(&self) -> Vec<Ipv4Addr> {
        self.dns.iter().flatten().copied().collect()
    }

    fn judge_dns(
        &self,
        index: usize,
        asked: Ipv4Addr,
        option: fn(Ipv4Addr) -> IpcpOption,
    ) -> Verdict<IpcpOption> {
        match self.config.dns_servers.get(index) {
            Some(server) if *server == asked => Verdict::Ack,
            Some(server) => Verdict::Nak(option(*server)),
            // RFC 1877 §1: a peer with no server to give Rejects the option.
            None => Verdict::Reject,
        }
    }
}

impl Negotiator for IpcpNegotiator {
    type Opt = IpcpOption;
    const PROTOCOL: Protocol = Protocol::IPCP;
    const CODES: CodeSet = CodeSet::Ncp;

    fn reset(&mut self) {
        self.request_address = Some(self.config.local);
        let dns = self.config.request_dns.then_some(Ipv4Addr::UNSPECIFIED);
        self.request_dns = [dns, dns];
        self.local = None;
        self.peer = None;
        self.dns = [None; 2];
    }

    fn own_options(&mut self) -> Vec<IpcpOption> {
        let mut options = Vec::new();
        if let Some(address) = self.request_address {
            options.push(IpcpOption::IpAddress(address));
        }
        if let Some(primary) = self.request_dns[0] {
            options.push(IpcpOption::PrimaryDns(primary));
        }
        if let Some(secondary) = self.request_dns[1] {
            options.push(IpcpOption::SecondaryDns(secondary));
        }
        options
    }

    fn judge(&mut self, option: &IpcpOption) -> Verdict<IpcpOption> {
        match option {
            IpcpOption::IpAddress(asked) => match self.config.assign_peer {
                Some(assigned) if assigned == *asked => Verdict::Ack,
                Some(assigned) => Verdict::Nak(IpcpOption::IpAddress(assigned)),
                // RFC 1332 §3.3: 0.0.0.0 asks us to assign one; we have none to give.
                None if asked.is_unspecified() => Verdict::Reject,
                None => Verdict::Ack,
            },
            IpcpOption::PrimaryDns(asked) => self.judge_dns(0, *asked, IpcpOption::PrimaryDns),
            IpcpOption::SecondaryDns(asked) => self.judge_dns(1, *asked, IpcpOption::SecondaryDns),
            IpcpOption::Unknown { .. } => Verdict::Reject,
        }
    }

    fn peer_acked(&mut self, options: &[IpcpOption]) {
        self.peer = options.iter().find_map(|option| match option {
            IpcpOption::IpAddress(address) => Some(*address),
            _ => None,
        });
    }

    fn own_acked(&mut self, options: &[IpcpOption]) {
        for option in options {
            match option {
                IpcpOption::IpAddress(address) => self.local = Some(*address),
                IpcpOption::PrimaryDns(address) => self.dns[0] = Some(*address),
                IpcpOption::SecondaryDns(address) => self.dns[1] = Some(*address),
                IpcpOption::Unknown { .. } => {}
            }
        }
    }

    fn own_nakked(&mut self, option: &IpcpOption) {
        // RFC 1332 §3.3 / RFC 1877 §1: the Nak carries the value to use; request it next time.
        match option {
            IpcpOption::IpAddress(address) => self.request_address = Some(*address),
            IpcpOption::PrimaryDns(address) if self.request_dns[0].is_some() => {
                self.request_dns[0] = Some(*address)
            }
            IpcpOption::SecondaryDns(address) if self.request_dns[1].is_some() => {
                self.request_dns[1] = Some(*address)
            }
            _ => {}
        }
    }

    fn own_rejected(&mut self, option: &IpcpOption) {
        match option {
            IpcpOption::IpAddress(_) => self.request_address = None,
            IpcpOption::PrimaryDns(_) => self.request_dns[0] = None,
            IpcpOption::SecondaryDns(_) => self.request_dns[1] = None,
            IpcpOption::Unknown { .. } => {}
        }
    }
}

/// A fresh IPCP automaton.
pub fn new_ipcp(config: IpcpConfig, fsm: FsmConfig) -> Ipcp {
    Fsm::new(IpcpNegotiator::new(config), fsm)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fsm::State;
    use sansio::Instant;

    fn exchange(a: &mut Ipcp, b: &mut Ipcp) {
        for _ in 0..6 {
            while let Some(p) = a.poll_packet() {
                b.receive(Instant::ZERO, &p);
            }
            while let Some(p) = b.poll_packet() {
                a.receive(Instant::ZERO, &p);
            }
        }
    }

    fn start(config: IpcpConfig) -> Ipcp {
        let mut ipcp = new_ipcp(config, FsmConfig::default());
        ipcp.open(Instant::ZERO);
        ipcp.up(Instant::ZERO);
        ipcp
    }

    #[test]
    fn client_takes_the_assigned_address_and_dns() {
        let mut client = start(IpcpConfig {
            request_dns: true,
            ..IpcpConfig::default()
        });
        let mut server = start(IpcpConfig {
            local: Ipv4Addr::new(10, 0, 0, 1),
            assign_peer: Some(Ipv4Addr::new(10, 0, 0, 2)),
            dns_servers: vec![Ipv4Addr::new(192, 0, 2, 53)],
            ..IpcpConfig::default()
        });
        exchange(&mut client, &mut server);
        assert_eq!(
            (client.state(), server.state()),
            (State::Opened, State::Opened)
        );
        let n = client.negotiator();
        assert_eq!(n.local_address(), Some(Ipv4Addr::new(10, 0, 0, 2)));
        assert_eq!(n.peer_address(), Some(Ipv4Addr::new(10, 0, 0, 1)));
        // The secondary DNS was Rejected and dropped.
        assert_eq!(n.dns_servers(), [Ipv4Addr::new(192, 0, 2, 53)]);
        assert_eq!(
            server.negotiator().peer_address(),
            Some(Ipv4Addr::new(10, 0, 0, 2))
        );
    }
}
