#!/usr/bin/env bash
# test_grab_login — the login probe (issue 18) against servers whose logins
# disagree with their capability lists.
#
# Real servers: GNU Mailutils imap4d and pop3d (Debian 12) on 198.18.2.3,
# each in "tls-mode required" (XTLSREQUIRED instead of LOGINDISABLED; pop3d
# drops USER from CAPA) and "ondemand" (pop3d: no SASL, USER accepted, and
# STLS refused once USER was given: the reason USER goes after STLS), and
# nginx's mail proxy (Debian 12, 1.22) on 198.18.2.4 as the front end it is
# ("starttls only" and "starttls on"; its auth_http backend is never
# reached: no credential is sent). nginx agrees with its own capabilities
# (LOGINDISABLED added, USER dropped, "BAD invalid command" before TLS); the
# front end that does not is the fixture's.
#
# Starts tests/fixture/login_server.py (one scenario per port, real
# STARTTLS with a throw-away self-signed certificate) in the test network's
# server namespace on 198.18.2.2, grabs every port from the scanner
# namespace twice, with the login probe and with --no-login-probe, and
# asserts for each scenario the verdict, its evidence and the posture of
# both runs (the fixture's map carries the expectations): the probe finds
# the truth, the capability rule alone is wrong where the scenario says; a
# server that stalls or hangs up on AUTH still gets its TLS measured (the
# grabber runs the main probe again without the login probe).
# Also asserts, from the fixture's transcript of every plaintext line it
# received, that no credential left the grabber: no PASS, no LOGIN, USER
# only with the documented name, and every line after a continuation is "*".
# Needs the test network (scripts/testnet up; instance $MC_TESTNET, default mc).
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

FX_IP=198.18.2.2
FX_BASE=21100
MU_IP=198.18.2.3 # GNU Mailutils imap4d / pop3d
NGX_IP=198.18.2.4 # nginx mail proxy
NGX_MOD=/usr/lib/nginx/modules/ngx_mail_module.so

need_root "network namespaces"
need_cmd python3
command -v imap4d >/dev/null && command -v pop3d >/dev/null ||
	skip "GNU Mailutils imap4d/pop3d not installed (scripts/setup-deps)"
command -v nginx >/dev/null && [ -f "$NGX_MOD" ] ||
	skip "nginx with its mail module not installed (scripts/setup-deps)"
cd "$MC_SRCDIR" || exit 1
need_testnet

work_dir
fxpid=
mupids=()
cleanup() {
	local pid
	for pid in $fxpid "${mupids[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
}
at_exit cleanup

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-subj "/CN=login-fixture.invalid" -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null ||
	die "cannot make the fixture's certificate"
srv_addr "$FX_IP" "$MU_IP" "$NGX_IP"

# GNU Mailutils: one imap4d and one pop3d master, two listeners each.
for d in imap4d pop3d; do
	if [ $d = imap4d ]; then req=143 ond=1143; else req=110 ond=1110; fi
	cat >"$work/$d.conf" <<CONF
mode daemon;
foreground true;
pidfile $work/$d.pid;
max-children 32;
tls {
  ssl-certificate-file $work/cert.pem;
  ssl-key-file $work/key.pem;
};
server $MU_IP:$req { tls-mode required; };
server $MU_IP:$ond { tls-mode ondemand; };
CONF
	ip netns exec "$MC_NS_SRV" "$d" --config-file="$work/$d.conf" </dev/null >"$work/$d.log" 2>&1 &
	mupids+=($!)
done
# nginx's mail proxy, one process (no master), its log in $work.
cat >"$work/nginx.conf" <<CONF
load_module $NGX_MOD;
daemon off;
master_process off;
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx.log info;
events { worker_connections 64; }
mail {
  server_name mail.testnet.invalid;
  auth_http 127.0.0.1:9/auth;
  ssl_certificate $work/cert.pem;
  ssl_certificate_key $work/key.pem;
  imap_capabilities IMAP4rev1 SASL-IR ID IDLE LITERAL+;
  imap_auth plain login;
  pop3_capabilities TOP USER UIDL;
  pop3_auth plain;
  server { listen $NGX_IP:143; protocol imap; starttls only; }
  server { listen $NGX_IP:110; protocol pop3; starttls only; }
  server { listen $NGX_IP:1143; protocol imap; starttls on; }
  server { listen $NGX_IP:1110; protocol pop3; starttls on; }
}
CONF
ip netns exec "$MC_NS_SRV" nginx -e "$work/nginx.log" -p "$work" -c "$work/nginx.conf" \
	</dev/null >>"$work/nginx.log" 2>&1 &
mupids+=($!)
# IP PORT PROTO NAME, then the expectations as in the fixture's map
cat >"$work/real.map" <<MAP
$MU_IP 143 imap mailutils-imap4d-required false behaviour starttls_required false capability starttls_required
$MU_IP 1143 imap mailutils-imap4d-ondemand true behaviour starttls_optional true capability starttls_optional
$MU_IP 110 pop3 mailutils-pop3d-required false capability starttls_required false capability starttls_required
$MU_IP 1110 pop3 mailutils-pop3d-ondemand true behaviour starttls_optional true capability starttls_optional
$NGX_IP 143 imap nginx-imap-starttls-only false capability starttls_required false capability starttls_required
$NGX_IP 1143 imap nginx-imap-starttls-on true behaviour starttls_optional true capability starttls_optional
$NGX_IP 110 pop3 nginx-pop3-starttls-only false capability starttls_required false capability starttls_required
$NGX_IP 1110 pop3 nginx-pop3-starttls-on true behaviour starttls_optional true capability starttls_optional
MAP
ip netns exec "$MC_NS_SRV" python3 "$MC_SRCDIR/tests/fixture/login_server.py" "$FX_IP" "$FX_BASE" \
	"$work/cert.pem" "$work/key.pem" "$work/map" >"$work/fixture.out" 2>&1 </dev/null &
