/*
 * event.c — the names of the tracker's event vocabulary (event.h).
 *
 * These strings are part of the output formats: the text trace prints them
 * and the JSON Lines schema (docs/json-schema.md) documents them as stable
 * values, so never rename one.
 */
#include "tcplab/event.h"

/*
 * The word for how a connection ended: "closed", "open", "refused",
 * "reset", "timeout", "half-open"; "unknown" for a value outside the enum.
 */
const char *tl_outcome_name(enum tl_outcome o)
{
	switch (o) {
	case TL_OUTCOME_CLOSED:
		return "closed";
	case TL_OUTCOME_OPEN:
		return "open";
	case TL_OUTCOME_REFUSED:
		return "refused";
	case TL_OUTCOME_RESET:
		return "reset";
	case TL_OUTCOME_TIMEOUT:
		return "timeout";
	case TL_OUTCOME_HALF_OPEN:
		return "half-open";
	}
	return "unknown";
}

/* "client" or "server"; "unknown" for a value outside the enum. */
const char *tl_role_name(enum tl_role r)
{
	switch (r) {
	case TL_CLIENT:
		return "client";
	case TL_SERVER:
		return "server";
	}
	return "unknown";
}
