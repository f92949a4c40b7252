/*
 * tcp_fsm.c — the TCP connection state machine of RFC 9293 §3.3.2, pure.
 *
 *                              +---------+ ---------\      active OPEN
 *                              |  CLOSED |            \    -----------
 *                              +---------+<---------\   \   create TCB
 *                                |     ^              \   \  snd SYN
 *                   passive OPEN |     |   CLOSE        \   \
 *                   ------------ |     | ----------       \   \
 *                    create TCB  |     | delete TCB         \   \
 *                                V     |                      \   \
 *            rcv RST (note 1)  +---------+            CLOSE    |    \
 *         -------------------->|  LISTEN |          ---------- |     |
 *        /                     +---------+          delete TCB |     |
 *       /           rcv SYN      |     |     SEND              |     |
 *      /           -----------   |     |    -------            |     V
 *  +--------+      snd SYN,ACK  /       \   snd SYN          +--------+
 *  |        |<-----------------           ------------------>|        |
 *  |  SYN   |                    rcv SYN                     |  SYN   |
 *  |  RCVD  |<-----------------------------------------------|  SENT  |
 *  |        |                  snd SYN,ACK                   |        |
 *  |        |------------------           -------------------|        |
 *  +--------+   rcv ACK of SYN  \       /  rcv SYN,ACK       +--------+
 *     |         --------------   |     |   -----------
 *     |                x         |     |     snd ACK
 *     |                          V     V
 *     |  CLOSE                 +---------+
 *     | -------                |  ESTAB  |
 *     | snd FIN                +---------+
 *     |                 CLOSE    |     |    rcv FIN
 *     V                -------   |     |    -------
 *  +---------+         snd FIN  /       \   snd ACK         +---------+
 *  |  FIN    |<----------------          ------------------>|  CLOSE  |
 *  | WAIT-1  |------------------                            |   WAIT  |
 *  +---------+          rcv FIN  \                          +---------+
 *    | rcv ACK of FIN   -------   |                          CLOSE  |
 *    | --------------   snd ACK   |                         ------- |
 *    V        x                   V                         snd FIN V
 *  +---------+               +---------+                    +---------+
 *  |FINWAIT-2|               | CLOSING |                    | LAST-ACK|
 *  +---------+               +---------+                    +---------+
 *    |              rcv ACK of FIN |                 rcv ACK of FIN |
 *    |  rcv FIN     -------------- |    Timeout=2MSL -------------- |
 *    |  -------            x       V    ------------        x       V
 *     \ snd ACK              +---------+delete TCB          +---------+
 *       -------------------->|TIME-WAIT|------------------->| CLOSED  |
 *                            +---------+                    +---------+
 *
 *            RFC 9293 Figure 5 (note 1: back to LISTEN only from a passive open)
 *
 * In the style of masscan's state machine, every step is a
 * `switch (state) { switch (event) }` and every state change goes through
 * one function, enter(); the machine returns actions instead of sending, so
 * it stays pure and testable.  The table of what it does is the
 * "Semantics" comment in tcp_fsm.h.
 */
#include "tcplab/tcp_fsm.h"

#include <string.h>

/* A segment reduced to the one event the switch dispatches on. */
enum seg_event {
	EV_RST,       /* RST set (whatever else) */
	EV_SYN,       /* SYN without ACK */
	EV_SYN_ACK,   /* SYN with ACK */
	EV_FIN,       /* FIN (with or without ACK), no SYN/RST */
	EV_OTHER,     /* ACK and/or data, no SYN/FIN/RST */
};

static enum seg_event classify(uint8_t flags)
{
	if (flags & TCP_FLAG_RST)
		return EV_RST;
	if (flags & TCP_FLAG_SYN)
		return (flags & TCP_FLAG_ACK) ? EV_SYN_ACK : EV_SYN;
	if (flags & TCP_FLAG_FIN)
		return EV_FIN;
	return EV_OTHER;
}

