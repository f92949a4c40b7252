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
 * Timers: SYN, data and FIN retransmission with RFC 6298 back-off (1 s
 * initial RTO, doubled each time, --retries attempts), a quiet period after
 * our data to collect the server's reply, an idle timeout while waiting for
 * the server, and TIME-WAIT lingering (--time-wait) during which a
 * retransmitted FIN is ACKed again (RFC 9293 §3.10.7.4).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "live.h"
#include "tcplab/decode.h"
#include "tcplab/exitcode.h"
#include "tcplab/privilege.h"
#include "tcplab/route.h"
#include "tcplab/session.h"

#define REPLY_QUIET_NS (200 * NS_PER_MS) /* wait for the server's answer to our data */
#define SPIN_NS (5 * NS_PER_MS)          /* busy-poll this long after sending what wants a reply */
#define TRACE_QUEUE 32

enum phase {
	PH_HANDSHAKE,   /* SYN sent, waiting for SYN-ACK */
	PH_DATA,        /* sending --data chunks, one at a time */
	PH_QUIET,       /* data acknowledged, collecting the reply */
	PH_CLOSING,     /* our FIN sent, or waiting for the peer's FIN */
	PH_TIME_WAIT,   /* lingering in TIME-WAIT */
	PH_DONE,
};

struct run {
	struct live lv;
	struct live_conn c;
	const struct connect_options *opt;
	struct segment tuple;      /* the 4-tuple as a segment client → server */
	enum phase phase;
	size_t data_idx;
	/* retransmission of the one unacknowledged segment (SYN, data or FIN) */
	struct live_timer rtx;
	uint8_t rtx_flags;
	uint32_t rtx_seq;
	const uint8_t *rtx_payload;
	uint32_t rtx_len;
	uint64_t quiet_deadline, idle_deadline, tw_deadline;
	int result;
	bool send_failed;
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
		uint8_t data[2048];
		unsigned nnotes;
		char notes[4][256];
	} queue[TRACE_QUEUE];
	unsigned nqueued;
	uint64_t spin_until;       /* busy-poll until then: a reply is imminent */
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

static void finish(struct run *r, int result)
{
	if (r->phase != PH_DONE)
		r->result = result;
	r->phase = PH_DONE;
	r->rtx.armed = false;
}

/* Sends and remembers the segment for retransmission until it is acked. */
static void send_reliable(struct run *r, uint8_t flags, uint32_t seq, const uint8_t *p, uint32_t len)
{
	int err;
	live_send_async(&r->lv, &r->c, flags, seq, p, len, &err);
	if (err)
		r->send_failed = true;
	r->rtx_flags = flags;
	r->rtx_seq = seq;
	r->rtx_payload = p;
	r->rtx_len = len;
	live_timer_start(&r->rtx, live_mono_ns());
	r->spin_until = live_mono_ns() + SPIN_NS;
}

static void send_ack(struct run *r)
{
	int err;
	live_send(&r->lv, &r->c, TCP_FLAG_ACK, r->c.tcb.snd_nxt, NULL, 0, &err);
	if (err)
		r->send_failed = true;
}

/* Aborts with RST (RFC 9293 §3.10.5 ABORT). */
static void abort_conn(struct run *r)
{
	int err;
	struct tcp_transition t = tcp_fsm_call(&r->c.tcb, TCP_CALL_ABORT);
	if (t.actions & TCP_ACT_SEND_RST)
		live_send(&r->lv, &r->c, TCP_FLAG_RST | TCP_FLAG_ACK, r->c.tcb.snd_nxt, NULL, 0, &err);
}

static void idle_from_now(struct run *r)
{
	double t = r->opt->c.timeout_s > 0 ? r->opt->c.timeout_s : 10.0;
	r->idle_deadline = live_mono_ns() + (uint64_t)(t * (double)NS_PER_S);
}

