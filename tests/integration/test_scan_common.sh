# shellcheck shell=bash
# test_scan_common.sh — sourced by the test_scan_*.sh integration tests.
# Every scan runs inside the test network's scanner namespace, through
# net_af_packet on its veth, from the engine's own address (no kernel owns
# it, so no kernel RSTs our SYN-ACKs), with the safe-range guard set.
export MAILCENSUS_SAFE_RANGE=198.18.0.0/15
: "${MC_SRCDIR:?run through meson test}" "${MC_BIN:?run through meson test}"

# Load the default test network's settings; it must already be up.
scan_need_testnet() {
	local env
	if ! env=$("$MC_SRCDIR/scripts/testnet" env 2>/dev/null) || [ -z "$env" ]; then
		echo "SKIP: the test network is not up (scripts/testnet up)" >&2
		exit 77
	fi
	eval "$env"
	if ! ip netns exec "$MC_NS_SCAN" true 2>/dev/null; then
		echo "SKIP: namespace $MC_NS_SCAN does not exist (scripts/testnet up)" >&2
		exit 77
	fi
}

# Ground-truth files in DIR: targets (every address/range of the truth, for
# -w), open, closed, silent (IP:PORT lines, sort -V).
scan_truth_files() {
	jq -r '.hosts[].ip, .ranges[].cidr' "$MC_TRUTH" >"$1/targets"
	local kind
	for kind in open closed silent; do
		"$MC_SRCDIR/scripts/testnet" "truth-$kind" | sort -V >"$1/$kind"
	done
}

# mailcensus scan inside the scanner namespace on its veth.
scan_run() {
	ip netns exec "$MC_NS_SCAN" "$MC_BIN" scan --iface "$MC_SCAN_IF" -S "$MC_ENGINE_IP" \
		--gateway-ip "$MC_GW_IP" -q "$@"
}

# Responders of a CSV output file as sorted IP:PORT lines.
scan_pairs() {
	tail -n +2 "$1" | cut -d, -f1,2 | tr , : | sort -V
}

# A number from a metadata file: scan_meta FILE '.rsts'
scan_meta() {
	jq -r "$2" "$1"
}

fail=0 # read by each test's last line: exit $fail
export fail
check() { # check DESCRIPTION COMMAND...
	if "${@:2}"; then
		echo "ok   $1"
	else
		echo "FAIL $1"
		fail=1
	fi
}

same_lines() { # same_lines FILE_A FILE_B: identical, else show the difference
	if cmp -s "$1" "$2"; then
		return 0
	fi
	diff "$1" "$2" | head -20 >&2
	return 1
}
