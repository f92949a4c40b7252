/*
 * render.c — what every renderer shares: the NULL-safe wrappers callers use
 * (render_emit, render_finish, render_destroy) and the output buffer and
 * number formatting of render_buf.h.
 *
 * The formatting here is hand-rolled rather than printf-based because it
 * runs for every field of every segment of a replay (see render_buf.h);
 * each function writes into the renderer's own buffer and never allocates.
 */
#include "tcplab/render.h"

#include <string.h>
#include <time.h>

#include "render_buf.h"

/* ---- wrappers ---------------------------------------------------------- */

/* Sends ev to r; does nothing when r, its emit or ev is NULL. */
void render_emit(struct renderer *r, const struct tl_event *ev)
{
	if (r != NULL && r->emit != NULL && ev != NULL)
		r->emit(r, ev);
}

/* Flushes r's output (the FILE stays open); NULL-safe. */
void render_finish(struct renderer *r)
{
	if (r != NULL && r->finish != NULL)
		r->finish(r);
}

/* The input paused: prints what r holds back (contract in render.h). */
void render_idle(struct renderer *r)
{
	if (r != NULL && r->idle != NULL)
		r->idle(r);
}

/* Frees r without writing anything (call render_finish first); NULL-safe. */
void render_destroy(struct renderer *r)
{
	if (r != NULL && r->destroy != NULL)
		r->destroy(r);
}

/* ---- output buffer ----------------------------------------------------- */

const struct flag_name tcp_flag_names[TCP_FLAG_NAME_COUNT] = {
	{ TCP_FLAG_SYN, "SYN" }, { TCP_FLAG_FIN, "FIN" }, { TCP_FLAG_RST, "RST" },
	{ TCP_FLAG_PSH, "PSH" }, { TCP_FLAG_ACK, "ACK" }, { TCP_FLAG_URG, "URG" },
	{ TCP_FLAG_ECE, "ECE" }, { TCP_FLAG_CWR, "CWR" },
};

/* Starts an empty buffer that drains into out. */
void rbuf_init(struct rbuf *b, FILE *out)
{
	b->out = out;
	b->len = 0;
	b->iso_valid = false;
}

/*
 * Hands the buffered bytes to stdio.  A short write (disk full, closed
 * pipe) is not reported here: stdio keeps the error flag on the FILE, where
 * the caller that owns the FILE can check it with ferror().
 */
void rbuf_flush(struct rbuf *b)
{
	if (b->len > 0 && b->out != NULL)
		(void)fwrite(b->data, 1, b->len, b->out);
	b->len = 0;
}

/* Appends n bytes, draining the buffer whenever it fills. */
void rbuf_write_slow(struct rbuf *b, const char *s, size_t n)
{
	while (n > 0) {
		size_t room = RBUF_SIZE - b->len;
		size_t k = n < room ? n : room;

		memcpy(b->data + b->len, s, k);
		b->len += k;
		s += k;
		n -= k;
		if (b->len == RBUF_SIZE)
			rbuf_flush(b);
	}
}

/* Appends n spaces; n <= 0 appends nothing. */
void rbuf_spaces(struct rbuf *b, int n)
{
	static const char blanks[] = "                                ";

	while (n > 0) {
		int k = n < (int)sizeof(blanks) - 1 ? n : (int)sizeof(blanks) - 1;

		rbuf_write(b, blanks, (size_t)k);
		n -= k;
	}
}

/* Number of decimal digits of v (1 for 0). */
int dec_digits(uint64_t v)
{
	int n = 1;

	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}

/* "00" to "99": two digits per division in the formatting below, which
 * runs for every number of every line a replay prints. */
static const char digit_pairs[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

/* Writes v in decimal into the 20 bytes before end; returns the first digit. */
static char *u64_digits(uint64_t v, char *end)
{
	char *p = end;

	while (v >= 100) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		p -= 2;
		memcpy(p, digit_pairs + 2 * v, 2);
	} else {
		*--p = (char)('0' + v);
	}
	return p;
}

/* Appends v in decimal. */
void rbuf_u64(struct rbuf *b, uint64_t v)
{
	char *p = rbuf_reserve(b, 20);
	char *end = p + dec_digits(v);

	(void)u64_digits(v, end);
	rbuf_commit(b, end);
}

