/*
 * step.h — classroom step mode (--step): before each segment, say what
 * comes next and wait for the teacher's Enter; `q` ends the run cleanly.
 *
 * Two entry points, one terminal dialogue:
 *  - replay: step_renderer_new wraps the run's renderer.  Before it passes
 *    a segment on, it shows everything held so far (render_flush), prints
 *    "next: ..." on the prompt stream and reads a line.  Enter shows the
 *    segment; q (or end of input, or a signal) stops: from then on only
 *    summaries pass, and step_quit_requested() tells the source to stop
 *    reading, so the run ends with the summaries.  (The segment announced
 *    when q is answered has been tracked already: the summaries count it.)
 *  - live (connect, listen): step_before_send, called by the send path
 *    just before tcplab puts a segment on the wire.  While it waits, a
 *    pump callback keeps receiving and showing the peer's segments (a
 *    retransmitted SYN-ACK one second later is the lesson, and the prompt
 *    says so).  The caller sends on STEP_CONTINUE and aborts cleanly (RST,
 *    rules removed) on STEP_QUIT.  Wired in src/live_step.c: every send of
 *    live.c passes its gate, which calls this; the sessions react to the
 *    peer after the capture dispatch (never inside it), and the pump only
 *    traces the peer's segments and holds them for the reaction, so it
 *    never re-enters this gate.
 * The prompt line is erased once answered when the prompt stream is a
 * terminal, so the trace reads as without --step.  Reading is line-based
 * on the input file descriptor (the terminal in canonical mode).
 */
#ifndef TCPLAB_STEP_H
#define TCPLAB_STEP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "tcplab/render.h"

enum step_verdict {
	STEP_CONTINUE,
	STEP_QUIT,
};

/*
 * Wraps inner (owned: destroyed with the wrapper) for replay.  in is
 * where answers are read (stdin), prompt where the prompt goes (stderr).
 * NULL when out of memory (inner is then left to the caller).
 */
struct renderer *step_renderer_new(struct renderer *inner, FILE *in, FILE *prompt);

/* True once someone answered q (or input ended) in this process. */
bool step_quit_requested(void);

/*
 * Waits for more segments while the person decides: waits up to deadline
 * (CLOCK_MONOTONIC ns) for the peer's segments and hands them to the
 * tracker (so they are shown).  Returns the number of segments shown
 * (0 when none arrived), or -1 on a signal or failure.
 */
typedef int (*step_pump_fn)(void *user, uint64_t deadline);

/* What tcplab is about to send, for the prompt. */
struct step_next {
	const char *who;           /* "client" or "server": the endpoint tcplab drives */
	const char *what;          /* "SYN seq=0", "ACK seq=1 ack=1", ... */
};

/*
 * Live step: flushes r (may be NULL), prints "next: tcplab (WHO) sends
 * WHAT" on prompt and waits for a line on fd in_fd, calling pump every
 * 100 ms meanwhile (pump may be NULL).  When pump showed segments, the
 * prompt is printed again under them with "(the peer did not wait: its
 * timers run while we do)".  A pump that prints erases the prompt line
 * first when prompt is a terminal ("\r\033[K"); otherwise the prompt is
 * printed again on a new line.  STEP_QUIT on q, end of input, a signal or a
 * pump failure; STEP_CONTINUE on any other line.
 */
enum step_verdict step_before_send(struct renderer *r, const struct step_next *next, int in_fd,
				   FILE *prompt, step_pump_fn pump, void *user);

#endif
