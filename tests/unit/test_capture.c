/*
 * test_capture.c — unit tests for capture.c (libpcap).
 *
 * Files: writer → reader round trips with nanosecond timestamps for each
 * link type tcplab decodes; microsecond pcap and pcapng files (written
 * byte by byte here) delivered in ns; filters; files that are not
 * captures; truncated files; standard input; save_to and the hand-over of
 * written files to the sudo user; breakloop and max.
 * Live (root only): opening lo, kernel counters, a missing interface, a
 * bad filter, and the refusal without CAP_NET_RAW.  Live packet traffic is
 * covered by test_craft.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tcplab/capture.h"

static char g_dir[64];

/* A path inside the test's scratch directory. */
static void path_in_dir(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", g_dir, name);
}

/* ---- collecting what capture_dispatch delivers ---- */

#define MAXPKT 16
struct got {
	int n;
	uint64_t ts[MAXPKT];
	uint32_t caplen[MAXPKT], wirelen[MAXPKT];
	uint8_t data[MAXPKT][128];
	int link[MAXPKT];
	struct capture *breaker;  /* non-NULL: breakloop after each packet */
};

static void collect(void *user, const struct capture_packet *pkt)
{
	struct got *g = user;

	if (g->n < MAXPKT) {
		g->ts[g->n] = pkt->ts_ns;
		g->caplen[g->n] = pkt->caplen;
		g->wirelen[g->n] = pkt->wirelen;
		g->link[g->n] = pkt->link;
		memcpy(g->data[g->n], pkt->data, pkt->caplen < 128 ? pkt->caplen : 128);
	}
	g->n++;
	if (g->breaker)
		capture_breakloop(g->breaker);
}

/* Reads a whole file; returns the final dispatch status. */
static int read_all(const char *path, const char *filter, struct got *g)
{
	char err[CAPTURE_ERRBUF_SIZE];
	struct capture *c = capture_open_file(path, filter, err);
	int rc;

	if (c == NULL)
		fprintf(stderr, "%s\n", err);
	assert_non_null(c);
	assert_int_equal(capture_fd(c), -1);
	memset(g, 0, sizeof(*g));
	do
		rc = capture_dispatch(c, 0, collect, g);
	while (rc > 0);
	/* the end is sticky */
	if (rc == CAPTURE_EOF)
		assert_int_equal(capture_dispatch(c, 0, collect, g), CAPTURE_EOF);
	capture_close(c);
	return rc;
}

/* An Ethernet/IPv4/TCP frame with the given ports (54 bytes). */
static void eth_tcp(uint8_t f[54], uint16_t sport, uint16_t dport)
{
	memset(f, 0, 54);
	f[12] = 0x08;
	f[14] = 0x45;
	f[17] = 40;
	f[22] = 64;
	f[23] = 6;
	f[26] = 10; f[29] = 1;
	f[30] = 10; f[33] = 2;
	f[34] = (uint8_t)(sport >> 8); f[35] = (uint8_t)sport;
	f[36] = (uint8_t)(dport >> 8); f[37] = (uint8_t)dport;
	f[46] = 0x50;
	f[47] = 0x02;
}

/* Writes n packets of distinct content and timestamps to path. */
static void write_file(const char *path, int link, int n, uint64_t ts0)
{
	char err[CAPTURE_ERRBUF_SIZE];
	struct capture_writer *w = capture_writer_open(path, link, 0, err);

	if (w == NULL)
		fprintf(stderr, "%s\n", err);
	assert_non_null(w);
	for (int i = 0; i < n; i++) {
		uint8_t d[100];

		for (size_t k = 0; k < sizeof(d); k++)
			d[k] = (uint8_t)(i * 31 + (int)k);
		/* caplen 60 + i of a longer frame */
		assert_int_equal(capture_writer_write(w, ts0 + (uint64_t)i * 1000000007u, d,
						      60u + (uint32_t)i, 1500), 0);
	}
	assert_int_equal(capture_writer_close(w), 0);
}

/* ---- round trips ---- */

