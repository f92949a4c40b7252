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
	/* Options known by name (issue 13); they are not counted in unknown_count. */
	bool has_tfo;                             /* TCP Fast Open, kind 34 (RFC 7413 §4.1.1) or 254/0xF989 */
	uint8_t tfo_cookie_len;                   /* 0: a cookie request */
	uint8_t tfo_cookie[16];
	bool has_mptcp;                           /* Multipath TCP, kind 30 (RFC 8684 §3) */
	uint8_t mptcp_subtype;                    /* the option's first 4 bits */
	bool has_tcp_ao;                          /* TCP Authentication Option, kind 29 (RFC 5925 §2.2) */
	uint8_t ao_keyid, ao_rnextkeyid;
	bool has_md5;                             /* TCP MD5 signature, kind 19 (RFC 2385 §3.0) */
	bool truncated;                           /* the capture cut the option list: what is here was decoded */
};

/* Encapsulations the decoder peels (struct segment's encap[]). */
enum segment_encap {
	ENCAP_NONE = 0,
	ENCAP_VLAN,        /* one IEEE 802.1Q tag */
	ENCAP_QINQ,        /* stacked 802.1Q / 802.1ad tags (QinQ) */
	ENCAP_MPLS,        /* an MPLS label stack (RFC 3032) */
	ENCAP_PPPOE,       /* PPPoE session (RFC 2516) */
	ENCAP_GRE,         /* GRE (RFC 2784, 2890; version 1: RFC 2637) */
	ENCAP_ERSPAN1,     /* Cisco ERSPAN type I (GRE 0x88be without sequence number) */
	ENCAP_ERSPAN2,     /* ERSPAN type II */
	ENCAP_ERSPAN3,     /* ERSPAN type III */
	ENCAP_VXLAN,       /* VXLAN, UDP 4789 (RFC 7348) */
	ENCAP_GENEVE,      /* Geneve, UDP 6081 (RFC 8926) */
	ENCAP_IPIP,        /* IPv4 in IPv4 (RFC 2003) */
	ENCAP_6IN4,        /* IPv6 in IPv4 (RFC 4213) */
	ENCAP_4IN6,        /* IPv4 in IPv6 (RFC 2473) */
	ENCAP_6IN6,        /* IPv6 in IPv6 (RFC 2473) */
	ENCAP_VXLAN_GPE,   /* VXLAN-GPE, UDP 4790 */
	ENCAP_PPP,         /* PPP inside a tunnel (PPTP's enhanced GRE) */
	ENCAP_COUNT
};
#define SEGMENT_MAX_ENCAP 8

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
	/* Encapsulations peeled to reach this TCP header, outermost first
	 * (enum segment_encap; issue 13).  encap_count may exceed
	 * SEGMENT_MAX_ENCAP only as far as the decoder's own limit: the names
	 * past the array are not kept. */
	uint8_t encap_count;
	uint8_t encap[SEGMENT_MAX_ENCAP];
	/* Raw headers for --header/--hex and the checksum check (issue 12).
	 * ip_hdr and tcp_hdr point into the caller's packet buffer like
	 * payload (NULL when the source does not keep them); tcp_hdr is
	 * followed by the payload_captured bytes of payload. */
	const uint8_t *ip_hdr;
	const uint8_t *tcp_hdr;
	uint16_t ip_hdr_len;     /* IPv4 header with options; IPv6 40 + extension headers */
	uint16_t tcp_hdr_len;    /* data offset x 4 */
	uint16_t ip_total_len;   /* IPv4 total length; IPv6 40 + payload length */
	uint8_t ip_version;      /* 4 or 6; 0 when unknown */
	bool ip_df;              /* IPv4 don't-fragment bit */
	uint8_t csum_status;     /* enum tcp_csum_status (checksum.h), set by decode */
	uint16_t csum_expected;  /* with TCP_CSUM_BAD: the value the checksum field should hold */
	bool udp;                /* decode: a UDP datagram (RFC 768), returned as DECODE_NOT_TCP:
				    addresses, ports and payload* are set, TCP fields are zero */
	/* What the segment's own sender says it was: set by a live role for
	 * the segments its sender (tcb.h) produced, never by decode.  With
	 * sender_known, the analysis takes the retransmission cause
	 * (TL_MARK_FAST_RETRANS, TL_MARK_RTO_RETRANS) and TL_MARK_ZERO_WINDOW_PROBE
	 * from sender_marks instead of inferring them from the wire (one
	 * source per fact: docs/json-schema.md, "Marks"). */
	bool sender_known;
	uint16_t sender_marks;   /* enum tl_mark bits (analysis.h) */
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
