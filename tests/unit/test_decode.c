/*
 * test_decode.c — unit tests for decode.c (frame → struct segment) and the
 * helpers in segment.c (address format/parse, flag names).
 *
 * Frames are assembled by hand with build(): a link header, an IPv4 or IPv6
 * header (with options / extension headers) and a TCP header, with every
 * length field computed from what was actually written.  Tests then break one
 * field at a time to reach each error path.  Every decode runs on a heap copy
 * of exactly the captured length, so an out-of-bounds read is caught by ASan
 * or valgrind instead of silently reading the builder's spare bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcplab/decode.h"
#include "tcplab/segment.h"

/* ---- frame builder -------------------------------------------------------- */

#define SPORT 40000
#define DPORT 8080
#define SEQ   0x01020304u
#define ACK   0xa0b0c0d0u
#define WIN   0x1234
#define URG   0x0007
#define TTL   64
#define IPID  0xbeef
#define TS_NS 1700000000123456789ull

struct spec {
	int link;                    /* LINK_* (always set: LINK_NULL is 0) */
	int ipver;                   /* 4 or 6; 0 means 4 */
	const uint16_t *tpids;       /* Ethernet VLAN tag TPIDs, outermost first */
	int ntags;
	uint32_t af;                 /* DLT_NULL / DLT_LOOP family; 0: 2 or 30 */
	bool af_little;              /* DLT_NULL: write the family little-endian */
	uint16_t ethertype;          /* overrides the IP ethertype/protocol when set */
	const uint8_t *ipopt;        /* IPv4 options, a multiple of 4 bytes */
	uint32_t ipoptlen;
	const uint8_t *ext;          /* IPv6 extension header chain, written verbatim */
	uint32_t extlen;
	uint8_t first_nh;            /* IPv6 next header when ext is set */
	int proto;                   /* IPv4 protocol / IPv6 next header; 0 means TCP */
	uint16_t frag;               /* IPv4 flags+fragment offset field; 0 means DF */
	const uint8_t *tcpopt;       /* TCP options, a multiple of 4 bytes */
	uint32_t tcpoptlen;
	uint32_t paylen;
	uint8_t flags;
	uint32_t trailer;            /* bytes after the IP datagram (Ethernet padding, FCS) */
};

struct frame {
	int link;
	uint8_t b[2048];
	uint32_t len;
	uint32_t ip_off, l4_off, pay_off;
};

static void put8(struct frame *f, uint8_t v)
{
	assert_true(f->len < sizeof(f->b));
	f->b[f->len++] = v;
}

static void put16(struct frame *f, uint16_t v)
{
	put8(f, (uint8_t)(v >> 8));
	put8(f, (uint8_t)v);
}

static void put32(struct frame *f, uint32_t v)
{
	put16(f, (uint16_t)(v >> 16));
	put16(f, (uint16_t)v);
}

static void putn(struct frame *f, const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		put8(f, p[i]);
}

static void set16(struct frame *f, uint32_t off, uint16_t v)
{
	f->b[off] = (uint8_t)(v >> 8);
	f->b[off + 1] = (uint8_t)v;
}

static uint8_t payload_byte(uint32_t i)
{
	return (uint8_t)((i * 7u) ^ 0x5a);
}

static const uint8_t V6_SRC[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t V6_DST[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t V4_SRC[4] = { 198, 18, 0, 1 };
static const uint8_t V4_DST[4] = { 198, 18, 0, 2 };

/* Assembles link + IP + TCP + payload (+ trailer) as described by s. */
static void build(const struct spec *s, struct frame *f)
{
	int ipver = s->ipver ? s->ipver : 4;
	uint16_t et = s->ethertype ? s->ethertype : (ipver == 4 ? 0x0800 : 0x86dd);
	uint8_t proto = (uint8_t)(s->proto ? s->proto : 6);
	uint32_t l4len = 20 + s->tcpoptlen + s->paylen;

	assert_int_equal(s->ipoptlen % 4, 0);
	assert_int_equal(s->tcpoptlen % 4, 0);
	memset(f, 0, sizeof(*f));
	f->link = s->link;

	switch (s->link) {
	case LINK_ETHERNET:
		putn(f, (const uint8_t[]){ 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 }, 12);
		for (int i = 0; i < s->ntags; i++) {
			put16(f, s->tpids[i]);
			put16(f, (uint16_t)(100 + i));   /* PCP 0, DEI 0, VLAN id */
		}
		put16(f, et);
		break;
	case LINK_LINUX_SLL:
		put16(f, 0);          /* packet type: to us */
		put16(f, 1);          /* ARPHRD_ETHER */
		put16(f, 6);          /* address length */
		putn(f, (const uint8_t[]){ 2, 0, 0, 0, 0, 1, 0, 0 }, 8);
		put16(f, et);
		break;
	case LINK_LINUX_SLL2:
		put16(f, et);
		put16(f, 0);          /* reserved */
		put32(f, 1);          /* interface index */
		put16(f, 1);          /* ARPHRD_ETHER */
		put8(f, 0);           /* packet type */
		put8(f, 6);           /* address length */
		putn(f, (const uint8_t[]){ 2, 0, 0, 0, 0, 1, 0, 0 }, 8);
		break;
	case LINK_NULL:
	case LINK_LOOP: {
		uint32_t af = s->af ? s->af : (ipver == 4 ? 2u : 30u);

		if (s->af_little) {
			put8(f, (uint8_t)af);
			put8(f, (uint8_t)(af >> 8));
			put8(f, (uint8_t)(af >> 16));
			put8(f, (uint8_t)(af >> 24));
		} else {
			put32(f, af);
		}
		break;
	}
	default:              /* raw IP link types, or an unknown one: no header */
		break;
	}

	f->ip_off = f->len;
	if (ipver == 4) {
		uint32_t ihl = 20 + s->ipoptlen;

		put8(f, (uint8_t)(0x40 | (ihl / 4)));
		put8(f, 0);                             /* DSCP/ECN */
		put16(f, (uint16_t)(ihl + l4len));      /* total length */
		put16(f, IPID);
		put16(f, s->frag ? s->frag : 0x4000);   /* DF */
		put8(f, TTL);
		put8(f, proto);
		put16(f, 0);                            /* checksum: not checked */
		putn(f, V4_SRC, 4);
		putn(f, V4_DST, 4);
		putn(f, s->ipopt, s->ipoptlen);
	} else {
		put32(f, 0x60000000u);
		put16(f, (uint16_t)(s->extlen + l4len));
		put8(f, s->ext ? s->first_nh : proto);
		put8(f, TTL);
		putn(f, V6_SRC, 16);
		putn(f, V6_DST, 16);
		putn(f, s->ext, s->extlen);
	}

	f->l4_off = f->len;
	put16(f, SPORT);
	put16(f, DPORT);
	put32(f, SEQ);
	put32(f, ACK);
	put8(f, (uint8_t)(((20 + s->tcpoptlen) / 4) << 4));
	put8(f, s->flags);
	put16(f, WIN);
	put16(f, 0);                                    /* checksum */
	put16(f, URG);
	putn(f, s->tcpopt, s->tcpoptlen);
	f->pay_off = f->len;
	for (uint32_t i = 0; i < s->paylen; i++)
		put8(f, payload_byte(i));
	for (uint32_t i = 0; i < s->trailer; i++)
		put8(f, 0);
}

/* ---- running the decoder on an exact-size heap copy ------------------------ */

struct result {
	enum decode_status st;
	struct segment seg;       /* seg.payload is cleared: the copy is freed */
	long payload_off;         /* payload - start of frame, or -1 when NULL */
	char err[DECODE_ERRBUF_SIZE];
};

static struct result run(int link, const uint8_t *bytes, uint32_t caplen, uint32_t wirelen)
{
	struct result r;
	uint8_t *copy = malloc(caplen);

	memset(&r, 0, sizeof(r));
	assert_true(caplen == 0 || copy != NULL);
	if (caplen > 0)
		memcpy(copy, bytes, caplen);
	memset(r.err, 'x', sizeof(r.err));   /* decode must leave a terminated string */
	r.st = segment_decode(link, copy, caplen, wirelen, TS_NS, &r.seg, r.err);
	assert_non_null(memchr(r.err, '\0', sizeof(r.err)));
	if (r.st != DECODE_OK) {
		assert_true(strlen(r.err) > 10);         /* a real sentence */
	} else {
		assert_string_equal(r.err, "");
		if (r.seg.payload != NULL) {
			assert_true(r.seg.payload_captured > 0);
			assert_true(r.seg.payload >= copy);
			assert_true(r.seg.payload + r.seg.payload_captured <= copy + caplen);
			/* the payload is the bytes the builder wrote */
			for (uint32_t i = 0; i < r.seg.payload_captured; i++)
				assert_int_equal(r.seg.payload[i], bytes[(r.seg.payload - copy) + i]);
		} else {
			assert_int_equal(r.seg.payload_captured, 0);
		}
		assert_true(r.seg.payload_captured <= r.seg.payload_len);
	}
	r.payload_off = (r.st == DECODE_OK && r.seg.payload) ? (long)(r.seg.payload - copy) : -1;
	r.seg.payload = NULL;
	free(copy);
	return r;
}

/* Whole frame captured. */
static struct result run_frame(const struct frame *f)
{
	return run(f->link, f->b, f->len, f->len);
}

/* Frame cut to caplen bytes by the snapshot length. */
static struct result run_cut(const struct frame *f, uint32_t caplen)
{
	assert_true(caplen <= f->len);
	return run(f->link, f->b, caplen, f->len);
}

/* Checks the fields every builder frame carries. */
static void check_common(const struct result *r, const struct frame *f, int ipver, uint32_t paylen)
{
	const struct segment *s = &r->seg;

	assert_int_equal(r->st, DECODE_OK);
	assert_int_equal(s->ts_ns, TS_NS);
	assert_int_equal(s->sport, SPORT);
	assert_int_equal(s->dport, DPORT);
	assert_int_equal(s->seq, SEQ);
	assert_int_equal(s->ack, ACK);
	assert_int_equal(s->window, WIN);
	assert_int_equal(s->urgent, URG);
	assert_int_equal(s->ttl, TTL);
	assert_int_equal(s->wire_len, f->len);
	assert_int_equal(s->payload_len, paylen);
	assert_int_equal(s->src.family, ipver);
	assert_int_equal(s->dst.family, ipver);
	if (ipver == 4) {
		assert_memory_equal(s->src.bytes, V4_SRC, 4);
		assert_memory_equal(s->dst.bytes, V4_DST, 4);
		assert_int_equal(s->ip_id, IPID);
	} else {
		assert_memory_equal(s->src.bytes, V6_SRC, 16);
		assert_memory_equal(s->dst.bytes, V6_DST, 16);
		assert_int_equal(s->ip_id, 0);
	}
	if (paylen > 0 && s->payload_captured > 0)
		assert_int_equal(r->payload_off, (long)f->pay_off);
}

/* Linux's SYN options: MSS 1460, SACK-permitted, timestamps, NOP, wscale 7. */
static const uint8_t LINUX_SYN_OPTS[20] = {
	2, 4, 0x05, 0xb4,  4, 2,  8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
	1,  3, 3, 7,
};

/* ---- link types -------------------------------------------------------------- */

static void test_ethernet_ipv4(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	build(&(struct spec){ .link = LINK_ETHERNET, .paylen = 10, .flags = TCP_FLAG_PSH | TCP_FLAG_ACK }, &f);
	assert_int_equal(f.len, 14 + 20 + 20 + 10);
	r = run_frame(&f);
	check_common(&r, &f, 4, 10);
	assert_int_equal(r.seg.flags, TCP_FLAG_PSH | TCP_FLAG_ACK);
	assert_int_equal(r.seg.payload_captured, 10);
	assert_int_equal(r.payload_off, 54);
	assert_false(r.seg.opt.has_mss);
	assert_false(r.seg.opt.malformed);
}

static void test_ethernet_ipv6(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	build(&(struct spec){ .link = LINK_ETHERNET, .ipver = 6, .flags = TCP_FLAG_SYN,
			      .tcpopt = LINUX_SYN_OPTS, .tcpoptlen = 20 }, &f);
	r = run_frame(&f);
	check_common(&r, &f, 6, 0);
	assert_int_equal(r.seg.flags, TCP_FLAG_SYN);
	assert_null(r.seg.payload);
	assert_int_equal(r.payload_off, -1);
	assert_true(r.seg.opt.has_mss);
	assert_int_equal(r.seg.opt.mss, 1460);
	assert_int_equal(segment_seq_len(&r.seg), 1);
}

static void test_vlan_tags(void **state)
{
	static const uint16_t one[] = { 0x8100 };
	static const uint16_t two[] = { 0x88a8, 0x8100 };
	static const uint16_t old[] = { 0x9100, 0x8100 };
	static const uint16_t eight[] = { 0x88a8, 0x8100, 0x8100, 0x8100, 0x9100, 0x8100, 0x8100, 0x8100 };
	static const uint16_t nine[] = { 0x88a8, 0x8100, 0x8100, 0x8100, 0x9100, 0x8100, 0x8100, 0x8100, 0x8100 };
	struct frame f;
	struct result r;

	(void)state;
	build(&(struct spec){ .link = LINK_ETHERNET, .tpids = one, .ntags = 1, .paylen = 3 }, &f);
	assert_int_equal(f.ip_off, 18);
	r = run_frame(&f);
	check_common(&r, &f, 4, 3);

	build(&(struct spec){ .link = LINK_ETHERNET, .ipver = 6, .tpids = two, .ntags = 2, .paylen = 3 }, &f);
	assert_int_equal(f.ip_off, 22);
	r = run_frame(&f);
	check_common(&r, &f, 6, 3);

	build(&(struct spec){ .link = LINK_ETHERNET, .tpids = old, .ntags = 2 }, &f);
	r = run_frame(&f);
	check_common(&r, &f, 4, 0);

	build(&(struct spec){ .link = LINK_ETHERNET, .tpids = eight, .ntags = 8 }, &f);
	r = run_frame(&f);
	check_common(&r, &f, 4, 0);

	/* a bounded walk: a ninth tag is refused, not followed */
	build(&(struct spec){ .link = LINK_ETHERNET, .tpids = nine, .ntags = 9 }, &f);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_MALFORMED);
	assert_non_null(strstr(r.err, "VLAN"));

	/* cut inside the tag, and right after it (ethertype missing) */
	build(&(struct spec){ .link = LINK_ETHERNET, .tpids = two, .ntags = 2 }, &f);
	for (uint32_t cut = 14; cut < 22; cut++) {
		r = run_cut(&f, cut);
		assert_int_equal(r.st, DECODE_TRUNCATED);
	}
	/* VLAN-tagged ARP is still not IP */
	build(&(struct spec){ .link = LINK_ETHERNET, .tpids = one, .ntags = 1, .ethertype = 0x0806 }, &f);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_NOT_IP);
}

