/*
 * render_svg.c — each connection as an SVG sequence diagram, for slides
 * (render.h: render_svg_new).
 *
 * The picture: a title with the 4-tuple and the outcome; the client's time
 * line on the left, the server's on the right, time flowing down; one
 * arrow per segment from the sender's line to the receiver's, labelled as
 * in the text ladder (seglabel.h), coloured by its flags (palette.h);
 * retransmissions dashed; a segment lost on purpose stopping short of the
 * far line in a cross; each state change in a box on its endpoint's side at
 * the row where it happened, coloured by phase; the kernel's own states
 * (TL_EV_KERNEL_STATE) in dashed boxes further out, at their own time; the time of
 * each row on the left; a legend for every mark at the bottom.
 *
 * Rows: --even spaces them evenly; by default the gap between two rows
 * grows with the log of the time between them (a 30 µs handshake and a
 * 1 s TIME-WAIT on one slide), capped.  Arrows: from the row of the
 * segment's capture; when the event carries the far end's capture time
 * (far_t_known), the arrow ends at that time's height, so it slants by the
 * real one-way time; with one capture point it slants by a fixed amount,
 * and the legend says so.
 *
 * Text stays text: every label is a <text> element (selectable,
 * searchable, any script), XML-escaped, valid UTF-8 (seglabel_sanitize).
 * Box and label sizes count display columns (textwidth.h), so wide
 * characters get two.  Structure the tests count: one <g class="arrow ...">
 * per segment, one <g class="state ..."> per state change; the legend uses
 * other class names.
 *
 * A diagram is kept in memory (its own copies: event pointers die with the
 * emit call) until its connection's summary, then written and forgotten.
 */
#include "tcplab/render.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "render_buf.h"
#include "tcplab/palette.h"
#include "tcplab/privilege.h"
#include "tcplab/seglabel.h"
#include "tcplab/catalog.h"
#include "tcplab/textwidth.h"

/*
 * The diagram's words in the reader's language (issue 12): L() for a
 * catalog sentence, LC() for a word that needs its own entry (msgctxt
 * "legend.*": "segments" is a heading here, a counted noun elsewhere).
 */
#define L(s) catalog_tr(s)

static const char *LC(const char *code, const char *en)
{
	const char *t = catalog_lang() == CAT_EN ? NULL : catalog_code(code);

	return t != NULL ? t : en;
}

/* A legend word named by the palette ("data", "opening"): "legend.WORD". */
static const char *legend_word(const char *en)
{
	char code[48];

	if (catalog_lang() == CAT_EN)
		return en;
	snprintf(code, sizeof(code), "legend.%s", en);
	return LC(code, en);
}

/* Replaces the English text in buf by its translation (c-format entries carry the numbers). */
static void tr_in_place(char *buf, size_t size)
{
	const char *t = catalog_tr(buf);

	if (t != buf)
		snprintf(buf, size, "%s", t);
}

#define SVG_MAX_ITEMS   4000     /* segments and states drawn per diagram */
#define SVG_WIDTH       1200
#define X_TIME          78       /* right edge of the time column */
#define X_LEFT          380      /* client's line */
#define X_RIGHT         820      /* server's line */
#define BOX_GAP         8        /* line to the nearest box */
#define BOX_ZONE        132      /* width of a box zone */
#define Y_HEADS         84
#define Y_FIRST         172
#define ROW_EVEN        44
#define ROW_MIN         34
#define ROW_LOG         12.0     /* px per decade of microseconds */
#define ROW_MAX         110
#define SLANT           14       /* drop of an arrow whose receive time is unknown */
#define CHAR_W          7.2      /* DejaVu Sans Mono at 12 px: 0.6 em */
#define FONT            "DejaVu Sans Mono, Noto Sans Mono CJK SC, Menlo, Consolas, monospace"

enum item_kind { IT_SEG, IT_STATE };

struct item {
	enum item_kind kind;
	uint64_t t;
	int row;
	/* segment */
	enum tl_role from;
	bool retransmission, lost, far_known;
	uint64_t far_t;
	enum palette_mark mark;
	char *label;
	char *annotation;
	/* state */
	enum tl_role who;
	enum tcp_state to;
	bool kernel;
};

