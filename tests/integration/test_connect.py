"""test_connect.py — `tcplab connect` against real kernel TCP servers.

tcplab runs in the lab's client namespace; tests/lab/tcpserver (the Linux
stack) in the server namespace.  Every case checks two accounts of the same
connection:

  * tcplab's own, from its JSON Lines (--json): segments, both endpoints'
    RFC 9293 states, the summary, the exit code;
  * the other side's, which tcplab cannot influence: the tcpserver log
    (accepted, the exact bytes the kernel delivered, how the connection
    ended) and a tshark-decoded capture taken in the SERVER namespace (the
    flags and sequence numbers on the wire, and no RST from the client's
    kernel: tcplab's nftables table must suppress it).

After every run, no tcplab_* nft table may be left in the namespace tcplab
ran in.

CLI under test: tcplab connect [options] HOST PORT; exit codes 0 completed,
1 error, 2 usage, 3 refused, 4 reset, 5 timeout, 6 permission, 7 bad input,
8 network.  The binary is $TCPLAB, default ./tcplab.
"""


import pytest

import kstates_oracle
import lab as L
from lab import conversation, first_index, payload_from, side, teardown_complete

PORT = 7000

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_REFUSED, EXIT_RESET, EXIT_TIMEOUT = 0, 1, 2, 3, 4, 5
EXIT_PERMISSION, EXIT_BAD_INPUT, EXIT_NETWORK = 6, 7, 8

CLIENT_ACTIVE_CLOSE = ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2",
                       "TIME-WAIT", "CLOSED"]
# When the server's FIN itself acknowledges the client's FIN (Linux delays
# the ACK of a FIN and piggybacks it on its own FIN when the application
# closes at once), RFC 9293 §3.10.7.4 passes FIN-WAIT-2 within one segment
# (fifth check: ACK -> FIN-WAIT-2; eighth check: FIN -> TIME-WAIT).  tcplab
# may report that step or not; when the wire shows a separate ACK of the
# client's FIN, FIN-WAIT-2 must be there.
CLIENT_ACTIVE_CLOSE_PIGGYBACKED = ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1",
                                   "TIME-WAIT", "CLOSED"]
SERVER_PASSIVE_CLOSE = ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT", "LAST-ACK",
                        "CLOSED"]
CLIENT_PASSIVE_CLOSE = ["CLOSED", "SYN-SENT", "ESTABLISHED", "CLOSE-WAIT", "LAST-ACK",
                        "CLOSED"]

SEGMENT_KEYS = {"event", "conn", "t", "from", "flags", "seq", "ack", "win", "len", "options",
                "retransmission"}
STATE_KEYS = {"event", "conn", "t", "endpoint", "from", "to", "reason"}
SUMMARY_KEYS = {"event", "conn", "outcome", "ended", "duration", "client", "server"}
SIDE_KEYS = {"bytes", "segments", "retransmissions", "final_state"}


# ---------------------------------------------------------------------------
# tcplab's account
# ---------------------------------------------------------------------------

class Trace:
    """tcplab's JSON Lines, with accessors."""

    def __init__(self, events):
        self.events = events
        for e in events:
            assert isinstance(e, dict) and "event" in e, e

    def of(self, kind):
        return [e for e in self.events if e["event"] == kind]

    @property
    def segments(self):
        return self.of("segment")

    def states(self, endpoint):
        return [e for e in self.of("state") if e["endpoint"] == endpoint]

    def path(self, endpoint):
        """The endpoint's states in order: the first "from", then every "to"."""
        st = self.states(endpoint)
        return [st[0]["from"]] + [e["to"] for e in st] if st else []

    @property
    def summary(self):
        s = self.of("summary")
        assert len(s) == 1, "expected one summary, got %r" % s
        return s[0]

    def payload(self, who):
        """Bytes who ("client"/"server") sent, first transmissions only.
        JSON payload strings carry one code point per byte."""
        return b"".join(e.get("payload", "").encode("latin-1") for e in self.segments
                        if e["from"] == who and e["len"] and not e["retransmission"])

    def flags(self):
        """[("client", {"SYN"}), ("server", {"SYN", "ACK"}), ...]"""
        return [(e["from"], frozenset(e["flags"])) for e in self.segments]

    def __repr__(self):
        return "\n".join(repr(e) for e in self.events)