fxpid=$!
wait_for "$fxpid" test -f "$work/map" || die "fixture did not start: $(cat "$work/fixture.out")"
for ip in "$MU_IP" "$NGX_IP"; do
	for port in 143 1143 110 1110; do
		wait_for - srv_listening "$ip" "$port" ||
			die "no listener on $ip:$port: $(cat "$work"/*d.log "$work/nginx.log")"
	done
done

# One map for both: IP PORT PROTO NAME expectations...
{
	grep -v '^#' "$work/map" | sed "s/^/$FX_IP /"
	cat "$work/real.map"
} >"$work/all.map"
ports=()
while read -r ip port proto _; do
	echo "$ip:$port" >>"$work/targets"
	case " ${ports[*]} " in *" $port=$proto "*) ;; *) ports+=(--port "$port=$proto") ;; esac
done <"$work/all.map"

grab() { # OUT [OPTIONS]
	local out=$1
	shift
	ip netns exec "$MC_NS_SCAN" timeout -s KILL 60 "$MC_BIN" grab "${ports[@]}" "$@" \
		--concurrency 16 --connect-timeout 2 --read-timeout 3 --timeout 15 --no-tls-matrix \
		"$work/targets" >"$out" 2>>"$work/grab.err"
}
start=$(date +%s%N)
grab "$work/probe.ndjson" || die "grab exited $? ($(tail -3 "$work/grab.err"))"
grab "$work/caps.ndjson" --no-login-probe || die "grab --no-login-probe exited $?"
say "two grabs of $(wc -l <"$work/targets") targets in $((($(date +%s%N) - start) / 1000000)) ms"
grep -qE 'AddressSanitizer|runtime error:' "$work/grab.err" && die "sanitizer report: $(head -5 "$work/grab.err")"

python3 - "$work/all.map" "$work/probe.ndjson" "$work/caps.ndjson" <<'EOF'
import json, sys
mapfile, probe_path, caps_path = sys.argv[1:4]
fails = []
def check(cond, what):
    print(("  ok   " if cond else "  FAIL ") + what)
    if not cond:
        fails.append(what)
def load(path):
    return {(r["ip"], r["port"]): r for r in map(json.loads, open(path))}
probe, caps = load(probe_path), load(caps_path)
val = {"true": True, "false": False, "null": None}
for line in open(mapfile):
    ip, port, proto, name, pv, pe, pp, cv, ce, cp = line.split()
    port = (ip, int(port))
    for run, recs, (v, e, p) in (("probe", probe, (pv, pe, pp)), ("caps only", caps, (cv, ce, cp))):
        r = recs.get(port)
        if r is None:
            check(False, f"{name} ({run}): has a record")
            continue
        got = (r["cleartext_login"], r["cleartext_login_evidence"], r["posture"], r["error"])
        check(got == (val[v], e, p, None),
              f"{name} ({run}): cleartext_login/evidence/posture/error {got} == {(val[v], e, p, None)}")
    r = probe.get(port) or {}
    sent = [s["command"] for s in r.get("login_probe", [])]
    check(sent and not any(c.startswith(("PASS", "LOGIN ")) for c in sent),
          f"{name}: probe steps {sent}, no credential")
    check(caps.get(port, {}).get("login_probe") == [], f"{name}: --no-login-probe sent no step")
    if r.get("posture") != "no_tls":
        check(r.get("tls", {}).get("version") is not None, f"{name}: TLS measured after the probe")
    if name in ("pop3-auth-silent", "imap-auth-hangs-up"):
        outcomes = [s["outcome"] for s in r.get("login_probe", [])]
        check(outcomes[:1] == ["no_reply"], f"{name}: the step the server broke is no_reply ({outcomes})")
print(f"  {len(fails)} failed")
sys.exit(1 if fails else 0)
EOF
[ $? -eq 0 ] || die "record checks failed"

grep -q 'XTLSREQUIRED' "$work/probe.ndjson" || die "mailutils advertised no XTLSREQUIRED"

# The transcript: what the fixture received in clear text.
kill "$fxpid" 2>/dev/null
wait "$fxpid" 2>/dev/null
fxpid=
cut -f2 "$work/fixture.out" | sed -E 's/^a[0-9]+ //' | sort | uniq -c | sed 's/^/  /'
# (IMAP ID, where advertised, names the client only: docs/software.md; the
# injection test tags STARTTLS and NOOP at random: docs/starttls.md)
bad=$(cut -f2 "$work/fixture.out" | grep -viE '^(CAPA|STLS|NOOP|QUIT|AUTH (PLAIN|LOGIN)|USER mailcensus-probe|\*|a[0-9]+ (CAPABILITY|STARTTLS|AUTHENTICATE (PLAIN|LOGIN)|ID \("name" "mailcensus" "version" "[^"]*"( "contact" "[^"]*")?\))|[b-z][a-z0-9]{5} (STARTTLS|NOOP))$')
[ -z "$bad" ] || die "lines a login probe must never send: $bad"
grep -qP '\tUSER mailcensus-probe$' "$work/fixture.out" || die "no USER in the transcript"
grep -qP '\t\*$' "$work/fixture.out" || die "no '*' cancel in the transcript"
say PASS
