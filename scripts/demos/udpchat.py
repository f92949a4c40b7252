#!/usr/bin/env python3
"""udpchat.py — the tutorials' UDP chat, for the udp demo.

    udpchat.py server ADDR PORT N      answers N datagrams, then exits
    udpchat.py client ADDR PORT MSG... one datagram per MSG, each answered

The server does what the tutorials' server does: recvfrom(), print, sendto()
an answer.  No listen(), no accept(), no connection: each datagram stands
alone.  Prints "ready" on stderr once bound; one line per datagram received
on stdout.
"""

import socket
import sys


def main(argv):
    if len(argv) >= 5 and argv[1] == "server":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((argv[2], int(argv[3])))
        print("ready", file=sys.stderr, flush=True)
        for _ in range(int(argv[4])):
            data, peer = s.recvfrom(2048)
            print("server got %r from %s:%d" % (data, peer[0], peer[1]), flush=True)
            s.sendto(b"got: " + data, peer)
        return 0
    if len(argv) >= 5 and argv[1] == "client":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(5)
        for msg in argv[4:]:
            s.sendto(msg.encode(), (argv[2], int(argv[3])))
            data, _ = s.recvfrom(2048)
            print("client got %r" % data, flush=True)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