class Connect:
    """One finished `tcplab connect` run."""

    def __init__(self, result, trace):
        self.r = result
        self.rc = result.returncode
        self.trace = trace

    def __repr__(self):
        return repr(self.r)


def run_connect(lab, tcplab_bin, *opts, host=None, port=PORT, ns=None, json=True, user=None,
                timeout=L.TIMEOUT):
    """Runs `tcplab connect [--json] OPTS HOST PORT` in ns (default: the
    client namespace; "root" = the root namespace) and checks that it left
    no tcplab_* nft table behind."""
    ns = lab.client_ns if ns is None else (None if ns == "root" else ns)
    argv = [tcplab_bin, "connect"] + (["--json"] if json else []) + [str(o) for o in opts]
    argv += [host or lab.server_ip, str(port)]     # lab may be None with ns="root"
    r = L.run(argv, ns=ns, user=user, timeout=timeout)
    left = [t for t in L.tcplab_tables(ns) if t.endswith("_%d" % r.pid)] if ns is None \
        else L.tcplab_tables(ns)
    assert left == [], "tcplab left nft table(s) %r\n%r" % (left, r)
    trace = None
    if json and r.returncode not in (EXIT_USAGE, EXIT_PERMISSION):
        try:
            trace = Trace(r.json_lines())
        except ValueError as e:
            pytest.fail("tcplab --json printed something that is not JSON Lines: %s\n%r"
                        % (e, r))
        # the oracle: the peer's kernel socket (if any) agrees with the inference
        kstates_oracle.assert_agree(trace.events)
    return Connect(r, trace)


def check_schema(trace):
    """The JSON Lines schema: the connection's first event is its
    "connection" event (session notes, conn 0, may come before), one
    summary, the keys every event kind must have, times that never go
    backwards."""
    ev = trace.events
    assert ev, "no output"
    conn1 = [e for e in ev if e.get("conn") == 1]
    assert conn1 and conn1[0]["event"] == "connection", ev[:3]
    assert not [e for e in ev if e.get("conn") not in (0, 1)], "one connection expected"
    for e in trace.segments:
        assert SEGMENT_KEYS <= set(e), e
        assert e["from"] in ("client", "server") and e["conn"] == 1
        assert isinstance(e["flags"], list) and e["len"] >= 0
    for e in trace.of("state"):
        assert STATE_KEYS <= set(e), e
        assert e["endpoint"] in ("client", "server")
    s = trace.summary
    assert SUMMARY_KEYS <= set(s), s
    for who in ("client", "server"):
        assert SIDE_KEYS <= set(s[who]), s[who]
    ts = [e["t"] for e in ev if "t" in e]
    assert ts == sorted(ts), "event times go backwards"


def check_against_capture(trace, segs, lab):
    """Every segment tcplab reports is on the wire in the server namespace,
    with the same flags, seq, ack and length, and nothing else is (both
    capture points see the same packets when nothing is lost between them).
    Order is compared per direction: segments crossing in flight may be seen
    in a different order at the two ends of the veth."""
    def key_t(e):
        return (e["from"], frozenset(e["flags"]), e["seq"], e["ack"], e["len"])

    def key_c(s):
        return ("client" if side(s, lab.client_ip) == "C" else "server", frozenset(s["flags"]),
                s["seq"], s["ack"], s["len"])
    for who in ("client", "server"):
        mine = [key_t(e) for e in trace.segments if e["from"] == who]
        wire = [key_c(s) for s in segs if key_c(s)[0] == who]
        assert mine == wire, "%s segments differ:\ntcplab: %r\nwire:   %r" % (who, mine, wire)


def no_client_rst(segs, lab):
    """No RST from the client's side on the wire."""
    return not [s for s in segs if side(s, lab.client_ip) == "C" and "RST" in s["flags"]]


def server_capture_settled(cap, trace):
    """Waits until the server-side capture holds at least as many segments
    as tcplab reported, then stops it and returns the segments."""
    n = len(trace.segments)
    cap.wait_for(lambda s: len(s) >= n)
    return cap.packets()


def only(items):
    assert len(items) == 1, items
    return items[0]


