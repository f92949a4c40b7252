/*
 * test_tcb.c — the driven endpoint (include/tcplab/tcb.h), event by event,
 * without I/O: segments the peer sends are fed with tcb_input, what the
 * endpoint sends comes out of tcb_output and is fed back with tcb_sent, as
 * a live role does.  Time is a variable the tests move.
 *
 * Covered: segmentation (effective MSS with and without timestamps, PSH on
 * the last segment of each write, writes never merged into one segment),
 * the peer's window and cwnd limits, sender SWS avoidance, slow start and
 * congestion avoidance, RFC 6298 RTT estimation and Karn's rule, RTO with
 * back-off and go-back, giving up after the retries, fast retransmit on the
 * third duplicate ACK and NewReno partial/full ACKs, persist probes with
 * back-off and the window update that ends them, out-of-order data held and
 * answered with SACK blocks then delivered in order, a FIN beyond a hole,
 * the honest receive window, the FIN after the data, the bounded send queue,
 * limited transmit, the go-back after an RTO skipping SACKed data, data on
 * the handshake's third segment with window scaling, a probe the receiver
 * accepts, sequence numbers wrapping past 2^32.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcplab/tcb.h"

#define MS 1000000ull
#define ISS 1000u
#define IRS 500000u

static uint64_t now;

static struct segment mkseg(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win, uint32_t len)
{
	struct segment s;
	memset(&s, 0, sizeof(s));
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.window = win;
	s.payload_len = len;
	return s;
}

/* Feeds a segment from the peer. */
static struct tcb_input_result rx(struct tcb *t, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
				  const uint8_t *payload, uint32_t len)
{
	struct tcb_input_result res;
	struct segment s = mkseg(flags, seq, ack, win, len);
	s.payload = payload;
	s.payload_captured = payload ? len : 0;
	assert_int_equal(tcb_input(t, &s, now, &res), 0);
	return res;
}

/* An ACK from the peer (window in bytes, no scaling in these tests). */
static void ack(struct tcb *t, uint32_t a, uint16_t win)
{
	rx(t, TCP_FLAG_ACK, IRS + 1, a, win, NULL, 0);
}

/* Takes the next segment tcb_output produces and books it as sent. */
static bool out(struct tcb *t, struct tcb_segment *o)
{
	struct segment s;
	if (!tcb_output(t, now, o))
		return false;
	s = mkseg(o->flags, o->seq, o->ack, o->window, o->len);
	tcb_sent(t, &s);
	return true;
}

/* Drains every segment due now; returns how many, records up to max. */
static unsigned drain(struct tcb *t, struct tcb_segment *o, unsigned max)
{
	struct tcb_segment tmp;
	unsigned n = 0;
	while (out(t, n < max ? &o[n] : &tmp))
		n++;
	return n;
}

/* A client that completed the handshake: peer MSS, window, options. */
static void client(struct tcb *t, const struct tcb_config *cfg, uint16_t peer_mss, uint16_t win, bool ts,
		   bool sack)
{
	struct segment s;
	struct tcb_input_result res;

	now = 1000 * MS;
	tcb_init(t, cfg, TCP_CLOSED);
	tcp_fsm_call(&t->fsm, TCP_CALL_OPEN_ACTIVE);
	s = mkseg(TCP_FLAG_SYN, ISS, 0, 64240, 0);
	tcb_sent(t, &s);
	tcb_set_peer(t, peer_mss, ts, sack, 0, 0, 0);
	res = rx(t, TCP_FLAG_SYN | TCP_FLAG_ACK, IRS, ISS + 1, win, NULL, 0);
	assert_int_equal(res.tr.to, TCP_ESTABLISHED);
	assert_true(t->ack_pending);
	s = mkseg(TCP_FLAG_ACK, ISS + 1, IRS + 1, tcb_window_field(t), 0);
	tcb_sent(t, &s);
	assert_false(t->ack_pending);
	assert_true(t->open);
	/* the initial window is set on first use (after the handshake's ACK) */
	assert_int_equal(t->cwnd, 0);
	struct tcb_segment none;
	assert_false(tcb_output(t, now, &none));
	assert_true(t->cwnd > 0);
}

static uint8_t *pattern(size_t n)
{
	uint8_t *b = malloc(n);
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)(i * 7 + i / 251);
	return b;
}

static struct tcb_config cfg0(void)
{
	struct tcb_config c;
	memset(&c, 0, sizeof(c));
	c.mss_cap = 1460;
	c.retries = 3;
	return c;
}

/* ---------------------------------------------------------------- tests */

static void test_segmentation_psh_and_mss(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_segment o[16];
	uint8_t *d = pattern(5000);
	(void)state;

	client(&t, &c, 1460, 65535, false, false);
	assert_int_equal(t.mss, 1460);
	assert_int_equal(t.cwnd, 14600); /* RFC 6928: min(10*MSS, max(2*MSS, 14600)) */
	assert_int_equal(tcb_write(&t, d, 3000, true), 3000);
	assert_int_equal(tcb_write(&t, d + 3000, 2000, true), 2000);
	assert_int_equal(drain(&t, o, 16), 5);
	/* first write: 1460 + 1460 + 80 (PSH); second: 1460 + 540 (PSH) */
	assert_int_equal(o[0].len, 1460);
	assert_int_equal(o[0].seq, ISS + 1);
	assert_false(o[0].flags & TCP_FLAG_PSH);
	assert_int_equal(o[1].len, 1460);
	assert_int_equal(o[2].len, 80);
	assert_true(o[2].flags & TCP_FLAG_PSH);
	assert_int_equal(o[3].seq, ISS + 1 + 3000);
	assert_int_equal(o[3].len, 1460);
	assert_false(o[3].flags & TCP_FLAG_PSH);
	assert_int_equal(o[4].len, 540);
	assert_true(o[4].flags & TCP_FLAG_PSH);
	assert_memory_equal(o[3].payload, d + 3000, 1460);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(o[i].kind, TCB_SEG_DATA);
		assert_true(o[i].flags & TCP_FLAG_ACK);
		assert_int_equal(o[i].ack, IRS + 1);
	}
	tcb_free(&t);

	/* timestamps take 12 bytes of every segment (RFC 6691); the route's
	 * cap wins over a larger peer MSS */
	c.mss_cap = 1400;
	client(&t, &c, 1460, 65535, true, false);
	assert_int_equal(t.mss, 1388);
	tcb_free(&t);
	c.mss_cap = 9000;
	client(&t, &c, 1460, 65535, true, false);
	assert_int_equal(t.mss, 1448);
	tcb_free(&t);
	/* no MSS option: 536 (RFC 9293 §3.7.1) */
	client(&t, &c, 0, 65535, false, false);
	assert_int_equal(t.mss, 536);
	tcb_free(&t);
	free(d);
}

