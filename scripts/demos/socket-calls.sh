#!/usr/bin/env bash
# socket-calls — the tutorials' socket server and client (Python, kernel
# sockets) in the lab, each call printed when it returns, interleaved by
# time with the segments tcplab watch sees at the server's end.
. "$(dirname "$0")/lib.sh"
demo_init socket-calls "$@"
lab_up
SC="$DEMO_DIR/sockcalls.py"

say_intro "The socket server and client of the tutorials (socket, bind, listen, accept, recv, \
send, close / socket, connect, send, recv, close), in Python on the kernel's TCP, each call \
printed at the time it returned (lines with C or S: the call, -> what it returned, and when it \
was called), between the segments \
tcplab watch saw at the server's end. Look at what each call waits for and what it causes: \
listen() sends nothing; connect() sends the SYN and returns only when the SYN-ACK is in; \
accept() returns after the third segment, the client's ACK (the kernel did the handshake \
alone, before accept() was even needed); send() causes a data segment; recv() returns b'' \
when the peer's FIN arrives; close() sends our FIN."

watch_start server tcp port "$PORT"
ip netns exec "$NS_S" "$PY" "$SC" server "$S_ADDR" "$PORT" >"$WORK/calls-s.jsonl" 2>"$WORK/server.err" &
SPID=$!
_PIDS+=("$SPID")
for _ in $(seq 200); do grep -q ready "$WORK/server.err" 2>/dev/null && break; sleep 0.025; done
ip netns exec "$NS_C" "$PY" "$SC" client "$S_ADDR" "$PORT" >"$WORK/calls-c.jsonl"
wait "$SPID"
sleep 0.1
watch_stop --discard
cat "$WORK/calls-s.jsonl" "$WORK/calls-c.jsonl" >"$WORK/calls.jsonl"
_run_begin server "tcplab watch -i $IF_S tcp port $PORT, with the socket calls of both programs"
if [ "$JSON" = 1 ]; then
	"$PY" "$SC" merge "$LAST_JSON" "$WORK/calls.jsonl"
else
	"$PY" "$SC" merge "$LAST_JSON" "$WORK/calls.jsonl" "${LAST_JSON%.jsonl}.txt"
fi
_run_end
"$PY" "$SC" merge "$LAST_JSON" "$WORK/calls.jsonl" >"$WORK/merged.jsonl"

res=$(q "$WORK/merged.jsonl" '
calls = [e for e in ev if e.get("event") == "socket-call"]
def call(who, name, n=0):
    c = [e for e in calls if e["endpoint"] == who and e["call"] == name]
    return c[n] if len(c) > n else None
def seg(pred):
    return next((e for e in segs if pred(e)), None)
syn = seg(lambda e: e["flags"] == ["SYN"])
synack = seg(lambda e: e["flags"] == ["SYN", "ACK"])
hack = seg(lambda e: e["from"] == "client" and e["flags"] == ["ACK"])
cdata = seg(lambda e: e["from"] == "client" and e["len"] > 0)
cfin = seg(lambda e: e["from"] == "client" and "FIN" in e["flags"])
sfin = seg(lambda e: e["from"] == "server" and "FIN" in e["flags"])
cn, ac, cc, sc = call("client", "connect"), call("server", "accept"), call("client", "close"), call("server", "close")
eof = call("server", "recv", 1)
r = {
  "calls": len(calls),
  "connect_called_before_syn": bool(cn and syn and cn["called"] <= syn["t"]),
  "connect_returned_after_synack": bool(cn and synack and cn["t"] >= synack["t"]),
  "accept_returned_after_final_ack": bool(ac and hack and ac["t"] >= hack["t"]),
  "send_caused_data": bool(cdata and call("client", "send") and call("client", "send")["called"] <= cdata["t"]),
  "client_close_then_fin": bool(cc and cfin and cc["called"] <= cfin["t"]),
  "server_eof_after_client_fin": bool(eof and cfin and eof["t"] >= cfin["t"] and eof["returned"] == "0 bytes"),
  "server_close_then_fin": bool(sc and sfin and sc["called"] <= sfin["t"]),
  "connect_us": round((cn["t"] - cn["called"]) * 1e6) if cn else None,
  "accept_after_ack_us": round((ac["t"] - hack["t"]) * 1e6) if ac and hack else None,
}
r["ok"] = all(v for k, v in r.items() if k not in ("calls", "connect_us", "accept_after_ack_us"))
')
g() { q <(echo "$res") "ev[0][\"$1\"]"; }
ok=$(g ok)
say_result "$(g calls) socket calls returned. connect() was called before the SYN left and \
returned after the SYN-ACK came back ($(g connect_us) µs in the call): \
$(g connect_returned_after_synack). accept() returned after the client's handshake ACK \
($(g accept_after_ack_us) µs later): $(g accept_returned_after_final_ack). send() came before its \
data segment: $(g send_caused_data). The client's close() came before its FIN: \
$(g client_close_then_fin); the server's second recv() returned 0 bytes once that FIN had \
arrived: $(g server_eof_after_client_fin); the server's close() then sent the last FIN: \
$(g server_close_then_fin)." "$res"
$ok
