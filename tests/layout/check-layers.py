#!/usr/bin/env python3
"""Layer rules of the source tree, checked on every build (suite 'layout').

Usage: check-layers.py SOURCE_ROOT BUILD_DIR

Prints TAP.  One result per layer: every `#include "..."` of every file of
that layer names a header of a layer it may use (ARCHITECTURE.md states the
same table).  One result per executable: it links only the project
libraries it may.  A failure names the file, the line and the include (or
the executable and the library).  A last group runs the checker on small
trees it writes itself, so a checker that accepts everything fails too.
"""
import os
import re
import subprocess
import sys
import tempfile

# Layer of a file, by path prefix (longest first).  The public headers of
# libaioctx are split: aio.h is the loop's own API (with histogram.h, the
# type its statistics are made of), the others belong to the services and
# coroutines built on it.
LAYERS = [
    ('aio/include/aioctx/aio.h', 'aio-api'),
    ('aio/include/aioctx/histogram.h', 'aio-api'),
    ('aio/include/aioctx/', 'aio-service-api'),
    ('aio/core/', 'aio-core'),
    ('aio/fdmon/', 'aio-fdmon'),
    ('aio/coroutine/', 'aio-coroutine'),
    ('aio/services/', 'aio-services'),
    ('schema/', 'schema'),
    ('qmp/json-splitter.', 'qmp-split'),
    ('qmp/json-check.', 'qmp-split'),
    ('qmp/socket-path.', 'qmp-split'),
    ('qmp/client.', 'qmp-client'),
    ('qmp/', 'qmp-server'),
    ('iothread/', 'iothread'),
    ('workload/', 'workload'),
    ('daemon/', 'daemon'),
    ('cli/', 'cli'),
]

AIO_PUBLIC = {'aio-api', 'aio-service-api'}
# Who may include whom (a layer always includes its own headers).
MAY_INCLUDE = {
    'aio-api': set(),
    'aio-service-api': {'aio-api'},
    # The loop core knows no backend, coroutine or service header: it
    # reaches them through FDMonOps and the hooks of aio-internal.h.
    'aio-core': {'aio-api'},
    'aio-fdmon': {'aio-api', 'aio-core'},
    'aio-coroutine': AIO_PUBLIC | {'aio-core'},
    'aio-services': AIO_PUBLIC | {'aio-core', 'aio-coroutine'},
    'schema': set(),
    'qmp-split': set(),
    'qmp-client': {'qmp-split'},
    'qmp-server': {'aio-api', 'schema', 'qmp-split'},
    # The thread pool's public header: an iothread's workers follow its
    # cpu-affinity (thread_pool_set_affinity).
    'iothread': AIO_PUBLIC,
    'workload': AIO_PUBLIC | {'iothread'},
    'daemon': {'aio-api', 'schema', 'qmp-split', 'qmp-server', 'iothread',
               'workload'},
    'cli': {'qmp-split', 'qmp-client'},
}

# Project libraries each executable may link (by file name in the build).
MAY_LINK = {
    'cli/iothreadctl': {'libiothreadctl-core.a', 'libqmpclient.a',
                        'libqmpsplit.a'},
    'daemon/iothreadd': {'libiothreadd-commands.a', 'libiothread.a',
                         'libqmpserver.a', 'libqmpsplit.a',
                         'libqmpschema.a', 'libaioctx.a',
                         'libworkload.a',
                         # the metrics endpoint (daemon/metrics.c)
                         'libiothreadd-metrics.a'},
}

# Where `#include "X"` may be found besides the including file's folder:
# the include directories the meson files export.
INCLUDE_ROOTS = ['aio/include', 'aio', 'schema', 'qmp', 'iothread',
                 'workload', 'daemon', 'cli']
INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def layer_of(rel):
    for prefix, layer in LAYERS:
        if rel.startswith(prefix):
            return layer
    return None


def resolve(root, rel, name):
    """Project files `#include "name"` in @rel can mean; [] if none (a
    system or generated header)."""
    here = os.path.join(os.path.dirname(rel), name)
    if os.path.isfile(os.path.join(root, here)):
        return [os.path.normpath(here)]
    found = []
    for inc in INCLUDE_ROOTS:
        cand = os.path.normpath(os.path.join(inc, name))
        if os.path.isfile(os.path.join(root, cand)) and cand not in found:
            found.append(cand)
    return found


