/*
 * craft.h — the only module that includes libnet.h.
 *
 * Builds and injects TCP segments at the IP layer (libnet raw IPv4 / IPv6):
 * TCP options, payload, a fresh IP ID per segment, checksums.  Every packet
 * leaves with a socket mark (SO_MARK) so the firewall module can tell
 * tcplab's own RST from the kernel's.
 */
#ifndef TCPLAB_CRAFT_H
#define TCPLAB_CRAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcplab/segment.h"

#define CRAFT_ERRBUF_SIZE 256  /* >= LIBNET_ERRBUF_SIZE */

/* The mark tcplab's injected packets carry ("tl" in ASCII). */
#define CRAFT_PACKET_MARK 0x746cu

struct craft;

/* What to send.  Addresses' family decides IPv4 or IPv6. */
struct craft_segment {
	struct ip_addr src, dst;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	const struct tcp_options *opt;  /* NULL: no options; encoded in Linux's SYN order */
	const uint8_t *payload;
	uint32_t payload_len;
	uint8_t ttl;                    /* 0: 64 */
};

/*
 * Opens an injector for family 4 or 6 bound to device (may be NULL).
 * NULL on failure with errbuf set; *permission_denied tells whether
 * CAP_NET_RAW was missing.
 */
struct craft *craft_open(int family, const char *device, char errbuf[CRAFT_ERRBUF_SIZE],
			 bool *permission_denied);

/* Builds and sends one segment.  0 ok, -1 with craft_error() set. */
int craft_send(struct craft *c, const struct craft_segment *s);

/*
 * Builds s into the injector's packet blocks without sending anything.  A
 * fresh process pays page faults and cold caches on its first packet; a
 * live role prepares the shape of the segment it will have to send fast
 * (the ACK to a SYN-ACK), so that craft_send only updates fields in place.
 * 0 ok, -1 with craft_error() set.
 */
int craft_prepare(struct craft *c, const struct craft_segment *s);

/* Encodes opt into buf as Linux orders SYN options (MSS, SACK-permitted,
 * timestamps, NOP, window scale; padded with NOP/EOL to a multiple of 4).
 * Returns the length (0..40). */
size_t craft_encode_options(const struct tcp_options *opt, uint8_t buf[40]);

const char *craft_error(const struct craft *c);

/* errno of the last failed craft_send (0 when none): EPERM is a local
 * netfilter rule dropping the packet, ENOBUFS a full device queue — both
 * what a TCP treats as a lost segment, not as a broken connection. */
int craft_errno(const struct craft *c);
void craft_close(struct craft *c);

/* The libnet tcplab runs with, as the library itself says it
 * ("libnet version 1.1.6"); never NULL.  For `tcplab --version`. */
const char *craft_lib_version(void);

#endif
