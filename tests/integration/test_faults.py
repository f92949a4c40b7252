"""test_faults.py — fault injection on connect and listen (issue 10): --lose
WHAT[:N], --old-syn, --simultaneous, and the three demos built on them.

Each --lose case is checked from the kernel peer's side: a tcpdump capture
in the PEER's namespace (what really reached it), its own log (bytes
received, their SHA-256, how the connection ended), its counters (nstat in
its namespace) and its socket states (the tracepoint, as "kernel-state"
events in tcplab's JSON, compared with tcplab's inference by
kstates_oracle).  tcplab's own account must show the segment as lost on
purpose ("lost": true) and the sender's transition, with no transition for
the receiver.
"""

import hashlib
import json
import os
import select
import time

import kstates_oracle
import lab as L

PORT = 7300
EXIT_OK, EXIT_USAGE = 0, 2


def connect(lab, tcplab_bin, *opts, timeout=60):
    argv = [tcplab_bin, "connect", "--json"] + [str(o) for o in opts] + [lab.server_ip, str(PORT)]
    r = L.run(argv, ns=lab.client_ns, timeout=timeout)
    return r, r.json_lines()


def segments(ev, who=None):
    return [e for e in ev if e["event"] == "segment" and (who is None or e["from"] == who)]


def states(ev, who):
    s = [e for e in ev if e["event"] == "state" and e["endpoint"] == who]
    return ([s[0]["from"]] if s else []) + [e["to"] for e in s]


def kernel_states(ev, who):
    return [(e["from"], e["to"]) for e in ev if e["event"] == "kernel-state" and e["endpoint"] == who]


def state_changes_after(ev, seg):
    """The state events that directly follow segment event seg."""
    i = ev.index(seg) + 1
    out = []
    while i < len(ev) and ev[i]["event"] in ("state", "note", "endpoint", "kernel-state"):
        if ev[i]["event"] == "state":
            out.append(ev[i])
        i += 1
    return out


def nstat(lab, ns, *names):
    out = lab.run_in(ns, ["nstat", "-asz"] + list(names)).out
    vals = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 2 and f[0] in names:
            vals[f[0]] = int(f[1])
    return vals


def wire(segs, ip):
    """Captured segments sent by ip."""
    return [s for s in segs if s["src"] == ip]


# ---------------------------------------------------------------------------
# --lose on connect
# ---------------------------------------------------------------------------

def test_lose_syn(lab, tcplab_bin):
    """--lose syn: the first SYN never reaches the server; the RTO
    retransmission (same ISN) does, and the handshake completes."""
    srv = lab.start_server("echo", PORT)
    cap = lab.start_capture(lab.server_ns)
    r, ev = connect(lab, tcplab_bin, "--data", "hello", "--lose", "syn")
    assert r.returncode == EXIT_OK, r
    syns = [s for s in segments(ev, "client") if s["flags"] == ["SYN"]]
    assert len(syns) == 2, syns
    assert syns[0].get("lost") is True and "lost" not in syns[1]
    assert syns[0]["seq"] == syns[1]["seq"]
    # the sender moved (CLOSED -> SYN-SENT), the receiver did not
    ch = state_changes_after(ev, syns[0])
    assert [(c["endpoint"], c["from"], c["to"]) for c in ch] == [("client", "CLOSED", "SYN-SENT")]
    assert syns[1]["retransmission"] is True
    # the server's side: one SYN only, with that ISN, and a normal connection
    got = cap.packets()
    csyn = [s for s in wire(got, lab.client_ip) if s["fl"] == "S"]
    assert len(csyn) == 1 and csyn[0]["seq"] == syns[0]["seq"], csyn
    rec = srv.wait_records(1)[0]
    assert rec["received_len"] == 5 and rec["close"] == "eof", rec
    assert "ESTABLISHED" in states(ev, "server")
    kstates_oracle.assert_agree(ev, require=1)
    assert any("1 segment built and kept off the wire" in e.get("text", "") for e in ev
               if e["event"] == "note")


