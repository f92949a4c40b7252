/*
 * test_craft.c — unit tests for craft.c (libnet injection).
 *
 * Pure tests: craft_encode_options for every subset of the SYN options,
 * byte for byte against the layout Linux's tcp_options_write() produces,
 * SACK blocks, alignment and the 40-byte bound.
 *
 * Live tests (root only): main() moves the process into a private network
 * namespace (unshare(CLONE_NEWNET)) with only lo up, so nothing can leave
 * the machine and nothing needs cleaning up: the namespace dies with the
 * process.  There a crafted SYN to a kernel listener must bring back a
 * SYN-ACK (seen through capture.c, which tests its live mode too), the
 * kernel's own SYNs must carry exactly the option bytes craft would
 * encode for the same values, packets must carry fresh IP IDs, valid
 * checksums and the socket mark, and missing capabilities must be
 * reported as such.  Without root the live tests are skipped.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tcplab/capture.h"
#include "tcplab/craft.h"
#include "testlib.h"

static bool g_root;      /* euid 0 */
static bool g_netns;     /* running in a private namespace with lo up */
static bool g_have_v6;   /* ::1 usable in that namespace */

/* ---------------------------------------------------------------- */
/* helpers */

/* Parses an IPv4/IPv6 literal (family 0 when it is neither). */
static struct ip_addr addr_of(const char *text)
{
	return test_addr(text);
}

/* Big-endian reads. */
static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* A minimal option parser for the tests (independent of decode.c). */
static void parse_opts(const uint8_t *p, size_t len, struct tcp_options *o)
{
	size_t i = 0;

	memset(o, 0, sizeof(*o));
	while (i < len) {
		uint8_t kind = p[i];

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len || p[i + 1] < 2 || i + p[i + 1] > len)
			break;
		switch (kind) {
		case 2: o->has_mss = true; o->mss = get16(p + i + 2); break;
		case 3: o->has_wscale = true; o->wscale = p[i + 2]; break;
		case 4: o->has_sack_perm = true; break;
		case 8: o->has_timestamps = true; o->ts_val = get32(p + i + 2);
			o->ts_ecr = get32(p + i + 6); break;
		default: break;
		}
		i += p[i + 1];
	}
}

/* One TCP/IP packet as captured on lo (Ethernet framing). */
struct seen {
	int ipver;
	uint16_t ip_id;
	uint8_t ttl;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	uint8_t opt[40];
	size_t optlen;
	uint8_t payload[256];
	size_t paylen;
	bool csum_ok;
};

/* Internet checksum over the pseudo-header and the TCP segment (RFC 9293
 * §3.1); 0 when the segment's checksum is right. */
