"""conftest.py — fixtures and session hooks of tcplab's integration tests.

Fixtures:
  lab              a NetnsLab (client + server namespaces), deleted after the test
  loopback_server  factory: tcpserver on 127.0.0.1 in the root namespace, free port
  tcplab_bin       path of the tcplab binary ($TCPLAB, default ./tcplab)

Session hooks: before the run the lab binaries are built (`make lab`) and the
root namespace's tcplab_* nft tables are noted; after it, every namespace this
run created that is still there is deleted, and a tcplab_* table left in the
root namespace by a tcplab this run started fails the run (and is deleted, so
the host is left clean).
"""

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import kstates_oracle  # noqa: E402
import lab as labmod  # noqa: E402

_root_tables_at_start = set()


def _table_pid(table):
    """tcplab_1234 (as "inet tcplab_1234") -> 1234, or None."""
    name = table.split()[-1]
    rest = name[len(labmod.TCPLAB_TABLE_PREFIX):]
    return int(rest) if name.startswith(labmod.TCPLAB_TABLE_PREFIX) and rest.isdigit() else None


def leaked_root_tables():
    """tcplab_* tables in the root namespace left by this run: made by a
    process this run started, or new since the start and owned by no live
    process.  A tcplab someone else is running keeps its table."""
    leaks = []
    for t in labmod.tcplab_tables(None):
        pid = _table_pid(t)
        if pid in labmod.started_pids and not labmod.pid_alive(pid):
            leaks.append(t)
        elif t not in _root_tables_at_start and (pid is None or not labmod.pid_alive(pid)):
            leaks.append(t)
    return leaks


def _delete_root_table(table):
    family, name = table.split()
    labmod.run(["nft", "delete", "table", family, name])


def pytest_sessionstart(session):
    if os.geteuid() != 0:
        pytest.exit("integration tests need root (network namespaces, raw sockets, "
                    "nftables): run them with sudo", returncode=1)
    r = subprocess.run(["make", "-s", "-C", str(labmod.REPO_ROOT), "lab"],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        pytest.exit("`make lab` failed:\n" + r.stdout + r.stderr, returncode=1)
    _root_tables_at_start.update(labmod.tcplab_tables(None))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    # trylast: after the runner plugin's own sessionfinish, which tears down
    # the fixtures still set up when a run is interrupted (Ctrl-C, SIGTERM):
    # only what survives that is a leak.
    problems = []
    stray = labmod.stop_all_processes()
    if stray:
        problems.append("processes still running (now stopped): %s"
                        % ", ".join(map(str, stray)))
    gone = labmod.cleanup_leftovers()
    if gone:
        problems.append("namespaces left behind (now deleted): " + ", ".join(gone))
    leaks = leaked_root_tables()
    for t in leaks:
        _delete_root_table(t)
    if leaks:
        problems.append("nft tables left in the root namespace (now deleted): "
                        + ", ".join(leaks))
    # tracing instances (kernel states) of tcplabs this run started and that are gone
    ileaks = [n for n in kstates_oracle.tracing_instances()
              if n.startswith("tcplab_") and n[7:].isdigit()
              and int(n[7:]) in labmod.started_pids and not labmod.pid_alive(int(n[7:]))]
    for n in ileaks:
        kstates_oracle.remove_instance(n)
    if ileaks:
        problems.append("tracing instances left behind (now removed): " + ", ".join(ileaks))
    if problems:
        tr = session.config.pluginmanager.get_plugin("terminalreporter")
        for p in problems:
            if tr is not None:
                tr.write_line("LAB LEAK: " + p, red=True, bold=True)
            else:
                print("LAB LEAK: " + p, file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def lab(tmp_path):
    """A fresh two-namespace lab; its files (server logs, pcaps) stay in
    tmp_path for a failing test's post-mortem."""
    with labmod.NetnsLab(workdir=tmp_path) as lb:
        yield lb


@pytest.fixture
def loopback_server(tmp_path):
    """Factory: start(mode, **kw) runs tcpserver on 127.0.0.1 in the root
    namespace on a free port (the kernel picks it: --port 0) and returns
    the Server (its .port is set).  Never binds anything but loopback."""
    servers = []

    def start(mode, count=1, delay_ms=None, greeting=None):
        srv = labmod.Server(mode, 0, "127.0.0.1", tmp_path / ("lo-%s-%d.jsonl"
                                                              % (mode, len(servers))),
                            ns=None, count=count, delay_ms=delay_ms, greeting=greeting)
        servers.append(srv)
        return srv.wait_ready()

    yield start
    for srv in servers:
        srv.stop()


@pytest.fixture
def tcplab_bin():
    """The tcplab binary under test: $TCPLAB, else ./tcplab at the repo root."""
    path = os.environ.get("TCPLAB") or str(labmod.REPO_ROOT / "tcplab")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("tcplab binary not found at %s (build it with `make`, or set $TCPLAB)"
                    % path)
    return os.path.abspath(path)


@pytest.fixture(autouse=True)
def _no_root_table_leak():
    """Fails the test that left a tcplab_* table in the root namespace."""
    yield
    leaks = [t for t in leaked_root_tables() if _table_pid(t) in labmod.started_pids]
    for t in leaks:
        _delete_root_table(t)
    if leaks:
        pytest.fail("tcplab left nft table(s) in the root namespace: %s" % ", ".join(leaks))
