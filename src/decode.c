/*
 * decode.c — one captured frame → struct segment.
 *
 * Peels the link layer (Ethernet with any stack of 802.1Q/802.1ad tags and
 * 802.3/SNAP, Linux cooked v1/v2, raw IP, BSD loopback, PPP, Cisco HDLC,
 * NFLOG, IP over InfiniBand), then any tunnels (MPLS, PPPoE, GRE with
 * ERSPAN I/II/III, VXLAN, VXLAN-GPE, Geneve, IP-in-IP, 6in4, 4in6, 6in6),
 * then IPv4 (with options) or IPv6 (walking extension headers), then the
 * TCP header and its options.  The segment is the innermost TCP segment;
 * the encapsulations peeled on the way are recorded in out->encap[].
 *
 * Everything in a captured frame is untrusted.  Two lengths bound every read:
 *   - what was captured (the snapshot length may cut a frame anywhere), and
 *   - what the enclosing header says its payload is (IPv4 total length, IPv6
 *     payload length, UDP length, PPPoE length, NFLOG TLV length, TCP data
 *     offset).
 * A header that does not fit in the captured bytes, while its enclosing
 * length says it should be there, is DECODE_TRUNCATED (the capture cut it);
 * a length field that contradicts the one enclosing it is DECODE_MALFORMED
 * (the packet lies).  Link-layer trailers (Ethernet padding to 60 bytes, FCS)
 * are never counted as TCP payload because the IP length, not the captured
 * length, decides where the datagram ends.
 *
 * Offloads.  A capture on the sending host sees segments before the NIC
 * splits them (TSO/GSO, BIG TCP): larger than the MTU, and past 64 KiB with
 * an IPv4 total length of 0 or an IPv6 payload length of 0 (with or without
 * the RFC 2675 jumbo payload option).  A zero length is then taken from the
 * frame's length on the wire, as tcpdump does.
 *
 * Pure: no I/O, no allocation, no globals.  Checksums are not verified: a
 * capture taken on the sending host sees checksum-offloaded packets whose
 * checksum the NIC has not filled in yet.  Nesting is bounded (MAX_ENCAP),
 * so a crafted frame cannot make the decoder recurse without end.
 */
#include "tcplab/decode.h"
#include "tcplab/checksum.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum {
	ETH_HDR_LEN   = 14,
	VLAN_TAG_LEN  = 4,
	SLL_HDR_LEN   = 16,
	SLL2_HDR_LEN  = 20,
	NULL_HDR_LEN  = 4,
	IPV4_MIN_HDR  = 20,
	IPV6_HDR_LEN  = 40,
	TCP_MIN_HDR   = 20,
	UDP_HDR_LEN   = 8,
	IPPROTO_TCP_NUM = 6,
	IPPROTO_UDP_NUM = 17,

	ETHERTYPE_IPV4 = 0x0800,
	ETHERTYPE_IPV6 = 0x86dd,
	ETHERTYPE_8021Q = 0x8100,     /* IEEE 802.1Q customer VLAN tag */
	ETHERTYPE_8021AD = 0x88a8,    /* IEEE 802.1ad service VLAN tag (QinQ) */
	ETHERTYPE_QINQ_OLD = 0x9100,  /* pre-standard QinQ tag still seen in the wild */
	ETHERTYPE_TEB = 0x6558,       /* transparent Ethernet bridging (GRE, Geneve) */
	ETHERTYPE_MPLS = 0x8847,
	ETHERTYPE_MPLS_MC = 0x8848,
	ETHERTYPE_PPPOE_SESSION = 0x8864,
	ETHERTYPE_ERSPAN_2 = 0x88be,  /* ERSPAN type I (no GRE sequence) and II */
	ETHERTYPE_ERSPAN_3 = 0x22eb,
	ETHERTYPE_PPP = 0x880b,       /* PPTP's enhanced GRE (RFC 2637 §4.1) */

	UDP_PORT_VXLAN = 4789,        /* RFC 7348 §5 */
	UDP_PORT_VXLAN_GPE = 4790,
	UDP_PORT_GENEVE = 6081,       /* RFC 8926 §3.3 */

	/*
	 * Bounds on loops driven by packet contents, so a crafted frame cannot
	 * make the decoder walk forever.  Real traffic has at most two VLAN tags
	 * and a handful of IPv6 extension headers (RFC 8200 §4.1 lists the
	 * recommended order, each at most once, destination options twice).
	 */
	MAX_VLAN_TAGS = 8,
	MAX_IPV6_EXT  = 16,
	MAX_MPLS_LABELS = 16,
	MAX_ENCAP = SEGMENT_MAX_ENCAP,
};

/* IPv6 next-header values (IANA "Assigned Internet Protocol Numbers"). */
enum {
	NH_HOPOPTS  = 0,
	NH_IPV4     = 4,
	NH_TCP      = 6,
	NH_UDP      = 17,
	NH_IPV6     = 41,
	NH_ROUTING  = 43,
	NH_FRAGMENT = 44,
	NH_GRE      = 47,
	NH_ESP      = 50,
	NH_AH       = 51,
	NH_NONE     = 59,
	NH_DSTOPTS  = 60,
	NH_MOBILITY = 135,
	NH_MPLS_IN_IP = 137,
	NH_HIP      = 139,
	NH_SHIM6    = 140,
};

/* What one decode carries from layer to layer. */
struct dctx {
	struct segment *out;
	char *errbuf;
	unsigned depth;         /* encapsulations peeled so far */
	bool fragment;          /* an enclosing IP packet is a first fragment with more to come */
};

/* ---- small helpers ---------------------------------------------------- */