static uint16_t tcp_csum(int ipver, const uint8_t *src, const uint8_t *dst, const uint8_t *tcp,
			 size_t len)
{
	uint32_t sum = 0;
	size_t alen = ipver == 4 ? 4 : 16;

	for (size_t i = 0; i < alen; i += 2)
		sum += get16(src + i) + get16(dst + i);
	sum += 6u + (uint32_t)len;
	if (ipver == 6)
		sum += (uint32_t)(len >> 16);
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += get16(tcp + i);
	if (len & 1)
		sum += (uint32_t)tcp[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Parses an Ethernet/IPv4|IPv6/TCP frame from lo into *s (bounds-checked);
 * false for anything else. */
static bool parse_frame(const struct capture_packet *pkt, struct seen *s)
{
	const uint8_t *p = pkt->data;
	size_t len = pkt->caplen, iphl, tcplen, off;
	const uint8_t *tcp;

	memset(s, 0, sizeof(*s));
	if (pkt->link != 1 || len < 14)
		return false;
	uint16_t et = get16(p + 12);
	p += 14;
	len -= 14;
	if (et == 0x0800) {
		if (len < 20 || (p[0] >> 4) != 4 || p[9] != 6)
			return false;
		iphl = (size_t)(p[0] & 15) * 4;
		size_t tot = get16(p + 2);
		if (iphl < 20 || tot > len || tot < iphl)
			return false;
		s->ipver = 4;
		s->ip_id = get16(p + 4);
		s->ttl = p[8];
		memcpy(s->src, p + 12, 4);
		memcpy(s->dst, p + 16, 4);
		tcp = p + iphl;
		tcplen = tot - iphl;
	} else if (et == 0x86dd) {
		if (len < 40 || (p[0] >> 4) != 6 || p[6] != 6)
			return false;
		size_t plen = get16(p + 4);
		if (40 + plen > len)
			return false;
		s->ipver = 6;
		s->ttl = p[7];
		memcpy(s->src, p + 8, 16);
		memcpy(s->dst, p + 24, 16);
		tcp = p + 40;
		tcplen = plen;
	} else {
		return false;
	}
	if (tcplen < 20)
		return false;
	off = (size_t)(tcp[12] >> 4) * 4;
	if (off < 20 || off > tcplen)
		return false;
	s->sport = get16(tcp);
	s->dport = get16(tcp + 2);
	s->seq = get32(tcp + 4);
	s->ack = get32(tcp + 8);
	s->flags = tcp[13];
	s->window = get16(tcp + 14);
	s->optlen = off - 20;
	memcpy(s->opt, tcp + 20, s->optlen);
	s->paylen = tcplen - off;
	if (s->paylen > sizeof(s->payload))
		return false;
	memcpy(s->payload, tcp + off, s->paylen);
	s->csum_ok = tcp_csum(s->ipver, s->src, s->dst, tcp, tcplen) == 0;
	return true;
}

#define MAX_SEEN 64
struct seen_list {
	struct seen v[MAX_SEEN];
	int n;
};

/* capture_handler: appends each parsable TCP packet to the seen_list. */
static void collect(void *user, const struct capture_packet *pkt)
{
	struct seen_list *l = user;
	struct seen s;

	if (l->n < MAX_SEEN && parse_frame(pkt, &s))
		l->v[l->n++] = s;
}

/* Monotonic clock in ms. */
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Polls the capture until pred(list) holds or timeout_ms passes. */
static bool wait_for(struct capture *cap, struct seen_list *l,
		     bool (*pred)(const struct seen_list *, const void *), const void *arg,
		     int timeout_ms)
{
	uint64_t end = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		struct pollfd pfd = { .fd = capture_fd(cap), .events = POLLIN };
		int n = capture_dispatch(cap, -1, collect, l);

		assert_true(n >= 0);
		if (pred(l, arg))
			return true;
		uint64_t t = now_ms();
		if (t >= end)
			return false;
		(void)poll(&pfd, 1, (int)(end - t));
	}
}

struct match {
	uint16_t sport;
	uint8_t flags;
	int count;
};

/* Predicate: at least m->count packets from m->sport with exactly m->flags. */
static bool has_n(const struct seen_list *l, const void *arg)
{
	const struct match *m = arg;
	int n = 0;

	for (int i = 0; i < l->n; i++)
		if (l->v[i].sport == m->sport && l->v[i].flags == m->flags)
			n++;
	return n >= m->count;
}

/* The nth packet from sport with exactly flags, or NULL. */
static const struct seen *find(const struct seen_list *l, uint16_t sport, uint8_t flags, int nth)
{
	for (int i = 0; i < l->n; i++)
		if (l->v[i].sport == sport && l->v[i].flags == flags && nth-- == 0)
			return &l->v[i];
	return NULL;
}

/* A kernel TCP listener on addr (port 0: any); returns fd, sets *port. */
static int kernel_listener(const char *addr, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = strchr(addr, ':') ? AF_INET6 : AF_INET;
	int fd = socket(fam, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memset(&ss, 0, sizeof(ss));
	if (fam == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &s4->sin_addr);
		len = sizeof(*s4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		inet_pton(AF_INET6, addr, &s6->sin6_addr);
		len = sizeof(*s6);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 16) != 0) {
		close(fd);
		return -1;
	}
	len = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &len);
	*port = ntohs(fam == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
				     : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;
}

/* A live immediate-mode capture on lo for TCP port `port`. */
static struct capture *open_lo(uint16_t port)
{
	char filter[64], err[CAPTURE_ERRBUF_SIZE];
	/* Immediate mode uses fixed-size ring frames as large as lo's 64 KiB
	 * MTU: libpcap's default 2 MiB ring holds only ~31 of them, too few
	 * for the bursts these tests send before reading. */
	struct capture_live_options o = { .device = "lo", .filter = filter, .immediate = true,
					  .buffer_bytes = 8 << 20 };
	bool denied = true;
	struct capture *c;

	snprintf(filter, sizeof(filter), "tcp port %u", (unsigned)port);
	c = capture_open_live(&o, err, &denied);
	if (c == NULL)
		fprintf(stderr, "capture_open_live: %s\n", err);
	assert_non_null(c);
	assert_false(denied);
	assert_true(capture_fd(c) >= 0);
	assert_int_equal(capture_link(c), 1);
	return c;
}

/* An injector on lo; fails the test if it cannot be opened. */
static struct craft *open_craft(int family)
{
	char err[CRAFT_ERRBUF_SIZE];
	bool denied = true;
	struct craft *c = craft_open(family, "lo", err, &denied);

	if (c == NULL)
		fprintf(stderr, "craft_open: %s\n", err);
	assert_non_null(c);
	assert_false(denied);
	assert_string_equal(craft_error(c), "");
	return c;
}

/* ---------------------------------------------------------------- */
/* craft_encode_options */

enum { HAS_MSS = 1, HAS_SP = 2, HAS_TS = 4, HAS_WS = 8 };

/* Options with the HAS_* subset in bits and fixed, recognisable values. */
static struct tcp_options opts_for(unsigned bits)
{
	struct tcp_options o;

	memset(&o, 0, sizeof(o));
	o.has_mss = bits & HAS_MSS;
	o.mss = 1460;
	o.has_sack_perm = bits & HAS_SP;
	o.has_timestamps = bits & HAS_TS;
	o.ts_val = 0x01020304;
	o.ts_ecr = 0xa0b0c0d0;
	o.has_wscale = bits & HAS_WS;
	o.wscale = 7;
	return o;
}

#define M 2, 4, 0x05, 0xb4
#define TSV 0x01, 0x02, 0x03, 0x04, 0xa0, 0xb0, 0xc0, 0xd0
#define SP_TS 4, 2, 8, 10, TSV
#define NN_TS 1, 1, 8, 10, TSV
#define NN_SP 1, 1, 4, 2
#define N_WS 1, 3, 3, 7

struct expect {
	unsigned bits;
	size_t len;
	uint8_t bytes[40];
};

/* What Linux's tcp_options_write() emits for each subset. */
static const struct expect EXPECT[16] = {
	{ 0, 0, { 0 } },
	{ HAS_MSS, 4, { M } },
	{ HAS_SP, 4, { NN_SP } },
	{ HAS_MSS | HAS_SP, 8, { M, NN_SP } },
	{ HAS_TS, 12, { NN_TS } },
	{ HAS_MSS | HAS_TS, 16, { M, NN_TS } },
	{ HAS_SP | HAS_TS, 12, { SP_TS } },
	{ HAS_MSS | HAS_SP | HAS_TS, 16, { M, SP_TS } },
	{ HAS_WS, 4, { N_WS } },
	{ HAS_MSS | HAS_WS, 8, { M, N_WS } },
	{ HAS_SP | HAS_WS, 8, { NN_SP, N_WS } },
	{ HAS_MSS | HAS_SP | HAS_WS, 12, { M, NN_SP, N_WS } },
	{ HAS_TS | HAS_WS, 16, { NN_TS, N_WS } },
	{ HAS_MSS | HAS_TS | HAS_WS, 20, { M, NN_TS, N_WS } },
	{ HAS_SP | HAS_TS | HAS_WS, 16, { SP_TS, N_WS } },
	{ HAS_MSS | HAS_SP | HAS_TS | HAS_WS, 20, { M, SP_TS, N_WS } },
};

static void test_encode_every_subset(void **state)
{
	(void)state;
	for (unsigned bits = 0; bits < 16; bits++) {
		struct tcp_options o = opts_for(bits);
		uint8_t buf[40];
		size_t n;

		memset(buf, 0xee, sizeof(buf));
		n = craft_encode_options(&o, buf);
		assert_int_equal(EXPECT[bits].bits, bits);
		assert_int_equal(n, EXPECT[bits].len);
		if (n)
			assert_memory_equal(buf, EXPECT[bits].bytes, n);
		/* nothing written past the returned length */
		for (size_t i = n; i < sizeof(buf); i++)
			assert_int_equal(buf[i], 0xee);
	}
}

static void test_encode_linux_syn_is_20_bytes(void **state)
{
	struct tcp_options o = opts_for(HAS_MSS | HAS_SP | HAS_TS | HAS_WS);
	/* A SYN from Linux on lo: mss 65495, sackOK, TS val 0x11223344 ecr 0,
	 * nop, wscale 7. */
	static const uint8_t wire[20] = { 0x02, 0x04, 0xff, 0xd7, 0x04, 0x02, 0x08, 0x0a,
					  0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x00,
					  0x01, 0x03, 0x03, 0x07 };
	uint8_t buf[40];

	(void)state;
	o.mss = 65495;
	o.ts_val = 0x11223344;
	o.ts_ecr = 0;
	assert_int_equal(craft_encode_options(&o, buf), 20);
	assert_memory_equal(buf, wire, 20);
}

static void test_encode_sack_blocks(void **state)
{
	struct tcp_options o;
	uint8_t buf[40];
	size_t n;

	(void)state;
	memset(&o, 0, sizeof(o));
	for (int i = 0; i < TCP_MAX_SACK_BLOCKS; i++) {
		o.sack[i][0] = 1000u * (uint32_t)(i + 1);
		o.sack[i][1] = 1000u * (uint32_t)(i + 1) + 500u;
	}
	/* one block alone: NOP NOP SACK(10) = 12 bytes (RFC 2018 §3) */
	o.sack_count = 1;
	n = craft_encode_options(&o, buf);
	assert_int_equal(n, 12);
	static const uint8_t one[12] = { 1, 1, 5, 10, 0, 0, 0x03, 0xe8, 0, 0, 0x05, 0xdc };
	assert_memory_equal(buf, one, 12);

	/* four blocks fit without timestamps: 4 + 32 = 36 */
	o.sack_count = 4;
	n = craft_encode_options(&o, buf);
	assert_int_equal(n, 36);
	assert_int_equal(buf[3], 34);
	assert_int_equal(get32(buf + 28), 4000);
	assert_int_equal(get32(buf + 32), 4500);

	/* a data ACK with timestamps: NOP NOP TS, then at most 3 blocks */
	o.has_timestamps = true;
	o.ts_val = 7;
	o.ts_ecr = 9;
	n = craft_encode_options(&o, buf);
	assert_int_equal(n, 40);
	static const uint8_t head[16] = { 1, 1, 8, 10, 0, 0, 0, 7, 0, 0, 0, 9, 1, 1, 5, 26 };
	assert_memory_equal(buf, head, 16);
	assert_int_equal(get32(buf + 16), 1000);
	assert_int_equal(get32(buf + 36), 3500);

	/* with every SYN option (20 bytes) only two blocks fit */
	o.has_mss = o.has_sack_perm = o.has_wscale = true;
	n = craft_encode_options(&o, buf);
	assert_int_equal(n, 40);
	assert_int_equal(buf[20], 1);
	assert_int_equal(buf[22], 5);
	assert_int_equal(buf[23], 18);
}

static void test_encode_bounds_and_alignment(void **state)
{
	(void)state;
	/* every subset with every sack_count a (possibly hostile) caller
	 * could pass: always a multiple of 4, never past 40 */
	for (unsigned bits = 0; bits < 16; bits++) {
		for (unsigned sc = 0; sc < 256; sc++) {
			struct tcp_options o = opts_for(bits);
			uint8_t buf[40];
			size_t n;

			o.sack_count = (uint8_t)sc;
			n = craft_encode_options(&o, buf);
			assert_true(n <= 40);
			assert_int_equal(n % 4, 0);
			/* the option list must parse back cleanly */
			size_t i = 0;
			while (i < n) {
				if (buf[i] == 1) { i++; continue; }
				if (buf[i] == 0) break;
				assert_true(i + 1 < n);
				assert_true(buf[i + 1] >= 2);
				assert_true(i + buf[i + 1] <= n);
				i += buf[i + 1];
			}
			assert_int_equal(i, n);
		}
	}
}

static void test_encode_null(void **state)
{
	uint8_t buf[40];
	struct tcp_options o;

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_int_equal(craft_encode_options(NULL, buf), 0);
	assert_int_equal(craft_encode_options(&o, NULL), 0);
	assert_int_equal(craft_encode_options(&o, buf), 0);
}

/* ---------------------------------------------------------------- */
/* argument errors */

static void test_open_bad_family(void **state)
{
	char err[CRAFT_ERRBUF_SIZE];
	bool denied = true;

	(void)state;
	assert_null(craft_open(5, NULL, err, &denied));
	assert_false(denied);
	assert_non_null(strstr(err, "4 or 6"));
	assert_null(craft_open(0, NULL, err, NULL));
	craft_close(NULL);
	if (g_root) {
		denied = true;
		assert_null(craft_open(4, "nosuchif0", err, &denied));
		assert_false(denied);
		assert_string_equal(err, "cannot send on nosuchif0: there is no such interface");
	}
	assert_non_null(craft_error(NULL));
}

static void test_send_argument_errors(void **state)
{
	struct craft *c;
	struct craft_segment s;
	static const uint8_t big[65536];

	(void)state;
	if (!g_root)
		skip();
	c = open_craft(4);
	assert_int_equal(craft_send(c, NULL), -1);
	assert_true(strlen(craft_error(c)) > 0);

	memset(&s, 0, sizeof(s));
	s.src = addr_of("::1");
	s.dst = addr_of("::1");
	assert_int_equal(craft_send(c, &s), -1);
	assert_non_null(strstr(craft_error(c), "IPv4"));

	s.src = addr_of("127.0.0.1");
	s.dst = addr_of("127.0.0.1");
	s.payload_len = 10;
	assert_int_equal(craft_send(c, &s), -1);
	assert_non_null(strstr(craft_error(c), "without payload"));

	s.payload = big;
	s.payload_len = 65536 - 40;   /* 20 IP + 20 TCP + this = 65536: one too many */
	assert_int_equal(craft_send(c, &s), -1);
	assert_non_null(strstr(craft_error(c), "does not fit"));
	craft_close(c);
}

/* ---------------------------------------------------------------- */
/* capabilities: a child drops them and must get a clear refusal */

/* Removes the capabilities in mask from this process (all three sets). */
static int drop_caps(uint32_t mask)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data) != 0)
		return -1;
	data[0].effective &= ~mask;
	data[0].permitted &= ~mask;
	data[0].inheritable &= ~mask;
	return (int)syscall(SYS_capset, &hdr, data);
}

