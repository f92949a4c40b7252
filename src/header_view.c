/*
 * header_view.c — the TCP header field by field (contract in
 * include/tcplab/header_view.h).
 *
 *  RFC 9293 §3.1 Figure 1:
 *    Source Port | Destination Port | Sequence Number | Acknowledgment
 *    Number | DOffset | Rsrvd | CWR ECE URG ACK PSH RST SYN FIN | Window |
 *    Checksum | Urgent Pointer | [Options] | Data
 */
#include "tcplab/header_view.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcplab/catalog.h"
#include "tcplab/checksum.h"
#include "tcplab/textwidth.h"

#define LABEL_COLS 16   /* display columns of the field name */
#define VALUE_COLS 34   /* display columns of the value before the hex bytes */

struct hv {
	struct header_view *out;
	bool hex;
	const uint8_t *raw;  /* TCP header bytes or NULL */
};

/*
 * Appends one line "label  value  [hex of bytes]".  The hex column starts at
 * VALUE_COLS; a value too long for the hex to follow within LINE_COLS puts
 * the hex on a line of its own under that column.  At most HEX_MAX bytes
 * are shown (a SACK option may hold 34), then "…".
 */
#define LINE_COLS 82    /* 100 minus the indentation the text renderer adds */
#define HEX_MAX 10
__attribute__((format(printf, 5, 6)))
static void field(struct hv *h, const char *label, const uint8_t *bytes, size_t nbytes, const char *fmt, ...)
{
	char value[HEADER_LINE_SIZE], hexs[64];
	char *line;
	size_t o = 0, ho = 0;
	int w, vw, lw;
	va_list ap;

	if (h->out->n >= HEADER_MAX_LINES)
		return;
	line = h->out->lines[h->out->n++];
	va_start(ap, fmt);
	vsnprintf(value, sizeof(value), fmt, ap);
	va_end(ap);
	label = catalog_tr(label);
	o += (size_t)snprintf(line + o, HEADER_LINE_SIZE - o, "%s", label);
	lw = tw_width(label);
	for (w = lw; w < LABEL_COLS && o + 1 < HEADER_LINE_SIZE; w++)
		line[o++] = ' ';
	line[o] = '\0';
	o += (size_t)snprintf(line + o, HEADER_LINE_SIZE - o, "  %s", value);
	if (o >= HEADER_LINE_SIZE)
		o = HEADER_LINE_SIZE - 1;
	if (!h->hex || bytes == NULL || nbytes == 0)
		return;
	hexs[0] = '\0';
	for (size_t i = 0; i < nbytes && ho + 8 < sizeof(hexs); i++) {
		if (i == HEX_MAX) {
			ho += (size_t)snprintf(hexs + ho, sizeof(hexs) - ho, " …");
			break;
		}
		ho += (size_t)snprintf(hexs + ho, sizeof(hexs) - ho, "%s%02x", i ? " " : "", bytes[i]);
	}
	vw = (lw > LABEL_COLS ? lw : LABEL_COLS) + 2 + tw_width(value);
	if (vw + 2 + tw_width(hexs) <= LINE_COLS) {
		for (w = vw; w < LABEL_COLS + 2 + VALUE_COLS && o + 1 < HEADER_LINE_SIZE; w++)
			line[o++] = ' ';
		snprintf(line + o, HEADER_LINE_SIZE - o, "  %s", hexs);
		return;
	}
	if (h->out->n >= HEADER_MAX_LINES)
		return;
	line = h->out->lines[h->out->n++];
	snprintf(line, HEADER_LINE_SIZE, "%*s%s", LABEL_COLS + 2, "", hexs);
}

