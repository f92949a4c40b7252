"""test_tshark_count.py — for every capture in captures/, tcplab decodes as
many TCP segments as tshark finds.

tshark (Wireshark's dissectors) is the independent reference: it decodes
every link type, tunnel and offload the captures hold (VXLAN, GRE/ERSPAN,
NFLOG, Linux cooked, TSO segments past the MTU, options cut by a 60-byte
snapshot length, pcapng with interfaces of different link types, gzip).
tcplab's count is the number of "segment" events of `tcplab replay --json`,
less the segments a one-direction capture infers (they carry an "inferred"
note: they are not in the file).  Each file is read alone, so every file of
the ring in captures/ring/ is checked too; a file tshark cannot read at all
(a text file) is not a capture and is skipped.
"""

import json
import subprocess

import pytest

import lab as L

CAPTURES = sorted(p for p in (L.REPO_ROOT / "captures").rglob("*")
                  if p.is_file() and p.name.endswith((".pcap", ".pcapng", ".pcap.gz")))


def tshark_tcp_count(path):
    r = subprocess.run(["tshark", "-n", "-r", str(path), "-Y", "tcp", "-T", "fields", "-e", "frame.number"],
                       capture_output=True, text=True, timeout=120)
    return len([line for line in r.stdout.splitlines() if line.strip()])


def tcplab_segment_count(tcplab, path):
    r = subprocess.run([tcplab, "replay", "--json", str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode in (0, 7), r.stderr
    n = 0
    for line in r.stdout.splitlines():
        ev = json.loads(line)
        if ev.get("event") == "segment" and not ev.get("note", "").startswith("inferred"):
            n += 1
    return n


def test_captures_exist():
    names = {p.name for p in CAPTURES}
    for want in ("tso.pcap", "vxlan.pcap", "gre.pcap", "nflog.pcap", "oneway.pcap", "tfo.pcap",
                 "kernel-echo.pcap.gz", "mixed-links.pcapng", "ring-0.pcap"):
        assert want in names, want


@pytest.mark.parametrize("path", CAPTURES, ids=[str(p.relative_to(L.REPO_ROOT / "captures")) for p in CAPTURES])
def test_same_count_as_tshark(tcplab_bin, path):
    want = tshark_tcp_count(path)
    got = tcplab_segment_count(tcplab_bin, path)
    assert got == want, "%s: tcplab decoded %d TCP segments, tshark %d" % (path.name, got, want)
