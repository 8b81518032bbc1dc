#!/usr/bin/env bash
# test_census_dense.sh — the census on a slice of the dense bed
# (scripts/densenet, docs/densebed.md): its own bed instance, brought up and
# torn down here; every scan runs in the bed's scanner namespace through
# net_af_packet from an address no kernel owns.
#   0. the server's posture function (C) and the checker's (Python) agree
#      on every pair of the slice;
#   1. `scan --grab --grab-workers 1` over the slice: every open pair has
#      exactly one record and each matches the truth field by field
#      (check_dense.py); closed and silent pairs have none; the engine
#      counted one RST per closed pair; the manifest's hit accounting holds
#      (every hit of the log is a record, no ring drop); then the same with
#      2 worker processes: the same records;
#   2. overload: the slice's first /24 sent at full speed into a 64-slot hit
#      ring (--ring-size) and a grabber of 50: what is lost is printed (ring
#      drops, missing records), and the counters add up: every validated hit
#      is a record or a counted ring drop, and every record present is right;
#   3. two stages (`scan -o`, then `grab --grab-workers 2`): the same
#      records as 1;
#   4. grab --no-injection-test: no injection verdict, the rest as the truth;
#   5. Ctrl-C in the grab tail, tarpits and slow servers among the open
#      probes: root and workers end within --grab-timeout + 2 s, `verify
#      --partial` passes, the manifest says interrupted and accounts for
#      every hit.
# DENSE_TEST_SLICE (default 198.19.0.0/22) and DENSE_TEST_RTT (ms of
# emulated round trip, default 50) size it.
set -euo pipefail
export MAILCENSUS_SAFE_RANGE=198.18.0.0/15
: "${MC_SRCDIR:?run through meson test}" "${MC_BIN:?run through meson test}"
export MC_DENSENET=${MC_DENSENET:-densetest}
slice=${DENSE_TEST_SLICE:-198.19.0.0/22}
rtt=${DENSE_TEST_RTT:-50}
dn=$MC_SRCDIR/scripts/densenet
tools=$MC_SRCDIR/tests/densebed

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root for network namespaces" >&2
	exit 77
fi
python3 -c 'import cryptography' 2>/dev/null ||
	{ echo "SKIP: python3-cryptography missing (scripts/setup-deps)" >&2; exit 77; }
work=$(mktemp -d)
trap '"$dn" down >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
DENSE_CIDR=$slice "$dn" up --rtt "$rtt" --jitter 0 --loss 0
eval "$("$dn" env)"

fail=0
check() { # check DESCRIPTION COMMAND...
	if "${@:2}"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}
scan() {
	ip netns exec "$MC_NS_SCAN" "$MC_BIN" scan --iface "$MC_SCAN_IF" -S "$MC_ENGINE_IP" \
		--gateway-ip "$MC_GW_IP" -q -p 110,143,993,995 "$@" "$slice"
}
records() { cat "$1"/shard-*.ndjson 2>/dev/null || true; }
meta() { jq -r "$2" "$1"; }
# a record without the fields that differ from run to run
norm() { jq -c 'del(.time, .tls.cipher)' "$1" | sort; }

"$MC_BUILDDIR/tests/fixture/dense_server" list "$slice" >"$work/c.list"
python3 "$tools/dense_truth.py" list "$slice" >"$work/py.list"
check "C and Python posture functions agree on $(wc -l <"$work/c.list") pairs" \
	cmp -s "$work/c.list" "$work/py.list"
nclosed=$(awk '$2 == "closed"' "$work/py.list" | wc -l)
nopen=$(awk '$2 != "closed" && $2 != "silent"' "$work/py.list" | wc -l)
echo "truth: $("$dn" truth "$slice")"

# 1. scan --grab, with 1 and with 2 grab worker processes
for nw in 1 2; do
	r=$work/r1w$nw
	t0=$(date +%s)
	rc=0
	scan -r 20000 -c 3 --seed 11 --grab -O "$r" --ca-file "$MC_CA_CERT" --grab-workers "$nw" \
		--grab-concurrency $((1000 / nw)) --grab-connect-timeout 5 --grab-read-timeout 10 \
		--grab-timeout 90 2>"$work/e1" || rc=$?
	echo "scan --grab --grab-workers $nw exit $rc after $(($(date +%s) - t0)) s: $(tail -1 "$work/e1")"
	records "$r" >"$r.rec"
	check "scan --grab ($nw workers) exits 0" test "$rc" -eq 0
	check "every record against the truth ($nw workers)" \
		python3 "$tools/check_dense.py" "$r.rec" "$slice" "$MC_DENSE_CERTS"
	m=$r/manifest.json
	check "engine hits = open pairs ($nopen)" test "$(meta "$m" .engine.hits)" -eq "$nopen"
	rsts=$(meta "$m" .engine.rsts)
	check "engine RSTs = closed pairs ($rsts = $nclosed)" test "$rsts" -eq "$nclosed"
	check "manifest records = open pairs" test "$(meta "$m" .records)" -eq "$nopen"
	check "manifest hits $(jq -c .hits "$m"): records = hit log, $nw workers, no ring drop" \
		jq -e --argjson nw "$nw" '.hits as $h | $h.workers == $nw and $h.records == .records
			and $h.logged + $h.old_todo == $h.records + $h.skipped + $h.refound + $h.abandoned + $h.unread + $h.corrupt
			and $h.logged == .engine.hits and .engine.drops.ring == 0' "$m" >/dev/null
done
cp "$work/r1w1.rec" "$work/rec1"
check "2 workers: the same records as 1" cmp -s <(norm "$work/rec1") <(norm "$work/r1w2.rec")