static const char *const state_names[TCP_STATE_COUNT] = {
	[TCP_CLOSED] = "CLOSED",
	[TCP_LISTEN] = "LISTEN",
	[TCP_SYN_SENT] = "SYN-SENT",
	[TCP_SYN_RECEIVED] = "SYN-RECEIVED",
	[TCP_ESTABLISHED] = "ESTABLISHED",
	[TCP_FIN_WAIT_1] = "FIN-WAIT-1",
	[TCP_FIN_WAIT_2] = "FIN-WAIT-2",
	[TCP_CLOSE_WAIT] = "CLOSE-WAIT",
	[TCP_CLOSING] = "CLOSING",
	[TCP_LAST_ACK] = "LAST-ACK",
	[TCP_TIME_WAIT] = "TIME-WAIT",
};

/* Returns the RFC 9293 name of s, "?" when s is out of range. */
const char *tcp_state_name(enum tcp_state s)
{
	if ((unsigned)s >= TCP_STATE_COUNT)
		return "?";
	return state_names[s];
}

/* Synchronized states: RFC 9293 §3.5.2 groups ESTABLISHED onwards. */
bool tcp_state_synchronized(enum tcp_state s)
{
	switch (s) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
	case TCP_TIME_WAIT:
		return true;
	default:
		return false;
	}
}

/* Resets ep to `initial` with an empty TCB. */
void tcp_endpoint_init(struct tcp_endpoint *ep, enum tcp_state initial)
{
	memset(ep, 0, sizeof(*ep));
	ep->state = initial;
}

/* A transition that has not moved (yet) from ep's current state. */
static struct tcp_transition stay(const struct tcp_endpoint *ep, const char *reason)
{
	struct tcp_transition t;
	memset(&t, 0, sizeof(t));
	t.from = t.to = ep->state;
	t.reason = reason;
	return t;
}

/*
 * The one place a state changes.  Records the new state in ep and in t, the
 * reason, and adds the actions.  Entering CLOSED always deletes the TCB and
 * entering TIME-WAIT always (re)starts the 2MSL timer (RFC 9293 §3.10.7.4).
 */
static void enter(struct tcp_endpoint *ep, struct tcp_transition *t, enum tcp_state to,
		  const char *reason, unsigned actions)
{
	if (t->to != t->from && to != t->to) {
		/* second move in one step: keep the first as the way through */
		t->has_via = true;
		t->via = t->to;
		t->via_reason = t->reason;
	}
	ep->state = to;
	t->to = to;
	t->changed = (t->from != to);
	t->reason = reason;
	if (to == TCP_CLOSED && t->changed)
		actions |= TCP_ACT_DELETE_TCB;
	if (to == TCP_TIME_WAIT)
		actions |= TCP_ACT_START_2MSL;
	t->actions |= actions;
}

/* Marks a segment the endpoint ignores. */
static void ignore(struct tcp_transition *t, const char *reason, unsigned actions)
{
	t->unacceptable = true;
	t->reason = reason;
	t->actions |= actions;
}

/* ---------------------------------------------------------------- receive */

/* True when seg's ACK acknowledges our SYN: iss < ack <= snd_nxt. */
static bool acks_our_syn(const struct tcp_endpoint *ep, const struct segment *seg)
{
	if (!(seg->flags & TCP_FLAG_ACK) || !ep->iss_known)
		return false;
	return seq_gt(seg->ack, ep->iss) && seq_le(seg->ack, ep->snd_nxt);
}

/* True when seg's ACK acknowledges our FIN: ack >= fin_seq + 1. */
static bool acks_our_fin(const struct tcp_endpoint *ep, const struct segment *seg)
{
	return ep->fin_sent && (seg->flags & TCP_FLAG_ACK) && seq_ge(seg->ack, ep->fin_seq + 1);
}

/*
 * RST acceptability outside SYN-SENT (RFC 9293 §3.10.7.4 first check; RFC
 * 5961 §3 narrows it to an exact match, but an observer cannot see the
 * window, so tcplab accepts what some real stack plausibly would).
 */
static bool rst_acceptable(const struct tcp_endpoint *ep, const struct segment *seg)
{
	if (!ep->irs_known)
		return true;
	return seq_ge(seg->seq, ep->rcv_nxt - 1) && seq_lt(seg->seq, ep->rcv_nxt + (1u << 30));
}

