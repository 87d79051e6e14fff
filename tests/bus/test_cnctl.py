#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""cnctl against the real daemon: every command and option, as root, as a member of the admin
group and as nobody; its JSON against the properties and signals it came from; its streams
exact under load; its errors in words."""

import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from cndtest import (BUILD_DIR, BUS_NAME, ID_IFACE, ID_PATH_PREFIX, NAMES, PROC_IFACE, PROC_PATH, SOURCE_DIR,
                     CndTestCase, Daemon, GLib,
                     ProcListener, ensure_group, main, reachable, storm_timeout, unprivileged_user, wait_for)
import controls
from kernelprobes import proc_kernel_filters

CNCTL = os.path.join(BUILD_DIR, 'cnctl', 'cnctl')
PROCESSES_PATH, PROCESSES_IFACE = NAMES['PROCESSES_PATH'], NAMES['PROCESSES_IFACE']
PROC_SIGNALS = ('Fork', 'Exec', 'Uid', 'Gid', 'Sid', 'Ptrace', 'Comm', 'Coredump', 'Exit')
FORK_STORM = os.path.join(BUILD_DIR, 'tests', 'helpers', 'fork-storm')
PLAIN, BATCHED, SPARE = 27, 28, 29
IDX = 0x4c4c
ADMIN_GROUP = 'cnd-admin'       # meson's default admin_group, named in the shipped policy
READER_GROUP = 'cnd-readers'    # meson's default reader_group, likewise
LISTEN = '01000000'             # PROC_CN_MCAST_LISTEN, little-endian
GARBAGE = '010203'              # cn_proc ignores a message of this length: no reply, ever
NOT_RUNNING = 'cnd is not running on the system bus: systemctl start cnd\n'
VERBS = ('status', 'ids', 'monitor', 'proc', 'send', 'request', 'join', 'leave', 'reload')
OPTIONS = ('--json=', '--no-pager', '--no-legend', '-q', '--quiet', '-h', '--help', '--version',
           '--kinds=', '--timeout=', '--via=')
CONFIG = f"""
[Connector]
Groups={PLAIN} {BATCHED}
BatchGroups={BATCHED}
AcceptUserspaceSenders=yes
ScanIntervalSec=0
ReceiveBufferSize=64M
[Bus]
AdminGroup={ADMIN_GROUP}
"""


def cnctl_argv(user, groups=()):
    """cnctl as root from the build tree, or as another user from a copy that user can reach."""
    if user == 'root':
        return [CNCTL]
    pw = unprivileged_user() if user == 'nobody' else None
    cmd = ['setpriv', f'--reuid={pw.pw_uid}', f'--regid={pw.pw_gid}']
    cmd += [f'--groups={",".join(str(g) for g in groups)}'] if groups else ['--clear-groups']
    return cmd + [reachable(CNCTL)]


MARKER_TEXT, MARKER_HEX = 'marker', b'marker'.hex()


def unmarked(lines):
    """A monitor's lines but the markers that told it was subscribed (shown_everywhere())."""
    return [line for line in list(lines) if MARKER_TEXT not in line and MARKER_HEX not in line]


def run(*args, address=None, user='root', groups=(), input=None, env=None, timeout=60):
    e = dict(os.environ, **(env or {}))
    if address:
        e['DBUS_SYSTEM_BUS_ADDRESS'] = address
    return subprocess.run(cnctl_argv(user, groups) + [str(a) for a in args], capture_output=True, text=True,
                          input=input, env=e, timeout=timeout)


class Stream:
    """A running `cnctl monitor` or `cnctl proc`: its lines as they come, from a thread."""

    def __init__(self, *args, address, user='root', groups=()):
        self.proc = subprocess.Popen(cnctl_argv(user, groups) + [str(a) for a in args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True,
                                     env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=address))
        self.lines = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip('\n'))

    def objects(self):
        return [json.loads(line) for line in list(self.lines)]

    def wait_lines(self, pred, timeout=20, what='lines'):
        wait_for(lambda: pred(list(self.lines)) or self.proc.poll() is not None, timeout, what=what)
        if self.proc.poll() is not None and not pred(list(self.lines)):
            raise AssertionError(f'cnctl exited {self.proc.returncode}: {self.proc.stderr.read()}')

    def stop(self):
        """SIGTERM ends a stream cleanly: exit 0, everything read."""
        if self.proc.poll() is None:
            self.proc.terminate()
        rc = self.proc.wait(30)
        self.thread.join(10)
        self.stderr = self.proc.stderr.read()
        self.proc.stderr.close()
        self.proc.stdout.close()
        return rc


class CommandLine(unittest.TestCase):
    """What cnctl says before it talks to any bus."""

    def test_help_lists_every_command_and_option(self):
        p = run('--help')
        self.assertEqual(p.returncode, 0)
        for word in VERBS + OPTIONS:
            self.assertIn(word, p.stdout)
        self.assertEqual(run('help').stdout, p.stdout)
        self.assertEqual(run('-h').stdout, p.stdout)

    def test_man_page_describes_every_command_and_option(self):
        with open(os.path.join(SOURCE_DIR, 'man', 'cnctl.1.scd')) as f:
            page = f.read()
        for verb in VERBS:
            self.assertIn(f'*{verb}*', page)
        for opt in OPTIONS:
            self.assertIn(f'*{opt}', page)

    def test_version(self):
        p = run('--version')
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r'^cnctl \d+\.\d+\.\d+\n$')

    def assertFails(self, p, pattern):
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertEqual(p.stdout, '')
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertRegex(p.stderr, pattern)

    def test_bad_arguments(self):
        cases = [
            (('frobnicate',), r"^Unknown command 'frobnicate'\. See 'cnctl --help'\."),
            (('--frobnicate',), r"^Unknown option '--frobnicate'"),
            (('--json',), r"^Option '--json' needs a value"),
            (('--json=yaml',), r'^Invalid --json=yaml: use short, pretty or off\.'),
            (('proc', '--kinds=fork,spawn'), r"unknown kind 'spawn'; kinds are fork, exec"),
            (('proc', '--kinds='), r'^Invalid --kinds='),
            (('status', '--kinds=fork'), r"^--kinds= is an option of 'cnctl proc'"),
            (('send', '1:1', '00', '--timeout=5'), r"^--timeout= is an option of 'cnctl request'"),
            (('request', '1:1', '00', '--timeout=soon'), r'^Invalid --timeout=soon'),
            (('send',), r'^Too few arguments: usage: cnctl send IDX:VAL DATA'),
            (('send', '1:1', '00', 'more'), r'^Too many arguments'),
            (('status', 'extra'), r'^Too many arguments'),
            (('send', '1', '00'), r"^Invalid connector id '1': give IDX:VAL"),
            (('send', 'a:b', '00'), r"^Invalid connector id 'a:b'"),
            (('request', '1:99999999999', '00'), r"^Invalid connector id '1:99999999999'"),
            (('send', '1:1', 'zz'), r"^Invalid DATA 'zz': give hex bytes such as 01000000, or @FILE\."),
            (('send', '1:1', '123'), r"^Invalid DATA '123'"),
            (('send', '1:1', '@/nonexistent/data'),
             r'^Failed to read DATA from /nonexistent/data: No such file or directory'),
            (('monitor', '1:2:3'), r"^Invalid connector id '1:2:3': give IDX:VAL such as 1:1, or IDX alone\."),
            (('join', 'three'), r"^Invalid group 'three': give a connector group number, 1 to 32\."),
            (('leave', '5x'), r"^Invalid group '5x'"),
            (('monitor', '--via=bus'), r'^Invalid --via=bus: use stream or signals\.'),
            (('status', '--via=signals'), r"^--via= is an option of 'cnctl monitor' and 'cnctl proc', not of 'status'"),
        ]
        for args, pattern in cases:
            with self.subTest(args=args):
                # No bus at all: these must fail on the arguments, before connecting.
                self.assertFails(run(*args, address='unix:path=/nonexistent'), pattern)

    def test_no_bus(self):
        p = run('status', address='unix:path=/nonexistent/bus')
        self.assertFails(p, r'^Failed to connect to the system bus \(unix:path=/nonexistent/bus\): '
                            r'No such file or directory\. Is dbus running\?')

    def test_bash_completion(self):
        script = os.path.join(SOURCE_DIR, 'cnctl', 'cnctl.bash')

        def complete(*words):
            words = ['cnctl'] + list(words)
            line = ' '.join(words)
            prog = (f'source "{script}"; COMP_WORDS=({" ".join(repr(w) for w in words)}); '
                    f'COMP_CWORD={len(words) - 1}; COMP_LINE={line!r}; _cnctl; printf "%s\\n" "${{COMPREPLY[@]}}"')
            p = subprocess.run(['bash', '-c', prog], capture_output=True, text=True, timeout=30,
                               env=dict(os.environ, PATH=os.path.dirname(CNCTL) + ':' + os.environ['PATH'],
                                        DBUS_SYSTEM_BUS_ADDRESS='unix:path=/nonexistent'))
            self.assertEqual(p.returncode, 0, p.stderr)
            return sorted(filter(None, p.stdout.split('\n')))

        self.assertEqual(complete(''), sorted(VERBS + ('help',)))
        self.assertEqual(complete('re'), ['reload', 'request'])
        self.assertIn('--no-legend', complete('status', '--no'))
        self.assertEqual(complete('--json', '=', ''), ['off', 'pretty', 'short'])
        self.assertEqual(complete('proc', '--kinds', '=', 'fork,ex'), ['fork,exec', 'fork,exit'])
        self.assertEqual(complete('monitor', '--via', '=', ''), ['signals', 'stream'])
        self.assertIn('32', complete('join', ''))