struct diagram {
	struct diagram *next;
	unsigned conn;
	struct tl_conn_begin info;
	bool have_info;
	struct item *items;
	size_t n, cap;
	size_t dropped;
	bool have_summary;
	enum tl_outcome outcome;
	char ended[SEGLABEL_SIZE];
};

struct svg_priv {
	char *path;
	struct diagram *open;       /* diagrams not yet written, newest first */
	unsigned written;           /* diagrams written */
	unsigned nopen;             /* diagrams being collected */
	unsigned first_conn;        /* the connection of the first one */
	bool renamed;               /* the first one now has its numbered name */
	bool failed;
	bool warned_limit;
};

/* ---- collecting ------------------------------------------------------------ */

static struct diagram *find_diagram(struct svg_priv *sp, unsigned conn, bool create)
{
	struct diagram *d;

	for (d = sp->open; d != NULL; d = d->next)
		if (d->conn == conn)
			return d;
	if (!create)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->conn = conn;
	d->next = sp->open;
	sp->open = d;
	sp->nopen++;
	return d;
}

static struct item *new_item(struct diagram *d)
{
	if (d->n == SVG_MAX_ITEMS) {
		d->dropped++;
		return NULL;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 32;
		struct item *it = realloc(d->items, cap * sizeof(*it));

		if (it == NULL) {
			d->dropped++;
			return NULL;
		}
		d->items = it;
		d->cap = cap;
	}
	memset(&d->items[d->n], 0, sizeof(d->items[0]));
	return &d->items[d->n++];
}

static char *sanitized_copy(const char *s)
{
	char buf[SEGLABEL_SIZE];

	seglabel_sanitize(s, buf, sizeof(buf));
	return strdup(buf);
}

static void free_diagram(struct diagram *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].label);
		free(d->items[i].annotation);
	}
	free(d->items);
	free(d);
}

/* ---- writing --------------------------------------------------------------- */

/* Writes s (valid UTF-8 from seglabel) with XML's five special characters
 * escaped (XML 1.0 §2.4). */
static void xml_text(FILE *f, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* Width in px of text set in the monospace font at 12 px, scaled to size. */
static double text_px(const char *s, double size)
{
	return tw_width(s) * CHAR_W * size / 12.0;
}

/* The colours, or black and greys for --color=never. */
static const char *c_mark(const struct svg_priv *sp, const struct renderer *r, enum palette_mark m)
{
	(void)sp;
	return r->opt.monochrome ? (m == MARK_ACK ? "#616161" : "#000000") : palette_svg_mark(m);
}

static const char *c_phase(const struct renderer *r, enum palette_phase p)
{
	return r->opt.monochrome ? "#000000" : palette_svg_phase(p);
}

static const char *c_fill(const struct renderer *r, enum palette_phase p)
{
	return r->opt.monochrome ? "#ffffff" : palette_svg_phase_fill(p);
}

/* A state box centred vertically on y, beside its endpoint's line on the
 * outer side (the kernel's further out).  `cls` is "state" for a change,
 * "initial" for where an endpoint starts. */
static void put_state_box(FILE *f, const struct renderer *r, const struct item *it, double y, const char *cls)
{
	char name[40];
	enum palette_phase ph = palette_phase_of(it->to);
	bool left = it->who == TL_CLIENT;
	double w, x;
	double zone_off = it->kernel ? BOX_ZONE + BOX_GAP : 0;

	snprintf(name, sizeof(name), "%s%s", it->kernel ? L("kernel: ") : "", tcp_state_name(it->to));
	w = text_px(name, 12) + 12;
	x = left ? X_LEFT - BOX_GAP - zone_off - w : X_RIGHT + BOX_GAP + zone_off;
	fprintf(f, "<g class=\"%s %s%s\">", cls, palette_phase_name(ph), it->kernel ? " kernel" : "");
	fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"20\" rx=\"5\" fill=\"%s\" stroke=\"%s\"%s/>",
		x, y - 10, w, c_fill(r, ph), c_phase(r, ph),
		it->kernel ? " stroke-dasharray=\"4 3\"" : "");
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"%s\" text-anchor=\"middle\">", x + w / 2,
		y + 4, c_phase(r, ph));
	xml_text(f, name);
	fputs("</text></g>\n", f);
}

