"""test_lab.py — tests of the test lab itself, with kernel clients only.

Before tcplab is judged against the lab, the lab is judged against Linux:
tcpclient and nc (kernel TCP) talk to tcpserver in every mode, and the server
log, the tshark-decoded captures and the nft counters must agree with what
RFC 9293 and the Linux stack do.  If one of these fails, a failing tcplab
test says nothing about tcplab.
"""

import os
import signal

import pytest

import lab as L
from lab import conversation, payload_from, first_index, teardown_complete, side

PORT = 7000
HERE = os.path.dirname(os.path.abspath(__file__))


def only(items):
    assert len(items) == 1, items
    return items[0]


def no_rst(segs):
    return not [s for s in segs if "RST" in s["flags"]]


# ---------------------------------------------------------------------------
# Topology
# ---------------------------------------------------------------------------

def test_topology(lab):
    names = L.list_namespaces()
    assert lab.client_ns in names and lab.server_ns in names
    assert lab.client_ns.startswith("tl-%d-" % os.getpid())
    assert lab.client_ip.startswith("198.18.") and lab.server_ip.startswith("198.18.")
    for ns, ifname, ip in ((lab.client_ns, lab.client_if, lab.client_ip),
                           (lab.server_ns, lab.server_if, lab.server_ip)):
        routes = lab.run_in(ns, ["ip", "-4", "route", "show"], check=True).out
        assert "default" not in routes, routes      # nothing can leave the lab
        assert "198.18.%d.0/24" % lab.subnet in routes
        assert ip + "/24" in lab.run_in(ns, ["ip", "-4", "addr", "show", "dev", ifname],
                                        check=True).out
        lo = lab.run_in(ns, ["ip", "-o", "link", "show", "lo"], check=True).out
        assert "LOWER_UP" in lo or ",UP" in lo, lo
        # Only lo and the veth end live in the namespace.
        links = lab.run_in(ns, ["ip", "-o", "link", "show"], check=True).out
        assert len(links.strip().splitlines()) == 2, links
        assert lab.nft_tables(ns) == []


def test_two_labs_are_separate(lab):
    with L.NetnsLab() as other:
        assert {other.client_ns, other.server_ns}.isdisjoint({lab.client_ns, lab.server_ns})
        assert other.subnet != lab.subnet
        srv = other.start_server("echo", PORT)
        r, recs = other.client(PORT, "two", ["--expect-echo"])
        assert r.returncode == 0, r
        assert only(srv.wait_records())["received"] == b"two"
        # The first lab cannot reach the second one's server.
        r, recs = lab.client(PORT, "x", addr=other.server_ip, extra=["--timeout-ms", "300"])
        assert r.returncode == 1 and recs[0]["connected"] is False
    assert other.client_ns not in L.list_namespaces()
    assert other.server_ns not in L.list_namespaces()


# ---------------------------------------------------------------------------
# tcpserver modes against kernel clients
# ---------------------------------------------------------------------------

def test_echo_mode(lab):
    srv = lab.start_server("echo", PORT)
    cap = lab.start_capture(lab.server_ns)
    r, recs = lab.client(PORT, "hello", ["--expect-echo"])
    assert r.returncode == 0, r
    c = only(recs)
    assert c["connected"] and c["received"] == "hello" and c["eof"] == "clean"
    assert srv.wait() == 0                         # --count 1: exits by itself
    rec = only(srv.records())
    assert rec["peer"] == c["local"]
    assert rec["accepted"] is True
    assert rec["received"] == b"hello" and rec["received_len"] == 5
    assert rec["close"] == "eof" and rec["peer_fin"] is True
    assert rec["sent_len"] == 5
    segs = cap.wait_for(lambda s: teardown_complete(s, lab.client_ip))
    conv = conversation(segs, lab.client_ip)
    assert conv[:3] == ["C:S", "S:SA", "C:A"], conv
    assert payload_from(segs, lab.client_ip, "C") == b"hello"
    assert payload_from(segs, lab.client_ip, "S") == b"hello"
    # The client closes first (RFC 9293 §3.6 case 1): its FIN comes before
    # the server's, and the last segment is the client's ACK of that FIN.
    assert first_index(segs, lab.client_ip, "C", "FIN") < first_index(segs, lab.client_ip,
                                                                      "S", "FIN")
    assert conv[-1] == "C:A", conv
    assert no_rst(segs), conv


