/*
 * tcb.c — the driven endpoint: TCB, queues, congestion control, timers
 * (contract in include/tcplab/tcb.h).  Pure: every time is passed in.
 */
#include "tcplab/tcb.h"

#include <stdlib.h>
#include <string.h>

#define NS_MS 1000000ull
#define NS_S 1000000000ull
#define RTO_INITIAL (1 * NS_S)        /* RFC 6298 §2.1 */
#define RTO_MAX (60 * NS_S)           /* RFC 6298 §2.5 */
#define RTO_MIN_DEFAULT (200 * NS_MS) /* Linux's TCP_RTO_MIN; RFC 6298 §2.4 asks 1 s */
#define CLOCK_G NS_MS                 /* granularity of the timestamp clock */
#define SND_BUF_DEFAULT (4u << 20)
#define RCV_BUF_DEFAULT 64240u
#define RCV_BUF_MAX (1u << 30)

static const char PH_SLOW_START[] = "slow start";
static const char PH_CONG_AVOID[] = "congestion avoidance";
static const char PH_FAST_RECOVERY[] = "fast recovery";
static const char PH_RTO[] = "RTO";
static const char PH_INITIAL[] = "initial window";

/* ------------------------------------------------------------ helpers */

static uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static uint32_t max32(uint32_t a, uint32_t b) { return a > b ? a : b; }

static uint32_t snd_end(const struct tcb *t) { return t->sq_seq + t->sq_len; }

static uint64_t cur_rto(const struct tcb *t)
{
	uint64_t r = t->rto;
	for (unsigned i = 0; i < t->backoff && r < RTO_MAX; i++)
		r *= 2;
	return r > RTO_MAX ? RTO_MAX : r;
}

static void push_event(struct tcb *t, enum tcb_event_kind k, const char *reason, uint32_t seq,
		       uint32_t len, unsigned count)
{
	struct tcb_event *e;
	if (t->ev_count == TCB_MAX_EVENTS) {
		t->ev_first = (t->ev_first + 1) % TCB_MAX_EVENTS;
		t->ev_count--;
	}
	e = &t->ev[(t->ev_first + t->ev_count++) % TCB_MAX_EVENTS];
	memset(e, 0, sizeof(*e));
	e->kind = k;
	e->reason = reason;
	e->cwnd = t->cwnd;
	e->ssthresh = t->ssthresh;
	e->snd_wnd = t->snd_wnd;
	e->seq = seq;
	e->len = len;
	e->count = count;
	e->rto_ns = cur_rto(t);
}

/* Reports cwnd when its phase or ssthresh changed (at once), or when it
 * changed at all since the last report and a round trip has passed (the
 * segment sent last at that report is acknowledged): one line per flight,
 * not per ACK. */
static void report_cwnd(struct tcb *t, bool force)
{
	/* the largest window the sender worked with: not fast recovery's
	 * inflation (RFC 5681 §3.2 step 4: one MSS per duplicate ACK, which
	 * only stands for segments that left the network, and is given back) */
	if (t->cwnd > t->st.max_cwnd && !t->in_recovery)
		t->st.max_cwnd = t->cwnd;
	if (!t->iw_reported)
		return; /* the first report is the initial window, at the first output */
	if (!force && t->phase == t->rep_phase && t->ssthresh == t->rep_ssthresh &&
	    (t->cwnd == t->rep_cwnd || seq_lt(t->snd_una, t->rep_seq)))
		return;
	if (t->cwnd == t->rep_cwnd && t->ssthresh == t->rep_ssthresh && t->phase == t->rep_phase)
		return;
	push_event(t, TCB_EV_CWND, t->phase, t->snd_una, 0, 0);
	t->rep_cwnd = t->cwnd;
	t->rep_ssthresh = t->ssthresh;
	t->rep_phase = t->phase;
	t->rep_seq = t->snd_max;
}

/* Before cwnd is cut (third duplicate ACK, RTO): the value it is cut from,
 * when the once-a-round-trip rule has not shown it yet, so that the trace
 * shows "before" and "after" side by side (RFC 5681 §3.2 halves the
 * flight, and a reader wants to see from what). */
static void report_before_cut(struct tcb *t)
{
	if (t->iw_reported && (t->cwnd != t->rep_cwnd || t->ssthresh != t->rep_ssthresh))
		report_cwnd(t, true);
}

/* Remembers the first maximal run: is seq the end of a write? */
static bool is_write_end(const struct tcb *t, uint32_t seq)
{
	for (unsigned i = 0; i < t->wr_count; i++)
		if (t->wr_end[(t->wr_first + i) % TCB_MAX_WRITES] == seq)
			return true;
	return false;
}

/* The first write end after seq, or the end of the queue. */
static uint32_t next_boundary(const struct tcb *t, uint32_t seq)
{
	for (unsigned i = 0; i < t->wr_count; i++) {
		uint32_t e = t->wr_end[(t->wr_first + i) % TCB_MAX_WRITES];
		if (seq_gt(e, seq))
			return e;
	}
	return snd_end(t);
}

/* True when seq lies in a block the peer SACKed; *end is that block's end. */
static bool in_peer_sack(const struct tcb *t, uint32_t seq, uint32_t *end)
{
	for (unsigned i = 0; i < t->npeer_sack; i++)
		if (seq_ge(seq, t->peer_sack[i][0]) && seq_lt(seq, t->peer_sack[i][1])) {
			*end = t->peer_sack[i][1];
			return true;
		}
	return false;
}

/* Bytes of [from, to) the peer SACKed. */
static uint32_t sacked_between(const struct tcb *t, uint32_t from, uint32_t to)
{
	uint32_t n = 0;
	for (unsigned i = 0; i < t->npeer_sack; i++) {
		uint32_t a = t->peer_sack[i][0], b = t->peer_sack[i][1];
		if (seq_lt(a, from))
			a = from;
		if (seq_gt(b, to))
			b = to;
		if (seq_lt(a, b))
			n += b - a;
	}
	return n;
}

/* Bytes in flight: sent, not acknowledged, not known to have arrived. */
static uint32_t pipe_bytes(const struct tcb *t)
{
	uint32_t p = t->snd_nxt - t->snd_una;
	if (t->rto_go_back)
		p -= min32(p, sacked_between(t, t->snd_una, t->snd_nxt));
	if (t->in_recovery && t->sack_ok)
		p += t->pipe_extra; /* SACK-driven retransmissions of this recovery */
	return p;
}

/* ------------------------------------------------------------- set-up */

