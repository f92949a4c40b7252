/*
 * gencap.c — writes a large synthetic capture for the replay benchmark.
 *
 * `make bench` measures how fast `tcplab replay` (and tcptrace, tshark, a
 * bare libpcap loop) digests a million packets.  Shipping such a file would
 * cost ~100 MB, so this program makes it on the spot, deterministically
 * (same seed, same bytes).
 *
 * Shape of the capture: CONNS complete TCP connections of exactly 9
 * segments each, the textbook life of a connection (RFC 9293 §3.5 and §3.6):
 *
 *   1 C→S SYN          seq=c           options MSS, SACK-perm, TS, wscale
 *   2 S→C SYN,ACK      seq=s ack=c+1   options MSS, SACK-perm, TS, wscale
 *   3 C→S ACK          seq=c+1 ack=s+1
 *   4 C→S PSH,ACK      seq=c+1 ack=s+1 D bytes of data (1..64)
 *   5 S→C ACK          seq=s+1 ack=c+1+D
 *   6 C→S FIN,ACK      seq=c+1+D ack=s+1             (client closes first)
 *   7 S→C ACK          seq=s+1 ack=c+2+D
 *   8 S→C FIN,ACK      seq=s+1 ack=c+2+D
 *   9 C→S ACK          seq=c+2+D ack=s+2
 *
 * ACTIVE connections are open at any moment: each step picks a random open
 * connection and emits its next segment, so every connection's segments are
 * in order but connections are interleaved at random, as on a busy link; a
 * finished connection's slot is refilled with a new one until CONNS have
 * been started.  Client i has address 198.18.(i/256%256).(i%256) — 65,536
 * clients — and a source port unique to i among clients of that address;
 * servers are 198.19.x.y (4,096 of them) on a handful of well-known ports.  Timestamps start
 * at 2023-11-14 and grow by 0.5..1.5 µs per packet.  IPv4 and TCP checksums
 * are correct, so any decoder that verifies them is happy.
 *
 * Format: classic pcap, nanosecond timestamps (magic 0xa1b23c4d), link type
 * Ethernet (1), written with plain buffered fwrite (no libpcap needed, and
 * faster than pcap_dump).  Byte order is the host's, as libpcap does.
 *
 * Usage: gencap [--conns N] [--active N] [--seed N] FILE
 * Prints one line to stderr: packets and connections written.
 * Exit status 0 on success, 1 on an I/O error, 2 on a bad command line.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEGS_PER_CONN 9
#define MAX_ACTIVE 100000
#define SNAPLEN 262144u
#define LINKTYPE_ETHERNET 1u
#define PCAP_MAGIC_NSEC 0xa1b23c4du

/* The largest frame: Ethernet 14 + IPv4 20 + TCP 20 + options 20 + data 64. */
#define FRAME_MAX 160

/* One open connection: who it is and how far its life has got. */
struct conn {
	uint32_t caddr, saddr;     /* host byte order */
	uint16_t cport, sport;
	uint32_t cisn, sisn;
	uint32_t cts, sts;         /* TS clock bases (RFC 7323 §5) */
	uint16_t cipid, sipid;
	uint8_t datalen;
	uint8_t next;              /* index of the next segment, 0..8 */
};

static uint64_t rng_state;

/* xorshift64*: small, fast, deterministic for a given seed. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

/* Uniform-ish random number in [0, n); n > 0.  The modulo bias is
 * irrelevant for a synthetic capture. */
static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)((rnd() >> 32) % n);
}

/* Stores v big-endian at p (network byte order). */
static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Stores v big-endian at p. */
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Adds len bytes at p to a one's-complement running sum (RFC 1071). */
static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

/* Folds a running sum into the final 16-bit checksum. */
static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Fills conn number i (0-based) with fresh addresses, ports and ISNs. */
static void conn_init(struct conn *c, uint32_t i)
{
	static const uint16_t ports[] = { 80, 443, 8080, 22, 25, 5432, 6379, 3306 };
	uint32_t client = i & 0xffffu;
	uint32_t server = rnd_below(4096);

	c->caddr = (198u << 24) | (18u << 16) | client;
	c->saddr = (198u << 24) | (19u << 16) | ((server >> 8) << 8) | ((server & 0xffu) | 1u);
	/* Clients of one address differ in i >> 16: give each such group its
	 * own range of 1000 ports, so the 4-tuple is unique in the file (for up
	 * to 32 * 65,536 = 2,097,152 connections; beyond, ranges are reused). */
	c->cport = (uint16_t)(32768u + ((i >> 16) % 32u) * 1000u + rnd_below(1000));
	c->sport = ports[rnd_below(sizeof(ports) / sizeof(ports[0]))];
	c->cisn = (uint32_t)rnd();
	c->sisn = (uint32_t)rnd();
	c->cts = (uint32_t)rnd();
	c->sts = (uint32_t)rnd();
	c->cipid = (uint16_t)rnd();
	c->sipid = (uint16_t)rnd();
	c->datalen = (uint8_t)(1 + rnd_below(64));
	c->next = 0;
}

