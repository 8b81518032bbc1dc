#!/usr/bin/env bash
# test_testnet_env — `scripts/testnet env` is quoted for eval: a copy of the
# scripts in a checkout path full of spaces and shell metacharacters prints
# exports that eval gives back as the exact paths, and no text of the path
# runs as a command. Needs no root and no test network (env only prints).
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
work_dir

# every character eval would misread in an unquoted value
# shellcheck disable=SC2016 # the $( ) and backquotes are data here
odd='a b$(touch ran)`touch ran2`;x&y|z<>*?[q]'\''"\~#%{}'
tree=$work/$odd
mkdir -p "$tree/scripts"
cp -r "$MC_SRCDIR/scripts/testnet" "$MC_SRCDIR/scripts/testnet.d" "$tree/scripts/" || die "cannot copy the scripts"
MC_TESTNET=envtest "$tree/scripts/testnet" env >"$work/env" 2>"$work/env.err" ||
	die "scripts/testnet env failed: $(cat "$work/env.err")"
check "env prints 18 export lines" test "$(grep -c '^export MC_[A-Z_]*=\|^export MAILCENSUS_SAFE_RANGE=' "$work/env")" -eq 18
(
	cd "$work" || exit 1
	unset MC_TESTNET_DIR MC_TRUTH MC_CA_CERT MC_NS_SCAN
	eval "$(cat "$work/env")" || exit 1
	printf '%s\n' "$MC_TESTNET_DIR" "$MC_TRUTH" "$MC_CA_CERT" "$MC_NS_SCAN" "$MAILCENSUS_SAFE_RANGE"
) >"$work/got" 2>"$work/eval.err"
check "eval of the env output succeeds" test ! -s "$work/eval.err"
printf '%s\n' "$tree/.testnet/envtest" "$tree/.testnet/envtest/truth.json" \
	"$tree/.testnet/envtest/certs/ca.pem" envtest-scan 198.18.0.0/15 >"$work/want"
check "eval gives back the exact values" cmp -s "$work/want" "$work/got"
check "no text of a value ran as a command" test ! -e "$work/ran" -a ! -e "$work/ran2"
check "nothing made beside the copied scripts" test ! -e "$tree/.testnet"
exit $fail