void tcb_init(struct tcb *t, const struct tcb_config *cfg, enum tcp_state initial)
{
	memset(t, 0, sizeof(*t));
	if (cfg)
		t->cfg = *cfg;
	if (t->cfg.rcv_buf == 0)
		t->cfg.rcv_buf = RCV_BUF_DEFAULT;
	if (t->cfg.rcv_buf > RCV_BUF_MAX)
		t->cfg.rcv_buf = RCV_BUF_MAX;
	if (t->cfg.snd_buf == 0)
		t->cfg.snd_buf = SND_BUF_DEFAULT;
	if (t->cfg.mss_cap == 0)
		t->cfg.mss_cap = 536;
	if (t->cfg.rto_min_ns == 0)
		t->cfg.rto_min_ns = RTO_MIN_DEFAULT;
	tcp_endpoint_init(&t->fsm, initial);
	t->rto = RTO_INITIAL;
	t->ssthresh = TCB_NO_SSTHRESH;
	t->mss = min32(536, t->cfg.mss_cap);
	t->phase = PH_INITIAL;
}

void tcb_free(struct tcb *t)
{
	free(t->sq);
	free(t->rq);
	t->sq = t->rq = NULL;
	t->sq_cap = 0;
}

void tcb_set_peer(struct tcb *t, uint16_t peer_mss, bool ts_ok, bool sack_ok, uint8_t snd_wscale,
		  uint8_t rcv_wscale, uint32_t ts_recent)
{
	uint32_t m = peer_mss ? peer_mss : 536; /* RFC 9293 §3.7.1 */
	t->peer_mss = (uint16_t)m;
	m = min32(m, t->cfg.mss_cap);
	t->ts_ok = ts_ok;
	t->sack_ok = sack_ok;
	t->snd_wscale = snd_wscale > 14 ? 14 : snd_wscale; /* RFC 7323 §2.3 */
	t->rcv_wscale = rcv_wscale > 14 ? 14 : rcv_wscale;
	t->ts_recent = ts_recent;
	/* RFC 6691: the MSS counts no TCP options; the sender leaves room
	 * for the ones it puts on every data segment (timestamps: 12 bytes). */
	if (ts_ok && m > 12 + 64)
		m -= 12;
	t->mss = m;
}

/* RFC 6928: IW = min(10*MSS, max(2*MSS, 14600)); --iw N: N segments. */
static uint32_t initial_window(const struct tcb *t)
{
	if (t->cfg.iw)
		return t->cfg.iw * t->mss;
	return min32(10 * t->mss, max32(2 * t->mss, 14600));
}

void tcb_set_mss_cap(struct tcb *t, uint16_t cap)
{
	uint32_t m;
	if (cap == 0 || t->iw_reported || (t->open && seq_gt(t->snd_max, t->iss + 1)))
		return; /* data already went out at the old size */
	t->cfg.mss_cap = cap;
	m = min32(t->peer_mss ? t->peer_mss : 536, cap);
	if (t->ts_ok && m > 12 + 64)
		m -= 12;
	t->mss = m;
	if (t->cwnd != 0)
		t->cwnd = initial_window(t);
}

/* Starts the data machinery once both ISNs are known (idempotent).
 * -1 when the receive buffer cannot be allocated. */
static int open_data(struct tcb *t)
{
	if (t->open)
		return 0;
	/* the receive buffer is allocated when the first data arrives: this
	 * runs between the SYN-ACK and our ACK, which must leave at once */
	t->open = true;
	t->iss = t->fsm.iss;
	t->irs = t->fsm.irs;
	t->rcv_nxt = t->fsm.rcv_nxt;
	t->rcv_adv = t->rcv_nxt + t->cfg.rcv_buf;
	t->snd_una = t->fsm.snd_una;
	if (t->sq_len == 0)
		t->sq_seq = t->wr_last = t->iss + 1;
	if (seq_lt(t->snd_nxt, t->snd_una))
		t->snd_nxt = t->snd_una;
	if (seq_lt(t->snd_max, t->snd_nxt))
		t->snd_max = t->snd_nxt;
	/* the initial window waits for the first use (ensure_cwnd): the
	 * negotiated MSS may be told after our ACK has left */
	t->cwnd = 0;
	t->phase = PH_INITIAL;
	return 0;
}

/* Sets the initial window on first use: RFC 6928's IW = min(10*MSS,
 * max(2*MSS, 14600)), or cfg.iw segments. */
static void ensure_cwnd(struct tcb *t)
{
	if (t->cwnd != 0 || !t->open)
		return;
	t->cwnd = initial_window(t);
	t->phase = PH_INITIAL;
}

/* ------------------------------------------------------------ RTT */

/* One RTT sample r for SRTT/RTTVAR/RTO.  The end-of-run figures (st.rtt_*)
 * take only timed samples (precise): a timestamp echo measures in whole
 * milliseconds (a 0.3 ms path reads 0 ms) and, after a loss, from an older
 * TSval (RFC 7323 §4.3), so it would put 0.000 beside a 600 ms max. */
static void rtt_sample(struct tcb *t, uint64_t r, bool precise)
{
	uint64_t rto;
	if (!t->rtt_have) {
		/* RFC 6298 §2.2 */
		t->srtt = r;
		t->rttvar = r / 2;
		t->rtt_have = true;
	} else {
		/* §2.3: beta 1/4, alpha 1/8 */
		uint64_t d = t->srtt > r ? t->srtt - r : r - t->srtt;
		t->rttvar = (3 * t->rttvar + d) / 4;
		t->srtt = (7 * t->srtt + r) / 8;
	}
	rto = t->srtt + (4 * t->rttvar > CLOCK_G ? 4 * t->rttvar : CLOCK_G);
	if (rto < t->cfg.rto_min_ns)
		rto = t->cfg.rto_min_ns;
	if (rto > RTO_MAX)
		rto = RTO_MAX;
	t->rto = rto;
	if (!precise)
		return;
	t->st.rtt_samples++;
	t->st.rtt_sum_ns += r;
	if (t->st.rtt_samples == 1 || r < t->st.rtt_min_ns)
		t->st.rtt_min_ns = r;
	if (r > t->st.rtt_max_ns)
		t->st.rtt_max_ns = r;
}

/* ------------------------------------------------------------ send queue */

uint32_t tcb_send_space(const struct tcb *t)
{
	return t->sq_len >= t->cfg.snd_buf ? 0 : t->cfg.snd_buf - t->sq_len;
}

