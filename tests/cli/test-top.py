#!/usr/bin/env python3
"""iothreadctl `top` against a scripted QMP server that has every member
top can show (the daemon's own schema, plus `stalls`, `wake-latency-ns`
and query-workloads as the other parts of the statistics add them), and
against the real daemon, which may lack some: every line fits the width,
each sort key orders the rows by its column, workload figures sum the
iothread's running workloads, columns without a member are left out.

Usage: test-top.py IOTHREADCTL IOTHREADD"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading

from qmpwire import DEADLINE_S, Peer, Tap

IDS = ["io0", "io1", "io2", "a-very-long-iothread-name"]

# Per sample n (1, 2, ...), each counter grows by these amounts; values
# chosen so each sort key has its own first row.
GROWTH = {
    "io0": {"busy-ns": 40_000_000},
    "io1": {"thread-cpu-ns": 40_000_000},
    "io2": {"notify-wakeups": 100_000},
    "a-very-long-iothread-name": {"bh-calls": 5},
}
P99_WAKE = {"io0": 900, "io1": 1500, "io2": 800,
            "a-very-long-iothread-name": 2_500_000}
STALLS = {"io0": 0, "io1": 0, "io2": 0, "a-very-long-iothread-name": 3}
WORKLOADS = [
    {"id": "w1", "iothread": "io1", "type": "disk", "state": "running",
     "iops": 1000, "iops-interval": 1500,
     "latency-interval-ns": {"p99": 40_000}},
    {"id": "w2", "iothread": "io1", "type": "bh", "state": "running",
     "iops": 400, "iops-interval": 500,
     "latency-interval-ns": {"p99": 90_000}},
    {"id": "w3", "iothread": "io0", "type": "disk", "state": "finished",
     "iops": 9_000_000, "iops-interval": 9_000_000,
     "latency-interval-ns": {"p99": 9_000_000}},
]
EXPECTED_FIRST = {"b": "io0", "c": "io1", "w": "io2",
                  "l": "a-very-l~", "s": "a-very-l~", "i": "io1"}
HEADERS = ["BUSY%", "POLL%", "BLKD%", "CPU%", "WAKE/s", "BH/s", "FD/s",
           "P99WAKE", "STALLS", "IOPS", "P99IO"]


def daemon_schema(iothreadd):
    """The daemon's own query-qmp-schema answer."""
    peer = Peer("iothreadd", lambda path: [iothreadd, "--nodefaults",
                                          "--qmp", f"unix:{path}"])
    conn = peer.connect()
    conn.line()
    conn.send(b'{"execute": "qmp_capabilities"}')
    conn.line()
    conn.send(b'{"execute": "query-qmp-schema"}')
    schema = json.loads(conn.line())["return"]
    conn.close()
    peer.stop()
    return schema


def extended_schema(schema):
    """@schema with the members and the command of the other parts."""
    for e in schema:
        if e["name"] == "AioContextStats":
            e["members"] += [{"name": "stalls", "type": "int"},
                             {"name": "wake-latency-ns",
                              "type": "HistogramSummary"}]
    schema += [
        {"name": "query-workloads", "meta-type": "command", "arg-type": "0",
         "ret-type": "[WorkloadInfo]"},
        {"name": "[WorkloadInfo]", "meta-type": "array",
         "element-type": "WorkloadInfo"},
        {"name": "WorkloadInfo", "meta-type": "object", "members": [
            {"name": n, "type": t} for n, t in (
                ("id", "str"), ("iothread", "str"), ("type", "str"),
                ("state", "str"), ("iops", "number"),
                ("iops-interval", "number"),
                ("latency-interval-ns", "HistogramSummary"))]},
    ]
    return schema


def stats_members(schema):
    entry = next(e for e in schema if e["name"] == "AioContextStats")
    return entry["members"]


class FakeServer:
    """A QMP server on a unix socket answering from the tables above."""

    def __init__(self, schema):
        self.schema = schema
        self.samples = 0
        self.dir = tempfile.mkdtemp(prefix="test-top-")
        self.path = os.path.join(self.dir, "qmp.sock")
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(self.path)
        self.sock.listen(4)
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self.serve, args=(conn,),
                             daemon=True).start()

    def stats(self, n):
        out = []
        for id_ in IDS:
            st = {}
            for m in stats_members(self.schema):
                if m["type"] == "int":
                    st[m["name"]] = n * GROWTH[id_].get(m["name"], 0)
            st["backend"] = "epoll"
            st["stalls"] = STALLS[id_]
            st["wake-latency-ns"] = {"count": 10, "min": 1, "p50": 2,
                                     "p90": 3, "p99": P99_WAKE[id_],
                                     "p999": P99_WAKE[id_],
                                     "max": P99_WAKE[id_]}
            out.append({"id": id_, "stats": st})
        return out

    def answer(self, cmd):
        if cmd == "query-qmp-schema":
            return self.schema
        if cmd == "query-iothread-stats":
            self.samples += 1
            return self.stats(self.samples)
        if cmd == "query-workloads":
            return WORKLOADS
        return {}

    def serve(self, conn):
        conn.sendall(b'{"QMP": {"version": {"qemu": {"major": 0, "minor": 1,'
                     b' "micro": 0}, "package": "fake"}, "capabilities": []}}'
                     b'\r\n')
        buf, dec = "", json.JSONDecoder()
        while True:
            data = conn.recv(65536)
            if not data:
                return
            buf += data.decode()
            while buf.strip():
                try:
                    msg, end = dec.raw_decode(buf.lstrip())
                except ValueError:
                    break
                buf = buf.lstrip()[end:]
                reply = {"return": self.answer(msg.get("execute"))}
                if "id" in msg:
                    reply["id"] = msg["id"]
                conn.sendall(json.dumps(reply).encode() + b"\r\n")