/* Writer → reader, every link type tcplab decodes, ns preserved. */
static void test_round_trip_link_types(void **state)
{
	/* link written → link read back (LINKTYPE_RAW is DLT_RAW in memory) */
	static const int links[][2] = { { 1, 1 }, { 101, 12 }, { 113, 113 }, { 276, 276 },
					{ 228, 228 }, { 229, 229 }, { 0, 0 } };
	const uint64_t ts0 = 1700000000123456789ull;   /* every ns digit matters */

	(void)state;
	for (size_t li = 0; li < sizeof(links) / sizeof(links[0]); li++) {
		char path[128];
		struct got g;

		path_in_dir(path, sizeof(path), "rt.pcap");
		write_file(path, links[li][0], 5, ts0);
		assert_int_equal(read_all(path, NULL, &g), CAPTURE_EOF);
		assert_int_equal(g.n, 5);
		for (int i = 0; i < 5; i++) {
			assert_int_equal(g.ts[i], ts0 + (uint64_t)i * 1000000007u);
			assert_int_equal(g.caplen[i], 60 + i);
			assert_int_equal(g.wirelen[i], 1500);
			assert_int_equal(g.link[i], links[li][1]);
			for (int k = 0; k < 60 + i; k++)
				assert_int_equal(g.data[i][k], (uint8_t)(i * 31 + k));
		}
		unlink(path);
	}
}

static void test_writer_clamps_to_snaplen(void **state)
{
	char path[128], err[CAPTURE_ERRBUF_SIZE];
	uint8_t d[200] = { 0 };
	struct capture_writer *w;
	struct got g;

	(void)state;
	path_in_dir(path, sizeof(path), "snap.pcap");
	w = capture_writer_open(path, 1, 64, err);
	assert_non_null(w);
	assert_int_equal(capture_writer_write(w, 5, d, 200, 10), 0);  /* wirelen < caplen */
	assert_int_equal(capture_writer_write(w, 6, d, 0, 0), 0);
	assert_int_equal(capture_writer_write(w, 7, NULL, 10, 10), -1);
	assert_int_equal(capture_writer_close(w), 0);
	assert_int_equal(read_all(path, NULL, &g), CAPTURE_EOF);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.caplen[0], 64);
	assert_int_equal(g.wirelen[0], 64);
	assert_int_equal(g.ts[0], 5);
	assert_int_equal(g.caplen[1], 0);
	unlink(path);
}

static void test_writer_errors(void **state)
{
	char err[CAPTURE_ERRBUF_SIZE];
	struct capture_writer *w;
	uint8_t d[64] = { 0 };

	(void)state;
	assert_null(capture_writer_open("/nonexistent-dir/x.pcap", 1, 0, err));
	assert_non_null(strstr(err, "/nonexistent-dir/x.pcap"));
	assert_null(capture_writer_open("", 1, 0, err));
	assert_true(strlen(err) > 0);
	assert_int_equal(capture_writer_close(NULL), -1);
	assert_int_equal(capture_writer_write(NULL, 0, d, 1, 1), -1);

	/* a full disk must not pass silently */
	if (access("/dev/full", W_OK) == 0) {
		int failed = 0;

		w = capture_writer_open("/dev/full", 1, 0, err);
		assert_non_null(w);
		for (int i = 0; i < 2000; i++)
			failed |= capture_writer_write(w, 0, d, sizeof(d), sizeof(d)) != 0;
		failed |= capture_writer_close(w) != 0;
		assert_true(failed);
	}
}

/* ---- hand-written files of other precisions and formats ---- */

/* Little-endian writes for the hand-made files. */
static void put_le32(FILE *fp, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };

	assert_int_equal(fwrite(b, 1, 4, fp), 4);
}

static void put_le16(FILE *fp, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)v, (uint8_t)(v >> 8) };

	assert_int_equal(fwrite(b, 1, 2, fp), 2);
}

