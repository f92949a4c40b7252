#!/usr/bin/env python3
"""make-seeds.py OUTDIR — the fuzzers' seed corpus, made from captures/.

OUTDIR/decode/   one file per frame: [link index][0][frame]
OUTDIR/flow/     one file per capture: [options][link][len]frame... (frames cut to 127 bytes)
OUTDIR/capture/  every capture file as it is, and gzip-compressed
Only the standard library: classic pcap files are parsed here (pcapng ones
are seeds for the capture harness only).
"""
import gzip
import os
import struct
import sys

# must match tests/fuzz/fuzz_links.h
LINKS = [1, 101, 113, 276, 0, 108, 12, 14, 228, 229, 9, 50, 51, 104, 239, 242]


def frames(path):
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        return None, []
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        e = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        e = '>'
    else:
        return None, []
    link = struct.unpack(e + 'I', data[20:24])[0] & 0x0fffffff
    out, off = [], 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(e + 'IIII', data[off:off + 16])
        off += 16
        if incl > len(data) - off:
            break
        out.append(data[off:off + incl])
        off += incl
    return link, out


def main():
    outdir = sys.argv[1]
    for sub in ('decode', 'flow', 'capture'):
        os.makedirs(os.path.join(outdir, sub), exist_ok=True)
    root = os.path.join(os.path.dirname(__file__), '..', '..', 'captures')
    n = 0
    for dirpath, _, names in os.walk(root):
        for name in sorted(names):
            path = os.path.join(dirpath, name)
            tag = os.path.relpath(path, root).replace('/', '_')
            raw = open(path, 'rb').read()
            if len(raw) > 1 << 20:
                continue
            with open(os.path.join(outdir, 'capture', tag), 'wb') as f:
                f.write(raw)
            with open(os.path.join(outdir, 'capture', tag + '.gz'), 'wb') as f:
                f.write(gzip.compress(raw))
            link, fr = frames(path)
            if link is None or link not in LINKS:
                continue
            li = LINKS.index(link)
            flow = bytearray([0])
            for i, b in enumerate(fr[:64]):
                with open(os.path.join(outdir, 'decode', '%s-%d' % (tag, i)), 'wb') as f:
                    f.write(bytes([li, 0]) + b)
                cut = b[:127]
                flow += bytes([li, len(cut)]) + cut
                n += 1
            with open(os.path.join(outdir, 'flow', tag), 'wb') as f:
                f.write(bytes(flow))
    print('make-seeds: %d frames' % n)


main()