/* True when everything seg occupies in sequence space was received before. */
static bool received_before(const struct tcp_endpoint *ep, const struct segment *seg)
{
	uint32_t len = segment_seq_len(seg);
	if (!ep->irs_known || len == 0)
		return false;
	return seq_le(seg->seq + len, ep->rcv_nxt);
}

/* Advances rcv_nxt over seg (only forward: an old segment leaves it). */
static void advance_rcv_nxt(struct tcp_endpoint *ep, const struct segment *seg)
{
	uint32_t end = seg->seq + segment_seq_len(seg);
	if (ep->irs_known && seq_gt(end, ep->rcv_nxt) && seq_le(seg->seq, ep->rcv_nxt))
		ep->rcv_nxt = end;
	else if (ep->irs_known && seq_gt(seg->seq, ep->rcv_nxt))
		ep->rcv_nxt = end; /* a gap (a segment the capture missed): follow the peer */
}

/* Records what seg's ACK acknowledges of our sequence space. */
static void note_ack(struct tcp_endpoint *ep, const struct segment *seg)
{
	if (acks_our_fin(ep, seg))
		ep->fin_acked = true;
	if (!(seg->flags & TCP_FLAG_ACK) || !ep->iss_known)
		return;
	if (seq_gt(seg->ack, ep->snd_una) && seq_le(seg->ack, ep->snd_nxt))
		ep->snd_una = seg->ack;
	if (acks_our_syn(ep, seg))
		ep->syn_acked = true;
	if (acks_our_fin(ep, seg))
		ep->fin_acked = true;
}

/* Learns the peer's ISN from its SYN. */
static void learn_irs(struct tcp_endpoint *ep, const struct segment *seg)
{
	ep->irs_known = true;
	ep->irs = seg->seq;
	ep->rcv_nxt = seg->seq + 1 + seg->payload_len;
}

/* Received segment in a synchronized state (§3.10.7.4, steps 1-8). */
static void receive_synchronized(struct tcp_endpoint *ep, const struct segment *seg,
				 struct tcp_transition *t)
{
	bool fin_acked_now;

	if (!ep->irs_known && !(seg->flags & TCP_FLAG_RST)) {
		/* joined mid-stream: the first segment tells where the peer is */
		ep->irs_known = true;
		ep->irs = seg->seq - 1;
		ep->rcv_nxt = seg->seq;
	}

	switch (classify(seg->flags)) {
	case EV_RST:
		if (!rst_acceptable(ep, seg)) {
			ignore(t, "RST outside the window: ignored (RFC 9293 §3.10.7.4)", TCP_ACT_NONE);
			return;
		}
		enter(ep, t, TCP_CLOSED, "received RST: connection reset", TCP_ACT_NONE);
		return;
	case EV_SYN:
	case EV_SYN_ACK:
		/* A retransmitted SYN or SYN-ACK (our ACK of it was lost) is
		 * answered with an ACK; any other SYN gets a challenge ACK
		 * (RFC 5961 §4, adopted by RFC 9293 §3.10.7.4 fourth check). */
		if (ep->irs_known && seg->seq == ep->irs) {
			t->retransmission = true;
			t->reason = "received the peer's SYN again (our ACK was lost?): re-ACK";
			t->actions |= TCP_ACT_SEND_ACK;
		} else {
			ignore(t, "SYN in a synchronized state: challenge ACK (RFC 5961 §4)",
			       TCP_ACT_SEND_ACK);
		}
		return;
	case EV_FIN:
	case EV_OTHER:
		break;
	}

	if (!(seg->flags & TCP_FLAG_ACK)) {
		/* §3.10.7.4 fifth check: "if the ACK bit is off, drop the segment". */
		ignore(t, "segment without ACK in a synchronized state: dropped", TCP_ACT_NONE);
		return;
	}

	fin_acked_now = !ep->fin_acked && acks_our_fin(ep, seg);
	note_ack(ep, seg);

	if (received_before(ep, seg)) {
		t->retransmission = true;
		t->reason = (seg->flags & TCP_FLAG_FIN) ? "received a retransmitted FIN: re-ACK"
							: "received data already received: re-ACK";
		t->actions |= TCP_ACT_SEND_ACK;
		if (ep->state == TCP_TIME_WAIT && (seg->flags & TCP_FLAG_FIN))
			enter(ep, t, TCP_TIME_WAIT, "received the peer's FIN again in TIME-WAIT: re-ACK, restart 2MSL",
			      TCP_ACT_SEND_ACK);
		/* the ACK on it may still move us */
		if (!fin_acked_now)
			return;
	}

