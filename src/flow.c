/*
 * flow.c — the tracker: 4-tuple → connection, both endpoints' RFC 9293
 * states kept by tcp_fsm, relative sequence numbers, retransmission marks,
 * per-connection figures, and the tl_event stream to a renderer.
 *
 * Roles.  The client is whoever sent the first SYN (without ACK).  When the
 * capture starts with a SYN-ACK, its sender is the server.  When it starts
 * later still, the connection was joined mid-stream: both endpoints start
 * ESTABLISHED, the server is guessed from the ports (the lower one, RFC 6335
 * puts services below the ephemeral range) and every event says so.
 *
 * Time.  Every segment is applied to its sender as sent and to its receiver
 * as received at the moment the capture saw it: an observer cannot know
 * when the far endpoint really processed it (RFC 9293 §3.3.2 is written
 * from an endpoint's point of view).  The one place where later evidence
 * contradicts that is a FIN retransmitted after the final ACK was seen: the
 * ACK was lost after the capture point, so the tracker moves the sender
 * back to LAST-ACK and says why.
 *
 * Lifetime.  A connection ends when both endpoints are CLOSED or TIME-WAIT;
 * its summary is emitted then (or at flow_table_finish for live sessions).
 * The entry lingers LINGER_NS of capture time so a late retransmitted FIN
 * is still attributed, then it is freed: memory is proportional to the
 * connections open (or just ended) at the same time.
 */
#include "tcplab/flow.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcplab/analysis.h"
#include "tcplab/tcp_fsm.h"
#include "tcplab/checksum.h"

/* How long (capture time) an ended connection keeps its entry, and how
 * many ended entries are kept at most (the oldest go first): in a dense
 * capture thousands of connections end every second, and memory must follow
 * the connections open at once, not the ones that ended recently. */
#define LINGER_NS (4ull * 1000000000ull)
#define LINGER_MAX 1024

/* Compared as a whole (key_equal): make_key zeroes the unused bytes. */
struct flow_key {
	uint8_t family;
	uint8_t pad;
	uint16_t pa, pb;
	uint8_t a[16], b[16];   /* the two endpoints in a fixed order (make_key) */
};

/*
 * One connection.  The fields every segment touches come first, so that a
 * segment costs few cache lines: in a dense capture the entries of the
 * thousands of open connections are touched in random order, and the
 * cache misses on them were most of replay's time.
 */
struct conn {
	/* hot: every segment */
	struct conn *hnext;                 /* hash chain */
	uint32_t hash;
	bool client_is_a;                   /* the client is the key's first endpoint */
	bool ended;                         /* summary due (or emitted) */
	bool have_pending_syn;              /* a SYN the server has not answered yet */
	bool rel_known[2];
	uint32_t rel_base[2];               /* base for relative numbers (ISN or first seq) */
	struct flow_key key;
	struct tcp_endpoint ep[2];          /* indexed by enum tl_role */
	uint64_t last_ns;
	bool fin_seen[2];
	bool have_syn, have_synack, have_reaction;
	bool refused, reset, gave_up, simultaneous_close, three_segment, half_close;
	bool simopen_unanswered[2];         /* went SYN-SENT → SYN-RECEIVED, has not sent its SYN-ACK yet */
	bool summarized;
	bool server_refused;                /* the server answered the SYN with RST */
	int8_t first_fin;                   /* role that sent the first FIN, -1 none */
	int8_t reset_by;                    /* role that sent the accepted RST, -1 none */
	unsigned id;
	uint64_t bytes[2];                  /* summary counters, by role (side[] holds the rest) */
	uint32_t segments[2], retransmissions[2];
	struct analysis an;                 /* marks and the summary's wire figures (analysis.h) */
	/* warm: lists, times */
	struct conn *prev, *next;           /* open list (order of first segment) or ended list */
	uint64_t first_ns, end_ns;
	uint64_t syn_ns, synack_ns;
	uint64_t reaction_ns;
	/* cold: once per connection */
	struct tl_side_summary side[2];     /* SYN facts; counters above */
	struct tl_conn_begin info;
	struct segment pending_syn;         /* (payload pointer cleared) */
	/* one direction only (issue 13): the capture holds one side's segments;
	 * the other side's are inferred from its acknowledgments */
	bool one_way, inferring;
	/* checksum verdicts other than ok, by sender (issue 12): touched only
	 * when a checksum is not ok, so the hot path stays in the lines above */
	uint32_t csum_bad[2], csum_offloaded[2], csum_unchecked[2];
};

struct flow_table {
	struct renderer *r;
	struct flow_options opt;
	struct conn **buckets;
	uint32_t nbuckets;                  /* power of two */
	struct conn *open_head, *open_tail; /* not yet summarized, by first segment */
	struct conn *ended_head, *ended_tail; /* summarized, by end time */
	unsigned ended_count;
	struct conn *free_list;
	bool have_first;
	uint64_t first_ns;
	unsigned next_id;
	struct flow_stats stats;
	bool summary_at_finish;
	void (*feed_hook)(void *user, const struct segment *seg, uint64_t ts_ns); /* flow_table_set_feed_hook */
	void *feed_hook_user;
	/* flow_table_feed_as: how the segment being applied is fed */
	unsigned feed_how;
	const char *feed_annotation;
};

/* ------------------------------------------------------------ hashing */

/*
 * Builds the orientation-free key of seg's 4-tuple: the endpoint that sorts
 * first (any fixed order will do) is a.  Returns true when seg's source is
 * a.  IPv4 compares the addresses as 32-bit words: this runs per segment.
 */
static bool make_key(const struct segment *seg, struct flow_key *k)
{
	bool src_first;
	size_t n;

	memset(k, 0, sizeof(*k));
	k->family = seg->src.family;
	if (seg->src.family == 6) {
		int c = memcmp(seg->src.bytes, seg->dst.bytes, 16);
		src_first = c < 0 || (c == 0 && seg->sport <= seg->dport);
		n = 16;
	} else {
		uint32_t sa, da;
		memcpy(&sa, seg->src.bytes, 4);
		memcpy(&da, seg->dst.bytes, 4);
		src_first = sa < da || (sa == da && seg->sport <= seg->dport);
		n = 4;
	}
	if (src_first) {
		memcpy(k->a, seg->src.bytes, n);
		memcpy(k->b, seg->dst.bytes, n);
		k->pa = seg->sport;
		k->pb = seg->dport;
	} else {
		memcpy(k->a, seg->dst.bytes, n);
		memcpy(k->b, seg->src.bytes, n);
		k->pa = seg->dport;
		k->pb = seg->sport;
	}
	return src_first;
}

static uint32_t mix32(uint32_t h, uint32_t v)
{
	v *= 0xcc9e2d51u;
	v = (v << 15) | (v >> 17);
	v *= 0x1b873593u;
	h ^= v;
	h = (h << 13) | (h >> 19);
	return h * 5 + 0xe6546b64u;
}

