#!/usr/bin/env bash
# Runs unit test binaries (cmocka); each prints its own summary.
# Prints a closing line "N passed, N failed" counting binaries.
pass=0; fail=0
for t in "$@"; do
	echo "== $t"
	if "$t"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAILED: $t"; fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
