/*
 * test_firewall.c — unit tests for src/firewall.c (the nftables table that
 * drops the kernel's RST for a crafted connection).
 *
 * These tests must never touch the host's ruleset.  main() first moves the
 * process into a network namespace of its own (unshare(CLONE_NEWNET), which
 * needs root); every test that reaches nftables runs only if that worked and
 * is reported as skipped otherwise.  Tests that only exercise argument
 * checking run everywhere, because firewall_install validates a rule before
 * it opens a netlink socket.
 *
 * Inside the namespace the tests check real behaviour, not just the script
 * text: a kernel TCP socket connecting to a closed port on 127.0.0.1 / ::1
 * gets the kernel's RST|ACK (RFC 9293 §3.10.7.1) and fails with
 * ECONNREFUSED — unless the rule for that 4-tuple is installed, in which
 * case the connect stays pending and the rule's counter goes up.  RSTs sent
 * from a raw socket with SO_MARK = exempt mark must still arrive.  The nft
 * command-line tool is used as an independent observer of the ruleset and
 * to create foreign tables for the cleanup tests.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tcplab/craft.h"
#include "tcplab/firewall.h"
#include "testlib.h"

/* The mark tcplab's crafted segments carry, as the exempt mark. */
#define TEST_MARK CRAFT_PACKET_MARK

/* PID_MAX_LIMIT on 64-bit Linux is 4194304 (2^22): one above cannot exist. */
#define IMPOSSIBLE_PID 4194305L

static bool g_netns_ok;
static char g_netns_why[256] = "not attempted";
static const char *g_nft = "nft";

/* ------------------------------------------------------------------ helpers */

/* Skips the current test unless we are in our private network namespace. */
#define REQUIRE_NETNS()                                                          \
	do {                                                                     \
		if (!g_netns_ok) {                                               \
			print_message("skipped: %s\n", g_netns_why);             \
			skip();                                                  \
		}                                                                \
	} while (0)

/* Runs "nft ARGS" quietly; returns its exit status (0 ok). Only ever called
 * after the namespace check. */
static int nft_cmd(const char *fmt, ...) CMOCKA_PRINTF_ATTRIBUTE(1, 2);
static int nft_cmd(const char *fmt, ...)
{
	char args[512], cmd[700];
	va_list ap;
	int st;

	assert_true(g_netns_ok);
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(cmd, sizeof(cmd), "%s %s >/dev/null 2>&1", g_nft, args);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Captures the stdout of "nft ARGS" into buf (NUL-terminated, truncated). */
static void nft_capture(char *buf, size_t len, const char *args)
{
	char cmd[512];
	FILE *p;
	size_t n;

	assert_true(g_netns_ok);
	snprintf(cmd, sizeof(cmd), "%s %s 2>/dev/null", g_nft, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(buf, 1, len - 1, p);
	buf[n] = '\0';
	pclose(p);
}

/* True when `nft list tables` has exactly the line "table FAMILY NAME". */
static bool table_exists(const char *family, const char *name)
{
	char out[8192], want[128];
	const char *p;

	nft_capture(out, sizeof(out), "list tables");
	snprintf(want, sizeof(want), "table %s %s", family, name);
	for (p = out; (p = strstr(p, want)) != NULL; p++) {
		bool starts = p == out || p[-1] == '\n';
		char end = p[strlen(want)];

		if (starts && (end == '\n' || end == '\0'))
			return true;
	}
	return false;
}

/* Number of lines in `nft list tables`. */
static int table_count(void)
{
	char out[8192];
	int n = 0;

	nft_capture(out, sizeof(out), "list tables");
	for (const char *p = out; *p != '\0'; p++)
		n += *p == '\n';
	return n;
}

/* Milliseconds on the monotonic clock. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Fills a struct ip_addr from a literal. */
static struct ip_addr addr(const char *text)
{
	struct ip_addr a = test_addr(text);

	if (a.family == 0)
		fail_msg("bad literal %s", text);
	return a;
}

/* A TCP port on which nothing listens: bind a socket to port 0, read the
 * port, close it (nobody else runs in this namespace). */
static uint16_t closed_port(int af)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int fd = socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0);
	uint16_t port;

	assert_true(fd >= 0);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)af;
	if (af == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, af == AF_INET ?
			      sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	port = ntohs(af == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
				   : ((struct sockaddr_in6 *)&ss)->sin6_port);
	close(fd);
	return port;
}

/* A non-blocking kernel TCP socket bound to loopback; *port gets its port. */
static int bound_client(int af, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t sl = af == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	int fd = socket(af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)af;
	if (af == AF_INET)
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
	assert_int_equal(bind(fd, (struct sockaddr *)&ss, sl), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &sl), 0);
	*port = ntohs(af == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
				    : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

/* True when a TCP socket can be bound to ::1 (IPv6 may be disabled). */
static bool have_ipv6_loopback(void)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool ok;

	if (fd < 0)
		return false;
	ok = bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == 0;
	close(fd);
	return ok;
}

/* Starts connect(fd) to loopback:port. */
static int start_connect(int fd, int af, uint16_t port)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)af;
	if (af == AF_INET) {
		((struct sockaddr_in *)&ss)->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
	} else {
		((struct sockaddr_in6 *)&ss)->sin6_addr = in6addr_loopback;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
	}
	if (connect(fd, (struct sockaddr *)&ss, af == AF_INET ? sizeof(struct sockaddr_in)
							   : sizeof(struct sockaddr_in6)) == 0)
		return 0;
	return errno;
}