static void test_linux_cooked(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	build(&(struct spec){ .link = LINK_LINUX_SLL, .paylen = 7 }, &f);
	assert_int_equal(f.ip_off, 16);
	r = run_frame(&f);
	check_common(&r, &f, 4, 7);

	build(&(struct spec){ .link = LINK_LINUX_SLL, .ipver = 6, .paylen = 7 }, &f);
	r = run_frame(&f);
	check_common(&r, &f, 6, 7);

	build(&(struct spec){ .link = LINK_LINUX_SLL2, .paylen = 7 }, &f);
	assert_int_equal(f.ip_off, 20);
	r = run_frame(&f);
	check_common(&r, &f, 4, 7);

	build(&(struct spec){ .link = LINK_LINUX_SLL2, .ipver = 6, .paylen = 7 }, &f);
	r = run_frame(&f);
	check_common(&r, &f, 6, 7);

	build(&(struct spec){ .link = LINK_LINUX_SLL, .ethertype = 0x0806 }, &f);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_NOT_IP);
	assert_non_null(strstr(r.err, "0x0806"));
	build(&(struct spec){ .link = LINK_LINUX_SLL2, .ethertype = 0x88cc }, &f);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_NOT_IP);

	build(&(struct spec){ .link = LINK_LINUX_SLL }, &f);
	r = run_cut(&f, 15);
	assert_int_equal(r.st, DECODE_TRUNCATED);
	build(&(struct spec){ .link = LINK_LINUX_SLL2 }, &f);
	r = run_cut(&f, 19);
	assert_int_equal(r.st, DECODE_TRUNCATED);
}

static void test_raw_links(void **state)
{
	static const int raw[] = { LINK_RAW, LINK_RAW_DLT12, LINK_RAW_DLT14 };
	struct frame f;
	struct result r;

	(void)state;
	for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		build(&(struct spec){ .link = raw[i], .paylen = 4 }, &f);
		assert_int_equal(f.ip_off, 0);
		r = run_frame(&f);
		check_common(&r, &f, 4, 4);
		build(&(struct spec){ .link = raw[i], .ipver = 6, .paylen = 4 }, &f);
		r = run_frame(&f);
		check_common(&r, &f, 6, 4);
		/* the version nibble decides, and it must be 4 or 6 */
		f.b[0] = 0x50;
		r = run_frame(&f);
		assert_int_equal(r.st, DECODE_MALFORMED);
		assert_non_null(strstr(r.err, "version 5"));
	}

	build(&(struct spec){ .link = LINK_IPV4, .paylen = 4 }, &f);
	r = run_frame(&f);
	check_common(&r, &f, 4, 4);
	build(&(struct spec){ .link = LINK_IPV6, .ipver = 6, .paylen = 4 }, &f);
	r = run_frame(&f);
	check_common(&r, &f, 6, 4);

	/* 228/229 fix the version: a packet of the other version lies */
	build(&(struct spec){ .link = LINK_IPV4, .ipver = 6 }, &f);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_MALFORMED);
	assert_non_null(strstr(r.err, "version 6"));
	build(&(struct spec){ .link = LINK_IPV6, .ipver = 4 }, &f);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_MALFORMED);
}

static void test_bsd_loopback(void **state)
{
	static const uint32_t v6_afs[] = { 24, 28, 30 };
	struct frame f;
	struct result r;

	(void)state;
	/* DLT_NULL: the writer's byte order, either one */
	for (int le = 0; le <= 1; le++) {
		build(&(struct spec){ .link = LINK_NULL, .af = 2, .af_little = le, .paylen = 1 }, &f);
		r = run_frame(&f);
		check_common(&r, &f, 4, 1);
		for (size_t i = 0; i < 3; i++) {
			build(&(struct spec){ .link = LINK_NULL, .ipver = 6, .af = v6_afs[i], .af_little = le,
					      .paylen = 1 }, &f);
			r = run_frame(&f);
			check_common(&r, &f, 6, 1);
		}
		build(&(struct spec){ .link = LINK_NULL, .af = 7, .af_little = le }, &f);
		r = run_frame(&f);
		assert_int_equal(r.st, DECODE_NOT_IP);
		assert_non_null(strstr(r.err, "family 7"));
	}

	/* DLT_LOOP: network byte order only */
	build(&(struct spec){ .link = LINK_LOOP, .af = 2, .paylen = 1 }, &f);
	r = run_frame(&f);
	check_common(&r, &f, 4, 1);
	build(&(struct spec){ .link = LINK_LOOP, .ipver = 6, .af = 24, .paylen = 1 }, &f);
	r = run_frame(&f);
	check_common(&r, &f, 6, 1);
	build(&(struct spec){ .link = LINK_LOOP, .af = 2, .af_little = true }, &f);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_NOT_IP);

	build(&(struct spec){ .link = LINK_NULL, .af = 2 }, &f);
	r = run_cut(&f, 3);
	assert_int_equal(r.st, DECODE_TRUNCATED);
	/* exactly the 4-byte header: the IPv4 header is what is cut */
	r = run_cut(&f, 4);
	assert_int_equal(r.st, DECODE_TRUNCATED);
	assert_non_null(strstr(r.err, "IPv4"));
}

static void test_unknown_link_and_empty(void **state)
{
	static const int links[] = { LINK_NULL, LINK_ETHERNET, LINK_RAW_DLT12, LINK_RAW_DLT14, LINK_RAW,
				     LINK_LOOP, LINK_LINUX_SLL, LINK_IPV4, LINK_IPV6, LINK_LINUX_SLL2 };
	static const int bad[] = { -1, 2, 105, 127, 9999 };
	struct frame f;
	struct result r;
	struct segment seg;

	(void)state;
	build(&(struct spec){ .link = LINK_ETHERNET }, &f);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = run(bad[i], f.b, f.len, f.len);
		assert_int_equal(r.st, DECODE_BAD_LINK);
		assert_non_null(strstr(r.err, "link type"));
	}
	/* a zero-length frame is truncated on every link type, also with bytes == NULL */
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		r = run(links[i], f.b, 0, 0);
		assert_int_equal(r.st, DECODE_TRUNCATED);
		assert_int_equal(segment_decode(links[i], NULL, 0, 0, 0, &seg, NULL), DECODE_TRUNCATED);
		assert_int_equal(segment_decode(links[i], NULL, 50, 50, 0, &seg, NULL), DECODE_TRUNCATED);
	}
	/* out may be NULL: the status is still computed */
	assert_int_equal(segment_decode(LINK_ETHERNET, f.b, f.len, f.len, 0, NULL, NULL), DECODE_OK);
}

/* ---- IPv4 ---------------------------------------------------------------------- */

static void test_ipv4_options(void **state)
{
	static const uint8_t nops[4] = { 1, 1, 1, 0 };
	uint8_t big[40];
	struct frame f;
	struct result r;

	(void)state;
	build(&(struct spec){ .link = LINK_ETHERNET, .ipopt = nops, .ipoptlen = 4, .paylen = 5 }, &f);
	assert_int_equal(f.l4_off, 14 + 24);
	r = run_frame(&f);
	check_common(&r, &f, 4, 5);

	/* IHL 15: the largest IPv4 header (record route, 40 bytes of options) */
	memset(big, 0, sizeof(big));
	big[0] = 7;
	big[1] = 39;
	big[2] = 4;
	build(&(struct spec){ .link = LINK_RAW, .ipopt = big, .ipoptlen = 40, .paylen = 5,
			      .tcpopt = LINUX_SYN_OPTS, .tcpoptlen = 20 }, &f);
	assert_int_equal(f.b[0], 0x4f);
	r = run_frame(&f);
	check_common(&r, &f, 4, 5);
	assert_true(r.seg.opt.has_timestamps);
}

static void test_ipv4_errors(void **state)
{
	uint8_t opts[40] = { 0 };
	struct frame f;
	struct result r;

	(void)state;
	/* IHL < 5 */
	build(&(struct spec){ .link = LINK_ETHERNET, .paylen = 20 }, &f);
	f.b[f.ip_off] = 0x44;
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_MALFORMED);
	assert_non_null(strstr(r.err, "header length 16"));
	f.b[f.ip_off] = 0x40;
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_MALFORMED);

	/* IHL beyond the capture: the snapshot length cut the options */
	build(&(struct spec){ .link = LINK_ETHERNET, .ipopt = opts, .ipoptlen = 40, .paylen = 20 }, &f);
	r = run_cut(&f, f.ip_off + 30);
	assert_int_equal(r.st, DECODE_TRUNCATED);
	assert_string_equal(r.err, "IPv4 header length 60 exceeds the 30 captured bytes");

	/* IHL beyond the total length: the header length lies */
	build(&(struct spec){ .link = LINK_ETHERNET, .paylen = 20 }, &f);
	f.b[f.ip_off] = 0x4f;                     /* 60 bytes, but total length is 60 ... */
	set16(&f, f.ip_off + 2, 56);              /* ... make it 56 */
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_MALFORMED);
	assert_non_null(strstr(r.err, "total length 56"));

	/* total length < 20 */
	build(&(struct spec){ .link = LINK_ETHERNET }, &f);
	set16(&f, f.ip_off + 2, 19);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_MALFORMED);
	set16(&f, f.ip_off + 2, 0);               /* a TSO capture: the length is the frame's */
	r = run_frame(&f);
	check_common(&r, &f, 4, 0);

	/* total length leaves no room for a TCP header */
	set16(&f, f.ip_off + 2, 20 + 19);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_MALFORMED);
	assert_non_null(strstr(r.err, "19 bytes for TCP"));

	/* wrong version behind an IPv4 ethertype, IPv6 version behind IPv4 ethertype */
	build(&(struct spec){ .link = LINK_ETHERNET }, &f);
	f.b[f.ip_off] = 0x65;
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_MALFORMED);
	assert_non_null(strstr(r.err, "version 6"));
	build(&(struct spec){ .link = LINK_ETHERNET, .ipver = 6 }, &f);
	f.b[f.ip_off] = 0x45;
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_MALFORMED);
	assert_non_null(strstr(r.err, "version 4"));

	/* ARP, UDP */
	build(&(struct spec){ .link = LINK_ETHERNET, .ethertype = 0x0806 }, &f);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_NOT_IP);
	assert_non_null(strstr(r.err, "0x0806"));
	build(&(struct spec){ .link = LINK_ETHERNET, .proto = 17 }, &f);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_NOT_TCP);
	assert_non_null(strstr(r.err, "protocol 17"));

	/* IPv4 header cut: inside the fixed part */
	build(&(struct spec){ .link = LINK_ETHERNET }, &f);
	r = run_cut(&f, f.ip_off + 19);
	assert_int_equal(r.st, DECODE_TRUNCATED);
	assert_non_null(strstr(r.err, "19 of 20"));
	r = run_cut(&f, f.ip_off);
	assert_int_equal(r.st, DECODE_TRUNCATED);
	r = run_cut(&f, 13);
	assert_int_equal(r.st, DECODE_TRUNCATED);
	assert_non_null(strstr(r.err, "Ethernet"));
}

static void test_ipv4_fragments(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	/* first fragment, MF set: the TCP header is there */
	build(&(struct spec){ .link = LINK_ETHERNET, .frag = 0x2000, .paylen = 16 }, &f);
	r = run_frame(&f);
	check_common(&r, &f, 4, 16);

	/* non-first fragments carry no TCP header, with or without MF */
	build(&(struct spec){ .link = LINK_ETHERNET, .frag = 0x2000 | 185, .paylen = 16 }, &f);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_NOT_TCP);
	assert_non_null(strstr(r.err, "offset 1480"));
	build(&(struct spec){ .link = LINK_ETHERNET, .frag = 1 }, &f);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_NOT_TCP);
	/* all 13 offset bits count, the top one too; DF does not make a fragment */
	build(&(struct spec){ .link = LINK_ETHERNET, .frag = 0x1000 }, &f);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_NOT_TCP);
	assert_non_null(strstr(r.err, "offset 32768"));
	build(&(struct spec){ .link = LINK_ETHERNET, .frag = 0x4000 }, &f);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_OK);

	/* a tiny first fragment cuts the TCP header: truncated, not malformed */
	build(&(struct spec){ .link = LINK_ETHERNET, .frag = 0x2000 }, &f);
	set16(&f, f.ip_off + 2, 28);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_TRUNCATED);
	assert_non_null(strstr(r.err, "fragment"));
	/* ... also when it cuts the TCP options */
	build(&(struct spec){ .link = LINK_ETHERNET, .frag = 0x2000, .tcpopt = LINUX_SYN_OPTS,
			      .tcpoptlen = 20 }, &f);
	set16(&f, f.ip_off + 2, 48);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_TRUNCATED);
}

static void test_ethernet_padding(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	/* a pure ACK is 54 bytes, padded to the 60-byte Ethernet minimum */
	build(&(struct spec){ .link = LINK_ETHERNET, .flags = TCP_FLAG_ACK, .trailer = 6 }, &f);
	assert_int_equal(f.len, 60);
	r = run_frame(&f);
	check_common(&r, &f, 4, 0);
	assert_int_equal(r.seg.payload_captured, 0);
	assert_int_equal(r.payload_off, -1);

	/* data followed by a 4-byte FCS */
	build(&(struct spec){ .link = LINK_ETHERNET, .paylen = 100, .trailer = 4 }, &f);
	r = run_frame(&f);
	check_common(&r, &f, 4, 100);
	assert_int_equal(r.seg.payload_captured, 100);

	/* IPv6 too: the payload length bounds the packet */
	build(&(struct spec){ .link = LINK_ETHERNET, .ipver = 6, .paylen = 3, .trailer = 8 }, &f);
	r = run_frame(&f);
	check_common(&r, &f, 6, 3);
	assert_int_equal(r.seg.payload_captured, 3);
}

static void test_snaplen_cut_payload(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	build(&(struct spec){ .link = LINK_ETHERNET, .paylen = 1000 }, &f);
	r = run_cut(&f, f.pay_off + 30);
	check_common(&r, &f, 4, 1000);
	assert_int_equal(r.seg.payload_len, 1000);
	assert_int_equal(r.seg.payload_captured, 30);
	assert_int_equal(r.seg.wire_len, f.len);

	/* cut right after the TCP header: nothing captured, length still known */
	r = run_cut(&f, f.pay_off);
	assert_int_equal(r.st, DECODE_OK);
	assert_int_equal(r.seg.payload_len, 1000);
	assert_int_equal(r.seg.payload_captured, 0);
	assert_int_equal(r.payload_off, -1);

	build(&(struct spec){ .link = LINK_LINUX_SLL2, .ipver = 6, .paylen = 500 }, &f);
	r = run_cut(&f, f.pay_off + 1);
	check_common(&r, &f, 6, 500);
	assert_int_equal(r.seg.payload_captured, 1);

	/* wirelen smaller than caplen (unknown): wire_len is at least caplen */
	build(&(struct spec){ .link = LINK_ETHERNET, .paylen = 5 }, &f);
	r = run(f.link, f.b, f.len, 0);
	assert_int_equal(r.st, DECODE_OK);
	assert_int_equal(r.seg.wire_len, f.len);
}

/* ---- IPv6 extension headers ---------------------------------------------------- */

static const uint8_t EXT_HBH_DST_FRAG[] = {
	/* hop-by-hop, next: destination options, 8 bytes, PadN(4) */
	60, 0, 1, 4, 0, 0, 0, 0,
	/* destination options, next: fragment, 16 bytes, PadN(12) */
	44, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	/* fragment, next: TCP, offset 0, M = 1 */
	6, 0, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef,
};