def check_client_active_close(trace, segs, lab):
    """The client's path for an active close, consistent with the wire."""
    path = trace.path("client")
    cfin = first_index(segs, lab.client_ip, "C", "FIN")
    sfin = first_index(segs, lab.client_ip, "S", "FIN")
    end = (segs[cfin]["seq"] + segs[cfin]["len"] + 1) & 0xFFFFFFFF
    separate_ack = any(side(s, lab.client_ip) == "S" and s["ack"] == end
                       for s in segs[cfin + 1:sfin])
    if separate_ack:
        assert path == CLIENT_ACTIVE_CLOSE, path
    else:
        assert path in (CLIENT_ACTIVE_CLOSE, CLIENT_ACTIVE_CLOSE_PIGGYBACKED), path


# ---------------------------------------------------------------------------
# The ordinary connection
# ---------------------------------------------------------------------------

def test_echo_hello(lab, tcplab_bin):
    srv = lab.start_server("echo", PORT)
    cap = lab.start_capture(lab.server_ns)
    c = run_connect(lab, tcplab_bin, "--data", "hello")
    assert c.rc == EXIT_OK, c
    t = c.trace
    check_schema(t)
    conn = t.of("connection")[0]
    assert conn["server"] == "%s:%d" % (lab.server_ip, PORT), conn
    # tcplab's account
    assert t.flags()[:3] == [("client", {"SYN"}), ("server", {"SYN", "ACK"}),
                             ("client", {"ACK"})], t
    assert t.payload("client") == b"hello"
    assert t.payload("server") == b"hello"          # the echo, seen and ACKed
    assert t.path("server") == SERVER_PASSIVE_CLOSE, t.path("server")
    s = t.summary
    assert s["outcome"] == "closed", s
    assert s["client"]["bytes"] == 5 and s["server"]["bytes"] == 5
    assert s["client"]["final_state"] == "CLOSED" and s["server"]["final_state"] == "CLOSED"
    assert s["client"]["retransmissions"] == 0 and s["server"]["retransmissions"] == 0
    assert s["client"]["segments"] == len([e for e in t.segments if e["from"] == "client"])
    assert s["server"]["segments"] == len([e for e in t.segments if e["from"] == "server"])
    assert s["handshake_rtt"] > 0 and s["reaction_time"] >= 0
    syn = t.segments[0]
    assert syn["options"].get("mss") and syn["retransmission"] is False
    assert syn["rel_seq"] == 0 and t.segments[1]["rel_ack"] == 1
    # the server's account
    rec = only(srv.wait_records())
    assert rec["accepted"] and rec["received"] == b"hello" and rec["close"] == "eof"
    assert rec["peer"] == conn["client"]
    segs = server_capture_settled(cap, t)
    assert teardown_complete(segs, lab.client_ip), conversation(segs, lab.client_ip)
    conv = conversation(segs, lab.client_ip)
    assert conv[:3] == ["C:S", "S:SA", "C:A"], conv
    assert conv.count("C:S") == 1 and conv.count("S:SA") == 1
    assert first_index(segs, lab.client_ip, "C", "FIN") < first_index(segs, lab.client_ip,
                                                                      "S", "FIN"), conv
    assert conv[-1] == "C:A", conv                 # the ACK of the server's FIN
    assert payload_from(segs, lab.client_ip, "C") == b"hello"
    assert not [x for x in segs if "RST" in x["flags"]], conv
    check_against_capture(t, segs, lab)
    check_client_active_close(t, segs, lab)


