/*
 * test_kstates.c — the pure parts of the kernel-state source: the kernel →
 * RFC 9293 state map, the tracker's kernel-state events (roles, unknown
 * 4-tuples), the feed hook's place, and kcheck's verdicts with the one
 * normalisation (the TIME-WAIT mini-socket) and correction events.
 * (ktrace itself needs the kernel: tests/integration/test_kernel_states.py.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testlib.h"
#include "tcplab/flow.h"
#include "tcplab/kstates.h"
#include "tcplab/ktrace.h"
#include "tcplab/render.h"

/* ---- a renderer that records what it is given ---- */

#define MAX_REC 128

struct rec {
	enum tl_event_kind kind;
	unsigned conn;
	uint64_t t;
	enum tl_role endpoint;
	enum tcp_state from, to;
	char text[512];
	char kernel[32];
};

struct recorder {
	struct rec r[MAX_REC];
	int n;
};

static void rec_emit(struct renderer *r, const struct tl_event *ev)
{
	struct recorder *rc = r->priv;
	struct rec *x;
	assert_true(rc->n < MAX_REC);
	x = &rc->r[rc->n++];
	memset(x, 0, sizeof(*x));
	x->kind = ev->kind;
	x->conn = ev->conn;
	x->t = ev->t_ns;
	if (ev->kind == TL_EV_STATE) {
		x->endpoint = ev->u.state.endpoint;
		x->from = ev->u.state.from;
		x->to = ev->u.state.to;
	} else if (ev->kind == TL_EV_KERNEL_STATE) {
		x->endpoint = ev->u.kstate.endpoint;
		x->from = ev->u.kstate.from;
		x->to = ev->u.kstate.to;
		snprintf(x->kernel, sizeof(x->kernel), "%s", ev->u.kstate.kernel_to);
	} else if (ev->kind == TL_EV_NOTE) {
		snprintf(x->text, sizeof(x->text), "%s", ev->u.note);
	}
}

static void rec_finish(struct renderer *r) { (void)r; }
static void rec_destroy(struct renderer *r) { free(r->priv); free(r); }

static struct renderer *recorder_new(struct recorder **out)
{
	struct renderer *r = calloc(1, sizeof(*r));
	struct recorder *rc = calloc(1, sizeof(*rc));
	assert_non_null(r);
	assert_non_null(rc);
	r->emit = rec_emit;
	r->finish = rec_finish;
	r->destroy = rec_destroy;
	r->priv = rc;
	*out = rc;
	return r;
}

/* ---- events fed to kcheck by hand ---- */

static void state(struct renderer *r, unsigned conn, enum tl_role who, enum tcp_state f, enum tcp_state t,
		  bool correction)
{
	struct tl_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_EV_STATE;
	ev.conn = conn;
	ev.u.state.endpoint = who;
	ev.u.state.from = f;
	ev.u.state.to = t;
	ev.u.state.reason = "r";
	ev.u.state.correction = correction;
	render_emit(r, &ev);
}

static void kstate(struct renderer *r, unsigned conn, enum tl_role who, int kf, int kt)
{
	struct tl_event ev;
	enum tcp_state f, t;
	assert_true(kstates_rfc_state(kf, &f));
	assert_true(kstates_rfc_state(kt, &t));
	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_EV_KERNEL_STATE;
	ev.conn = conn;
	ev.u.kstate.endpoint = who;
	ev.u.kstate.from = f;
	ev.u.kstate.to = t;
	ev.u.kstate.kernel_from = ktrace_state_name(kf);
	ev.u.kstate.kernel_to = ktrace_state_name(kt);
	render_emit(r, &ev);
}

static void summary(struct renderer *r, unsigned conn)
{
	struct tl_event ev;
	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_EV_SUMMARY;
	ev.conn = conn;
	render_emit(r, &ev);
}

/* The notes that start with prefix, counted. */
static int notes_with(const struct recorder *rc, const char *prefix)
{
	int n = 0;
	for (int i = 0; i < rc->n; i++)
		if (rc->r[i].kind == TL_EV_NOTE && strncmp(rc->r[i].text, prefix, strlen(prefix)) == 0)
			n++;
	return n;
}

static const struct rec *note_with(const struct recorder *rc, const char *prefix)
{
	for (int i = 0; i < rc->n; i++)
		if (rc->r[i].kind == TL_EV_NOTE && strncmp(rc->r[i].text, prefix, strlen(prefix)) == 0)
			return &rc->r[i];
	return NULL;
}