static void test_micro_pcap_in_ns(void **state)
{
	char path[128];
	uint8_t frame[54];
	struct got g;
	FILE *fp;

	(void)state;
	path_in_dir(path, sizeof(path), "micro.pcap");
	fp = fopen(path, "wb");
	assert_non_null(fp);
	put_le32(fp, 0xa1b2c3d4);     /* µs magic */
	put_le16(fp, 2); put_le16(fp, 4);
	put_le32(fp, 0); put_le32(fp, 0);
	put_le32(fp, 65535); put_le32(fp, 1);
	eth_tcp(frame, 1, 2);
	put_le32(fp, 1500000000); put_le32(fp, 999999);  /* 1.5e9 s + 999999 µs */
	put_le32(fp, 54); put_le32(fp, 54);
	assert_int_equal(fwrite(frame, 1, 54, fp), 54);
	fclose(fp);

	assert_int_equal(read_all(path, NULL, &g), CAPTURE_EOF);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.ts[0], 1500000000999999000ull);
	assert_int_equal(g.link[0], 1);
	unlink(path);
}

/* A pcapng file: SHB, IDB (optionally if_tsresol), one EPB. */
static void write_pcapng(const char *path, int tsresol, uint64_t ticks)
{
	uint8_t frame[54];
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	eth_tcp(frame, 3, 4);
	/* Section Header Block */
	put_le32(fp, 0x0a0d0d0a); put_le32(fp, 28);
	put_le32(fp, 0x1a2b3c4d); put_le16(fp, 1); put_le16(fp, 0);
	put_le32(fp, 0xffffffff); put_le32(fp, 0xffffffff);
	put_le32(fp, 28);
	/* Interface Description Block */
	uint32_t idb_len = 20 + (tsresol >= 0 ? 12 : 0);
	put_le32(fp, 1); put_le32(fp, idb_len);
	put_le16(fp, 1); put_le16(fp, 0); put_le32(fp, 262144);
	if (tsresol >= 0) {
		put_le16(fp, 9); put_le16(fp, 1);              /* if_tsresol */
		uint8_t opt[4] = { (uint8_t)tsresol, 0, 0, 0 };
		assert_int_equal(fwrite(opt, 1, 4, fp), 4);
		put_le16(fp, 0); put_le16(fp, 0);              /* opt_endofopt */
	}
	put_le32(fp, idb_len);
	/* Enhanced Packet Block: 28 + 56 (54 padded) + 4 */
	put_le32(fp, 6); put_le32(fp, 88);
	put_le32(fp, 0);
	put_le32(fp, (uint32_t)(ticks >> 32)); put_le32(fp, (uint32_t)ticks);
	put_le32(fp, 54); put_le32(fp, 54);
	assert_int_equal(fwrite(frame, 1, 54, fp), 54);
	put_le16(fp, 0);
	put_le32(fp, 88);
	fclose(fp);
}

static void test_pcapng_in_ns(void **state)
{
	char path[128];
	struct got g;

	(void)state;
	path_in_dir(path, sizeof(path), "x.pcapng");
	/* default resolution: µs */
	write_pcapng(path, -1, 1600000000123456ull);
	assert_int_equal(read_all(path, NULL, &g), CAPTURE_EOF);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.ts[0], 1600000000123456000ull);
	assert_int_equal(g.caplen[0], 54);
	/* if_tsresol 9: ns */
	write_pcapng(path, 9, 1600000000123456789ull);
	assert_int_equal(read_all(path, NULL, &g), CAPTURE_EOF);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.ts[0], 1600000000123456789ull);
	/* with a filter */
	assert_int_equal(read_all(path, "tcp port 4", &g), CAPTURE_EOF);
	assert_int_equal(g.n, 1);
	assert_int_equal(read_all(path, "tcp port 5", &g), CAPTURE_EOF);
	assert_int_equal(g.n, 0);
	/* a pcapng file cut inside its packet block */
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(truncate(path, st.st_size - 10), 0);
	assert_int_equal(read_all(path, NULL, &g), CAPTURE_ERR_TRUNCATED);
	assert_int_equal(g.n, 0);
	unlink(path);
}

/* ---- filters ---- */

