/*
 * firewall.c — the nftables table that keeps the local kernel quiet while
 * tcplab plays one end of a TCP connection by hand.
 *
 * Why it is needed: the kernel has no socket for a connection tcplab crafts,
 * so it treats the peer's SYN-ACK (client role) or SYN (server role) as a
 * segment for a closed port and answers it with RST (RFC 9293 §3.10.7.1,
 * "If the state is CLOSED ... a reset is sent in response to any incoming
 * segment except another reset").  That RST would tear the peer's side of
 * the connection down before tcplab can send its own ACK.
 *
 * What it does: for the length of a run it installs one table of its own,
 * "tcplab_<pid>" in family inet, holding a named counter and one base chain
 * on the output hook with one rule:
 *
 *   tcp RST from local addr:port to remote addr:port, whose meta mark is not
 *   the exempt mark  ->  count, drop
 *
 * tcplab's own crafted segments carry the exempt mark (SO_MARK), so a RST
 * tcplab sends on purpose still leaves.
 *
 * The warm-up table: `tcplab connect` reacts to the SYN-ACK from user space,
 * and the first packet a fresh process sends through the raw socket takes
 * the kernel's cold path (route, netfilter, neighbour, device queue): about
 * 10 µs measured here, more than the kernel's whole reaction.  So before the
 * SYN it sends one segment through the same path that must never leave: no
 * TCP flag, TTL 1, tcplab's mark.  A second table "tcplab_<pid>" in family
 * netdev drops exactly those at the egress hook of the connection's device
 * (Linux 5.16+), before the packet taps: not on the wire, not in any capture.
 *
 * Nothing else on the host is touched: no other table is ever written, and
 * cleanup only deletes tables whose name is exactly tcplab_<pid> of a
 * process that is gone.
 *
 * The table carries the "owner" flag (Linux 5.12+): the kernel ties it to
 * the netlink socket of our libnftables context and deletes it by itself
 * when that socket is closed, which includes the process being killed with
 * SIGKILL.  On kernels without the flag the table is created without it and
 * `tcplab cleanup` (firewall_cleanup_stale) is what removes a leftover.
 *
 * This is the only module that includes <nftables/libnftables.h>.
 * Every libnftables call goes through nft_run() so that output and errors
 * land in memory buffers (never on the user's terminal) and asynchronous
 * signals cannot interrupt a netlink transaction half-way.
 */
#include "tcplab/firewall.h"
#include "tcplab/libfile.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <nftables/libnftables.h>

/* Names inside our table.  Fixed, so firewall_dropped() can list exactly
 * the counter object and nothing else. */
#define FW_COUNTER_NAME "rst_dropped"
#define FW_CHAIN_NAME   "out"
#define FW_WARM_CHAIN_NAME "warmup"

/* What tcplab's process name (/proc/<pid>/comm) is. */
#define FW_PROCESS_COMM "tcplab"

/* Room for one generated nft script: the table with its comment, the chain
 * and a rule with two IPv6 literals stays well under 1 KiB. */
#define FW_CMD_SIZE 2048

/* Table names we create: "tcplab_" + at most 10 digits of a pid_t.  The
 * sscanf width in firewall_cleanup_stale is this number. */
#define FW_NAME_SIZE 32
_Static_assert(FW_NAME_SIZE == 32, "update the %32s width in firewall_cleanup_stale");

/* Firewalls this process has installed and not yet removed.  The table
 * name is per process, so a second one would collide with the first
 * (and, owner-flagged, be refused by the kernel with a misleading EPERM):
 * firewall_install refuses it up front with a clear message instead. */
static unsigned fw_live;

struct firewall {
	struct nft_ctx *nft;          /* kept open: its netlink socket owns the tables */
	char name[FW_NAME_SIZE];      /* "tcplab_1234" */
	bool warm;                    /* the netdev warm-up table is installed too */
};

/*
 * Formats a message into errbuf (may be NULL: then nothing happens).
 * Always NUL-terminated, truncated to FIREWALL_ERRBUF_SIZE.
 */
