#!/usr/bin/env bash
# run.sh — tcplab replay's golden tests, in the style of tcpdump's
# tests/TESTonce: every line of tests/TESTLIST replays a saved capture from
# captures/ and compares what tcplab printed (stdout and stderr, then the
# exit code) with tests/golden/expected/EXPECTED.  A difference fails the
# test and is shown as a unified diff.
#
#   bash tests/golden/run.sh            every test, then the valgrind pass
#   bash tests/golden/run.sh NAME...    only these tests (no valgrind pass
#                                       unless a NAME is in VALGRIND_TESTS)
#
# The valgrind pass runs a few tests again under valgrind's memcheck
# (--error-exitcode=99 -q, definite and indirect leaks included), chosen to
# cover each decoder path (pcap, pcapng, SLL2, IPv6, standard input, bad
# inputs), each renderer, -c and a filter; one of them fails when valgrind
# reports anything (its output is compared in the first pass already).
# VALGRIND=0 skips it; it is skipped with a note when valgrind is missing.
#
# $TCPLAB overrides the binary under test (default ./tcplab).  Ends with one
# line "N passed, N failed"; exit status 0 only when nothing failed.
# Regenerate expected files with tests/golden/regen.sh (then review them).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/golden/lib.sh
. tests/golden/lib.sh

VALGRIND_TESTS=(tcplab-echo tcplab-echo-json tcplab-echo-pcapng tcplab-echo-stdin
	many-summary many-c5-json many-filter sll2 ipv6 final-ack-lost
	bad-not-a-capture bad-truncated bad-truncated-stdin bad-ip-header-length-lies
	bad-zero-length bad-snaplen-60 ladder-echo ladder-many-c5-ascii ladder-final-ack-lost
	explain-echo-zh explain-echo-json header-options-hex checksum-json lang-zh-usage-error)
VG_CMD="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect"

if [ ! -x "$TCPLAB" ]; then
	echo "golden: $TCPLAB is missing: run make" >&2
	echo "0 passed, 1 failed"
	exit 1
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM HUP

pass=0
fail=0
declare -A wanted=()
for n in "$@"; do
	wanted[$n]=1
done

# one_test NAME INPUT EXPECTED [OPTIONS...]: runs one test, counts it, and
# prints a diff when it fails.
one_test() {
	local name=$1 input=$2 expected=$3
	shift 3
	local exp="$GOLDEN_EXPECTED/$expected" got="$WORK/$name.out"
	if [ ! -f "$exp" ]; then
		echo "FAIL $name: $exp is missing (create it with tests/golden/regen.sh $name)"
		fail=$((fail + 1))
		return
	fi
	golden_run "" "$input" "$@" >"$got"
	if diff -u --label "$exp" --label "tcplab replay $input $*" "$exp" "$got" >"$WORK/diff"; then
		pass=$((pass + 1))
	else
		echo "FAIL $name: tcplab replay $input $*"
		cat "$WORK/diff"
		fail=$((fail + 1))
	fi
}

declare -A seen=()
lines=()
while read -r line; do
	lines+=("$line")
done < <(golden_tests)

for line in "${lines[@]}"; do
	read -r name input expected rest <<<"$line"
	read -r -a opts <<<"${rest:-}"
	if ! golden_check_line "$name" "$input" "${expected:-}"; then
		fail=$((fail + 1))
		continue
	fi
	if [ -n "${seen[$name]:-}" ]; then
		echo "FAIL $name: the name appears twice in $GOLDEN_LIST"
		fail=$((fail + 1))
		continue
	fi
	seen[$name]=1
	[ $# -gt 0 ] && [ -z "${wanted[$name]:-}" ] && continue
	one_test "$name" "$input" "$expected" "${opts[@]}"
done

for n in "$@"; do
	[ -n "${seen[$n]:-}" ] || { echo "FAIL $n: no such test in $GOLDEN_LIST"; fail=$((fail + 1)); }
done

if [ "${VALGRIND:-1}" = 0 ]; then
	:
elif ! command -v valgrind >/dev/null 2>&1; then
	echo "golden: valgrind is not installed: the valgrind pass is skipped"
else
	[ -f tests/valgrind.supp ] && VG_CMD+=" --suppressions=tests/valgrind.supp"
	for line in "${lines[@]}"; do
		read -r name input expected rest <<<"$line"
		read -r -a opts <<<"${rest:-}"
		[ -n "${expected:-}" ] || continue
		[[ " ${VALGRIND_TESTS[*]} " == *" $name "* ]] || continue
		[ $# -gt 0 ] && [ -z "${wanted[$name]:-}" ] && continue
		: >"$WORK/vg.log"
		golden_run "$VG_CMD --log-file=$WORK/vg.log" "$input" "${opts[@]}" >"$WORK/vg.out"
		if [ "$(tail -n 1 "$WORK/vg.out")" = exit=99 ] || [ -s "$WORK/vg.log" ]; then
			echo "FAIL valgrind:$name: tcplab replay $input ${opts[*]}"
			cat "$WORK/vg.log"
			fail=$((fail + 1))
		else
			pass=$((pass + 1))
		fi
	done
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
