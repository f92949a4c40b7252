#!/usr/bin/env bash
# reset — the kernel server aborts with RST after reading (SO_LINGER 0).
. "$(dirname "$0")/lib.sh"
demo_init reset "$@"
lab_up
lab_server rst

say_intro "The kernel server reads \"hello\" and then closes with SO_LINGER set to zero: an \
abortive close. Look at the last segment from the server: RST instead of FIN. There is no \
teardown handshake and no TIME-WAIT; the client goes straight from ESTABLISHED to CLOSED \
(RFC 9293 §3.10.7.4) and tcplab exits with code 4."

run_connect client "$S_ADDR" "$PORT" --data hello
j=$LAST_JSON
rc=$LAST_RC
lab_server_stop
rst=$(q "$j" 'sum(1 for e in segs if "RST" in e["flags"] and e["from"] == "server")')
cst=$(q "$j" 'chain("client")')
tw=$(q "$j" '"TIME-WAIT" in states("client")')
ok=false
[ "$rc" = 4 ] && [ "$rst" -ge 1 ] && [ "$tw" = false ] && ok=true
say_result "The server sent $rst RST; the client went $cst, without TIME-WAIT, and tcplab \
exited with code $rc (4 = reset)." "{\"server_rsts\":$rst,\"exit\":$rc,\"time_wait\":$tw,\"ok\":$ok}"
$ok
