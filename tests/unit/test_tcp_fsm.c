/*
 * test_tcp_fsm.c — transition-by-transition unit tests of the pure TCP state
 * machine (include/tcplab/tcp_fsm.h).
 *
 * Written from the header's "Semantics" table and RFC 9293 §3.3.2 (the state
 * diagram) and §3.10 (event processing), independently of src/tcp_fsm.c.
 *
 * Every received-segment row is exercised twice:
 *   - for an endpoint tcplab DRIVES: user calls, the segments those calls make
 *     it send fed back as TCP_DIR_SENT (a live role captures its own
 *     segments), and the peer's segments as TCP_DIR_RECEIVED;
 *   - for an endpoint tcplab only OBSERVES: no calls at all, its moves are
 *     revealed by the segments it sends.
 * and for several ISS/IRS pairs, some placed so that ISS+1, the FIN's number
 * or RCV.NXT wraps past 2^32 in the middle of the connection (RFC 9293 §3.4:
 * all comparisons are modulo 2^32).
 *
 * Segments are built with seg(flags, seq, ack, len); only those four fields
 * are meaningful to the machine.  Failures print the variant (mode, ISS, IRS)
 * and state names, not just numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "tcplab/segment.h"
#include "tcplab/tcp_fsm.h"

/* ---- segments --------------------------------------------------------------- */

#define F_S  ((uint8_t)TCP_FLAG_SYN)
#define F_SA ((uint8_t)(TCP_FLAG_SYN | TCP_FLAG_ACK))
#define F_A  ((uint8_t)TCP_FLAG_ACK)
#define F_FA ((uint8_t)(TCP_FLAG_FIN | TCP_FLAG_ACK))
#define F_PA ((uint8_t)(TCP_FLAG_PSH | TCP_FLAG_ACK))
#define F_FPA ((uint8_t)(TCP_FLAG_FIN | TCP_FLAG_PSH | TCP_FLAG_ACK))
#define F_R  ((uint8_t)TCP_FLAG_RST)
#define F_RA ((uint8_t)(TCP_FLAG_RST | TCP_FLAG_ACK))

#define WIN30 0x40000000u /* 2^30: the width of the RST acceptance window */

/* A segment with only the fields the machine reads set; everything else zero. */
static struct segment seg(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	struct segment s;

	memset(&s, 0, sizeof s);
	s.flags = flags;
	s.seq = seq;
	s.ack = ack;
	s.payload_len = len;
	s.window = 65535;
	return s;
}

/* Feeds a segment the endpoint received. */
static struct tcp_transition rx(struct tcp_endpoint *ep, uint8_t flags, uint32_t seq, uint32_t ack,
				uint32_t len)
{
	struct segment s = seg(flags, seq, ack, len);

	return tcp_fsm_segment(ep, TCP_DIR_RECEIVED, &s);
}

/* Feeds a segment the endpoint sent. */
static struct tcp_transition tx(struct tcp_endpoint *ep, uint8_t flags, uint32_t seq, uint32_t ack,
				uint32_t len)
{
	struct segment s = seg(flags, seq, ack, len);

	return tcp_fsm_segment(ep, TCP_DIR_SENT, &s);
}

/* Applies a user call / timer. */
static struct tcp_transition call(struct tcp_endpoint *ep, enum tcp_call c)
{
	return tcp_fsm_call(ep, c);
}

/* ---- diagnostics -------------------------------------------------------------- */

/* Our own copy of the names, so a broken tcp_state_name() cannot garble messages. */
static const char *const NAMES[TCP_STATE_COUNT] = {
	"CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
	"FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT",
};

static const char *sname(enum tcp_state s)
{
	return (unsigned)s < TCP_STATE_COUNT ? NAMES[s] : "(out of range)";
}

static const char *acts_str(unsigned a, char *buf, size_t n)
{
	static const char *const bits[] = {
		"SEND_SYN", "SEND_SYNACK", "SEND_ACK", "SEND_FIN",
		"SEND_RST", "START_2MSL", "DELETE_TCB", "DELIVER",
	};
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < 32; i++) {
		if (!(a & (1u << i)))
			continue;
		int w = snprintf(buf + used, n - used, "%s%s", used ? "|" : "",
				 i < 8 ? bits[i] : "UNKNOWN_BIT");
		if (w < 0 || (size_t)w >= n - used)
			break;
		used += (size_t)w;
	}
	if (!used)
		snprintf(buf, n, "NONE");
	return buf;
}

/* What the current loop iteration is: printed with every failure. */
static char ctx[160] = "";

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond))                                                          \
			fail_msg("[%s] check failed: %s", ctx, #cond);                \
	} while (0)

#define CHECK_U32(got, want)                                                          \
	do {                                                                          \
		uint32_t g_ = (got), w_ = (want);                                      \
		if (g_ != w_)                                                         \
			fail_msg("[%s] %s = %" PRIu32 " (0x%08" PRIx32 "), want %" PRIu32 \
				 " (0x%08" PRIx32 ")", ctx, #got, g_, g_, w_, w_);     \
	} while (0)

#define CHECK_STATE(got, want)                                                        \
	do {                                                                          \
		enum tcp_state g_ = (got), w_ = (want);                                \
		if (g_ != w_)                                                         \
			fail_msg("[%s] %s is %s, want %s", ctx, #got, sname(g_), sname(w_)); \
	} while (0)

/* Exact action bits. */
#define CHECK_ACTS(got, want)                                                         \
	do {                                                                          \
		unsigned g_ = (got), w_ = (want);                                      \
		char gb_[160], wb_[160];                                              \
		if (g_ != w_)                                                         \
			fail_msg("[%s] actions %s, want exactly %s", ctx,              \
				 acts_str(g_, gb_, sizeof gb_), acts_str(w_, wb_, sizeof wb_)); \
	} while (0)

/* Actions include all of `want`. */
#define CHECK_HAS(got, want)                                                          \
	do {                                                                          \
		unsigned g_ = (got), w_ = (want);                                      \
		char gb_[160], wb_[160];                                              \
		if ((g_ & w_) != w_)                                                  \
			fail_msg("[%s] actions %s, want at least %s", ctx,             \
				 acts_str(g_, gb_, sizeof gb_), acts_str(w_, wb_, sizeof wb_)); \
	} while (0)

/* Actions include none of `bad`. */
#define CHECK_LACKS(got, bad)                                                         \
	do {                                                                          \
		unsigned g_ = (got), b_ = (bad);                                       \
		char gb_[160], bb_[160];                                              \
		if (g_ & b_)                                                          \
			fail_msg("[%s] actions %s, must not include any of %s", ctx,   \
				 acts_str(g_, gb_, sizeof gb_), acts_str(b_, bb_, sizeof bb_)); \
	} while (0)

/* from/to/changed/reason of a transition, and that ep->state followed it. */
#define CHECK_TR(t, ep, f, to_)                                                       \
	do {                                                                          \
		CHECK_STATE((t).from, (f));                                           \
		CHECK_STATE((t).to, (to_));                                           \
		CHECK_STATE((ep)->state, (to_));                                      \
		if ((t).changed != ((f) != (to_)))                                    \
			fail_msg("[%s] changed = %d, want %d", ctx, (int)(t).changed,  \
				 (int)((f) != (to_)));                                 \
		if (!(t).reason || !(t).reason[0])                                    \
			fail_msg("[%s] reason is NULL or empty", ctx);                 \
	} while (0)

/* A segment that is neither a retransmission nor unacceptable. */
#define CHECK_CLEAN(t)                                                                \
	do {                                                                          \
		CHECK(!(t).retransmission);                                           \
		CHECK(!(t).unacceptable);                                             \
	} while (0)

/* ep is byte-for-byte what it was (snapshot taken with memcpy). */
#define CHECK_TCB_SAME(ep, snap)                                                      \
	do {                                                                          \
		if (memcmp((ep), &(snap), sizeof(snap)) != 0)                         \
			fail_msg("[%s] the TCB changed on a segment/call that must be ignored", ctx); \
	} while (0)

/* ---- variants ------------------------------------------------------------------- */

enum mode { DRIVEN, OBSERVED };

struct variant {
	const char *name;
	uint32_t iss, irs; /* ours and the peer's */
};

/* The plain one, then ones where ISS+1, our FIN, the peer's FIN / RCV.NXT,
 * or the 2^31 sign boundary are crossed during the connection. */
static const struct variant VARIANTS[] = {
	{ "plain", 1000u, 5000u },
	{ "iss+1 wraps to 0", 0xFFFFFFFFu, 0x00000010u },
	{ "our FIN is 0xFFFFFFFF, peer FIN wraps", 0xFFFFFFFEu, 0xFFFFFFFEu },
	{ "irs wraps", 0x00000020u, 0xFFFFFFFFu },
	{ "2^31 sign boundary", 0x7FFFFFFFu, 0x7FFFFFFEu },
};
#define NVARIANTS (sizeof VARIANTS / sizeof VARIANTS[0])

static const char *mode_name(enum mode m)
{
	return m == DRIVEN ? "driven" : "observed";
}

static void set_ctx(enum mode m, const struct variant *v, const char *extra)
{
	snprintf(ctx, sizeof ctx, "%s, %s (iss=0x%08" PRIx32 " irs=0x%08" PRIx32 ")%s%s",
		 mode_name(m), v->name, v->iss, v->irs, extra ? ", " : "", extra ? extra : "");
}

typedef void (*row_fn)(enum mode m, const struct variant *v);

/* Runs fn for both modes and every variant. */
static void run_all(row_fn fn)
{
	for (int m = DRIVEN; m <= OBSERVED; m++) {
		for (size_t i = 0; i < NVARIANTS; i++) {
			set_ctx((enum mode)m, &VARIANTS[i], NULL);
			fn((enum mode)m, &VARIANTS[i]);
		}
	}
	ctx[0] = '\0';
}

/* ---- getting an endpoint into a state --------------------------------------- */

struct expect {
	uint32_t snd_nxt, rcv_nxt;
};

/*
 * Brings a fresh ep into `target` the ordinary way (RFC 9293 Figure 5), with
 * our ISS v->iss and the peer's v->irs, no data:
 *   active side: SYN(I) → SYN-ACK(R, I+1) → ACK(I+1, R+1);
 *   SYN-RECEIVED via a passive open (LISTEN, SYN(R) received, SYN-ACK(I) sent);
 *   FIN-WAIT-1: our FIN(I+1) sent; FIN-WAIT-2: its ACK (I+2) received;
 *   CLOSE-WAIT: peer FIN(R+1) received and ACKed; CLOSING: peer FIN(R+1, ack I+1)
 *   received in FIN-WAIT-1; LAST-ACK: our FIN(I+1) sent in CLOSE-WAIT;
 *   TIME-WAIT: peer FIN(R+1, ack I+2) received in FIN-WAIT-2 and ACKed.
 * DRIVEN endpoints make the user calls first (OPEN, CLOSE) and then feed the
 * segment the call demanded as sent; OBSERVED ones only see segments.
 * ex gets the SND.NXT / RCV.NXT the endpoint must then have.
 */
static void reach(struct tcp_endpoint *ep, enum tcp_state target, enum mode m,
		  const struct variant *v, struct expect *ex)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_transition t;

	switch (target) {
	case TCP_CLOSED:
		tcp_endpoint_init(ep, TCP_CLOSED);
		ex->snd_nxt = ex->rcv_nxt = 0;
		break;
	case TCP_LISTEN:
		if (m == DRIVEN) {
			tcp_endpoint_init(ep, TCP_CLOSED);
			t = call(ep, TCP_CALL_OPEN_PASSIVE);
			CHECK_TR(t, ep, TCP_CLOSED, TCP_LISTEN);
		} else {
			tcp_endpoint_init(ep, TCP_LISTEN);
		}
		ex->snd_nxt = ex->rcv_nxt = 0;
		break;
	case TCP_SYN_SENT:
		tcp_endpoint_init(ep, TCP_CLOSED);
		if (m == DRIVEN) {
			t = call(ep, TCP_CALL_OPEN_ACTIVE);
			CHECK_TR(t, ep, TCP_CLOSED, TCP_SYN_SENT);
		}
		tx(ep, F_S, I, 0, 0);
		ex->snd_nxt = I + 1;
		ex->rcv_nxt = 0;
		break;
	case TCP_SYN_RECEIVED:
		reach(ep, TCP_LISTEN, m, v, ex);
		rx(ep, F_S, R, 0, 0);
		CHECK_STATE(ep->state, TCP_SYN_RECEIVED);
		tx(ep, F_SA, I, R + 1, 0);
		ex->snd_nxt = I + 1;
		ex->rcv_nxt = R + 1;
		break;
	case TCP_ESTABLISHED:
		reach(ep, TCP_SYN_SENT, m, v, ex);
		rx(ep, F_SA, R, I + 1, 0);
		CHECK_STATE(ep->state, TCP_ESTABLISHED);
		tx(ep, F_A, I + 1, R + 1, 0);
		ex->snd_nxt = I + 1;
		ex->rcv_nxt = R + 1;
		break;
	case TCP_FIN_WAIT_1:
		reach(ep, TCP_ESTABLISHED, m, v, ex);
		if (m == DRIVEN) {
			t = call(ep, TCP_CALL_CLOSE);
			CHECK_TR(t, ep, TCP_ESTABLISHED, TCP_FIN_WAIT_1);
		}
		tx(ep, F_FA, I + 1, R + 1, 0);
		ex->snd_nxt = I + 2;
		ex->rcv_nxt = R + 1;
		break;
	case TCP_FIN_WAIT_2:
		reach(ep, TCP_FIN_WAIT_1, m, v, ex);
		rx(ep, F_A, R + 1, I + 2, 0);
		break;
	case TCP_CLOSE_WAIT:
		reach(ep, TCP_ESTABLISHED, m, v, ex);
		rx(ep, F_FA, R + 1, I + 1, 0);
		CHECK_STATE(ep->state, TCP_CLOSE_WAIT);
		tx(ep, F_A, I + 1, R + 2, 0);
		ex->snd_nxt = I + 1;
		ex->rcv_nxt = R + 2;
		break;
	case TCP_CLOSING:
		reach(ep, TCP_FIN_WAIT_1, m, v, ex);
		rx(ep, F_FA, R + 1, I + 1, 0);
		CHECK_STATE(ep->state, TCP_CLOSING);
		tx(ep, F_A, I + 2, R + 2, 0);
		ex->snd_nxt = I + 2;
		ex->rcv_nxt = R + 2;
		break;
	case TCP_LAST_ACK:
		reach(ep, TCP_CLOSE_WAIT, m, v, ex);
		if (m == DRIVEN) {
			t = call(ep, TCP_CALL_CLOSE);
			CHECK_TR(t, ep, TCP_CLOSE_WAIT, TCP_LAST_ACK);
		}
		tx(ep, F_FA, I + 1, R + 2, 0);
		ex->snd_nxt = I + 2;
		ex->rcv_nxt = R + 2;
		break;
	case TCP_TIME_WAIT:
		reach(ep, TCP_FIN_WAIT_2, m, v, ex);
		rx(ep, F_FA, R + 1, I + 2, 0);
		CHECK_STATE(ep->state, TCP_TIME_WAIT);
		tx(ep, F_A, I + 2, R + 2, 0);
		ex->snd_nxt = I + 2;
		ex->rcv_nxt = R + 2;
		break;
	default:
		fail_msg("reach: bad target %d", (int)target);
	}
	CHECK_STATE(ep->state, target);
	if (target >= TCP_SYN_SENT)
		CHECK_U32(ep->snd_nxt, ex->snd_nxt);
	if (target >= TCP_SYN_RECEIVED)
		CHECK_U32(ep->rcv_nxt, ex->rcv_nxt);
}

/* Simultaneous open up to SYN-RECEIVED (RFC 9293 Figure 7, lines 2-5): our
 * SYN(I) sent, the peer's SYN(R) received, our SYN-ACK(I, R+1) sent. */
static void reach_simopen_synrcvd(struct tcp_endpoint *ep, enum mode m, const struct variant *v)
{
	struct expect ex;
	struct tcp_transition t;

	reach(ep, TCP_SYN_SENT, m, v, &ex);
	t = rx(ep, F_S, v->irs, 0, 0);
	CHECK_TR(t, ep, TCP_SYN_SENT, TCP_SYN_RECEIVED);
	tx(ep, F_SA, v->iss, v->irs + 1, 0);
	CHECK_STATE(ep->state, TCP_SYN_RECEIVED);
}

static const enum tcp_state SYNCHRONIZED[] = {
	TCP_ESTABLISHED, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2, TCP_CLOSE_WAIT,
	TCP_CLOSING, TCP_LAST_ACK, TCP_TIME_WAIT,
};
#define NSYNC (sizeof SYNCHRONIZED / sizeof SYNCHRONIZED[0])

/* ================================================================================
 * Basics
 * ================================================================================ */

static void test_state_names(void **state)
{
	(void)state;
	for (int s = 0; s < TCP_STATE_COUNT; s++) {
		const char *n = tcp_state_name((enum tcp_state)s);
		assert_non_null(n);
		assert_string_equal(n, NAMES[s]);
	}
	/* Out of range: something printable, not a real state's name, no crash. */
	const enum tcp_state bad[] = { TCP_STATE_COUNT, (enum tcp_state)99, (enum tcp_state)-1 };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const char *n = tcp_state_name(bad[i]);
		assert_non_null(n);
		assert_true(n[0] != '\0');
		for (int s = 0; s < TCP_STATE_COUNT; s++)
			assert_string_not_equal(n, NAMES[s]);
	}
}

