#!/usr/bin/env bash
# test_grab_hostile — `mailcensus grab` against the hostile fixture server.
#
# Starts tests/fixture/hostile_server in the test network's server namespace
# on 198.18.2.1 (an address the test network does not use, added to the
# server namespace's lo for the duration of the test), grabs every fixture
# port plus one good dovecot (198.18.1.10:143, host a) from the scanner
# namespace with short timeouts, and asserts:
#   - the grabber exits on its own, within a bound derived from its timeouts,
#     without a crash or a sanitizer report;
#   - exactly one valid JSON record per target (strict UTF-8, json.loads);
#   - each fixture record's `error` matches the fixture's expectation
#     (the port map's EXPECT column: regex, "-" = no error, "*" = any);
#   - the greeting sent in 1-byte segments yields exactly the right banner;
#   - the STARTTLS scenarios (EAST) yield the right injection_result (real
#     TLS servers forked by the fixture: vulnerable, not_vulnerable,
#     unresponsive, inconclusive) and flags, and no other record has flags;
#   - recorded product greetings (the "-sw-" scenarios) yield the right
#     software product, version and evidence (IMAP ID, IMPLEMENTATION, banner);
#   - the good target still yields a complete record matching ground truth;
#   - bounded CPU (issue 11): the 8192-bit DHE server is refused by default
#     at a third of the CPU of accepting it, and --cpu-budget ends a target
#     that goes over with error "cpu: budget-exceeded".
# Needs the test network (scripts/testnet up; instance $MC_TESTNET, default mc).
set -uo pipefail

export MAILCENSUS_SAFE_RANGE=198.18.0.0/15
: "${MC_BIN:?}" "${MC_SRCDIR:?}" "${MC_BUILDDIR:?}"

FX_IP=198.18.2.1
FX_BASE=21000
GOOD=198.18.1.10:143
# Short timeouts (seconds) so the hostile targets end quickly.
CONNECT_S=2
READ_S=2
TOTAL_S=8
# The whole run must end within this many seconds: every target runs
# concurrently and a target's total timeout covers its version matrix too.
BOUND_S=$((TOTAL_S + 12))

say() { printf 'test_grab_hostile: %s\n' "$*"; }
skip() {
	say "SKIP: $*"
	exit 77
}
fail() {
	say "FAIL: $*"
	exit 1
}

fixture=$MC_BUILDDIR/tests/fixture/hostile_server
[ -x "$fixture" ] || fail "fixture server not built: $fixture (ninja -C $MC_BUILDDIR)"
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces)"
cd "$MC_SRCDIR" || exit 1
[ -x scripts/testnet ] || skip "scripts/testnet does not exist yet"
scripts/testnet status >/dev/null 2>&1 || skip "test network '${MC_TESTNET:-mc}' is not up (scripts/testnet up)"
eval "$(scripts/testnet env)"
grab_help=$("$MC_BIN" grab --help 2>&1)
case $grab_help in *"not built yet"*) skip "mailcensus grab is not built yet" ;; esac

work=$(mktemp -d /tmp/grab_hostile.XXXXXX)
fxpid=
addr_added=
cleanup() {
	if [ -n "$fxpid" ]; then
		kill "$fxpid" 2>/dev/null
		wait "$fxpid" 2>/dev/null
	fi
	[ -n "$addr_added" ] && ip netns exec "$MC_NS_SRV" ip addr del "$FX_IP/32" dev lo 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# --- the fixture, in the server namespace ---------------------------------
ip netns exec "$MC_NS_SRV" ip link set lo up
if ! ip netns exec "$MC_NS_SRV" ip -4 addr show dev lo | grep -q " $FX_IP/"; then
	ip netns exec "$MC_NS_SRV" ip addr add "$FX_IP/32" dev lo || fail "cannot add $FX_IP to $MC_NS_SRV lo"
	addr_added=1
fi
ip netns exec "$MC_NS_SRV" "$fixture" "$FX_IP" "$FX_BASE" "$work/map" \
	>"$work/fixture.out" 2>"$work/fixture.err" </dev/null &
fxpid=$!
for _ in $(seq 100); do
	[ -f "$work/map" ] && break
	kill -0 "$fxpid" 2>/dev/null || break
	sleep 0.05
done
[ -f "$work/map" ] || fail "fixture did not start: $(cat "$work/fixture.err")"

# --- targets, in batches ----------------------------------------------------
# grab takes at most 16 --port PORT=PROTO options, so the fixture ports are
# split into batches of 15 (plus 143=imap for the good target in batch 0);
# the batches run at the same time, as separate grab processes.
BATCH=15
i=0
while read -r port proto _name _expect; do
	case $port in '#'*) continue ;; esac
	b=$((i / BATCH))
	echo "$FX_IP:$port" >>"$work/targets.$b"
	echo "--port $port=$proto" >>"$work/ports.$b"
	i=$((i + 1))
