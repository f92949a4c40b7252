"""test_ladder.py — issue 11's outputs, checked from outside: SVG diagrams,
step mode on a pseudo-terminal, colour, the ladder's character set.

  * --svg: every diagram is well-formed XML (python's xml.etree), renders to
    PNG with rsvg-convert (librsvg) without error, and holds one arrow per
    segment and one state box per state change -- counted against the same
    run's --json events, so the count is not the renderer agreeing with
    itself.  The title names the 4-tuple and the outcome.  Several
    connections give FILE-N.svg, -c N one FILE; a sudo run's file belongs
    to the invoking user; a live `connect --svg` in the lab draws what it
    traced.
  * --step on a pty: N presses of Enter show exactly N segments, `q` ends
    with exit 0 and the summaries; without a terminal on stdin it is a
    usage error (exit 2, nothing on stdout).
  * colour: escape sequences on a pty, none through a pipe or with
    NO_COLOR, --color=always / bare --color force them, a bad WHEN is a
    usage error.
  * the ladder draws with box-drawing characters in a UTF-8 locale and in
    ASCII otherwise (or with --ascii).

Replays need no namespace; the live case uses the lab fixture.
"""

import os
import pty
import re
import select
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

import lab as L

CAPTURES = L.REPO_ROOT / "captures"
SVG_NS = "{http://www.w3.org/2000/svg}"
UTF8 = dict(os.environ, LC_ALL="C.UTF-8", TZ="UTC")
UTF8.pop("NO_COLOR", None)


def replay(tcplab_bin, capture, *opts, env=UTF8, stdin=subprocess.DEVNULL):
    return subprocess.run([tcplab_bin, "replay", str(CAPTURES / capture)] + list(opts),
                          stdin=stdin, capture_output=True, env=env, timeout=60)


def events_of(tcplab_bin, capture, *opts):
    r = replay(tcplab_bin, capture, "--json", *opts)
    assert r.returncode == 0, r
    return L.parse_json_lines(r.stdout.decode())


def groups(root, cls):
    """<g> elements whose class list starts with cls."""
    return [g for g in root.iter(SVG_NS + "g") if (g.get("class") or "").split()[:1] == [cls]]


def check_svg(path, events, conn=None):
    """Parses path, renders it to PNG, and checks it against the events of
    one connection."""
    text = path.read_text(encoding="utf-8")
    root = ET.fromstring(text)              # raises on anything not well-formed
    assert root.tag == SVG_NS + "svg"
    evs = [e for e in events if conn is None or e.get("conn") == conn]
    segs = [e for e in evs if e["event"] == "segment"]
    # the kernel's own states (a live run) are drawn in boxes too, beside the inferred ones
    states = [e for e in evs if e["event"] in ("state", "kernel-state")]
    arrows = groups(root, "arrow")
    boxes = groups(root, "state")
    assert len(arrows) == len(segs), (path, len(arrows), len(segs))
    assert len(boxes) == len(states), (path, len(boxes), len(states))
    # each arrow's class says its kind, in the order of the segments
    for g, s in zip(arrows, segs):
        cls = g.get("class").split()
        assert ("retransmission" in cls) == s["retransmission"], (cls, s)
        if "RST" in s["flags"]:
            assert cls[1] == "RST"
        elif "SYN" in s["flags"]:
            assert cls[1] == "SYN"
    # each box names the state entered, in order
    for g, s in zip(boxes, states):
        label = "".join(g.find(SVG_NS + "text").itertext())
        want = ("kernel: " if s["event"] == "kernel-state" else "") + s["to"]
        assert label == want, (label, s)
    c = [e for e in evs if e["event"] == "connection"][0]
    title = "".join(root.find(SVG_NS + "title").itertext())
    assert c["client"] in title and c["server"] in title, title
    summ = [e for e in evs if e["event"] == "summary"]
    if summ:
        assert ("outcome: " + summ[0]["outcome"]) in text
    png = path.with_suffix(".png")
    r = subprocess.run(["rsvg-convert", "-o", str(png), str(path)], capture_output=True,
                       timeout=60)
    assert r.returncode == 0 and r.stderr == b"", r
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return root


@pytest.fixture(autouse=True)
def _need_rsvg():
    if shutil.which("rsvg-convert") is None:
        pytest.fail("rsvg-convert is missing: install librsvg2-bin (scripts/deps.sh)")