static void test_state_synchronized(void **state)
{
	(void)state;
	/* RFC 9293 §3.5.2: ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT,
	 * CLOSING, LAST-ACK, TIME-WAIT are the synchronized states. */
	assert_false(tcp_state_synchronized(TCP_CLOSED));
	assert_false(tcp_state_synchronized(TCP_LISTEN));
	assert_false(tcp_state_synchronized(TCP_SYN_SENT));
	assert_false(tcp_state_synchronized(TCP_SYN_RECEIVED));
	assert_true(tcp_state_synchronized(TCP_ESTABLISHED));
	assert_true(tcp_state_synchronized(TCP_FIN_WAIT_1));
	assert_true(tcp_state_synchronized(TCP_FIN_WAIT_2));
	assert_true(tcp_state_synchronized(TCP_CLOSE_WAIT));
	assert_true(tcp_state_synchronized(TCP_CLOSING));
	assert_true(tcp_state_synchronized(TCP_LAST_ACK));
	assert_true(tcp_state_synchronized(TCP_TIME_WAIT));
	assert_false(tcp_state_synchronized(TCP_STATE_COUNT));
	assert_false(tcp_state_synchronized((enum tcp_state)99));
	assert_false(tcp_state_synchronized((enum tcp_state)-1));
}

static void test_init(void **state)
{
	(void)state;
	const enum tcp_state initial[] = { TCP_CLOSED, TCP_LISTEN, TCP_ESTABLISHED };

	for (size_t i = 0; i < sizeof initial / sizeof initial[0]; i++) {
		struct tcp_endpoint ep;

		/* Garbage first: init must set every flag itself. */
		memset(&ep, 0xA5, sizeof ep);
		tcp_endpoint_init(&ep, initial[i]);
		assert_int_equal(ep.state, initial[i]);
		assert_false(ep.iss_known);
		assert_false(ep.irs_known);
		assert_false(ep.fin_sent);
		assert_false(ep.fin_received);
		assert_false(ep.syn_acked);
		assert_false(ep.fin_acked);
	}
}

/* The TCB fields of §3.3.1 that the header defines, in every state reached
 * the ordinary way. */
static void row_tcb_in_every_state(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;

	for (int s = TCP_SYN_SENT; s < TCP_STATE_COUNT; s++) {
		struct tcp_endpoint ep;
		struct expect ex;
		enum tcp_state st = (enum tcp_state)s;
		bool fin_out = st == TCP_FIN_WAIT_1 || st == TCP_FIN_WAIT_2 || st == TCP_CLOSING ||
			       st == TCP_LAST_ACK || st == TCP_TIME_WAIT;
		bool fin_in = st == TCP_CLOSE_WAIT || st == TCP_CLOSING || st == TCP_LAST_ACK ||
			      st == TCP_TIME_WAIT;

		set_ctx(m, v, sname(st));
		reach(&ep, st, m, v, &ex);
		CHECK(ep.iss_known);
		CHECK_U32(ep.iss, I);
		if (st != TCP_SYN_SENT) {
			CHECK(ep.irs_known);
			CHECK_U32(ep.irs, R);
		} else {
			CHECK(!ep.irs_known);
		}
		/* Our SYN is acked from ESTABLISHED on (this path reaches
		 * SYN-RECEIVED passively, before the peer's ACK). */
		CHECK(ep.syn_acked == (st >= TCP_ESTABLISHED));
		CHECK(ep.fin_sent == fin_out);
		if (fin_out)
			CHECK_U32(ep.fin_seq, I + 1);
		CHECK(ep.fin_received == fin_in);
		if (fin_in)
			CHECK_U32(ep.peer_fin_seq, R + 1);
		CHECK(ep.fin_acked == (st == TCP_FIN_WAIT_2 || st == TCP_TIME_WAIT));
	}
}

static void test_tcb_in_every_state(void **state)
{
	(void)state;
	run_all(row_tcb_in_every_state);
}

/* ================================================================================
 * Received segments, row by row
 * ================================================================================ */

/* CLOSED, any non-RST → CLOSED, SEND_RST, unacceptable; an RST is discarded
 * (§3.10.7.1). */
static void row_rx_closed(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	const struct {
		uint8_t flags;
		uint32_t len;
	} non_rst[] = {
		{ F_S, 0 }, { F_A, 0 }, { F_SA, 0 }, { F_FA, 0 }, { F_PA, 100 },
		{ (uint8_t)(TCP_FLAG_SYN | TCP_FLAG_FIN), 0 },
	};
	struct tcp_endpoint ep, snap;
	struct expect ex;
	struct tcp_transition t;

	for (size_t i = 0; i < sizeof non_rst / sizeof non_rst[0]; i++) {
		reach(&ep, TCP_CLOSED, m, v, &ex);
		t = rx(&ep, non_rst[i].flags, R, I, non_rst[i].len);
		CHECK_TR(t, &ep, TCP_CLOSED, TCP_CLOSED);
		CHECK_ACTS(t.actions, TCP_ACT_SEND_RST);
		CHECK(t.unacceptable);
	}
	reach(&ep, TCP_CLOSED, m, v, &ex);
	memcpy(&snap, &ep, sizeof snap);
	t = rx(&ep, F_R, R, 0, 0);
	CHECK_TR(t, &ep, TCP_CLOSED, TCP_CLOSED);
	CHECK_ACTS(t.actions, TCP_ACT_NONE);
	t = rx(&ep, F_RA, R, I, 0);
	CHECK_TR(t, &ep, TCP_CLOSED, TCP_CLOSED);
	CHECK_ACTS(t.actions, TCP_ACT_NONE);
	CHECK_TCB_SAME(&ep, snap);
}

/* After the connection is over, a late segment is answered with RST too. */
static void row_rx_closed_after_close(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_TIME_WAIT, m, v, &ex);
	t = call(&ep, TCP_CALL_TIME_WAIT_DONE);
	CHECK_TR(t, &ep, TCP_TIME_WAIT, TCP_CLOSED);
	t = rx(&ep, F_FA, R + 1, I + 2, 0);
	CHECK_TR(t, &ep, TCP_CLOSED, TCP_CLOSED);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_RST);
	CHECK(t.unacceptable);
}

/* LISTEN, SYN → SYN-RECEIVED, SEND_SYNACK, irs learned. */
static void row_rx_listen_syn(enum mode m, const struct variant *v)
{
	const uint32_t R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_LISTEN, m, v, &ex);
	t = rx(&ep, F_S, R, 0, 0);
	CHECK_TR(t, &ep, TCP_LISTEN, TCP_SYN_RECEIVED);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_SYNACK);
	CHECK_CLEAN(t);
	CHECK(ep.irs_known);
	CHECK_U32(ep.irs, R);
	CHECK_U32(ep.rcv_nxt, R + 1);
	CHECK(!ep.syn_acked);
}

/* LISTEN, ACK-bearing segment → LISTEN, SEND_RST (§3.10.7.2: "any
 * acknowledgment is bad" in LISTEN — also a SYN-ACK); RST → ignored. */
static void row_rx_listen_other(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	const struct {
		uint8_t flags;
		uint32_t len;
	} acks[] = { { F_A, 0 }, { F_PA, 10 }, { F_FA, 0 }, { F_SA, 0 } };
	struct tcp_endpoint ep, snap;
	struct expect ex;
	struct tcp_transition t;

	for (size_t i = 0; i < sizeof acks / sizeof acks[0]; i++) {
		reach(&ep, TCP_LISTEN, m, v, &ex);
		t = rx(&ep, acks[i].flags, R, I, acks[i].len);
		CHECK_TR(t, &ep, TCP_LISTEN, TCP_LISTEN);
		CHECK_ACTS(t.actions, TCP_ACT_SEND_RST);
		CHECK(!ep.irs_known);
	}
	reach(&ep, TCP_LISTEN, m, v, &ex);
	memcpy(&snap, &ep, sizeof snap);
	t = rx(&ep, F_R, R, 0, 0);
	CHECK_TR(t, &ep, TCP_LISTEN, TCP_LISTEN);
	CHECK_ACTS(t.actions, TCP_ACT_NONE);
	t = rx(&ep, F_RA, R, I + 1, 0);
	CHECK_TR(t, &ep, TCP_LISTEN, TCP_LISTEN);
	CHECK_ACTS(t.actions, TCP_ACT_NONE);
	CHECK_TCB_SAME(&ep, snap);
	/* ...and the listener still works afterwards. */
	t = rx(&ep, F_S, R, 0, 0);
	CHECK_TR(t, &ep, TCP_LISTEN, TCP_SYN_RECEIVED);
}

/* SYN-SENT, SYN+ACK acking our SYN → ESTABLISHED, SEND_ACK. */
static void row_rx_synsent_synack(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_SYN_SENT, m, v, &ex);
	CHECK(!ep.syn_acked);
	t = rx(&ep, F_SA, R, I + 1, 0);
	CHECK_TR(t, &ep, TCP_SYN_SENT, TCP_ESTABLISHED);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK);
	CHECK_CLEAN(t);
	CHECK(ep.irs_known);
	CHECK_U32(ep.irs, R);
	CHECK_U32(ep.rcv_nxt, R + 1);
	CHECK(ep.syn_acked);
	CHECK_U32(ep.snd_nxt, I + 1);
}

/* SYN-SENT, SYN without ACK → SYN-RECEIVED, SEND_SYNACK (simultaneous open). */
static void row_rx_synsent_syn(enum mode m, const struct variant *v)
{
	const uint32_t R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_SYN_SENT, m, v, &ex);
	t = rx(&ep, F_S, R, 0, 0);
	CHECK_TR(t, &ep, TCP_SYN_SENT, TCP_SYN_RECEIVED);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_SYNACK);
	CHECK_CLEAN(t);
	CHECK(ep.irs_known);
	CHECK_U32(ep.irs, R);
	CHECK_U32(ep.rcv_nxt, R + 1);
	CHECK(!ep.syn_acked);
}

/* SYN-SENT, RST acking our SYN → CLOSED, DELETE_TCB ("connection refused",
 * §3.10.7.3). */
static void row_rx_synsent_rst(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	/* What a stack with nothing listening answers: <SEQ=0><ACK=I+1><CTL=RST,ACK>. */
	reach(&ep, TCP_SYN_SENT, m, v, &ex);
	t = rx(&ep, F_RA, 0, I + 1, 0);
	CHECK_TR(t, &ep, TCP_SYN_SENT, TCP_CLOSED);
	CHECK_ACTS(t.actions, TCP_ACT_DELETE_TCB);
	CHECK(!t.unacceptable);
}

/* SYN-SENT, RST whose ACK does not ack our SYN (or that has no ACK) →
 * unacceptable, ignored: no state change, no RST in reply (§3.10.7.3). */
static void row_rx_synsent_rst_bad(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	const struct {
		uint8_t flags;
		uint32_t ack;
	} bad[] = {
		{ F_RA, I },               /* ack == ISS: acks nothing */
		{ F_RA, I - 1 },
		{ F_RA, I + 2 },           /* beyond SND.NXT */
		{ F_RA, I + 0x10000u },
		{ F_RA, I + 0x80000000u },
		{ F_R, I + 1 },            /* the right number, but no ACK bit */
		{ F_R, 0 },
	};
	struct tcp_endpoint ep, snap;
	struct expect ex;
	struct tcp_transition t;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		reach(&ep, TCP_SYN_SENT, m, v, &ex);
		memcpy(&snap, &ep, sizeof snap);
		t = rx(&ep, bad[i].flags, R, bad[i].ack, 0);
		CHECK_TR(t, &ep, TCP_SYN_SENT, TCP_SYN_SENT);
		CHECK(t.unacceptable);
		CHECK_ACTS(t.actions, TCP_ACT_NONE);
		CHECK_TCB_SAME(&ep, snap);
	}
}

/* SYN-SENT, ACK (with or without SYN) not acking our SYN → SYN-SENT,
 * SEND_RST, unacceptable (§3.10.7.3 "If SEG.ACK =< ISS or SEG.ACK > SND.NXT"). */
