/*
 * paths.c — tcplab's data and lab directories, found from the binary's own
 * location (contract and layouts in include/tcplab/paths.h).
 *
 * Why not a directory compiled in from PREFIX: it froze the path of the
 * first build (main.o was not rebuilt by a later `make install
 * PREFIX=...`), and it breaks a tree moved after installation.  Relative to
 * /proc/self/exe needs no rebuild and no configuration.
 */
#include "tcplab/paths.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Joins dir and rest into out; -1 when it does not fit. */
static int join(char out[PATH_MAX], const char *dir, const char *rest)
{
	int n = snprintf(out, PATH_MAX, "%s%s", dir, rest);
	return n < 0 || n >= PATH_MAX ? -1 : 0;
}

int paths_resolve_from(const char *exe, struct tcplab_paths *p, char errbuf[PATHS_ERRBUF_SIZE])
{
	char bin[PATH_MAX], probe[PATH_MAX], tree[PATH_MAX], inst[PATH_MAX];
	char *slash;

	memset(p, 0, sizeof(*p));
	if (!exe || exe[0] != '/' || strlen(exe) >= PATH_MAX) {
		snprintf(errbuf, PATHS_ERRBUF_SIZE, "cannot tell where this tcplab is installed");
		return -1;
	}
	strcpy(p->exe, exe);
	strcpy(bin, exe);
	slash = strrchr(bin, '/');
	if (slash == bin)
		bin[1] = '\0';            /* "/tcplab": the root directory */
	else
		*slash = '\0';
	/* bin is "/" only for a binary in the root directory: avoid "//x" */
	const char *b = strcmp(bin, "/") ? bin : "";

	/* the source tree: ./tcplab next to scripts/ and build/ */
	if (join(tree, b, "/scripts") == 0 && join(probe, tree, "/demo.sh") == 0 &&
	    access(probe, R_OK) == 0) {
		if (join(p->labdir, b, "/build/lab") != 0)
			goto too_long;
		strcpy(p->datadir, tree);
		p->source_tree = true;
		return 0;
	}
	/* an installation: PREFIX/bin/tcplab, PREFIX/share/tcplab,
	 * PREFIX/libexec/tcplab (the GNU and Debian place for private helpers) */
	if (join(inst, b, "/../share/tcplab") == 0 && join(probe, inst, "/demo.sh") == 0 &&
	    access(probe, R_OK) == 0) {
		char real[PATH_MAX], lab[PATH_MAX];
		if (join(lab, b, "/../libexec/tcplab") != 0)
			goto too_long;
		/* show tidy paths when they resolve; keep the joined ones if not */
		strcpy(p->datadir, realpath(inst, real) ? real : inst);
		strcpy(p->labdir, realpath(lab, real) ? real : lab);
		return 0;
	}
	snprintf(errbuf, PATHS_ERRBUF_SIZE,
		 "tcplab's demo files are neither next to %s (scripts/demo.sh: a source tree) "
		 "nor installed beside it (%.*s/../share/tcplab/demo.sh)",
		 exe, PATH_MAX / 2, *b ? b : "");
	return -1;
too_long:
	snprintf(errbuf, PATHS_ERRBUF_SIZE, "the path of %s is too long", exe);
	return -1;
}

int paths_resolve(struct tcplab_paths *p, char errbuf[PATHS_ERRBUF_SIZE])
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0 || (size_t)n >= sizeof(self) - 1) {
		snprintf(errbuf, PATHS_ERRBUF_SIZE, "cannot find my own binary (/proc/self/exe): %s",
			 n < 0 ? strerror(errno) : n == 0 ? "empty link" : "path too long");
		memset(p, 0, sizeof(*p));
		return -1;
	}
	self[n] = '\0';
	return paths_resolve_from(self, p, errbuf);
}
