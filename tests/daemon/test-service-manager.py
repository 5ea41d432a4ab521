#!/usr/bin/env python3
"""iothreadd under a service manager, played by this test: readiness
notification (Type=notify: READY=1 on $NOTIFY_SOCKET once the QMP socket
answers, STOPPING=1 at exit) and socket activation (a listening socket
passed as fd 3 with LISTEN_FDS=1 LISTEN_PID=<its pid>, served instead of
the default socket and left in place at exit).

Usage: test-service-manager.py IOTHREADD"""
import json
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'qmp'))
from qmpwire import Tap  # noqa: E402
from daemonproc import DEADLINE_S, Run, connect_when_up, read_line  # noqa: E402


def receive(sock, timeout=DEADLINE_S):
    """The next datagram as text, '' when none came in time."""
    sock.settimeout(timeout)
    try:
        return sock.recv(4096).decode()
    except OSError:
        return ''


def states(message):
    return message.split('\n')


def execute(sock, command):
    sock.sendall(json.dumps({'execute': command}).encode())
    while True:
        reply = json.loads(read_line(sock) or b'{}')
        if 'event' not in reply:
            return reply


def greet_now(path):
    """The greeting of the server at @path, without waiting for the socket
    to appear: an error text when it does not accept right away."""
    conn = socket.socket(socket.AF_UNIX)
    try:
        conn.connect(path)
        return read_line(conn)
    except OSError as e:
        return str(e).encode()
    finally:
        conn.close()


def test_ready_when_socket_answers(tap, first, greeting):
    tap.ok('READY=1' in states(first) and greeting.startswith(b'{"QMP"'),
           'READY=1 is the first notification, and when it arrives the QMP '
           'socket already accepts and greets', repr(first), repr(greeting))


def test_ready_sent_once(tap, later):
    again = [m for m in later if 'READY=1' in states(m)]
    tap.ok(not again, 'READY=1 is sent once', repr(later))


def test_stopping_sent_at_exit(tap, later, status):
    tap.ok(later and 'STOPPING=1' in states(later[-1]) and status == 0,
           'SIGTERM: STOPPING=1 is the last notification, exit 0',
           repr(later), 'status %s' % status)


def notify_scenario(tap, iothreadd):
    run = Run(iothreadd)
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        ns.bind(run.path('notify'))
        qmp_path = run.path('qmp.sock')
        run.start(['--nodefaults', '--qmp', 'unix:' + qmp_path],
                  env={'NOTIFY_SOCKET': run.path('notify')})
        first = receive(ns)
        test_ready_when_socket_answers(tap, first, greet_now(qmp_path))
        status = run.stop()
        later = []
        while True:
            m = receive(ns, 0.2)
            if not m:
                break
            later.append(m)
        test_ready_sent_once(tap, later)
        test_stopping_sent_at_exit(tap, later, status)
    finally:
        ns.close()
        run.cleanup()


def listening_socket(path):
    s = socket.socket(socket.AF_UNIX)
    s.bind(path)
    s.listen(8)
    return s


def test_passed_socket_serves_qmp(tap, conn):
    greeting = read_line(conn) if conn else b''
    caps = execute(conn, 'qmp_capabilities') if conn else {}
    threads = execute(conn, 'query-iothreads') if conn else {}
    ids = sorted(t.get('id') for t in threads.get('return', []))
    tap.ok(greeting.startswith(b'{"QMP"') and caps == {'return': {}} and
           ids == ['io0', 'io1'], 'the socket passed as fd 3 serves QMP '
           '(greeting, capabilities, query-iothreads)', repr(greeting),
           repr(caps), repr(threads))


def test_no_default_socket_when_activated(tap, run):
    default = os.path.join(run.xdg, 'iothreadd', 'qmp.sock')
    tap.ok(not os.path.exists(default), 'with a passed socket the default '
           'socket is not created', default)


def test_passed_socket_file_left_at_exit(tap, run, path, status):
    tap.ok(status == 0 and os.path.exists(path), 'at exit (0) the passed '
           "socket's file stays: it belongs to the service manager",
           'status %s' % status, run.stderr())


def activation_scenario(tap, iothreadd):
    run = Run(iothreadd)
    path = run.path('activated.sock')
    listener = listening_socket(path)
    conn = None
    try:
        run.start([], passed_socket=listener)
        listener.close()
        conn = connect_when_up(path, run)
        test_passed_socket_serves_qmp(tap, conn)
        test_no_default_socket_when_activated(tap, run)
        status = run.stop()
        test_passed_socket_file_left_at_exit(tap, run, path, status)
    finally:
        if conn:
            conn.close()
        run.cleanup()


def test_non_listening_socket_refused(tap, iothreadd):
    run = Run(iothreadd)
    unbound = socket.socket(socket.AF_UNIX)
    try:
        status = run.run_to_exit([], passed_socket=unbound)
        err = run.stderr()
        tap.ok(status == 1 and 'fd 3' in err and 'not a listening' in err,
               'a passed socket that does not listen: exit 1 naming fd 3',
               'status %s' % status, err)
    finally:
        unbound.close()
        run.cleanup()


def main():
    iothreadd = sys.argv[1]
    tap = Tap()
    notify_scenario(tap, iothreadd)
    activation_scenario(tap, iothreadd)
    test_non_listening_socket_refused(tap, iothreadd)
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
