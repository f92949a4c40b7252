#!/usr/bin/env bash
# regress.sh — suite fuzz-regress of `make check`: every input that ever
# crashed a fuzzer (tests/fuzz/crashes/HARNESS/) and the capture files
# themselves, through the harnesses built with gcc under ASan + UBSan
# (build/fuzz-regress/, no clang needed).  A crash fails the suite.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
pass=0; fail=0
for h in decode flow capture; do
	bin=build/fuzz-regress/fuzz_$h
	if [ ! -x "$bin" ]; then
		echo "fuzz-regress: $bin is missing: run make fuzz-regress"; fail=$((fail + 1)); continue
	fi
	inputs=(tests/fuzz/crashes/$h)
	[ "$h" = capture ] && inputs+=(captures captures/bad)
	[ -d build/fuzz/corpus/$h ] && inputs+=(build/fuzz/corpus/$h)
	if "$bin" "${inputs[@]}"; then pass=$((pass + 1)); else echo "FAIL fuzz_$h"; fail=$((fail + 1)); fi
done
echo "fuzz-regress: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