done <"$work/map"
echo "$GOOD" >>"$work/targets.0"
echo "--port 143=imap" >>"$work/ports.0"
nbatch=$(((i + BATCH - 1) / BATCH))
cat "$work"/targets.* >"$work/targets"
ntargets=$(wc -l <"$work/targets")
say "$ntargets targets ($i hostile + $GOOD) in $nbatch grab processes"

# --- the grab -------------------------------------------------------------
start=$(date +%s%N)
pids=()
for ((b = 0; b < nbatch; b++)); do
	# shellcheck disable=SC2046 # one "--port P=PROTO" pair per line
	ip netns exec "$MC_NS_SCAN" timeout -s KILL $((BOUND_S + 30)) \
		"$MC_BIN" grab $(cat "$work/ports.$b") --concurrency 64 \
		--connect-timeout "$CONNECT_S" --read-timeout "$READ_S" --timeout "$TOTAL_S" \
		--ca-file "$MC_CA_CERT" "$work/targets.$b" >"$work/records.$b" 2>"$work/grab.err.$b" &
	pids+=($!)
done
rcs=()
for pid in "${pids[@]}"; do
	wait "$pid"
	rcs+=($?)
done
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
cat "$work"/records.* >"$work/records.ndjson"
cat "$work"/grab.err.* >"$work/grab.err"
say "grab exit statuses ${rcs[*]} after ${elapsed_ms} ms; $(wc -l <"$work/records.ndjson") lines"
if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$work/grab.err"; then
	sed -n 1,60p "$work/grab.err"
	fail "sanitizer report"
fi
for rc in "${rcs[@]}"; do
	[ "$rc" -lt 128 ] || fail "grab died from signal $((rc - 128)) (137 = killed by the test's hard bound)"
	[ "$rc" -eq 0 ] || {
		tail -20 "$work/grab.err"
		fail "grab exited $rc (failures on targets are data, not an exit status)"
	}
done
[ "$elapsed_ms" -le $((BOUND_S * 1000)) ] || fail "grab took ${elapsed_ms} ms > ${BOUND_S} s bound"
kill -0 "$fxpid" 2>/dev/null || fail "the fixture server died during the run"

# --- the records ----------------------------------------------------------
python3 - "$work/map" "$work/targets" "$work/records.ndjson" "$MC_TRUTH" "$FX_IP" "$GOOD" <<'EOF'
import json, re, sys

