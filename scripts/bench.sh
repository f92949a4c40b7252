#!/usr/bin/env bash
# bench.sh — `make bench`: tcplab side by side with the alternatives, in the
# same run, reported as ratios (absolute numbers depend on the machine; the
# ratios are what carry over).  Root only: part A builds network namespaces.
#
#   A  reaction time (scripts/bench-reaction.sh): SYN-ACK -> ACK, measured
#      in a server-side nanosecond capture, for the kernel's connect(),
#      `tcplab connect` and a tutorial-style Scapy client.
#   B  replay throughput (scripts/bench-replay.sh): packets/s and peak RSS
#      of `tcplab replay` against tcptrace, tshark and a bare libpcap loop on
#      a generated 1,000,000-packet capture.
#   C  upload goodput (scripts/bench-upload.sh): 50 MB on the veth lab by
#      `tcplab connect --data-file` and by the kernel's TCP, GSO/TSO/GRO off.
#
# Nothing here is a pass/fail timing test: the benchmarks print numbers.
# The exit status is non-zero only when a benchmark could not run or its
# input failed a correctness check.  Each part bounds its own work (fixed
# counts, timeouts) and removes everything it created on every exit path;
# the whole run takes a few minutes on a 2-core machine.
#
# Knobs (environment): BENCH_CONNS, BENCH_BATCH, BENCH_SCAPY (part A),
# BENCH_REPLAY_RUNS, BENCH_REPLAY_CONNS (part B), BENCH_UPLOAD_MB, BENCH_UPLOAD_RUNS
# (part C), BENCH_ONLY=reaction|replay|upload.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (network namespaces, raw sockets, nftables): run sudo make bench" >&2
	exit 1
fi

CHILD=
# Forward a signal to the running part (whose own trap cleans up), wait for
# it, and stop.
# shellcheck disable=SC2317  # invoked from the traps below
on_signal() {
	local rc=$1
	trap - INT TERM HUP
	if [ -n "$CHILD" ]; then
		kill -TERM "$CHILD" 2>/dev/null || true
		wait "$CHILD" 2>/dev/null || true
	fi
	exit "$rc"
}
trap 'on_signal 130' INT
trap 'on_signal 143' TERM
trap 'on_signal 129' HUP

# run_part LIMIT_SECONDS SCRIPT: runs one part in the background (so a
# signal reaches this shell at once) under a time limit, returns its status.
run_part() {
	local rc
	timeout "$1" bash "$2" &
	CHILD=$!
	wait "$CHILD"
	rc=$?
	CHILD=
	if [ "$rc" -eq 124 ]; then
		echo "bench: $2 did not finish within $1 s and was stopped" >&2
	fi
	return "$rc"
}

echo "tcplab bench — $(./tcplab --version 2>/dev/null | head -n 1)"
echo "machine: $(nproc) CPU(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), Linux $(uname -r)"
echo

# want PART: true when BENCH_ONLY is unset or names PART.
want() { [ -z "${BENCH_ONLY:-}" ] || [ "$BENCH_ONLY" = "$1" ]; }

case "${BENCH_ONLY:-}" in
"" | reaction | replay | upload) ;;
*) echo "bench: BENCH_ONLY must be reaction, replay or upload" >&2; exit 2 ;;
esac

status=0
start=$SECONDS
if want reaction; then
	echo "== A. reaction time =="
	run_part 300 scripts/bench-reaction.sh || { status=1; echo "bench: the reaction benchmark failed" >&2; }
	echo
fi
if want replay; then
	echo "== B. replay throughput =="
	run_part 420 scripts/bench-replay.sh || { status=1; echo "bench: the replay benchmark failed" >&2; }
	echo
fi
if want upload; then
	echo "== C. upload goodput =="
	run_part 600 scripts/bench-upload.sh || { status=1; echo "bench: the upload benchmark failed" >&2; }
	echo
fi
echo "bench: done in $((SECONDS - start)) s"
exit "$status"
