/*
 * seglabel.h — the short texts the diagram renderers (text ladder, SVG)
 * write for a segment and beside it: "SYN,ACK seq=0 ack=1 len=0", a quoted
 * payload preview, and any outside text made safe to show.
 *
 * Every text written here is valid UTF-8 with no control character:
 * payload bytes and text from elsewhere (annotations, reasons, notes, a
 * hostile capture) that are not printable are written as \xNN, so no
 * terminal can be driven and no XML parser can choke.  Widths are display
 * columns (textwidth.h).  Pure: no I/O, no allocation.
 */
#ifndef TCPLAB_SEGLABEL_H
#define TCPLAB_SEGLABEL_H

#include <stdbool.h>
#include <stddef.h>

#include "tcplab/event.h"

#define SEGLABEL_SIZE 512   /* enough for any label the functions below write */

/*
 * Copies s into out (size n, always NUL-terminated) with printable UTF-8
 * passed through and control characters (C0, DEL, C1) and invalid bytes
 * written as \xNN.  Cuts at a character boundary when out is too small.
 * Returns the display width of what was written.  NULL s writes "".
 */
int seglabel_sanitize(const char *s, char *out, size_t n);

/*
 * Writes the payload preview: the captured bytes between double quotes,
 * with \n \r \t \" \\ and \xNN escapes, at most max_cols columns in all
 * (quotes and a trailing "…" included, "…" when bytes are left out: cut
 * here or not captured).  Returns its width; 0 (and "") when no payload
 * byte was captured or max_cols < 3.
 */
int seglabel_preview(const struct segment *s, int max_cols, char *out, size_t n);

/*
 * Writes the label of a segment event in at most max_cols columns:
 * flags, seq, ack (only with ACK), len, and the preview when payload was
 * captured ("PSH,ACK seq=1 ack=1 len=5 \"hello\"").  Numbers are relative
 * (to each side's ISN) when known and absolute is false, else absolute.
 * What does not fit goes in this order: the preview is shortened then
 * dropped, then "len=", then the text is cut with "…".  Returns the width.
 */
int seglabel_segment(const struct tl_segment_event *se, bool absolute, int max_cols, char *out,
		     size_t n);

/*
 * Splits text (already sanitized) into lines of at most cols columns,
 * breaking at spaces where it can: returns the byte length of the first
 * line and stores in *next the offset where the following line starts
 * (spaces at the break skipped).  0 when text is empty.
 */
size_t seglabel_wrap(const char *text, int cols, size_t *next);

#endif
