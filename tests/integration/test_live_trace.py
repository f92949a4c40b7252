"""test_live_trace.py — what a live trace shows (issue 8 "What the trace
shows", and the follow-ups of the merged sender and analysis branches).

  * one source per fact: on the endpoint tcplab drives, the retransmission
    causes and the zero-window probes come from its sender (tcb), the
    peer's duplicate ACKs and zero windows from the wire; checked on a 1 MB
    upload at 5 % random loss each way (nft numgen on each namespace's
    output hook) and on a kernel sink that stops reading;
  * the summary's figures for the driven side on that upload: every byte
    (1,000,000, though some first transmissions never reached the capture),
    goodput, RTT samples, retransmissions by cause agreeing with the marks,
    the sender's largest cwnd and time at zero window;
  * flight collapse in live traces: a held flight is printed while the wire
    is quiet (render_idle, as watch), -v prints every segment.

The kernel's side is the oracle where it can be: tcpserver's SHA-256 of
what it read, the capture in the server namespace.
"""

import hashlib
import os
import re

import lab as L

PORT = 7300


def random_file(lab, n):
    path = lab.path("data", ".bin")
    data = os.urandom(n)
    with open(path, "wb") as f:
        f.write(data)
    return path, hashlib.sha256(data).hexdigest()


def connect_json(lab, tcplab_bin, *opts, timeout=120):
    argv = [tcplab_bin, "connect", "--json"] + [str(o) for o in opts] + [lab.server_ip, str(PORT)]
    return L.run(argv, ns=lab.client_ns, timeout=timeout)


def marks(e):
    return e.get("analysis", [])


# ---- one source per fact ----------------------------------------------------------------

def check_retransmission_causes(events, driven):
    """Each retransmission of the driven endpoint that follows a sender
    decision about its sequence number (fast-retransmit / rto endpoint
    event) carries the cause of the LAST such decision — the copy an earlier
    decision sent may have been dropped before the capture point — and
    never the other cause; the summary counts the marks."""
    segs = [e for e in events if e["event"] == "segment" and e["from"] == driven]
    checked = 0
    last = {}                 # seq -> the cause mark of the last decision not yet seen on the wire
    for e in events:
        if e["event"] == "endpoint" and e["what"] in ("fast-retransmit", "rto"):
            last[e["seq"]] = ("fast-retransmission" if e["what"] == "fast-retransmit"
                              else "rto-retransmission")
        elif e["event"] == "segment" and e["from"] == driven and e["retransmission"] \
                and e["seq"] in last:
            want = last.pop(e["seq"])
            other = ({"fast-retransmission", "rto-retransmission"} - {want}).pop()
            assert want in marks(e) and other not in marks(e), (want, e)
            checked += 1
    summary = [e for e in events if e["event"] == "summary"][0][driven]
    by = summary["retransmissions_by_cause"]
    assert by["fast"] == len([s for s in segs if "fast-retransmission" in marks(s)])
    assert by["rto"] == len([s for s in segs if "rto-retransmission" in marks(s)])
    assert not [s for s in segs if "keep-alive" in marks(s)]
    return checked


def test_upload_at_loss_one_source_per_fact(lab, tcplab_bin):
    """1 MB at 5 % loss each way: byte-exact; every retransmission the sender
    decided carries the sender's cause on the wire (never the other one);
    the peer's duplicate ACKs are marked with their count; the summary and
    the sender's lines give every figure of issue 8 item 7."""
    path, digest = random_file(lab, 1_000_000)
    lab.random_loss(lab.client_ns, 5, hook="out")
    lab.random_loss(lab.server_ns, 5, hook="out")
    decided = 0
    for attempt in range(3):
        srv = lab.start_server("sink", PORT)
        r = connect_json(lab, tcplab_bin, "--data-file", path, "--retries", "8")
        assert r.returncode == 0, r
        rec = srv.wait_records(1)[0]
        assert rec["received_len"] == 1_000_000 and rec["sha256"] == digest, rec
        srv.stop()
        ev = r.json_lines()
        decided += check_retransmission_causes(ev, "client")
        if decided >= 3:
            break
    assert decided >= 3, "too few retransmissions crossed the capture point to compare"
    # the peer's dup ACKs: the wire's, numbered
    dups = [e for e in ev if e["event"] == "segment" and e["from"] == "server"
            and "duplicate-ack" in marks(e)]
    assert dups and all(e["dup_ack"] >= 1 for e in dups)
    # cwnd / ssthresh with the reason, the peer's window
    cw = [e for e in ev if e["event"] == "endpoint" and e["what"] == "cwnd"]
    reasons = {re.search(r"\(([^)]*)\)$", e["text"]).group(1) for e in cw}
    assert "slow start" in reasons and reasons & {"fast recovery", "RTO"}, reasons
    assert all(e["peer_window"] > 0 for e in cw)
    assert any(e["ssthresh"] is not None for e in cw)
    # the summary: every byte, goodput, RTT samples, causes adding up
    s = [e for e in ev if e["event"] == "summary"][0]["client"]
    assert s["bytes"] == 1_000_000, s
    assert s["goodput_bps"] and s["goodput_bps"] > 0
    assert s["rtt"]["samples"] > 0 and 0 < s["rtt"]["min"] <= s["rtt"]["avg"] <= s["rtt"]["max"]
    by = s["retransmissions_by_cause"]
    assert by["rto"] + by["fast"] + by["other"] == s["retransmissions"] > 0
    # the sender's counters: largest cwnd, RTT (timed samples: never 0.000), time at zero window
    stats = {e["what"]: e["text"] for e in ev if e["event"] == "endpoint"
             and e["what"] in ("stats", "rtt", "retransmissions")}
    assert re.search(r"largest cwnd [1-9]\d*", stats["stats"]), stats
    m = re.search(r"RTT min/avg/max ([\d.]+)/([\d.]+)/([\d.]+) ms", stats["rtt"])
    assert m and float(m.group(1)) > 0, stats["rtt"]
    assert re.search(r"retransmitted \d+ fast, \d+ after \d+ RTOs; \d+ probes, [\d.]+ s at zero window",
                     stats["retransmissions"]), stats


