/*
 * palette.c — the colour palette shared by every renderer (palette.h).
 */
#include "tcplab/palette.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcplab/segment.h"

/* Which phase each RFC 9293 §3.3.2 state belongs to: opening until the
 * handshake completes, closing from the first FIN until the connection is
 * gone (TIME-WAIT included: the connection still exists, §3.6). */
enum palette_phase palette_phase_of(enum tcp_state s)
{
	switch (s) {
	case TCP_LISTEN:
	case TCP_SYN_SENT:
	case TCP_SYN_RECEIVED:
		return PHASE_OPENING;
	case TCP_ESTABLISHED:
		return PHASE_ESTABLISHED;
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
	case TCP_TIME_WAIT:
		return PHASE_CLOSING;
	default:
		break;   /* CLOSED, and anything outside the enum */
	}
	return PHASE_CLOSED;
}

/* RST wins over everything (the connection is gone), then SYN and FIN
 * (they change states), then payload. */
enum palette_mark palette_mark_of(uint8_t flags, uint32_t payload_len)
{
	if (flags & TCP_FLAG_RST)
		return MARK_RST;
	if (flags & TCP_FLAG_SYN)
		return MARK_SYN;
	if (flags & TCP_FLAG_FIN)
		return MARK_FIN;
	if (payload_len > 0)
		return MARK_DATA;
	return MARK_ACK;
}

const char *palette_phase_name(enum palette_phase p)
{
	switch (p) {
	case PHASE_OPENING: return "opening";
	case PHASE_ESTABLISHED: return "established";
	case PHASE_CLOSING: return "closing";
	case PHASE_CLOSED: break;
	}
	return "closed";
}

const char *palette_mark_name(enum palette_mark m)
{
	switch (m) {
	case MARK_DATA: return "data";
	case MARK_FIN: return "FIN";
	case MARK_SYN: return "SYN";
	case MARK_RST: return "RST";
	case MARK_ACK: break;
	}
	return "ACK";
}

const char *palette_sgr_phase(enum palette_phase p)
{
	switch (p) {
	case PHASE_OPENING: return "\033[36m";      /* cyan */
	case PHASE_ESTABLISHED: return "\033[1;32m"; /* bold green */
	case PHASE_CLOSING: return "\033[35m";      /* magenta */
	case PHASE_CLOSED: break;
	}
	return "\033[2m";                          /* dim */
}

const char *palette_sgr_mark(enum palette_mark m)
{
	switch (m) {
	case MARK_RST: return "\033[1;31m";         /* bold red */
	case MARK_SYN: return "\033[32m";           /* green */
	case MARK_FIN: return "\033[33m";           /* yellow */
	case MARK_DATA: return "\033[34m";          /* blue */
	case MARK_ACK: break;
	}
	return "";
}

/* The SVG colours: the terminal's hues, dark enough for text on white. */
const char *palette_svg_phase(enum palette_phase p)
{
	switch (p) {
	case PHASE_OPENING: return "#00838f";
	case PHASE_ESTABLISHED: return "#2e7d32";
	case PHASE_CLOSING: return "#8e24aa";
	case PHASE_CLOSED: break;
	}
	return "#616161";
}

const char *palette_svg_phase_fill(enum palette_phase p)
{
	switch (p) {
	case PHASE_OPENING: return "#e0f7fa";
	case PHASE_ESTABLISHED: return "#e8f5e9";
	case PHASE_CLOSING: return "#f3e5f5";
	case PHASE_CLOSED: break;
	}
	return "#f5f5f5";
}

const char *palette_svg_mark(enum palette_mark m)
{
	switch (m) {
	case MARK_RST: return "#c62828";
	case MARK_SYN: return "#2e7d32";
	case MARK_FIN: return "#ef6c00";
	case MARK_DATA: return "#1565c0";
	case MARK_ACK: break;
	}
	return "#424242";
}

int palette_parse_mode(const char *when, enum color_mode *out)
{
	static const struct { const char *word; enum color_mode mode; } words[] = {
		{ "always", COLOR_ALWAYS }, { "yes", COLOR_ALWAYS }, { "force", COLOR_ALWAYS },
		{ "auto", COLOR_AUTO }, { "tty", COLOR_AUTO }, { "if-tty", COLOR_AUTO },
		{ "never", COLOR_NEVER }, { "no", COLOR_NEVER }, { "none", COLOR_NEVER },
	};

	if (when == NULL) {
		*out = COLOR_ALWAYS;
		return 0;
	}
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcmp(when, words[i].word) == 0) {
			*out = words[i].mode;
			return 0;
		}
	}
	return -1;
}

bool palette_color_wanted(enum color_mode mode, int fd)
{
	const char *nc;

	if (mode == COLOR_ALWAYS)
		return true;
	if (mode == COLOR_NEVER)
		return false;
	nc = getenv("NO_COLOR");
	if (nc != NULL && nc[0] != '\0')
		return false;
	return isatty(fd) == 1;
}
