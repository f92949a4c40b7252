"""test_sender.py — the driven endpoint's sender (include/tcplab/tcb.h) moving
real amounts of data against real kernel TCP stacks, checked at the kernel's
side: what the kernel peer received (length and SHA-256 of every byte, from
tests/lab/tcpserver's sink mode or tests/lab/tcpclient), and what crossed the
wire.  tcplab's own account (its JSON "endpoint" events) must show the
mechanisms at work: RTO and fast retransmissions under loss, zero window,
probes and the window update against a slow reader.

Loss is made by nftables `numgen random` on each namespace's output hook
(lab.random_loss(..., hook="out")).  A send that a local netfilter rule drops
fails with EPERM: tcplab, like Linux's TCP, counts it as a lost segment and
retransmits it.
"""

import hashlib
import json
import os
import re
import time

import pytest

import lab as L

PORT = 7200
EXIT_OK, EXIT_ERROR = 0, 1


def pattern(n):
    """The lab pattern (tcpserver --mode send, tcpclient --send-bytes)."""
    return bytes(((i * 131 + (i >> 8) * 7) & 255) for i in range(n))


def random_file(lab, n, name="data"):
    path = lab.path(name, ".bin")
    data = os.urandom(n)
    with open(path, "wb") as f:
        f.write(data)
    return path, hashlib.sha256(data).hexdigest()


def sink(lab, extra=()):
    """tcpserver --mode sink (one connection) in the server namespace."""
    return lab.start_server("sink", PORT, extra=extra)


def connect(lab, tcplab_bin, *opts, input=None, timeout=120, json_out=True):
    argv = [tcplab_bin, "connect"] + (["--json"] if json_out else []) + [str(o) for o in opts]
    argv += [lab.server_ip, str(PORT)]
    return L.run(argv, ns=lab.client_ns, timeout=timeout, input=input)


def endpoint_events(result, what=None):
    ev = [e for e in result.json_lines() if e["event"] == "endpoint"]
    return [e for e in ev if what is None or e["what"] == what]


def record(srv):
    recs = srv.wait_records(1, timeout=60)
    assert len(recs) == 1, recs
    return recs[0]


# ---------------------------------------------------------------------------
# uploads
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("size", [1_000_000, 20_000_000])
def test_upload_data_file(lab, tcplab_bin, size):
    """--data-file streams the file: every byte arrives at the kernel server,
    in order, and tcplab exits 0.  Nothing larger than the route allows
    leaves (the 3,000-byte file of issue 8 used to vanish)."""
    path, digest = random_file(lab, size)
    srv = sink(lab)
    # 20 MB as text (its JSON would be large); 1 MB as JSON with the events
    r = connect(lab, tcplab_bin, "--data-file", path, json_out=size <= 1_000_000)
    assert r.returncode == EXIT_OK, r
    rec = record(srv)
    assert rec["received_len"] == size, rec
    assert rec["sha256"] == digest
    assert rec["close"] == "eof"
    if size <= 1_000_000:
        segs = [e for e in r.json_lines() if e["event"] == "segment" and e["from"] == "client"]
        assert max(s["len"] for s in segs) <= 1448     # MSS 1460 minus timestamps
        pushed = [s for s in segs if s["len"] and "PSH" in s["flags"]]
        assert len(pushed) == 1, "PSH on the last segment of the one write only"
        cw = endpoint_events(r, "cwnd")
        assert cw and cw[0]["text"].startswith("cwnd 14480"), cw[:1]   # RFC 6928 IW
        assert any("slow start" in e["text"] for e in cw)
        stats = endpoint_events(r, "stats")
        assert stats and ("%d bytes acked" % size) in stats[0]["text"]


def test_upload_stdin(lab, tcplab_bin):
    """--data-file - reads standard input to EOF."""
    data = os.urandom(300_000)
    srv = sink(lab)
    r = connect(lab, tcplab_bin, "--data-file", "-", input=data)
    assert r.returncode == EXIT_OK, r
    rec = record(srv)
    assert rec["received_len"] == len(data)
    assert rec["sha256"] == hashlib.sha256(data).hexdigest()