/*
 * Runs craft_open in a child without the capabilities in mask.  The child
 * exits 0 when craft_open refused with permission_denied and a message
 * naming must_mention, 1 when it succeeded, >= 10 for anything else.
 */
static int child_open_without(uint32_t mask, const char *must_mention)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		char err[CRAFT_ERRBUF_SIZE];
		bool denied = false;
		struct craft *c;

		if (drop_caps(mask) != 0)
			_exit(10);
		c = craft_open(4, NULL, err, &denied);
		if (c != NULL) {
			craft_close(c);
			_exit(denied ? 14 : 1);
		}
		if (!denied)
			_exit(12);
		if (strstr(err, must_mention) == NULL)
			_exit(13);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void test_open_without_cap_net_raw(void **state)
{
	(void)state;
	if (!g_root)
		skip();
	assert_int_equal(child_open_without(1u << CAP_NET_RAW, "CAP_NET_RAW"), 0);
}

static void test_open_without_cap_net_admin(void **state)
{
	(void)state;
	if (!g_root)
		skip();
	/* SO_MARK needs CAP_NET_ADMIN before Linux 5.17 and CAP_NET_RAW or
	 * CAP_NET_ADMIN since: either a clean refusal naming CAP_NET_ADMIN,
	 * or success. */
	int rc = child_open_without(1u << CAP_NET_ADMIN, "CAP_NET_ADMIN");
	assert_true(rc == 0 || rc == 1);
}