class NotRunning(CndTestCase):
    """A bus without cnd: every command says so, in the same words."""
    START = False

    def test_every_command_says_cnd_is_not_running(self):
        for args in (('status',), (), ('ids',), ('monitor',), ('monitor', '1:1'), ('proc',), ('proc', '--via=signals'),
                     ('monitor', '--via=signals', '1:1'), ('send', '1:1', LISTEN),
                     ('request', '1:1', LISTEN), ('join', '3'), ('leave', '3'), ('reload',)):
            for user in ('root', 'nobody'):
                with self.subTest(args=args, user=user):
                    p = run(*args, address=self.bus.address, user=user)
                    self.assertEqual((p.returncode, p.stderr), (1, NOT_RUNNING), p.stdout)
                    self.assertEqual(p.stdout, '')


class Cnctl(CndTestCase):
    """The commands against a running cnd, with [Bus] AdminGroup= set."""
    START = False
    CONFIG = CONFIG

    def setUp(self):
        self.admin_gid = ensure_group(ADMIN_GROUP)
        super().setUp()
        self.cnd.write_config(self.CONFIG)
        self.cnd.start()

    def cnctl(self, *args, user='root', **kw):
        groups = (self.admin_gid,) if user == 'admin' else ()
        return run(*args, address=self.bus.address, user='nobody' if user == 'admin' else user, groups=groups, **kw)

    def stream(self, *args, user='root'):
        groups = (self.admin_gid,) if user == 'admin' else ()
        s = Stream(*args, address=self.bus.address, user='nobody' if user == 'admin' else user, groups=groups)
        self.addCleanup(lambda: s.proc.poll() is None and s.stop())
        return s

    def ok(self, *args, **kw):
        p = self.cnctl(*args, **kw)
        if args[:1] == ('request',) and p.stderr.startswith('No reply from connector id 1:1 '):
            # Seen only with cnd under valgrind on a loaded machine: now and then cnd misses
            # cn_proc's answer (a daemon matter, not cnctl's). Once more, as the harness advises.
            p = self.cnctl(*args, **kw)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p

    def fails(self, *args, pattern, **kw):
        p = self.cnctl(*args, **kw)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertEqual(len(p.stderr.splitlines()), 1, p.stderr)
        self.assertRegex(p.stderr, pattern)
        return p

    def expected_status(self):
        want = {re.sub(r'(?<=[a-z0-9])([A-Z])', r'_\1', k).lower(): v for k, v in self.client.get_all().items()}
        want['ids'] = [{'idx': i, 'val': v, 'name': n} for i, v, n in want['ids']]
        want['proc'] = {re.sub(r'(?<=[a-z0-9])([A-Z])', r'_\1', k).lower(): v
                        for k, v in self.client.get_all(path=PROC_PATH, iface=PROC_IFACE).items()}
        try:
            want['processes'] = {re.sub(r'(?<=[a-z0-9])([A-Z])', r'_\1', k).lower(): v
                                 for k, v in self.client.get_all(path=PROCESSES_PATH, iface=PROCESSES_IFACE).items()}
        except GLib.Error:
            want['processes'] = None
        return want

    def test_status_json_is_the_properties(self):
        for user in ('root', 'admin', 'nobody'):
            for mode in ('short', 'pretty'):
                with self.subTest(user=user, mode=mode):
                    p = self.ok('status', f'--json={mode}', user=user)
                    self.assertEqual(len(p.stdout.splitlines()) == 1, mode == 'short')
                    # Another run on this machine may send into our groups: counters can move.
                    got = json.loads(p.stdout)
                    want = self.expected_status()
                    for k in ('received_messages', 'rejected_messages'):
                        self.assertLessEqual(got.pop(k), want.pop(k))
                    # The process table's properties may be kept from some users.
                    if user != 'root' and got['processes'] is None:
                        want['processes'] = None
                    self.assertEqual(got, want)
                    # A note tells why "processes" is null, and only then; -q keeps it quiet.
                    self.assertEqual(p.stderr.count('Note:'), int(got['processes'] is None), p.stderr)
                    self.assertEqual(self.ok('status', f'--json={mode}', '-q', user=user).stderr, '')

    def test_status_text(self):
        self.injector.send(PLAIN, IDX, 1, data=b'x')
        wait_for(lambda: self.counters()['ReceivedMessages'] >= 1, what='the message to arrive')
        for user in ('root', 'admin', 'nobody'):
            with self.subTest(user=user):
                p = self.ok('status', '--no-pager', user=user)
                out = p.stdout
                self.assertRegex(out, r'(?m)^ +Version: \d+\.\d+\.\d+$')
                self.assertRegex(out, rf'(?m)^ +Groups: {PLAIN} {BATCHED}$')
                self.assertRegex(out, r'(?m)^ +Ids: 1:1 cn_proc$')
                self.assertRegex(out, r'(?m)^ +Messages: \d+ received, 0 rejected')
                self.assertRegex(out, r'(?m)^ +Lost: 0 since cnd started: 0 dropped by the kernel .*, 0 by cnd '
                                      r'\(bus full\); 0 overruns$')
                self.assertRegex(out, r'(?m)^ +cn_proc: not listening: group 1 is not joined \(cnctl join 1\)$')
                self.assertRegex(out, r'(?m)^ +Events: fork exec uid gid sid ptrace comm coredump exit$')
                self.assertRegex(out, r'(?m)^ +Lost events: 0')
                self.assertRegex(out, r'(?m)^ +Processes: ')
                self.assertEqual(p.stderr, '')
                # status is the default command; --no-legend and -q change nothing here.
                self.assertEqual(re.sub(r'\d+ received', '', self.ok(user=user).stdout),
                                 re.sub(r'\d+ received', '', out))
                self.assertEqual(re.sub(r'\d+ received', '', self.ok('--no-legend', '-q', user=user).stdout),
                                 re.sub(r'\d+ received', '', out))

    def test_pager(self):
        """On a terminal status and ids go through $PAGER, unless --no-pager."""
        def on_tty(*args):
            pid, fd = pty.fork()
            if pid == 0:
                os.environ.update(DBUS_SYSTEM_BUS_ADDRESS=self.bus.address, PAGER='sed s/^/PAGED:/')
                os.execv(CNCTL, [CNCTL] + list(args))
            out = b''
            while True:
                try:
                    r, _, _ = select.select([fd], [], [], 10)
                    chunk = os.read(fd, 4096) if r else b''
                except OSError:
                    chunk = b''
                if not chunk:
                    break
                out += chunk
            os.waitpid(pid, 0)
            os.close(fd)
            return out.decode().replace('\r\n', '\n').splitlines()

        paged = on_tty('ids')
        self.assertTrue(paged and all(line.startswith('PAGED:') for line in paged), paged)
        plain = on_tty('ids', '--no-pager')
        self.assertTrue(plain and not any(line.startswith('PAGED:') for line in plain), plain)
        self.assertTrue(all(line.startswith('PAGED:') for line in on_tty('status')))

    def test_ids(self):
        for val, n in ((1, 3), (2, 1)):
            for seq in range(n):
                self.injector.send(PLAIN, IDX, val, seq=seq, data=b'id')
        wait_for(lambda: f'{IDX} 2 ' in ' '.join(self.ok('ids').stdout.split()), what='the ids to show')
        objects = self.client.managed_objects()
        want = sorted(({'idx': p[ID_IFACE]['Idx'], 'val': p[ID_IFACE]['Val'], 'name': p[ID_IFACE]['Name'],
                        'registered': p[ID_IFACE]['Registered'], 'received_messages': p[ID_IFACE]['ReceivedMessages']}
                       for p in objects.values() if ID_IFACE in p), key=lambda o: (o['idx'], o['val']))
        for user in ('root', 'admin', 'nobody'):
            with self.subTest(user=user):
                self.assertEqual(json.loads(self.ok('ids', '--json=short', user=user).stdout), want)
                self.assertEqual(json.loads(self.ok('ids', '--json=pretty', user=user).stdout), want)
                lines = self.ok('ids', user=user).stdout.splitlines()
                self.assertEqual(lines[0].split(), ['IDX', 'VAL', 'NAME', 'REGISTERED', 'RECEIVED'])
                self.assertEqual(lines[-1], f'{len(want)} ids listed.')
                rows = [line.split() for line in lines[1:-2]]
                self.assertIn(['1', '1', 'cn_proc', 'yes', '0'], rows)
                self.assertIn([str(IDX), '1', '-', 'no', '3'], rows)
                self.assertIn([str(IDX), '2', '-', 'no', '1'], rows)
                bare = self.ok('ids', '--no-legend', user=user).stdout.splitlines()
                self.assertEqual([line.split() for line in bare], rows)

    def shown_everywhere(self, streams):
        """Sends markers (seq from 900000) to IDX:1 until every cnctl has shown one: all of them are
        subscribed, or hold their stream, and miss nothing sent after."""
        seq = [900000]

        def seen():
            self.injector.send(PLAIN, IDX, 1, seq=seq[0], data=b'marker')
            seq[0] += 1
            time.sleep(0.1)
            return all(any(MARKER_TEXT in line or MARKER_HEX in line for line in list(s.lines)) for s in streams)
        wait_for(seen, what='every cnctl to show a marker')

    def test_monitor_json_is_the_signals(self):
        """Message and Messages, as the D-Bus client sees them; only the ids asked for. Through a
        stream, which has no batches, every one is a Message."""
        singles = self.client.subscribe('Message', iface=ID_IFACE, path_namespace=f'{ID_PATH_PREFIX}/{IDX}')
        batches = self.client.subscribe('Messages', iface=ID_IFACE, path_namespace=f'{ID_PATH_PREFIX}/{IDX}')
        streams = {(user, via): self.stream('monitor', '--json=short', f'--via={via}', f'{IDX}:1', f'{IDX}:3', user=user)
                   for user in ('root', 'admin', 'nobody') for via in ('stream', 'signals')}
        every = self.stream('monitor', '--json=short', user='nobody')
        self.shown_everywhere(list(streams.values()) + [every])
        sent = []
        for i in range(60):
            group, val = (PLAIN, BATCHED)[i % 2], 1 + i % 3
            data = os.urandom(i % 40)
            self.injector.send(group, IDX, val, seq=i, ack=i * 7, flags=i, data=data)
            sent.append((val, i))
        self.client.pump(lambda: sum(1 for m in singles if m[2][2] < 900000) + sum(len(b[2][0]) for b in batches)
                         == 60)

        want = []
        for path, member, args in [m for m in singles if m[2][2] < 900000] + batches:
            if member == 'Message':
                idx, val, seq, ack, flags, data = args
                want.append({'signal': 'Message', 'idx': idx, 'val': val, 'seq': seq, 'ack': ack, 'flags': flags,
                             'data': bytes(data).hex()})
            else:
                val = int(path.rsplit('/', 1)[1])
                for seq, ack, flags, data in args[0]:
                    want.append({'signal': 'Messages', 'idx': IDX, 'val': val, 'seq': seq, 'ack': ack,
                                 'flags': flags, 'data': bytes(data).hex()})
        want.sort(key=lambda o: o['seq'])
        mine = [w for w in want if w['val'] in (1, 3)]
        for (user, via), s in streams.items():
            with self.subTest(user=user, via=via):
                expected = mine if via == 'signals' else [dict(w, signal='Message') for w in mine]
                s.wait_lines(lambda lines: len(unmarked(lines)) >= len(mine))
                self.assertEqual(sorted(map(json.loads, unmarked(s.lines)), key=lambda o: o['seq']), expected)
                self.assertEqual(s.stop(), 0)
                self.assertEqual(s.stderr, '')
        every.wait_lines(lambda lines: len([o for o in map(json.loads, unmarked(lines)) if o['idx'] == IDX]) >= 60)
        # Without ids: a stream of every id, whose messages are all Message.
        self.assertEqual(sorted((o for o in map(json.loads, unmarked(every.lines)) if o['idx'] == IDX),
                                key=lambda o: o['seq']), [dict(w, signal='Message') for w in want])
        self.assertEqual({o['signal'] for o in want}, {'Message', 'Messages'})

    def test_monitor_text(self):
        for via in ('stream', 'signals'):
            with self.subTest(via=via):
                self.check_monitor_text(via)

    def check_monitor_text(self, via):
        s = self.stream('monitor', f'--via={via}', str(IDX), user='nobody')
        bare = self.stream('monitor', f'--via={via}', '--no-legend', f'{IDX}:5', f'{IDX}:1', user='nobody')
        s.wait_lines(lambda lines: len(lines) >= 1)
        self.shown_everywhere([bare])
        self.injector.send(PLAIN, IDX, 5, seq=77, ack=88, flags=0x12, data=b'hello, world!\x00\x01')
        self.injector.send(BATCHED, IDX, 6, seq=78, ack=89, flags=0, data=b'ab')
        s.wait_lines(lambda lines: len(unmarked(lines)) >= 3)
        bare.wait_lines(lambda lines: len(unmarked(lines)) >= 1)
        lines, bare_lines = unmarked(s.lines), unmarked(bare.lines)
        self.assertEqual(lines[0].split(), ['TIME', 'ID', 'SEQ', 'ACK', 'FLAGS', 'LEN', 'DATA'])
        self.assertRegex(lines[1], rf'^\d\d:\d\d:\d\d\.\d{{6}} {IDX}:5 +77 +88 0x0012 +15  '
                                   r'68 65 6c 6c 6f 2c 20 77\.\.\.  hello, w$')
        self.assertRegex(lines[2], rf'^\d\d:\d\d:\d\d\.\d{{6}} {IDX}:6 +78 +89 0x0000 +2  61 62 +ab$')
        self.assertRegex(bare_lines[0], rf' {IDX}:5 +77 ')
        self.assertEqual(s.stop(), 0)
        self.assertEqual(bare.stop(), 0)

    def test_monitor_10000_in_order(self):
        """cnctl prints nothing until subscribed: once a marker shows, nothing after it is missed."""
        n = 10000
        s = self.stream('monitor', '--json=short', str(IDX), user='nobody')

        def seen_marker():
            self.injector.send(PLAIN, IDX, 2, data=b'marker')
            time.sleep(0.1)
            return any('"val":2,' in line for line in list(s.lines))
        wait_for(seen_marker, what='cnctl to show a marker')
        before = self.counters()
        subprocess.run([os.path.join(BUILD_DIR, 'tests', 'helpers', 'cn-inject'), str(PLAIN), str(IDX), '1',
                        str(n), '16', '10000', '1000'], check=True, capture_output=True)
        wait_for(lambda: self.counters()['ReceivedMessages'] - before['ReceivedMessages'] >= n, timeout=60,
                 what='cnd to receive the stream')

        def accounted():
            c = self.counters()
            got = sum(1 for line in list(s.lines) if '"val":1,' in line)
            return got + c['KernelDroppedMessages'] + c['BusDroppedMessages'] - \
                before['KernelDroppedMessages'] - before['BusDroppedMessages'] >= n
        wait_for(accounted, timeout=120, what='cnctl to show the stream')
        time.sleep(0.5)
        self.assertEqual(s.stop(), 0)
        after = self.counters()
        self.assertEqual((after['KernelDroppedMessages'], after['BusDroppedMessages']),
                         (before['KernelDroppedMessages'], before['BusDroppedMessages']), 'cnd lost messages')
        got = [o for o in s.objects() if o.get('val') == 1]
        self.assertEqual([o['seq'] for o in got], list(range(1000, 1000 + n)))
        for o in got:
            # cn-inject's data starts with the seq, little-endian.
            self.assertEqual(int.from_bytes(bytes.fromhex(o['data'])[:4], 'little'), o['seq'])
            self.assertEqual((o['signal'], o['idx'], len(o['data'])), ('Message', IDX, 32))

    def test_monitor_stream_prints_what_signals_print(self):
        """The same messages through a stream and through signals: the same lines, the same JSON
        objects (on a group without batches, where both say Message)."""
        runs = {(via, mode): self.stream('monitor', f'--via={via}', f'--json={mode}', '--no-legend', f'{IDX}:1',
                                         str(IDX + 1), user='nobody')
                for via in ('stream', 'signals') for mode in ('off', 'short')}
        self.shown_everywhere(runs.values())
        n = 40
        for i in range(n):
            self.injector.send(PLAIN, IDX + i % 2, 1 + i % 3, seq=i, ack=i * 5, flags=i, data=os.urandom(i % 20))
        count = sum(1 for i in range(n) if i % 2 == 1 or i % 3 == 0)
        out = {}
        for key, s in runs.items():
            s.wait_lines(lambda lines: len(unmarked(lines)) >= count)
            self.assertEqual(s.stop(), 0)
            self.assertEqual(s.stderr, '')
            lines = unmarked(s.lines)
            self.assertEqual(len(lines), count, lines)
            # Text: all but the time, which is when cnctl printed the line.
            out[key] = [json.loads(line) for line in lines] if key[1] == 'short' else \
                [line.split(' ', 1)[1] for line in lines]
        self.assertEqual(out['stream', 'off'], out['signals', 'off'])
        self.assertEqual(out['stream', 'short'], out['signals', 'short'])
        self.assertEqual([o['seq'] for o in out['stream', 'short']], [i for i in range(n) if i % 2 or i % 3 == 0])

    def test_stream_ends_when_cnd_stops(self):
        """cnd stopping closes every stream: cnctl says so and exits 1, without waiting for it."""
        s = self.stream('monitor', str(IDX), user='nobody')
        t = self.stream('proc', user='nobody')
        s.wait_lines(lambda lines: len(lines) >= 1)         # the legend: the stream is held
        t.wait_lines(lambda lines: len(lines) >= 1)
        self.cnd.stop()
        self.cnd = Daemon(self.bus)         # nothing left for the cleanup to stop
        for x in (s, t):
            x.proc.wait(60)
            self.assertEqual(x.stop(), 1)
            self.assertEqual(x.stderr.splitlines()[-1:], ['cnd stopped; the stream ended.'], x.stderr)

    def test_stream_shows_cnd_leaving_and_coming_back(self):
        s = self.stream('monitor', '--via=signals', '--json=short', str(IDX), user='nobody')
        t = self.stream('proc', '--via=signals', user='nobody')
        t.wait_lines(lambda lines: len(lines) >= 1)

        # Subscribed once a message shows (on a loaded machine that may take a few).
        def seen_one():
            self.injector.send(PLAIN, IDX, 1, data=b'a')
            time.sleep(0.1)
            return len(s.lines) >= 1
        wait_for(seen_one, what='cnctl to show a message')

        def owner_changes(count):
            s.wait_lines(lambda lines: sum('"NameOwnerChanged"' in line for line in lines) >= count)
            return [o for o in s.objects() if o['signal'] == 'NameOwnerChanged']
        self.cnd.stop()
        gone = owner_changes(1)[0]
        t.wait_lines(lambda lines: any('cnd stopped' in line for line in lines))
        self.assertEqual((gone['name'], gone['new_owner']), (BUS_NAME, ''))

        self.cnd = Daemon(self.bus, self.CONFIG)
        self.cnd.start()
        back = owner_changes(2)[1]
        self.assertEqual(back['old_owner'], '')
        self.assertTrue(back['new_owner'].startswith(':'))
        self.injector.send(PLAIN, IDX, 1, data=b'b')
        s.wait_lines(lambda lines: '"NameOwnerChanged"' not in lines[-1] and '"data":"62"' in lines[-1])
        # Nothing of the message stream in between: every line before the first change is a message.
        objects = s.objects()
        first = objects.index(gone)
        self.assertEqual({o['signal'] for o in objects[:first]}, {'Message'})
        self.assertEqual(objects[first + 1], back)
        t.wait_lines(lambda lines: any('cnd started again' in line for line in lines))
        self.assertEqual(s.stop(), 0)
        self.assertEqual(t.stop(), 0)

    def test_stream_ends_when_the_bus_goes(self):
        s = self.stream('monitor', '--via=signals', user='nobody')
        s.wait_lines(lambda lines: len(lines) >= 1)
        self.cnd.stop()
        self.cnd = Daemon(self.bus)         # nothing left for the cleanup to stop
        for p in self.bus.procs:
            p.kill()
        s.proc.wait(20)
        self.assertEqual(s.stop(), 1)
        self.assertEqual(s.stderr, 'The system bus closed the connection.\n')

    def join_proc(self):
        """cn_proc answers on group 1. Joining it, cnd subscribes and waits for an answer of its own
        (whether the kernel filters per socket): requests go out once that is settled."""
        self.client.call('JoinGroup', (1,), '(u)')
        wait_for(lambda: self.client.get('Listening', path=PROC_PATH, iface=PROC_IFACE), what='cnd to listen')
        if proc_kernel_filters():
            wait_for(lambda: self.client.get('KernelFilter', path=PROC_PATH, iface=PROC_IFACE),
                     what="cnd to find the kernel's filter")
        # A kernel before 6.6: no filter, and nothing to wait for.

    def test_send_and_request(self):
        self.join_proc()
        for user in ('root', 'admin'):
            with self.subTest(user=user):
                self.assertRegex(self.ok('send', '1:1', LISTEN, user=user).stdout,
                                 r'^Sent 4 bytes to 1:1 with seq \d+, ack \d+\.\n$')
                self.assertEqual(self.ok('send', '1:1', LISTEN, '-q', user=user).stdout, '')
                sent = json.loads(self.ok('send', '1:1', LISTEN, '--json=short', user=user).stdout)
                self.assertEqual(sorted(sent), ['ack', 'seq'])

                reply = json.loads(self.ok('request', '1:1', LISTEN, '--json=pretty', user=user).stdout)
                self.assertEqual(sorted(reply), ['ack', 'data', 'seq'])
                data = bytes.fromhex(reply['data'])
                self.assertEqual(len(data), 40)                     # struct proc_event
                self.assertEqual(int.from_bytes(data[:4], 'little'), 0)   # PROC_EVENT_NONE: the ack
                self.assertEqual(reply['data'], reply['data'].lower())

                text = self.ok('request', '1:1', '01 00 00 00', '--timeout=5000', user=user).stdout.splitlines()
                self.assertRegex(text[0], r'^Reply from 1:1: seq \d+, ack \d+, 40 bytes:$')
                self.assertRegex(text[1], r'^00000000  00 00 00 00 ')
                self.assertEqual(len(text), 4)

    def test_data_from_file_and_stdin(self):
        self.join_proc()
        with tempfile.TemporaryDirectory() as d:
            os.chmod(d, 0o755)
            path = os.path.join(d, 'listen')
            with open(path, 'wb') as f:
                f.write(bytes.fromhex(LISTEN))
            os.chmod(path, 0o644)
            for user in ('root', 'admin'):
                with self.subTest(user=user):
                    reply = json.loads(self.ok('request', '1:1', '@' + path, '--json=short', user=user).stdout)
                    self.assertEqual(len(bytes.fromhex(reply['data'])), 40)
                    reply = json.loads(self.ok('request', '1:1', '@-', '--json=short', user=user,
                                               input='\x01\x00\x00\x00').stdout)
                    self.assertEqual(len(bytes.fromhex(reply['data'])), 40)
            self.fails('send', '1:1', '@' + os.path.join(d, 'missing'),
                       pattern=r'^Failed to read DATA from .*/missing: No such file or directory$')

    def test_errors_from_cnd_in_words(self):
        self.fails('send', f'{IDX}:1', '00', pattern=rf'^Connector id {IDX}:1 is not registered in the kernel\. '
                                                      r"'cnctl ids' lists the registered ids\.$")
        self.fails('request', f'{IDX}:1', '00', user='admin', pattern=r'is not registered in the kernel')
        self.fails('request', '1:1', GARBAGE, '--timeout=200',
                   pattern=r'^No reply from connector id 1:1 \(seq \d+, ack \d+\)\. --timeout=MS waits longer, '
                           r'up to 60000 ms\.$')
        self.fails('request', '1:1', LISTEN, '--timeout=60001', pattern=r'^cnd refused the arguments: Timeout ')
        self.fails('send', '1:1', '00' * 16365, pattern=r'^cnd refused the arguments: Data of 16365 bytes')
        self.fails('join', '40', pattern=r'^cnd refused the arguments: Group 40 is out of range 1\.\.32\.$')
        self.fails('join', '0', user='admin', pattern=r'^cnd refused the arguments: Group 0 is out of range')

    def test_join_leave(self):
        for user, group in (('root', SPARE), ('admin', SPARE + 2)):
            with self.subTest(user=user):
                self.assertEqual(self.ok('join', group, user=user).stdout, '')
                self.assertIn(group, self.client.get('Groups'))
                self.assertEqual(json.loads(self.ok('leave', group, '--json=short', user=user).stdout), {})
                self.assertNotIn(group, self.client.get('Groups'))
                self.assertEqual(json.loads(self.ok('join', group, '--json=pretty', user=user).stdout), {})
                self.assertEqual(self.ok('leave', group, user=user).stdout, '')

    def test_reload(self):
        for user in ('root', 'admin'):
            with self.subTest(user=user):
                self.cnd.write_config(self.CONFIG.replace(f'Groups={PLAIN} {BATCHED}', f'Groups={PLAIN}'))
                self.assertEqual(self.ok('reload', user=user).stdout, '')
                self.assertEqual(self.client.get('Groups'), [PLAIN])
                self.cnd.write_config(self.CONFIG)
                self.assertEqual(json.loads(self.ok('reload', '--json=short', user=user).stdout), {})
                self.assertEqual(self.client.get('Groups'), [PLAIN, BATCHED])
                self.cnd.write_config(self.CONFIG + 'Bogus=1\n')
                self.fails('reload', user=user, pattern=r"^cnd kept its old configuration, the new one is invalid: "
                                                        r".*cnd\.conf:\d+: .*Bogus")
                self.assertEqual(self.client.get('Groups'), [PLAIN, BATCHED])
        self.cnd.write_config(self.CONFIG)

    def test_admin_commands_denied_to_others_in_words(self):
        rule = (r'^Permission denied: only root and members of group cnd-admin may {} \(the group of cnd\'s '
                r'D-Bus policy, which \[Bus\] AdminGroup= in cnd\.conf must name too\)\.$')
        for args, what in ((('send', '1:1', LISTEN), 'send to 1:1'),
                           (('request', '1:1', LISTEN), 'send a request to 1:1'),
                           (('join', SPARE), f'join group {SPARE}'), (('leave', PLAIN), f'leave group {PLAIN}'),
                           (('reload',), "reload cnd's configuration")):
            for mode in ('off', 'short'):
                with self.subTest(args=args, json=mode):
                    p = self.fails(*args, f'--json={mode}', user='nobody', pattern=rule.format(re.escape(what)))
                    self.assertEqual(p.stdout, '')
        self.assertEqual(self.client.get('Groups'), [PLAIN, BATCHED])


