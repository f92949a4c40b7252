/*
 * side_counters.h — the one definition of the per-side counters a
 * connection's summary reports (duplicate ACKs, zero windows, probes,
 * window updates, out-of-order segments, keep-alives): their JSON key,
 * where they live in struct tl_side_analysis (analysis.h) and their English
 * text, singular and plural.  The text renderer (summary lines) and the
 * JSON renderer (summary object) both loop over this table, so a counter is
 * added in one place.
 *
 * The English text is a catalog msgid pattern: the text renderer formats
 * "N one" / "N many" and translates the whole item through a c-format
 * entry "%u one" / "%u many" (po/zh_CN.po), so the Chinese may put the
 * number where Chinese puts it.  JSON keys never change with the language
 * (docs/json-schema.md "Language").
 *
 * Pure data, no state.
 */
#ifndef TCPLAB_SIDE_COUNTERS_H
#define TCPLAB_SIDE_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#include "tcplab/analysis.h"

struct side_counter {
	const char *key;        /* JSON key in the side's summary object */
	size_t off;             /* offset of its uint32_t in struct tl_side_analysis */
	const char *one, *many; /* English: "1 dup ACK", "3 dup ACKs" */
	/* A duration that goes with the count (zero windows: how long the
	 * window stayed at zero), or time_key == NULL: its JSON key (seconds,
	 * written right after the count's) and the offset of its uint64_t ns. */
	const char *time_key;
	size_t time_off;
};

/* The counters in the order both renderers print them; side_counter_count entries. */
extern const struct side_counter side_counters[];
extern const unsigned side_counter_count;

/* The value of counter c in an. */
uint32_t side_counter_value(const struct side_counter *c, const struct tl_side_analysis *an);

/* The duration that goes with counter c in an (0 when it has none). */
uint64_t side_counter_time(const struct side_counter *c, const struct tl_side_analysis *an);

#endif