static uint32_t hash_key(const struct flow_key *k)
{
	uint32_t h = 0x9747b28cu, w;
	size_t n = k->family == 6 ? 16 : 4;
	for (size_t i = 0; i < n; i += 4) {
		memcpy(&w, k->a + i, 4);
		h = mix32(h, w);
		memcpy(&w, k->b + i, 4);
		h = mix32(h, w);
	}
	h = mix32(h, ((uint32_t)k->pa << 16) | k->pb);
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	return h;
}

static bool key_equal(const struct flow_key *x, const struct flow_key *y)
{
	return memcmp(x, y, sizeof(*x)) == 0;   /* fixed size: the compiler inlines it */
}

/* Doubles the bucket array; on allocation failure keeps the old one. */
static void grow(struct flow_table *ft)
{
	uint32_t n = ft->nbuckets * 2;
	struct conn **b = calloc(n, sizeof(*b));
	if (!b)
		return;
	for (uint32_t i = 0; i < ft->nbuckets; i++) {
		struct conn *c = ft->buckets[i], *nx;
		for (; c; c = nx) {
			nx = c->hnext;
			c->hnext = b[c->hash & (n - 1)];
			b[c->hash & (n - 1)] = c;
		}
	}
	free(ft->buckets);
	ft->buckets = b;
	ft->nbuckets = n;
}

static struct conn *lookup(struct flow_table *ft, const struct flow_key *k, uint32_t h)
{
	struct conn *c = ft->buckets[h & (ft->nbuckets - 1)];
	for (; c; c = c->hnext)
		if (c->hash == h && key_equal(&c->key, k))
			return c;
	return NULL;
}

static void unhash(struct flow_table *ft, struct conn *c)
{
	struct conn **pp = &ft->buckets[c->hash & (ft->nbuckets - 1)];
	for (; *pp; pp = &(*pp)->hnext)
		if (*pp == c) {
			*pp = c->hnext;
			return;
		}
}

/* ------------------------------------------------------------ lists */

static void list_append(struct conn **head, struct conn **tail, struct conn *c)
{
	c->next = NULL;
	c->prev = *tail;
	if (*tail)
		(*tail)->next = c;
	else
		*head = c;
	*tail = c;
}

static void list_remove(struct conn **head, struct conn **tail, struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		*tail = c->prev;
	c->prev = c->next = NULL;
}

/* ------------------------------------------------------------ events */

static bool wants(const struct flow_table *ft, const struct conn *c)
{
	return ft->opt.only_conn == 0 || ft->opt.only_conn == c->id;
}

static uint64_t rel_time(const struct flow_table *ft, uint64_t ts)
{
	return ft->have_first && ts >= ft->first_ns ? ts - ft->first_ns : 0;
}

/* Starts an event of kind for connection c at capture time ts. */
static void event_init(struct tl_event *ev, const struct flow_table *ft, const struct conn *c,
		       enum tl_event_kind kind, uint64_t ts)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->conn = c ? c->id : 0;
	ev->t_ns = rel_time(ft, ts);
	ev->conn_info = c ? &c->info : NULL;
}

static void emit_state(struct flow_table *ft, struct conn *c, uint64_t ts, enum tl_role who,
		       enum tcp_state from, enum tcp_state to, const char *reason)
{
	struct tl_event ev;
	if (ft->opt.summary_only || !wants(ft, c))
		return;
	event_init(&ev, ft, c, TL_EV_STATE, ts);
	ev.u.state.endpoint = who;
	ev.u.state.from = from;
	ev.u.state.to = to;
	ev.u.state.reason = reason;
	render_emit(ft->r, &ev);
}

/* Emits t's state change for who, in two steps when the machine passed
 * through an intermediate state (tcp_transition.has_via). */
static void emit_transition(struct flow_table *ft, struct conn *c, uint64_t ts, enum tl_role who,
			    const struct tcp_transition *t)
{
	if (t->has_via) {
		emit_state(ft, c, ts, who, t->from, t->via, t->via_reason);
		emit_state(ft, c, ts, who, t->via, t->to, t->reason);
	} else {
		emit_state(ft, c, ts, who, t->from, t->to, t->reason);
	}
}

/* Emits a state event that withdraws who's previous transition to → from
 * (tl_state_event.correction). */
static void emit_correction(struct flow_table *ft, struct conn *c, uint64_t ts, enum tl_role who,
			    enum tcp_state from, enum tcp_state to, const char *reason)
{
	struct tl_event ev;
	if (ft->opt.summary_only || !wants(ft, c))
		return;
	event_init(&ev, ft, c, TL_EV_STATE, ts);
	ev.u.state.endpoint = who;
	ev.u.state.from = from;
	ev.u.state.to = to;
	ev.u.state.reason = reason;
	ev.u.state.correction = true;
	render_emit(ft->r, &ev);
}

/*
 * Simultaneous open seen from one capture point can be misread: the peer's
 * SYN and its SYN-ACK may be processed in the other order at the far end
 * (a veth delivers from two CPUs' backlogs).  An endpoint that really went
 * SYN-SENT → SYN-RECEIVED answers with a SYN-ACK; one whose next segment is
 * a bare ACK had the SYN-ACK first (SYN-SENT → ESTABLISHED) and met the SYN
 * when already ESTABLISHED.  Then the two inferred transitions are withdrawn
 * (correction events) and the real one shown.
 */
static void simopen_check(struct flow_table *ft, struct conn *c, const struct segment *seg, enum tl_role from,
			  const struct tcp_transition *tq, const struct tcp_transition *tr, enum tl_role to)
{
	if (tq->changed && tq->from == TCP_SYN_SENT && tq->to == TCP_SYN_RECEIVED)
		c->simopen_unanswered[from] = true;
	if (tr->changed && tr->from == TCP_SYN_SENT && tr->to == TCP_SYN_RECEIVED)
		c->simopen_unanswered[to] = true;
	if (!c->simopen_unanswered[from] || tq->changed)
		return;
	c->simopen_unanswered[from] = false;
	if ((seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) != TCP_FLAG_ACK ||
	    c->ep[from].state != TCP_ESTABLISHED)
		return;   /* its SYN-ACK (or something else): the inference stands */
	emit_correction(ft, c, seg->ts_ns, from, TCP_ESTABLISHED, TCP_SYN_RECEIVED,
			"correction: it answers with a bare ACK, not a SYN-ACK");
	emit_correction(ft, c, seg->ts_ns, from, TCP_SYN_RECEIVED, TCP_SYN_SENT,
			"correction: the peer's SYN reached it after the SYN-ACK");
	emit_state(ft, c, seg->ts_ns, from, TCP_SYN_SENT, TCP_ESTABLISHED,
		   "received SYN-ACK acknowledging our SYN (the peer's SYN came later)");
}