static void row_rx_synsent_badack(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	const struct {
		uint8_t flags;
		uint32_t ack;
	} bad[] = {
		{ F_A, I }, { F_A, I + 2 }, { F_A, I - 1000 },
		{ F_SA, I }, { F_SA, I + 2 }, { F_SA, I + 0x80000000u },
	};
	struct tcp_endpoint ep, snap;
	struct expect ex;
	struct tcp_transition t;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char extra[64];

		snprintf(extra, sizeof extra, "case %zu", i);
		set_ctx(m, v, extra);
		reach(&ep, TCP_SYN_SENT, m, v, &ex);
		memcpy(&snap, &ep, sizeof snap);
		t = rx(&ep, bad[i].flags, R, bad[i].ack, 0);
		CHECK_TR(t, &ep, TCP_SYN_SENT, TCP_SYN_SENT);
		CHECK_ACTS(t.actions, TCP_ACT_SEND_RST);
		CHECK(t.unacceptable);
		CHECK(!ep.syn_acked);
		CHECK(!ep.irs_known);
		CHECK_TCB_SAME(&ep, snap);
		/* Still able to complete the handshake afterwards. */
		t = rx(&ep, F_SA, R, I + 1, 0);
		CHECK_TR(t, &ep, TCP_SYN_SENT, TCP_ESTABLISHED);
	}
}

/* SYN-RECEIVED, ACK acking our SYN → ESTABLISHED (no action for a bare ACK);
 * with FIN also → CLOSE-WAIT, SEND_ACK; an ACK that does not ack the SYN
 * does not establish. */
static void row_rx_synrcvd_ack(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_SYN_RECEIVED, m, v, &ex);
	CHECK(!ep.syn_acked);
	t = rx(&ep, F_A, R + 1, I + 1, 0);
	CHECK_TR(t, &ep, TCP_SYN_RECEIVED, TCP_ESTABLISHED);
	CHECK_ACTS(t.actions, TCP_ACT_NONE);
	CHECK_CLEAN(t);
	CHECK(ep.syn_acked);

	reach(&ep, TCP_SYN_RECEIVED, m, v, &ex);
	t = rx(&ep, F_FA, R + 1, I + 1, 0);
	CHECK_TR(t, &ep, TCP_SYN_RECEIVED, TCP_CLOSE_WAIT);
	CHECK(t.has_via);
	CHECK_STATE(t.via, TCP_ESTABLISHED);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK);
	CHECK_CLEAN(t);
	CHECK(ep.syn_acked);
	CHECK(ep.fin_received);
	CHECK_U32(ep.peer_fin_seq, R + 1);
	CHECK_U32(ep.rcv_nxt, R + 2);

	const uint32_t bad_acks[] = { I, I + 2, I + 0x80000000u };
	for (size_t i = 0; i < sizeof bad_acks / sizeof bad_acks[0]; i++) {
		reach(&ep, TCP_SYN_RECEIVED, m, v, &ex);
		t = rx(&ep, F_A, R + 1, bad_acks[i], 0);
		CHECK_TR(t, &ep, TCP_SYN_RECEIVED, TCP_SYN_RECEIVED);
		CHECK(!ep.syn_acked);
	}
}

/* SYN-RECEIVED, RST → LISTEN after a passive open, CLOSED after an active
 * (simultaneous) one (§3.10.7.4). */
static void row_rx_synrcvd_rst(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_SYN_RECEIVED, m, v, &ex);
	t = rx(&ep, F_R, R + 1, 0, 0);
	CHECK_TR(t, &ep, TCP_SYN_RECEIVED, TCP_LISTEN);
	CHECK_LACKS(t.actions, TCP_ACT_SEND_RST | TCP_ACT_SEND_ACK);
	/* Back in LISTEN: a new SYN starts over. */
	t = rx(&ep, F_S, R + 7777, 0, 0);
	CHECK_TR(t, &ep, TCP_LISTEN, TCP_SYN_RECEIVED);
	CHECK_U32(ep.irs, R + 7777);

	reach_simopen_synrcvd(&ep, m, v);
	t = rx(&ep, F_RA, R + 1, I + 1, 0);
	CHECK_TR(t, &ep, TCP_SYN_RECEIVED, TCP_CLOSED);
	CHECK_HAS(t.actions, TCP_ACT_DELETE_TCB);
	CHECK_LACKS(t.actions, TCP_ACT_SEND_RST | TCP_ACT_SEND_ACK);
}

/* ESTABLISHED, FIN → CLOSE-WAIT, SEND_ACK; with data too: also DELIVER. */
static void row_rx_est_fin(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_ESTABLISHED, m, v, &ex);
	t = rx(&ep, F_FA, R + 1, I + 1, 0);
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_CLOSE_WAIT);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK);
	CHECK_CLEAN(t);
	CHECK(ep.fin_received);
	CHECK_U32(ep.peer_fin_seq, R + 1);
	CHECK_U32(ep.rcv_nxt, R + 2);
	CHECK(!ep.fin_sent);

	reach(&ep, TCP_ESTABLISHED, m, v, &ex);
	t = rx(&ep, F_FPA, R + 1, I + 1, 50);
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_CLOSE_WAIT);
	CHECK_HAS(t.actions, TCP_ACT_SEND_ACK | TCP_ACT_DELIVER);
	CHECK_CLEAN(t);
	CHECK_U32(ep.peer_fin_seq, R + 51);
	CHECK_U32(ep.rcv_nxt, R + 52);
}

/* ESTABLISHED, data → ESTABLISHED, SEND_ACK|DELIVER; a bare ACK needs nothing. */
static void row_rx_est_data(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_ESTABLISHED, m, v, &ex);
	t = rx(&ep, F_PA, R + 1, I + 1, 100);
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_ESTABLISHED);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK | TCP_ACT_DELIVER);
	CHECK_CLEAN(t);
	CHECK_U32(ep.rcv_nxt, R + 101);
	t = rx(&ep, F_A, R + 101, I + 1, 1);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK | TCP_ACT_DELIVER);
	CHECK_U32(ep.rcv_nxt, R + 102);

	/* We send 10 bytes; the peer's bare ACK of them. */
	tx(&ep, F_PA, I + 1, R + 102, 10);
	CHECK_U32(ep.snd_nxt, I + 11);
	t = rx(&ep, F_A, R + 102, I + 11, 0);
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_ESTABLISHED);
	CHECK_ACTS(t.actions, TCP_ACT_NONE);
	CHECK_CLEAN(t);
	/* A duplicate bare ACK occupies no sequence space: not a retransmission. */
	t = rx(&ep, F_A, R + 102, I + 11, 0);
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_ESTABLISHED);
	CHECK_CLEAN(t);
	CHECK_LACKS(t.actions, TCP_ACT_DELIVER);
	CHECK_U32(ep.rcv_nxt, R + 102);
}

/* FIN-WAIT-1, ACK acking our FIN → FIN-WAIT-2; an ACK below it stays. */
static void row_rx_fw1_ack(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_FIN_WAIT_1, m, v, &ex);
	t = rx(&ep, F_A, R + 1, I + 1, 0); /* acks up to, not including, the FIN */
	CHECK_TR(t, &ep, TCP_FIN_WAIT_1, TCP_FIN_WAIT_1);
	CHECK(!ep.fin_acked);
	t = rx(&ep, F_A, R + 1, I + 2, 0);
	CHECK_TR(t, &ep, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2);
	CHECK_ACTS(t.actions, TCP_ACT_NONE);
	CHECK_CLEAN(t);
	CHECK(ep.fin_acked);
}

/* FIN-WAIT-1, FIN not acking our FIN → CLOSING, SEND_ACK (simultaneous close). */
static void row_rx_fw1_fin(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_FIN_WAIT_1, m, v, &ex);
	t = rx(&ep, F_FA, R + 1, I + 1, 0);
	CHECK_TR(t, &ep, TCP_FIN_WAIT_1, TCP_CLOSING);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK);
	CHECK_CLEAN(t);
	CHECK(ep.fin_received);
	CHECK_U32(ep.peer_fin_seq, R + 1);
	CHECK_U32(ep.rcv_nxt, R + 2);
	CHECK(!ep.fin_acked);
}

/* FIN-WAIT-1, FIN acking our FIN → TIME-WAIT, SEND_ACK|START_2MSL
 * (three-segment close). */
static void row_rx_fw1_finack(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_FIN_WAIT_1, m, v, &ex);
	t = rx(&ep, F_FA, R + 1, I + 2, 0);
	CHECK_TR(t, &ep, TCP_FIN_WAIT_1, TCP_TIME_WAIT);
	/* §3.10.7.4: the ACK field first (→ FIN-WAIT-2), then the FIN bit; Linux's
	 * tracepoint shows both steps */
	CHECK(t.has_via);
	CHECK_STATE(t.via, TCP_FIN_WAIT_2);
	CHECK(t.via_reason && t.via_reason[0]);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK | TCP_ACT_START_2MSL);
	CHECK_CLEAN(t);
	CHECK(ep.fin_acked);
	CHECK(ep.fin_received);
	CHECK_U32(ep.peer_fin_seq, R + 1);
	CHECK_U32(ep.rcv_nxt, R + 2);
}

/* FIN-WAIT-2, FIN → TIME-WAIT, SEND_ACK|START_2MSL. */
static void row_rx_fw2_fin(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_FIN_WAIT_2, m, v, &ex);
	t = rx(&ep, F_FA, R + 1, I + 2, 0);
	CHECK_TR(t, &ep, TCP_FIN_WAIT_2, TCP_TIME_WAIT);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK | TCP_ACT_START_2MSL);
	CHECK(!t.has_via);   /* one step: only a state change inside the step passes through */
	CHECK_CLEAN(t);
	CHECK(ep.fin_received);
	CHECK_U32(ep.peer_fin_seq, R + 1);
	CHECK_U32(ep.rcv_nxt, R + 2);
}

/* FIN-WAIT-2, data → FIN-WAIT-2, SEND_ACK|DELIVER (half-close: the peer may
 * keep sending, §3.6), then its FIN → TIME-WAIT. */
static void row_rx_fw2_data(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_FIN_WAIT_2, m, v, &ex);
	t = rx(&ep, F_PA, R + 1, I + 2, 100);
	CHECK_TR(t, &ep, TCP_FIN_WAIT_2, TCP_FIN_WAIT_2);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK | TCP_ACT_DELIVER);
	CHECK_CLEAN(t);
	CHECK_U32(ep.rcv_nxt, R + 101);
	t = rx(&ep, F_PA, R + 101, I + 2, 1000);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK | TCP_ACT_DELIVER);
	CHECK_U32(ep.rcv_nxt, R + 1101);
	t = rx(&ep, F_FA, R + 1101, I + 2, 0);
	CHECK_TR(t, &ep, TCP_FIN_WAIT_2, TCP_TIME_WAIT);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK | TCP_ACT_START_2MSL);
	CHECK_U32(ep.peer_fin_seq, R + 1101);
	CHECK_U32(ep.rcv_nxt, R + 1102);
}

/* CLOSE-WAIT, FIN retransmitted → CLOSE-WAIT, SEND_ACK, retransmission. */
static void row_rx_cw_fin_again(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_CLOSE_WAIT, m, v, &ex);
	t = rx(&ep, F_FA, R + 1, I + 1, 0);
	CHECK_TR(t, &ep, TCP_CLOSE_WAIT, TCP_CLOSE_WAIT);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK);
	CHECK(t.retransmission);
	CHECK_U32(ep.rcv_nxt, R + 2);
	CHECK_U32(ep.peer_fin_seq, R + 1);
}

/* CLOSING, ACK acking our FIN → TIME-WAIT, START_2MSL; below it: stays. */
static void row_rx_closing_ack(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_CLOSING, m, v, &ex);
	t = rx(&ep, F_A, R + 2, I + 1, 0);
	CHECK_TR(t, &ep, TCP_CLOSING, TCP_CLOSING);
	CHECK(!ep.fin_acked);
	t = rx(&ep, F_A, R + 2, I + 2, 0);
	CHECK_TR(t, &ep, TCP_CLOSING, TCP_TIME_WAIT);
	CHECK_ACTS(t.actions, TCP_ACT_START_2MSL);
	CHECK_CLEAN(t);
	CHECK(ep.fin_acked);
}

/* LAST-ACK, ACK acking our FIN → CLOSED, DELETE_TCB; below it: stays. */
static void row_rx_lastack_ack(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_LAST_ACK, m, v, &ex);
	t = rx(&ep, F_A, R + 2, I + 1, 0);
	CHECK_TR(t, &ep, TCP_LAST_ACK, TCP_LAST_ACK);
	CHECK_LACKS(t.actions, TCP_ACT_DELETE_TCB);
	t = rx(&ep, F_A, R + 2, I + 2, 0);
	CHECK_TR(t, &ep, TCP_LAST_ACK, TCP_CLOSED);
	CHECK_ACTS(t.actions, TCP_ACT_DELETE_TCB);
	CHECK_CLEAN(t);
}

/* TIME-WAIT, FIN retransmitted → TIME-WAIT, SEND_ACK|START_2MSL (§3.10.7.4:
 * "acknowledge it, and restart the 2 MSL timeout"). */
static void row_rx_tw_fin_again(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_TIME_WAIT, m, v, &ex);
	for (int k = 0; k < 3; k++) {
		t = rx(&ep, F_FA, R + 1, I + 2, 0);
		CHECK_TR(t, &ep, TCP_TIME_WAIT, TCP_TIME_WAIT);
		CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK | TCP_ACT_START_2MSL);
		CHECK(t.retransmission);
		CHECK_U32(ep.rcv_nxt, R + 2);
	}
	/* A bare ACK in TIME-WAIT restarts nothing. */
	t = rx(&ep, F_A, R + 2, I + 2, 0);
	CHECK_TR(t, &ep, TCP_TIME_WAIT, TCP_TIME_WAIT);
	CHECK_LACKS(t.actions, TCP_ACT_START_2MSL | TCP_ACT_DELETE_TCB);
}

/* Any synchronized state, acceptable RST → CLOSED, DELETE_TCB ("connection
 * reset"): seq anywhere in [RCV.NXT-1, RCV.NXT+2^30), with or without ACK. */
static void row_rx_rst_sync(enum mode m, const struct variant *v)
{
	for (size_t i = 0; i < NSYNC; i++) {
		const uint32_t offs[] = { 0, (uint32_t)-1, 1, 1000, WIN30 - 1 };

		for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++) {
			for (int withack = 0; withack < 2; withack++) {
				struct tcp_endpoint ep;
				struct expect ex;
				struct tcp_transition t;
				char extra[96];

				snprintf(extra, sizeof extra, "%s, RST%s at rcv_nxt%+d",
					 sname(SYNCHRONIZED[i]), withack ? "+ACK" : "",
					 (int)(int32_t)offs[k]);
				set_ctx(m, v, extra);
				reach(&ep, SYNCHRONIZED[i], m, v, &ex);
				t = rx(&ep, withack ? F_RA : F_R, ex.rcv_nxt + offs[k],
				       withack ? ex.snd_nxt : 0, 0);
				CHECK_TR(t, &ep, SYNCHRONIZED[i], TCP_CLOSED);
				CHECK_ACTS(t.actions, TCP_ACT_DELETE_TCB);
				CHECK(!t.unacceptable);
			}
		}
	}
}

