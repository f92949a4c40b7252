/*
 * test_pcapng.c — unit tests for pcapng.c (pcapng blocks → packets, every
 * length checked) and instream.c (gzip or plain bytes as a FILE, with the
 * magic number read ahead).
 *
 * Files are assembled in memory block by block, in either byte order, and
 * read through fmemopen(); instream is fed through a pipe, as standard
 * input would be, and from gzip's own output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcplab/instream.h"
#include "tcplab/pcapng.h"

struct img {
	uint8_t b[65536];
	size_t len;
	bool swap;
};

static void p8(struct img *m, uint8_t v)
{
	assert_true(m->len < sizeof(m->b));
	m->b[m->len++] = v;
}

static void p16(struct img *m, uint16_t v)
{
	if (m->swap) {
		p8(m, (uint8_t)(v >> 8));
		p8(m, (uint8_t)v);
	} else {
		p8(m, (uint8_t)v);
		p8(m, (uint8_t)(v >> 8));
	}
}

static void p32(struct img *m, uint32_t v)
{
	if (m->swap) {
		p16(m, (uint16_t)(v >> 16));
		p16(m, (uint16_t)v);
	} else {
		p16(m, (uint16_t)v);
		p16(m, (uint16_t)(v >> 16));
	}
}

/* Section header (the host here is little-endian; swap writes big-endian). */
static void shb(struct img *m)
{
	p32(m, 0x0A0D0D0A);
	p32(m, 28);
	p32(m, 0x1A2B3C4D);
	p16(m, 1);
	p16(m, 0);
	p32(m, 0xffffffff);
	p32(m, 0xffffffff);
	p32(m, 28);
}

/* Interface: link, snaplen, optional if_tsresol (tsresol >= 0) and if_tsoffset. */
static void idb(struct img *m, uint16_t link, uint32_t snaplen, int tsresol, int64_t tsoffset)
{
	uint32_t len = 20 + (tsresol >= 0 ? 8 : 0) + (tsoffset ? 12 : 0) + 4;

	p32(m, 1);
	p32(m, len);
	p16(m, link);
	p16(m, 0);
	p32(m, snaplen);
	if (tsresol >= 0) {
		p16(m, 9);
		p16(m, 1);
		p8(m, (uint8_t)tsresol);
		p8(m, 0);
		p8(m, 0);
		p8(m, 0);
	}
	if (tsoffset) {
		p16(m, 14);
		p16(m, 8);
		if (m->swap) {
			p32(m, (uint32_t)((uint64_t)tsoffset >> 32));
			p32(m, (uint32_t)tsoffset);
		} else {
			p32(m, (uint32_t)tsoffset);
			p32(m, (uint32_t)((uint64_t)tsoffset >> 32));
		}
	}
	p16(m, 0);               /* opt_endofopt */
	p16(m, 0);
	p32(m, len);
}

static void epb(struct img *m, uint32_t ifid, uint64_t ts, const uint8_t *d, uint32_t caplen, uint32_t wirelen)
{
	uint32_t pad = (4 - caplen % 4) % 4, len = 32 + caplen + pad;

	p32(m, 6);
	p32(m, len);
	p32(m, ifid);
	p32(m, (uint32_t)(ts >> 32));
	p32(m, (uint32_t)ts);
	p32(m, caplen);
	p32(m, wirelen);
	for (uint32_t i = 0; i < caplen; i++)
		p8(m, d[i]);
	for (uint32_t i = 0; i < pad; i++)
		p8(m, 0);
	p32(m, len);
}

static void spb(struct img *m, const uint8_t *d, uint32_t n, uint32_t wirelen)
{
	uint32_t pad = (4 - n % 4) % 4, len = 16 + n + pad;

	p32(m, 3);
	p32(m, len);
	p32(m, wirelen);
	for (uint32_t i = 0; i < n; i++)
		p8(m, d[i]);
	for (uint32_t i = 0; i < pad; i++)
		p8(m, 0);
	p32(m, len);
}

