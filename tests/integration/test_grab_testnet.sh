#!/usr/bin/env bash
# test_grab_testnet — `mailcensus grab` against every dovecot posture of the
# test network, from inside the scanner namespace, checked field by field
# against the ground truth ($MC_TRUTH): posture, cleartext_login, STARTTLS
# advertised/accepted, the TLS version matrix, the leaf certificate's
# SHA-256 and chain validity (test CA given with --ca-file). Also: a sample
# of the 4,096-address range, the RST host (error "connect: refused"), the
# silent host (connect timeout), every record is valid JSON with exactly one
# record per target, and the run respects its timeouts.
# Uses the network the runner brought up (instance $MC_TESTNET, default mc).
set -uo pipefail

export MAILCENSUS_SAFE_RANGE=198.18.0.0/15
srcdir=${MC_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${MC_BIN:-$srcdir/build/mailcensus}
cd "$srcdir" || exit 1

say() { printf 'test_grab_testnet: %s\n' "$*"; }
skip() {
	say "SKIP: $*"
	exit 77
}
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
command -v python3 >/dev/null || skip "python3 not installed (scripts/setup-deps)"
[ -x "$bin" ] || skip "no mailcensus binary at $bin"
scripts/testnet status >/dev/null 2>&1 || skip "test network '${MC_TESTNET:-mc}' is not up (scripts/testnet up)"
eval "$(scripts/testnet env)"

work=$(mktemp -d /tmp/test_grab_testnet.XXXXXX)
trap 'rm -rf "$work"' EXIT

# Every host port of the truth (open, closed, silent), and 64 addresses of
# the range on each of its ports. The posture hosts run high-security
# dovecots (one login process per connection, ~0.2-0.6 s to greet), so they
# are grabbed at a low concurrency; the range's dovecot is in performance mode.
python3 - "$MC_TRUTH" "$work" <<'PY'
import ipaddress, json, sys
truth = json.load(open(sys.argv[1]))
with open(sys.argv[2] + "/targets.hosts", "w") as out:
    for h in truth["hosts"]:
        for port in sorted(h["ports"], key=int):
            print(f"{h['ip']}:{port}", file=out)
with open(sys.argv[2] + "/targets.range", "w") as out:
    for r in truth["ranges"]:
        hosts = list(ipaddress.ip_network(r["cidr"]))
        for i in range(0, len(hosts), len(hosts) // 64):
            for port in sorted(r["ports"], key=int):
                print(f"{hosts[i]}:{port}", file=out)
PY
cat "$work/targets.hosts" "$work/targets.range" >"$work/targets"
ntargets=$(wc -l <"$work/targets")
say "$ntargets targets"

start=$(date +%s)
grab() { # CONCURRENCY TARGETS OUT
	ip netns exec "$MC_NS_SCAN" "$bin" grab -v --ca-file "$MC_CA_CERT" --connect-timeout 3 \
		--read-timeout 10 --timeout 60 --concurrency "$1" "$2" >"$3" 2>>"$work/stderr"
}
grab 6 "$work/targets.hosts" "$work/out.hosts"
rc=$?
grab 64 "$work/targets.range" "$work/out.range"
rc2=$?
[ "$rc" -ne 0 ] || rc=$rc2
cat "$work/out.hosts" "$work/out.range" >"$work/out.ndjson"
elapsed=$(($(date +%s) - start))
cat "$work/stderr"
say "grab exit $rc after ${elapsed}s"

python3 - "$MC_TRUTH" "$work/targets" "$work/out.ndjson" "$rc" "$elapsed" <<'PY'
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
    st = r["starttls"]
    same("starttls.advertised", st["advertised"], exp["starttls_advertised"])
    # on 993/995 STARTTLS is not tried: accepted is null where the truth says false
    same("starttls.accepted", st["accepted"],
         None if implicit and exp["starttls_accepted"] is False else exp["starttls_accepted"])
    tv = exp["tls_versions"]
    got_tv = r["tls"]["versions"]
    if tv is None:
        same("tls.versions", got_tv, {k: None for k in ("tls1_0", "tls1_1", "tls1_2", "tls1_3")})
        same("tls.cert", r["tls"]["cert"], None)
        same("error", r["error"], "starttls: starttls-refused")
    else:
        same("tls.versions", got_tv, tv)
        cert = r["tls"]["cert"] or {}
        same("tls.cert.sha256", cert.get("sha256"), exp["cert_sha256"])
        same("tls.cert.chain_valid", cert.get("chain_valid"), exp["chain_valid"])
        same("error", r["error"], None)
        same("tls_obsolete", r["tls_obsolete"], tv["tls1_0"] or tv["tls1_1"])
        if not implicit:
            same("starttls.injection", st["injection"], False)
    check(not mism, f"{tag} {exp['posture']}" + ("" if not mism else ": " + "; ".join(mism)))

print(f"{len(fails)} failed checks")
sys.exit(1 if fails else 0)
PY