def test_send_path_warm_up_stays_off_the_wire(lab, tcplab_bin):
    """Before its SYN, connect warms the kernel's send path with a twin of
    its first ACK that has no TCP flag and TTL 1, and its netdev table
    drops that at the client veth's egress hook.  While tcplab runs the
    table is there, bound to that device; neither end of the veth ever sees
    a flagless segment; the connection is exactly what tcplab reports."""
    srv = lab.start_server("silent", PORT)
    cap_c = lab.start_capture(lab.client_ns)
    cap_s = lab.start_capture(lab.server_ns)
    argv = [tcplab_bin, "connect", "--json", "--close", "server", "--timeout", "2",
            lab.server_ip, str(PORT)]
    p = lab.spawn_in(lab.client_ns, argv)
    try:
        tables = L.wait_until(lambda: [t for t in L.nft_tables(lab.client_ns)
                                       if t.startswith("netdev tcplab_")] or None,
                              timeout=5, what="tcplab's netdev table")
        table = tables[0].split()[1]
        listing = L.run(["nft", "list", "table", "netdev", table], ns=lab.client_ns).out
        assert 'hook egress device "%s"' % lab.client_if in listing, listing
        assert "ip ttl 1 tcp flags == 0x0 drop" in listing, listing
    finally:
        out, err = p.communicate(timeout=L.TIMEOUT)
    assert p.returncode == EXIT_TIMEOUT, (out, err)
    assert not [t for t in L.tcplab_tables(lab.client_ns)], "table left behind"
    t = Trace(L.parse_json_lines(out.decode()))
    kstates_oracle.assert_agree(t.events)
    assert t.flags()[:3] == [("client", {"SYN"}), ("server", {"SYN", "ACK"}),
                             ("client", {"ACK"})], t
    for cap in (cap_c, cap_s):
        segs = cap.packets()
        assert not [x for x in segs if not x["flags"]], conversation(segs, lab.client_ip)
        check_against_capture(t, segs, lab)
    srv.stop()


def test_two_data_chunks(lab, tcplab_bin):
    srv = lab.start_server("echo", PORT)
    cap = lab.start_capture(lab.server_ns)
    c = run_connect(lab, tcplab_bin, "-d", "hello", "-d", "world", "-i", lab.client_if)
    assert c.rc == EXIT_OK, c
    t = c.trace
    data = [e["payload"] for e in t.segments if e["from"] == "client" and e["len"]]
    assert data == ["hello", "world"], t
    assert t.payload("server") == b"helloworld"
    assert t.summary["outcome"] == "closed"
    assert only(srv.wait_records())["received"] == b"helloworld"
    segs = server_capture_settled(cap, t)
    cdata = [x["payload"] for x in segs if side(x, lab.client_ip) == "C" and x["len"]]
    assert cdata == [b"hello", b"world"]
    assert no_client_rst(segs, lab)
    check_against_capture(t, segs, lab)


def test_data_file(lab, tcplab_bin):
    body = b"line one\nline two\n\x00\xff binary too\n"
    f = lab.path("data", ".bin")
    f.write_bytes(body)
    srv = lab.start_server("echo", PORT)
    cap = lab.start_capture(lab.server_ns)
    c = run_connect(lab, tcplab_bin, "--data-file", f)
    assert c.rc == EXIT_OK, c
    assert c.trace.payload("client") == body
    assert c.trace.summary["client"]["bytes"] == len(body)
    assert only(srv.wait_records())["received"] == body
    segs = server_capture_settled(cap, c.trace)
    assert payload_from(segs, lab.client_ip, "C") == body
    assert no_client_rst(segs, lab)


def test_sport_isn_and_options(lab, tcplab_bin):
    srv = lab.start_server("echo", PORT)
    cap = lab.start_capture(lab.server_ns)
    c = run_connect(lab, tcplab_bin, "--sport", 40123, "--isn", 4294967000, "--no-options",
                    "-d", "x")
    assert c.rc == EXIT_OK, c
    syn = c.trace.segments[0]
    assert syn["flags"] == ["SYN"] and syn["seq"] == 4294967000 and syn["options"] == {}
    assert only(srv.wait_records())["peer"] == "%s:40123" % lab.client_ip
    segs = server_capture_settled(cap, c.trace)
    wsyn = segs[0]
    assert wsyn["fl"] == "S" and wsyn["sport"] == 40123 and wsyn["seq"] == 4294967000
    assert wsyn["hdr_len"] == 20                   # a bare SYN: no options at all
    # The sequence space wraps past 2^32 during the connection.
    assert payload_from(segs, lab.client_ip, "C") == b"x"
    assert no_client_rst(segs, lab)
    check_against_capture(c.trace, segs, lab)


def test_text_output(lab, tcplab_bin):
    lab.start_server("echo", PORT)
    c = run_connect(lab, tcplab_bin, "-S", "--isn", 1000000, "-d", "hi", json=False)
    assert c.rc == EXIT_OK, c
    out = c.r.out
    for word in ("SYN-SENT", "ESTABLISHED", "TIME-WAIT", "1000000"):
        assert word in out, out


