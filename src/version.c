/*
 * version.c — `tcplab --version` (contract in include/tcplab/version.h).
 *
 * TCPLAB_VERSION comes from the Makefile, which reads it from the first line
 * of debian/changelog: one place for the version of the source, the binary
 * and the package.
 */
#include "tcplab/version.h"
#include "tcplab/ktrace.h"

#include "tcplab/capture.h"
#include "tcplab/craft.h"
#include "tcplab/firewall.h"

#ifndef TCPLAB_VERSION
#error "TCPLAB_VERSION must come from the Makefile (read from debian/changelog)"
#endif

const char *version_string(void)
{
	return TCPLAB_VERSION;
}

int version_print(FILE *f)
{
	char nft[512];

	fprintf(f, "tcplab version %s\n", TCPLAB_VERSION);
	fprintf(f, "%s\n", capture_lib_version());
	fprintf(f, "%s\n", craft_lib_version());
	fprintf(f, "%s\n", firewall_lib_version(nft, sizeof(nft)));
	fprintf(f, "%s\n", ktrace_lib_version(nft, sizeof(nft)));
	return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}
