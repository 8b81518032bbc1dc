#!/usr/bin/env python3
"""icmp_echo.py ADDR TRIES — send ICMP echo requests to ADDR (one every
0.2 s, at most TRIES) from a raw socket until one is answered; exit 0 then,
1 if none was. The test bed has no ping; used by test_census_nicpath.sh to
show that the kernel path carries ICMP to and from the scanner's kernel."""
import socket, struct, sys, time

IDENT = 0x6D63


def checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def main():
    dst, tries = sys.argv[1], int(sys.argv[2])
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    sock.settimeout(0.2)
    for seq in range(tries):
        body = struct.pack("!BBHHH", 8, 0, 0, IDENT, seq) + b"mailcensus"
        sock.sendto(body[:2] + struct.pack("!H", checksum(body)) + body[4:], (dst, 0))
        end = time.time() + 0.2
        while time.time() < end:
            try:
                data, addr = sock.recvfrom(2048)
            except socket.timeout:
                break
            icmp = data[(data[0] & 15) * 4:]
            if addr[0] == dst and icmp[0] == 0 and struct.unpack("!H", icmp[4:6])[0] == IDENT:
                print(f"echo reply from {dst} (request {seq})")
                return 0
    return 1


sys.exit(main())
