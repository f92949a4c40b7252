/*
 * flow.h — the tracker: a flow table keyed by the 4-tuple, one connection per
 * entry, the RFC 9293 state of both endpoints kept by tcp_fsm, sequence
 * numbers made relative, retransmissions marked, and a tl_event stream sent
 * to a renderer.  Every segment also goes through analysis.h (duplicate
 * ACKs, zero windows, retransmission causes, ...): its marks ride on the
 * segment event, its per-side figures on the summary.
 *
 * Every source (live session, pcap file, live watch) feeds segments here in
 * capture order; that is what makes their traces identical.  Memory is
 * proportional to the connections open at once: an entry is freed as soon
 * as its connection ends (both sides CLOSED or TIME-WAIT, or reset, or
 * refused), and a new SYN on the same 4-tuple after that starts a new
 * connection.
 */
#ifndef TCPLAB_FLOW_H
#define TCPLAB_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcplab/event.h"
#include "tcplab/render.h"
#include "tcplab/segment.h"

#define FLOW_ERRBUF_SIZE 160

struct flow_table;

struct flow_options {
	unsigned only_conn;      /* -c N: emit events of connection N only (0 = all) */
	bool summary_only;       /* emit TL_EV_SUMMARY events only (cheap path) */
	uint64_t idle_timeout_ns;/* forget a connection idle this long (0 = never); its summary says "open" */
	bool summary_at_finish;  /* live roles: hold every summary until flow_table_finish */
};

struct flow_stats {
	uint64_t segments;       /* segments fed */
	uint64_t connections;    /* connections seen */
	uint64_t open_now;       /* entries in the table now */
	uint64_t peak_open;      /* most entries at once */
};

/* Creates an empty table that emits to r (not owned).  NULL on failure with
 * errbuf set. */
struct flow_table *flow_table_new(struct renderer *r, const struct flow_options *opt,
				  char errbuf[FLOW_ERRBUF_SIZE]);

/* Feeds one decoded segment (capture order).  Returns the connection number
 * the segment was assigned to (>= 1). */
unsigned flow_table_feed(struct flow_table *ft, const struct segment *seg);

/*
 * Feeds n segments in capture order: the same events as n calls of
 * flow_table_feed, but each connection entry is looked up and fetched into
 * the cache a few segments before it is needed.  In a large
 * capture, where thousands of connections interleave, waiting for those
 * entries is most of the work.  The segments' payload pointers may be NULL
 * (summary-only tables never show payload).
 */
void flow_table_feed_batch(struct flow_table *ft, const struct segment *segs, size_t n);

/*
 * Applies a user call or timer to one endpoint of the connection holding the
 * 4-tuple (either orientation), at capture-clock time ts_ns, and emits the
 * state change with `reason` (NULL: the machine's own).  Used by live roles
 * for what the wire cannot show (TIME-WAIT expiry, giving up).  Returns 0, or
 * -1 when no such connection is open.
 */
int flow_table_call(struct flow_table *ft, const struct segment *tuple, enum tl_role who,
		    enum tcp_call call, uint64_t ts_ns, const char *reason);

/* Emits a TL_EV_NOTE for the connection holding tuple (conn 0 when none). */
void flow_table_note(struct flow_table *ft, const struct segment *tuple, uint64_t ts_ns,
		     const char *text);

/* Emits a TL_EV_ENDPOINT for the connection holding tuple (conn 0 when
 * none): what the driven endpoint's sender did (live roles). */
void flow_table_endpoint(struct flow_table *ft, const struct segment *tuple, uint64_t ts_ns,
			 const struct tl_endpoint_event *e);

/* Input ended: emits a summary for every connection still in the table, in
 * order of their first segment, and empties the table. */
void flow_table_finish(struct flow_table *ft);

/*
 * Emits one TL_EV_DATAGRAM event (conn 0) for a decoded UDP datagram
 * (dgram->udp true), timed on the run's clock like every other event
 * (the first packet of the run, TCP or not, is time 0).  The flow table
 * keeps no state for it.  Contract: dgram valid during the call only;
 * nothing is emitted for a segment whose udp flag is false.
 */
void flow_table_datagram(struct flow_table *ft, const struct segment *dgram);

/* How flow_table_feed_as feeds a segment (bits). */
enum flow_feed_how {
	/* Lost on purpose (--lose): the sender built it and did not put it on
	 * the wire.  Its sender's machine is fed it as sent; the receiver's is
	 * not fed at all; the segment event has lost = true. */
	FLOW_FEED_LOST = 1 << 0,
	/* An old duplicate (--old-syn): a segment of an earlier incarnation of
	 * the connection, delivered late.  The receiver's machine is fed it as
	 * usual; the sender's is not (its endpoint never sent it). */
	FLOW_FEED_STALE = 1 << 1,
};

/*
 * flow_table_feed with `how` (enum flow_feed_how bits) and, when not NULL,
 * the annotation its segment event carries (static text, translated by the
 * renderers' catalog).  how 0 and annotation NULL: exactly flow_table_feed.
 * A lost segment's ts_ns is when it would have left (the caller's clock).
 */
unsigned flow_table_feed_as(struct flow_table *ft, const struct segment *seg, unsigned how,
			    const char *annotation);

/* Counters. */
void flow_table_stats(const struct flow_table *ft, struct flow_stats *out);

/* Frees the table (without emitting anything). */
void flow_table_free(struct flow_table *ft);

/* Calls hook(user, seg, ts) before each segment (of capture time ts) is
 * applied — its connection exists by then — and before each
 * flow_table_call (seg NULL), so a second source of events (kernel states)
 * can emit what happened before it, in time order.  NULL removes it. */
void flow_table_set_feed_hook(struct flow_table *ft,
			      void (*hook)(void *user, const struct segment *seg, uint64_t ts_ns), void *user);

/*
 * Emits a TL_EV_KERNEL_STATE for the socket whose local end is tuple's
 * source (tuple->src:sport) and whose peer is tuple's destination, at
 * capture-clock time ts_ns.  The endpoint is the connection's client when
 * the socket's local end is the client's address and port.  Returns 0, or
 * -1 when no connection holds the 4-tuple (the caller may retry later).
 */
int flow_table_kernel_state(struct flow_table *ft, const struct segment *tuple, enum tcp_state from,
			    enum tcp_state to, const char *kernel_from, const char *kernel_to, uint64_t ts_ns);

#endif
