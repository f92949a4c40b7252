/*
 * explain.c — `--explain` (contract in include/tcplab/explain.h).
 *
 * classify() names the step a segment is in the exchange from what the
 * tracker says it did to the two state machines (the transitions arrive
 * with the segment event, before the state events): a SYN that moves the
 * client CLOSED → SYN-SENT is the first handshake, an ACK that moves the
 * server SYN-RECEIVED → ESTABLISHED the third, a FIN that moves the other
 * side FIN-WAIT-1 → TIME-WAIT (in two steps, through FIN-WAIT-2: RFC 9293
 * §3.10.7.4 processes the ACK field, fifth check, before the FIN bit, eighth
 * check) while its own sender enters LAST-ACK is the second and third wave
 * in one segment, and so on.  The sentences come
 * from the catalog under "explain.STEP.what|why|rule".
 */
#include "tcplab/explain.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcplab/catalog.h"
#include "tcplab/checksum.h"

/* What the explainer remembers of one connection. */
struct xconn {
	bool fin_seen[2];          /* by sender role */
	bool have_ack[2];
	uint32_t last_ack[2];      /* the last pure ACK each side sent */
	uint16_t last_win[2];
	uint32_t dup_count[2];     /* duplicates of last_ack so far */
	bool have_max[2];
	uint32_t snd_max[2];       /* highest sequence number each side has sent, + 1 */
	uint32_t told;             /* repeatable steps already explained in full (bit per step) */
};

/*
 * Steps that recur many times in one connection: after the first, only
 * their "what" line is given (the reason and the rule were said once).
 */
static const char *const repeatable[] = {
	"data", "ack", "dup-ack", "half-close-data", "data-retransmitted", "zero-window", "window-update",
	"syn-retransmitted", "synack-retransmitted", "fin-retransmitted",
};

/* Bit of a repeatable step, 0 for the others. */
static uint32_t repeat_bit(const char *step)
{
	for (size_t i = 0; i < sizeof(repeatable) / sizeof(repeatable[0]); i++)
		if (strcmp(step, repeatable[i]) == 0)
			return 1u << i;
	return 0;
}

struct explainer {
	struct xconn *conns;       /* indexed by connection number */
	size_t cap;
};

struct explainer *explainer_new(void)
{
	return calloc(1, sizeof(struct explainer));
}

void explainer_free(struct explainer *x)
{
	if (x == NULL)
		return;
	free(x->conns);
	free(x);
}

/* The memory of connection n, grown on demand; NULL when out of memory. */
static struct xconn *conn_of(struct explainer *x, unsigned n)
{
	if (n >= x->cap) {
		size_t cap = x->cap ? x->cap : 64;
		struct xconn *c;

		while (cap <= n)
			cap *= 2;
		c = realloc(x->conns, cap * sizeof(*c));
		if (c == NULL)
			return NULL;
		memset(c + x->cap, 0, (cap - x->cap) * sizeof(*c));
		x->conns = c;
		x->cap = cap;
	}
	return &x->conns[n];
}

static bool moved(const struct tcp_transition *t, enum tcp_state from, enum tcp_state to)
{
	return t != NULL && t->changed && t->from == from && t->to == to;
}

/* The step code of one segment (see the catalog's explain.* entries). */
static const char *classify(const struct xconn *xc, const struct tl_segment_event *se)
{
	const struct segment *s = se->seg;
	const struct tcp_transition *ts = se->sender_tx, *tr = se->receiver_tx;
	enum tl_role from = se->from, to = (enum tl_role)!from;
	uint8_t f = s->flags;
	bool rexmit = se->retransmission;

	/* RFC 9293 §3.1: a segment with a wrong checksum is discarded by its
	 * receiver, whatever it carries (an offloaded one is not wrong on the wire) */
	if (s->csum_status == TCP_CSUM_BAD)
		return "bad-checksum";
	if (f & TCP_FLAG_RST) {
		if (moved(tr, TCP_SYN_SENT, TCP_CLOSED) || moved(tr, TCP_SYN_RECEIVED, TCP_CLOSED))
			return "refused";
		if (tr != NULL && tr->unacceptable)
			return "rst-ignored";
		return "reset";
	}
	if ((f & TCP_FLAG_SYN) && !(f & TCP_FLAG_ACK)) {
		if (rexmit)
			return "syn-retransmitted";
		if (tr != NULL && tr->from == TCP_SYN_SENT)
			return "simultaneous-open";
		return "handshake-1";
	}
	if (f & TCP_FLAG_SYN)
		return rexmit ? "synack-retransmitted" : "handshake-2";
	if (f & TCP_FLAG_FIN) {
		if (rexmit)
			return "fin-retransmitted";
		if ((ts != NULL && ts->changed && ts->to == TCP_CLOSING) ||
		    (tr != NULL && tr->changed && tr->to == TCP_CLOSING))
			return "simultaneous-close";
		if (!xc->fin_seen[to])
			return s->payload_len > 0 ? "wave-1-data" : "wave-1";
		if (moved(tr, TCP_FIN_WAIT_1, TCP_TIME_WAIT))
			return "wave-2+3";
		return "wave-3";
	}
	if (moved(tr, TCP_SYN_RECEIVED, TCP_ESTABLISHED))
		return s->payload_len > 0 ? "handshake-3-data" : "handshake-3";
	if (moved(tr, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2))
		return s->payload_len > 0 ? "wave-2-data" : "wave-2";
	if (moved(tr, TCP_LAST_ACK, TCP_CLOSED))
		return "wave-4";
	if (moved(tr, TCP_CLOSING, TCP_TIME_WAIT))
		return "simultaneous-close-ack";
	if (rexmit)
		return "data-retransmitted";
	if (s->window == 0)
		return "zero-window";
	if (s->payload_len > 0)
		return xc->fin_seen[to] ? "half-close-data" : "data";
	if (xc->have_ack[from] && xc->last_win[from] == 0 && s->ack == xc->last_ack[from])
		return "window-update";
	/* RFC 5681 §2: a duplicate ACK carries no data, no SYN/FIN, the same
	 * ack and window as the last, while the peer has data outstanding. */
	if (xc->have_ack[from] && s->ack == xc->last_ack[from] && s->window == xc->last_win[from] &&
	    xc->have_max[to] && seq_lt(s->ack, xc->snd_max[to]))
		return "dup-ack";
	if (tr != NULL && tr->retransmission)
		return "ack";
	return "ack";
}