long tcb_write(struct tcb *t, const uint8_t *p, size_t len, bool end_of_write)
{
	uint32_t take;

	if (t->close_requested)
		return -1;
	take = (uint32_t)(len < tcb_send_space(t) ? len : tcb_send_space(t));
	if (take > 0) {
		if (t->sq_head + t->sq_len + take > t->sq_cap) {
			/* Segments point into the queue, so it stays one contiguous
			 * run.  It grows to twice snd_buf; then the unacknowledged
			 * bytes (at most snd_buf) move to the front only once the
			 * tail reaches the end: each byte is moved at most about
			 * once, however the writes and ACKs interleave. */
			uint32_t want = t->sq_len + take, cap = t->sq_cap;
			if (want > cap / 2 || cap < 2 * t->cfg.snd_buf) {
				if (cap == 0)
					cap = 16384;
				while (cap < 2 * want && cap < 2 * t->cfg.snd_buf)
					cap *= 2;
			}
			if (cap != t->sq_cap) {
				uint8_t *q = realloc(t->sq, cap);
				if (!q)
					return -1;
				t->sq = q;
				t->sq_cap = cap;
			}
			if (t->sq_head + t->sq_len + take > t->sq_cap) {
				memmove(t->sq, t->sq + t->sq_head, t->sq_len);
				t->sq_head = 0;
			}
		}
		memcpy(t->sq + t->sq_head + t->sq_len, p, take);
		t->sq_len += take;
	}
	/* a write ends here (also a stream's end, written as len 0) */
	if (take == len && end_of_write && snd_end(t) != t->wr_last && t->wr_count < TCB_MAX_WRITES) {
		t->wr_end[(t->wr_first + t->wr_count++) % TCB_MAX_WRITES] = snd_end(t);
		t->wr_last = snd_end(t);
	}
	return (long)take;
}

void tcb_close(struct tcb *t)
{
	t->close_requested = true;
}

/* Drops acknowledged bytes from the send queue. */
static uint32_t drop_acked(struct tcb *t, uint32_t una)
{
	uint32_t n = 0;
	if (seq_gt(una, t->sq_seq)) {
		n = min32(una - t->sq_seq, t->sq_len);
		t->sq_head += n;
		t->sq_len -= n;
		t->sq_seq += n;
		t->st.bytes_acked += n;
		if (t->sq_len == 0)
			t->sq_head = 0;
	}
	while (t->wr_count && seq_le(t->wr_end[t->wr_first], t->sq_seq)) {
		t->wr_first = (t->wr_first + 1) % TCB_MAX_WRITES;
		t->wr_count--;
	}
	return n;
}

bool tcb_all_acked(const struct tcb *t)
{
	if (t->sq_len > 0)
		return false;
	return !t->close_requested || t->fsm.fin_acked;
}

uint32_t tcb_unacked(const struct tcb *t)
{
	return t->sq_len;
}

/* --------------------------------------------------------- receive buffer */

uint32_t tcb_rcv_window(const struct tcb *t)
{
	uint32_t w = t->cfg.rcv_buf - t->rq_len;
	/* never shrink the right edge already advertised (RFC 9293 §3.8.6.2.2) */
	if (t->open && seq_gt(t->rcv_adv, t->rcv_nxt + w))
		w = t->rcv_adv - t->rcv_nxt;
	return w;
}

uint16_t tcb_window_field(const struct tcb *t)
{
	uint32_t w = tcb_rcv_window(t) >> t->rcv_wscale;
	return (uint16_t)(w > 65535 ? 65535 : w);
}

/* Copies n bytes to ring offset off (from the read head). */
static void ring_put(struct tcb *t, uint32_t off, const uint8_t *p, uint32_t n)
{
	uint32_t cap = t->cfg.rcv_buf, pos = (t->rq_head + off) % cap;
	uint32_t first = min32(n, cap - pos);
	if (!p) {
		/* payload not in the capture (cut by the snaplen): its bytes
		 * are counted, their content is unknown */
		memset(t->rq + pos, 0, first);
		if (n > first)
			memset(t->rq, 0, n - first);
		return;
	}
	memcpy(t->rq + pos, p, first);
	if (n > first)
		memcpy(t->rq, p + first, n - first);
}

uint32_t tcb_peek(const struct tcb *t, const uint8_t **p)
{
	if (!t->rq || t->rq_len == 0) {
		*p = NULL;
		return 0;
	}
	*p = t->rq + t->rq_head;
	return min32(t->rq_len, t->cfg.rcv_buf - t->rq_head);
}

void tcb_consume(struct tcb *t, uint32_t n, uint64_t now)
{
	uint32_t before = tcb_rcv_window(t), after, gain;
	(void)now;
	if (n > t->rq_len)
		n = t->rq_len;
	t->rq_head = (t->rq_head + n) % t->cfg.rcv_buf;
	t->rq_len -= n;
	after = tcb_rcv_window(t);
	gain = after - before;
	/* Receiver SWS avoidance (RFC 9293 §3.8.6.2.2): announce a reopened
	 * window once it grew by min(buffer/2, MSS) beyond what was shown. */
	if (t->open && !t->ack_pending && tcp_state_synchronized(t->fsm.state) && !t->fsm.fin_received &&
	    gain > 0 && seq_gt(t->rcv_nxt + after, t->rcv_adv)) {
		uint32_t shown = t->rcv_adv - t->rcv_nxt;
		uint32_t grow = t->rcv_nxt + after - t->rcv_adv;
		if (grow >= min32(t->cfg.rcv_buf / 2, t->mss) && shown < t->cfg.rcv_buf / 2) {
			t->ack_pending = true;
			t->ack_is_update = true;
		}
	}
}

/* Adds [start, end) (fin: the FIN follows end) to the out-of-order blocks,
 * merging overlaps.  false when there is no room for a new block. */
static bool ooo_add(struct tcb *t, uint32_t start, uint32_t end, bool fin)
{
	uint32_t age = ++t->ooo_clock;
	for (unsigned i = 0; i < t->nooo;) {
		struct tcb_block *b = &t->ooo[i];
		if (seq_le(b->start, end) && seq_ge(b->end, start)) {
			if (seq_lt(b->start, start))
				start = b->start;
			if (seq_gt(b->end, end)) {
				end = b->end;
			}
			fin = fin || b->fin;
			t->ooo[i] = t->ooo[--t->nooo];
			continue;
		}
		i++;
	}
	if (t->nooo == TCB_MAX_OOO)
		return false;
	t->ooo[t->nooo].start = start;
	t->ooo[t->nooo].end = end;
	t->ooo[t->nooo].fin = fin;
	t->ooo[t->nooo].age = age;
	t->nooo++;
	return true;
}