/*
 * What became of a connect started with start_connect (first = its result):
 * 0 connected, an errno value when it failed, -1 when still pending after
 * timeout_ms.
 */
static int connect_outcome(int fd, int first, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	int err = 0;
	socklen_t len = sizeof(err);

	if (first != EINPROGRESS)
		return first;
	if (poll(&pfd, 1, timeout_ms) == 0)
		return -1;
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	return err;
}

/*
 * A kernel TCP client on loopback about to connect to a closed port: the
 * kernel will answer its SYN with RST|ACK from sport to cport.  probe_open
 * picks both ports, so the caller can install a rule for exactly that
 * 4-tuple before probe_run starts the connect.
 */
struct conn_probe {
	int fd;
	int af;
	uint16_t cport;   /* client (remote, from the RST sender's view) */
	uint16_t sport;   /* closed port (local: where the RST comes from) */
};

static void probe_open(struct conn_probe *p, int af)
{
	p->af = af;
	p->sport = closed_port(af);
	p->fd = bound_client(af, &p->cport);
	/* The port was just freed, so the client may get it back: that
	 * would be a TCP self-connect (simultaneous open), not a refusal. */
	while (p->cport == p->sport) {
		close(p->fd);
		p->fd = bound_client(af, &p->cport);
	}
}

static int probe_run(struct conn_probe *p, int timeout_ms)
{
	return connect_outcome(p->fd, start_connect(p->fd, p->af, p->sport), timeout_ms);
}

static void probe_close(struct conn_probe *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
}

/* The rule that drops the kernel's RST from the closed port to the client. */
static struct firewall_rule rule_for(const struct conn_probe *p, const char *lo)
{
	struct firewall_rule r;

	memset(&r, 0, sizeof(r));
	r.local = addr(lo);
	r.local_port = p->sport;
	r.remote = addr(lo);
	r.remote_port = p->cport;
	r.exempt_mark = TEST_MARK;
	return r;
}

/* The firewall a test has installed and not removed yet: the teardown
 * removes it when an assertion ends the test early, because its table is
 * owner-flagged and would survive `nft flush ruleset` while the handle's
 * netlink socket stays open. */
static struct firewall *g_live;

/* A child a test forked and has not reaped yet: the teardown kills it, so
 * a failed assertion never leaves a process behind (nor holds the test
 * runner's output pipe open). */
static pid_t g_child = -1;

/* Reaps g_child (killing it first). */
static void reap_child(void)
{
	int status;

	if (g_child > 0) {
		kill(g_child, SIGKILL);
		(void)waitpid(g_child, &status, 0);
	}
	g_child = -1;
}

/* First thing a forked child does: die with the parent, and in any case
 * within a minute. */
static void child_safety(void)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (getppid() == 1)
		_exit(1);
	alarm(60);
}

/* Installs rule, failing the test with nftables' message if it cannot. */
static struct firewall *install_ok(const struct firewall_rule *r)
{
	char errbuf[FIREWALL_ERRBUF_SIZE];
	bool denied = true;
	struct firewall *fw = firewall_install(r, errbuf, &denied);

	if (fw == NULL)
		fail_msg("firewall_install: %s", errbuf);
	assert_false(denied);
	g_live = fw;
	return fw;
}

/* Removes fw, which must succeed. */
static void remove_ok(struct firewall *fw)
{
	assert_ptr_equal(fw, g_live);
	g_live = NULL;
	assert_int_equal(firewall_remove(fw), 0);
}

/* Internet checksum over the IPv4 pseudo-header and a TCP segment. */
static uint16_t tcp4_checksum(uint32_t src_be, uint32_t dst_be, const uint8_t *tcp, size_t len)
{
	uint32_t sum = 0;
	const uint8_t *s = (const uint8_t *)&src_be, *d = (const uint8_t *)&dst_be;

	sum += (uint32_t)(s[0] << 8 | s[1]) + (uint32_t)(s[2] << 8 | s[3]);
	sum += (uint32_t)(d[0] << 8 | d[1]) + (uint32_t)(d[2] << 8 | d[3]);
	sum += IPPROTO_TCP + (uint32_t)len;
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(tcp[i] << 8 | tcp[i + 1]);
	if (len & 1)
		sum += (uint32_t)(tcp[len - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Sends one bare TCP segment 127.0.0.1:sport -> 127.0.0.1:dport with
 * sequence seq, the given flags and IP TTL (0: the default) from a raw
 * socket carrying SO_MARK = mark (0: no mark set).  Returns true when it
 * left, false when sendto failed with EPERM, which is what a raw socket gets
 * when a netfilter output hook drops its packet. */
static bool send_raw_tcp(uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags, int ttl, uint32_t mark)
{
	uint8_t tcp[20];
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct sockaddr_in src = { .sin_family = AF_INET };
	uint32_t lo = htonl(INADDR_LOOPBACK);
	uint16_t ck;
	ssize_t n;
	int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);

	assert_true(fd >= 0);
	if (mark != 0)
		assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)), 0);
	if (ttl != 0)
		assert_int_equal(setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl)), 0);
	src.sin_addr.s_addr = lo;
	assert_int_equal(bind(fd, (struct sockaddr *)&src, sizeof(src)), 0);

	memset(tcp, 0, sizeof(tcp));
	tcp[0] = (uint8_t)(sport >> 8); tcp[1] = (uint8_t)sport;
	tcp[2] = (uint8_t)(dport >> 8); tcp[3] = (uint8_t)dport;
	tcp[4] = (uint8_t)(seq >> 24); tcp[5] = (uint8_t)(seq >> 16);
	tcp[6] = (uint8_t)(seq >> 8); tcp[7] = (uint8_t)seq;
	tcp[12] = 5 << 4;        /* data offset: 20 bytes */
	tcp[13] = flags;
	ck = tcp4_checksum(lo, lo, tcp, sizeof(tcp));
	tcp[16] = (uint8_t)(ck >> 8); tcp[17] = (uint8_t)ck;

	dst.sin_addr.s_addr = lo;
	n = sendto(fd, tcp, sizeof(tcp), 0, (struct sockaddr *)&dst, sizeof(dst));
	if (n < 0 && errno != EPERM)
		fail_msg("sendto: %s", strerror(errno));
	close(fd);
	return n == (ssize_t)sizeof(tcp);
}

