/*
 * craft.c — builds and injects TCP segments at the IP layer with libnet.
 *
 * This is the only file that includes <libnet.h>.  One struct craft wraps a
 * libnet context opened for raw IPv4 (LIBNET_RAW4) or raw IPv6
 * (LIBNET_RAW6): tcplab writes the whole IP header itself, the kernel only
 * routes the datagram.
 *
 * Reaction time matters (the ACK to a SYN-ACK has to leave within
 * microseconds), so the libnet protocol blocks are built once and then
 * updated in place through their ptags as long as the packet keeps the same
 * shape (same option length, same payload length).  Only a change of shape
 * makes us call libnet_clear_packet() and build the blocks afresh, because
 * libnet's in-place resizing of options and payload is fragile across
 * versions.  Checksums are left to libnet (sum 0).
 *
 * Every packet leaves with SO_MARK = CRAFT_PACKET_MARK so that the
 * firewall module's nftables rule can drop the kernel's RST for the
 * crafted 4-tuple while letting tcplab's own RST through.
 */
/* libnet-config --defines passes the obsolete _BSD_SOURCE, which glibc
 * warns about unless _DEFAULT_SOURCE is also defined. */
#if defined(_BSD_SOURCE) && !defined(_DEFAULT_SOURCE)
#define _DEFAULT_SOURCE 1
#endif

#include "tcplab/craft.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <libnet.h>

/* TCP option kinds (RFC 9293 §3.2, RFC 7323, RFC 2018). */
enum {
	OPT_EOL = 0,
	OPT_NOP = 1,
	OPT_MSS = 2,
	OPT_WSCALE = 3,
	OPT_SACK_PERM = 4,
	OPT_SACK = 5,
	OPT_TIMESTAMPS = 8,
};

#define TCP_OPTIONS_MAX 40     /* 60-byte header limit minus the 20 fixed bytes */
#define IPV4_FLAG_DF 0x4000    /* Linux sets DF on TCP (path MTU discovery, RFC 1191) */

struct craft {
	libnet_t *l;
	int family;                 /* 4 or 6 */
	/* ptags of the blocks built for the previous packet (0: none yet) */
	libnet_ptag_t opt_tag, tcp_tag, ip_tag;
	/* shape of the previous packet: the blocks can be updated in place
	 * only while these stay the same */
	bool built;
	size_t opt_len;
	uint32_t payload_len;
	uint16_t ip_id;             /* IPv4 identification, next value */
	int last_errno;             /* errno of the last failed write, 0 when none */
	char err[CRAFT_ERRBUF_SIZE];
};

/* Contract: copies at most CRAFT_ERRBUF_SIZE-1 bytes of a formatted message
 * into c->err. */
