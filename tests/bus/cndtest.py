# SPDX-License-Identifier: LGPL-2.1-or-later
"""Integration test harness: a private bus (dbus-daemon or dbus-broker) with the shipped
policy, cnd started against it as its own user and the real kernel connector, D-Bus clients,
and a netlink injector that multicasts hand-made cn_msg into connector groups as root.

Nothing that runs as another user (cnd as user cnd, clients as nobody) is run from the clone:
it may live in /root, mode 0700. reachable() hands them copies in a directory they can read."""

import atexit
import errno
import os
import pwd
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest

try:
    import gi
except ImportError:
    # Started with another python3 first on PATH (pyenv, a venv): Debian's has the bindings.
    if (os.path.realpath(sys.executable) != os.path.realpath('/usr/bin/python3') and
            os.access('/usr/bin/python3', os.X_OK)):
        os.execv('/usr/bin/python3', ['/usr/bin/python3'] + sys.argv)
    sys.exit(f'{os.path.basename(sys.argv[0])}: needs the GObject bindings of Debian\'s /usr/bin/python3 '
             f'(python3-gi); run first: tools/install-deps')

gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402
from pace import fork_pace, slowdown  # noqa: E402

BUILD_DIR = os.environ.get('CND_BUILD_DIR', os.path.join(os.path.dirname(__file__), '../../build'))
SOURCE_DIR = os.environ.get('CND_SOURCE_DIR', os.path.join(os.path.dirname(__file__), '../..'))
CND = os.path.join(BUILD_DIR, 'daemon', 'cnd')
POLICY = os.path.join(BUILD_DIR, 'dbus-policy', 'org.cnd.Connector1.conf')

NAMES_HEADER = 'cnd-bus-names.h'


def require_built(*programs):
    """Ends a script that needs the build (a benchmark started on a fresh clone) with one line
    saying what to run first, if cnd or one of programs (paths in the build directory) is not
    there."""
    for program in ('daemon/cnd',) + programs:
        if not os.access(os.path.join(BUILD_DIR, program), os.X_OK):
            sys.exit(f'{os.path.basename(sys.argv[0])}: {program} is not built in {os.path.abspath(BUILD_DIR)}; '
                     f'run first: tools/install-deps && meson setup build && meson compile -C build')


def bus_names():
    """The D-Bus names from the daemon's own header (beside this file when staged for another
    user), without the CND_ prefix: {'BUS_NAME': 'org.cnd.Connector1', ...}."""
    import re
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), NAMES_HEADER)
    path = here if os.path.exists(here) else os.path.join(SOURCE_DIR, 'daemon', 'shared', NAMES_HEADER)
    with open(path) as f:
        return {m[1]: m[2] for m in re.finditer(r'^#define CND_(\w+) "([^"]*)"', f.read(), re.M)}


NAMES = bus_names()
BUS_NAME = NAMES['BUS_NAME']
MANAGER_PATH = NAMES['MANAGER_PATH']
MANAGER_IFACE = NAMES['MANAGER_IFACE']
ID_IFACE = NAMES['ID_IFACE']
ID_PATH_PREFIX = NAMES['ID_PATH_PREFIX']
PROC_PATH = NAMES['PROC_PATH']
PROC_IFACE = NAMES['PROC_IFACE']
PROCESSES_PATH = NAMES['PROCESSES_PATH']
PROCESSES_IFACE = NAMES['PROCESSES_IFACE']

NETLINK_CONNECTOR = 11
NLMSG_DONE = 3
CN_MSG = struct.Struct('=IIIIHH')         # idx, val, seq, ack, len, flags
NLMSGHDR = struct.Struct('=IHHII')        # len, type, flags, seq, pid

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


# What cnd.service runs as (units/cnd.sysusers) and the capabilities it keeps.
DAEMON_USER = 'cnd'
DAEMON_CAPS = ('net_admin', 'sys_ptrace')

_staged = {}
_stage_dir = None


def reachable(path):
    """A copy of path that every user may read and run, made once per test process."""
    global _stage_dir
    path = os.path.realpath(path)
    if path not in _staged:
        if _stage_dir is None:
            _stage_dir = tempfile.mkdtemp(prefix='cnd-stage-')
            os.chmod(_stage_dir, 0o755)
            atexit.register(shutil.rmtree, _stage_dir, True)
        # One directory per file keeps the name (Python modules import each other by it).
        d = os.path.join(_stage_dir, str(len(_staged)))
        os.mkdir(d, 0o755)
        _staged[path] = os.path.join(d, os.path.basename(path))
        shutil.copy2(path, _staged[path])
        os.chmod(_staged[path], 0o755)
    return _staged[path]


