"""test_demos.py — `tcplab demo`: every demo written so far, run once with
--json (`tcplab demo all --json`, one run shared by the tests of this
file), each checked against what its row of the course's table promises,
from the events themselves (segments, states, the kernel-side
observations), not from the demo's own verdict alone; then that the run
left nothing behind: no tldemo-<pid>-* namespace, no tldemo nft table, and
the root namespace's sysctls as they were (the demos set theirs inside
their own namespaces).  Also: --list, a single demo by name, the
interrupted demo cleaning up, and the SYN-flood helper refusing anything
outside the lab's range.
"""

import json
import os
import signal
import subprocess
import time

import pytest

import lab as L

ROOT_SYSCTLS = ["net.ipv4.tcp_syncookies", "net.ipv4.tcp_timestamps",
                "net.ipv4.tcp_syn_retries", "net.ipv4.tcp_max_syn_backlog",
                "net.ipv4.tcp_abort_on_overflow"]
SYNFLOOD = str(L.LAB_DIR / "synflood")


def sysctls():
    return {k: L.run(["sysctl", "-n", k]).out.strip() for k in ROOT_SYSCTLS}


def demo_namespaces(pid):
    return [n for n in L.list_namespaces() if n.startswith("tldemo-%d-" % pid)]


def root_demo_tables():
    return [t for t in L.nft_tables(None) if "tldemo" in t]


class DemoRun:
    """The JSON Lines of `tcplab demo all --json`, split per demo and per run."""

    def __init__(self, result):
        self.result = result
        self.events = result.json_lines()
        self.demos = {}
        cur = None
        for e in self.events:
            if e.get("event") == "demo" and e["phase"] in ("intro", "skipped"):
                cur = self.demos.setdefault(e["demo"], {"intro": e, "runs": [], "other": []})
                continue
            if cur is None:
                continue
            if e.get("event") == "run":
                cur["runs"].append({"run": e, "events": [], "exit": None})
            elif e.get("event") == "run-exit":
                cur["runs"][-1]["exit"] = e["exit"]
            elif e.get("event") == "demo" and e["phase"] == "result":
                cur["result"] = e
            elif e.get("event") == "observation":
                cur["other"].append(e)
            elif cur["runs"]:
                cur["runs"][-1]["events"].append(e)

    def demo(self, name):
        d = self.demos.get(name)
        assert d is not None, "demo %s did not run: %r" % (name, self.result)
        assert "result" in d, "demo %s has no result paragraph" % name
        return d

    def observation(self, name, word):
        return next(o["text"] for o in self.demo(name)["other"] if word in o["source"])


def segs(run, conn=None):
    return [e for e in run["events"] if e.get("event") == "segment"
            and (conn is None or e["conn"] == conn)]


def states(run, endpoint, conn=1):
    s = [e for e in run["events"] if e.get("event") == "state" and e["endpoint"] == endpoint
         and e["conn"] == conn]
    return ([s[0]["from"]] if s else []) + [e["to"] for e in s]


def state_before(run, endpoint, index, conn=1):
    st = None
    for e in run["events"][:index]:
        if e.get("event") == "state" and e["endpoint"] == endpoint and e["conn"] == conn:
            st = e["to"]
    return st


def _tcplab():
    return os.path.abspath(os.environ.get("TCPLAB") or str(L.REPO_ROOT / "tcplab"))


@pytest.fixture(scope="module")
def demo_all():
    tcplab_bin = _tcplab()
    before = sysctls()
    tables_before = set(root_demo_tables())
    p = L.spawn([tcplab_bin, "demo", "all", "--json"])
    try:
        out, err = p.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        L.stop_process(p, sig=signal.SIGINT)
        raise
    r = L.Result(["tcplab", "demo", "all", "--json"], p.returncode, out, err, p.pid, 0)
    run = DemoRun(r)
    run.pid = p.pid
    run.sysctls_before, run.sysctls_after = before, sysctls()
    run.leftover_ns = demo_namespaces(p.pid)
    run.new_tables = set(root_demo_tables()) - tables_before
    return run


def test_demo_all_succeeds_and_prints_only_json(demo_all):
    assert demo_all.result.returncode == 0, demo_all.result
    assert all(isinstance(e, dict) and "event" in e for e in demo_all.events)
    for name, d in demo_all.demos.items():
        if d["intro"]["phase"] == "skipped":
            assert d["intro"]["text"]
            continue
        assert d["intro"]["text"] and d["result"]["text"], name
        assert d["result"]["facts"]["ok"] is True, (name, d["result"])


