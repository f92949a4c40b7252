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


def snmp(ns, table, key):
    """A counter of /proc/net/snmp (Tcp: ...) or /proc/net/netstat (TcpExt:
    ...) in namespace ns: the kernel's own count, per network namespace."""
    path = "/proc/net/snmp" if table == "Tcp" else "/proc/net/netstat"
    r = L.run(["cat", path], ns=ns, timeout=10)
    lines = [x.split() for x in r.out.splitlines() if x.startswith(table + ":")]
    head, vals = lines[0], lines[1]
    return int(vals[head.index(key)])


def test_watch_marks_loss_as_the_kernel_counts_it(lab, tcplab_bin):
    """Data segments from the client are dropped in the server namespace
    after the capture point (every 12th with payload): watch, on the
    server's veth, sees each lost segment once, the server's duplicate ACKs
    and the client's retransmissions.  Its count of the client's
    retransmissions must equal the client kernel's own (RetransSegs in the
    client's namespace, fresh for this test), its causes must add up, and a
    loss in mid-stream must show duplicate ACKs and a fast retransmission."""
    port = PORT + 1
    lab.segmentation_off(lab.client_ns)
    lab.segmentation_off(lab.server_ns)
    srv = lab.start_server("echo", port)
    rule = lab.drop_every(lab.server_ns, 12, "tcp dport %d ip length > 200" % port)
    w = lab.spawn_in(lab.server_ns, [tcplab_bin, "watch", "-i", lab.server_if, "--json",
                                     "tcp", "port", str(port)])
    time.sleep(0.5)
    payload = "".join(chr(ord("a") + i % 26) for i in range(100000))
    r, recs = lab.client(port, send=payload, extra=["--expect-echo"])
    assert recs[0]["eof"] == "clean", recs
    time.sleep(0.5)
    w.send_signal(signal.SIGINT)
    out, err = w.communicate(timeout=20)
    assert w.returncode == 0, err
    assert rule.dropped() >= 3
    ev = [json.loads(x) for x in out.decode().splitlines() if x.strip()]
    (summ,) = [e for e in ev if e["event"] == "summary"]
    c = summ["client"]
    assert c["retransmissions"] == snmp(lab.client_ns, "Tcp", "RetransSegs")
    by = c["retransmissions_by_cause"]
    assert by["rto"] + by["fast"] + by["other"] == c["retransmissions"]
    assert c["retransmissions"] >= rule.dropped()
    marks = [m for e in ev if e["event"] == "segment" for m in e.get("analysis", [])]
    assert "fast-retransmission" in marks, marks
    assert summ["server"]["dup_acks"] + summ["server"]["window_updates"] > 0
    assert c["bytes"] == 100000 and c["goodput_bps"] > 0 and c["rtt"]["samples"] > 0
    rec = srv.wait_records(1)[0]
    assert rec["received_len"] == 100000 and payload.encode().startswith(rec["received"])
