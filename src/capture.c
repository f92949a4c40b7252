/*
 * capture.c — the libpcap edge: live interfaces, saved captures, pcap
 * writers.
 *
 * This is the only file that includes <pcap.h>.  Everything above it sees
 * (timestamp in ns, bytes, link type) through struct capture_packet.
 *
 * Live captures run in immediate mode and non-blocking so that a session
 * can poll() the selectable fd with its retransmission timer as timeout and
 * react to a SYN-ACK within microseconds.  Timestamps are asked for in
 * nanoseconds; where the kernel or libpcap cannot give them, microseconds
 * are converted.  Saved captures (pcap or pcapng, "-" for standard input)
 * are always opened with nanosecond precision, so libpcap scales whatever
 * the file holds.
 *
 * Files written here (capture_save_to, capture_writer_*) are pcap with
 * nanosecond timestamps, and belong to the user who ran sudo, not to root.
 */
#include "tcplab/capture.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fcntl.h>

#include <pcap.h>

#include "tcplab/instream.h"
#include "tcplab/pcapng.h"

#define DEFAULT_SNAPLEN 262144   /* libpcap's and tcpdump's default */
#define NS_PER_SEC 1000000000ull

struct capture {
	pcap_t *p;
	bool live;
	bool nano;                  /* header timestamps are in ns (else µs) */
	bool eof;                   /* a file reached its end */
	int link;
	/* capture_save_to: a dead nanosecond pcap_t owns the dump format, so
	 * the saved file is in ns whatever precision the live handle got */
	pcap_t *dump_dead;
	pcap_dumper_t *dumper;
	/* the callback of the capture_dispatch in progress */
	capture_handler cb;
	void *user;
	int delivered;
	bool break_req;             /* capture_breakloop called in this dispatch */
	char *file_buffer;          /* stdio buffer of a savefile's FILE, freed after pcap_close */
	bool break_stale;           /* ... and libpcap's flag outlived the call */
	char err[CAPTURE_ERRBUF_SIZE];
	/* pcapng files are read by pcapng.c (their interfaces may differ in
	 * link type, which libpcap refuses); the filter is compiled once per
	 * link type met and run with pcap_offline_filter */
	struct pcapng_reader *ng;
	FILE *ng_fp;
	char *filter_text;
	struct ng_filter { int link; bool unusable; struct bpf_program prog; } filters[8];
	int nfilters;
};

struct capture_writer {
	pcap_t *dead;
	pcap_dumper_t *dumper;
	uint32_t snaplen;
};

/* Contract: formats into buf (CAPTURE_ERRBUF_SIZE bytes), truncating. */
static void fmt_err(char *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fmt_err(char *buf, const char *fmt, ...)
{
	va_list ap;

	if (buf == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, CAPTURE_ERRBUF_SIZE, fmt, ap);
	va_end(ap);
}

/* Contract: parses a decimal id from an environment variable; true when
 * it is set and is a plain non-negative number that fits. */
static bool env_id(const char *name, unsigned long *out)
{
	const char *v = getenv(name);
	char *end;

	if (v == NULL || *v < '0' || *v > '9')
		return false;
	errno = 0;
	*out = strtoul(v, &end, 10);
	return errno == 0 && *end == '\0' && *out <= 0xfffffffful;
}

/*
 * Contract: when tcplab runs under sudo (SUDO_UID and SUDO_GID set), hands
 * the regular file behind fp to the invoking user, so the pcap a student
 * wrote does not belong to root.  Failure is harmless and ignored: the
 * file is still written.
 */
static void give_to_sudo_user(FILE *fp)
{
	unsigned long uid, gid;
	struct stat st;
	int fd;

	if (fp == NULL || !env_id("SUDO_UID", &uid) || !env_id("SUDO_GID", &gid))
		return;
	fd = fileno(fp);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		return;   /* standard output, a pipe: nothing to hand over */
	if (fchown(fd, (uid_t)uid, (gid_t)gid) != 0) {
		/* not fatal: e.g. a filesystem without owners */
	}
}

/* Contract: converts a pcap header timestamp to ns since the epoch;
 * negative fields (never produced by a sane file) count as 0. */
static uint64_t header_ns(const struct pcap_pkthdr *h, bool nano)
{
	uint64_t sec = h->ts.tv_sec > 0 ? (uint64_t)h->ts.tv_sec : 0;
	uint64_t frac = h->ts.tv_usec > 0 ? (uint64_t)h->ts.tv_usec : 0;

	return sec * NS_PER_SEC + (nano ? frac : frac * 1000u);
}

/* Contract: allocates a capture around p (taking ownership). */
static struct capture *capture_new(pcap_t *p, bool live)
{
	struct capture *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->p = p;
	c->live = live;
	c->nano = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
	c->link = pcap_datalink(p);
	return c;
}

/* Contract: compiles and installs a BPF filter on p; 0 ok, -1 with errbuf
 * set.  Optimised, netmask unknown (only matters for "broadcast"). */
static int install_filter(pcap_t *p, const char *filter, char *errbuf)
{
	struct bpf_program prog;

	if (filter == NULL || filter[0] == '\0')
		return 0;
	if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		fmt_err(errbuf, "bad capture filter '%s': %s", filter, pcap_geterr(p));
		return -1;
	}
	if (pcap_setfilter(p, &prog) != 0) {
		fmt_err(errbuf, "cannot install capture filter '%s': %s", filter, pcap_geterr(p));
		pcap_freecode(&prog);
		return -1;
	}
	pcap_freecode(&prog);
	return 0;
}

