/*
 * route.c — where a packet to HOST would go, asked of the kernel rather
 * than guessed.
 *
 *  - route_resolve: literals first (no DNS round trip for "127.0.0.1" or
 *    "::1"), then getaddrinfo; IPv4 preferred when the caller does not
 *    force a family.
 *  - route_lookup: a UDP socket connect()ed to the destination makes the
 *    kernel run its routing and source-address selection (RFC 6724 for
 *    IPv6) without sending anything; getsockname() tells the result, and
 *    getifaddrs() the interface that holds that address.
 *  - route_reserve_port: a kernel TCP socket bound (not listening) to the
 *    source port for the whole run, so no other program can pick the
 *    4-tuple tcplab crafts segments for.
 *  - route_port_has_listener: reads /proc/net/tcp{,6} to tell whether a
 *    kernel socket listens on a port (listen mode refuses to fight one).
 */
#include "tcplab/route.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A port for the routing query; connect() on UDP sends nothing, any
 * non-zero port will do. */
#define PROBE_PORT 9  /* discard, RFC 863 */

/* Contract: formats addr for messages into buf (INET6_ADDRSTRLEN bytes). */
static const char *addr_text(const struct ip_addr *a, char buf[INET6_ADDRSTRLEN])
{
	if (a == NULL || inet_ntop(a->family == 6 ? AF_INET6 : AF_INET, a->bytes, buf,
				   INET6_ADDRSTRLEN) == NULL)
		snprintf(buf, INET6_ADDRSTRLEN, "(bad address)");
	return buf;
}

/* Contract: fills a sockaddr for a:port; returns its length, 0 when the
 * family is neither 4 nor 6. */
static socklen_t to_sockaddr(const struct ip_addr *a, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == 4) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		memcpy(&sin->sin_addr, a->bytes, 4);
		return sizeof(*sin);
	}
	if (a->family == 6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		memcpy(&sin6->sin6_addr, a->bytes, 16);
		return sizeof(*sin6);
	}
	return 0;
}

/* Contract: reads address and port out of a sockaddr; 0 ok, -1 for a
 * family other than AF_INET / AF_INET6. */
static int from_sockaddr(const struct sockaddr *sa, struct ip_addr *a, uint16_t *port)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		a->family = 4;
		memcpy(a->bytes, &sin->sin_addr, 4);
		if (port)
			*port = ntohs(sin->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		a->family = 6;
		memcpy(a->bytes, &sin6->sin6_addr, 16);
		if (port)
			*port = ntohs(sin6->sin6_port);
		return 0;
	}
	return -1;
}

/* Contract: parses an IPv4 (want 0 or 4) or IPv6 (want 0 or 6) literal,
 * IPv6 optionally in brackets ("[::1]", as in URLs); 4 or 6 for the family
 * found, 0 when text is not a literal. */
static int parse_literal(const char *text, struct ip_addr *out)
{
	char buf[INET6_ADDRSTRLEN + 2];
	size_t len = strlen(text);

	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, out->bytes) == 1) {
		out->family = 4;
		return 4;
	}
	if (len >= 2 && text[0] == '[' && text[len - 1] == ']' && len - 2 < sizeof(buf)) {
		memcpy(buf, text + 1, len - 2);
		buf[len - 2] = '\0';
		text = buf;
	}
	if (inet_pton(AF_INET6, text, out->bytes) == 1) {
		out->family = 6;
		return 6;
	}
	return 0;
}

/*
 * Contract: resolves host (a name or a literal) to one address.  family 4
 * or 6 forces that family; 0 takes the first IPv4 address, else the first
 * IPv6 one.  0 ok, -1 with errbuf set ("cannot resolve 'x': ...").
 */
