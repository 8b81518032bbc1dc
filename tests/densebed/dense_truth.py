#!/usr/bin/env python3
"""dense_truth.py — the dense bed's ground truth, written a second time.

The server (tests/fixture/dense_posture.c) decides each (address, port)'s
behaviour with a keyed hash; this module computes the same function from its
description in docs/densebed.md, independently of the C code, and says what
the grabber's record must hold for each pair. The checker
(check_dense.py) never asks the server.

  dense_truth.py list CIDR      ADDR:PORT kind key cert tls greet_caps (as
                                `dense_server list`, to compare the twins)
  dense_truth.py open CIDR      ADDR:PORT of every pair that accepts TCP
  dense_truth.py summary CIDR   pairs per kind, as JSON
"""
import collections, ipaddress, json, sys

KEY = 0x6d61696c63656e73  # "mailcens"
M64 = (1 << 64) - 1
PORTS = (110, 143, 993, 995)
SLOW_GREET_S = 20

# kind shares per 10,000 pairs, in table order (docs/densebed.md)
PLAIN = [("closed", 3600), ("silent", 2000), ("no_tls", 600), ("starttls_optional", 1900),
         ("starttls_required", 1300), ("injection", 150), ("tarpit", 150), ("slow", 150),
         ("early_close", 150)]
IMPLICIT = [("closed", 3600), ("silent", 2000), ("implicit_tls", 4100), ("tarpit", 100),
            ("slow", 100), ("early_close", 100)]

# TLS profile -> what the hand-built hellos must find (docs/tlshello.md: the
# main session's version is the server's best; a refused hello refuses every
# version below it, SSLv3 included; SSLv2 is tried only where SSLv3 was
# accepted). The legacy profile needs 2 version hellos and 1 legacy-suite
# hello before an SSLv3 hello; where the injection test took one of the 4
# extra connections (STARTTLS ports), the budget ends before it: null.
VERSIONS = {
    "modern": {"ssl2": None, "ssl3": False, "tls1_0": False, "tls1_1": False,
               "tls1_2": True, "tls1_3": True},
    "legacy": {"ssl2": None, "ssl3": False, "tls1_0": True, "tls1_1": True,
               "tls1_2": True, "tls1_3": False},
    "tls13": {"ssl2": None, "ssl3": False, "tls1_0": False, "tls1_1": False,
              "tls1_2": False, "tls1_3": True},
}
REFUSED_ALL = {"ssl2": None, "ssl3": False, "tls1_0": False, "tls1_1": False,
               "tls1_2": False, "tls1_3": False}
PROTO = {110: "pop3", 143: "imap", 993: "imaps", 995: "pop3s"}


def mix(x):
    """SplitMix64's output function (Steele, Lea, Flood 2014)."""
    x = (x + 0x9E3779B97F4A7C15) & M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & M64
    return x ^ (x >> 31)


def posture(addr, port):
    """dict(kind, key, cert, tls, greet_caps) of an int address and a port."""
    h = mix(KEY ^ ((addr << 16) | port))
    table = PLAIN if port in (110, 143) else IMPLICIT
    r, acc, kind = h % 10000, 0, "closed"
    for k, share in table:
        acc += share
        if r < acc:
            kind = k
            break
    c = (h >> 36) % 20
    t = (h >> 44) % 20
    return {
        "kind": kind,
        "key": "ec" if (h >> 32) % 2 else "rsa",
        "cert": "ca" if c < 12 else "self" if c < 17 else "expired" if c < 19 else "selfexpired",
        "tls": "modern" if t < 14 else "legacy" if t < 18 else "tls13",
        "greet_caps": (h >> 52) % 2 == 1,
    }


def pairs(cidr):
    net = ipaddress.ip_network(cidr)
    for a in net:
        for p in PORTS:
            yield int(a), str(a), p


NULL_VERSIONS = {"ssl2": None, "ssl3": None, "tls1_0": None, "tls1_1": None, "tls1_2": None,
                 "tls1_3": None}


def expected(addr, port, certs, injection_test=True):
    """The record the grabber must write for an open pair (None for closed or
    silent: no record). certs maps 'rsa-ca' etc. to dict(sha256, self_signed,
    expired, chain_valid). Fields the grabber leaves unknown are None."""
    p = posture(addr, port)
    kind, implicit, pop3 = p["kind"], port in (993, 995), port in (110, 995)
    if kind in ("closed", "silent"):
        return None
    e = {"proto": PROTO[port], "posture": "unknown", "cleartext_login": None,
         "advertised": None, "accepted": None, "injection": None,
         "versions": dict(NULL_VERSIONS), "cert": None, "tls_obsolete": None, "error": None,
         "kind": kind}
    tls = {"versions": dict(VERSIONS[p["tls"]]), "cert": certs[f"{p['key']}-{p['cert']}"],
           "tls_obsolete": p["tls"] == "legacy"}
    if p["tls"] == "legacy" and not implicit and injection_test:
        tls["versions"]["ssl3"] = None  # the 4-connection budget ran out
    if implicit:
        if kind == "early_close":  # every hello is met by a FIN: all refused
            e["error"] = "tls: tls-handshake-failed: unexpected eof while reading"
            e["versions"], e["tls_obsolete"] = dict(REFUSED_ALL), False
            return e
        e.update(tls)
        e["posture"], e["cleartext_login"] = "implicit_tls", False
        if kind == "implicit_tls":
            e["advertised"] = False  # STARTTLS/STLS is not among the post-TLS capabilities
        elif kind == "tarpit":
            e["error"] = ("capa-tls" if pop3 else "capability-tls") + ": read-timeout"
        elif kind == "slow":
            e["error"] = "greeting: greeting-timeout"
        return e
    if kind == "tarpit":
        e["error"] = ("capa" if pop3 else "capability") + ": read-timeout"
    elif kind == "slow":
        e["error"] = "greeting: greeting-timeout"
    elif kind == "early_close":
        e["error"] = "greeting: closed"
    elif kind == "no_tls":
        e.update(posture="no_tls", cleartext_login=True, advertised=False, accepted=False)
    else:
        e.update(tls)
        e.update(advertised=True, accepted=True,
                 injection=(kind == "injection") if injection_test else None,
                 cleartext_login=kind != "starttls_required",
                 posture="starttls_required" if kind == "starttls_required"
                 else "starttls_optional")
    return e


def main():
    cmd, cidr = sys.argv[1], sys.argv[2]
    if cmd == "list":
        for a, s, port in pairs(cidr):
            p = posture(a, port)
            print(f"{s}:{port} {p['kind']} {p['key']} {p['cert']} {p['tls']} "
                  f"{int(p['greet_caps'])}")
    elif cmd == "open":
        for a, s, port in pairs(cidr):
            if posture(a, port)["kind"] not in ("closed", "silent"):
                print(f"{s}:{port}")
    elif cmd == "summary":
        n = collections.Counter(posture(a, port)["kind"] for a, _, port in pairs(cidr))
        print(json.dumps(dict(sorted(n.items()))))
    else:
        sys.exit(f"dense_truth.py: unknown command {cmd}")


if __name__ == "__main__":
    main()
