/*
 * kstates.h — the local kernel's socket states as a second source of
 * events beside the capture, and the check of tcplab's inference against
 * them (the test oracle).
 *
 * A live role (connect, listen) or watch opens it once, polls it in its
 * wait loop and closes it before its summaries:
 *
 *     ks = kstates_open(mode, flow);      (setup; before any thread starts)
 *     kstates_poll(ks);                   (wait loop, after each dispatch)
 *     kstates_close(ks);                  (before flow_table_finish)
 *
 * Events come from ktrace (the tracepoint sock:inet_sock_set_state, the one
 * module that talks to the kernel's tracing).  Each is converted from
 * CLOCK_MONOTONIC to the capture clock (CLOCK_REALTIME, which packet
 * timestamps use), held until the tracker has been fed a segment later than
 * it (flow_table_set_feed_hook), so it appears in the trace at its own
 * time, and emitted for the connection holding its 4-tuple.  Sockets on
 * other 4-tuples are ignored.
 *
 * kcheck_new wraps a renderer: before each connection's summary it says
 * whether the states tcplab inferred for each endpoint agree with the
 * kernel's, naming both where they do not.  One normalisation (documented in
 * README "Kernel states"): Linux hands a socket in TIME-WAIT — or an orphan
 * in FIN-WAIT-2 — to a timewait mini-socket, and the tracepoint reports
 * that as X → CLOSE; so a last kernel transition FIN-WAIT-2 → CLOSE or
 * CLOSING → CLOSE stands for X → TIME-WAIT when tcplab inferred that, or for
 * nothing when tcplab's endpoint stayed in X; and tcplab's own TIME-WAIT →
 * CLOSED (a timer, never reported by the mini-socket) is not compared.
 * Likewise an inferred LISTEN → SYN-RECEIVED → LISTEN (a half-open
 * connection reset, e.g. an old duplicate SYN refused by the client) is not
 * compared: Linux keeps it in a request socket the tracepoint never reports.
 */
#ifndef TCPLAB_KSTATES_H
#define TCPLAB_KSTATES_H

#include <stdbool.h>

#include "tcplab/flow.h"
#include "tcplab/render.h"
#include "tcplab/tcp_fsm.h"

enum kstates_mode {
	KSTATES_AUTO = 0,   /* on when the tracepoint can be read; silent when it cannot */
	KSTATES_ON,         /* --kernel-states: say why when it cannot be read */
	KSTATES_OFF,        /* --no-kernel-states */
};

struct kstates;

/*
 * Starts recording (mode permitting).  Returns NULL when off or when the
 * tracepoint cannot be read; then, in KSTATES_ON, one note (conn 0) says
 * why and the run goes on.  ft is not owned; the feed hook is set on it.
 */
struct kstates *kstates_open(enum kstates_mode mode, struct flow_table *ft);

/* Reads what the kernel recorded and emits the events that are due.
 * NULL-safe; never blocks. */
void kstates_poll(struct kstates *ks);

/* Reads the last events, emits every one that belongs to a connection (in
 * time order), removes the tracing instance and frees ks.  NULL-safe. */
void kstates_close(struct kstates *ks);

/* The RFC 9293 state of a kernel state number (TCP_NEW_SYN_RECV is the
 * request socket of SYN-RECEIVED).  False for numbers it does not know. */
bool kstates_rfc_state(int kstate, enum tcp_state *out);

/*
 * A renderer that forwards every event to inner and, before each
 * connection's summary, emits one note per endpoint the kernel reported:
 * "kernel states agree ..." or "kernel states disagree ...".  The first
 * kernel X → CLOSE that stands for a TIME-WAIT mini-socket also gets a
 * note explaining it, once per run.  Owns inner (destroy frees both).
 * NULL when out of memory.
 */
struct renderer *kcheck_new(struct renderer *inner);

/* Endpoints compared so far by a kcheck renderer, and how many agreed. */
void kcheck_counts(const struct renderer *r, unsigned *compared, unsigned *agreed);

#endif