int route_resolve(const char *host, int family, struct ip_addr *out,
		  char errbuf[ROUTE_ERRBUF_SIZE])
{
	struct addrinfo hints, *res = NULL, *ai, *pick4 = NULL, *pick6 = NULL;
	struct ip_addr lit;
	int lit_family, rc;

	if (errbuf)
		errbuf[0] = '\0';
	if (host == NULL || host[0] == '\0') {
		if (errbuf)
			snprintf(errbuf, ROUTE_ERRBUF_SIZE, "no host name given");
		return -1;
	}
	if (family != 0 && family != 4 && family != 6) {
		if (errbuf)
			snprintf(errbuf, ROUTE_ERRBUF_SIZE,
				 "cannot resolve '%s': address family must be 4 or 6, not %d", host,
				 family);
		return -1;
	}
	lit_family = parse_literal(host, &lit);
	if (lit_family != 0) {
		if (family != 0 && family != lit_family) {
			if (errbuf)
				snprintf(errbuf, ROUTE_ERRBUF_SIZE,
					 "cannot resolve '%s': it is an IPv%d address but IPv%d was asked for",
					 host, lit_family, family);
			return -1;
		}
		*out = lit;
		return 0;
	}

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		if (errbuf)
			snprintf(errbuf, ROUTE_ERRBUF_SIZE, "cannot resolve '%s': %s", host,
				 rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_family == AF_INET && pick4 == NULL)
			pick4 = ai;
		else if (ai->ai_family == AF_INET6 && pick6 == NULL)
			pick6 = ai;
	}
	ai = pick4 ? pick4 : pick6;
	if (ai == NULL || from_sockaddr(ai->ai_addr, out, NULL) != 0) {
		if (errbuf)
			snprintf(errbuf, ROUTE_ERRBUF_SIZE, "cannot resolve '%s': no IPv%s address",
				 host, family == 6 ? "6" : family == 4 ? "4" : "4 or IPv6");
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	return 0;
}

/* Contract: true when a (family 4) lies in 127.0.0.0/8 (RFC 1122 §3.2.1.3). */
static bool is_loopback4(const struct ip_addr *a)
{
	return a->family == 4 && a->bytes[0] == 127;
}

/*
 * Contract: copies into ifname the name of the interface holding addr
 * exactly.  For an address in 127.0.0.0/8 that no interface lists, the
 * interface holding 127.0.0.1 (else the first loopback interface): the
 * whole /8 is local there.  0 ok, -1 when none does.
 */
int route_interface_of(const struct ip_addr *addr, char ifname[ROUTE_IFNAME_SIZE])
{
	struct ifaddrs *ifs = NULL, *i;
	const char *exact = NULL, *lo127 = NULL, *loop = NULL;
	int rc = -1;

	if (addr == NULL || ifname == NULL || (addr->family != 4 && addr->family != 6))
		return -1;
	if (getifaddrs(&ifs) != 0)
		return -1;
	for (i = ifs; i; i = i->ifa_next) {
		struct ip_addr a;

		if (i->ifa_addr == NULL || i->ifa_name == NULL)
			continue;
		if (from_sockaddr(i->ifa_addr, &a, NULL) != 0)
			continue;
		if ((i->ifa_flags & IFF_LOOPBACK) && loop == NULL)
			loop = i->ifa_name;
		if (a.family != addr->family)
			continue;
		if (memcmp(a.bytes, addr->bytes, a.family == 4 ? 4 : 16) == 0) {
			exact = i->ifa_name;
			break;
		}
		if (a.family == 4 && a.bytes[0] == 127 && a.bytes[1] == 0 && a.bytes[2] == 0 &&
		    a.bytes[3] == 1 && lo127 == NULL)
			lo127 = i->ifa_name;
	}
	if (exact == NULL && is_loopback4(addr))
		exact = lo127 ? lo127 : loop;
	if (exact != NULL && strlen(exact) < ROUTE_IFNAME_SIZE) {
		memcpy(ifname, exact, strlen(exact) + 1);
		rc = 0;
	}
	freeifaddrs(ifs);
	return rc;
}