/* send_raw_tcp of a bare RST. */
static bool send_raw_rst(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t mark)
{
	return send_raw_tcp(sport, dport, seq, 0x04, 0, mark);
}

/* A raw socket that receives a copy of every IPv4 TCP packet arriving. */
static int raw_listener(void)
{
	int fd = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);

	assert_true(fd >= 0);
	return fd;
}

/* True when a segment sport -> dport with sequence seq and exactly the
 * given flags arrives on the raw listener within timeout_ms. */
static bool saw_segment(int fd, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		uint8_t pkt[2048];
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		ssize_t n;

		if (left <= 0)
			return false;
		if (poll(&pfd, 1, (int)left) <= 0)
			return false;
		while ((n = recv(fd, pkt, sizeof(pkt), 0)) > 0) {
			size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
			const uint8_t *t = pkt + ihl;

			if (ihl < 20 || (size_t)n < ihl + 20)
				continue;
			if ((uint16_t)(t[0] << 8 | t[1]) == sport &&
			    (uint16_t)(t[2] << 8 | t[3]) == dport &&
			    ((uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 |
			     (uint32_t)t[6] << 8 | t[7]) == seq && t[13] == flags)
				return true;
		}
	}
}

/* True when an RST sport -> dport with sequence seq arrives on the raw
 * listener within timeout_ms. */
static bool saw_rst(int fd, uint16_t sport, uint16_t dport, uint32_t seq, int timeout_ms)
{
	return saw_segment(fd, sport, dport, seq, 0x04, timeout_ms);
}

/* ------------------------------------------------- tests without privileges */

/* Every malformed rule is refused before nftables is touched, with one
 * line in errbuf and *permission_denied reset to false. */
static void test_install_rejects_bad_rules(void **state)
{
	char errbuf[FIREWALL_ERRBUF_SIZE];
	struct firewall_rule good, r;
	bool denied;
	(void)state;

	memset(&good, 0, sizeof(good));
	good.local = addr("127.0.0.1");
	good.local_port = 4000;
	good.remote = addr("127.0.0.1");
	good.remote_port = 5000;

	denied = true;
	errbuf[0] = '\0';
	assert_null(firewall_install(NULL, errbuf, &denied));
	assert_false(denied);
	assert_true(strlen(errbuf) > 0);

	r = good;
	r.local_port = 0;                /* would cover every local port */
	denied = true;
	errbuf[0] = '\0';
	assert_null(firewall_install(&r, errbuf, &denied));
	assert_false(denied);
	assert_non_null(strstr(errbuf, "port"));
	assert_null(strchr(errbuf, '\n'));

	r = good;
	r.local.family = 5;
	errbuf[0] = '\0';
	assert_null(firewall_install(&r, errbuf, &denied));
	assert_non_null(strstr(errbuf, "local"));

	r = good;
	r.remote.family = 7;
	errbuf[0] = '\0';
	assert_null(firewall_install(&r, errbuf, &denied));
	assert_non_null(strstr(errbuf, "remote"));

	r = good;
	r.remote = addr("::1");          /* IPv4 local, IPv6 remote */
	errbuf[0] = '\0';
	assert_null(firewall_install(&r, errbuf, &denied));
	assert_true(strlen(errbuf) > 0);

	/* NULL errbuf and NULL permission_denied are tolerated. */
	assert_null(firewall_install(&r, NULL, NULL));
	assert_null(firewall_install(NULL, NULL, NULL));
}

/* NULL handles are safe everywhere. */
static void test_null_handles(void **state)
{
	(void)state;
	assert_int_equal(firewall_remove(NULL), 0);
	assert_int_equal(firewall_dropped(NULL), -1);
	assert_string_equal(firewall_table_name(NULL), "");
}

/* ------------------------------------------- tests in the private namespace */

/* Flushes whatever a test left in the private namespace's ruleset. */
static int teardown_ns(void **state)
{
	(void)state;
	reap_child();
	if (g_live != NULL) {
		(void)firewall_remove(g_live);
		g_live = NULL;
	}
	if (g_netns_ok)
		(void)nft_cmd("flush ruleset");
	return 0;
}

/* Install creates exactly one table, tcplab_<pid>, with the comment an
 * admin needs, at raw priority; remove deletes it. */
