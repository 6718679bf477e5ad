/*
 * An application dialing entries that name custom dialers (ras-reference §4.5 rule 29):
 *   "Plugin C"          examples/c/predial_dialer.c: a pre-dial step, then RAS
 *   "Plugin Rust"       examples/rust_dialer.rs: refuses dials without a user name
 *   "Plugin no entry"   examples/c/no_entry_point.c: no RasCustomDial      -> 755
 *   "Plugin missing"    a file that does not exist                         -> 755
 *
 * usage: custom_host PHONEBOOK PLUGIN_LOG
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
static const char *plugin_log;

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

/* The last notification of an asynchronous dial. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int notifications, done;
static RASCONNSTATE last_state;
static DWORD last_error;
static ULONG_PTR last_callback_id;

static DWORD WINAPI RasDialFunc2(ULONG_PTR dwCallbackId, DWORD dwSubEntry, HRASCONN hrasconn,
                                 UINT unMsg, RASCONNSTATE rascs, DWORD dwError,
                                 DWORD dwExtendedError)
{
    (void)dwSubEntry;
    (void)hrasconn;
    (void)unMsg;
    (void)dwExtendedError;
    pthread_mutex_lock(&lock);
    notifications++;
    last_state = rascs;
    last_error = dwError;
    last_callback_id = dwCallbackId;
    if (dwError != 0 || rascs == RASCS_Connected)
        done = 1;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    return 1;
}

static LRESULT window_procedure(HWND hwnd, UINT uMsg, WPARAM wParam, LPARAM lParam)
{
    *(int *)hwnd->lpContext += 1;
    return RasDialFunc2(0xC0FFEE, 1, NULL, uMsg, (RASCONNSTATE)wParam, (DWORD)lParam, 0);
}

static int wait_done(void)
{
    struct timespec deadline;
    int result;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 30;
    pthread_mutex_lock(&lock);
    while (!done)
        if (pthread_cond_timedwait(&changed, &lock, &deadline) == ETIMEDOUT)
            break;
    result = done;
    pthread_mutex_unlock(&lock);
    return result;
}

static void reset(void)
{
    pthread_mutex_lock(&lock);
    notifications = done = 0;
    last_state = RASCS_OpenPort;
    last_error = 0;
    last_callback_id = 0;
    pthread_mutex_unlock(&lock);
}

static void fill_params(RASDIALPARAMS *params, const char *entry, const char *user)
{
    memset(params, 0, sizeof *params);
    params->dwSize = sizeof *params;
    strcpy(params->szEntryName, entry);
    strcpy(params->szUserName, user);
    strcpy(params->szPassword, "wonderland");
    params->dwCallbackId = 0xC0FFEE;
}

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
    CHECK(rc == ERROR_INVALID_HANDLE, "%s is gone after the hang-up (got %u)", what, rc);
}

/* How many lines of the plug-in's log start with `prefix`. */
static int log_count(const char *prefix)
{
    char line[512];
    int count = 0;
    FILE *file = fopen(plugin_log, "r");
    if (file == NULL)
        return 0;
    while (fgets(line, sizeof line, file) != NULL)
        if (strncmp(line, prefix, strlen(prefix)) == 0)
            count++;
    fclose(file);
    return count;
}