/* An RST outside [RCV.NXT-1, RCV.NXT+2^30) is unacceptable and ignored, in
 * every synchronized state and in SYN-RECEIVED. */
static void row_rx_rst_out_of_window(enum mode m, const struct variant *v)
{
	enum tcp_state states[NSYNC + 1];

	states[0] = TCP_SYN_RECEIVED;
	memcpy(states + 1, SYNCHRONIZED, sizeof SYNCHRONIZED);
	for (size_t i = 0; i < NSYNC + 1; i++) {
		const uint32_t offs[] = { (uint32_t)-2, (uint32_t)-1000, WIN30, WIN30 + 1,
					  0x80000000u, 0xC0000000u };

		for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++) {
			struct tcp_endpoint ep, snap;
			struct expect ex;
			struct tcp_transition t;
			char extra[96];

			snprintf(extra, sizeof extra, "%s, RST at rcv_nxt+0x%08" PRIx32,
				 sname(states[i]), offs[k]);
			set_ctx(m, v, extra);
			reach(&ep, states[i], m, v, &ex);
			memcpy(&snap, &ep, sizeof snap);
			t = rx(&ep, F_R, ex.rcv_nxt + offs[k], 0, 0);
			CHECK_TR(t, &ep, states[i], states[i]);
			CHECK(t.unacceptable);
			CHECK_LACKS(t.actions, TCP_ACT_DELETE_TCB | TCP_ACT_SEND_RST);
			CHECK_TCB_SAME(&ep, snap);
		}
	}
}

/* RFC 9293 §3.10.7.4 fourth check: a SYN with a new number in a
 * synchronized state gets a challenge ACK (RFC 5961 §4), never a reset of
 * our side; fifth check: a segment without ACK is dropped (nothing
 * delivered). */
static void row_rx_sync_syn_and_noack(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;

	for (size_t i = 0; i < NSYNC; i++) {
		struct tcp_endpoint ep, snap;
		struct expect ex;
		struct tcp_transition t;

		set_ctx(m, v, sname(SYNCHRONIZED[i]));
		reach(&ep, SYNCHRONIZED[i], m, v, &ex);
		t = rx(&ep, F_S, R + 0x10000000u, 0, 0);
		CHECK_TR(t, &ep, SYNCHRONIZED[i], SYNCHRONIZED[i]);
		CHECK_HAS(t.actions, TCP_ACT_SEND_ACK);
		CHECK_LACKS(t.actions, TCP_ACT_DELETE_TCB | TCP_ACT_SEND_RST | TCP_ACT_DELIVER);

		reach(&ep, SYNCHRONIZED[i], m, v, &ex);
		memcpy(&snap, &ep, sizeof snap);
		t = rx(&ep, (uint8_t)TCP_FLAG_PSH, ex.rcv_nxt, I, 10);
		CHECK_TR(t, &ep, SYNCHRONIZED[i], SYNCHRONIZED[i]);
		CHECK_LACKS(t.actions, TCP_ACT_DELIVER | TCP_ACT_DELETE_TCB);
		CHECK_TCB_SAME(&ep, snap);
	}
}

/* A segment repeating sequence space already received → same state,
 * SEND_ACK, retransmission (the first line of §3.10.7.4: unacceptable
 * segments get an ACK). */
static void row_rx_retransmissions(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	/* Our ACK of the SYN-ACK was lost: the SYN-ACK comes again. */
	reach(&ep, TCP_ESTABLISHED, m, v, &ex);
	t = rx(&ep, F_SA, R, I + 1, 0);
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_ESTABLISHED);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK);
	CHECK(t.retransmission);
	CHECK_U32(ep.rcv_nxt, R + 1);
	CHECK_U32(ep.irs, R);

	/* Data, then the same data again: ACK, but nothing to deliver. */
	t = rx(&ep, F_PA, R + 1, I + 1, 100);
	CHECK_CLEAN(t);
	t = rx(&ep, F_PA, R + 1, I + 1, 100);
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_ESTABLISHED);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK);
	CHECK(t.retransmission);
	CHECK_U32(ep.rcv_nxt, R + 101);
	/* Ending exactly at RCV.NXT is still entirely old. */
	t = rx(&ep, F_PA, R + 51, I + 1, 50);
	CHECK(t.retransmission);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK);
	/* One new byte makes it new data (partial overlap). */
	t = rx(&ep, F_PA, R + 51, I + 1, 51);
	CHECK(!t.retransmission);
	CHECK_HAS(t.actions, TCP_ACT_DELIVER | TCP_ACT_SEND_ACK);
	CHECK_U32(ep.rcv_nxt, R + 102);

	/* The peer's SYN again while we are in SYN-RECEIVED (our SYN-ACK was
	 * lost): the peer must be answered (ACK per the table; a SYN-ACK
	 * would do too) and nothing else moves. */
	reach(&ep, TCP_SYN_RECEIVED, m, v, &ex);
	t = rx(&ep, F_S, R, 0, 0);
	CHECK_TR(t, &ep, TCP_SYN_RECEIVED, TCP_SYN_RECEIVED);
	CHECK(t.retransmission);
	CHECK((t.actions & (TCP_ACT_SEND_ACK | TCP_ACT_SEND_SYNACK)) != 0);
	CHECK_LACKS(t.actions, TCP_ACT_SEND_RST | TCP_ACT_DELETE_TCB | TCP_ACT_DELIVER);
	CHECK_U32(ep.rcv_nxt, R + 1);
	CHECK_U32(ep.irs, R);

	/* FIN-WAIT-2: data retransmitted. */
	reach(&ep, TCP_FIN_WAIT_2, m, v, &ex);
	rx(&ep, F_PA, R + 1, I + 2, 10);
	t = rx(&ep, F_PA, R + 1, I + 2, 10);
	CHECK_TR(t, &ep, TCP_FIN_WAIT_2, TCP_FIN_WAIT_2);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK);
	CHECK(t.retransmission);

	/* CLOSING and LAST-ACK: the peer's FIN again (our ACK of it was lost). */
	reach(&ep, TCP_CLOSING, m, v, &ex);
	t = rx(&ep, F_FA, R + 1, I + 1, 0);
	CHECK_TR(t, &ep, TCP_CLOSING, TCP_CLOSING);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK);
	CHECK(t.retransmission);

	reach(&ep, TCP_LAST_ACK, m, v, &ex);
	t = rx(&ep, F_FA, R + 1, I + 1, 0);
	CHECK_TR(t, &ep, TCP_LAST_ACK, TCP_LAST_ACK);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK);
	CHECK(t.retransmission);
}

/* ================================================================================
 * Sent segments, row by row
 * ================================================================================ */

/* CLOSED, SYN sent → SYN-SENT, iss learned (observed); after OPEN_ACTIVE the
 * driven endpoint's own SYN teaches the ISS without being a retransmission. */
static void row_tx_syn(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss;
	struct tcp_endpoint ep;
	struct tcp_transition t;
	enum tcp_state from = TCP_CLOSED;

	tcp_endpoint_init(&ep, TCP_CLOSED);
	if (m == DRIVEN) {
		t = call(&ep, TCP_CALL_OPEN_ACTIVE);
		CHECK_TR(t, &ep, TCP_CLOSED, TCP_SYN_SENT);
		CHECK_ACTS(t.actions, TCP_ACT_SEND_SYN);
		CHECK(!ep.iss_known); /* OPEN only moves the state */
		from = TCP_SYN_SENT;
	}
	t = tx(&ep, F_S, I, 0, 0);
	CHECK_TR(t, &ep, from, TCP_SYN_SENT);
	CHECK_CLEAN(t);
	CHECK(ep.iss_known);
	CHECK_U32(ep.iss, I);
	CHECK_U32(ep.snd_nxt, I + 1);
	CHECK(!ep.syn_acked);
}

/* LISTEN, SYN-ACK sent → SYN-RECEIVED (the peer's SYN was not captured); the
 * handshake then completes on the peer's ACK. */
static void row_tx_listen_synack(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_LISTEN, m, v, &ex);
	t = tx(&ep, F_SA, I, R + 1, 0);
	CHECK_TR(t, &ep, TCP_LISTEN, TCP_SYN_RECEIVED);
	CHECK_CLEAN(t);
	CHECK(ep.iss_known);
	CHECK_U32(ep.iss, I);
	CHECK_U32(ep.snd_nxt, I + 1);
	t = rx(&ep, F_A, R + 1, I + 1, 0);
	CHECK_TR(t, &ep, TCP_SYN_RECEIVED, TCP_ESTABLISHED);
	CHECK(ep.syn_acked);
}

/* A listener seen only by its SYN-ACK (the peer's SYN not captured) made a
 * passive open too: an RST sends it back to LISTEN (§3.10.7.4). */
static void row_tx_listen_synack_rst(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_LISTEN, m, v, &ex);
	t = tx(&ep, F_SA, I, R + 1, 0);
	CHECK_TR(t, &ep, TCP_LISTEN, TCP_SYN_RECEIVED);
	t = rx(&ep, F_R, R + 1, 0, 0);
	CHECK_TR(t, &ep, TCP_SYN_RECEIVED, TCP_LISTEN);
	CHECK_LACKS(t.actions, TCP_ACT_SEND_RST | TCP_ACT_DELETE_TCB);
}

/* SYN-SENT, SYN-ACK sent → SYN-RECEIVED (simultaneous open, the peer's SYN
 * not captured). */
static void row_tx_synsent_synack(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_SYN_SENT, m, v, &ex);
	t = tx(&ep, F_SA, I, R + 1, 0);
	CHECK_TR(t, &ep, TCP_SYN_SENT, TCP_SYN_RECEIVED);
	CHECK(!t.unacceptable);
	CHECK_U32(ep.iss, I);
	CHECK_U32(ep.snd_nxt, I + 1);
	/* The peer's SYN-ACK (Figure 7 line 6) establishes. */
	t = rx(&ep, F_SA, R, I + 1, 0);
	CHECK_TR(t, &ep, TCP_SYN_RECEIVED, TCP_ESTABLISHED);
	CHECK_LACKS(t.actions, TCP_ACT_SEND_RST | TCP_ACT_DELETE_TCB);
	CHECK(ep.syn_acked);
}

/* SYN-RECEIVED, SYN-ACK sent → SYN-RECEIVED: the first one teaches the ISS,
 * a repeat is a retransmission. */
static void row_tx_synrcvd_synack(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_LISTEN, m, v, &ex);
	rx(&ep, F_S, R, 0, 0);
	CHECK_STATE(ep.state, TCP_SYN_RECEIVED);
	CHECK(!ep.iss_known);
	t = tx(&ep, F_SA, I, R + 1, 0);
	CHECK_TR(t, &ep, TCP_SYN_RECEIVED, TCP_SYN_RECEIVED);
	CHECK_CLEAN(t);
	CHECK(ep.iss_known);
	CHECK_U32(ep.iss, I);
	CHECK_U32(ep.snd_nxt, I + 1);
	for (int k = 0; k < 2; k++) {
		t = tx(&ep, F_SA, I, R + 1, 0);
		CHECK_TR(t, &ep, TCP_SYN_RECEIVED, TCP_SYN_RECEIVED);
		CHECK(t.retransmission);
		CHECK_U32(ep.iss, I);
		CHECK_U32(ep.snd_nxt, I + 1);
	}
	t = rx(&ep, F_A, R + 1, I + 1, 0);
	CHECK_TR(t, &ep, TCP_SYN_RECEIVED, TCP_ESTABLISHED);
}

/* SYN-RECEIVED, FIN sent → FIN-WAIT-1 (driven: CLOSE in SYN-RECEIVED first);
 * the peer's ACK of SYN and FIN at once → FIN-WAIT-2. */
static void row_tx_synrcvd_fin(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;
	enum tcp_state from = TCP_SYN_RECEIVED;

	reach(&ep, TCP_SYN_RECEIVED, m, v, &ex);
	if (m == DRIVEN) {
		t = call(&ep, TCP_CALL_CLOSE);
		CHECK_TR(t, &ep, TCP_SYN_RECEIVED, TCP_FIN_WAIT_1);
		CHECK_ACTS(t.actions, TCP_ACT_SEND_FIN);
		CHECK(!ep.fin_sent);
		from = TCP_FIN_WAIT_1;
	}
	t = tx(&ep, F_FA, I + 1, R + 1, 0);
	CHECK_TR(t, &ep, from, TCP_FIN_WAIT_1);
	CHECK_CLEAN(t);
	CHECK(ep.fin_sent);
	CHECK_U32(ep.fin_seq, I + 1);
	CHECK_U32(ep.snd_nxt, I + 2);
	t = rx(&ep, F_A, R + 1, I + 2, 0);
	CHECK_TR(t, &ep, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2);
	CHECK(ep.fin_acked);
}

/* ESTABLISHED, FIN sent → FIN-WAIT-1; data before it moves the FIN's number,
 * and an ACK of the data alone does not ack the FIN. */
static void row_tx_est_fin(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;
	enum tcp_state from = TCP_ESTABLISHED;

	reach(&ep, TCP_ESTABLISHED, m, v, &ex);
	t = tx(&ep, F_PA, I + 1, R + 1, 100);
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_ESTABLISHED);
	CHECK_CLEAN(t);
	CHECK_U32(ep.snd_nxt, I + 101);
	if (m == DRIVEN) {
		t = call(&ep, TCP_CALL_CLOSE);
		CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_FIN_WAIT_1);
		CHECK_ACTS(t.actions, TCP_ACT_SEND_FIN);
		CHECK(!ep.fin_sent);
		from = TCP_FIN_WAIT_1;
	}
	t = tx(&ep, F_FA, I + 101, R + 1, 0);
	CHECK_TR(t, &ep, from, TCP_FIN_WAIT_1);
	CHECK_CLEAN(t);
	CHECK(ep.fin_sent);
	CHECK_U32(ep.fin_seq, I + 101);
	CHECK_U32(ep.snd_nxt, I + 102);
	t = rx(&ep, F_A, R + 1, I + 101, 0);
	CHECK_TR(t, &ep, TCP_FIN_WAIT_1, TCP_FIN_WAIT_1);
	CHECK(!ep.fin_acked);
	t = rx(&ep, F_A, R + 1, I + 102, 0);
	CHECK_TR(t, &ep, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2);
	CHECK(ep.fin_acked);

	/* FIN carrying data: its number is after the data. */
	reach(&ep, TCP_ESTABLISHED, m, v, &ex);
	if (m == DRIVEN)
		call(&ep, TCP_CALL_CLOSE);
	t = tx(&ep, F_FPA, I + 1, R + 1, 20);
	CHECK_STATE(ep.state, TCP_FIN_WAIT_1);
	CHECK_U32(ep.fin_seq, I + 21);
	CHECK_U32(ep.snd_nxt, I + 22);
}