static void test_peer_window_and_sws(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_segment o[16];
	uint8_t *d = pattern(10000);
	(void)state;

	client(&t, &c, 1460, 3000, false, false);
	assert_int_equal(t.snd_wnd, 3000);
	tcb_write(&t, d, 10000, true);
	/* 2 full segments fit; the 80 bytes left of the window wait (SWS) */
	assert_int_equal(drain(&t, o, 16), 2);
	assert_int_equal(t.snd_nxt - t.snd_una, 2920);
	/* one segment acknowledged, window 3000 again: right edge moves 1460 */
	ack(&t, ISS + 1 + 1460, 3000);
	assert_int_equal(drain(&t, o, 16), 1);
	assert_int_equal(o[0].seq, ISS + 1 + 2920);
	assert_int_equal(o[0].len, 1460);
	/* everything acknowledged, window 100: nothing in flight, so a short
	 * segment of the whole window goes */
	ack(&t, ISS + 1 + 4380, 100);
	assert_int_equal(drain(&t, o, 16), 1);
	assert_int_equal(o[0].len, 100);
	tcb_free(&t);
	free(d);
}

static void test_slow_start_and_congestion_avoidance(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_segment o[64];
	struct tcb_event ev;
	uint8_t *d = pattern(200000);
	uint32_t una = ISS + 1;
	(void)state;

	c.iw = 2; /* --iw 2 */
	client(&t, &c, 1000, 65535, false, false);
	assert_int_equal(t.cwnd, 2000);
	assert_true(tcb_next_event(&t, &ev));
	assert_int_equal(ev.kind, TCB_EV_CWND);
	assert_int_equal(ev.cwnd, 2000);
	assert_string_equal(ev.reason, "initial window");
	tcb_write(&t, d, 200000, true);
	assert_int_equal(drain(&t, o, 64), 2);
	/* slow start: each ACK of a full segment adds one MSS */
	una += 1000;
	ack(&t, una, 65535);
	assert_int_equal(t.cwnd, 3000);
	una += 1000;
	ack(&t, una, 65535);
	assert_int_equal(t.cwnd, 4000);
	assert_true(tcb_next_event(&t, &ev));
	assert_int_equal(ev.kind, TCB_EV_CWND);
	assert_string_equal(ev.reason, "slow start");
	assert_int_equal(drain(&t, o, 64), 4);
	/* an ACK of two segments at once still adds one MSS (L = 1 SMSS) */
	una += 2000;
	ack(&t, una, 65535);
	assert_int_equal(t.cwnd, 5000);
	/* congestion avoidance: ssthresh reached, about MSS*MSS/cwnd an ACK */
	t.ssthresh = 5000;
	drain(&t, o, 64);
	una += 1000;
	ack(&t, una, 65535);
	assert_int_equal(t.cwnd, 5000 + 200);
	una += 1000;
	ack(&t, una, 65535);
	assert_int_equal(t.cwnd, 5200 + 1000000 / 5200);
	assert_string_equal(t.phase, "congestion avoidance");
	tcb_free(&t);
	free(d);
}

/* cwnd grows only when the sender used it (RFC 7661 §4.3, as Linux): a
 * flight held to one segment by the peer's small window leaves cwnd (and
 * the trace) alone, ACK after ACK; once the window opens and the flight
 * fills cwnd, slow start resumes. */
static void test_no_growth_when_not_cwnd_limited(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_segment o[64];
	struct tcb_event ev;
	uint8_t *d = pattern(100000);
	uint32_t una = ISS + 1, cw;
	(void)state;

	client(&t, &c, 1000, 1000, false, false);   /* the peer takes one segment at a time */
	cw = t.cwnd;
	assert_true(cw >= 4000);
	while (tcb_next_event(&t, &ev))
		;
	tcb_write(&t, d, 100000, true);
	for (int i = 0; i < 10; i++) {
		assert_int_equal(drain(&t, o, 64), 1);
		now += 1 * MS;
		una += 1000;
		ack(&t, una, 1000);
		assert_int_equal(t.cwnd, cw);
	}
	assert_false(tcb_next_event(&t, &ev));   /* no cwnd line per ACK */
	/* the window opens: the flight fills cwnd, and each ACK grows it */
	ack(&t, una, 65535);
	assert_int_equal(drain(&t, o, 64), cw / 1000);
	now += 1 * MS;
	una += 1000;
	ack(&t, una, 65535);
	assert_int_equal(t.cwnd, cw + 1000);
	una += 1000;
	ack(&t, una, 65535);
	assert_int_equal(t.cwnd, cw + 2000);   /* the window's peak still counts */
	tcb_free(&t);
	free(d);
}

