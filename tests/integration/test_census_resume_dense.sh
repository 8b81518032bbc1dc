#!/usr/bin/env bash
# test_census_resume_dense.sh — a census on a slice of the dense bed
# (scripts/densenet, docs/densebed.md), killed with SIGKILL at 10 random
# moments and resumed each time (docs/resume.md):
#   - an uninterrupted census of the slice is the reference;
#   - the same census (same seed) is started, killed at a seeded random
#     moment (start-up, sending, cooldown, the grab tail; shards are sealed
#     every second and every 40 records, so kills land in seals too), and
#     `mailcensus resume` (or `scan --resume`) continued, 10 times; the
#     last resume runs to its end;
#   - the final records equal the reference's (compare_runs.py: same
#     services, every field but times and the random STARTTLS tags), no
#     duplicate, verify passes, the manifest is complete and lists every
#     session in history[] with totals;
#   - a damaged checkpoint, one of another scan and a target-changing
#     option are refused before any packet;
#   - SIGTERM during sending: exit 1, manifest interrupted by SIGTERM,
#     verify exit 3, a fresh census into the directory refused (exit 2,
#     names resume); its resume restarts from the checkpoint in the middle
#     of the scan: it sends exactly the targets the checkpoint had left (not
#     the whole scan again) and completes it equal to the reference.
# Seeds are printed; MC_KILL_SEEDS="s1 ... s10" replays them.
# DENSE_RESUME_SLICE (default 198.19.4.0/24) and DENSE_RESUME_RATE (default
# 100 packets/s, so that sending lasts ~10 s) size it; MC_DENSENET names the
# bed instance (default denseres).
set -uo pipefail
export MAILCENSUS_SAFE_RANGE=198.18.0.0/15
: "${MC_SRCDIR:?run through meson test}" "${MC_BIN:?run through meson test}"
export MC_DENSENET=${MC_DENSENET:-denseres}
slice=${DENSE_RESUME_SLICE:-198.19.4.0/24}
rate=${DENSE_RESUME_RATE:-100}
dn=$MC_SRCDIR/scripts/densenet

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root for network namespaces" >&2
	exit 77
fi
work=$(mktemp -d /tmp/mc-dres-XXXXXX)
trap '"$dn" down >/dev/null 2>&1 || true; [ -n "${MC_KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
DENSE_CIDR=$slice "$dn" up --rtt 50 --jitter 0 --loss 0 || exit 1
eval "$("$dn" env)"
t0=$(date +%s.%N)
fail=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }
state() { jq -r '[.state, .records] | join(" ")' "$1/manifest.json" 2>/dev/null; }
SCAN=(scan --iface "$MC_SCAN_IF" -S "$MC_ENGINE_IP" --gateway-ip "$MC_GW_IP" -p "110,143,993,995"
	-r "$rate" -c 2 --seed 77 --grab --ca-file "$MC_CA_CERT" --no-enrich --grab-concurrency 200
	--grab-connect-timeout 3 --grab-read-timeout 5 --grab-timeout 30 --seal-every 1
	--shard-records 40)
mc() { ip netns exec "$MC_NS_SCAN" "$MC_BIN" "$@"; }
pairs=$(($(python3 -c 'import ipaddress, sys; print(ipaddress.ip_network(sys.argv[1]).num_addresses)' "$slice") * 4))

mc "${SCAN[@]}" -q -O "$work/base" "$slice" 2>"$work/base.err"
rc=$?
base=$(state "$work/base")
[ $rc = 0 ] && [ "${base%% *}" = complete ] && ok "uninterrupted census: $base records" ||
	{ bad "uninterrupted census: exit $rc, '$base'"; cat "$work/base.err"; exit 1; }

# the checkpoint was written about once a second (from the start, then each
# second once the 2 s reply window has passed, to the end of the cooldown)
read -r written secs < <(python3 - "$work/base/manifest.json" <<'PY'
import datetime, json, sys
e = json.load(open(sys.argv[1]))["engine"]
t = lambda s: datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
print(e["checkpoint"]["written"], int((t(e["end_time"]) - t(e["start_time"])).total_seconds()))
PY
)
[ "${written:-0}" -ge $((secs - 3)) ] && ok "checkpoint written $written times in the ${secs} s of the engine" ||
	bad "checkpoint written ${written:-?} times in ${secs:-?} s"

