//! The C notifier (`dwNotifierType` + `lpvNotifier`, ras-reference §3.9) as the engine's
//! [`Notifier`]. The engine keeps the rules of §4.1 (zero error on entry, one error ends
//! the flow, a zero RasDialFunc2 return stops it); this module only makes the calls.
//!
//! Notifications arrive on a thread the library owns, the dial's own (§4.1 rule 7: a
//! thread of RAS's choosing), never on the thread that called `RasDialA`.

use std::ffi::c_void;

use ras_engine::api::{Notifier, NotifyControl};
use ras_engine::ras::RasError;

use crate::abi::{
    HWND, LPARAM, RASDIALFUNC, RASDIALFUNC1, RASDIALFUNC2, RASWINDOW, WPARAM, notifier_type,
};
use crate::to_hrasconn;

/// The application's window, carried to the dial's thread.
#[derive(Clone, Copy)]
struct Window(HWND);

// SAFETY: a RASWINDOW is the application's, which promises (ras.h) that it stays valid
// and may be used from the library's threads until the dial's last notification.
unsafe impl Send for Window {}

impl Window {
    /// Deliver `WM_RASDIALEVENT` (wParam = state, lParam = error; §4.1 rule 4).
    fn post(self, message: u32, state: u32, error: u32) {
        let hwnd = self.0;
        // SAFETY: `hwnd` points to the application's RASWINDOW (see `Send` above); its
        // procedure, if set, has the RASWNDPROC signature.
        unsafe {
            let window: RASWINDOW = hwnd.read();
            if let Some(procedure) = window.lpfnWndProc {
                procedure(hwnd, message, state as WPARAM, error as LPARAM);
            }
        }
    }
}

/// The notifier `lpvNotifier` of type `kind` names; `None` when it is NULL (a synchronous
/// dial; `dwNotifierType` is then ignored, §4.2 rule 13). An unknown type with a non-NULL
/// notifier is 87 ERROR_INVALID_PARAMETER [inferred].
///
/// # Safety
///
/// `notifier` is NULL or what `kind` says: a function of that `RASDIALFUNC*` type, or for
/// [`notifier_type::HWND`] a `RASWINDOW` that lives until the last notification.
pub(crate) unsafe fn from_c(
    kind: u32,
    notifier: *mut c_void,
) -> Result<Option<Notifier>, RasError> {
    if notifier.is_null() {
        return Ok(None);
    }
    let notifier = match kind {
        notifier_type::RASDIALFUNC => {
            // SAFETY: the caller's promise: a RASDIALFUNC.
            let function = unsafe { std::mem::transmute::<*mut c_void, RASDIALFUNC>(notifier) };
            Notifier::Func(Box::new(move |message, state, error| {
                // SAFETY: calling the application's notifier with its own signature.
                unsafe { function(message, state.value(), error) }
            }))
        }
        notifier_type::RASDIALFUNC1 => {
            // SAFETY: the caller's promise: a RASDIALFUNC1.
            let function = unsafe { std::mem::transmute::<*mut c_void, RASDIALFUNC1>(notifier) };
            Notifier::Func1(Box::new(move |handle, message, state, error, extended| {
                // SAFETY: as above.
                unsafe { function(to_hrasconn(handle), message, state.value(), error, extended) }
            }))
        }
        notifier_type::RASDIALFUNC2 => {
            // SAFETY: the caller's promise: a RASDIALFUNC2.
            let function = unsafe { std::mem::transmute::<*mut c_void, RASDIALFUNC2>(notifier) };
            Notifier::Func2(Box::new(
                move |callback_id, subentry, handle, message, state, error, extended| {
                    // SAFETY: as above.
                    let more = unsafe {
                        function(
                            callback_id,
                            subentry,
                            to_hrasconn(handle),
                            message,
                            state.value(),
                            error,
                            extended,
                        )
                    };
                    // §4.1 rule 5: zero stops the notifications.
                    if more == 0 {
                        NotifyControl::Stop
                    } else {
                        NotifyControl::Continue
                    }
                },
            ))
        }
        notifier_type::HWND => {
            let window = Window(notifier.cast::<RASWINDOW>());
            Notifier::Func(Box::new(move |message, state, error| {
                window.post(message, state.value(), error);
            }))
        }
        _ => return Err(RasError::ERROR_INVALID_PARAMETER),
    };
    Ok(Some(notifier))
}
