#!/usr/bin/env python3
"""compare_runs.py WANT_DIR GOT_DIR — do two results directories hold the same
records? One record per (ip, port) in GOT (no duplicate), the same set of
(ip, port) as WANT, and every field equal apart from times ("time") and the
two STARTTLS texts that carry the run's random command tags (starttls.reply,
starttls.injection_reason; the verdicts and flags are compared). Prints
one line per difference (at most 10) and a summary; exit 0 when equal."""
import glob
import json
import sys


def load(d):
    recs, dups = {}, []
    for path in sorted(glob.glob(d + "/shard-*.ndjson")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                r = json.loads(line)
                key = (r["ip"], r["port"])
                if key in recs:
                    dups.append(key)
                r.pop("time", None)
                st = r.get("starttls")
                if isinstance(st, dict):
                    st.pop("reply", None)
                    st.pop("injection_reason", None)
                recs[key] = r
    return recs, dups


def main():
    want, _ = load(sys.argv[1])
    got, dups = load(sys.argv[2])
    problems = []
    for k in dups:
        problems.append("duplicate record for %s:%d" % k)
    for k in sorted(set(want) - set(got)):
        problems.append("missing %s:%d" % k)
    for k in sorted(set(got) - set(want)):
        problems.append("extra %s:%d" % k)
    for k in sorted(set(want) & set(got)):
        if want[k] != got[k]:
            fields = sorted(f for f in set(want[k]) | set(got[k]) if want[k].get(f) != got[k].get(f))
            problems.append("%s:%d differs in %s" % (k + (",".join(fields),)))
    for p in problems[:10]:
        print(p)
    print("%d records, %d expected, %d problems" % (len(got), len(want), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
