"""lab.py — the network-namespace test lab for tcplab's integration tests.

A NetnsLab is two network namespaces, a client and a server, joined by one
veth pair on a /24 of 198.18.0.0/15 (RFC 2544's benchmarking range), with no
default route: nothing a test sends can leave the machine.  The server side
runs tests/lab/tcpserver, a real kernel TCP server; the witness of what went
over the wire is tcpdump, decoded by tshark, never tcplab's own decoder.

    with NetnsLab() as lab:
        srv = lab.start_server("echo", 7000)
        cap = lab.start_capture(lab.server_ns)
        lab.run_in(lab.client_ns, [TCPCLIENT, "--addr", lab.server_ip, ...])
        srv.wait(); segments = cap.packets(); records = srv.records()

Everything the lab creates (namespaces, and with them the veth pair, nft
tables and processes inside) is deleted by teardown(), which also runs on an
exception, SIGINT, SIGTERM and SIGHUP (handlers that raise), and as a last
resort at interpreter exit.

Capture points.  A capture on the veth (the default) sees packets where the
wire meets the namespace: before netfilter on the way in, after it on the way
out.  So a SYN dropped by drop_first_syn() in the server namespace (the drop
is in prerouting: "lost on the wire") is still seen by a veth capture in the
server namespace.  start_capture(ns, "stack") captures instead through NFLOG
after the lab's drop rules: what that namespace's TCP stack really received
and sent.

Only the standard library: the tests run under Debian's /usr/bin/python3.
"""

import atexit
import itertools
import json
import os
import re
import select
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LAB_DIR = Path(os.environ.get("TCPLAB_LAB_DIR", str(REPO_ROOT / "build" / "lab")))
TCPSERVER = str(LAB_DIR / "tcpserver")
TCPCLIENT = str(LAB_DIR / "tcpclient")

TIMEOUT = 30                 # upper bound on any one command, seconds
NS_PREFIX = "tl-"            # every namespace this module creates starts so
LAB_TABLE = "tl_lab"         # the lab's own nft table (never tcplab_*)
TCPLAB_TABLE_PREFIX = "tcplab_"
LATE_DATA = b"late data after your FIN\n"   # tcpserver's half-close data

# Kept per process so conftest's session hooks can check for leaks.
started_pids = set()         # every process this module started
_live_procs = []             # Popen objects not yet known to have ended
_live_namespaces = set()     # namespaces created and not yet deleted
_lab_counter = itertools.count(1)
_group_counter = itertools.count(100)
_registry_lock = threading.Lock()


class LabError(RuntimeError):
    """The lab itself failed (a set-up command, a server that never got ready)."""


class LabInterrupted(KeyboardInterrupt):
    """Raised by the lab's SIGTERM/SIGHUP handler so that every `with` block
    and finally clause on the stack runs and cleans up."""


class Result:
    """A finished command: argv, returncode, stdout/stderr (bytes), pid, duration."""

    def __init__(self, argv, returncode, stdout, stderr, pid, duration):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.pid = pid
        self.duration = duration

    @property
    def out(self):
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self):
        return self.stderr.decode("utf-8", "replace")

    def json_lines(self):
        """stdout parsed as JSON Lines (every non-empty line must parse)."""
        return parse_json_lines(self.out)

    def __repr__(self):
        return ("Result(argv=%r, rc=%r, %.3fs)\n--- stdout ---\n%s\n--- stderr ---\n%s"
                % (self.argv, self.returncode, self.duration, self.out[-4000:],
                   self.err[-4000:]))


def parse_json_lines(text):
    """Parses JSON Lines; raises ValueError naming the first bad line."""
    out = []
    for i, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError as e:
            raise ValueError("line %d is not JSON (%s): %r" % (i, e, line)) from None
    return out


# ---------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------

def wrap_argv(argv, ns=None, user=None):
    """The argv that runs argv in namespace ns (None = the current one) as
    user (None = root; else (uid, gid): privileges dropped with setpriv after
    entering the namespace, which needs root)."""
    argv = [str(a) for a in argv]
    if user is not None:
        uid, gid = user
        argv = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups",
                "--inh-caps=-all"] + argv
    if ns is not None:
        argv = ["ip", "netns", "exec", ns] + argv
    return argv


