#!/usr/bin/env python3
"""Differential test: the same QMP transcript to qemu-system-x86_64 and to
iothreadd, replies compared byte for byte.

Normalised on both sides, because they must differ: the version triple and
package (greeting, query-version, info version), thread ids, and the order
of iothreads in lists (QEMU's follows a hash table).  iothreadd's
extensions are dropped from its side: the events it emits on object-add/
object-del/property changes, and the extra query-iothreads members.

A step listed with `differs` is a difference documented in README's
"Differences from QEMU" table: there the replies must still agree in kind
(the same number of replies, each a return or an error of the same class);
both texts are shown.  `refused`: QEMU accepts what iothreadd refuses by
design (README table).  `todo`: a difference still being worked on (the
tunables' texts and bounds): compared byte for byte, reported as TAP TODO.
Every other step must match byte for byte.

Usage: test-qemu-diff.py IOTHREADD [QEMU]; without qemu-system-x86_64 the
test prints one TAP skip naming why (never a pass)."""
import json
import re
import shutil
import sys

from qmpwire import Peer, Tap

SYNC = '{"execute": "query-version", "id": "sync-%d"}'
OUR_EVENTS = (b'"OBJECT_ADDED"', b'"OBJECT_DELETED"',
              b'"IOTHREAD_PROPERTY_CHANGED"')
IOTHREAD_EXTENSIONS = ("backend", "thread-pool-min", "thread-pool-max",
                       "poll-ns", "poll-window-ns")


def cmd(name, args=None, id_=None):
    msg = {"execute": name}
    if args is not None:
        msg["arguments"] = args
    if id_ is not None:
        msg["id"] = id_
    return json.dumps(msg).encode()


def hmp(line, **extra):
    return cmd("human-monitor-command", dict({"command-line": line}, **extra))


SYNTAX = {"differs": "JSON syntax error texts name the problem and its "
                     "offset"}
TUNABLE_TEXT = {}
TUNABLE_BOUND = {}

# (label, bytes, options).  options: norm = extra normaliser name,
# differs = reason (README table).
NEGOTIATION = [
    ("command before negotiation", cmd("query-version", id_=1), {}),
    ("qmp_capabilities with an unknown capability",
     cmd("qmp_capabilities", {"enable": ["bogus"]}),
     {"differs": "a list element is named 'enable[0]' (QEMU: 'null')"}),
]

# On connections of their own: negotiation ends differently.
OOB = [
    ("qmp_capabilities enable oob",
     cmd("qmp_capabilities", {"enable": ["oob"]}),
     {"refused": "out-of-band execution is not offered"}),
]