/* ---------------------------------------------------------------- */
/* live, in the private namespace */

/* A crafted SYN to a kernel listener on addr must come back as a SYN-ACK
 * acknowledging ISN+1, and must itself look exactly as asked. */
static void syn_gets_synack(int family, const char *addr)
{
	struct tcp_options o = opts_for(HAS_MSS | HAS_SP | HAS_TS | HAS_WS);
	struct seen_list *l = calloc(1, sizeof(*l));
	struct craft_segment s;
	const struct seen *syn, *synack;
	uint8_t enc[40];
	size_t enclen;
	uint16_t port;
	int lfd = kernel_listener(addr, &port);
	const uint16_t sport = 45678;

	assert_non_null(l);
	assert_true(lfd >= 0);
	struct capture *cap = open_lo(port);
	struct craft *c = open_craft(family);

	memset(&s, 0, sizeof(s));
	s.src = addr_of(addr);
	s.dst = addr_of(addr);
	s.sport = sport;
	s.dport = port;
	s.seq = 0xfffffff0u;   /* ISN near the wrap: ack must be seq+1 mod 2^32 */
	s.flags = TCP_FLAG_SYN;
	s.window = 64240;
	s.opt = &o;
	s.ttl = 33;
	assert_int_equal(craft_send(c, &s), 0);

	struct match m = { port, TCP_FLAG_SYN | TCP_FLAG_ACK, 1 };
	assert_true(wait_for(cap, l, has_n, &m, 2000));

	syn = find(l, sport, TCP_FLAG_SYN, 0);
	assert_non_null(syn);
	assert_int_equal(syn->ipver, family);
	assert_int_equal(syn->ttl, 33);
	assert_int_equal(syn->seq, 0xfffffff0u);
	assert_int_equal(syn->window, 64240);
	assert_true(syn->csum_ok);
	enclen = craft_encode_options(&o, enc);
	assert_int_equal(syn->optlen, enclen);
	assert_memory_equal(syn->opt, enc, enclen);

	synack = find(l, port, TCP_FLAG_SYN | TCP_FLAG_ACK, 0);
	assert_non_null(synack);
	assert_int_equal(synack->dport, sport);
	assert_int_equal(synack->ack, 0xfffffff1u);

	capture_close(cap);
	craft_close(c);
	close(lfd);
	free(l);
}