static void test_rfc_state_map(void **st)
{
	enum tcp_state s;
	(void)st;
	assert_true(kstates_rfc_state(KTRACE_SYN_RECV, &s));
	assert_int_equal(s, TCP_SYN_RECEIVED);
	assert_true(kstates_rfc_state(KTRACE_NEW_SYN_RECV, &s));   /* the request socket */
	assert_int_equal(s, TCP_SYN_RECEIVED);
	assert_true(kstates_rfc_state(KTRACE_CLOSE, &s));
	assert_int_equal(s, TCP_CLOSED);
	assert_true(kstates_rfc_state(KTRACE_FIN_WAIT2, &s));
	assert_int_equal(s, TCP_FIN_WAIT_2);
	assert_true(kstates_rfc_state(KTRACE_CLOSING, &s));
	assert_int_equal(s, TCP_CLOSING);
	assert_false(kstates_rfc_state(0, &s));
	assert_false(kstates_rfc_state(13, &s));
	assert_string_equal(ktrace_state_name(KTRACE_TIME_WAIT), "TCP_TIME_WAIT");
	assert_string_equal(ktrace_state_name(99), "TCP_?");
	assert_string_equal(ktrace_state_name(-1), "TCP_?");
}

/* Passive close, all the same: one "agree" note naming the path, before the
 * summary; the kernel events are forwarded. */
static void test_kcheck_agree(void **st)
{
	struct recorder *rc;
	struct renderer *r = kcheck_new(recorder_new(&rc));
	unsigned cmp, ok;
	(void)st;
	state(r, 1, TL_SERVER, TCP_LISTEN, TCP_SYN_RECEIVED, false);
	state(r, 1, TL_SERVER, TCP_SYN_RECEIVED, TCP_ESTABLISHED, false);
	kstate(r, 1, TL_SERVER, KTRACE_LISTEN, KTRACE_SYN_RECV);
	kstate(r, 1, TL_SERVER, KTRACE_SYN_RECV, KTRACE_ESTABLISHED);
	state(r, 1, TL_SERVER, TCP_ESTABLISHED, TCP_CLOSE_WAIT, false);
	kstate(r, 1, TL_SERVER, KTRACE_ESTABLISHED, KTRACE_CLOSE_WAIT);
	state(r, 1, TL_SERVER, TCP_CLOSE_WAIT, TCP_LAST_ACK, false);
	kstate(r, 1, TL_SERVER, KTRACE_CLOSE_WAIT, KTRACE_LAST_ACK);
	state(r, 1, TL_SERVER, TCP_LAST_ACK, TCP_CLOSED, false);
	kstate(r, 1, TL_SERVER, KTRACE_LAST_ACK, KTRACE_CLOSE);
	summary(r, 1);
	assert_int_equal(notes_with(rc, "kernel states agree for the server (5 transitions)"), 1);
	assert_int_equal(notes_with(rc, "kernel states disagree"), 0);
	assert_int_equal(rc->r[rc->n - 1].kind, TL_EV_SUMMARY);
	assert_int_equal(rc->r[rc->n - 2].kind, TL_EV_NOTE);
	kcheck_counts(r, &cmp, &ok);
	assert_int_equal(cmp, 1);
	assert_int_equal(ok, 1);
	render_destroy(r);
}

/* RFC 9293 Figure 8 at a Linux server: the old duplicate's half-open
 * connection (LISTEN → SYN-RECEIVED → LISTEN, inferred) lived in a request
 * socket the tracepoint never reports: not compared, the rest agrees; an
 * inferred SYN-RECEIVED → LISTEN alone still disagrees. */