/* Appends a line of free text (already translated). */
__attribute__((format(printf, 2, 3)))
static void text(struct hv *h, const char *fmt, ...)
{
	va_list ap;

	if (h->out->n >= HEADER_MAX_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(h->out->lines[h->out->n++], HEADER_LINE_SIZE, fmt, ap);
	va_end(ap);
}

/* The bytes of the header at off, or NULL when they were not kept. */
static const uint8_t *at(const struct hv *h, size_t off)
{
	return h->raw != NULL ? h->raw + off : NULL;
}

/* Name of TCP option kind k (IANA "TCP Option Kind Numbers"). */
static const char *option_name(unsigned k)
{
	switch (k) {
	case 0: return "end of option list";
	case 1: return "no-operation (NOP)";
	case 2: return "maximum segment size";
	case 3: return "window scale";
	case 4: return "SACK permitted";
	case 5: return "SACK";
	case 8: return "timestamps";
	case 28: return "user timeout";
	case 29: return "TCP-AO";
	case 30: return "multipath TCP";
	case 34: return "TCP Fast Open cookie";
	case 253: case 254: return "experimental";
	default: return "unknown";
	}
}

/* One option line per option, with kind, length and value (RFC 9293 §3.2). */
static void options(struct hv *h, const uint8_t *p, size_t n)
{
	size_t i = 0;
	unsigned nop_run = 0;
	char val[96];

	if (n == 0) {
		field(h, "options", NULL, 0, "%s", catalog_tr("none"));
		return;
	}
	while (i < n) {
		unsigned kind = p[i];
		size_t len;

		if (kind == 1) {
			nop_run++;
			i++;
			if (i < n && p[i] == 1)
				continue;
			field(h, "option", p + i - nop_run, nop_run, nop_run > 1 ? "kind 1 %s x%u" : "kind 1 %s",
			      catalog_tr(option_name(1)), nop_run);
			nop_run = 0;
			continue;
		}
		if (kind == 0) {
			field(h, "option", p + i, n - i, "kind 0 %s (%zu %s)", catalog_tr(option_name(0)), n - i,
			      catalog_tr("bytes to the end of the header"));
			return;
		}
		if (i + 1 >= n || p[i + 1] < 2 || i + p[i + 1] > n) {
			field(h, "option", p + i, n - i, "kind %u %s: %s", kind, catalog_tr(option_name(kind)),
			      catalog_tr("malformed: its length runs past the header"));
			return;
		}
		len = p[i + 1];
		val[0] = '\0';
		const uint8_t *v = p + i + 2;

		switch (kind) {
		case 2:
			if (len == 4)
				snprintf(val, sizeof(val), "%u", (unsigned)(v[0] << 8 | v[1]));
			break;
		case 3:
			if (len == 3)
				snprintf(val, sizeof(val), "%s %u (×%u)", catalog_tr("shift"), v[0],
					 v[0] <= 14 ? 1u << v[0] : 0u);
			break;
		case 8:
			if (len == 10)
				snprintf(val, sizeof(val), "TSval %lu TSecr %lu",
					 (unsigned long)((uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3]),
					 (unsigned long)((uint32_t)v[4] << 24 | (uint32_t)v[5] << 16 | (uint32_t)v[6] << 8 | v[7]));
			break;
		case 5: {
			size_t o = 0;

			for (size_t b = 0; b + 8 <= len - 2 && o + 24 < sizeof(val); b += 8)
				o += (size_t)snprintf(val + o, sizeof(val) - o, "%s%lu-%lu", b ? " " : "",
						      (unsigned long)((uint32_t)v[b] << 24 | (uint32_t)v[b + 1] << 16 |
								      (uint32_t)v[b + 2] << 8 | v[b + 3]),
						      (unsigned long)((uint32_t)v[b + 4] << 24 | (uint32_t)v[b + 5] << 16 |
								      (uint32_t)v[b + 6] << 8 | v[b + 7]));
			break;
		}
		default:
			break;
		}
		if (val[0] != '\0')
			field(h, "option", p + i, len, "kind %u %s, %s %zu: %s", kind, catalog_tr(option_name(kind)),
			      catalog_tr("length"), len, val);
		else
			field(h, "option", p + i, len, "kind %u %s, %s %zu", kind, catalog_tr(option_name(kind)),
			      catalog_tr("length"), len);
		i += len;
	}
}

unsigned header_view_format(const struct segment *s, int shift, bool hex, struct header_view *out)
{
	struct hv h = { out, hex, NULL };
	char flags[96];
	size_t o = 0;
	unsigned doff;
	static const struct { uint8_t bit; const char *name; } bits[8] = {
		{ TCP_FLAG_CWR, "CWR" }, { TCP_FLAG_ECE, "ECE" }, { TCP_FLAG_URG, "URG" },
		{ TCP_FLAG_ACK, "ACK" }, { TCP_FLAG_PSH, "PSH" }, { TCP_FLAG_RST, "RST" },
		{ TCP_FLAG_SYN, "SYN" }, { TCP_FLAG_FIN, "FIN" },
	};

	out->n = 0;
	if (s->tcp_hdr != NULL && s->tcp_hdr_len >= 20)
		h.raw = s->tcp_hdr;

	/* the IP summary line */
	if (s->ip_version == 4)
		text(&h, "IPv4  %s %u  TTL %u  ID 0x%04x%s  %s %u %s  %s %u",
		     catalog_tr("version"), 4u, s->ttl, s->ip_id, s->ip_df ? "  DF" : "",
		     catalog_tr("header"), (unsigned)s->ip_hdr_len, catalog_tr("bytes"), catalog_tr("total length"),
		     (unsigned)s->ip_total_len);
	else if (s->ip_version == 6)
		text(&h, "IPv6  %s %u  %s %u  %s %u %s  %s %u", catalog_tr("version"), 6u,
		     catalog_tr("hop limit"), s->ttl, catalog_tr("header"), (unsigned)s->ip_hdr_len,
		     catalog_tr("bytes"), catalog_tr("total length"), (unsigned)s->ip_total_len);
	text(&h, "%s", catalog_tr("TCP header (RFC 9293 §3.1, Figure 1):"));

	field(&h, "source port", at(&h, 0), 2, "%u", s->sport);
	field(&h, "destination port", at(&h, 2), 2, "%u", s->dport);
	field(&h, "sequence number", at(&h, 4), 4, "%lu", (unsigned long)s->seq);
	if (s->flags & TCP_FLAG_ACK)
		field(&h, "acknowledgment", at(&h, 8), 4, "%lu", (unsigned long)s->ack);
	else
		field(&h, "acknowledgment", at(&h, 8), 4, "%lu (%s)", (unsigned long)s->ack,
		      catalog_tr("ACK off: not meaningful"));
	if (h.raw != NULL) {
		doff = h.raw[12] >> 4;
		field(&h, "data offset", at(&h, 12), 1, "%u %s = %u %s", doff, catalog_tr("words"), doff * 4,
		      catalog_tr("bytes"));
		field(&h, "reserved", at(&h, 12), 1, "%u%u%u%u%s", (h.raw[12] >> 3) & 1, (h.raw[12] >> 2) & 1,
		      (h.raw[12] >> 1) & 1, h.raw[12] & 1,
		      (h.raw[12] & 0x0f) ? catalog_tr(" (should be zero)") : "");
	} else {
		field(&h, "data offset", NULL, 0, "%s", catalog_tr("not kept by this source"));
	}
	for (int i = 0; i < 8 && o + 8 < sizeof(flags); i++)
		o += (size_t)snprintf(flags + o, sizeof(flags) - o, "%s%s %d", i ? " " : "", bits[i].name,
				      (s->flags & bits[i].bit) ? 1 : 0);
	field(&h, "flags", at(&h, 13), 1, "%s", flags);
	if (s->flags & TCP_FLAG_SYN)
		field(&h, "window", at(&h, 14), 2, "%u (%s)", s->window, catalog_tr("never scaled on a SYN"));
	else if (shift >= 0)
		field(&h, "window", at(&h, 14), 2, "%u << %d = %lu %s", s->window, shift,
		      (unsigned long)s->window << shift, catalog_tr("bytes"));
	else
		field(&h, "window", at(&h, 14), 2, "%u (%s)", s->window, catalog_tr("no window scale negotiated"));
	{
		unsigned ck = h.raw != NULL ? (unsigned)(h.raw[16] << 8 | h.raw[17]) : 0;

		switch ((enum tcp_csum_status)s->csum_status) {
		case TCP_CSUM_OK:
			field(&h, "checksum", at(&h, 16), 2, "0x%04x %s", ck, catalog_tr("ok"));
			break;
		case TCP_CSUM_BAD:
			field(&h, "checksum", at(&h, 16), 2, "0x%04x %s 0x%04x", ck, catalog_tr("bad: should be"),
			      (unsigned)s->csum_expected);
			break;
		case TCP_CSUM_PARTIAL:
			field(&h, "checksum", at(&h, 16), 2, "0x%04x %s", ck,
			      catalog_tr("not checked: offloaded on the sending host (only the pseudo-header sum)"));
			break;
		case TCP_CSUM_CUT:
			field(&h, "checksum", at(&h, 16), 2, "0x%04x %s", ck,
			      catalog_tr("not checked: the snapshot length cut the segment"));
			break;
		case TCP_CSUM_FRAGMENT:
			field(&h, "checksum", at(&h, 16), 2, "0x%04x %s", ck,
			      catalog_tr("not checked: the segment is split over IP fragments"));
			break;
		default:
			field(&h, "checksum", at(&h, 16), 2, "%s", catalog_tr("not checked: no bytes kept"));
			break;
		}
	}
	if (s->flags & TCP_FLAG_URG)
		field(&h, "urgent pointer", at(&h, 18), 2, "%u", s->urgent);
	else
		field(&h, "urgent pointer", at(&h, 18), 2, "%u (%s)", s->urgent, catalog_tr("URG off: not meaningful"));
	if (h.raw != NULL)
		options(&h, h.raw + 20, (size_t)s->tcp_hdr_len - 20);
	return out->n;
}

/* ---- window shifts per connection --------------------------------------- */

struct shift_pair {
	int8_t offered[2];   /* the wscale each side's SYN offered, -1 none, -2 not seen */
};

struct header_shifts {
	struct shift_pair *v;
	size_t cap;
};

struct header_shifts *header_shifts_new(void)
{
	return calloc(1, sizeof(struct header_shifts));
}

void header_shifts_free(struct header_shifts *h)
{
	if (h != NULL) {
		free(h->v);
		free(h);
	}
}

void header_shift_note(struct header_shifts *h, unsigned conn, int from, const struct segment *s)
{
	if (h == NULL || from < 0 || from > 1)
		return;
	if (conn >= h->cap) {
		size_t cap = h->cap ? h->cap : 64;
		struct shift_pair *v;

		while (cap <= conn)
			cap *= 2;
		v = realloc(h->v, cap * sizeof(*v));
		if (v == NULL)
			return;
		for (size_t i = h->cap; i < cap; i++)
			v[i].offered[0] = v[i].offered[1] = -2;
		h->v = v;
		h->cap = cap;
	}
	if ((s->flags & TCP_FLAG_SYN) && !(s->flags & TCP_FLAG_RST))
		h->v[conn].offered[from] = s->opt.has_wscale ? (int8_t)(s->opt.wscale > 14 ? 14 : s->opt.wscale) : -1;
}

int header_shift(const struct header_shifts *h, unsigned conn, int from, const struct segment *s)
{
	if (h == NULL || conn >= h->cap || from < 0 || from > 1 || (s->flags & TCP_FLAG_SYN))
		return -1;
	if (h->v[conn].offered[0] < 0 || h->v[conn].offered[1] < 0)
		return -1;
	return h->v[conn].offered[from];
}