static void obsolete_pb(struct img *m, uint16_t ifid, uint64_t ts, const uint8_t *d, uint32_t n)
{
	uint32_t pad = (4 - n % 4) % 4, len = 32 + n + pad;

	p32(m, 2);
	p32(m, len);
	p16(m, ifid);
	p16(m, 0);
	p32(m, (uint32_t)(ts >> 32));
	p32(m, (uint32_t)ts);
	p32(m, n);
	p32(m, n);
	for (uint32_t i = 0; i < n; i++)
		p8(m, d[i]);
	for (uint32_t i = 0; i < pad; i++)
		p8(m, 0);
	p32(m, len);
}

/* A block of another type (name resolution), to be skipped. */
static void other(struct img *m)
{
	p32(m, 4);
	p32(m, 16);
	p32(m, 0);
	p32(m, 16);
}

static const uint8_t DATA[7] = { 1, 2, 3, 4, 5, 6, 7 };

struct readall {
	int rc;                       /* the last pcapng_next result */
	int n;
	struct pcapng_packet p[16];
	uint8_t copy[16][64];
	char err[PCAPNG_ERRBUF_SIZE];
	bool opened;
};

static struct readall read_img(const struct img *m)
{
	struct readall ra;
	FILE *fp = fmemopen((void *)m->b, m->len, "rb");
	struct pcapng_reader *r;

	memset(&ra, 0, sizeof(ra));
	assert_non_null(fp);
	r = pcapng_open(fp, ra.err);
	if (r == NULL) {
		fclose(fp);
		return ra;
	}
	ra.opened = true;
	for (;;) {
		struct pcapng_packet pk;

		ra.rc = pcapng_next(r, &pk);
		if (ra.rc != PCAPNG_PACKET)
			break;
		assert_true(ra.n < 16);
		assert_true(pk.caplen <= 64);
		memcpy(ra.copy[ra.n], pk.data, pk.caplen);
		ra.p[ra.n++] = pk;
	}
	snprintf(ra.err, sizeof(ra.err), "%s", pcapng_error(r));
	/* after the end or an error, it stays at the end */
	assert_int_equal(pcapng_next(r, &(struct pcapng_packet){ 0 }), PCAPNG_EOF);
	pcapng_close(r);
	fclose(fp);
	return ra;
}

static void test_interfaces_of_different_link_types(void **state)
{
	for (int sw = 0; sw < 2; sw++) {
		struct img m = { .swap = sw };
		struct readall ra;

		(void)state;
		shb(&m);
		other(&m);
		idb(&m, 1, 262144, -1, 0);                /* Ethernet, µs */
		idb(&m, 276, 0, 9, 0);                    /* SLL2, ns */
		epb(&m, 0, 1700000000123456ull, DATA, 7, 60);
		epb(&m, 1, 1700000000999999999ull, DATA, 3, 3);
		other(&m);
		epb(&m, 0, 1700000001000000ull, DATA, 0, 0);
		obsolete_pb(&m, 1, 5, DATA, 2);
		spb(&m, DATA, 7, 100);
		ra = read_img(&m);
		assert_true(ra.opened);
		assert_int_equal(ra.rc, PCAPNG_EOF);
		assert_int_equal(ra.n, 5);
		assert_int_equal(ra.p[0].link, 1);
		assert_int_equal(ra.p[0].ts_ns, 1700000000123456000ull);
		assert_int_equal(ra.p[0].caplen, 7);
		assert_int_equal(ra.p[0].wirelen, 60);
		assert_memory_equal(ra.copy[0], DATA, 7);
		assert_int_equal(ra.p[1].link, 276);
		assert_int_equal(ra.p[1].interface, 1);
		assert_int_equal(ra.p[1].ts_ns, 1700000000999999999ull);
		assert_int_equal(ra.p[2].caplen, 0);
		assert_int_equal(ra.p[3].link, 276);
		assert_int_equal(ra.p[3].ts_ns, 5);
		assert_int_equal(ra.p[4].link, 1);       /* simple packet: interface 0 */
		/* a simple packet's captured length is min(original length, snaplen),
		 * bounded by its block: the padding byte counts (libpcap agrees) */
		assert_int_equal(ra.p[4].caplen, 8);
		assert_int_equal(ra.p[4].wirelen, 100);
	}
}

