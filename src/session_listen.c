/*
 * session_listen.c — `tcplab listen`: the server role, by hand.
 *
 * tcplab plays a passive OPEN (RFC 9293 §3.10.1) on ADDR:PORT without a
 * kernel socket: each SYN gets a crafted SYN-ACK with tcplab's own ISN and
 * the options RFC 7323 / RFC 2018 allow in answer to the client's, data is
 * ACKed (or echoed, --echo), --send data goes out once established, and the
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

#include "live.h"
#include "tcplab/decode.h"
#include "tcplab/exitcode.h"
#include "tcplab/privilege.h"
#include "tcplab/route.h"
#include "tcplab/session.h"

#define MAX_CONNS 4096                   /* clients served at once */
#define MAX_SENDQ (1u << 20)             /* bytes queued for one client */

enum lphase {
	LP_HANDSHAKE,  /* SYN-ACK sent */
	LP_OPEN,       /* established: sending --send data, echoing */
	LP_LINGER,     /* CLOSE-WAIT, FIN after --linger (or close-first after the quiet time) */
	LP_CLOSING,    /* our FIN sent */
	LP_TIME_WAIT,
	LP_DONE,
};

struct lconn {
	struct live_conn c;
	enum lphase phase;
	struct segment tuple;        /* client → server */
	/* bytes queued to send: sendq[0] has sequence number sendq_seq */
	uint8_t *sendq;
	uint32_t sendq_len, sendq_cap, sendq_seq;
	uint32_t sent_upto;          /* sequence number after the last byte sent */
	bool fin_queued;             /* send our FIN once the queue is acknowledged */
	struct live_timer rtx;
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
	bool send_failed;
	struct ip_addr mss_addr;     /* one-entry cache: the MSS for this local address */
	uint16_t mss_cached;
};

static void lnote(struct lrun *r, struct lconn *lc, const char *text)
{
	flow_table_note(r->lv.flow, lc ? &lc->tuple : NULL, live_real_ns(), text);
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
	free(r->conns[i]->sendq);
	free(r->conns[i]);
	r->conns[i] = r->conns[--r->nconns];
}

/* Marks lc finished (once) and counts it toward --count. */
static void conn_done(struct lrun *r, struct lconn *lc, int outcome)
{
	lc->phase = LP_DONE;
	lc->rtx.armed = false;
	if (!lc->counted) {
		lc->counted = true;
		lc->outcome = outcome;
		r->done++;
	}
}

static void arm_rtx(struct lconn *lc)
{
	if (!lc->rtx.armed)
		live_timer_start(&lc->rtx, live_mono_ns());
}

static void send_seg(struct lrun *r, struct lconn *lc, uint8_t flags, uint32_t seq, const uint8_t *p, uint32_t n)
{
	int err;
	live_send(&r->lv, &lc->c, flags, seq, p, n, &err);
	if (err)
		r->send_failed = true;
}

/* Appends bytes to the send queue (bounded). */
static void queue_bytes(struct lconn *lc, const uint8_t *p, uint32_t n)
{
	if (n == 0 || lc->sendq_len + n > MAX_SENDQ)
		return;
	if (lc->sendq_len + n > lc->sendq_cap) {
		uint32_t cap = lc->sendq_cap ? lc->sendq_cap : 4096;
		uint8_t *q;
		while (cap < lc->sendq_len + n)
			cap *= 2;
		q = realloc(lc->sendq, cap);
		if (!q)
			return;
		lc->sendq = q;
		lc->sendq_cap = cap;
	}
	memcpy(lc->sendq + lc->sendq_len, p, n);
	lc->sendq_len += n;
}

/* Sends what is queued and not yet sent, in MSS-sized segments, then the
 * FIN if it is due.  Returns true when something was sent. */
static bool flush(struct lrun *r, struct lconn *lc)
{
	bool any = false;
	uint32_t mss = lc->c.peer_syn_opt.has_mss && lc->c.peer_syn_opt.mss < lc->c.mss ? lc->c.peer_syn_opt.mss : lc->c.mss;
	uint32_t end = lc->sendq_seq + lc->sendq_len;

	if (mss > 1400)
		mss = 1400; /* room for options and IP on any lab link */
	while (seq_lt(lc->sent_upto, end)) {
		uint32_t off = lc->sent_upto - lc->sendq_seq, n = end - lc->sent_upto;
		if (n > mss)
			n = mss;
		send_seg(r, lc, TCP_FLAG_PSH | TCP_FLAG_ACK, lc->sent_upto, lc->sendq + off, n);
		lc->sent_upto += n;
		any = true;
	}
	if (lc->fin_queued && !lc->c.tcb.fsm.fin_sent && lc->sent_upto == end) {
		struct tcp_transition t = tcp_fsm_call(&lc->c.tcb.fsm, TCP_CALL_CLOSE);
		if (t.actions & TCP_ACT_SEND_FIN) {
			send_seg(r, lc, TCP_FLAG_FIN | TCP_FLAG_ACK, lc->sent_upto, NULL, 0);
			lc->phase = LP_CLOSING;
			any = true;
		}
	}
	if (any)
		arm_rtx(lc);
	return any;
}