/* Fills out's SACK blocks: the most recently changed block first (RFC 2018 §4). */
static void fill_sack(const struct tcb *t, struct tcb_segment *out)
{
	bool used[TCB_MAX_OOO] = { false };
	out->sack_count = 0;
	if (!t->sack_ok)
		return;
	while (out->sack_count < TCP_MAX_SACK_BLOCKS) {
		int best = -1;
		for (unsigned i = 0; i < t->nooo; i++)
			if (!used[i] && (best < 0 || t->ooo[i].age > t->ooo[best].age))
				best = (int)i;
		if (best < 0)
			break;
		used[best] = true;
		out->sack[out->sack_count][0] = t->ooo[best].start;
		out->sack[out->sack_count][1] = t->ooo[best].end;
		out->sack_count++;
	}
}

/* ----------------------------------------------------------------- input */

/* Window update of RFC 9293 §3.10.7.4 (fifth check, ESTABLISHED). */
static void update_window(struct tcb *t, const struct segment *seg, uint64_t now)
{
	uint32_t w;
	if (!(seg->flags & TCP_FLAG_ACK))
		return;
	if (!(seq_lt(t->snd_wl1, seg->seq) || (t->snd_wl1 == seg->seq && seq_le(t->snd_wl2, seg->ack))))
		return;
	/* RFC 7323 §2.2: the window of a SYN is never scaled */
	w = (seg->flags & TCP_FLAG_SYN) ? seg->window : (uint32_t)seg->window << t->snd_wscale;
	t->snd_wl1 = seg->seq;
	t->snd_wl2 = seg->ack;
	if (w == 0 && t->snd_wnd != 0 && t->open) {
		t->zero_window = true;
		t->zero_since = now;
		t->snd_wnd = 0;
		push_event(t, TCB_EV_ZERO_WINDOW, "the peer's receive buffer is full", seg->ack, 0, 0);
	} else if (w != 0 && t->zero_window) {
		t->zero_window = false;
		t->st.zero_window_ns += now - t->zero_since;
		t->snd_wnd = w;
		t->persist_armed = false;
		t->probe_due = false;
		t->persist_backoff = 0;
		push_event(t, TCB_EV_WINDOW_UPDATE, "the peer's window opened again", seg->ack, 0, 0);
	} else {
		t->snd_wnd = w;
	}
	if (w > t->max_snd_wnd)
		t->max_snd_wnd = w;
}

/* Arms or stops the persist timer (RFC 9293 §3.8.6.1): armed while the
 * peer's window is zero, data waits, and nothing is in flight. */
static void update_persist(struct tcb *t, uint64_t now)
{
	bool want = t->open && t->snd_wnd == 0 && seq_lt(t->snd_nxt, snd_end(t)) && t->snd_nxt == t->snd_una;
	if (want && !t->persist_armed) {
		uint64_t d = t->rto;
		for (unsigned i = 0; i < t->persist_backoff && d < RTO_MAX; i++)
			d *= 2;
		t->persist_armed = true;
		t->persist_deadline = now + (d > RTO_MAX ? RTO_MAX : d);
		t->rto_armed = false;
	} else if (!want && t->snd_wnd != 0) {
		t->persist_armed = false;
	}
}

/* Was the sender using its cwnd when the ACK came (flight: bytes in flight
 * then)?  In slow start cwnd may double per round trip, so half of it in
 * flight is enough; in congestion avoidance all but one segment (as
 * Linux's tcp_is_cwnd_limited). */
static bool cwnd_limited(const struct tcb *t, uint32_t flight)
{
	if (t->flight_peak > flight)
		flight = t->flight_peak;   /* the most this window had out (as Linux's max_packets_out) */
	if (t->cwnd < t->ssthresh)
		return flight >= t->cwnd / 2;
	return flight + t->mss >= t->cwnd;
}

/* cwnd_limited for an ACK moving SND.UNA from una_before to una; a window
 * fully acknowledged ends its peak (the next one starts from what is left
 * in flight). */
static bool cwnd_limited_ack(struct tcb *t, uint32_t una_before, uint32_t una)
{
	bool lim = cwnd_limited(t, t->snd_max - una_before);

	if (seq_ge(una, t->flight_peak_end)) {
		t->flight_peak = t->snd_max - una;
		t->flight_peak_end = t->snd_max;
	}
	return lim;
}

/* The cumulative ACK moved SND.UNA from una_before: RFC 5681 §3.1 growth,
 * RFC 6582 recovery, RFC 6298 timer and RTT. */
static void new_ack(struct tcb *t, const struct segment *seg, uint32_t una_before, uint64_t now)
{
	uint32_t una = t->fsm.snd_una, acked;

	(void)una_before;
	t->snd_una = una;
	acked = drop_acked(t, una); /* data bytes: the SYN and FIN do not grow cwnd */
	if (seq_lt(t->snd_nxt, una))
		t->snd_nxt = una;
	if (seq_lt(t->snd_max, una))
		t->snd_max = una;
	if (t->rto_go_back && seq_ge(t->snd_nxt, t->snd_max))
		t->rto_go_back = false;

	/* RTT: the timed segment (Karn's rule: never a retransmitted one), or
	 * the timestamp echo of an ACK that advances SND.UNA (RFC 7323 §4.2). */
	if (t->timing && seq_ge(una, t->timed_seq)) {
		t->timing = false;
		t->karn_blocked = false;
		rtt_sample(t, now - t->timed_at, true);
	} else if (t->karn_blocked && t->ts_ok && seg->opt.has_timestamps && seg->opt.ts_ecr != 0) {
		/* after retransmissions only the echoed TSval can measure
		 * (millisecond resolution: the timed segment is preferred) */
		uint32_t nowts = (uint32_t)(now / NS_MS) + t->cfg.ts_offset;
		uint32_t ms = nowts - seg->opt.ts_ecr;
		if (ms < 60000)
			rtt_sample(t, (uint64_t)ms * NS_MS, false);
	}
	t->backoff = 0;

	if (t->in_recovery) {
		if (seq_ge(una, t->recover)) {
			/* full ACK (RFC 6582 §3.2 step 3): deflate */
			uint32_t flight = t->snd_max - una;
			t->cwnd = min32(t->ssthresh, max32(flight, t->mss) + t->mss);
			t->in_recovery = false;
			t->pipe_extra = 0;
			/* what the next ACK does: below ssthresh (little was in
			 * flight) that is slow start again, not avoidance */
			t->phase = t->cwnd < t->ssthresh ? PH_SLOW_START : PH_CONG_AVOID;
		} else {
			/* partial ACK (step 4): retransmit the next hole at once,
			 * deflate by what was acknowledged, add back one MSS */
			t->fast_rtx_due = true;
			t->pipe_extra -= min32(t->pipe_extra, acked);
			t->cwnd = t->cwnd > acked ? t->cwnd - acked : t->mss;
			if (acked >= t->mss)
				t->cwnd += t->mss;
			if (t->cwnd < t->mss)
				t->cwnd = t->mss;
		}
	} else if (acked == 0) {
		/* only our SYN or FIN was acknowledged */
	} else if (!cwnd_limited_ack(t, una_before, una)) {
		/* the peer's window or the application held the flight well below
		 * cwnd: the ACK says nothing about the path, cwnd stays (RFC 7661
		 * §4.3; Linux's tcp_is_cwnd_limited) — and a zero-window dance
		 * does not print one cwnd line per ACK */
	} else if (t->cwnd < t->ssthresh) {
		/* slow start, byte counting with L = 1 SMSS (RFC 5681 eq. 2) */
		t->cwnd += min32(acked, t->mss);
		t->phase = PH_SLOW_START;
	} else {
		/* congestion avoidance (eq. 3), at least one byte */
		uint32_t inc = (uint32_t)((uint64_t)t->mss * t->mss / (t->cwnd ? t->cwnd : 1));
		t->cwnd += inc ? inc : 1;
		t->phase = PH_CONG_AVOID;
	}
	t->dupacks = 0;

	if (seq_ge(una, t->snd_max) && seq_ge(una, t->fsm.snd_nxt))
		t->rto_armed = false;   /* everything acknowledged (§5.2) */
	else {
		t->rto_armed = true;    /* restart (§5.3) */
		t->rto_deadline = now + cur_rto(t);
	}
}

