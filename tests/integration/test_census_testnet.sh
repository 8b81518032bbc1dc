#!/usr/bin/env bash
# test_census_testnet.sh — the whole census in one command: `mailcensus scan
# --grab` over every test host and the 4,096-address range on
# 110,143,993,995, from the scanner namespace through net_af_packet, with the
# engine's hits fed straight to the grabber and the records to a results
# directory. Checks: exactly one record per open pair of the ground truth
# (closed and silent pairs yield none), each record matches the truth field
# by field (check_records.py), the manifest carries the engine's metadata
# (seed, hits), shards rotate at --shard-records, `mailcensus verify` passes
# and `report` counts every host.
# Then the two-stage form (scan -o CSV read by grab) and the bad paths: a census flag without --grab and -o with --grab are
# usage errors, and a scan that cannot start leaves no results directory.
set -euo pipefail
# shellcheck source=tests/integration/test_scan_common.sh
. "$(dirname "$0")/test_scan_common.sh"
need_testnet
work_dir

scan_truth_files "$work"
nopen=$(wc -l <"$work/open")
echo "truth: $nopen open pairs"

start=$(date +%s)
rc=0
# The posture hosts run high-security dovecots (a login process per
# connection, 0.2-0.6 s to greet): a modest grab concurrency and generous
# read timeout keep them from timing out on 2 busy cores.
scan_run -w "$work/targets" -p 110,143,993,995 -r 20000 -c 3 --seed 42 \
	--grab -O "$work/res" --ca-file "$MC_CA_CERT" --grab-concurrency 32 \
	--grab-connect-timeout 3 --grab-read-timeout 10 --grab-timeout 60 \
	--shard-records 1000 2>"$work/stderr" || rc=$?
elapsed=$(($(date +%s) - start))
cat "$work/stderr"
echo "scan --grab exit $rc after ${elapsed}s"

cat "$work"/res/shard-*.ndjson >"$work/records" 2>/dev/null || : >"$work/records"
check "records checked against the ground truth" \
	python3 "$MC_SRCDIR/tests/integration/check_records.py" "$MC_TRUTH" "$work/open" \
	"$work/records" "$rc" "$elapsed"
check "mailcensus verify passes" "$MC_BIN" verify "$work/res"
m="$work/res/manifest.json"
check "manifest records equal the open pairs ($nopen)" test "$(jq -r .records "$m")" -eq "$nopen"
check "manifest carries the engine's metadata (hits $nopen)" \
	test "$(jq -r .engine.hits "$m")" -eq "$nopen"
check "manifest names the seed" test "$(jq -r .seed "$m")" = 42
nshards=$(ls "$work"/res/shard-*.ndjson | wc -l)
check "records rotated into $(((nopen + 999) / 1000)) shards of <= 1000 (got $nshards)" \
	test "$nshards" -eq $(((nopen + 999) / 1000))
check "no ring drops" test "$(jq -r .engine.drops.ring "$m")" -eq 0
"$MC_BIN" report --format json "$work/res" >"$work/report.json"
nrange=$(jq '[.ranges[].count] | add' "$MC_TRUTH")
nhosts=$(jq '[.hosts[] | select(any(.ports[]; .state == "open"))] | length' "$MC_TRUTH")
check "report counts every responding host ($nrange + $nhosts)" \
	test "$(jq -r .hosts "$work/report.json")" -eq $((nrange + nhosts))
check "report: the range's $nrange hosts among the cleartext-login hosts" \
	test "$(jq -r .cleartext_login.hosts "$work/report.json")" -ge "$nrange"

# A grab stage far slower than the scan, behind a 16-slot ring: hits wait
# in the hit log (and in the engine's backlog while sending pauses), none is
# dropped, every range responder gets its record. Before the hit log this
# run lost most of the range to ring drops.
grep '^198\.18\.1[6-9]\.\|^198\.18\.2[0-9]\.\|^198\.18\.3[01]\.' "$work/open" |
	grep ':143$' | sort -V >"$work/open.range" || true
scan_run -p 143 -r 50000 -c 2 --seed 43 --ring-size 16 198.18.16.0/20 \
	--grab -O "$work/slow" --grab-concurrency 4 --no-tls-matrix \
	--grab-read-timeout 10 2>"$work/slow.err" || cat "$work/slow.err"
ms="$work/slow/manifest.json"
jq -r '"\(.ip):\(.port)"' "$work"/slow/shard-*.ndjson 2>/dev/null | sort -V >"$work/slow.pairs"
check "slow grab, 16-slot ring: a record for each of the $(wc -l <"$work/open.range") range responders" \
	same_lines "$work/open.range" "$work/slow.pairs"
check "... ring drops 0" test "$(jq -r .engine.drops.ring "$ms")" -eq 0
check "... the hit log holds every hit ($(jq -r .engine.hits "$ms"))" \
	test "$(($(stat -c %s "$work/slow/hits.log") / 32 - 2))" -eq "$(jq -r .engine.hits "$ms")"
check "... sending was held back (backlog peak $(jq -r .engine.backpressure.backlog_peak "$ms"))" \
	test "$(jq -r .engine.backpressure.backlog_peak "$ms")" -gt 0
check "mailcensus verify passes with the hit log beside the shards" "$MC_BIN" verify "$work/slow"

# the same in two stages, as ZMap/ZGrab users run it: the responder CSV of
# `scan -o` is read by `grab` as is (posture hosts only)
scan_run -p 110,143,993,995 -r 20000 -c 3 -o "$work/resp.csv" 198.18.1.0/24 2>/dev/null
ip netns exec "$MC_NS_SCAN" "$MC_BIN" grab --ca-file "$MC_CA_CERT" --concurrency 6 \
	--read-timeout 10 --timeout 60 "$work/resp.csv" >"$work/two.ndjson" 2>"$work/two.err" ||
	cat "$work/two.err"
grep '^198\.18\.1\.' "$work/open" >"$work/open.hosts"
jq -r '"\(.ip):\(.port)"' "$work/two.ndjson" | sort -V >"$work/two.pairs"
check "scan -o CSV, then grab: one record per open posture-host pair" \
	same_lines "$work/open.hosts" "$work/two.pairs"
check "... with no probe error" test -z "$(jq -r 'select(.error != null) | .error' "$work/two.ndjson")"

# bad paths: usage errors (2), and nothing left behind
set +e
scan_run -w "$work/targets" -O "$work/never" >/dev/null 2>"$work/e1"
check "a census flag without --grab is a usage error" test $? -eq 2
grep -q "add --grab" "$work/e1" || cat "$work/e1"
scan_run -w "$work/targets" --grab -o "$work/x.csv" >/dev/null 2>"$work/e2"
check "-o with --grab is a usage error" test $? -eq 2
ip netns exec "$MC_NS_SCAN" "$MC_BIN" scan --iface no-such-if0 -S "$MC_ENGINE_IP" \
	--gateway-ip "$MC_GW_IP" -q -w "$work/targets" --grab -O "$work/never2" \
	>/dev/null 2>"$work/e3"
check "a scan that cannot start exits 2" test $? -eq 2
check "... and leaves no results directory" test ! -e "$work/never2"
set -e
exit $fail
