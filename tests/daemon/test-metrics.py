#!/usr/bin/env python3
"""The metrics endpoint of the real daemon (`--metrics tcp:127.0.0.1:0`):
the page passes `promtool check metrics` (skipped, with the reason, where
promtool is not installed), types and HELP come from the schema, every
iothread has its label set, counters move between two scrapes and none
goes back, other paths are 404 and other methods 405, and bad --metrics
values are refused at startup.

Usage: test-metrics.py IOTHREADD"""
import http.client
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time

from qmpwire import DEADLINE_S, Peer, Tap

SAMPLE = re.compile(r'^([a-z_]+)\{([^}]*)\} (\S+)$')


class Daemon:
    """iothreadd with io0, io1 and the metrics endpoint on a picked port."""

    def __init__(self, binary):
        self.peer = Peer("iothreadd", lambda path: [
            binary, "--nodefaults", "--qmp", f"unix:{path}",
            "--object", "iothread,id=io0", "--object", "iothread,id=io1",
            "--metrics", "tcp:127.0.0.1:0"])
        self.port = self._port()
        self.conn = self.peer.connect()
        self.conn.line()
        self.qmp("qmp_capabilities")

    def _port(self):
        end = time.monotonic() + DEADLINE_S
        while time.monotonic() < end:
            m = re.search(r"metrics on tcp port (\d+)", self.peer.stderr())
            if m:
                return int(m.group(1))
            time.sleep(0.02)
        raise RuntimeError("no metrics port logged: " + self.peer.stderr())

    def qmp(self, command, **args):
        msg = {"execute": command}
        if args:
            msg["arguments"] = args
        self.conn.send(json.dumps(msg).encode())
        while True:
            reply = json.loads(self.conn.line())
            if "event" not in reply:
                return reply

    def http(self, method, path):
        c = http.client.HTTPConnection("127.0.0.1", self.port,
                                       timeout=DEADLINE_S)
        c.request(method, path)
        r = c.getresponse()
        body = r.read().decode()
        c.close()
        return r, body

    def scrape(self):
        return self.http("GET", "/metrics")[1]


def samples(page):
    """{(name, labels): value} of a page."""
    out = {}
    for line in page.splitlines():
        m = SAMPLE.match(line)
        if m:
            out[(m.group(1), m.group(2))] = float(m.group(3))
    return out


def declared(page, what):
    """{family: text} of the page's '# HELP' or '# TYPE' lines."""
    out = {}
    for line in page.splitlines():
        if line.startswith(f"# {what} "):
            name, _, text = line[len(what) + 3:].partition(" ")
            out[name] = text
    return out


def stats_members(d):
    """AioContextStats' members as query-qmp-schema shows them."""
    schema = d.qmp("query-qmp-schema")["return"]
    entry = next(e for e in schema if e["name"] == "AioContextStats")
    return entry["members"]


def family_of(member):
    """The family name the unit rule gives an int member."""
    words = ["seconds" if w == "ns" else w for w in member["name"].split("-")]
    name = "iothreadd_" + "_".join(words)
    return name if "gauge" in member.get("features", []) else name + "_total"


def test_promtool_accepts_page(tap, d):
    promtool = shutil.which("promtool")
    if not promtool:
        tap.skip("promtool check metrics accepts the page",
                 "promtool is not installed (Debian package prometheus)")
        return
    p = subprocess.run([promtool, "check", "metrics"], input=d.scrape(),
                       capture_output=True, text=True, timeout=DEADLINE_S)
    tap.ok(p.returncode == 0, "promtool check metrics accepts the page",
           p.stdout, p.stderr)


def test_types_follow_schema_features(tap, d):
    types = declared(d.scrape(), "TYPE")
    wrong = [(m["name"], types.get(family_of(m)))
             for m in stats_members(d) if m["type"] == "int" and
             types.get(family_of(m)) !=
             ("gauge" if "gauge" in m.get("features", []) else "counter")]
    tap.ok(not wrong and "iothreadd_pool_threads" in types,
           "int members are counters (_total), 'gauge'-marked ones gauges",
           wrong)


def test_help_is_schema_doc(tap, d):
    helps = declared(d.scrape(), "HELP")
    # A member without a doc is named instead (metrics_write_family).
    wrong = [m["name"] for m in stats_members(d) if m["type"] == "int" and
             not helps.get(family_of(m), "").startswith(
                 m.get("doc") or m["name"])]
    tap.ok(not wrong, "HELP of each family is its member's schema doc", wrong)


def test_label_set_per_iothread(tap, d):
    got = samples(d.scrape())
    ids = {labels for (name, labels) in got
           if name == "iothreadd_iterations_total"}
    tap.ok(ids == {'iothread="io0"', 'iothread="io1"',
                   'iothread="main-loop"'},
           "one label set per iothread and the main loop", ids)


def test_counters_move_forward(tap, d):
    before = samples(d.scrape())
    d.qmp("object-add", **{"qom-type": "iothread", "id": "io2"})
    d.qmp("iothread-set", id="io0", **{"poll-max-ns": 1000})
    d.qmp("object-del", id="io2")
    after = samples(d.scrape())
    counters = [k for k in before if k[0].endswith("_total") and k in after]
    back = [k for k in counters if after[k] < before[k]]
    moved = [k for k in counters if after[k] > before[k]]
    tap.ok(moved and not back,
           "between two scrapes with work a counter moves and none goes back",
           f"moved {moved}", f"back {back}")


def test_other_path_is_404(tap, d):
    statuses = [d.http("GET", p)[0].status for p in ("/", "/metrics/x",
                                                      "/metricsx")]
    tap.ok(statuses == [404, 404, 404], "other paths are 404", statuses)


def test_post_is_405(tap, d):
    r, _ = d.http("POST", "/metrics")
    tap.ok(r.status == 405 and "GET" in (r.getheader("Allow") or ""),
           "POST /metrics is 405 with Allow: GET", r.status,
           r.getheader("Allow"))


def test_bad_addresses_refused(tap, binary):
    bad = {"tcp:0.0.0.0:9100": "only loopback",
           "unix:/tmp/m.sock": "expected tcp:",
           "tcp:127.0.0.1:65536": "expected tcp:",
           "tcp:127.0.0.1:": "expected tcp:",
           "tcp:example.org:9100": "not an IP address"}
    wrong = []
    with tempfile.TemporaryDirectory() as tmp:
        for addr, text in bad.items():
            p = subprocess.run([binary, "--nodefaults", "--qmp",
                                f"unix:{tmp}/q.sock", "--metrics", addr],
                               capture_output=True, text=True,
                               timeout=DEADLINE_S)
            if p.returncode != 2 or addr not in p.stderr or \
                    text not in p.stderr:
                wrong.append((addr, p.returncode, p.stderr))
    tap.ok(not wrong, "bad --metrics values exit 2 naming the value", wrong)


def main():
    tap = Tap()
    binary = sys.argv[1]
    d = Daemon(binary)
    try:
        test_promtool_accepts_page(tap, d)
        test_types_follow_schema_features(tap, d)
        test_help_is_schema_doc(tap, d)
        test_label_set_per_iothread(tap, d)
        test_counters_move_forward(tap, d)
        test_other_path_is_404(tap, d)
        test_post_is_405(tap, d)
    except (OSError, ValueError):
        # stderr too: meson's error log shows a failed test's stderr only.
        said = "iothreadd's stderr:\n" + d.peer.stderr()
        tap.diag(said)
        print(said, file=sys.stderr)
        raise
    d.conn.close()
    d.peer.check_clean_exit(tap)
    test_bad_addresses_refused(tap, binary)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