static void test_rtt_estimation_and_karn(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_segment o[16];
	uint8_t *d = pattern(2000000);
	(void)state;

	client(&t, &c, 1000, 65535, false, false);
	assert_int_equal(t.rto, 1000 * MS); /* RFC 6298 §2.1 */
	tcb_write(&t, d, 2000000, true);
	drain(&t, o, 16);
	now += 100 * MS;
	ack(&t, ISS + 1 + 10000, 65535);
	/* first sample R: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR */
	assert_int_equal(t.srtt, 100 * MS);
	assert_int_equal(t.rttvar, 50 * MS);
	assert_int_equal(t.rto, 300 * MS);
	drain(&t, o, 16);
	now += 200 * MS;
	ack(&t, t.snd_nxt, 65535);
	/* RTTVAR = 3/4 50 + 1/4 |100 - 200| = 62.5; SRTT = 7/8 100 + 1/8 200 = 112.5 */
	assert_int_equal(t.rttvar, 62500000);
	assert_int_equal(t.srtt, 112500000);
	assert_int_equal(t.rto, 112500000 + 4 * 62500000);
	assert_int_equal(t.st.rtt_samples, 2);
	/* a small RTT is bounded below by rto_min (200 ms by default) */
	drain(&t, o, 16);
	for (int i = 0; i < 30; i++) {
		now += 1 * MS;
		ack(&t, t.snd_nxt, 65535);
		drain(&t, o, 16);
	}
	assert_int_equal(t.rto, 200 * MS);
	/* Karn: an ACK after a retransmission gives no sample */
	uint64_t samples = t.st.rtt_samples;
	now += 500 * MS;
	assert_int_equal(tcb_on_timer(&t, now), TCB_TIMER_RETRANSMIT);
	assert_true(out(&t, o));
	assert_int_equal(o[0].kind, TCB_SEG_RTO_RETRANSMIT);
	now += 50 * MS;
	ack(&t, o[0].seq + o[0].len, 65535);
	assert_int_equal(t.st.rtt_samples, samples);
	tcb_free(&t);
	free(d);
}

static void test_timestamps_rtt(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_segment o[16];
	struct segment s;
	struct tcb_input_result res;
	uint8_t *d = pattern(3000);
	(void)state;

	c.ts_offset = 777;
	client(&t, &c, 1460, 65535, true, false);
	tcb_write(&t, d, 3000, true);
	drain(&t, o, 16);
	assert_true(o[0].ts);
	assert_int_equal(o[0].ts_val, (uint32_t)(now / MS) + 777);
	/* Karn blocks the timed sample after an RTO, the echoed TSval still
	 * measures: 40 ms */
	t.timing = false;
	t.karn_blocked = true;
	uint32_t tsval = o[0].ts_val;
	now += 40 * MS;
	s = mkseg(TCP_FLAG_ACK, IRS + 1, ISS + 1 + 1448, 65535, 0);
	s.opt.has_timestamps = true;
	s.opt.ts_val = 99;
	s.opt.ts_ecr = tsval;
	assert_int_equal(tcb_input(&t, &s, now, &res), 0);
	assert_int_equal(t.srtt, 40 * MS);
	assert_int_equal(t.ts_recent, 99);
	/* ...for the RTO only: the end-of-run figures keep the timed samples
	 * (a whole-millisecond echo would read 0 ms on a fast path) */
	assert_int_equal(t.st.rtt_samples, 0);
	now += 1 * MS / 2;
	s = mkseg(TCP_FLAG_ACK, IRS + 1, ISS + 1 + 2 * 1448, 65535, 0);
	s.opt.has_timestamps = true;
	s.opt.ts_val = 100;
	s.opt.ts_ecr = (uint32_t)(now / MS) + 777;   /* 0 ms by the echo */
	assert_int_equal(tcb_input(&t, &s, now, &res), 0);
	assert_int_equal(t.st.rtt_samples, 0);
	assert_true(t.srtt < 40 * MS);
	tcb_free(&t);
	free(d);
}

static void test_rto_backoff_go_back_give_up(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_segment o[16];
	struct tcb_event ev;
	uint8_t *d = pattern(8000);
	(void)state;

	client(&t, &c, 1000, 65535, false, false);
	tcb_write(&t, d, 8000, true);
	assert_int_equal(drain(&t, o, 16), 8);
	assert_int_equal(tcb_next_deadline(&t), now + 1000 * MS);
	while (tcb_next_event(&t, &ev))
		;
	/* the first expiry: ssthresh = flight/2, cwnd = 1 MSS, back to SND.UNA */
	now += 1000 * MS;
	assert_int_equal(tcb_on_timer(&t, now), TCB_TIMER_RETRANSMIT);
	assert_int_equal(t.ssthresh, 4000);
	assert_int_equal(t.cwnd, 1000);
	assert_true(tcb_next_event(&t, &ev));
	assert_int_equal(ev.kind, TCB_EV_RTO);
	assert_int_equal(ev.seq, ISS + 1);
	assert_int_equal(ev.count, 1);
	assert_true(tcb_next_event(&t, &ev));
	assert_int_equal(ev.kind, TCB_EV_CWND);
	assert_string_equal(ev.reason, "RTO");
	assert_int_equal(drain(&t, o, 16), 1);
	assert_int_equal(o[0].kind, TCB_SEG_RTO_RETRANSMIT);
	assert_int_equal(o[0].seq, ISS + 1);
	assert_int_equal(o[0].len, 1000);
	/* back-off: 2 s, then 4 s */
	assert_int_equal(tcb_next_deadline(&t), now + 2000 * MS);
	/* the retransmission is acknowledged: slow start resends the rest */
	ack(&t, ISS + 1 + 1000, 65535);
	assert_int_equal(t.cwnd, 2000);
	assert_int_equal(drain(&t, o, 16), 2);
	assert_int_equal(o[0].kind, TCB_SEG_RTO_RETRANSMIT);
	assert_int_equal(o[0].seq, ISS + 1 + 1000);
	/* silence: 3 retransmissions, then give up */
	for (unsigned i = 1; i <= 3; i++) {
		now = tcb_next_deadline(&t);
		assert_int_equal(tcb_on_timer(&t, now), i < 3 ? TCB_TIMER_RETRANSMIT : TCB_TIMER_RETRANSMIT);
		drain(&t, o, 16);
	}
	now = tcb_next_deadline(&t);
	assert_int_equal(tcb_on_timer(&t, now), TCB_TIMER_GIVE_UP);
	assert_true(t.gave_up);
	tcb_free(&t);
	free(d);
}

