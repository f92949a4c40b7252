"""test_demos_transfer.py — the three demos of reliable delivery, flow
control and congestion control (`tcplab demo retransmission|flow-control|
slow-start --json`), each run once and checked against what its row of the
course's table promises: from the events (segments, analysis marks, the
driven endpoint's cwnd/probe/retransmission events) and from the kernel's
side (the sink server's SHA-256 of what it read, recomputed here from the
demo's file; the sequence number the server namespace's nft set recorded
for the segment it dropped; the bottleneck qdisc's own drop counter) —
not from the demo's verdict alone.  Then that nothing is left behind: no
tldemo-<pid>-* namespace, no tldemo nft table, no tracing instance of a
tcplab that is gone, no work directory; and that an interrupted demo
cleans up too.
"""

import hashlib
import json
import os
import re
import signal
import subprocess

import pytest

import kstates_oracle
import lab as L

MSS = 1448          # 1460 - 12 bytes of timestamps: every demo negotiates them
SIZES = {"retransmission": 7000, "flow-control": 60000, "slow-start": 500000}


def demo_file(n):
    """The demo's file (scripts/demos/lib.sh lab_text_file), made again
    here so the sink's hash is checked against bytes the demo did not
    report itself."""
    def line(i):
        head = "byte %07d of the file tcplab sends " % (i * 181)
        return head + "." * (180 - len(head)) + "\n"
    return "".join(line(i) for i in range(n // 181 + 1))[:n].encode()


def tcplab_bin():
    return os.path.abspath(os.environ.get("TCPLAB") or str(L.REPO_ROOT / "tcplab"))


def demo_tables():
    """tldemo tables in the root namespace (a demo's own are in its namespaces)."""
    return [t for t in L.nft_tables(None) if "tldemo" in t]


class Demo:
    """One `tcplab demo NAME --json` run, split into its parts."""

    def __init__(self, name):
        self.name = name
        sack_before = L.run(["sysctl", "-n", "net.ipv4.tcp_comp_sack_nr"]).out
        inst_before = set(kstates_oracle.tracing_instances())
        tables_before = set(demo_tables())
        # --lang en: the endpoint events' sentences (checked below) in English
        p = L.spawn([tcplab_bin(), "demo", name, "--json", "--lang", "en"])
        try:
            out, err = p.communicate(timeout=120)
        except subprocess.TimeoutExpired:
            L.stop_process(p, sig=signal.SIGINT)
            raise
        self.pid = p.pid
        self.rc = p.returncode
        self.err = err
        self.events = L.parse_json_lines(out)
        self.leftover_ns = [n for n in L.list_namespaces() if n.startswith("tldemo-%d-" % p.pid)]
        self.new_tables = set(demo_tables()) - tables_before
        # tracing instances (tcplab_<pid>) new since the start whose tcplab is gone
        self.leaked_instances = [
            i for i in set(kstates_oracle.tracing_instances()) - inst_before
            if i.startswith("tcplab_") and i[7:].isdigit() and not L.pid_alive(int(i[7:]))]
        self.workdirs = [f for f in os.listdir("/tmp") if f.startswith("tldemo-%d." % p.pid)]
        # the demos set it in the server's namespace only
        self.sysctl_kept = L.run(["sysctl", "-n", "net.ipv4.tcp_comp_sack_nr"]).out == sack_before
        self.intro = next(e for e in self.events if e.get("event") == "demo" and e["phase"] == "intro")
        self.result = next(e for e in self.events if e.get("event") == "demo" and e["phase"] == "result")
        self.facts = self.result["facts"]
        self.observations = [e for e in self.events if e.get("event") == "observation"]
        # the events of its (single) tcplab run
        self.runs = []
        for e in self.events:
            if e.get("event") == "run":
                self.runs.append({"run": e, "events": [], "exit": None})
            elif e.get("event") == "run-exit":
                self.runs[-1]["exit"] = e["exit"]
            elif self.runs and self.runs[-1]["exit"] is None and e.get("event") not in ("demo", "observation"):
                self.runs[-1]["events"].append(e)
        assert len(self.runs) == 1, self.events[:3]
        self.ev = self.runs[0]["events"]
        self.segs = [e for e in self.ev if e.get("event") == "segment"]
        self.isn = next(e["seq"] for e in self.segs if e["flags"] == ["SYN"])

    def observation(self, word):
        return next(o["text"] for o in self.observations if word in o["source"])

    def endpoint(self, what):
        return [e for e in self.ev if e.get("event") == "endpoint" and e["what"] == what]

    def index(self, e):
        return next(i for i, x in enumerate(self.ev) if x is e)

    def rel(self, seq):
        return (seq - self.isn) % 2**32

    def sink(self):
        """(bytes, sha256) the kernel server logged, from its observation."""
        text = self.observation("lab server's log")
        m = re.search(r"server read (\d+) bytes, SHA-256 ([0-9a-f]{64})", text)
        assert m, text
        return int(m.group(1)), m.group(2)

    def lost_seq(self):
        """The dropped segment's sequence number from the nft set, and how
        many packets the rule dropped."""
        text = self.observation("nft list set")
        m = re.match(r"(\d+) \(the rule dropped (\d+) packet", text)
        assert m, text
        return int(m.group(1)), int(m.group(2))


_cache = {}


def run_demo(name):
    if name not in _cache:
        _cache[name] = Demo(name)
    return _cache[name]


@pytest.fixture(scope="module", params=sorted(SIZES))
def any_demo(request):
    return run_demo(request.param)


# ---- every one of the three -------------------------------------------------

def test_succeeds_and_prints_only_json(any_demo):
    d = any_demo
    assert d.rc == 0, (d.name, d.err, d.result)
    assert all(isinstance(e, dict) and "event" in e for e in d.events)
    assert d.intro["text"] and d.result["text"]
    assert d.facts["ok"] is True, d.result
    assert d.runs[0]["exit"] == 0
    assert d.runs[0]["run"]["command"].startswith("tcplab connect ")


def test_delivered_byte_for_byte(any_demo):
    """Checked at the kernel server: it hashed what it read."""
    d = any_demo
    want = demo_file(SIZES[d.name])
    got_len, got_sha = d.sink()
    assert got_len == len(want)
    assert got_sha == hashlib.sha256(want).hexdigest()
    assert d.facts["sha256_match"] is True and d.facts["file_bytes"] == len(want)
    # and tcplab's sender says every byte was acknowledged
    stats = d.endpoint("stats")
    assert stats and ("%d bytes acked" % len(want)) in stats[-1]["text"]


def test_leaves_nothing_behind(any_demo):
    d = any_demo
    assert d.leftover_ns == []
    assert d.new_tables == set()
    assert d.leaked_instances == []
    assert d.workdirs == []
    assert d.sysctl_kept


# ---- retransmission ---------------------------------------------------------

def test_retransmission_rto_and_cumulative_ack():
    d = run_demo("retransmission")
    lost, dropped = d.lost_seq()
    assert dropped == 1
    data = [e for e in d.segs if e["from"] == "client" and e["len"] > 0]
    firsts = [e for e in data if not e["retransmission"]]
    assert [d.rel(e["seq"]) for e in firsts] == [1 + k * MSS for k in range(5)], firsts
    assert d.rel(lost) == 1 + 2 * MSS                   # the third segment
    (rtx,) = [e for e in data if e["retransmission"]]
    original = next(e for e in firsts if e["seq"] == lost)
    # the same bytes again, on the timer, not on duplicate ACKs
    assert rtx["seq"] == lost and rtx["len"] == original["len"]
    assert rtx.get("payload") == original.get("payload")
    assert "rto-retransmission" in rtx.get("analysis", [])
    i_rtx = d.index(rtx)
    (rto,) = d.endpoint("rto")
    assert rto["seq"] == lost and d.index(rto) < i_rtx
    assert d.endpoint("fast-retransmit") == []
    # segments 4 and 5 held beyond the hole: each answered at once with the
    # hole's number and a SACK block (the first of them is a duplicate ACK
    # only when the receiver had already acknowledged segment 2 on its own:
    # a delayed ACK may merge the two); fewer than three, no fast retransmit
    held = [e for e in d.ev[d.index(original):i_rtx] if e.get("event") == "segment"
            and e["from"] == "server" and e["ack"] == lost]
    sacked = [e for e in held if e["options"].get("sack")]
    assert len(sacked) == 2, held
    dups = [e for e in held if "duplicate-ack" in e.get("analysis", [])]
    assert 1 <= len(dups) <= 2 and [e["dup_ack"] for e in dups] == list(range(1, len(dups) + 1)), held
    assert d.facts["dup_acks_before"] == len(dups)
    # cwnd falls to one segment on the RTO
    cw = [e for e in d.ev[d.index(rto):i_rtx] if e.get("event") == "endpoint" and e["what"] == "cwnd"]
    assert cw and cw[0]["cwnd"] == MSS and cw[0]["text"].endswith("(RTO)"), cw
    # the next ACK covers the retransmitted segment and the two held behind it
    nxt = next(e for e in d.ev[i_rtx:] if e.get("event") == "segment" and e["from"] == "server")
    assert d.rel(nxt["ack"]) == SIZES["retransmission"] + 1, nxt
    assert d.facts["cumulative_ack_covers"] is True


# ---- slow start, fast retransmit, fast recovery ------------------------------

def test_slow_start_fast_retransmit_and_halving():
    d = run_demo("slow-start")
    lost, dropped = d.lost_seq()
    assert dropped == 1
    assert d.rel(lost) == 1 + 59 * MSS                  # the 60th segment
    # the bottleneck's queue dropped nothing itself: that one is the only loss
    assert re.search(r"\(dropped 0,", d.observation("tc -s qdisc")), d.observation("tc -s qdisc")
    data = [e for e in d.segs if e["from"] == "client" and e["len"] > 0]
    (rtx,) = [e for e in data if e["retransmission"]]
    first = next(e for e in data if e["seq"] == lost and not e["retransmission"])
    assert rtx["seq"] == lost and "fast-retransmission" in rtx.get("analysis", [])
    i_first, i_rtx = d.index(first), d.index(rtx)
    dups = [e for e in d.ev[i_first:i_rtx] if e.get("event") == "segment" and e["from"] == "server"
            and "duplicate-ack" in e.get("analysis", []) and e["ack"] == lost]
    assert len(dups) >= 3 and [e["dup_ack"] for e in dups[:3]] == [1, 2, 3]
    (fr,) = d.endpoint("fast-retransmit")
    assert fr["seq"] == lost and d.index(fr) < i_rtx
    assert d.endpoint("rto") == []
    # the window before and after: ssthresh = half the flight (RFC 5681
    # eq. 4), cwnd = ssthresh + 3 MSS, below what it was
    i_fr = d.index(fr)
    cw = [e for e in d.ev if e.get("event") == "endpoint" and e["what"] == "cwnd"]
    before = [e for e in cw if d.index(e) < i_fr]
    assert before and before[-1]["text"].endswith("(slow start)")
    ahead = [(e["seq"] + e["len"] - lost) % 2**32 for e in data if d.index(e) < i_rtx]
    flight = max(x for x in ahead if x < 2**31)    # SND.MAX - SND.UNA when the third dup ACK came
    assert fr["ssthresh"] == max(flight // 2, 2 * MSS)
    assert fr["cwnd"] == fr["ssthresh"] + 3 * MSS
    assert fr["cwnd"] < before[-1]["cwnd"]
    assert d.facts["cwnd_before"] == before[-1]["cwnd"] and d.facts["cwnd_after"] == fr["cwnd"]
    # slow start grew it round trip by round trip from the initial window
    ss = [e["cwnd"] for e in before]
    assert before[0]["text"].endswith("(initial window)") and ss[0] == 10 * MSS
    assert ss == sorted(ss) and len(ss) >= 4 and ss[-1] >= 4 * ss[0]
    # fast recovery, then congestion avoidance, growing slowly
    after = [e for e in cw if d.index(e) > i_fr]
    assert after[0]["text"].endswith("(fast recovery)")
    ca = [e["cwnd"] for e in after if e["text"].endswith("(congestion avoidance)")]
    assert len(ca) >= 2 and ca == sorted(ca)
    assert all(0 < b - a <= MSS for a, b in zip(ca, ca[1:]))   # at most one MSS a round trip
    # a cumulative ACK ends the recovery: beyond everything sent before it
    end = next(e for e in d.ev[i_rtx:] if e.get("event") == "segment" and e["from"] == "server"
               and e["ack"] != lost)
    assert (end["ack"] - lost) % 2**32 >= flight


# ---- flow control --------------------------------------------------------------

def test_flow_control_zero_window_probes_update():
    d = run_demo("flow-control")
    srv = [e for e in d.segs if e["from"] == "server" and "SYN" not in e["flags"]]
    zero = next(e for e in srv if "zero-window" in e.get("analysis", []))
    assert zero["win"] == 0
    i_zero = d.index(zero)
    # the window shrank before it closed
    wins = [e["win"] for e in srv if d.index(e) < i_zero and "ACK" in e["flags"]]
    assert len(wins) >= 2 and wins[-1] < max(wins)
    probes = [e for e in d.segs if e["from"] == "client" and "zero-window-probe" in e.get("analysis", [])]
    assert probes and all(e["len"] == 1 and e["seq"] == zero["ack"] for e in probes)
    assert all(not e["retransmission"] for e in probes)
    assert d.index(probes[0]) > i_zero
    # each probe answered with the window still zero
    for p in probes:
        ans = next(e for e in d.ev[d.index(p):] if e.get("event") == "segment" and e["from"] == "server")
        assert ans["win"] == 0 and ans["ack"] == zero["ack"]
    # the persist timer backs off: each interval at least the one before
    gaps = [b["t"] - a["t"] for a, b in zip(probes, probes[1:])]
    assert gaps == sorted(gaps)
    upd = next(e for e in srv if d.index(e) > d.index(probes[-1]) and "window-update" in e.get("analysis", []))
    assert upd["win"] > 0 and upd["ack"] == zero["ack"]
    # tcplab's own view, in the same order
    ep = [e["what"] for e in d.ev if e.get("event") == "endpoint"
          and e["what"] in ("zero-window", "zero-window-probe", "window-update")]
    assert ep == ["zero-window"] + ["zero-window-probe"] * len(probes) + ["window-update"]
    # the transfer resumes with the probes' byte: new data, no retransmission
    resumed = next(e for e in d.segs if e["from"] == "client" and e["len"] > 1 and d.index(e) > d.index(upd))
    assert resumed["seq"] == zero["ack"] and not resumed["retransmission"]
    s = next(e for e in d.ev if e.get("event") == "summary")
    assert s["client"]["retransmissions"] == 0
    assert s["client"]["bytes"] == SIZES["flow-control"]
    assert s["server"]["zero_window_time"] > 0 and s["client"]["zero_window_probes"] == len(probes)


# ---- interrupted ----------------------------------------------------------------

def test_interrupted_flow_control_cleans_up():
    """Ctrl-C while tcplab waits at the zero window: exit 130, and the
    namespaces (with the bottleneck-free lab, the sink) are gone."""
    p = subprocess.Popen([tcplab_bin(), "demo", "flow-control", "--json"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    L.started_pids.add(p.pid)
    try:
        reader = L._LineReader(p.stdout)
        assert reader.read_until(lambda line: '"zero-window"' in line, 60) is not None
        os.killpg(p.pid, signal.SIGINT)
        rc = p.wait(timeout=60)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert rc == 130
    assert [n for n in L.list_namespaces() if n.startswith("tldemo-%d-" % p.pid)] == []
    assert not [f for f in os.listdir("/tmp") if f.startswith("tldemo-%d." % p.pid)]


# ---- --json-file (what the demos' text mode uses for its figures) ------------

def test_json_file_beside_the_text(tmp_path):
    cap = str(L.REPO_ROOT / "captures" / "tcplab-zero-window.pcap")
    out = tmp_path / "events.jsonl"
    text = L.run([tcplab_bin(), "replay", cap])
    both = L.run([tcplab_bin(), "replay", cap, "--json-file", str(out)])
    js = L.run([tcplab_bin(), "replay", cap, "--json"])
    assert both.returncode == 0 and both.out == text.out        # the trace as chosen
    assert out.read_text() == js.out                             # and the JSON beside it
    bad = L.run([tcplab_bin(), "replay", cap, "--json-file", str(tmp_path / "no" / "x.jsonl")])
    assert bad.returncode == 1 and bad.out == "" and "cannot write" in bad.err


# ---- the text a class sees -------------------------------------------------------

TEXT_MARKS = {
    "retransmission": ["[dup ACK #2]", "[RTO retransmission]", "What was seen:"],
    "flow-control": ["[zero window]", "[zero-window probe]", "[window update]", "What was seen:"],
    "slow-start": ["[dup ACK #3]", "[fast retransmission]", "dup ACKs #4–#", "(congestion avoidance)",
                   "What was seen:"],
}


def display_width(line):
    import unicodedata
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in line)


@pytest.mark.parametrize("name", sorted(SIZES))
def test_text_fits_100_columns_and_does_not_flood(name):
    r = L.run([tcplab_bin(), "demo", name, "--lang", "en"], timeout=120)
    assert r.returncode == 0, r
    lines = r.out.splitlines()
    wide = [l for l in lines if display_width(l) > 100]
    assert wide == [], wide
    # a 500 KB transfer with a loss is a page or two, not one line a segment
    assert len(lines) < 300, len(lines)
    for mark in TEXT_MARKS[name]:
        assert mark in r.out, mark
    assert r.out.rstrip().splitlines()[-1].strip()          # ends with the result paragraph
