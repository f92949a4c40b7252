# shellcheck shell=bash
# lib.sh — shared by tests/golden/run.sh and regen.sh (sourced, not run):
# reads tests/TESTLIST and runs one golden test.
#
# TESTLIST has tcpdump's format, one test a line:
#
#     NAME  INPUT  EXPECTED  [OPTIONS...]
#
# NAME      the test's name (letters, digits, '-', '_', '.')
# INPUT     a file under captures/, run as `tcplab replay captures/INPUT`;
#           stdin:FILE runs `tcplab replay - < captures/FILE` instead, so the
#           standard-input path is tested with the same files
# EXPECTED  the expected output, a file under tests/golden/expected/; two
#           tests may share one (the same capture read from a pcapng file,
#           or from standard input, must print the same thing)
# OPTIONS   the rest of the line, split on blanks (no quoting): tcplab replay
#           options and a trailing BPF filter, e.g. `--summary tcp port 80`
#
# '#' starts a comment; blank lines are ignored.  The output compared is
# stdout and stderr together (2>&1) followed by a line `exit=N`, so error
# messages and exit codes are part of the golden file.  Tests run from the
# repository root with relative paths, TZ=UTC and LC_ALL=C.UTF-8, so no
# expected file depends on the machine.

GOLDEN_LIST=tests/TESTLIST
# shellcheck disable=SC2034  # used by run.sh and regen.sh
GOLDEN_EXPECTED=tests/golden/expected
TCPLAB=${TCPLAB:-./tcplab}
export TZ=UTC LC_ALL=C.UTF-8

# golden_tests: prints the TESTLIST lines that are tests (no comments or
# blank lines), comments stripped, fields separated by single spaces.
golden_tests() {
	sed -e 's/#.*//' -e 's/[[:space:]][[:space:]]*/ /g' -e 's/^ //' -e 's/ $//' "$GOLDEN_LIST" |
		grep -v '^$'
}

# golden_check_line NAME INPUT EXPECTED: 0 when the line is well formed,
# else prints why on stderr.
golden_check_line() {
	if [ -z "${3:-}" ]; then
		echo "TESTLIST: '$1' needs NAME INPUT EXPECTED [OPTIONS...]" >&2
		return 1
	fi
	case $1 in
	*[!A-Za-z0-9._-]*)
		echo "TESTLIST: bad test name '$1'" >&2
		return 1
		;;
	esac
	return 0
}

# golden_run PREFIX INPUT [OPTIONS...]: runs the test and prints its output
# (stdout and stderr, then exit=N).  PREFIX is a command to run tcplab
# under (e.g. valgrind ...), or "" for none.
golden_run() {
	local prefix=$1 input=$2 rc
	shift 2
	local -a pre=()
	[ -n "$prefix" ] && read -r -a pre <<<"$prefix"
	case $input in
	stdin:*)
		"${pre[@]}" "$TCPLAB" replay - "$@" <"captures/${input#stdin:}" 2>&1
		rc=$?
		;;
	*)
		"${pre[@]}" "$TCPLAB" replay "captures/$input" "$@" </dev/null 2>&1
		rc=$?
		;;
	esac
	echo "exit=$rc"
}