mapfile, targets, records, truth_path, fx_ip, good = sys.argv[1:7]
SPLIT_BANNER = "* OK [CAPABILITY IMAP4rev1 IDLE] fixture split greeting ready"
STARTTLS = {  # fixture scenario -> (starttls.injection_result, starttls.flags)
    "imap-preauth": (None, {"preauth"}),
    "imap-alert": (None, {"alert_before_tls"}),
    "imap-starttls-noise": (None, {"untagged_before_tls"}),
    "imap-plain-after-starttls": (None, {"plaintext_after_starttls_reply"}),
    "pop3-plain-after-stls": (None, {"plaintext_after_starttls_reply"}),
    "imap-inject-vulnerable": ("vulnerable", set()),
    "pop3-inject-vulnerable": ("vulnerable", set()),
    "imap-tls-caps-odd": ("not_vulnerable", {"starttls_advertised_after_tls", "logindisabled_after_tls"}),
    "pop3-tls-caps-odd": ("not_vulnerable", {"starttls_advertised_after_tls"}),
    "imap-inject-hang": ("unresponsive", set()),
    "pop3-inject-refused": ("inconclusive", set()),
}
SOFTWARE = {  # fixture scenario -> (product, version, evidence)
    "imap-sw-cyrus": ("Cyrus IMAP", "3.0.8", "imap_id"),
    "imap-sw-exchange": ("Microsoft Exchange", None, "banner"),
    "imap-sw-zimbra": ("Zimbra", "8.8.15", "imap_id"),
    "imap-sw-courier": ("Courier-IMAP", None, "banner"),
    "pop3-sw-qmail": ("qmail", None, "banner"),
    "pop3-sw-mdaemon": ("MDaemon", "13.0.3", "banner"),
    "pop3-sw-zimbra-impl": ("Zimbra", None, "pop3_implementation"),
}
fails = []

def check(cond, what, quiet=False):
    if not cond:
        fails.append(what)
    if not cond or not quiet:
        print(("  ok   " if cond else "  FAIL ") + what)

scen = {}
for line in open(mapfile):
    if line.startswith("#"):
        continue
    port, proto, name, expect = line.split()
    scen[f"{fx_ip}:{port}"] = (proto, name, expect)
want = [l.strip() for l in open(targets) if l.strip()]

recs = {}
raw = open(records, "rb").read()
try:
    text = raw.decode("utf-8")
except UnicodeDecodeError as e:
    check(False, f"output is valid UTF-8 ({e})")
    text = raw.decode("utf-8", "replace")
for i, line in enumerate(text.splitlines()):
    try:
        r = json.loads(line)
    except ValueError as e:
        check(False, f"line {i + 1} is valid JSON ({e}): {line[:120]!r}")
        continue
    key = f"{r.get('ip')}:{r.get('port')}"
    check(key not in recs, f"{key}: only one record", quiet=True)
    recs[key] = r
check(len(text.splitlines()) == len(want), f"{len(text.splitlines())} records for {len(want)} targets")
for t in want:
    check(t in recs, f"{t}: has a record", quiet=True)

for t, (proto, name, expect) in scen.items():
    r = recs.get(t)
    if r is None:
        continue
    err = r.get("error") or ""
    if expect == "-":
        check(err == "", f"{name}: no error (got {err!r})")
    elif expect != "*":
        check(re.search(expect, err, re.I) is not None, f"{name}: error {err!r} matches /{expect}/")
    else:
        print(f"  info {name}: error {err!r}")
    check(r.get("proto") == proto, f"{name}: proto {r.get('proto')!r} == {proto}", quiet=True)
    if name == "imap-split":
        check(r.get("banner") == SPLIT_BANNER, f"{name}: banner {r.get('banner')!r}")
    if name.endswith("bad-utf8"):
        b = r.get("banner") or ""
        check("\ufffd" in b and "caf\u00e9" in b, f"{name}: banner escaped, bad bytes replaced ({b!r})")
    if name in STARTTLS:  # EAST behaviours: probes/starttls.c must flag them
        st = r.get("starttls") or {}
        got = (st.get("injection_result"), set(st.get("flags") or []))
        check(got == STARTTLS[name], f"{name}: starttls {got} == {STARTTLS[name]} ({st.get('injection_reason')!r})")
        if name == "imap-starttls-noise":
            check(st.get("reply") == "a2 NO fixture refuses", f"{name}: reply kept ({st.get('reply')!r})")
    elif r.get("starttls", {}).get("flags"):
        check(False, f"{name}: no STARTTLS flags expected, got {r['starttls']['flags']}")
    if "-sw-" in name:  # recorded product greetings: software.c must name them
        want = SOFTWARE[name]
        sw = r.get("software") or {}
        got = (sw.get("product"), sw.get("version"), sw.get("evidence"))
        check(got == want, f"{name}: software {got} == {want}")
    if name.endswith("capa-huge") and not err:
        caps = r.get("capabilities", {}).get("pre_tls") or []
        check(len(caps) > 0, f"{name}: kept {len(caps)} capabilities")