/* CLOSE-WAIT, FIN sent → LAST-ACK (its ACK covers the peer's FIN). */
static void row_tx_cw_fin(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;
	enum tcp_state from = TCP_CLOSE_WAIT;

	reach(&ep, TCP_CLOSE_WAIT, m, v, &ex);
	if (m == DRIVEN) {
		t = call(&ep, TCP_CALL_CLOSE);
		CHECK_TR(t, &ep, TCP_CLOSE_WAIT, TCP_LAST_ACK);
		CHECK_ACTS(t.actions, TCP_ACT_SEND_FIN);
		CHECK(!ep.fin_sent);
		from = TCP_LAST_ACK;
	}
	t = tx(&ep, F_FA, I + 1, R + 2, 0);
	CHECK_TR(t, &ep, from, TCP_LAST_ACK);
	CHECK_CLEAN(t);
	CHECK(ep.fin_sent);
	CHECK_U32(ep.fin_seq, I + 1);
	CHECK_U32(ep.snd_nxt, I + 2);
}

/* CLOSE-WAIT, FIN sent whose ACK does not cover the peer's FIN → CLOSING:
 * it sent its FIN before it got the peer's (simultaneous close seen from the
 * far side); the ACK of its FIN then → TIME-WAIT. */
static void row_tx_cw_fin_early(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	(void)m;
	reach(&ep, TCP_CLOSE_WAIT, OBSERVED, v, &ex);
	t = tx(&ep, F_FA, I + 1, R + 1, 0);
	CHECK_TR(t, &ep, TCP_CLOSE_WAIT, TCP_CLOSING);
	CHECK(ep.fin_sent);
	CHECK_U32(ep.fin_seq, I + 1);
	t = rx(&ep, F_A, R + 2, I + 2, 0);
	CHECK_TR(t, &ep, TCP_CLOSING, TCP_TIME_WAIT);
	CHECK_ACTS(t.actions, TCP_ACT_START_2MSL);
	CHECK(ep.fin_acked);
}

/* Any state, RST sent → CLOSED, DELETE_TCB ("aborted") — except LISTEN: a
 * listener answers a stray ACK with RST and keeps listening (§3.10.7.2, and
 * the header's own "LISTEN ACK → LISTEN, SEND_RST" row), so its RST must not
 * close it; a later SYN still opens a connection. */
static void row_tx_rst(enum mode m, const struct variant *v)
{
	{
		struct tcp_endpoint ep;
		struct expect ex;
		struct tcp_transition t;

		set_ctx(m, v, "LISTEN, RST sent");
		reach(&ep, TCP_LISTEN, m, v, &ex);
		t = rx(&ep, F_A, v->irs, v->iss, 0);
		CHECK_ACTS(t.actions, TCP_ACT_SEND_RST);
		t = tx(&ep, F_R, v->iss, 0, 0);
		CHECK_TR(t, &ep, TCP_LISTEN, TCP_LISTEN);
		CHECK_LACKS(t.actions, TCP_ACT_DELETE_TCB);
		t = rx(&ep, F_S, v->irs, 0, 0);
		CHECK_TR(t, &ep, TCP_LISTEN, TCP_SYN_RECEIVED);
	}
	{
		/* RFC 9293 Figure 8: the SYN-ACK of an old duplicate SYN reaches
		 * SYN-SENT; the RST that answers it (<SEQ=SEG.ACK>) leaves the
		 * endpoint in SYN-SENT, and the real SYN-ACK then completes. */
		struct tcp_endpoint ep;
		struct expect ex;
		struct tcp_transition t;
		uint32_t old_ack = v->iss - 9;

		set_ctx(m, v, "SYN-SENT, RST answering an old duplicate's SYN-ACK");
		reach(&ep, TCP_SYN_SENT, m, v, &ex);
		t = rx(&ep, F_SA, v->irs - 1000, old_ack, 0);
		CHECK_TR(t, &ep, TCP_SYN_SENT, TCP_SYN_SENT);
		CHECK_ACTS(t.actions, TCP_ACT_SEND_RST);
		t = tx(&ep, F_R, old_ack, 0, 0);
		CHECK_TR(t, &ep, TCP_SYN_SENT, TCP_SYN_SENT);
		CHECK_LACKS(t.actions, TCP_ACT_DELETE_TCB);
		t = rx(&ep, F_SA, v->irs, v->iss + 1, 0);
		CHECK_TR(t, &ep, TCP_SYN_SENT, TCP_ESTABLISHED);
	}
	for (int s = TCP_CLOSED; s < TCP_STATE_COUNT; s++) {
		if (s == TCP_LISTEN)
			continue;
		for (int withack = 0; withack < 2; withack++) {
			struct tcp_endpoint ep;
			struct expect ex;
			struct tcp_transition t;
			char extra[64];
			enum tcp_state st = (enum tcp_state)s;

			snprintf(extra, sizeof extra, "%s, RST%s sent", sname(st),
				 withack ? "+ACK" : "");
			set_ctx(m, v, extra);
			reach(&ep, st, m, v, &ex);
			t = tx(&ep, withack ? F_RA : F_R, ex.snd_nxt, ex.rcv_nxt, 0);
			CHECK_TR(t, &ep, st, TCP_CLOSED);
			if (st != TCP_CLOSED)
				CHECK_ACTS(t.actions, TCP_ACT_DELETE_TCB);
		}
	}
}

/* SYN, FIN or data repeating space already sent → same state, retransmission. */
static void row_tx_retransmissions(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	/* SYN again (the SYN or its SYN-ACK was lost). */
	reach(&ep, TCP_SYN_SENT, m, v, &ex);
	for (int k = 0; k < 3; k++) {
		t = tx(&ep, F_S, I, 0, 0);
		CHECK_TR(t, &ep, TCP_SYN_SENT, TCP_SYN_SENT);
		CHECK(t.retransmission);
		CHECK_U32(ep.iss, I);
		CHECK_U32(ep.snd_nxt, I + 1);
	}

	/* Data again (also a tail of it ending at SND.NXT); a bare ACK (even
	 * below SND.NXT, like a keep-alive) never is one. */
	reach(&ep, TCP_ESTABLISHED, m, v, &ex);
	tx(&ep, F_PA, I + 1, R + 1, 100);
	t = tx(&ep, F_PA, I + 1, R + 1, 100);
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_ESTABLISHED);
	CHECK(t.retransmission);
	t = tx(&ep, F_PA, I + 51, R + 1, 50);
	CHECK(t.retransmission);
	CHECK_U32(ep.snd_nxt, I + 101);
	t = tx(&ep, F_A, I + 100, R + 1, 0);
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_ESTABLISHED);
	CHECK(!t.retransmission);
	CHECK_U32(ep.snd_nxt, I + 101);

	/* FIN again in FIN-WAIT-1, CLOSING and LAST-ACK: same state. */
	reach(&ep, TCP_FIN_WAIT_1, m, v, &ex);
	t = tx(&ep, F_FA, I + 1, R + 1, 0);
	CHECK_TR(t, &ep, TCP_FIN_WAIT_1, TCP_FIN_WAIT_1);
	CHECK(t.retransmission);
	CHECK_U32(ep.fin_seq, I + 1);
	CHECK_U32(ep.snd_nxt, I + 2);

	reach(&ep, TCP_CLOSING, m, v, &ex);
	t = tx(&ep, F_FA, I + 1, R + 2, 0);
	CHECK_TR(t, &ep, TCP_CLOSING, TCP_CLOSING);
	CHECK(t.retransmission);

	/* Lost final ACK: LAST-ACK re-sends its FIN; it must not be read as a
	 * CLOSE-WAIT "FIN" again. */
	reach(&ep, TCP_LAST_ACK, m, v, &ex);
	for (int k = 0; k < 3; k++) {
		t = tx(&ep, F_FA, I + 1, R + 2, 0);
		CHECK_TR(t, &ep, TCP_LAST_ACK, TCP_LAST_ACK);
		CHECK(t.retransmission);
		CHECK_U32(ep.fin_seq, I + 1);
		CHECK_U32(ep.snd_nxt, I + 2);
	}
}

/* A sent segment that starts below SND.NXT is a retransmission even when it
 * is partly new (a repacketized retransmission, Wireshark's rule), and the
 * new part still extends SND.NXT. */
static void row_tx_partial_overlap(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_ESTABLISHED, m, v, &ex);
	tx(&ep, F_PA, I + 1, R + 1, 100);
	t = tx(&ep, F_PA, I + 51, R + 1, 100); /* 50 old bytes, 50 new */
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_ESTABLISHED);
	CHECK(t.retransmission);
	CHECK_U32(ep.snd_nxt, I + 151);
	t = tx(&ep, F_PA, I + 150, R + 1, 2); /* 1 old byte, 1 new */
	CHECK(t.retransmission);
	CHECK_U32(ep.snd_nxt, I + 152);
	t = tx(&ep, F_PA, I + 152, R + 1, 10); /* all new */
	CHECK(!t.retransmission);
	CHECK_U32(ep.snd_nxt, I + 162);
}

/* Anything else sent (ACKs, data) → same state, nothing learned wrongly. */
static void row_tx_other(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_ESTABLISHED, m, v, &ex);
	t = tx(&ep, F_A, I + 1, R + 1, 0);
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_ESTABLISHED);
	CHECK_CLEAN(t);
	t = tx(&ep, F_PA, I + 1, R + 1, 1);
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_ESTABLISHED);
	CHECK_CLEAN(t);
	CHECK(!ep.fin_sent);

	/* FIN-WAIT-2 and TIME-WAIT: the ACK we send changes nothing. */
	reach(&ep, TCP_FIN_WAIT_2, m, v, &ex);
	t = tx(&ep, F_A, I + 2, R + 1, 0);
	CHECK_TR(t, &ep, TCP_FIN_WAIT_2, TCP_FIN_WAIT_2);
	CHECK_CLEAN(t);
	reach(&ep, TCP_TIME_WAIT, m, v, &ex);
	t = tx(&ep, F_A, I + 2, R + 2, 0);
	CHECK_TR(t, &ep, TCP_TIME_WAIT, TCP_TIME_WAIT);
	CHECK_CLEAN(t);
	/* CLOSE-WAIT: data still flows our way out. */
	reach(&ep, TCP_CLOSE_WAIT, m, v, &ex);
	t = tx(&ep, F_PA, I + 1, R + 2, 10);
	CHECK_TR(t, &ep, TCP_CLOSE_WAIT, TCP_CLOSE_WAIT);
	CHECK_U32(ep.snd_nxt, I + 11);
}

/* ================================================================================
 * User calls and timers in every state
 * ================================================================================ */

enum call_kind { C_INVALID, C_EXACT, C_HAS, C_NOCHANGE };

struct call_exp {
	enum call_kind kind;
	enum tcp_state to;
	unsigned acts;
};

#define INV      { C_INVALID, TCP_CLOSED, 0 }
#define DEL      { C_EXACT, TCP_CLOSED, TCP_ACT_DELETE_TCB }
#define RSTDEL   { C_EXACT, TCP_CLOSED, TCP_ACT_SEND_RST | TCP_ACT_DELETE_TCB }
#define CLOSEDEL { C_HAS, TCP_CLOSED, TCP_ACT_DELETE_TCB }

static const enum tcp_call CALLS[] = {
	TCP_CALL_OPEN_PASSIVE, TCP_CALL_OPEN_ACTIVE, TCP_CALL_CLOSE,
	TCP_CALL_ABORT, TCP_CALL_TIME_WAIT_DONE, TCP_CALL_GIVE_UP,
};
static const char *const CALL_NAMES[] = {
	"OPEN_PASSIVE", "OPEN_ACTIVE", "CLOSE", "ABORT", "TIME_WAIT_DONE", "GIVE_UP",
};

/* The header's "Calls" paragraph, as a table [state][call], made precise by
 * RFC 9293 §3.10.1 and §3.10.5 where the paragraph summarises. */
static const struct call_exp CALL_TABLE[TCP_STATE_COUNT][6] = {
	[TCP_CLOSED] = { { C_EXACT, TCP_LISTEN, TCP_ACT_NONE },
			 { C_EXACT, TCP_SYN_SENT, TCP_ACT_SEND_SYN },
			 INV, INV, INV, { C_NOCHANGE, TCP_CLOSED, 0 } },
	/* RFC 9293 §3.10.1 LISTEN: an active OPEN turns the passive connection
	 * into an active one ("select an ISS, send a SYN, enter SYN-SENT"). */
	[TCP_LISTEN] = { INV, { C_EXACT, TCP_SYN_SENT, TCP_ACT_SEND_SYN }, CLOSEDEL, DEL, INV, DEL },
	[TCP_SYN_SENT] = { INV, INV, CLOSEDEL, DEL, INV, DEL },
	[TCP_SYN_RECEIVED] = { INV, INV, { C_EXACT, TCP_FIN_WAIT_1, TCP_ACT_SEND_FIN },
			       RSTDEL, INV, DEL },
	[TCP_ESTABLISHED] = { INV, INV, { C_EXACT, TCP_FIN_WAIT_1, TCP_ACT_SEND_FIN },
			      RSTDEL, INV, DEL },
	[TCP_FIN_WAIT_1] = { INV, INV, INV, RSTDEL, INV, DEL },
	[TCP_FIN_WAIT_2] = { INV, INV, INV, RSTDEL, INV, DEL },
	[TCP_CLOSE_WAIT] = { INV, INV, { C_EXACT, TCP_LAST_ACK, TCP_ACT_SEND_FIN },
			     RSTDEL, INV, DEL },
	/* RFC 9293 §3.10.5: in CLOSING, LAST-ACK and TIME-WAIT ABORT just
	 * deletes the TCB ("respond with ok"): our FIN is already out, no RST. */
	[TCP_CLOSING] = { INV, INV, INV, DEL, INV, DEL },
	[TCP_LAST_ACK] = { INV, INV, INV, DEL, INV, DEL },
	[TCP_TIME_WAIT] = { INV, INV, INV, DEL, DEL, DEL },
};

