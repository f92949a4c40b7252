/*
 * header_view.h — `--header` (-x) and `--hex`: a segment's TCP header laid
 * open field by field in the order of RFC 9293 §3.1 Figure 1, under a
 * one-line IP summary, with the labels in the catalog's language.
 *
 * Pure formatting: it reads the raw header bytes struct segment points at
 * (decode keeps them) and the checksum verdict decode stored; it returns
 * lines, so every renderer (text now, ladder/SVG later) can print them.
 */
#ifndef TCPLAB_HEADER_VIEW_H
#define TCPLAB_HEADER_VIEW_H

#include <stdbool.h>

#include "tcplab/segment.h"

#define HEADER_MAX_LINES 32
#define HEADER_LINE_SIZE 200

struct header_view {
	unsigned n;
	char lines[HEADER_MAX_LINES][HEADER_LINE_SIZE];   /* UTF-8, no newline */
};

/*
 * Formats s's IP summary and TCP header into out.  shift is the sender's
 * negotiated window scale (RFC 7323 §2.3), or -1 when none was negotiated
 * (or the handshake was not seen).  hex adds each field's bytes in a
 * column on the right.  When the source kept no header bytes (tcp_hdr
 * NULL), the fields are rebuilt from the decoded values and the options
 * and reserved bits are said to be unavailable.  Returns out->n.
 */
unsigned header_view_format(const struct segment *s, int shift, bool hex, struct header_view *out);

/*
 * Follows SYN options per connection to know each side's window shift.
 * header_shift_note() records a segment (call it for every segment of the
 * connection, SYNs included, in order); header_shift() tells the shift to
 * apply to a segment's window from sender `from` (0 client, 1 server), -1
 * when none: the window of a SYN is never scaled (RFC 7323 §2.2).
 */
struct header_shifts;
struct header_shifts *header_shifts_new(void);
void header_shifts_free(struct header_shifts *h);
void header_shift_note(struct header_shifts *h, unsigned conn, int from, const struct segment *s);
int header_shift(const struct header_shifts *h, unsigned conn, int from, const struct segment *s);

#endif