def reachable_modules(*names):
    """A directory every user can read holding the harness modules (and names, from tests/),
    for PYTHONPATH: busclient.py run as nobody imports cndtest."""
    here = os.path.dirname(os.path.abspath(__file__))
    d = os.path.dirname(reachable(os.path.join(here, 'cndtest.py')))
    for name in ('busclient.py', 'pace.py', os.path.join(SOURCE_DIR, 'daemon', 'shared', NAMES_HEADER)) + names:
        src = name if os.path.isabs(name) else os.path.join(here, name)
        dst = os.path.join(d, os.path.basename(src))
        if not os.path.exists(dst):
            shutil.copy2(src, dst)
            os.chmod(dst, 0o755)
    return d


def ensure_user(name):
    """cnd's own system user, as its package creates it through sysusers.d."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(['useradd', '--system', '--no-create-home', '--home-dir', '/',
                        '--shell', '/usr/sbin/nologin', name], check=True)
        return pwd.getpwnam(name)


def as_user(user, caps=()):
    """setpriv arguments that run a command as user with only caps (ambient, as systemd's
    AmbientCapabilities= gives them) and no supplementary groups."""
    if user == 'root':
        return []
    pw = ensure_user(user) if user == DAEMON_USER else pwd.getpwnam(user)
    keep = ''.join(f',+{c}' for c in caps)
    return ['setpriv', f'--reuid={pw.pw_uid}', f'--regid={pw.pw_gid}', '--clear-groups',
            f'--inh-caps=-all{keep}', f'--ambient-caps=-all{keep}', f'--bounding-set=-all{keep}']


FORK_STORM = os.path.join(BUILD_DIR, 'tests', 'helpers', 'fork-storm')


def storm_timeout(n, parallel=4, program=None):
    """Seconds a fork-storm of n children (each execing program, if given) may take on this
    machine now: five times what a storm of a twentieth of n takes when measured here, and at
    least a minute. A TCG guest forks some ten times slower than the host, a loaded host some
    times slower: a fixed bound would either flake there or mean nothing here."""
    return max(60.0, 5 * n * fork_pace(FORK_STORM, max(50, n // 20), parallel, program))


_slowdown = None


def scaled(seconds):
    """A wait of seconds on the host, as long as it takes on this machine: in a guest, times how
    much slower than its host it forks (pace.py), printed once."""
    global _slowdown
    if _slowdown is None:
        _slowdown = slowdown(FORK_STORM)
        if _slowdown > 1.0:
            print(f'waits scaled by {_slowdown:.1f}: this machine forks that much slower than its host',
                  file=sys.stderr, flush=True)
    return seconds * _slowdown


def wait_for(predicate, timeout=20.0, interval=0.02, what='condition'):
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f'timed out after {timeout:.0f}s waiting for {what}')


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
    KEEP of them (entries: dicts of their fields) for tests to look at."""

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
        self.thread = threading.Thread(target=self._drain, daemon=True)
        self.thread.start()

    def _drain(self):
        while not self.stopping.is_set():
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
        self.thread.join()
        self.sock.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass


def parse_journal_datagram(data):
    """The native journal protocol: FIELD=value lines, or FIELD, newline, a 64-bit little-endian
    length and that many bytes (values holding a newline)."""
    fields, off = {}, 0
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
        fields[k.decode(errors='replace')] = v.decode(errors='surrogateescape')
    return fields


class Daemon:
    """cnd itself, with a config file of the test's and a notify socket to watch it."""

    def __init__(self, bus, config='', args=(), log_level='debug', prefix=(), user=DAEMON_USER,
                 caps=DAEMON_CAPS):
        self.bus = bus
        # As the service runs it: its own user with only CAP_NET_ADMIN (caps=() for none).
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
        self.notifications = []
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
        binary = CND if self.user == 'root' else reachable(CND)
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
                data = self.notify.recv(4096) if block else self.notify.recv(4096, socket.MSG_DONTWAIT)
            except (socket.timeout, BlockingIOError, OSError):
                return False
            self.notifications.extend(data.decode().split('\n'))
            return True

    def read_notifications(self):
        # Whatever is queued now counts too, not only what the thread has picked up.
        while self._receive(block=False):
            pass
        return list(self.notifications)

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