static void set_err(struct craft *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct craft *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

/* Contract: writes 4 bytes big-endian at p. */
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * Contract: encodes opt in the order Linux's tcp_options_write() uses, so a
 * crafted SYN looks like one from the local kernel:
 *   MSS(4)
 *   SACK_PERM(2) TS(10)       when both
 *   NOP NOP TS(10)            timestamps without SACK-permitted
 *   NOP NOP SACK_PERM(2)      SACK-permitted without timestamps
 *   NOP WSCALE(3)
 *   NOP NOP SACK(2 + 8n)      SACK blocks (data ACKs, RFC 2018 §3)
 * Every group is 4-byte aligned on its own, so the total is a multiple of
 * 4 and never needs padding; the final padding loop is there for safety.
 * SACK blocks that do not fit in the 40-byte limit are left out (Linux
 * sends at most 3 with timestamps, RFC 2018 §3).  Returns 0..40.
 */
size_t craft_encode_options(const struct tcp_options *opt, uint8_t buf[40])
{
	size_t n = 0;

	if (opt == NULL || buf == NULL)
		return 0;

	if (opt->has_mss) {
		buf[n++] = OPT_MSS;
		buf[n++] = 4;
		buf[n++] = (uint8_t)(opt->mss >> 8);
		buf[n++] = (uint8_t)opt->mss;
	}
	if (opt->has_timestamps) {
		if (opt->has_sack_perm) {
			buf[n++] = OPT_SACK_PERM;
			buf[n++] = 2;
		} else {
			buf[n++] = OPT_NOP;
			buf[n++] = OPT_NOP;
		}
		buf[n++] = OPT_TIMESTAMPS;
		buf[n++] = 10;
		put32(buf + n, opt->ts_val);
		put32(buf + n + 4, opt->ts_ecr);
		n += 8;
	} else if (opt->has_sack_perm) {
		buf[n++] = OPT_NOP;
		buf[n++] = OPT_NOP;
		buf[n++] = OPT_SACK_PERM;
		buf[n++] = 2;
	}
	if (opt->has_wscale) {
		buf[n++] = OPT_NOP;
		buf[n++] = OPT_WSCALE;
		buf[n++] = 3;
		buf[n++] = opt->wscale;
	}
	/* n <= 20 here. */
	if (opt->sack_count > 0) {
		size_t blocks = opt->sack_count;
		size_t room = (TCP_OPTIONS_MAX - n - 4) / 8;  /* NOP NOP kind len + 8 per block */

		if (blocks > TCP_MAX_SACK_BLOCKS)
			blocks = TCP_MAX_SACK_BLOCKS;
		if (blocks > room)
			blocks = room;
		if (blocks > 0) {
			buf[n++] = OPT_NOP;
			buf[n++] = OPT_NOP;
			buf[n++] = OPT_SACK;
			buf[n++] = (uint8_t)(2 + 8 * blocks);
			for (size_t i = 0; i < blocks; i++) {
				put32(buf + n, opt->sack[i][0]);
				put32(buf + n + 4, opt->sack[i][1]);
				n += 8;
			}
		}
	}
	/* The data offset counts 32-bit words (RFC 9293 §3.1): pad with NOP,
	 * ending with EOL, to the next multiple of 4. */
	while (n % 4 != 0) {
		buf[n] = (n % 4 == 3) ? OPT_EOL : OPT_NOP;
		n++;
	}
	return n;
}

/* Contract: true when libnet's message says the socket call was refused
 * for lack of privilege. */
static bool is_permission_error(const char *msg)
{
	return strstr(msg, "Operation not permitted") != NULL ||
	       strstr(msg, "Permission denied") != NULL;
}

/*
 * Contract: opens a raw IPv4 (family 4) or IPv6 (family 6) injector,
 * optionally bound to device, marks its socket with CRAFT_PACKET_MARK and
 * seeds the IP ID counter.  NULL with errbuf set on failure;
 * *permission_denied (may be NULL) is true when a capability was missing.
 */
struct craft *craft_open(int family, const char *device, char errbuf[CRAFT_ERRBUF_SIZE],
			 bool *permission_denied)
{
	char lerr[LIBNET_ERRBUF_SIZE];
	struct craft *c;
	uint32_t mark = CRAFT_PACKET_MARK;
	uint16_t seed;
	int fd;

	if (permission_denied)
		*permission_denied = false;
	if (errbuf)
		errbuf[0] = '\0';
	if (family != 4 && family != 6) {
		if (errbuf)
			snprintf(errbuf, CRAFT_ERRBUF_SIZE, "address family must be 4 or 6, not %d",
				 family);
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		if (errbuf)
			snprintf(errbuf, CRAFT_ERRBUF_SIZE, "out of memory");
		return NULL;
	}
	c->family = family;

	lerr[0] = '\0';
	c->l = libnet_init(family == 4 ? LIBNET_RAW4 : LIBNET_RAW6, device, lerr);
	if (c->l == NULL) {
		if (is_permission_error(lerr)) {
			if (permission_denied)
				*permission_denied = true;
			if (errbuf)
				snprintf(errbuf, CRAFT_ERRBUF_SIZE,
					 "sending crafted packets needs CAP_NET_RAW: run tcplab with "
					 "sudo, or give it the capability with "
					 "'setcap cap_net_raw,cap_net_admin+ep tcplab'");
		} else if (errbuf) {
			/* libnet's message ends with a newline in some versions */
			size_t len = strlen(lerr);

			while (len > 0 && (lerr[len - 1] == '\n' || lerr[len - 1] == '\r'))
				lerr[--len] = '\0';
			snprintf(errbuf, CRAFT_ERRBUF_SIZE, "cannot open a raw IPv%d socket%s%.16s: %.180s",
				 family, device ? " on " : "", device ? device : "", lerr);
		}
		free(c);
		return NULL;
	}

	/* SO_MARK needs CAP_NET_ADMIN (socket(7)); without the mark the
	 * firewall rule could not tell our RST from the kernel's. */
	fd = libnet_getfd(c->l);
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) != 0) {
		int e = errno;

		if (e == EPERM || e == EACCES) {
			if (permission_denied)
				*permission_denied = true;
			if (errbuf)
				snprintf(errbuf, CRAFT_ERRBUF_SIZE,
					 "marking crafted packets needs CAP_NET_ADMIN: run tcplab with "
					 "sudo, or give it the capability with "
					 "'setcap cap_net_raw,cap_net_admin+ep tcplab'");
		} else if (errbuf) {
			snprintf(errbuf, CRAFT_ERRBUF_SIZE, "cannot set the socket mark: %s",
				 strerror(e));
		}
		libnet_destroy(c->l);
		free(c);
		return NULL;
	}

	/* libnet's raw injectors ignore the device: bind the socket to it so
	 * the segments leave where the capture listens (socket(7)). */
	if (device != NULL && device[0] != '\0' &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, device, (socklen_t)strlen(device) + 1) != 0) {
		int e = errno;

		if (errbuf) {
			if (e == ENODEV)
				snprintf(errbuf, CRAFT_ERRBUF_SIZE,
					 "cannot send on %s: there is no such interface", device);
			else
				snprintf(errbuf, CRAFT_ERRBUF_SIZE, "cannot bind the raw socket to %s: %s",
					 device, strerror(e));
		}
		if ((e == EPERM || e == EACCES) && permission_denied)
			*permission_denied = true;
		libnet_destroy(c->l);
		free(c);
		return NULL;
	}

	/* A fresh IP ID per segment (RFC 6864 §4.1 asks for distinct IDs
	 * within a flow for fragmentable datagrams; a randomly seeded counter
	 * also keeps them unpredictable across runs). */
	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		seed = (uint16_t)(ts.tv_nsec ^ (long)getpid());
	}
	c->ip_id = seed;
	return c;
}

