/*
 * session_listen.c — `tcplab listen`: the server role, by hand.
 *
 * tcplab plays a passive OPEN (RFC 9293 §3.10.1) on ADDR:PORT without a
 * kernel socket: each SYN gets a crafted SYN-ACK with tcplab's own ISN and
 * the options RFC 7323 / RFC 2018 allow in answer to the client's, data is
 * ACKed (or echoed, --echo), --send and --data-file data go out once
 * established through each client's tcb (include/tcplab/tcb.h: segments,
 * cwnd, RTO, persist — the same sender connect uses), and the
 * connection is closed passively (CLOSE-WAIT, --linger, FIN, LAST-ACK) or
 * actively (--close-first: FIN-WAIT-1/2, TIME-WAIT) or aborted (--close rst).
 *
 * Each client has its own driven endpoint in a small table keyed by the
 * remote address and port; the tracker (flow.c) prints every connection's
 * trace with both endpoints' states, exactly as connect does.  The kernel
 * would answer every SYN with RST: a firewall table drops outgoing RST from
 * ADDR:PORT that tcplab did not send, for the length of the run, and the
 * port is reserved with a bound (not listening) kernel socket.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live.h"
#include "live_step.h"
#include "tcplab/decode.h"
#include "tcplab/exitcode.h"
#include "tcplab/privilege.h"
#include "tcplab/route.h"
#include "tcplab/session.h"

#define MAX_CONNS 4096                   /* clients served at once */
#define SOURCE_POLL_NS (2 * NS_PER_MS)

enum lphase {
	LP_HANDSHAKE,  /* SYN-ACK sent */
	LP_OPEN,       /* established: sending --send / --data-file data, echoing */
	LP_LINGER,     /* CLOSE-WAIT, FIN after --linger (or close-first after the quiet time) */
	LP_CLOSING,    /* our FIN queued or sent */
	LP_TIME_WAIT,
	LP_DONE,
};

struct lconn {
	struct live_conn c;          /* c.tcb: the driven endpoint (queues, cwnd, timers) */
	enum lphase phase;
	struct segment tuple;        /* client → server */
	struct live_source src;      /* --send / --data-file for this client */
	bool src_started, src_done;
	bool close_wanted;           /* our FIN follows the data once all of it is queued */
	bool more;                   /* the last pump stopped at its budget */
	struct live_timer rtx;       /* SYN-ACK retransmission (data: the tcb's timer) */
	uint64_t linger_deadline, tw_deadline, idle_deadline;
	bool counted;
	int outcome;                 /* enum tcplab_exit of this connection */
};

struct lrun {
	struct live lv;
	const struct listen_options *opt;
	struct ip_addr addr;         /* family 0: any */
	struct lconn *conns[MAX_CONNS];
	unsigned nconns;
	unsigned done;               /* connections finished */
	int result;
	char note[1024];
	char ifname[ROUTE_IFNAME_SIZE];
	bool source_failed;
	char source_error[320];
	struct ip_addr mss_addr;     /* one-entry cache: the MSS for this local address */
	uint16_t mss_cached;
};

static void lnote(struct lrun *r, struct lconn *lc, const char *text)
{
	flow_table_note(r->lv.flow, lc ? &lc->tuple : NULL, live_real_ns(), text);
}

/* Traces the sender events of lc's tcb (after the segment that caused them). */
static void emit_events(struct lrun *r, struct lconn *lc)
{
	struct tcb_event e;
	while (tcb_next_event(&lc->c.tcb, &e)) {
		struct tl_endpoint_event ev;
		char text[400];
		live_endpoint_event(&lc->c, TL_SERVER, &e, &ev, text, sizeof(text));
		flow_table_endpoint(r->lv.flow, &lc->tuple, live_real_ns(), &ev);
	}
}

static struct lconn *find_conn(struct lrun *r, const struct segment *seg)
{
	for (unsigned i = 0; i < r->nconns; i++) {
		struct lconn *lc = r->conns[i];
		if (lc->c.rport == seg->sport && ip_addr_equal(&lc->c.remote, &seg->src) &&
		    ip_addr_equal(&lc->c.local, &seg->dst))
			return lc;
	}
	return NULL;
}

static void free_conn(struct lrun *r, unsigned i)
{
	live_source_close(&r->conns[i]->src);
	tcb_free(&r->conns[i]->c.tcb);
	free(r->conns[i]);
	r->conns[i] = r->conns[--r->nconns];
}

