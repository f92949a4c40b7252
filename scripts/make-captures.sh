#!/usr/bin/env bash
# make-captures.sh — regenerates the saved captures in captures/ (replay
# examples and the inputs of the golden tests, tests/golden/) in tcplab's own
# namespace lab.
#
#   sudo bash scripts/make-captures.sh            every capture
#   sudo bash scripts/make-captures.sh NAME...    some (names as in the list below)
#   sudo bash scripts/make-captures.sh --list     the names
#   CAPTURES_OUT=DIR ...                         write into DIR instead (a dry run)
#
# Each capture gets a lab of its own: two network namespaces (tlcap-PID-c,
# the client, and tlcap-PID-s, the server) joined by one veth pair with
# addresses from 198.18.0.0/15 (RFC 2544's benchmarking range) and
# 2001:2::/48 (RFC 5180's), static neighbour entries (no ARP or neighbour
# discovery on the wire), fixed MAC addresses, transmit checksums computed in
# software (so the capture holds correct checksums), and no default route:
# nothing can leave the machine.  tcpdump records in the server namespace, on
# the veth, with nanosecond timestamps; it sees a packet before netfilter on
# the way in, so a SYN dropped by the lab's nft rule there is still in the
# capture, as it would be on a real wire in front of a lossy host.
#
# tcplab runs use fixed ISNs (--isn) and source ports (--sport) so that a
# regenerated capture differs from the committed one only in timestamps and
# in the kernel peer's ISN.  Kernel-to-kernel captures change more (ports,
# both ISNs).  After regenerating, review and regenerate the golden outputs:
# bash tests/golden/regen.sh, then git diff tests/golden/expected.
#
# Everything the script creates (namespaces, with the veth pair, nft tables
# and tcplab's own table inside them; processes; the work directory) is
# deleted on exit, also on failure and on SIGINT/SIGTERM/SIGHUP.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="${CAPTURES_OUT:-$ROOT/captures}"
TCPLAB="$ROOT/tcplab"
LAB="$ROOT/build/lab"
CNS="tlcap-$$-c"
SNS="tlcap-$$-s"
CIF=tlcap-c0
SIF=tlcap-s0
CMAC=02:00:00:00:00:01
SMAC=02:00:00:00:00:02
CIP=198.18.0.1
SIP=198.18.0.2
CIP6=2001:2::1
SIP6=2001:2::2
PORT=7000
WORK=""
PIDS=()

ALL=(tcplab-echo tcplab-close-first tcplab-half-close tcplab-rst kernel-echo
     kernel-close-first refused syn-lost simultaneous-close ipv6 many
     final-ack-lost sll2 pcapng bad)

die() {
	echo "make-captures: $*" >&2
	exit 1
}

# Ends every process this script started (by pid), deletes both namespaces
# (and with them the veth pair and every nft table inside) and the work
# directory.  Runs on every exit path.
cleanup() {
	local rc=$?
	set +e
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	ip netns del "$CNS" 2>/dev/null
	ip netns del "$SNS" 2>/dev/null
	[ -n "$WORK" ] && rm -rf "$WORK"
	exit "$rc"
}

# ---------------------------------------------------------------- the lab --

in_c() { ip netns exec "$CNS" "$@"; }
in_s() { ip netns exec "$SNS" "$@"; }

# txcsum_off NS IFACE: turns off transmit checksum offload on a veth end
# (ETHTOOL_STXCSUM, without needing the ethtool package): the kernel then
# fills in every checksum before tcpdump sees the packet.
txcsum_off() {
	ip netns exec "$1" /usr/bin/python3 - "$2" <<'EOF'
import ctypes, fcntl, socket, struct, sys
SIOCETHTOOL, ETHTOOL_STXCSUM = 0x8946, 0x17
val = ctypes.create_string_buffer(struct.pack("II", ETHTOOL_STXCSUM, 0))
ifr = struct.pack("16sP", sys.argv[1].encode(), ctypes.addressof(val)).ljust(40, b"\0")
with socket.socket() as s:
    fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifr)
EOF
}