static void test_ipv6_extension_headers(void **state)
{
	static const uint8_t routing_ah[] = {
		/* routing, next: AH, 8 bytes, type 253, segments left 0 */
		51, 0, 253, 0, 0, 0, 0, 0,
		/* AH, next: mobility?  no: TCP; length 4 → (4 + 2) * 4 = 24 bytes */
		6, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
	};
	static const uint8_t atomic_frag[] = { 6, 0, 0, 0, 0, 0, 0, 1 };
	uint8_t many[17 * 8];
	struct frame f;
	struct result r;

	(void)state;
	build(&(struct spec){ .link = LINK_ETHERNET, .ipver = 6, .ext = EXT_HBH_DST_FRAG,
			      .extlen = sizeof(EXT_HBH_DST_FRAG), .first_nh = 0, .paylen = 12,
			      .tcpopt = LINUX_SYN_OPTS, .tcpoptlen = 20 }, &f);
	r = run_frame(&f);
	check_common(&r, &f, 6, 12);
	assert_int_equal(r.seg.opt.wscale, 7);

	build(&(struct spec){ .link = LINK_RAW, .ipver = 6, .ext = routing_ah, .extlen = sizeof(routing_ah),
			      .first_nh = 43, .paylen = 2 }, &f);
	r = run_frame(&f);
	check_common(&r, &f, 6, 2);

	/* RFC 6946 atomic fragment: offset 0, M 0 */
	build(&(struct spec){ .link = LINK_RAW, .ipver = 6, .ext = atomic_frag, .extlen = 8,
			      .first_nh = 44, .paylen = 2 }, &f);
	r = run_frame(&f);
	check_common(&r, &f, 6, 2);

	/* non-first fragment */
	build(&(struct spec){ .link = LINK_ETHERNET, .ipver = 6, .ext = EXT_HBH_DST_FRAG,
			      .extlen = sizeof(EXT_HBH_DST_FRAG), .first_nh = 0, .paylen = 12 }, &f);
	set16(&f, f.ip_off + 40 + 24 + 2, (uint16_t)((1480 / 8) << 3));
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_NOT_TCP);
	assert_non_null(strstr(r.err, "offset 1480"));
	set16(&f, f.ip_off + 40 + 24 + 2, 1 << 3);     /* the smallest offset, 8 bytes */
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_NOT_TCP);
	assert_non_null(strstr(r.err, "offset 8 "));

	/* first fragment too short for the TCP header */
	build(&(struct spec){ .link = LINK_ETHERNET, .ipver = 6, .ext = EXT_HBH_DST_FRAG,
			      .extlen = sizeof(EXT_HBH_DST_FRAG), .first_nh = 0 }, &f);
	set16(&f, f.ip_off + 4, 32 + 8);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_TRUNCATED);

	/* the extension header cut by the capture, at each byte */
	build(&(struct spec){ .link = LINK_ETHERNET, .ipver = 6, .ext = EXT_HBH_DST_FRAG,
			      .extlen = sizeof(EXT_HBH_DST_FRAG), .first_nh = 0 }, &f);
	for (uint32_t cut = f.ip_off + 40; cut < f.l4_off; cut++) {
		r = run_cut(&f, cut);
		assert_int_equal(r.st, DECODE_TRUNCATED);
	}

	/* destination options claiming 2048 bytes: runs past the payload length */
	build(&(struct spec){ .link = LINK_ETHERNET, .ipver = 6, .ext = EXT_HBH_DST_FRAG,
			      .extlen = sizeof(EXT_HBH_DST_FRAG), .first_nh = 0 }, &f);
	f.b[f.ip_off + 40 + 8 + 1] = 255;
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_MALFORMED);
	assert_non_null(strstr(r.err, "destination options"));
	/* payload length too small for the first extension header's length byte */
	build(&(struct spec){ .link = LINK_ETHERNET, .ipver = 6, .ext = EXT_HBH_DST_FRAG,
			      .extlen = sizeof(EXT_HBH_DST_FRAG), .first_nh = 0 }, &f);
	set16(&f, f.ip_off + 4, 1);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_MALFORMED);
	/* payload length ends inside the TCP header */
	build(&(struct spec){ .link = LINK_ETHERNET, .ipver = 6 }, &f);
	set16(&f, f.ip_off + 4, 12);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_MALFORMED);

	/* no next header; UDP; ESP; jumbogram */
	build(&(struct spec){ .link = LINK_ETHERNET, .ipver = 6, .proto = 59 }, &f);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_NOT_TCP);
	assert_non_null(strstr(r.err, "no next header"));
	set16(&f, f.ip_off + 4, 0);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_NOT_TCP);
	build(&(struct spec){ .link = LINK_ETHERNET, .ipver = 6, .proto = 17 }, &f);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_NOT_TCP);
	assert_non_null(strstr(r.err, "protocol 17"));
	build(&(struct spec){ .link = LINK_ETHERNET, .ipver = 6, .proto = 50 }, &f);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_NOT_TCP);
	build(&(struct spec){ .link = LINK_ETHERNET, .ipver = 6, .paylen = 7 }, &f);
	set16(&f, f.ip_off + 4, 0);               /* BIG TCP without the jumbo option: the frame's length */
	r = run_frame(&f);
	check_common(&r, &f, 6, 7);
	/* hop-by-hop then No Next Header */
	build(&(struct spec){ .link = LINK_ETHERNET, .ipver = 6, .ext = (const uint8_t[]){ 59, 0, 1, 4, 0, 0, 0, 0 },
			      .extlen = 8, .first_nh = 0 }, &f);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_NOT_TCP);

	/* the other extension headers with the generic (n + 1) * 8 length */
	for (int k = 0; k < 3; k++) {
		static const uint8_t nhs[3] = { 135, 139, 140 };
		static const uint8_t one16[16] = { 6, 1 };

		build(&(struct spec){ .link = LINK_RAW, .ipver = 6, .ext = one16, .extlen = 16,
				      .first_nh = nhs[k], .paylen = 1 }, &f);
		r = run_frame(&f);
		check_common(&r, &f, 6, 1);
		f.b[f.ip_off + 41] = 2;                 /* 24 bytes: runs into TCP, past the end */
		set16(&f, f.ip_off + 4, 20);
		r = run_frame(&f);
		assert_int_equal(r.st, DECODE_MALFORMED);
	}

	/* the IPv6 header itself cut */
	build(&(struct spec){ .link = LINK_ETHERNET, .ipver = 6 }, &f);
	r = run_cut(&f, f.ip_off + 39);
	assert_int_equal(r.st, DECODE_TRUNCATED);
	assert_non_null(strstr(r.err, "39 of 40"));

	/* 16 extension headers are walked, a 17th is refused */
	for (int n = 0; n < 17; n++) {
		static const uint8_t dst[8] = { 60, 0, 1, 4, 0, 0, 0, 0 };

		memcpy(many + 8 * n, dst, 8);
	}
	many[15 * 8] = 6;
	build(&(struct spec){ .link = LINK_RAW, .ipver = 6, .ext = many, .extlen = 16 * 8, .first_nh = 60 }, &f);
	r = run_frame(&f);
	check_common(&r, &f, 6, 0);
	many[15 * 8] = 60;
	many[16 * 8] = 6;
	build(&(struct spec){ .link = LINK_RAW, .ipver = 6, .ext = many, .extlen = 17 * 8, .first_nh = 60 }, &f);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_MALFORMED);
	assert_non_null(strstr(r.err, "extension headers"));
}

/* ---- TCP header ------------------------------------------------------------------- */

static void test_tcp_header_errors(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	/* data offset < 5 */
	build(&(struct spec){ .link = LINK_ETHERNET, .paylen = 10 }, &f);
	f.b[f.l4_off + 12] = 0x40;
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_MALFORMED);
	assert_non_null(strstr(r.err, "TCP header length 16"));
	f.b[f.l4_off + 12] = 0x00;
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_MALFORMED);

	/* data offset beyond the segment the IP header announces */
	f.b[f.l4_off + 12] = 0xf0;
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_MALFORMED);
	assert_string_equal(r.err, "TCP header length 60 exceeds the 30-byte segment the IP header announces");
	/* ... in IPv6 too */
	build(&(struct spec){ .link = LINK_ETHERNET, .ipver = 6 }, &f);
	f.b[f.l4_off + 12] = 0x60;
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_MALFORMED);

	/* data offset that fits the segment but not the capture */
	build(&(struct spec){ .link = LINK_ETHERNET, .tcpopt = LINUX_SYN_OPTS, .tcpoptlen = 20, .paylen = 50 }, &f);
	r = run_cut(&f, f.l4_off + 30);           /* options cut: decoded as far as they go */
	assert_int_equal(r.st, DECODE_OK);
	assert_true(r.seg.opt.truncated);
	assert_false(r.seg.opt.malformed);
	assert_true(r.seg.opt.has_mss && r.seg.opt.has_sack_perm);
	assert_false(r.seg.opt.has_timestamps);   /* 10 bytes, only 4 of them captured */
	assert_int_equal(r.seg.payload_len, 50);
	assert_int_equal(r.seg.payload_captured, 0);
	assert_int_equal(r.payload_off, -1);

	/* fixed TCP header cut */
	r = run_cut(&f, f.l4_off + 19);
	assert_int_equal(r.st, DECODE_TRUNCATED);
	assert_non_null(strstr(r.err, "19 of 20"));
	r = run_cut(&f, f.l4_off);
	assert_int_equal(r.st, DECODE_TRUNCATED);

	/* the TCP options are decoded exactly up to the data offset */
	r = run_cut(&f, f.pay_off);
	assert_int_equal(r.st, DECODE_OK);
	assert_true(r.seg.opt.has_mss);
	assert_false(r.seg.opt.malformed);
}

static void test_tcp_flags_and_fields(void **state)
{
	struct frame f;
	struct result r;

	(void)state;
	for (unsigned fl = 0; fl < 256; fl += 17) {
		build(&(struct spec){ .link = LINK_RAW, .flags = (uint8_t)fl }, &f);
		r = run_frame(&f);
		assert_int_equal(r.st, DECODE_OK);
		assert_int_equal(r.seg.flags, fl);
	}
	build(&(struct spec){ .link = LINK_RAW, .flags = TCP_FLAG_SYN | TCP_FLAG_FIN, .paylen = 3 }, &f);
	r = run_frame(&f);
	assert_int_equal(segment_seq_len(&r.seg), 5);
	/* the reserved bits beside the data offset do not leak into the flags */
	f.b[f.l4_off + 12] |= 0x0f;
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_OK);
	assert_int_equal(r.seg.flags, TCP_FLAG_SYN | TCP_FLAG_FIN);
}

/* ---- TCP options --------------------------------------------------------------------- */

static void test_options_each_kind(void **state)
{
	struct tcp_options o;

	(void)state;
	tcp_options_decode((const uint8_t[]){ 2, 4, 0x05, 0xb4 }, 4, &o);
	assert_true(o.has_mss);
	assert_int_equal(o.mss, 1460);
	assert_false(o.malformed);

	tcp_options_decode((const uint8_t[]){ 3, 3, 14 }, 3, &o);
	assert_true(o.has_wscale);
	assert_int_equal(o.wscale, 14);
	tcp_options_decode((const uint8_t[]){ 3, 3, 200 }, 3, &o);   /* raw value kept */
	assert_int_equal(o.wscale, 200);

	tcp_options_decode((const uint8_t[]){ 4, 2 }, 2, &o);
	assert_true(o.has_sack_perm);
	assert_false(o.has_mss);

	tcp_options_decode((const uint8_t[]){ 8, 10, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xfe }, 10, &o);
	assert_true(o.has_timestamps);
	assert_int_equal(o.ts_val, 1);
	assert_int_equal(o.ts_ecr, 0xfffffffeu);

	tcp_options_decode((const uint8_t[]){ 1, 1, 1 }, 3, &o);
	assert_int_equal(o.nop_count, 3);
	assert_false(o.malformed);

	/* unknown kinds are skipped by their length and counted */
	tcp_options_decode((const uint8_t[]){ 99, 4, 0x10, 0x01, 254, 2, 2, 4, 0x02, 0x18 }, 10, &o);
	assert_int_equal(o.unknown_count, 2);
	assert_true(o.has_mss);
	assert_int_equal(o.mss, 536);

	/* empty list, NULL arguments */
	tcp_options_decode((const uint8_t[]){ 2 }, 0, &o);
	assert_false(o.has_mss);
	assert_false(o.malformed);
	tcp_options_decode(NULL, 0, &o);
	assert_false(o.malformed);
	tcp_options_decode((const uint8_t[]){ 1 }, 1, NULL);

	/* the full Linux SYN set */
	tcp_options_decode(LINUX_SYN_OPTS, sizeof(LINUX_SYN_OPTS), &o);
	assert_true(o.has_mss && o.has_sack_perm && o.has_timestamps && o.has_wscale);
	assert_int_equal(o.mss, 1460);
	assert_int_equal(o.ts_val, 0x11223344u);
	assert_int_equal(o.ts_ecr, 0x55667788u);
	assert_int_equal(o.wscale, 7);
	assert_int_equal(o.nop_count, 1);
	assert_int_equal(o.unknown_count, 0);
	assert_int_equal(o.sack_count, 0);
	assert_false(o.malformed);

	/* NOP, NOP, timestamps (every Linux segment after the SYN) takes a
	 * fast path: the same result as the general loop gives for it */
	{
		static const uint8_t nnts[12] = { 1, 1, 8, 10, 0xa1, 0xa2, 0xa3, 0xa4, 0xb1, 0xb2, 0xb3, 0xb4 };
		struct tcp_options fast, loop;
		uint8_t shifted[13];

		tcp_options_decode(nnts, sizeof(nnts), &fast);
		assert_true(fast.has_timestamps);
		assert_int_equal(fast.ts_val, 0xa1a2a3a4u);
		assert_int_equal(fast.ts_ecr, 0xb1b2b3b4u);
		assert_int_equal(fast.nop_count, 2);
		assert_false(fast.has_mss || fast.has_sack_perm || fast.has_wscale || fast.malformed);
		/* the general loop: one more NOP in front (only the count differs) */
		shifted[0] = 1;
		memcpy(shifted + 1, nnts, sizeof(nnts));
		tcp_options_decode(shifted, sizeof(shifted), &loop);
		loop.nop_count--;
		assert_memory_equal(&fast, &loop, sizeof(fast));
	}
	/* a timestamps length of 11 is not the fast path: the option runs past the
	 * list's end and the list is malformed */
	tcp_options_decode((const uint8_t[]){ 1, 1, 8, 11, 0, 0, 0, 1, 0, 0, 0, 2 }, 12, &o);
	assert_true(o.malformed);
	assert_false(o.has_timestamps);
}