/* Contract: name of the first up loopback interface into ifname; 0 ok. */
static int loopback_interface(char ifname[ROUTE_IFNAME_SIZE])
{
	struct ifaddrs *ifs = NULL, *i;
	int rc = -1;

	if (getifaddrs(&ifs) != 0)
		return -1;
	for (i = ifs; i; i = i->ifa_next) {
		if (i->ifa_name && (i->ifa_flags & IFF_LOOPBACK) &&
		    strlen(i->ifa_name) < ROUTE_IFNAME_SIZE) {
			memcpy(ifname, i->ifa_name, strlen(i->ifa_name) + 1);
			rc = 0;
			break;
		}
	}
	freeifaddrs(ifs);
	return rc;
}

/*
 * Contract: asks the kernel for the source address towards dst and finds
 * the interface that traffic uses.  A destination that is itself an
 * address of this host (127.0.0.1, ::1, or the address of a local veth)
 * is reached over the loopback interface, whatever interface holds the
 * address, so "lo" is returned for it.  0 ok, -1 with errbuf set.
 */
int route_lookup(const struct ip_addr *dst, struct ip_addr *src,
		 char ifname[ROUTE_IFNAME_SIZE], char errbuf[ROUTE_ERRBUF_SIZE])
{
	char dtext[INET6_ADDRSTRLEN], stext[INET6_ADDRSTRLEN];
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (errbuf)
		errbuf[0] = '\0';
	if (dst == NULL || src == NULL || ifname == NULL ||
	    (dst->family != 4 && dst->family != 6)) {
		if (errbuf)
			snprintf(errbuf, ROUTE_ERRBUF_SIZE, "no destination address to route to");
		return -1;
	}
	addr_text(dst, dtext);
	fd = socket(dst->family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		if (errbuf)
			snprintf(errbuf, ROUTE_ERRBUF_SIZE, "cannot look up the route to %s: %s", dtext,
				 strerror(errno));
		return -1;
	}
	len = to_sockaddr(dst, PROBE_PORT, &ss);
	if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
		int e = errno;

		if (errbuf) {
			if (e == ENETUNREACH || e == EHOSTUNREACH)
				snprintf(errbuf, ROUTE_ERRBUF_SIZE, "no route to %s", dtext);
			else
				snprintf(errbuf, ROUTE_ERRBUF_SIZE, "cannot look up the route to %s: %s",
					 dtext, strerror(e));
		}
		close(fd);
		return -1;
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
	    from_sockaddr((struct sockaddr *)&ss, src, NULL) != 0) {
		if (errbuf)
			snprintf(errbuf, ROUTE_ERRBUF_SIZE,
				 "cannot learn the source address towards %s: %s", dtext, strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);

	/* Local destinations go through the loopback device (Linux's local
	 * routing table), so that is where their packets can be captured. */
	if (is_loopback4(dst) || route_interface_of(dst, ifname) == 0) {
		if (loopback_interface(ifname) == 0)
			return 0;
	}
	if (route_interface_of(src, ifname) != 0) {
		if (errbuf)
			snprintf(errbuf, ROUTE_ERRBUF_SIZE,
				 "no interface holds %s, the source address towards %s",
				 addr_text(src, stext), dtext);
		return -1;
	}
	return 0;
}

/*
 * Contract: binds a TCP socket (not listening, close-on-exec) to
 * addr:port and returns it; *bound_port gets the port (the kernel's pick
 * when port is 0).  -1 with errbuf set, with a plain sentence for the
 * usual causes (port in use, address not local, privileged port).
 */
