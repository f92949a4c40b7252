/*
 * checksum.c — TCP checksum verification (contracts in checksum.h).
 *
 * The sum is RFC 1071's: 16-bit big-endian words added in a wide
 * accumulator and folded at the end, so the byte order of the host does not
 * matter and no carry is lost before the fold.
 */
#include "tcplab/checksum.h"

#include <string.h>

/*
 * Adds n bytes as big-endian 16-bit words (an odd last byte padded with 0).
 * The bulk is summed 8 bytes at a time in the host's byte order with an
 * end-around carry, folded, then byte-swapped on a little-endian host: the
 * one's complement sum does not depend on byte order (RFC 1071 §2 (B)), and
 * this runs for every segment decode sees.
 */
uint64_t checksum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	uint64_t acc = 0;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, p + i, 8);
		acc += w;
		if (acc < w)
			acc++;          /* end-around carry */
	}
	if (acc != 0) {
		uint64_t t = (acc >> 32) + (acc & 0xffffffffu);
		uint16_t f;

		while (t >> 16)
			t = (t >> 16) + (t & 0xffffu);
		f = (uint16_t)t;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		f = (uint16_t)(f << 8 | f >> 8);
#endif
		sum += f;
	}
	for (; i + 2 <= n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < n)
		sum += (uint32_t)p[i] << 8;
	return sum;
}

/* Folds the carries back in until 16 bits are left (RFC 1071 §2 (4)). */
uint16_t checksum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)sum;
}

/* RFC 9293 §3.1 (IPv4: src, dst, zero, PTCL 6, TCP length) and RFC 8200
 * §8.1 (IPv6: src, dst, 32-bit length, 3 zero bytes, next header 6). */
uint64_t checksum_pseudo(const struct ip_addr *src, const struct ip_addr *dst, uint32_t tcp_len)
{
	size_t alen = src->family == 6 ? 16 : 4;
	uint64_t sum = 0;

	sum = checksum_add(sum, src->bytes, alen);
	sum = checksum_add(sum, dst->bytes, alen);
	sum += 6u;                         /* protocol TCP */
	sum += tcp_len >> 16;
	sum += tcp_len & 0xffffu;
	return sum;
}

enum tcp_csum_status checksum_classify(const struct ip_addr *src, const struct ip_addr *dst,
				       const uint8_t *tcp, uint32_t tcp_len, uint32_t captured,
				       int fragment, uint16_t *expected)
{
	uint64_t pseudo, sum;
	uint16_t field, folded_pseudo, inverted;

	*expected = 0;
	if (fragment)
		return TCP_CSUM_FRAGMENT;
	if (tcp == NULL || captured < tcp_len || tcp_len < 18)
		return TCP_CSUM_CUT;
	pseudo = checksum_pseudo(src, dst, tcp_len);
	sum = checksum_add(pseudo, tcp, tcp_len);
	if (checksum_fold(sum) == 0xffffu)
		return TCP_CSUM_OK;
	field = (uint16_t)(tcp[16] << 8 | tcp[17]);
	/* Linux with CHECKSUM_PARTIAL stores ~csum_tcpudp_magic(.., 0): the
	 * folded pseudo-header sum, for the NIC to add the rest to.  A tap on
	 * the sending host sees the segment before the NIC does. */
	folded_pseudo = checksum_fold(pseudo);
	inverted = (uint16_t)(0xffffu - folded_pseudo);
	if (field == folded_pseudo || field == inverted)
		return TCP_CSUM_PARTIAL;
	/* The right value: the sum without the field, complemented. */
	sum -= field;
	*expected = (uint16_t)(0xffffu - checksum_fold(sum));
	return TCP_CSUM_BAD;
}

const char *checksum_status_name(enum tcp_csum_status s)
{
	switch (s) {
	case TCP_CSUM_OK: return "ok";
	case TCP_CSUM_BAD: return "bad";
	case TCP_CSUM_PARTIAL: return "offloaded";
	case TCP_CSUM_CUT: return "cut";
	case TCP_CSUM_FRAGMENT: return "fragment";
	case TCP_CSUM_UNKNOWN: break;
	}
	return "unknown";
}
