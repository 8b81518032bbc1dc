#!/usr/bin/env bash
# test_testnet — checks the test network itself against its ground truth,
# from inside the scanner namespace, with independent oracles:
#   - shape: no veth in the root namespace, no default route, forwarding off,
#     tx checksum offload off on both veth ends;
#   - every host port in $MC_TRUTH: closed ports refuse, silent ports time
#     out, open plaintext ports greet and advertise STARTTLS/STLS,
#     LOGINDISABLED and USER exactly as the truth's posture says;
#   - every TLS-capable port: `openssl s_client` (-starttls imap|pop3, or
#     direct on 993/995) accepts/refuses -tls1, -tls1_1 (security level 0),
#     -tls1_2, -tls1_3 as the truth says; the leaf's SHA-256 matches; the
#     chain verifies against the test CA exactly when chain_valid is true;
#   - a sample of the 4,096-address range greets `* OK` on 143 and refuses
#     110/993/995; truth-open/closed/silent agree with the JSON;
#   - sslscan as a second oracle on hosts d (TLS 1.0 on) and e (1.3 only).
# Uses the network the runner brought up (instance $MC_TESTNET, default mc).
set -uo pipefail
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$MC_SRCDIR" || exit 1

need_root "network namespaces"
need_cmd jq openssl python3 sslscan ethtool
need_testnet

work_dir
probe=(ip netns exec "$MC_NS_SCAN" python3 "$MC_SRCDIR/tests/testnet/mailprobe.py")

# check_eq DESC EXPECTED ACTUAL: one line per check; FAIL lines are counted.
check_eq() {
	if [ "$2" = "$3" ]; then
		printf 'ok    %s\n' "$1"
	else
		printf 'FAIL  %s: expected %s, got %s\n' "$1" "$2" "$3"
	fi
}
yesno() { if [ "$1" = true ]; then echo yes; else echo no; fi; }

s_client() { # IP PORT PROTO ARGS... (stdin closed, 20 s bound: a loaded box is slow)
	local ip=$1 port=$2 proto=$3 st=()
	shift 3
	case $proto in
	imap | pop3) st=(-starttls "$proto") ;;
	esac
	ip netns exec "$MC_NS_SCAN" timeout 20 openssl s_client -connect "$ip:$port" \
		-servername "$ip" "${st[@]}" -CAfile "$MC_CA_CERT" "$@" </dev/null 2>&1
}

# The certificate facts of one completed handshake (s_client output).
check_cert() { # WHAT OUTPUT SHA CHAIN
	local sha verify=false
	sha=$(openssl x509 -outform DER <<<"$2" 2>/dev/null | sha256sum | cut -d' ' -f1)
	check_eq "$1 leaf sha256" "$3" "$sha"
	grep -q 'Verify return code: 0 (ok)' <<<"$2" && verify=true
	check_eq "$1 chain valid against test CA" "$4" "$verify"
}

# One TLS version: accepted if the handshake pinned to it completes
# (dovecot refuses other versions with a bare FIN). Accepted handshakes also
# check the leaf and the chain.
check_version() { # IP PORT PROTO FLAG NAME EXPECTED SHA CHAIN
	local out got=no
	out=$(s_client "$1" "$2" "$3" "$4" -cipher 'DEFAULT@SECLEVEL=0')
	# -tls1* pins the version: any completed handshake is at that version.
	grep -Eq '^New, [^(].*Cipher is [^(]' <<<"$out" && got=yes
	check_eq "$1:$2 $5" "$(yesno "$6")" "$got"
	[ "$got" = yes ] && check_cert "$1:$2 $5" "$out" "$7" "$8"
	return 0
}

# The full version matrix where MATRIX=yes, else one default handshake.
check_tls_port() { # IP PORT PROTO MATRIX V10 V11 V12 V13 SHA CHAIN
	local ip=$1 port=$2 proto=$3 out
	if [ "$4" = yes ]; then
		check_version "$ip" "$port" "$proto" -tls1 TLSv1 "$5" "$9" "${10}"
		check_version "$ip" "$port" "$proto" -tls1_1 TLSv1.1 "$6" "$9" "${10}"
		check_version "$ip" "$port" "$proto" -tls1_2 TLSv1.2 "$7" "$9" "${10}"
		check_version "$ip" "$port" "$proto" -tls1_3 TLSv1.3 "$8" "$9" "${10}"
	else
		out=$(s_client "$ip" "$port" "$proto")
		check_eq "$ip:$port $proto TLS handshake" yes "$(grep -q 'Cipher is [^(]' <<<"$out" && echo yes || echo no)"
		check_cert "$ip:$port" "$out" "$9" "${10}"
	fi
}