def test_lose_handshake_ack(lab, tcplab_bin):
    """--lose handshake-ack: the server's kernel stays in SYN-RECEIVED (no
    ESTABLISHED in its tracepoint) and resends its SYN-ACK; tcplab ACKs the
    copy and only then does the kernel reach ESTABLISHED."""
    srv = lab.start_server("close-first", PORT, delay_ms=100)
    cap = lab.start_capture(lab.server_ns)
    r, ev = connect(lab, tcplab_bin, "--lose", "handshake-ack", "--close", "server")
    assert r.returncode == EXIT_OK, r
    lost = [s for s in segments(ev) if s.get("lost")]
    assert len(lost) == 1 and lost[0]["flags"] == ["ACK"] and lost[0]["from"] == "client"
    assert state_changes_after(ev, lost[0]) == []     # the client was ESTABLISHED already
    got = cap.packets()
    synacks = [s for s in wire(got, lab.server_ip) if s["fl"] == "SA"]
    assert len(synacks) >= 2 and len({s["seq"] for s in synacks}) == 1, synacks
    first_ack = next(s for s in wire(got, lab.client_ip) if s["fl"] == "A")
    assert first_ack["t"] > synacks[1]["t"], "an ACK reached the server before its SYN-ACK came again"
    # the kernel's own account: established only after the second SYN-ACK
    ks = [e for e in ev if e["event"] == "kernel-state" and e["endpoint"] == "server"
          and e["to"] == "ESTABLISHED"]
    sa = [s for s in segments(ev, "server") if "SYN" in s["flags"]]
    assert ks and len(sa) >= 2 and ks[0]["t"] > sa[1]["t"], (ks, sa)
    assert srv.wait_records(1)[0]["accepted"] is True
    kstates_oracle.assert_agree(ev, require=1)


def test_lose_data(lab, tcplab_bin):
    """--lose data:1 in a 60 kB upload: the first data segment does not
    reach the server first; it is retransmitted and the kernel server's
    bytes hash right."""
    data = os.urandom(60_000)
    path = lab.path("upload", ".bin")
    with open(path, "wb") as f:
        f.write(data)
    srv = lab.start_server("sink", PORT)
    cap = lab.start_capture(lab.server_ns)
    r, ev = connect(lab, tcplab_bin, "--data-file", path, "--lose", "data:1")
    assert r.returncode == EXIT_OK, r
    lost = [s for s in segments(ev) if s.get("lost")]
    assert len(lost) == 1 and lost[0]["len"] > 0 and lost[0]["from"] == "client", lost
    assert state_changes_after(ev, lost[0]) == []
    again = [s for s in segments(ev, "client") if s["seq"] == lost[0]["seq"] and s["len"] > 0
             and not s.get("lost")]
    assert again and again[0]["retransmission"] is True, again
    rec = srv.wait_records(1)[0]
    assert rec["received_len"] == len(data) and rec["sha256"] == hashlib.sha256(data).hexdigest()
    got = cap.packets()
    cdata = [s for s in wire(got, lab.client_ip) if s["len"] > 0]
    assert cdata[0]["seq"] != lost[0]["seq"], "the lost segment reached the server first"
    assert any(s["seq"] == lost[0]["seq"] for s in cdata)
    # the server asked for it: duplicate ACKs of the hole
    dup = [s for s in wire(got, lab.server_ip) if s["ack"] == lost[0]["seq"] and s["len"] == 0
           and s["fl"] == "A"]
    assert len(dup) >= 2, dup


def test_lose_fin(lab, tcplab_bin):
    """--lose fin: the server sees one FIN from the client, the
    retransmission, and ends its connection normally (its log: eof)."""
    srv = lab.start_server("echo", PORT)
    cap = lab.start_capture(lab.server_ns)
    r, ev = connect(lab, tcplab_bin, "--data", "hello", "--lose", "fin")
    assert r.returncode == EXIT_OK, r
    fins = [s for s in segments(ev, "client") if "FIN" in s["flags"]]
    assert len(fins) >= 2 and fins[0].get("lost") and not fins[1].get("lost")
    ch = state_changes_after(ev, fins[0])
    assert [(c["endpoint"], c["to"]) for c in ch] == [("client", "FIN-WAIT-1")], ch
    got = cap.packets()
    cfin = [s for s in wire(got, lab.client_ip) if "FIN" in s["flags"]]
    assert len(cfin) == 1 and cfin[0]["seq"] == fins[0]["seq"], cfin
    assert srv.wait_records(1)[0]["close"] == "eof"
    assert states(ev, "server")[-1] == "CLOSED"
    kstates_oracle.assert_agree(ev, require=1)


