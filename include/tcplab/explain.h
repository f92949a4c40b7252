/*
 * explain.h — `--explain`: what each segment is in the exchange, why the
 * states changed, and the rule behind it, in the textbook's terms (first,
 * second, third handshake; first to fourth wave), saying plainly when the
 * wire departs from the textbook picture.
 *
 * The explainer classifies a segment event into a stable step code
 * ("handshake-2", "wave-2+3", "dup-ack", ...) and fetches the sentences for
 * that code from the message catalog (catalog.h: codes "explain.STEP.what",
 * ".why", ".rule"), in the catalog's current language.  No sentence is
 * written in C: renderers (text, JSON, ladder, SVG) call explain_segment()
 * and print the lines they get.
 *
 * A step that recurs in a connection (data, ACKs, retransmissions) is
 * explained in full the first time only; later its "what" line alone.
 *
 * It follows connections by the events it is fed (every event, in order),
 * keeping a few bytes per connection number; memory is released by the
 * connection's summary event.
 */
#ifndef TCPLAB_EXPLAIN_H
#define TCPLAB_EXPLAIN_H

#include <stddef.h>

#include "tcplab/event.h"

#define EXPLAIN_MAX_LINES 3
#define EXPLAIN_LINE_SIZE 512

struct explainer;

/* A new explainer; NULL when out of memory. */
struct explainer *explainer_new(void);

/* Frees x (NULL-safe). */
void explainer_free(struct explainer *x);

/* The explanation of one segment event. */
struct explanation {
	const char *step;                               /* stable step code (JSON "step") */
	unsigned nlines;                                /* 0 to EXPLAIN_MAX_LINES */
	char lines[EXPLAIN_MAX_LINES][EXPLAIN_LINE_SIZE]; /* UTF-8, no newline */
};

/*
 * Feeds ev to x.  For a TL_EV_SEGMENT, fills *out with its explanation and
 * returns out->nlines; for any other event (which x only records), returns
 * 0 with out->nlines = 0 (out may be NULL then).  Call it exactly once per
 * event, segments included, in the order the events are emitted.
 */
unsigned explain_event(struct explainer *x, const struct tl_event *ev, struct explanation *out);

/* Convenience for renderers that only see segments: same as explain_event. */
unsigned explain_segment(struct explainer *x, const struct tl_event *ev, struct explanation *out);

#endif
