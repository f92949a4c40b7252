/*
 * render_text.c — the human trace: one line a segment, the endpoints' state
 * changes indented under it, a summary block per connection.
 *
 *   conn 1: client 198.18.0.1:43512 → server 198.18.0.2:8080
 *     0.000000  C → S  SYN      seq=2882756817 (0)                            win=64240 len=0
 *                               [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7]
 *               client  CLOSED → SYN-SENT        (sent SYN: active open)
 *     0.000021  C ← S  SYN,ACK  seq=1004003002 (0)     ack=2882756818 (1)     win=65160 len=0
 *
 * Layout rules (golden tests depend on them):
 *  - time since the start of the run, seconds with 6 decimals, right-aligned
 *    in 10 columns; the direction with role letters; the flags padded to 7;
 *    seq and ack padded to one width (21, or 14 with absolute_only) so that
 *    win/len line up whether or not the segment carries an ACK;
 *  - after that, the "extras" in this order: [retransmission], the options
 *    in tcpdump's spelling, a quoted payload preview, "— annotation".  Each
 *    goes on the line if the line stays within 100 columns, otherwise on a
 *    continuation line indented to the seq column;
 *  - state and note lines leave the time column blank when they happen at
 *    the time of the line above (the usual case: caused by that segment),
 *    and show their own time otherwise (a timer fired);
 *  - show_conn prefixes every line with "[N]" padded to 6 columns;
 *  - summary_only replaces everything with one line per connection.
 * Widths count display columns, not bytes: "→", "←", "…", "—", "µ" are
 * one column each, and ANSI colour sequences none.
 *
 * Text that comes from elsewhere (annotations, reasons, notes) is written
 * as-is when it is printable UTF-8; control characters and invalid bytes
 * are shown as \xNN so a hostile capture cannot drive the terminal.
 */
#include "tcplab/render.h"

#include <stdlib.h>
#include <string.h>

#include "render_buf.h"

#define TEXT_COLS        100 /* the terminal width the layout aims at */
#define TIME_WIDTH       10  /* "999.999999" */
#define FLAGS_WIDTH      7   /* "SYN,ACK", "FIN,ACK", "PSH,ACK" */
#define SEQ_WIDTH_REL    21  /* "seq=4294967295 (1448)" */
#define SEQ_WIDTH_ABS    14  /* "seq=4294967295" */
#define PREFIX_WIDTH     6   /* "[123] " */
#define PREVIEW_COLS     40  /* payload preview, escaped, between the quotes */
#define STATE_PAIR_WIDTH 23  /* "ESTABLISHED → FIN-WAIT-1" is 24: overflows by one */
#define LABEL_WIDTH      17  /* summary labels: "client → server  " */

/* ANSI SGR sequences (ECMA-48 §8.3.117). */
#define SGR_RESET  "\033[0m"
#define SGR_BOLD   "\033[1m"
#define SGR_DIM    "\033[2m"
#define SGR_RED    "\033[1;31m"
#define SGR_GREEN  "\033[32m"
#define SGR_YELLOW "\033[33m"
#define SGR_CYAN   "\033[36m"

static const char hex_digits[] = "0123456789abcdef";

struct text_priv {
	struct rbuf b;
	bool color;
	bool wrote_any;     /* something was printed: separate blocks by a blank line */
	bool have_last_t;
	uint64_t last_t;    /* time shown (or implied) by the last timed line */
};

/* A line under construction, for the extras' packing rule. */
struct line {
	struct text_priv *p;
	const struct renderer *r;
	unsigned conn;
	int col;            /* display column of the cursor */
	int indent;         /* where continuation lines start */
};

/* ---- small writers ----------------------------------------------------- */

/* Starts colour `sgr` when colours are on. */
static void color_on(struct text_priv *p, const char *sgr)
{
	if (p->color)
		rbuf_puts(&p->b, sgr);
}

/* Ends a colour started by color_on. */
static void color_off(struct text_priv *p)
{
	if (p->color)
		rbuf_puts(&p->b, SGR_RESET);
}

/*
 * Bytes of the character at p if it is safe to show as-is: printable ASCII,
 * or a well-formed UTF-8 sequence other than a C1 control (U+0080..U+009F,
 * which some terminals obey like ESC sequences).  0 when it must be escaped.
 */
static size_t safe_char_len(const unsigned char *p)
{
	if (*p >= 0x20 && *p < 0x7F)
		return 1;
	if (*p < 0x80)
		return 0;
	if (p[0] == 0xC2 && p[1] < 0xA0)
		return 0;
	return utf8_str_seq_len(p);
}

/*
 * Columns `s` takes when written by put_text(): a safe character is one
 * column, any other byte is shown as \xNN (four).  East Asian wide
 * characters count as one: tcplab's own sentences have none.
 */
