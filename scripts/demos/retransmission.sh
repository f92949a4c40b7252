#!/usr/bin/env bash
# retransmission — reliable delivery: one data segment is lost (nftables,
# in the server's namespace, after tcplab's capture point); too few
# duplicate ACKs follow for a fast retransmit, so tcplab's retransmission
# timer expires (RFC 6298), the segment is sent again, and one cumulative
# ACK covers it and the segments the receiver held behind the hole.
. "$(dirname "$0")/lib.sh"
demo_init retransmission "$@"
lab_up
SIZE=7000          # five segments of at most 1448 bytes (MSS 1460 - timestamps)
LOSE=3             # the third one is lost: two arrive behind the hole
lab_text_file "$WORK/data.txt" "$SIZE"
# one duplicate ACK per out-of-order segment, at once (RFC 5681 §4.2):
# Linux would otherwise coalesce them (SACK compression)
lab_sysctl server net.ipv4.tcp_comp_sack_nr 0
# a fixed receive buffer: its window stops growing after two segments, so
# the ACKs that repeat the same number later are duplicate ACKs (same
# number, same window), not window updates
lab_server sink --rcvbuf 32768
lab_lose_data server "$LOSE" tldemo_rtx

say_intro "可靠传输 (reliable delivery): tcplab sends a ${SIZE}-byte file (--data-file) to a kernel \
server that reads everything and hashes it. A firewall rule in the server's namespace drops the \
third data segment once, as if it were lost on the way: tcplab's trace, taken at the sender, still \
shows it leave. Look at what follows. The receiver gets segments 4 and 5 beyond a hole: it cannot \
deliver them, keeps them, and answers each with an ACK that repeats the same number — a duplicate \
ACK, with a SACK block saying what it holds. Two duplicates are not enough for a fast retransmit \
(RFC 5681 wants three), so the sender waits for its retransmission timer (RFC 6298; 200 ms here, \
as Linux; the RFC's floor is 1 s). When it expires, the same bytes go out again with the same \
sequence number, marked as an RTO retransmission, the congestion window falls to one segment, and \
the answer is one cumulative ACK that acknowledges the retransmitted segment and the two held \
behind it at once."

# -v: five segments, each on its own line (no flight collapsed into one)
run_connect client "$S_ADDR" "$PORT" --data-file "$WORK/data.txt" -v
j=$LAST_JSON
rc=$LAST_RC
lab_server_stop
sink_check "$WORK/data.txt"
dropped=$(lab_lost_count server tldemo_rtx)
lost=$(lab_lost_seq server tldemo_rtx | head -n 1)
observe "nft list set inet tldemo_rtx lost (server namespace): the sequence number of the dropped segment" \
	"${lost:-none} (the rule dropped ${dropped:-0} packet)"
observe "the lab server's log (tests/lab/tcpserver --mode sink), and the file sent" \
	"$(printf 'server read %s bytes, SHA-256 %s\nthe file has %s bytes, SHA-256 %s' "$SINK_LEN" "$SINK_SHA" "$FILE_LEN" "$FILE_SHA")"