class CnctlAdminGroupUnset(CndTestCase):
    """The policy lets the group through, cnd does not: the same words, which name both halves."""
    CONFIG = f'[Connector]\nGroups={PLAIN}\nScanIntervalSec=0\n'

    def test_member_denied_by_cnd_itself(self):
        gid = ensure_group(ADMIN_GROUP)
        p = run('join', SPARE, address=self.bus.address, user='nobody', groups=(gid,))
        self.assertEqual(p.returncode, 1)
        self.assertIn('[Bus] AdminGroup= in cnd.conf must name too', p.stderr)
        self.assertEqual(self.client.get('Groups'), [PLAIN])


class CnctlProc(CndTestCase):
    CONFIG = '[Connector]\nGroups=1\nScanIntervalSec=0\nReceiveBufferSize=64M\n'

    def proc_signals(self):
        return self.client.subscribe(None, iface=PROC_IFACE, path=PROC_PATH)

    def wanted(self, signals, pid):
        names = {'Fork': ('parent_pid', 'parent_tgid', 'child_pid', 'child_tgid'), 'Exec': ('pid', 'tgid'),
                 'Exit': ('pid', 'tgid', 'exit_code', 'exit_signal', 'parent_pid', 'parent_tgid')}
        out = []
        for _, member, args in signals:
            if member in names and pid in (args[0], args[2] if member == 'Fork' else None):
                out.append(dict(zip(('signal',) + names[member] + ('cpu', 'timestamp_ns'), (member,) + tuple(args))))
        return out

    def test_proc_json_is_the_signals(self):
        signals = self.proc_signals()
        streams = {user: self.stream_proc('--json=short', '--kinds=fork,exec,exit', user=user)
                   for user in ('root', 'nobody')}
        only_exit = self.stream_proc('--json=short', '--kinds=exit', user='nobody')
        time.sleep(1.0)
        p = subprocess.Popen(['/bin/sh', '-c', 'exit 3'])
        p.wait()
        self.client.pump(lambda: any(m == 'Exit' and a[0] == p.pid for _, m, a in signals))
        want = self.wanted(signals, p.pid)
        self.assertEqual([w['signal'] for w in want], ['Fork', 'Exec', 'Exit'])
        for user, s in list(streams.items()) + [('exit only', only_exit)]:
            with self.subTest(user=user):
                mine = want if user != 'exit only' else want[2:]

                def of_p(objs):
                    # The Proc signals; root gets the Processes interface's Started/Exited too.
                    return [o for o in objs if o['signal'] in PROC_SIGNALS and
                            p.pid in (o.get('pid'), o.get('child_pid'))]
                s.wait_lines(lambda lines: len(of_p(map(json.loads, lines))) >= len(mine))
                self.assertEqual(of_p(s.objects()), mine)
                if user == 'exit only':
                    self.assertEqual({o['signal'] for o in s.objects()} - {'Exited'}, {'Exit'})
                self.assertEqual(s.stop(), 0)
                # nobody may not have the process details: one note says so.
                if user != 'root':
                    self.assertEqual(s.stderr.count('Note:'), 1, s.stderr)

    def stream_proc(self, *args, user='root'):
        s = Stream('proc', *args, address=self.bus.address, user=user)
        self.addCleanup(lambda: s.proc.poll() is None and s.stop())
        return s

    def test_proc_text(self):
        s = self.stream_proc(user='nobody')
        quiet = self.stream_proc('-q', '--no-legend', '--kinds=exit', user='nobody')
        s.wait_lines(lambda lines: len(lines) >= 1)
        time.sleep(1.0)
        p = subprocess.Popen(['/bin/sh', '-c', 'kill -TERM $$'])
        p.wait()
        q = subprocess.Popen(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'true'])
        q.wait()
        s.wait_lines(lambda lines: any(re.search(rf' exit +{q.pid} ', line) for line in lines))
        quiet.wait_lines(lambda lines: any(re.search(rf' exit +{q.pid} ', line) for line in lines))
        self.assertEqual(s.lines[0].split(), ['TIME', 'EVENT', 'PID', 'PPID', 'INFO'])
        lines = '\n'.join(s.lines)
        me = os.getpid()
        self.assertRegex(lines, rf'(?m)^\d\d:\d\d:\d\d\.\d{{6}} fork +{p.pid} +{me}  $')
        self.assertRegex(lines, rf'(?m)^\S+ exec +{p.pid} +-  $')
        self.assertRegex(lines, rf'(?m)^\S+ exit +{p.pid} +{me}  killed by SIGTERM$')
        self.assertRegex(lines, rf'(?m)^\S+ uid +{q.pid} +-  ruid 65534 euid 65534$')
        self.assertRegex(lines, rf'(?m)^\S+ gid +{q.pid} +-  rgid 65534 egid 65534$')
        self.assertRegex(lines, rf'(?m)^\S+ exit +{q.pid} +{me}  exited 0$')
        self.assertEqual(s.stop(), 0)
        self.assertEqual(s.stderr.count('Note:'), 1, s.stderr)
        self.assertEqual(quiet.stop(), 0)
        self.assertEqual(quiet.stderr, '')
        self.assertEqual({line.split()[1] for line in quiet.lines}, {'exit'})

    def test_not_listening_is_noted(self):
        self.client.call('LeaveGroup', (1,), '(u)')
        s = self.stream_proc(user='nobody')
        s.wait_lines(lambda lines: len(lines) >= 1)
        self.assertEqual(s.stop(), 0)
        self.assertIn('Note: cnd is not listening to process events (group 1 is not joined): cnctl join 1', s.stderr)


