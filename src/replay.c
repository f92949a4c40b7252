/*
 * replay.c — the passive sources: a saved capture (`tcplab replay`) or a
 * live interface (`tcplab watch`).  Frames are decoded and fed to the
 * tracker in capture order; what cannot be decoded is skipped, counted by
 * reason, and reported at the end with the number of the first such packet.
 * Nothing here ever sends a packet.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "live.h"
#include "tcplab/capture.h"
#include "tcplab/catalog.h"
#include "tcplab/decode.h"
#include "tcplab/exitcode.h"
#include "tcplab/flow.h"
#include "tcplab/kstates.h"
#include "tcplab/replay.h"
#include "tcplab/step.h"

struct skip_count {
	uint64_t n;
	uint64_t first_packet;     /* 1-based packet number of the first one */
	char first_reason[DECODE_ERRBUF_SIZE];
};

struct replay_run {
	const struct replay_options *opt;
	struct flow_table *ft;
	struct renderer *r;
	uint64_t packets;
	uint64_t tcp;
	struct skip_count not_ip, not_tcp, truncated, malformed, bad_link;
	bool have_first;
	uint64_t first_ts, wall_start;
	uint64_t last_progress;
	/* --summary on a file: a reader thread decodes segments into
	 * batches of the queue below and the calling thread feeds them to the
	 * tracker (flow_table_feed_batch).  The payload pointers are cleared:
	 * they point into libpcap's buffer, which the next packet overwrites,
	 * and a summary never shows them. */
	bool batching;
	struct batch_queue *q;
	struct seg_batch *fill;    /* the batch the reader is filling, NULL before the first */
	int rc;                    /* the file's reading outcome (read_file) */
};

/* ---------------------------------------------------------- the pipeline */

/* Batches in flight between the reader and the tracker: enough to absorb
 * jitter on either side, few enough to stay in the cache. */
#define QUEUE_BATCHES 4
/* Segments per batch: a hand-off costs a lock and may wake the other
 * thread, so it should be rare. */
#define BATCH_SEGMENTS 256

struct seg_batch {
	size_t n;
	uint64_t packets;          /* packets read when it was filled (progress) */
	struct segment segs[BATCH_SEGMENTS];
};

/* A single-producer, single-consumer queue of batches. */
struct batch_queue {
	pthread_mutex_t mu;
	pthread_cond_t changed;
	unsigned head, count;      /* slots[head] is the oldest full batch */
	bool done;                 /* the reader has published its last batch */
	struct seg_batch slots[QUEUE_BATCHES];
};

/* Reader: the next empty slot, waiting while all are full. */
static struct seg_batch *queue_acquire(struct batch_queue *q)
{
	struct seg_batch *b;

	pthread_mutex_lock(&q->mu);
	while (q->count == QUEUE_BATCHES)
		pthread_cond_wait(&q->changed, &q->mu);
	b = &q->slots[(q->head + q->count) % QUEUE_BATCHES];
	pthread_mutex_unlock(&q->mu);
	b->n = 0;
	return b;
}

/* Reader: hands the slot queue_acquire gave to the tracker; `last` says
 * nothing follows it. */
static void queue_publish(struct batch_queue *q, bool last)
{
	pthread_mutex_lock(&q->mu);
	q->count++;
	q->done = last;
	pthread_cond_signal(&q->changed);
	pthread_mutex_unlock(&q->mu);
}

/* Tracker: the oldest full batch, NULL once the reader is done and every
 * batch was taken. */
static struct seg_batch *queue_take(struct batch_queue *q)
{
	struct seg_batch *b = NULL;

	pthread_mutex_lock(&q->mu);
	while (q->count == 0 && !q->done)
		pthread_cond_wait(&q->changed, &q->mu);
	if (q->count > 0)
		b = &q->slots[q->head];
	pthread_mutex_unlock(&q->mu);
	return b;
}

/* Tracker: gives back the slot queue_take returned. */
static void queue_release(struct batch_queue *q)
{
	pthread_mutex_lock(&q->mu);
	q->head = (q->head + 1) % QUEUE_BATCHES;
	q->count--;
	pthread_cond_signal(&q->changed);
	pthread_mutex_unlock(&q->mu);
}


