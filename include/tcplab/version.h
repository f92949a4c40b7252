/*
 * version.h — `tcplab --version`: tcplab's own version and the versions of
 * the libraries it runs with, one per line, as `tcpdump --version` prints.
 *
 * The version has one source: the first entry of debian/changelog.  The
 * Makefile reads it there and compiles it into version.o only (rebuilt when
 * the changelog changes), so the Debian package and a plain `make` cannot
 * disagree.  The library lines come from the modules that own each library
 * (capture: libpcap, craft: libnet, firewall: libnftables); this module
 * includes none of their headers.
 */
#ifndef TCPLAB_VERSION_H
#define TCPLAB_VERSION_H

#include <stdio.h>

/* tcplab's version, e.g. "0.1.0"; never NULL. */
const char *version_string(void);

/*
 * Prints to f:
 *   tcplab version 0.1.0
 *   libpcap version 1.10.3 (with TPACKET_V3)
 *   libnet version 1.1.6
 *   libnftables version 1.0.6 (built with), loaded from /usr/lib/.../libnftables.so.1.1.0
 * Returns 0, or -1 when writing to f failed.
 */
int version_print(FILE *f);

#endif
