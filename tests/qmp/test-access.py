#!/usr/bin/env python3
"""Access control of QMP sockets on the real daemon: mode= and group= of
the socket file, readonly=on (queries pass, anything else is refused by
name and changes nothing), max-clients= (one more client gets an error,
then EOF), the log line naming each client's pid and uid (SO_PEERCRED),
TCP refused beyond loopback unless allow-remote=on (which warns), and
every malformed option refused with exit status 2.

Usage: test-access.py IOTHREADD"""
import grp
import json
import os
import socket
import subprocess
import sys
import time

from qmpwire import DEADLINE_S, Conn, Peer, Tap, execute, negotiated

IOTHREADD = sys.argv[1]
tap = Tap()






def daemon(name, options, *extra):
    """A daemon whose first socket is DIR/qmp.sock with @options."""
    return Peer(name, lambda sock: [IOTHREADD, "--qmp", f"unix:{sock}{options}",
                                    *extra])


def other_group():
    """A group to give the socket: one that is not our primary group when
    we may chown to it (root), else our own."""
    if os.geteuid() == 0:
        for g in grp.getgrall():
            if g.gr_gid != os.getgid():
                return g
    return grp.getgrgid(os.getgid())


def test_default_socket_is_private():
    peer = daemon("default", "")
    tap.ok(os.stat(peer.path).st_mode & 0o777 == 0o600,
           "without mode= the socket is 0600", oct(os.stat(peer.path).st_mode))
    peer.check_clean_exit(tap)


def test_mode_and_group_applied():
    g = other_group()
    peer = daemon("modegroup", f",mode=0660,group={g.gr_name}")
    st = os.stat(peer.path)
    tap.ok(st.st_mode & 0o777 == 0o660, "mode=0660 gives the socket 0660",
           oct(st.st_mode))
    tap.ok(st.st_gid == g.gr_gid, f"group={g.gr_name} gives it that group",
           st.st_gid)
    peer.check_clean_exit(tap)


def test_readonly_refuses_changes():
    # The read-only socket first: the daemon listens in order, and Peer
    # waits for the last one.
    peer = Peer("readonly", lambda sock: [
        IOTHREADD, "--qmp", f"unix:{sock}.ro,readonly=on",
        "--qmp", f"unix:{sock}"])
    ro = negotiated(peer.path + ".ro")
    for command, args in [("query-iothreads", None), ("query-version", None),
                          ("query-qmp-schema", None),
                          ("qom-list", {"path": "/objects"}),
                          ("qom-get", {"path": "/objects/io0",
                                       "property": "poll-max-ns"})]:
        reply = execute(ro, command, args)
        tap.ok("return" in reply, f"read-only socket allows {command}",
               reply)
    for command, args in [
            ("object-add", {"qom-type": "iothread", "id": "x"}),
            ("qom-set", {"path": "/objects/io0", "property": "poll-max-ns",
                         "value": 1}),
            ("iothread-set", {"id": "io0", "poll-max-ns": 1}),
            ("human-monitor-command", {"command-line": "object_del io0"}),
            ("config-save", {"path": "/tmp/x"}), ("quit", None)]:
        reply = execute(ro, command, args)
        want = (f"command '{command}' is not allowed on read-only socket "
                f"{peer.path}.ro")
        tap.ok(reply.get("error") == {"class": "GenericError", "desc": want},
               f"read-only socket refuses {command} naming the rule", reply)
    reply = execute(ro, "no-such-command")
    tap.ok(reply.get("error", {}).get("class") == "CommandNotFound",
           "an unknown command stays CommandNotFound", reply)
    rw = negotiated(peer.path)
    got = execute(rw, "query-iothreads")["return"]
    tap.ok([t["id"] for t in got] == ["io0", "io1"] and
           got[0]["poll-max-ns"] == 32768, "the refused commands changed "
           "nothing", got)
    peer.check_clean_exit(tap)