check_plain_port() { # IP PORT PROTO POSTURE CLEARTEXT ADVERTISED
	local ip=$1 port=$2 proto=$3 facts
	facts=$("${probe[@]}" "$proto" "$ip" "$port")
	check_eq "$ip:$port $proto greeting" greeting=ok "$(grep -o 'greeting=[a-z]*' <<<"$facts")"
	check_eq "$ip:$port $proto STARTTLS advertised" "starttls=$(yesno "$6")" \
		"$(grep -o 'starttls=[a-z]*' <<<"$facts")"
	if [ "$proto" = imap ]; then
		check_eq "$ip:$port LOGINDISABLED ($4)" "logindisabled=$(yesno "$([ "$5" = true ] && echo false || echo true)")" \
			"$(grep -o 'logindisabled=[a-z]*' <<<"$facts")"
	else
		check_eq "$ip:$port USER in CAPA ($4)" "user=$(yesno "$5")" "$(grep -o 'user=[a-z]*' <<<"$facts")"
	fi
}

# All ports of one host, from its truth lines on stdin. The version matrix
# runs on 143 and 995 (STARTTLS IMAP, implicit POP3), and on 993 when 143 is
# closed; 110 and 993 otherwise get one handshake each: the same dovecot
# and settings serve every port of a host.
check_host() {
	local ip port state proto posture clear adv _acc v10 v11 v12 v13 sha chain matrix lines
	lines=$(cat)
	while read -r ip port state proto posture clear adv _acc v10 v11 v12 v13 sha chain; do
		matrix=no
		case $port in
		143 | 995) matrix=yes ;;
		993) grep -q " 143 open " <<<"$lines" || matrix=yes ;;
		esac
		case $state in
		closed) check_eq "$ip:$port closed" refused "$("${probe[@]}" tcp "$ip" "$port")" ;;
		silent) check_eq "$ip:$port silent" timeout "$("${probe[@]}" tcp "$ip" "$port")" ;;
		open)
			case $proto in
			imap | pop3) check_plain_port "$ip" "$port" "$proto" "$posture" "$clear" "$adv" ;;
			esac
			if [ "$v13" != null ]; then
				check_tls_port "$ip" "$port" "$proto" "$matrix" "$v10" "$v11" "$v12" "$v13" "$sha" "$chain"
			fi
			;;
		esac
	done <<<"$lines"
}

check_shape() {
	local v
	check_eq "no scan0 in the root namespace" absent "$(ip link show scan0 >/dev/null 2>&1 && echo present || echo absent)"
	check_eq "no srv0 in the root namespace" absent "$(ip link show srv0 >/dev/null 2>&1 && echo present || echo absent)"
	check_eq "scanner ns has no default route" "" "$(ip netns exec "$MC_NS_SCAN" ip -4 route show default)"
	check_eq "scanner ns routes 198.18.0.0/15 via $MC_GW_IP" yes \
		"$(ip netns exec "$MC_NS_SCAN" ip -4 route show 198.18.0.0/15 | grep -q "via $MC_GW_IP" && echo yes || echo no)"
	for v in "$MC_NS_SCAN" "$MC_NS_SRV"; do
		check_eq "$v forwarding off" 0 "$(ip netns exec "$v" sysctl -n net.ipv4.ip_forward)"
	done
	check_eq "scan0 tx checksum offload off" off \
		"$(ip netns exec "$MC_NS_SCAN" ethtool -k scan0 | awk '/^tx-checksumming:/{print $2}')"
	check_eq "srv0 tx checksum offload off" off \
		"$(ip netns exec "$MC_NS_SRV" ethtool -k srv0 | awk '/^tx-checksumming:/{print $2}')"
	check_eq "scan0 MAC is MC_SCAN_MAC" "$MC_SCAN_MAC" "$(ip netns exec "$MC_NS_SCAN" cat /sys/class/net/scan0/address)"
	check_eq "srv0 MAC is MC_GW_MAC" "$MC_GW_MAC" "$(ip netns exec "$MC_NS_SRV" cat /sys/class/net/srv0/address)"
}