static void fw_err(char *errbuf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fw_err(char *errbuf, const char *fmt, ...)
{
	va_list ap;

	if (errbuf == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, FIREWALL_ERRBUF_SIZE, fmt, ap);
	va_end(ap);
}

/*
 * Creates a libnftables context whose output and error messages go into
 * memory buffers instead of stdout/stderr.  NULL on failure (errbuf set).
 */
static struct nft_ctx *nft_open(char *errbuf)
{
	struct nft_ctx *nft;
	int probe;

	/* libnftables 1.0.6 opens its netlink socket inside nft_ctx_new and
	 * calls exit() when it cannot: open one ourselves first so that a
	 * sandbox without netfilter netlink is an error, not an exit. */
	probe = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (probe < 0) {
		fw_err(errbuf, "cannot open a netfilter netlink socket: %s", strerror(errno));
		return NULL;
	}
	close(probe);

	nft = nft_ctx_new(NFT_CTX_DEFAULT);
	if (nft == NULL) {
		fw_err(errbuf, "cannot create a libnftables context");
		return NULL;
	}
	if (nft_ctx_buffer_output(nft) != 0 || nft_ctx_buffer_error(nft) != 0) {
		nft_ctx_free(nft);
		fw_err(errbuf, "cannot buffer libnftables output");
		return NULL;
	}
	/* Plain text, no handles, no reverse DNS: the parsers below read
	 * nft's native list format. */
	nft_ctx_output_set_flags(nft, 0);
	return nft;
}

/*
 * Runs one nft script in nft with asynchronous signals blocked, so a
 * SIGINT/SIGTERM arriving during the netlink exchange is delivered after it
 * instead of making a recv() fail with EINTR and leaving us unsure whether
 * the batch was committed.  Synchronous fault signals stay unblocked.
 * pthread_sigmask, not sigprocmask: tcplab runs a sender thread, and the
 * mask is per thread (another thread may take the signal meanwhile, which
 * is fine: the point is that this thread's netlink calls see no EINTR).
 *
 * *out and *err (either may be NULL) receive pointers into nft's buffers,
 * valid until the next nft_run() on the same context.  Returns nft's result
 * (0 ok) and leaves errno as the library left it.
 */
static int nft_run(struct nft_ctx *nft, const char *cmd, const char **out, const char **err)
{
	sigset_t all, old;
	int rc, saved_errno;
	const char *o, *e;

	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	sigdelset(&all, SIGTRAP);
	sigdelset(&all, SIGABRT);
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_BLOCK, &all, &old);

	errno = 0;
	rc = nft_run_cmd_from_buffer(nft, cmd);
	saved_errno = errno;
	/* Reading a buffer also rewinds it: read both every time so one
	 * command's text never shows up in the next one's. */
	o = nft_ctx_get_output_buffer(nft);
	e = nft_ctx_get_error_buffer(nft);

	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (out != NULL)
		*out = o != NULL ? o : "";
	if (err != NULL)
		*err = e != NULL ? e : "";
	errno = saved_errno;
	return rc;
}

/*
 * False when the process certainly lacks CAP_NET_ADMIN in its effective
 * set, which nfnetlink requires for every nftables request (reads too).
 * Checked before calling libnftables because libnftables 1.0.6 prints
 * "Operation not permitted (you must be root)" to stderr itself on EPERM
 * (removed upstream later); asking first keeps the user's terminal to the
 * one sentence tcplab prints.  When capget fails we say "maybe" and let
 * the kernel decide.
 */
static bool fw_may_have_net_admin(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) != 0)
		return true;
	return (data[CAP_TO_INDEX(CAP_NET_ADMIN)].effective & CAP_TO_MASK(CAP_NET_ADMIN)) != 0;
}

/* True when nft's error text or errno says the kernel refused for lack of
 * CAP_NET_ADMIN (nfnetlink checks it for every request, reads included). */
static bool nft_err_is_eperm(const char *err, int err_no)
{
	return err_no == EPERM || strstr(err, "Operation not permitted") != NULL;
}

/*
 * Writes "<what>: <first line of nft's error, without 'Error: '>" into
 * errbuf: nft's error text repeats the command and underlines it with ^^^,
 * which is noise for a user who did not write the command.
 */
