#!/usr/bin/env bash
# handshake — three-way handshake, data, echo, four-way teardown (the
# demo once called "hello"): tcplab connect against a kernel echo server.
. "$(dirname "$0")/lib.sh"
demo_init handshake "$@"
lab_up
lab_server echo

say_intro "tcplab plays the client against the Linux kernel's echo server. Look at the three \
segments that open the connection (SYN, SYN-ACK, ACK) and at the state lines under them: the \
client goes SYN-SENT → ESTABLISHED when the SYN-ACK arrives, the server only when the third \
segment arrives. Then \"hello\" goes out and comes back, and the client closes first: FIN, \
ACK, FIN, ACK (the kernel often folds its ACK into its FIN: three segments), leaving the \
client in TIME-WAIT."

run_connect client "$S_ADDR" "$PORT" --data hello
j=$LAST_JSON
lab_server_stop

hs=$(q "$j" '" ".join(fl(e) for e in segs[:3])')
cst=$(q "$j" 'chain("client")')
sst=$(q "$j" 'chain("server")')
nseg=$(q "$j" 'len(segs)')
echo_back=$(q "$j" 'any(e["from"] == "server" and e.get("payload") == "hello" for e in segs)')
fins=$(q "$j" 'sum(1 for e in segs if "FIN" in e["flags"])')
ok=false
[ "$LAST_RC" = 0 ] && [ "$hs" = "SYN SYN,ACK ACK" ] && [ "$echo_back" = true ] && ok=true
say_result "The connection opened with $hs and carried $nseg segments in all; the server \
$([ "$echo_back" = true ] && echo "echoed \"hello\"" || echo "did NOT echo \"hello\""); \
$fins FINs closed it. Client: $cst. Server: $sst." \
"{\"handshake\":\"$hs\",\"segments\":$nseg,\"echoed\":$echo_back,\"fins\":$fins,\"ok\":$ok}"
$ok
