//! The C types of `include/ras.h`, mirrored for Rust: the ANSI structures of ras-reference
//! §3 with the Linux types standing in for the Windows ones (`DWORD` = `uint32_t`,
//! `ULONG_PTR` = `uintptr_t`, handles as opaque pointers), in the SDK's 4-byte packing
//! (§3.1: `ras.h` includes `<pshpack4.h>`, so these are `repr(C, packed(4))`).
//!
//! Every structure starts with `dwSize`, and the caller's value says which version of the
//! structure it passes (§4.2 rule 13). Each structure lists the sizes its versions have
//! ([`Versioned::SIZES`], computed from field offsets so they hold on 32- and 64-bit
//! targets alike); any other size is 632 ERROR_INVALID_SIZE. Older versions are shorter
//! prefixes of the newest, so the library reads and writes only the first `dwSize` bytes.
//!
//! The numbers (RAS_Max*, RDEOPT_*, notifier types) come from ras-reference §3; the
//! header declares the same ones, and `tests/header.rs` checks that it does.

#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals)]

use std::ffi::{c_char, c_void};
use std::mem::{offset_of, size_of};

/// `DWORD`.
pub type DWORD = u32;
/// `UINT`.
pub type UINT = u32;
/// `BOOL`.
pub type BOOL = i32;
/// `ULONG_PTR`.
pub type ULONG_PTR = usize;
/// `WPARAM`.
pub type WPARAM = usize;
/// `LPARAM`.
pub type LPARAM = isize;
/// `LRESULT`.
pub type LRESULT = isize;
/// `RASCONNSTATE`: a C enum, passed as its value (ras-reference §1).
pub type RASCONNSTATE = u32;

/// What an `HRASCONN` points to: nothing. The handle is the engine's connection number
/// written as a pointer (see [`crate::to_hrasconn`]).
#[repr(C)]
#[derive(Debug)]
pub struct HRASCONN__ {
    _opaque: [u8; 0],
}
/// `HRASCONN`: an opaque connection handle; NULL is never a connection.
pub type HRASCONN = *mut HRASCONN__;

/// `HINSTANCE` of a custom-dial library: the loader's handle (`dlopen`).
pub type HINSTANCE = *mut c_void;

/// The window procedure of the Linux stand-in for a window ([`RASWINDOW`]).
pub type RASWNDPROC =
    Option<unsafe extern "C" fn(hwnd: HWND, uMsg: UINT, wParam: WPARAM, lParam: LPARAM) -> LRESULT>;

/// The Linux stand-in for a window that receives `WM_RASDIALEVENT` (notifier type
/// 0xFFFFFFFF): the application's window procedure and a pointer of its own.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RASWINDOW {
    /// Called with (this window, WM_RASDIALEVENT, state, error) for every notification.
    pub lpfnWndProc: RASWNDPROC,
    /// The application's pointer, untouched by the library.
    pub lpContext: *mut c_void,
}
/// `HWND`: on Linux, a pointer to a [`RASWINDOW`].
pub type HWND = *mut RASWINDOW;

/// `RASDIALFUNC` (notifier type 0).
pub type RASDIALFUNC =
    unsafe extern "C" fn(unMsg: UINT, rasconnstate: RASCONNSTATE, dwError: DWORD);
/// `RASDIALFUNC1` (notifier type 1).
pub type RASDIALFUNC1 = unsafe extern "C" fn(
    hrasconn: HRASCONN,
    unMsg: UINT,
    rascs: RASCONNSTATE,
    dwError: DWORD,
    dwExtendedError: DWORD,
);
/// `RASDIALFUNC2` (notifier type 2): a zero return stops the notifications.
pub type RASDIALFUNC2 = unsafe extern "C" fn(
    dwCallbackId: ULONG_PTR,
    dwSubEntry: DWORD,
    hrasconn: HRASCONN,
    unMsg: UINT,
    rascs: RASCONNSTATE,
    dwError: DWORD,
    dwExtendedError: DWORD,
) -> DWORD;

/// `RasCustomDial`, the entry point of a custom-dial library (ras-reference §3.9, seed
/// RasCustomDialFn), with the ANSI structures: the whole dial, as `RasDialA` got it.
pub type RasCustomDialFn = unsafe extern "C" fn(
    hInstDll: HINSTANCE,
    lpRasDialExtensions: *mut RASDIALEXTENSIONS,
    lpszPhonebook: *const c_char,
    lpRasDialParams: *mut RASDIALPARAMSA,
    dwNotifierType: DWORD,
    lpvNotifier: *mut c_void,
    lphRasConn: *mut HRASCONN,
    dwFlags: DWORD,
) -> DWORD;