/* The next event that is not a cwnd report. */
static bool next_ev(struct tcb *t, struct tcb_event *ev)
{
	while (tcb_next_event(t, ev))
		if (ev->kind != TCB_EV_CWND)
			return true;
	return false;
}

static void dupack(struct tcb *t, uint32_t a)
{
	ack(t, a, 65535);
}

static void test_fast_retransmit_newreno(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_segment o[32];
	struct tcb_event ev;
	uint8_t *d = pattern(30000);
	uint32_t base = ISS + 1;
	(void)state;

	client(&t, &c, 1000, 65535, false, false);
	tcb_write(&t, d, 30000, true);
	assert_int_equal(drain(&t, o, 32), 10); /* IW: 10 segments of 1000 */
	while (tcb_next_event(&t, &ev))
		;
	/* segments 1 and 4 (0-based) lost: ACK of segment 0, then dups */
	ack(&t, base + 1000, 65535);
	assert_int_equal(drain(&t, o, 32), 2); /* cwnd 11000: 2 more */
	while (tcb_next_event(&t, &ev))
		;
	dupack(&t, base + 1000);
	dupack(&t, base + 1000);
	assert_int_equal(t.dupacks, 2);
	assert_false(t.in_recovery);
	/* limited transmit (RFC 3042): one new segment for each of the first
	 * two duplicate ACKs, beyond cwnd */
	assert_int_equal(drain(&t, o, 32), 2);
	assert_int_equal(o[1].seq, base + 13000);
	dupack(&t, base + 1000);
	/* third duplicate: ssthresh = flight/2, cwnd = ssthresh + 3 MSS */
	assert_true(t.in_recovery);
	assert_int_equal(t.ssthresh, 6500);
	assert_int_equal(t.cwnd, 9500);
	assert_int_equal(t.recover, base + 14000);
	/* (the cwnd it was cut from, 11000, was shown already: not again) */
	assert_true(tcb_next_event(&t, &ev));
	assert_int_equal(ev.kind, TCB_EV_FAST_RETRANSMIT);
	assert_int_equal(ev.seq, base + 1000);
	assert_int_equal(ev.count, 3);
	assert_true(tcb_next_event(&t, &ev));
	assert_int_equal(ev.kind, TCB_EV_CWND);
	assert_string_equal(ev.reason, "fast recovery");
	assert_true(out(&t, o));
	assert_int_equal(o[0].kind, TCB_SEG_FAST_RETRANSMIT);
	assert_int_equal(o[0].seq, base + 1000);
	assert_int_equal(o[0].len, 1000);
	assert_memory_equal(o[0].payload, d + 1000, 1000);
	assert_false(out(&t, o)); /* flight 13000 > cwnd 9500 */
	/* more duplicates inflate cwnd: one MSS each (not counted as the
	 * largest cwnd: it stays the 11000 slow start reached) */
	for (int i = 0; i < 5; i++)
		dupack(&t, base + 1000);
	assert_int_equal(t.cwnd, 14500);
	assert_int_equal(t.st.max_cwnd, 11000);
	assert_int_equal(drain(&t, o, 32), 1);
	assert_int_equal(o[0].kind, TCB_SEG_DATA);
	/* partial ACK (up to the second hole): retransmit it at once */
	ack(&t, base + 4000, 65535);
	assert_true(t.in_recovery);
	assert_true(out(&t, o));
	assert_int_equal(o[0].kind, TCB_SEG_FAST_RETRANSMIT);
	assert_int_equal(o[0].seq, base + 4000);
	/* full ACK (beyond recover): leave recovery, cwnd = ssthresh at most */
	ack(&t, base + 14000, 65535);
	assert_false(t.in_recovery);
	assert_true(t.cwnd <= 6500);
	/* RFC 6582 §3.2 step 3: min(ssthresh, FlightSize + SMSS) = 2000 with
	 * one segment in flight: below ssthresh, so the next ACKs are slow
	 * start again, and the report says so (not "congestion avoidance") */
	assert_int_equal(t.cwnd, 2000);
	assert_string_equal(t.phase, "slow start");
	assert_int_equal(t.st.fast_retransmits, 2);
	tcb_free(&t);
	free(d);
}

/* An RTO after cwnd grew within the round trip (not shown yet): the trace
 * gets the value it was cut from, then the RTO, then the cut; and a fast
 * recovery that ends with a full flight goes on in congestion avoidance. */