class Client:
    """A D-Bus client on the private bus, with signal collection."""

    def __init__(self, address):
        self.context = GLib.MainContext.new()
        self.context.push_thread_default()
        try:
            self.conn = Gio.DBusConnection.new_for_address_sync(
                address,
                Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
                None, None)
        finally:
            self.context.pop_thread_default()
        self.subscriptions = []

    def close(self):
        for s in self.subscriptions:
            self.conn.signal_unsubscribe(s)
        if not self.conn.is_closed():
            try:
                self.conn.close_sync(None)
            except GLib.Error:
                pass  # the bus went away first

    def call(self, method, args=None, signature=None, path=MANAGER_PATH, iface=MANAGER_IFACE,
             dest=BUS_NAME, timeout_ms=30000):
        params = GLib.Variant(signature, args) if signature else None
        reply = self.conn.call_sync(dest, path, iface, method, params, None,
                                    Gio.DBusCallFlags.NONE, timeout_ms, None)
        return reply.unpack() if reply else None

    def call_async(self, method, args=None, signature=None, path=MANAGER_PATH, iface=MANAGER_IFACE,
                   dest=BUS_NAME, timeout_ms=90000):
        """Starts a call; the returned dict gets 'ok' (the unpacked reply) or 'error' (the D-Bus
        error name) and 'message' once pump() has dispatched the reply."""
        result = {}
        params = GLib.Variant(signature, args) if signature else None

        def done(conn, res):
            try:
                result['ok'] = conn.call_finish(res).unpack()
            except GLib.Error as e:
                result['error'] = Gio.DBusError.get_remote_error(e)
                result['message'] = e.message
        self.conn.call(dest, path, iface, method, params, None, Gio.DBusCallFlags.NONE, timeout_ms, None, done)
        return result

    def call_error(self, method, args=None, signature=None, **kw):
        """Calls and returns the D-Bus error name and message; fails if the call succeeds."""
        try:
            self.call(method, args, signature, **kw)
        except GLib.Error as e:
            return Gio.DBusError.get_remote_error(e), e.message
        raise AssertionError(f'{method} succeeded')

    def get(self, prop, path=MANAGER_PATH, iface=MANAGER_IFACE):
        return self.call('Get', (iface, prop), '(ss)', path=path, iface='org.freedesktop.DBus.Properties')[0]

    def get_all(self, path=MANAGER_PATH, iface=MANAGER_IFACE):
        return self.call('GetAll', (iface,), '(s)', path=path, iface='org.freedesktop.DBus.Properties')[0]

    def managed_objects(self):
        return self.call('GetManagedObjects', path=MANAGER_PATH, iface='org.freedesktop.DBus.ObjectManager')[0]

    def introspect(self, path=MANAGER_PATH):
        return self.call('Introspect', path=path, iface='org.freedesktop.DBus.Introspectable')[0]

    def subscribe(self, member, iface=None, path=None, path_namespace=None, sender=BUS_NAME):
        """Collects (path, member, args) of matching signals in the returned list. The match
        rule is in place when this returns (GDBus would add it asynchronously)."""
        got = []
        rule = ["type='signal'"]
        for key, value in (('sender', sender), ('interface', iface), ('member', member),
                           ('path', path), ('path_namespace', path_namespace)):
            if value:
                rule.append(f"{key}='{value}'")
        self.conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                            'AddMatch', GLib.Variant('(s)', (','.join(rule),)),
                            None, Gio.DBusCallFlags.NONE, -1, None)

        def on_signal(conn, sender_name, obj_path, interface, signal_name, params):
            if path_namespace and not (obj_path == path_namespace or obj_path.startswith(path_namespace + '/')):
                return
            got.append((obj_path, signal_name, params.unpack()))

        self.subscriptions.append(self.conn.signal_subscribe(
            None, iface, member, path, None, Gio.DBusSignalFlags.NO_MATCH_RULE, on_signal))
        return got

    def pump(self, until=None, timeout=10.0):
        """Dispatches incoming messages until until() holds (or just for a moment)."""
        timeout = scaled(timeout)
        deadline = time.monotonic() + timeout
        ctx = GLib.MainContext.default()
        while True:
            while ctx.iteration(False):
                pass
            if until is None or until():
                return True
            if time.monotonic() > deadline:
                if until is None:
                    return True
                raise AssertionError(f'timed out after {timeout}s')
            ctx.iteration(True) if ctx.pending() else time.sleep(0.005)

    def settle(self, seconds=0.3):
        """Gives in-flight signals time to arrive."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.pump()
            time.sleep(0.01)


class Injector:
    """Multicasts hand-made connector frames as root (the kernel permits it for CAP_NET_ADMIN)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
        self.sock.bind((0, 0))

    @staticmethod
    def frame(idx, val, seq=0, ack=0, data=b'', flags=0, length=None, nl_type=NLMSG_DONE):
        body = CN_MSG.pack(idx, val, seq, ack, len(data) if length is None else length, flags) + data
        return NLMSGHDR.pack(NLMSGHDR.size + len(body), nl_type, 0, seq, 0) + body

    def send_raw(self, group, datagram):
        self.sock.sendto(datagram, (0, 1 << (group - 1)))

    def send(self, group, idx, val, seq=0, ack=0, data=b'', flags=0):
        self.send_raw(group, self.frame(idx, val, seq, ack, data, flags))

    def close(self):
        self.sock.close()


