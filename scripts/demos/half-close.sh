#!/usr/bin/env bash
# half-close — the client shuts its sending side, the server keeps sending:
# data flows to a client in FIN-WAIT-2 (RFC 9293 §3.6).
. "$(dirname "$0")/lib.sh"
demo_init half-close "$@"
lab_up
# half-close mode: read until the client's FIN, wait 300 ms, send a line,
# then close (tests/lab/tcpserver.c)
lab_server half-close --delay-ms 300

say_intro "半关闭 (half-close): the client sends \"hello\" and then its FIN — shutdown(SHUT_WR) in \
socket terms: \"I have nothing more to send\" — but the connection is not over. Look at the \
client's state after the server ACKs that FIN: FIN-WAIT-2. The server, in CLOSE-WAIT, still \
has something to say: 300 ms later it sends a line of data, and the client, in FIN-WAIT-2, \
receives it and ACKs it. Only then does the server send its own FIN."

run_connect client "$S_ADDR" "$PORT" --data hello
j=$LAST_JSON
lab_server_stop
server_log=$(cat "$WORK/server.jsonl" 2>/dev/null || true)
[ -n "$server_log" ] && observe "the server's log (tests/lab/tcpserver)" "$server_log"

res=$(q "$j" '
r = {"data_in_fw2": 0, "acked_in_fw2": 0, "server_state": None}
for i, e in enumerate(ev):
    if e.get("event") != "segment":
        continue
    if e["from"] == "server" and e["len"] > 0 and state_at("client", i) == "FIN-WAIT-2":
        r["data_in_fw2"] += e["len"]
        r["server_state"] = state_at("server", i)
        end = e["seq"] + e["len"]
        if any(x["from"] == "client" and "ACK" in x["flags"] and x["ack"] == end for x in segs):
            r["acked_in_fw2"] += e["len"]
r["client"] = chain("client")
r["server"] = chain("server")
r["fin_from_client_first"] = next((x["from"] for x in segs if "FIN" in x["flags"]), None) == "client"
r["ok"] = r["data_in_fw2"] > 0 and r["acked_in_fw2"] == r["data_in_fw2"] and r["fin_from_client_first"]
')
got=$(q <(echo "$res") 'ev[0]["data_in_fw2"]')
acked=$(q <(echo "$res") 'ev[0]["acked_in_fw2"]')
sst=$(q <(echo "$res") 'ev[0]["server_state"]')
cst=$(q <(echo "$res") 'ev[0]["client"]')
ok=$(q <(echo "$res") 'ev[0]["ok"]')
say_result "After its FIN the client received $got bytes while in FIN-WAIT-2 (the server was in \
$sst) and acknowledged $acked of them. Client: $cst." "$res"
[ "$LAST_RC" = 0 ] && $ok
