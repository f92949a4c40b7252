#!/usr/bin/env bash
# bench-reaction.sh — reaction-time benchmark: how fast does the client's
# ACK follow the server's SYN-ACK, for the kernel's connect(), for
# `tcplab connect`, and (when python3-scapy is installed) for a tutorial-style
# Scapy client.  Run by scripts/bench.sh (`make bench`); root only.
#
# The lab: two network namespaces joined by a veth pair, 198.18.77.1 (client)
# and 198.18.77.2 (server), RFC 2544's benchmarking range, no default route,
# so nothing can leave the machine.  The server namespace runs the kernel TCP
# server (tests/lab/tcpserver, echo mode) on one port per client kind, and a
# tcpdump with nanosecond timestamps on its veth.  The reaction time of a
# connection is measured in that capture, from the SYN-ACK's timestamp (it
# leaves the server) to the timestamp of the ACK that acknowledges it (it
# arrives): one clock, one vantage point, the same for every client.
#
# Kernel and tcplab connections are run in alternating batches (and the
# order inside each pair of batches alternates too), so CPU frequency drift
# and other noise hit both alike.  The result is reported as medians, p10/p90
# and ratios; nothing here compares a time against a threshold.
#
# Knobs (environment): BENCH_CONNS (connections per client, default 200),
# BENCH_BATCH (batch size, default 25), BENCH_SCAPY (Scapy connections,
# default 20; 0 skips Scapy).
#
# Everything created — namespaces (and with them the veth pair and any
# nftables table in them), processes, the temporary directory — is removed on
# every exit path (trap on EXIT INT TERM HUP).
set -euo pipefail

cd "$(dirname "$0")/.."

CONNS=${BENCH_CONNS:-200}
BATCH=${BENCH_BATCH:-25}
SCAPY_CONNS=${BENCH_SCAPY:-20}
TCPLAB=${TCPLAB_OVERRIDE:-./tcplab}
SERVER=build/lab/tcpserver
CLIENT=build/lab/tcpclient
ANALYZE=scripts/bench-reaction.py

CLI_ADDR=198.18.77.1
SRV_ADDR=198.18.77.2
PORT_KERNEL=8001
PORT_TCPLAB=8002
PORT_SCAPY=8003

NS_C=tlbench-c-$$
NS_S=tlbench-s-$$
VETH_C=tlbc$$
VETH_S=tlbs$$