def unprivileged_user():
    return pwd.getpwnam('nobody')


class CndTestCase(unittest.TestCase):
    """Starts a bus and cnd per test; subclasses set CONFIG and BUS_KIND."""

    CONFIG = ''
    BUS_KIND = 'dbus-daemon'
    EXTRA_POLICY = ''
    START = True

    def setUp(self):
        self.bus = PrivateBus(self.BUS_KIND, self.EXTRA_POLICY).start()
        self.addCleanup(self.bus.stop)
        self.cnd = Daemon(self.bus, self.CONFIG)
        self.addCleanup(self._stop_cnd)
        if self.START:
            self.cnd.start()
        self.client = Client(self.bus.address)
        self.addCleanup(self.client.close)
        self.injector = Injector()
        self.addCleanup(self.injector.close)

    def _failed(self):
        result = getattr(self._outcome, 'result', None)
        return result is not None and any(t is self for t, _ in result.failures + result.errors)

    def _stop_cnd(self):
        # On failure, cnd's log is what tells why.
        if self._failed() and self.cnd.proc and os.path.exists(self.cnd.log_path):
            sys.stderr.write(f'--- cnd log of {self.id()} ---\n{self.cnd.log_text()[-6000:]}--- end ---\n')
        self.cnd.stop()

    def counters(self):
        props = self.client.get_all()
        return {k: props[k] for k in ('ReceivedMessages', 'RejectedMessages', 'KernelDroppedMessages',
                                      'BusDroppedMessages', 'Overruns')}

    def wait_settled(self, timeout=300):
        """Waits until cnd's counters stop moving: whatever was in flight has been handled."""
        def settled():
            c = self.counters()
            time.sleep(1.0)
            return c == self.counters()
        wait_for(settled, timeout=timeout, interval=0.5, what="cnd's counters to settle")

    def wait_counter(self, name, value, timeout=10.0):
        wait_for(lambda: self.counters()[name] >= value, timeout, what=f'{name} >= {value}')


def main():
    unittest.main(verbosity=2)


def _busclient_as(user, address, args, groups):
    modules = reachable_modules()
    pw = pwd.getpwnam(user)
    cmd = ['setpriv', f'--reuid={pw.pw_uid}', f'--regid={pw.pw_gid}']
    cmd += [f'--groups={",".join(str(g) for g in groups)}'] if groups else ['--clear-groups']
    cmd += ['/usr/bin/python3', os.path.join(modules, 'busclient.py'), address] + [str(a) for a in args]
    return cmd, dict(os.environ, PYTHONPATH=modules)


def run_as(user, address, *args, groups=(), timeout=30):
    """Runs busclient.py as another user; returns its JSON answer."""
    import json
    cmd, env = _busclient_as(user, address, args, groups)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if p.returncode != 0 or not p.stdout.strip():
        raise AssertionError(f'client as {user} failed ({p.returncode}): {p.stderr}')
    return json.loads(p.stdout.strip().splitlines()[-1])


def spawn_as(user, address, *args, groups=()):
    """Like run_as, in the background; the caller reads its stdout."""
    cmd, env = _busclient_as(user, address, args, groups)
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def ensure_group(name):
    """The admin group the shipped policy names; a package creates it through sysusers.d."""
    import grp
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        subprocess.run(['groupadd', '--system', name], check=True)
        return grp.getgrnam(name).gr_gid


