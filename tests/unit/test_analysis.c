/*
 * test_analysis.c — the analysis marks (include/tcplab/analysis.h), fed
 * crafted segment sequences one by one, and the text renderer's flight
 * collapse, fed the tracker's events through a real flow table.
 *
 * Each test builds a connection the way a capture shows it (a client A and
 * a server B, ISNs 1000 and 5000, MSS 1000) and checks the marks of every
 * segment it cares about, including the segments that must NOT be marked:
 * a mark that fires on everything would pass a test that only looks for it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcplab/analysis.h"
#include "tcplab/flow.h"
#include "tcplab/render.h"
#include "tcplab/segment.h"
#include "testlib.h"

#define MS 1000000ull
#define US 1000ull

enum { A = 0, B = 1 };

struct conv {
	struct analysis an;
	uint64_t now;
	uint32_t seq[2];     /* next sequence number of each side */
	uint32_t win[2];
	uint32_t dup;        /* dup ACK number of the last feed */
};

static struct segment mkseg(struct conv *cv, int from, uint8_t flags, uint32_t seq, uint32_t ack,
			    uint16_t win, uint32_t len)
{
	struct segment s;

	memset(&s, 0, sizeof(s));
	s.ts_ns = cv->now;
	s.src = test_addr(from == A ? "198.18.0.1" : "198.18.0.2");
	s.dst = test_addr(from == A ? "198.18.0.2" : "198.18.0.1");
	s.sport = from == A ? 40000 : 7000;
	s.dport = from == A ? 7000 : 40000;
	s.seq = seq;
	s.ack = ack;
	s.flags = flags;
	s.window = win;
	s.payload_len = len;
	return s;
}

/* Feeds one segment at now + dt; `retx` is what tcp_fsm would say. */
static unsigned feed(struct conv *cv, uint64_t dt, int from, uint8_t flags, uint32_t seq, uint32_t ack,
		     uint16_t win, uint32_t len, bool retx)
{
	struct segment s;

	cv->now += dt;
	s = mkseg(cv, from, flags, seq, ack, win, len);
	return analysis_segment(&cv->an, from, &s, retx, &cv->dup);
}

/* SYN, SYN-ACK, ACK at 100 µs RTT; A's next seq 1001, B's 5001. */
static void handshake(struct conv *cv)
{
	memset(cv, 0, sizeof(*cv));
	analysis_init(&cv->an);
	cv->now = 1000 * MS;
	assert_int_equal(feed(cv, 0, A, TCP_FLAG_SYN, 1000, 0, 64240, 0, false), 0);
	assert_int_equal(feed(cv, 100 * US, B, TCP_FLAG_SYN | TCP_FLAG_ACK, 5000, 1001, 65160, 0, false), 0);
	assert_int_equal(feed(cv, 10 * US, A, TCP_FLAG_ACK, 1001, 5001, 502, 0, false), 0);
}

static void test_no_marks_on_a_clean_exchange(void **state)
{
	struct conv cv;

	(void)state;
	handshake(&cv);
	assert_int_equal(feed(&cv, 1 * MS, A, TCP_FLAG_ACK | TCP_FLAG_PSH, 1001, 5001, 502, 100, false), 0);
	assert_int_equal(feed(&cv, 100 * US, B, TCP_FLAG_ACK, 5001, 1101, 509, 0, false), 0);
	assert_int_equal(feed(&cv, 1 * MS, B, TCP_FLAG_ACK | TCP_FLAG_PSH, 5001, 1101, 509, 50, false), 0);
	assert_int_equal(feed(&cv, 100 * US, A, TCP_FLAG_ACK, 1101, 5051, 502, 0, false), 0);

	struct tl_side_analysis st;

	analysis_side(&cv.an, A, cv.now, 100, &st);
	assert_int_equal(st.dup_acks + st.zero_windows + st.window_updates + st.retrans_other, 0);
	/* A's samples: SYN → SYN-ACK (100 µs), data → ACK (100 µs) */
	assert_int_equal(st.rtt_samples, 2);
	assert_int_equal(st.rtt_min_ns, 100 * US);
	assert_int_equal(st.rtt_max_ns, 100 * US);
	assert_true(st.flight_known);
	assert_int_equal(st.max_flight, 100);
	/* 100 bytes from the data to its ACK, 100 µs: 8 Mbit/s */
	assert_true(st.goodput_known);
	assert_int_equal(st.goodput_bps, 8000000);
	analysis_release(&cv.an);
}

