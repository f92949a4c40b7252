/*
 * fuzz_links.h — the link types the decoder knows, indexed by a fuzzer's
 * first byte, so every harness reaches every link-layer decoder.
 */
#ifndef TCPLAB_FUZZ_LINKS_H
#define TCPLAB_FUZZ_LINKS_H

#include "tcplab/decode.h"

static const int fuzz_links[] = {
	LINK_ETHERNET, LINK_RAW, LINK_LINUX_SLL, LINK_LINUX_SLL2, LINK_NULL, LINK_LOOP,
	LINK_RAW_DLT12, LINK_RAW_DLT14, LINK_IPV4, LINK_IPV6, LINK_PPP, LINK_PPP_HDLC,
	LINK_PPP_ETHER, LINK_C_HDLC, LINK_NFLOG, LINK_IPOIB,
};
#define FUZZ_NLINKS (sizeof(fuzz_links) / sizeof(fuzz_links[0]))

#endif
