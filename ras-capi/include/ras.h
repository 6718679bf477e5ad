/*
 * ras.h -- the Windows RAS client dial API (ANSI functions) for Linux: libras (ras-dial).
 *
 * Link with -lras (libras.so or libras.a from the ras-capi crate). Declarations follow the
 * Windows SDK ras.h (ras-reference §3) with Linux types standing in for the Windows ones:
 *
 *   DWORD = uint32_t, UINT = uint32_t, BOOL = int32_t, CHAR = char,
 *   ULONG_PTR/WPARAM = uintptr_t, LONG_PTR/LPARAM/LRESULT = intptr_t,
 *   HRASCONN, HWND, HINSTANCE = opaque pointers.
 *
 * Structures use the SDK's 4-byte packing (its ras.h includes <pshpack4.h>), so sizes and
 * offsets are those of the SDK on the same word size. Each starts with dwSize: set it to
 * sizeof(the structure) before the call. The sizes of the SDK's older versions of each
 * structure (WINVER 0x400 .. 0x602) are accepted too; any other dwSize is 632
 * ERROR_INVALID_SIZE. A pointer the documentation requires that is NULL is 87
 * ERROR_INVALID_PARAMETER.
 *
 * Handles. An HRASCONN is the library's connection number (never 0) written as a pointer;
 * it points at nothing and must not be dereferenced. Set it to NULL before a new dial;
 * pass the handle of a paused dial to RasDialA to resume it. A handle that RasDialA set
 * must be hung up with RasHangUpA, even when the dial failed.
 *
 * Notifications arrive on a thread the library owns (one per dial), never on the thread
 * that called RasDialA; as on Windows, do not call RasDialA from inside a notifier.
 *
 * Window messages (dwNotifierType 0xFFFFFFFF). Linux has no windows: an HWND here points
 * to a RASWINDOW, the application's window procedure plus a pointer of its own. For every
 * notification the library calls
 *     window->lpfnWndProc(window, WM_RASDIALEVENT, (WPARAM)state, (LPARAM)error)
 * on the dial's thread. RegisterWindowMessage does not exist here: the message is always
 * WM_RASDIALEVENT. The RASWINDOW must stay valid until the dial's last notification
 * (RASCS_Connected, an error, or RasHangUpA).
 *
 * Environment: RAS_TIME_SCALE scales the engine's timers (e.g. 0.01 against modem-sim
 * --time-scale 0.01); a NULL phonebook means $XDG_CONFIG_HOME/ras/rasphone.pbk (or
 * ~/.config/ras/rasphone.pbk); RAS_LOG=warn (a tracing filter) logs to stderr, e.g. the
 * loader's message for a custom dialer that cannot be loaded.
 */
#ifndef RAS_DIAL_RAS_H
#define RAS_DIAL_RAS_H

#include <stdint.h>

#include "raserror.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Windows base types ------------------------------------------------------------ */

#ifndef RAS_DIAL_NO_WINDOWS_TYPES
typedef uint32_t DWORD;
typedef uint32_t UINT;
typedef int32_t BOOL;
typedef char CHAR;
typedef uint8_t BYTE;
typedef int32_t LONG;
typedef uintptr_t ULONG_PTR;
typedef intptr_t LONG_PTR;
typedef uintptr_t WPARAM;
typedef intptr_t LPARAM;
typedef intptr_t LRESULT;
typedef void VOID;
typedef void *LPVOID;
typedef CHAR *LPSTR;
typedef const CHAR *LPCSTR;
typedef DWORD *LPDWORD;
typedef void *HINSTANCE;
#define WINAPI
#define APIENTRY

typedef struct _GUID {
    uint32_t Data1;
    uint16_t Data2;
    uint16_t Data3;
    uint8_t Data4[8];
} GUID;

typedef struct _LUID {
    DWORD LowPart;
    LONG HighPart;
} LUID;

/* winerror.h codes that RAS functions return (ras-reference §2 preamble). */
#define ERROR_SUCCESS 0
#define ERROR_INVALID_HANDLE 6
#define ERROR_NOT_ENOUGH_MEMORY 8
#define ERROR_INVALID_PARAMETER 87
#define ERROR_INSUFFICIENT_BUFFER 122
#define ERROR_NO_MORE_ITEMS 259

#define MAX_PATH 260
#endif /* RAS_DIAL_NO_WINDOWS_TYPES */

