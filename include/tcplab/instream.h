/*
 * instream.h — a capture file's bytes as a stdio stream, gzip or not.
 *
 * The only module that includes zlib.h.  It lets capture (the libpcap user)
 * and the pcapng reader read a `.pcap.gz` as if it were the `.pcap`, and
 * lets them look at a stream's first bytes (the file format's magic number)
 * even when the stream is a pipe that cannot be rewound.
 */
#ifndef TCPLAB_INSTREAM_H
#define TCPLAB_INSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define INSTREAM_ERRBUF_SIZE 256

/*
 * Wraps fd in a read-only FILE.  When the first bytes are gzip's magic
 * (1f 8b), every read inflates (concatenated gzip members too, as gzip -d
 * does); otherwise the bytes pass through unchanged.  Up to 4 first bytes
 * of the (inflated) stream are copied into peek and their count into
 * *npeek; they are still delivered by the stream's reads.  *gzip (may be
 * NULL) says whether the input was compressed.  The FILE owns fd when
 * own_fd is true (fclose closes it).  Returns NULL with errbuf set on
 * failure (fd is then left open).  A corrupt gzip stream ends the FILE's
 * data early and sets its error flag, so a reader sees a truncated file.
 */
FILE *instream_open(int fd, bool own_fd, uint8_t peek[4], size_t *npeek, bool *gzip,
		    char errbuf[INSTREAM_ERRBUF_SIZE]);

/* True when the 2 bytes at p are gzip's magic number. */
bool instream_is_gzip_magic(const uint8_t *p, size_t n);

#endif
