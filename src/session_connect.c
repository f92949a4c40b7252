/*
 * session_connect.c — `tcplab connect`: the client role, by hand.
 *
 * Two things happen on every captured segment, in this order:
 *   1. the controller (this file) feeds the peer's segments to the client
 *      endpoint it drives (tcp_fsm) and executes the actions at once —
 *      before anything is printed, so the ACK to a SYN-ACK leaves within
 *      microseconds;
 *   2. the tracker (flow.c) gets every segment, ours and the peer's, in
 *      capture order and prints the trace with both endpoints' states.
 * So the printed states come from the wire, exactly as `tcplab replay`
 * would print them from the pcap this run writes with -w.
 *
 * Data, FIN, their retransmission, congestion and flow control belong to
 * the driven endpoint's tcb (include/tcplab/tcb.h): this file feeds it the
 * user's data (--data, --data-file streamed) and the server's segments,
 * and sends what it produces.
 *
 * Timers: SYN retransmission with RFC 6298 back-off (1 s initial RTO,
 * doubled each time, --retries attempts), the tcb's RTO and persist
 * timers, a quiet period after
 * our data to collect the server's reply, an idle timeout while waiting for
 * the server, and TIME-WAIT lingering (--time-wait) during which a
 * retransmitted FIN is ACKed again (RFC 9293 §3.10.7.4).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "live.h"
#include "live_step.h"
#include "tcplab/decode.h"
#include "tcplab/exitcode.h"
#include "tcplab/privilege.h"
#include "tcplab/route.h"
#include "tcplab/session.h"

#define REPLY_QUIET_NS (200 * NS_PER_MS) /* wait for the server's answer to our data */
#define SPIN_NS (5 * NS_PER_MS)          /* busy-poll this long after sending what wants a reply */
#define TRACE_QUEUE 32
/* What a queued packet keeps: the headers and more than the renderers
 * show of a payload (text ~40 bytes, JSON 64) — not the whole segment */
#define TRACE_SNAP 320

enum phase {
	PH_HANDSHAKE,   /* SYN sent, waiting for SYN-ACK */
	PH_DATA,        /* sending the user's data (--data, --data-file) through the tcb */
	PH_QUIET,       /* data acknowledged, collecting the reply */
	PH_CLOSING,     /* our FIN queued or sent, or waiting for the peer's FIN */
	PH_TIME_WAIT,   /* lingering in TIME-WAIT */
	PH_DONE,
};

#define EVQ 256          /* sender events waiting to be traced */
#define SOURCE_POLL_NS (2 * NS_PER_MS) /* standard input with nothing yet: look again */

struct run {
	struct live lv;
	struct live_conn c;
	const struct connect_options *opt;
	struct segment tuple;      /* the 4-tuple as a segment client → server */
	enum phase phase;
	struct live_source src;    /* the user's data */
	bool src_done;
	/* retransmission of the SYN (data and FIN: the tcb's own timer) */
	struct live_timer rtx;
	uint64_t quiet_deadline, idle_deadline, tw_deadline;
	int result;
	bool source_failed;
	char note[1024];
	/* notes raised while reacting to a segment wait until it is traced */
	bool reacting;
	unsigned npending;
	char pending[4][256];
	/* packets waiting to be traced (see on_packet) */
	struct queued {
		uint64_t ts_ns;
		int link;
		uint32_t caplen, wirelen;
		uint8_t data[TRACE_SNAP];
		unsigned nnotes;
		char notes[4][256];
		/* fault injection: how the tracker is fed it (flow_table_feed_as) */
		unsigned how;
		const char *annotation;
		bool is_lost;              /* never on the wire: lseg, payload in data */
		struct segment lseg;
	} queue[TRACE_QUEUE];
	unsigned nqueued;
	/* the sender's events, traced after the packet that caused them */
	struct qev {
		struct tcb_event e;
		unsigned after;        /* traced after this many queued packets */
		uint64_t ts_ns;        /* when not caused by a packet */
	} evq[EVQ];
	unsigned nev;
	uint64_t spin_until;       /* busy-poll until then: a reply is imminent */
	/* --old-syn: the stale SYN's number; our own SYN held until the stale
	 * SYN-ACK is answered (pending), then released */
	uint32_t stale_isn;
	bool old_syn_pending, old_syn_released, old_syn_marked;
	/* --simultaneous: our SYN held until the peer's SYN arrives */
	bool sim_hold;
	uint32_t sim_iss;
};

static void flush_trace(struct run *r);

static void note(struct run *r, const char *text)
{
	if (r->reacting) {
		if (r->npending < 4)
			snprintf(r->pending[r->npending++], sizeof(r->pending[0]), "%s", text);
		return;
	}
	flush_trace(r);
	flow_table_note(r->lv.flow, &r->tuple, live_real_ns(), text);
}

/* Moves the tcb's events to the trace queue: after the packet being
 * reacted to, or after the packets queued so far. */
static void collect_events(struct run *r)
{
	struct tcb_event e;
	while (tcb_next_event(&r->c.tcb, &e)) {
		if (r->nev == EVQ) {
			if (r->reacting)
				continue; /* dropped: the trace is behind by 256 events */
			flush_trace(r);
		}
		r->evq[r->nev].e = e;
		r->evq[r->nev].after = r->nqueued + (r->reacting ? 1u : 0u);
		r->evq[r->nev].ts_ns = live_real_ns();
		r->nev++;
	}
}

