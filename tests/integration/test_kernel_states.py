"""test_kernel_states.py — the local kernel's own socket states as the oracle.

* Replays of kernel-to-kernel lab captures recorded with the tracepoint
  sock:inet_sock_set_state on (captures/kernel-states/NAME.pcap, with the
  kernel's transitions beside it in NAME.kstates.jsonl): tcplab's inferred
  states must agree with the kernel's for every endpoint, after the one
  normalisation of kstates_oracle.py (the TIME-WAIT mini-socket).
* `tcplab watch --kernel-states` shows the kernel's transitions, its own
  verdict notes agree with the oracle, and it removes its tracing instance.
* `tcplab cleanup` removes the tracing instance of a SIGKILLed tcplab, and
  only of dead ones.

The live connect/listen tests check the oracle on every run
(test_connect.py run_connect, test_listen.py Listener.wait).
"""

import glob
import json
import os
import signal
import subprocess
import time

import pytest

import kstates_oracle
import lab as L

PORT = 7000
CAPTURES = sorted(glob.glob(os.path.join(str(L.REPO_ROOT), "captures", "kernel-states", "*.pcap")))


tracing_instances = kstates_oracle.tracing_instances


@pytest.mark.parametrize("pcap", CAPTURES, ids=[os.path.basename(p)[:-5] for p in CAPTURES])
def test_capture_agrees_with_kernel(pcap, tcplab_bin):
    kfile = pcap[:-5] + ".kstates.jsonl"
    kernel = [json.loads(line) for line in open(kfile) if line.strip()]
    assert kernel, "no kernel transitions in %s" % kfile
    r = L.run([tcplab_bin, "replay", "--json", pcap])
    assert r.returncode == 0, r
    # the roles of the replay: the socket's address:port names its endpoint
    roles = {}
    for e in r.json_lines():
        if e["event"] == "connection":
            roles[(e["conn"], e["client"])] = "client"
            roles[(e["conn"], e["server"])] = "server"
    for k in kernel:
        k["endpoint"] = roles[(k["conn"], k["socket"])]
    events = r.json_lines() + kernel
    res = kstates_oracle.assert_agree(events, label=os.path.basename(pcap), check_notes=False)
    # every connection's two endpoints are kernel sockets, except a refused
    # connection's server (no socket: the kernel answered with RST)
    conns = {e["conn"] for e in events if e.get("event") == "connection"}
    want = 2 * len(conns) - (1 if "refused" in pcap else 0)
    assert len(res) == want, (res, conns)


def test_captures_present():
    names = {os.path.basename(p)[:-5] for p in CAPTURES}
    assert {"ks-echo", "ks-server-close", "ks-half-close", "ks-rst", "ks-refused", "ks-loss",
            "ks-ipv6", "ks-simultaneous-close", "ks-simultaneous-open",
            "ks-simultaneous-open-reordered"} <= names, names


def test_watch_shows_kernel_states_and_cleans_up(lab, tcplab_bin):
    srv = lab.start_server("close-first", PORT, delay_ms=50)
    argv = [tcplab_bin, "watch", "-i", lab.server_if, "--kernel-states", "--json", "tcp"]
    p = lab.spawn_in(lab.server_ns, argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        name = "tcplab_%d" % p.pid
        L.wait_until(lambda: name in tracing_instances(), timeout=10, what="watch's instance")
        time.sleep(0.5)   # watch's capture is open once its instance is (set up before it)
        lab.client(PORT, send="hi", extra=["--no-shutdown"])
        srv.wait_records()
        time.sleep(0.5)
    finally:
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=L.TIMEOUT)
    events = L.parse_json_lines(out.decode())
    kinds = [e["event"] for e in events]
    assert "kernel-state" in kinds, (kinds, err)
    ks = [e for e in events if e["event"] == "kernel-state"]
    assert set(ks[0]) == {"event", "conn", "t", "endpoint", "from", "to", "kernel"}, ks[0]
    assert {e["endpoint"] for e in ks} == {"client", "server"}, ks
    assert any(e["kernel"] == "TCP_FIN_WAIT2" for e in ks if e["endpoint"] == "server"), ks
    kstates_oracle.assert_agree(events, require=2)
    ts = [e["t"] for e in events if "t" in e]
    assert ts == sorted(ts), "event times go backwards"
    assert "tcplab_%d" % p.pid not in tracing_instances()


