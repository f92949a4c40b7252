/*
 * test_live_facts.c — live_sender_facts (src/live.h): a live role's own
 * segments, seen on the capture, carry what its sender (tcb) said they
 * were, so the analysis takes the retransmission cause and the probe mark
 * from the sender (one source per fact, docs/json-schema.md).
 *
 * The ring of what the tcb sent is filled by hand here, as live_pump fills
 * it; the capture shows the segments in send order, less those a local
 * rule dropped before the capture point.  Checked: an original is never
 * taken for its retransmission; a retransmission is told from the dropped
 * copy of an earlier decision by its TSval; without timestamps the send
 * order decides; segments sent outside the tcb (handshake, RST) match
 * nothing and leave the ring alone; an overwritten ring still matches.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/live.h"
#include "tcplab/analysis.h"

static struct live_conn conn;

static void fact(enum tcb_kind kind, uint32_t seq, uint32_t len, bool ts, uint32_t ts_val)
{
	struct live_fact *f = &conn.facts[conn.facts_next % LIVE_FACTS];

	f->seq = seq;
	f->ack = 5001;
	f->len = len;
	f->flags = TCP_FLAG_ACK;
	f->ts = ts;
	f->ts_val = ts_val;
	f->kind = (uint8_t)(kind + 1);
	conn.facts_next++;
	if (conn.facts_next - conn.facts_seen > LIVE_FACTS)
		conn.facts_seen = conn.facts_next - LIVE_FACTS;
}

/* The capture shows seq/len (ts_val when ts); returns the segment as marked. */
static struct segment seen(uint32_t seq, uint32_t len, bool ts, uint32_t ts_val)
{
	struct segment s;

	memset(&s, 0, sizeof(s));
	s.seq = seq;
	s.ack = 5001;
	s.payload_len = len;
	s.flags = TCP_FLAG_ACK;
	s.opt.has_timestamps = ts;
	s.opt.ts_val = ts_val;
	live_sender_facts(&conn, &s);
	return s;
}

static void reset(void)
{
	memset(&conn, 0, sizeof(conn));
}

static void test_retransmission_told_by_tsval(void **state)
{
	struct segment s;

	(void)state;
	reset();
	fact(TCB_SEG_DATA, 1001, 1000, true, 100);
	fact(TCB_SEG_DATA, 2001, 1000, true, 100);
	fact(TCB_SEG_FAST_RETRANSMIT, 1001, 1000, true, 105);   /* dropped before the capture */
	fact(TCB_SEG_RTO_RETRANSMIT, 1001, 1000, true, 400);
	s = seen(1001, 1000, true, 100);
	assert_true(s.sender_known);
	assert_int_equal(s.sender_marks, 0);                   /* the original, not a retransmission */
	s = seen(2001, 1000, true, 100);
	assert_true(s.sender_known);
	assert_int_equal(s.sender_marks, 0);
	s = seen(1001, 1000, true, 400);
	assert_true(s.sender_known);
	assert_int_equal(s.sender_marks, TL_MARK_RTO_RETRANS);  /* not the dropped fast copy */
	assert_int_equal(conn.facts_seen, conn.facts_next);
}

static void test_send_order_without_timestamps(void **state)
{
	struct segment s;

	(void)state;
	reset();
	fact(TCB_SEG_DATA, 1001, 1000, false, 0);
	fact(TCB_SEG_FAST_RETRANSMIT, 1001, 1000, false, 0);
	fact(TCB_SEG_PROBE, 2001, 1, false, 0);
	/* the trace runs behind the sender: the original still comes first */
	s = seen(1001, 1000, false, 0);
	assert_int_equal(s.sender_marks, 0);
	s = seen(1001, 1000, false, 0);
	assert_int_equal(s.sender_marks, TL_MARK_FAST_RETRANS);
	/* the handshake's ACK (sent outside the tcb) matches nothing */
	s = seen(1, 0, false, 0);
	assert_false(s.sender_known);
	s = seen(2001, 1, false, 0);
	assert_true(s.sender_known);
	assert_int_equal(s.sender_marks, TL_MARK_ZERO_WINDOW_PROBE);
	/* nothing left: a repeat the tcb never sent is the wire's to judge */
	s = seen(2001, 1, false, 0);
	assert_false(s.sender_known);
}

static void test_overwritten_ring(void **state)
{
	struct segment s;

	(void)state;
	reset();
	for (uint32_t i = 0; i < LIVE_FACTS + 10; i++)
		fact(TCB_SEG_DATA, 1001 + i * 100, 100, true, 7);
	assert_int_equal(conn.facts_next - conn.facts_seen, LIVE_FACTS);
	/* the oldest ten were overwritten: they are the wire's */
	s = seen(1001, 100, true, 7);
	assert_false(s.sender_known);
	s = seen(1001 + 10 * 100, 100, true, 7);
	assert_true(s.sender_known);
	s = seen(1001 + (LIVE_FACTS + 9) * 100, 100, true, 7);
	assert_true(s.sender_known);
	assert_int_equal(conn.facts_seen, conn.facts_next);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retransmission_told_by_tsval),
		cmocka_unit_test(test_send_order_without_timestamps),
		cmocka_unit_test(test_overwritten_ring),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