static void finish(struct run *r, int result)
{
	if (r->phase != PH_DONE)
		r->result = result;
	r->phase = PH_DONE;
	r->rtx.armed = false;
}

/* Sends what the tcb has due (data, retransmissions, probes, FIN, ACKs). */
static void pump(struct run *r)
{
	uint64_t sent = r->lv.sent;
	live_pump(&r->lv, &r->c);
	if (r->lv.sent != sent)
		r->spin_until = live_mono_ns() + SPIN_NS; /* ACKs are on their way */
	collect_events(r);
}

/* Sends the SYN and remembers it for retransmission until it is acked. */
static void send_syn(struct run *r, uint32_t seq)
{
	int err;
	live_send_async(&r->lv, &r->c, TCP_FLAG_SYN, seq, NULL, 0, &err);
	live_timer_start(&r->rtx, live_mono_ns());
	r->spin_until = live_mono_ns() + SPIN_NS;
}

/* --old-syn (RFC 9293 §3.5 Figure 8): our SYN is held back, as if delayed
 * in the network, and an old duplicate SYN from an earlier connection on
 * this port (another ISN) arrives first.  The peer answers the old SYN; we
 * answer that SYN-ACK with RST (on_peer_segment), then release ours. */
static void start_old_syn(struct run *r, uint32_t iss)
{
	int err;
	/* an earlier incarnation's number: well behind ours (RFC 9293 §3.4.1) */
	r->stale_isn = iss - 0x01000000u;
	snprintf(r->note, sizeof(r->note),
		 "--old-syn: tcplab's SYN (ISN %u) is held back as if delayed in the network; an old "
		 "duplicate SYN of an earlier connection from this port (ISN %u) arrives first", iss,
		 r->stale_isn);
	note(r, r->note);
	live_send_held(&r->lv, &r->c, TCP_FLAG_SYN, iss,
		       "held back (--old-syn): it arrives after the old duplicate");
	r->old_syn_pending = true;
	live_timer_start(&r->rtx, live_mono_ns());   /* no SYN-ACK for the old SYN: the RTO sends ours */
	live_send_stale_syn(&r->lv, &r->c, r->stale_isn, &err);
	r->spin_until = live_mono_ns() + SPIN_NS;
}

/* --simultaneous (RFC 9293 §3.5 Figure 7): we are in SYN-SENT, our SYN
 * "in flight" until the peer's SYN arrives (on_peer_segment sends it then),
 * so the two SYNs cross; at most --timeout, then it leaves anyway. */
static void start_simultaneous(struct run *r, uint32_t iss)
{
	double t = r->opt->c.timeout_s > 0 ? r->opt->c.timeout_s : 10.0;
	r->sim_hold = true;
	r->sim_iss = iss;
	snprintf(r->note, sizeof(r->note),
		 "--simultaneous: tcplab is in SYN-SENT; its SYN (ISN %u) waits, as if in flight, until the "
		 "peer's own SYN arrives (a connect() from port %u to port %u), so the two SYNs cross "
		 "(RFC 9293 Figure 7); the trace calls \"client\" the end whose SYN it saw first",
		 iss, r->c.rport, r->c.lport);
	note(r, r->note);
	flush_trace(r);
	render_flush(r->lv.r);
	fflush(r->lv.r->out);   /* a script starts the peer once it sees this */
	r->rtx.armed = true;
	r->rtx.count = 0;
	r->rtx.rto = LIVE_INITIAL_RTO_NS;
	r->rtx.deadline = live_mono_ns() + (uint64_t)(t * (double)NS_PER_S);
}

static void send_ack(struct run *r)
{
	int err;
	live_send(&r->lv, &r->c, TCP_FLAG_ACK, r->c.tcb.fsm.snd_nxt, NULL, 0, &err);
}

/* Aborts with RST (RFC 9293 §3.10.5 ABORT). */
static void abort_conn(struct run *r)
{
	int err;
	uint32_t seq = r->c.tcb.open ? r->c.tcb.snd_nxt : r->c.tcb.fsm.snd_nxt;
	struct tcp_transition t = tcp_fsm_call(&r->c.tcb.fsm, TCP_CALL_ABORT);
	if (t.actions & TCP_ACT_SEND_RST)
		live_send(&r->lv, &r->c, TCP_FLAG_RST | TCP_FLAG_ACK, seq, NULL, 0, &err);
}

static void idle_from_now(struct run *r)
{
	double t = r->opt->c.timeout_s > 0 ? r->opt->c.timeout_s : 10.0;
	r->idle_deadline = live_mono_ns() + (uint64_t)(t * (double)NS_PER_S);
}

/* Our FIN follows the data still queued (the tcb sends it when due). */
static void close_ours(struct run *r)
{
	tcb_close(&r->c.tcb);
	pump(r);
	r->phase = PH_CLOSING;
	idle_from_now(r);
}

/* Our data is done (or there was none): close as --close says. */
static void start_close(struct run *r)
{
	switch (r->opt->c.close) {
	case SESSION_CLOSE_FIRST:
		close_ours(r);
		break;
	case SESSION_CLOSE_PEER:
		if (r->c.tcb.fsm.state == TCP_CLOSE_WAIT) {
			close_ours(r);
		} else {
			note(r, "--close server: waiting for the server to close first");
			r->phase = PH_CLOSING;
			idle_from_now(r);
		}
		break;
	case SESSION_CLOSE_RST:
		note(r, "--close rst: aborting with RST (RFC 9293 §3.10.5)");
		abort_conn(r);
		finish(r, TCPLAB_EXIT_OK);
		break;
	case SESSION_CLOSE_NONE:
		snprintf(r->note, sizeof(r->note),
			 "--close none: tcplab leaves the connection %s. The server still holds it; this "
			 "host's kernel has no socket for it and, once tcplab's firewall rule is gone, "
			 "will answer the server's next segment with RST",
			 tcp_state_name(r->c.tcb.fsm.state));
		note(r, r->note);
		finish(r, TCPLAB_EXIT_OK);
		break;
	}
}