static void test_cut_reports_value_before(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_segment o[64];
	struct tcb_event ev;
	uint8_t *d = pattern(60000);
	uint32_t base = ISS + 1;
	(void)state;

	client(&t, &c, 1000, 65535, false, false);
	tcb_write(&t, d, 60000, true);
	assert_int_equal(drain(&t, o, 64), 10);
	while (tcb_next_event(&t, &ev))
		;
	ack(&t, base + 1000, 65535);       /* cwnd 11000: slow start begins, shown */
	assert_true(tcb_next_event(&t, &ev));
	assert_int_equal(ev.cwnd, 11000);
	drain(&t, o, 64);
	ack(&t, base + 2000, 65535);       /* cwnd 12000, within the round trip */
	assert_false(tcb_next_event(&t, &ev));
	drain(&t, o, 64);
	now = tcb_next_deadline(&t);
	assert_int_equal(tcb_on_timer(&t, now), TCB_TIMER_RETRANSMIT);
	assert_true(tcb_next_event(&t, &ev));
	assert_int_equal(ev.kind, TCB_EV_CWND);
	assert_int_equal(ev.cwnd, 12000);
	assert_string_equal(ev.reason, "slow start");
	assert_true(tcb_next_event(&t, &ev));
	assert_int_equal(ev.kind, TCB_EV_RTO);
	assert_true(tcb_next_event(&t, &ev));
	assert_int_equal(ev.kind, TCB_EV_CWND);
	assert_int_equal(ev.cwnd, 1000);
	assert_string_equal(ev.reason, "RTO");
	assert_false(tcb_next_event(&t, &ev));
	tcb_free(&t);

	/* fast recovery whose full ACK leaves a full flight: cwnd = ssthresh,
	 * congestion avoidance from there */
	client(&t, &c, 1000, 65535, false, false);
	tcb_write(&t, d, 60000, true);
	assert_int_equal(drain(&t, o, 64), 10);
	for (int i = 0; i < 3; i++)
		ack(&t, base, 65535);      /* segment 0 lost: three duplicates */
	assert_true(t.in_recovery);
	assert_int_equal(t.ssthresh, 5000);
	drain(&t, o, 64);                  /* the retransmission */
	for (int i = 0; i < 7; i++)
		ack(&t, base, 65535);      /* inflation: new data goes out */
	assert_true(drain(&t, o, 64) >= 5);
	ack(&t, base + 10000, 65535);      /* full ACK: 5+ segments still in flight */
	assert_false(t.in_recovery);
	assert_int_equal(t.cwnd, 5000);
	assert_string_equal(t.phase, "congestion avoidance");
	tcb_free(&t);
	free(d);
}

static void test_persist_probe_window_update(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_segment o[16];
	struct tcb_event ev;
	uint8_t *d = pattern(6000);
	(void)state;

	client(&t, &c, 1000, 2000, false, false);
	tcb_write(&t, d, 6000, true);
	assert_int_equal(drain(&t, o, 16), 2);
	while (tcb_next_event(&t, &ev))
		;
	/* the peer takes both segments but its buffer is full: window 0 */
	now += 10 * MS;
	ack(&t, ISS + 1 + 2000, 0);
	assert_true(next_ev(&t, &ev));
	assert_int_equal(ev.kind, TCB_EV_ZERO_WINDOW);
	assert_int_equal(drain(&t, o, 16), 0);
	assert_true(t.persist_armed);
	assert_false(t.rto_armed);
	uint64_t first = tcb_next_deadline(&t) - now;
	/* the persist timer sends one byte of new data, with back-off */
	now = tcb_next_deadline(&t);
	assert_int_equal(tcb_on_timer(&t, now), TCB_TIMER_PROBE);
	assert_true(out(&t, o));
	assert_int_equal(o[0].kind, TCB_SEG_PROBE);
	assert_int_equal(o[0].seq, ISS + 1 + 2000);
	assert_int_equal(o[0].len, 1);
	assert_int_equal(o[0].payload[0], d[2000]);
	assert_false(out(&t, o));
	assert_true(next_ev(&t, &ev));
	assert_int_equal(ev.kind, TCB_EV_PROBE);
	/* the probe's answer: still zero (the byte was not taken) */
	ack(&t, ISS + 1 + 2000, 0);
	assert_int_equal(t.dupacks, 0); /* answers to probes are not duplicate ACKs */
	assert_int_equal(tcb_next_deadline(&t) - now, 2 * first);
	now = tcb_next_deadline(&t);
	assert_int_equal(tcb_on_timer(&t, now), TCB_TIMER_PROBE);
	assert_true(out(&t, o));
	assert_int_equal(o[0].kind, TCB_SEG_PROBE);
	assert_int_equal(o[0].seq, ISS + 1 + 2000); /* the same byte again */
	/* window update: sending resumes, probing stops */
	ack(&t, ISS + 1 + 2000, 3000);
	assert_true(next_ev(&t, &ev));
	assert_int_equal(ev.kind, TCB_EV_PROBE);
	assert_true(next_ev(&t, &ev));
	assert_int_equal(ev.kind, TCB_EV_WINDOW_UPDATE);
	assert_false(t.persist_armed);
	assert_int_equal(drain(&t, o, 16), 3);
	assert_int_equal(o[0].seq, ISS + 1 + 2000);
	assert_int_equal(o[0].kind, TCB_SEG_DATA);
	assert_true(t.st.zero_window_ns > 0);
	assert_int_equal(t.st.probes, 2);
	tcb_free(&t);
	free(d);
}

