/*
 * live.h — what the two live roles (session_connect.c, session_listen.c)
 * share: the run's resources (capture, injector, firewall, reserved port),
 * signal handling, clocks, and sending a segment from a driven endpoint.
 * Internal to src/: the public interface is session.h.
 */
#ifndef TCPLAB_LIVE_H
#define TCPLAB_LIVE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcplab/capture.h"
#include "tcplab/craft.h"
#include "tcplab/firewall.h"
#include "tcplab/flow.h"
#include "tcplab/segment.h"
#include "tcplab/session.h"
#include "tcplab/tcb.h"
#include "tcplab/tcp_fsm.h"

#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull
#define LIVE_INITIAL_RTO_NS (1 * NS_PER_S)  /* RFC 6298 §2.1 */
#define LIVE_DRAIN_NS (300 * NS_PER_MS)     /* how long to wait to see our own last segments */
#define LIVE_IDLE_NS (250 * NS_PER_MS)      /* a quiet wire this long: render_idle (as watch) */
/* TTL (hop limit) of the send-path warm-up segment, which the firewall's
 * netdev table drops at the device (firewall_rule.warm_ttl). */
#define LIVE_WARMUP_TTL 1

/* The retransmission timer of RFC 6298: 1 s initial RTO, doubled on each
 * expiry (§5.5), count of retransmissions so far. */
struct live_timer {
	bool armed;
	uint64_t deadline, rto;
	unsigned count;
};

/* Arms t afresh at now: initial RTO, no retransmission yet. */
void live_timer_start(struct live_timer *t, uint64_t now);

/* t expired and its segment is sent again: count it, double the RTO. */
void live_timer_backoff(struct live_timer *t, uint64_t now);

/* Segments the trace may lag behind the sender by (live_sender_facts). */
#define LIVE_FACTS 256

/* One driven endpoint and what it negotiated.  tcb.fsm is its state
 * machine; tcb owns its queues and timers (include/tcplab/tcb.h). */
struct live_conn {
	struct tcb tcb;
	struct ip_addr local, remote;
	uint16_t lport, rport;
	struct tcp_options peer_syn_opt;   /* options on the peer's SYN / SYN-ACK */
	bool ts_ok, sack_ok, wscale_ok;    /* negotiated (RFC 7323 §2.2, §3.2; RFC 2018) */
	uint32_t ts_recent;                /* last TSval from the peer (RFC 7323 §4.3) */
	uint8_t local_wscale;
	uint16_t mss;                      /* the MSS our SYN / SYN-ACK offers */
	uint16_t route_mss;                /* route MTU - IP - TCP headers (0: = mss) */
	/* what the tcb said each recent segment was (live_sender_facts) */
	struct live_fact {
		uint32_t seq, ack, len;
		uint32_t ts_val;               /* TSval it carried (when ts) */
		uint8_t flags, kind;           /* kind: enum tcb_kind + 1 (0: empty) */
		bool ts;
	} facts[LIVE_FACTS];
	unsigned facts_next, facts_seen;   /* ring position; oldest not yet traced */
	struct fault_counts faults;        /* --lose: segments of each kind sent so far */
};

struct live_sender;
struct live_step;

/* The run's resources; live_open / live_close own them. */
struct live {
	struct live_sender *sender;        /* thread for segments that expect a reply, or NULL */
	struct capture *cap;
	struct craft *craft;
	struct firewall *fw;
	struct flow_table *flow;
	struct renderer *r;
	int port_fd;                       /* reserved source port (connect), -1 none */
	const struct session_common *opt;
	uint32_t ts_offset;                /* random base for our TSval */
	uint64_t sent;                     /* segments injected */
	uint64_t lost_locally;             /* dropped by a local netfilter rule or a full queue */
	uint64_t captured_own;             /* of ours, seen back on the capture */
	bool warmed;                       /* live_prepare_ack sent the warm-up segment */
	const char *write_path;
	struct kstates *ks;                /* kernel states (kstates.h), or NULL */
	bool send_failed;                  /* a send call failed: the run ends with exit 1 */
	uint32_t snaplen;                  /* capture snaplen (0: 262144); set before live_open */
	bool pump_more;                    /* live_pump stopped at its budget: call it again soon */
	char send_error[384];              /* the sentence for stderr */
	struct live_step *step;            /* --step (live_step.h), or NULL */
	bool draining;                     /* live_drain runs: live_wait goes on after --step's q */
	uint64_t last_packet_ns;           /* when the capture last delivered (live_wait) */
	bool idle_shown;                   /* render_idle called since then */
	/* segments lost on purpose (--lose) or held back, waiting to be traced
	 * once the capture has shown every segment sent before them */
	struct live_lost {
		struct segment seg;
		uint8_t payload[64];           /* what the renderers show of it (LIVE_LOST_PREVIEW) */
		uint64_t after_own;            /* lv->sent when it was built */
		const char *annotation;        /* static text, or NULL */
	} lost[32];
	unsigned nlost;
	uint64_t lost_on_purpose;          /* segments --lose kept off the wire */
};

/* Set by the signal handler; the loops check it and unwind (firewall removed). */
extern volatile int live_signal;