static void row_calls(enum mode m, const struct variant *v)
{
	for (int s = TCP_CLOSED; s < TCP_STATE_COUNT; s++) {
		for (size_t c = 0; c < sizeof CALLS / sizeof CALLS[0]; c++) {
			const struct call_exp *e = &CALL_TABLE[s][c];
			enum tcp_state st = (enum tcp_state)s;
			struct tcp_endpoint ep, snap;
			struct expect ex;
			struct tcp_transition t;
			char extra[64];

			snprintf(extra, sizeof extra, "%s in %s", CALL_NAMES[c], sname(st));
			set_ctx(m, v, extra);
			reach(&ep, st, m, v, &ex);
			memcpy(&snap, &ep, sizeof snap);
			t = call(&ep, CALLS[c]);
			switch (e->kind) {
			case C_INVALID:
				CHECK_TR(t, &ep, st, st);
				CHECK_ACTS(t.actions, TCP_ACT_NONE);
				CHECK_TCB_SAME(&ep, snap);
				break;
			case C_EXACT:
				CHECK_TR(t, &ep, st, e->to);
				CHECK_ACTS(t.actions, e->acts);
				break;
			case C_HAS:
				CHECK_TR(t, &ep, st, e->to);
				CHECK_HAS(t.actions, e->acts);
				CHECK_LACKS(t.actions, TCP_ACT_SEND_FIN | TCP_ACT_SEND_RST |
							       TCP_ACT_SEND_SYN);
				break;
			case C_NOCHANGE:
				CHECK_TR(t, &ep, st, e->to);
				break;
			}
		}
	}
}

static void test_calls_in_every_state(void **state)
{
	(void)state;
	run_all(row_calls);
}

/* A call value outside the enum is refused, not a crash. */
static void test_call_out_of_range(void **state)
{
	(void)state;
	struct tcp_endpoint ep, snap;
	struct expect ex;
	struct tcp_transition t;

	set_ctx(DRIVEN, &VARIANTS[0], "call 42");
	for (int s = TCP_CLOSED; s < TCP_STATE_COUNT; s++) {
		reach(&ep, (enum tcp_state)s, DRIVEN, &VARIANTS[0], &ex);
		memcpy(&snap, &ep, sizeof snap);
		t = call(&ep, (enum tcp_call)42);
		CHECK_TR(t, &ep, (enum tcp_state)s, (enum tcp_state)s);
		CHECK_ACTS(t.actions, TCP_ACT_NONE);
		CHECK_TCB_SAME(&ep, snap);
	}
}

/* ================================================================================
 * Full paths
 * ================================================================================ */

/* Client: CLOSED → SYN-SENT → ESTABLISHED → FIN-WAIT-1 → FIN-WAIT-2 →
 * TIME-WAIT → CLOSED (RFC 9293 Figures 5 and 12/13, active side). */
static void row_path_client(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint a;
	struct tcp_transition t;
	const bool d = m == DRIVEN;

	tcp_endpoint_init(&a, TCP_CLOSED);
	if (d) {
		t = call(&a, TCP_CALL_OPEN_ACTIVE);
		CHECK_TR(t, &a, TCP_CLOSED, TCP_SYN_SENT);
		CHECK_ACTS(t.actions, TCP_ACT_SEND_SYN);
	}
	t = tx(&a, F_S, I, 0, 0);
	CHECK_TR(t, &a, d ? TCP_SYN_SENT : TCP_CLOSED, TCP_SYN_SENT);
	CHECK_CLEAN(t);

	t = rx(&a, F_SA, R, I + 1, 0);
	CHECK_TR(t, &a, TCP_SYN_SENT, TCP_ESTABLISHED);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK);
	CHECK_CLEAN(t);

	t = tx(&a, F_A, I + 1, R + 1, 0);
	CHECK_TR(t, &a, TCP_ESTABLISHED, TCP_ESTABLISHED);
	CHECK_CLEAN(t);

	t = tx(&a, F_PA, I + 1, R + 1, 100);
	CHECK_TR(t, &a, TCP_ESTABLISHED, TCP_ESTABLISHED);
	CHECK_CLEAN(t);
	t = rx(&a, F_PA, R + 1, I + 101, 300);
	CHECK_TR(t, &a, TCP_ESTABLISHED, TCP_ESTABLISHED);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK | TCP_ACT_DELIVER);
	t = tx(&a, F_A, I + 101, R + 301, 0);
	CHECK_CLEAN(t);

	if (d) {
		t = call(&a, TCP_CALL_CLOSE);
		CHECK_TR(t, &a, TCP_ESTABLISHED, TCP_FIN_WAIT_1);
		CHECK_ACTS(t.actions, TCP_ACT_SEND_FIN);
	}
	t = tx(&a, F_FA, I + 101, R + 301, 0);
	CHECK_TR(t, &a, d ? TCP_FIN_WAIT_1 : TCP_ESTABLISHED, TCP_FIN_WAIT_1);
	CHECK_CLEAN(t);
	CHECK_U32(a.fin_seq, I + 101);

	t = rx(&a, F_A, R + 301, I + 102, 0);
	CHECK_TR(t, &a, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2);
	CHECK_ACTS(t.actions, TCP_ACT_NONE);

	t = rx(&a, F_FA, R + 301, I + 102, 0);
	CHECK_TR(t, &a, TCP_FIN_WAIT_2, TCP_TIME_WAIT);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK | TCP_ACT_START_2MSL);
	CHECK_U32(a.peer_fin_seq, R + 301);
	CHECK_U32(a.rcv_nxt, R + 302);

	t = tx(&a, F_A, I + 102, R + 302, 0);
	CHECK_TR(t, &a, TCP_TIME_WAIT, TCP_TIME_WAIT);
	CHECK_CLEAN(t);

	t = call(&a, TCP_CALL_TIME_WAIT_DONE);
	CHECK_TR(t, &a, TCP_TIME_WAIT, TCP_CLOSED);
	CHECK_ACTS(t.actions, TCP_ACT_DELETE_TCB);
}

/* Server: CLOSED → LISTEN → SYN-RECEIVED → ESTABLISHED → CLOSE-WAIT →
 * LAST-ACK → CLOSED (passive side). */
static void row_path_server(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs; /* I: the server's ISS, R: the client's */
	struct tcp_endpoint b;
	struct tcp_transition t;
	const bool d = m == DRIVEN;

	if (d) {
		tcp_endpoint_init(&b, TCP_CLOSED);
		t = call(&b, TCP_CALL_OPEN_PASSIVE);
		CHECK_TR(t, &b, TCP_CLOSED, TCP_LISTEN);
		CHECK_ACTS(t.actions, TCP_ACT_NONE);
	} else {
		tcp_endpoint_init(&b, TCP_LISTEN);
	}
	t = rx(&b, F_S, R, 0, 0);
	CHECK_TR(t, &b, TCP_LISTEN, TCP_SYN_RECEIVED);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_SYNACK);

	t = tx(&b, F_SA, I, R + 1, 0);
	CHECK_TR(t, &b, TCP_SYN_RECEIVED, TCP_SYN_RECEIVED);
	CHECK_CLEAN(t);

	t = rx(&b, F_A, R + 1, I + 1, 0);
	CHECK_TR(t, &b, TCP_SYN_RECEIVED, TCP_ESTABLISHED);
	CHECK_ACTS(t.actions, TCP_ACT_NONE);

	t = rx(&b, F_PA, R + 1, I + 1, 40);
	CHECK_TR(t, &b, TCP_ESTABLISHED, TCP_ESTABLISHED);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK | TCP_ACT_DELIVER);
	t = tx(&b, F_PA, I + 1, R + 41, 400);
	CHECK_CLEAN(t);

	t = rx(&b, F_FA, R + 41, I + 401, 0);
	CHECK_TR(t, &b, TCP_ESTABLISHED, TCP_CLOSE_WAIT);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK);
	t = tx(&b, F_A, I + 401, R + 42, 0);
	CHECK_TR(t, &b, TCP_CLOSE_WAIT, TCP_CLOSE_WAIT);

	if (d) {
		t = call(&b, TCP_CALL_CLOSE);
		CHECK_TR(t, &b, TCP_CLOSE_WAIT, TCP_LAST_ACK);
		CHECK_ACTS(t.actions, TCP_ACT_SEND_FIN);
	}
	t = tx(&b, F_FA, I + 401, R + 42, 0);
	CHECK_TR(t, &b, d ? TCP_LAST_ACK : TCP_CLOSE_WAIT, TCP_LAST_ACK);
	CHECK_CLEAN(t);
	CHECK_U32(b.fin_seq, I + 401);

	t = rx(&b, F_A, R + 42, I + 402, 0);
	CHECK_TR(t, &b, TCP_LAST_ACK, TCP_CLOSED);
	CHECK_ACTS(t.actions, TCP_ACT_DELETE_TCB);
}

/* Two endpoints talking: a segment sent by one is received by the other. */
static void xfer(struct tcp_endpoint *from, struct tcp_endpoint *to, uint8_t flags, uint32_t seq,
		 uint32_t ack, uint32_t len, struct tcp_transition *tf, struct tcp_transition *tt)
{
	*tf = tx(from, flags, seq, ack, len);
	*tt = rx(to, flags, seq, ack, len);
}

/* Establishes A (active, ISS I) and B (passive, ISS R) with each other. */
static void pair_established(struct tcp_endpoint *a, struct tcp_endpoint *b, enum mode m,
			     const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_transition ta, tb;

	tcp_endpoint_init(a, TCP_CLOSED);
	tcp_endpoint_init(b, m == DRIVEN ? TCP_CLOSED : TCP_LISTEN);
	if (m == DRIVEN) {
		call(b, TCP_CALL_OPEN_PASSIVE);
		call(a, TCP_CALL_OPEN_ACTIVE);
	}
	xfer(a, b, F_S, I, 0, 0, &ta, &tb);
	xfer(b, a, F_SA, R, I + 1, 0, &tb, &ta);
	xfer(a, b, F_A, I + 1, R + 1, 0, &ta, &tb);
	CHECK_STATE(a->state, TCP_ESTABLISHED);
	CHECK_STATE(b->state, TCP_ESTABLISHED);
}

/* Three-segment close: B's FIN rides on its ACK of A's FIN, so A goes
 * FIN-WAIT-1 → TIME-WAIT directly and B CLOSE-WAIT → LAST-ACK → CLOSED. */
static void row_three_segment_close(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint a, b;
	struct tcp_transition ta, tb;

	pair_established(&a, &b, m, v);
	if (m == DRIVEN)
		call(&a, TCP_CALL_CLOSE);
	xfer(&a, &b, F_FA, I + 1, R + 1, 0, &ta, &tb);
	CHECK_TR(ta, &a, m == DRIVEN ? TCP_FIN_WAIT_1 : TCP_ESTABLISHED, TCP_FIN_WAIT_1);
	CHECK_TR(tb, &b, TCP_ESTABLISHED, TCP_CLOSE_WAIT);
	CHECK_ACTS(tb.actions, TCP_ACT_SEND_ACK);
	if (m == DRIVEN) {
		tb = call(&b, TCP_CALL_CLOSE);
		CHECK_TR(tb, &b, TCP_CLOSE_WAIT, TCP_LAST_ACK);
	}
	xfer(&b, &a, F_FA, R + 1, I + 2, 0, &tb, &ta);
	CHECK_TR(tb, &b, m == DRIVEN ? TCP_LAST_ACK : TCP_CLOSE_WAIT, TCP_LAST_ACK);
	CHECK_TR(ta, &a, TCP_FIN_WAIT_1, TCP_TIME_WAIT);
	CHECK_ACTS(ta.actions, TCP_ACT_SEND_ACK | TCP_ACT_START_2MSL);
	CHECK(a.fin_acked);
	xfer(&a, &b, F_A, I + 2, R + 2, 0, &ta, &tb);
	CHECK_TR(ta, &a, TCP_TIME_WAIT, TCP_TIME_WAIT);
	CHECK_TR(tb, &b, TCP_LAST_ACK, TCP_CLOSED);
	CHECK_ACTS(tb.actions, TCP_ACT_DELETE_TCB);
}

/* Simultaneous open (RFC 9293 Figure 7): both SYN-SENT, the SYNs cross, both
 * SYN-RECEIVED, the SYN-ACKs cross, both ESTABLISHED. */
static void row_simultaneous_open(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint a, b;
	struct tcp_transition t;

	tcp_endpoint_init(&a, TCP_CLOSED);
	tcp_endpoint_init(&b, TCP_CLOSED);
	if (m == DRIVEN) {
		call(&a, TCP_CALL_OPEN_ACTIVE);
		call(&b, TCP_CALL_OPEN_ACTIVE);
	}
	tx(&a, F_S, I, 0, 0);
	tx(&b, F_S, R, 0, 0);
	CHECK_STATE(a.state, TCP_SYN_SENT);
	CHECK_STATE(b.state, TCP_SYN_SENT);

	t = rx(&a, F_S, R, 0, 0);
	CHECK_TR(t, &a, TCP_SYN_SENT, TCP_SYN_RECEIVED);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_SYNACK);
	t = rx(&b, F_S, I, 0, 0);
	CHECK_TR(t, &b, TCP_SYN_SENT, TCP_SYN_RECEIVED);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_SYNACK);

	/* Each SYN-ACK carries the SYN's own number again (Figure 7 lines 5-7). */
	t = tx(&a, F_SA, I, R + 1, 0);
	CHECK_TR(t, &a, TCP_SYN_RECEIVED, TCP_SYN_RECEIVED);
	t = tx(&b, F_SA, R, I + 1, 0);
	CHECK_TR(t, &b, TCP_SYN_RECEIVED, TCP_SYN_RECEIVED);

	t = rx(&a, F_SA, R, I + 1, 0);
	CHECK_TR(t, &a, TCP_SYN_RECEIVED, TCP_ESTABLISHED);
	CHECK_LACKS(t.actions, TCP_ACT_SEND_RST | TCP_ACT_DELETE_TCB | TCP_ACT_SEND_SYNACK);
	CHECK(!t.unacceptable);
	t = rx(&b, F_SA, I, R + 1, 0);
	CHECK_TR(t, &b, TCP_SYN_RECEIVED, TCP_ESTABLISHED);
	CHECK_LACKS(t.actions, TCP_ACT_SEND_RST | TCP_ACT_DELETE_TCB | TCP_ACT_SEND_SYNACK);

	CHECK(a.syn_acked && b.syn_acked);
	CHECK_U32(a.iss, I);
	CHECK_U32(a.irs, R);
	CHECK_U32(a.snd_nxt, I + 1);
	CHECK_U32(a.rcv_nxt, R + 1);
	CHECK_U32(b.iss, R);
	CHECK_U32(b.irs, I);
	CHECK_U32(b.snd_nxt, R + 1);
	CHECK_U32(b.rcv_nxt, I + 1);

	/* And they can talk: data A → B. */
	t = rx(&b, F_PA, I + 1, R + 1, 5);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK | TCP_ACT_DELIVER);
	CHECK_CLEAN(t);
}

/* Simultaneous close (RFC 9293 Figure 13): both FIN-WAIT-1, the FINs cross,
 * both CLOSING, the ACKs cross, both TIME-WAIT. */