# Ten kills, each aimed at a phase of the session it interrupts: it waits
# for the phase's mark in the session's own lines (or, for "seal", for the
# count of sealed shards to change: the kill then lands between a shard's
# rename and the manifest rewrite, or just after), then a seeded random
# delay. Where the mark never comes the kill lands where the session is.
phases=(sending seal sending seal sending cooldown seal cooldown grab-tail grab-tail)
mark_of() {
	case $1 in
	sending) echo '^scan ' ;;
	cooldown) echo '100.0% ETA' ;;
	grab-tail) echo 'sending and cooldown done' ;;
	esac
}
nsealed() { find "$1" -maxdepth 1 -name 'shard-*.ndjson' 2>/dev/null | wc -l; }
# wait_phase PHASE LOG DIR PID: until the phase began (at most 25 s; a seal
# at most 1.5 s: after sending they are rare)
wait_phase() {
	local s0 polls=2500
	s0=$(nsealed "$3")
	[ "$1" = seal ] && polls=150
	for _ in $(seq "$polls"); do
		kill -0 "$4" 2>/dev/null || return 0
		if [ "$1" = seal ]; then
			[ "$(nsealed "$3")" != "$s0" ] && return 0
		else
			grep -q "$(mark_of "$1")" "$2" && return 0
		fi
		sleep 0.01
	done
}
where() { # what the session's lines say it was doing
	if grep -q 'sending and cooldown done' "$1"; then echo "grab tail"
	elif grep -q '100.0% ETA' "$1"; then echo "cooldown"
	elif grep -q '^scan ' "$1"; then echo "sending"
	else echo "start-up"; fi
}
taken_of() { awk '$1 == "q" { t += $4 } END { print t + 0 }' "$1/scan.checkpoint" 2>/dev/null; }
seeds=${MC_KILL_SEEDS:-"$(for _ in $(seq 10); do printf '%s ' $RANDOM; done)"}
echo "kill seeds: $seeds (replay: MC_KILL_SEEDS=\"$seeds\")"
d=$work/census
n=0
landed=0
for seed in $seeds; do
	ph=${phases[$((n % 10))]}
	n=$((n + 1))
	extra=$(awk -v s="$seed" -v p="$ph" 'BEGIN { srand(s); printf "%.2f\n", (p == "seal" ? 0.05 : p == "sending" ? 4 : p == "cooldown" ? 1.5 : 0.1) * rand() }')
	if [ -f "$d/manifest.json" ]; then # resume, alternately as `scan --resume`
		if [ $((n % 2)) = 0 ]; then cmd=(scan --resume "$d"); else cmd=(resume "$d"); fi
	else # killed before its first manifest (or the first session): start it (again)
		[ -d "$d" ] && mc resume "$d" >/dev/null 2>&1
		cmd=("${SCAN[@]}" -O "$d" "$slice")
	fi
	ip netns exec "$MC_NS_SCAN" "$MC_BIN" "${cmd[@]}" >"$work/s$n.log" 2>&1 &
	pid=$! # ip netns exec execs: this is mailcensus itself
	wait_phase "$ph" "$work/s$n.log" "$d" "$pid"
	sleep "$extra"
	# (a session that ended by itself is a zombie until waited for)
	if [ "$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null)" != Z ] && kill -9 "$pid" 2>/dev/null; then
		landed=$((landed + 1))
	else
		echo "note: session $n ran to its end before its kill"
	fi
	wait "$pid" 2>/dev/null
	echo "kill $n (seed $seed): ${cmd[0]} ${cmd[1]}, aimed at $ph (+${extra}s), landed in $(where "$work/s$n.log"):" \
		"manifest '$(state "$d")', checkpoint: $(taken_of "$d") of $pairs probed," \
		"$(find "$d" -maxdepth 1 -name '*.tmp*' 2>/dev/null | wc -l) temporaries"
	if [ $n = 2 ] && [ -f "$d/scan.checkpoint" ]; then # copies for the refusals below
		cp -a "$d" "$work/damaged"
		cp -a "$d" "$work/foreign"
	fi
done

[ $landed = 10 ] && ok "10 kills landed in running sessions" || bad "only $landed of 10 kills landed"

# refusals, on copies of an unfinished run
if [ -d "$work/damaged" ]; then
	sed -i 's/^seed .*/seed 78/' "$work/damaged/scan.checkpoint"
	mc resume "$work/damaged" >"$work/damaged.out" 2>&1
	[ $? = 2 ] && grep -q 'checksum mismatch' "$work/damaged.out" &&
		ok "a damaged checkpoint is refused: $(grep -m1 checksum "$work/damaged.out" | cut -c1-120)" ||
		bad "damaged checkpoint: $(cat "$work/damaged.out")"
	python3 - "$work/foreign/scan.checkpoint" <<'PY'
import sys
p = sys.argv[1]
lines = open(p).read().split("\n")
body = "".join(l + "\n" for l in lines if l and not l.startswith("sum ")).replace("seed 77", "seed 78")
h = 2166136261
for b in body.encode():
    h = ((h ^ b) * 16777619) & 0xFFFFFFFF
open(p, "w").write(body + "sum %08x\n" % h)
PY
	mc resume "$work/foreign" >"$work/foreign.out" 2>&1
	[ $? = 2 ] && grep -q 'seed differs' "$work/foreign.out" &&
		ok "another scan's checkpoint is refused: $(grep -m1 'seed differs' "$work/foreign.out" | cut -c1-120)" ||
		bad "foreign checkpoint: $(cat "$work/foreign.out")"
	mc scan --resume "$work/foreign" --tx-queues 2 >"$work/opt.out" 2>&1
	[ $? = 2 ] && grep -q 'would change the target set' "$work/opt.out" &&
		ok "--tx-queues on resume refused: $(grep -m1 'would change' "$work/opt.out" | cut -c1-100)" || bad "--tx-queues: $(cat "$work/opt.out")"