int route_reserve_port(const struct ip_addr *addr, uint16_t port, uint16_t *bound_port,
		       char errbuf[ROUTE_ERRBUF_SIZE])
{
	char atext[INET6_ADDRSTRLEN];
	struct sockaddr_storage ss;
	struct ip_addr got;
	socklen_t len;
	uint16_t p = 0;
	int fd;

	if (errbuf)
		errbuf[0] = '\0';
	if (addr == NULL || (addr->family != 4 && addr->family != 6)) {
		if (errbuf)
			snprintf(errbuf, ROUTE_ERRBUF_SIZE, "no address to reserve a port on");
		return -1;
	}
	addr_text(addr, atext);
	fd = socket(addr->family == 4 ? AF_INET : AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		if (errbuf)
			snprintf(errbuf, ROUTE_ERRBUF_SIZE, "cannot reserve a port on %s: %s", atext,
				 strerror(errno));
		return -1;
	}
	if (addr->family == 6) {
		/* Reserve the IPv6 port only; an IPv6 socket would otherwise
		 * also claim the port for IPv4 (bindv6only=0). */
		int one = 1;

		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	/* No SO_REUSEADDR: the point is that nobody else gets the port. */
	len = to_sockaddr(addr, port, &ss);
	if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
		int e = errno;

		if (errbuf) {
			if (e == EADDRINUSE && port != 0)
				snprintf(errbuf, ROUTE_ERRBUF_SIZE,
					 "port %u on %s is in use by another program", (unsigned)port,
					 atext);
			else if (e == EADDRINUSE)
				snprintf(errbuf, ROUTE_ERRBUF_SIZE, "no free ephemeral port on %s",
					 atext);
			else if (e == EADDRNOTAVAIL)
				snprintf(errbuf, ROUTE_ERRBUF_SIZE,
					 "%s is not an address of this host", atext);
			else if (e == EACCES)
				snprintf(errbuf, ROUTE_ERRBUF_SIZE,
					 "port %u on %s is privileged: binding it needs root or "
					 "CAP_NET_BIND_SERVICE", (unsigned)port, atext);
			else
				snprintf(errbuf, ROUTE_ERRBUF_SIZE, "cannot reserve port %u on %s: %s",
					 (unsigned)port, atext, strerror(e));
		}
		close(fd);
		return -1;
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0 ||
	    from_sockaddr((struct sockaddr *)&ss, &got, &p) != 0 || p == 0) {
		if (errbuf)
			snprintf(errbuf, ROUTE_ERRBUF_SIZE, "cannot learn the port reserved on %s",
				 atext);
		close(fd);
		return -1;
	}
	if (bound_port)
		*bound_port = p;
	return fd;
}

/* Contract: value of one hex digit, -1 for anything else. */
static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Contract: parses exactly n hex digits at s into *out (n <= 8); 0 ok. */
static int parse_hex(const char *s, size_t n, uint32_t *out)
{
	uint32_t v = 0;

	for (size_t i = 0; i < n; i++) {
		int d = hexval(s[i]);

		if (d < 0)
			return -1;
		v = (v << 4) | (uint32_t)d;
	}
	*out = v;
	return 0;
}

/*
 * Contract: parses one line of /proc/net/tcp or /proc/net/tcp6:
 *   "  sl: LOCALADDR:PORT REMADDR:PORT ST ..."
 * The kernel prints each 32-bit word of the address with %08X from its
 * in-memory (network-order) value, so copying the parsed words back to
 * memory restores the address bytes on any endianness.  0 ok with the
 * local address (family 4 or 6 by the address's width), port and state;
 * -1 for the header line or anything malformed.
 */
static int parse_proc_tcp_line(const char *line, struct ip_addr *a, uint16_t *port,
			       unsigned *state)
{
	const char *p = line, *addr, *colon;
	size_t alen;
	uint32_t v;

	while (*p == ' ' || *p == '\t')
		p++;
	/* "sl:" — a decimal slot number and a colon */
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p++ != ':')
		return -1;
	while (*p == ' ')
		p++;
	addr = p;
	colon = strchr(addr, ':');
	if (colon == NULL)
		return -1;
	alen = (size_t)(colon - addr);
	if (alen != 8 && alen != 32)
		return -1;
	memset(a, 0, sizeof(*a));
	a->family = alen == 8 ? 4 : 6;
	for (size_t w = 0; w < alen / 8; w++) {
		if (parse_hex(addr + 8 * w, 8, &v) != 0)
			return -1;
		memcpy(a->bytes + 4 * w, &v, 4);
	}
	p = colon + 1;
	if (parse_hex(p, 4, &v) != 0)
		return -1;
	*port = (uint16_t)v;
	p += 4;
	if (*p != ' ')
		return -1;
	/* remote address: skip the token */
	while (*p == ' ')
		p++;
	while (*p && *p != ' ')
		p++;
	while (*p == ' ')
		p++;
	if (parse_hex(p, 2, &v) != 0 || (p[2] != ' ' && p[2] != '\0' && p[2] != '\n'))
		return -1;
	*state = v;
	return 0;
}

