"""kstates_oracle.py — the kernel as the test oracle for tcplab's inference.

tcplab's JSON Lines carry, beside the states it infers ("state" events), the
transitions the local kernel reported for its sockets on the connection's
4-tuple ("kernel-state" events, tracepoint sock:inet_sock_set_state).  For
every endpoint that is a kernel socket the two sequences must be equal after
one normalisation, the TIME-WAIT mini-socket (and a half-open request reset to
LISTEN, which the tracepoint never reports, is left out):

  Linux hands a socket that reaches TIME-WAIT (or an orphan in FIN-WAIT-2) to
  a timewait mini-socket and the tracepoint reports that as X -> CLOSE (X =
  FIN-WAIT-2 or CLOSING), with nothing after.  So a last kernel transition
  TCP_FIN_WAIT2/TCP_CLOSING -> TCP_CLOSE stands for X -> TIME-WAIT when tcplab
  inferred X -> TIME-WAIT there, or for nothing when tcplab's endpoint stayed
  in X; and tcplab's TIME-WAIT -> CLOSED (its shortened 2MSL timer, which the
  mini-socket never reports) is left out.

This is written independently of tcplab's own check (src/kstates.c kcheck),
which the tests compare with it.

Every comparison made in this run is also appended to $KSTATES_TALLY (a
file; default none) as one JSON line, so the run can report "N of N kernel
endpoints agree".
"""

import json
import os
import subprocess

MINISOCK_FROM = ("TCP_FIN_WAIT2", "TCP_CLOSING")


def _kernel_from(e):
    """The kernel's name of the state a kernel-state event left.  The event
    names only the new state ("kernel"); the old one is recovered from the
    RFC spelling (unambiguous for the two states the rule needs)."""
    return {"FIN-WAIT-2": "TCP_FIN_WAIT2", "CLOSING": "TCP_CLOSING"}.get(e["from"])


def sequences(events):
    """{(conn, endpoint): (inferred [(from, to)], kernel [(from, to, kfrom, kernel)])}
    for every endpoint with at least one kernel-state event."""
    inf, ker = {}, {}
    for e in events:
        if e.get("event") == "state":
            seq = inf.setdefault((e["conn"], e["endpoint"]), [])
            if e.get("correction") and seq and seq[-1] == (e["to"], e["from"]):
                seq.pop()   # tcplab withdrew that transition (a later segment proved it wrong)
            else:
                seq.append((e["from"], e["to"]))
        elif e.get("event") == "kernel-state":
            ker.setdefault((e["conn"], e["endpoint"]), []).append(
                (e["from"], e["to"], _kernel_from(e), e["kernel"]))
    return {k: (inf.get(k, []), v) for k, v in ker.items()}


def normalise(inferred, kernel):
    """The one normalisation (module docstring).  Returns (inferred, kernel)
    as lists of (from, to)."""
    i = [t for t in inferred if t != ("TIME-WAIT", "CLOSED")]
    # A half-open connection reset back to LISTEN (an old duplicate SYN,
    # RFC 9293 Figure 8) lives in a request socket the tracepoint never
    # reports: LISTEN -> SYN-RECEIVED -> LISTEN is left out (issue 10).
    j = []
    for t in i:
        if t == ("SYN-RECEIVED", "LISTEN") and j and j[-1] == ("LISTEN", "SYN-RECEIVED"):
            j.pop()
        else:
            j.append(t)
    i = j
    k = [(f, t, kf, kn) for f, t, kf, kn in kernel if f != t]
    if k and k[-1][1] == "CLOSED" and k[-1][2] in MINISOCK_FROM:
        f = k[-1][0]
        n = len(k)
        if n <= len(i) and i[n - 1] == (f, "TIME-WAIT"):
            k[-1] = (f, "TIME-WAIT", k[-1][2], k[-1][3])
        elif len(i) == n - 1 and (not i or i[-1][1] == f):
            k.pop()
    return i, [(f, t) for f, t, _, _ in k]


def compare(events):
    """[(conn, endpoint, agree, inferred, kernel)] for every kernel endpoint."""
    out = []
    for (conn, ep), (inf, ker) in sorted(sequences(events).items()):
        i, k = normalise(inf, ker)
        out.append((conn, ep, i == k, i, k))
    return out


def _tally(label, results):
    path = os.environ.get("KSTATES_TALLY")
    if not path:
        return
    with open(path, "a") as f:
        for conn, ep, ok, i, k in results:
            f.write(json.dumps({"test": label, "conn": conn, "endpoint": ep, "agree": ok,
                                "inferred": i, "kernel": k}) + "\n")


def assert_agree(events, label="", require=0, check_notes=True):
    """Asserts that every kernel endpoint in events agrees with tcplab's
    inference, that there are at least `require` of them, and (check_notes)
    that tcplab's own verdict notes say the same.  Returns the results."""
    res = compare(events)
    _tally(label or os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0], res)
    bad = [r for r in res if not r[2]]
    assert not bad, "inferred and kernel states disagree (%s):\n%s" % (
        label, "\n".join("conn %d %s:\n  inferred %s\n  kernel   %s" % (c, e, i, k)
                         for c, e, _, i, k in bad))
    assert len(res) >= require, "expected %d kernel endpoint(s), found %d (%s)" % (
        require, len(res), label)
    if check_notes:
        # notes are sentences: they follow --lang (docs/json-schema.md "Language")
        agree = ("kernel states agree", "的内核状态与推断一致")
        notes = [e["text"] for e in events if e.get("event") == "note"
                 and (e.get("text", "").startswith("kernel states ") or "的内核状态与推断" in e.get("text", ""))]
        assert len([n for n in notes if n.startswith(agree[0]) or agree[1] in n]) == len(res), \
            (notes, res)
    return res


# -- tracing instances (tracefs is mounted privately for the look, as tcplab does) --

_TRACEFS_SH = ("mountpoint -q /sys/kernel/tracing || "
               "mount -t tracefs nodev /sys/kernel/tracing || exit 1; ")


def tracing_instances():
    """Names of the machine's tracing instances."""
    r = subprocess.run(["unshare", "-m", "sh", "-c", _TRACEFS_SH + "ls /sys/kernel/tracing/instances"],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()


def remove_instance(name):
    """Removes one tracing instance (only ever one this run's tcplab made)."""
    subprocess.run(["unshare", "-m", "sh", "-c", _TRACEFS_SH + 'rmdir "/sys/kernel/tracing/instances/$0"',
                    name], capture_output=True, timeout=30)