def test_echo_mode_with_nc(lab):
    srv = lab.start_server("echo", PORT)
    # nc -N: shutdown(SHUT_WR) after stdin's EOF, like tcpclient.
    r = lab.run_in(lab.client_ns, ["nc", "-N", "-w", "10", lab.server_ip, str(PORT)],
                   input=b"hello from nc\n")
    assert r.returncode == 0, r
    assert r.stdout == b"hello from nc\n"
    rec = only(srv.wait_records())
    assert rec["received"] == b"hello from nc\n" and rec["close"] == "eof"


def test_greeting_and_parallel_clients(lab):
    srv = lab.start_server("echo", PORT, count=20, greeting="hi\n")
    r, recs = lab.client(PORT, "hello", ["--count", "20", "--parallel", "5"])
    assert r.returncode == 0, r
    assert len(recs) == 20
    assert all(x["received"] == "hi\nhello" and x["eof"] == "clean" for x in recs), recs
    assert srv.wait() == 0
    recs = srv.records()
    assert len(recs) == 20
    assert all(x["received"] == b"hello" and x["sent_len"] == 8 for x in recs)
    assert len({x["peer"] for x in recs}) == 20


def test_close_first_mode(lab):
    srv = lab.start_server("close-first", PORT, delay_ms=200)
    cap = lab.start_capture(lab.server_ns)
    # --no-shutdown: the client sends and then waits for the server's FIN.
    r, recs = lab.client(PORT, "hello", ["--no-shutdown"])
    assert r.returncode == 0, r
    c = only(recs)
    assert c["received"] == "" and c["eof"] == "clean"
    assert c["elapsed_us"] >= 150000                # the server waited its delay
    rec = only(srv.wait_records())
    assert rec["received"] == b"hello"
    assert rec["close"] == "server-closed" and rec["sent_len"] == 0
    segs = cap.wait_for(lambda s: teardown_complete(s, lab.client_ip))
    conv = conversation(segs, lab.client_ip)
    assert conv[:3] == ["C:S", "S:SA", "C:A"], conv
    # The server's FIN is first; the client (CLOSE-WAIT) answers with its
    # own FIN, and the server's ACK of it is the last segment.
    sfin = first_index(segs, lab.client_ip, "S", "FIN")
    cfin = first_index(segs, lab.client_ip, "C", "FIN")
    assert sfin < cfin, conv
    assert conv[-1] == "S:A", conv
    assert segs[sfin]["t"] - segs[0]["t"] >= 0.15
    assert no_rst(segs), conv


def test_close_first_mode_client_fin_first(lab):
    """A client that closes before the server's delay is over: the server
    logs eof, not server-closed."""
    srv = lab.start_server("close-first", PORT, delay_ms=500)
    r, recs = lab.client(PORT, "hello")
    assert r.returncode == 0, r
    rec = only(srv.wait_records())
    assert rec["close"] == "eof" and rec["peer_fin"] is True