# ---------------------------------------------------------------------------
# Teardown variants
# ---------------------------------------------------------------------------

def test_server_closes_first(lab, tcplab_bin):
    srv = lab.start_server("close-first", PORT, delay_ms=200)
    cap = lab.start_capture(lab.server_ns)
    c = run_connect(lab, tcplab_bin, "--close", "server", "-d", "hello")
    assert c.rc == EXIT_OK, c
    t = c.trace
    assert t.path("client") == CLIENT_PASSIVE_CLOSE, t.path("client")
    assert t.path("server")[:4] == ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1"]
    assert t.summary["outcome"] == "closed"
    assert t.summary["client"]["final_state"] == "CLOSED"
    rec = only(srv.wait_records())
    assert rec["received"] == b"hello" and rec["close"] == "server-closed"
    segs = server_capture_settled(cap, t)
    conv = conversation(segs, lab.client_ip)
    assert first_index(segs, lab.client_ip, "S", "FIN") < first_index(segs, lab.client_ip,
                                                                      "C", "FIN"), conv
    assert teardown_complete(segs, lab.client_ip), conv
    assert conv[-1] == "S:A", conv                 # the server ACKs the client's FIN
    assert not [x for x in segs if "RST" in x["flags"]], conv
    check_against_capture(t, segs, lab)


def test_half_close(lab, tcplab_bin):
    # delay: the late data comes well after the client's FIN (Linux may
    # still piggyback its ACK of that FIN on the data segment).
    srv = lab.start_server("half-close", PORT, delay_ms=300)
    cap = lab.start_capture(lab.server_ns)
    c = run_connect(lab, tcplab_bin, "-d", "hello")
    assert c.rc == EXIT_OK, c
    t = c.trace
    assert t.payload("server") == L.LATE_DATA        # shown in tcplab's output
    assert t.summary["server"]["bytes"] == len(L.LATE_DATA)
    assert t.path("client") == CLIENT_ACTIVE_CLOSE, t.path("client")
    # The late data comes after the client's FIN, and the client takes it
    # in FIN-WAIT-2: reached before that segment, or by that very segment
    # when it also ACKs the FIN (RFC 9293 §3.10.7.4: the ACK is processed
    # before the text).  A state event follows the segment that caused it.
    ev = t.events
    i_fin = next(i for i, e in enumerate(ev) if e["event"] == "segment"
                 and e["from"] == "client" and "FIN" in e["flags"])
    i_data = next(i for i, e in enumerate(ev) if e["event"] == "segment"
                  and e["from"] == "server" and e["len"])
    i_fw2 = next(i for i, e in enumerate(ev) if e["event"] == "state"
                 and e["endpoint"] == "client" and e["to"] == "FIN-WAIT-2")
    i_tw = next(i for i, e in enumerate(ev) if e["event"] == "state"
                and e["endpoint"] == "client" and e["to"] == "TIME-WAIT")
    i_next = next((i for i, e in enumerate(ev) if i > i_data and e["event"] == "segment"),
                  len(ev))
    assert i_fin < i_data and i_fw2 < i_next and i_tw > i_data, t
    assert not [e for e in ev[i_fin:i_data] if e["event"] == "state"
                and e["endpoint"] == "client" and e["to"] == "TIME-WAIT"], t
    rec = only(srv.wait_records())
    assert rec["received"] == b"hello" and rec["close"] == "eof"
    assert rec["sent_len"] == len(L.LATE_DATA)
    segs = server_capture_settled(cap, t)
    d = next(x for x in segs if side(x, lab.client_ip) == "S" and x["len"])
    assert d["payload"] == L.LATE_DATA
    end = (d["seq"] + d["len"]) & 0xFFFFFFFF
    assert any(side(x, lab.client_ip) == "C" and x["ack"] in (end, (end + 1) & 0xFFFFFFFF)
               for x in segs[segs.index(d) + 1:]), "late data not ACKed"
    assert teardown_complete(segs, lab.client_ip)
    assert no_client_rst(segs, lab)
    check_against_capture(t, segs, lab)


