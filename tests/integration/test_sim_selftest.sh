#!/usr/bin/env bash
# mcsim on its own, probed by its small memif test client (no engine needed):
# a /12 on 110,143 is found exactly; then with 1% loss each way, duplicates,
# a 100 ms delay line and junk, nothing extra is found, every junk frame is
# rejected by the client, and the misses stay within the statistical bound.
# mcsim's --list-open must also agree with its --count-open.
set -euo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root "DPDK"
census=$MC_SRCDIR/scripts/sim-census
mcsim=$MC_BUILDDIR/tests/sim/mcsim

n_list=$("$mcsim" --list-open 1.0.0.0/12 --ports 110,143 | wc -l)
n_count=$("$mcsim" --count-open 1.0.0.0/12 --ports 110,143 | jq .total)
echo "list-open $n_list pairs, count-open $n_count"
[ "$n_list" -eq "$n_count" ] && [ "$n_list" -gt 1000 ]

"$census" --client mcsim-client -q --space 1.0.0.0/12 --cooldown 1
"$census" --client mcsim-client -q --space 1.0.0.0/12 --cooldown 1 \
	--loss 0.01 --dup 0.05 --delay-ms 100 --junk 0.01
echo "test_sim_selftest: ok"
