#!/usr/bin/env bash
# test_grab_hello — the hand-built ClientHello probe against servers that
# speak only what Debian's OpenSSL 3 cannot offer.
#
# Two kinds of server, both in the test network's server namespace on
# 198.18.2.2 (added to its lo for the test; test_grab_hostile uses .1):
#   - tests/fixture/hello_server: POP3/IMAP postures (STARTTLS and implicit)
#     that answer one ClientHello with the ServerHello of a legacy stack:
#     SSLv3+RC4, TLS 1.0+3DES, EXPORT, NULL, anonymous ECDH, TLS 1.3 by
#     HelloRetryRequest, SSLv2, a bare-FIN refusal, and a liar that answers
#     a version it was not offered;
#   - gnutls-serv (GnuTLS, a second real TLS stack) with legacy priorities:
#     TLS 1.0 3DES only, TLS 1.0/1.1 RC4 only, TLS 1.2 NULL only, TLS 1.2
#     anonymous DH/ECDH only, TLS 1.2 ECDHE P-256 only (key-exchange facts),
#     and NORMAL plus all of those (grabbed as
#     implicit-TLS IMAP: it never greets, so that target ends in a greeting
#     timeout after its TLS facts are in).
# Every record is checked field by field against the posture's expectation;
# no legacy posture may come out as no_tls or with a refused version it
# accepts. Needs the test network (scripts/testnet up; $MC_TESTNET).
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

FX_IP=198.18.2.2
FX_BASE=22000
GNUTLS_BASE=22100

fixture=$MC_BUILDDIR/tests/fixture/hello_server
[ -x "$fixture" ] || die "fixture server not built: $fixture (ninja -C $MC_BUILDDIR)"
need_root "network namespaces"
command -v gnutls-serv >/dev/null || skip "gnutls-serv not installed (gnutls-bin, scripts/setup-deps)"
need_cmd python3
cd "$MC_SRCDIR" || exit 1
need_testnet

work_dir
pids=()
cleanup() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
}
at_exit cleanup
srv_addr "$FX_IP"

# --- the servers -------------------------------------------------------------
ip netns exec "$MC_NS_SRV" "$fixture" "$FX_IP" "$FX_BASE" "$work/map" \
	>"$work/fixture.out" 2>"$work/fixture.err" </dev/null &
pids+=($!)

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/key.pem" -out "$work/cert.pem" \
	-days 2 -subj /CN=gnutls.test >/dev/null 2>&1 || die "cannot make a certificate"
# PORT NAME PRIORITY EXPECT (EXPECT as in the fixture's map)
V_NO13="versions.tls1_3=false"
cat >"$work/gnutls.map" <<EOF
$((GNUTLS_BASE + 0)) gnutls-3des-tls10 NONE:+VERS-TLS1.0:+3DES-CBC:+RSA:+SHA1:+COMP-NULL:+SIGN-ALL posture=implicit_tls,tls_obsolete=true,versions.ssl3=false,versions.tls1_0=true,versions.tls1_1=false,versions.tls1_2=false,$V_NO13,legacy.3des=true,legacy.rc4=false,legacy.des=false,legacy.export=false,legacy.null=false,legacy.anon=false,tls.hello.error=null
$((GNUTLS_BASE + 1)) gnutls-rc4 NONE:+VERS-TLS1.0:+VERS-TLS1.1:+ARCFOUR-128:+RSA:+SHA1:+MD5:+COMP-NULL:+SIGN-ALL posture=implicit_tls,tls_obsolete=true,versions.ssl3=false,versions.tls1_0=true,versions.tls1_1=true,versions.tls1_2=false,$V_NO13,legacy.rc4=true,legacy.3des=false,tls.hello.error=null
$((GNUTLS_BASE + 2)) gnutls-null NONE:+VERS-TLS1.2:+NULL:+RSA:+SHA1:+SHA256:+COMP-NULL:+SIGN-ALL posture=implicit_tls,tls_obsolete=false,versions.ssl3=false,versions.tls1_0=false,versions.tls1_1=false,versions.tls1_2=true,$V_NO13,legacy.null=true,legacy.anon=false,legacy.rc4=false,tls.hello.error=null
$((GNUTLS_BASE + 3)) gnutls-anon NONE:+VERS-TLS1.2:+AES-128-CBC:+ANON-ECDH:+ANON-DH:+SHA1:+COMP-NULL:+GROUP-ALL:+SIGN-ALL posture=implicit_tls,tls_obsolete=false,versions.ssl3=false,versions.tls1_0=false,versions.tls1_1=false,versions.tls1_2=true,$V_NO13,legacy.anon=true,legacy.null=false,tls.hello.error=null
$((GNUTLS_BASE + 5)) gnutls-tls12-ecdhe NONE:+VERS-TLS1.2:+AES-128-GCM:+ECDHE-RSA:+AEAD:+COMP-NULL:+SIGN-ALL:+GROUP-SECP256R1 posture=implicit_tls,tls.version=TLSv1.2,tls.kx.group=prime256v1,tls.kx.bits=256,tls.kx.secure_renegotiation=true,tls.kx.extended_master_secret=true,versions.tls1_2=true,versions.tls1_3=false,versions.tls1_1=false
$((GNUTLS_BASE + 4)) gnutls-normal-legacy NORMAL:+VERS-TLS1.0:+VERS-TLS1.1:+3DES-CBC:+ARCFOUR-128:+ANON-ECDH posture=implicit_tls,tls_obsolete=true,tls.version=TLSv1.3,versions.tls1_0=true,versions.tls1_1=true,versions.tls1_2=true,versions.tls1_3=true,tls.hello.probes=4,tls.hello.error=null,legacy.any=true
EOF
while read -r port _name prio _expect; do
	ip netns exec "$MC_NS_SRV" gnutls-serv -q -p "$port" --x509certfile "$work/cert.pem" \
		--x509keyfile "$work/key.pem" --priority "$prio" >"$work/gnutls.$port.log" 2>&1 </dev/null &
	pids+=($!)
