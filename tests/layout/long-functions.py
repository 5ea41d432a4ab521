#!/usr/bin/env python3
"""List production functions longer than a limit (default 60 lines).

Usage: long-functions.py [--limit N] [SOURCE_ROOT]

A function is a line at column 0 that ends a declaration with ')' (or ')
{') followed by a body whose closing '}' is at column 0; its length is the
count of lines from the signature to that brace.  Prints `FILE:LINE NAME
LENGTH`, longest first, with the reason of an excepted one; exits 0
either way (a listing, not a check).
"""
import os
import re
import sys

# Functions allowed over the limit, each with its reason (printed beside it).
EXCEPTIONS = {
    ('aio/services/thread-pool.c', 'worker_main'):
        'the worker loop is being reworked for performance; split it then',
}

NAME_RE = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)\s*\(')
DIRS = ('aio', 'schema', 'qmp', 'iothread', 'workload', 'daemon', 'cli')


def functions(path):
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    start = None
    for i, line in enumerate(lines):
        if start is None and line == '{' and i > 0:
            j = i - 1        # the signature may span lines: find its start
            while j > 0 and lines[j - 1].strip() and not lines[j - 1].endswith((';', '}', '*/')) \
                    and not lines[j - 1].startswith(('#', '/*', ' *')):
                j -= 1
            start = j
        elif start is not None and line == '}':
            m = NAME_RE.search(' '.join(lines[start:start + 3]))
            yield start + 1, m.group(1) if m else '?', i - start + 1
            start = None


def main():
    args = sys.argv[1:]
    limit = 60
    if args[:1] == ['--limit']:
        limit, args = int(args[1]), args[2:]
    root = args[0] if args else '.'
    found = []
    for d in DIRS:
        for dirpath, _, files in os.walk(os.path.join(root, d)):
            for f in files:
                if f.endswith('.c'):
                    p = os.path.join(dirpath, f)
                    for line, name, length in functions(p):
                        if length > limit:
                            found.append((length, os.path.relpath(p, root), line, name))
    for length, path, line, name in sorted(found, reverse=True):
        reason = EXCEPTIONS.get((path, name))
        print('%s:%d %s %d%s' % (path, line, name, length,
                                 '  (excepted: %s)' % reason if reason else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
