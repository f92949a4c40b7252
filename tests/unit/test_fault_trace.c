/*
 * test_fault_trace.c — the tracker's side of fault injection (issue 10):
 * flow_table_feed_as with FLOW_FEED_LOST (the sender's machine moves, the
 * receiver's does not, the event says lost) and FLOW_FEED_STALE (an old
 * duplicate: only the receiver's machine is fed), RFC 9293 Figure 8 traced
 * segment by segment, a lost final ACK followed by the resent FIN, and the
 * text renderer's [lost on purpose] mark.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "tcplab/flow.h"
#include "tcplab/render.h"

#define MAX_REC 64

struct rec {
	enum tl_event_kind kind;
	enum tl_role who;           /* segment: from; state: endpoint */
	enum tcp_state from, to;
	bool lost, retransmission;
	char annotation[200];
};

struct recorder {
	struct rec r[MAX_REC];
	int n;
};

static void rec_emit(struct renderer *r, const struct tl_event *ev)
{
	struct recorder *rc = r->priv;
	struct rec *x;
	if (ev->kind != TL_EV_SEGMENT && ev->kind != TL_EV_STATE)
		return;
	assert_true(rc->n < MAX_REC);
	x = &rc->r[rc->n++];
	memset(x, 0, sizeof(*x));
	x->kind = ev->kind;
	if (ev->kind == TL_EV_SEGMENT) {
		x->who = ev->u.segment.from;
		x->lost = ev->u.segment.lost;
		x->retransmission = ev->u.segment.retransmission;
		if (ev->u.segment.annotation)
			snprintf(x->annotation, sizeof(x->annotation), "%s", ev->u.segment.annotation);
		if (ev->u.segment.lost)
			assert_null(ev->u.segment.receiver_tx);
	} else {
		x->who = ev->u.state.endpoint;
		x->from = ev->u.state.from;
		x->to = ev->u.state.to;
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

static uint64_t clock_ns = 1000000000ull;

/* A segment client → server (c2s) or back, at the next microsecond. */
static struct segment seg(bool c2s, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	struct segment s;
	memset(&s, 0, sizeof(s));
	s.ts_ns = (clock_ns += 1000);
	s.src = test_addr(c2s ? "198.18.0.1" : "198.18.0.2");
	s.dst = test_addr(c2s ? "198.18.0.2" : "198.18.0.1");
	s.sport = c2s ? 40000 : 80;
	s.dport = c2s ? 80 : 40000;
	s.seq = seq;
	s.ack = ack;
	s.flags = flags;
	s.window = 1000;
	s.payload_len = len;
	s.csum_status = 1;   /* TCP_CSUM_OK */
	return s;
}

static void feed(struct flow_table *ft, bool c2s, uint8_t flags, uint32_t seq, uint32_t ack, unsigned how,
		 const char *ann)
{
	struct segment s = seg(c2s, flags, seq, ack, 0);
	flow_table_feed_as(ft, &s, how, ann);
}

/* The state events after the segment event at index i (up to the next segment). */
static int changes_after(const struct recorder *rc, int i, struct rec *out[4])
{
	int n = 0;
	for (int k = i + 1; k < rc->n && rc->r[k].kind == TL_EV_STATE && n < 4; k++)
		out[n++] = (struct rec *)&rc->r[k];
	return n;
}

static int last_segment(const struct recorder *rc)
{
	for (int i = rc->n - 1; i >= 0; i--)
		if (rc->r[i].kind == TL_EV_SEGMENT)
			return i;
	return -1;
}

#define A TCP_FLAG_ACK
#define S TCP_FLAG_SYN
#define F TCP_FLAG_FIN
#define R TCP_FLAG_RST

/* A lost SYN moves the client only; its retransmission reaches the server. */
static void test_lost_syn(void **st)
{
	struct recorder *rc;
	struct renderer *r = recorder_new(&rc);
	struct flow_options fo;
	char eb[FLOW_ERRBUF_SIZE];
	struct flow_table *ft;
	struct rec *ch[4];
	int i;
	(void)st;
	memset(&fo, 0, sizeof(fo));
	ft = flow_table_new(r, &fo, eb);
	assert_non_null(ft);

	feed(ft, true, S, 1000, 0, FLOW_FEED_LOST, NULL);
	i = last_segment(rc);
	assert_true(rc->r[i].lost);
	assert_int_equal(changes_after(rc, i, ch), 1);
	assert_int_equal(ch[0]->who, TL_CLIENT);
	assert_int_equal(ch[0]->to, TCP_SYN_SENT);

	feed(ft, true, S, 1000, 0, 0, NULL);           /* the RTO retransmission */
	i = last_segment(rc);
	assert_false(rc->r[i].lost);
	assert_true(rc->r[i].retransmission);
	feed(ft, false, S | A, 7000, 1001, 0, NULL);
	i = last_segment(rc);
	/* the server received the retransmitted SYN (shown under its SYN-ACK) */
	assert_int_equal(changes_after(rc, i, ch), 2);
	assert_int_equal(ch[0]->who, TL_SERVER);
	assert_int_equal(ch[0]->to, TCP_SYN_RECEIVED);
	assert_int_equal(ch[1]->who, TL_CLIENT);
	assert_int_equal(ch[1]->to, TCP_ESTABLISHED);
	flow_table_free(ft);
	render_destroy(r);
}

/* RFC 9293 Figure 8: held SYN (lost), old duplicate (stale), its SYN-ACK,
 * the RST that keeps the client in SYN-SENT and sends the server back to
 * LISTEN, then the real handshake. */
static void test_old_duplicate(void **st)
{
	struct recorder *rc;
	struct renderer *r = recorder_new(&rc);
	struct flow_options fo;
	char eb[FLOW_ERRBUF_SIZE];
	struct flow_table *ft;
	struct rec *ch[4];
	int i;
	(void)st;
	memset(&fo, 0, sizeof(fo));
	ft = flow_table_new(r, &fo, eb);
	assert_non_null(ft);

	feed(ft, true, S, 1000, 0, FLOW_FEED_LOST, "held");
	feed(ft, true, S, 500, 0, FLOW_FEED_STALE, "old duplicate");
	i = last_segment(rc);
	assert_string_equal(rc->r[i].annotation, "old duplicate");
	assert_false(rc->r[i].retransmission);
	assert_int_equal(changes_after(rc, i, ch), 0);   /* its sender is not this client */

	feed(ft, false, S | A, 7000, 501, 0, NULL);
	i = last_segment(rc);
	assert_int_equal(changes_after(rc, i, ch), 1);
	assert_int_equal(ch[0]->who, TL_SERVER);
	assert_int_equal(ch[0]->to, TCP_SYN_RECEIVED);
	assert_non_null(strstr(rc->r[i].annotation, "does not acknowledge our SYN"));

	feed(ft, true, R, 501, 0, 0, NULL);              /* <SEQ=SEG.ACK><CTL=RST> */
	i = last_segment(rc);
	assert_int_equal(changes_after(rc, i, ch), 1);
	assert_int_equal(ch[0]->who, TL_SERVER);
	assert_int_equal(ch[0]->from, TCP_SYN_RECEIVED);
	assert_int_equal(ch[0]->to, TCP_LISTEN);

	feed(ft, true, S, 1000, 0, 0, NULL);             /* the real SYN arrives */
	feed(ft, false, S | A, 9000, 1001, 0, NULL);
	i = last_segment(rc);
	assert_int_equal(changes_after(rc, i, ch), 2);
	assert_int_equal(ch[0]->to, TCP_SYN_RECEIVED);
	assert_int_equal(ch[1]->who, TL_CLIENT);
	assert_int_equal(ch[1]->from, TCP_SYN_SENT);
	assert_int_equal(ch[1]->to, TCP_ESTABLISHED);
	feed(ft, true, A, 1001, 9001, 0, NULL);
	i = last_segment(rc);
	assert_int_equal(changes_after(rc, i, ch), 1);
	assert_int_equal(ch[0]->to, TCP_ESTABLISHED);
	flow_table_free(ft);
	render_destroy(r);
}

/* A lost final ACK: the server stays in LAST-ACK, resends its FIN, and
 * closes on the second ACK. */
static void test_lost_final_ack(void **st)
{
	struct recorder *rc;
	struct renderer *r = recorder_new(&rc);
	struct flow_options fo;
	char eb[FLOW_ERRBUF_SIZE];
	struct flow_table *ft;
	struct rec *ch[4];
	int i;
	(void)st;
	memset(&fo, 0, sizeof(fo));
	ft = flow_table_new(r, &fo, eb);
	assert_non_null(ft);
	feed(ft, true, S, 1000, 0, 0, NULL);
	feed(ft, false, S | A, 7000, 1001, 0, NULL);
	feed(ft, true, A, 1001, 7001, 0, NULL);
	feed(ft, true, F | A, 1001, 7001, 0, NULL);
	feed(ft, false, F | A, 7001, 1002, 0, NULL);
	feed(ft, true, A, 1002, 7002, FLOW_FEED_LOST, NULL);
	i = last_segment(rc);
	assert_true(rc->r[i].lost);
	assert_int_equal(changes_after(rc, i, ch), 0);   /* the server is still in LAST-ACK */
	feed(ft, false, F | A, 7001, 1002, 0, NULL);
	i = last_segment(rc);
	assert_true(rc->r[i].retransmission);
	feed(ft, true, A, 1002, 7002, 0, NULL);
	i = last_segment(rc);
	assert_int_equal(changes_after(rc, i, ch), 1);
	assert_int_equal(ch[0]->who, TL_SERVER);
	assert_int_equal(ch[0]->from, TCP_LAST_ACK);
	assert_int_equal(ch[0]->to, TCP_CLOSED);
	flow_table_free(ft);
	render_destroy(r);
}

/* The text trace marks a lost segment, also among plain ACKs it would
 * otherwise fold into one line. */
static void test_text_mark(void **st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct render_options ro;
	struct renderer *r;
	struct flow_options fo;
	char eb[FLOW_ERRBUF_SIZE];
	struct flow_table *ft;
	(void)st;
	assert_non_null(f);
	memset(&ro, 0, sizeof(ro));
	r = render_text_new(f, &ro);
	assert_non_null(r);
	memset(&fo, 0, sizeof(fo));
	ft = flow_table_new(r, &fo, eb);
	feed(ft, true, S, 1000, 0, 0, NULL);
	feed(ft, false, S | A, 7000, 1001, 0, NULL);
	feed(ft, true, A, 1001, 7001, FLOW_FEED_LOST, NULL);
	flow_table_finish(ft);
	render_finish(r);
	flow_table_free(ft);
	render_destroy(r);
	fclose(f);
	assert_non_null(strstr(buf, "[lost on purpose]"));
	assert_null(strstr(strstr(buf, "[lost on purpose]") + 1, "[lost on purpose]"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lost_syn),
		cmocka_unit_test(test_old_duplicate),
		cmocka_unit_test(test_lost_final_ack),
		cmocka_unit_test(test_text_mark),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