/* Keeps the send queue fed from the user's data and sends; once all of it
 * is acknowledged, moves on (quiet time for the reply, then close). */
static void data_progress(struct run *r)
{
	const struct session_common *o = &r->opt->c;

	if (r->phase != PH_DATA)
		return;
	if (!r->src_done && r->c.tcb.fsm.state != TCP_CLOSED) {
		int rc = live_source_feed(&r->src, &r->c.tcb);
		if (rc < 0) {
			r->source_failed = true;
			return;
		}
		r->src_done = rc == 1;
	}
	pump(r);
	if (!r->src_done || !tcb_all_acked(&r->c.tcb))
		return;
	if (o->data_count > 0 && o->close != SESSION_CLOSE_NONE && r->c.tcb.fsm.state != TCP_CLOSE_WAIT) {
		r->phase = PH_QUIET;
		r->quiet_deadline = live_mono_ns() + REPLY_QUIET_NS;
		return;
	}
	start_close(r);
}

/* The controller's reaction to one segment from the server. */
static void on_peer_segment(struct run *r, const struct segment *seg)
{
	struct live_conn *c = &r->c;
	enum tcp_state before = c->tcb.fsm.state;
	struct tcb_input_result in;
	struct tcp_transition t;
	const uint8_t *p;
	uint32_t n;

	if (r->phase == PH_DONE || before == TCP_CLOSED)
		return;
	if (before == TCP_SYN_SENT && (seg->flags & TCP_FLAG_SYN))
		live_learn_peer(c, seg, !r->opt->c.no_options);
	if (r->sim_hold && before == TCP_SYN_SENT &&
	    (seg->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) == TCP_FLAG_SYN) {
		/* --simultaneous: the peer's SYN is here while ours was "in
		 * flight": ours leaves now and the two have crossed (RFC 9293
		 * Figure 7); the peer, in SYN-SENT too, answers it SYN-ACK */
		int err;
		r->sim_hold = false;
		/* from this thread: the SYN-ACK sent below must not overtake it */
		live_send(&r->lv, c, TCP_FLAG_SYN, r->sim_iss, NULL, 0, &err);
		live_timer_start(&r->rtx, live_mono_ns());
	}

	if (tcb_input(&c->tcb, seg, live_mono_ns(), &in) != 0) {
		r->source_failed = true;
		snprintf(r->src.err, sizeof(r->src.err), "out of memory for the receive buffer");
		return;
	}
	t = in.tr;
	if (c->ts_ok && seg->opt.has_timestamps && !t.unacceptable)
		c->ts_recent = seg->opt.ts_val;

	/* the SYN is acknowledged: no more SYN retransmission */
	if (r->rtx.armed && c->tcb.fsm.syn_acked)
		r->rtx.armed = false;

	if (t.actions & TCP_ACT_SEND_RST) {
		/* RFC 9293 §3.10.7.3: <SEQ=SEG.ACK><CTL=RST>, without touching our TCB */
		int err;
		struct tcp_endpoint keep = c->tcb.fsm;
		live_send(&r->lv, c, TCP_FLAG_RST, seg->ack, NULL, 0, &err);
		c->tcb.fsm = keep;
		if (r->old_syn_pending && before == TCP_SYN_SENT && (seg->flags & TCP_FLAG_SYN)) {
			/* --old-syn: the old duplicate is refused; our own SYN,
			 * held back (delayed in the network), arrives now */
			r->old_syn_pending = false;
			r->old_syn_released = true;
			note(r, "--old-syn: the SYN-ACK acknowledged the old SYN, not ours: RST "
				"<SEQ=SEG.ACK> (RFC 9293 §3.10.7.3), still SYN-SENT; now our own SYN arrives");
			live_send_async(&r->lv, c, TCP_FLAG_SYN, c->tcb.fsm.iss, NULL, 0, &err);
			live_timer_start(&r->rtx, live_mono_ns());
			r->spin_until = live_mono_ns() + SPIN_NS;
		}
	}
	if (t.actions & TCP_ACT_SEND_SYNACK) {
		int err;
		live_send(&r->lv, c, TCP_FLAG_SYN | TCP_FLAG_ACK, c->tcb.fsm.iss, NULL, 0, &err);
	}
	/* the ACK to the SYN-ACK leaves at once, on the prepared path; what
	 * the SYNs negotiated reaches the tcb after it (the MSS, windows) */
	if ((t.actions & TCP_ACT_SEND_ACK) && before == TCP_SYN_SENT)
		send_ack(r);
	if (before == TCP_SYN_SENT && (seg->flags & TCP_FLAG_SYN))
		live_tcb_negotiated(c);
	if (t.actions & TCP_ACT_START_2MSL) {
		double tw = r->opt->c.time_wait_s >= 0 ? r->opt->c.time_wait_s : 1.0;
		r->tw_deadline = live_mono_ns() + (uint64_t)(tw * (double)NS_PER_S);
		r->phase = PH_TIME_WAIT;
		r->rtx.armed = false;
	}
	/* connect reads what the server sends as it comes (the trace shows it) */
	while ((n = tcb_peek(&c->tcb, &p)) > 0)
		tcb_consume(&c->tcb, n, live_mono_ns());
	if (in.delivered > 0 && r->phase == PH_QUIET)
		r->quiet_deadline = live_mono_ns() + REPLY_QUIET_NS;
	idle_from_now(r);

	if (t.changed) {
		switch (t.to) {
		case TCP_ESTABLISHED:
			if (before == TCP_SYN_SENT || before == TCP_SYN_RECEIVED) {
				live_source_init(&r->src, r->opt->c.data, r->opt->c.data_count);
				r->phase = PH_DATA;
			}
			break;
		case TCP_CLOSED:
			if (seg->flags & TCP_FLAG_RST)
				finish(r, before == TCP_SYN_SENT ? TCPLAB_EXIT_REFUSED : TCPLAB_EXIT_RESET);
			else
				finish(r, TCPLAB_EXIT_OK); /* LAST-ACK → CLOSED */
			collect_events(r);
			return;
		case TCP_CLOSE_WAIT:
			/* The server closed first.  Finish sending, then close our side. */
			if (r->phase == PH_DATA)
				break;
			if (r->opt->c.close == SESSION_CLOSE_NONE || r->opt->c.close == SESSION_CLOSE_RST) {
				if (r->phase == PH_QUIET || r->opt->c.close == SESSION_CLOSE_RST)
					start_close(r);
				break;
			}
			if (!r->c.tcb.close_requested)
				close_ours(r);
			break;
		default:
			break;
		}
	}
	if (r->phase == PH_DATA)
		data_progress(r);
	else if (r->phase != PH_DONE)
		pump(r);
	collect_events(r);
}

