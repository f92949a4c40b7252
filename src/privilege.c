/*
 * privilege.c — capability check (capget(2), no libcap needed) and handing
 * written files back to the sudo user.
 */
#include "tcplab/privilege.h"

#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* True when capability cap is in the effective set of this process. */
static bool have_cap(int cap)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) != 0)
		return geteuid() == 0;
	return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

int privilege_check(bool need_admin, char errbuf[PRIVILEGE_ERRBUF_SIZE])
{
	bool raw = have_cap(CAP_NET_RAW);
	bool admin = !need_admin || have_cap(CAP_NET_ADMIN);
	const char *what;

	if (raw && admin)
		return 0;
	if (!raw && !admin)
		what = "CAP_NET_RAW (to capture and inject packets) and CAP_NET_ADMIN (for its temporary nftables rule)";
	else if (!raw)
		what = "CAP_NET_RAW (to capture and inject packets)";
	else
		what = "CAP_NET_ADMIN (for its temporary nftables rule that stops the kernel's RST; --no-firewall does without it)";
	snprintf(errbuf, PRIVILEGE_ERRBUF_SIZE,
		 "tcplab needs %s: run it with sudo, or grant them once with "
		 "'sudo setcap cap_net_raw,cap_net_admin+ep %s'",
		 what, "$(command -v tcplab)");
	return -1;
}

int privilege_give_to_invoker(const char *path)
{
	const char *u = getenv("SUDO_UID"), *g = getenv("SUDO_GID");
	char *end;
	long uid, gid;

	if (!u || !g || geteuid() != 0)
		return 0;
	uid = strtol(u, &end, 10);
	if (*end || uid < 0)
		return -1;
	gid = strtol(g, &end, 10);
	if (*end || gid < 0)
		return -1;
	return chown(path, (uid_t)uid, (gid_t)gid) == 0 ? 0 : -1;
}