COMMANDS = [
    ("qmp_capabilities twice", cmd("qmp_capabilities"), {}),
    ("query-version", cmd("query-version"), {}),
    ("query-version, integer id", cmd("query-version", id_=7), {}),
    ("query-version, object id", cmd("query-version",
                                     id_={"b": [1, "x"], "a": None}), {}),
    ("query-version, non-ASCII id",
     b'{"execute": "query-version", "id": '
     b'"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"}', {}),
    ("query-version, escaped controls in id",
     b'{"execute": "query-version", "id": "\\u0001\\t\\u007f\\/\\"\\\\"}', {}),
    ("query-version with an argument", cmd("query-version", {"x": 1}), {}),
    ("unknown command", cmd("no-such-command", id_="u"), {}),
    ("unknown command, non-ASCII name",
     b'{"execute": "caf\xc3\xa9", "id": 1}', {}),
    ("execute not a string", b'{"execute": 1}', {}),
    ("arguments not an object",
     b'{"execute": "query-version", "arguments": [1]}', {}),
    ("no execute", b'{"arguments": {}, "id": 2}', {}),
    ("unexpected member", b'{"execute": "query-version", "foo": 1}', {}),
    ("exec-oob without the capability",
     b'{"exec-oob": "query-version", "id": 3}', {}),
    ("an array message", b'[1, 2]', {}),
    ("a string message", b'"execute"', {}),
    ("a number message", b'42 ', {}),
    ("malformed JSON", b'{"execute": }', SYNTAX),
    ("a stray closing brace", b'}', {}),
    ("invalid UTF-8", b'{"execute": "query-version", "id": "\xff"}',
     SYNTAX),
    ("duplicate key at top level",
     b'{"execute": "query-version", "execute": "query-version"}', {}),
    ("duplicate key in arguments",
     b'{"execute": "qom-list", "arguments": {"path": "/", "path": "/"}}', {}),
    ("nesting 30 deep", b'[' * 30 + b']' * 30, {}),
    ("nesting 70 deep", b'[' * 70 + b']' * 70,
     {"differs": "nesting limit 64 (QEMU 1024)"}),
    ("query-iothreads", cmd("query-iothreads"),
     {"norm": "iothreads",
      "differs": "aio-max-batch 0 is reported resolved (32)"}),
    ("qom-list /objects/io0", cmd("qom-list", {"path": "/objects/io0"}),
     {"differs": "property order and set follow our object model"}),
    ("qom-list no such path", cmd("qom-list", {"path": "/nope"}), {}),
    ("qom-list non-ASCII path", cmd("qom-list", {"path": "/\u00e9"}), {}),
    ("qom-list without path", cmd("qom-list", {}), {}),
    ("qom-list path of the wrong type", cmd("qom-list", {"path": 5}), {}),
    ("qom-list unknown argument",
     cmd("qom-list", {"path": "/", "bogus": 1}), {}),
    ("qom-get poll-max-ns",
     cmd("qom-get", {"path": "/objects/io0", "property": "poll-max-ns"}), {}),
    ("qom-get poll-grow",
     cmd("qom-get", {"path": "/objects/io0", "property": "poll-grow"}), {}),
    ("qom-get type",
     cmd("qom-get", {"path": "/objects/io0", "property": "type"}), {}),
    ("qom-get unknown property",
     cmd("qom-get", {"path": "/objects/io0", "property": "nope"}), {}),
    ("qom-get unknown object",
     cmd("qom-get", {"path": "/objects/nope", "property": "poll-max-ns"}),
     {}),
    ("qom-get missing property", cmd("qom-get", {"path": "/objects/io0"}),
     {}),
    ("qom-set poll-max-ns 1000",
     cmd("qom-set", {"path": "/objects/io0", "property": "poll-max-ns",
                     "value": 1000}), {}),
    ("qom-set poll-max-ns -1",
     cmd("qom-set", {"path": "/objects/io0", "property": "poll-max-ns",
                     "value": -1}), TUNABLE_TEXT),
    ("qom-set poll-max-ns a string",
     cmd("qom-set", {"path": "/objects/io0", "property": "poll-max-ns",
                     "value": "x"}), {}),
    ("qom-set poll-grow 2^32+1",
     cmd("qom-set", {"path": "/objects/io0", "property": "poll-grow",
                     "value": 4294967297}), TUNABLE_BOUND),
    ("qom-set poll-grow 0 (restores what QEMU accepted)",
     cmd("qom-set", {"path": "/objects/io0", "property": "poll-grow",
                     "value": 0}), {}),
    ("qom-set unknown property",
     cmd("qom-set", {"path": "/objects/io0", "property": "nope",
                     "value": 1}), {}),
    ("qom-set missing value",
     cmd("qom-set", {"path": "/objects/io0", "property": "poll-max-ns"}), {}),
    ("object-add iothread io2",
     cmd("object-add", {"qom-type": "iothread", "id": "io2",
                        "poll-max-ns": 0, "poll-grow": 2,
                        "aio-max-batch": 16}), {}),
    ("object-add duplicate id",
     cmd("object-add", {"qom-type": "iothread", "id": "io2"}), {}),
    ("object-add invalid id",
     cmd("object-add", {"qom-type": "iothread", "id": "9x"}),
     {}),
    ("object-add missing id", cmd("object-add", {"qom-type": "iothread"}), {}),
    ("object-add missing qom-type", cmd("object-add", {"id": "io3"}), {}),
    ("object-add unknown qom-type",
     cmd("object-add", {"qom-type": "nope", "id": "io3"}), {}),
    ("object-add property of the wrong type",
     cmd("object-add", {"qom-type": "iothread", "id": "io3",
                        "poll-max-ns": "x"}), {}),
    ("object-add negative poll-max-ns",
     cmd("object-add", {"qom-type": "iothread", "id": "io3",
                        "poll-max-ns": -1}), TUNABLE_TEXT),
    ("object-add poll-shrink beyond 2^32",
     cmd("object-add", {"qom-type": "iothread", "id": "io7",
                        "poll-shrink": 4294967297}), TUNABLE_BOUND),
    ("object-del of what QEMU accepted (io7)",
     cmd("object-del", {"id": "io7"}), TUNABLE_BOUND),
    ("object-add aio-max-batch beyond int32",
     cmd("object-add", {"qom-type": "iothread", "id": "io8",
                        "aio-max-batch": 2147483648}), TUNABLE_BOUND),
    ("object-del of what QEMU accepted (io8)",
     cmd("object-del", {"id": "io8"}), TUNABLE_BOUND),
    ("object-add unknown property",
     cmd("object-add", {"qom-type": "iothread", "id": "io3", "bogus": 1}),
     {}),
    ("qom-get of the new iothread",
     cmd("qom-get", {"path": "/objects/io2", "property": "aio-max-batch"}),
     {}),
    ("object-del io2", cmd("object-del", {"id": "io2"}), {}),
    ("object-del io2 again", cmd("object-del", {"id": "io2"}), {}),
    ("object-del missing id", cmd("object-del", {}), {}),
    ("human-monitor-command without command-line",
     cmd("human-monitor-command", {}), {}),
    ("human-monitor-command cpu-index 1",
     hmp("info version", **{"cpu-index": 1}), {}),
    ("HMP info version", hmp("info version"), {"norm": "hmp-version"}),
    ("HMP info iothreads", hmp("info iothreads"),
     {"norm": "hmp-iothreads",
      "differs": "aio-max-batch 0 is reported resolved (32)"}),
    ("HMP info iothreads with an extra word", hmp("info iothreads x"), {}),
    ("HMP info of an unknown subcommand", hmp("info nope"), {}),
    ("HMP help qom-get", hmp("help qom-get"), {}),
    ("HMP help info iothreads", hmp("help info iothreads"), {}),
    ("HMP help of an unknown command", hmp("help nope"), {}),
    ("HMP unknown command", hmp("nope 1 2"), {}),
    ("HMP empty line", hmp("   "), {}),
    ("HMP qom-get", hmp("qom-get /objects/io0 poll-max-ns"), {}),
    ("HMP qom-get quoted path", hmp('qom-get "/objects/io0" type'), {}),
    ("HMP qom-get without arguments", hmp("qom-get"), {}),
    ("HMP qom-get with an extra word", hmp("qom-get a b c"), {}),
    ("HMP qom-get unknown property", hmp("qom-get /objects/io0 nope"), {}),
    ("HMP qom-list without a path", hmp("qom-list"), {}),
    ("HMP qom-list no such path", hmp("qom-list /nope"), {}),
    ("HMP qom-set", hmp("qom-set /objects/io0 poll-max-ns 64"), {}),
    ("HMP qom-set -j", hmp("qom-set -j /objects/io0 poll-grow 3"), {}),
    ("HMP qom-set out of range", hmp("qom-set /objects/io0 poll-max-ns -1"),
     TUNABLE_TEXT),
    ("HMP qom-set missing value", hmp("qom-set /objects/io0 poll-max-ns"),
     {}),
    ("HMP qom-get after qom-set", hmp("qom-get /objects/io0 poll-grow"), {}),
    ("HMP object_add", hmp("object_add iothread,id=io4,poll-max-ns=10"), {}),
    ("HMP object_add with qom-type=",
     hmp("object_add qom-type=iothread,id=io5"), {}),
    ("HMP object_add without id", hmp("object_add iothread"), {}),
    ("HMP object_add unknown type", hmp("object_add nope,id=io6"), {}),
    ("HMP object_add unknown property",
     hmp("object_add iothread,id=io6,bogus=1"), {}),
    ("HMP object_add without arguments", hmp("object_add"), {}),
    ("HMP qom-get of the new iothread",
     hmp("qom-get /objects/io4 poll-max-ns"), {}),
    ("HMP object_del", hmp("object_del io4"), {}),
    ("HMP object_del io5", hmp("object_del io5"), {}),
    ("HMP object_del unknown", hmp("object_del io4"), {}),
    ("HMP object_del without id", hmp("object_del"), {}),
]