static int text_width(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int w = 0;

	if (s == NULL)
		return 0;
	while (*p != '\0') {
		size_t n = safe_char_len(p);

		if (n > 0) {
			p += n;
			w++;
		} else {
			p++;
			w += 4;
		}
	}
	return w;
}

/* Writes s with control characters and invalid UTF-8 shown as \xNN. */
static void put_text(struct rbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL)
		return;
	while (*p != '\0') {
		/* Copy the longest run of safe characters in one go. */
		const unsigned char *run = p;
		size_t n;

		while ((n = safe_char_len(p)) > 0)
			p += n;
		rbuf_write(b, (const char *)run, (size_t)(p - run));
		if (*p == '\0')
			break;
		char e[4] = { '\\', 'x', hex_digits[*p >> 4], hex_digits[*p & 0xF] };

		rbuf_write(b, e, sizeof(e));
		p++;
	}
}

/*
 * Writes "[N]" padded to PREFIX_WIDTH when show_conn is on ("[-]" for
 * events outside any connection); returns the columns written.
 */
static int put_prefix(const struct renderer *r, struct text_priv *p, unsigned conn)
{
	int w;

	if (!r->opt.show_conn)
		return 0;
	rbuf_putc(&p->b, '[');
	if (conn == 0) {
		rbuf_putc(&p->b, '-');
		w = 3;
	} else {
		rbuf_u64(&p->b, conn);
		w = dec_digits(conn) + 2;
	}
	rbuf_putc(&p->b, ']');
	rbuf_spaces(&p->b, w < PREFIX_WIDTH ? PREFIX_WIDTH - w : 1);
	return w < PREFIX_WIDTH ? PREFIX_WIDTH : w + 1;
}

/* Writes the time right-aligned in TIME_WIDTH; returns the columns written. */
static int put_time(struct text_priv *p, uint64_t t_ns)
{
	int w = seconds_width(t_ns, 6);

	rbuf_spaces(&p->b, TIME_WIDTH - w);
	(void)rbuf_seconds(&p->b, t_ns, 6);
	p->have_last_t = true;
	p->last_t = t_ns;
	return w > TIME_WIDTH ? w : TIME_WIDTH;
}

/* The time column of a state or note line: blank when it repeats the line above. */
static void put_time_column(struct text_priv *p, uint64_t t_ns)
{
	if (p->have_last_t && p->last_t == t_ns)
		rbuf_spaces(&p->b, TIME_WIDTH);
	else
		(void)put_time(p, t_ns);
}

/*
 * Writes a duration for people: µs below a millisecond, ms below a second,
 * s above, one decimal, rounded half up.  `space` puts a blank before the
 * unit ("21.0 µs"); the one-line summary leaves it out ("21.0µs").
 */
static void put_duration(struct rbuf *b, uint64_t ns, bool space)
{
	uint64_t unit;
	const char *name;

	if (ns < 999950u) {
		unit = 100u;              /* tenths of a microsecond */
		name = "µs";
	} else if (ns < 999950000u) {
		unit = 100000u;           /* tenths of a millisecond */
		name = "ms";
	} else {
		unit = 100000000u;        /* tenths of a second */
		name = "s";
	}
	uint64_t tenths = ns / unit + (ns % unit >= unit / 2 ? 1u : 0u);

	rbuf_u64(b, tenths / 10);
	rbuf_putc(b, '.');
	rbuf_putc(b, (char)('0' + tenths % 10));
	if (space)
		rbuf_putc(b, ' ');
	rbuf_puts(b, name);
}

/* Writes "N word" or "N words". */
static void put_count(struct rbuf *b, uint64_t n, const char *one, const char *many)
{
	rbuf_u64(b, n);
	rbuf_putc(b, ' ');
	rbuf_puts(b, n == 1 ? one : many);
}

/* A tiny bounded string builder for the pieces whose width must be known
 * before they are written (options, payload preview). */
struct sbuf {
	char *s;
	size_t cap, len;  /* len < cap always; s[len] == '\0' */
};

/* Appends n bytes of t, silently cutting at capacity (the caller sized it). */
static void sb_add(struct sbuf *sb, const char *t, size_t n)
{
	if (n > sb->cap - 1 - sb->len)
		n = sb->cap - 1 - sb->len;
	memcpy(sb->s + sb->len, t, n);
	sb->len += n;
	sb->s[sb->len] = '\0';
}

/* Appends a string. */
static void sb_str(struct sbuf *sb, const char *t)
{
	sb_add(sb, t, strlen(t));
}

