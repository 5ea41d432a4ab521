#!/usr/bin/env python3
"""`meson install` into a DESTDIR: what it installs, a program built
against that install with pkg-config, and the installed systemd units
checked by `systemd-analyze verify`.

The expected layout is written here (relative to the build's prefix and
directory options), not read from meson, so a file that stops being
installed, or an internal header that starts to be, fails.  The example
program (examples/aioctx-example.c) is compiled with
`pkg-config --cflags --libs libaioctx` against the installed .pc, headers
and library, without sanitizers, and run with LD_LIBRARY_PATH pointing at
the installed library.  The units are verified as installed except for
ExecStart's path, moved into the DESTDIR like the .pc's prefix (verify
checks that the daemon exists there and is executable), with MANPATH at
the installed man pages (verify checks Documentation=man:...).  Registered in the normal build only: a sanitizer
build's libaioctx.so needs its sanitizer runtime loaded first, which an
ordinary embedder does not do.

Usage: test-install.py BUILD_DIR SOURCE_ROOT PROJECT_VERSION UNIT_DIR MAN
(MAN: "man" when the man pages were built, "no-man" without scdoc)"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'qmp'))
from qmpwire import Tap  # noqa: E402

EXAMPLE_OUTPUT = [
    'pool job: 1 + ... + 100 = 5050',
    'slept at least 1 ms: yes',
    'woken by a bottom half from another thread',
    'done',
]


def build_options(build):
    out = subprocess.run(['meson', 'introspect', build, '--buildoptions'],
                         check=True, capture_output=True, text=True).stdout
    return {o['name']: o['value'] for o in json.loads(out)}


def install(build, destdir):
    return subprocess.run(['meson', 'install', '-C', build, '--no-rebuild',
                           '--quiet', '--destdir', destdir],
                          capture_output=True, text=True)


def installed_files(destdir):
    found = set()
    for dirpath, _, files in os.walk(destdir):
        for f in files:
            found.add(os.path.relpath(os.path.join(dirpath, f), destdir))
    return found


MAN_PAGES = ['man8/iothreadd.8', 'man1/iothreadctl.1', 'man3/libaioctx.3']
UNITS = ['iothreadd.service', 'iothreadd.socket']


def public_headers(source):
    """The public headers: every file of aio/include/aioctx/ (so one added
    there but not to aio/meson.build's install list fails)."""
    return sorted(os.path.basename(h) for h in glob.glob(
        os.path.join(source, 'aio', 'include', 'aioctx', '*.h')))


def expected_files(opt, version, unit_dir, with_man, headers):
    """The files (relative to DESTDIR) an install must hold."""
    p = opt['prefix'].lstrip('/')
    lib = os.path.join(p, opt['libdir'])
    man = {os.path.join(p, opt['mandir'], m) for m in MAN_PAGES}
    units = {os.path.join(unit_dir.lstrip('/'), u) for u in UNITS}
    return (man if with_man else set()) | units | {os.path.join(p, opt['sbindir'], 'iothreadd'),
            os.path.join(p, opt['bindir'], 'iothreadctl'),
            os.path.join(lib, 'libaioctx.so'),
            os.path.join(lib, 'libaioctx.so.' + version.split('.')[0]),
            os.path.join(lib, 'libaioctx.so.' + version),
            os.path.join(lib, 'libaioctx.a'),
            os.path.join(lib, 'pkgconfig', 'libaioctx.pc')} | {
        os.path.join(p, opt['includedir'], 'aioctx', h) for h in headers}


def relocated_pc_dir(destdir, opt, tmp):
    """A copy of the installed libaioctx.pc whose prefix is the DESTDIR's
    (the other variables must derive from ${prefix} for this to work).
    PKG_CONFIG_SYSROOT_DIR is not used: it would prefix glib's paths too,
    and glib is installed on the system, not in the DESTDIR."""
    pc = os.path.join(destdir, opt['prefix'].lstrip('/'), opt['libdir'],
                      'pkgconfig', 'libaioctx.pc')
    with open(pc) as f:
        lines = f.read().splitlines()
    lines = ['prefix=' + destdir + opt['prefix'] if l.startswith('prefix=')
             else l for l in lines]
    with open(os.path.join(tmp, 'libaioctx.pc'), 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return tmp


def pkg_config(pcdir, *args):
    env = dict(os.environ, PKG_CONFIG_PATH=pcdir)
    return subprocess.run(['pkg-config', *args, 'libaioctx'], env=env,
                          capture_output=True, text=True)


def test_install_succeeds(tap, result):
    tap.ok(result.returncode == 0, 'meson install --destdir succeeds',
           result.stdout, result.stderr)


def test_installs_everything(tap, files, want):
    missing = sorted(want - files)
    tap.ok(not missing, 'iothreadd, iothreadctl, libaioctx.so/.a, the public '
           'headers, libaioctx.pc, the man pages and the units are installed',
           'missing: %s' % missing)


def test_no_internal_header_installed(tap, files, public):
    headers = sorted(f for f in files if f.endswith('.h'))
    extra = [h for h in headers
             if os.path.basename(os.path.dirname(h)) != 'aioctx'
             or os.path.basename(h) not in public]
    tap.ok(not extra and len(headers) == len(public),
           'only the public headers are installed, under include/aioctx/',
           'headers installed: %s' % headers)


def test_pc_version_is_project_version(tap, pcdir, version):
    r = pkg_config(pcdir, '--modversion')
    tap.ok(r.stdout.strip() == version, 'pkg-config --modversion libaioctx '
           'is %s' % version, r.stdout, r.stderr)


def test_example_builds_with_pkg_config(tap, pcdir, source, exe):
    flags = pkg_config(pcdir, '--cflags', '--libs')
    cmd = ['cc', '-Wall', '-Wextra', '-Werror', '-o', exe,
           os.path.join(source, 'examples', 'aioctx-example.c'),
           *flags.stdout.split()]
    r = subprocess.run(cmd, capture_output=True, text=True)
    return tap.ok(flags.returncode == 0 and r.returncode == 0,
                  'examples/aioctx-example.c builds with pkg-config --cflags '
                  '--libs libaioctx', flags.stderr, ' '.join(cmd), r.stderr)


def test_example_runs_against_installed_library(tap, exe, libdir):
    env = dict(os.environ, LD_LIBRARY_PATH=libdir)
    r = subprocess.run([exe], env=env, capture_output=True, text=True,
                       timeout=60)
    lines = r.stdout.splitlines()
    tap.ok(r.returncode == 0 and lines[1:] == EXAMPLE_OUTPUT,
           'the example runs against the installed libaioctx.so and prints '
           'its steps in order', r.stdout, r.stderr)


def test_example_loads_installed_library(tap, exe, libdir):
    env = dict(os.environ, LD_LIBRARY_PATH=libdir)
    r = subprocess.run(['ldd', exe], env=env, capture_output=True, text=True)
    line = next((l for l in r.stdout.splitlines() if 'libaioctx' in l), '')
    tap.ok(os.path.join(libdir, 'libaioctx.so.') in line,
           'the example links libaioctx.so.N from the install, not the static '
           'library', r.stdout)


def relocated_units(destdir, opt, unit_dir, tmp):
    """Copies of the installed units with ExecStart's path in the
    DESTDIR; their paths."""
    prefix = opt['prefix']
    paths = []
    for unit in UNITS:
        with open(os.path.join(destdir, unit_dir.lstrip('/'), unit)) as f:
            text = f.read()
        text = text.replace('ExecStart=' + prefix,
                            'ExecStart=' + destdir + prefix)
        paths.append(os.path.join(tmp, unit))
        with open(paths[-1], 'w') as f:
            f.write(text)
    return paths


def test_execstart_is_installed_daemon(tap, destdir, opt, unit_dir):
    with open(os.path.join(destdir, unit_dir.lstrip('/'), UNITS[0])) as f:
        text = f.read()
    want = 'ExecStart=' + os.path.join(opt['prefix'], opt['sbindir'],
                                       'iothreadd')
    tap.ok(want + ' ' in text, 'the service starts the installed daemon',
           'no line starting with %s' % want)


def test_units_verify(tap, units, man_dir, with_man):
    if not shutil.which('systemd-analyze'):
        tap.skip('systemd-analyze verify on the units',
                 'systemd-analyze is not installed')
        return
    env = dict(os.environ, MANPATH=man_dir)
    man = [] if with_man else ['--man=no']
    r = subprocess.run(['systemd-analyze', 'verify', *man, *units], env=env,
                       capture_output=True, text=True)
    tap.ok(r.returncode == 0 and not r.stderr.strip(),
           'systemd-analyze verify accepts iothreadd.service and '
           'iothreadd.socket', r.stdout, r.stderr)


def main():
    build, source, version, unit_dir, man = sys.argv[1:6]
    with_man = man == 'man'
    tap = Tap()
    opt = build_options(build)
    tmp = tempfile.mkdtemp(prefix='iothreadd-install-')
    try:
        destdir = os.path.join(tmp, 'dest')
        test_install_succeeds(tap, install(build, destdir))
        files = installed_files(destdir)
        public = public_headers(source)
        test_installs_everything(tap, files, expected_files(
            opt, version, unit_dir, with_man, public))
        test_no_internal_header_installed(tap, files, public)
        test_execstart_is_installed_daemon(tap, destdir, opt, unit_dir)
        units = os.path.join(tmp, 'units')
        os.mkdir(units)
        man_dir = os.path.join(destdir, opt['prefix'].lstrip('/'),
                               opt['mandir'])
        test_units_verify(tap, relocated_units(destdir, opt, unit_dir, units),
                          man_dir, with_man)
        pcdir = relocated_pc_dir(destdir, opt, tmp)
        test_pc_version_is_project_version(tap, pcdir, version)
        exe = os.path.join(tmp, 'aioctx-example')
        libdir = os.path.join(destdir, opt['prefix'].lstrip('/'), opt['libdir'])
        if test_example_builds_with_pkg_config(tap, pcdir, source, exe):
            test_example_runs_against_installed_library(tap, exe, libdir)
            test_example_loads_installed_library(tap, exe, libdir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
