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
};

/* Human text: one line a segment, states under it, a summary block.
 * Returns NULL only when out of memory. */
struct renderer *render_text_new(FILE *out, const struct render_options *opt);

/* JSON Lines: one object per event; schema in README.md ("JSON output"). */
struct renderer *render_json_new(FILE *out, const struct render_options *opt);

/* Convenience wrappers (NULL-safe). */
void render_emit(struct renderer *r, const struct tl_event *ev);
void render_finish(struct renderer *r);
void render_destroy(struct renderer *r);

#endif