# Creates the two namespaces and the veth pair between them.
lab_up() {
	lab_down
	ip netns add "$CNS"
	ip netns add "$SNS"
	ip link add "$CIF" netns "$CNS" address "$CMAC" type veth peer name "$SIF" netns "$SNS" address "$SMAC"
	in_c ip link set lo up
	in_s ip link set lo up
	in_c ip addr add "$CIP/24" dev "$CIF"
	in_s ip addr add "$SIP/24" dev "$SIF"
	in_c ip addr add "$CIP6/64" dev "$CIF" nodad
	in_s ip addr add "$SIP6/64" dev "$SIF" nodad
	in_c ip neigh replace "$SIP" lladdr "$SMAC" dev "$CIF" nud permanent
	in_s ip neigh replace "$CIP" lladdr "$CMAC" dev "$SIF" nud permanent
	in_c ip neigh replace "$SIP6" lladdr "$SMAC" dev "$CIF" nud permanent
	in_s ip neigh replace "$CIP6" lladdr "$CMAC" dev "$SIF" nud permanent
	txcsum_off "$CNS" "$CIF"
	txcsum_off "$SNS" "$SIF"
	in_c ip link set "$CIF" up
	in_s ip link set "$SIF" up
}

lab_down() {
	ip netns del "$CNS" 2>/dev/null || true
	ip netns del "$SNS" 2>/dev/null || true
}

# Starts a command (an executable, not a shell function) in the background
# and remembers its pid; `ip netns exec` execs the command, so $! is the
# command's own pid and signals reach it.
bg() {
	"$@" &
	LAST=$!
	PIDS+=("$LAST")
}

# reap PID: waits for a process bg started and forgets it, so that cleanup
# never signals a pid the system may have given to someone else since.
# Returns the process's exit status.
reap() {
	local rc=0 keep=() p
	wait "$1" || rc=$?
	for p in "${PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	PIDS=("${keep[@]}")
	return "$rc"
}

