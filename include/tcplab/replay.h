/*
 * replay.h — the passive sources: a saved capture (replay) or a live
 * interface (watch), both decoded and fed to the tracker.
 */
#ifndef TCPLAB_REPLAY_H
#define TCPLAB_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#include "tcplab/render.h"

#define REPLAY_ERRBUF_SIZE 512

struct replay_options {
	const char *path;          /* replay: file or "-"; watch: NULL */
	const char *interface;     /* watch: -i */
	const char *filter;        /* trailing BPF expression, or NULL */
	unsigned only_conn;        /* -c N */
	bool summary_only;         /* --summary */
	bool realtime;             /* --realtime: pace by capture timestamps */
	double speed;              /* --speed X (with realtime), default 1 */
	bool progress;             /* show progress on stderr (a terminal) */
	/* replay FILE...: every file, merged by timestamp (a tcpdump -C / -G
	 * ring); paths[0] == path.  npaths <= 1: path alone. */
	const char *const *paths;
	int npaths;
	int kernel_states;         /* watch: enum kstates_mode (main sets KSTATES_OFF unless asked) */
	bool udp;                  /* --udp: trace UDP datagrams too, one event each */
};

/* True when path names an existing file that is not a directory, or does
 * not exist but ends like a capture's name (.pcap, .pcapng, .cap, .gz...):
 * how the command line tells a second capture file from a filter's first
 * word. */
bool replay_is_file(const char *path);

/* Runs replay or watch.  Returns an enum tcplab_exit value; errbuf holds the
 * sentence main() prints on failure. */
int replay_run(const struct replay_options *opt, struct renderer *r,
	       char errbuf[REPLAY_ERRBUF_SIZE]);

#endif
