/*
 * A RAS client written the way the Windows SDK samples are, against ras.h: argument
 * checks, a synchronous dial, RasEnumConnections and RasEnumEntries with the buffer-size
 * protocol, hang-up with the RasGetConnectStatus poll loop (ras-reference §4.4 rule 21),
 * a busy number (676) both ways, asynchronous dials with each notifier type, and a paused
 * dial (RASCS_RetryAuthentication) resumed with a second RasDial on its handle.
 *
 * usage: conformance PHONEBOOK
 *   PHONEBOOK has "Lab ISP" (connects), "Lab busy" (the line is busy) and "Lab retry"
 *   (MS-CHAPv2 that lets a wrong password be retried once);
 * Prints "ok - ..." or "FAIL - ..." per check; exits 0 when every check passed.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ras.h"
#include "raserror.h"

static int failures;
static const char *phonebook;

#define CHECK(cond, ...)                                                                  \
    do {                                                                                  \
        int check_ok_ = (cond);                                                           \
        printf("%s - ", check_ok_ ? "ok" : "FAIL");                                       \
        printf(__VA_ARGS__);                                                              \
        printf("\n");                                                                     \
        fflush(stdout);                                                                   \
        if (!check_ok_)                                                                   \
            failures++;                                                                   \
    } while (0)

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* ---- Notifications ---------------------------------------------------------------- */

#define MAX_NOTIFICATIONS 64

struct dial_log {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int count;
    RASCONNSTATE states[MAX_NOTIFICATIONS];
    DWORD errors[MAX_NOTIFICATIONS];
    HRASCONN handles[MAX_NOTIFICATIONS];
    UINT messages[MAX_NOTIFICATIONS];
    int done;
};

static struct dial_log the_log = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0,
                                  {0},
                                  {0},
                                  {0},
                                  {0},
                                  0};

static void log_reset(struct dial_log *log)
{
    pthread_mutex_lock(&log->lock);
    log->count = 0;
    log->done = 0;
    pthread_mutex_unlock(&log->lock);
}

static void log_add(struct dial_log *log, HRASCONN h, UINT msg, RASCONNSTATE state,
                    DWORD error)
{
    pthread_mutex_lock(&log->lock);
    if (log->count < MAX_NOTIFICATIONS) {
        log->states[log->count] = state;
        log->errors[log->count] = error;
        log->handles[log->count] = h;
        log->messages[log->count] = msg;
        log->count++;
    }
    /* ras-reference §4.1 rule 3: Connected or an error ends the notifications; a paused
     * state stops them until the application resumes. */
    if (error != 0 || state == RASCS_Connected || (state & RASCS_PAUSED) != 0)
        log->done = 1;
    pthread_cond_broadcast(&log->changed);
    pthread_mutex_unlock(&log->lock);
}

/* Wait (at most 30 s) for the final notification. */
static int log_wait(struct dial_log *log)
{
    struct timespec deadline;
    int done;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&log->lock);
    while (!log->done) {
        if (pthread_cond_timedwait(&log->changed, &log->lock, &deadline) == ETIMEDOUT)
            break;
    }
    done = log->done;
    pthread_mutex_unlock(&log->lock);
    return done;
}

static VOID WINAPI RasDialFunc(UINT unMsg, RASCONNSTATE rasconnstate, DWORD dwError)
{
    log_add(&the_log, NULL, unMsg, rasconnstate, dwError);
}

static VOID WINAPI RasDialFunc1(HRASCONN hrasconn, UINT unMsg, RASCONNSTATE rascs,
                                DWORD dwError, DWORD dwExtendedError)
{
    (void)dwExtendedError;
    log_add(&the_log, hrasconn, unMsg, rascs, dwError);
}

static DWORD WINAPI RasDialFunc2(ULONG_PTR dwCallbackId, DWORD dwSubEntry, HRASCONN hrasconn,
                                 UINT unMsg, RASCONNSTATE rascs, DWORD dwError,
                                 DWORD dwExtendedError)
{
    (void)dwSubEntry;
    (void)dwExtendedError;
    log_add((struct dial_log *)dwCallbackId, hrasconn, unMsg, rascs, dwError);
    return 1; /* keep the notifications coming */
}