/*
 * A FIN sent in CLOSE-WAIT whose ACK does not cover the peer's FIN: the
 * endpoint had not received the peer's FIN when it sent its own (the FINs
 * crossed; the capture saw the peer's FIN first because it is nearer the
 * peer, or the receiver had not processed it yet).  The CLOSE-WAIT shown
 * under the peer's FIN is withdrawn, and the endpoint's real path is shown:
 * ESTABLISHED → FIN-WAIT-1 → CLOSING (RFC 9293 §3.6 case 2), as the
 * kernel's tracepoint reports it.
 */
static void emit_crossed_fin(struct flow_table *ft, struct conn *c, uint64_t ts, enum tl_role who)
{
	emit_correction(ft, c, ts, who, TCP_CLOSE_WAIT, TCP_ESTABLISHED,
			"correction: its FIN does not ACK the peer's: not received yet");
	emit_state(ft, c, ts, who, TCP_ESTABLISHED, TCP_FIN_WAIT_1, "sent FIN: active close");
	emit_state(ft, c, ts, who, TCP_FIN_WAIT_1, TCP_CLOSING,
		   "received the peer's FIN, which crossed ours (simultaneous close)");
}

static void emit_note(struct flow_table *ft, struct conn *c, uint64_t ts, const char *text)
{
	struct tl_event ev;
	if (ft->opt.summary_only || (c && !wants(ft, c)))
		return;
	event_init(&ev, ft, c, TL_EV_NOTE, ts);
	ev.u.note = text;
	render_emit(ft->r, &ev);
}

/* One sentence on how the connection ended, from what was recorded. */
static const char *ended_how(const struct conn *c, enum tl_outcome o)
{
	switch (o) {
	case TL_OUTCOME_REFUSED:
		return "the server answered the SYN with RST (nothing listens on the port)";
	case TL_OUTCOME_RESET:
		if (c->reset_by == TL_CLIENT)
			return "the client aborted the connection with RST";
		return "the server aborted the connection with RST";
	case TL_OUTCOME_TIMEOUT:
		if (!c->have_synack)
			return "the SYN was never answered";
		return "the peer stopped answering";
	case TL_OUTCOME_HALF_OPEN:
		return "SYN with no answer in the capture (a SYN flood looks like this)";
	case TL_OUTCOME_OPEN:
		if (c->first_fin == TL_CLIENT)
			return "still closing: the client's FIN was sent, the server had not closed";
		if (c->first_fin == TL_SERVER)
			return "still closing: the server's FIN was sent, the client had not closed";
		if (c->info.midstream)
			return "joined mid-stream and still open at the end";
		return "established and still open at the end";
	case TL_OUTCOME_CLOSED:
		break;
	}
	if (c->simultaneous_close)
		return c->half_close ? "simultaneous close (CLOSING on both sides), data after a FIN"
				     : "simultaneous close: both FINs crossed (CLOSING)";
	if (c->first_fin == TL_CLIENT) {
		if (c->half_close)
			return "client closed first; the server sent data after the client's FIN (half-close)";
		return c->three_segment ? "client closed first; three-segment teardown (FIN rode on the ACK)"
					: "client closed first; four-segment teardown";
	}
	if (c->half_close)
		return "server closed first; the client sent data after the server's FIN (half-close)";
	return c->three_segment ? "server closed first; three-segment teardown (FIN rode on the ACK)"
				: "server closed first; four-segment teardown";
}

static enum tl_outcome outcome_of(const struct conn *c)
{
	if (c->refused)
		return TL_OUTCOME_REFUSED;
	if (c->gave_up)   /* a live role gave up (and may have sent RST to clean up) */
		return TL_OUTCOME_TIMEOUT;
	if (c->reset)
		return TL_OUTCOME_RESET;
	enum tcp_state cs = c->ep[TL_CLIENT].state, ss = c->ep[TL_SERVER].state;
	bool cdone = cs == TCP_CLOSED || cs == TCP_TIME_WAIT;
	bool sdone = ss == TCP_CLOSED || ss == TCP_TIME_WAIT;
	if (cdone && sdone && c->fin_seen[0] && c->fin_seen[1])
		return TL_OUTCOME_CLOSED;
	if (c->have_syn && !c->have_synack && c->segments[TL_SERVER] == 0)
		return TL_OUTCOME_HALF_OPEN;
	return TL_OUTCOME_OPEN;
}

/*
 * The side's payload bytes, first transmissions: what it counted, or the
 * sequence space its data covers from the ISN when that is more — data
 * whose first transmission the capture did not see (lost before the
 * capture point) is counted when its retransmission fills the hole, so a
 * capture taken after the loss gives the same goodput as one taken before.
 */
static uint64_t unique_bytes(const struct conn *c, int i)
{
	const struct analysis_dir *d = &c->an.d[i];
	uint32_t span;

	if (!c->side[i].isn_known || !d->data_seen || c->bytes[i] >= (1ull << 31))
		return c->bytes[i];
	span = d->data_end - (c->side[i].isn + 1);
	return span < (1u << 31) && span > c->bytes[i] ? span : c->bytes[i];
}

static void emit_summary(struct flow_table *ft, struct conn *c)
{
	struct tl_event ev;
	struct tl_summary *s;

	c->summarized = true;
	if (!wants(ft, c))
		return;
	event_init(&ev, ft, c, TL_EV_SUMMARY, c->last_ns);
	s = &ev.u.summary;
	s->outcome = outcome_of(c);
	s->ended_how = ended_how(c, s->outcome);
	s->start_ns = c->first_ns;
	s->duration_ns = c->last_ns - c->first_ns;
	s->rtt_known = c->have_syn && c->have_synack && c->synack_ns >= c->syn_ns;
	s->rtt_ns = s->rtt_known ? c->synack_ns - c->syn_ns : 0;
	s->reaction_known = c->have_reaction;
	s->reaction_ns = c->reaction_ns;
	for (int i = 0; i < 2; i++) {
		s->side[i] = c->side[i];
		s->side[i].bytes = unique_bytes(c, i);
		s->side[i].segments = c->segments[i];
		s->side[i].retransmissions = c->retransmissions[i];
		s->side[i].final_state = c->ep[i].state;
		analysis_side(&c->an, i, c->last_ns, s->side[i].bytes, &s->an[i]);
	}
	s->wscale_ok = c->side[0].syn_options.has_wscale && c->side[1].syn_options.has_wscale;
	s->sack_ok = c->side[0].syn_options.has_sack_perm && c->side[1].syn_options.has_sack_perm;
	s->timestamps_ok = c->side[0].syn_options.has_timestamps && c->side[1].syn_options.has_timestamps;
	s->midstream = c->info.midstream;
	if (c->one_way) {
		/* times measured against inferred segments mean nothing */
		s->rtt_known = s->reaction_known = false;
		s->ended_how = "one direction only: the capture holds one side's segments; the other's were "
			       "inferred from its acknowledgments, and its FIN cannot be seen";
	}
	for (int i = 0; i < 2; i++) {
		s->csum_bad[i] = c->csum_bad[i];
		s->csum_offloaded[i] = c->csum_offloaded[i];
		s->csum_checked[i] = c->segments[i] - c->csum_unchecked[i];
	}
	render_emit(ft->r, &ev);
}

