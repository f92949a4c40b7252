/*
 * libfile.h — which shared object the dynamic linker mapped for a library,
 * for --version (the modules that own libnftables and libtracefs name
 * their library's file with it; they alone include those libraries).
 */
#ifndef TCPLAB_LIBFILE_H
#define TCPLAB_LIBFILE_H

#include <stddef.h>

/*
 * Writes into buf (len bytes) the path of the shared object that holds the
 * function fn, with symbolic links resolved (the soname link leads to the
 * file whose name carries the ABI version), and returns buf; "" when the
 * dynamic linker cannot say (a static build).  Never fails.
 */
const char *libfile_of(void (*fn)(void), char *buf, size_t len);

#endif
