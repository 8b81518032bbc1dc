#!/usr/bin/env bash
# Shards and manifest: verify passes on a fresh run (plain and zstd), fails on a
# flipped byte, a truncated shard and an unlisted shard; running out of disk on a
# 1 MiB tmpfs ends with a clear error, non-zero exit, and everything sealed
# before it (shards + manifest) still verifies.
set -u
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
GEN="$MC_BUILDDIR/output/mc-bench-output"
work_dir

# 1. fresh runs verify
"$GEN" --records 5000 --dir "$work/plain" --no-enrich --rotate-records 1200 >/dev/null || bad "generate plain"
"$MC_BIN" verify "$work/plain" >"$work/v1" && ok "verify fresh plain run" || { bad "verify fresh plain run"; cat "$work/v1"; }
n=$(find "$work/plain" -maxdepth 1 -name 'shard-*.ndjson' | wc -l)
[ "$n" = 5 ] && ok "5 shards by record count" || bad "expected 5 shards, got $n"
"$GEN" --records 5000 --dir "$work/zst" --no-enrich --compress --rotate-bytes 1000000 >/dev/null || bad "generate zstd"
"$MC_BIN" verify "$work/zst" >"$work/v2" && ok "verify fresh zstd run" || { bad "verify zstd run"; cat "$work/v2"; }
[ "$(zstd -dc "$work"/zst/shard-*.zst | wc -l)" = 5000 ] && ok "zstd shards decode with zstd(1)" || bad "zstd -dc line count"
(cd "$work/zst" && jq -r '.files[] | "\(.sha256)  \(.name)"' manifest.json | sha256sum -c --quiet) &&
	ok "manifest SHA-256 matches sha256sum" || bad "sha256sum -c"
[ "$(jq -s 'map(.records) | add' <(jq '.files[]' "$work/plain/manifest.json"))" = 5000 ] &&
	ok "manifest records add up" || bad "manifest records"

# 2. tampering is caught
cp -a "$work/plain" "$work/flip"
printf '\x01' | dd of="$work/flip/shard-00002.ndjson" bs=1 seek=777 conv=notrunc status=none
"$MC_BIN" verify "$work/flip" >"$work/v3"; rc=$?
[ $rc = 1 ] && grep -q 'shard-00002.ndjson: SHA-256' "$work/v3" && ok "flipped byte fails verify (rc=$rc)" ||
	{ bad "flipped byte: rc=$rc"; cat "$work/v3"; }
cp -a "$work/plain" "$work/trunc"
truncate -s -100 "$work/trunc/shard-00001.ndjson"
"$MC_BIN" verify "$work/trunc" >"$work/v4"; rc=$?
[ $rc = 1 ] && ok "truncated shard fails verify" || { bad "truncated shard rc=$rc"; cat "$work/v4"; }
cp -a "$work/plain" "$work/extra"
cp "$work/extra/shard-00000.ndjson" "$work/extra/shard-00009.ndjson"
"$MC_BIN" verify "$work/extra" >"$work/v5"; rc=$?
[ $rc = 1 ] && grep -q 'not listed' "$work/v5" && ok "unlisted shard fails verify" || { bad "unlisted rc=$rc"; cat "$work/v5"; }
"$MC_BIN" verify "$work/nonexistent" >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok "missing directory exits 2" || bad "missing directory rc=$rc"

# 3. out of disk on a 1 MiB tmpfs in a private mount namespace
need_root "the ENOSPC test mounts a tmpfs"
mkdir -p "$work/mnt"
unshare -m bash -c '
	set -u
	mount -t tmpfs -o size=1m mc-enospc "$1" || exit 3
	"$2" --records 100000 --dir "$1/res" --no-enrich --rotate-records 150 >"$4/enospc.out" 2>&1
	echo $? >"$4/enospc.rc"
	"$3" verify --partial "$1/res" >"$4/enospc.verify" 2>&1
	echo $? >"$4/enospc.vrc"
	jq -r ".complete, .error, (.files | length), .records" "$1/res/manifest.json" >"$4/enospc.manifest" 2>&1
	ls "$1/res" >"$4/enospc.ls"
' _ "$work/mnt" "$GEN" "$MC_BIN" "$work" 2>&1 || true
rc=$(cat "$work/enospc.rc" 2>/dev/null); vrc=$(cat "$work/enospc.vrc" 2>/dev/null)
echo "ENOSPC run (exit $rc): $(tail -1 "$work/enospc.out" 2>/dev/null)"
echo "verify after ENOSPC (exit $vrc): $(tail -1 "$work/enospc.verify" 2>/dev/null)"
[ "$rc" = 1 ] && ok "out of disk exits 1" || bad "out of disk exit status $rc"
grep -q 'No space left on device' "$work/enospc.out" && ok "clear ENOSPC message" || bad "no ENOSPC message"
[ "$vrc" = 0 ] && ok "completed shards + manifest verify after ENOSPC" || { bad "verify after ENOSPC"; cat "$work/enospc.verify"; }
mapfile -t m <"$work/enospc.manifest"
[ "${m[0]}" = false ] && [ "${m[2]:-0}" -ge 1 ] && ok "manifest says incomplete, lists ${m[2]} shards, ${m[3]} records" ||
	{ bad "manifest after ENOSPC: ${m[*]}"; }
! grep -q '\.tmp$' "$work/enospc.ls" && ok "no temporary files left" || bad "temporary files left: $(cat "$work/enospc.ls")"
exit $fail
