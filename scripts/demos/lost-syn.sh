#!/usr/bin/env bash
# lost-syn — the first SYN is dropped (nftables, in the server namespace):
# the RFC 6298 retransmission after 1 s.
. "$(dirname "$0")/lib.sh"
demo_init lost-syn "$@"
lab_up
lab_server echo
# numgen inc counts the packets that reach the rule: only the first SYN
# (counter 0) is dropped, at the server's input, as if lost on the wire.
lab_nft server inet tldemo_lost <<NFT
table inet tldemo_lost {
	chain in { type filter hook input priority 0;
		tcp dport $PORT tcp flags & (syn|ack) == syn numgen inc mod 1000000 == 0 counter drop; }
}
NFT

say_intro "A firewall rule in the server's namespace drops the first SYN, as if it were lost \
on the wire. Look at the time column: nothing comes back, and one second later (RFC 6298 §2.1: \
the initial retransmission timeout is 1 s) the client sends the same SYN again — same sequence \
number, marked as a retransmission — and this time the handshake completes."

run_connect client "$S_ADDR" "$PORT" --data hello
j=$LAST_JSON
lab_server_stop
dropped=$(ip netns exec "$NS_S" nft list table inet tldemo_lost | sed -n 's/.*packets \([0-9]*\).*/\1/p')
syns=$(q "$j" 'sum(1 for e in segs if e["flags"] == ["SYN"])')
gap=$(q "$j" '"%.3f" % ([e["t"] for e in segs if e["flags"] == ["SYN"]][1] - [e["t"] for e in segs if e["flags"] == ["SYN"]][0]) if sum(1 for e in segs if e["flags"] == ["SYN"]) > 1 else "none"')
same=$(q "$j" 'len(set(e["seq"] for e in segs if e["flags"] == ["SYN"])) == 1')
est=$(q "$j" '"ESTABLISHED" in states("client")')
ok=false
[ "$LAST_RC" = 0 ] && [ "$syns" = 2 ] && [ "$same" = true ] && [ "${dropped:-0}" = 1 ] && ok=true
say_result "The firewall dropped ${dropped:-0} SYN; the client sent $syns SYNs with \
$([ "$same" = true ] && echo the same || echo different) sequence number, ${gap} s apart, \
and the connection $([ "$est" = true ] && echo "was then established" || echo "never got established")." \
"{\"dropped\":${dropped:-0},\"syns\":$syns,\"gap_s\":\"$gap\",\"same_seq\":$same,\"established\":$est,\"ok\":$ok}"
$ok