/* ------------------------------------------------------------ lifetime */

static struct conn *conn_alloc(struct flow_table *ft)
{
	struct conn *c = ft->free_list;
	if (c)
		ft->free_list = c->next;
	else
		c = malloc(sizeof(*c));
	if (c)
		memset(c, 0, sizeof(*c));
	return c;
}

static void conn_release(struct flow_table *ft, struct conn *c)
{
	analysis_release(&c->an);
	unhash(ft, c);
	c->next = ft->free_list;
	ft->free_list = c;
	ft->stats.open_now--;
}

/* Moves an ended connection to the ended list, summarizing it unless the
 * summary is deferred to flow_table_finish. */
static void conn_end(struct flow_table *ft, struct conn *c, uint64_t ts)
{
	if (c->ended)
		return;
	c->ended = true;
	c->end_ns = ts;
	if (ft->summary_at_finish)
		return;
	list_remove(&ft->open_head, &ft->open_tail, c);
	list_append(&ft->ended_head, &ft->ended_tail, c);
	if (++ft->ended_count > LINGER_MAX) {
		struct conn *old = ft->ended_head;
		list_remove(&ft->ended_head, &ft->ended_tail, old);
		ft->ended_count--;
		emit_summary(ft, old);
		conn_release(ft, old);
	}
}

/* Frees ended entries whose linger time has passed. */
static void sweep(struct flow_table *ft, uint64_t now)
{
	while (ft->ended_head && ft->ended_head->end_ns + LINGER_NS < now) {
		struct conn *c = ft->ended_head;
		list_remove(&ft->ended_head, &ft->ended_tail, c);
		ft->ended_count--;
		emit_summary(ft, c);
		conn_release(ft, c);
	}
	if (ft->opt.idle_timeout_ns) {
		struct conn *c = ft->open_head, *nx;
		for (; c; c = nx) {
			nx = c->next;
			if (c->last_ns + ft->opt.idle_timeout_ns < now) {
				list_remove(&ft->open_head, &ft->open_tail, c);
				emit_summary(ft, c);
				conn_release(ft, c);
			}
		}
	}
}

static struct conn *conn_new(struct flow_table *ft, const struct segment *seg,
			     const struct flow_key *k, uint32_t h, bool src_is_a)
{
	struct conn *c = conn_alloc(ft);
	enum tl_role sender;

	if (!c)
		return NULL;
	c->key = *k;
	c->hash = h;
	c->id = ++ft->next_id;
	c->first_ns = c->last_ns = seg->ts_ns;
	c->first_fin = -1;
	c->reset_by = -1;

	if ((seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) == TCP_FLAG_SYN) {
		sender = TL_CLIENT;
		tcp_endpoint_init(&c->ep[TL_CLIENT], TCP_CLOSED);
		tcp_endpoint_init(&c->ep[TL_SERVER], TCP_LISTEN);
	} else if ((seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) ==
		   (TCP_FLAG_SYN | TCP_FLAG_ACK)) {
		sender = TL_SERVER;
		tcp_endpoint_init(&c->ep[TL_CLIENT], TCP_SYN_SENT);
		tcp_endpoint_init(&c->ep[TL_SERVER], TCP_LISTEN);
		/* the client's SYN is not in the capture: its ISN is ack - 1 */
		c->ep[TL_CLIENT].iss_known = true;
		c->ep[TL_CLIENT].iss = seg->ack - 1;
		c->ep[TL_CLIENT].snd_una = seg->ack - 1;
		c->ep[TL_CLIENT].snd_nxt = seg->ack;
	} else {
		/* joined mid-stream: the lower port is the service (RFC 6335 §6) */
		c->info.midstream = true;
		sender = seg->sport < seg->dport ? TL_SERVER : TL_CLIENT;
		if (seg->sport == seg->dport)
			sender = TL_CLIENT;
		for (int i = 0; i < 2; i++) {
			struct tcp_endpoint *ep = &c->ep[i];
			bool is_sender = (enum tl_role)i == sender;
			tcp_endpoint_init(ep, TCP_ESTABLISHED);
			/* Seed the TCB from this segment so relative numbers and
			 * retransmissions work from here on (tcptrace does the same). */
			ep->iss_known = ep->irs_known = true;
			ep->syn_acked = true;
			if (is_sender) {
				ep->iss = seg->seq - 1;
				ep->snd_una = ep->snd_nxt = seg->seq;
				ep->irs = seg->ack - 1;
				ep->rcv_nxt = seg->ack;
			} else {
				ep->irs = seg->seq - 1;
				ep->rcv_nxt = seg->seq;
				ep->iss = seg->ack - 1;
				ep->snd_una = ep->snd_nxt = seg->ack;
			}
		}
		c->rel_known[sender] = true;
		c->rel_base[sender] = seg->seq - 1;
		if (seg->flags & TCP_FLAG_ACK) {
			c->rel_known[!sender] = true;
			c->rel_base[!sender] = seg->ack - 1;
		}
	}

	c->client_is_a = (sender == TL_CLIENT) == src_is_a;
	if (sender == TL_CLIENT) {
		c->info.client_addr = seg->src;
		c->info.client_port = seg->sport;
		c->info.server_addr = seg->dst;
		c->info.server_port = seg->dport;
	} else {
		c->info.client_addr = seg->dst;
		c->info.client_port = seg->dport;
		c->info.server_addr = seg->src;
		c->info.server_port = seg->sport;
	}
	c->info.start_ns = seg->ts_ns;
	c->info.encap_count = seg->encap_count;
	memcpy(c->info.encap, seg->encap, sizeof(c->info.encap));

	c->hnext = ft->buckets[h & (ft->nbuckets - 1)];
	ft->buckets[h & (ft->nbuckets - 1)] = c;
	list_append(&ft->open_head, &ft->open_tail, c);
	ft->stats.connections++;
	ft->stats.open_now++;
	if (ft->stats.open_now > ft->stats.peak_open)
		ft->stats.peak_open = ft->stats.open_now;
	if (ft->stats.open_now > ft->nbuckets / 2)
		grow(ft);   /* load factor <= 1/2: a lookup rarely walks past the head it prefetched */

	if (!ft->opt.summary_only && wants(ft, c)) {
		struct tl_event ev;
		event_init(&ev, ft, c, TL_EV_CONN_BEGIN, seg->ts_ns);
		ev.u.begin = c->info;
		render_emit(ft->r, &ev);
	}
	return c;
}