say() { printf '%s\n' "$*"; }
die() { printf 'bench-reaction: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, raw sockets, nftables): run sudo make bench"
for f in "$TCPLAB" "$SERVER" "$CLIENT"; do
	[ -x "$f" ] || die "$f is missing: run make tcplab lab first"
done
for t in ip tcpdump python3 timeout; do
	command -v "$t" >/dev/null 2>&1 || die "$t is not installed (see scripts/deps.sh)"
done
[[ "$CONNS" =~ ^[1-9][0-9]{0,4}$ ]] || die "BENCH_CONNS must be 1..99999"
[[ "$BATCH" =~ ^[1-9][0-9]{0,4}$ ]] || die "BENCH_BATCH must be 1..99999"
[[ "$SCAPY_CONNS" =~ ^[0-9]{1,4}$ ]] || die "BENCH_SCAPY must be 0..9999"

TMP=$(mktemp -d /tmp/tcplab-bench-reaction.XXXXXX)
PIDS=()

# Stops what this script started (by PID, nothing else), then deletes the
# namespaces, which takes the veth pair and their nftables tables with them.
cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM HUP
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${PIDS[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	ip netns del "$NS_C" 2>/dev/null || true
	ip netns del "$NS_S" 2>/dev/null || true
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Waits up to 5 s for a line matching $2 in file $1; false when it never came.
wait_for_line() {
	local i
	for i in $(seq 50); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Microseconds since the epoch, for the informational per-process wall time.
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }

# ---- the lab ----
ip netns add "$NS_C"
ip netns add "$NS_S"
ip link add "$VETH_C" netns "$NS_C" type veth peer name "$VETH_S" netns "$NS_S"
ip -n "$NS_C" addr add "$CLI_ADDR/24" dev "$VETH_C"
ip -n "$NS_S" addr add "$SRV_ADDR/24" dev "$VETH_S"
for ns in "$NS_C" "$NS_S"; do ip -n "$ns" link set lo up; done
ip -n "$NS_C" link set "$VETH_C" up
ip -n "$NS_S" link set "$VETH_S" up

for port in $PORT_KERNEL $PORT_TCPLAB $PORT_SCAPY; do
	ip netns exec "$NS_S" "$SERVER" --addr "$SRV_ADDR" --port "$port" --mode echo \
		--count 0 --log /dev/null >"$TMP/server-$port.out" 2>&1 &
	PIDS+=($!)
	wait_for_line "$TMP/server-$port.out" '^ready' || die "tcpserver on port $port did not start"
done

# Warm-up outside the capture: page cache, the dynamic loader, ARP.
ip netns exec "$NS_C" "$CLIENT" --addr "$SRV_ADDR" --port $PORT_KERNEL --count 3 >/dev/null ||
	die "the kernel client cannot reach the lab server"
ip netns exec "$NS_C" timeout 20 "$TCPLAB" connect "$SRV_ADDR" $PORT_TCPLAB --time-wait 0 \
	--timeout 3 --json >/dev/null 2>"$TMP/warmup.err" ||
	die "tcplab connect fails in the lab: $(head -c 300 "$TMP/warmup.err")"

# Nanosecond timestamps from the kernel's receive/transmit taps; the
# adapter's own clock when the driver has one (veth has none today).
# Immediate mode: without it, packets wait in a TPACKET_V3 block until the
# block times out, and the last second of the run is lost when tcpdump is
# stopped.  It changes delivery only, not the timestamps.
TSTYPE=()
if ip netns exec "$NS_S" tcpdump -J -i "$VETH_S" 2>/dev/null | grep -q adapter_unsynced; then
	TSTYPE=(-j adapter_unsynced)
fi
ip netns exec "$NS_S" tcpdump -i "$VETH_S" -n -Z root -U --immediate-mode -B 8192 "${TSTYPE[@]}" \
	--time-stamp-precision=nano -w "$TMP/server.pcap" \
	"tcp and (port $PORT_KERNEL or port $PORT_TCPLAB or port $PORT_SCAPY)" \
	2>"$TMP/tcpdump.err" &
TCPDUMP_PID=$!
PIDS+=("$TCPDUMP_PID")
wait_for_line "$TMP/tcpdump.err" 'listening on' || die "tcpdump did not start: $(cat "$TMP/tcpdump.err")"

# ---- the runs ----
kernel_done=0 tcplab_done=0 tcplab_failed=0 kernel_failed=0
kernel_us=0 tcplab_us=0

run_kernel_batch() {
	local n=$1 t0 t1
	t0=$(now_us)
	if ! ip netns exec "$NS_C" timeout 120 "$CLIENT" --addr "$SRV_ADDR" --port $PORT_KERNEL \
		--count "$n" >"$TMP/kernel.out" 2>&1; then
		kernel_failed=$((kernel_failed + 1))
	fi
	t1=$(now_us)
	kernel_us=$((kernel_us + t1 - t0))
	kernel_done=$((kernel_done + n))
}

run_tcplab_batch() {
	local n=$1 i t0 t1
	t0=$(now_us)
	for ((i = 0; i < n; i++)); do
		# One process per connection, as a user runs it; the source port is
		# a fresh ephemeral port each time.
		if ! ip netns exec "$NS_C" timeout 20 "$TCPLAB" connect "$SRV_ADDR" $PORT_TCPLAB \
			--time-wait 0 --timeout 3 --json >/dev/null 2>>"$TMP/tcplab.err"; then
			tcplab_failed=$((tcplab_failed + 1))
		fi
	done
	t1=$(now_us)
	tcplab_us=$((tcplab_us + t1 - t0))
	tcplab_done=$((tcplab_done + n))
}

say "reaction time: SYN-ACK leaves the server -> the client's ACK arrives (server-side capture${TSTYPE:+, adapter_unsynced})"
say "  $CONNS connections each for the kernel and tcplab, in interleaved batches of $BATCH"
b=0
while [ "$kernel_done" -lt "$CONNS" ] || [ "$tcplab_done" -lt "$CONNS" ]; do
	nk=$((CONNS - kernel_done)); [ "$nk" -gt "$BATCH" ] && nk=$BATCH
	nt=$((CONNS - tcplab_done)); [ "$nt" -gt "$BATCH" ] && nt=$BATCH
	if [ $((b % 2)) -eq 0 ]; then
		run_kernel_batch "$nk"; run_tcplab_batch "$nt"
	else
		run_tcplab_batch "$nt"; run_kernel_batch "$nk"
	fi
	b=$((b + 1))
done
[ "$tcplab_failed" -eq 0 ] ||
	say "  WARNING: $tcplab_failed tcplab connect runs failed; first errors: $(head -c 300 "$TMP/tcplab.err")"
[ "$kernel_failed" -eq 0 ] || say "  WARNING: $kernel_failed kernel client batches reported a failure"

LABELS=("$PORT_KERNEL=kernel:$kernel_done" "$PORT_TCPLAB=tcplab:$tcplab_done")
SCAPY_PY=
if [ "$SCAPY_CONNS" -gt 0 ]; then
	# Debian's python3-scapy lives in the system Python; a python3 earlier
	# in PATH (pyenv, venv) may not see it.
	for py in /usr/bin/python3 python3; do
		if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import scapy.all' >/dev/null 2>&1; then
			SCAPY_PY=$py
			break
		fi
	done
fi
if [ -n "$SCAPY_PY" ] && command -v nft >/dev/null 2>&1; then
	say "  then $SCAPY_CONNS connections with a tutorial-style Scapy client (sr1 SYN, send ACK)"
	# The tutorials' advice: drop the kernel's RST (it has no socket for
	# Scapy's connection).  Exactly-RST only: Scapy's own RST|ACK passes.
	ip netns exec "$NS_C" nft -f - <<-EOF
		table ip tcplab_bench_scapy {
			chain out {
				type filter hook output priority 0; policy accept;
				tcp flags == rst drop
			}
		}
	EOF
	if ! ip netns exec "$NS_C" timeout 300 "$SCAPY_PY" "$ANALYZE" scapy-client "$SRV_ADDR" \
		$PORT_SCAPY "$SCAPY_CONNS" >"$TMP/scapy.out" 2>&1; then
		say "  WARNING: the Scapy client reported failures: $(grep -v 'handshake done' "$TMP/scapy.out" | head -c 300)"
	fi
	ip netns exec "$NS_C" nft delete table ip tcplab_bench_scapy
	LABELS+=("$PORT_SCAPY=scapy:$(grep -c 'handshake done' "$TMP/scapy.out" || true)")
elif [ "$SCAPY_CONNS" -gt 0 ]; then
	say "  (Scapy skipped: python3-scapy or nft is not installed)"
fi

# Let the last segments reach the capture, then stop tcpdump (SIGTERM makes
# it flush and print its drop count).
sleep 0.5
kill -TERM "$TCPDUMP_PID"
wait "$TCPDUMP_PID" || true
if grep -q '[1-9][0-9]* packets dropped by kernel' "$TMP/tcpdump.err"; then
	say "  WARNING: tcpdump: $(grep 'dropped by kernel' "$TMP/tcpdump.err")"
fi

say ""
python3 "$ANALYZE" analyze "$TMP/server.pcap" "${LABELS[@]}"
say "  (informational) wall time per connection including process start-up:" \
	"kernel client $((kernel_us / kernel_done)) µs, tcplab connect $((tcplab_us / tcplab_done)) µs"
