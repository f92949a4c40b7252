/*
 * test_udp.c — `--udp`: the decoder's UDP flag and the datagram event.
 *
 * UDP decoding is one small function in decode.c: a UDP datagram still
 * returns DECODE_NOT_TCP (the TCP pipeline skips it as before) but sets
 * out->udp with its ports and payload when the 8-byte header is whole and
 * its length agrees with the IP header.  The renderers print a
 * TL_EV_DATAGRAM as one text line / one JSON object, checked whole here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcplab/decode.h"
#include "tcplab/event.h"
#include "tcplab/render.h"

/* Ethernet + IPv4 (20) + UDP (8) + "hello" */
static size_t frame_v4(uint8_t *f, uint8_t proto, uint16_t ip_total, uint16_t udp_len)
{
	static const uint8_t hdr[] = {
		/* Ethernet: dst, src, type IPv4 */
		2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00,
		/* IPv4: ver/ihl, tos, total, id, frag, ttl, proto, csum, src, dst */
		0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, 17, 0, 0, 198, 18, 77, 1, 198, 18, 77, 2,
		/* UDP: 40000 → 9999, length, checksum */
		0x9c, 0x40, 0x27, 0x0f, 0, 0, 0, 0,
		'h', 'e', 'l', 'l', 'o',
	};
	memcpy(f, hdr, sizeof(hdr));
	f[14 + 9] = proto;
	f[14 + 2] = (uint8_t)(ip_total >> 8);
	f[14 + 3] = (uint8_t)ip_total;
	f[34 + 4] = (uint8_t)(udp_len >> 8);
	f[34 + 5] = (uint8_t)udp_len;
	return sizeof(hdr);
}

static void test_udp_v4_decoded_and_flagged(void **state)
{
	uint8_t f[64];
	struct segment s;
	size_t n = frame_v4(f, 17, 33, 13);
	(void)state;

	assert_int_equal(segment_decode(LINK_ETHERNET, f, (uint32_t)n, (uint32_t)n, 42, &s, NULL),
			 DECODE_NOT_TCP);
	assert_true(s.udp);
	assert_int_equal(s.sport, 40000);
	assert_int_equal(s.dport, 9999);
	assert_int_equal(s.payload_len, 5);
	assert_int_equal(s.payload_captured, 5);
	assert_memory_equal(s.payload, "hello", 5);
	assert_int_equal(s.src.family, 4);
	assert_int_equal(s.ts_ns, 42);
	assert_int_equal(s.flags, 0);
}

static void test_udp_cut_by_capture_keeps_header(void **state)
{
	uint8_t f[64];
	struct segment s;
	(void)frame_v4(f, 17, 33, 13);
	(void)state;

	/* 2 payload bytes captured of 5 */
	assert_int_equal(segment_decode(LINK_ETHERNET, f, 44, 47, 0, &s, NULL), DECODE_NOT_TCP);
	assert_true(s.udp);
	assert_int_equal(s.payload_len, 5);
	assert_int_equal(s.payload_captured, 2);
	/* UDP header itself cut: not flagged (the decoder reads UDP headers for
	 * tunnels, so a cut one is reported as cut, like any header) */
	assert_int_equal(segment_decode(LINK_ETHERNET, f, 40, 47, 0, &s, NULL), DECODE_TRUNCATED);
	assert_false(s.udp);
}

static void test_udp_lying_length_not_flagged(void **state)
{
	uint8_t f[64];
	struct segment s;
	size_t n;
	(void)state;

	n = frame_v4(f, 17, 33, 14);        /* UDP says 14, IP leaves 13 */
	assert_int_equal(segment_decode(LINK_ETHERNET, f, (uint32_t)n, (uint32_t)n, 0, &s, NULL),
			 DECODE_NOT_TCP);
	assert_false(s.udp);
	n = frame_v4(f, 17, 33, 7);         /* shorter than its own header */
	assert_int_equal(segment_decode(LINK_ETHERNET, f, (uint32_t)n, (uint32_t)n, 0, &s, NULL),
			 DECODE_NOT_TCP);
	assert_false(s.udp);
	n = frame_v4(f, 47, 33, 13);        /* GRE, not UDP: decoded as a tunnel, no IP inside */
	assert_int_not_equal(segment_decode(LINK_ETHERNET, f, (uint32_t)n, (uint32_t)n, 0, &s, NULL),
			     DECODE_OK);
	assert_false(s.udp);
	n = frame_v4(f, 17, 33, 9);         /* UDP length shorter than IP's: the UDP length rules */
	assert_int_equal(segment_decode(LINK_ETHERNET, f, (uint32_t)n, (uint32_t)n, 0, &s, NULL),
			 DECODE_NOT_TCP);
	assert_true(s.udp);
	assert_int_equal(s.payload_len, 1);
}

static void test_udp_v6(void **state)
{
	uint8_t f[80];
	struct segment s;
	static const uint8_t hdr[] = {
		0x60, 0, 0, 0, 0, 11, 17, 64,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2,
		0x9c, 0x40, 0x27, 0x0f, 0, 11, 0, 0, 'h', 'e', 'y',
	};
	(void)state;
	memcpy(f, hdr, sizeof(hdr));
	assert_int_equal(segment_decode(LINK_RAW, f, sizeof(hdr), sizeof(hdr), 0, &s, NULL),
			 DECODE_NOT_TCP);
	assert_true(s.udp);
	assert_int_equal(s.src.family, 6);
	assert_int_equal(s.payload_len, 3);
}

static char *render(bool json, const struct segment *s, uint64_t t_ns, bool show_conn)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct render_options ro = { .show_conn = show_conn };
	struct renderer *r;
	struct tl_event ev;

	assert_non_null(f);
	r = json ? render_json_new(f, &ro) : render_text_new(f, &ro);
	assert_non_null(r);
	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_EV_DATAGRAM;
	ev.t_ns = t_ns;
	ev.u.datagram.seg = s;
	ev.u.datagram.protocol = "udp";
	render_emit(r, &ev);
	render_finish(r);
	render_destroy(r);
	fclose(f);
	return buf;
}

static void test_datagram_rendered(void **state)
{
	uint8_t f[64];
	struct segment s;
	size_t n = frame_v4(f, 17, 33, 13);
	char *out;
	(void)state;

	assert_int_equal(segment_decode(LINK_ETHERNET, f, (uint32_t)n, (uint32_t)n, 0, &s, NULL),
			 DECODE_NOT_TCP);
	out = render(true, &s, 1500000, false);
	assert_string_equal(out,
		"{\"event\":\"datagram\",\"protocol\":\"udp\",\"conn\":0,\"t\":0.001500,"
		"\"src\":\"198.18.77.1:40000\",\"dst\":\"198.18.77.2:9999\",\"src_addr\":\"198.18.77.1\","
		"\"src_port\":40000,\"dst_addr\":\"198.18.77.2\",\"dst_port\":9999,\"len\":5,"
		"\"payload\":\"hello\"}\n");
	free(out);
	out = render(false, &s, 1500000, true);
	assert_string_equal(out,
		"[-]     0.001500  UDP    198.18.77.1:40000 → 198.18.77.2:9999  len=5  \"hello\"\n");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_udp_v4_decoded_and_flagged),
		cmocka_unit_test(test_udp_cut_by_capture_keeps_header),
		cmocka_unit_test(test_udp_lying_length_not_flagged),
		cmocka_unit_test(test_udp_v6),
		cmocka_unit_test(test_datagram_rendered),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
