/*
 * analysis.c — marks and per-side figures of what the capture shows (the
 * definitions are in include/tcplab/analysis.h, where the tests and the
 * documentation look for them).
 *
 * Per segment the work is a handful of comparisons on the two directions'
 * struct analysis_dir: replay --summary runs it on every segment, so it
 * keeps no per-segment history (one open gap per direction, one running
 * RTT sample per direction, as BSD's single RTT timer does) and touches the
 * rare part (allocated on first use) only when something is marked.
 */
#include "tcplab/analysis.h"

#include <stdlib.h>
#include <string.h>

/* RFC 5681 §3.2: the third duplicate ACK triggers fast retransmit. */
#define DUPTHRESH 3
/* No stack's retransmission timer fires sooner (Linux TCP_RTO_MIN; RFC 6298
 * §2.4 asks 1 s). */
#define RTO_FLOOR_NS 200000000ull
/* Wireshark's default for "the segment arrived within the RTT". */
#define OOO_DEFAULT_NS 3000000ull

void analysis_init(struct analysis *a)
{
	memset(a, 0, sizeof(*a));
}

void analysis_release(struct analysis *a)
{
	/* only the pointer: the tracker releases entries whose lines are long
	 * out of the cache, and re-initializes them when it reuses them */
	if (a != NULL && a->rare != NULL) {
		free(a->rare);
		a->rare = NULL;
	}
}

/* The rare part, allocated on first use; NULL when out of memory (the
 * analysis then goes on without counters, gaps and recovery). */
static struct analysis_rare *rare(struct analysis *a)
{
	if (a->rare == NULL)
		a->rare = calloc(1, sizeof(*a->rare));
	return a->rare;
}

/* The counters of side, or NULL (out of memory). */
static struct analysis_counts *counts(struct analysis *a, int side)
{
	struct analysis_rare *x = rare(a);

	return x != NULL ? &x->s[side].n : NULL;
}

/* R acknowledged new data of its peer (r is the peer's direction): the
 * peer's RTO timer restarts (RFC 6298 §5.3), its running RTT sample may
 * end, its recovery may end. */
static void sample_ack(struct analysis *a, int peer, uint32_t ack, uint64_t now)
{
	struct analysis_dir *r = &a->d[peer];

	r->progress_ns = now;
	/* Karn: a sample only when nothing it covers was retransmitted (the
	 * timer is cleared on retransmission). */
	if (r->timing && seq_ge(ack, r->timed_end)) {
		struct analysis_flight *rf = &a->f[peer];
		uint64_t rtt64 = now >= r->timed_ns ? now - r->timed_ns : 0;
		uint32_t rtt = rtt64 > UINT32_MAX ? UINT32_MAX : (uint32_t)rtt64;

		r->timing = false;
		if (rf->rtt_n == 0 || rtt < rf->rtt_min)
			rf->rtt_min = rtt;
		if (rtt > rf->rtt_max)
			rf->rtt_max = rtt;
		rf->rtt_n++;
		rf->rtt_sum += rtt;
	}
	/* recovery is only ever entered with the rare part allocated */
	if (r->recovery && a->rare != NULL && seq_ge(ack, a->rare->s[peer].recover))
		r->recovery = 0;   /* the ACK covers the recovery point: recovery over */
	if (r->data_seen && !r->data_acked && seq_ge(ack, r->data_end)) {
		r->data_acked = true;   /* the first ACK of all its data so far */
		a->f[peer].data_acked_ns = now;
	}
}

/* The retransmission causes a segment's sender may state (segment.h). */
#define SENDER_CAUSES (TL_MARK_FAST_RETRANS | TL_MARK_RTO_RETRANS)

/* Names the cause of a retransmission by side `from` (R is the receiver);
 * x is the rare part (allocated). */
static unsigned retrans_cause(struct analysis *a, struct analysis_rare *x, int from,
			      const struct segment *seg, uint64_t now)
{
	struct analysis_dir *s = &a->d[from];
	const struct analysis_dir *r = &a->d[!from];

	if (s->recovery && seq_lt(seg->seq, x->s[from].recover))
		return s->recovery == 1 ? TL_MARK_FAST_RETRANS : TL_MARK_RTO_RETRANS;
	if (r->ack_known && seg->seq == r->ack && r->loss_dup >= DUPTHRESH) {
		s->recovery = 1;
		x->s[from].recover = s->nxt;
		return TL_MARK_FAST_RETRANS;
	}
	if (now >= s->progress_ns && now - s->progress_ns >= RTO_FLOOR_NS) {
		s->recovery = 2;
		x->s[from].recover = s->nxt;
		return TL_MARK_RTO_RETRANS;
	}
	return 0;
}

/* The receiver side of seg: window and ACK fields (every mark but the
 * sequence-space ones). */
