#!/usr/bin/env bash
# test_grab_software — software identification against real servers of
# three kinds in the test network: GNU Mailutils imap4d and pop3d and the
# nginx mail proxy (started here, in the server namespace on 198.18.2.2:143
# and :110 and 198.18.2.4:143/110, addresses the test network does not
# use) and the test
# network's dovecots (IMAP answers ID; POP3 greets with a custom text and
# has no IMPLEMENTATION, so it stays unidentified). Asserts
# the records' software{product, evidence, cpe} and that the grab sends our
# ID only where ID is advertised without failing the probe where it is
# refused (imap4d answers "BAD ID Wrong state" before login).
# Uses the network the runner brought up (instance $MC_TESTNET, default mc).
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$MC_SRCDIR" || exit 1
MU_IP=198.18.2.2
NGX_IP=198.18.2.4

need_root "network namespaces"
need_cmd python3
imap4d=$(command -v imap4d || echo /usr/sbin/imap4d)
[ -x "$imap4d" ] || skip "GNU Mailutils imap4d not installed (scripts/setup-deps: mailutils-imap4d)"
pop3d=$(command -v pop3d || echo /usr/sbin/pop3d)
[ -x "$pop3d" ] || skip "GNU Mailutils pop3d not installed (scripts/setup-deps: mailutils-pop3d)"
[ -x "$MC_BIN" ] || skip "no mailcensus binary at $MC_BIN"
need_testnet

nginx=$(command -v nginx || echo /usr/sbin/nginx)
ngx_mod=/usr/lib/nginx/modules/ngx_mail_module.so
[ -x "$nginx" ] && [ -f "$ngx_mod" ] ||
	skip "nginx with its mail module not installed (scripts/setup-deps: nginx-light libnginx-mod-mail)"

work_dir
mupid=
popid=
ngxpid=
cleanup() {
	for pid in $mupid $popid $ngxpid; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
}
at_exit cleanup
srv_addr "$MU_IP" "$NGX_IP"
cat >"$work/imap4d.conf" <<CONF
logging { syslog no; };
pidfile $work/imap4d.pid;
server $MU_IP:143 { tls-mode false; };
CONF
ip netns exec "$MC_NS_SRV" "$imap4d" --config-file="$work/imap4d.conf" --daemon --foreground \
	</dev/null >"$work/imap4d.log" 2>&1 &
mupid=$!
cat >"$work/pop3d.conf" <<CONF
logging { syslog no; };
pidfile $work/pop3d.pid;
server $MU_IP:110 { tls-mode false; };
CONF
ip netns exec "$MC_NS_SRV" "$pop3d" --config-file="$work/pop3d.conf" --daemon --foreground \
	</dev/null >"$work/pop3d.log" 2>&1 &
popid=$!
wait_for "$mupid" srv_listening "$MU_IP" 143 || die "imap4d is not listening: $(cat "$work/imap4d.log")"

# nginx's mail proxy: greets and lists capabilities without its auth backend
cat >"$work/nginx.conf" <<CONF
load_module $ngx_mod;
daemon off;
master_process off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 64; }
mail {
  auth_http 127.0.0.1:9/auth;
  server { listen $NGX_IP:143; protocol imap; }
  server { listen $NGX_IP:110; protocol pop3; }
}
CONF
ip netns exec "$MC_NS_SRV" "$nginx" -e "$work/nginx-error.log" -p "$work" -c "$work/nginx.conf" \
	</dev/null >"$work/nginx.out" 2>&1 &
ngxpid=$!
wait_for "$ngxpid" srv_listening "$NGX_IP" 110 ||
	die "nginx is not listening: $(cat "$work/nginx.out" "$work/nginx-error.log")"
wait_for "$popid" srv_listening "$MU_IP" 110 || die "pop3d is not listening: $(cat "$work/pop3d.log")"
printf '%s\n' "$MU_IP:143" "$MU_IP:110" "$NGX_IP:143" "$NGX_IP:110" 198.18.1.10:143 198.18.1.10:110 \
	198.18.1.11:993 >"$work/targets"
ip netns exec "$MC_NS_SCAN" "$MC_BIN" grab --contact "https://census.example/scanner" \
	--ca-file "$MC_CA_CERT" --no-tls-matrix --read-timeout 5 --timeout 20 \
	"$work/targets" >"$work/out.ndjson" 2>"$work/stderr"
rc=$?
[ "$rc" -eq 0 ] || die "grab exited $rc: $(cat "$work/stderr")"

python3 - "$work/out.ndjson" "$MU_IP" "$NGX_IP" <<'PY'
import json, sys
recs = {f"{r['ip']}:{r['port']}": r for r in map(json.loads, open(sys.argv[1]))}
mu = sys.argv[2] + ":143"
ngx = sys.argv[3]
want = {  # target -> (product, evidence, cpe)
    mu: ("GNU Mailutils", "banner", "cpe:2.3:a:gnu:mailutils:*:*:*:*:*:*:*:*"),
    sys.argv[2] + ":110": ("GNU Mailutils", "banner", "cpe:2.3:a:gnu:mailutils:*:*:*:*:*:*:*:*"),
    ngx + ":143": ("nginx", "banner", "cpe:2.3:a:f5:nginx:*:*:*:*:*:*:*:*"),
    ngx + ":110": ("nginx", "banner", "cpe:2.3:a:f5:nginx:*:*:*:*:*:*:*:*"),
    "198.18.1.10:143": ("Dovecot", "imap_id", "cpe:2.3:a:dovecot:dovecot:*:*:*:*:*:*:*:*"),
    "198.18.1.11:993": ("Dovecot", "imap_id", "cpe:2.3:a:dovecot:dovecot:*:*:*:*:*:*:*:*"),
    "198.18.1.10:110": None,
}
fails = 0
for t, w in want.items():
    r = recs.get(t)
    sw = r and r.get("software")
    got = sw and (sw["product"], sw["evidence"], sw["cpe"])
    ok = r is not None and got == w and not r["error"]
    fails += not ok
    print(("ok   " if ok else "FAIL ") + f"{t}: software {got} (want {w}), error {r and r['error']!r}")
sys.exit(1 if fails else 0)
PY