static void test_install_creates_only_our_table(void **state)
{
	char name[64], out[8192], want[96];
	struct firewall_rule r;
	struct firewall *fw;
	(void)state;
	REQUIRE_NETNS();

	assert_int_equal(table_count(), 0);
	memset(&r, 0, sizeof(r));
	r.local = addr("127.0.0.1");
	r.local_port = 4000;
	r.remote = addr("127.0.0.2");
	r.remote_port = 5000;
	r.exempt_mark = TEST_MARK;
	fw = install_ok(&r);

	snprintf(name, sizeof(name), "tcplab_%ld", (long)getpid());
	assert_string_equal(firewall_table_name(fw), name);
	assert_int_equal(table_count(), 1);
	assert_true(table_exists("inet", name));

	snprintf(want, sizeof(want), "list table inet %s", name);
	nft_capture(out, sizeof(out), want);
	snprintf(want, sizeof(want), "comment \"tcplab pid %ld: drops kernel RSTs for a crafted connection", (long)getpid());
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, "tcplab cleanup"));
	assert_non_null(strstr(out, "hook output priority raw"));
	assert_non_null(strstr(out, "ip saddr 127.0.0.1"));
	assert_non_null(strstr(out, "ip daddr 127.0.0.2"));
	assert_non_null(strstr(out, "tcp sport 4000"));
	assert_non_null(strstr(out, "tcp dport 5000"));
	snprintf(want, sizeof(want), "meta mark != 0x%08x", (unsigned)TEST_MARK);
	assert_non_null(strstr(out, want));
	assert_non_null(strstr(out, " drop"));
	assert_int_equal(firewall_dropped(fw), 0);

	remove_ok(fw);
	assert_false(table_exists("inet", name));
	assert_int_equal(table_count(), 0);
}

/* Without a rule the kernel refuses a connect to a closed port (control:
 * proves the probe can see a RST at all); with the rule for that exact
 * 4-tuple the RST is dropped, the connect hangs, the counter counts it; once
 * removed, the next SYN retransmission is refused again. */
static void test_drops_kernel_rst_ipv4(void **state)
{
	struct conn_probe p;
	struct firewall_rule r;
	struct firewall *fw;
	int64_t dropped;
	(void)state;
	REQUIRE_NETNS();

	probe_open(&p, AF_INET);
	assert_int_equal(probe_run(&p, 1000), ECONNREFUSED);
	probe_close(&p);

	probe_open(&p, AF_INET);
	r = rule_for(&p, "127.0.0.1");
	fw = install_ok(&r);
	assert_int_equal(probe_run(&p, 400), -1);        /* still in SYN-SENT */
	dropped = firewall_dropped(fw);
	assert_true(dropped >= 1);

	remove_ok(fw);
	/* The SYN is retransmitted after the 1 s initial RTO (RFC 6298 §2.1);
	 * its RST now gets through. */
	assert_int_equal(connect_outcome(p.fd, EINPROGRESS, 4000), ECONNREFUSED);
	probe_close(&p);
}

/* The same over IPv6 (::1). */
static void test_drops_kernel_rst_ipv6(void **state)
{
	struct conn_probe p;
	struct firewall_rule r;
	struct firewall *fw;
	(void)state;
	REQUIRE_NETNS();

	if (!have_ipv6_loopback()) {
		print_message("skipped: no IPv6 on lo here\n");
		skip();
	}
	probe_open(&p, AF_INET6);
	assert_int_equal(probe_run(&p, 1000), ECONNREFUSED);
	probe_close(&p);

	probe_open(&p, AF_INET6);
	r = rule_for(&p, "::1");
	fw = install_ok(&r);
	assert_int_equal(probe_run(&p, 400), -1);
	assert_true(firewall_dropped(fw) >= 1);
	remove_ok(fw);
	probe_close(&p);
}

/* A rule for another 4-tuple lets the kernel's RST through: the rule is
 * exactly as narrow as it claims. */
static void test_rule_is_specific(void **state)
{
	struct conn_probe p;
	struct firewall_rule r;
	struct firewall *fw;
	(void)state;
	REQUIRE_NETNS();

	/* Wrong remote port. */
	probe_open(&p, AF_INET);
	r = rule_for(&p, "127.0.0.1");
	r.remote_port = (uint16_t)(p.cport == 65535 ? 1 : p.cport + 1);
	fw = install_ok(&r);
	assert_int_equal(probe_run(&p, 1000), ECONNREFUSED);
	assert_int_equal(firewall_dropped(fw), 0);
	remove_ok(fw);
	probe_close(&p);

	/* Wrong local port. */
	probe_open(&p, AF_INET);
	r = rule_for(&p, "127.0.0.1");
	r.local_port = (uint16_t)(p.sport == 65535 ? 1 : p.sport + 1);
	fw = install_ok(&r);
	assert_int_equal(probe_run(&p, 1000), ECONNREFUSED);
	assert_int_equal(firewall_dropped(fw), 0);
	remove_ok(fw);
	probe_close(&p);

	/* Wrong remote address. */
	probe_open(&p, AF_INET);
	r = rule_for(&p, "127.0.0.1");
	r.remote = addr("127.0.0.9");
	fw = install_ok(&r);
	assert_int_equal(probe_run(&p, 1000), ECONNREFUSED);
	assert_int_equal(firewall_dropped(fw), 0);
	remove_ok(fw);
	probe_close(&p);

	/* IPv6 rule does not cover the IPv4 connection. */
	probe_open(&p, AF_INET);
	r = rule_for(&p, "::1");
	fw = install_ok(&r);
	assert_int_equal(probe_run(&p, 1000), ECONNREFUSED);
	assert_int_equal(firewall_dropped(fw), 0);
	remove_ok(fw);
	probe_close(&p);
}