static void test_options_sack(void **state)
{
	uint8_t p[40];
	struct tcp_options o;

	(void)state;
	for (uint32_t n = 1; n <= 4; n++) {
		uint32_t len = 2 + 2 + 8 * n;

		memset(p, 0, sizeof(p));
		p[0] = 1;
		p[1] = 1;
		p[2] = 5;
		p[3] = (uint8_t)(2 + 8 * n);
		for (uint32_t b = 0; b < n; b++) {
			uint32_t left = 1000 * (b + 1), right = left + 500;

			for (int k = 0; k < 4; k++) {
				p[4 + 8 * b + (uint32_t)k] = (uint8_t)(left >> (24 - 8 * k));
				p[8 + 8 * b + (uint32_t)k] = (uint8_t)(right >> (24 - 8 * k));
			}
		}
		tcp_options_decode(p, len, &o);
		assert_false(o.malformed);
		assert_int_equal(o.sack_count, n);
		for (uint32_t b = 0; b < n; b++) {
			assert_int_equal(o.sack[b][0], 1000 * (b + 1));
			assert_int_equal(o.sack[b][1], 1000 * (b + 1) + 500);
		}
	}
	/* SACK with a length that is not 2 + 8n: skipped, no blocks */
	tcp_options_decode((const uint8_t[]){ 5, 6, 0, 0, 0, 1 }, 6, &o);
	assert_int_equal(o.sack_count, 0);
	assert_int_equal(o.unknown_count, 1);
	assert_false(o.malformed);
	tcp_options_decode((const uint8_t[]){ 5, 2 }, 2, &o);
	assert_int_equal(o.sack_count, 0);
	tcp_options_decode((const uint8_t[]){ 5, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0 }, 12, &o);
	assert_int_equal(o.sack_count, 0);
	assert_int_equal(o.unknown_count, 1);

	/* a 5-block SACK cannot fit in a TCP header; from a longer list keep 4 */
	{
		uint8_t five[42] = { 5, 42 };

		for (uint32_t b = 0; b < 5; b++)
			five[2 + 8 * b + 3] = (uint8_t)(b + 1);
		tcp_options_decode(five, sizeof(five), &o);
		assert_false(o.malformed);
		assert_int_equal(o.sack_count, TCP_MAX_SACK_BLOCKS);
		assert_int_equal(o.sack[3][0], 4);
	}
}

static void test_options_eol_and_malformed(void **state)
{
	struct tcp_options o;

	(void)state;
	/* EOL ends the list: the bytes after it are padding, not options */
	tcp_options_decode((const uint8_t[]){ 1, 0, 2, 4, 0x05, 0xb4 }, 6, &o);
	assert_int_equal(o.nop_count, 1);
	assert_false(o.has_mss);
	assert_false(o.has_sack_perm);
	assert_int_equal(o.unknown_count, 0);
	assert_false(o.malformed);

	/* length 0 and 1 cannot advance: malformed, options before are kept */
	tcp_options_decode((const uint8_t[]){ 2, 4, 0x05, 0xb4, 8, 0, 0, 0 }, 8, &o);
	assert_true(o.has_mss);
	assert_true(o.malformed);
	assert_false(o.has_timestamps);
	tcp_options_decode((const uint8_t[]){ 1, 3, 1, 0 }, 4, &o);
	assert_true(o.malformed);
	assert_int_equal(o.nop_count, 1);
	assert_false(o.has_wscale);

	/* length running past the header */
	tcp_options_decode((const uint8_t[]){ 4, 2, 8, 10, 0, 0, 0, 1 }, 8, &o);
	assert_true(o.has_sack_perm);
	assert_false(o.has_timestamps);
	assert_true(o.malformed);
	tcp_options_decode((const uint8_t[]){ 1, 1, 1, 254, 255, 0, 0, 0 }, 8, &o);
	assert_true(o.malformed);
	assert_int_equal(o.unknown_count, 0);

	/* a kind in the last byte, no room for its length */
	tcp_options_decode((const uint8_t[]){ 1, 1, 1, 2 }, 4, &o);
	assert_true(o.malformed);
	assert_int_equal(o.nop_count, 3);

	/* the length byte is read only within len (the byte after is poison) */
	tcp_options_decode((const uint8_t[]){ 2, 4, 0x05, 0xb4, 8 /* , poison */ }, 5, &o);
	assert_true(o.malformed);
	assert_true(o.has_mss);

	/* known kinds with a wrong length are skipped, not believed */
	tcp_options_decode((const uint8_t[]){ 2, 3, 9, 3, 4, 1, 2, 8, 4, 0, 1, 1 }, 12, &o);
	assert_false(o.has_mss);
	assert_false(o.has_wscale);
	assert_false(o.has_timestamps);
	assert_int_equal(o.unknown_count, 3);
	assert_int_equal(o.nop_count, 1);
	assert_false(o.malformed);

	/* NOP counter saturates instead of wrapping */
	{
		uint8_t nops[300];

		memset(nops, 1, sizeof(nops));
		tcp_options_decode(nops, sizeof(nops), &o);
		assert_int_equal(o.nop_count, 255);
	}
}

static void test_options_in_frames(void **state)
{
	static const uint8_t bad[8] = { 2, 4, 0x05, 0x78, 8, 1, 0, 0 };
	static const uint8_t sack_ts[] = {
		1, 1, 8, 10, 0, 0, 0, 5, 0, 0, 0, 6,
		1, 1, 5, 18, 0, 0, 0x10, 0, 0, 0, 0x20, 0, 0, 0, 0x30, 0, 0, 0, 0x40, 0,
	};
	struct frame f;
	struct result r;

	(void)state;
	/* malformed options do not make the segment undecodable */
	build(&(struct spec){ .link = LINK_ETHERNET, .tcpopt = bad, .tcpoptlen = 8, .paylen = 4 }, &f);
	r = run_frame(&f);
	check_common(&r, &f, 4, 4);
	assert_true(r.seg.opt.has_mss);
	assert_int_equal(r.seg.opt.mss, 1400);
	assert_true(r.seg.opt.malformed);

	/* an option never reads into the payload: MSS at the last 2 header bytes */
	build(&(struct spec){ .link = LINK_ETHERNET, .tcpopt = (const uint8_t[]){ 1, 1, 2, 4 }, .tcpoptlen = 4,
			      .paylen = 2 }, &f);
	r = run_frame(&f);
	assert_int_equal(r.st, DECODE_OK);
	assert_false(r.seg.opt.has_mss);
	assert_true(r.seg.opt.malformed);

	build(&(struct spec){ .link = LINK_ETHERNET, .ipver = 6, .tcpopt = sack_ts, .tcpoptlen = sizeof(sack_ts),
			      .flags = TCP_FLAG_ACK }, &f);
	r = run_frame(&f);
	check_common(&r, &f, 6, 0);
	assert_int_equal(r.seg.opt.sack_count, 2);
	assert_int_equal(r.seg.opt.sack[0][0], 0x1000);
	assert_int_equal(r.seg.opt.sack[0][1], 0x2000);
	assert_int_equal(r.seg.opt.sack[1][0], 0x3000);
	assert_int_equal(r.seg.opt.sack[1][1], 0x4000);
	assert_int_equal(r.seg.opt.ts_val, 5);
	assert_int_equal(r.seg.opt.ts_ecr, 6);
	assert_int_equal(r.seg.opt.nop_count, 4);
}

/* ---- errbuf, status names -------------------------------------------------------------- */

static void test_errbuf_null_and_status_names(void **state)
{
	struct frame f;
	struct segment seg;

	(void)state;
	build(&(struct spec){ .link = LINK_ETHERNET, .paylen = 5 }, &f);
	assert_int_equal(segment_decode(LINK_ETHERNET, f.b, f.len, f.len, 0, &seg, NULL), DECODE_OK);
	assert_int_equal(segment_decode(LINK_ETHERNET, f.b, 20, f.len, 0, &seg, NULL), DECODE_TRUNCATED);
	assert_int_equal(segment_decode(77777, f.b, f.len, f.len, 0, &seg, NULL), DECODE_BAD_LINK);
	f.b[f.ip_off] = 0x43;
	assert_int_equal(segment_decode(LINK_ETHERNET, f.b, f.len, f.len, 0, &seg, NULL), DECODE_MALFORMED);
	build(&(struct spec){ .link = LINK_ETHERNET, .proto = 1 }, &f);
	assert_int_equal(segment_decode(LINK_ETHERNET, f.b, f.len, f.len, 0, &seg, NULL), DECODE_NOT_TCP);
	build(&(struct spec){ .link = LINK_ETHERNET, .ethertype = 0x88cc }, &f);
	assert_int_equal(segment_decode(LINK_ETHERNET, f.b, f.len, f.len, 0, &seg, NULL), DECODE_NOT_IP);

	assert_string_equal(decode_status_name(DECODE_OK), "ok");
	assert_string_equal(decode_status_name(DECODE_NOT_IP), "not IP");
	assert_string_equal(decode_status_name(DECODE_NOT_TCP), "not TCP");
	assert_string_equal(decode_status_name(DECODE_TRUNCATED), "truncated");
	assert_string_equal(decode_status_name(DECODE_MALFORMED), "malformed");
	assert_string_equal(decode_status_name(DECODE_BAD_LINK), "unknown link type");
	assert_string_equal(decode_status_name((enum decode_status)42), "unknown status");
}

/* ---- robustness: every truncation, random mutations ------------------------------------- */

/* xorshift32: a fixed-seed generator, identical on every libc. */
static uint32_t rng_state;

static uint32_t rng(void)
{
	uint32_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	rng_state = x;
	return x;
}

#define NFRAMES 9

static void build_corpus(struct frame fr[NFRAMES], uint32_t paylen[NFRAMES])
{
	static const uint16_t two[] = { 0x88a8, 0x8100 };
	static const uint8_t ipopt[8] = { 1, 1, 1, 1, 1, 1, 1, 0 };
	static const uint8_t routing_ah[] = {
		51, 0, 253, 0, 0, 0, 0, 0,
		6, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
	};
	static const uint8_t sack[12] = { 1, 1, 5, 10, 0, 0, 1, 0, 0, 0, 2, 0 };
	const struct spec specs[NFRAMES] = {
		{ .link = LINK_ETHERNET, .ipopt = ipopt, .ipoptlen = 8, .tcpopt = LINUX_SYN_OPTS,
		  .tcpoptlen = 20, .paylen = 40 },
		{ .link = LINK_ETHERNET, .ipver = 6, .tpids = two, .ntags = 2, .ext = EXT_HBH_DST_FRAG,
		  .extlen = sizeof(EXT_HBH_DST_FRAG), .first_nh = 0, .tcpopt = sack, .tcpoptlen = 12,
		  .paylen = 20 },
		{ .link = LINK_LINUX_SLL },
		{ .link = LINK_LINUX_SLL2, .ipver = 6, .paylen = 5 },
		{ .link = LINK_NULL, .ipver = 6, .af = 30, .af_little = true, .paylen = 3 },
		{ .link = LINK_LOOP, .tcpopt = LINUX_SYN_OPTS, .tcpoptlen = 20 },
		{ .link = LINK_RAW, .paylen = 9 },
		{ .link = LINK_IPV6, .ipver = 6, .ext = routing_ah, .extlen = sizeof(routing_ah),
		  .first_nh = 43, .paylen = 6 },
		{ .link = LINK_IPV4, .frag = 0x2000, .paylen = 1 },
	};

	for (int i = 0; i < NFRAMES; i++) {
		build(&specs[i], &fr[i]);
		paylen[i] = specs[i].paylen;
	}
}

static void test_every_truncation(void **state)
{
	struct frame fr[NFRAMES];
	uint32_t paylen[NFRAMES];

	(void)state;
	build_corpus(fr, paylen);
	for (int i = 0; i < NFRAMES; i++) {
		for (uint32_t cut = 0; cut <= fr[i].len; cut++) {
			struct result r = run_cut(&fr[i], cut);

			if (cut >= fr[i].l4_off + 20 && cut < fr[i].pay_off) {
				/* options cut, fixed header whole: decoded, marked truncated */
				assert_int_equal(r.st, DECODE_OK);
				assert_true(r.seg.opt.truncated);
				assert_int_equal(r.seg.payload_len, paylen[i]);
				assert_int_equal(r.seg.payload_captured, 0);
			} else if (cut < fr[i].pay_off) {
				if (r.st != DECODE_TRUNCATED)
					fail_msg("frame %d cut at %u: %s (%s)", i, cut,
						 decode_status_name(r.st), r.err);
			} else {
				assert_int_equal(r.st, DECODE_OK);
				assert_int_equal(r.seg.payload_len, paylen[i]);
				assert_int_equal(r.seg.payload_captured, cut - fr[i].pay_off);
				assert_int_equal(r.seg.wire_len, fr[i].len);
				assert_false(r.seg.opt.truncated);
			}
		}
	}
}

static void test_random_mutations(void **state)
{
	static const int links[] = { LINK_NULL, LINK_ETHERNET, LINK_RAW_DLT12, LINK_RAW_DLT14, LINK_RAW,
				     LINK_LOOP, LINK_LINUX_SLL, LINK_IPV4, LINK_IPV6, LINK_LINUX_SLL2, 3,
				     LINK_PPP, LINK_PPP_HDLC, LINK_PPP_ETHER, LINK_C_HDLC, LINK_NFLOG, LINK_IPOIB };
	struct frame fr[NFRAMES];
	uint32_t paylen[NFRAMES];
	unsigned seen[6] = { 0 };

	(void)state;
	build_corpus(fr, paylen);
	rng_state = 0x7cb1a2e5u;
	for (int iter = 0; iter < 20000; iter++) {
		struct frame m;
		struct result r;
		uint32_t caplen;
		int link;

		if (iter % 10 == 9) {
			/* pure noise of random length */
			memset(&m, 0, sizeof(m));
			m.len = rng() % 200;
			for (uint32_t k = 0; k < m.len; k++)
				m.b[k] = (uint8_t)rng();
			link = links[rng() % (sizeof(links) / sizeof(links[0]))];
		} else {
			m = fr[iter % NFRAMES];
			link = m.link;
			for (uint32_t k = 0, n = 1 + rng() % 4; k < n; k++) {
				uint32_t pos = rng() % m.len;

				/* bias towards the headers, where the length fields are */
				if (rng() % 2)
					pos = rng() % (m.pay_off < m.len ? m.pay_off : m.len);
				if (rng() % 2)
					m.b[pos] ^= (uint8_t)(1u << (rng() % 8));
				else
					m.b[pos] = (uint8_t)rng();
			}
			if (rng() % 16 == 0)
				link = links[rng() % (sizeof(links) / sizeof(links[0]))];
		}
		caplen = m.len;
		if (caplen > 0 && rng() % 4 == 0)
			caplen = rng() % caplen;
		r = run(link, m.b, caplen, m.len);
		assert_true(r.st <= 0 && r.st >= DECODE_BAD_LINK);
		seen[-r.st]++;
		if (r.st == DECODE_OK) {
			assert_true(r.seg.src.family == 4 || r.seg.src.family == 6);
			assert_int_equal(r.seg.src.family, r.seg.dst.family);
			assert_true(r.seg.opt.sack_count <= TCP_MAX_SACK_BLOCKS);
			assert_true(r.seg.wire_len >= caplen);
			assert_true(r.seg.payload_captured <= caplen);
		}
	}
	/* the mutations really reached every outcome */
	for (int s = 0; s < 6; s++)
		if (seen[s] == 0)
			fail_msg("no mutation produced status %s", decode_status_name((enum decode_status)-s));
}

/* ---- issue 13: tunnels, link types, offloads, cut options, named options --------- */

/* A packet assembled inside out: start from raw IP + TCP, prepend headers. */
struct pkt {
	uint8_t b[4096];
	uint32_t start, len;         /* bytes live in b[start, start + len) */
	uint32_t tcp_end;            /* offset (from start) where the TCP header ends */
	uint32_t paylen;
	int link;
};

