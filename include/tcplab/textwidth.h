/*
 * textwidth.h — how many terminal columns UTF-8 text takes, measured the
 * way wcwidth(3) does (Unicode East Asian Width, UAX #11): CJK ideographs,
 * Hangul, kana and fullwidth forms take two columns, combining marks and
 * zero-width characters none, everything else one.  Independent of the
 * locale, so a golden test prints the same thing everywhere, and of any
 * library.  Used by the renderers that align text in columns (ladder) or
 * size boxes for it (SVG), so that a Chinese explanation lines up as an
 * English one does.
 *
 * Pure, no allocation, no global state.
 */
#ifndef TCPLAB_TEXTWIDTH_H
#define TCPLAB_TEXTWIDTH_H

#include <stddef.h>
#include <stdint.h>

/* Columns of one code point: 0 (combining, zero-width), 2 (wide) or 1. */
int tw_codepoint_width(uint32_t cp);

/*
 * Decodes one UTF-8 character at s (at most avail bytes): stores its code
 * point in *cp and returns its length in bytes.  A byte that does not start
 * a well-formed sequence (RFC 3629 §4) counts as one byte, *cp = U+FFFD.
 * avail == 0 returns 0.
 */
size_t tw_decode(const char *s, size_t avail, uint32_t *cp);

/* Display columns of the NUL-terminated UTF-8 string s (NULL: 0). */
int tw_width(const char *s);

/* Display columns of the first n bytes of s. */
int tw_width_n(const char *s, size_t n);

/*
 * Bytes of the longest prefix of s (NUL-terminated) that takes at most
 * cols columns, never splitting a character; its width in *used (may be
 * NULL).  A wide character that would straddle the limit is left out.
 */
size_t tw_fit(const char *s, int cols, int *used);

#endif