r = recs.get(good)
if r is not None:
    ip, port = good.split(":")
    truth = {}
    for h in json.load(open(truth_path))["hosts"]:
        if h["ip"] == ip:
            truth = h["ports"][port]
    # A server without TLS refusing STARTTLS is recorded, not a probe failure.
    gerr = r.get("error") or ""
    check(gerr == "" or re.search("starttls.refused", gerr), f"good {good}: no probe failure (error {gerr!r})")
    check((r.get("banner") or "").startswith("* OK"), f"good {good}: banner {r.get('banner')!r}")
    check(len(r["capabilities"]["pre_tls"]) > 0, f"good {good}: capabilities")
    for field in ("posture", "cleartext_login"):
        check(r.get(field) == truth.get(field), f"good {good}: {field} {r.get(field)!r} == truth {truth.get(field)!r}")
    check(r["starttls"]["advertised"] == truth.get("starttls_advertised"), f"good {good}: starttls.advertised")

print(f"  {len(fails)} failed")
sys.exit(1 if fails else 0)
EOF
py=$?
if [ "$py" -ne 0 ]; then
	say "grab stderr (first 30 lines):"
	sed -n 1,30p "$work/grab.err"
	fail "record checks failed"
fi
# --- bounded CPU per target (issue 11) ---------------------------------------
# The 8192-bit DHE server alone, three ways: refused by default (the guard
# reads the prime's length before OpenSSL pays ~250 ms per handshake for
# it), accepted with --max-dh-bits 8192 (what the refusal saves), and
# accepted but cut off by --cpu-budget. CPU is the grab process's
# user+system time (bash's `time` counts the exec'd child).
dhport=$(awk '$3 == "imap-dh8192" {print $1}' "$work/map")
[ -n "$dhport" ] || fail "no imap-dh8192 port in the fixture map"
echo "$FX_IP:$dhport" >"$work/dh.targets"
dh_grab() { # NAME ARGS... -> $work/dh.NAME.{json,cpu}
	local name=$1 t
	shift
	t=$( { TIMEFORMAT='%3U %3S'; time ip netns exec "$MC_NS_SCAN" timeout -s KILL 30 \
		"$MC_BIN" grab --port "$dhport=imap" --timeout "$TOTAL_S" "$@" "$work/dh.targets" \
		>"$work/dh.$name.json" 2>"$work/dh.$name.err"; } 2>&1 | tail -1)
	awk '{printf "%d\n", ($1 + $2) * 1000}' <<<"$t" >"$work/dh.$name.cpu"
}
dh_grab refused
dh_grab allowed --max-dh-bits 8192
dh_grab budget --max-dh-bits 8192 --cpu-budget 100
python3 - "$work" <<'EOF2'
import json, sys
w = sys.argv[1]
fails = 0
def rec(name):
    return json.load(open(f"{w}/dh.{name}.json")), int(open(f"{w}/dh.{name}.cpu").read())
(r0, c0), (r1, c1), (r2, c2) = rec("refused"), rec("allowed"), rec("budget")
def check(cond, what):
    global fails
    print(("  ok   " if cond else "  FAIL ") + what)
    fails += not cond
check(r0["error"] == "tls: dh-group-too-large", f"default: refused ({r0['error']!r}), grab CPU {c0} ms")
check(r1["error"] is None and (r1["tls"] or {}).get("kx", {}).get("bits") == 8192,
      f"--max-dh-bits 8192: TLS up over the 8192-bit group, grab CPU {c1} ms")
check(c0 * 3 < c1, f"the refusal saves the handshakes' CPU ({c0} ms vs {c1} ms)")
check(r2["error"] == "cpu: budget-exceeded", f"--cpu-budget 100: {r2['error']!r}, grab CPU {c2} ms")
check(c2 < c1, f"the budget ends the target early ({c2} ms vs {c1} ms)")
sys.exit(1 if fails else 0)
EOF2
[ $? -eq 0 ] || fail "CPU bound checks failed"
say "PASS"
