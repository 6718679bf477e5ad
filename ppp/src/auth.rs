//! What the side being authenticated learns, whichever protocol it ran (PAP, CHAP-MD5 or
//! MS-CHAPv2): one outcome type, so the link handles them all alike.

/// How an authentication ended, for the side being authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// The authenticator accepted us (PAP Authenticate-Ack, CHAP Success), with its message.
    Succeeded(String),
    /// The authenticator refused us (PAP Authenticate-Nak, CHAP Failure).
    Failed(AuthFailure),
    /// MS-CHAPv2 Success whose `S=` is missing or wrong: the authenticator does not know
    /// our password, so it is not who it claims to be (RFC 2759 §5).
    ServerNotAuthenticated,
    /// No answer in time.
    TimedOut,
}

/// A refusal, as the authenticator explained it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFailure {
    /// The human-readable message (MS-CHAPv2: the `M=` text).
    pub message: String,
    /// MS-CHAPv2 `E=` (RFC 2759 §6); `None` for PAP and CHAP-MD5, which carry no code.
    pub error: Option<u32>,
    /// MS-CHAPv2 `R=1` with a `C=` challenge to answer: new credentials may be tried.
    pub retry_allowed: bool,
}

impl AuthFailure {
    /// A refusal with a message and nothing else (PAP, CHAP-MD5).
    pub fn plain(message: String) -> Self {
        AuthFailure {
            message,
            error: None,
            retry_allowed: false,
        }
    }
}