/* Data 1..4000 in four segments, the second lost before the capture point:
 * B's dup ACKs are numbered, the third permits a fast retransmission. */
static void test_dup_acks_and_fast_retransmission(void **state)
{
	struct conv cv;
	unsigned m;

	(void)state;
	handshake(&cv);
	assert_int_equal(feed(&cv, 1 * MS, A, TCP_FLAG_ACK, 1001, 5001, 502, 1000, false), 0);
	/* 2001..3000 never reaches the capture: a gap */
	assert_int_equal(feed(&cv, 10 * US, A, TCP_FLAG_ACK, 3001, 5001, 502, 1000, false), 0);
	assert_int_equal(feed(&cv, 10 * US, B, TCP_FLAG_ACK, 5001, 2001, 509, 0, false), 0);
	m = feed(&cv, 10 * US, B, TCP_FLAG_ACK, 5001, 2001, 509, 0, false);
	assert_int_equal(m, TL_MARK_DUP_ACK);
	assert_int_equal(cv.dup, 1);
	assert_int_equal(feed(&cv, 10 * US, A, TCP_FLAG_ACK, 4001, 5001, 502, 1000, false), 0);
	assert_int_equal(feed(&cv, 10 * US, B, TCP_FLAG_ACK, 5001, 2001, 509, 0, false), TL_MARK_DUP_ACK);
	assert_int_equal(cv.dup, 2);
	assert_int_equal(feed(&cv, 10 * US, B, TCP_FLAG_ACK, 5001, 2001, 509, 0, false), TL_MARK_DUP_ACK);
	assert_int_equal(cv.dup, 3);
	/* the retransmission of the hole, 5 ms after the gap opened: not
	 * reordering (A answers in 10 µs... but 3 ms is the window here), fast */
	m = feed(&cv, 5 * MS, A, TCP_FLAG_ACK, 2001, 5001, 502, 1000, true);
	assert_int_equal(m, TL_MARK_FAST_RETRANS);
	/* a window change on an ACK that does not advance: window update, and
	 * the dup count is not advanced by it */
	assert_int_equal(feed(&cv, 10 * US, B, TCP_FLAG_ACK, 5001, 2001, 600, 0, false), TL_MARK_WINDOW_UPDATE);
	/* the ACK moves: no mark, the count starts over */
	assert_int_equal(feed(&cv, 10 * US, B, TCP_FLAG_ACK, 5001, 5001, 600, 0, false), 0);
	assert_int_equal(feed(&cv, 10 * US, B, TCP_FLAG_ACK, 5001, 5001, 600, 0, false), TL_MARK_DUP_ACK);
	assert_int_equal(cv.dup, 1);

	struct tl_side_analysis a, b;

	analysis_side(&cv.an, A, cv.now, 0, &a);
	analysis_side(&cv.an, B, cv.now, 0, &b);
	assert_int_equal(a.retrans_fast, 1);
	assert_int_equal(a.retrans_rto + a.retrans_other + a.retrans_spurious, 0);
	assert_int_equal(b.dup_acks, 4);
	assert_int_equal(b.window_updates, 1);
	/* a dup ACK with data, or with SYN/FIN/RST, or a changed window is not one */
	assert_int_equal(feed(&cv, 10 * US, B, TCP_FLAG_ACK, 5001, 5001, 600, 10, false), 0);
	assert_int_equal(feed(&cv, 10 * US, B, TCP_FLAG_ACK | TCP_FLAG_FIN, 5011, 5001, 600, 0, false), 0);
	analysis_release(&cv.an);
}

/* Fewer than 3 dup ACKs and soon: "other"; after 200 ms of silence: RTO;
 * payload already acknowledged: spurious. */
