"""test_analysis_tshark.py — tcplab's analysis marks against tshark's
tcp.analysis flags, frame by frame, on every saved capture.

Both tools read the same file; captures/ holds one TCP segment per frame,
so the N-th "segment" event of `tcplab replay --json` is frame N.  For each
frame the test compares (include/tcplab/analysis.h has tcplab's definitions
and says where they differ from Wireshark's):

  * duplicate ACKs, with their number: tcp.analysis.duplicate_ack_num;
  * zero windows: tcp.analysis.zero_window;
  * window updates: tcp.analysis.window_update;
  * fast retransmissions: every frame tshark calls a fast retransmission
    tcplab calls one too (tcplab also counts SACK-carrying duplicate ACKs
    whose window changed, RFC 6675, so it may name more);
  * "the segment repeats sequence space": tcplab's retransmission or
    out-of-order against any of tshark's retransmission, fast_retransmission,
    spurious_retransmission and out_of_order (tshark tells a
    retransmission from reordering by a 3 ms default RTT, tcplab by whether
    the capture already held the bytes, so each name alone may differ);
  * keep-alives and probes: tshark's keep_alive or zero_window_probe
    against tcplab's keep-alive or zero-window-probe (Linux probes a zero
    window the way Wireshark's keep-alive looks; tcplab tells them apart by
    the peer's window; tcplab's own sender probes with one byte at the next
    sequence number, which both call a zero-window probe).

and the summary's per-side totals of duplicate ACKs, zero windows and
retransmissions against the number of frames tshark flags.  Needs only
tshark and the captures (no namespace, no root).
"""

import glob
import json
import os
import shutil
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TCPLAB = os.environ.get("TCPLAB", os.path.join(ROOT, "tcplab"))
CAPTURES = sorted(glob.glob(os.path.join(ROOT, "captures", "*.pcap")))
FIELDS = ["frame.number", "tcp.srcport",
          "tcp.analysis.duplicate_ack_num", "tcp.analysis.zero_window",
          "tcp.analysis.window_update", "tcp.analysis.retransmission",
          "tcp.analysis.fast_retransmission", "tcp.analysis.spurious_retransmission",
          "tcp.analysis.out_of_order", "tcp.analysis.keep_alive",
          "tcp.analysis.zero_window_probe"]

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


def tshark_frames(cap):
    """One dict per frame: field name → value ('' when absent)."""
    # Port 7000 is Gryphon's: its dissector would claim the payload.
    cmd = ["tshark", "-r", cap, "--disable-protocol", "gryphon", "-Y", "tcp", "-T", "fields", "-E", "separator=|"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return [dict(zip(FIELDS, line.split("|"))) for line in out.splitlines()]


def tcplab_events(cap):
    """tcplab's JSON events, without the segments it inferred (one direction
    only: not in the file, so tshark has no frame for them)."""
    out = subprocess.run([TCPLAB, "replay", "--json", cap], capture_output=True, text=True).stdout
    events = [json.loads(line) for line in out.splitlines()]
    return [e for e in events if not (e["event"] == "segment" and e.get("note", "").startswith("inferred"))]


def marks_of(frame, seg):
    """(tshark's view, tcplab's view) of one frame, as comparable tuples."""
    ws = (
        int(frame["tcp.analysis.duplicate_ack_num"] or 0),
        bool(frame["tcp.analysis.zero_window"]),
        bool(frame["tcp.analysis.window_update"]),
        # tshark's fast retransmissions are a subset of tcplab's
        bool(frame["tcp.analysis.fast_retransmission"]) or "fast-retransmission" in seg.get("analysis", []),
        any(frame[f] for f in ("tcp.analysis.retransmission", "tcp.analysis.fast_retransmission",
                               "tcp.analysis.spurious_retransmission", "tcp.analysis.out_of_order")),
        bool(frame["tcp.analysis.keep_alive"]) or bool(frame["tcp.analysis.zero_window_probe"]),
    )
    a = seg.get("analysis", [])
    ours = (
        seg.get("dup_ack", 0),
        "zero-window" in a,
        "window-update" in a,
        "fast-retransmission" in a,
        seg["retransmission"] or "out-of-order" in a,
        "keep-alive" in a or "zero-window-probe" in a,
    )
    return ws, ours


@pytest.mark.parametrize("cap", CAPTURES, ids=[os.path.basename(c) for c in CAPTURES])
def test_marks_match_tshark(cap):
    frames = tshark_frames(cap)
    segs = [e for e in tcplab_events(cap) if e["event"] == "segment"]
    assert len(frames) == len(segs), "one segment event per frame"
    diffs = []
    for frame, seg in zip(frames, segs):
        ws, ours = marks_of(frame, seg)
        if ws != ours:
            diffs.append("frame %s: tshark %s, tcplab %s" % (frame["frame.number"], ws, ours))
    assert not diffs, "\n".join(diffs)


@pytest.mark.parametrize("cap", CAPTURES, ids=[os.path.basename(c) for c in CAPTURES])
def test_summary_totals_match_tshark(cap):
    frames = tshark_frames(cap)
    events = tcplab_events(cap)
    summaries = [e for e in events if e["event"] == "summary"]
    conns = {e["conn"]: e for e in events if e["event"] == "connection"}
    dup = sum(s[side]["dup_acks"] for s in summaries for side in ("client", "server"))
    zw = sum(s[side]["zero_windows"] for s in summaries for side in ("client", "server"))
    assert dup == sum(1 for f in frames if f["tcp.analysis.duplicate_ack_num"])
    assert zw == sum(1 for f in frames if f["tcp.analysis.zero_window"])
    # retransmissions by cause add up to the retransmission count, and
    # with the out-of-order segments they are the frames tshark flags as
    # repeating sequence space
    retx = ooo = 0
    for s in summaries:
        for side in ("client", "server"):
            d = s[side]
            c = d["retransmissions_by_cause"]
            assert c["rto"] + c["fast"] + c["other"] == d["retransmissions"]
            retx += d["retransmissions"]
            ooo += d["out_of_order"]
    flagged = sum(1 for f in frames if any(f[k] for k in (
        "tcp.analysis.retransmission", "tcp.analysis.fast_retransmission",
        "tcp.analysis.spurious_retransmission", "tcp.analysis.out_of_order")))
    assert retx + ooo == flagged
    assert conns, "the capture holds connections"


def test_the_loss_capture_shows_every_mark_kind():
    """The test is not vacuous: bulk-loss and zero-window hold the marks."""
    seen = set()
    for name in ("bulk-loss.pcap", "zero-window.pcap"):
        for e in tcplab_events(os.path.join(ROOT, "captures", name)):
            seen.update(e.get("analysis", []))
    assert {"duplicate-ack", "fast-retransmission", "zero-window", "zero-window-probe",
            "window-update"} <= seen
