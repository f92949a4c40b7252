"""test_listen.py — `tcplab listen` (the crafted server) against real kernel clients.

tcplab listens in the lab's server namespace with no kernel socket behind
the port; the clients are the Linux stack in the client namespace: a
class-style Python socket client, tests/lab/tcpclient (also ten at once),
and `tcplab connect` itself.  Every case checks the client's own account
(connect() succeeded, the exact echo, a clean EOF, no ECONNRESET) and a
tshark-decoded capture taken in the CLIENT namespace, besides tcplab's
JSON trace; afterwards no tcplab_* table is left in the namespace.
"""

import json
import os
import select
import signal
import time

import kstates_oracle
import lab as L
from lab import conversation

PORT = 7100

SERVER_PASSIVE = ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT", "LAST-ACK", "CLOSED"]
SERVER_ACTIVE = ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2",
                 "TIME-WAIT", "CLOSED"]

# The class-style client from a socket-programming course.
CLASS_CLIENT = r"""
import socket, sys, json
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
s.sendall(b"hello")
got = b""
while len(got) < 5:
    d = s.recv(100)
    if not d:
        break
    got += d
s.shutdown(socket.SHUT_WR)
eof = "clean"
try:
    rest = s.recv(100)
    if rest:
        eof = "extra data %r" % rest
except ConnectionResetError:
    eof = "reset"
s.close()
print(json.dumps({"connected": True, "received": got.decode("latin-1"), "eof": eof}))
"""

SLOW_CLIENT = r"""
import socket, sys, json, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
time.sleep(float(sys.argv[3]))       # silent: only the handshake's ACK goes out
s.sendall(b"late")
got = s.recv(100)
s.shutdown(socket.SHUT_WR)
eof = "clean"
try:
    if s.recv(100):
        eof = "extra"
except ConnectionResetError:
    eof = "reset"
s.close()
print(json.dumps({"received": got.decode("latin-1"), "eof": eof}))
"""


class Listener:
    """tcplab listen running in a namespace, with its JSON Lines collected."""

    def __init__(self, lab, tcplab_bin, args, ns=None, addr=None, port=PORT):
        self.lab = lab
        self.ns = ns if ns is not None else lab.server_ns
        addr = addr or lab.server_ip
        argv = [tcplab_bin, "listen", "--json", addr, str(port)] + list(args)
        if self.ns:
            self.proc = lab.spawn_in(self.ns, argv, stdout=L.subprocess.PIPE,
                                     stderr=L.subprocess.PIPE)
        else:
            self.proc = L.spawn(argv, stdout=L.subprocess.PIPE, stderr=L.subprocess.PIPE)
            self.own = True
        self.lines = []
        self._buf = b""
        # ready: the first line (the note that says where it listens) is flushed
        self._read_until(lambda: len(self.lines) >= 1, 10)
        assert self.lines and self.lines[0]["event"] == "note", self.lines

    def _read_until(self, pred, timeout):
        end = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while not pred() and time.monotonic() < end:
            r, _, _ = select.select([fd], [], [], 0.1)
            if not r:
                if self.proc.poll() is not None:
                    break
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            self._buf += chunk
            while b"\n" in self._buf:
                line, self._buf = self._buf.split(b"\n", 1)
                if line.strip():
                    self.lines.append(json.loads(line))

    def wait(self, timeout=30):
        self._read_until(lambda: False, timeout) if self.proc.poll() is None else None
        rc = self.proc.wait(timeout=timeout)
        self._read_until(lambda: False, 1)
        self.stderr = self.proc.stderr.read().decode(errors="replace")
        # the oracle: every kernel client socket agrees with the inference
        kstates_oracle.assert_agree(self.lines)
        return rc

    def states(self, who, conn=None):
        seq = []
        for e in self.lines:
            if e["event"] == "state" and e["endpoint"] == who and (conn is None or e["conn"] == conn):
                if not seq:
                    seq.append(e["from"])
                seq.append(e["to"])
        return seq

    def summaries(self):
        return [e for e in self.lines if e["event"] == "summary"]

    def segments(self, conn=None):
        return [e for e in self.lines if e["event"] == "segment" and (conn is None or e["conn"] == conn)]


def run_class_client(lab, addr, port, script=CLASS_CLIENT, extra=()):
    r = lab.run_in(lab.client_ns, ["/usr/bin/python3", "-c", script, addr, str(port)] + list(extra),
                   timeout=30)
    assert r.returncode == 0, r
    return json.loads(r.out.strip().splitlines()[-1])