/* lmcons.h lengths (ras-reference §3.1). */
#define UNLEN 256
#define PWLEN 256
#define CNLEN 15
#define DNLEN CNLEN

/* ---- Handles ----------------------------------------------------------------------- */

typedef struct HRASCONN__ *HRASCONN;
typedef HRASCONN *LPHRASCONN;

typedef struct RASWINDOW *HWND;
typedef LRESULT (*RASWNDPROC)(HWND hwnd, UINT uMsg, WPARAM wParam, LPARAM lParam);

/* The Linux stand-in for a window (see the notes at the top). */
typedef struct RASWINDOW {
    RASWNDPROC lpfnWndProc;
    LPVOID lpContext;
} RASWINDOW;

/* ---- Constants (ras-reference §3.1, §3.3, §1) -------------------------------------- */

#define RAS_MaxDeviceType 16
#define RAS_MaxPhoneNumber 128
#define RAS_MaxIpAddress 15
#define RAS_MaxIpxAddress 21
#define RAS_MaxEntryName 256
#define RAS_MaxDeviceName 128
#define RAS_MaxCallbackNumber RAS_MaxPhoneNumber
#define RAS_MaxAreaCode 10
#define RAS_MaxPadType 32
#define RAS_MaxX25Address 200
#define RAS_MaxFacilities 200
#define RAS_MaxUserData 200
#define RAS_MaxReplyMessage 1024
#define RAS_MaxDnsSuffix 256
#define RAS_MaxIDSize 256

#define WM_RASDIALEVENT 0xCCCD
#define RASDIALEVENT "RasDialEvent"

#define RDEOPT_UsePrefixSuffix 0x00000001
#define RDEOPT_PausedStates 0x00000002
#define RDEOPT_IgnoreModemSpeaker 0x00000004
#define RDEOPT_SetModemSpeaker 0x00000008
#define RDEOPT_IgnoreSoftwareCompression 0x00000010
#define RDEOPT_SetSoftwareCompression 0x00000020
#define RDEOPT_DisableConnectedUI 0x00000040
#define RDEOPT_DisableReconnectUI 0x00000080
#define RDEOPT_DisableReconnect 0x00000100
#define RDEOPT_NoUser 0x00000200
#define RDEOPT_PauseOnScript 0x00000400
#define RDEOPT_Router 0x00000800
#define RDEOPT_CustomDial 0x00001000
#define RDEOPT_UseCustomScripting 0x00002000
#define RDEOPT_InvokeAutoTriggerCredentialUI 0x00004000
#define RDEOPT_EapInfoCryptInCapable 0x00008000

#define REN_User 0x00000000
#define REN_AllUsers 0x00000001

#define RASCS_PAUSED 0x1000
#define RASCS_DONE 0x2000

typedef enum tagRASCONNSTATE {
    RASCS_OpenPort = 0,
    RASCS_PortOpened,
    RASCS_ConnectDevice,
    RASCS_DeviceConnected,
    RASCS_AllDevicesConnected,
    RASCS_Authenticate,
    RASCS_AuthNotify,
    RASCS_AuthRetry,
    RASCS_AuthCallback,
    RASCS_AuthChangePassword,
    RASCS_AuthProject,
    RASCS_AuthLinkSpeed,
    RASCS_AuthAck,
    RASCS_ReAuthenticate,
    RASCS_Authenticated,
    RASCS_PrepareForCallback,
    RASCS_WaitForModemReset,
    RASCS_WaitForCallback,
    RASCS_Projected,
    RASCS_StartAuthentication,
    RASCS_CallbackComplete,
    RASCS_LogonNetwork,
    RASCS_SubEntryConnected,
    RASCS_SubEntryDisconnected,
    RASCS_ApplySettings,
    RASCS_Interactive = RASCS_PAUSED,
    RASCS_RetryAuthentication,
    RASCS_CallbackSetByCaller,
    RASCS_PasswordExpired,
    RASCS_InvokeEapUI,
    RASCS_Connected = RASCS_DONE,
    RASCS_Disconnected
} RASCONNSTATE;

typedef enum tagRASCONNSUBSTATE {
    RASCSS_None = 0,
    RASCSS_Dormant,
    RASCSS_Reconnecting,
    RASCSS_Reconnected = 0x2000
} RASCONNSUBSTATE;