static void test_filter_on_file(void **state)
{
	char path[128], err[CAPTURE_ERRBUF_SIZE];
	struct capture_writer *w;
	struct got g;

	(void)state;
	path_in_dir(path, sizeof(path), "filt.pcap");
	w = capture_writer_open(path, 1, 0, err);
	assert_non_null(w);
	for (int i = 0; i < 6; i++) {
		uint8_t f[54];

		eth_tcp(f, (uint16_t)(1000 + i), i % 2 ? 80 : 443);
		assert_int_equal(capture_writer_write(w, (uint64_t)i, f, 54, 54), 0);
	}
	assert_int_equal(capture_writer_close(w), 0);

	assert_int_equal(read_all(path, "tcp dst port 80", &g), CAPTURE_EOF);
	assert_int_equal(g.n, 3);
	assert_int_equal(g.ts[0], 1);
	assert_int_equal(g.ts[2], 5);
	assert_int_equal(read_all(path, "udp", &g), CAPTURE_EOF);
	assert_int_equal(g.n, 0);
	assert_int_equal(read_all(path, "", &g), CAPTURE_EOF);
	assert_int_equal(g.n, 6);

	assert_null(capture_open_file(path, "tcp port", err));
	assert_non_null(strstr(err, "tcp port"));
	assert_non_null(strstr(err, "filter"));
	unlink(path);
}

/* ---- dispatch control ---- */

static void test_dispatch_max_and_breakloop(void **state)
{
	char path[128], err[CAPTURE_ERRBUF_SIZE];
	struct capture *c;
	struct got g;

	(void)state;
	path_in_dir(path, sizeof(path), "max.pcap");
	write_file(path, 1, 5, 1000);

	c = capture_open_file(path, NULL, err);
	assert_non_null(c);
	memset(&g, 0, sizeof(g));
	assert_int_equal(capture_dispatch(c, 2, collect, &g), 2);
	assert_int_equal(capture_dispatch(c, 2, collect, &g), 2);
	assert_int_equal(capture_dispatch(c, 2, collect, &g), 1);
	assert_int_equal(capture_dispatch(c, 2, collect, &g), CAPTURE_EOF);
	assert_int_equal(g.n, 5);
	capture_close(c);

	c = capture_open_file(path, NULL, err);
	assert_non_null(c);
	memset(&g, 0, sizeof(g));
	g.breaker = c;
	for (int i = 1; i <= 5; i++) {
		assert_int_equal(capture_dispatch(c, 0, collect, &g), 1);
		assert_int_equal(g.n, i);
	}
	assert_int_equal(capture_dispatch(c, 0, collect, &g), CAPTURE_EOF);
	/* a NULL callback still consumes */
	capture_close(c);
	c = capture_open_file(path, NULL, err);
	assert_non_null(c);
	assert_int_equal(capture_dispatch(c, 0, NULL, NULL), 5);
	assert_int_equal(capture_dispatch(c, 0, NULL, NULL), CAPTURE_EOF);
	assert_int_equal(capture_kernel_stats(c, NULL, NULL), -1);
	capture_close(c);
	unlink(path);
}

/* ---- not a capture, truncated ---- */

static void test_not_a_capture(void **state)
{
	char path[128], err[CAPTURE_ERRBUF_SIZE];
	FILE *fp;

	(void)state;
	path_in_dir(path, sizeof(path), "notes.txt");
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("these are lecture notes, not packets\n", fp);
	fclose(fp);
	assert_null(capture_open_file(path, NULL, err));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "not a pcap or pcapng file"));
	assert_non_null(strstr(err, "("));   /* libpcap's reason follows */

	/* empty */
	fp = fopen(path, "w");
	fclose(fp);
	assert_null(capture_open_file(path, NULL, err));
	assert_non_null(strstr(err, "not a pcap or pcapng file"));
	assert_non_null(strstr(err, "empty"));
	unlink(path);

	/* shorter than a pcap file header */
	fp = fopen(path, "wb");
	put_le32(fp, 0xa1b23c4d);
	put_le32(fp, 0);
	fclose(fp);
	assert_null(capture_open_file(path, NULL, err));
	assert_non_null(strstr(err, "not a pcap or pcapng file"));
	unlink(path);

	assert_null(capture_open_file(g_dir, NULL, err));
	assert_non_null(strstr(err, "directory"));

	path_in_dir(path, sizeof(path), "missing.pcap");
	assert_null(capture_open_file(path, NULL, err));
	assert_non_null(strstr(err, "cannot open"));
	assert_non_null(strstr(err, "No such file"));

	assert_null(capture_open_file(NULL, NULL, err));
	assert_null(capture_open_file("", NULL, err));
	assert_true(strlen(err) > 0);
}

