"""Helpers for the Python tests of the iothreadd process as a service
manager starts it: a temporary directory, the daemon started with a chosen
environment and, optionally, a socket passed as fd 3 (LISTEN_PID set to
the child's own pid, as systemd does), its stderr in a file, and waits
with deadlines that only guard against a hang.

Never the default socket: every run sets XDG_RUNTIME_DIR inside the
temporary directory."""
import os
import shutil
import signal
import socket
import tempfile
import time

DEADLINE_S = 20.0


class Run:
    """One iothreadd process in its own temporary directory."""

    def __init__(self, iothreadd):
        self.iothreadd = iothreadd
        self.dir = tempfile.mkdtemp(prefix='iothreadd-svc-')
        self.xdg = os.path.join(self.dir, 'xdg')
        os.mkdir(self.xdg, 0o700)
        self.stderr_path = os.path.join(self.dir, 'stderr')
        self.pid = None
        self.status = None

    def start(self, args, env=None, passed_socket=None, stderr_journal=False):
        """Run iothreadd @args with @env added to ours; @passed_socket
        becomes its fd 3 (socket activation); @stderr_journal sets
        JOURNAL_STREAM to its stderr's identity, as systemd does when the
        journal is a service's stderr."""
        full_env = dict(os.environ, XDG_RUNTIME_DIR=self.xdg)
        full_env.update(env or {})
        self.pid = os.fork()
        if self.pid == 0:
            self._exec_child(self.iothreadd, args, full_env, passed_socket,
                             stderr_journal)
        return self

    def _exec_child(self, iothreadd, args, env, passed_socket,
                    stderr_journal):
        try:
            err = os.open(self.stderr_path, os.O_WRONLY | os.O_CREAT, 0o600)
            os.dup2(err, 2)
            os.dup2(os.open(os.devnull, os.O_RDWR), 0)
            if stderr_journal:
                st = os.fstat(2)
                env['JOURNAL_STREAM'] = '%d:%d' % (st.st_dev, st.st_ino)
            if passed_socket is not None:
                if passed_socket.fileno() != 3:
                    os.dup2(passed_socket.fileno(), 3)
                os.set_inheritable(3, True)     # dup2(3, 3) would not
                env['LISTEN_PID'] = str(os.getpid())
                env['LISTEN_FDS'] = '1'
            os.execve(iothreadd, [iothreadd] + list(args), env)
        finally:
            os._exit(127)

    def path(self, name):
        return os.path.join(self.dir, name)

    def wait(self, timeout=DEADLINE_S):
        """The exit status (128+N for signal N), None on timeout."""
        end = time.monotonic() + timeout
        while self.status is None and time.monotonic() < end:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
                if self.status < 0:
                    self.status = 128 - self.status
            else:
                time.sleep(0.01)
        return self.status

    def stop(self):
        """SIGTERM, then the exit status (SIGKILL after the deadline)."""
        if self.pid is not None and self.status is None:
            os.kill(self.pid, signal.SIGTERM)
            if self.wait() is None:
                os.kill(self.pid, signal.SIGKILL)
                self.wait()
        return self.status

    def stderr(self):
        with open(self.stderr_path, errors='replace') as f:
            return f.read()

    def run_to_exit(self, args, **kw):
        """Start, wait for the exit; the status (None: did not exit)."""
        self.start(args, **kw)
        status = self.wait()
        self.stop()
        return status

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def connect_when_up(path, run):
    """A connected unix socket at @path once it accepts, else None (the
    process exited or the deadline passed)."""
    end = time.monotonic() + DEADLINE_S
    while time.monotonic() < end and run.wait(0) is None:
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            return s
        except OSError:
            s.close()
            time.sleep(0.02)
    return None


def read_line(sock):
    """One CRLF-terminated QMP message (bytes), b'' on EOF or deadline."""
    sock.settimeout(DEADLINE_S)
    buf = b''
    try:
        while not buf.endswith(b'\r\n'):
            chunk = sock.recv(1)
            if not chunk:
                break
            buf += chunk
    except OSError:
        pass
    return buf