PROC_EVENT = struct.Struct('=IIQ')
PROC_EVENT_NAMES = {1: 'Fork', 2: 'Exec', 4: 'Uid', 0x40: 'Gid', 0x80: 'Sid', 0x100: 'Ptrace',
                    0x200: 'Comm', 0x40000000: 'Coredump', 0x80000000: 'Exit'}


class ProcListener:
    """A raw cn_proc listener of the test's own: the truth cnd's signals are checked against.
    Records (kind, fields) for Fork, Exec and Exit in a background thread."""

    # Every kind of event, and no acks: a 6.6+ kernel filters a listener that asks with any
    # mask but PROC_EVENT_ALL (0xe00003c7), which alone lets acks through.
    EVENTS_NO_ACKS = 0xc00003c7

    def __init__(self, rcvbuf=256 << 20, mask=None):
        import threading
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
        self.sock.setsockopt(socket.SOL_SOCKET, 33, rcvbuf)      # SO_RCVBUFFORCE
        self.sock.bind((0, 1))                                    # group 1: cn_proc
        self.sock.settimeout(0.2)
        self.forks = []      # (parent_tgid, child_pid)
        self.execs = []      # tgid
        self.exits = []      # pid
        self.acks = 0
        self.ok_acks = []    # the ack values of successful acks (err 0), as a spy would see them
        self.stopping = False
        self.listening = False
        self.listen()
        if mask is not None:
            self._op(1, mask)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    # Kernels before 6.6 keep one listener count for the machine and take an IGNORE whether or
    # not the sender listens: one IGNORE too many leaves every listener without events.
    def listen(self):
        assert not self.listening
        self._op(1)          # PROC_CN_MCAST_LISTEN
        self.listening = True

    def ignore(self):
        assert self.listening
        self._op(2)          # PROC_CN_MCAST_IGNORE
        self.listening = False

    def _op(self, op, mask=None):
        data = struct.pack('=I', op) if mask is None else struct.pack('=II', op, mask)
        self.sock.sendto(Injector.frame(1, 1, seq=0, ack=0, data=data), (0, 0))

    def _run(self):
        while not self.stopping:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                continue     # ENOBUFS: counted by drops()
            off = 0
            while off + 16 <= len(data):
                nl_len = struct.unpack_from('=I', data, off)[0]
                body = data[off + 16 + CN_MSG.size:off + nl_len]
                if len(body) >= PROC_EVENT.size + 16:
                    what = struct.unpack_from('=I', body)[0]
                    f = struct.unpack_from('=IIII', body, PROC_EVENT.size)
                    if what == 0:
                        self.acks += 1
                        if f[0] == 0:
                            self.ok_acks.append(CN_MSG.unpack_from(data, off + 16)[3])
                    elif what == 1:
                        self.forks.append((f[1], f[2]))
                    elif what == 2:
                        self.execs.append(f[1])
                    elif what == 0x80000000:
                        self.exits.append(f[0])
                off += (nl_len + 3) & ~3
                if nl_len < 16:
                    break

    def drops(self):
        meminfo = self.sock.getsockopt(socket.SOL_SOCKET, 55, 4 * 9)   # SO_MEMINFO
        return struct.unpack('=9I', meminfo)[8]

    def close(self):
        self.stopping = True
        self.thread.join()
        if self.listening:
            self.ignore()
        self.sock.close()


class ConnectorList:
    """A file in the format of /proc/net/connector for cnd's test hook CND_TEST_CONNECTOR_LIST:
    the host kernel cannot register connector ids (no modules)."""

    def __init__(self, ids=(('cn_proc', 1, 1),)):
        fd, self.path = tempfile.mkstemp(prefix='cnd-connector-')
        os.fchmod(fd, 0o644)         # cnd reads it as its own user
        os.close(fd)
        self.write(ids)

    def write(self, ids):
        tmp = self.path + '.new'
        with open(tmp, 'w') as f:
            f.write('Name            ID\n' + ''.join(f'{name:<15} {idx}:{val}\n' for name, idx, val in ids))
        os.rename(tmp, self.path)

    def remove(self):
        os.unlink(self.path)


def rss_kib(pid):
    """A process's resident memory."""
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0
