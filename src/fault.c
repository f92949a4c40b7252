/*
 * fault.c — which segment --lose picks (contract in include/tcplab/fault.h).
 */
#include "tcplab/fault.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcplab/segment.h"

static const char *const names[FAULT_KIND_COUNT] = {
	"syn", "synack", "handshake-ack", "data", "fin", "final-ack",
};

const char *fault_kind_name(enum fault_kind k)
{
	return (unsigned)k < FAULT_KIND_COUNT ? names[k] : "?";
}

int fault_plan_add(struct fault_plan *plan, const char *arg, char errbuf[FAULT_ERRBUF_SIZE])
{
	const char *colon = strchr(arg, ':');
	size_t wl = colon ? (size_t)(colon - arg) : strlen(arg);
	unsigned long n = 1;
	int kind = -1;

	for (int k = 0; k < FAULT_KIND_COUNT; k++)
		if (strlen(names[k]) == wl && strncmp(names[k], arg, wl) == 0)
			kind = k;
	if (kind < 0) {
		snprintf(errbuf, FAULT_ERRBUF_SIZE,
			 "--lose takes syn, synack, handshake-ack, data, fin or final-ack[:N], not '%.40s'", arg);
		return -1;
	}
	if (colon) {
		char *end;
		if (colon[1] < '0' || colon[1] > '9') {
			snprintf(errbuf, FAULT_ERRBUF_SIZE, "--lose %.40s: N must be a number from 1", arg);
			return -1;
		}
		n = strtoul(colon + 1, &end, 10);
		if (*end != '\0' || n < 1 || n > 1000000) {
			snprintf(errbuf, FAULT_ERRBUF_SIZE, "--lose %.40s: N must be a number from 1 to 1000000", arg);
			return -1;
		}
	}
	if (plan->count >= FAULT_MAX_RULES) {
		snprintf(errbuf, FAULT_ERRBUF_SIZE, "--lose may be given at most %d times", FAULT_MAX_RULES);
		return -1;
	}
	plan->rule[plan->count].kind = (enum fault_kind)kind;
	plan->rule[plan->count].nth = (unsigned)n;
	plan->count++;
	return 0;
}

unsigned fault_classify(const struct fault_view *v)
{
	unsigned k = 0;
	uint8_t f = v->flags;
	bool bare_ack = (f & (TCP_FLAG_SYN | TCP_FLAG_FIN | TCP_FLAG_RST | TCP_FLAG_ACK)) == TCP_FLAG_ACK &&
			v->len == 0;

	if (f & TCP_FLAG_RST)
		return 0;
	if (f & TCP_FLAG_SYN)
		k |= 1u << ((f & TCP_FLAG_ACK) ? FAULT_SYNACK : FAULT_SYN);
	if (v->len > 0)
		k |= 1u << FAULT_DATA;
	if (f & TCP_FLAG_FIN)
		k |= 1u << FAULT_FIN;
	/* The third segment of the handshake (RFC 9293 §3.5): it acknowledges
	 * the peer's SYN and nothing after it, and we have sent nothing after
	 * our SYN.  A re-ACK of a retransmitted SYN-ACK has the same shape and
	 * counts as the next one. */
	if (bare_ack && v->iss_known && v->irs_known && v->seq == v->iss + 1 && v->ack == v->irs + 1)
		k |= 1u << FAULT_HANDSHAKE_ACK;
	/* The ACK of the peer's FIN (RFC 9293 §3.6): the last segment of the
	 * close when the peer closes second; its re-ACK in TIME-WAIT counts as
	 * the next one. */
	if (bare_ack && v->peer_fin_received && v->ack == v->peer_fin_seq + 1)
		k |= 1u << FAULT_FINAL_ACK;
	return k;
}

bool fault_decide(const struct fault_plan *plan, struct fault_counts *c, unsigned kinds,
		  const struct fault_rule **which)
{
	bool lost = false;

	for (int k = 0; k < FAULT_KIND_COUNT; k++)
		if (kinds & (1u << k))
			c->seen[k]++;
	for (unsigned i = 0; plan && i < plan->count && !lost; i++) {
		const struct fault_rule *r = &plan->rule[i];
		if ((kinds & (1u << r->kind)) && c->seen[r->kind] == r->nth) {
			lost = true;
			if (which)
				*which = r;
		}
	}
	return lost;
}

bool fault_plan_has(const struct fault_plan *plan, enum fault_kind k)
{
	for (unsigned i = 0; plan && i < plan->count; i++)
		if (plan->rule[i].kind == k)
			return true;
	return false;
}
