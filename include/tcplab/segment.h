/*
 * segment.h — one TCP segment as tcplab sees it, independent of where it
 * came from (live capture, pcap file) and of any library.
 *
 * struct segment is the currency of the whole pipeline: decode fills it,
 * flow/tcp_fsm consume it, craft builds packets from the same fields.
 */
#ifndef TCPLAB_SEGMENT_H
#define TCPLAB_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TCP header flag bits (RFC 9293 §3.1). */
enum {
	TCP_FLAG_FIN = 0x01,
	TCP_FLAG_SYN = 0x02,
	TCP_FLAG_RST = 0x04,
	TCP_FLAG_PSH = 0x08,
	TCP_FLAG_ACK = 0x10,
	TCP_FLAG_URG = 0x20,
	TCP_FLAG_ECE = 0x40,
	TCP_FLAG_CWR = 0x80,
};

#define TCP_MAX_SACK_BLOCKS 4

/* Decoded TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018). */
struct tcp_options {
	bool has_mss, has_wscale, has_sack_perm, has_timestamps;
	uint16_t mss;
	uint8_t wscale;
	uint32_t ts_val, ts_ecr;
	uint8_t sack_count;                       /* SACK blocks present */
	uint32_t sack[TCP_MAX_SACK_BLOCKS][2];    /* left, right edges */
	uint8_t nop_count;
	uint8_t unknown_count;                    /* options of other kinds, skipped */
	bool malformed;                           /* option list ran past the header: rest ignored */
};

/* An IPv4 or IPv6 address; IPv4 uses the first 4 bytes. */
struct ip_addr {
	uint8_t family;   /* 4 or 6 */
	uint8_t bytes[16];
};

struct segment {
	uint64_t ts_ns;          /* capture time, ns since the epoch */
	struct ip_addr src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;           /* TCP_FLAG_* */
	uint16_t window;         /* raw header value, not scaled */
	uint16_t urgent;
	uint32_t payload_len;    /* from the IP length fields: bytes on the wire */
	uint32_t payload_captured; /* of those, how many are in the capture */
	const uint8_t *payload;  /* points into the caller's packet buffer; NULL when none captured */
	struct tcp_options opt;
	uint8_t ttl;             /* IPv4 TTL or IPv6 hop limit */
	uint16_t ip_id;          /* IPv4 identification (0 for IPv6) */
	uint32_t wire_len;       /* whole frame length on the wire */
	bool udp;                /* decode: a UDP datagram (RFC 768), returned as DECODE_NOT_TCP:
				    addresses, ports and payload* are set, TCP fields are zero */
};

/* Sequence-space comparisons modulo 2^32 (RFC 9293 §3.4). */
static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool seq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

/* Sequence space a segment occupies: payload plus one for SYN and for FIN. */
static inline uint32_t segment_seq_len(const struct segment *s)
{
	return s->payload_len + ((s->flags & TCP_FLAG_SYN) ? 1u : 0u) + ((s->flags & TCP_FLAG_FIN) ? 1u : 0u);
}

/* True when both addresses are equal (same family, same bytes). */
bool ip_addr_equal(const struct ip_addr *a, const struct ip_addr *b);

/* Formats addr into buf (INET6_ADDRSTRLEN is enough: 46 bytes); returns buf. */
const char *ip_addr_format(const struct ip_addr *a, char *buf, size_t buflen);

/* Parses an IPv4 or IPv6 literal; 0 ok, -1 when text is not one. */
int ip_addr_parse(const char *text, struct ip_addr *out);

/*
 * Writes the flags as names joined by sep ("SYN", "ACK", ... in the order
 * tcpdump users expect: SYN FIN RST PSH ACK URG ECE CWR) into buf;
 * returns buf.  "none" when no flag is set.
 */
const char *tcp_flags_format(uint8_t flags, const char *sep, char *buf, size_t buflen);

#endif
