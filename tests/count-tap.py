#!/usr/bin/env python3
"""Count TAP results over meson's test logs of several build dirs.

Every "ok"/"not ok" line of every test program counts once ("# SKIP" lines
as skipped).  A test program that meson judged failed (crash, timeout, bad
plan) without printing a "not ok" line counts as one failure, so a crash is
never hidden; a passing program that is not TAP (the --quick benchmark
runs) counts as one pass.  Prints one line per build, then "N passed, M failed".
"""
import json
import os
import re
import sys

TAP = re.compile(r'^(not ok|ok)\b(.*)$')


def count_build(builddir):
    path = os.path.join(builddir, 'meson-logs', 'testlog.json')
    passed = failed = skipped = 0
    if not os.path.exists(path):
        return passed, failed, skipped
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            t = json.loads(line)
            p = f_ = s = 0
            for out in (t.get('stdout') or '').splitlines():
                m = TAP.match(out)
                if not m:
                    continue
                rest = m.group(2)
                if re.search(r'#\s*SKIP', rest, re.I):
                    s += 1
                elif m.group(1) == 'ok' or re.search(r'#\s*TODO', rest, re.I):
                    p += 1
                else:
                    f_ += 1
            if t.get('result') not in ('OK', 'SKIP', 'EXPECTEDFAIL') and f_ == 0:
                f_ = 1
            elif p + f_ + s == 0 and t.get('result') == 'OK':
                p = 1       # a non-TAP test (the --quick benchmarks) counts once
            passed += p
            failed += f_
            skipped += s
    return passed, failed, skipped


def main():
    total_p = total_f = total_s = 0
    for b in sys.argv[1:]:
        p, f, s = count_build(b)
        print(f'{b}: {p} passed, {f} failed, {s} skipped', file=sys.stderr)
        total_p += p
        total_f += f
        total_s += s
    line = f'{total_p} passed, {total_f} failed'
    if total_s:
        line += f', {total_s} skipped'
    print(line)


if __name__ == '__main__':
    main()