/* The head of an arrow at (x, y) pointing in direction (dx, dy). */
static void put_head(FILE *f, double x, double y, double dx, double dy, const char *color)
{
	double len = sqrt(dx * dx + dy * dy);
	double ux = dx / len, uy = dy / len;
	double bx = x - 10 * ux, by = y - 10 * uy;

	fprintf(f, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\"/>", x, y, bx - 4.5 * uy,
		by + 4.5 * ux, bx + 4.5 * uy, by - 4.5 * ux, color);
}

/* A cross (lost on purpose) centred on (x, y). */
static void put_cross(FILE *f, double x, double y, const char *color)
{
	fprintf(f, "<path d=\"M%.1f %.1fL%.1f %.1fM%.1f %.1fL%.1f %.1f\" stroke=\"%s\" stroke-width=\"3\"/>",
		x - 6, y - 6, x + 6, y + 6, x - 6, y + 6, x + 6, y - 6, color);
}

/* One segment's arrow from (x0, y0) to (x1, y1), with its label above it
 * along the same slant, and its annotation below. */
static void put_arrow(FILE *f, const struct svg_priv *sp, const struct renderer *r, const struct item *it,
		      double y0, double y1)
{
	double x0 = it->from == TL_CLIENT ? X_LEFT : X_RIGHT;
	double x1 = it->from == TL_CLIENT ? X_RIGHT : X_LEFT;
	const char *col = c_mark(sp, r, it->mark);
	double ex = x1, ey = y1;
	double angle = atan2(y1 - y0, x1 - x0) * 180.0 / M_PI;
	double mx = (x0 + x1) / 2, my = (y0 + y1) / 2;

	if (angle > 90)
		angle -= 180;   /* right to left: keep the text upright */
	if (it->lost) {
		ex = x0 + (x1 - x0) * 0.7;
		ey = y0 + (y1 - y0) * 0.7;
	}
	fprintf(f, "<g class=\"arrow %s%s%s\">", palette_mark_name(it->mark),
		it->retransmission ? " retransmission" : "", it->lost ? " lost" : "");
	fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>", x0,
		y0, it->lost ? ex : ex - (x1 > x0 ? 9 : -9) * 1.0, it->lost ? ey : ey - (y1 - y0) * 9 / fabs(x1 - x0),
		col, it->retransmission ? " stroke-dasharray=\"7 5\"" : "");
	if (it->lost)
		put_cross(f, ex, ey, col);
	else
		put_head(f, ex, ey, x1 - x0, y1 - y0, col);
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"%s\" text-anchor=\"middle\" "
		   "transform=\"rotate(%.2f %.1f %.1f)\">",
		mx, my - 6, col, angle, mx, my);
	xml_text(f, it->label);
	fputs("</text>", f);
	if (it->annotation != NULL && it->annotation[0] != '\0') {
		fprintf(f, "<text class=\"annotation\" x=\"%.1f\" y=\"%.1f\" font-size=\"11\" font-style=\"italic\" "
			   "fill=\"#616161\" text-anchor=\"middle\">", mx, my + 16);
		xml_text(f, it->annotation);
		fputs("</text>", f);
	}
	fputs("</g>\n", f);
}

/* Height between two rows dt apart. */
static double row_gap(const struct renderer *r, uint64_t dt_ns)
{
	double g;

	if (r->opt.even)
		return ROW_EVEN;
	g = ROW_MIN + ROW_LOG * log10(1.0 + (double)dt_ns / 1000.0);
	return g > ROW_MAX ? ROW_MAX : g;
}

/* The height of time t: between the rows around it, linearly; past the
 * last row, by the same rule as a new row. */
static double y_of(const struct renderer *r, const uint64_t *rt, const double *ry, int rows, uint64_t t)
{
	int i;

	if (rows == 0)
		return Y_FIRST;
	if (t <= rt[0])
		return ry[0];
	for (i = 1; i < rows; i++) {
		if (t <= rt[i]) {
			if (rt[i] == rt[i - 1])
				return ry[i];
			return ry[i - 1] + (ry[i] - ry[i - 1]) * (double)(t - rt[i - 1]) / (double)(rt[i] - rt[i - 1]);
		}
	}
	return ry[rows - 1] + row_gap(r, t - rt[rows - 1]);
}