static void row_simultaneous_close(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint a, b;
	struct tcp_transition t;

	pair_established(&a, &b, m, v);
	if (m == DRIVEN) {
		t = call(&a, TCP_CALL_CLOSE);
		CHECK_ACTS(t.actions, TCP_ACT_SEND_FIN);
		t = call(&b, TCP_CALL_CLOSE);
		CHECK_ACTS(t.actions, TCP_ACT_SEND_FIN);
	}
	tx(&a, F_FA, I + 1, R + 1, 0);
	tx(&b, F_FA, R + 1, I + 1, 0);
	CHECK_STATE(a.state, TCP_FIN_WAIT_1);
	CHECK_STATE(b.state, TCP_FIN_WAIT_1);

	t = rx(&a, F_FA, R + 1, I + 1, 0);
	CHECK_TR(t, &a, TCP_FIN_WAIT_1, TCP_CLOSING);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK);
	t = rx(&b, F_FA, I + 1, R + 1, 0);
	CHECK_TR(t, &b, TCP_FIN_WAIT_1, TCP_CLOSING);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK);

	t = tx(&a, F_A, I + 2, R + 2, 0);
	CHECK_TR(t, &a, TCP_CLOSING, TCP_CLOSING);
	t = tx(&b, F_A, R + 2, I + 2, 0);
	CHECK_TR(t, &b, TCP_CLOSING, TCP_CLOSING);

	t = rx(&a, F_A, R + 2, I + 2, 0);
	CHECK_TR(t, &a, TCP_CLOSING, TCP_TIME_WAIT);
	CHECK_ACTS(t.actions, TCP_ACT_START_2MSL);
	t = rx(&b, F_A, I + 2, R + 2, 0);
	CHECK_TR(t, &b, TCP_CLOSING, TCP_TIME_WAIT);
	CHECK_ACTS(t.actions, TCP_ACT_START_2MSL);

	t = call(&a, TCP_CALL_TIME_WAIT_DONE);
	CHECK_TR(t, &a, TCP_TIME_WAIT, TCP_CLOSED);
	t = call(&b, TCP_CALL_TIME_WAIT_DONE);
	CHECK_TR(t, &b, TCP_TIME_WAIT, TCP_CLOSED);
}

/* The same simultaneous close captured next to A, with B only observed: the
 * capture sees A's FIN (B "received" it) before B's FIN, whose ACK does not
 * cover A's FIN — so B went CLOSE-WAIT → CLOSING, then TIME-WAIT. */
static void row_simultaneous_close_far_side(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint a, b;
	struct tcp_transition ta, tb;

	(void)m;
	pair_established(&a, &b, OBSERVED, v);
	/* At A's interface: A's FIN out, then B's FIN in. */
	xfer(&a, &b, F_FA, I + 1, R + 1, 0, &ta, &tb);
	CHECK_TR(ta, &a, TCP_ESTABLISHED, TCP_FIN_WAIT_1);
	CHECK_TR(tb, &b, TCP_ESTABLISHED, TCP_CLOSE_WAIT);
	xfer(&b, &a, F_FA, R + 1, I + 1, 0, &tb, &ta);
	CHECK_TR(tb, &b, TCP_CLOSE_WAIT, TCP_CLOSING);
	CHECK(!tb.retransmission);
	CHECK_TR(ta, &a, TCP_FIN_WAIT_1, TCP_CLOSING);
	/* A's ACK of B's FIN; B's ACK of A's FIN. */
	xfer(&a, &b, F_A, I + 2, R + 2, 0, &ta, &tb);
	CHECK_TR(ta, &a, TCP_CLOSING, TCP_CLOSING);
	CHECK_TR(tb, &b, TCP_CLOSING, TCP_TIME_WAIT);
	CHECK_ACTS(tb.actions, TCP_ACT_START_2MSL);
	xfer(&b, &a, F_A, R + 2, I + 2, 0, &tb, &ta);
	CHECK_TR(tb, &b, TCP_TIME_WAIT, TCP_TIME_WAIT);
	CHECK_CLEAN(tb);
	CHECK_TR(ta, &a, TCP_CLOSING, TCP_TIME_WAIT);
}

/* Half-close: A closes its side, B keeps sending; A delivers and ACKs in
 * FIN-WAIT-2 until B's FIN. */
static void row_half_close(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint a, b;
	struct tcp_transition ta, tb;

	pair_established(&a, &b, m, v);
	if (m == DRIVEN)
		call(&a, TCP_CALL_CLOSE);
	xfer(&a, &b, F_FA, I + 1, R + 1, 0, &ta, &tb);
	xfer(&b, &a, F_A, R + 1, I + 2, 0, &tb, &ta);
	CHECK_TR(ta, &a, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2);
	CHECK_STATE(b.state, TCP_CLOSE_WAIT);
	for (uint32_t k = 0; k < 4; k++) {
		xfer(&b, &a, F_PA, R + 1 + k * 1000, I + 2, 1000, &tb, &ta);
		CHECK_TR(tb, &b, TCP_CLOSE_WAIT, TCP_CLOSE_WAIT);
		CHECK_CLEAN(tb);
		CHECK_TR(ta, &a, TCP_FIN_WAIT_2, TCP_FIN_WAIT_2);
		CHECK_ACTS(ta.actions, TCP_ACT_SEND_ACK | TCP_ACT_DELIVER);
		CHECK_CLEAN(ta);
		xfer(&a, &b, F_A, I + 2, R + 1 + (k + 1) * 1000, 0, &ta, &tb);
	}
	if (m == DRIVEN)
		call(&b, TCP_CALL_CLOSE);
	xfer(&b, &a, F_FA, R + 4001, I + 2, 0, &tb, &ta);
	CHECK_TR(tb, &b, m == DRIVEN ? TCP_LAST_ACK : TCP_CLOSE_WAIT, TCP_LAST_ACK);
	CHECK_U32(b.fin_seq, R + 4001);
	CHECK_TR(ta, &a, TCP_FIN_WAIT_2, TCP_TIME_WAIT);
	CHECK_U32(a.peer_fin_seq, R + 4001);
	xfer(&a, &b, F_A, I + 2, R + 4002, 0, &ta, &tb);
	CHECK_TR(tb, &b, TCP_LAST_ACK, TCP_CLOSED);
}

/* Lost final ACK: B in LAST-ACK re-sends its FIN; A in TIME-WAIT ACKs it again
 * and restarts 2MSL; the second ACK arrives and B closes. */
static void row_lost_final_ack(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss, R = v->irs;
	struct tcp_endpoint a, b;
	struct tcp_transition ta, tb;

	pair_established(&a, &b, m, v);
	if (m == DRIVEN)
		call(&a, TCP_CALL_CLOSE);
	xfer(&a, &b, F_FA, I + 1, R + 1, 0, &ta, &tb);
	xfer(&b, &a, F_A, R + 1, I + 2, 0, &tb, &ta);
	if (m == DRIVEN)
		call(&b, TCP_CALL_CLOSE);
	xfer(&b, &a, F_FA, R + 1, I + 2, 0, &tb, &ta);
	CHECK_STATE(a.state, TCP_TIME_WAIT);
	CHECK_STATE(b.state, TCP_LAST_ACK);
	/* A's ACK is lost: B does not see it. */
	ta = tx(&a, F_A, I + 2, R + 2, 0);
	CHECK_TR(ta, &a, TCP_TIME_WAIT, TCP_TIME_WAIT);
	/* B retransmits its FIN. */
	xfer(&b, &a, F_FA, R + 1, I + 2, 0, &tb, &ta);
	CHECK_TR(tb, &b, TCP_LAST_ACK, TCP_LAST_ACK);
	CHECK(tb.retransmission);
	CHECK_TR(ta, &a, TCP_TIME_WAIT, TCP_TIME_WAIT);
	CHECK_ACTS(ta.actions, TCP_ACT_SEND_ACK | TCP_ACT_START_2MSL);
	CHECK(ta.retransmission);
	xfer(&a, &b, F_A, I + 2, R + 2, 0, &ta, &tb);
	CHECK_TR(ta, &a, TCP_TIME_WAIT, TCP_TIME_WAIT);
	CHECK_TR(tb, &b, TCP_LAST_ACK, TCP_CLOSED);
	CHECK_ACTS(tb.actions, TCP_ACT_DELETE_TCB);
}

/* Refused: nothing listens, the SYN is answered by RST+ACK. Both sides. */
static void row_refused(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss;
	struct tcp_endpoint a, b;
	struct tcp_transition ta, tb;

	tcp_endpoint_init(&a, TCP_CLOSED);
	tcp_endpoint_init(&b, TCP_CLOSED);
	if (m == DRIVEN)
		call(&a, TCP_CALL_OPEN_ACTIVE);
	xfer(&a, &b, F_S, I, 0, 0, &ta, &tb);
	CHECK_TR(tb, &b, TCP_CLOSED, TCP_CLOSED);
	CHECK_ACTS(tb.actions, TCP_ACT_SEND_RST);
	CHECK(tb.unacceptable);
	/* An RST that does not ack our SYN (a stale one) is ignored first. */
	ta = rx(&a, F_RA, 0, I + 5, 0);
	CHECK_TR(ta, &a, TCP_SYN_SENT, TCP_SYN_SENT);
	CHECK(ta.unacceptable);
	CHECK_ACTS(ta.actions, TCP_ACT_NONE);
	xfer(&b, &a, F_RA, 0, I + 1, 0, &tb, &ta);
	CHECK_TR(tb, &b, TCP_CLOSED, TCP_CLOSED);
	CHECK_TR(ta, &a, TCP_SYN_SENT, TCP_CLOSED);
	CHECK_ACTS(ta.actions, TCP_ACT_DELETE_TCB);
}

/* GIVE_UP from SYN-SENT after SYN retransmissions (nobody answers). */
static void row_give_up(enum mode m, const struct variant *v)
{
	const uint32_t I = v->iss;
	struct tcp_endpoint ep;
	struct expect ex;
	struct tcp_transition t;

	reach(&ep, TCP_SYN_SENT, m, v, &ex);
	for (int k = 0; k < 5; k++) {
		t = tx(&ep, F_S, I, 0, 0);
		CHECK(t.retransmission);
	}
	t = call(&ep, TCP_CALL_GIVE_UP);
	CHECK_TR(t, &ep, TCP_SYN_SENT, TCP_CLOSED);
	CHECK_ACTS(t.actions, TCP_ACT_DELETE_TCB);
}

/* ================================================================================
 * Sequence-number wrap-around, spelled out
 * ================================================================================ */

static void test_wraparound_explicit(void **state)
{
	(void)state;
	struct tcp_endpoint a;
	struct tcp_transition t;

	snprintf(ctx, sizeof ctx, "explicit wrap");
	/* ISS = 2^32-1: the SYN takes 0xFFFFFFFF, SND.NXT wraps to 0. */
	tcp_endpoint_init(&a, TCP_CLOSED);
	tx(&a, F_S, 0xFFFFFFFFu, 0, 0);
	CHECK_U32(a.snd_nxt, 0);
	/* ACK == ISS (0xFFFFFFFF) acks nothing; ACK 1 is beyond SND.NXT. */
	t = rx(&a, F_SA, 0xFFFFFFF0u, 0xFFFFFFFFu, 0);
	CHECK_TR(t, &a, TCP_SYN_SENT, TCP_SYN_SENT);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_RST);
	t = rx(&a, F_SA, 0xFFFFFFF0u, 1, 0);
	CHECK_TR(t, &a, TCP_SYN_SENT, TCP_SYN_SENT);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_RST);
	t = rx(&a, F_SA, 0xFFFFFFF0u, 0, 0);
	CHECK_TR(t, &a, TCP_SYN_SENT, TCP_ESTABLISHED);
	CHECK(a.syn_acked);
	CHECK_U32(a.rcv_nxt, 0xFFFFFFF1u);
	tx(&a, F_A, 0, 0xFFFFFFF1u, 0);
	/* 20 bytes from the peer cross 2^32. */
	t = rx(&a, F_PA, 0xFFFFFFF1u, 0, 20);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK | TCP_ACT_DELIVER);
	CHECK_U32(a.rcv_nxt, 5);
	/* ...and again: entirely below RCV.NXT modulo 2^32. */
	t = rx(&a, F_PA, 0xFFFFFFF1u, 0, 20);
	CHECK(t.retransmission);
	/* RST at RCV.NXT-1 across the wrap is acceptable... tested below on a copy. */
	struct tcp_endpoint c = a;
	t = rx(&c, F_R, 4, 0, 0);
	CHECK_TR(t, &c, TCP_ESTABLISHED, TCP_CLOSED);
	c = a;
	t = rx(&c, F_R, 3, 0, 0); /* RCV.NXT-2 */
	CHECK_TR(t, &c, TCP_ESTABLISHED, TCP_ESTABLISHED);
	CHECK(t.unacceptable);
	c = a;
	t = rx(&c, F_R, 0xFFFFFFFFu, 0, 0); /* far below, numerically huge */
	CHECK_TR(t, &c, TCP_ESTABLISHED, TCP_ESTABLISHED);

	/* Our FIN at 0xFFFFFFFF... make SND.NXT reach it: send 2^32-1 bytes is
	 * silly; use a fresh endpoint with ISS 0xFFFFFFFD instead. */
	tcp_endpoint_init(&a, TCP_CLOSED);
	tx(&a, F_S, 0xFFFFFFFDu, 0, 0);
	rx(&a, F_SA, 100, 0xFFFFFFFEu, 0);
	tx(&a, F_A, 0xFFFFFFFEu, 101, 0);
	tx(&a, F_PA, 0xFFFFFFFEu, 101, 1);
	t = tx(&a, F_FA, 0xFFFFFFFFu, 101, 0);
	CHECK_TR(t, &a, TCP_ESTABLISHED, TCP_FIN_WAIT_1);
	CHECK_U32(a.fin_seq, 0xFFFFFFFFu);
	CHECK_U32(a.snd_nxt, 0);
	/* ACK 0xFFFFFFFF covers the data, not the FIN (numerically it is
	 * "bigger" than fin_seq+1 == 0, which a naive compare would take). */
	t = rx(&a, F_A, 101, 0xFFFFFFFFu, 0);
	CHECK_TR(t, &a, TCP_FIN_WAIT_1, TCP_FIN_WAIT_1);
	CHECK(!a.fin_acked);
	t = rx(&a, F_A, 101, 0, 0);
	CHECK_TR(t, &a, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2);
	CHECK(a.fin_acked);
	/* Re-sending the FIN at 0xFFFFFFFF is a retransmission although it is
	 * numerically above SND.NXT (0). */
	t = tx(&a, F_FA, 0xFFFFFFFFu, 101, 0);
	CHECK(t.retransmission);
	CHECK_U32(a.snd_nxt, 0);
	ctx[0] = '\0';
}

