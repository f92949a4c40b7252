/*
 * live_step.c — --step for connect and listen (see live_step.h).
 */
#include "live_step.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tcplab/kstates.h"
#include "tcplab/step.h"

/* A peer's packet traced while tcplab could not react: reacted to later. */
struct held_packet {
	uint64_t ts_ns;
	int link;
	uint32_t caplen, wirelen;
	uint8_t *data;
};

struct live_step {
	struct live_step_ops ops;
	int in_fd;
	FILE *prompt;
	const char *who;
	struct held_packet *q;
	size_t head, count, cap;
	bool quit, in_gate, reacting;
	unsigned peer_traced;          /* peer segments traced by the current pump call */
	unsigned any_traced;           /* packets captured by it */
	bool prompt_shown;             /* step_before_send's prompt is on the screen */
	/* the segment announced when q was answered, never sent */
	const struct live_conn *held_conn;
	uint32_t held_seq;
	bool held;
};

int live_step_attach(struct live *lv, const struct live_step_ops *ops, const char *who, int in_fd,
		     FILE *prompt)
{
	struct live_step *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return -1;
	st->ops = *ops;
	st->in_fd = in_fd;
	st->prompt = prompt;
	st->who = who;
	lv->step = st;
	return 0;
}

void live_step_detach(struct live *lv)
{
	struct live_step *st = lv->step;

	if (st == NULL)
		return;
	for (size_t i = st->head; i < st->count; i++)
		free(st->q[i].data);
	free(st->q);
	free(st);
	lv->step = NULL;
}

bool live_step_quit(const struct live *lv)
{
	return lv->step != NULL && lv->step->quit;
}

/* Keeps a copy of a peer's packet for the reaction (out of memory: the
 * packet is only traced, as a lost one would be). */
static void hold(struct live_step *st, const struct capture_packet *pkt)
{
	struct held_packet *h;

	if (st->count == st->cap) {
		size_t ncap = st->cap ? st->cap * 2 : 16;
		struct held_packet *nq;

		if (st->head > 0) {
			/* slide the unreacted packets to the front first */
			memmove(st->q, st->q + st->head, (st->count - st->head) * sizeof(*st->q));
			st->count -= st->head;
			st->head = 0;
		}
		if (st->count == st->cap) {
			nq = realloc(st->q, ncap * sizeof(*nq));
			if (nq == NULL)
				return;
			st->q = nq;
			st->cap = ncap;
		}
	}
	h = &st->q[st->count];
	h->data = malloc(pkt->caplen ? pkt->caplen : 1);
	if (h->data == NULL)
		return;
	memcpy(h->data, pkt->data, pkt->caplen);
	h->ts_ns = pkt->ts_ns;
	h->link = pkt->link;
	h->caplen = pkt->caplen;
	h->wirelen = pkt->wirelen;
	st->count++;
}

void live_step_capture(void *user, const struct capture_packet *pkt)
{
	struct live *lv = user;
	struct live_step *st = lv->step;

	if (st == NULL)
		return;
	st->any_traced++;
	if (st->ops.trace(st->ops.user, pkt)) {
		st->peer_traced++;
		if (!st->quit)
			hold(st, pkt);
	}
}

void live_step_react(struct live *lv)
{
	struct live_step *st = lv->step;

	if (st == NULL || st->reacting)
		return;
	st->reacting = true;
	while (st->head < st->count && !st->quit) {
		/* copied out: the reaction may wait at the gate, which holds more */
		struct held_packet h = st->q[st->head++];
		struct capture_packet cp = {
			.ts_ns = h.ts_ns, .data = h.data, .caplen = h.caplen, .wirelen = h.wirelen, .link = h.link,
		};

		st->ops.react(st->ops.user, &cp);
		free(h.data);
	}
	if (st->head == st->count)
		st->head = st->count = 0;
	st->reacting = false;
}

/*
 * step_before_send's pump: reads the capture (and nothing else) until
 * deadline, or until the terminal has an answer — poll on both, so Enter
 * is seen at once and the peer's segments are shown as they come.  Returns
 * the peer's segments traced, or -1 on a signal.
 */