/* The legend: every mark and colour used in the diagrams, and how to read
 * the rows and the slant; starts at y (about 110 px tall). */
static void put_legend(FILE *f, const struct svg_priv *sp, const struct renderer *r, double y, bool any_far)
{
	static const enum palette_mark marks[] = { MARK_SYN, MARK_DATA, MARK_ACK, MARK_FIN, MARK_RST };
	static const enum palette_phase phases[] = { PHASE_OPENING, PHASE_ESTABLISHED, PHASE_CLOSING, PHASE_CLOSED };
	double x = 40;

	fprintf(f, "<g class=\"legend\" font-size=\"12\">\n");
	fprintf(f, "<line x1=\"30\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#bdbdbd\"/>\n", y, SVG_WIDTH - 30, y);
	y += 24;
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\">%s</text>\n", x, y + 4,
		LC("legend.segments", "segments"));
	x += 90;
	/* in black and grey the flag colours say nothing: one sample */
	for (size_t i = 0; i < (r->opt.monochrome ? 1 : sizeof(marks) / sizeof(marks[0])); i++) {
		const char *col = c_mark(sp, r, r->opt.monochrome ? MARK_SYN : marks[i]);
		const char *name = r->opt.monochrome ? LC("legend.segment", "segment") : legend_word(palette_mark_name(marks[i]));

		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>", x, y,
			x + 30, y, col);
		put_head(f, x + 38, y, 1, 0, col);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\">%s</text>\n", x + 44, y + 4, col, name);
		x += 44 + text_px(name, 12) + 26;
	}
	{
		const char *col = c_mark(sp, r, MARK_ACK);

		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\" "
			   "stroke-dasharray=\"7 5\"/>", x, y, x + 30, y, col);
		put_head(f, x + 38, y, 1, 0, col);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", x + 44, y + 4, LC("legend.retransmission", "retransmission"));
		x += 44 + text_px(LC("legend.retransmission", "retransmission"), 12) + 26;
		fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/>", x,
			y, x + 30, y, col);
		put_cross(f, x + 36, y, col);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", x + 48, y + 4, LC("legend.lost", "lost on purpose"));
	}
	y += 30;
	x = 40;
	fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\">%s</text>\n", x, y + 4, LC("legend.states", "states"));
	x += 90;
	for (size_t i = 0; i < (r->opt.monochrome ? 1 : sizeof(phases) / sizeof(phases[0])); i++) {
		const char *name = r->opt.monochrome ? LC("legend.state", "state") : legend_word(palette_phase_name(phases[i]));
		double w = text_px(name, 12) + 12;

		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"20\" rx=\"5\" fill=\"%s\" stroke=\"%s\"/>",
			x, y - 10, w, c_fill(r, phases[i]), c_phase(r, phases[i]));
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"%s\" text-anchor=\"middle\">%s</text>\n", x + w / 2, y + 4,
			c_phase(r, phases[i]), name);
		x += w + 14;
	}
	{
		const char *k = L("kernel: the kernel's own state");
		double w = text_px(k, 12) + 12;

		fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"20\" rx=\"5\" fill=\"#ffffff\" "
			   "stroke=\"#616161\" stroke-dasharray=\"4 3\"/>", x + 10, y - 10, w);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" fill=\"#616161\" text-anchor=\"middle\">%s</text>\n",
			x + 10 + w / 2, y + 4, k);
	}
	y += 30;
	fprintf(f, "<text x=\"40\" y=\"%.1f\" fill=\"#424242\">%s</text>\n", y,
		r->opt.even ? L("Rows are evenly spaced (--even); the time of each is on the left.")
			    : L("Rows are spaced by the time between them (log scale); the time of each is on the left."));
	y += 18;
	fprintf(f, "<text x=\"40\" y=\"%.1f\" fill=\"#424242\">%s</text>\n", y,
		any_far ? L("Arrows slant by the time between send and receive, measured at both ends.")
			: L("One capture point: an arrow starts at the time it was captured; its slant is drawn, not measured."));
	y += 18;
	fputs("<text x=\"40\" y=\"", f);
	fprintf(f, "%.1f\" fill=\"#424242\">%s</text>\n", y,
		r->opt.absolute_only ? L("Numbers are absolute sequence numbers; drawn by tcplab.")
				     : L("Numbers are relative to each side's initial sequence number; drawn by tcplab."));
	fputs("</g>\n", f);
}