/* ================================================================================
 * Endpoints joined mid-stream (initial state ESTABLISHED, nothing known)
 * ================================================================================ */

static void test_midstream(void **state)
{
	(void)state;
	struct tcp_endpoint ep;
	struct tcp_transition t;
	const uint32_t X = 0x90000000u, Y = 0x12345678u;

	snprintf(ctx, sizeof ctx, "mid-stream");
	/* RCV.NXT unknown: any RST is acceptable. */
	tcp_endpoint_init(&ep, TCP_ESTABLISHED);
	t = rx(&ep, F_R, X, 0, 0);
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_CLOSED);
	CHECK_ACTS(t.actions, TCP_ACT_DELETE_TCB);

	/* Nothing known: the first data either way is not a retransmission,
	 * whatever its number (0 is not a known RCV.NXT / SND.NXT). */
	tcp_endpoint_init(&ep, TCP_ESTABLISHED);
	t = rx(&ep, F_PA, X, Y, 100);
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_ESTABLISHED);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK | TCP_ACT_DELIVER);
	CHECK_CLEAN(t);
	t = tx(&ep, F_PA, Y, X + 100, 100);
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_ESTABLISHED);
	CHECK_CLEAN(t);

	/* Peer's FIN → CLOSE-WAIT; our FIN covering it → LAST-ACK; its ACK → CLOSED. */
	tcp_endpoint_init(&ep, TCP_ESTABLISHED);
	t = rx(&ep, F_FA, X, Y, 0);
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_CLOSE_WAIT);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK);
	CHECK(ep.fin_received);
	CHECK_U32(ep.peer_fin_seq, X);
	t = tx(&ep, F_FA, Y, X + 1, 0);
	CHECK_TR(t, &ep, TCP_CLOSE_WAIT, TCP_LAST_ACK);
	CHECK_U32(ep.fin_seq, Y);
	t = rx(&ep, F_A, X + 1, Y + 1, 0);
	CHECK_TR(t, &ep, TCP_LAST_ACK, TCP_CLOSED);
	CHECK_ACTS(t.actions, TCP_ACT_DELETE_TCB);

	/* Our FIN → FIN-WAIT-1; its ACK → FIN-WAIT-2; peer FIN → TIME-WAIT. */
	tcp_endpoint_init(&ep, TCP_ESTABLISHED);
	t = tx(&ep, F_FA, Y, X, 0);
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_FIN_WAIT_1);
	CHECK(ep.fin_sent);
	CHECK_U32(ep.fin_seq, Y);
	t = rx(&ep, F_A, X, Y + 1, 0);
	CHECK_TR(t, &ep, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2);
	t = rx(&ep, F_FA, X, Y + 1, 0);
	CHECK_TR(t, &ep, TCP_FIN_WAIT_2, TCP_TIME_WAIT);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK | TCP_ACT_START_2MSL);

	/* Simultaneous close mid-stream: FIN-WAIT-1 → CLOSING → TIME-WAIT. */
	tcp_endpoint_init(&ep, TCP_ESTABLISHED);
	tx(&ep, F_FA, Y, X, 0);
	t = rx(&ep, F_FA, X, Y, 0);
	CHECK_TR(t, &ep, TCP_FIN_WAIT_1, TCP_CLOSING);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK);
	t = rx(&ep, F_A, X + 1, Y + 1, 0);
	CHECK_TR(t, &ep, TCP_CLOSING, TCP_TIME_WAIT);
	CHECK_ACTS(t.actions, TCP_ACT_START_2MSL);
	ctx[0] = '\0';
}

/* fin_acked is "our FIN has been acknowledged" whether or not the ISS was
 * ever seen: a mid-stream endpoint whose FIN is ACKed has fin_acked set. */
static void test_midstream_fin_acked(void **state)
{
	(void)state;
	struct tcp_endpoint ep;
	struct tcp_transition t;
	const uint32_t X = 0x90000000u, Y = 0x12345678u;

	snprintf(ctx, sizeof ctx, "mid-stream fin_acked");
	tcp_endpoint_init(&ep, TCP_ESTABLISHED);
	tx(&ep, F_FA, Y, X, 0);
	CHECK(!ep.fin_acked);
	t = rx(&ep, F_A, X, Y + 1, 0);
	CHECK_TR(t, &ep, TCP_FIN_WAIT_1, TCP_FIN_WAIT_2);
	CHECK(ep.fin_acked);

	tcp_endpoint_init(&ep, TCP_ESTABLISHED);
	tx(&ep, F_FA, Y, X, 0);
	t = rx(&ep, F_FA, X, Y + 1, 0);
	CHECK_TR(t, &ep, TCP_FIN_WAIT_1, TCP_TIME_WAIT);
	CHECK(ep.fin_acked);
	ctx[0] = '\0';
}

/* Once a mid-stream observer has seen data, it knows RCV.NXT / SND.NXT and
 * recognises repeats (§3.10.7.4 needs RCV.NXT; the header says segments
 * update it). */
static void test_midstream_learns_numbers(void **state)
{
	(void)state;
	struct tcp_endpoint ep;
	struct tcp_transition t;
	const uint32_t X = 0x90000000u, Y = 0x12345678u;

	snprintf(ctx, sizeof ctx, "mid-stream learning");
	tcp_endpoint_init(&ep, TCP_ESTABLISHED);
	rx(&ep, F_PA, X, Y, 100);
	CHECK_U32(ep.rcv_nxt, X + 100);
	t = rx(&ep, F_PA, X, Y, 100);
	CHECK(t.retransmission);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK);
	tx(&ep, F_PA, Y, X + 100, 10);
	CHECK_U32(ep.snd_nxt, Y + 10);
	t = tx(&ep, F_PA, Y, X + 100, 10);
	CHECK(t.retransmission);
	/* And RSTs are now judged against the learned RCV.NXT. */
	t = rx(&ep, F_R, X, 0, 0);
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_ESTABLISHED);
	CHECK(t.unacceptable);
	t = rx(&ep, F_R, X + 100, 0, 0);
	CHECK_TR(t, &ep, TCP_ESTABLISHED, TCP_CLOSED);

	/* The peer's FIN seen twice mid-stream: the second is a retransmission
	 * (CLOSE-WAIT and TIME-WAIT rows). */
	tcp_endpoint_init(&ep, TCP_ESTABLISHED);
	rx(&ep, F_FA, X, Y, 0);
	CHECK_U32(ep.rcv_nxt, X + 1);
	t = rx(&ep, F_FA, X, Y, 0);
	CHECK_TR(t, &ep, TCP_CLOSE_WAIT, TCP_CLOSE_WAIT);
	CHECK_ACTS(t.actions, TCP_ACT_SEND_ACK);
	CHECK(t.retransmission);
	ctx[0] = '\0';
}

/* ================================================================================
 * Contract properties under arbitrary input
 * ================================================================================ */

static uint32_t lcg_state = 12345u;

static uint32_t lcg(void)
{
	lcg_state = lcg_state * 1103515245u + 12345u;
	return lcg_state ^ (lcg_state >> 16);
}

/* Whatever arrives, in whatever state: from is the old state, to the new,
 * changed matches, reason is text, the state stays in range.  Run under
 * ASan/UBSan/valgrind this also catches out-of-range table lookups. */
static void test_arbitrary_segments(void **state)
{
	(void)state;
	const struct variant *v = &VARIANTS[0];

	snprintf(ctx, sizeof ctx, "arbitrary segments");
	for (int s = TCP_CLOSED; s < TCP_STATE_COUNT; s++) {
		for (unsigned flags = 0; flags < 256; flags++) {
			for (int dir = 0; dir < 2; dir++) {
				struct tcp_endpoint ep;
				struct expect ex;
				struct tcp_transition t;
				struct segment sg;
				enum tcp_state before;

				reach(&ep, (enum tcp_state)s, OBSERVED, v, &ex);
				for (int k = 0; k < 4; k++) {
					uint32_t r = lcg();
					uint32_t seqv = (r & 1) ? ex.rcv_nxt + (lcg() % 8) - 4 : lcg();
					uint32_t ackv = (r & 2) ? ex.snd_nxt + (lcg() % 8) - 4 : lcg();
					uint32_t len = (r & 4) ? 0 : lcg() % 2000;

					if (dir == 0) {
						seqv = (r & 1) ? ex.snd_nxt + (lcg() % 8) - 4 : lcg();
						ackv = (r & 2) ? ex.rcv_nxt + (lcg() % 8) - 4 : lcg();
					}
					sg = seg((uint8_t)flags, seqv, ackv, len);
					before = ep.state;
					t = tcp_fsm_segment(&ep, dir ? TCP_DIR_RECEIVED : TCP_DIR_SENT, &sg);
					CHECK_STATE(t.from, before);
					CHECK((unsigned)t.to < TCP_STATE_COUNT);
					CHECK_STATE(ep.state, t.to);
					CHECK(t.changed == (t.from != t.to));
					CHECK(t.reason != NULL && t.reason[0] != '\0');
					CHECK((t.actions & ~0xFFu) == 0);
					if (t.to == TCP_CLOSED && t.from != TCP_CLOSED)
						CHECK_HAS(t.actions, TCP_ACT_DELETE_TCB);
				}
			}
		}
	}
	ctx[0] = '\0';
}

/* ---- cmocka wrappers for the row functions ---------------------------------- */

#define ROW_TEST(name)                                  \
	static void test_##name(void **state)          \
	{                                               \
		(void)state;                            \
		run_all(row_##name);                    \
	}

ROW_TEST(rx_closed)
ROW_TEST(rx_closed_after_close)
ROW_TEST(rx_listen_syn)
ROW_TEST(rx_listen_other)
ROW_TEST(rx_synsent_synack)
ROW_TEST(rx_synsent_syn)
ROW_TEST(rx_synsent_rst)
ROW_TEST(rx_synsent_rst_bad)
ROW_TEST(rx_synsent_badack)
ROW_TEST(rx_synrcvd_ack)
ROW_TEST(rx_synrcvd_rst)
ROW_TEST(rx_est_fin)
ROW_TEST(rx_est_data)
ROW_TEST(rx_fw1_ack)
ROW_TEST(rx_fw1_fin)
ROW_TEST(rx_fw1_finack)
ROW_TEST(rx_fw2_fin)
ROW_TEST(rx_fw2_data)
ROW_TEST(rx_cw_fin_again)
ROW_TEST(rx_closing_ack)
ROW_TEST(rx_lastack_ack)
ROW_TEST(rx_tw_fin_again)
ROW_TEST(rx_rst_sync)
ROW_TEST(rx_rst_out_of_window)
ROW_TEST(rx_retransmissions)
ROW_TEST(rx_sync_syn_and_noack)
ROW_TEST(tx_syn)
ROW_TEST(tx_listen_synack)
ROW_TEST(tx_synsent_synack)
ROW_TEST(tx_listen_synack_rst)
ROW_TEST(tx_synrcvd_synack)
ROW_TEST(tx_synrcvd_fin)
ROW_TEST(tx_est_fin)
ROW_TEST(tx_cw_fin)
ROW_TEST(tx_cw_fin_early)
ROW_TEST(tx_rst)
ROW_TEST(tx_retransmissions)
ROW_TEST(tx_other)
ROW_TEST(tx_partial_overlap)
ROW_TEST(path_client)
ROW_TEST(path_server)
ROW_TEST(three_segment_close)
ROW_TEST(simultaneous_open)
ROW_TEST(simultaneous_close)
ROW_TEST(simultaneous_close_far_side)
ROW_TEST(half_close)
ROW_TEST(lost_final_ack)
ROW_TEST(refused)
ROW_TEST(give_up)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_state_synchronized),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_tcb_in_every_state),
		/* received */
		cmocka_unit_test(test_rx_closed),
		cmocka_unit_test(test_rx_closed_after_close),
		cmocka_unit_test(test_rx_listen_syn),
		cmocka_unit_test(test_rx_listen_other),
		cmocka_unit_test(test_rx_synsent_synack),
		cmocka_unit_test(test_rx_synsent_syn),
		cmocka_unit_test(test_rx_synsent_rst),
		cmocka_unit_test(test_rx_synsent_rst_bad),
		cmocka_unit_test(test_rx_synsent_badack),
		cmocka_unit_test(test_rx_synrcvd_ack),
		cmocka_unit_test(test_rx_synrcvd_rst),
		cmocka_unit_test(test_rx_est_fin),
		cmocka_unit_test(test_rx_est_data),
		cmocka_unit_test(test_rx_fw1_ack),
		cmocka_unit_test(test_rx_fw1_fin),
		cmocka_unit_test(test_rx_fw1_finack),
		cmocka_unit_test(test_rx_fw2_fin),
		cmocka_unit_test(test_rx_fw2_data),
		cmocka_unit_test(test_rx_cw_fin_again),
		cmocka_unit_test(test_rx_closing_ack),
		cmocka_unit_test(test_rx_lastack_ack),
		cmocka_unit_test(test_rx_tw_fin_again),
		cmocka_unit_test(test_rx_rst_sync),
		cmocka_unit_test(test_rx_rst_out_of_window),
		cmocka_unit_test(test_rx_retransmissions),
		cmocka_unit_test(test_rx_sync_syn_and_noack),
		/* sent */
		cmocka_unit_test(test_tx_syn),
		cmocka_unit_test(test_tx_listen_synack),
		cmocka_unit_test(test_tx_synsent_synack),
		cmocka_unit_test(test_tx_listen_synack_rst),
		cmocka_unit_test(test_tx_synrcvd_synack),
		cmocka_unit_test(test_tx_synrcvd_fin),
		cmocka_unit_test(test_tx_est_fin),
		cmocka_unit_test(test_tx_cw_fin),
		cmocka_unit_test(test_tx_cw_fin_early),
		cmocka_unit_test(test_tx_rst),
		cmocka_unit_test(test_tx_retransmissions),
		cmocka_unit_test(test_tx_other),
		cmocka_unit_test(test_tx_partial_overlap),
		/* calls */
		cmocka_unit_test(test_calls_in_every_state),
		cmocka_unit_test(test_call_out_of_range),
		/* paths */
		cmocka_unit_test(test_path_client),
		cmocka_unit_test(test_path_server),
		cmocka_unit_test(test_three_segment_close),
		cmocka_unit_test(test_simultaneous_open),
		cmocka_unit_test(test_simultaneous_close),
		cmocka_unit_test(test_simultaneous_close_far_side),
		cmocka_unit_test(test_half_close),
		cmocka_unit_test(test_lost_final_ack),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_give_up),
		/* numbers */
		cmocka_unit_test(test_wraparound_explicit),
		cmocka_unit_test(test_midstream),
		cmocka_unit_test(test_midstream_fin_acked),
		cmocka_unit_test(test_midstream_learns_numbers),
		cmocka_unit_test(test_arbitrary_segments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