/* Contract: forgets the built blocks so the next send builds afresh. */
static void reset_blocks(struct craft *c)
{
	libnet_clear_packet(c->l);
	c->opt_tag = c->tcp_tag = c->ip_tag = 0;
	c->built = false;
}

/*
 * Contract: builds one TCP segment in IPv4 or IPv6 (by c's family) from s
 * and writes it.  Reuses the previous packet's libnet blocks when the
 * shape is unchanged.  0 ok, -1 with craft_error() set.
 */
/* Builds s into c's libnet blocks (updated in place when the shape is the
 * same as last time); *total is the packet length.  0 ok, -1 with the error set. */
static int build(struct craft *c, const struct craft_segment *s, uint32_t *total_out)
{
	uint8_t opts[TCP_OPTIONS_MAX];
	size_t opt_len = 0;
	uint32_t tcp_len, total;
	libnet_ptag_t t;

	if (c == NULL)
		return -1;
	if (s == NULL) {
		set_err(c, "no segment to send");
		return -1;
	}
	if (s->src.family != c->family || s->dst.family != c->family) {
		set_err(c, "segment addresses are not IPv%d", c->family);
		return -1;
	}
	if (s->payload_len > 0 && s->payload == NULL) {
		set_err(c, "payload length %u without payload", (unsigned)s->payload_len);
		return -1;
	}
	if (s->opt)
		opt_len = craft_encode_options(s->opt, opts);
	tcp_len = (uint32_t)(LIBNET_TCP_H + opt_len);
	/* IPv4 total length and IPv6 payload length are 16-bit fields. */
	if (s->payload_len > 65535u - tcp_len - (c->family == 4 ? LIBNET_IPV4_H : 0)) {
		set_err(c, "payload of %u bytes does not fit in one IP datagram",
			(unsigned)s->payload_len);
		return -1;
	}
	tcp_len += s->payload_len;

	if (c->built && (c->opt_len != opt_len || c->payload_len != s->payload_len))
		reset_blocks(c);

	/* libnet builds from the innermost block outwards: options, TCP, IP. */
	if (opt_len > 0) {
		t = libnet_build_tcp_options(opts, (uint32_t)opt_len, c->l, c->opt_tag);
		if (t == -1)
			goto libnet_failed;
		c->opt_tag = t;
	}
	t = libnet_build_tcp(s->sport, s->dport, s->seq, s->ack, s->flags, s->window,
			     0 /* checksum: libnet computes it */, 0 /* urgent pointer */,
			     (uint16_t)tcp_len, s->payload_len ? s->payload : NULL, s->payload_len,
			     c->l, c->tcp_tag);
	if (t == -1)
		goto libnet_failed;
	c->tcp_tag = t;

	if (c->family == 4) {
		uint32_t src, dst;

		memcpy(&src, s->src.bytes, 4);   /* already network byte order */
		memcpy(&dst, s->dst.bytes, 4);
		total = LIBNET_IPV4_H + tcp_len;
		t = libnet_build_ipv4((uint16_t)total, 0 /* TOS */, c->ip_id++, IPV4_FLAG_DF,
				      s->ttl ? s->ttl : 64, IPPROTO_TCP, 0 /* checksum */, src, dst,
				      NULL, 0, c->l, c->ip_tag);
	} else {
		struct libnet_in6_addr src6, dst6;

		memcpy(src6.libnet_s6_addr, s->src.bytes, 16);
		memcpy(dst6.libnet_s6_addr, s->dst.bytes, 16);
		total = LIBNET_IPV6_H + tcp_len;
		t = libnet_build_ipv6(0 /* traffic class */, 0 /* flow label */, (uint16_t)tcp_len,
				      IPPROTO_TCP, s->ttl ? s->ttl : 64, src6, dst6, NULL, 0, c->l,
				      c->ip_tag);
	}
	if (t == -1)
		goto libnet_failed;
	c->ip_tag = t;
	c->built = true;
	c->opt_len = opt_len;
	c->payload_len = s->payload_len;

	*total_out = total;
	return 0;

libnet_failed:
	set_err(c, "building the packet failed: %s", libnet_geterror(c->l));
	reset_blocks(c);
	return -1;
}