def test_demo_all_order_and_skips(demo_all, tcplab_bin):
    names = [n for n in demo_all.demos]
    listed = L.run([tcplab_bin, "demo", "--list"]).out.split()
    assert listed[-1] == "all"
    ran = [n for n in names if demo_all.demos[n]["intro"]["phase"] == "intro"]
    assert ran == listed[:-1]
    # the order, the pending ones said to be skipped
    assert names[:5] == ["handshake", "server-close", "refused", "lost-syn", "reset"]
    for pending in ("lost-final-ack", "retransmission", "slow-start"):
        if pending not in listed:
            assert demo_all.demos[pending]["intro"]["phase"] == "skipped"


def test_demo_all_leaves_nothing_behind(demo_all):
    assert demo_all.leftover_ns == []
    assert demo_all.new_tables == set()
    assert demo_all.sysctls_after == demo_all.sysctls_before
    assert not [f for f in os.listdir("/tmp") if f.startswith("tldemo-%d." % demo_all.pid)]


def test_handshake(demo_all):
    (run,) = demo_all.demo("handshake")["runs"]
    s = segs(run)
    assert [e["flags"] for e in s[:3]] == [["SYN"], ["SYN", "ACK"], ["ACK"]]
    assert any(e["from"] == "server" and e.get("payload") == "hello" for e in s)
    assert states(run, "client")[:3] == ["CLOSED", "SYN-SENT", "ESTABLISHED"]
    assert "TIME-WAIT" in states(run, "client")
    assert states(run, "server")[-1] == "CLOSED" and "LAST-ACK" in states(run, "server")
    assert run["exit"] == 0


def test_server_close(demo_all):
    (run,) = demo_all.demo("server-close")["runs"]
    fins = [e for e in segs(run) if "FIN" in e["flags"]]
    assert fins[0]["from"] == "server"
    c = states(run, "client")
    assert c.index("CLOSE-WAIT") < c.index("LAST-ACK")
    assert run["exit"] == 0


def test_refused(demo_all):
    (run,) = demo_all.demo("refused")["runs"]
    s = segs(run)
    assert s[0]["flags"] == ["SYN"] and "RST" in s[1]["flags"]
    assert run["exit"] == 3


def test_lost_syn(demo_all):
    (run,) = demo_all.demo("lost-syn")["runs"]
    syn = [e for e in segs(run) if e["flags"] == ["SYN"]]
    assert len(syn) == 2 and syn[0]["seq"] == syn[1]["seq"] and syn[1]["retransmission"]
    assert syn[1]["t"] - syn[0]["t"] >= 0.9          # RFC 6298: RTO 1 s, not sooner
    assert "ESTABLISHED" in states(run, "client") and run["exit"] == 0


def test_reset(demo_all):
    (run,) = demo_all.demo("reset")["runs"]
    assert any(e["from"] == "server" and "RST" in e["flags"] for e in segs(run))
    assert "TIME-WAIT" not in states(run, "client")
    assert run["exit"] == 4


def test_half_close(demo_all):
    (run,) = demo_all.demo("half-close")["runs"]
    ev = run["events"]
    got = [(i, e) for i, e in enumerate(ev) if e.get("event") == "segment"
           and e["from"] == "server" and e["len"] > 0]
    assert got
    i, data = got[0]
    assert state_before(run, "client", i) == "FIN-WAIT-2"
    assert state_before(run, "server", i) == "CLOSE-WAIT"
    end = (data["seq"] + data["len"]) % 2**32
    assert any(e["from"] == "client" and e["ack"] == end for e in segs(run))
    first_fin = next(e for e in segs(run) if "FIN" in e["flags"])
    assert first_fin["from"] == "client" and first_fin["t"] < data["t"]


def test_simultaneous_close(demo_all):
    runs = demo_all.demo("simultaneous-close")["runs"]
    assert [r["run"]["where"] for r in runs] == ["client", "server"]
    for r, me in zip(runs, ("client", "server")):
        st = states(r, me)
        k = st.index("FIN-WAIT-1")
        assert st[k:] == ["FIN-WAIT-1", "CLOSING", "TIME-WAIT"], (me, st)
    # each FIN left before the other end's FIN arrived: neither acknowledges the other
    fins = [e for e in segs(runs[0]) if "FIN" in e["flags"]]
    assert len(fins) == 2
    for f, other in ((fins[0], fins[1]), (fins[1], fins[0])):
        assert f["ack"] != (other["seq"] + other["len"] + 1) % 2**32


