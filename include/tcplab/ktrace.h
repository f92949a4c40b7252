/*
 * ktrace.h — the only module that includes libtracefs and libtraceevent:
 * the local kernel's own TCP state changes, from the tracepoint
 * sock:inet_sock_set_state (what bcc's tcpstates prints).
 *
 * Why tracefs and not BPF.  Debian 12 ships libtracefs 1.6 and
 * libtraceevent 1.7; with them tcplab reads the tracepoint's ring buffer as
 * any tracer does, with no compiler for BPF programs (clang, bpftool,
 * skeletons) in the build, no BTF or CO-RE dependence on the running
 * kernel, and the same code on Debian 12's 6.1 as on newer kernels: the
 * tracepoint's format file says where every field is.  The price is that a
 * tracing instance is a named object that outlives a SIGKILLed process
 * (a BPF link would not); tcplab names it after itself and its pid, as it
 * names its nftables tables, and `tcplab cleanup` removes the ones whose
 * process is gone.
 *
 * The run's instance is "tcplab_<pid>" (instances/ under tracefs), with its
 * own ring buffer, the clock "mono" (CLOCK_MONOTONIC: the caller converts to
 * the capture clock), and only this event enabled, filtered to TCP.  It is
 * removed by ktrace_close on every exit path (the live roles' signal
 * handling unwinds to it).
 *
 * Where tracefs is not mounted — `ip netns exec` remounts /sys without it,
 * and some machines never mount it — ktrace_open moves the process into a
 * mount namespace of its own (slave to the host's, so nothing propagates
 * back) and mounts tracefs there: the host's mounts are never touched.
 *
 * Privilege: mounting needs CAP_SYS_ADMIN; tracefs's files are root's, so
 * a process that is not root needs CAP_DAC_OVERRIDE to create the instance.
 */
#ifndef TCPLAB_KTRACE_H
#define TCPLAB_KTRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "tcplab/segment.h"

#define KTRACE_ERRBUF_SIZE 256
#define KTRACE_INSTANCE_PREFIX "tcplab_"

/* The kernel's TCP states (include/net/tcp_states.h), stable since 2.6. */
enum ktrace_state {
	KTRACE_ESTABLISHED = 1, KTRACE_SYN_SENT, KTRACE_SYN_RECV, KTRACE_FIN_WAIT1,
	KTRACE_FIN_WAIT2, KTRACE_TIME_WAIT, KTRACE_CLOSE, KTRACE_CLOSE_WAIT, KTRACE_LAST_ACK,
	KTRACE_LISTEN, KTRACE_CLOSING, KTRACE_NEW_SYN_RECV,
};

/* One state change of one socket. */
struct ktrace_event {
	uint64_t mono_ns;            /* when, on CLOCK_MONOTONIC */
	struct ip_addr local, remote;/* the socket's own end and its peer */
	uint16_t lport, rport;
	int oldstate, newstate;      /* enum ktrace_state values (others possible) */
};

struct ktrace;

/*
 * Creates and enables this process's instance.  NULL on failure with errbuf
 * holding one sentence; *permission_denied (may be NULL) tells whether a
 * privilege was missing.
 */
struct ktrace *ktrace_open(char errbuf[KTRACE_ERRBUF_SIZE], bool *permission_denied);

/* The instance's name ("tcplab_1234"). */
const char *ktrace_instance_name(const struct ktrace *kt);

/*
 * Reads, without blocking, every event recorded since the last call and
 * hands each to cb (per CPU in time order; CPUs one after the other: the
 * caller sorts).  Returns the number of events, or -1 when reading failed.
 */
int ktrace_read(struct ktrace *kt, void (*cb)(void *user, const struct ktrace_event *ev), void *user);

/* Disables the event, removes the instance, frees kt.  NULL-safe.  0 ok,
 * -1 when the instance could not be removed (`tcplab cleanup` will). */
int ktrace_close(struct ktrace *kt);

/* The kernel's name of a state ("TCP_SYN_RECV"); "TCP_?" for others. */
const char *ktrace_state_name(int kstate);

/* `tcplab cleanup`: removes every instance named tcplab_<pid> whose process
 * is gone or is no longer a tcplab.  0 ok (counts set), -1 with errbuf set. */
int ktrace_cleanup_stale(unsigned *removed, unsigned *kept, char errbuf[KTRACE_ERRBUF_SIZE],
			 bool *permission_denied);

/*
 * "libtracefs version V, libtraceevent version W (built with), loaded from
 * FILE" for --version, written into buf (len bytes) and returned: the
 * versions the build compiled against and the shared object the dynamic
 * linker actually mapped (dladdr).  Never fails; buf may be truncated.
 */
const char *ktrace_lib_version(char *buf, size_t len);

#endif