class CnctlProcLoss(CndTestCase):
    """Loss where it happens: a stream's lost records; on signals an Overrun and a LostEvents step."""
    CONFIG = '[Connector]\nGroups=1\nScanIntervalSec=0\nReceiveBufferSize=4K\n'

    def storm_while_stopped(self):
        """3000 forks while cnd cannot read: its 4K socket overflows, the kernel drops events."""
        allowed = storm_timeout(3000)
        self.cnd.signal(signal.SIGSTOP)
        try:
            subprocess.run([FORK_STORM, '3000'], check=True, capture_output=True, timeout=allowed)
        finally:
            self.cnd.signal(signal.SIGCONT)

    def test_loss_shows_in_the_stream_as_lost_records(self):
        """A stream's lost records: one line each where the loss happened, how many and why."""
        s = Stream('proc', '--kinds=exec', address=self.bus.address, user='nobody')
        self.addCleanup(lambda: s.proc.poll() is None and s.stop())
        s.wait_lines(lambda lines: len(lines) >= 1)         # the legend: the stream is held
        before = self.counters()
        self.storm_while_stopped()
        pattern = re.compile(r'^-- (\d+) messages lost: the kernel dropped them before cnd read them '
                             r'\(of every id; not all need be this stream\'s\) --$')
        s.wait_lines(lambda lines: any(pattern.match(line) for line in lines), timeout=30, what='a lost line')
        after = self.counters()
        self.assertEqual(s.stop(), 0)
        told = sum(int(m.group(1)) for m in map(pattern.match, s.lines) if m)
        self.assertGreater(told, 0)
        self.assertLessEqual(told, after['KernelDroppedMessages'] - before['KernelDroppedMessages'])
        self.assertNotIn('Overrun', '\n'.join(s.lines))

    def test_loss_shows_in_the_signals(self):
        s = Stream('proc', '--via=signals', '--json=short', '--kinds=exec', address=self.bus.address, user='nobody')
        self.addCleanup(lambda: s.proc.poll() is None and s.stop())
        time.sleep(1.0)
        lost_before = self.client.get('LostEvents', path=PROC_PATH, iface=PROC_IFACE)
        self.storm_while_stopped()
        s.wait_lines(lambda lines: any('"Overrun"' in line for line in lines), timeout=30, what='an Overrun')
        after = self.counters()
        overruns = [o for o in s.objects() if o.get('signal') == 'Overrun']
        self.assertGreater(overruns[-1]['kernel_dropped'], 0)
        self.assertLessEqual(overruns[-1]['kernel_dropped'], after['KernelDroppedMessages'])

        # LostEvents has no signal: cnctl reads it every second and shows each step.
        lost = self.client.get('LostEvents', path=PROC_PATH, iface=PROC_IFACE)
        if lost == lost_before:
            print('cnd counted no gaps in cn_proc\'s numbering this time (seen with cnd under valgrind)')
        else:
            s.wait_lines(lambda lines: any(f'"lost_events":{lost}' in line for line in lines) or
                         any(json.loads(line).get('lost_events', 0) > lost for line in lines),
                         timeout=10, what='the LostEvents step')
            steps = [o['lost_events'] for o in s.objects() if o.get('property') == 'LostEvents']
            self.assertEqual(steps, sorted(set(steps)))
            self.assertGreater(steps[-1], lost_before)
        self.assertEqual(s.stop(), 0)


