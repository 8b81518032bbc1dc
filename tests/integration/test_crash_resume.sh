#!/usr/bin/env bash
# Crash safety and resume (issue 12), on the test network:
#   - kill -9 a grab run at random moments (seeds printed; replay with
#     MC_CRASH_SEEDS="s1 s2 ..."), each time also killing its first resume,
#     then resume to the end: the records equal an uninterrupted run's (same
#     services, same fields apart from times), no duplicate, verify passes,
#     the manifest says complete; after each kill `verify --partial` passes
#     and plain `verify` says incomplete (exit 3);
#   - a census (scan --grab) killed at a random moment and resumed: no
#     duplicate, same services as an uninterrupted census;
#   - a second process on a directory being written is refused (flock);
#   - SIGTERM and SIGHUP: exit 1, manifest interrupted by that signal,
#     report's first line says so;
#   - ENOSPC on a small tmpfs (private mount namespace), for a grab and for
#     a census: a clear error, sealed shards verify, and after the tmpfs
#     grows, resume completes;
#     an unwritable (read-only) directory is refused before any connection;
#   - a fresh run into a used directory (also one holding only leftovers)
#     is refused with exit 2 naming resume; leftovers that are symlinks are
#     removed, never followed;
#   - unsafe files: a symlinked manifest, a FIFO / /dev/urandom listed as a
#     shard, a path-like name, a manifest that is not an object, an
#     oversized manifest: verify and report refuse them, without hanging;
#   - target files: a 20,000-byte comment line is one line; a NUL byte is
#     an error naming its line.
set -uo pipefail
: "${MC_BIN:?}" "${MC_SRCDIR:?}" "${MC_BUILDDIR:?}"
export MAILCENSUS_SAFE_RANGE=198.18.0.0/15
cd "$MC_SRCDIR" || exit 1
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces, tmpfs)"; exit 77; }
scripts/testnet status >/dev/null 2>&1 || { echo "test network ${MC_TESTNET:-mc} is not up (scripts/testnet up)"; exit 77; }
eval "$(scripts/testnet env)"
work=$(mktemp -d /tmp/mc-crash-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
t0=$(date +%s.%N)

# One grab over the named hosts and 198.18.16.0-63 (4 ports each): 288
# targets; --rate 150 stretches it over ~2 s so that kills land in every
# phase (before the directory exists, while targets start, during a seal,
# in the tail of slow TLS matrices).
jq -r '.hosts[].ip' "$MC_TRUTH" >"$work/ips"
for i in $(seq 0 63); do echo "198.18.16.$i"; done >>"$work/ips"
while read -r ip; do for p in 110 143 993 995; do echo "$ip:$p"; done; done <"$work/ips" >"$work/targets"
GRAB=(grab -q --no-enrich --ca-file "$MC_CA_CERT" --connect-timeout 2 --read-timeout 3 --timeout 20
	--rate 150 --seal-every 1 --shard-records 40)
mc() { ip netns exec "$MC_NS_SCAN" "$MC_BIN" "$@"; }
state() { jq -r '[.state, (.signal // "-"), .records] | join(" ")' "$1/manifest.json" 2>/dev/null; }

mc "${GRAB[@]}" -o "$work/base" "$work/targets"
rc=$?
[ $rc = 0 ] && [ "$(state "$work/base")" = "complete - 288" ] && ok "uninterrupted run: 288 records, complete" ||
	bad "uninterrupted run: exit $rc, $(state "$work/base")"

# --- kill -9 at random moments, resume --------------------------------------
# kill_at SECONDS CMD...: start CMD in the scanner namespace, kill -9 it
# after SECONDS (ip netns exec execs: $! is mailcensus itself)
kill_at() {
	local secs=$1
	shift
	ip netns exec "$MC_NS_SCAN" "$MC_BIN" "$@" >>"$work/kill.log" 2>&1 &
	local pid=$!
	sleep "$secs"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}
seeds=${MC_CRASH_SEEDS:-"$RANDOM $RANDOM $RANDOM $RANDOM"}
echo "kill seeds: $seeds (replay: MC_CRASH_SEEDS=\"$seeds\")"
for seed in $seeds; do
	read -r k1 k2 < <(awk -v s="$seed" 'BEGIN { srand(s); printf "%.2f %.2f\n", 0.02 + rand() * 2.2, 0.05 + rand() * 1.5 }')
	d=$work/kill-$seed
	kill_at "$k1" "${GRAB[@]}" -o "$d" "$work/targets"
	st1=$(state "$d")
	mc verify "$d" >"$d.v1" 2>&1
	vrc=$?
	mc verify --partial "$d" >"$d.v2" 2>&1
	prc=$?
	if [ -f "$d/manifest.json" ]; then
		{ [ "${st1%% *}" = running ] || [ "${st1%% *}" = complete ]; } &&
			{ [ $vrc = 3 ] || { [ $vrc = 0 ] && [ "${st1%% *}" = complete ]; }; } && [ $prc = 0 ] &&
			ok "seed $seed: killed at ${k1}s: manifest '$st1', verify exit $vrc, --partial exit $prc" ||
			{ bad "seed $seed: after kill at ${k1}s: manifest '$st1', verify $vrc, --partial $prc"; cat "$d.v1"; }
	else
		ok "seed $seed: killed at ${k1}s before the first manifest ($(ls "$d" 2>/dev/null | wc -l) files)"
	fi
	how="killed again ${k2}s into the resume; resumed"
	if [ -f "$d/manifest.json" ]; then
		kill_at "$k2" resume "$d"
		mc resume "$d" >"$d.resume" 2>&1
		rrc=$?
	else # nothing recorded: resume clears any leftover, the run starts again
		[ -d "$d" ] && mc resume "$d" >/dev/null 2>&1
		how="started again"
		mc "${GRAB[@]}" -o "$d" "$work/targets" >"$d.resume" 2>&1
		rrc=$?
	fi
	mc verify "$d" >"$d.v3" 2>&1
	vrc=$?
	python3 tests/integration/compare_runs.py "$work/base" "$d" >"$d.cmp" 2>&1
	crc=$?
	[ $rrc = 0 ] && [ $vrc = 0 ] && [ $crc = 0 ] && [ "$(state "$d")" = "complete - 288" ] &&
		ok "seed $seed: $how: $(tail -1 "$d.cmp"), verify OK, complete" ||
		{ bad "seed $seed: resume exit $rrc, verify $vrc, manifest '$(state "$d")'"; cat "$d.resume" "$d.v3" "$d.cmp"; }
done

# --- a census killed and resumed ---------------------------------------------
printf '198.18.16.0/26\n198.18.1.0/27\n' >"$work/allow"
SCAN=(scan --iface "$MC_SCAN_IF" -S "$MC_ENGINE_IP" --gateway-ip "$MC_GW_IP" -q -w "$work/allow"
	-p '110,143,993,995' -r 2000 -c 2 --grab --ca-file "$MC_CA_CERT" --grab-concurrency 16
	--grab-connect-timeout 2 --grab-read-timeout 3 --grab-timeout 20 --seal-every 1 --shard-records 40 --no-tls-matrix)
mc "${SCAN[@]}" -O "$work/cbase" 2>"$work/cbase.err"
# a moment in sending, cooldown or the grab tail, from the first seed
kc=$(awk -v s="${seeds%% *}" 'BEGIN { srand(s + 1); printf "%.2f\n", 0.3 + rand() * 2.5 }')
kill_at "$kc" "${SCAN[@]}" -O "$work/census"
st=$(state "$work/census")
cp -a "$work/census" "$work/census2"
mc resume "$work/census" >"$work/census.resume" 2>&1
rrc=$?
python3 tests/integration/compare_runs.py "$work/cbase" "$work/census" >"$work/census.cmp" 2>&1
crc=$?
[ $rrc = 0 ] && [ $crc = 0 ] && [ "$(state "$work/census" | cut -d' ' -f1)" = complete ] && mc verify "$work/census" >/dev/null &&
	ok "census killed at ${kc}s ('$st'), resumed: $(tail -1 "$work/census.cmp"), verify OK" ||
	{ bad "census resume: exit $rrc, '$(state "$work/census")'"; cat "$work/census.resume" "$work/census.cmp"; }
if [ "${st%% *}" = running ]; then # the killed session's hit log is kept beside the new one
	[ -f "$work/census/hits.log.1" ] && [ -f "$work/census/hits.log" ] &&
		ok "census resume kept the killed session's hit log (hits.log.1) and wrote a new one" ||
		bad "census hit logs: $(ls "$work/census")"
fi
if [ "${st%% *}" = running ]; then # a changed allowlist would change the target set
	echo 198.18.2.0/30 >>"$work/allow"
	mc resume "$work/census2" >"$work/census2.out" 2>&1
	[ $? = 2 ] && grep -q 'allow changed since the run started' "$work/census2.out" &&
		ok "census resume refuses a changed allowlist" || bad "changed allowlist: $(cat "$work/census2.out")"
fi
mc resume "$work/census" >"$work/census.again" 2>&1
[ $? = 0 ] && grep -q 'nothing to resume' "$work/census.again" && ok "resume of a complete run: nothing to resume, exit 0" ||
	bad "resume of a complete run: $(cat "$work/census.again")"

# --- SIGTERM, SIGHUP ---------------------------------------------------------
for sig in TERM HUP; do
	d=$work/sig-$sig
	ip netns exec "$MC_NS_SCAN" "$MC_BIN" "${GRAB[@]}" -o "$d" "$work/targets" &
	pid=$! # ip netns exec execs: this is mailcensus
	sleep 0.4
	if [ $sig = TERM ]; then # one writer per directory
		mc resume "$d" >"$work/busy" 2>&1
		[ $? = 2 ] && grep -q 'another mailcensus process' "$work/busy" &&
			ok "resume of a directory being written: refused ($(head -c 110 "$work/busy"))" ||
			bad "resume while running: $(cat "$work/busy")"
	fi
	sleep 0.3
	kill -s "$sig" "$pid"
	wait "$pid"
	rc=$?
	mc verify "$d" >/dev/null 2>&1
	vrc=$?
	first=$("$MC_BIN" report "$d" | head -1)
	[ $rc = 1 ] && [ "$(state "$d" | cut -d' ' -f1,2)" = "interrupted SIG$sig" ] && [ $vrc = 3 ] &&
		grep -q "interrupted by SIG$sig" <<<"$first" &&
		ok "SIG$sig: exit 1, manifest '$(state "$d")', verify exit 3, report: $first" ||
		bad "SIG$sig: exit $rc, manifest '$(state "$d")', verify $vrc, report: $first"
done
mc resume "$work/sig-TERM" -w 2 >/dev/null 2>&1 && python3 tests/integration/compare_runs.py "$work/base" "$work/sig-TERM" >"$work/sig.cmp" &&
	ok "resume after SIGTERM (with -w 2): $(tail -1 "$work/sig.cmp")" || { bad "resume after SIGTERM"; cat "$work/sig.cmp"; }
mc resume "$work/sig-HUP" --port 143=pop3 >"$work/refuse" 2>&1
[ $? = 2 ] && grep -q 'would change the target set' "$work/refuse" && ok "resume refuses --port: $(head -c 100 "$work/refuse")" ||
	bad "resume --port: $(cat "$work/refuse")"
cp "$work/targets" "$work/targets.orig"
echo "198.18.1.20:110" >>"$work/targets"
mc resume "$work/sig-HUP" >"$work/refuse" 2>&1
[ $? = 2 ] && grep -q 'targets file .* changed' "$work/refuse" && ok "resume refuses a changed targets file" ||
	bad "changed targets file: $(cat "$work/refuse")"
cp "$work/targets.orig" "$work/targets"

# --- a used directory, leftovers, symlinked leftovers ------------------------
mc "${GRAB[@]}" -o "$work/base" "$work/targets" >"$work/used" 2>&1
[ $? = 2 ] && grep -q 'mailcensus resume' "$work/used" && ok "a used directory is refused (exit 2, names resume)" ||
	bad "used directory: $(cat "$work/used")"
mkdir "$work/left" && : >"$work/left/shard-00000.ndjson.tmp"
mc "${GRAB[@]}" -o "$work/left" "$work/targets" >"$work/used" 2>&1
[ $? = 2 ] && grep -q 'resume' "$work/used" && [ "$(ls "$work/left")" = shard-00000.ndjson.tmp ] &&
	ok "a directory with only leftovers is refused, untouched" || bad "leftovers only: $(cat "$work/used")"
mc resume "$work/left" >"$work/left.out" 2>&1
rc=$?
mc "${GRAB[@]}" -o "$work/left" "$work/targets"
[ $rc = 1 ] && grep -q 'leftover file removed' "$work/left.out" && [ "$(state "$work/left")" = "complete - 288" ] &&
	ok "resume clears a manifest-less directory's leftovers; the run then starts: $(head -c 150 "$work/left.out")" ||
	bad "leftovers: resume exit $rc ($(cat "$work/left.out")), then '$(state "$work/left")'"
cp -a "$work/sig-HUP" "$work/planted"
echo "victim" >"$work/victim"
ln -s "$work/victim" "$work/planted/manifest.json.tmp.4242.0"
ln -s "$work/victim" "$work/planted/shard-00099.ndjson.tmp"
mc resume "$work/planted" >"$work/planted.out" 2>&1
rc=$?
[ $rc = 0 ] && [ "$(cat "$work/victim")" = victim ] && [ ! -L "$work/planted/manifest.json.tmp.4242.0" ] &&
	ok "symlinked leftovers removed, not followed; resume completes" || bad "planted symlinks: exit $rc, victim '$(cat "$work/victim")'"

# --- ENOSPC and a read-only directory in a private mount namespace ----------
mkdir -p "$work/mnt"
unshare -m bash -c '
	set -u
	mnt=$1 bin=$2 ns=$3 out=$4; shift 4
	mount -t tmpfs -o size=384k mc-enospc "$mnt" || exit 3
	ip netns exec "$ns" "$bin" "$@" -o "$mnt/res" >"$out/enospc.out" 2>&1
	echo $? >"$out/enospc.rc"
	"$bin" verify --partial "$mnt/res" >"$out/enospc.verify" 2>&1
	echo $? >"$out/enospc.vrc"
	cp "$mnt/res/manifest.json" "$out/enospc.manifest"
	ls "$mnt/res" >"$out/enospc.ls"
	mount -o remount,size=8m "$mnt"
	ip netns exec "$ns" "$bin" resume "$mnt/res" >"$out/enospc.resume" 2>&1
	echo $? >"$out/enospc.rrc"
	cp -a "$mnt/res" "$out/enospc-res"
	mkdir "$mnt/ro" && mount -o remount,ro "$mnt"
	ip netns exec "$ns" "$bin" "$@" -o "$mnt/ro" >"$out/ro.out" 2>&1
	echo $? >"$out/ro.rc"
' _ "$work/mnt" "$MC_BIN" "$MC_NS_SCAN" "$work" "${GRAB[@]}" "$work/targets"
rc=$(cat "$work/enospc.rc" 2>/dev/null)
echo "ENOSPC run (exit $rc): $(grep -m1 'No space' "$work/enospc.out")"
[ "$rc" = 1 ] && grep -q 'No space left on device' "$work/enospc.out" && ok "ENOSPC: exit 1, clear message" ||
	{ bad "ENOSPC: exit $rc"; cat "$work/enospc.out"; }
[ "$(cat "$work/enospc.vrc")" = 0 ] && [ "$(jq -r .state "$work/enospc.manifest")" = failed ] &&
	ok "ENOSPC: sealed shards verify, manifest failed ($(jq -r .records "$work/enospc.manifest") records listed)" ||
	{ bad "ENOSPC: verify/manifest"; cat "$work/enospc.verify"; }
! grep -q '\.tmp$' "$work/enospc.ls" && ok "ENOSPC: no temporary files left" || bad "temporary files: $(cat "$work/enospc.ls")"
python3 tests/integration/compare_runs.py "$work/base" "$work/enospc-res" >"$work/enospc.cmp" 2>&1
crc=$?
[ "$(cat "$work/enospc.rrc")" = 0 ] && [ $crc = 0 ] && [ "$(state "$work/enospc-res" | cut -d' ' -f1)" = complete ] &&
	ok "ENOSPC: after the tmpfs grew, resume completes: $(tail -1 "$work/enospc.cmp")" ||
	{ bad "resume after ENOSPC: exit $(cat "$work/enospc.rrc")"; cat "$work/enospc.resume" "$work/enospc.cmp"; }
[ "$(cat "$work/ro.rc")" = 2 ] && grep -q 'Read-only file system' "$work/ro.out" &&
	ok "a read-only directory is refused up front: $(head -c 120 "$work/ro.out")" || bad "read-only: exit $(cat "$work/ro.rc"): $(cat "$work/ro.out")"

# --- a census on a full disk ----------------------------------------------------
# The same census (fixed seed, no enrichment) into a 320 KiB tmpfs: the hit
# log, the shards or the checkpoint meet ENOSPC; the run stops with a clear
# error, its sealed shards verify, the manifest says failed; after the tmpfs
# grows, resume (from the engine checkpoint and the hit log) completes it
# with the records of an uninterrupted census.
CSCAN=(scan --iface "$MC_SCAN_IF" -S "$MC_ENGINE_IP" --gateway-ip "$MC_GW_IP" -q -w "$work/allow"
	-p '110,143,993,995' -r 2000 -c 2 --seed 5 --grab --ca-file "$MC_CA_CERT" --no-enrich
	--grab-concurrency 16 --grab-connect-timeout 2 --grab-read-timeout 3 --grab-timeout 20
	--seal-every 1 --shard-records 20 --no-tls-matrix)
cp "$work/allow" "$work/allow.now" && printf '198.18.16.0/26\n198.18.1.0/27\n' >"$work/allow"
mc "${CSCAN[@]}" -O "$work/cfull-base" 2>"$work/cfull-base.err"
mkdir -p "$work/cmnt"
unshare -m bash -c '
	set -u
	mnt=$1 bin=$2 ns=$3 out=$4; shift 4
	mount -t tmpfs -o size=320k mc-cenospc "$mnt" || exit 3
	ip netns exec "$ns" "$bin" "$@" -O "$mnt/res" >"$out/cenospc.out" 2>&1
	echo $? >"$out/cenospc.rc"
	"$bin" verify --partial "$mnt/res" >"$out/cenospc.verify" 2>&1
	echo $? >"$out/cenospc.vrc"
	cp "$mnt/res/manifest.json" "$out/cenospc.manifest"
	mount -o remount,size=8m "$mnt"
	ip netns exec "$ns" "$bin" resume "$mnt/res" >"$out/cenospc.resume" 2>&1
	echo $? >"$out/cenospc.rrc"
	cp -a "$mnt/res" "$out/cenospc-res"
' _ "$work/cmnt" "$MC_BIN" "$MC_NS_SCAN" "$work" "${CSCAN[@]}"
rc=$(cat "$work/cenospc.rc" 2>/dev/null)
[ "$rc" = 1 ] && grep -q 'No space left on device' "$work/cenospc.out" &&
	[ "$(cat "$work/cenospc.vrc")" = 0 ] && [ "$(jq -r .state "$work/cenospc.manifest")" = failed ] &&
	ok "census ENOSPC: exit 1, $(grep -m1 'No space' "$work/cenospc.out" | cut -c1-110); sealed shards verify, manifest failed" ||
	{ bad "census ENOSPC: exit $rc, verify $(cat "$work/cenospc.vrc" 2>/dev/null)"; cat "$work/cenospc.out"; }
python3 tests/integration/compare_runs.py "$work/cfull-base" "$work/cenospc-res" >"$work/cenospc.cmp" 2>&1
crc=$?
[ "$(cat "$work/cenospc.rrc")" = 0 ] && [ $crc = 0 ] && [ "$(state "$work/cenospc-res" | cut -d' ' -f1)" = complete ] &&
	ok "census ENOSPC: after the tmpfs grew, resume completes: $(tail -1 "$work/cenospc.cmp")" ||
	{ bad "census resume after ENOSPC: exit $(cat "$work/cenospc.rrc")"; cat "$work/cenospc.resume" "$work/cenospc.cmp"; }
cp "$work/allow.now" "$work/allow"

# --- unsafe files --------------------------------------------------------------
GEN="$MC_BUILDDIR/output/mc-bench-output"
"$GEN" --records 60 --dir "$work/u" --no-enrich --rotate-records 20 >/dev/null || bad "generate"
refused() { # NAME DIR: verify exits 1 or 2 and report exits 1, both within 10 s
	timeout 10 "$MC_BIN" verify "$2" >"$work/u.v" 2>&1
	local vrc=$?
	timeout 10 "$MC_BIN" report "$2" >"$work/u.r" 2>&1
	local rrc=$?
	{ [ $vrc = 1 ] || [ $vrc = 2 ]; } && [ $rrc = 1 ] && ok "$1: verify exit $vrc, report refuses: $(tail -1 "$work/u.r")" ||
		{ bad "$1: verify $vrc, report $rrc"; tail -3 "$work/u.v" "$work/u.r"; }
}
cp -a "$work/u" "$work/u1" && mv "$work/u1/manifest.json" "$work/u1-manifest" && ln -s "$work/u1-manifest" "$work/u1/manifest.json"
refused "symlinked manifest" "$work/u1"
cp -a "$work/u" "$work/u2" && rm "$work/u2/shard-00001.ndjson" && mkfifo "$work/u2/shard-00001.ndjson"
refused "a FIFO listed as a shard" "$work/u2"
cp -a "$work/u" "$work/u3" && rm "$work/u3/shard-00001.ndjson" && ln -s /dev/urandom "$work/u3/shard-00001.ndjson"
refused "/dev/urandom (symlink) listed as a shard" "$work/u3"
cp -a "$work/u" "$work/u4" && jq '.files[0].name = "../u/shard-00000.ndjson"' "$work/u/manifest.json" >"$work/u4/manifest.json"
refused "a path-like shard name" "$work/u4"
cp -a "$work/u" "$work/u5" && echo '[1,2]' >"$work/u5/manifest.json"
refused "a manifest that is not an object" "$work/u5"
cp -a "$work/u" "$work/u6" && head -c $((17 << 20)) /dev/zero | tr '\0' ' ' >>"$work/u6/manifest.json"
refused "a manifest over 16 MiB" "$work/u6"

# --- target files --------------------------------------------------------------
{ printf '# %s\n' "$(head -c 20000 /dev/zero | tr '\0' x)"; echo "198.18.1.20:143"; echo "198.18.1.20:110"; } >"$work/long"
mc grab -q --no-enrich -o "$work/longres" "$work/long"
rc=$?
n=$(cat "$work"/longres/shard-* 2>/dev/null | wc -l)
[ $rc = 0 ] && [ "$n" = 2 ] && ok "a 20,000-byte comment line is one line: 2 records" || bad "long line: exit $rc, $n records"
printf '198.18.1.20:143\n198.18.1.20:110\n198.18.1.20:9\0x\n' >"$work/nul"
mc grab -q --no-enrich "$work/nul" >/dev/null 2>"$work/nul.err"
rc=$?
[ $rc = 2 ] && grep -q 'line 3: a NUL byte' "$work/nul.err" && ok "NUL byte: exit 2, $(cat "$work/nul.err")" || bad "NUL: exit $rc, $(cat "$work/nul.err")"

echo "time: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }')"
exit $fail
