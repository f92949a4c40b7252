/*
 * test_realcap.c — unit tests for what issue 13 added above the decoder:
 * how the renderers show tunnels, named options, cut options, ECN setup and
 * TFO data, and the tracker's one-direction inference (flow.c), event by
 * event.
 *
 * Renderers write into an open_memstream buffer; the tracker is fed
 * hand-made segments and its events are recorded by a renderer of the
 * test's own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcplab/decode.h"
#include "tcplab/flow.h"
#include "tcplab/render.h"

/* ---- renderers ------------------------------------------------------------- */

struct out {
	char *buf;
	size_t len;
	FILE *f;
	struct renderer *r;
};

static void out_open(struct out *o, bool json)
{
	struct render_options ro = { .show_conn = false };

	memset(o, 0, sizeof(*o));
	o->f = open_memstream(&o->buf, &o->len);
	assert_non_null(o->f);
	o->r = json ? render_json_new(o->f, &ro) : render_text_new(o->f, &ro);
	assert_non_null(o->r);
}

static void out_close(struct out *o)
{
	render_finish(o->r);
	render_destroy(o->r);
	fclose(o->f);
}

static struct tl_conn_begin conn_info(void)
{
	struct tl_conn_begin c;

	memset(&c, 0, sizeof(c));
	c.client_addr.family = c.server_addr.family = 4;
	memcpy(c.client_addr.bytes, (const uint8_t[]){ 198, 19, 0, 1 }, 4);
	memcpy(c.server_addr.bytes, (const uint8_t[]){ 198, 19, 0, 2 }, 4);
	c.client_port = 40000;
	c.server_port = 7000;
	return c;
}

static void emit_begin(struct renderer *r, const struct tl_conn_begin *c)
{
	struct tl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_EV_CONN_BEGIN;
	ev.conn = 1;
	ev.conn_info = c;
	ev.u.begin = *c;
	render_emit(r, &ev);
}

static void emit_seg(struct renderer *r, const struct tl_conn_begin *c, const struct segment *s)
{
	struct tl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = TL_EV_SEGMENT;
	ev.conn = 1;
	ev.conn_info = c;
	ev.u.segment.from = TL_CLIENT;
	ev.u.segment.seg = s;
	render_emit(r, &ev);
}

static void test_tunnel_on_the_connection_line(void **state)
{
	struct tl_conn_begin c = conn_info();
	struct out o;

	(void)state;
	/* none: the line is as before, no "tunnel" key */
	out_open(&o, false);
	emit_begin(o.r, &c);
	out_close(&o);
	assert_null(strstr(o.buf, "tunnel"));
	free(o.buf);
	out_open(&o, true);
	emit_begin(o.r, &c);
	out_close(&o);
	assert_null(strstr(o.buf, "tunnel"));
	free(o.buf);

	c.encap_count = 3;
	c.encap[0] = ENCAP_GRE;
	c.encap[1] = ENCAP_ERSPAN2;
	c.encap[2] = ENCAP_VLAN;
	out_open(&o, false);
	emit_begin(o.r, &c);
	out_close(&o);
	assert_non_null(strstr(o.buf, "conn 1: client 198.19.0.1:40000 → server 198.19.0.2:7000  "
				      "(tunnel: GRE/ERSPAN II/802.1Q)\n"));
	free(o.buf);
	out_open(&o, true);
	emit_begin(o.r, &c);
	out_close(&o);
	assert_non_null(strstr(o.buf, ",\"tunnel\":[\"GRE\",\"ERSPAN II\",\"802.1Q\"]}\n"));
	free(o.buf);
	/* a count past the array never reads past it */
	c.encap_count = 200;
	out_open(&o, true);
	emit_begin(o.r, &c);
	out_close(&o);
	free(o.buf);
}

