#!/usr/bin/env bash
# test_scan_rate.sh — the token bucket: -r 1000 for -t 3 seconds sends
# 3,000 SYNs within ±10%, and the achieved rate is reported, against the
# test range through net_af_packet in the scanner namespace.
set -euo pipefail
# shellcheck source=tests/integration/test_scan_common.sh
. "$(dirname "$0")/test_scan_common.sh"
need_testnet
work_dir

range=$(jq -r '.ranges[0].cidr' "$MC_TRUTH")
scan_run "$range" -p 110,143,993,995 -r 1000 -t 3 -c 1 -m "$work/meta.json"
sent=$(scan_meta "$work/meta.json" .sent)
rate=$(scan_meta "$work/meta.json" .send_rate_pps)
echo "sent $sent SYNs in 3 s at -r 1000; reported rate $rate p/s"
check "sent within 10% of 3000" test "$sent" -ge 2700 -a "$sent" -le 3300
check "reported rate within 10% of 1000" \
	awk -v r="$rate" 'BEGIN { exit !(r >= 900 && r <= 1100) }'
exit $fail