def no_tables_left(lab, ns):
    assert lab.tcplab_tables(ns) == [], "tcplab left its nftables table behind"


def test_class_client_echo(lab, tcplab_bin):
    cap = lab.start_capture(lab.client_ns)
    srv = Listener(lab, tcplab_bin, ["--echo", "--count", "1", "--linger", "50"])
    rec = run_class_client(lab, lab.server_ip, PORT)
    assert rec["received"] == "hello"
    assert rec["eof"] == "clean"
    assert srv.wait() == 0, srv.stderr
    segs = cap.packets()
    conv = conversation(segs, lab.client_ip)
    assert conv[:3] == ["C:S", "S:SA", "C:A"], conv
    assert not any(s.startswith("S:R") or ":R" in s for s in conv), conv   # no RST anywhere
    # tcplab's own account: the server's passive close, the client's active one
    assert srv.states("server") == SERVER_PASSIVE
    assert srv.states("client")[:4] == ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1"]
    (summ,) = srv.summaries()
    assert summ["outcome"] == "closed"
    assert summ["client"]["bytes"] == 5 and summ["server"]["bytes"] == 5
    no_tables_left(lab, lab.server_ns)


def test_synack_answers_options(lab, tcplab_bin):
    """RFC 7323/2018: window scale, timestamps, SACK-permitted only if offered."""
    srv = Listener(lab, tcplab_bin, ["--count", "1", "--linger", "10"])
    # a client whose SYN offers no timestamps and no SACK
    lab.run_in(lab.client_ns, ["sysctl", "-qw", "net.ipv4.tcp_timestamps=0"])
    lab.run_in(lab.client_ns, ["sysctl", "-qw", "net.ipv4.tcp_sack=0"])
    r, recs = lab.client(PORT, send="x")
    assert recs and recs[0]["connected"], r
    assert srv.wait() == 0, srv.stderr
    synack = [s for s in srv.segments() if s["from"] == "server" and "SYN" in s["flags"]][0]
    assert "mss" in synack["options"]
    assert "ts_val" not in synack["options"]
    assert "sack_permitted" not in synack["options"]
    assert "wscale" in synack["options"]      # the client still offered window scale


def test_tcpclient_echo_and_fixed_isn(lab, tcplab_bin):
    srv = Listener(lab, tcplab_bin, ["--echo", "--count", "1", "--isn", "1000"])
    r, recs = lab.client(PORT, send="ping\n", extra=["--expect-echo"])
    assert recs[0]["connected"] and recs[0]["received"] == "ping\n", recs
    assert recs[0]["eof"] == "clean"
    assert srv.wait() == 0, srv.stderr
    synack = [s for s in srv.segments() if s["from"] == "server" and "SYN" in s["flags"]][0]
    assert synack["seq"] == 1000 and synack["rel_seq"] == 0


def test_ten_concurrent_clients(lab, tcplab_bin):
    srv = Listener(lab, tcplab_bin, ["--echo", "--count", "10", "--linger", "20"])
    r, recs = lab.client(PORT, send="abc", extra=["--count", "10", "--parallel", "10", "--expect-echo"],
                         timeout=60)
    assert len(recs) == 10, r
    assert all(x["connected"] and x["received"] == "abc" and x["eof"] == "clean" for x in recs), recs
    assert srv.wait(timeout=60) == 0, srv.stderr
    summ = srv.summaries()
    assert len(summ) == 10
    assert all(s["outcome"] == "closed" for s in summ), [s["outcome"] for s in summ]
    assert len({e["conn"] for e in srv.lines if e["event"] == "connection"}) == 10


def test_server_closes_first(lab, tcplab_bin):
    srv = Listener(lab, tcplab_bin, ["--close-first", "--send", "bye\\n", "--count", "1",
                                     "--linger", "50", "--time-wait", "0.2"])
    r, recs = lab.client(PORT, extra=["--no-shutdown"])
    assert recs[0]["connected"] and recs[0]["received"] == "bye\n", recs
    assert recs[0]["eof"] == "clean"
    assert srv.wait() == 0, srv.stderr
    # the kernel client may ACK our FIN on its own FIN (three-segment close:
    # FIN-WAIT-1 → FIN-WAIT-2 → TIME-WAIT on one segment, RFC 9293 §3.10.7.4)
    assert srv.states("server") in (SERVER_ACTIVE, SERVER_ACTIVE[:4] + SERVER_ACTIVE[5:])
    assert srv.states("client")[-2:] == ["CLOSE-WAIT", "LAST-ACK"] or \
        srv.states("client")[-3:] == ["CLOSE-WAIT", "LAST-ACK", "CLOSED"]


