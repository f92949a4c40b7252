/*
 * firewall.h — the only module that includes nftables/libnftables.h.
 *
 * The local kernel has no socket for a crafted connection and would answer
 * the peer with RST.  For the length of a run tcplab installs one nftables
 * table of its own, "tcplab_<pid>" in family inet, whose single rule drops
 * outgoing RST for exactly the crafted connection's addresses and ports,
 * except RSTs tcplab itself sends (they carry CRAFT_PACKET_MARK).
 *
 * On request (firewall_rule.warm_device) a second table of the same name in
 * family netdev drops, at the egress hook of one device, the packets tcplab
 * sends only to warm up the kernel's send path before it needs it fast
 * (see live_warm_path): they never reach the wire or any capture.
 * Nothing else on the host is touched.
 */
#ifndef TCPLAB_FIREWALL_H
#define TCPLAB_FIREWALL_H

#include <stdbool.h>
#include <stdint.h>

#include "tcplab/segment.h"

#define FIREWALL_ERRBUF_SIZE 512
#define FIREWALL_TABLE_PREFIX "tcplab_"

struct firewall;

/* Which outgoing RSTs to drop: from local addr:port, to remote addr:port
 * (remote_port 0 = any remote port, remote addr family 0 = any remote
 * address: used by listen). */
struct firewall_rule {
	struct ip_addr local;
	uint16_t local_port;
	struct ip_addr remote;
	uint16_t remote_port;
	uint32_t exempt_mark;   /* packets carrying this mark pass (0 = none) */
	/* Send-path warm-up: when warm_device is set, packets leaving that
	 * device with meta mark warm_mark, TTL (or hop limit) warm_ttl and no
	 * TCP flag at all are dropped before they leave.  tcplab never sends
	 * such a segment for any other purpose. */
	const char *warm_device;
	uint32_t warm_mark;
	uint8_t warm_ttl;
};

/*
 * Installs the table.  NULL on failure with errbuf set;
 * *permission_denied (may be NULL) tells whether CAP_NET_ADMIN was missing.
 */
struct firewall *firewall_install(const struct firewall_rule *rule,
				  char errbuf[FIREWALL_ERRBUF_SIZE], bool *permission_denied);

/* True when the warm-up drop of firewall_rule.warm_device is installed.  It
 * is optional: a kernel without netfilter egress hooks (before 5.16), or a
 * device name nft cannot quote, leaves it out and the install still works. */
bool firewall_warm_ready(const struct firewall *fw);

/* Name of the installed table ("tcplab_1234"). */
const char *firewall_table_name(const struct firewall *fw);

/* How many packets the rule has dropped so far (reads the rule's counter);
 * -1 when it cannot tell. */
int64_t firewall_dropped(struct firewall *fw);

/* Deletes the table and frees fw.  Safe to call with NULL.  0 ok, -1 if the
 * delete failed (the table may be left; `tcplab cleanup` removes it). */
int firewall_remove(struct firewall *fw);

/*
 * `tcplab cleanup`: deletes every table (inet or netdev) named tcplab_<pid>
 * whose process is gone (or is no longer a tcplab), and only those.  Sets *removed and
 * *kept (tables of running tcplabs).  0 ok, -1 with errbuf set.
 */
int firewall_cleanup_stale(unsigned *removed, unsigned *kept,
			   char errbuf[FIREWALL_ERRBUF_SIZE], bool *permission_denied);

/*
 * The libnftables tcplab runs with, for `tcplab --version`.  libnftables has
 * no call that returns its version, so buf gets the version of the headers
 * tcplab was built with (pkg-config) and the file of the shared library this
 * process has loaded (its ABI version is in the name), e.g. "libnftables
 * version 1.0.6 (built with), loaded from /usr/lib/x86_64-linux-gnu/
 * libnftables.so.1.1.0".  Always NUL-terminates buf (len > 0); returns buf.
 */
const char *firewall_lib_version(char *buf, size_t len);

#endif
