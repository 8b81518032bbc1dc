#!/usr/bin/env bash
# test_slurm_census.sh — a sharded census as a real Slurm array job. Brings up
# its own one-node Slurm (scripts/slurm-local, private state directory) and
# its own test network instance (MC_TESTNET=slurm; the suite's default
# instance stays untouched), runs `scripts/slurm-census --shards 3` (three
# array tasks, each `mailcensus scan --shards 3 --shard I --grab` in the
# scanner namespace, several DPDK processes on one veth at once), and checks:
# every task and every shard's verify passed, each manifest names its shard,
# the union of the records' (ip, port) is exactly the ground truth's open
# pairs, no pair is in two shards, and the merged report counts every host
# once. Then the job script's guard: pointed at a namespace the test network
# did not make, it refuses to scan. Everything is torn down by the trap.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root "network namespaces, munge, slurmd"
export MC_TESTNET=slurm
work_dir
chmod 755 "$MC_BUILDDIR/tmp" "$work" # munged runs as user munge and must reach its socket directory
export MC_SLURM_DIR=$work/slurm
slurm=$MC_SRCDIR/scripts/slurm-local
testnet=$MC_SRCDIR/scripts/testnet

# shellcheck disable=SC2317 # called by the trap
cleanup() {
	if [ -f "$MC_SLURM_DIR/slurm.conf" ]; then
		SLURM_CONF=$MC_SLURM_DIR/slurm.conf scancel --quiet --name=mailcensus 2>/dev/null || true
	fi
	MC_TESTNET=slurm "$testnet" down || true # also ends any process left in its namespaces
	"$slurm" down || true
}
at_exit cleanup

for p in 16817 16818; do
	if ss -Hltn "sport = :$p" | grep -q .; then
		echo "FAIL port $p is taken (another slurm-local is up? scripts/slurm-local down)" >&2
		exit 1
	fi
done
t=$(date +%s)
"$testnet" up >"$work/testnet-up.log" 2>&1 || { cat "$work/testnet-up.log"; exit 1; }
"$slurm" up
eval "$("$slurm" env)"
eval "$("$testnet" env)"
echo "setup: test network '$MC_TESTNET' and slurm-local up in $(($(date +%s) - t))s"

"$testnet" truth-open | sort -V >"$work/open"
nrange=$(jq '[.ranges[].count] | add' "$MC_TRUTH")
nhosts=$(jq '[.hosts[] | select(any(.ports[]; .state == "open"))] | length' "$MC_TRUTH")
echo "truth: $(wc -l <"$work/open") open pairs on $((nrange + nhosts)) hosts"

res=$work/res
rc=0
"$MC_SRCDIR/scripts/slurm-census" --shards 3 --seed 20261129 -O "$res" --time-limit 100 || rc=$?
check "slurm-census exits 0" test "$rc" -eq 0
for i in 0 1 2; do
	sed "s/^/  task $i: /" "$res"/slurm-*_"$i".out 2>/dev/null || true
done

: >"$work/all"
for i in 0 1 2; do
	d=$res/shard-$i
	check "task $i exited 0" test "$(jq -r .exit "$res/shard-$i.status" 2>/dev/null)" = 0
	check "shard $i: mailcensus verify passes" "$MC_BIN" verify "$d"
	check "shard $i: manifest names seed, shard $i of 3" test \
		"$(jq -c '[.seed, .shard, .shards]' "$d/manifest.json" 2>/dev/null)" = "[20261129,$i,3]"
	cat "$d"/shard-*.ndjson 2>/dev/null | jq -r '"\(.ip):\(.port)"' | sort -V >"$work/pairs-$i"
	printf 'shard %d: %s pairs, %ss; engine %s\n' "$i" "$(wc -l <"$work/pairs-$i")" \
		"$(jq -r .seconds "$res/shard-$i.status" 2>/dev/null)" \
		"$(jq -c '.engine | {probed, hits, rsts, invalid, other, iface_rx_dropped: .drops.iface_rx_dropped}' \
			"$d/manifest.json" 2>/dev/null)"
	check "shard $i has records" test -s "$work/pairs-$i"
	cat "$work/pairs-$i" >>"$work/all"
done
sort -V "$work/all" | uniq -d >"$work/dups"
check "no (ip, port) in two shards ($(wc -l <"$work/dups") repeated)" test ! -s "$work/dups"
sort -uV "$work/all" >"$work/union"
if ! cmp -s "$work/union" "$work/open"; then
	diff "$work/union" "$work/open" | head -20 >&2 || true
fi
check "union of the shards' pairs equals truth-open exactly" cmp -s "$work/union" "$work/open"
check "merged report counts every host once ($((nrange + nhosts)))" \
	test "$(jq -r .hosts "$res/report.json" 2>/dev/null)" = $((nrange + nhosts))
check "merged report read all three shard directories" \
	test "$(jq -r .run.complete "$res/report.json" 2>/dev/null)" = true
check "the job script keeps the safe range" \
	grep -qx 'export MAILCENSUS_SAFE_RANGE=198.18.0.0/15' "$res/job.sh"

# The guard: the same job script aimed at a namespace no testnet made.
mkdir "$work/bogus"
sed -e "s|^ns=.*|ns=nosuch-scan|" -e "s|^results=.*|results=$work/bogus|" "$res/job.sh" \
	>"$work/bogus.sh"
set +e
SLURM_ARRAY_TASK_ID=0 bash "$work/bogus.sh" >"$work/bogus.out" 2>&1
brc=$?
set -e
check "job script refuses a namespace the test network did not make (exit $brc)" test "$brc" -eq 2
check "... says why and scans nothing" grep -q "refusing to scan: namespace nosuch-scan" "$work/bogus.out"
check "... and leaves no results" test ! -e "$work/bogus/shard-0"
exit $fail
