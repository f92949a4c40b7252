/*
 * render_buf.h — private to the renderers (src/render*.c): an output buffer
 * and the number, time and address formatting both formats share.
 *
 * Why a buffer of our own: replay renders about a million segments a
 * second, and one fprintf per field costs more than the rest of the
 * pipeline.  A renderer builds each event in a fixed buffer that lives in
 * its private state (no per-event malloc) and hands it to stdio with one
 * fwrite when the event is complete, so the order of lines stays right even
 * when someone else writes to the same FILE between events.  Text longer
 * than the buffer (a very long note) is written in pieces, never cut.
 *
 * Not a public interface: nothing outside src/render*.c includes this.
 */
#ifndef TCPLAB_RENDER_BUF_H
#define TCPLAB_RENDER_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "tcplab/event.h"
#include "tcplab/segment.h"

#define RBUF_SIZE 8192

struct rbuf {
	FILE *out;
	size_t len;
	/* rbuf_iso8601's cache: the date and time of day of the last whole
	 * second it formatted (a capture's summaries mostly share seconds). */
	bool iso_valid;
	uint64_t iso_second;
	char iso_text[19];       /* "YYYY-MM-DDTHH:MM:SS", not terminated */
	char data[RBUF_SIZE];
};

/* Room for "[" + INET6_ADDRSTRLEN + "]:" + 5 port digits. */
#define ENDPOINT_TEXT_SIZE 64

/* Starts an empty buffer that drains into out. */
void rbuf_init(struct rbuf *b, FILE *out);

/* Hands everything buffered to stdio (one fwrite) and empties the buffer. */
void rbuf_flush(struct rbuf *b);

/* rbuf_write's slow path: n does not fit in what is left of the buffer. */
void rbuf_write_slow(struct rbuf *b, const char *s, size_t n);

/* Appends n bytes (any n: drains the buffer as often as needed).  Inline:
 * a replay line is dozens of short pieces, and a call each was measurable. */
static inline void rbuf_write(struct rbuf *b, const char *s, size_t n)
{
	if (n < RBUF_SIZE - b->len) {
		memcpy(b->data + b->len, s, n);
		b->len += n;
		return;
	}
	rbuf_write_slow(b, s, n);
}

/* Room for n (<= RBUF_SIZE) more bytes, written in place at the pointer
 * returned and then counted with rbuf_commit: numbers are formatted
 * straight into the buffer, without a copy. */
static inline char *rbuf_reserve(struct rbuf *b, size_t n)
{
	if (RBUF_SIZE - b->len < n)
		rbuf_flush(b);
	return b->data + b->len;
}

/* Counts the bytes written since rbuf_reserve, up to end. */
static inline void rbuf_commit(struct rbuf *b, const char *end)
{
	b->len = (size_t)(end - b->data);
}

/* Appends one byte. */
static inline void rbuf_putc(struct rbuf *b, char c)
{
	if (b->len == RBUF_SIZE)
		rbuf_flush(b);
	b->data[b->len++] = c;
}

/* Appends a NUL-terminated string; NULL appends nothing.  Inline so that
 * the length of a literal is computed at compile time. */
static inline void rbuf_puts(struct rbuf *b, const char *s)
{
	if (s != NULL)
		rbuf_write(b, s, strlen(s));
}

/* Appends n spaces (n <= 0: nothing). */
void rbuf_spaces(struct rbuf *b, int n);

/* Appends v in decimal. */
void rbuf_u64(struct rbuf *b, uint64_t v);

/* Appends "addr:port" as endpoint_format writes it. */
void rbuf_endpoint(struct rbuf *b, const struct ip_addr *a, uint16_t port);

/* Number of decimal digits of v (1 for 0). */
int dec_digits(uint64_t v);

/*
 * Appends ns as seconds with `decimals` digits after the point (6: rounded
 * to the nearest microsecond; 9: exact).  Returns the number of characters
 * written, so a caller can align it.
 */
int rbuf_seconds(struct rbuf *b, uint64_t ns, int decimals);

/* Characters rbuf_seconds(b, ns, decimals) would write. */
int seconds_width(uint64_t ns, int decimals);

/*
 * Appends ns since the epoch as ISO-8601 UTC with microseconds:
 * "2024-05-01T12:00:00.123456Z" (27 characters).
 */
void rbuf_iso8601(struct rbuf *b, uint64_t ns);

/*
 * Formats "198.18.0.1:43512" or, for IPv6, "[2001:db8::1]:80" into buf
 * (ENDPOINT_TEXT_SIZE bytes).  Returns the length.
 */
size_t endpoint_format(const struct ip_addr *a, uint16_t port, char buf[ENDPOINT_TEXT_SIZE]);

/*
 * Length of the well-formed UTF-8 sequence (RFC 3629 §4: no overlongs, no
 * surrogates, nothing above U+10FFFF) that starts at p, reading at most
 * avail bytes; 0 when the bytes there are not one.  ASCII counts as 1.
 */
size_t utf8_seq_len(const unsigned char *p, size_t avail);

/* utf8_seq_len() for a position inside a NUL-terminated string (the NUL
 * bounds the read: it is never a continuation byte). */
size_t utf8_str_seq_len(const unsigned char *p);

/* The TCP flag names in the order tcpdump users expect (RFC 9293 §3.1 bits). */
struct flag_name {
	uint8_t bit;
	const char *name;
};
#define TCP_FLAG_NAME_COUNT 8
extern const struct flag_name tcp_flag_names[TCP_FLAG_NAME_COUNT];

#endif
