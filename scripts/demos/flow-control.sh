#!/usr/bin/env bash
# flow-control — the receiver's window (RFC 9293 §3.8.6): a kernel server
# with a 16 KB receive buffer that does not read for 2 s; its window
# shrinks to zero, tcplab stops and probes (persist timer, RFC 9293
# §3.8.6.1), the server reads, its window update reopens the flow, and
# the file arrives byte for byte.
. "$(dirname "$0")/lib.sh"
demo_init flow-control "$@"
lab_up
SIZE=60000
RCVBUF=16384
PAUSE_MS=2000      # probes at about 0.2, 0.6, 1.4 s: the read falls well between two
lab_text_file "$WORK/data.txt" "$SIZE"
lab_server sink --rcvbuf "$RCVBUF" --pause-ms "$PAUSE_MS"

say_intro "流量控制 (flow control): every ACK carries a window, the room left in the receiver's \
buffer, and a sender may not have more unacknowledged data than that (RFC 9293 §3.8.6). Here the \
receiver is a kernel server with a small receive buffer (SO_RCVBUF ${RCVBUF}) that accepts the \
connection and then does not read for $((PAUSE_MS / 1000)).$((PAUSE_MS % 1000 / 100)) s, like a \
slow application. tcplab sends a ${SIZE}-byte file. Look at the win= field of the server's ACKs: \
the buffer fills, the window shrinks, and then comes an ACK with win=0 (marked zero window): \
tcplab must stop. It does not simply wait — if the ACK that reopens the window were lost, both \
sides would wait forever — but arms its persist timer and sends a one-byte zero-window probe, \
again and again with the interval doubling; each probe draws an ACK that still says win=0. When \
the server finally reads, its kernel sends a window update (the same ACK number, a window that \
is not zero) and the transfer resumes, starting with the byte the probes offered."

run_connect client "$S_ADDR" "$PORT" --data-file "$WORK/data.txt"
j=$LAST_JSON
rc=$LAST_RC
lab_server_stop
sink_check "$WORK/data.txt"
observe "the lab server's log (tests/lab/tcpserver --mode sink), and the file sent" \
	"$(printf 'server read %s bytes, SHA-256 %s\nthe file has %s bytes, SHA-256 %s' "$SINK_LEN" "$SINK_SHA" "$FILE_LEN" "$FILE_SHA")"

facts=$(q "$j" "
isn = next((e['seq'] for e in segs if e['flags'] == ['SYN'] and e['from'] == 'client'), 0)
syn = next((e for e in segs if e['flags'] == ['SYN']), {})
synack = next((e for e in segs if e['flags'] == ['SYN', 'ACK']), {})
shift = synack.get('options', {}).get('wscale', 0) if 'wscale' in syn.get('options', {}) else 0
def rel(x):
    return (x - isn) % 2**32 if x is not None else None
srv = [(i, e) for i, e in enumerate(ev) if e.get('event') == 'segment' and e['from'] == 'server'
       and 'SYN' not in e['flags']]
i_zero = next((i for i, e in srv if 'zero-window' in e.get('analysis', [])), None)
zero = ev[i_zero] if i_zero is not None else None
wins = [e['win'] << shift for i, e in srv if i_zero is not None and i <= i_zero]
probes = [e for e in segs if e['from'] == 'client' and 'zero-window-probe' in e.get('analysis', [])]
answers = [e for i, e in srv if i_zero is not None and i > i_zero and 'zero-window' in e.get('analysis', [])]
upd = next((e for i, e in srv if i_zero is not None and i > i_zero and 'window-update' in e.get('analysis', [])), None)
after = next((e for e in segs if upd and e['from'] == 'client' and e['len'] > 1 and e['t'] >= upd['t']), None)
ep = lambda w: [e for e in ev if e.get('event') == 'endpoint' and e['what'] == w]
s = summary()
r = {
  'windows_before_zero': wins[-6:],
  'zero_window_at': round(zero['t'], 3) if zero else None,
  'bytes_before_zero': rel(zero['ack']) - 1 if zero else None,
  'probes': len(probes),
  'probe_times': [round(p['t'] - zero['t'], 3) for p in probes] if zero else [],
  'probe_seqs_same': len(set(p['seq'] for p in probes)) == 1 if probes else False,
  'probe_rel_seq': rel(probes[0]['seq']) if probes else None,
  'probe_answers_zero': len(answers),
  'window_update_at': round(upd['t'], 3) if upd else None,
  'window_update_bytes': upd['win'] << shift if upd else None,
  'zero_window_s': round(s['server']['zero_window_time'], 3) if s.get('server') else None,
  'resumed_at_probe_byte': bool(after and probes) and after['seq'] == probes[0]['seq'],
  'resumed_is_retransmission': after['retransmission'] if after else None,
  'endpoint_zero_window': len(ep('zero-window')), 'endpoint_probes': len(ep('zero-window-probe')),
  'endpoint_window_update': len(ep('window-update')),
  'order_ok': bool(zero and probes and upd) and zero['t'] <= probes[0]['t'] and probes[-1]['t'] <= upd['t'],
  'client_retransmissions': s.get('client', {}).get('retransmissions'),
}
")
val() { q <(echo "$facts") "ev[0][\"$1\"]"; }
wins=$(q <(echo "$facts") '" → ".join(str(x) for x in ev[0]["windows_before_zero"])')
ptimes=$(q <(echo "$facts") '", ".join("%.1f" % x for x in ev[0]["probe_times"])')
ok=false
[ "$rc" = 0 ] && [ "$(val order_ok)" = true ] && [ "$(val probes)" -ge 1 ] &&
	[ "$(val endpoint_probes)" = "$(val probes)" ] && [ "$(val probe_seqs_same)" = true ] &&
	[ "$(val resumed_is_retransmission)" = false ] && [ "$(val client_retransmissions)" = 0 ] &&
	[ "$SINK_OK" = true ] && ok=true
say_result "The server's last windows before it stopped reading: $wins bytes — the buffer \
filling. At $(val zero_window_at) s it advertised a zero window, after $(val bytes_before_zero) \
bytes; tcplab stopped sending. It probed $(plural "$(val probes)" time) ($ptimes s after the zero \
window: the persist timer doubles, as the retransmission timer does), each time with the same \
single byte (relative sequence number $(val probe_rel_seq)), and the server answered \
$(plural "$(val probe_answers_zero)" time) with win=0 again. At $(val window_update_at) s, once \
the server read, its window update announced $(val window_update_bytes) bytes; the window had \
been zero for $(val zero_window_s) s. tcplab resumed $([ "$(val resumed_at_probe_byte)" = true ] &&
	echo "with the byte the probes had offered (new data, not a retransmission)" ||
	echo "sending"), with $(val client_retransmissions) retransmissions in the whole transfer, and \
the server read $SINK_LEN bytes whose SHA-256 $([ "$SINK_OK" = true ] && echo "equals" ||
	echo "DIFFERS from") the file's: the sender never overran the receiver." \
"$(q <(echo "$facts") "r = dict(ev[0]); r.update({'rcvbuf': $RCVBUF, 'pause_ms': $PAUSE_MS, 'sink_bytes': int('${SINK_LEN:-0}' or 0), 'sink_sha256': '$SINK_SHA', 'file_bytes': $FILE_LEN, 'file_sha256': '$FILE_SHA', 'sha256_match': $([ "$SINK_OK" = true ] && echo True || echo False), 'exit': $rc, 'ok': $([ "$ok" = true ] && echo True || echo False)})")"
$ok