def test_server_resets(lab, tcplab_bin):
    srv = lab.start_server("rst", PORT, delay_ms=200)
    cap = lab.start_capture(lab.server_ns)
    c = run_connect(lab, tcplab_bin, "--close", "server", "-d", "hello")
    assert c.rc == EXIT_RESET, c
    t = c.trace
    assert t.summary["outcome"] == "reset"
    assert t.path("client")[:3] == ["CLOSED", "SYN-SENT", "ESTABLISHED"]
    assert t.path("client")[-1] == "CLOSED"
    rst = [e for e in t.segments if "RST" in e["flags"]]
    assert [e["from"] for e in rst] == ["server"], t
    rec = only(srv.wait_records())
    assert rec["received"] == b"hello" and rec["close"] == "server-reset"
    segs = server_capture_settled(cap, t)
    conv = conversation(segs, lab.client_ip)
    rsts = [x for x in conv if "R" in x.split(":")[1]]
    assert rsts in (["S:R"], ["S:RA"]), conv       # one RST, from the server
    assert no_client_rst(segs, lab)
    check_against_capture(t, segs, lab)


def test_refused(lab, tcplab_bin):
    cap = lab.start_capture(lab.server_ns)
    c = run_connect(lab, tcplab_bin, "-d", "hello")
    assert c.rc == EXIT_REFUSED, c
    t = c.trace
    assert t.summary["outcome"] == "refused"
    assert t.flags() == [("client", {"SYN"}), ("server", {"RST", "ACK"})], t
    assert t.path("client") == ["CLOSED", "SYN-SENT", "CLOSED"], t.path("client")
    segs = server_capture_settled(cap, t)
    conv = conversation(segs, lab.client_ip)
    assert conv == ["C:S", "S:RA"], conv           # exactly one SYN, answered by RST
    assert segs[1]["ack"] == (segs[0]["seq"] + 1) & 0xFFFFFFFF
    check_against_capture(t, segs, lab)


def test_syn_lost_is_retransmitted(lab, tcplab_bin):
    rule = lab.drop_first_syn(lab.server_ns, PORT)
    srv = lab.start_server("echo", PORT)
    cap = lab.start_capture(lab.server_ns)
    stack = lab.start_capture(lab.server_ns, "stack")
    c = run_connect(lab, tcplab_bin, "-d", "hello")
    assert c.rc == EXIT_OK, c
    t = c.trace
    syns = [e for e in t.segments if e["flags"] == ["SYN"]]
    assert [e["retransmission"] for e in syns] == [False, True], t
    assert syns[0]["seq"] == syns[1]["seq"]
    assert syns[1]["t"] - syns[0]["t"] >= 0.9      # RFC 6298: initial RTO 1 s
    assert t.summary["outcome"] == "closed"
    assert t.summary["client"]["retransmissions"] == 1
    assert rule.dropped() == 1
    assert only(srv.wait_records())["received"] == b"hello"
    segs = server_capture_settled(cap, t)
    wire_syns = [x for x in segs if x["fl"] == "S"]
    assert len(wire_syns) == 2 and wire_syns[1]["t"] - wire_syns[0]["t"] >= 0.9
    assert conversation(segs, lab.client_ip).count("S:SA") == 1
    ksegs = stack.packets()                        # what the server's stack received
    assert [x["fl"] for x in ksegs if side(x, lab.client_ip) == "C"].count("S") == 1
    assert teardown_complete(segs, lab.client_ip)
    assert no_client_rst(segs, lab)
    check_against_capture(t, segs, lab)


def test_no_answer_times_out(lab, tcplab_bin):
    rule = lab.random_loss(lab.server_ns, 100, match="tcp dport %d" % PORT)
    cap = lab.start_capture(lab.server_ns)
    c = run_connect(lab, tcplab_bin, "--retries", 1, "-d", "hello")
    assert c.rc == EXIT_TIMEOUT, c
    t = c.trace
    assert t.summary["outcome"] == "timeout"
    syns = [e for e in t.segments if e["flags"] == ["SYN"]]
    assert [e["retransmission"] for e in syns] == [False, True], t
    segs = server_capture_settled(cap, t)
    assert [x["fl"] for x in segs] == ["S", "S"]   # the SYN and one retry, no more
    assert rule.dropped() == 2


