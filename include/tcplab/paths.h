/*
 * paths.h — where tcplab's own files are: the demo scripts (data) and the
 * lab helper programs the demos run (a kernel TCP server, ...).
 *
 * Nothing is compiled in.  The places are found at run time from the
 * binary's own location (/proc/self/exe, symlinks resolved), so a build
 * installed with any PREFIX, copied or moved as a whole tree, or run from
 * the source tree finds its own files, whatever order make's targets ran in:
 *
 *   source tree   BIN/tcplab      data BIN/scripts          lab BIN/build/lab
 *   installed     PREFIX/bin/...  data PREFIX/share/tcplab  lab PREFIX/libexec/tcplab
 *
 * The source tree is recognised by BIN/scripts/demo.sh, an installation by
 * BIN/../share/tcplab/demo.sh; the source tree wins when both exist.
 */
#ifndef TCPLAB_PATHS_H
#define TCPLAB_PATHS_H

#include <limits.h>
#include <stdbool.h>

#define PATHS_ERRBUF_SIZE (2 * PATH_MAX + 160)

struct tcplab_paths {
	char exe[PATH_MAX];      /* this binary, absolute, symlinks resolved */
	char datadir[PATH_MAX];  /* holds demo.sh (and demos/ when present) */
	char labdir[PATH_MAX];   /* lab helper programs (tcpserver, ...) */
	bool source_tree;        /* found as a source tree, not an installation */
};

/*
 * Resolves the places for the binary at exe (an absolute path, as
 * /proc/self/exe gives it).  Pure apart from access(2) checks on the two
 * candidate demo.sh files; unit-testable with any directory tree.
 * 0 ok; -1 when neither layout is found (or a path does not fit PATH_MAX),
 * with errbuf naming both places looked at.
 */
int paths_resolve_from(const char *exe, struct tcplab_paths *p, char errbuf[PATHS_ERRBUF_SIZE]);

/* paths_resolve_from() for the running binary (/proc/self/exe).  0 ok, -1
 * with errbuf set (also when /proc/self/exe cannot be read). */
int paths_resolve(struct tcplab_paths *p, char errbuf[PATHS_ERRBUF_SIZE]);

#endif
