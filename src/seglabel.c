/*
 * seglabel.c — segment labels and safe text for the diagram renderers
 * (seglabel.h).
 */
#include "tcplab/seglabel.h"

#include <stdio.h>
#include <string.h>

#include "tcplab/textwidth.h"

static const char hex_digits[] = "0123456789abcdef";

/* A bounded string builder: always NUL-terminated, cuts silently. */
struct sb {
	char *s;
	size_t cap, len;
};

static void sb_add(struct sb *b, const char *t, size_t k)
{
	if (b->cap == 0)
		return;
	if (k > b->cap - 1 - b->len)
		k = b->cap - 1 - b->len;
	memcpy(b->s + b->len, t, k);
	b->len += k;
	b->s[b->len] = '\0';
}

static void sb_str(struct sb *b, const char *t)
{
	sb_add(b, t, strlen(t));
}

int seglabel_sanitize(const char *s, char *out, size_t n)
{
	struct sb b = { out, n, 0 };
	size_t i = 0, len;
	int w = 0;

	if (n == 0)
		return 0;
	out[0] = '\0';
	if (s == NULL)
		return 0;
	len = strlen(s);
	while (i < len) {
		uint32_t cp;
		size_t k = tw_decode(s + i, len - i, &cp);
		bool bad = (cp == 0xFFFD && k == 1) || cp < 0x20 || cp == 0x7F ||
			   (cp >= 0x80 && cp < 0xA0);

		if (bad) {
			char e[4] = { '\\', 'x', hex_digits[(unsigned char)s[i] >> 4],
				      hex_digits[(unsigned char)s[i] & 0xF] };

			if (b.len + 4 >= n)
				break;
			sb_add(&b, e, 4);
			w += 4;
			i++;
			continue;
		}
		if (b.len + k >= n)
			break;
		sb_add(&b, s + i, k);
		w += tw_codepoint_width(cp);
		i += k;
	}
	return w;
}

int seglabel_preview(const struct segment *s, int max_cols, char *out, size_t n)
{
	struct sb b = { out, n, 0 };
	size_t avail = s->payload != NULL ? s->payload_captured : 0;
	size_t i;
	int w = 2;

	if (n > 0)
		out[0] = '\0';
	if (avail > s->payload_len)
		avail = s->payload_len;
	if (avail == 0 || max_cols < 3 || n < 8)
		return 0;
	sb_str(&b, "\"");
	for (i = 0; i < avail; i++) {
		unsigned char c = s->payload[i];
		char e[4];
		size_t k;

		switch (c) {
		case '\n': e[0] = '\\'; e[1] = 'n'; k = 2; break;
		case '\r': e[0] = '\\'; e[1] = 'r'; k = 2; break;
		case '\t': e[0] = '\\'; e[1] = 't'; k = 2; break;
		case '"':  e[0] = '\\'; e[1] = '"'; k = 2; break;
		case '\\': e[0] = '\\'; e[1] = '\\'; k = 2; break;
		default:
			if (c >= 0x20 && c < 0x7F) {
				e[0] = (char)c;
				k = 1;
			} else {
				e[0] = '\\';
				e[1] = 'x';
				e[2] = hex_digits[c >> 4];
				e[3] = hex_digits[c & 0xF];
				k = 4;
			}
		}
		/* room for this, the closing quote and, if more follows, "…" */
		if (w + (int)k + (i + 1 < s->payload_len ? 1 : 0) > max_cols || b.len + k + 5 >= n)
			break;
		sb_add(&b, e, k);
		w += (int)k;
	}
	sb_str(&b, "\"");
	if (i < s->payload_len) {
		sb_str(&b, "…");
		w++;
	}
	return w;
}

/* Appends "name=ABS" or "name=REL". */
static void put_number(struct sb *b, const char *name, uint32_t abs, bool rel_ok, uint32_t rel)
{
	char t[32];

	snprintf(t, sizeof(t), "%s=%u", name, (unsigned)(rel_ok ? rel : abs));
	sb_str(b, t);
}

int seglabel_segment(const struct tl_segment_event *se, bool absolute, int max_cols, char *out,
		     size_t n)
{
	const struct segment *s = se->seg;
	char head[160], flags[48], len[24], prev[SEGLABEL_SIZE / 2];
	struct sb h = { head, sizeof(head), 0 };
	int hw, lw, room;
	struct sb o = { out, n, 0 };

	if (n == 0)
		return 0;
	out[0] = '\0';
	if (s == NULL || max_cols <= 0)
		return 0;
	head[0] = '\0';
	tcp_flags_format(s->flags, ",", flags, sizeof(flags));
	sb_str(&h, flags);
	sb_str(&h, " ");
	put_number(&h, "seq", s->seq, !absolute && se->rel_seq_known, se->rel_seq);
	if (s->flags & TCP_FLAG_ACK) {
		sb_str(&h, " ");
		put_number(&h, "ack", s->ack, !absolute && se->rel_ack_known, se->rel_ack);
	}
	snprintf(len, sizeof(len), " len=%u", (unsigned)s->payload_len);
	hw = tw_width(head);
	lw = (int)strlen(len);

	if (hw + lw <= max_cols) {
		sb_str(&o, head);
		sb_str(&o, len);
		room = max_cols - hw - lw - 1;
		if (room >= 5 && seglabel_preview(s, room, prev, sizeof(prev)) > 0) {
			sb_str(&o, " ");
			sb_str(&o, prev);
		}
	} else if (hw <= max_cols) {
		sb_str(&o, head);
	} else {
		/* cut the head itself, keeping room for the ellipsis */
		size_t k = tw_fit(head, max_cols - 1, NULL);

		sb_add(&o, head, k);
		sb_str(&o, "…");
	}
	return tw_width(out);
}

size_t seglabel_wrap(const char *text, int cols, size_t *next)
{
	size_t fit, cut, len = strlen(text);

	if (len == 0) {
		*next = 0;
		return 0;
	}
	fit = tw_fit(text, cols < 1 ? 1 : cols, NULL);
	if (fit == 0) {
		/* one character wider than the line: take it anyway */
		uint32_t cp;

		fit = tw_decode(text, len, &cp);
	}
	if (fit >= len) {
		*next = len;
		return len;
	}
	cut = fit;
	if (text[fit] != ' ') {
		while (cut > 0 && text[cut - 1] != ' ')
			cut--;
		if (cut == 0)
			cut = fit;   /* one long word: break inside it */
	}
	*next = cut;
	while (*next < len && text[*next] == ' ')
		(*next)++;
	while (cut > 0 && text[cut - 1] == ' ')
		cut--;
	return cut;
}
