/*
 * analysis.h — what the capture shows about each direction of a connection,
 * in the spirit of Wireshark's tcp.analysis flags: duplicate ACKs (with
 * their count), zero windows, zero-window probes, window updates,
 * out-of-order segments, keep-alives, and the cause of each retransmission
 * (fast retransmission after three duplicate ACKs, RTO, spurious); and the
 * per-side figures of the summary (goodput, data RTT samples, retransmissions
 * by cause, time at zero window, largest flight).
 *
 * Pure: no I/O, no clock; it allocates only for a connection that shows a
 * mark, a gap or a retransmission (struct analysis_rare), and degrades to
 * fewer marks if that fails.  The tracker (flow.c) keeps one
 * struct analysis per connection and feeds it every segment in capture
 * order, after tcp_fsm has said whether the segment repeats sequence space
 * its sender already sent.  Everything is judged at the capture point:
 * where the capture is taken (near the sender, near the receiver, in
 * between) changes what the wire can show, exactly as for Wireshark.
 *
 * Definitions (the unit tests hold the module to them; docs/json-schema.md
 * and the man page repeat them for users).  "S" sent the segment, "R" is
 * the other endpoint; S.nxt is the highest sequence number S has sent plus
 * one (Wireshark's "next expected sequence number"), S.ack and S.win the
 * ACK and window fields of S's previous segment, R.ack the highest ACK R
 * has sent.
 *  - zero-window:  win == 0, none of SYN, FIN, RST (as Wireshark).
 *  - window-update: no payload, win != 0 and win != S.win, seq == S.nxt,
 *                  ack == S.ack, none of SYN, FIN, RST (as Wireshark).
 *  - duplicate-ack: ACK set, no payload, win != 0 and win == S.win,
 *                  seq == S.nxt, ack == S.ack, none of SYN, FIN, RST (as
 *                  Wireshark); numbered from 1 since S.ack last changed.
 *                  S.win is only learned from segments without SYN (the
 *                  SYN's window is never scaled, RFC 7323 §2.2).
 *  - zero-window-probe: R's last window was zero and S sends either one
 *                  byte at S.nxt (or S.nxt - 1: the same probe again) —
 *                  Wireshark's definition — or no payload at S.nxt - 1,
 *                  which is how Linux probes (tcp_xmit_probe_skb), and
 *                  which Wireshark calls a keep-alive.
 *  - keep-alive:   zero or one byte at S.nxt - 1, none of SYN, FIN, RST,
 *                  while R's window is open (as Wireshark).
 *  - out-of-order: a segment that fills a gap the capture saw open in S's
 *                  sequence space (a later segment passed first), sooner
 *                  after the gap opened than S could have answered a
 *                  duplicate ACK: S's own reaction time at the capture
 *                  point, measured on the handshake (SYN-ACK → ACK for the
 *                  client, SYN → SYN-ACK for the server), 3 ms when not
 *                  known (Wireshark's default).  Not a retransmission.
 *  - retransmission causes (tcp_fsm says it repeats sequence space):
 *      fast-retransmission: it starts at R.ack and R has sent at least 3
 *                  duplicate ACKs of it (RFC 5681 §3.2) — counting here, as
 *                  RFC 6675 §2 and Linux do, an ACK that repeats R.ack with
 *                  no payload and carries SACK blocks even when its window
 *                  changed (Wireshark counts only unchanged windows) — or it
 *                  repeats space below the recovery point of a fast
 *                  retransmission whose recovery has not ended (R.ack has
 *                  not reached the point: NewReno, RFC 6582 §3.2);
 *      rto-retransmission: otherwise, when at least 200 ms passed since R
 *                  last acknowledged new data of S (or since S started
 *                  sending into an idle connection): no stack retransmits
 *                  on its timer sooner (Linux's TCP_RTO_MIN; RFC 6298 asks
 *                  1 s), and the same for the rest of that recovery;
 *      otherwise the cause is not named (early retransmit, RACK, tail loss
 *                  probe, a retransmission after fewer than 3 duplicate
 *                  ACKs): counted as "other".
 *      spurious-retransmission: in addition, when it carries payload that
 *                  R had already acknowledged at the capture point (as
 *                  Wireshark): the ACK was lost after the capture point,
 *                  or the retransmission was unnecessary.
 */
