/*
 * catalog.c — the message catalog (contracts in include/tcplab/catalog.h).
 *
 * The table (build/gen/catalog_data.c) is sorted by (context, msgid), so a
 * lookup is a binary search of a few hundred entries: it costs nothing in
 * English (not even done) and a dozen strcmp()s in Chinese.
 */
#include "tcplab/catalog.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_data.h"

static enum cat_lang current = CAT_EN;

enum cat_lang catalog_lang_from_env(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v != NULL && v[0] != '\0')
			return (v[0] == 'z' && v[1] == 'h') ? CAT_ZH : CAT_EN;
	}
	return CAT_EN;
}

int catalog_lang_parse(const char *s, enum cat_lang *out)
{
	static const char *const zh[] = { "zh", "zh_CN", "zh-CN", "zh_CN.UTF-8", "cn", "chinese" };
	static const char *const en[] = { "en", "en_US", "en-US", "C", "english" };

	if (s == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(zh) / sizeof(zh[0]); i++)
		if (strcmp(s, zh[i]) == 0) {
			*out = CAT_ZH;
			return 0;
		}
	for (size_t i = 0; i < sizeof(en) / sizeof(en[0]); i++)
		if (strcmp(s, en[i]) == 0) {
			*out = CAT_EN;
			return 0;
		}
	return -1;
}

void catalog_set_lang(enum cat_lang lang)
{
	current = lang == CAT_ZH ? CAT_ZH : CAT_EN;
}

enum cat_lang catalog_lang(void)
{
	return current;
}