# 2. the grab stage cannot keep up: the first /24 of the slice at full
# send speed into a 64-slot hit ring and 50 grab slots. What is lost is
# reported (before main's back-pressure: 78-85 %; docs/densebed.md), and
# the counters must add up.
sub=$(python3 -c 'import ipaddress, sys; print(next(ipaddress.ip_network(sys.argv[1]).subnets(new_prefix=24)))' "$slice")
nsub=$(python3 "$tools/dense_truth.py" open "$sub" | wc -l)
t0=$(date +%s)
rc=0
ip netns exec "$MC_NS_SCAN" "$MC_BIN" scan --iface "$MC_SCAN_IF" -S "$MC_ENGINE_IP" \
	--gateway-ip "$MC_GW_IP" -q -p 110,143,993,995 -r 0 -c 3 --seed 12 --ring-size 64 \
	--grab -O "$work/r2" --ca-file "$MC_CA_CERT" --grab-concurrency 50 \
	--grab-connect-timeout 5 --grab-read-timeout 10 --grab-timeout 90 "$sub" \
	2>"$work/e2" || rc=$?
records "$work/r2" >"$work/rec2"
m=$work/r2/manifest.json
hits=$(meta "$m" .engine.hits)
drops=$(meta "$m" .engine.drops.ring)
nrec=$(wc -l <"$work/rec2")
echo "overload (send $(meta "$m" .engine.send_rate_pps) p/s, ring 64, grab 50):" \
	"$hits hits, $nrec records, $drops ring drops, $((nsub - nrec)) of $nsub" \
	"open services without a record, $(($(date +%s) - t0)) s"
check "overload run exits 0" test "$rc" -eq 0
check "engine hits = open pairs of $sub ($nsub)" test "$hits" -eq "$nsub"
check "hits = records + ring drops ($hits = $nrec + $drops)" test "$hits" -eq $((nrec + drops))
check "every record present is right (missing ones counted, not failed)" \
	python3 "$tools/check_dense.py" "$work/rec2" "$sub" "$MC_DENSE_CERTS" --allow-missing

# 3. two stages
scan -r 20000 -c 3 --seed 13 -o "$work/resp.csv" -m "$work/m3.json"
check "scan -o finds every open pair" test "$(($(wc -l <"$work/resp.csv") - 1))" -eq "$nopen"
rc=0
ip netns exec "$MC_NS_SCAN" "$MC_BIN" grab --grab-workers 2 --ca-file "$MC_CA_CERT" --concurrency 250 \
	--connect-timeout 5 --read-timeout 10 --timeout 90 "$work/resp.csv" \
	>"$work/rec3" 2>"$work/e3" || rc=$?
check "grab --grab-workers 2 exits 0" test "$rc" -eq 0
check "two-stage records against the truth" \
	python3 "$tools/check_dense.py" "$work/rec3" "$slice" "$MC_DENSE_CERTS"
check "two-stage records equal the census records" cmp -s <(norm "$work/rec1") <(norm "$work/rec3")

# --no-injection-test: the STARTTLS targets lose the injection connection
# and their injection verdict (null); the hello budget it frees measures
# SSLv3 on the legacy ones (dense_truth.py)
awk '$2 ~ /^(starttls_optional|starttls_required|injection)$/ {print $1}' "$work/py.list" >"$work/stls"
ip netns exec "$MC_NS_SCAN" "$MC_BIN" grab --no-injection-test --ca-file "$MC_CA_CERT" \
	--read-timeout 10 "$work/stls" >"$work/rec4" 2>"$work/e4"
check "--no-injection-test: injection null on all $(wc -l <"$work/stls") STARTTLS targets" \
	test "$(jq -s '[.[] | select(.starttls.injection != null)] | length' "$work/rec4")" -eq 0
check "... and every record as the truth says without the injection test" \
	python3 "$tools/check_dense.py" "$work/rec4" "$slice" "$MC_DENSE_CERTS" --allow-missing \
	--no-injection-test

# 5. SIGINT in the grab tail (not -q: the census says when sending is done)
gt=3
ip netns exec "$MC_NS_SCAN" "$MC_BIN" scan --iface "$MC_SCAN_IF" -S "$MC_ENGINE_IP" \
	--gateway-ip "$MC_GW_IP" -p 110,143,993,995 -r 20000 -c 1 --seed 15 --grab -O "$work/r5" \
	--ca-file "$MC_CA_CERT" --grab-workers 2 --grab-concurrency 100 --grab-timeout "$gt" \
	"$slice" 2>"$work/e5" &
pid=$!
for _ in $(seq 300); do
	grep -q 'sending and cooldown done' "$work/e5" && break
	sleep 0.05
done
sleep 1
t0=$(date +%s%N)
kill -INT "$pid"
rc=0
wait "$pid" || rc=$?
ms=$((($(date +%s%N) - t0) / 1000000))
m=$work/r5/manifest.json
check "SIGINT in the tail: ended in $ms ms (bound $((gt + 2)) s), exit $rc" \
	test "$ms" -le $(((gt + 2) * 1000)) -a "$rc" -eq 1
check "SIGINT in the tail: verify --partial" "$MC_BIN" verify --partial "$work/r5"
check "SIGINT in the tail: $(jq -c '[.state, .signal, .hits]' "$m")" \
	jq -e '.state == "interrupted" and .signal == "SIGINT" and .hits.records < .hits.logged and
		.hits.logged + .hits.old_todo == .hits.records + .hits.skipped + .hits.refound + .hits.abandoned + .hits.unread + .hits.corrupt' \
	"$m"
exit $fail