static void test_out_of_order_sack_in_order_delivery(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_segment o[4];
	struct tcb_input_result res;
	const uint8_t *p;
	uint8_t *d = pattern(4000);
	(void)state;

	client(&t, &c, 1460, 65535, true, true);
	/* bytes 1000..1999 arrive before 0..999: held, duplicate ACK with SACK */
	res = rx(&t, TCP_FLAG_ACK | TCP_FLAG_PSH, IRS + 1 + 1000, ISS + 1, 65535, d + 1000, 1000);
	assert_true(res.out_of_order);
	assert_int_equal(res.delivered, 0);
	assert_int_equal(t.rcv_nxt, IRS + 1);
	assert_int_equal(t.fsm.rcv_nxt, IRS + 1);
	assert_int_equal(tcb_peek(&t, &p), 0);
	assert_true(out(&t, o));
	assert_int_equal(o[0].kind, TCB_SEG_ACK);
	assert_int_equal(o[0].ack, IRS + 1);
	assert_int_equal(o[0].sack_count, 1);
	assert_int_equal(o[0].sack[0][0], IRS + 1 + 1000);
	assert_int_equal(o[0].sack[0][1], IRS + 1 + 2000);
	/* a second block; the most recent comes first (RFC 2018 §4) */
	rx(&t, TCP_FLAG_ACK, IRS + 1 + 3000, ISS + 1, 65535, d + 3000, 500);
	assert_true(out(&t, o));
	assert_int_equal(o[0].sack_count, 2);
	assert_int_equal(o[0].sack[0][0], IRS + 1 + 3000);
	assert_int_equal(o[0].sack[1][0], IRS + 1 + 1000);
	/* the window counts held data as inside it: the right edge does not move */
	assert_int_equal(tcb_rcv_window(&t), 64240);
	/* the first hole fills: 0..1999 delivered in order, one block left */
	res = rx(&t, TCP_FLAG_ACK, IRS + 1, ISS + 1, 65535, d, 1000);
	assert_int_equal(res.delivered, 2000);
	assert_int_equal(t.rcv_nxt, IRS + 1 + 2000);
	assert_int_equal(t.fsm.rcv_nxt, IRS + 1 + 2000);
	assert_int_equal(tcb_peek(&t, &p), 2000);
	assert_memory_equal(p, d, 2000);
	assert_true(out(&t, o));
	assert_int_equal(o[0].ack, IRS + 1 + 2000);
	assert_int_equal(o[0].sack_count, 1);
	assert_int_equal(tcb_rcv_window(&t), 64240 - 2000);
	tcb_consume(&t, 2000, now);
	assert_int_equal(tcb_rcv_window(&t), 64240);
	/* a duplicate of old data: re-ACK, nothing delivered */
	res = rx(&t, TCP_FLAG_ACK, IRS + 1, ISS + 1, 65535, d, 1000);
	assert_int_equal(res.delivered, 0);
	assert_true(res.tr.retransmission);
	assert_true(t.ack_pending);
	tcb_free(&t);
	free(d);
}

static void test_fin_beyond_hole(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_input_result res;
	uint8_t *d = pattern(2000);
	(void)state;

	client(&t, &c, 1460, 65535, false, false);
	/* the last segment and the FIN arrive before the first segment */
	res = rx(&t, TCP_FLAG_ACK | TCP_FLAG_FIN, IRS + 1 + 1000, ISS + 1, 65535, d + 1000, 1000);
	assert_true(res.out_of_order);
	assert_int_equal(t.fsm.state, TCP_ESTABLISHED); /* not CLOSE-WAIT before the hole fills */
	res = rx(&t, TCP_FLAG_ACK, IRS + 1, ISS + 1, 65535, d, 1000);
	assert_int_equal(res.delivered, 2000);
	assert_int_equal(res.tr.to, TCP_CLOSE_WAIT);
	assert_int_equal(t.rcv_nxt, IRS + 1 + 2000 + 1);
	tcb_free(&t);
	free(d);
}

static void test_honest_window_and_update(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_segment o[4];
	struct tcb_event ev;
	uint8_t *d = pattern(4000);
	(void)state;

	c.rcv_buf = 4000;
	client(&t, &c, 1000, 65535, false, false);
	while (tcb_next_event(&t, &ev))
		;
	assert_int_equal(tcb_rcv_window(&t), 4000);
	rx(&t, TCP_FLAG_ACK, IRS + 1, ISS + 1, 65535, d, 1000);
	rx(&t, TCP_FLAG_ACK, IRS + 1 + 1000, ISS + 1, 65535, d + 1000, 1000);
	rx(&t, TCP_FLAG_ACK, IRS + 1 + 2000, ISS + 1, 65535, d + 2000, 1000);
	rx(&t, TCP_FLAG_ACK, IRS + 1 + 3000, ISS + 1, 65535, d + 3000, 1000);
	assert_true(out(&t, o));
	assert_int_equal(o[0].window, 0); /* nothing read: the buffer is full */
	/* data beyond the window is not taken */
	struct tcb_input_result res = rx(&t, TCP_FLAG_ACK, IRS + 1 + 4000, ISS + 1, 65535, d, 1);
	assert_int_equal(res.delivered, 0);
	assert_int_equal(t.rcv_nxt, IRS + 1 + 4000);
	assert_true(out(&t, o));
	assert_int_equal(o[0].window, 0);
	/* the user reads: a window update goes out */
	tcb_consume(&t, 3000, now);
	assert_true(out(&t, o));
	assert_int_equal(o[0].kind, TCB_SEG_WINDOW_UPDATE);
	assert_int_equal(o[0].window, 3000);
	assert_true(tcb_next_event(&t, &ev));
	assert_int_equal(ev.kind, TCB_EV_OWN_WINDOW_UPDATE);
	tcb_free(&t);
	free(d);
}

static void test_fin_after_data_and_bounded_queue(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_segment o[16];
	uint8_t *d = pattern(20000);
	(void)state;

	c.snd_buf = 10000;
	client(&t, &c, 1000, 65535, false, false);
	assert_int_equal(tcb_write(&t, d, 20000, true), 10000);
	assert_int_equal(tcb_send_space(&t), 0);
	assert_int_equal(tcb_write(&t, d, 1, false), 0);
	assert_int_equal(drain(&t, o, 16), 10);
	ack(&t, ISS + 1 + 4000, 65535);
	assert_int_equal(tcb_send_space(&t), 4000);
	assert_int_equal(tcb_write(&t, d + 10000, 10000, true), 4000);
	drain(&t, o, 16);
	ack(&t, ISS + 1 + 14000, 65535);
	assert_int_equal(tcb_write(&t, d + 14000, 6000, true), 6000);
	tcb_close(&t);
	assert_int_equal(tcb_write(&t, d, 1, true), -1);
	unsigned n = drain(&t, o, 16);
	assert_int_equal(n, 6);
	/* the FIN rides on the last data segment, with PSH */
	assert_true(o[5].flags & TCP_FLAG_FIN);
	assert_true(o[5].flags & TCP_FLAG_PSH);
	assert_int_equal(o[5].seq + o[5].len, ISS + 1 + 20000);
	assert_int_equal(t.fsm.state, TCP_FIN_WAIT_1);
	assert_false(tcb_all_acked(&t));
	ack(&t, ISS + 1 + 20001, 65535);
	assert_true(tcb_all_acked(&t));
	assert_int_equal(t.fsm.state, TCP_FIN_WAIT_2);
	assert_false(t.rto_armed);
	tcb_free(&t);
	free(d);
}

