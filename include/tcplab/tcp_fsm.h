/*
 * tcp_fsm.h — the TCP connection state machine of RFC 9293 §3.3.2, pure.
 *
 * One struct tcp_endpoint per endpoint.  The machine is fed the segments the
 * endpoint sent and received (and the user calls and timers of §3.10), and
 * returns the transition it made, why, and what an endpoint in that
 * position must do next (the actions).  No I/O, no clock, no globals: the
 * live roles execute the actions, the passive tracker ignores them.
 *
 * The same machine serves an endpoint tcplab drives (connect, listen) and an
 * endpoint it only observes on the wire (replay, watch, and the peer of a
 * live session): for an observed endpoint every segment it sent is fed as
 * TCP_DIR_SENT and every segment it was sent as TCP_DIR_RECEIVED, at the time
 * the capture saw it.
 */
/*
 * Semantics (what the unit tests hold the machine to):
 *
 *  Classification.  A received segment is first checked against the TCB:
 *   - "acks our SYN":  ACK set and ack == iss + 1 (or later, up to snd_nxt);
 *   - "acks our FIN":  fin_sent and ACK set and ack >= fin_seq + 1 (mod 2^32);
 *   - RST is acceptable in SYN-SENT only when its ACK acknowledges our SYN
 *     (§3.10.7.3); in other states when rcv_nxt is unknown or seq lies in
 *     [rcv_nxt - 1, rcv_nxt + 2^30) — tcplab cannot see the receive window
 *     exactly, so it accepts what a real stack would plausibly accept.
 *   - sent and received segments update snd_nxt / rcv_nxt by their sequence
 *     length (payload + SYN + FIN).  A received segment whose sequence space
 *     lies entirely below rcv_nxt is a retransmission; a sent segment that
 *     occupies sequence space and starts below snd_nxt is one (Wireshark's
 *     rule: a repacketized, partly new segment is still a retransmission).
 *   - an endpoint joined mid-stream (irs unknown) learns rcv_nxt from the
 *     first segment it receives.
 *
 *  Received (dir = TCP_DIR_RECEIVED):
 *   CLOSED       any non-RST        → CLOSED, SEND_RST (nobody listens), unacceptable
 *   LISTEN       SYN                → SYN-RECEIVED, SEND_SYNACK (irs learned)
 *   LISTEN       ACK (no SYN)       → LISTEN, SEND_RST; RST → ignored
 *   SYN-SENT     SYN+ACK acking SYN → ESTABLISHED, SEND_ACK
 *   SYN-SENT     SYN (no ACK)       → SYN-RECEIVED, SEND_SYNACK   (simultaneous open)
 *   SYN-SENT     acceptable RST     → CLOSED, DELETE_TCB           ("connection refused")
 *   SYN-SENT     ACK not acking SYN → SYN-SENT, SEND_RST, unacceptable
 *   SYN-RECEIVED ACK acking SYN     → ESTABLISHED (with FIN also: → ESTABLISHED → CLOSE-WAIT,
 *                                     SEND_ACK)
 *   SYN-RECEIVED RST                → LISTEN if it was a passive open, else CLOSED
 *   ESTABLISHED  FIN                → CLOSE-WAIT, SEND_ACK
 *   ESTABLISHED  data               → ESTABLISHED, SEND_ACK|DELIVER
 *   FIN-WAIT-1   ACK acking our FIN → FIN-WAIT-2
 *   FIN-WAIT-1   FIN not acking FIN → CLOSING, SEND_ACK              (simultaneous close)
 *   FIN-WAIT-1   FIN acking our FIN → FIN-WAIT-2 → TIME-WAIT, SEND_ACK|START_2MSL
 *                                     (three-segment close: the ACK field first, §3.10.7.4)
 *   FIN-WAIT-2   FIN                → TIME-WAIT, SEND_ACK|START_2MSL
 *   FIN-WAIT-2   data               → FIN-WAIT-2, SEND_ACK|DELIVER  (half-close)
 *   CLOSE-WAIT   FIN retransmitted  → CLOSE-WAIT, SEND_ACK
 *   CLOSING      ACK acking our FIN → TIME-WAIT, START_2MSL
 *   LAST-ACK     ACK acking our FIN → CLOSED, DELETE_TCB
 *   TIME-WAIT    FIN retransmitted  → TIME-WAIT, SEND_ACK|START_2MSL
 *   any synchronized state, acceptable RST → CLOSED, DELETE_TCB ("connection reset")
 *   a segment that is a retransmission of something already received
 *   → same state, SEND_ACK, retransmission = true
 *
 *  Sent (dir = TCP_DIR_SENT) — how an observed endpoint reveals its moves:
 *   CLOSED       SYN                → SYN-SENT        (active open; iss learned)
 *   LISTEN       SYN+ACK            → SYN-RECEIVED    (its SYN was not seen; passive open)
 *   SYN-SENT     SYN+ACK            → SYN-RECEIVED    (simultaneous open)
 *   SYN-RECEIVED SYN+ACK            → SYN-RECEIVED    (iss learned; retransmission marked)
 *   SYN-RECEIVED FIN                → FIN-WAIT-1
 *   ESTABLISHED  FIN                → FIN-WAIT-1
 *   CLOSE-WAIT   FIN                → LAST-ACK
 *   CLOSE-WAIT   FIN whose ACK does not cover the peer's FIN
 *                                   → CLOSING  (it sent its FIN before it received the
 *                                     peer's: a simultaneous close seen from the far side)
 *   any state    RST                → CLOSED, DELETE_TCB ("aborted"); but LISTEN stays
 *                                     LISTEN (an RST answering a stray segment, §3.10.7.2),
 *                                     and SYN-SENT stays SYN-SENT when the RST's seq is not
 *                                     its SND.NXT (it answers an ACK that does not
 *                                     acknowledge its SYN, §3.10.7.3, Figure 8)
 *   SYN, FIN or data repeating sequence space already sent
 *                                   → same state, retransmission = true
 *   anything else (ACKs, data)      → same state
 *
 *  Calls: OPEN_PASSIVE CLOSED→LISTEN; OPEN_ACTIVE CLOSED/LISTEN→SYN-SENT (SEND_SYN);
 *   CLOSE: LISTEN/SYN-SENT→CLOSED, SYN-RECEIVED/ESTABLISHED→FIN-WAIT-1 (SEND_FIN),
 *   CLOSE-WAIT→LAST-ACK (SEND_FIN); ABORT: synchronized states and SYN-RECEIVED →
 *   CLOSED (SEND_RST|DELETE_TCB) except CLOSING/LAST-ACK/TIME-WAIT which only delete the
 *   TCB (§3.10.5), LISTEN/SYN-SENT → CLOSED (DELETE_TCB);
 *   TIME_WAIT_DONE: TIME-WAIT→CLOSED (DELETE_TCB); GIVE_UP: any → CLOSED (DELETE_TCB).
 *   Note that CLOSE only moves the state: the FIN's sequence number is
 *   learned when the FIN is fed as sent.
 */