/* The inner packet: raw IPv4 or IPv6, TCP with Linux's SYN options, paylen bytes. */
static void pkt_inner(struct pkt *k, int ipver, uint32_t paylen)
{
	struct frame f;

	build(&(struct spec){ .link = LINK_RAW, .ipver = ipver, .tcpopt = LINUX_SYN_OPTS,
			      .tcpoptlen = 20, .paylen = paylen, .flags = TCP_FLAG_SYN }, &f);
	memset(k, 0, sizeof(*k));
	k->start = 2048;
	k->len = f.len;
	memcpy(k->b + k->start, f.b, f.len);
	k->tcp_end = f.pay_off;
	k->paylen = paylen;
	k->link = LINK_RAW;
}

static void pkt_prepend(struct pkt *k, const uint8_t *h, uint32_t n)
{
	assert_true(n <= k->start);
	k->start -= n;
	k->len += n;
	k->tcp_end += n;
	memcpy(k->b + k->start, h, n);
}

static uint8_t *pkt_data(struct pkt *k)
{
	return k->b + k->start;
}

static void pkt_eth(struct pkt *k, uint16_t et)
{
	uint8_t h[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, (uint8_t)(et >> 8), (uint8_t)et };

	pkt_prepend(k, h, 14);
	k->link = LINK_ETHERNET;
}

static void pkt_ipv4(struct pkt *k, uint8_t proto)
{
	uint32_t tot = 20 + k->len;
	uint8_t h[20] = { 0x45, 0, (uint8_t)(tot >> 8), (uint8_t)tot, 0, 1, 0x40, 0, 64, proto, 0, 0,
			  10, 0, 0, 1, 10, 0, 0, 2 };

	pkt_prepend(k, h, 20);
	k->link = LINK_RAW;
}

static void pkt_ipv6(struct pkt *k, uint8_t nh)
{
	uint8_t h[40] = { 0x60, 0, 0, 0, (uint8_t)(k->len >> 8), (uint8_t)k->len, nh, 64, 0xfd, [23] = 1,
			  [24] = 0xfd, [39] = 2 };

	pkt_prepend(k, h, 40);
	k->link = LINK_RAW;
}

static void pkt_udp(struct pkt *k, uint16_t dport)
{
	uint32_t l = 8 + k->len;
	uint8_t h[8] = { 0xc0, 0x01, (uint8_t)(dport >> 8), (uint8_t)dport, (uint8_t)(l >> 8), (uint8_t)l, 0, 0 };

	pkt_prepend(k, h, 8);
}

/* GRE: flags (C 0x8000, K 0x2000, S 0x1000) and protocol; optional fields zero-filled. */
static void pkt_gre(struct pkt *k, uint16_t flags, uint16_t proto)
{
	uint8_t h[16] = { (uint8_t)(flags >> 8), (uint8_t)flags, (uint8_t)(proto >> 8), (uint8_t)proto,
			  0, 0, 0, 0x2a, 0, 0, 0, 7, 0, 0, 0, 9 };
	uint32_t n = 4 + ((flags & 0x8000) ? 4 : 0) + ((flags & 0x2000) ? 4 : 0) + ((flags & 0x1000) ? 4 : 0);

	if ((flags & 7) == 1)
		n = 8 + ((flags & 0x1000) ? 4 : 0) + ((flags & 0x0080) ? 4 : 0);
	pkt_prepend(k, h, n);
}

static void pkt_mpls(struct pkt *k, unsigned labels)
{
	for (unsigned i = 0; i < labels; i++) {
		uint8_t h[4] = { 0, 0x10 + (uint8_t)i, (uint8_t)(i == 0 ? 1 : 0), 64 };   /* first prepended is the bottom */

		pkt_prepend(k, h, 4);
	}
}

static void pkt_pppoe(struct pkt *k, uint16_t pppproto)
{
	uint32_t l = 2 + k->len;
	uint8_t h[8] = { 0x11, 0, 0x12, 0x34, (uint8_t)(l >> 8), (uint8_t)l, (uint8_t)(pppproto >> 8),
			 (uint8_t)pppproto };

	pkt_prepend(k, h, 8);
}

static struct result pkt_run(struct pkt *k, uint32_t caplen)
{
	return run(k->link, pkt_data(k), caplen, k->len);
}

/* Checks the inner segment and the encapsulation list (ENCAP_NONE-terminated). */
static void check_inner(const struct result *r, const struct pkt *k, int ipver, const uint8_t *encap)
{
	unsigned n = 0;

	if (r->st != DECODE_OK)
		fail_msg("decode failed: %s (%s)", decode_status_name(r->st), r->err);
	assert_int_equal(r->seg.sport, SPORT);
	assert_int_equal(r->seg.dport, DPORT);
	assert_int_equal(r->seg.seq, SEQ);
	assert_int_equal(r->seg.src.family, ipver);
	assert_memory_equal(r->seg.src.bytes, ipver == 4 ? V4_SRC : V6_SRC, ipver == 4 ? 4 : 16);
	assert_memory_equal(r->seg.dst.bytes, ipver == 4 ? V4_DST : V6_DST, ipver == 4 ? 4 : 16);
	assert_int_equal(r->seg.payload_len, k->paylen);
	assert_true(r->seg.opt.has_mss && r->seg.opt.has_timestamps);
	while (encap[n] != ENCAP_NONE)
		n++;
	assert_int_equal(r->seg.encap_count, n);
	assert_memory_equal(r->seg.encap, encap, n);
}

static uint32_t min32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

/* Every cut of k: before the fixed TCP header ends TRUNCATED, inside the
 * options OK and marked truncated, from the payload on OK. */
static void check_every_cut(struct pkt *k)
{
	for (uint32_t cut = 0; cut <= k->len; cut++) {
		struct result r = pkt_run(k, cut);

		if (cut < k->tcp_end - 20) {
			if (r.st != DECODE_TRUNCATED)
				fail_msg("cut at %u of %u: %s (%s)", cut, k->len, decode_status_name(r.st), r.err);
		} else {
			assert_int_equal(r.st, DECODE_OK);
			assert_int_equal(r.seg.opt.truncated, cut < k->tcp_end);
			assert_int_equal(r.seg.payload_len, k->paylen);
			/* bytes after the IP packet (NFLOG padding) are not payload */
			assert_int_equal(r.seg.payload_captured,
					 cut < k->tcp_end ? 0 : min32(cut - k->tcp_end, k->paylen));
		}
	}
}

static void test_tunnel_vxlan_geneve(void **state)
{
	static const uint8_t vx[] = { ENCAP_VXLAN, ENCAP_NONE };
	static const uint8_t gv[] = { ENCAP_GENEVE, ENCAP_NONE };
	static const uint8_t gpe[] = { ENCAP_VXLAN_GPE, ENCAP_NONE };
	struct pkt k;
	struct result r;

	(void)state;
	/* VXLAN: Ethernet / IPv4 / UDP 4789 / VXLAN / Ethernet / IPv4 / TCP */
	pkt_inner(&k, 4, 30);
	pkt_eth(&k, 0x0800);
	pkt_prepend(&k, (const uint8_t[]){ 0x08, 0, 0, 0, 0, 0, 42, 0 }, 8);
	pkt_udp(&k, 4789);
	pkt_ipv4(&k, 17);
	pkt_eth(&k, 0x0800);
	r = pkt_run(&k, k.len);
	check_inner(&r, &k, 4, vx);
	check_every_cut(&k);
	/* the I flag clear: not VXLAN */
	pkt_data(&k)[14 + 20 + 8] = 0;
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_NOT_TCP);
	assert_non_null(strstr(r.err, "VXLAN"));
	pkt_data(&k)[14 + 20 + 8] = 8;
	/* the UDP length lies: past the IP packet, then shorter than its header */
	pkt_data(&k)[14 + 20 + 4] = 0x7f;
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);
	assert_non_null(strstr(r.err, "UDP length"));
	set16(&(struct frame){ 0 }, 0, 0);
	pkt_data(&k)[14 + 20 + 4] = 0;
	pkt_data(&k)[14 + 20 + 5] = 7;
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);
	/* the UDP length ends inside the inner Ethernet header: the inner header lies */
	pkt_data(&k)[14 + 20 + 5] = 8 + 8 + 10;
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);
	assert_non_null(strstr(r.err, "Ethernet"));
	/* ... inside the inner IPv4 header, and then the inner total length */
	pkt_data(&k)[14 + 20 + 5] = 8 + 8 + 14 + 10;
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);
	pkt_data(&k)[14 + 20 + 5] = 8 + 8 + 14 + 30;
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);
	assert_non_null(strstr(r.err, "total length"));

	/* other UDP: not TCP, the message names the port */
	pkt_inner(&k, 4, 0);
	pkt_udp(&k, 53);
	pkt_ipv4(&k, 17);
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_NOT_TCP);
	assert_non_null(strstr(r.err, "port 53"));

	/* Geneve over IPv6 with 8 bytes of options, carrying Ethernet (0x6558) then IPv6 */
	pkt_inner(&k, 6, 5);
	pkt_eth(&k, 0x86dd);
	pkt_prepend(&k, (const uint8_t[]){ 0x02, 0, 0x65, 0x58, 0, 0, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8 }, 16);
	pkt_udp(&k, 6081);
	pkt_ipv6(&k, 17);
	pkt_eth(&k, 0x86dd);
	r = pkt_run(&k, k.len);
	check_inner(&r, &k, 6, gv);
	check_every_cut(&k);
	pkt_data(&k)[14 + 40 + 8] = 0x42;             /* version 1 */
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_NOT_TCP);
	pkt_data(&k)[14 + 40 + 8] = 0x3f;             /* 252 bytes of options: past the datagram */
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);
	/* Geneve carrying IPv4 directly, and an unknown protocol */
	pkt_inner(&k, 4, 1);
	pkt_prepend(&k, (const uint8_t[]){ 0, 0, 0x08, 0x00, 0, 0, 1, 0 }, 8);
	pkt_udp(&k, 6081);
	pkt_ipv4(&k, 17);
	r = pkt_run(&k, k.len);
	check_inner(&r, &k, 4, gv);
	pkt_data(&k)[20 + 8 + 2] = 0x99;
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_NOT_IP);
	assert_non_null(strstr(r.err, "Geneve"));

	/* VXLAN-GPE: IPv4, IPv6, Ethernet, MPLS, unknown next protocol */
	for (int np = 1; np <= 6; np++) {
		static const uint8_t gpe_mpls[] = { ENCAP_VXLAN_GPE, ENCAP_MPLS, ENCAP_NONE };

		if (np == 4)
			continue;
		pkt_inner(&k, np == 2 ? 6 : 4, 2);
		if (np == 3)
			pkt_eth(&k, 0x0800);
		if (np == 5)
			pkt_mpls(&k, 2);
		pkt_prepend(&k, (const uint8_t[]){ 0x0c, 0, 0, (uint8_t)np, 0, 0, 1, 0 }, 8);
		pkt_udp(&k, 4790);
		pkt_ipv4(&k, 17);
		r = pkt_run(&k, k.len);
		if (np == 6) {
			assert_int_equal(r.st, DECODE_NOT_IP);
			continue;
		}
		check_inner(&r, &k, np == 2 ? 6 : 4, np == 5 ? gpe_mpls : gpe);
		check_every_cut(&k);
	}
}

static void test_tunnel_gre_erspan(void **state)
{
	static const uint8_t gre[] = { ENCAP_GRE, ENCAP_NONE };
	static const uint8_t gre_eth[] = { ENCAP_GRE, ENCAP_VLAN, ENCAP_NONE };
	static const uint8_t e1[] = { ENCAP_GRE, ENCAP_ERSPAN1, ENCAP_NONE };
	static const uint8_t e2[] = { ENCAP_GRE, ENCAP_ERSPAN2, ENCAP_NONE };
	static const uint8_t e3[] = { ENCAP_GRE, ENCAP_ERSPAN3, ENCAP_NONE };
	static const uint8_t pptp[] = { ENCAP_GRE, ENCAP_PPP, ENCAP_NONE };
	static const uint16_t flagsets[] = { 0, 0x8000, 0x2000, 0x1000, 0xb000 };
	struct pkt k;
	struct result r;
	char tb[64];

	(void)state;
	/* plain, checksummed, keyed, sequenced, all three; IPv4 and IPv6 inside */
	for (unsigned i = 0; i < sizeof(flagsets) / sizeof(flagsets[0]); i++) {
		for (int v = 4; v <= 6; v += 2) {
			pkt_inner(&k, v, 9);
			pkt_gre(&k, flagsets[i], v == 4 ? 0x0800 : 0x86dd);
			pkt_ipv4(&k, 47);
			r = pkt_run(&k, k.len);
			check_inner(&r, &k, v, gre);
			check_every_cut(&k);
		}
	}
	/* GRE over IPv6 carrying Ethernet with a VLAN tag (gretap) */
	pkt_inner(&k, 4, 3);
	pkt_prepend(&k, (const uint8_t[]){ 0x81, 0x00, 0, 5, 0x08, 0x00 }, 6);
	pkt_prepend(&k, (const uint8_t[]){ 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 }, 12);
	pkt_gre(&k, 0x2000, 0x6558);
	pkt_ipv6(&k, 47);
	r = pkt_run(&k, k.len);
	check_inner(&r, &k, 4, gre_eth);
	check_every_cut(&k);
	r = pkt_run(&k, k.len);
	assert_string_equal(segment_tunnel_format(&r.seg, " > ", tb, sizeof(tb)), "GRE > 802.1Q");

	/* ERSPAN type I (no sequence number), II, III (with and without the platform sub-header) */
	pkt_inner(&k, 4, 4);
	pkt_eth(&k, 0x0800);
	pkt_gre(&k, 0, 0x88be);
	pkt_ipv4(&k, 47);
	r = pkt_run(&k, k.len);
	check_inner(&r, &k, 4, e1);
	check_every_cut(&k);

	pkt_inner(&k, 4, 4);
	pkt_eth(&k, 0x0800);
	pkt_prepend(&k, (const uint8_t[]){ 0x10, 0x05, 0, 0x33, 0, 0, 0, 0 }, 8);
	pkt_gre(&k, 0x1000, 0x88be);
	pkt_ipv4(&k, 47);
	r = pkt_run(&k, k.len);
	check_inner(&r, &k, 4, e2);
	check_every_cut(&k);
	pkt_data(&k)[20 + 8] = 0x20;                  /* version 2 under the type II protocol */
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);

	for (int o = 0; o < 2; o++) {
		pkt_inner(&k, 6, 4);
		pkt_eth(&k, 0x86dd);
		if (o)
			pkt_prepend(&k, (const uint8_t[]){ 1, 2, 3, 4, 5, 6, 7, 8 }, 8);
		pkt_prepend(&k, (const uint8_t[]){ 0x20, 0x05, 0, 0x33, 0, 0, 0, 1, 0, 0, 0, (uint8_t)o }, 12);
		pkt_gre(&k, 0x1000, 0x22eb);
		pkt_ipv4(&k, 47);
		r = pkt_run(&k, k.len);
		check_inner(&r, &k, 6, e3);
		check_every_cut(&k);
	}
	pkt_data(&k)[20 + 8 + 10] = 2 << 2;          /* frame type 2: not Ethernet */
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_NOT_IP);
	pkt_data(&k)[20 + 8 + 10] = 0;
	pkt_data(&k)[20 + 8] = 0x10;                  /* version 1 under the type III protocol */
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);

	/* PPTP's enhanced GRE (version 1, key, sequence, ack) carrying PPP with address/control */
	pkt_inner(&k, 4, 6);
	pkt_prepend(&k, (const uint8_t[]){ 0xff, 0x03, 0x00, 0x21 }, 4);
	pkt_gre(&k, 0x3081, 0x880b);
	pkt_ipv4(&k, 47);
	r = pkt_run(&k, k.len);
	check_inner(&r, &k, 4, pptp);
	check_every_cut(&k);
	pkt_data(&k)[20] = 0x10;                      /* version 1 without the key bit */
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);

	/* routing bit, version 2, an unknown protocol */
	pkt_inner(&k, 4, 0);
	pkt_gre(&k, 0x4000, 0x0800);
	pkt_ipv4(&k, 47);
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_NOT_TCP);
	pkt_data(&k)[20] = 0;
	pkt_data(&k)[21] = 2;
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_NOT_TCP);
	assert_non_null(strstr(r.err, "version 2"));
	pkt_data(&k)[21] = 0;
	pkt_data(&k)[22] = 0x12;
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_NOT_IP);
	assert_non_null(strstr(r.err, "GRE"));
	/* the outer IPv4 is a first fragment: a cut inner packet is TRUNCATED, not MALFORMED */
	pkt_inner(&k, 4, 40);
	pkt_gre(&k, 0, 0x0800);
	pkt_ipv4(&k, 47);
	pkt_data(&k)[6] = 0x20;                       /* MF, offset 0 */
	set16(&(struct frame){ 0 }, 0, 0);
	pkt_data(&k)[2] = 0;
	pkt_data(&k)[3] = 20 + 4 + 30;                /* the fragment ends inside the inner TCP header */
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_TRUNCATED);
	assert_non_null(strstr(r.err, "fragment"));
}