static void test_kcheck_request_socket_reset(void **st)
{
	struct recorder *rc;
	struct renderer *r = kcheck_new(recorder_new(&rc));
	(void)st;
	state(r, 1, TL_SERVER, TCP_LISTEN, TCP_SYN_RECEIVED, false);
	state(r, 1, TL_SERVER, TCP_SYN_RECEIVED, TCP_LISTEN, false);
	state(r, 1, TL_SERVER, TCP_LISTEN, TCP_SYN_RECEIVED, false);
	state(r, 1, TL_SERVER, TCP_SYN_RECEIVED, TCP_ESTABLISHED, false);
	kstate(r, 1, TL_SERVER, KTRACE_LISTEN, KTRACE_SYN_RECV);
	kstate(r, 1, TL_SERVER, KTRACE_SYN_RECV, KTRACE_ESTABLISHED);
	summary(r, 1);
	assert_int_equal(notes_with(rc, "kernel states agree for the server (2 transitions)"), 1);
	render_destroy(r);

	r = kcheck_new(recorder_new(&rc));
	state(r, 2, TL_SERVER, TCP_SYN_RECEIVED, TCP_LISTEN, false);
	kstate(r, 2, TL_SERVER, KTRACE_LISTEN, KTRACE_SYN_RECV);
	summary(r, 2);
	assert_int_equal(notes_with(rc, "kernel states disagree"), 1);
	render_destroy(r);
}

/* The old inference (FIN-WAIT-1 → TIME-WAIT in one step) against Linux's
 * FIN_WAIT1 → FIN_WAIT2 → CLOSE: a disagreement naming both. */
static void test_kcheck_disagree_names_both(void **st)
{
	struct recorder *rc;
	struct renderer *r = kcheck_new(recorder_new(&rc));
	const struct rec *n;
	unsigned cmp, ok;
	(void)st;
	state(r, 2, TL_CLIENT, TCP_ESTABLISHED, TCP_FIN_WAIT_1, false);
	kstate(r, 2, TL_CLIENT, KTRACE_ESTABLISHED, KTRACE_FIN_WAIT1);
	state(r, 2, TL_CLIENT, TCP_FIN_WAIT_1, TCP_TIME_WAIT, false);
	kstate(r, 2, TL_CLIENT, KTRACE_FIN_WAIT1, KTRACE_FIN_WAIT2);
	kstate(r, 2, TL_CLIENT, KTRACE_FIN_WAIT2, KTRACE_CLOSE);
	summary(r, 2);
	n = note_with(rc, "kernel states disagree for the client at step 2");
	assert_non_null(n);
	assert_non_null(strstr(n->text, "tcplab FIN-WAIT-1 → TIME-WAIT, kernel FIN-WAIT-1 → FIN-WAIT-2 "
				       "(TCP_FIN_WAIT1 → TCP_FIN_WAIT2)"));
	kcheck_counts(r, &cmp, &ok);
	assert_int_equal(cmp, 1);
	assert_int_equal(ok, 0);
	render_destroy(r);
}

/* The mini-socket: FIN_WAIT2 → CLOSE stands for FIN-WAIT-2 → TIME-WAIT;
 * tcplab's TIME-WAIT → CLOSED is not compared; explained once a run. */
static void test_kcheck_minisock(void **st)
{
	struct recorder *rc;
	struct renderer *r = kcheck_new(recorder_new(&rc));
	(void)st;
	for (unsigned conn = 1; conn <= 2; conn++) {
		state(r, conn, TL_CLIENT, TCP_ESTABLISHED, TCP_FIN_WAIT_1, false);
		state(r, conn, TL_CLIENT, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, false);
		state(r, conn, TL_CLIENT, TCP_FIN_WAIT_2, TCP_TIME_WAIT, false);
		kstate(r, conn, TL_CLIENT, KTRACE_ESTABLISHED, KTRACE_FIN_WAIT1);
		kstate(r, conn, TL_CLIENT, KTRACE_FIN_WAIT1, KTRACE_FIN_WAIT2);
		kstate(r, conn, TL_CLIENT, KTRACE_FIN_WAIT2, KTRACE_CLOSE);
		state(r, conn, TL_CLIENT, TCP_TIME_WAIT, TCP_CLOSED, false);
		summary(r, conn);
	}
	assert_int_equal(notes_with(rc, "kernel states agree for the client (3 transitions)"), 2);
	assert_int_equal(notes_with(rc, "kernel's FIN-WAIT-2 → CLOSE: Linux hands TIME-WAIT to an untraced"), 1);
	render_destroy(r);
}

/* An orphan in FIN-WAIT-2 handed to the mini-socket while tcplab still
 * sees FIN-WAIT-2: the kernel's last transition stands for nothing. */