static LRESULT window_procedure(HWND hwnd, UINT uMsg, WPARAM wParam, LPARAM lParam)
{
    log_add((struct dial_log *)hwnd->lpContext, NULL, uMsg, (RASCONNSTATE)wParam,
            (DWORD)lParam);
    return 1;
}

/* ---- Helpers ---------------------------------------------------------------------- */

static void fill_params(RASDIALPARAMS *params, const char *entry)
{
    memset(params, 0, sizeof *params);
    params->dwSize = sizeof *params;
    strcpy(params->szEntryName, entry);
    strcpy(params->szUserName, "alice");
    strcpy(params->szPassword, "wonderland");
}

/* RasHangUp, then poll RasGetConnectStatus until the handle is gone (rule 21): the port is
 * free then, and the next dial may use it. */
static void hang_up(HRASCONN hrasconn, const char *what)
{
    RASCONNSTATUS status;
    DWORD rc = RasHangUp(hrasconn);
    int polls;
    CHECK(rc == 0, "RasHangUp(%s) returns 0 (got %u)", what, rc);
    for (polls = 0; polls < 3000; polls++) {
        status.dwSize = sizeof status;
        if (RasGetConnectStatus(hrasconn, &status) == ERROR_INVALID_HANDLE)
            break;
        sleep_ms(10);
    }
    status.dwSize = sizeof status;
    rc = RasGetConnectStatus(hrasconn, &status);
    CHECK(rc == ERROR_INVALID_HANDLE,
          "RasGetConnectStatus(%s) after hang-up is ERROR_INVALID_HANDLE (got %u)", what,
          rc);
}

static void print_trace(const struct dial_log *log)
{
    int i;
    for (i = 0; i < log->count; i++)
        printf("    %d: state %d error %u\n", i, (int)log->states[i], log->errors[i]);
}

/* ---- The checks ------------------------------------------------------------------- */

static void argument_checks(void)
{
    RASDIALPARAMS params;
    RASDIALEXTENSIONS extensions;
    RASCONNSTATUS status;
    HRASCONN hrasconn = NULL;
    char text[512];
    DWORD rc;

    rc = RasDial(NULL, phonebook, NULL, 0, NULL, &hrasconn);
    CHECK(rc == ERROR_INVALID_PARAMETER, "RasDial with NULL params is 87 (got %u)", rc);

    fill_params(&params, "Lab ISP");
    rc = RasDial(NULL, phonebook, &params, 0, NULL, NULL);
    CHECK(rc == ERROR_INVALID_PARAMETER, "RasDial with NULL lphRasConn is 87 (got %u)", rc);

    params.dwSize = 3;
    rc = RasDial(NULL, phonebook, &params, 0, NULL, &hrasconn);
    CHECK(rc == ERROR_INVALID_SIZE, "RasDial with a bad dwSize is 632 (got %u)", rc);

    fill_params(&params, "Lab ISP");
    memset(&extensions, 0, sizeof extensions);
    extensions.dwSize = sizeof extensions + 1;
    rc = RasDial(&extensions, phonebook, &params, 0, NULL, &hrasconn);
    CHECK(rc == ERROR_INVALID_SIZE,
          "RasDial with a bad RASDIALEXTENSIONS dwSize is 632 (got %u)", rc);
    CHECK(hrasconn == NULL, "no handle was set by the refused calls");

    fill_params(&params, "No such entry");
    rc = RasDial(NULL, phonebook, &params, 0, NULL, &hrasconn);
    CHECK(rc == ERROR_CANNOT_FIND_PHONEBOOK_ENTRY, "a missing entry is 623 (got %u)", rc);

    rc = RasHangUp(NULL);
    CHECK(rc == ERROR_INVALID_HANDLE, "RasHangUp(NULL) is 6 (got %u)", rc);

    status.dwSize = sizeof status;
    rc = RasGetConnectStatus(NULL, &status);
    CHECK(rc == ERROR_INVALID_HANDLE, "RasGetConnectStatus(NULL) is 6 (got %u)", rc);

    rc = RasGetErrorString(ERROR_LINE_BUSY, text, sizeof text);
    CHECK(rc == 0 && strlen(text) > 0, "RasGetErrorString(676) gives text: %s", text);
    rc = RasGetErrorString(ERROR_LINE_BUSY, text, 4);
    CHECK(rc == ERROR_INSUFFICIENT_BUFFER, "a 4-byte buffer is 122 (got %u)", rc);
    rc = RasGetErrorString(ERROR_LINE_BUSY, NULL, 512);
    CHECK(rc == ERROR_INVALID_PARAMETER, "a NULL buffer is 87 (got %u)", rc);
}