def test_lose_final_ack(lab, tcplab_bin):
    """--lose final-ack: the kernel server in LAST-ACK sends its FIN again
    (its counters count the retransmission), tcplab in TIME-WAIT ACKs it,
    and the kernel reaches CLOSED only after that second ACK."""
    lab.start_server("echo", PORT)
    cap = lab.start_capture(lab.server_ns)
    before = nstat(lab, lab.server_ns, "TcpRetransSegs").get("TcpRetransSegs", 0)
    r, ev = connect(lab, tcplab_bin, "--data", "hello", "--lose", "final-ack", "--time-wait", "3")
    assert r.returncode == EXIT_OK, r
    lost = [s for s in segments(ev) if s.get("lost")]
    sfin = [s for s in segments(ev, "server") if "FIN" in s["flags"]]
    assert len(lost) == 1 and lost[0]["ack"] == sfin[0]["seq"] + 1 and lost[0]["flags"] == ["ACK"]
    assert state_changes_after(ev, lost[0]) == []    # client in TIME-WAIT already; server untouched
    assert len(sfin) == 2 and sfin[1]["seq"] == sfin[0]["seq"]
    got = cap.packets()
    fins = [s for s in wire(got, lab.server_ip) if "FIN" in s["flags"]]
    acks = [s for s in wire(got, lab.client_ip) if s["fl"] == "A" and s["ack"] == fins[0]["seq"] + 1]
    assert len(fins) == 2 and len(acks) == 1 and acks[0]["t"] > fins[1]["t"], (fins, acks)
    assert nstat(lab, lab.server_ns, "TcpRetransSegs")["TcpRetransSegs"] > before
    kclose = [e for e in ev if e["event"] == "kernel-state" and e["endpoint"] == "server"
              and e["from"] == "LAST-ACK"]
    assert kclose and kclose[0]["to"] == "CLOSED" and kclose[0]["t"] > sfin[1]["t"]
    kstates_oracle.assert_agree(ev, require=1)


def test_lose_usage(lab, tcplab_bin):
    """Bad --lose arguments and --old-syn with --simultaneous: exit 2 with one
    sentence, nothing sent."""
    for bad in (["--lose", "ack"], ["--lose", "syn:0"], ["--lose", "data:x"],
                ["--old-syn", "--simultaneous"]):
        r = L.run([tcplab_bin, "connect"] + bad + [lab.server_ip, str(PORT)], ns=lab.client_ns)
        assert r.returncode == EXIT_USAGE, r
        assert r.err.startswith("tcplab: "), r.err
    r = L.run([tcplab_bin, "listen", "--old-syn", lab.server_ip, str(PORT)], ns=lab.server_ns)
    assert r.returncode == EXIT_USAGE, r


# ---------------------------------------------------------------------------
# --lose on listen
# ---------------------------------------------------------------------------