static void fw_err_from_nft(char *errbuf, const char *what, const char *err, bool eperm)
{
	char line[FIREWALL_ERRBUF_SIZE];
	size_t n;

	while (*err != '\0' && isspace((unsigned char)*err))
		err++;
	if (strncmp(err, "Error: ", 7) == 0)
		err += 7;
	n = strcspn(err, "\n");
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	memcpy(line, err, n);
	line[n] = '\0';
	while (n > 0 && (isspace((unsigned char)line[n - 1]) || line[n - 1] == '.'))
		line[--n] = '\0';
	if (n == 0)
		snprintf(line, sizeof(line), "libnftables gave no reason");

	if (eperm)
		fw_err(errbuf, "%s: %s (changing nftables needs CAP_NET_ADMIN)", what, line);
	else
		fw_err(errbuf, "%s: %s", what, line);
}

/* Formats an ip_addr of family 4 or 6 as an nft literal. 0 ok, -1 bad family. */
static int fw_format_addr(const struct ip_addr *a, char *buf, size_t len)
{
	int af;

	if (a->family == 4)
		af = AF_INET;
	else if (a->family == 6)
		af = AF_INET6;
	else
		return -1;
	return inet_ntop(af, a->bytes, buf, (socklen_t)len) != NULL ? 0 : -1;
}

/*
 * Appends the match expressions of rule to buf (size len).  Checks the rule:
 * families 0/4/6 only, equal when both are set, local_port non-zero (port 0
 * would drop RSTs of every local port, more than "this connection").
 * 0 ok, -1 with errbuf set.
 */
static int fw_build_match(const struct firewall_rule *rule, char *buf, size_t len, char *errbuf)
{
	char laddr[INET6_ADDRSTRLEN], raddr[INET6_ADDRSTRLEN];
	const char *lkw, *rkw;
	size_t used = 0;
	int n;

	if (rule->local.family != 0 && rule->local.family != 4 && rule->local.family != 6) {
		fw_err(errbuf, "firewall rule: local address family %u is neither IPv4 nor IPv6",
		       (unsigned)rule->local.family);
		return -1;
	}
	if (rule->remote.family != 0 && rule->remote.family != 4 && rule->remote.family != 6) {
		fw_err(errbuf, "firewall rule: remote address family %u is neither IPv4 nor IPv6",
		       (unsigned)rule->remote.family);
		return -1;
	}
	if (rule->local.family != 0 && rule->remote.family != 0 &&
	    rule->local.family != rule->remote.family) {
		fw_err(errbuf, "firewall rule: local and remote addresses are of different IP versions");
		return -1;
	}
	if (rule->local_port == 0) {
		fw_err(errbuf, "firewall rule: local port 0 would drop the RSTs of every local port");
		return -1;
	}

	/* "meta l4proto tcp" first: in the inet family it matches TCP over
	 * both IPv4 and IPv6, and makes the tcp header matches safe. */
	n = snprintf(buf + used, len - used, "meta l4proto tcp");
	if (n < 0 || (size_t)n >= len - used)
		goto too_long;
	used += (size_t)n;

	if (rule->local.family != 0) {
		if (fw_format_addr(&rule->local, laddr, sizeof(laddr)) != 0) {
			fw_err(errbuf, "firewall rule: cannot format the local address");
			return -1;
		}
		lkw = rule->local.family == 4 ? "ip" : "ip6";
		n = snprintf(buf + used, len - used, " %s saddr %s", lkw, laddr);
		if (n < 0 || (size_t)n >= len - used)
			goto too_long;
		used += (size_t)n;
	}
	n = snprintf(buf + used, len - used, " tcp sport %u", (unsigned)rule->local_port);
	if (n < 0 || (size_t)n >= len - used)
		goto too_long;
	used += (size_t)n;

	if (rule->remote.family != 0) {
		if (fw_format_addr(&rule->remote, raddr, sizeof(raddr)) != 0) {
			fw_err(errbuf, "firewall rule: cannot format the remote address");
			return -1;
		}
		rkw = rule->remote.family == 4 ? "ip" : "ip6";
		n = snprintf(buf + used, len - used, " %s daddr %s", rkw, raddr);
		if (n < 0 || (size_t)n >= len - used)
			goto too_long;
		used += (size_t)n;
	}
	if (rule->remote_port != 0) {
		n = snprintf(buf + used, len - used, " tcp dport %u", (unsigned)rule->remote_port);
		if (n < 0 || (size_t)n >= len - used)
			goto too_long;
		used += (size_t)n;
	}

	/* RST bit set, whatever else is (the kernel answers a SYN with
	 * RST|ACK and a SYN-ACK with a bare RST, RFC 9293 §3.10.7.1). */
	n = snprintf(buf + used, len - used, " tcp flags & rst == rst");
	if (n < 0 || (size_t)n >= len - used)
		goto too_long;
	used += (size_t)n;

	if (rule->exempt_mark != 0) {
		n = snprintf(buf + used, len - used, " meta mark != 0x%08x",
			     (unsigned)rule->exempt_mark);
		if (n < 0 || (size_t)n >= len - used)
			goto too_long;
	}
	return 0;

too_long:
	fw_err(errbuf, "firewall rule: internal command buffer too small");
	return -1;
}

