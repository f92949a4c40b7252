"""test_step_live.py — `--step` for the live roles (issue 11, item 3).

tcplab connect / listen run on a pseudo-terminal (stdin, stdout and stderr
one pty, as in a classroom) inside the lab's namespaces, against the Linux
stack.  Before each segment tcplab sends it prints "next: tcplab (ROLE)
sends ..." and waits for Enter; what the peer does meanwhile is shown as it
happens; q aborts with RST and ends the run with its summaries.

Checked from tcplab's terminal (segments shown per Enter, the prompt saying
that the peer did not wait) and from the kernel's side, which tcplab cannot
influence: the server namespace's own capture (the RST arrives) and `ss`
there (the kernel's socket is gone), the tcpserver / tcpclient log (the
connection ended by a reset), and no tcplab_* nft table nor tcplab tracing
instance left once tcplab has exited.
"""

import os
import re
import select
import subprocess
import time

import pytest

import kstates_oracle
import lab as L

PORT = 7000
UTF8 = dict(os.environ, LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="xterm")
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
PROMPT = rb"next: tcplab \((client|server)\) sends [^\n]*? q ends "
SENT = {"client": re.compile(r"^ +[0-9.]+  C → S  ", re.M),
        "server": re.compile(r"^ +[0-9.]+  C ← S  ", re.M)}


class Pty:
    """tcplab in a namespace with one pseudo-terminal as stdin, stdout, stderr."""

    def __init__(self, argv, ns):
        import pty
        self.master, slave = pty.openpty()
        self.proc = subprocess.Popen(L.wrap_argv(argv, ns), stdin=slave, stdout=slave,
                                     stderr=slave, env=UTF8, start_new_session=True)
        L.started_pids.add(self.proc.pid)   # conftest's leak checks know it
        os.close(slave)
        self.buf = b""
        self.seen = b""

    def _read(self, left):
        r, _, _ = select.select([self.master], [], [], left)
        if not r:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:
            chunk = b""
        if not chunk:
            return False
        self.buf += chunk
        self.seen += chunk
        return True

    def read_until(self, pattern, timeout=30.0):
        """Reads until pattern (bytes regex) matches the output since the last
        match; returns that output up to the end of the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.buf)
            if m:
                got, self.buf = self.buf[:m.end()], self.buf[m.end():]
                return got
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(left):
                raise AssertionError("waiting for %r; read: %s" % (pattern, text(self.buf)))

    def send(self, data):
        os.write(self.master, data)

    def finish(self, timeout=30.0):
        """Reads to the end; returns (output since the last match, exit code)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._read(0.2):
            if self.proc.poll() is not None and not select.select([self.master], [], [], 0.1)[0]:
                break
        rc = self.proc.wait(timeout=max(1.0, deadline - time.monotonic()))
        out, self.buf = self.buf, b""
        return out, rc

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        try:
            os.close(self.master)
        except OSError:
            pass


def text(b):
    """Terminal output as plain text (colour and cursor sequences removed)."""
    return ANSI.sub("", b.decode("utf-8", "replace")).replace("\r", "")


def sent_rows(b, role):
    """Segment rows tcplab's endpoint (role) sent, in terminal output b."""
    return len(SENT[role].findall(text(b)))


def assert_nothing_left(lab, p, ns):
    """No tcplab_* table in ns, no tracing instance of this tcplab."""
    assert lab.tcplab_tables(ns) == [], lab.tcplab_tables(ns)
    assert "tcplab_%d" % p.proc.pid not in kstates_oracle.tracing_instances()


def rsts_to(segs, port):
    """Segments with RST sent to port, in a decoded capture."""
    return [s for s in segs if "R" in s["fl"] and s["dport"] == port]


# ---- connect -------------------------------------------------------------------------