static int pump(void *user, uint64_t deadline)
{
	struct live *lv = user;
	struct live_step *st = lv->step;
	uint64_t now = live_mono_ns();
	struct pollfd pfd[2] = {
		{ .fd = capture_fd(lv->cap), .events = POLLIN },
		{ .fd = st->in_fd, .events = POLLIN },
	};
	int timeout = deadline <= now ? 0 : (int)((deadline - now + 999999) / 1000000);

	/* before the prompt is up, an early Enter waits for it (no busy loop) */
	if (poll(pfd, st->prompt_shown ? 2 : 1, timeout) < 0 && errno != EINTR)
		return -1;
	if (live_signal)
		return -1;
	if (!(pfd[0].revents & POLLIN))
		return 0;
	/* the trace is about to print: the prompt line goes first, and
	 * step_before_send prints it again under what was shown */
	if (st->in_gate && st->prompt_shown && isatty(fileno(st->prompt)) == 1) {
		fputs("\r\033[K", st->prompt);
		fflush(st->prompt);
	}
	st->peer_traced = 0;
	st->any_traced = 0;
	capture_dispatch(lv->cap, -1, live_step_capture, lv);
	kstates_poll(lv->ks);
	if (st->ops.flush != NULL)
		st->ops.flush(st->ops.user);
	render_flush(lv->r);
	render_idle(lv->r);
	fflush(NULL);
	if (st->in_gate && st->prompt_shown && st->peer_traced == 0 && st->any_traced > 0)
		return 1;   /* the prompt was erased: have it printed again */
	return (int)st->peer_traced;
}

/* "SYN seq=0", "PSH+ACK seq=1 ack=1 len=512", relative to the ISNs unless -S. */
static void describe(const struct live *lv, const struct live_conn *c, const struct craft_segment *cs,
		     const char *why, char *buf, size_t len)
{
	static const struct { uint8_t bit; const char *name; } names[] = {
		{ TCP_FLAG_SYN, "SYN" }, { TCP_FLAG_FIN, "FIN" }, { TCP_FLAG_RST, "RST" },
		{ TCP_FLAG_PSH, "PSH" }, { TCP_FLAG_ACK, "ACK" },
	};
	bool absolute = lv->r != NULL && lv->r->opt.absolute_only;
	const struct tcp_endpoint *f = &c->tcb.fsm;
	uint32_t seq = cs->seq, ack = cs->ack;
	size_t n = 0;
	int w;

	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(cs->flags & names[i].bit))
			continue;
		w = snprintf(buf + n, len - n, "%s%s", n ? "+" : "", names[i].name);
		if (w < 0 || (size_t)w >= len - n)
			return;
		n += (size_t)w;
	}
	if (!absolute) {
		if (cs->flags & TCP_FLAG_SYN)
			seq = 0;
		else if (f->iss_known)
			seq -= f->iss;
		if (f->irs_known)
			ack -= f->irs;
	}
	w = snprintf(buf + n, len - n, " seq=%u", seq);
	if (w > 0 && (size_t)w < len - n)
		n += (size_t)w;
	if ((cs->flags & TCP_FLAG_ACK) && n < len) {
		w = snprintf(buf + n, len - n, " ack=%u", ack);
		if (w > 0 && (size_t)w < len - n)
			n += (size_t)w;
	}
	if (cs->payload_len && n < len) {
		w = snprintf(buf + n, len - n, " len=%u", cs->payload_len);
		if (w > 0 && (size_t)w < len - n)
			n += (size_t)w;
	}
	if (why != NULL && n < len)
		snprintf(buf + n, len - n, " (%s)", why);
}

bool live_step_gate(struct live *lv, struct live_conn *c, const struct craft_segment *cs, const char *why)
{
	struct live_step *st = lv->step;
	char what[160];
	struct step_next next;
	enum step_verdict v;
	uint64_t until;

	if (st == NULL || st->in_gate)
		return true;
	if (st->quit)
		return (cs->flags & TCP_FLAG_RST) != 0;   /* after q: the abort's RST only */
	st->in_gate = true;
	/* tcplab's own last segment first: each Enter shows the segment it sent */
	until = live_mono_ns() + LIVE_DRAIN_NS;
	while (lv->captured_own < lv->sent && live_mono_ns() < until)
		if (pump(lv, until) < 0)
			break;
	kstates_poll(lv->ks);
	if (st->ops.flush != NULL)
		st->ops.flush(st->ops.user);
	describe(lv, c, cs, why, what, sizeof(what));
	next.who = st->who;
	next.what = what;
	st->prompt_shown = true;
	until = live_mono_ns();
	v = live_signal ? STEP_QUIT : step_before_send(lv->r, &next, st->in_fd, st->prompt, pump, lv);
	st->prompt_shown = false;
	if (st->ops.paused != NULL)
		st->ops.paused(st->ops.user, live_mono_ns() - until);
	st->in_gate = false;
	if (v == STEP_QUIT) {
		st->quit = true;
		st->held = true;
		st->held_conn = c;
		st->held_seq = cs->seq;
		return (cs->flags & TCP_FLAG_RST) != 0;
	}
	return true;
}

bool live_step_rst_seq(const struct live *lv, const struct live_conn *c, uint32_t *seq)
{
	const struct live_step *st = lv->step;

	if (st == NULL || !st->quit || !st->held || st->held_conn != c)
		return false;
	*seq = st->held_seq;
	return true;
}
