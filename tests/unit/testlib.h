/*
 * testlib.h — helpers the unit tests share (header-only: each test is one
 * binary).
 */
#ifndef TCPLAB_TESTLIB_H
#define TCPLAB_TESTLIB_H

#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcplab/segment.h"

/* An IPv4 or IPv6 literal as an ip_addr; family 0 when text is neither. */
static inline struct ip_addr test_addr(const char *text)
{
	struct ip_addr a;

	memset(&a, 0, sizeof(a));
	if (ip_addr_parse(text, &a) != 0)
		memset(&a, 0, sizeof(a));
	return a;
}

/* Brings lo up in the current network namespace (a new one starts with it
 * down).  0 ok, -1 with errno set. */
static inline int test_lo_up(void)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = -1;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
		ifr.ifr_flags |= IFF_UP;
		rc = ioctl(fd, SIOCSIFFLAGS, &ifr);
	}
	close(fd);
	return rc;
}

#endif
