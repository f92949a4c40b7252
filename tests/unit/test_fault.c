/*
 * test_fault.c — --lose WHAT[:N] (include/tcplab/fault.h): parsing, the
 * kind of each segment of a connection's life, and which one a rule picks
 * (retransmissions counted, so syn:1 lets the RTO retransmission through).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tcplab/fault.h"
#include "tcplab/segment.h"

#define ISS 1000u
#define IRS 500000u

static struct fault_view view(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len)
{
	struct fault_view v;
	memset(&v, 0, sizeof(v));
	v.flags = flags;
	v.seq = seq;
	v.ack = ack;
	v.len = len;
	v.iss_known = v.irs_known = true;
	v.iss = ISS;
	v.irs = IRS;
	return v;
}

static void test_parse(void **state)
{
	struct fault_plan p;
	char eb[FAULT_ERRBUF_SIZE];
	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(fault_plan_add(&p, "syn", eb), 0);
	assert_int_equal(fault_plan_add(&p, "final-ack:2", eb), 0);
	assert_int_equal(fault_plan_add(&p, "handshake-ack:1", eb), 0);
	assert_int_equal(p.count, 3);
	assert_int_equal(p.rule[0].kind, FAULT_SYN);
	assert_int_equal(p.rule[0].nth, 1);
	assert_int_equal(p.rule[1].kind, FAULT_FINAL_ACK);
	assert_int_equal(p.rule[1].nth, 2);
	assert_true(fault_plan_has(&p, FAULT_HANDSHAKE_ACK));
	assert_false(fault_plan_has(&p, FAULT_DATA));

	assert_int_equal(fault_plan_add(&p, "ack", eb), -1);
	assert_non_null(strstr(eb, "'ack'"));
	assert_int_equal(fault_plan_add(&p, "syn:", eb), -1);
	assert_int_equal(fault_plan_add(&p, "syn:0", eb), -1);
	assert_int_equal(fault_plan_add(&p, "syn:-1", eb), -1);
	assert_int_equal(fault_plan_add(&p, "syn:2x", eb), -1);
	assert_int_equal(fault_plan_add(&p, "syn:1000001", eb), -1);
	assert_int_equal(fault_plan_add(&p, "synx", eb), -1);
	assert_int_equal(fault_plan_add(&p, "", eb), -1);
	assert_int_equal(p.count, 3);   /* nothing appended by a bad argument */
	while (p.count < FAULT_MAX_RULES)
		assert_int_equal(fault_plan_add(&p, "data:7", eb), 0);
	assert_int_equal(fault_plan_add(&p, "data", eb), -1);
	assert_string_equal(fault_kind_name(FAULT_FINAL_ACK), "final-ack");
	assert_string_equal(fault_kind_name(FAULT_SYNACK), "synack");
}

/* Every segment of a client's life, classified. */
static void test_classify(void **state)
{
	struct fault_view v;
	(void)state;

	v = view(TCP_FLAG_SYN, ISS, 0, 0);
	v.irs_known = false;
	assert_int_equal(fault_classify(&v), 1u << FAULT_SYN);
	v = view(TCP_FLAG_SYN | TCP_FLAG_ACK, ISS, IRS + 1, 0);
	assert_int_equal(fault_classify(&v), 1u << FAULT_SYNACK);
	/* the third segment of the handshake */
	v = view(TCP_FLAG_ACK, ISS + 1, IRS + 1, 0);
	assert_int_equal(fault_classify(&v), 1u << FAULT_HANDSHAKE_ACK);
	/* data on it: data, not a handshake ACK */
	v = view(TCP_FLAG_ACK | TCP_FLAG_PSH, ISS + 1, IRS + 1, 5);
	assert_int_equal(fault_classify(&v), 1u << FAULT_DATA);
	/* an ACK of the peer's data: no kind */
	v = view(TCP_FLAG_ACK, ISS + 6, IRS + 6, 0);
	assert_int_equal(fault_classify(&v), 0);
	/* FIN with data: both */
	v = view(TCP_FLAG_ACK | TCP_FLAG_FIN, ISS + 1, IRS + 1, 3);
	assert_int_equal(fault_classify(&v), (1u << FAULT_DATA) | (1u << FAULT_FIN));
	/* our FIN */
	v = view(TCP_FLAG_ACK | TCP_FLAG_FIN, ISS + 6, IRS + 6, 0);
	assert_int_equal(fault_classify(&v), 1u << FAULT_FIN);
	/* the ACK of the peer's FIN */
	v = view(TCP_FLAG_ACK, ISS + 7, IRS + 7, 0);
	v.peer_fin_received = true;
	v.peer_fin_seq = IRS + 6;
	assert_int_equal(fault_classify(&v), 1u << FAULT_FINAL_ACK);
	/* an ACK before the peer's FIN, with its number known: not final */
	v.ack = IRS + 6;
	assert_int_equal(fault_classify(&v), 0);
	/* the peer's FIN on an otherwise empty connection: the ACK of it has
	 * seq = ISS + 1 but acknowledges more than the SYN */
	v = view(TCP_FLAG_ACK, ISS + 1, IRS + 2, 0);
	v.peer_fin_received = true;
	v.peer_fin_seq = IRS + 1;
	assert_int_equal(fault_classify(&v), 1u << FAULT_FINAL_ACK);
	/* our FIN that also acknowledges the peer's: a FIN, not a final ACK */
	v.flags |= TCP_FLAG_FIN;
	assert_int_equal(fault_classify(&v), 1u << FAULT_FIN);
	/* RST: never */
	v = view(TCP_FLAG_RST | TCP_FLAG_ACK, ISS + 1, IRS + 1, 0);
	assert_int_equal(fault_classify(&v), 0);
	/* before the peer's ISN is known nothing is a handshake ACK */
	v = view(TCP_FLAG_ACK, ISS + 1, IRS + 1, 0);
	v.irs_known = false;
	assert_int_equal(fault_classify(&v), 0);
}