def test_silent_server_timeout(lab, tcplab_bin):
    srv = lab.start_server("silent", PORT)
    cap = lab.start_capture(lab.server_ns)
    c = run_connect(lab, tcplab_bin, "--close", "server", "--timeout", 2, "-d", "hello")
    assert c.rc == EXIT_TIMEOUT, c
    t = c.trace
    assert t.path("client")[:3] == ["CLOSED", "SYN-SENT", "ESTABLISHED"]
    # Giving up, tcplab may leave the connection as it is or abort it with
    # RST of its own; the exit code says timeout either way.
    s = t.summary
    client_rst = [e for e in t.segments if e["from"] == "client" and "RST" in e["flags"]]
    assert s["outcome"] in ("timeout", "open") or (s["outcome"] == "reset" and client_rst), s
    assert c.r.duration >= 2.0
    segs = cap.wait_for(lambda s: len(s) >= 4)
    conv = conversation(segs, lab.client_ip)
    assert conv[:3] == ["C:S", "S:SA", "C:A"], conv
    assert payload_from(segs, lab.client_ip, "C") == b"hello"
    rec = only(srv.stop())
    assert rec["received"] == b"hello"             # the kernel took the data


def test_close_rst(lab, tcplab_bin):
    srv = lab.start_server("echo", PORT)
    cap = lab.start_capture(lab.server_ns)
    c = run_connect(lab, tcplab_bin, "--close", "rst", "-d", "hello")
    assert c.rc == EXIT_OK, c                      # it did what it was asked
    t = c.trace
    assert t.summary["outcome"] == "reset"
    rst = [e for e in t.segments if "RST" in e["flags"]]
    assert [e["from"] for e in rst] == ["client"], t
    assert not [e for e in t.segments if "FIN" in e["flags"]], t
    rec = only(srv.wait_records())
    assert rec["close"] == "reset" and rec["received"] == b"hello"
    segs = server_capture_settled(cap, t)
    conv = conversation(segs, lab.client_ip)
    crst = [x for x in segs if side(x, lab.client_ip) == "C" and "RST" in x["flags"]]
    assert len(crst) == 1, conv                    # tcplab's RST, not the kernel's
    check_against_capture(t, segs, lab)


def test_close_none_leaves_connection_open(lab, tcplab_bin):
    # A silent server: one that answered (an echo) after tcplab exits would
    # draw the client kernel's RST once tcplab's firewall table is gone.
    srv = lab.start_server("silent", PORT)
    cap = lab.start_capture(lab.server_ns)
    c = run_connect(lab, tcplab_bin, "--close", "none", "-d", "hello")
    assert c.rc == EXIT_OK, c
    t = c.trace
    assert t.summary["outcome"] == "open"
    assert t.summary["client"]["final_state"] == "ESTABLISHED"
    assert t.path("client") == ["CLOSED", "SYN-SENT", "ESTABLISHED"]
    assert not [e for e in t.segments if {"FIN", "RST"} & set(e["flags"])], t
    # The server still holds the connection, established, and logged nothing.
    sport = t.of("connection")[0]["client"]
    socks = [x for x in lab.tcp_sockets(lab.server_ns) if x[2] == sport]
    assert socks and socks[0][0] == "ESTAB", lab.tcp_sockets(lab.server_ns)
    assert srv.records() == []
    segs = server_capture_settled(cap, t)
    assert no_client_rst(segs, lab)
    check_against_capture(t, segs, lab)
    rec = only(srv.stop())
    assert rec["close"] == "open" and rec["received"] == b"hello"


def test_write_pcap(lab, tcplab_bin):
    lab.start_server("echo", PORT)
    pcap = lab.path("tcplab", ".pcap")
    c = run_connect(lab, tcplab_bin, "-w", pcap, "-d", "hello")
    assert c.rc == EXIT_OK, c
    assert pcap.exists()
    segs = L.parse_capture(pcap)                   # tshark must read it
    t = c.trace
    assert len(segs) == len(t.segments)
    assert [frozenset(x["flags"]) for x in segs] == [frozenset(e["flags"]) for e in t.segments]
    assert [x["seq"] for x in segs] == [e["seq"] for e in t.segments]