/*
 * Builds the whole install script for table name.  with_owner adds the
 * "owner" table flag.  The script is one batch, so the kernel applies it as
 * one transaction: either the old table (if any) is replaced by the new one
 * or nothing changes.
 *
 * "table X { }" first creates the table if it does not exist, so the
 * following "delete table X" cannot fail with ENOENT: together they replace
 * a stale table of the same name (left by an earlier process that had our
 * pid) without a separate, racy existence check.
 *
 * Chain priority: raw (-300), not filter (0).  On the output hook conntrack
 * runs at -200; with priority 0 conntrack would already have seen the
 * kernel's RST we then drop and would have moved its entry for the
 * connection to CLOSE, so that the crafted ACK that follows could be
 * classified "invalid" and dropped by a host firewall with the common
 * "ct state invalid drop" rule.  At raw priority the RST disappears before
 * conntrack or any NAT (-100) or filter (0) chain of the host sees it, and
 * our table never decides anything for packets it does not match (policy
 * accept leaves them to the host's own chains).
 */
static int fw_build_script(const char *name, const struct firewall_rule *rule, bool with_owner,
			   char *buf, size_t len, char *errbuf)
{
	char match[FW_CMD_SIZE / 2];
	int n;

	if (fw_build_match(rule, match, sizeof(match), errbuf) != 0)
		return -1;

	n = snprintf(buf, len,
		     "table inet %s { }\n"
		     "delete table inet %s\n"
		     "table inet %s {\n"
		     "%s"
		     /* At most 128 characters (NFT_COMMENT_MAXLEN); with a
		      * 10-digit pid this is 123. */
		     "comment \"tcplab pid %ld: drops kernel RSTs for a crafted connection; "
		     "removed when tcplab exits, by `tcplab cleanup` if killed\"\n"
		     "counter " FW_COUNTER_NAME " { }\n"
		     "chain " FW_CHAIN_NAME " {\n"
		     "type filter hook output priority raw; policy accept;\n"
		     "%s counter name \"" FW_COUNTER_NAME "\" drop\n"
		     "}\n"
		     "}\n",
		     name, name, name, with_owner ? "flags owner\n" : "", (long)getpid(), match);
	if (n < 0 || (size_t)n >= len) {
		fw_err(errbuf, "firewall rule: internal command buffer too small");
		return -1;
	}
	return 0;
}

/* True for a device name that can go inside nft's double quotes as is. */
static bool fw_device_name_ok(const char *dev)
{
	size_t n = 0;

	for (; dev[n] != '\0'; n++)
		if (!isalnum((unsigned char)dev[n]) && strchr("._-@", dev[n]) == NULL)
			return false;
	return n > 0 && n < 16;   /* IFNAMSIZ */
}

/*
 * The netdev warm-up table (see the top of this file): one egress chain on
 * rule->warm_device dropping tcplab's warm-up segments, IPv4 and IPv6.
 */