/* A duplicate ACK (RFC 5681 §2: no data, no SYN/FIN, same ACK, same
 * window, data outstanding). */
static void dup_ack(struct tcb *t)
{
	t->dupacks++;
	if (t->dupacks == 3 && !t->in_recovery) {
		/* RFC 6582 §3.2 step 2: not when the ACK does not cover more
		 * than recover (the duplicates may come from before an RTO) */
		if (t->recover_valid && seq_lt(t->snd_una, t->recover) && !(t->sack_ok && t->npeer_sack > 0))
			return; /* with SACK blocks above SND.UNA the hole is known real (RFC 6582 §4.2) */
		uint32_t flight = t->snd_max - t->snd_una;
		report_before_cut(t);
		t->ssthresh = max32(flight / 2, 2 * t->mss);
		t->recover = t->snd_max;
		t->recover_valid = true;
		t->rtx_next = t->snd_una;
		t->pipe_extra = 0;
		t->cwnd = t->ssthresh + 3 * t->mss;
		t->in_recovery = true;
		t->fast_rtx_due = true;
		t->phase = PH_FAST_RECOVERY;
	} else if (t->dupacks > 3 && t->in_recovery) {
		t->cwnd += t->mss; /* inflate: a segment has left the network */
	}
}

int tcb_input(struct tcb *t, const struct segment *seg, uint64_t now, struct tcb_input_result *res)
{
	struct segment view;
	uint32_t una_before = t->fsm.snd_una, seg_wnd, len;
	enum tcp_state st = t->fsm.state;
	bool fin, dup;

	memset(res, 0, sizeof(*res));
	if (seg->opt.has_timestamps && t->ts_ok)
		t->ts_recent = seg->opt.ts_val; /* RFC 7323 §4.3, simplified */

	/* Handshake, SYN and RST: the machine as is. */
	if ((seg->flags & (TCP_FLAG_SYN | TCP_FLAG_RST)) || !t->fsm.irs_known || st == TCP_SYN_SENT ||
	    st == TCP_LISTEN || st == TCP_CLOSED) {
		res->tr = tcp_fsm_segment(&t->fsm, TCP_DIR_RECEIVED, seg);
		if ((seg->flags & TCP_FLAG_SYN) && !(seg->flags & TCP_FLAG_RST) && t->fsm.irs_known) {
			t->irs = t->fsm.irs;
			t->rcv_nxt = t->fsm.rcv_nxt;
			if (!t->open) {
				/* the SYN's window, unscaled (RFC 7323 §2.2) */
				t->snd_wnd = seg->window;
				t->max_snd_wnd = seg->window;
				t->snd_wl1 = seg->seq;
				t->snd_wl2 = seg->ack;
			}
		}
		if (res->tr.actions & TCP_ACT_SEND_ACK)
			t->ack_pending = true;
		if (!t->open && t->fsm.iss_known && t->fsm.irs_known && tcp_state_synchronized(t->fsm.state)) {
			if (open_data(t) != 0)
				return -1;
		}
		if (t->open && (seg->flags & TCP_FLAG_ACK) && seq_gt(t->fsm.snd_una, una_before) &&
		    !(seg->flags & TCP_FLAG_RST)) {
			t->snd_una = t->fsm.snd_una;
			if (seq_lt(t->snd_nxt, t->snd_una))
				t->snd_nxt = t->snd_una;
			if (seq_lt(t->snd_max, t->snd_una))
				t->snd_max = t->snd_una;
		}
		if (t->fsm.state == TCP_CLOSED) {
			t->rto_armed = t->persist_armed = false;
		}
		return 0;
	}

	if (!t->open && t->fsm.iss_known && open_data(t) != 0)
		return -1;
	if (!t->open) {
		res->tr = tcp_fsm_segment(&t->fsm, TCP_DIR_RECEIVED, seg);
		return 0;
	}

	ensure_cwnd(t);
	seg_wnd = (uint32_t)seg->window << t->snd_wscale;
	len = seg->payload_len;
	fin = (seg->flags & TCP_FLAG_FIN) != 0;
	dup = (seg->flags & TCP_FLAG_ACK) && seg->ack == t->snd_una && len == 0 && !fin &&
	      seq_gt(t->snd_max, t->snd_una) && t->snd_wnd > 0 && t->fsm.state != TCP_SYN_RECEIVED;
	if (dup && seg_wnd != t->snd_wnd) {
		/* RFC 5681 §2: the window must not change — or, with SACK, the
		 * ACK brings SACK information above SND.UNA (a receiver that
		 * reads as data arrives changes its window on every ACK) */
		bool news = false;
		for (unsigned i = 0; t->sack_ok && i < seg->opt.sack_count && i < TCP_MAX_SACK_BLOCKS; i++)
			if (seq_gt(seg->opt.sack[i][1], t->snd_una) && seq_le(seg->opt.sack[i][1], t->snd_max))
				news = true;
		dup = news;
	}

	view = *seg;
	if (len > 0 || fin) {
		uint32_t seq = seg->seq, end = seq + len + (fin ? 1 : 0);
		bool may_store = (st == TCP_SYN_RECEIVED || st == TCP_ESTABLISHED || st == TCP_FIN_WAIT_1 ||
				  st == TCP_FIN_WAIT_2) && !t->fsm.fin_received;
		if (seq_le(end, t->rcv_nxt) || !may_store) {
			/* old (a retransmission), or text the state ignores: the
			 * machine answers with an ACK */
		} else {
			const uint8_t *p = seg->payload_captured == seg->payload_len ? seg->payload : NULL;
			uint32_t wnd = t->cfg.rcv_buf - t->rq_len, edge = t->rcv_nxt + wnd;
			if (!t->rq && !(t->rq = malloc(t->cfg.rcv_buf)))
				return -1;
			if (seq_lt(seq, t->rcv_nxt)) {
				uint32_t skip = min32(t->rcv_nxt - seq, len);
				seq += skip;
				len -= skip;
				if (p)
					p += skip;
			}
			if (len > 0 && seq_ge(seq, edge)) {
				/* nothing fits (a zero-window probe): ACK with our window */
				len = 0;
				fin = false;
			} else if (seq_gt(seq + len, edge)) {
				len = edge - seq;
				fin = false;
			}
			view.payload = NULL;
			view.payload_captured = 0;
			if (len == 0 && !fin) {
				view.seq = t->rcv_nxt;
				view.payload_len = 0;
				view.flags &= (uint8_t)~(TCP_FLAG_FIN | TCP_FLAG_PSH);
				t->ack_pending = true;
			} else if (seq == t->rcv_nxt) {
				uint32_t start = t->rcv_nxt, nxt;
				bool merged = false;
				ring_put(t, t->rq_len, p, len);
				t->rq_len += len;
				nxt = start + len;
				/* holes filled: the held blocks that now follow */
				for (bool again = true; again && !fin;) {
					again = false;
					for (unsigned i = 0; i < t->nooo; i++) {
						struct tcb_block *b = &t->ooo[i];
						if (seq_le(b->start, nxt)) {
							if (seq_gt(b->end, nxt)) {
								t->rq_len += b->end - nxt;
								nxt = b->end;
							}
							fin = fin || b->fin;
							t->ooo[i] = t->ooo[--t->nooo];
							again = merged = true;
							break;
						}
					}
				}
				view.seq = start;
				view.payload_len = nxt - start;
				if (fin)
					view.flags |= TCP_FLAG_FIN;
				else
					view.flags &= (uint8_t)~TCP_FLAG_FIN;
				res->delivered = nxt - start;
				t->st.bytes_received += nxt - start;
				(void)merged;
			} else {
				/* beyond a hole: hold it, answer with a duplicate ACK */
				ring_put(t, t->rq_len + (seq - t->rcv_nxt), p, len);
				ooo_add(t, seq, seq + len, fin);
				res->out_of_order = true;
				push_event(t, TCB_EV_OUT_OF_ORDER, "data beyond a hole held", seq, len, t->nooo);
				view.seq = t->rcv_nxt;
				view.payload_len = 0;
				view.flags &= (uint8_t)~(TCP_FLAG_FIN | TCP_FLAG_PSH);
				t->ack_pending = true;
			}
		}
	}

	res->tr = tcp_fsm_segment(&t->fsm, TCP_DIR_RECEIVED, &view);
	t->rcv_nxt = t->fsm.rcv_nxt;
	if (res->tr.actions & TCP_ACT_SEND_ACK)
		t->ack_pending = true;
	if (t->nooo > 0)
		t->ack_pending = true; /* RFC 5681 §4.2: immediate ACK while holes remain */

	/* The ACK part. */
	if ((seg->flags & TCP_FLAG_ACK) && !res->tr.unacceptable) {
		/* the peer's SACK blocks above SND.UNA (a simple scoreboard) */
		if (t->sack_ok) {
			t->npeer_sack = 0;
			for (unsigned i = 0; i < seg->opt.sack_count && i < TCP_MAX_SACK_BLOCKS; i++)
				if (seq_gt(seg->opt.sack[i][1], t->fsm.snd_una) &&
				    seq_le(seg->opt.sack[i][1], t->fsm.snd_nxt) &&
				    seq_lt(seg->opt.sack[i][0], seg->opt.sack[i][1])) {
					t->peer_sack[t->npeer_sack][0] = seg->opt.sack[i][0];
					t->peer_sack[t->npeer_sack][1] = seg->opt.sack[i][1];
					t->npeer_sack++;
				}
		}
		if (seq_gt(t->fsm.snd_una, una_before)) {
			new_ack(t, seg, una_before, now);
			res->acked_new = true;
		} else if (dup) {
			dup_ack(t);
			if (t->fast_rtx_due && t->dupacks == 3)
				push_event(t, TCB_EV_FAST_RETRANSMIT, "third duplicate ACK", t->snd_una,
					   min32(t->mss, snd_end(t) - t->snd_una), t->dupacks);
		}
		update_window(t, seg, now);
		report_cwnd(t, false);
	}
	update_persist(t, now);
	if (t->fsm.state == TCP_CLOSED || t->fsm.state == TCP_TIME_WAIT)
		t->rto_armed = t->persist_armed = false;
	return 0;
}

