#!/usr/bin/env bash
# Runs the unit tests and tcplab replay on every saved capture under
# valgrind's memcheck; any error or leak fails.  Prints "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
VG=(valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect)
[ -f tests/valgrind.supp ] && VG+=(--suppressions=tests/valgrind.supp)
pass=0; fail=0
# check CMD...: CMD under valgrind; STDIN (environment) names its input.
check() {
	local out rc
	out=$("${VG[@]}" "$@" 2>&1 >/dev/null <"${STDIN:-/dev/null}"); rc=$?
	if [ $rc -eq 99 ]; then
		echo "valgrind errors: $*"; echo "$out" | head -40; fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
}
for t in build/tests/test_*; do
	[ -x "$t" ] || continue
	# the firewall test unshares a network namespace: fine under valgrind
	check "$t"
done
for f in captures/*.pcap captures/*.pcapng captures/bad/*; do
	[ -f "$f" ] || continue
	check ./tcplab replay "$f"
	check ./tcplab replay --json "$f"
	# --summary reads in a second thread (the batch queue)
	check ./tcplab replay --summary "$f"
	# Chinese: the catalog matches formatted text against its c-format entries
	check ./tcplab replay --lang zh --explain "$f"
done
# the ladder and the SVG diagrams (issue 11): every capture, then files removed
svgdir=$(mktemp -d /tmp/tcplab-valgrind-svg.XXXXXX)
for f in captures/*.pcap; do
	[ -f "$f" ] || continue
	check ./tcplab replay --ladder --ascii --width 72 "$f"
	check ./tcplab replay --svg "$svgdir/d.svg" "$f"
done
rm -rf "$svgdir"
# --explain, --header/--hex and the Chinese catalog on every capture (issue 12)
for f in captures/*.pcap; do
	check ./tcplab replay --explain --hex --lang zh "$f"
done
check ./tcplab replay --explain --json -x captures/header-options.pcap
# the same from standard input, and a capture large enough for many batches
STDIN=captures/many.pcap check ./tcplab replay --summary -
if [ -x build/lab/gencap ]; then
	# 27,000 packets: a hundred batches through the queue, the ring reused
	big=$(mktemp /tmp/tcplab-valgrind.XXXXXX)
	trap 'rm -f "$big"' EXIT
	build/lab/gencap --conns 3000 "$big" 2>/dev/null
	check ./tcplab replay --summary --json "$big"
	STDIN=$big check ./tcplab replay --summary -
fi
# issue 13: several files merged by time, gzip from a file and from a pipe
if [ -d captures/ring ]; then
	check ./tcplab replay captures/ring/*.pcap
fi
if [ -f captures/kernel-echo.pcap.gz ]; then
	check ./tcplab replay --json captures/kernel-echo.pcap.gz
	STDIN=captures/kernel-echo.pcap.gz check ./tcplab replay -
fi
echo "valgrind: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