/* remote_port 0 means any remote port, remote family 0 any remote address
 * (what listen uses); local family 0 any local address. */
static void test_wildcards(void **state)
{
	struct conn_probe p;
	struct firewall_rule r;
	struct firewall *fw;
	(void)state;
	REQUIRE_NETNS();

	probe_open(&p, AF_INET);
	r = rule_for(&p, "127.0.0.1");
	r.remote_port = 0;
	memset(&r.remote, 0, sizeof(r.remote));
	fw = install_ok(&r);
	assert_int_equal(probe_run(&p, 400), -1);
	assert_true(firewall_dropped(fw) >= 1);
	remove_ok(fw);
	probe_close(&p);

	/* All wildcards but the local port: also catches IPv6. */
	if (!have_ipv6_loopback())
		return;
	probe_open(&p, AF_INET6);
	r = rule_for(&p, "::1");
	r.remote_port = 0;
	memset(&r.remote, 0, sizeof(r.remote));
	memset(&r.local, 0, sizeof(r.local));
	fw = install_ok(&r);
	assert_int_equal(probe_run(&p, 400), -1);
	assert_true(firewall_dropped(fw) >= 1);
	remove_ok(fw);
	probe_close(&p);
}

/* An RST carrying the exempt mark passes and is not counted; the same RST
 * without a mark, or with another mark, is dropped and counted. */
static void test_exempt_mark_passes(void **state)
{
	struct firewall_rule r;
	struct firewall *fw;
	uint16_t sport, dport;
	int lis;
	(void)state;
	REQUIRE_NETNS();

	sport = closed_port(AF_INET);
	dport = closed_port(AF_INET);
	memset(&r, 0, sizeof(r));
	r.local = addr("127.0.0.1");
	r.local_port = sport;
	r.remote = addr("127.0.0.1");
	r.remote_port = dport;
	r.exempt_mark = TEST_MARK;

	lis = raw_listener();
	/* Control: with no rule an unmarked RST arrives (proves the
	 * listener sees these RSTs at all). */
	assert_true(send_raw_rst(sport, dport, 0x1001, 0));
	assert_true(saw_rst(lis, sport, dport, 0x1001, 500));

	fw = install_ok(&r);
	assert_true(send_raw_rst(sport, dport, 0x2001, TEST_MARK));
	assert_true(saw_rst(lis, sport, dport, 0x2001, 500));
	assert_int_equal(firewall_dropped(fw), 0);

	assert_false(send_raw_rst(sport, dport, 0x2002, 0));
	assert_false(saw_rst(lis, sport, dport, 0x2002, 300));
	assert_int_equal(firewall_dropped(fw), 1);

	assert_false(send_raw_rst(sport, dport, 0x2003, TEST_MARK + 1));
	assert_false(saw_rst(lis, sport, dport, 0x2003, 300));
	assert_int_equal(firewall_dropped(fw), 2);

	/* Another 4-tuple is not this rule's business, marked or not. */
	assert_true(send_raw_rst(sport, (uint16_t)(dport ^ 1), 0x2004, 0));
	assert_true(saw_rst(lis, sport, (uint16_t)(dport ^ 1), 0x2004, 500));
	assert_int_equal(firewall_dropped(fw), 2);
	remove_ok(fw);

	/* exempt_mark 0 means no exemption: even a marked RST is dropped. */
	r.exempt_mark = 0;
	fw = install_ok(&r);
	assert_false(send_raw_rst(sport, dport, 0x3001, TEST_MARK));
	assert_false(saw_rst(lis, sport, dport, 0x3001, 300));
	assert_int_equal(firewall_dropped(fw), 1);
	remove_ok(fw);

	close(lis);
}

/* The send-path warm-up table: with warm_device set, a netdev table of the
 * same name drops, at that device's egress, exactly tcplab's warm-up
 * segments (mark, TTL warm_ttl, no TCP flag) and nothing else; it goes away
 * with firewall_remove.  An unquotable device name leaves it out without
 * failing the install. */