/* The entry (ctxt, id), or NULL. */
static const struct catalog_entry *find(const char *ctxt, const char *id)
{
	unsigned lo = 0, hi = catalog_entry_count;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		const struct catalog_entry *e = &catalog_entries[mid];
		int c = strcmp(ctxt, e->ctxt);

		if (c == 0)
			c = strcmp(id, e->id);
		if (c == 0)
			return e;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* The entry with context ctxt (there is one msgid per code), or NULL. */
static const struct catalog_entry *find_code(const char *ctxt)
{
	unsigned lo = 0, hi = catalog_entry_count;

	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		int c = strcmp(ctxt, catalog_entries[mid].ctxt);

		if (c == 0)
			return &catalog_entries[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* ---- printf-format matching -------------------------------------------- */

#define MAX_ARGS 8

struct capture {
	const char *p[MAX_ARGS];
	size_t n[MAX_ARGS];
	int count;
	unsigned budget;   /* match steps left: text may come from a capture (file
			      names, decoder messages), so the backtracking is bounded */
};

/*
 * Parses the conversion at f (just after '%'); returns its length and sets
 * *conv to the conversion character.  Flags, width, precision, length
 * modifiers and a positional "N$" are skipped.
 */
static size_t conv_len(const char *f, char *conv)
{
	size_t i = 0;

	while (f[i] >= '0' && f[i] <= '9')
		i++;
	if (f[i] != '$')
		i = 0;
	else
		i++;
	while (f[i] != '\0' && strchr("-+ #0", f[i]) != NULL)
		i++;
	while ((f[i] >= '0' && f[i] <= '9') || f[i] == '.' || f[i] == '*')
		i++;
	while (f[i] != '\0' && strchr("hlLqjzt", f[i]) != NULL)
		i++;
	*conv = f[i];
	return f[i] != '\0' ? i + 1 : i;
}

/* Characters a numeric conversion may span, at t. */
static size_t number_span(const char *t, char conv)
{
	size_t i = 0;

	if (conv == 'x' || conv == 'X') {
		while ((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f') || (t[i] >= 'A' && t[i] <= 'F'))
			i++;
		return i;
	}
	if (t[i] == '-')
		i++;
	while ((t[i] >= '0' && t[i] <= '9') || ((conv == 'f' || conv == 'g') && t[i] == '.'))
		i++;
	return i;
}

/* True when text t matches format f entirely; arguments captured in cap. */
static bool match(const char *f, const char *t, struct capture *cap, int depth)
{
	if (depth > 32 || cap->budget == 0)
		return false;
	cap->budget--;
	for (;;) {
		if (*f == '\0')
			return *t == '\0';
		if (*f != '%') {
			if (*f != *t)
				return false;
			f++;
			t++;
			continue;
		}
		if (f[1] == '%') {
			if (*t != '%')
				return false;
			f += 2;
			t++;
			continue;
		}
		char conv;
		size_t cl = conv_len(f + 1, &conv);
		const char *rest = f + 1 + cl;
		int slot = cap->count;

		if (slot >= MAX_ARGS)
			return false;
		if (conv == 's' || conv == 'c') {
			/* shortest match first; 's' may be empty */
			size_t len = strlen(t);

			for (size_t k = conv == 'c' ? 1 : 0; k <= len; k++) {
				cap->p[slot] = t;
				cap->n[slot] = k;
				cap->count = slot + 1;
				if (match(rest, t + k, cap, depth + 1))
					return true;
				if (conv == 'c')
					break;
			}
			cap->count = slot;
			return false;
		}
		if (strchr("diouxXfg", conv) == NULL || conv == '\0')
			return false;
		size_t span = number_span(t, conv);

		if (span == 0)
			return false;
		/* a number is greedy, but back off when the rest needs its digits */
		for (size_t k = span; k > 0; k--) {
			cap->p[slot] = t;
			cap->n[slot] = k;
			cap->count = slot + 1;
			if (match(rest, t + k, cap, depth + 1))
				return true;
		}
		cap->count = slot;
		return false;
	}
}

/* Writes translation format tr with the captured arguments into buf. */
static void fill(const char *tr, const struct capture *cap, char *buf, size_t size)
{
	size_t o = 0;
	int next = 0;

	for (const char *f = tr; *f != '\0' && o + 1 < size;) {
		if (*f != '%') {
			buf[o++] = *f++;
			continue;
		}
		if (f[1] == '%') {
			buf[o++] = '%';
			f += 2;
			continue;
		}
		int idx = next;
		const char *q = f + 1;
		int pos = 0;

		while (*q >= '0' && *q <= '9')
			pos = pos * 10 + (*q++ - '0');
		if (*q == '$' && pos >= 1 && pos <= MAX_ARGS)
			idx = pos - 1;
		char conv;

		f += 1 + conv_len(f + 1, &conv);
		next = idx + 1;
		if (idx < cap->count) {
			size_t n = cap->n[idx];

			if (n > size - 1 - o)
				n = size - 1 - o;
			memcpy(buf + o, cap->p[idx], n);
			o += n;
		}
	}
	buf[o] = '\0';
}

/* ---- lookups ------------------------------------------------------------ */

const char *catalog_tr_lang(enum cat_lang lang, const char *english)
{
	static char ring[8][1024];
	static unsigned slot;
	const struct catalog_entry *e;

	if (lang == CAT_EN || english == NULL || english[0] == '\0')
		return english;
	e = find("", english);
	if (e != NULL)
		return e->zh != NULL ? e->zh : english;
	/* Text formatted from a c-format entry: of the formats it matches, the
	 * most specific (most literal characters) wins, so that "unknown
	 * option or missing argument: %s" beats "unknown option %s". */
	{
		const struct catalog_entry *best = NULL;
		struct capture best_cap, cap;
		size_t best_lit = 0;

		best_cap.count = 0;
		for (unsigned i = 0; i < catalog_entry_count; i++) {
			const struct catalog_entry *c = &catalog_entries[i];
			size_t lit;

			if (!c->c_format || c->zh == NULL || c->ctxt[0] != '\0')
				continue;
			cap.count = 0;
			cap.budget = 20000;
			if (!match(c->id, english, &cap, 0))
				continue;
			lit = strlen(english);
			for (int k = 0; k < cap.count; k++)
				lit -= cap.n[k];
			if (best == NULL || lit > best_lit) {
				best = c;
				best_lit = lit;
				best_cap = cap;
			}
		}
		if (best != NULL) {
			char *buf = ring[slot++ % 8];
			char args[MAX_ARGS][256];

			/* an argument that is itself a catalog entry (a sentence, or a
			 * word such as a role name: "client" → 客户端) is translated too */
			for (int k = 0; k < best_cap.count; k++) {
				const struct catalog_entry *a;
				size_t n = best_cap.n[k] < sizeof(args[k]) - 1 ? best_cap.n[k] : sizeof(args[k]) - 1;

				memcpy(args[k], best_cap.p[k], n);
				args[k][n] = '\0';
				if (n > 0 && (a = find("", args[k])) != NULL && a->zh != NULL && !a->c_format) {
					best_cap.p[k] = a->zh;
					best_cap.n[k] = strlen(a->zh);
				}
			}
			fill(best->zh, &best_cap, buf, sizeof(ring[0]));
			return buf;
		}
	}
	return english;
}

const char *catalog_tr(const char *english)
{
	if (current == CAT_EN)
		return english;
	return catalog_tr_lang(current, english);
}

const char *catalog_code_lang(enum cat_lang lang, const char *code)
{
	const struct catalog_entry *e;

	if (code == NULL || code[0] == '\0')
		return NULL;
	e = find_code(code);
	if (e == NULL)
		return NULL;
	return lang == CAT_ZH && e->zh != NULL ? e->zh : e->id;
}

const char *catalog_code(const char *code)
{
	return catalog_code_lang(current, code);
}

size_t catalog_format(char *buf, size_t size, const char *tmpl, const char *const *pairs)
{
	size_t o = 0;

	if (size == 0)
		return 0;
	for (const char *t = tmpl != NULL ? tmpl : ""; *t != '\0' && o + 1 < size;) {
		const char *close = *t == '{' ? strchr(t, '}') : NULL;
		const char *val = NULL;

		if (close != NULL && pairs != NULL) {
			size_t nl = (size_t)(close - t - 1);

			for (const char *const *p = pairs; p[0] != NULL; p += 2)
				if (strlen(p[0]) == nl && memcmp(p[0], t + 1, nl) == 0) {
					val = p[1] != NULL ? p[1] : "";
					break;
				}
		}
		if (val != NULL) {
			size_t n = strlen(val);

			if (n > size - 1 - o)
				n = size - 1 - o;
			memcpy(buf + o, val, n);
			o += n;
			t = close + 1;
		} else {
			buf[o++] = *t++;
		}
	}
	/* never end inside a UTF-8 sequence: drop a last character left incomplete */
	if (o > 0) {
		size_t k = o - 1;
		unsigned char lead;
		size_t need;

		while (k > 0 && ((unsigned char)buf[k] & 0xC0) == 0x80)
			k--;
		lead = (unsigned char)buf[k];
		need = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 1;
		if (k + need > o)
			o = k;
	}
	buf[o] = '\0';
	return o;
}

int catalog_fprintf(FILE *f, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return fputs(catalog_tr(buf), f);
}