/* ------------------------------------------------------------ feeding */

/* The role that sent seg in connection c; src_is_a is make_key's answer. */
static enum tl_role sender_role(const struct conn *c, const struct segment *seg, bool src_is_a)
{
	/* both endpoints the same (a socket connected to itself): the server */
	if (seg->sport == seg->dport && ip_addr_equal(&seg->src, &seg->dst))
		return TL_SERVER;
	return src_is_a == c->client_is_a ? TL_CLIENT : TL_SERVER;
}

/* Records figures the summary needs, before the machine runs. */
static void note_figures(struct conn *c, enum tl_role from, const struct segment *seg,
			 const struct tcp_transition *tx)
{
	struct tl_side_summary *s = &c->side[from];
	uint8_t f = seg->flags;

	c->segments[from]++;
	if (seg->csum_status != TCP_CSUM_OK) {
		if (seg->csum_status == TCP_CSUM_BAD)
			c->csum_bad[from]++;
		else if (seg->csum_status == TCP_CSUM_PARTIAL)
			c->csum_offloaded[from]++;
		else
			c->csum_unchecked[from]++;
	}
	if (tx->retransmission)
		c->retransmissions[from]++;
	else if (!c->an.d[from].probing)   /* a probe's byte counts with the data after it */
		c->bytes[from] += seg->payload_len;
	c->bytes[from] += c->an.probe_byte_taken;

	if ((f & (TCP_FLAG_SYN | TCP_FLAG_RST)) == TCP_FLAG_SYN) {
		if (!s->syn_seen) {
			s->syn_seen = true;
			s->syn_options = seg->opt;
			s->isn_known = true;
			s->isn = seg->seq;
		}
		if (!(f & TCP_FLAG_ACK) && from == TL_CLIENT && !c->have_synack) {
			/* Karn: time the SYN-ACK from the last SYN sent before it */
			c->have_syn = true;
			c->syn_ns = seg->ts_ns;
		}
		if ((f & TCP_FLAG_ACK) && from == TL_SERVER && !c->have_synack) {
			c->have_synack = true;
			c->synack_ns = seg->ts_ns;
			/* how fast the server answers, seen from the capture point:
			 * a gap in its data filled sooner is reordering (analysis.h) */
			if (c->have_syn && c->synack_ns >= c->syn_ns)
				analysis_set_ooo_window(&c->an, TL_SERVER, c->synack_ns - c->syn_ns);
		}
	}
	if (!c->rel_known[from] && s->isn_known) {
		c->rel_known[from] = true;
		c->rel_base[from] = s->isn;
	}
	if (from == TL_CLIENT && c->have_synack && !c->have_reaction && (f & TCP_FLAG_ACK) &&
	    !(f & (TCP_FLAG_SYN | TCP_FLAG_RST)) && c->side[TL_SERVER].isn_known &&
	    seg->ack == c->side[TL_SERVER].isn + 1) {
		c->have_reaction = true;
		c->reaction_ns = seg->ts_ns - c->synack_ns;
		/* how fast the client answers (see the SYN-ACK above) */
		analysis_set_ooo_window(&c->an, TL_CLIENT, c->reaction_ns);
	}
	if ((f & TCP_FLAG_FIN) && !(f & TCP_FLAG_RST)) {
		if (c->first_fin < 0)
			c->first_fin = from;
		if (!c->fin_seen[from]) {
			/* FIN that also acknowledges the other side's FIN: three-segment close */
			if (c->fin_seen[!from] && (f & TCP_FLAG_ACK) && c->ep[!from].fin_sent &&
			    seq_ge(seg->ack, c->ep[!from].fin_seq + 1) && !c->ep[!from].fin_acked)
				c->three_segment = true;
			c->fin_seen[from] = true;
		}
	}
	if (seg->payload_len > 0 && c->fin_seen[!from] && !tx->retransmission)
		c->half_close = true;
}

/*
 * Applies seg to both endpoints and emits the segment and state events.
 *
 * A SYN to a server still in LISTEN is held back: the observer cannot know
 * the server received it until the server answers.  A SYN-ACK then shows
 * LISTEN → SYN-RECEIVED under itself; an RST shows that nothing listened;
 * no answer at all leaves the server in LISTEN (a half-open connection).
 */