/* ---- Structures (ras-reference §3.2-3.5) ------------------------------------------- */

#pragma pack(push, 4)

typedef struct tagRASDIALPARAMSA {
    DWORD dwSize;
    CHAR szEntryName[RAS_MaxEntryName + 1];
    CHAR szPhoneNumber[RAS_MaxPhoneNumber + 1];
    CHAR szCallbackNumber[RAS_MaxCallbackNumber + 1];
    CHAR szUserName[UNLEN + 1];
    CHAR szPassword[PWLEN + 1];
    CHAR szDomain[DNLEN + 1];
    DWORD dwSubEntry;
    ULONG_PTR dwCallbackId;
    DWORD dwIfIndex;
    LPSTR szEncPassword;
} RASDIALPARAMSA, *LPRASDIALPARAMSA;

typedef struct tagRASEAPINFO {
    DWORD dwSizeofEapInfo;
    BYTE *pbEapInfo;
} RASEAPINFO;

typedef struct tagRASDEVSPECIFICINFO {
    DWORD dwSize;
    BYTE *pbDevSpecificInfo;
} RASDEVSPECIFICINFO;

typedef struct tagRASDIALEXTENSIONS {
    DWORD dwSize;
    DWORD dwfOptions;
    HWND hwndParent;
    ULONG_PTR reserved;
    ULONG_PTR reserved1;
    RASEAPINFO RasEapInfo;
    BOOL fSkipPppAuth;
    RASDEVSPECIFICINFO RasDevSpecificInfo;
} RASDIALEXTENSIONS, *LPRASDIALEXTENSIONS;

typedef struct tagRASTUNNELENDPOINT {
    DWORD dwType;
    BYTE addr[16]; /* union { RASIPV4ADDR ipv4; RASIPV6ADDR ipv6; } in the SDK */
} RASTUNNELENDPOINT;

typedef struct tagRASCONNSTATUSA {
    DWORD dwSize;
    RASCONNSTATE rasconnstate;
    DWORD dwError;
    CHAR szDeviceType[RAS_MaxDeviceType + 1];
    CHAR szDeviceName[RAS_MaxDeviceName + 1];
    CHAR szPhoneNumber[RAS_MaxPhoneNumber + 1];
    RASTUNNELENDPOINT localEndPoint;
    RASTUNNELENDPOINT remoteEndPoint;
    RASCONNSUBSTATE rasconnsubstate;
} RASCONNSTATUSA, *LPRASCONNSTATUSA;

typedef struct tagRASCONNA {
    DWORD dwSize;
    HRASCONN hrasconn;
    CHAR szEntryName[RAS_MaxEntryName + 1];
    CHAR szDeviceType[RAS_MaxDeviceType + 1];
    CHAR szDeviceName[RAS_MaxDeviceName + 1];
    CHAR szPhonebook[MAX_PATH];
    DWORD dwSubEntry;
    GUID guidEntry;
    DWORD dwFlags;
    LUID luid;
    GUID guidCorrelationId;
} RASCONNA, *LPRASCONNA;

typedef struct tagRASENTRYNAMEA {
    DWORD dwSize;
    CHAR szEntryName[RAS_MaxEntryName + 1];
    DWORD dwFlags;
    CHAR szPhonebookPath[MAX_PATH + 1];
} RASENTRYNAMEA, *LPRASENTRYNAMEA;

#pragma pack(pop)

/* ANSI is the only character set: the undecorated names are the A ones. */
typedef RASDIALPARAMSA RASDIALPARAMS;
typedef LPRASDIALPARAMSA LPRASDIALPARAMS;
typedef RASCONNSTATUSA RASCONNSTATUS;
typedef LPRASCONNSTATUSA LPRASCONNSTATUS;
typedef RASCONNA RASCONN;
typedef LPRASCONNA LPRASCONN;
typedef RASENTRYNAMEA RASENTRYNAME;
typedef LPRASENTRYNAMEA LPRASENTRYNAME;

/* ---- Notifiers (ras-reference §3.9) ------------------------------------------------ */

typedef VOID (WINAPI *RASDIALFUNC)(UINT unMsg, RASCONNSTATE rasconnstate, DWORD dwError);
typedef VOID (WINAPI *RASDIALFUNC1)(HRASCONN hrasconn, UINT unMsg, RASCONNSTATE rascs,
                                    DWORD dwError, DWORD dwExtendedError);
