/*
 * render_ladder.c — the trace as a ladder (sequence diagram) in the
 * terminal, as textbooks draw the handshake:
 *
 *   conn 1: client 127.0.0.1:47425 → server 127.0.0.1:8080
 *                                client                                          server
 *                           127.0.0.1:47425                                  127.0.0.1:8080
 *     0.000000       SYN-SENT ├─ SYN seq=0 len=0 ─────────────────────────────▶│
 *     0.000028    ESTABLISHED │◀──────────────────────── SYN,ACK seq=0 ack=1 len=0 ─┤ SYN-RECEIVED
 *
 * Layout (golden tests depend on it), for a width of W columns (default
 * 100, --width N):
 *  - the time (as in the text trace: seconds, 6 decimals, right-aligned in
 *    10 columns, blank when it repeats the row above), a blank;
 *  - the client's state area (SIDE columns, the state right-aligned), a
 *    blank, the client's time line;
 *  - the arrow area; the server's time line, a blank, its state area;
 *  - one row per segment: the arrow leaves the sender's line (a tee) and
 *    ends in a head at the receiver's; the label (flags, seq/ack, len, a
 *    payload preview) sits near the sender.  A retransmission's shaft is
 *    dotted; a segment lost on purpose stops short of the far line and
 *    ends in ✗; the tracker's annotation goes on rows under the arrow;
 *  - each endpoint's new state on its own side, at the row of the segment
 *    that caused it (a timer's change gets a row of its own); the kernel's
 *    own states (TL_EV_KERNEL_STATE, --kernel-states) go on the same side,
 *    marked "k:", at their own time;
 *  - notes are wrapped between the lines; summaries are the text
 *    renderer's (it is used for them, not copied).
 * Widths are display columns (textwidth.h), so wide characters in notes
 * and reasons keep the lines straight; colour sequences take none.
 * --ascii draws with | - . > < x only.
 *
 * A segment's row is held until its state changes have arrived (the
 * tracker sends them right after it) and written when the next event
 * comes, at finish, or when render_flush asks (step mode, idle waits).
 */
#include "tcplab/render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render_buf.h"
#include "tcplab/palette.h"
#include "tcplab/seglabel.h"
#include "tcplab/textwidth.h"
#include "tcplab/catalog.h"

#define LADDER_DEFAULT_WIDTH 100
#define LADDER_MIN_WIDTH     60
#define TIME_WIDTH           10
#define SIDE                 14   /* "k:SYN-RECEIVED" */
#define MAX_SIDE_STATES      6    /* per side per instant; more are not drawn */
#define ROW_MAX_BYTES        4096

struct glyphs {
	const char *line, *shaft, *dotted, *head_r, *head_l, *lost, *tee_l, *tee_r, *end;
};

static const struct glyphs utf8_glyphs = { "│", "─", "┄", "▶", "◀", "✗", "├", "┤", "┴" };
static const struct glyphs ascii_glyphs = { "|", "-", ".", ">", "<", "x", "|", "|", "+" };

struct side_state {
	enum tcp_state to;
	bool kernel;
};

/* The instant held back: one segment (or a timer) and the states it caused. */
struct pending {
	bool active, has_seg;
	bool initial;            /* the starting states under the heads: no time */
	unsigned conn;
	uint64_t t;
	enum tl_role from;
	bool retransmission, lost;
	enum palette_mark mark;
	char label[SEGLABEL_SIZE];
	int label_w;
	char annotation[SEGLABEL_SIZE];
	struct side_state st[2][MAX_SIDE_STATES];
	int nst[2];
};

struct ladder_priv {
	struct rbuf b;
	struct renderer *text;   /* summaries (and --summary) */
	const struct glyphs *g;
	bool color;
	int width, lcol, rcol, area;
	unsigned cur_conn;       /* connection whose columns are on screen, 0 none */
	bool wrote_any;
	bool text_used;          /* the text renderer printed something (it then
				  * separates its blocks by a blank line itself) */
	bool have_last_t;
	uint64_t last_t;
	struct pending p;
	struct row *scratch;     /* the row being built (allocated once: 4 KiB) */
};

