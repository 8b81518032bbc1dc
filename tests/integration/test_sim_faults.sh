#!/usr/bin/env bash
# The /8 census again with real-network faults in the simulator: 1% loss in
# each direction, 5% duplicated replies, a 200 ms reordering delay line, 0.5%
# of replies 5 s late (after the 2 s cooldown when near the end) and 1% junk
# (wrong ack, unprobed source, bad checksum, truncated, non-IPv4), scanned
# with -P 2. No junk may be accepted (zero extras) and all of it
# must be counted invalid/other; duplicates must not be double-counted; the
# misses must stay within the bound for a per-probe loss p (about p^2 with
# -P 2).
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root "DPDK"
case "$("$MC_BIN" scan --help 2>&1 || true)" in
*"not built yet"*) skip "mailcensus scan is not built yet" ;;
esac
"$MC_SRCDIR/scripts/sim-census" -q --space 1.0.0.0/8 --ports 110,143 -P 2 --cooldown 2 \
	--loss 0.01 --dup 0.05 --delay-ms 200 --late 0.005 --late-ms 5000 --junk 0.01
echo "test_sim_faults: ok"