/* syn:1 loses the first SYN only; the retransmission goes out. */
static void test_decide_counts_retransmissions(void **state)
{
	struct fault_plan p;
	struct fault_counts c;
	const struct fault_rule *which = NULL;
	char eb[FAULT_ERRBUF_SIZE];
	(void)state;
	memset(&p, 0, sizeof(p));
	memset(&c, 0, sizeof(c));
	assert_int_equal(fault_plan_add(&p, "syn", eb), 0);
	assert_true(fault_decide(&p, &c, 1u << FAULT_SYN, &which));
	assert_ptr_equal(which, &p.rule[0]);
	assert_false(fault_decide(&p, &c, 1u << FAULT_SYN, NULL));
	assert_false(fault_decide(&p, &c, 1u << FAULT_SYN, NULL));
	assert_int_equal(c.seen[FAULT_SYN], 3);
	/* segments of other kinds or none do not move the SYN count */
	assert_false(fault_decide(&p, &c, 0, NULL));
	assert_false(fault_decide(&p, &c, 1u << FAULT_DATA, NULL));
	assert_int_equal(c.seen[FAULT_SYN], 3);
	assert_int_equal(c.seen[FAULT_DATA], 1);
}

/* data:2 and fin together; a FIN with data counts for both kinds. */
static void test_decide_nth_and_several(void **state)
{
	struct fault_plan p;
	struct fault_counts c;
	const struct fault_rule *which = NULL;
	char eb[FAULT_ERRBUF_SIZE];
	(void)state;
	memset(&p, 0, sizeof(p));
	memset(&c, 0, sizeof(c));
	assert_int_equal(fault_plan_add(&p, "data:2", eb), 0);
	assert_int_equal(fault_plan_add(&p, "fin", eb), 0);
	assert_false(fault_decide(&p, &c, 1u << FAULT_DATA, NULL));      /* data 1 */
	/* data 2 with the FIN: lost by the first rule that picks it */
	assert_true(fault_decide(&p, &c, (1u << FAULT_DATA) | (1u << FAULT_FIN), &which));
	assert_int_equal(which->kind, FAULT_DATA);
	/* its retransmission: data 3, FIN 2 */
	assert_false(fault_decide(&p, &c, (1u << FAULT_DATA) | (1u << FAULT_FIN), NULL));
	assert_int_equal(c.seen[FAULT_FIN], 2);
	/* an empty plan loses nothing */
	memset(&c, 0, sizeof(c));
	assert_false(fault_decide(NULL, &c, 1u << FAULT_SYN, NULL));
	assert_int_equal(c.seen[FAULT_SYN], 1);
}

/* final-ack:1 then the re-ACK in TIME-WAIT (final-ack 2) goes through;
 * final-ack:2 loses only the re-ACK. */
static void test_final_ack_sequence(void **state)
{
	struct fault_plan p1, p2;
	struct fault_counts c1, c2;
	struct fault_view v = view(TCP_FLAG_ACK, ISS + 7, IRS + 7, 0);
	char eb[FAULT_ERRBUF_SIZE];
	(void)state;
	memset(&p1, 0, sizeof(p1));
	memset(&p2, 0, sizeof(p2));
	memset(&c1, 0, sizeof(c1));
	memset(&c2, 0, sizeof(c2));
	v.peer_fin_received = true;
	v.peer_fin_seq = IRS + 6;
	assert_int_equal(fault_plan_add(&p1, "final-ack", eb), 0);
	assert_int_equal(fault_plan_add(&p2, "final-ack:2", eb), 0);
	assert_true(fault_decide(&p1, &c1, fault_classify(&v), NULL));
	assert_false(fault_decide(&p1, &c1, fault_classify(&v), NULL));
	assert_false(fault_decide(&p2, &c2, fault_classify(&v), NULL));
	assert_true(fault_decide(&p2, &c2, fault_classify(&v), NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_decide_counts_retransmissions),
		cmocka_unit_test(test_decide_nth_and_several),
		cmocka_unit_test(test_final_ack_sequence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