/* Installs SIGINT/SIGTERM/SIGHUP handlers that only set live_signal. */
void live_install_signals(void);

/* Fills set with the signals live_install_signals catches (for a thread
 * that must block or unblock exactly those). */
void live_signal_set(sigset_t *set);

/* CLOCK_MONOTONIC and CLOCK_REALTIME in ns. */
uint64_t live_mono_ns(void);
uint64_t live_real_ns(void);

/* A random 32-bit number (getrandom, falling back to the clock). */
uint32_t live_random32(void);

/* The MSS to offer on ifname: MTU - 40 (IPv4) / - 60 (IPv6), at most 65495. */
uint16_t live_interface_mss(const char *ifname, int family);

/* The MSS the route to remote allows: its MTU (IP_MTU of a connected UDP
 * socket: "mtu lock" routes and learned path MTUs count) minus the fixed
 * IP and TCP headers; live_interface_mss(ifname) when the kernel cannot say. */
uint16_t live_route_mss(const struct ip_addr *remote, uint16_t port, const char *ifname);

/*
 * Opens capture (filter), injector and, unless opt->no_firewall, the
 * firewall rule.  Returns an enum tcplab_exit value (0 ok) with errbuf set.
 */
int live_open(struct live *lv, const struct session_common *opt, const char *ifname,
	      int family, const char *filter, const struct firewall_rule *rule,
	      char errbuf[SESSION_ERRBUF_SIZE]);

/*
 * Waits for packets until deadline (UINT64_MAX: no timer) and hands them to
 * cb.  Once the capture has delivered nothing for LIVE_IDLE_NS it calls
 * render_idle, as watch does, so a collapsed flight held back by the text
 * renderer is on screen while the wire is quiet.  Before spin_until it busy-polls the non-blocking capture instead of
 * sleeping: a sleeping process costs a scheduler wake-up between the
 * peer's segment and our answer.  After it, poll() on the selectable fd
 * with the deadline as timeout.  0, or -1 on a signal or poll failure.
 */
int live_wait(struct live *lv, uint64_t deadline, uint64_t spin_until, capture_handler cb, void *user);

/*
 * At the end of a run: keeps calling wait(user, deadline) for up to
 * LIVE_DRAIN_NS until the capture has shown every segment tcplab sent, so
 * the trace ends with them.  A pending signal is held meanwhile and put
 * back afterwards.
 */
void live_drain(struct live *lv, int (*wait)(void *user, uint64_t deadline), void *user);

/* Emits the kernel states still pending and removes the tracing instance
 * (kstates_close); call before flow_table_finish.  live_close does it too,
 * for the paths that end early. */
void live_kernel_states_done(struct live *lv);

/* Removes the firewall rule, closes everything, gives -w to the sudo user. */
void live_close(struct live *lv);

/*
 * Starts the sender thread (its own injector).  Segments sent with
 * live_send_async then leave from it: on veth and loopback the peer's
 * answer is processed in softirq context inside the sending system call,
 * so a SYN sent from the reacting thread would keep that thread from
 * seeing the SYN-ACK for the whole of the kernel's processing (measured:
 * ~17 µs).  0 ok; -1 with errbuf set (the caller may go on without it).
 */
int live_sender_start(struct live *lv, int family, const char *ifname, char errbuf[SESSION_ERRBUF_SIZE]);

/* Stops and joins the sender thread (after its last segment left). */
void live_sender_stop(struct live *lv);

/* As live_send, but the segment leaves from the sender thread when there is
 * one.  payload must stay valid until live_sender_stop or the next call. */
struct tcp_transition live_send_async(struct live *lv, struct live_conn *c, uint8_t flags, uint32_t seq,
				      const uint8_t *payload, uint32_t len, int *err);

/*
 * Sends one segment from c: seq and ack as given, our window, options as
 * the flags call for (SYN: the offer; later: timestamps if negotiated),
 * payload.  Feeds the driven endpoint's machine with it as sent and
 * returns that transition.  -1 in *err on send failure.
 */
struct tcp_transition live_send(struct live *lv, struct live_conn *c, uint8_t flags, uint32_t seq,
				const uint8_t *payload, uint32_t len, int *err);

/*
 * Builds, without sending, the ACK c will most likely send first, so the
 * reaction does not pay for a cold injector (see craft_prepare).  When the
 * firewall's warm-up drop is installed (firewall_warm_ready), also sends
 * that ACK's twin with no TCP flag and TTL LIVE_WARMUP_TTL from this
 * thread: it runs the kernel's send path up to the device, where the
 * firewall drops it, so the real ACK finds that path warm.  (The first
 * send of a fresh process took ~10 µs longer than the next.)
 */
void live_prepare_ack(struct live *lv, const struct live_conn *c);

/* Builds the SYN / SYN-ACK option offer for c (RFC 7323, RFC 2018, MSS).
 * For a SYN-ACK (answering = true) only what the peer offered is echoed. */
void live_syn_options(const struct live *lv, const struct live_conn *c, bool answering,
		      struct tcp_options *out);

