/*
 * instream.c — a capture's bytes as a FILE, inflating gzip on the fly.
 *
 * A glibc fopencookie() stream over a file descriptor.  The first bytes are
 * read ahead to recognise gzip (RFC 1952 §2.3.1: ID1 0x1f, ID2 0x8b) and to
 * hand the caller the format's magic number without consuming it: a pipe
 * cannot be rewound.  Inflation streams in fixed buffers, so memory does not
 * grow with the file; concatenated members (RFC 1952 §2.2) are inflated one
 * after another, as gzip -d does.
 */
#include "tcplab/instream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#define IN_BUF 65536

struct instream {
	int fd;
	bool own_fd;
	bool gzip;
	bool eof_in;              /* the fd reached its end */
	bool failed;              /* corrupt compressed data: no more bytes */
	bool z_ready;
	z_stream z;
	uint8_t in[IN_BUF];       /* raw bytes read from fd, [in_off, in_len) unused */
	size_t in_off, in_len;
	uint8_t peek[4];          /* inflated bytes read ahead, [peek_off, peek_len) undelivered */
	size_t peek_off, peek_len;
};

/* Contract: refills s->in from fd when it is used up; false at end of input
 * or on a read error (errno set). */
static bool fill(struct instream *s)
{
	ssize_t n;

	if (s->in_off < s->in_len)
		return true;
	if (s->eof_in)
		return false;
	do
		n = read(s->fd, s->in, sizeof(s->in));
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		s->eof_in = true;
		return false;
	}
	s->in_off = 0;
	s->in_len = (size_t)n;
	return true;
}

/* Contract: reads up to size bytes of the stream's content (inflated when
 * gzip) into buf; returns the count, 0 at the end, -1 on a corrupt stream. */
static ssize_t raw_read(struct instream *s, uint8_t *buf, size_t size)
{
	if (!s->gzip) {
		size_t n;

		if (!fill(s))
			return 0;
		n = s->in_len - s->in_off;
		if (n > size)
			n = size;
		memcpy(buf, s->in + s->in_off, n);
		s->in_off += n;
		return (ssize_t)n;
	}
	if (s->failed)
		return -1;
	uInt want = (uInt)(size > UINT32_MAX ? UINT32_MAX : size);

	s->z.next_out = buf;
	s->z.avail_out = want;
	while (s->z.avail_out == want) {
		int rc;

		if (!fill(s))
			break;
		s->z.next_in = s->in + s->in_off;
		s->z.avail_in = (uInt)(s->in_len - s->in_off);
		rc = inflate(&s->z, Z_NO_FLUSH);
		s->in_off = s->in_len - s->z.avail_in;
		if (rc == Z_STREAM_END) {
			/* another member may follow (RFC 1952 §2.2); anything else
			 * after a member is ignored, as gzip -d ignores it */
			if (!fill(s) || s->in[s->in_off] != 0x1f) {
				s->eof_in = true;
				s->in_off = s->in_len;
				break;
			}
			if (inflateReset(&s->z) != Z_OK) {
				s->failed = true;
				break;
			}
			continue;
		}
		if (rc != Z_OK && rc != Z_BUF_ERROR) {
			s->failed = true;
			break;
		}
	}
	if (s->z.avail_out == want && s->failed)
		return -1;
	return (ssize_t)(want - s->z.avail_out);
}

/* Contract: the cookie's read function: read-ahead bytes first. */
static ssize_t cookie_read(void *cookie, char *buf, size_t size)
{
	struct instream *s = cookie;

	if (s->peek_off < s->peek_len) {
		size_t n = s->peek_len - s->peek_off;

		if (n > size)
			n = size;
		memcpy(buf, s->peek + s->peek_off, n);
		s->peek_off += n;
		return (ssize_t)n;
	}
	return raw_read(s, (uint8_t *)buf, size);
}

/* Contract: the cookie's close function: frees everything, closes an owned fd. */
static int cookie_close(void *cookie)
{
	struct instream *s = cookie;
	int rc = 0;

	if (s->z_ready)
		inflateEnd(&s->z);
	if (s->own_fd)
		rc = close(s->fd);
	free(s);
	return rc;
}

bool instream_is_gzip_magic(const uint8_t *p, size_t n)
{
	return p != NULL && n >= 2 && p[0] == 0x1f && p[1] == 0x8b;
}

FILE *instream_open(int fd, bool own_fd, uint8_t peek[4], size_t *npeek, bool *gzip,
		    char errbuf[INSTREAM_ERRBUF_SIZE])
{
	static const cookie_io_functions_t io = { .read = cookie_read, .close = cookie_close };
	struct instream *s = calloc(1, sizeof(*s));
	FILE *fp;

	if (errbuf)
		errbuf[0] = '\0';
	if (s == NULL) {
		if (errbuf)
			snprintf(errbuf, INSTREAM_ERRBUF_SIZE, "out of memory");
		return NULL;
	}
	s->fd = fd;
	/* read until 2 raw bytes are there (a pipe may deliver them one at a time) */
	while (!s->eof_in && s->in_len < 2) {
		ssize_t n;

		do
			n = read(fd, s->in + s->in_len, sizeof(s->in) - s->in_len);
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			s->eof_in = true;
		else
			s->in_len += (size_t)n;
	}
	if (instream_is_gzip_magic(s->in, s->in_len)) {
		/* 15 + 16: a gzip wrapper, up to a 32 KiB window */
		if (inflateInit2(&s->z, 15 + 16) != Z_OK) {
			if (errbuf)
				snprintf(errbuf, INSTREAM_ERRBUF_SIZE, "cannot start gzip decompression");
			free(s);
			return NULL;
		}
		s->z_ready = true;
		s->gzip = true;
	}
	/* read the magic ahead: up to 4 bytes of content */
	while (s->peek_len < 4) {
		ssize_t n = raw_read(s, s->peek + s->peek_len, 4 - s->peek_len);

		if (n <= 0)
			break;
		s->peek_len += (size_t)n;
	}
	if (peek)
		memcpy(peek, s->peek, s->peek_len);
	if (npeek)
		*npeek = s->peek_len;
	if (gzip)
		*gzip = s->gzip;
	s->own_fd = own_fd;
	fp = fopencookie(s, "rb", io);
	if (fp == NULL) {
		if (errbuf)
			snprintf(errbuf, INSTREAM_ERRBUF_SIZE, "cannot open a stream: %s", strerror(errno));
		if (s->z_ready)
			inflateEnd(&s->z);
		free(s);
		return NULL;
	}
	return fp;
}