struct tcp_transition tcb_sent(struct tcb *t, const struct segment *seg)
{
	struct tcp_transition tr = tcp_fsm_segment(&t->fsm, TCP_DIR_SENT, seg);
	if ((seg->flags & TCP_FLAG_SYN) && !(seg->flags & TCP_FLAG_RST) && t->fsm.iss_known) {
		t->iss = t->fsm.iss;
		if (!t->open) {
			t->snd_una = t->fsm.iss;
			t->snd_nxt = t->snd_max = t->fsm.iss + 1;
			t->sq_seq = t->wr_last = t->fsm.iss + 1;
		}
	}
	if ((seg->flags & TCP_FLAG_ACK) && !(seg->flags & TCP_FLAG_RST) && t->fsm.irs_known &&
	    seg->ack == t->fsm.rcv_nxt) {
		t->ack_pending = false;
		t->ack_is_update = false;
		if (t->open && !(seg->flags & TCP_FLAG_SYN))
			t->rcv_adv = t->fsm.rcv_nxt + ((uint32_t)seg->window << t->rcv_wscale);
	}
	return tr;
}

/* ---------------------------------------------------------------- output */

/* Fills the fields every segment carries and books it as sent. */
static void finish_segment(struct tcb *t, struct tcb_segment *out, uint64_t now)
{
	uint32_t end = out->seq + out->len + ((out->flags & TCP_FLAG_FIN) ? 1u : 0u);

	out->ack = t->rcv_nxt;
	out->window = tcb_window_field(t);
	out->ts = t->ts_ok;
	out->ts_val = (uint32_t)(now / NS_MS) + t->cfg.ts_offset;
	out->ts_ecr = t->ts_recent;
	t->ack_pending = false;
	t->ack_is_update = false;
	t->rcv_adv = t->rcv_nxt + ((uint32_t)out->window << t->rcv_wscale);

	if (out->len == 0 && !(out->flags & TCP_FLAG_FIN))
		return;
	if (out->kind == TCB_SEG_PROBE) {
		t->st.probes++;
		return;
	}
	if (out->kind == TCB_SEG_FAST_RETRANSMIT || out->kind == TCB_SEG_RTO_RETRANSMIT) {
		t->timing = false; /* Karn's rule */
		t->karn_blocked = true;
		if (out->kind == TCB_SEG_FAST_RETRANSMIT)
			t->st.fast_retransmits++;
		else
			t->st.rto_retransmits++;
	}
	if (out->kind != TCB_SEG_FAST_RETRANSMIT && seq_gt(end, t->snd_nxt))
		t->snd_nxt = end;
	if (seq_gt(end, t->snd_max)) {
		t->snd_max = end;
		if (t->snd_max - t->snd_una > t->flight_peak) {
			t->flight_peak = t->snd_max - t->snd_una;
			t->flight_peak_end = t->snd_max;
		}
		if (!t->timing && out->kind == TCB_SEG_DATA) {
			t->timing = true;
			t->timed_seq = end;
			t->timed_at = now;
		}
	}
	if (t->rto_go_back && seq_ge(t->snd_nxt, t->snd_max))
		t->rto_go_back = false;
	if (!t->rto_armed) {
		t->rto_armed = true;
		t->rto_deadline = now + cur_rto(t);
	}
	t->persist_armed = false;
}