def test_upload_under_loss(lab, tcplab_bin):
    """1 MB with 5 % random loss on each namespace's output: byte-exact, and
    the trace shows both RTO and fast retransmissions (the loss is random:
    up to three runs may be needed to see a fast retransmission)."""
    path, digest = random_file(lab, 1_000_000)
    lab.random_loss(lab.client_ns, 5, match="meta l4proto tcp", hook="out")
    lab.random_loss(lab.server_ns, 5, match="meta l4proto tcp", hook="out")
    seen = set()
    for attempt in range(3):
        srv = sink(lab)
        r = connect(lab, tcplab_bin, "--data-file", path, "--retries", "8")
        assert r.returncode == EXIT_OK, r
        rec = record(srv)
        assert rec["received_len"] == 1_000_000 and rec["sha256"] == digest, rec
        seen |= {e["what"] for e in endpoint_events(r)}
        retx = [e for e in r.json_lines() if e["event"] == "segment" and e["from"] == "client"
                and e["retransmission"]]
        assert retx, "no retransmission on the wire at 5 % loss"
        if {"rto", "fast-retransmit"} <= seen:
            break
        srv.stop()
    assert "rto" in seen and "fast-retransmit" in seen, seen
    assert "cwnd" in seen


def test_zero_window_probe_and_update(lab, tcplab_bin):
    """A kernel server with a tiny receive buffer that pauses before reading:
    its window goes to zero, tcplab probes (RFC 9293 §3.8.6.1) with back-off,
    the window update resumes the transfer, every byte arrives."""
    path, digest = random_file(lab, 300_000)
    srv = sink(lab, ["--rcvbuf", "2048", "--pause-ms", "1500"])
    cap = lab.start_capture(lab.server_ns)
    r = connect(lab, tcplab_bin, "--data-file", path)
    assert r.returncode == EXIT_OK, r
    rec = record(srv)
    assert rec["received_len"] == 300_000 and rec["sha256"] == digest
    whats = [e["what"] for e in endpoint_events(r)]
    assert "zero-window" in whats and "zero-window-probe" in whats and "window-update" in whats, whats
    probes = endpoint_events(r, "zero-window-probe")
    assert all(p["len"] == 1 for p in probes)
    # the server's side: it advertised a zero window, and received 1-byte probes
    cap.stop()
    segs = cap.packets()
    assert any(s["src"] == lab.server_ip and s["win"] == 0 for s in segs)
    assert any(s["src"] == lab.client_ip and s["len"] == 1 for s in segs)


def test_send_failure_is_exit_1(lab, tcplab_bin):
    """A segment the kernel refuses to send (here: the interface MTU lowered
    under a running transfer, so a full segment no longer fits) is one clear
    sentence on stderr and exit 1 — never a silent timeout."""
    path, _ = random_file(lab, 3_000_000)
    sink(lab, ["--pause-ms", "1500"])
    argv = [tcplab_bin, "connect", "--data-file", path, lab.server_ip, str(PORT)]
    out = open(lab.path("fail", ".txt"), "wb")
    err = open(lab.path("fail", ".err"), "w+b")
    p = lab.spawn_in(lab.client_ns, argv, stdout=out, stderr=err)
    time.sleep(0.7)       # the server's window fills while it pauses
    L.run(["ip", "link", "set", lab.client_if, "mtu", "1000"], ns=lab.client_ns, check=True)
    rc = p.wait(timeout=60)
    err.seek(0)
    text = err.read().decode()
    assert rc == EXIT_ERROR, text
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert len(lines) == 1 and "cannot send" in lines[0], text


# ---------------------------------------------------------------------------
# listen --data-file
# ---------------------------------------------------------------------------

def start_listen(lab, tcplab_bin, *opts):
    argv = [tcplab_bin, "listen", lab.server_ip, str(PORT)] + [str(o) for o in opts]
    out = open(lab.path("listen", ".txt"), "wb")
    p = lab.spawn_in(lab.server_ns, argv, stdout=out, stderr=L.subprocess.PIPE)
    L.wait_until(lambda: os.path.getsize(out.name) > 0, 10, what="tcplab listen ready")
    return p, out.name


@pytest.mark.parametrize("loss", [0, 5])
def test_listen_data_file(lab, tcplab_bin, loss):
    """listen --data-file sends the file to a kernel client that hashes it,
    clean and at 5 % loss each way."""
    path, digest = random_file(lab, 5_000_000)
    if loss:
        lab.random_loss(lab.client_ns, loss, hook="out")
        lab.random_loss(lab.server_ns, loss, hook="out")
    p, out = start_listen(lab, tcplab_bin, "--data-file", path, "--count", "1", "--retries", "8")
    r, recs = lab.client(PORT, extra=["--timeout-ms", "90000"], timeout=120)
    assert recs and recs[0]["received_len"] == 5_000_000, (r, recs and {k: v for k, v in recs[0].items() if k != "received"})
    assert recs[0]["sha256"] == digest
    assert recs[0]["eof"] == "clean"
    assert p.wait(timeout=60) == EXIT_OK
    text = open(out).read()
    assert "5000000 bytes acked" in text
    if loss:
        m = re.search(r"retransmitted (\d+) fast, (\d+) after", text)
        assert m and int(m.group(1)) + int(m.group(2)) > 0, text[-2000:]


