#!/usr/bin/env python3
"""The man pages (doc/*.scd, built by scdoc) render with `man -l` without
warnings and name what exists, learnt from the programs and the sources
rather than listed here: every --long option that `iothreadd --help` and
`iothreadctl --help` print, every tunable of iothreadd's --help, every
command and event of the QMP schema, every human command of iothreadctl
(cli/commands.c's table, with its sub-commands), every public header of
libaioctx.  So a new option, command or header without its page entry
fails, naming it.

Usage: test-man-pages.py SOURCE_ROOT PAGES_DIR IOTHREADD IOTHREADCTL
       test-man-pages.py --no-scdoc      (prints a TAP skip)"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'qmp'))
from qmpwire import Tap  # noqa: E402

PAGES = ['iothreadd.8', 'iothreadctl.1', 'libaioctx.3']
LONG_OPTION = re.compile(r'^\s*(?:-\w, )?(--[a-z][a-z-]*)', re.M)
TUNABLE = re.compile(r'^\s{19}([a-z][a-z-]+) \(-?\d+\)$', re.M)
HUMAN_COMMAND = re.compile(r'^\s*\{ "(\w+)", "\w+ ?([^"]*)",', re.M)


def render(path, width):
    env = dict(os.environ, MANWIDTH=str(width), LC_ALL='C.UTF-8')
    return subprocess.run(['man', '--warnings', '-l', path], env=env,
                          capture_output=True, text=True)


def plain(text):
    """Rendered text with hyphenation breaks undone and blanks collapsed."""
    text = re.sub('\u2010\n\\s*', '', text)
    return ' '.join(text.split())


def section(text, title):
    """The body of the man page section @title (rendered, uppercase)."""
    m = re.search(r'^%s\n(.*?)(?=^\S)' % re.escape(title), text, re.M | re.S)
    return plain(m.group(1)) if m else ''


def help_text(program):
    return subprocess.run([program, '--help'], capture_output=True,
                          text=True).stdout


def schema_names(root, kind):
    with open(os.path.join(root, 'schema', 'qmp-schema.json')) as f:
        return [e[kind] for e in json.load(f)['entries'] if kind in e]


def human_commands(root):
    """{command: [sub-command words]} of iothreadctl's table."""
    with open(os.path.join(root, 'cli', 'commands.c')) as f:
        rows = HUMAN_COMMAND.findall(f.read())
    subs = {}
    for name, usage in rows:
        first = usage.split(' ')[0] if usage else ''
        subs[name] = first.split('|') if '|' in first else []
    return subs


def missing(names, text):
    """@names that @text does not hold as whole words (--log-level is not
    found in --log-levels)."""
    return [n for n in names
            if not re.search(r'(?<![\w-])%s(?![\w-])' % re.escape(n), text)]


def test_pages_render_without_warnings(tap, pages_dir):
    bad = []
    for page in PAGES:
        r = render(os.path.join(pages_dir, page), 80)
        if r.returncode != 0 or r.stderr.strip() or len(r.stdout) < 500:
            bad.append('%s: status %d, %s' % (page, r.returncode, r.stderr))
    tap.ok(not bad, 'each page renders with man -l (80 columns) without a '
           'warning', *bad)


def check_section_names(tap, page, title, names, what):
    """One result: section @title of @page names each of @names."""
    gone = missing(names, section(page, title))
    tap.ok(names and not gone, '%s names each of the %d %s'
           % (title, len(names), what), 'missing: %s' % gone)


def test_iothreadd_page_names_every_option(tap, page, iothreadd):
    opts = sorted(set(LONG_OPTION.findall(help_text(iothreadd))))
    check_section_names(tap, page, 'OPTIONS', opts,
                        '--options of iothreadd --help (iothreadd(8))')


def test_iothreadd_page_names_every_tunable(tap, page, iothreadd):
    props = sorted(set(TUNABLE.findall(help_text(iothreadd))))
    check_section_names(tap, page, 'TUNABLES', props,
                        'properties of iothreadd --help (iothreadd(8))')


def test_iothreadd_page_names_every_command(tap, page, root):
    check_section_names(tap, page, 'QMP COMMANDS',
                        schema_names(root, 'command'),
                        "commands of the QMP schema (iothreadd(8))")


def test_iothreadd_page_names_every_event(tap, page, root):
    check_section_names(tap, page, 'QMP EVENTS', schema_names(root, 'event'),
                        "events of the QMP schema (iothreadd(8))")


def test_iothreadctl_page_names_every_option(tap, page, iothreadctl):
    opts = sorted(set(LONG_OPTION.findall(help_text(iothreadctl))))
    check_section_names(tap, page, 'OPTIONS', opts,
                        '--options of iothreadctl --help (iothreadctl(1))')


def test_iothreadctl_page_names_every_command(tap, page, root):
    cmds = human_commands(root)
    text = section(page, 'COMMANDS')
    gone = missing(cmds, text) + missing(
        [s for subs in cmds.values() for s in subs], text)
    tap.ok(cmds and not gone, 'iothreadctl(1) COMMANDS names each of the %d '
           'human commands and their sub-commands' % len(cmds),
           'missing: %s' % gone)


def test_libaioctx_page_names_every_header(tap, page, root):
    headers = sorted('aioctx/' + os.path.basename(h) for h in glob.glob(
        os.path.join(root, 'aio', 'include', 'aioctx', '*.h')))
    gone = missing(headers, section(page, 'HEADERS'))
    tap.ok(headers and not gone and 'pkg-config --cflags --libs libaioctx'
           in plain(page), 'libaioctx(3) names each public header and the '
           'pkg-config line', 'missing: %s' % gone)


def main():
    tap = Tap()
    if sys.argv[1] == '--no-scdoc':
        print('1..0 # SKIP scdoc is not installed: no man pages built')
        return 0
    if not shutil.which('man'):
        print('1..0 # SKIP man (man-db) is not installed: cannot render')
        return 0
    root, pages_dir, iothreadd, iothreadctl = sys.argv[1:5]
    wide = {p: render(os.path.join(pages_dir, p), 200).stdout for p in PAGES}
    test_pages_render_without_warnings(tap, pages_dir)
    test_iothreadd_page_names_every_option(tap, wide['iothreadd.8'], iothreadd)
    test_iothreadd_page_names_every_tunable(tap, wide['iothreadd.8'],
                                            iothreadd)
    test_iothreadd_page_names_every_command(tap, wide['iothreadd.8'], root)
    test_iothreadd_page_names_every_event(tap, wide['iothreadd.8'], root)
    test_iothreadctl_page_names_every_option(tap, wide['iothreadctl.1'],
                                             iothreadctl)
    test_iothreadctl_page_names_every_command(tap, wide['iothreadctl.1'],
                                              root)
    test_libaioctx_page_names_every_header(tap, wide['libaioctx.3'], root)
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