static void test_retransmission_causes(void **state)
{
	struct conv cv;

	(void)state;
	handshake(&cv);
	assert_int_equal(feed(&cv, 1 * MS, A, TCP_FLAG_ACK, 1001, 5001, 502, 1000, false), 0);
	/* resent 1 ms later, no dup ACK: neither fast nor RTO */
	assert_int_equal(feed(&cv, 1 * MS, A, TCP_FLAG_ACK, 1001, 5001, 502, 1000, true), 0);
	/* resent 300 ms later: the timer */
	assert_int_equal(feed(&cv, 300 * MS, A, TCP_FLAG_ACK, 1001, 5001, 502, 1000, true), TL_MARK_RTO_RETRANS);
	assert_int_equal(feed(&cv, 100 * US, B, TCP_FLAG_ACK, 5001, 2001, 509, 0, false), 0);
	/* resent after it was acknowledged at the capture point: spurious */
	assert_int_equal(feed(&cv, 400 * MS, A, TCP_FLAG_ACK, 1001, 5001, 502, 1000, true),
			 TL_MARK_RTO_RETRANS | TL_MARK_SPURIOUS);

	struct tl_side_analysis a;

	analysis_side(&cv.an, A, cv.now, 0, &a);
	assert_int_equal(a.retrans_other, 1);
	assert_int_equal(a.retrans_rto, 2);
	assert_int_equal(a.retrans_spurious, 1);
	/* Karn: the only sample is the handshake's (the data was retransmitted) */
	assert_int_equal(a.rtt_samples, 1);
	analysis_release(&cv.an);
}

/* Feeds a segment whose sender said what it was (segment.h: a live role's
 * own segments carry the tcb's account). */
static unsigned feed_said(struct conv *cv, uint64_t dt, int from, uint32_t seq, uint32_t len, bool retx,
			  unsigned said)
{
	struct segment s;

	cv->now += dt;
	s = mkseg(cv, from, TCP_FLAG_ACK, seq, 5001, 502, len);
	s.sender_known = true;
	s.sender_marks = (uint16_t)said;
	return analysis_segment(&cv->an, from, &s, retx, &cv->dup);
}

/*
 * One source per fact: on segments whose sender said why it sent them, the
 * retransmission cause and the probe mark are the sender's, never the
 * wire's guess, and the side's counters follow the marks printed; what
 * only the wire shows (the peer's dup ACKs, its zero window) stays the
 * wire's.  The same segments without the sender's account keep the wire's
 * inference (replay of the same capture).
 */
static void test_sender_account_wins(void **state)
{
	struct conv cv;
	struct tl_side_analysis a, b;

	(void)state;
	for (int said = 0; said < 2; said++) {
		handshake(&cv);
		assert_int_equal(feed(&cv, 1 * MS, A, TCP_FLAG_ACK, 1001, 5001, 502, 1000, false), 0);
		assert_int_equal(feed(&cv, 10 * US, A, TCP_FLAG_ACK, 2001, 5001, 502, 1000, false), 0);
		/* two dup ACKs only (below RFC 5681's three), then a long pause:
		 * the wire can only call the retransmission RTO; the sender
		 * (early retransmit, say) calls it fast */
		assert_int_equal(feed(&cv, 100 * US, B, TCP_FLAG_ACK, 5001, 1001, 509, 0, false), 0);
		assert_int_equal(feed(&cv, 10 * US, B, TCP_FLAG_ACK, 5001, 1001, 509, 0, false), TL_MARK_DUP_ACK);
		assert_int_equal(feed(&cv, 10 * US, B, TCP_FLAG_ACK, 5001, 1001, 509, 0, false), TL_MARK_DUP_ACK);
		assert_int_equal(cv.dup, 2);   /* the peer's dup ACKs: the wire's account */
		if (said)
			assert_int_equal(feed_said(&cv, 300 * MS, A, 1001, 1000, true, TL_MARK_FAST_RETRANS),
					 TL_MARK_FAST_RETRANS);
		else
			assert_int_equal(feed(&cv, 300 * MS, A, TCP_FLAG_ACK, 1001, 5001, 502, 1000, true),
					 TL_MARK_RTO_RETRANS);
		/* a retransmission soon after: the wire names no cause, the
		 * sender says RTO */
		if (said)
			assert_int_equal(feed_said(&cv, 1 * MS, A, 2001, 1000, true, TL_MARK_RTO_RETRANS),
					 TL_MARK_RTO_RETRANS);
		else
			assert_int_equal(feed(&cv, 1 * MS, A, TCP_FLAG_ACK, 2001, 5001, 502, 1000, true),
					 TL_MARK_RTO_RETRANS);   /* still in the RTO recovery it saw */
		/* B's window closes; A sends one new byte: the wire sees a probe,
		 * the sender says plain data (it is not probing) */
		assert_int_equal(feed(&cv, 100 * US, B, TCP_FLAG_ACK, 5001, 3001, 0, 0, false), TL_MARK_ZERO_WINDOW);
		if (said)
			assert_int_equal(feed_said(&cv, 1 * MS, A, 3001, 1, false, 0), 0);
		else
			assert_int_equal(feed(&cv, 1 * MS, A, TCP_FLAG_ACK, 3001, 5001, 502, 1, false),
					 TL_MARK_ZERO_WINDOW_PROBE);
		/* and a probe the wire would call a keep-alive is the sender's probe */
		if (said)
			assert_int_equal(feed_said(&cv, 200 * MS, A, 3001, 0, false, TL_MARK_ZERO_WINDOW_PROBE),
					 TL_MARK_ZERO_WINDOW_PROBE);
		analysis_side(&cv.an, A, cv.now, 0, &a);
		analysis_side(&cv.an, B, cv.now, 0, &b);
		assert_int_equal(a.retrans_fast, said ? 1 : 0);
		assert_int_equal(a.retrans_rto, said ? 1 : 2);
		assert_int_equal(a.retrans_other, 0);
		assert_int_equal(a.zero_window_probes, 1);
		assert_int_equal(a.keep_alives, 0);
		assert_int_equal(b.dup_acks, 2);
		assert_int_equal(b.zero_windows, 1);
		analysis_release(&cv.an);
	}
}