static void test_named_options_rendered(void **state)
{
	struct tl_conn_begin c = conn_info();
	struct segment s;
	struct out o;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.flags = TCP_FLAG_SYN | TCP_FLAG_ECE | TCP_FLAG_CWR;
	s.payload_len = 9;
	s.payload_captured = 9;
	s.payload = (const uint8_t *)"hello TFO";
	s.opt.has_mss = true;
	s.opt.mss = 1460;
	s.opt.has_tfo = true;
	s.opt.tfo_cookie_len = 4;
	memcpy(s.opt.tfo_cookie, (const uint8_t[]){ 0xde, 0xad, 0xbe, 0xef }, 4);
	s.opt.has_mptcp = true;
	s.opt.mptcp_subtype = 1;
	s.opt.has_tcp_ao = true;
	s.opt.ao_keyid = 3;
	s.opt.ao_rnextkeyid = 4;
	s.opt.has_md5 = true;
	s.opt.truncated = true;
	out_open(&o, false);
	emit_seg(o.r, &c, &s);
	out_close(&o);
	assert_non_null(strstr(o.buf, "[mss 1460,tfo cookie deadbeef,mptcp MP_JOIN,tcp-ao keyid 3 rnextkeyid 4,"
				      "md5,cut by the capture]"));
	assert_non_null(strstr(o.buf, "(ECN setup)"));
	assert_non_null(strstr(o.buf, "(TCP Fast Open: SYN data)"));
	free(o.buf);
	out_open(&o, true);
	emit_seg(o.r, &c, &s);
	out_close(&o);
	assert_non_null(strstr(o.buf, "\"options\":{\"mss\":1460,\"tfo_cookie\":\"deadbeef\",\"mptcp\":\"MP_JOIN\","
				      "\"tcp_ao\":{\"keyid\":3,\"rnextkeyid\":4},\"md5\":true,\"truncated\":true}"));
	assert_non_null(strstr(o.buf, ",\"ecn_setup\":true,\"tfo_data\":true}\n"));
	free(o.buf);

	/* a cookie request; no ECN setup on a SYN-ACK with CWR; the options
	 * alone make the bracket appear */
	memset(&s, 0, sizeof(s));
	s.flags = TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_ECE | TCP_FLAG_CWR;
	s.opt.has_tfo = true;
	out_open(&o, false);
	emit_seg(o.r, &c, &s);
	out_close(&o);
	assert_non_null(strstr(o.buf, "[tfo cookiereq]"));
	assert_null(strstr(o.buf, "ECN setup"));
	assert_null(strstr(o.buf, "Fast Open"));
	free(o.buf);
	out_open(&o, true);
	emit_seg(o.r, &c, &s);
	out_close(&o);
	assert_non_null(strstr(o.buf, "\"options\":{\"tfo_cookie\":\"\"}"));
	assert_null(strstr(o.buf, "ecn_setup"));
	free(o.buf);
	/* malformed and cut together */
	memset(&s, 0, sizeof(s));
	s.flags = TCP_FLAG_ACK;
	s.opt.malformed = true;
	s.opt.truncated = true;
	out_open(&o, false);
	emit_seg(o.r, &c, &s);
	out_close(&o);
	assert_non_null(strstr(o.buf, "[malformed,cut by the capture]"));
	free(o.buf);
}

/* ---- the tracker: one direction only --------------------------------------- */

#define MAX_EV 64

struct rec {
	int n;
	enum tl_event_kind kind[MAX_EV];
	enum tl_role from[MAX_EV];
	uint8_t flags[MAX_EV];
	uint32_t seq[MAX_EV], len[MAX_EV];
	bool inferred[MAX_EV];
	enum tl_role endpoint[MAX_EV];
	enum tcp_state to[MAX_EV];
	char text[MAX_EV][200];
	struct tl_summary sum;
	bool have_sum;
};

static void rec_emit(struct renderer *r, const struct tl_event *ev)
{
	struct rec *rc = r->priv;
	int i = rc->n;

	if (ev->kind == TL_EV_SUMMARY) {
		rc->sum = ev->u.summary;
		snprintf(rc->text[MAX_EV - 1], sizeof(rc->text[0]), "%s", ev->u.summary.ended_how);
		rc->have_sum = true;
		return;
	}
	assert_true(i < MAX_EV - 1);
	rc->kind[i] = ev->kind;
	if (ev->kind == TL_EV_SEGMENT) {
		const char *a = ev->u.segment.annotation;

		rc->from[i] = ev->u.segment.from;
		rc->flags[i] = ev->u.segment.seg->flags;
		rc->seq[i] = ev->u.segment.seg->seq;
		rc->len[i] = ev->u.segment.seg->payload_len;
		rc->inferred[i] = a != NULL && strncmp(a, "inferred", 8) == 0;
	} else if (ev->kind == TL_EV_STATE) {
		rc->endpoint[i] = ev->u.state.endpoint;
		rc->to[i] = ev->u.state.to;
	} else if (ev->kind == TL_EV_NOTE) {
		snprintf(rc->text[i], sizeof(rc->text[0]), "%s", ev->u.note);
	}
	rc->n++;
}

static void rec_noop(struct renderer *r)
{
	(void)r;
}

struct tracker {
	struct rec rec;
	struct renderer r;
	struct flow_table *ft;
	uint64_t t;
};

static void tracker_open(struct tracker *k)
{
	char err[FLOW_ERRBUF_SIZE];
	struct flow_options fo = { 0 };

	memset(k, 0, sizeof(*k));
	k->r.emit = rec_emit;
	k->r.finish = rec_noop;
	k->r.destroy = rec_noop;
	k->r.priv = &k->rec;
	k->ft = flow_table_new(&k->r, &fo, err);
	assert_non_null(k->ft);
	k->t = 1000000000ull;
}

