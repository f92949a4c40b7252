#!/usr/bin/env bash
# old-duplicate-syn — why the handshake has three segments (RFC 9293 §3.5,
# Figure 8): an old SYN arrives first, the server answers it, the client
# (whose own SYN has another ISN) refuses that SYN-ACK with RST, the server
# returns to LISTEN and the real SYN completes.  tcplab connect --old-syn
# against the kernel's echo server.
. "$(dirname "$0")/lib.sh"
demo_init old-duplicate-syn "$@"

lab_up
lab_server echo

say_intro "A SYN from an earlier connection on the same port pair, delayed in the network, \
arrives before the client's real SYN (tcplab connect --old-syn sends that stale SYN, with \
another ISN, and holds its own SYN back as if it were still on its way: the trace shows that \
held SYN first, marked lost on purpose, since it has not reached the server). Look at the server: it \
cannot tell an old SYN from a new one, so it answers it with a SYN-ACK whose ack is the OLD \
ISN + 1 and goes to SYN-RECEIVED. Look at the client: it is in SYN-SENT with a different ISN, so \
that ack acknowledges nothing it sent; it answers <SEQ=that ack><CTL=RST> and stays in SYN-SENT \
(RFC 9293 §3.10.7.3). The RST sends the server back to LISTEN (its kernel's half-open request is \
dropped), and the real SYN then completes the handshake. With a two-way handshake the server's \
SYN-ACK would have been the end of it: the server would have opened a connection for a client \
that no longer wants it, and sent data into it; the third segment is the client's chance to \
say no."

run_connect client "$S_ADDR" "$PORT" --data hello --old-syn
j=$LAST_JSON
lab_server_stop
server_log=$(cat "$WORK/server.jsonl" 2>/dev/null || true)
[ -n "$server_log" ] && observe "the server's log (tests/lab/tcpserver): the connections accept() returned" "$server_log"
accepted=$(printf '%s\n' "$server_log" | grep -c '"accepted":true' || true)

res=$(q "$j" '
syns = [e for e in segs if e["from"] == "client" and e["flags"] == ["SYN"] and not e.get("lost")]
synacks = [e for e in segs if e["from"] == "server" and set(e["flags"]) == {"SYN", "ACK"}]
rsts = [e for e in segs if e["from"] == "client" and "RST" in e["flags"]]
r = {"client_syns_on_wire": len(syns), "distinct_syn_isns": len(set(e["seq"] for e in syns)),
     "synacks": len(synacks), "rsts": len(rsts)}
if len(syns) >= 2 and synacks and rsts:
    old, real = syns[0], syns[-1]
    r["old_isn"], r["real_isn"] = old["seq"], real["seq"]
    r["first_synack_acks_old"] = synacks[0]["ack"] == old["seq"] + 1
    r["rst_seq_is_that_ack"] = rsts[0]["seq"] == synacks[0]["ack"]
    i = ev.index(rsts[0])
    r["client_state_at_rst"] = state_at("client", i)
    j = i + 1
    while j < len(ev) and ev[j].get("event") != "segment":
        j += 1
    r["client_after_rst"] = state_at("client", j)
    r["server_after_rst"] = state_at("server", j)
    r["last_synack_acks_real"] = synacks[-1]["ack"] == real["seq"] + 1
r["client"] = chain("client")
r["server"] = chain("server")
r["established"] = "ESTABLISHED" in states("client") and "ESTABLISHED" in states("server")
r["kernel_server"] = [e["from"] + " → " + e["to"] for e in ev if e.get("event") == "kernel-state" and e["endpoint"] == "server"]
') || res='{"error":"the figures could not be computed from the run"}'
f() { q <(echo "$res") "ev[0].get(\"$1\")"; }
ok=false
if [ "$LAST_RC" = 0 ] && [ "$(f first_synack_acks_old)" = true ] && [ "$(f rst_seq_is_that_ack)" = true ] &&
	[ "$(f client_state_at_rst)" = SYN-SENT ] && [ "$(f client_after_rst)" = SYN-SENT ] &&
	[ "$(f server_after_rst)" = LISTEN ] &&
	[ "$(f last_synack_acks_real)" = true ] && [ "$(f established)" = true ] && [ "$accepted" = 1 ]; then
	ok=true
fi
say_result "Two SYNs from the client's port reached the server: the old one (ISN $(f old_isn)) and \
the real one (ISN $(f real_isn)). The server answered the old one with a SYN-ACK acking ISN+1 of \
the old SYN ($(f first_synack_acks_old)); the client, in $(f client_state_at_rst), answered it with \
RST whose seq is that ack ($(f rst_seq_is_that_ack)) and was still in $(f client_after_rst) after it, \
and the server went back to \
$(f server_after_rst). The real SYN then got its own SYN-ACK and the connection was established \
on both sides ($(f established)); the server's program accept()ed $accepted connection — the old \
SYN never reached it. Client: $(f client). Server: $(f server). A two-way handshake would have \
opened a second, unwanted connection at the server for the old SYN." \
"$(q <(echo "$res") 'dict(ev[0], accepted='"${accepted:-0}"', ok='"$( [ $ok = true ] && echo True || echo False )"')')"
$ok
