#!/usr/bin/env bash
# backlog — what listen(5) bounds on Linux: the accept queue of completed
# connections, not half-open ones.  A kernel server listens with backlog 5
# and never calls accept(); eight kernel clients connect one after another.
. "$(dirname "$0")/lib.sh"
demo_init backlog "$@"
lab_up
# the last client's SYN is never answered: give up after 2 retransmissions
# (1 + 2 + 4 s) rather than 127 s (per namespace, removed with it)
lab_sysctl client net.ipv4.tcp_syn_retries 2
lab_server no-accept --backlog 5 --count 0

say_intro "Tutorials write s.listen(5) and say \"at most 5 half-open connections\". Here a kernel \
server calls listen(5) and never calls accept(), and eight kernel clients (connect() from bash's \
/dev/tcp) connect one after another while tcplab watches the server's end. Look at three things. \
(1) Clients 1–5 complete their handshakes without the server program doing anything: the kernel \
finishes the handshake and puts the connection in the accept queue. (2) Client 6's handshake \
ACK is held back (dropped once by a firewall rule: on a real network it would simply arrive \
late), and client 7 completes meanwhile: the queue now holds 6 — Linux admits backlog + 1. \
When client 6's ACK finally gets through, the queue is full: the kernel drops it, so client 6 \
believes it is ESTABLISHED (connect() returned) while the server keeps it in SYN-RECEIVED and \
resends its SYN-ACK (tcplab's trace, inferred from segments alone, moves the server to \
ESTABLISHED on the ACK it saw: the kernel's own view, from ss, says otherwise). (3) Client 8's \
SYN arrives at a full queue and is dropped without an answer, and retransmitted."

watch_start server tcp port "$PORT"
qlen() { ip netns exec "$NS_S" ss -Hltn "sport = :$PORT" | awk '{print $2}'; }
client() { # N: a kernel client that connects and keeps the connection open
	lab_bg client bash -c "exec 3<>/dev/tcp/$S_ADDR/$PORT && sleep 60" 2>/dev/null
	CLIENT_PIDS+=("$BG_PID")
}
CLIENT_PIDS=()
for i in 1 2 3 4 5; do
	client "$i"
	# wait until the kernel has queued it (ss: the listener's Recv-Q)
	for _ in $(seq 200); do [ "$(qlen)" = "$i" ] && break; sleep 0.02; done
done
# client 6's first pure ACK to the port (its handshake ACK) is dropped once
lab_nft server inet tldemo_backlog <<NFT
table inet tldemo_backlog {
	chain in { type filter hook input priority 0;
		tcp dport $PORT tcp flags == ack numgen inc mod 1000000 == 0 counter drop; }
}
NFT
client 6
sleep 0.3
client 7
for _ in $(seq 200); do [ "$(qlen)" = 6 ] && break; sleep 0.02; done
client 8
sleep 3.6    # client 6's SYN-ACK is resent after 1 s and 3 s; client 8's SYN every second

