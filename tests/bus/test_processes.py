#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""org.cnd.Connector1.Processes: Started and Exited for programs the tests run, the table's
methods, its privacy, resynchronisation after real loss, and the journal entries."""

import importlib.util
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from cndtest import (BUILD_DIR, ID_IFACE, ID_PATH_PREFIX, MANAGER_PATH, NAMES, PROCESSES_IFACE, PROCESSES_PATH,
                     SOURCE_DIR, CndTestCase, Daemon, ensure_group, main, reachable, run_as, spawn_as, storm_timeout,
                     take_journal_socket, wait_for)
import controls

FORK_STORM = os.path.join(BUILD_DIR, 'tests', 'helpers', 'fork-storm')
READER_GROUP = 'cnd-readers'        # the meson option reader_group's default
EXAMPLE = os.path.join(SOURCE_DIR, 'man', 'examples', 'program-watch.py')
ERROR_NO_SUCH_PROCESS = NAMES['ERROR_NO_SUCH_PROCESS']


def as_nobody(*argv):
    """argv run as nobody, without groups: the attacker."""
    pw = pwd.getpwnam('nobody')
    return ['setpriv', f'--reuid={pw.pw_uid}', f'--regid={pw.pw_gid}', '--clear-groups'] + list(argv)


def stat_start_time(pid):
    with open(f'/proc/{pid}/stat', 'rb') as f:
        text = f.read()
    return int(text[text.rindex(b')') + 2:].split()[19])      # field 22


def children_of(pid):
    found = []
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open(f'/proc/{d}/stat', 'rb') as f:
                    text = f.read()
            except OSError:
                continue
            if int(text[text.rindex(b')') + 2:].split()[1]) == pid:
                found.append(int(d))
    return found


def cgroup_of(pid):
    with open(f'/proc/{pid}/cgroup') as f:
        for line in f:
            if line.startswith('0::'):
                return line[3:].rstrip('\n')
    return ''


class ProcessesCase(CndTestCase):
    CONFIG = '[Connector]\nGroups=1\nScanIntervalSec=0\n'

    def setUp(self):
        super().setUp()
        self.started = self.client.subscribe('Started', iface=PROCESSES_IFACE, path=PROCESSES_PATH)
        self.exited = self.client.subscribe('Exited', iface=PROCESSES_IFACE, path=PROCESSES_PATH)
        # Subscribed once a program of ours shows (slowly in a guest under emulation, while cnd's
        # first scan of /proc is still going on).
        wait_for(lambda: self._ran_and_seen(), timeout=90, what='the first Started')

    def _ran_and_seen(self):
        p = subprocess.Popen(['/bin/true'])
        p.wait()
        return self.find(self.started, lambda a: a[0] == p.pid, timeout=3, required=False) is not None

    def find(self, got, pred, timeout=10, required=True):
        found = []

        def seen():
            found[:] = [a for _, _, a in got if pred(a)]
            return bool(found)
        try:
            self.client.pump(seen, timeout=timeout)
        except AssertionError:
            if required:
                raise
            return None
        return found[0]

    def call(self, method, args=None, signature=None):
        return self.client.call(method, args, signature, path=PROCESSES_PATH, iface=PROCESSES_IFACE)

    def prop(self, name):
        return self.client.get(name, path=PROCESSES_PATH, iface=PROCESSES_IFACE)


class Processes(ProcessesCase):
    def test_started_and_exited(self):
        odd = [b'x\ny', b'\xff\xfe', b'a\\b', b'caf\xc3\xa9']
        p = subprocess.Popen([b'/bin/sh', b'-c', b'read x; exit 3'] + odd, stdin=subprocess.PIPE)
        start_time = stat_start_time(p.pid)
        cgroup = cgroup_of(p.pid)
        st = self.find(self.started, lambda a: a[0] == p.pid)
        pid, ppid, uid, exe, argv, unit, cg, start, ts, where = st
        self.assertEqual(ppid, os.getpid())
        self.assertEqual(uid, os.getuid())
        self.assertEqual(exe, os.path.realpath('/bin/sh'))
        self.assertEqual(argv, ['/bin/sh', '-c', 'read x; exit 3', 'x\ny', '\\xff\\xfe', 'a\\\\b', 'café'])
        self.assertEqual(unit, '')          # no systemd on this host
        self.assertEqual(cg, cgroup)
        self.assertEqual(start, start_time)
        self.assertGreater(ts, 0)
        # Where it runs (test_where has the rest): in ours, no user unit, machine nor container.
        self.assertEqual({k: where[k] for k in ('user_unit', 'machine', 'container')},
                         {'user_unit': '', 'machine': '', 'container': ''})
        self.assertEqual(set(where), {'user_unit', 'machine', 'container', 'pid_namespace', 'mount_namespace',
                                      'namespace_pid'})
        # The table has it.
        got = self.call('GetProcess', (p.pid,), '(u)')
        self.assertEqual(got, (os.getpid(), os.getuid(), exe, argv, '', cgroup, start_time, where))
        listed = [e for e in self.call('ListProcesses')[0] if e[0] == p.pid]
        self.assertEqual(listed, [(p.pid, os.getpid(), os.getuid(), exe, '', start_time, where)])
        p.communicate(b'\n')
        ex = self.find(self.exited, lambda a: a[0] == p.pid)
        self.assertEqual(tuple(ex[:8]), (p.pid, os.getpid(), os.getuid(), exe, '', 3, -1, False))
        self.assertEqual(ex[11], where)
        self.assertGreater(ex[8], 0)        # runtime_ns
        self.assertEqual(ex[9], start_time)
        self.assertGreater(ex[10], ts)
        self.assertEqual(self.client.call_error('GetProcess', (p.pid,), '(u)', path=PROCESSES_PATH,
                                                iface=PROCESSES_IFACE)[0], ERROR_NO_SUCH_PROCESS)
        # The reads were made by cnd's reader thread, not by its event loop.
        task = f'/proc/{self.cnd.proc.pid}/task'
        threads = set()
        for t in os.listdir(task):
            with open(f'{task}/{t}/comm') as f:
                threads.add(f.read().strip())
        self.assertIn('cnd-proc-read', threads)

    def test_killed_by_sigterm(self):
        p = subprocess.Popen(['/bin/sleep', '60'])
        self.find(self.started, lambda a: a[0] == p.pid)
        p.terminate()
        p.wait()
        ex = self.find(self.exited, lambda a: a[0] == p.pid)
        self.assertEqual(tuple(ex[5:8]), (-1, signal.SIGTERM, False))
        self.assertEqual(ex[3], '/usr/bin/sleep')

    def test_core_dump(self):
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.Popen(['/bin/sh', '-c', 'ulimit -c unlimited; kill -SEGV $$'], cwd=d)
            _, status = os.waitpid(p.pid, 0)
            p.returncode = 0
        ex = self.find(self.exited, lambda a: a[0] == p.pid)
        self.assertEqual(ex[5], -1)
        self.assertEqual(ex[6], signal.SIGSEGV)
        # Whether the kernel wrote a core depends on core_pattern: the flag says what waitpid says.
        self.assertEqual(ex[7], os.WCOREDUMP(status))

    def test_fork_only_child_has_parents_program(self):
        p = subprocess.Popen(['/bin/sh', '-c', '(while :; do sleep 1; done) & read x; kill $!'],
                             stdin=subprocess.PIPE)
        self.find(self.started, lambda a: a[0] == p.pid)
        wait_for(lambda: children_of(p.pid), what='the subshell')
        child = children_of(p.pid)[0]
        self.assertEqual(open(f'/proc/{child}/comm').read().strip(), 'sh')
        got = self.call('GetProcess', (child,), '(u)')
        self.assertEqual(got[0], p.pid)
        self.assertEqual(got[2], os.path.realpath('/bin/sh'))
        self.assertEqual(got[6], stat_start_time(child))
        # Its parent's where, but for its pid in its namespace, which is its own.
        self.assertEqual(got[7], {k: v for k, v in self.call('GetProcess', (p.pid,), '(u)')[7].items()
                                  if k != 'namespace_pid'})
        p.communicate(b'\n')
        ex = self.find(self.exited, lambda a: a[0] == child)
        self.assertEqual(ex[3], os.path.realpath('/bin/sh'))
        self.assertEqual(tuple(ex[5:7]), (-1, signal.SIGTERM))

    def test_threads_make_no_entries(self):
        code = ('import threading, sys\n'
                't = threading.Thread(target=lambda: print(threading.get_native_id(), flush=True))\n'
                't.start(); t.join(); sys.stdin.readline()\n')
        p = subprocess.Popen(['/usr/bin/python3', '-c', code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
        tid = int(p.stdout.readline())
        self.find(self.started, lambda a: a[0] == p.pid)
        self.assertNotEqual(tid, p.pid)
        self.assertEqual(self.client.call_error('GetProcess', (tid,), '(u)', path=PROCESSES_PATH,
                                                iface=PROCESSES_IFACE)[0], ERROR_NO_SUCH_PROCESS)
        self.assertEqual(self.call('GetProcess', (p.pid,), '(u)')[2], os.path.realpath('/usr/bin/python3'))
        p.communicate('\n')
        self.find(self.exited, lambda a: a[0] == p.pid)
        self.client.settle(0.5)
        self.assertEqual([a for _, _, a in self.exited + self.started if a[0] == tid], [])

    def test_no_such_process(self):
        name, _ = self.client.call_error('GetProcess', (0,), '(u)', path=PROCESSES_PATH, iface=PROCESSES_IFACE)
        self.assertEqual(name, ERROR_NO_SUCH_PROCESS)

    def test_table_starts_from_proc(self):
        # This test process was running before cnd: the first scan found it.
        got = self.call('GetProcess', (os.getpid(),), '(u)')
        self.assertEqual(got[6], stat_start_time(os.getpid()))
        self.assertEqual(got[2], os.path.realpath('/proc/self/exe'))
        self.assertGreater(self.prop('Tracked'), 1)

    def test_gone_before_read_is_unresolved(self):
        """cnd stopped while a program runs and is reaped: its exec event is read after it is
        gone, so its Started carries no exe and counts in Unresolved."""
        before = self.prop('Unresolved')
        self.cnd.signal(signal.SIGSTOP)
        try:
            p = subprocess.Popen(['/bin/true'])
            p.wait()
        finally:
            self.cnd.signal(signal.SIGCONT)
        st = self.find(self.started, lambda a: a[0] == p.pid)
        self.assertEqual(st[3], '')
        self.assertEqual(st[4], [])
        self.assertGreater(self.prop('Unresolved'), before)
        self.find(self.exited, lambda a: a[0] == p.pid)

    def test_resync_after_loss(self):
        """The kernel drops while cnd is stopped: a resync reports what changed meanwhile."""
        self.cnd.stop()
        self.cnd = Daemon(self.bus, self.CONFIG + 'ReceiveBufferSize=4K\n')
        self.cnd.start()
        wait_for(lambda: self._ran_and_seen(), timeout=20, what='Started again')
        old = subprocess.Popen(['/bin/sleep', '600'])
        self.find(self.started, lambda a: a[0] == old.pid)
        resyncs = self.prop('Resyncs')
        allowed = storm_timeout(3000)
        self.cnd.signal(signal.SIGSTOP)
        try:
            # The storm first fills cnd's queue, so that the kernel drops old's exit and new's
            # exec for certain: only the resync can report them.
            subprocess.run([FORK_STORM, '3000'], check=True, capture_output=True, timeout=allowed)
            old.kill()
            old.wait()
            new = subprocess.Popen(['/bin/sleep', '600'])
            self.addCleanup(new.kill)
        finally:
            self.cnd.signal(signal.SIGCONT)
        wait_for(lambda: self.prop('Resyncs') > resyncs, timeout=30, what='a resync')
        self.assertGreater(self.counters()['KernelDroppedMessages'], 0)
        # Each exactly once, from its event or from the resync (timestamp_ns 0).
        self.find(self.exited, lambda a: a[0] == old.pid)
        self.find(self.started, lambda a: a[0] == new.pid, timeout=30)
        self.client.settle(1.0)
        self.assertEqual(len([a for _, _, a in self.exited if a[0] == old.pid]), 1)
        self.assertEqual(len([a for _, _, a in self.started if a[0] == new.pid]), 1)
        # timestamp_ns is next to last in both, before where.
        resynced = [a for _, _, a in self.started + self.exited if a[-2] == 0]
        self.assertTrue(resynced, 'no signal flagged as resynchronised')
        for a in self.exited:
            if a[-2] == 0:
                self.assertEqual((a[5], a[6]), (-1, -1))
        # The table then matches /proc, but for what changed while looking.
        try:
            wait_for(lambda: self._table_matches_proc(), timeout=30, what='the table to match /proc')
        except AssertionError:
            raise AssertionError(f'missing from the table, in the table but gone: {self.mismatch}')

    def test_queue_overflow_resyncs(self):
        """Events that come faster than /proc is read for them overflow the queue they wait in
        (made tiny here by a test hook): the table misses them, a resync reports what changed,
        and the table then matches /proc."""
        self.cnd.stop()
        self.cnd = Daemon(self.bus, self.CONFIG)
        self.cnd.start(env={'CND_TEST_PROCESS_QUEUE_MAX': '2'})
        wait_for(lambda: self._ran_and_seen(), timeout=20, what='Started again')
        resyncs = self.prop('Resyncs')
        subprocess.run([FORK_STORM, '2000', '4', '/bin/true'], check=True, capture_output=True,
                       timeout=storm_timeout(2000, 4, '/bin/true'))
        wait_for(lambda: 'faster than /proc can be read' in self.cnd.log_text(), timeout=30,
                 what='the overflow to be logged')
        wait_for(lambda: self.prop('Resyncs') > resyncs, timeout=30, what='a resync')
        try:
            wait_for(lambda: self._table_matches_proc(), timeout=30, what='the table to match /proc')
        except AssertionError:
            raise AssertionError(f'missing from the table, in the table but gone: {self.mismatch}')
        # And it goes on: a program run now has its Started, with its details.
        p = subprocess.Popen(['/bin/sleep', '600'])
        self.addCleanup(p.kill)
        got = self.find(self.started, lambda a: a[0] == p.pid, timeout=20)
        self.assertEqual(got[3], '/usr/bin/sleep')

    def _table_matches_proc(self):
        def alive(pid):
            # A zombie has exited (its Exited went out) and only waits for its parent.
            try:
                with open(f'/proc/{pid}/stat') as f:
                    return f.read().rsplit(')', 1)[1].split()[0] not in ('Z', 'X')
            except (OSError, IndexError):
                return False

        def scan():
            return {int(d) for d in os.listdir('/proc') if d.isdigit() and alive(d)}
        before = scan()
        table = {e[0] for e in self.call('ListProcesses')[0]}
        after = scan()
        stable = before & after
        self.mismatch = (sorted(stable - table - {os.getpid()}), sorted(table - (before | after)))
        return not self.mismatch[0] and not self.mismatch[1]

    def test_properties_and_introspection(self):
        props = self.client.get_all(path=PROCESSES_PATH, iface=PROCESSES_IFACE)
        self.assertEqual(set(props), {'Tracked', 'Unresolved', 'Resyncs', 'StringBytes', 'StringsCut',
                                      'StringsStripped', 'JournalFailed', 'JournalWritten'})
        self.assertEqual(props['JournalFailed'], 0)


class ProgramWatchEscape(unittest.TestCase):
    """man/examples/program-watch.py's escape(), for the unit it shows: systemd's unit names never
    hold a control, so no run of the example reaches it with one. Each class, and bytes that
    were not UTF-8, come out as cnctl(1) shows them."""

    def test_escape(self):
        spec = importlib.util.spec_from_file_location('program_watch', EXAMPLE)
        example = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(example)
        for name, chars in controls.CLASSES.items():
            with self.subTest(name=name):
                self.assertEqual(example.escape(f'a{chars}b'), controls.shown(f'a{chars}b'))
                self.assertEqual(controls.raw_controls(example.escape(chars)), [])
        self.assertEqual(example.escape('a\x1bb'), 'a\\x1bb')
        self.assertEqual(example.escape('\u009b\u202e'), '\\xc2\\x9b\\xe2\\x80\\xae')
        self.assertEqual(example.escape(b'a\xffb'.decode('utf-8', 'surrogateescape')), 'a\\xffb')
        self.assertEqual(example.escape('caf\u00e9 a\\b'), 'caf\u00e9 a\\b')


class Privacy(CndTestCase):
    EXAMPLE_ARGS = []
    CONFIG = f'[Connector]\nGroups=1\nScanIntervalSec=0\n[Processes]\nReaderGroup={READER_GROUP}\n'

    def setUp(self):
        self.gid = ensure_group(READER_GROUP)
        super().setUp()
        # cnd's table is up once a program of ours shows.
        got = self.client.subscribe('Started', iface=PROCESSES_IFACE, path=PROCESSES_PATH)

        def seen():
            p = subprocess.run(['/bin/true'])
            return p.returncode == 0 and (self.client.settle(0.2) or True) and bool(got)
        wait_for(seen, timeout=20, what='a Started')

    def record(self, user, groups=()):
        p = spawn_as(user, self.bus.address, 'processes-record', groups=groups)
        self.addCleanup(lambda: p.poll() is None and p.kill())
        self.assertEqual(p.stdout.readline().strip(), 'ready')
        return p

    def finish(self, p):
        out, err = p.communicate('', timeout=60)
        return json.loads(out.strip().splitlines()[-1])['ok']

    def test_who_gets_what(self):
        nobody = self.record('nobody')
        reader = self.record('nobody', groups=[self.gid])
        time.sleep(0.5)
        q = subprocess.Popen(['/bin/sh', '-c', 'exit 4'])
        q.wait()
        self.client.settle(1.5)
        nobody, reader = self.finish(nobody), self.finish(reader)
        self.assertIn(q.pid, nobody['execs'])          # the public Proc signals still reach nobody
        self.assertEqual(nobody['started'], [])
        self.assertEqual(nobody['exited'], [])
        self.assertIn(q.pid, reader['execs'])
        self.assertIn(q.pid, [a[0] for a in reader['started']])
        self.assertIn(q.pid, [a[0] for a in reader['exited']])

    def test_methods(self):
        for method, sig, args in (('GetProcess', '(u)', [1]), ('ListProcesses', '', []), ('DumpProcesses', '', [])):
            r = run_as('nobody', self.bus.address, 'call-at', PROCESSES_PATH, PROCESSES_IFACE, method, sig,
                       json.dumps(args))
            self.assertEqual(r.get('error'), 'org.freedesktop.DBus.Error.AccessDenied', r)
            r = run_as('nobody', self.bus.address, 'call-at', PROCESSES_PATH, PROCESSES_IFACE, method, sig,
                       json.dumps(args), groups=[self.gid])
            self.assertIn('ok', r)
            r = run_as('root', self.bus.address, 'call-at', PROCESSES_PATH, PROCESSES_IFACE, method, sig,
                       json.dumps(args))
            self.assertIn('ok', r)
        # Counters stay public.
        self.assertIn('ok', run_as('nobody', self.bus.address, 'get', 'Tracked', PROCESSES_PATH, PROCESSES_IFACE))

    def watch_program(self, program, args=('0.5',), as_attacker=False):
        """man/examples/program-watch.py as a member of the reader group, given program, while
        /bin/true and program (with args; as nobody if as_attacker) run: what it
        printed, by pid, and the pids of the two."""
        pw = pwd.getpwnam('nobody')
        watcher = subprocess.Popen(['setpriv', f'--reuid={pw.pw_uid}', f'--regid={pw.pw_gid}',
                                    f'--groups={self.gid}', '/usr/bin/python3', reachable(EXAMPLE), program,
                                    '--timeout', '3'] + self.EXAMPLE_ARGS,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address))
        self.addCleanup(lambda: watcher.poll() is None and watcher.kill())
        self.assertEqual(watcher.stdout.readline().strip(), 'ready')
        true = subprocess.Popen(['/bin/true', 'not-this-one'])
        # setpriv execs the program in its own pid: program-watch sees the program's Started.
        ours = subprocess.Popen(as_nobody(program, *args) if as_attacker else [program, *args], cwd='/')
        true.wait()
        ours.wait()
        out, err = watcher.communicate(timeout=60)
        self.assertEqual(watcher.returncode, 0, err)
        seen = {}
        for line in out.split('\n')[:-1]:      # other programs on the machine may run sleep too
            word, pid, unit, argv = line.split(' ', 3)
            seen[int(pid)] = (word, unit, json.loads(argv))
        return seen, out, ours.pid, true.pid

    def test_example_program_watch(self):
        """man/examples/program-watch.py, run as a member of the reader group, prints the starts
        of the program it is given and only those: the bus filters on arg3 (exe)."""
        sleep = os.path.realpath('/bin/sleep')
        seen, out, ours, true = self.watch_program(sleep)
        self.assertEqual(seen.get(ours), ('started', '-', [sleep, '0.5']), out)
        self.assertNotIn(true, seen)

    def test_example_program_watch_quotes(self):
        """A program whose path holds a single quote, a backslash and a byte that is not UTF-8:
        program-watch.py is given the path as the file system names it, and its match rule
        carries it as cnd's exe does (the backslash doubled, the byte as \\xff: org.cnd.Connector1(5),
        Strings from /proc), quoted as D-Bus match rules are (close, \\', reopen; a backslash is
        literal); the bus matches it."""
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        program = os.path.join(tmp, "it's a \\ sleep" + os.fsdecode(b'\xff'))
        shutil.copy('/bin/sleep', program)
        exe = os.path.join(tmp, "it's a \\\\ sleep\\xff")
        seen, out, ours, true = self.watch_program(program)
        self.assertEqual(seen.get(ours), ('started', '-', [exe, '0.5']), out)
        self.assertNotIn(true, seen)

    def test_example_program_watch_escapes(self):
        """nobody runs a program whose path and arguments carry controls of every class (C0: ESC,
        BEL, newline; DEL; C1: CSI, OSC; the bidi controls): program-watch.py's match rule carries
        the path as it is and the bus matches it; the line it prints holds no control raw, its
        arguments are JSON whose \\u escapes (DEL's too) decode to the originals."""
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        os.chmod(tmp, 0o755)            # nobody runs the program in it
        program = os.path.join(tmp, f'sh{controls.EVERY}')
        shutil.copy('/bin/sh', program)
        args = ['-c', 'sleep 0.5'] + [f'{name}:{chars}' for name, chars in controls.CLASSES.items()]
        seen, out, ours, true = self.watch_program(program, args, as_attacker=True)
        self.assertEqual(seen.get(ours), ('started', '-', [program] + args), out)
        self.assertNotIn(true, seen)
        for line in out.split('\n'):
            self.assertEqual(controls.raw_controls(line), [], line)
        for escape in ('\\u001b', '\\u0007', '\\n', '\\u007f', '\\u009b', '\\u009d', '\\u202a', '\\u2069'):
            self.assertIn(escape, out)

    def test_cnd_checks_callers_itself(self):
        """A bus that lets everyone call (a policy that admits the group by mistake) still meets
        cnd's own check: a member of the policy's group that ReaderGroup= does not name is refused."""
        self.cnd.stop()
        self.cnd = Daemon(self.bus, '[Connector]\nGroups=1\nScanIntervalSec=0\n')
        self.cnd.start()
        r = run_as('nobody', self.bus.address, 'call-at', PROCESSES_PATH, PROCESSES_IFACE, 'ListProcesses', '',
                   '[]', groups=[self.gid])
        self.assertEqual(r.get('error'), 'org.freedesktop.DBus.Error.AccessDenied', r)


class NoArguments(ProcessesCase):
    CONFIG = '[Connector]\nGroups=1\nScanIntervalSec=0\n[Processes]\nArguments=no\n'

    def test_argv_empty(self):
        p = subprocess.Popen(['/bin/sh', '-c', 'read x', 'secret'], stdin=subprocess.PIPE)
        st = self.find(self.started, lambda a: a[0] == p.pid)
        self.assertEqual(st[4], [])
        self.assertEqual(st[3], os.path.realpath('/bin/sh'))
        self.assertEqual(self.call('GetProcess', (p.pid,), '(u)')[3], [])
        p.communicate(b'\n')


class JournalCase(ProcessesCase):
    """cnd with a journal socket of the test's own (or the private bus's)."""
    EXEC_ID = 'cf37f9b53745429d9843cded7e23b768'
    EXIT_ID = '22f38a8d2a994a47973d8fb72888aac9'

    def setUp(self):
        self.sink = take_journal_socket()
        super().setUp()
        if self.sink is None:
            sink = getattr(self.bus, 'journal', None)
            if sink is None:
                self.skipTest('a journal reader of someone else holds the socket')
            self.sink = sink
        else:
            self.addCleanup(self.sink.close)

    def entries(self, pid, message_id, exe=None):
        return [e for e in list(self.sink.entries)
                if e.get('MESSAGE_ID') == message_id and e.get('CND_PID') == str(pid) and
                exe in (None, e.get('CND_EXE'))]


class Journal(JournalCase):
    CONFIG = '[Connector]\nGroups=1\nScanIntervalSec=0\n[Journal]\nEvents=exec exit\n'
    ARGUMENTS = False

    def test_entries(self):
        p = subprocess.Popen([b'/bin/sh', b'-c', b'read x; exit 5', b'a\nb', b'', b'c d'], stdin=subprocess.PIPE)
        self.find(self.started, lambda a: a[0] == p.pid)
        p.communicate(b'\n')
        self.find(self.exited, lambda a: a[0] == p.pid)
        wait_for(lambda: self.entries(p.pid, self.EXEC_ID) and self.entries(p.pid, self.EXIT_ID),
                 what='the journal entries')
        ex = self.entries(p.pid, self.EXEC_ID)[0]
        sh = os.path.realpath('/bin/sh')
        self.assertEqual(ex['CND_EXE'], sh)
        self.assertEqual(ex['CND_PPID'], str(os.getpid()))
        self.assertEqual(ex['CND_UID'], str(os.getuid()))
        if self.ARGUMENTS:
            # One field per argument, in order: spaces, a newline and an empty one stay apart.
            self.assertEqual(ex.all('CND_ARGV'), ['/bin/sh', '-c', 'read x; exit 5', 'a\nb', '', 'c d'])
            self.assertEqual(ex['CND_ARGC'], '6')
        else:
            # The journal's readers are not ReaderGroup=: no arguments unless asked for.
            self.assertNotIn('CND_ARGV', ex)
            self.assertNotIn('CND_ARGC', ex)
        self.assertEqual(ex['CND_UNIT'], '')
        self.assertIn(sh, ex['MESSAGE'])
        out = self.entries(p.pid, self.EXIT_ID)[0]
        self.assertEqual(out['CND_EXIT_CODE'], '5')
        self.assertEqual(out['CND_EXIT_SIGNAL'], '-1')
        self.assertEqual(out['CND_EXE'], sh)
        self.assertGreater(int(out['CND_RUNTIME_USEC']), 0)
        self.assertEqual(self.prop('JournalFailed'), 0)
        # Every entry cnd wrote reached the sink (the machine's other programs keep adding some,
        # so the sink's count lies between two readings of cnd's).
        before = self.prop('JournalWritten')
        time.sleep(0.5)
        received = len([e for e in list(self.sink.entries) if e.get('MESSAGE_ID') in (self.EXEC_ID, self.EXIT_ID)])
        after = self.prop('JournalWritten')
        self.assertGreaterEqual(before, 2)
        self.assertLessEqual(before, received)
        self.assertLessEqual(received, after)


    def test_hostile_program_name(self):
        """nobody runs a program whose path holds a newline, an ANSI erase and a UTF-8 CSI:
        MESSAGE= shows them as text, where `journalctl -o cat` would have shown a forged line and
        cleared the screen; CND_EXE= keeps the path, CND_UID= is nobody's."""
        d = tempfile.mkdtemp(prefix='cnd-journal-')
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        path = os.path.join(d, 'x\nProcess 1 started init.\x1b[2J\u009b2A')
        shutil.copy2(os.path.realpath('/bin/sh'), path)
        nobody = pwd.getpwnam('nobody')
        p = subprocess.Popen(as_nobody(path, '-c', 'read x'), stdin=subprocess.PIPE, cwd='/')
        self.addCleanup(p.wait)
        self.addCleanup(p.communicate, b'\n')
        # setpriv execs the program in the pid it runs in: setpriv's own entry came first.
        wait_for(lambda: self.entries(p.pid, self.EXEC_ID, exe=path), what="the program's exec entry")
        ex = self.entries(p.pid, self.EXEC_ID, exe=path)[0]
        self.assertEqual(ex['CND_UID'], str(nobody.pw_uid))
        message = ex['MESSAGE']
        self.assertFalse(controls.raw_controls(message), repr(message))
        self.assertIn('x\\x0aProcess 1 started init.\\x1b[2J\\xc2\\x9b2A', message)


class JournalArguments(Journal):
    CONFIG = '[Connector]\nGroups=1\nScanIntervalSec=0\n[Journal]\nEvents=exec exit\nArguments=yes\n'
    ARGUMENTS = True


class JournalArgumentsNotBus(JournalCase):
    """Arguments for the journal and not for the bus: each follows its own Arguments=."""
    CONFIG = ('[Connector]\nGroups=1\nScanIntervalSec=0\n[Processes]\nArguments=no\n'
              '[Journal]\nEvents=exec\nArguments=yes\n')

    def test_journal_only(self):
        p = subprocess.Popen(['/bin/sh', '-c', 'read x', 'secret'], stdin=subprocess.PIPE)
        self.addCleanup(p.communicate, b'\n')
        st = self.find(self.started, lambda a: a[0] == p.pid)
        self.assertEqual(st[4], [])
        self.assertEqual(self.call('GetProcess', (p.pid,), '(u)')[3], [])
        wait_for(lambda: self.entries(p.pid, self.EXEC_ID), what='the exec entry')
        self.assertEqual(self.entries(p.pid, self.EXEC_ID)[0].all('CND_ARGV'), ['/bin/sh', '-c', 'read x', 'secret'])


class JournalRateLimit(JournalCase):
    """One user's exec loop, run as nobody: past its burst cnd suppresses its entries, not
    another user's, and says how many once its window ends."""
    BURST = 5
    CONFIG = ('[Connector]\nGroups=1\nScanIntervalSec=0\n[Journal]\nEvents=exec\n'
              f'RateLimitBurst={BURST}\nRateLimitIntervalSec=5\n')
    SUPPRESSED_ID = 'fe6147a4ef534ac0a0dd40f821c15d46'

    @staticmethod
    def run_as_user(pw, script):
        subprocess.run(['setpriv', f'--reuid={pw.pw_uid}', f'--regid={pw.pw_gid}', '--clear-groups',
                        '/bin/sh', '-c', script], check=True, timeout=60)

    def test_one_user_loop(self):
        nobody, other = pwd.getpwnam('nobody'), pwd.getpwnam('daemon')
        uid = str(nobody.pw_uid)
        # 30 programs that live long enough for cnd to read whose they are.
        self.run_as_user(nobody, 'i=0; while [ $i -lt 30 ]; do sleep 2 & i=$((i+1)); done; wait')
        self.run_as_user(other, 'sleep 1')
        wait_for(lambda: [e for e in list(self.sink.entries)
                          if e.get('MESSAGE_ID') == self.EXEC_ID and e.get('CND_UID') == str(other.pw_uid)],
                 what="the other user's entries after the loop")
        wait_for(lambda: self.summaries(uid), timeout=30, what="the summary of nobody's window")
        theirs = [e for e in list(self.sink.entries) if e.get('MESSAGE_ID') == self.EXEC_ID and e.get('CND_UID') == uid]
        self.assertEqual(len(theirs), self.BURST)
        summary = self.summaries(uid)[0]
        suppressed = int(summary['CND_SUPPRESSED'])
        # 32 programs (setpriv, whose uid cnd may read after it has changed it, the shell and 30
        # sleeps), each attributed to nobody if cnd read it in time.
        self.assertGreaterEqual(suppressed, 20)
        self.assertLessEqual(self.BURST + suppressed, 32)
        self.assertEqual(summary['MESSAGE'], f'Suppressed {suppressed} entries of uid {uid}.')
        self.assertEqual(self.prop('JournalFailed'), 0)

    def summaries(self, uid):
        return [e for e in list(self.sink.entries)
                if e.get('MESSAGE_ID') == self.SUPPRESSED_ID and e.get('CND_UID') == uid]


class JournalCap(JournalCase):
    """nobody's command lines against an entry's bounds (cnd(8), Limits): at most 16 KiB of
    fields, a value cut at 4 KiB, at most 256 CND_ARGV=, and CND_TRUNCATED= naming what was cut
    or left out (in room of its own, 128 bytes)."""
    CONFIG = '[Connector]\nGroups=1\nScanIntervalSec=0\n[Journal]\nEvents=exec\nArguments=yes\n'
    ENTRY_MAX, VALUE_MAX, ARGV_MAX, TRUNCATED_MAX = 16 * 1024, 4 * 1024, 256, 128

    def exec_as_nobody(self, args):
        """A copy of sh that nobody runs with args: its exec entry and its Started."""
        d = tempfile.mkdtemp(prefix='cnd-journal-')
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        path = os.path.join(d, 'sh')
        shutil.copy2(os.path.realpath('/bin/sh'), path)
        p = subprocess.Popen(as_nobody(path, '-c', 'read x', *args), stdin=subprocess.PIPE, cwd='/')
        self.addCleanup(p.wait)
        self.addCleanup(p.communicate, b'\n')
        # setpriv execs the program in the pid it runs in, with the same arguments: setpriv's own
        # entry came first.
        wait_for(lambda: self.entries(p.pid, self.EXEC_ID, exe=path), what="the program's exec entry")
        started = self.find(self.started, lambda a: a[0] == p.pid and a[3] == path)
        entry = self.entries(p.pid, self.EXEC_ID, exe=path)[0]
        self.assertEqual(entry['CND_UID'], str(pwd.getpwnam('nobody').pw_uid))
        return entry, started[4], [path, '-c', 'read x'] + list(args)

    def assertWithinBounds(self, entry):
        truncated = entry.size('CND_TRUNCATED')
        self.assertLessEqual(entry.size() - truncated, self.ENTRY_MAX)
        self.assertLessEqual(truncated, len('CND_TRUNCATED=') + self.TRUNCATED_MAX)
        for key in entry:
            for value in entry.all(key):
                self.assertLessEqual(len(value.encode('utf-8', 'surrogateescape')), self.VALUE_MAX, key)
        self.assertLessEqual(len(entry.all('CND_ARGV')), self.ARGV_MAX)
        self.assertIn('CND_ARGV', entry['CND_TRUNCATED'].split())

    def test_huge_command_line(self):
        """500 arguments of 1000 bytes after one of 6000: the long one cut at 4 KiB, whole
        arguments after it while the entry has room, then none."""
        args = ['a' * 6000] + [f'{i:04d}' + 'x' * 996 for i in range(500)]
        entry, argv, real = self.exec_as_nobody(args)
        print(f'a command line of {len(real)} arguments, {sum(len(a) + 1 for a in real)} bytes: an entry of '
              f'{entry.size()} bytes of fields, {len(entry.all("CND_ARGV"))} CND_ARGV, CND_ARGC={entry["CND_ARGC"]}, '
              f'CND_TRUNCATED={entry["CND_TRUNCATED"]}', flush=True)
        self.assertWithinBounds(entry)
        # CND_ARGC counts the arguments cnd read: the table's argv, 64 KiB of /proc/PID/cmdline
        # (org.cnd.Connector1(5), Strings from /proc) and "…" for the rest.
        self.assertEqual(entry['CND_ARGC'], str(len(argv)))
        self.assertEqual(argv[-1], '\u2026')
        self.assertEqual(argv[:-1], real[:len(argv) - 1])
        written = entry.all('CND_ARGV')
        self.assertEqual(written[:3], real[:3])
        self.assertEqual(written[3], 'a' * self.VALUE_MAX)
        self.assertEqual(written[4:], real[4:len(written)])
        self.assertGreater(len(written), 4)
        self.assertLess(len(written), len(argv))

    def test_many_arguments(self):
        """400 one-byte arguments: the first 256 of the command line, each whole."""
        args = [chr(ord('a') + i % 26) for i in range(400)]
        entry, argv, real = self.exec_as_nobody(args)
        self.assertWithinBounds(entry)
        self.assertEqual(argv, real)
        self.assertEqual(entry['CND_ARGC'], str(len(real)))
        self.assertEqual(entry.all('CND_ARGV'), real[:self.ARGV_MAX])


class JournalStall(JournalCase):
    """journald stops reading (the sink holds: its socket's queue fills and cnd's writing thread
    blocks in its send) while nobody runs exec loops. cnd's event loop never waits for it:
    messages injected into a group reach a subscriber whole and in order, a program's Started
    goes out, Ping and property reads are answered, JournalWritten stands still and
    JournalFailed counts the entries that found the queue full. Once the sink reads again, cnd
    writes what waited, says how many it dropped (CND_DROPPED=, as many as JournalFailed
    counted), and writes the next program's entry.
    On dbus-daemon alone: dbus-broker logs to the same socket and waits on it."""
    GROUP, IDX, INJECTED, STORM = 23, 0x4a4b, 200, 2000
    CONFIG = (f'[Connector]\nGroups=1 {GROUP}\nAcceptUserspaceSenders=yes\nScanIntervalSec=0\n'
              '[Journal]\nEvents=exec\nRateLimitBurst=0\n')
    DROPPED_ID = 'd171936dac304998802d4e29d24ac857'

    def storm_as_nobody(self):
        subprocess.run(as_nobody(reachable(FORK_STORM), str(self.STORM), '4', '/bin/true'), check=True,
                       capture_output=True, cwd='/', timeout=storm_timeout(self.STORM, 4, '/bin/true'))
        return self.STORM

    def relays(self, base):
        """INJECTED messages into the group reach a subscriber, in order."""
        got = self.client.subscribe('Message', iface=ID_IFACE, path_namespace=f'{ID_PATH_PREFIX}/{self.IDX}')
        for i in range(self.INJECTED):
            self.injector.send(self.GROUP, self.IDX, 1, seq=base + i, data=b'stall')
        self.client.pump(lambda: len(got) >= self.INJECTED, timeout=60)
        self.assertEqual([a[2] for _, _, a in got], list(range(base, base + self.INJECTED)))

    def answers(self):
        self.client.call('Ping', path=MANAGER_PATH, iface='org.freedesktop.DBus.Peer')
        self.assertIn('ReceivedMessages', self.client.get_all())
        return self.prop('JournalFailed'), self.prop('JournalWritten')

    def test_stopped_journal_stalls_nothing(self):
        failed0, written0 = self.answers()
        self.sink.hold()
        execs = 0
        # Until the queue is full: the thread is blocked, the queue holds 1024 entries, and the
        # next one is dropped. Each storm forks and execs more than the queue holds.
        deadline = time.monotonic() + 10 * storm_timeout(self.STORM, 4, '/bin/true')
        while self.prop('JournalFailed') == failed0 and time.monotonic() < deadline:
            execs += self.storm_as_nobody()
        failed1, written1 = self.answers()
        self.assertGreater(failed1, failed0)

        # The thread stays blocked: more entries are dropped, none is written, and the relay,
        # cn_proc's signals and the methods go on.
        execs += self.storm_as_nobody()
        self.relays(0)
        p = subprocess.Popen(as_nobody('/bin/sh', '-c', 'read x'), stdin=subprocess.PIPE, cwd='/')
        self.addCleanup(p.wait)
        self.find(self.started, lambda a: a[0] == p.pid and a[3] == os.path.realpath('/bin/sh'), timeout=60)
        p.communicate(b'\n')
        failed2, written2 = self.answers()
        self.assertGreater(failed2, failed1)
        self.assertEqual(written2, written1)
        print(f'journal held: {execs} execs of nobody, JournalWritten +{written2 - written0}, JournalFailed '
              f'+{failed2 - failed0}; {self.INJECTED} messages injected and relayed', flush=True)

        self.sink.release()
        wait_for(lambda: self.dropped_reports(), timeout=60, what='the report of the dropped entries')
        # It counted what it could not write: every drop is in a report.
        wait_for(lambda: sum(int(e['CND_DROPPED']) for e in self.dropped_reports()) ==
                 self.prop('JournalFailed') - failed0, timeout=60, what='the reports to cover JournalFailed')
        report = self.dropped_reports()[0]
        self.assertEqual(report['MESSAGE'], f'Dropped {report["CND_DROPPED"]} journal entries: journald did not '
                                            f'keep up.')
        q = subprocess.Popen(as_nobody('/bin/sh', '-c', 'read x'), stdin=subprocess.PIPE, cwd='/')
        self.addCleanup(q.wait)
        wait_for(lambda: self.entries(q.pid, self.EXEC_ID, exe=os.path.realpath('/bin/sh')), timeout=60,
                 what="the next program's entry")
        q.communicate(b'\n')
        failed3, written3 = self.answers()
        print(f'released: JournalWritten +{written3 - written2}, reported dropped '
              f'{sum(int(e["CND_DROPPED"]) for e in self.dropped_reports())}', flush=True)
        self.assertGreater(written3, written2 + 1024)
        self.relays(self.INJECTED)

    def dropped_reports(self):
        return [e for e in list(self.sink.entries) if e.get('MESSAGE_ID') == self.DROPPED_ID]


class ProcessesBroker(Processes):
    BUS_KIND = 'dbus-broker'


class PrivacyBroker(Privacy):
    BUS_KIND = 'dbus-broker'
    # Debian 12's dbus-broker 33 matches no argN past arg0 (bus1/dbus-broker#367).
    EXAMPLE_ARGS = ['--no-bus-filter']


class NoArgumentsBroker(NoArguments):
    BUS_KIND = 'dbus-broker'


class JournalBroker(Journal):
    BUS_KIND = 'dbus-broker'


if __name__ == '__main__':
    main()