#define TCP_STATE_LISTEN 0x0A  /* include/net/tcp_states.h */

/* Contract: true when the address has only zero bytes (INADDR_ANY / ::). */
static bool is_wildcard(const struct ip_addr *a)
{
	for (size_t i = 0; i < (a->family == 4 ? 4u : 16u); i++)
		if (a->bytes[i] != 0)
			return false;
	return true;
}

/* Contract: true when a (family 6) is ::ffff:b (b family 4), RFC 4291
 * §2.5.5.2. */
static bool is_mapped_of(const struct ip_addr *a, const struct ip_addr *b)
{
	static const uint8_t prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	return memcmp(a->bytes, prefix, 12) == 0 && memcmp(a->bytes + 12, b->bytes, 4) == 0;
}

/*
 * Contract: true when a listener bound to `listener` takes connections to
 * addr: the same address, a wildcard of the same family, or, for an IPv4
 * addr, an IPv6 wildcard (dual-stack, the Linux default bindv6only=0) or
 * the IPv4-mapped form of addr.  When addr itself is a wildcard ("every
 * address"), any listener of its family clashes, and so does an IPv6
 * wildcard for an IPv4 one.
 */
static bool listener_covers(const struct ip_addr *listener, const struct ip_addr *addr)
{
	if (listener->family == addr->family)
		return is_wildcard(addr) || is_wildcard(listener) ||
		       memcmp(listener->bytes, addr->bytes, addr->family == 4 ? 4 : 16) == 0;
	if (listener->family == 6 && addr->family == 4)
		return is_wildcard(listener) || (!is_wildcard(addr) && is_mapped_of(listener, addr));
	return false;
}

/*
 * Contract: scans one /proc/net file for a LISTEN socket on port that
 * covers addr (listener_covers).  Lines longer than the buffer are parsed
 * by their head (the fields needed come first) and the rest is skipped.
 * False when the file cannot be read.
 */
static bool scan_proc(const char *path, const struct ip_addr *addr, uint16_t port)
{
	char line[512];
	bool found = false, skipping = false;
	FILE *fp = fopen(path, "re");

	if (fp == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), fp) != NULL) {
		struct ip_addr a;
		uint16_t p;
		unsigned st;
		bool complete = strchr(line, '\n') != NULL;

		if (skipping) {            /* tail of an over-long line */
			skipping = !complete;
			continue;
		}
		if (!complete)
			skipping = true;
		if (parse_proc_tcp_line(line, &a, &p, &st) != 0)
			continue;
		if (st == TCP_STATE_LISTEN && p == port && listener_covers(&a, addr))
			found = true;
	}
	fclose(fp);
	return found;
}

/*
 * Contract: true when a kernel socket listens on addr:port, or on a
 * wildcard address that covers addr (see listener_covers).  False when
 * the proc files cannot be read.
 */
bool route_port_has_listener(const struct ip_addr *addr, uint16_t port)
{
	if (addr == NULL || (addr->family != 4 && addr->family != 6))
		return false;
	if (scan_proc(addr->family == 4 ? "/proc/net/tcp" : "/proc/net/tcp6", addr, port))
		return true;
	/* IPv6 sockets can take IPv4 connections: they appear only in tcp6 */
	return addr->family == 4 && scan_proc("/proc/net/tcp6", addr, port);
}