/* The FIN goes out now: tell the machine the user closed (RFC 9293 §3.10.4). */
static void call_close(struct tcb *t)
{
	if (!t->fin_called) {
		t->fin_called = true;
		if (t->fsm.state == TCP_ESTABLISHED || t->fsm.state == TCP_CLOSE_WAIT ||
		    t->fsm.state == TCP_SYN_RECEIVED)
			tcp_fsm_call(&t->fsm, TCP_CALL_CLOSE);
	}
}

static bool can_send_data(const struct tcb *t)
{
	switch (t->fsm.state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		return true;
	case TCP_FIN_WAIT_1:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		return t->fin_called; /* retransmissions of what preceded our FIN */
	default:
		return false;
	}
}

bool tcb_output(struct tcb *t, uint64_t now, struct tcb_segment *out)
{
	uint32_t end = snd_end(t);

	memset(out, 0, sizeof(*out));
	out->flags = TCP_FLAG_ACK;
	if (!t->open || t->fsm.state == TCP_CLOSED)
		return false;
	ensure_cwnd(t);
	if (!t->iw_reported) {
		/* the initial window is shown when the sender first works */
		t->iw_reported = true;
		report_cwnd(t, true);
	}

	if (can_send_data(t)) {
		/* 1. fast retransmission of the first unacknowledged segment */
		if (t->fast_rtx_due) {
			t->fast_rtx_due = false;
			out->kind = TCB_SEG_FAST_RETRANSMIT;
			out->seq = t->snd_una;
			if (seq_lt(t->snd_una, end)) {
				out->len = min32(t->mss, min32(end - t->snd_una, next_boundary(t, t->snd_una) - t->snd_una));
				out->payload = t->sq + t->sq_head + (t->snd_una - t->sq_seq);
				if (is_write_end(t, t->snd_una + out->len))
					out->flags |= TCP_FLAG_PSH;
			}
			if (t->close_requested && t->fin_called && out->seq + out->len == end)
				out->flags |= TCP_FLAG_FIN;
			if (out->len > 0 || (out->flags & TCP_FLAG_FIN)) {
				if (seq_gt(out->seq + out->len, t->rtx_next))
					t->rtx_next = out->seq + out->len;
				t->pipe_extra += out->len;
				finish_segment(t, out, now);
				return true;
			}
			memset(out, 0, sizeof(*out));
			out->flags = TCP_FLAG_ACK;
		}
		/* 2. zero-window probe: one byte of new data */
		if (t->probe_due) {
			t->probe_due = false;
			if (seq_lt(t->snd_nxt, end)) {
				out->kind = TCB_SEG_PROBE;
				out->seq = t->snd_nxt;
				out->len = 1;
				out->payload = t->sq + t->sq_head + (t->snd_nxt - t->sq_seq);
				finish_segment(t, out, now);   /* (its event: tcb_on_timer) */
				return true;
			}
		}
		/* 2b. in fast recovery with SACK: the next hole below the highest
		 * SACKed byte goes before new data (RFC 6675's NextSeg, rule 1,
		 * within NewReno's window: one segment for each duplicate ACK) */
		if (t->in_recovery && t->sack_ok && t->npeer_sack > 0) {
			uint32_t high = t->snd_una, seq, skip_end;
			for (unsigned i = 0; i < t->npeer_sack; i++)
				if (seq_gt(t->peer_sack[i][1], high))
					high = t->peer_sack[i][1];
			seq = seq_gt(t->rtx_next, t->snd_una) ? t->rtx_next : t->snd_una;
			while (seq_lt(seq, high) && in_peer_sack(t, seq, &skip_end))
				seq = skip_end;
			if (seq_lt(seq, high) && seq_lt(seq, end)) {
				uint32_t pipe = pipe_bytes(t), wnd = min32(t->cwnd, t->snd_wnd);
				uint32_t len = min32(t->mss, min32(high - seq, next_boundary(t, seq) - seq));
				for (unsigned i = 0; i < t->npeer_sack; i++)
					if (seq_gt(t->peer_sack[i][0], seq) && seq_lt(t->peer_sack[i][0], seq + len))
						len = t->peer_sack[i][0] - seq;
				len = min32(len, end - seq);
				if (wnd > pipe && wnd - pipe >= len && len > 0) {
					out->kind = TCB_SEG_FAST_RETRANSMIT;
					out->seq = seq;
					out->len = len;
					out->payload = t->sq + t->sq_head + (seq - t->sq_seq);
					if (is_write_end(t, seq + len))
						out->flags |= TCP_FLAG_PSH;
					t->rtx_next = seq + len;
					t->pipe_extra += len; /* a retransmission is in flight too */
					finish_segment(t, out, now);
					return true;
				}
			}
		}
		/* 3. data within min(cwnd, the peer's window), then the FIN */
		for (;;) {
			uint32_t seq = t->snd_nxt, skip_end;
			if (t->rto_go_back)
				while (seq_lt(seq, t->snd_max) && in_peer_sack(t, seq, &skip_end))
					seq = t->snd_nxt = seq_lt(skip_end, t->snd_max) ? skip_end : t->snd_max;
			if (seq_lt(seq, end)) {
				/* limited transmit (RFC 3042): the first two duplicate
				 * ACKs may each send one new segment beyond cwnd */
				uint32_t lt = t->in_recovery || t->rto_go_back ? 0 : min32(t->dupacks, 2) * t->mss;
				uint32_t pipe = pipe_bytes(t), wnd = min32(t->cwnd + lt, t->snd_wnd);
				uint32_t usable = wnd > pipe ? wnd - pipe : 0;
				uint32_t right = t->snd_una + t->snd_wnd;
				uint32_t len = min32(t->mss, min32(end - seq, next_boundary(t, seq) - seq));
				usable = min32(usable, seq_lt(seq, right) ? right - seq : 0);
				if (usable < len) {
					/* sender SWS avoidance (RFC 9293 §3.8.6.2.1): a
					 * short segment only when nothing is in flight */
					if (usable == 0 || pipe > 0)
						break;
					len = usable;
				}
				out->kind = seq_lt(seq, t->snd_max) ? TCB_SEG_RTO_RETRANSMIT : TCB_SEG_DATA;
				out->seq = seq;
				out->len = len;
				out->payload = t->sq + t->sq_head + (seq - t->sq_seq);
				if (is_write_end(t, seq + len))
					out->flags |= TCP_FLAG_PSH;
				if (t->close_requested && seq + len == end) {
					call_close(t);
					out->flags |= TCP_FLAG_FIN;
				}
				finish_segment(t, out, now);
				return true;
			}
			if (t->close_requested && seq == end && !(t->fsm.fin_acked)) {
				call_close(t);
				out->kind = seq_lt(seq, t->snd_max) ? TCB_SEG_RTO_RETRANSMIT : TCB_SEG_DATA;
				out->seq = seq;
				out->flags |= TCP_FLAG_FIN;
				finish_segment(t, out, now);
				return true;
			}
			break;
		}
	}

	/* 4. a pending ACK (duplicate ACKs carry SACK blocks) */
	if (t->ack_pending) {
		out->kind = t->ack_is_update ? TCB_SEG_WINDOW_UPDATE : TCB_SEG_ACK;
		out->seq = t->snd_nxt;
		fill_sack(t, out);
		if (out->kind == TCB_SEG_WINDOW_UPDATE)
			push_event(t, TCB_EV_OWN_WINDOW_UPDATE, "our receive window reopened", out->seq, 0, 0);
		finish_segment(t, out, now);
		update_persist(t, now);
		return true;
	}
	update_persist(t, now);
	return false;
}

