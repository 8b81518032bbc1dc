#!/usr/bin/env bash
# test_demo_build — scripts/demo shows why its build failed. A copy of the
# demo runs in a scratch tree whose one C file does not compile (and whose
# setup-deps installs nothing): the demo must exit non-zero, print the
# compiler's error from its build log and stop before its next step.
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
need_root "scripts/demo runs only as root"
need_cmd meson ninja cc
work_dir

tree=$work/tree
mkdir -p "$tree/scripts"
cp "$MC_SRCDIR/scripts/demo" "$tree/scripts/demo"
printf '#!/bin/sh\necho "setup-deps: (stub) nothing to install"\n' >"$tree/scripts/setup-deps"
chmod +x "$tree/scripts/setup-deps"
printf "project('broken', 'c')\nexecutable('mailcensus', 'broken.c')\n" >"$tree/meson.build"
printf 'int main(void) { return demo_build_marker_undeclared; }\n' >"$tree/broken.c"

MC_TESTNET=demobuild "$tree/scripts/demo" >"$work/out" 2>&1
rc=$?
check "demo exits non-zero on a failed build (exit $rc)" test "$rc" -ne 0
check "demo prints the compiler's error" grep -q 'demo_build_marker_undeclared' "$work/out"
check "demo names its build log" grep -q 'build-release.log' "$work/out"
if grep -q '^== free geo' "$work/out"; then bad "demo went on after the failed build"; else ok "demo stops at the build"; fi
[ "$fail" = 0 ] || cat "$work/out"
exit $fail