def test_no_kernel_states_option(lab, tcplab_bin):
    lab.start_server("echo", PORT)
    r = L.run([tcplab_bin, "connect", "--json", "--no-kernel-states", "-d", "x", lab.server_ip,
               str(PORT)], ns=lab.client_ns)
    assert r.returncode == 0, r
    assert not [e for e in r.json_lines() if e["event"] == "kernel-state"]
    lab.start_server("echo", PORT + 1)
    r = L.run([tcplab_bin, "connect", "--json", "-d", "x", lab.server_ip, str(PORT + 1)],
              ns=lab.client_ns)
    assert r.returncode == 0, r
    assert [e for e in r.json_lines() if e["event"] == "kernel-state"], "on by default"


def test_text_shows_kernel_lines(lab, tcplab_bin):
    lab.start_server("echo", PORT)
    r = L.run([tcplab_bin, "connect", "-d", "x", lab.server_ip, str(PORT)], ns=lab.client_ns)
    assert r.returncode == 0, r
    assert "server (kernel)  SYN-RECEIVED → ESTABLISHED" in r.out, r.out
    assert "note: kernel states agree for the server (5 transitions)" in r.out, r.out
    assert max(len(line) for line in r.out.splitlines()
               if "(kernel)" in line or "kernel states" in line) <= 100, r.out


def test_sigint_and_sigkill_instances(lab, tcplab_bin):
    """SIGINT: the run removes its instance.  SIGKILL: it stays, and
    `tcplab cleanup` removes it (and keeps the instance of a live tcplab)."""
    lab.start_server("silent", PORT, count=2)
    argv = [tcplab_bin, "connect", "--json", "--timeout", "30", "--close", "server",
            lab.server_ip, str(PORT)]
    live = lab.spawn_in(lab.client_ns, argv)
    killed = lab.spawn_in(lab.client_ns, argv)
    try:
        for p in (live, killed):
            L.wait_until(lambda: "tcplab_%d" % p.pid in tracing_instances(), timeout=10,
                         what="instance of %d" % p.pid)
        killed.send_signal(signal.SIGKILL)
        killed.wait(timeout=10)
        assert "tcplab_%d" % killed.pid in tracing_instances()
        r = L.run([tcplab_bin, "cleanup"])
        assert r.returncode == 0, r
        assert "stale tracing instance" in r.out, r.out
        names = tracing_instances()
        assert "tcplab_%d" % killed.pid not in names
        assert "tcplab_%d" % live.pid in names, "cleanup removed a running tcplab's instance"
    finally:
        live.send_signal(signal.SIGINT)
        live.communicate(timeout=L.TIMEOUT)
    assert "tcplab_%d" % live.pid not in tracing_instances()


def test_without_tracing_privilege_the_run_goes_on(lab, tcplab_bin):
    """CAP_NET_RAW and CAP_NET_ADMIN but not root, CAP_SYS_ADMIN or
    CAP_DAC_OVERRIDE: --kernel-states says why in one note and the
    connection runs; by default nothing is said."""
    lab.start_server("echo", PORT, count=2)
    caps = ["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
            "--inh-caps", "+net_raw,+net_admin", "--ambient-caps", "+net_raw,+net_admin"]
    r = L.run(caps + [tcplab_bin, "connect", "--json", "--kernel-states", "-d", "x", lab.server_ip,
                      str(PORT)], ns=lab.client_ns)
    assert r.returncode == 0, r
    ev = r.json_lines()
    notes = [e["text"] for e in ev if e["event"] == "note" and "kernel states" in e["text"]]
    assert len(notes) == 1 and notes[0].startswith("kernel states are not shown: "), notes
    assert "CAP_SYS_ADMIN" in notes[0], notes
    assert not [e for e in ev if e["event"] == "kernel-state"]
    assert [e for e in ev if e["event"] == "summary"][0]["outcome"] == "closed"
    r = L.run(caps + [tcplab_bin, "connect", "--json", "-d", "x", lab.server_ip, str(PORT)],
              ns=lab.client_ns)
    assert r.returncode == 0, r
    assert not [e for e in r.json_lines() if e["event"] == "note" and "kernel states" in e["text"]]