static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void count(struct skip_count *s, uint64_t packet, const char *why)
{
	if (s->n++ == 0) {
		s->first_packet = packet;
		snprintf(s->first_reason, sizeof(s->first_reason), "%s", why);
	}
}

/* --realtime: sleep until the wall clock catches up with the capture. */
static void pace(struct replay_run *rr, uint64_t ts)
{
	uint64_t due, now;
	if (!rr->have_first) {
		rr->have_first = true;
		rr->first_ts = ts;
		rr->wall_start = mono_ns();
		return;
	}
	if (ts < rr->first_ts)
		return;
	due = rr->wall_start + (uint64_t)((double)(ts - rr->first_ts) / rr->opt->speed);
	now = mono_ns();
	if (due > now) {
		struct timespec d = { (time_t)((due - now) / 1000000000ull), (long)((due - now) % 1000000000ull) };
		render_flush(rr->r);   /* the ladder's held row, before the wait */
		fflush(rr->r->out);
		while (nanosleep(&d, &d) != 0 && errno == EINTR && !live_signal)
			;
	}
}

static void on_packet(void *user, const struct capture_packet *pkt)
{
	struct replay_run *rr = user;
	struct segment one, *seg = &one;
	char why[DECODE_ERRBUF_SIZE];
	enum decode_status st;

	if (rr->batching) {
		if (rr->fill == NULL)
			rr->fill = queue_acquire(rr->q);
		seg = &rr->fill->segs[rr->fill->n];
	}
	if (step_quit_requested())
		return;   /* --step: q was answered; the rest is not shown */
	rr->packets++;
	st = segment_decode(pkt->link, pkt->data, pkt->caplen, pkt->wirelen, pkt->ts_ns, seg, why);
	switch (st) {
	case DECODE_OK:
		break;
	case DECODE_NOT_IP: count(&rr->not_ip, rr->packets, why); return;
	case DECODE_NOT_TCP:
		/* --udp: a datagram is one event, straight to the renderers (not
		 * in --summary's batched reader: datagrams have no summary) */
		if (rr->opt->udp && seg->udp && !rr->batching) {
			if (rr->opt->realtime)
				pace(rr, seg->ts_ns);
			flow_table_datagram(rr->ft, seg);
			return;
		}
		count(&rr->not_tcp, rr->packets, why);
		return;
	case DECODE_TRUNCATED: count(&rr->truncated, rr->packets, why); return;
	case DECODE_MALFORMED: count(&rr->malformed, rr->packets, why); return;
	case DECODE_BAD_LINK: count(&rr->bad_link, rr->packets, why); return;
	}
	rr->tcp++;
	if (rr->batching) {
		seg->payload = NULL;
		seg->payload_captured = 0;
		seg->ip_hdr = NULL;
		seg->tcp_hdr = NULL;
		if (++rr->fill->n == BATCH_SEGMENTS) {
			rr->fill->packets = rr->packets;
			queue_publish(rr->q, false);
			rr->fill = NULL;
		}
		return;
	}
	if (rr->opt->realtime)
		pace(rr, seg->ts_ns);
	flow_table_feed(rr->ft, seg);
}

/* The progress line on stderr, at most four times a second; `packets` is
 * how many were read (the tracker thread cannot read rr->packets while the
 * reader thread writes it). */
static void progress(struct replay_run *rr, uint64_t packets, bool final)
{
	uint64_t now = mono_ns();
	struct flow_stats fs;
	if (!rr->opt->progress || (!final && now - rr->last_progress < 250000000ull))
		return;
	rr->last_progress = now;
	flow_table_stats(rr->ft, &fs);
	catalog_fprintf(stderr, "\r%llu packets, %llu connections%s", (unsigned long long)packets,
		(unsigned long long)fs.connections, final ? "\n" : "");
}

/*
 * Reads the whole file through on_packet.  Returns an exit code, with
 * errbuf set when it is not TCPLAB_EXIT_OK.  Stops early on a signal.
 * Reads 4096 packets per call so that a signal is noticed promptly.
 */