static void test_timestamps(void **state)
{
	struct img m = { 0 };
	struct readall ra;

	(void)state;
	shb(&m);
	idb(&m, 101, 0, 0x80 | 10, 0);                /* 2^-10 s */
	idb(&m, 101, 0, 3, -100);                     /* ms, offset -100 s */
	idb(&m, 101, 0, 3, 50);                       /* ms, offset +50 s */
	epb(&m, 0, 1024 * 3 + 512, DATA, 1, 1);
	epb(&m, 1, 1000 * 150 + 1, DATA, 1, 1);
	epb(&m, 1, 1000 * 50, DATA, 1, 1);            /* before the epoch: 0 */
	epb(&m, 2, 1, DATA, 1, 1);
	ra = read_img(&m);
	assert_int_equal(ra.n, 4);
	assert_int_equal(ra.p[0].ts_ns, 3500000000ull);
	assert_int_equal(ra.p[1].ts_ns, 50001000000ull);
	assert_int_equal(ra.p[2].ts_ns, 0);
	assert_int_equal(ra.p[3].ts_ns, 50001000000ull);
}

static void test_big_endian_offset_and_simple_packets(void **state)
{
	struct img m = { .swap = true };
	struct readall ra;

	(void)state;
	shb(&m);
	idb(&m, 1, 4, 3, 100);                        /* ms, +100 s, snaplen 4 */
	epb(&m, 0, 2500, DATA, 1, 1);
	spb(&m, DATA, 7, 7);                          /* 7 bytes, the snaplen keeps 4 */
	spb(&m, DATA, 7, 2);                          /* the original was 2 bytes */
	/* a second interface block that is too short, mid-file */
	p32(&m, 1);
	p32(&m, 16);
	p32(&m, 1);
	p32(&m, 16);
	ra = read_img(&m);
	assert_int_equal(ra.n, 3);
	assert_int_equal(ra.p[0].ts_ns, 102500000000ull);
	assert_int_equal(ra.p[1].caplen, 4);
	assert_int_equal(ra.p[2].caplen, 2);
	assert_int_equal(ra.rc, PCAPNG_ERR);
	assert_non_null(strstr(ra.err, "too short"));
}

static void test_second_section_resets_interfaces(void **state)
{
	struct img m = { 0 };
	struct readall ra;
	size_t at;

	(void)state;
	shb(&m);
	idb(&m, 1, 0, -1, 0);
	idb(&m, 113, 0, -1, 0);
	epb(&m, 1, 0, DATA, 1, 1);
	/* a big-endian section follows: its interface 0 is raw IP */
	at = m.len;
	m.swap = true;
	shb(&m);
	idb(&m, 101, 0, -1, 0);
	epb(&m, 0, 0, DATA, 1, 1);
	ra = read_img(&m);
	assert_int_equal(ra.rc, PCAPNG_EOF);
	assert_int_equal(ra.n, 2);
	assert_int_equal(ra.p[0].link, 113);
	assert_int_equal(ra.p[1].link, 101);
	/* the old section's interface 1 does not exist in the new one */
	m.len = at;
	shb(&m);
	idb(&m, 101, 0, -1, 0);
	epb(&m, 1, 0, DATA, 1, 1);
	ra = read_img(&m);
	assert_int_equal(ra.rc, PCAPNG_ERR);
	assert_non_null(strstr(ra.err, "interface 1"));
}