def test_max_clients_refuses_one_more():
    peer = daemon("maxclients", ",max-clients=1")
    first = negotiated(peer.path)
    extra = Conn(peer.path)
    reply = json.loads(extra.line())
    tap.ok(reply.get("error", {}).get("class") == "GenericError" and
           "max-clients=1" in reply["error"]["desc"],
           "a client beyond max-clients gets an error naming the limit",
           reply)
    try:
        extra.line()
        closed = False
    except EOFError:
        closed = True
    tap.ok(closed, "and is then disconnected")
    tap.ok("return" in execute(first, "query-version"),
           "the client within the limit is served")
    first.close()
    deadline = time.monotonic() + DEADLINE_S
    again = None
    while time.monotonic() < deadline:
        conn = Conn(peer.path)
        greeting = json.loads(conn.line())
        if "QMP" in greeting:
            again = conn
            break
        conn.close()
        time.sleep(0.01)
    tap.ok(again is not None, "once it leaves, a new client is accepted")
    peer.check_clean_exit(tap)


def test_peer_credentials_logged():
    peer = daemon("peercred", "")
    conn = negotiated(peer.path)
    execute(conn, "query-version")
    want = f"pid {os.getpid()} uid {os.getuid()} gid {os.getgid()}"
    deadline = time.monotonic() + DEADLINE_S
    while want not in peer.stderr() and time.monotonic() < deadline:
        time.sleep(0.01)
    tap.ok(want in peer.stderr(), f"the connection is logged with '{want}'",
           peer.stderr())
    peer.check_clean_exit(tap)


def run(*args):
    return subprocess.run([IOTHREADD, *args], capture_output=True, text=True,
                          timeout=DEADLINE_S)


def test_tcp_beyond_loopback_needs_allow_remote():
    r = run("--qmp", "tcp:0.0.0.0:0")
    tap.ok(r.returncode == 2 and "allow-remote=on" in r.stderr and
           "no authentication" in r.stderr,
           "tcp on 0.0.0.0 without allow-remote=on: exit 2, saying why",
           r.stderr)
    proc = subprocess.Popen([IOTHREADD, "--nodefaults", "--qmp",
                             "tcp:0.0.0.0:0,allow-remote=on"],
                            stderr=subprocess.PIPE, text=True)
    lines = []
    port = None
    deadline = time.monotonic() + DEADLINE_S
    while port is None and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if "QMP on tcp port" in line:
            port = int(line.split()[-1])
    warned = any("no authentication" in line for line in lines)
    tap.ok(port is not None and warned, "with allow-remote=on it listens "
           "and warns that TCP has no authentication", *lines)
    if port:
        s = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S)
        tap.ok(b"QMP" in s.recv(4096), "and serves clients")
        s.close()
    else:
        tap.ok(False, "and serves clients")
    proc.terminate()
    proc.communicate(timeout=DEADLINE_S)


def test_bad_socket_options_refused():
    cases = [
        ("unix:/tmp/x,mode=0999", "bad value '0999' of option 'mode'"),
        ("unix:/tmp/x,mode=660", "bad value '660' of option 'mode'"),
        ("unix:/tmp/x,group=no-such-group-here",
         "bad value 'no-such-group-here' of option 'group'"),
        ("unix:/tmp/x,readonly=yes", "bad value 'yes' of option 'readonly'"),
        ("unix:/tmp/x,max-clients=0", "bad value '0' of option 'max-clients'"),
        ("unix:/tmp/x,allow-remote=on",
         "bad value 'on' of option 'allow-remote'"),
        ("tcp:127.0.0.1:0,mode=0600", "bad value '0600' of option 'mode'"),
        ("unix:/tmp/x,colour=red", "unknown option 'colour'"),
        ("unix:/tmp/x,readonly", "option 'readonly' is not KEY=VALUE"),
        ("unix:/tmp/x,readonly=on,readonly=off",
         "option 'readonly' given twice"),
        ("tcp:example.org:4444", "HOST must be an IPv4 address"),
    ]
    for address, what in cases:
        r = run("--qmp", address)
        tap.ok(r.returncode == 2 and what in r.stderr,
               f"--qmp {address}: exit 2, '{what}'", r.stderr)


def main():
    test_default_socket_is_private()
    test_mode_and_group_applied()
    test_readonly_refuses_changes()
    test_max_clients_refuses_one_more()
    test_peer_credentials_logged()
    test_tcp_beyond_loopback_needs_allow_remote()
    test_bad_socket_options_refused()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
