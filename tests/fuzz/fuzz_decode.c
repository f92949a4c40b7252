/*
 * fuzz_decode.c — libFuzzer harness for the decoder: one frame.
 *
 * Input: byte 0 picks the link type (fuzz_links.h), byte 1 how many bytes
 * the wire held beyond the capture (0..255, the snapshot length's cut),
 * the rest is the frame.  The frame is copied to a buffer of exactly its
 * size, so ASan sees any read past it.  Every decoded segment is also
 * formatted the ways the renderers format it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_links.h"
#include "tcplab/decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct segment seg;
	char err[DECODE_ERRBUF_SIZE], names[128], addr[64];
	uint8_t *frame;
	uint32_t caplen;
	enum decode_status st;

	if (size < 2 || size > 70000)
		return 0;
	caplen = (uint32_t)(size - 2);
	frame = malloc(caplen ? caplen : 1);
	if (frame == NULL)
		return 0;
	memcpy(frame, data + 2, caplen);
	st = segment_decode(fuzz_links[data[0] % FUZZ_NLINKS], frame, caplen, caplen + data[1], 1, &seg, err);
	if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	if (st == DECODE_OK) {
		/* the payload lies inside the frame, the counts agree */
		if (seg.payload != NULL &&
		    (seg.payload < frame || seg.payload + seg.payload_captured > frame + caplen))
			abort();
		if (seg.payload_captured > seg.payload_len || seg.opt.sack_count > TCP_MAX_SACK_BLOCKS ||
		    seg.encap_count > SEGMENT_MAX_ENCAP)
			abort();
		(void)segment_tunnel_format(&seg, "/", names, sizeof(names));
		(void)ip_addr_format(&seg.src, addr, sizeof(addr));
		(void)mptcp_subtype_name(seg.opt.mptcp_subtype);
		(void)segment_ecn_setup(&seg);
		(void)segment_tfo_data(&seg);
	} else if (strlen(err) < 10) {
		abort();             /* every failure is a sentence */
	}
	free(frame);
	return 0;
}