@pytest.mark.parametrize("capture", ["tcplab-echo.pcap", "syn-lost.pcap", "refused.pcap",
                                     "final-ack-lost.pcap", "simultaneous-close.pcap",
                                     "ipv6.pcap", "tcplab-rst.pcap", "tcplab-half-close.pcap"])
def test_svg_replay(tcplab_bin, tmp_path, capture):
    out = tmp_path / "d.svg"
    r = replay(tcplab_bin, capture, "--svg", str(out))
    assert r.returncode == 0, r
    assert r.stdout, "the terminal trace goes on beside the SVG"
    check_svg(out, events_of(tcplab_bin, capture))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.png", "d.svg"]


def test_svg_even_rows(tcplab_bin, tmp_path):
    """--even: the rows (their times on the left) are evenly spaced; by
    default a 1 s gap (the SYN's retransmission) is taller than 30 µs."""
    ys = {}
    for mode in ("even", "time"):
        out = tmp_path / ("%s.svg" % mode)
        opts = ["--svg", str(out)] + (["--even"] if mode == "even" else [])
        assert replay(tcplab_bin, "syn-lost.pcap", *opts).returncode == 0
        root = check_svg(out, events_of(tcplab_bin, "syn-lost.pcap"))
        times = groups(root, "times")[0]
        ys[mode] = [float(t.get("y")) for t in times.iter(SVG_NS + "text")]
    gaps = [b - a for a, b in zip(ys["even"], ys["even"][1:])]
    # rows under an annotated arrow get room for its line: two sizes only
    assert len(set(gaps)) <= 2 and min(gaps) > 0, gaps
    tgaps = [b - a for a, b in zip(ys["time"], ys["time"][1:])]
    assert tgaps[0] > 2 * min(tgaps), tgaps          # 1.001 s versus tens of µs


def test_svg_several_connections(tcplab_bin, tmp_path):
    out = tmp_path / "many.svg"
    r = replay(tcplab_bin, "many.pcap", "--svg", str(out))
    assert r.returncode == 0, r
    events = events_of(tcplab_bin, "many.pcap")
    conns = sorted({e["conn"] for e in events if e["event"] == "connection"})
    assert len(conns) == 20
    assert not out.exists()
    for n in conns:
        check_svg(tmp_path / ("many-%d.svg" % n), events, conn=n)
    one = tmp_path / "five.svg"
    r = replay(tcplab_bin, "many.pcap", "-c", "5", "--svg", str(one))
    assert r.returncode == 0, r
    check_svg(one, events, conn=5)
    assert not (tmp_path / "five-5.svg").exists()


def test_svg_belongs_to_the_sudo_user(tcplab_bin, tmp_path):
    out = tmp_path / "mine.svg"
    env = dict(UTF8, SUDO_UID="65534", SUDO_GID="65534")
    r = replay(tcplab_bin, "tcplab-echo.pcap", "--svg", str(out), env=env)
    assert r.returncode == 0, r
    st = out.stat()
    assert (st.st_uid, st.st_gid) == (65534, 65534)


def test_svg_unwritable(tcplab_bin, tmp_path):
    r = replay(tcplab_bin, "tcplab-echo.pcap", "--svg", str(tmp_path / "no" / "x.svg"))
    assert r.returncode == 1 and r.stdout == b"", r
    assert b"cannot write" in r.stderr


def test_svg_live_connect(lab, tcplab_bin, tmp_path):
    """A live run draws what it traced (the same events, one diagram)."""
    lab.start_server("echo", 7000)
    out = tmp_path / "live.svg"
    r = lab.run_in(lab.client_ns, [tcplab_bin, "connect", lab.server_ip, "7000", "--data", "hello",
                                   "--json", "--svg", str(out), "--time-wait", "0.2"])
    assert r.returncode == 0, r
    events = r.json_lines()
    root = check_svg(out, events)
    assert len(groups(root, "arrow")) >= 7


# ---- step mode on a pseudo-terminal ------------------------------------------------