/* ACKs that repeat the ACK field with a changing window are window
 * updates, not dup ACKs; with SACK blocks they still count toward the fast
 * retransmit threshold (RFC 6675), without them they do not. */
static void test_sack_window_updates_count_for_fast_retransmit(void **state)
{
	struct conv cv;
	struct segment sg;

	(void)state;
	for (int sack = 0; sack < 2; sack++) {
		handshake(&cv);
		assert_int_equal(feed(&cv, 1 * MS, A, TCP_FLAG_ACK, 1001, 5001, 502, 1000, false), 0);
		assert_int_equal(feed(&cv, 10 * US, A, TCP_FLAG_ACK, 3001, 5001, 502, 1000, false), 0);
		assert_int_equal(feed(&cv, 10 * US, B, TCP_FLAG_ACK, 5001, 2001, 509, 0, false), 0);
		for (uint16_t w = 510; w < 514; w++) {
			cv.now += 10 * US;
			sg = mkseg(&cv, B, TCP_FLAG_ACK, 5001, 2001, w, 0);
			if (sack) {
				sg.opt.sack_count = 1;
				sg.opt.sack[0][0] = 3001;
				sg.opt.sack[0][1] = 4001;
			}
			assert_int_equal(analysis_segment(&cv.an, B, &sg, false, &cv.dup), TL_MARK_WINDOW_UPDATE);
		}
		assert_int_equal(feed(&cv, 5 * MS, A, TCP_FLAG_ACK, 2001, 5001, 502, 1000, true),
				 sack ? TL_MARK_FAST_RETRANS : 0);
		analysis_release(&cv.an);
	}
}

/* A gap filled sooner than the sender could have answered: out of order,
 * not a retransmission; filled later: a retransmission. */
static void test_out_of_order(void **state)
{
	struct conv cv;

	(void)state;
	handshake(&cv);
	assert_int_equal(feed(&cv, 1 * MS, A, TCP_FLAG_ACK, 2001, 5001, 502, 1000, false), 0);
	assert_int_equal(feed(&cv, 20 * US, A, TCP_FLAG_ACK, 1001, 5001, 502, 1000, true), TL_MARK_OUT_OF_ORDER);
	/* a second gap, filled 10 ms later (beyond the 3 ms window) */
	assert_int_equal(feed(&cv, 20 * US, A, TCP_FLAG_ACK, 4001, 5001, 502, 1000, false), 0);
	assert_int_equal(feed(&cv, 10 * MS, A, TCP_FLAG_ACK, 3001, 5001, 502, 1000, true), 0);

	struct tl_side_analysis a;

	analysis_side(&cv.an, A, cv.now, 0, &a);
	assert_int_equal(a.out_of_order, 1);
	assert_int_equal(a.retrans_other, 1);
	analysis_release(&cv.an);
}

