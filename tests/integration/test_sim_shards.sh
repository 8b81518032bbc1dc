#!/usr/bin/env bash
# Three shards of a census run one after another against the simulator: their
# union equals the unsharded run's found set (and both equal the ground
# truth), and no pair is found by two shards.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root "DPDK"
case "$("$MC_BIN" scan --help 2>&1 || true)" in
*"not built yet"*) skip "mailcensus scan is not built yet" ;;
esac
work_dir
census=$MC_SRCDIR/scripts/sim-census
"$census" -q --space 2.0.0.0/9 --ports 110,143 --cooldown 1 --keep "$work/one"
"$census" -q --space 2.0.0.0/9 --ports 110,143 --cooldown 1 --shards 3 --keep "$work/three"
cmp "$work/one/found.txt" "$work/three/found.txt"
for i in 0 1 2; do
	echo "shard $i found $(wc -l <"$work/three/found.$i.txt")"
done
echo "test_sim_shards: union of 3 shards == unsharded ($(wc -l <"$work/one/found.txt") pairs)"
