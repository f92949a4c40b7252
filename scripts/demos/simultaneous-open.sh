#!/usr/bin/env bash
# simultaneous-open — both ends open actively and their SYNs cross
# (RFC 9293 §3.5, Figure 7): SYN-SENT → SYN-RECEIVED → ESTABLISHED on both
# sides.  tcplab connect --simultaneous in the client namespace, a kernel
# socket in the server namespace that connect()s back from the port tcplab
# aims at; the kernel's own states come from its tracepoint.
. "$(dirname "$0")/lib.sh"
demo_init simultaneous-open "$@"
lab_up
SPORT=40123

say_intro "No server here: two ends each call connect() towards the other. tcplab (198.18.77.1:$SPORT) \
opens actively and is in SYN-SENT, its SYN held back as if still in flight (--simultaneous); a \
kernel socket bound to 198.18.77.2:$PORT then connect()s to tcplab's port. Its SYN reaches tcplab \
in SYN-SENT: tcplab goes to SYN-RECEIVED, and its own SYN leaves at that moment, so the two SYNs \
have crossed. The kernel, in SYN-SENT too, receives tcplab's SYN and goes to SYN-RECEIVED. Each \
answers the other's SYN with a SYN-ACK <SEQ=ISS><ACK=RCV.NXT> (RFC 9293 §3.10.7.3), and each \
SYN-ACK acknowledges a SYN, so both reach ESTABLISHED: four segments instead of three, and no \
LISTEN anywhere. The trace calls \"client\" the end whose SYN the capture saw first (the \
kernel); the kernel's own states (tracepoint, marked kernel) show its SYN-SENT → SYN-RECEIVED → \
ESTABLISHED."

# the kernel end: bind, connect() to tcplab's port, read to EOF, close;
# one JSON line (its view) on stdout
cat >"$WORK/peer.py" <<PYEOF
import json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("$S_ADDR", $PORT))
s.settimeout(10)
r = {"connect": None, "received": 0}
try:
    s.connect(("$C_ADDR", $SPORT))
    r["connect"] = "ok"
    while True:
        b = s.recv(4096)
        if not b:
            break
        r["received"] += len(b)
    s.close()
except OSError as e:
    r["connect"] = r["connect"] or str(e)
print(json.dumps(r))
PYEOF

_run_begin client "tcplab connect $S_ADDR $PORT --sport $SPORT --simultaneous --data hello"
out="$WORK/run$RUN.out"
LAST_JSON="$WORK/run$RUN.jsonl"
if [ "$JSON" = 1 ]; then
	lab_bg client "$TCPLAB" connect "$S_ADDR" "$PORT" --sport "$SPORT" --simultaneous --data hello \
		--json "${PASS[@]}" >"$LAST_JSON"
else
	lab_bg client "$TCPLAB" connect "$S_ADDR" "$PORT" --sport "$SPORT" --simultaneous --data hello \
		--json-file "$LAST_JSON" "${PASS[@]}" >"$out"
fi
tl=$BG_PID
# tcplab says when it is in SYN-SENT with its SYN held (it flushes that note)
for _ in $(seq 200); do
	grep -q -e '--simultaneous: tcplab is in SYN-SENT' "$LAST_JSON" "$out" 2>/dev/null && break
	sleep 0.025
done
peer=$(ip netns exec "$NS_S" "$PY" "$WORK/peer.py" || echo '{"connect": "the peer program failed", "received": 0}')
set +e
wait "$tl"
LAST_RC=$?
set -e
if [ "$JSON" = 1 ]; then cat "$LAST_JSON"; else cat "$out"; fi
_run_end
observe "the kernel end (a Python socket bound to $S_ADDR:$PORT, connect() to $C_ADDR:$SPORT)" "$peer"

res=$(q "$LAST_JSON" '
syns = [e for e in segs if e["flags"] == ["SYN"]]
synacks = [e for e in segs if set(e["flags"]) == {"SYN", "ACK"}]
ks = [e["from"] + " → " + e["to"] for e in ev if e.get("event") == "kernel-state"]
kend = next((e["endpoint"] for e in ev if e.get("event") == "kernel-state"), None)
tend = None if kend is None else ("server" if kend == "client" else "client")
r = {"syns": len(syns), "synacks": len(synacks),
     "both_syns_before_synack": len(syns) >= 2 and bool(synacks) and max(e["t"] for e in syns[:2]) <= min(e["t"] for e in synacks),
     "syns_from_both": len(set(e["from"] for e in syns)) == 2,
     "synacks_from_both": len(set(e["from"] for e in synacks)) == 2,
     "kernel_end": kend, "tcplab_end": tend,
     "kernel": ks,
     "kernel_path": [e["to"] for e in ev if e.get("event") == "kernel-state" and e["endpoint"] == kend][:3],
     "client": chain("client"), "server": chain("server")}
def through(endpoint):
    s = states(endpoint)
    return any(s[i:i + 3] == ["SYN-SENT", "SYN-RECEIVED", "ESTABLISHED"] for i in range(len(s)))
r["client_path_ok"] = through("client")
r["server_path_ok"] = through("server")
r["kernel_path_ok"] = r["kernel_path"] == ["SYN-SENT", "SYN-RECEIVED", "ESTABLISHED"]
r["no_listen"] = "LISTEN" not in states("client") + states("server")
') || res='{"error":"the figures could not be computed from the run"}'
f() { q <(echo "$res") "ev[0].get(\"$1\")"; }
conn=$(q <(echo "$peer") 'ev[0]["connect"]')
got=$(q <(echo "$peer") 'ev[0]["received"]')
ok=false
if [ "$LAST_RC" = 0 ] && [ "$conn" = ok ] && [ "$(f both_syns_before_synack)" = true ] &&
	[ "$(f syns_from_both)" = true ] && [ "$(f synacks_from_both)" = true ] &&
	[ "$(f client_path_ok)" = true ] && [ "$(f server_path_ok)" = true ] &&
	[ "$(f kernel_path_ok)" = true ] && [ "$(f no_listen)" = true ]; then
	ok=true
fi
say_result "Both ends sent a SYN ($(f syns) SYNs, one from each: $(f syns_from_both)) before \
either sent a SYN-ACK ($(f both_syns_before_synack)), and each answered with a SYN-ACK \
($(f synacks) in all). Inferred: the $(f kernel_end) (the kernel) went $(q <(echo "$res") \
'ev[0][ev[0]["kernel_end"]] if ev[0]["kernel_end"] else ""'); the $(f tcplab_end) (tcplab) went \
$(q <(echo "$res") 'ev[0][ev[0]["tcplab_end"]] if ev[0]["tcplab_end"] else ""'). The kernel's own \
tracepoint: $(f kernel_path | tr -d '[]"' | sed 's/,/ →/g'). Nobody was ever in LISTEN \
($(f no_listen)); the kernel's connect() returned $conn and it read $got bytes before tcplab's FIN." \
"$(q <(echo "$res") 'dict(ev[0], peer_connect="'"$conn"'", peer_received='"${got:-0}"', ok='"$( [ $ok = true ] && echo True || echo False )"')')"
$ok
