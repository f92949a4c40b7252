#!/usr/bin/env python3
"""sockcalls.py — the tutorials' TCP socket server and client, telling when
each socket call is made and when it returns, for the socket-calls demo.

    sockcalls.py server ADDR PORT      socket, bind, listen, accept, recv, send, recv, close
    sockcalls.py client ADDR PORT      socket, connect, send, recv, close
    sockcalls.py merge TRACE.jsonl CALLS.jsonl [TRACE.txt]

server and client print one JSON line per call on stdout, flushed:
  {"event":"socket-call","t":S,"endpoint":"client","call":"connect",
   "called":S,"returned":"0","detail":"..."}
with t and called absolute CLOCK_REALTIME seconds (time.time(): the clock
the kernel stamps captured packets with) taken just after the call returned
and just before it was made.  The client pauses 0.1 s before send() and
close(), so the segments each call causes stand apart in the trace.

merge interleaves the calls with a `tcplab watch --json` trace by time:
with TRACE.txt (the text trace of the same watch) it prints the text trace
with one line per call inserted where it happened; without, the JSON Lines
of both, the calls' t and called turned into the trace's run-relative time
(absolute times kept in "abs").
"""

import json
import re
import socket
import sys
import time


def say(endpoint, call, called, returned, detail=""):
    print(json.dumps({"event": "socket-call", "t": round(time.time(), 6), "endpoint": endpoint,
                      "call": call, "called": round(called, 6), "returned": returned,
                      "detail": detail}), flush=True)


def server(addr, port):
    t = time.time()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    say("server", "socket", t, "fd %d" % s.fileno(), "AF_INET, SOCK_STREAM")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    t = time.time()
    s.bind((addr, port))
    say("server", "bind", t, "0", "%s:%d" % (addr, port))
    t = time.time()
    s.listen(5)
    say("server", "listen", t, "0", "the kernel answers SYNs now")
    print("ready", file=sys.stderr, flush=True)
    t = time.time()
    conn, peer = s.accept()
    say("server", "accept", t, "fd %d" % conn.fileno(), "%s:%d" % peer)
    t = time.time()
    data = conn.recv(1024)
    say("server", "recv", t, "%d bytes" % len(data), "%r" % data)
    t = time.time()
    n = conn.send(data.upper())
    say("server", "send", t, str(n), "%r" % data.upper())
    t = time.time()
    data = conn.recv(1024)
    say("server", "recv", t, "%d bytes" % len(data),
        "%r%s" % (data, ": EOF, the client's FIN" if not data else ""))
    t = time.time()
    conn.close()
    say("server", "close", t, "0", "sends our FIN")
    s.close()


def client(addr, port):
    t = time.time()
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    say("client", "socket", t, "fd %d" % s.fileno(), "AF_INET, SOCK_STREAM")
    t = time.time()
    s.connect((addr, port))
    say("client", "connect", t, "0", "sent SYN, back on SYN-ACK")
    time.sleep(0.1)
    t = time.time()
    n = s.send(b"hello")
    say("client", "send", t, str(n), "b'hello'")
    t = time.time()
    data = s.recv(1024)
    say("client", "recv", t, "%d bytes" % len(data), "%r" % data)
    time.sleep(0.1)
    t = time.time()
    s.close()
    say("client", "close", t, "0", "sends our FIN")


def load(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def merge(trace_path, calls_path, text_path=None):
    trace = load(trace_path)
    calls = load(calls_path)
    first = next((e for e in trace if e.get("event") == "connection"), None)
    # the run's time origin: a connection's absolute start minus its t
    base = first["start"] - first["t"] if first else min(c["called"] for c in calls)
    for c in calls:
        c["abs"] = c["t"]
        c["t"] = round(c["abs"] - base, 6)
        c["called"] = round(c["called"] - base, 6)
    if text_path is None:
        items = [(e.get("t", float("inf")), 0, i, e) for i, e in enumerate(trace)]
        items += [(c["t"], 1, i, c) for i, c in enumerate(calls)]
        # summaries (no t) stay last, in their order
        for *_, e in sorted(items, key=lambda x: (x[0], x[1], x[2])):
            print(json.dumps(e, ensure_ascii=False, separators=(",", ":")))
        return
    # Text: blocks of the trace start at a line with a time; a call goes
    # before the first block later than its return.
    with open(text_path) as f:
        lines = f.read().splitlines()
    timed = re.compile(r"^(\[\d+\])?\s+(\d+\.\d{6})\s")
    pending = sorted(calls, key=lambda c: c["t"])
    out = []

    def call_line(c):
        who = "C" if c["endpoint"] == "client" else "S"
        return ("      %9.6f  %s  %-10s -> %-8s (called %.6f)  %s" % (
            c["t"], who, c["call"] + "()", c["returned"], c["called"], c["detail"]))[:100]
    for line in lines:
        m = timed.match(line)
        if m:
            t = float(m.group(2))
            while pending and pending[0]["t"] <= t:
                out.append(call_line(pending.pop(0)))
        elif pending and re.match(r"^(\[\d+\])?\s+conn \d+ summary", line):
            blank = out.pop() if out and not out[-1].strip() else None
            while pending:
                out.append(call_line(pending.pop(0)))
            if blank is not None:
                out.append(blank)
        out.append(line)
    out.extend(call_line(c) for c in pending)
    print("\n".join(out))


def main(argv):
    if len(argv) >= 4 and argv[1] in ("server", "client"):
        (server if argv[1] == "server" else client)(argv[2], int(argv[3]))
        return 0
    if len(argv) in (4, 5) and argv[1] == "merge":
        merge(*argv[2:])
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