/* Appends v in decimal. */
static void sb_u64(struct sbuf *sb, uint64_t v)
{
	char tmp[20];
	char *q = tmp + sizeof(tmp);

	do {
		*--q = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	sb_add(sb, q, (size_t)(tmp + sizeof(tmp) - q));
}

/* ---- segment lines ----------------------------------------------------- */

/*
 * Appends n NOPs, each as "nop" up to 8 of them, beyond that as a count (the
 * option space is 40 bytes, RFC 9293 §3.1: 40 NOPs would swamp the line).
 */
static void put_nops(struct sbuf *sb, unsigned n, const char **sep)
{
	if (n > 8) {
		sb_str(sb, *sep);
		sb_str(sb, "nop x");
		sb_u64(sb, n);
		*sep = ",";
		return;
	}
	for (unsigned i = 0; i < n; i++) {
		sb_str(sb, *sep);
		sb_str(sb, "nop");
		*sep = ",";
	}
}

/*
 * Formats the options the way tcpdump prints them, in a fixed order (the
 * struct keeps what was present, not the order on the wire): NOPs first
 * when the segment has no SYN-only options (Linux pads "nop,nop,TS"),
 * otherwise where Linux puts its single NOP, before wscale — so the
 * common cases read exactly like tcpdump.  SACK edges (RFC 2018 §3) are in
 * the receiver's sequence space, like the ack field, so they are shown
 * relative whenever the ack is.
 */
static void format_options(const struct tl_segment_event *se, bool absolute_only, struct sbuf *sb)
{
	const struct tcp_options *o = &se->seg->opt;
	bool syn_only = o->has_mss || o->has_sack_perm || o->has_wscale;
	const char *sep = "";
	bool nops_done = false;

	if (!syn_only) {
		put_nops(sb, o->nop_count, &sep);
		nops_done = true;
	}
	if (o->has_mss) {
		sb_str(sb, "mss ");
		sb_u64(sb, o->mss);
		sep = ",";
	}
	if (o->has_sack_perm) {
		sb_str(sb, sep);
		sb_str(sb, "sackOK");
		sep = ",";
	}
	if (o->has_timestamps) {
		sb_str(sb, sep);
		sb_str(sb, "TS val ");
		sb_u64(sb, o->ts_val);
		sb_str(sb, " ecr ");
		sb_u64(sb, o->ts_ecr);
		sep = ",";
	}
	if (!nops_done)
		put_nops(sb, o->nop_count, &sep);
	if (o->has_wscale) {
		sb_str(sb, sep);
		sb_str(sb, "wscale ");
		sb_u64(sb, o->wscale);
		sep = ",";
	}
	if (o->sack_count > 0) {
		unsigned n = o->sack_count < TCP_MAX_SACK_BLOCKS ? o->sack_count : TCP_MAX_SACK_BLOCKS;
		bool rel = !absolute_only && se->rel_ack_known && (se->seg->flags & TCP_FLAG_ACK);
		uint32_t base = rel ? se->seg->ack - se->rel_ack : 0;

		sb_str(sb, sep);
		sb_str(sb, "sack ");
		sb_u64(sb, n);
		sb_str(sb, " ");
		for (unsigned i = 0; i < n; i++) {
			sb_str(sb, "{");
			sb_u64(sb, (uint32_t)(o->sack[i][0] - base));
			sb_str(sb, ":");
			sb_u64(sb, (uint32_t)(o->sack[i][1] - base));
			sb_str(sb, "}");
		}
		sep = ",";
	}
	if (o->unknown_count > 0) {
		sb_str(sb, sep);
		sb_str(sb, "unknown ");
		sb_u64(sb, o->unknown_count);
		sep = ",";
	}
	if (o->malformed) {
		sb_str(sb, sep);
		sb_str(sb, "malformed");
	}
}

/*
 * Formats the payload preview: the captured bytes in double quotes, C
 * escapes for \n \r \t \" \\, \xNN for other non-printable bytes, at most
 * PREVIEW_COLS columns inside the quotes, and "…" after the closing quote
 * when bytes are left out (cut here, or not in the capture).  Returns the
 * display width; leaves sb empty when no byte was captured.
 */
static int format_preview(const struct segment *s, struct sbuf *sb)
{
	size_t avail = s->payload != NULL ? s->payload_captured : 0;
	size_t i;
	int w = 2;

	if (avail > s->payload_len)
		avail = s->payload_len;
	if (avail == 0)
		return 0;
	sb_str(sb, "\"");
	for (i = 0; i < avail; i++) {
		unsigned char c = s->payload[i];
		char e[4];
		size_t n;

		switch (c) {
		case '\n': e[0] = '\\'; e[1] = 'n'; n = 2; break;
		case '\r': e[0] = '\\'; e[1] = 'r'; n = 2; break;
		case '\t': e[0] = '\\'; e[1] = 't'; n = 2; break;
		case '"':  e[0] = '\\'; e[1] = '"'; n = 2; break;
		case '\\': e[0] = '\\'; e[1] = '\\'; n = 2; break;
		default:
			if (c >= 0x20 && c < 0x7F) {
				e[0] = (char)c;
				n = 1;
			} else {
				e[0] = '\\';
				e[1] = 'x';
				e[2] = hex_digits[c >> 4];
				e[3] = hex_digits[c & 0xF];
				n = 4;
			}
		}
		if (w - 2 + (int)n > PREVIEW_COLS)
			break;
		sb_add(sb, e, n);
		w += (int)n;
	}
	sb_str(sb, "\"");
	if (i < s->payload_len) {
		sb_str(sb, "…");
		w++;
	}
	return w;
}

/*
 * Moves to where the next extra of `width` columns goes: after two spaces
 * on the current line if the line stays within TEXT_COLS, else at the
 * indent of a new continuation line.
 */
static void place_extra(struct line *ln, int width)
{
	if (ln->col + 2 + width <= TEXT_COLS) {
		rbuf_write(&ln->p->b, "  ", 2);
		ln->col += 2;
	} else {
		int w;

		rbuf_putc(&ln->p->b, '\n');
		w = put_prefix(ln->r, ln->p, ln->conn);
		rbuf_spaces(&ln->p->b, ln->indent - w);
		ln->col = ln->indent;
	}
	ln->col += width;
}

/*
 * Writes "seq=ABS (REL)" (REL only when shown) padded to width; returns the
 * columns taken (more than width when the numbers did not fit).
 */
static int put_seq(struct rbuf *b, const char *name, uint32_t abs, bool rel_shown, uint32_t rel,
		   int width)
{
	int w = 4 + dec_digits(abs);

	rbuf_puts(b, name);
	rbuf_u64(b, abs);
	if (rel_shown) {
		rbuf_write(b, " (", 2);
		rbuf_u64(b, rel);
		rbuf_putc(b, ')');
		w += 3 + dec_digits(rel);
	}
	rbuf_spaces(b, width - w);
	return w > width ? w : width;
}

/* The SGR colour of a flag set: what matters most to the reader wins. */
static const char *flags_color(uint8_t flags)
{
	if (flags & TCP_FLAG_RST)
		return SGR_RED;
	if (flags & TCP_FLAG_SYN)
		return SGR_GREEN;
	if (flags & TCP_FLAG_FIN)
		return SGR_YELLOW;
	return NULL;
}

/* One segment: the main line and its continuation lines. */
static void text_segment(struct renderer *r, struct text_priv *p, const struct tl_event *ev)
{
	const struct tl_segment_event *se = &ev->u.segment;
	const struct segment *s = se->seg;
	struct rbuf *b = &p->b;
	bool abs_only = r->opt.absolute_only;
	int seqw = abs_only ? SEQ_WIDTH_ABS : SEQ_WIDTH_REL;
	struct line ln = { .p = p, .r = r, .conn = ev->conn };
	char flags[40];
	struct sbuf fsb = { flags, sizeof(flags), 0 };
	const char *sgr;

	flags[0] = '\0';
	for (unsigned i = 0; i < TCP_FLAG_NAME_COUNT; i++) {
		if (s->flags & tcp_flag_names[i].bit) {
			if (fsb.len > 0)
				sb_str(&fsb, ",");
			sb_str(&fsb, tcp_flag_names[i].name);
		}
	}
	if (fsb.len == 0)
		sb_str(&fsb, "none");

	ln.col = put_prefix(r, p, ev->conn);
	ln.col += put_time(p, ev->t_ns);
	rbuf_puts(b, se->from == TL_CLIENT ? "  C → S  " : "  C ← S  ");
	ln.col += 9;
	sgr = flags_color(s->flags);
	if (sgr != NULL)
		color_on(p, sgr);
	rbuf_write(b, flags, fsb.len);
	if (sgr != NULL)
		color_off(p);
	rbuf_spaces(b, FLAGS_WIDTH - (int)fsb.len);
	rbuf_write(b, "  ", 2);
	ln.col += ((int)fsb.len > FLAGS_WIDTH ? (int)fsb.len : FLAGS_WIDTH) + 2;
	ln.indent = ln.col;

	ln.col += put_seq(b, "seq=", s->seq, !abs_only && se->rel_seq_known, se->rel_seq, seqw);
	rbuf_write(b, "  ", 2);
	ln.col += 2;
	/* Without ACK the acknowledgment field means nothing (RFC 9293 §3.1):
	 * leave its column blank so win and len stay aligned. */
	if (s->flags & TCP_FLAG_ACK) {
		ln.col += put_seq(b, "ack=", s->ack, !abs_only && se->rel_ack_known, se->rel_ack, seqw);
	} else {
		rbuf_spaces(b, seqw);
		ln.col += seqw;
	}
	rbuf_write(b, "  win=", 6);
	rbuf_u64(b, s->window);
	rbuf_write(b, " len=", 5);
	rbuf_u64(b, s->payload_len);
	ln.col += 6 + dec_digits(s->window) + 5 + dec_digits(s->payload_len);

	if (se->retransmission) {
		place_extra(&ln, 16);
		color_on(p, SGR_RED);
		rbuf_puts(b, "[retransmission]");
		color_off(p);
	}
	{
		const struct tcp_options *o = &s->opt;

		if (o->has_mss || o->has_sack_perm || o->has_wscale || o->has_timestamps ||
		    o->sack_count || o->nop_count || o->unknown_count || o->malformed) {
			char text[320];
			struct sbuf sb = { text, sizeof(text), 0 };

			text[0] = '\0';
			sb_str(&sb, "[");
			format_options(se, abs_only, &sb);
			sb_str(&sb, "]");
			place_extra(&ln, (int)sb.len);
			rbuf_write(b, text, sb.len);
		}
	}
	if (s->payload_len > 0) {
		char text[PREVIEW_COLS + 16];
		struct sbuf sb = { text, sizeof(text), 0 };
		int w;

		text[0] = '\0';
		w = format_preview(s, &sb);
		if (w > 0) {
			place_extra(&ln, w);
			rbuf_write(b, text, sb.len);
		}
	}
	if (se->annotation != NULL && se->annotation[0] != '\0') {
		place_extra(&ln, 2 + text_width(se->annotation));
		rbuf_puts(b, "— ");
		put_text(b, se->annotation);
	}
	rbuf_putc(b, '\n');
}

/* ---- other events ------------------------------------------------------ */

/* "conn N: client A → server B", after a blank line unless it is the first. */
static void text_conn_begin(struct renderer *r, struct text_priv *p, const struct tl_event *ev)
{
	const struct tl_conn_begin *c = &ev->u.begin;
	char client[ENDPOINT_TEXT_SIZE], server[ENDPOINT_TEXT_SIZE];
	struct rbuf *b = &p->b;

	endpoint_format(&c->client_addr, c->client_port, client);
	endpoint_format(&c->server_addr, c->server_port, server);
	if (p->wrote_any)
		rbuf_putc(b, '\n');
	(void)put_prefix(r, p, ev->conn);
	color_on(p, SGR_BOLD);
	rbuf_puts(b, "conn ");
	rbuf_u64(b, ev->conn);
	color_off(p);
	rbuf_puts(b, ": client ");
	rbuf_puts(b, client);
	rbuf_puts(b, " → server ");
	rbuf_puts(b, server);
	if (c->midstream)
		rbuf_puts(b, "  (joined mid-stream: roles guessed from ports)");
	rbuf_putc(b, '\n');
}

/* "            client  SYN-SENT → ESTABLISHED   (reason)" */
static void text_state(struct renderer *r, struct text_priv *p, const struct tl_event *ev)
{
	const struct tl_state_event *st = &ev->u.state;
	const char *from = tcp_state_name(st->from);
	const char *to = tcp_state_name(st->to);
	struct rbuf *b = &p->b;
	int w = (int)strlen(from) + 3 + (int)strlen(to);

	(void)put_prefix(r, p, ev->conn);
	put_time_column(p, ev->t_ns);
	rbuf_write(b, "  ", 2);
	rbuf_puts(b, tl_role_name(st->endpoint));
	rbuf_write(b, "  ", 2);
	rbuf_puts(b, from);
	rbuf_puts(b, " → ");
	color_on(p, SGR_CYAN);
	rbuf_puts(b, to);
	color_off(p);
	if (st->reason != NULL && st->reason[0] != '\0') {
		rbuf_spaces(b, STATE_PAIR_WIDTH - w);
		rbuf_write(b, "  (", 3);
		put_text(b, st->reason);
		rbuf_putc(b, ')');
	}
	rbuf_putc(b, '\n');
}

/* "            note: text" */
static void text_note(struct renderer *r, struct text_priv *p, const struct tl_event *ev)
{
	struct rbuf *b = &p->b;

	(void)put_prefix(r, p, ev->conn);
	put_time_column(p, ev->t_ns);
	rbuf_write(b, "  ", 2);
	color_on(p, SGR_DIM);
	rbuf_puts(b, "note: ");
	put_text(b, ev->u.note);
	color_off(p);
	rbuf_putc(b, '\n');
}

/* "  0.012345  client  cwnd 28960 (slow start) ..." — the driven endpoint's sender */
static void text_endpoint(struct renderer *r, struct text_priv *p, const struct tl_event *ev)
{
	struct rbuf *b = &p->b;

	(void)put_prefix(r, p, ev->conn);
	put_time_column(p, ev->t_ns);
	rbuf_write(b, "  ", 2);
	rbuf_puts(b, tl_role_name(ev->u.endpoint.endpoint));
	rbuf_write(b, "  ", 2);
	color_on(p, SGR_YELLOW);
	put_text(b, ev->u.endpoint.text ? ev->u.endpoint.text : ev->u.endpoint.what);
	color_off(p);
	rbuf_putc(b, '\n');
}

/* The SGR colour of an outcome: green for a clean close, red for a failure. */
static const char *outcome_color(enum tl_outcome o)
{
	switch (o) {
	case TL_OUTCOME_CLOSED:
		return SGR_GREEN;
	case TL_OUTCOME_REFUSED:
	case TL_OUTCOME_RESET:
		return SGR_RED;
	case TL_OUTCOME_TIMEOUT:
	case TL_OUTCOME_HALF_OPEN:
		return SGR_YELLOW;
	case TL_OUTCOME_OPEN:
		break;
	}
	return SGR_BOLD;
}

/* Starts one labelled line of the summary block. */
static void summary_label(struct renderer *r, struct text_priv *p, unsigned conn, const char *label)
{
	(void)put_prefix(r, p, conn);
	rbuf_write(&p->b, "  ", 2);
	rbuf_puts(&p->b, label);
	rbuf_spaces(&p->b, LABEL_WIDTH - text_width(label));
}

/* "6 bytes, 5 segments, 0 retransmissions" */
static void summary_traffic(struct rbuf *b, const struct tl_side_summary *s)
{
	put_count(b, s->bytes, "byte", "bytes");
	rbuf_write(b, ", ", 2);
	put_count(b, s->segments, "segment", "segments");
	rbuf_write(b, ", ", 2);
	put_count(b, s->retransmissions, "retransmission", "retransmissions");
	rbuf_putc(b, '\n');
}

/*
 * "not negotiated" and why: an option is on only when both SYNs carry it
 * (RFC 7323 §1.3 and §2.2 for window scale and timestamps, RFC 2018 §2 for
 * SACK), so say which side did not, or that one side's SYN was never seen
 * (refused, or not in the capture) and nobody can tell.
 */
static void summary_not_negotiated(struct rbuf *b, const struct tl_summary *sm, bool c_offered,
				   bool s_offered, const char *what)
{
	bool c_seen = sm->side[TL_CLIENT].syn_seen, s_seen = sm->side[TL_SERVER].syn_seen;

	rbuf_puts(b, "not negotiated");
	if (!c_seen && !s_seen) {
		rbuf_puts(b, " (no SYN seen from either side)");
	} else if (!s_seen) {
		rbuf_puts(b, " (no SYN-ACK seen from the server)");
	} else if (!c_seen) {
		rbuf_puts(b, " (no SYN seen from the client)");
	} else if (c_offered != s_offered) {
		rbuf_puts(b, c_offered ? " (only the client offered " : " (only the server offered ");
		rbuf_puts(b, what);
		rbuf_putc(b, ')');
	} else if (!c_offered) {
		rbuf_puts(b, " (neither side offered ");
		rbuf_puts(b, what);
		rbuf_putc(b, ')');
	}
	rbuf_putc(b, '\n');
}

/* The summary block of one connection. */
static void text_summary_block(struct renderer *r, struct text_priv *p, const struct tl_event *ev)
{
	const struct tl_summary *sm = &ev->u.summary;
	const struct tl_side_summary *c = &sm->side[TL_CLIENT], *s = &sm->side[TL_SERVER];
	struct rbuf *b = &p->b;
	unsigned conn = ev->conn;

	if (p->wrote_any)
		rbuf_putc(b, '\n');
	(void)put_prefix(r, p, conn);
	color_on(p, SGR_BOLD);
	rbuf_puts(b, "conn ");
	rbuf_u64(b, conn);
	rbuf_puts(b, " summary: ");
	color_off(p);
	color_on(p, outcome_color(sm->outcome));
	rbuf_puts(b, tl_outcome_name(sm->outcome));
	color_off(p);
	if (sm->ended_how != NULL && sm->ended_how[0] != '\0') {
		rbuf_puts(b, " — ");
		put_text(b, sm->ended_how);
	}
	rbuf_putc(b, '\n');

	summary_label(r, p, conn, "handshake");
	if (sm->rtt_known) {
		rbuf_puts(b, "RTT ");
		put_duration(b, sm->rtt_ns, true);
		rbuf_puts(b, " (SYN → SYN-ACK)");
	} else {
		rbuf_puts(b, "RTT unknown");
	}
	if (sm->reaction_known) {
		rbuf_puts(b, ", reaction ");
		put_duration(b, sm->reaction_ns, true);
		rbuf_puts(b, " (SYN-ACK → ACK)");
	} else {
		rbuf_puts(b, ", reaction unknown");
	}
	rbuf_putc(b, '\n');

	summary_label(r, p, conn, "client → server");
	summary_traffic(b, c);
	summary_label(r, p, conn, "server → client");
	summary_traffic(b, s);

	summary_label(r, p, conn, "final states");
	rbuf_puts(b, "client ");
	color_on(p, SGR_CYAN);
	rbuf_puts(b, tcp_state_name(c->final_state));
	color_off(p);
	rbuf_puts(b, ", server ");
	color_on(p, SGR_CYAN);
	rbuf_puts(b, tcp_state_name(s->final_state));
	color_off(p);
	rbuf_putc(b, '\n');

	summary_label(r, p, conn, "initial seq");
	rbuf_puts(b, "client ");
	if (c->isn_known)
		rbuf_u64(b, c->isn);
	else
		rbuf_puts(b, "unknown");
	rbuf_puts(b, ", server ");
	if (s->isn_known)
		rbuf_u64(b, s->isn);
	else
		rbuf_puts(b, "unknown");
	rbuf_putc(b, '\n');

	/* MSS is announced, not negotiated (RFC 9293 §3.7.1): each side's own. */
	summary_label(r, p, conn, "MSS");
	for (int i = 0; i < 2; i++) {
		const struct tl_side_summary *sd = &sm->side[i];

		rbuf_puts(b, i == 0 ? "client " : ", server ");
		if (!sd->syn_seen)
			rbuf_puts(b, "not seen");
		else if (sd->syn_options.has_mss)
			rbuf_u64(b, sd->syn_options.mss);
		else
			rbuf_puts(b, "none");
	}
	rbuf_putc(b, '\n');

	summary_label(r, p, conn, "window scale");
	if (sm->wscale_ok) {
		rbuf_puts(b, "client ");
		rbuf_u64(b, c->syn_options.wscale);
		rbuf_puts(b, ", server ");
		rbuf_u64(b, s->syn_options.wscale);
		rbuf_putc(b, '\n');
	} else {
		summary_not_negotiated(b, sm, c->syn_seen && c->syn_options.has_wscale,
				       s->syn_seen && s->syn_options.has_wscale, "it");
	}
	summary_label(r, p, conn, "SACK");
	if (sm->sack_ok)
		rbuf_puts(b, "negotiated\n");
	else
		summary_not_negotiated(b, sm, c->syn_seen && c->syn_options.has_sack_perm,
				       s->syn_seen && s->syn_options.has_sack_perm, "it");
	summary_label(r, p, conn, "timestamps");
	if (sm->timestamps_ok)
		rbuf_puts(b, "negotiated\n");
	else
		summary_not_negotiated(b, sm, c->syn_seen && c->syn_options.has_timestamps,
				       s->syn_seen && s->syn_options.has_timestamps, "them");

	summary_label(r, p, conn, "started");
	rbuf_iso8601(b, sm->start_ns);
	rbuf_putc(b, '\n');
	summary_label(r, p, conn, "duration");
	(void)rbuf_seconds(b, sm->duration_ns, 6);
	rbuf_puts(b, " s\n");
	if (sm->midstream) {
		summary_label(r, p, conn, "mid-stream");
		rbuf_puts(b, "the handshake is not in the capture; roles guessed from ports\n");
	}
}

/* "1460/1460": one option value per side, "?" when that SYN was not seen,
 * "-" when it carried no such option. */
static void put_side_pair(struct rbuf *b, const struct tl_summary *sm, bool mss)
{
	for (int i = 0; i < 2; i++) {
		const struct tl_side_summary *sd = &sm->side[i];
		bool has = mss ? sd->syn_options.has_mss : sd->syn_options.has_wscale;

		if (i == 1)
			rbuf_putc(b, '/');
		if (!sd->syn_seen)
			rbuf_putc(b, '?');
		else if (!has)
			rbuf_putc(b, '-');
		else
			rbuf_u64(b, mss ? sd->syn_options.mss : sd->syn_options.wscale);
	}
}

/*
 * One line per connection, fields always present so awk can count them:
 * conn N  A → B  START  rtt X + Y  mss C/S ws C/S sack yes|no ts yes|no
 * bytes →N ←N  dur S  OUTCOME  states C/S  [midstream]
 */
static void text_summary_line(struct text_priv *p, const struct tl_event *ev)
{
	const struct tl_summary *sm = &ev->u.summary;
	struct rbuf *b = &p->b;

	rbuf_puts(b, "conn ");
	rbuf_u64(b, ev->conn);
	rbuf_write(b, "  ", 2);
	if (ev->conn_info != NULL) {
		const struct tl_conn_begin *c = ev->conn_info;

		rbuf_endpoint(b, &c->client_addr, c->client_port);
		rbuf_puts(b, " → ");
		rbuf_endpoint(b, &c->server_addr, c->server_port);
	} else {
		rbuf_puts(b, "? → ?");
	}
	rbuf_write(b, "  ", 2);
	rbuf_iso8601(b, sm->start_ns);
	rbuf_puts(b, "  rtt ");
	if (sm->rtt_known)
		put_duration(b, sm->rtt_ns, false);
	else
		rbuf_putc(b, '?');
	rbuf_puts(b, " + ");
	if (sm->reaction_known)
		put_duration(b, sm->reaction_ns, false);
	else
		rbuf_putc(b, '?');
	rbuf_puts(b, "  mss ");
	put_side_pair(b, sm, true);
	rbuf_puts(b, " ws ");
	put_side_pair(b, sm, false);
	rbuf_puts(b, sm->sack_ok ? " sack yes" : " sack no");
	rbuf_puts(b, sm->timestamps_ok ? " ts yes" : " ts no");
	rbuf_puts(b, "  bytes →");
	rbuf_u64(b, sm->side[TL_CLIENT].bytes);
	rbuf_puts(b, " ←");
	rbuf_u64(b, sm->side[TL_SERVER].bytes);
	rbuf_puts(b, "  dur ");
	(void)rbuf_seconds(b, sm->duration_ns, 6);
	rbuf_puts(b, " s  ");
	color_on(p, outcome_color(sm->outcome));
	rbuf_puts(b, tl_outcome_name(sm->outcome));
	color_off(p);
	rbuf_puts(b, "  states ");
	rbuf_puts(b, tcp_state_name(sm->side[TL_CLIENT].final_state));
	rbuf_putc(b, '/');
	rbuf_puts(b, tcp_state_name(sm->side[TL_SERVER].final_state));
	if (sm->midstream)
		rbuf_puts(b, "  midstream");
	rbuf_putc(b, '\n');
}

/* ---- the renderer ------------------------------------------------------ */

/* renderer.emit: prints ev (only summaries, one line each, with summary_only). */
static void text_emit(struct renderer *r, const struct tl_event *ev)
{
	struct text_priv *p = r->priv;

	if (r->opt.summary_only) {
		if (ev->kind == TL_EV_SUMMARY) {
			text_summary_line(p, ev);
			rbuf_flush(&p->b);
		}
		return;
	}
	switch (ev->kind) {
	case TL_EV_CONN_BEGIN:
		text_conn_begin(r, p, ev);
		break;
	case TL_EV_SEGMENT:
		if (ev->u.segment.seg == NULL)
			return;
		text_segment(r, p, ev);
		break;
	case TL_EV_STATE:
		text_state(r, p, ev);
		break;
	case TL_EV_NOTE:
		text_note(r, p, ev);
		break;
	case TL_EV_SUMMARY:
		text_summary_block(r, p, ev);
		break;
	case TL_EV_ENDPOINT:
		text_endpoint(r, p, ev);
		break;
	default:
		return; /* a kind added after this renderer: say nothing rather than guess */
	}
	p->wrote_any = true;
	rbuf_flush(&p->b);
}

/* renderer.finish: flushes stdio; the FILE stays open. */
static void text_finish(struct renderer *r)
{
	struct text_priv *p = r->priv;

	rbuf_flush(&p->b);
	fflush(r->out);
}

/* renderer.destroy: frees the renderer, writes nothing. */
static void text_destroy(struct renderer *r)
{
	free(r->priv);
	free(r);
}

/*
 * Text renderer writing to out (not owned, not closed).  opt may be NULL
 * (all defaults: relative numbers, full trace, no prefix, no colour).
 * Returns NULL when out of memory or when out is NULL.
 */
struct renderer *render_text_new(FILE *out, const struct render_options *opt)
{
	struct renderer *r;
	struct text_priv *p;

	if (out == NULL)
		return NULL;
	r = calloc(1, sizeof(*r));
	p = calloc(1, sizeof(*p));
	if (r == NULL || p == NULL) {
		free(r);
		free(p);
		return NULL;
	}
	rbuf_init(&p->b, out);
	r->emit = text_emit;
	r->finish = text_finish;
	r->destroy = text_destroy;
	r->out = out;
	if (opt != NULL)
		r->opt = *opt;
	p->color = r->opt.color;
	r->priv = p;
	return r;
}
