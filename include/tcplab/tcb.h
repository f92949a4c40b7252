/*
 * tcb.h — the endpoint tcplab drives (connect's client, listen's servers):
 * the Transmission Control Block of RFC 9293 §3.3.1 and everything that
 * moves data through it.  Pure: no I/O, no clock, no globals.  Time is
 * passed in (monotonic ns); segments come out as values the caller sends
 * ("returns actions instead of sending", as masscan's stack does).
 *
 * What it owns:
 *   - the state machine's endpoint (tcp_fsm decides states; this module
 *     feeds it only what a real TCP would: in-order data, the FIN once every
 *     byte before it is in);
 *   - the send queue (bytes from SND.UNA to the end of what the user wrote,
 *     bounded by snd_buf) cut into segments of the effective MSS, PSH on the
 *     last segment of each write, the FIN after the last byte;
 *   - the receive buffer: rcv_buf bytes, the window advertised is exactly
 *     the free room in it (RFC 9293 §3.8.6.2); out-of-order data is held
 *     inside the window, answered with an immediate duplicate ACK (with SACK
 *     blocks, RFC 2018, when negotiated) and delivered in order;
 *   - RFC 5681 congestion control: initial window of RFC 6928 (or cfg.iw),
 *     slow start, congestion avoidance, ssthresh; fast retransmit on the
 *     third duplicate ACK and NewReno fast recovery (RFC 6582);
 *   - RFC 6298 retransmission timer: SRTT, RTTVAR, Karn's rule, RTT from
 *     timestamps (RFC 7323 §4) when negotiated, exponential back-off, at
 *     most cfg.retries retransmissions without progress;
 *   - persist timer (RFC 9293 §3.8.6.1): one-byte zero-window probes with
 *     back-off while the peer's window is zero;
 *   - what a reader should see happen: a small queue of tcb_events (cwnd and
 *     ssthresh with the reason, zero window, probes, window updates, fast
 *     and RTO retransmissions).
 *
 * Life of a connection, from the caller's side:
 *   tcb_init → (handshake: tcb_input for the peer's segments, tcb_sent for
 *   every segment sent, SYN/SYN-ACK built by the caller) → tcb_set_peer once
 *   the peer's SYN options are known → tcb_write / tcb_close as the user
 *   wishes → after every input, timer or write: while (tcb_output(...))
 *   send it and tcb_sent it → tcb_next_deadline for the caller's poll →
 *   tcb_on_timer when it passes → tcb_free.
 */
#ifndef TCPLAB_TCB_H
#define TCPLAB_TCB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcplab/segment.h"
#include "tcplab/tcp_fsm.h"

#define TCB_MAX_OOO 16       /* out-of-order blocks held at once */
#define TCB_MAX_WRITES 256   /* write boundaries remembered (for PSH) */
#define TCB_MAX_EVENTS 32    /* events queued before the oldest is dropped */
#define TCB_NO_SSTHRESH 0xffffffffu  /* "arbitrarily high" (RFC 5681 §3.1) */

struct tcb_config {
	uint32_t rcv_buf;        /* bytes buffered for received data = the window advertised
				    (0: 64240); at most 1 GiB */
	uint32_t snd_buf;        /* most bytes queued for sending, acked or not (0: 4 MiB) */
	uint16_t mss_cap;        /* route MTU - IP - TCP fixed headers, and --mss (0: 536) */
	uint32_t iw;             /* initial window in segments (0: RFC 6928's rule) */
	unsigned retries;        /* RTO retransmissions without progress before giving up */
	uint32_t ts_offset;      /* TSval = now in ms + ts_offset (the caller's clock) */
	uint64_t rto_min_ns;     /* lower bound of the RTO (0: 200 ms, as Linux) */
};