static void test_warm_up_drop(void **state)
{
	char name[64], out[8192], cmd[96];
	struct firewall_rule r;
	struct firewall *fw;
	uint16_t sport, dport;
	int lis;
	(void)state;
	REQUIRE_NETNS();

	sport = closed_port(AF_INET);
	dport = closed_port(AF_INET);
	memset(&r, 0, sizeof(r));
	r.local = addr("127.0.0.1");
	r.local_port = sport;
	r.remote = addr("127.0.0.1");
	r.remote_port = dport;
	r.exempt_mark = TEST_MARK;
	r.warm_device = "lo";
	r.warm_mark = TEST_MARK;
	r.warm_ttl = 1;
	snprintf(name, sizeof(name), "tcplab_%ld", (long)getpid());

	lis = raw_listener();
	/* Control: without the table a flagless TTL-1 segment arrives. */
	assert_true(send_raw_tcp(sport, dport, 0x4001, 0, 1, TEST_MARK));
	assert_true(saw_segment(lis, sport, dport, 0x4001, 0, 500));

	fw = install_ok(&r);
	assert_true(firewall_warm_ready(fw));
	assert_true(table_exists("inet", name));
	assert_true(table_exists("netdev", name));
	snprintf(cmd, sizeof(cmd), "list table netdev %s", name);
	nft_capture(out, sizeof(out), cmd);
	assert_non_null(strstr(out, "hook egress device \"lo\""));
	assert_non_null(strstr(out, "flags owner"));

	/* The warm-up segment leaves the socket (egress is past the output
	 * hook, so sendto succeeds) and never arrives. */
	assert_true(send_raw_tcp(sport, dport, 0x4002, 0, 1, TEST_MARK));
	assert_false(saw_segment(lis, sport, dport, 0x4002, 0, 300));
	/* Any difference and it passes: another TTL, a flag, no mark. */
	assert_true(send_raw_tcp(sport, dport, 0x4003, 0, 2, TEST_MARK));
	assert_true(saw_segment(lis, sport, dport, 0x4003, 0, 500));
	assert_true(send_raw_tcp(sport, dport, 0x4004, 0x10, 1, TEST_MARK));
	assert_true(saw_segment(lis, sport, dport, 0x4004, 0x10, 500));
	assert_true(send_raw_tcp(sport, dport, 0x4005, 0, 1, 0));
	assert_true(saw_segment(lis, sport, dport, 0x4005, 0, 500));

	remove_ok(fw);
	assert_false(table_exists("netdev", name));
	assert_int_equal(table_count(), 0);
	assert_true(send_raw_tcp(sport, dport, 0x4006, 0, 1, TEST_MARK));
	assert_true(saw_segment(lis, sport, dport, 0x4006, 0, 500));

	/* A device name nft cannot quote: no warm-up table, install fine. */
	r.warm_device = "lo\" x";
	fw = install_ok(&r);
	assert_false(firewall_warm_ready(fw));
	assert_false(table_exists("netdev", name));
	remove_ok(fw);
	/* No device: none either. */
	r.warm_device = NULL;
	fw = install_ok(&r);
	assert_false(firewall_warm_ready(fw));
	assert_int_equal(table_count(), 1);
	remove_ok(fw);
	close(lis);
}

/* A table of our name left by an earlier process with our pid is replaced,
 * not merged into and not an error. */
static void test_replaces_stale_table(void **state)
{
	char name[64], out[8192], args[96];
	struct firewall_rule r;
	struct firewall *fw;
	(void)state;
	REQUIRE_NETNS();

	snprintf(name, sizeof(name), "tcplab_%ld", (long)getpid());
	assert_int_equal(nft_cmd("add table inet %s", name), 0);
	assert_int_equal(nft_cmd("add chain inet %s leftover", name), 0);

	memset(&r, 0, sizeof(r));
	r.local = addr("::1");
	r.local_port = 4000;
	r.remote = addr("::2");
	r.remote_port = 0;
	fw = install_ok(&r);
	assert_int_equal(table_count(), 1);
	snprintf(args, sizeof(args), "list table inet %s", name);
	nft_capture(out, sizeof(out), args);
	assert_null(strstr(out, "leftover"));
	assert_non_null(strstr(out, "ip6 saddr ::1"));
	assert_non_null(strstr(out, "ip6 daddr ::2"));
	assert_null(strstr(out, "dport"));        /* remote port 0: any */
	assert_null(strstr(out, "meta mark"));    /* exempt_mark 0: none */
	remove_ok(fw);
	assert_int_equal(table_count(), 0);
}

/* The installed table is owned by the firewall handle's netlink socket:
 * another process (here the nft tool) can neither delete it nor get it
 * out of the way, and firewall_remove still can. */
static void test_owner_protects_table(void **state)
{
	struct firewall_rule r;
	struct firewall *fw;
	char name[64];
	(void)state;
	REQUIRE_NETNS();

	memset(&r, 0, sizeof(r));
	r.local = addr("127.0.0.1");
	r.local_port = 4000;
	fw = install_ok(&r);
	snprintf(name, sizeof(name), "%s", firewall_table_name(fw));
	assert_int_not_equal(nft_cmd("delete table inet %s", name), 0);
	assert_true(table_exists("inet", name));

	/* A second table in the same process would share the name: refused
	 * with a clear message, not a misleading permission error. */
	{
		char errbuf[FIREWALL_ERRBUF_SIZE];
		bool denied = true;

		assert_null(firewall_install(&r, errbuf, &denied));
		assert_false(denied);
		assert_non_null(strstr(errbuf, "already"));
	}
	assert_true(table_exists("inet", name));
	remove_ok(fw);
	assert_false(table_exists("inet", name));
}

/* A child that renames itself "tcplab" and waits: a live tcplab for
 * cleanup's purposes.  Returns its pid. */
