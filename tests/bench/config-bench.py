#!/usr/bin/env python3
"""config-bench: what --auto-save costs a change.  Times iothread-set
round trips against `iothreadd --config F` with and without --auto-save
(each change then waits for a save: temporary file, two fsyncs, rename),
and config-save alone; runs alternate so machine drift hits both.  One
JSON object per line, with the load average.  --quick: few changes; the
exit status says every row was measured.

Usage: config-bench.py [--quick] IOTHREADD"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "qmp"))
from qmpwire import DEADLINE_S, execute, negotiated  # noqa: E402


def start(daemon, tmp, auto_save):
    config = os.path.join(tmp, "config.json")
    with open(config, "w") as f:
        f.write('{"objects": [{"qom-type": "iothread", "id": "io0"}]}')
    sock = os.path.join(tmp, "qmp.sock")
    proc = subprocess.Popen([daemon, "--qmp", "unix:" + sock, "--config",
                             config] + (["--auto-save"] if auto_save else []),
                            stderr=subprocess.DEVNULL)
    # The socket file exists from bind(), a moment before listen(): retry
    # a refused connect until the deadline, and never leave the daemon
    # behind (it holds the test's output pipe).
    end = time.monotonic() + DEADLINE_S
    while True:
        try:
            return proc, negotiated(sock)
        except OSError:
            if time.monotonic() >= end or proc.poll() is not None:
                proc.kill()
                proc.wait()
                raise
            time.sleep(0.01)


def timed(conn, command, args_of, n):
    """Seconds per command over @n round trips (args_of(i) each)."""
    t0 = time.perf_counter()
    for i in range(n):
        reply = execute(conn, command, args_of(i))
        if reply != {"return": {}}:
            raise RuntimeError(f"{command}: {reply}")
    return (time.perf_counter() - t0) / n


def measure(daemon, auto_save, n):
    with tempfile.TemporaryDirectory(prefix="config-bench-") as tmp:
        proc, conn = start(daemon, tmp, auto_save)
        try:
            per_set = timed(conn, "iothread-set",
                            lambda i: {"id": "io0", "poll-max-ns": i % 2}, n)
            per_save = timed(conn, "config-save", lambda i: None, n)
        finally:
            conn.close()
            proc.terminate()
            proc.wait(timeout=DEADLINE_S)
    return per_set, per_save


def main():
    quick = "--quick" in sys.argv
    daemon = [a for a in sys.argv[1:] if a != "--quick"][0]
    n, rounds = (20, 1) if quick else (300, 3)
    rows = 0
    for r in range(rounds):
        for auto_save in (False, True):
            per_set, per_save = measure(daemon, auto_save, n)
            print(json.dumps({
                "bench": "config", "round": r, "auto_save": auto_save,
                "changes": n, "iothread_set_per_s": round(1 / per_set),
                "us_per_change": round(per_set * 1e6, 1),
                "us_per_config_save": round(per_save * 1e6, 1),
                "load": os.getloadavg()[0]}), flush=True)
            rows += 1
    return 0 if rows == 2 * rounds else 1


if __name__ == "__main__":
    sys.exit(main())
