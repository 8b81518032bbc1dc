#!/usr/bin/env bash
# mailcensus scan against the simulated Internet: 1.0.0.0/8 (16.7 M
# addresses) on 110 and 143 at the default density, no faults. The found set
# must equal mcsim's ground truth exactly: no miss, no extra.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root "DPDK"
case "$("$MC_BIN" scan --help 2>&1 || true)" in
*"not built yet"*) skip "mailcensus scan is not built yet" ;;
esac
"$MC_SRCDIR/scripts/sim-census" -q --space 1.0.0.0/8 --ports 110,143 --cooldown 2
echo "test_sim_census: ok"
