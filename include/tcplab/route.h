/*
 * route.h — where a packet to HOST would go: name resolution, the source
 * address and egress interface the kernel would pick, and reserving a
 * source port from the kernel for the length of a run.
 */
#ifndef TCPLAB_ROUTE_H
#define TCPLAB_ROUTE_H

#include <stdbool.h>
#include <stdint.h>

#include "tcplab/segment.h"

#define ROUTE_ERRBUF_SIZE 256
#define ROUTE_IFNAME_SIZE 16   /* IF_NAMESIZE */

/* Resolves a name or literal (IPv4 preferred when family is 0; 4 or 6 to
 * force).  0 ok, -1 with errbuf set ("cannot resolve 'x': ..."). */
int route_resolve(const char *host, int family, struct ip_addr *out,
		  char errbuf[ROUTE_ERRBUF_SIZE]);

/* Asks the kernel which source address it would use towards dst (a
 * connected UDP socket, nothing sent) and finds the interface holding that
 * address ("lo" for loopback destinations).  0 ok, -1 with errbuf set. */
int route_lookup(const struct ip_addr *dst, struct ip_addr *src,
		 char ifname[ROUTE_IFNAME_SIZE], char errbuf[ROUTE_ERRBUF_SIZE]);

/* Finds the interface that holds addr.  0 ok, -1 when none does. */
int route_interface_of(const struct ip_addr *addr, char ifname[ROUTE_IFNAME_SIZE]);

/*
 * Reserves a TCP port on addr: binds a kernel TCP socket (not listening)
 * to `port` (0: the kernel picks an ephemeral one) and keeps it open so no
 * other program can use the same 4-tuple.  Returns the socket fd (close it
 * at the end of the run) and sets *bound_port; -1 with errbuf set.
 */
int route_reserve_port(const struct ip_addr *addr, uint16_t port, uint16_t *bound_port,
		       char errbuf[ROUTE_ERRBUF_SIZE]);

/* True when a kernel socket listens on addr:port (addr 0.0.0.0 / :: matches
 * any).  Reads /proc/net/tcp{,6}. */
bool route_port_has_listener(const struct ip_addr *addr, uint16_t port);

#endif