	/* ACK processing (§3.10.7.4 fifth check, per state). */
	switch (ep->state) {
	case TCP_FIN_WAIT_1:
		if (fin_acked_now)
			enter(ep, t, TCP_FIN_WAIT_2, "received ACK of our FIN", TCP_ACT_NONE);
		break;
	case TCP_CLOSING:
		if (fin_acked_now)
			enter(ep, t, TCP_TIME_WAIT, "received ACK of our FIN (simultaneous close)", TCP_ACT_NONE);
		break;
	case TCP_LAST_ACK:
		if (fin_acked_now)
			enter(ep, t, TCP_CLOSED, "received ACK of our FIN", TCP_ACT_NONE);
		return;
	default:
		break;
	}
	if (t->retransmission)
		return;

	/* Segment text (§3.10.7.4 seventh check). */
	if (seg->payload_len > 0) {
		switch (ep->state) {
		case TCP_ESTABLISHED:
		case TCP_FIN_WAIT_1:
		case TCP_FIN_WAIT_2:
			advance_rcv_nxt(ep, seg);
			t->actions |= TCP_ACT_SEND_ACK | TCP_ACT_DELIVER;
			if (!t->changed)
				t->reason = ep->state == TCP_FIN_WAIT_2
					? "received data after our FIN (half-close): ACK it"
					: "received data: ACK it";
			break;
		default:
			/* After the peer's FIN there can be no new data. */
			if (!(seg->flags & TCP_FLAG_FIN)) {
				ignore(t, "data after the peer's FIN: ignored", TCP_ACT_SEND_ACK);
				return;
			}
			break;
		}
	}

	if (!(seg->flags & TCP_FLAG_FIN))
		return;

	/* FIN (§3.10.7.4 eighth check). */
	ep->fin_received = true;
	ep->peer_fin_seq = seg->seq + seg->payload_len;
	if (ep->irs_known)
		ep->rcv_nxt = ep->peer_fin_seq + 1;
	switch (ep->state) {
	case TCP_ESTABLISHED:
		enter(ep, t, TCP_CLOSE_WAIT, "received FIN: the peer closed first", TCP_ACT_SEND_ACK);
		break;
	case TCP_FIN_WAIT_1:
		if (ep->fin_acked)
			enter(ep, t, TCP_TIME_WAIT, "received FIN acknowledging our FIN (three-segment close)",
			      TCP_ACT_SEND_ACK);
		else
			enter(ep, t, TCP_CLOSING, "received FIN before the ACK of ours (simultaneous close)",
			      TCP_ACT_SEND_ACK);
		break;
	case TCP_FIN_WAIT_2:
		if (t->from == TCP_FIN_WAIT_1)
			enter(ep, t, TCP_TIME_WAIT, "received FIN acknowledging our FIN (three-segment close)",
			      TCP_ACT_SEND_ACK);
		else
			enter(ep, t, TCP_TIME_WAIT, "received FIN", TCP_ACT_SEND_ACK);
		break;
	case TCP_TIME_WAIT:
		enter(ep, t, TCP_TIME_WAIT, "received FIN in TIME-WAIT: re-ACK, restart 2MSL", TCP_ACT_SEND_ACK);
		break;
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		/* a FIN with a new sequence number cannot come after the first */
		t->actions |= TCP_ACT_SEND_ACK;
		break;
	default:
		break;
	}
}