/* Emits the queued sender events that follow `after` queued packets. */
static void emit_events(struct run *r, unsigned after, uint64_t ts)
{
	for (unsigned i = 0; i < r->nev; i++) {
		struct tl_endpoint_event e;
		char text[400];
		if (r->evq[i].after != after)
			continue;
		live_endpoint_event(&r->c, TL_CLIENT, &r->evq[i].e, &e, text, sizeof(text));
		flow_table_endpoint(r->lv.flow, &r->tuple, ts ? ts : r->evq[i].ts_ns, &e);
	}
}

/* Our own segments carry what the sender said they were (live.h: one
 * source per fact). */
static void sender_facts(struct run *r, struct segment *seg)
{
	if (seg->sport == r->c.lport && seg->dport == r->c.rport && ip_addr_equal(&seg->src, &r->c.local))
		live_sender_facts(&r->c, seg);
}

static void flush_queue(struct run *r);

/* Moves the segments lost on purpose (or held back) that are due — every
 * segment sent before them has been captured, or force — to the trace
 * queue, in order with the captured ones. */
static void take_lost(struct run *r, bool force)
{
	struct segment s;
	const char *ann;
	uint8_t buf[LIVE_LOST_PREVIEW];

	while (live_lost_next(&r->lv, force, &s, buf, &ann)) {
		struct queued *q;
		if (r->nqueued == TRACE_QUEUE)
			flush_queue(r);
		q = &r->queue[r->nqueued++];
		memset(q, 0, offsetof(struct queued, data));
		q->is_lost = true;
		q->how = FLOW_FEED_LOST;
		q->annotation = ann;
		/* never before what the capture already holds */
		if (r->nqueued > 1 && s.ts_ns < r->queue[r->nqueued - 2].ts_ns)
			s.ts_ns = r->queue[r->nqueued - 2].ts_ns;
		q->ts_ns = s.ts_ns;
		q->caplen = s.payload_captured < sizeof(q->data) ? s.payload_captured : (uint32_t)sizeof(q->data);
		if (s.payload && q->caplen)
			memcpy(q->data, s.payload, q->caplen);
		s.payload = NULL;
		q->lseg = s;
		q->nnotes = 0;
	}
}

/* Traces the queued packets (and the segments lost on purpose that are
 * due), with the notes and sender events raised while reacting to them. */
static void flush_trace(struct run *r)
{
	if (!r->reacting)
		take_lost(r, false);
	flush_queue(r);
}

static void flush_queue(struct run *r)
{
	emit_events(r, 0, 0);
	for (unsigned i = 0; i < r->nqueued; i++) {
		struct queued *q = &r->queue[i];
		struct segment seg;
		if (q->is_lost) {
			seg = q->lseg;
			seg.payload = seg.payload_captured ? q->data : NULL;
			flow_table_feed_as(r->lv.flow, &seg, q->how, q->annotation);
		} else if (segment_decode(q->link, q->data, q->caplen, q->wirelen, q->ts_ns, &seg, NULL) == DECODE_OK) {
			sender_facts(r, &seg);
			flow_table_feed_as(r->lv.flow, &seg, q->how, q->annotation);
		}
		for (unsigned k = 0; k < q->nnotes; k++)
			flow_table_note(r->lv.flow, &r->tuple, q->ts_ns, q->notes[k]);
		emit_events(r, i + 1, q->ts_ns);
	}
	/* events queued after more packets than were traced (none expected) */
	for (unsigned i = 0; i < r->nev; i++)
		if (r->evq[i].after > r->nqueued) {
			r->evq[i].after = 0;
			emit_events(r, 0, 0);
		}
	r->nqueued = 0;
	r->nev = 0;
}

