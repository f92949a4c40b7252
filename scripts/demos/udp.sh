#!/usr/bin/env bash
# udp — the tutorials' UDP chat: datagrams with no handshake, no state, no
# acknowledgement, traced by tcplab watch --udp.
. "$(dirname "$0")/lib.sh"
demo_init udp "$@"
lab_up
UPORT=9999
CHAT="$DEMO_DIR/udpchat.py"

say_intro "The UDP chat of the tutorials: the server binds a datagram socket and answers each \
message with recvfrom()/sendto(); the client sends three messages. tcplab watches the server's \
end with --udp: one line per datagram. Compare with every TCP demo: no SYN, no handshake, no \
sequence or acknowledgement numbers, no state lines, no FIN — the first datagram already \
carries the data, and nothing on the wire says that it arrived (the answer is the \
application's, not the transport's)."

watch_start server --udp udp port "$UPORT"
ip netns exec "$NS_S" "$PY" "$CHAT" server "$S_ADDR" "$UPORT" 3 >"$WORK/chat-s.txt" 2>"$WORK/chat-s.err" &
SPID=$!
_PIDS+=("$SPID")
for _ in $(seq 200); do grep -q ready "$WORK/chat-s.err" 2>/dev/null && break; sleep 0.025; done
ip netns exec "$NS_C" "$PY" "$CHAT" client "$S_ADDR" "$UPORT" "你好" "hello" "bye" >"$WORK/chat-c.txt"
wait "$SPID"
watch_stop
observe "the chat programs' output" "$(cat "$WORK/chat-s.txt" "$WORK/chat-c.txt")"

j=$LAST_JSON
res=$(q "$j" '
d = [e for e in ev if e.get("event") == "datagram"]
r = {"datagrams": len(d),
     "client_to_server": sum(1 for e in d if e["dst_port"] == 9999),
     "server_to_client": sum(1 for e in d if e["src_port"] == 9999),
     "bytes": sum(e["len"] for e in d),
     "tcp_segments": len(segs),
     "state_events": sum(1 for e in ev if e.get("event") == "state"),
     "connections": sum(1 for e in ev if e.get("event") == "connection")}
r["ok"] = r["datagrams"] == 6 and r["client_to_server"] == 3 and r["tcp_segments"] == 0 \
    and r["state_events"] == 0 and r["connections"] == 0
')
g() { q <(echo "$res") "ev[0][\"$1\"]"; }
ok=$(g ok)
say_result "$(g datagrams) datagrams crossed the wire ($(g client_to_server) messages, \
$(g server_to_client) answers, $(g bytes) bytes of data): nothing else — $(g connections) \
connections, $(g tcp_segments) TCP segments, $(g state_events) state changes. Each datagram \
stands alone; if one were lost, neither UDP nor the kernel would resend it." "$res"
$ok