static int read_file(struct replay_run *rr, struct capture *cap, char errbuf[REPLAY_ERRBUF_SIZE])
{
	const char *name = strcmp(rr->opt->path, "-") ? rr->opt->path : "standard input";
	int n;

	for (;;) {
		n = capture_dispatch(cap, 4096, on_packet, rr);
		if (n == CAPTURE_EOF || live_signal || step_quit_requested())
			return TCPLAB_EXIT_OK;
		if (n == CAPTURE_ERR_TRUNCATED) {
			snprintf(errbuf, REPLAY_ERRBUF_SIZE,
				 "%s is truncated after packet %llu: the connections so far are summarized above",
				 name, (unsigned long long)rr->packets);
			return TCPLAB_EXIT_BAD_INPUT;
		}
		if (n < 0) {
			snprintf(errbuf, REPLAY_ERRBUF_SIZE, "reading %s after packet %llu: %s", name,
				 (unsigned long long)rr->packets, capture_error(cap));
			return TCPLAB_EXIT_BAD_INPUT;
		}
		if (n == 0)
			return TCPLAB_EXIT_OK; /* a savefile with nothing more to deliver */
		if (!rr->batching)
			progress(rr, rr->packets, false);
	}
}

struct reader_args {
	struct replay_run *rr;
	struct capture *cap;
	char *errbuf;
	sigset_t signals;          /* live_signal_set */
};

/* The reader thread: read_file, then the last batch, marked so. */
static void *reader_main(void *arg)
{
	struct reader_args *a = arg;
	struct replay_run *rr = a->rr;

	/* The signals the tracker blocked come here: a read() blocked on a
	 * pipe returns EINTR, and read_file sees live_signal. */
	pthread_sigmask(SIG_UNBLOCK, &a->signals, NULL);
	rr->rc = read_file(rr, a->cap, a->errbuf);
	if (rr->fill == NULL)
		rr->fill = queue_acquire(rr->q);
	rr->fill->packets = rr->packets;
	queue_publish(rr->q, true);
	rr->fill = NULL;
	return NULL;
}

/*
 * --summary on a file: reading and decoding (libpcap's fread and the
 * decoder, about a third of the work) run in a thread of their own, ahead of
 * the tracker.  Falls back to one thread when a thread cannot be started.
 */
static int read_file_pipelined(struct replay_run *rr, struct capture *cap, char errbuf[REPLAY_ERRBUF_SIZE])
{
	struct reader_args args = { .rr = rr, .cap = cap, .errbuf = errbuf };
	struct batch_queue *q = calloc(1, sizeof(*q));
	struct seg_batch *b;
	pthread_t reader;
	sigset_t old;

	if (q == NULL || pthread_mutex_init(&q->mu, NULL) != 0) {
		free(q);
		rr->batching = false;
		return read_file(rr, cap, errbuf);
	}
	if (pthread_cond_init(&q->changed, NULL) != 0) {
		pthread_mutex_destroy(&q->mu);
		free(q);
		rr->batching = false;
		return read_file(rr, cap, errbuf);
	}
	rr->q = q;
	/* Signals go to the reader while it runs (it may sit in a read() of
	 * a pipe, which only a signal interrupts); this thread, waiting on a
	 * condition variable, would not notice them. */
	live_signal_set(&args.signals);
	pthread_sigmask(SIG_BLOCK, &args.signals, &old);
	if (pthread_create(&reader, NULL, reader_main, &args) != 0) {
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		rr->batching = false;
		rr->rc = read_file(rr, cap, errbuf);
	} else {
		while ((b = queue_take(q)) != NULL) {
			flow_table_feed_batch(rr->ft, b->segs, b->n);
			progress(rr, b->packets, false);
			queue_release(q);
		}
		pthread_join(reader, NULL);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	rr->q = NULL;
	pthread_cond_destroy(&q->changed);
	pthread_mutex_destroy(&q->mu);
	free(q);
	return rr->rc;
}

/* The closing report on stderr: what was read and what was skipped. */
static void report(struct replay_run *rr)
{
	const struct { const char *what; struct skip_count *s; } rows[] = {
		{ "not IP", &rr->not_ip },
		{ "not TCP", &rr->not_tcp },
		{ "truncated by the snapshot length", &rr->truncated },
		{ "malformed (a length field lies)", &rr->malformed },
		{ "of an unknown link type", &rr->bad_link },
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct skip_count *s = rows[i].s;
		if (!s->n || (rows[i].s == &rr->not_ip) || (rows[i].s == &rr->not_tcp))
			continue;
		catalog_fprintf(stderr, "tcplab: skipped %llu packet%s %s (first: packet %llu, %s)\n",
			(unsigned long long)s->n, s->n == 1 ? "" : "s", rows[i].what,
			(unsigned long long)s->first_packet, s->first_reason);
	}
	if (rr->not_ip.n + rr->not_tcp.n > 0 && rr->opt->progress)
		catalog_fprintf(stderr, "tcplab: %llu non-TCP packet%s skipped\n",
			(unsigned long long)(rr->not_ip.n + rr->not_tcp.n),
			rr->not_ip.n + rr->not_tcp.n == 1 ? "" : "s");
}

/* ---------------------------------------------------- several files */

bool replay_is_file(const char *path)
{
	static const char *const ext[] = { ".pcap", ".pcapng", ".cap", ".gz", ".pcap0", ".dmp" };
	struct stat st;
	size_t n;

	if (path == NULL)
		return false;
	if (stat(path, &st) == 0)
		return !S_ISDIR(st.st_mode);
	/* a capture's name that does not exist is still meant as a file: it
	 * gets "cannot open", not "bad filter expression" */
	n = strlen(path);
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		size_t e = strlen(ext[i]);

		if (n > e && strcmp(path + n - e, ext[i]) == 0)
			return true;
	}
	return false;
}