def test_listen_lose_synack(lab, tcplab_bin):
    """listen --lose synack --lose synack:2: no SYN-ACK reaches the kernel
    client in its first second, so it retransmits its SYN (its capture and
    its TcpExtTCPSynRetrans counter), and then connects and gets its echo."""
    cap = lab.start_capture(lab.client_ns)
    argv = [tcplab_bin, "listen", "--json", lab.server_ip, str(PORT), "--echo", "--count", "1",
            "--linger", "50", "--lose", "synack", "--lose", "synack:2"]
    p = lab.spawn_in(lab.server_ns, argv)
    first = p.stdout.readline()
    assert json.loads(first)["event"] == "note", first
    script = ("import socket, json\n"
              "s = socket.create_connection(('%s', %d), timeout=15)\n"
              "s.sendall(b'hello'); got = s.recv(100); s.shutdown(socket.SHUT_WR)\n"
              "rest = s.recv(100); s.close()\n"
              "print(json.dumps({'got': got.decode(), 'eof': rest == b''}))\n"
              % (lab.server_ip, PORT))
    c = lab.run_in(lab.client_ns, ["/usr/bin/python3", "-c", script], timeout=30)
    assert c.returncode == 0, c
    assert json.loads(c.out) == {"got": "hello", "eof": True}
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    ev = L.parse_json_lines(first.decode() + out.decode())
    lost = [s for s in segments(ev) if s.get("lost")]
    assert len(lost) == 2 and all(set(s["flags"]) == {"SYN", "ACK"} for s in lost), lost
    # the receiver (the client) got no transition from a lost SYN-ACK
    for s in lost:
        assert all(c["endpoint"] == "server" for c in state_changes_after(ev, s))
    got = cap.packets()
    csyn = [s for s in wire(got, lab.client_ip) if s["fl"] == "S"]
    sa = [s for s in wire(got, lab.server_ip) if s["fl"] == "SA"]
    assert len(csyn) >= 2 and len({s["seq"] for s in csyn}) == 1, csyn
    assert sa and sa[0]["t"] > csyn[1]["t"], "a SYN-ACK reached the client before its SYN retransmission"
    assert nstat(lab, lab.client_ns, "TcpExtTCPSynRetrans")["TcpExtTCPSynRetrans"] >= 1
    kstates_oracle.assert_agree(ev, require=1)


def test_listen_lose_data(lab, tcplab_bin):
    """listen --echo --lose data: the echo's one data segment is kept off the
    wire; the kernel client's capture holds exactly one copy of it (the RTO
    retransmission, same seq), and the client reads its echo."""
    cap = lab.start_capture(lab.client_ns)
    argv = [tcplab_bin, "listen", "--json", lab.server_ip, str(PORT), "--echo", "--count", "1",
            "--linger", "50", "--lose", "data"]
    p = lab.spawn_in(lab.server_ns, argv)
    first = p.stdout.readline()
    assert json.loads(first)["event"] == "note", first
    script = ("import socket, json\n"
              "s = socket.create_connection(('%s', %d), timeout=15)\n"
              "s.sendall(b'hello'); got = s.recv(100); s.shutdown(socket.SHUT_WR)\n"
              "rest = s.recv(100); s.close()\n"
              "print(json.dumps({'got': got.decode(), 'eof': rest == b''}))\n"
              % (lab.server_ip, PORT))
    c = lab.run_in(lab.client_ns, ["/usr/bin/python3", "-c", script], timeout=30)
    assert c.returncode == 0, c
    assert json.loads(c.out) == {"got": "hello", "eof": True}
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    ev = L.parse_json_lines(first.decode() + out.decode())
    lost = [s for s in segments(ev) if s.get("lost")]
    assert len(lost) == 1 and lost[0]["from"] == "server" and lost[0]["len"] == 5, lost
    assert state_changes_after(ev, lost[0]) == []
    again = [s for s in segments(ev, "server") if s["len"] == 5 and not s.get("lost")]
    assert len(again) == 1 and again[0]["seq"] == lost[0]["seq"] and again[0]["retransmission"]
    got = cap.packets()
    sdata = [s for s in wire(got, lab.server_ip) if s["len"] > 0]
    assert len(sdata) == 1 and sdata[0]["seq"] == lost[0]["seq"] and sdata[0]["payload"] == b"hello"
    kstates_oracle.assert_agree(ev, require=1)


# ---------------------------------------------------------------------------
# --old-syn, --simultaneous
# ---------------------------------------------------------------------------

