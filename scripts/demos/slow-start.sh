#!/usr/bin/env bash
# slow-start — congestion control (RFC 5681, NewReno RFC 6582): a 500 KB
# upload through a 20 Mbit/s bottleneck into the server (tc tbf on an ifb
# device in the server's namespace, a queue that never drops); cwnd grows
# round trip by round trip; one segment is dropped once (nftables, in the
# server's namespace, after tcplab's capture point): three duplicate ACKs,
# fast retransmit, cwnd cut to half the flight (fast recovery), then
# congestion avoidance.
. "$(dirname "$0")/lib.sh"
demo_init slow-start "$@"
lab_up
SIZE=500000
LOSE=60            # the 60th data segment is lost, in slow start
RATE=20mbit
lab_text_file "$WORK/data.txt" "$SIZE"
# one duplicate ACK per out-of-order segment, at once (RFC 5681 §4.2):
# Linux would otherwise coalesce them (SACK compression)
lab_sysctl server net.ipv4.tcp_comp_sack_nr 0
# a fixed 256 KB receive buffer: the window (about 320 KB) stops growing
# early and never limits the flight, so cwnd does; and the ACKs that
# repeat one number are duplicate ACKs (same number, same window)
lab_server sink --rcvbuf 262144
lab_bottleneck "$RATE"
lab_lose_data server "$LOSE" tldemo_ss

say_intro "拥塞控制 (congestion control): tcplab uploads a 500 KB file to a kernel server through a \
${RATE%mbit} Mbit/s bottleneck (a queue in front of the server, as at a slow link; the round-trip \
time grows with what waits in it). Look at the lines \"client cwnd N\": the congestion window, \
which bounds what tcplab may have in flight. It starts at 10 segments (RFC 6928) and in slow \
start grows by one segment per ACK — about doubling every round trip (one line per round trip). \
The firewall in the server's namespace drops segment ${LOSE} once, as if the bottleneck had \
overflowed. The receiver answers every segment after the hole with a duplicate ACK; at the \
third, tcplab retransmits at once without waiting for its timer (fast retransmit, RFC 5681 §3.2) \
and cuts its window: ssthresh = half the data in flight, cwnd = ssthresh + 3 segments (fast \
recovery; more duplicates let new data out meanwhile — after the third they are counted on one \
line). One cumulative ACK ends the recovery (cwnd = ssthresh at most, RFC 6582); from then on \
cwnd grows by about one segment per round trip: congestion avoidance. That is TCP's sawtooth: additive increase, multiplicative \
decrease."

run_connect client "$S_ADDR" "$PORT" --data-file "$WORK/data.txt"
j=$LAST_JSON
rc=$LAST_RC
lab_server_stop
sink_check "$WORK/data.txt"
dropped=$(lab_lost_count server tldemo_ss)
lost=$(lab_lost_seq server tldemo_ss | head -n 1)
observe "nft list set inet tldemo_ss lost (server namespace): the sequence number of the dropped segment" \
	"${lost:-none} (the rule dropped ${dropped:-0} packet)"
observe "tc -s qdisc show dev ifb0 (server namespace): the bottleneck's queue" \
	"$(ip netns exec "$NS_S" tc -s qdisc show dev ifb0 | sed -n '1,3p' | sed 's/^ *//')"
observe "the lab server's log (tests/lab/tcpserver --mode sink), and the file sent" \
	"$(printf 'server read %s bytes, SHA-256 %s\nthe file has %s bytes, SHA-256 %s' "$SINK_LEN" "$SINK_SHA" "$FILE_LEN" "$FILE_SHA")"