/*
 * Capture callback: react first, trace later.  The peer's segment is acted
 * on at once; every segment of the connection is copied to a small queue
 * and traced (decoded, tracked, printed) once no reply is imminent, so
 * printing never sits between a SYN-ACK and our ACK.
 */
static void on_packet(void *user, const struct capture_packet *pkt)
{
	struct run *r = user;
	struct segment seg;
	struct queued *q;
	unsigned how = 0;
	const char *ann = NULL;

	if (segment_decode(pkt->link, pkt->data, pkt->caplen, pkt->wirelen, pkt->ts_ns, &seg, NULL) != DECODE_OK)
		return;
	if (r->nqueued == TRACE_QUEUE)
		flush_trace(r);
	/* segments lost on purpose before this one was sent come first */
	take_lost(r, false);
	if (seg.sport == r->c.rport && seg.dport == r->c.lport && ip_addr_equal(&seg.src, &r->c.remote) &&
	    ip_addr_equal(&seg.dst, &r->c.local)) {
		r->reacting = true;
		on_peer_segment(r, &seg);
		r->reacting = false;
	} else if (seg.sport == r->c.lport && seg.dport == r->c.rport && ip_addr_equal(&seg.src, &r->c.local)) {
		r->lv.captured_own++;
		if (r->opt->old_syn && (seg.flags & (TCP_FLAG_SYN | TCP_FLAG_ACK | TCP_FLAG_RST)) == TCP_FLAG_SYN) {
			if (seg.seq == r->stale_isn && !r->old_syn_released) {
				how = FLOW_FEED_STALE;
				ann = "old duplicate (--old-syn): an earlier connection's SYN, not this one's";
			} else if (r->old_syn_released && !r->old_syn_marked && seg.seq == r->c.tcb.fsm.iss) {
				r->old_syn_marked = true;
				ann = "tcplab's own SYN, delayed until now (--old-syn)";
			}
		}
	} else {
		return;
	}
	q = &r->queue[r->nqueued++];
	q->how = how;
	q->annotation = ann;
	q->is_lost = false;
	q->ts_ns = pkt->ts_ns;
	q->link = pkt->link;
	q->wirelen = pkt->wirelen;
	q->caplen = pkt->caplen < sizeof(q->data) ? pkt->caplen : (uint32_t)sizeof(q->data);
	memcpy(q->data, pkt->data, q->caplen);
	q->nnotes = r->npending;
	for (unsigned i = 0; i < r->npending; i++)
		memcpy(q->notes[i], r->pending[i], sizeof(q->notes[i]));
	r->npending = 0;
	take_lost(r, false);
}

/* Gives up: retransmissions exhausted. */
static void give_up(struct run *r, const char *what, unsigned count)
{
	snprintf(r->note, sizeof(r->note), "no answer to our %s after %u retransmissions: giving up%s",
		 what, count,
		 tcp_state_synchronized(r->c.tcb.fsm.state) ? " (RST sent so the server drops it too)" : "");
	note(r, r->note);
	if (tcp_state_synchronized(r->c.tcb.fsm.state))
		abort_conn(r);
	tcp_fsm_call(&r->c.tcb.fsm, TCP_CALL_GIVE_UP);
	flush_trace(r);
	flow_table_call(r->lv.flow, &r->tuple, TL_CLIENT, TCP_CALL_GIVE_UP, live_real_ns(), NULL);
	finish(r, TCPLAB_EXIT_TIMEOUT);
}