def spawn(argv, ns=None, user=None, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
          stderr=subprocess.PIPE, env=None, cwd=None):
    """Starts argv (see wrap_argv) and records its pid.  `ip netns exec` and
    setpriv exec the command, so the pid is the command's own."""
    p = subprocess.Popen(wrap_argv(argv, ns, user), stdin=stdin, stdout=stdout,
                         stderr=stderr, env=env, cwd=cwd)
    with _registry_lock:
        started_pids.add(p.pid)
        _live_procs[:] = [q for q in _live_procs if q.poll() is None]
        _live_procs.append(p)
    return p


def stop_all_processes():
    """Stops every process this module started that still runs (a backstop
    for an interrupted run); returns their pids."""
    with _registry_lock:
        procs = [q for q in _live_procs if q.poll() is None]
        _live_procs.clear()
    for q in procs:
        stop_process(q)
    return [q.pid for q in procs]


def stop_process(p, sig=signal.SIGTERM, grace=5.0):
    """Ends a process this module started: sig, up to grace seconds, then
    SIGKILL.  Returns its exit status."""
    if p.poll() is None:
        try:
            p.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=10)
    return p.returncode


def run(argv, ns=None, timeout=TIMEOUT, input=None, user=None, env=None, cwd=None,
        check=False):
    """Runs argv to completion (see wrap_argv) and returns a Result.  On
    timeout the process gets SIGTERM (so tcplab can remove its firewall
    table), then SIGKILL, and LabError is raised with what it printed."""
    t0 = time.monotonic()
    p = spawn(argv, ns=ns, user=user, env=env, cwd=cwd,
              stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL)
    try:
        out, err = p.communicate(input=input, timeout=timeout)
    except subprocess.TimeoutExpired:
        stop_process(p)
        out, err = p.communicate()
        raise LabError("timed out after %ss: %r" % (
            timeout, Result(argv, p.returncode, out, err, p.pid, time.monotonic() - t0)))
    except BaseException:
        stop_process(p)
        raise
    r = Result([str(a) for a in argv], p.returncode, out, err, p.pid, time.monotonic() - t0)
    if check and r.returncode != 0:
        raise LabError("command failed: %r" % r)
    return r


def _sh(argv, ns=None, timeout=TIMEOUT):
    """Runs a lab set-up command that must succeed; returns stdout text."""
    return run(argv, ns=ns, timeout=timeout, check=True).out


def pid_alive(pid):
    """True when a process with this pid exists (zombies count as gone)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


class _LineReader:
    """Reads lines from a pipe with a deadline (select + os.read), so a
    process that never prints cannot hang a test."""

    def __init__(self, pipe):
        self.fd = pipe.fileno()
        self.buf = b""
        self.lines = []
        self.eof = False

    def read_until(self, predicate, timeout):
        """Returns the first line (text) for which predicate is true, or
        None on EOF or timeout."""
        deadline = time.monotonic() + timeout
        while True:
            while self.lines:
                line = self.lines.pop(0)
                if predicate(line):
                    return line
            if self.eof:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], left)
            if not ready:
                continue
            chunk = os.read(self.fd, 65536)
            if not chunk:
                self.eof = True
                if self.buf:
                    self.lines.append(self.buf.decode("utf-8", "replace"))
                    self.buf = b""
                continue
            self.buf += chunk
            *done, self.buf = self.buf.split(b"\n")
            self.lines.extend(x.decode("utf-8", "replace") for x in done)


def wait_until(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Polls predicate() until it returns something true; returns that value.
    Raises LabError after timeout.  For conditions that have no event to
    wait on (a file gaining a line, a socket state in ss)."""
    deadline = time.monotonic() + timeout
    while True:
        v = predicate()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise LabError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---------------------------------------------------------------------------
# The kernel test server
# ---------------------------------------------------------------------------