/* B's window closes; A probes (Linux style, then BSD style); B opens. */
static void test_zero_window_probe_and_update(void **state)
{
	struct conv cv;

	(void)state;
	handshake(&cv);
	assert_int_equal(feed(&cv, 1 * MS, A, TCP_FLAG_ACK, 1001, 5001, 502, 1000, false), 0);
	assert_int_equal(feed(&cv, 100 * US, B, TCP_FLAG_ACK, 5001, 2001, 0, 0, false), TL_MARK_ZERO_WINDOW);
	/* Linux: no payload, one below the next sequence number */
	assert_int_equal(feed(&cv, 200 * MS, A, TCP_FLAG_ACK, 2000, 5001, 502, 0, false), TL_MARK_ZERO_WINDOW_PROBE);
	/* the answer: still zero; a zero window is never a dup ACK */
	assert_int_equal(feed(&cv, 100 * US, B, TCP_FLAG_ACK, 5001, 2001, 0, 0, false), TL_MARK_ZERO_WINDOW);
	/* Wireshark's probe: one byte at the next sequence number */
	assert_int_equal(feed(&cv, 400 * MS, A, TCP_FLAG_ACK, 2001, 5001, 502, 1, false), TL_MARK_ZERO_WINDOW_PROBE);
	/* the window opens: a window update, 600.2 ms after it closed */
	assert_int_equal(feed(&cv, 100 * US, B, TCP_FLAG_ACK, 5001, 2001, 509, 0, false), TL_MARK_WINDOW_UPDATE);
	/* one byte below the next sequence number with the window open is a
	 * keep-alive (the one-byte probe did not move it: it offered byte
	 * 2001, the next one, which B did not take) */
	assert_int_equal(feed(&cv, 10 * MS, A, TCP_FLAG_ACK, 2000, 5001, 502, 0, false), TL_MARK_KEEP_ALIVE);

	struct tl_side_analysis a, b;

	analysis_side(&cv.an, A, cv.now, 0, &a);
	analysis_side(&cv.an, B, cv.now, 0, &b);
	assert_int_equal(a.zero_window_probes, 2);
	assert_int_equal(a.keep_alives, 1);
	assert_int_equal(b.zero_windows, 2);
	assert_int_equal(b.window_updates, 1);
	assert_int_equal(b.zero_window_ns, 600200 * US);
	assert_int_equal(b.dup_acks, 0);
	analysis_release(&cv.an);
}

/* Probes repeat the same byte (tcp_fsm calls the second one a
 * retransmission) and the data after the window update starts with it: as
 * for tshark, none of them is a retransmission, and the byte counts once. */
static void test_probes_and_the_data_after_them_are_new(void **state)
{
	struct conv cv;
	struct tl_side_analysis a;

	(void)state;
	handshake(&cv);
	assert_int_equal(feed(&cv, 1 * MS, A, TCP_FLAG_ACK, 1001, 5001, 502, 1000, false), 0);
	assert_int_equal(feed(&cv, 100 * US, B, TCP_FLAG_ACK, 5001, 2001, 0, 0, false), TL_MARK_ZERO_WINDOW);
	assert_int_equal(feed(&cv, 200 * MS, A, TCP_FLAG_ACK, 2001, 5001, 502, 1, false), TL_MARK_ZERO_WINDOW_PROBE);
	assert_false(cv.an.not_retransmission);
	assert_int_equal(feed(&cv, 100 * US, B, TCP_FLAG_ACK, 5001, 2001, 0, 0, false), TL_MARK_ZERO_WINDOW);
	/* the second probe: the same byte again */
	assert_int_equal(feed(&cv, 400 * MS, A, TCP_FLAG_ACK, 2001, 5001, 502, 1, true), TL_MARK_ZERO_WINDOW_PROBE);
	assert_true(cv.an.not_retransmission);
	assert_int_equal(feed(&cv, 100 * US, B, TCP_FLAG_ACK, 5001, 2001, 0, 0, false), TL_MARK_ZERO_WINDOW);
	assert_int_equal(feed(&cv, 800 * MS, B, TCP_FLAG_ACK, 5001, 2001, 509, 0, false), TL_MARK_WINDOW_UPDATE);
	/* 1.4 s without progress, yet no RTO: new data from the probe's byte */
	assert_int_equal(feed(&cv, 100 * US, A, TCP_FLAG_ACK, 2001, 5001, 502, 1000, true), 0);
	assert_true(cv.an.not_retransmission);
	assert_int_equal(cv.an.probe_byte_taken, 0);
	/* and what follows it is plain new data */
	assert_int_equal(feed(&cv, 10 * US, A, TCP_FLAG_ACK, 3001, 5001, 502, 1000, false), 0);
	assert_false(cv.an.not_retransmission);
	analysis_side(&cv.an, A, cv.now, 0, &a);
	assert_int_equal(a.retrans_rto + a.retrans_fast + a.retrans_other, 0);
	assert_int_equal(a.zero_window_probes, 2);
	analysis_release(&cv.an);

	/* B takes the probe's byte (its window opened meanwhile): the data
	 * after starts one later, which is no gap, and the byte counts */
	handshake(&cv);
	assert_int_equal(feed(&cv, 1 * MS, A, TCP_FLAG_ACK, 1001, 5001, 502, 1000, false), 0);
	assert_int_equal(feed(&cv, 100 * US, B, TCP_FLAG_ACK, 5001, 2001, 0, 0, false), TL_MARK_ZERO_WINDOW);
	assert_int_equal(feed(&cv, 200 * MS, A, TCP_FLAG_ACK, 2001, 5001, 502, 1, false), TL_MARK_ZERO_WINDOW_PROBE);
	assert_int_equal(feed(&cv, 100 * US, B, TCP_FLAG_ACK, 5001, 2002, 509, 0, false), 0);
	assert_int_equal(feed(&cv, 10 * US, A, TCP_FLAG_ACK, 2002, 5001, 502, 1000, false), 0);
	assert_int_equal(cv.an.probe_byte_taken, 1);
	assert_false(cv.an.d[A].hole);
	assert_int_equal(cv.an.d[A].nxt, 3002);
	analysis_release(&cv.an);
}

