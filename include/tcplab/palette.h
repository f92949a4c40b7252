/*
 * palette.h — the one colour palette of every output (text trace, text
 * ladder, SVG), and the decision whether a terminal gets colour at all.
 *
 * Colours carry meaning, the same in every format:
 *  - a state by its phase: opening (LISTEN, SYN-SENT, SYN-RECEIVED),
 *    established, closing (FIN-WAIT-*, CLOSE-WAIT, CLOSING, LAST-ACK,
 *    TIME-WAIT), closed;
 *  - a segment by what matters most in its flags: RST, then SYN, then FIN,
 *    then data (payload), else a plain ACK.
 * Terminal colours are ANSI SGR sequences (ECMA-48 §8.3.117); SVG colours
 * are "#rrggbb" chosen to stay readable on a white slide and in grey print.
 *
 * Pure: no I/O except palette_color_wanted, which only asks isatty(3) and
 * the environment.
 */
#ifndef TCPLAB_PALETTE_H
#define TCPLAB_PALETTE_H

#include <stdbool.h>
#include <stdint.h>

#include "tcplab/tcp_fsm.h"

enum palette_phase {
	PHASE_OPENING,
	PHASE_ESTABLISHED,
	PHASE_CLOSING,
	PHASE_CLOSED,
};

enum palette_mark {
	MARK_ACK,     /* nothing else: a plain acknowledgment */
	MARK_DATA,    /* carries payload */
	MARK_FIN,
	MARK_SYN,
	MARK_RST,
};

/* --color=auto|always|never; bare --color means always. */
enum color_mode {
	COLOR_AUTO = 0,
	COLOR_ALWAYS,
	COLOR_NEVER,
};

/* The phase of state s (CLOSED for a value outside the enum). */
enum palette_phase palette_phase_of(enum tcp_state s);

/* The mark of a segment with these flags and payload length. */
enum palette_mark palette_mark_of(uint8_t flags, uint32_t payload_len);

/* "opening", "established", "closing", "closed" (legends, CSS classes). */
const char *palette_phase_name(enum palette_phase p);

/* "ACK", "data", "FIN", "SYN", "RST". */
const char *palette_mark_name(enum palette_mark m);

/* The SGR sequence that starts the colour of a phase / a mark (never NULL;
 * a plain ACK gets the empty string: no colour). */
const char *palette_sgr_phase(enum palette_phase p);
const char *palette_sgr_mark(enum palette_mark m);

/* SGR for notes and secondary text, for emphasis, for failure; and reset. */
#define PALETTE_SGR_DIM   "\033[2m"
#define PALETTE_SGR_BOLD  "\033[1m"
#define PALETTE_SGR_BAD   "\033[1;31m"
#define PALETTE_SGR_GOOD  "\033[32m"
#define PALETTE_SGR_WARN  "\033[33m"
#define PALETTE_SGR_RESET "\033[0m"

/* "#rrggbb" of a phase (box fill is palette_svg_phase_fill, lighter) and of
 * a mark (arrow stroke and label). */
const char *palette_svg_phase(enum palette_phase p);
const char *palette_svg_phase_fill(enum palette_phase p);
const char *palette_svg_mark(enum palette_mark m);

/*
 * Parses the WHEN of --color[=WHEN]: NULL (bare --color) and "always",
 * "yes", "force" give COLOR_ALWAYS; "auto", "tty", "if-tty" COLOR_AUTO;
 * "never", "no", "none" COLOR_NEVER (the spellings GNU ls accepts).
 * 0 ok, -1 for anything else.
 */
int palette_parse_mode(const char *when, enum color_mode *out);

/*
 * Whether output on fd gets terminal colour under mode: always → yes,
 * never → no, auto → only when fd is a terminal and NO_COLOR is unset or
 * empty (https://no-color.org: an explicit --color=always still wins).
 */
bool palette_color_wanted(enum color_mode mode, int fd);

#endif
