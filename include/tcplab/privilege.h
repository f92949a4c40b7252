/*
 * privilege.h — what tcplab needs from the kernel, checked before anything
 * is touched, so a user without it gets one sentence instead of a trail of
 * EPERMs; and giving files tcplab writes back to the user who ran sudo.
 */
#ifndef TCPLAB_PRIVILEGE_H
#define TCPLAB_PRIVILEGE_H

#include <stdbool.h>
#include <stddef.h>

#define PRIVILEGE_ERRBUF_SIZE 400

/*
 * Checks the effective capabilities: CAP_NET_RAW always, CAP_NET_ADMIN when
 * need_admin (the nftables rule, SO_MARK).  0 when present; -1 with errbuf
 * holding the sentence that names what is missing and how to get it.
 */
int privilege_check(bool need_admin, char errbuf[PRIVILEGE_ERRBUF_SIZE]);

/* When run through sudo (SUDO_UID/SUDO_GID set), gives path to that user.
 * Best effort: returns 0, or -1 when chown failed. */
int privilege_give_to_invoker(const char *path);

#endif