/* Writes diagram d as a complete SVG document to f. */
static void write_svg(FILE *f, const struct svg_priv *sp, const struct renderer *r, struct diagram *d)
{
	char client[ENDPOINT_TEXT_SIZE] = "?", server[ENDPOINT_TEXT_SIZE] = "?";
	uint64_t *rt = calloc(d->n + 1, sizeof(*rt));
	double *ry = calloc(d->n + 1, sizeof(*ry));
	int rows = 0;
	double height, y_end, legend_y;
	bool any_far = false;
	char title[3 * ENDPOINT_TEXT_SIZE + 64], outcome[SEGLABEL_SIZE + 64];

	if (rt == NULL || ry == NULL) {
		free(rt);
		free(ry);
		return;
	}
	if (d->have_info) {
		endpoint_format(&d->info.client_addr, d->info.client_port, client);
		endpoint_format(&d->info.server_addr, d->info.server_port, server);
	}
	/* Rows: every segment has its own; a state joins the row of the segment
	 * just before it when it has the same time (that segment caused it). */
	for (size_t i = 0; i < d->n; i++) {
		struct item *it = &d->items[i];
		bool joins = it->kind == IT_STATE && rows > 0 && rt[rows - 1] == it->t;

		/* two changes on one side at one time stack on rows of their own */
		if (joins)
			for (size_t j = i; j-- > 0 && d->items[j].row == rows - 1;)
				if (d->items[j].kind == IT_STATE && d->items[j].who == it->who &&
				    d->items[j].kernel == it->kernel)
					joins = false;
		if (joins) {
			it->row = rows - 1;
			continue;
		}
		rt[rows] = it->t;
		ry[rows] = rows == 0 ? Y_FIRST : ry[rows - 1] + row_gap(r, it->t - rt[rows - 1]);
		/* an annotation under the previous row's arrow needs room */
		if (rows > 0 && i > 0) {
			for (size_t j = i; j-- > 0 && d->items[j].row == rows - 1;)
				if (d->items[j].kind == IT_SEG && d->items[j].annotation != NULL && r->opt.even == false &&
				    ry[rows] - ry[rows - 1] < ROW_MIN + 14)
					ry[rows] = ry[rows - 1] + ROW_MIN + 14;
			if (r->opt.even)
				for (size_t j = i; j-- > 0 && d->items[j].row == rows - 1;)
					if (d->items[j].kind == IT_SEG && d->items[j].annotation != NULL)
						ry[rows] = ry[rows - 1] + ROW_EVEN + 14;
		}
		it->row = rows++;
		if (it->kind == IT_SEG && it->far_known)
			any_far = true;
	}
	y_end = (rows ? ry[rows - 1] : Y_FIRST) + 40;
	/* an arrow received after the last row's time ends below it */
	for (size_t i = 0; i < d->n; i++)
		if (d->items[i].kind == IT_SEG && d->items[i].far_known) {
			double e = y_of(r, rt, ry, rows, d->items[i].far_t) + 30;

			if (e > y_end)
				y_end = e;
		}
	legend_y = y_end + 30;
	height = legend_y + 130;

	snprintf(title, sizeof(title), "conn %u: client %s → server %s", d->conn, client, server);
	tr_in_place(title, sizeof(title));
	if (d->have_summary)
		snprintf(outcome, sizeof(outcome), "%s%s%s%s", L("outcome: "), L(tl_outcome_name(d->outcome)),
			 d->ended[0] ? L(" — ") : "", L(d->ended));
	else
		snprintf(outcome, sizeof(outcome), "%s", L("outcome: not known (the input ended first)"));

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
		   "font-family=\"%s\">\n", SVG_WIDTH, height, SVG_WIDTH, height, FONT);
	fputs("<title>", f);
	xml_text(f, title);
	fputs("</title>\n", f);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
	fprintf(f, "<text class=\"title\" x=\"%d\" y=\"34\" font-size=\"18\" font-weight=\"bold\" text-anchor=\"middle\">",
		SVG_WIDTH / 2);
	xml_text(f, title);
	fputs("</text>\n", f);
	fprintf(f, "<text class=\"outcome\" x=\"%d\" y=\"58\" font-size=\"14\" text-anchor=\"middle\" fill=\"%s\">",
		SVG_WIDTH / 2,
		r->opt.monochrome ? "#000000"
		: d->outcome == TL_OUTCOME_CLOSED && d->have_summary ? palette_svg_phase(PHASE_ESTABLISHED)
		: d->outcome == TL_OUTCOME_OPEN ? "#424242" : palette_svg_mark(MARK_RST));
	xml_text(f, outcome);
	fputs("</text>\n", f);

	/* heads and time lines */
	for (int i = 0; i < 2; i++) {
		double x = i == 0 ? X_LEFT : X_RIGHT;
		const char *who = L(i == 0 ? "client" : "server");
		const char *addr = i == 0 ? client : server;
		double w = text_px(addr, 13) + 24;

		if (w < 120)
			w = 120;
		fprintf(f, "<g class=\"head\"><rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"44\" rx=\"6\" fill=\"#fafafa\" "
			   "stroke=\"#424242\"/>", x - w / 2, Y_HEADS - 10, w);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"14\" font-weight=\"bold\" text-anchor=\"middle\">%s</text>",
			x, Y_HEADS + 7, who);
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"13\" text-anchor=\"middle\">", x, Y_HEADS + 25);
		xml_text(f, addr);
		fputs("</text></g>\n", f);
		fprintf(f, "<line class=\"timeline\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#9e9e9e\" "
			   "stroke-width=\"2\"/>\n", x, Y_HEADS + 34, x, y_end);
	}

	/* where both start (RFC 9293 §3.5), under the heads: the tracker
	 * reports changes only */
	if (d->have_info && !d->info.midstream) {
		struct item start;

		memset(&start, 0, sizeof(start));
		start.kind = IT_STATE;
		start.who = TL_CLIENT;
		start.to = TCP_CLOSED;
		put_state_box(f, r, &start, Y_HEADS + 48, "initial");
		start.who = TL_SERVER;
		start.to = TCP_LISTEN;
		put_state_box(f, r, &start, Y_HEADS + 48, "initial");
	}

	/* times on the left, one per row */
	fprintf(f, "<g class=\"times\" font-size=\"11\" fill=\"#757575\" text-anchor=\"end\">\n");
	for (int i = 0; i < rows; i++) {
		uint64_t us = rt[i] / 1000u + (rt[i] % 1000u >= 500u ? 1u : 0u);

		fprintf(f, "<text x=\"%d\" y=\"%.1f\">%llu.%06llu</text>\n", X_TIME, ry[i] + 4,
			(unsigned long long)(us / 1000000u), (unsigned long long)(us % 1000000u));
	}
	fputs("</g>\n", f);

	/* arrows, then boxes over them */
	for (size_t i = 0; i < d->n; i++) {
		const struct item *it = &d->items[i];
		double y0, y1;

		if (it->kind != IT_SEG)
			continue;
		y0 = ry[it->row];
		y1 = y0 + SLANT;
		if (it->far_known) {
			y1 = y_of(r, rt, ry, rows, it->far_t);
			if (y1 < y0)
				y1 = y0;   /* clocks of two capture points disagree: draw it flat */
		}
		put_arrow(f, sp, r, it, y0, y1);
	}
	{
		/* stack several boxes on one side of one row */
		int last_row = -1, stack[2][2] = { { 0, 0 }, { 0, 0 } };

		for (size_t i = 0; i < d->n; i++) {
			const struct item *it = &d->items[i];
			int s = it->who == TL_SERVER ? 1 : 0, k = it->kernel ? 1 : 0;
			double y;

			if (it->kind != IT_STATE)
				continue;
			if (it->row != last_row) {
				memset(stack, 0, sizeof(stack));
				last_row = it->row;
			}
			y = ry[it->row] + 22.0 * stack[s][k]++;
			put_state_box(f, r, it, y, "state");
		}
	}
	if (d->dropped > 0) {
		char more[256];

		snprintf(more, sizeof(more), "%zu more segments and states were not drawn (at most %d a diagram)",
			 d->dropped, SVG_MAX_ITEMS);
		tr_in_place(more, sizeof(more));
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\" fill=\"#c62828\">",
			SVG_WIDTH / 2, y_end + 16);
		xml_text(f, more);
		fputs("</text>\n", f);
	}
	put_legend(f, sp, r, legend_y, any_far);
	fputs("</svg>\n", f);
	free(rt);
	free(ry);
}

