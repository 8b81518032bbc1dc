#!/usr/bin/env python3
"""capture_seeds.py — seed inputs for the protocol harnesses from real servers.

Talks to each server the way the grabber's main probe does (POP3: greeting,
CAPA, STLS, handshake, CAPA; IMAP: greeting, "a1 CAPABILITY" unless the
greeting carried [CAPABILITY ...], "a2 STARTTLS", handshake, "a4
CAPABILITY"), records the server's plaintext and TLS byte streams, and
writes them as fuzz_probe inputs (plus the leaf certificate's DER as a
fuzz_cert input and the capability lines as fuzz_caps inputs).

  capture_seeds.py OUTDIR NAME PROTO HOST PORT [NAME PROTO HOST PORT ...]

PROTO is pop3, imap, pop3s or imaps. Only run it against our own servers:
the test network (inside its scanner namespace) or the hostile fixture on
loopback. Every read stops at 6,000 bytes, 2 s of silence or 5 s per server.
"""
import os
import socket
import ssl
import struct
import sys
import time

LIMIT = 6000
QUIET = 2.0
DEADLINE = 5.0  # seconds per server, whatever it does (a drip feed never ends)
PROTOS = {"pop3": 0, "imap": 1, "pop3s": 2, "imaps": 3}


class Conn:
    def __init__(self, sock, deadline):
        self.s = sock
        self.deadline = deadline
        self.buf = b""
        self.got = b""  # every byte the server sent on this layer

    def fill(self):
        left = self.deadline - time.monotonic()
        if len(self.got) >= LIMIT or left <= 0:
            return False
        self.s.settimeout(min(QUIET, left))
        try:
            d = self.s.recv(4096)
        except (socket.timeout, ssl.SSLError, OSError):
            return False
        if not d:
            return False
        self.buf += d
        self.got += d
        return True

    def line(self):
        while b"\n" not in self.buf:
            if not self.fill():
                return None
        line, self.buf = self.buf.split(b"\n", 1)
        return line.rstrip(b"\r")

    def until(self, pred):
        lines = []
        while True:
            line = self.line()
            if line is None:
                return lines
            lines.append(line)
            if pred(line):
                return lines


def tls_wrap(sock):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    t = ctx.wrap_socket(sock, do_handshake_on_connect=False)
    t.settimeout(QUIET)
    t.do_handshake()
    return t


def pop3_exchange(c, implicit):
    caps = []
    greet = c.line()
    if greet is None or not greet.upper().startswith(b"+OK"):
        return caps, False
    c.s.sendall(b"CAPA\r\n")
    st = c.line()
    if st is not None and st.upper().startswith(b"+OK"):
        caps = c.until(lambda l: l == b".")[:-1]
    if implicit:
        return caps, False
    c.s.sendall(b"STLS\r\n")
    st = c.line()
    return caps, st is not None and st.upper().startswith(b"+OK")


def imap_exchange(c, implicit):
    caps = []
    greet = c.line()
    while greet is not None and b"Waiting for authentication" in greet:
        greet = c.line()
    if greet is None or not greet.upper().startswith(b"* OK"):
        return caps, False
    if b"[CAPABILITY " in greet.upper():
        caps.append(greet)
    else:
        c.s.sendall(b"a1 CAPABILITY\r\n")
        caps = c.until(lambda l: l.startswith(b"a1 "))
    if implicit:
        return caps, False
    c.s.sendall(b"a2 STARTTLS\r\n")
    st = c.until(lambda l: l.startswith(b"a2 "))
    return caps, bool(st) and st[-1].upper().startswith(b"a2 OK".upper())


def capture(proto, host, port):
    """(plaintext bytes, TLS bytes, leaf DER or None, capability lines)."""
    try:
        sock = socket.create_connection((host, port), timeout=QUIET)
    except OSError as e:
        print("  %s:%s: %s" % (host, port, e), file=sys.stderr)
        return b"", b"", None, []
    deadline = time.monotonic() + DEADLINE
    implicit = proto in ("pop3s", "imaps")
    plain, tls, der, caps = b"", b"", None, []
    pop3 = proto.startswith("pop3")
    try:
        if implicit:
            t = tls_wrap(sock)
            der = t.getpeercert(binary_form=True)
            c = Conn(t, deadline)
            caps, _ = (pop3_exchange if pop3 else imap_exchange)(c, True)
            tls = c.got
            return plain, tls, der, caps
        c = Conn(sock, deadline)
        caps, upgrade = (pop3_exchange if pop3 else imap_exchange)(c, False)
        plain = c.got
        if upgrade:
            t = tls_wrap(sock)
            der = t.getpeercert(binary_form=True)
            c2 = Conn(t, deadline)
            t.sendall(b"CAPA\r\n" if pop3 else b"a4 CAPABILITY\r\n")
            c2.until(lambda l: l == b"." if pop3 else l.startswith(b"a4 "))
            tls = c2.got
    except (OSError, ssl.SSLError) as e:
        print("  %s:%s: %s (kept what arrived)" % (host, port, e), file=sys.stderr)
    finally:
        sock.close()
    return plain, tls, der, caps


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def main():
    if len(sys.argv) < 6 or (len(sys.argv) - 2) % 4 != 0:
        print(__doc__, file=sys.stderr)
        return 2
    out, args = sys.argv[1], sys.argv[2:]
    for i in range(0, len(args), 4):
        name, proto, host, port = args[i], args[i + 1], args[i + 2], int(args[i + 3])
        plain, tls, der, caps = capture(proto, host, port)
        print("%s: %d plaintext bytes, %d TLS bytes, cert %s, %d capability lines"
              % (name, len(plain), len(tls), "yes" if der else "no", len(caps)))
        if not plain and not tls:
            continue
        sel = PROTOS[proto]  # mode main
        write(os.path.join(out, "fuzz_probe", name),
              bytes([sel]) + struct.pack("<H", len(plain)) + bytes([len(plain) & 0xff])
              + plain + tls)
        if proto in ("pop3", "imap"):  # the injection probe sees the same server
            write(os.path.join(out, "fuzz_probe", name + "-inject"),
                  bytes([sel | 4]) + struct.pack("<H", len(plain)) + b"\x07" + plain + tls)
        if der:
            write(os.path.join(out, "fuzz_cert", name + ".der"), der)
        pop3 = proto.startswith("pop3")
        if caps and not pop3:  # part 1/2 of fuzz_caps: one capability line
            text = caps[0]
            part = 1 if text.startswith(b"* OK") else 2
            body = text.split(b" ", 2)[2] if text.count(b" ") >= 2 else text
            write(os.path.join(out, "fuzz_caps", name), bytes([part]) + body)
        elif caps:  # part 3: a POP3 CAPA list, each line length-prefixed
            seed = bytes([3])
            for line in caps + [b"."]:
                seed += bytes([min(len(line), 255)]) + line[:255]
            write(os.path.join(out, "fuzz_caps", name), seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
