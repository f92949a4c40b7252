#!/usr/bin/env python3
"""bench-reaction.py — the Python half of the reaction-time benchmark.

scripts/bench-reaction.sh builds the veth lab, runs the clients and records
a capture in the server's namespace; this file does the two jobs that are
easier in Python:

  analyze PCAP PORT=LABEL[:RAN] ...
      Reads the server-side capture (classic pcap, Ethernet or Linux cooked
      or raw IP, microsecond or nanosecond timestamps) and, for every
      connection to one of the given server ports, measures the *reaction
      time*: from the server's SYN-ACK leaving (its timestamp on the server's
      veth) to the client's ACK of it arriving (RFC 9293 §3.5: the third
      segment of the handshake, ACK = server ISN + 1).  The client is the
      thing under test: the kernel's connect(), `tcplab connect`, or Scapy.
      Prints, per label, n / median / p10 / p90 in µs, then the ratios
      tcplab/kernel and scapy/tcplab when those labels are present.
      Connections whose SYN-ACK was retransmitted, or whose handshake ACK was
      never seen, are not measured; they are counted and reported.  RAN, when
      given, is how many connections that client ran: a warning says so when
      the capture holds fewer (lost by the capture, or never started).

  scapy-client ADDR PORT COUNT
      The textbook Scapy client, the way tutorials write it: sr1() a SYN,
      send() the ACK of the SYN-ACK, then send() a RST|ACK to end it (the
      tutorials stop at the handshake; the RST frees the server's socket at
      once).  The caller must drop the kernel's own RST (it has no socket for
      this connection) with an nftables rule, as the tutorials also say.
      Prints one line per connection.  Needs root and python3-scapy.

No timing thresholds live here: the numbers are reported, never judged.
"""

import random
import struct
import sys


# ---------------------------------------------------------------- pcap ----

LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV4 = 228


def read_pcap(path):
    """Yields (timestamp_ns, link_type, frame bytes) from a classic pcap.

    Raises ValueError on a file that is not classic pcap; a truncated last
    record ends the iteration (tcpdump killed mid-write), it is not an error.
    """
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        raise ValueError("%s: too short for a pcap header" % path)
    magic_le = struct.unpack_from("<I", data, 0)[0]
    if magic_le in (0xA1B2C3D4, 0xA1B23C4D):
        endian = "<"
        magic = magic_le
    else:
        magic = struct.unpack_from(">I", data, 0)[0]
        if magic not in (0xA1B2C3D4, 0xA1B23C4D):
            raise ValueError("%s: not a classic pcap file (pcapng is not read here)" % path)
        endian = ">"
    nano = magic == 0xA1B23C4D
    link = struct.unpack_from(endian + "I", data, 20)[0] & 0x0FFFFFFF
    off = 24
    rec = struct.Struct(endian + "IIII")
    while off + 16 <= len(data):
        sec, frac, caplen, _ = rec.unpack_from(data, off)
        off += 16
        if off + caplen > len(data):
            break
        ts = sec * 1_000_000_000 + (frac if nano else frac * 1000)
        yield ts, link, data[off:off + caplen]
        off += caplen


def ipv4_tcp(link, frame):
    """Returns (src, dst, sport, dport, seq, ack, flags) of an IPv4/TCP frame,
    or None for anything else.  Every offset is bounds-checked."""
    if link == LINKTYPE_ETHERNET:
        if len(frame) < 14:
            return None
        ethertype = struct.unpack_from("!H", frame, 12)[0]
        off = 14
        if ethertype == 0x8100 and len(frame) >= 18:
            ethertype = struct.unpack_from("!H", frame, 16)[0]
            off = 18
        if ethertype != 0x0800:
            return None
    elif link == LINKTYPE_LINUX_SLL:
        if len(frame) < 16 or struct.unpack_from("!H", frame, 14)[0] != 0x0800:
            return None
        off = 16
    elif link in (LINKTYPE_RAW, LINKTYPE_IPV4):
        off = 0
    else:
        return None
    if len(frame) < off + 20 or frame[off] >> 4 != 4 or frame[off + 9] != 6:
        return None
    ihl = (frame[off] & 0x0F) * 4
    if ihl < 20 or len(frame) < off + ihl + 20:
        return None
    src = frame[off + 12:off + 16]
    dst = frame[off + 16:off + 20]
    t = off + ihl
    sport, dport, seq, ack = struct.unpack_from("!HHII", frame, t)
    flags = frame[t + 13]
    return src, dst, sport, dport, seq, ack, flags


FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10