/* Marks lc finished (once) and counts it toward --count. */
static void conn_done(struct lrun *r, struct lconn *lc, int outcome)
{
	lc->phase = LP_DONE;
	lc->rtx.armed = false;
	lc->more = false;
	if (!lc->counted) {
		struct tl_endpoint_event e;
		char text[512];
		lc->counted = true;
		lc->outcome = outcome;
		r->done++;
		emit_events(r, lc);
		for (unsigned part = 0; live_endpoint_stats(&lc->c, TL_SERVER, part, &e, text, sizeof(text)); part++)
			flow_table_endpoint(r->lv.flow, &lc->tuple, live_real_ns(), &e);
	}
}

static void send_seg(struct lrun *r, struct lconn *lc, uint8_t flags, uint32_t seq, const uint8_t *p, uint32_t n)
{
	int err;
	live_send(&r->lv, &lc->c, flags, seq, p, n, &err);
}

/* Sends what lc's tcb has due. */
static void pump(struct lrun *r, struct lconn *lc)
{
	live_pump(&r->lv, &lc->c);
	lc->more = r->lv.pump_more;
}

/* Echo (--echo): moves what the client sent from the receive buffer to the
 * send queue, as far as the send queue takes it; what does not fit stays in
 * the receive buffer, so the window we advertise shrinks (flow control). */
static void echo_progress(struct lrun *r, struct lconn *lc)
{
	const uint8_t *p;
	uint32_t n;
	while ((n = tcb_peek(&lc->c.tcb, &p)) > 0) {
		long took = 0;
		if (r->opt->echo && !lc->c.tcb.close_requested)
			took = tcb_write(&lc->c.tcb, p, n, true);
		else if (!r->opt->echo)
			took = (long)n; /* read and dropped: the trace showed it */
		if (took <= 0)
			break;
		tcb_consume(&lc->c.tcb, (uint32_t)took, live_mono_ns());
	}
}

/* Feeds the send queue from --send / --data-file, closes when asked and
 * everything is queued, and sends. */
static void data_progress(struct lrun *r, struct lconn *lc)
{
	if (lc->src_started && !lc->src_done) {
		int rc = live_source_feed(&lc->src, &lc->c.tcb);
		if (rc < 0) {
			r->source_failed = true;
			snprintf(r->source_error, sizeof(r->source_error), "%s", lc->src.err);
			return;
		}
		lc->src_done = rc == 1;
	}
	echo_progress(r, lc);
	if (lc->close_wanted && (lc->src_done || !lc->src_started) && !lc->c.tcb.close_requested) {
		tcb_close(&lc->c.tcb);
		lc->phase = LP_CLOSING;
	}
	pump(r, lc);
}

/* Starts our close as --close says (the FIN follows the data still queued). */
static void begin_close(struct lrun *r, struct lconn *lc)
{
	switch (r->opt->c.close) {
	case SESSION_CLOSE_RST: {
		int err;
		uint32_t seq = lc->c.tcb.snd_nxt;
		lnote(r, lc, "--close rst: aborting with RST (RFC 9293 §3.10.5)");
		tcp_fsm_call(&lc->c.tcb.fsm, TCP_CALL_ABORT);
		live_send(&r->lv, &lc->c, TCP_FLAG_RST | TCP_FLAG_ACK, seq, NULL, 0, &err);
		conn_done(r, lc, TCPLAB_EXIT_OK);
		break;
	}
	case SESSION_CLOSE_NONE:
		break;
	default:
		lc->close_wanted = true;
		data_progress(r, lc);
		break;
	}
}