/* A zero window still closed at the end counts until then. */
static void test_zero_window_open_at_end(void **state)
{
	struct conv cv;
	struct tl_side_analysis b;

	(void)state;
	handshake(&cv);
	assert_int_equal(feed(&cv, 1 * MS, B, TCP_FLAG_ACK, 5001, 1001, 0, 0, false), TL_MARK_ZERO_WINDOW);
	analysis_side(&cv.an, B, cv.now + 5 * MS, 0, &b);
	assert_int_equal(b.zero_window_ns, 5 * MS);
	analysis_release(&cv.an);
}

/* Goodput of data the capture never shows acknowledged: to the end. */
static void test_goodput_unacknowledged(void **state)
{
	struct conv cv;
	struct tl_side_analysis a;
	uint64_t t0;

	(void)state;
	handshake(&cv);
	assert_int_equal(feed(&cv, 1 * MS, A, TCP_FLAG_ACK, 1001, 5001, 502, 1000, false), 0);
	t0 = cv.now;
	analysis_side(&cv.an, A, t0 + 1 * MS, 1000, &a);
	assert_true(a.goodput_known);
	assert_int_equal(a.goodput_bps, 8000000);
	/* a side with no data has none */
	analysis_side(&cv.an, B, t0 + 1 * MS, 0, &a);
	assert_false(a.goodput_known);
	assert_false(a.flight_known);
	analysis_release(&cv.an);
}

static void test_mark_names_are_stable(void **state)
{
	(void)state;
	assert_string_equal(tl_mark_name(TL_MARK_DUP_ACK), "duplicate-ack");
	assert_string_equal(tl_mark_name(TL_MARK_ZERO_WINDOW), "zero-window");
	assert_string_equal(tl_mark_name(TL_MARK_ZERO_WINDOW_PROBE), "zero-window-probe");
	assert_string_equal(tl_mark_name(TL_MARK_WINDOW_UPDATE), "window-update");
	assert_string_equal(tl_mark_name(TL_MARK_OUT_OF_ORDER), "out-of-order");
	assert_string_equal(tl_mark_name(TL_MARK_FAST_RETRANS), "fast-retransmission");
	assert_string_equal(tl_mark_name(TL_MARK_RTO_RETRANS), "rto-retransmission");
	assert_string_equal(tl_mark_name(TL_MARK_SPURIOUS), "spurious-retransmission");
	assert_string_equal(tl_mark_name(TL_MARK_KEEP_ALIVE), "keep-alive");
	assert_null(tl_mark_name(1u << 20));
	assert_null(tl_mark_text(0));
}

/* ---- flight collapse, through a flow table and the text renderer ------- */