/* Fires whichever timers are due. */
static void on_timers(struct run *r, uint64_t now)
{
	if (r->rtx.armed && now >= r->rtx.deadline && r->sim_hold) {
		int err;
		r->sim_hold = false;
		snprintf(r->note, sizeof(r->note),
			 "--simultaneous: no SYN from the peer within %.1f s (--timeout): sending ours now "
			 "(an ordinary active open)", r->opt->c.timeout_s > 0 ? r->opt->c.timeout_s : 10.0);
		note(r, r->note);
		live_send_async(&r->lv, &r->c, TCP_FLAG_SYN, r->sim_iss, NULL, 0, &err);
		live_timer_start(&r->rtx, now);
		r->spin_until = live_mono_ns() + SPIN_NS;
	}
	if (r->rtx.armed && now >= r->rtx.deadline) {
		int err;

		r->old_syn_pending = false;   /* the stale SYN drew no SYN-ACK: the RTO sends ours */
		if (r->rtx.count >= r->opt->c.retries) {
			give_up(r, "SYN", r->rtx.count);
			return;
		}
		live_timer_backoff(&r->rtx, now);
		snprintf(r->note, sizeof(r->note), "retransmission timer fired: sending the SYN again (retry %u of %u, next RTO %.0f s)",
			 r->rtx.count, r->opt->c.retries, (double)r->rtx.rto / (double)NS_PER_S);
		note(r, r->note);
		/* in SYN-RECEIVED (a simultaneous open) the SYN-ACK is what
		 * goes again (RFC 9293 §3.10.7.3) */
		live_send_async(&r->lv, &r->c,
				r->c.tcb.fsm.state == TCP_SYN_RECEIVED ? TCP_FLAG_SYN | TCP_FLAG_ACK : TCP_FLAG_SYN,
				r->c.tcb.fsm.iss, NULL, 0, &err);
		r->spin_until = live_mono_ns() + SPIN_NS;
	}
	if (r->phase != PH_DONE && r->c.tcb.open) {
		switch (tcb_on_timer(&r->c.tcb, now)) {
		case TCB_TIMER_GIVE_UP:
			collect_events(r);
			give_up(r, r->c.tcb.close_requested && r->c.tcb.sq_len == 0 ? "FIN" : "data",
				r->c.tcb.backoff);
			return;
		case TCB_TIMER_RETRANSMIT:
		case TCB_TIMER_PROBE:
			collect_events(r);
			pump(r);
			break;
		case TCB_TIMER_NONE:
			break;
		}
	}
	if (r->phase == PH_DATA && (!r->src_done || r->lv.pump_more))
		data_progress(r);
	else if (r->lv.pump_more && r->phase != PH_DONE)
		pump(r);
	if (r->phase == PH_QUIET && now >= r->quiet_deadline)
		start_close(r);
	if ((r->phase == PH_CLOSING || r->phase == PH_DATA) && !r->c.tcb.rto_armed && !r->c.tcb.persist_armed &&
	    now >= r->idle_deadline && !live_source_waiting(&r->src)) {
		snprintf(r->note, sizeof(r->note),
			 "the server did not %s within %.1f s (--timeout): aborting with RST",
			 r->phase == PH_DATA ? "answer" : "close",
			 r->opt->c.timeout_s > 0 ? r->opt->c.timeout_s : 10.0);
		note(r, r->note);
		flush_trace(r);
		flow_table_call(r->lv.flow, &r->tuple, TL_CLIENT, TCP_CALL_GIVE_UP, live_real_ns(),
				"gave up waiting for the server (--timeout)");
		abort_conn(r);
		finish(r, TCPLAB_EXIT_TIMEOUT);
	}
	if (r->phase == PH_TIME_WAIT && now >= r->tw_deadline) {
		double tw = r->opt->c.time_wait_s >= 0 ? r->opt->c.time_wait_s : 1.0;
		snprintf(r->note, sizeof(r->note),
			 "TIME-WAIT ends after %.1f s (--time-wait); RFC 9293 asks 2MSL (Linux waits 60 s): "
			 "the %.1f s not waited are skipped so the demo ends",
			 tw, tw < 60 ? 60 - tw : 0);
		tcp_fsm_call(&r->c.tcb.fsm, TCP_CALL_TIME_WAIT_DONE);
		flush_trace(r);
		flow_table_call(r->lv.flow, &r->tuple, TL_CLIENT, TCP_CALL_TIME_WAIT_DONE, live_real_ns(), r->note);
		finish(r, TCPLAB_EXIT_OK);
	}
}

static uint64_t next_deadline(const struct run *r)
{
	uint64_t d = UINT64_MAX;
	if (r->lv.pump_more && r->phase != PH_DONE)
		return 0; /* more segments are due: only look at the capture first */
	if (r->rtx.armed && r->rtx.deadline < d)
		d = r->rtx.deadline;
	if (r->phase != PH_DONE && r->c.tcb.open && tcb_next_deadline(&r->c.tcb) < d)
		d = tcb_next_deadline(&r->c.tcb);
	if (r->phase == PH_DATA && live_source_waiting(&r->src)) {
		uint64_t soon = live_mono_ns() + SOURCE_POLL_NS;
		if (soon < d)
			d = soon;
	}
	if (r->phase == PH_QUIET && r->quiet_deadline < d)
		d = r->quiet_deadline;
	if ((r->phase == PH_CLOSING || r->phase == PH_DATA) && r->idle_deadline && r->idle_deadline < d)
		d = r->idle_deadline;
	if (r->phase == PH_TIME_WAIT && r->tw_deadline < d)
		d = r->tw_deadline;
	return d;
}

/* Waits for packets (busy-polling while a reply is imminent); the trace is
 * flushed first whenever tcplab is about to sleep. */
static int wait_and_dispatch(void *user, uint64_t deadline)
{
	struct run *r = user;

	if (live_mono_ns() >= r->spin_until)
		flush_trace(r);
	return live_wait(&r->lv, deadline, r->spin_until, on_packet, r);
}

/* ---- --step (live_step.h): trace at capture, react after, send at the gate ---- */

/* Traces one captured segment of the connection at once, no reaction. */
static bool step_trace(void *user, const struct capture_packet *pkt)
{
	struct run *r = user;
	struct segment seg;
	bool peer, own;

	if (segment_decode(pkt->link, pkt->data, pkt->caplen, pkt->wirelen, pkt->ts_ns, &seg, NULL) != DECODE_OK)
		return false;
	peer = seg.sport == r->c.rport && seg.dport == r->c.lport && ip_addr_equal(&seg.src, &r->c.remote) &&
	       ip_addr_equal(&seg.dst, &r->c.local);
	own = seg.sport == r->c.lport && seg.dport == r->c.rport && ip_addr_equal(&seg.src, &r->c.local);
	if (!peer && !own)
		return false;
	flush_trace(r);
	if (own)
		sender_facts(r, &seg);
	flow_table_feed(r->lv.flow, &seg);
	if (own)
		r->lv.captured_own++;
	return peer;
}

/* Reacts to a server's segment already traced; what the reaction raises
 * (notes, sender events) is traced straight after it. */
static void step_react(void *user, const struct capture_packet *pkt)
{
	struct run *r = user;
	struct segment seg;

	if (segment_decode(pkt->link, pkt->data, pkt->caplen, pkt->wirelen, pkt->ts_ns, &seg, NULL) != DECODE_OK)
		return;
	on_peer_segment(r, &seg);
	flush_trace(r);
}