def test_backlog(demo_all):
    d = demo_all.demo("backlog")
    (run,) = d["runs"]
    ss_s = demo_all.observation("backlog", "server namespace (the kernel")
    listen = next(line.split() for line in ss_s.splitlines() if line.startswith("LISTEN"))
    assert listen[1:3] == ["6", "5"]           # accept queue 6 = backlog 5 + 1
    assert sum(line.startswith("SYN-RECV") for line in ss_s.splitlines()) == 1
    assert sum(line.startswith("ESTAB") for line in ss_s.splitlines()) == 6
    ss_c = demo_all.observation("backlog", "client namespace")
    assert sum(line.startswith("ESTAB") for line in ss_c.splitlines()) == 7
    assert sum(line.startswith("SYN-SENT") for line in ss_c.splitlines()) == 1
    # client 6: believes ESTABLISHED, the server resends its SYN-ACK
    synacks6 = [e for e in segs(run, 6) if e["flags"] == ["SYN", "ACK"]]
    assert len(synacks6) >= 2 and all(e["retransmission"] for e in synacks6[1:])
    # client 8: SYNs never answered
    assert len([e for e in segs(run, 8) if e["flags"] == ["SYN"]]) >= 2
    assert [e for e in segs(run, 8) if e["from"] == "server"] == []
    ctr = demo_all.observation("backlog", "TcpExt")
    assert int(ctr.split("ListenOverflows ")[1].split()[0]) >= 2


def test_syn_flood(demo_all):
    d = demo_all.demo("syn-flood")
    off, on = d["runs"]
    flood = json.loads(demo_all.observation("syn-flood", "synflood"))
    assert 0 < flood["sent"] <= 2000 and flood["seconds"] <= 10
    # cookies off: the real client's SYN is retransmitted and never answered
    assert len([e for e in segs(off) if e["flags"] == ["SYN"]]) == 2
    assert [e for e in segs(off) if e["from"] == "server"] == []
    assert off["exit"] == 5
    # cookies on: answered, established, and the SYN-ACK's TS value carries
    # the client's window scale and SACK in its low 6 bits
    syn = next(e for e in segs(on) if e["flags"] == ["SYN"])
    synack = next(e for e in segs(on) if e["flags"] == ["SYN", "ACK"])
    assert synack["options"]["ts_val"] & 63 == syn["options"]["wscale"] | 16
    assert "ESTABLISHED" in states(on, "client") and on["exit"] == 0
    ctr = dict(line.split() for line in
               demo_all.observation("syn-flood", "TcpExt").splitlines())
    assert int(ctr["SyncookiesSent"]) >= 1 and int(ctr["SyncookiesRecv"]) >= 1


def test_socket_calls(demo_all):
    (run,) = demo_all.demo("socket-calls")["runs"]
    calls = [e for e in run["events"] if e.get("event") == "socket-call"]
    names = [(c["endpoint"], c["call"]) for c in calls]
    for want in [("server", "listen"), ("server", "accept"), ("client", "connect"),
                 ("client", "close"), ("server", "close")]:
        assert want in names
    s = segs(run)
    call = {(c["endpoint"], c["call"]): c for c in calls}
    synack = next(e for e in s if e["flags"] == ["SYN", "ACK"])
    syn = next(e for e in s if e["flags"] == ["SYN"])
    ack = next(e for e in s if e["from"] == "client" and e["flags"] == ["ACK"])
    cfin = next(e for e in s if e["from"] == "client" and "FIN" in e["flags"])
    assert call[("client", "connect")]["called"] <= syn["t"] <= synack["t"] <= \
        call[("client", "connect")]["t"]
    assert call[("server", "accept")]["t"] >= ack["t"]
    assert call[("client", "close")]["called"] <= cfin["t"]
    # the merge is in time order
    ts = [e["t"] for e in run["events"] if "t" in e and e.get("event") != "summary"]
    assert ts == sorted(ts)


def test_demo_list_needs_no_root(tcplab_bin):
    r = L.run([tcplab_bin, "demo", "--list"], user=(65534, 65534))
    assert r.returncode == 0, r
    names = r.out.split()
    assert names[:5] == ["handshake", "server-close", "refused", "lost-syn", "reset"]
    assert names[-1] == "all" and "hello" not in names


