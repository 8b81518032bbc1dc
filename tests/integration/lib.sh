# shellcheck shell=bash
# shellcheck disable=SC2034 # fail is the tests' to read
# tests/integration/lib.sh — sourced first by every tests/integration/test_*.sh:
#
#   set -uo pipefail            (or -euo: each test keeps its own)
#   . "$(dirname "$0")/lib.sh"
#
# Reads MC_SRCDIR, MC_BUILDDIR, MC_BIN (meson test sets them; outside meson
# they default to this checkout and its build/), MC_TESTNET (need_testnet),
# MC_KEEP_WORK (work_dir).
# Sets MAILCENSUS_SAFE_RANGE (exported), fail=0, and, after work_dir, work.
# Writes below $MC_BUILDDIR/tmp/ (work_dir) and addresses on the server
# namespace's lo (srv_addr); both removed again at exit.
# docs/testing.md describes each helper.

export MAILCENSUS_SAFE_RANGE=198.18.0.0/15
MC_SRCDIR=${MC_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
MC_BUILDDIR=${MC_BUILDDIR:-$MC_SRCDIR/build}
MC_BIN=${MC_BIN:-$MC_BUILDDIR/mailcensus}
export MC_SRCDIR MC_BUILDDIR MC_BIN
t_name=$(basename "$0" .sh)

# --- messages, skips and checks ----------------------------------------------
say() { printf '%s: %s\n' "$t_name" "$*"; }
# skip REASON: the machine lacks something (meson counts exit 77 as a skip);
# after a FAIL line it fails instead, so that a skip cannot hide a failure
skip() {
	[ "$fail" = 0 ] || die "a check failed before the skip ($*)"
	say "SKIP: $*"
	exit 77
}
# die REASON: the test cannot go on (a set-up step failed)
die() {
	say "FAIL: $*"
	exit 1
}
# fail REASON: die's name in the tests written before lib.sh, kept so that a
# test merged from such a branch still stops (the variable fail is separate)
fail() { die "$@"; }
fail=0 # set to 1 by every FAIL line (bad, check); a test ends with exit $fail
ok() { echo "ok   $*"; }
bad() {
	echo "FAIL $*"
	fail=1
}
# check DESCRIPTION COMMAND...: one ok/FAIL line from COMMAND's exit status
check() {
	if "${@:2}"; then ok "$1"; else bad "$1"; fi
}
# check_jq NAME FILTER WANT FILE: `jq -c FILTER FILE` prints exactly WANT
check_jq() {
	local got
	got=$(jq -c "$2" "$4" 2>&1)
	if [ "$got" = "$3" ]; then ok "$1 = $3"; else bad "$1: got $got, want $3"; fi
}

# --- what a test needs ---------------------------------------------------------
# need_root WHAT: skip unless root (WHAT says what root is needed for)
need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root ($*)"
}
# need_cmd TOOL... : skip unless every TOOL is on PATH
need_cmd() {
	local t
	for t; do
		command -v "$t" >/dev/null || skip "$t not installed (scripts/setup-deps)"
	done
}
# need_testnet: skip unless the test network $MC_TESTNET (default mc) is up,
# then load its settings (MC_NS_SCAN, MC_TRUTH, ...: scripts/testnet env)
need_testnet() {
	"$MC_SRCDIR/scripts/testnet" status >/dev/null 2>&1 ||
		skip "test network '${MC_TESTNET:-mc}' is not up (scripts/testnet up)"
	eval "$("$MC_SRCDIR/scripts/testnet" env)"
}

# --- servers of a test, in the test network's server namespace ---------------
_t_srv_added=()
# srv_addr IP...: each IP/32 on the server namespace's lo (lo up); the ones
# this test added are removed again at exit
srv_addr() {
	local ip have
	ip netns exec "$MC_NS_SRV" ip link set lo up
	have=$(ip netns exec "$MC_NS_SRV" ip -4 addr show dev lo)
	for ip; do
		grep -qF " $ip/" <<<"$have" && continue
		ip netns exec "$MC_NS_SRV" ip addr add "$ip/32" dev lo || die "cannot add $ip to $MC_NS_SRV lo"
		_t_srv_added+=("$ip")
	done
}
# srv_listening IP PORT: something listens on TCP IP:PORT in the server
# namespace (IP of an IPv6 address in brackets). No pipe: grep -q would
# leave ss a SIGPIPE on the range's 4,096 listeners, a failure under pipefail.
srv_listening() {
	local l
	l=$(ip netns exec "$MC_NS_SRV" ss -Hltn "sport = :$2")
	grep -qF "$1:$2" <<<"$l"
}
# wait_for PID COMMAND...: COMMAND every 0.05 s for up to 5 s, while the
# process PID lives (PID -: no process to watch); COMMAND's last status
wait_for() {
	local pid=$1
	shift
	for _ in $(seq 100); do
		"$@" && return 0
		[ "$pid" = - ] || kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	"$@"
}

# --- work directory and clean-up -----------------------------------------------
_t_exit=()
# at_exit COMMAND: run COMMAND (one word, e.g. a function) at exit, the last
# registered first, before the work directory goes
at_exit() { _t_exit=("$1" "${_t_exit[@]}"); }
_t_on_exit() {
	local c
	for c in "${_t_exit[@]}"; do "$c" || true; done
	for c in "${_t_srv_added[@]}"; do
		ip netns exec "$MC_NS_SRV" ip addr del "$c/32" dev lo 2>/dev/null || true
	done
	if [ -n "${work:-}" ] && [ -n "${MC_KEEP_WORK:-}" ]; then
		say "work directory kept: $work"
	elif [ -n "${work:-}" ]; then
		rm -rf "$work"
	fi
}
trap _t_on_exit EXIT
# work_dir: a fresh directory $work under the build dir, removed at exit
# (kept, and named, when MC_KEEP_WORK is set)
work_dir() {
	mkdir -p "$MC_BUILDDIR/tmp"
	work=$(mktemp -d "$MC_BUILDDIR/tmp/$t_name.XXXXXX") || die "cannot make a work directory"
}