static void c_plugin(void)
{
    RASDIALPARAMS params;
    RASDIALEXTENSIONS extensions;
    RASCONNSTATUS status;
    HRASCONN hrasconn = NULL;
    DWORD rc;

    /* Synchronous: the plug-in dials synchronously too. */
    fill_params(&params, "Plugin C", "alice");
    rc = RasDial(NULL, phonebook, &params, 0, NULL, &hrasconn);
    CHECK(rc == 0 && hrasconn != NULL, "synchronous dial through the C plug-in connects (%u)",
          rc);
    CHECK(log_count("pre-dial Plugin C") == 1, "the C plug-in ran its pre-dial step");
    status.dwSize = sizeof status;
    rc = RasGetConnectStatus(hrasconn, &status);
    CHECK(rc == 0 && status.rasconnstate == RASCS_Connected,
          "the custom-dialed connection is RASCS_Connected (state %d)",
          (int)status.rasconnstate);
    hang_up(hrasconn, "the C plug-in's connection");

    /* Asynchronous: the plug-in forwards every notification to ours. */
    reset();
    hrasconn = NULL;
    fill_params(&params, "Plugin C", "alice");
    rc = RasDial(NULL, phonebook, &params, 2, (LPVOID)RasDialFunc2, &hrasconn);
    CHECK(rc == 0 && hrasconn != NULL, "asynchronous dial through the C plug-in starts (%u)",
          rc);
    CHECK(wait_done() && last_state == RASCS_Connected && last_error == 0,
          "forwarded notifications end in RASCS_Connected (state %d error %u)",
          (int)last_state, last_error);
    CHECK(last_callback_id == 0xC0FFEE, "our dwCallbackId came back through the plug-in");
    CHECK(log_count("notify ") == notifications,
          "the plug-in forwarded all %d notifications", notifications);
    hang_up(hrasconn, "the C plug-in's asynchronous connection");

    /* A window through the plug-in. */
    {
        RASWINDOW window;
        int messages = 0;
        reset();
        hrasconn = NULL;
        window.lpfnWndProc = window_procedure;
        window.lpContext = &messages;
        fill_params(&params, "Plugin C", "alice");
        rc = RasDial(NULL, phonebook, &params, 0xFFFFFFFF, &window, &hrasconn);
        CHECK(rc == 0 && wait_done() && last_state == RASCS_Connected && messages > 0,
              "window messages through the C plug-in end in RASCS_Connected (%d messages)",
              messages);
        hang_up(hrasconn, "the C plug-in's windowed connection");
    }

    /* RDEOPT_CustomDial: RAS dials the entry itself, without the plug-in. */
    hrasconn = NULL;
    memset(&extensions, 0, sizeof extensions);
    extensions.dwSize = sizeof extensions;
    extensions.dwfOptions = RDEOPT_CustomDial;
    fill_params(&params, "Plugin C", "alice");
    rc = RasDial(&extensions, phonebook, &params, 0, NULL, &hrasconn);
    CHECK(rc == 0, "RDEOPT_CustomDial dials the entry directly (%u)", rc);
    CHECK(log_count("pre-dial Plugin C") == 3, "without calling the plug-in again");
    hang_up(hrasconn, "the direct dial");
}

static void rust_plugin(void)
{
    RASDIALPARAMS params;
    HRASCONN hrasconn = NULL;
    DWORD rc;

    fill_params(&params, "Plugin Rust", "alice");
    rc = RasDial(NULL, phonebook, &params, 0, NULL, &hrasconn);
    CHECK(rc == 0 && hrasconn != NULL, "synchronous dial through the Rust plug-in connects (%u)",
          rc);
    hang_up(hrasconn, "the Rust plug-in's connection");

    /* Its refusal reaches both the notifier and the caller. */
    reset();
    hrasconn = NULL;
    fill_params(&params, "Plugin Rust", "");
    rc = RasDial(NULL, phonebook, &params, 2, (LPVOID)RasDialFunc2, &hrasconn);
    CHECK(rc == ERROR_NO_DIALIN_PERMISSION, "the Rust plug-in refuses a nameless dial (%u)",
          rc);
    CHECK(wait_done() && last_state == RASCS_OpenPort &&
              last_error == ERROR_NO_DIALIN_PERMISSION && last_callback_id == 0xC0FFEE,
          "and tells the notifier: state %d error %u", (int)last_state, last_error);
    CHECK(hrasconn == NULL, "no handle was set");
}

static void broken_plugins(void)
{
    RASDIALPARAMS params;
    HRASCONN hrasconn = NULL;
    DWORD rc;

    fill_params(&params, "Plugin no entry", "alice");
    rc = RasDial(NULL, phonebook, &params, 0, NULL, &hrasconn);
    CHECK(rc == ERROR_CANNOT_DO_CUSTOMDIAL, "a library without RasCustomDial is 755 (%u)",
          rc);
    fill_params(&params, "Plugin missing", "alice");
    rc = RasDial(NULL, phonebook, &params, 0, NULL, &hrasconn);
    CHECK(rc == ERROR_CANNOT_DO_CUSTOMDIAL, "a library that cannot be loaded is 755 (%u)", rc);
    CHECK(hrasconn == NULL, "neither set a handle");
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s PHONEBOOK PLUGIN_LOG\n", argv[0]);
        return 2;
    }
    phonebook = argv[1];
    plugin_log = argv[2];

    broken_plugins();
    c_plugin();
    rust_plugin();

    printf("%d failed\n", failures);
    return failures == 0 ? 0 : 1;
}
