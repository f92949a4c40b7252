#!/usr/bin/env bash
# `make check`: every test suite, in order, each printing its own summary;
# then one closing line "N passed, N failed" counting the suites.
#   unit        cmocka unit tests (plain build)
#   unit-san    the same under AddressSanitizer + UBSan
#   valgrind    the unit tests and a replay under valgrind
#   golden      replay golden outputs (tests/TESTLIST)
#   fuzz-regress every input that ever crashed a fuzzer, replayed under ASan + UBSan
#   integration live tests in network namespaces against real kernel TCP stacks (root)
set -uo pipefail
cd "$(dirname "$0")/.."

suites_pass=0; suites_fail=0; failed=()
run_suite() {
	local name=$1; shift
	echo
	echo "======== $name"
	if "$@"; then
		suites_pass=$((suites_pass + 1))
	else
		suites_fail=$((suites_fail + 1)); failed+=("$name")
	fi
}

UNIT=$(ls build/tests/test_* 2>/dev/null)
SAN=$(ls build/san-tests/test_* 2>/dev/null)
run_suite unit bash tests/run-unit.sh $UNIT
run_suite unit-san bash tests/run-unit.sh $SAN
run_suite valgrind bash tests/valgrind.sh
if [ -f tests/golden/run.sh ]; then
	run_suite golden bash tests/golden/run.sh
fi
if [ -f tests/fuzz/regress.sh ]; then
	run_suite fuzz-regress bash tests/fuzz/regress.sh
fi
if [ -f tests/integration/run.sh ]; then
	run_suite integration bash tests/integration/run.sh
fi

# nothing may be left behind
leftover_ns=$(ip netns list 2>/dev/null | grep -E '^(tl-|tlcap-|tlbench-|tldemo-)' || true)
leftover_nft=$(nft list tables 2>/dev/null | grep -E 'tcplab_' || true)
if [ -n "$leftover_ns$leftover_nft" ]; then
	echo "left behind: $leftover_ns $leftover_nft"
	suites_fail=$((suites_fail + 1)); failed+=("cleanup")
fi

echo
[ ${#failed[@]} -gt 0 ] && echo "failed suites: ${failed[*]}"
echo "suites: $suites_pass passed, $suites_fail failed"
[ "$suites_fail" -eq 0 ]