static void apply(struct flow_table *ft, struct conn *c, const struct segment *seg, bool src_is_a)
{
	enum tl_role from = sender_role(c, seg, src_is_a), to = (enum tl_role)!from;
	struct tcp_endpoint *snd = &c->ep[from], *rcv = &c->ep[to];
	bool revived = false, refused_now = false, held = false, simopen = false;
	/* flow_table_feed_as: lost on purpose (the receiver never gets it), or
	 * an old duplicate (its sender is an earlier incarnation: this
	 * endpoint's machine is not fed it) */
	bool lost = (ft->feed_how & FLOW_FEED_LOST) != 0, stale = (ft->feed_how & FLOW_FEED_STALE) != 0;
	struct tcp_transition ts, tr, tp, tq;
	unsigned marks;
	uint32_t dup_ack;

	memset(&tp, 0, sizeof(tp));
	memset(&tq, 0, sizeof(tq));
	if (from == TL_SERVER && c->have_pending_syn &&
	    (seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) == TCP_FLAG_SYN) {
		/* Simultaneous open (RFC 9293 §3.5, Figure 7): the "server" sends
		 * a SYN of its own while the client's is unanswered.  It never
		 * listened: it was CLOSED and opened actively, and the client's SYN
		 * crossed its own (it receives it below, after sending). */
		c->have_pending_syn = false;
		simopen = true;
		tcp_endpoint_init(snd, TCP_CLOSED);
	} else if (from == TL_SERVER && c->have_pending_syn) {
		c->have_pending_syn = false;
		if (seg->flags & TCP_FLAG_RST) {
			refused_now = true;
		} else {
			tcp_fsm_segment_into(snd, TCP_DIR_RECEIVED, &c->pending_syn, &tp);
			if (tp.changed)
				tp.reason = (seg->flags & TCP_FLAG_SYN) && (seg->flags & TCP_FLAG_ACK)
					? "received the SYN (this SYN-ACK answers it)" : "received the SYN";
		}
	}

	/* A FIN retransmitted by an endpoint the tracker already closed: the
	 * final ACK it was sent never reached it (lost after the capture point). */
	if (snd->state == TCP_CLOSED && (seg->flags & TCP_FLAG_FIN) && snd->fin_sent &&
	    seq_le(seg->seq + segment_seq_len(seg), snd->fin_seq + 1) && !c->reset && !c->refused) {
		snd->state = TCP_LAST_ACK;
		snd->fin_acked = false;
		revived = true;
	}

	if (refused_now) {
		/* It never was in LISTEN: no socket listened, so it was CLOSED all
		 * along (RFC 9293 §3.10.7.1); no transition, the segment says so. */
		memset(&ts, 0, sizeof(ts));
		ts.from = ts.to = TCP_CLOSED;
		snd->state = TCP_CLOSED;
		c->server_refused = true;
	} else if (stale) {
		memset(&ts, 0, sizeof(ts));
		ts.from = ts.to = snd->state;
	} else {
		tcp_fsm_segment_into(snd, TCP_DIR_SENT, seg, &ts);
	}
	/* an inferred segment (one direction only) was never seen: its window
	 * and timing are placeholders, so the analysis does not judge it;
	 * nor does it judge a stale segment */
	if (stale || c->inferring) {
		marks = 0;
		dup_ack = 0;
	} else {
		marks = analysis_segment(&c->an, from, seg, ts.retransmission, &dup_ack);
	}
	if (marks & TL_MARK_OUT_OF_ORDER)
		ts.retransmission = false;   /* reordered before the capture point, not sent twice */
	if (c->an.not_retransmission)
		ts.retransmission = false;   /* a zero-window probe, or new data from its byte on */
	if (simopen)
		tcp_fsm_segment_into(snd, TCP_DIR_RECEIVED, &c->pending_syn, &tq);
	note_figures(c, from, seg, &ts);

	if (lost) {
		memset(&tr, 0, sizeof(tr));
		tr.from = tr.to = rcv->state;
	} else if (from == TL_CLIENT && rcv->state == TCP_LISTEN &&
	    (seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) == TCP_FLAG_SYN) {
		c->pending_syn = *seg;
		c->pending_syn.payload = NULL;
		c->pending_syn.payload_captured = 0;
		c->have_pending_syn = true;
		held = true;
		memset(&tr, 0, sizeof(tr));
		tr.from = tr.to = rcv->state;
	} else {
		tcp_fsm_segment_into(rcv, TCP_DIR_RECEIVED, seg, &tr);
	}

	if (!ft->opt.summary_only && wants(ft, c)) {
		struct tl_event ev;
		event_init(&ev, ft, c, TL_EV_SEGMENT, seg->ts_ns);
		ev.u.segment.from = from;
		ev.u.segment.seg = seg;
		ev.u.segment.rel_seq_known = c->rel_known[from];
		ev.u.segment.rel_seq = seg->seq - c->rel_base[from];
		ev.u.segment.rel_ack_known = c->rel_known[to] && (seg->flags & TCP_FLAG_ACK);
		ev.u.segment.rel_ack = seg->ack - c->rel_base[to];
		ev.u.segment.retransmission = ts.retransmission;
		ev.u.segment.lost = lost;
		if (c->inferring)
			ev.u.segment.annotation = "inferred: not in the capture (one direction only)";
		else if (ft->feed_annotation)
			ev.u.segment.annotation = ft->feed_annotation;
		else if (refused_now)
			ev.u.segment.annotation = "no socket listens on the port: the server was CLOSED, not LISTEN (connection refused)";
		else if (revived)
			ev.u.segment.annotation = "FIN retransmitted: the final ACK never reached it";
		else if (ts.retransmission && (seg->flags & TCP_FLAG_SYN))
			ev.u.segment.annotation = (seg->flags & TCP_FLAG_ACK) ? "SYN-ACK retransmitted"
									: "SYN retransmitted";
		else if (ts.retransmission && (seg->flags & TCP_FLAG_FIN))
			ev.u.segment.annotation = "FIN retransmitted";
		else if (ts.retransmission && seg->payload_len)
			ev.u.segment.annotation = "data retransmitted";
		else if (tr.unacceptable && !ts.changed && !held)
			ev.u.segment.annotation = tr.reason;
		ev.u.segment.marks = marks;
		ev.u.segment.dup_ack = dup_ack;
		ev.u.segment.state_changes = tp.changed || revived || ts.changed || tr.changed;
		ev.u.segment.sender_tx = &ts;
		ev.u.segment.receiver_tx = held || lost ? NULL : &tr;
		render_emit(ft->r, &ev);
	}

	if (tp.changed)
		emit_transition(ft, c, seg->ts_ns, from, &tp);
	if (revived)   /* a correction: the LAST-ACK → CLOSED shown earlier never happened */
		emit_correction(ft, c, seg->ts_ns, from, TCP_CLOSED, TCP_LAST_ACK,
			   "retransmitted its FIN: it never received the final ACK, so it was still in LAST-ACK");
	if (ts.changed && ts.from == TCP_CLOSE_WAIT && ts.to == TCP_CLOSING)
		emit_crossed_fin(ft, c, seg->ts_ns, from);
	else if (ts.changed)
		emit_state(ft, c, seg->ts_ns, from, ts.from, ts.to, ts.reason);
	if (tq.changed)
		emit_transition(ft, c, seg->ts_ns, from, &tq);
	if (tr.changed)
		emit_transition(ft, c, seg->ts_ns, to, &tr);
	simopen_check(ft, c, seg, from, &tq, &tr, to);

	/* outcome facts */
	if (seg->flags & TCP_FLAG_RST) {
		if (tr.from == TCP_SYN_SENT && tr.to == TCP_CLOSED) {
			c->refused = true;
		} else if (ts.changed && ts.to == TCP_CLOSED && !c->refused) {
			c->reset = true;
			c->reset_by = from;
		}
	}
	if ((ts.changed && ts.to == TCP_CLOSING) || (tr.changed && tr.to == TCP_CLOSING))
		c->simultaneous_close = true;

	{
		enum tcp_state a = c->ep[0].state, b = c->ep[1].state;
		bool adone = a == TCP_CLOSED || a == TCP_TIME_WAIT;
		bool bdone = b == TCP_CLOSED || b == TCP_TIME_WAIT;
		if (adone && bdone && !c->ended && (a == TCP_CLOSED || b == TCP_CLOSED || c->reset))
			conn_end(ft, c, seg->ts_ns);
	}
}

/*
 * One direction only (issue 13).  When the capture holds one side's
 * segments alone (a `src host X` filter, asymmetric routing), what that side
 * acknowledges is what the other side sent: its ACK of a SYN reveals the
 * SYN-ACK (RFC 9293 §3.5), a server's segment after its SYN-ACK reveals
 * the client's ACK, and an acknowledgment past what the other side was seen
 * to send reveals that many bytes.  Those segments are applied before seg,
 * as inferred segments, so both endpoints' states follow what really
 * happened; a FIN of the unseen side cannot be told from one byte of data,
 * so it is never inferred (the summary says so).  Nothing is inferred once
 * the other side has been seen.
 */
static void apply_inferred(struct flow_table *ft, struct conn *c, const struct segment *t, bool t_src_is_a,
			   enum tl_role who)
{
	c->inferring = true;
	apply(ft, c, t, t_src_is_a);
	c->inferring = false;
	c->segments[who]--;      /* not seen: the summary counts segments in the capture */
}