def test_half_close_mode(lab):
    srv = lab.start_server("half-close", PORT)
    cap = lab.start_capture(lab.server_ns)
    r, recs = lab.client(PORT, "hello")
    assert r.returncode == 0, r
    c = only(recs)
    assert c["received"] == L.LATE_DATA.decode() and c["eof"] == "clean"
    rec = only(srv.wait_records())
    assert rec["received"] == b"hello" and rec["close"] == "eof"
    assert rec["sent_len"] == len(L.LATE_DATA)
    segs = cap.wait_for(lambda s: teardown_complete(s, lab.client_ip))
    conv = conversation(segs, lab.client_ip)
    cfin = first_index(segs, lab.client_ip, "C", "FIN")
    late = [i for i, s in enumerate(segs) if side(s, lab.client_ip) == "S" and s["len"]]
    assert late and late[0] > cfin, conv          # server data after the client's FIN
    assert payload_from(segs, lab.client_ip, "S") == L.LATE_DATA
    # The client, half-closed (FIN-WAIT-2), still ACKs that data.
    d = segs[late[0]]
    end = (d["seq"] + d["len"]) & 0xFFFFFFFF
    assert any(side(s, lab.client_ip) == "C" and s["ack"] == end or
               side(s, lab.client_ip) == "C" and s["ack"] == (end + 1) & 0xFFFFFFFF
               for s in segs[late[0] + 1:]), conv
    assert first_index(segs, lab.client_ip, "S", "FIN") >= late[0]
    assert no_rst(segs), conv


def test_half_close_mode_delay(lab):
    """--delay-ms in half-close mode: the late data waits after the FIN."""
    lab.start_server("half-close", PORT, delay_ms=300)
    cap = lab.start_capture(lab.server_ns)
    r, recs = lab.client(PORT, "hello")
    assert r.returncode == 0, r
    assert only(recs)["elapsed_us"] >= 300000
    segs = cap.wait_for(lambda s: teardown_complete(s, lab.client_ip))
    cfin = segs[first_index(segs, lab.client_ip, "C", "FIN")]
    data = next(s for s in segs if side(s, lab.client_ip) == "S" and s["len"])
    assert data["t"] - cfin["t"] >= 0.28


def test_rst_mode(lab):
    srv = lab.start_server("rst", PORT, delay_ms=200)
    cap = lab.start_capture(lab.server_ns)
    r, recs = lab.client(PORT, "hello", ["--no-shutdown"])
    assert r.returncode == 1, r                    # tcpclient: not a clean EOF
    c = only(recs)
    assert c["connected"] and c["eof"] == "reset"
    rec = only(srv.wait_records())
    assert rec["received"] == b"hello" and rec["close"] == "server-reset"
    assert rec["peer_fin"] is False
    segs = cap.wait_for(lambda s: any("RST" in x["flags"] for x in s))
    conv = conversation(segs, lab.client_ip)
    rsts = [s for s in segs if "RST" in s["flags"]]
    assert [side(s, lab.client_ip) for s in rsts] == ["S"], conv
    assert first_index(segs, lab.client_ip, "S", "FIN") is None, conv
    assert first_index(segs, lab.client_ip, "C", "FIN") is None, conv
    # An abortive close carries the next sequence number (RFC 9293 §3.10.7.4
    # would accept it): seq of the RST = the server's ISN + 1.
    syn_ack = segs[1]
    assert conv[1] == "S:SA"
    assert rsts[0]["seq"] == (syn_ack["seq"] + 1) & 0xFFFFFFFF


def test_rst_mode_after_client_fin(lab):
    srv = lab.start_server("rst", PORT, delay_ms=200)
    cap = lab.start_capture(lab.server_ns)
    r, recs = lab.client(PORT, "hello")
    c = only(recs)
    assert c["eof"] in ("reset", "clean"), c      # the RST may beat the read
    rec = only(srv.wait_records())
    assert rec["close"] == "server-reset" and rec["peer_fin"] is True
    segs = cap.wait_for(lambda s: any("RST" in x["flags"] for x in s))
    conv = conversation(segs, lab.client_ip)
    assert first_index(segs, lab.client_ip, "C", "FIN") < first_index(segs, lab.client_ip,
                                                                      "S", "RST"), conv
    assert first_index(segs, lab.client_ip, "S", "FIN") is None, conv


