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
     final-ack-lost sll2 pcapng bad
     tso vxlan gre nflog oneway ring gzip tfo mixed-pcapng
     ks-echo ks-server-close ks-half-close ks-rst ks-refused ks-loss ks-ipv6
     ks-simultaneous-close ks-simultaneous-open ks-simultaneous-open-reordered
     tcplab-zero-window)

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

# A kernel client sends 200,000 bytes to a kernel server that reads them
# all; the server's namespace drops every 40th TCP segment it receives, in
# prerouting, after the capture point (nftables numgen: no netem here; the
# client's output hook would see 64 KB GSO buffers, not segments).  The
# capture shows each lost segment once, then the server's duplicate ACKs
# and the client's retransmissions (the marks of tcplab's analysis).
cap_bulk_loss() {
	lab_up
	in_s nft -f - <<EOF
table inet tlcap {
	chain pre {
		type filter hook prerouting priority -300; policy accept;
		tcp dport $PORT numgen inc mod 40 == 20 counter drop
	}
}
EOF
	cap_start "$WORK/c.pcap"
	sink_start 0 0
	in_c /usr/bin/python3 -c "$PY_SEND" "$SIP" "$PORT" 200000
	sink_wait 200000
	cap_stop
	echo "  nft rule dropped $(in_s nft list table inet tlcap | sed -n 's/.*counter packets \([0-9]*\) .*/\1/p') segments"
	keep "$WORK/c.pcap" bulk-loss.pcap
}

# A kernel server with a tiny receive buffer (SO_RCVBUF 2048 before
# listen) that waits 1 s before it reads: its window closes (zero window),
# the client's kernel probes it (Linux probes with a segment one below the
# next sequence number), then the server reads and opens the window again
# (window update).  60,000 bytes.
cap_zero_window() {
	lab_up
	cap_start "$WORK/c.pcap"
	sink_start 2048 1000
	in_c /usr/bin/python3 -c "$PY_SEND" "$SIP" "$PORT" 60000
	sink_wait 60000
	cap_stop
	keep "$WORK/c.pcap" zero-window.pcap
}

# tcplab's own sender meets a zero window: 40,000 bytes (--data-file) to a
# kernel sink with a 16 KB receive buffer that waits 1 s before reading.
# tcplab probes with one byte at the next sequence number (RFC 9293
# §3.8.6.1: the same byte each time, the persist timer backing off), the
# window update comes when the server reads, and the data after it starts
# with the probe's byte: new data, not a retransmission (tshark agrees).
cap_tcplab_zero_window() {
	lab_up
	/usr/bin/python3 -c 'import sys
sys.stdout.write("".join("line %05d of the flow-control capture\n" % i for i in range(1000)))' >"$WORK/data.txt"
	srv_start sink --count 1 --rcvbuf 16384 --pause-ms 1000
	cap_start "$WORK/c.pcap"
	tl_connect --data-file "$WORK/data.txt" --isn 9000000 --sport 40009 --close client --time-wait 0.5
	srv_wait
	cap_stop
	keep "$WORK/c.pcap" tcplab-zero-window.pcap
}

# sink_start RCVBUF PAUSE_MS: the sink server in the server namespace.
sink_start() {
	: >"$WORK/sink.out"
	bg ip netns exec "$SNS" /usr/bin/python3 -c "$PY_SINK" "$SIP" "$PORT" "$1" "$2" >"$WORK/sink.out"
	SINK_PID=$LAST
	wait_for_line "$WORK/sink.out" "^ready"
}

# sink_wait BYTES: waits for the sink and checks it read BYTES bytes.
sink_wait() {
	reap "$SINK_PID" || die "the sink server failed"
	grep -qx "$1" "$WORK/sink.out" || die "the sink read $(tail -1 "$WORK/sink.out"), expected $1"
}

# The sink server: ADDR PORT RCVBUF PAUSE_MS.  Accepts one connection,
# waits PAUSE_MS, reads to EOF, closes, prints the byte count.  RCVBUF 0
# keeps the default.
PY_SINK='
import socket, sys, time
addr, port, rcvbuf, pause = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if rcvbuf:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
s.bind((addr, port))
s.listen(1)
s.settimeout(20)
print("ready", flush=True)
c, _ = s.accept()
c.settimeout(20)
time.sleep(pause / 1000.0)
n = 0
while True:
    b = c.recv(65536)
    if not b:
        break
    n += len(b)
c.close()
print(n, flush=True)
'