static void test_kcheck_minisock_orphan(void **st)
{
	struct recorder *rc;
	struct renderer *r = kcheck_new(recorder_new(&rc));
	(void)st;
	state(r, 1, TL_SERVER, TCP_ESTABLISHED, TCP_FIN_WAIT_1, false);
	state(r, 1, TL_SERVER, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, false);
	kstate(r, 1, TL_SERVER, KTRACE_ESTABLISHED, KTRACE_FIN_WAIT1);
	kstate(r, 1, TL_SERVER, KTRACE_FIN_WAIT1, KTRACE_FIN_WAIT2);
	kstate(r, 1, TL_SERVER, KTRACE_FIN_WAIT2, KTRACE_CLOSE);
	summary(r, 1);
	assert_int_equal(notes_with(rc, "kernel states agree for the server"), 1);
	/* but a genuine close (RST in FIN-WAIT-2: the inferred CLOSED) is compared */
	state(r, 2, TL_SERVER, TCP_FIN_WAIT_2, TCP_CLOSED, false);
	kstate(r, 2, TL_SERVER, KTRACE_FIN_WAIT2, KTRACE_CLOSE);
	state(r, 3, TL_SERVER, TCP_FIN_WAIT_2, TCP_TIME_WAIT, false);
	kstate(r, 3, TL_SERVER, KTRACE_ESTABLISHED, KTRACE_CLOSE);   /* not the mini-socket */
	summary(r, 2);
	summary(r, 3);
	assert_int_equal(notes_with(rc, "kernel states agree for the server"), 2);
	assert_int_equal(notes_with(rc, "kernel states disagree for the server at step 1"), 1);
	render_destroy(r);
}

/* A correction withdraws the previous transition (the FINs crossed). */
static void test_kcheck_correction(void **st)
{
	struct recorder *rc;
	struct renderer *r = kcheck_new(recorder_new(&rc));
	(void)st;
	state(r, 1, TL_CLIENT, TCP_ESTABLISHED, TCP_CLOSE_WAIT, false);
	state(r, 1, TL_CLIENT, TCP_CLOSE_WAIT, TCP_ESTABLISHED, true);
	state(r, 1, TL_CLIENT, TCP_ESTABLISHED, TCP_FIN_WAIT_1, false);
	state(r, 1, TL_CLIENT, TCP_FIN_WAIT_1, TCP_CLOSING, false);
	state(r, 1, TL_CLIENT, TCP_CLOSING, TCP_TIME_WAIT, false);
	kstate(r, 1, TL_CLIENT, KTRACE_ESTABLISHED, KTRACE_FIN_WAIT1);
	kstate(r, 1, TL_CLIENT, KTRACE_FIN_WAIT1, KTRACE_CLOSING);
	kstate(r, 1, TL_CLIENT, KTRACE_CLOSING, KTRACE_CLOSE);
	summary(r, 1);
	assert_int_equal(notes_with(rc, "kernel states agree for the client (3 transitions)"), 1);
	render_destroy(r);
}

/* An endpoint the kernel said nothing about is not judged; a kernel
 * endpoint whose run ended early says "nothing more". */
static void test_kcheck_only_kernel_endpoints(void **st)
{
	struct recorder *rc;
	struct renderer *r = kcheck_new(recorder_new(&rc));
	unsigned cmp, ok;
	(void)st;
	state(r, 1, TL_CLIENT, TCP_CLOSED, TCP_SYN_SENT, false);
	state(r, 1, TL_SERVER, TCP_LISTEN, TCP_SYN_RECEIVED, false);
	state(r, 1, TL_SERVER, TCP_SYN_RECEIVED, TCP_ESTABLISHED, false);
	kstate(r, 1, TL_SERVER, KTRACE_LISTEN, KTRACE_SYN_RECV);
	summary(r, 1);
	kcheck_counts(r, &cmp, &ok);
	assert_int_equal(cmp, 1);
	assert_int_equal(ok, 0);
	assert_non_null(note_with(rc, "kernel states disagree for the server at step 2: tcplab "
				       "SYN-RECEIVED → ESTABLISHED, kernel nothing more"));
	render_destroy(r);
}

/* The tracker: a kernel event finds its connection by 4-tuple in either
 * orientation, the socket's local end decides the role, and an unknown
 * 4-tuple is refused (the caller keeps it for later). */
static struct segment seg_of(const char *src, uint16_t sp, const char *dst, uint16_t dp, uint8_t flags,
			     uint32_t seq, uint32_t ack, uint64_t ts)
{
	struct segment s;
	memset(&s, 0, sizeof(s));
	s.src = test_addr(src);
	s.dst = test_addr(dst);
	s.sport = sp;
	s.dport = dp;
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.ts_ns = ts;
	s.window = 100;
	return s;
}

