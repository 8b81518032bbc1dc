#!/usr/bin/env bash
# test_scan_errors.sh — every command-line mistake is one line on stderr,
# exit status 2, and no output file (not even a .tmp) left behind. Needs no
# network: the runs that get as far as DPDK use --dry-run or no device at
# all, so nothing could be sent even if a check were missing.
set -euo pipefail
# shellcheck source=tests/integration/test_scan_common.sh
. "$(dirname "$0")/test_scan_common.sh"
work_dir
mkdir "$work/run"
cd "$work/run"

# expect_error NAME PATTERN ARGS...: exit 2, one stderr line matching PATTERN, no files
expect_error() {
	local name=$1 pattern=$2 rc=0
	shift 2
	"$MC_BIN" scan -o out.csv -m meta.json "$@" >stdout 2>stderr || rc=$?
	check "$name: exit 2 (got $rc)" test "$rc" -eq 2
	check "$name: one line naming the problem" \
		test "$(wc -l <stderr)" -eq 1 -a -n "$(grep -E -- "$pattern" stderr || true)"
	check "$name: nothing written" test -z "$(find . -mindepth 1 -maxdepth 1 ! -name stdout ! -name stderr)"
	[ "$rc" -eq 2 ] && [ "$(wc -l <stderr)" -eq 1 ] || cat stderr
	rm -f stdout stderr
}

src=(-S 198.18.0.2 -G 02:00:00:00:00:01)
expect_error "bad CIDR" "bad CIDR" "${src[@]}" 198.18.1.0/40
printf '198.18.1.0/24\n198.18.300.0/24\n' >"$work/allow.txt"
expect_error "bad CIDR in allowlist file" "allow.txt:2" "${src[@]}" -w "$work/allow.txt"
expect_error "no targets" "0\.0\.0\.0/0" "${src[@]}"
expect_error "outside the safe range" "outside MAILCENSUS_SAFE_RANGE" "${src[@]}" \
	192.0.2.0/24 8.8.8.0/24
expect_error "-r and -B overlap" "overlap" "${src[@]}" -r 100 -B 1M 198.18.1.10
expect_error "-G and --gateway-ip overlap" "overlap" "${src[@]}" --gateway-ip 198.18.0.254 \
	198.18.1.10
expect_error "shards without seed" "--seed" "${src[@]}" --shards 3 --shard 1 198.18.1.10
expect_error "shard out of range" "--shard 3" "${src[@]}" --seed 1 --shards 3 --shard 3 \
	198.18.1.10
expect_error "no source address" "-S" -G 02:00:00:00:00:01 198.18.1.10
expect_error "unknown option" "unknown option" "${src[@]}" --frobnicate 198.18.1.10
expect_error "bad port list" "port" "${src[@]}" -p 110,99999 198.18.1.10
expect_error "unknown interface" "unknown interface" "${src[@]}" --iface mc-no-such-if0 \
	198.18.1.10
expect_error "af_packet in the root namespace" "named network namespace" "${src[@]}" \
	--iface lo -n 1 198.18.1.10
expect_error "af_packet after -- in the root namespace" "named network namespace" "${src[@]}" \
	-n 1 198.18.1.10 -- --vdev=net_af_packet0,iface=lo
expect_error "a PCI device while the safe range is set" "no PCI device" "${src[@]}" \
	-n 1 198.18.1.10 -- -a 0000:00:03.0
expect_error "no usable DPDK port" "no usable DPDK port" "${src[@]}" 198.18.1.10
expect_error "EAL failure" "EAL" "${src[@]}" 198.18.1.10 -- --no-such-eal-option
check "no EAL runtime directory left behind" \
	test -z "$(ls -d /var/run/dpdk/mc$$* 2>/dev/null || true)"
exit $fail