/* Writes v as exactly `width` digits, zero-padded, at out (v < 10^width). */
static void digits_zero(uint64_t v, int width, char *out)
{
	for (int i = width - 1; i >= 0; i--) {
		out[i] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* Appends v with exactly `width` digits, zero-padded (v < 10^width, width <= 20). */
static void rbuf_u64_zero(struct rbuf *b, uint64_t v, int width)
{
	char *p = rbuf_reserve(b, 20);

	digits_zero(v, width, p);
	rbuf_commit(b, p + width);
}

/*
 * Splits ns into whole seconds and a fraction of `decimals` digits (6 or 9).
 * With 6 the value is rounded to the nearest microsecond, half up, so
 * 1.9999996 s prints as 2.000000 rather than 1.999999.
 */
static void split_seconds(uint64_t ns, int decimals, uint64_t *whole, uint64_t *frac)
{
	if (decimals == 9) {
		*whole = ns / 1000000000u;
		*frac = ns % 1000000000u;
		return;
	}
	/* ns / 1000 rounded, without overflowing near UINT64_MAX. */
	uint64_t us = ns / 1000u + (ns % 1000u >= 500u ? 1u : 0u);

	*whole = us / 1000000u;
	*frac = us % 1000000u;
}

/* Appends ns as seconds with 6 (rounded to µs) or 9 (exact) decimals. */
int rbuf_seconds(struct rbuf *b, uint64_t ns, int decimals)
{
	uint64_t whole, frac;

	if (decimals != 9)
		decimals = 6;
	split_seconds(ns, decimals, &whole, &frac);
	rbuf_u64(b, whole);
	rbuf_putc(b, '.');
	rbuf_u64_zero(b, frac, decimals);
	return dec_digits(whole) + 1 + decimals;
}

/* Characters rbuf_seconds(b, ns, decimals) would write. */
int seconds_width(uint64_t ns, int decimals)
{
	uint64_t whole, frac;

	if (decimals != 9)
		decimals = 6;
	split_seconds(ns, decimals, &whole, &frac);
	return dec_digits(whole) + 1 + decimals;
}

/* Appends ns since the epoch as "YYYY-MM-DDTHH:MM:SS.ffffffZ" (UTC). */
void rbuf_iso8601(struct rbuf *b, uint64_t ns)
{
	uint64_t whole, frac;

	split_seconds(ns, 6, &whole, &frac);
	if (!b->iso_valid || b->iso_second != whole) {
		struct tm tm;
		time_t t = (time_t)whole;
		char *p = b->iso_text;

		if (gmtime_r(&t, &tm) == NULL) {
			/* Cannot happen for 64-bit time_t and a 64-bit ns count; be safe. */
			rbuf_puts(b, "?");
			return;
		}
		digits_zero((uint64_t)tm.tm_year + 1900u, 4, p);
		p[4] = '-';
		digits_zero((uint64_t)tm.tm_mon + 1u, 2, p + 5);
		p[7] = '-';
		digits_zero((uint64_t)tm.tm_mday, 2, p + 8);
		p[10] = 'T';
		digits_zero((uint64_t)tm.tm_hour, 2, p + 11);
		p[13] = ':';
		digits_zero((uint64_t)tm.tm_min, 2, p + 14);
		p[16] = ':';
		digits_zero((uint64_t)tm.tm_sec, 2, p + 17);
		b->iso_valid = true;
		b->iso_second = whole;
	}
	rbuf_write(b, b->iso_text, sizeof(b->iso_text));
	rbuf_putc(b, '.');
	rbuf_u64_zero(b, frac, 6);
	rbuf_putc(b, 'Z');
}

/*
 * Formats "addr:port", with the IPv6 address in brackets as RFC 3986 §3.2.2
 * writes it in URIs ("[::1]:80"), so the port cannot be mistaken for the
 * last group.  Returns the length of the text in buf.
 */
/* Writes "addr:port" at buf (ENDPOINT_TEXT_SIZE bytes, not terminated);
 * returns the end. */
static char *endpoint_text(const struct ip_addr *a, uint16_t port, char *buf)
{
	char addr[48];
	char digits[20];
	char *p = u64_digits(port, digits + sizeof(digits));
	size_t plen = (size_t)(digits + sizeof(digits) - p);
	bool v6 = a != NULL && a->family == 6;
	size_t alen;
	char *q = buf;

	ip_addr_format(a, addr, sizeof(addr));
	alen = strnlen(addr, sizeof(addr) - 1);
	if (v6)
		*q++ = '[';
	memcpy(q, addr, alen);
	q += alen;
	if (v6)
		*q++ = ']';
	*q++ = ':';
	memcpy(q, p, plen);
	return q + plen;
}

size_t endpoint_format(const struct ip_addr *a, uint16_t port, char buf[ENDPOINT_TEXT_SIZE])
{
	char *end = endpoint_text(a, port, buf);

	*end = '\0';
	return (size_t)(end - buf);
}

/* Appends "addr:port" (contract in render_buf.h). */
void rbuf_endpoint(struct rbuf *b, const struct ip_addr *a, uint16_t port)
{
	rbuf_commit(b, endpoint_text(a, port, rbuf_reserve(b, ENDPOINT_TEXT_SIZE)));
}

/*
 * Length of the well-formed UTF-8 sequence at p (RFC 3629 §4's table of
 * well-formed byte sequences), or 0.  The renderers pass text from the
 * tracker through unchanged when it is valid UTF-8 and escape what is not,
 * so the output is always valid UTF-8 whatever the input held.
 */
size_t utf8_seq_len(const unsigned char *p, size_t avail)
{
	unsigned char c;
	unsigned char lo = 0x80, hi = 0xBF;
	size_t need;

	if (avail == 0)
		return 0;
	c = p[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		if (c == 0xE0)
			lo = 0xA0;      /* no overlong forms */
		else if (c == 0xED)
			hi = 0x9F;      /* no UTF-16 surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		if (c == 0xF0)
			lo = 0x90;      /* no overlong forms */
		else if (c == 0xF4)
			hi = 0x8F;      /* nothing above U+10FFFF */
	} else {
		return 0;
	}
	if (avail < need)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return need;
}

/* utf8_seq_len() inside a NUL-terminated string: reads no byte past the NUL. */
size_t utf8_str_seq_len(const unsigned char *p)
{
	size_t avail = 1;

	while (avail < 4 && p[avail] != '\0')
		avail++;
	return utf8_seq_len(p, avail);
}

/* Shows what r holds back; NULL-safe (contract in render.h). */
void render_flush(struct renderer *r)
{
	if (r != NULL && r->flush != NULL)
		r->flush(r);
}
