# SPDX-License-Identifier: LGPL-2.1-or-later
"""A private system-type bus (dbus-daemon or dbus-broker) with the shipped policy, and the
journal socket dbus-broker logs to."""

import errno
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import threading

from cndpaths import POLICY
from dbusclient import Client, GLib
from staging import DAEMON_USER, ensure_user
from waits import wait_for

# The system bus's default policy (dbus's system.conf), so the shipped policy is judged as it
# would be on a real system.
BUS_CONF = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  {listen}
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Properties"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Peer"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus" send_member="UpdateActivationEnvironment"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Debug.Stats"/>
    <deny send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.systemd1.Activator"/>
  </policy>
  <limit name="max_incoming_bytes">133169152</limit>
  <limit name="max_outgoing_bytes">133169152</limit>
  <include>{policy}</include>
  {extra}
</busconfig>
"""


class PrivateBus:
    """A system-type bus of its own, on a socket in a temporary directory."""

    def __init__(self, kind='dbus-daemon', extra_policy=''):
        self.kind = kind
        self.extra_policy = extra_policy
        self.dir = tempfile.mkdtemp(prefix='cnd-bus-')
        os.chmod(self.dir, 0o755)
        self.socket = os.path.join(self.dir, 'bus.sock')
        self.address = 'unix:path=' + self.socket
        self.procs = []

    def _write_conf(self, listen):
        conf = os.path.join(self.dir, 'bus.conf')
        with open(conf, 'w') as f:
            f.write(BUS_CONF.format(listen=listen, policy=POLICY, extra=self.extra_policy))
        return conf

    def start(self):
        ensure_user(DAEMON_USER)     # the policy names it; a bus ignores a user it cannot resolve
        if self.kind == 'dbus-daemon':
            conf = self._write_conf(f'<listen>{self.address}</listen>')
            self.procs.append(subprocess.Popen(['dbus-daemon', '--nofork', '--config-file=' + conf],
                                               stdout=subprocess.DEVNULL, stderr=self._log()))
        else:
            conf = self._write_conf('')
            self._start_journal_sink()
            self.procs.append(subprocess.Popen(
                ['systemd-socket-activate', '-l', self.socket,
                 '-E', 'DBUS_SYSTEM_BUS_ADDRESS=' + self.address,
                 'dbus-broker-launch', '--scope', 'system', '--config-file=' + conf],
                stdout=subprocess.DEVNULL, stderr=self._log()))
        wait_for(lambda: os.path.exists(self.socket), what='bus socket')
        os.chmod(self.socket, 0o666)
        # The broker is only launched on the first connection; make sure it answers.
        wait_for(self._answers, what=f'{self.kind} to answer')
        return self

    def _log(self):
        self.log = open(os.path.join(self.dir, 'bus.log'), 'w')
        return self.log

    def _start_journal_sink(self):
        """dbus-broker logs to the journal socket and waits on it: make sure something reads it.
        A socket whose reader is gone (an interrupted run's) is replaced, not trusted by its
        path; a live one (a real journald, or another run's sink) is left alone."""
        self.journal = take_journal_socket()
        if self.journal:
            self.journal_path = self.journal.path

    def _answers(self):
        try:
            c = Client(self.address)
            c.close()
            return True
        except GLib.Error:
            return False

    def stop(self):
        for p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        self.procs = []
        if getattr(self, 'log', None):
            self.log.close()
        if getattr(self, 'journal_path', None):
            self.journal.close()
            self.journal_path = None
        shutil.rmtree(self.dir, ignore_errors=True)


JOURNAL_SOCKET = '/run/systemd/journal/socket'


def take_journal_socket(path=JOURNAL_SOCKET):
    """A JournalSink on path, unless a live reader (a real journald, another run's sink) holds
    it: then None. A socket whose reader is gone is replaced."""
    if journal_has_reader(path):
        return None
    os.makedirs(os.path.dirname(path), exist_ok=True)
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    return JournalSink(path)


def journal_has_reader(path):
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        probe.connect(path)
        return True
    except OSError as e:
        # ECONNREFUSED: the file is there but nobody is bound to it any more.
        if e.errno not in (errno.ENOENT, errno.ECONNREFUSED):
            raise
        return False
    finally:
        probe.close()


class JournalSink:
    """Takes journal datagrams from a thread, so a logger never blocks, and keeps the last
    KEEP of them (entries: dicts of their fields) for tests to look at. hold() stops reading, as
    a stopped journald does: the socket's queue fills (net.unix.max_dgram_qlen datagrams) and a
    writer blocks; release() reads on."""

    KEEP = 10000

    def __init__(self, path):
        import collections
        self.path = path
        self.entries = collections.deque(maxlen=self.KEEP)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        os.chmod(path, 0o666)
        self.sock.settimeout(0.2)
        self.stopping = threading.Event()
        self.reading = threading.Event()
        self.reading.set()
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def hold(self):
        """Reads nothing from now on (what the thread is receiving now still counts)."""
        self.reading.clear()

    def release(self):
        self.reading.set()

    def _drain(self):
        while not self.stopping.is_set():
            if not self.reading.wait(0.2):
                continue
            try:
                data = self.sock.recv(1 << 20)
            except (socket.timeout, OSError):
                continue
            try:
                self.entries.append(parse_journal_datagram(data))
            except (struct.error, ValueError):
                pass         # not ours to judge: keep draining whatever comes

    def close(self):
        self.stopping.set()
        self.reading.set()
        self.thread.join()
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


class JournalFields(dict):
    """An entry's fields, each with its first value; all() gives every value of a field that is
    repeated (journald keeps them, in order: cnd's CND_ARGV=)."""

    def __init__(self):
        super().__init__()
        self._all = {}

    def add(self, key, value):
        self._all.setdefault(key, []).append(value)
        self.setdefault(key, value)

    def all(self, key):
        return list(self._all.get(key, []))

    def size(self, key=None):
        """The bytes of the fields of that name (of all, key None) as journald takes them:
        KEY=value each, the value's bytes as they came."""
        return sum(len(k.encode()) + 1 + len(v.encode('utf-8', 'surrogateescape'))
                   for k, values in self._all.items() if key in (None, k) for v in values)


def parse_journal_datagram(data):
    """The native journal protocol: FIELD=value lines, or FIELD, newline, a 64-bit little-endian
    length and that many bytes (values holding a newline)."""
    fields, off = JournalFields(), 0
    while off < len(data):
        nl = data.find(b'\n', off)
        if nl < 0:
            break
        line = data[off:nl]
        if b'=' in line:
            k, v = line.split(b'=', 1)
            off = nl + 1
        else:
            k = line
            if nl + 9 > len(data):
                break
            n = struct.unpack_from('<Q', data, nl + 1)[0]
            v = data[nl + 9:nl + 9 + n]
            off = nl + 9 + n + 1
        fields.add(k.decode(errors='replace'), v.decode(errors='surrogateescape'))
    return fields
