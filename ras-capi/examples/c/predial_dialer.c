/*
 * An example custom dialer (RasCustomDial plug-in) in C: it runs a pre-dial step, then
 * dials through RAS with RDEOPT_CustomDial (so RAS does not hand the dial back to it) and
 * forwards every notification to the application's own notifier.
 *
 * Name it in a phonebook entry:   CustomDialDll=/path/to/libpredial_dialer.so
 * Build:  cc -shared -fPIC -I ras-capi/include predial_dialer.c -L target/debug -lras \
 *            -o libpredial_dialer.so
 *
 * The pre-dial step here appends "pre-dial ENTRY" to the file named by $RAS_PLUGIN_LOG,
 * and each forwarded notification as "notify STATE ERROR"; a real dialer would bring up a
 * prerequisite link, ask for a token, or pick a number here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ras.h"
#include "raserror.h"

/* What the application asked for, kept for the forwarding notifier: passed to it as the
 * dial's dwCallbackId. */
struct forward {
    DWORD notifier_type;
    LPVOID notifier;
    ULONG_PTR callback_id;
};

static void log_line(const char *format, const char *text, long a, long b)
{
    const char *path = getenv("RAS_PLUGIN_LOG");
    FILE *file;
    if (path == NULL || (file = fopen(path, "a")) == NULL)
        return;
    fprintf(file, format, text, a, b);
    fclose(file);
}

static DWORD WINAPI forward_notification(ULONG_PTR dwCallbackId, DWORD dwSubEntry,
                                         HRASCONN hrasconn, UINT unMsg, RASCONNSTATE rascs,
                                         DWORD dwError, DWORD dwExtendedError)
{
    struct forward *to = (struct forward *)dwCallbackId;
    DWORD more = 1;
    log_line("%snotify %ld %ld\n", "", (long)rascs, (long)dwError);
    switch (to->notifier_type) {
    case 0:
        ((RASDIALFUNC)to->notifier)(unMsg, rascs, dwError);
        break;
    case 1:
        ((RASDIALFUNC1)to->notifier)(hrasconn, unMsg, rascs, dwError, dwExtendedError);
        break;
    case 2:
        more = ((RASDIALFUNC2)to->notifier)(to->callback_id, dwSubEntry, hrasconn, unMsg, rascs,
                                            dwError, dwExtendedError);
        break;
    case 0xFFFFFFFF: {
        HWND window = (HWND)to->notifier;
        window->lpfnWndProc(window, unMsg, (WPARAM)rascs, (LPARAM)dwError);
        break;
    }
    default:
        break;
    }
    /* ras-reference §4.1 rule 3: nothing follows Connected or an error. */
    if (dwError != 0 || rascs == RASCS_Connected || more == 0)
        free(to);
    return more;
}

DWORD APIENTRY RasCustomDial(HINSTANCE hInstDll, LPRASDIALEXTENSIONS lpRasDialExtensions,
                             LPCSTR lpszPhonebook, LPRASDIALPARAMSA lpRasDialParams,
                             DWORD dwNotifierType, LPVOID lpvNotifier, LPHRASCONN lphRasConn,
                             DWORD dwFlags)
{
    RASDIALEXTENSIONS extensions;
    RASDIALPARAMSA params;
    struct forward *to;
    DWORD rc;
    (void)hInstDll;
    (void)dwFlags;

    if (lpRasDialParams == NULL || lphRasConn == NULL)
        return ERROR_INVALID_PARAMETER;
    /* The application may pass an older, shorter RASDIALPARAMSA: copy what it has. */
    memset(&params, 0, sizeof params);
    memcpy(&params, lpRasDialParams,
           lpRasDialParams->dwSize < sizeof params ? lpRasDialParams->dwSize : sizeof params);
    params.dwSize = sizeof params;

    /* The pre-dial step. */
    log_line("pre-dial %s\n", params.szEntryName, 0, 0);

    /* Dial through RAS, telling it this is the custom dialer calling. */
    memset(&extensions, 0, sizeof extensions);
    if (lpRasDialExtensions != NULL)
        memcpy(&extensions, lpRasDialExtensions,
               lpRasDialExtensions->dwSize < sizeof extensions ? lpRasDialExtensions->dwSize
                                                               : sizeof extensions);
    extensions.dwSize = sizeof extensions;
    extensions.dwfOptions |= RDEOPT_CustomDial;

    if (lpvNotifier == NULL) /* synchronous: so is the dial */
        return RasDialA(&extensions, lpszPhonebook, &params, 0, NULL, lphRasConn);

    to = (struct forward *)malloc(sizeof *to);
    if (to == NULL)
        return ERROR_NOT_ENOUGH_MEMORY;
    to->notifier_type = dwNotifierType;
    to->notifier = lpvNotifier;
    to->callback_id = params.dwCallbackId;
    params.dwCallbackId = (ULONG_PTR)to;
    rc = RasDialA(&extensions, lpszPhonebook, &params, 2, (LPVOID)forward_notification,
                  lphRasConn);
    if (rc != 0)
        free(to); /* the dial did not start: no notification will come */
    return rc;
}
