#!/usr/bin/env python3
"""diff_check.py OLD_DIR NEW_DIR DIFF_JSON — recompute `mailcensus diff` from the
shards with an independent implementation (dicts in memory, the rules as written
in docs/output.md) and compare every count: services and hosts per change,
reasons, the posture matrix and the per-country host changes. Plain or .zst
shards (zstd -dc). Prints one line per check; exits 1 on any mismatch."""
import glob, json, os, subprocess, sys

RANK = {'no_tls': 0, 'starttls_optional': 1, 'starttls_required': 2, 'implicit_tls': 2}
REASONS = ['posture_up', 'posture_down', 'cleartext_closed', 'cleartext_opened',
           'tls1_0_dropped', 'tls1_0_added', 'tls1_1_dropped', 'tls1_1_added']
CHANGES = ['unchanged', 'improved', 'regressed', 'mixed', 'appeared', 'disappeared']
POSTURES = ['unknown', 'no_tls', 'starttls_optional', 'starttls_required', 'implicit_tls']


def records(d):
    files = sorted(glob.glob(os.path.join(d, 'shard-*.ndjson')) + glob.glob(os.path.join(d, 'shard-*.ndjson.zst')))
    out = {}
    for f in files:
        text = subprocess.run(['zstd', '-dc', f], capture_output=True, check=True).stdout.decode() \
            if f.endswith('.zst') else open(f, encoding='utf-8').read()
        for line in text.split('\n'):
            if not line:
                continue
            r = json.loads(line)
            if (r.get('error') or '').startswith('connect:'):
                continue
            key = (r['ip'], r['port'])
            if key in out:
                continue  # the first of duplicates is kept
            vers = (r.get('tls') or {}).get('versions') or {}
            out[key] = {'posture': r.get('posture', 'unknown'), 'ct': r.get('cleartext_login'),
                        't10': vers.get('tls1_0'), 't11': vers.get('tls1_1'),
                        'cc': (r.get('geo') or {}).get('country'), 'asn': (r.get('asn') or {}).get('number')}
    return out


def classify(o, n):
    reasons = set()
    a, b = RANK.get(o['posture']), RANK.get(n['posture'])
    if a is not None and b is not None and a != b:
        reasons.add('posture_up' if b > a else 'posture_down')
    for key, fixed, broke in (('ct', 'cleartext_closed', 'cleartext_opened'),
                              ('t10', 'tls1_0_dropped', 'tls1_0_added'),
                              ('t11', 'tls1_1_dropped', 'tls1_1_added')):
        if o[key] is True and n[key] is False:
            reasons.add(fixed)
        elif o[key] is False and n[key] is True:
            reasons.add(broke)
    better = reasons & {'posture_up', 'cleartext_closed', 'tls1_0_dropped', 'tls1_1_dropped'}
    worse = reasons - better
    return ('mixed' if better and worse else 'improved' if better else 'regressed' if worse else 'unchanged'), reasons


def host_summary(svcs):
    """weakest ranked posture; yes if any port says yes, no if one says no."""
    h = {'posture': 'unknown', 'ct': None, 't10': None, 't11': None, 'cc': None, 'asn': None}
    for port in sorted(svcs):
        s = svcs[port]
        if RANK.get(h['posture']) is None or (RANK.get(s['posture']) is not None and RANK[s['posture']] < RANK[h['posture']]):
            h['posture'] = s['posture']
        for k in ('ct', 't10', 't11'):
            if h[k] is True or s[k] is True:
                h[k] = True
            elif h[k] is False or s[k] is False:
                h[k] = False
        h['cc'] = h['cc'] or s['cc']
        h['asn'] = h['asn'] or s['asn']
    return h


def main():
    old, new, got = records(sys.argv[1]), records(sys.argv[2]), json.load(open(sys.argv[3]))
    svc = dict.fromkeys(CHANGES, 0)
    hosts = dict.fromkeys(CHANGES, 0)
    svc_r = dict.fromkeys(REASONS, 0)
    host_r = dict.fromkeys(REASONS, 0)
    matrix, hmatrix, countries = {}, {}, {}
    for key in set(old) | set(new):
        o, n = old.get(key), new.get(key)
        c, rs = ('appeared', set()) if o is None else ('disappeared', set()) if n is None else classify(o, n)
        svc[c] += 1
        for r in rs:
            svc_r[r] += 1
        cell = (o['posture'] if o else 'absent', n['posture'] if n else 'absent')
        matrix[cell] = matrix.get(cell, 0) + 1
    by_ip_o, by_ip_n = {}, {}
    for (ip, port), v in old.items():
        by_ip_o.setdefault(ip, {})[port] = v
    for (ip, port), v in new.items():
        by_ip_n.setdefault(ip, {})[port] = v
    for ip in set(by_ip_o) | set(by_ip_n):
        o = host_summary(by_ip_o[ip]) if ip in by_ip_o else None
        n = host_summary(by_ip_n[ip]) if ip in by_ip_n else None
        c, rs = ('appeared', set()) if o is None else ('disappeared', set()) if n is None else classify(o, n)
        hosts[c] += 1
        for r in rs:
            host_r[r] += 1
        cell = (o['posture'] if o else 'absent', n['posture'] if n else 'absent')
        hmatrix[cell] = hmatrix.get(cell, 0) + 1
        cc = (n and n['cc']) or (o and o['cc'])
        if cc and c != 'unchanged':
            countries.setdefault(cc, dict.fromkeys(CHANGES, 0))[c] += 1
    fails = 0

    def check(what, want, have):
        nonlocal fails
        ok = want == have
        fails += not ok
        print(('ok   ' if ok else 'FAIL ') + f'{what}: ' + (json.dumps(want) if ok else f'want {json.dumps(want)}, got {json.dumps(have)}'))

    check('services per change', svc, got['services'])
    check('hosts per change', hosts, got['hosts'])
    check('service reasons', svc_r, got['service_reasons'])
    check('host reasons', host_r, got['host_reasons'])
    check('posture matrix', sorted([a, b, v] for (a, b), v in matrix.items()),
          sorted([e['from'], e['to'], e['services']] for e in got['posture']))
    check('host posture matrix', sorted([a, b, v] for (a, b), v in hmatrix.items()),
          sorted([e['from'], e['to'], e['hosts']] for e in got['host_posture']))
    have_cc = {e['country']: {k: e[k] for k in CHANGES if k != 'unchanged'} for e in got['countries']}
    want_cc = {k: {c: v[c] for c in CHANGES if c != 'unchanged'} for k, v in countries.items()}
    check('host changes per country', want_cc, have_cc)
    check('old services/hosts', [len(old), len(by_ip_o)], [got['old']['services'], got['old']['hosts']])
    check('new services/hosts', [len(new), len(by_ip_n)], [got['new']['services'], got['new']['hosts']])
    sys.exit(1 if fails else 0)


main()