@pytest.mark.parametrize("presses", [1, 3])
def test_connect_enter_sends_one_segment_q_resets(lab, tcplab_bin, presses):
    """Each Enter sends exactly one segment (and shows it); q sends an RST the
    kernel accepts: its socket is gone, and so are tcplab's table and
    tracing instance."""
    srv = lab.start_server("echo", PORT)
    cap = lab.start_capture(lab.server_ns)
    p = Pty([tcplab_bin, "connect", lab.server_ip, str(PORT), "--data", "hi", "--step"],
            lab.client_ns)
    try:
        shown = p.read_until(PROMPT)
        assert b"sends SYN seq=0" in shown, text(shown)
        assert sent_rows(shown, "client") == 0
        for i in range(presses):
            p.send(b"\n")
            shown += p.read_until(PROMPT)
            assert sent_rows(shown, "client") == i + 1, text(shown)
        p.send(b"q\n")
        out, rc = p.finish()
    finally:
        p.close()
    t = text(shown + out)
    assert rc == 0, t
    # nothing but the RST after q
    assert sent_rows(out, "client") == 1 and re.search(r"C → S  RST", text(out)), text(out)
    assert "q: the run ends here: aborting the connection with RST" in t
    assert "conn 1 summary: " in t
    # the kernel's side: the RST arrived and the server's socket is gone
    cap.wait_for(lambda segs: rsts_to(segs, PORT))
    L.wait_until(lambda: not [s for s in lab.tcp_sockets(lab.server_ns) if s[0] != "LISTEN"],
                 10.0, what="the server's socket gone")
    if presses == 3:
        # the connection was established and carried data: the server saw a reset
        rec = srv.wait_records(1)[0]
        assert rec["close"] == "reset", rec
    assert_nothing_left(lab, p, lab.client_ns)


def test_connect_step_ladder(lab, tcplab_bin):
    """--ladder: each Enter draws the arrow of the segment sent before the
    next prompt (the ladder's held row is flushed through the kernel-states
    wrapper), with the states beside the lines."""
    lab.start_server("echo", PORT)
    p = Pty([tcplab_bin, "connect", lab.server_ip, str(PORT), "--data", "hi", "--step", "--ladder"],
            lab.client_ns)
    try:
        shown = p.read_until(PROMPT)
        for i in range(3):
            p.send(b"\n")
            shown += p.read_until(PROMPT)
            arrows = re.findall(r"├[─┄] ", text(shown))     # the client's arrows start at its line
            assert len(arrows) == i + 1, text(shown)
        assert "ESTABLISHED" in text(shown)
        p.send(b"q\n")
        out, rc = p.finish()
    finally:
        p.close()
    assert rc == 0, text(out)
    assert "conn 1 summary: " in text(out)
    assert_nothing_left(lab, p, lab.client_ns)


def test_connect_shows_the_peer_retransmitting(lab, tcplab_bin):
    """While tcplab waits before its ACK, the kernel retransmits its SYN-ACK
    (RFC 6298's 1 s initial RTO): tcplab shows it at once and says that this
    is the lesson; Enter then completes the handshake."""
    lab.start_server("echo", PORT)
    p = Pty([tcplab_bin, "connect", lab.server_ip, str(PORT), "--step"], lab.client_ns)
    try:
        p.read_until(PROMPT)
        p.send(b"\n")                                   # the SYN
        shown = p.read_until(rb"sends ACK seq=1 ack=1 .*? q ends ")
        waited = p.read_until(rb"\(the peer did not wait: its timers run while we do\) "
                              + PROMPT)
        w = text(waited)
        assert re.search(r"C ← S  SYN,ACK .*\n(.*\n)*?.*retransmission", w), w
        assert "sends ACK seq=1 ack=1" in w.rsplit("(the peer did not wait", 1)[1]
        p.send(b"\n")                                   # the ACK
        after = p.read_until(PROMPT)
        assert sent_rows(shown + waited + after, "client") == 2
        assert "SYN-RECEIVED → ESTABLISHED" in text(after)
        p.send(b"q\n")
        out, rc = p.finish()
    finally:
        p.close()
    assert rc == 0, text(out)
    assert_nothing_left(lab, p, lab.client_ns)


def test_connect_enter_all_the_way(lab, tcplab_bin):
    """Enter at every prompt: the whole connection, exit 0, the server got
    the data and saw a normal close."""
    srv = lab.start_server("echo", PORT)
    p = Pty([tcplab_bin, "connect", lab.server_ip, str(PORT), "--data", "hello", "--step",
             "--time-wait", "0.2"], lab.client_ns)
    prompts = 0
    try:
        while prompts < 30:
            try:
                p.read_until(PROMPT, timeout=15.0)
            except AssertionError:
                break            # no more prompts: the run ended
            prompts += 1
            p.send(b"\n")
        out, rc = p.finish()
    finally:
        p.close()
    t = text(p.seen)
    assert rc == 0, t
    assert 5 <= prompts < 30, t        # SYN, ACK, data, FIN, last ACK (at least)
    assert sent_rows(p.seen, "client") == prompts, t
    rec = srv.wait_records(1)[0]
    assert rec["received_len"] == 5 and rec["close"] == "eof", rec
    assert "conn 1 summary: closed" in t
    assert_nothing_left(lab, p, lab.client_ns)