static bool infer_one(struct flow_table *ft, struct conn *c, const struct segment *seg, bool src_is_a);

static void infer_unseen(struct flow_table *ft, struct conn *c, const struct segment *seg, bool src_is_a)
{
	/* at most a handshake segment, then the data it acknowledges */
	for (int i = 0; i < 2 && infer_one(ft, c, seg, src_is_a); i++)
		;
}

/* Applies the one segment seg reveals first; false when there is none. */
static bool infer_one(struct flow_table *ft, struct conn *c, const struct segment *seg, bool src_is_a)
{
	enum tl_role from = sender_role(c, seg, src_is_a), other = (enum tl_role)!from;
	struct tcp_endpoint *o = &c->ep[other];
	struct segment t;

	if (c->segments[other] > 0) {
		c->one_way = false;  /* both sides are in the capture after all */
		return false;
	}
	if (c->segments[from] == 0 || !(seg->flags & TCP_FLAG_ACK) || (seg->flags & (TCP_FLAG_SYN | TCP_FLAG_RST)))
		return false;
	memset(&t, 0, sizeof(t));
	t.ts_ns = seg->ts_ns;
	t.src = seg->dst;
	t.dst = seg->src;
	t.sport = seg->dport;
	t.dport = seg->sport;
	t.ttl = seg->ttl;
	if (from == TL_CLIENT && c->have_pending_syn) {
		/* the client acknowledges a SYN-ACK the capture does not hold */
		t.flags = TCP_FLAG_SYN | TCP_FLAG_ACK;
		t.seq = seg->ack - 1;
		t.ack = c->pending_syn.seq + 1;
	} else if (from == TL_SERVER && c->ep[TL_SERVER].state == TCP_SYN_RECEIVED && !c->one_way) {
		/* the server goes on after its SYN-ACK: the client's ACK reached it */
		t.flags = TCP_FLAG_ACK;
		t.seq = c->ep[TL_CLIENT].iss_known ? c->ep[TL_CLIENT].iss + 1 : seg->ack;
		t.ack = seg->seq;
	} else if ((c->one_way || c->info.midstream) && o->iss_known && seq_gt(seg->ack, o->snd_nxt) &&
		   seg->ack - o->snd_nxt <= (1u << 30) && o->state != TCP_CLOSED) {
		/* an acknowledgment past what the other side was seen to send */
		t.flags = TCP_FLAG_ACK;
		t.seq = o->snd_nxt;
		t.ack = seg->seq;
		t.payload_len = seg->ack - o->snd_nxt;
	} else {
		return false;
	}
	if (!c->one_way) {
		char note[160];

		c->one_way = true;
		snprintf(note, sizeof(note), "one direction only: the capture holds only the %s's segments; "
			 "the %s's are inferred from what the %s acknowledges", tl_role_name(from),
			 tl_role_name(other), tl_role_name(from));
		emit_note(ft, c, seg->ts_ns, note);
	}
	apply_inferred(ft, c, &t, !src_is_a, other);
	return true;
}

/* Feeds seg, whose key, hash and orientation are already computed. */
static unsigned feed_keyed(struct flow_table *ft, const struct segment *seg, const struct flow_key *k,
			   uint32_t h, bool src_is_a)
{
	struct conn *c;

	if (!ft->have_first) {
		ft->have_first = true;
		ft->first_ns = seg->ts_ns;
	}
	ft->stats.segments++;
	if ((ft->stats.segments & 1023) == 0)
		sweep(ft, seg->ts_ns);

	c = lookup(ft, k, h);

	/* A new SYN on a 4-tuple whose connection has ended: port reuse. */
	if (c && c->ended && (seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) == TCP_FLAG_SYN &&
	    !(c->ep[TL_CLIENT].iss_known && seg->seq == c->ep[TL_CLIENT].iss &&
	      sender_role(c, seg, src_is_a) == TL_CLIENT)) {
		if (!c->summarized)
			emit_summary(ft, c);
		if (ft->summary_at_finish)
			list_remove(&ft->open_head, &ft->open_tail, c);
		else {
			list_remove(&ft->ended_head, &ft->ended_tail, c);
			ft->ended_count--;
		}
		conn_release(ft, c);
		c = NULL;
	}
	if (!c) {
		c = conn_new(ft, seg, k, h, src_is_a);
		if (!c)
			return 0;
	}
	c->last_ns = seg->ts_ns;
	infer_unseen(ft, c, seg, src_is_a);
	if (ft->feed_hook)   /* kernel states before this segment first (its connection exists now) */
		ft->feed_hook(ft->feed_hook_user, seg, seg->ts_ns);
	apply(ft, c, seg, src_is_a);
	return c->id;
}

/* Feeds one segment (contract in flow.h). */
unsigned flow_table_feed(struct flow_table *ft, const struct segment *seg)
{
	struct flow_key k;
	bool src_is_a = make_key(seg, &k);

	return feed_keyed(ft, seg, &k, hash_key(&k), src_is_a);
}

unsigned flow_table_feed_as(struct flow_table *ft, const struct segment *seg, unsigned how,
			    const char *annotation)
{
	unsigned id;

	ft->feed_how = how;
	ft->feed_annotation = annotation;
	id = flow_table_feed(ft, seg);
	ft->feed_how = 0;
	ft->feed_annotation = NULL;
	return id;
}

/* How far ahead of its use a connection entry is fetched: far enough to
 * hide a miss to memory, near enough that it is still cached. */
#define PREFETCH_AHEAD 16

/* Asks for the first cache lines of the entry at the head of h's bucket,
 * where the fields every segment touches are (struct conn). */
static void prefetch_entry(const struct flow_table *ft, uint32_t h)
{
	const struct conn *c = ft->buckets[h & (ft->nbuckets - 1)];
	if (c) {
		/* the hot fields, then both analysis directions (not the flight or rare parts) */
		for (size_t off = 0; off < offsetof(struct conn, an.f); off += 64)
			__builtin_prefetch((const char *)c + off, 1);
	}
}

/* Segments whose keys are computed at once by flow_table_feed_batch. */
#define KEYED_MAX 64

/* Feeds up to KEYED_MAX segments: keys and hashes first, then the bucket
 * heads, then the entries, each PREFETCH_AHEAD segments before it is fed. */
static void feed_keyed_run(struct flow_table *ft, const struct segment *segs, size_t n)
{
	struct flow_key k[KEYED_MAX];
	uint32_t h[KEYED_MAX];
	bool src_is_a[KEYED_MAX];

	for (size_t i = 0; i < n; i++) {
		src_is_a[i] = make_key(&segs[i], &k[i]);
		h[i] = hash_key(&k[i]);
		__builtin_prefetch(&ft->buckets[h[i] & (ft->nbuckets - 1)], 0);
	}
	for (size_t i = 0; i < n && i < PREFETCH_AHEAD; i++)
		prefetch_entry(ft, h[i]);
	for (size_t i = 0; i < n; i++) {
		if (i + PREFETCH_AHEAD < n)
			prefetch_entry(ft, h[i + PREFETCH_AHEAD]);
		(void)feed_keyed(ft, &segs[i], &k[i], h[i], src_is_a[i]);
	}
}