/*
 * Builds segment c->next of connection c into frame (at least FRAME_MAX
 * bytes) at capture time now_ns; returns the frame length.  Sequence and
 * acknowledgement numbers follow the table at the top of this file.
 */
static size_t build_segment(const struct conn *c, uint8_t *frame, uint64_t now_ns)
{
	static const uint8_t cmac[6] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	static const uint8_t smac[6] = { 0x02, 0x00, 0x5e, 0x00, 0x00, 0x02 };
	/* Which side sends each of the 9 segments, and with which flags. */
	static const bool from_client[SEGS_PER_CONN] = { 1, 0, 1, 1, 0, 1, 0, 0, 1 };
	enum { FIN = 0x01, SYN = 0x02, PSH = 0x08, ACK = 0x10 };
	static const uint8_t flags[SEGS_PER_CONN] = {
		SYN, SYN | ACK, ACK, PSH | ACK, ACK, FIN | ACK, ACK, FIN | ACK, ACK
	};
	const unsigned k = c->next;
	const bool cs = from_client[k];
	const uint32_t d = c->datalen;
	uint32_t seq, ack;
	uint32_t ms = (uint32_t)(now_ns / 1000000u);
	uint8_t *ip = frame + 14, *tcp = ip + 20, *opt = tcp + 20;
	size_t optlen, paylen = 0, tcplen;
	uint32_t sum;

	switch (k) {
	case 0: seq = c->cisn; ack = 0; break;
	case 1: seq = c->sisn; ack = c->cisn + 1; break;
	case 2: case 3: seq = c->cisn + 1; ack = c->sisn + 1; break;
	case 4: seq = c->sisn + 1; ack = c->cisn + 1 + d; break;
	case 5: seq = c->cisn + 1 + d; ack = c->sisn + 1; break;
	case 6: case 7: seq = c->sisn + 1; ack = c->cisn + 2 + d; break;
	default: seq = c->cisn + 2 + d; ack = c->sisn + 2; break;
	}

	memcpy(frame, cs ? smac : cmac, 6);
	memcpy(frame + 6, cs ? cmac : smac, 6);
	put16(frame + 12, 0x0800);

	if (k <= 1) {
		/* MSS, SACK-permitted, TS, NOP, window scale: Linux's SYN layout. */
		opt[0] = 2; opt[1] = 4; put16(opt + 2, 1460);
		opt[4] = 4; opt[5] = 2;
		opt[6] = 8; opt[7] = 10;
		put32(opt + 8, (cs ? c->cts : c->sts) + ms);
		put32(opt + 12, k == 0 ? 0 : c->cts + ms);
		opt[16] = 1; opt[17] = 3; opt[18] = 3; opt[19] = 7;
		optlen = 20;
	} else {
		opt[0] = 1; opt[1] = 1; opt[2] = 8; opt[3] = 10;
		put32(opt + 4, (cs ? c->cts : c->sts) + ms);
		put32(opt + 8, (cs ? c->sts : c->cts) + ms);
		optlen = 12;
	}
	if (k == 3) {
		paylen = d;
		for (size_t j = 0; j < paylen; j++)
			opt[optlen + j] = (uint8_t)('a' + (j % 26));
	}
	tcplen = 20 + optlen + paylen;

	/* IPv4 header (RFC 791): no options, DF, TTL 64. */
	ip[0] = 0x45; ip[1] = 0;
	put16(ip + 2, (uint16_t)(20 + tcplen));
	put16(ip + 4, cs ? c->cipid + k : c->sipid + k);
	put16(ip + 6, 0x4000);
	ip[8] = 64; ip[9] = 6;
	put16(ip + 10, 0);
	put32(ip + 12, cs ? c->caddr : c->saddr);
	put32(ip + 16, cs ? c->saddr : c->caddr);
	put16(ip + 10, csum_fold(csum_add(0, ip, 20)));

	/* TCP header (RFC 9293 §3.1). */
	put16(tcp, cs ? c->cport : c->sport);
	put16(tcp + 2, cs ? c->sport : c->cport);
	put32(tcp + 4, seq);
	put32(tcp + 8, ack);
	tcp[12] = (uint8_t)(((20 + optlen) / 4) << 4);
	tcp[13] = flags[k];
	put16(tcp + 14, k == 0 ? 64240 : k == 1 ? 65160 : 502);
	put16(tcp + 16, 0);
	put16(tcp + 18, 0);
	/* Checksum over the pseudo-header (addresses, protocol, length). */
	sum = csum_add(0, ip + 12, 8);
	sum += 6u + (uint32_t)tcplen;
	sum = csum_add(sum, tcp, tcplen);
	put16(tcp + 16, csum_fold(sum));

	return 14 + 20 + tcplen;
}

