#!/usr/bin/env python3
"""make-header-captures.py — writes the synthetic captures of the --header
and checksum golden tests, deterministically (same bytes every run).

    python3 scripts/make-header-captures.py [DIR]      (default: captures/)

header-options.pcap   one connection whose segments carry every TCP option
                      tcplab knows (MSS, SACK-permitted, timestamps, NOP,
                      window scale, SACK blocks, TCP Fast Open, an
                      experimental kind, end-of-list padding), ECN flags on
                      the SYNs, URG with an urgent pointer, a lost segment
                      (two duplicate ACKs with SACK, then its retransmission),
                      a zero window and its update, then a four-segment close.
checksum.pcap         two connections.  Connection 1 was "captured on the
                      client": every client segment holds only the
                      pseudo-header sum (checksum offload, the NIC fills in
                      the rest after the tap).  Connection 2 has one data
                      segment whose payload was corrupted after the checksum
                      was computed (one flipped bit): a real bad checksum.

Addresses are from 198.18.0.0/15 (RFC 2544), as in the lab.  No packet is
sent anywhere: this only writes files.
"""
import os
import struct
import sys

T0 = 1_700_000_000


def csum(data):
    if len(data) % 2:
        data += b'\0'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return s


def ip4(a):
    return bytes(int(x) for x in a.split('.'))


class Conn:
    def __init__(self, c, s, cport, sport, cisn, sisn):
        self.c, self.s, self.cport, self.sport = ip4(c), ip4(s), cport, sport
        self.seq = {'c': cisn, 's': sisn}
        self.ipid = {'c': 0x1000, 's': 0x2000}

    def frame(self, who, flags, seq, ack, opts=b'', data=b'', win=64240, urg=0, csum_mode='ok', flip=None):
        src, dst = (self.c, self.s) if who == 'c' else (self.s, self.c)
        sp, dp = (self.cport, self.sport) if who == 'c' else (self.sport, self.cport)
        assert len(opts) % 4 == 0 and len(opts) <= 40
        doff = (20 + len(opts)) // 4
        tcp = struct.pack('!HHIIBBHHH', sp, dp, seq & 0xffffffff, ack & 0xffffffff, doff << 4, flags, win, 0, urg)
        tcp += opts + data
        pseudo = src + dst + struct.pack('!BBH', 0, 6, len(tcp))
        if csum_mode == 'ok':
            ck = 0xffff - csum(pseudo + tcp)
        elif csum_mode == 'partial':
            ck = csum(pseudo)        # what Linux leaves for the NIC (CHECKSUM_PARTIAL)
        tcp = tcp[:16] + struct.pack('!H', ck) + tcp[18:]
        if flip is not None:         # corrupted after the checksum was computed
            b = bytearray(tcp)
            b[flip] ^= 0x01
            tcp = bytes(b)
        self.ipid[who] += 1
        ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), self.ipid[who], 0x4000, 64, 6, 0, src, dst)
        ip = ip[:10] + struct.pack('!H', 0xffff - csum(ip)) + ip[12:]
        eth = (b'\x02\0\0\0\0\x02' if who == 'c' else b'\x02\0\0\0\0\x01') + \
              (b'\x02\0\0\0\0\x01' if who == 'c' else b'\x02\0\0\0\0\x02') + b'\x08\x00'
        return eth + ip + tcp


FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 1, 2, 4, 8, 16, 32, 64, 128


def ts(val, ecr):
    return b'\x01\x01\x08\x0a' + struct.pack('!II', val, ecr)


def sack(blocks):
    body = b''.join(struct.pack('!II', l, r) for l, r in blocks)
    return b'\x01\x01\x05' + bytes([2 + len(body)]) + body


