#!/usr/bin/env bash
# simultaneous-close — both FINs cross (RFC 9293 §3.6 case 2, Figure 13):
# FIN-WAIT-1 → CLOSING → TIME-WAIT on both sides, between two kernel sockets
# (tests/lab/simclose.c), traced by tcplab watch at both ends of the veth.
. "$(dirname "$0")/lib.sh"
demo_init simultaneous-close "$@"
[ -x "$LABDIR/simclose" ] || { echo "demo simultaneous-close: $LABDIR/simclose is missing: run make lab" >&2; exit 1; }
lab_up

say_intro "Two kernel sockets exchange a line each, then both call shutdown(SHUT_WR) at the same \
instant (two threads, one on each CPU, meet at a spin barrier and close at real-time priority). tcplab watches at both ends of the \
veth, so each trace sees its own end's segments leave and the other's arrive exactly as that \
kernel did. Look for each side sending its FIN before it has received the other's: then each \
goes FIN-WAIT-1 → CLOSING (a FIN arrives that does not acknowledge ours) → TIME-WAIT (the \
ACK of our FIN arrives), and both ends wait in TIME-WAIT. On a veth a FIN arrives a few \
microseconds after it leaves, so the crossing is a race: the demo repeats the close (at most \
25 times) until the FINs cross."

tries=0
crossed=false
while [ "$tries" -lt 25 ]; do
	tries=$((tries + 1))
	watch_start client tcp port "$PORT"
	watch_start server tcp port "$PORT"
	set +e
	"$LABDIR/simclose" "$NS_C" "$NS_S" "$S_ADDR" "$PORT"
	src=$?
	set -e
	watch_stop --discard
	cj=${WATCH_JSONS[0]}
	sj=${WATCH_JSONS[1]}
	# the FINs crossed when, at each end, its own FIN left before the
	# other's arrived: FIN-WAIT-1 → CLOSING → TIME-WAIT (at the capture
	# point; a FIN that arrives between the kernel's send and the tap
	# shows as CLOSE-WAIT → CLOSING: tried again too)
	c_cl=$(q "$cj" 'states("client")[-3:] == ["FIN-WAIT-1", "CLOSING", "TIME-WAIT"]')
	s_cl=$(q "$sj" 'states("server")[-3:] == ["FIN-WAIT-1", "CLOSING", "TIME-WAIT"]')
	if [ "$src" = 0 ] && [ "$c_cl" = true ] && [ "$s_cl" = true ]; then
		crossed=true
		break
	fi
	say "(try $tries: the FINs did not cross — one arrived before the other end sent its own; again)"
done
# show the last try: both ends' traces
for f in "$cj" "$sj"; do
	if [ "$f" = "$cj" ]; then where=client; iface=$IF_C; else where=server; iface=$IF_S; fi
	_run_begin "$where" "tcplab watch -i $iface tcp port $PORT"
	if [ "$JSON" = 1 ]; then cat "$f"; else cat "${f%.jsonl}.txt"; fi
	LAST_RC=0
	_run_end
done

cst=$(q "$cj" 'chain("client")')
sst=$(q "$sj" 'chain("server")')
say_result "The FINs crossed on try $tries of $tries. Seen at the client's end: the client went $cst. \
Seen at the server's end: the server went $sst. Each ACK of a FIN came after both FINs were on \
the wire, so both ends passed through CLOSING and both ended in TIME-WAIT: with a \
simultaneous close, TIME-WAIT lands on both sides." \
"{\"tries\":$tries,\"crossed\":$crossed,\"client\":\"$cst\",\"server\":\"$sst\",\"ok\":$crossed}"
$crossed