static void test_tunnel_ip_in_ip_and_nesting(void **state)
{
	static const uint8_t ipip[] = { ENCAP_IPIP, ENCAP_NONE };
	static const uint8_t six4[] = { ENCAP_6IN4, ENCAP_NONE };
	static const uint8_t four6[] = { ENCAP_4IN6, ENCAP_NONE };
	static const uint8_t six6[] = { ENCAP_6IN6, ENCAP_NONE };
	static const uint8_t mplsip[] = { ENCAP_MPLS, ENCAP_NONE };
	struct pkt k;
	struct result r;

	(void)state;
	pkt_inner(&k, 4, 8);
	pkt_ipv4(&k, 4);
	r = pkt_run(&k, k.len);
	check_inner(&r, &k, 4, ipip);
	check_every_cut(&k);
	/* the inner total length claims more than the outer packet holds */
	pkt_data(&k)[20 + 2] = 0x40;
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);

	pkt_inner(&k, 6, 8);
	pkt_ipv4(&k, 41);
	r = pkt_run(&k, k.len);
	check_inner(&r, &k, 6, six4);
	check_every_cut(&k);
	pkt_data(&k)[20 + 4] = 0x40;                  /* inner payload length too large */
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);

	pkt_inner(&k, 4, 8);
	pkt_ipv6(&k, 4);
	r = pkt_run(&k, k.len);
	check_inner(&r, &k, 4, four6);
	check_every_cut(&k);

	pkt_inner(&k, 6, 8);
	pkt_ipv6(&k, 41);
	pkt_eth(&k, 0x86dd);
	r = pkt_run(&k, k.len);
	check_inner(&r, &k, 6, six6);
	check_every_cut(&k);

	/* MPLS in IP (protocol 137) */
	pkt_inner(&k, 4, 8);
	pkt_mpls(&k, 1);
	pkt_ipv4(&k, 137);
	r = pkt_run(&k, k.len);
	check_inner(&r, &k, 4, mplsip);

	/* 8 nested encapsulations decode, a 9th is refused */
	pkt_inner(&k, 4, 1);
	for (int i = 0; i < 8; i++)
		pkt_ipv4(&k, 4);
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_OK);
	assert_int_equal(r.seg.encap_count, 8);
	pkt_ipv4(&k, 4);
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);
	assert_non_null(strstr(r.err, "nests"));
	/* an inner packet of a third IP version */
	pkt_inner(&k, 4, 1);
	pkt_data(&k)[0] = 0x55;
	pkt_ipv4(&k, 4);
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);
	/* an inner IPv4 header longer than the outer payload */
	{
		struct pkt s;
		memset(&s, 0, sizeof(s));
		s.start = 2048;
		s.link = LINK_RAW;
		pkt_prepend(&s, (const uint8_t[]){ 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6 }, 10);
		pkt_ipv4(&s, 4);
		r = pkt_run(&s, s.len);
		assert_int_equal(r.st, DECODE_MALFORMED);
		s.start += 20;
		s.len -= 20;
		s.start -= 0;
		pkt_ipv4(&s, 41);
		pkt_data(&s)[20] = 0x60;
		r = pkt_run(&s, s.len);
		assert_int_equal(r.st, DECODE_MALFORMED);
	}
}

static void test_tunnel_mpls_pppoe_qinq(void **state)
{
	static const uint8_t mpls[] = { ENCAP_MPLS, ENCAP_NONE };
	static const uint8_t mpls_pw[] = { ENCAP_MPLS, ENCAP_NONE };
	static const uint8_t pppoe[] = { ENCAP_PPPOE, ENCAP_NONE };
	static const uint8_t qinq_pppoe[] = { ENCAP_QINQ, ENCAP_PPPOE, ENCAP_NONE };
	static const uint8_t vlan[] = { ENCAP_VLAN, ENCAP_NONE };
	static const uint8_t qinq[] = { ENCAP_QINQ, ENCAP_NONE };
	struct pkt k;
	struct result r;

	(void)state;
	/* stacked labels, IPv4 and IPv6 below */
	for (unsigned n = 1; n <= 4; n++) {
		pkt_inner(&k, n % 2 ? 4 : 6, 12);
		pkt_mpls(&k, n);
		pkt_eth(&k, 0x8847);
		r = pkt_run(&k, k.len);
		check_inner(&r, &k, n % 2 ? 4 : 6, mpls);
		check_every_cut(&k);
	}
	/* an Ethernet pseudowire with its control word (RFC 4385) */
	pkt_inner(&k, 4, 12);
	pkt_eth(&k, 0x0800);
	pkt_prepend(&k, (const uint8_t[]){ 0, 0, 0, 0 }, 4);
	pkt_mpls(&k, 2);
	pkt_eth(&k, 0x8848);
	r = pkt_run(&k, k.len);
	check_inner(&r, &k, 4, mpls_pw);
	check_every_cut(&k);
	/* neither IP nor a control word after the stack */
	pkt_data(&k)[14 + 8] = 0x50;
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_NOT_IP);
	/* 16 labels decode, 17 do not */
	pkt_inner(&k, 4, 1);
	pkt_mpls(&k, 16);
	pkt_eth(&k, 0x8847);
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_OK);
	pkt_inner(&k, 4, 1);
	pkt_mpls(&k, 17);
	pkt_eth(&k, 0x8847);
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);

	/* PPPoE session: IPv4, IPv6 (compressed protocol field 0x57), under QinQ */
	pkt_inner(&k, 4, 10);
	pkt_pppoe(&k, 0x0021);
	pkt_eth(&k, 0x8864);
	r = pkt_run(&k, k.len);
	check_inner(&r, &k, 4, pppoe);
	check_every_cut(&k);
	pkt_data(&k)[14] = 0x12;                      /* version/type */
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);
	pkt_data(&k)[14] = 0x11;
	pkt_data(&k)[15] = 0xa7;                      /* discovery code: no data */
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_NOT_IP);
	pkt_data(&k)[15] = 0;
	pkt_data(&k)[18] = 0x7f;                      /* length past the frame */
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);
	pkt_data(&k)[18] = 0;
	pkt_data(&k)[19] = 30;                        /* length ends inside the IPv4 packet */
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);
	pkt_data(&k)[19] = (uint8_t)(k.len - 20);
	pkt_data(&k)[20] = 0;
	pkt_data(&k)[21] = 0x2b;                      /* PPP protocol IPX */
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_NOT_IP);
	assert_non_null(strstr(r.err, "PPP"));

	pkt_inner(&k, 6, 10);
	{
		uint32_t l = 1 + k.len;
		pkt_prepend(&k, (const uint8_t[]){ 0x11, 0, 0, 1, (uint8_t)(l >> 8), (uint8_t)l, 0x57 }, 7);
	}
	pkt_prepend(&k, (const uint8_t[]){ 0x88, 0xa8, 0, 10, 0x81, 0x00, 0, 20, 0x88, 0x64 }, 10);
	pkt_prepend(&k, (const uint8_t[]){ 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 }, 12);
	k.link = LINK_ETHERNET;
	r = pkt_run(&k, k.len);
	check_inner(&r, &k, 6, qinq_pppoe);
	check_every_cut(&k);

	/* one tag is 802.1Q, two are QinQ */
	{
		struct frame f;
		static const uint16_t one[] = { 0x8100 }, two[] = { 0x88a8, 0x8100 };

		build(&(struct spec){ .link = LINK_ETHERNET, .tpids = one, .ntags = 1 }, &f);
		r = run_frame(&f);
		assert_int_equal(r.seg.encap_count, 1);
		assert_memory_equal(r.seg.encap, vlan, 1);
		build(&(struct spec){ .link = LINK_ETHERNET, .tpids = two, .ntags = 2 }, &f);
		r = run_frame(&f);
		assert_int_equal(r.seg.encap_count, 1);
		assert_memory_equal(r.seg.encap, qinq, 1);
		build(&(struct spec){ .link = LINK_ETHERNET }, &f);
		r = run_frame(&f);
		assert_int_equal(r.seg.encap_count, 0);
	}
	/* 802.3 with LLC/SNAP, and without */
	pkt_inner(&k, 4, 2);
	pkt_prepend(&k, (const uint8_t[]){ 0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00 }, 8);
	pkt_eth(&k, (uint16_t)(k.len));
	r = pkt_run(&k, k.len);
	check_inner(&r, &k, 4, (const uint8_t[]){ ENCAP_NONE });
	pkt_data(&k)[14] = 0x42;
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_NOT_IP);
}

static const uint8_t pppoe_encap_for_tests_storage[] = { ENCAP_PPPOE, ENCAP_NONE };

/* NFLOG TLV in host byte order. */
static void pkt_nflog_tlv(struct pkt *k, uint16_t type, const uint8_t *data, uint16_t n)
{
	uint8_t h[4];
	uint16_t l = (uint16_t)(4 + n);
	uint32_t pad = (4 - n % 4) % 4;
	static const uint8_t zeros[4];

	memcpy(h, &l, 2);
	memcpy(h + 2, &type, 2);
	pkt_prepend(k, zeros, pad);
	pkt_prepend(k, data, n);
	pkt_prepend(k, h, 4);
}

static void test_link_types_new(void **state)
{
	static const uint8_t none[] = { ENCAP_NONE };
	struct pkt k;
	struct result r;

	(void)state;
	/* NFLOG: a prefix TLV, a hardware-header TLV (odd length, padded), then the payload */
	for (int v = 4; v <= 6; v += 2) {
		uint8_t ip[200];
		uint16_t iplen;

		pkt_inner(&k, v, 17);
		iplen = (uint16_t)k.len;
		memcpy(ip, pkt_data(&k), iplen);
		k.start += k.len;
		k.len = 0;
		k.tcp_end = 0;
		pkt_nflog_tlv(&k, 9, ip, iplen);
		k.tcp_end = 4 + (uint32_t)(iplen - 17 - 0) ;
		pkt_nflog_tlv(&k, 3, (const uint8_t[]){ 1, 2, 3, 4, 5 }, 5);
		pkt_nflog_tlv(&k, 10, (const uint8_t *)"tcplab", 7);
		pkt_prepend(&k, (const uint8_t[]){ (uint8_t)(v == 4 ? 2 : 10), 0, 0, 5 }, 4);
		k.tcp_end = k.len - 17 - ((4 - iplen % 4) % 4);
		k.link = LINK_NFLOG;
		r = pkt_run(&k, k.len);
		check_inner(&r, &k, v, none);
		check_every_cut(&k);
	}
	pkt_data(&k)[0] = 7;                          /* family */
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_NOT_IP);
	pkt_data(&k)[0] = 10;
	pkt_data(&k)[1] = 1;                          /* version */
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);
	pkt_data(&k)[1] = 0;
	pkt_data(&k)[4] = 2;                          /* TLV length < 4 */
	pkt_data(&k)[5] = 0;
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);
	pkt_data(&k)[4] = 0xff;                       /* TLV length past the record */
	pkt_data(&k)[5] = 0xff;
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);
	/* no payload TLV at all */
	memset(&k, 0, sizeof(k));
	k.start = 2048;
	pkt_nflog_tlv(&k, 10, (const uint8_t *)"abc", 3);
	pkt_prepend(&k, (const uint8_t[]){ 2, 0, 0, 0 }, 4);
	k.link = LINK_NFLOG;
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_NOT_IP);
	r = pkt_run(&k, 2);
	assert_int_equal(r.st, DECODE_TRUNCATED);

	/* PPP (with and without address/control, compressed protocol), PPP in HDLC framing */
	for (int form = 0; form < 4; form++) {
		pkt_inner(&k, form == 3 ? 6 : 4, 3);
		if (form == 0)
			pkt_prepend(&k, (const uint8_t[]){ 0x00, 0x21 }, 2);
		else if (form == 1)
			pkt_prepend(&k, (const uint8_t[]){ 0xff, 0x03, 0x00, 0x21 }, 4);
		else if (form == 2)
			pkt_prepend(&k, (const uint8_t[]){ 0xff, 0x03, 0x21 }, 3);
		else
			pkt_prepend(&k, (const uint8_t[]){ 0xff, 0x03, 0x00, 0x57 }, 4);
		k.link = form == 1 ? LINK_PPP_HDLC : LINK_PPP;
		r = pkt_run(&k, k.len);
		check_inner(&r, &k, form == 3 ? 6 : 4, none);
		check_every_cut(&k);
	}
	pkt_data(&k)[3] = 0x59;
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_NOT_IP);
	/* MPLS over PPP */
	pkt_inner(&k, 4, 3);
	pkt_mpls(&k, 1);
	pkt_prepend(&k, (const uint8_t[]){ 0x02, 0x81 }, 2);
	k.link = LINK_PPP;
	r = pkt_run(&k, k.len);
	check_inner(&r, &k, 4, (const uint8_t[]){ ENCAP_MPLS, ENCAP_NONE });

	/* Cisco HDLC, alone and inside DLT_PPP_SERIAL */
	for (int l = 0; l < 2; l++) {
		pkt_inner(&k, 4, 3);
		pkt_prepend(&k, (const uint8_t[]){ 0x0f, 0x00, 0x08, 0x00 }, 4);
		k.link = l ? LINK_PPP_HDLC : LINK_C_HDLC;
		r = pkt_run(&k, k.len);
		check_inner(&r, &k, 4, none);
		check_every_cut(&k);
	}
	/* PPPoE link type (DLT_PPP_ETHER) */
	pkt_inner(&k, 4, 3);
	pkt_pppoe(&k, 0x0021);
	k.link = LINK_PPP_ETHER;
	r = pkt_run(&k, k.len);
	check_inner(&r, &k, 4, pppoe_encap_for_tests_storage);
	check_every_cut(&k);

	/* IP over InfiniBand */
	for (int v = 4; v <= 6; v += 2) {
		pkt_inner(&k, v, 3);
		pkt_prepend(&k, (const uint8_t[]){ v == 4 ? 0x08 : 0x86, v == 4 ? 0x00 : 0xdd, 0, 0 }, 4);
		k.link = LINK_IPOIB;
		r = pkt_run(&k, k.len);
		check_inner(&r, &k, v, none);
		check_every_cut(&k);
	}
	pkt_data(&k)[0] = 0x08;
	pkt_data(&k)[1] = 0x06;
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_NOT_IP);
	assert_non_null(strstr(r.err, "InfiniBand"));

	/* raw IPv4 / IPv6 link types hold a packet of their version only */
	pkt_inner(&k, 6, 0);
	k.link = LINK_IPV4;
	r = pkt_run(&k, k.len);
	assert_int_equal(r.st, DECODE_MALFORMED);
	k.link = LINK_IPV6;
	r = pkt_run(&k, k.len);
	check_inner(&r, &k, 6, none);
}

