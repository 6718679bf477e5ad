//! The application's notifier (ras-reference §3.9) and the rules for calling it
//! (§4.1): zero error on entry to each state, one nonzero error ends the flow, nothing
//! after Connected, after hang-up, or after a RasDialFunc2 asked to stop.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use super::HRasConn;
use crate::ras::{Notification, RasConnState};

/// `WM_RASDIALEVENT` (H1): the `unMsg` of every RasDialFunc/1/2 call, and the window
/// message when `RegisterWindowMessage("RasDialEvent")` is not available.
pub const WM_RASDIALEVENT: u32 = 0xCCCD;

/// `RasDialFunc`: (unMsg, state, error).
pub type RasDialFunc = Box<dyn FnMut(u32, RasConnState, u32) + Send>;
/// `RasDialFunc1`: (handle, unMsg, state, error, extended error).
pub type RasDialFunc1 = Box<dyn FnMut(HRasConn, u32, RasConnState, u32, u32) + Send>;
/// `RasDialFunc2`: (callback id, subentry, handle, unMsg, state, error, extended error).
/// Returning [`NotifyControl::Stop`] ends notifications for every subentry (§4.1 rule 5).
pub type RasDialFunc2 =
    Box<dyn FnMut(usize, u32, HRasConn, u32, RasConnState, u32, u32) -> NotifyControl + Send>;

/// What a RasDialFunc2 returns: nonzero keeps notifications coming, zero stops them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyControl {
    /// Keep notifying (a nonzero return).
    Continue,
    /// Stop notifying for the whole connection (a zero return); the dial itself goes on.
    Stop,
}

/// A window message, as `WM_RASDIALEVENT` delivers it: wParam = state, lParam = error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowMessage {
    /// The message id ([`WM_RASDIALEVENT`]).
    pub message: u32,
    /// wParam: the state.
    pub wparam: RasConnState,
    /// lParam: the error (0 on entry to a state).
    pub lparam: u32,
}

/// How the application hears about progress (`dwNotifierType` + `lpvNotifier`).
pub enum Notifier {
    /// Type 0.
    Func(RasDialFunc),
    /// Type 1.
    Func1(RasDialFunc1),
    /// Type 2.
    Func2(RasDialFunc2),
    /// Type 0xFFFFFFFF: a window receives `WM_RASDIALEVENT`; here, a channel does.
    Window(mpsc::Sender<WindowMessage>),
}

impl fmt::Debug for Notifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Notifier::Func(_) => "Notifier::Func",
            Notifier::Func1(_) => "Notifier::Func1",
            Notifier::Func2(_) => "Notifier::Func2",
            Notifier::Window(_) => "Notifier::Window",
        })
    }
}

/// Calls a notifier by the rules of §4.1. Both drivers use it, so the rules hold the same
/// way under each.
#[derive(Debug)]
pub struct Dispatcher {
    notifier: Notifier,
    handle: HRasConn,
    callback_id: usize,
    ended: bool,
    /// A multilink connection's flow (ras-reference §4.5 rule 26): see
    /// [`Dispatcher::multilink`].
    multilink: bool,
    /// Set by RasHangUp: a notification not yet begun is not delivered (§4.1 rule 3c).
    cancelled: Arc<AtomicBool>,
}

impl Dispatcher {
    /// A dispatcher for the connection `handle`; `callback_id` is `dwCallbackId`.
    pub fn new(notifier: Notifier, handle: HRasConn, callback_id: usize) -> Self {
        Dispatcher {
            notifier,
            handle,
            callback_id,
            ended: false,
            multilink: false,
            cancelled: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The flow of a multilink (dial-all) connection: a link's failure,
    /// SubEntryDisconnected with its error, does not end it; and a RasDialFunc2, the
    /// notifier made for multilink, goes on hearing of its links after Connected:
    /// SubEntryDisconnected for each link that drops, the last one ending the flow
    /// [inferred: the seeds only say each notification carries the subentry]. RasDialFunc
    /// and RasDialFunc1 receive the same states without a subentry (they cannot tell the
    /// links apart) and, as for any dial, nothing after Connected.
    pub fn multilink(mut self, on: bool) -> Self {
        self.multilink = on;
        self
    }

    /// The same, cancelled when `cancelled` is set (the connection's hang-up flag).
    pub fn cancelled_by(mut self, cancelled: &Arc<AtomicBool>) -> Self {
        self.cancelled = Arc::clone(cancelled);
        self
    }

    /// Whether no more notifications will be delivered.
    pub fn has_ended(&self) -> bool {
        self.ended
    }

    /// The application hung up: nothing more is delivered (§4.1 rule 3c).
    pub fn end(&mut self) {
        self.ended = true;
    }

    /// Deliver one notification, unless the flow has ended. Returns whether it was
    /// delivered.
    pub fn deliver(&mut self, n: &Notification) -> bool {
        if self.cancelled.load(Ordering::SeqCst) {
            self.ended = true;
        }
        if self.ended {
            return false;
        }
        let error = n.error.map_or(0, |e| e.code());
        // §4.1 rule 3: Connected and any error end the flow; a multilink link's failure
        // does not, nor does Connected for a multilink RasDialFunc2 (see `multilink`).
        let link_report = self.multilink && n.state == RasConnState::SubEntryDisconnected;
        let keeps_listening = self.multilink && matches!(self.notifier, Notifier::Func2(_));
        self.ended = (n.error.is_some() && !link_report)
            || (n.state == RasConnState::Connected && !keeps_listening);
        match &mut self.notifier {
            Notifier::Func(f) => f(WM_RASDIALEVENT, n.state, error),
            Notifier::Func1(f) => f(
                self.handle,
                WM_RASDIALEVENT,
                n.state,
                error,
                n.extended_error,
            ),
            Notifier::Func2(f) => {
                let control = f(
                    self.callback_id,
                    n.subentry,
                    self.handle,
                    WM_RASDIALEVENT,
                    n.state,
                    error,
                    n.extended_error,
                );
                if control == NotifyControl::Stop {
                    self.ended = true;
                }
            }
            Notifier::Window(tx) => {
                // A closed window is like a window that ignores the message.
                let _ = tx.send(WindowMessage {
                    message: WM_RASDIALEVENT,
                    wparam: n.state,
                    lparam: error,
                });
            }
        }
        true
    }
}
