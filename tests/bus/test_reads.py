#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""cnd's reads of /proc for the process table, made for real against what can go wrong with them:
a pid reused between an exec and cnd's read of it, and a process that holds its memory's lock so
that reading its command line never returns."""

import os
import signal
import subprocess
import tempfile
import time

import test_processes as tp
from cndtest import BUILD_DIR, ID_IFACE, ID_PATH_PREFIX, Daemon, main, reachable, wait_for

MM_STALL = os.path.join(BUILD_DIR, 'tests', 'helpers', 'mm-stall')
STALLFS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'stallfs.py')
GROUP = 21
IDX = 0x4243
# Tries at a pid of our own: anything else on the machine that forks in between takes it.
REUSE_ATTEMPTS = 20


def set_last_pid(pid):
    # The initial pid namespace's: cn_proc reports pids of that namespace, and cnd reads its /proc.
    # (A pid namespace of the test's own would set the pid inside it, not the one cnd sees.)
    with open('/proc/sys/kernel/ns_last_pid', 'w') as f:
        f.write(str(pid))


def exe_of(pid):
    try:
        return os.readlink(f'/proc/{pid}/exe')
    except OSError:
        return None


class PidReused(tp.ProcessesCase):
    def test_exec_read_after_pid_reuse(self):
        """cnd is held back (stopped) while a program execs and exits, and a new process takes its
        pid (ns_last_pid set to the pid before it) and starts a program of its own: the first exec
        event, read when cnd goes on, finds the new process, which started after that event. Its
        Started carries nothing of the new process (exe "", counted in Unresolved); the new
        process's own exec gives its own Started, and the table holds it."""
        sleep = os.path.realpath('/bin/sleep')
        for attempt in range(REUSE_ATTEMPTS):
            seen = len(self.started)
            before = self.prop('Unresolved')
            self.cnd.signal(signal.SIGSTOP)
            try:
                old = subprocess.Popen(['/bin/true'])
                old.wait()
                # Past the clock tick of its exec: stat's start time counts whole ticks.
                time.sleep(0.05)
                set_last_pid(old.pid - 1)
                new = subprocess.Popen([sleep, '600'])
                self.addCleanup(new.wait)
                self.addCleanup(new.kill)
                wait_for(lambda: exe_of(new.pid) == sleep, timeout=10, what='the new process to exec')
            finally:
                self.cnd.signal(signal.SIGCONT)
            if new.pid == old.pid:
                break
            print(f'attempt {attempt}: pid {old.pid} went elsewhere, the new process is {new.pid}')
            new.kill()
        else:
            self.skipTest(f'another fork took the pid each of {REUSE_ATTEMPTS} times')
        pid = new.pid
        print(f'pid {pid} reused after {attempt + 1} attempt(s)')

        def started_for_pid():
            return [a for _, _, a in self.started[seen:] if a[0] == pid]
        self.client.pump(lambda: any(a[3] == sleep for a in started_for_pid()))
        got = started_for_pid()
        self.assertEqual(len(got), 2, got)
        first, second = got
        # The old program's exec: nothing of the new process in it.
        self.assertEqual((first[3], first[4], first[5], first[6], first[7]), ('', [], '', '', 0))
        # The new one's: its own.
        self.assertEqual(second[3], sleep)
        self.assertEqual(second[4], [sleep, '600'])
        self.assertEqual(second[7], tp.stat_start_time(pid))
        self.assertGreater(second[8], first[8])
        self.assertGreater(self.prop('Unresolved'), before)
        got = self.call('GetProcess', (pid,), '(u)')
        self.assertEqual((got[2], got[6]), (sleep, tp.stat_start_time(pid)))


