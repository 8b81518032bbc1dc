#!/usr/bin/env bash
# test_testnet_env — the `env` commands of the test beds (scripts/testnet,
# scripts/densenet, scripts/slurm-local) print exports quoted for eval: run
# from a copy of the scripts in a checkout path full of spaces and shell
# metacharacters, eval gives back the exact paths and no text of the path
# runs as a command. Needs no root and no network (env only prints; the
# dense bed's "up" marker is faked in the copy).
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
work_dir

# every character eval would misread in an unquoted value
# shellcheck disable=SC2016 # the $( ) and backquotes are data here
odd='a b$(touch ran)`touch ran2`;x&y|z<>*?[q]'\''"\~#%{}'
tree=$work/$odd
mkdir -p "$tree/scripts" "$tree/.densenet/envtest"
cp -r "$MC_SRCDIR/scripts/testnet" "$MC_SRCDIR/scripts/testnet.d" "$MC_SRCDIR/scripts/densenet" \
	"$MC_SRCDIR/scripts/slurm-local" "$tree/scripts/" || die "cannot copy the scripts"
touch "$tree/.densenet/envtest/up.done"
echo 198.19.0.0/22 >"$tree/.densenet/envtest/cidr"

# roundtrip NAME ENV-COMMAND... -- VAR WANT [VAR WANT...]: eval the command's
# output in a subshell in $work; every VAR must come back as WANT
roundtrip() {
	local name=$1 out=$work/$1.env
	shift
	local cmd=()
	while [ "$1" != -- ]; do
		cmd+=("$1")
		shift
	done
	shift
	"${cmd[@]}" >"$out" 2>"$out.err" || {
		bad "$name env failed: $(cat "$out.err")"
		return
	}
	local got want
	while [ $# -gt 0 ]; do
		want=$2
		got=$(cd "$work" && unset "$1" && eval "$(cat "$out")" 2>&1 && printf '%s' "${!1}")
		check "$name env: eval gives back $1" test "$got" = "$want"
		shift 2
	done
}
roundtrip testnet env MC_TESTNET=envtest "$tree/scripts/testnet" env -- \
	MC_TESTNET_DIR "$tree/.testnet/envtest" MC_TRUTH "$tree/.testnet/envtest/truth.json" \
	MC_CA_CERT "$tree/.testnet/envtest/certs/ca.pem" MC_NS_SCAN envtest-scan \
	MAILCENSUS_SAFE_RANGE 198.18.0.0/15
check "testnet env prints 18 export lines" test "$(grep -c '^export [A-Z_]*=' "$work/testnet.env")" -eq 18
roundtrip densenet env MC_DENSENET=envtest "$tree/scripts/densenet" env -- \
	MC_DENSE_DIR "$tree/.densenet/envtest" MC_CA_CERT "$tree/.densenet/envtest/certs/ca.pem" \
	MC_DENSE_CIDR 198.19.0.0/22
roundtrip slurm-local env -u MC_SLURM_DIR "$tree/scripts/slurm-local" env -- \
	SLURM_CONF "$tree/.slurm/slurm.conf"
check "no text of a value ran as a command" test ! -e "$work/ran" -a ! -e "$work/ran2"
check "nothing made beside the copied scripts" test ! -e "$tree/.testnet" -a ! -e "$tree/.slurm"
exit $fail
