#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A local user without privileges against cnd, for real on this kernel: what Linux 6.6 and
later let any user do to cn_proc (make the kernel multicast acks, and on most builds listen on
group 1: probed, see kernelprobes.py), spoofed
signals on the bus, and clients that ask and never read. cnd must not be blinded, misled or
slowed by any of it."""

import errno
import json
import os
import re
import signal
import socket
import struct
import subprocess
import time
import unittest

from cndtest import (BUILD_DIR, ID_IFACE, ID_PATH_PREFIX, MANAGER_PATH, NAMES, PROC_IFACE, PROC_PATH, PROCESSES_IFACE,
                     PROCESSES_PATH, Client, CndTestCase, ProcListener, ensure_group, main, reachable, rss_kib,
                     run_as, storm_timeout, wait_for)
from gi.repository import GLib
from kernelprobes import (NETLINK_CONNECTOR, PROC_CN_MCAST_IGNORE, PROC_CN_MCAST_LISTEN, branch, proc_op_frame,
                          unprivileged_join_errno)

HELPERS = os.path.join(BUILD_DIR, 'tests', 'helpers')
HERE = os.path.dirname(os.path.abspath(__file__))
LISTEN = struct.pack('=I', 1)
# Floods and storms measure what cnd keeps up with: the plain build's to run, not valgrind's or
# ASan's, which slow cnd down many times.
CHECKED_BUILD = bool(os.environ.get('CND_TEST_WRAPPER') or os.environ.get('CND_TEST_SANITIZED'))


def as_nobody(*cmd, **kw):
    return subprocess.Popen(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'] + list(cmd), **kw)


def proc_ack(data):
    """(what, err) of a cn_proc ack event's payload."""
    return struct.unpack_from('=I', data)[0], struct.unpack_from('=I', data, 16)[0]


class ProcTestCase(CndTestCase):
    CONFIG = '[Connector]\nGroups=1\nScanIntervalSec=0\n'

    def wait_filter(self):
        """Waits for cnd's subscription to settle; skips where the kernel filters nothing."""
        wait_for(lambda: self.client.get('Listening', path=PROC_PATH, iface=PROC_IFACE), what='cnd to listen')
        time.sleep(1.5)     # the probe has its answer, or none
        filters = self.client.get('KernelFilter', path=PROC_PATH, iface=PROC_IFACE)
        branch("cnd's cn_proc filter", 'in force: the ack attacks run' if filters else
               'absent: the ack attacks cannot run',
               '6.6+ filters per socket' if filters else 'a kernel before 6.6 sends every listener every '
               'ack and takes no LISTEN from a user without CAP_NET_ADMIN; the guest suite covers it')
        if not filters:
            self.skipTest('this kernel does not filter cn_proc per socket (before 6.6): cnd cannot keep '
                          'acks out, and only root can listen; test_cnproc_unprivileged covers it')

    def flood(self, seconds, n=2, ack=None):
        """Unprivileged processes making cn_proc multicast acks as fast as it takes them."""
        helper = reachable(os.path.join(HELPERS, 'ack-flood'))
        extra = [str(ack)] if ack is not None else []
        return [as_nobody(helper, str(seconds), *extra, stdout=subprocess.PIPE, text=True) for _ in range(n)]

    @staticmethod
    def flood_sent(procs):
        return sum(int(p.communicate(timeout=120)[0].split()[1]) for p in procs)