class CnctlForkStorm(CndTestCase):
    """`cnctl proc` as nobody sees every fork and exit of a storm that a raw root listener sees."""
    CONFIG = '[Connector]\nGroups=1\nScanIntervalSec=0\nReceiveBufferSize=64M\n'
    N = 20000

    def test_storm(self):
        truth = ProcListener()
        self.addCleanup(truth.close)
        s = Stream('proc', '--json=short', '--kinds=fork,exit', address=self.bus.address, user='nobody')
        self.addCleanup(lambda: s.proc.poll() is None and s.stop())
        before = self.counters()
        lost_before = self.client.get('LostEvents', path=PROC_PATH, iface=PROC_IFACE)
        stream_lost_before = self.client.get('StreamLostRecords')
        # Subscribed once a fork of ours shows.
        wait_for(lambda: subprocess.run(['true']).returncode == 0 and
                 any(f'"parent_tgid":{os.getpid()},' in line for line in list(s.lines)), what='cnctl to subscribe')

        allowed = storm_timeout(self.N)
        storm = subprocess.Popen([FORK_STORM, str(self.N)], stdout=subprocess.PIPE, text=True)
        storm.communicate(timeout=allowed)
        wait_for(lambda: sum(1 for p, _ in truth.forks if p == storm.pid) >= self.N, timeout=allowed,
                 what='the raw listener to see the storm')
        children = {c for p, c in truth.forks if p == storm.pid}

        def raw_counts():
            # The storm's forks, and the exits of its children (a sanitizer's runtime may add some).
            return (sum(1 for p, _ in truth.forks if p == storm.pid),
                    sum(1 for pid in list(truth.exits) if pid in children))

        def counts():
            objs = [json.loads(line) for line in list(s.lines)]
            forks = sum(1 for o in objs if o.get('signal') == 'Fork' and o['parent_tgid'] == storm.pid)
            exits = sum(1 for o in objs if o.get('signal') == 'Exit' and o['pid'] in children)
            return forks, exits

        def lost():
            # The stream's own loss (its socket full) counts in StreamLostRecords.
            after = self.counters()
            return (self.client.get('LostEvents', path=PROC_PATH, iface=PROC_IFACE) - lost_before) + \
                (after['KernelDroppedMessages'] - before['KernelDroppedMessages']) + \
                (after['BusDroppedMessages'] - before['BusDroppedMessages']) + \
                (self.client.get('StreamLostRecords') - stream_lost_before)
        wait_for(lambda: sum(counts()) + lost() >= sum(raw_counts()), timeout=300, interval=1.0,
                 what='cnctl to show the storm')
        time.sleep(1.0)
        self.assertEqual(s.stop(), 0)
        (forks, exits), (raw_forks, raw_exits) = counts(), raw_counts()
        print(f'storm of {self.N}: raw forks {raw_forks} exits {raw_exits}; cnctl forks {forks} '
              f'exits {exits}; cnd reported lost {lost()}')
        self.assertEqual(truth.drops(), 0, 'the reference listener itself lost events')
        self.assertGreaterEqual(raw_forks, self.N)
        if lost() == 0:
            self.assertEqual((forks, exits), (raw_forks, raw_exits))
        else:
            self.assertLessEqual(raw_forks - forks + raw_exits - exits, lost())