class Pty:
    """A process whose stdin, stdout and stderr are one pseudo-terminal."""

    def __init__(self, argv, env):
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True)
        os.close(slave)
        self.buf = b""

    def read_until(self, pattern, timeout=20.0):
        """Reads until pattern (bytes regex) matches what was read since the
        last call that matched; returns everything read up to the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                got, self.buf = self.buf[:m.end()], self.buf[m.end():]
                return got
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timed out waiting for %r; read: %r" % (pattern, self.buf))
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    raise AssertionError("end of output waiting for %r; read: %r"
                                         % (pattern, self.buf))
                self.buf += chunk

    def send(self, data):
        os.write(self.master, data)

    def rest(self, timeout=20.0):
        """Everything until the process ends; returns (output, exit code)."""
        out = self.buf
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self.master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                out += chunk
            elif self.proc.poll() is not None:
                break
        rc = self.proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        os.close(self.master)
        return out, rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class _Counter:
    """Counts segment rows in terminal output (colour sequences ignored)."""

    def __init__(self, pattern):
        self.rx = re.compile(pattern)

    def findall(self, data):
        return self.rx.findall(ANSI.sub("", data.decode("utf-8", "replace")))

    def search(self, data):
        return self.rx.search(ANSI.sub("", data.decode("utf-8", "replace")))


SEG_TEXT = _Counter(r"C [→←] S  ")
SEG_LADDER = _Counter(r"├[─┄]|[─┄]┤")


@pytest.mark.parametrize("presses", [0, 1, 3])
def test_step_text(tcplab_bin, presses):
    """N presses of Enter show N segments; q then ends with the summary."""
    p = Pty([tcplab_bin, "replay", str(CAPTURES / "tcplab-echo.pcap"), "--step"], UTF8)
    try:
        shown = p.read_until(rb"next: conn 1, client \xe2\x86\x92 server: SYN seq=0 len=0")
        assert not SEG_TEXT.search(shown)
        for i in range(presses):
            p.send(b"\n")
            shown += p.read_until(rb"next: conn 1, ")
        assert len(SEG_TEXT.findall(shown)) == presses, shown
        p.send(b"q\n")
        out, rc = p.rest()
    finally:
        p.kill()
    assert rc == 0, out
    assert len(SEG_TEXT.findall(shown + out)) == presses, out
    assert b"conn 1 summary: " in out
    assert b"next: " not in out.split(b"q\r\n", 1)[-1]


def test_step_ladder(tcplab_bin):
    """The ladder's rows (and the states under them) are shown before each
    prompt; after q the lines' feet are not drawn, the summary is."""
    p = Pty([tcplab_bin, "replay", str(CAPTURES / "tcplab-echo.pcap"), "--step", "--ladder"],
            UTF8)
    try:
        shown = p.read_until(rb"next: ")
        for _ in range(2):
            p.send(b"\n")
            shown += p.read_until(rb"next: ")
        assert len(SEG_LADDER.findall(shown)) == 2, shown
        assert b"SYN-RECEIVED" in shown and b"ESTABLISHED" in shown
        p.send(b"q\n")
        out, rc = p.rest()
    finally:
        p.kill()
    assert rc == 0
    assert len(SEG_LADDER.findall(shown + out)) == 2
    assert b"conn 1 summary: " in out


def test_step_all_the_way(tcplab_bin):
    """Enter at every prompt: the whole trace, as without --step."""
    events = events_of(tcplab_bin, "tcplab-echo.pcap")
    n = len([e for e in events if e["event"] == "segment"])
    p = Pty([tcplab_bin, "replay", str(CAPTURES / "tcplab-echo.pcap"), "--step"], UTF8)
    try:
        for _ in range(n):
            p.read_until(rb"next: ")
            p.send(b"\n")
        out, rc = p.rest()
    finally:
        p.kill()
    assert rc == 0
    assert "conn 1 summary: closed" in ANSI.sub("", out.decode())


def test_step_needs_a_terminal(tcplab_bin):
    r = replay(tcplab_bin, "tcplab-echo.pcap", "--step")
    assert r.returncode == 2 and r.stdout == b"", r
    assert b"--step" in r.stderr and b"terminal" in r.stderr


# ---- colour ------------------------------------------------------------------------

ESC = b"\x1b["


def run_on_pty(argv, env):
    p = Pty(argv, env)
    try:
        out, rc = p.rest()
    finally:
        p.kill()
    assert rc == 0, out
    return out