def test_zero_window_probes_are_the_senders(lab, tcplab_bin):
    """A kernel sink with a tiny buffer that pauses: the peer's zero windows
    are marked from the wire; the probes marked on tcplab's segments are
    exactly the ones its sender sent as probes (no keep-alive guesses)."""
    path, digest = random_file(lab, 300_000)
    srv = lab.start_server("sink", PORT, extra=["--rcvbuf", "2048", "--pause-ms", "1500"])
    r = connect_json(lab, tcplab_bin, "--data-file", path)
    assert r.returncode == 0, r
    rec = srv.wait_records(1)[0]
    assert rec["received_len"] == 300_000 and rec["sha256"] == digest
    ev = r.json_lines()
    probes_sent = [e for e in ev if e["event"] == "endpoint" and e["what"] == "zero-window-probe"]
    marked = [e for e in ev if e["event"] == "segment" and e["from"] == "client"
              and "zero-window-probe" in marks(e)]
    assert probes_sent and len(marked) == len(probes_sent), (probes_sent, marked)
    assert [e["seq"] for e in marked] == [e["seq"] for e in probes_sent]
    assert not [e for e in ev if e["event"] == "segment" and e["from"] == "client"
                and "keep-alive" in marks(e)]
    zw = [e for e in ev if e["event"] == "segment" and e["from"] == "server"
          and "zero-window" in marks(e)]
    assert zw
    s = [e for e in ev if e["event"] == "summary"][0]
    assert s["client"]["zero_window_probes"] == len(probes_sent)
    assert s["server"]["zero_window_time"] > 0
    check_retransmission_causes(ev, "client")


# ---- flight collapse in live traces ---------------------------------------------------------

def listen_with_upload(lab, tcplab_bin, *opts):
    """tcplab listen (text) with a kernel client that uploads 200 KB and then
    waits for tcplab to close (which it does only at --timeout 20)."""
    lab.segmentation_off(lab.client_ns)    # MSS-sized segments: a real flight
    p = lab.spawn_in(lab.server_ns, [tcplab_bin, "listen", lab.server_ip, str(PORT), "--count", "1",
                                     "--timeout", "20", "--no-kernel-states"] + list(opts))
    L.wait_until(lambda: lab.tcplab_tables(lab.server_ns), 10.0, what="tcplab's table")
    c = lab.spawn_in(lab.client_ns, [L.TCPCLIENT, "--addr", lab.server_ip, "--port", str(PORT),
                                     "--send-bytes", "200000", "--no-shutdown",
                                     "--timeout-ms", "40000"])
    return p, c


def test_idle_prints_the_held_flight_while_the_wire_is_quiet(lab, tcplab_bin):
    """The uploaded flight is one collapsed line, on screen while the
    connection is still open and quiet — not only when the run ends."""
    p, c = listen_with_upload(lab, tcplab_bin)
    seen = []
    for raw in p.stdout:
        line = raw.decode("utf-8", "replace")
        seen.append(line)
        if re.search(r"C → S  ×\d+ ", line):
            break
    # the run is still going: the client waits, tcplab waits (--timeout 20)
    assert p.poll() is None, "".join(seen)
    assert not [x for x in seen if "silent" in x]
    assert re.search(r"data seq 1\.\.", "".join(seen[-2:])), seen[-2:]
    p.terminate()
    p.wait(timeout=30)


def test_verbose_prints_every_segment(lab, tcplab_bin):
    """-v: no collapsed line; one row per data segment, as many as the pcap
    the run wrote holds (replayed to JSON)."""
    pcap = lab.path("verbose", ".pcap")
    p, c = listen_with_upload(lab, tcplab_bin, "-v", "--timeout", "1", "-w", pcap)
    out, _ = p.communicate(timeout=60)
    text = out.decode("utf-8", "replace")
    assert "×" not in text
    rows = re.findall(r"^ +[\d.]+  C → S  \S+ +seq=\d+ \(\d+\) .* len=([1-9]\d*)$", text, re.M)
    r = L.run([tcplab_bin, "replay", "--json", str(pcap)])
    data = [e for e in r.json_lines() if e["event"] == "segment" and e["from"] == "client"
            and e["len"] > 0]
    assert len(data) > 20 and len(rows) == len(data), (len(rows), len(data))
    assert sum(int(n) for n in rows) == 200000