/* A row under construction: bytes, and the display column reached. */
struct row {
	struct ladder_priv *lp;
	char buf[ROW_MAX_BYTES];
	size_t len;
	int col;
};

static void row_add(struct row *r, const char *s, size_t n, int cols)
{
	if (n > sizeof(r->buf) - 1 - r->len)
		return;   /* cannot happen with the widths allowed; never overflow */
	memcpy(r->buf + r->len, s, n);
	r->len += n;
	r->col += cols;
}

static void row_str(struct row *r, const char *s)
{
	row_add(r, s, strlen(s), tw_width(s));
}

static void row_rep(struct row *r, const char *glyph, int n)
{
	size_t k = strlen(glyph);

	for (int i = 0; i < n; i++)
		row_add(r, glyph, k, 1);
}

static void row_pad(struct row *r, int col)
{
	while (r->col < col)
		row_add(r, " ", 1, 1);
}

static void row_sgr(struct row *r, const char *sgr)
{
	if (r->lp->color && sgr != NULL && sgr[0] != '\0')
		row_add(r, sgr, strlen(sgr), 0);
}

static void row_reset(struct row *r, const char *sgr)
{
	if (r->lp->color && sgr != NULL && sgr[0] != '\0')
		row_add(r, PALETTE_SGR_RESET, strlen(PALETTE_SGR_RESET), 0);
}

/* Ends the row: trailing blanks dropped, newline, into the output buffer. */
static void row_end(struct row *r)
{
	while (r->len > 0 && r->buf[r->len - 1] == ' ')
		r->len--;
	rbuf_write(&r->lp->b, r->buf, r->len);
	rbuf_putc(&r->lp->b, '\n');
	r->len = 0;
	r->col = 0;
}

/* The time column: the time, or blanks when it repeats the row above.
 * Seconds with 6 decimals rounded half up, as the text trace writes them. */
static void row_time(struct row *r, bool show, uint64_t t)
{
	struct ladder_priv *lp = r->lp;

	if (show && !(lp->have_last_t && lp->last_t == t)) {
		char tb[32];
		uint64_t us = t / 1000u + (t % 1000u >= 500u ? 1u : 0u);
		int w = snprintf(tb, sizeof(tb), "%llu.%06llu", (unsigned long long)(us / 1000000u),
				 (unsigned long long)(us % 1000000u));

		row_pad(r, TIME_WIDTH - w);
		row_add(r, tb, (size_t)w, w);
		lp->have_last_t = true;
		lp->last_t = t;
	}
	row_pad(r, TIME_WIDTH + 1);
}

/* "SYN-SENT" or "k:SYN-SENT" for the kernel's. */
static void state_text(const struct side_state *s, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s", s->kernel ? "k:" : "", tcp_state_name(s->to));
}

/* The client's state area, right-aligned against its line. */
static void row_left_state(struct row *r, const struct side_state *s)
{
	if (s != NULL) {
		char t[40];
		enum palette_phase ph = palette_phase_of(s->to);

		state_text(s, t, sizeof(t));
		row_pad(r, r->lp->lcol - 1 - tw_width(t));
		row_sgr(r, palette_sgr_phase(ph));
		row_str(r, t);
		row_reset(r, palette_sgr_phase(ph));
	}
	row_pad(r, r->lp->lcol);
}

/* The server's state area, after its line. */
static void row_right_state(struct row *r, const struct side_state *s)
{
	if (s != NULL) {
		char t[40];
		enum palette_phase ph = palette_phase_of(s->to);

		state_text(s, t, sizeof(t));
		row_pad(r, r->lp->rcol + 2);
		row_sgr(r, palette_sgr_phase(ph));
		row_str(r, t);
		row_reset(r, palette_sgr_phase(ph));
	}
}

/* Both lines with text (already safe) between them, from column 2 of the
 * arrow area; the text is dimmed. */
static void row_lines_text(struct row *r, const char *text, size_t n)
{
	struct ladder_priv *lp = r->lp;

	row_str(r, lp->g->line);
	if (text != NULL && n > 0) {
		row_pad(r, lp->lcol + 3);
		row_sgr(r, PALETTE_SGR_DIM);
		row_add(r, text, n, tw_width_n(text, n));
		row_reset(r, PALETTE_SGR_DIM);
	}
	row_pad(r, lp->rcol);
	row_str(r, lp->g->line);
}

