# shellcheck shell=bash
# testnet.d/truth.sh — the ground truth, computed from the configuration.
# Sourced by scripts/testnet, after dovecot.sh.
#   reads:  dir, HOSTS, RST_IP, SILENT_IP, RANGE_CIDR, RANGE_COUNT from
#           scripts/testnet; POSTURES (dovecot.sh); $dir/certs/*.pem
#   writes: $dir/truth.json (through $dir/truth.json.tmp); truth-open,
#           truth-closed, truth-silent print IP:PORT lines on stdout
# shellcheck disable=SC2154
#
# truth_write emits one line per (address, port) into python3, which writes
# $dir/truth.json (format in docs/testnet.md). Certificate SHA-256 is that of
# the DER leaf each instance serves; chain_valid is `openssl verify` against
# the test CA as the only extra trust anchor. cleartext_login_evidence is
# "behaviour" on every open port: every dovecot here answers the grabber's
# login probe (AUTH PLAIN "+ " when plaintext auth is allowed, "NO
# [PRIVACYREQUIRED]" / "-ERR ... SSL/TLS" when disable_plaintext_auth is
# set), and on 993/995 TLS comes first.

# Leaf certificates that verify against the test CA, one path a line: a
# single `openssl verify` for all of them (each openssl run costs ~0.1 s).
verified_leaves() {
	local c=$dir/certs f leaves=()
	for f in "$c"/*.pem; do
		case ${f##*/} in ca.pem | dh.pem) ;; *) leaves+=("$f") ;; esac
	done
	openssl verify -CAfile "$c/ca.pem" "${leaves[@]}" 2>/dev/null | sed -n 's/: OK$//p' || true
}

# TLS versions a posture accepts: dovecot 2.3's default minimum is TLSv1.2.
tls_versions() { # MIN -> "v10 v11 v12 v13"
	case $1 in
	TLSv1) echo "true true true true" ;;
	TLSv1.3) echo "false false false true" ;;
	*) echo "false false true true" ;;
	esac
}

# Lines: key ip name port state [proto posture cleartext adv acc v10 v11 v12 v13 sha chain]
truth_lines() {
	local p inst ssl min plain tls cert dpa ip sha chain vers posture clear verified
	verified=$(verified_leaves)
	for p in "${POSTURES[@]}"; do
		read -r inst ssl min plain tls cert dpa <<<"$p"
		ip=$(host_ip "$inst")
		sha=null chain=null vers="null null null null"
		if [ "$cert" != none ]; then
			sha=pem:$dir/certs/$inst.pem # python3 turns it into the DER's SHA-256
			chain=false
			grep -qxF "$dir/certs/$inst.pem" <<<"$verified" && chain=true
			vers=$(tls_versions "$min")
		fi
		if [ "$plain" = yes ]; then
			if [ "$ssl" = no ]; then
				posture=no_tls clear=true adv=false
			elif [ "$dpa" = yes ]; then
				posture=starttls_required clear=false adv=true
			else
				posture=starttls_optional clear=true adv=true
			fi
			echo "host $ip $inst 110 open pop3 $posture $clear $adv $adv $vers $sha $chain"
			echo "host $ip $inst 143 open imap $posture $clear $adv $adv $vers $sha $chain"
		else
			echo "host $ip $inst 110 closed"
			echo "host $ip $inst 143 closed"
		fi
		if [ "$tls" = yes ]; then
			echo "host $ip $inst 993 open imaps implicit_tls false false false $vers $sha $chain"
			echo "host $ip $inst 995 open pop3s implicit_tls false false false $vers $sha $chain"
		else
			echo "host $ip $inst 993 closed"
			echo "host $ip $inst 995 closed"
		fi
	done
	for port in 110 143 993 995; do
		echo "host $RST_IP rst $port closed"
		echo "host $SILENT_IP silent $port silent"
	done
	echo "range $RANGE_CIDR range 143 open imap no_tls true false false null null null null null null"
	for port in 110 993 995; do echo "range $RANGE_CIDR range $port closed"; done
}

truth_write() {
	truth_lines | python3 -c '
import base64, hashlib, json, sys
count = int(sys.argv[1])
def der_sha256(path):
    pem = open(path).read()
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return hashlib.sha256(base64.b64decode("".join(body.split()))).hexdigest()
hosts, ranges = {}, {}
def val(s):
    return None if s == "null" else True if s == "true" else False if s == "false" else s
for line in sys.stdin:
    f = line.split()
    kind, ip, name, port, state = f[:5]
    entry = {"state": state}
    if state == "open":
        proto, posture, clear, adv, acc, v10, v11, v12, v13, sha, chain = f[5:]
        entry.update(proto=proto, posture=posture, cleartext_login=val(clear),
                     cleartext_login_evidence="behaviour",
                     starttls_advertised=val(adv), starttls_accepted=val(acc),
                     tls_versions=None if v10 == "null" else
                     {"tls1_0": val(v10), "tls1_1": val(v11), "tls1_2": val(v12), "tls1_3": val(v13)},
                     cert_sha256=der_sha256(sha[4:]) if sha.startswith("pem:") else val(sha),
                     chain_valid=val(chain))
    if kind == "host":
        hosts.setdefault(ip, {"ip": ip, "name": name, "ports": {}})["ports"][port] = entry
    else:
        ranges.setdefault(ip, {"cidr": ip, "count": count, "ports": {}})["ports"][port] = entry
json.dump({"hosts": list(hosts.values()), "ranges": list(ranges.values())},
          open(sys.argv[2], "w"), indent=1)
' "$RANGE_COUNT" "$dir/truth.json.tmp"
	mv "$dir/truth.json.tmp" "$dir/truth.json"
}

tn_truth_list() { # open|closed|silent
	if [ ! -f "$dir/truth.json" ]; then
		echo "testnet: $dir/truth.json missing (scripts/testnet up)" >&2
		return 1
	fi
	python3 -c '
import ipaddress, json, sys
t = json.load(open(sys.argv[1]))
want = sys.argv[2]
out = sys.stdout
for h in t["hosts"]:
    for port, e in h["ports"].items():
        if e["state"] == want:
            out.write("%s:%s\n" % (h["ip"], port))
for r in t["ranges"]:
    for port, e in r["ports"].items():
        if e["state"] == want:
            for a in ipaddress.ip_network(r["cidr"]):
                out.write("%s:%s\n" % (a, port))
' "$dir/truth.json" "$1" | sort -V
}
