/*
 * render_tee.c — one event stream to two renderers (render.h): a trace on
 * the terminal and an SVG file from the same run.
 */
#include "tcplab/render.h"

#include <stdlib.h>

struct tee_priv {
	struct renderer *a, *b;
};

static void tee_emit(struct renderer *r, const struct tl_event *ev)
{
	struct tee_priv *t = r->priv;

	render_emit(t->a, ev);
	render_emit(t->b, ev);
}

static void tee_finish(struct renderer *r)
{
	struct tee_priv *t = r->priv;

	render_finish(t->a);
	render_finish(t->b);
}

static void tee_flush(struct renderer *r)
{
	struct tee_priv *t = r->priv;

	render_flush(t->a);
	render_flush(t->b);
}

/* The input paused: both may print what they hold (the text's flight). */
static void tee_idle(struct renderer *r)
{
	struct tee_priv *t = r->priv;

	render_idle(t->a);
	render_idle(t->b);
}

static void tee_destroy(struct renderer *r)
{
	struct tee_priv *t = r->priv;

	render_destroy(t->a);
	render_destroy(t->b);
	free(t);
	free(r);
}

struct renderer *render_tee_new(struct renderer *a, struct renderer *b)
{
	struct renderer *r = calloc(1, sizeof(*r));
	struct tee_priv *t = calloc(1, sizeof(*t));

	if (r == NULL || t == NULL) {
		free(r);
		free(t);
		return NULL;
	}
	t->a = a;
	t->b = b;
	r->emit = tee_emit;
	r->finish = tee_finish;
	r->flush = tee_flush;
	r->idle = tee_idle;
	r->destroy = tee_destroy;
	r->out = a != NULL ? a->out : NULL;
	if (a != NULL)
		r->opt = a->opt;
	r->priv = t;
	return r;
}