/* A SYN for a new connection: passive OPEN, answer SYN-ACK. */
static void new_conn(struct lrun *r, const struct segment *seg)
{
	struct lconn *lc;
	struct tcb_input_result in;

	if (r->nconns >= MAX_CONNS) {
		lnote(r, NULL, "too many connections at once: SYN ignored");
		return;
	}
	lc = calloc(1, sizeof(*lc));
	if (!lc)
		return;
	lc->c.local = seg->dst;
	lc->c.remote = seg->src;
	lc->c.lport = seg->dport;
	lc->c.rport = seg->sport;
	/* looking the interface up costs a syscall or two: not on every SYN */
	if (!r->mss_cached || !ip_addr_equal(&r->mss_addr, &seg->dst)) {
		char ifn[ROUTE_IFNAME_SIZE];
		if (route_interface_of(&seg->dst, ifn) != 0)
			snprintf(ifn, sizeof(ifn), "%s", r->ifname);
		r->mss_cached = live_interface_mss(ifn, seg->dst.family);
		r->mss_addr = seg->dst;
	}
	lc->c.route_mss = r->mss_cached;
	lc->c.mss = r->opt->c.mss ? r->opt->c.mss : r->mss_cached;
	lc->c.local_wscale = r->opt->c.wscale;
	lc->tuple = *seg;
	lc->tuple.payload = NULL; /* only the 4-tuple is used; the packet buffer goes away */
	live_source_init(&lc->src, r->opt->c.data, r->opt->c.data_count);
	r->conns[r->nconns++] = lc;

	live_tcb_init(&r->lv, &lc->c, TCP_CLOSED);
	tcp_fsm_call(&lc->c.tcb.fsm, TCP_CALL_OPEN_PASSIVE);
	live_learn_peer(&lc->c, seg, !r->opt->c.no_options);
	live_tcb_negotiated(&lc->c);
	tcb_input(&lc->c.tcb, seg, live_mono_ns(), &in);
	if (in.tr.actions & TCP_ACT_SEND_SYNACK) {
		uint32_t iss = r->opt->c.isn_set ? r->opt->c.isn : live_random32();
		send_seg(r, lc, TCP_FLAG_SYN | TCP_FLAG_ACK, iss, NULL, 0);
		live_timer_start(&lc->rtx, live_mono_ns());
	}
	lc->phase = LP_HANDSHAKE;
}

/* The controller's reaction to a segment from a client; returns its
 * connection (NULL when none). */
static struct lconn *on_client_segment(struct lrun *r, const struct segment *seg)
{
	struct lconn *lc = find_conn(r, seg);
	struct tcb_input_result in;
	struct tcp_transition t;
	enum tcp_state before;
	uint64_t now = live_mono_ns();

	if (!lc || lc->phase == LP_DONE) {
		if ((seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) == TCP_FLAG_SYN) {
			if (lc) {
				unsigned i;
				for (i = 0; i < r->nconns && r->conns[i] != lc; i++)
					;
				if (i < r->nconns)
					free_conn(r, i);
			}
			if (!r->opt->count || r->done + r->nconns < r->opt->count)
				new_conn(r, seg);
			return NULL;
		}
		if (!lc && (seg->flags & TCP_FLAG_ACK) && !(seg->flags & TCP_FLAG_RST)) {
			/* RFC 9293 §3.10.7.2: in LISTEN an ACK for no connection gets
			 * <SEQ=SEG.ACK><CTL=RST>.  tcplab answers for the kernel, whose
			 * own RST the firewall drops. */
			static struct live_conn tmp;
			int err;
			memset(&tmp, 0, sizeof(tmp));
			tmp.local = seg->dst;
			tmp.remote = seg->src;
			tmp.lport = seg->dport;
			tmp.rport = seg->sport;
			live_send(&r->lv, &tmp, TCP_FLAG_RST, seg->ack, NULL, 0, &err);
		}
		return NULL;
	}

	before = lc->c.tcb.fsm.state;
	if (tcb_input(&lc->c.tcb, seg, now, &in) != 0) {
		r->source_failed = true;
		snprintf(r->source_error, sizeof(r->source_error), "out of memory for a receive buffer");
		return lc;
	}
	t = in.tr;
	if (lc->c.ts_ok && seg->opt.has_timestamps && !t.unacceptable)
		lc->c.ts_recent = seg->opt.ts_val;
	lc->idle_deadline = now + (uint64_t)(r->opt->c.timeout_s * (double)NS_PER_S);

	if (t.actions & TCP_ACT_SEND_SYNACK) {
		/* the client's SYN again: our SYN-ACK was lost */
		send_seg(r, lc, TCP_FLAG_SYN | TCP_FLAG_ACK, lc->c.tcb.fsm.iss, NULL, 0);
	}
	if (t.actions & TCP_ACT_SEND_RST) {
		struct tcp_endpoint keep = lc->c.tcb.fsm;
		send_seg(r, lc, TCP_FLAG_RST, seg->ack, NULL, 0);
		lc->c.tcb.fsm = keep;
	}
	if (t.actions & TCP_ACT_START_2MSL) {
		lc->phase = LP_TIME_WAIT;
		lc->rtx.armed = false;
		lc->tw_deadline = now + (uint64_t)(r->opt->c.time_wait_s * (double)NS_PER_S);
	}

