"""Helpers for the QMP wire tests written in Python: TAP output, a QMP
peer process (iothreadd or qemu-system-x86_64) on a unix socket in a
temporary directory, killed at exit even when a check fails, and a raw
connection that reads the server's CRLF-framed messages as bytes.

Every wait has a deadline that only guards against a hang."""
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

DEADLINE_S = 20.0


class Tap:
    """TAP producer: one line per check, plan printed at the end."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, what, *diag):
        self.n += 1
        print(f"{'ok' if cond else 'not ok'} {self.n} - {what}")
        if not cond:
            self.failed += 1
            for d in diag:
                for line in str(d).splitlines():
                    print(f"# {line}")
        sys.stdout.flush()
        return cond

    def todo(self, cond, what, reason, *diag):
        """A check expected to fail until @reason is resolved (TAP TODO:
        reported, never counted as a failure)."""
        self.n += 1
        print(f"{'ok' if cond else 'not ok'} {self.n} - {what} # TODO {reason}")
        if not cond:
            self.diag("\n".join(str(d) for d in diag))
        sys.stdout.flush()

    def skip(self, what, why):
        self.n += 1
        print(f"ok {self.n} - {what} # SKIP {why}")

    def diag(self, text):
        for line in str(text).splitlines():
            print(f"# {line}")

    def done(self):
        print(f"1..{self.n}")
        return 1 if self.failed else 0


class Peer:
    """A QMP server process listening on DIR/qmp.sock."""

    def __init__(self, name, argv_for_socket):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"qmpwire-{name}-")
        self.path = os.path.join(self.dir, "qmp.sock")
        argv = argv_for_socket(self.path)
        self.log = open(os.path.join(self.dir, "stderr.log"), "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=self.log)
        atexit.register(self.stop)
        self._wait_for_socket()

    def _wait_for_socket(self):
        end = time.monotonic() + DEADLINE_S
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with "
                                   f"{self.proc.returncode}: {self.stderr()}")
            try:
                s = socket.socket(socket.AF_UNIX)
                s.connect(self.path)
                s.close()
                return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"{self.name}: no socket at {self.path}")

    def stderr(self):
        self.log.flush()
        with open(self.log.name, "rb") as f:
            return f.read().decode(errors="replace")[-2000:]

    def connect(self):
        return Conn(self.path)

    def stop(self):
        """SIGTERM (SIGKILL after a deadline); returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if not self.log.closed:
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        return self.proc.returncode

    def check_clean_exit(self, tap):
        """Stop the daemon and check it exits 0 (sanitizer builds exit
        non-zero on a leak or error found at exit)."""
        log = self.stderr()
        tap.ok(self.stop() == 0, f"{self.name} exits 0 on SIGTERM", log)


class Conn:
    """A raw client: send bytes, read CRLF-terminated messages as bytes."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def line(self):
        end = time.monotonic() + DEADLINE_S
        while b"\r\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0:
                raise TimeoutError("no message from the server")
            self.sock.settimeout(left)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def close(self):
        self.sock.close()


def execute(conn, command, arguments=None, events=None):
    """Send one command on @conn (a Conn in command mode); return its reply
    object.  Events read before it are appended to @events (a list) or
    dropped."""
    msg = {"execute": command}
    if arguments is not None:
        msg["arguments"] = arguments
    conn.send(json.dumps(msg).encode())
    while True:
        reply = json.loads(conn.line())
        if "event" not in reply:
            return reply
        if events is not None:
            events.append(reply)


def negotiated(path):
    """A Conn to the QMP socket @path, greeting read, in command mode."""
    conn = Conn(path)
    json.loads(conn.line())
    execute(conn, "qmp_capabilities")
    return conn
