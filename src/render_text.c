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
#include "tcplab/palette.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcplab/analysis.h"
#include "render_buf.h"
#include "tcplab/decode.h"
#include "tcplab/catalog.h"
#include "tcplab/explain.h"
#include "tcplab/header_view.h"
#include "tcplab/textwidth.h"
#include "tcplab/side_counters.h"

/* Human text goes through the catalog (issue 12).  English, the common
 * case, costs one predictable branch: this runs for every line of a replay
 * (text_zh is set from the catalog's language when a renderer is made). */
static bool text_zh;
#define T(s) (text_zh ? catalog_tr(s) : (s))

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

/*
 * Flight collapse (text only, not with verbose).  A run is a stretch of one
 * connection's trace made only of plain segments: data from one sender and
 * pure ACKs, with no SYN, FIN or RST, no mark, no annotation and no state
 * change.  Its first RUN_HELD segments are kept; if the run ends with no
 * more than that, they are printed as usual, otherwise the run is one line
 * with counts, the sequence range and the bytes.  A run ends at any other
 * event (a mark, a state change, a SYN, FIN or RST, another connection), at
 * data from the other side, or after RUN_MAX_NS of capture time (so that a
 * long transfer under `watch` still shows progress).  An ACK covering all
 * the data does not end it: a receiver that keeps up acknowledges every
 * segment, and the flight is the whole burst.  Duplicate ACKs after the
 * third (the ones that trigger fast retransmit, RFC 5681 §3.2, stay on
 * lines of their own) join too: in fast recovery a flight answered by one
 * duplicate ACK per segment is one line that counts them.
 */
#define RUN_HELD   4
#define RUN_MAX_NS 1000000000ull

struct held_segment {
	struct tl_event ev;
	struct segment seg;
	uint8_t payload[PREVIEW_COLS];
};

struct run {
	bool open;
	unsigned conn;
	enum tl_role dir;          /* who sends the data */
	unsigned held;             /* segments kept in held[] */
	uint64_t data_segments, acks, bytes;
	uint64_t first_t, last_t;
	bool rel;                  /* numbers shown relative */
	uint32_t seq_lo, seq_hi;   /* shown numbers: first byte, end of the highest */
	bool ack_seen;
	uint32_t last_ack;         /* shown number of the latest ACK from the other side */
	uint64_t dups;             /* duplicate ACKs among the ACKs */
	uint32_t dup_lo, dup_hi;   /* their numbers, first and last */
	struct held_segment h[RUN_HELD];
};

struct text_priv {
	struct run run;
	struct rbuf b;
	bool color;
	bool wrote_any;     /* something was printed: separate blocks by a blank line */
	bool have_last_t;
	uint64_t last_t;    /* time shown (or implied) by the last timed line */
	struct explainer *x;        /* --explain; NULL otherwise */
	struct header_shifts *hs;   /* --header: window shifts per connection */
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
 * Columns `s` takes when written by put_text(): a safe character takes what
 * textwidth.h says (two for East Asian wide ones, issue 12), any other byte
 * is shown as \xNN (four).
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
			uint32_t cp;