static void enum_entries(void)
{
    DWORD cb = 0, entries = 0, rc;
    LPRASENTRYNAME names;

    rc = RasEnumEntries(NULL, phonebook, NULL, &cb, &entries);
    CHECK(rc == ERROR_BUFFER_TOO_SMALL && cb == 3 * sizeof(RASENTRYNAME) && entries == 3,
          "RasEnumEntries size query: 603, %u bytes, %u entries", cb, entries);
    names = (LPRASENTRYNAME)calloc(1, cb);
    names[0].dwSize = sizeof(RASENTRYNAME);
    rc = RasEnumEntries(NULL, phonebook, names, &cb, &entries);
    CHECK(rc == 0 && entries == 3 && strcmp(names[0].szEntryName, "Lab ISP") == 0 &&
              names[0].szPhonebookPath[0] == '/' && names[0].dwFlags == REN_User &&
              strcmp(names[1].szEntryName, "Lab busy") == 0,
          "RasEnumEntries lists \"%s\" and \"%s\"", names[0].szEntryName,
          names[1].szEntryName);
    free(names);
}

/* The RasEnumConnections sample: ask for the size, allocate, list. */
static void enum_connections(HRASCONN expected, const char *entry)
{
    DWORD cb = 0, connections = 0, rc;
    LPRASCONN rasconn = NULL;

    rc = RasEnumConnections(NULL, &cb, &connections);
    CHECK(rc == ERROR_BUFFER_TOO_SMALL && cb == sizeof(RASCONN) && connections == 1,
          "RasEnumConnections size query: 603, %u bytes, %u connections", cb, connections);
    rasconn = (LPRASCONN)calloc(1, cb);
    rasconn[0].dwSize = sizeof(RASCONN);
    cb = sizeof(RASCONN) - 1;
    rc = RasEnumConnections(rasconn, &cb, &connections);
    CHECK(rc == ERROR_BUFFER_TOO_SMALL && cb == sizeof(RASCONN),
          "a buffer one byte short is 603 with the size needed (%u)", cb);
    rc = RasEnumConnections(rasconn, &cb, &connections);
    CHECK(rc == 0 && connections == 1 && rasconn[0].hrasconn == expected &&
              strcmp(rasconn[0].szEntryName, entry) == 0 &&
              strcmp(rasconn[0].szDeviceType, "modem") == 0 &&
              rasconn[0].szPhonebook[0] == '/' &&
              strstr(rasconn[0].szPhonebook, "lab.pbk") != NULL,
          "RasEnumConnections lists the connection to \"%s\" from %s", rasconn[0].szEntryName,
          rasconn[0].szPhonebook);
    free(rasconn);
}

static void no_connections(void)
{
    DWORD cb = 0, connections = 99, rc;
    rc = RasEnumConnections(NULL, &cb, &connections);
    CHECK(rc == 0 && cb == 0 && connections == 0,
          "RasEnumConnections with nothing connected: 0, %u bytes, %u connections", cb,
          connections);
}