static unsigned as_receiver(struct analysis *a, int from, const struct segment *seg, uint32_t *dup_ack)
{
	struct analysis_dir *s = &a->d[from], *r = &a->d[!from];
	struct analysis_counts *n;
	uint8_t f = seg->flags;
	bool ctl = (f & (TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_RST)) != 0;
	uint32_t len = seg->payload_len;
	uint64_t now = seg->ts_ns;
	unsigned m = 0;

	if (seg->window == 0 && !ctl)
		m |= TL_MARK_ZERO_WINDOW;
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
				/* with SACK blocks it still reports a loss (RFC 6675 §2) */
				if (seg->opt.sack_count > 0 && s->loss_dup < UINT16_MAX)
					s->loss_dup++;
			} else {
				s->dup++;
				*dup_ack = s->dup;
				m |= TL_MARK_DUP_ACK;
				if (s->loss_dup < UINT16_MAX)
					s->loss_dup++;
			}
		}
	}
	if (seg->sender_known) {
		/* its sender says whether it is a probe (segment.h): one source
		 * per fact; a sender that says so sends no keep-alive either */
		m &= ~(unsigned)(TL_MARK_ZERO_WINDOW_PROBE | TL_MARK_KEEP_ALIVE);
		m |= seg->sender_marks & TL_MARK_ZERO_WINDOW_PROBE;
	}
	if (m != 0 && (n = counts(a, from)) != NULL) {
		n->zero_windows += (m & TL_MARK_ZERO_WINDOW) != 0;
		n->zero_window_probes += (m & TL_MARK_ZERO_WINDOW_PROBE) != 0;
		n->keep_alives += (m & TL_MARK_KEEP_ALIVE) != 0;
		n->window_updates += (m & TL_MARK_WINDOW_UPDATE) != 0;
		n->dup_acks += (m & TL_MARK_DUP_ACK) != 0;
	}
	if (!(f & TCP_FLAG_SYN)) {
		s->win = seg->window;
		s->win_known = true;
		if (seg->window == 0 && !ctl) {
			if (!s->zero_win && rare(a) != NULL) {
				s->zero_win = true;
				a->rare->s[from].zero_since_ns = now;
			}
		} else if (s->zero_win && seg->window != 0) {
			/* zero_win is only ever set with the rare part allocated */
			s->zero_win = false;
			a->rare->s[from].n.zero_window_ns += now - a->rare->s[from].zero_since_ns;
		}
	}
	if (f & TCP_FLAG_ACK) {
		if (!s->ack_known || seg->ack != s->ack) {
			s->ack_known = true;
			s->ack = seg->ack;
			s->dup = 0;
			s->loss_dup = 0;
		}
		if (!s->max_ack_known || seq_gt(seg->ack, s->max_ack)) {
			s->max_ack_known = true;
			s->max_ack = seg->ack;
			sample_ack(a, !from, seg->ack, now);
		}
	}
	return m;
}

