"""test_udp.py — `replay --udp`: UDP datagrams as one event each, beside
the TCP trace, only when asked.  The capture is written here byte by byte
(a UDP datagram, then a TCP SYN), so the test needs neither root nor a lab.
"""

import json
import struct

import lab as L


def _frame(proto, payload):
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                     bytes([198, 18, 77, 1]), bytes([198, 18, 77, 2]))
    return b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00" + ip + payload


def _pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, fr in enumerate(frames):
            f.write(struct.pack("<IIII", 1700000000, 1000 * i, len(fr), len(fr)) + fr)


def test_replay_udp(tmp_path, tcplab_bin):
    udp = struct.pack("!HHHH", 40000, 9999, 8 + 5, 0) + b"hello"
    syn = struct.pack("!HHIIBBHHH", 40001, 80, 1000, 0, 5 << 4, 0x02, 64240, 0, 0)
    p = tmp_path / "mixed.pcap"
    _pcap(p, [_frame(17, udp), _frame(6, syn)])
    r = L.run([tcplab_bin, "replay", "--udp", "--json", str(p)])
    assert r.returncode == 0, r
    ev = r.json_lines()
    (d,) = [e for e in ev if e["event"] == "datagram"]
    assert d["protocol"] == "udp" and d["conn"] == 0 and d["t"] == 0.0
    assert (d["src"], d["dst"], d["len"], d["payload"]) == \
        ("198.18.77.1:40000", "198.18.77.2:9999", 5, "hello")
    seg = next(e for e in ev if e["event"] == "segment")
    assert seg["flags"] == ["SYN"] and seg["t"] == 0.001   # one clock for both (1 ms later)
    text = L.run([tcplab_bin, "replay", "--udp", str(p)]).out
    assert "UDP    198.18.77.1:40000 → 198.18.77.2:9999  len=5  \"hello\"" in text
    # without --udp: skipped as before
    r = L.run([tcplab_bin, "replay", "--json", str(p)])
    assert not [e for e in r.json_lines() if e["event"] == "datagram"]
    # --summary: datagrams have none
    r = L.run([tcplab_bin, "replay", "--udp", "--summary", "--json", str(p)])
    assert all(e["event"] == "summary" for e in r.json_lines())
