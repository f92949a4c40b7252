/*
 * decode.c — one captured frame → struct segment.
 *
 * Peels the link layer (Ethernet with any stack of 802.1Q/802.1ad tags,
 * Linux cooked v1/v2, raw IP, BSD loopback), then IPv4 (with options) or IPv6
 * (walking extension headers), then the TCP header and its options.
 *
 * Everything in a captured frame is untrusted.  Two lengths bound every read:
 *   - what was captured (the snapshot length may cut a frame anywhere), and
 *   - what the enclosing header says its payload is (IPv4 total length, IPv6
 *     payload length, TCP data offset).
 * A header that does not fit in the captured bytes, while its enclosing
 * length says it should be there, is DECODE_TRUNCATED (the capture cut it);
 * a length field that contradicts the one enclosing it is DECODE_MALFORMED
 * (the packet lies).  Link-layer trailers (Ethernet padding to 60 bytes, FCS)
 * are never counted as TCP payload because the IP length, not the captured
 * length, decides where the datagram ends.
 *
 * Pure: no I/O, no allocation, no globals.  Checksums are not verified: a
 * capture taken on the sending host sees checksum-offloaded packets whose
 * checksum the NIC has not filled in yet.
 */
#include "tcplab/decode.h"

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
	IPPROTO_TCP_NUM = 6,
	IPPROTO_UDP_NUM = 17,

	ETHERTYPE_IPV4 = 0x0800,
	ETHERTYPE_IPV6 = 0x86dd,
	ETHERTYPE_8021Q = 0x8100,     /* IEEE 802.1Q customer VLAN tag */
	ETHERTYPE_8021AD = 0x88a8,    /* IEEE 802.1ad service VLAN tag (QinQ) */
	ETHERTYPE_QINQ_OLD = 0x9100,  /* pre-standard QinQ tag still seen in the wild */

	/*
	 * Bounds on loops driven by packet contents, so a crafted frame cannot
	 * make the decoder walk forever.  Real traffic has at most two VLAN tags
	 * and a handful of IPv6 extension headers (RFC 8200 §4.1 lists the
	 * recommended order, each at most once, destination options twice).
	 */
	MAX_VLAN_TAGS = 8,
	MAX_IPV6_EXT  = 16,
};

