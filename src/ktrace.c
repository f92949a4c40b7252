/*
 * ktrace.c — the tracepoint sock:inet_sock_set_state through a tracefs
 * instance of our own (libtracefs + libtraceevent; why not BPF: ktrace.h).
 */
#include "tcplab/ktrace.h"
#include "tcplab/libfile.h"

#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event-parse.h>
#include <kbuffer.h>
#include <tracefs.h>

#define KT_SYSTEM "sock"
#define KT_EVENT "inet_sock_set_state"
#define KT_MOUNT_POINT "/sys/kernel/tracing"
#define KT_PROCESS_COMM "tcplab"

struct ktrace {
	struct tracefs_instance *inst;
	struct tep_handle *tep;
	struct kbuffer *kbuf;
	int ncpu;
	struct tracefs_cpu **cpus;   /* one reader per CPU (NULL: CPU absent) */
	void *page;
	int page_size;
	int event_id;
	/* field offsets in a record (from the format file) */
	int off_old, off_new, off_sport, off_dport, off_family, off_saddr, off_daddr, off_saddr6, off_daddr6;
	char name[32];
};

static void kt_err(char *errbuf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void kt_err(char *errbuf, const char *fmt, ...)
{
	va_list ap;
	if (!errbuf)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, KTRACE_ERRBUF_SIZE, fmt, ap);
	va_end(ap);
}

/*
 * Makes tracefs reachable.  Mounted somewhere already: use it.  Otherwise
 * (under `ip netns exec`, which remounts /sys; or on a machine that never
 * mounts it) the process moves to a mount namespace of its own whose mounts
 * are slaves of the host's, so the new mount never propagates back, and
 * mounts tracefs there.  It disappears with the process.
 */
static int find_tracefs(char *errbuf, bool *denied)
{
	const char *path = NULL;

	if (tracefs_tracing_dir_is_mounted(false, &path) == 1 && path)
		return 0;
	if (unshare(CLONE_NEWNS) != 0) {
		*denied = errno == EPERM;
		kt_err(errbuf, "tracefs is not mounted and cannot be mounted privately (%s)", strerror(errno));
		return -1;
	}
	/* (the type is ignored for a propagation change; "none" rather than NULL) */
	if (mount("none", "/", "none", MS_REC | MS_SLAVE, NULL) != 0 ||
	    mount("nodev", KT_MOUNT_POINT, "tracefs", 0, NULL) != 0) {
		*denied = errno == EPERM;
		kt_err(errbuf, "cannot mount tracefs privately (%s)", strerror(errno));
		return -1;
	}
	if (tracefs_set_tracing_dir((char *)KT_MOUNT_POINT) != 0) {
		kt_err(errbuf, "libtracefs does not accept %s", KT_MOUNT_POINT);
		return -1;
	}
	return 0;
}

/* Offset of field name in ev's records, -1 when the format lacks it. */
static int field_offset(struct tep_event *ev, const char *name, int want_size)
{
	struct tep_format_field *f = tep_find_field(ev, name);
	if (!f || f->offset < 0 || (want_size && f->size != want_size))
		return -1;
	return f->offset;
}

struct ktrace *ktrace_open(char errbuf[KTRACE_ERRBUF_SIZE], bool *permission_denied)
{
	bool denied_local = false, *denied = permission_denied ? permission_denied : &denied_local;
	struct ktrace *kt;
	struct tep_event *ev;
	char *fmt;
	int fmt_size = 0;
	long n;

	*denied = false;
	if (find_tracefs(errbuf, denied) != 0)
		return NULL;
	kt = calloc(1, sizeof(*kt));
	if (!kt) {
		kt_err(errbuf, "out of memory%s", "");
		return NULL;
	}
	snprintf(kt->name, sizeof(kt->name), KTRACE_INSTANCE_PREFIX "%ld", (long)getpid());