/* One input of a merge: its next packet, copied (libpcap reuses its buffer). */
struct merge_src {
	struct capture *cap;
	const char *name;
	bool have;                 /* pkt holds the next packet */
	struct capture_packet pkt;
	uint8_t *buf;
	size_t bufsz;
	bool oom;
};

/* Copies the packet capture_dispatch hands over into the source's buffer. */
static void grab(void *user, const struct capture_packet *pkt)
{
	struct merge_src *m = user;

	if (pkt->caplen > m->bufsz) {
		size_t n = pkt->caplen < 65536 ? 65536 : pkt->caplen;
		uint8_t *nb = realloc(m->buf, n);

		if (nb == NULL) {
			m->oom = true;
			return;
		}
		m->buf = nb;
		m->bufsz = n;
	}
	if (pkt->caplen > 0)
		memcpy(m->buf, pkt->data, pkt->caplen);
	m->pkt = *pkt;
	m->pkt.data = m->buf;
	m->have = true;
}

/*
 * Reads the next packet of m.  Returns TCPLAB_EXIT_OK (m->have says whether
 * there was one), or TCPLAB_EXIT_BAD_INPUT with errbuf set when the file is
 * truncated or unreadable (the file is then finished).
 */
static int merge_refill(struct replay_run *rr, struct merge_src *m, char errbuf[REPLAY_ERRBUF_SIZE])
{
	int n;

	m->have = false;
	if (m->cap == NULL)
		return TCPLAB_EXIT_OK;
	n = capture_dispatch(m->cap, 1, grab, m);
	if (m->oom) {
		snprintf(errbuf, REPLAY_ERRBUF_SIZE, "out of memory reading %s", m->name);
		m->have = false;
		return TCPLAB_EXIT_ERROR;
	}
	if (n == CAPTURE_ERR_TRUNCATED) {
		snprintf(errbuf, REPLAY_ERRBUF_SIZE,
			 "%s is truncated: its last packet is incomplete (the other files were read to the end)",
			 m->name);
		return TCPLAB_EXIT_BAD_INPUT;
	}
	if (n < 0 && n != CAPTURE_EOF) {
		snprintf(errbuf, REPLAY_ERRBUF_SIZE, "reading %s after packet %llu: %s", m->name,
			 (unsigned long long)rr->packets, capture_error(m->cap));
		return TCPLAB_EXIT_BAD_INPUT;
	}
	return TCPLAB_EXIT_OK;
}

