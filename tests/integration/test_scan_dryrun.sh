#!/usr/bin/env bash
# test_scan_dryrun.sh — --dry-run builds every probe and writes it to a pcap
# (DPDK's net_pcap) instead of sending: one valid SYN per (address, port),
# each exactly once, from -S to the target, with correct checksums. No
# network needed and nothing leaves the process. IP IDs vary per probe (no
# constant such as ZMap's old 54321); --tcp-options os puts Linux's SYN option
# set (MSS, SACK-permitted, timestamps, NOP, window scale) in every frame.
set -euo pipefail
# shellcheck source=tests/integration/test_scan_common.sh
. "$(dirname "$0")/test_scan_common.sh"
work_dir

"$MC_BIN" scan --dry-run "$work/syn.pcap" -S 198.18.0.2 -G 02:00:00:00:00:01 -q \
	-p 110,143 -r 0 -m "$work/meta.json" 198.18.1.0/26 198.18.16.0/28
tcpdump -nn -vv -r "$work/syn.pcap" 2>/dev/null >"$work/dump"
frames=$(grep -c 'Flags \[S\]' "$work/dump" || true)
check "128 + 32 SYN frames in the pcap (got $frames)" test "$frames" -eq 160
check "metadata says 160 sent" test "$(scan_meta "$work/meta.json" .sent)" -eq 160
check "every frame from 198.18.0.2" \
	test "$(grep -c '198\.18\.0\.2\.[0-9]* > ' "$work/dump" || true)" -eq 160
grep -o '> 198\.18\.[0-9.]*: Flags' "$work/dump" | sort -u >"$work/dsts"
check "every (address, port) exactly once" test "$(wc -l <"$work/dsts")" -eq 160
check "no bad checksum" test -z "$(grep -i -e 'incorrect' -e 'bad cksum' "$work/dump" || true)"
ids=$(grep -o ', id [0-9]*,' "$work/dump" | sort -u | wc -l)
check "IP IDs vary per probe ($ids distinct of 160)" test "$ids" -ge 150
check "MSS-only option set by default" \
	test "$(grep -c 'options \[mss 1460\]' "$work/dump" || true)" -eq 160

"$MC_BIN" scan --dry-run "$work/os.pcap" -S 198.18.0.2 -G 02:00:00:00:00:01 -q \
	-p 143 -r 0 --tcp-options os -m "$work/os.json" 198.18.1.0/26
tcpdump -nn -vv -r "$work/os.pcap" 2>/dev/null >"$work/os.dump"
check "--tcp-options os: 64 SYNs with MSS, SACK-permitted, timestamps, NOP, window scale 7" \
	test "$(grep -c 'win 64240, options \[mss 1460,sackOK,TS val [0-9]* ecr 0,nop,wscale 7\], length 0' "$work/os.dump" || true)" -eq 64
tsvals=$(grep -o 'TS val [0-9]*' "$work/os.dump" | sort -u | wc -l)
check "--tcp-options os: a TSval per destination ($tsvals distinct of 64)" test "$tsvals" -ge 60
check "--tcp-options os: no bad checksum" \
	test -z "$(grep -i -e 'incorrect' -e 'bad cksum' "$work/os.dump" || true)"
check "--tcp-options os recorded in the metadata" \
	test "$(scan_meta "$work/os.json" .tcp_options)" = os

# the metadata is one JSON object built in memory: UTF-8 in the command line
# stays UTF-8 (one escaper), and no temporary is left beside -m or in /tmp
printf '# blocklist\n' >"$work/blöck-ü.txt"
before=$(find /tmp -maxdepth 1 -name 'mailcensus-meta-*' | wc -l)
"$MC_BIN" scan --dry-run "$work/syn2.pcap" -S 198.18.0.2 -G 02:00:00:00:00:01 -q \
	-p 143 -r 0 -b "$work/blöck-ü.txt" -m "$work/meta2.json" 198.18.1.0/30
check "metadata arguments keep UTF-8" python3 -c '
import json, sys
m = json.load(open(sys.argv[1], encoding="utf-8"))
sys.exit(0 if any(a.endswith("blöck-ü.txt") for a in m["arguments"]) and m["sent"] == 4 else 1)
' "$work/meta2.json"
check "no temporary beside -m" test "$(find "$work" -name 'meta2.json.tmp*' | wc -l)" -eq 0
check "no temporary in /tmp" test "$(find /tmp -maxdepth 1 -name 'mailcensus-meta-*' | wc -l)" -eq "$before"
exit $fail
