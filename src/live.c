/*
 * live.c — resources and helpers shared by the live roles (see live.h).
 */
#include "live.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tcplab/checksum.h"
#include "tcplab/exitcode.h"
#include "tcplab/analysis.h"
#include "tcplab/fault.h"
#include "tcplab/kstates.h"
#include "tcplab/privilege.h"
#include "live_step.h"

volatile int live_signal;

struct live_sender {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct craft *craft;
	bool pending, stop, failed;
	char err[CRAFT_ERRBUF_SIZE];
	struct craft_segment cs;
	struct tcp_options opt;
};

/* With s->mu held: waits until the sender thread has taken the segment
 * handed to it (not until it has been sent: see sender_main). */
static void sender_wait_taken(struct live_sender *s)
{
	while (s->pending)
		pthread_cond_wait(&s->cv, &s->mu);
}


static void on_signal(int sig)
{
	live_signal = sig;
}

/* The signals live_install_signals catches. */
static const int caught_signals[] = { SIGINT, SIGTERM, SIGHUP };

void live_signal_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < sizeof(caught_signals) / sizeof(caught_signals[0]); i++)
		sigaddset(set, caught_signals[i]);
}

void live_install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: poll() must return EINTR so the loop sees the flag */
	for (size_t i = 0; i < sizeof(caught_signals) / sizeof(caught_signals[0]); i++)
		sigaction(caught_signals[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

uint64_t live_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t live_real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint32_t live_random32(void)
{
	uint32_t v;
	if (getrandom(&v, sizeof(v), GRND_NONBLOCK) == (ssize_t)sizeof(v))
		return v;
	return (uint32_t)(live_mono_ns() * 2654435761u);
}

uint16_t live_interface_mss(const char *ifname, int family)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	long mtu = 1500, mss;

	if (fd >= 0 && ifname) {
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
		if (ioctl(fd, SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu > 0)
			mtu = ifr.ifr_mtu;
	}
	if (fd >= 0)
		close(fd);
	/* RFC 9293 §3.7.1: MSS = MTU - fixed IP header - fixed TCP header */
	mss = mtu - (family == 6 ? 60 : 40);
	if (mss > 65495)
		mss = 65495; /* what Linux offers on loopback */
	if (mss < 536)
		mss = 536;   /* RFC 9293 §3.7.1 default */
	return (uint16_t)mss;
}

uint16_t live_route_mss(const struct ip_addr *remote, uint16_t port, const char *ifname)
{
	/* The kernel's route to remote, with its MTU metric ("mtu lock" and
	 * learned path MTUs included): a connected UDP socket asks it. */
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, mtu = 0;
	socklen_t ml = sizeof(mtu);

	memset(&ss, 0, sizeof(ss));
	if (remote->family == 6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		memcpy(&s6->sin6_addr, remote->bytes, 16);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		memcpy(&s4->sin_addr, remote->bytes, 4);
		sl = sizeof(*s4);
	}
	fd = socket(remote->family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		if (connect(fd, (struct sockaddr *)&ss, sl) != 0 ||
		    getsockopt(fd, remote->family == 6 ? IPPROTO_IPV6 : IPPROTO_IP,
			       remote->family == 6 ? IPV6_MTU : IP_MTU, &mtu, &ml) != 0)
			mtu = 0;
		close(fd);
	}
	if (mtu <= 0)
		return live_interface_mss(ifname, remote->family);
	mtu -= remote->family == 6 ? 60 : 40;
	if (mtu > 65495)
		mtu = 65495;
	if (mtu < 536)
		mtu = 536;
	return (uint16_t)mtu;
}

int live_open(struct live *lv, const struct session_common *opt, const char *ifname,
	      int family, const char *filter, const struct firewall_rule *rule,
	      char errbuf[SESSION_ERRBUF_SIZE])
{
	char eb[CAPTURE_ERRBUF_SIZE > FIREWALL_ERRBUF_SIZE ? CAPTURE_ERRBUF_SIZE : FIREWALL_ERRBUF_SIZE];
	struct capture_live_options co;
	bool denied = false;

	lv->opt = opt;
	lv->ts_offset = live_random32();

	if (!opt->no_firewall) {
		lv->fw = firewall_install(rule, eb, &denied);
		if (!lv->fw) {
			snprintf(errbuf, SESSION_ERRBUF_SIZE, "cannot install the nftables rule that stops the kernel's RST: %.400s", eb);
			return denied ? TCPLAB_EXIT_PERMISSION : TCPLAB_EXIT_ERROR;
		}
	}

	memset(&co, 0, sizeof(co));
	co.device = ifname;
	co.filter = filter;
	co.immediate = true;
	/* connect sets a snaplen of one frame: the ring's slots are that big,
	 * and a window of data in flight must fit in it (listen keeps whole
	 * GSO super-packets: --echo needs every byte a client sent) */
	co.snaplen = lv->snaplen ? (int)lv->snaplen : 262144;
	/* lo's 64 KiB MTU makes each ring slot that big: the default 2 MiB ring
	 * would hold ~31 packets */
	co.buffer_bytes = 32 << 20;
	lv->cap = capture_open_live(&co, eb, &denied);
	if (!lv->cap) {
		snprintf(errbuf, SESSION_ERRBUF_SIZE, "%.500s", eb);
		return denied ? TCPLAB_EXIT_PERMISSION : TCPLAB_EXIT_ERROR;
	}
	if (opt->write_path) {
		if (capture_save_to(lv->cap, opt->write_path) != 0) {
			snprintf(errbuf, SESSION_ERRBUF_SIZE, "cannot write %.200s: %.250s", opt->write_path,
				 capture_error(lv->cap));
			return TCPLAB_EXIT_ERROR;
		}
		lv->write_path = opt->write_path;
	}
	/* before any thread starts; NULL (and the run goes on) without the tracepoint */
	lv->ks = kstates_open((enum kstates_mode)opt->kernel_states, lv->flow);

	lv->craft = craft_open(family, NULL, eb, &denied);
	if (!lv->craft) {
		snprintf(errbuf, SESSION_ERRBUF_SIZE, "cannot open a raw socket to inject segments: %.400s", eb);
		return denied ? TCPLAB_EXIT_PERMISSION : TCPLAB_EXIT_ERROR;
	}
	return TCPLAB_EXIT_OK;
}

void live_kernel_states_done(struct live *lv)
{
	kstates_close(lv->ks);
	lv->ks = NULL;
}

void live_close(struct live *lv)
{
	live_step_detach(lv);
	live_sender_stop(lv);
	live_kernel_states_done(lv);
	if (lv->fw) {
		firewall_remove(lv->fw);
		lv->fw = NULL;
	}
	if (lv->craft) {
		craft_close(lv->craft);
		lv->craft = NULL;
	}
	if (lv->cap) {
		capture_close(lv->cap);
		lv->cap = NULL;
	}
	if (lv->write_path) {
		privilege_give_to_invoker(lv->write_path);
		lv->write_path = NULL;
	}
	if (lv->port_fd >= 0) {
		close(lv->port_fd);
		lv->port_fd = -1;
	}
}

void live_syn_options(const struct live *lv, const struct live_conn *c, bool answering,
		      struct tcp_options *out)
{
	const struct session_common *o = lv->opt;
	memset(out, 0, sizeof(*out));
	out->has_mss = true;
	out->mss = c->mss;
	if (o->no_options)
		return answering ? (void)0 : (void)(out->has_mss = false);
	/* RFC 7323 §2.2 / §3.2 and RFC 2018 §2: a SYN-ACK carries window scale,
	 * timestamps and SACK-permitted only when the SYN offered them. */
	if (!answering || c->peer_syn_opt.has_sack_perm)
		out->has_sack_perm = true;
	if (!answering || c->peer_syn_opt.has_timestamps) {
		out->has_timestamps = true;
		out->ts_val = (uint32_t)(live_mono_ns() / 1000000u) + lv->ts_offset;
		out->ts_ecr = answering ? c->peer_syn_opt.ts_val : 0;
	}
	if (!answering || c->peer_syn_opt.has_wscale) {
		out->has_wscale = true;
		out->wscale = c->local_wscale;
	}
}

void live_learn_peer(struct live_conn *c, const struct segment *seg, bool we_offered_all)
{
	c->peer_syn_opt = seg->opt;
	c->ts_ok = we_offered_all && seg->opt.has_timestamps;
	c->sack_ok = we_offered_all && seg->opt.has_sack_perm;
	c->wscale_ok = we_offered_all && seg->opt.has_wscale;
	if (seg->opt.has_timestamps)
		c->ts_recent = seg->opt.ts_val;
}

void live_format_options(const struct tcp_options *o, char *buf, size_t len)
{
	size_t n = 0;
	buf[0] = '\0';
	if (o->has_mss)
		n += (size_t)snprintf(buf + n, len - n, "mss %u", o->mss);
	if (o->has_sack_perm && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%sSACK-permitted", n ? ", " : "");
	if (o->has_timestamps && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%stimestamps", n ? ", " : "");
	if (o->has_wscale && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%swindow scale %u", n ? ", " : "", o->wscale);
	if (n == 0)
		snprintf(buf, len, "no options");
}

/* Builds the craft_segment c sends (options per RFC 7323 / RFC 2018) into
 * cs, with opt as its option storage. */
static void build_segment(struct live *lv, struct live_conn *c, uint8_t flags, uint32_t seq,
			  const uint8_t *payload, uint32_t len, struct craft_segment *cs,
			  struct tcp_options *opt)
{
	const struct session_common *o = lv->opt;
	uint16_t win = o->window ? o->window : 64240;

	memset(cs, 0, sizeof(*cs));
	memset(opt, 0, sizeof(*opt));
	cs->src = c->local;
	cs->dst = c->remote;
	cs->sport = c->lport;
	cs->dport = c->rport;
	cs->seq = seq;
	cs->ack = (flags & TCP_FLAG_ACK) ? c->tcb.fsm.rcv_nxt : 0;
	cs->flags = flags;
	if (flags & TCP_FLAG_SYN) {
		live_syn_options(lv, c, (flags & TCP_FLAG_ACK) != 0, opt);
		cs->opt = opt;
		cs->window = win; /* RFC 7323 §2.2: the SYN's window is never scaled */
	} else {
		/* the window we advertise is what the receive buffer really has
		 * free (tcb: RFC 9293 §3.8.6.2) */
		uint32_t w = c->tcb.cfg.rcv_buf ? tcb_rcv_window(&c->tcb) : win;
		if (c->wscale_ok)
			w >>= c->local_wscale;
		cs->window = (uint16_t)(w > 65535 ? 65535 : w);
		if (c->ts_ok && !(flags & TCP_FLAG_RST)) {
			opt->has_timestamps = true;
			opt->ts_val = (uint32_t)(live_mono_ns() / 1000000u) + lv->ts_offset;
			opt->ts_ecr = c->ts_recent;
			cs->opt = opt;
		}
	}
	cs->payload = payload;
	cs->payload_len = len;
}

/* Feeds what c sent to its own endpoint (machine and TCB). */
static struct tcp_transition feed_sent(struct live_conn *c, const struct craft_segment *cs)
{
	struct segment as_sent;
	memset(&as_sent, 0, sizeof(as_sent));
	as_sent.seq = cs->seq;
	as_sent.ack = cs->ack;
	as_sent.flags = cs->flags;
	as_sent.window = cs->window;
	as_sent.payload_len = cs->payload_len;
	return tcb_sent(&c->tcb, &as_sent);
}

/* --step: the segment was held at the gate after q (live_step.h): not
 * sent, not fed to the machine. */
static struct tcp_transition held_back(const struct live_conn *c)
{
	struct tcp_transition t;

	memset(&t, 0, sizeof(t));
	t.from = t.to = c->tcb.fsm.state;
	return t;
}

/* --step: an RST after q carries the sequence number of the segment held
 * at the gate (live_step_rst_seq). */
static uint32_t step_seq(const struct live *lv, const struct live_conn *c, uint8_t flags, uint32_t seq)
{
	uint32_t held;

	if ((flags & TCP_FLAG_RST) && live_step_rst_seq(lv, c, &held))
		return held;
	return seq;
}

/* True when a failed send is what a TCP counts as a lost segment: a local
 * netfilter rule dropped it (EPERM, as the lab's loss rules do) or the
 * device queue was full (ENOBUFS).  Linux's TCP retransmits those too. */
static bool send_lost(int e)
{
	return e == EPERM || e == ENOBUFS;
}

/* Records a failed send: one sentence for stderr (the run ends, exit 1). */
static void send_failed(struct live *lv, const struct live_conn *c, const struct craft_segment *cs,
			const char *why)
{
	char a[64];
	if (lv->send_failed)
		return;
	lv->send_failed = true;
	ip_addr_format(&c->remote, a, sizeof(a));
	snprintf(lv->send_error, sizeof(lv->send_error),
		 "cannot send a %u-byte segment to %s%s%s:%u: %.200s", (unsigned)cs->payload_len,
		 c->remote.family == 6 ? "[" : "", a, c->remote.family == 6 ? "]" : "", c->rport, why);
}

/* ---- fault injection ---- */

/* Queues cs for the trace as a segment that never reached the wire. */
static void record_lost(struct live *lv, const struct craft_segment *cs, const char *annotation)
{
	const unsigned max = sizeof(lv->lost) / sizeof(lv->lost[0]);
	struct live_lost *l;
	uint32_t n = cs->payload_len < LIVE_LOST_PREVIEW ? cs->payload_len : LIVE_LOST_PREVIEW;

	if (lv->nlost == max) {
		/* the capture fell far behind: the oldest goes untraced */
		memmove(lv->lost, lv->lost + 1, (max - 1) * sizeof(lv->lost[0]));
		lv->nlost--;
	}
	l = &lv->lost[lv->nlost++];
	memset(l, 0, sizeof(*l));
	l->seg.ts_ns = live_real_ns();
	l->seg.src = cs->src;
	l->seg.dst = cs->dst;
	l->seg.sport = cs->sport;
	l->seg.dport = cs->dport;
	l->seg.seq = cs->seq;
	l->seg.ack = cs->ack;
	l->seg.flags = cs->flags;
	l->seg.window = cs->window;
	l->seg.payload_len = cs->payload_len;
	l->seg.payload_captured = cs->payload ? n : 0;
	if (cs->payload && n)
		memcpy(l->payload, cs->payload, n);
	if (cs->opt)
		l->seg.opt = *cs->opt;
	l->seg.ttl = 64;
	l->seg.ip_version = (uint8_t)cs->src.family;
	l->seg.csum_status = TCP_CSUM_OK;   /* built by tcplab: nothing to verify */
	l->after_own = lv->sent;
	l->annotation = annotation;
}

/* --lose: true when a rule picks this segment of c's; then it is queued
 * for the trace and must not be sent (fault.h). */
static bool lose_it(struct live *lv, struct live_conn *c, const struct craft_segment *cs)
{
	const struct tcp_endpoint *e = &c->tcb.fsm;
	struct fault_view v;

	if (!lv->opt || lv->opt->lose.count == 0)
		return false;
	memset(&v, 0, sizeof(v));
	v.flags = cs->flags;
	v.seq = cs->seq;
	v.ack = cs->ack;
	v.len = cs->payload_len;
	v.iss_known = e->iss_known;
	v.iss = e->iss;
	v.irs_known = e->irs_known;
	v.irs = e->irs;
	v.peer_fin_received = e->fin_received;
	v.peer_fin_seq = e->peer_fin_seq;
	if (!fault_decide(&lv->opt->lose, &c->faults, fault_classify(&v), NULL))
		return false;
	record_lost(lv, cs, NULL);
	lv->lost_on_purpose++;
	return true;
}

bool live_lost_next(struct live *lv, bool force, struct segment *out, uint8_t buf[LIVE_LOST_PREVIEW],
		    const char **annotation)
{
	if (lv->nlost == 0 || (!force && lv->captured_own < lv->lost[0].after_own))
		return false;
	*out = lv->lost[0].seg;
	memcpy(buf, lv->lost[0].payload, LIVE_LOST_PREVIEW);
	out->payload = out->payload_captured ? buf : NULL;
	*annotation = lv->lost[0].annotation;
	lv->nlost--;
	memmove(lv->lost, lv->lost + 1, lv->nlost * sizeof(lv->lost[0]));
	return true;
}

bool live_send_failed(struct live *lv)
{
	struct live_sender *s = lv->sender;
	if (lv->send_failed)
		return true;
	if (s) {
		pthread_mutex_lock(&s->mu);
		if (s->failed) {
			lv->send_failed = true;
			snprintf(lv->send_error, sizeof(lv->send_error), "cannot send a segment: %.300s", s->err);
		}
		pthread_mutex_unlock(&s->mu);
	}
	return lv->send_failed;
}

struct tcp_transition live_send(struct live *lv, struct live_conn *c, uint8_t flags, uint32_t seq,
				const uint8_t *payload, uint32_t len, int *err)
{
	struct craft_segment cs;
	struct tcp_options opt;

	if (lv->sender) {
		/* keep the wire order: a segment handed to the sender leaves first */
		pthread_mutex_lock(&lv->sender->mu);
		sender_wait_taken(lv->sender);
		pthread_mutex_unlock(&lv->sender->mu);
	}
	build_segment(lv, c, flags, step_seq(lv, c, flags, seq), payload, len, &cs, &opt);
	*err = 0;
	if (!live_step_gate(lv, c, &cs, NULL))
		return held_back(c);
	if (lose_it(lv, c, &cs))
		return feed_sent(c, &cs);
	*err = craft_send(lv->craft, &cs) == 0 ? 0 : -1;
	if (*err == 0)
		lv->sent++;
	else if (send_lost(craft_errno(lv->craft)))
		*err = 0, lv->lost_locally++;
	else
		send_failed(lv, c, &cs, craft_error(lv->craft));
	return feed_sent(c, &cs);
}

struct tcp_transition live_send_held(struct live *lv, struct live_conn *c, uint8_t flags, uint32_t seq,
				     const char *annotation)
{
	struct craft_segment cs;
	struct tcp_options opt;

	build_segment(lv, c, flags, seq, NULL, 0, &cs, &opt);
	record_lost(lv, &cs, annotation);
	return feed_sent(c, &cs);
}

void live_send_stale_syn(struct live *lv, struct live_conn *c, uint32_t seq, int *err)
{
	struct craft_segment cs;
	struct tcp_options opt;

	if (lv->sender) {
		pthread_mutex_lock(&lv->sender->mu);
		sender_wait_taken(lv->sender);
		pthread_mutex_unlock(&lv->sender->mu);
	}
	build_segment(lv, c, TCP_FLAG_SYN, seq, NULL, 0, &cs, &opt);
	*err = craft_send(lv->craft, &cs) == 0 ? 0 : -1;
	if (*err == 0)
		lv->sent++;
	else
		send_failed(lv, c, &cs, craft_error(lv->craft));
}

/* ---- the sender thread ---- */

/*
 * The sender thread: takes one segment at a time and sends it.  The
 * segment is marked taken before the system call, so the reacting thread
 * (which waits only until its predecessor is taken, to keep the wire order)
 * never waits for the peer's answer being processed inside this sendto().
 */
static void *sender_main(void *arg)
{
	struct live_sender *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->pending && !s->stop)
			pthread_cond_wait(&s->cv, &s->mu);
		if (!s->pending)
			break;
		struct craft_segment cs = s->cs;
		struct tcp_options opt = s->opt;
		if (cs.opt)
			cs.opt = &opt;
		s->pending = false;
		pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		bool ok = craft_send(s->craft, &cs) == 0 || send_lost(craft_errno(s->craft));
		pthread_mutex_lock(&s->mu);
		if (!ok && !s->failed) {
			s->failed = true;
			snprintf(s->err, sizeof(s->err), "%s", craft_error(s->craft));
		}
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int live_sender_start(struct live *lv, int family, const char *ifname, char errbuf[SESSION_ERRBUF_SIZE])
{
	char eb[CRAFT_ERRBUF_SIZE];
	bool denied = false;
	struct live_sender *s = calloc(1, sizeof(*s));

	cpu_set_t allowed, mine, other;
	int cpu = sched_getcpu();

	(void)ifname;
	/* Only worth it with two CPUs: the reacting thread keeps one, the
	 * sender (and the softirq work its system calls carry) gets the rest. */
	if (cpu < 0 || sched_getaffinity(0, sizeof(allowed), &allowed) != 0 || CPU_COUNT(&allowed) < 2) {
		free(s);
		snprintf(errbuf, SESSION_ERRBUF_SIZE, "one CPU: no sender thread");
		return -1;
	}
	CPU_ZERO(&mine);
	CPU_SET(cpu, &mine);
	other = allowed;
	CPU_CLR(cpu, &other);
	if (!s) {
		snprintf(errbuf, SESSION_ERRBUF_SIZE, "out of memory");
		return -1;
	}
	s->craft = craft_open(family, NULL, eb, &denied);
	if (!s->craft) {
		snprintf(errbuf, SESSION_ERRBUF_SIZE, "%.400s", eb);
		free(s);
		return -1;
	}
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pthread_create(&s->thread, NULL, sender_main, s) != 0) {
		snprintf(errbuf, SESSION_ERRBUF_SIZE, "cannot start the sender thread");
		craft_close(s->craft);
		pthread_mutex_destroy(&s->mu);
		pthread_cond_destroy(&s->cv);
		free(s);
		return -1;
	}
	pthread_setaffinity_np(s->thread, sizeof(other), &other);
	sched_setaffinity(0, sizeof(mine), &mine);
	lv->sender = s;
	return 0;
}

void live_sender_stop(struct live *lv)
{
	struct live_sender *s = lv->sender;
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->stop = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	craft_close(s->craft);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
	lv->sender = NULL;
}

struct tcp_transition live_send_async(struct live *lv, struct live_conn *c, uint8_t flags, uint32_t seq,
				      const uint8_t *payload, uint32_t len, int *err)
{
	struct live_sender *s = lv->sender;
	struct craft_segment cs;
	struct tcp_options opt;

	if (!s)
		return live_send(lv, c, flags, seq, payload, len, err);
	build_segment(lv, c, flags, step_seq(lv, c, flags, seq), payload, len, &cs, &opt);
	*err = 0;
	if (!live_step_gate(lv, c, &cs, NULL))
		return held_back(c);
	if (lose_it(lv, c, &cs))
		return feed_sent(c, &cs);
	pthread_mutex_lock(&s->mu);
	sender_wait_taken(s);   /* one segment in flight at a time: order is kept */
	*err = s->failed ? -1 : 0;
	if (s->failed && !lv->send_failed) {
		lv->send_failed = true;
		snprintf(lv->send_error, sizeof(lv->send_error), "cannot send a segment: %.300s", s->err);
	}
	s->cs = cs;
	s->opt = opt;
	s->cs.opt = cs.opt ? &s->opt : NULL;
	s->pending = true;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	lv->sent++;
	return feed_sent(c, &cs);
}

/* Prepares the injector for the ACK c will send to the peer's SYN (or
 * SYN-ACK), as it would be if the peer accepts every option offered, and
 * warms the kernel's send path (contract in live.h). */
void live_prepare_ack(struct live *lv, const struct live_conn *c)
{
	struct live_conn guess = *c;
	struct craft_segment cs;
	struct tcp_options opt;

	guess.ts_ok = guess.wscale_ok = guess.sack_ok = !lv->opt->no_options;
	build_segment(lv, &guess, TCP_FLAG_ACK, c->tcb.fsm.iss + 1, NULL, 0, &cs, &opt);
	if (firewall_warm_ready(lv->fw)) {
		/* The ACK's twin with no flag and TTL 1: it takes the path the ACK
		 * will take, from this thread, and the firewall's netdev table
		 * drops it at the device's egress hook.  A failure only costs
		 * speed. */
		struct craft_segment warm = cs;
		warm.flags = 0;
		warm.ttl = LIVE_WARMUP_TTL;
		if (craft_send(lv->craft, &warm) == 0)
			lv->warmed = true;
	}
	craft_prepare(lv->craft, &cs);
}

/* A quiet wire (nothing captured for LIVE_IDLE_NS): the renderer shows
 * what it holds back, once per quiet spell (render_idle, as watch).
 * Returns the poll timeout, shortened to wake up when the spell begins. */
static int idle_check(struct live *lv, uint64_t now, int timeout)
{
	uint64_t at = lv->last_packet_ns + LIVE_IDLE_NS;
	int until;

	if (lv->idle_shown || lv->last_packet_ns == 0)
		return timeout;
	if (now >= at) {
		render_idle(lv->r);
		lv->idle_shown = true;
		return timeout;
	}
	until = (int)((at - now + 999999) / 1000000);
	return timeout < 0 || until < timeout ? until : timeout;
}

static int wait_dispatch(struct live *lv, uint64_t deadline, uint64_t spin_until, capture_handler cb, void *user)
{
	struct pollfd pfd = { .fd = capture_fd(lv->cap), .events = POLLIN };
	uint64_t now = live_mono_ns();
	int timeout = -1;

	if (now < spin_until) {
		uint64_t stop = spin_until < deadline ? spin_until : deadline;
		do {
			if (capture_dispatch(lv->cap, -1, cb, user) > 0) {
				lv->last_packet_ns = live_mono_ns();
				lv->idle_shown = false;
				return 0;
			}
			if (live_signal)
				return -1;
		} while (live_mono_ns() < stop);
		return 0;
	}
	/* kernel states: only here, never while busy-polling for an answer */
	kstates_poll(lv->ks);
	if (deadline != UINT64_MAX)
		timeout = deadline <= now ? 0 : (int)((deadline - now + 999999) / 1000000);
	render_flush(lv->r);   /* about to sleep: show what a renderer holds back (the ladder's last row) */
	timeout = idle_check(lv, now, timeout);
	if (poll(&pfd, 1, timeout) < 0 && errno != EINTR)
		return -1;
	if (live_signal)
		return -1;
	if (capture_dispatch(lv->cap, -1, cb, user) > 0) {
		lv->last_packet_ns = live_mono_ns();
		lv->idle_shown = false;
	}
	return 0;
}

int live_wait(struct live *lv, uint64_t deadline, uint64_t spin_until, capture_handler cb, void *user)
{
	int rc;

	if (lv->step == NULL)
		return wait_dispatch(lv, deadline, spin_until, cb, user);
	/* --step: packets are traced as they are captured and reacted to
	 * after the dispatch, where the send gate may wait (live_step.h) */
	if (live_step_quit(lv) && !lv->draining)
		return -1;
	rc = wait_dispatch(lv, deadline, 0, live_step_capture, lv);
	live_step_react(lv);
	/* q answered while reacting: no timer runs after it */
	return live_step_quit(lv) && !lv->draining ? -1 : rc;
}

void live_timer_start(struct live_timer *t, uint64_t now)
{
	t->armed = true;
	t->count = 0;
	t->rto = LIVE_INITIAL_RTO_NS;
	t->deadline = now + t->rto;
}

void live_timer_backoff(struct live_timer *t, uint64_t now)
{
	t->count++;
	t->rto *= 2;
	t->deadline = now + t->rto;
}

void live_drain(struct live *lv, int (*wait)(void *user, uint64_t deadline), void *user)
{
	uint64_t until = live_mono_ns() + LIVE_DRAIN_NS;
	int saved = live_signal;

	live_signal = 0;
	lv->draining = true;
	while (lv->captured_own < lv->sent && live_mono_ns() < until)
		if (wait(user, until) != 0)
			break;
	lv->draining = false;
	live_signal = saved;
}

/* ---- the driven endpoint's data ---- */

void live_tcb_init(const struct live *lv, struct live_conn *c, enum tcp_state initial)
{
	const struct session_common *o = lv->opt;
	struct tcb_config cfg;
	uint16_t route = c->route_mss ? c->route_mss : c->mss;

	memset(&cfg, 0, sizeof(cfg));
	cfg.rcv_buf = o->window ? o->window : 64240;
	/* with window scaling the buffer can be bigger than 64 KiB: --window
	 * stays the number of bytes buffered (and advertised) */
	cfg.mss_cap = o->mss && o->mss < route ? o->mss : route;
	cfg.iw = o->iw;
	cfg.retries = o->retries;
	cfg.ts_offset = lv->ts_offset;
	tcb_init(&c->tcb, &cfg, initial);
}

void live_tcb_negotiated(struct live_conn *c)
{
	const struct tcp_options *p = &c->peer_syn_opt;
	tcb_set_peer(&c->tcb, p->has_mss ? p->mss : 0, c->ts_ok, c->sack_ok,
		     c->wscale_ok ? p->wscale : 0, c->wscale_ok ? c->local_wscale : 0, c->ts_recent);
}

/* Records what the tcb said ts was, for the trace (live_sender_facts). */
static void remember_fact(struct live_conn *c, const struct tcb_segment *ts)
{
	struct live_fact *f = &c->facts[c->facts_next % LIVE_FACTS];

	f->seq = ts->seq;
	f->ack = ts->ack;
	f->len = ts->len;
	f->flags = ts->flags;
	f->ts = ts->ts;
	f->ts_val = ts->ts_val;
	f->kind = (uint8_t)(ts->kind + 1);
	c->facts_next++;
	if (c->facts_next - c->facts_seen > LIVE_FACTS)
		c->facts_seen = c->facts_next - LIVE_FACTS;   /* the oldest were overwritten */
}

void live_sender_facts(struct live_conn *c, struct segment *seg)
{
	/* the capture shows our segments in the order they were sent, less
	 * those lost on the way out: search forward from the oldest not yet
	 * traced, so an original is never taken for its retransmission */
	for (unsigned i = c->facts_seen; i != c->facts_next; i++) {
		const struct live_fact *f = &c->facts[i % LIVE_FACTS];

		if (f->kind == 0 || f->seq != seg->seq || f->ack != seg->ack || f->len != seg->payload_len ||
		    f->flags != seg->flags || f->ts != seg->opt.has_timestamps ||
		    (f->ts && f->ts_val != seg->opt.ts_val))
			continue;
		c->facts_seen = i + 1;
		seg->sender_known = true;
		switch ((enum tcb_kind)(f->kind - 1)) {
		case TCB_SEG_FAST_RETRANSMIT: seg->sender_marks = TL_MARK_FAST_RETRANS; break;
		case TCB_SEG_RTO_RETRANSMIT: seg->sender_marks = TL_MARK_RTO_RETRANS; break;
		case TCB_SEG_PROBE: seg->sender_marks = TL_MARK_ZERO_WINDOW_PROBE; break;
		case TCB_SEG_DATA:
		case TCB_SEG_ACK:
		case TCB_SEG_WINDOW_UPDATE:
			seg->sender_marks = 0;
			break;
		}
		return;
	}
}

/* What the --step prompt says made a segment of tcb_output. */
static const char *step_why(enum tcb_kind k)
{
	switch (k) {
	case TCB_SEG_FAST_RETRANSMIT: return "fast retransmission";
	case TCB_SEG_RTO_RETRANSMIT: return "retransmission after the RTO";
	case TCB_SEG_PROBE: return "zero-window probe";
	case TCB_SEG_WINDOW_UPDATE: return "window update";
	case TCB_SEG_DATA:
	case TCB_SEG_ACK:
		break;
	}
	return NULL;
}

int live_pump(struct live *lv, struct live_conn *c)
{
	struct tcb_segment ts;
	uint64_t now = live_mono_ns();
	unsigned budget = LIVE_PUMP_BUDGET;

	if (lv->sender) {
		/* keep the wire order behind a segment handed to the sender thread */
		pthread_mutex_lock(&lv->sender->mu);
		sender_wait_taken(lv->sender);
		pthread_mutex_unlock(&lv->sender->mu);
	}
	lv->pump_more = false;
	while (!lv->send_failed && tcb_output(&c->tcb, now, &ts)) {
		struct craft_segment cs;
		struct tcp_options opt;

		memset(&cs, 0, sizeof(cs));
		memset(&opt, 0, sizeof(opt));
		cs.src = c->local;
		cs.dst = c->remote;
		cs.sport = c->lport;
		cs.dport = c->rport;
		cs.seq = ts.seq;
		cs.ack = ts.ack;
		cs.flags = ts.flags;
		cs.window = ts.window;
		cs.payload = ts.payload;
		cs.payload_len = ts.len;
		if (ts.ts) {
			opt.has_timestamps = true;
			opt.ts_val = ts.ts_val;
			opt.ts_ecr = ts.ts_ecr;
		}
		if (ts.sack_count) {
			opt.sack_count = ts.sack_count;
			memcpy(opt.sack, ts.sack, sizeof(opt.sack));
		}
		if (ts.ts || ts.sack_count)
			cs.opt = &opt;
		if (!live_step_gate(lv, c, &cs, step_why(ts.kind)))
			break;   /* q at the gate: not sent (the run aborts) */
		if (lose_it(lv, c, &cs)) {
			/* not sent: the tcb's timers bring it back (RTO, fast retransmit) */
		} else if (craft_send(lv->craft, &cs) != 0) {
			if (!send_lost(craft_errno(lv->craft))) {
				send_failed(lv, c, &cs, craft_error(lv->craft));
				return -1;
			}
			lv->lost_locally++; /* dropped on the way out: the tcb retransmits it */
		} else {
			lv->sent++;
		}
		feed_sent(c, &cs);
		remember_fact(c, &ts);
		if (--budget == 0) {
			lv->pump_more = true; /* the capture must keep up: come back at once */
			break;
		}
	}
	return lv->send_failed ? -1 : 0;
}

void live_endpoint_event(const struct live_conn *c, enum tl_role role, const struct tcb_event *e,
			 struct tl_endpoint_event *out, char *buf, size_t len)
{
	const struct tcb *t = &c->tcb;
	char ss[32];
	uint32_t rel = e->seq - t->iss;

	memset(out, 0, sizeof(*out));
	out->endpoint = role;
	out->what = tcb_event_name(e->kind);
	out->cwnd = e->cwnd;
	out->ssthresh_set = e->ssthresh != TCB_NO_SSTHRESH;
	out->ssthresh = e->ssthresh;
	out->peer_window = e->snd_wnd;
	out->rto_ns = e->rto_ns;
	out->text = buf;
	if (out->ssthresh_set)
		snprintf(ss, sizeof(ss), "%u", e->ssthresh);
	else
		snprintf(ss, sizeof(ss), "-");
	switch (e->kind) {
	/* the peer's zero window and window update are marked on its segment
	 * (the wire's fact): these lines say what the sender does about them */
	case TCB_EV_CWND:
		snprintf(buf, len, "cwnd %u, ssthresh %s, peer window %u  (%s)", e->cwnd, ss, e->snd_wnd, e->reason);
		break;
	case TCB_EV_ZERO_WINDOW:
		out->seq_known = true;
		out->seq = e->seq;
		snprintf(buf, len, "sending stops until the peer's window opens; persist timer armed");
		break;
	case TCB_EV_WINDOW_UPDATE:
		snprintf(buf, len, "sending resumes: the peer's window is %u bytes", e->snd_wnd);
		break;
	case TCB_EV_PROBE:
		out->seq_known = true;
		out->seq = e->seq;
		out->len = e->len;
		snprintf(buf, len, "zero-window probe: 1 byte at seq %u (probe %u, next in %.1f s)", rel,
			 e->count, (double)e->rto_ns * (double)(1u << (e->count < 16 ? e->count : 16)) / 1e9);
		break;
	case TCB_EV_FAST_RETRANSMIT:
		out->seq_known = true;
		out->seq = e->seq;
		out->len = e->len;
		snprintf(buf, len, "fast retransmit: seq %u after %u dup ACKs; cwnd %u, ssthresh %s",
			 rel, e->count, e->cwnd, ss);
		break;
	case TCB_EV_RTO:
		out->seq_known = true;
		out->seq = e->seq;
		out->len = e->len;
		snprintf(buf, len, "RTO: resend seq %u (back-off %u, next %.1f s); cwnd %u, ssthresh %s",
			 rel, e->count, (double)e->rto_ns / 1e9, e->cwnd, ss);
		break;
	case TCB_EV_OWN_WINDOW_UPDATE:
		snprintf(buf, len, "window update: our receive window reopened to %u", tcb_rcv_window(t));
		break;
	case TCB_EV_OUT_OF_ORDER:
		out->seq_known = true;
		out->seq = e->seq;
		out->len = e->len;
		snprintf(buf, len, "out-of-order: %u bytes at seq %u held beyond a hole; dup ACK%s",
			 e->len, e->seq - t->irs, t->sack_ok ? " with SACK" : "");
		break;
	}
}

bool live_endpoint_stats(const struct live_conn *c, enum tl_role role, unsigned part,
			 struct tl_endpoint_event *out, char *buf, size_t len)
{
	const struct tcb *t = &c->tcb;
	const struct tcb_stats *st = &t->st;

	static const char *const names[] = { "stats", "rtt", "retransmissions" };

	if (!t->open || (st->bytes_acked == 0 && st->bytes_received == 0) || part > 2)
		return false;
	memset(out, 0, sizeof(*out));
	out->endpoint = role;
	out->what = names[part];
	out->cwnd = t->cwnd;
	out->ssthresh_set = t->ssthresh != TCB_NO_SSTHRESH;
	out->ssthresh = t->ssthresh;
	out->peer_window = t->snd_wnd;
	out->rto_ns = t->rto;
	out->text = buf;
	if (part == 0)
		snprintf(buf, len, "sender: %llu bytes acked, %llu received; largest cwnd %u",
			 (unsigned long long)st->bytes_acked, (unsigned long long)st->bytes_received, st->max_cwnd);
	else if (part == 1 && st->rtt_samples)
		snprintf(buf, len, "RTT min/avg/max %.3f/%.3f/%.3f ms (%llu samples); RTO %.3f s",
			 (double)st->rtt_min_ns / 1e6, (double)st->rtt_sum_ns / (double)st->rtt_samples / 1e6,
			 (double)st->rtt_max_ns / 1e6, (unsigned long long)st->rtt_samples, (double)t->rto / 1e9);
	else if (part == 1)
		snprintf(buf, len, "no RTT sample; RTO %.3f s", (double)t->rto / 1e9);
	else {
		/* still at zero window: count up to now (the tcb's clock is live_mono_ns) */
		uint64_t zw = st->zero_window_ns + (t->zero_window ? live_mono_ns() - t->zero_since : 0);
		snprintf(buf, len, "retransmitted %u fast, %u after %u RTOs; %u probes, %.3f s at zero window",
			 st->fast_retransmits, st->rto_retransmits, st->rto_expiries, st->probes, (double)zw / 1e9);
	}
	return true;
}

/* ---- data sources ---- */

#define SOURCE_BUF (64u << 10)

void live_source_init(struct live_source *s, const struct session_data *items, size_t count)
{
	memset(s, 0, sizeof(*s));
	s->items = items;
	s->count = count;
	s->fd = -1;
}

void live_source_close(struct live_source *s)
{
	if (s->fd > 0)
		close(s->fd);
	s->fd = -1;
	free(s->buf);
	s->buf = NULL;
}

bool live_source_waiting(const struct live_source *s)
{
	return !s->done && s->fd >= 0 && s->blen == s->boff && !s->file_eof;
}

int live_source_feed(struct live_source *s, struct tcb *t)
{
	while (s->idx < s->count) {
		const struct session_data *d = &s->items[s->idx];
		if (!d->path) {
			long n = tcb_write(t, d->bytes + s->off, d->len - s->off, true);
			if (n < 0) {
				snprintf(s->err, sizeof(s->err), "out of memory queueing data");
				return -1;
			}
			s->off += (size_t)n;
			if (s->off < d->len)
				return 0;
			s->idx++;
			s->off = 0;
			continue;
		}
		if (s->fd < 0 && !s->file_eof) {
			if (!s->buf && !(s->buf = malloc(SOURCE_BUF))) {
				snprintf(s->err, sizeof(s->err), "out of memory reading %.200s", d->path);
				return -1;
			}
			s->fd = strcmp(d->path, "-") == 0 ? STDIN_FILENO : open(d->path, O_RDONLY | O_CLOEXEC);
			if (s->fd < 0) {
				snprintf(s->err, sizeof(s->err), "cannot read %.200s: %s", d->path, strerror(errno));
				return -1;
			}
			s->blen = s->boff = 0;
		}
		for (;;) {
			if (s->boff < s->blen) {
				long n = tcb_write(t, s->buf + s->boff, s->blen - s->boff, false);
				if (n < 0) {
					snprintf(s->err, sizeof(s->err), "out of memory queueing %.200s", d->path);
					return -1;
				}
				s->boff += (size_t)n;
				if (s->boff < s->blen)
					return 0; /* the send queue is full */
			}
			if (s->file_eof)
				break;
			if (tcb_send_space(t) == 0)
				return 0;
			if (s->fd == STDIN_FILENO) {
				/* a pipe or terminal: read only what is there, never block the loop */
				struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
				if (poll(&pfd, 1, 0) <= 0)
					return 0;
			}
			ssize_t got = read(s->fd, s->buf, SOURCE_BUF);
			if (got < 0) {
				if (errno == EINTR || errno == EAGAIN)
					return 0;
				snprintf(s->err, sizeof(s->err), "cannot read %.200s: %s",
					 strcmp(d->path, "-") == 0 ? "standard input" : d->path, strerror(errno));
				return -1;
			}
			if (got == 0) {
				s->file_eof = true;
				break;
			}
			s->blen = (size_t)got;
			s->boff = 0;
		}
		/* the whole file was one write: PSH on its last segment */
		tcb_write(t, NULL, 0, true);
		if (s->fd > 0)
			close(s->fd);
		s->fd = -1;
		s->file_eof = false;
		s->blen = s->boff = 0;
		s->idx++;
	}
	s->done = true;
	return 1;
}