static void test_errors(void **state)
{
	struct img m;
	struct readall ra;

	(void)state;
	/* not pcapng; empty; a section without interfaces (no packets, no error) */
	memset(&m, 0, sizeof(m));
	idb(&m, 1, 0, -1, 0);
	ra = read_img(&m);
	assert_false(ra.opened);
	assert_non_null(strstr(ra.err, "section header"));
	m.len = 0;
	ra = read_img(&m);
	assert_false(ra.opened);
	assert_non_null(strstr(ra.err, "empty"));
	shb(&m);
	ra = read_img(&m);
	assert_true(ra.opened);
	assert_int_equal(ra.n, 0);
	assert_int_equal(ra.rc, PCAPNG_EOF);

	/* a packet before any interface */
	memset(&m, 0, sizeof(m));
	shb(&m);
	epb(&m, 0, 0, DATA, 1, 1);
	ra = read_img(&m);
	assert_false(ra.opened);

	/* a bad byte-order magic */
	memset(&m, 0, sizeof(m));
	shb(&m);
	m.b[8] = 0x99;
	ra = read_img(&m);
	assert_false(ra.opened);
	assert_non_null(strstr(ra.err, "byte-order"));

	/* block lengths: < 12, not a multiple of 4, above the limit, trailing copy differs */
	for (int k = 0; k < 4; k++) {
		static const uint32_t lens[4] = { 8, 42, PCAPNG_MAX_BLOCK + 4, 0 };

		memset(&m, 0, sizeof(m));
		shb(&m);
		idb(&m, 1, 0, -1, 0);
		epb(&m, 0, 0, DATA, 7, 7);
		if (k < 3)
			memcpy(m.b + 28 + 24 + 4, &lens[k], 4);
		else
			m.b[m.len - 4] ^= 4;
		ra = read_img(&m);
		assert_true(ra.opened);
		assert_int_equal(ra.n, 0);
		assert_int_equal(ra.rc, PCAPNG_ERR);
	}
	/* a captured length larger than its block; interface id out of range; short blocks */
	memset(&m, 0, sizeof(m));
	shb(&m);
	idb(&m, 1, 0, -1, 0);
	epb(&m, 0, 0, DATA, 7, 7);
	m.b[m.len - 40 + 20] = 9;                     /* caplen 9 in a block with room for 8 */
	ra = read_img(&m);
	assert_int_equal(ra.rc, PCAPNG_ERR);
	assert_non_null(strstr(ra.err, "captured length"));
	memset(&m, 0, sizeof(m));
	shb(&m);
	idb(&m, 1, 0, -1, 0);
	epb(&m, 3, 0, DATA, 7, 7);
	ra = read_img(&m);
	assert_int_equal(ra.rc, PCAPNG_ERR);
	for (uint32_t t = 2; t <= 6; t += 1) {
		if (t == 4 || t == 5)
			continue;
		memset(&m, 0, sizeof(m));
		shb(&m);
		idb(&m, 1, 0, -1, 0);
		p32(&m, t);
		p32(&m, 12);
		p32(&m, 12);
		ra = read_img(&m);
		assert_int_equal(ra.rc, PCAPNG_ERR);
		assert_non_null(strstr(ra.err, "too short"));
	}
	/* an interface block too short; a broken option list keeps the defaults */
	memset(&m, 0, sizeof(m));
	shb(&m);
	p32(&m, 1);
	p32(&m, 16);
	p32(&m, 1);
	p32(&m, 16);
	ra = read_img(&m);
	assert_false(ra.opened);
	memset(&m, 0, sizeof(m));
	shb(&m);
	idb(&m, 1, 0, 9, 0);
	m.b[28 + 16 + 2] = 200;                       /* option length past the block */
	epb(&m, 0, 1000000, DATA, 1, 1);
	ra = read_img(&m);
	assert_int_equal(ra.n, 1);
	assert_int_equal(ra.p[0].ts_ns, 1000000000ull);   /* microseconds: the default */

	/* truncated at every byte: never a crash, an error or fewer packets */
	memset(&m, 0, sizeof(m));
	shb(&m);
	idb(&m, 1, 0, -1, 0);
	epb(&m, 0, 0, DATA, 7, 7);
	epb(&m, 0, 0, DATA, 5, 7);
	{
		size_t full = m.len;

		for (size_t cut = 1; cut < full; cut++) {
			m.len = cut;
			ra = read_img(&m);
			if (ra.opened && cut != 28 && cut != 28 + 24 && cut != 28 + 24 + 40) {
				assert_int_equal(ra.rc, PCAPNG_TRUNCATED);
				assert_non_null(strstr(ra.err, "truncated"));
			}
			assert_true(ra.n <= 2);
		}
	}
}