def test_silent_mode(lab):
    srv = lab.start_server("silent", PORT)
    cap = lab.start_capture(lab.server_ns)
    r, recs = lab.client(PORT, "hello", ["--no-shutdown", "--timeout-ms", "300"])
    c = only(recs)
    assert c["connected"] and c["eof"] == "timeout" and c["received"] == ""
    # The client has closed; the silent server holds its end (CLOSE-WAIT)
    # and has logged nothing yet.
    peer = c["local"]
    L.wait_until(lambda: [x for x in lab.tcp_sockets(lab.server_ns)
                          if x[0] == "CLOSE-WAIT" and x[2] == peer], 5.0,
                 what="CLOSE-WAIT in the server namespace")
    assert srv.running and srv.records() == []
    rec = only(srv.stop())
    assert rec["received"] == b"hello" and rec["sent_len"] == 0
    assert rec["close"] == "eof"                   # drained at stop: data, then the FIN
    segs = cap.packets()
    conv = conversation(segs, lab.client_ip)
    assert conv[:3] == ["C:S", "S:SA", "C:A"], conv
    assert payload_from(segs, lab.client_ip, "C") == b"hello"
    assert payload_from(segs, lab.client_ip, "S") == b""


def test_silent_mode_open_at_stop(lab):
    """A connection still open when the server is stopped is logged "open"."""
    srv = lab.start_server("silent", PORT)
    client = lab.spawn_in(lab.client_ns, [L.TCPCLIENT, "--addr", lab.server_ip, "--port",
                                          str(PORT), "--send", "abc", "--no-shutdown"])
    L.wait_until(lambda: [x for x in lab.tcp_sockets(lab.server_ns)
                          if x[0] == "ESTAB" and x[1].endswith(":%d" % PORT)], 5.0,
                 what="ESTAB in the server namespace")
    rec = only(srv.stop())
    assert rec["close"] == "open" and rec["peer_fin"] is False
    assert rec["received"] == b"abc"
    out, _ = client.communicate(timeout=L.TIMEOUT)
    assert b'"eof":"clean"' in out                 # the server's close was a FIN


def test_refused(lab):
    cap = lab.start_capture(lab.server_ns)
    r, recs = lab.client(PORT, "hello")
    assert r.returncode == 1
    assert only(recs) == {"connected": False, "error": "Connection refused",
                          "elapsed_us": recs[0]["elapsed_us"]}
    segs = cap.wait_for(lambda s: len(s) >= 2)
    conv = conversation(segs, lab.client_ip)
    assert conv == ["C:S", "S:RA"], conv           # RFC 9293 §3.10.7.1: CLOSED answers RST
    assert segs[1]["ack"] == (segs[0]["seq"] + 1) & 0xFFFFFFFF


# ---------------------------------------------------------------------------
# Loss
# ---------------------------------------------------------------------------

def test_drop_first_syn(lab):
    rule = lab.drop_first_syn(lab.server_ns, PORT)
    srv = lab.start_server("echo", PORT)
    cap_c = lab.start_capture(lab.client_ns)
    cap_s = lab.start_capture(lab.server_ns)
    cap_stack = lab.start_capture(lab.server_ns, "stack")
    r, recs = lab.client(PORT, "hello", ["--expect-echo"])
    assert r.returncode == 0, r
    assert only(recs)["elapsed_us"] >= 900000      # one initial RTO (RFC 6298: 1 s)
    assert only(srv.wait_records())["received"] == b"hello"
    assert rule.dropped() == 1
    cap_c.wait_for(lambda s: teardown_complete(s, lab.client_ip))
    cap_s.wait_for(lambda s: teardown_complete(s, lab.client_ip))
    cap_stack.wait_for(lambda s: teardown_complete(s, lab.client_ip))
    cseg, sseg, kseg = cap_c.packets(), cap_s.packets(), cap_stack.packets()

    def syns(segs):
        return [s for s in segs if s["fl"] == "S"]
    # The client sent its SYN twice: same ISN, ~1 s apart.
    c_syns = syns(cseg)
    assert len(c_syns) == 2, conversation(cseg, lab.client_ip)
    assert c_syns[0]["seq"] == c_syns[1]["seq"]
    assert 0.9 <= c_syns[1]["t"] - c_syns[0]["t"] <= 1.6
    # The server's stack received exactly one: the retransmission.
    k_syns = syns(kseg)
    assert len(k_syns) == 1, conversation(kseg, lab.client_ip)
    assert abs(k_syns[0]["t"] - c_syns[1]["t"]) < 0.1
    # The veth capture in the server namespace taps before netfilter (the
    # drop sits "on the wire"), so it sees both; the server answered once.
    assert len(syns(sseg)) == 2
    assert conversation(sseg, lab.client_ip).count("S:SA") == 1
    sa = first_index(sseg, lab.client_ip, "S", "SYN")
    assert sseg[sa]["t"] >= syns(sseg)[1]["t"]
    for segs in (cseg, sseg, kseg):
        assert no_rst(segs)


