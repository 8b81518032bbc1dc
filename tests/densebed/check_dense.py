#!/usr/bin/env python3
"""check_dense.py RECORDS CIDR CERT_DIR [--allow-missing] [--no-injection-test] [--summary FILE]

Every record of a grab over the dense bed's CIDR against the ground truth of
dense_truth.py, field by field: posture, cleartext_login, STARTTLS
advertised/accepted/injection, the TLS version matrix, tls_obsolete, the
leaf certificate (SHA-256 of the DER, key type, self_signed, expired,
chain_valid against the bed's CA given with --ca-file) and the error
(tarpits, slow greeters and early closers end with the documented error,
the others with none). Closed and silent pairs must have no record, no pair
two. Without --allow-missing every open pair must have its record; with it
(the overload run) missing records are counted, not failed. Prints the
counts and the first mismatches; --summary writes them as JSON. Exits 1 on
any failed check."""
import argparse, base64, collections, hashlib, ipaddress, json, os, re, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dense_truth  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("records")
ap.add_argument("cidr")
ap.add_argument("certs")
ap.add_argument("--allow-missing", action="store_true")
ap.add_argument("--summary")
ap.add_argument("--no-injection-test", action="store_true",
                help="the grab ran with --no-injection-test")
args = ap.parse_args()


def cert_facts(path, kind, key):
    pem = open(path).read()
    der = base64.b64decode("".join(re.findall(r"^[A-Za-z0-9+/=]+$", pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END")[0], re.M)))
    return {"sha256": hashlib.sha256(der).hexdigest(), "self_signed": kind.startswith("self"),
            "expired": "expired" in kind, "chain_valid": kind == "ca",
            "key_type": "EC" if key == "ec" else "RSA"}


certs = {f"{k}-{c}": cert_facts(f"{args.certs}/{k}-{c}.pem", c, k)
         for k in ("rsa", "ec") for c in ("ca", "self", "expired", "selfexpired")}

recs, dups, bad_json = {}, 0, 0
for line in open(args.records):
    if not line.strip():
        continue
    try:
        r = json.loads(line)
    except ValueError:
        bad_json += 1
        continue
    key = f"{r['ip']}:{r['port']}"
    dups += key in recs
    recs[key] = r

fails = []
mismatches = collections.Counter()
checked = collections.Counter()
missing = []
expected_open = 0
for a, s, port in dense_truth.pairs(args.cidr):
    key = f"{s}:{port}"
    exp = dense_truth.expected(a, port, certs, not args.no_injection_test)
    r = recs.pop(key, None)
    if exp is None:
        if r is not None:
            fails.append(f"{key} {dense_truth.posture(a, port)['kind']}: has a record")
        continue
    expected_open += 1
    if r is None:
        missing.append(f"{key} {exp['kind']}")
        continue
    got = {"proto": r["proto"], "posture": r["posture"], "cleartext_login": r["cleartext_login"],
           "advertised": r["starttls"]["advertised"], "accepted": r["starttls"]["accepted"],
           "injection": r["starttls"]["injection"], "versions": r["tls"]["versions"],
           "tls_obsolete": r["tls_obsolete"], "error": r["error"]}
    cert = r["tls"]["cert"]
    got["cert"] = None if cert is None else {
        "sha256": cert["sha256"], "self_signed": cert["self_signed"], "expired": cert["expired"],
        "chain_valid": cert["chain_valid"], "key_type": cert["key_type"]}
    diff = [f"{f}: got {got[f]!r} want {exp[f]!r}" for f in got if got[f] != exp[f]]
    checked[exp["kind"]] += 1
    if diff:
        for f in got:
            if got[f] != exp[f]:
                mismatches[f"{exp['kind']}/{f}"] += 1
        fails.append(f"{key} {exp['kind']}: " + "; ".join(diff))
extra = sorted(recs)  # records outside the CIDR

ok = True


def check(cond, what):
    global ok
    print(("ok   " if cond else "FAIL ") + what)
    ok = ok and cond


n = sum(checked.values())
print(f"services checked field by field: {n} of {expected_open} open pairs "
      f"({', '.join(f'{k} {v}' for k, v in sorted(checked.items()))})")
check(bad_json == 0, f"every output line is JSON ({bad_json} bad)")
check(dups == 0, f"no pair has two records ({dups} duplicates)")
check(not extra, f"no record outside {args.cidr} ({len(extra)})")
if args.allow_missing:
    print(f"info missing records: {len(missing)} of {expected_open}")
else:
    check(not missing, f"every open pair has its record ({len(missing)} missing)")
for m in missing[:5]:
    print(f"     missing {m}")
check(not fails, f"every record matches the truth, closed/silent pairs have none "
      f"({len(fails)} failures)")
for f in fails[:20]:
    print(f"     {f}")
if mismatches:
    print("     mismatches by kind/field: " + json.dumps(dict(mismatches.most_common(20))))
if args.summary:
    with open(args.summary, "w") as f:
        json.dump({"expected_open": expected_open, "checked": n, "missing": len(missing),
                   "failures": len(fails), "duplicates": dups, "extra": len(extra),
                   "by_kind": checked}, f)
sys.exit(0 if ok else 1)