/* Received segment (RFC 9293 §3.10.7.1–§3.10.7.4). */
static void receive(struct tcp_endpoint *ep, const struct segment *seg, struct tcp_transition *t)
{
	enum seg_event ev = classify(seg->flags);

	switch (ep->state) {
	case TCP_CLOSED:
		/* §3.10.7.1: no TCB; everything but an RST is answered with RST. */
		switch (ev) {
		case EV_RST:
			ignore(t, "RST for a closed connection: ignored", TCP_ACT_NONE);
			break;
		default:
			ignore(t, "segment for a closed connection: answered with RST", TCP_ACT_SEND_RST);
			break;
		}
		return;

	case TCP_LISTEN:
		/* §3.10.7.2 */
		switch (ev) {
		case EV_RST:
			ignore(t, "RST in LISTEN: ignored", TCP_ACT_NONE);
			break;
		case EV_SYN:
			learn_irs(ep, seg);
			ep->passive_open = true;
			enter(ep, t, TCP_SYN_RECEIVED, "received SYN: answer SYN-ACK", TCP_ACT_SEND_SYNACK);
			break;
		case EV_SYN_ACK:
		case EV_FIN:
		case EV_OTHER:
			if (seg->flags & TCP_FLAG_ACK)
				ignore(t, "ACK in LISTEN for no connection: answered with RST", TCP_ACT_SEND_RST);
			else
				ignore(t, "segment without SYN in LISTEN: dropped", TCP_ACT_NONE);
			break;
		}
		return;

	case TCP_SYN_SENT:
		/* §3.10.7.3: first the ACK, then RST, then SYN. */
		if ((seg->flags & TCP_FLAG_ACK) && !acks_our_syn(ep, seg)) {
			if (ev == EV_RST)
				ignore(t, "RST whose ACK does not acknowledge our SYN: ignored", TCP_ACT_NONE);
			else
				ignore(t, "ACK that does not acknowledge our SYN: answered with RST",
				       TCP_ACT_SEND_RST);
			return;
		}
		switch (ev) {
		case EV_RST:
			if (!(seg->flags & TCP_FLAG_ACK)) {
				ignore(t, "RST without ACK in SYN-SENT: ignored", TCP_ACT_NONE);
				return;
			}
			enter(ep, t, TCP_CLOSED, "received RST in answer to our SYN: connection refused",
			      TCP_ACT_NONE);
			return;
		case EV_SYN_ACK:
			learn_irs(ep, seg);
			note_ack(ep, seg);
			enter(ep, t, TCP_ESTABLISHED, "received SYN-ACK acknowledging our SYN: send ACK",
			      TCP_ACT_SEND_ACK);
			return;
		case EV_SYN:
			learn_irs(ep, seg);
			enter(ep, t, TCP_SYN_RECEIVED, "received SYN while in SYN-SENT (simultaneous open)",
			      TCP_ACT_SEND_SYNACK);
			return;
		case EV_FIN:
		case EV_OTHER:
			ignore(t, "segment without SYN or RST in SYN-SENT: dropped", TCP_ACT_NONE);
			return;
		}
		return;

	case TCP_SYN_RECEIVED:
		switch (ev) {
		case EV_RST:
			if (!rst_acceptable(ep, seg)) {
				ignore(t, "RST outside the window: ignored", TCP_ACT_NONE);
				return;
			}
			if (ep->passive_open) {
				tcp_endpoint_init(ep, TCP_SYN_RECEIVED);
				enter(ep, t, TCP_LISTEN, "received RST: back to LISTEN (RFC 9293 §3.10.7.4)",
				      TCP_ACT_NONE);
			} else {
				enter(ep, t, TCP_CLOSED, "received RST: connection refused", TCP_ACT_NONE);
			}
			return;
		case EV_SYN:
			if (ep->irs_known && seg->seq == ep->irs) {
				t->retransmission = true;
				t->reason = "received the peer's SYN again: answer SYN-ACK again";
				t->actions |= TCP_ACT_SEND_SYNACK;
			} else {
				ignore(t, "a different SYN in SYN-RECEIVED: challenge ACK", TCP_ACT_SEND_ACK);
			}
			return;
		case EV_SYN_ACK:
			/* simultaneous open: the peer's SYN-ACK acknowledges our SYN */
			if (acks_our_syn(ep, seg)) {
				note_ack(ep, seg);
				enter(ep, t, TCP_ESTABLISHED,
				      "received SYN-ACK acknowledging our SYN (simultaneous open)", TCP_ACT_NONE);
			} else if (ep->irs_known && seg->seq == ep->irs) {
				t->retransmission = true;
				t->reason = "received the peer's SYN again";
			} else {
				ignore(t, "SYN-ACK that does not acknowledge our SYN: answered with RST",
				       TCP_ACT_SEND_RST);
			}
			return;
		case EV_FIN:
		case EV_OTHER:
			if (!(seg->flags & TCP_FLAG_ACK)) {
				ignore(t, "segment without ACK in SYN-RECEIVED: dropped", TCP_ACT_NONE);
				return;
			}
			if (!acks_our_syn(ep, seg)) {
				ignore(t, "ACK that does not acknowledge our SYN: answered with RST",
				       TCP_ACT_SEND_RST);
				return;
			}
			note_ack(ep, seg);
			enter(ep, t, TCP_ESTABLISHED, "received ACK of our SYN: handshake complete", TCP_ACT_NONE);
			if (seg->payload_len > 0 || (seg->flags & TCP_FLAG_FIN)) {
				/* data and FIN riding on the third segment */
				const char *why = t->reason;
				receive_synchronized(ep, seg, t);
				if (t->to == TCP_ESTABLISHED)
					t->reason = why;
			}
			return;
		}
		return;

	default:
		receive_synchronized(ep, seg, t);
		return;
	}
}