done <"$work/gnutls.map"
for _ in $(seq 100); do
	[ -f "$work/map" ] && break
	sleep 0.05
done
[ -f "$work/map" ] || die "fixture did not start: $(cat "$work/fixture.err")"
for _ in $(seq 100); do
	n=$(ip netns exec "$MC_NS_SRV" ss -ltnH "sport >= :$GNUTLS_BASE and sport < :$((GNUTLS_BASE + 10))" | grep -c '0\.0\.0\.0:')
	[ "$n" -ge 6 ] && break
	sleep 0.05
done
[ "$n" -ge 6 ] || die "gnutls-serv did not start: $(cat "$work"/gnutls.*.log | head -5)"

# --- the grab ------------------------------------------------------------------
ports=()
: >"$work/targets"
while read -r port proto _name _expect tname; do
	ports+=(--port "$port=$proto")
	if [ "$tname" = - ]; then echo "$FX_IP:$port"; else echo "$FX_IP:$port $tname"; fi >>"$work/targets"
done <"$work/map"
while read -r port _name _prio _expect; do
	ports+=(--port "$port=imaps")
	echo "$FX_IP:$port" >>"$work/targets"
done <"$work/gnutls.map"
start=$(date +%s%N)
ip netns exec "$MC_NS_SCAN" timeout -s KILL 120 "$MC_BIN" grab -v "${ports[@]}" --concurrency 16 \
	--connect-timeout 2 --read-timeout 2 --timeout 30 "$work/targets" \
	>"$work/records.ndjson" 2>"$work/grab.err"
rc=$?
# names on the test network (default ports): the right one, a wrong one (hosts b and c)
printf '%s\n' "198.18.1.11:993 b.testnet.mailcensus.invalid" "198.18.1.12,995,wrong.example.org" >"$work/named"
if [ "$rc" -eq 0 ]; then
	ip netns exec "$MC_NS_SCAN" timeout -s KILL 60 "$MC_BIN" grab --ca-file "$MC_CA_CERT" \
		--read-timeout 5 "$work/named" >>"$work/records.ndjson" 2>>"$work/grab.err"
	rc=$?
fi
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
say "grab exit $rc after ${elapsed_ms} ms; $(wc -l <"$work/records.ndjson") records"
if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$work/grab.err"; then
	sed -n 1,60p "$work/grab.err"
	die "sanitizer report"
fi
[ "$rc" -eq 0 ] || {
	tail -20 "$work/grab.err"
	die "grab exited $rc"
}

# --- the records -----------------------------------------------------------------
python3 "$MC_SRCDIR/tests/integration/schema_validate.py" "$MC_SRCDIR/output/schema/record.schema.json" \
	"$work/records.ndjson" || die "records do not match the schema"
awk '{print $1, "imaps", $2, $4, "-"}' "$work/gnutls.map" >>"$work/map"
echo "993 imaps name-match name=b.testnet.mailcensus.invalid,tls.name_match=true,posture=implicit_tls,tls.kx.group=X25519,tls.kx.secure_renegotiation=null,tls.kx.session_ticket=true,tls.kx.ocsp_stapled=false,tls.kx.alpn=null,tls.cert.san_nul=false,tls.cert.sans_truncated=false -" >>"$work/map"
echo "995 pop3s name-mismatch name=wrong.example.org,tls.name_match=false,posture=implicit_tls -" >>"$work/map"
python3 - "$work/map" "$work/records.ndjson" "$FX_IP" <<'EOF'
import json, sys

mapfile, records, ip = sys.argv[1:4]
fails = []
recs = {}
for line in open(records):
    r = json.loads(line)
    recs[r["port"]] = r

def field(r, path):
    cur = r
    if path.startswith("versions.") or path.startswith("legacy."):
        cur = r["tls"]
    for part in path.split("."):
        cur = cur.get(part) if isinstance(cur, dict) else None
    return cur

