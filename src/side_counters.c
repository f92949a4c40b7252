/*
 * side_counters.c — the per-side summary counters (side_counters.h).
 */
#include "tcplab/side_counters.h"

#include <string.h>

#define A(field) offsetof(struct tl_side_analysis, field)
#define U32(field) _Static_assert(sizeof(((struct tl_side_analysis *)0)->field) == 4, #field " is read as uint32_t")

U32(dup_acks);
U32(zero_windows);
U32(zero_window_probes);
U32(window_updates);
U32(out_of_order);
U32(keep_alives);
_Static_assert(sizeof(((struct tl_side_analysis *)0)->zero_window_ns) == 8, "zero_window_ns is read as uint64_t");

const struct side_counter side_counters[] = {
	{ "dup_acks", A(dup_acks), "dup ACK", "dup ACKs", NULL, 0 },
	{ "zero_windows", A(zero_windows), "zero window", "zero windows", "zero_window_time", A(zero_window_ns) },
	{ "zero_window_probes", A(zero_window_probes), "zero-window probe", "zero-window probes", NULL, 0 },
	{ "window_updates", A(window_updates), "window update", "window updates", NULL, 0 },
	{ "out_of_order", A(out_of_order), "out-of-order", "out-of-order", NULL, 0 },
	{ "keep_alives", A(keep_alives), "keep-alive", "keep-alives", NULL, 0 },
};

const unsigned side_counter_count = sizeof(side_counters) / sizeof(side_counters[0]);

uint32_t side_counter_value(const struct side_counter *c, const struct tl_side_analysis *an)
{
	uint32_t v;

	memcpy(&v, (const char *)an + c->off, sizeof(v));
	return v;
}

uint64_t side_counter_time(const struct side_counter *c, const struct tl_side_analysis *an)
{
	uint64_t v = 0;

	if (c->time_key != NULL)
		memcpy(&v, (const char *)an + c->time_off, sizeof(v));
	return v;
}
