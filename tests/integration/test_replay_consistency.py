"""test_replay_consistency.py — a live run and the replay of its own capture
tell the same story.

DESIGN.md promises one pipeline: `tcplab connect -w x.pcap` feeds the
segments it sends and sniffs to the same tracker that `tcplab replay x.pcap`
feeds from the file, so the two must print the same trace.  Each case runs
`tcplab connect --json -w x.pcap` in the lab's client namespace against the
Linux stack (tests/lab/tcpserver) in the server namespace, then `tcplab
replay x.pcap --json`, and compares:

  * for each endpoint, the sequence of state changes (from, to), in order;
    the live run may add what only it can know and the file cannot show:
    the TIME-WAIT → CLOSED expiry of its 2MSL (here --time-wait) timer;
  * the segments (sender, flags, seq, ack, length), in order;
  * the summary's outcome and both sides' byte, segment and retransmission
    counts (final states differ only by that TIME-WAIT expiry).

The cases cover every way tcplab connect ends: the client closes first,
the server closes first, half-close, reset by the server, refused, a lost
SYN, a lost final ACK (a FIN retransmitted into TIME-WAIT), and tcplab's
own abort (--close rst).
"""

import pytest

import kstates_oracle
import lab as L

PORT = 7000

# State changes a live run reports that no capture can show.
LIVE_ONLY = {("TIME-WAIT", "CLOSED")}


def tcplab_json(lab, argv, ns):
    """Runs a tcplab command with --json; returns (Result, events)."""
    r = lab.run_in(ns, argv) if ns else L.run(argv)
    try:
        events = r.json_lines()
    except ValueError as e:
        pytest.fail("%s printed something that is not JSON Lines: %s\n%r" % (argv[1], e, r))
    return r, events


def states(events, endpoint, drop_live_only=False):
    """(from, to) of every state event of endpoint, in order."""
    out = [(e["from"], e["to"]) for e in events
           if e["event"] == "state" and e["endpoint"] == endpoint]
    if drop_live_only:
        out = [t for t in out if t not in LIVE_ONLY]
    return out


def segments(events):
    return [(e["from"], tuple(sorted(e["flags"])), e["seq"], e["ack"], e["len"])
            for e in events if e["event"] == "segment"]


def summary(events):
    s = [e for e in events if e["event"] == "summary"]
    assert len(s) == 1, "expected one summary, got %r" % s
    return s[0]


def counts(side):
    return {k: side[k] for k in ("bytes", "segments", "retransmissions")}


# name: (server mode or None, tcplab connect options, expected exit, lab set-up)
def _drop_first_syn(lab, isn, sport):
    lab.drop_first_syn(lab.server_ns, PORT)


def _drop_final_ack(lab, isn, sport):
    # No data: the client's ACK of the server's FIN is its only pure ACK
    # with sequence ISN + 2 (SYN and FIN take one number each).
    lab.drop_first(lab.server_ns, "tcp sport %d tcp dport %d tcp flags == ack tcp sequence %d"
                   % (sport, PORT, isn + 2))


CASES = {
    "client-closes-first": ("echo", ["--data", "hello"], 0, None),
    "server-closes-first": ("close-first", ["--data", "hello", "--close", "server"], 0, None),
    "half-close": ("half-close", ["--data", "hello"], 0, None),
    "server-resets": ("rst", ["--data", "hello", "--close", "server"], 4, None),
    "refused": (None, ["--data", "hello"], 3, None),
    "syn-lost": ("echo", ["--data", "hello"], 0, _drop_first_syn),
    "final-ack-lost": ("echo", ["--time-wait", "3"], 0, _drop_final_ack),
    "client-aborts": ("echo", ["--data", "hello", "--close", "rst"], 0, None),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_live_and_replay_agree(lab, tcplab_bin, case):
    mode, opts, want_rc, setup = CASES[case]
    isn, sport = 3000000, 41000 + sorted(CASES).index(case)
    if setup:
        setup(lab, isn, sport)
    if mode:
        lab.start_server(mode, PORT)
    pcap = lab.path("consistency-" + case, ".pcap")
    live_r, live = tcplab_json(
        lab, [tcplab_bin, "connect", "--json", "-w", pcap, "--isn", isn, "--sport", sport,
              "--timeout", 5] + opts + [lab.server_ip, PORT], lab.client_ns)
    assert live_r.returncode == want_rc, live_r
    assert pcap.exists(), live_r
    kstates_oracle.assert_agree(live)   # the server's kernel socket agrees with the inference
    rep_r, rep = tcplab_json(lab, [tcplab_bin, "replay", "--json", pcap], None)
    assert rep_r.returncode == 0, rep_r

    for who in ("client", "server"):
        lv, rp = states(live, who, drop_live_only=True), states(rep, who)
        assert lv == rp, ("%s's state changes differ\nlive:   %r\nreplay: %r\n--- live\n%s"
                          "\n--- replay\n%s" % (who, lv, rp, live_r.out, rep_r.out))
    # The live run may only add the expiry of TIME-WAIT, once, at the end.
    for who in ("client", "server"):
        extra = [t for t in states(live, who) if t in LIVE_ONLY]
        assert len(extra) <= 1 and (not extra or states(live, who)[-1] == extra[0]), \
            states(live, who)
    assert segments(live) == segments(rep), "segments differ:\n%s\n---\n%s" % (
        live_r.out, rep_r.out)
    ls, rs = summary(live), summary(rep)
    assert ls["outcome"] == rs["outcome"], (ls, rs)
    for who in ("client", "server"):
        assert counts(ls[who]) == counts(rs[who]), (who, ls[who], rs[who])
        if ls[who]["final_state"] != rs[who]["final_state"]:
            assert (rs[who]["final_state"], ls[who]["final_state"]) in LIVE_ONLY, (ls, rs)
