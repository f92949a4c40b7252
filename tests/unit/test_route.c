/*
 * test_route.c — unit tests for route.c.
 *
 * main() moves into a private network namespace (as root, or through an
 * unprivileged user namespace) with lo up and a veth pair holding
 * 198.18.0.1/15 (RFC 2544's benchmarking range), so that lookups are
 * deterministic, no listener of another program gets in the way, and a
 * DNS query for an invalid name cannot leave the machine.  Tests that
 * need the namespace are skipped when it cannot be made.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tcplab/route.h"
#include "testlib.h"

static bool g_netns;   /* private namespace, lo up */
static bool g_veth;    /* ... and tl0 holds 198.18.0.1/15 */
static bool g_v6;      /* ::1 usable */

/* Parses an IPv4/IPv6 literal (family 0 when it is neither). */
static struct ip_addr A(const char *text)
{
	return test_addr(text);
}

/* Fails the test unless *got is the literal want. */
static void assert_addr(const struct ip_addr *got, const char *want)
{
	struct ip_addr w = A(want);

	assert_int_equal(got->family, w.family);
	assert_memory_equal(got->bytes, w.bytes, w.family == 4 ? 4 : 16);
}

/* A kernel listener on addr:port (port 0: the kernel picks); v6only as
 * given for IPv6.  Returns the fd and sets *port. */