/* Size of a file; fails the test if it cannot be read. */
static off_t file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_size;
}

static void test_truncated_file(void **state)
{
	char path[128], err[CAPTURE_ERRBUF_SIZE];
	struct capture *c;
	struct got g;
	off_t full;
	int rc;

	(void)state;
	path_in_dir(path, sizeof(path), "trunc.pcap");
	write_file(path, 1, 3, 42);   /* records of 16 + 60, 61, 62 bytes */
	full = file_size(path);
	assert_int_equal(full, 24 + 16 * 3 + 60 + 61 + 62);

	/* cut the last packet's data in half */
	assert_int_equal(truncate(path, full - 31), 0);
	c = capture_open_file(path, NULL, err);
	assert_non_null(c);
	memset(&g, 0, sizeof(g));
	do
		rc = capture_dispatch(c, 0, collect, &g);
	while (rc > 0);
	assert_int_equal(rc, CAPTURE_ERR_TRUNCATED);
	assert_int_equal(g.n, 2);        /* the complete packets were delivered */
	assert_non_null(strstr(capture_error(c), "truncated"));
	assert_int_equal(capture_dispatch(c, 0, collect, &g), CAPTURE_EOF);
	capture_close(c);

	/* cut inside the last record header */
	write_file(path, 1, 3, 42);
	assert_int_equal(truncate(path, full - 62 - 8), 0);
	assert_int_equal(read_all(path, NULL, &g), CAPTURE_ERR_TRUNCATED);
	assert_int_equal(g.n, 2);

	/* one at a time: still 2 packets, then the error */
	write_file(path, 1, 3, 42);
	assert_int_equal(truncate(path, full - 1), 0);
	c = capture_open_file(path, NULL, err);
	assert_non_null(c);
	memset(&g, 0, sizeof(g));
	assert_int_equal(capture_dispatch(c, 1, collect, &g), 1);
	assert_int_equal(capture_dispatch(c, 1, collect, &g), 1);
	assert_int_equal(capture_dispatch(c, 1, collect, &g), CAPTURE_ERR_TRUNCATED);
	capture_close(c);

	/* a record header that lies about its length is an error, not a
	 * truncation: the second record claims 4 GB */
	write_file(path, 1, 3, 42);
	int fd = open(path, O_WRONLY);
	static const uint8_t huge[4] = { 0x00, 0xff, 0xff, 0xff };
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, huge, 4, 24 + 16 + 60 + 8), 4);
	close(fd);
	c = capture_open_file(path, NULL, err);
	assert_non_null(c);
	memset(&g, 0, sizeof(g));
	assert_int_equal(capture_dispatch(c, 0, collect, &g), CAPTURE_ERR);
	assert_int_equal(g.n, 1);
	assert_true(strlen(capture_error(c)) > 0);
	assert_null(strstr(capture_error(c), "truncated"));
	assert_int_equal(capture_dispatch(c, 0, collect, &g), CAPTURE_EOF);
	capture_close(c);

	/* cut exactly at a record boundary: a clean end, not truncation */
	write_file(path, 1, 3, 42);
	assert_int_equal(truncate(path, full - 16 - 62), 0);
	assert_int_equal(read_all(path, NULL, &g), CAPTURE_EOF);
	assert_int_equal(g.n, 2);
	unlink(path);
}

/* ---- standard input ---- */

