#!/usr/bin/env bash
# refused — nothing listens on the port: the SYN is answered with RST.
. "$(dirname "$0")/lib.sh"
demo_init refused "$@"
lab_up

say_intro "No program listens on port $PORT of the server. Look at the answer to the SYN: \
not a SYN-ACK but RST,ACK (RFC 9293 §3.10.7.1: a segment for a CLOSED port draws a reset). \
The client goes SYN-SENT → CLOSED at once — this is the \"Connection refused\" \
(ECONNREFUSED) a socket program sees — and tcplab exits with code 3."

run_connect client "$S_ADDR" "$PORT"
j=$LAST_JSON
rc=$LAST_RC
answer=$(q "$j" 'fl(segs[1]) if len(segs) > 1 else "nothing"')
cst=$(q "$j" 'chain("client")')
ok=false
[ "$rc" = 3 ] && [ "$answer" = RST,ACK ] && ok=true
say_result "The SYN was answered with $answer; the client went $cst and tcplab exited with \
code $rc (3 = refused)." "{\"answer\":\"$answer\",\"exit\":$rc,\"ok\":$ok}"
$ok
