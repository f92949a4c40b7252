/*
 * analysis.c — marks and per-side figures of what the capture shows (the
 * definitions are in include/tcplab/analysis.h, where the tests and the
 * documentation look for them).
 *
 * Per segment the work is a handful of comparisons on the two directions'
 * struct analysis_dir: replay --summary runs it on every segment, so it
 * allocates nothing and keeps no per-segment history (one open gap per
 * direction, one running RTT sample per direction, as BSD's single RTT
 * timer does).
 */
#include "tcplab/analysis.h"

#include <string.h>

/* RFC 5681 §3.2: the third duplicate ACK triggers fast retransmit. */
#define DUPTHRESH 3
/* No stack's retransmission timer fires sooner (Linux TCP_RTO_MIN; RFC 6298
 * §2.4 asks 1 s). */
#define RTO_FLOOR_NS 200000000ull

void analysis_init(struct analysis *a)
{
	memset(a, 0, sizeof(*a));
}

/* The sender's RTO timer restarts: R acknowledged new data of s (RFC 6298
 * §5.3), or s began sending into an idle connection (§5.1). */
static void sample_ack(struct analysis_dir *r, struct tl_side_analysis *rst, uint32_t ack, uint64_t now)
{
	r->progress_ns = now;
	/* Karn: a sample only when nothing it covers was retransmitted (the
	 * timer is cleared on retransmission). */
	if (r->timing && seq_ge(ack, r->timed_end)) {
		uint64_t rtt = now >= r->timed_ns ? now - r->timed_ns : 0;

		r->timing = false;
		if (rst->rtt_samples == 0 || rtt < rst->rtt_min_ns)
			rst->rtt_min_ns = rtt;
		if (rtt > rst->rtt_max_ns)
			rst->rtt_max_ns = rtt;
		rst->rtt_samples++;
		rst->rtt_avg_ns += rtt;   /* a sum until analysis_side divides it */
	}
	if (r->recovery && seq_ge(ack, r->recover))
		r->recovery = 0;   /* the ACK covers the recovery point: recovery over */
	if (r->data_seen && !r->data_acked && seq_ge(ack, r->data_end)) {
		r->data_acked = true;   /* the first ACK of all its data so far */
		r->data_acked_ns = now;
	}
}

/* Names the cause of a retransmission by s (R is the receiver). */
static unsigned retrans_cause(struct analysis_dir *s, const struct analysis_dir *r,
			      const struct segment *seg, uint64_t now)
{
	if (s->recovery && seq_lt(seg->seq, s->recover))
		return s->recovery == 1 ? TL_MARK_FAST_RETRANS : TL_MARK_RTO_RETRANS;
	if (r->ack_known && seg->seq == r->ack && r->dup >= DUPTHRESH) {
		s->recovery = 1;
		s->recover = s->nxt;
		return TL_MARK_FAST_RETRANS;
	}
	if (now >= s->progress_ns && now - s->progress_ns >= RTO_FLOOR_NS) {
		s->recovery = 2;
		s->recover = s->nxt;
		return TL_MARK_RTO_RETRANS;
	}
	return 0;
}