/* Remembers what the segment tells about the exchange (after classifying it). */
static void record(struct xconn *xc, const struct tl_segment_event *se)
{
	const struct segment *s = se->seg;
	enum tl_role from = se->from;
	uint32_t end = s->seq + segment_seq_len(s);

	if ((s->flags & TCP_FLAG_FIN) && !(s->flags & TCP_FLAG_RST))
		xc->fin_seen[from] = true;
	if (!xc->have_max[from] || seq_gt(end, xc->snd_max[from])) {
		xc->have_max[from] = true;
		xc->snd_max[from] = end;
	}
	if ((s->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_RST)) == 0 && (s->flags & TCP_FLAG_ACK) &&
	    s->payload_len == 0) {
		if (xc->have_ack[from] && xc->last_ack[from] == s->ack && xc->last_win[from] == s->window)
			xc->dup_count[from]++;
		else
			xc->dup_count[from] = 0;
		xc->have_ack[from] = true;
		xc->last_ack[from] = s->ack;
		xc->last_win[from] = s->window;
	} else if (s->payload_len > 0 || (s->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN))) {
		xc->have_ack[from] = false;
		xc->dup_count[from] = 0;
	}
}

/* Formats v in decimal into a small buffer. */
static const char *num(char buf[24], uint64_t v)
{
	snprintf(buf, 24, "%llu", (unsigned long long)v);
	return buf;
}

unsigned explain_event(struct explainer *x, const struct tl_event *ev, struct explanation *out)
{
	static const char *const parts[] = { "what", "why", "rule" };
	const struct tl_segment_event *se;
	const struct segment *s;
	struct xconn *xc;
	char seq[24], ack[24], len[24], next[24], win[24], rseq[24], rack[24], dup[24], mss[24], expected[8];
	char code[64];

	if (out != NULL) {
		out->nlines = 0;
		out->step = NULL;
	}
	if (x == NULL || ev == NULL)
		return 0;
	if (ev->kind == TL_EV_SUMMARY) {
		if (ev->conn < x->cap)
			memset(&x->conns[ev->conn], 0, sizeof(x->conns[0]));
		return 0;
	}
	if (ev->kind != TL_EV_SEGMENT || ev->u.segment.seg == NULL)
		return 0;
	xc = conn_of(x, ev->conn);
	if (xc == NULL)
		return 0;
	se = &ev->u.segment;
	s = se->seg;
	if (out == NULL) {
		record(xc, se);
		return 0;
	}
	out->step = classify(xc, se);
	snprintf(expected, sizeof(expected), "0x%04x", (unsigned)s->csum_expected);
	{
		const char *who = catalog_tr(tl_role_name(se->from));
		const char *peer = catalog_tr(tl_role_name((enum tl_role)!se->from));
		const char *pairs[] = {
			"who", who,
			"peer", peer,
			"seq", num(seq, s->seq),
			"ack", num(ack, s->ack),
			"rel_seq", se->rel_seq_known ? num(rseq, se->rel_seq) : "?",
			"rel_ack", se->rel_ack_known ? num(rack, se->rel_ack) : "?",
			"len", num(len, s->payload_len),
			"next", num(next, (uint32_t)(s->seq + segment_seq_len(s))),
			"win", num(win, s->window),
			"dups", num(dup, (uint64_t)xc->dup_count[se->from] + 1),
			"mss", s->opt.has_mss ? num(mss, s->opt.mss) : "?",
			"expected", expected,
			NULL, NULL,
		};

		uint32_t bit = repeat_bit(out->step);
		size_t nparts = (bit != 0 && (xc->told & bit)) ? 1 : sizeof(parts) / sizeof(parts[0]);

		xc->told |= bit;
		for (size_t i = 0; i < nparts; i++) {
			const char *tmpl;

			snprintf(code, sizeof(code), "explain.%s.%s", out->step, parts[i]);
			tmpl = catalog_code(code);
			if (tmpl == NULL || tmpl[0] == '\0')
				continue;
			catalog_format(out->lines[out->nlines], EXPLAIN_LINE_SIZE, tmpl, pairs);
			out->nlines++;
		}
	}
	record(xc, se);
	return out->nlines;
}

unsigned explain_segment(struct explainer *x, const struct tl_event *ev, struct explanation *out)
{
	return explain_event(x, ev, out);
}