/*
 * Contract: opens a live capture as described in capture.h.  The handle
 * is non-blocking; its selectable fd is what capture_fd() returns.
 */
struct capture *capture_open_live(const struct capture_live_options *opt,
				  char errbuf[CAPTURE_ERRBUF_SIZE], bool *permission_denied)
{
	char perr[PCAP_ERRBUF_SIZE];
	const char *dev;
	struct capture *c;
	pcap_t *p;
	int rc;

	if (permission_denied)
		*permission_denied = false;
	if (errbuf)
		errbuf[0] = '\0';
	if (opt == NULL) {
		fmt_err(errbuf, "no capture options given");
		return NULL;
	}
	dev = opt->device ? opt->device : "any";
	perr[0] = '\0';
	p = pcap_create(dev, perr);
	if (p == NULL) {
		fmt_err(errbuf, "cannot capture on %s: %s", dev, perr);
		return NULL;
	}
	pcap_set_snaplen(p, opt->snaplen > 0 ? opt->snaplen : DEFAULT_SNAPLEN);
	pcap_set_promisc(p, 0);
	/* Immediate mode hands each packet over as it arrives instead of
	 * waiting for a buffer to fill: reaction time. */
	pcap_set_immediate_mode(p, opt->immediate ? 1 : 0);
	if (!opt->immediate)
		pcap_set_timeout(p, 100);
	/* Not supported everywhere: then stay in µs and convert. */
	(void)pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
	if (opt->buffer_bytes > 0)
		pcap_set_buffer_size(p, opt->buffer_bytes);

	rc = pcap_activate(p);
	if (rc < 0) {
		switch (rc) {
		case PCAP_ERROR_PERM_DENIED:
			if (permission_denied)
				*permission_denied = true;
			fmt_err(errbuf,
				"capturing on %s needs CAP_NET_RAW: run tcplab with sudo, or give it "
				"the capability with 'setcap cap_net_raw,cap_net_admin+ep tcplab'",
				dev);
			break;
		case PCAP_ERROR_NO_SUCH_DEVICE:
			fmt_err(errbuf, "cannot capture on %s: there is no such interface", dev);
			break;
		case PCAP_ERROR_IFACE_NOT_UP:
			fmt_err(errbuf, "cannot capture on %s: the interface is down", dev);
			break;
		default:
			fmt_err(errbuf, "cannot capture on %s: %s", dev,
				pcap_geterr(p)[0] ? pcap_geterr(p) : pcap_statustostr(rc));
			break;
		}
		pcap_close(p);
		return NULL;
	}
	/* rc > 0 is a warning (e.g. promiscuous mode not supported): the
	 * handle works. */

	if (pcap_setnonblock(p, 1, perr) != 0) {
		fmt_err(errbuf, "cannot make the capture on %s non-blocking: %s", dev, perr);
		pcap_close(p);
		return NULL;
	}
	if (install_filter(p, opt->filter, errbuf) != 0) {
		pcap_close(p);
		return NULL;
	}
	if (pcap_get_selectable_fd(p) < 0) {
		fmt_err(errbuf, "capture on %s has no descriptor to wait on", dev);
		pcap_close(p);
		return NULL;
	}
	c = capture_new(p, true);
	if (c == NULL) {
		fmt_err(errbuf, "out of memory");
		pcap_close(p);
		return NULL;
	}
	return c;
}

