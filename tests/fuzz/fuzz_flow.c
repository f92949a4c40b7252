/*
 * fuzz_flow.c — libFuzzer harness for the tracker: a sequence of frames.
 *
 * Input: byte 0 chooses the renderer (bit 0: JSON, bit 1: -S, bit 2:
 * summary only, bit 3: --summary batches), then records of
 * [link byte][length byte][that many frame bytes] until the input ends.
 * Each frame is decoded and fed to one flow table in order, 1 ms apart
 * (a length byte's top bit adds 5 s, so linger and port reuse are reached);
 * the events are rendered to /dev/null.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_links.h"
#include "tcplab/decode.h"
#include "tcplab/flow.h"
#include "tcplab/render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct render_options ro = { .show_conn = true };
	struct flow_options fo = { 0 };
	struct segment batch[64];
	size_t nbatch = 0, off = 1;
	struct renderer *r;
	struct flow_table *ft;
	uint64_t ts = 1700000000000000000ull;
	char err[FLOW_ERRBUF_SIZE];
	bool batched;

	if (size < 1)
		return 0;
	if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
		abort();
	ro.absolute_only = data[0] & 2;
	ro.summary_only = fo.summary_only = data[0] & 4;
	batched = (data[0] & 8) && fo.summary_only;
	fo.only_conn = (data[0] >> 4) & 3;
	r = (data[0] & 1) ? render_json_new(devnull, &ro) : render_text_new(devnull, &ro);
	if (r == NULL)
		return 0;
	ft = flow_table_new(r, &fo, err);
	if (ft == NULL) {
		render_destroy(r);
		return 0;
	}
	while (off + 2 <= size) {
		int link = fuzz_links[data[off] % FUZZ_NLINKS];
		uint32_t len = data[off + 1] & 0x7f;
		struct segment seg;
		uint8_t *frame;

		ts += (data[off + 1] & 0x80) ? 5000000000ull : 1000000ull;
		off += 2;
		if (len > size - off)
			len = (uint32_t)(size - off);
		frame = malloc(len ? len : 1);
		if (frame == NULL)
			break;
		memcpy(frame, data + off, len);
		off += len;
		if (segment_decode(link, frame, len, len, ts, &seg, NULL) == DECODE_OK) {
			if (batched) {
				seg.payload = NULL;
				seg.payload_captured = 0;
				batch[nbatch++] = seg;
				if (nbatch == sizeof(batch) / sizeof(batch[0])) {
					flow_table_feed_batch(ft, batch, nbatch);
					nbatch = 0;
				}
			} else {
				(void)flow_table_feed(ft, &seg);
			}
		}
		free(frame);
	}
	if (nbatch)
		flow_table_feed_batch(ft, batch, nbatch);
	flow_table_finish(ft);
	render_finish(r);
	flow_table_free(ft);
	render_destroy(r);
	return 0;
}