static void test_fin_alone_retransmitted(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_segment o[4];
	(void)state;

	client(&t, &c, 1000, 65535, false, false);
	tcb_close(&t);
	assert_true(out(&t, o));
	assert_int_equal(o[0].flags, TCP_FLAG_FIN | TCP_FLAG_ACK);
	assert_int_equal(o[0].seq, ISS + 1);
	assert_int_equal(t.fsm.state, TCP_FIN_WAIT_1);
	now = tcb_next_deadline(&t);
	assert_int_equal(tcb_on_timer(&t, now), TCB_TIMER_RETRANSMIT);
	assert_true(out(&t, o));
	assert_int_equal(o[0].kind, TCB_SEG_RTO_RETRANSMIT);
	assert_int_equal(o[0].flags, TCP_FLAG_FIN | TCP_FLAG_ACK);
	assert_int_equal(o[0].seq, ISS + 1);
	assert_false(out(&t, o));
	tcb_free(&t);
}


static void test_server_handshake_data_on_third_segment(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_input_result res;
	struct tcb_segment o[4];
	struct segment s;
	const uint8_t *p;
	(void)state;

	now = 5000 * MS;
	tcb_init(&t, &c, TCP_CLOSED);
	tcp_fsm_call(&t.fsm, TCP_CALL_OPEN_PASSIVE);
	tcb_set_peer(&t, 1460, false, false, 2, 7, 0);   /* peer shift 2, ours 7 */
	res = rx(&t, TCP_FLAG_SYN, IRS, 0, 30000, NULL, 0);
	assert_true(res.tr.actions & TCP_ACT_SEND_SYNACK);
	assert_int_equal(t.snd_wnd, 30000);              /* a SYN's window is not scaled */
	s = mkseg(TCP_FLAG_SYN | TCP_FLAG_ACK, ISS, IRS + 1, 64240, 0);
	tcb_sent(&t, &s);
	assert_int_equal(t.fsm.state, TCP_SYN_RECEIVED);
	/* the handshake's ACK carries data already (its ACK was lost, say) */
	res = rx(&t, TCP_FLAG_ACK | TCP_FLAG_PSH, IRS + 1, ISS + 1, 1000, (const uint8_t *)"GET /", 5);
	assert_int_equal(res.tr.to, TCP_ESTABLISHED);
	assert_int_equal(res.delivered, 5);
	assert_int_equal(tcb_peek(&t, &p), 5);
	assert_memory_equal(p, "GET /", 5);
	assert_int_equal(t.snd_wnd, 4000);               /* 1000 << 2 (RFC 7323 §2.3) */
	assert_true(out(&t, o));
	assert_int_equal(o[0].ack, IRS + 1 + 5);
	/* our window field is scaled by our shift: (64240 - 5) >> 7 */
	assert_int_equal(o[0].window, (64240 - 5) >> 7);
	tcb_free(&t);
}

static void test_go_back_skips_sacked(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_segment o[16];
	struct segment s;
	struct tcb_input_result res;
	uint8_t *d = pattern(10000);
	uint32_t base = ISS + 1;
	(void)state;

	client(&t, &c, 1000, 65535, false, true);
	tcb_write(&t, d, 10000, true);
	assert_int_equal(drain(&t, o, 16), 10);
	/* the peer has 3000..6999 (SACK), a duplicate ACK only */
	s = mkseg(TCP_FLAG_ACK, IRS + 1, base, 65535, 0);
	s.opt.sack_count = 1;
	s.opt.sack[0][0] = base + 3000;
	s.opt.sack[0][1] = base + 7000;
	assert_int_equal(tcb_input(&t, &s, now, &res), 0);
	now = tcb_next_deadline(&t);
	assert_int_equal(tcb_on_timer(&t, now), TCB_TIMER_RETRANSMIT);
	t.cwnd = 10000; /* let the go-back run in one go */
	unsigned n = drain(&t, o, 16);
	/* 0..2999 and 7000..9999 again; the SACKed 4000 bytes are not resent */
	assert_int_equal(n, 6);
	assert_int_equal(o[2].seq, base + 2000);
	assert_int_equal(o[3].seq, base + 7000);
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(o[i].kind, TCB_SEG_RTO_RETRANSMIT);
	tcb_free(&t);
	free(d);
}

static void test_probe_accepted(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_segment o[16];
	uint8_t *d = pattern(5000);
	(void)state;

	client(&t, &c, 1000, 1000, false, false);
	tcb_write(&t, d, 5000, true);
	assert_int_equal(drain(&t, o, 16), 1);
	ack(&t, ISS + 1 + 1000, 0);                   /* zero window */
	now = tcb_next_deadline(&t);
	assert_int_equal(tcb_on_timer(&t, now), TCB_TIMER_PROBE);
	assert_true(out(&t, o));
	assert_int_equal(o[0].kind, TCB_SEG_PROBE);
	/* the receiver had room again: it takes the byte and opens its window */
	ack(&t, ISS + 1 + 1001, 2000);
	assert_int_equal(t.snd_una, ISS + 1 + 1001);
	assert_false(t.persist_armed);
	assert_int_equal(drain(&t, o, 16), 2);
	assert_int_equal(o[0].seq, ISS + 1 + 1001);   /* after the probe's byte */
	assert_int_equal(o[0].kind, TCB_SEG_DATA);
	tcb_free(&t);
	free(d);
}

