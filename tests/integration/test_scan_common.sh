# shellcheck shell=bash
# test_scan_common.sh — sourced by the tests that run the SYN engine
# (test_scan_*.sh, test_census_*.sh) after lib.sh's checks, skips and work
# directory: the engine's helpers. Every scan runs inside the test network's
# scanner namespace, through net_af_packet on its veth, from the engine's
# own address (no kernel owns it, so no kernel RSTs our SYN-ACKs), with the
# safe-range guard set (lib.sh). Reads MC_TRUTH, MC_NS_SCAN, MC_SCAN_IF,
# MC_ENGINE_IP, MC_GW_IP (need_testnet); writes only the files it is named.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# the name tests used before lib.sh: need_testnet
scan_need_testnet() { need_testnet; }

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

same_lines() { # same_lines FILE_A FILE_B: identical, else show the difference
	if cmp -s "$1" "$2"; then
		return 0
	fi
	diff "$1" "$2" | head -20 >&2
	return 1
}
