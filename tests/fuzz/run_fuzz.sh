#!/usr/bin/env bash
# run_fuzz.sh HARNESS SEED_CORPUS [DICT] — one short libFuzzer run, as CI does.
#
# Runs HARNESS for FUZZ_SECONDS (default 15) starting from SEED_CORPUS (read
# only: new inputs go to a scratch directory). Passes when the run ends
# without a crash; on a crash, leak, timeout or out-of-memory it fails and
# prints the tail of libFuzzer's log, the reproducer's path, its bytes (hex)
# and the command that replays it. Crash files are kept under
# $FUZZ_ARTIFACTS (default: artifacts/ beside the harness).
set -uo pipefail

exe=${1:?harness}
corpus=${2:?seed corpus}
dict=${3:-}
secs=${FUZZ_SECONDS:-15}
name=$(basename "$exe")
art=${FUZZ_ARTIFACTS:-$(dirname "$exe")/artifacts}/$name
work=$(mktemp -d "${TMPDIR:-/tmp}/$name.XXXXXX")
log=$work.log
trap 'rm -rf "$work" "$log"' EXIT

if [ ! -d "$corpus" ] || [ -z "$(ls -A "$corpus")" ]; then
	echo "$name: seed corpus $corpus is missing or empty"
	exit 1
fi
mkdir -p "$art"
# our own sanitizer settings (run-tests exports detect_leaks=0 for the CLI
# tests; a harness must not leak)
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536
	-print_final_stats=1 -artifact_prefix="$art/")
[ -n "$dict" ] && args+=(-dict="$dict")
start=$(date +%s)
"$exe" "${args[@]}" "$work" "$corpus" >"$log" 2>&1
rc=$?
if [ "$rc" -eq 0 ]; then
	echo "$name: ok after $(($(date +%s) - start)) s; $(grep -h 'stat::number_of_executed_units' "$log" | tr -s ' ')"
	exit 0
fi
echo "$name: FAILED (libFuzzer exit $rc); log tail:"
tail -60 "$log"
repro=$(grep -ho "Test unit written to [^ ]*" "$log" | tail -1 | sed 's/Test unit written to //')
if [ -n "$repro" ] && [ -f "$repro" ]; then
	echo "reproducer: $repro ($(stat -c %s "$repro") bytes):"
	od -An -tx1 -v "$repro" | head -64
	echo "replay: $exe $repro"
fi
exit 1
