#!/usr/bin/env bash
# lost-final-ack — why TIME-WAIT lasts 2MSL (RFC 9293 §3.6, §3.10.7.4):
# tcplab's final ACK is lost on purpose (--lose final-ack); the kernel
# server in LAST-ACK resends its FIN and tcplab, in TIME-WAIT, ACKs it
# again.  Then the same with --time-wait 0: the resent FIN meets a closed
# port and draws an RST, seen from the server's side.
. "$(dirname "$0")/lib.sh"
demo_init lost-final-ack "$@"

lab_up

# nstat -asz: absolute counters of the namespace (fresh, so from zero),
# without touching nstat's history file
counter() { ip netns exec "$(ns_of "$1")" nstat -asz "$2" 2>/dev/null | awk -v k="$2" '$1 == k { print $2 }'; }

say_intro "The client (tcplab) closes first; the kernel's echo server answers with its own FIN. \
tcplab builds the last ACK of the teardown — the ACK of the server's FIN — and does not put it \
on the wire (--lose final-ack: marked [lost on purpose]). Look at the server: it stays in \
LAST-ACK, its retransmission timer fires and it sends the same FIN again; tcplab, still in \
TIME-WAIT, answers it with a second ACK and only then does the server reach CLOSED. The second \
run is the same with --time-wait 0, as if the client had not waited: the resent FIN reaches a \
host with no socket for the connection, whose kernel answers with RST — watched from the \
server's end of the link, with the server kernel's own socket states. That is why the side that \
closes first lingers in TIME-WAIT (2MSL; Linux: 60 s): to ACK a FIN resent because its last ACK \
was lost."

lab_server echo
run_connect client "$S_ADDR" "$PORT" --data hello --lose final-ack --time-wait 2
j1=$LAST_JSON
rc1=$LAST_RC
lab_server_stop

say "Now the same, but tcplab leaves TIME-WAIT at once (--time-wait 0). tcplab watch runs at the \
server's end of the link with the server kernel's socket states, and keeps watching after tcplab \
has gone."
lab_server echo
watch_start server --kernel-states tcp port "$PORT"
run_connect client "$S_ADDR" "$PORT" --data hello --lose final-ack --time-wait 0
j2=$LAST_JSON
rc2=$LAST_RC
# the server resends its FIN with back-off until the RST comes (bounded: 8 s)
for _ in $(seq 80); do
	[ -z "$(ip netns exec "$NS_S" ss -Htan state last-ack 2>/dev/null)" ] && break
	sleep 0.1
done
watch_stop
w2=$LAST_JSON
lab_server_stop
rst_c=$(counter client TcpOutRsts || true)
observe "nstat in the client namespace (RSTs its kernel sent, also those tcplab's nftables rule dropped while it ran)" \
	"TcpOutRsts $rst_c"
observe "nstat in the server namespace (segments resent: the FINs; Linux resends a lost FIN by tail loss probe or RTO)" \
	"$(ip netns exec "$NS_S" nstat -asz TcpRetransSegs TcpExtTCPLossProbes TcpExtTCPTimeouts 2>/dev/null | grep -v '^#')"

res=$(q "$j1" '
lost = [e for e in segs if e.get("lost")]
fins = [e for e in segs if e["from"] == "server" and "FIN" in e["flags"]]
acks = [e for e in segs if e["from"] == "client" and e["flags"] == ["ACK"] and fins and e["ack"] == fins[0]["seq"] + 1]
r = {"lost": len(lost), "lost_is_final_ack": bool(lost) and lost[0]["flags"] == ["ACK"] and bool(fins) and lost[0]["ack"] == fins[0]["seq"] + 1,
     "server_fins": len(fins), "fin_retransmitted": len(fins) > 1 and fins[1]["seq"] == fins[0]["seq"],
     "client_acks_of_fin": len(acks), "client": chain("client"), "server": chain("server"),
     "kernel_server": [e["to"] for e in ev if e.get("event") == "kernel-state" and e["endpoint"] == "server"]}
# on the wire, no ACK of the FIN went before its retransmission (also
# true of the text mode, whose figures come from the pcap tcplab wrote)
r["acks_on_wire_before_refin"] = sum(1 for a in acks if not a.get("lost") and len(fins) > 1 and a["t"] < fins[1]["t"])
r["reack_in_time_wait"] = any(a.get("lost") is None and state_at("client", ev.index(a)) == "TIME-WAIT" for a in acks)
') || res='{"error":"the figures could not be computed from the run"}'
res2=$(q "$w2" '
fins = [e for e in segs if e["from"] == "server" and "FIN" in e["flags"]]
rsts = [e for e in segs if e["from"] == "client" and "RST" in e["flags"]]
ks = [e for e in ev if e.get("event") == "kernel-state" and e["endpoint"] == "server"]
r = {"server_fins": len(fins), "rst_from_client": len(rsts),
     "rst_after_fin": bool(rsts) and bool(fins) and rsts[0]["t"] > fins[-1]["t"] - 1e-9,
     "kernel_server": [e["from"] + ">" + e["to"] for e in ks],
     "server_closed_by_rst": bool(rsts) and any(e["from"] == "LAST-ACK" and e["to"] == "CLOSED" and e["t"] >= rsts[0]["t"] - 0.001 for e in ks)}
') || res2='{"error":"the figures could not be computed from the run"}'
f() { q <(echo "$1") "ev[0].get(\"$2\")"; }
ok=false
lost_ok=$(f "$res" lost_is_final_ack)
# text mode: the pcap holds only what reached the wire
[ "$JSON" = 0 ] && [ "$(f "$res" acks_on_wire_before_refin)" = 0 ] && lost_ok=true
if [ "$rc1" = 0 ] && [ "$lost_ok" = true ] && [ "$(f "$res" fin_retransmitted)" = true ] &&
	[ "$(f "$res" acks_on_wire_before_refin)" = 0 ] &&
	[ "$(f "$res" reack_in_time_wait)" = true ] && [ "$(f "$res2" rst_from_client)" -ge 1 ] &&
	[ "$(f "$res2" rst_after_fin)" = true ] && [ "$(f "$res2" server_closed_by_rst)" = true ]; then
	ok=true
fi
say_result "Run 1: tcplab kept the ACK of the server's FIN off the wire (ACKs of that FIN on the \
wire before the FIN came again: $(f "$res" acks_on_wire_before_refin)); \
the server sent its FIN $(f "$res" server_fins) times (the same sequence number: \
$(f "$res" fin_retransmitted)) and tcplab, in TIME-WAIT, acknowledged it again \
($(f "$res" client_acks_of_fin) ACKs of that FIN in all). Client: $(f "$res" client). Server: \
$(f "$res" server). Run 2 (--time-wait 0), seen at the server's end: the server sent its FIN \
$(f "$res2" server_fins) times, and the client's host answered with $(f "$res2" rst_from_client) \
RST; the server kernel's own socket states (tracepoint) end LAST-ACK → CLOSED at that RST \
(closed by the RST: $(f "$res2" server_closed_by_rst)) — a reset, not a clean close. \
Without TIME-WAIT the last ACK cannot be repeated, and the peer's close ends in an error." \
"{\"run1\":$res,\"run2\":$res2,\"client_out_rsts\":$rst_c,\"ok\":$ok}"
$ok