def source_files(root):
    for top in ('aio', 'schema', 'qmp', 'iothread', 'workload', 'daemon',
                'cli'):
        for dirpath, _, files in os.walk(os.path.join(root, top)):
            for f in sorted(files):
                if f.endswith(('.c', '.h')):
                    yield os.path.relpath(os.path.join(dirpath, f), root)


def include_violations(root):
    """{layer: [message]} for every layer that has files."""
    out = {}
    for rel in sorted(source_files(root)):
        layer = layer_of(rel)
        if layer is None:
            continue
        out.setdefault(layer, [])
        allowed = MAY_INCLUDE[layer] | {layer}
        with open(os.path.join(root, rel), encoding='utf-8') as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                for target in resolve(root, rel, m.group(1)):
                    tl = layer_of(target)
                    if tl is not None and tl not in allowed:
                        out[layer].append(
                            '%s:%d includes "%s" (%s, layer %s): layer %s '
                            'may include only %s' %
                            (rel, lineno, m.group(1), target, tl, layer,
                             ', '.join(sorted(allowed))))
    return out


def linked_libraries(build, target):
    """Project static libraries ninja links into @target."""
    q = subprocess.run(['ninja', '-C', build, '-t', 'query', target],
                       capture_output=True, text=True)
    if q.returncode != 0:
        raise RuntimeError('ninja -t query %s: %s' % (target, q.stderr.strip()))
    libs = set()
    section = None
    for line in q.stdout.splitlines():
        s = line.strip()
        if s in ('input: c_LINKER', 'outputs:'):
            section = s
            continue
        if section == 'input: c_LINKER':
            path = s.lstrip('| ').strip()
            if path.endswith('.a') and not os.path.isabs(path):
                libs.add(os.path.basename(path))
    return libs


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, ok, name, problems=()):
        self.n += 1
        print('%s %d - %s' % ('ok' if ok else 'not ok', self.n, name))
        if not ok:
            for p in problems:
                print('#   ' + p)
            self.failed += 1


def check_includes(tap, root, label=''):
    for layer, problems in sorted(include_violations(root).items()):
        tap.result(not problems, '%sincludes of layer %s follow the rules'
                   % (label, layer), problems)


def check_links(tap, build):
    for target, allowed in sorted(MAY_LINK.items()):
        try:
            extra = sorted(linked_libraries(build, target) - allowed)
            problems = ['%s links %s, which it may not (allowed: %s)' %
                        (target, lib, ', '.join(sorted(allowed)))
                        for lib in extra]
        except RuntimeError as e:
            problems = [str(e)]
        tap.result(not problems, '%s links only %s' %
                   (target, ', '.join(sorted(allowed))), problems)


def write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text)


def self_test(tap):
    """The checker names a core file that includes a service header, and a
    qmp file that includes an iothread header; it accepts a clean tree."""
    with tempfile.TemporaryDirectory() as d:
        write(d, 'aio/include/aioctx/aio.h', '')
        write(d, 'aio/services/disk-common.h', '')
        write(d, 'aio/core/loop.c', '#include "aioctx/aio.h"\n')
        write(d, 'iothread/registry.h', '')
        write(d, 'qmp/server.c', '#include "aioctx/aio.h"\n')
        clean = include_violations(d)
        tap.result(all(not p for p in clean.values()),
                   'self-test: a tree that follows the rules passes')
        write(d, 'aio/core/loop.c', '#include "aioctx/aio.h"\n'
              '#include "services/disk-common.h"\n')
        core = include_violations(d).get('aio-core', [])
        tap.result(len(core) == 1 and core[0].startswith(
                       'aio/core/loop.c:2 includes "services/disk-common.h"'),
                   'self-test: a core file including a service header is '
                   'named with its line', core)
        write(d, 'qmp/server.c', '#include "registry.h"\n')
        qmp = include_violations(d).get('qmp-server', [])
        tap.result(len(qmp) == 1 and qmp[0].startswith(
                       'qmp/server.c:1 includes "registry.h" '
                       '(iothread/registry.h'),
                   'self-test: qmp/ including an iothread header is named',
                   qmp)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write('usage: check-layers.py SOURCE_ROOT BUILD_DIR\n')
        return 2
    root, build = sys.argv[1], sys.argv[2]
    tap = Tap()
    check_includes(tap, root)
    check_links(tap, build)
    self_test(tap)
    print('1..%d' % tap.n)
    return 1 if tap.failed else 0


if __name__ == '__main__':
    sys.exit(main())