/* stdio buffer of a savefile (capture_open_file). */
#define CAPTURE_FILE_BUFFER (256u << 10)

/*
 * Contract: opens a pcap or pcapng file, or standard input for "-", with
 * nanosecond timestamps and an optional filter.  The file is opened here
 * (not by libpcap) so that "cannot open" and "not a capture" get distinct
 * sentences.
 */
struct capture *capture_open_file(const char *path, const char *filter,
				  char errbuf[CAPTURE_ERRBUF_SIZE])
{
	char perr[PCAP_ERRBUF_SIZE > INSTREAM_ERRBUF_SIZE ? PCAP_ERRBUF_SIZE : INSTREAM_ERRBUF_SIZE];
	const char *name;
	bool is_stdin, regular = false, gz = false;
	struct capture *c;
	struct stat st;
	uint8_t magic[4] = { 0 };
	size_t nmagic = 0;
	FILE *fp = NULL;
	pcap_t *p;
	char *vbuf = NULL;
	int fd;

	if (errbuf)
		errbuf[0] = '\0';
	if (path == NULL || path[0] == '\0') {
		fmt_err(errbuf, "no capture file given");
		return NULL;
	}
	is_stdin = strcmp(path, "-") == 0;
	name = is_stdin ? "standard input" : path;
	if (is_stdin) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fmt_err(errbuf, "cannot open %s: %s", path, strerror(errno));
			return NULL;
		}
	}
	if (fstat(fd, &st) == 0) {
		if (S_ISDIR(st.st_mode)) {
			fmt_err(errbuf, "%s is a directory, not a pcap or pcapng file", path);
			goto fail_fd;
		}
		if (S_ISREG(st.st_mode) && st.st_size == 0) {
			fmt_err(errbuf, "%s: not a pcap or pcapng file (it is empty)", path);
			goto fail_fd;
		}
		regular = S_ISREG(st.st_mode);
	}
	if (regular) {
		ssize_t n = pread(fd, magic, sizeof(magic), 0);

		nmagic = n > 0 ? (size_t)n : 0;
	}
	if (regular && !instream_is_gzip_magic(magic, nmagic)) {
		/* the common case, kept cheap: stdio straight on the file.
		 * libpcap reads a savefile with two fread() calls per packet;
		 * stdio's default 4 KiB buffer made that a read() every few
		 * dozen packets (glibc ignores the size unless it is given the
		 * buffer). */
		fp = fdopen(fd, "rb");
		if (fp == NULL) {
			fmt_err(errbuf, "cannot open %s: %s", path, strerror(errno));
			goto fail_fd;
		}
		vbuf = malloc(CAPTURE_FILE_BUFFER);
		if (vbuf != NULL && setvbuf(fp, vbuf, _IOFBF, CAPTURE_FILE_BUFFER) != 0) {
			free(vbuf);
			vbuf = NULL;
		}
	} else {
		/* gzip, or a pipe whose first bytes cannot be read twice */
		fp = instream_open(fd, !is_stdin, magic, &nmagic, &gz, perr);
		if (fp == NULL) {
			fmt_err(errbuf, "%s: %s", name, perr);
			goto fail_fd;
		}
		if (nmagic == 0) {
			fmt_err(errbuf, "%s: not a pcap or pcapng file (it is empty%s)", name,
				gz ? " once decompressed" : "");
			fclose(fp);
			return NULL;
		}
		vbuf = malloc(CAPTURE_FILE_BUFFER);
		if (vbuf != NULL && setvbuf(fp, vbuf, _IOFBF, CAPTURE_FILE_BUFFER) != 0) {
			free(vbuf);
			vbuf = NULL;
		}
	}

	if (pcapng_is_magic(magic, nmagic)) {
		struct pcapng_reader *ng = pcapng_open(fp, perr);

		if (ng == NULL) {
			fmt_err(errbuf, "%s: not a readable pcapng file (%s)", name, perr);
			fclose(fp);
			free(vbuf);
			return NULL;
		}
		c = calloc(1, sizeof(*c));
		if (c == NULL || (filter && *filter && (c->filter_text = strdup(filter)) == NULL)) {
			fmt_err(errbuf, "out of memory");
			free(c);
			pcapng_close(ng);
			fclose(fp);
			free(vbuf);
			return NULL;
		}
		c->ng = ng;
		c->ng_fp = fp;
		c->nano = true;
		c->link = pcapng_first_link(ng);
		c->file_buffer = vbuf;
		return c;
	}

	perr[0] = '\0';
	p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_NANO, perr);
	if (p == NULL) {
		fmt_err(errbuf, "%s: not a pcap or pcapng file (%s)", name,
			perr[0] ? perr : "unknown format");
		fclose(fp);
		free(vbuf);
		return NULL;
	}
	/* From here on pcap_close() closes fp; vbuf is freed after it. */
	if (install_filter(p, filter, errbuf) != 0) {
		pcap_close(p);
		free(vbuf);
		return NULL;
	}
	c = capture_new(p, false);
	if (c == NULL) {
		fmt_err(errbuf, "out of memory");
		pcap_close(p);
		free(vbuf);
		return NULL;
	}
	c->file_buffer = vbuf;
	return c;