static void synchronous_dial(void)
{
    RASDIALPARAMS params;
    RASCONNSTATUS status;
    HRASCONN hrasconn = NULL;
    DWORD rc;

    fill_params(&params, "Lab ISP");
    rc = RasDial(NULL, phonebook, &params, 0, NULL, &hrasconn);
    CHECK(rc == 0 && hrasconn != NULL, "synchronous RasDial(\"Lab ISP\") connects (got %u)",
          rc);
    memset(&status, 0, sizeof status);
    status.dwSize = sizeof status;
    rc = RasGetConnectStatus(hrasconn, &status);
    CHECK(rc == 0 && status.rasconnstate == RASCS_Connected && status.dwError == 0 &&
              strcmp(status.szDeviceType, "modem") == 0 &&
              strcmp(status.szPhoneNumber, "5551234") == 0,
          "RasGetConnectStatus: state %d, error %u, device %s, number %s",
          (int)status.rasconnstate, status.dwError, status.szDeviceType,
          status.szPhoneNumber);
    enum_connections(hrasconn, "Lab ISP");
    hang_up(hrasconn, "Lab ISP");
    no_connections();
}

static void synchronous_busy(void)
{
    RASDIALPARAMS params;
    RASCONNSTATUS status;
    HRASCONN hrasconn = NULL;
    DWORD rc;

    fill_params(&params, "Lab busy");
    rc = RasDial(NULL, phonebook, &params, 0, NULL, &hrasconn);
    CHECK(rc == ERROR_LINE_BUSY, "synchronous RasDial(\"Lab busy\") is 676 (got %u)", rc);
    /* ras-reference §4.2 rule 12: the failed dial set a handle, which must be hung up. */
    CHECK(hrasconn != NULL, "the failed dial set a handle");
    status.dwSize = sizeof status;
    rc = RasGetConnectStatus(hrasconn, &status);
    CHECK(rc == 0 && status.dwError == ERROR_LINE_BUSY,
          "RasGetConnectStatus keeps the failure until hang-up (error %u)", status.dwError);
    hang_up(hrasconn, "Lab busy");
}

/* An asynchronous dial with notifier type `type`; returns the handle after the final
 * notification. */
static HRASCONN asynchronous_dial(const char *entry, DWORD type, LPVOID notifier)
{
    RASDIALPARAMS params;
    HRASCONN hrasconn = NULL;
    DWORD rc;

    log_reset(&the_log);
    fill_params(&params, entry);
    params.dwCallbackId = (ULONG_PTR)&the_log;
    rc = RasDial(NULL, phonebook, &params, type, notifier, &hrasconn);
    CHECK(rc == 0 && hrasconn != NULL, "asynchronous RasDial(\"%s\", type %d) starts (got %u)",
          entry, (int)type, rc);
    CHECK(log_wait(&the_log), "the dial of \"%s\" sent its final notification", entry);
    return hrasconn;
}

static void check_trace(const char *what, RASCONNSTATE last_state, DWORD last_error)
{
    int n = the_log.count, i, zero_before = 1, messages_ok = 1, ok;
    for (i = 0; i + 1 < n; i++)
        zero_before &= the_log.errors[i] == 0;
    for (i = 0; i < n; i++)
        messages_ok &= the_log.messages[i] == WM_RASDIALEVENT;
    ok = n >= 2 && the_log.states[0] == RASCS_OpenPort && zero_before && messages_ok &&
         the_log.states[n - 1] == last_state && the_log.errors[n - 1] == last_error;
    CHECK(ok, "%s: %d notifications, OpenPort first, WM_RASDIALEVENT, ends in state %d error %u",
          what, n, n > 0 ? (int)the_log.states[n - 1] : -1, n > 0 ? the_log.errors[n - 1] : 0);
    if (!ok)
        print_trace(&the_log);
}