/* ------------------------------------------------------------------- send */

/* Sent segment: how an observed (or driven) endpoint reveals its moves. */
static void sent(struct tcp_endpoint *ep, const struct segment *seg, struct tcp_transition *t)
{
	uint32_t len = segment_seq_len(seg);
	uint32_t end = seg->seq + len;
	enum seg_event ev = classify(seg->flags);
	bool repeat = false;

	/* Retransmission: the segment occupies sequence space already sent.
	 * The first SYN-ACK of a simultaneous open repeats our SYN's number by
	 * design (RFC 9293 §3.5 Figure 7, simultaneous open; Figure 8 is
	 * the old duplicate SYN) and is not a retransmission. */
	if (ep->iss_known && len > 0 && ev != EV_RST && seq_lt(seg->seq, ep->snd_nxt))
		repeat = !(ev == EV_SYN_ACK && !ep->synack_sent);
	if (ev == EV_SYN_ACK)
		ep->synack_sent = true;
	/* The ACK field tells what it had received when it sent this. */
	if ((seg->flags & TCP_FLAG_ACK) && ep->irs_known && seq_gt(seg->ack, ep->rcv_nxt))
		ep->rcv_nxt = seg->ack;

	if (ev == EV_SYN || ev == EV_SYN_ACK) {
		if (!ep->iss_known) {
			ep->iss_known = true;
			ep->iss = seg->seq;
			ep->snd_una = seg->seq;
			ep->snd_nxt = end;
		}
		if (ev == EV_SYN_ACK && !ep->irs_known) {
			/* it acknowledges a SYN the capture did not hold */
			ep->irs_known = true;
			ep->irs = seg->ack - 1;
			ep->rcv_nxt = seg->ack;
		}
	} else if (ep->iss_known && seq_gt(end, ep->snd_nxt)) {
		ep->snd_nxt = end;
	} else if (!ep->iss_known && ev != EV_RST && tcp_state_synchronized(ep->state)) {
		/* joined mid-stream: its first segment tells where it is */
		ep->iss_known = true;
		ep->iss = seg->seq - 1;
		ep->snd_una = seg->seq;
		ep->snd_nxt = end;
		ep->syn_acked = true;
	}

	switch (ep->state) {
	case TCP_CLOSED:
		switch (ev) {
		case EV_SYN:
			enter(ep, t, TCP_SYN_SENT, "sent SYN: active open", TCP_ACT_NONE);
			return;
		case EV_SYN_ACK:
			enter(ep, t, TCP_SYN_RECEIVED, "sent SYN-ACK (its SYN was not seen)", TCP_ACT_NONE);
			return;
		case EV_RST:
			t->reason = "sent RST: nothing listens on this port";
			return;
		default:
			t->reason = "sent a segment while CLOSED";
			return;
		}
	case TCP_LISTEN:
		switch (ev) {
		case EV_SYN:
			enter(ep, t, TCP_SYN_SENT, "sent SYN from LISTEN (RFC 9293 §3.10.2 SEND)", TCP_ACT_NONE);
			return;
		case EV_SYN_ACK:
			ep->passive_open = true;
			enter(ep, t, TCP_SYN_RECEIVED, "sent SYN-ACK (its SYN was not seen)", TCP_ACT_NONE);
			return;
		case EV_RST:
			t->reason = "sent RST from LISTEN for a bogus segment; still listening";
			return;
		default:
			t->reason = "sent a segment while LISTEN";
			return;
		}
	case TCP_SYN_SENT:
		switch (ev) {
		case EV_SYN:
			t->retransmission = repeat;
			t->reason = repeat ? "SYN retransmitted" : "sent SYN";
			return;
		case EV_SYN_ACK:
			enter(ep, t, TCP_SYN_RECEIVED, "sent SYN-ACK (simultaneous open)", TCP_ACT_NONE);
			return;
		case EV_RST:
			/* §3.10.7.3: an ACK that does not acknowledge our SYN (an
			 * old duplicate's SYN-ACK, Figure 8) is answered with
			 * <SEQ=SEG.ACK><CTL=RST> and the endpoint stays in
			 * SYN-SENT; an RST at our own next number is an abort. */
			if (ep->iss_known && seg->seq != ep->snd_nxt) {
				t->reason = "sent RST for an ACK that does not acknowledge our SYN; still SYN-SENT";
				return;
			}
			enter(ep, t, TCP_CLOSED, "sent RST: aborted", TCP_ACT_NONE);
			return;
		default:
			t->reason = "sent a segment in SYN-SENT";
			return;
		}
	case TCP_SYN_RECEIVED:
		switch (ev) {
		case EV_SYN_ACK:
			t->retransmission = repeat;
			t->reason = t->retransmission ? "SYN-ACK retransmitted" : "sent SYN-ACK";
			return;
		case EV_SYN:
			t->retransmission = repeat;
			t->reason = repeat ? "SYN retransmitted" : "sent its own SYN too (simultaneous open)";
			return;
		case EV_FIN:
			ep->fin_sent = true;
			ep->fin_seq = seg->seq + seg->payload_len;
			enter(ep, t, TCP_FIN_WAIT_1, "sent FIN before the handshake completed", TCP_ACT_NONE);
			return;
		case EV_RST:
			enter(ep, t, TCP_CLOSED, "sent RST: aborted", TCP_ACT_NONE);
			return;
		case EV_OTHER:
			t->reason = "sent a segment in SYN-RECEIVED";
			return;
		}
		return;
	default:
		break;
	}

	/* synchronized states */
	switch (ev) {
	case EV_RST:
		enter(ep, t, TCP_CLOSED, "sent RST: connection aborted", TCP_ACT_NONE);
		return;
	case EV_SYN:
	case EV_SYN_ACK:
		t->retransmission = repeat;
		t->reason = "sent SYN again in a synchronized state";
		return;
	case EV_OTHER:
		t->retransmission = repeat;
		t->reason = repeat ? "data retransmitted" : (seg->payload_len ? "sent data" : "sent ACK");
		return;
	case EV_FIN:
		break;
	}

	/* FIN */
	if (ep->fin_sent && seq_le(end, ep->fin_seq + 1)) {
		t->retransmission = true;
		t->reason = "FIN retransmitted";
		return;
	}
	ep->fin_sent = true;
	ep->fin_seq = seg->seq + seg->payload_len;
	switch (ep->state) {
	case TCP_ESTABLISHED:
		enter(ep, t, TCP_FIN_WAIT_1, "sent FIN: active close", TCP_ACT_NONE);
		return;
	case TCP_CLOSE_WAIT:
		if (ep->fin_received && (seg->flags & TCP_FLAG_ACK) && seq_lt(seg->ack, ep->peer_fin_seq + 1))
			enter(ep, t, TCP_CLOSING,
			      "sent FIN before it had received the peer's FIN (simultaneous close)", TCP_ACT_NONE);
		else
			enter(ep, t, TCP_LAST_ACK, "sent FIN: passive close", TCP_ACT_NONE);
		return;
	default:
		t->reason = "sent FIN";
		return;
	}
}