class Server:
    """A tests/lab/tcpserver process (ns None = the current namespace)."""

    def __init__(self, mode, port, addr, log_path, ns=None, count=1, delay_ms=None,
                 greeting=None, extra=()):
        self.mode = mode
        self.port = port
        self.addr = addr
        self.ns = ns
        self.log_path = str(log_path)
        argv = [TCPSERVER, "--addr", addr, "--port", str(port), "--mode", mode,
                "--count", str(count), "--log", self.log_path]
        if delay_ms is not None:
            argv += ["--delay-ms", str(delay_ms)]
        if greeting is not None:
            argv += ["--greeting", greeting]
        argv += [str(a) for a in extra]     # e.g. --rcvbuf N, --pause-ms N, --send-bytes N
        if not os.access(TCPSERVER, os.X_OK):
            raise LabError("%s is missing: run `make lab`" % TCPSERVER)
        open(self.log_path, "w").close()
        self.proc = spawn(argv, ns=ns)
        self._out = _LineReader(self.proc.stdout)
        self.ready = False

    def wait_ready(self, timeout=10.0):
        """Waits for "ready" (listening); learns the port when it was 0."""
        def pred(line):
            if line.startswith("port "):
                self.port = int(line.split()[1])
            return line.strip() == "ready"
        if self._out.read_until(pred, timeout) is None:
            rc = stop_process(self.proc)
            raise LabError("tcpserver (%s) did not get ready (exit %r): %s" % (
                self.mode, rc, self.proc.stderr.read().decode("utf-8", "replace")))
        self.ready = True
        return self

    @property
    def running(self):
        return self.proc.poll() is None

    def wait(self, timeout=TIMEOUT):
        """Waits for the server to exit by itself (after --count connections)."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise LabError("tcpserver (%s) still running after %ss; records: %r" % (
                self.mode, timeout, self.records())) from None

    def stop(self, timeout=10.0):
        """Stops the server (SIGTERM: it logs the connections still open)."""
        stop_process(self.proc, grace=timeout)
        for f in (self.proc.stdout, self.proc.stderr):
            if f is not None:
                f.close()
        return self.records()

    def records(self):
        """The server's JSON log, one dict a connection, with "received"
        (bytes, decoded from received_hex) added."""
        try:
            with open(self.log_path) as f:
                recs = parse_json_lines(f.read())
        except FileNotFoundError:
            return []
        for r in recs:
            r["received"] = bytes.fromhex(r.get("received_hex", ""))
        return recs

    def wait_records(self, n=1, timeout=TIMEOUT):
        """Waits until the log holds n records; returns them."""
        return wait_until(lambda: (lambda r: r if len(r) >= n else None)(self.records()),
                          timeout, what="%d tcpserver record(s)" % n)


# ---------------------------------------------------------------------------
# Captures: tcpdump writes, tshark reads (the independent witness)
# ---------------------------------------------------------------------------

_TCP_FLAG_BITS = [("SYN", 0x02), ("FIN", 0x01), ("RST", 0x04), ("PSH", 0x08),
                  ("ACK", 0x10), ("URG", 0x20), ("ECE", 0x40), ("CWR", 0x80)]
_FLAG_LETTER = {"SYN": "S", "FIN": "F", "RST": "R", "PSH": "P", "ACK": "A",
                "URG": "U", "ECE": "E", "CWR": "C"}

TSHARK_FIELDS = ["frame.time_epoch", "ip.src", "ipv6.src", "tcp.srcport", "ip.dst",
                 "ipv6.dst", "tcp.dstport", "tcp.flags", "tcp.flags.str", "tcp.seq_raw",
                 "tcp.ack_raw", "tcp.len", "tcp.window_size_value", "tcp.hdr_len",
                 "tcp.payload"]


def flag_names(bits):
    """TCP flag bits -> tuple of names in a fixed order (SYN, FIN, RST, PSH, ACK, ...)."""
    return tuple(name for name, bit in _TCP_FLAG_BITS if bits & bit)


def flag_letters(flags):
    """("SYN", "ACK") -> "SA"; the short form used in sequence checks."""
    return "".join(_FLAG_LETTER[f] for f in flags)


def parse_capture(path, tolerant=False):
    """Decodes a pcap with tshark into a list of dicts, one a TCP segment:
    t (epoch seconds, float), src, sport, dst, dport, flags (tuple of names),
    fl (letters, e.g. "SA"), flags_str (tshark's), seq, ack (raw, absolute),
    len, win, hdr_len (TCP header bytes: 20 = no options), payload (bytes).  tolerant: accept a file still being written."""
    argv = ["tshark", "-n", "-r", str(path), "-Y", "tcp", "-T", "fields",
            "-E", "separator=/t", "-E", "occurrence=f"]
    for f in TSHARK_FIELDS:
        argv += ["-e", f]
    r = run(argv)
    if r.returncode != 0 and not tolerant:
        raise LabError("tshark failed: %r" % r)
    segs = []
    for line in r.out.splitlines():
        v = line.split("\t")
        if len(v) < len(TSHARK_FIELDS) or not v[0]:
            continue
        d = dict(zip(TSHARK_FIELDS, v))
        bits = int(d["tcp.flags"], 16) if d["tcp.flags"] else 0
        flags = flag_names(bits)
        segs.append({
            "t": float(d["frame.time_epoch"]),
            "src": d["ip.src"] or d["ipv6.src"],
            "sport": int(d["tcp.srcport"]),
            "dst": d["ip.dst"] or d["ipv6.dst"],
            "dport": int(d["tcp.dstport"]),
            "flags": flags,
            "fl": flag_letters(flags),
            "flags_str": d["tcp.flags.str"],
            "seq": int(d["tcp.seq_raw"]) if d["tcp.seq_raw"] else None,
            "ack": int(d["tcp.ack_raw"]) if d["tcp.ack_raw"] else None,
            "len": int(d["tcp.len"]) if d["tcp.len"] else 0,
            "win": int(d["tcp.window_size_value"]) if d["tcp.window_size_value"] else None,
            "hdr_len": int(d["tcp.hdr_len"]) if d["tcp.hdr_len"] else None,
            "payload": bytes.fromhex(d["tcp.payload"].replace(":", "")),
        })
    return segs


class Capture:
    """A running tcpdump.  iface "stack" captures through NFLOG (see the
    module docstring); anything else is an interface in ns."""

    def __init__(self, path, ns, iface, bpf="tcp", nflog_group=None, bulk=False):
        self.path = str(path)
        self.ns = ns
        self.iface = iface
        argv = ["tcpdump", "-n", "-Z", "root", "--immediate-mode", "-U", "-s", "0",
                "-w", self.path]
        if bulk:
            # megabytes at line rate: one 1500-byte frame a ring slot (the
            # default 256 KiB snaplen makes 64 KiB slots on an offloading
            # veth) and a 32 MiB ring, so tcpdump keeps up
            argv[argv.index("-s") + 1] = "1600"
            argv += ["-B", "32768"]
        if nflog_group is not None:
            # NFLOG is fed by the lab's log rules, which already select TCP.
            argv += ["-i", "nflog:%d" % nflog_group]
        else:
            # -Z root: tcpdump would otherwise drop to user tcpdump before
            # opening the file, and not be able to write into a 0700
            # pytest tmp dir.  --immediate-mode: without it the last
            # TPACKET_V3 block is lost when tcpdump is stopped.
            argv += ["-i", iface, "--time-stamp-precision=nano"]
            if "adapter_unsynced" in run(["tcpdump", "-J", "-i", iface], ns=ns).out:
                argv += ["-j", "adapter_unsynced"]
            if bpf:
                argv.append(bpf)
        self.proc = spawn(argv, ns=ns)
        line = _LineReader(self.proc.stderr).read_until(
            lambda s: s.startswith("tcpdump: listening on"), 10.0)
        if line is None:
            rc = stop_process(self.proc)
            raise LabError("tcpdump on %s/%s did not start (exit %r): %s" % (
                ns, iface, rc, self.proc.stderr.read().decode("utf-8", "replace")))

    @property
    def running(self):
        return self.proc.poll() is None

    def stop(self):
        """Stops tcpdump with SIGINT and waits until it has flushed and
        closed the file.  Idempotent.  Returns the file's path."""
        if self.running:
            stop_process(self.proc, sig=signal.SIGINT, grace=10.0)
        for f in (self.proc.stdout, self.proc.stderr):
            if f is not None and not f.closed:
                f.close()
        return self.path

    def packets(self):
        """Stops the capture and returns its segments (parse_capture)."""
        self.stop()
        return parse_capture(self.path)

    def wait_for(self, predicate, timeout=10.0):
        """Waits (capture still running) until predicate(segments) is true;
        returns the segments then.  -U makes tcpdump write each packet at
        once, so the file is current."""
        return wait_until(lambda: (lambda s: s if predicate(s) else None)(
            parse_capture(self.path, tolerant=True)), timeout, interval=0.1,
            what="capture condition on %s" % self.path)


# ---------------------------------------------------------------------------
# nftables helpers (in a namespace, table "tl_lab")
# ---------------------------------------------------------------------------

class Rule:
    """An nft rule the lab added; dropped() reads its counter."""

    def __init__(self, ns, chain, handle, text):
        self.ns = ns
        self.chain = chain
        self.handle = handle
        self.text = text

    def dropped(self):
        """Packets the rule has matched (its counter)."""
        data = json.loads(_sh(["nft", "-j", "list", "chain", "inet", LAB_TABLE,
                               self.chain], ns=self.ns))
        for item in data.get("nftables", []):
            rule = item.get("rule")
            if rule and rule.get("handle") == self.handle:
                for e in rule.get("expr", []):
                    if "counter" in e:
                        return e["counter"]["packets"]
        raise LabError("rule %s not found in %s" % (self.handle, self.ns))

    def delete(self):
        _sh(["nft", "delete", "rule", "inet", LAB_TABLE, self.chain, "handle",
             str(self.handle)], ns=self.ns)


def nft_tables(ns=None):
    """Names of the nft tables in ns (None = this namespace), as "family name"."""
    out = _sh(["nft", "list", "tables"], ns=ns)
    return [line[len("table "):].strip() for line in out.splitlines()
            if line.startswith("table ")]


def tcplab_tables(ns=None):
    """The tables in ns whose name starts with tcplab_ (tcplab's firewall)."""
    return [t for t in nft_tables(ns) if t.split()[-1].startswith(TCPLAB_TABLE_PREFIX)]


# ---------------------------------------------------------------------------
# Namespaces
# ---------------------------------------------------------------------------

def list_namespaces():
    """Names from `ip netns list`."""
    out = _sh(["ip", "netns", "list"])
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def namespace_pids(ns):
    """Pids of the processes inside namespace ns."""
    r = run(["ip", "netns", "pids", ns])
    return [int(x) for x in r.out.split() if x.isdigit()]


def delete_namespace(ns):
    """Kills what still runs inside ns (only processes the lab put there:
    nobody else knows the namespace), then deletes it, and with it its veth
    end, nft tables and qdiscs.  Returns an error text or None."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        pids = namespace_pids(ns)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        try:
            wait_until(lambda: not [p for p in pids if pid_alive(p)], 5.0,
                       what="processes in %s to exit" % ns)
        except LabError:
            pass
    r = run(["ip", "netns", "del", ns])
    with _registry_lock:
        _live_namespaces.discard(ns)
    if r.returncode != 0 and ns in list_namespaces():
        return "ip netns del %s: %s" % (ns, r.err.strip())
    return None


def cleanup_leftovers(pid=None):
    """Deletes every namespace named tl-<pid>-* (default: this process's),
    e.g. after a crash inside set-up.  Returns the names it deleted."""
    prefix = "%s%d-" % (NS_PREFIX, os.getpid() if pid is None else pid)
    gone = []
    for ns in list_namespaces():
        if ns.startswith(prefix):
            delete_namespace(ns)
            gone.append(ns)
    return gone


@atexit.register
def _cleanup_at_exit():
    # Last resort when a lab's teardown never ran (os._exit and SIGKILL
    # are beyond help: conftest deletes tl-<pid>-* of its own run).
    stop_all_processes()
    for ns in sorted(_live_namespaces):
        delete_namespace(ns)


class _SignalGuard:
    """While at least one lab is open in the main thread, SIGINT, SIGTERM
    and SIGHUP raise LabInterrupted (SIGINT: KeyboardInterrupt, as usual),
    so `with` blocks unwind and delete what they created."""

    depth = 0
    saved = {}

    @staticmethod
    def _handler(signum, frame):
        raise LabInterrupted("stopped by %s" % signal.Signals(signum).name)

    @classmethod
    def enter(cls):
        if threading.current_thread() is not threading.main_thread():
            return
        if cls.depth == 0:
            for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                cls.saved[s] = signal.signal(s, cls._handler)
        cls.depth += 1

    @classmethod
    def leave(cls):
        if threading.current_thread() is not threading.main_thread():
            return
        cls.depth -= 1
        if cls.depth == 0:
            for s, h in cls.saved.items():
                signal.signal(s, h)
            cls.saved.clear()


class NetnsLab:
    """Two namespaces joined by a veth pair; see the module docstring.

    Attributes: client_ns, server_ns, client_if, server_if, client_ip,
    server_ip, subnet (the X of 198.18.X.0/24), workdir.
    """

    def __init__(self, workdir=None, static_neigh=True):
        n = next(_lab_counter)
        pid = os.getpid()
        self.name = "%s%d-%d" % (NS_PREFIX, pid, n)
        self.client_ns = self.name + "-c"
        self.server_ns = self.name + "-s"
        self.client_if = "tlc0"
        self.server_if = "tls0"
        # X differs from lab to lab in one process (and usually between
        # processes); the namespaces are isolated, so a clash would be
        # harmless anyway.
        self.subnet = (pid + n) % 250 + 1
        self.client_ip = "198.18.%d.1" % self.subnet
        self.server_ip = "198.18.%d.2" % self.subnet
        self.static_neigh = static_neigh
        self._own_workdir = workdir is None
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix=self.name + "-"))
        self._procs = []
        self._servers = []
        self._captures = []
        self._tables = set()
        self._files = itertools.count(1)
        self._up = False

    # -- life cycle ------------------------------------------------------

    def __enter__(self):
        _SignalGuard.enter()
        try:
            self.setup()
        except BaseException:
            self.teardown()
            _SignalGuard.leave()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        try:
            self.teardown(raise_errors=exc_type is None)
        finally:
            _SignalGuard.leave()
        return False

    def setup(self):
        """Creates the namespaces, the veth pair and the addresses."""
        for ns in (self.client_ns, self.server_ns):
            _sh(["ip", "netns", "add", ns])
            with _registry_lock:
                _live_namespaces.add(ns)
            _sh(["ip", "link", "set", "lo", "up"], ns=ns)
            # No IPv6 on the veth: no router solicitations or MLD reports
            # in the captures.  Optional: the kernel may lack IPv6.
            for key in ("all", "default"):
                run(["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % key], ns=ns)
        # Both ends are created directly inside their namespaces.
        _sh(["ip", "link", "add", self.client_if, "netns", self.client_ns, "type", "veth",
             "peer", "name", self.server_if, "netns", self.server_ns])
        for ns, ifname, ip in ((self.client_ns, self.client_if, self.client_ip),
                               (self.server_ns, self.server_if, self.server_ip)):
            _sh(["ip", "addr", "add", ip + "/24", "dev", ifname], ns=ns)
            _sh(["ip", "link", "set", ifname, "up"], ns=ns)
        if self.static_neigh:
            # Permanent neighbour entries: no ARP exchange delays the first
            # SYN, so timings in the tests are the TCP timers' alone.
            cmac, smac = self.mac(self.client_ns, self.client_if), self.mac(self.server_ns,
                                                                          self.server_if)
            _sh(["ip", "neigh", "replace", self.server_ip, "lladdr", smac, "dev",
                 self.client_if, "nud", "permanent"], ns=self.client_ns)
            _sh(["ip", "neigh", "replace", self.client_ip, "lladdr", cmac, "dev",
                 self.server_if, "nud", "permanent"], ns=self.server_ns)
        for ns, ifname in ((self.client_ns, self.client_if), (self.server_ns, self.server_if)):
            wait_until(lambda: "LOWER_UP" in _sh(["ip", "-o", "link", "show", "dev", ifname],
                                                 ns=ns), 10.0, what="%s up" % ifname)
        self._up = True

    def teardown(self, raise_errors=False):
        """Stops every capture and process of the lab, deletes both
        namespaces.  Safe to call twice.  Errors are collected and raised
        only when raise_errors is true (an exception already unwinding is
        not masked)."""
        errors = []
        for cap in self._captures:
            try:
                cap.stop()
            except Exception as e:   # keep deleting the rest
                errors.append("capture %s: %s" % (cap.path, e))
        for p in self._procs:
            try:
                stop_process(p)
                for f in (p.stdout, p.stderr, p.stdin):
                    if f is not None and not f.closed:
                        f.close()
            except Exception as e:
                errors.append("process %d: %s" % (p.pid, e))
        for ns in (self.client_ns, self.server_ns):
            if ns in _live_namespaces or ns in list_namespaces():
                err = delete_namespace(ns)
                if err:
                    errors.append(err)
        self._up = False
        if self._own_workdir:
            for f in sorted(self.workdir.glob("**/*"), reverse=True):
                (f.rmdir if f.is_dir() else f.unlink)()
            self.workdir.rmdir()
        if errors and raise_errors:
            raise LabError("teardown: " + "; ".join(errors))

    # -- helpers -----------------------------------------------------------

    def path(self, stem, suffix):
        """A fresh file name in the lab's work directory."""
        return self.workdir / ("%s-%d%s" % (stem, next(self._files), suffix))

    @staticmethod
    def mac(ns, ifname):
        data = json.loads(_sh(["ip", "-j", "link", "show", "dev", ifname], ns=ns))
        return data[0]["address"]

    def iface(self, ns):
        """The lab's veth end in ns."""
        return {self.client_ns: self.client_if, self.server_ns: self.server_if}[ns]

    def segmentation_off(self, ns):
        """Turns off transmit checksum offload on the lab's veth end in ns
        (ETHTOOL_STXCSUM, no ethtool package needed); segmentation offload
        goes with it, so the stack puts MSS-sized segments on the veth, as
        on a real wire, and an nft rule sees them one by one."""
        code = ("import ctypes, fcntl, socket, struct, sys\n"
                "val = ctypes.create_string_buffer(struct.pack('II', 0x17, 0))\n"
                "ifr = struct.pack('16sP', sys.argv[1].encode(), ctypes.addressof(val)).ljust(40, b'\\0')\n"
                "with socket.socket() as s:\n"
                "    fcntl.ioctl(s.fileno(), 0x8946, ifr)\n")
        run(["/usr/bin/python3", "-c", code, self.iface(ns)], ns=ns, check=True)

    def run_in(self, ns, argv, **kw):
        """run() inside ns (kw: timeout, input, user, env, cwd, check)."""
        return run(argv, ns=ns, **kw)

    def spawn_in(self, ns, argv, **kw):
        """spawn() inside ns; the process is stopped at teardown."""
        p = spawn(argv, ns=ns, **kw)
        self._procs.append(p)
        return p

    def start_server(self, mode, port=7000, ns=None, addr=None, count=1, delay_ms=None,
                     greeting=None, wait_ready=True, extra=()):
        """Starts tcpserver (default: in the server namespace on server_ip);
        extra: more tcpserver options."""
        ns = ns or self.server_ns
        addr = addr or (self.server_ip if ns == self.server_ns else self.client_ip)
        srv = Server(mode, port, addr, self.path("server-" + mode, ".jsonl"), ns=ns,
                     count=count, delay_ms=delay_ms, greeting=greeting, extra=extra)
        self._procs.append(srv.proc)
        self._servers.append(srv)
        if wait_ready:
            srv.wait_ready()
        return srv

    def client(self, port=7000, send=None, extra=(), addr=None, timeout=TIMEOUT):
        """Runs tcpclient in the client namespace; returns (Result, records)."""
        argv = [TCPCLIENT, "--addr", addr or self.server_ip, "--port", str(port)]
        if send is not None:
            argv += ["--send", send]
        argv += list(extra)
        r = self.run_in(self.client_ns, argv, timeout=timeout)
        return r, r.json_lines()

    def start_capture(self, ns, iface=None, filter="tcp", bulk=False):
        """Starts tcpdump in ns on iface (default: the lab's veth end there;
        "stack": NFLOG after the lab's drop rules).  Returns when tcpdump is
        capturing.  bulk: for transfers of megabytes (1500-byte frames, big ring)."""
        iface = iface or self.iface(ns)
        group = None
        if iface == "stack":
            group = next(_group_counter)
            self._ensure_table(ns)
            for chain in ("wpre", "wout"):
                # queue-threshold 1: NFLOG would otherwise batch packets
                # for up to a second, and lose the batch on stop.
                _sh(["nft", "add", "rule", "inet", LAB_TABLE, chain, "meta", "l4proto",
                     "tcp", "log", "group", str(group), "queue-threshold", "1"], ns=ns)
        cap = Capture(self.path("capture-%s-%s" % (ns[-1], iface), ".pcap"), ns, iface,
                      filter, nflog_group=group, bulk=bulk)
        self._captures.append(cap)
        return cap

    # -- nftables ----------------------------------------------------------

    def _ensure_table(self, ns):
        """Creates table inet tl_lab in ns: chains pre/out at priority raw
        (-300) for drops, wpre/wout at -150 (after them) for the "stack"
        capture."""
        if ns in self._tables:
            return
        run(["nft", "-f", "-"], ns=ns, check=True, input=(
            "table inet %s {\n"
            " chain pre { type filter hook prerouting priority -300; policy accept; }\n"
            " chain out { type filter hook output priority -300; policy accept; }\n"
            " chain wpre { type filter hook prerouting priority -150; policy accept; }\n"
            " chain wout { type filter hook output priority -150; policy accept; }\n"
            "}\n" % LAB_TABLE).encode())
        self._tables.add(ns)

    def _add_rule(self, ns, hook, expr):
        """Adds `expr counter drop` to chain pre (hook "in") or out (hook
        "out") in ns; returns the Rule."""
        if hook not in ("in", "out"):
            raise ValueError("hook must be 'in' or 'out'")
        self._ensure_table(ns)
        chain = "pre" if hook == "in" else "out"
        text = "%s counter drop" % expr
        out = _sh(["nft", "--echo", "--handle", "add", "rule", "inet", LAB_TABLE, chain]
                  + text.split(), ns=ns)
        m = re.search(r"# handle (\d+)", out)
        if not m:
            raise LabError("no handle in nft output: %r" % out)
        return Rule(ns, chain, int(m.group(1)), text)

    def drop_first(self, ns, match, hook="in"):
        """Drops exactly the first packet matching match (an nft expression)
        entering (hook "in": prerouting, i.e. lost on the wire before this
        namespace's stack) or leaving (hook "out") ns.  numgen inc counts
        only packets that got past match, and its first value is 0."""
        return self._add_rule(ns, hook, "%s numgen inc mod 1000000 == 0" % match)

    def drop_first_syn(self, ns, port, hook="in"):
        """Drops exactly the first SYN (without ACK) to port."""
        return self.drop_first(ns, "tcp dport %d tcp flags & (syn|ack) == syn" % port, hook)

    def drop_every(self, ns, n, match, phase=None, hook="in"):
        """Drops every n-th packet matching match (an nft expression), the
        first at index phase (default n // 2), entering (hook "in") or
        leaving (hook "out") ns: deterministic loss in the middle of a flow."""
        if n < 2:
            raise ValueError("n must be at least 2")
        phase = n // 2 if phase is None else phase
        return self._add_rule(ns, hook, "%s numgen inc mod %d == %d" % (match, n, phase))

    def random_loss(self, ns, percent, match="meta l4proto tcp", hook="in"):
        """Drops about percent % (1..100) of the matching packets, at random."""
        if not 1 <= percent <= 100:
            raise ValueError("percent must be 1..100")
        if percent == 100:           # nft: "mod 100 < 100" is out of range
            return self._add_rule(ns, hook, match)
        return self._add_rule(ns, hook, "%s numgen random mod 100 < %d" % (match, percent))

    def nft_tables(self, ns):
        return nft_tables(ns)

    def tcplab_tables(self, ns):
        return tcplab_tables(ns)

    def pids(self, ns):
        return namespace_pids(ns)

    def tcp_sockets(self, ns):
        """`ss -tan` in ns, as (state, local, peer) tuples."""
        out = _sh(["ss", "-Htan"], ns=ns)
        return [tuple(line.split()[i] for i in (0, 3, 4)) for line in out.splitlines()
                if len(line.split()) >= 5]


# ---------------------------------------------------------------------------
# Reading a captured conversation
# ---------------------------------------------------------------------------

def side(seg, client_ip):
    """"C" when the segment came from client_ip, else "S"."""
    return "C" if seg["src"] == client_ip else "S"


def conversation(segs, client_ip):
    """Segments as "C:S", "S:SA", "C:PA", ...: who sent which flags."""
    return ["%s:%s" % (side(s, client_ip), s["fl"]) for s in segs]


def payload_from(segs, client_ip, who):
    """The bytes who ("C" or "S") sent, in sequence-number order, each byte
    once (retransmissions collapsed)."""
    mine = [s for s in segs if side(s, client_ip) == who]
    if not mine:
        return b""
    base = mine[0]["seq"]          # order relative to the first seq: wraps
    chunks = {}
    for s in mine:
        if s["len"]:
            chunks.setdefault((s["seq"] - base) & 0xFFFFFFFF, s["payload"])
    return b"".join(p for _, p in sorted(chunks.items()))


def first_index(segs, client_ip, who, flag):
    """Index of the first segment from who carrying flag, or None."""
    for i, s in enumerate(segs):
        if side(s, client_ip) == who and flag in s["flags"]:
            return i
    return None


def fin_acked(segs, client_ip, who):
    """True when who's FIN is in segs and the other side ACKed it."""
    i = first_index(segs, client_ip, who, "FIN")
    if i is None:
        return False
    end = (segs[i]["seq"] + segs[i]["len"] + 1) & 0xFFFFFFFF
    return any(side(s, client_ip) != who and "ACK" in s["flags"] and s["ack"] == end
               for s in segs[i + 1:])


def teardown_complete(segs, client_ip):
    """Both FINs sent and both ACKed: the four-way close is on the wire."""
    return fin_acked(segs, client_ip, "C") and fin_acked(segs, client_ip, "S")
