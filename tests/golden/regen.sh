#!/usr/bin/env bash
# regen.sh — rewrites golden expected outputs from what ./tcplab prints now.
#
#   bash tests/golden/regen.sh NAME...   the expected files of these tests
#   bash tests/golden/regen.sh --all     every test in tests/TESTLIST
#
# An expected file is a claim about what is right, not a record of what the
# code does: read every regenerated file (git diff tests/golden/expected)
# and check it against the capture (tshark -r captures/FILE) before
# committing.  In particular an expected file that was written by hand
# because tcplab was wrong must not be regenerated until tcplab is fixed.
# When two tests share an expected file, the first one in TESTLIST writes it
# and the others are checked against it.  $TCPLAB overrides the binary.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/golden/lib.sh
. tests/golden/lib.sh

if [ $# -eq 0 ]; then
	echo "usage: bash tests/golden/regen.sh NAME... | --all" >&2
	exit 2
fi
[ -x "$TCPLAB" ] || { echo "regen: $TCPLAB is missing: run make" >&2; exit 1; }
mkdir -p "$GOLDEN_EXPECTED"

declare -A wanted=() owner=() found=()
all=false
for n in "$@"; do
	[ "$n" = --all ] && all=true
	wanted[$n]=1
done
TMP=$(mktemp)
trap 'rm -f "$TMP"' EXIT

mapfile -t lines < <(golden_tests)
# The first test naming an expected file owns it.
for line in "${lines[@]}"; do
	read -r name input expected rest <<<"$line"
	[ -n "${expected:-}" ] && [ -z "${owner[$expected]:-}" ] && owner[$expected]=$name
done

rc=0
for line in "${lines[@]}"; do
	read -r name input expected rest <<<"$line"
	read -r -a opts <<<"${rest:-}"
	golden_check_line "$name" "$input" "${expected:-}" || { rc=1; continue; }
	$all || [ -n "${wanted[$name]:-}" ] || continue
	found[$name]=1
	golden_run "" "$input" "${opts[@]}" >"$TMP"
	if [ "${owner[$expected]}" != "$name" ]; then
		if ! cmp -s "$TMP" "$GOLDEN_EXPECTED/$expected"; then
			echo "regen: $name does not print what $expected (written by ${owner[$expected]}) holds" >&2
			rc=1
		fi
		continue
	fi
	cp "$TMP" "$GOLDEN_EXPECTED/$expected"
	echo "wrote $GOLDEN_EXPECTED/$expected"
done

if ! $all; then
	for n in "$@"; do
		[ -n "${found[$n]:-}" ] || { echo "regen: no test '$n' in $GOLDEN_LIST" >&2; rc=1; }
	done
fi
exit "$rc"
