/*
 * event.h — what the tracker tells the renderers.
 *
 * The tracker (flow) turns segments into this stream; renderers (text, JSON)
 * print it and know nothing else: not pcap, not libnet, not the flow table.
 * Every pointer in an event is valid only during the emit call.
 */
#ifndef TCPLAB_EVENT_H
#define TCPLAB_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include "tcplab/segment.h"
#include "tcplab/tcp_fsm.h"
#include "tcplab/analysis.h"

enum tl_role { TL_CLIENT = 0, TL_SERVER = 1 };

enum tl_event_kind {
	TL_EV_CONN_BEGIN,  /* a new connection appears (header) */
	TL_EV_SEGMENT,     /* one segment crossed the capture point */
	TL_EV_STATE,       /* one endpoint changed state */
	TL_EV_NOTE,        /* a sentence for the reader (timer, firewall, linger, ...) */
	TL_EV_SUMMARY,     /* the connection is over, or input ended */
	TL_EV_KERNEL_STATE,/* this machine's kernel changed a socket's state (tracepoint; see kstates.h) */
	TL_EV_DATAGRAM,    /* a UDP datagram (replay/watch --udp): no connection, conn 0 */
	TL_EV_ENDPOINT,    /* the driven endpoint's sender: cwnd, windows, probes, retransmissions */
};

/* How a connection ended, as the summary reports it. */
enum tl_outcome {
	TL_OUTCOME_CLOSED,   /* both FINs exchanged and acknowledged */
	TL_OUTCOME_OPEN,     /* still open when the input or session ended */
	TL_OUTCOME_REFUSED,  /* RST in answer to SYN */
	TL_OUTCOME_RESET,    /* RST after the handshake */
	TL_OUTCOME_TIMEOUT,  /* SYN (or FIN) never answered */
	TL_OUTCOME_HALF_OPEN,/* replay: SYN with no answer in the capture */
};

struct tl_conn_begin {
	struct ip_addr client_addr, server_addr;
	uint16_t client_port, server_port;
	bool midstream;          /* the capture does not hold the SYN: roles guessed from ports */
	uint64_t start_ns;       /* absolute capture time of the first segment */
	/* The encapsulations its first segment came in (struct segment's
	 * encap_count / encap[], outermost first); 0: none. */
	uint8_t encap_count;
	uint8_t encap[SEGMENT_MAX_ENCAP];
};

struct tl_segment_event {
	enum tl_role from;
	const struct segment *seg;
	bool rel_seq_known, rel_ack_known;
	uint32_t rel_seq, rel_ack;    /* relative to the sender's / receiver's ISN */
	bool retransmission;
	const char *annotation;       /* e.g. "SYN retransmitted (RTO 2 s)"; NULL when none */
	unsigned marks;               /* enum tl_mark bits (analysis.h): what the capture shows */
	uint32_t dup_ack;             /* with TL_MARK_DUP_ACK: its number, from 1 */
	bool state_changes;           /* TL_EV_STATE events caused by this segment follow it */
	/* Lost on purpose (--lose): tcplab built the segment and did not put
	 * it on the wire; the ladder and SVG draw an arrow that stops short of
	 * the receiver, ending in a cross.  The tracker gives the receiver no
	 * transition for it.  false for every captured segment. */
	bool lost;
	/* When the same segment was also seen at the far end's capture point
	 * (a source with a capture at each endpoint): the time there, on the
	 * t_ns clock.  t_ns is then the sender's side and far_t_ns the
	 * receiver's; the SVG slants the arrow by the difference.  false with
	 * one capture point (every source today). */
	bool far_t_known;
	uint64_t far_t_ns;
	/* What this segment did to the machines, known before the state events
	 * that follow it (for --explain); NULL when the tracker did not feed it
	 * (a SYN held until the server answers).  Valid during the emit call. */
	const struct tcp_transition *sender_tx, *receiver_tx;
};

struct tl_state_event {
	enum tl_role endpoint;
	enum tcp_state from, to;
	const char *reason;
	/* This event withdraws the endpoint's previous transition (to → from),
	 * which a later segment proved wrong: the endpoint never left `to`.
	 * Consumers that keep a state history drop that transition. */
	bool correction;
};