#define C_ISN 1000u
#define S_ISN 5000u

/* Feeds one segment: client → server when from_client, else the reverse. */
static void feed(struct tracker *k, bool from_client, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	struct segment s;

	memset(&s, 0, sizeof(s));
	s.src.family = s.dst.family = 4;
	memcpy(s.src.bytes, from_client ? (const uint8_t[]){ 198, 18, 0, 1 } : (const uint8_t[]){ 198, 18, 0, 2 }, 4);
	memcpy(s.dst.bytes, from_client ? (const uint8_t[]){ 198, 18, 0, 2 } : (const uint8_t[]){ 198, 18, 0, 1 }, 4);
	s.sport = from_client ? 40000 : 7000;
	s.dport = from_client ? 7000 : 40000;
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.window = 100;
	s.payload_len = len;
	k->t += 1000;
	s.ts_ns = k->t;
	(void)flow_table_feed(k->ft, &s);
}

static void tracker_close(struct tracker *k)
{
	flow_table_finish(k->ft);
	flow_table_free(k->ft);
}

static int count_kind(const struct rec *r, enum tl_event_kind kind, bool inferred_only)
{
	int n = 0;

	for (int i = 0; i < r->n; i++)
		if (r->kind[i] == kind && (!inferred_only || r->inferred[i]))
			n++;
	return n;
}

static bool reached(const struct rec *r, enum tl_role who, enum tcp_state st)
{
	for (int i = 0; i < r->n; i++)
		if (r->kind[i] == TL_EV_STATE && r->endpoint[i] == who && r->to[i] == st)
			return true;
	return false;
}

static void test_oneway_client_side(void **state)
{
	struct tracker k;

	(void)state;
	tracker_open(&k);
	feed(&k, true, TCP_FLAG_SYN, C_ISN, 0, 0);
	feed(&k, true, TCP_FLAG_ACK, C_ISN + 1, S_ISN + 1, 0);           /* reveals the SYN-ACK */
	feed(&k, true, TCP_FLAG_ACK | TCP_FLAG_PSH, C_ISN + 1, S_ISN + 1, 5);
	feed(&k, true, TCP_FLAG_ACK, C_ISN + 6, S_ISN + 1 + 300, 0);     /* reveals 300 bytes */
	tracker_close(&k);

	/* one note, said once; the SYN-ACK and the 300 bytes inferred */
	assert_int_equal(count_kind(&k.rec, TL_EV_NOTE, false), 1);
	for (int i = 0; i < k.rec.n; i++)
		if (k.rec.kind[i] == TL_EV_NOTE)
			assert_non_null(strstr(k.rec.text[i], "one direction only"));
	assert_int_equal(count_kind(&k.rec, TL_EV_SEGMENT, true), 2);
	for (int i = 0, m = 0; i < k.rec.n; i++) {
		if (k.rec.kind[i] != TL_EV_SEGMENT || !k.rec.inferred[i])
			continue;
		assert_int_equal(k.rec.from[i], TL_SERVER);
		if (m++ == 0) {
			assert_int_equal(k.rec.flags[i], TCP_FLAG_SYN | TCP_FLAG_ACK);
			assert_int_equal(k.rec.seq[i], S_ISN);
		} else {
			assert_int_equal(k.rec.seq[i], S_ISN + 1);
			assert_int_equal(k.rec.len[i], 300);
		}
	}
	/* both endpoints reach ESTABLISHED as they really did */
	assert_true(reached(&k.rec, TL_SERVER, TCP_SYN_RECEIVED));
	assert_true(reached(&k.rec, TL_SERVER, TCP_ESTABLISHED));
	assert_true(reached(&k.rec, TL_CLIENT, TCP_ESTABLISHED));
	/* the summary: said, no times measured against inferred segments, the
	 * server's segments are those in the capture (none), its bytes inferred */
	assert_true(k.rec.have_sum);
	assert_non_null(strstr(k.rec.text[MAX_EV - 1], "one direction only"));
	assert_false(k.rec.sum.rtt_known);
	assert_false(k.rec.sum.reaction_known);
	assert_int_equal(k.rec.sum.side[TL_SERVER].segments, 0);
	assert_int_equal(k.rec.sum.side[TL_SERVER].bytes, 300);
	assert_int_equal(k.rec.sum.side[TL_CLIENT].segments, 4);
}