static void test_live_syn_synack_v4(void **state)
{
	(void)state;
	if (!g_netns)
		skip();
	syn_gets_synack(4, "127.0.0.1");
}

static void test_live_syn_synack_v6(void **state)
{
	(void)state;
	if (!g_netns || !g_have_v6)
		skip();
	syn_gets_synack(6, "::1");
}

/*
 * Packets of changing shape (options, payload) in one context exercise both
 * the in-place update of libnet's blocks and their rebuild: every packet
 * must come out exactly as asked, with a valid checksum and its own IP ID.
 */
static void shapes(int family, const char *addr)
{
	struct seen_list *l = calloc(1, sizeof(*l));
	const uint16_t sport = 40001, dport = 40002;  /* nobody listens: RSTs come back */
	struct capture *cap = open_lo(dport);
	struct craft *c = open_craft(family);
	uint8_t payload[210];
	struct tcp_options syn = opts_for(HAS_MSS | HAS_SP | HAS_TS | HAS_WS);
	struct tcp_options ts = opts_for(HAS_TS), sack = opts_for(HAS_TS);
	struct {
		const struct tcp_options *opt;
		uint32_t paylen;
		uint8_t flags;
	} plan[] = {
		{ &syn, 0, TCP_FLAG_SYN },
		{ &ts, 0, TCP_FLAG_ACK },
		{ &ts, 0, TCP_FLAG_ACK },           /* same shape: updated in place */
		{ &ts, 100, TCP_FLAG_ACK | TCP_FLAG_PSH },
		{ &ts, 100, TCP_FLAG_ACK | TCP_FLAG_PSH },
		{ &ts, 7, TCP_FLAG_ACK | TCP_FLAG_PSH },   /* odd length: checksum padding */
		{ &sack, 0, TCP_FLAG_ACK },
		{ NULL, 0, TCP_FLAG_ACK },
		{ NULL, 200, TCP_FLAG_ACK | TCP_FLAG_PSH },
		{ NULL, 0, TCP_FLAG_FIN | TCP_FLAG_ACK },
		{ &syn, 0, TCP_FLAG_SYN },
	};
	const int n = (int)(sizeof(plan) / sizeof(plan[0]));

	assert_non_null(l);
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + 3);
	sack.sack_count = 2;
	sack.sack[0][0] = 100; sack.sack[0][1] = 200;
	sack.sack[1][0] = 300; sack.sack[1][1] = 400;

	for (int i = 0; i < n; i++) {
		struct craft_segment s;

		memset(&s, 0, sizeof(s));
		s.src = addr_of(addr);
		s.dst = addr_of(addr);
		s.sport = sport;
		s.dport = dport;
		s.seq = 1000u + (uint32_t)i;
		s.ack = 5000u + (uint32_t)i;
		s.flags = plan[i].flags;
		s.window = (uint16_t)(100 + i);
		s.opt = plan[i].opt;
		s.payload = payload + i % 3;   /* same size, new bytes: no stale copy */
		s.payload_len = plan[i].paylen;
		assert_int_equal(craft_send(c, &s), 0);
	}

	/* wait for our n segments (sport == 40001) */
	uint64_t end = now_ms() + 2000;
	int mine;
	do {
		struct pollfd pfd = { .fd = capture_fd(cap), .events = POLLIN };
		assert_true(capture_dispatch(cap, 0, collect, l) >= 0);
		mine = 0;
		for (int i = 0; i < l->n; i++)
			mine += l->v[i].sport == sport;
		if (mine >= n)
			break;
		(void)poll(&pfd, 1, 50);
	} while (now_ms() < end);
	/* the kernel counted every packet (each twice on lo: out and in) and,
	 * with the larger ring, dropped none */
	uint64_t recv = 0, drop = 1;
	assert_int_equal(capture_kernel_stats(cap, &recv, &drop), 0);
	assert_true(recv >= (uint64_t)n);
	assert_int_equal(drop, 0);
	assert_int_equal(mine, n);

	int k = 0;
	uint16_t ids[32];
	for (int i = 0; i < l->n; i++) {
		const struct seen *p = &l->v[i];
		uint8_t enc[40];
		size_t enclen;

		if (p->sport != sport)
			continue;
		assert_true(k < n);
		enclen = plan[k].opt ? craft_encode_options(plan[k].opt, enc) : 0;
		assert_int_equal(p->ipver, family);
		assert_int_equal(p->seq, 1000u + (uint32_t)k);
		assert_int_equal(p->ack, 5000u + (uint32_t)k);
		assert_int_equal(p->flags, plan[k].flags);
		assert_int_equal(p->window, 100 + k);
		assert_int_equal(p->ttl, 64);
		assert_int_equal(p->optlen, enclen);
		if (enclen)
			assert_memory_equal(p->opt, enc, enclen);
		assert_int_equal(p->paylen, plan[k].paylen);
		if (p->paylen)
			assert_memory_equal(p->payload, payload + k % 3, p->paylen);
		assert_true(p->csum_ok);
		ids[k] = p->ip_id;
		k++;
	}
	if (family == 4) {
		/* RFC 6864: a fresh identification for every datagram */
		for (int i = 0; i < n; i++)
			for (int j = i + 1; j < n; j++)
				assert_int_not_equal(ids[i], ids[j]);
	}
	capture_close(cap);
	craft_close(c);
	free(l);
}

