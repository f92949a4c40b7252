/*
 * kstates.c — kernel socket states as a source of trace events, and the
 * check of the inferred states against them (contracts in kstates.h).
 */
#include "tcplab/kstates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tcplab/ktrace.h"

/* An event waits at most this long (wall time since it was read) for a
 * later segment before it is emitted anyway: the kernel's last transitions
 * (LAST-ACK → CLOSE after the final ACK) have no segment after them. */
#define KS_DUE_NS (250ull * 1000000ull)
/* An event whose 4-tuple no connection holds this long after it was read
 * belongs to some other socket of the machine: dropped. */
#define KS_STALE_NS (5ull * 1000000000ull)
#define KS_MAX_PENDING 4096

struct ks_pending {
	uint64_t ts;             /* capture clock (CLOCK_REALTIME ns) */
	uint64_t read_at;        /* CLOCK_MONOTONIC ns when read */
	uint64_t seq;            /* arrival order: a stable sort key */
	struct segment tuple;    /* src = the socket's end */
	enum tcp_state from, to;
	int kfrom, kto;
};

struct kstates {
	struct ktrace *kt;
	struct flow_table *ft;
	int64_t mono_to_real;    /* CLOCK_REALTIME - CLOCK_MONOTONIC */
	struct ks_pending *p;
	size_t n;
	uint64_t seq;
	bool unsorted;
	uint64_t last_read;      /* CLOCK_MONOTONIC ns of the last ktrace_read */
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * CLOCK_REALTIME - CLOCK_MONOTONIC.  Packet timestamps (skb->tstamp,
 * ktime_get_real) are CLOCK_REALTIME; the instance's trace clock "mono" is
 * CLOCK_MONOTONIC.  Of a few samples, the one read in the shortest window
 * is the closest.
 */
static int64_t mono_to_real_offset(void)
{
	int64_t best = 0;
	uint64_t best_w = UINT64_MAX;
	for (int i = 0; i < 5; i++) {
		uint64_t m1 = clock_ns(CLOCK_MONOTONIC), r = clock_ns(CLOCK_REALTIME),
			 m2 = clock_ns(CLOCK_MONOTONIC);
		if (m2 - m1 < best_w) {
			best_w = m2 - m1;
			best = (int64_t)r - (int64_t)(m1 + (m2 - m1) / 2);
		}
	}
	return best;
}

bool kstates_rfc_state(int k, enum tcp_state *out)
{
	switch (k) {
	case KTRACE_ESTABLISHED: *out = TCP_ESTABLISHED; return true;
	case KTRACE_SYN_SENT: *out = TCP_SYN_SENT; return true;
	case KTRACE_SYN_RECV:
	case KTRACE_NEW_SYN_RECV: *out = TCP_SYN_RECEIVED; return true;
	case KTRACE_FIN_WAIT1: *out = TCP_FIN_WAIT_1; return true;
	case KTRACE_FIN_WAIT2: *out = TCP_FIN_WAIT_2; return true;
	case KTRACE_TIME_WAIT: *out = TCP_TIME_WAIT; return true;
	case KTRACE_CLOSE: *out = TCP_CLOSED; return true;
	case KTRACE_CLOSE_WAIT: *out = TCP_CLOSE_WAIT; return true;
	case KTRACE_LAST_ACK: *out = TCP_LAST_ACK; return true;
	case KTRACE_LISTEN: *out = TCP_LISTEN; return true;
	case KTRACE_CLOSING: *out = TCP_CLOSING; return true;
	default: return false;
	}
}

static void on_event(void *user, const struct ktrace_event *ev)
{
	struct kstates *ks = user;
	struct ks_pending *p;
	enum tcp_state from, to;

	if (!kstates_rfc_state(ev->oldstate, &from) || !kstates_rfc_state(ev->newstate, &to))
		return;
	if (ev->rport == 0)
		return;   /* a listener or an unconnected socket: no 4-tuple */
	if (ev->lport == 0 && ev->newstate != KTRACE_SYN_SENT)
		return;   /* only connect()'s CLOSE → SYN-SENT lacks the port (bind_syn_port) */
	if (ks->n == KS_MAX_PENDING) {
		/* the oldest unmatched event goes: it belongs to no connection of ours */
		memmove(ks->p, ks->p + 1, (ks->n - 1) * sizeof(*ks->p));
		ks->n--;
	}
	p = &ks->p[ks->n++];
	memset(p, 0, sizeof(*p));
	p->ts = (uint64_t)((int64_t)ev->mono_ns + ks->mono_to_real);
	p->read_at = clock_ns(CLOCK_MONOTONIC);
	p->seq = ks->seq++;
	p->tuple.src = ev->local;
	p->tuple.dst = ev->remote;
	p->tuple.sport = ev->lport;
	p->tuple.dport = ev->rport;
	p->from = from;
	p->to = to;
	p->kfrom = ev->oldstate;
	p->kto = ev->newstate;
	ks->unsorted = true;
}

static int cmp_pending(const void *a, const void *b)
{
	const struct ks_pending *x = a, *y = b;
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * Emits, in time order, the pending events that are due: those not later
 * than upto (a segment's time), those read more than KS_DUE_NS ago, or all
 * when force.  An event no connection holds stays pending (the connection
 * may not have been seen yet: a client's CLOSE → SYN-SENT precedes its SYN)
 * until it is stale.
 */
static void emit_due(struct kstates *ks, uint64_t upto, bool force)
{
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	size_t keep = 0;

	if (ks->unsorted) {
		qsort(ks->p, ks->n, sizeof(*ks->p), cmp_pending);
		ks->unsorted = false;
	}
	for (size_t i = 0; i < ks->n; i++) {
		struct ks_pending *p = &ks->p[i];
		bool due = force || p->ts <= upto || now - p->read_at > KS_DUE_NS;
		if (due && flow_table_kernel_state(ks->ft, &p->tuple, p->from, p->to, ktrace_state_name(p->kfrom),
						   ktrace_state_name(p->kto), p->ts) == 0)
			continue;
		if (force || now - p->read_at > KS_STALE_NS)
			continue;
		ks->p[keep++] = *p;
	}
	ks->n = keep;
}

static void read_now(struct kstates *ks)
{
	ks->last_read = clock_ns(CLOCK_MONOTONIC);
	ktrace_read(ks->kt, on_event, ks);
}

/*
 * Linux reports a client's CLOSE → SYN-SENT from connect() before it picks
 * the source port (tcp_v4_connect: tcp_set_state, then inet_hash_connect),
 * so that event's local port is 0.  The SYN that socket sends names it: the
 * first such event with the SYN's addresses and destination port takes the
 * SYN's source port.
 */
static void bind_syn_port(struct kstates *ks, const struct segment *seg)
{
	if ((seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) != TCP_FLAG_SYN)
		return;
	for (size_t i = 0; i < ks->n; i++) {
		struct ks_pending *p = &ks->p[i];
		if (p->tuple.sport == 0 && p->kto == KTRACE_SYN_SENT && p->tuple.dport == seg->dport &&
		    ip_addr_equal(&p->tuple.src, &seg->src) && ip_addr_equal(&p->tuple.dst, &seg->dst) &&
		    p->ts <= seg->ts_ns) {
			p->tuple.sport = seg->sport;
			return;
		}
	}
}

static void feed_hook(void *user, const struct segment *seg, uint64_t ts_ns)
{
	struct kstates *ks = user;
	/* Every time: an event written just before this segment left must come
	 * out before it (two non-blocking reads, a few µs, per segment). */
	read_now(ks);
	if (seg && ks->n) {
		if (ks->unsorted) {
			qsort(ks->p, ks->n, sizeof(*ks->p), cmp_pending);
			ks->unsorted = false;
		}
		bind_syn_port(ks, seg);
	}
	if (ks->n)
		emit_due(ks, ts_ns, false);
}

struct kstates *kstates_open(enum kstates_mode mode, struct flow_table *ft)
{
	char eb[KTRACE_ERRBUF_SIZE], note[KTRACE_ERRBUF_SIZE + 200];
	bool denied = false;
	struct kstates *ks;

	if (mode == KSTATES_OFF || !ft)
		return NULL;
	ks = calloc(1, sizeof(*ks));
	if (ks)
		ks->p = calloc(KS_MAX_PENDING, sizeof(*ks->p));
	if (!ks || !ks->p) {
		if (ks)
			free(ks);
		return NULL;
	}
	ks->kt = ktrace_open(eb, &denied);
	if (!ks->kt) {
		if (mode == KSTATES_ON) {
			/* two whole sentences, so that the catalog translates each */
			if (denied)
				snprintf(note, sizeof(note), "kernel states are not shown: %s; it needs root, or "
					 "CAP_SYS_ADMIN and CAP_DAC_OVERRIDE", eb);
			else
				snprintf(note, sizeof(note), "kernel states are not shown: %s", eb);
			flow_table_note(ft, NULL, 0, note);
		}
		free(ks->p);
		free(ks);
		return NULL;
	}
	ks->ft = ft;
	ks->mono_to_real = mono_to_real_offset();
	flow_table_set_feed_hook(ft, feed_hook, ks);
	return ks;
}

void kstates_poll(struct kstates *ks)
{
	if (!ks)
		return;
	read_now(ks);
	if (ks->n)
		emit_due(ks, 0, false);
}

void kstates_close(struct kstates *ks)
{
	if (!ks)
		return;
	ktrace_read(ks->kt, on_event, ks);
	emit_due(ks, 0, true);
	flow_table_set_feed_hook(ks->ft, NULL, NULL);
	ktrace_close(ks->kt);
	free(ks->p);
	free(ks);
}

/* ------------------------------------------------------------ kcheck */

#define KC_MAX 32   /* transitions kept per endpoint */

struct kc_trans {
	enum tcp_state from, to;
	const char *kfrom, *kto;   /* kernel names (static strings), NULL for inferred */
};

struct kc_side {
	struct kc_trans inf[KC_MAX], ker[KC_MAX];
	unsigned ni, nk;
	bool overflow;
};

struct kc_conn {
	unsigned id;
	struct kc_side side[2];
	struct kc_conn *next;
};

struct kc_priv {
	struct renderer *inner;
	struct kc_conn *conns;
	bool minisock_explained;
	unsigned compared, agreed;
	uint64_t latest;           /* latest t_ns forwarded: notes never go back in time */
};

static struct kc_conn *kc_find(struct kc_priv *p, unsigned id, bool create)
{
	struct kc_conn *c;
	for (c = p->conns; c; c = c->next)
		if (c->id == id)
			return c;
	if (!create)
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->id = id;
	c->next = p->conns;
	p->conns = c;
	return c;
}

static void kc_drop(struct kc_priv *p, unsigned id)
{
	for (struct kc_conn **pp = &p->conns; *pp; pp = &(*pp)->next)
		if ((*pp)->id == id) {
			struct kc_conn *c = *pp;
			*pp = c->next;
			free(c);
			return;
		}
}

static void kc_note(struct kc_priv *p, const struct tl_event *like, const char *text)
{
	struct tl_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_EV_NOTE;
	ev.conn = like->conn;
	ev.t_ns = like->t_ns;
	ev.conn_info = like->conn_info;
	if (ev.t_ns < p->latest)
		ev.t_ns = p->latest;
	ev.u.note = text;
	render_emit(p->inner, &ev);
}

static bool is_minisock_close(const struct kc_trans *k)
{
	return k->to == TCP_CLOSED && k->kfrom &&
	       (strcmp(k->kfrom, "TCP_FIN_WAIT2") == 0 || strcmp(k->kfrom, "TCP_CLOSING") == 0);
}

/* Compares one endpoint's transitions after the normalisation of
 * kstates.h, and emits the verdict. */
static void kc_compare(struct kc_priv *p, const struct tl_event *like, enum tl_role who, struct kc_side *s)
{
	struct kc_trans inf[KC_MAX], ker[KC_MAX];
	unsigned ni = 0, nk = 0;
	char text[768], a[160], b[160];
	bool ok;

	for (unsigned i = 0; i < s->ni; i++) {
		/* a half-open connection reset back to LISTEN (RFC 9293 Figure 8's
		 * old duplicate SYN): Linux keeps it in a request socket, which the
		 * tracepoint never reports — not compared */
		if (i + 1 < s->ni && s->inf[i].from == TCP_LISTEN && s->inf[i].to == TCP_SYN_RECEIVED &&
		    s->inf[i + 1].from == TCP_SYN_RECEIVED && s->inf[i + 1].to == TCP_LISTEN) {
			i++;
			continue;
		}
		if (!(s->inf[i].from == TCP_TIME_WAIT && s->inf[i].to == TCP_CLOSED))
			inf[ni++] = s->inf[i];
	}
	for (unsigned i = 0; i < s->nk; i++)
		if (s->ker[i].from != s->ker[i].to)
			ker[nk++] = s->ker[i];
	/* the TIME-WAIT mini-socket (the one normalisation) */
	if (nk && is_minisock_close(&ker[nk - 1])) {
		struct kc_trans *k = &ker[nk - 1];
		if (nk <= ni && inf[nk - 1].from == k->from && inf[nk - 1].to == TCP_TIME_WAIT)
			k->to = TCP_TIME_WAIT;
		else if (ni == nk - 1 && (ni == 0 || inf[ni - 1].to == k->from))
			nk--;
	}
	ok = ni == nk && !s->overflow;
	for (unsigned i = 0; ok && i < ni; i++)
		ok = inf[i].from == ker[i].from && inf[i].to == ker[i].to;
	p->compared++;
	if (ok) {
		p->agreed++;
		/* the path itself is on the lines above: the verdict stays within 100 columns */
		snprintf(text, sizeof(text), "kernel states agree for the %s (%u transition%s)", tl_role_name(who),
			 nk, nk == 1 ? "" : "s");
	} else {
		unsigned i = 0;
		while (i < ni && i < nk && inf[i].from == ker[i].from && inf[i].to == ker[i].to)
			i++;
		if (i < ni)
			snprintf(a, sizeof(a), "%s → %s", tcp_state_name(inf[i].from), tcp_state_name(inf[i].to));
		else
			snprintf(a, sizeof(a), "nothing more");
		if (i < nk)
			snprintf(b, sizeof(b), "%s → %s (%s → %s)", tcp_state_name(ker[i].from), tcp_state_name(ker[i].to),
				 ker[i].kfrom, ker[i].kto);
		else
			snprintf(b, sizeof(b), "nothing more");
		snprintf(text, sizeof(text), "kernel states disagree for the %s at step %u: tcplab %s, kernel %s",
			 tl_role_name(who), i + 1, a, b);
	}
	kc_note(p, like, text);
}

static void kc_add(struct kc_side *s, bool kernel, enum tcp_state from, enum tcp_state to,
		   const char *kfrom, const char *kto)
{
	struct kc_trans *arr = kernel ? s->ker : s->inf;
	unsigned *n = kernel ? &s->nk : &s->ni;
	if (*n == KC_MAX) {
		s->overflow = true;
		return;
	}
	arr[*n].from = from;
	arr[*n].to = to;
	arr[*n].kfrom = kfrom;
	arr[*n].kto = kto;
	(*n)++;
}

static void kc_emit(struct renderer *r, const struct tl_event *ev)
{
	struct kc_priv *p = r->priv;
	struct kc_conn *c;

	if (ev->kind != TL_EV_SUMMARY && ev->t_ns > p->latest)
		p->latest = ev->t_ns;
	switch (ev->kind) {
	case TL_EV_STATE:
		c = kc_find(p, ev->conn, true);
		if (c && ev->u.state.endpoint <= TL_SERVER) {
			struct kc_side *s = &c->side[ev->u.state.endpoint];
			if (ev->u.state.correction && s->ni > 0 && s->inf[s->ni - 1].to == ev->u.state.from &&
			    s->inf[s->ni - 1].from == ev->u.state.to)
				s->ni--;   /* withdrawn (tl_state_event.correction) */
			else
				kc_add(s, false, ev->u.state.from, ev->u.state.to, NULL, NULL);
		}
		break;
	case TL_EV_KERNEL_STATE: {
		const struct tl_kernel_state_event *k = &ev->u.kstate;
		c = kc_find(p, ev->conn, true);
		if (c && k->endpoint <= TL_SERVER)
			kc_add(&c->side[k->endpoint], true, k->from, k->to, k->kernel_from, k->kernel_to);
		render_emit(p->inner, ev);
		if (!p->minisock_explained && k->kernel_from && k->to == TCP_CLOSED) {
			struct kc_trans t = { k->from, k->to, k->kernel_from, k->kernel_to };
			if (is_minisock_close(&t)) {
				char text[512];
				p->minisock_explained = true;
				/* the whole story is in README "Kernel states"; this stays within 100 columns */
				snprintf(text, sizeof(text), "kernel's %s → CLOSE: Linux hands TIME-WAIT to an untraced "
					 "mini-socket", tcp_state_name(k->from));
				kc_note(p, ev, text);
			}
		}
		return;
	}
	case TL_EV_SUMMARY:
		c = kc_find(p, ev->conn, false);
		if (c) {
			for (int i = 0; i < 2; i++)
				if (c->side[i].nk)
					kc_compare(p, ev, (enum tl_role)i, &c->side[i]);
			kc_drop(p, ev->conn);
		}
		break;
	default:
		break;
	}
	render_emit(p->inner, ev);
}

static void kc_finish(struct renderer *r)
{
	struct kc_priv *p = r->priv;
	render_finish(p->inner);
}

/* flush and idle pass through (the ladder's last row, the text's held
 * flight): a wrapper must not swallow them */
static void kc_flush(struct renderer *r)
{
	struct kc_priv *p = r->priv;
	render_flush(p->inner);
}

static void kc_idle(struct renderer *r)
{
	struct kc_priv *p = r->priv;
	render_idle(p->inner);
}

static void kc_destroy(struct renderer *r)
{
	struct kc_priv *p = r->priv;
	while (p->conns)
		kc_drop(p, p->conns->id);
	render_destroy(p->inner);
	free(p);
	free(r);
}

struct renderer *kcheck_new(struct renderer *inner)
{
	struct renderer *r;
	struct kc_priv *p;

	if (!inner)
		return NULL;
	r = calloc(1, sizeof(*r));
	p = calloc(1, sizeof(*p));
	if (!r || !p) {
		free(r);
		free(p);
		return NULL;
	}
	p->inner = inner;
	r->emit = kc_emit;
	r->finish = kc_finish;
	r->destroy = kc_destroy;
	r->flush = kc_flush;
	r->idle = kc_idle;
	r->out = inner->out;
	r->opt = inner->opt;
	r->priv = p;
	return r;
}

void kcheck_counts(const struct renderer *r, unsigned *compared, unsigned *agreed)
{
	const struct kc_priv *p = r && r->emit == kc_emit ? r->priv : NULL;
	*compared = p ? p->compared : 0;
	*agreed = p ? p->agreed : 0;
}