	/* Only this event's format file: tracefs_local_events() would also
	 * parse /proc/kallsyms and the printk formats (~150 ms) for nothing. */
	kt->tep = tep_alloc();
	fmt = kt->tep ? tracefs_event_file_read(NULL, KT_SYSTEM, KT_EVENT, "format", &fmt_size) : NULL;
	if (fmt && fmt_size > 0)
		(void)tep_parse_event(kt->tep, fmt, (unsigned long)fmt_size, KT_SYSTEM);
	free(fmt);
	if (!kt->tep || !(ev = tep_find_event_by_name(kt->tep, KT_SYSTEM, KT_EVENT))) {
		*denied = errno == EACCES || errno == EPERM;
		kt_err(errbuf, *denied ? "cannot read the tracepoint's format: reading tracefs needs root%s"
				       : "this kernel has no tracepoint sock:inet_sock_set_state%s", "");
		goto fail;
	}
	kt->event_id = ev->id;
	kt->off_old = field_offset(ev, "oldstate", 4);
	kt->off_new = field_offset(ev, "newstate", 4);
	kt->off_sport = field_offset(ev, "sport", 2);
	kt->off_dport = field_offset(ev, "dport", 2);
	kt->off_family = field_offset(ev, "family", 2);
	kt->off_saddr = field_offset(ev, "saddr", 4);
	kt->off_daddr = field_offset(ev, "daddr", 4);
	kt->off_saddr6 = field_offset(ev, "saddr_v6", 16);
	kt->off_daddr6 = field_offset(ev, "daddr_v6", 16);
	if (kt->off_old < 0 || kt->off_new < 0 || kt->off_sport < 0 || kt->off_dport < 0 ||
	    kt->off_family < 0 || kt->off_saddr < 0 || kt->off_daddr < 0 || kt->off_saddr6 < 0 ||
	    kt->off_daddr6 < 0) {
		kt_err(errbuf, "the tracepoint %s has fields this tcplab does not know", KT_SYSTEM ":" KT_EVENT);
		goto fail;
	}

	kt->inst = tracefs_instance_create(kt->name);
	if (!kt->inst) {
		*denied = errno == EACCES || errno == EPERM;
		kt_err(errbuf, "cannot create the tracing instance %s", kt->name);
		goto fail;
	}
	/* CLOCK_MONOTONIC: the caller converts it to the capture's clock */
	if (tracefs_instance_file_write(kt->inst, "buffer_size_kb", "256") < 0 ||
	    tracefs_instance_file_write(kt->inst, "trace_clock", "mono") < 0) {
		kt_err(errbuf, "cannot set up the tracing instance %s", kt->name);
		goto fail;
	}
	/* only TCP (the same tracepoint reports SCTP and MPTCP sockets) */
	(void)tracefs_event_file_write(kt->inst, KT_SYSTEM, KT_EVENT, "filter", "protocol == 6");
	if (tracefs_event_enable(kt->inst, KT_SYSTEM, KT_EVENT) != 0) {
		kt_err(errbuf, "cannot enable the tracepoint in %s", kt->name);
		goto fail;
	}

	n = sysconf(_SC_NPROCESSORS_CONF);
	kt->ncpu = n > 0 && n < 4096 ? (int)n : 1;
	kt->cpus = calloc((size_t)kt->ncpu, sizeof(*kt->cpus));
	if (!kt->cpus)
		goto fail;
	for (int c = 0; c < kt->ncpu; c++) {
		kt->cpus[c] = tracefs_cpu_open(kt->inst, c, true);
		if (kt->cpus[c] && tracefs_cpu_read_size(kt->cpus[c]) > kt->page_size)
			kt->page_size = tracefs_cpu_read_size(kt->cpus[c]);
	}
	if (kt->page_size <= 0)
		kt->page_size = (int)sysconf(_SC_PAGESIZE);
	kt->page = malloc((size_t)kt->page_size);
	kt->kbuf = kbuffer_alloc(sizeof(long) == 8 ? KBUFFER_LSIZE_8 : KBUFFER_LSIZE_4,
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
				 KBUFFER_ENDIAN_BIG
#else
				 KBUFFER_ENDIAN_LITTLE
#endif
				 );
	if (!kt->page || !kt->kbuf) {
		kt_err(errbuf, "out of memory%s", "");
		goto fail;
	}
	return kt;
fail:
	ktrace_close(kt);
	return NULL;
}