/* What tcb_output produced, and why. */
enum tcb_kind {
	TCB_SEG_DATA,            /* new data (and/or the FIN) */
	TCB_SEG_ACK,             /* a pure ACK (maybe a duplicate ACK with SACK blocks) */
	TCB_SEG_FAST_RETRANSMIT, /* RFC 5681 §3.2 / RFC 6582 partial ACK */
	TCB_SEG_RTO_RETRANSMIT,  /* go-back after the retransmission timer expired */
	TCB_SEG_PROBE,           /* zero-window probe, RFC 9293 §3.8.6.1 */
	TCB_SEG_WINDOW_UPDATE,   /* a pure ACK announcing that our window reopened */
};

struct tcb_segment {
	enum tcb_kind kind;
	uint32_t seq, ack;
	uint8_t flags;             /* TCP_FLAG_ACK always; PSH, FIN as due */
	const uint8_t *payload;    /* into the send queue: valid until the next call */
	uint32_t len;
	uint16_t window;           /* the header's field (scaled when negotiated) */
	bool ts;                   /* carry timestamps: ts_val, ts_ecr */
	uint32_t ts_val, ts_ecr;
	uint8_t sack_count;        /* SACK blocks (RFC 2018 §4: most recent first) */
	uint32_t sack[TCP_MAX_SACK_BLOCKS][2];
};

enum tcb_event_kind {
	TCB_EV_CWND,             /* cwnd or ssthresh changed; reason: the phase */
	TCB_EV_ZERO_WINDOW,      /* the peer advertised a zero window: sending stops */
	TCB_EV_WINDOW_UPDATE,    /* the peer's window opened again: sending resumes */
	TCB_EV_PROBE,            /* a zero-window probe was sent */
	TCB_EV_FAST_RETRANSMIT,  /* third duplicate ACK (or a partial ACK in recovery) */
	TCB_EV_RTO,              /* the retransmission timer expired */
	TCB_EV_OWN_WINDOW_UPDATE,/* our receive window reopened: window update sent */
	TCB_EV_OUT_OF_ORDER,     /* data beyond a hole was held: duplicate ACK sent */
};

struct tcb_event {
	enum tcb_event_kind kind;
	const char *reason;      /* static text: "slow start", "congestion avoidance", ... */
	uint32_t cwnd, ssthresh; /* after the change (ssthresh TCB_NO_SSTHRESH: not set yet) */
	uint32_t snd_wnd;        /* the peer's window (scaled) */
	uint32_t seq, len;       /* segment concerned (retransmissions, probe, out-of-order) */
	unsigned count;          /* dup ACKs, back-off, probe number */
	uint64_t rto_ns;         /* RTO after the event */
};

/* Counters for the end-of-run line. */
struct tcb_stats {
	uint32_t max_cwnd;             /* largest cwnd, fast recovery's inflation left out */
	uint64_t rtt_samples, rtt_min_ns, rtt_max_ns, rtt_sum_ns;
	uint32_t fast_retransmits, rto_retransmits, probes, rto_expiries;
	uint64_t zero_window_ns;       /* time the peer's window was zero */
	uint64_t bytes_acked, bytes_received;
};

struct tcb_block { uint32_t start, end; bool fin; uint32_t age; };

/* Everything below is the module's state: callers read, never write. */
struct tcb {
	struct tcp_endpoint fsm;    /* the state machine's view (states, FIN numbers) */
	struct tcb_config cfg;

	/* negotiated on the SYNs (tcb_set_peer) */
	bool ts_ok, sack_ok;
	uint8_t snd_wscale, rcv_wscale;
	uint32_t mss;               /* effective send MSS: payload bytes a segment carries */
	uint16_t peer_mss;          /* the peer's MSS option (536 when it sent none) */
	bool iw_reported;           /* the initial window event was queued (MSS fixed since) */
	uint32_t ts_recent;         /* last TSval from the peer (RFC 7323 §4.3) */
	bool open;                  /* synchronized: the data machinery runs */

	/* send sequence variables (RFC 9293 §3.3.1) */
	uint32_t iss, snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2;
	uint32_t snd_max;           /* highest sequence number sent + 1 (excluding probes) */
	uint32_t max_snd_wnd;
	/* send queue: bytes [sq_seq, sq_seq + sq_len) live at sq + sq_head */
	uint8_t *sq;
	uint32_t sq_cap, sq_head, sq_len, sq_seq;
	uint32_t wr_end[TCB_MAX_WRITES];  /* sequence numbers just after each write */
	unsigned wr_first, wr_count;
	uint32_t wr_last;           /* the last write end recorded */
	bool close_requested;       /* FIN after the last queued byte */
	bool fin_called;            /* tcp_fsm got the CLOSE call */

