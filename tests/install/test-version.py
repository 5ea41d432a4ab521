#!/usr/bin/env python3
"""--version on both programs: one line "NAME VERSION" with the project's
version (meson.build's), exit 0, nothing on stderr, and no server needed
(iothreadctl is given a socket where nothing listens).

Usage: test-version.py PROJECT_VERSION IOTHREADD IOTHREADCTL"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'qmp'))
from qmpwire import Tap  # noqa: E402


def version_of(argv):
    with tempfile.TemporaryDirectory() as xdg:
        env = dict(os.environ, XDG_RUNTIME_DIR=xdg)
        return subprocess.run(argv, env=env, capture_output=True, text=True,
                              timeout=30)


def check(tap, r, want, what):
    tap.ok(r.returncode == 0 and r.stdout == want + '\n' and not r.stderr,
           what, 'status %d' % r.returncode, 'stdout %r' % r.stdout,
           'stderr %r' % r.stderr)


def test_iothreadd_version(tap, version, iothreadd):
    check(tap, version_of([iothreadd, '--version']), 'iothreadd ' + version,
          'iothreadd --version prints "iothreadd %s"' % version)


def test_iothreadctl_version(tap, version, iothreadctl):
    check(tap, version_of([iothreadctl, '--version']),
          'iothreadctl ' + version,
          'iothreadctl --version prints "iothreadctl %s"' % version)


def test_iothreadctl_version_needs_no_server(tap, version, iothreadctl):
    check(tap, version_of([iothreadctl, '-s', '/nonexistent/qmp.sock', '-V']),
          'iothreadctl ' + version,
          'iothreadctl -V answers without connecting to a server')


def main():
    version, iothreadd, iothreadctl = sys.argv[1:4]
    tap = Tap()
    test_iothreadd_version(tap, version, iothreadd)
    test_iothreadctl_version(tap, version, iothreadctl)
    test_iothreadctl_version_needs_no_server(tap, version, iothreadctl)
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