struct hook_log {
	int calls;
	uint64_t last_ts;
	bool saw_syn;
};

static void hook(void *user, const struct segment *seg, uint64_t ts)
{
	struct hook_log *h = user;
	h->calls++;
	h->last_ts = ts;
	if (seg && (seg->flags & TCP_FLAG_SYN))
		h->saw_syn = true;
}

static void test_flow_kernel_state(void **st)
{
	struct recorder *rc;
	struct renderer *r = recorder_new(&rc);
	char eb[FLOW_ERRBUF_SIZE];
	struct flow_table *ft = flow_table_new(r, NULL, eb);
	struct segment syn = seg_of("198.18.0.1", 40000, "198.18.0.2", 7000, TCP_FLAG_SYN, 100, 0, 1000000000ull);
	struct segment sock;
	struct hook_log h = { 0 };
	int conn_begin_at = -1;
	(void)st;
	assert_non_null(ft);
	flow_table_set_feed_hook(ft, hook, &h);

	/* before the connection exists: refused */
	sock = seg_of("198.18.0.1", 40000, "198.18.0.2", 7000, 0, 0, 0, 0);
	assert_int_equal(flow_table_kernel_state(ft, &sock, TCP_CLOSED, TCP_SYN_SENT, "TCP_CLOSE",
						 "TCP_SYN_SENT", 999999000ull), -1);
	flow_table_feed(ft, &syn);
	assert_int_equal(h.calls, 1);
	assert_true(h.saw_syn);
	assert_int_equal(h.last_ts, 1000000000ull);
	for (int i = 0; i < rc->n; i++)
		if (rc->r[i].kind == TL_EV_CONN_BEGIN)
			conn_begin_at = i;
	assert_int_equal(conn_begin_at, 0);   /* the hook ran after the connection appeared */

	/* the client's socket (local end = client) */
	assert_int_equal(flow_table_kernel_state(ft, &sock, TCP_CLOSED, TCP_SYN_SENT, "TCP_CLOSE",
						 "TCP_SYN_SENT", 1000000500ull), 0);
	assert_int_equal(rc->r[rc->n - 1].kind, TL_EV_KERNEL_STATE);
	assert_int_equal(rc->r[rc->n - 1].endpoint, TL_CLIENT);
	assert_int_equal(rc->r[rc->n - 1].t, 500);
	assert_string_equal(rc->r[rc->n - 1].kernel, "TCP_SYN_SENT");
	/* the server's socket: the other orientation */
	sock = seg_of("198.18.0.2", 7000, "198.18.0.1", 40000, 0, 0, 0, 0);
	assert_int_equal(flow_table_kernel_state(ft, &sock, TCP_LISTEN, TCP_SYN_RECEIVED, "TCP_LISTEN",
						 "TCP_SYN_RECV", 1000001000ull), 0);
	assert_int_equal(rc->r[rc->n - 1].endpoint, TL_SERVER);
	/* another 4-tuple */
	sock = seg_of("198.18.0.2", 7000, "198.18.0.1", 40001, 0, 0, 0, 0);
	assert_int_equal(flow_table_kernel_state(ft, &sock, TCP_LISTEN, TCP_SYN_RECEIVED, "TCP_LISTEN",
						 "TCP_SYN_RECV", 1000001000ull), -1);
	/* a call runs the hook too (seg NULL) */
	h.saw_syn = false;
	sock = seg_of("198.18.0.1", 40000, "198.18.0.2", 7000, 0, 0, 0, 0);
	flow_table_call(ft, &sock, TL_CLIENT, TCP_CALL_GIVE_UP, 2000000000ull, NULL);
	assert_int_equal(h.calls, 2);
	assert_int_equal(h.last_ts, 2000000000ull);
	flow_table_free(ft);
	render_destroy(r);
}

/* Simultaneous open seen on the wire: the second SYN comes from the
 * endpoint first taken for a listener. */
