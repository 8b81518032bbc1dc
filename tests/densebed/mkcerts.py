#!/usr/bin/env python3
"""mkcerts.py DIR — the dense bed's keys and certificates.

DIR/ca.pem, ca.key          the bed's CA (ECDSA P-256), given to the grabber
                            with --ca-file
DIR/rsa.key, ec.key         leaf keys: RSA-2048 and ECDSA P-256
DIR/{rsa,ec}-{ca,self,expired,selfexpired}.pem
                            leaf certificates: CA-signed and valid, self-signed
                            and valid, CA-signed and expired a year ago,
                            self-signed and expired.
The Python cryptography package writes them because the openssl command line
of Debian 12 cannot back-date a certificate (expired ones need a notAfter in
the past)."""
import datetime, os, sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
now = datetime.datetime.now(datetime.timezone.utc)
day = datetime.timedelta(days=1)


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "mailcensus dense bed"),
                      x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def write_key(path, key):
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


def write_cert(path, cert):
    with open(path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


def cert(subject, key, issuer, issuer_key, start, end, ca=False, san=None):
    b = (x509.CertificateBuilder().subject_name(name(subject)).issuer_name(name(issuer))
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(start).not_valid_after(end)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if san:
        b = b.add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
    return b.sign(issuer_key, hashes.SHA256())


ca_key = ec.generate_private_key(ec.SECP256R1())
ca = cert("mailcensus dense bed CA", ca_key, "mailcensus dense bed CA", ca_key,
          now - day, now + 3650 * day, ca=True)
write_key(f"{out}/ca.key", ca_key)
write_cert(f"{out}/ca.pem", ca)
keys = {"rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
        "ec": ec.generate_private_key(ec.SECP256R1())}
for kname, key in keys.items():
    write_key(f"{out}/{kname}.key", key)
    for kind in ("ca", "self", "expired", "selfexpired"):
        cn = f"{kname}-{kind}.dense.mailcensus.test"
        start, end = (now - 730 * day, now - 365 * day) if "expired" in kind \
            else (now - day, now + 3650 * day)
        if kind.startswith("self"):
            c = cert(cn, key, cn, key, start, end, san=cn)
        else:
            c = cert(cn, key, "mailcensus dense bed CA", ca_key, start, end, san=cn)
        write_cert(f"{out}/{kname}-{kind}.pem", c)