const char *ktrace_instance_name(const struct ktrace *kt)
{
	return kt ? kt->name : "";
}

/* Decodes one record of our event into out.  False when it is not ours or
 * is too short. */
static bool decode(const struct ktrace *kt, const uint8_t *d, int size, struct ktrace_event *out)
{
	uint16_t type, family, sport, dport;
	int32_t o, n;

	if (size < kt->off_daddr6 + 16 || size < 2)
		return false;
	memcpy(&type, d, 2);
	if (type != kt->event_id)
		return false;
	memcpy(&o, d + kt->off_old, 4);
	memcpy(&n, d + kt->off_new, 4);
	memcpy(&family, d + kt->off_family, 2);
	memcpy(&sport, d + kt->off_sport, 2);   /* host order (ntohs in the tracepoint) */
	memcpy(&dport, d + kt->off_dport, 2);
	memset(out, 0, sizeof(*out));
	out->oldstate = o;
	out->newstate = n;
	out->lport = sport;
	out->rport = dport;
	if (family == 10) {   /* AF_INET6 */
		out->local.family = out->remote.family = 6;
		memcpy(out->local.bytes, d + kt->off_saddr6, 16);
		memcpy(out->remote.bytes, d + kt->off_daddr6, 16);
	} else if (family == 2) {
		out->local.family = out->remote.family = 4;
		memcpy(out->local.bytes, d + kt->off_saddr, 4);
		memcpy(out->remote.bytes, d + kt->off_daddr, 4);
	} else {
		return false;
	}
	return true;
}

int ktrace_read(struct ktrace *kt, void (*cb)(void *user, const struct ktrace_event *ev), void *user)
{
	int count = 0;

	if (!kt)
		return 0;
	for (int c = 0; c < kt->ncpu; c++) {
		if (!kt->cpus[c])
			continue;
		/* each read hands over one sub-buffer; a bounded number per call
		 * keeps a busy machine from holding the caller */
		for (int pages = 0; pages < 64; pages++) {
			int n = tracefs_cpu_read(kt->cpus[c], kt->page, true);
			unsigned long long ts;
			void *data;
			if (n <= 0)
				break;
			if (kbuffer_load_subbuffer(kt->kbuf, kt->page) < 0)
				break;
			for (data = kbuffer_read_event(kt->kbuf, &ts); data; data = kbuffer_next_event(kt->kbuf, &ts)) {
				struct ktrace_event ev;
				if (!decode(kt, data, kbuffer_event_size(kt->kbuf), &ev))
					continue;
				ev.mono_ns = ts;
				cb(user, &ev);
				count++;
			}
		}
	}
	return count;
}

int ktrace_close(struct ktrace *kt)
{
	int rc = 0;

	if (!kt)
		return 0;
	if (kt->cpus) {
		for (int c = 0; c < kt->ncpu; c++)
			if (kt->cpus[c])
				tracefs_cpu_close(kt->cpus[c]);
		free(kt->cpus);
	}
	if (kt->inst) {
		(void)tracefs_event_disable(kt->inst, KT_SYSTEM, KT_EVENT);
		if (tracefs_instance_destroy(kt->inst) != 0)
			rc = -1;
		tracefs_instance_free(kt->inst);
	}
	if (kt->kbuf)
		kbuffer_free(kt->kbuf);
	if (kt->tep)
		tep_free(kt->tep);
	free(kt->page);
	free(kt);
	return rc;
}

