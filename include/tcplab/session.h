/*
 * session.h — the live roles.  A session is a source for the pipeline (it
 * captures its own segments and the peer's on one pcap handle and feeds
 * them to the tracker) and a controller (it drives one endpoint with
 * tcp_fsm and executes the actions with craft).
 */
#ifndef TCPLAB_SESSION_H
#define TCPLAB_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcplab/fault.h"
#include "tcplab/render.h"

#define SESSION_ERRBUF_SIZE 512
#define SESSION_MAX_DATA 64

enum session_close {
	SESSION_CLOSE_FIRST,    /* our side sends FIN first (connect default) */
	SESSION_CLOSE_PEER,     /* wait for the peer's FIN, then close (listen default) */
	SESSION_CLOSE_RST,      /* abort with RST */
	SESSION_CLOSE_NONE,     /* leave the connection open and say in which state */
};

struct session_data {
	const uint8_t *bytes;
	size_t len;
	const char *path;          /* --data-file: streamed from this file ("-": stdin); bytes unused */
};

/* Settings common to both roles. */
struct session_common {
	const char *interface;     /* -i: NULL = the route's */
	bool isn_set;
	uint32_t isn;
	bool no_options;           /* bare SYN / SYN-ACK (MSS only for SYN-ACK) */
	uint16_t mss;              /* 0: from the interface MTU */
	uint16_t window;           /* advertised window (unscaled), 0: 64240 */
	uint8_t wscale;            /* offered window scale (default 7) */
	unsigned retries;          /* SYN / SYN-ACK / FIN retransmissions before giving up */
	double timeout_s;          /* give up waiting for the peer after this long idle */
	double time_wait_s;        /* how long TIME-WAIT lingers (default 1 s) */
	bool no_firewall;
	const char *write_path;    /* -w FILE.pcap */
	enum session_close close;
	struct session_data data[SESSION_MAX_DATA];
	size_t data_count;
	int kernel_states;         /* enum kstates_mode: --kernel-states / --no-kernel-states (auto: 0) */
	uint32_t iw;               /* --iw: initial window in segments (0: RFC 6928) */
	bool step;                 /* --step: Enter before each segment sent (live_step.h) */
	struct fault_plan lose;    /* --lose WHAT[:N]: segments built and not sent (fault.h) */
};

struct connect_options {
	struct session_common c;
	const char *host;
	uint16_t port;
	int family;                /* 0, 4 or 6 */
	bool sport_set;
	uint16_t sport;
	/* --old-syn: an old duplicate SYN (another ISN, same port) goes first,
	 * tcplab's own SYN is held back until it has answered the stale SYN-ACK
	 * with RST (RFC 9293 §3.5 Figure 8) */
	bool old_syn;
	/* --simultaneous: tcplab's SYN is held back until the peer's SYN
	 * arrives, so the two SYNs cross (RFC 9293 §3.5 Figure 7) */
	bool simultaneous;
};

struct listen_options {
	struct session_common c;
	const char *addr;          /* NULL: 0.0.0.0 */
	uint16_t port;
	bool echo;
	double linger_s;           /* passive close: wait this long in CLOSE-WAIT before FIN */
	unsigned count;            /* stop after N connections (0: until interrupted) */
};

/* Runs `tcplab connect`.  Returns an enum tcplab_exit value; on setup errors
 * errbuf holds the sentence main() prints. */
int session_connect(const struct connect_options *opt, struct renderer *r,
		    char errbuf[SESSION_ERRBUF_SIZE]);

/* Runs `tcplab listen`.  Same contract. */
int session_listen(const struct listen_options *opt, struct renderer *r,
		   char errbuf[SESSION_ERRBUF_SIZE]);

#endif
