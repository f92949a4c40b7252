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

/* Applies a user call or timer; returns the transition (changed=false and an
 * explanatory reason when the call is not valid in the current state). */
struct tcp_transition tcp_fsm_call(struct tcp_endpoint *ep, enum tcp_call call);

/* The RFC 9293 name: "CLOSED", "SYN-SENT", "FIN-WAIT-1", ... */
const char *tcp_state_name(enum tcp_state s);

/* True for the synchronized states (ESTABLISHED and after, RFC 9293 §3.5). */
bool tcp_state_synchronized(enum tcp_state s);

#endif