/* The arrow area and both lines of a segment's row. */
static void row_arrow(struct row *r, const struct pending *p)
{
	struct ladder_priv *lp = r->lp;
	const struct glyphs *g = lp->g;
	const char *shaft = p->retransmission ? g->dotted : g->shaft;
	const char *sgr = palette_sgr_mark(p->mark);
	int a = lp->area;
	/* a lost segment stops a quarter of the way short of the far line */
	int reach = p->lost ? a - (a / 4 > 4 ? a / 4 : 4) : a;
	int lw = p->label_w;

	if (p->from == TL_CLIENT) {
		/* ├─ LABEL ───────▶│ */
		int fill = reach - 4 - lw;

		row_str(r, g->tee_l);
		row_sgr(r, sgr);
		row_str(r, shaft);
		row_str(r, " ");
		row_str(r, p->label);
		row_str(r, " ");
		row_rep(r, shaft, fill > 0 ? fill : 0);
		row_str(r, p->lost ? g->lost : g->head_r);
		row_reset(r, sgr);
		row_pad(r, lp->rcol);
		row_str(r, g->line);
	} else {
		/* │◀──────── LABEL ─┤ */
		int fill = reach - 4 - lw;
		int start = lp->lcol + 1 + (a - reach);

		row_str(r, g->line);
		row_pad(r, start);
		row_sgr(r, sgr);
		row_str(r, p->lost ? g->lost : g->head_l);
		row_rep(r, shaft, fill > 0 ? fill : 0);
		row_str(r, " ");
		row_str(r, p->label);
		row_str(r, " ");
		row_str(r, shaft);
		row_reset(r, sgr);
		row_pad(r, lp->rcol);
		row_str(r, g->tee_r);
	}
}

/* Writes the instant held back, if any. */
static void flush_pending(struct ladder_priv *lp)
{
	struct pending *p = &lp->p;
	struct row *r;
	const char *ann = p->annotation;
	size_t ann_len = strlen(ann);
	int rows;

	if (!p->active)
		return;
	p->active = false;
	r = lp->scratch;
	r->lp = lp;
	r->len = 0;
	r->col = 0;
	rows = p->nst[0] > p->nst[1] ? p->nst[0] : p->nst[1];
	if (rows < 1)
		rows = 1;
	for (int i = 0; i < rows || (p->has_seg && ann_len > 0); i++) {
		size_t n = 0, next = 0;

		row_time(r, i == 0 && !p->initial, p->t);
		row_left_state(r, i < p->nst[0] ? &p->st[0][i] : NULL);
		if (i == 0 && p->has_seg) {
			row_arrow(r, p);
		} else {
			if (p->has_seg && ann_len > 0) {
				n = seglabel_wrap(ann, lp->area - 4, &next);
				ann_len -= next;
			}
			row_lines_text(r, ann, n);
			ann += next;
		}
		row_right_state(r, i < p->nst[1] ? &p->st[1][i] : NULL);
		row_end(r);
	}
	lp->wrote_any = true;
}

/* The two column heads: roles, then addresses, centred on the lines. */
static void put_heads(struct ladder_priv *lp, const struct tl_conn_begin *c)
{
	char a[2][ENDPOINT_TEXT_SIZE];
	const char *role[2] = { catalog_tr("client"), catalog_tr("server") };
	int col[2] = { lp->lcol, lp->rcol };
	struct row r;

	r.lp = lp;
	r.len = 0;
	r.col = 0;
	endpoint_format(&c->client_addr, c->client_port, a[0]);
	endpoint_format(&c->server_addr, c->server_port, a[1]);
	for (int line = 0; line < 2; line++) {
		for (int i = 0; i < 2; i++) {
			const char *t = line == 0 ? role[i] : a[i];
			int w = tw_width(t);
			int start = col[i] - w / 2;

			if (start + w > lp->width)
				start = lp->width - w;
			if (start < r.col + (i ? 2 : 0))
				start = r.col + (i ? 2 : 0);
			row_pad(&r, start);
			row_sgr(&r, PALETTE_SGR_BOLD);
			row_str(&r, t);
			row_reset(&r, PALETTE_SGR_BOLD);
		}
		row_end(&r);
	}
}

