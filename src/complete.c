/*
 * complete.c — the values an option accepts, read from its own argument
 * name or help text (contract in include/tcplab/complete.h).  Reading the
 * help text rather than keeping a second list means the completion cannot
 * offer a value the parser's help does not document.
 */
#include "tcplab/complete.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* Finds the first run word|word[|word...] in s; sets *start and *end. */
static bool find_run(const char *s, const char **start, const char **end)
{
	const char *p = s;

	while (s && *p) {
		const char *w = p, *q;
		int words = 0;

		if (!word_char(*p) || (p > s && word_char(p[-1]))) {
			p++;
			continue;
		}
		q = w;
		for (;;) {
			const char *e = q;
			while (word_char(*e))
				e++;
			if (e == q)
				break;      /* "a||b" or a trailing '|': stop before it */
			words++;
			*end = e;
			if (*e != '|' || !word_char(e[1]))
				break;
			q = e + 1;
		}
		if (words >= 2) {
			*start = w;
			return true;
		}
		while (word_char(*p))
			p++;
	}
	return false;
}

int complete_values(const char *arg, const char *help, char *out, size_t len)
{
	const char *start = NULL, *end = NULL, *p;
	size_t n = 0;
	int count = 0;

	if (!out || len == 0)
		return -1;
	out[0] = '\0';
	if (!find_run(arg, &start, &end) && !find_run(help, &start, &end))
		return 0;
	for (p = start; p < end; ) {
		const char *e = p;
		while (e < end && *e != '|')
			e++;
		if (n + (size_t)(e - p) + 2 > len) {
			out[0] = '\0';
			return -1;
		}
		memcpy(out + n, p, (size_t)(e - p));
		n += (size_t)(e - p);
		out[n++] = '\n';
		out[n] = '\0';
		count++;
		p = e < end ? e + 1 : e;
	}
	return count;
}