check_range() {
	local cidr count sample bad
	cidr=$(jq -r '.ranges[0].cidr' "$MC_TRUTH")
	count=$(jq -r '.ranges[0].count' "$MC_TRUTH")
	check_eq "range in truth" "198.18.16.0/20 4096" "$cidr $count"
	# first, last and 30 pseudo-random addresses of the /20
	sample=$(python3 -c 'import ipaddress, random
n = list(ipaddress.ip_network("198.18.16.0/20"))
r = random.Random(7)
print(" ".join(str(a) for a in [n[0], n[-1]] + r.sample(n, 30)))')
	# shellcheck disable=SC2086
	bad=$("${probe[@]}" greet 143 $sample | grep -c FAIL)
	check_eq "range sample of 32 addresses greets * OK on 143" 0 "$bad"
	for port in 110 993 995; do
		check_eq "range 198.18.20.7:$port closed" refused "$("${probe[@]}" tcp 198.18.20.7 "$port")"
	done
}

check_lists() {
	local want
	scripts/testnet truth-open >"$work/open.list"
	scripts/testnet truth-closed >"$work/closed.list"
	scripts/testnet truth-silent >"$work/silent.list"
	want=$(jq '[.hosts[].ports[] | select(.state == "open")] | length + 4096' "$MC_TRUTH")
	check_eq "truth-open lists every open pair" "$want" "$(wc -l <"$work/open.list")"
	check_eq "truth-open is sorted -V" "$(sort -V "$work/open.list" | md5sum)" "$(md5sum <"$work/open.list")"
	check_eq "truth-silent" "198.18.1.21:110 198.18.1.21:143 198.18.1.21:993 198.18.1.21:995" \
		"$(tr '\n' ' ' <"$work/silent.list" | sed 's/ $//')"
	check_eq "truth-closed has the RST host" yes "$(grep -qx 198.18.1.20:143 "$work/closed.list" && echo yes)"
	check_eq "truth-closed has the range's 110" yes "$(grep -qx 198.18.31.255:110 "$work/closed.list" && echo yes)"
}

# sslscan's protocol check only (no cipher enumeration): a second oracle.
sslscan_versions() { # ARGS...
	ip netns exec "$MC_NS_SCAN" timeout 60 sslscan --no-colour --no-ciphersuites --no-compression \
		--no-fallback --no-groups --no-heartbleed --no-renegotiation --no-check-certificate \
		--timeout=15 "$@" 2>&1 | awk '/^TLSv1\.[0-3] / {printf "%s=%s ", $1, $2}' | sed 's/ $//'
}

check_sslscan() {
	check_eq "sslscan d 198.18.1.13:143 (STARTTLS)" \
		"TLSv1.0=enabled TLSv1.1=enabled TLSv1.2=enabled TLSv1.3=enabled" \
		"$(sslscan_versions --starttls-imap 198.18.1.13:143)"
	check_eq "sslscan e 198.18.1.14:993" \
		"TLSv1.0=disabled TLSv1.1=disabled TLSv1.2=disabled TLSv1.3=enabled" \
		"$(sslscan_versions 198.18.1.14:993)"
}

t0=$(date +%s)
say "checking test network '$MC_TESTNET' against $MC_TRUTH"
check_shape >"$work/00-shape"
# One background job per host: the hosts are independent and TLS
# handshakes dominate the run time.
# One line per host port: ip port state proto posture cleartext advertised
# accepted tls1_0 tls1_1 tls1_2 tls1_3 sha256 chain_valid (absent = null).
jq -r '.hosts[] | .ip as $ip | .ports | to_entries[] | .key as $port | .value as $v |
	[$ip, $port, $v.state, $v.proto, $v.posture, $v.cleartext_login,
	 $v.starttls_advertised, $v.starttls_accepted, $v.tls_versions.tls1_0,
	 $v.tls_versions.tls1_1, $v.tls_versions.tls1_2, $v.tls_versions.tls1_3,
	 $v.cert_sha256, $v.chain_valid] | map(tostring) | join(" ")' "$MC_TRUTH" >"$work/truth.lines"
pids=()
for ip in $(cut -d' ' -f1 "$work/truth.lines" | sort -uV); do
	grep "^$ip " "$work/truth.lines" | check_host >"$work/10-$ip" &
	pids+=($!)
done
check_range >"$work/20-range" &
pids+=($!)
check_lists >"$work/30-lists"
check_sslscan >"$work/40-sslscan"
for p in "${pids[@]}"; do wait "$p"; done

cat "$work"/[0-9]*
passed=$(cat "$work"/[0-9]* | grep -c '^ok')
failed=$(cat "$work"/[0-9]* | grep -c '^FAIL')
say "$passed checks passed, $failed failed in $(($(date +%s) - t0)) s"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