int craft_send(struct craft *c, const struct craft_segment *s)
{
	uint32_t total;
	int written;

	if (build(c, s, &total) != 0)
		return -1;
	errno = 0;
	written = libnet_write(c->l);
	if (written < 0 || (uint32_t)written != total) {
		c->last_errno = errno;
		set_err(c, "sending failed: %s", libnet_geterror(c->l));
		/* A failed write leaves the blocks intact; rebuild anyway so a
		 * half-updated block can never leak into the next packet. */
		reset_blocks(c);
		return -1;
	}
	return 0;
}

/* Builds s without sending it (contract in craft.h). */
int craft_prepare(struct craft *c, const struct craft_segment *s)
{
	uint32_t total;
	return build(c, s, &total);
}

/* Contract: the last error text ("" when none); never NULL. */
const char *craft_error(const struct craft *c)
{
	return c ? c->err : "no injector";
}

/* Contract: errno of the last failed craft_send (0: none, or not a system error). */
int craft_errno(const struct craft *c)
{
	return c ? c->last_errno : 0;
}

/* Contract: closes the raw socket and frees c; NULL is a no-op. */
void craft_close(struct craft *c)
{
	if (c == NULL)
		return;
	libnet_destroy(c->l);
	free(c);
}

/* Contract in craft.h: libnet's own run-time version string. */
const char *craft_lib_version(void)
{
	const char *v = libnet_version();
	return v ? v : "libnet version unknown";
}