/* instream: writes bytes into a pipe from a child, reads them back. */
static FILE *through_pipe(const uint8_t *d, size_t n, uint8_t peek[4], size_t *npeek, bool *gz)
{
	int fds[2];
	pid_t pid;
	char err[INSTREAM_ERRBUF_SIZE];
	FILE *fp;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		for (size_t i = 0; i < n; i++)        /* one byte at a time: the worst pipe */
			if (write(fds[1], d + i, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(fds[1]);
	fp = instream_open(fds[0], true, peek, npeek, gz, err);
	assert_non_null(fp);
	return fp;
}

static void test_instream_plain_and_gzip(void **state)
{
	static uint8_t plain[100000], back[100001];
	char path[] = "/tmp/tcplab-instream-XXXXXX", cmd[200];
	uint8_t peek[4], gzbuf[200000];
	size_t npeek, ngz, got;
	bool gz;
	FILE *fp, *g;
	int fd;

	(void)state;
	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)(i * 31 / 7);
	plain[0] = 0xd4;
	plain[1] = 0xc3;
	/* plain through a pipe: the magic is peeked and still delivered */
	fp = through_pipe(plain, 3000, peek, &npeek, &gz);
	assert_false(gz);
	assert_int_equal(npeek, 4);
	assert_memory_equal(peek, plain, 4);
	got = fread(back, 1, sizeof(back), fp);
	assert_int_equal(got, 3000);
	assert_memory_equal(back, plain, 3000);
	fclose(fp);
	/* one byte only */
	fp = through_pipe(plain, 1, peek, &npeek, &gz);
	assert_int_equal(npeek, 1);
	assert_int_equal(fread(back, 1, 10, fp), 1);
	fclose(fp);

	/* gzip -c of the data, twice concatenated (two members), then garbage */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, plain, sizeof(plain)), (ssize_t)sizeof(plain));
	close(fd);
	snprintf(cmd, sizeof(cmd), "gzip -c %s", path);
	g = popen(cmd, "r");
	assert_non_null(g);
	ngz = fread(gzbuf, 1, sizeof(gzbuf) / 2, g);
	pclose(g);
	unlink(path);
	assert_true(ngz > 20 && ngz < sizeof(gzbuf) / 2);
	fp = through_pipe(gzbuf, ngz, peek, &npeek, &gz);
	assert_true(gz);
	assert_memory_equal(peek, plain, 4);
	got = fread(back, 1, sizeof(back), fp);
	assert_int_equal(got, sizeof(plain));
	assert_memory_equal(back, plain, sizeof(plain));
	fclose(fp);
	memcpy(gzbuf + ngz, gzbuf, ngz);
	memcpy(gzbuf + 2 * ngz, "\0\0\0", 3);
	fp = through_pipe(gzbuf, 2 * ngz + 3, peek, &npeek, &gz);
	got = 0;
	for (size_t n; (n = fread(back, 1, 7777, fp)) > 0;)
		got += n;
	assert_int_equal(got, 2 * sizeof(plain));
	assert_false(ferror(fp));
	fclose(fp);
	/* a corrupt stream: the data ends early with an error, no crash */
	gzbuf[ngz / 2] ^= 0xff;
	gzbuf[ngz / 2 + 1] ^= 0xff;
	fp = through_pipe(gzbuf, ngz, peek, &npeek, &gz);
	got = 0;
	for (size_t n; (n = fread(back, 1, 7777, fp)) > 0;)
		got += n;
	assert_true(got < sizeof(plain));
	fclose(fp);
	/* gzip magic alone */
	fp = through_pipe((const uint8_t[]){ 0x1f, 0x8b }, 2, peek, &npeek, &gz);
	assert_true(gz);
	assert_int_equal(npeek, 0);
	fclose(fp);
	assert_true(instream_is_gzip_magic((const uint8_t[]){ 0x1f, 0x8b }, 2));
	assert_false(instream_is_gzip_magic((const uint8_t[]){ 0x1f }, 1));
	assert_false(instream_is_gzip_magic(NULL, 2));
	assert_true(pcapng_is_magic((const uint8_t[]){ 0x0a, 0x0d, 0x0d, 0x0a }, 4));
	assert_false(pcapng_is_magic((const uint8_t[]){ 0x0a, 0x0d, 0x0d }, 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_interfaces_of_different_link_types),
		cmocka_unit_test(test_timestamps),
		cmocka_unit_test(test_big_endian_offset_and_simple_packets),
		cmocka_unit_test(test_second_section_resets_interfaces),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_instream_plain_and_gzip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