def write_pcap(path, frames):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
        for i, (t_us, fr) in enumerate(frames):
            f.write(struct.pack('<IIII', T0 + t_us // 1_000_000, t_us % 1_000_000, len(fr), len(fr)))
            f.write(fr)


def header_options():
    k = Conn('198.18.0.1', '198.18.0.2', 40010, 7000, 10_000_000, 20_000_000)
    c, s = 10_000_000, 20_000_000
    out = []
    t = [0]

    def add(fr, dt=100):
        t[0] += dt
        out.append((t[0], fr))

    # SYN: MSS, SACK-permitted, timestamps, NOP, window scale, TFO cookie request,
    # end of option list and zero padding (RFC 9293 §3.2, RFC 7413 §4.1.1)
    syn_opts = b'\x02\x04\x05\xb4' + b'\x04\x02' + b'\x08\x0a' + struct.pack('!II', 1000, 0) + \
        b'\x01\x03\x03\x07' + b'\x22\x02' + b'\x00\x00'
    add(k.frame('c', SYN | ECE | CWR, c, 0, syn_opts), 0)
    synack_opts = b'\x02\x04\x05\x78' + b'\x04\x02' + b'\x08\x0a' + struct.pack('!II', 5000, 1000) + b'\x01\x03\x03\x08'
    add(k.frame('s', SYN | ACK | ECE, s, c + 1, synack_opts, win=65535))
    add(k.frame('c', ACK, c + 1, s + 1, ts(1001, 5000), win=502))
    # urgent data (URG, urgent pointer 10)
    add(k.frame('c', PSH | ACK | URG, c + 1, s + 1, ts(1002, 5000), b'urgent!!!\n', win=502, urg=10))
    # bytes 11..20 are lost (not in the capture); 21..30 arrive
    add(k.frame('c', PSH | ACK, c + 21, s + 1, ts(1003, 5000), b'third part', win=502))
    # the server acknowledges 11 and SACKs 21-31: twice (duplicate ACKs)
    add(k.frame('s', ACK, s + 1, c + 11, ts(5001, 1002) + sack([(c + 21, c + 31)]), win=255))
    add(k.frame('s', ACK, s + 1, c + 11, ts(5002, 1003) + sack([(c + 21, c + 31)]), win=255))
    # the client retransmits 11..20 (fast retransmit)
    add(k.frame('c', PSH | ACK, c + 11, s + 1, ts(1004, 5002), b'2nd part..', win=502))
    # the server's buffer is full: zero window, then a window update;
    # the update carries an experimental option (kind 254, RFC 4727) with an ExID
    add(k.frame('s', ACK, s + 1, c + 31, ts(5003, 1004), win=0))
    add(k.frame('s', ACK, s + 1, c + 31, ts(5004, 1004) + b'\xfe\x04\xab\xcd', win=255), 200000)
    # four-segment close, the client first
    add(k.frame('c', FIN | ACK, c + 31, s + 1, ts(1005, 5004), win=502))
    add(k.frame('s', ACK, s + 1, c + 32, ts(5005, 1005), win=255))
    add(k.frame('s', FIN | ACK, s + 1, c + 32, ts(5006, 1005), win=255))
    add(k.frame('c', ACK, c + 32, s + 2, ts(1006, 5006), win=502))
    return out


def checksum_capture():
    out = []
    t = [0]

    def add(fr, dt=100):
        t[0] += dt
        out.append((t[0], fr))

    # connection 1: captured on the client, with checksum offload
    k = Conn('198.18.0.1', '198.18.0.2', 40011, 7000, 30_000_000, 40_000_000)
    c, s = 30_000_000, 40_000_000
    add(k.frame('c', SYN, c, 0, b'\x02\x04\x05\xb4', csum_mode='partial'), 0)
    add(k.frame('s', SYN | ACK, s, c + 1, b'\x02\x04\x05\xb4'))
    add(k.frame('c', ACK, c + 1, s + 1, csum_mode='partial'))
    add(k.frame('c', PSH | ACK, c + 1, s + 1, data=b'hello\n', csum_mode='partial'))
    add(k.frame('s', ACK, s + 1, c + 7))
    add(k.frame('c', FIN | ACK, c + 7, s + 1, csum_mode='partial'))
    add(k.frame('s', FIN | ACK, s + 1, c + 8))
    add(k.frame('c', ACK, c + 8, s + 2, csum_mode='partial'))
    # connection 2: one data segment corrupted on the way
    k = Conn('198.18.0.1', '198.18.0.2', 40012, 7000, 50_000_000, 60_000_000)
    c, s = 50_000_000, 60_000_000
    add(k.frame('c', SYN, c, 0, b'\x02\x04\x05\xb4'), 1_000_000)
    add(k.frame('s', SYN | ACK, s, c + 1, b'\x02\x04\x05\xb4'))
    add(k.frame('c', ACK, c + 1, s + 1))
    add(k.frame('c', PSH | ACK, c + 1, s + 1, data=b'hello\n', flip=20 + 2))
    add(k.frame('c', PSH | ACK, c + 1, s + 1, data=b'hello\n'), 200000)
    add(k.frame('s', ACK, s + 1, c + 7))
    add(k.frame('c', FIN | ACK, c + 7, s + 1))
    add(k.frame('s', FIN | ACK, s + 1, c + 8))
    add(k.frame('c', ACK, c + 8, s + 2))
    return out


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', 'captures')
    write_pcap(os.path.join(d, 'header-options.pcap'), header_options())
    write_pcap(os.path.join(d, 'checksum.pcap'), checksum_capture())


main()
