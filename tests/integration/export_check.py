#!/usr/bin/env python3
"""export_check.py MODE ... — check `mailcensus export` output against the records
with Python's csv and json modules (independent of the C code).

  flat SCHEMA CSV DIR...          every row and every column of --format csv
  shadowserver SSDIR DIR...       scan_imap.csv / scan_pop3.csv of --format shadowserver-csv
  count CSV N                     the CSV has N data rows
  bigquery SCHEMA BQ.json         the BigQuery schema mirrors record.schema.json
Records are read from each DIR's manifest order (plain or .zst shards).
Prints one line per check; exits 1 on any failure."""
import csv, json, os, re, subprocess, sys

fails = 0


def check(ok, what):
    global fails
    print(('ok   ' if ok else 'FAIL ') + what)
    fails += not ok
    return ok


def records(dirs):
    out = []
    for d in dirs:
        names = [f['name'] for f in json.load(open(os.path.join(d, 'manifest.json')))['files']]
        for n in names:
            p = os.path.join(d, n)
            raw = subprocess.run(['zstd', '-dc', p], capture_output=True, check=True).stdout if n.endswith('.zst') \
                else open(p, 'rb').read()
            out += [json.loads(l) for l in raw.decode('utf-8').split('\n') if l]
    return out


def leaves(schema, node, path):
    """(column name, path, kind) for every leaf; kind: str int bool time array."""
    while True:
        if '$ref' in node:
            node = schema['$defs'][node['$ref'].split('/')[-1]]
        elif 'oneOf' in node:
            node = [a for a in node['oneOf'] if a.get('type') != 'null'][0]
        else:
            break
    t = node.get('type')
    t = [x for x in t if x != 'null'][0] if isinstance(t, list) else t
    if t == 'object':
        for k, v in node['properties'].items():
            yield from leaves(schema, v, path + [k])
        return
    yield '_'.join(path), path, t


def cell(v):
    if v is None:
        return ''
    if isinstance(v, bool):
        return 'true' if v else 'false'
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return v.replace('\x00', '\ufffd')
    return v  # lists: compared after json.loads


def get(rec, path):
    for k in path:
        rec = rec.get(k) if isinstance(rec, dict) else None
    return rec


def flat(schema_path, csv_path, dirs):
    schema = json.load(open(schema_path))
    cols = list(leaves(schema, schema, []))
    recs = records(dirs)
    with open(csv_path, newline='', encoding='utf-8') as f:
        rows = list(csv.reader(f))
    check(rows[0] == [c[0] for c in cols], f'header is the {len(cols)} schema leaves in order')
    check(len(rows) - 1 == len(recs), f'{len(recs)} records, {len(rows) - 1} rows')
    bad = {}
    for rec, row in zip(recs, rows[1:]):
        if len(row) != len(cols):
            bad['row length'] = bad.get('row length', 0) + 1
            continue
        for (name, path, kind), got in zip(cols, row):
            want = get(rec, path)
            if kind == 'array':
                ok = (got == '' and want is None) or (want is not None and json.loads(got) == want)
            else:
                ok = got == cell(want)
            if not ok:
                bad[name] = bad.get(name, 0) + 1
    check(not bad, f'every column of every row equals the record ({len(cols)} columns x {len(recs)} rows)'
          + (f'; mismatches: {bad}' if bad else ''))


# The column list of Shadowserver's scan_imap / scan_pop3 / *_vulnerable reports,
# copied from their published schema (The-Shadowserver-Foundation/report_schema,
# reports.json, 2026-03-24): the reference the C table must match.
SS_HEADER = (
    'timestamp severity ip protocol port hostname tag asn geo region city naics hostname_source sector '
    'banner cert_expiration_date cert_expired cert_issue_date cert_length cert_serial_number cert_valid '
    'cipher_suite handshake issuer_business_category issuer_common_name issuer_country '
    'issuer_email_address issuer_given_name issuer_locality_name issuer_organization_name '
    'issuer_organization_unit_name issuer_postal_code issuer_serial_number issuer_state_or_province_name '
    'issuer_street_address issuer_surname jarm key_algorithm md5_fingerprint self_signed sha1_fingerprint '
    'sha256_fingerprint sha512_fingerprint signature_algorithm ssl_version sslv3_supported '
    'subject_business_category subject_common_name subject_country subject_email_address '
    'subject_given_name subject_locality_name subject_organization_name subject_organization_unit_name '
    'subject_postal_code subject_serial_number subject_state_or_province_name subject_street_address '
    'subject_surname validation_level').split()
DN_ATTR = {'business_category': 'businessCategory', 'common_name': 'CN', 'country': 'C',
           'email_address': 'emailAddress', 'given_name': 'GN', 'locality_name': 'L',
           'organization_name': 'O', 'organization_unit_name': 'OU', 'postal_code': 'postalCode',
           'serial_number': 'serialNumber', 'state_or_province_name': 'ST', 'street_address': 'street',
           'surname': 'SN'}


def vulnerable(r):
    return r.get('cleartext_login') is True or r.get('tls_obsolete') is True or \
        (r.get('starttls') or {}).get('injection') is True


def ss_time(t):
    return '' if not t else t[:10] + ' ' + t[11:19]


def dn_attr(dn, key):
    if not isinstance(dn, str):
        return ''
    for part in re.split(r'(?<!\\),', dn):
        if part.startswith(key + '='):
            return cell(part[len(key) + 1:])
    return ''


