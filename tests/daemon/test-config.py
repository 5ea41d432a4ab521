#!/usr/bin/env python3
"""--config, config-save and --auto-save on the real daemon: a config
brings back what was created and tuned before a restart; a bad config is
refused with FILE:LINE:COL, exit status 2 and no socket; a crash just
before the rename of a save leaves the old file whole.

The crash is injected with IOTHREADD_TEST_CRASH_BEFORE_RENAME, which only
this test sets: the daemon SIGKILLs itself after the new text is written
and fsynced to the temporary file and before rename(2).  That is the one
moment where a crash could leave a mixed file if the save wrote in place;
rename is atomic, so a crash before it leaves the old file and one after
it the new (whole: it was fsynced before the rename).  The hammer test
adds the other half: SIGKILL at arbitrary moments of a stream of saves
never leaves an unparsable or partial file.

Usage: test-config.py IOTHREADD"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "qmp"))
from qmpwire import DEADLINE_S, Conn, Peer, Tap, execute, negotiated  # noqa: E402,E501

IOTHREADD = sys.argv[1]
tap = Tap()






def start(config, *extra, env=None):
    return Peer("config", lambda sock: [IOTHREADD, "--qmp", "unix:" + sock,
                                        "--config", config, *extra])


def iothreads(conn):
    return {t["id"]: t for t in execute(conn, "query-iothreads")["return"]}


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def run(*args, env=None):
    return subprocess.run([IOTHREADD, *args], capture_output=True, text=True,
                          timeout=DEADLINE_S, env=env)


def test_restart_restores_state(tmp):
    config = os.path.join(tmp, "restart.json")
    write(config, json.dumps({"objects": [{"qom-type": "iothread",
                                           "id": "io0", "poll-max-ns": 100}]}))
    peer = start(config, "--auto-save")
    conn = negotiated(peer.path)
    execute(conn, "object-add", {"qom-type": "iothread", "id": "io2",
                                 "poll-grow": 3, "cpu-affinity": "0"})
    execute(conn, "iothread-set", {"id": "io0", "poll-max-ns": 5000,
                                   "thread-pool-max": 8})
    execute(conn, "qom-set", {"path": "/objects/main-loop",
                              "property": "thread-pool-max", "value": 7})
    execute(conn, "object-add", {"qom-type": "iothread", "id": "gone"})
    execute(conn, "object-del", {"id": "gone"})
    conn.close()
    peer.stop()

    peer = start(config)
    conn = negotiated(peer.path)
    got = iothreads(conn)
    tap.ok(list(got) == ["io0", "io2"], "after a restart the same iothreads "
           "exist, in creation order", list(got))
    tap.ok(got.get("io0", {}).get("poll-max-ns") == 5000 and
           got.get("io0", {}).get("thread-pool-max") == 8 and
           got.get("io2", {}).get("poll-grow") == 3 and
           got.get("io2", {}).get("cpu-affinity") == "0",
           "with the values set before it (iothread-set, object-add)", got)
    ml = execute(conn, "qom-get", {"path": "/objects/main-loop",
                                   "property": "thread-pool-max"})
    tap.ok(ml.get("return") == 7, "and the main-loop's qom-set value", ml)
    peer.check_clean_exit(tap)


def test_config_save_writes_private_file(tmp):
    config = os.path.join(tmp, "saved.json")
    target = os.path.join(tmp, "elsewhere.json")
    write(config, '{"objects": [{"qom-type": "iothread", "id": "a"}]}')
    peer = start(config)
    conn = negotiated(peer.path)
    execute(conn, "iothread-set", {"id": "a", "poll-shrink": 4})
    with open(config) as f:
        before = f.read()
    reply = execute(conn, "config-save", {"path": target})
    tap.ok(reply == {"return": {}} and os.path.exists(target),
           "config-save with a path writes there", reply)
    tap.ok(os.stat(target).st_mode & 0o777 == 0o600, "mode 0600",
           oct(os.stat(target).st_mode))
    with open(config) as f:
        tap.ok(f.read() == before, "without --auto-save the --config file "
               "is untouched by changes")
    execute(conn, "config-save")
    with open(config) as f:
        saved = json.load(f)
    tap.ok(saved["objects"][0]["poll-shrink"] == 4, "config-save without a "
           "path writes the --config file", saved)
    leftovers = [n for n in os.listdir(tmp) if ".tmp-" in n]
    tap.ok(not leftovers, "no temporary file is left", leftovers)
    peer.check_clean_exit(tap)


def test_config_save_needs_a_file(tmp):
    peer = Peer("nocfg", lambda sock: [IOTHREADD, "--qmp", "unix:" + sock])
    conn = negotiated(peer.path)
    reply = execute(conn, "config-save")
    tap.ok(reply.get("error", {}).get("class") == "GenericError" and
           "--config" in reply["error"]["desc"],
           "config-save without --config or a path is refused", reply)
    peer.check_clean_exit(tap)


def test_auto_save_needs_config(tmp):
    r = run("--auto-save")
    tap.ok(r.returncode == 2 and "--auto-save needs --config" in r.stderr,
           "--auto-save without --config: exit 2 with the reason", r.stderr)


def test_auto_save_creates_missing_file(tmp):
    config = os.path.join(tmp, "new.json")
    peer = start(config, "--auto-save", "--nodefaults")
    conn = negotiated(peer.path)
    tap.ok(not os.path.exists(config), "a missing file with --auto-save: "
           "the daemon starts and writes nothing yet")
    execute(conn, "object-add", {"qom-type": "iothread", "id": "first"})
    with open(config) as f:
        saved = json.load(f)
    tap.ok([o["id"] for o in saved["objects"]] == ["first"],
           "the first change creates it", saved)
    peer.check_clean_exit(tap)


# (text, line, column, what the message says).  Each kind of error once.
# The position is the member's name for an error of a member, the element
# for an error of an array element, the character itself for a syntax
# error.
BAD_CONFIGS = [
    ('{"objects": [\n  {"qom-type": "iothread", "id": "a",}\n]}', 2, 38,
     "JSON syntax: unexpected '}'"),
    ('{"objects": []', 1, 15, "JSON syntax: unexpected end of input"),
    ('{"pidfile": "a",\n "pidfile": "b"}', 2, 2, "duplicate member 'pidfile'"),
    ('{\n  "sockets": []\n}', 2, 3, "unknown member 'sockets'"),
    ('[]', 1, 1, "must be a JSON object"),
    ('{"qmp": "unix:/x"}', 1, 2, "'qmp' must be an array"),
    ('{"qmp": ["unix:/x,mode=0999"]}', 1, 10, "bad value '0999' of option "
     "'mode'"),
    ('{"qmp": ["tcp:0.0.0.0:4444"]}', 1, 10, "allow-remote=on"),
    ('{"pidfile": 5}', 1, 2, "'pidfile' must be a file name"),
    ('{"objects": {}}', 1, 2, "'objects' must be an array"),
    ('{"objects": [7]}', 1, 14, "must be a JSON object with object-add"),
    ('{"objects": [{"id": "a"}]}', 1, 14, "Parameter 'qom-type' is missing"),
    ('{"objects": [{"qom-type": "iothread", "id": "a",\n'
     '              "poll-max-ns": -1}]}', 2, 15,
     "objects[0]: poll-max-ns value must be in range"),
    ('{"objects": [{"qom-type": "iothread", "id": "a", "poll-grow": "x"}]}',
     1, 50, "poll-grow"),
    ('{"objects": [{"qom-type": "iothread", "id": "a", "bogus": 1}]}', 1, 50,
     "bogus"),
    ('{"objects": [{"qom-type": "iothread", "id": "a",\n'
     ' "thread-pool-min": 9, "thread-pool-max": 2}]}', 2, 2,
     "bad thread-pool-min/thread-pool-max values"),
    ('{"objects": [{"qom-type": "iothread", "id": "9a"}]}', 1, 39,
     "Parameter 'id' expects an identifier"),
    ('{"objects": [{"qom-type": "iothread", "id": "a"},\n'
     '             {"qom-type": "iothread", "id": "a"}]}', 2, 39,
     "duplicate id 'a'"),
    ('{"objects": [{"qom-type": "iothread", "id": "a",\n'
     '   "cpu-affinity": "3-1"}]}', 2, 4, "'3-1' is a decreasing range"),
    ('{"objects": [{"qom-type": "iothread", "id": "a",\n'
     '   "cpu-affinity": "1023"}]}', 2, 4, "not in the daemon's allowed set"),
    ('{"main-loop": {"poll-max-ns": 1}}', 1, 16,
     "Property 'main-loop.poll-max-ns' not found"),
    ('{"main-loop": {"id": "x"}}', 1, 16, "'main-loop' has no member 'id'"),
    # Columns count characters: "ä" is two bytes, one column.
    ('{"pidfile": "ä", "objects": [7]}', 1, 30, "must be a JSON object"),
]


def test_bad_config_refused_with_position(tmp):
    sock = os.path.join(tmp, "never.sock")
    for i, (text, line, col, what) in enumerate(BAD_CONFIGS):
        path = os.path.join(tmp, f"bad{i}.json")
        write(path, text)
        r = run("--qmp", "unix:" + sock, "--config", path)
        want = f"{path}:{line}:{col}: "
        tap.ok(r.returncode == 2 and want in r.stderr and what in r.stderr
               and not os.path.exists(sock),
               f"bad config {i} ({what}): exit 2, '{want}...', no socket",
               f"exit {r.returncode}", r.stderr, text)


def test_unreadable_config_refused(tmp):
    path = os.path.join(tmp, "absent.json")
    r = run("--config", path)
    tap.ok(r.returncode == 2 and path in r.stderr,
           "a missing config file without --auto-save: exit 2 naming it",
           r.stderr)


def test_crash_before_rename_keeps_old_file(tmp):
    config = os.path.join(tmp, "crash.json")
    write(config, '{"objects": [{"qom-type": "iothread", "id": "old"}]}')
    with open(config, "rb") as f:
        old = f.read()
    env = dict(os.environ, IOTHREADD_TEST_CRASH_BEFORE_RENAME="1")
    proc, peer_conn = start_connected(tmp, "c", config, env)
    peer_conn.send(json.dumps({"execute": "object-add", "arguments": {
        "qom-type": "iothread", "id": "new"}}).encode())
    status = proc.wait(timeout=DEADLINE_S)
    tap.ok(status == -signal.SIGKILL, "the daemon died in the save "
           "(SIGKILL before the rename)", status)
    with open(config, "rb") as f:
        tap.ok(f.read() == old, "the config file is the old one, whole")
    temps = [n for n in os.listdir(tmp) if n.startswith("crash.json.tmp-")]
    new = json.load(open(os.path.join(tmp, temps[0]))) if temps else {}
    tap.ok([o["id"] for o in new.get("objects", [])] == ["old", "new"],
           "the new text was complete in the temporary file", temps)


def start_connected(tmp, name, config, env=None):
    """Start the daemon with --config CONFIG --auto-save on TMP/NAME.sock
    (its stderr in TMP/NAME.stderr) and return it with a negotiated
    connection."""
    stderr_path = os.path.join(tmp, name + ".stderr")
    with open(stderr_path, "wb") as stderr:
        proc = subprocess.Popen([IOTHREADD, "--qmp", f"unix:{tmp}/{name}.sock",
                                 "--config", config, "--auto-save"],
                                env=env, stderr=stderr)
    return proc, wait_connect(f"{tmp}/{name}.sock", proc, stderr_path)


def wait_connect(path, proc, stderr_path):
    """Connect to the daemon on PATH; on failure the error carries what the
    daemon printed, since a daemon that exits at start says why there."""
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end and proc.poll() is None:
        try:
            conn = Conn(path)
            json.loads(conn.line())
            conn.send(b'{"execute": "qmp_capabilities"}')
            conn.line()
            return conn
        except OSError:
            time.sleep(0.02)
    with open(stderr_path, errors="replace") as f:
        said = f.read()
    raise RuntimeError(f"no daemon on {path} (exit status {proc.poll()}); "
                       f"it printed:\n{said}")


def test_kill_during_saves_never_tears(tmp):
    config = os.path.join(tmp, "hammer.json")
    write(config, '{"objects": []}')
    torn = []
    for round_no in range(6):
        proc, conn = start_connected(tmp, "h", config)
        for k in range(40):
            conn.send(json.dumps({"execute": "iothread-set" if k % 2 else
                                  "object-add", "arguments": {
                                      "qom-type": "iothread",
                                      "id": f"r{round_no}k{k}"}
                                  if k % 2 == 0 else {
                                      "id": f"r{round_no}k{k - 1}",
                                      "poll-max-ns": k}}).encode())
        time.sleep(0.01 * (round_no + 1))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        conn.close()
        try:
            with open(config) as f:
                saved = json.load(f)
            ids = [o["id"] for o in saved["objects"]]
        except (ValueError, KeyError) as e:
            torn.append(f"round {round_no}: {e}")
            write(config, '{"objects": []}')
            continue
        # Start the next round from what was saved, trimmed.
        write(config, json.dumps({"objects": saved["objects"][:1]}))
        if len(ids) != len(set(ids)):
            torn.append(f"round {round_no}: repeated ids {ids}")
    tap.ok(not torn, "SIGKILL during a stream of auto-saves leaves a whole "
           "config every time (6 rounds)", *torn)


def main():
    with tempfile.TemporaryDirectory(prefix="test-config-") as tmp:
        test_restart_restores_state(tmp)
        test_config_save_writes_private_file(tmp)
        test_config_save_needs_a_file(tmp)
        test_auto_save_needs_config(tmp)
        test_auto_save_creates_missing_file(tmp)
        test_bad_config_refused_with_position(tmp)
        test_unreadable_config_refused(tmp)
        test_crash_before_rename_keeps_old_file(tmp)
        test_kill_during_saves_never_tears(tmp)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