static int fw_build_warm_script(const char *name, const struct firewall_rule *rule, bool with_owner,
				char *buf, size_t len)
{
	int n = snprintf(buf, len,
			 "table netdev %s { }\n"
			 "delete table netdev %s\n"
			 "table netdev %s {\n"
			 "%s"
			 "comment \"tcplab pid %ld: drops tcplab's own send-path warm-up segments before they "
			 "leave; removed when tcplab exits\"\n"
			 "chain " FW_WARM_CHAIN_NAME " {\n"
			 "type filter hook egress device \"%s\" priority filter; policy accept;\n"
			 "meta mark 0x%08" PRIx32 " ip ttl %u tcp flags == 0x0 drop\n"
			 "meta mark 0x%08" PRIx32 " ip6 hoplimit %u tcp flags == 0x0 drop\n"
			 "}\n"
			 "}\n",
			 name, name, name, with_owner ? "flags owner\n" : "", (long)getpid(), rule->warm_device,
			 rule->warm_mark, rule->warm_ttl, rule->warm_mark, rule->warm_ttl);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Installs the warm-up table when asked and possible; fw->warm says
 * whether it is there.  Never fails the install: without it tcplab only
 * reacts more slowly. */
static void fw_install_warm(struct firewall *fw, const struct firewall_rule *rule, bool with_owner)
{
	char cmd[FW_CMD_SIZE];

	if (rule->warm_device == NULL || rule->warm_ttl == 0 || !fw_device_name_ok(rule->warm_device))
		return;
	if (fw_build_warm_script(fw->name, rule, with_owner, cmd, sizeof(cmd)) != 0)
		return;
	fw->warm = nft_run(fw->nft, cmd, NULL, NULL) == 0;
}

/*
 * Contract (firewall.h): installs table tcplab_<pid> with the rule.
 * Validates rule before touching nftables.  NULL on failure with errbuf
 * set; *permission_denied (may be NULL) is true only when the kernel
 * refused for lack of CAP_NET_ADMIN.
 */
struct firewall *firewall_install(const struct firewall_rule *rule,
				  char errbuf[FIREWALL_ERRBUF_SIZE], bool *permission_denied)
{
	char cmd[FW_CMD_SIZE];
	struct firewall *fw;
	const char *err;
	int rc, err_no;
	bool with_owner = true;

	if (permission_denied != NULL)
		*permission_denied = false;
	if (errbuf != NULL)
		errbuf[0] = '\0';
	if (rule == NULL) {
		fw_err(errbuf, "firewall rule: no rule given");
		return NULL;
	}

	if (fw_live != 0) {
		fw_err(errbuf, "firewall: this process already has its nftables table installed");
		return NULL;
	}

	fw = calloc(1, sizeof(*fw));
	if (fw == NULL) {
		fw_err(errbuf, "firewall: out of memory");
		return NULL;
	}
	snprintf(fw->name, sizeof(fw->name), FIREWALL_TABLE_PREFIX "%ld", (long)getpid());

	if (fw_build_script(fw->name, rule, true, cmd, sizeof(cmd), errbuf) != 0) {
		free(fw);
		return NULL;
	}
	if (!fw_may_have_net_admin()) {
		fw_err(errbuf, "cannot install nftables table %s: Operation not permitted "
		       "(changing nftables needs CAP_NET_ADMIN)", fw->name);
		if (permission_denied != NULL)
			*permission_denied = true;
		free(fw);
		return NULL;
	}
	fw->nft = nft_open(errbuf);
	if (fw->nft == NULL) {
		free(fw);
		return NULL;
	}

	rc = nft_run(fw->nft, cmd, NULL, &err);
	err_no = errno;
	if (rc != 0 && !nft_err_is_eperm(err, err_no) &&
	    strstr(err, "Operation not supported") != NULL) {
		/* A kernel older than 5.12 does not know the owner flag
		 * (EOPNOTSUPP for unknown table flags): go without it and
		 * rely on firewall_remove / `tcplab cleanup`. */
		with_owner = false;
		if (fw_build_script(fw->name, rule, false, cmd, sizeof(cmd), errbuf) != 0)
			goto fail;
		rc = nft_run(fw->nft, cmd, NULL, &err);
		err_no = errno;
	}
	if (rc != 0) {
		bool eperm = nft_err_is_eperm(err, err_no);
		char what[64];

		snprintf(what, sizeof(what), "cannot install nftables table %s", fw->name);
		fw_err_from_nft(errbuf, what, err, eperm);
		if (permission_denied != NULL)
			*permission_denied = eperm;
		goto fail;
	}
	fw_install_warm(fw, rule, with_owner);
	fw_live++;
	return fw;

fail:
	nft_ctx_free(fw->nft);
	free(fw);
	return NULL;
}

/* Contract (firewall.h): whether the warm-up drop is installed. */
bool firewall_warm_ready(const struct firewall *fw)
{
	return fw != NULL && fw->warm;
}

/* Contract (firewall.h): name of the installed table; "" for NULL. */
const char *firewall_table_name(const struct firewall *fw)
{
	return fw != NULL ? fw->name : "";
}

/*
 * Parses the packet count out of `list counter` text output, which reads
 *
 *   table inet tcplab_1234 {
 *           counter rst_dropped {
 *                   packets 3 bytes 120
 *           }
 *   }
 *
 * Looks for the word "packets" at the start of a line (after indentation)
 * followed by a decimal number.  -1 when there is none or it overflows.
 */
static int64_t fw_parse_packets(const char *out)
{
	const char *p = out;

	while (*p != '\0') {
		const char *line = p;
		const char *nl = strchr(p, '\n');

		p = nl != NULL ? nl + 1 : line + strlen(line);
		while (*line == ' ' || *line == '\t')
			line++;
		if (strncmp(line, "packets ", 8) == 0) {
			const char *d = line + 8;
			int64_t v = 0;

			if (!isdigit((unsigned char)*d))
				return -1;
			while (isdigit((unsigned char)*d)) {
				int digit = *d - '0';

				if (v > (INT64_MAX - digit) / 10)
					return -1;
				v = v * 10 + digit;
				d++;
			}
			if (*d != ' ' && *d != '\n' && *d != '\0')
				return -1;
			return v;
		}
	}
	return -1;
}

/* Contract (firewall.h): packets the rule dropped so far; -1 when unknown
 * (fw NULL, the table gone, or output that cannot be parsed). */
int64_t firewall_dropped(struct firewall *fw)
{
	char cmd[128];
	const char *out;

	if (fw == NULL || fw->nft == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "list counter inet %s " FW_COUNTER_NAME, fw->name);
	if (nft_run(fw->nft, cmd, &out, NULL) != 0)
		return -1;
	return fw_parse_packets(out);
}

/*
 * Contract (firewall.h): deletes the table and frees fw; NULL is a no-op
 * returning 0.  Not async-signal-safe (libnftables allocates): a signal
 * handler only sets a flag and the main loop calls this.  Freeing the
 * context closes the netlink socket, which by itself makes the kernel drop
 * an owner-flagged table, so even a failed delete leaves nothing behind
 * when the owner flag was in use.
 */
int firewall_remove(struct firewall *fw)
{
	char cmd[64];
	int rc;

	if (fw == NULL)
		return 0;
	snprintf(cmd, sizeof(cmd), "delete table inet %s", fw->name);
	rc = nft_run(fw->nft, cmd, NULL, NULL);
	if (fw->warm) {
		snprintf(cmd, sizeof(cmd), "delete table netdev %s", fw->name);
		if (nft_run(fw->nft, cmd, NULL, NULL) != 0)
			rc = -1;
	}
	nft_ctx_free(fw->nft);
	free(fw);
	if (fw_live > 0)
		fw_live--;
	return rc == 0 ? 0 : -1;
}

/*
 * If name is exactly FIREWALL_TABLE_PREFIX followed by the canonical decimal
 * form of a positive pid_t (no sign, no leading zero, at most INT_MAX) —
 * i.e. a name firewall_install could have made — stores the pid and returns
 * true.  Anything else ("tcplabX", "tcplab_12ab", "tcplab_007", "tcplab_")
 * is not ours and must never be touched.
 */
static bool fw_parse_table_name(const char *name, long *pid)
{
	const char *d;
	long v = 0;

	if (strncmp(name, FIREWALL_TABLE_PREFIX, strlen(FIREWALL_TABLE_PREFIX)) != 0)
		return false;
	d = name + strlen(FIREWALL_TABLE_PREFIX);
	if (*d < '1' || *d > '9')
		return false;
	for (; *d != '\0'; d++) {
		if (!isdigit((unsigned char)*d))
			return false;
		if (v > (INT_MAX - (*d - '0')) / 10)
			return false;
		v = v * 10 + (*d - '0');
	}
	*pid = v;
	return true;
}

/*
 * True when process pid exists and is a tcplab (its /proc/<pid>/comm reads
 * "tcplab").  A pid reused by some other program counts as gone.
 */
static bool fw_pid_is_tcplab(long pid)
{
	char path[64], comm[32];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "re");
	if (f == NULL)
		return false;
	n = fread(comm, 1, sizeof(comm) - 1, f);
	fclose(f);
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	return strcmp(comm, FW_PROCESS_COMM) == 0;
}