def test_old_syn(lab, tcplab_bin):
    """RFC 9293 Figure 8 against the kernel's server: old SYN, SYN-ACK of it,
    our RST <SEQ=that ack> (tcplab still SYN-SENT), the server back in
    LISTEN, then the real handshake; the server program accepts once."""
    srv = lab.start_server("echo", PORT)
    cap = lab.start_capture(lab.server_ns)
    r, ev = connect(lab, tcplab_bin, "--data", "hello", "--old-syn")
    assert r.returncode == EXIT_OK, r
    got = cap.packets()
    conv = [(s["src"] == lab.client_ip and "C" or "S") + ":" + s["fl"] for s in got]
    assert conv[:6] == ["C:S", "S:SA", "C:R", "C:S", "S:SA", "C:A"], conv
    old, sa1, rst, real, sa2 = got[:5]
    assert old["seq"] != real["seq"]
    assert sa1["ack"] == old["seq"] + 1 and rst["seq"] == sa1["ack"]
    assert sa2["ack"] == real["seq"] + 1 and sa2["seq"] != sa1["seq"]
    recs = srv.wait_records(1)
    assert len(recs) == 1 and recs[0]["received_len"] == 5
    # tcplab's account: the held SYN (lost), the stale one annotated, the
    # client in SYN-SENT from its first SYN to the real SYN-ACK
    held = [s for s in segments(ev) if s.get("lost")]
    assert len(held) == 1 and held[0]["seq"] == real["seq"]
    stale = next(s for s in segments(ev, "client") if s["seq"] == old["seq"])
    assert "old duplicate" in stale.get("note", "")
    assert states(ev, "client")[:3] == ["CLOSED", "SYN-SENT", "ESTABLISHED"]
    assert states(ev, "server")[:5] == ["LISTEN", "SYN-RECEIVED", "LISTEN", "SYN-RECEIVED",
                                        "ESTABLISHED"]
    kstates_oracle.assert_agree(ev, require=1)


def test_simultaneous_open(lab, tcplab_bin):
    """--simultaneous against a kernel socket that connect()s back from the
    port tcplab aims at: both SYNs before any SYN-ACK (the kernel's capture),
    both ends SYN-SENT -> SYN-RECEIVED -> ESTABLISHED, the kernel's by its
    own tracepoint."""
    sport = 40321
    cap = lab.start_capture(lab.server_ns)
    argv = [tcplab_bin, "connect", "--json", "--simultaneous", "--sport", str(sport), "--data",
            "hello", lab.server_ip, str(PORT)]
    p = lab.spawn_in(lab.client_ns, argv)
    lines = [p.stdout.readline(), p.stdout.readline()]
    assert b"--simultaneous: tcplab is in SYN-SENT" in lines[1], lines
    peer = ("import socket, json\n"
            "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            "s.bind(('%s', %d)); s.settimeout(10); s.connect(('%s', %d))\n"
            "got = b''\n"
            "while True:\n"
            "    b = s.recv(100)\n"
            "    if not b: break\n"
            "    got += b\n"
            "s.close(); print(json.dumps({'got': got.decode()}))\n"
            % (lab.server_ip, PORT, lab.client_ip, sport))
    c = lab.run_in(lab.server_ns, ["/usr/bin/python3", "-c", peer], timeout=30)
    assert c.returncode == 0, c
    assert json.loads(c.out) == {"got": "hello"}
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, err
    ev = L.parse_json_lines(b"".join(lines).decode() + out.decode())
    got = cap.packets()
    fl = [s["fl"] for s in got]
    assert fl[:2] == ["S", "S"] and fl[2:4] == ["SA", "SA"], fl
    for who in ("client", "server"):
        st = states(ev, who)
        assert st[1:4] == ["SYN-SENT", "SYN-RECEIVED", "ESTABLISHED"], (who, st)
    kend = next(e["endpoint"] for e in ev if e["event"] == "kernel-state")
    assert kernel_states(ev, kend)[:3] == [("CLOSED", "SYN-SENT"), ("SYN-SENT", "SYN-RECEIVED"),
                                           ("SYN-RECEIVED", "ESTABLISHED")]
    kstates_oracle.assert_agree(ev, require=1)


# ---------------------------------------------------------------------------
# the demos (each alone, with --json)
# ---------------------------------------------------------------------------