static pid_t spawn_fake_tcplab(void)
{
	int pfd[2];
	char c;
	pid_t pid;

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		child_safety();
		close(pfd[0]);
		prctl(PR_SET_NAME, "tcplab", 0, 0, 0);
		if (write(pfd[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	g_child = pid;
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &c, 1), 1);
	close(pfd[0]);
	return pid;
}

/* cleanup_stale deletes exactly the inet tables named tcplab_<pid> whose
 * process is gone or is not a tcplab, keeps those of live tcplabs, and
 * never touches anything else. */
static void test_cleanup_stale(void **state)
{
	static const char *const untouched[][2] = {
		{ "inet", "tcplabX" },
		{ "inet", "tcplab_12ab" },
		{ "inet", "tcplab_007" },       /* not a name we would create */
		{ "inet", "tcplab_0" },
		{ "inet", "tcplab_" },
		{ "inet", "tcplab_99999999999" }, /* beyond any pid */
		{ "inet", "other" },
		{ "ip", "tcplab_4194306" },     /* right name, wrong family */
		{ "ip6", "tcplab_4194307" },
	};
	char errbuf[FIREWALL_ERRBUF_SIZE], mine[64], live[64], gone[64];
	unsigned removed = 99, kept = 99;
	bool denied = true;
	pid_t child;
	int status;
	(void)state;
	REQUIRE_NETNS();

	child = spawn_fake_tcplab();
	snprintf(mine, sizeof(mine), "tcplab_%ld", (long)getpid());   /* comm is not tcplab */
	snprintf(live, sizeof(live), "tcplab_%ld", (long)child);
	snprintf(gone, sizeof(gone), "tcplab_%ld", IMPOSSIBLE_PID);
	assert_int_equal(nft_cmd("add table inet %s", mine), 0);
	assert_int_equal(nft_cmd("add table inet %s", live), 0);
	assert_int_equal(nft_cmd("add table inet %s", gone), 0);
	assert_int_equal(nft_cmd("add chain inet %s c", gone), 0);
	assert_int_equal(nft_cmd("add table netdev %s", gone), 0);   /* a warm-up table */
	for (size_t i = 0; i < sizeof(untouched) / sizeof(untouched[0]); i++)
		assert_int_equal(nft_cmd("add table %s %s", untouched[i][0], untouched[i][1]), 0);

	assert_int_equal(firewall_cleanup_stale(&removed, &kept, errbuf, &denied), 0);
	assert_false(denied);
	assert_int_equal(removed, 3);
	assert_int_equal(kept, 1);
	assert_false(table_exists("inet", mine));
	assert_false(table_exists("inet", gone));
	assert_false(table_exists("netdev", gone));
	assert_true(table_exists("inet", live));
	for (size_t i = 0; i < sizeof(untouched) / sizeof(untouched[0]); i++)
		assert_true(table_exists(untouched[i][0], untouched[i][1]));

	/* Once the fake tcplab is gone its table is stale too. */
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, &status, 0), child);
	g_child = -1;
	assert_int_equal(firewall_cleanup_stale(&removed, &kept, errbuf, &denied), 0);
	assert_int_equal(removed, 1);
	assert_int_equal(kept, 0);
	assert_false(table_exists("inet", live));
	assert_int_equal(table_count(), (int)(sizeof(untouched) / sizeof(untouched[0])));

	/* Nothing left to do: zero and zero; NULL counters are accepted. */
	assert_int_equal(firewall_cleanup_stale(&removed, &kept, errbuf, &denied), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(kept, 0);
	assert_int_equal(firewall_cleanup_stale(NULL, NULL, NULL, NULL), 0);
	assert_int_equal(table_count(), (int)(sizeof(untouched) / sizeof(untouched[0])));
}

/* A table that is installed and owned by a live firewall handle is not
 * deleted by cleanup even though our comm is not "tcplab": the kernel
 * refuses (owner flag) and cleanup counts it as kept, not as an error. */
static void test_cleanup_spares_owned_table(void **state)
{
	char errbuf[FIREWALL_ERRBUF_SIZE];
	struct firewall_rule r;
	struct firewall *fw;
	unsigned removed = 99, kept = 99;
	bool denied = true;
	(void)state;
	REQUIRE_NETNS();

	memset(&r, 0, sizeof(r));
	r.local = addr("127.0.0.1");
	r.local_port = 4000;
	fw = install_ok(&r);
	assert_int_equal(firewall_cleanup_stale(&removed, &kept, errbuf, &denied), 0);
	assert_false(denied);
	assert_int_equal(removed, 0);
	assert_int_equal(kept, 1);
	assert_true(table_exists("inet", firewall_table_name(fw)));
	assert_int_equal(firewall_dropped(fw), 0);
	remove_ok(fw);
	assert_int_equal(table_count(), 0);
}

/* The owner flag: when the process that installed the table dies without
 * calling firewall_remove (SIGKILL), the kernel deletes the table. */