facts=$(q "$j" "
lost = ${lost:-None}
isn = next((e['seq'] for e in segs if e['flags'] == ['SYN'] and e['from'] == 'client'), 0)
def rel(x):
    return (x - isn) % 2**32 if x is not None else None
epts = [(i, e) for i, e in enumerate(ev) if e.get('event') == 'endpoint']
fr = [(i, e) for i, e in epts if e['what'] == 'fast-retransmit']
rto = [e for i, e in epts if e['what'] == 'rto']
i_fr = fr[0][0] if fr else len(ev)
cw = [(i, e) for i, e in epts if e['what'] == 'cwnd']
# by the numbers, not the text (it follows --lang): before the loss
# ssthresh is not set (slow start); after the recovery cwnd >= ssthresh is
# congestion avoidance (RFC 5681 §3.1)
before = [e for i, e in cw if i < i_fr]
ss = [e['cwnd'] for e in before if e['ssthresh'] is None]
i_end = next((i for i, e in cw if i > i_fr and e['cwnd'] < (fr[0][1]['cwnd'] if fr else 0)), len(ev))
ca = [e for i, e in cw if i >= i_end and e['ssthresh'] is not None and e['cwnd'] >= e['ssthresh']]
# on the wire: the lost segment's first copy, the duplicate ACKs of it
# before the fast retransmission, the retransmission, the ACK that ends it
i_first = next((i for i, e in enumerate(ev) if e.get('event') == 'segment' and e['from'] == 'client'
                and e['seq'] == lost and e['len'] > 0 and not e['retransmission']), None)
i_rtx = next((i for i, e in enumerate(ev) if e.get('event') == 'segment' and e['from'] == 'client'
              and e['len'] > 0 and e['retransmission']), None)
dups = [e for e in ev[i_first or 0:i_rtx or 0] if e.get('event') == 'segment' and e['from'] == 'server'
        and 'duplicate-ack' in e.get('analysis', []) and e['ack'] == lost]
rtx = ev[i_rtx] if i_rtx is not None else {}
end = next((e for e in ev[(i_rtx or 0) + 1:] if e.get('event') == 'segment' and e['from'] == 'server'
            and lost is not None and (e['ack'] - lost) % 2**32 > 0 and (e['ack'] - lost) % 2**32 < 2**31), None)
all_dups = sum(1 for e in segs if e['from'] == 'server' and 'duplicate-ack' in e.get('analysis', []))
retx = [e for e in segs if e['from'] == 'client' and e['len'] > 0 and e['retransmission']]
f = fr[0][1] if fr else {}
r = {
  'slow_start_cwnd': ss,
  'lost_seq': lost, 'lost_rel_seq': rel(lost),
  'dup_acks_before_fast_retransmit': len(dups),
  'fast_retransmit_seq': rtx.get('seq'), 'fast_retransmit_rel_seq': rel(rtx.get('seq')),
  'fast_retransmission_marked': 'fast-retransmission' in rtx.get('analysis', []),
  'cwnd_before': before[-1]['cwnd'] if before else None,
  'cwnd_after': f.get('cwnd'), 'ssthresh_after': f.get('ssthresh'),
  'flight_at_loss': 2 * f['ssthresh'] if f.get('ssthresh') else None,
  'recovery_dup_acks': all_dups,
  'recovery_end_ack_rel': rel(end['ack']) if end else None,
  'recovery_s': round(end['t'] - rtx['t'], 3) if end and rtx else None,
  'cwnd_after_recovery': ca[0]['cwnd'] if ca else None,
  'congestion_avoidance_cwnd': [e['cwnd'] for e in ca],
  'congestion_avoidance_reports': len(ca),
  'fast_retransmits': len(fr), 'rto_events': len(rto), 'retransmissions': len(retx),
  'largest_cwnd_before_loss': max(ss) if ss else None,
}
")
val() { q <(echo "$facts") "ev[0][\"$1\"]"; }
ss_list=$(q <(echo "$facts") '" → ".join(str(x) for x in ev[0]["slow_start_cwnd"])')
ca_first=$(q <(echo "$facts") 'ev[0]["congestion_avoidance_cwnd"][0] if ev[0]["congestion_avoidance_cwnd"] else None')
ca_last=$(q <(echo "$facts") 'ev[0]["congestion_avoidance_cwnd"][-1] if ev[0]["congestion_avoidance_cwnd"] else None')
ok=false
[ "$rc" = 0 ] && [ "${dropped:-0}" = 1 ] && [ "$(val fast_retransmit_seq)" = "$lost" ] &&
	[ "$(val dup_acks_before_fast_retransmit)" -ge 3 ] && [ "$(val fast_retransmission_marked)" = true ] &&
	[ "$(val cwnd_after)" != None ] && [ "$(val cwnd_before)" != None ] &&
	[ "$(val cwnd_after)" -lt "$(val cwnd_before)" ] && [ "$(val rto_events)" = 0 ] &&
	[ "$(val congestion_avoidance_reports)" -ge 2 ] && [ "$SINK_OK" = true ] && ok=true
say_result "Slow start: cwnd went $ss_list bytes, one line per round trip (10 segments of 1448 \
bytes, then one segment more per segment acknowledged: close to doubling each round trip). Segment $LOSE (relative sequence number \
$(val lost_rel_seq)) was dropped by the firewall ($dropped packet); the receiver sent \
$(plural "$(val dup_acks_before_fast_retransmit)" "duplicate ACK") for it before tcplab retransmitted \
it — at the third, without waiting for the timer (fast retransmit: the same sequence number, \
$(val fast_retransmit_rel_seq), marked as such; $(val rto_events) RTO in the whole run). cwnd was \
$(val cwnd_before) bytes just before and $(val cwnd_after) just after: ssthresh = \
$(val flight_at_loss) bytes in flight / 2 = $(val ssthresh_after), cwnd = ssthresh + 3 x 1448 — \
the window halved (fast recovery). In all $(val recovery_dup_acks) duplicate ACKs came back while \
the queue in front of the server drained; $(val recovery_s) s after the retransmission one \
cumulative ACK acknowledged everything up to relative $(val recovery_end_ack_rel) and ended the \
recovery. Then congestion avoidance: $(val congestion_avoidance_reports) round trips, cwnd \
$ca_first → $ca_last bytes, about one segment more each. The server read $SINK_LEN bytes whose \
SHA-256 $([ "$SINK_OK" = true ] && echo "equals" || echo "DIFFERS from") the file's." \
"$(q <(echo "$facts") "r = dict(ev[0]); r.update({'lost_segment': $LOSE, 'bottleneck': '$RATE', 'dropped': ${dropped:-0}, 'sink_bytes': int('${SINK_LEN:-0}' or 0), 'sink_sha256': '$SINK_SHA', 'file_bytes': $FILE_LEN, 'file_sha256': '$FILE_SHA', 'sha256_match': $([ "$SINK_OK" = true ] && echo True || echo False), 'exit': $rc, 'ok': $([ "$ok" = true ] && echo True || echo False)})")"
$ok