def measure(path, ports):
    """Returns ({label: [reaction ns, ...]}, {label: skipped count}).

    A connection is keyed by (client addr, client port, server port) and
    starts anew at each client SYN, so a 4-tuple reused later in the run is
    a new connection, not a retransmission."""
    conns = {}          # key -> dict(label, synacks, synack_seq, synack_ts, done)
    results = {label: [] for label in ports.values()}
    skipped = {label: 0 for label in ports.values()}

    def finish(c):
        if c is not None and not c["done"]:
            skipped[c["label"]] += 1

    for ts, link, frame in read_pcap(path):
        p = ipv4_tcp(link, frame)
        if p is None:
            continue
        src, dst, sport, dport, seq, ack, flags = p
        if dport in ports and flags & SYN and not flags & ACK:
            key = (src, sport, dport)
            old = conns.get(key)
            if old is not None and old["synacks"] == 0:
                continue            # the client's SYN retransmitted
            finish(old)
            conns[key] = {"label": ports[dport], "synacks": 0, "synack_seq": None,
                          "synack_ts": None, "done": False}
        elif sport in ports and flags & SYN and flags & ACK:
            c = conns.get((dst, dport, sport))
            if c is None or c["done"]:
                continue
            c["synacks"] += 1
            c["synack_seq"] = seq
            c["synack_ts"] = ts
        elif dport in ports and flags & ACK and not flags & (SYN | RST):
            c = conns.get((src, sport, dport))
            if c is None or c["done"] or c["synack_ts"] is None:
                continue
            if ack != (c["synack_seq"] + 1) & 0xFFFFFFFF:
                continue
            c["done"] = True
            if c["synacks"] != 1:
                skipped[c["label"]] += 1   # retransmitted SYN-ACK: ambiguous
                continue
            results[c["label"]].append(ts - c["synack_ts"])
    for c in conns.values():
        finish(c)
    return results, skipped


def quantile(sorted_vals, q):
    """Linear-interpolation quantile of an already sorted, non-empty list."""
    if len(sorted_vals) == 1:
        return float(sorted_vals[0])
    pos = q * (len(sorted_vals) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(sorted_vals) - 1)
    return sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (pos - lo)


def analyze(argv):
    """The `analyze` subcommand; returns an exit status."""
    if len(argv) < 2:
        print("usage: bench-reaction.py analyze PCAP PORT=LABEL[:RAN] ...", file=sys.stderr)
        return 2
    ports = {}
    ran = {}
    for spec in argv[1:]:
        port, _, rest = spec.partition("=")
        label, _, count = rest.partition(":")
        if not port.isdigit() or not label or (count and not count.isdigit()):
            print("bench-reaction.py: bad PORT=LABEL[:RAN]: %r" % spec, file=sys.stderr)
            return 2
        ports[int(port)] = label
        if count:
            ran[label] = int(count)
    try:
        results, skipped = measure(argv[0], ports)
    except (OSError, ValueError) as e:
        print("bench-reaction.py: %s" % e, file=sys.stderr)
        return 1

    medians = {}
    print("  %-8s %6s %10s %10s %10s %8s" % ("client", "n", "median µs", "p10 µs", "p90 µs",
                                            "skipped"))
    for label in ports.values():
        vals = sorted(results[label])
        if not vals:
            print("  %-8s %6d %10s %10s %10s %8d" % (label, 0, "-", "-", "-", skipped[label]))
            continue
        med = quantile(vals, 0.5) / 1000
        medians[label] = med
        print("  %-8s %6d %10.1f %10.1f %10.1f %8d" % (
            label, len(vals), med, quantile(vals, 0.1) / 1000, quantile(vals, 0.9) / 1000,
            skipped[label]))
    for label, count in ran.items():
        seen = len(results[label]) + skipped[label]
        if seen != count:
            print("  WARNING: %s ran %d connections, the capture holds %d" % (label, count, seen))
    for num, den in (("tcplab", "kernel"), ("scapy", "tcplab")):
        if num in medians and den in medians and medians[den] > 0:
            print("  ratio %s/%s (medians): %.2f" % (num, den, medians[num] / medians[den]))
    # Nothing measured for a client that ran means the lab or the client is
    # broken: say so through the exit status (this is not a timing check).
    return 0 if all(results[label] for label in ports.values()) else 1


# --------------------------------------------------------------- scapy ----

def scapy_client(argv):
    """The `scapy-client` subcommand; returns an exit status."""
    if len(argv) != 3 or not argv[1].isdigit() or not argv[2].isdigit():
        print("usage: bench-reaction.py scapy-client ADDR PORT COUNT", file=sys.stderr)
        return 2
    try:
        from scapy.all import IP, TCP, conf, send, sr1  # noqa: E402 (slow import)
    except ImportError:
        print("bench-reaction.py: python3-scapy is not installed", file=sys.stderr)
        return 1
    conf.verb = 0
    addr, dport, count = argv[0], int(argv[1]), int(argv[2])
    failures = 0
    # Distinct source ports, outside Linux's ephemeral range (32768-60999)
    # so they cannot collide with the other clients' connections.
    sports = random.sample(range(10000, 30000), count)
    for sport in sports:
        ip = IP(dst=addr)
        syn = TCP(sport=sport, dport=dport, flags="S", seq=random.getrandbits(32))
        synack = sr1(ip / syn, timeout=2)
        if synack is None or TCP not in synack or synack[TCP].flags & 0x12 != 0x12:
            print("scapy: %d: no SYN-ACK" % sport)
            failures += 1
            continue
        ack = TCP(sport=sport, dport=dport, flags="A", seq=synack[TCP].ack,
                  ack=synack[TCP].seq + 1)
        send(ip / ack)
        send(ip / TCP(sport=sport, dport=dport, flags="RA", seq=synack[TCP].ack,
                      ack=synack[TCP].seq + 1))
        print("scapy: %d: handshake done" % sport)
    return 1 if failures else 0


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "analyze":
        return analyze(sys.argv[2:])
    if len(sys.argv) >= 2 and sys.argv[1] == "scapy-client":
        return scapy_client(sys.argv[2:])
    print("usage: bench-reaction.py analyze PCAP PORT=LABEL[:RAN] ...\n"
          "       bench-reaction.py scapy-client ADDR PORT COUNT", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
