#!/usr/bin/env python3
"""make_corpus.py — the hand-built part of tests/fuzz/corpus/ (docs/fuzzing.md).

  make_corpus.py CORPUS_DIR [RESULTS_DIR...]

Writes seeds for fuzz_pkt (frames of the test network's addresses: SYN-ACK,
RST, ARP, our own SYN, plus "forge" inputs for each target set), fuzz_targets
(CIDRs, port lists, grab lines, `scan -o` CSV, allow/block files, safe-range
values), fuzz_caps (classifier and injection inputs), fuzz_json and
fuzz_shard (the records, shards and manifest of each RESULTS_DIR: a `grab
-o` directory from the test network), and fuzz_record (the fixture's
greetings laid over a record). Protocol transcripts and certificates come
from capture_seeds.py instead. fuzz_hitlog gets hit logs in base/hitlog.c's
format (valid, with a corrupt and a torn record, with an all-zero record)
and an input for its writer mode.
"""
import glob
import os
import struct
import sys
import zlib


def put(corpus, harness, name, data):
    d = os.path.join(corpus, harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def tcp_frame(src, dst, sport, dport, seq, ack, flags, opts=b""):
    eth = bytes.fromhex("026d630000fe" "026d63000001") + b"\x08\x00"
    tl = 20 + len(opts)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, (tl // 4) << 4, flags, 64240, 0, 0) + opts
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 6, tl)
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + tl, 0, 0x4000, 57, 6, 0, ip4(src), ip4(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return eth + ip + tcp


def arp_frame(op, sender, target):
    eth = b"\xff" * 6 + bytes.fromhex("026d630000fe") + b"\x08\x06"
    body = struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + bytes.fromhex("026d630000fe") + ip4(sender) \
        + b"\0" * 6 + ip4(target)
    return eth + body + b"\0" * 18


def pkt(corpus):
    mss = b"\x02\x04\x05\xb4\x01\x01\x04\x02"
    frames = {
        "synack-b-143": tcp_frame("198.18.1.11", "198.18.0.2", 143, 40000, 0x11223344, 0x55667788, 0x12, mss),
        "rst-20-110": tcp_frame("198.18.1.20", "198.18.0.2", 110, 40001, 0, 0x10000001, 0x14),
        "ack-only": tcp_frame("198.18.1.12", "198.18.0.2", 993, 40002, 1, 2, 0x10),
        "our-syn": tcp_frame("198.18.0.2", "198.18.1.13", 40003, 995, 7, 0, 0x02, b"\x02\x04\x05\xb4"),
        "arp-request": arp_frame(1, "198.18.0.254", "198.18.0.2"),
        "arp-reply": arp_frame(2, "198.18.0.254", "198.18.0.2"),
    }
    for name, f in frames.items():  # selector 0: raw frame, target set 0
        put(corpus, "fuzz_pkt", name, b"\x00\x07\x00\x10\x04" + f)
    for s in range(3):  # forged replies with the right cookie, SYN-ACK and RST
        for flags in (0, 1):
            put(corpus, "fuzz_pkt", "forge-set%d-%s" % (s, "rst" if flags else "synack"),
                bytes([1 | (s << 1), 7, 0, 0x10, 4, flags, 2]) + b"\0" * 10)


def targets(corpus):
    seeds = {
        "cidr-range": b"\x00198.18.0.0/15", "cidr-host": b"\x00198.18.1.11",
        "cidr-zero": b"\x000.0.0.0/0", "cidr-bad": b"\x00198.18.0.0/33",
        "ports-default": b"\x01110,143,993,995", "ports-range": b"\x01993-995,110",
        "grab-colon": b"\x02198.18.1.11:143", "grab-comma": b"\x02 198.18.1.12,993 # c",
        "scan-o-header": b"\x02saddr,sport,ttl,window,isn,time",
        "scan-o-line": b"\x02198.18.16.7,143,64,64240,2864434397,1764680000.123456",
        "grab-comment": b"\x02# nothing here",
        "files-allow": b"\x03\x00\x40\x00198.18.0.0/24 # lab\n198.18.16.0/20\n\n198.18.1.11\n",
        "files-block": b"\x03\x01\x1e\x00198.18.0.0/16\n10.0.0.0/8\n#end\n198.18.1.0/24\n198.18.16.7\n",
        "files-default": b"\x03\x00\x1a\x00198.18.1.0/24\n8.8.8.0/24\n",
        "safe-range": b"\x04\x00\x00\x12\xc6\x00\x01198.18.0.0/15",
        "safe-two": b"\x04\x01\x00\x00\x7f\x10\x00127.0.0.0/8, 198.18.0.0/15",
        "grab-file": b"\x05198.18.1.10:143\n# c\nsaddr,sport\n198.18.16.7,143,64,1,2,3\n",
        "grab-file-long": b"\x05#" + b"x" * 254 + b"8.8.8.8:110\n198.18.1.11:143\n",
    }
    for name, d in seeds.items():
        put(corpus, "fuzz_targets", name, d)


def caps(corpus):
    # part 0: classifier (byte: proto|accepted|tls_up, tls1_0, tls1_1, words)
    put(corpus, "fuzz_caps", "classify-pop3-user", b"\x00\x84\x01\x01\x03\x04USER\x0aSASL PLAIN\x04STLS")
    put(corpus, "fuzz_caps", "classify-imap-logindisabled",
        b"\x00\x85\x02\x02\x02\x0dLOGINDISABLED\x08STARTTLS")
    put(corpus, "fuzz_caps", "classify-imaps", b"\x00\x83\x00\x00\x00")
    # part 4: injection, correct and vulnerable servers, pop3 and imap
    for a in range(8):
        put(corpus, "fuzz_caps", "inject-%d" % a, bytes([4, a, 5, 2]) + b"\x05STLSUSER\x09" * 4)


def record(corpus, fixture_dir):
    """The fixture's greetings as a record's banner (header laid out as
    struct mc_record is today; other layouts only shift the bytes)."""
    for path in sorted(glob.glob(os.path.join(fixture_dir, "fuzz_probe", "fixture-*"))):
        if path.endswith("-inject"):
            continue
        body = open(path, "rb").read()[4:]
        greet = body.split(b"\n", 1)[0][:512]
        head = struct.pack("<IH2xI4xq", 0xC6120102, 143, 2, 1764680000123456)
        head += struct.pack("<III", 0, 0, 0) + struct.pack("<H", len(greet)) + b"\0"
        put(corpus, "fuzz_record", os.path.basename(path), head + greet)
    put(corpus, "fuzz_record", "zero", b"\0" * 5896)
    put(corpus, "fuzz_record", "ones", b"\xff" * 5896)


def results(corpus, rdir, tag):
    man = open(os.path.join(rdir, "manifest.json"), "rb").read()
    put(corpus, "fuzz_json", tag + "-manifest.json", man)
    put(corpus, "fuzz_shard", tag + "-manifest", b"\x02" + struct.pack("<H", len(man)) + man)
    for shard in sorted(glob.glob(os.path.join(rdir, "shard-*"))):
        data = open(shard, "rb").read()
        name = tag + "-" + os.path.basename(shard)
        if shard.endswith(".zst"):
            put(corpus, "fuzz_shard", name, b"\x01" + data)
            continue
        put(corpus, "fuzz_shard", name, b"\x00" + data)
        put(corpus, "fuzz_shard", name + "-zst", b"\x05" + data)
        for i, line in enumerate(data.split(b"\n")[:8]):
            if line:
                put(corpus, "fuzz_json", "%s-line%d.json" % (name, i), line)


def fnv_hit(rec):
    h = 2166136261
    for b in rec:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h ^ 0x6D63686C


def hitlog(corpus):
    """base/hitlog.c's file: 64-byte header, 32-byte records (hit, checksum, pad)."""
    hits = [struct.pack("<IHBBIHHQ", 0xC612010B, 143, 57, 0, 0x11223344, 64240, 1460,
                        1764680000123456789 + i) for i in range(3)]
    hits.append(struct.pack("<IHBBIHHQ", 0xC6121007, 143, 64, 1, 7, 65535, 0, 1764680001000000000))
    head = b"MCHITLG1" + struct.pack("<II", 1, 32) + struct.pack("<QII", 0x5EED, 0, 2) + b"\0" * 32
    recs = b"".join(h + struct.pack("<I", fnv_hit(h)) + b"\0" * 4 for h in hits)
    bad = hits[0][:4] + b"\x99" + hits[0][5:] + struct.pack("<I", fnv_hit(hits[0])) + b"\0" * 4
    put(corpus, "fuzz_hitlog", "file", b"\x00\x80" + head + recs)
    put(corpus, "fuzz_hitlog", "file-corrupt-torn", b"\x00\x40" + head + recs + bad + recs[:20])
    put(corpus, "fuzz_hitlog", "file-zero-record", b"\x00\xff" + head + b"\0" * 32 + recs[:32])
    put(corpus, "fuzz_hitlog", "writer", b"\x01\x80\x01\x00\x00\x00\x00" + b"".join(hits))


def ckpt(corpus):
    """engine/checkpoint.c's file: the census's TX checkpoint."""
    def text(queues, seed=77, shard=0, shards=1, pairs=1024, n=0):
        body = "mailcensus-checkpoint 1\nseed %d\nshard %d %d\nqueues %d\npairs %d\n" \
               "max_targets %d\nwritten 1796228589583810495\n" % (seed, shard, shards, len(queues), pairs, n)
        body += "".join("q %d %d %d\n" % (i, l, t) for i, (l, t) in enumerate(queues))
        h = 2166136261
        for b in body.encode():
            h = ((h ^ b) * 16777619) & 0xFFFFFFFF
        return (body + "sum %08x\n" % h).encode()
    put(corpus, "fuzz_ckpt", "one-queue", b"\x00" + text([(420, 608)]))
    put(corpus, "fuzz_ckpt", "four-queues-shard", b"\x00" + text([(9, 1), (0, 3), (7, 0), (1, 1)], 5, 2, 3, 4096, 100))
    put(corpus, "fuzz_ckpt", "bad-sum", b"\x00" + text([(1, 2)]).replace(b"seed 77", b"seed 78"))
    put(corpus, "fuzz_ckpt", "made", b"\x01\x2a\x00\x00\x00\x02\x03\x05\x00\x04\x10\x00\x41\x01" + bytes(range(40)))
    put(corpus, "fuzz_ckpt", "made-flipped", b"\x03\x2a\x00\x00\x00\x02\x03\x05\x00\x04\x10\x00\x41\x01" + bytes(range(40)))


def hello(corpus):
    """First answers to a hand-built ClientHello (probes/tlshello.c)."""
    def rec(ct, ver, body):
        return bytes([ct]) + struct.pack("!HH", ver, len(body)) + body

    def sh(legacy, suite, exts):
        ext = b"".join(struct.pack("!HH", t, len(d)) + d for t, d in exts)
        body = struct.pack("!H", legacy) + bytes(range(32)) + b"\x00" + struct.pack("!HB", suite, 0)
        body += struct.pack("!H", len(ext)) + ext
        return rec(22, 0x0303, b"\x02" + struct.pack("!I", len(body))[1:] + body)
    put(corpus, "fuzz_hello", "tls12", sh(0x0303, 0xC02F, [(0xFF01, b"\x00"), (0x0017, b"")]))
    put(corpus, "fuzz_hello", "tls13", sh(0x0303, 0x1301, [(0x002B, b"\x03\x04"),
                                                          (0x0033, b"\x00\x1d\x00\x20" + bytes(32))]))
    put(corpus, "fuzz_hello", "tls10-alpn", sh(0x0301, 0x002F, [(0x0010, b"\x00\x05\x04imap")]))
    put(corpus, "fuzz_hello", "alert", rec(21, 0x0303, b"\x02\x46"))
    put(corpus, "fuzz_hello", "ssl2-server-hello",
        b"\x80\x2e\x04\x00\x01\x00\x02\x00\x10\x00\x03\x00\x10" + bytes(16) + b"\x01\x00\x80\x02\x00\x80\x07\x00\xc0" + bytes(16))
    put(corpus, "fuzz_hello", "garbage", b"+OK not TLS\r\n")


def json_hand(corpus):
    for i, d in enumerate([b'{"a":[1,-0,2.5e-3,true,false,null],"s":"x\\u00e9\\ud83d\\udce7\\n"}',
                           b'[]', b'"\xc3\xa9"', b'18446744073709551615', b'  {"k" : { } }  ']):
        put(corpus, "fuzz_json", "hand%d.json" % i, d)


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    corpus = sys.argv[1]
    pkt(corpus)
    targets(corpus)
    caps(corpus)
    json_hand(corpus)
    hitlog(corpus)
    hello(corpus)
    ckpt(corpus)
    record(corpus, corpus)
    for i, rdir in enumerate(sys.argv[2:]):
        results(corpus, rdir, "grab%d" % i)
    return 0


if __name__ == "__main__":
    sys.exit(main())