/* Feeds a batch (contract in flow.h), KEYED_MAX segments at a time. */
void flow_table_feed_batch(struct flow_table *ft, const struct segment *segs, size_t n)
{
	for (size_t i = 0; i < n; i += KEYED_MAX)
		feed_keyed_run(ft, segs + i, n - i < KEYED_MAX ? n - i : KEYED_MAX);
}

/* ------------------------------------------------------------ API */

struct flow_table *flow_table_new(struct renderer *r, const struct flow_options *opt,
				  char errbuf[FLOW_ERRBUF_SIZE])
{
	struct flow_table *ft = calloc(1, sizeof(*ft));
	if (!ft) {
		if (errbuf)
			snprintf(errbuf, FLOW_ERRBUF_SIZE, "out of memory for the flow table");
		return NULL;
	}
	ft->nbuckets = 1024;
	ft->buckets = calloc(ft->nbuckets, sizeof(*ft->buckets));
	if (!ft->buckets) {
		free(ft);
		if (errbuf)
			snprintf(errbuf, FLOW_ERRBUF_SIZE, "out of memory for the flow table");
		return NULL;
	}
	ft->r = r;
	if (opt) {
		ft->opt = *opt;
		ft->summary_at_finish = opt->summary_at_finish;
	}
	return ft;
}

static struct conn *find_tuple(struct flow_table *ft, const struct segment *tuple)
{
	struct flow_key k;
	if (!tuple)
		return NULL;
	make_key(tuple, &k);
	return lookup(ft, &k, hash_key(&k));
}

int flow_table_call(struct flow_table *ft, const struct segment *tuple, enum tl_role who,
		    enum tcp_call call, uint64_t ts_ns, const char *reason)
{
	struct conn *c = find_tuple(ft, tuple);
	struct tcp_transition t;

	if (!c)
		return -1;
	if (ft->feed_hook)
		ft->feed_hook(ft->feed_hook_user, NULL, ts_ns);   /* kernel states before this moment first */
	if (!ft->have_first) {
		ft->have_first = true;
		ft->first_ns = ts_ns;
	}
	t = tcp_fsm_call(&c->ep[who], call);
	if (call == TCP_CALL_GIVE_UP)
		c->gave_up = true;
	if (t.changed)
		emit_state(ft, c, ts_ns, who, t.from, t.to, reason ? reason : t.reason);
	if (c->ep[0].state == TCP_CLOSED && c->ep[1].state == TCP_CLOSED)
		conn_end(ft, c, ts_ns);
	return 0;
}

void flow_table_note(struct flow_table *ft, const struct segment *tuple, uint64_t ts_ns,
		     const char *text)
{
	/* A note before the first segment is at t = 0: time starts at the SYN. */
	emit_note(ft, find_tuple(ft, tuple), ft->have_first ? ts_ns : 0, text);
}

void flow_table_endpoint(struct flow_table *ft, const struct segment *tuple, uint64_t ts_ns,
			 const struct tl_endpoint_event *e)
{
	struct conn *c = find_tuple(ft, tuple);
	struct tl_event ev;
	if (ft->opt.summary_only || (c && !wants(ft, c)))
		return;
	event_init(&ev, ft, c, TL_EV_ENDPOINT, ft->have_first ? ts_ns : 0);
	ev.u.endpoint = *e;
	render_emit(ft->r, &ev);
}

void flow_table_finish(struct flow_table *ft)
{
	struct conn *c;
	/* ended connections first (they ended first), then the open ones, each
	 * group in order of first segment */
	while ((c = ft->ended_head) != NULL) {
		list_remove(&ft->ended_head, &ft->ended_tail, c);
		if (!c->summarized)
			emit_summary(ft, c);
		conn_release(ft, c);
	}
	while ((c = ft->open_head) != NULL) {
		list_remove(&ft->open_head, &ft->open_tail, c);
		if (!c->summarized)
			emit_summary(ft, c);
		conn_release(ft, c);
	}
	ft->ended_count = 0;
}

void flow_table_stats(const struct flow_table *ft, struct flow_stats *out)
{
	*out = ft->stats;
}

void flow_table_free(struct flow_table *ft)
{
	struct conn *c, *nx;
	if (!ft)
		return;
	for (uint32_t i = 0; i < ft->nbuckets; i++)
		for (c = ft->buckets[i]; c; c = nx) {
			nx = c->hnext;
			analysis_release(&c->an);
			free(c);
		}
	for (c = ft->free_list; c; c = nx) {
		nx = c->next;
		free(c);
	}
	free(ft->buckets);
	free(ft);
}

/* ------------------------------------------------------------ kernel states */

void flow_table_set_feed_hook(struct flow_table *ft,
			      void (*hook)(void *user, const struct segment *seg, uint64_t ts_ns), void *user)
{
	ft->feed_hook = hook;
	ft->feed_hook_user = user;
}

int flow_table_kernel_state(struct flow_table *ft, const struct segment *tuple, enum tcp_state from,
			    enum tcp_state to, const char *kernel_from, const char *kernel_to, uint64_t ts_ns)
{
	struct conn *c = find_tuple(ft, tuple);
	struct tl_event ev;

	if (!c)
		return -1;
	if (ft->opt.summary_only || !wants(ft, c))
		return 0;
	event_init(&ev, ft, c, TL_EV_KERNEL_STATE, ts_ns);
	ev.u.kstate.endpoint = ip_addr_equal(&tuple->src, &c->info.client_addr) &&
			       tuple->sport == c->info.client_port ? TL_CLIENT : TL_SERVER;
	ev.u.kstate.from = from;
	ev.u.kstate.to = to;
	ev.u.kstate.kernel_from = kernel_from;
	ev.u.kstate.kernel_to = kernel_to;
	render_emit(ft->r, &ev);
	return 0;
}

/* Contract in flow.h. */
void flow_table_datagram(struct flow_table *ft, const struct segment *dgram)
{
	struct tl_event ev;

	if (!dgram || !dgram->udp)
		return;
	if (!ft->have_first) {
		ft->have_first = true;
		ft->first_ns = dgram->ts_ns;
	}
	if (ft->opt.only_conn || ft->opt.summary_only)
		return;      /* datagrams belong to no connection and have no summary */
	event_init(&ev, ft, NULL, TL_EV_DATAGRAM, dgram->ts_ns);
	ev.u.datagram.seg = dgram;
	ev.u.datagram.protocol = "udp";
	render_emit(ft->r, &ev);
}