	if (t.changed) {
		switch (t.to) {
		case TCP_ESTABLISHED:
			if (before == TCP_SYN_RECEIVED) {
				/* the route to this client (its MTU) caps our segments;
				 * asked now, not on the SYN's fast path */
				uint16_t rm = live_route_mss(&lc->c.remote, lc->c.rport, r->ifname);
				if (r->opt->c.mss && r->opt->c.mss < rm)
					rm = r->opt->c.mss;
				tcb_set_mss_cap(&lc->c.tcb, rm);
				lc->phase = LP_OPEN;
				lc->rtx.armed = false;
				lc->src_started = true;
				if (r->opt->c.close != SESSION_CLOSE_PEER && r->opt->c.close != SESSION_CLOSE_NONE) {
					/* close first after a quiet time (the request has arrived) */
					lc->linger_deadline = now + (uint64_t)(r->opt->linger_s * (double)NS_PER_S);
				}
			}
			break;
		case TCP_CLOSE_WAIT:
			/* the client closed: linger, then our FIN (passive close) */
			if (before == TCP_SYN_RECEIVED) {
				lc->rtx.armed = false;
				lc->src_started = true;
			}
			lc->phase = LP_LINGER;
			lc->linger_deadline = now + (uint64_t)(r->opt->linger_s * (double)NS_PER_S);
			break;
		case TCP_CLOSED:
			if (seg->flags & TCP_FLAG_RST) {
				lnote(r, lc, "the client reset the connection");
				conn_done(r, lc, TCPLAB_EXIT_RESET);
			} else {
				conn_done(r, lc, TCPLAB_EXIT_OK);
			}
			return lc;
		case TCP_LISTEN:
			/* RST in SYN-RECEIVED: the handshake is off */
			conn_done(r, lc, TCPLAB_EXIT_RESET);
			return lc;
		default:
			break;
		}
	}
	if (lc->phase != LP_DONE && tcp_state_synchronized(lc->c.tcb.fsm.state))
		data_progress(r, lc);
	return lc;
}

/* Our own segment to a client carries what its sender said it was (live.h:
 * one source per fact). */
static void sender_facts(struct lrun *r, struct segment *seg)
{
	for (unsigned i = 0; i < r->nconns; i++) {
		struct lconn *lc = r->conns[i];
		if (lc->c.rport == seg->dport && ip_addr_equal(&lc->c.remote, &seg->dst) &&
		    ip_addr_equal(&lc->c.local, &seg->src)) {
			live_sender_facts(&lc->c, seg);
			return;
		}
	}
}

/* Traces the segments lost on purpose (--lose) that are due: every
 * segment sent before them has been captured, or force. */
static void trace_lost(struct lrun *r, bool force)
{
	struct segment s;
	const char *ann;
	uint8_t buf[LIVE_LOST_PREVIEW];

	while (live_lost_next(&r->lv, force, &s, buf, &ann))
		flow_table_feed_as(r->lv.flow, &s, FLOW_FEED_LOST, ann);
}

static void on_packet(void *user, const struct capture_packet *pkt)
{
	struct lrun *r = user;
	struct segment seg;
	struct lconn *lc = NULL;

	if (segment_decode(pkt->link, pkt->data, pkt->caplen, pkt->wirelen, pkt->ts_ns, &seg, NULL) != DECODE_OK)
		return;
	trace_lost(r, false);   /* lost on purpose before this segment was sent: first */
	if (seg.dport == r->opt->port && (r->addr.family == 0 || ip_addr_equal(&seg.dst, &r->addr))) {
		/* loopback: our own segments to a client on this host also match
		 * dport when the client uses the same port — never the case here */
		lc = on_client_segment(r, &seg);
	} else if (seg.sport == r->opt->port && (r->addr.family == 0 || ip_addr_equal(&seg.src, &r->addr))) {
		r->lv.captured_own++;
		sender_facts(r, &seg);
	} else {
		return;
	}
	flow_table_feed(r->lv.flow, &seg);
	if (lc)
		emit_events(r, lc);
	trace_lost(r, false);
}