def test_drop_first_syn_client_side(lab):
    """hook="out" drops before the client's own tap: its capture sees one SYN."""
    rule = lab.drop_first_syn(lab.client_ns, PORT, hook="out")
    lab.start_server("echo", PORT)
    cap_c = lab.start_capture(lab.client_ns)
    r, recs = lab.client(PORT, "x", ["--expect-echo"])
    assert r.returncode == 0, r
    assert rule.dropped() == 1
    segs = cap_c.wait_for(lambda s: teardown_complete(s, lab.client_ip))
    assert conversation(segs, lab.client_ip)[:3] == ["C:S", "S:SA", "C:A"]


def test_drop_first_data_segment(lab):
    rule = lab.drop_first(lab.server_ns, "tcp dport %d tcp flags & psh == psh" % PORT)
    srv = lab.start_server("echo", PORT)
    cap_c = lab.start_capture(lab.client_ns)
    cap_stack = lab.start_capture(lab.server_ns, "stack")
    r, recs = lab.client(PORT, "hello", ["--expect-echo"])
    assert r.returncode == 0, r
    assert rule.dropped() == 1
    assert only(srv.wait_records())["received"] == b"hello"
    cseg = cap_c.wait_for(lambda s: teardown_complete(s, lab.client_ip))
    kseg = cap_stack.wait_for(lambda s: teardown_complete(s, lab.client_ip))
    data_c = [s for s in cseg if side(s, lab.client_ip) == "C" and s["payload"] == b"hello"]
    data_k = [s for s in kseg if side(s, lab.client_ip) == "C" and s["payload"] == b"hello"]
    assert len(data_c) == 2 and data_c[0]["seq"] == data_c[1]["seq"]
    assert len(data_k) == 1


def test_random_loss_all(lab):
    rule = lab.random_loss(lab.server_ns, 100)
    srv = lab.start_server("echo", PORT)
    r, recs = lab.client(PORT, "x", ["--timeout-ms", "1500"])
    assert r.returncode == 1
    assert only(recs)["connected"] is False
    assert rule.dropped() >= 2                    # the SYN and its retransmission
    rule.delete()
    r, recs = lab.client(PORT, "x", ["--expect-echo"])
    assert r.returncode == 0, r
    assert only(srv.wait_records())["received"] == b"x"
    with pytest.raises(ValueError):
        lab.random_loss(lab.server_ns, 0)


def test_random_loss_is_random(lab):
    """numgen random mod 100 < 50 drops about half.  UDP in the output hook,
    because there a drop is counted exactly by the sender: sendto() fails
    with EPERM."""
    rule = lab.random_loss(lab.client_ns, 50, match="udp dport 9", hook="out")
    script = ("import socket, errno\n"
              "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
              "n = 0\n"
              "for _ in range(400):\n"
              "    try:\n"
              "        s.sendto(b'x', ('%s', 9))\n"
              "    except PermissionError:\n"
              "        n += 1\n"
              "print(n)\n" % lab.server_ip)
    r = lab.run_in(lab.client_ns, ["/usr/bin/python3", "-c", script], check=True)
    dropped = int(r.out)
    assert 120 <= dropped <= 280                   # p = 0.5, sd = 10
    assert rule.dropped() == dropped


