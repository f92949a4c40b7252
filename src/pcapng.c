/*
 * pcapng.c — reads pcapng blocks from a stdio stream.
 *
 * Every length in the file is untrusted: a block's total length must be at
 * least 12, a multiple of 4, at most PCAPNG_MAX_BLOCK, and equal to the copy
 * at the block's end; a packet's captured length must fit in its block; an
 * interface id must name an interface of the current section.  The buffer
 * grows to the largest block seen, never past PCAPNG_MAX_BLOCK.
 */
#include "tcplab/pcapng.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define BT_SHB 0x0A0D0D0Au
#define BT_IDB 0x00000001u
#define BT_PB  0x00000002u   /* obsolete Packet Block */
#define BT_SPB 0x00000003u
#define BT_EPB 0x00000006u
#define BOM    0x1A2B3C4Du
#define MAX_INTERFACES 65536u

struct iface {
	int link;
	uint32_t snaplen;
	uint64_t units;          /* timestamp units per second */
	int64_t offset_s;        /* if_tsoffset */
};

struct pcapng_reader {
	FILE *fp;
	bool swap;               /* the section's byte order differs from ours */
	bool done;
	struct iface *ifs;
	uint32_t nifs, cap_ifs;
	int first_link;
	uint8_t *buf;
	uint32_t buf_size;
	char err[PCAPNG_ERRBUF_SIZE];
};