unsigned analysis_segment(struct analysis *a, int from, const struct segment *seg,
			  bool retransmission, uint64_t ooo_window_ns, uint32_t *dup_ack)
{
	struct analysis_dir *s = &a->d[from != 0], *r = &a->d[from == 0];
	struct tl_side_analysis *sst = &a->st[from != 0];
	uint8_t f = seg->flags;
	bool ctl = (f & (TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_RST)) != 0;
	uint32_t len = seg->payload_len, seqlen = segment_seq_len(seg), end = seg->seq + seqlen;
	uint64_t now = seg->ts_ns;
	unsigned m = 0;

	*dup_ack = 0;
	if (f & TCP_FLAG_RST)
		return 0;   /* an RST ends the analysis of nothing: no flag applies */

	/* -- what the segment says as a receiver: window and ACK fields -- */
	if (seg->window == 0 && !ctl) {
		m |= TL_MARK_ZERO_WINDOW;
		sst->zero_windows++;
	}
	if (s->seq_known && !ctl && (f & TCP_FLAG_ACK)) {
		if (len <= 1 && seg->seq == s->nxt - 1) {
			/* one below the next sequence number: an ACK is forced */
			m |= r->zero_win ? TL_MARK_ZERO_WINDOW_PROBE : TL_MARK_KEEP_ALIVE;
		} else if (len == 1 && seg->seq == s->nxt && r->zero_win) {
			m |= TL_MARK_ZERO_WINDOW_PROBE;
		} else if (len == 0 && seg->seq == s->nxt && s->ack_known && seg->ack == s->ack &&
			   s->win_known && seg->window != 0) {
			if (seg->window != s->win) {
				m |= TL_MARK_WINDOW_UPDATE;
				sst->window_updates++;
			} else {
				s->dup++;
				sst->dup_acks++;
				*dup_ack = s->dup;
				m |= TL_MARK_DUP_ACK;
			}
		}
	}
	if (m & TL_MARK_ZERO_WINDOW_PROBE)
		sst->zero_window_probes++;
	if (m & TL_MARK_KEEP_ALIVE)
		sst->keep_alives++;
	if (!(f & TCP_FLAG_SYN)) {
		s->win = seg->window;
		s->win_known = true;
		if (seg->window == 0 && !ctl) {
			if (!s->zero_win) {
				s->zero_win = true;
				s->zero_since_ns = now;
			}
		} else if (s->zero_win && seg->window != 0) {
			s->zero_win = false;
			sst->zero_window_ns += now - s->zero_since_ns;
		}
	}
	if (f & TCP_FLAG_ACK) {
		if (!s->ack_known || seg->ack != s->ack) {
			s->ack_known = true;
			s->ack = seg->ack;
			s->dup = 0;
		}
		if (!s->max_ack_known || seq_gt(seg->ack, s->max_ack)) {
			s->max_ack_known = true;
			s->max_ack = seg->ack;
			sample_ack(r, &a->st[from == 0], seg->ack, now);
		}
	}

	/* -- what it says as a sender: its sequence space -- */
	if (!s->seq_known) {
		s->seq_known = true;
		s->nxt = seg->seq;
		s->progress_ns = now;
	}
	if (seqlen == 0)
		return m;

	bool ooo = false;
	if (retransmission && s->hole && seq_ge(seg->seq, s->hole_lo) && seq_lt(seg->seq, s->hole_hi)) {
		/* it fills the gap: too soon for an answer to a duplicate ACK? */
		ooo = now >= s->hole_ns && now - s->hole_ns < ooo_window_ns;
		if (seq_ge(end, s->hole_hi))
			s->hole = false;
		else if (seg->seq == s->hole_lo)
			s->hole_lo = end;
	}
	if (ooo) {
		m |= TL_MARK_OUT_OF_ORDER;
		sst->out_of_order++;
		retransmission = false;
	}

	if (retransmission) {
		unsigned cause = 0;

		if (s->timing && seq_lt(seg->seq, s->timed_end))
			s->timing = false;   /* Karn's rule (RFC 6298 §3) */
		if (!(m & (TL_MARK_ZERO_WINDOW_PROBE | TL_MARK_KEEP_ALIVE)))
			cause = retrans_cause(s, r, seg, now);
		if (cause == TL_MARK_FAST_RETRANS)
			sst->retrans_fast++;
		else if (cause == TL_MARK_RTO_RETRANS)
			sst->retrans_rto++;
		else
			sst->retrans_other++;
		m |= cause;
		if (len > 0 && r->max_ack_known && seq_le(end, r->max_ack)) {
			m |= TL_MARK_SPURIOUS;
			sst->retrans_spurious++;
		}
		return m;
	}

	/* new sequence space (or a gap filled out of order) */
	bool idle = r->max_ack_known && seq_ge(r->max_ack, s->nxt);
	if (idle)
		s->progress_ns = now;
	if (seq_gt(seg->seq, s->nxt)) {
		/* a gap: the capture did not see s->nxt .. seq (yet) */
		s->hole = true;
		s->hole_lo = s->nxt;
		s->hole_hi = seg->seq;
		s->hole_ns = now;
	}
	if (!s->timing && seq_ge(end, s->nxt) && !ooo) {
		s->timing = true;
		s->timed_end = end;
		s->timed_ns = now;
	}
	if (seq_gt(end, s->nxt))
		s->nxt = end;
	if (len > 0) {
		s->unique_bytes += len;
		if (!s->data_seen) {
			s->data_seen = true;
			s->data_first_ns = now;
			s->data_end = seg->seq + len;
		}
		s->data_last_ns = now;
		if (seq_gt(seg->seq + len, s->data_end)) {
			s->data_end = seg->seq + len;
			s->data_acked = false;
		}
		if (r->max_ack_known && seq_gt(s->nxt, r->max_ack)) {
			uint32_t flight = s->nxt - r->max_ack;

			if (!sst->flight_known || flight > sst->max_flight)
				sst->max_flight = flight;
			sst->flight_known = true;
		}
	}
	return m;
}

void analysis_side(const struct analysis *a, int side, uint64_t end_ns, struct tl_side_analysis *out)
{
	const struct analysis_dir *d = &a->d[side != 0];

	*out = a->st[side != 0];
	if (out->rtt_samples > 0)
		out->rtt_avg_ns /= out->rtt_samples;
	if (d->zero_win && end_ns > d->zero_since_ns)
		out->zero_window_ns += end_ns - d->zero_since_ns;
	if (d->data_seen && d->unique_bytes > 0) {
		uint64_t last = d->data_acked_ns > d->data_last_ns ? d->data_acked_ns : d->data_last_ns;

		if (last > d->data_first_ns) {
			double bps = (double)d->unique_bytes * 8.0 * 1e9 / (double)(last - d->data_first_ns);

			out->goodput_known = true;
			out->goodput_bps = bps >= 1.8e19 ? UINT64_MAX : (uint64_t)(bps + 0.5);
		}
	}
}

static const struct {
	unsigned bit;
	const char *json, *text;
} marks[TL_MARK_COUNT] = {
	{ TL_MARK_DUP_ACK, "duplicate-ack", "dup ACK" },
	{ TL_MARK_ZERO_WINDOW, "zero-window", "zero window" },
	{ TL_MARK_ZERO_WINDOW_PROBE, "zero-window-probe", "zero-window probe" },
	{ TL_MARK_WINDOW_UPDATE, "window-update", "window update" },
	{ TL_MARK_OUT_OF_ORDER, "out-of-order", "out-of-order" },
	{ TL_MARK_FAST_RETRANS, "fast-retransmission", "fast retransmission" },
	{ TL_MARK_RTO_RETRANS, "rto-retransmission", "RTO retransmission" },
	{ TL_MARK_SPURIOUS, "spurious-retransmission", "spurious" },
	{ TL_MARK_KEEP_ALIVE, "keep-alive", "keep-alive" },
};

const char *tl_mark_name(unsigned bit)
{
	for (unsigned i = 0; i < TL_MARK_COUNT; i++)
		if (marks[i].bit == bit)
			return marks[i].json;
	return NULL;
}

const char *tl_mark_text(unsigned bit)
{
	for (unsigned i = 0; i < TL_MARK_COUNT; i++)
		if (marks[i].bit == bit)
			return marks[i].text;
	return NULL;
}