class CnctlProcesses(CndTestCase):
    """With the Processes interface: root and its reader group see programs, arguments, units and
    exit details; everyone else the public events and one note that says who may see more."""
    START = False
    CONFIG = f'[Connector]\nGroups=1\nScanIntervalSec=0\n[Processes]\nReaderGroup={READER_GROUP}\n'

    def setUp(self):
        self.reader_gid = ensure_group(READER_GROUP)
        super().setUp()
        self.cnd.write_config(self.CONFIG)
        self.cnd.start()

    def stream(self, *args, user='root'):
        groups = (self.reader_gid,) if user == 'reader' else ()
        s = Stream('proc', *args, address=self.bus.address, user='nobody' if user == 'reader' else user,
                   groups=groups)
        self.addCleanup(lambda: s.proc.poll() is None and s.stop())
        return s

    def wait_subscribed(self, *streams):
        """Runs a program until every stream has shown its exec."""
        def seen():
            p = subprocess.Popen(['true'])
            p.wait()
            time.sleep(0.1)
            return all(any(f' {p.pid} ' in line or f'"pid":{p.pid},' in line for line in list(s.lines))
                       for s in streams)
        wait_for(seen, what='the streams to subscribe')

    def test_details_json_are_the_signals(self):
        started = self.client.subscribe('Started', iface=PROCESSES_IFACE, path=PROCESSES_PATH)
        exited = self.client.subscribe('Exited', iface=PROCESSES_IFACE, path=PROCESSES_PATH)
        streams = {user: self.stream('--json=short', '--kinds=exec,exit', user=user)
                   for user in ('root', 'reader', 'nobody')}
        self.wait_subscribed(*streams.values())
        # Alive long enough for cnd to read its details, even under valgrind.
        p = subprocess.Popen(['/bin/sh', '-c', 'sleep 1; exit 3'])
        p.wait()
        self.client.pump(lambda: any(a[0] == p.pid and a[5] == 3 for _, m, a in exited if m == 'Exited'))
        self.client.settle(1.0)
        names = {'Started': ('pid', 'ppid', 'uid', 'exe', 'argv', 'unit', 'cgroup', 'start_time', 'timestamp_ns',
                             'where'),
                 'Exited': ('pid', 'ppid', 'uid', 'exe', 'unit', 'exit_code', 'exit_signal', 'core_dumped',
                            'runtime_ns', 'start_time', 'timestamp_ns', 'where')}
        want = [dict(zip(('signal',) + names[m], (m,) + tuple(args)))
                for _, m, args in sorted(started + exited, key=lambda s: s[2][-2]) if args[0] == p.pid]
        self.assertIn({'signal': 'Started', 'argv': ['/bin/sh', '-c', 'sleep 1; exit 3']},
                      [{'signal': w['signal'], 'argv': w['argv']} for w in want if 'argv' in w])

        def details(objs):
            return [o for o in objs if o['signal'] in names and o['pid'] == p.pid]
        for user, s in streams.items():
            with self.subTest(user=user):
                if user == 'nobody':
                    s.wait_lines(lambda lines: any(f'"signal":"Exit","pid":{p.pid},' in line for line in lines))
                    self.assertEqual(details(s.objects()), [])
                else:
                    s.wait_lines(lambda lines: len(details(map(json.loads, lines))) >= len(want))
                    self.assertEqual(sorted(details(s.objects()), key=lambda o: o['timestamp_ns']), want)
                self.assertEqual(s.stop(), 0)
                notes = [line for line in s.stderr.splitlines() if line.startswith('Note:')]
                if user == 'nobody':
                    self.assertEqual(notes, [f'Note: programs, arguments and units are shown for your own processes; '
                                             f'for everyone\'s to root and members of group {READER_GROUP} only '
                                             f'([Processes] ReaderGroup= in cnd.conf).'])
                else:
                    self.assertEqual(notes, [])

    def test_stream_shows_a_user_their_own_processes(self):
        """Through a stream nobody gets the details of nobody's processes, beside the public events
        of everyone's, and no one else's details."""
        s = self.stream('--json=short', '--kinds=exec,exit', user='nobody')
        self.wait_subscribed(s)
        pw = unprivileged_user()
        # Alive long enough for cnd to read their details, even under valgrind.
        mine = subprocess.Popen(['setpriv', f'--reuid={pw.pw_uid}', f'--regid={pw.pw_gid}', '--clear-groups',
                                 '/bin/sh', '-c', 'sleep 1; exit 3'])
        theirs = subprocess.Popen(['/bin/sh', '-c', 'sleep 1; exit 4'])
        mine.wait()
        theirs.wait()

        def of(pid, objs):
            return [o for o in objs if o.get('pid') == pid]
        s.wait_lines(lambda lines: any(o['signal'] == 'Exited' for o in of(mine.pid, map(json.loads, lines))) and
                     any(o['signal'] == 'Exit' for o in of(theirs.pid, map(json.loads, lines))))
        self.assertEqual(s.stop(), 0)
        objs = s.objects()
        started = [o for o in of(mine.pid, objs) if o['signal'] == 'Started']
        self.assertIn((pw.pw_uid, ['/bin/sh', '-c', 'sleep 1; exit 3']), [(o['uid'], o['argv']) for o in started])
        exited = [o for o in of(mine.pid, objs) if o['signal'] == 'Exited']
        self.assertEqual([(o['uid'], o['exit_code'], o['exit_signal']) for o in exited], [(pw.pw_uid, 3, -1)])
        # The public events of both; the details of nobody's alone.
        self.assertIn('Exec', {o['signal'] for o in of(mine.pid, objs)})
        self.assertEqual({o['signal'] for o in of(theirs.pid, objs)}, {'Exec', 'Exit'})
        self.assertEqual({o['uid'] for o in objs if o['signal'] in ('Started', 'Exited')}, {pw.pw_uid})

    def test_details_text(self):
        reader, nobody = self.stream(user='reader'), self.stream(user='nobody')
        self.wait_subscribed(reader, nobody)
        p = subprocess.Popen(['/bin/sh', '-c', 'sleep 1; kill -TERM $$'])
        p.wait()
        me = os.getpid()
        for s in (reader, nobody):
            s.wait_lines(lambda lines: any(re.search(rf' exit +{p.pid} ', line) for line in lines))
        time.sleep(0.5)
        mine = '\n'.join(line for line in reader.lines if re.search(rf'^\S+ \w+ +{p.pid} ', line))
        # exec and exit come from Started and Exited, with the details, instead of Exec and Exit.
        self.assertRegex(mine, rf'(?m)^\S+ fork +{p.pid} +{me}  $')
        self.assertRegex(mine, rf'(?m)^\S+ exec +{p.pid} +{me}  uid 0: /bin/sh -c sleep 1; kill -TERM \$\$$')
        self.assertRegex(mine, rf'(?m)^\S+ exit +{p.pid} +{me}  killed by SIGTERM after \d+\.\d{{3}} s: /\S+sh$')
        self.assertNotRegex(mine, rf'(?m)^\S+ exec +{p.pid} +-  $')
        self.assertNotRegex(mine, rf'(?m)^\S+ exit +{p.pid} +{me}  killed by SIGTERM$')
        theirs = '\n'.join(line for line in nobody.lines if re.search(rf'^\S+ \w+ +{p.pid} ', line))
        self.assertRegex(theirs, rf'(?m)^\S+ exec +{p.pid} +-  $')
        self.assertRegex(theirs, rf'(?m)^\S+ exit +{p.pid} +{me}  killed by SIGTERM$')
        self.assertEqual(reader.stop(), 0)
        self.assertEqual(nobody.stop(), 0)

    def test_hostile_names_are_escaped(self):
        """nobody names a process (prctl PR_SET_NAME, three times: 15 bytes each at most) and runs
        a program whose path and arguments carry every class of control a terminal acts on: C0
        (ESC, BEL, newline), DEL, C1 (CSI, OSC) and the bidi controls U+202A..U+202E and
        U+2066..U+2069. `cnctl proc` as root shows none of them raw: text shows each of their
        bytes as \\xNN, with nobody's uid, and its JSON decodes to the strings cnd sent, which
        are the originals (none holds a backslash or bytes that are not UTF-8)."""
        comms = ['a\x1b\x07\n\x7f\u009b\u009d\u202a\u202b', 'b\u202c\u202d\u202e\u2066', 'c\u2067\u2068\u2069']
        self.assertEqual(set(''.join(comms)) - set('abc'), set(controls.EVERY))
        self.assertLessEqual(max(len(c.encode()) for c in comms), 15)
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        os.chmod(tmp, 0o755)            # nobody runs the program in it
        exe = os.path.join(tmp, f'ev{controls.EVERY}il\u009b2Jexe')
        shutil.copy('/bin/sh', exe)
        args = [f'{name}:{chars}.' for name, chars in controls.CLASSES.items()]
        args.append('x\x1b]0;pwned\x07\u009b2J\u202eevil')
        argv = [exe, '-c', 'sleep 1; exit 0'] + args
        child = (f'import ctypes, os\n'
                 f'for name in {[c.encode() for c in comms]!r}:\n'
                 f'    ctypes.CDLL(None).prctl(15, name, 0, 0, 0) == 0 or os._exit(99)\n'
                 f'os.execv({os.fsencode(exe)!r}, {[os.fsencode(a) for a in argv]!r})\n')
        text, js = self.stream('--kinds=comm,exec,exit'), self.stream('--json=short', '--kinds=comm,exec,exit')
        self.wait_subscribed(text, js)
        nobody = unprivileged_user()
        p = subprocess.Popen(['setpriv', f'--reuid={nobody.pw_uid}', f'--regid={nobody.pw_gid}', '--clear-groups',
                              '/usr/bin/python3', '-c', child], cwd='/')
        self.assertEqual(p.wait(), 0)
        text.wait_lines(lambda lines: any(re.search(rf' exit +{p.pid} ', line) for line in lines))
        js.wait_lines(lambda lines: any(f'"signal":"Exited","pid":{p.pid},' in line for line in lines))
        time.sleep(0.5)
        self.assertEqual(text.stop(), 0)
        self.assertEqual(js.stop(), 0)

        for s in (text, js):
            for line in s.lines:
                self.assertEqual(controls.raw_controls(line), [], line)

        exe_shown = controls.shown(exe)
        argv_shown = ' '.join(controls.shown(a) for a in argv)
        # Written out once, not only through shown(): the bytes of ESC, BEL, C1 CSI and U+202E.
        self.assertIn('x\\x1b]0;pwned\\x07\\xc2\\x9b2J\\xe2\\x80\\xaeevil', argv_shown)
        mine = '\n'.join(line for line in text.lines if re.search(rf'^\S+ \w+ +{p.pid} ', line))
        for comm in comms:
            self.assertRegex(mine, rf'(?m)^\S+ comm +{p.pid} +-  name {re.escape(controls.shown(comm))}$')
        self.assertRegex(mine, rf'(?m)^\S+ comm +{p.pid} +-  name a\\x1b\\x07\\x0a\\x7f\\xc2\\x9b\\xc2\\x9d'
                               rf'\\xe2\\x80\\xaa\\xe2\\x80\\xab$')
        self.assertRegex(mine, rf'(?m)^\S+ exec +{p.pid} +\d+  uid {nobody.pw_uid}: {re.escape(argv_shown)}( \[.*\])?$')
        self.assertRegex(mine, rf'(?m)^\S+ exit +{p.pid} +\d+  exited 0 after \d+\.\d{{3}} s: '
                               rf'{re.escape(exe_shown)}( \[.*\])?$')

        objs = [o for o in js.objects() if o.get('pid') == p.pid]
        self.assertEqual([o['comm'] for o in objs if o['signal'] == 'Comm'], comms)
        self.assertIn((nobody.pw_uid, argv), [(o['uid'], o['argv']) for o in objs if o['signal'] == 'Started'])
        self.assertEqual([(o['uid'], o['exe']) for o in objs if o['signal'] == 'Exited'], [(nobody.pw_uid, exe)])
        # As cnctl(1) writes them: DEL, C1 and bidi as \\u escapes (json-c writes C0 so already).
        for escape in ('\\u007f', '\\u009b', '\\u009d', '\\u202a', '\\u202e', '\\u2066', '\\u2069', '\\u001b'):
            self.assertIn(escape, '\n'.join(js.lines))

    def test_status_shows_the_table(self):
        for user, groups in (('root', ()), ('nobody', (self.reader_gid,)), ('nobody', ())):
            with self.subTest(user=user, groups=groups):
                text = run('status', address=self.bus.address, user=user, groups=groups)
                got = json.loads(run('status', '--json=short', address=self.bus.address, user=user,
                                     groups=groups).stdout)['processes']
                want = self.client.get_all(path=PROCESSES_PATH, iface=PROCESSES_IFACE)
                if got is None:
                    # Kept from this user: the row says by whom it may be read.
                    self.assertNotEqual(user, 'root')
                    self.assertRegex(text.stdout, rf'(?m)^ +Processes: only for root and members of group '
                                                  rf'{READER_GROUP} ')
                    continue
                self.assertRegex(text.stdout, r'(?m)^ +Processes: \d+ tracked, \d+ unresolved, \d+ resyncs$')
                self.assertEqual(sorted(got), sorted(re.sub(r'(?<=[a-z0-9])([A-Z])', r'_\1', k).lower()
                                                     for k in want))
                self.assertGreater(got['tracked'], 0)       # this test's own processes at least