static int listener(const char *addr, uint16_t *port, int v6only)
{
	struct sockaddr_storage ss;
	struct ip_addr a = A(addr);
	socklen_t len;
	int fd = socket(a.family == 4 ? AF_INET : AF_INET6, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	memset(&ss, 0, sizeof(ss));
	if (a.family == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons(*port);
		memcpy(&s4->sin_addr, a.bytes, 4);
		len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof(v6only));
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(*port);
		memcpy(&s6->sin6_addr, a.bytes, 16);
		len = sizeof(*s6);
	}
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, len), 0);
	assert_int_equal(listen(fd, 4), 0);
	len = sizeof(ss);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	*port = ntohs(a.family == 4 ? ((struct sockaddr_in *)&ss)->sin_port
				    : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

/* ---- route_resolve ---- */

static void test_resolve_literals(void **state)
{
	char err[ROUTE_ERRBUF_SIZE];
	struct ip_addr a;

	(void)state;
	assert_int_equal(route_resolve("127.0.0.1", 0, &a, err), 0);
	assert_addr(&a, "127.0.0.1");
	assert_int_equal(route_resolve("198.18.3.4", 4, &a, err), 0);
	assert_addr(&a, "198.18.3.4");
	assert_int_equal(route_resolve("::1", 0, &a, err), 0);
	assert_addr(&a, "::1");
	assert_int_equal(route_resolve("2001:db8::5", 6, &a, err), 0);
	assert_addr(&a, "2001:db8::5");
	assert_int_equal(route_resolve("[::1]", 0, &a, err), 0);
	assert_addr(&a, "::1");
	assert_int_equal(route_resolve("::ffff:127.0.0.1", 6, &a, err), 0);
	assert_int_equal(a.family, 6);
}

static void test_resolve_family_mismatch(void **state)
{
	char err[ROUTE_ERRBUF_SIZE];
	struct ip_addr a;

	(void)state;
	assert_int_equal(route_resolve("127.0.0.1", 6, &a, err), -1);
	assert_non_null(strstr(err, "cannot resolve '127.0.0.1'"));
	assert_non_null(strstr(err, "IPv4 address but IPv6"));
	assert_int_equal(route_resolve("::1", 4, &a, err), -1);
	assert_non_null(strstr(err, "IPv6 address but IPv4"));
	assert_int_equal(route_resolve("127.0.0.1", 5, &a, err), -1);
	assert_non_null(strstr(err, "4 or 6"));
	assert_int_equal(route_resolve("", 0, &a, err), -1);
	assert_true(strlen(err) > 0);
	assert_int_equal(route_resolve(NULL, 0, &a, err), -1);
	/* a bracket that does not close is no literal (and no valid name) */
	if (g_netns)
		assert_int_equal(route_resolve("[::1", 0, &a, err), -1);
}

static void test_resolve_localhost(void **state)
{
	char err[ROUTE_ERRBUF_SIZE];
	struct ip_addr a;

	(void)state;
	/* /etc/hosts: IPv4 preferred when the family is not forced */
	assert_int_equal(route_resolve("localhost", 0, &a, err), 0);
	assert_addr(&a, "127.0.0.1");
	assert_int_equal(route_resolve("localhost", 4, &a, err), 0);
	assert_addr(&a, "127.0.0.1");
	assert_int_equal(route_resolve("LOCALHOST", 0, &a, err), 0);
	assert_int_equal(a.family, 4);
}

static void test_resolve_invalid_name(void **state)
{
	char err[ROUTE_ERRBUF_SIZE];
	struct ip_addr a;

	(void)state;
	/* only where a DNS query cannot leave the machine */
	if (!g_netns)
		skip();
	assert_int_equal(route_resolve("no-such-host.invalid", 0, &a, err), -1);
	assert_non_null(strstr(err, "cannot resolve 'no-such-host.invalid': "));
	assert_true(strlen(err) > strlen("cannot resolve 'no-such-host.invalid': "));
	assert_int_equal(route_resolve("999.1.1.1", 4, &a, err), -1);
	assert_non_null(strstr(err, "cannot resolve '999.1.1.1'"));
}

/* ---- route_lookup / route_interface_of ---- */

static void test_lookup_loopback(void **state)
{
	char err[ROUTE_ERRBUF_SIZE], ifname[ROUTE_IFNAME_SIZE];
	struct ip_addr dst = A("127.0.0.1"), src;

	(void)state;
	if (!g_netns)
		skip();
	assert_int_equal(route_lookup(&dst, &src, ifname, err), 0);
	assert_addr(&src, "127.0.0.1");
	assert_string_equal(ifname, "lo");

	/* anywhere in 127/8: source 127.0.0.1 (lo's preferred source), lo */
	dst = A("127.9.8.7");
	assert_int_equal(route_lookup(&dst, &src, ifname, err), 0);
	assert_addr(&src, "127.0.0.1");
	assert_string_equal(ifname, "lo");

	if (g_v6) {
		dst = A("::1");
		assert_int_equal(route_lookup(&dst, &src, ifname, err), 0);
		assert_addr(&src, "::1");
		assert_string_equal(ifname, "lo");
	}
}

static void test_lookup_veth(void **state)
{
	char err[ROUTE_ERRBUF_SIZE], ifname[ROUTE_IFNAME_SIZE];
	struct ip_addr dst = A("198.18.0.2"), src;

	(void)state;
	if (!g_veth)
		skip();
	/* a neighbour on the veth: source and interface are the veth's */
	assert_int_equal(route_lookup(&dst, &src, ifname, err), 0);
	assert_addr(&src, "198.18.0.1");
	assert_string_equal(ifname, "tl0");
	/* our own veth address is reached through lo (the local table) */
	dst = A("198.18.0.1");
	assert_int_equal(route_lookup(&dst, &src, ifname, err), 0);
	assert_addr(&src, "198.18.0.1");
	assert_string_equal(ifname, "lo");
}

static void test_lookup_errors(void **state)
{
	char err[ROUTE_ERRBUF_SIZE], ifname[ROUTE_IFNAME_SIZE];
	struct ip_addr dst = A("203.0.113.9"), src, bad;

	(void)state;
	memset(&bad, 0, sizeof(bad));
	bad.family = 5;
	assert_int_equal(route_lookup(&bad, &src, ifname, err), -1);
	assert_true(strlen(err) > 0);
	assert_int_equal(route_lookup(NULL, &src, ifname, err), -1);
	if (!g_netns)
		skip();
	/* no default route in the namespace: connect() fails, nothing sent */
	assert_int_equal(route_lookup(&dst, &src, ifname, err), -1);
	assert_string_equal(err, "no route to 203.0.113.9");
	dst = A("2001:db8::1");
	assert_int_equal(route_lookup(&dst, &src, ifname, err), -1);
	assert_non_null(strstr(err, "2001:db8::1"));
}

static void test_interface_of(void **state)
{
	char ifname[ROUTE_IFNAME_SIZE];
	struct ip_addr a = A("127.0.0.1");

	(void)state;
	if (!g_netns)
		skip();
	assert_int_equal(route_interface_of(&a, ifname), 0);
	assert_string_equal(ifname, "lo");
	a = A("127.200.0.1");   /* not listed, but local on lo */
	assert_int_equal(route_interface_of(&a, ifname), 0);
	assert_string_equal(ifname, "lo");
	a = A("203.0.113.1");
	assert_int_equal(route_interface_of(&a, ifname), -1);
	a = A("2001:db8::2");
	assert_int_equal(route_interface_of(&a, ifname), -1);
	if (g_veth) {
		a = A("198.18.0.1");
		assert_int_equal(route_interface_of(&a, ifname), 0);
		assert_string_equal(ifname, "tl0");
	}
	assert_int_equal(route_interface_of(NULL, ifname), -1);
}

/* ---- route_reserve_port ---- */

static void test_reserve_port(void **state)
{
	char err[ROUTE_ERRBUF_SIZE], want[ROUTE_ERRBUF_SIZE];
	struct ip_addr lo = A("127.0.0.1");
	uint16_t port = 0, port2 = 0;
	int fd, fd2;

	(void)state;
	fd = route_reserve_port(&lo, 0, &port, err);
	assert_true(fd >= 0);
	assert_int_not_equal(port, 0);
	/* reserved, not listening */
	assert_false(route_port_has_listener(&lo, port));

	fd2 = route_reserve_port(&lo, port, &port2, err);
	assert_int_equal(fd2, -1);
	snprintf(want, sizeof(want), "port %u on 127.0.0.1 is in use by another program",
		 (unsigned)port);
	assert_string_equal(err, want);

	/* released at close: the same port can be had again */
	close(fd);
	fd = route_reserve_port(&lo, port, &port2, err);
	assert_true(fd >= 0);
	assert_int_equal(port2, port);
	close(fd);
}

static void test_reserve_port_v6_and_errors(void **state)
{
	char err[ROUTE_ERRBUF_SIZE];
	struct ip_addr a = A("::1"), bad;
	uint16_t port = 0;
	int fd;

	(void)state;
	memset(&bad, 0, sizeof(bad));
	assert_int_equal(route_reserve_port(&bad, 0, &port, err), -1);
	assert_true(strlen(err) > 0);
	assert_int_equal(route_reserve_port(NULL, 0, &port, err), -1);
	if (!g_netns)
		skip();
	if (g_v6) {
		fd = route_reserve_port(&a, 0, &port, err);
		assert_true(fd >= 0);
		assert_int_not_equal(port, 0);
		close(fd);
	}
	a = A("203.0.113.7");
	assert_int_equal(route_reserve_port(&a, 0, &port, err), -1);
	assert_string_equal(err, "203.0.113.7 is not an address of this host");
}

/* ---- route_port_has_listener ---- */

static void test_listener_exact(void **state)
{
	struct ip_addr lo = A("127.0.0.1"), other = A("127.0.0.2"), any = A("0.0.0.0");
	uint16_t port = 0;
	int fd;

	(void)state;
	if (!g_netns)
		skip();
	fd = listener("127.0.0.1", &port, 0);
	assert_true(route_port_has_listener(&lo, port));
	assert_false(route_port_has_listener(&other, port));
	assert_true(route_port_has_listener(&any, port));   /* "every address" clashes */
	assert_false(route_port_has_listener(&lo, (uint16_t)(port + 1)));
	if (g_v6) {
		struct ip_addr v6 = A("::1");

		assert_false(route_port_has_listener(&v6, port));
	}
	close(fd);
	assert_false(route_port_has_listener(&lo, port));
	assert_false(route_port_has_listener(NULL, port));
}

static void test_listener_wildcard(void **state)
{
	struct ip_addr lo = A("127.0.0.1"), veth = A("198.18.0.1");
	uint16_t port = 0;
	int fd;

	(void)state;
	if (!g_netns)
		skip();
	fd = listener("0.0.0.0", &port, 0);
	assert_true(route_port_has_listener(&lo, port));
	assert_true(route_port_has_listener(&veth, port));
	close(fd);
	assert_false(route_port_has_listener(&lo, port));
}

static void test_listener_v6(void **state)
{
	struct ip_addr lo = A("127.0.0.1"), v6 = A("::1"), v6other = A("2001:db8::1");
	uint16_t port = 0;
	int fd;

	(void)state;
	if (!g_netns || !g_v6)
		skip();
	/* a dual-stack [::] listener takes IPv4 too, seen only in tcp6 */
	fd = listener("::", &port, 0);
	assert_true(route_port_has_listener(&v6, port));
	assert_true(route_port_has_listener(&lo, port));
	assert_true(route_port_has_listener(&v6other, port));
	close(fd);
	assert_false(route_port_has_listener(&lo, port));
	assert_false(route_port_has_listener(&v6, port));

	port = 0;
	fd = listener("::1", &port, 1);
	assert_true(route_port_has_listener(&v6, port));
	assert_false(route_port_has_listener(&lo, port));
	assert_false(route_port_has_listener(&v6other, port));
	close(fd);

	/* bound to the IPv4-mapped form of 127.0.0.1 */
	port = 0;
	fd = listener("::ffff:127.0.0.1", &port, 0);
	assert_true(route_port_has_listener(&lo, port));
	assert_false(route_port_has_listener(&v6, port));
	close(fd);
}

/* ---- namespace ---- */

/* True when a socket can bind ::1 (IPv6 enabled). */
static bool v6_usable(void)
{
	struct sockaddr_in6 s6;
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	bool ok;

	if (fd < 0)
		return false;
	memset(&s6, 0, sizeof(s6));
	s6.sin6_family = AF_INET6;
	s6.sin6_addr = in6addr_loopback;
	ok = bind(fd, (struct sockaddr *)&s6, sizeof(s6)) == 0;
	close(fd);
	return ok;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_resolve_literals),
		cmocka_unit_test(test_resolve_family_mismatch),
		cmocka_unit_test(test_resolve_localhost),
		cmocka_unit_test(test_resolve_invalid_name),
		cmocka_unit_test(test_lookup_loopback),
		cmocka_unit_test(test_lookup_veth),
		cmocka_unit_test(test_lookup_errors),
		cmocka_unit_test(test_interface_of),
		cmocka_unit_test(test_reserve_port),
		cmocka_unit_test(test_reserve_port_v6_and_errors),
		cmocka_unit_test(test_listener_exact),
		cmocka_unit_test(test_listener_wildcard),
		cmocka_unit_test(test_listener_v6),
	};

	if (unshare(CLONE_NEWNET) == 0 || unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0)
		g_netns = test_lo_up() == 0;
	if (g_netns) {
		g_v6 = v6_usable();
		/* the namespace is private: the veth dies with the process */
		g_veth = system("ip link add tl0 type veth peer name tl1 2>/dev/null && "
				"ip addr add 198.18.0.1/15 dev tl0 && "
				"ip link set tl0 up && ip link set tl1 up") == 0;
	} else {
		fprintf(stderr, "test_route: no private network namespace: most tests skipped\n");
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
