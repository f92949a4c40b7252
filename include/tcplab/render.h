/*
 * render.h — output formats.  A renderer consumes tl_events and writes them
 * to a FILE.  Adding a format = one new render_*.c with a constructor here.
 */
#ifndef TCPLAB_RENDER_H
#define TCPLAB_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "tcplab/event.h"

struct render_options {
	bool absolute_only;   /* -S: hide relative numbers */
	bool summary_only;    /* only TL_EV_SUMMARY (and the connection line it needs) */
	bool show_conn;       /* tag every line with the connection number */
	bool color;           /* ANSI colours (text on a terminal) */
	bool verbose;         /* -v: text shows every segment (no collapsed flights) */
	/* ladder and SVG (issue 11) */
	bool ascii;           /* --ascii: no box drawing, arrows or marks outside ASCII */
	unsigned width;       /* --width N: columns of the ladder (0: 100) */
	bool even;            /* --even: SVG rows evenly spaced, not by time */
	bool monochrome;      /* --color=never: the SVG in black and grey */
	bool explain;         /* --explain: what each segment is, why, which rule (explain.h) */
	bool header;          /* --header/-x: the TCP header field by field (header_view.h) */
	bool hex;             /* --hex: with the header, its bytes */
};

struct renderer {
	void (*emit)(struct renderer *r, const struct tl_event *ev);
	void (*finish)(struct renderer *r);   /* flush; does not close out */
	void (*destroy)(struct renderer *r);
	FILE *out;
	struct render_options opt;
	void *priv;
	void (*idle)(struct renderer *r);     /* optional: the input paused (see render_idle) */
	void (*flush)(struct renderer *r);    /* optional: see render_flush */
};

/* Human text: one line a segment, states under it, a summary block.
 * Returns NULL only when out of memory. */
struct renderer *render_text_new(FILE *out, const struct render_options *opt);

/* JSON Lines: one object per event; schema in README.md ("JSON output"). */
struct renderer *render_json_new(FILE *out, const struct render_options *opt);

/*
 * Text ladder: the endpoints' time lines side by side, one arrow a segment,
 * each side's states beside its line (render_ladder.c).  Summaries are
 * printed as the text renderer prints them.  Returns NULL when out of
 * memory or when out is NULL.
 */
struct renderer *render_ladder_new(FILE *out, const struct render_options *opt);

#define RENDER_SVG_ERRBUF_SIZE 320
#define RENDER_SVG_MAX_FILES 1000   /* diagrams one run writes at most */

/*
 * SVG sequence diagram per connection, written to path when the
 * connection's summary arrives (or at finish).  Several connections:
 * path gets "-N" before its ".svg" (out.svg → out-1.svg, out-2.svg, ...;
 * the first diagram is renamed when the second appears).  Each file is
 * given to the sudo user (privilege_give_to_invoker).  Returns NULL with
 * errbuf set when path is empty or memory runs out; write errors are
 * reported on stderr when they happen and by render_svg_failed.
 */
struct renderer *render_svg_new(const char *path, const struct render_options *opt,
				char errbuf[RENDER_SVG_ERRBUF_SIZE]);

/* True when an SVG renderer could not write a file (the run's exit code
 * should say so); false for any other renderer or NULL. */
bool render_svg_failed(const struct renderer *r);

/*
 * Both a and b get every event, a first (a terminal trace and an SVG file
 * at once).  Owns both: destroy destroys them.  NULL when out of memory
 * (a and b are then left to the caller).
 */
struct renderer *render_tee_new(struct renderer *a, struct renderer *b);

/* Shows whatever r holds back (the ladder keeps a segment's row until its
 * state changes have arrived); NULL-safe, harmless for any renderer.
 * Called before waiting for a person (step mode) or for the network. */
void render_flush(struct renderer *r);

/* Convenience wrappers (NULL-safe). */
void render_emit(struct renderer *r, const struct tl_event *ev);
void render_finish(struct renderer *r);
void render_destroy(struct renderer *r);

/* A live source saw no packet for a while (watch: its 250 ms poll timed
 * out): prints what a renderer holds back waiting for more (the text
 * renderer's collapsed flight), so a paused transfer is on screen.
 * NULL-safe; renderers without an idle callback hold nothing. */
void render_idle(struct renderer *r);

#endif
