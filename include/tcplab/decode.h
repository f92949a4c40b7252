/*
 * decode.h — bytes of one captured frame → struct segment.
 *
 * Link layer → IP (v4 with options, v6 with extension headers) → TCP with
 * options.  Pure: no I/O, no allocation, no globals.  Never trusts a length
 * field: every read is checked against the captured length, and every header
 * length is checked against what encloses it.
 */
#ifndef TCPLAB_DECODE_H
#define TCPLAB_DECODE_H

#include "tcplab/segment.h"

/*
 * Link types, numbered as pcap's LINKTYPE_* / DLT_* values so a capture
 * module can pass pcap_datalink() through unchanged (decode does not include
 * pcap.h: only capture owns libpcap).
 */
enum link_type {
	LINK_NULL        = 0,   /* BSD loopback: 4-byte AF in host byte order of the writer */
	LINK_ETHERNET    = 1,   /* Ethernet II, with 802.1Q / 802.1ad tags skipped */
	LINK_RAW_DLT12   = 12,  /* DLT_RAW on Linux / most BSDs: raw IP */
	LINK_RAW_DLT14   = 14,  /* DLT_RAW on OpenBSD */
	LINK_RAW         = 101, /* LINKTYPE_RAW: raw IPv4 or IPv6 */
	LINK_LOOP        = 108, /* OpenBSD loopback: 4-byte AF in network byte order */
	LINK_LINUX_SLL   = 113, /* Linux cooked capture v1 */
	LINK_IPV4        = 228, /* raw IPv4 only */
	LINK_IPV6        = 229, /* raw IPv6 only */
	LINK_LINUX_SLL2  = 276, /* Linux cooked capture v2 */
	/* issue 13 */
	LINK_PPP         = 9,   /* PPP: optional 0xff 0x03, then the PPP protocol (RFC 1661) */
	LINK_PPP_HDLC    = 50,  /* PPP in HDLC-like framing (RFC 1662) */
	LINK_PPP_ETHER   = 51,  /* PPPoE session header, then PPP (RFC 2516) */
	LINK_C_HDLC      = 104, /* Cisco HDLC: address, control, ethertype */
	LINK_NFLOG       = 239, /* Linux NFLOG: family, version, resource id, TLVs */
	LINK_IPOIB       = 242, /* IP over InfiniBand: ethertype, 2 reserved bytes (RFC 4391 §6) */
};

enum decode_status {
	DECODE_OK          =  0,
	DECODE_NOT_IP      = -1, /* link payload is ARP, LLDP, ... : skip and count */
	DECODE_NOT_TCP     = -2, /* IP, but not TCP (or a non-first fragment) : skip and count */
	DECODE_TRUNCATED   = -3, /* a header is cut by the snapshot length */
	DECODE_MALFORMED   = -4, /* a length or version field lies */
	DECODE_BAD_LINK    = -5, /* link type tcplab does not know */
};

#define DECODE_ERRBUF_SIZE 160

/*
 * Decodes one frame of link type `link`.
 *   bytes/caplen: what was captured; wirelen: the frame's length on the wire
 *   (>= caplen; pass caplen when unknown).
 *   ts_ns is copied into out->ts_ns.
 * On DECODE_OK, *out is filled; out->payload points into bytes.
 * On any other status, *out is unspecified and errbuf (may be NULL) holds one
 * sentence saying what was wrong, e.g. "IPv4 header length 60 exceeds the 40
 * captured bytes" — except that on DECODE_NOT_TCP with out->udp true, out
 * holds a UDP datagram whose header was whole and consistent (addresses,
 * ports, payload_len, payload_captured, payload, ts_ns, ttl).
 */
enum decode_status segment_decode(int link, const uint8_t *bytes, uint32_t caplen,
				  uint32_t wirelen, uint64_t ts_ns, struct segment *out,
				  char errbuf[DECODE_ERRBUF_SIZE]);

/*
 * Decodes a TCP option list (RFC 9293 §3.2; MSS, NOP, EOL, window scale,
 * SACK-permitted, SACK, timestamps; others counted in unknown_count).
 * Stops at EOL; sets opt->malformed when an option's length is < 2 or runs
 * past len, keeping what was decoded before it.
 */
void tcp_options_decode(const uint8_t *p, uint32_t len, struct tcp_options *opt);

/* Name of an encapsulation ("VXLAN", "GRE", ...; "?" for an unknown value). */
const char *segment_encap_name(unsigned encap);

/*
 * Writes seg's encapsulations, outermost first, joined by sep ("GRE/ERSPAN
 * II/802.1Q" with "/"), into buf (always terminated when buflen > 0);
 * returns buf ("" when the segment came without any).
 */
const char *segment_tunnel_format(const struct segment *seg, const char *sep, char *buf,
				  size_t buflen);

/* True for an ECN-setup SYN (SYN, ECE and CWR, no ACK) or ECN-setup SYN-ACK
 * (SYN, ACK and ECE without CWR), RFC 3168 §6.1.1. */
bool segment_ecn_setup(const struct segment *seg);

/* True for a SYN that carries data together with a TCP Fast Open option
 * (RFC 7413 §3: the data is delivered before the handshake completes). */
bool segment_tfo_data(const struct segment *seg);

/* Name of an MPTCP option subtype (RFC 8684 §3: "MP_CAPABLE", ...; "?"). */
const char *mptcp_subtype_name(unsigned subtype);

/* Human name of a decode status ("truncated", ...). */
const char *decode_status_name(enum decode_status s);

#endif