			(void)tw_decode((const char *)p, n, &cp);
			w += tw_codepoint_width(cp);
			p += n;
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

/* "N word" or "N words" into sb. */
static void sb_count(struct sbuf *sb, uint64_t n, const char *one, const char *many)
{
	sb_u64(sb, n);
	sb_str(sb, " ");
	sb_str(sb, n == 1 ? one : many);
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
	/* Options known by name (issue 13), spelled as tcpdump spells them. */
	if (o->has_tfo) {
		sb_str(sb, sep);
		if (o->tfo_cookie_len == 0) {
			sb_str(sb, "tfo cookiereq");
		} else {
			sb_str(sb, "tfo cookie ");
			for (unsigned i = 0; i < o->tfo_cookie_len && i < sizeof(o->tfo_cookie); i++) {
				char hx[2] = { hex_digits[o->tfo_cookie[i] >> 4], hex_digits[o->tfo_cookie[i] & 0xF] };
				sb_add(sb, hx, 2);
			}
		}
		sep = ",";
	}
	if (o->has_mptcp) {
		sb_str(sb, sep);
		sb_str(sb, "mptcp ");
		sb_str(sb, mptcp_subtype_name(o->mptcp_subtype));
		sep = ",";
	}
	if (o->has_tcp_ao) {
		sb_str(sb, sep);
		sb_str(sb, "tcp-ao keyid ");
		sb_u64(sb, o->ao_keyid);
		sb_str(sb, " rnextkeyid ");
		sb_u64(sb, o->ao_rnextkeyid);
		sep = ",";
	}
	if (o->has_md5) {
		sb_str(sb, sep);
		sb_str(sb, "md5");
		sep = ",";
	}
	if (o->malformed) {
		sb_str(sb, sep);
		sb_str(sb, "malformed");
		sep = ",";
	}
	if (o->truncated) {
		sb_str(sb, sep);
		sb_str(sb, "cut by the capture");
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

/*
 * The text of a mark (analysis.h; bit 0: a plain retransmission) in the
 * reader's language: the catalog's "mark.NAME" entry, NAME being the mark's
 * JSON name ("mark.duplicate-ack"), whose msgid is the English text.
 */
static const char *mark_text(unsigned bit)
{
	const char *en = bit == 0 ? "retransmission" : tl_mark_text(bit);
	char code[64];
	const char *t;

	if (!text_zh || en == NULL)
		return en;
	snprintf(code, sizeof(code), "mark.%s", bit == 0 ? "retransmission" : tl_mark_name(bit));
	t = catalog_code(code);
	return t != NULL ? t : en;
}

/*
 * The segment's analysis marks as one bracket: the retransmission first,
 * named by its cause when known ("[RTO retransmission, spurious]"), then the
 * others in enum tl_mark order ("[dup ACK #3]", "[zero window]").  A plain
 * retransmission reads "[retransmission]", as before the marks existed.
 */
static void format_marks(const struct tl_segment_event *se, struct sbuf *sb)
{
	const unsigned retrans_bits = TL_MARK_FAST_RETRANS | TL_MARK_RTO_RETRANS | TL_MARK_SPURIOUS;
	const char *sep = "";

	sb_str(sb, "[");
	if (se->retransmission) {
		if (se->marks & TL_MARK_FAST_RETRANS)
			sb_str(sb, mark_text(TL_MARK_FAST_RETRANS));
		else if (se->marks & TL_MARK_RTO_RETRANS)
			sb_str(sb, mark_text(TL_MARK_RTO_RETRANS));
		else
			sb_str(sb, mark_text(0));
		if (se->marks & TL_MARK_SPURIOUS) {
			sb_str(sb, T(", "));
			sb_str(sb, mark_text(TL_MARK_SPURIOUS));
		}
		sep = T(", ");
	}
	for (unsigned i = 0; i < TL_MARK_COUNT; i++) {
		unsigned bit = 1u << i;
		if (!(se->marks & bit) || (bit & retrans_bits) || tl_mark_text(bit) == NULL)
			continue;
		sb_str(sb, sep);
		sb_str(sb, mark_text(bit));
		if (bit == TL_MARK_DUP_ACK) {
			sb_str(sb, " #");
			sb_u64(sb, se->dup_ack);
		}
		sep = T(", ");
	}
	sb_str(sb, "]");
}

/* The SGR colour of a flag set: what matters most to the reader wins. */
static const char *flags_color(uint8_t flags)
{
	/* the palette every format shares (palette.h) */
	const char *sgr = palette_sgr_mark(palette_mark_of(flags, 0));

	return sgr[0] != '\0' ? sgr : NULL;
}

/* Chinese line breaking (GB/T 15834 practice, JIS X 4051's kinsoku): a line
 * does not start with closing punctuation nor end with opening punctuation. */
static bool no_break_before(const unsigned char *q)
{
	static const char *const closing[] = { "，", "。", "、", "；", "：", "）", "”", "！", "？", "》" };

	for (size_t i = 0; i < sizeof(closing) / sizeof(closing[0]); i++)
		if (strncmp((const char *)q, closing[i], strlen(closing[i])) == 0)
			return true;
	return false;
}

/* True when the character just before q (a wide one) is opening punctuation. */
static bool no_break_after(const unsigned char *q)
{
	return (q[-3] == 0xEF && q[-2] == 0xBC && q[-1] == 0x88) ||   /* （ */
	       (q[-3] == 0xE2 && q[-2] == 0x80 && q[-1] == 0x9C) ||   /* “ */
	       (q[-3] == 0xE3 && q[-2] == 0x80 && q[-1] == 0x8A);     /* 《 */
}

/*
 * Where a line of s may end within `room` columns: the last good break (a
 * blank for English, before a wide character for Chinese, which has no
 * blanks between words, but never before closing punctuation nor after
 * opening punctuation), or NULL when there is none.  *end is where the
 * longest prefix that fits ends (the terminating NUL when all of s fits).
 */
static const unsigned char *fit_break(const unsigned char *s, int room, const unsigned char **end)
{
	const unsigned char *q = s, *cut = NULL;
	int w = 0;

	while (*q != '\0') {
		size_t n = safe_char_len(q);
		char one[5] = { 0 };
		int cw;

		if (n == 0)
			n = 1;
		memcpy(one, q, n);
		cw = text_width(one);
		if (w + cw > room)
			break;
		if (*q == ' ')
			cut = q;
		else if (n >= 3 && cw == 2 && !no_break_before(q) && !(q > s && no_break_after(q)))
			cut = q;          /* before a wide character (not before closing punctuation) */
		w += cw;
		q += n;
	}
	*end = q;
	return cut;
}

/*
 * Writes `text` from column `col` of the current line on, then `tail`
 * (a closing parenthesis: never alone on a line), wrapped within
 * TEXT_COLS: continuation lines start at column `indent` (after the
 * "[N]" prefix when show_conn is on).  Used where a sentence ends a line
 * (a state change's reason, the summary's ending) so that it fits 100
 * columns in English and in Chinese alike.  Returns the column it ends at.
 */
static int put_flow(const struct renderer *r, struct text_priv *p, unsigned conn, int col, int indent,
		    const char *text, const char *tail)
{
	const unsigned char *s = (const unsigned char *)text;
	int tail_w = text_width(tail);

	while (*s != '\0') {
		const unsigned char *end, *cut = fit_break(s, TEXT_COLS - col, &end);
		size_t len;
		char *piece;

		if (*end == '\0' && col + text_width((const char *)s) + tail_w <= TEXT_COLS) {
			put_text(&p->b, (const char *)s);
			col += text_width((const char *)s);
			break;
		}
		if (*end == '\0' && cut == NULL)   /* only the tail does not fit: break at the last good place */
			cut = fit_break(s, TEXT_COLS - col - tail_w, &end);
		if (cut == NULL || cut == s) {
			if (col > indent) {           /* nothing fits here: start a new line */
				cut = s;
			} else {                      /* one word wider than the line: whole, never cut */
				cut = end;
				while (*cut != '\0' && *cut != ' ')
					cut++;
			}
		}
		len = (size_t)(cut - s);
		while (len > 0 && s[len - 1] == ' ')
			len--;
		piece = strndup((const char *)s, len);
		if (piece != NULL) {
			put_text(&p->b, piece);
			col += text_width(piece);
			free(piece);
		}
		s = cut;
		while (*s == ' ')
			s++;
		if (*s == '\0')
			break;
		rbuf_putc(&p->b, '\n');
		col = put_prefix(r, p, conn);
		rbuf_spaces(&p->b, indent - col);
		col = indent;
	}
	rbuf_puts(&p->b, tail);
	return col + tail_w;
}

/*
 * Writes `text` as block lines under a segment: indent, then `mark`, then
 * the text wrapped to TEXT_COLS by display width — at the last blank for
 * English, anywhere between two wide characters for Chinese (which has no
 * blanks between words).
 */
static void put_block(const struct renderer *r, struct text_priv *p, unsigned conn, int indent,
		      const char *mark, const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	int room = TEXT_COLS - indent - text_width(mark);
	bool first = true;

	if (room < 20)
		room = 20;
	while (*s != '\0') {
		const unsigned char *q, *cut = fit_break(s, room, &q);

		if (*q == '\0' || cut == NULL || cut == s)
			cut = q;
		if (cut == s)             /* one character wider than the room */
			cut = q + (safe_char_len(q) > 0 ? safe_char_len(q) : 1);
		{
			char line[512];
			size_t len = (size_t)(cut - s) < sizeof(line) - 1 ? (size_t)(cut - s) : sizeof(line) - 1;
			int pw = put_prefix(r, p, conn);

			memcpy(line, s, len);
			while (len > 0 && line[len - 1] == ' ')
				len--;
			line[len] = '\0';
			rbuf_spaces(&p->b, indent - pw);
			if (first)
				rbuf_puts(&p->b, mark);
			else
				rbuf_spaces(&p->b, text_width(mark));
			color_on(p, SGR_DIM);
			put_text(&p->b, line);
			color_off(p);
			rbuf_putc(&p->b, '\n');
		}
		first = false;
		s = cut;
		while (*s == ' ')
			s++;
	}
}

/* --explain and --header lines under a segment (issue 12). */
static void text_segment_extras(struct renderer *r, struct text_priv *p, const struct tl_event *ev)
{
	const struct tl_segment_event *se = &ev->u.segment;
	int indent = (r->opt.show_conn ? PREFIX_WIDTH : 0) + TIME_WIDTH + 2;

	if (p->x != NULL) {
		struct explanation ex;

		explain_event(p->x, ev, &ex);
		for (unsigned i = 0; i < ex.nlines; i++)
			put_block(r, p, ev->conn, indent, i == 0 ? "» " : "  ", ex.lines[i]);
	}
	if (p->hs != NULL) {
		struct header_view *hv = malloc(sizeof(*hv));

		header_shift_note(p->hs, ev->conn, (int)se->from, se->seg);
		if (hv == NULL)
			return;
		header_view_format(se->seg, header_shift(p->hs, ev->conn, (int)se->from, se->seg), r->opt.hex, hv);
		for (unsigned i = 0; i < hv->n; i++)
			put_block(r, p, ev->conn, indent, i < 2 ? "| " : "|   ", hv->lines[i]);
		free(hv);
	}
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

	if (se->retransmission || se->marks != 0) {
		char text[160];
		struct sbuf sb = { text, sizeof(text), 0 };

		text[0] = '\0';
		format_marks(se, &sb);
		place_extra(&ln, text_width(text));
		color_on(p, SGR_RED);
		rbuf_write(b, text, sb.len);
		color_off(p);
	}
	{
		const struct tcp_options *o = &s->opt;

		if (o->has_mss || o->has_sack_perm || o->has_wscale || o->has_timestamps ||
		    o->sack_count || o->nop_count || o->unknown_count || o->malformed ||
		    o->has_tfo || o->has_mptcp || o->has_tcp_ao || o->has_md5 || o->truncated) {
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
	/* RFC 3168 §6.1.1 and RFC 7413 §3 name these SYNs: say so (issue 13). */
	if (segment_ecn_setup(s)) {
		place_extra(&ln, text_width(T("(ECN setup)")));
		rbuf_puts(b, T("(ECN setup)"));
	}
	if (segment_tfo_data(s)) {
		place_extra(&ln, text_width(T("(TCP Fast Open: SYN data)")));
		rbuf_puts(b, T("(TCP Fast Open: SYN data)"));
	}
	if (se->lost) {   /* --lose: built, never on the wire (issue 10) */
		place_extra(&ln, text_width(T("[lost on purpose]")));
		color_on(p, SGR_RED);
		rbuf_puts(b, T("[lost on purpose]"));
		color_off(p);
	}
	if (se->annotation != NULL && se->annotation[0] != '\0') {
		int w = 2 + text_width(T(se->annotation));

		place_extra(&ln, w);
		rbuf_puts(b, "— ");
		/* longer than a whole line: wrapped under itself */
		(void)put_flow(r, p, ev->conn, ln.col - w + 2, ln.indent + 2, T(se->annotation), "");
	}
	rbuf_putc(b, '\n');
	if (p->x != NULL || p->hs != NULL)
		text_segment_extras(r, p, ev);
}

/* ---- flight collapse --------------------------------------------------- */

/* True when ev may join (or start) a run: see struct run. */
static bool collapsible(const struct renderer *r, const struct tl_event *ev)
{
	const struct tl_segment_event *se = &ev->u.segment;
	const struct segment *s = se->seg;

	if (r->opt.verbose || r->opt.explain || r->opt.header || s == NULL || se->retransmission || se->state_changes)
		return false;
	if (se->marks != 0 && !(se->marks == TL_MARK_DUP_ACK && se->dup_ack > 3 && s->payload_len == 0))
		return false;
	if (se->annotation != NULL || se->lost || (s->flags & (TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_RST)))
		return false;
	return s->payload_len > 0 || (s->flags & TCP_FLAG_ACK);
}

/* "  0.000312  C → S  ×120     data seq 1..173761 (173760 bytes), 60 ACKs back up
 *  to 173761, until 0.004567" — a collapsed run, wrapped like a segment line. */
static void text_run_line(struct renderer *r, struct text_priv *p)
{
	struct run *rn = &p->run;
	struct rbuf *b = &p->b;
	struct line ln = { .p = p, .r = r, .conn = rn->conn };
	char count[24], text[96];
	struct sbuf sb = { count, sizeof(count), 0 };

	count[0] = '\0';
	ln.col = put_prefix(r, p, rn->conn);
	ln.col += put_time(p, rn->first_t);
	/* a run of duplicate ACKs alone is drawn as theirs: the other way */
	rbuf_puts(b, (rn->dir == TL_CLIENT) == (rn->data_segments > 0) ? "  C → S  " : "  C ← S  ");
	ln.col += 9;
	sb_str(&sb, "×");
	sb_u64(&sb, rn->data_segments > 0 ? rn->data_segments : rn->acks);
	rbuf_write(b, count, sb.len);
	rbuf_spaces(b, FLAGS_WIDTH - text_width(count));
	rbuf_write(b, "  ", 2);
	ln.col += (text_width(count) > FLAGS_WIDTH ? text_width(count) : FLAGS_WIDTH) + 2;
	ln.indent = ln.col;

	/* the items, ", " between them on the line, or wrapped to the indent */
	char items[4][96];
	unsigned n = 0;

	if (rn->data_segments > 0) {
		sb = (struct sbuf){ items[n], sizeof(items[n]), 0 };
		items[n][0] = '\0';
		sb_str(&sb, "data seq ");
		sb_u64(&sb, rn->seq_lo);
		sb_str(&sb, "..");
		sb_u64(&sb, rn->seq_hi);
		sb_str(&sb, " (");
		sb_count(&sb, rn->bytes, "byte", "bytes");
		sb_str(&sb, ")");
		n++;
	}
	if (rn->acks > 0) {
		sb = (struct sbuf){ items[n], sizeof(items[n]), 0 };
		items[n][0] = '\0';
		if (rn->dups == rn->acks) {
			/* "57 dup ACKs #4–#60 of 86881" */
			sb_count(&sb, rn->dups, "dup ACK", "dup ACKs");
			sb_str(&sb, " #");
			sb_u64(&sb, rn->dup_lo);
			sb_str(&sb, "–#");
			sb_u64(&sb, rn->dup_hi);
			if (rn->ack_seen) {
				sb_str(&sb, " of ");
				sb_u64(&sb, rn->last_ack);
			}
		} else {
			sb_count(&sb, rn->acks, "ACK", "ACKs");
			if (rn->ack_seen) {
				sb_str(&sb, " back up to ");
				sb_u64(&sb, rn->last_ack);
			}
		}
		n++;
		if (rn->dups > 0 && rn->dups < rn->acks) {
			sb = (struct sbuf){ items[n], sizeof(items[n]), 0 };
			items[n][0] = '\0';
			sb_count(&sb, rn->dups, "dup ACK", "dup ACKs");
			sb_str(&sb, " #");
			sb_u64(&sb, rn->dup_lo);
			sb_str(&sb, "–#");
			sb_u64(&sb, rn->dup_hi);
			n++;
		}
	}
	sb = (struct sbuf){ items[n], sizeof(items[n]), 0 };
	items[n][0] = '\0';
	sb_str(&sb, "until ");
	n++;
	/* each item in the reader's language: c-format entries ("data seq
	 * %u..%u (%u bytes)") match the English and carry the numbers over */
	for (unsigned i = 0; text_zh && i < n; i++) {
		const char *t = T(items[i]);

		if (t != items[i])   /* the same pointer when there is no translation */
			snprintf(items[i], sizeof(items[i]), "%s", t);
	}
	for (unsigned i = 0; i < n; i++) {
		bool last = i + 1 == n;
		int w = text_width(items[i]) + (last ? seconds_width(rn->last_t, 6) : text_zh ? 2 : 1);

		if (i > 0) {
			int gap = text_zh ? 0 : 1;   /* "，" needs no blank after it */

			if (ln.col + gap + w <= TEXT_COLS) {
				rbuf_spaces(b, gap);
				ln.col += gap;
			} else {
				int pw;

				rbuf_putc(b, '\n');
				pw = put_prefix(r, p, rn->conn);
				rbuf_spaces(b, ln.indent - pw);
				ln.col = ln.indent;
			}
		}
		rbuf_puts(b, items[i]);
		if (last)
			(void)rbuf_seconds(b, rn->last_t, 6);
		else
			rbuf_puts(b, text_zh ? "，" : ",");
		ln.col += w;
	}
	(void)text;
	rbuf_putc(b, '\n');
	p->have_last_t = true;
	p->last_t = rn->last_t;
}

/* Prints the open run (as its segments, or as one line) and closes it. */
static void run_flush(struct renderer *r, struct text_priv *p)
{
	struct run *rn = &p->run;

	if (!rn->open)
		return;
	rn->open = false;
	if (rn->data_segments + rn->acks <= RUN_HELD) {
		for (unsigned i = 0; i < rn->held; i++)
			text_segment(r, p, &rn->h[i].ev);
	} else {
		text_run_line(r, p);
	}
	p->wrote_any = true;
}

/* Keeps a copy of ev (segment and payload preview included) in the run. */
static void run_hold(struct run *rn, const struct tl_event *ev)
{
	struct held_segment *h;
	size_t n;

	if (rn->held >= RUN_HELD)
		return;
	h = &rn->h[rn->held++];
	h->ev = *ev;
	h->seg = *ev->u.segment.seg;
	n = h->seg.payload != NULL ? h->seg.payload_captured : 0;
	if (n > sizeof(h->payload))
		n = sizeof(h->payload);
	if (n > 0)
		memcpy(h->payload, h->seg.payload, n);
	h->seg.payload = n > 0 ? h->payload : NULL;
	h->seg.payload_captured = (uint32_t)n;
	h->ev.u.segment.seg = &h->seg;
}

/*
 * Offers a collapsible segment to the run: joins it, or ends the run and
 * starts a new one.  Returns false when ev cannot start a run (a pure ACK
 * with no run open): the caller prints it as usual.
 */
static bool run_offer(struct renderer *r, struct text_priv *p, const struct tl_event *ev)
{
	const struct tl_segment_event *se = &ev->u.segment;
	const struct segment *s = se->seg;
	struct run *rn = &p->run;
	bool data = s->payload_len > 0;
	uint32_t seq = se->rel_seq_known && !r->opt.absolute_only ? se->rel_seq : s->seq;

	if (rn->open && (rn->conn != ev->conn || (data && se->from != rn->dir) ||
			 ev->t_ns - rn->first_t >= RUN_MAX_NS))
		run_flush(r, p);
	if (rn->open && rn->dups > 0 && !data && se->from != rn->dir && (s->flags & TCP_FLAG_ACK) &&
	    !(se->marks & TL_MARK_DUP_ACK)) {
		/* the cumulative ACK that ends a run of duplicates (a recovery's
		 * end): a line of its own, it is the lesson */
		run_flush(r, p);
		return false;
	}
	if (!rn->open) {
		/* a run starts with data, or with duplicate ACKs (#4 on: fast
		 * recovery waits for the flight to drain before new data) */
		if (!data && !(se->marks & TL_MARK_DUP_ACK))
			return false;
		memset(rn, 0, offsetof(struct run, h));
		rn->open = true;
		rn->conn = ev->conn;
		rn->dir = data ? se->from : (se->from == TL_CLIENT ? TL_SERVER : TL_CLIENT);
		rn->first_t = ev->t_ns;
		rn->rel = se->rel_seq_known && !r->opt.absolute_only;
	}
	run_hold(rn, ev);
	rn->last_t = ev->t_ns;
	if (data && rn->data_segments == 0) {
		rn->seq_lo = seq;
		rn->seq_hi = seq + s->payload_len;
	}
	if (data) {
		rn->data_segments++;
		rn->bytes += s->payload_len;
		if (seq_gt(seq + s->payload_len, rn->seq_hi)) {
			rn->seq_hi = seq + s->payload_len;
			}
	} else {
		rn->acks++;
		if (se->marks & TL_MARK_DUP_ACK) {
			if (rn->dups++ == 0)
				rn->dup_lo = se->dup_ack;
			rn->dup_hi = se->dup_ack;
		}
	}
	if (se->from != rn->dir && (s->flags & TCP_FLAG_ACK)) {
		rn->ack_seen = true;
		rn->last_ack = rn->rel && se->rel_ack_known ? se->rel_ack : s->ack;
	}
	return true;
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
	int col = put_prefix(r, p, ev->conn);

	color_on(p, SGR_BOLD);
	rbuf_puts(b, T("conn "));
	rbuf_u64(b, ev->conn);
	color_off(p);
	rbuf_puts(b, T(": client "));
	rbuf_puts(b, client);
	rbuf_puts(b, T(" → server "));
	rbuf_puts(b, server);
	col += text_width(T("conn ")) + dec_digits(ev->conn) + text_width(T(": client ")) + text_width(client) +
	       text_width(T(" → server ")) + text_width(server);
	if (c->midstream && col + text_width(T("  (joined mid-stream: roles guessed from ports)")) > TEXT_COLS) {
		/* long IPv6 addresses: the remark on a line of its own, within 100 columns */
		const char *t = T("  (joined mid-stream: roles guessed from ports)");

		rbuf_putc(b, '\n');
		rbuf_spaces(b, (r->opt.show_conn ? PREFIX_WIDTH : 0) + 4 - put_prefix(r, p, ev->conn));
		rbuf_puts(b, t + strspn(t, " "));
	} else if (c->midstream)
		rbuf_puts(b, T("  (joined mid-stream: roles guessed from ports)"));
	if (c->encap_count > 0) {
		struct segment t;
		char names[128];

		/* said once, here: every segment of the connection came this way */
		memset(&t, 0, sizeof(t));
		t.encap_count = c->encap_count;
		memcpy(t.encap, c->encap, sizeof(t.encap));
		rbuf_puts(b, T("  (tunnel: "));
		rbuf_puts(b, segment_tunnel_format(&t, "/", names, sizeof(names)));
		rbuf_puts(b, T(")"));
	}
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
	rbuf_puts(b, T(tl_role_name(st->endpoint)));
	rbuf_spaces(b, 8 - (text_zh ? text_width(T(tl_role_name(st->endpoint))) : (int)strlen(tl_role_name(st->endpoint))));
	rbuf_puts(b, from);
	rbuf_puts(b, " → ");
	color_on(p, palette_sgr_phase(palette_phase_of(st->to)));   /* by phase, as every format */
	rbuf_puts(b, to);
	color_off(p);
	if (st->reason != NULL && st->reason[0] != '\0') {
		const char *open = T("  ("), *reason = T(st->reason), *close = T(")");
		int pad = STATE_PAIR_WIDTH - w > 0 ? STATE_PAIR_WIDTH - w : 0;
		int col = (r->opt.show_conn ? PREFIX_WIDTH : 0) + TIME_WIDTH + 2 + 8 + w;
		int over = col + pad + text_width(open) + text_width(reason) + text_width(close) - TEXT_COLS;

		/* a reason a little too long takes the padding before it (down
		 * to one blank) when that is enough; a longer one goes on under
		 * its parenthesis */
		if (over > 0 && over <= pad + (open[0] == ' ' && open[1] == ' ')) {
			int from_pad = over < pad ? over : pad;

			pad -= from_pad;
			over -= from_pad;
			if (over > 0 && open[0] == ' ' && open[1] == ' ')
				open++;
		}
		rbuf_spaces(b, pad);
		rbuf_puts(b, open);
		col += pad + text_width(open);
		(void)put_flow(r, p, ev->conn, col, col, reason, close);
	}
	rbuf_putc(b, '\n');
}

/* "            server (kernel)  SYN-RECEIVED → ESTABLISHED   (TCP_SYN_RECV → TCP_ESTABLISHED)" */
static void text_kernel_state(struct renderer *r, struct text_priv *p, const struct tl_event *ev)
{
	const struct tl_kernel_state_event *st = &ev->u.kstate;
	const char *from = tcp_state_name(st->from);
	const char *to = tcp_state_name(st->to);
	struct rbuf *b = &p->b;
	const char *role = T(tl_role_name(st->endpoint)), *kernel = T(" (kernel)");
	/* the states' column as in English, where role + " (kernel)" is 15 */
	int w = (int)strlen(from) + 3 + (int)strlen(to) + text_width(role) + text_width(kernel) - 6;

	(void)put_prefix(r, p, ev->conn);
	put_time_column(p, ev->t_ns);
	rbuf_write(b, "  ", 2);
	rbuf_puts(b, role);
	rbuf_puts(b, kernel);
	rbuf_puts(b, "  ");
	rbuf_puts(b, from);
	rbuf_puts(b, " → ");
	color_on(p, SGR_CYAN);
	rbuf_puts(b, to);
	color_off(p);
	rbuf_spaces(b, STATE_PAIR_WIDTH - w);
	rbuf_puts(b, T("  ("));
	put_text(b, st->kernel_from ? st->kernel_from : "?");
	rbuf_puts(b, " → ");
	put_text(b, st->kernel_to ? st->kernel_to : "?");
	rbuf_puts(b, T(")"));
	rbuf_putc(b, '\n');
}

/* "            note: text" */
static void text_note(struct renderer *r, struct text_priv *p, const struct tl_event *ev)
{
	struct rbuf *b = &p->b;

	int col = (r->opt.show_conn ? PREFIX_WIDTH : 0) + TIME_WIDTH + 2 + text_width(T("note: "));

	(void)put_prefix(r, p, ev->conn);
	put_time_column(p, ev->t_ns);
	rbuf_write(b, "  ", 2);
	color_on(p, SGR_DIM);
	rbuf_puts(b, T("note: "));
	(void)put_flow(r, p, ev->conn, col, col, T(ev->u.note), "");   /* wrapped under itself */
	color_off(p);
	rbuf_putc(b, '\n');
}

/* "  0.012345  client  cwnd 28960 (slow start) ..." — the driven endpoint's sender */
static void text_endpoint(struct renderer *r, struct text_priv *p, const struct tl_event *ev)
{
	struct rbuf *b = &p->b;

	const char *role = T(tl_role_name(ev->u.endpoint.endpoint));
	int col = (r->opt.show_conn ? PREFIX_WIDTH : 0) + TIME_WIDTH + 2 + text_width(role) + 2;

	(void)put_prefix(r, p, ev->conn);
	put_time_column(p, ev->t_ns);
	rbuf_write(b, "  ", 2);
	rbuf_puts(b, role);
	rbuf_write(b, "  ", 2);
	color_on(p, SGR_YELLOW);
	/* the sender's text (tcb.c) is translated through c-format entries;
	 * wrapped under itself within 100 columns */
	(void)put_flow(r, p, ev->conn, col, col,
		       T(ev->u.endpoint.text ? ev->u.endpoint.text : ev->u.endpoint.what), "");
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

/* "6 bytes, 5 segments, 0 retransmissions"; with retransmissions, their
 * causes: "3 retransmissions (1 RTO, 2 fast, 0 other; 1 spurious)". */
static void summary_traffic(struct rbuf *b, const struct tl_side_summary *s,
			    const struct tl_side_analysis *an)
{
	put_count(b, s->bytes, T("byte"), T("bytes"));
	rbuf_puts(b, T(", "));
	put_count(b, s->segments, T("segment"), T("segments"));
	rbuf_puts(b, T(", "));
	put_count(b, s->retransmissions, T("retransmission"), T("retransmissions"));
	/* the causes, when the analysis accounted for every retransmission */
	if (s->retransmissions > 0 &&
	    an->retrans_rto + an->retrans_fast + an->retrans_other == s->retransmissions) {
		char text[128];

		if (an->retrans_spurious > 0)
			snprintf(text, sizeof(text), T(" (%u RTO, %u fast, %u other; %u spurious)"),
				 (unsigned)an->retrans_rto, (unsigned)an->retrans_fast, (unsigned)an->retrans_other,
				 (unsigned)an->retrans_spurious);
		else
			snprintf(text, sizeof(text), T(" (%u RTO, %u fast, %u other)"), (unsigned)an->retrans_rto,
				 (unsigned)an->retrans_fast, (unsigned)an->retrans_other);
		rbuf_puts(b, text);
	}
	rbuf_putc(b, '\n');
}

/* A duration for people into sb, as put_duration with a space. */
static void sb_duration(struct sbuf *sb, uint64_t ns)
{
	uint64_t unit = ns < 999950u ? 100u : ns < 999950000u ? 100000u : 100000000u;
	const char *name = ns < 999950u ? " µs" : ns < 999950000u ? " ms" : " s";
	uint64_t tenths = ns / unit + (ns % unit >= unit / 2 ? 1u : 0u);
	char d[2] = { (char)('0' + tenths % 10), '\0' };

	sb_u64(sb, tenths / 10);
	sb_str(sb, ".");
	sb_str(sb, d);
	sb_str(sb, name);
}

/* A rate in bits per second with an SI prefix, one decimal: "8.4 Mbit/s"
 * ("8.4Mbit/s" without `space`, for the one-line summary). */
static void sb_rate(struct sbuf *sb, uint64_t bps, bool space)
{
	static const char *const names[] = { " kbit/s", " Mbit/s", " Gbit/s", " Tbit/s" };
	uint64_t div = 1000;
	unsigned i = 0;

	if (bps < 1000) {
		sb_u64(sb, bps);
		sb_str(sb, space ? " bit/s" : "bit/s");
		return;
	}
	while (i + 1 < sizeof(names) / sizeof(names[0]) && bps >= div * 1000 - div / 20) {
		div *= 1000;
		i++;
	}
	uint64_t tenths = (bps * 10 + div / 2) / div;
	char d[2] = { (char)('0' + tenths % 10), '\0' };

	sb_u64(sb, tenths / 10);
	sb_str(sb, ".");
	sb_str(sb, d);
	sb_str(sb, names[i] + (space ? 0 : 1));
}

/*
 * The wire figures of one side (analysis.h) as items packed on lines under
 * its traffic line, within TEXT_COLS: goodput, RTT samples, largest flight,
 * then what it showed as a receiver or prober (duplicate ACKs, zero
 * windows, ...).  Nothing when the side has none of them.
 */
static void summary_side_analysis(struct renderer *r, struct text_priv *p, unsigned conn,
				  const struct tl_side_analysis *an)
{
	char items[3 + 8][128];   /* goodput, RTT, flight, the counters */
	unsigned n = 0;
	struct sbuf sb;

#define ITEM_BEGIN() (sb = (struct sbuf){ items[n], sizeof(items[n]), 0 }, items[n][0] = '\0')
	if (an->goodput_known) {
		ITEM_BEGIN();
		sb_str(&sb, "goodput ");
		sb_rate(&sb, an->goodput_bps, true);
		n++;
	}
	if (an->rtt_samples > 0) {
		ITEM_BEGIN();
		sb_str(&sb, "RTT ");
		if (an->rtt_samples == 1) {
			sb_duration(&sb, an->rtt_min_ns);
			sb_str(&sb, " (1 sample)");
		} else {
			sb_str(&sb, "min ");
			sb_duration(&sb, an->rtt_min_ns);
			sb_str(&sb, " avg ");
			sb_duration(&sb, an->rtt_avg_ns);
			sb_str(&sb, " max ");
			sb_duration(&sb, an->rtt_max_ns);
			sb_str(&sb, " (");
			sb_u64(&sb, an->rtt_samples);
			sb_str(&sb, " samples)");
		}
		n++;
	}
	if (an->flight_known) {
		ITEM_BEGIN();
		sb_str(&sb, "largest flight ");
		sb_count(&sb, an->max_flight, "byte", "bytes");
		n++;
	}
	/* what it showed as a receiver or prober: one table (side_counters.h) */
	for (unsigned i = 0; i < side_counter_count && n < sizeof(items) / sizeof(items[0]); i++) {
		const struct side_counter *c = &side_counters[i];
		uint32_t v = side_counter_value(c, an);

		if (v == 0)
			continue;
		ITEM_BEGIN();
		sb_count(&sb, v, c->one, c->many);
		if (c->time_key != NULL) {
			sb_str(&sb, " (");
			sb_duration(&sb, side_counter_time(c, an));
			sb_str(&sb, " at zero)");
		}
		n++;
	}
#undef ITEM_BEGIN
	int col = 0;
	/* each item in the reader's language: c-format entries ("goodput %s",
	 * "%u dup ACKs") match the English and carry the figures over */
	for (unsigned i = 0; text_zh && i < n; i++) {
		const char *t = T(items[i]);

		if (t != items[i])   /* the same pointer when there is no translation */
			snprintf(items[i], sizeof(items[i]), "%s", t);
	}
	for (unsigned i = 0; i < n; i++) {
		int w = text_width(items[i]);

		if (i == 0 || col + 2 + w > TEXT_COLS) {
			if (i > 0)
				rbuf_putc(&p->b, '\n');
			summary_label(r, p, conn, "");
			col = 2 + LABEL_WIDTH + (r->opt.show_conn ? PREFIX_WIDTH : 0);
		} else {
			rbuf_puts(&p->b, T(", "));   /* "，" in Chinese: two columns too */
			col += 2;
		}
		rbuf_puts(&p->b, items[i]);
		col += w;
	}
	if (n > 0)
		rbuf_putc(&p->b, '\n');
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

	rbuf_puts(b, T("not negotiated"));
	if (!c_seen && !s_seen) {
		rbuf_puts(b, T(" (no SYN seen from either side)"));
	} else if (!s_seen) {
		rbuf_puts(b, T(" (no SYN-ACK seen from the server)"));
	} else if (!c_seen) {
		rbuf_puts(b, T(" (no SYN seen from the client)"));
	} else if (c_offered != s_offered) {
		rbuf_puts(b, c_offered ? T(" (only the client offered ") : T(" (only the server offered "));
		rbuf_puts(b, what);
		rbuf_puts(b, T(")"));
	} else if (!c_offered) {
		rbuf_puts(b, T(" (neither side offered "));
		rbuf_puts(b, what);
		rbuf_puts(b, T(")"));
	}
	rbuf_putc(b, '\n');
}

/*
 * "checksums  client → server 3 of 3 offloaded on the capturing host, ...":
 * only printed when a checksum was wrong.  A side whose every checked
 * segment holds just the pseudo-header sum was captured on its own host
 * with checksum offload (the NIC fills the field after the tap): not
 * corruption.  Segments with a really wrong sum are counted as bad.
 */
static void summary_checksums(struct renderer *r, struct text_priv *p, unsigned conn,
			      const struct tl_summary *sm)
{
	struct rbuf *b = &p->b;
	const char *sep = "";
	int indent = (r->opt.show_conn ? PREFIX_WIDTH : 0) + 2 + LABEL_WIDTH, col = indent;

	summary_label(r, p, conn, T("checksums"));
	for (int i = 0; i < 2; i++) {
		char line[320];
		uint32_t bad = sm->csum_bad[i], off = sm->csum_offloaded[i], chk = sm->csum_checked[i];

		if (bad == 0 && off == 0)
			continue;
		rbuf_puts(b, sep);
		col += text_width(sep);
		sep = "; ";
		rbuf_puts(b, i == 0 ? T("client → server") : T("server → client"));
		rbuf_putc(b, ' ');
		col += text_width(i == 0 ? T("client → server") : T("server → client")) + 1;
		if (off > 0 && bad == 0 && off == chk)
			snprintf(line, sizeof(line), T("all %u offloaded: captured on the sending host, not corruption"),
				 (unsigned)off);
		else if (off > 0 && bad == 0)
			snprintf(line, sizeof(line), T("%u of %u offloaded (captured on the sending host)"),
				 (unsigned)off, (unsigned)chk);
		else if (off > 0)
			snprintf(line, sizeof(line), T("%u of %u wrong, %u of them offloaded on the sending host"),
				 (unsigned)(bad + off), (unsigned)chk, (unsigned)off);
		else
			snprintf(line, sizeof(line), T("%u of %u wrong: corrupted on the way (or by the capture)"),
				 (unsigned)bad, (unsigned)chk);
		col = put_flow(r, p, conn, col, indent, line, "");   /* within 100 columns */
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
	int col = put_prefix(r, p, conn);

	color_on(p, SGR_BOLD);
	rbuf_puts(b, T("conn "));
	rbuf_u64(b, conn);
	rbuf_puts(b, T(" summary: "));
	color_off(p);
	color_on(p, outcome_color(sm->outcome));
	rbuf_puts(b, T(tl_outcome_name(sm->outcome)));
	color_off(p);
	col += text_width(T("conn ")) + dec_digits(conn) + text_width(T(" summary: ")) +
	       text_width(T(tl_outcome_name(sm->outcome)));
	if (sm->ended_how != NULL && sm->ended_how[0] != '\0') {
		rbuf_puts(b, T(" — "));
		col += text_width(T(" — "));
		/* how it ended, wrapped under itself when long (100 columns) */
		(void)put_flow(r, p, conn, col, col, T(sm->ended_how), "");
	}
	rbuf_putc(b, '\n');

	summary_label(r, p, conn, T("handshake"));
	if (sm->rtt_known) {
		rbuf_puts(b, T("RTT "));
		put_duration(b, sm->rtt_ns, true);
		rbuf_puts(b, T(" (SYN → SYN-ACK)"));
	} else {
		rbuf_puts(b, T("RTT unknown"));
	}
	if (sm->reaction_known) {
		rbuf_puts(b, T(", reaction "));
		put_duration(b, sm->reaction_ns, true);
		rbuf_puts(b, T(" (SYN-ACK → ACK)"));
	} else {
		rbuf_puts(b, T(", reaction unknown"));
	}
	rbuf_putc(b, '\n');

	summary_label(r, p, conn, T("client → server"));
	summary_traffic(b, c, &sm->an[TL_CLIENT]);
	summary_side_analysis(r, p, conn, &sm->an[TL_CLIENT]);
	summary_label(r, p, conn, T("server → client"));
	summary_traffic(b, s, &sm->an[TL_SERVER]);
	summary_side_analysis(r, p, conn, &sm->an[TL_SERVER]);

	summary_label(r, p, conn, T("final states"));
	rbuf_puts(b, T("client "));
	color_on(p, SGR_CYAN);
	rbuf_puts(b, tcp_state_name(c->final_state));
	color_off(p);
	rbuf_puts(b, T(", server "));
	color_on(p, SGR_CYAN);
	rbuf_puts(b, tcp_state_name(s->final_state));
	color_off(p);
	rbuf_putc(b, '\n');

	summary_label(r, p, conn, T("initial seq"));
	rbuf_puts(b, T("client "));
	if (c->isn_known)
		rbuf_u64(b, c->isn);
	else
		rbuf_puts(b, T("unknown"));
	rbuf_puts(b, T(", server "));
	if (s->isn_known)
		rbuf_u64(b, s->isn);
	else
		rbuf_puts(b, T("unknown"));
	rbuf_putc(b, '\n');

	/* MSS is announced, not negotiated (RFC 9293 §3.7.1): each side's own. */
	summary_label(r, p, conn, T("MSS"));
	for (int i = 0; i < 2; i++) {
		const struct tl_side_summary *sd = &sm->side[i];

		rbuf_puts(b, i == 0 ? T("client ") : T(", server "));
		if (!sd->syn_seen)
			rbuf_puts(b, T("not seen"));
		else if (sd->syn_options.has_mss)
			rbuf_u64(b, sd->syn_options.mss);
		else
			rbuf_puts(b, T("none"));
	}
	rbuf_putc(b, '\n');

	summary_label(r, p, conn, T("window scale"));
	if (sm->wscale_ok) {
		rbuf_puts(b, T("client "));
		rbuf_u64(b, c->syn_options.wscale);
		rbuf_puts(b, T(", server "));
		rbuf_u64(b, s->syn_options.wscale);
		rbuf_putc(b, '\n');
	} else {
		summary_not_negotiated(b, sm, c->syn_seen && c->syn_options.has_wscale,
				       s->syn_seen && s->syn_options.has_wscale, T("it"));
	}
	summary_label(r, p, conn, T("SACK"));
	if (sm->sack_ok)
		rbuf_puts(b, T("negotiated\n"));
	else
		summary_not_negotiated(b, sm, c->syn_seen && c->syn_options.has_sack_perm,
				       s->syn_seen && s->syn_options.has_sack_perm, T("it"));
	summary_label(r, p, conn, T("timestamps"));
	if (sm->timestamps_ok)
		rbuf_puts(b, T("negotiated\n"));
	else
		summary_not_negotiated(b, sm, c->syn_seen && c->syn_options.has_timestamps,
				       s->syn_seen && s->syn_options.has_timestamps, T("them"));

	summary_label(r, p, conn, T("started"));
	rbuf_iso8601(b, sm->start_ns);
	rbuf_putc(b, '\n');
	summary_label(r, p, conn, T("duration"));
	(void)rbuf_seconds(b, sm->duration_ns, 6);
	rbuf_puts(b, T(" s\n"));
	/* a wrong checksum always; offload (normal on loopback and veth, where
	 * the capture sees segments before any NIC) only with --header */
	if (sm->csum_bad[0] + sm->csum_bad[1] > 0 ||
	    (r->opt.header && sm->csum_offloaded[0] + sm->csum_offloaded[1] > 0))
		summary_checksums(r, p, conn, sm);
	if (sm->midstream) {
		summary_label(r, p, conn, T("mid-stream"));
		rbuf_puts(b, T("the handshake is not in the capture; roles guessed from ports\n"));
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
 * bytes →N ←N  dur S  OUTCOME  states C/S  gp →R ←R  retx →T/F/O ←T/F/O  [midstream]
 * (gp: goodput each way, "-" when unknown; retx: retransmissions by cause,
 * RTO/fast/other)
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
	/* the wire figures (analysis.h): goodput and retransmissions by cause
	 * (RTO/fast/other) each way */
	for (int i = 0; i < 2; i++) {
		const struct tl_side_analysis *an = &sm->an[i];

		rbuf_puts(b, i == 0 ? "  gp →" : " ←");
		if (an->goodput_known) {
			char text[32];
			struct sbuf sb = { text, sizeof(text), 0 };

			text[0] = '\0';
			sb_rate(&sb, an->goodput_bps, false);
			rbuf_write(b, text, sb.len);
		} else {
			rbuf_putc(b, '-');
		}
	}
	for (int i = 0; i < 2; i++) {
		const struct tl_side_analysis *an = &sm->an[i];

		rbuf_puts(b, i == 0 ? "  retx →" : " ←");
		if ((an->retrans_rto | an->retrans_fast | an->retrans_other) == 0) {
			rbuf_write(b, "0/0/0", 5);   /* the common case, without three conversions */
			continue;
		}
		rbuf_u64(b, an->retrans_rto);
		rbuf_putc(b, '/');
		rbuf_u64(b, an->retrans_fast);
		rbuf_putc(b, '/');
		rbuf_u64(b, an->retrans_other);
	}
	if (sm->midstream)
		rbuf_puts(b, "  midstream");
	rbuf_putc(b, '\n');
}

/* ---- the renderer ------------------------------------------------------ */

/*
 * "[-]     0.000123  UDP    198.18.77.1:40000 → 198.18.77.2:9999  len=5  "hello"": one
 * line a datagram (replay/watch --udp); no states: UDP has none.
 */
static void text_datagram(struct renderer *r, struct text_priv *p, const struct tl_event *ev)
{
	const struct segment *s = ev->u.datagram.seg;
	char src[ENDPOINT_TEXT_SIZE], dst[ENDPOINT_TEXT_SIZE];
	char text[4 * PREVIEW_COLS + 16];
	struct sbuf sb = { text, sizeof(text), 0 };
	struct rbuf *b = &p->b;

	text[0] = '\0';
	endpoint_format(&s->src, s->sport, src);
	endpoint_format(&s->dst, s->dport, dst);
	(void)put_prefix(r, p, 0);
	(void)put_time(p, ev->t_ns);
	rbuf_puts(b, "  ");
	color_on(p, SGR_BOLD);
	rbuf_puts(b, "UDP");
	color_off(p);
	rbuf_puts(b, "    ");
	rbuf_puts(b, src);
	rbuf_puts(b, " → ");
	rbuf_puts(b, dst);
	rbuf_puts(b, "  len=");
	rbuf_u64(b, s->payload_len);
	if (format_preview(s, &sb) > 0) {
		rbuf_puts(b, "  ");
		rbuf_write(b, sb.s, sb.len);
	}
	rbuf_putc(b, '\n');
}

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
	if (ev->kind == TL_EV_SEGMENT && ev->u.segment.seg != NULL && collapsible(r, ev)) {
		if (run_offer(r, p, ev)) {
			rbuf_flush(&p->b);
			return;
		}
	} else {
		run_flush(r, p);
	}
	if (p->x != NULL && ev->kind != TL_EV_SEGMENT)
		(void)explain_event(p->x, ev, NULL);
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
	case TL_EV_KERNEL_STATE:
		text_kernel_state(r, p, ev);
		break;
	case TL_EV_DATAGRAM:
		text_datagram(r, p, ev);
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

	run_flush(r, p);
	rbuf_flush(&p->b);
	fflush(r->out);
}

/* renderer.idle: the input paused; prints the flight held back. */
static void text_idle(struct renderer *r)
{
	struct text_priv *p = r->priv;

	run_flush(r, p);
	rbuf_flush(&p->b);
	fflush(r->out);
}

/* renderer.destroy: frees the renderer, writes nothing. */
static void text_destroy(struct renderer *r)
{
	struct text_priv *p = r->priv;

	if (p != NULL) {
		explainer_free(p->x);
		header_shifts_free(p->hs);
	}
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
	r->idle = text_idle;
	r->out = out;
	if (opt != NULL)
		r->opt = *opt;
	p->color = r->opt.color;
	text_zh = catalog_lang() != CAT_EN;
	if ((r->opt.explain && (p->x = explainer_new()) == NULL) ||
	    (r->opt.header && (p->hs = header_shifts_new()) == NULL)) {
		explainer_free(p->x);
		free(p);
		free(r);
		return NULL;
	}
	r->priv = p;
	return r;
}