/*
 * replay FILE...: opens every file and feeds their packets in timestamp
 * order (a k-way merge; equal times keep the files' order, so a ring of
 * files named in order replays as the one capture it was cut from).  A
 * file that cannot be opened stops the run before anything is printed; a
 * file truncated at its end (the ring's file being written) is reported
 * once the others are read.
 */
static int replay_files(struct replay_run *rr, const struct replay_options *opt,
			char errbuf[REPLAY_ERRBUF_SIZE])
{
	struct merge_src *src = calloc((size_t)opt->npaths, sizeof(*src));
	char eb[CAPTURE_ERRBUF_SIZE];
	int rc = TCPLAB_EXIT_OK, n = opt->npaths;

	if (src == NULL) {
		snprintf(errbuf, REPLAY_ERRBUF_SIZE, "out of memory");
		return TCPLAB_EXIT_ERROR;
	}
	for (int i = 0; i < n; i++) {
		src[i].name = strcmp(opt->paths[i], "-") ? opt->paths[i] : "standard input";
		src[i].cap = capture_open_file(opt->paths[i], opt->filter, eb);
		if (src[i].cap == NULL) {
			snprintf(errbuf, REPLAY_ERRBUF_SIZE, "%.500s", eb);
			rc = TCPLAB_EXIT_BAD_INPUT;
			goto out;
		}
	}
	for (int i = 0; i < n; i++) {
		int r1 = merge_refill(rr, &src[i], errbuf);

		if (r1 != TCPLAB_EXIT_OK && rc == TCPLAB_EXIT_OK)
			rc = r1;
	}
	while (!live_signal) {
		struct merge_src *best = NULL;
		int r1;

		for (int i = 0; i < n; i++)
			if (src[i].have && (best == NULL || src[i].pkt.ts_ns < best->pkt.ts_ns))
				best = &src[i];
		if (best == NULL)
			break;
		on_packet(rr, &best->pkt);
		if ((rr->packets & 4095) == 0)
			progress(rr, rr->packets, false);
		r1 = merge_refill(rr, best, rc == TCPLAB_EXIT_OK ? errbuf : eb);
		if (r1 != TCPLAB_EXIT_OK && rc == TCPLAB_EXIT_OK)
			rc = r1;
		if (r1 == TCPLAB_EXIT_ERROR)
			break;
	}
out:
	for (int i = 0; i < n; i++) {
		capture_close(src[i].cap);
		free(src[i].buf);
	}
	free(src);
	return rc;
}