def reassemble(segs, src):
    """The byte stream src sent, from a capture (retransmissions merged)."""
    data = {}
    base = None
    for s in segs:
        if s["src"] != src:
            continue
        if "S" in s["fl"]:
            base = s["seq"] + 1
            continue
        if s["len"] and base is not None:
            data[(s["seq"] - base) % 2**32] = s["payload"]
    out = bytearray()
    for off in sorted(data):
        chunk = data[off]
        if off + len(chunk) <= len(out):
            continue
        assert off <= len(out), "hole at %d" % len(out)
        out += chunk[len(out) - off:]
    return bytes(out)


def test_connect_against_listen(lab, tcplab_bin):
    """tcplab connect against tcplab listen, 1 MB each way: both exit 0 and
    the wire (a capture in the server namespace) carries each file whole."""
    up, up_digest = random_file(lab, 1_000_000, "up")
    down, down_digest = random_file(lab, 1_000_000, "down")
    cap = lab.start_capture(lab.server_ns, bulk=True)
    p, out = start_listen(lab, tcplab_bin, "--data-file", down, "--count", "1")
    r = connect(lab, tcplab_bin, "--data-file", up, json_out=False)
    assert r.returncode == EXIT_OK, r
    assert p.wait(timeout=60) == EXIT_OK
    cap.stop()
    segs = cap.packets()
    assert hashlib.sha256(reassemble(segs, lab.client_ip)).hexdigest() == up_digest
    assert hashlib.sha256(reassemble(segs, lab.server_ip)).hexdigest() == down_digest
    assert "1000000 bytes acked" in r.out
    assert "1000000 bytes acked" in open(out).read()


# ---------------------------------------------------------------------------
# a kernel server's data with one segment lost on the way
# ---------------------------------------------------------------------------

def test_download_one_segment_lost(lab, tcplab_bin):
    """The kernel server sends 300 KB; one of its data segments is lost once
    on the way (dropped by a router namespace between the two: a drop in the
    server's own output would be retried by its TCP at once, and one in
    tcplab's namespace comes after tcplab's capture).  tcplab holds what
    follows the hole, answers with duplicate ACKs carrying SACK blocks, the
    server retransmits fast, tcplab delivers every byte in order."""
    k = lab.name + "-k"                        # the kernel server, behind lab.server_ns
    net = "198.19.%d" % lab.subnet
    size = 300_000
    L.run(["ip", "netns", "add", k], check=True)
    try:
        L.run(["ip", "link", "set", "lo", "up"], ns=k, check=True)
        L.run(["ip", "link", "add", "tlr0", "netns", lab.server_ns, "type", "veth", "peer", "name",
               "tlk0", "netns", k], check=True)
        L.run(["ip", "addr", "add", net + ".1/24", "dev", "tlr0"], ns=lab.server_ns, check=True)
        L.run(["ip", "link", "set", "tlr0", "up"], ns=lab.server_ns, check=True)
        L.run(["ip", "addr", "add", net + ".2/24", "dev", "tlk0"], ns=k, check=True)
        L.run(["ip", "link", "set", "tlk0", "up"], ns=k, check=True)
        L.run(["ip", "route", "add", "198.18.%d.0/24" % lab.subnet, "via", net + ".1"], ns=k, check=True)
        L.run(["ip", "route", "add", net + ".0/24", "via", lab.server_ip], ns=lab.client_ns, check=True)
        L.run(["sysctl", "-qw", "net.ipv4.ip_forward=1"], ns=lab.server_ns, check=True)
        # MSS-sized segments from the kernel (no TSO/GSO), so one segment is lost
        L.run(["ethtool", "-K", "tlk0", "tso", "off", "gso", "off"], ns=k, check=True)
        L.run(["nft", "-f", "-"], ns=lab.server_ns, check=True, input=(
            "table inet tl_route {\n"
            " chain forwarding { type filter hook forward priority 0; policy accept;\n"
            "  ip saddr %s.2 tcp sport %d ip length > 1000 numgen inc mod 1000000 == 5 counter drop\n"
            " }\n"
            "}\n" % (net, PORT)).encode())
        srv = L.Server("send", PORT, net + ".2", lab.path("send", ".jsonl"), ns=k,
                       extra=["--send-bytes", size])
        lab._procs.append(srv.proc)
        srv.wait_ready()
        cap = lab.start_capture(lab.client_ns, bulk=True)
        argv = [tcplab_bin, "connect", "--json", "--close", "server", net + ".2", str(PORT)]
        r = L.run(argv, ns=lab.client_ns, timeout=60)
        assert r.returncode == EXIT_OK, r
        rec = record(srv)
        assert rec["sent_len"] == size and rec["close"] == "eof", rec
        drops = L.run(["nft", "list", "chain", "inet", "tl_route", "forwarding"], ns=lab.server_ns).out
        assert "packets 1 " in drops, drops
        cap.stop()

        ev = r.json_lines()
        segs = [e for e in ev if e["event"] == "segment"]
        # duplicate ACKs from tcplab, with SACK blocks, before the retransmission
        retx = [i for i, s in enumerate(segs) if s["from"] == "server" and s["retransmission"]]
        assert retx, "the server never retransmitted"
        acks = [s for s in segs[:retx[0]] if s["from"] == "client" and s["len"] == 0]
        hole = min(s["rel_seq"] for s in (segs[i] for i in retx))
        dups = [s for s in acks if s["rel_ack"] == hole]
        assert len(dups) >= 3, [(s["rel_ack"], s.get("options")) for s in acks[-6:]]
        assert any(s.get("options", {}).get("sack") for s in dups), dups[-1]
        assert any(e["what"] == "out-of-order" for e in ev if e["event"] == "endpoint")
        stats = [e for e in ev if e["event"] == "endpoint" and e["what"] == "stats"]
        assert stats and ("%d received" % size) in stats[0]["text"], stats
        # the wire carried the whole stream; tcplab acknowledged all of it
        wire = reassemble(cap.packets(), net + ".2")
        assert wire == pattern(size)
        last_ack = max(s["rel_ack"] for s in segs if s["from"] == "client" and s["rel_ack"] is not None)
        assert last_ack >= size + 1
    finally:
        L.run(["ip", "netns", "del", k])