static void test_sequence_wraps(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_segment o[16];
	struct segment s;
	struct tcb_input_result res;
	uint8_t *d = pattern(6000);
	const uint32_t iss = 0xfffff000u, irs = 0xffffff00u;
	const uint8_t *p;
	(void)state;

	/* ISS and IRS just below 2^32: both sequence spaces wrap mid-transfer */
	now = 1000 * MS;
	tcb_init(&t, &c, TCP_CLOSED);
	tcp_fsm_call(&t.fsm, TCP_CALL_OPEN_ACTIVE);
	s = mkseg(TCP_FLAG_SYN, iss, 0, 64240, 0);
	tcb_sent(&t, &s);
	tcb_set_peer(&t, 1000, false, false, 0, 0, 0);
	s = mkseg(TCP_FLAG_SYN | TCP_FLAG_ACK, irs, iss + 1, 65535, 0);
	assert_int_equal(tcb_input(&t, &s, now, &res), 0);
	s = mkseg(TCP_FLAG_ACK, iss + 1, irs + 1, tcb_window_field(&t), 0);
	tcb_sent(&t, &s);
	tcb_write(&t, d, 6000, true);
	assert_int_equal(drain(&t, o, 16), 6);
	assert_int_equal(o[5].seq, iss + 1 + 5000);   /* past 2^32 */
	s = mkseg(TCP_FLAG_ACK, irs + 1, iss + 1 + 6000, 65535, 0);
	assert_int_equal(tcb_input(&t, &s, now, &res), 0);
	assert_true(res.acked_new);
	assert_true(tcb_all_acked(&t));
	/* the peer's data across its wrap, second half first */
	s = mkseg(TCP_FLAG_ACK, irs + 1 + 300, iss + 1 + 6000, 65535, 300);
	s.payload = d + 300;
	s.payload_captured = 300;
	assert_int_equal(tcb_input(&t, &s, now, &res), 0);
	assert_true(res.out_of_order);
	s = mkseg(TCP_FLAG_ACK, irs + 1, iss + 1 + 6000, 65535, 300);
	s.payload = d;
	s.payload_captured = 300;
	assert_int_equal(tcb_input(&t, &s, now, &res), 0);
	assert_int_equal(res.delivered, 600);
	assert_int_equal(t.rcv_nxt, irs + 1 + 600);
	assert_int_equal(tcb_peek(&t, &p), 600);
	assert_memory_equal(p, d, 600);
	tcb_free(&t);
	free(d);
}

static void test_mss_cap_after_handshake(void **state)
{
	struct tcb t;
	struct tcb_config c = cfg0();
	struct tcb_segment o[16];
	struct tcb_event ev;
	struct segment s;
	uint8_t *d = pattern(3000);
	(void)state;

	/* a server learns the route to its client once the handshake is done */
	now = 5000 * MS;
	tcb_init(&t, &c, TCP_CLOSED);
	tcp_fsm_call(&t.fsm, TCP_CALL_OPEN_PASSIVE);
	tcb_set_peer(&t, 1460, false, false, 0, 0, 0);
	rx(&t, TCP_FLAG_SYN, IRS, 0, 30000, NULL, 0);
	s = mkseg(TCP_FLAG_SYN | TCP_FLAG_ACK, ISS, IRS + 1, 64240, 0);
	tcb_sent(&t, &s);
	rx(&t, TCP_FLAG_ACK, IRS + 1, ISS + 1, 30000, NULL, 0);
	assert_int_equal(t.fsm.state, TCP_ESTABLISHED);
	assert_int_equal(t.mss, 1460);
	tcb_set_mss_cap(&t, 1000);                     /* a path MTU of 1040 */
	assert_int_equal(t.mss, 1000);
	tcb_write(&t, d, 3000, true);
	assert_int_equal(drain(&t, o, 16), 3);
	assert_int_equal(o[0].len, 1000);
	assert_true(tcb_next_event(&t, &ev));
	assert_int_equal(ev.kind, TCB_EV_CWND);
	assert_int_equal(ev.cwnd, 14600 > 10000 ? 10000 : 14600);   /* IW of the new MSS */
	tcb_set_mss_cap(&t, 500);                      /* too late: data went out */
	assert_int_equal(t.mss, 1000);
	tcb_free(&t);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_segmentation_psh_and_mss),
		cmocka_unit_test(test_peer_window_and_sws),
		cmocka_unit_test(test_slow_start_and_congestion_avoidance),
		cmocka_unit_test(test_no_growth_when_not_cwnd_limited),
		cmocka_unit_test(test_rtt_estimation_and_karn),
		cmocka_unit_test(test_timestamps_rtt),
		cmocka_unit_test(test_rto_backoff_go_back_give_up),
		cmocka_unit_test(test_fast_retransmit_newreno),
		cmocka_unit_test(test_cut_reports_value_before),
		cmocka_unit_test(test_persist_probe_window_update),
		cmocka_unit_test(test_out_of_order_sack_in_order_delivery),
		cmocka_unit_test(test_fin_beyond_hole),
		cmocka_unit_test(test_honest_window_and_update),
		cmocka_unit_test(test_fin_after_data_and_bounded_queue),
		cmocka_unit_test(test_fin_alone_retransmitted),
		cmocka_unit_test(test_server_handshake_data_on_third_segment),
		cmocka_unit_test(test_go_back_skips_sacked),
		cmocka_unit_test(test_probe_accepted),
		cmocka_unit_test(test_sequence_wraps),
		cmocka_unit_test(test_mss_cap_after_handshake),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