static void on_timers(struct lrun *r, uint64_t now)
{
	for (unsigned i = 0; i < r->nconns; i++) {
		struct lconn *lc = r->conns[i];
		enum tcb_timer_result tr = TCB_TIMER_NONE;
		if (lc->phase == LP_DONE)
			continue;
		if (lc->rtx.armed && now >= lc->rtx.deadline) {
			if (lc->rtx.count >= r->opt->c.retries) {
				tr = TCB_TIMER_GIVE_UP;
			} else {
				live_timer_backoff(&lc->rtx, now);
				snprintf(r->note, sizeof(r->note), "no ACK for our SYN-ACK: sending it again (retry %u of %u, next RTO %.0f s)",
					 lc->rtx.count, r->opt->c.retries, (double)lc->rtx.rto / (double)NS_PER_S);
				lnote(r, lc, r->note);
				send_seg(r, lc, TCP_FLAG_SYN | TCP_FLAG_ACK, lc->c.tcb.fsm.iss, NULL, 0);
			}
		}
		if (tr == TCB_TIMER_NONE && lc->c.tcb.open && lc->phase != LP_TIME_WAIT)
			tr = tcb_on_timer(&lc->c.tcb, now);
		if (tr == TCB_TIMER_GIVE_UP) {
			unsigned count = lc->rtx.armed ? lc->rtx.count : lc->c.tcb.backoff;
			emit_events(r, lc);
			snprintf(r->note, sizeof(r->note), "no answer after %u retransmissions: giving up on this client%s",
				 count, tcp_state_synchronized(lc->c.tcb.fsm.state) ? " (RST sent)" : "");
			lnote(r, lc, r->note);
			if (tcp_state_synchronized(lc->c.tcb.fsm.state) || lc->c.tcb.fsm.state == TCP_SYN_RECEIVED) {
				int err;
				uint32_t seq = lc->c.tcb.open ? lc->c.tcb.snd_nxt : lc->c.tcb.fsm.snd_nxt;
				live_send(&r->lv, &lc->c, TCP_FLAG_RST | TCP_FLAG_ACK, seq, NULL, 0, &err);
			}
			tcp_fsm_call(&lc->c.tcb.fsm, TCP_CALL_GIVE_UP);
			flow_table_call(r->lv.flow, &lc->tuple, TL_SERVER, TCP_CALL_GIVE_UP, live_real_ns(), NULL);
			conn_done(r, lc, TCPLAB_EXIT_TIMEOUT);
			continue;
		}
		if (tr == TCB_TIMER_RETRANSMIT || tr == TCB_TIMER_PROBE || lc->more ||
		    (lc->src_started && !lc->src_done)) {
			emit_events(r, lc);
			data_progress(r, lc);
			emit_events(r, lc);
		}
		if ((lc->phase == LP_LINGER || lc->phase == LP_OPEN) && lc->linger_deadline && now >= lc->linger_deadline) {
			lc->linger_deadline = 0;
			begin_close(r, lc);
			emit_events(r, lc);
		}
		if (lc->phase == LP_TIME_WAIT && now >= lc->tw_deadline) {
			snprintf(r->note, sizeof(r->note),
				 "TIME-WAIT ends after %.1f s (--time-wait); RFC 9293 asks 2MSL (Linux waits 60 s)",
				 r->opt->c.time_wait_s);
			tcp_fsm_call(&lc->c.tcb.fsm, TCP_CALL_TIME_WAIT_DONE);
			flow_table_call(r->lv.flow, &lc->tuple, TL_SERVER, TCP_CALL_TIME_WAIT_DONE, live_real_ns(), r->note);
			conn_done(r, lc, TCPLAB_EXIT_OK);
		}
		if (lc->phase != LP_DONE && lc->phase != LP_TIME_WAIT && !lc->rtx.armed && !lc->c.tcb.rto_armed &&
		    !lc->c.tcb.persist_armed && !lc->more && lc->idle_deadline &&
		    now >= lc->idle_deadline && r->opt->c.close != SESSION_CLOSE_NONE) {
			snprintf(r->note, sizeof(r->note), "the client was silent for %.1f s (--timeout): aborting with RST",
				 r->opt->c.timeout_s);
			lnote(r, lc, r->note);
			{
				uint32_t seq = lc->c.tcb.open ? lc->c.tcb.snd_nxt : lc->c.tcb.fsm.snd_nxt;
				tcp_fsm_call(&lc->c.tcb.fsm, TCP_CALL_ABORT);
				send_seg(r, lc, TCP_FLAG_RST | TCP_FLAG_ACK, seq, NULL, 0);
			}
			conn_done(r, lc, TCPLAB_EXIT_TIMEOUT);
		}
	}
	/* forget finished connections (after TIME-WAIT they need nothing) */
	for (unsigned i = 0; i < r->nconns;)
		if (r->conns[i]->phase == LP_DONE)
			free_conn(r, i);
		else
			i++;
}