/* FILE or FILE-N.svg (FILE's own ".svg" taken off first). */
static void numbered_name(const char *path, unsigned conn, char *out, size_t n)
{
	size_t len = strlen(path);

	if (len > 4 && strcmp(path + len - 4, ".svg") == 0)
		len -= 4;
	snprintf(out, n, "%.*s-%u.svg", (int)len, path, conn);
}

/* Writes one diagram to its file and forgets it. */
static void emit_diagram(struct renderer *r, struct diagram *d)
{
	struct svg_priv *sp = r->priv;
	char name[4096];
	FILE *f;

	if (sp->written >= RENDER_SVG_MAX_FILES) {
		if (!sp->warned_limit)
			fprintf(stderr, "tcplab: --svg wrote %d diagrams and stops there; pick one connection with -c N\n",
				RENDER_SVG_MAX_FILES);
		sp->warned_limit = true;
		return;
	}
	if (sp->written == 0) {
		snprintf(name, sizeof(name), "%s", sp->path);
		sp->first_conn = d->conn;
	} else {
		if (!sp->renamed) {
			char first[4096];

			numbered_name(sp->path, sp->first_conn, first, sizeof(first));
			if (rename(sp->path, first) != 0 && !sp->failed) {
				fprintf(stderr, "tcplab: cannot rename %s to %s: %s\n", sp->path, first, strerror(errno));
				sp->failed = true;
			}
			sp->renamed = true;
		}
		numbered_name(sp->path, d->conn, name, sizeof(name));
	}
	f = fopen(name, "w");
	if (f == NULL) {
		fprintf(stderr, "tcplab: cannot write %s: %s\n", name, strerror(errno));
		sp->failed = true;
		sp->written++;
		return;
	}
	write_svg(f, sp, r, d);
	if (ferror(f) | (fclose(f) != 0)) {
		fprintf(stderr, "tcplab: cannot write %s: %s\n", name, strerror(errno));
		sp->failed = true;
	}
	(void)privilege_give_to_invoker(name);
	sp->written++;
}