	/* receive sequence variables */
	uint32_t irs, rcv_nxt, rcv_adv;  /* rcv_adv: right edge last advertised */
	uint8_t *rq;                     /* ring of cfg.rcv_buf bytes: unread, then held OOO */
	uint32_t rq_head, rq_len;        /* in-order bytes not yet read */
	struct tcb_block ooo[TCB_MAX_OOO];
	unsigned nooo;
	uint32_t ooo_clock;
	bool ack_pending, ack_is_update;

	/* congestion control (RFC 5681, RFC 6582) */
	uint32_t cwnd, ssthresh;
	unsigned dupacks;
	bool in_recovery;
	bool recover_valid;
	uint32_t recover;          /* RFC 6582: highest sequence sent when recovery began */
	uint32_t rtx_next;         /* SACK recovery: holes below this were retransmitted */
	uint32_t pipe_extra;       /* bytes retransmitted in this recovery (counted in flight) */
	uint32_t flight_peak;      /* most bytes in flight in the current window (cwnd_limited) */
	uint32_t flight_peak_end;  /* SND.MAX when it was reached: an ACK past it starts anew */
	bool fast_rtx_due;
	const char *phase;           /* reason of the last cwnd change */
	uint32_t rep_cwnd, rep_ssthresh, rep_seq;
	const char *rep_phase;
	/* peer's SACK blocks from its last ACK (a simple scoreboard) */
	uint32_t peer_sack[TCP_MAX_SACK_BLOCKS][2];
	unsigned npeer_sack;

	/* RTT and timers (RFC 6298) */
	bool rtt_have, timing;
	bool karn_blocked;          /* retransmitted since the last timed sample: use TSecr */
	uint64_t srtt, rttvar, rto;
	uint32_t timed_seq;
	uint64_t timed_at;
	bool rto_armed;
	uint64_t rto_deadline;
	unsigned backoff;
	bool rto_go_back;           /* segments below snd_max are RTO retransmissions */
	bool persist_armed, probe_due;
	uint64_t persist_deadline;
	unsigned persist_backoff;
	bool zero_window;
	uint64_t zero_since;
	bool gave_up;

	struct tcb_event ev[TCB_MAX_EVENTS];
	unsigned ev_first, ev_count;
	struct tcb_stats st;
};

/* The result of tcb_input. */
struct tcb_input_result {
	struct tcp_transition tr;   /* what tcp_fsm did with the (in-order view of the) segment */
	uint32_t delivered;         /* bytes that became readable (tcb_peek) */
	bool out_of_order;          /* data held beyond a hole */
	bool acked_new;             /* SND.UNA advanced */
};

enum tcb_timer_result {
	TCB_TIMER_NONE,
	TCB_TIMER_RETRANSMIT,       /* RTO expired: tcb_output now yields the retransmission */
	TCB_TIMER_PROBE,            /* persist timer expired: tcb_output yields a probe */
	TCB_TIMER_GIVE_UP,          /* retries exhausted: the caller aborts (TCP_CALL_GIVE_UP) */
};

/* Sets t up in `initial` (TCP_CLOSED or TCP_LISTEN) with cfg.  Allocates
 * nothing (the queues are allocated when first used).  Always succeeds. */
void tcb_init(struct tcb *t, const struct tcb_config *cfg, enum tcp_state initial);

/* Frees the queues.  t may be reused with tcb_init. */
void tcb_free(struct tcb *t);

/*
 * Records what the SYNs negotiated: the peer's MSS option (0: none, RFC
 * 9293 §3.7.1's 536), timestamps, SACK-permitted, and window scaling (both
 * shifts; pass 0, 0 when not negotiated).  The effective MSS becomes
 * min(peer_mss, cfg.mss_cap) minus the timestamps option when in use.
 */