def top(cli, path, columns, *args):
    env = dict(os.environ, COLUMNS=str(columns))
    p = subprocess.run([cli, "-s", path, "-c",
                        " ".join(["top", "--count", "1", "--interval",
                                  "0.05"] + list(args))],
                       capture_output=True, text=True, env=env,
                       timeout=DEADLINE_S)
    return p.returncode, p.stdout, p.stderr


def header_of(out):
    return next((l.split() for l in out.splitlines()
                 if l.startswith("ID ")), [])


def rows_of(out):
    """The data rows of a one-frame output: id -> cells."""
    lines = out.splitlines()
    start = next((i for i, l in enumerate(lines) if l.startswith("ID ")), 0)
    return [l.split() for l in lines[start + 1:] if l.strip()]


def test_every_column_fits_80(tap, cli, fake):
    rc, out, err = top(cli, fake.path, 80)
    wide = [l for l in out.splitlines() if len(l) > 80]
    tap.ok(rc == 0 and header_of(out)[1:] == HEADERS and not wide,
           "all eleven columns and no line over 80 columns", out, err)


def test_narrow_terminal_drops_columns(tap, cli, fake):
    rc, out, _ = top(cli, fake.path, 40)
    wide = [l for l in out.splitlines() if len(l) > 40]
    tap.ok(rc == 0 and not wide and "BUSY%" in header_of(out) and
           "P99IO" not in header_of(out),
           "at 40 columns the rightmost columns go and no line is wider", out)


def test_sort_keys_order_rows(tap, cli, fake):
    wrong = {}
    for key, first in EXPECTED_FIRST.items():
        _, out, err = top(cli, fake.path, 80, "--sort", key)
        rows = rows_of(out)
        if not rows or rows[0][0] != first:
            wrong[key] = (rows[0][0] if rows else None, out, err)
    tap.ok(not wrong, "each sort key puts its column's largest first", wrong)


def test_legend_names_keys(tap, cli, fake):
    _, out, _ = top(cli, fake.path, 80, "--sort", "w")
    legend = out.splitlines()[1] if len(out.splitlines()) > 1 else ""
    tap.ok(legend.startswith("sort: b busy c cpu w wake-ups* l p99 wake "
                             "s stalls i iops"),
           "the legend lists the keys and marks the current one", legend)


def test_workloads_sum_running(tap, cli, fake):
    _, out, _ = top(cli, fake.path, 80)
    rows = {r[0]: r for r in rows_of(out)}
    io0, io1 = rows.get("io0", []), rows.get("io1", [])
    tap.ok(io1[-2:] == ["2.0k", "90us"] and io0[-2:] == ["-", "-"],
           "IOPS sums and P99IO is the largest p99 of running workloads",
           out)


def test_wake_p99_and_stalls(tap, cli, fake):
    _, out, _ = top(cli, fake.path, 80)
    rows = {r[0]: r for r in rows_of(out)}
    long_row = rows.get("a-very-l~", [])
    tap.ok(long_row[8:10] == ["2.5ms", "3"] and
           rows.get("io1", [])[8] == "1.5us",
           "P99WAKE is the reply's p99 and STALLS its count", out)


def test_real_daemon_omits_missing(tap, cli, iothreadd):
    peer = Peer("iothreadd", lambda path: [iothreadd, "--qmp",
                                          f"unix:{path}"])
    rc, out, err = top(cli, peer.path, 80)
    peer.stop()
    header = header_of(out)
    missing = [h for h in HEADERS if h not in header]
    lacking = {"P99WAKE": "wake-latency-ns", "STALLS": "stalls",
               "IOPS": "query-workloads", "P99IO": "query-workloads"}
    schema = json.dumps(daemon_schema(iothreadd))
    # No workload runs here: their columns show only while one does.
    expected = [h for h, name in lacking.items()
                if f'"{name}"' not in schema or name == "query-workloads"]
    tap.ok(rc == 0 and "BUSY%" in header and missing == expected,
           "against the daemon, exactly the columns whose member it lacks "
           "are left out", missing, expected, out, err)


def main():
    tap = Tap()
    cli, iothreadd = sys.argv[1], sys.argv[2]
    fake = FakeServer(extended_schema(daemon_schema(iothreadd)))
    test_every_column_fits_80(tap, cli, fake)
    test_narrow_terminal_drops_columns(tap, cli, fake)
    test_sort_keys_order_rows(tap, cli, fake)
    test_legend_names_keys(tap, cli, fake)
    test_workloads_sum_running(tap, cli, fake)
    test_wake_p99_and_stalls(tap, cli, fake)
    test_real_daemon_omits_missing(tap, cli, iothreadd)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
