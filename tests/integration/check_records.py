#!/usr/bin/env python3
"""check_records.py TRUTH TARGETS RECORDS RC ELAPSED — every target has exactly
one JSON record and each record matches the test network's ground truth
(posture, cleartext_login and its evidence, STARTTLS advertised/accepted, TLS version matrix,
leaf certificate SHA-256, chain validity; closed ports refused, silent ones
timed out). Shared by test_grab_testnet.sh and test_census_testnet.sh.
Prints one line per check; exits 1 if any failed."""
import ipaddress, json, sys
truth_path, targets_path, out_path, rc, elapsed = sys.argv[1:6]
truth = json.load(open(truth_path))
fails = []
def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        fails.append(what)

check(rc == "0", f"grab exits 0 (got {rc})")
check(int(elapsed) <= 120, f"finished within 120 s ({elapsed} s)")
targets = [l.strip() for l in open(targets_path) if l.strip()]
recs, bad = {}, 0
for line in open(out_path):
    try:
        r = json.loads(line)
    except ValueError:
        bad += 1
        continue
    key = f"{r['ip']}:{r['port']}"
    check(key not in recs, f"{key}: one record") if key in recs else None
    recs[key] = r
check(bad == 0, f"every output line is JSON ({bad} bad)")
check(sorted(recs) == sorted(set(targets)), f"one record per target ({len(recs)} of {len(targets)})")

def expected(ip, port):
    for h in truth["hosts"]:
        if h["ip"] == ip:
            return h["name"], h["ports"].get(str(port))
    for rg in truth["ranges"]:
        if ipaddress.ip_address(ip) in ipaddress.ip_network(rg["cidr"]):
            return "range", rg["ports"].get(str(port))
    return None, None

for key in targets:
    ip, port = key.split(":")
    name, exp = expected(ip, int(port))
    r = recs.get(key)
    if r is None or exp is None:
        check(False, f"{key}: record and truth present")
        continue
    tag = f"{name} {key}"
    if exp["state"] == "closed":
        check(r["error"] == "connect: refused", f"{tag} closed: error {r['error']!r}")
        continue
    if exp["state"] == "silent":
        check((r["error"] or "").startswith("connect: connect-timeout"),
              f"{tag} silent: error {r['error']!r}")
        continue
    implicit = exp["posture"] == "implicit_tls"
    mism = []
    def same(field, got, want):
        if got != want:
            mism.append(f"{field}: got {got!r} want {want!r}")
    same("proto", r["proto"], exp["proto"])
    same("posture", r["posture"], exp["posture"])
    same("cleartext_login", r["cleartext_login"], exp["cleartext_login"])
    if "cleartext_login_evidence" in exp:
        same("cleartext_login_evidence", r["cleartext_login_evidence"], exp["cleartext_login_evidence"])
    st = r["starttls"]
    same("starttls.advertised", st["advertised"], exp["starttls_advertised"])
    # on 993/995 STARTTLS is not tried: accepted is null where the truth says false
    same("starttls.accepted", st["accepted"],
         None if implicit and exp["starttls_accepted"] is False else exp["starttls_accepted"])
    tv = exp["tls_versions"]
    tls = r["tls"]
    got_tv = {k: tls["versions"][k] for k in ("tls1_0", "tls1_1", "tls1_2", "tls1_3")}
    # dovecot on Debian's OpenSSL 3 has no SSLv2/SSLv3 and no legacy suites:
    # the hand-built hellos may say "no" or not ask (budget), never "yes"
    for k in ("ssl2", "ssl3"):
        if tls["versions"][k] is True:
            mism.append(f"tls.versions.{k}: got True")
    for k, v in tls["legacy"].items():
        if v is True:
            mism.append(f"tls.legacy.{k}: got True")
    same("tls.hello.error", tls["hello"]["error"], None)
    extra = tls["hello"]["probes"] + (0 if implicit or tv is None else 1)
    if extra > 4:
        mism.append(f"{extra} extra connections > 4")
    if tv is None:
        same("tls.versions", got_tv, {k: None for k in ("tls1_0", "tls1_1", "tls1_2", "tls1_3")})
        same("tls.cert", r["tls"]["cert"], None)
        same("error", r["error"], None)  # refusing an unadvertised STARTTLS is no failure
    else:
        same("tls.versions", got_tv, tv)
        cert = r["tls"]["cert"] or {}
        same("tls.cert.sha256", cert.get("sha256"), exp["cert_sha256"])
        same("tls.cert.chain_valid", cert.get("chain_valid"), exp["chain_valid"])
        same("error", r["error"], None)
        # SSLv3 is refused everywhere here; tls_obsolete needs it measured
        # to say false (null when the budget left it unasked)
        obsolete = tv["tls1_0"] or tv["tls1_1"]
        if not obsolete and tls["versions"]["ssl3"] is None:
            obsolete = None
        same("tls_obsolete", r["tls_obsolete"], obsolete)
        if not implicit:
            same("starttls.injection", st["injection"], False)
    check(not mism, f"{tag} {exp['posture']}" + ("" if not mism else ": " + "; ".join(mism)))

print(f"{len(fails)} failed checks")
sys.exit(1 if fails else 0)