@unittest.skipIf(CHECKED_BUILD, 'throughput under a flood is measured on the plain build')
class AckFlood(ProcTestCase):
    """An ack flood during a fork storm: cnd's own socket keeps acks out, so it delivers every
    fork and exit a raw listener that keeps them out too receives, and loses nothing to it."""
    # A queue big enough for the rest of a busy machine's processes: what fills it is the test.
    CONFIG = '[Connector]\nGroups=1\nScanIntervalSec=0\nReceiveBufferSize=64M\n[Proc]\nEvents=fork exit\n'
    N = 20000

    def test_flood_during_fork_storm(self):
        self.wait_filter()
        truth = ProcListener(mask=ProcListener.EVENTS_NO_ACKS)
        self.addCleanup(truth.close)
        counter = subprocess.Popen([os.path.join(HELPERS, 'proc-count'), self.bus.address, '3000', '1000'],
                                   stdout=subprocess.PIPE, text=True)
        self.addCleanup(counter.kill)
        time.sleep(0.5)
        before = self.counters()

        allowed = storm_timeout(self.N)
        flood = self.flood(8)
        time.sleep(1.0)
        start = time.monotonic()
        storm = subprocess.Popen([os.path.join(HELPERS, 'fork-storm'), str(self.N)], stdout=subprocess.PIPE)
        storm.communicate(timeout=allowed)
        sent = self.flood_sent(flood)
        elapsed = max(time.monotonic() - start, 1e-3)

        wait_for(lambda: sum(1 for p, _ in truth.forks if p == storm.pid) >= self.N, timeout=allowed,
                 what='the raw listener to see the storm')
        self.wait_settled()
        counter.send_signal(signal.SIGTERM)     # other processes of the machine keep it busy
        out, _ = counter.communicate(timeout=300)
        cnd = {int(m[1]): (int(m[2]), int(m[3]))
               for m in re.finditer(r'parent (\d+) forks (\d+) exits (\d+)', out)}.get(storm.pid, (0, 0))
        children = {c for p, c in truth.forks if p == storm.pid}
        # Pids come round again within a storm (pid_max may be 32768): count each child's exit once.
        raw = (len(children), len(children & set(truth.exits)))
        after = self.counters()
        kernel = after['KernelDroppedMessages'] - before['KernelDroppedMessages']
        received = after['ReceivedMessages'] - before['ReceivedMessages']
        print(f'ack flood: {sent} acks from 2 unprivileged processes; storm of {self.N} forks in '
              f'{elapsed:.1f} s; raw listener forks/exits {raw}, cnd {cnd}; cnd received {received} '
              f'messages, KernelDroppedMessages +{kernel}; raw listener saw {truth.acks} acks')
        self.assertEqual(truth.drops(), 0, 'the reference listener itself lost events')
        self.assertGreater(sent, 100000)
        self.assertEqual(cnd, raw)
        # The acks never reached cnd's socket: what it took is the machine's forks and exits.
        self.assertLess(received, sent // 10)
        self.assertEqual(kernel, 0)


class AckReplay(ProcTestCase):
    """cnd's own LISTEN acks, captured and sent back with an op cn_proc refuses, make the kernel
    multicast error acks with the very values cnd waited for: they must change nothing."""
    START = False

    def test_replayed_listen_acks(self):
        spy = ProcListener(rcvbuf=1 << 20)          # all events and acks: what any user may see
        self.addCleanup(spy.close)
        time.sleep(0.3)
        spy.ok_acks.clear()                         # its own LISTEN's

        self.cnd.start()
        self.wait_filter()
        # The acks of cnd's subscription as the spy saw them: err 0, the values cnd chose + 1.
        captured = sorted(set(spy.ok_acks))
        self.assertGreaterEqual(len(captured), 1)
        mark = self.cnd.notify_mark()
        log_before = self.cnd.log_text()

        procs = []
        for ack in captured:
            procs += self.flood(0.5, n=1, ack=(ack - 1) & 0xffffffff)
        replayed = self.flood_sent(procs)
        time.sleep(0.5)

        self.assertGreaterEqual(replayed, 600)
        self.assertEqual(self.client.get('SubscriptionError', path=PROC_PATH, iface=PROC_IFACE), '')
        new_log = self.cnd.log_text()[len(log_before):]
        self.assertNotIn('refused', new_log)
        self.assertEqual([n for n in self.cnd.read_notifications()[mark:] if n.startswith('STATUS=')], [])
        print(f'replayed {replayed} copies of {len(captured)} captured ack(s): no effect')


class ForgedReply(ProcTestCase):
    """An attacker that answers every successful cn_proc ack with a forged error ack of the same
    value, while others flood: an admin's Request to 1:1 gets the kernel's real answer (err 0),
    or a timeout, never the forgery.

    Where this kernel lets nobody join group 1, the attacker is nobody alone. Where it refuses
    (EPERM, asserted), nobody still forges: sending to 1:1 needs no group, and the acks it answers
    come from a group-1 socket that root opened for it, as an accomplice with the privilege would."""
    CONFIG = '[Connector]\nGroups=1\nScanIntervalSec=0\n[Bus]\nMaxPendingRequests=512\n'

    def attacker(self):
        """Starts replay-acks.py as nobody in the branch this kernel takes; returns it."""
        joinable = unprivileged_join_errno(1) == 0
        branch('the forged-reply attacker', 'listens as nobody' if joinable else
               'nobody forges, root captures', 'nobody may join group 1' if joinable else
               'nobody may not join group 1')
        pass_fds, extra = (), []
        if not joinable:
            capture = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
            capture.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)           # SO_RCVBUFFORCE
            capture.bind((0, 1))
            capture.sendto(proc_op_frame(PROC_CN_MCAST_LISTEN), (0, 0))   # all events and acks
            self.addCleanup(capture.close)
            self.addCleanup(capture.sendto, proc_op_frame(PROC_CN_MCAST_IGNORE), (0, 0))
            pass_fds, extra = (capture.fileno(),), ['--capture-fd', str(capture.fileno())]
        p = as_nobody('/usr/bin/python3', reachable(os.path.join(HERE, 'replay-acks.py')), *extra,
                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, pass_fds=pass_fds)
        self.addCleanup(p.kill)
        self.assertEqual(p.stdout.readline().split(), ['ready', 'joined'] if joinable else
                         ['ready', 'refused', str(errno.EPERM)])
        return p

    def test_requests_under_forgery(self):
        self.wait_filter()
        attacker = self.attacker()
        flood = self.flood(6)
        results = {'real': 0, 'forged': 0, 'timeout': 0}
        for _ in range(100):
            try:
                _, _, data = self.client.call('Request', (1, 1, LISTEN, 2000), '(uuayu)')
                results['real' if proc_ack(bytes(data)) == (0, 0) else 'forged'] += 1
            except Exception as e:
                self.assertIn('Timeout', str(e))
                results['timeout'] += 1
        self.flood_sent(flood)
        out, _ = attacker.communicate('', timeout=60)
        print(f'100 Requests under forgery: {results}; {out.strip()}')
        self.assertEqual(results['forged'], 0)
        self.assertGreater(int(out.split()[-1]), 0, 'the attacker forged nothing: the test proves nothing')
        self.assertGreater(results['real'], 50)