static void step_flush(void *user)
{
	collect_events(user);
	flush_trace(user);
}

/* The prompt held tcplab ns: the server was not silent meanwhile. */
static void step_paused(void *user, uint64_t ns)
{
	struct run *r = user;

	if (r->idle_deadline)
		r->idle_deadline += ns;
}

/* q at the step prompt: abort as a signal would, but the run ends well. */
static void step_quit(struct run *r)
{
	bool sync = tcp_state_synchronized(r->c.tcb.fsm.state) || r->c.tcb.fsm.state == TCP_SYN_RECEIVED;

	note(r, sync ? "q: the run ends here: aborting the connection with RST (RFC 9293 §3.10.5)"
		     : "q: the run ends here, before the connection exists");
	if (sync)
		abort_conn(r);
	r->result = TCPLAB_EXIT_OK;
}

static int setup(struct run *r, const struct connect_options *opt, char errbuf[SESSION_ERRBUF_SIZE])
{
	char reb[ROUTE_ERRBUF_SIZE], ifname[ROUTE_IFNAME_SIZE], ls[64], rs[64], filter[512], offer[160];
	struct firewall_rule rule;
	struct tcp_options o;
	uint16_t port;
	int rc;

	if (route_resolve(opt->host, opt->family, &r->c.remote, reb) != 0) {
		snprintf(errbuf, SESSION_ERRBUF_SIZE, "%s", reb);
		return TCPLAB_EXIT_NETWORK;
	}
	if (route_lookup(&r->c.remote, &r->c.local, ifname, reb) != 0) {
		snprintf(errbuf, SESSION_ERRBUF_SIZE, "%s", reb);
		return TCPLAB_EXIT_NETWORK;
	}
	if (opt->c.interface)
		snprintf(ifname, sizeof(ifname), "%s", opt->c.interface);
	r->lv.port_fd = route_reserve_port(&r->c.local, opt->sport_set ? opt->sport : 0, &port, reb);
	if (r->lv.port_fd < 0) {
		snprintf(errbuf, SESSION_ERRBUF_SIZE, "%s", reb);
		return TCPLAB_EXIT_NETWORK;
	}
	r->c.lport = port;
	r->c.rport = opt->port;
	r->c.route_mss = live_route_mss(&r->c.remote, r->c.rport, ifname);
	r->c.mss = opt->c.mss ? opt->c.mss : r->c.route_mss;
	r->c.local_wscale = opt->c.wscale;

	memset(&r->tuple, 0, sizeof(r->tuple));
	r->tuple.src = r->c.local;
	r->tuple.dst = r->c.remote;
	r->tuple.sport = r->c.lport;
	r->tuple.dport = r->c.rport;

	ip_addr_format(&r->c.local, ls, sizeof(ls));
	ip_addr_format(&r->c.remote, rs, sizeof(rs));
	snprintf(filter, sizeof(filter),
		 "tcp and ((src host %s and src port %u and dst host %s and dst port %u) or "
		 "(src host %s and src port %u and dst host %s and dst port %u))",
		 ls, r->c.lport, rs, r->c.rport, rs, r->c.rport, ls, r->c.lport);

	memset(&rule, 0, sizeof(rule));
	rule.local = r->c.local;
	rule.local_port = r->c.lport;
	rule.remote = r->c.remote;
	rule.remote_port = r->c.rport;
	rule.exempt_mark = CRAFT_PACKET_MARK;
	rule.warm_device = ifname;
	rule.warm_mark = CRAFT_PACKET_MARK;
	rule.warm_ttl = LIVE_WARMUP_TTL;
	r->lv.snaplen = (uint32_t)r->c.route_mss + 40 + 64; /* MTU + link header */
	rc = live_open(&r->lv, &opt->c, ifname, r->c.remote.family, filter, &rule, errbuf);
	if (rc != TCPLAB_EXIT_OK)
		return rc;
	{
		char seb[SESSION_ERRBUF_SIZE];
		if (live_sender_start(&r->lv, r->c.remote.family, ifname, seb) != 0)
			r->lv.sender = NULL; /* not fatal: every segment leaves from this thread */
	}

	live_tcb_init(&r->lv, &r->c, TCP_CLOSED);
	live_syn_options(&r->lv, &r->c, false, &o);
	live_format_options(&o, offer, sizeof(offer));
	r->c.tcb.fsm.iss = opt->c.isn_set ? opt->c.isn : live_random32();
	snprintf(r->note, sizeof(r->note),
		 "tcplab connect: client %s%s%s:%u -> server %s%s%s:%u on %s; client ISN %u; SYN offers %s; %s",
		 r->c.local.family == 6 ? "[" : "", ls, r->c.local.family == 6 ? "]" : "", r->c.lport,
		 r->c.remote.family == 6 ? "[" : "", rs, r->c.remote.family == 6 ? "]" : "", r->c.rport,
		 ifname, r->c.tcb.fsm.iss, offer,
		 r->lv.fw ? "the kernel's RST for this connection is dropped by nftables table "
			  : "--no-firewall: this host's kernel will answer the SYN-ACK with RST and the server will drop the connection");
	if (r->lv.fw) {
		size_t n = strlen(r->note);
		snprintf(r->note + n, sizeof(r->note) - n, "%s", firewall_table_name(r->lv.fw));
	}
	flow_table_note(r->lv.flow, NULL, 0, r->note);
	return TCPLAB_EXIT_OK;
}