static uint64_t next_deadline(const struct lrun *r)
{
	uint64_t d = UINT64_MAX;
	for (unsigned i = 0; i < r->nconns; i++) {
		const struct lconn *lc = r->conns[i];
		if (lc->phase == LP_DONE)
			continue;
		if (lc->more)
			return 0;
		if (lc->rtx.armed && lc->rtx.deadline < d)
			d = lc->rtx.deadline;
		if (lc->c.tcb.open && tcb_next_deadline(&lc->c.tcb) < d)
			d = tcb_next_deadline(&lc->c.tcb);
		if (lc->src_started && live_source_waiting(&lc->src)) {
			uint64_t soon = live_mono_ns() + SOURCE_POLL_NS;
			if (soon < d)
				d = soon;
		}
		if (lc->linger_deadline && lc->linger_deadline < d)
			d = lc->linger_deadline;
		if (lc->phase == LP_TIME_WAIT && lc->tw_deadline < d)
			d = lc->tw_deadline;
		if (lc->idle_deadline && lc->idle_deadline < d)
			d = lc->idle_deadline;
	}
	return d;
}

static int wait_and_dispatch(void *user, uint64_t deadline)
{
	struct lrun *r = user;

	return live_wait(&r->lv, deadline, 0, on_packet, r);
}

/* ---- --step (live_step.h): trace at capture, react after, send at the gate ---- */

/* Traces one captured segment on the port at once, no reaction. */
static bool step_trace(void *user, const struct capture_packet *pkt)
{
	struct lrun *r = user;
	struct segment seg;
	bool peer;

	if (segment_decode(pkt->link, pkt->data, pkt->caplen, pkt->wirelen, pkt->ts_ns, &seg, NULL) != DECODE_OK)
		return false;
	peer = seg.dport == r->opt->port && (r->addr.family == 0 || ip_addr_equal(&seg.dst, &r->addr));
	if (!peer && !(seg.sport == r->opt->port && (r->addr.family == 0 || ip_addr_equal(&seg.src, &r->addr))))
		return false;
	if (!peer) {
		r->lv.captured_own++;
		sender_facts(r, &seg);
	}
	flow_table_feed(r->lv.flow, &seg);
	return peer;
}

/* Reacts to a client's segment already traced. */
static void step_react(void *user, const struct capture_packet *pkt)
{
	struct lrun *r = user;
	struct segment seg;
	struct lconn *lc;

	if (segment_decode(pkt->link, pkt->data, pkt->caplen, pkt->wirelen, pkt->ts_ns, &seg, NULL) != DECODE_OK)
		return;
	lc = on_client_segment(r, &seg);
	if (lc)
		emit_events(r, lc);
}

static void step_flush(void *user)
{
	struct lrun *r = user;

	for (unsigned i = 0; i < r->nconns; i++)
		emit_events(r, r->conns[i]);
}

/* The prompt held tcplab ns: the clients were not silent meanwhile. */
static void step_paused(void *user, uint64_t ns)
{
	struct lrun *r = user;

	for (unsigned i = 0; i < r->nconns; i++)
		if (r->conns[i]->idle_deadline)
			r->conns[i]->idle_deadline += ns;
}

/* q at the step prompt: every open connection aborted with RST (the one
 * whose segment was held gets the sequence number it expects). */
static void step_quit(struct lrun *r)
{
	unsigned open = 0;

	for (unsigned i = 0; i < r->nconns; i++) {
		struct lconn *lc = r->conns[i];
		enum tcp_state st = lc->c.tcb.fsm.state;

		if ((tcp_state_synchronized(st) || st == TCP_SYN_RECEIVED) && st != TCP_TIME_WAIT &&
		    lc->phase != LP_DONE) {
			uint32_t seq = lc->c.tcb.open ? lc->c.tcb.snd_nxt : lc->c.tcb.fsm.snd_nxt;
			tcp_fsm_call(&lc->c.tcb.fsm, TCP_CALL_ABORT);
			send_seg(r, lc, TCP_FLAG_RST | TCP_FLAG_ACK, seq, NULL, 0);
			open++;
		}
	}
	lnote(r, NULL, open ? "q: the run ends here: open connections aborted with RST (RFC 9293 §3.10.5)"
			    : "q: the run ends here");
	r->result = TCPLAB_EXIT_OK;
}

