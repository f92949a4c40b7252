/*
 * pcapng.h — a pcapng reader for files whose interfaces differ in link type.
 *
 * libpcap refuses a pcapng file whose interfaces have different link types
 * (one Ethernet interface and one Linux cooked "any" capture, a loopback and
 * a tunnel...).  This reader takes every interface as it is: each packet
 * comes with its own interface's link type.  Pure stdio: no libpcap; capture
 * applies filters.  Follows draft-ietf-opsawg-pcapng (Section Header,
 * Interface Description, Enhanced / Simple / obsolete Packet blocks; others
 * skipped), in either byte order, section by section.
 */
#ifndef TCPLAB_PCAPNG_H
#define TCPLAB_PCAPNG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define PCAPNG_ERRBUF_SIZE 256
/* Largest block accepted (libpcap's limit too): a bound on what a corrupt
 * length field can make the reader allocate. */
#define PCAPNG_MAX_BLOCK (16u * 1024u * 1024u)

struct pcapng_reader;

struct pcapng_packet {
	uint64_t ts_ns;           /* ns since the epoch */
	const uint8_t *data;      /* valid until the next pcapng_next */
	uint32_t caplen, wirelen; /* wirelen >= caplen */
	int link;                 /* LINKTYPE_ of the packet's interface */
	uint32_t interface;
};

enum {
	PCAPNG_EOF = 0,
	PCAPNG_PACKET = 1,
	PCAPNG_ERR = -1,          /* a structural error: the file lies */
	PCAPNG_TRUNCATED = -2,    /* the file ends inside a block */
};

/* True when the 4 bytes at p are a pcapng Section Header Block's type. */
bool pcapng_is_magic(const uint8_t *p, size_t n);

/*
 * Starts reading fp (positioned at the file's first byte; not owned):
 * reads the first section header and blocks up to the first interface.
 * NULL with errbuf set when it is not a pcapng file or it is broken.
 */
struct pcapng_reader *pcapng_open(FILE *fp, char errbuf[PCAPNG_ERRBUF_SIZE]);

/* Link type of the first interface. */
int pcapng_first_link(const struct pcapng_reader *r);

/* Reads the next packet into *out.  Returns PCAPNG_PACKET, PCAPNG_EOF, or
 * an error (PCAPNG_ERR, PCAPNG_TRUNCATED) with pcapng_error() set; after an
 * error every call returns PCAPNG_EOF. */
int pcapng_next(struct pcapng_reader *r, struct pcapng_packet *out);

/* The last error sentence ("" when none). */
const char *pcapng_error(const struct pcapng_reader *r);

/* Frees r (not its FILE). */
void pcapng_close(struct pcapng_reader *r);

#endif
