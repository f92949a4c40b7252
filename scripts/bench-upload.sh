#!/usr/bin/env bash
# bench-upload.sh — part C of `make bench`: goodput of a 50 MB upload on the
# veth lab, by `tcplab connect --data-file` and by the kernel's own TCP
# (tests/lab/tcpclient --send-bytes), both to the same kernel sink server
# (tests/lab/tcpserver --mode sink, which hashes what it reads).  GSO, TSO
# and GRO are off on both veth ends, so both senders put MSS-sized segments
# on the wire and the receiver sees them one by one.
#
# Goodput = bytes the server read / time from its accept() to the last byte
# read (the server's "data_us"), the same clock for both senders.  Each is
# run BENCH_UPLOAD_RUNS times (default 5), alternately; the median is reported, with the
# ratio tcplab / kernel.  tcplab's trace is written to a file, as a user
# saving it would.  Every run is checked: the server must have read every
# byte (and, for tcplab, the file's SHA-256).
#
# Namespaces tlbench-<pid>-uc / -us, 198.18.250.0/24, no default route;
# removed on every exit path.  Knobs: BENCH_UPLOAD_MB (default 50),
# BENCH_UPLOAD_RUNS.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

MB=${BENCH_UPLOAD_MB:-50}
RUNS=${BENCH_UPLOAD_RUNS:-5}
BYTES=$((MB * 1000 * 1000))
NS_C=tlbench-$$-uc
NS_S=tlbench-$$-us
C_IP=198.18.250.1
S_IP=198.18.250.2
PORT=7300
TMP=$(mktemp -d /tmp/tcplab-bench-upload.XXXXXX)

cleanup() {
	local ns
	for ns in "$NS_C" "$NS_S"; do
		if ip netns list | grep -qw "$ns"; then
			ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null
			sleep 0.2
			ip netns pids "$ns" 2>/dev/null | xargs -r kill -9 2>/dev/null
			ip netns del "$ns" 2>/dev/null
		fi
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

fail() { echo "bench-upload: $*" >&2; exit 1; }

command -v ethtool >/dev/null || fail "needs ethtool (scripts/deps.sh installs it)"
[ -x build/lab/tcpserver ] && [ -x build/lab/tcpclient ] && [ -x ./tcplab ] || fail "build first: make tcplab lab"

ip netns add "$NS_C" && ip netns add "$NS_S" || fail "cannot create namespaces"
for ns in "$NS_C" "$NS_S"; do ip -n "$ns" link set lo up; done
ip link add tlbc0 netns "$NS_C" type veth peer name tlbs0 netns "$NS_S" || fail "cannot create the veth pair"
ip -n "$NS_C" addr add "$C_IP/24" dev tlbc0
ip -n "$NS_S" addr add "$S_IP/24" dev tlbs0
ip -n "$NS_C" link set tlbc0 up
ip -n "$NS_S" link set tlbs0 up
ip netns exec "$NS_C" ethtool -K tlbc0 gso off tso off gro off >/dev/null 2>&1 || fail "ethtool -K failed"
ip netns exec "$NS_S" ethtool -K tlbs0 gso off tso off gro off >/dev/null 2>&1 || fail "ethtool -K failed"
sleep 0.3

head -c "$BYTES" /dev/urandom > "$TMP/data" || fail "cannot write $TMP/data"
SHA=$(sha256sum "$TMP/data" | cut -c1-64)

# one_run WHO N: runs one upload, prints its goodput in MB/s (10^6 bytes/s)
one_run() {
	local who=$1 n=$2 log="$TMP/server-$1-$2.jsonl" rc
	: > "$log"
	timeout 120 ip netns exec "$NS_S" build/lab/tcpserver --addr "$S_IP" --port "$PORT" --mode sink \
		--count 1 --log "$log" > "$TMP/server.out" 2>&1 &
	local spid=$!
	for _ in $(seq 50); do grep -q ready "$TMP/server.out" 2>/dev/null && break; sleep 0.05; done
	if [ "$who" = tcplab ]; then
		timeout 120 ip netns exec "$NS_C" ./tcplab connect --data-file "$TMP/data" "$S_IP" "$PORT" \
			> "$TMP/trace-$n.txt" 2> "$TMP/tcplab.err"
		rc=$?
	else
		timeout 120 ip netns exec "$NS_C" build/lab/tcpclient --addr "$S_IP" --port "$PORT" \
			--send-bytes "$BYTES" --timeout-ms 100000 > "$TMP/client.out" 2>&1
		rc=$?
	fi
	wait "$spid"
	[ "$rc" -eq 0 ] || { cat "$TMP/tcplab.err" "$TMP/client.out" 2>/dev/null | head -3 >&2; fail "$who run $n exited $rc"; }
	python3 - "$log" "$BYTES" "$who" "$SHA" <<'EOF'
import json, sys
log, size, who, sha = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
r = json.loads(open(log).readline())
if r["received_len"] != size:
    sys.exit("received %d of %d bytes" % (r["received_len"], size))
if who == "tcplab" and r["sha256"] != sha:
    sys.exit("the bytes differ from the file")
print("%.1f" % (size / r["data_us"]))
EOF
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "upload of $MB MB on a veth pair, GSO/TSO/GRO off, to a kernel sink server; median of $RUNS runs"
echo "(the machine may be shared: other processes compete for its CPUs)"
# interleaved (kernel, tcplab, kernel, ...) so a change of load on a shared
# machine hits both alike
declare -A res vals
for n in $(seq "$RUNS"); do
	for who in kernel tcplab; do
		v=$(one_run "$who" "$n") || exit 1
		vals[$who]="${vals[$who]:-}${vals[$who]:+ }$v"
	done
done
for who in kernel tcplab; do
	# shellcheck disable=SC2086  # word splitting wanted: one value a line
	res[$who]=$(printf '%s\n' ${vals[$who]} | median)
	printf '  %-28s %8s MB/s   (runs: %s)\n' \
		"$([ "$who" = kernel ] && echo "kernel TCP (tcpclient)" || echo "tcplab connect --data-file")" \
		"${res[$who]}" "${vals[$who]}"
done
python3 -c "import sys; k, t = float(sys.argv[1]), float(sys.argv[2]); print('  tcplab / kernel              %8.2fx   (target >= 0.5x)' % (t / k))" \
	"${res[kernel]}" "${res[tcplab]}"