fail_fd:
	if (!is_stdin)
		close(fd);
	return NULL;
}

/* Contract: selectable fd of a live capture; -1 for files and NULL. */
int capture_fd(const struct capture *c)
{
	if (c == NULL || !c->live)
		return -1;
	return pcap_get_selectable_fd(c->p);
}

/* Contract: pcap_datalink() of the capture (a DLT_ value); -1 for NULL. */
int capture_link(const struct capture *c)
{
	return c ? c->link : -1;
}

/* Contract: libpcap callback: converts the header, saves the packet when
 * capture_save_to is active, and hands it to the user's callback. */
static void trampoline(u_char *arg, const struct pcap_pkthdr *h, const u_char *bytes)
{
	struct capture *c = (struct capture *)arg;
	struct capture_packet pkt;

	pkt.ts_ns = header_ns(h, c->nano);
	pkt.data = bytes;
	pkt.caplen = h->caplen;
	pkt.wirelen = h->len < h->caplen ? h->caplen : h->len;
	pkt.link = c->link;
	if (c->dumper) {
		struct pcap_pkthdr dh = *h;

		dh.ts.tv_sec = (time_t)(pkt.ts_ns / NS_PER_SEC);
		dh.ts.tv_usec = (suseconds_t)(pkt.ts_ns % NS_PER_SEC);
		pcap_dump((u_char *)c->dumper, &dh, bytes);
	}
	c->delivered++;
	if (c->cb)
		c->cb(c->user, &pkt);
}

/* Contract: true when libpcap's message says a savefile ends in the middle
 * of a record (sf-pcap.c and sf-pcapng.c both say "truncated"). */
static bool is_truncation(const char *msg)
{
	return strstr(msg, "truncated") != NULL;
}

static int link_to_dlt(int link);

/* Contract: the filter compiled for link (once per link type; at most 8
 * kinds); NULL with c->err set when it cannot be compiled for it. */
static struct bpf_program *ng_filter_for(struct capture *c, int link)
{
	struct ng_filter *f;
	pcap_t *dead;