/* A state change the local kernel reported for one endpoint's socket
 * (tracepoint sock:inet_sock_set_state), at the kernel's own time converted
 * to the capture clock.  from/to in RFC 9293 terms; kernel_from/kernel_to
 * as the kernel names them ("TCP_SYN_RECV"). */
struct tl_kernel_state_event {
	enum tl_role endpoint;
	enum tcp_state from, to;
	const char *kernel_from, *kernel_to;
};

struct tl_side_summary {
	uint64_t bytes;            /* payload bytes sent (first transmissions only) */
	uint32_t segments;
	uint32_t retransmissions;
	enum tcp_state final_state;
	bool isn_known;
	uint32_t isn;
	struct tcp_options syn_options; /* options on its SYN / SYN-ACK */
	bool syn_seen;
};

struct tl_summary {
	enum tl_outcome outcome;
	const char *ended_how;     /* one sentence: "client closed first; four-segment teardown" */
	uint64_t start_ns;         /* absolute time of the first segment */
	uint64_t duration_ns;      /* first to last segment */
	bool rtt_known;            /* SYN → SYN-ACK at the capture point */
	uint64_t rtt_ns;
	bool reaction_known;       /* SYN-ACK → ACK at the capture point */
	uint64_t reaction_ns;
	struct tl_side_summary side[2]; /* indexed by enum tl_role */
	/* negotiated (RFC 7323, RFC 2018): only when both SYNs offered */
	bool wscale_ok, sack_ok, timestamps_ok;
	bool midstream;
	struct tl_side_analysis an[2];  /* by role: goodput, RTT samples, retransmissions by cause, ... */
	/* TCP checksums seen wrong (issue 12), per sender (enum tl_role):
	 * csum_bad really wrong, csum_offloaded holding only the pseudo-header
	 * sum (captured on the sending host before the NIC filled it in),
	 * csum_checked how many could be verified at all. */
	uint32_t csum_bad[2], csum_offloaded[2], csum_checked[2];
};

/* One datagram: no handshake, no state, no acknowledgement (RFC 768). */
struct tl_datagram_event {
	const struct segment *seg;   /* addresses, ports, payload (seg->udp is true) */
	const char *protocol;        /* "udp" */
};

/* What the endpoint tcplab drives did and why (live roles only): its
 * congestion window and ssthresh with the reason, the peer's window going
 * to zero and opening, zero-window probes, fast and RTO retransmissions,
 * out-of-order data held, and an end-of-run line of its counters. */
struct tl_endpoint_event {
	enum tl_role endpoint;
	const char *what;          /* "cwnd", "zero-window", "window-update", "zero-window-probe",
				      "fast-retransmit", "rto", "own-window-update", "out-of-order",
				      "stats" */
	const char *text;          /* one sentence for the reader */
	uint32_t cwnd;             /* bytes, after the event */
	bool ssthresh_set;         /* false: still "arbitrarily high" (RFC 5681 §3.1) */
	uint32_t ssthresh;
	uint32_t peer_window;      /* the peer's advertised window, scaled, in bytes */
	bool seq_known;            /* seq/len name the segment concerned */
	uint32_t seq, len;
	uint64_t rto_ns;           /* the retransmission timeout after the event */
};

struct tl_event {
	enum tl_event_kind kind;
	unsigned conn;            /* connection number, from 1 */
	uint64_t t_ns;            /* time since the first segment of the run (capture time) */
	const struct tl_conn_begin *conn_info; /* valid for every event of the connection */
	union {
		struct tl_conn_begin begin;
		struct tl_segment_event segment;
		struct tl_state_event state;
		const char *note;
		struct tl_summary summary;
		struct tl_kernel_state_event kstate;
		struct tl_datagram_event datagram;
		struct tl_endpoint_event endpoint;
	} u;
};

const char *tl_outcome_name(enum tl_outcome o);   /* "closed", "open", "refused", ... */
const char *tl_role_name(enum tl_role r);         /* "client", "server" */

#endif