/* Drops acknowledged bytes from the queue; una_before is snd_una before
 * the segment just received. */
static void acked(struct lconn *lc, uint32_t una_before)
{
	uint32_t una = lc->c.tcb.fsm.snd_una;
	if (seq_gt(una, lc->sendq_seq)) {
		uint32_t n = una - lc->sendq_seq;
		if (n > lc->sendq_len)
			n = lc->sendq_len;
		memmove(lc->sendq, lc->sendq + n, lc->sendq_len - n);
		lc->sendq_len -= n;
		lc->sendq_seq += n;
	}
	if (seq_ge(una, lc->c.tcb.fsm.snd_nxt))
		lc->rtx.armed = false;
	else if (lc->rtx.armed && seq_gt(una, una_before)) {
		/* new data acknowledged: restart the timer (RFC 6298 §5.3); a
		 * duplicate ACK must not postpone the retransmission */
		lc->rtx.rto = LIVE_INITIAL_RTO_NS;
		lc->rtx.deadline = live_mono_ns() + lc->rtx.rto;
	}
}

/* Starts our close as --close says, once nothing is left to send. */
static void begin_close(struct lrun *r, struct lconn *lc)
{
	switch (r->opt->c.close) {
	case SESSION_CLOSE_RST: {
		int err;
		lnote(r, lc, "--close rst: aborting with RST (RFC 9293 §3.10.5)");
		tcp_fsm_call(&lc->c.tcb.fsm, TCP_CALL_ABORT);
		live_send(&r->lv, &lc->c, TCP_FLAG_RST | TCP_FLAG_ACK, lc->c.tcb.fsm.snd_nxt, NULL, 0, &err);
		conn_done(r, lc, TCPLAB_EXIT_OK);
		break;
	}
	case SESSION_CLOSE_NONE:
		break;
	default:
		lc->fin_queued = true;
		flush(r, lc);
		break;
	}
}

/* A SYN for a new connection: passive OPEN, answer SYN-ACK. */
static void new_conn(struct lrun *r, const struct segment *seg)
{
	struct lconn *lc;
	struct tcp_transition t;

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
	if (r->opt->c.mss) {
		lc->c.mss = r->opt->c.mss;
	} else {
		/* looking the interface up costs a syscall or two: not on every SYN */
		if (!r->mss_cached || !ip_addr_equal(&r->mss_addr, &seg->dst)) {
			char ifn[ROUTE_IFNAME_SIZE];
			if (route_interface_of(&seg->dst, ifn) != 0)
				snprintf(ifn, sizeof(ifn), "%s", r->ifname);
			r->mss_cached = live_interface_mss(ifn, seg->dst.family);
			r->mss_addr = seg->dst;
		}
		lc->c.mss = r->mss_cached;
	}
	lc->c.local_wscale = r->opt->c.wscale;
	lc->tuple = *seg;
	lc->tuple.payload = NULL; /* only the 4-tuple is used; the packet buffer goes away */
	r->conns[r->nconns++] = lc;

	tcp_endpoint_init(&lc->c.tcb.fsm, TCP_CLOSED);
	tcp_fsm_call(&lc->c.tcb.fsm, TCP_CALL_OPEN_PASSIVE);
	live_learn_peer(&lc->c, seg, !r->opt->c.no_options);
	t = tcp_fsm_segment(&lc->c.tcb.fsm, TCP_DIR_RECEIVED, seg);
	if (t.actions & TCP_ACT_SEND_SYNACK) {
		uint32_t iss = r->opt->c.isn_set ? r->opt->c.isn : live_random32();
		send_seg(r, lc, TCP_FLAG_SYN | TCP_FLAG_ACK, iss, NULL, 0);
		lc->sendq_seq = lc->sent_upto = iss + 1;
		arm_rtx(lc);
	}
	lc->phase = LP_HANDSHAKE;
}