/// `dwNotifierType` values (ras-reference §3.9).
pub mod notifier_type {
    use super::DWORD;
    /// `lpvNotifier` is a `RASDIALFUNC`.
    pub const RASDIALFUNC: DWORD = 0;
    /// `lpvNotifier` is a `RASDIALFUNC1`.
    pub const RASDIALFUNC1: DWORD = 1;
    /// `lpvNotifier` is a `RASDIALFUNC2`.
    pub const RASDIALFUNC2: DWORD = 2;
    /// `lpvNotifier` is an `HWND` that receives `WM_RASDIALEVENT`.
    pub const HWND: DWORD = 0xFFFF_FFFF;
}

/// Size constants (ras-reference §3.1, H1 and `lmcons.h`).
pub const RAS_MaxDeviceType: usize = 16;
/// `RAS_MaxPhoneNumber`.
pub const RAS_MaxPhoneNumber: usize = 128;
/// `RAS_MaxIpAddress`.
pub const RAS_MaxIpAddress: usize = 15;
/// `RAS_MaxIpxAddress`.
pub const RAS_MaxIpxAddress: usize = 21;
/// `RAS_MaxEntryName` (`WINVER >= 0x400`).
pub const RAS_MaxEntryName: usize = 256;
/// `RAS_MaxDeviceName` (`WINVER >= 0x400`).
pub const RAS_MaxDeviceName: usize = 128;
/// `RAS_MaxCallbackNumber` (= `RAS_MaxPhoneNumber`).
pub const RAS_MaxCallbackNumber: usize = RAS_MaxPhoneNumber;
/// `RAS_MaxAreaCode`.
pub const RAS_MaxAreaCode: usize = 10;
/// `RAS_MaxPadType`.
pub const RAS_MaxPadType: usize = 32;
/// `RAS_MaxX25Address`.
pub const RAS_MaxX25Address: usize = 200;
/// `RAS_MaxFacilities`.
pub const RAS_MaxFacilities: usize = 200;
/// `RAS_MaxUserData`.
pub const RAS_MaxUserData: usize = 200;
/// `RAS_MaxReplyMessage`.
pub const RAS_MaxReplyMessage: usize = 1024;
/// `RAS_MaxDnsSuffix`.
pub const RAS_MaxDnsSuffix: usize = 256;
/// `RAS_MaxIDSize`.
pub const RAS_MaxIDSize: usize = 256;
/// `UNLEN`.
pub const UNLEN: usize = 256;
/// `PWLEN`.
pub const PWLEN: usize = 256;
/// `CNLEN`.
pub const CNLEN: usize = 15;
/// `DNLEN` (= `CNLEN`).
pub const DNLEN: usize = CNLEN;
/// `MAX_PATH`.
pub const MAX_PATH: usize = 260;
/// `REN_User`: `RASENTRYNAME.dwFlags` of an entry in a per-user phonebook (§3.8).
pub const REN_User: DWORD = 0;

/// The size of a structure that ends at byte `end`, in the SDK's 4-byte packing.
const fn pack4(end: usize) -> usize {
    end.div_ceil(4) * 4
}

/// A structure whose `dwSize` says which version the caller passes.
///
/// # Safety
///
/// The type is `repr(C, packed(4))`, starts with a `DWORD dwSize`, every bit pattern of
/// its bytes (zero in particular) is a valid value, and every size in `SIZES` is at most
/// `size_of::<Self>()`.
pub unsafe trait Versioned: Copy {
    /// The sizes of the structure's versions, oldest first; the last is `size_of`.
    const SIZES: &'static [usize];
}

/// `RASDIALPARAMSA` (ras-reference §3.2).
#[repr(C, packed(4))]
#[derive(Debug, Clone, Copy)]
pub struct RASDIALPARAMSA {
    /// `sizeof` the version the caller uses.
    pub dwSize: DWORD,
    /// The entry to dial.
    pub szEntryName: [c_char; RAS_MaxEntryName + 1],
    /// Overrides the entry's number; empty = the entry's.
    pub szPhoneNumber: [c_char; RAS_MaxPhoneNumber + 1],
    /// The number the server should call back.
    pub szCallbackNumber: [c_char; RAS_MaxCallbackNumber + 1],
    /// User name.
    pub szUserName: [c_char; UNLEN + 1],
    /// Password (the new one when resuming from RASCS_PasswordExpired).
    pub szPassword: [c_char; PWLEN + 1],
    /// Domain.
    pub szDomain: [c_char; DNLEN + 1],
    /// 1-based subentry (`WINVER >= 0x401`).
    pub dwSubEntry: DWORD,
    /// Handed back as RasDialFunc2's first argument (`WINVER >= 0x401`).
    pub dwCallbackId: ULONG_PTR,
    /// Interface index (`WINVER >= 0x601`); unused.
    pub dwIfIndex: DWORD,
    /// Encrypted password (`WINVER >= 0x602`); unused.
    pub szEncPassword: *mut c_char,
}