# Waits up to 10 s for a line matching the regex $2 in file $1.
wait_for_line() {
	local i
	for ((i = 0; i < 1000; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.01
	done
	die "timed out waiting for '$2' in $1: $(cat "$1" 2>/dev/null)"
}

# cap_start FILE [IFACE [tcpdump args...]]: tcpdump in the server namespace,
# TCP only (the lab has no other traffic worth keeping), returns once it is
# capturing.  Immediate mode, so that nothing waits in a half-filled buffer
# block when tcpdump is stopped; libpcap then uses one ring frame of the
# snapshot length per packet, so -s 2048 (more than the veth's MTU) keeps
# the ring from overflowing in a burst of 20 connections.
cap_start() {
	local file=$1 ifc=${2:-$SIF}
	shift $(($# < 2 ? $# : 2))
	: >"$WORK/tcpdump.err"
	bg ip netns exec "$SNS" tcpdump -i "$ifc" -n -Z root -w "$file" -s 2048 --time-stamp-precision=nano --immediate-mode -U "$@" tcp \
		2>"$WORK/tcpdump.err"
	CAP_PID=$LAST
	wait_for_line "$WORK/tcpdump.err" "listening on"
}

# Stops the capture (SIGINT: tcpdump writes what it holds and exits).
cap_stop() {
	sleep 0.3
	kill -INT "$CAP_PID"
	reap "$CAP_PID" || die "tcpdump failed: $(cat "$WORK/tcpdump.err")"
	grep -q "^0 packets dropped by kernel" "$WORK/tcpdump.err" ||
		die "tcpdump lost packets: $(tr '\n' ' ' <"$WORK/tcpdump.err")"
}

# srv_start MODE [tcpserver args...]: the kernel test server in the server
# namespace on $SIP:$PORT (or --addr given later in the args).
srv_start() {
	local mode=$1
	shift
	: >"$WORK/srv.out"
	bg ip netns exec "$SNS" "$LAB/tcpserver" --addr "$SIP" --port "$PORT" --mode "$mode" --log "$WORK/srv.log" "$@" \
		>"$WORK/srv.out"
	SRV_PID=$LAST
	wait_for_line "$WORK/srv.out" "^ready"
}

srv_wait() {
	local rc=0
	reap "$SRV_PID" || rc=$?
	[ "$rc" -eq 0 ] || die "tcpserver exited with status $rc: $(cat "$WORK/srv.log")"
}

# tcplab connect in the client namespace against $SIP:$PORT.  The exit
# status is returned (refused and reset runs end non-zero on purpose).
tl_connect() {
	local rc=0
	in_c "$TCPLAB" connect "$SIP" "$PORT" --timeout 5 "$@" >"$WORK/tcplab.out" 2>&1 || rc=$?
	echo "  tcplab connect $* -> exit $rc"
	return "$rc"
}

# Moves a finished capture into captures/ and says how big it is.
keep() {
	local src=$1 name=$2
	mv "$src" "$OUT/$name"
	chmod 0644 "$OUT/$name"
	echo "  ${OUT#"$ROOT"/}/$name: $(stat -c %s "$OUT/$name") bytes, $(count_packets "$OUT/$name") packets"
}

count_packets() {
	tshark -r "$1" 2>/dev/null | wc -l
}

# ------------------------------------------------------------ the captures --

# tcplab as the client against a kernel server in each teardown mode.
cap_tcplab_echo() {
	lab_up
	srv_start echo --count 1
	cap_start "$WORK/c.pcap"
	tl_connect --data 'hello\n' --isn 1000000 --sport 40001 --close client --time-wait 0.5
	srv_wait
	cap_stop
	keep "$WORK/c.pcap" tcplab-echo.pcap
}

cap_tcplab_close_first() {
	lab_up
	srv_start close-first --count 1 --delay-ms 200
	cap_start "$WORK/c.pcap"
	tl_connect --data 'hello\n' --isn 2000000 --sport 40002 --close server --time-wait 0.5
	srv_wait
	cap_stop
	keep "$WORK/c.pcap" tcplab-close-first.pcap
}

# The ISN sits just below 2^32 so that the client's sequence numbers wrap.
cap_tcplab_half_close() {
	lab_up
	srv_start half-close --count 1 --delay-ms 100
	cap_start "$WORK/c.pcap"
	tl_connect --data 'hello\n' --isn 4294967292 --sport 40003 --close client --time-wait 0.5
	srv_wait
	cap_stop
	keep "$WORK/c.pcap" tcplab-half-close.pcap
}

cap_tcplab_rst() {
	lab_up
	srv_start rst --count 1 --delay-ms 200
	cap_start "$WORK/c.pcap"
	tl_connect --data 'hello\n' --isn 4000000 --sport 40004 --close server || [ $? -eq 4 ] ||
		die "tcplab connect against the rst server should end with exit 4 (reset)"
	srv_wait
	cap_stop
	keep "$WORK/c.pcap" tcplab-rst.pcap
}

# A kernel client against a kernel server: the reference for what a real
# stack does.
cap_kernel_echo() {
	lab_up
	srv_start echo --count 1
	cap_start "$WORK/c.pcap"
	in_c "$LAB/tcpclient" --addr "$SIP" --port "$PORT" --send 'hello' --expect-echo >/dev/null
	srv_wait
	cap_stop
	keep "$WORK/c.pcap" kernel-echo.pcap
}

# The client waits for the server's FIN (--no-shutdown), so the server
# closes first.
cap_kernel_close_first() {
	lab_up
	srv_start close-first --count 1 --delay-ms 100
	cap_start "$WORK/c.pcap"
	in_c "$LAB/tcpclient" --addr "$SIP" --port "$PORT" --send 'hello' --no-shutdown >/dev/null
	srv_wait
	cap_stop
	keep "$WORK/c.pcap" kernel-close-first.pcap
}

# Nobody listens: the server's kernel answers the SYN with RST.
cap_refused() {
	lab_up
	cap_start "$WORK/c.pcap"
	tl_connect --isn 5000000 --sport 40005 || [ $? -eq 3 ] ||
		die "tcplab connect to a closed port should end with exit 3 (refused)"
	cap_stop
	keep "$WORK/c.pcap" refused.pcap
}

# The first SYN is dropped in the server namespace (after the capture point):
# tcplab retransmits it after its 1 s RTO (RFC 6298).
cap_syn_lost() {
	lab_up
	in_s nft -f - <<EOF
table inet tlcap {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		tcp dport $PORT tcp flags & (syn|ack) == syn numgen inc mod 1000000 == 0 counter drop
	}
}
EOF
	srv_start echo --count 1
	cap_start "$WORK/c.pcap"
	tl_connect --data 'hello\n' --isn 6000000 --sport 40006 --close client --time-wait 0.5
	srv_wait
	cap_stop
	check_dropped 1
	keep "$WORK/c.pcap" syn-lost.pcap
}

# Checks that the lab's drop rule in the server namespace dropped exactly
# $1 packet(s).
check_dropped() {
	local n
	n=$(in_s nft list table inet tlcap | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p')
	[ "$n" = "$1" ] || die "the nft rule dropped ${n:-?} packets, expected $1"
	echo "  nft rule dropped $n packet(s), as intended"
}

# The client's last ACK (the one for the server's FIN) is dropped once in the
# server namespace: the server, in LAST-ACK, retransmits its FIN, and tcplab,
# in TIME-WAIT, acknowledges it again (RFC 9293 §3.10.7.4, TIME-WAIT).  No
# data, so that last ACK is the only pure ACK with sequence ISN+2.
cap_final_ack_lost() {
	lab_up
	local isn=7000000
	in_s nft -f - <<EOF
table inet tlcap {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		tcp sport 40007 tcp dport $PORT tcp flags == ack tcp sequence $((isn + 2)) numgen inc mod 1000000 == 0 counter drop
	}
}
EOF
	srv_start echo --count 1
	cap_start "$WORK/c.pcap"
	tl_connect --isn "$isn" --sport 40007 --close client --time-wait 3
	srv_wait
	cap_stop
	check_dropped 1
	keep "$WORK/c.pcap" final-ack-lost.pcap
}

# Both ends call shutdown(SHUT_WR) at the same instant (tests/lab/simclose.c);
# repeated until the capture shows the two FINs crossing: each FIN's ACK
# field does not cover the other FIN.
cap_simultaneous_close() {
	local try crossed
	cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -o "$WORK/simclose" "$ROOT/tests/lab/simclose.c" -lpthread
	for ((try = 1; try <= 50; try++)); do
		lab_up
		cap_start "$WORK/c.pcap"
		"$WORK/simclose" "$CNS" "$SNS" "$SIP" "$PORT"
		cap_stop
		crossed=$(fins_crossed "$WORK/c.pcap")
		if [ "$crossed" = yes ]; then
			echo "  FINs crossed on try $try"
			keep "$WORK/c.pcap" simultaneous-close.pcap
			return 0
		fi
		rm -f "$WORK/c.pcap"
	done
	die "no simultaneous close in 50 tries"
}

# "yes" when the capture has exactly one FIN each way (no retransmission)
# and neither FIN acknowledges the other.
fins_crossed() {
	tshark -r "$1" -Y 'tcp.flags.fin == 1' -T fields -e tcp.srcport -e tcp.seq_raw \
		-e tcp.len -e tcp.ack_raw 2>/dev/null | awk '
		{ n++; port[n] = $1; end[n] = ($2 + $3 + 1) % 4294967296; ack[n] = $4 }
		END {
			ok = (n == 2 && port[1] != port[2] && ack[2] != end[1] && ack[1] != end[2])
			print ok ? "yes" : "no"
		}'
}

# IPv6 across the veth, kernel client and server.
cap_ipv6() {
	lab_up
	srv_start echo --count 1 --addr "$SIP6"
	cap_start "$WORK/c.pcap"
	in_c "$LAB/tcpclient" --addr "$SIP6" --port "$PORT" --send 'hello over IPv6' --expect-echo >/dev/null
	srv_wait
	cap_stop
	keep "$WORK/c.pcap" ipv6.pcap
}

# 20 kernel clients at once: interleaved connections.
cap_many() {
	lab_up
	srv_start echo --count 20
	cap_start "$WORK/c.pcap"
	in_c "$LAB/tcpclient" --addr "$SIP" --port "$PORT" --send 'hi' --count 20 --parallel 20 \
		--expect-echo >/dev/null
	srv_wait
	cap_stop
	keep "$WORK/c.pcap" many.pcap
}

# Linux cooked capture v2 (tcpdump -i any): a link layer without Ethernet.
cap_sll2() {
	lab_up
	srv_start close-first --count 1 --delay-ms 100
	cap_start "$WORK/c.pcap" any -y LINUX_SLL2
	in_c "$LAB/tcpclient" --addr "$SIP" --port "$PORT" --send 'cooked' --no-shutdown >/dev/null
	srv_wait
	cap_stop
	keep "$WORK/c.pcap" sll2.pcap
}

# The same bytes as tcplab-echo.pcap in the pcapng format.
cap_pcapng() {
	[ -f "$OUT/tcplab-echo.pcap" ] || cap_tcplab_echo
	editcap -F pcapng "$OUT/tcplab-echo.pcap" "$WORK/c.pcapng"
	keep "$WORK/c.pcapng" tcplab-echo.pcapng
}

# Hand-made bad inputs for the error tests.
cap_bad() {
	mkdir -p "$OUT/bad"
	[ -f "$OUT/tcplab-echo.pcap" ] || cap_tcplab_echo
	printf 'This is not a capture file.\nIt is a text file that tcplab replay must refuse.\n' \
		>"$OUT/bad/not-a-capture.txt"
	echo "  captures/bad/not-a-capture.txt"
	/usr/bin/python3 - "$OUT/tcplab-echo.pcap" "$OUT/bad" <<'EOF'
# Reads a pcap (any byte order, us or ns) and writes the derived bad files.
import struct, sys
src, outdir = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
magic = data[:4]
e = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
header, off, recs = data[:24], 24, []
while off + 16 <= len(data):
    ts, tf, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
    recs.append([ts, tf, incl, orig, bytearray(data[off + 16:off + 16 + incl])])
    off += 16 + incl

def write(name, records, tail=b""):
    with open("%s/%s" % (outdir, name), "wb") as f:
        f.write(header)
        for ts, tf, incl, orig, pkt in records:
            f.write(struct.pack(e + "IIII", ts, tf, incl, orig) + bytes(pkt))
        f.write(tail)
    print("  captures/bad/%s" % name)

# truncated.pcap: the first three packets whole, then the fourth cut in the
# middle (its record header promises more bytes than the file holds).
ts, tf, incl, orig, pkt = recs[3]
write("truncated.pcap", recs[:3], struct.pack(e + "IIII", ts, tf, incl, orig) + bytes(pkt[:incl // 2]))

# ip-header-length-lies.pcap: the handshake's third segment (the ACK) claims
# an IPv4 header of 15 words (60 bytes) though only 52 bytes of IP follow the
# Ethernet header; every other packet is intact.
bad = [list(r) for r in recs]
bad[2][4] = bytearray(bad[2][4])
bad[2][4][14] = 0x4F
write("ip-header-length-lies.pcap", bad)

# zero-length.pcap: a record with caplen 0 and length 0 between the SYN-ACK
# and the ACK of the handshake.
z = [list(r) for r in recs]
z.insert(2, [recs[1][0], recs[1][1], 0, 0, bytearray()])
write("zero-length.pcap", z)

# empty.pcap: a valid file header and no packet at all.
write("empty.pcap", [])
EOF
	# snaplen-60.pcap: a real capture with tcpdump -s 60: 14 + 20 + 20
	# bytes of headers fit, TCP options and payload do not.
	lab_up
	srv_start echo --count 1
	cap_start "$WORK/c.pcap" "$SIF" -s 60
	tl_connect --data 'hello\n' --isn 8000000 --sport 40008 --close client --time-wait 0.5
	srv_wait
	cap_stop
	keep "$WORK/c.pcap" bad/snaplen-60.pcap
}

# ------------------------------------------------------------------- main --

main() {
	local names=("$@") n
	if [ "${1:-}" = --list ]; then
		printf '%s\n' "${ALL[@]}"
		return 0
	fi
	[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, tcpdump, nft): run: sudo bash scripts/make-captures.sh"
	for tool in ip nft tcpdump tshark editcap cc /usr/bin/python3; do
		command -v "$tool" >/dev/null || die "$tool is missing: run: sudo bash scripts/deps.sh"
	done
	make -s -C "$ROOT" tcplab lab >/dev/null || die "the build failed: run make"
	[ ${#names[@]} -gt 0 ] || names=("${ALL[@]}")
	# The pcapng copy and the hand-made bad files are derived from
	# tcplab-echo.pcap: a new one means new derivatives.
	if [[ " ${names[*]} " == *" tcplab-echo "* ]]; then
		[[ " ${names[*]} " == *" pcapng "* ]] || names+=(pcapng)
		[[ " ${names[*]} " == *" bad "* ]] || names+=(bad)
	fi
	for n in "${names[@]}"; do
		declare -F "cap_${n//-/_}" >/dev/null || die "unknown capture '$n' (see --list)"
	done
	WORK=$(mktemp -d /tmp/tlcap.XXXXXX)
	mkdir -p "$OUT"
	for n in "${names[@]}"; do
		echo "$n"
		"cap_${n//-/_}"
		lab_down
	done
}

trap cleanup EXIT
trap 'exit 130' INT TERM HUP
main "$@"
