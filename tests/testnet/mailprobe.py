#!/usr/bin/env python3
"""mailprobe — tiny plaintext oracle for test_testnet.sh (run it inside the
scanner namespace).

  mailprobe.py tcp IP PORT          -> open | refused | timeout | error:...
  mailprobe.py imap IP PORT         -> key=value facts from greeting + CAPABILITY
  mailprobe.py pop3 IP PORT         -> key=value facts from greeting + CAPA
  mailprobe.py greet PORT IP...     -> one "IP ok|FAIL reason" line per address

Facts: greeting=ok|bad starttls=yes|no logindisabled=yes|no auth=yes|no
user=yes|no (pop3). A cold dovecot may greet with "* OK Waiting for
authentication process to respond.." before the real greeting: skipped.
"""
import asyncio
import socket
import sys

TIMEOUT = 3.0


def tcp(ip, port):
    s = socket.socket()
    s.settimeout(2.0)
    try:
        s.connect((ip, port))
        return "open"
    except ConnectionRefusedError:
        return "refused"
    except (socket.timeout, TimeoutError):
        return "timeout"
    except OSError as e:
        return "error:%s" % e.strerror
    finally:
        s.close()


def lines(sock):
    buf = b""
    while True:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield line.rstrip(b"\r").decode("latin-1")
        data = sock.recv(4096)
        if not data:
            return
        buf += data


def imap(ip, port):
    facts = {"greeting": "bad"}
    with socket.create_connection((ip, port), TIMEOUT) as s:
        s.settimeout(TIMEOUT)
        rd = lines(s)
        for line in rd:
            if line.startswith("* OK") and "Waiting for authentication" not in line:
                facts["greeting"] = "ok"
                break
            if not line.startswith("* OK"):
                break
        s.sendall(b"a CAPABILITY\r\n")
        caps = []
        for line in rd:
            if line.startswith("* CAPABILITY"):
                caps = line.split()[2:]
            if line.startswith("a "):
                break
    facts["starttls"] = "yes" if "STARTTLS" in caps else "no"
    facts["logindisabled"] = "yes" if "LOGINDISABLED" in caps else "no"
    facts["auth"] = "yes" if any(c.startswith("AUTH=") for c in caps) else "no"
    return facts


def pop3(ip, port):
    facts = {"greeting": "bad"}
    with socket.create_connection((ip, port), TIMEOUT) as s:
        s.settimeout(TIMEOUT)
        rd = lines(s)
        facts["greeting"] = "ok" if next(rd, "").startswith("+OK") else "bad"
        s.sendall(b"CAPA\r\n")
        caps = []
        for line in rd:
            if line == ".":
                break
            caps.append(line.split(" ")[0].upper())
    facts["starttls"] = "yes" if "STLS" in caps else "no"
    facts["user"] = "yes" if "USER" in caps else "no"
    facts["auth"] = "yes" if "SASL" in caps else "no"
    return facts


async def greet_one(ip, port):
    try:
        r, w = await asyncio.wait_for(asyncio.open_connection(ip, port), TIMEOUT)
        line = await asyncio.wait_for(r.readline(), TIMEOUT)
        w.close()
        if line.startswith(b"* OK"):
            return "%s ok" % ip
        return "%s FAIL greeting %r" % (ip, line[:60])
    except Exception as e:  # every failure is a reported result
        return "%s FAIL %s" % (ip, type(e).__name__)


async def greet(port, ips):
    for res in await asyncio.gather(*(greet_one(ip, port) for ip in ips)):
        print(res)


def main(argv):
    if len(argv) >= 4 and argv[1] == "tcp":
        print(tcp(argv[2], int(argv[3])))
    elif len(argv) >= 4 and argv[1] in ("imap", "pop3"):
        try:
            facts = (imap if argv[1] == "imap" else pop3)(argv[2], int(argv[3]))
        except OSError as e:
            print("error=%s" % type(e).__name__)
            return 1
        print(" ".join("%s=%s" % kv for kv in facts.items()))
    elif len(argv) >= 4 and argv[1] == "greet":
        asyncio.run(greet(int(argv[2]), argv[3:]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