class StuckMemory(tp.ProcessesCase):
    """A process of nobody's holds its memory's lock (tests/helpers/mm-stall on a FUSE file whose
    reads never return, tests/bus/stallfs.py, mounted by root as a user's fusermount would):
    reading its /proc/PID/cmdline waits until the FUSE server goes. cnd reads command lines
    only in its reading threads and gives up on one after its deadline: the relay goes on."""

    CONFIG = f'[Connector]\nGroups=1 {GROUP}\nAcceptUserspaceSenders=yes\nScanIntervalSec=0\n'

    def setUp(self):
        super().setUp()
        self.messages = self.client.subscribe('Message', iface=ID_IFACE,
                                              path_namespace=f'{ID_PATH_PREFIX}/{IDX}')
        self.mountpoint = tempfile.mkdtemp(prefix='cnd-stallfs-')
        os.chmod(self.mountpoint, 0o755)
        self.addCleanup(os.rmdir, self.mountpoint)
        self.fs = subprocess.Popen(['/usr/bin/python3', STALLFS, self.mountpoint], stdout=subprocess.PIPE,
                                   text=True)
        # Last in, first out: the file system goes first, which lets every stuck read return.
        self.addCleanup(self.fs.wait, 10)
        self.addCleanup(self.fs.terminate)
        self.assertEqual(self.fs.stdout.readline().strip(), 'ready')

    def stall(self):
        """A process of nobody's whose memory cannot be read from now on."""
        p = subprocess.Popen([reachable(MM_STALL), os.path.join(self.mountpoint, 'f')], stdout=subprocess.PIPE,
                             text=True, user='nobody', group='nogroup', extra_groups=[])
        self.addCleanup(p.wait, 10)
        self.addCleanup(p.kill)
        self.addCleanup(self.fs.terminate)     # first: its reads return, it can die
        self.assertEqual(p.stdout.readline().strip(), 'ready')
        # Ours cannot read it either.
        reader = subprocess.Popen(['cat', f'/proc/{p.pid}/cmdline'], stdout=subprocess.DEVNULL)
        with self.assertRaises(subprocess.TimeoutExpired):
            reader.wait(0.5)
        reader.kill()
        reader.wait()
        return p

    def assert_relays(self, val):
        """A message into another group arrives within the normal wait."""
        self.injector.send(GROUP, IDX, val, seq=val, data=b'x')
        self.client.pump(lambda: any(a[1] == val for _, _, a in self.messages))

    def test_exec_then_stuck(self):
        """cnd held back while the program execs and takes its lock, so that the exec's read of
        its command line would wait for ever: the relay goes on meanwhile, the Started comes
        after the deadline, without arguments, counted in Unresolved, and later execs keep theirs."""
        before = self.prop('Unresolved')
        self.cnd.signal(signal.SIGSTOP)
        try:
            p = self.stall()
        finally:
            self.cnd.signal(signal.SIGCONT)
        self.assert_relays(1)
        st = self.find(self.started, lambda a: a[0] == p.pid)
        self.assertEqual(st[3], reachable(MM_STALL))
        self.assertEqual(st[4], [])
        self.assertGreater(self.prop('Unresolved'), before)
        self.assertIn('has not returned', self.cnd.log_text())
        self.assert_relays(2)
        # The other threads go on reading: a program run now has its arguments.
        q = subprocess.Popen(['/bin/sleep', '600'])
        self.addCleanup(q.wait)
        self.addCleanup(q.kill)
        self.assertEqual(self.find(self.started, lambda a: a[0] == q.pid)[4], ['/bin/sleep', '600'])
        self.assertEqual(self.call('GetProcess', (p.pid,), '(u)')[2], reachable(MM_STALL))

    def test_first_scan_meets_stuck_process(self):
        """cnd restarted while such a process runs (as after a watchdog's restart): its first scan
        reads the process without waiting on it, and the relay goes on. A reader asking at once
        gets its answer when the scan has ended (a second later, at the read's deadline), with
        the stuck process in it: never a table that lacks what was running all along."""
        p = self.stall()
        self.cnd.stop()
        self.cnd = Daemon(self.bus, self.CONFIG)
        self.cnd.start()
        got = self.call('GetProcess', (p.pid,), '(u)')
        self.assertEqual((got[2], got[3]), (reachable(MM_STALL), []))
        self.assertIn(p.pid, [e[0] for e in self.call('ListProcesses')[0]])
        wait_for(lambda: self._ran_and_seen(), timeout=20, what='Started again')
        self.assert_relays(3)
        self.assert_relays(4)


if __name__ == '__main__':
    main()