# The sender: ADDR PORT BYTES.  Connects, sends BYTES bytes, shuts down,
# waits for the server to close.
PY_SEND='
import socket, sys
addr, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((addr, port), timeout=20)
s.sendall(bytes(i % 251 for i in range(n)))
s.shutdown(socket.SHUT_WR)
while s.recv(65536):
    pass
s.close()
'
# ---------------------------------------------- issue 13: real-world inputs --

# cap_start_in NS IFACE FILE FILTER [tcpdump args...]: like cap_start, in
# any namespace, on any interface, with any filter (tunnels are UDP).
cap_start_in() {
	local ns=$1 ifc=$2 file=$3 filter=$4
	shift 4
	: >"$WORK/tcpdump.err"
	# shellcheck disable=SC2086  # the filter is words
	local prec=(--time-stamp-precision=nano)
	[[ $ifc == nflog:* ]] && prec=()      # NFLOG gives microseconds only
	bg ip netns exec "$ns" tcpdump -i "$ifc" -n -Z root -w "$file" -s 2048 "${prec[@]}" \
		--immediate-mode -U "$@" $filter 2>"$WORK/tcpdump.err"
	CAP_PID=$LAST
	wait_for_line "$WORK/tcpdump.err" "listening on"
}

# tx_on NS IFACE: turns transmit checksum offload, TSO and scatter-gather
# back on (lab_up turned checksum offload off), through SIOCETHTOOL.
tx_on() {
	ip netns exec "$1" /usr/bin/python3 - "$2" <<'PY'
import ctypes, fcntl, socket, struct, sys
SIOCETHTOOL = 0x8946
for cmd in (0x17, 0x1f, 0x19):   # ETHTOOL_STXCSUM, ETHTOOL_STSO, ETHTOOL_SSG
    val = ctypes.create_string_buffer(struct.pack("II", cmd, 1))
    ifr = struct.pack("16sP", sys.argv[1].encode(), ctypes.addressof(val)).ljust(40, b"\0")
    with socket.socket() as s:
        try:
            fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifr)
        except OSError:
            pass
PY
}

# Segmentation offload left on, captured on the sending host: the kernel
# hands the capture segments of up to 64 KiB (far above the veth's 1500-byte
# MTU), over IPv4 and IPv6.  The snapshot length keeps 200 bytes of each:
# the file stays small, the lengths on the wire are real.  (With BIG TCP's
# larger GSO size on the veth, this kernel sent IPv6 segments past 64 KiB,
# but the packet socket did not hand them to tcpdump: the payload-length-0
# and jumbogram paths are covered by the unit tests, not by a capture.)
cap_tso() {
	lab_up
	tx_on "$CNS" "$CIF"
	tx_on "$SNS" "$SIF"
	bg ip netns exec "$SNS" "$LAB/tcpserver" --addr :: --port "$PORT" --mode echo --count 2 \
		--log "$WORK/srv.log" >"$WORK/srv.out"
	SRV_PID=$LAST
	wait_for_line "$WORK/srv.out" "^ready"
	cap_start_in "$CNS" "$CIF" "$WORK/c.pcap" tcp -s 200
	ip netns exec "$CNS" /usr/bin/python3 - "$SIP" "$PORT" "$SIP6" <<'PY'
import socket, sys
for fam, host in ((socket.AF_INET, "::ffff:" + sys.argv[1]), (socket.AF_INET6, sys.argv[3])):
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.connect((host, int(sys.argv[2])))
    s.sendall(b"x" * 300000)
    s.shutdown(socket.SHUT_WR)
    got = 0
    while True:
        d = s.recv(65536)
        if not d:
            break
        got += len(d)
    s.close()
    assert got == 300000, got
PY
	srv_wait
	cap_stop
	keep "$WORK/c.pcap" tso.pcap
}

