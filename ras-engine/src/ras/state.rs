//! `RASCONNSTATE` (ras-reference §1, values from the SDK `ras.h`, H1).

use std::fmt;
use std::str::FromStr;

/// `RASCS_PAUSED`: the bit every paused state carries (H1).
pub const RASCS_PAUSED: u32 = 0x1000;
/// `RASCS_DONE`: the bit every final state carries (H1).
pub const RASCS_DONE: u32 = 0x2000;

macro_rules! ras_conn_states {
    ($($(#[$doc:meta])* $name:ident = $value:expr,)*) => {
        /// The state of a RAS connection, with the exact numeric values of `ras.h`.
        ///
        /// Values 19–21 (the Windows 9x states) are kept so that SubEntryConnected is 22,
        /// as the SDK header has it (ras-reference §1 note 4).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u32)]
        pub enum RasConnState {
            $($(#[$doc])* $name = $value,)*
        }

        impl RasConnState {
            /// Every state, in declaration order.
            pub const ALL: &'static [RasConnState] = &[$(RasConnState::$name,)*];

            /// The enumerator name without its `RASCS_` prefix, e.g. `"ConnectDevice"`.
            pub const fn name(self) -> &'static str {
                match self {
                    $(RasConnState::$name => stringify!($name),)*
                }
            }
        }
    };
}

ras_conn_states! {
    /// About to open the communication port.
    OpenPort = 0,
    /// The port is open.
    PortOpened = 1,
    /// About to connect (dial) a device of the device chain.
    ConnectDevice = 2,
    /// That device has connected.
    DeviceConnected = 3,
    /// The whole device chain is up: the physical link exists.
    AllDevicesConnected = 4,
    /// PPP link set-up and the credentials exchange are starting.
    Authenticate = 5,
    /// An authentication event; with a nonzero error, authentication failed.
    AuthNotify = 6,
    /// The client was asked to retry authentication.
    AuthRetry = 7,
    /// The server asked for a callback number.
    AuthCallback = 8,
    /// The client was asked to change its (expired) password.
    AuthChangePassword = 9,
    /// Projection (the PPP network control protocols) is starting.
    AuthProject = 10,
    /// The link speed is being computed.
    AuthLinkSpeed = 11,
    /// An authentication request is being acknowledged.
    AuthAck = 12,
    /// Re-authentication after a callback is starting.
    ReAuthenticate = 13,
    /// Authentication completed.
    Authenticated = 14,
    /// The line is about to drop so the server can call back.
    PrepareForCallback = 15,
    /// Waiting for the modem to reset before the callback.
    WaitForModemReset = 16,
    /// Waiting for the server's call.
    WaitForCallback = 17,
    /// The projection result is available.
    Projected = 18,
    /// Windows 9x only: user authentication started.
    StartAuthentication = 19,
    /// Windows 9x only: the callback happened.
    CallbackComplete = 20,
    /// Windows 9x only: logging on to the network.
    LogonNetwork = 21,
    /// Multilink: one subentry connected.
    SubEntryConnected = 22,
    /// Multilink: one subentry failed or went down.
    SubEntryDisconnected = 23,
    /// Windows 7+: connection settings are being applied.
    ApplySettings = 24,
    /// Paused: terminal mode, the application talks to the remote host.
    Interactive = RASCS_PAUSED,
    /// Paused: credentials were rejected; resume with new ones.
    RetryAuthentication = RASCS_PAUSED + 1,
    /// Paused: the server will call back and wants the number.
    CallbackSetByCaller = RASCS_PAUSED + 2,
    /// Paused: the password expired; resume with the new one.
    PasswordExpired = RASCS_PAUSED + 3,
    /// Paused: the EAP method needs the user.
    InvokeEapUI = RASCS_PAUSED + 4,
    /// Final: the link is up and usable.
    Connected = RASCS_DONE,
    /// Final: the link is down or the attempt failed.
    Disconnected = RASCS_DONE + 1,
}

impl RasConnState {
    /// The numeric value of `ras.h`.
    pub const fn value(self) -> u32 {
        self as u32
    }

    /// The state with this numeric value, if there is one.
    pub fn from_value(value: u32) -> Option<Self> {
        Self::ALL.iter().copied().find(|s| s.value() == value)
    }

    /// `state & RASCS_PAUSED != 0` (ras-reference §1 note 1).
    pub const fn is_paused(self) -> bool {
        self.value() & RASCS_PAUSED != 0
    }

    /// `state & RASCS_DONE != 0`: Connected or Disconnected.
    pub const fn is_final(self) -> bool {
        self.value() & RASCS_DONE != 0
    }
}

impl fmt::Display for RasConnState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not a `RASCONNSTATE` enumerator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a RASCONNSTATE name (expected e.g. `ConnectDevice` or `RASCS_Connected`)")]
pub struct UnknownState(pub String);

impl FromStr for RasConnState {
    type Err = UnknownState;
    /// Accepts `ConnectDevice` and `RASCS_ConnectDevice`, case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let trimmed = s.trim();
        let bare = trimmed.strip_prefix("RASCS_").unwrap_or(trimmed);
        Self::ALL
            .iter()
            .copied()
            .find(|state| state.name().eq_ignore_ascii_case(bare))
            .ok_or_else(|| UnknownState(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_the_sdk_header() {
        // ras-reference §1: the header values, including the 9x gap before 22.
        assert_eq!(RasConnState::OpenPort.value(), 0);
        assert_eq!(RasConnState::Projected.value(), 18);
        assert_eq!(RasConnState::SubEntryConnected.value(), 22);
        assert_eq!(RasConnState::ApplySettings.value(), 24);
        assert_eq!(RasConnState::Interactive.value(), 0x1000);
        assert_eq!(RasConnState::InvokeEapUI.value(), 0x1004);
        assert_eq!(RasConnState::Connected.value(), 0x2000);
        assert_eq!(RasConnState::Disconnected.value(), 0x2001);
        assert_eq!(RasConnState::ALL.len(), 32);
    }

    #[test]
    fn bits_classify_states() {
        assert!(RasConnState::PasswordExpired.is_paused());
        assert!(!RasConnState::PasswordExpired.is_final());
        assert!(RasConnState::Disconnected.is_final());
        assert!(!RasConnState::Authenticate.is_paused());
    }

    #[test]
    fn names_round_trip() {
        for state in RasConnState::ALL {
            assert_eq!(state.name().parse::<RasConnState>(), Ok(*state));
            assert_eq!(RasConnState::from_value(state.value()), Some(*state));
        }
        assert_eq!("RASCS_connected".parse(), Ok(RasConnState::Connected));
        assert!("Connectd".parse::<RasConnState>().is_err());
    }
}