facts=$(q "$j" "
lost = ${lost:-None}
isn = next((e['seq'] for e in segs if e['flags'] == ['SYN'] and e['from'] == 'client'), 0)
data = [e for e in segs if e['from'] == 'client' and e['len'] > 0]
first = next((e for e in data if e['seq'] == lost and not e['retransmission']), None)
rtx = [e for e in data if e['retransmission']]
i_rtx = next((i for i, e in enumerate(ev) if e.get('event') == 'segment' and e['from'] == 'client'
              and e['len'] > 0 and e['retransmission']), len(ev))
dups = [e for e in ev[:i_rtx] if e.get('event') == 'segment' and e['from'] == 'server'
        and 'duplicate-ack' in e.get('analysis', [])]
after = next((e for e in ev[i_rtx:] if e.get('event') == 'segment' and e['from'] == 'server'
              and 'ACK' in e['flags']), None)
rto = [e for e in ev if e.get('event') == 'endpoint' and e['what'] == 'rto']
fast = [e for e in ev if e.get('event') == 'endpoint' and e['what'] == 'fast-retransmit']
i_rto = next((i for i, e in enumerate(ev) if e.get('event') == 'endpoint' and e['what'] == 'rto'), len(ev))
cw = [e for e in ev[i_rto:] if e.get('event') == 'endpoint' and e['what'] == 'cwnd']   # the cut
held = [e for e in data if not e['retransmission'] and lost is not None and e['seq'] > lost]
r = {
  'segments': len([e for e in data if not e['retransmission']]),
  'lost_seq': lost, 'lost_rel_seq': (lost - isn) % 2**32 if lost is not None else None,
  'sent_at': first['t'] if first else None,
  'retransmissions': len(rtx),
  'retransmitted_seq': rtx[0]['seq'] if rtx else None,
  'retransmitted_rel_seq': (rtx[0]['seq'] - isn) % 2**32 if rtx else None,
  'retransmitted_at': rtx[0]['t'] if rtx else None,
  'rto_marked': bool(rtx) and 'rto-retransmission' in rtx[0].get('analysis', []),
  'same_payload': bool(rtx and first) and rtx[0].get('payload') == first.get('payload'),
  'gap_s': round(rtx[0]['t'] - first['t'], 3) if rtx and first else None,
  'dup_acks_before': len(dups),
  'rto_events': len(rto), 'fast_retransmits': len(fast),
  'cwnd_after_rto': cw[0]['cwnd'] if cw else None,
  'held_segments': len(held),
  'cumulative_ack_rel': (after['ack'] - isn) % 2**32 if after else None,
}
r['cumulative_ack_covers'] = r['cumulative_ack_rel'] == $SIZE + 1
")
val() { q <(echo "$facts") "ev[0][\"$1\"]"; }
ok=false
[ "$rc" = 0 ] && [ "${dropped:-0}" = 1 ] && [ "$(val retransmitted_seq)" = "$lost" ] &&
	[ "$(val rto_marked)" = true ] && [ "$(val fast_retransmits)" = 0 ] && [ "$(val rto_events)" -ge 1 ] &&
	[ "$(val cumulative_ack_covers)" = true ] && [ "$SINK_OK" = true ] && ok=true
say_result "tcplab sent the file in $(val segments) segments; the firewall dropped $dropped: the one \
at relative sequence number $(val lost_rel_seq) (absolute $lost, read back from the kernel's nft \
set). The receiver answered the $(val held_segments) segments behind the hole with \
$(plural "$(val dup_acks_before)" "duplicate ACK") — fewer than three, so no fast retransmit \
($(val fast_retransmits) happened). $(val gap_s) s after the first copy, the retransmission timer \
expired ($(val rto_events) RTO; cwnd fell to $(val cwnd_after_rto) bytes, one segment) and tcplab \
sent sequence number $(val retransmitted_seq) (relative $(val retransmitted_rel_seq)) again$([ "$(val same_payload)" = true ] && echo ", \
the same bytes"), marked as an RTO retransmission. The next ACK from the server acknowledged \
everything up to relative $(val cumulative_ack_rel): one cumulative ACK for the retransmitted \
segment and the $(val held_segments) held behind it. The server read $SINK_LEN bytes whose SHA-256 \
$([ "$SINK_OK" = true ] && echo "equals" || echo "DIFFERS from") the file's: delivered exactly, \
in order, although a segment was lost." \
"$(q <(echo "$facts") "r = dict(ev[0]); r.update({'dropped': ${dropped:-0}, 'sink_bytes': int('${SINK_LEN:-0}' or 0), 'sink_sha256': '$SINK_SHA', 'file_bytes': $FILE_LEN, 'file_sha256': '$FILE_SHA', 'sha256_match': $([ "$SINK_OK" = true ] && echo True || echo False), 'exit': $rc, 'ok': $([ "$ok" = true ] && echo True || echo False)})")"
$ok