/* Our data is done (or there was none): close as --close says. */
static void start_close(struct run *r)
{
	struct tcp_transition t;

	switch (r->opt->c.close) {
	case SESSION_CLOSE_FIRST:
		t = tcp_fsm_call(&r->c.tcb, TCP_CALL_CLOSE);
		if (t.actions & TCP_ACT_SEND_FIN)
			send_reliable(r, TCP_FLAG_FIN | TCP_FLAG_ACK, r->c.tcb.snd_nxt, NULL, 0);
		r->phase = PH_CLOSING;
		idle_from_now(r);
		break;
	case SESSION_CLOSE_PEER:
		if (r->c.tcb.state == TCP_CLOSE_WAIT) {
			t = tcp_fsm_call(&r->c.tcb, TCP_CALL_CLOSE);
			if (t.actions & TCP_ACT_SEND_FIN)
				send_reliable(r, TCP_FLAG_FIN | TCP_FLAG_ACK, r->c.tcb.snd_nxt, NULL, 0);
		} else {
			note(r, "--close server: waiting for the server to close first");
		}
		r->phase = PH_CLOSING;
		idle_from_now(r);
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
			 tcp_state_name(r->c.tcb.state));
		note(r, r->note);
		finish(r, TCPLAB_EXIT_OK);
		break;
	}
}

