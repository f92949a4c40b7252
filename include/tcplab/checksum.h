/*
 * checksum.h — the TCP checksum (RFC 9293 §3.1 "Checksum"): the 16-bit
 * one's complement of the one's complement sum of a pseudo-header (RFC 9293
 * §3.1 for IPv4, RFC 8200 §8.1 for IPv6), the TCP header and the data.
 *
 * Pure: no I/O, no globals.  decode.c calls checksum_classify() once per
 * segment and stores the verdict in struct segment (csum_status,
 * csum_expected), so that the verdict survives the packet buffer (replay
 * --summary hands segments to another thread without their bytes).
 */
#ifndef TCPLAB_CHECKSUM_H
#define TCPLAB_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#include "tcplab/segment.h"

/* What tcplab could tell about a segment's TCP checksum. */
enum tcp_csum_status {
	TCP_CSUM_UNKNOWN = 0,   /* not classified (a source that keeps no bytes) */
	TCP_CSUM_OK,            /* verified against the pseudo-header */
	TCP_CSUM_BAD,           /* wrong: csum_expected holds the right value */
	TCP_CSUM_PARTIAL,       /* the field holds only the pseudo-header sum: the sending
				   host left the checksum to the NIC (offload), and the
				   capture was taken on that host before the NIC filled it */
	TCP_CSUM_CUT,           /* not checked: the snapshot length cut the segment */
	TCP_CSUM_FRAGMENT,      /* not checked: the segment is split over IP fragments */
};

/*
 * One's complement sum (RFC 1071) of n bytes at p, added to `sum`, not folded
 * and not complemented.  p may be NULL only when n is 0.
 */
uint64_t checksum_add(uint64_t sum, const uint8_t *p, size_t n);

/* Folds a sum from checksum_add() to 16 bits (not complemented). */
uint16_t checksum_fold(uint64_t sum);

/*
 * Sum of the pseudo-header for a TCP segment of tcp_len bytes (header and
 * data) between src and dst (both of the same family, 4 or 6).
 */
uint64_t checksum_pseudo(const struct ip_addr *src, const struct ip_addr *dst, uint32_t tcp_len);

/*
 * Classifies the checksum of a TCP segment of tcp_len bytes (as the IP
 * header announces) of which captured bytes are at tcp (captured may be
 * less: TCP_CSUM_CUT).  `fragment`: the IP header says more fragments follow
 * (TCP_CSUM_FRAGMENT).  *expected receives the right checksum with
 * TCP_CSUM_BAD (and 0 otherwise).  tcp must hold at least 18 bytes when
 * captured >= tcp_len; src/dst give the pseudo-header.
 */
enum tcp_csum_status checksum_classify(const struct ip_addr *src, const struct ip_addr *dst,
				       const uint8_t *tcp, uint32_t tcp_len, uint32_t captured,
				       int fragment, uint16_t *expected);

/* "ok", "bad", "offloaded", "cut", "fragment", "unknown": the stable name used in JSON. */
const char *checksum_status_name(enum tcp_csum_status s);

#endif