static int setup(struct lrun *r, char errbuf[SESSION_ERRBUF_SIZE])
{
	const struct listen_options *opt = r->opt;
	char reb[ROUTE_ERRBUF_SIZE], as[64], filter[256], eb2[ROUTE_ERRBUF_SIZE];
	struct firewall_rule rule;
	uint16_t bound;
	int rc;

	memset(&r->addr, 0, sizeof(r->addr));
	if (opt->addr && strcmp(opt->addr, "0.0.0.0") != 0 && strcmp(opt->addr, "*") != 0) {
		if (ip_addr_parse(opt->addr, &r->addr) != 0) {
			if (route_resolve(opt->addr, 0, &r->addr, reb) != 0) {
				snprintf(errbuf, SESSION_ERRBUF_SIZE, "%s", reb);
				return TCPLAB_EXIT_NETWORK;
			}
		}
		if (route_interface_of(&r->addr, r->ifname) != 0) {
			snprintf(errbuf, SESSION_ERRBUF_SIZE, "no interface on this host has the address %s", opt->addr);
			return TCPLAB_EXIT_NETWORK;
		}
	} else {
		snprintf(r->ifname, sizeof(r->ifname), "any");
	}
	if (opt->c.interface)
		snprintf(r->ifname, sizeof(r->ifname), "%s", opt->c.interface);

	{
		struct ip_addr probe = r->addr;
		if (probe.family == 0) {
			probe.family = 4; /* 0.0.0.0 */
		}
		if (route_port_has_listener(&probe, opt->port)) {
			snprintf(errbuf, SESSION_ERRBUF_SIZE,
				 "a program on this host already listens on port %u: the kernel would answer the "
				 "clients itself; stop it or pick another port", opt->port);
			return TCPLAB_EXIT_NETWORK;
		}
		r->lv.port_fd = route_reserve_port(&probe, opt->port, &bound, eb2);
		if (r->lv.port_fd < 0) {
			snprintf(errbuf, SESSION_ERRBUF_SIZE, "%s", eb2);
			return TCPLAB_EXIT_NETWORK;
		}
	}

	if (r->addr.family) {
		ip_addr_format(&r->addr, as, sizeof(as));
		snprintf(filter, sizeof(filter), "tcp and host %s and port %u", as, opt->port);
	} else {
		snprintf(filter, sizeof(filter), "tcp and port %u", opt->port);
	}
	memset(&rule, 0, sizeof(rule));
	rule.local = r->addr;
	rule.local_port = opt->port;
	rule.exempt_mark = CRAFT_PACKET_MARK;
	/* one frame per ring slot on a known interface (see live_open); on
	 * "any" a loopback frame can be 64 KiB */
	if (opt->echo)
		r->lv.snaplen = 0;  /* --echo sends back every byte: keep whole GSO super-packets */
	else
		r->lv.snaplen = strcmp(r->ifname, "any") != 0 ? (uint32_t)live_interface_mss(r->ifname, 4) + 40 + 64
							     : 65536 + 128;
	rc = live_open(&r->lv, &opt->c, r->ifname, r->addr.family ? r->addr.family : 4, filter, &rule, errbuf);
	if (rc != TCPLAB_EXIT_OK)
		return rc;

	snprintf(r->note, sizeof(r->note),
		 "tcplab listen: %s%s%s:%u on %s (no kernel socket listens: tcplab answers every SYN itself); %s%s",
		 r->addr.family == 6 ? "[" : "", r->addr.family ? as : "*", r->addr.family == 6 ? "]" : "", opt->port,
		 r->ifname,
		 r->lv.fw ? "the kernel's RST from this port is dropped by nftables table " : "--no-firewall: the kernel will answer every SYN with RST",
		 r->lv.fw ? firewall_table_name(r->lv.fw) : "");
	lnote(r, NULL, r->note);
	fflush(r->lv.r->out);
	if (r->addr.family) {
		r->mss_addr = r->addr;
		r->mss_cached = live_interface_mss(r->ifname, r->addr.family);
	}
	return TCPLAB_EXIT_OK;
}