def normalise_common(line):
    line = re.sub(rb'\{"micro": \d+, "minor": \d+, "major": \d+\}',
                  b'{"micro": M, "minor": N, "major": J}', line)
    line = re.sub(rb'"package": "(?:[^"\\]|\\.)*"', b'"package": "PKG"', line)
    line = re.sub(rb'"thread-id": \d+', b'"thread-id": TID', line)
    return re.sub(rb'thread_id=\d+', b'thread_id=TID', line)


def norm_iothreads(line, ours):
    reply = json.loads(line)
    items = reply["return"]
    if ours:
        for it in items:
            for key in IOTHREAD_EXTENSIONS:
                it.pop(key, None)
    items.sort(key=lambda it: it["id"])
    return json.dumps(reply, separators=(", ", ": ")).encode()


def norm_hmp_iothreads(line, ours):
    reply = json.loads(line)
    blocks = re.findall(r"[^\s:]+:\r\n(?:  [^\r]*\r\n)*", reply["return"])
    reply["return"] = "".join(sorted(blocks))
    return json.dumps(reply, separators=(", ", ": ")).encode()


def norm_hmp_version(line, ours):
    return re.sub(rb'"return": "\d+\.\d+\.\d+[^"]*\\r\\n"',
                  b'"return": "VERSION\\\\r\\\\n"', line)