def test_demo_by_name_and_alias(tcplab_bin):
    r = L.run([tcplab_bin, "demo", "refused", "--json"], timeout=60)
    assert r.returncode == 0, r
    ev = r.json_lines()
    assert ev[0]["event"] == "demo" and ev[0]["demo"] == "refused"
    assert ev[-1]["phase"] == "result" and ev[-1]["facts"]["exit"] == 3
    r = L.run([tcplab_bin, "demo", "hello"], timeout=60)
    assert r.returncode == 0 and "=== demo handshake" in r.out, r
    r = L.run([tcplab_bin, "demo", "no-such-demo"])
    assert r.returncode == 2 and r.out == "" and "unknown demo" in r.err


def test_interrupted_demo_cleans_up(tcplab_bin):
    before = sysctls()
    p = subprocess.Popen([tcplab_bin, "demo", "syn-flood", "--json"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    L.started_pids.add(p.pid)
    try:
        reader = L._LineReader(p.stdout)
        # interrupted in the middle: after the flood, during tcplab's run
        assert reader.read_until(lambda line: '"event":"run"' in line, 60) is not None
        assert demo_namespaces(p.pid) != []
        os.killpg(p.pid, signal.SIGINT)          # Ctrl-C: the whole process group
        rc = p.wait(timeout=60)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    assert rc == 130
    assert demo_namespaces(p.pid) == []
    assert sysctls() == before


@pytest.mark.parametrize("args,why", [
    (["--dst", "10.0.0.1", "--port", "80", "--src-net", "198.18.78.0/24"], "outside 198.18.0.0/15"),
    (["--dst", "198.20.0.1", "--port", "80", "--src-net", "198.18.78.0/24"], "outside 198.18.0.0/15"),
    (["--dst", "8.8.8.8", "--port", "53", "--src-net", "198.18.78.0/24"], "outside 198.18.0.0/15"),
    (["--dst", "198.18.1.2", "--port", "80", "--src-net", "10.1.2.0/24"], "outside 198.18.0.0/15"),
    (["--dst", "198.18.1.2", "--port", "80", "--src-net", "198.18.78.0/24", "--count", "2001"],
     "bounded"),
    (["--dst", "198.18.1.2", "--port", "80", "--src-net", "198.18.78.0/24", "--seconds", "11"],
     "bounded"),
])
def test_synflood_refuses_outside_the_lab(lab, args, why):
    # run inside the lab's namespace all the same: even a bug could not reach out
    cap = lab.start_capture(lab.client_ns, filter="")
    r = lab.run_in(lab.client_ns, [SYNFLOOD] + args)
    assert r.returncode == 2 and why in r.err and r.out == "", r
    time.sleep(0.2)
    assert cap.packets() == []


def test_synflood_sends_its_bounded_count(lab):
    cap = lab.start_capture(lab.server_ns)
    r = lab.run_in(lab.client_ns, [SYNFLOOD, "--dst", lab.server_ip, "--port", "9",
                                   "--src-net", "198.19.5.0/24", "--count", "30",
                                   "--seconds", "0.3"])
    assert r.returncode == 0, r
    assert json.loads(r.out)["sent"] == 30
    pk = cap.wait_for(lambda s: len([x for x in s if x["fl"] == "S"]) >= 30)
    syns = [x for x in pk if x["fl"] == "S"]
    assert len(syns) == 30
    assert all(x["src"].startswith("198.19.5.") and x["dst"] == lab.server_ip for x in syns)


def test_udp(demo_all):
    (run,) = demo_all.demo("udp")["runs"]
    d = [e for e in run["events"] if e.get("event") == "datagram"]
    assert len(d) == 6 and all(e["protocol"] == "udp" and e["conn"] == 0 for e in d)
    assert [e["dst_port"] == 9999 for e in d] == [True, False] * 3   # message, answer, ...
    assert d[2]["payload"] == "hello" and d[3]["payload"] == "got: hello"
    # no handshake, no state, no acknowledgement: nothing but the datagrams
    assert [e for e in run["events"] if e.get("event") != "datagram"] == []


def test_demo_passes_options_to_tcplab(tcplab_bin):
    # -S (absolute numbers only) reaches the tcplab run: no rel_seq keys
    r = L.run([tcplab_bin, "demo", "refused", "--json", "-S"], timeout=60)
    assert r.returncode == 0, r
    s = [e for e in r.json_lines() if e["event"] == "segment"]
    assert s and all("rel_seq" not in e for e in s)