/* "conn N: client A → server B", the column heads; `again` when the
 * connection's rows resume after another connection's. */
static void put_header(struct ladder_priv *lp, unsigned conn, const struct tl_conn_begin *c, bool again)
{
	struct rbuf *b = &lp->b;

	if (lp->wrote_any)
		rbuf_putc(b, '\n');
	if (lp->color)
		rbuf_puts(b, PALETTE_SGR_BOLD);
	rbuf_puts(b, catalog_tr("conn "));
	rbuf_u64(b, conn);
	if (lp->color)
		rbuf_puts(b, PALETTE_SGR_RESET);
	if (c == NULL) {
		rbuf_puts(b, again ? catalog_tr(" (continued)") : "");
		rbuf_putc(b, '\n');
		lp->cur_conn = conn;
		lp->wrote_any = true;
		return;
	}
	rbuf_puts(b, catalog_tr(": client "));
	rbuf_endpoint(b, &c->client_addr, c->client_port);
	rbuf_puts(b, catalog_tr(" → server "));
	rbuf_endpoint(b, &c->server_addr, c->server_port);
	if (again)
		rbuf_puts(b, catalog_tr(" (continued)"));
	else if (c->midstream)
		rbuf_puts(b, catalog_tr("  (joined mid-stream: roles guessed from ports)"));
	rbuf_putc(b, '\n');
	lp->cur_conn = conn;
	lp->wrote_any = true;
	if (again)
		return;   /* the columns are the same: one line says whose rows follow */
	put_heads(lp, c);
	if (!again && !c->midstream) {
		/* where both start (RFC 9293 §3.5): the client CLOSED, the server
		 * LISTEN; the tracker reports changes only */
		struct pending *p = &lp->p;

		memset(p, 0, sizeof(*p));
		p->active = true;
		p->conn = conn;
		p->st[0][0].to = TCP_CLOSED;
		p->st[1][0].to = TCP_LISTEN;
		p->nst[0] = p->nst[1] = 1;
		p->initial = true;
	}
	lp->cur_conn = conn;
	lp->have_last_t = false;
	lp->wrote_any = true;
}

/* Makes sure the columns on screen are ev's connection's. */
static void ensure_conn(struct ladder_priv *lp, const struct tl_event *ev)
{
	if (ev->conn != 0 && lp->cur_conn != ev->conn)
		put_header(lp, ev->conn, ev->conn_info, true);
}

/* Starts a held instant for ev's time and connection. */
static void start_pending(struct ladder_priv *lp, const struct tl_event *ev)
{
	struct pending *p = &lp->p;

	memset(p, 0, sizeof(*p));
	p->active = true;
	p->conn = ev->conn;
	p->t = ev->t_ns;
}