/* Writes v in host byte order (pcap files are in the writer's order). */
static void put_host32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* Parses a decimal unsigned long in [min, max] into *out; false otherwise. */
static bool parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Prints the usage text to fp. */
static void usage(FILE *fp)
{
	fputs("usage: gencap [--conns N] [--active N] [--seed N] FILE\n"
	      "  defaults: --conns 111111 (x9 segments = 999,999 packets), --active 2000, --seed 1\n",
	      fp);
}

int main(int argc, char **argv)
{
	unsigned long nconns = 111111, nactive = 2000, seed = 1;
	const char *path = NULL;
	struct conn *slots;
	size_t active = 0;
	uint32_t started = 0;
	uint64_t packets = 0, now_ns = 1700000000ull * 1000000000ull;
	uint8_t rec[16 + FRAME_MAX], hdr[24];
	FILE *fp;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		unsigned long *dst = NULL, lo = 1, hi = 0;

		if (strcmp(a, "--conns") == 0) {
			dst = &nconns; hi = 400000000ul;
		} else if (strcmp(a, "--active") == 0) {
			dst = &nactive; hi = MAX_ACTIVE;
		} else if (strcmp(a, "--seed") == 0) {
			dst = &seed; lo = 0; hi = ~0ul;
		} else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (a[0] != '-' && path == NULL) {
			path = a;
			continue;
		} else {
			usage(stderr);
			return 2;
		}
		if (i + 1 >= argc || !parse_ulong(argv[++i], lo, hi, dst)) {
			fprintf(stderr, "gencap: %s needs a number in [%lu, %lu]\n", a, lo, hi);
			return 2;
		}
	}
	if (path == NULL) {
		usage(stderr);
		return 2;
	}
	if (nactive > nconns)
		nactive = nconns;
	/* Seed 0 would make xorshift stick at 0: mix it with a constant. */
	rng_state = (uint64_t)seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;

	slots = calloc(nactive, sizeof(*slots));
	if (slots == NULL) {
		fprintf(stderr, "gencap: out of memory\n");
		return 1;
	}
	fp = fopen(path, "wb");
	if (fp == NULL) {
		fprintf(stderr, "gencap: %s: %s\n", path, strerror(errno));
		free(slots);
		return 1;
	}
	setvbuf(fp, NULL, _IOFBF, 1 << 20);

	put_host32(hdr, PCAP_MAGIC_NSEC);
	{
		uint16_t major = 2, minor = 4;
		memcpy(hdr + 4, &major, 2);
		memcpy(hdr + 6, &minor, 2);
	}
	put_host32(hdr + 8, 0);        /* thiszone */
	put_host32(hdr + 12, 0);       /* sigfigs */
	put_host32(hdr + 16, SNAPLEN);
	put_host32(hdr + 20, LINKTYPE_ETHERNET);
	fwrite(hdr, sizeof(hdr), 1, fp);

	while (active < nactive)
		conn_init(&slots[active++], started++);

	while (active > 0) {
		size_t pick = rnd_below((uint32_t)active);
		struct conn *c = &slots[pick];
		size_t len = build_segment(c, rec + 16, now_ns);

		put_host32(rec, (uint32_t)(now_ns / 1000000000u));
		put_host32(rec + 4, (uint32_t)(now_ns % 1000000000u));
		put_host32(rec + 8, (uint32_t)len);
		put_host32(rec + 12, (uint32_t)len);
		fwrite(rec, 16 + len, 1, fp);
		packets++;
		now_ns += 500 + rnd_below(1001);

		if (++c->next == SEGS_PER_CONN) {
			if (started < nconns)
				conn_init(c, started++);
			else
				*c = slots[--active];
		}
	}
	free(slots);
	if (ferror(fp) || fclose(fp) != 0) {
		fprintf(stderr, "gencap: writing %s failed\n", path);
		return 1;
	}
	fprintf(stderr, "gencap: %llu packets, %lu connections written to %s\n",
		(unsigned long long)packets, nconns, path);
	return 0;
}
