#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The process table's memory whatever users run: a user execs a program from a long path of
bytes that must be escaped, in a deep cgroup of such names that root delegated to them (as a
user manager's subtree is), and forks thousands of children that only wait. cnd's strings are
capped and shared by the forks, so it stays small; ListProcesses stays within the bound the bus
takes; DumpProcesses hands the whole table over in a sealed memfd."""

import fcntl
import json
import os
import pwd
import shutil
import subprocess
import tempfile

from cndtest import BUILD_DIR, BUS_NAME, PROCESSES_IFACE, PROCESSES_PATH, Gio, GLib, main, wait_for
from test_processes import ProcessesCase, children_of
from test_where import CgroupTree

HOLD = os.path.join(BUILD_DIR, 'tests', 'helpers', 'hold-processes')
MARKER = '\u2026'
ERROR_TOO_LARGE = 'org.cnd.Connector1.Error.TooLarge'
SEALS = fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_WRITE | fcntl.F_SEAL_SEAL
# Memory is the plain build's to measure, not valgrind's or ASan's.
CHECKED_BUILD = bool(os.environ.get('CND_TEST_WRAPPER') or os.environ.get('CND_TEST_SANITIZED'))

SLEEPERS = 3000
# A name of 250 bytes that are not UTF-8 (each escaped to four), and as many levels of them as
# PATH_MAX allows: some 3.8 KiB of path, 15 KiB escaped.
ODD_NAME = b'\xff' * 250
LEVELS = 15
# cnd's resident memory with the sleepers in its table, on the plain build (cnd(8)): with their
# strings copied for each, some 32 KiB a sleeper, it would take 100 MiB.
RSS_MAX_KIB = 32 * 1024


def dump_processes(client):
    """DumpProcesses: the file it hands over (an fd of ours) and its seals."""
    reply, fds = client.conn.call_with_unix_fd_list_sync(
        BUS_NAME, PROCESSES_PATH, PROCESSES_IFACE, 'DumpProcesses', None, GLib.VariantType('(h)'),
        Gio.DBusCallFlags.NONE, 60000, None, None)
    fd = fds.get(reply.unpack()[0])
    return fd, fcntl.fcntl(fd, fcntl.F_GET_SEALS)


def read_dump(fd):
    """The dump's entries, by pid; checks that nobody can write to it."""
    with open(fd, 'rb') as f:
        try:
            os.write(fd, b'x')
            raise AssertionError('the dump was writable')
        except PermissionError:
            pass
        text = f.read()
    entries = [json.loads(line) for line in text.decode().splitlines()]
    pids = [e['pid'] for e in entries]
    assert pids == sorted(pids), 'the dump is not by pid'
    return {e['pid']: e for e in entries}


class DelegatedCgroup(CgroupTree):
    """A deep cgroup of odd names made by root and handed to a user, removed at cleanup."""

    def __init__(self, case, user):
        super().__init__(case)
        path = os.path.join(self.mount, self.top).encode()
        for level in range(LEVELS + 1):
            path = path if level == 0 else os.path.join(path, ODD_NAME)
            os.mkdir(path)
            self.made.append(path)
        # Delegated as systemd does for Delegate=yes: the directory and the files that move
        # processes and enable controllers.
        for name in (b'', b'cgroup.procs', b'cgroup.threads', b'cgroup.subtree_control'):
            os.chown(os.path.join(path, name), user.pw_uid, user.pw_gid)
        self.path = path


def odd_program(case):
    """hold-processes copied to a path of odd names as long as PATH_MAX allows, which every
    user can run."""
    top = tempfile.mkdtemp(prefix='cnd-memory-')
    case.addCleanup(shutil.rmtree, top, True)
    os.chmod(top, 0o755)
    path = top.encode()
    for _ in range(LEVELS):
        path = os.path.join(path, ODD_NAME)
        os.mkdir(path, 0o755)
    program = os.path.join(path, b'hold')
    shutil.copy(HOLD, program)
    os.chmod(program, 0o755)
    return program


class Attack(ProcessesCase):
    CONFIG = '[Connector]\nGroups=1\nScanIntervalSec=0\n[Processes]\nArguments=yes\n'

    def hold_as_nobody(self, cgroup, program, n):
        """program started as nobody in cgroup, put there by root before it drops to nobody (as
        a user manager's processes are); it forks n children. Returns it and their pids."""
        nobody = pwd.getpwnam('nobody')
        code = (b'echo $$ > "$1/cgroup.procs" && exec setpriv --reuid=%d --regid=%d --clear-groups "$2" %d'
                % (nobody.pw_uid, nobody.pw_gid, n))
        holder = subprocess.Popen([b'/bin/sh', b'-c', code, b'sh', cgroup.path, program],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.addCleanup(self.stop_holder, holder)
        line = holder.stdout.readline().split()
        self.assertEqual(line, ['ready', str(n)])
        children = children_of(holder.pid)
        self.assertEqual(len(children), n)
        return holder, sorted(children)

    @staticmethod
    def stop_holder(holder):
        """Its stdin's end makes it kill and reap its children."""
        holder.stdin.close()
        try:
            holder.wait(timeout=60)
        except subprocess.TimeoutExpired:
            holder.kill()
            holder.wait()
        holder.stdout.close()

    def wait_tracked(self, pids):
        """Until the table holds the first and the last pid, and cnd has read what it queued."""
        def held(pid):
            try:
                self.call('GetProcess', (pid,), '(u)')
            except GLib.Error:
                return False
            return True
        wait_for(lambda: held(pids[0]) and held(pids[-1]), timeout=120, what='the sleepers in the table')
        self.client.settle(1.0)

    def test_odd_sleepers(self):
        pid = self.cnd.proc.pid
        rss_before = self.rss()
        cgroup = DelegatedCgroup(self, pwd.getpwnam('nobody'))
        program = odd_program(self)
        holder, sleepers = self.hold_as_nobody(cgroup, program, SLEEPERS)
        self.wait_tracked(sleepers)
        rss_after = self.rss()
        print(f'cnd RSS: {rss_before} KiB before, {rss_after} KiB with {SLEEPERS} sleepers '
              f'({(rss_after - rss_before) * 1024 / SLEEPERS:.0f} bytes each); '
              f'StringBytes {self.prop("StringBytes")}')
        if not CHECKED_BUILD:
            self.assertLess(rss_after, RSS_MAX_KIB)

        # Same cnd, still answering.
        self.assertIsNone(self.cnd.proc.poll())
        self.assertEqual(self.cnd.proc.pid, pid)
        # The strings of one sleeper cost the table once: the budget holds little.
        self.assertLess(self.prop('StringBytes'), 4 * 1024 * 1024)
        self.assertGreaterEqual(self.prop('StringsCut'), 2)

        # Each sleeper is its parent: exe and cgroup cut, the marker after them.
        got = self.call('GetProcess', (sleepers[0],), '(u)')
        ppid, uid, exe, argv, unit, cg = got[:6]
        self.assertEqual((ppid, uid), (holder.pid, pwd.getpwnam('nobody').pw_uid))
        self.assertTrue(exe.startswith('/tmp/') or exe.startswith('/'), exe)
        self.assertTrue(exe.endswith(MARKER), exe[-20:])
        self.assertLessEqual(len(exe.encode()), 4096 + len(MARKER.encode()))
        self.assertTrue(exe[:-1].endswith('\\xff'), exe[-20:])
        self.assertTrue(cg.endswith(MARKER), cg[-20:])
        self.assertLessEqual(len(cg.encode()), 4096 + len(MARKER.encode()))
        self.assertEqual(argv[1:], [str(SLEEPERS)])

        self.check_list(sleepers)
        fd, seals = dump_processes(self.client)
        self.assertEqual(seals, SEALS)
        table = read_dump(fd)
        self.assertEqual([p for p in sleepers if p not in table], [])
        self.assertEqual(table[sleepers[-1]]['exe'], exe)
        self.assertEqual(table[sleepers[-1]]['cgroup'], cg)
        self.assertEqual(table[sleepers[-1]]['argv'], argv)
        self.assertIsNone(self.cnd.proc.poll())

    def check_list(self, sleepers):
        """ListProcesses as a reader: the whole table if it fits its bound, TooLarge if not."""
        result = self.client.call_async('ListProcesses', path=PROCESSES_PATH, iface=PROCESSES_IFACE)
        self.client.pump(lambda: result, timeout=60)
        if 'error' in result:
            print('ListProcesses: TooLarge')
            self.assertEqual(result['error'], ERROR_TOO_LARGE, result)
        else:
            print(f'ListProcesses: {len(result["ok"][0])} entries')
            listed = {e[0] for e in result['ok'][0]}
            self.assertEqual([p for p in sleepers if p not in listed], [])

    def rss(self):
        with open(f'/proc/{self.cnd.proc.pid}/status') as f:
            return next(int(line.split()[1]) for line in f if line.startswith('VmRSS:'))


class TooLarge(ProcessesCase):
    """ListProcesses past its bound (lowered for the test): the documented error, and the dump
    still hands over the whole table."""
    CND_ENV = {'CND_TEST_LIST_PROCESSES_MAX': '4096'}

    def test_list_bound_and_dump(self):
        name, message = self.client.call_error('ListProcesses', path=PROCESSES_PATH, iface=PROCESSES_IFACE)
        self.assertEqual(name, ERROR_TOO_LARGE)
        self.assertIn('DumpProcesses', message)
        fd, seals = dump_processes(self.client)
        self.assertEqual(seals, SEALS)
        table = read_dump(fd)
        self.assertIn(os.getpid(), table)
        self.assertIn(self.cnd.proc.pid, table)
        self.assertEqual(table[os.getpid()]['exe'], os.path.realpath('/proc/self/exe'))
        self.assertIn('argv', table[os.getpid()])       # Arguments=yes by default
        self.assertIn('where', table[os.getpid()])


class TooLargeBroker(TooLarge):
    BUS_KIND = 'dbus-broker'


if __name__ == '__main__':
    main()