int session_connect(const struct connect_options *opt, struct renderer *rd, char errbuf[SESSION_ERRBUF_SIZE])
{
	static struct run r; /* large; one per process */
	struct flow_options fo;
	char feb[FLOW_ERRBUF_SIZE];
	struct tcp_transition t;
	uint32_t iss;
	int rc;

	memset(&r, 0, sizeof(r));
	r.opt = opt;
	r.lv.port_fd = -1;
	r.lv.r = rd;
	r.result = TCPLAB_EXIT_OK;

	if (privilege_check(!opt->c.no_firewall, errbuf) != 0)
		return TCPLAB_EXIT_PERMISSION;
	live_install_signals();

	memset(&fo, 0, sizeof(fo));
	fo.summary_at_finish = true;
	r.lv.flow = flow_table_new(rd, &fo, feb);
	if (!r.lv.flow) {
		snprintf(errbuf, SESSION_ERRBUF_SIZE, "%s", feb);
		return TCPLAB_EXIT_ERROR;
	}

	rc = setup(&r, opt, errbuf);
	if (rc != TCPLAB_EXIT_OK || live_signal) {
		live_close(&r.lv);
		flow_table_free(r.lv.flow);
		return live_signal && rc == TCPLAB_EXIT_OK ? TCPLAB_EXIT_INTERRUPTED : rc;
	}

	if (opt->c.step) {
		struct live_step_ops so = { step_trace, step_react, step_flush, step_paused, &r };
		if (live_step_attach(&r.lv, &so, "client", STDIN_FILENO, stderr) != 0) {
			snprintf(errbuf, SESSION_ERRBUF_SIZE, "out of memory");
			live_close(&r.lv);
			flow_table_free(r.lv.flow);
			return TCPLAB_EXIT_ERROR;
		}
	}

	/* Active OPEN (RFC 9293 §3.10.1): send SYN with our ISN. */
	iss = r.c.tcb.fsm.iss;
	live_prepare_ack(&r.lv, &r.c);
	tcp_endpoint_init(&r.c.tcb.fsm, TCP_CLOSED);
	t = tcp_fsm_call(&r.c.tcb.fsm, TCP_CALL_OPEN_ACTIVE);
	if ((t.actions & TCP_ACT_SEND_SYN) && opt->old_syn)
		start_old_syn(&r, iss);
	else if ((t.actions & TCP_ACT_SEND_SYN) && opt->simultaneous)
		start_simultaneous(&r, iss);
	else if (t.actions & TCP_ACT_SEND_SYN)
		send_syn(&r, iss);
	r.phase = PH_HANDSHAKE;

	while (r.phase != PH_DONE) {
		if (wait_and_dispatch(&r, next_deadline(&r)) != 0)
			break;
		on_timers(&r, live_mono_ns());
		if (live_send_failed(&r.lv)) {
			/* one sentence and exit 1 at once: never a silent timeout */
			snprintf(errbuf, SESSION_ERRBUF_SIZE, "%s", r.lv.send_error);
			r.result = TCPLAB_EXIT_ERROR;
			break;
		}
		if (r.source_failed) {
			snprintf(errbuf, SESSION_ERRBUF_SIZE, "%s", r.src.err);
			abort_conn(&r);
			r.result = TCPLAB_EXIT_ERROR;
			break;
		}
	}

	if (live_signal) {
		snprintf(r.note, sizeof(r.note), "interrupted by signal %d: %s", live_signal,
			 tcp_state_synchronized(r.c.tcb.fsm.state) ? "aborting the connection with RST" : "stopping");
		note(&r, r.note);
		if (tcp_state_synchronized(r.c.tcb.fsm.state) || r.c.tcb.fsm.state == TCP_SYN_RECEIVED)
			abort_conn(&r);
		r.result = TCPLAB_EXIT_INTERRUPTED;
	} else if (live_step_quit(&r.lv)) {
		step_quit(&r);
	}

	/* Let the capture show our last segments before the summary. */
	if (!r.lv.send_failed)
		live_drain(&r.lv, wait_and_dispatch, &r);
	take_lost(&r, true);
	flush_trace(&r);
	if (r.lv.lost_on_purpose > 0) {
		snprintf(r.note, sizeof(r.note), "--lose: %llu segment%s built and kept off the wire on purpose",
			 (unsigned long long)r.lv.lost_on_purpose, r.lv.lost_on_purpose == 1 ? "" : "s");
		note(&r, r.note);
	}
	{
		struct tl_endpoint_event e;
		char text[512];
		for (unsigned part = 0; live_endpoint_stats(&r.c, TL_CLIENT, part, &e, text, sizeof(text)); part++)
			flow_table_endpoint(r.lv.flow, &r.tuple, live_real_ns(), &e);
	}
	if (r.lv.fw) {
		int64_t dropped = firewall_dropped(r.lv.fw);
		if (dropped > 0) {
			snprintf(r.note, sizeof(r.note), "the nftables rule dropped %lld RST%s this host's kernel tried to send",
				 (long long)dropped, dropped == 1 ? "" : "s");
			note(&r, r.note);
		}
	}
	live_kernel_states_done(&r.lv);
	flow_table_finish(r.lv.flow);
	render_finish(rd);
	live_close(&r.lv);
	flow_table_free(r.lv.flow);
	live_source_close(&r.src);
	tcb_free(&r.c.tcb);
	return r.result;
}