int session_listen(const struct listen_options *opt, struct renderer *rd, char errbuf[SESSION_ERRBUF_SIZE])
{
	static struct lrun r;
	struct flow_options fo;
	char feb[FLOW_ERRBUF_SIZE];
	int rc;

	memset(&r, 0, sizeof(r));
	r.opt = opt;
	r.lv.port_fd = -1;
	r.lv.r = rd;

	if (privilege_check(!opt->c.no_firewall, errbuf) != 0)
		return TCPLAB_EXIT_PERMISSION;
	live_install_signals();
	memset(&fo, 0, sizeof(fo));
	r.lv.flow = flow_table_new(rd, &fo, feb);
	if (!r.lv.flow) {
		snprintf(errbuf, SESSION_ERRBUF_SIZE, "%s", feb);
		return TCPLAB_EXIT_ERROR;
	}
	rc = setup(&r, errbuf);
	if (rc != TCPLAB_EXIT_OK || live_signal) {
		live_close(&r.lv);
		flow_table_free(r.lv.flow);
		return rc == TCPLAB_EXIT_OK ? TCPLAB_EXIT_INTERRUPTED : rc;
	}

	if (opt->c.step) {
		struct live_step_ops so = { step_trace, step_react, step_flush, step_paused, &r };
		if (live_step_attach(&r.lv, &so, "server", STDIN_FILENO, stderr) != 0) {
			snprintf(errbuf, SESSION_ERRBUF_SIZE, "out of memory");
			live_close(&r.lv);
			flow_table_free(r.lv.flow);
			return TCPLAB_EXIT_ERROR;
		}
	}
	while (!opt->count || r.done < opt->count || r.nconns > 0) {
		if (wait_and_dispatch(&r, next_deadline(&r)) != 0)
			break;
		on_timers(&r, live_mono_ns());
		trace_lost(&r, false);
		fflush(rd->out);
		if (live_send_failed(&r.lv)) {
			/* one sentence and exit 1 at once: never a silent timeout */
			snprintf(errbuf, SESSION_ERRBUF_SIZE, "%s", r.lv.send_error);
			r.result = TCPLAB_EXIT_ERROR;
			break;
		}
		if (r.source_failed) {
			snprintf(errbuf, SESSION_ERRBUF_SIZE, "%s", r.source_error);
			r.result = TCPLAB_EXIT_ERROR;
			break;
		}
	}
	if (live_signal) {
		unsigned open = 0;
		for (unsigned i = 0; i < r.nconns; i++) {
			struct lconn *lc = r.conns[i];
			if (tcp_state_synchronized(lc->c.tcb.fsm.state) || lc->c.tcb.fsm.state == TCP_SYN_RECEIVED) {
				if (lc->c.tcb.fsm.state != TCP_TIME_WAIT) {
					uint32_t seq = lc->c.tcb.open ? lc->c.tcb.snd_nxt : lc->c.tcb.fsm.snd_nxt;
					tcp_fsm_call(&lc->c.tcb.fsm, TCP_CALL_ABORT);
					send_seg(&r, lc, TCP_FLAG_RST | TCP_FLAG_ACK, seq, NULL, 0);
					open++;
				}
			}
		}
		snprintf(r.note, sizeof(r.note), "interrupted by signal %d%s", live_signal,
			 open ? ": open connections aborted with RST" : "");
		lnote(&r, NULL, r.note);
		r.result = TCPLAB_EXIT_INTERRUPTED;
	} else if (live_step_quit(&r.lv)) {
		step_quit(&r);
	}
	if (!r.lv.send_failed)
		live_drain(&r.lv, wait_and_dispatch, &r);
	trace_lost(&r, true);
	if (r.lv.lost_on_purpose > 0) {
		snprintf(r.note, sizeof(r.note), "--lose: %llu segment%s built and kept off the wire on purpose",
			 (unsigned long long)r.lv.lost_on_purpose, r.lv.lost_on_purpose == 1 ? "" : "s");
		lnote(&r, NULL, r.note);
	}
	live_kernel_states_done(&r.lv);
	for (unsigned i = 0; i < r.nconns; i++) {
		struct tl_endpoint_event e;
		for (unsigned part = 0; !r.conns[i]->counted &&
		     live_endpoint_stats(&r.conns[i]->c, TL_SERVER, part, &e, r.note, sizeof(r.note)); part++)
			flow_table_endpoint(r.lv.flow, &r.conns[i]->tuple, live_real_ns(), &e);
	}
	flow_table_finish(r.lv.flow);
	render_finish(rd);
	live_close(&r.lv);
	while (r.nconns)
		free_conn(&r, 0);
	flow_table_free(r.lv.flow);
	if (r.result == TCPLAB_EXIT_OK) {
		/* the run's code: the worst outcome among the connections served */
		r.result = TCPLAB_EXIT_OK;
	}
	return r.result;
}