// SAFETY: repr(C, packed(4)), dwSize first, integers, byte arrays and a raw pointer only.
unsafe impl Versioned for RASDIALPARAMSA {
    const SIZES: &'static [usize] = &[
        offset_of!(RASDIALPARAMSA, dwSubEntry),
        offset_of!(RASDIALPARAMSA, dwIfIndex),
        offset_of!(RASDIALPARAMSA, szEncPassword),
        size_of::<RASDIALPARAMSA>(),
    ];
}

/// `RASEAPINFO`.
#[repr(C, packed(4))]
#[derive(Debug, Clone, Copy)]
pub struct RASEAPINFO {
    /// Size of the blob.
    pub dwSizeofEapInfo: DWORD,
    /// The blob.
    pub pbEapInfo: *mut u8,
}

/// `RASDEVSPECIFICINFO`.
#[repr(C, packed(4))]
#[derive(Debug, Clone, Copy)]
pub struct RASDEVSPECIFICINFO {
    /// Size of the blob.
    pub dwSize: DWORD,
    /// The blob.
    pub pbDevSpecificInfo: *mut u8,
}

/// `RASDIALEXTENSIONS` (ras-reference §3.3).
#[repr(C, packed(4))]
#[derive(Debug, Clone, Copy)]
pub struct RASDIALEXTENSIONS {
    /// `sizeof` the version the caller uses.
    pub dwSize: DWORD,
    /// `RDEOPT_*` flags.
    pub dwfOptions: DWORD,
    /// Parent window for UI; unused.
    pub hwndParent: HWND,
    /// Must be 0.
    pub reserved: ULONG_PTR,
    /// Must be 0 (`WINVER >= 0x500`).
    pub reserved1: ULONG_PTR,
    /// EAP user data (`WINVER >= 0x500`); unused.
    pub RasEapInfo: RASEAPINFO,
    /// Skip PPP authentication (`WINVER >= 0x601`); unused.
    pub fSkipPppAuth: BOOL,
    /// Device-specific blob (`WINVER >= 0x601`); unused.
    pub RasDevSpecificInfo: RASDEVSPECIFICINFO,
}

// SAFETY: repr(C, packed(4)), dwSize first, integers and raw pointers only.
unsafe impl Versioned for RASDIALEXTENSIONS {
    const SIZES: &'static [usize] = &[
        offset_of!(RASDIALEXTENSIONS, reserved1),
        offset_of!(RASDIALEXTENSIONS, fSkipPppAuth),
        size_of::<RASDIALEXTENSIONS>(),
    ];
}

/// `RASTUNNELENDPOINT` (`WINVER >= 0x601`): type and an IPv4 or IPv6 address.
#[repr(C, packed(4))]
#[derive(Debug, Clone, Copy)]
pub struct RASTUNNELENDPOINT {
    /// 0 unknown, 1 IPv4, 2 IPv6.
    pub dwType: DWORD,
    /// The address bytes (an `in_addr` in the first four, or an `in6_addr`).
    pub addr: [u8; 16],
}

/// `RASCONNSTATUSA` (ras-reference §3.4).
#[repr(C, packed(4))]
#[derive(Debug, Clone, Copy)]
pub struct RASCONNSTATUSA {
    /// `sizeof` the version the caller uses.
    pub dwSize: DWORD,
    /// Current state.
    pub rasconnstate: RASCONNSTATE,
    /// Why the dial failed, 0 while it has not.
    pub dwError: DWORD,
    /// `RASDT_*` string.
    pub szDeviceType: [c_char; RAS_MaxDeviceType + 1],
    /// Device name.
    pub szDeviceName: [c_char; RAS_MaxDeviceName + 1],
    /// Number dialed (`WINVER >= 0x401`).
    pub szPhoneNumber: [c_char; RAS_MaxPhoneNumber + 1],
    /// Tunnel endpoints (`WINVER >= 0x601`); zero for a modem.
    pub localEndPoint: RASTUNNELENDPOINT,
    /// See `localEndPoint`.
    pub remoteEndPoint: RASTUNNELENDPOINT,
    /// `RASCONNSUBSTATE` (`WINVER >= 0x601`): always RASCSS_None (0).
    pub rasconnsubstate: DWORD,
}