static void asynchronous_dials(void)
{
    HRASCONN hrasconn;
    RASWINDOW window;
    int i, handles_ok = 1;

    hrasconn = asynchronous_dial("Lab ISP", 2, (LPVOID)RasDialFunc2);
    check_trace("RasDialFunc2 connect", RASCS_Connected, 0);
    for (i = 0; i < the_log.count; i++)
        handles_ok &= the_log.handles[i] == hrasconn;
    CHECK(handles_ok, "RasDialFunc2 gets the dial's handle every time");
    hang_up(hrasconn, "RasDialFunc2 connect");

    hrasconn = asynchronous_dial("Lab busy", 2, (LPVOID)RasDialFunc2);
    check_trace("RasDialFunc2 busy", RASCS_ConnectDevice, ERROR_LINE_BUSY);
    hang_up(hrasconn, "RasDialFunc2 busy");

    hrasconn = asynchronous_dial("Lab busy", 0, (LPVOID)RasDialFunc);
    check_trace("RasDialFunc busy", RASCS_ConnectDevice, ERROR_LINE_BUSY);
    hang_up(hrasconn, "RasDialFunc busy");

    hrasconn = asynchronous_dial("Lab busy", 1, (LPVOID)RasDialFunc1);
    check_trace("RasDialFunc1 busy", RASCS_ConnectDevice, ERROR_LINE_BUSY);
    CHECK(the_log.handles[0] == hrasconn, "RasDialFunc1 gets the dial's handle");
    hang_up(hrasconn, "RasDialFunc1 busy");

    window.lpfnWndProc = window_procedure;
    window.lpContext = &the_log;
    hrasconn = asynchronous_dial("Lab ISP", 0xFFFFFFFF, &window);
    check_trace("window messages connect", RASCS_Connected, 0);
    hang_up(hrasconn, "window messages connect");
}

/* The Paused States page: RDEOPT_PausedStates, a wrong password, RASCS_RetryAuthentication,
 * then a second RasDial with the paused handle, the same notifier and the right password. */
static void paused_and_resumed(void)
{
    RASDIALEXTENSIONS extensions;
    RASDIALPARAMS params;
    RASCONNSTATUS status;
    HRASCONN hrasconn = NULL, paused;
    DWORD rc;

    log_reset(&the_log);
    memset(&extensions, 0, sizeof extensions);
    extensions.dwSize = sizeof extensions;
    extensions.dwfOptions = RDEOPT_PausedStates;
    fill_params(&params, "Lab retry");
    strcpy(params.szPassword, "rabbit");
    params.dwCallbackId = (ULONG_PTR)&the_log;
    rc = RasDial(&extensions, phonebook, &params, 2, (LPVOID)RasDialFunc2, &hrasconn);
    CHECK(rc == 0 && hrasconn != NULL, "RasDial(\"Lab retry\") with paused states starts (%u)",
          rc);
    CHECK(log_wait(&the_log) && the_log.states[the_log.count - 1] == RASCS_RetryAuthentication &&
              the_log.errors[the_log.count - 1] == 0,
          "the wrong password pauses in RASCS_RetryAuthentication");
    status.dwSize = sizeof status;
    rc = RasGetConnectStatus(hrasconn, &status);
    CHECK(rc == 0 && status.rasconnstate == RASCS_RetryAuthentication,
          "RasGetConnectStatus shows the pause (state %d)", (int)status.rasconnstate);

    log_reset(&the_log);
    paused = hrasconn;
    strcpy(params.szPassword, "wonderland");
    rc = RasDial(&extensions, phonebook, &params, 2, (LPVOID)RasDialFunc2, &hrasconn);
    CHECK(rc == 0 && hrasconn == paused, "the second RasDial on the handle resumes (%u)", rc);
    CHECK(log_wait(&the_log) && the_log.states[the_log.count - 1] == RASCS_Connected &&
              the_log.errors[the_log.count - 1] == 0,
          "the resumed dial connects");
    if (failures)
        print_trace(&the_log);
    hang_up(hrasconn, "the resumed dial");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PHONEBOOK\n", argv[0]);
        return 2;
    }
    phonebook = argv[1];

    argument_checks();
    no_connections();
    enum_entries();
    synchronous_dial();
    synchronous_busy();
    asynchronous_dials();
    paused_and_resumed();

    printf("%d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