static void ladder_segment(struct renderer *r, struct ladder_priv *lp, const struct tl_event *ev)
{
	const struct tl_segment_event *se = &ev->u.segment;
	struct pending *p = &lp->p;

	flush_pending(lp);
	ensure_conn(lp, ev);
	start_pending(lp, ev);
	p->has_seg = true;
	p->from = se->from == TL_SERVER ? TL_SERVER : TL_CLIENT;
	p->retransmission = se->retransmission;
	p->lost = se->lost;
	p->mark = palette_mark_of(se->seg->flags, se->seg->payload_len);
	/* label room: the area less the tee side's "─ ", the blank after the
	 * label, at least two shaft cells and the head; a lost arrow is shorter */
	{
		int a = lp->area;
		int reach = se->lost ? a - (a / 4 > 4 ? a / 4 : 4) : a;

		char full[SEGLABEL_SIZE];
		int room = reach - 6;

		size_t n;

		p->label_w = seglabel_segment(se, r->opt.absolute_only, room, p->label, sizeof(p->label));
		n = strlen(p->label);
		/* the flags and numbers fit (only a preview or len may have gone)
		 * unless the label had to be cut with "…" */
		bool cut = n >= 4 && strcmp(p->label + n - 3, "…") == 0 && p->label[n - 4] != '"';

		seglabel_segment(se, r->opt.absolute_only, 200, full, sizeof(full));
		if (cut && strchr(full, ' ') != NULL) {
			/* a narrow ladder: the flags on the arrow, the numbers under it */
			size_t k = (size_t)(strchr(full, ' ') - full);

			p->label[0] = '\0';
			p->label_w = 0;
			if ((int)k <= room) {
				memcpy(p->label, full, k);
				p->label[k] = '\0';
				p->label_w = tw_width(p->label);
			}
			snprintf(p->annotation, sizeof(p->annotation), "%s", full + k + 1);
		} else if (!cut && n < strlen(full) && strncmp(full, p->label, n) == 0) {
			/* what did not fit on the arrow (len, the preview) goes under it */
			snprintf(p->annotation, sizeof(p->annotation), "%s", full + n + 1);
		}
		/* a row saying only that there was no payload is noise */
		{
			size_t an = strlen(p->annotation);

			if (strcmp(p->annotation, "len=0") == 0)
				p->annotation[0] = '\0';
			else if (an > 6 && strcmp(p->annotation + an - 6, " len=0") == 0)
				p->annotation[an - 6] = '\0';
		}
	}
	if (se->annotation != NULL) {
		size_t n = strlen(p->annotation);
		char ann[SEGLABEL_SIZE];

		seglabel_sanitize(catalog_tr(se->annotation), ann, sizeof(ann));
		snprintf(p->annotation + n, sizeof(p->annotation) - n, "%s%s", n ? "; " : "", ann);
	}
	if (se->lost) {
		size_t n = strlen(p->annotation);

		snprintf(p->annotation + n, sizeof(p->annotation) - n, "%s%s", n ? "; " : "",
			 catalog_tr("lost on purpose: never put on the wire"));
	}
}

/*
 * One endpoint's new state at ev's time: beside the held segment when it
 * caused it, else on a row of its own.  `kernel` marks the kernel's own
 * report (the kernel-state event kind calls this with true).
 */
static void state_row(struct ladder_priv *lp, const struct tl_event *ev, enum tl_role who,
		      enum tcp_state to, bool kernel)
{
	struct pending *p = &lp->p;
	int side = who == TL_SERVER ? 1 : 0;

	if (!(p->active && !p->initial && p->conn == ev->conn && p->t == ev->t_ns)) {
		flush_pending(lp);
		ensure_conn(lp, ev);
		start_pending(lp, ev);
	}
	if (p->nst[side] < MAX_SIDE_STATES) {
		p->st[side][p->nst[side]].to = to;
		p->st[side][p->nst[side]].kernel = kernel;
		p->nst[side]++;
	}
}

/* A note: between the lines of its connection, wrapped; outside any
 * connection, across the whole width. */
static void ladder_note(struct ladder_priv *lp, const struct tl_event *ev)
{
	char text[2048];
	const char *s = text;
	size_t left, n, next;
	struct row *r;
	bool first = true;
	bool inside = ev->conn != 0;

	flush_pending(lp);
	if (inside)
		ensure_conn(lp, ev);
	{
		const char *head = catalog_tr("note: ");
		size_t hn = strlen(head) < 64 ? strlen(head) : 64;

		memcpy(text, head, hn);
		seglabel_sanitize(catalog_tr(ev->u.note), text + hn, sizeof(text) - hn);
	}
	left = strlen(text);
	r = lp->scratch;
	r->lp = lp;
	r->len = 0;
	r->col = 0;
	while (left > 0) {
		row_time(r, first, ev->t_ns);
		first = false;
		if (inside) {
			row_pad(r, lp->lcol);
			n = seglabel_wrap(s, lp->area - 4, &next);
			row_lines_text(r, s, n);
		} else {
			n = seglabel_wrap(s, lp->width - TIME_WIDTH - 1, &next);
			row_sgr(r, PALETTE_SGR_DIM);
			row_add(r, s, n, tw_width_n(s, n));
			row_reset(r, PALETTE_SGR_DIM);
		}
		row_end(r);
		if (next == 0)
			break;
		s += next;
		left -= next;
	}
	lp->wrote_any = true;
}