for line in open(mapfile):
    port, proto, name, expect, _tname = line.split()
    r = recs.get(int(port))
    if r is None:
        fails.append(f"{name}: no record")
        print(f"  FAIL {name}: no record")
        continue
    mism = []
    if r["posture"] == "no_tls":
        mism.append("posture no_tls")
    for item in expect.split(","):
        key, want = item.split("=", 1)
        if key == "legacy.any":
            got = any(v for v in r["tls"]["legacy"].values())
            if not got:
                mism.append(f"no legacy family accepted: {r['tls']['legacy']}")
            continue
        got = field(r, key)
        want_v = json.loads(want) if want in ("true", "false", "null") or want[0].isdigit() else want
        if got != want_v:
            mism.append(f"{key}: got {got!r} want {want_v!r}")
    cert = r["tls"]["cert"]
    if cert is not None:
        # the leaf's hash heads the chain's; the SPKI hash is a SHA-256
        if not cert["chain_sha256"] or cert["chain_sha256"][0] != cert["sha256"]:
            mism.append(f"chain_sha256 {cert['chain_sha256']} does not start with {cert['sha256']}")
        if len(cert["spki_sha256"] or "") != 64:
            mism.append(f"spki_sha256 {cert['spki_sha256']!r}")
    if r["tls"]["version"] is not None and r["tls"]["kx"] is None:
        mism.append("a TLS session without kx facts")
    probes = r["tls"]["hello"]["probes"]
    if probes > 4:
        mism.append(f"{probes} hello connections > 4")
    print(("  ok   " if not mism else "  FAIL ") + f"{name} ({proto} {port}): versions "
          f"{r['tls']['versions']} legacy {r['tls']['legacy']} hello {r['tls']['hello']}"
          + ("" if not mism else "\n         " + "; ".join(mism)))
    if mism:
        fails.append(name)
print(f"  {len(fails)} failed")
sys.exit(1 if fails else 0)
EOF
py=$?
if [ "$py" -ne 0 ]; then
	say "grab stderr (last 20 lines):"
	tail -20 "$work/grab.err"
	die "record checks failed"
fi

# --- JARM (--jarm): through STARTTLS (110/143) and directly (993/995) on the
# same dovecot TLS settings (host b) the fingerprint is the same -----------------
printf '198.18.1.11:%s\n' 110 143 993 995 >"$work/jarm.targets"
ip netns exec "$MC_NS_SCAN" timeout -s KILL 60 "$MC_BIN" grab --jarm --ca-file "$MC_CA_CERT" \
	--read-timeout 5 "$work/jarm.targets" >"$work/jarm.ndjson" 2>>"$work/grab.err" ||
	die "grab --jarm failed"
jarms=$(jq -r '.tls.jarm' "$work/jarm.ndjson" | sort -u)
[ "$(jq -r '.tls.jarm' "$work/jarm.ndjson" | wc -l)" -eq 4 ] || die "grab --jarm: not 4 records"
[ "$(printf '%s\n' "$jarms" | wc -l)" -eq 1 ] || die "JARM differs by port on one TLS config: $jarms"
case $jarms in
*[!0-9a-f]* | "" | 00000000000000000000000000000000000000000000000000000000000000)
	die "JARM not a fingerprint: $jarms" ;;
esac
[ "${#jarms}" -eq 62 ] || die "JARM length ${#jarms}: $jarms"
jq -e 'select(.tls.jarm != null)' "$work/records.ndjson" >/dev/null &&
	die "a JARM without --jarm"
say "JARM $jarms on 110/143/993/995"

# --- the report counts SSLv3 and legacy-suite hosts (every posture is one host) --
mkdir -p "$work/rep"
cp "$work/records.ndjson" "$work/rep/shard-00000.ndjson"
"$MC_BIN" report "$work/rep" --format json -o "$work/report.json" || die "report --format json"
got=$(jq -c '[.tls_versions.hosts_ssl2, .tls_versions.hosts_ssl3, .legacy_suites]' "$work/report.json")
want='[1,1,{"hosts":1,"hosts_rc4":1,"hosts_3des":1,"hosts_des":0,"hosts_export":1,"hosts_null":1,"hosts_anon":1}]'
[ "$got" = "$want" ] || die "report: got $got, want $want"
"$MC_BIN" report "$work/rep" | grep -q 'hosts accepting SSLv2: 1, SSLv3: 1; a legacy suite: 1' ||
	die "text report lacks the SSLv3 / legacy-suite line"
# --- Shadowserver export: sslv3_supported and the serial come from the hellos / cert
"$MC_BIN" export --format shadowserver-csv -o "$work/ss" "$work/rep" >/dev/null 2>&1 ||
	die "export --format shadowserver-csv"
python3 - "$work/ss" "$FX_BASE" <<'PY' || die "Shadowserver export columns"
import csv, sys
rows = {int(r["port"]): r for f in ("scan_imap.csv", "scan_pop3.csv")
        for r in csv.DictReader(open(f"{sys.argv[1]}/{f}"))}
base = int(sys.argv[2])
assert rows[base]["sslv3_supported"] == "Y", rows[base]["sslv3_supported"]      # imap-ssl3-rc4
assert rows[base + 3]["sslv3_supported"] == "N", rows[base + 3]["sslv3_supported"]  # pop3s-null
assert rows[993]["cert_serial_number"] and rows[993]["sslv3_supported"] == "N"
PY
say "PASS"