/* Big-endian (network order) reads; callers have bounds-checked p. */
static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(((unsigned)p[0] << 8) | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Host-order 16-bit read (NFLOG TLVs are written in the capturing host's
 * order and libpcap converts them to the reader's). */
static uint16_t rdh16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
	return a < b ? a : b;
}

static enum decode_status fail(char *errbuf, enum decode_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Writes one sentence into errbuf (when not NULL) and returns st, so error
 * paths read as `return fail(errbuf, DECODE_..., "...", ...);`.
 */
static enum decode_status fail(char *errbuf, enum decode_status st, const char *fmt, ...)
{
	va_list ap;

	if (errbuf == NULL)
		return st;
	va_start(ap, fmt);
	vsnprintf(errbuf, DECODE_ERRBUF_SIZE, fmt, ap);
	va_end(ap);
	return st;
}

/*
 * Checks that a header of n bytes fits in a region of which len bytes exist
 * (its enclosing header says so) and cap were captured (cap <= len).
 * Beyond len the packet lies (MALFORMED), unless IP fragmentation cut it;
 * beyond cap the capture cut it (TRUNCATED).  Returns DECODE_OK when it fits.
 */
static enum decode_status need(struct dctx *c, uint32_t n, uint32_t cap, uint32_t len,
			       const char *what)
{
	if (n > len) {
		if (c->fragment)
			return fail(c->errbuf, DECODE_TRUNCATED,
				    "%s header cut by IP fragmentation: %u of %u bytes in the first fragment",
				    what, len, n);
		return fail(c->errbuf, DECODE_MALFORMED,
			    "%s header of %u bytes runs past the %u bytes its enclosing header gives it",
			    what, n, len);
	}
	if (n > cap)
		return fail(c->errbuf, DECODE_TRUNCATED, "%s header cut by the capture: %u of %u bytes captured",
			    what, cap, n);
	return DECODE_OK;
}

/* Records one more encapsulation; MALFORMED past MAX_ENCAP nested ones. */
static enum decode_status push_encap(struct dctx *c, enum segment_encap e)
{
	if (c->depth >= MAX_ENCAP)
		return fail(c->errbuf, DECODE_MALFORMED,
			    "frame nests more than %d encapsulations", MAX_ENCAP);
	c->depth++;
	if (c->out->encap_count < SEGMENT_MAX_ENCAP)
		c->out->encap[c->out->encap_count++] = (uint8_t)e;
	return DECODE_OK;
}

/* ---- TCP ---------------------------------------------------------------- */

/*
 * Decodes an option list of which len bytes exist (the data offset says so)
 * and avail <= len were captured.  Kinds 0 (EOL) and 1 (NOP) are one byte;
 * every other option is kind, length (counting both bytes), data.  Known
 * kinds with a length other than the one their RFC fixes are skipped and
 * counted in unknown_count, as Linux's tcp_parse_options() ignores them.  A
 * length < 2 or one running past len makes the rest of the list unreadable:
 * malformed is set and decoding stops, keeping the options before it.  An
 * option running past avail only is cut by the capture: truncated.
 */
static void options_decode(const uint8_t *p, uint32_t len, uint32_t avail, struct tcp_options *opt)
{
	uint32_t i = 0;

	if (avail > len)
		avail = len;
	opt->truncated = avail < len;
	while (i < avail) {
		uint8_t kind = p[i];
		uint32_t olen;

		if (kind == 0)          /* End of Option List: the rest is padding */
			break;
		if (kind == 1) {        /* No-Operation: one byte, used for alignment */
			if (opt->nop_count < UINT8_MAX)
				opt->nop_count++;
			i++;
			continue;
		}
		if (len - i < 2) {      /* no room for the length byte */
			opt->malformed = true;
			break;
		}
		if (avail - i < 2)      /* the length byte is beyond the capture */
			break;
		olen = p[i + 1];
		if (olen < 2 || olen > len - i) {
			opt->malformed = true;
			break;
		}
		if (olen > avail - i)   /* the option's data is beyond the capture */
			break;
		switch (kind) {
		case 2:                 /* MSS, RFC 9293 §3.7.1: 4 bytes */
			if (olen == 4) {
				opt->has_mss = true;
				opt->mss = rd16(p + i + 2);
				break;
			}
			goto skip;
		case 3:                 /* window scale, RFC 7323 §2.2: 3 bytes */
			if (olen == 3) {
				opt->has_wscale = true;
				opt->wscale = p[i + 2]; /* raw: RFC 7323 caps its use at 14, the reader decides */
				break;
			}
			goto skip;
		case 4:                 /* SACK permitted, RFC 2018 §2: 2 bytes */
			if (olen == 2) {
				opt->has_sack_perm = true;
				break;
			}
			goto skip;
		case 5:                 /* SACK, RFC 2018 §3: 2 + 8n bytes, n >= 1 */
			if (olen >= 10 && (olen - 2) % 8 == 0) {
				uint32_t n = (olen - 2) / 8;

				if (n > TCP_MAX_SACK_BLOCKS)
					n = TCP_MAX_SACK_BLOCKS;
				for (uint32_t b = 0; b < n; b++) {
					opt->sack[b][0] = rd32(p + i + 2 + 8 * b);
					opt->sack[b][1] = rd32(p + i + 6 + 8 * b);
				}
				opt->sack_count = (uint8_t)n;
				break;
			}
			goto skip;
		case 8:                 /* timestamps, RFC 7323 §3.2: 10 bytes */
			if (olen == 10) {
				opt->has_timestamps = true;
				opt->ts_val = rd32(p + i + 2);
				opt->ts_ecr = rd32(p + i + 6);
				break;
			}
			goto skip;
		case 19:                /* MD5 signature, RFC 2385 §3.0: 18 bytes */
			if (olen == 18) {
				opt->has_md5 = true;
				break;
			}
			goto skip;
		case 29:                /* TCP-AO, RFC 5925 §2.2: KeyID, RNextKeyID, MAC */
			if (olen >= 4) {
				opt->has_tcp_ao = true;
				opt->ao_keyid = p[i + 2];
				opt->ao_rnextkeyid = p[i + 3];
				break;
			}
			goto skip;
		case 30:                /* MPTCP, RFC 8684 §3: subtype in the first 4 bits */
			if (olen >= 3) {
				opt->has_mptcp = true;
				opt->mptcp_subtype = p[i + 2] >> 4;
				break;
			}
			goto skip;
		case 34:                /* TCP Fast Open, RFC 7413 §4.1.1: cookie of 0 or 4..16 bytes */
			if (olen == 2 || (olen >= 6 && olen <= 18 && olen % 2 == 0)) {
				opt->has_tfo = true;
				opt->tfo_cookie_len = (uint8_t)(olen - 2);
				memcpy(opt->tfo_cookie, p + i + 2, olen - 2);
				break;
			}
			goto skip;
		case 254:               /* RFC 6994 experimental option; 0xF989 is TFO's pre-RFC ID */
			if (olen >= 4 && rd16(p + i + 2) == 0xF989 &&
			    (olen == 4 || (olen >= 8 && olen <= 20 && olen % 2 == 0))) {
				opt->has_tfo = true;
				opt->tfo_cookie_len = (uint8_t)(olen - 4);
				memcpy(opt->tfo_cookie, p + i + 4, olen - 4);
				break;
			}
			goto skip;
		default:
		skip:
			if (opt->unknown_count < UINT8_MAX)
				opt->unknown_count++;
			break;
		}
		i += olen;
	}
}

/*
 * Decodes a TCP option list (RFC 9293 §3.2), as options_decode with the
 * whole list captured.
 */
void tcp_options_decode(const uint8_t *p, uint32_t len, struct tcp_options *opt)
{
	if (opt == NULL)
		return;
	memset(opt, 0, sizeof(*opt));
	if (p == NULL)
		return;
	/* Fast path for the layout Linux puts on every segment after the SYN
	 * (NOP, NOP, timestamps: RFC 7323 Appendix A), as tcp_fast_parse_options
	 * does; it gives exactly what the loop would. */
	if (len == 12 && p[0] == 1 && p[1] == 1 && p[2] == 8 && p[3] == 10) {
		opt->nop_count = 2;
		opt->has_timestamps = true;
		opt->ts_val = rd32(p + 4);
		opt->ts_ecr = rd32(p + 8);
		return;
	}
	options_decode(p, len, len, opt);
}

/*
 * Decodes the TCP header at p.  seg_len is the TCP segment length the IP
 * header announces; cap (<= seg_len) is how much of it was captured.
 * c->fragment is true when IP fragmentation (not the capture) may have cut
 * the segment: a short first fragment is then TRUNCATED rather than
 * MALFORMED.  Options cut by the capture while the fixed header is whole are
 * decoded as far as they go and marked truncated (tcpdump prints these too).
 */
static enum decode_status decode_tcp(struct dctx *c, const uint8_t *p, uint32_t seg_len, uint32_t cap)
{
	struct segment *out = c->out;
	char *errbuf = c->errbuf;
	uint32_t hlen;

	if (seg_len < TCP_MIN_HDR) {
		if (c->fragment)
			return fail(errbuf, DECODE_TRUNCATED,
				    "TCP header cut by IP fragmentation: only %u of 20 bytes in the first fragment",
				    seg_len);
		return fail(errbuf, DECODE_MALFORMED,
			    "IP length leaves %u bytes for TCP, fewer than the 20-byte TCP header", seg_len);
	}
	if (cap < TCP_MIN_HDR)
		return fail(errbuf, DECODE_TRUNCATED,
			    "TCP header cut by the capture: %u of 20 bytes captured", cap);

	/* RFC 9293 §3.1: Data Offset counts 32-bit words, at least 5. */
	hlen = (uint32_t)(p[12] >> 4) * 4u;
	if (hlen < TCP_MIN_HDR)
		return fail(errbuf, DECODE_MALFORMED,
			    "TCP header length %u is shorter than the 20-byte minimum", hlen);
	if (hlen > seg_len) {
		if (c->fragment)
			return fail(errbuf, DECODE_TRUNCATED,
				    "TCP header length %u exceeds the %u bytes in the first IP fragment",
				    hlen, seg_len);
		return fail(errbuf, DECODE_MALFORMED,
			    "TCP header length %u exceeds the %u-byte segment the IP header announces",
			    hlen, seg_len);
	}

	out->sport = rd16(p);
	out->dport = rd16(p + 2);
	out->seq = rd32(p + 4);
	out->ack = rd32(p + 8);
	out->flags = p[13];
	out->window = rd16(p + 14);
	out->urgent = rd16(p + 18);
	out->payload_len = seg_len - hlen;
	if (hlen > cap) {
		/* The fixed header is whole, the options are cut: keep what is there. */
		memset(&out->opt, 0, sizeof(out->opt));
		options_decode(p + TCP_MIN_HDR, hlen - TCP_MIN_HDR, cap - TCP_MIN_HDR, &out->opt);
		out->opt.truncated = true;
		out->payload_captured = 0;
		out->payload = NULL;
		/* tcp_hdr stays NULL (--header shows it only whole); no checksum */
		out->csum_status = (uint8_t)TCP_CSUM_CUT;
		return DECODE_OK;
	}
	tcp_options_decode(p + TCP_MIN_HDR, hlen - TCP_MIN_HDR, &out->opt);
	out->payload_captured = cap - hlen;
	out->payload = out->payload_captured > 0 ? p + hlen : NULL;
	/* issue 12: raw header and checksum verdict (--header, replay summary) */
	out->tcp_hdr = p;
	out->tcp_hdr_len = (uint16_t)hlen;
	if (out->ip_hdr != NULL && p >= out->ip_hdr && p - out->ip_hdr <= 0xffff)
		out->ip_hdr_len = (uint16_t)(p - out->ip_hdr);
	out->csum_status = (uint8_t)checksum_classify(&out->src, &out->dst, p, seg_len, cap, c->fragment,
						      &out->csum_expected);
	return DECODE_OK;
}

/* ---- forward declarations: tunnels nest ------------------------------ */

static enum decode_status decode_ipv4(struct dctx *c, const uint8_t *p, uint32_t cap, uint32_t len,
				      bool exact);
static enum decode_status decode_ipv6(struct dctx *c, const uint8_t *p, uint32_t cap, uint32_t len,
				      bool exact);
static enum decode_status decode_ethernet(struct dctx *c, const uint8_t *p, uint32_t cap, uint32_t len,
					  bool exact);
static enum decode_status decode_ethertype(struct dctx *c, uint16_t et, const uint8_t *p, uint32_t cap,
					   uint32_t len, bool exact, const char *what);
static enum decode_status decode_mpls(struct dctx *c, const uint8_t *p, uint32_t cap, uint32_t len);
static enum decode_status decode_ppp(struct dctx *c, const uint8_t *p, uint32_t cap, uint32_t len,
				     bool exact);

/* ---- UDP datagrams (the flag: out->udp) ----------------------------------- */

/*
 * A UDP datagram (RFC 768) of seg_len bytes by its IP header, cap of them
 * captured.  Fills ports and payload lengths and sets out->udp when the
 * 8-byte header is there and its length field agrees with the IP header
 * (at most seg_len, at least 8); leaves out->udp false otherwise.  The
 * caller (decode_udp, for a port that is not a tunnel's) still returns
 * DECODE_NOT_TCP: the TCP pipeline skips datagrams as before, and a caller
 * that wants them (replay/watch --udp) checks the flag.
 */
static void udp_datagram_fill(const uint8_t *p, uint32_t seg_len, uint32_t cap, struct segment *out)
{
	uint32_t ulen;

	if (seg_len < 8 || cap < 8)
		return;
	ulen = rd16(p + 4);
	if (ulen < 8 || ulen > seg_len)
		return;
	out->sport = rd16(p);
	out->dport = rd16(p + 2);
	out->payload_len = ulen - 8;
	out->payload_captured = min_u32(cap, ulen) - 8;
	out->payload = out->payload_captured > 0 ? p + 8 : NULL;
	out->udp = true;
}

/* ---- UDP tunnels -------------------------------------------------------- */

/*
 * Decodes a UDP datagram of seg_len bytes (cap captured) that may carry a
 * tunnel, recognised by its destination port: VXLAN (RFC 7348), VXLAN-GPE,
 * Geneve (RFC 8926).  Any other UDP is NOT_TCP.  `what` names the IP packet.
 */
static enum decode_status decode_udp(struct dctx *c, const uint8_t *p, uint32_t seg_len, uint32_t cap,
				     const char *what)
{
	enum decode_status st;
	uint32_t ulen, ucap, hl;
	uint16_t dport;

	if ((st = need(c, UDP_HDR_LEN, cap, seg_len, "UDP")) != DECODE_OK)
		return st;
	dport = rd16(p + 2);
	if (dport != UDP_PORT_VXLAN && dport != UDP_PORT_VXLAN_GPE && dport != UDP_PORT_GENEVE) {
		udp_datagram_fill(p, seg_len, cap, c->out);     /* replay/watch --udp */
		return fail(c->errbuf, DECODE_NOT_TCP,
			    "%s carries protocol 17 (UDP to port %u), not TCP or a tunnel", what, dport);
	}
	ulen = rd16(p + 4);
	if (ulen < UDP_HDR_LEN || ulen > seg_len) {
		if (c->fragment && ulen > seg_len)
			ulen = seg_len;     /* the rest is in later fragments */
		else
			return fail(c->errbuf, DECODE_MALFORMED,
				    "UDP length %u does not fit the %u bytes the IP header announces",
				    ulen, seg_len);
	}
	p += UDP_HDR_LEN;
	ulen -= UDP_HDR_LEN;
	ucap = min_u32(cap, ulen + UDP_HDR_LEN) - UDP_HDR_LEN;

	if (dport == UDP_PORT_VXLAN) {
		if ((st = need(c, 8, ucap, ulen, "VXLAN")) != DECODE_OK)
			return st;
		/* RFC 7348 §5: the I flag says the VNI is valid; without it the frame is not VXLAN's. */
		if (!(p[0] & 0x08))
			return fail(c->errbuf, DECODE_NOT_TCP,
				    "UDP datagram to port 4789 has no valid VXLAN network identifier");
		if ((st = push_encap(c, ENCAP_VXLAN)) != DECODE_OK)
			return st;
		return decode_ethernet(c, p + 8, ucap - 8, ulen - 8, true);
	}
	if (dport == UDP_PORT_VXLAN_GPE) {
		if ((st = need(c, 8, ucap, ulen, "VXLAN-GPE")) != DECODE_OK)
			return st;
		if ((st = push_encap(c, ENCAP_VXLAN_GPE)) != DECODE_OK)
			return st;
		switch (p[3]) {          /* next protocol */
		case 1: return decode_ipv4(c, p + 8, ucap - 8, ulen - 8, true);
		case 2: return decode_ipv6(c, p + 8, ucap - 8, ulen - 8, true);
		case 3: return decode_ethernet(c, p + 8, ucap - 8, ulen - 8, true);
		case 5: return decode_mpls(c, p + 8, ucap - 8, ulen - 8);
		default:
			return fail(c->errbuf, DECODE_NOT_IP, "VXLAN-GPE carries next protocol %u, not IP",
				    p[3]);
		}
	}
	/* Geneve, RFC 8926 §3.4: version 0; options in 4-byte units. */
	if ((st = need(c, 8, ucap, ulen, "Geneve")) != DECODE_OK)
		return st;
	if ((p[0] >> 6) != 0)
		return fail(c->errbuf, DECODE_NOT_TCP, "Geneve version %u is not known", p[0] >> 6);
	hl = 8 + (uint32_t)(p[0] & 0x3f) * 4u;
	if ((st = need(c, hl, ucap, ulen, "Geneve")) != DECODE_OK)
		return st;
	if ((st = push_encap(c, ENCAP_GENEVE)) != DECODE_OK)
		return st;
	return decode_ethertype(c, rd16(p + 2), p + hl, ucap - hl, ulen - hl, true, "Geneve packet");
}

/* ---- GRE ---------------------------------------------------------------- */

/*
 * Decodes GRE (RFC 2784 with RFC 2890's key and sequence number; version 1,
 * PPTP's enhanced GRE, RFC 2637 §4.1) and what it carries: IP, Ethernet
 * (transparent bridging), MPLS, ERSPAN type I, II (GRE 0x88be) and III
 * (0x22eb), PPP.
 */
static enum decode_status decode_gre(struct dctx *c, const uint8_t *p, uint32_t len, uint32_t cap)
{
	enum decode_status st;
	uint16_t flags, proto;
	uint32_t hl;

	if ((st = need(c, 4, cap, len, "GRE")) != DECODE_OK)
		return st;
	flags = rd16(p);
	proto = rd16(p + 2);
	switch (flags & 7) {
	case 0:
		/* RFC 1701's routing field (R bit) is deprecated by RFC 2784. */
		if (flags & 0x4000)
			return fail(c->errbuf, DECODE_NOT_TCP, "GRE packet with source routing is not supported");
		hl = 4 + ((flags & 0x8000) ? 4u : 0u) + ((flags & 0x2000) ? 4u : 0u) +
		     ((flags & 0x1000) ? 4u : 0u);
		break;
	case 1:
		/* RFC 2637 §4.1: key present (payload length, call id), optional sequence and ack. */
		if (!(flags & 0x2000) || proto != ETHERTYPE_PPP)
			return fail(c->errbuf, DECODE_MALFORMED,
				    "GRE version 1 packet without a key or not carrying PPP");
		hl = 8 + ((flags & 0x1000) ? 4u : 0u) + ((flags & 0x0080) ? 4u : 0u);
		break;
	default:
		return fail(c->errbuf, DECODE_NOT_TCP, "GRE version %u is not known", flags & 7);
	}
	if ((st = need(c, hl, cap, len, "GRE")) != DECODE_OK)
		return st;
	if ((st = push_encap(c, ENCAP_GRE)) != DECODE_OK)
		return st;
	p += hl;
	cap -= hl;
	len -= hl;
	switch (proto) {
	case ETHERTYPE_ERSPAN_2:
		if (!(flags & 0x1000)) {
			/* Type I: no sequence number and no ERSPAN header, the mirrored frame follows. */
			if ((st = push_encap(c, ENCAP_ERSPAN1)) != DECODE_OK)
				return st;
			return decode_ethernet(c, p, cap, len, true);
		}
		if ((st = need(c, 8, cap, len, "ERSPAN type II")) != DECODE_OK)
			return st;
		if ((p[0] >> 4) != 1)
			return fail(c->errbuf, DECODE_MALFORMED, "ERSPAN type II header has version %u",
				    p[0] >> 4);
		if ((st = push_encap(c, ENCAP_ERSPAN2)) != DECODE_OK)
			return st;
		return decode_ethernet(c, p + 8, cap - 8, len - 8, true);
	case ETHERTYPE_ERSPAN_3: {
		uint32_t eh;
		unsigned ft;

		if ((st = need(c, 12, cap, len, "ERSPAN type III")) != DECODE_OK)
			return st;
		if ((p[0] >> 4) != 2)
			return fail(c->errbuf, DECODE_MALFORMED, "ERSPAN type III header has version %u",
				    p[0] >> 4);
		eh = 12 + ((p[11] & 1) ? 8u : 0u);   /* O bit: an 8-byte platform sub-header */
		if ((st = need(c, eh, cap, len, "ERSPAN type III")) != DECODE_OK)
			return st;
		ft = (p[10] >> 2) & 0x1f;            /* frame type: 0 is Ethernet */
		if (ft != 0)
			return fail(c->errbuf, DECODE_NOT_IP, "ERSPAN type III carries frame type %u, not Ethernet",
				    ft);
		if ((st = push_encap(c, ENCAP_ERSPAN3)) != DECODE_OK)
			return st;
		return decode_ethernet(c, p + eh, cap - eh, len - eh, true);
	}
	case ETHERTYPE_PPP:
		if ((st = push_encap(c, ENCAP_PPP)) != DECODE_OK)
			return st;
		return decode_ppp(c, p, cap, len, true);
	default:
		return decode_ethertype(c, proto, p, cap, len, true, "GRE packet");
	}
}

/* ---- IP payload --------------------------------------------------------- */

/*
 * Hands an IP payload of protocol `proto` (seg_len bytes on the wire, cap
 * captured) to TCP or to the tunnel it carries.  ipver is the enclosing IP
 * version (for the tunnel's name), what names it in messages.
 */
static enum decode_status decode_ip_payload(struct dctx *c, unsigned proto, int ipver, const uint8_t *p,
					    uint32_t seg_len, uint32_t cap, const char *what)
{
	enum decode_status st;

	switch (proto) {
	case NH_TCP:
		return decode_tcp(c, p, seg_len, cap);
	case NH_IPV4:
		if ((st = push_encap(c, ipver == 4 ? ENCAP_IPIP : ENCAP_4IN6)) != DECODE_OK)
			return st;
		return decode_ipv4(c, p, cap, seg_len, true);
	case NH_IPV6:
		if ((st = push_encap(c, ipver == 4 ? ENCAP_6IN4 : ENCAP_6IN6)) != DECODE_OK)
			return st;
		return decode_ipv6(c, p, cap, seg_len, true);
	case NH_GRE:
		return decode_gre(c, p, seg_len, cap);
	case NH_UDP:
		return decode_udp(c, p, seg_len, cap, what);
	case NH_MPLS_IN_IP:
		return decode_mpls(c, p, cap, seg_len);
	default:
		return fail(c->errbuf, DECODE_NOT_TCP, "%s carries protocol %u, not TCP", what, proto);
	}
}

/* ---- IPv4 --------------------------------------------------------------- */

/*
 * Decodes an IPv4 datagram (RFC 791 §3.1) of which cap bytes were captured
 * and len exist (exact: len comes from an enclosing header, not from the
 * link layer).  The total length, not cap, bounds the datagram: bytes after
 * it are link padding; bytes missing before it were cut by the snapshot
 * length.  A total length of 0 is a segmentation-offload capture: the
 * datagram is the rest of the frame.
 */
static enum decode_status decode_ipv4(struct dctx *c, const uint8_t *p, uint32_t cap, uint32_t len,
				      bool exact)
{
	char *errbuf = c->errbuf;
	struct segment *out = c->out;
	uint32_t ihl, total, frag;

	if (cap < 1)
		return fail(errbuf, DECODE_TRUNCATED, "IPv4 header cut by the capture: 0 of 20 bytes captured");
	if ((p[0] >> 4) != 4)
		return fail(errbuf, DECODE_MALFORMED, "IPv4 packet has IP version %u", (unsigned)(p[0] >> 4));
	if (cap < IPV4_MIN_HDR) {
		if (exact && len < IPV4_MIN_HDR && !c->fragment)
			return fail(errbuf, DECODE_MALFORMED,
				    "IPv4 header of 20 bytes runs past the %u bytes its enclosing header gives it",
				    len);
		if (exact && len < IPV4_MIN_HDR)
			return fail(errbuf, DECODE_TRUNCATED,
				    "IPv4 header cut by IP fragmentation: %u of 20 bytes in the first fragment", len);
		return fail(errbuf, DECODE_TRUNCATED,
			    "IPv4 header cut by the capture: %u of 20 bytes captured", cap);
	}
	ihl = (uint32_t)(p[0] & 0x0f) * 4u;
	total = rd16(p + 2);
	if (ihl < IPV4_MIN_HDR)
		return fail(errbuf, DECODE_MALFORMED,
			    "IPv4 header length %u is shorter than the 20-byte minimum", ihl);
	if (total == 0 && len >= ihl)
		total = len;    /* TSO / BIG TCP: the length is the frame's (tcpdump does the same) */
	if (total < ihl)
		return fail(errbuf, DECODE_MALFORMED,
			    "IPv4 total length %u is shorter than its %u-byte header", total, ihl);
	if (exact && total > len) {
		if (!c->fragment)
			return fail(errbuf, DECODE_MALFORMED,
				    "IPv4 total length %u exceeds the %u bytes its enclosing header gives it",
				    total, len);
		total = len;    /* the rest of the inner datagram is in later fragments */
	}
	if (ihl > cap)
		return fail(errbuf, DECODE_TRUNCATED,
			    "IPv4 header length %u exceeds the %u captured bytes", ihl, cap);

	/* RFC 791 §3.1: a non-zero fragment offset means no TCP header here. */
	frag = rd16(p + 6);
	if ((frag & 0x1fff) != 0)
		return fail(errbuf, DECODE_NOT_TCP,
			    "IPv4 fragment at offset %u is not the first one and holds no TCP header",
			    (frag & 0x1fff) * 8u);

	out->src.family = 4;
	memcpy(out->src.bytes, p + 12, 4);
	out->dst.family = 4;
	memcpy(out->dst.bytes, p + 16, 4);
	out->ttl = p[8];
	out->ip_id = rd16(p + 4);
	out->ip_hdr = p;
	out->ip_version = 4;
	out->ip_total_len = (uint16_t)total;
	out->ip_df = (frag & 0x4000) != 0;
	/* MF set on a first fragment: the TCP header may be there, the rest is not. */
	if (frag & 0x2000)
		c->fragment = true;
	return decode_ip_payload(c, p[9], 4, p + ihl, total - ihl, min_u32(cap, total) - ihl,
				 "IPv4 packet");
}

/* ---- IPv6 --------------------------------------------------------------- */

/* Name of an IPv6 extension header, for error messages. */
static const char *ext_name(unsigned nh)
{
	switch (nh) {
	case NH_HOPOPTS:  return "hop-by-hop options";
	case NH_ROUTING:  return "routing";
	case NH_FRAGMENT: return "fragment";
	case NH_AH:       return "authentication";
	case NH_DSTOPTS:  return "destination options";
	case NH_MOBILITY: return "mobility";
	case NH_HIP:      return "HIP";
	case NH_SHIM6:    return "Shim6";
	default:          return "extension";
	}
}

/*
 * Finds the RFC 2675 Jumbo Payload option (type 0xC2, 4 data bytes) in the
 * hop-by-hop header at h, of which cap bytes were captured.  Returns true and
 * sets *jumbo when present.  Pad1 is one byte; every other option is type,
 * length, data (RFC 8200 §4.2).
 */
static bool find_jumbo(const uint8_t *h, uint32_t cap, uint32_t *jumbo)
{
	uint32_t hlen, i = 2;

	if (cap < 2)
		return false;
	hlen = ((uint32_t)h[1] + 1u) * 8u;
	if (hlen > cap)
		return false;
	while (i < hlen) {
		if (h[i] == 0) {               /* Pad1 */
			i++;
			continue;
		}
		if (hlen - i < 2 || h[i + 1] > hlen - i - 2)
			return false;
		if (h[i] == 0xC2 && h[i + 1] == 4) {
			*jumbo = rd32(h + i + 2);
			return true;
		}
		i += 2u + h[i + 1];
	}
	return false;
}

/*
 * Decodes an IPv6 packet (RFC 8200 §3) of which cap bytes were captured and
 * len exist, walking the extension header chain (§4) up to the TCP header or
 * a tunnel.  Every extension header must fit inside the payload length (else
 * MALFORMED) and inside the capture (else TRUNCATED).  A payload length of 0
 * is a jumbogram (RFC 2675: the hop-by-hop jumbo option holds it) or, with
 * no such option, a BIG TCP capture whose length is the frame's.
 */
static enum decode_status decode_ipv6(struct dctx *c, const uint8_t *p, uint32_t cap, uint32_t len,
				      bool exact)
{
	char *errbuf = c->errbuf;
	struct segment *out = c->out;
	uint32_t plen, end, capend, off = IPV6_HDR_LEN;
	unsigned nh;

	if (cap < 1)
		return fail(errbuf, DECODE_TRUNCATED, "IPv6 header cut by the capture: 0 of 40 bytes captured");
	if ((p[0] >> 4) != 6)
		return fail(errbuf, DECODE_MALFORMED, "IPv6 packet has IP version %u", (unsigned)(p[0] >> 4));
	if (cap < IPV6_HDR_LEN) {
		if (exact && len < IPV6_HDR_LEN && !c->fragment)
			return fail(errbuf, DECODE_MALFORMED,
				    "IPv6 header of 40 bytes runs past the %u bytes its enclosing header gives it",
				    len);
		if (exact && len < IPV6_HDR_LEN)
			return fail(errbuf, DECODE_TRUNCATED,
				    "IPv6 header cut by IP fragmentation: %u of 40 bytes in the first fragment", len);
		return fail(errbuf, DECODE_TRUNCATED,
			    "IPv6 header cut by the capture: %u of 40 bytes captured", cap);
	}
	plen = rd16(p + 4);
	nh = p[6];
	if (plen == 0) {
		uint32_t jumbo;

		if (nh == NH_NONE)
			return fail(errbuf, DECODE_NOT_TCP, "IPv6 packet carries no next header");
		if (nh == NH_HOPOPTS && find_jumbo(p + IPV6_HDR_LEN, cap - IPV6_HDR_LEN, &jumbo)) {
			/* RFC 2675 §2: the jumbo length counts every byte after the IPv6 header. */
			if (jumbo > UINT32_MAX - IPV6_HDR_LEN)
				return fail(errbuf, DECODE_MALFORMED, "IPv6 jumbo payload length %u is too large",
					    jumbo);
			plen = jumbo;
		} else if (len > IPV6_HDR_LEN) {
			plen = len - IPV6_HDR_LEN;   /* BIG TCP without the option: the frame's length */
		} else {
			return fail(errbuf, DECODE_MALFORMED,
				    "IPv6 payload length 0 without a jumbo payload option or bytes after the header");
		}
	}
	end = IPV6_HDR_LEN + plen;
	if (exact && end > len) {
		if (!c->fragment)
			return fail(errbuf, DECODE_MALFORMED,
				    "IPv6 payload length %u exceeds the %u bytes its enclosing header gives it",
				    plen, len - IPV6_HDR_LEN);
		end = len;
	}
	capend = min_u32(cap, end);

	out->src.family = 6;
	memcpy(out->src.bytes, p + 8, 16);
	out->dst.family = 6;
	memcpy(out->dst.bytes, p + 24, 16);
	out->ttl = p[7];
	out->ip_id = 0;
	out->ip_hdr = p;
	out->ip_version = 6;
	out->ip_total_len = (uint16_t)(end > 0xffff ? 0xffff : end);

	for (unsigned n = 0;; n++) {
		uint32_t hlen;

		switch (nh) {
		case NH_HOPOPTS:
		case NH_ROUTING:
		case NH_DSTOPTS:
		case NH_MOBILITY:
		case NH_HIP:
		case NH_SHIM6:
		case NH_FRAGMENT:
		case NH_AH:
			break;
		case NH_NONE:
			return fail(errbuf, DECODE_NOT_TCP, "IPv6 packet carries no next header");
		case NH_ESP:
			return fail(errbuf, DECODE_NOT_TCP, "IPv6 packet is encrypted with ESP");
		default:
			return decode_ip_payload(c, nh, 6, p + off, end - off, capend - off, "IPv6 packet");
		}
		if (n >= MAX_IPV6_EXT)
			return fail(errbuf, DECODE_MALFORMED,
				    "IPv6 packet has more than %d extension headers", MAX_IPV6_EXT);
		/* Every extension header starts with next header and a length byte. */
		if (end - off < 2)
			return fail(errbuf, DECODE_MALFORMED,
				    "IPv6 %s header runs past the %u-byte payload length", ext_name(nh), plen);
		if (capend - off < 2)
			return fail(errbuf, DECODE_TRUNCATED,
				    "IPv6 %s header cut by the capture", ext_name(nh));
		if (nh == NH_FRAGMENT)
			hlen = 8;                                  /* RFC 8200 §4.5: fixed size */
		else if (nh == NH_AH)
			hlen = ((uint32_t)p[off + 1] + 2u) * 4u;   /* RFC 4302 §2.2: 32-bit words minus 2 */
		else
			hlen = ((uint32_t)p[off + 1] + 1u) * 8u;   /* RFC 8200 §4.3: 8-octet units minus 1 */
		if (hlen > end - off)
			return fail(errbuf, DECODE_MALFORMED,
				    "IPv6 %s header of %u bytes runs past the %u-byte payload length",
				    ext_name(nh), hlen, plen);
		if (hlen > capend - off)
			return fail(errbuf, DECODE_TRUNCATED,
				    "IPv6 %s header of %u bytes cut by the capture", ext_name(nh), hlen);
		if (nh == NH_FRAGMENT) {
			uint32_t fo = rd16(p + off + 2);

			if ((fo >> 3) != 0)
				return fail(errbuf, DECODE_NOT_TCP,
					    "IPv6 fragment at offset %u is not the first one and holds no TCP header",
					    (fo >> 3) * 8u);
			if (fo & 1u)                   /* M flag: more fragments follow */
				c->fragment = true;
		}
		nh = p[off];
		off += hlen;
	}
}

/* ---- link-layer payloads ---------------------------------------------- */

/*
 * Decodes the payload of a link header, or of a tunnel, that names it with
 * an ethertype: IPv4, IPv6, Ethernet (transparent bridging), MPLS, PPPoE
 * session.  `what` names the carrier in the message for anything else.
 */
static enum decode_status decode_ethertype(struct dctx *c, uint16_t et, const uint8_t *p, uint32_t cap,
					   uint32_t len, bool exact, const char *what)
{
	enum decode_status st;

	switch (et) {
	case ETHERTYPE_IPV4:
		return decode_ipv4(c, p, cap, len, exact);
	case ETHERTYPE_IPV6:
		return decode_ipv6(c, p, cap, len, exact);
	case ETHERTYPE_TEB:
		return decode_ethernet(c, p, cap, len, exact);
	case ETHERTYPE_MPLS:
	case ETHERTYPE_MPLS_MC:
		return decode_mpls(c, p, cap, len);
	case ETHERTYPE_PPPOE_SESSION: {
		uint32_t plen;

		/* RFC 2516 §4: ver/type 0x11, code 0 (session data), session id, length. */
		if ((st = need(c, 6, cap, len, "PPPoE")) != DECODE_OK)
			return st;
		if (p[0] != 0x11)
			return fail(c->errbuf, DECODE_MALFORMED, "PPPoE header has version/type 0x%02x, not 0x11",
				    p[0]);
		if (p[1] != 0)
			return fail(c->errbuf, DECODE_NOT_IP, "PPPoE session packet has code 0x%02x, not data",
				    p[1]);
		plen = rd16(p + 4);
		if (plen > len - 6)
			return fail(c->errbuf, DECODE_MALFORMED,
				    "PPPoE length %u exceeds the %u bytes of the frame", plen, len - 6);
		if ((st = push_encap(c, ENCAP_PPPOE)) != DECODE_OK)
			return st;
		return decode_ppp(c, p + 6, min_u32(cap - 6, plen), plen, true);
	}
	default:
		return fail(c->errbuf, DECODE_NOT_IP, "%s carries ethertype 0x%04x, not IP", what, et);
	}
}

/*
 * Decodes an Ethernet II frame (or 802.3 with LLC/SNAP), skipping any stack
 * of IEEE 802.1Q / 802.1ad tags (recorded as one VLAN or QinQ
 * encapsulation), and hands its payload on by ethertype.
 */
static enum decode_status decode_ethernet(struct dctx *c, const uint8_t *p, uint32_t cap, uint32_t len,
					  bool exact)
{
	enum decode_status st;
	uint32_t off = 12;
	unsigned tags = 0;
	uint16_t et;

	if (cap < ETH_HDR_LEN) {
		if (len < ETH_HDR_LEN && exact && !c->fragment)
			return fail(c->errbuf, DECODE_MALFORMED,
				    "Ethernet header of 14 bytes runs past the %u bytes of the tunnel", len);
		if (len < ETH_HDR_LEN && exact)
			return fail(c->errbuf, DECODE_TRUNCATED,
				    "Ethernet header cut by IP fragmentation: %u of 14 bytes in the first fragment", len);
		return fail(c->errbuf, DECODE_TRUNCATED,
			    "Ethernet header cut by the capture: %u of 14 bytes captured", cap);
	}
	et = rd16(p + off);
	/* IEEE 802.1Q / 802.1ad: a 4-byte tag (TPID, TCI) precedes the real ethertype. */
	while (et == ETHERTYPE_8021Q || et == ETHERTYPE_8021AD || et == ETHERTYPE_QINQ_OLD) {
		if (++tags > MAX_VLAN_TAGS)
			return fail(c->errbuf, DECODE_MALFORMED,
				    "Ethernet frame has more than %d VLAN tags", MAX_VLAN_TAGS);
		off += VLAN_TAG_LEN;
		if (cap < off + 2)  /* off <= 12 + 4 * MAX_VLAN_TAGS: no overflow */
			return fail(c->errbuf, DECODE_TRUNCATED, "VLAN tag cut by the capture");
		et = rd16(p + off);
	}
	off += 2;
	if (tags > 0 && (st = push_encap(c, tags == 1 ? ENCAP_VLAN : ENCAP_QINQ)) != DECODE_OK)
		return st;
	/* IEEE 802.3 length field with an LLC/SNAP header (AA AA 03, OUI): the ethertype follows. */
	if (et <= 1500) {
		if (cap >= off + 8 && p[off] == 0xaa && p[off + 1] == 0xaa && p[off + 2] == 0x03) {
			et = rd16(p + off + 6);
			off += 8;
		} else {
			return fail(c->errbuf, DECODE_NOT_IP,
				    "Ethernet frame is 802.3 without SNAP (length 0x%04x), not IP", et);
		}
	}
	return decode_ethertype(c, et, p + off, cap - off, len - off, exact, "Ethernet frame");
}

/*
 * Decodes an MPLS label stack (RFC 3032 §2.1: 4-byte entries, the bottom one
 * has the S bit) and its payload, guessed from the first nibble as routers
 * and Wireshark do: 4 IPv4, 6 IPv6, 0 a pseudowire control word (RFC 4385)
 * followed by an Ethernet frame.
 */
static enum decode_status decode_mpls(struct dctx *c, const uint8_t *p, uint32_t cap, uint32_t len)
{
	enum decode_status st;
	uint32_t off = 0;

	if ((st = push_encap(c, ENCAP_MPLS)) != DECODE_OK)
		return st;
	for (unsigned n = 0;; n++) {
		if (n >= MAX_MPLS_LABELS)
			return fail(c->errbuf, DECODE_MALFORMED, "MPLS label stack deeper than %d labels",
				    MAX_MPLS_LABELS);
		if ((st = need(c, off + 4, cap, len, "MPLS label stack")) != DECODE_OK)
			return st;
		off += 4;
		if (p[off - 2] & 1)     /* bottom of stack */
			break;
	}
	if ((st = need(c, off + 1, cap, len, "MPLS payload")) != DECODE_OK)
		return st;
	switch (p[off] >> 4) {
	case 4:
		return decode_ipv4(c, p + off, cap - off, len - off, true);
	case 6:
		return decode_ipv6(c, p + off, cap - off, len - off, true);
	case 0:
		if ((st = need(c, off + 4, cap, len, "MPLS pseudowire control word")) != DECODE_OK)
			return st;
		return decode_ethernet(c, p + off + 4, cap - off - 4, len - off - 4, true);
	default:
		return fail(c->errbuf, DECODE_NOT_IP,
			    "MPLS payload starts with 0x%02x: neither IP nor an Ethernet pseudowire", p[off]);
	}
}

/*
 * Decodes a PPP frame (RFC 1661 §2): an optional HDLC address and control
 * (0xFF 0x03, RFC 1662 §3.1), then the protocol field, one byte when it is
 * compressed (odd first byte, RFC 1661 §6.5), else two.
 */
static enum decode_status decode_ppp(struct dctx *c, const uint8_t *p, uint32_t cap, uint32_t len,
				     bool exact)
{
	enum decode_status st;
	uint32_t off = 0;
	uint16_t proto;

	if ((st = need(c, 2, cap, len, "PPP")) != DECODE_OK)
		return st;
	if (p[0] == 0xff && p[1] == 0x03)
		off = 2;
	if ((st = need(c, off + 1, cap, len, "PPP")) != DECODE_OK)
		return st;
	if (p[off] & 1) {
		proto = p[off];
		off += 1;
	} else {
		if ((st = need(c, off + 2, cap, len, "PPP")) != DECODE_OK)
			return st;
		proto = rd16(p + off);
		off += 2;
	}
	switch (proto) {
	case 0x0021:            /* IPv4 (RFC 1332) */
		return decode_ipv4(c, p + off, cap - off, len - off, exact);
	case 0x0057:            /* IPv6 (RFC 5072) */
		return decode_ipv6(c, p + off, cap - off, len - off, exact);
	case 0x0281:            /* MPLS unicast (RFC 3032 §4.3) */
	case 0x0283:
		return decode_mpls(c, p + off, cap - off, len - off);
	default:
		return fail(c->errbuf, DECODE_NOT_IP, "PPP frame carries protocol 0x%04x, not IP", proto);
	}
}

/*
 * Decodes a Linux NFLOG record (libpcap's LINKTYPE_NFLOG): family, version,
 * resource id, then TLVs of host-order length (header included, padded to 4
 * bytes) and type; type 9 (NFULA_PAYLOAD) holds the IP packet.
 */
static enum decode_status decode_nflog(struct dctx *c, const uint8_t *p, uint32_t cap, uint32_t len)
{
	enum decode_status st;
	uint32_t off = 4;
	int ipver;

	if ((st = need(c, 4, cap, len, "NFLOG")) != DECODE_OK)
		return st;
	if (p[0] == 2)
		ipver = 4;
	else if (p[0] == 10)
		ipver = 6;
	else
		return fail(c->errbuf, DECODE_NOT_IP, "NFLOG record of address family %u, not IP", p[0]);
	if (p[1] != 0)
		return fail(c->errbuf, DECODE_MALFORMED, "NFLOG record has version %u, not 0", p[1]);
	while (off < len) {
		uint32_t tlen, ttype, plen;

		if ((st = need(c, off + 4, cap, len, "NFLOG TLV")) != DECODE_OK)
			return st;
		tlen = rdh16(p + off);
		ttype = rdh16(p + off + 2) & 0x7fff;
		if (tlen < 4 || tlen > len - off)
			return fail(c->errbuf, DECODE_MALFORMED, "NFLOG TLV of length %u does not fit the record",
				    tlen);
		if (ttype == 9) {
			plen = tlen - 4;
			off += 4;
			if (off > cap)
				return fail(c->errbuf, DECODE_TRUNCATED, "NFLOG payload cut by the capture");
			if (ipver == 4)
				return decode_ipv4(c, p + off, min_u32(cap - off, plen), plen, true);
			return decode_ipv6(c, p + off, min_u32(cap - off, plen), plen, true);
		}
		tlen = (tlen + 3u) & ~3u;
		if (tlen >= len - off)
			break;
		off += tlen;
	}
	return fail(c->errbuf, DECODE_NOT_IP, "NFLOG record holds no packet payload");
}

/* ---- link layer --------------------------------------------------------- */

/* True for BSD address-family values of IPv6: 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS). */
static bool af_is_inet6(uint32_t af)
{
	return af == 24 || af == 28 || af == 30;
}

/*
 * Decodes one frame.  Strips the link header and hands the rest to the
 * decoder of what it carries, with the bytes on the wire after the link
 * header as the length that TSO captures take their IP length from.
 */
enum decode_status segment_decode(int link, const uint8_t *bytes, uint32_t caplen,
				  uint32_t wirelen, uint64_t ts_ns, struct segment *out,
				  char errbuf[DECODE_ERRBUF_SIZE])
{
	static const uint8_t empty[1];
	struct segment scratch;
	struct dctx c;
	uint32_t off = 0, wire;
	int ipver = 0;

	if (errbuf != NULL)
		errbuf[0] = '\0';
	if (out == NULL)
		out = &scratch;
	if (bytes == NULL) {        /* never do arithmetic on a NULL pointer */
		bytes = empty;
		caplen = 0;
	}
	memset(out, 0, sizeof(*out));
	out->ts_ns = ts_ns;
	out->wire_len = wirelen < caplen ? caplen : wirelen;
	wire = out->wire_len;
	memset(&c, 0, sizeof(c));
	c.out = out;
	c.errbuf = errbuf;

	switch (link) {
	case LINK_ETHERNET:
		return decode_ethernet(&c, bytes, caplen, wire, false);
	case LINK_LINUX_SLL:
		/* packet type, ARPHRD type, address length, 8-byte address, protocol */
		if (caplen < SLL_HDR_LEN)
			return fail(errbuf, DECODE_TRUNCATED,
				    "Linux cooked header cut by the capture: %u of 16 bytes captured", caplen);
		return decode_ethertype(&c, rd16(bytes + 14), bytes + SLL_HDR_LEN, caplen - SLL_HDR_LEN,
					wire - SLL_HDR_LEN, false, "Linux cooked frame");
	case LINK_LINUX_SLL2:
		/* protocol, reserved, interface index, ARPHRD type, packet type, address */
		if (caplen < SLL2_HDR_LEN)
			return fail(errbuf, DECODE_TRUNCATED,
				    "Linux cooked v2 header cut by the capture: %u of 20 bytes captured", caplen);
		return decode_ethertype(&c, rd16(bytes), bytes + SLL2_HDR_LEN, caplen - SLL2_HDR_LEN,
					wire - SLL2_HDR_LEN, false, "Linux cooked v2 frame");
	case LINK_NULL:
	case LINK_LOOP: {
		uint32_t be, le;

		if (caplen < NULL_HDR_LEN)
			return fail(errbuf, DECODE_TRUNCATED,
				    "loopback header cut by the capture: %u of 4 bytes captured", caplen);
		be = rd32(bytes);
		/*
		 * DLT_NULL stores the AF in the writing host's byte order, which a
		 * pcap file does not record: accept both.  DLT_LOOP is always
		 * network order.
		 */
		le = link == LINK_NULL ? ((uint32_t)bytes[3] << 24) | ((uint32_t)bytes[2] << 16) |
					 ((uint32_t)bytes[1] << 8) | bytes[0]
				       : be;
		if (be == 2 || le == 2)
			ipver = 4;
		else if (af_is_inet6(be) || af_is_inet6(le))
			ipver = 6;
		else
			return fail(errbuf, DECODE_NOT_IP,
				    "loopback frame carries address family %u, not IP",
				    be < le ? be : le);
		off = NULL_HDR_LEN;
		break;
	}
	case LINK_RAW:
	case LINK_RAW_DLT12:
	case LINK_RAW_DLT14:
		ipver = 0;
		break;
	case LINK_IPV4:
		ipver = 4;
		break;
	case LINK_IPV6:
		ipver = 6;
		break;
	case LINK_PPP:
	case LINK_PPP_HDLC:
		/* DLT_PPP_SERIAL also carries Cisco HDLC frames (address 0x0F or 0x8F). */
		if (link == LINK_PPP_HDLC && caplen >= 1 && (bytes[0] == 0x0f || bytes[0] == 0x8f))
			goto c_hdlc;
		return decode_ppp(&c, bytes, caplen, wire, false);
	case LINK_PPP_ETHER:
		return decode_ethertype(&c, ETHERTYPE_PPPOE_SESSION, bytes, caplen, wire, false,
					"PPPoE frame");
	case LINK_C_HDLC:
	c_hdlc:
		/* address, control, then an ethertype */
		if (caplen < 4)
			return fail(errbuf, DECODE_TRUNCATED,
				    "Cisco HDLC header cut by the capture: %u of 4 bytes captured", caplen);
		return decode_ethertype(&c, rd16(bytes + 2), bytes + 4, caplen - 4, wire - 4, false,
					"Cisco HDLC frame");
	case LINK_NFLOG:
		return decode_nflog(&c, bytes, caplen, wire);
	case LINK_IPOIB:
		/* RFC 4391 §6: a 2-byte type (an ethertype) and 2 reserved bytes */
		if (caplen < 4)
			return fail(errbuf, DECODE_TRUNCATED,
				    "IP over InfiniBand header cut by the capture: %u of 4 bytes captured", caplen);
		return decode_ethertype(&c, rd16(bytes), bytes + 4, caplen - 4, wire - 4, false,
					"IP over InfiniBand frame");
	default:
		return fail(errbuf, DECODE_BAD_LINK, "link type %d is not supported", link);
	}

	if (ipver == 0) {
		if (caplen == 0)
			return fail(errbuf, DECODE_TRUNCATED, "raw IP packet is empty");
		ipver = bytes[0] >> 4;
		if (ipver != 4 && ipver != 6)
			return fail(errbuf, DECODE_MALFORMED, "raw IP packet has IP version %d", ipver);
	}
	if (ipver == 4)
		return decode_ipv4(&c, bytes + off, caplen - off, wire - off, false);
	return decode_ipv6(&c, bytes + off, caplen - off, wire - off, false);
}

/* ---- names ---------------------------------------------------------------- */

/* Name of an encapsulation, as the trace prints it. */
const char *segment_encap_name(unsigned encap)
{
	switch (encap) {
	case ENCAP_VLAN:      return "802.1Q";
	case ENCAP_QINQ:      return "QinQ";
	case ENCAP_MPLS:      return "MPLS";
	case ENCAP_PPPOE:     return "PPPoE";
	case ENCAP_GRE:       return "GRE";
	case ENCAP_ERSPAN1:   return "ERSPAN I";
	case ENCAP_ERSPAN2:   return "ERSPAN II";
	case ENCAP_ERSPAN3:   return "ERSPAN III";
	case ENCAP_VXLAN:     return "VXLAN";
	case ENCAP_GENEVE:    return "Geneve";
	case ENCAP_IPIP:      return "IP-in-IP";
	case ENCAP_6IN4:      return "6in4";
	case ENCAP_4IN6:      return "4in6";
	case ENCAP_6IN6:      return "IPv6-in-IPv6";
	case ENCAP_VXLAN_GPE: return "VXLAN-GPE";
	case ENCAP_PPP:       return "PPP";
	default:              return "?";
	}
}

/* Writes the encapsulation names joined by sep (contract in decode.h). */
const char *segment_tunnel_format(const struct segment *seg, const char *sep, char *buf, size_t buflen)
{
	size_t used = 0;
	unsigned n;

	if (buf == NULL || buflen == 0)
		return buf;
	buf[0] = '\0';
	if (seg == NULL)
		return buf;
	if (sep == NULL)
		sep = "/";
	n = seg->encap_count < SEGMENT_MAX_ENCAP ? seg->encap_count : SEGMENT_MAX_ENCAP;
	for (unsigned i = 0; i < n; i++) {
		int w = snprintf(buf + used, buflen - used, "%s%s", i ? sep : "",
				 segment_encap_name(seg->encap[i]));

		if (w < 0 || (size_t)w >= buflen - used) {
			buf[buflen - 1] = '\0';
			break;
		}
		used += (size_t)w;
	}
	return buf;
}

/* ECN-setup SYN / SYN-ACK, RFC 3168 §6.1.1. */
bool segment_ecn_setup(const struct segment *seg)
{
	uint8_t f;

	if (seg == NULL)
		return false;
	f = seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST | TCP_FLAG_ECE | TCP_FLAG_CWR);
	return f == (TCP_FLAG_SYN | TCP_FLAG_ECE | TCP_FLAG_CWR) ||
	       f == (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_ECE);
}

/* Data on a SYN with a Fast Open option, RFC 7413 §3. */
bool segment_tfo_data(const struct segment *seg)
{
	return seg != NULL && (seg->flags & TCP_FLAG_SYN) && !(seg->flags & TCP_FLAG_RST) &&
	       seg->payload_len > 0 && seg->opt.has_tfo;
}

/* MPTCP subtypes, RFC 8684 §3 (IANA "MPTCP Option Subtypes"). */
const char *mptcp_subtype_name(unsigned subtype)
{
	static const char *const names[] = {
		"MP_CAPABLE", "MP_JOIN", "DSS", "ADD_ADDR", "REMOVE_ADDR",
		"MP_PRIO", "MP_FAIL", "MP_FASTCLOSE", "MP_TCPRST",
	};

	if (subtype < sizeof(names) / sizeof(names[0]))
		return names[subtype];
	if (subtype == 0xf)
		return "MP_EXPERIMENTAL";
	return "?";
}

/* Human name of a decode status, for counters and messages. */
const char *decode_status_name(enum decode_status s)
{
	switch (s) {
	case DECODE_OK:        return "ok";
	case DECODE_NOT_IP:    return "not IP";
	case DECODE_NOT_TCP:   return "not TCP";
	case DECODE_TRUNCATED: return "truncated";
	case DECODE_MALFORMED: return "malformed";
	case DECODE_BAD_LINK:  return "unknown link type";
	}
	return "unknown status";
}