static void test_flow_simultaneous_open(void **st)
{
	struct recorder *rc;
	struct renderer *r = recorder_new(&rc);
	char eb[FLOW_ERRBUF_SIZE];
	struct flow_table *ft = flow_table_new(r, NULL, eb);
	struct segment a = seg_of("198.18.0.2", 7000, "198.18.0.1", 7001, TCP_FLAG_SYN, 1000, 0, 1000);
	struct segment b = seg_of("198.18.0.1", 7001, "198.18.0.2", 7000, TCP_FLAG_SYN, 5000, 0, 2000);
	enum tcp_state want[][2] = { { TCP_CLOSED, TCP_SYN_SENT }, { TCP_CLOSED, TCP_SYN_SENT },
				     { TCP_SYN_SENT, TCP_SYN_RECEIVED }, { TCP_SYN_SENT, TCP_SYN_RECEIVED } };
	enum tl_role who[] = { TL_CLIENT, TL_SERVER, TL_SERVER, TL_CLIENT };
	int k = 0;
	(void)st;
	flow_table_feed(ft, &a);
	flow_table_feed(ft, &b);
	for (int i = 0; i < rc->n; i++) {
		if (rc->r[i].kind != TL_EV_STATE)
			continue;
		assert_true(k < 4);
		assert_int_equal(rc->r[i].endpoint, who[k]);
		assert_int_equal(rc->r[i].from, want[k][0]);
		assert_int_equal(rc->r[i].to, want[k][1]);
		k++;
	}
	assert_int_equal(k, 4);
	flow_table_free(ft);
	render_destroy(r);
}

/* Simultaneous open where one end met the SYN-ACK before the peer's SYN:
 * its bare ACK (not a SYN-ACK) withdraws SYN-SENT → SYN-RECEIVED →
 * ESTABLISHED for SYN-SENT → ESTABLISHED; a real SYN-ACK keeps them. */
static void test_flow_simultaneous_open_reordered(void **st)
{
	const uint8_t A = TCP_FLAG_ACK, S = TCP_FLAG_SYN;
	for (int real = 0; real < 2; real++) {
		struct recorder *rc;
		struct renderer *r = recorder_new(&rc);
		char eb[FLOW_ERRBUF_SIZE];
		struct flow_table *ft = flow_table_new(r, NULL, eb);
		struct segment s[] = {
			seg_of("198.18.0.1", 7001, "198.18.0.2", 7000, S, 1000, 0, 1000),
			seg_of("198.18.0.2", 7000, "198.18.0.1", 7001, S, 5000, 0, 2000),
			seg_of("198.18.0.2", 7000, "198.18.0.1", 7001, S | A, 5000, 1001, 3000),
			real ? seg_of("198.18.0.1", 7001, "198.18.0.2", 7000, S | A, 1000, 5001, 4000)
			     : seg_of("198.18.0.1", 7001, "198.18.0.2", 7000, A, 1001, 5001, 4000),
		};
		enum tcp_state path[8];
		int n = 0;
		(void)st;
		for (int i = 0; i < 4; i++)
			flow_table_feed(ft, &s[i]);
		for (int i = 0; i < rc->n; i++) {
			const struct rec *x = &rc->r[i];
			if (x->kind != TL_EV_STATE || x->endpoint != TL_CLIENT)
				continue;
			if (n == 0)
				path[n++] = x->from;
			/* a correction steps back: the path is rebuilt the way kcheck does */
			if (n >= 2 && path[n - 2] == x->to && path[n - 1] == x->from)
				n--;
			else
				path[n++] = x->to;
		}
		if (real) {
			assert_int_equal(n, 4);
			assert_int_equal(path[2], TCP_SYN_RECEIVED);
			assert_int_equal(path[3], TCP_ESTABLISHED);
		} else {
			assert_int_equal(n, 3);
			assert_int_equal(path[0], TCP_CLOSED);
			assert_int_equal(path[1], TCP_SYN_SENT);
			assert_int_equal(path[2], TCP_ESTABLISHED);
		}
		flow_table_free(ft);
		render_destroy(r);
	}
}