void analysis_set_ooo_window(struct analysis *a, int side, uint64_t ns)
{
	a->f[side != 0].ooo_window = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

unsigned analysis_segment(struct analysis *a, int from, const struct segment *seg,
			  bool retransmission, uint32_t *dup_ack)
{
	struct analysis_dir *s, *r;
	struct analysis_rare *x;
	uint32_t len = seg->payload_len, seqlen, end;
	uint64_t now = seg->ts_ns;
	unsigned m;

	from = from != 0;
	s = &a->d[from];
	r = &a->d[!from];
	*dup_ack = 0;
	a->not_retransmission = false;
	a->probe_byte_taken = 0;
	if (seg->flags & TCP_FLAG_RST)
		return 0;   /* no flag applies to an RST */

	m = as_receiver(a, from, seg, dup_ack);

	/* -- the sender side: its sequence space -- */
	if (!s->seq_known) {
		s->seq_known = true;
		s->nxt = seg->seq;
		s->progress_ns = now;
	}
	seqlen = segment_seq_len(seg);
	if (s->probing && r->max_ack_known && seq_gt(r->max_ack, s->nxt)) {
		s->nxt = r->max_ack;   /* the receiver took the probe's byte */
		s->probing = false;
		a->probe_byte_taken = 1;
	}
	if (seqlen == 0)
		return m;
	end = seg->seq + seqlen;

	/* Zero-window probes (one byte at S.nxt, R's window zero) do not move
	 * S.nxt, as in Wireshark: each probe offers the same byte, and the
	 * data sent when the window opens starts with it — new data, not a
	 * retransmission (RFC 9293 §3.8.6.1). */
	if ((m & TL_MARK_ZERO_WINDOW_PROBE) && len == 1 && seg->seq == s->nxt) {
		s->probing = true;
		a->not_retransmission = retransmission;
		return m;
	}
	if (s->probing) {
		if (seg->seq == s->nxt + 1) {
			s->nxt = seg->seq;   /* the probe's byte was taken: go on after it */
			a->probe_byte_taken = 1;
		}
		if (retransmission && seg->seq == s->nxt && seq_gt(end, s->nxt)) {
			retransmission = false;
			a->not_retransmission = true;
		}
		s->probing = false;
	}

	bool ooo = false;
	if (retransmission && s->hole) {
		/* s->hole is only ever set with the rare part allocated */
		x = a->rare;
		if (seq_ge(seg->seq, x->s[from].hole_lo) && seq_lt(seg->seq, x->s[from].hole_hi)) {
			/* it fills the gap: too soon for an answer to a duplicate ACK? */
			uint64_t window = a->f[from].ooo_window ? a->f[from].ooo_window : OOO_DEFAULT_NS;

			ooo = now >= x->s[from].hole_ns && now - x->s[from].hole_ns < window &&
			      !(seg->sender_known && (seg->sender_marks & SENDER_CAUSES));
			if (seq_ge(end, x->s[from].hole_hi))
				s->hole = false;
			else if (seg->seq == x->s[from].hole_lo)
				x->s[from].hole_lo = end;
		}
		if (ooo) {
			m |= TL_MARK_OUT_OF_ORDER;
			x->s[from].n.out_of_order++;
			retransmission = false;
		}
	}

	if (retransmission) {
		unsigned cause = 0;

		if (s->timing && seq_lt(seg->seq, s->timed_end))
			s->timing = false;   /* Karn's rule (RFC 6298 §3) */
		x = rare(a);
		if (x == NULL)
			return m;
		if (!(m & (TL_MARK_ZERO_WINDOW_PROBE | TL_MARK_KEEP_ALIVE)))
			cause = retrans_cause(a, x, from, seg, now);
		if (seg->sender_known && !(m & TL_MARK_ZERO_WINDOW_PROBE))
			cause = seg->sender_marks & SENDER_CAUSES;   /* the sender knows why */
		if (cause == TL_MARK_FAST_RETRANS)
			x->s[from].n.retrans_fast++;
		else if (cause == TL_MARK_RTO_RETRANS)
			x->s[from].n.retrans_rto++;
		else
			x->s[from].n.retrans_other++;
		m |= cause;
		if (len > 0 && r->max_ack_known && seq_le(end, r->max_ack)) {
			m |= TL_MARK_SPURIOUS;
			x->s[from].n.retrans_spurious++;
		}
		return m;
	}

	/* new sequence space (or a gap filled out of order) */
	if (r->max_ack_known && seq_ge(r->max_ack, s->nxt))
		s->progress_ns = now;   /* it starts sending into an idle connection */
	if (seq_gt(seg->seq, s->nxt) && (x = rare(a)) != NULL) {
		/* a gap: the capture did not see s->nxt .. seq (yet) */
		s->hole = true;
		x->s[from].hole_lo = s->nxt;
		x->s[from].hole_hi = seg->seq;
		x->s[from].hole_ns = now;
	}
	if (!s->timing && seq_ge(end, s->nxt) && !ooo) {
		s->timing = true;
		s->timed_end = end;
		s->timed_ns = now;
	}
	if (seq_gt(end, s->nxt))
		s->nxt = end;
	if (len > 0) {
		if (!s->data_seen) {
			s->data_seen = true;
			a->f[from].data_first_ns = now;
			s->data_end = seg->seq + len;
		}
		if (seq_gt(seg->seq + len, s->data_end)) {
			s->data_end = seg->seq + len;
			s->data_acked = false;
		}
		if (r->max_ack_known && seq_gt(s->nxt, r->max_ack) && s->nxt - r->max_ack > s->max_flight)
			s->max_flight = s->nxt - r->max_ack;
	}
	return m;
}

void analysis_side(const struct analysis *a, int side, uint64_t end_ns, uint64_t bytes,
		   struct tl_side_analysis *out)
{
	const struct analysis_dir *d = &a->d[side != 0];
	const struct analysis_flight *f = &a->f[side != 0];

	memset(out, 0, sizeof(*out));
	if (a->rare != NULL) {
		const struct analysis_counts *n = &a->rare->s[side != 0].n;

		out->retrans_rto = n->retrans_rto;
		out->retrans_fast = n->retrans_fast;
		out->retrans_other = n->retrans_other;
		out->retrans_spurious = n->retrans_spurious;
		out->dup_acks = n->dup_acks;
		out->zero_windows = n->zero_windows;
		out->zero_window_ns = n->zero_window_ns;
		out->zero_window_probes = n->zero_window_probes;
		out->window_updates = n->window_updates;
		out->out_of_order = n->out_of_order;
		out->keep_alives = n->keep_alives;
		if (d->zero_win && end_ns > a->rare->s[side != 0].zero_since_ns)
			out->zero_window_ns += end_ns - a->rare->s[side != 0].zero_since_ns;
	}
	out->flight_known = d->data_seen && d->max_flight > 0;
	out->max_flight = d->max_flight;
	out->rtt_samples = f->rtt_n;
	if (f->rtt_n > 0) {
		out->rtt_min_ns = f->rtt_min;
		out->rtt_max_ns = f->rtt_max;
		out->rtt_avg_ns = f->rtt_sum / f->rtt_n;
	}
	if (d->data_seen && bytes > 0) {
		/* to the first ACK of all its data; never acknowledged: the end */
		uint64_t last = d->data_acked ? f->data_acked_ns : end_ns;

		if (last > f->data_first_ns) {
			double bps = (double)bytes * 8.0 * 1e9 / (double)(last - f->data_first_ns);

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
