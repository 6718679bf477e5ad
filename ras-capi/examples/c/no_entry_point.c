/*
 * A library named as an entry's custom dialer that does not export RasCustomDial (here it
 * exports a misspelt one): RasDialA of that entry fails with 755
 * ERROR_CANNOT_DO_CUSTOMDIAL (ras-reference §4.5 rule 29).
 */
#include "ras.h"

DWORD APIENTRY RasCustomDialer(HINSTANCE hInstDll, LPRASDIALEXTENSIONS lpRasDialExtensions,
                               LPCSTR lpszPhonebook, LPRASDIALPARAMSA lpRasDialParams,
                               DWORD dwNotifierType, LPVOID lpvNotifier,
                               LPHRASCONN lphRasConn, DWORD dwFlags)
{
    (void)hInstDll;
    (void)lpRasDialExtensions;
    (void)lpszPhonebook;
    (void)lpRasDialParams;
    (void)dwNotifierType;
    (void)lpvNotifier;
    (void)lphRasConn;
    (void)dwFlags;
    return ERROR_INVALID_PARAMETER;
}