static void test_offloads(void **state)
{
	struct frame f;
	struct result r;
	static uint8_t big[70000];

	(void)state;
	/* IPv4 total length 0 on a 2,000-byte TSO segment captured on the sender */
	build(&(struct spec){ .link = LINK_ETHERNET, .paylen = 1960 }, &f);
	set16(&f, f.ip_off + 2, 0);
	r = run_frame(&f);
	check_common(&r, &f, 4, 1960);
	/* ... cut by a snapshot length: the payload length still comes from the wire length */
	r = run_cut(&f, 200);
	assert_int_equal(r.st, DECODE_OK);
	assert_int_equal(r.seg.payload_len, 1960);
	assert_int_equal(r.seg.payload_captured, 200 - f.pay_off);
	/* a BIG TCP segment past 64 KiB: total length 0, 69,946 bytes of payload */
	memset(big, 0, sizeof(big));
	big[0] = 0x45;
	big[9] = 6;
	big[20 + 12] = 0x50;
	r = run(LINK_RAW, big, 200, sizeof(big));
	assert_int_equal(r.st, DECODE_OK);
	assert_int_equal(r.seg.payload_len, sizeof(big) - 40);
	/* total length 0 and no more bytes than a header: no room for TCP */
	r = run(LINK_RAW, big, 20, 20);
	assert_int_equal(r.st, DECODE_MALFORMED);
	r = run(LINK_RAW, big, 19, 19);
	assert_int_equal(r.st, DECODE_TRUNCATED);

	/* IPv6 jumbogram with the RFC 2675 hop-by-hop option */
	memset(big, 0, sizeof(big));
	big[0] = 0x60;
	big[6] = 0;                                   /* hop-by-hop */
	big[40] = 6;                                  /* then TCP */
	big[41] = 0;                                  /* 8 bytes */
	big[42] = 0xC2;
	big[43] = 4;
	big[44] = 0;
	big[45] = 1;
	big[46] = 0x11;
	big[47] = 0x18;                               /* 70,000 - 40 = 69,960 = 0x11148... */
	{
		uint32_t jl = sizeof(big) - 40;
		big[44] = (uint8_t)(jl >> 24);
		big[45] = (uint8_t)(jl >> 16);
		big[46] = (uint8_t)(jl >> 8);
		big[47] = (uint8_t)jl;
	}
	big[48 + 12] = 0x50;
	r = run(LINK_RAW, big, 300, sizeof(big));
	assert_int_equal(r.st, DECODE_OK);
	assert_int_equal(r.seg.payload_len, sizeof(big) - 40 - 8 - 20);
	/* the option after Pad1, Pad1, PadN (16-byte hop-by-hop header) */
	memset(big, 0, 100);
	big[0] = 0x60;
	big[40] = 6;
	big[41] = 1;
	big[44] = 1;                                  /* PadN, 2 data bytes */
	big[45] = 2;
	big[48] = 0xC2;
	big[49] = 4;
	{
		uint32_t jl = sizeof(big) - 40;
		big[50] = (uint8_t)(jl >> 24);
		big[51] = (uint8_t)(jl >> 16);
		big[52] = (uint8_t)(jl >> 8);
		big[53] = (uint8_t)jl;
	}
	big[56 + 12] = 0x50;
	r = run(LINK_RAW, big, 300, sizeof(big));
	assert_int_equal(r.st, DECODE_OK);
	assert_int_equal(r.seg.payload_len, sizeof(big) - 40 - 16 - 20);
	/* a hop-by-hop header without the option: the frame's length; one whose
	 * option runs past it: the same */
	big[48] = 0x05;                               /* router alert instead of jumbo */
	r = run(LINK_RAW, big, 300, sizeof(big));
	assert_int_equal(r.st, DECODE_OK);
	assert_int_equal(r.seg.payload_len, sizeof(big) - 40 - 16 - 20);
	big[49] = 200;
	r = run(LINK_RAW, big, 300, sizeof(big));
	assert_int_equal(r.st, DECODE_OK);
	/* a jumbo length smaller than the headers it must hold */
	big[48] = 0xC2;
	big[49] = 4;
	memset(big + 50, 0, 4);
	big[53] = 10;
	r = run(LINK_RAW, big, 300, sizeof(big));
	assert_int_equal(r.st, DECODE_MALFORMED);
	/* the largest jumbo length: more than 2^32 - 40 is refused */
	memset(big + 50, 0xff, 4);
	r = run(LINK_RAW, big, 300, sizeof(big));
	assert_int_equal(r.st, DECODE_MALFORMED);
	/* payload length 0, no hop-by-hop header, nothing after the header */
	memset(big, 0, 40);
	big[0] = 0x60;
	big[6] = 6;
	r = run(LINK_RAW, big, 40, 40);
	assert_int_equal(r.st, DECODE_MALFORMED);
}

static void test_named_options(void **state)
{
	struct tcp_options o;
	struct segment s;

	(void)state;
	/* TFO cookie request, an 8-byte cookie, the pre-RFC experimental form */
	tcp_options_decode((const uint8_t[]){ 34, 2, 1, 1 }, 4, &o);
	assert_true(o.has_tfo);
	assert_int_equal(o.tfo_cookie_len, 0);
	assert_int_equal(o.unknown_count, 0);
	tcp_options_decode((const uint8_t[]){ 34, 10, 1, 2, 3, 4, 5, 6, 7, 8 }, 10, &o);
	assert_true(o.has_tfo);
	assert_int_equal(o.tfo_cookie_len, 8);
	assert_memory_equal(o.tfo_cookie, ((const uint8_t[]){ 1, 2, 3, 4, 5, 6, 7, 8 }), 8);
	tcp_options_decode((const uint8_t[]){ 34, 5, 1, 2, 3 }, 5, &o);   /* odd cookie: unknown */
	assert_false(o.has_tfo);
	assert_int_equal(o.unknown_count, 1);
	tcp_options_decode((const uint8_t[]){ 34, 20, [19] = 0 }, 20, &o);  /* 18-byte cookie: too long */
	assert_false(o.has_tfo);
	tcp_options_decode((const uint8_t[]){ 254, 8, 0xf9, 0x89, 9, 8, 7, 6 }, 8, &o);
	assert_true(o.has_tfo);
	assert_int_equal(o.tfo_cookie_len, 4);
	assert_int_equal(o.tfo_cookie[0], 9);
	tcp_options_decode((const uint8_t[]){ 254, 4, 0xf9, 0x89 }, 4, &o);
	assert_true(o.has_tfo);
	assert_int_equal(o.tfo_cookie_len, 0);
	tcp_options_decode((const uint8_t[]){ 254, 4, 0x12, 0x34 }, 4, &o);
	assert_false(o.has_tfo);
	assert_int_equal(o.unknown_count, 1);

	/* MPTCP subtypes */
	tcp_options_decode((const uint8_t[]){ 30, 12, 0x01, 0x81, 1, 2, 3, 4, 5, 6, 7, 8 }, 12, &o);
	assert_true(o.has_mptcp);
	assert_int_equal(o.mptcp_subtype, 0);
	assert_string_equal(mptcp_subtype_name(o.mptcp_subtype), "MP_CAPABLE");
	tcp_options_decode((const uint8_t[]){ 30, 4, 0x20, 0x01 }, 4, &o);
	assert_int_equal(o.mptcp_subtype, 2);
	assert_string_equal(mptcp_subtype_name(2), "DSS");
	assert_string_equal(mptcp_subtype_name(8), "MP_TCPRST");
	assert_string_equal(mptcp_subtype_name(15), "MP_EXPERIMENTAL");
	assert_string_equal(mptcp_subtype_name(9), "?");
	tcp_options_decode((const uint8_t[]){ 30, 2 }, 2, &o);
	assert_false(o.has_mptcp);

	/* TCP-AO and MD5 */
	tcp_options_decode((const uint8_t[]){ 29, 16, 3, 4, [15] = 0 }, 16, &o);
	assert_true(o.has_tcp_ao);
	assert_int_equal(o.ao_keyid, 3);
	assert_int_equal(o.ao_rnextkeyid, 4);
	tcp_options_decode((const uint8_t[]){ 29, 3, 3 }, 3, &o);
	assert_false(o.has_tcp_ao);
	tcp_options_decode((const uint8_t[]){ 19, 18, [17] = 0, 1, 1 }, 20, &o);
	assert_true(o.has_md5);
	assert_int_equal(o.nop_count, 2);
	tcp_options_decode((const uint8_t[]){ 19, 10, [9] = 0 }, 10, &o);
	assert_false(o.has_md5);
	assert_int_equal(o.unknown_count, 1);

	/* ECN setup: SYN with ECE+CWR, SYN-ACK with ECE alone; not otherwise */
	memset(&s, 0, sizeof(s));
	s.flags = TCP_FLAG_SYN | TCP_FLAG_ECE | TCP_FLAG_CWR;
	assert_true(segment_ecn_setup(&s));
	s.flags = TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_ECE;
	assert_true(segment_ecn_setup(&s));
	s.flags = TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_ECE | TCP_FLAG_CWR;
	assert_false(segment_ecn_setup(&s));
	s.flags = TCP_FLAG_SYN | TCP_FLAG_ECE;
	assert_false(segment_ecn_setup(&s));
	s.flags = TCP_FLAG_ACK | TCP_FLAG_ECE;
	assert_false(segment_ecn_setup(&s));
	assert_false(segment_ecn_setup(NULL));

	/* TFO data: a SYN with payload and the option */
	s.flags = TCP_FLAG_SYN;
	s.payload_len = 5;
	assert_false(segment_tfo_data(&s));
	s.opt.has_tfo = true;
	assert_true(segment_tfo_data(&s));
	s.payload_len = 0;
	assert_false(segment_tfo_data(&s));
	s.payload_len = 5;
	s.flags = TCP_FLAG_ACK;
	assert_false(segment_tfo_data(&s));
	assert_false(segment_tfo_data(NULL));
}

static void test_cut_options(void **state)
{
	/* kind 2 whose length byte is cut; a length byte saying 40 in a 4-byte list;
	 * the option list cut after EOL */
	static const uint8_t mss_then_ts[] = { 2, 4, 5, 0xb4, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2 };
	struct frame f;
	struct result r;

	(void)state;
	build(&(struct spec){ .link = LINK_RAW, .tcpopt = mss_then_ts, .tcpoptlen = 16, .paylen = 3 }, &f);
	for (uint32_t cut = f.l4_off + 20; cut < f.pay_off; cut++) {
		r = run_cut(&f, cut);
		assert_int_equal(r.st, DECODE_OK);
		assert_true(r.seg.opt.truncated);
		assert_false(r.seg.opt.malformed);
		assert_int_equal(r.seg.opt.has_mss, cut >= f.l4_off + 24);
		assert_false(r.seg.opt.has_timestamps);
		assert_int_equal(r.seg.opt.nop_count, cut >= f.l4_off + 26 ? 2 : (cut >= f.l4_off + 25 ? 1 : 0));
		assert_int_equal(r.seg.payload_len, 3);
	}
	/* an option that lies about its length is still malformed when cut after it */
	{
		static const uint8_t liar[] = { 1, 1, 8, 40 };
		build(&(struct spec){ .link = LINK_RAW, .tcpopt = liar, .tcpoptlen = 4 }, &f);
		r = run_cut(&f, f.pay_off - 1);
		assert_int_equal(r.st, DECODE_OK);
		assert_true(r.seg.opt.truncated);
		r = run_frame(&f);
		assert_int_equal(r.st, DECODE_OK);
		assert_true(r.seg.opt.malformed);
		assert_false(r.seg.opt.truncated);
	}
}

static void test_tunnel_names(void **state)
{
	struct segment s;
	char buf[64];

	(void)state;
	for (unsigned e = ENCAP_VLAN; e < ENCAP_COUNT; e++)
		assert_string_not_equal(segment_encap_name(e), "?");
	assert_string_equal(segment_encap_name(0), "?");
	assert_string_equal(segment_encap_name(200), "?");
	memset(&s, 0, sizeof(s));
	assert_string_equal(segment_tunnel_format(&s, "/", buf, sizeof(buf)), "");
	s.encap_count = 3;
	s.encap[0] = ENCAP_GRE;
	s.encap[1] = ENCAP_ERSPAN2;
	s.encap[2] = ENCAP_VLAN;
	assert_string_equal(segment_tunnel_format(&s, "/", buf, sizeof(buf)), "GRE/ERSPAN II/802.1Q");
	assert_string_equal(segment_tunnel_format(&s, NULL, buf, sizeof(buf)), "GRE/ERSPAN II/802.1Q");
	assert_string_equal(segment_tunnel_format(&s, "/", buf, 8), "GRE/ERS");   /* cut to fit */
	assert_string_equal(segment_tunnel_format(NULL, "/", buf, 8), "");
	assert_null(segment_tunnel_format(&s, "/", NULL, 8));
	s.encap_count = 200;                          /* never read past the array */
	(void)segment_tunnel_format(&s, "/", buf, sizeof(buf));
}

/* Every tunnel refuses to be the 9th nested encapsulation, and a first IP
 * fragment that ends inside a tunnel header is TRUNCATED (the rest is in
 * later fragments), not MALFORMED. */