class SpoofedSignals(CndTestCase):
    """Signals on cnd's interfaces are cnd's alone: the shipped policy refuses them from anyone
    else, so a client matching on interface and path cannot be fed fake ones."""
    CONFIG = '[Connector]\nGroups=1\n'

    def test_spoofed_fork_and_message(self):
        forks = self.client.subscribe('Fork', iface=PROC_IFACE, path=PROC_PATH, sender=None)
        messages = self.client.subscribe('Message', iface=ID_IFACE, path=f'{ID_PATH_PREFIX}/1/1',
                                         sender=None)
        control = self.client.subscribe('Hello', iface='org.example.Spoof', sender=None)

        fake = [1, 1, 999999, 999999, 0, 0]
        self.assertEqual(run_as('nobody', self.bus.address, 'emit', PROC_PATH, PROC_IFACE, 'Fork',
                                '(uuuuut)', json.dumps(fake)).get('ok'), True)
        run_as('nobody', self.bus.address, 'emit', f'{ID_PATH_PREFIX}/1/1', ID_IFACE, 'Message',
               '(uuuuqay)', json.dumps([1, 1, 7, 7, 0, [1, 2]]))
        # The control: a signal of another interface from the same user does arrive.
        run_as('nobody', self.bus.address, 'emit', MANAGER_PATH, 'org.example.Spoof', 'Hello', '(u)', '[1]')
        self.client.pump(lambda: control, timeout=10)
        self.client.settle(0.5)
        self.assertEqual([f for f in forks if f[2][2] == 999999], [])
        self.assertEqual([m for m in messages if m[2][2] == 7], [])


class SpoofedSignalsBroker(SpoofedSignals):
    BUS_KIND = 'dbus-broker'