def run_demo(tcplab_bin, name):
    p = L.spawn([tcplab_bin, "demo", name, "--json"])
    out, err = p.communicate(timeout=120)
    ev = L.parse_json_lines(out.decode())
    runs, cur = [], None
    for e in ev:
        if e.get("event") == "run":
            cur = {"events": [], "exit": None, "command": e["command"]}
            runs.append(cur)
        elif e.get("event") == "run-exit":
            cur["exit"] = e["exit"]
            cur = None
        elif cur is not None:
            cur["events"].append(e)
    result = next((e for e in ev if e.get("event") == "demo" and e["phase"] == "result"), None)
    assert result is not None, "demo %s ended (exit %s) without its result: %s\n%s" % (
        name, p.returncode, err.decode(errors="replace")[-2000:], out.decode(errors="replace")[-1500:])
    assert not [n for n in L.list_namespaces() if n.startswith("tldemo-%d-" % p.pid)]
    return p.returncode, runs, result, ev


def test_demo_lost_final_ack(tcplab_bin):
    rc, runs, result, ev = run_demo(tcplab_bin, "lost-final-ack")
    assert rc == 0, result
    assert len(runs) == 3 and all(r["exit"] == 0 for r in runs)
    r1 = runs[0]["events"]
    lost = [s for s in segments(r1) if s.get("lost")]
    sfin = [s for s in segments(r1, "server") if "FIN" in s["flags"]]
    assert len(lost) == 1 and lost[0]["ack"] == sfin[0]["seq"] + 1
    assert len(sfin) == 2
    reack = [s for s in segments(r1, "client") if not s.get("lost") and s["flags"] == ["ACK"]
             and s["ack"] == sfin[0]["seq"] + 1]
    assert reack and reack[0]["t"] > sfin[1]["t"]
    assert ("LAST-ACK", "CLOSED") in kernel_states(r1, "server")
    # run 3: the server's end with --time-wait 0 — the resent FIN draws an RST
    w = runs[2]["events"]
    rst = [s for s in segments(w, "client") if "RST" in s["flags"]]
    fins = [s for s in segments(w, "server") if "FIN" in s["flags"]]
    assert rst and len(fins) >= 2 and rst[0]["t"] >= fins[-1]["t"]
    kc = [e for e in w if e["event"] == "kernel-state" and e["from"] == "LAST-ACK"]
    assert kc and kc[0]["to"] == "CLOSED" and kc[0]["t"] >= rst[0]["t"] - 0.001
    assert result["facts"]["ok"] is True


def test_demo_old_duplicate_syn(tcplab_bin):
    rc, runs, result, ev = run_demo(tcplab_bin, "old-duplicate-syn")
    assert rc == 0, result
    (run,) = runs
    e = run["events"]
    syns = [s for s in segments(e, "client") if s["flags"] == ["SYN"] and not s.get("lost")]
    sa = [s for s in segments(e, "server") if set(s["flags"]) == {"SYN", "ACK"}]
    rst = [s for s in segments(e, "client") if "RST" in s["flags"]]
    assert len(syns) == 2 and syns[0]["seq"] != syns[1]["seq"]
    assert sa[0]["ack"] == syns[0]["seq"] + 1 and rst[0]["seq"] == sa[0]["ack"]
    assert sa[-1]["ack"] == syns[1]["seq"] + 1
    assert states(e, "server")[:4] == ["LISTEN", "SYN-RECEIVED", "LISTEN", "SYN-RECEIVED"]
    assert "SYN-SENT" in states(e, "client") and "ESTABLISHED" in states(e, "client")
    assert result["facts"]["accepted"] == 1
    assert "two-way handshake" in result["text"]


def test_demo_simultaneous_open(tcplab_bin):
    rc, runs, result, ev = run_demo(tcplab_bin, "simultaneous-open")
    assert rc == 0, result
    (run,) = runs
    e = run["events"]
    for who in ("client", "server"):
        assert states(e, who)[1:4] == ["SYN-SENT", "SYN-RECEIVED", "ESTABLISHED"], who
    kend = result["facts"]["kernel_end"]
    assert [t for _, t in kernel_states(e, kend)][:3] == ["SYN-SENT", "SYN-RECEIVED", "ESTABLISHED"]
    assert result["facts"]["peer_connect"] == "ok"