# A VXLAN tunnel (VNI 42, UDP 4789) over the veth; a kernel client and
# server talk across it (198.19.0.1 → 198.19.0.2); the capture on the veth
# holds the outer Ethernet/IPv4/UDP/VXLAN headers.
cap_vxlan() {
	lab_up
	in_c ip link add tlvx0 address 02:00:00:00:01:01 type vxlan id 42 remote "$SIP" local "$CIP" dstport 4789 dev "$CIF"
	in_s ip link add tlvx0 address 02:00:00:00:01:02 type vxlan id 42 remote "$CIP" local "$SIP" dstport 4789 dev "$SIF"
	in_c ip addr add 198.19.0.1/24 dev tlvx0
	in_s ip addr add 198.19.0.2/24 dev tlvx0
	in_c ip neigh replace 198.19.0.2 lladdr 02:00:00:00:01:02 dev tlvx0 nud permanent
	in_s ip neigh replace 198.19.0.1 lladdr 02:00:00:00:01:01 dev tlvx0 nud permanent
	in_c ip link set tlvx0 up
	in_s ip link set tlvx0 up
	bg ip netns exec "$SNS" "$LAB/tcpserver" --addr 198.19.0.2 --port "$PORT" --mode echo --count 1 \
		--log "$WORK/srv.log" >"$WORK/srv.out"
	SRV_PID=$LAST
	wait_for_line "$WORK/srv.out" "^ready"
	cap_start_in "$SNS" "$SIF" "$WORK/c.pcap" "udp port 4789"
	in_c "$LAB/tcpclient" --addr 198.19.0.2 --port "$PORT" --send 'hello over VXLAN' --expect-echo >/dev/null
	srv_wait
	cap_stop
	keep "$WORK/c.pcap" vxlan.pcap
}

# GRE: this project's kernels have no ip_gre, gretap or erspan modules, so
# no GRE device can be made in the lab.  The GRE capture is the VXLAN
# capture's inner Ethernet frames re-encapsulated by this script, as a
# keyed, sequenced gretap (odd packets) and an ERSPAN type II session (even
# packets) would carry them: the connection is the lab's real one, the GRE
# headers are written here (tshark decodes the same segments through them:
# tests/integration/test_tshark_count.py).
cap_gre() {
	[ -f "$OUT/vxlan.pcap" ] || cap_vxlan
	/usr/bin/python3 - "$OUT/vxlan.pcap" "$WORK/c.pcap" <<'PY'
import struct, sys
src, dst = sys.argv[1], sys.argv[2]
data = open(src, "rb").read()
e = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
out = [data[:24]]
off, n = 24, 0

def csum(h):
    s = sum(struct.unpack("!10H", h))
    s = (s & 0xffff) + (s >> 16)
    s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

while off + 16 <= len(data):
    ts, tf, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
    pkt = data[off + 16:off + 16 + incl]
    off += 16 + incl
    inner = pkt[14 + 20 + 8 + 8:]          # after Ethernet / IPv4 / UDP / VXLAN
    n += 1
    if n % 2:   # gretap: key 42 and a sequence number (RFC 2890)
        gre = struct.pack("!HHII", 0x3000, 0x6558, 42, n)
    else:       # ERSPAN type II: a sequence number, then the 8-byte ERSPAN header (session 7)
        gre = struct.pack("!HHI", 0x1000, 0x88be, n) + struct.pack("!HHI", 0x1000, 0x0007, 0)
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(gre) + len(inner), n, 0x4000, 64, 47, 0,
                     bytes([198, 18, 0, 1]), bytes([198, 18, 0, 2]))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    frame = pkt[:14] + ip + gre + inner
    out.append(struct.pack(e + "IIII", ts, tf, len(frame), len(frame)) + frame)
open(dst, "wb").write(b"".join(out))
PY
	keep "$WORK/c.pcap" gre.pcap
}

# NFLOG: nftables logs every TCP packet of the server namespace to netlink
# group 5; tcpdump -i nflog:5 records them (link type NFLOG, 239).
cap_nflog() {
	lab_up
	in_s nft -f - <<NFT
table inet tlcap {
	chain in { type filter hook input priority 0; policy accept; tcp dport $PORT log group 5; }
	chain out { type filter hook output priority 0; policy accept; tcp sport $PORT log group 5; }
}
NFT
	srv_start echo --count 1
	cap_start_in "$SNS" nflog:5 "$WORK/c.pcap" ""
	in_c "$LAB/tcpclient" --addr "$SIP" --port "$PORT" --send 'hello via NFLOG' --expect-echo >/dev/null
	srv_wait
	sleep 1.5     # nfnetlink_log batches messages for up to 1 s before sending them
	cap_stop
	keep "$WORK/c.pcap" nflog.pcap
}

# One direction only: tcpdump keeps the client's segments alone (as a
# `src host` filter or asymmetric routing would).
cap_oneway() {
	lab_up
	srv_start echo --count 1
	cap_start_in "$SNS" "$SIF" "$WORK/c.pcap" "tcp and src host $CIP"
	in_c "$LAB/tcpclient" --addr "$SIP" --port "$PORT" --send 'one way' --expect-echo >/dev/null
	srv_wait
	cap_stop
	keep "$WORK/c.pcap" oneway.pcap
}