def test_no_firewall_lets_the_kernel_reset(lab, tcplab_bin):
    """--no-firewall: the client's kernel has no socket for the crafted
    connection and answers the SYN-ACK with RST, which kills the handshake.
    The server-side capture shows that RST coming from the client."""
    srv = lab.start_server("echo", PORT)
    cap = lab.start_capture(lab.server_ns)
    c = run_connect(lab, tcplab_bin, "--no-firewall", "-d", "hello")
    assert c.rc != EXIT_OK, c
    assert c.trace.summary["outcome"] in ("reset", "refused"), c.trace.summary
    segs = cap.wait_for(lambda s: not no_client_rst(s, lab))
    conv = conversation(segs, lab.client_ip)
    assert conv[:2] == ["C:S", "S:SA"], conv
    assert not no_client_rst(segs, lab), conv
    assert all(r["received"] != b"hello" or r["close"] == "reset"
               for r in srv.records())


# ---------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("args", [
    [],                                   # no HOST, no PORT
    ["HOST_ONLY"],                        # no PORT
    ["SERVER", "70000"],                  # port out of range
    ["SERVER", "0"],
    ["--bogus-option", "SERVER", "7000"],
    ["--close", "sideways", "SERVER", "7000"],
], ids=["nothing", "missing-port", "port-70000", "port-0", "unknown-option", "bad-close"])
def test_bad_arguments(lab, tcplab_bin, args):
    args = [lab.server_ip if a in ("SERVER", "HOST_ONLY") else a for a in args]
    r = lab.run_in(lab.client_ns, [tcplab_bin, "connect", "--json"] + args)
    assert r.returncode == EXIT_USAGE, r
    assert r.stdout == b"", r
    assert "usage" in r.err.lower(), r
    assert lab.tcplab_tables(lab.client_ns) == []


def test_unresolvable_host(lab, tcplab_bin):
    # In the client namespace there is no route anywhere: the lookup fails
    # at once and no query can leave the machine.
    c = run_connect(lab, tcplab_bin, "-d", "x", host="no-such-host.invalid", json=False)
    assert c.rc == EXIT_NETWORK, c
    assert c.r.stdout == b"" and c.r.err.strip(), c


def test_without_privileges(lab, tcplab_bin):
    r = lab.run_in(lab.client_ns, [tcplab_bin, "connect", "-d", "x", lab.server_ip, PORT],
                   user=(65534, 65534))
    assert r.returncode == EXIT_PERMISSION, r
    assert "CAP_NET_RAW" in r.err, r
    assert "sudo" in r.err or "setcap" in r.err, r
    assert lab.tcplab_tables(lab.client_ns) == []


# ---------------------------------------------------------------------------
# Loopback in the root namespace
# ---------------------------------------------------------------------------

def test_loopback_root_namespace(tcplab_bin, loopback_server, tmp_path):
    """The course-lab case: a kernel server on 127.0.0.1 in the root
    namespace.  tcplab's table goes into the root namespace and must go."""
    srv = loopback_server("echo")
    # On lo both directions are 127.0.0.1: only this server's port is
    # captured, and directions are told apart by port.
    cap = L.Capture(tmp_path / "lo.pcap", None, "lo", "tcp port %d" % srv.port)
    try:
        c = run_connect(None, tcplab_bin, "-d", "hello", host="127.0.0.1", port=srv.port,
                        ns="root")
        assert c.rc == EXIT_OK, c
        t = c.trace
        cap.wait_for(lambda s: len(s) >= len(t.segments))
    finally:
        cap.stop()
    assert t.payload("server") == b"hello" and t.summary["outcome"] == "closed"
    rec = only(srv.wait_records())
    assert rec["received"] == b"hello" and rec["close"] == "eof"
    segs = L.parse_capture(cap.path)
    to_srv = [x for x in segs if x["dport"] == srv.port]
    from_srv = [x for x in segs if x["sport"] == srv.port]
    assert to_srv and to_srv[0]["fl"] == "S", segs
    assert from_srv and from_srv[0]["fl"] == "SA", segs
    assert not [x for x in to_srv if "RST" in x["flags"]], segs   # no kernel RST
    assert b"".join(x["payload"] for x in to_srv) == b"hello"
    assert len(segs) == len(t.segments)