/*
 * Reads the handle out of `list table` output with NFT_CTX_OUTPUT_HANDLE,
 * whose first line is "table inet NAME { # handle N" (possibly followed by
 * more "# progname ..." text).  -1 when absent.
 */
static long fw_parse_handle(const char *out)
{
	const char *h = strstr(out, "# handle ");
	const char *nl = strchr(out, '\n');
	long v = 0;

	if (h == NULL || (nl != NULL && h > nl))
		return -1;
	h += 9;
	if (!isdigit((unsigned char)*h))
		return -1;
	for (; isdigit((unsigned char)*h); h++) {
		if (v > (LONG_MAX - (*h - '0')) / 10)
			return -1;
		v = v * 10 + (*h - '0');
	}
	return v;
}

/*
 * Decides about one table "family name" (family inet or netdev, pid
 * already parsed) and deletes it when its process is gone.  The table's handle is read before the /proc
 * check and the delete goes by handle: if meanwhile a new tcplab that got
 * the same pid replaced the table, the handle no longer exists and the new
 * table survives.  Returns 0 (counted into *removed / *kept, or neither
 * when the table vanished meanwhile) or -1 with errbuf set.
 */
static int fw_cleanup_one(struct nft_ctx *nft, const char *family, const char *name, long pid,
			  unsigned *removed, unsigned *kept, char *errbuf)
{
	char cmd[FW_CMD_SIZE];
	const char *out, *err;
	long handle;
	int rc, err_no;

	snprintf(cmd, sizeof(cmd), "list table %s %s", family, name);
	nft_ctx_output_set_flags(nft, NFT_CTX_OUTPUT_HANDLE);
	rc = nft_run(nft, cmd, &out, &err);
	nft_ctx_output_set_flags(nft, 0);
	if (rc != 0) {
		if (strstr(err, "No such file or directory") != NULL)
			return 0;  /* gone since the listing: nothing to do */
		snprintf(cmd, sizeof(cmd), "cannot list nftables table %s", name);
		fw_err_from_nft(errbuf, cmd, err, false);
		return -1;
	}
	handle = fw_parse_handle(out);
	if (handle < 0) {
		fw_err(errbuf, "cannot read the handle of nftables table %s", name);
		return -1;
	}

	if (fw_pid_is_tcplab(pid)) {
		(*kept)++;
		return 0;
	}

	snprintf(cmd, sizeof(cmd), "delete table %s handle %ld", family, handle);
	rc = nft_run(nft, cmd, NULL, &err);
	err_no = errno;
	if (rc == 0) {
		(*removed)++;
		return 0;
	}
	if (strstr(err, "No such file or directory") != NULL)
		return 0;  /* replaced or removed meanwhile */
	if (nft_err_is_eperm(err, err_no)) {
		/* We could list, so we have CAP_NET_ADMIN: EPERM on delete
		 * means an owner-flagged table whose owning socket is still
		 * open — a live tcplab we cannot see (another pid namespace). */
		(*kept)++;
		return 0;
	}
	snprintf(cmd, sizeof(cmd), "cannot delete nftables table %s", name);
	fw_err_from_nft(errbuf, cmd, err, false);
	return -1;
}

