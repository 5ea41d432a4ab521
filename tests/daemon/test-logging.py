#!/usr/bin/env python3
"""iothreadd's log on stderr: one timestamped line per event, the
--log-level threshold, libaioctx's warnings in the same format, <priority>
prefixes instead of timestamps when stderr is the journal, and a bad
--log-level refused.

Usage: test-logging.py IOTHREADD"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'qmp'))
from qmpwire import Tap  # noqa: E402
from daemonproc import Run, connect_when_up  # noqa: E402

TIMESTAMPED = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z '
                         r'(error|warning|info|debug) [\w-]+: \S')
JOURNAL = re.compile(r'^<[3467]>[\w-]+: \S')


def serve_and_stop(iothreadd, args, **kw):
    """Start with --qmp on a temporary socket, wait until it answers,
    SIGTERM; (exit status, stderr lines, socket path)."""
    run = Run(iothreadd)
    path = run.path('qmp.sock')
    try:
        run.start(['--qmp', 'unix:' + path] + args, **kw)
        conn = connect_when_up(path, run)
        if conn:
            conn.close()
        status = run.stop()
        return status, run.stderr().splitlines(), path
    finally:
        run.cleanup()


def test_every_line_timestamped(tap, lines):
    bad = [l for l in lines if not TIMESTAMPED.match(l)]
    tap.ok(lines and not bad, 'every line: UTC timestamp, level, domain, '
           'message', *(bad or ['no lines']))


def test_start_listen_ready_stop_logged(tap, lines, path):
    want = ['info iothreadd: iothread io0 created',
            'info iothreadd: listening on unix:' + path,
            'info iothreadd: iothreadd ', 'info iothreadd: SIGTERM received',
            'info iothreadd: stopped (exit status 0)']
    missing = [w for w in want if not any(w in l for l in lines)]
    tap.ok(not missing, 'info logs each event: iothreads created, listening, '
           'ready, the signal, stopped', 'missing: %s' % missing, *lines)


def test_debug_lines_only_at_debug(tap, info_lines, debug_lines):
    def has_debug(ls):
        return any(' debug ' in l for l in ls)
    tap.ok(has_debug(debug_lines) and not has_debug(info_lines),
           '--log-level debug adds debug lines that info does not show',
           *debug_lines)


def test_error_level_silent_on_clean_run(tap, iothreadd):
    status, lines, _ = serve_and_stop(iothreadd, ['--log-level', 'error'])
    tap.ok(status == 0 and not lines, '--log-level error: a clean run logs '
           'nothing', 'status %s' % status, *lines)


def test_library_warning_is_a_log_line(tap, iothreadd):
    env = {'AIO_FDMON': 'bogus'}
    _, lines, _ = serve_and_stop(iothreadd, [], env=env)
    _, quiet, _ = serve_and_stop(iothreadd, ['--log-level', 'error'], env=env)
    hits = [l for l in lines if 'AIO_FDMON=bogus' in l]
    tap.ok(hits and all(TIMESTAMPED.match(l) and ' warning ' in l
                        for l in hits) and not quiet,
           "libaioctx's g_warning is a timestamped warning line, hidden at "
           '--log-level error', *(lines + quiet))


def test_journal_lines_have_priority(tap, iothreadd):
    _, lines, path = serve_and_stop(iothreadd, [], stderr_journal=True)
    bad = [l for l in lines if not JOURNAL.match(l)]
    tap.ok(lines and not bad and
           '<6>iothreadd: listening on unix:' + path in lines,
           'stderr is the journal (JOURNAL_STREAM): lines start with '
           '<priority>, no timestamp', *(bad or lines))


def test_bad_log_level_refused(tap, iothreadd):
    run = Run(iothreadd)
    path = run.path('qmp.sock')
    try:
        status = run.run_to_exit(['--qmp', 'unix:' + path,
                                  '--log-level', 'loud'])
        err = run.stderr()
        tap.ok(status == 2 and "--log-level 'loud'" in err and
               'error|warning|info|debug' in err and not os.path.exists(path),
               'an unknown --log-level: exit 2 naming it and the levels, no '
               'socket created', 'status %s' % status, err)
    finally:
        run.cleanup()


def test_start_failure_is_an_error_line(tap, iothreadd):
    run = Run(iothreadd)
    try:
        status = run.run_to_exit(['--qmp', 'unix:' + run.path('no/such.sock')])
        lines = run.stderr().splitlines()
        tap.ok(status == 1 and any(TIMESTAMPED.match(l) and ' error ' in l and
                                   'no/such.sock' in l for l in lines),
               'a failed start: exit 1 with an error line naming the socket',
               'status %s' % status, *lines)
    finally:
        run.cleanup()


def main():
    iothreadd = sys.argv[1]
    tap = Tap()
    status, info, path = serve_and_stop(iothreadd, [])
    test_every_line_timestamped(tap, info)
    test_start_listen_ready_stop_logged(tap, info, path)
    _, debug, _ = serve_and_stop(iothreadd, ['--log-level', 'debug'])
    test_debug_lines_only_at_debug(tap, info, debug)
    test_error_level_silent_on_clean_run(tap, iothreadd)
    test_library_warning_is_a_log_line(tap, iothreadd)
    test_journal_lines_have_priority(tap, iothreadd)
    test_bad_log_level_refused(tap, iothreadd)
    test_start_failure_is_an_error_line(tap, iothreadd)
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