static void test_stdin(void **state)
{
	char path[128], err[CAPTURE_ERRBUF_SIZE];
	struct capture *c;
	struct got g;
	int saved, fd;

	(void)state;
	path_in_dir(path, sizeof(path), "stdin.pcap");
	write_file(path, 1, 4, 77);
	saved = dup(0);
	assert_true(saved >= 0);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(dup2(fd, 0), 0);
	close(fd);
	clearerr(stdin);

	c = capture_open_file("-", NULL, err);
	assert_non_null(c);
	memset(&g, 0, sizeof(g));
	assert_int_equal(capture_dispatch(c, 0, collect, &g), 4);
	assert_int_equal(capture_dispatch(c, 0, collect, &g), CAPTURE_EOF);
	assert_int_equal(g.ts[3], 77 + 3 * 1000000007ull);
	capture_close(c);

	/* standard input that is not a capture */
	FILE *fp = fopen(path, "w");
	fputs("hello\n", fp);
	fclose(fp);
	fd = open(path, O_RDONLY);
	assert_int_equal(dup2(fd, 0), 0);
	close(fd);
	clearerr(stdin);
	assert_null(capture_open_file("-", NULL, err));
	assert_non_null(strstr(err, "standard input: not a pcap or pcapng file"));

	assert_int_equal(dup2(saved, 0), 0);
	close(saved);
	clearerr(stdin);
	unlink(path);
}

/* ---- save_to and file ownership ---- */

static void test_save_to(void **state)
{
	char in[128], out[128], err[CAPTURE_ERRBUF_SIZE];
	struct capture *c;
	struct got g, g2;
	struct stat st;

	(void)state;
	path_in_dir(in, sizeof(in), "in.pcap");
	path_in_dir(out, sizeof(out), "out.pcap");
	write_file(in, 113, 4, 1700000000000000001ull);

	/* the first byte of packet i is 31 * i: keep the last two */
	c = capture_open_file(in, "link[0] >= 62", err);
	assert_non_null(c);
	assert_int_equal(capture_save_to(c, "/nonexistent-dir/out.pcap"), -1);
	assert_non_null(strstr(capture_error(c), "/nonexistent-dir/out.pcap"));
	assert_int_equal(capture_save_to(c, ""), -1);
	if (geteuid() == 0) {
		setenv("SUDO_UID", "65534", 1);
		setenv("SUDO_GID", "65533", 1);
	}
	assert_int_equal(capture_save_to(c, out), 0);
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
	memset(&g, 0, sizeof(g));
	assert_int_equal(capture_dispatch(c, 0, collect, &g), 2);
	capture_close(c);   /* flushes the save file */

	assert_int_equal(read_all(out, NULL, &g2), CAPTURE_EOF);
	assert_int_equal(g2.n, 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(g2.ts[i], g.ts[i]);
		assert_int_equal(g2.caplen[i], g.caplen[i]);
		assert_int_equal(g2.wirelen[i], g.wirelen[i]);
		assert_int_equal(g2.link[i], 113);
		assert_memory_equal(g2.data[i], g.data[i], g.caplen[i]);
	}
	assert_int_equal(g.ts[0], 1700000000000000001ull + 2 * 1000000007ull);
	assert_int_equal(stat(out, &st), 0);
	if (geteuid() == 0) {
		assert_int_equal(st.st_uid, 65534);
		assert_int_equal(st.st_gid, 65533);
	}
	unlink(in);
	unlink(out);
}

static void test_writer_owner_under_sudo(void **state)
{
	char path[128];
	struct stat st;

	(void)state;
	if (geteuid() != 0)
		skip();
	path_in_dir(path, sizeof(path), "owned.pcap");
	setenv("SUDO_UID", "4242", 1);
	setenv("SUDO_GID", "4343", 1);
	write_file(path, 1, 1, 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 4242);
	assert_int_equal(st.st_gid, 4343);
	unlink(path);
	/* garbage in the variables is ignored, not half-parsed */
	setenv("SUDO_UID", "12abc", 1);
	write_file(path, 1, 1, 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, 0);
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
	unlink(path);
}

/* ---- live ---- */

static void test_live_lo(void **state)
{
	char err[CAPTURE_ERRBUF_SIZE];
	struct capture_live_options o = { .device = "lo", .filter = "tcp port 9", .immediate = true };
	bool denied = true;
	struct capture *c;
	uint64_t r = 99, d = 99;

	(void)state;
	if (geteuid() != 0)
		skip();
	c = capture_open_live(&o, err, &denied);
	assert_non_null(c);
	assert_false(denied);
	assert_true(capture_fd(c) >= 0);
	assert_int_equal(capture_link(c), 1);
	/* non-blocking: nothing there, no wait */
	assert_int_equal(capture_dispatch(c, 0, NULL, NULL), 0);
	assert_int_equal(capture_kernel_stats(c, &r, &d), 0);
	assert_int_equal(d, 0);
	capture_close(c);

	o.immediate = false;
	o.snaplen = 96;
	o.buffer_bytes = 1 << 20;
	o.filter = NULL;
	c = capture_open_live(&o, err, &denied);
	assert_non_null(c);
	capture_close(c);
}

