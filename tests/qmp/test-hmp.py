#!/usr/bin/env python3
"""human-monitor-command driven exactly as `qmp-shell -H` drives it: at
connect, `help` and then `info`, each with "cpu-index": 0, the replies
split on CRLF and parsed as qmp-shell parses them to fill its completion
(a line not starting with '[' or TAB is "NAME[|ALIAS] PARAMS -- HELP";
an info line is "info SUBCOMMAND ..."); then `info iothreads`,
`object_add` and `qom-get` as a user types them.

Usage: test-hmp.py IOTHREADD"""
import json
import re
import sys

from qmpwire import Peer, Tap


def passthrough(conn, line, cpu_index=0):
    """One HMP line the way qmp-shell -H sends it; the reply object."""
    conn.send(json.dumps({"execute": "human-monitor-command",
                          "arguments": {"command-line": line,
                                        "cpu-index": cpu_index}}).encode())
    while True:
        reply = json.loads(conn.line())
        if "event" not in reply:
            return reply


def shell_command_names(help_text):
    """qmp-shell's parse of `help`: the first word of each command line,
    the long name of an alias pair."""
    names = []
    for line in help_text.split("\r\n"):
        if line and line[0] not in "[\t":
            name = line.split()[0]
            if "|" in name:
                a, b = name.split("|", 1)
                name = b if len(a) == 1 else a
            names.append(name)
    return names


def check_connect_sequence(tap, conn):
    help_reply = passthrough(conn, "help")
    text = help_reply.get("return", "")
    lines = [l for l in text.split("\r\n") if l and l[0] not in "[\t"]
    tap.ok(lines and all(re.match(r"^\S+ .* -- \S", l) or
                         re.match(r"^\S+  -- \S", l) for l in lines),
           "help: every command line is 'NAME PARAMS -- HELP'",
           json.dumps(help_reply))
    names = shell_command_names(text)
    tap.ok(all(n in names for n in ("help", "info", "object_add",
                                     "object_del", "qom-get", "qom-list",
                                     "qom-set")),
           "help lists the HMP commands qmp-shell completes", names)
    info_reply = passthrough(conn, "info")
    info_lines = [l for l in info_reply.get("return", "").split("\r\n") if l]
    subs = [l.split()[1] for l in info_lines if len(l.split()) > 1]
    tap.ok(len(subs) == len(info_lines) and
           "info version  -- show the version of QEMU" in info_lines,
           "info: every line is 'info NAME  -- HELP' (QEMU's layout)",
           json.dumps(info_reply))
    tap.ok(sorted(subs) == ["iothread-stats", "iothreads", "version"],
           "info lists iothreads, version and iothread-stats", subs)


def check_info_iothreads(tap, conn):
    text = passthrough(conn, "info iothreads").get("return", "")
    block = (r"(\S+):\r\n  thread_id=\d+\r\n  poll-max-ns=\d+\r\n"
             r"  poll-grow=\d+\r\n  poll-shrink=\d+\r\n  aio-max-batch=\d+\r\n")
    ids = re.findall(block, text)
    tap.ok(re.fullmatch(f"(?:{block})+", text) is not None and
           ids == ["io0", "io1"],
           "info iothreads: one block per iothread in QEMU's layout", text)


def check_object_add_and_qom_get(tap, conn):
    reply = passthrough(conn, "object_add iothread,id=hmp0,poll-max-ns=1234")
    tap.ok(reply.get("return") == "", "object_add prints nothing on success",
           reply)
    reply = passthrough(conn, "qom-get /objects/hmp0 poll-max-ns")
    tap.ok(reply.get("return") == "1234\r\n",
           "qom-get prints the property object_add set", reply)
    reply = passthrough(conn, "object_add iothread,id=hmp0")
    tap.ok(reply.get("return", "").startswith("Error: "),
           "object_add of a taken id prints 'Error: ...', not a QMP error",
           reply)


def check_hmp_errors_are_text(tap, conn):
    reply = passthrough(conn, "nope")
    tap.ok(reply.get("return") == "unknown command: 'nope'\r\n",
           "an unknown HMP command is QEMU's text in the return value", reply)
    reply = passthrough(conn, "info version", cpu_index=1)
    tap.ok(reply.get("error", {}).get("desc") ==
           "Parameter 'cpu-index' expects a CPU number",
           "cpu-index other than 0 is QEMU's error (no CPUs)", reply)


def main():
    tap = Tap()
    peer = Peer("iothreadd", lambda path: [
        sys.argv[1], "--nodefaults", "--qmp", f"unix:{path}",
        "--object", "iothread,id=io0", "--object", "iothread,id=io1"])
    conn = peer.connect()
    conn.line()
    conn.send(b'{"execute": "qmp_capabilities"}')
    conn.line()
    check_connect_sequence(tap, conn)
    check_info_iothreads(tap, conn)
    check_object_add_and_qom_get(tap, conn)
    check_hmp_errors_are_text(tap, conn)
    conn.close()
    peer.check_clean_exit(tap)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