static void test_live_shapes_v4(void **state)
{
	(void)state;
	if (!g_netns)
		skip();
	shapes(4, "127.0.0.1");
}

static void test_live_shapes_v6(void **state)
{
	(void)state;
	if (!g_netns || !g_have_v6)
		skip();
	shapes(6, "::1");
}

/* Writes an integer to /proc/sys/net/ipv4/NAME (per namespace). */
static int write_sysctl(const char *name, int v)
{
	char path[128], buf[16];
	int fd, len;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv4/%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	len = snprintf(buf, sizeof(buf), "%d\n", v);
	if (write(fd, buf, (size_t)len) != len) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/*
 * The kernel's own SYN, for each combination of the timestamp, SACK and
 * window-scaling sysctls (per namespace), must be byte for byte what
 * craft_encode_options produces for the same values.
 */
static void test_live_kernel_syn_options_match(void **state)
{
	(void)state;
	if (!g_netns)
		skip();
	for (int combo = 0; combo < 8; combo++) {
		struct seen_list *l = calloc(1, sizeof(*l));
		uint16_t port;
		int lfd = kernel_listener("127.0.0.1", &port);
		struct capture *cap;
		struct sockaddr_in sin;
		int cfd;

		assert_non_null(l);
		assert_true(lfd >= 0);
		assert_int_equal(write_sysctl("tcp_timestamps", combo & 1), 0);
		assert_int_equal(write_sysctl("tcp_sack", (combo >> 1) & 1), 0);
		assert_int_equal(write_sysctl("tcp_window_scaling", (combo >> 2) & 1), 0);
		cap = open_lo(port);

		cfd = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(cfd >= 0);
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		sin.sin_port = htons(port);
		sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		assert_int_equal(connect(cfd, (struct sockaddr *)&sin, sizeof(sin)), 0);

		struct sockaddr_in me;
		socklen_t len = sizeof(me);
		getsockname(cfd, (struct sockaddr *)&me, &len);
		struct match m = { ntohs(me.sin_port), TCP_FLAG_SYN, 1 };
		assert_true(wait_for(cap, l, has_n, &m, 2000));
		const struct seen *syn = find(l, m.sport, TCP_FLAG_SYN, 0);
		assert_non_null(syn);

		struct tcp_options o;
		uint8_t enc[40];
		parse_opts(syn->opt, syn->optlen, &o);
		assert_true(o.has_mss);
		assert_int_equal(o.has_timestamps, combo & 1);
		assert_int_equal(o.has_sack_perm, (combo >> 1) & 1);
		assert_int_equal(o.has_wscale, (combo >> 2) & 1);
		assert_int_equal(craft_encode_options(&o, enc), syn->optlen);
		assert_memory_equal(enc, syn->opt, syn->optlen);

		close(cfd);
		close(lfd);
		capture_close(cap);
		free(l);
	}
	write_sysctl("tcp_timestamps", 1);
	write_sysctl("tcp_sack", 1);
	write_sysctl("tcp_window_scaling", 1);
}

/* The socket mark must be on every packet: an nftables rule in the private
 * namespace counts packets with meta mark CRAFT_PACKET_MARK. */
static void test_live_socket_mark(void **state)
{
	char line[256];
	long counted = -1;
	FILE *fp;

	(void)state;
	if (!g_netns || access("/usr/sbin/nft", X_OK) != 0)
		skip();
	if (system("nft 'add table ip tlmark; add chain ip tlmark out "
		   "{ type filter hook output priority 0; }; "
		   "add rule ip tlmark out meta mark 0x746c tcp dport 40009 counter'") != 0)
		skip();
	struct craft *c = open_craft(4);
	struct craft_segment s;

	memset(&s, 0, sizeof(s));
	s.src = addr_of("127.0.0.1");
	s.dst = addr_of("127.0.0.1");
	s.sport = 40008;
	s.dport = 40009;
	s.flags = TCP_FLAG_ACK;
	for (int i = 0; i < 3; i++)
		assert_int_equal(craft_send(c, &s), 0);
	craft_close(c);

	fp = popen("nft list chain ip tlmark out", "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		char *p = strstr(line, "counter packets ");
		if (p)
			counted = strtol(p + 16, NULL, 10);
	}
	pclose(fp);
	assert_int_equal(system("nft delete table ip tlmark"), 0);
	assert_int_equal(counted, 3);
}

/* Reaction-time budget: report µs per craft_send. */
static void test_live_send_rate(void **state)
{
	struct craft_segment s;
	struct tcp_options o = opts_for(HAS_TS);
	struct timespec t0, t1;
	const char *env = getenv("TCPLAB_CRAFT_BENCH");
	long count = env ? strtol(env, NULL, 10) : 5000;

	(void)state;
	if (!g_netns)
		skip();
	if (count <= 0)
		count = 5000;
	struct craft *c = open_craft(4);
	memset(&s, 0, sizeof(s));
	s.src = addr_of("127.0.0.1");
	s.dst = addr_of("127.0.0.1");
	s.sport = 40010;
	s.dport = 40011;
	s.flags = TCP_FLAG_ACK;
	s.opt = &o;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (long i = 0; i < count; i++) {
		s.seq = (uint32_t)i;
		o.ts_val = (uint32_t)i;
		assert_int_equal(craft_send(c, &s), 0);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3);
	printf("craft_send: %ld packets, %.2f us/packet\n", count, us / (double)count);
	craft_close(c);
}

/* ---------------------------------------------------------------- */

/* Moves into a private network namespace and brings lo up. */
static bool enter_netns(void)
{
	return unshare(CLONE_NEWNET) == 0 && test_lo_up() == 0;
}

/* True when a socket can listen on ::1 (IPv6 enabled in the namespace). */
static bool v6_usable(void)
{
	uint16_t port;
	int fd = kernel_listener("::1", &port);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_every_subset),
		cmocka_unit_test(test_encode_linux_syn_is_20_bytes),
		cmocka_unit_test(test_encode_sack_blocks),
		cmocka_unit_test(test_encode_bounds_and_alignment),
		cmocka_unit_test(test_encode_null),
		cmocka_unit_test(test_open_bad_family),
		cmocka_unit_test(test_open_without_cap_net_raw),
		cmocka_unit_test(test_open_without_cap_net_admin),
		cmocka_unit_test(test_send_argument_errors),
		cmocka_unit_test(test_live_syn_synack_v4),
		cmocka_unit_test(test_live_syn_synack_v6),
		cmocka_unit_test(test_live_shapes_v4),
		cmocka_unit_test(test_live_shapes_v6),
		cmocka_unit_test(test_live_kernel_syn_options_match),
		cmocka_unit_test(test_live_socket_mark),
		cmocka_unit_test(test_live_send_rate),
	};

	g_root = geteuid() == 0;
	if (g_root) {
		g_netns = enter_netns();
		if (!g_netns)
			fprintf(stderr, "test_craft: no private network namespace: live tests skipped\n");
		else
			g_have_v6 = v6_usable();
	} else {
		fprintf(stderr, "test_craft: not root: live tests skipped\n");
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
