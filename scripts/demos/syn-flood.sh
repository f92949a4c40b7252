#!/usr/bin/env bash
# syn-flood — a bounded SYN flood (tests/lab/synflood: 200 SYNs in 1 s, at
# this demo's server namespace only, from lab addresses nobody owns) fills a
# listen(5) server's SYN queue; without SYN cookies a real client's SYN goes
# unanswered, with them it gets in, and the cookie shows in the SYN-ACK.
. "$(dirname "$0")/lib.sh"
demo_init syn-flood "$@"
[ -x "$LABDIR/synflood" ] || { echo "demo syn-flood: $LABDIR/synflood is missing: run make lab" >&2; exit 1; }
lab_up
FLOOD_NET=198.18.78.0/24
# the flood's source addresses route back through the client namespace,
# which does not forward: the server's SYN-ACKs to them are never answered
ip -n "$NS_S" route add "$FLOOD_NET" via "$C_ADDR"
# sysctls of the server's namespace only (per-namespace; removed with it)
lab_sysctl server net.ipv4.tcp_syncookies 0
# timestamps without the per-connection random offset, so the SYN-ACK's TS
# value is the kernel's clock and a cookie's low bits can be read
lab_sysctl server net.ipv4.tcp_timestamps 2
lab_server echo --backlog 5 --count 0

tcpext() { # the server namespace's SYN-flood counters
	ip netns exec "$NS_S" cat /proc/net/netstat | awk '
	/^TcpExt:/ && !h { for (i = 2; i <= NF; i++) k[i] = $i; h = 1; next }
	/^TcpExt:/ { for (i = 2; i <= NF; i++)
		if (k[i] ~ /^(SyncookiesSent|SyncookiesRecv|TCPReqQFullDrop|TCPReqQFullDoCookies|ListenDrops)$/)
			printf "%s %s\n", k[i], $i }'
}
counter() { awk -v k="$1" '$1 == k { print $2 }' <<<"$2"; }

say_intro "A SYN flood (RFC 4987) sends SYNs from addresses that will never complete the \
handshake; each one costs the server a half-open connection (SYN-RECEIVED) until its SYN-ACK \
retransmissions give up, about a minute later. The server here is a kernel echo server with \
listen(5). Step 1: the lab's flood helper sends 200 SYNs in one second from 198.18.78.1–254 \
(addresses nobody owns) with SYN cookies off (net.ipv4.tcp_syncookies=0): look at ss — the \
SYN queue holds a handful of half-open connections and refuses the rest. Step 2: tcplab \
connects as a real client: its SYN is dropped like the flood's, retransmitted once, and \
tcplab gives up (exit code 5). Step 3: cookies on (tcp_syncookies=1: used when the queue \
overflows; 2 would use them always): the server answers at once without keeping any state — \
the whole half-open connection is encoded in the SYN-ACK, in its ISN (a keyed hash with a \
minute counter and an MSS index) and in the low 6 bits of its TS value (the client's window \
scale, SACK and ECN; the demo sets net.ipv4.tcp_timestamps=2 in the server's namespace so that \
no random per-connection offset hides them) — and the client gets in."

flood=$(ip netns exec "$NS_C" "$LABDIR/synflood" --dst "$S_ADDR" --port "$PORT" \
	--src-net "$FLOOD_NET" --count 200 --seconds 1)
observe "tests/lab/synflood in the client namespace: 200 SYNs at $S_ADDR:$PORT in at most 1 s" "$flood"
ss_s=$(ip netns exec "$NS_S" ss -tan "( sport = :$PORT )")
synrecv=$(grep -c '^SYN-RECV' <<<"$ss_s" || true)
observe "ss -tan, server namespace: $synrecv half-open connections (SYN-RECV), the SYN queue of listen(5)" \
	"$(head -4 <<<"$ss_s")$([ "$synrecv" -gt 3 ] && printf '\n... (%d SYN-RECV in all)' "$synrecv")"
c0=$(tcpext)

