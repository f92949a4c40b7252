#!/usr/bin/env bash
# server-close — the kernel server closes first: tcplab's client goes
# CLOSE-WAIT → LAST-ACK (the passive close, RFC 9293 §3.6 case 1 mirrored).
. "$(dirname "$0")/lib.sh"
demo_init server-close "$@"
lab_up
lab_server close-first

say_intro "This time the kernel server closes first, 200 ms after the handshake. Look at who \
sends the first FIN and at the client's states: it is now the client that goes ESTABLISHED → \
CLOSE-WAIT (the peer has closed, the application has not yet) → LAST-ACK, and the server that \
ends in TIME-WAIT — TIME-WAIT always lands on whoever closed first."

run_connect client "$S_ADDR" "$PORT" --close server
j=$LAST_JSON
lab_server_stop

first_fin=$(q "$j" 'next((e["from"] for e in segs if "FIN" in e["flags"]), "nobody")')
cst=$(q "$j" 'chain("client")')
sst=$(q "$j" 'chain("server")')
cw=$(q "$j" '"CLOSE-WAIT" in states("client") and "LAST-ACK" in states("client")')
ok=false
[ "$LAST_RC" = 0 ] && [ "$first_fin" = server ] && [ "$cw" = true ] && ok=true
say_result "The first FIN came from the $first_fin. Client: $cst. Server: $sst." \
"{\"first_fin\":\"$first_fin\",\"client_close_wait_last_ack\":$cw,\"ok\":$ok}"
$ok