int replay_run(const struct replay_options *opt, struct renderer *r, char errbuf[REPLAY_ERRBUF_SIZE])
{
	struct replay_run rr;
	struct flow_options fo;
	char eb[CAPTURE_ERRBUF_SIZE > FLOW_ERRBUF_SIZE ? CAPTURE_ERRBUF_SIZE : FLOW_ERRBUF_SIZE];
	struct capture *cap;
	int rc = TCPLAB_EXIT_OK, n;

	memset(&rr, 0, sizeof(rr));
	rr.opt = opt;
	rr.r = r;

	if (capture_filter_check(opt->filter, eb) != 0) {
		snprintf(errbuf, REPLAY_ERRBUF_SIZE, "%.500s", eb);
		return TCPLAB_EXIT_USAGE;
	}

	if (opt->path && opt->npaths > 1) {
		memset(&fo, 0, sizeof(fo));
		fo.only_conn = opt->only_conn;
		fo.summary_only = opt->summary_only;
		rr.ft = flow_table_new(r, &fo, eb);
		if (!rr.ft) {
			snprintf(errbuf, REPLAY_ERRBUF_SIZE, "%.500s", eb);
			return TCPLAB_EXIT_ERROR;
		}
		live_install_signals();
		rc = replay_files(&rr, opt, errbuf);
		if (rr.packets == 0 && rc != TCPLAB_EXIT_OK) {
			flow_table_free(rr.ft);
			return rc;
		}
		progress(&rr, rr.packets, true);
		flow_table_finish(rr.ft);
		render_finish(r);
		report(&rr);
		flow_table_free(rr.ft);
		if (live_signal && rc == TCPLAB_EXIT_OK)
			rc = TCPLAB_EXIT_INTERRUPTED;
		return rc;
	}
	if (opt->path) {
		cap = capture_open_file(opt->path, opt->filter, eb);
		if (!cap) {
			snprintf(errbuf, REPLAY_ERRBUF_SIZE, "%.500s", eb);
			return TCPLAB_EXIT_BAD_INPUT;
		}
	} else {
		struct capture_live_options co;
		bool denied = false;
		memset(&co, 0, sizeof(co));
		co.device = opt->interface;
		co.filter = opt->filter;
		co.immediate = true;
		co.buffer_bytes = 32 << 20;
		cap = capture_open_live(&co, eb, &denied);
		if (!cap) {
			if (denied)
				snprintf(errbuf, REPLAY_ERRBUF_SIZE,
					 "tcplab watch needs CAP_NET_RAW to capture on %s: run it with sudo, or grant it once "
					 "with 'sudo setcap cap_net_raw,cap_net_admin+ep $(command -v tcplab)'", opt->interface);
			else
				snprintf(errbuf, REPLAY_ERRBUF_SIZE, "cannot capture on %s: %.400s", opt->interface, eb);
			return denied ? TCPLAB_EXIT_PERMISSION : TCPLAB_EXIT_ERROR;
		}
	}

	memset(&fo, 0, sizeof(fo));
	fo.only_conn = opt->only_conn;
	fo.summary_only = opt->summary_only;
	rr.ft = flow_table_new(r, &fo, eb);
	if (!rr.ft) {
		capture_close(cap);
		snprintf(errbuf, REPLAY_ERRBUF_SIZE, "%.500s", eb);
		return TCPLAB_EXIT_ERROR;
	}

	live_install_signals();
	rr.batching = opt->path && opt->summary_only && !opt->realtime;
	struct kstates *ks = opt->path ? NULL : kstates_open((enum kstates_mode)opt->kernel_states, rr.ft);

	if (opt->path) {
		rc = rr.batching ? read_file_pipelined(&rr, cap, errbuf) : read_file(&rr, cap, errbuf);
	} else {
		struct pollfd pfd = { .fd = capture_fd(cap), .events = POLLIN };
		while (!live_signal) {
			int ready = poll(&pfd, 1, 250);

			if (ready < 0 && errno != EINTR)
				break;
			if (ready == 0)
				render_idle(r);   /* a quiet wire: show a flight held back */
			if (live_signal)
				break;
			n = capture_dispatch(cap, -1, on_packet, &rr);
			kstates_poll(ks);
			if (n < 0 && n != CAPTURE_EOF) {
				snprintf(errbuf, REPLAY_ERRBUF_SIZE, "capture on %s failed: %s", opt->interface,
					 capture_error(cap));
				rc = TCPLAB_EXIT_ERROR;
				break;
			}
			render_flush(r);   /* the ladder's last row, before waiting again */
			fflush(r->out);
		}
		if (live_signal) {
			uint64_t rx = 0, drop = 0;
			if (capture_kernel_stats(cap, &rx, &drop) == 0 && drop > 0)
				catalog_fprintf(stderr, "tcplab: the kernel dropped %llu packets the capture could not keep up with\n",
					(unsigned long long)drop);
		}
	}
	progress(&rr, rr.packets, true);
	kstates_close(ks);
	flow_table_finish(rr.ft);
	render_finish(r);
	report(&rr);
	if (opt->only_conn) {
		struct flow_stats fs;
		flow_table_stats(rr.ft, &fs);
		if (opt->only_conn > fs.connections)
			catalog_fprintf(stderr, "tcplab: there is no connection %u: the input holds %llu\n", opt->only_conn,
				(unsigned long long)fs.connections);
	}
	flow_table_free(rr.ft);
	capture_close(cap);
	if (opt->path && live_signal && rc == TCPLAB_EXIT_OK)
		rc = TCPLAB_EXIT_INTERRUPTED;
	return rc;
}