#ifndef TCPLAB_ANALYSIS_H
#define TCPLAB_ANALYSIS_H

#include <stdbool.h>
#include <stdint.h>

#include "tcplab/segment.h"

/* Marks on one segment (bits).  The JSON names (tl_mark_name) are stable. */
enum tl_mark {
	TL_MARK_DUP_ACK           = 1u << 0,  /* "duplicate-ack" */
	TL_MARK_ZERO_WINDOW       = 1u << 1,  /* "zero-window" */
	TL_MARK_ZERO_WINDOW_PROBE = 1u << 2,  /* "zero-window-probe" */
	TL_MARK_WINDOW_UPDATE     = 1u << 3,  /* "window-update" */
	TL_MARK_OUT_OF_ORDER      = 1u << 4,  /* "out-of-order" */
	TL_MARK_FAST_RETRANS      = 1u << 5,  /* "fast-retransmission" */
	TL_MARK_RTO_RETRANS       = 1u << 6,  /* "rto-retransmission" */
	TL_MARK_SPURIOUS          = 1u << 7,  /* "spurious-retransmission" */
	TL_MARK_KEEP_ALIVE        = 1u << 8,  /* "keep-alive" */
};
#define TL_MARK_COUNT 9

/* Per-side figures for the summary (the side that sent the data, the
 * duplicate ACKs, the zero windows, ...). */
struct tl_side_analysis {
	uint32_t retrans_rto, retrans_fast, retrans_other; /* retransmissions by cause */
	uint32_t retrans_spurious;   /* of those, spurious (already acknowledged) */
	uint32_t dup_acks;           /* duplicate ACKs this side sent */
	uint32_t zero_windows;       /* segments advertising a zero window */
	uint64_t zero_window_ns;     /* time its advertised window stayed zero */
	uint32_t zero_window_probes, window_updates, out_of_order, keep_alives;
	bool flight_known;
	uint32_t max_flight;         /* most bytes of its data in flight (sent, not yet acknowledged) */
	uint32_t rtt_samples;        /* its data → R's ACK at the capture point, Karn's rule */
	uint64_t rtt_min_ns, rtt_avg_ns, rtt_max_ns;
	bool goodput_known;
	uint64_t goodput_bps;        /* unique payload bits / s, first data to its acknowledgment */
};

/*
 * One direction: what its sender did and what it was told.  Maintained by
 * the module; callers only read it.  Every segment touches both directions'
 * struct analysis_dir, so it holds only what every segment needs (one cache
 * line each, next to the tracker's own per-segment fields); what a flight
 * needs once is in struct analysis_flight, and what only loss, gaps, probes
 * and zero windows need is in struct analysis_rare, allocated the first time
 * one shows.
 */
struct analysis_dir {
	bool seq_known : 1, ack_known : 1, win_known : 1, max_ack_known : 1;
	bool data_seen : 1, data_acked : 1;
	bool zero_win : 1;           /* its last advertised window was zero */
	bool timing : 1;             /* an RTT sample is running */
	bool hole : 1;               /* a gap in its sequence space is open */
	bool probing : 1;            /* it sent a zero-window probe: its byte is at nxt, not below */
	uint8_t recovery;            /* 0 none, 1 fast, 2 RTO */
	uint16_t win;                /* its last window field (not from a SYN) */
	uint16_t loss_dup;           /* duplicate ACKs for fast retransmit (dup, or SACK: RFC 6675) */
	uint32_t nxt;                /* highest sequence number it sent + 1 */
	uint32_t ack;                /* its last ACK field */
	uint32_t max_ack;            /* the highest ACK it sent */
	uint32_t dup;                /* duplicate ACKs of ack so far */
	uint32_t timed_end;          /* the running RTT sample ends when R acknowledges this */
	uint32_t data_end;           /* end of its highest payload byte */
	uint32_t max_flight;         /* most bytes in flight */
	uint64_t timed_ns, progress_ns;
};