static char *run_trace(bool verbose, unsigned nseg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct render_options ro = { .verbose = verbose };
	struct renderer *r;
	struct flow_table *ft;
	char err[FLOW_ERRBUF_SIZE];
	struct conv cv;
	struct segment s;

	assert_non_null(f);
	r = render_text_new(f, &ro);
	ft = flow_table_new(r, NULL, err);
	assert_non_null(ft);
	memset(&cv, 0, sizeof(cv));
	cv.now = 1000 * MS;
	s = mkseg(&cv, A, TCP_FLAG_SYN, 1000, 0, 64240, 0);
	flow_table_feed(ft, &s);
	cv.now += 100 * US;
	s = mkseg(&cv, B, TCP_FLAG_SYN | TCP_FLAG_ACK, 5000, 1001, 65160, 0);
	flow_table_feed(ft, &s);
	cv.now += 10 * US;
	s = mkseg(&cv, A, TCP_FLAG_ACK, 1001, 5001, 502, 0);
	flow_table_feed(ft, &s);
	for (unsigned i = 0; i < nseg; i++) {
		cv.now += 10 * US;
		s = mkseg(&cv, A, TCP_FLAG_ACK, 1001 + 1000 * i, 5001, 502, 1000);
		flow_table_feed(ft, &s);
		if (i % 2 == 1) {
			s = mkseg(&cv, B, TCP_FLAG_ACK, 5001, 1001 + 1000 * (i + 1), 509, 0);
			flow_table_feed(ft, &s);
		}
	}
	cv.now += 10 * US;
	s = mkseg(&cv, A, TCP_FLAG_ACK | TCP_FLAG_FIN, 1001 + 1000 * nseg, 5001, 502, 0);
	flow_table_feed(ft, &s);
	flow_table_finish(ft);
	render_finish(r);
	flow_table_free(ft);
	render_destroy(r);
	fclose(f);
	return buf;
}