/* Writes and frees the diagram of conn. */
static void close_diagram(struct renderer *r, unsigned conn)
{
	struct svg_priv *sp = r->priv;
	struct diagram **pp = &sp->open;

	while (*pp != NULL && (*pp)->conn != conn)
		pp = &(*pp)->next;
	if (*pp == NULL)
		return;
	struct diagram *d = *pp;

	*pp = d->next;
	sp->nopen--;
	emit_diagram(r, d);
	free_diagram(d);
}

/* ---- the renderer ---------------------------------------------------------- */

static void svg_emit(struct renderer *r, const struct tl_event *ev)
{
	struct svg_priv *sp = r->priv;
	struct diagram *d;
	struct item *it;

	if (ev->conn == 0)
		return;   /* notes outside any connection: not part of a diagram */
	switch (ev->kind) {
	case TL_EV_CONN_BEGIN:
	case TL_EV_SEGMENT:
	case TL_EV_STATE:
	case TL_EV_KERNEL_STATE:
	case TL_EV_SUMMARY:
		break;
	default:
		return;   /* notes, and kinds added after this renderer */
	}
	/* past the file limit, nothing new is collected (emit_diagram says so) */
	d = find_diagram(sp, ev->conn, sp->written + sp->nopen < RENDER_SVG_MAX_FILES);
	if (d == NULL) {
		if (ev->kind == TL_EV_SUMMARY && !sp->warned_limit) {
			fprintf(stderr, "tcplab: --svg draws at most %d diagrams; pick one connection with -c N\n",
				RENDER_SVG_MAX_FILES);
			sp->warned_limit = true;
		}
		return;
	}
	if (!d->have_info && ev->conn_info != NULL) {
		d->info = *ev->conn_info;
		d->have_info = true;
	}
	switch (ev->kind) {
	case TL_EV_CONN_BEGIN:
		d->info = ev->u.begin;
		d->have_info = true;
		break;
	case TL_EV_SEGMENT: {
		const struct tl_segment_event *se = &ev->u.segment;
		char label[SEGLABEL_SIZE];

		if (se->seg == NULL || (it = new_item(d)) == NULL)
			return;
		it->kind = IT_SEG;
		it->t = ev->t_ns;
		it->from = se->from == TL_SERVER ? TL_SERVER : TL_CLIENT;
		it->retransmission = se->retransmission;
		it->lost = se->lost;
		it->far_known = se->far_t_known;
		it->far_t = se->far_t_ns;
		it->mark = palette_mark_of(se->seg->flags, se->seg->payload_len);
		seglabel_segment(se, r->opt.absolute_only, 54, label, sizeof(label));
		it->label = strdup(label);
		if (se->annotation != NULL && se->annotation[0] != '\0')
			it->annotation = sanitized_copy(L(se->annotation));
		else if (se->lost)
			it->annotation = strdup(L("lost on purpose"));
		break;
	}
	case TL_EV_STATE:
		if ((it = new_item(d)) == NULL)
			return;
		it->kind = IT_STATE;
		it->t = ev->t_ns;
		it->who = ev->u.state.endpoint == TL_SERVER ? TL_SERVER : TL_CLIENT;
		it->to = ev->u.state.to;
		break;
	case TL_EV_KERNEL_STATE:
		/* the kernel's own report: a dashed box further out */
		if ((it = new_item(d)) == NULL)
			return;
		it->kind = IT_STATE;
		it->t = ev->t_ns;
		it->who = ev->u.kstate.endpoint == TL_SERVER ? TL_SERVER : TL_CLIENT;
		it->to = ev->u.kstate.to;
		it->kernel = true;
		break;
	case TL_EV_SUMMARY:
		d->have_summary = true;
		d->outcome = ev->u.summary.outcome;
		seglabel_sanitize(ev->u.summary.ended_how, d->ended, sizeof(d->ended));
		close_diagram(r, ev->conn);
		break;
	default:
		break;
	}
}