static void test_live_errors(void **state)
{
	char err[CAPTURE_ERRBUF_SIZE];
	struct capture_live_options o = { .device = "nosuchif0", .immediate = true };
	bool denied = true;

	(void)state;
	assert_null(capture_open_live(NULL, err, NULL));
	if (geteuid() != 0)
		skip();
	assert_null(capture_open_live(&o, err, &denied));
	assert_false(denied);
	assert_non_null(strstr(err, "nosuchif0"));
	assert_non_null(strstr(err, "no such interface"));

	o.device = "lo";
	o.filter = "tcp port notaport";
	assert_null(capture_open_live(&o, err, &denied));
	assert_non_null(strstr(err, "filter"));
}

static void test_live_without_cap_net_raw(void **state)
{
	pid_t pid;
	int status;

	(void)state;
	if (geteuid() != 0)
		skip();
	pid = fork();
	if (pid == 0) {
		struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
		struct __user_cap_data_struct data[2];
		struct capture_live_options o = { .device = "lo", .immediate = true };
		char err[CAPTURE_ERRBUF_SIZE];
		bool denied = false;
		struct capture *c;

		if (syscall(SYS_capget, &hdr, data) != 0)
			_exit(10);
		data[0].effective &= ~(1u << CAP_NET_RAW);
		data[0].permitted &= ~(1u << CAP_NET_RAW);
		if (syscall(SYS_capset, &hdr, data) != 0)
			_exit(11);
		c = capture_open_live(&o, err, &denied);
		if (c != NULL)
			_exit(12);
		if (!denied)
			_exit(13);
		if (strstr(err, "CAP_NET_RAW") == NULL)
			_exit(14);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_null_handles(void **state)
{
	(void)state;
	assert_int_equal(capture_fd(NULL), -1);
	assert_int_equal(capture_link(NULL), -1);
	assert_int_equal(capture_dispatch(NULL, 0, NULL, NULL), CAPTURE_ERR);
	assert_int_equal(capture_save_to(NULL, "x"), -1);
	assert_int_equal(capture_kernel_stats(NULL, NULL, NULL), -1);
	assert_non_null(capture_error(NULL));
	capture_breakloop(NULL);
	capture_close(NULL);
}

/* Creates the scratch directory every test writes into. */
static int setup_dir(void **state)
{
	(void)state;
	snprintf(g_dir, sizeof(g_dir), "/tmp/tcplab-test-capture-XXXXXX");
	return mkdtemp(g_dir) ? 0 : -1;
}

/* Removes the scratch directory, with whatever a failed test left in it. */
static int remove_dir(void **state)
{
	DIR *d = opendir(g_dir);
	struct dirent *e;

	(void)state;
	while (d && (e = readdir(d)) != NULL) {
		char path[320];

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", g_dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	return rmdir(g_dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_link_types),
		cmocka_unit_test(test_writer_clamps_to_snaplen),
		cmocka_unit_test(test_writer_errors),
		cmocka_unit_test(test_micro_pcap_in_ns),
		cmocka_unit_test(test_pcapng_in_ns),
		cmocka_unit_test(test_filter_on_file),
		cmocka_unit_test(test_dispatch_max_and_breakloop),
		cmocka_unit_test(test_not_a_capture),
		cmocka_unit_test(test_truncated_file),
		cmocka_unit_test(test_stdin),
		cmocka_unit_test(test_save_to),
		cmocka_unit_test(test_writer_owner_under_sudo),
		cmocka_unit_test(test_live_lo),
		cmocka_unit_test(test_live_errors),
		cmocka_unit_test(test_live_without_cap_net_raw),
		cmocka_unit_test(test_null_handles),
	};

	return cmocka_run_group_tests(tests, setup_dir, remove_dir);
}