@unittest.skipIf(CHECKED_BUILD, 'memory and latency are measured on the plain build')
class GreedyReaders(CndTestCase):
    """Fifty clients that call and never read: cnd's memory stays bounded and others are served."""
    BUS_KIND = 'dbus-broker'
    CONFIG = '[Connector]\nGroups=1\n'
    CLIENTS = 50
    CALLS = 2000
    RSS_BOUND_KIB = 32 * 1024

    def test_fifty_greedy_readers(self):
        greedy = []
        for _ in range(self.CLIENTS):
            p = as_nobody(reachable(os.path.join(HELPERS, 'bus-greedy')), self.bus.address, str(self.CALLS),
                          stdout=subprocess.PIPE, text=True)
            self.addCleanup(p.kill)
            greedy.append(p)
        max_rss, slowest, slowest_bus = 0, 0.0, 0.0
        deadline = time.monotonic() + 20
        c = Client(self.bus.address)
        self.addCleanup(c.close)
        while time.monotonic() < deadline:
            max_rss = max(max_rss, rss_kib(self.cnd.proc.pid))
            # The bus's own answer, beside cnd's: on two cores the broker itself is busy with
            # the greedy clients' calls, and that is not cnd's to answer for.
            start = time.monotonic()
            c.call('GetId', dest='org.freedesktop.DBus', path='/org/freedesktop/DBus', iface='org.freedesktop.DBus')
            middle = time.monotonic()
            c.call('Ping', path=MANAGER_PATH, iface='org.freedesktop.DBus.Peer', timeout_ms=5000)
            c.get('Groups')
            end = time.monotonic()
            slowest_bus = max(slowest_bus, middle - start)
            slowest = max(slowest, end - middle)
            time.sleep(0.2)
        refused = self.client.get('RefusedCalls')
        print(f'{self.CLIENTS} greedy readers x {self.CALLS} calls: cnd max RSS {max_rss} KiB, '
              f'slowest Ping+Get {slowest:.3f} s, slowest GetId of the bus {slowest_bus:.3f} s, '
              f'{refused} calls refused')
        self.assertIsNone(self.cnd.proc.poll())
        self.assertLess(max_rss, self.RSS_BOUND_KIB)
        # Every call waits for the ones queued before it; past their budget, those cost little.
        self.assertLess(slowest, 10.0)
        self.assertGreater(refused, self.CLIENTS * (self.CALLS - 400) // 2)


class LongCommandLines(CndTestCase):
    """Many processes of an unprivileged user, each with as long a command line as cnd keeps (60
    arguments of 1,000 bytes: some 60 KiB in the table, packed with the entry's other strings):
    the table's strings take at most 24 MiB of the budget and the queue of events waiting for
    their reads 8 MiB, so cnd's memory stays bounded; past that a table entry (and an event
    queued meanwhile) keeps its arguments as the marker "…" alone, and no event is lost."""
    CONFIG = '[Connector]\nGroups=1\nScanIntervalSec=0\n'
    PROCESSES = 500
    ARGS = 60
    ARG = 'x' * 1000
    MARKER = '\u2026'
    # What the bounds add up to: 24 MiB of strings in the table, 8 MiB of queued events, the bus's
    # queue of Started signals (60 KB each) and the allocator's overhead, below the unit's
    # MemoryMax=96M. Unbounded, the table alone would take 30 MiB for these processes.
    RSS_BOUND_KIB = 88 * 1024

    def test_table_arguments_bounded(self):
        started = self.client.subscribe('Started', iface=PROCESSES_IFACE, path=PROCESSES_PATH)
        procs = []
        for _ in range(self.PROCESSES):
            p = as_nobody('/bin/sh', '-c', 'read x', 'sh', *([self.ARG] * self.ARGS), stdin=subprocess.PIPE)
            self.addCleanup(p.kill)
            procs.append(p)
        pids = {p.pid for p in procs}
        wait_for(lambda: all(os.path.exists(f'/proc/{pid}') for pid in pids), what='the processes')

        def entry(pid):
            try:
                return self.client.call('GetProcess', (pid,), '(u)', path=PROCESSES_PATH, iface=PROCESSES_IFACE)
            except GLib.Error:
                return None
        sh = os.path.realpath('/bin/sh')          # after setpriv's own exec
        wait_for(lambda: all((entry(pid) or ('', '', ''))[2] == sh for pid in pids), timeout=120,
                 what='the table to hold them all')
        argvs = [entry(pid)[3] for pid in pids]
        self.client.pump(lambda: any(a[0] in pids and a[3] == sh for _, _, a in started), timeout=30)
        full = [a for _, _, a in started if a[0] in pids and a[3] == sh]
        rss = rss_kib(self.cnd.proc.pid)
        kept = [a for a in argvs if len(a) == self.ARGS + 4]
        marked = [a for a in argvs if a == [self.MARKER]]
        print(f'{self.PROCESSES} processes x {self.ARGS} arguments: {len(marked)} table entries with the marker '
              f'alone, {len(kept)} with their arguments; {len(full)} Started seen; cnd RSS {rss} KiB')
        self.assertEqual(len(kept) + len(marked), self.PROCESSES, f'other argument vectors: '
                         f'{sorted({len(a) for a in argvs})}')
        self.assertGreater(len(marked), 0)
        self.assertGreater(len(kept), 0)
        # Started carries them all, but for events that waited while the queue held 8 MiB of
        # others' arguments already (those have the marker alone), and for setpriv's exec read
        # after its process ran the shell already (its command line is the one it had, or none).
        self.assertEqual({len(a[4]) for a in full if a[4] not in ([self.MARKER], [])}, {self.ARGS + 4})
        if not CHECKED_BUILD:
            self.assertLess(rss, self.RSS_BOUND_KIB)
        for p in procs:
            p.kill()
        wait_for(lambda: not any(entry(pid) for pid in pids), what='the entries to go')


class CallBudget(CndTestCase):
    """One connection's burst of reads past its user's budget is refused with LimitsExceeded, at
    once, while another user is answered (test_budgets: however many connections the first
    holds). Root has no budget: the burst is nobody's."""
    CONFIG = '[Connector]\nGroups=1\n'

    def test_burst_past_the_budget(self):
        before = self.client.get('RefusedCalls')
        errors = run_as('nobody', self.bus.address, 'burst', 10, timeout=120)['ok']
        self.assertEqual(run_as('daemon', self.bus.address, 'get', 'Groups'), {'ok': [1]})
        self.assertGreater(len(errors), 0)
        self.assertEqual(set(errors), {NAMES['ERROR_LIMITS_EXCEEDED']})
        self.assertLess(len(errors), 1000 - 300)
        self.assertEqual(self.client.get('RefusedCalls') - before, len(errors))

    def test_root_has_no_budget(self):
        before = self.client.get('RefusedCalls')
        errors = run_as('root', self.bus.address, 'burst', 10, timeout=120)['ok']
        self.assertEqual(errors, [])
        self.assertEqual(self.client.get('RefusedCalls'), before)


class CallBudgetBroker(CallBudget):
    BUS_KIND = 'dbus-broker'


class CheckedCallBudget(CndTestCase):
    """A call cnd must ask the bus about before it runs (a reader's GetProcess) is charged to
    its user's budget once, not again when it runs with the bus's answer: 400 at once, the
    readers' burst (cnd(8)), are all answered. Charged twice, those past the first 200 were
    refused unless the refill (200 a second) kept up."""
    READER_GROUP = 'cnd-readers'
    CONFIG = f'[Connector]\nGroups=1\nScanIntervalSec=0\n[Processes]\nReaderGroup={READER_GROUP}\n'

    def setUp(self):
        self.gid = ensure_group(self.READER_GROUP)
        super().setUp()

    def test_checked_calls_charged_once(self):
        # Root's call waits for the first scan of /proc to end (root has no budget): then the
        # reader's calls all find cnd in the table.
        self.client.call('GetProcess', (self.cnd.proc.pid,), '(u)', path=PROCESSES_PATH, iface=PROCESSES_IFACE)
        before = self.client.get('RefusedCalls')
        errors = run_as('nobody', self.bus.address, 'burst', 4, PROCESSES_PATH, PROCESSES_IFACE, 'GetProcess', '(u)',
                        json.dumps([self.cnd.proc.pid]), groups=[self.gid], timeout=120)['ok']
        self.assertEqual(errors, [])
        self.assertEqual(self.client.get('RefusedCalls'), before)


class CheckedCallBudgetBroker(CheckedCallBudget):
    BUS_KIND = 'dbus-broker'


if __name__ == '__main__':
    main()
