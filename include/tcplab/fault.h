/*
 * fault.h — fault injection on connect and listen (--lose WHAT[:N]): which
 * segment of the driven endpoint is lost on purpose.  Pure: no I/O, no
 * clock, no globals.
 *
 * A live role builds every segment as usual, asks fault_classify what kind
 * of segment it is (a segment may be of several kinds: a FIN carrying data
 * is both `data` and `fin`), then fault_decide whether a --lose rule picks
 * it: rule WHAT:N picks the Nth segment of kind WHAT the connection sends,
 * counting retransmissions (so `--lose syn` loses the first SYN and lets its
 * RTO retransmission through, the way a segment lost once on the wire
 * behaves).  A lost segment is fed to the endpoint's state machine as sent
 * (the sender's state changes) and is not put on the wire; the tracker gives
 * the receiver no transition for it.
 *
 * The kinds (RFC 9293 names):
 *   syn            SYN without ACK                      (§3.5, first segment)
 *   synack         SYN with ACK                         (§3.5, second segment)
 *   handshake-ack  a bare ACK that acknowledges the peer's SYN and nothing
 *                  more, sent before any data or FIN of ours (third segment)
 *   data           any segment carrying payload (also probes, retransmissions)
 *   fin            FIN (with or without data)
 *   final-ack      a bare ACK that acknowledges the peer's FIN (§3.6)
 * RST is never lost: it is the abort, and tcplab would hide why it stopped.
 */
#ifndef TCPLAB_FAULT_H
#define TCPLAB_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fault_kind {
	FAULT_SYN,
	FAULT_SYNACK,
	FAULT_HANDSHAKE_ACK,
	FAULT_DATA,
	FAULT_FIN,
	FAULT_FINAL_ACK,
	FAULT_KIND_COUNT
};

#define FAULT_MAX_RULES 16
#define FAULT_ERRBUF_SIZE 160

struct fault_rule {
	enum fault_kind kind;
	unsigned nth;            /* from 1 */
};

/* Every --lose of the command line, in order. */
struct fault_plan {
	struct fault_rule rule[FAULT_MAX_RULES];
	unsigned count;
};

/* Per connection: segments of each kind sent so far (lost ones included). */
struct fault_counts {
	unsigned seen[FAULT_KIND_COUNT];
};

/* What fault_classify needs to know of a segment about to be sent and of
 * the sending endpoint (its state machine's numbers before the segment). */
struct fault_view {
	uint8_t flags;           /* TCP_FLAG_* of the segment */
	uint32_t seq, ack, len;  /* len: payload bytes */
	bool iss_known, irs_known;
	uint32_t iss, irs;
	bool peer_fin_received;  /* the peer's FIN has arrived; its number: peer_fin_seq */
	uint32_t peer_fin_seq;
};

/*
 * Parses one --lose argument, "WHAT" or "WHAT:N" (N from 1 to 1000000,
 * default 1), and appends it to plan.  0 ok; -1 with one sentence in errbuf
 * (unknown WHAT, bad N, more than FAULT_MAX_RULES rules).
 */
int fault_plan_add(struct fault_plan *plan, const char *arg, char errbuf[FAULT_ERRBUF_SIZE]);

/* Bit set (1u << enum fault_kind) of the kinds v is; 0 for RST and for a
 * segment of no listed kind (a plain ACK of data, a window update). */
unsigned fault_classify(const struct fault_view *v);

/*
 * Counts a segment of the kinds in `kinds` as sent by the connection whose
 * counters are c, and says whether a rule of plan picks it.  When it does
 * and which is not NULL, *which is the first such rule.  Must be called once
 * per segment the connection sends (lost or not), in order.
 */
bool fault_decide(const struct fault_plan *plan, struct fault_counts *c, unsigned kinds,
		  const struct fault_rule **which);

/* "syn", "synack", "handshake-ack", "data", "fin", "final-ack". */
const char *fault_kind_name(enum fault_kind k);

/* True when plan holds a rule for kind k. */
bool fault_plan_has(const struct fault_plan *plan, enum fault_kind k);

#endif