def test_connect_signal_at_the_prompt(lab, tcplab_bin):
    """SIGINT while tcplab waits at the prompt: the interrupted run's exit
    (130), still with the RST the kernel accepts and nothing left behind."""
    import signal
    cap = lab.start_capture(lab.server_ns)
    lab.start_server("echo", PORT)
    p = Pty([tcplab_bin, "connect", lab.server_ip, str(PORT), "--step"], lab.client_ns)
    try:
        p.read_until(PROMPT)
        p.send(b"\n")
        p.read_until(rb"sends ACK seq=1 ack=1 .*? q ends ")
        p.proc.send_signal(signal.SIGINT)
        out, rc = p.finish()
    finally:
        p.close()
    assert rc == 130, text(out)
    assert "interrupted by signal" in text(out)
    cap.wait_for(lambda segs: rsts_to(segs, PORT))
    L.wait_until(lambda: not [s for s in lab.tcp_sockets(lab.server_ns) if s[0] != "LISTEN"],
                 10.0, what="the server's request socket gone")
    assert_nothing_left(lab, p, lab.client_ns)


# ---- listen --------------------------------------------------------------------------

def test_listen_step_client_retransmits_then_q(lab, tcplab_bin):
    """listen --step: the kernel client's SYN waits for tcplab's SYN-ACK; the
    client retransmits its SYN meanwhile (shown, with the lesson); Enter sends
    the SYN-ACK; q later resets the established connection: the client's
    connection ends with a reset and the server namespace keeps nothing."""
    port = PORT + 1
    p = Pty([tcplab_bin, "listen", lab.server_ip, str(port), "--step", "--count", "1"],
            lab.server_ns)
    try:
        p.read_until(rb"tcplab listen: ")
        L.wait_until(lambda: lab.tcplab_tables(lab.server_ns), 10.0, what="tcplab's table")
        client = lab.spawn_in(lab.client_ns, [L.TCPCLIENT, "--addr", lab.server_ip, "--port",
                                              str(port), "--send", "hello", "--no-shutdown",
                                              "--timeout-ms", "20000"])
        shown = p.read_until(rb"sends SYN\+ACK seq=0 ack=1 .*? q ends ")
        assert sent_rows(shown, "server") == 0
        waited = p.read_until(rb"\(the peer did not wait: its timers run while we do\) "
                              + PROMPT)
        assert re.search(r"C → S  SYN .*\n(.*\n)*?.*retransmission", text(waited)), text(waited)
        p.send(b"\n")                                   # the SYN-ACK
        after = p.read_until(PROMPT)
        assert sent_rows(shown + waited + after, "server") == 1, text(after)
        # the client's ACK and "hello" are shown before the next prompts
        while "hello" not in text(after):
            p.send(b"\n")
            after += p.read_until(PROMPT)
        p.send(b"q\n")
        out, rc = p.finish()
        cout, _ = client.communicate(timeout=30)
    finally:
        p.close()
    t = text(p.seen)
    assert rc == 0, t
    assert re.search(r"C ← S  RST", text(out)), text(out)
    rec = L.parse_json_lines(cout.decode())[0]
    assert rec["connected"] is True and rec["eof"] == "reset", rec
    assert_nothing_left(lab, p, lab.server_ns)


# ---- usage ---------------------------------------------------------------------------

def test_step_live_needs_a_terminal(lab, tcplab_bin):
    r = lab.run_in(lab.client_ns, [tcplab_bin, "connect", lab.server_ip, str(PORT), "--step"])
    assert r.returncode == 2 and "terminal" in r.err, r


def test_step_cannot_share_stdin_with_data(lab, tcplab_bin):
    p = Pty([tcplab_bin, "connect", lab.server_ip, str(PORT), "--step", "--data-file", "-"],
            lab.client_ns)
    try:
        out, rc = p.finish()
    finally:
        p.close()
    assert rc == 2, text(out)
    assert "--data-file -" in text(out)


# ---- the demo's --step ------------------------------------------------------------------

def test_demo_step(tcplab_bin):
    """`tcplab demo handshake --step`: the option reaches the run; Enter at
    every prompt completes the demo, which cleans up after itself."""
    p = Pty([tcplab_bin, "demo", "handshake", "--step"], None)
    prompts = 0
    try:
        while prompts < 30:
            try:
                p.read_until(PROMPT, timeout=20.0)
            except AssertionError:
                break
            prompts += 1
            p.send(b"\n")
        out, rc = p.finish(timeout=60)
    finally:
        p.close()
    t = text(p.seen)
    assert rc == 0, t
    assert prompts >= 5, t
    assert "sends SYN seq=0" in t
    assert not [n for n in L.list_namespaces() if n.startswith("tldemo-%d-" % p.proc.pid)]
