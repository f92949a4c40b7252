/*
 * replay.c — the passive sources: a saved capture (`tcplab replay`) or a
 * live interface (`tcplab watch`).  Frames are decoded and fed to the
 * tracker in capture order; what cannot be decoded is skipped, counted by
 * reason, and reported at the end with the number of the first such packet.
 * Nothing here ever sends a packet.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "live.h"
#include "tcplab/capture.h"
#include "tcplab/decode.h"
#include "tcplab/exitcode.h"
#include "tcplab/flow.h"
#include "tcplab/replay.h"

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
};


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
		fflush(rr->r->out);
		while (nanosleep(&d, &d) != 0 && errno == EINTR && !live_signal)
			;
	}
}

static void on_packet(void *user, const struct capture_packet *pkt)
{
	struct replay_run *rr = user;
	struct segment seg;
	char why[DECODE_ERRBUF_SIZE];
	enum decode_status st;

	rr->packets++;
	st = segment_decode(pkt->link, pkt->data, pkt->caplen, pkt->wirelen, pkt->ts_ns, &seg, why);
	switch (st) {
	case DECODE_OK:
		break;
	case DECODE_NOT_IP: count(&rr->not_ip, rr->packets, why); return;
	case DECODE_NOT_TCP: count(&rr->not_tcp, rr->packets, why); return;
	case DECODE_TRUNCATED: count(&rr->truncated, rr->packets, why); return;
	case DECODE_MALFORMED: count(&rr->malformed, rr->packets, why); return;
	case DECODE_BAD_LINK: count(&rr->bad_link, rr->packets, why); return;
	}
	rr->tcp++;
	if (rr->opt->realtime)
		pace(rr, seg.ts_ns);
	flow_table_feed(rr->ft, &seg);
}

static void progress(struct replay_run *rr, bool final)
{
	uint64_t now = mono_ns();
	struct flow_stats fs;
	if (!rr->opt->progress || (!final && now - rr->last_progress < 250000000ull))
		return;
	rr->last_progress = now;
	flow_table_stats(rr->ft, &fs);
	fprintf(stderr, "\r%llu packets, %llu connections%s", (unsigned long long)rr->packets,
		(unsigned long long)fs.connections, final ? "\n" : "");
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
		fprintf(stderr, "tcplab: skipped %llu packet%s %s (first: packet %llu, %s)\n",
			(unsigned long long)s->n, s->n == 1 ? "" : "s", rows[i].what,
			(unsigned long long)s->first_packet, s->first_reason);
	}
	if (rr->not_ip.n + rr->not_tcp.n > 0 && rr->opt->progress)
		fprintf(stderr, "tcplab: %llu non-TCP packet%s skipped\n",
			(unsigned long long)(rr->not_ip.n + rr->not_tcp.n),
			rr->not_ip.n + rr->not_tcp.n == 1 ? "" : "s");
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

	if (opt->path) {
		for (;;) {
			n = capture_dispatch(cap, opt->progress || opt->realtime ? 4096 : -1, on_packet, &rr);
			if (n == CAPTURE_EOF || live_signal)
				break;
			if (n == CAPTURE_ERR_TRUNCATED) {
				snprintf(errbuf, REPLAY_ERRBUF_SIZE,
					 "%s is truncated after packet %llu: the connections so far are summarized above",
					 strcmp(opt->path, "-") ? opt->path : "standard input", (unsigned long long)rr.packets);
				rc = TCPLAB_EXIT_BAD_INPUT;
				break;
			}
			if (n < 0) {
				snprintf(errbuf, REPLAY_ERRBUF_SIZE, "reading %s after packet %llu: %s",
					 strcmp(opt->path, "-") ? opt->path : "standard input",
					 (unsigned long long)rr.packets, capture_error(cap));
				rc = TCPLAB_EXIT_BAD_INPUT;
				break;
			}
			if (n == 0)
				break; /* a savefile with nothing more to deliver */
			progress(&rr, false);
		}
	} else {
		struct pollfd pfd = { .fd = capture_fd(cap), .events = POLLIN };
		while (!live_signal) {
			if (poll(&pfd, 1, 250) < 0 && errno != EINTR)
				break;
			if (live_signal)
				break;
			n = capture_dispatch(cap, -1, on_packet, &rr);
			if (n < 0 && n != CAPTURE_EOF) {
				snprintf(errbuf, REPLAY_ERRBUF_SIZE, "capture on %s failed: %s", opt->interface,
					 capture_error(cap));
				rc = TCPLAB_EXIT_ERROR;
				break;
			}
			fflush(r->out);
		}
		if (live_signal) {
			uint64_t rx = 0, drop = 0;
			if (capture_kernel_stats(cap, &rx, &drop) == 0 && drop > 0)
				fprintf(stderr, "tcplab: the kernel dropped %llu packets the capture could not keep up with\n",
					(unsigned long long)drop);
		}
	}
	progress(&rr, true);
	flow_table_finish(rr.ft);
	render_finish(r);
	report(&rr);
	if (opt->only_conn) {
		struct flow_stats fs;
		flow_table_stats(rr.ft, &fs);
		if (opt->only_conn > fs.connections)
			fprintf(stderr, "tcplab: there is no connection %u: the input holds %llu\n", opt->only_conn,
				(unsigned long long)fs.connections);
	}
	flow_table_free(rr.ft);
	capture_close(cap);
	if (opt->path && live_signal && rc == TCPLAB_EXIT_OK)
		rc = TCPLAB_EXIT_INTERRUPTED;
	return rc;
}
