/*
 * capture.h — the only module that includes pcap.h.
 *
 * Opens a live interface (immediate mode, non-blocking, nanosecond
 * timestamps, a BPF filter) or a saved capture (pcap or pcapng, a path or
 * "-" for standard input), hands out raw frames with their link type, and
 * writes pcap files.  Constructors take a caller-supplied errbuf; after
 * that, capture_error() holds the handle's last error text.
 */
#ifndef TCPLAB_CAPTURE_H
#define TCPLAB_CAPTURE_H

#include <stdbool.h>
#include <stdint.h>

#define CAPTURE_ERRBUF_SIZE 512  /* >= PCAP_ERRBUF_SIZE */

struct capture;

struct capture_packet {
	uint64_t ts_ns;          /* capture timestamp, ns since the epoch */
	const uint8_t *data;
	uint32_t caplen, wirelen;
	int link;                /* pcap link type (enum link_type values) */
};

typedef void (*capture_handler)(void *user, const struct capture_packet *pkt);

struct capture_live_options {
	const char *device;      /* interface name, e.g. "lo", "veth0" */
	const char *filter;      /* BPF expression, or NULL */
	int snaplen;             /* 0: 262144 */
	bool immediate;          /* deliver each packet at once (no buffer timeout) */
	int buffer_bytes;        /* kernel ring size, 0: libpcap default */
};

/* Opens a live capture.  NULL on failure; errbuf holds one sentence and
 * *permission_denied (may be NULL) tells whether it failed for lack of
 * CAP_NET_RAW. */
struct capture *capture_open_live(const struct capture_live_options *opt,
				  char errbuf[CAPTURE_ERRBUF_SIZE], bool *permission_denied);

/* Opens a pcap/pcapng file ("-" = stdin) with optional BPF filter.
 * Timestamps are delivered in ns whatever the file's precision. */
struct capture *capture_open_file(const char *path, const char *filter,
				  char errbuf[CAPTURE_ERRBUF_SIZE]);

/* Selectable fd for poll() (live only; -1 for files). */
int capture_fd(const struct capture *c);

/* Link type of the capture (pcap_datalink). */
int capture_link(const struct capture *c);

/*
 * Delivers up to max packets (max <= 0: all that are ready / the whole
 * file) to cb.  Returns the number delivered, 0 when none is ready (live)
 * or at end of file, CAPTURE_EOF at end of file, or a negative error with
 * capture_error() set (CAPTURE_ERR_TRUNCATED: the file ends in the middle
 * of a packet).
 */
#define CAPTURE_EOF (-2)
#define CAPTURE_ERR (-1)
#define CAPTURE_ERR_TRUNCATED (-3)
int capture_dispatch(struct capture *c, int max, capture_handler cb, void *user);

/* Asks a capture_dispatch running in a callback to return early. */
void capture_breakloop(struct capture *c);

/* Starts saving every packet delivered from now on to path (pcap, ns
 * precision, same link type).  0 ok, -1 with capture_error() set. */
int capture_save_to(struct capture *c, const char *path);

/* Kernel counters (live): received, dropped by kernel.  0 ok, -1 if unknown. */
int capture_kernel_stats(struct capture *c, uint64_t *received, uint64_t *dropped);

/* Checks that filter compiles (for Ethernet frames), so a typo in the
 * expression is reported as a usage error before any file is read.
 * 0 ok, -1 with errbuf holding libpcap's reason. */
int capture_filter_check(const char *filter, char errbuf[CAPTURE_ERRBUF_SIZE]);

const char *capture_error(const struct capture *c);
void capture_close(struct capture *c);

/* ---- writing pcap files (captures/, benchmarks) ---- */
struct capture_writer;
/* Opens path for writing a pcap file of the given link type, ns timestamps.
 * NULL on failure with errbuf set. */
struct capture_writer *capture_writer_open(const char *path, int link, int snaplen,
					   char errbuf[CAPTURE_ERRBUF_SIZE]);
/* Appends one packet; 0 ok, -1 on write error. */
int capture_writer_write(struct capture_writer *w, uint64_t ts_ns, const uint8_t *data,
			 uint32_t caplen, uint32_t wirelen);
/* Flushes and closes; 0 ok, -1 if a write failed. */
int capture_writer_close(struct capture_writer *w);

/* The libpcap tcplab runs with, as the library itself says it
 * ("libpcap version 1.10.3 (with TPACKET_V3)"); never NULL.  For
 * `tcplab --version`. */
const char *capture_lib_version(void);

#endif
