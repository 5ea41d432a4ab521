#!/usr/bin/env python3
"""libaioctx.so exports exactly the public API.

The public API is what aio/include/aioctx/*.h declare: their functions
(gcc -aux-info lists every prototype a translation unit sees, with the
header that declared it) and their extern variables.  The exported list is
`nm -D --defined-only` of the shared library, every symbol carrying the
version node of aio/libaioctx.map.  So a public function added without a
map entry fails here, and so does an internal symbol that leaks.

Usage: test-symbols.py SOURCE_ROOT LIBAIOCTX_SO PROJECT_VERSION"""
import glob
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'qmp'))
from qmpwire import Tap  # noqa: E402

EXTERN_VAR = re.compile(r'^extern\s+[^();]*?\b(\w+)\s*(?:\[[^\]]*\])?\s*;', re.M)


def public_headers(root):
    return sorted(glob.glob(os.path.join(root, 'aio', 'include', 'aioctx', '*.h')))


def public_functions(root):
    """Names of the functions the public headers declare."""
    inc = os.path.join(root, 'aio', 'include')
    cflags = subprocess.run(['pkg-config', '--cflags', 'glib-2.0'], check=True,
                            capture_output=True, text=True).stdout.split()
    with tempfile.TemporaryDirectory() as tmp:
        unit = os.path.join(tmp, 'all.c')
        with open(unit, 'w') as f:
            for h in public_headers(root):
                f.write('#include "aioctx/%s"\n' % os.path.basename(h))
        aux = os.path.join(tmp, 'aux.txt')
        subprocess.run(['cc', '-fsyntax-only', '-I', inc, *cflags,
                        '-aux-info', aux, unit], check=True)
        names = set()
        with open(aux) as f:
            for line in f:
                where, _, decl = line.partition('*/')
                if os.path.join('include', 'aioctx') in where:
                    names.add(re.search(r'(\w+) \(', decl).group(1))
    return names


def public_variables(root):
    names = set()
    for h in public_headers(root):
        with open(h) as f:
            names.update(EXTERN_VAR.findall(f.read()))
    return names


def exported(so):
    """{name: version node} of the symbols the library defines."""
    out = subprocess.run(['nm', '-D', '--defined-only', so], check=True,
                         capture_output=True, text=True).stdout
    syms = {}
    for line in out.splitlines():
        name = line.split()[-1]
        base, _, node = name.partition('@@')
        syms[base] = node
    return syms


def soname(so):
    out = subprocess.run(['readelf', '-d', so], check=True,
                         capture_output=True, text=True).stdout
    m = re.search(r'\(SONAME\)\s+Library soname: \[([^\]]+)\]', out)
    return m.group(1) if m else None


def test_every_public_symbol_exported(tap, public, syms):
    missing = sorted(public - set(syms))
    tap.ok(not missing, 'every function and variable of the public headers '
           'is exported', 'not exported (add them to aio/libaioctx.map): '
           + ' '.join(missing))


def test_nothing_internal_exported(tap, public, syms, node):
    extra = sorted(s for s in syms if s not in public and s != node)
    tap.ok(not extra, 'no symbol outside the public headers is exported',
           'exported but not public: ' + ' '.join(extra))


def test_exports_carry_version_node(tap, public, syms, node):
    wrong = sorted(s for s in public & set(syms) if syms[s] != node)
    tap.ok(not wrong, 'every export carries the version node %s' % node,
           'other node: ' + ' '.join('%s@@%s' % (s, syms[s]) for s in wrong))


def test_soname_is_major_version(tap, so, version):
    want = 'libaioctx.so.' + version.split('.')[0]
    got = soname(so)
    tap.ok(got == want, 'soname is %s' % want, 'SONAME: %s' % got)


def test_file_name_carries_version(tap, so, version):
    real = os.path.basename(os.path.realpath(so))
    tap.ok(real == 'libaioctx.so.' + version,
           'the library file is libaioctx.so.%s' % version, real)


def main():
    root, so, version = sys.argv[1:4]
    tap = Tap()
    public = public_functions(root) | public_variables(root)
    syms = exported(so)
    node = 'LIBAIOCTX_' + version.split('.')[0]
    tap.diag('%d public functions and variables, %d exported'
             % (len(public), len(syms)))
    test_every_public_symbol_exported(tap, public, syms)
    test_nothing_internal_exported(tap, public, syms, node)
    test_exports_carry_version_node(tap, public, syms, node)
    test_soname_is_major_version(tap, so, version)
    test_file_name_carries_version(tap, so, version)
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