static void test_nesting_limit_each_tunnel(void **state)
{
	struct pkt k;
	struct result r;

	(void)state;
	for (int kind = 0; kind < 12; kind++) {
		pkt_inner(&k, 4, 1);
		switch (kind) {
		case 0:   /* VXLAN */
			pkt_eth(&k, 0x0800);
			pkt_prepend(&k, (const uint8_t[]){ 0x08, 0, 0, 0, 0, 0, 1, 0 }, 8);
			pkt_udp(&k, 4789);
			pkt_ipv4(&k, 17);
			break;
		case 1:   /* VXLAN-GPE */
			pkt_prepend(&k, (const uint8_t[]){ 0x0c, 0, 0, 1, 0, 0, 1, 0 }, 8);
			pkt_udp(&k, 4790);
			pkt_ipv4(&k, 17);
			break;
		case 2:   /* Geneve */
			pkt_prepend(&k, (const uint8_t[]){ 0, 0, 0x08, 0x00, 0, 0, 1, 0 }, 8);
			pkt_udp(&k, 6081);
			pkt_ipv4(&k, 17);
			break;
		case 3:   /* GRE */
			pkt_gre(&k, 0, 0x0800);
			pkt_ipv4(&k, 47);
			break;
		case 4:   /* ERSPAN I: GRE pushes, then ERSPAN */
			pkt_eth(&k, 0x0800);
			pkt_gre(&k, 0, 0x88be);
			pkt_ipv4(&k, 47);
			break;
		case 5:   /* ERSPAN II */
			pkt_eth(&k, 0x0800);
			pkt_prepend(&k, (const uint8_t[]){ 0x10, 0, 0, 1, 0, 0, 0, 0 }, 8);
			pkt_gre(&k, 0x1000, 0x88be);
			pkt_ipv4(&k, 47);
			break;
		case 6:   /* ERSPAN III */
			pkt_eth(&k, 0x0800);
			pkt_prepend(&k, (const uint8_t[]){ 0x20, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0 }, 12);
			pkt_gre(&k, 0x1000, 0x22eb);
			pkt_ipv4(&k, 47);
			break;
		case 7:   /* PPTP */
			pkt_prepend(&k, (const uint8_t[]){ 0x00, 0x21 }, 2);
			pkt_gre(&k, 0x2001, 0x880b);
			pkt_ipv4(&k, 47);
			break;
		case 8:   /* 6in4 */
			pkt_inner(&k, 6, 1);
			pkt_ipv4(&k, 41);
			break;
		case 9:   /* MPLS in IP */
			pkt_mpls(&k, 1);
			pkt_ipv4(&k, 137);
			break;
		case 10:  /* PPPoE inside gretap */
			pkt_pppoe(&k, 0x0021);
			pkt_eth(&k, 0x8864);
			pkt_gre(&k, 0, 0x6558);
			pkt_ipv4(&k, 47);
			break;
		case 11:  /* a VLAN tag inside gretap */
			pkt_prepend(&k, (const uint8_t[]){ 0x81, 0x00, 0, 5, 0x08, 0x00 }, 6);
			pkt_prepend(&k, (const uint8_t[]){ 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 }, 12);
			pkt_gre(&k, 0, 0x6558);
			pkt_ipv4(&k, 47);
			break;
		}
		r = pkt_run(&k, k.len);
		if (r.st != DECODE_OK)
			fail_msg("tunnel %d alone: %s (%s)", kind, decode_status_name(r.st), r.err);
		/* wrapped in IP-in-IP until it no longer fits in 8 */
		for (int n = 0; n < 9; n++) {
			pkt_ipv4(&k, 4);
			r = pkt_run(&k, k.len);
			if (r.st == DECODE_MALFORMED)
				break;
			assert_int_equal(r.st, DECODE_OK);
		}
		assert_int_equal(r.st, DECODE_MALFORMED);
		assert_non_null(strstr(r.err, "nests more than 8"));
	}

	/* the outer IPv4 is a first fragment ending inside the tunnel's headers */
	for (int kind = 0; kind < 3; kind++) {
		uint32_t cut;

		pkt_inner(&k, 4, 20);
		if (kind == 0) {
			pkt_gre(&k, 0x3000, 0x0800);          /* ends inside the 12-byte GRE header */
			cut = 20 + 6;
		} else if (kind == 1) {
			pkt_prepend(&k, (const uint8_t[]){ 0x08, 0, 0, 0, 0, 0, 1, 0 }, 8);
			pkt_udp(&k, 4789);                    /* ends inside the VXLAN header */
			cut = 20 + 8 + 4;
		} else {
			pkt_ipv4(&k, 4);                      /* inner IPv4 header cut by the fragment */
			cut = 20 + 10;
		}
		pkt_ipv4(&k, kind == 0 ? 47 : (kind == 1 ? 17 : 4));
		if (kind == 1) {
			/* VXLAN carries Ethernet: rebuild with an inner Ethernet header */
			pkt_inner(&k, 4, 20);
			pkt_eth(&k, 0x0800);
			pkt_prepend(&k, (const uint8_t[]){ 0x08, 0, 0, 0, 0, 0, 1, 0 }, 8);
			pkt_udp(&k, 4789);
			pkt_ipv4(&k, 17);
		}
		pkt_data(&k)[6] = 0x20;                       /* MF, offset 0 */
		pkt_data(&k)[2] = (uint8_t)(cut >> 8);
		pkt_data(&k)[3] = (uint8_t)cut;
		r = run(k.link, pkt_data(&k), cut, cut);
		if (r.st != DECODE_TRUNCATED)
			fail_msg("fragment %d: %s (%s)", kind, decode_status_name(r.st), r.err);
		if (strstr(r.err, "fragment") == NULL)
			fail_msg("fragment %d: %s", kind, r.err);
	}
	/* ... ending inside an inner IPv6 header (6in4), an inner Ethernet header (gretap) */
	for (int kind = 0; kind < 2; kind++) {
		uint32_t cut = kind == 0 ? 20 + 30 : 20 + 4 + 10;

		pkt_inner(&k, kind == 0 ? 6 : 4, 20);
		if (kind == 1) {
			pkt_eth(&k, 0x0800);
			pkt_gre(&k, 0, 0x6558);
		}
		pkt_ipv4(&k, kind == 0 ? 41 : 47);
		pkt_data(&k)[6] = 0x20;
		pkt_data(&k)[2] = 0;
		pkt_data(&k)[3] = (uint8_t)cut;
		r = run(k.link, pkt_data(&k), cut, cut);
		assert_int_equal(r.st, DECODE_TRUNCATED);
		assert_non_null(strstr(r.err, "fragmentation"));
	}
	/* a first IPv6 fragment carrying IPv6 whose payload continues later */
	pkt_inner(&k, 6, 40);
	pkt_prepend(&k, (const uint8_t[]){ 41, 0, 0, 1, 0, 0, 0, 7 }, 8);   /* fragment header, M set */
	pkt_ipv6(&k, 44);
	pkt_data(&k)[4] = 0;
	pkt_data(&k)[5] = 8 + 40 + 30;                    /* the fragment holds 30 bytes of the inner packet */
	r = run(k.link, pkt_data(&k), 40 + 8 + 40 + 30, 40 + 8 + 40 + 30);
	assert_int_equal(r.st, DECODE_TRUNCATED);
	/* and a UDP tunnel whose UDP length runs into later fragments */
	pkt_inner(&k, 4, 40);
	pkt_prepend(&k, (const uint8_t[]){ 0, 0, 0x08, 0x00, 0, 0, 1, 0 }, 8);
	pkt_udp(&k, 6081);
	pkt_ipv4(&k, 17);
	pkt_data(&k)[6] = 0x20;
	pkt_data(&k)[3] = 20 + 8 + 8 + 20 + 10;
	pkt_data(&k)[2] = 0;
	r = run(k.link, pkt_data(&k), 20 + 8 + 8 + 20 + 10, 20 + 8 + 8 + 20 + 10);
	assert_int_equal(r.st, DECODE_TRUNCATED);

	/* an IPv6 jumbo hop-by-hop header cut by the capture: the frame's length */
	{
		static uint8_t j[100];

		memset(j, 0, sizeof(j));
		j[0] = 0x60;
		j[40] = 6;
		j[41] = 1;                                    /* 16 bytes, only 1 captured */
		r = run(LINK_RAW, j, 41, 200);
		assert_int_equal(r.st, DECODE_TRUNCATED);
		r = run(LINK_RAW, j, 50, 200);                /* 10 of 16 captured */
		assert_int_equal(r.st, DECODE_TRUNCATED);
	}
}

/* ---- segment.c helpers -------------------------------------------------------------------- */

static void test_ip_addr_format_parse(void **state)
{
	struct ip_addr a, b;
	char buf[46];

	(void)state;
	assert_int_equal(ip_addr_parse("198.18.0.1", &a), 0);
	assert_int_equal(a.family, 4);
	assert_memory_equal(a.bytes, V4_SRC, 4);
	assert_string_equal(ip_addr_format(&a, buf, sizeof(buf)), "198.18.0.1");

	assert_int_equal(ip_addr_parse("2001:DB8:0:0::1", &b), 0);
	assert_int_equal(b.family, 6);
	assert_memory_equal(b.bytes, V6_SRC, 16);
	assert_string_equal(ip_addr_format(&b, buf, sizeof(buf)), "2001:db8::1");
	assert_false(ip_addr_equal(&a, &b));

	assert_int_equal(ip_addr_parse("::ffff:198.18.0.1", &b), 0);
	assert_int_equal(b.family, 6);
	assert_string_equal(ip_addr_format(&b, buf, sizeof(buf)), "::ffff:198.18.0.1");
	assert_false(ip_addr_equal(&a, &b));       /* a mapped address is still IPv6 */

	/* dotted input is accepted in IPv6; the text comes back canonical (RFC 5952) */
	assert_int_equal(ip_addr_parse("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", &b), 0);
	assert_string_equal(ip_addr_format(&b, buf, sizeof(buf)), "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_int_equal(ip_addr_parse("2001:0DB8:0000:0000:0001:0000:0000:0001", &b), 0);
	assert_string_equal(ip_addr_format(&b, buf, sizeof(buf)), "2001:db8::1:0:0:1");
	/* cut to a short buffer, still terminated */
	assert_string_equal(ip_addr_format(&a, buf, 5), "198.");
	buf[0] = 'z';
	ip_addr_format(&a, buf, 0);
	assert_int_equal(buf[0], 'z');
	b.family = 9;
	assert_string_equal(ip_addr_format(&b, buf, sizeof(buf)), "?");

	/* bad input leaves out untouched */
	b = a;
	assert_int_equal(ip_addr_parse("", &b), -1);
	assert_int_equal(ip_addr_parse("198.18.0", &b), -1);
	assert_int_equal(ip_addr_parse("198.18.0.256", &b), -1);
	assert_int_equal(ip_addr_parse("198.18.0.1 ", &b), -1);
	assert_int_equal(ip_addr_parse("localhost", &b), -1);
	assert_int_equal(ip_addr_parse("2001:db8:::1", &b), -1);
	assert_int_equal(ip_addr_parse("[::1]", &b), -1);
	assert_int_equal(ip_addr_parse("fe80::1%lo", &b), -1);
	assert_int_equal(ip_addr_parse(NULL, &b), -1);
	assert_true(ip_addr_equal(&a, &b));

	/* equality: family matters; IPv4 ignores the unused 12 bytes */
	b = a;
	memset(b.bytes + 4, 0xaa, 12);
	assert_true(ip_addr_equal(&a, &b));
	b.bytes[3] ^= 1;
	assert_false(ip_addr_equal(&a, &b));
	assert_int_equal(ip_addr_parse("::1", &a), 0);
	b = a;
	b.bytes[15] = 2;
	assert_false(ip_addr_equal(&a, &b));
	b.bytes[15] = 1;
	assert_true(ip_addr_equal(&a, &b));
	b.family = 4;
	assert_false(ip_addr_equal(&a, &b));
	assert_true(ip_addr_equal(NULL, NULL));
	assert_false(ip_addr_equal(&a, NULL));
}

static void test_tcp_flags_format(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(tcp_flags_format(0, "|", buf, sizeof(buf)), "none");
	assert_string_equal(tcp_flags_format(TCP_FLAG_SYN, "|", buf, sizeof(buf)), "SYN");
	assert_string_equal(tcp_flags_format(TCP_FLAG_ACK | TCP_FLAG_SYN, ",", buf, sizeof(buf)), "SYN,ACK");
	assert_string_equal(tcp_flags_format(TCP_FLAG_ACK | TCP_FLAG_FIN, " ", buf, sizeof(buf)), "FIN ACK");
	assert_string_equal(tcp_flags_format(TCP_FLAG_RST | TCP_FLAG_ACK, "", buf, sizeof(buf)), "RSTACK");
	assert_string_equal(tcp_flags_format(TCP_FLAG_PSH | TCP_FLAG_ACK, NULL, buf, sizeof(buf)), "PSH|ACK");
	assert_string_equal(tcp_flags_format(0xff, "|", buf, sizeof(buf)), "SYN|FIN|RST|PSH|ACK|URG|ECE|CWR");
	assert_string_equal(tcp_flags_format(TCP_FLAG_ECE | TCP_FLAG_CWR | TCP_FLAG_URG, "+", buf, sizeof(buf)),
			    "URG+ECE+CWR");
	/* cut to the buffer, always terminated */
	assert_string_equal(tcp_flags_format(TCP_FLAG_SYN | TCP_FLAG_ACK, "|", buf, 6), "SYN|A");
	assert_string_equal(tcp_flags_format(TCP_FLAG_SYN | TCP_FLAG_ACK, "|", buf, 4), "SYN");
	assert_string_equal(tcp_flags_format(0xff, ", ", buf, 2), "S");
	assert_string_equal(tcp_flags_format(0, "|", buf, 3), "no");
	assert_string_equal(tcp_flags_format(TCP_FLAG_SYN, "|", buf, 1), "");
	buf[0] = 'z';
	tcp_flags_format(TCP_FLAG_SYN, "|", buf, 0);
	assert_int_equal(buf[0], 'z');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet_ipv4),
		cmocka_unit_test(test_ethernet_ipv6),
		cmocka_unit_test(test_vlan_tags),
		cmocka_unit_test(test_linux_cooked),
		cmocka_unit_test(test_raw_links),
		cmocka_unit_test(test_bsd_loopback),
		cmocka_unit_test(test_unknown_link_and_empty),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_ipv4_errors),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_ethernet_padding),
		cmocka_unit_test(test_snaplen_cut_payload),
		cmocka_unit_test(test_ipv6_extension_headers),
		cmocka_unit_test(test_tcp_header_errors),
		cmocka_unit_test(test_tcp_flags_and_fields),
		cmocka_unit_test(test_options_each_kind),
		cmocka_unit_test(test_options_sack),
		cmocka_unit_test(test_options_eol_and_malformed),
		cmocka_unit_test(test_options_in_frames),
		cmocka_unit_test(test_errbuf_null_and_status_names),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_random_mutations),
		cmocka_unit_test(test_ip_addr_format_parse),
		cmocka_unit_test(test_tcp_flags_format),
		cmocka_unit_test(test_tunnel_vxlan_geneve),
		cmocka_unit_test(test_tunnel_gre_erspan),
		cmocka_unit_test(test_tunnel_ip_in_ip_and_nesting),
		cmocka_unit_test(test_tunnel_mpls_pppoe_qinq),
		cmocka_unit_test(test_link_types_new),
		cmocka_unit_test(test_offloads),
		cmocka_unit_test(test_named_options),
		cmocka_unit_test(test_cut_options),
		cmocka_unit_test(test_tunnel_names),
		cmocka_unit_test(test_nesting_limit_each_tunnel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