static void set_err(struct pcapng_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_err(struct pcapng_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
}

static uint32_t bswap32(uint32_t v)
{
	return (v >> 24) | ((v >> 8) & 0xff00u) | ((v << 8) & 0xff0000u) | (v << 24);
}

static uint32_t get32(const struct pcapng_reader *r, const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return r->swap ? bswap32(v) : v;
}

static uint16_t get16(const struct pcapng_reader *r, const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return r->swap ? (uint16_t)((v >> 8) | (v << 8)) : v;
}

bool pcapng_is_magic(const uint8_t *p, size_t n)
{
	return p != NULL && n >= 4 && p[0] == 0x0A && p[1] == 0x0D && p[2] == 0x0D && p[3] == 0x0A;
}

/* Contract: reads exactly n bytes; 1 ok, 0 clean end before any byte, -1
 * end in the middle (truncated) or read error. */
static int read_exact(struct pcapng_reader *r, void *p, size_t n, bool at_block_start)
{
	size_t got = fread(p, 1, n, r->fp);

	if (got == n)
		return 1;
	if (got == 0 && at_block_start && !ferror(r->fp))
		return 0;
	return -1;
}

/* Contract: makes room for n bytes; false (error set) beyond the limit or
 * without memory. */
static bool reserve(struct pcapng_reader *r, uint32_t n)
{
	uint8_t *nb;

	if (n <= r->buf_size)
		return true;
	nb = realloc(r->buf, n);
	if (nb == NULL) {
		set_err(r, "out of memory for a %u-byte block", n);
		return false;
	}
	r->buf = nb;
	r->buf_size = n;
	return true;
}

/*
 * Contract: reads the next block into r->buf (type at 0, total length at 4,
 * body from 8, trailing length included); *type and *len get them.
 * Returns 1, PCAPNG_EOF or an error.  A Section Header switches the byte
 * order first (its byte-order magic decides) and forgets the interfaces.
 */
static int read_block(struct pcapng_reader *r, uint32_t *type, uint32_t *len)
{
	uint8_t hdr[12];
	uint32_t t, l;
	int rc = read_exact(r, hdr, 8, true);

	if (rc == 0)
		return PCAPNG_EOF;
	if (rc < 0) {
		set_err(r, "the capture file is truncated: it ends inside a block header");
		return PCAPNG_TRUNCATED;
	}
	memcpy(&t, hdr, 4);
	if (t == BT_SHB) {
		uint32_t bom;

		if (read_exact(r, hdr + 8, 4, false) < 0) {
			set_err(r, "the capture file is truncated: it ends inside a section header");
			return PCAPNG_TRUNCATED;
		}
		memcpy(&bom, hdr + 8, 4);
		if (bom == BOM)
			r->swap = false;
		else if (bom == bswap32(BOM))
			r->swap = true;
		else {
			set_err(r, "section header has an unknown byte-order magic 0x%08x", bom);
			return PCAPNG_ERR;
		}
		r->nifs = 0;
	}
	t = get32(r, hdr);
	l = get32(r, hdr + 4);
	if (l < 12 || l % 4 != 0 || l > PCAPNG_MAX_BLOCK || (t == BT_SHB && l < 28)) {
		set_err(r, "block of type 0x%08x has an impossible length %u", t, l);
		return PCAPNG_ERR;
	}
	if (!reserve(r, l))
		return PCAPNG_ERR;
	memcpy(r->buf, hdr, t == BT_SHB ? 12 : 8);
	if (read_exact(r, r->buf + (t == BT_SHB ? 12 : 8), l - (t == BT_SHB ? 12 : 8), false) < 0) {
		set_err(r, "the capture file is truncated: it ends inside a block of %u bytes", l);
		return PCAPNG_TRUNCATED;
	}
	if (get32(r, r->buf + l - 4) != l) {
		set_err(r, "block of type 0x%08x: its trailing length differs from %u", t, l);
		return PCAPNG_ERR;
	}
	*type = t;
	*len = l;
	return 1;
}

/* Contract: records the interface an IDB at b (len bytes) describes:
 * link type, snap length, if_tsresol (option 9), if_tsoffset (option 14). */
static int add_interface(struct pcapng_reader *r, const uint8_t *b, uint32_t len)
{
	struct iface f = { .units = 1000000u };
	uint32_t off = 16, end = len - 4;

	if (len < 20) {
		set_err(r, "interface description block of %u bytes is too short", len);
		return PCAPNG_ERR;
	}
	if (r->nifs >= MAX_INTERFACES) {
		set_err(r, "more than %u interfaces in one section", MAX_INTERFACES);
		return PCAPNG_ERR;
	}
	f.link = get16(r, b + 8);
	f.snaplen = get32(r, b + 12);
	while (end - off >= 4) {
		uint16_t code = get16(r, b + off), olen = get16(r, b + off + 2);
		uint32_t padded = ((uint32_t)olen + 3u) & ~3u;

		if (code == 0)
			break;
		if (padded > end - off - 4)
			break;              /* a broken option list: keep the defaults */
		if (code == 9 && olen >= 1) {
			uint8_t v = b[off + 4];
			uint64_t u = 1;

			/* high bit: a power of 2, else a power of 10 */
			if (v & 0x80) {
				if ((v & 0x7f) > 63)
					break;
				u = 1ull << (v & 0x7f);
			} else {
				if (v > 19)
					break;
				for (uint8_t i = 0; i < v; i++)
					u *= 10;
			}
			f.units = u;
		} else if (code == 14 && olen >= 8) {
			uint64_t v;

			/* a 64-bit signed value in the section's byte order */
			memcpy(&v, b + off + 4, 8);
			if (r->swap)
				v = ((uint64_t)bswap32((uint32_t)v) << 32) | bswap32((uint32_t)(v >> 32));
			f.offset_s = (int64_t)v;
		}
		off += 4 + padded;
	}
	if (r->nifs == r->cap_ifs) {
		uint32_t n = r->cap_ifs ? r->cap_ifs * 2 : 4;
		struct iface *ni = realloc(r->ifs, n * sizeof(*ni));

		if (ni == NULL) {
			set_err(r, "out of memory for interfaces");
			return PCAPNG_ERR;
		}
		r->ifs = ni;
		r->cap_ifs = n;
	}
	if (r->first_link < 0)
		r->first_link = f.link;
	r->ifs[r->nifs++] = f;
	return 1;
}

/* Contract: converts a pcapng timestamp in the interface's units to ns. */
static uint64_t to_ns(const struct iface *f, uint64_t ts)
{
	uint64_t s = ts / f->units, frac = ts % f->units;
	uint64_t ns = (uint64_t)((unsigned __int128)frac * 1000000000u / f->units);
	int64_t sec = (int64_t)s + f->offset_s;

	if (sec < 0)
		return 0;
	return (uint64_t)sec * 1000000000u + ns;
}

struct pcapng_reader *pcapng_open(FILE *fp, char errbuf[PCAPNG_ERRBUF_SIZE])
{
	struct pcapng_reader *r = calloc(1, sizeof(*r));
	uint32_t type, len;
	int rc;

	if (errbuf)
		errbuf[0] = '\0';
	if (r == NULL) {
		if (errbuf)
			snprintf(errbuf, PCAPNG_ERRBUF_SIZE, "out of memory");
		return NULL;
	}
	r->fp = fp;
	r->first_link = -1;
	rc = read_block(r, &type, &len);
	if (rc == 1 && type != BT_SHB) {
		set_err(r, "it does not start with a section header block");
		rc = PCAPNG_ERR;
	}
	/* up to the first interface, so that its link type is known before any
	 * packet (a packet block may not come before the interface it names) */
	while (rc == 1 && r->nifs == 0) {
		rc = read_block(r, &type, &len);
		if (rc == PCAPNG_EOF) {
			r->done = true;     /* a section without interfaces: no packets */
			return r;
		}
		if (rc != 1)
			break;
		if (type == BT_IDB)
			rc = add_interface(r, r->buf, len);
		else if (type == BT_EPB || type == BT_PB || type == BT_SPB) {
			set_err(r, "a packet comes before any interface description");
			rc = PCAPNG_ERR;
		}
	}
	if (rc != 1) {
		if (errbuf)
			snprintf(errbuf, PCAPNG_ERRBUF_SIZE, "%s", rc == PCAPNG_EOF ? "it is empty" : r->err);
		pcapng_close(r);
		return NULL;
	}
	return r;
}

int pcapng_first_link(const struct pcapng_reader *r)
{
	return r ? r->first_link : -1;
}

int pcapng_next(struct pcapng_reader *r, struct pcapng_packet *out)
{
	for (;;) {
		uint32_t type, len, ifid, caplen, wirelen, hdr;
		uint64_t ts;
		int rc;

		if (r->done)
			return PCAPNG_EOF;
		rc = read_block(r, &type, &len);
		if (rc != 1) {
			r->done = true;
			return rc;
		}
		switch (type) {
		case BT_IDB:
			if ((rc = add_interface(r, r->buf, len)) != 1) {
				r->done = true;
				return rc;
			}
			continue;
		case BT_EPB:
			if (len < 32)
				goto short_block;
			ifid = get32(r, r->buf + 8);
			ts = ((uint64_t)get32(r, r->buf + 12) << 32) | get32(r, r->buf + 16);
			caplen = get32(r, r->buf + 20);
			wirelen = get32(r, r->buf + 24);
			hdr = 28;
			break;
		case BT_PB:
			if (len < 32)
				goto short_block;
			ifid = get16(r, r->buf + 8);
			ts = ((uint64_t)get32(r, r->buf + 12) << 32) | get32(r, r->buf + 16);
			caplen = get32(r, r->buf + 20);
			wirelen = get32(r, r->buf + 24);
			hdr = 28;
			break;
		case BT_SPB:
			if (len < 16)
				goto short_block;
			ifid = 0;
			ts = 0;
			wirelen = get32(r, r->buf + 8);
			hdr = 12;
			caplen = len - 16;
			if (caplen > wirelen)
				caplen = wirelen;
			break;
		default:
			continue;           /* statistics, name resolution, custom...: skipped */
		}
		if (ifid >= r->nifs) {
			set_err(r, "a packet names interface %u, but the section describes %u", ifid, r->nifs);
			r->done = true;
			return PCAPNG_ERR;
		}
		if (type == BT_SPB && r->ifs[0].snaplen != 0 && caplen > r->ifs[0].snaplen)
			caplen = r->ifs[0].snaplen;
		if (caplen > len - hdr - 4) {
			set_err(r, "a packet's captured length %u exceeds its %u-byte block", caplen, len);
			r->done = true;
			return PCAPNG_ERR;
		}
		out->ts_ns = to_ns(&r->ifs[ifid], ts);
		out->data = r->buf + hdr;
		out->caplen = caplen;
		out->wirelen = wirelen < caplen ? caplen : wirelen;
		out->link = r->ifs[ifid].link;
		out->interface = ifid;
		return PCAPNG_PACKET;
short_block:
		set_err(r, "packet block of %u bytes is too short", len);
		r->done = true;
		return PCAPNG_ERR;
	}
}

const char *pcapng_error(const struct pcapng_reader *r)
{
	return r ? r->err : "";
}

void pcapng_close(struct pcapng_reader *r)
{
	if (r == NULL)
		return;
	free(r->ifs);
	free(r->buf);
	free(r);
}