static void test_table_dies_with_process(void **state)
{
	int pfd[2], status;
	char name[64], c;
	pid_t pid;
	(void)state;
	REQUIRE_NETNS();

	assert_int_equal(pipe(pfd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char errbuf[FIREWALL_ERRBUF_SIZE];
		struct firewall_rule r;

		child_safety();
		close(pfd[0]);
		memset(&r, 0, sizeof(r));
		r.local = addr("127.0.0.1");
		r.local_port = 4000;
		if (firewall_install(&r, errbuf, NULL) == NULL)
			_exit(1);
		if (write(pfd[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	g_child = pid;
	close(pfd[1]);
	assert_int_equal(read(pfd[0], &c, 1), 1);
	close(pfd[0]);
	snprintf(name, sizeof(name), "tcplab_%ld", (long)pid);
	assert_true(table_exists("inet", name));
	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	g_child = -1;
	/* The netlink socket's release is processed asynchronously. */
	for (int i = 0; i < 50 && table_exists("inet", name); i++)
		usleep(20000);
	assert_false(table_exists("inet", name));
}

/* Drops CAP_NET_ADMIN from all sets of the calling process. 0 ok. */
static int drop_net_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) != 0)
		return -1;
	data[CAP_TO_INDEX(CAP_NET_ADMIN)].effective &= ~CAP_TO_MASK(CAP_NET_ADMIN);
	data[CAP_TO_INDEX(CAP_NET_ADMIN)].permitted &= ~CAP_TO_MASK(CAP_NET_ADMIN);
	data[CAP_TO_INDEX(CAP_NET_ADMIN)].inheritable &= ~CAP_TO_MASK(CAP_NET_ADMIN);
	return (int)syscall(SYS_capset, &hdr, data);
}

/* Without CAP_NET_ADMIN install and cleanup fail with *permission_denied
 * set and a one-line message naming the capability.  Runs in a child so
 * the capability stays with the test process. */
static void test_permission_denied(void **state)
{
	pid_t pid;
	int status;
	(void)state;
	REQUIRE_NETNS();

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char errbuf[FIREWALL_ERRBUF_SIZE];
		struct firewall_rule r;
		unsigned removed, kept;
		bool denied = false;
		int bad = 0;

		child_safety();
		if (drop_net_admin() != 0)
			_exit(100);
		memset(&r, 0, sizeof(r));
		r.local = addr("127.0.0.1");
		r.local_port = 4000;
		if (firewall_install(&r, errbuf, &denied) != NULL)
			bad |= 1;
		if (!denied)
			bad |= 2;
		if (strstr(errbuf, "CAP_NET_ADMIN") == NULL || strchr(errbuf, '\n') != NULL)
			bad |= 4;
		denied = false;
		if (firewall_cleanup_stale(&removed, &kept, errbuf, &denied) != -1)
			bad |= 8;
		if (!denied)
			bad |= 16;
		if (strstr(errbuf, "CAP_NET_ADMIN") == NULL || strchr(errbuf, '\n') != NULL)
			bad |= 32;
		if (bad != 0)
			fprintf(stderr, "child: bad=%d errbuf=%s\n", bad, errbuf);
		_exit(bad);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 100) {
		print_message("skipped: capset failed\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(table_count(), 0);
}

/* ------------------------------------------------------------------- main */

/* Enters a network namespace of our own so nothing below can reach the
 * host's ruleset.  Sets g_netns_ok, or g_netns_why for the skip message. */
static void enter_private_netns(void)
{
	if (geteuid() != 0) {
		snprintf(g_netns_why, sizeof(g_netns_why),
			 "needs root for a private network namespace");
		return;
	}
	if (unshare(CLONE_NEWNET) != 0) {
		snprintf(g_netns_why, sizeof(g_netns_why), "unshare(CLONE_NEWNET): %s",
			 strerror(errno));
		return;
	}
	if (test_lo_up() != 0) {
		snprintf(g_netns_why, sizeof(g_netns_why), "cannot bring up lo: %s",
			 strerror(errno));
		return;
	}
	if (access("/usr/sbin/nft", X_OK) == 0)
		g_nft = "/usr/sbin/nft";
	else if (access("/sbin/nft", X_OK) == 0)
		g_nft = "/sbin/nft";
	g_netns_ok = true;
	/* A fresh namespace has an empty ruleset; nft must work in it. */
	if (nft_cmd("list ruleset") != 0) {
		g_netns_ok = false;
		snprintf(g_netns_why, sizeof(g_netns_why), "the nft tool does not run");
	}
}

int main(void)
{
	const struct CMUnitTest plain[] = {
		cmocka_unit_test(test_install_rejects_bad_rules),
		cmocka_unit_test(test_null_handles),
	};
	const struct CMUnitTest netns[] = {
		cmocka_unit_test_teardown(test_install_creates_only_our_table, teardown_ns),
		cmocka_unit_test_teardown(test_drops_kernel_rst_ipv4, teardown_ns),
		cmocka_unit_test_teardown(test_drops_kernel_rst_ipv6, teardown_ns),
		cmocka_unit_test_teardown(test_rule_is_specific, teardown_ns),
		cmocka_unit_test_teardown(test_wildcards, teardown_ns),
		cmocka_unit_test_teardown(test_exempt_mark_passes, teardown_ns),
		cmocka_unit_test_teardown(test_warm_up_drop, teardown_ns),
		cmocka_unit_test_teardown(test_replaces_stale_table, teardown_ns),
		cmocka_unit_test_teardown(test_owner_protects_table, teardown_ns),
		cmocka_unit_test_teardown(test_cleanup_stale, teardown_ns),
		cmocka_unit_test_teardown(test_cleanup_spares_owned_table, teardown_ns),
		cmocka_unit_test_teardown(test_table_dies_with_process, teardown_ns),
		cmocka_unit_test_teardown(test_permission_denied, teardown_ns),
	};
	int failed;

	enter_private_netns();
	if (!g_netns_ok)
		print_message("firewall tests that need nftables are skipped: %s\n", g_netns_why);
	failed = cmocka_run_group_tests_name("firewall", plain, NULL, NULL);
	failed += cmocka_run_group_tests_name("firewall_netns", netns, NULL, NULL);
	return failed != 0;
}