# A ring of files: tcpdump -G 1 starts a new file every second (this
# tcpdump's -C counts millions of bytes: too big for a small capture); a
# kernel client pauses 1.2 s between its two messages, so the connection
# spans three files.  They are renamed ring/ring-0.pcap... in time order.
cap_ring() {
	local i=0 f
	lab_up
	srv_start echo --count 1
	mkdir -p "$WORK/ring" "$OUT/ring"
	rm -f "$OUT"/ring/ring-*.pcap
	cap_start_in "$SNS" "$SIF" "$WORK/ring/ring-%s.pcap" tcp -G 1
	ip netns exec "$CNS" /usr/bin/python3 - "$SIP" "$PORT" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
for part in (b"hello, ", b"ring of files"):
    s.sendall(part)
    time.sleep(1.2)
s.shutdown(socket.SHUT_WR)
while s.recv(100):
    pass
s.close()
PY
	srv_wait
	cap_stop
	for f in $(ls "$WORK"/ring/ring-*.pcap | sort -t- -k2 -n); do
		keep "$f" "ring/ring-$i.pcap"
		i=$((i + 1))
	done
}

# A gzip-compressed capture: kernel-echo.pcap through gzip -9.
cap_gzip() {
	[ -f "$OUT/kernel-echo.pcap" ] || cap_kernel_echo
	gzip -9 -n -c "$OUT/kernel-echo.pcap" >"$WORK/c.pcap.gz"
	keep "$WORK/c.pcap.gz" kernel-echo.pcap.gz
	# a compressed stream cut in the middle (a download that stopped)
	mkdir -p "$OUT/bad"
	head -c 250 "$OUT/kernel-echo.pcap.gz" >"$WORK/cut.pcap.gz"
	keep "$WORK/cut.pcap.gz" bad/cut.pcap.gz
}

# TCP Fast Open (RFC 7413): net.ipv4.tcp_fastopen=3 in both namespaces (each
# namespace's own sysctl, gone with it); the first connection asks for a
# cookie, the second sends "hello TFO" on its SYN with the cookie.
cap_tfo() {
	lab_up
	in_c sysctl -qw net.ipv4.tcp_fastopen=3
	in_s sysctl -qw net.ipv4.tcp_fastopen=3
	cap_start "$WORK/c.pcap"
	: >"$WORK/srv.out"
	bg ip netns exec "$SNS" /usr/bin/python3 -c '
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(4)
print("ready", flush=True)
for _ in range(2):
    c, _ = s.accept()
    c.sendall(c.recv(100))
    c.recv(100)
    c.close()
' "$SIP" "$PORT" >"$WORK/srv.out"
	SRV_PID=$LAST
	wait_for_line "$WORK/srv.out" "^ready"
	ip netns exec "$CNS" /usr/bin/python3 - "$SIP" "$PORT" <<'PY'
import socket, sys, time
for i in range(2):
    s = socket.socket()
    s.sendto(b"hello TFO", socket.MSG_FASTOPEN, (sys.argv[1], int(sys.argv[2])))
    assert s.recv(100) == b"hello TFO"
    s.shutdown(socket.SHUT_WR)
    s.recv(100)
    s.close()
    time.sleep(0.1)
PY
	srv_wait
	cap_stop
	keep "$WORK/c.pcap" tfo.pcap
}

# pcapng with interfaces of different link types: the NFLOG capture and the
# one-direction Ethernet capture of the lab, merged by mergecap into one
# file (one interface of each type).
cap_mixed_pcapng() {
	[ -f "$OUT/nflog.pcap" ] || cap_nflog
	[ -f "$OUT/oneway.pcap" ] || cap_oneway
	mergecap -F pcapng -w "$WORK/c.pcapng" "$OUT/nflog.pcap" "$OUT/oneway.pcap"
	keep "$WORK/c.pcapng" mixed-links.pcapng
}

# ------------------------------------- kernel-to-kernel, with kernel states --
#
# captures/kernel-states/NAME.pcap, and beside it NAME.kstates.jsonl: the
# transitions the kernel itself reported for both sockets (tracepoint
# sock:inet_sock_set_state), recorded during the capture by
# `tcplab watch -i $SIF --kernel-states --json` at the same capture point as
# tcpdump and kept as its "kernel-state" events (conn numbers as `tcplab
# replay` numbers the connections of the pcap).  tests/integration/
# test_kernel_states.py replays each pcap and compares.

KS_DIR=kernel-states