/* IPv6 next-header values (IANA "Assigned Internet Protocol Numbers"). */
enum {
	NH_HOPOPTS  = 0,
	NH_TCP      = 6,
	NH_ROUTING  = 43,
	NH_FRAGMENT = 44,
	NH_ESP      = 50,
	NH_AH       = 51,
	NH_NONE     = 59,
	NH_DSTOPTS  = 60,
	NH_MOBILITY = 135,
	NH_HIP      = 139,
	NH_SHIM6    = 140,
	NH_UDP      = 17,
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

/* ---- TCP ---------------------------------------------------------------- */

/*
 * Decodes a TCP option list (RFC 9293 §3.2).  Kinds 0 (EOL) and 1 (NOP) are
 * one byte; every other option is kind, length (counting both bytes), data.
 * Known kinds with a length other than the one their RFC fixes are skipped and
 * counted in unknown_count, as Linux's tcp_parse_options() ignores them.  A
 * length < 2 or one running past len makes the rest of the list unreadable:
 * malformed is set and decoding stops, keeping the options before it.
 */
void tcp_options_decode(const uint8_t *p, uint32_t len, struct tcp_options *opt)
{
	uint32_t i = 0;

	if (opt == NULL)
		return;
	memset(opt, 0, sizeof(*opt));
	if (p == NULL)
		return;
	/* Fast path for the layout Linux puts on every segment after the SYN
	 * (NOP, NOP, timestamps: RFC 7323 Appendix A), as tcp_fast_parse_options
	 * does; it gives exactly what the loop below would. */
	if (len == 12 && p[0] == 1 && p[1] == 1 && p[2] == 8 && p[3] == 10) {
		opt->nop_count = 2;
		opt->has_timestamps = true;
		opt->ts_val = rd32(p + 4);
		opt->ts_ecr = rd32(p + 8);
		return;
	}
	while (i < len) {
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
		olen = p[i + 1];
		if (olen < 2 || olen > len - i) {
			opt->malformed = true;
			break;
		}
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
 * Decodes the TCP header at p.  seg_len is the TCP segment length the IP
 * header announces; cap (<= seg_len) is how much of it was captured.
 * `fragment` is true when IP fragmentation (not the capture) may have cut the
 * segment: a short first fragment is then TRUNCATED rather than MALFORMED.
 */
static enum decode_status decode_tcp(const uint8_t *p, uint32_t seg_len, uint32_t cap,
				     bool fragment, struct segment *out, char *errbuf)
{
	uint32_t hlen;

	if (seg_len < TCP_MIN_HDR) {
		if (fragment)
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
		if (fragment)
			return fail(errbuf, DECODE_TRUNCATED,
				    "TCP header length %u exceeds the %u bytes in the first IP fragment",
				    hlen, seg_len);
		return fail(errbuf, DECODE_MALFORMED,
			    "TCP header length %u exceeds the %u-byte segment the IP header announces",
			    hlen, seg_len);
	}
	if (hlen > cap)
		return fail(errbuf, DECODE_TRUNCATED,
			    "TCP header length %u exceeds the %u captured bytes", hlen, cap);

	out->sport = rd16(p);
	out->dport = rd16(p + 2);
	out->seq = rd32(p + 4);
	out->ack = rd32(p + 8);
	out->flags = p[13];
	out->window = rd16(p + 14);
	out->urgent = rd16(p + 18);
	tcp_options_decode(p + TCP_MIN_HDR, hlen - TCP_MIN_HDR, &out->opt);
	out->payload_len = seg_len - hlen;
	out->payload_captured = cap - hlen;
	out->payload = out->payload_captured > 0 ? p + hlen : NULL;
	return DECODE_OK;
}

/* ---- UDP (the flag: out->udp) --------------------------------------------- */

/*
 * A UDP datagram (RFC 768) of seg_len bytes by its IP header, cap of them
 * captured.  Fills ports and payload lengths and sets out->udp when the
 * 8-byte header is there and its length field agrees with the IP header
 * (at most seg_len, at least 8); leaves out->udp false otherwise.  The
 * caller still returns DECODE_NOT_TCP: the TCP pipeline skips datagrams as
 * before, and a caller that wants them (replay/watch --udp) checks the flag.
 */
static void decode_udp(const uint8_t *p, uint32_t seg_len, uint32_t cap, struct segment *out)
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

/* ---- IPv4 --------------------------------------------------------------- */

/*
 * Decodes an IPv4 datagram (RFC 791 §3.1) of which cap bytes were captured.
 * The total length, not cap, bounds the datagram: bytes after it are link
 * padding; bytes missing before it were cut by the snapshot length.
 */
static enum decode_status decode_ipv4(const uint8_t *p, uint32_t cap, struct segment *out,
				      char *errbuf)
{
	uint32_t ihl, total, frag;

	if (cap < 1)
		return fail(errbuf, DECODE_TRUNCATED, "IPv4 header cut by the capture: 0 of 20 bytes captured");
	if ((p[0] >> 4) != 4)
		return fail(errbuf, DECODE_MALFORMED, "IPv4 packet has IP version %u", (unsigned)(p[0] >> 4));
	if (cap < IPV4_MIN_HDR)
		return fail(errbuf, DECODE_TRUNCATED,
			    "IPv4 header cut by the capture: %u of 20 bytes captured", cap);
	ihl = (uint32_t)(p[0] & 0x0f) * 4u;
	total = rd16(p + 2);
	if (ihl < IPV4_MIN_HDR)
		return fail(errbuf, DECODE_MALFORMED,
			    "IPv4 header length %u is shorter than the 20-byte minimum", ihl);
	if (total < ihl)
		return fail(errbuf, DECODE_MALFORMED,
			    "IPv4 total length %u is shorter than its %u-byte header", total, ihl);
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
	if (p[9] == IPPROTO_UDP_NUM)
		decode_udp(p + ihl, total - ihl, min_u32(cap, total) - ihl, out);
	if (p[9] != IPPROTO_TCP_NUM)
		return fail(errbuf, DECODE_NOT_TCP, "IPv4 packet carries protocol %u, not TCP", p[9]);
	/* MF set on a first fragment: the TCP header may be there, the rest is not. */
	return decode_tcp(p + ihl, total - ihl, min_u32(cap, total) - ihl, (frag & 0x2000) != 0,
			  out, errbuf);
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
 * Decodes an IPv6 packet (RFC 8200 §3) of which cap bytes were captured,
 * walking the extension header chain (§4) up to the TCP header.  Every
 * extension header must fit inside the payload length (else MALFORMED) and
 * inside the capture (else TRUNCATED).
 */
static enum decode_status decode_ipv6(const uint8_t *p, uint32_t cap, struct segment *out,
				      char *errbuf)
{
	uint32_t plen, end, capend, off = IPV6_HDR_LEN;
	unsigned nh;
	bool fragment = false;

	if (cap < 1)
		return fail(errbuf, DECODE_TRUNCATED, "IPv6 header cut by the capture: 0 of 40 bytes captured");
	if ((p[0] >> 4) != 6)
		return fail(errbuf, DECODE_MALFORMED, "IPv6 packet has IP version %u", (unsigned)(p[0] >> 4));
	if (cap < IPV6_HDR_LEN)
		return fail(errbuf, DECODE_TRUNCATED,
			    "IPv6 header cut by the capture: %u of 40 bytes captured", cap);
	plen = rd16(p + 4);
	nh = p[6];
	if (plen == 0) {
		if (nh == NH_NONE)
			return fail(errbuf, DECODE_NOT_TCP, "IPv6 packet carries no next header");
		/* RFC 2675 jumbograms (and Linux BIG TCP captures) put the length elsewhere. */
		return fail(errbuf, DECODE_MALFORMED,
			    "IPv6 payload length 0 (a jumbogram) is not supported");
	}
	end = IPV6_HDR_LEN + plen;
	capend = min_u32(cap, end);

	out->src.family = 6;
	memcpy(out->src.bytes, p + 8, 16);
	out->dst.family = 6;
	memcpy(out->dst.bytes, p + 24, 16);
	out->ttl = p[7];
	out->ip_id = 0;

	for (unsigned n = 0; nh != NH_TCP; n++) {
		uint32_t hlen;

		if (n >= MAX_IPV6_EXT)
			return fail(errbuf, DECODE_MALFORMED,
				    "IPv6 packet has more than %d extension headers", MAX_IPV6_EXT);
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
			if (nh == NH_UDP)
				decode_udp(p + off, end - off, capend - off, out);
			return fail(errbuf, DECODE_NOT_TCP, "IPv6 packet carries protocol %u, not TCP", nh);
		}
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
			fragment = (fo & 1u) != 0;     /* M flag: more fragments follow */
		}
		nh = p[off];
		off += hlen;
	}
	return decode_tcp(p + off, end - off, capend - off, fragment, out, errbuf);
}

/* ---- link layer --------------------------------------------------------- */

/*
 * Maps an ethertype (also used by Linux cooked captures) to an IP version:
 * 4, 6, or 0 (not IP).
 */
static int ethertype_ip_version(uint16_t et)
{
	if (et == ETHERTYPE_IPV4)
		return 4;
	if (et == ETHERTYPE_IPV6)
		return 6;
	return 0;
}

/* True for BSD address-family values of IPv6: 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS). */
static bool af_is_inet6(uint32_t af)
{
	return af == 24 || af == 28 || af == 30;
}

/*
 * Decodes one frame.  Strips the link header to find the IP header and the IP
 * version the link layer announces (0 = read it from the version nibble),
 * then hands over to the IPv4 or IPv6 decoder.
 */
enum decode_status segment_decode(int link, const uint8_t *bytes, uint32_t caplen,
				  uint32_t wirelen, uint64_t ts_ns, struct segment *out,
				  char errbuf[DECODE_ERRBUF_SIZE])
{
	static const uint8_t empty[1];
	struct segment scratch;
	uint32_t off = 0;
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

	switch (link) {
	case LINK_ETHERNET: {
		uint16_t et;
		unsigned tags = 0;

		if (caplen < ETH_HDR_LEN)
			return fail(errbuf, DECODE_TRUNCATED,
				    "Ethernet header cut by the capture: %u of 14 bytes captured", caplen);
		off = 12;
		et = rd16(bytes + off);
		/* IEEE 802.1Q / 802.1ad: a 4-byte tag (TPID, TCI) precedes the real ethertype. */
		while (et == ETHERTYPE_8021Q || et == ETHERTYPE_8021AD || et == ETHERTYPE_QINQ_OLD) {
			if (++tags > MAX_VLAN_TAGS)
				return fail(errbuf, DECODE_MALFORMED,
					    "Ethernet frame has more than %d VLAN tags", MAX_VLAN_TAGS);
			off += VLAN_TAG_LEN;
			if (caplen < off + 2)  /* off <= 12 + 4 * MAX_VLAN_TAGS: no overflow */
				return fail(errbuf, DECODE_TRUNCATED, "VLAN tag cut by the capture");
			et = rd16(bytes + off);
		}
		off += 2;
		ipver = ethertype_ip_version(et);
		if (ipver == 0)
			return fail(errbuf, DECODE_NOT_IP,
				    "Ethernet frame carries ethertype 0x%04x, not IP", et);
		break;
	}
	case LINK_LINUX_SLL:
		/* packet type, ARPHRD type, address length, 8-byte address, protocol */
		if (caplen < SLL_HDR_LEN)
			return fail(errbuf, DECODE_TRUNCATED,
				    "Linux cooked header cut by the capture: %u of 16 bytes captured", caplen);
		ipver = ethertype_ip_version(rd16(bytes + 14));
		if (ipver == 0)
			return fail(errbuf, DECODE_NOT_IP,
				    "Linux cooked frame carries protocol 0x%04x, not IP", rd16(bytes + 14));
		off = SLL_HDR_LEN;
		break;
	case LINK_LINUX_SLL2:
		/* protocol, reserved, interface index, ARPHRD type, packet type, address */
		if (caplen < SLL2_HDR_LEN)
			return fail(errbuf, DECODE_TRUNCATED,
				    "Linux cooked v2 header cut by the capture: %u of 20 bytes captured", caplen);
		ipver = ethertype_ip_version(rd16(bytes));
		if (ipver == 0)
			return fail(errbuf, DECODE_NOT_IP,
				    "Linux cooked v2 frame carries protocol 0x%04x, not IP", rd16(bytes));
		off = SLL2_HDR_LEN;
		break;
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
		return decode_ipv4(bytes + off, caplen - off, out, errbuf);
	return decode_ipv6(bytes + off, caplen - off, out, errbuf);
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
