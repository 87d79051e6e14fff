# SPDX-License-Identifier: LGPL-2.1-or-later
"""cnd itself, started against a private bus as its own user, with a notify socket watched."""

import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time

from cndpaths import CND
from staging import DAEMON_CAPS, DAEMON_USER, as_user, reachable
from waits import wait_for

# SO_TIMESTAMPNS (asm-generic/socket.h; its control message has the same number): the kernel
# stamps an AF_UNIX datagram as it is sent, so a notification's time is cnd's, whenever this
# process gets to read it.
SO_TIMESTAMPNS = 35
STAMP = struct.Struct('=qq')


def _sent_time(ancillary):
    """The kernel's stamp on a datagram, or now if it carries none."""
    for level, kind, data in ancillary:
        if (level, kind) == (socket.SOL_SOCKET, SO_TIMESTAMPNS) and len(data) >= STAMP.size:
            sec, nsec = STAMP.unpack_from(data)
            return sec + nsec / 1e9
    return time.time()


class Daemon:
    """cnd itself, with a config file of the test's and a notify socket to watch it."""

    def __init__(self, bus, config='', args=(), log_level='debug', prefix=(), user=DAEMON_USER,
                 caps=DAEMON_CAPS, binary=None):
        self.bus = bus
        # Another build's cnd, for a benchmark's baseline; this build's by default.
        self.binary = binary or CND
        # As the service runs it: its own user with only CAP_NET_ADMIN and CAP_SYS_PTRACE (caps=()
        # for none).
        self.user = user
        self.caps = caps
        # CND_TEST_WRAPPER runs cnd under a tool (meson test --setup valgrind).
        self.prefix = list(prefix) + os.environ.get('CND_TEST_WRAPPER', '').split()
        self.dir = tempfile.mkdtemp(prefix='cnd-daemon-')
        os.chmod(self.dir, 0o755)
        self.config_path = os.path.join(self.dir, 'cnd.conf')
        self.write_config(config)
        self.args = list(args)
        self.log_level = log_level
        self.proc = None
        self.notify_path = os.path.join(self.dir, 'notify')
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        os.chmod(self.notify_path, 0o666)
        self.notify.settimeout(0.1)
        self.notify.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.notifications = []
        self.notification_times = []        # (when cnd sent it, time.time()'s clock; line)
        self.notify_lock = threading.Lock()
        # Drained all the time, as a service manager does: sd_notify() blocks on a full socket.
        self.notify_stop = threading.Event()
        self.notify_thread = threading.Thread(target=self._drain_notifications, daemon=True)
        self.notify_thread.start()
        self.log_path = os.path.join(self.dir, 'cnd.log')

    def write_config(self, text):
        with open(self.config_path, 'w') as f:
            f.write(text)

    def start(self, wait=True, env=None):
        e = dict(os.environ)
        e.update({'DBUS_SYSTEM_BUS_ADDRESS': self.bus.address, 'NOTIFY_SOCKET': self.notify_path})
        e.update(env or {})
        self.log = open(self.log_path, 'w')
        binary = self.binary if self.user == 'root' else reachable(self.binary)
        self.proc = subprocess.Popen(as_user(self.user, self.caps) + self.prefix +
                                     [binary, '--config=' + self.config_path, '--no-drop-ins',
                                      '--log-level=' + self.log_level] + self.args,
                                     env=e, stdout=self.log, stderr=subprocess.STDOUT)
        if wait:
            self.wait_notified('READY=1')
        return self

    def _drain_notifications(self):
        while not self.notify_stop.is_set():
            self._receive(block=True)

    def _receive(self, block):
        with self.notify_lock:
            try:
                data, ancillary, _, _ = self.notify.recvmsg(4096, socket.CMSG_SPACE(STAMP.size),
                                                            0 if block else socket.MSG_DONTWAIT)
            except (socket.timeout, BlockingIOError, OSError):
                return False
            sent = _sent_time(ancillary)
            lines = data.decode().split('\n')
            self.notifications.extend(lines)
            self.notification_times.extend((sent, line) for line in lines)
            return True

    def read_notifications(self):
        # Whatever is queued now counts too, not only what the thread has picked up.
        while self._receive(block=False):
            pass
        return list(self.notifications)

    def notified_times(self, line):
        """When cnd sent each notification of line, in time.time()'s clock, as the kernel
        stamped them: the gaps between them are cnd's, not this process's scheduling."""
        self.read_notifications()
        with self.notify_lock:
            return [t for t, got in self.notification_times if got == line]

    def notify_mark(self):
        """Where the notifications stand now, to wait for one that comes after."""
        return len(self.read_notifications())

    def wait_notified(self, line, timeout=20.0, start=0):
        def seen():
            if self.proc.poll() is not None:
                raise AssertionError(f'cnd exited with {self.proc.returncode}:\n{self.log_text()}')
            return line in self.read_notifications()[start:]
        wait_for(seen, timeout, what=f'cnd to notify {line}')

    def log_text(self):
        with open(self.log_path) as f:
            return f.read()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=20.0):
        return self.proc.wait(timeout)

    def stop(self):
        """Stops cnd with SIGTERM; it must exit 0 (under sanitizers: with no error or leak)."""
        rc = None
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                rc = self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = 'hung'
        if self.proc:
            self.log.close()
        log = self.log_text() if self.proc and rc not in (None, 0) else ''
        self.notify_stop.set()
        self.notify_thread.join()
        self.notify.close()
        shutil.rmtree(self.dir, ignore_errors=True)
        if rc not in (None, 0):
            raise AssertionError(f'cnd did not stop cleanly on SIGTERM ({rc}):\n{log[-8000:]}')
