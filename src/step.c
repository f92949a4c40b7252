/*
 * step.c — classroom step mode (step.h).
 */
#include "tcplab/step.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tcplab/seglabel.h"

#define STEP_SLICE_NS 100000000ull   /* pump slices while waiting: 100 ms */

/* Set once, read by the replay loop: a process-wide stop, like the
 * signal flag the loops already check. */
static volatile bool quit_flag;

bool step_quit_requested(void)
{
	return quit_flag;
}

struct step_priv {
	struct renderer *inner;
	FILE *in, *prompt;
	bool erase;      /* the prompt stream is a terminal: erase answered prompts */
	unsigned shown;  /* segments prompted for */
	uint64_t last_t; /* time of the last one: the prompt says how long after it the next came */
};

/* Erases the prompt line and the echoed answer (cursor up, clear line). */
static void erase_prompt(FILE *prompt, bool erase)
{
	if (erase)
		fputs("\033[A\r\033[K", prompt);
	fflush(prompt);
}

/*
 * Reads one answer line from fd (unbuffered, so nothing is read ahead of
 * the line).  Returns 1 for "go on", 0 for q / end of input / error.
 */
static int read_answer(int fd)
{
	char c, first = 0;
	bool any = false;

	for (;;) {
		ssize_t n = read(fd, &c, 1);

		if (n < 0 && errno == EINTR)
			return 0;         /* a signal: stop, as Ctrl-C means */
		if (n <= 0)
			return 0;
		if (c == '\n')
			break;
		if (!any && c != ' ' && c != '\t') {
			first = c;
			any = true;
		}
	}
	return first == 'q' || first == 'Q' ? 0 : 1;
}

static void step_emit(struct renderer *r, const struct tl_event *ev)
{
	struct step_priv *sp = r->priv;

	if (quit_flag) {
		/* after q: the summaries of what was shown, nothing more */
		if (ev->kind == TL_EV_SUMMARY)
			render_emit(sp->inner, ev);
		return;
	}
	if (ev->kind == TL_EV_SEGMENT && ev->u.segment.seg != NULL) {
		char label[SEGLABEL_SIZE];

		render_flush(sp->inner);
		render_idle(sp->inner);   /* a held flight too: each Enter shows its segment */
		fflush(NULL);
		seglabel_segment(&ev->u.segment, sp->inner->opt.absolute_only, 70, label, sizeof(label));
		fprintf(sp->prompt, "next: conn %u, %s → %s: %s%s", ev->conn,
			tl_role_name(ev->u.segment.from), tl_role_name((enum tl_role)!ev->u.segment.from), label,
			ev->u.segment.retransmission ? " (retransmission)" : "");
		if (sp->shown > 0 && ev->t_ns >= sp->last_t)
			fprintf(sp->prompt, ", %.6f s later", (double)(ev->t_ns - sp->last_t) / 1e9);
		fputs(" — Enter shows it, q ends ", sp->prompt);
		sp->last_t = ev->t_ns;
		sp->shown++;
		fflush(sp->prompt);
		if (!read_answer(fileno(sp->in))) {
			quit_flag = true;
			fputc('\n', sp->prompt);
			erase_prompt(sp->prompt, sp->erase);
			return;
		}
		erase_prompt(sp->prompt, sp->erase);
	}
	render_emit(sp->inner, ev);
}

static void step_finish(struct renderer *r)
{
	struct step_priv *sp = r->priv;

	render_finish(sp->inner);
}

static void step_flush(struct renderer *r)
{
	struct step_priv *sp = r->priv;

	render_flush(sp->inner);
}

static void step_idle(struct renderer *r)
{
	struct step_priv *sp = r->priv;

	render_idle(sp->inner);
}

static void step_destroy(struct renderer *r)
{
	struct step_priv *sp = r->priv;

	render_destroy(sp->inner);
	free(sp);
	free(r);
}

struct renderer *step_renderer_new(struct renderer *inner, FILE *in, FILE *prompt)
{
	struct renderer *r = calloc(1, sizeof(*r));
	struct step_priv *sp = calloc(1, sizeof(*sp));

	if (r == NULL || sp == NULL || inner == NULL || in == NULL || prompt == NULL) {
		free(r);
		free(sp);
		return NULL;
	}
	sp->inner = inner;
	sp->in = in;
	sp->prompt = prompt;
	sp->erase = isatty(fileno(prompt)) == 1;
	r->emit = step_emit;
	r->finish = step_finish;
	r->flush = step_flush;
	r->idle = step_idle;
	r->destroy = step_destroy;
	r->out = inner->out;
	r->opt = inner->opt;
	r->priv = sp;
	return r;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

enum step_verdict step_before_send(struct renderer *r, const struct step_next *next, int in_fd,
				   FILE *prompt, step_pump_fn pump, void *user)
{
	bool erase = isatty(fileno(prompt)) == 1;
	const char *who = next != NULL && next->who != NULL ? next->who : "tcplab";
	const char *what = next != NULL && next->what != NULL ? next->what : "a segment";

	if (quit_flag)
		return STEP_QUIT;
	render_flush(r);
	render_idle(r);
	fflush(NULL);
	fprintf(prompt, "next: tcplab (%s) sends %s — Enter sends it, q ends ", who, what);
	fflush(prompt);
	for (;;) {
		struct pollfd pfd = { .fd = in_fd, .events = POLLIN };
		int ready = poll(&pfd, 1, pump != NULL ? 0 : -1);

		if (ready < 0 && errno != EINTR)
			break;
		if (ready < 0) {
			quit_flag = true;   /* a signal while waiting: stop */
			break;
		}
		if (ready > 0) {
			if (!read_answer(in_fd)) {
				quit_flag = true;
				fputc('\n', prompt);
			}
			erase_prompt(prompt, erase);
			return quit_flag ? STEP_QUIT : STEP_CONTINUE;
		}
		/* nothing typed yet: let the peer's segments in, a slice at a time */
		{
			int shown = pump(user, mono_ns() + STEP_SLICE_NS);

			if (shown < 0) {
				quit_flag = true;
				break;
			}
			if (shown > 0) {
				render_flush(r);
				render_idle(r);
				fflush(NULL);
				if (!erase)
					fputc('\n', prompt);   /* a terminal's prompt line was erased by the pump */
				fprintf(prompt, "(the peer did not wait: its timers run while we do) next: tcplab (%s) "
						"sends %s — Enter sends it, q ends ", who, what);
				fflush(prompt);
			}
		}
	}
	fputc('\n', prompt);
	fflush(prompt);
	return STEP_QUIT;
}