/* Return nonzero to keep receiving notifications, 0 to stop them for every subentry. */
typedef DWORD (WINAPI *RASDIALFUNC2)(ULONG_PTR dwCallbackId, DWORD dwSubEntry,
                                     HRASCONN hrasconn, UINT unMsg, RASCONNSTATE rascs,
                                     DWORD dwError, DWORD dwExtendedError);

/* ---- Functions (ras-reference §3.9, §4) -------------------------------------------- */

/* dwNotifierType: 0 RASDIALFUNC, 1 RASDIALFUNC1, 2 RASDIALFUNC2, 0xFFFFFFFF an HWND.
 * lpvNotifier NULL: synchronous, returns once connected (0) or failed (the error).
 * Otherwise asynchronous: returns 0 once the dial started. *lphRasConn NULL for a new dial;
 * the handle of a paused dial to resume it. An entry with CustomDialDll= is handed to that
 * library's RasCustomDial unless lpRasDialExtensions has RDEOPT_CustomDial. */
DWORD APIENTRY RasDialA(LPRASDIALEXTENSIONS lpRasDialExtensions, LPCSTR lpszPhonebook,
                        LPRASDIALPARAMSA lpRasDialParams, DWORD dwNotifierType,
                        LPVOID lpvNotifier, LPHRASCONN lphRasConn);

/* Returns at once; poll RasGetConnectStatusA until ERROR_INVALID_HANDLE before reusing the
 * port. */
DWORD APIENTRY RasHangUpA(HRASCONN hrasconn);

DWORD APIENTRY RasGetConnectStatusA(HRASCONN hrasconn, LPRASCONNSTATUSA lprasconnstatus);

/* *lpcb: buffer size in bytes in, bytes needed out; lprasconn[0].dwSize set. Too small:
 * ERROR_BUFFER_TOO_SMALL with the size in *lpcb. lprasconn NULL with *lpcb == 0 asks for
 * the size. */
DWORD APIENTRY RasEnumConnectionsA(LPRASCONNA lprasconn, LPDWORD lpcb,
                                   LPDWORD lpcConnections);

/* reserved must be NULL; lpszPhonebook NULL is the default phonebook. Same buffer-size
 * protocol as RasEnumConnectionsA. */
DWORD APIENTRY RasEnumEntriesA(LPCSTR reserved, LPCSTR lpszPhonebook,
                               LPRASENTRYNAMEA lprasentryname, LPDWORD lpcb,
                               LPDWORD lpcEntries);

/* 512 bytes are always enough. */
DWORD APIENTRY RasGetErrorStringA(UINT uErrorValue, LPSTR lpszErrorString, DWORD cBufSize);

#define RasDial RasDialA
#define RasHangUp RasHangUpA
#define RasGetConnectStatus RasGetConnectStatusA
#define RasEnumConnections RasEnumConnectionsA
#define RasEnumEntries RasEnumEntriesA
#define RasGetErrorString RasGetErrorStringA

/* ---- Custom dialers (ras-reference §4.5 rule 29, seed RasCustomDialFn) -------------
 *
 * A phonebook entry's CustomDialDll= (also CustomRasDialDll=) names a shared object. A
 * RasDialA of that entry without RDEOPT_CustomDial loads it (once; it stays loaded) and
 * calls its exported RasCustomDial with the arguments RasDialA received; its return is
 * RasDialA's. hInstDll is the loader's handle of the library; dwFlags is 0. A dialer that
 * dials through RAS calls RasDialA with RDEOPT_CustomDial set in a non-NULL
 * lpRasDialExtensions. A library without RasCustomDial, or one the loader refuses, gives
 * ERROR_CANNOT_DO_CUSTOMDIAL (755); RAS_LOG=warn shows why. The rasdial command gives 755
 * for such entries: it cannot run a custom dialer.
 */
typedef DWORD (APIENTRY *RasCustomDialFn)(HINSTANCE hInstDll,
                                          LPRASDIALEXTENSIONS lpRasDialExtensions,
                                          LPCSTR lpszPhonebook,
                                          LPRASDIALPARAMSA lpRasDialParams,
                                          DWORD dwNotifierType, LPVOID lpvNotifier,
                                          LPHRASCONN lphRasConn, DWORD dwFlags);

#ifdef __cplusplus
}
#endif

#endif /* RAS_DIAL_RAS_H */
