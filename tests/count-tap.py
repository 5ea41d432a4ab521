#!/usr/bin/env python3
"""Count TAP results over meson's test logs of several build dirs.

Every "ok"/"not ok" line of every test program counts once ("# SKIP" lines
as skipped, "# TODO" lines as passes).  Per program:
  - meson judged it failed (crash, timeout, bad plan, non-zero exit) and it
    printed no "not ok" line: one failure, so a crash is never hidden;
  - it was skipped as a whole ("1..0 # SKIP", exit 77) or printed a plan
    with no results: one skip, and its name is listed;
  - it passed without printing any TAP result (the --quick benchmark runs,
    whose checks are their exit status): not counted as a pass; listed as
    "unchecked" on stderr so the count never grows by a program that
    asserts nothing.
A build dir without a test log counts one failure: the suite did not run
there, which must not read as zero.

Output: one line per build on stderr, then on stdout the names of the
skipped programs (one "skipped: BUILD: NAME" line each) and last
"N passed, M failed" (", K skipped" when K > 0).  Exit status 1 when
anything failed.
"""
import json
import os
import re
import sys

TAP = re.compile(r'^(not ok|ok)\b(.*)$')
PLAN = re.compile(r'^1\.\.(\d+)')
SKIP = re.compile(r'#\s*SKIP', re.I)
TODO = re.compile(r'#\s*TODO', re.I)
PASSED_RESULTS = ('OK', 'EXPECTEDFAIL')


class Count:
    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.skipped_programs = []      # names of programs skipped whole
        self.unchecked_programs = []    # passed with no TAP result

    def add(self, other):
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped


def count_results(stdout):
    """(passed, failed, skipped, has_plan) of one program's TAP output."""
    p = f = s = 0
    has_plan = False
    for line in stdout.splitlines():
        if PLAN.match(line):
            has_plan = True
            continue
        m = TAP.match(line)
        if not m:
            continue
        rest = m.group(2)
        if SKIP.search(rest):
            s += 1
        elif m.group(1) == 'ok' or TODO.search(rest):
            p += 1
        else:
            f += 1
    return p, f, s, has_plan


def count_program(t, c):
    """Add one testlog.json record @t to Count @c."""
    name = t.get('name', '?')
    result = t.get('result')
    p, f, s, has_plan = count_results(t.get('stdout') or '')
    if result == 'SKIP' or (p + f + s == 0 and has_plan and
                            result in PASSED_RESULTS):
        c.skipped += max(s, 1)
        c.skipped_programs.append(name)
        return
    if result not in PASSED_RESULTS and f == 0:
        f = 1
    elif p + f + s == 0:
        c.unchecked_programs.append(name)
    c.passed += p
    c.failed += f
    c.skipped += s


def count_build(builddir):
    c = Count()
    path = os.path.join(builddir, 'meson-logs', 'testlog.json')
    if not os.path.exists(path):
        print(f'{builddir}: no test log ({path}): counted as one failure',
              file=sys.stderr)
        c.failed = 1
        return c
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line:
                count_program(json.loads(line), c)
    return c


def main():
    total = Count()
    skipped_lines = []
    for b in sys.argv[1:]:
        c = count_build(b)
        print(f'{b}: {c.passed} passed, {c.failed} failed, '
              f'{c.skipped} skipped', file=sys.stderr)
        for name in c.unchecked_programs:
            print(f'{b}: not counted (no TAP result; exit status only): '
                  f'{name}', file=sys.stderr)
        skipped_lines += [f'skipped: {b}: {n}' for n in c.skipped_programs]
        total.add(c)
    for line in skipped_lines:
        print(line)
    line = f'{total.passed} passed, {total.failed} failed'
    if total.skipped:
        line += f', {total.skipped} skipped'
    print(line)
    return 1 if total.failed else 0


if __name__ == '__main__':
    sys.exit(main())
