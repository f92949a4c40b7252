/*
 * test_paths.c — unit tests for paths.c: the data and lab directories found
 * from the binary's location, in a source tree, an installation, both, and
 * neither.  Each test builds its layout in a fresh temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tcplab/paths.h"

static char root[64];   /* "/tmp/tl-paths-XXXXXX" */

static int setup(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/tl-paths-XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

/* Creates root/rel (and its directories); a file unless rel ends in '/'. */
static void make(const char *rel)
{
	char path[PATH_MAX];
	size_t n = (size_t)snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			(void)mkdir(path, 0755);
			*p = '/';
		}
	}
	if (path[n - 1] != '/') {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fclose(f);
	}
}

static const char *at(const char *rel)
{
	static char buf[4][PATH_MAX + 64];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s%s%s", root, *rel ? "/" : "", rel);
	return buf[i];
}

static void test_source_tree(void **state)
{
	struct tcplab_paths p;
	char eb[PATHS_ERRBUF_SIZE];
	(void)state;
	make("scripts/demo.sh");
	make("build/lab/");
	assert_int_equal(paths_resolve_from(at("tcplab"), &p, eb), 0);
	assert_true(p.source_tree);
	assert_string_equal(p.exe, at("tcplab"));
	assert_string_equal(p.datadir, at("scripts"));
	assert_string_equal(p.labdir, at("build/lab"));
}

static void test_installation(void **state)
{
	struct tcplab_paths p;
	char eb[PATHS_ERRBUF_SIZE];
	(void)state;
	make("opt/x/share/tcplab/demo.sh");
	make("opt/x/libexec/tcplab/");
	make("opt/x/bin/");
	assert_int_equal(paths_resolve_from(at("opt/x/bin/tcplab"), &p, eb), 0);
	assert_false(p.source_tree);
	/* ".." resolved: the paths a user reads in messages are tidy */
	assert_string_equal(p.datadir, at("opt/x/share/tcplab"));
	assert_string_equal(p.labdir, at("opt/x/libexec/tcplab"));
}

static void test_installation_without_lab_dir(void **state)
{
	struct tcplab_paths p;
	char eb[PATHS_ERRBUF_SIZE];
	(void)state;
	/* the lab directory is not required to resolve: the demo names it
	 * when its server is missing */
	make("usr/share/tcplab/demo.sh");
	make("usr/bin/");
	assert_int_equal(paths_resolve_from(at("usr/bin/tcplab"), &p, eb), 0);
	assert_string_equal(p.datadir, at("usr/share/tcplab"));
	assert_string_equal(p.labdir, at("usr/bin/../libexec/tcplab"));
}

static void test_source_tree_wins(void **state)
{
	struct tcplab_paths p;
	char eb[PATHS_ERRBUF_SIZE];
	(void)state;
	/* a tree checked out as PREFIX/bin that also has an installation
	 * beside it: ./tcplab is the tree's */
	make("p/bin/scripts/demo.sh");
	make("p/share/tcplab/demo.sh");
	assert_int_equal(paths_resolve_from(at("p/bin/tcplab"), &p, eb), 0);
	assert_true(p.source_tree);
	assert_string_equal(p.datadir, at("p/bin/scripts"));
}

static void test_neither(void **state)
{
	struct tcplab_paths p;
	char eb[PATHS_ERRBUF_SIZE];
	(void)state;
	make("lonely/bin/");
	make("lonely/share/tcplab/");          /* a directory without demo.sh */
	eb[0] = '\0';
	assert_int_equal(paths_resolve_from(at("lonely/bin/tcplab"), &p, eb), -1);
	assert_non_null(strstr(eb, "scripts/demo.sh"));
	assert_non_null(strstr(eb, "/lonely/bin/../share/tcplab/demo.sh"));
}

static void test_bad_exe(void **state)
{
	struct tcplab_paths p;
	char eb[PATHS_ERRBUF_SIZE], huge[PATH_MAX + 10];
	(void)state;
	assert_int_equal(paths_resolve_from(NULL, &p, eb), -1);
	assert_int_equal(paths_resolve_from("tcplab", &p, eb), -1);      /* relative */
	assert_int_equal(paths_resolve_from("", &p, eb), -1);
	memset(huge, 'a', sizeof(huge) - 1);
	huge[0] = '/';
	huge[sizeof(huge) - 1] = '\0';
	assert_int_equal(paths_resolve_from(huge, &p, eb), -1);
	/* a binary in / has no share/ beside it here */
	assert_int_equal(paths_resolve_from("/tcplab-test-none", &p, eb), -1);
}

static void test_near_path_max(void **state)
{
	struct tcplab_paths p;
	char eb[PATHS_ERRBUF_SIZE], exe[PATH_MAX];
	size_t n;
	(void)state;
	/* an exe path that fits PATH_MAX while dir + "/../libexec/tcplab"
	 * does not: an error, never a truncated path */
	n = (size_t)snprintf(exe, sizeof(exe), "%s/", root);
	while (n < PATH_MAX - 8)
		exe[n++] = 'd';
	exe[n++] = '/';
	exe[n++] = 'x';
	exe[n] = '\0';
	assert_int_equal(paths_resolve_from(exe, &p, eb), -1);
}

static void test_running_binary(void **state)
{
	struct tcplab_paths p;
	char eb[PATHS_ERRBUF_SIZE];
	(void)state;
	/* this test binary sits in build/tests/: no demo.sh beside it or in
	 * build/share, so the answer is a sentence, not a crash */
	if (paths_resolve(&p, eb) == 0)
		assert_true(p.exe[0] == '/');
	else
		assert_non_null(strstr(eb, "demo.sh"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_source_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_installation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_installation_without_lab_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_tree_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_neither, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_exe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_near_path_max, setup, teardown),
		cmocka_unit_test(test_running_binary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