/* The step itself (contract in tcp_fsm.h): t is filled in place. */
void tcp_fsm_segment_into(struct tcp_endpoint *ep, enum tcp_direction dir, const struct segment *seg,
			  struct tcp_transition *t)
{
	memset(t, 0, sizeof(*t));
	t->from = t->to = ep->state;
	if (dir == TCP_DIR_SENT)
		sent(ep, seg, t);
	else
		receive(ep, seg, t);
	if (!t->reason)
		t->reason = dir == TCP_DIR_SENT ? "sent" : "received";
	t->to = ep->state;
	t->changed = (t->from != t->to);
}

/* Feeds one segment sent or received by ep (contract in tcp_fsm.h). */
struct tcp_transition tcp_fsm_segment(struct tcp_endpoint *ep, enum tcp_direction dir,
				      const struct segment *seg)
{
	struct tcp_transition t;

	tcp_fsm_segment_into(ep, dir, seg, &t);
	return t;
}

/* ------------------------------------------------------------------ calls */

/* Applies a user call or timer (RFC 9293 §3.10.1–§3.10.5, §3.10.8). */
struct tcp_transition tcp_fsm_call(struct tcp_endpoint *ep, enum tcp_call call)
{
	struct tcp_transition t = stay(ep, NULL);

	switch (call) {
	case TCP_CALL_OPEN_PASSIVE:
		if (ep->state == TCP_CLOSED)
			enter(ep, &t, TCP_LISTEN, "passive OPEN: listening", TCP_ACT_NONE);
		else
			t.reason = "OPEN: connection already exists";
		break;
	case TCP_CALL_OPEN_ACTIVE:
		if (ep->state == TCP_CLOSED || ep->state == TCP_LISTEN)
			enter(ep, &t, TCP_SYN_SENT, "active OPEN: send SYN", TCP_ACT_SEND_SYN);
		else
			t.reason = "OPEN: connection already exists";
		break;
	case TCP_CALL_CLOSE:
		switch (ep->state) {
		case TCP_LISTEN:
		case TCP_SYN_SENT:
			enter(ep, &t, TCP_CLOSED, "CLOSE before the connection existed", TCP_ACT_NONE);
			break;
		case TCP_SYN_RECEIVED:
		case TCP_ESTABLISHED:
			enter(ep, &t, TCP_FIN_WAIT_1, "CLOSE: send FIN (active close)", TCP_ACT_SEND_FIN);
			break;
		case TCP_CLOSE_WAIT:
			enter(ep, &t, TCP_LAST_ACK, "CLOSE: send FIN (passive close)", TCP_ACT_SEND_FIN);
			break;
		case TCP_CLOSED:
			t.reason = "CLOSE: connection does not exist";
			break;
		default:
			t.reason = "CLOSE: connection closing";
			break;
		}
		break;
	case TCP_CALL_ABORT:
		switch (ep->state) {
		case TCP_CLOSED:
			t.reason = "ABORT: connection does not exist";
			break;
		case TCP_LISTEN:
		case TCP_SYN_SENT:
			enter(ep, &t, TCP_CLOSED, "ABORT before the connection existed", TCP_ACT_NONE);
			break;
		case TCP_TIME_WAIT:
		case TCP_CLOSING:
		case TCP_LAST_ACK:
			/* §3.10.5: in these states ABORT just deletes the TCB */
			enter(ep, &t, TCP_CLOSED, "ABORT: delete the TCB", TCP_ACT_NONE);
			break;
		default:
			enter(ep, &t, TCP_CLOSED, "ABORT: send RST", TCP_ACT_SEND_RST);
			break;
		}
		break;
	case TCP_CALL_TIME_WAIT_DONE:
		if (ep->state == TCP_TIME_WAIT)
			enter(ep, &t, TCP_CLOSED, "TIME-WAIT timer expired", TCP_ACT_NONE);
		else
			t.reason = "TIME-WAIT timer: not in TIME-WAIT";
		break;
	case TCP_CALL_GIVE_UP:
		if (ep->state != TCP_CLOSED)
			enter(ep, &t, TCP_CLOSED, "gave up after retransmissions (user timeout)", TCP_ACT_NONE);
		else
			t.reason = "already CLOSED";
		break;
	}
	if (!t.reason)
		t.reason = "call";
	return t;
}