def test_writes_psh_and_iw(lab, tcplab_bin):
    """Each --data is one write: cut into MSS-sized segments, PSH on the last
    segment of each write (here 3,000 bytes then 10: 1448, 1448, 104 PSH,
    10 PSH), in command-line order with --data-file; --iw 2 sets the
    initial window to two segments."""
    big = "x" * 3000
    path, _ = random_file(lab, 5000)
    srv = sink(lab)
    r = connect(lab, tcplab_bin, "--iw", "2", "--data", big, "--data", "0123456789",
                "--data-file", path)
    assert r.returncode == EXIT_OK, r
    rec = record(srv)
    assert rec["received_len"] == 3000 + 10 + 5000
    assert rec["received_hex"].startswith((big + "0123456789").encode().hex())
    segs = [e for e in r.json_lines() if e["event"] == "segment" and e["from"] == "client"
            and e["len"] and not e["retransmission"]]
    lens = [s["len"] for s in segs]
    psh = ["PSH" in s["flags"] for s in segs]
    assert lens[:4] == [1448, 1448, 104, 10], lens
    assert psh[:4] == [False, False, True, True], psh
    assert sum(lens) == 8010 and psh[-1] and psh.count(True) == 3
    cw = endpoint_events(r, "cwnd")
    assert cw[0]["cwnd"] == 2 * 1448 and "initial window" in cw[0]["text"], cw[0]


def test_memory_follows_windows_not_file(lab, tcplab_bin):
    """A 100 MB upload streams: tcplab's peak memory is that of a 20 MB
    upload (the send queue, the receive buffer, the capture ring), not the
    file's size."""
    peaks = {}
    for size in (20_000_000, 100_000_000):
        path, digest = random_file(lab, size, "mem")
        srv = sink(lab)
        out = lab.path("mem-trace", ".txt")
        argv = ["/usr/bin/time", "-f", "maxrss %M", tcplab_bin, "connect", "--data-file", path,
                lab.server_ip, str(PORT)]
        r = L.run(["sh", "-c", 'exec "$@" > %s' % out, "sh"] + argv, ns=lab.client_ns, timeout=180)
        assert r.returncode == EXIT_OK, r
        rec = record(srv)
        assert rec["received_len"] == size and rec["sha256"] == digest
        peaks[size] = int(re.search(r"maxrss (\d+)", r.err).group(1))   # KiB
        os.unlink(path)
    assert peaks[100_000_000] < peaks[20_000_000] + 16 * 1024, peaks
    assert peaks[100_000_000] * 1024 < 100_000_000, peaks