/* The controller's reaction to a segment from a client. */
static void on_client_segment(struct lrun *r, const struct segment *seg)
{
	struct lconn *lc = find_conn(r, seg);
	struct tcp_transition t;
	enum tcp_state before;
	uint32_t una_before;
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
			return;
		}
		if (!lc && (seg->flags & TCP_FLAG_ACK) && !(seg->flags & TCP_FLAG_RST)) {
			/* RFC 9293 §3.10.7.2: in LISTEN an ACK for no connection gets
			 * <SEQ=SEG.ACK><CTL=RST>.  tcplab answers for the kernel, whose
			 * own RST the firewall drops. */
			struct live_conn tmp;
			int err;
			memset(&tmp, 0, sizeof(tmp));
			tmp.local = seg->dst;
			tmp.remote = seg->src;
			tmp.lport = seg->dport;
			tmp.rport = seg->sport;
			live_send(&r->lv, &tmp, TCP_FLAG_RST, seg->ack, NULL, 0, &err);
		}
		return;
	}

	before = lc->c.tcb.fsm.state;
	una_before = lc->c.tcb.fsm.snd_una;
	t = tcp_fsm_segment(&lc->c.tcb.fsm, TCP_DIR_RECEIVED, seg);
	if (lc->c.ts_ok && seg->opt.has_timestamps && !t.unacceptable)
		lc->c.ts_recent = seg->opt.ts_val;
	acked(lc, una_before);
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
	if ((t.actions & TCP_ACT_DELIVER) && r->opt->echo && seg->payload_captured == seg->payload_len)
		queue_bytes(lc, seg->payload, seg->payload_len);

	/* ACK what arrived; echoed data carries the ACK itself */
	if (t.actions & TCP_ACT_SEND_ACK) {
		if (!(lc->phase == LP_OPEN && flush(r, lc)))
			send_seg(r, lc, TCP_FLAG_ACK, lc->c.tcb.fsm.snd_nxt, NULL, 0);
	}
	if (t.actions & TCP_ACT_START_2MSL) {
		lc->phase = LP_TIME_WAIT;
		lc->rtx.armed = false;
		lc->tw_deadline = now + (uint64_t)(r->opt->c.time_wait_s * (double)NS_PER_S);
	}

	if (!t.changed)
		return;
	switch (t.to) {
	case TCP_ESTABLISHED:
		if (before == TCP_SYN_RECEIVED) {
			lc->phase = LP_OPEN;
			lc->rtx.armed = false;
			for (size_t i = 0; i < r->opt->c.data_count; i++)
				queue_bytes(lc, r->opt->c.data[i].bytes, (uint32_t)r->opt->c.data[i].len);
			flush(r, lc);
			if (r->opt->c.close != SESSION_CLOSE_PEER && r->opt->c.close != SESSION_CLOSE_NONE) {
				/* close first after a quiet time (the request has arrived) */
				lc->linger_deadline = now + (uint64_t)(r->opt->linger_s * (double)NS_PER_S);
			}
		}
		break;
	case TCP_CLOSE_WAIT:
		/* the client closed: linger, then our FIN (passive close) */
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
		break;
	case TCP_LISTEN:
		/* RST in SYN-RECEIVED: the handshake is off */
		conn_done(r, lc, TCPLAB_EXIT_RESET);
		break;
	default:
		break;
	}
}

static void on_packet(void *user, const struct capture_packet *pkt)
{
	struct lrun *r = user;
	struct segment seg;

	if (segment_decode(pkt->link, pkt->data, pkt->caplen, pkt->wirelen, pkt->ts_ns, &seg, NULL) != DECODE_OK)
		return;
	if (seg.dport == r->opt->port && (r->addr.family == 0 || ip_addr_equal(&seg.dst, &r->addr))) {
		/* loopback: our own segments to a client on this host also match
		 * dport when the client uses the same port — never the case here */
		on_client_segment(r, &seg);
	} else if (seg.sport == r->opt->port && (r->addr.family == 0 || ip_addr_equal(&seg.src, &r->addr))) {
		r->lv.captured_own++;
	} else {
		return;
	}
	flow_table_feed(r->lv.flow, &seg);
}