const char *ktrace_state_name(int s)
{
	static const char *const names[] = {
		[KTRACE_ESTABLISHED] = "TCP_ESTABLISHED", [KTRACE_SYN_SENT] = "TCP_SYN_SENT",
		[KTRACE_SYN_RECV] = "TCP_SYN_RECV", [KTRACE_FIN_WAIT1] = "TCP_FIN_WAIT1",
		[KTRACE_FIN_WAIT2] = "TCP_FIN_WAIT2", [KTRACE_TIME_WAIT] = "TCP_TIME_WAIT",
		[KTRACE_CLOSE] = "TCP_CLOSE", [KTRACE_CLOSE_WAIT] = "TCP_CLOSE_WAIT",
		[KTRACE_LAST_ACK] = "TCP_LAST_ACK", [KTRACE_LISTEN] = "TCP_LISTEN",
		[KTRACE_CLOSING] = "TCP_CLOSING", [KTRACE_NEW_SYN_RECV] = "TCP_NEW_SYN_RECV",
	};
	if (s <= 0 || (size_t)s >= sizeof(names) / sizeof(names[0]) || !names[s])
		return "TCP_?";
	return names[s];
}

/* True when pid exists and is a tcplab (its comm), as firewall.c decides. */
static bool pid_is_tcplab(long pid)
{
	char path[64], comm[32];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return false;
	n = fread(comm, 1, sizeof(comm) - 1, f);
	fclose(f);
	comm[n] = '\0';
	comm[strcspn(comm, "\n")] = '\0';
	return strcmp(comm, KT_PROCESS_COMM) == 0;
}

int ktrace_cleanup_stale(unsigned *removed, unsigned *kept, char errbuf[KTRACE_ERRBUF_SIZE],
			 bool *permission_denied)
{
	bool denied_local = false, *denied = permission_denied ? permission_denied : &denied_local;
	char path[512];
	const char *dir;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	*removed = *kept = 0;
	*denied = false;
	if (find_tracefs(errbuf, denied) != 0)
		return -1;
	dir = tracefs_tracing_dir();
	if (!dir) {
		kt_err(errbuf, "cannot find tracefs");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/instances", dir);
	d = opendir(path);
	if (!d)
		return 0;   /* no instances directory: nothing to remove */
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		char *end;
		long pid;
		struct tracefs_instance *inst;
		if (strncmp(name, KTRACE_INSTANCE_PREFIX, strlen(KTRACE_INSTANCE_PREFIX)) != 0)
			continue;
		pid = strtol(name + strlen(KTRACE_INSTANCE_PREFIX), &end, 10);
		if (*end != '\0' || pid <= 0 || end == name + strlen(KTRACE_INSTANCE_PREFIX))
			continue;
		if (pid_is_tcplab(pid)) {
			(*kept)++;
			continue;
		}
		inst = tracefs_instance_alloc(NULL, name);
		if (!inst) {
			rc = -1;
			continue;
		}
		(void)tracefs_event_disable(inst, KT_SYSTEM, KT_EVENT);
		if (tracefs_instance_destroy(inst) == 0) {
			(*removed)++;
		} else {
			*denied = errno == EACCES || errno == EPERM;
			kt_err(errbuf, "cannot remove the tracing instance %s", name);
			rc = -1;
		}
		tracefs_instance_free(inst);
	}
	closedir(d);
	return rc;
}

#ifndef TCPLAB_TRACEFS_BUILT_WITH
#define TCPLAB_TRACEFS_BUILT_WITH "?"
#endif
#ifndef TCPLAB_TRACEEVENT_BUILT_WITH
#define TCPLAB_TRACEEVENT_BUILT_WITH "?"
#endif

/* Contract in ktrace.h. */
const char *ktrace_lib_version(char *buf, size_t len)
{
	char file[PATH_MAX];

	if (!buf || len == 0)
		return buf;
	libfile_of((void (*)(void))tracefs_instance_create, file, sizeof(file));
	snprintf(buf, len, "libtracefs version %s, libtraceevent version %s (built with)%s%s",
		 TCPLAB_TRACEFS_BUILT_WITH, TCPLAB_TRACEEVENT_BUILT_WITH, file[0] ? ", loaded from " : "", file);
	return buf;
}