/* finish: diagrams whose summary never came (live runs cut short), oldest first. */
static void svg_finish(struct renderer *r)
{
	struct svg_priv *sp = r->priv;

	while (sp->open != NULL) {
		struct diagram *d = sp->open;

		while (d->next != NULL)
			d = d->next;
		close_diagram(r, d->conn);
	}
}

static void svg_destroy(struct renderer *r)
{
	struct svg_priv *sp = r->priv;

	while (sp->open != NULL) {
		struct diagram *d = sp->open;

		sp->open = d->next;
		free_diagram(d);
	}
	free(sp->path);
	free(sp);
	free(r);
}

bool render_svg_failed(const struct renderer *r)
{
	if (r == NULL || r->emit != svg_emit)
		return false;
	return ((const struct svg_priv *)r->priv)->failed;
}

struct renderer *render_svg_new(const char *path, const struct render_options *opt,
				char errbuf[RENDER_SVG_ERRBUF_SIZE])
{
	struct renderer *r;
	struct svg_priv *sp;
	char dir[4096];
	const char *slash;

	if (path == NULL || path[0] == '\0') {
		snprintf(errbuf, RENDER_SVG_ERRBUF_SIZE, "--svg needs a file name");
		return NULL;
	}
	/* Say now, not after a live run, that the file cannot be written. */
	slash = strrchr(path, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	if (access(dir, W_OK) != 0) {
		snprintf(errbuf, RENDER_SVG_ERRBUF_SIZE, "cannot write %.200s: %s", path, strerror(errno));
		return NULL;
	}
	r = calloc(1, sizeof(*r));
	sp = calloc(1, sizeof(*sp));
	if (r == NULL || sp == NULL || (sp->path = strdup(path)) == NULL) {
		free(r);
		free(sp);
		snprintf(errbuf, RENDER_SVG_ERRBUF_SIZE, "out of memory");
		return NULL;
	}
	if (opt != NULL)
		r->opt = *opt;
	r->emit = svg_emit;
	r->finish = svg_finish;
	r->destroy = svg_destroy;
	r->priv = sp;
	return r;
}