	for (int i = 0; i < c->nfilters; i++)
		if (c->filters[i].link == link)
			return c->filters[i].unusable ? NULL : &c->filters[i].prog;
	if (c->nfilters == (int)(sizeof(c->filters) / sizeof(c->filters[0]))) {
		fmt_err(c->err, "the capture has more than 8 link types to filter");
		return NULL;
	}
	dead = pcap_open_dead(link_to_dlt(link), DEFAULT_SNAPLEN);
	if (dead == NULL) {
		fmt_err(c->err, "out of memory");
		return NULL;
	}
	f = &c->filters[c->nfilters];
	if (pcap_compile(dead, &f->prog, c->filter_text, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		/* libpcap cannot filter some link types (NFLOG): their packets
		 * cannot be tested, so they are skipped, and the user told once */
		fprintf(stderr, "tcplab: the filter does not apply to the packets of link type %d (%s): "
			"they are skipped\n", link, pcap_geterr(dead));
		pcap_close(dead);
		f->link = link;
		f->unusable = true;
		c->nfilters++;
		return NULL;
	}
	pcap_close(dead);
	f->link = link;
	c->nfilters++;
	return &f->prog;
}

/* Contract: capture_dispatch for a pcapng file read by pcapng.c. */
static int ng_dispatch(struct capture *c, int max, capture_handler cb, void *user)
{
	int n = 0;

	c->break_req = false;
	while (max <= 0 || n < max) {
		struct pcapng_packet np;
		struct capture_packet pkt;
		int rc = pcapng_next(c->ng, &np);

		if (rc == PCAPNG_EOF) {
			c->eof = true;
			return n > 0 ? n : CAPTURE_EOF;
		}
		if (rc < 0) {
			c->eof = true;
			if (rc == PCAPNG_TRUNCATED) {
				fmt_err(c->err, "the capture file is truncated: its last packet is incomplete (%s)",
					pcapng_error(c->ng));
				return CAPTURE_ERR_TRUNCATED;
			}
			fmt_err(c->err, "reading packets failed: %s", pcapng_error(c->ng));
			return CAPTURE_ERR;
		}
		if (c->filter_text) {
			struct bpf_program *prog = ng_filter_for(c, np.link);
			struct pcap_pkthdr h;

			if (prog == NULL) {
				if (c->nfilters > 0 && c->filters[c->nfilters - 1].unusable)
					continue;      /* a link type the filter cannot test */
				c->eof = true;
				return CAPTURE_ERR;
			}
			memset(&h, 0, sizeof(h));
			h.caplen = np.caplen;
			h.len = np.wirelen;
			if (pcap_offline_filter(prog, &h, np.data) == 0)
				continue;
		}
		pkt.ts_ns = np.ts_ns;
		pkt.data = np.data;
		pkt.caplen = np.caplen;
		pkt.wirelen = np.wirelen;
		pkt.link = np.link;
		n++;
		if (cb)
			cb(user, &pkt);
		if (c->break_req)
			break;
	}
	return n;
}

/*
 * Contract: see capture.h.  Returns the count delivered (> 0), 0 when a
 * live capture has nothing ready, CAPTURE_EOF once a file is exhausted,
 * CAPTURE_ERR_TRUNCATED when a file ends inside a packet (the complete
 * packets before it have been delivered), CAPTURE_ERR otherwise.  After an
 * error a file is finished: later calls return CAPTURE_EOF.
 */
int capture_dispatch(struct capture *c, int max, capture_handler cb, void *user)
{
	bool stale;
	int n;

	if (c == NULL)
		return CAPTURE_ERR;
	if (c->eof)
		return CAPTURE_EOF;
	if (c->ng)
		return ng_dispatch(c, max, cb, user);
	c->cb = cb;
	c->user = user;
	c->delivered = 0;
	c->break_req = false;
	stale = c->break_stale;
	c->break_stale = false;
	for (;;) {
		n = pcap_dispatch(c->p, max > 0 ? max : -1, trampoline, (u_char *)c);
		/* A savefile read that stopped for a breakloop after some packets
		 * returns their count and leaves libpcap's break flag set, so the
		 * next call would stop before reading anything.  Absorb that
		 * leftover once instead of reporting a spurious "nothing". */
		if (n == PCAP_ERROR_BREAK && stale && !c->break_req && c->delivered == 0) {
			stale = false;
			continue;
		}
		break;
	}
	c->cb = NULL;
	c->user = NULL;
	if (n == PCAP_ERROR_BREAK)
		return c->delivered;
	if (c->break_req)
		c->break_stale = true;
	if (n < 0) {
		const char *msg = pcap_geterr(c->p);

		if (!c->live && is_truncation(msg)) {
			fmt_err(c->err, "the capture file is truncated: its last packet is incomplete "
					 "(%s)", msg);
			c->eof = true;
			return CAPTURE_ERR_TRUNCATED;
		}
		fmt_err(c->err, "reading packets failed: %s", msg);
		/* a file's read position is lost after an error: stop there */
		if (!c->live)
			c->eof = true;
		return CAPTURE_ERR;
	}
	if (n == 0 && !c->live) {
		/* pcap_dispatch returns 0 for a savefile only at its end (a
		 * filter that rejects everything keeps it reading). */
		c->eof = true;
		return CAPTURE_EOF;
	}
	return n;
}

/* Contract: makes the running capture_dispatch return after the current
 * packet; safe to call from the callback. */
void capture_breakloop(struct capture *c)
{
	if (c) {
		c->break_req = true;
		if (c->p)
			pcap_breakloop(c->p);
	}
}

/*
 * Contract: from now on every packet capture_dispatch delivers is also
 * written to path (pcap, ns timestamps, the capture's link type and
 * snapshot length).  Replaces an earlier save file.  0 ok, -1 with
 * capture_error() set.
 */
int capture_save_to(struct capture *c, const char *path)
{
	pcap_t *dead;
	pcap_dumper_t *d;

	if (c == NULL)
		return -1;
	if (path == NULL || path[0] == '\0') {
		fmt_err(c->err, "no file to save the capture to");
		return -1;
	}
	if (c->p == NULL) {
		fmt_err(c->err, "a pcapng capture is not saved again");
		return -1;
	}
	dead = pcap_open_dead_with_tstamp_precision(c->link, pcap_snapshot(c->p),
						    PCAP_TSTAMP_PRECISION_NANO);
	if (dead == NULL) {
		fmt_err(c->err, "cannot save the capture to %s: out of memory", path);
		return -1;
	}
	d = pcap_dump_open(dead, path);
	if (d == NULL) {
		fmt_err(c->err, "cannot save the capture to %s", pcap_geterr(dead));
		pcap_close(dead);
		return -1;
	}
	give_to_sudo_user(pcap_dump_file(d));
	if (c->dumper) {
		pcap_dump_close(c->dumper);
		pcap_close(c->dump_dead);
	}
	c->dumper = d;
	c->dump_dead = dead;
	return 0;
}

/* Contract: received / dropped-by-kernel counters of a live capture.
 * 0 ok, -1 for files or when libpcap cannot tell. */
int capture_kernel_stats(struct capture *c, uint64_t *received, uint64_t *dropped)
{
	struct pcap_stat st;

	if (c == NULL || !c->live)
		return -1;
	if (pcap_stats(c->p, &st) != 0) {
		fmt_err(c->err, "no capture statistics: %s", pcap_geterr(c->p));
		return -1;
	}
	if (received)
		*received = st.ps_recv;
	if (dropped)
		*dropped = st.ps_drop;
	return 0;
}

/* Contract: the last error text ("" when none); never NULL. */
const char *capture_error(const struct capture *c)
{
	return c ? c->err : "no capture";
}

/* Contract: flushes and closes the save file, closes the handle, frees c;
 * NULL is a no-op. */
void capture_close(struct capture *c)
{
	if (c == NULL)
		return;
	if (c->dumper) {
		pcap_dump_flush(c->dumper);
		pcap_dump_close(c->dumper);
		pcap_close(c->dump_dead);
	}
	if (c->p)
		pcap_close(c->p);
	if (c->ng) {
		pcapng_close(c->ng);
		fclose(c->ng_fp);
		for (int i = 0; i < c->nfilters; i++)
			if (!c->filters[i].unusable)
				pcap_freecode(&c->filters[i].prog);
		free(c->filter_text);
	}
	free(c->file_buffer);
	free(c);
}

/* ---- writer ---- */

/*
 * Contract: maps tcplab's link numbers (LINKTYPE_ values, see decode.h) to
 * the DLT_ value pcap_open_dead expects.  They differ only for raw IP:
 * LINKTYPE_RAW is 101 in files but DLT_RAW in memory.
 */
static int link_to_dlt(int link)
{
	if (link == 101)
		return DLT_RAW;
	return link;
}

/*
 * Contract: opens path ("-": standard output) for a pcap file of the given
 * link type with nanosecond timestamps.  snaplen <= 0 means 262144.  NULL
 * on failure with errbuf set.
 */
struct capture_writer *capture_writer_open(const char *path, int link, int snaplen,
					   char errbuf[CAPTURE_ERRBUF_SIZE])
{
	struct capture_writer *w;

	if (errbuf)
		errbuf[0] = '\0';
	if (path == NULL || path[0] == '\0') {
		fmt_err(errbuf, "no file to write the capture to");
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL) {
		fmt_err(errbuf, "out of memory");
		return NULL;
	}
	w->snaplen = snaplen > 0 ? (uint32_t)snaplen : DEFAULT_SNAPLEN;
	w->dead = pcap_open_dead_with_tstamp_precision(link_to_dlt(link), (int)w->snaplen,
						       PCAP_TSTAMP_PRECISION_NANO);
	if (w->dead == NULL) {
		fmt_err(errbuf, "cannot write %s: out of memory", path);
		free(w);
		return NULL;
	}
	w->dumper = pcap_dump_open(w->dead, path);
	if (w->dumper == NULL) {
		fmt_err(errbuf, "cannot write %s", pcap_geterr(w->dead));
		pcap_close(w->dead);
		free(w);
		return NULL;
	}
	give_to_sudo_user(pcap_dump_file(w->dumper));
	return w;
}

/*
 * Contract: appends one packet; caplen is cut to the writer's snapshot
 * length (a reader would reject a longer record) and wirelen raised to
 * caplen if smaller.  0 ok, -1 once the stream has had a write error.
 */
int capture_writer_write(struct capture_writer *w, uint64_t ts_ns, const uint8_t *data,
			 uint32_t caplen, uint32_t wirelen)
{
	struct pcap_pkthdr h;

	if (w == NULL || (data == NULL && caplen > 0))
		return -1;
	if (caplen > w->snaplen)
		caplen = w->snaplen;
	h.ts.tv_sec = (time_t)(ts_ns / NS_PER_SEC);
	h.ts.tv_usec = (suseconds_t)(ts_ns % NS_PER_SEC);
	h.caplen = caplen;
	h.len = wirelen < caplen ? caplen : wirelen;
	pcap_dump((u_char *)w->dumper, &h, data);
	return ferror(pcap_dump_file(w->dumper)) ? -1 : 0;
}

/* Contract: flushes, closes and frees w; 0 ok, -1 if any write failed. */
int capture_writer_close(struct capture_writer *w)
{
	int rc = 0;

	if (w == NULL)
		return -1;
	if (pcap_dump_flush(w->dumper) != 0 || ferror(pcap_dump_file(w->dumper)))
		rc = -1;
	/* pcap_dump_close() does not report fclose's result: everything is
	 * flushed above, so a full disk has been seen by now. */
	pcap_dump_close(w->dumper);
	pcap_close(w->dead);
	free(w);
	return rc;
}

/* Compiles filter against a dead Ethernet handle (contract in capture.h). */
int capture_filter_check(const char *filter, char errbuf[CAPTURE_ERRBUF_SIZE])
{
	struct bpf_program prog;
	pcap_t *p;
	int rc = 0;

	if (!filter || !*filter)
		return 0;
	p = pcap_open_dead(DLT_EN10MB, 65535);
	if (!p) {
		snprintf(errbuf, CAPTURE_ERRBUF_SIZE, "out of memory");
		return -1;
	}
	if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(errbuf, CAPTURE_ERRBUF_SIZE, "bad filter expression '%.200s': %.250s", filter, pcap_geterr(p));
		rc = -1;
	} else {
		pcap_freecode(&prog);
	}
	pcap_close(p);
	return rc;
}

/* Contract in capture.h: libpcap's own run-time version string. */
const char *capture_lib_version(void)
{
	const char *v = pcap_lib_version();
	return v ? v : "libpcap version unknown";
}
