"""test_watch.py — `tcplab watch`: the replay engine on a live interface.

A kernel client and server talk across the lab's veth while tcplab watches
the server's end.  It must print the same kind of trace as replay, end
with the summaries on SIGINT (exit 0: Ctrl-C is how watch ends), and be
passive: no nftables table, and every segment on the wire is one the two
kernels sent (the capture in the client namespace holds exactly the
segments tcplab traced).
"""

import json
import signal
import time

import lab as L

PORT = 7200


def test_watch_traces_kernel_pair_passively(lab, tcplab_bin):
    srv = lab.start_server("echo", PORT)
    cap = lab.start_capture(lab.client_ns)
    w = lab.spawn_in(lab.server_ns, [tcplab_bin, "watch", "-i", lab.server_if, "--json",
                                     "tcp", "port", str(PORT)])
    time.sleep(0.5)                       # let the capture start
    assert lab.tcplab_tables(lab.server_ns) == []
    r, recs = lab.client(PORT, send="hello", extra=["--expect-echo"])
    assert recs[0]["received"] == "hello" and recs[0]["eof"] == "clean", recs
    segs = cap.wait_for(lambda s: L.teardown_complete(s, lab.client_ip))
    time.sleep(0.3)
    w.send_signal(signal.SIGINT)
    out, err = w.communicate(timeout=20)
    assert w.returncode == 0, err
    ev = [json.loads(x) for x in out.decode().splitlines() if x.strip()]
    traced = [e for e in ev if e["event"] == "segment"]
    assert len(traced) == len(segs)       # nothing more, nothing less on the wire
    (summ,) = [e for e in ev if e["event"] == "summary"]
    assert summ["outcome"] == "closed"
    assert summ["client"]["bytes"] == 5 and summ["server"]["bytes"] == 5
    states = [(e["endpoint"], e["to"]) for e in ev if e["event"] == "state"]
    assert ("server", "LAST-ACK") in states and ("client", "TIME-WAIT") in states
    assert srv.wait_records(1)[0]["received"] == b"hello"


def test_watch_needs_interface(tcplab_bin):
    r = L.run([tcplab_bin, "watch"], timeout=10)
    assert r.returncode == 2 and "-i" in r.err and r.out == ""