/* The two renderers print a kernel-state event as documented. */
static void test_render_kernel_state(void **st)
{
	struct tl_conn_begin info;
	struct tl_event ev;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	struct render_options ro;
	struct renderer *r;
	(void)st;
	memset(&info, 0, sizeof(info));
	memset(&ev, 0, sizeof(ev));
	memset(&ro, 0, sizeof(ro));
	ev.kind = TL_EV_KERNEL_STATE;
	ev.conn = 3;
	ev.t_ns = 91000;
	ev.conn_info = &info;
	ev.u.kstate.endpoint = TL_SERVER;
	ev.u.kstate.from = TCP_SYN_RECEIVED;
	ev.u.kstate.to = TCP_ESTABLISHED;
	ev.u.kstate.kernel_from = "TCP_SYN_RECV";
	ev.u.kstate.kernel_to = "TCP_ESTABLISHED";

	f = open_memstream(&buf, &len);
	r = render_json_new(f, &ro);
	render_emit(r, &ev);
	render_finish(r);
	render_destroy(r);
	fclose(f);
	assert_string_equal(buf, "{\"event\":\"kernel-state\",\"conn\":3,\"t\":0.000091,\"endpoint\":\"server\","
				 "\"from\":\"SYN-RECEIVED\",\"to\":\"ESTABLISHED\",\"kernel\":\"TCP_ESTABLISHED\"}\n");
	free(buf);

	buf = NULL;
	f = open_memstream(&buf, &len);
	ro.show_conn = true;
	r = render_text_new(f, &ro);
	render_emit(r, &ev);
	render_finish(r);
	render_destroy(r);
	fclose(f);
	assert_non_null(strstr(buf, "server (kernel)  SYN-RECEIVED → ESTABLISHED"));
	assert_non_null(strstr(buf, "(TCP_SYN_RECV → TCP_ESTABLISHED)"));
	assert_true(strlen(buf) <= 101 + 6);   /* one line, 100 columns (UTF-8 arrows are 3 bytes) */
	free(buf);
}

/* Crossed FINs seen from the far side: a correction, then the real path. */
static void test_flow_crossed_fin_correction(void **st)
{
	struct recorder *rc;
	struct renderer *r = recorder_new(&rc);
	char eb[FLOW_ERRBUF_SIZE];
	struct flow_table *ft = flow_table_new(r, NULL, eb);
	const uint8_t A = TCP_FLAG_ACK, S = TCP_FLAG_SYN, F = TCP_FLAG_FIN;
	struct segment s[] = {
		seg_of("198.18.0.1", 40000, "198.18.0.2", 7000, S, 100, 0, 1000),
		seg_of("198.18.0.2", 7000, "198.18.0.1", 40000, S | A, 500, 101, 2000),
		seg_of("198.18.0.1", 40000, "198.18.0.2", 7000, A, 101, 501, 3000),
		/* the server's FIN, then the client's FIN that does not ACK it */
		seg_of("198.18.0.2", 7000, "198.18.0.1", 40000, F | A, 501, 101, 4000),
		seg_of("198.18.0.1", 40000, "198.18.0.2", 7000, F | A, 101, 501, 5000),
	};
	int i, found = -1;
	(void)st;
	for (i = 0; i < 5; i++)
		flow_table_feed(ft, &s[i]);
	for (i = 0; i < rc->n; i++)
		if (rc->r[i].kind == TL_EV_STATE && rc->r[i].endpoint == TL_CLIENT &&
		    rc->r[i].from == TCP_CLOSE_WAIT && rc->r[i].to == TCP_ESTABLISHED)
			found = i;
	assert_true(found > 0);
	assert_true(found + 2 < rc->n);
	assert_int_equal(rc->r[found + 1].from, TCP_ESTABLISHED);
	assert_int_equal(rc->r[found + 1].to, TCP_FIN_WAIT_1);
	assert_int_equal(rc->r[found + 2].from, TCP_FIN_WAIT_1);
	assert_int_equal(rc->r[found + 2].to, TCP_CLOSING);
	flow_table_free(ft);
	render_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc_state_map),
		cmocka_unit_test(test_kcheck_agree),
		cmocka_unit_test(test_kcheck_request_socket_reset),
		cmocka_unit_test(test_kcheck_disagree_names_both),
		cmocka_unit_test(test_kcheck_minisock),
		cmocka_unit_test(test_kcheck_minisock_orphan),
		cmocka_unit_test(test_kcheck_correction),
		cmocka_unit_test(test_kcheck_only_kernel_endpoints),
		cmocka_unit_test(test_flow_kernel_state),
		cmocka_unit_test(test_flow_simultaneous_open),
		cmocka_unit_test(test_flow_crossed_fin_correction),
		cmocka_unit_test(test_flow_simultaneous_open_reordered),
		cmocka_unit_test(test_render_kernel_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