static unsigned count_lines_with(const char *text, const char *needle)
{
	unsigned n = 0;

	for (const char *p = text; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static void test_flight_collapses_in_text(void **state)
{
	char *out = run_trace(false, 20);

	(void)state;
	if (getenv("TEST_ANALYSIS_DUMP"))
		fputs(out, stderr);
	/* 20 data segments and 10 ACKs: one line */
	assert_non_null(strstr(out, "  0.000120  C → S  ×20      data seq 1..20001 (20000 bytes), 10 ACKs back up to 20001,\n"
				    "                            until 0.000310\n"));
	assert_int_equal(count_lines_with(out, "len=1000"), 0);
	/* the FIN after it is a line of its own, with its state change */
	assert_int_equal(count_lines_with(out, "FIN,ACK"), 1);
	free(out);
}

static void test_verbose_shows_every_segment(void **state)
{
	char *out = run_trace(true, 20);

	(void)state;
	assert_null(strstr(out, "×"));
	assert_int_equal(count_lines_with(out, "len=1000"), 20);
	free(out);
}

/* render_idle prints a flight the text renderer holds back, at once. */
static void test_idle_prints_the_held_flight(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct renderer *r = render_text_new(f, NULL);
	struct flow_table *ft;
	char err[FLOW_ERRBUF_SIZE];
	struct conv cv;
	struct segment s;

	(void)state;
	ft = flow_table_new(r, NULL, err);
	assert_non_null(ft);
	memset(&cv, 0, sizeof(cv));
	cv.now = 1000 * MS;
	s = mkseg(&cv, A, TCP_FLAG_SYN, 1000, 0, 64240, 0);
	flow_table_feed(ft, &s);
	cv.now += 100 * US;
	s = mkseg(&cv, B, TCP_FLAG_SYN | TCP_FLAG_ACK, 5000, 1001, 65160, 0);
	flow_table_feed(ft, &s);
	cv.now += 10 * US;
	s = mkseg(&cv, A, TCP_FLAG_ACK, 1001, 5001, 502, 0);
	flow_table_feed(ft, &s);
	for (unsigned i = 0; i < 8; i++) {
		cv.now += 10 * US;
		s = mkseg(&cv, A, TCP_FLAG_ACK, 1001 + 1000 * i, 5001, 502, 1000);
		flow_table_feed(ft, &s);
	}
	fflush(f);
	assert_null(strstr(buf, "×8"));      /* held: the flight may go on */
	render_idle(r);
	fflush(f);
	assert_non_null(strstr(buf, "×8       data seq 1..8001 (8000 bytes), until"));
	render_idle(NULL);                    /* NULL-safe */
	flow_table_finish(ft);
	render_finish(r);
	flow_table_free(ft);
	render_destroy(r);
	fclose(f);
	free(buf);
}

/* Fast recovery: duplicate ACKs #1-#3 stay on lines of their own (they
 * trigger the fast retransmit), the ones after join the flight's line,
 * counted — even when they come before any new data. */
static void test_dup_acks_after_the_third_collapse(void **state)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct renderer *r = render_text_new(f, NULL);
	struct flow_table *ft;
	char err[FLOW_ERRBUF_SIZE];
	struct conv cv;
	struct segment s;
	uint32_t seq;

	(void)state;
	ft = flow_table_new(r, NULL, err);
	assert_non_null(ft);
	memset(&cv, 0, sizeof(cv));
#define FEED(dt, from, flags, sq, ak, win, ln) \
	do { cv.now += (dt); s = mkseg(&cv, from, flags, sq, ak, win, ln); flow_table_feed(ft, &s); } while (0)
	cv.now = 1000 * MS;
	FEED(0, A, TCP_FLAG_SYN, 1000, 0, 64240, 0);
	FEED(100 * US, B, TCP_FLAG_SYN | TCP_FLAG_ACK, 5000, 1001, 65160, 0);
	FEED(10 * US, A, TCP_FLAG_ACK, 1001, 5001, 502, 0);
	for (seq = 1001; seq < 6001; seq += 1000)      /* 2001 is lost past the capture */
		FEED(10 * US, A, TCP_FLAG_ACK, seq, 5001, 502, 1000);
	FEED(100 * US, B, TCP_FLAG_ACK, 5001, 2001, 509, 0);
	for (int i = 0; i < 2; i++)                       /* dup ACKs #1, #2 */
		FEED(10 * US, B, TCP_FLAG_ACK, 5001, 2001, 509, 0);
	FEED(10 * US, A, TCP_FLAG_ACK, 6001, 5001, 502, 1000);
	FEED(10 * US, B, TCP_FLAG_ACK, 5001, 2001, 509, 0);  /* #3 */
	FEED(10 * US, A, TCP_FLAG_ACK, 2001, 5001, 502, 1000);   /* fast retransmission */
	for (int i = 0; i < 4; i++)                       /* #4..#7 before new data */
		FEED(10 * US, B, TCP_FLAG_ACK, 5001, 2001, 509, 0);
	for (seq = 7001; seq < 10001; seq += 1000) {
		FEED(10 * US, A, TCP_FLAG_ACK, seq, 5001, 502, 1000);
		FEED(10 * US, B, TCP_FLAG_ACK, 5001, 2001, 509, 0);  /* #8..#10 */
	}
	FEED(10 * US, B, TCP_FLAG_ACK, 5001, 10001, 509, 0);     /* the cumulative ACK */
	FEED(10 * US, A, TCP_FLAG_ACK | TCP_FLAG_FIN, 10001, 5001, 502, 0);
#undef FEED
	flow_table_finish(ft);
	render_finish(r);
	flow_table_free(ft);
	render_destroy(r);
	fclose(f);
	if (getenv("TEST_ANALYSIS_DUMP"))
		fputs(buf, stderr);
	assert_int_equal(count_lines_with(buf, "[dup ACK #"), 3);
	assert_int_equal(count_lines_with(buf, "[fast retransmission]"), 1);
	/* one line: the duplicates before new data, the data, the rest; the
	 * cumulative ACK that ends the recovery on a line of its own */
	assert_non_null(strstr(buf, "×3       data seq 6001..9001 (3000 bytes), 7 dup ACKs #4–#10 of 1001,"));
	assert_null(strstr(buf, "[dup ACK #4]"));
	assert_non_null(strstr(buf, "C ← S  ACK      seq=5001 (1)           ack=10001 (9001)"));
	free(buf);
}

static void test_short_flight_is_not_collapsed(void **state)
{
	/* 3 data segments + 1 ACK = 4: printed as they are */
	char *out = run_trace(false, 3);

	(void)state;
	assert_null(strstr(out, "×"));
	assert_int_equal(count_lines_with(out, "len=1000"), 3);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_marks_on_a_clean_exchange),
		cmocka_unit_test(test_dup_acks_and_fast_retransmission),
		cmocka_unit_test(test_retransmission_causes),
		cmocka_unit_test(test_sender_account_wins),
		cmocka_unit_test(test_sack_window_updates_count_for_fast_retransmit),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_zero_window_probe_and_update),
		cmocka_unit_test(test_probes_and_the_data_after_them_are_new),
		cmocka_unit_test(test_zero_window_open_at_end),
		cmocka_unit_test(test_goodput_unacknowledged),
		cmocka_unit_test(test_mark_names_are_stable),
		cmocka_unit_test(test_flight_collapses_in_text),
		cmocka_unit_test(test_dup_acks_after_the_third_collapse),
		cmocka_unit_test(test_verbose_shows_every_segment),
		cmocka_unit_test(test_short_flight_is_not_collapsed),
		cmocka_unit_test(test_idle_prints_the_held_flight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