@pytest.mark.parametrize("ladder", [False, True])
def test_color(tcplab_bin, ladder):
    argv = [tcplab_bin, "replay", str(CAPTURES / "tcplab-echo.pcap")] + (["--ladder"] if ladder else [])
    assert ESC in run_on_pty(argv, UTF8)                                   # a terminal: colour
    assert ESC not in run_on_pty(argv, dict(UTF8, NO_COLOR="1"))          # NO_COLOR
    assert ESC not in run_on_pty(argv + ["--color=never"], UTF8)
    piped = subprocess.run(argv, capture_output=True, env=UTF8, timeout=60)
    assert piped.returncode == 0 and ESC not in piped.stdout               # a pipe: none
    for force in ("--color", "--color=always"):
        r = subprocess.run(argv + [force], capture_output=True, env=dict(UTF8, NO_COLOR="1"),
                           timeout=60)
        assert r.returncode == 0 and ESC in r.stdout, force
    r = subprocess.run(argv + ["--color=sometimes"], capture_output=True, env=UTF8, timeout=60)
    assert r.returncode == 2 and r.stdout == b"" and b"--color" in r.stderr


def test_color_is_the_palette(tcplab_bin):
    """Text and ladder colour a SYN and ESTABLISHED alike."""
    for extra in ([], ["--ladder"]):
        r = replay(tcplab_bin, "tcplab-echo.pcap", "--color=always", *extra)
        out = r.stdout.decode()
        assert re.search("\x1b\\[32m[─ ]*SYN seq", out) or "\x1b[32mSYN" in out, extra  # SYN: green
        assert "\x1b[1;32mESTABLISHED" in out, extra                          # bold green


# ---- character set -------------------------------------------------------------------

def test_ladder_ascii_by_locale(tcplab_bin):
    utf8 = replay(tcplab_bin, "tcplab-echo.pcap", "--ladder").stdout
    assert "├─ SYN".encode() in utf8
    c = dict(UTF8, LC_ALL="C")
    plain = replay(tcplab_bin, "tcplab-echo.pcap", "--ladder", env=c).stdout
    assert b"|- SYN seq=0" in plain
    rows = [l for l in plain.splitlines() if b"|" in l]
    assert rows and all(max(l) < 0x80 for l in rows)
    forced = replay(tcplab_bin, "tcplab-echo.pcap", "--ladder", "--ascii").stdout
    assert b"|- SYN seq=0" in forced


def test_ladder_width_is_checked(tcplab_bin):
    for w in ("59", "1001", "x"):
        r = replay(tcplab_bin, "tcplab-echo.pcap", "--ladder", "--width", w)
        assert r.returncode == 2 and r.stdout == b"", r
    for w in (60, 80, 133):
        r = replay(tcplab_bin, "many.pcap", "--ladder", "--width", str(w), "-c", "3")
        rows = r.stdout.decode().split("\n\nconn 3 summary")[0].splitlines()
        assert max(len(l) for l in rows) <= w, (w, max(len(l) for l in rows))


@pytest.mark.parametrize("opts", [["--ladder", "--json"], ["--ladder", "--summary"],
                                  ["--svg", "x.svg", "--summary"], ["--width", "80x"]])
def test_usage_errors(tcplab_bin, tmp_path, opts):
    """Options that cannot go together are a bad command line: exit 2,
    nothing on stdout, no file written."""
    r = subprocess.run([tcplab_bin, "replay", str(CAPTURES / "tcplab-echo.pcap")] + opts,
                       capture_output=True, env=UTF8, cwd=tmp_path, timeout=60)
    assert r.returncode == 2 and r.stdout == b"", r
    assert list(tmp_path.iterdir()) == []


def test_step_live_refuses_stdin_data(tcplab_bin):
    """connect --step reads Enter from standard input: with --data-file -
    it is a usage error, before anything is touched (live --step itself is
    tested in namespaces: test_step_live.py)."""
    p = Pty([tcplab_bin, "connect", "198.18.0.2", "7000", "--step", "--data-file", "-"], UTF8)
    try:
        out, rc = p.rest()
    finally:
        p.kill()
    assert rc == 2, out
    assert b"--step" in out and b"--data-file -" in out


def test_svg_file_limit(tcplab_bin, tmp_path):
    """A capture of 1,100 connections: 1,000 diagrams, one sentence why."""
    cap = tmp_path / "big.pcap"
    subprocess.run([str(L.REPO_ROOT / "build" / "lab" / "gencap"), "--conns", "1100", str(cap)],
                   check=True, capture_output=True, timeout=60)
    out = tmp_path / "d"
    out.mkdir()
    r = subprocess.run([tcplab_bin, "replay", str(cap), "--svg", str(out / "x.svg")],
                       capture_output=True, env=UTF8, timeout=120)
    assert r.returncode == 0, r
    assert len(list(out.iterdir())) == 1000
    assert r.stderr.count(b"at most 1000 diagrams") == 1, r.stderr