say "Step 2: cookies off, the SYN queue full."
run_connect client "$S_ADDR" "$PORT" --retries 1 --data hello
j1=$LAST_JSON
rc1=$LAST_RC
c1=$(tcpext)

say "Step 3: net.ipv4.tcp_syncookies=1 in the server's namespace, the queue still full."
lab_sysctl server net.ipv4.tcp_syncookies 1
run_connect client "$S_ADDR" "$PORT" --retries 1 --data hello
j2=$LAST_JSON
rc2=$LAST_RC
c2=$(tcpext)
observe "TcpExt counters, server namespace (/proc/net/netstat), at the end" "$c2"
lab_server_stop

sent=$(q <(echo "$flood") 'ev[0]["sent"]')
syns1=$(q "$j1" 'sum(1 for e in segs if e["flags"] == ["SYN"])')
ans1=$(q "$j1" 'sum(1 for e in segs if e["from"] == "server")')
drops=$(( $(counter TCPReqQFullDrop "$c1") - $(counter TCPReqQFullDrop "$c0") ))
est2=$(q "$j2" '"ESTABLISHED" in states("client")')
echo2=$(q "$j2" 'any(e["from"] == "server" and e.get("payload") == "hello" for e in segs)')
cookies_sent=$(( $(counter SyncookiesSent "$c2") - $(counter SyncookiesSent "$c1") ))
cookies_recv=$(( $(counter SyncookiesRecv "$c2") - $(counter SyncookiesRecv "$c1") ))
isn=$(q "$j2" 'next((e["seq"] for e in segs if e["flags"] == ["SYN", "ACK"]), None)')
tsbits=$(q "$j2" 'next((e["options"].get("ts_val", 0) & 63 for e in segs if e["flags"] == ["SYN", "ACK"]), None)')
want=$(q "$j2" 'r = next((e["options"] for e in segs if e["flags"] == ["SYN"]), {})
r = (r.get("wscale", 15)) | (16 if r.get("sack_permitted") else 0)')
wsc=$((tsbits & 15)); sack=$(( (tsbits >> 4) & 1 )); ecn=$(( (tsbits >> 5) & 1 ))
ok=false
[ "$rc1" = 5 ] && [ "$ans1" = 0 ] && [ "$rc2" = 0 ] && [ "$est2" = true ] && [ "$cookies_sent" -ge 1 ] &&
	[ "$cookies_recv" -ge 1 ] && [ "$tsbits" = "$want" ] && ok=true
say_result "The flood helper sent $sent SYNs; the server kept $synrecv of them half-open \
(listen(5) bounds the SYN queue too: Linux lets it hold backlog + 1) and dropped the rest. \
With cookies off, tcplab's SYN was sent $syns1 times and answered $ans1 times \
($drops SYNs dropped for a full queue meanwhile, TCPReqQFullDrop); tcplab exited with code \
$rc1. With cookies on, the server answered at once with a cookie (SyncookiesSent +$cookies_sent), \
tcplab's ACK was accepted as one (SyncookiesRecv +$cookies_recv), the connection was \
$([ "$est2" = true ] && echo established || echo "NOT established") and \"hello\" came back \
$([ "$echo2" = true ] && echo echoed || echo "(not echoed)"). The SYN-ACK's ISN $isn carries the \
cookie (checking it needs the kernel's secret); its TS value ends in the bits $tsbits = \
window scale $wsc, SACK $sack, ECN $ecn — exactly what tcplab's SYN offered ($want), remembered \
by the server in the packet instead of in memory." \
"{\"flood_sent\":$sent,\"syn_recv_after_flood\":$synrecv,\"cookies_off\":{\"exit\":$rc1,\"syns\":$syns1,\"answers\":$ans1,\"reqq_full_drops\":$drops},\"cookies_on\":{\"exit\":$rc2,\"established\":$est2,\"echoed\":$echo2,\"syncookies_sent\":$cookies_sent,\"syncookies_recv\":$cookies_recv,\"synack_isn\":$isn,\"ts_low_bits\":$tsbits,\"expected_ts_low_bits\":$want},\"ok\":$ok}"
$ok