# ks_start: the kernel-state recorder (tcplab watch) in the server namespace.
ks_start() {
	bg ip netns exec "$SNS" "$TCPLAB" watch -i "$SIF" --kernel-states --json tcp >"$WORK/ks.out" 2>"$WORK/ks.err"
	KS_PID=$LAST
	sleep 1   # the instance and the capture are set up (watch prints nothing before traffic)
}

# ks_stop NAME: stops the recorder (SIGINT: it emits what it holds and
# removes its tracing instance) and keeps its kernel-state events.
ks_stop() {
	sleep 0.5
	kill -INT "$KS_PID"
	reap "$KS_PID" || true
	mkdir -p "$OUT/$KS_DIR"
	# each kernel-state line as watch printed it, plus "time": the absolute
	# time on the capture clock (seconds since the epoch, as pcap timestamps),
	# from watch's own time base (its first connection's start - t), and
	# "socket": the socket's own address:port (roles follow the first SYN a
	# capture saw, and two captures of crossing SYNs may disagree on it)
	/usr/bin/python3 - "$WORK/ks.out" >"$OUT/$KS_DIR/$1.kstates.jsonl" <<'PY'
import json, sys
lines = [l.rstrip("\n") for l in open(sys.argv[1]) if l.startswith("{")]
base, ends = None, {}
for l in lines:
    e = json.loads(l)
    if e["event"] == "connection":
        ends[e["conn"]] = e
        if base is None:
            base = e["start"] - e["t"]
for l in lines:
    e = json.loads(l)
    if e["event"] == "kernel-state" and base is not None:
        print(l[:-1] + ',"time":%.6f,"socket":"%s"}' % (base + e["t"], ends[e["conn"]][e["endpoint"]]))
PY
	[ -s "$OUT/$KS_DIR/$1.kstates.jsonl" ] || die "no kernel state recorded for $1: $(cat "$WORK/ks.err")"
	chmod 0644 "$OUT/$KS_DIR/$1.kstates.jsonl"
	echo "  ${OUT#"$ROOT"/}/$KS_DIR/$1.kstates.jsonl: $(wc -l <"$OUT/$KS_DIR/$1.kstates.jsonl") kernel transitions"
}

# ks_run NAME MODE CLIENT-ARGS...: tcpserver MODE against tcpclient.
ks_run() {
	local name=$1 mode=$2
	shift 2
	mkdir -p "$OUT/$KS_DIR"
	lab_up
	srv_start "$mode" --count 1 --delay-ms 100 ${KS_SRV_ADDR:+--addr "$KS_SRV_ADDR"}
	cap_start "$WORK/c.pcap"
	ks_start
	in_c "$LAB/tcpclient" --addr "${KS_SRV_ADDR:-$SIP}" --port "$PORT" "$@" >/dev/null || true
	srv_wait
	ks_stop "$name"
	cap_stop
	keep "$WORK/c.pcap" "$KS_DIR/$name.pcap"
}

cap_ks_echo() { ks_run ks-echo echo --send 'hello' --expect-echo; }
cap_ks_server_close() { ks_run ks-server-close close-first --send 'hello' --no-shutdown; }
cap_ks_half_close() { ks_run ks-half-close half-close --send 'hello'; }
cap_ks_rst() { ks_run ks-rst rst --send 'hello' --no-shutdown; }
cap_ks_ipv6() { KS_SRV_ADDR=$SIP6 ks_run ks-ipv6 echo --send 'hello over IPv6' --expect-echo; }

# Nobody listens: the client's socket goes SYN-SENT → CLOSE on the RST.
cap_ks_refused() {
	mkdir -p "$OUT/$KS_DIR"
	lab_up
	cap_start "$WORK/c.pcap"
	ks_start
	in_c "$LAB/tcpclient" --addr "$SIP" --port "$PORT" --send 'hello' >/dev/null || true
	ks_stop ks-refused
	cap_stop
	keep "$WORK/c.pcap" "$KS_DIR/ks-refused.pcap"
}

