#!/usr/bin/env python3
"""cpu-affinity on the real daemon: set by object-add, iothread-set,
qom-set, --object, iothreadctl and HMP (a single CPU stays text), read
back by query-iothreads, qom-get and iothreadctl's `info iothreads`,
announced by IOTHREAD_PROPERTY_CHANGED,
in effect on the iothread's thread and its pool workers (Cpus_allowed_list
of /proc/PID/task/TID/status), refused with a clear error that changes
nothing.  Needs CPUs 0 and 1; a TAP skip with the reason otherwise.

Usage: test-cpu-affinity.py IOTHREADD IOTHREADCTL"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "qmp"))
from qmpwire import DEADLINE_S, Peer, Tap, execute, negotiated  # noqa: E402

IOTHREADD, IOTHREADCTL = sys.argv[1], sys.argv[2]
tap = Tap()






def cpus_of(pid, tid):
    with open(f"/proc/{pid}/task/{tid}/status") as f:
        for line in f:
            if line.startswith("Cpus_allowed_list:"):
                return line.split()[1]
    return None


def threads_named(pid, prefix):
    tids = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                if f.read().startswith(prefix):
                    tids.append(tid)
        except OSError:
            pass
    return tids


def info(conn, ident):
    for t in execute(conn, "query-iothreads")["return"]:
        if t["id"] == ident:
            return t
    return {}


def wait_for(cond):
    """@cond() until true or the deadline (which only guards a hang)."""
    end = time.monotonic() + DEADLINE_S
    while not cond() and time.monotonic() < end:
        time.sleep(0.01)
    return cond()


def test_object_add_applies_to_thread(peer, conn):
    reply = execute(conn, "object-add", {"qom-type": "iothread", "id": "a",
                                         "cpu-affinity": "1"})
    t = info(conn, "a")
    tap.ok(reply == {"return": {}} and t.get("cpu-affinity") == "1",
           "object-add cpu-affinity '1': query-iothreads shows '1'", reply, t)
    tap.ok(cpus_of(peer.proc.pid, t.get("thread-id")) == "1",
           "the iothread's thread runs on CPU 1 only")


def test_defaults_inherit(peer, conn):
    t = info(conn, "io0")
    allowed = ",".join(str(c) for c in sorted(os.sched_getaffinity(0)))
    tap.ok(t.get("cpu-affinity") == "", "an iothread without it shows ''")
    got = cpus_of(peer.proc.pid, t.get("thread-id"))
    tap.ok(got is not None and set(expand(got)) == set(expand(allowed)),
           "and runs on the daemon's CPUs", got, allowed)


def expand(cpulist):
    cpus = []
    for part in cpulist.split(","):
        a, _, b = part.partition("-")
        cpus.extend(range(int(a), int(b or a) + 1))
    return cpus


def test_live_changes_and_event(peer, conn):
    events = []
    execute(conn, "iothread-set", {"id": "a", "cpu-affinity": "0"},
            events=events)
    tid = info(conn, "a")["thread-id"]
    tap.ok(cpus_of(peer.proc.pid, tid) == "0", "iothread-set moves the "
           "thread to CPU 0")
    execute(conn, "qom-set", {"path": "/objects/a", "property":
                              "cpu-affinity", "value": "1,0"}, events=events)
    got = execute(conn, "qom-get", {"path": "/objects/a",
                                    "property": "cpu-affinity"})
    tap.ok(got.get("return") == "0-1" and
           cpus_of(peer.proc.pid, tid) == "0-1",
           "qom-set '1,0': qom-get reads the canonical '0-1', in effect",
           got)
    changes = [e["data"] for e in events
               if e["event"] == "IOTHREAD_PROPERTY_CHANGED"]
    # The server sends a command's events before its reply.
    tap.ok(changes == [{"id": "a", "cpu-affinity": "0"},
                       {"id": "a", "cpu-affinity": "0-1"}],
           "each change sends IOTHREAD_PROPERTY_CHANGED with the new value",
           changes)


def test_pool_workers_follow(peer, conn):
    execute(conn, "object-add", {"qom-type": "iothread", "id": "pool",
                                 "thread-pool-min": 2, "cpu-affinity": "1"})
    pid = peer.proc.pid

    def workers_on(want, n):
        tids = threads_named(pid, "aiopool")
        return len(tids) >= n and all(cpus_of(pid, t) == want for t in tids)
    tap.ok(wait_for(lambda: workers_on("1", 2)),
           "its pool workers run on CPU 1 too")
    execute(conn, "iothread-set", {"id": "pool", "cpu-affinity": "0"})
    tap.ok(wait_for(lambda: workers_on("0", 2)),
           "they follow a live change to CPU 0")
    execute(conn, "iothread-set", {"id": "pool", "thread-pool-min": 4})
    tap.ok(wait_for(lambda: workers_on("0", 4)),
           "workers started later start on CPU 0")


def test_bad_values_refused(peer, conn):
    allowed = os.sched_getaffinity(0)
    outside = max(allowed) + 1
    for value, what in [("3-1", "'3-1' is a decreasing range"),
                        ("x", "'x' is not a CPU number"),
                        (str(outside), f"CPU {outside} is not in the "
                         "daemon's allowed set")]:
        events = []
        reply = execute(conn, "iothread-set", {"id": "a", "cpu-affinity":
                                               value, "poll-max-ns": 1},
                        events=events)
        t = info(conn, "a")
        tap.ok(reply.get("error", {}).get("class") == "GenericError" and
               what in reply["error"]["desc"] and
               t.get("cpu-affinity") == "0-1" and t["poll-max-ns"] != 1,
               f"iothread-set cpu-affinity '{value}' is refused ({what}) and "
               "changes nothing, poll-max-ns included", reply)
    reply = execute(conn, "object-add", {"qom-type": "iothread", "id": "b",
                                         "cpu-affinity": "9999"})
    tap.ok("error" in reply and not info(conn, "b"),
           "object-add with a bad cpu-affinity creates nothing", reply)
    reply = execute(conn, "qom-set", {"path": "/objects/a", "property":
                                      "cpu-affinity", "value": 1})
    tap.ok(reply.get("error", {}).get("desc") ==
           "Invalid parameter type for 'cpu-affinity', expected: string",
           "qom-set with a number is refused", reply)
    reply = execute(conn, "iothread-set", {"id": "main-loop",
                                           "cpu-affinity": "0"})
    tap.ok("error" in reply and "cpu-affinity" in reply["error"]["desc"],
           "main-loop has no cpu-affinity", reply)


def test_cli_info_shows_it(peer, conn):
    r = subprocess.run([IOTHREADCTL, "-s", peer.path, "-c", "info iothreads"],
                       capture_output=True, text=True, timeout=DEADLINE_S,
                       env=dict(os.environ, COLUMNS="300"))
    tap.ok(r.returncode == 0 and "CPU-AFFINITY" in r.stdout,
           "iothreadctl's info iothreads has a CPU-AFFINITY column", r.stdout,
           r.stderr)


def test_single_cpu_typed_as_text(peer, conn):
    r = subprocess.run([IOTHREADCTL, "-s", peer.path, "-c",
                        "iothread set a cpu-affinity=1"],
                       capture_output=True, text=True, timeout=DEADLINE_S)
    tap.ok(r.returncode == 0 and info(conn, "a").get("cpu-affinity") == "1",
           "iothreadctl 'iothread set a cpu-affinity=1' sends the text '1' "
           "(the schema says str)", r.stdout, r.stderr)
    for line, ident, want in [
            ("object_add iothread,id=h,cpu-affinity=1", "h", "1"),
            ("qom-set /objects/h cpu-affinity 0", "h", "0"),
            ("object_add iothread,id=h2,cpu-affinity=1,,0", "h2", "0-1")]:
        reply = execute(conn, "human-monitor-command",
                        {"command-line": line})
        tap.ok(reply.get("return") == "" and
               info(conn, ident).get("cpu-affinity") == want,
               f"HMP '{line}' sets '{want}'", reply)


def test_object_option_sets_it():
    peer = Peer("option", lambda sock: [
        IOTHREADD, "--qmp", "unix:" + sock, "--object",
        "iothread,id=opt,cpu-affinity=1,,0,poll-max-ns=5"])
    conn = negotiated(peer.path)
    t = info(conn, "opt")
    tap.ok(t.get("cpu-affinity") == "0-1" and t.get("poll-max-ns") == 5,
           "--object cpu-affinity=1,,0 (',,' a comma) reads back '0-1'", t)
    peer.check_clean_exit(tap)
    r = subprocess.run([IOTHREADD, "--object", "iothread,id=x,cpu-affinity=2-1"],
                       capture_output=True, text=True, timeout=DEADLINE_S)
    tap.ok(r.returncode == 2 and "'2-1' is a decreasing range" in r.stderr,
           "--object with a bad cpu-affinity: exit 2 naming it", r.stderr)


def main():
    allowed = os.sched_getaffinity(0)
    if not {0, 1} <= allowed:
        tap.skip("cpu-affinity on the daemon",
                 f"needs CPUs 0 and 1, this process may use {sorted(allowed)}")
        return tap.done()
    peer = Peer("affinity", lambda sock: [IOTHREADD, "--qmp", "unix:" + sock])
    conn = negotiated(peer.path)
    test_object_add_applies_to_thread(peer, conn)
    test_defaults_inherit(peer, conn)
    test_live_changes_and_event(peer, conn)
    test_pool_workers_follow(peer, conn)
    test_bad_values_refused(peer, conn)
    test_cli_info_shows_it(peer, conn)
    test_single_cpu_typed_as_text(peer, conn)
    peer.check_clean_exit(tap)
    test_object_option_sets_it()
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
