#!/usr/bin/env bash
# bench-replay.sh — replay throughput benchmark: packets per second and peak
# memory of `tcplab replay` (summary, full text trace, JSON) against tcptrace,
# tshark and a bare libpcap read loop (the floor), all on the same synthetic
# capture in the same run.  Run by scripts/bench.sh (`make bench`).
#
# The capture comes from tests/lab/gencap (built by `make lab`): 111,111
# complete connections of 9 segments each (999,999 packets), 2,000 open at
# any moment and randomly interleaved, 65,536 client addresses.  It is
# written to a temporary directory that is deleted on every exit path.
#
# Each program reads the file R times (R = BENCH_REPLAY_RUNS, default 5; the
# slow tshark once), its output going to /dev/null; the median wall time
# gives packets/s, GNU time's %M the peak RSS (the largest of the runs).  The
# table reports ratios against the bare loop.  No timing thresholds: the
# only check that can fail is the correctness check of the bench input
# (tcplab must find 111,111 connections, all "closed").
set -euo pipefail

cd "$(dirname "$0")/.."

RUNS=${BENCH_REPLAY_RUNS:-5}
CONNS=${BENCH_REPLAY_CONNS:-111111}
TCPLAB=./tcplab
GENCAP=build/lab/gencap
GNUTIME=/usr/bin/time
WARN=(-Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes -Wmissing-prototypes -Wformat=2)

say() { printf '%s\n' "$*"; }
die() { printf 'bench-replay: %s\n' "$*" >&2; exit 1; }

for f in "$TCPLAB" "$GENCAP"; do
	[ -x "$f" ] || die "$f is missing: run make tcplab lab first"
done
[ -x "$GNUTIME" ] || die "$GNUTIME is missing: install the Debian package 'time'"
command -v pkg-config >/dev/null 2>&1 || die "pkg-config is not installed"
[[ "$RUNS" =~ ^[1-9]$ ]] || die "BENCH_REPLAY_RUNS must be 1..9"
[[ "$CONNS" =~ ^[1-9][0-9]{0,6}$ ]] || die "BENCH_REPLAY_CONNS must be 1..9999999"

TMP=$(mktemp -d /tmp/tcplab-bench-replay.XXXXXX)
cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Microseconds since the epoch.
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }

# ---- the input ----
CAP=$TMP/bench.pcap
"$GENCAP" --conns "$CONNS" "$CAP" 2>"$TMP/gencap.err" || die "gencap failed: $(cat "$TMP/gencap.err")"
read -r -a PCAP_FLAGS < <(pkg-config --cflags --libs libpcap)
cc -std=c11 -D_GNU_SOURCE "${WARN[@]}" -O2 -o "$TMP/pcaploop" tests/bench/pcaploop.c \
	"${PCAP_FLAGS[@]}" || die "cannot build tests/bench/pcaploop.c"
read -r _ PACKETS _ < <("$TMP/pcaploop" "$CAP") || die "pcaploop cannot read the capture"
BYTES=$(stat -c %s "$CAP")
say "replay throughput: $PACKETS packets, $CONNS connections, $((BYTES / 1048576)) MiB pcap (nanosecond, Ethernet)"

# Correctness check of the bench input (not a timing check): every one of
# the connections must be found, and every one must have closed.
"$TCPLAB" replay --summary --json "$CAP" >"$TMP/summary.json" 2>"$TMP/summary.err" ||
	die "tcplab replay --summary --json failed: $(head -c 300 "$TMP/summary.err")"
found=$(grep -c '"event":"summary"' "$TMP/summary.json" || true)
closed=$(grep -c '"event":"summary".*"outcome":"closed"' "$TMP/summary.json" || true)
say "  tcplab --summary: $found connections, $closed closed (expected $CONNS, all closed)"
CHECK_OK=1
if [ "$found" -ne "$CONNS" ] || [ "$closed" -ne "$CONNS" ]; then
	say "  CHECK FAILED: tcplab --summary does not report $CONNS closed connections"
	CHECK_OK=0
fi
rm -f "$TMP/summary.json"

# ---- the runs ----
# bench NAME RUNS CMD...: runs CMD RUNS times (stdout to /dev/null, stderr
# to a log), appends "NAME median_wall_us max_rss_kib status median_cpu_s"
# to results.  CPU time (user + system, all threads) is reported beside the
# wall time: `replay --summary` reads in a second thread.
bench() {
	local name=$1 runs=$2 i t0 t1 rss maxrss=0 status=ok
	local -a walls=() cpus=()
	shift 2
	for ((i = 0; i < runs; i++)); do
		t0=$(now_us)
		if ! "$GNUTIME" -f '%e %M %U %S' -o "$TMP/time.out" "$@" >/dev/null 2>"$TMP/$name.err"; then
			status="failed: $(tail -c 200 "$TMP/$name.err" | tr '\n' ' ')"
		fi
		t1=$(now_us)
		walls+=($((t1 - t0)))
		rss=$(awk 'END { print $2 }' "$TMP/time.out")
		cpus+=("$(awk 'END { printf "%.2f", $3 + $4 }' "$TMP/time.out")")
		[ "${rss:-0}" -gt "$maxrss" ] && maxrss=$rss
	done
	local median cpu
	median=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
	printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$median" "$maxrss" "$status" "$cpu" >>"$TMP/results"
}

: >"$TMP/results"
# Warm the page cache so the first program is not charged for reading the
# disk.
cat "$CAP" >/dev/null
bench "libpcap loop (floor)" "$RUNS" "$TMP/pcaploop" "$CAP"
bench "tcplab replay --summary" "$RUNS" "$TCPLAB" replay --summary "$CAP"
bench "tcplab replay (text)" "$RUNS" "$TCPLAB" replay "$CAP"
bench "tcplab replay --json" "$RUNS" "$TCPLAB" replay --json "$CAP"
if command -v tcptrace >/dev/null 2>&1; then
	bench "tcptrace -n" "$RUNS" tcptrace -n "$CAP"
else
	say "  (tcptrace skipped: not installed)"
fi
if command -v tshark >/dev/null 2>&1; then
	bench "tshark -z conv,tcp" 1 tshark -q -z conv,tcp -r "$CAP"
else
	say "  (tshark skipped: not installed)"
fi

say ""
awk -F'\t' -v packets="$PACKETS" '
	BEGIN {
		printf "  %-26s %12s %10s %10s %8s %10s %s\n", "reader", "packets/s", "vs floor", "wall s", "cpu s", "peak RSS", ""
	}
	{
		us = $2 + 0; if (us < 1) us = 1
		rate = packets / (us / 1e6)
		if (NR == 1) floor = rate
		printf "  %-26s %12s %9.3fx %10.3f %8.2f %7.1f MiB %s\n", $1, human(rate), rate / floor, us / 1e6, $5, $3 / 1024, ($4 == "ok" ? "" : $4)
	}
	function human(r) {
		if (r >= 1e6) return sprintf("%.2f M", r / 1e6)
		if (r >= 1e3) return sprintf("%.1f k", r / 1e3)
		return sprintf("%.0f", r)
	}' "$TMP/results"
say "  (median of $RUNS runs, tshark 1; cpu s = user + system of all threads, median; peak RSS is the"
say "   largest of the runs; output to /dev/null)"

failed=$(awk -F'\t' '$4 != "ok"' "$TMP/results" | wc -l)
[ "$failed" -eq 0 ] || say "  WARNING: $failed reader(s) exited with an error"
[ "$CHECK_OK" -eq 1 ]
