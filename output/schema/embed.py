#!/usr/bin/env python3
"""embed.py IN OUT SYMBOL — write IN's bytes as a C string (OUT.c), so the binary
carries the one schema file (output/schema/record.schema.json) and no hand-kept copy."""
import sys

src, dst, sym = sys.argv[1:4]
data = open(src, 'rb').read()
with open(dst, 'w') as f:
    f.write('/* generated from %s by output/schema/embed.py: do not edit */\n' % src.split('/')[-1])
    f.write('#include <stddef.h>\n')
    f.write('const char %s[] =\n' % sym)
    for i in range(0, len(data), 64):
        chunk = data[i:i + 64]
        f.write('    "' + ''.join('\\x%02x' % b for b in chunk) + '"\n')
    f.write(';\nconst size_t %s_len = %d;\n' % (sym, len(data)))