def yn(v):
    return 'Y' if v is True else 'N' if v is False else ''


def ss_row(r, vul):
    cert = (r.get('tls') or {}).get('cert') or {}
    tls = r.get('tls') or {}
    fam = 'imap' if r['proto'].startswith('imap') else 'pop3'
    tag = fam + (';cleartext-login' if r.get('cleartext_login') is True else '') \
        + (';tls-obsolete' if r.get('tls_obsolete') is True else '') \
        + (';starttls-injection' if (r.get('starttls') or {}).get('injection') is True else '')
    known = {
        'timestamp': ss_time(r['time']), 'severity': 'medium' if vul else 'low', 'ip': r['ip'],
        'protocol': 'tcp', 'port': str(r['port']), 'tag': tag, 'asn': cell(r['asn']['number']),
        'geo': cell(r['geo']['country']), 'banner': cell(r['banner']),
        'cert_expiration_date': ss_time(cert.get('not_after')), 'cert_expired': yn(cert.get('expired')),
        'cert_issue_date': ss_time(cert.get('not_before')), 'cert_length': cell(cert.get('key_bits')),
        'cert_valid': yn(cert.get('chain_valid')), 'cipher_suite': cell(tls.get('cipher')),
        'handshake': cell(tls.get('version')), 'key_algorithm': cell(cert.get('key_type')),
        'self_signed': yn(cert.get('self_signed')), 'sha256_fingerprint': cell(cert.get('sha256')),
        'signature_algorithm': cell(cert.get('sig_alg')),
    }
    for side in ('issuer', 'subject'):
        for f, attr in DN_ATTR.items():
            known[f'{side}_{f}'] = dn_attr(cert.get(side), attr)
    return [known.get(name, '') for name in SS_HEADER]


def shadowserver(ssdir, dirs):
    recs = [r for r in records(dirs) if not (r.get('error') or '').startswith('connect:')]
    for fam in ('imap', 'pop3'):
        for vul in (False, True):
            name = f'scan_{fam}{"_vulnerable" if vul else ""}.csv'
            with open(os.path.join(ssdir, name), newline='', encoding='utf-8') as f:
                rows = list(csv.reader(f))
            want = [ss_row(r, vul) for r in recs if r['proto'].startswith(fam) and (not vul or vulnerable(r))]
            check(rows[0] == SS_HEADER, f'{name}: Shadowserver header ({len(SS_HEADER)} columns)')
            check(len(rows) - 1 == len(want), f'{name}: {len(want)} services, {len(rows) - 1} rows')
            bad = {}
            for w, g in zip(want, rows[1:]):
                for col, a, b in zip(SS_HEADER, w, g):
                    if a != b:
                        bad[col] = bad.get(col, 0) + 1
            filled = sorted({c for w in want for c, v in zip(SS_HEADER, w) if v})
            check(not bad, f'{name}: every column of every row ({len(filled)} columns filled)'
                  + (f'; mismatches: {bad}' if bad else ''))


def bigquery(schema_path, bq_path):
    schema = json.load(open(schema_path))
    bq = json.load(open(bq_path))

    def walk(node):
        while '$ref' in node or 'oneOf' in node:
            node = schema['$defs'][node['$ref'].split('/')[-1]] if '$ref' in node else \
                [a for a in node['oneOf'] if a.get('type') != 'null'][0]
        return node

    def expect(props):
        out = []
        for k, v in props.items():
            n = walk(v)
            t = n.get('type')
            t = [x for x in t if x != 'null'][0] if isinstance(t, list) else t
            if t == 'object':
                out.append({'name': k, 'type': 'RECORD', 'mode': 'NULLABLE', 'fields': expect(n['properties'])})
            elif t == 'array':
                items = walk(n['items'])
                if items.get('type') == 'object':
                    out.append({'name': k, 'type': 'RECORD', 'mode': 'REPEATED', 'fields': expect(items['properties'])})
                else:
                    out.append({'name': k, 'type': 'STRING', 'mode': 'REPEATED'})
            else:
                ty = {'boolean': 'BOOL', 'integer': 'INT64'}.get(t, 'STRING')
                if t == 'string' and n.get('pattern', '').startswith('^[0-9]{4}-'):
                    ty = 'TIMESTAMP'
                out.append({'name': k, 'type': ty, 'mode': 'NULLABLE'})
        return out

    def strip(fields):
        return [{k: (strip(v) if k == 'fields' else v) for k, v in f.items() if k != 'description'} for f in fields]

    check(strip(bq) == expect(schema['properties']), 'BigQuery schema: every field, type and mode from the JSON Schema')
    check(all('description' in f for f in bq if 'description' in schema['properties'][f['name']]),
          'BigQuery schema keeps the descriptions')


mode = sys.argv[1]
if mode == 'flat':
    flat(sys.argv[2], sys.argv[3], sys.argv[4:])
elif mode == 'shadowserver':
    shadowserver(sys.argv[2], sys.argv[3:])
elif mode == 'count':
    with open(sys.argv[2], newline='', encoding='utf-8') as f:
        n = len(list(csv.reader(f))) - 1
    check(n == int(sys.argv[3]), f'{sys.argv[2].split("/")[-1]}: {sys.argv[3]} rows (got {n})')
elif mode == 'bigquery':
    bigquery(sys.argv[2], sys.argv[3])
sys.exit(1 if fails else 0)
