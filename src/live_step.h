/*
 * live_step.h — --step for the live roles (connect, listen): before each
 * segment tcplab sends, say what comes next and wait for Enter; q ends the
 * run cleanly.  Internal to src/ (the terminal dialogue itself is step.h's
 * step_before_send).
 *
 * Why it is built this way.  The sessions react to the peer inside the
 * capture callback, and libpcap's dispatch is not re-entrant: a gate that
 * waited for Enter inside that callback could not read the capture while
 * it waits.  So with --step the session hands its packets over:
 *   - capture (live_step_capture, the callback live_wait uses in step
 *     mode) copies each packet and has the session TRACE it at once
 *     (ops.trace: decoded, tracked, printed; the session's own segments
 *     counted) — never react;
 *   - after the dispatch returned, live_wait calls live_step_react, which
 *     gives the copies, in capture order, to the session's REACTION
 *     (ops.react: the state machine, the tcb, sending);
 *   - every send in live.c (live_send, live_send_async, live_pump) passes
 *     live_step_gate first.  The gate has the session show what it holds
 *     back (ops.flush), waits until tcplab's own last segment is back on
 *     the capture (so N Enters show N segments), prompts, and while the
 *     teacher decides keeps reading the capture (trace only: what arrives
 *     is reacted to after the answer).  A peer that retransmits meanwhile
 *     is shown as it happens; the prompt says that this is the lesson.
 * q (or end of input, or a signal) quits: the announced segment is not
 * sent, no other segment except an RST is sent afterwards, live_wait
 * returns -1 so the session's loop ends, and the session aborts with RST
 * (live_step_quit tells it) and prints its summaries.  The RST carries the
 * sequence number of the segment that was not sent: what the peer expects
 * next, the only one an RST is accepted at (RFC 5961 §3.2; RFC 9293
 * §3.10.7.4).
 */
#ifndef TCPLAB_LIVE_STEP_H
#define TCPLAB_LIVE_STEP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "live.h"

struct live_step_ops {
	/* Traces pkt now (decode, track, print; counts tcplab's own segments
	 * in lv->captured_own); no reaction.  Returns true when pkt is the
	 * peer's (a segment the session will react to). */
	bool (*trace)(void *user, const struct capture_packet *pkt);
	/* Reacts to pkt (already traced): state machine, tcb, sending. */
	void (*react)(void *user, const struct capture_packet *pkt);
	/* Traces what the session holds back (queued sender events); may be NULL. */
	void (*flush)(void *user);
	/* tcplab waited ns at a prompt: the session moves its --timeout idle
	 * deadlines on (the time a class spends reading is not the peer's
	 * silence); may be NULL.  The RTO and persist timers are not moved. */
	void (*paused)(void *user, uint64_t ns);
	void *user;
};

/* Turns step mode on for lv (after live_open): who names the endpoint
 * tcplab drives ("client", "server"), in_fd is where the answers are read
 * (standard input, a terminal), prompt where the prompt goes (stderr).
 * 0 ok, -1 out of memory. */
int live_step_attach(struct live *lv, const struct live_step_ops *ops, const char *who, int in_fd,
		     FILE *prompt);

/* Frees the step state and the packets not reacted to (live_close calls it). */
void live_step_detach(struct live *lv);

/* The capture callback of live_wait in step mode (user: the struct live). */
void live_step_capture(void *user, const struct capture_packet *pkt);

/* Gives the packets captured so far to ops.react, in order; not after q.
 * Called by live_wait after its dispatch (never from a capture callback). */
void live_step_react(struct live *lv);

/*
 * The gate, just before c sends cs.  why: what made the segment (NULL: the
 * flags say it; "fast retransmission", "RTO retransmission", "zero-window
 * probe", ...).  true: send it.  false: do not send it (q was answered now
 * or earlier; an RST after q is let through).  Without step mode: true.
 */
bool live_step_gate(struct live *lv, struct live_conn *c, const struct craft_segment *cs, const char *why);

/* True once q was answered (or input ended, or a signal came while waiting). */
bool live_step_quit(const struct live *lv);

/* After q: the sequence number c's RST must carry (*seq) when c had a
 * segment held at the gate; false otherwise. */
bool live_step_rst_seq(const struct live *lv, const struct live_conn *c, uint32_t *seq);

#endif