linear=$(ip netns exec "$NS_C" sysctl -n net.ipv4.tcp_syn_linear_timeouts 2>/dev/null || true)
ss_s=$(ip netns exec "$NS_S" ss -tan "( sport = :$PORT )")
ss_c=$(ip netns exec "$NS_C" ss -tan "( dport = :$PORT )")
netstat_s=$(ip netns exec "$NS_S" cat /proc/net/netstat | awk '
	/^TcpExt:/ && !h { for (i = 2; i <= NF; i++) k[i] = $i; h = 1; next }
	/^TcpExt:/ { for (i = 2; i <= NF; i++) if (k[i] == "ListenOverflows" || k[i] == "ListenDrops") printf "%s %s\n", k[i], $i }')
watch_stop
for pid in "${CLIENT_PIDS[@]}"; do lab_stop "$pid"; done
observe "ss -tan, server namespace (the kernel's view)" "$ss_s"
observe "ss -tan, client namespace" "$ss_c"
observe "TcpExt counters, server namespace (/proc/net/netstat)" "$netstat_s"

j=$LAST_JSON
recvq=$(awk '$1 == "LISTEN" { print $2 }' <<<"$ss_s")
sendq=$(awk '$1 == "LISTEN" { print $3 }' <<<"$ss_s")
s_est=$(grep -c '^ESTAB' <<<"$ss_s" || true)
s_synrecv=$(grep -c '^SYN-RECV' <<<"$ss_s" || true)
c_est=$(grep -c '^ESTAB' <<<"$ss_c" || true)
c_synsent=$(grep -c '^SYN-SENT' <<<"$ss_c" || true)
overflows=$(awk '$1 == "ListenOverflows" { print $2 }' <<<"$netstat_s")
synacks6=$(q "$j" 'sum(1 for e in segs if e["conn"] == 6 and e["flags"] == ["SYN", "ACK"])')
acks6=$(q "$j" 'sum(1 for e in segs if e["conn"] == 6 and e["from"] == "client" and e["flags"] == ["ACK"])')
syns8=$(q "$j" 'sum(1 for e in segs if e["conn"] == 8 and e["flags"] == ["SYN"])')
t6=$(q "$j" '", ".join("%.1f" % (e["t"] - f[0]) for f in [[x["t"] for x in segs if x["conn"] == 6 and x["flags"] == ["SYN", "ACK"]]] for e in segs if e["conn"] == 6 and e["flags"] == ["SYN", "ACK"])')
t8=$(q "$j" '", ".join("%.1f" % (e["t"] - f[0]) for f in [[x["t"] for x in segs if x["conn"] == 8 and x["flags"] == ["SYN"]]] for e in segs if e["conn"] == 8 and e["flags"] == ["SYN"])')
answers8=$(q "$j" 'sum(1 for e in segs if e["conn"] == 8 and e["from"] == "server")')
done7=$(q "$j" 'any(e["conn"] == 7 and e["from"] == "client" and e["flags"] == ["ACK"] for e in segs)')
ok=false
[ "$recvq" = 6 ] && [ "$s_synrecv" = 1 ] && [ "$synacks6" -ge 2 ] && [ "$syns8" -ge 2 ] &&
	[ "$answers8" = 0 ] && [ "$c_est" = 7 ] && ok=true
say_result "The listener's accept queue (ss: Recv-Q $recvq, backlog Send-Q $sendq) filled with \
$s_est completed connections that no accept() ever took — clients 1–5 and 7: backlog + 1. \
Client 6 sent $acks6 ACKs and the server sent it $synacks6 SYN-ACKs (at $t6 s: the \
SYN-ACK timer doubles from 1 s): the client's kernel lists \
$c_est connections as ESTAB, but the server's kernel keeps $s_synrecv in SYN-RECV because \
there was no room to complete it. Client 8 sent $syns8 SYNs (at $t8 s$([ -n "$linear" ] && [ "$linear" != 0 ] &&
	echo ": this kernel resends a SYN every second the first $linear times, net.ipv4.tcp_syn_linear_timeouts, \
then doubles")) and got $answers8 answers \
($c_synsent connection still in SYN-SENT); the kernel counted ${overflows:-?} listen \
overflows. So listen(5) bounds the queue of connections waiting for accept(), not \
half-open ones: when it is full Linux drops new SYNs and final ACKs and lets the \
retransmissions try again later (net.ipv4.tcp_abort_on_overflow=1 would answer with RST \
instead)." \
"{\"accept_queue\":${recvq:-null},\"backlog\":${sendq:-null},\"server_established\":$s_est,\"server_syn_recv\":$s_synrecv,\"client_established\":$c_est,\"client_syn_sent\":$c_synsent,\"synacks_to_client6\":$synacks6,\"acks_from_client6\":$acks6,\"syns_from_client8\":$syns8,\"answers_to_client8\":$answers8,\"client7_completed\":$done7,\"listen_overflows\":${overflows:-null},\"ok\":$ok}"
$ok