# ---------------------------------------------------------------------------
# Clean-up
# ---------------------------------------------------------------------------

def test_teardown_removes_everything(tmp_path):
    with L.NetnsLab() as lb:
        names = (lb.client_ns, lb.server_ns)
        workdir = lb.workdir
        srv = lb.start_server("silent", PORT)
        cap = lb.start_capture(lb.server_ns)
        lb.start_capture(lb.client_ns, "stack")
        lb.drop_first_syn(lb.server_ns, PORT)
        lb.client(PORT, "x", ["--no-shutdown", "--timeout-ms", "200"])
        pids = [srv.proc.pid, cap.proc.pid]
        assert set(names) <= set(L.list_namespaces())
    left = set(L.list_namespaces())
    assert not (set(names) & left)
    assert not [p for p in pids if L.pid_alive(p)]
    assert not workdir.exists()
    assert not [t for t in L.nft_tables(None) if t.endswith(L.LAB_TABLE)]


def test_teardown_on_exception():
    with pytest.raises(RuntimeError, match="boom"):
        with L.NetnsLab() as lb:
            names = (lb.client_ns, lb.server_ns)
            srv = lb.start_server("silent", PORT)
            raise RuntimeError("boom")
    assert not (set(names) & set(L.list_namespaces()))
    assert not L.pid_alive(srv.proc.pid)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_teardown_on_signal(sig):
    """A test process killed by a signal still deletes its namespaces."""
    script = ("import sys, time\n"
              "sys.path.insert(0, %r)\n"
              "import lab\n"
              "with lab.NetnsLab() as lb:\n"
              "    srv = lb.start_server('silent', 7000)\n"
              "    print(lb.client_ns, lb.server_ns, srv.proc.pid, flush=True)\n"
              "    time.sleep(60)\n" % HERE)
    p = L.spawn(["/usr/bin/python3", "-c", script])
    try:
        line = L._LineReader(p.stdout).read_until(lambda s: s.startswith("tl-"), 20.0)
        assert line, p.stderr.read()
        cns, sns, spid = line.split()
        assert {cns, sns} <= set(L.list_namespaces())
        p.send_signal(sig)
        p.wait(timeout=20)
        assert p.returncode != 0
        assert not ({cns, sns} & set(L.list_namespaces()))
        assert not L.pid_alive(int(spid))
    finally:
        L.stop_process(p, sig=signal.SIGKILL)
        L.cleanup_leftovers(p.pid)
        p.stdout.close()
        p.stderr.close()


def test_loopback_server(loopback_server):
    srv = loopback_server("echo")
    assert srv.addr == "127.0.0.1" and 0 < srv.port < 65536
    # The listening socket is on loopback only.
    listening = L.run(["ss", "-Htln", "sport", "= :%d" % srv.port], check=True).out.split()
    assert "127.0.0.1:%d" % srv.port in listening, listening
    r = L.run([L.TCPCLIENT, "--addr", "127.0.0.1", "--port", str(srv.port), "--send",
               "hello", "--expect-echo"])
    assert r.returncode == 0, r
    rec = only(srv.wait_records())
    assert rec["peer"].startswith("127.0.0.1:") and rec["received"] == b"hello"


def test_lab_binaries_reject_bad_usage():
    for argv in ([L.TCPSERVER], [L.TCPSERVER, "--port", "7000", "--mode", "nope"],
                 [L.TCPSERVER, "--port", "70000"], [L.TCPCLIENT, "--addr", "x"],
                 [L.TCPCLIENT, "--addr", "127.0.0.1", "--port", "0"]):
        r = L.run(argv)
        assert r.returncode == 2, r
        assert r.stdout == b"" and b"usage" in r.stderr