#ifndef TCPLAB_TCP_FSM_H
#define TCPLAB_TCP_FSM_H

#include <stdbool.h>
#include <stdint.h>

#include "tcplab/segment.h"

enum tcp_state {
	TCP_CLOSED = 0,
	TCP_LISTEN,
	TCP_SYN_SENT,
	TCP_SYN_RECEIVED,
	TCP_ESTABLISHED,
	TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2,
	TCP_CLOSE_WAIT,
	TCP_CLOSING,
	TCP_LAST_ACK,
	TCP_TIME_WAIT,
	TCP_STATE_COUNT
};

enum tcp_direction { TCP_DIR_SENT, TCP_DIR_RECEIVED };

/* User calls and timers (RFC 9293 §3.10). */
enum tcp_call {
	TCP_CALL_OPEN_PASSIVE,   /* CLOSED → LISTEN */
	TCP_CALL_OPEN_ACTIVE,    /* CLOSED → SYN-SENT, action SEND_SYN */
	TCP_CALL_CLOSE,          /* ESTABLISHED → FIN-WAIT-1, CLOSE-WAIT → LAST-ACK, ... action SEND_FIN */
	TCP_CALL_ABORT,          /* any synchronized state → CLOSED, action SEND_RST */
	TCP_CALL_TIME_WAIT_DONE, /* 2MSL (or tcplab's shortened linger) expired: TIME-WAIT → CLOSED */
	TCP_CALL_GIVE_UP,        /* retransmissions exhausted (user timeout): → CLOSED */
};