NORMALISERS = {"iothreads": norm_iothreads,
               "hmp-iothreads": norm_hmp_iothreads,
               "hmp-version": norm_hmp_version}


def exchange(conn, data, seq):
    """Send @data and a sync command; return the replies before the sync's
    (iothreadd's extension events left out)."""
    conn.send(data + (SYNC % seq).encode())
    tag = b'"sync-%d"' % seq
    replies = []
    while True:
        line = conn.line()
        if tag in line:
            return replies
        if line.startswith(b'{"timestamp"') and any(e in line
                                                    for e in OUR_EVENTS):
            continue
        replies.append(line)


def kind(line):
    m = re.match(rb'\{(?:"id": .*?, )?"error": \{"class": "(\w+)"', line)
    return m.group(1) if m else (b"return" if b'"return"' in line else line)


def compare(tap, label, opts, theirs, ours):
    norm = NORMALISERS.get(opts.get("norm"))
    if norm:
        theirs = [norm(x, False) for x in theirs]
        ours = [norm(x, True) for x in ours]
    t = [normalise_common(x) for x in theirs]
    o = [normalise_common(x) for x in ours]
    show = ["qemu:      " + x.decode(errors="replace") for x in t] + \
           ["iothreadd: " + x.decode(errors="replace") for x in o]
    if "todo" in opts:
        tap.todo(t == o, label, opts["todo"], *show)
        return
    if "refused" in opts:
        tap.ok([kind(x) for x in o] == [b"GenericError"] and
               [kind(x) for x in t] == [b"return"],
               f"{label}: QEMU accepts, iothreadd refuses (documented "
               f"difference: {opts['refused']})", *show)
        return
    if "differs" not in opts:
        tap.ok(t == o, label, *show)
        return
    same_kind = [kind(x) for x in t] == [kind(x) for x in o]
    tap.ok(same_kind, f"{label}: same kind of reply (documented difference: "
           f"{opts['differs']})", *show)
    if t != o:
        tap.diag("\n".join(show))


def check_greeting(tap, theirs, ours):
    """Equal but for the capabilities: QEMU offers oob, iothreadd none."""
    t, o = normalise_common(theirs), normalise_common(ours)
    caps = re.compile(rb'"capabilities": \[[^]]*\]')
    tap.ok(caps.sub(b"CAPS", t) == caps.sub(b"CAPS", o),
           "greeting (documented difference: no oob capability)",
           "qemu:      " + t.decode(), "iothreadd: " + o.decode())


def run_steps(tap, qemu, ours, steps, seq):
    for label, data, opts in steps:
        seq += 1
        compare(tap, label, opts, exchange(qemu, data, seq),
                exchange(ours, data, seq))
    return seq


def main():
    tap = Tap()
    if len(sys.argv) < 2:
        print("usage: test-qemu-diff.py IOTHREADD [QEMU]", file=sys.stderr)
        return 2
    qemu_bin = sys.argv[2] if len(sys.argv) > 2 else \
        shutil.which("qemu-system-x86_64")
    if not qemu_bin:
        tap.skip("differential test against QEMU",
                 "qemu-system-x86_64 not installed (Debian package "
                 "qemu-system-x86)")
        return tap.done()
    qemu_peer = Peer("qemu", lambda path: [
        qemu_bin, "-machine", "none", "-nodefaults", "-display", "none",
        "-object", "iothread,id=io0", "-object", "iothread,id=io1",
        "-qmp", f"unix:{path},server=on,wait=off"])
    our_peer = Peer("iothreadd", lambda path: [
        sys.argv[1], "--nodefaults", "--qmp", f"unix:{path}",
        "--object", "iothread,id=io0", "--object", "iothread,id=io1"])
    qemu, ours = qemu_peer.connect(), our_peer.connect()
    check_greeting(tap, qemu.line(), ours.line())
    seq = run_steps(tap, qemu, ours, NEGOTIATION, 0)
    tap.ok(exchange(qemu, cmd("qmp_capabilities"), 1000) ==
           exchange(ours, cmd("qmp_capabilities"), 1000), "qmp_capabilities")
    seq = run_steps(tap, qemu, ours, COMMANDS, seq)
    qemu, ours = qemu_peer.connect(), our_peer.connect()
    qemu.line(), ours.line()
    run_steps(tap, qemu, ours, OOB, seq)
    our_peer.check_clean_exit(tap)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