/* ---------------------------------------------------------------- timers */

enum tcb_timer_result tcb_on_timer(struct tcb *t, uint64_t now)
{
	ensure_cwnd(t);
	if (t->rto_armed && now >= t->rto_deadline) {
		uint32_t flight = t->snd_max - t->snd_una;
		if (t->backoff >= t->cfg.retries) {
			t->gave_up = true;
			t->rto_armed = false;
			return TCB_TIMER_GIVE_UP;
		}
		/* RFC 5681 §3.1 eq. 4 and the loss window; RFC 6582 §4 */
		report_before_cut(t);
		t->ssthresh = max32(flight / 2, 2 * t->mss);
		t->cwnd = t->mss;
		t->in_recovery = false;
		t->fast_rtx_due = false;
		t->recover = t->snd_max;
		t->recover_valid = true;
		t->dupacks = 0;
		t->phase = PH_RTO;
		t->snd_nxt = t->snd_una;
		t->rto_go_back = true;
		t->timing = false;
		t->backoff++;            /* RFC 6298 §5.5 */
		t->rto_deadline = now + cur_rto(t);
		t->st.rto_expiries++;
		push_event(t, TCB_EV_RTO, "retransmission timer expired", t->snd_una,
			   min32(t->mss, snd_end(t) - t->snd_una), t->backoff);
		report_cwnd(t, true);
		return TCB_TIMER_RETRANSMIT;
	}
	if (t->persist_armed && now >= t->persist_deadline) {
		uint64_t d = t->rto;
		t->probe_due = true;
		if (t->persist_backoff < 16)
			t->persist_backoff++;
		for (unsigned i = 0; i < t->persist_backoff && d < RTO_MAX; i++)
			d *= 2;
		t->persist_deadline = now + (d > RTO_MAX ? RTO_MAX : d);
		/* said when the timer fires, before the probe is built: a caller
		 * that stamps events with its clock then shows it before the
		 * segment, as the RTO's event comes before its retransmission */
		if (seq_lt(t->snd_nxt, snd_end(t)))
			push_event(t, TCB_EV_PROBE, "zero-window probe", t->snd_nxt, 1, t->persist_backoff);
		return TCB_TIMER_PROBE;
	}
	return TCB_TIMER_NONE;
}

uint64_t tcb_next_deadline(const struct tcb *t)
{
	uint64_t d = UINT64_MAX;
	if (t->rto_armed)
		d = t->rto_deadline;
	if (t->persist_armed && t->persist_deadline < d)
		d = t->persist_deadline;
	return d;
}

bool tcb_next_event(struct tcb *t, struct tcb_event *ev)
{
	if (t->ev_count == 0)
		return false;
	*ev = t->ev[t->ev_first];
	t->ev_first = (t->ev_first + 1) % TCB_MAX_EVENTS;
	t->ev_count--;
	return true;
}

const char *tcb_event_name(enum tcb_event_kind k)
{
	switch (k) {
	case TCB_EV_CWND: return "cwnd";
	case TCB_EV_ZERO_WINDOW: return "zero-window";
	case TCB_EV_WINDOW_UPDATE: return "window-update";
	case TCB_EV_PROBE: return "zero-window-probe";
	case TCB_EV_FAST_RETRANSMIT: return "fast-retransmit";
	case TCB_EV_RTO: return "rto";
	case TCB_EV_OWN_WINDOW_UPDATE: return "own-window-update";
	case TCB_EV_OUT_OF_ORDER: return "out-of-order";
	}
	return "?";
}
