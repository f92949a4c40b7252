/*
 * test_complete.c — unit tests for complete.c: the values an option takes,
 * read from its argument name or help text.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "tcplab/complete.h"

static void expect_values(const char *arg, const char *help, int n, const char *want)
{
	char out[256];

	memset(out, 'x', sizeof(out));
	assert_int_equal(complete_values(arg, help, out, sizeof(out)), n);
	assert_string_equal(out, want);
}

static void test_values_from_help(void **state)
{
	(void)state;
	/* today's --close */
	expect_values("HOW", "client|server|rst|none: who closes, or abort, or leave open", 4,
		      "client\nserver\nrst\nnone\n");
	/* "NAME: a|b" after other words, as in "HOW: client|server" */
	expect_values("WHAT", "WHAT[:N] is syn|synack|handshake-ack|data|fin|final-ack; N the Nth", 6,
		      "syn\nsynack\nhandshake-ack\ndata\nfin\nfinal-ack\n");
	expect_values(NULL, "colour the output: auto|always|never (default auto)", 3,
		      "auto\nalways\nnever\n");
}

static void test_values_from_arg_first(void **state)
{
	(void)state;
	expect_values("en|zh", "language of the explanations: en|zh|fr", 2, "en\nzh\n");
	expect_values("auto|always|never", NULL, 3, "auto\nalways\nnever\n");
}

static void test_no_values(void **state)
{
	(void)state;
	/* free text, numbers, no argument: nothing to offer */
	expect_values("TEXT", "send TEXT once established (repeatable; \\n, \\r, \\t, \\\\ and \\xNN are unescaped)",
		      0, "");
	expect_values("N", "show connection number N only", 0, "");
	expect_values(NULL, NULL, 0, "");
	expect_values("", "", 0, "");
	/* a lone word next to a '|' that is not a list */
	expect_values(NULL, "pipe it | less", 0, "");
	expect_values(NULL, "a||b", 0, "");
	expect_values(NULL, "|a|", 0, "");
}

static void test_edges_of_runs(void **state)
{
	(void)state;
	/* a run ends at punctuation; a trailing '|' is not a value */
	expect_values(NULL, "(x|y), then z", 2, "x\ny\n");
	expect_values(NULL, "x|y|", 2, "x\ny\n");
	/* the first run counts */
	expect_values(NULL, "a|b or c|d", 2, "a\nb\n");
	/* '=' ends a word: the run starts after it */
	expect_values(NULL, "--opt=on|off", 2, "on\noff\n");
}

static void test_small_buffer(void **state)
{
	char out[8];
	(void)state;
	assert_int_equal(complete_values(NULL, "alpha|beta|gamma", out, sizeof(out)), -1);
	assert_string_equal(out, "");
	assert_int_equal(complete_values(NULL, "a|b", out, 0), -1);
	assert_int_equal(complete_values(NULL, "a|b", NULL, 8), -1);
	/* exactly enough: "a\nb\n" and the NUL */
	assert_int_equal(complete_values(NULL, "a|b", out, 5), 2);
	assert_string_equal(out, "a\nb\n");
	assert_int_equal(complete_values(NULL, "a|b", out, 4), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_from_help),
		cmocka_unit_test(test_values_from_arg_first),
		cmocka_unit_test(test_no_values),
		cmocka_unit_test(test_edges_of_runs),
		cmocka_unit_test(test_small_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