/*
 * Contract (firewall.h): `tcplab cleanup`.  Lists the tables, and for each
 * inet or netdev table named tcplab_<pid> deletes it when /proc/<pid> is
 * gone or is not a tcplab (counted in *removed) and keeps it otherwise
 * (*kept).
 * Tables of other families or other names are never touched.  Refuses to
 * run without /proc, where every table would look stale.
 */
int firewall_cleanup_stale(unsigned *removed, unsigned *kept,
			   char errbuf[FIREWALL_ERRBUF_SIZE], bool *permission_denied)
{
	struct nft_ctx *nft;
	const char *out, *err, *p;
	char *list = NULL;
	unsigned dummy_removed, dummy_kept;
	struct stat st;
	int rc, err_no, ret = 0;

	if (removed == NULL)
		removed = &dummy_removed;
	if (kept == NULL)
		kept = &dummy_kept;
	*removed = 0;
	*kept = 0;
	if (permission_denied != NULL)
		*permission_denied = false;
	if (errbuf != NULL)
		errbuf[0] = '\0';

	if (stat("/proc/self/comm", &st) != 0) {
		fw_err(errbuf, "cannot tell which tcplab processes run: /proc is not mounted");
		return -1;
	}

	if (!fw_may_have_net_admin()) {
		fw_err(errbuf, "cannot list nftables tables: Operation not permitted "
		       "(reading nftables needs CAP_NET_ADMIN)");
		if (permission_denied != NULL)
			*permission_denied = true;
		return -1;
	}
	nft = nft_open(errbuf);
	if (nft == NULL)
		return -1;
	rc = nft_run(nft, "list tables", &out, &err);
	err_no = errno;
	if (rc != 0) {
		bool eperm = nft_err_is_eperm(err, err_no);

		fw_err_from_nft(errbuf, "cannot list nftables tables", err, eperm);
		if (permission_denied != NULL)
			*permission_denied = eperm;
		nft_ctx_free(nft);
		return -1;
	}
	/* Copy: out is overwritten by the commands run per table below. */
	list = strdup(out);
	if (list == NULL) {
		fw_err(errbuf, "firewall cleanup: out of memory");
		nft_ctx_free(nft);
		return -1;
	}

	/* One line per table: "table <family> <name>". */
	for (p = list; *p != '\0' && ret == 0;) {
		char family[16], name[FW_NAME_SIZE + 1];
		const char *line = p, *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		char buf[300];
		long pid;
		int consumed = 0;

		p = nl != NULL ? nl + 1 : p + len;
		if (len >= sizeof(buf))
			continue;  /* far longer than any name of ours */
		memcpy(buf, line, len);
		buf[len] = '\0';
		/* %15s / %32s bound the copies; consumed must reach the end
		 * of the line, so "table inet tcplab_1 x" is not ours. */
		if (sscanf(buf, "table %15s %32s%n", family, name, &consumed) != 2 ||
		    (size_t)consumed != len)
			continue;
		if ((strcmp(family, "inet") != 0 && strcmp(family, "netdev") != 0) ||
		    !fw_parse_table_name(name, &pid))
			continue;
		if (fw_cleanup_one(nft, family, name, pid, removed, kept, errbuf) != 0)
			ret = -1;
	}

	free(list);
	nft_ctx_free(nft);
	return ret;
}

#ifndef TCPLAB_NFTABLES_BUILT_WITH
#define TCPLAB_NFTABLES_BUILT_WITH "unknown"  /* the Makefile passes pkg-config's */
#endif

/* Contract in firewall.h. */
const char *firewall_lib_version(char *buf, size_t len)
{
	char file[PATH_MAX];

	if (!buf || len == 0)
		return buf;
	libfile_of((void (*)(void))nft_ctx_new, file, sizeof(file));
	snprintf(buf, len, "libnftables version %s (built with)%s%s", TCPLAB_NFTABLES_BUILT_WITH,
		 file[0] ? ", loaded from " : "", file);
	return buf;
}