class CnctlStreamLimits(CndTestCase):
    """A stream refused for a limit: said in words, with the way out."""
    CONFIG = f'[Connector]\nGroups={PLAIN}\nScanIntervalSec=0\n[Streams]\nMaxPerUser=1\n'

    def test_limits_exceeded_in_words(self):
        first = Stream('monitor', str(IDX), address=self.bus.address, user='nobody')
        self.addCleanup(lambda: first.proc.poll() is None and first.stop())
        first.wait_lines(lambda lines: len(lines) >= 1)     # the legend: the stream is held
        p = run('monitor', f'{IDX}:1', address=self.bus.address, user='nobody')
        self.assertEqual((p.returncode, p.stdout), (1, ''))
        self.assertRegex(p.stderr, r'^cnd hands out no more streams now: uid \d+ holds 1 streams already.*'
                                   r' Close one, or follow its signals with --via=signals\.\n$')
        self.assertEqual(first.stop(), 0)


# On dbus-broker too, where the bus decides the outcome: its policy, its errors when cnd is
# not running, its passing of a stream's descriptor, its delivery of signals to cnctl. The
# admin group, loss and a fork storm are cnd's and the kernel's: on one bus.
class CnctlStreamLimitsBroker(CnctlStreamLimits):
    BUS_KIND = 'dbus-broker'


class NotRunningBroker(NotRunning):
    BUS_KIND = 'dbus-broker'


class CnctlBroker(Cnctl):
    BUS_KIND = 'dbus-broker'


class CnctlProcBroker(CnctlProc):
    BUS_KIND = 'dbus-broker'


class CnctlProcessesBroker(CnctlProcesses):
    BUS_KIND = 'dbus-broker'


if __name__ == '__main__':
    main()
