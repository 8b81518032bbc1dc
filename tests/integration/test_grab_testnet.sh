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
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$MC_SRCDIR" || exit 1

need_root "network namespaces"
need_cmd python3
[ -x "$MC_BIN" ] || skip "no mailcensus binary at $MC_BIN"
need_testnet

work_dir

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
	ip netns exec "$MC_NS_SCAN" "$MC_BIN" grab -v --ca-file "$MC_CA_CERT" --connect-timeout 3 \
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

python3 "$MC_SRCDIR/tests/integration/check_records.py" "$MC_TRUTH" "$work/targets" "$work/out.ndjson" "$rc" "$elapsed"