static void on_timers(struct lrun *r, uint64_t now)
{
	for (unsigned i = 0; i < r->nconns; i++) {
		struct lconn *lc = r->conns[i];
		if (lc->phase == LP_DONE)
			continue;
		if (lc->rtx.armed && now >= lc->rtx.deadline) {
			if (lc->rtx.count >= r->opt->c.retries) {
				snprintf(r->note, sizeof(r->note), "no answer after %u retransmissions: giving up on this client%s",
					 lc->rtx.count, tcp_state_synchronized(lc->c.tcb.fsm.state) ? " (RST sent)" : "");
				lnote(r, lc, r->note);
				if (tcp_state_synchronized(lc->c.tcb.fsm.state) || lc->c.tcb.fsm.state == TCP_SYN_RECEIVED) {
					int err;
					live_send(&r->lv, &lc->c, TCP_FLAG_RST | TCP_FLAG_ACK, lc->c.tcb.fsm.snd_nxt, NULL, 0, &err);
				}
				tcp_fsm_call(&lc->c.tcb.fsm, TCP_CALL_GIVE_UP);
				flow_table_call(r->lv.flow, &lc->tuple, TL_SERVER, TCP_CALL_GIVE_UP, live_real_ns(), NULL);
				conn_done(r, lc, TCPLAB_EXIT_TIMEOUT);
				continue;
			}
			live_timer_backoff(&lc->rtx, now);
			if (lc->c.tcb.fsm.state == TCP_SYN_RECEIVED) {
				snprintf(r->note, sizeof(r->note), "no ACK for our SYN-ACK: sending it again (retry %u of %u, next RTO %.0f s)",
					 lc->rtx.count, r->opt->c.retries, (double)lc->rtx.rto / (double)NS_PER_S);
				lnote(r, lc, r->note);
				send_seg(r, lc, TCP_FLAG_SYN | TCP_FLAG_ACK, lc->c.tcb.fsm.iss, NULL, 0);
			} else {
				/* go back to the oldest unacknowledged byte (or our FIN) */
				uint32_t una = lc->c.tcb.fsm.snd_una;
				snprintf(r->note, sizeof(r->note), "retransmission timer fired (retry %u of %u, next RTO %.0f s)",
					 lc->rtx.count, r->opt->c.retries, (double)lc->rtx.rto / (double)NS_PER_S);
				lnote(r, lc, r->note);
				if (seq_lt(una, lc->sendq_seq + lc->sendq_len)) {
					uint32_t n = lc->sendq_seq + lc->sendq_len - una;
					if (n > 1400)
						n = 1400;
					send_seg(r, lc, TCP_FLAG_PSH | TCP_FLAG_ACK, una, lc->sendq + (una - lc->sendq_seq), n);
				} else if (lc->c.tcb.fsm.fin_sent && !lc->c.tcb.fsm.fin_acked) {
					send_seg(r, lc, TCP_FLAG_FIN | TCP_FLAG_ACK, lc->c.tcb.fsm.fin_seq, NULL, 0);
				}
			}
		}
		if ((lc->phase == LP_LINGER || lc->phase == LP_OPEN) && lc->linger_deadline && now >= lc->linger_deadline) {
			lc->linger_deadline = 0;
			begin_close(r, lc);
		}
		if (lc->phase == LP_TIME_WAIT && now >= lc->tw_deadline) {
			snprintf(r->note, sizeof(r->note),
				 "TIME-WAIT ends after %.1f s (--time-wait); RFC 9293 asks 2MSL (Linux waits 60 s)",
				 r->opt->c.time_wait_s);
			tcp_fsm_call(&lc->c.tcb.fsm, TCP_CALL_TIME_WAIT_DONE);
			flow_table_call(r->lv.flow, &lc->tuple, TL_SERVER, TCP_CALL_TIME_WAIT_DONE, live_real_ns(), r->note);
			conn_done(r, lc, TCPLAB_EXIT_OK);
		}
		if (lc->phase != LP_DONE && lc->phase != LP_TIME_WAIT && !lc->rtx.armed && lc->idle_deadline &&
		    now >= lc->idle_deadline && r->opt->c.close != SESSION_CLOSE_NONE) {
			snprintf(r->note, sizeof(r->note), "the client was silent for %.1f s (--timeout): aborting with RST",
				 r->opt->c.timeout_s);
			lnote(r, lc, r->note);
			tcp_fsm_call(&lc->c.tcb.fsm, TCP_CALL_ABORT);
			send_seg(r, lc, TCP_FLAG_RST | TCP_FLAG_ACK, lc->c.tcb.fsm.snd_nxt, NULL, 0);
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
		if (lc->rtx.armed && lc->rtx.deadline < d)
			d = lc->rtx.deadline;
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

	while (!opt->count || r.done < opt->count || r.nconns > 0) {
		if (wait_and_dispatch(&r, next_deadline(&r)) != 0)
			break;
		on_timers(&r, live_mono_ns());
		fflush(rd->out);
		if (r.send_failed) {
			snprintf(errbuf, SESSION_ERRBUF_SIZE, "cannot send a segment: %s", craft_error(r.lv.craft));
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
					tcp_fsm_call(&lc->c.tcb.fsm, TCP_CALL_ABORT);
					send_seg(&r, lc, TCP_FLAG_RST | TCP_FLAG_ACK, lc->c.tcb.fsm.snd_nxt, NULL, 0);
					open++;
				}
			}
		}
		snprintf(r.note, sizeof(r.note), "interrupted by signal %d%s", live_signal,
			 open ? ": open connections aborted with RST" : "");
		lnote(&r, NULL, r.note);
		r.result = TCPLAB_EXIT_INTERRUPTED;
	}
	live_drain(&r.lv, wait_and_dispatch, &r);
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
