#!/usr/bin/env python3
"""schema_validate.py SCHEMA NDJSON... — validate every line against a JSON Schema.

Implements the subset of draft 2020-12 that output/schema/record.schema.json
uses (type, enum, properties, required, additionalProperties: false, items,
maxItems, minimum, maximum, pattern, oneOf, local $ref); any other keyword is
an error, so the schema cannot silently use something this does not check.
Lines are parsed with Python's strict json module (no NaN, no duplicate-key
tolerance needed). Prints a summary; exit 1 on the first few failures."""
import json
import re
import sys

IGNORED = {"$schema", "$id", "title", "description", "$defs"}
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def no_constant(name):
    raise ValueError("non-finite number %s" % name)


def check(schema, value, root, path):
    """Return a list of error strings."""
    errs = []
    for key, arg in schema.items():
        if key in IGNORED:
            continue
        if key == "$ref":
            assert arg.startswith("#/$defs/"), arg
            errs += check(root["$defs"][arg[len("#/$defs/"):]], value, root, path)
        elif key == "type":
            types = arg if isinstance(arg, list) else [arg]
            if not any(TYPES[t](value) for t in types):
                errs.append("%s: %r is not %s" % (path, value, "/".join(types)))
        elif key == "enum":
            if value not in arg:
                errs.append("%s: %r not in %r" % (path, value, arg))
        elif key == "properties":
            if isinstance(value, dict):
                for name, sub in arg.items():
                    if name in value:
                        errs += check(sub, value[name], root, path + "." + name)
        elif key == "required":
            if isinstance(value, dict):
                errs += ["%s: missing %s" % (path, n) for n in arg if n not in value]
        elif key == "additionalProperties":
            assert arg is False
            if isinstance(value, dict):
                extra = set(value) - set(schema.get("properties", {}))
                errs += ["%s: unexpected %s" % (path, n) for n in sorted(extra)]
        elif key == "items":
            if isinstance(value, list):
                for i, item in enumerate(value):
                    errs += check(arg, item, root, "%s[%d]" % (path, i))
        elif key == "maxItems":
            if isinstance(value, list) and len(value) > arg:
                errs.append("%s: %d items > %d" % (path, len(value), arg))
        elif key == "minimum":
            if TYPES["number"](value) and value < arg:
                errs.append("%s: %r < %r" % (path, value, arg))
        elif key == "maximum":
            if TYPES["number"](value) and value > arg:
                errs.append("%s: %r > %r" % (path, value, arg))
        elif key == "pattern":
            if isinstance(value, str) and not re.search(arg, value):
                errs.append("%s: %r does not match %s" % (path, value, arg))
        elif key == "oneOf":
            ok = [s for s in arg if not check(s, value, root, path)]
            if len(ok) != 1:
                errs.append("%s: matches %d of oneOf" % (path, len(ok)))
        else:
            raise SystemExit("schema uses unsupported keyword %r at %s" % (key, path))
    return errs


def main():
    schema = json.load(open(sys.argv[1]))
    lines = bad = 0
    for name in sys.argv[2:]:
        for n, line in enumerate(open(name, encoding="utf-8", errors="strict"), 1):
            lines += 1
            try:
                value = json.loads(line, parse_constant=no_constant)
                errs = check(schema, value, schema, "$")
            except ValueError as e:
                errs = ["not JSON: %s" % e]
            if errs:
                bad += 1
                if bad <= 5:
                    print("%s:%d: %s" % (name, n, "; ".join(errs[:5])))
    print("%d records, %d invalid" % (lines, bad))
    return 1 if bad or lines == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