// SAFETY: repr(C, packed(4)), dwSize first, integers and byte arrays only.
unsafe impl Versioned for RASCONNSTATUSA {
    const SIZES: &'static [usize] = &[
        pack4(offset_of!(RASCONNSTATUSA, szPhoneNumber)),
        offset_of!(RASCONNSTATUSA, localEndPoint),
        size_of::<RASCONNSTATUSA>(),
    ];
}

/// `GUID`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GUID {
    /// First 4 bytes.
    pub Data1: u32,
    /// Next 2.
    pub Data2: u16,
    /// Next 2.
    pub Data3: u16,
    /// Last 8.
    pub Data4: [u8; 8],
}

/// `LUID`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LUID {
    /// Low half.
    pub LowPart: DWORD,
    /// High half.
    pub HighPart: i32,
}

/// `RASCONNA` (ras-reference §3.5).
#[repr(C, packed(4))]
#[derive(Debug, Clone, Copy)]
pub struct RASCONNA {
    /// `sizeof` the version the caller uses.
    pub dwSize: DWORD,
    /// The connection.
    pub hrasconn: HRASCONN,
    /// Entry name.
    pub szEntryName: [c_char; RAS_MaxEntryName + 1],
    /// `RASDT_*` string (`WINVER >= 0x400`).
    pub szDeviceType: [c_char; RAS_MaxDeviceType + 1],
    /// Device name (`WINVER >= 0x400`).
    pub szDeviceName: [c_char; RAS_MaxDeviceName + 1],
    /// The phonebook the entry came from (`WINVER >= 0x401`).
    pub szPhonebook: [c_char; MAX_PATH],
    /// 1-based subentry (`WINVER >= 0x401`).
    pub dwSubEntry: DWORD,
    /// Entry GUID (`WINVER >= 0x500`); zero.
    pub guidEntry: GUID,
    /// `RASCF_*` (`WINVER >= 0x501`); zero.
    pub dwFlags: DWORD,
    /// Logon session (`WINVER >= 0x501`); zero.
    pub luid: LUID,
    /// Correlation id (`WINVER >= 0x600`); zero.
    pub guidCorrelationId: GUID,
}

// SAFETY: repr(C, packed(4)), dwSize first, integers, byte arrays and a raw pointer only.
unsafe impl Versioned for RASCONNA {
    const SIZES: &'static [usize] = &[
        pack4(offset_of!(RASCONNA, szPhonebook)),
        offset_of!(RASCONNA, guidEntry),
        offset_of!(RASCONNA, dwFlags),
        offset_of!(RASCONNA, guidCorrelationId),
        size_of::<RASCONNA>(),
    ];
}

/// `RASENTRYNAMEA` (`RasEnumEntriesA` output).
#[repr(C, packed(4))]
#[derive(Debug, Clone, Copy)]
pub struct RASENTRYNAMEA {
    /// `sizeof` the version the caller uses.
    pub dwSize: DWORD,
    /// Entry name.
    pub szEntryName: [c_char; RAS_MaxEntryName + 1],
    /// `REN_User` / `REN_AllUsers` (`WINVER >= 0x500`).
    pub dwFlags: DWORD,
    /// The phonebook's path (`WINVER >= 0x500`).
    pub szPhonebookPath: [c_char; MAX_PATH + 1],
}

// SAFETY: repr(C, packed(4)), dwSize first, integers and byte arrays only.
unsafe impl Versioned for RASENTRYNAMEA {
    const SIZES: &'static [usize] = &[
        offset_of!(RASENTRYNAMEA, dwFlags),
        size_of::<RASENTRYNAMEA>(),
    ];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_on_64_bit_match_the_reference() {
        // ras-reference §3.2–3.4: the x64 sizes computed for the SDK's packing.
        if size_of::<usize>() == 8 {
            assert_eq!(RASDIALPARAMSA::SIZES, [1052, 1064, 1068, 1076]);
            assert_eq!(RASDIALEXTENSIONS::SIZES, [24, 44, 60]);
            assert_eq!(RASCONNSTATUSA::SIZES, [160, 288, 332]);
            // §3.5 gives 680 for the 0x401 RASCONNA; its 0x600 figure (732) does not add
            // up from the fields it lists (680 + GUID + DWORD + LUID + GUID = 724).
            assert_eq!(RASCONNA::SIZES, [416, 680, 696, 708, 724]);
            assert_eq!(RASENTRYNAMEA::SIZES, [264, 532]);
        }
    }
}