/* The lines' feet, then the text renderer's summary block. */
static void ladder_summary(struct renderer *r, struct ladder_priv *lp, const struct tl_event *ev)
{
	flush_pending(lp);
	if (lp->cur_conn == ev->conn) {
		struct row row;

		row.lp = lp;
		row.len = 0;
		row.col = 0;
		row_pad(&row, lp->lcol);
		row_str(&row, lp->g->end);
		row_pad(&row, lp->rcol);
		row_str(&row, lp->g->end);
		row_end(&row);
		lp->cur_conn = 0;
	}
	if (!lp->text_used && lp->wrote_any)
		rbuf_putc(&lp->b, '\n');
	lp->text_used = true;
	rbuf_flush(&lp->b);
	render_emit(lp->text, ev);
	render_flush(lp->text);
	(void)r;
	lp->wrote_any = true;
}

static void ladder_emit(struct renderer *r, const struct tl_event *ev)
{
	struct ladder_priv *lp = r->priv;

	if (r->opt.summary_only) {
		render_emit(lp->text, ev);
		return;
	}
	switch (ev->kind) {
	case TL_EV_CONN_BEGIN:
		flush_pending(lp);
		put_header(lp, ev->conn, &ev->u.begin, false);
		break;
	case TL_EV_SEGMENT:
		if (ev->u.segment.seg == NULL)
			return;
		ladder_segment(r, lp, ev);
		break;
	case TL_EV_STATE:
		state_row(lp, ev, ev->u.state.endpoint, ev->u.state.to, false);
		break;
	case TL_EV_KERNEL_STATE:
		/* the kernel's own report, at its own time, beside the inferred */
		state_row(lp, ev, ev->u.kstate.endpoint, ev->u.kstate.to, true);
		break;
	case TL_EV_NOTE:
		ladder_note(lp, ev);
		break;
	case TL_EV_SUMMARY:
		ladder_summary(r, lp, ev);
		break;
	default:
		return;   /* a kind added after this renderer: say nothing rather than guess */
	}
	rbuf_flush(&lp->b);
}

/* renderer.flush: writes the held instant. */
static void ladder_flush(struct renderer *r)
{
	struct ladder_priv *lp = r->priv;

	flush_pending(lp);
	rbuf_flush(&lp->b);
	fflush(r->out);
}

static void ladder_finish(struct renderer *r)
{
	struct ladder_priv *lp = r->priv;

	ladder_flush(r);
	render_finish(lp->text);
}

static void ladder_destroy(struct renderer *r)
{
	struct ladder_priv *lp = r->priv;

	render_destroy(lp->text);
	free(lp->scratch);
	free(lp);
	free(r);
}

struct renderer *render_ladder_new(FILE *out, const struct render_options *opt)
{
	struct renderer *r;
	struct ladder_priv *lp;

	if (out == NULL)
		return NULL;
	r = calloc(1, sizeof(*r));
	lp = calloc(1, sizeof(*lp));
	if (r == NULL || lp == NULL) {
		free(r);
		free(lp);
		return NULL;
	}
	if (opt != NULL)
		r->opt = *opt;
	/* the summaries as the text trace prints them, without "[N]" tags */
	{
		struct render_options to = r->opt;

		to.show_conn = false;
		lp->text = render_text_new(out, &to);
	}
	lp->scratch = malloc(sizeof(*lp->scratch));
	if (lp->text == NULL || lp->scratch == NULL) {
		render_destroy(lp->text);
		free(lp->scratch);
		free(r);
		free(lp);
		return NULL;
	}
	rbuf_init(&lp->b, out);
	lp->g = r->opt.ascii ? &ascii_glyphs : &utf8_glyphs;
	lp->color = r->opt.color;
	lp->width = r->opt.width == 0 ? LADDER_DEFAULT_WIDTH : (int)r->opt.width;
	if (lp->width < LADDER_MIN_WIDTH)
		lp->width = LADDER_MIN_WIDTH;
	lp->lcol = TIME_WIDTH + 1 + SIDE + 1;
	lp->rcol = lp->width - 1 - 1 - SIDE;
	lp->area = lp->rcol - lp->lcol - 1;
	r->emit = ladder_emit;
	r->finish = ladder_finish;
	r->destroy = ladder_destroy;
	r->flush = ladder_flush;
	r->out = out;
	r->priv = lp;
	return r;
}