/* What the endpoint must do after a transition (bit set). */
enum tcp_action {
	TCP_ACT_NONE        = 0,
	TCP_ACT_SEND_SYN    = 1 << 0,
	TCP_ACT_SEND_SYNACK = 1 << 1,
	TCP_ACT_SEND_ACK    = 1 << 2,  /* acknowledge what was received (also a re-ACK in TIME-WAIT) */
	TCP_ACT_SEND_FIN    = 1 << 3,
	TCP_ACT_SEND_RST    = 1 << 4,
	TCP_ACT_START_2MSL  = 1 << 5,  /* entered TIME-WAIT: (re)start the 2MSL timer */
	TCP_ACT_DELETE_TCB  = 1 << 6,  /* reached CLOSED: the connection is over */
	TCP_ACT_DELIVER     = 1 << 7,  /* the segment carried in-window data for the user */
};

/*
 * The little of the TCB (RFC 9293 §3.3.1) the machine needs to tell, e.g.,
 * an ACK of our FIN from an ACK of data.  Fields are maintained by the
 * machine itself; callers only read them.
 */
struct tcp_endpoint {
	enum tcp_state state;
	bool iss_known, irs_known;
	uint32_t iss;       /* our initial send sequence number */
	uint32_t irs;       /* the peer's initial sequence number */
	uint32_t snd_una;   /* oldest unacknowledged sequence number */
	uint32_t snd_nxt;   /* next sequence number to send (highest sent + 1) */
	uint32_t rcv_nxt;   /* next sequence number expected from the peer */
	bool fin_sent;      /* our FIN has been sent; its number is fin_seq */
	uint32_t fin_seq;
	bool fin_received;  /* the peer's FIN has been seen; its number is peer_fin_seq */
	uint32_t peer_fin_seq;
	bool syn_acked;     /* our SYN has been acknowledged */
	bool fin_acked;     /* our FIN has been acknowledged */
	bool passive_open;  /* reached SYN-RECEIVED from LISTEN (an RST sends it back there) */
	bool synack_sent;   /* a SYN-ACK has been sent (the next one is a retransmission) */
};

/* The result of one step. */
struct tcp_transition {
	enum tcp_state from, to;
	bool changed;          /* from != to */
	const char *reason;    /* static text, e.g. "received SYN-ACK acknowledging our SYN" */
	unsigned actions;      /* enum tcp_action bits */
	bool retransmission;   /* (sent) this segment repeats sequence space already sent,
				  (received) it repeats space already received */
	bool unacceptable;     /* the segment was not acceptable in this state (RFC 9293 §3.10.7.4);
				  the endpoint ignores it (answering with ACK or RST per actions) */
	/* One received segment can move an endpoint twice, because RFC 9293
	 * §3.10.7.4 processes the ACK field before the FIN bit: a FIN that also
	 * acknowledges our FIN takes FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT, an ACK
	 * of our SYN with a FIN takes SYN-RECEIVED → ESTABLISHED → CLOSE-WAIT
	 * (Linux's tracepoint sock:inet_sock_set_state shows both steps).  Then
	 * has_via is set: the step went from → via (via_reason) → to (reason). */
	bool has_via;
	enum tcp_state via;
	const char *via_reason;
};

/* Puts ep in `initial` (TCP_CLOSED or TCP_LISTEN, or for an endpoint joined
 * mid-stream TCP_ESTABLISHED) with nothing known about sequence numbers. */
void tcp_endpoint_init(struct tcp_endpoint *ep, enum tcp_state initial);

/*
 * Feeds one segment that ep sent (TCP_DIR_SENT) or received
 * (TCP_DIR_RECEIVED).  Only seq, ack, flags and payload_len of seg are read.
 * Always returns a transition; changed is false when the state stayed.
 */
struct tcp_transition tcp_fsm_segment(struct tcp_endpoint *ep, enum tcp_direction dir,
				      const struct segment *seg);

/* tcp_fsm_segment writing the transition to *out instead of returning it:
 * the replay hot path, where copying the returned struct cost a
 * store-forwarding stall per call. */
void tcp_fsm_segment_into(struct tcp_endpoint *ep, enum tcp_direction dir, const struct segment *seg,
			  struct tcp_transition *out);

/* Applies a user call or timer; returns the transition (changed=false and an
 * explanatory reason when the call is not valid in the current state). */
struct tcp_transition tcp_fsm_call(struct tcp_endpoint *ep, enum tcp_call call);

/* The RFC 9293 name: "CLOSED", "SYN-SENT", "FIN-WAIT-1", ... */
const char *tcp_state_name(enum tcp_state s);

/* True for the synchronized states (ESTABLISHED and after, RFC 9293 §3.5). */
bool tcp_state_synchronized(enum tcp_state s);

#endif