static void test_oneway_server_side(void **state)
{
	struct tracker k;

	(void)state;
	tracker_open(&k);
	feed(&k, false, TCP_FLAG_SYN | TCP_FLAG_ACK, S_ISN, C_ISN + 1, 0);
	feed(&k, false, TCP_FLAG_ACK, S_ISN + 1, C_ISN + 1 + 5, 0);      /* reveals the ACK and 5 bytes */
	feed(&k, false, TCP_FLAG_ACK | TCP_FLAG_PSH, S_ISN + 1, C_ISN + 6, 5);
	tracker_close(&k);
	assert_int_equal(count_kind(&k.rec, TL_EV_NOTE, false), 1);
	assert_int_equal(count_kind(&k.rec, TL_EV_SEGMENT, true), 2);
	for (int i = 0, m = 0; i < k.rec.n; i++) {
		if (k.rec.kind[i] != TL_EV_SEGMENT || !k.rec.inferred[i])
			continue;
		assert_int_equal(k.rec.from[i], TL_CLIENT);
		assert_int_equal(k.rec.seq[i], C_ISN + 1);
		assert_int_equal(k.rec.len[i], m++ == 0 ? 0 : 5);
	}
	assert_true(reached(&k.rec, TL_SERVER, TCP_ESTABLISHED));
	assert_int_equal(k.rec.sum.side[TL_CLIENT].segments, 0);
	assert_int_equal(k.rec.sum.side[TL_CLIENT].bytes, 5);
}

static void test_two_directions_infer_nothing(void **state)
{
	struct tracker k;

	(void)state;
	tracker_open(&k);
	feed(&k, true, TCP_FLAG_SYN, C_ISN, 0, 0);
	feed(&k, false, TCP_FLAG_SYN | TCP_FLAG_ACK, S_ISN, C_ISN + 1, 0);
	feed(&k, true, TCP_FLAG_ACK, C_ISN + 1, S_ISN + 1, 0);
	feed(&k, true, TCP_FLAG_ACK, C_ISN + 1, S_ISN + 1 + 100, 0);     /* a gap: the capture lost data */
	feed(&k, true, TCP_FLAG_FIN | TCP_FLAG_ACK, C_ISN + 1, S_ISN + 101, 0);
	feed(&k, false, TCP_FLAG_FIN | TCP_FLAG_ACK, S_ISN + 101, C_ISN + 2, 0);
	feed(&k, true, TCP_FLAG_ACK, C_ISN + 2, S_ISN + 102, 0);
	tracker_close(&k);
	assert_int_equal(count_kind(&k.rec, TL_EV_NOTE, false), 0);
	assert_int_equal(count_kind(&k.rec, TL_EV_SEGMENT, true), 0);
	assert_null(strstr(k.rec.text[MAX_EV - 1], "one direction"));
}

static void test_other_side_appears_late(void **state)
{
	struct tracker k;

	(void)state;
	/* the capture started on one side and the other appears later: the
	 * inference stops when it does, and the summary does not claim one
	 * direction */
	tracker_open(&k);
	feed(&k, true, TCP_FLAG_SYN, C_ISN, 0, 0);
	feed(&k, true, TCP_FLAG_ACK, C_ISN + 1, S_ISN + 1, 0);
	feed(&k, false, TCP_FLAG_ACK | TCP_FLAG_PSH, S_ISN + 1, C_ISN + 1, 10);
	feed(&k, true, TCP_FLAG_ACK, C_ISN + 1, S_ISN + 11 + 50, 0);
	tracker_close(&k);
	assert_int_equal(count_kind(&k.rec, TL_EV_SEGMENT, true), 1);   /* the SYN-ACK only */
	assert_null(strstr(k.rec.text[MAX_EV - 1], "one direction"));
}

static void test_oneway_midstream(void **state)
{
	struct tracker k;

	(void)state;
	/* joined mid-stream, one side only: its acknowledgments still reveal bytes */
	tracker_open(&k);
	feed(&k, true, TCP_FLAG_ACK | TCP_FLAG_PSH, C_ISN + 1, S_ISN + 1, 10);
	feed(&k, true, TCP_FLAG_ACK, C_ISN + 11, S_ISN + 1 + 40, 0);
	tracker_close(&k);
	assert_int_equal(count_kind(&k.rec, TL_EV_NOTE, false), 1);
	assert_int_equal(count_kind(&k.rec, TL_EV_SEGMENT, true), 1);
	assert_int_equal(k.rec.sum.side[TL_SERVER].bytes, 40);
	assert_non_null(strstr(k.rec.text[MAX_EV - 1], "one direction only"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tunnel_on_the_connection_line),
		cmocka_unit_test(test_named_options_rendered),
		cmocka_unit_test(test_oneway_client_side),
		cmocka_unit_test(test_oneway_server_side),
		cmocka_unit_test(test_two_directions_infer_nothing),
		cmocka_unit_test(test_other_side_appears_late),
		cmocka_unit_test(test_oneway_midstream),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