/* Per direction, touched about once a flight: RTT samples, goodput times. */
struct analysis_flight {
	uint32_t rtt_n, rtt_min, rtt_max; /* RTT samples, ns (a sample above 4.29 s counts as that) */
	uint32_t ooo_window;         /* ns, see analysis_set_ooo_window; 0: 3 ms */
	uint64_t rtt_sum;
	uint64_t data_first_ns, data_acked_ns;
};

/* Counters of marks, by the side that sent the marked segments. */
struct analysis_counts {
	uint32_t retrans_rto, retrans_fast, retrans_other, retrans_spurious;
	uint32_t dup_acks, zero_windows, zero_window_probes, window_updates, out_of_order, keep_alives;
	uint64_t zero_window_ns;
};

/* What only loss, gaps, probes and zero windows touch, both sides. */
struct analysis_rare {
	struct {
		uint32_t recover;    /* recovery point (its nxt when recovery began) */
		uint32_t hole_lo, hole_hi;
		uint64_t hole_ns, zero_since_ns;
		struct analysis_counts n;
	} s[2];
};

struct analysis {
	struct analysis_dir d[2];    /* indexed by sender (enum tl_role) */
	struct analysis_flight f[2];
	struct analysis_rare *rare;  /* NULL until a mark, a gap or a retransmission shows */
	bool not_retransmission;     /* the last segment fed is not one, whatever tcp_fsm said */
	uint8_t probe_byte_taken;    /* 1: the last segment showed a probe's byte was accepted */
};

/* Empties a (no segment seen).  A zeroed struct analysis is the same. */
void analysis_init(struct analysis *a);

/* Frees what a holds (the rare part; its counters read as zero after).
 * Call analysis_init before feeding it again.  NULL-safe. */
void analysis_release(struct analysis *a);

/*
 * Sets how soon after a gap opened in side's sequence space a segment
 * filling it counts as out of order (see the definitions above): side's
 * reaction time at the capture point, once the tracker has measured it.
 * Until then (or with 0) it is 3 ms.
 */
void analysis_set_ooo_window(struct analysis *a, int side, uint64_t ns);

/*
 * Feeds one segment sent by side `from` (0 or 1) in capture order.
 * `retransmission` is tcp_fsm's verdict (the segment repeats sequence space
 * its sender already sent).  Returns the marks (enum tl_mark bits);
 * *dup_ack gets the duplicate ACK's number (0 when not one).  A segment
 * marked out-of-order is not a retransmission, whatever tcp_fsm said; nor
 * is a zero-window probe, nor data that starts at a probe's byte: a probe
 * does not move S.nxt (the receiver may drop its byte, and the data after
 * the window update starts with it again), as in Wireshark.  In those cases
 * a->not_retransmission is true after the call (false otherwise).  A
 * probe's byte counts as the sender's data once: with the data that starts
 * with it, or, when the receiver took it, when that shows
 * (a->probe_byte_taken is 1 after that call).
 */
unsigned analysis_segment(struct analysis *a, int from, const struct segment *seg,
			  bool retransmission, uint32_t *dup_ack);

/*
 * Fills *out with side's figures as of capture time end_ns, the
 * connection's last segment (a zero window still open counts until then;
 * data never acknowledged in the capture counts as delivered then).
 * `bytes` is the side's unique payload bytes, which the tracker counts.
 */
void analysis_side(const struct analysis *a, int side, uint64_t end_ns, uint64_t bytes,
		   struct tl_side_analysis *out);

/* The stable JSON name of one mark bit ("duplicate-ack", ...); NULL for
 * anything else. */
const char *tl_mark_name(unsigned bit);

/* The short text of one mark bit for the text trace ("dup ACK",
 * "zero window", ...); NULL for anything else. */
const char *tl_mark_text(unsigned bit);

#endif