void tcb_set_peer(struct tcb *t, uint16_t peer_mss, bool ts_ok, bool sack_ok, uint8_t snd_wscale,
		  uint8_t rcv_wscale, uint32_t ts_recent);

/* Lowers (or raises) the MSS cap — the route's MTU less the headers, and
 * --mss — before any data has been sent (later: no effect), e.g. once the
 * route to a client is known.  The effective MSS is recomputed. */
void tcb_set_mss_cap(struct tcb *t, uint16_t cap);

/*
 * Feeds a segment the peer sent, at time now.  Before the connection is
 * synchronized, and for SYN and RST, it goes to tcp_fsm as is; after, the
 * machine sees only the in-order part (an out-of-order segment reaches it as
 * a pure ACK until the hole is filled).  Updates SND.UNA, the window, cwnd,
 * the RTT estimate, the receive buffer; queues an ACK when one is due.
 * Returns -1 when the receive buffer (allocated with the first data) cannot
 * be allocated, else 0.
 */
int tcb_input(struct tcb *t, const struct segment *seg, uint64_t now, struct tcb_input_result *res);

/*
 * Tells t about a segment the caller sent (SYN, SYN-ACK, handshake ACK, RST,
 * and every segment tcb_output produced): feeds tcp_fsm and clears a
 * pending ACK it carried.  Returns the machine's transition.
 */
struct tcp_transition tcb_sent(struct tcb *t, const struct segment *seg);

/*
 * Queues up to len bytes of user data; end_of_write true when they end one
 * write (its last segment gets PSH).  Returns how many bytes were taken
 * (less when the send queue is full: call again after ACKs).  -1 when the
 * queue cannot grow (out of memory) or after tcb_close.
 */
long tcb_write(struct tcb *t, const uint8_t *p, size_t len, bool end_of_write);

/* Free room in the send queue, in bytes. */
uint32_t tcb_send_space(const struct tcb *t);

/* The user closes: a FIN follows the last queued byte (RFC 9293 §3.10.4).
 * tcp_fsm gets the CLOSE call when the FIN is produced. */
void tcb_close(struct tcb *t);

/*
 * The next segment to send now, if any: retransmission, probe, new data
 * within min(cwnd, peer's window), the FIN, or a pending ACK.  Updates the
 * send variables and timers as if it were sent (the caller sends it, then
 * passes it to tcb_sent).  false when there is nothing to send.
 */
bool tcb_output(struct tcb *t, uint64_t now, struct tcb_segment *out);

/* Handles the RTO and persist timers at time now (see enum tcb_timer_result). */
enum tcb_timer_result tcb_on_timer(struct tcb *t, uint64_t now);

/* The earliest timer deadline, UINT64_MAX when none is armed. */
uint64_t tcb_next_deadline(const struct tcb *t);

/* The receive window to advertise, in bytes, and as the header's field. */
uint32_t tcb_rcv_window(const struct tcb *t);
uint16_t tcb_window_field(const struct tcb *t);

/* In-order received bytes not yet read: a pointer to the first contiguous
 * run and its length (0 when none). */
uint32_t tcb_peek(const struct tcb *t, const uint8_t **p);

/* Marks n read bytes consumed; the window grows (a window update is queued
 * when it reopens by enough, RFC 9293 §3.8.6.2.2). */
void tcb_consume(struct tcb *t, uint32_t n, uint64_t now);

/* Pops the oldest queued event into *ev; false when none. */
bool tcb_next_event(struct tcb *t, struct tcb_event *ev);

/* True when every queued byte (and the FIN if closed) is acknowledged. */
bool tcb_all_acked(const struct tcb *t);

/* Bytes queued and not yet acknowledged (in flight and unsent). */
uint32_t tcb_unacked(const struct tcb *t);

/* A short name for an event kind ("cwnd", "zero-window", "window-update",
 * "zero-window-probe", "fast-retransmit", "rto", "own-window-update",
 * "out-of-order"). */
const char *tcb_event_name(enum tcb_event_kind k);

#endif
