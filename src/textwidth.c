/*
 * textwidth.c — display width of UTF-8 text (textwidth.h).
 *
 * The tables are the ranges wcwidth implementations (Markus Kuhn's
 * mk_wcwidth, glibc) treat as wide or zero-width, reduced to the blocks a
 * tcplab user can meet: explanations in Chinese, names in Japanese or
 * Korean, emoji in a payload preview.
 */
#include "tcplab/textwidth.h"

#include <stdbool.h>

struct range {
	uint32_t lo, hi;
};

/* Zero width: combining marks (general category Mn/Me) and format
 * characters that take no cell. */
static const struct range zero_width[] = {
	{ 0x0300, 0x036F }, { 0x0483, 0x0489 }, { 0x0591, 0x05BD }, { 0x0610, 0x061A },
	{ 0x064B, 0x065F }, { 0x0E31, 0x0E31 }, { 0x0E34, 0x0E3A }, { 0x0E47, 0x0E4E },
	{ 0x1AB0, 0x1AFF }, { 0x1DC0, 0x1DFF }, { 0x200B, 0x200F }, { 0x202A, 0x202E },
	{ 0x2060, 0x2064 }, { 0x20D0, 0x20FF }, { 0x302A, 0x302D }, { 0x3099, 0x309A },
	{ 0xFE00, 0xFE0F }, { 0xFE20, 0xFE2F }, { 0xFEFF, 0xFEFF }, { 0xE0100, 0xE01EF },
};

/* Wide (East Asian Width W or F). */
static const struct range wide[] = {
	{ 0x1100, 0x115F }, { 0x231A, 0x231B }, { 0x2329, 0x232A }, { 0x23E9, 0x23EC },
	{ 0x2E80, 0x303E }, { 0x3041, 0x33FF }, { 0x3400, 0x4DBF }, { 0x4E00, 0x9FFF },
	{ 0xA000, 0xA4CF }, { 0xA960, 0xA97F }, { 0xAC00, 0xD7A3 }, { 0xF900, 0xFAFF },
	{ 0xFE10, 0xFE19 }, { 0xFE30, 0xFE6F }, { 0xFF00, 0xFF60 }, { 0xFFE0, 0xFFE6 },
	{ 0x1F300, 0x1F64F }, { 0x1F900, 0x1F9FF }, { 0x20000, 0x2FFFD }, { 0x30000, 0x3FFFD },
};

static bool in_table(uint32_t cp, const struct range *t, size_t n)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (cp < t[mid].lo)
			hi = mid;
		else if (cp > t[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

int tw_codepoint_width(uint32_t cp)
{
	if (cp < 0x300)
		return 1;
	if (in_table(cp, zero_width, sizeof(zero_width) / sizeof(zero_width[0])))
		return 0;
	if (in_table(cp, wide, sizeof(wide) / sizeof(wide[0])))
		return 2;
	return 1;
}

size_t tw_decode(const char *s, size_t avail, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned char c, lo = 0x80, hi = 0xBF;
	size_t need;
	uint32_t v;

	if (avail == 0)
		return 0;
	c = p[0];
	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
		v = c & 0x1Fu;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		v = c & 0x0Fu;
		if (c == 0xE0)
			lo = 0xA0;      /* no overlong forms */
		else if (c == 0xED)
			hi = 0x9F;      /* no surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		v = c & 0x07u;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;      /* nothing above U+10FFFF */
	} else {
		*cp = 0xFFFD;
		return 1;
	}
	if (avail < need || p[1] < lo || p[1] > hi) {
		*cp = 0xFFFD;
		return 1;
	}
	for (size_t i = 1; i < need; i++) {
		if (p[i] < 0x80 || p[i] > 0xBF) {
			*cp = 0xFFFD;
			return 1;
		}
		v = (v << 6) | (p[i] & 0x3Fu);
	}
	*cp = v;
	return need;
}

int tw_width_n(const char *s, size_t n)
{
	int w = 0;
	size_t i = 0;

	if (s == NULL)
		return 0;
	while (i < n && s[i] != '\0') {
		uint32_t cp;
		size_t k = tw_decode(s + i, n - i, &cp);

		w += tw_codepoint_width(cp);
		i += k;
	}
	return w;
}

int tw_width(const char *s)
{
	return s == NULL ? 0 : tw_width_n(s, (size_t)-1);
}

size_t tw_fit(const char *s, int cols, int *used)
{
	size_t i = 0;
	int w = 0;

	if (s != NULL) {
		while (s[i] != '\0') {
			uint32_t cp;
			size_t avail = 1;

			while (avail < 4 && s[i + avail - 1] != '\0' && s[i + avail] != '\0')
				avail++;
			size_t k = tw_decode(s + i, avail, &cp);
			int cw = tw_codepoint_width(cp);

			if (w + cw > cols)
				break;
			w += cw;
			i += k;
		}
	}
	if (used != NULL)
		*used = w;
	return i;
}