# 15 % of TCP packets dropped at random on each namespace's output hook,
# before tcpdump's tap: the capture holds exactly what was delivered.  Three
# connections, one after the other, with 3000 bytes each way.
cap_ks_loss() {
	local ns
	mkdir -p "$OUT/$KS_DIR"
	lab_up
	for ns in "$CNS" "$SNS"; do
		printf '%s\n' "table inet tlcap {" " chain out {" \
			"  type filter hook output priority -300; policy accept;" \
			"  meta l4proto tcp numgen random mod 100 < 15 counter drop" " }" "}" |
			ip netns exec "$ns" nft -f -
	done
	srv_start echo --count 3
	cap_start "$WORK/c.pcap"
	ks_start
	in_c "$LAB/tcpclient" --addr "$SIP" --port "$PORT" --send "$(head -c 3000 /dev/zero | tr '\0' x)" \
		--count 3 --expect-echo --timeout-ms 30000 >/dev/null || true
	srv_wait
	sleep 5   # a lost last ACK or FIN is retransmitted (RTO 200 ms and more): let the sockets finish
	ks_stop ks-loss
	cap_stop
	keep "$WORK/c.pcap" "$KS_DIR/ks-loss.pcap"
}

# Both ends shut down at once (scripts/simclose.c) until the FINs cross.
cap_ks_simultaneous_close() {
	local try
	mkdir -p "$OUT/$KS_DIR"
	cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -o "$WORK/simclose" "$ROOT/scripts/simclose.c" -lpthread
	for ((try = 1; try <= 50; try++)); do
		lab_up
		cap_start "$WORK/c.pcap"
		ks_start
		"$WORK/simclose" "$CNS" "$SNS" "$SIP" "$PORT"
		ks_stop ks-simultaneous-close
		cap_stop
		if [ "$(fins_crossed "$WORK/c.pcap")" = yes ]; then
			echo "  FINs crossed on try $try"
			keep "$WORK/c.pcap" "$KS_DIR/ks-simultaneous-close.pcap"
			return 0
		fi
		rm -f "$WORK/c.pcap"
	done
	die "no simultaneous close in 50 tries"
}

# Both ends connect() to each other at once (scripts/simopen.c): the SYNs
# cross.  ks_simopen NAME N: repeated until both SYNs precede any SYN-ACK on
# the wire and N sockets went SYN-SENT → SYN-RECEIVED (2: the textbook case,
# RFC 9293 Figure 12; 1: one end met the peer's SYN-ACK before its SYN, which
# a veth can deliver in either order from two CPUs' backlogs).
ks_simopen() {
	local name=$1 want=$2 try ns ok
	mkdir -p "$OUT/$KS_DIR"
	cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -O2 -o "$WORK/simopen" "$ROOT/scripts/simopen.c" -lpthread
	for ((try = 1; try <= 100; try++)); do
		lab_up
		# Each end's first SYN is dropped on its output hook (before the
		# wire and the capture): both sockets sit in SYN-SENT, hashed, and
		# their retransmission timers, armed in the same jiffy on two CPUs,
		# fire together 1 s later, so the retransmitted SYNs can cross.
		for ns in "$CNS" "$SNS"; do
			printf '%s\n' "table inet tlcap {" " chain out {" \
				"  type filter hook output priority -300; policy accept;" \
				"  tcp flags & (syn|ack) == syn numgen inc mod 1000000 == 0 counter drop" " }" "}" |
				ip netns exec "$ns" nft -f -
		done
		cap_start "$WORK/c.pcap"
		ks_start
		ok=no
		"$WORK/simopen" "$CNS" "$SNS" "$CIP" "$SIP" "$PORT" 2>/dev/null && ok=yes
		ks_stop "$name"
		cap_stop
		if [ $ok = yes ] && [ "$(tshark -r "$WORK/c.pcap" -Y 'tcp.flags.syn == 1' -T fields -e tcp.flags.ack 2>/dev/null |
			head -2 | tr -d '\n')" = "00" ] &&
			[ "$(grep -c '"kernel":"TCP_SYN_RECV"' "$OUT/$KS_DIR/$name.kstates.jsonl")" = "$want" ]; then
			echo "  SYNs crossed on try $try"
			keep "$WORK/c.pcap" "$KS_DIR/$name.pcap"
			return 0
		fi
		rm -f "$WORK/c.pcap"
	done
	die "no simultaneous open of that kind in 100 tries"
}

cap_ks_simultaneous_open() { ks_simopen ks-simultaneous-open 2; }
cap_ks_simultaneous_open_reordered() { ks_simopen ks-simultaneous-open-reordered 1; }

# ------------------------------------------------------------------- main --

main() {
	local names=("$@") n
	if [ "${1:-}" = --list ]; then
		printf '%s\n' "${ALL[@]}"
		return 0
	fi
	[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, tcpdump, nft): run: sudo bash scripts/make-captures.sh"
	for tool in ip nft tcpdump tshark editcap mergecap gzip cc /usr/bin/python3; do
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