/* Records the peer's SYN options and what was negotiated. */
void live_learn_peer(struct live_conn *c, const struct segment *seg, bool we_offered_all);

/* Formats options for a header note ("mss 1460, SACK, timestamps, wscale 7"). */
void live_format_options(const struct tcp_options *o, char *buf, size_t len);

/* ---- fault injection (--lose, held segments; fault.h) ---- */

/*
 * The next segment lost on purpose (or held back) that is due in the trace:
 * every segment sent before it has been captured (lv->captured_own), or
 * force.  Copies it to *out (its payload, at most LIVE_LOST_PREVIEW bytes
 * of it, into buf) and its annotation (NULL: none) to *annotation; false when
 * none is due.  The caller feeds it with flow_table_feed_as(FLOW_FEED_LOST).
 */
#define LIVE_LOST_PREVIEW 64
bool live_lost_next(struct live *lv, bool force, struct segment *out, uint8_t buf[LIVE_LOST_PREVIEW],
		    const char **annotation);

/*
 * Builds the segment c would send (as live_send) and does not put it on
 * the wire: it is fed to c's machine as sent and queued for the trace as
 * lost with `annotation` (static text).  Used for a SYN held back (the
 * segment then really leaves later, as a retransmission would).
 */
struct tcp_transition live_send_held(struct live *lv, struct live_conn *c, uint8_t flags, uint32_t seq,
				     const char *annotation);

/*
 * Sends a SYN from c's port with sequence number seq and c's SYN options,
 * without feeding c's machine: an old duplicate SYN of an earlier
 * connection (--old-syn).  -1 in *err on send failure.
 */
void live_send_stale_syn(struct live *lv, struct live_conn *c, uint32_t seq, int *err);

/* ---- the driven endpoint's data (include/tcplab/tcb.h) ---- */

/* Sets c->tcb up (TCP_CLOSED or TCP_LISTEN) with this run's options:
 * receive buffer = --window, --iw, --retries, the MSS cap (route and --mss). */
void live_tcb_init(const struct live *lv, struct live_conn *c, enum tcp_state initial);

/* After live_learn_peer: tells c->tcb what the SYNs negotiated. */
void live_tcb_negotiated(struct live_conn *c);

/* Segments one live_pump call sends at most: the capture ring (which sees
 * our own segments too) must not overflow while the window is large. */
#define LIVE_PUMP_BUDGET 64

/* Sends the segments c->tcb has due now, synchronously, at most
 * LIVE_PUMP_BUDGET (lv->pump_more then tells that more are due).  0 ok;
 * -1 when a send call failed (lv->send_failed and lv->send_error set). */
int live_pump(struct live *lv, struct live_conn *c);

/*
 * One source per fact (docs/json-schema.md, "Marks"): when seg is a
 * segment c's tcb produced (matched in send order: seq, ack, length,
 * flags, and the TSval, which tells a retransmission from the copy of it
 * a local rule dropped before the capture), sets seg->sender_known and seg->sender_marks (fast or RTO
 * retransmission, zero-window probe), so the analysis takes them from the
 * sender instead of inferring them.  Segments sent outside the tcb
 * (handshake, RST) are left to the wire analysis.
 */
void live_sender_facts(struct live_conn *c, struct segment *seg);

/* True (lv->send_error set) when a send call failed, also one made by the
 * sender thread. */
bool live_send_failed(struct live *lv);

/* Turns a tcb event into a trace event; the sentence goes into buf. */
void live_endpoint_event(const struct live_conn *c, enum tl_role role, const struct tcb_event *e,
			 struct tl_endpoint_event *out, char *buf, size_t len);

/* The end-of-connection lines of c's counters: part 0 "stats" (bytes,
 * largest cwnd), part 1 "rtt" (RTT min/avg/max, RTO), part 2
 * "retransmissions" (by cause, probes, time at zero window).  false when
 * the connection carried no data (or part > 2). */
bool live_endpoint_stats(const struct live_conn *c, enum tl_role role, unsigned part,
			 struct tl_endpoint_event *out, char *buf, size_t len);

/*
 * The user's data for one connection, in command-line order: --data
 * chunks (each one write) and --data-file files streamed in 64 KiB reads
 * (the whole file is one write; "-" is standard input, read to EOF).  Only
 * what the send queue has room for is read, so memory follows the windows.
 */
struct live_source {
	const struct session_data *items;
	size_t count, idx;
	size_t off;             /* bytes of the current --data chunk already queued */
	int fd;                 /* the current file, -1 none */
	uint8_t *buf;           /* file read buffer (64 KiB), allocated on first use */
	size_t blen, boff;
	bool file_eof;
	bool done;              /* every item queued */
	char err[320];
};

void live_source_init(struct live_source *s, const struct session_data *items, size_t count);

/* Queues into t as much as it takes.  1 when everything is queued, 0 when
 * more remains (the queue is full, or standard input has nothing yet),
 * -1 on a read error (s->err set). */
int live_source_feed(struct live_source *s, struct tcb *t);

/* True while the source waits on a pipe or terminal (poll it soon). */
bool live_source_waiting(const struct live_source *s);

void live_source_close(struct live_source *s);

#endif
