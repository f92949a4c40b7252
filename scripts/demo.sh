#!/usr/bin/env bash
# demo.sh — tcplab's teaching demo, in network namespaces of its own.
#
#   bash scripts/demo.sh [SCENARIO]     (make demo runs "hello")
#
# Scenarios:
#   hello         client connects, sends "hello", the kernel server echoes it, client closes first
#   server-close  the server closes first: the client goes CLOSE-WAIT → LAST-ACK
#   refused       nothing listens: the SYN is answered with RST
#   lost-syn      the first SYN is dropped: watch the RFC 6298 retransmission after 1 s
#   reset         the server aborts with RST after reading
#   all           every scenario above, one after the other
#
# Two namespaces (client, server) joined by a veth pair, addresses from
# 198.18.0.0/15 (RFC 2544 benchmarking), no default route: no packet can
# leave the machine.  Everything is removed on exit, error or Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."

SCENARIO=${1:-hello}
NS_C="tldemo-$$-c"
NS_S="tldemo-$$-s"
C_ADDR=198.18.77.1
S_ADDR=198.18.77.2
PORT=8080
TCPLAB=${TCPLAB:-./tcplab}
SERVER=${SERVER:-build/lab/tcpserver}
SERVER_PID=

if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: the demo creates network namespaces: run it as root (sudo make demo)" >&2
	exit 6
fi
for f in "$TCPLAB" "$SERVER"; do
	[ -x "$f" ] || { echo "demo.sh: $f is missing: run make && make lab" >&2; exit 1; }
done

cleanup() {
	if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null; wait "$SERVER_PID" 2>/dev/null; fi
	ip netns del "$NS_C" 2>/dev/null || true
	ip netns del "$NS_S" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

ip netns add "$NS_C"
ip netns add "$NS_S"
ip link add tldemo-c type veth peer name tldemo-s
ip link set tldemo-c netns "$NS_C"
ip link set tldemo-s netns "$NS_S"
ip -n "$NS_C" addr add "$C_ADDR/24" dev tldemo-c
ip -n "$NS_S" addr add "$S_ADDR/24" dev tldemo-s
for ns in "$NS_C" "$NS_S"; do ip -n "$ns" link set lo up; done
ip -n "$NS_C" link set tldemo-c up
ip -n "$NS_S" link set tldemo-s up

start_server() { # MODE
	ip netns exec "$NS_S" "$SERVER" --addr "$S_ADDR" --port "$PORT" --mode "$1" --count 1 \
		--log /dev/null > "/tmp/tldemo-$$.ready" &
	SERVER_PID=$!
	for _ in $(seq 100); do grep -q ready "/tmp/tldemo-$$.ready" 2>/dev/null && break; sleep 0.05; done
	rm -f "/tmp/tldemo-$$.ready"
}
stop_server() {
	if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
	SERVER_PID=
}
banner() { printf '\n=== %s\n$ sudo tcplab %s\n\n' "$1" "$2"; }
run_client() { # ARGS...
	ip netns exec "$NS_C" "$TCPLAB" connect "$@" || echo "(tcplab exit code $?)"
}

scenario() {
	case "$1" in
	hello)
		start_server echo
		banner "handshake, data, echo, client closes first" "connect $S_ADDR $PORT --data hello"
		run_client "$S_ADDR" "$PORT" --data hello
		stop_server ;;
	server-close)
		start_server close-first
		banner "the server closes first" "connect $S_ADDR $PORT --close server"
		run_client "$S_ADDR" "$PORT" --close server
		stop_server ;;
	refused)
		banner "nothing listens: refused" "connect $S_ADDR $PORT"
		run_client "$S_ADDR" "$PORT" ;;
	lost-syn)
		start_server echo
		ip netns exec "$NS_S" nft -f - <<-NFT
		table inet tldemo {
			chain in { type filter hook input priority 0;
				tcp dport $PORT tcp flags & (syn|ack) == syn numgen inc mod 1000000 == 0 drop; }
		}
		NFT
		banner "the first SYN is lost" "connect $S_ADDR $PORT --data hello"
		run_client "$S_ADDR" "$PORT" --data hello
		ip netns exec "$NS_S" nft delete table inet tldemo
		stop_server ;;
	reset)
		start_server rst
		banner "the server aborts with RST" "connect $S_ADDR $PORT --data hello"
		run_client "$S_ADDR" "$PORT" --data hello
		stop_server ;;
	*)
		echo "demo.sh: unknown scenario '$1' (hello, server-close, refused, lost-syn, reset, all)" >&2
		exit 2 ;;
	esac
}

if [ "$SCENARIO" = all ]; then
	for s in hello server-close refused lost-syn reset; do scenario "$s"; done
else
	scenario "$SCENARIO"
fi
