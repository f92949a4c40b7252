/*
 * pcaploop.c — the floor of the replay benchmark: a bare libpcap read loop.
 *
 * `make bench` reports every capture reader's packets per second as a ratio
 * against this program, which does nothing but pcap_next_ex() over the file
 * and touch each packet's first and last byte (so the loop does look at the
 * data, as any real reader must).  Nothing can read a pcap through libpcap
 * faster, so ratio 1.0 is the ceiling for tcplab, tcptrace and tshark.
 *
 * It lives in tests/bench/ rather than tests/lab/ because it links libpcap
 * and the Makefile's lab rule links only -lpthread; scripts/bench-replay.sh
 * compiles it into its temporary directory.
 *
 * Usage: pcaploop FILE
 * Prints "packets N bytes M" on stdout.  Exit status 0 on success, 1 when
 * the file cannot be opened or reading it fails, 2 on a bad command line.
 */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *h;
	const u_char *data;
	uint64_t packets = 0, bytes = 0;
	unsigned touch = 0;
	pcap_t *p;
	int rc;

	if (argc != 2) {
		fputs("usage: pcaploop FILE\n", stderr);
		return 2;
	}
	errbuf[0] = '\0';
	/* Nanosecond precision: the same conversion work tcplab asks for. */
	p = pcap_open_offline_with_tstamp_precision(argv[1], PCAP_TSTAMP_PRECISION_NANO, errbuf);
	if (p == NULL) {
		fprintf(stderr, "pcaploop: %s\n", errbuf);
		return 1;
	}
	while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
		packets++;
		bytes += h->caplen;
		if (h->caplen > 0)
			touch += data[0] + data[h->caplen - 1];
	}
	if (rc == PCAP_ERROR) {
		fprintf(stderr, "pcaploop: %s\n", pcap_geterr(p));
		pcap_close(p);
		return 1;
	}
	pcap_close(p);
	/* Print the touched sum's parity so the compiler cannot drop the reads. */
	printf("packets %llu bytes %llu touch %u\n", (unsigned long long)packets,
	       (unsigned long long)bytes, touch & 1u);
	return 0;
}