def test_abort_with_rst(lab, tcplab_bin):
    srv = Listener(lab, tcplab_bin, ["--close", "rst", "--count", "1", "--linger", "50"])
    r, recs = lab.client(PORT, extra=["--no-shutdown"])
    assert recs[0]["connected"]
    assert recs[0]["eof"] == "reset", recs
    assert srv.wait() == 0, srv.stderr
    assert srv.summaries()[0]["outcome"] == "reset"


def test_lost_final_ack_retransmits_synack(lab, tcplab_bin):
    # the handshake's third segment (a bare ACK to the port) is lost once,
    # as it leaves the client: tcplab reads the wire, so a drop after its
    # capture point (the server's prerouting) would not hide it
    rule = lab.drop_first(lab.client_ns, "tcp dport %d tcp flags == ack" % PORT, hook="out")
    srv = Listener(lab, tcplab_bin, ["--echo", "--count", "1"])
    rec = run_class_client(lab, lab.server_ip, PORT, script=SLOW_CLIENT, extra=["2.5"])
    assert rec["received"] == "late" and rec["eof"] == "clean", rec
    assert srv.wait() == 0, srv.stderr
    assert rule.dropped() == 1
    synacks = [s for s in srv.segments() if s["from"] == "server" and "SYN" in s["flags"]]
    assert len(synacks) >= 2, synacks
    assert synacks[1]["retransmission"] is True
    assert 0.9 <= synacks[1]["t"] - synacks[0]["t"] <= 1.6   # RFC 6298: 1 s initial RTO


def test_connect_against_listen_traces_agree(lab, tcplab_bin):
    srv = Listener(lab, tcplab_bin, ["--echo", "--count", "1", "--linger", "50"])
    r = lab.run_in(lab.client_ns, [tcplab_bin, "connect", "--json", "--data", "hello",
                                   "--time-wait", "0.2", lab.server_ip, str(PORT)], timeout=30)
    assert r.returncode == 0, r
    assert srv.wait() == 0, srv.stderr
    cl = [e for e in r.json_lines()]
    key = lambda e: (e["from"], tuple(e["flags"]), e["seq"], e["ack"], e["len"])
    cseg = [key(e) for e in cl if e["event"] == "segment"]
    sseg = [key(e) for e in srv.segments()]
    assert cseg == sseg
    st = lambda evs, who: [(e["from"], e["to"]) for e in evs
                           if e["event"] == "state" and e["endpoint"] == who
                           and "TIME-WAIT ends" not in e["reason"]]
    for who in ("client", "server"):
        assert st(cl, who) == st(srv.lines, who), who
    echo = [e for e in cl if e["event"] == "segment" and e["from"] == "server" and e["len"]]
    assert echo and echo[0]["payload"] == "hello"


def test_refuses_when_kernel_listens(lab, tcplab_bin):
    lab.start_server("echo", PORT)
    r = lab.run_in(lab.server_ns, [tcplab_bin, "listen", lab.server_ip, str(PORT)], timeout=20)
    assert r.returncode == 8, r
    assert "already listens" in r.err and r.out == ""
    no_tables_left(lab, lab.server_ns)


def test_interrupt_prints_summaries_and_cleans_up(lab, tcplab_bin):
    srv = Listener(lab, tcplab_bin, ["--echo"])
    rec = run_class_client(lab, lab.server_ip, PORT)
    assert rec["received"] == "hello"
    time.sleep(0.3)
    srv.proc.send_signal(signal.SIGINT)
    assert srv.wait() == 130
    assert len(srv.summaries()) == 1
    no_tables_left(lab, lab.server_ns)


def test_loopback_root_namespace(tcplab_bin, tmp_path):
    """On 127.0.0.1 in the root namespace, as a student would run it."""
    import socket
    with socket.socket() as probe:            # a free port on loopback only
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    class _NoLab:
        server_ip = "127.0.0.1"

    srv = Listener(_NoLab(), tcplab_bin, ["--echo", "--count", "1", "--linger", "20"],
                   ns="", addr="127.0.0.1", port=port)
    r = L.run(["/usr/bin/python3", "-c", CLASS_CLIENT, "127.0.0.1", str(port)], timeout=30)
    rec = json.loads(r.out.strip().splitlines()[-1])
    assert rec["received"] == "hello" and rec["eof"] == "clean", rec
    assert srv.wait() == 0, srv.stderr
    assert srv.states("server") == SERVER_PASSIVE
    assert not [t for t in L.tcplab_tables(None) if str(srv.proc.pid) in t]
