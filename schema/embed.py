#!/usr/bin/env python3
# Build-time helper: turns schema/qmp-schema.json into a C file holding the
# text as a NUL-terminated byte array (qmp_schema_json / _len), so the
# daemon carries its schema without reading files at run time.
import sys

src, dst = sys.argv[1], sys.argv[2]
data = open(src, 'rb').read()
with open(dst, 'w') as out:
    out.write('/* Generated from qmp-schema.json by embed.py: do not edit. */\n')
    out.write('#include <stddef.h>\n')
    out.write('extern const char qmp_schema_json[];\n')
    out.write('extern const size_t qmp_schema_json_len;\n')
    out.write('const char qmp_schema_json[] = {\n')
    for i in range(0, len(data), 16):
        out.write('  ' + ', '.join('0x%02x' % b for b in data[i:i + 16]) + ',\n')
    out.write('  0x00\n};\n')
    out.write('const size_t qmp_schema_json_len = %d;\n' % len(data))