else
	bad "no checkpoint after the second kill: no copy for the refusals"
fi

# the last resume runs to its end
if [ -f "$d/manifest.json" ]; then
	mc resume "$d" -q >"$work/last.log" 2>&1
else
	[ -d "$d" ] && mc resume "$d" >/dev/null 2>&1
	mc "${SCAN[@]}" -q -O "$d" "$slice" >"$work/last.log" 2>&1
fi
rc=$?
python3 "$MC_SRCDIR/tests/integration/compare_runs.py" "$work/base" "$d" >"$work/cmp" 2>&1
crc=$?
mc verify "$d" >"$work/verify" 2>&1
vrc=$?
[ $rc = 0 ] && [ $crc = 0 ] && [ $vrc = 0 ] && [ "$(state "$d")" = "$base" ] &&
	ok "after 10 kills: $(tail -1 "$work/cmp"); verify OK; manifest '$(state "$d")'" ||
	{ bad "final: resume exit $rc, compare $crc, verify $vrc, manifest '$(state "$d")'"; cat "$work/last.log" "$work/cmp" "$work/verify"; }
sessions=$(jq '.history | length' "$d/manifest.json")
sum=$(jq '[.history[].records] | add' "$d/manifest.json")
tot=$(jq -c .totals "$d/manifest.json")
[ "$sessions" = "$(jq .totals.sessions "$d/manifest.json")" ] && [ "$sessions" -ge 2 ] &&
	[ "$sum" = "$(jq .records "$d/manifest.json")" ] && [ "$(jq -r '.history[-1].state' "$d/manifest.json")" = complete ] &&
	ok "history: $sessions sessions, records summed $sum, totals $tot" || bad "history: $sessions sessions, $sum records, totals $tot"
# SIGTERM in the middle of sending: exit 1, the manifest says interrupted by
# SIGTERM, verify exit 3; a fresh census into that directory is refused
# (exit 2, names resume) before any packet; the resume restarts from the
# checkpoint in the middle of the scan (it sends exactly what was left) and
# completes it
ip netns exec "$MC_NS_SCAN" "$MC_BIN" "${SCAN[@]}" -O "$work/term" "$slice" >"$work/term.log" 2>&1 &
pid=$!
wait_phase sending "$work/term.log" "$work/term" "$pid"
sleep 3.5
kill -TERM "$pid"
wait "$pid"
rc=$?
mc verify "$work/term" >/dev/null 2>&1
vrc=$?
st=$(jq -r '[.state, .signal] | join(" ")' "$work/term/manifest.json")
[ $rc = 1 ] && [ "$st" = "interrupted SIGTERM" ] && [ $vrc = 3 ] &&
	ok "census SIGTERM: exit 1, manifest '$st', verify exit 3, $(taken_of "$work/term") of $pairs probed by its checkpoint" ||
	bad "census SIGTERM: exit $rc, manifest '$st', verify $vrc"
mc "${SCAN[@]}" -q -O "$work/term" "$slice" >"$work/used.log" 2>&1
[ $? = 2 ] && grep -q 'mailcensus resume' "$work/used.log" && [ "$(jq -r .state "$work/term/manifest.json")" = interrupted ] &&
	ok "a fresh census into it is refused: $(grep -m1 'already holds' "$work/used.log" | cut -c1-110)" || bad "used directory: $(cat "$work/used.log")"
term_taken=$(taken_of "$work/term")
mc resume "$work/term" -q >"$work/term.resume" 2>&1
rc=$?
python3 "$MC_SRCDIR/tests/integration/compare_runs.py" "$work/base" "$work/term" >"$work/term.cmp" 2>&1
crc=$?
[ $rc = 0 ] && [ $crc = 0 ] && [ "$(state "$work/term")" = "$base" ] &&
	ok "resumed after SIGTERM: $(tail -1 "$work/term.cmp")" || { bad "resume after SIGTERM: exit $rc"; cat "$work/term.resume" "$work/term.cmp"; }
term_sent=$(jq '.history[-1].sent' "$work/term/manifest.json")
[ "${term_taken:-0}" -gt 0 ] && [ "$term_taken" -lt "$pairs" ] && [ "$term_sent" = $((pairs - term_taken)) ] &&
	ok "the resume restarted from the checkpoint in the middle: sent $term_sent = $pairs - $term_taken probed before" ||
	bad "restart from the checkpoint: sent $term_sent, the checkpoint had ${term_taken:-none} of $pairs probed"

[ -n "${MC_KEEP_WORK:-}" ] && echo "work directory kept: $work"
echo "time: $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }')"
exit $fail