/* Sends the next --data chunk, or moves on when all are acknowledged. */
static void next_data(struct run *r)
{
	const struct session_common *o = &r->opt->c;

	if (r->data_idx < o->data_count && r->c.tcb.state != TCP_CLOSED) {
		const struct session_data *d = &o->data[r->data_idx++];
		send_reliable(r, TCP_FLAG_PSH | TCP_FLAG_ACK, r->c.tcb.snd_nxt, d->bytes, (uint32_t)d->len);
		r->phase = PH_DATA;
		return;
	}
	if (o->data_count > 0 && r->opt->c.close != SESSION_CLOSE_NONE) {
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
	enum tcp_state before = c->tcb.state;
	struct tcp_transition t;

	if (r->phase == PH_DONE || before == TCP_CLOSED)
		return;
	if (before == TCP_SYN_SENT && (seg->flags & TCP_FLAG_SYN))
		live_learn_peer(c, seg, !r->opt->c.no_options);

	t = tcp_fsm_segment(&c->tcb, TCP_DIR_RECEIVED, seg);
	if (c->ts_ok && seg->opt.has_timestamps && !t.unacceptable)
		c->ts_recent = seg->opt.ts_val;

	/* the acknowledged segment needs no more retransmission */
	if (r->rtx.armed && seq_ge(c->tcb.snd_una, r->rtx_seq + r->rtx_len +
				   ((r->rtx_flags & (TCP_FLAG_SYN | TCP_FLAG_FIN)) ? 1u : 0u)))
		r->rtx.armed = false;

	if (t.actions & TCP_ACT_SEND_RST) {
		/* RFC 9293 §3.10.7.3: <SEQ=SEG.ACK><CTL=RST>, without touching our TCB */
		int err;
		struct tcp_endpoint keep = c->tcb;
		live_send(&r->lv, c, TCP_FLAG_RST, seg->ack, NULL, 0, &err);
		c->tcb = keep;
	}
	if (t.actions & TCP_ACT_SEND_SYNACK) {
		int err;
		live_send(&r->lv, c, TCP_FLAG_SYN | TCP_FLAG_ACK, c->tcb.iss, NULL, 0, &err);
	}
	if (t.actions & TCP_ACT_SEND_ACK)
		send_ack(r);
	if (t.actions & TCP_ACT_START_2MSL) {
		double tw = r->opt->c.time_wait_s >= 0 ? r->opt->c.time_wait_s : 1.0;
		r->tw_deadline = live_mono_ns() + (uint64_t)(tw * (double)NS_PER_S);
		r->phase = PH_TIME_WAIT;
		r->rtx.armed = false;
	}
	if (t.actions & TCP_ACT_DELIVER) {
		if (r->phase == PH_QUIET)
			r->quiet_deadline = live_mono_ns() + REPLY_QUIET_NS;
		idle_from_now(r);
	}

	if (!t.changed) {
		/* data acknowledged: the next chunk */
		if (r->phase == PH_DATA && !r->rtx.armed)
			next_data(r);
		return;
	}

	switch (t.to) {
	case TCP_ESTABLISHED:
		if (before == TCP_SYN_SENT || before == TCP_SYN_RECEIVED)
			next_data(r);
		break;
	case TCP_CLOSED:
		if (seg->flags & TCP_FLAG_RST)
			finish(r, before == TCP_SYN_SENT ? TCPLAB_EXIT_REFUSED : TCPLAB_EXIT_RESET);
		else
			finish(r, TCPLAB_EXIT_OK); /* LAST-ACK → CLOSED */
		break;
	case TCP_CLOSE_WAIT:
		/* The server closed first.  Finish sending, then close our side. */
		if (r->phase == PH_DATA)
			break;
		if (r->opt->c.close == SESSION_CLOSE_NONE) {
			if (r->phase == PH_QUIET)
				start_close(r);
			break;
		}
		if (r->opt->c.close == SESSION_CLOSE_RST) {
			start_close(r);
			break;
		}
		{
			struct tcp_transition ct = tcp_fsm_call(&c->tcb, TCP_CALL_CLOSE);
			if (ct.actions & TCP_ACT_SEND_FIN)
				send_reliable(r, TCP_FLAG_FIN | TCP_FLAG_ACK, c->tcb.snd_nxt, NULL, 0);
			r->phase = PH_CLOSING;
			idle_from_now(r);
		}
		break;
	default:
		if (r->phase == PH_DATA && !r->rtx.armed)
			next_data(r);
		break;
	}
}

/* Traces the queued packets, with the notes raised while reacting to them. */
static void flush_trace(struct run *r)
{
	for (unsigned i = 0; i < r->nqueued; i++) {
		struct queued *q = &r->queue[i];
		struct segment seg;
		if (segment_decode(q->link, q->data, q->caplen, q->wirelen, q->ts_ns, &seg, NULL) == DECODE_OK)
			flow_table_feed(r->lv.flow, &seg);
		for (unsigned k = 0; k < q->nnotes; k++)
			flow_table_note(r->lv.flow, &r->tuple, q->ts_ns, q->notes[k]);
	}
	r->nqueued = 0;
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

	if (segment_decode(pkt->link, pkt->data, pkt->caplen, pkt->wirelen, pkt->ts_ns, &seg, NULL) != DECODE_OK)
		return;
	if (seg.sport == r->c.rport && seg.dport == r->c.lport && ip_addr_equal(&seg.src, &r->c.remote) &&
	    ip_addr_equal(&seg.dst, &r->c.local)) {
		r->reacting = true;
		on_peer_segment(r, &seg);
		r->reacting = false;
	} else if (seg.sport == r->c.lport && seg.dport == r->c.rport && ip_addr_equal(&seg.src, &r->c.local)) {
		r->lv.captured_own++;
	} else {
		return;
	}
	if (r->nqueued == TRACE_QUEUE)
		flush_trace(r);
	q = &r->queue[r->nqueued++];
	q->ts_ns = pkt->ts_ns;
	q->link = pkt->link;
	q->wirelen = pkt->wirelen;
	q->caplen = pkt->caplen < sizeof(q->data) ? pkt->caplen : (uint32_t)sizeof(q->data);
	memcpy(q->data, pkt->data, q->caplen);
	q->nnotes = r->npending;
	for (unsigned i = 0; i < r->npending; i++)
		memcpy(q->notes[i], r->pending[i], sizeof(q->notes[i]));
	r->npending = 0;
}

/* Fires whichever timers are due. */
static void on_timers(struct run *r, uint64_t now)
{
	if (r->rtx.armed && now >= r->rtx.deadline) {
		const char *what = (r->rtx_flags & TCP_FLAG_SYN) ? "SYN" : (r->rtx_flags & TCP_FLAG_FIN) ? "FIN" : "data";
		int err;

		if (r->rtx.count >= r->opt->c.retries) {
			snprintf(r->note, sizeof(r->note), "no answer to our %s after %u retransmissions: giving up%s",
				 what, r->rtx.count,
				 tcp_state_synchronized(r->c.tcb.state) ? " (RST sent so the server drops it too)" : "");
			note(r, r->note);
			if (tcp_state_synchronized(r->c.tcb.state))
				abort_conn(r);
			tcp_fsm_call(&r->c.tcb, TCP_CALL_GIVE_UP);
			flush_trace(r);
			flow_table_call(r->lv.flow, &r->tuple, TL_CLIENT, TCP_CALL_GIVE_UP, live_real_ns(), NULL);
			finish(r, TCPLAB_EXIT_TIMEOUT);
			return;
		}
		live_timer_backoff(&r->rtx, now);
		snprintf(r->note, sizeof(r->note), "retransmission timer fired: sending the %s again (retry %u of %u, next RTO %.0f s)",
			 what, r->rtx.count, r->opt->c.retries, (double)r->rtx.rto / (double)NS_PER_S);
		note(r, r->note);
		live_send_async(&r->lv, &r->c, r->rtx_flags | (r->c.tcb.irs_known ? TCP_FLAG_ACK : 0), r->rtx_seq,
				r->rtx_payload, r->rtx_len, &err);
		r->spin_until = live_mono_ns() + SPIN_NS;
	}
	if (r->phase == PH_QUIET && now >= r->quiet_deadline)
		start_close(r);
	if (r->phase == PH_CLOSING && !r->rtx.armed && now >= r->idle_deadline) {
		snprintf(r->note, sizeof(r->note),
			 "the server did not close within %.1f s (--timeout): aborting with RST",
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
		tcp_fsm_call(&r->c.tcb, TCP_CALL_TIME_WAIT_DONE);
		flush_trace(r);
		flow_table_call(r->lv.flow, &r->tuple, TL_CLIENT, TCP_CALL_TIME_WAIT_DONE, live_real_ns(), r->note);
		finish(r, TCPLAB_EXIT_OK);
	}
}

static uint64_t next_deadline(const struct run *r)
{
	uint64_t d = UINT64_MAX;
	if (r->rtx.armed && r->rtx.deadline < d)
		d = r->rtx.deadline;
	if (r->phase == PH_QUIET && r->quiet_deadline < d)
		d = r->quiet_deadline;
	if (r->phase == PH_CLOSING && !r->rtx.armed && r->idle_deadline < d)
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
	r->c.mss = opt->c.mss ? opt->c.mss : live_interface_mss(ifname, r->c.remote.family);
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
	rc = live_open(&r->lv, &opt->c, ifname, r->c.remote.family, filter, &rule, errbuf);
	if (rc != TCPLAB_EXIT_OK)
		return rc;
	{
		char seb[SESSION_ERRBUF_SIZE];
		if (live_sender_start(&r->lv, r->c.remote.family, ifname, seb) != 0)
			r->lv.sender = NULL; /* not fatal: every segment leaves from this thread */
	}

	tcp_endpoint_init(&r->c.tcb, TCP_CLOSED);
	live_syn_options(&r->lv, &r->c, false, &o);
	live_format_options(&o, offer, sizeof(offer));
	r->c.tcb.iss = opt->c.isn_set ? opt->c.isn : live_random32();
	snprintf(r->note, sizeof(r->note),
		 "tcplab connect: client %s%s%s:%u -> server %s%s%s:%u on %s; client ISN %u; SYN offers %s; %s",
		 r->c.local.family == 6 ? "[" : "", ls, r->c.local.family == 6 ? "]" : "", r->c.lport,
		 r->c.remote.family == 6 ? "[" : "", rs, r->c.remote.family == 6 ? "]" : "", r->c.rport,
		 ifname, r->c.tcb.iss, offer,
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

	/* Active OPEN (RFC 9293 §3.10.1): send SYN with our ISN. */
	iss = r.c.tcb.iss;
	live_prepare_ack(&r.lv, &r.c);
	tcp_endpoint_init(&r.c.tcb, TCP_CLOSED);
	t = tcp_fsm_call(&r.c.tcb, TCP_CALL_OPEN_ACTIVE);
	if (t.actions & TCP_ACT_SEND_SYN)
		send_reliable(&r, TCP_FLAG_SYN, iss, NULL, 0);
	r.phase = PH_HANDSHAKE;

	while (r.phase != PH_DONE) {
		if (wait_and_dispatch(&r, next_deadline(&r)) != 0)
			break;
		on_timers(&r, live_mono_ns());
		if (r.send_failed) {
			snprintf(errbuf, SESSION_ERRBUF_SIZE, "cannot send a segment: %s", craft_error(r.lv.craft));
			r.result = TCPLAB_EXIT_ERROR;
			break;
		}
	}

	if (live_signal) {
		snprintf(r.note, sizeof(r.note), "interrupted by signal %d: %s", live_signal,
			 tcp_state_synchronized(r.c.tcb.state) ? "aborting the connection with RST" : "stopping");
		note(&r, r.note);
		if (tcp_state_synchronized(r.c.tcb.state) || r.c.tcb.state == TCP_SYN_RECEIVED)
			abort_conn(&r);
		r.result = TCPLAB_EXIT_INTERRUPTED;
	}

	/* Let the capture show our last segments before the summary. */
	live_drain(&r.lv, wait_and_dispatch, &r);
	flush_trace(&r);
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
	return r.result;
}
