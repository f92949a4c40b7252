/*
 * libfile.c — the shared object behind a function (contract in
 * include/tcplab/libfile.h).
 */
#include "tcplab/libfile.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Contract in libfile.h.  dladdr() names the object that holds the
 * address; realpath() follows the soname link. */
const char *libfile_of(void (*fn)(void), char *buf, size_t len)
{
	Dl_info info;
	char real[PATH_MAX];

	if (!buf || len == 0)
		return buf;
	buf[0] = '\0';
	if (fn && dladdr((void *)(uintptr_t)fn, &info) && info.dli_fname && *info.dli_fname)
		snprintf(buf, len, "%s", realpath(info.dli_fname, real) ? real : info.dli_fname);
	return buf;
}
