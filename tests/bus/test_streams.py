#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Streams (AcquireStream): the fd through each bus, the records exact and in order, exact loss
per stream with a stalled stream beside a healthy one, a stalled stream costing signals, method
calls and the watchdog nothing, the limits, privacy of process records, bad options, clients
that go, cnd that goes, and no fd or memory left behind by 10,000 streams."""

import json
import os
import signal
import statistics
import subprocess
import time

from cndtest import (BUILD_DIR, CndTestCase, Client, ID_IFACE, NAMES, ID_PATH_PREFIX, PROCESSES_IFACE,
                     PROCESSES_PATH, ConnectorList, as_user, ensure_group, main, reachable, rss_kib, run_as,
                     spawn_as, wait_for)
from streamclient import (ANY_VAL, EXITED, ID_ADDED, ID_REMOVED, STARTED, GLib, Stream, ids_option,
                          open_fds)

GROUP = 19
IDX = 0x5353
READER_GROUP = 'cnd-stream-readers'
INVALID_ARGS = 'org.freedesktop.DBus.Error.InvalidArgs'
LIMITS_EXCEEDED = NAMES['ERROR_LIMITS_EXCEEDED']
# Under valgrind or the sanitizers cnd's memory and pace are not its own to measure.
CHECKED_BUILD = bool(os.environ.get('CND_TEST_WRAPPER') or os.environ.get('CND_TEST_SANITIZED'))
HELPERS = os.path.join(BUILD_DIR, 'tests', 'helpers')


def config(extra=''):
    return (f'[Connector]\nGroups={GROUP}\nAcceptUserspaceSenders=yes\nScanIntervalSec=0\n'
            f'ReceiveBufferSize=256M\n{extra}')


def inject(count, size, seconds=None):
    """cn-inject: count messages of id IDX:1 with size bytes of data into GROUP, seq from 0, as
    fast as the kernel takes them (for seconds at most); returns how many went out. It yields to
    the rest (nice): cnd and the readers keep the pace they would keep without it."""
    out = subprocess.run(['nice', '-n', '10', os.path.join(HELPERS, 'cn-inject'), str(GROUP), str(IDX), '1',
                          str(count), str(size)] + (['0', '0', str(seconds)] if seconds else []),
                         capture_output=True, text=True, check=True).stdout
    return int(out.split()[1])


def wait_read(client, before, n, timeout, what):
    """Until cnd has read n messages since the properties before, or counted them dropped."""
    wait_for(lambda: client.get('ReceivedMessages') - before['ReceivedMessages'] +
             client.get('KernelDroppedMessages') - before['KernelDroppedMessages'] >= n, timeout=timeout, what=what)


class StreamCounter:
    """stream-count run as another user: a client that reads its stream all along, as fast as cnd
    writes it, and counts the message records, gaps and disorder in their seqs, and the lost
    records by reason."""

    def __init__(self, case, user, stream_id, buffer_bytes):
        # Ended by result() (SIGTERM), never by its idle timer: no wait here bounds cnd's pace.
        self.p = subprocess.Popen(as_user(user) + [reachable(os.path.join(HELPERS, 'stream-count')),
                                                   case.bus.address, stream_id, '600000', str(buffer_bytes)],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        case.addCleanup(self.stop)
        line = self.p.stdout.readline()
        if line.strip() != 'ready':
            raise AssertionError(f'stream-count did not start: {line!r} {self.p.stderr.read()}')

    def result(self):
        """Ends it once it has read what its socket holds: what it counted, by name (received,
        gaps, disorder, lost_full, lost_kernel, eof, ...)."""
        self.p.send_signal(signal.SIGTERM)
        out, err = self.p.communicate(timeout=60)
        if self.p.returncode != 0 or not out.strip():
            raise AssertionError(f'stream-count failed ({self.p.returncode}): {err}')
        f = out.split()
        return {k: int(v) for k, v in zip(f[::2], f[1::2])}

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        for f in (self.p.stdout, self.p.stderr):
            f.close()


class StreamUser:
    """A client of cnd's run as another user (busclient.py stream): acquires, then reads on
    command."""

    def __init__(self, case, user, options, count=1, groups=()):
        self.p = spawn_as(user, case.bus.address, 'stream', json.dumps(options), count, groups=groups)
        case.addCleanup(self.stop)
        self.hello = self.answer()

    def answer(self):
        line = self.p.stdout.readline()
        if not line:
            raise AssertionError(f'stream client died: {self.p.stderr.read()}')
        return json.loads(line)

    def command(self, text):
        self.p.stdin.write(text + '\n')
        self.p.stdin.flush()
        return self.answer()

    def stop(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            f.close()


class Streams(CndTestCase):
    CONFIG = config()

    def burst(self, n, val=1, size=16, stopped=True):
        """n messages of id IDX:val, seq 0..n-1; with cnd stopped they wait in its socket."""
        if stopped:
            self.cnd.signal(signal.SIGSTOP)
        try:
            for seq in range(n):
                self.injector.send(GROUP, IDX, val, seq=seq, data=bytes([seq % 256]) * size)
        finally:
            if stopped:
                self.cnd.signal(signal.SIGCONT)

    def test_records_exact_and_in_order_as_nobody(self):
        user = StreamUser(self, 'nobody', {'Ids': [[IDX, 1], [IDX, 3]]})
        self.assertEqual(user.hello, {'acquired': 1, 'error': None})
        self.assertEqual(self.client.get('Streams'), 1)
        sends = [(1 + (i % 4), i, bytes(range(i % 200))) for i in range(400)]
        for val, seq, data in sends:
            self.injector.send(GROUP, IDX, val, seq=seq, data=data)
        wait_for(lambda: self.client.get('ReceivedMessages') >= 400, what='cnd to read them')
        got = user.command('drain 1')
        self.assertEqual(got['hello'], [1, 131072])
        want = [[IDX, val, seq, data.hex()] for val, seq, data in sends if val in (1, 3)]
        self.assertEqual(got['data'], want)
        self.assertEqual((got['lost_full'], got['lost_kernel'], got['empty_packets']), (0, 0, 0))
        self.assertLess(got['packets'], len(want))      # several records to a packet

    def test_stalled_and_healthy_exact_per_stream(self):
        # Records of about 1 KiB: 50,000 are three times what the healthy stream's 16 MiB holds,
        # so that it loses nothing only by reading all along, and 200 times the stalled one's.
        n, size = 50000, 1024
        stalled = StreamUser(self, 'nobody', {'Ids': [[IDX, ANY_VAL]], 'BufferBytes': 256 << 10})
        healthy = StreamCounter(self, 'nobody', f'{IDX}:*', 16 << 20)
        before = self.client.get_all()
        self.assertEqual(inject(n, size), n)
        wait_read(self.client, before, n, 120, 'cnd to read the burst')
        # cnd has written what it read before it answered: the healthy one's socket holds the rest.
        h = healthy.result()
        s = stalled.command('drain 2')
        after = self.client.get_all()
        kernel = after['KernelDroppedMessages'] - before['KernelDroppedMessages']
        print(f'healthy: {h["received"]} + full {h["lost_full"]} + kernel {h["lost_kernel"]}; '
              f'stalled: {s["messages"]} + full {s["lost_full"]} + kernel {s["lost_kernel"]}; '
              f'cnd kernel drops {kernel}')
        # The healthy stream lost nothing to its socket: every message but those the kernel
        # dropped before cnd read them (a machine may let cnd fall that far behind; the rule
        # holds either way), in order, and no zero-length packet (it would read as the end).
        self.assertEqual(h['lost_full'], 0)
        self.assertEqual(h['received'] + h['lost_kernel'], n)
        self.assertEqual(h['lost_kernel'], kernel)
        self.assertEqual(h['disorder'], 0)
        self.assertEqual(h['eof'], 0)
        # The stalled stream lost to its full socket, and says exactly how much.
        self.assertGreater(s['lost_full'], 0)
        self.assertEqual(s['messages'] + s['lost_full'] + s['lost_kernel'], n)
        self.assertEqual(s['lost_kernel'], kernel)
        self.assertTrue(s['in_order'])
        self.assertEqual(s['empty_packets'], 0)
        self.assertEqual(after['StreamLostRecords'] - before['StreamLostRecords'], h['lost_full'] + s['lost_full'])

    def test_stalled_stream_costs_signals_and_calls_nothing(self):
        n = 20000
        stalled = StreamUser(self, 'nobody', {'Ids': [[IDX, ANY_VAL]], 'BufferBytes': 256 << 10})
        got = self.client.subscribe('Message', iface=ID_IFACE, path_namespace=f'{ID_PATH_PREFIX}/{IDX}')
        watcher = Client(self.bus.address)
        self.addCleanup(watcher.close)
        before = self.client.get_all()
        samples = []                                     # (cnd's Get, the bus's own GetId) seconds
        for chunk in range(20):
            for seq in range(chunk * n // 20, (chunk + 1) * n // 20):
                self.injector.send(GROUP, IDX, 2, seq=seq, data=b'x' * 32)
            t0 = time.monotonic()
            watcher.get('ReceivedMessages')
            t1 = time.monotonic()
            watcher.call('GetId', path='/org/freedesktop/DBus', iface='org.freedesktop.DBus',
                         dest='org.freedesktop.DBus')
            samples.append((t1 - t0, time.monotonic() - t1))
            self.client.pump(timeout=0.05)
        self.client.pump(lambda: len(got) >= n, timeout=120)
        after = self.client.get_all()
        s = stalled.command('drain 2')
        cnd_times, bus_times = [c for c, _ in samples], [b for _, b in samples]
        print(f'stalled stream lost {s["lost_full"]}; Get median {statistics.median(cnd_times) * 1e3:.1f} ms '
              f'max {max(cnd_times) * 1e3:.1f} ms; bus GetId median {statistics.median(bus_times) * 1e3:.1f} ms '
              f'max {max(bus_times) * 1e3:.1f} ms')
        self.assertGreater(s['lost_full'], 0)
        # Every signal arrived: the stall took nothing from the bus path.
        self.assertEqual(len(got), n)
        self.assertEqual(after['KernelDroppedMessages'] - before['KernelDroppedMessages'], 0)
        self.assertEqual(after['BusDroppedMessages'] - before['BusDroppedMessages'], 0)
        # cnd answered as the bus itself did in the same moments, within the bus's own spread
        # (on the plain build: valgrind makes cnd alone many times slower).
        if not CHECKED_BUILD:
            self.assertLessEqual(statistics.median(cnd_times), 3 * statistics.median(bus_times) + 0.05)

    def test_client_closing_mid_batch(self):
        n = 30000
        going = StreamUser(self, 'nobody', {'Ids': [[IDX, ANY_VAL]]})
        staying = StreamUser(self, 'nobody', {'Ids': [[IDX, ANY_VAL]], 'BufferBytes': 16 << 20})
        self.cnd.signal(signal.SIGSTOP)
        try:
            self.burst(n, stopped=False)
            self.assertEqual(going.command('close'), {'closed': True})
        finally:
            self.cnd.signal(signal.SIGCONT)
        got = staying.command('drain 2')
        # The rule as org.cnd.Connector1(5) states it where the kernel's drops cannot be told
        # apart (seen under valgrind: 100 counted beyond the burst).
        self.assertLessEqual(got['messages'] + got['lost_full'], n)
        self.assertGreaterEqual(got['messages'] + got['lost_full'] + got['lost_kernel'], n)
        print(f'staying stream: {got["messages"]} + full {got["lost_full"]} + kernel {got["lost_kernel"]} of {n}')
        wait_for(lambda: self.client.get('Streams') == 1, what='the closed stream to go')
        self.assertIsNone(self.cnd.proc.poll())

    def test_cnd_stopping_ends_every_stream(self):
        users = [StreamUser(self, 'nobody', {'Ids': [[IDX, 1]]}) for _ in range(2)]
        self.cnd.stop()
        for u in users:
            got = u.command('eof 20')
            self.assertTrue(got['eof'])
            self.assertEqual(got['empty_packets'], 0)

    def test_bad_options_are_refused_with_words(self):
        """As nobody, whom the policy lets call: the checks and their words are for anyone."""
        cases = [
            ({'Colour': GLib.Variant('s', 'red')}, "Unknown option 'Colour'"),
            ({'Ids': GLib.Variant('s', '1:1')}, "Option 'Ids' must be of type 'a(uu)', not 's'"),
            ({'Processes': GLib.Variant('u', 1)}, "Option 'Processes' must be of type 'b', not 'u'"),
            ({'Ids': GLib.Variant('a(uu)', [])}, "Option 'Ids' is empty"),
            ({}, 'The stream would carry nothing'),
            ({**ids_option((IDX, 1)), 'BufferBytes': GLib.Variant('u', 1 << 30)},
             "Option 'BufferBytes' is 1073741824: it must be 262144 to 16777216"),
            ({'Ids': GLib.Variant('a(uu)', [(IDX, v) for v in range(257)])}, 'more than 256 ids'),
        ]
        texts = [GLib.Variant('a{sv}', options).print_(True) for options, _ in cases]
        got = run_as('nobody', self.bus.address, 'acquire-each', *texts)
        self.assertEqual(len(got.get('ok', [])), len(cases), got)
        for text, (_, words), outcome in zip(texts, cases, got['ok']):
            with self.subTest(options=text[:80]):
                self.assertEqual(outcome.get('error'), INVALID_ARGS, outcome)
                self.assertIn(words, outcome['message'])
        self.assertEqual(self.client.get('Streams'), 0)

    def test_seventeenth_stream_of_a_user(self):
        user = StreamUser(self, 'nobody', {'Ids': [[IDX, 1]]}, count=17)
        self.assertEqual(user.hello['acquired'], 16)
        self.assertEqual(user.hello['error'][0], LIMITS_EXCEEDED)
        self.assertIn('MaxPerUser=', user.hello['error'][1])
        # Another user is not held to it.
        other = Stream.acquire(self.client, ids_option((IDX, 1)))
        self.addCleanup(other.close)
        self.assertEqual(self.client.get('Streams'), 17)

    def test_ten_thousand_streams_leave_nothing_behind(self):
        """As root, which has no budget of calls (cnd(8), BUDGETS): any other user may make 400
        public calls at once, then 200 a second, and is refused past that, so 10,000 of theirs
        would take 48 s at the least, all spent waiting for the budget."""
        pid = self.cnd.proc.pid
        warm = [Stream.acquire(self.client, ids_option((IDX, 1))) for _ in range(16)]
        for s in warm:
            s.close()
        wait_for(lambda: self.client.get('Streams') == 0, what='the streams to go')
        fds, rss = open_fds(pid), rss_kib(pid)
        for i in range(10000):
            s = Stream.acquire(self.client, ids_option((IDX, 1)))
            if i % 100 == 0:
                self.injector.send(GROUP, IDX, 1, seq=i)
            s.close()
        wait_for(lambda: self.client.get('Streams') == 0, what='the streams to go')
        print(f'open fds {fds} -> {open_fds(pid)}, RSS {rss} -> {rss_kib(pid)} KiB')
        self.assertEqual(open_fds(pid), fds)
        if not CHECKED_BUILD:
            self.assertLess(rss_kib(pid), rss + 2048)


class StreamsBroker(Streams):
    BUS_KIND = 'dbus-broker'


class StalledStreamWatchdog(CndTestCase):
    """A service manager's watchdog over cnd while a stream stays stalled under a flood."""

    CONFIG = config()
    START = False
    PERIOD = 2.0        # WatchdogSec=, seconds
    SECONDS = 10        # of flood

    def test_watchdog_fed_throughout_a_stall(self):
        self.cnd.start(env={'WATCHDOG_USEC': str(int(self.PERIOD * 1e6))})
        stalled = StreamUser(self, 'nobody', {'Ids': [[IDX, ANY_VAL]], 'BufferBytes': 256 << 10})
        before = self.client.get_all()
        start = time.time()
        sent = inject(4000000000, 64, seconds=self.SECONDS)
        # The stall lasts as long as cnd has messages to write to the stream: until it has read
        # what the flood left in its socket.
        wait_read(self.client, before, sent, 300, 'cnd to read the flood')
        end = time.time()
        wait_for(lambda: (self.cnd.notified_times('WATCHDOG=1') or [0])[-1] > end, what='a watchdog ping after the flood')
        pings = self.cnd.notified_times('WATCHDOG=1')
        # From the last ping before the flood to the first after it: the times when cnd sent
        # them, as the kernel stamped them.
        seen = ([t for t in pings if t <= start][-1:] + [t for t in pings if start < t <= end] +
                [t for t in pings if t > end][:1])
        gaps = [b - a for a, b in zip(seen, seen[1:])]
        s = stalled.command('drain 2')
        after = self.client.get_all()
        kernel = after['KernelDroppedMessages'] - before['KernelDroppedMessages']
        print(f'{self.BUS_KIND}: sent {sent} in {self.SECONDS} s, read in {end - start:.1f} s; stalled stream: '
              f'{s["messages"]} + full {s["lost_full"]} + kernel {s["lost_kernel"]}; {len(seen)} watchdog '
              f'pings, gaps median {statistics.median(gaps):.3f} s, largest {max(gaps):.3f} s')
        # The stream did stall, and counted what it lost.
        self.assertGreater(s['lost_full'], 0)
        self.assertEqual(s['messages'] + s['lost_full'] + s['lost_kernel'], sent)
        self.assertEqual(s['lost_kernel'], kernel)
        # What a service manager holds cnd to: never a whole period without a ping. (Half of it
        # is no bound: sd-event pings an idle loop between half and three quarters of the period
        # after the last ping, a busy one once a quarter has passed.)
        self.assertLess(max(gaps), self.PERIOD)
        self.assertIsNone(self.cnd.proc.poll())


class StalledStreamWatchdogBroker(StalledStreamWatchdog):
    BUS_KIND = 'dbus-broker'


class StreamLimitInAll(CndTestCase):
    # The 256 streams are held by two users other than root, 128 each, with MaxPerUser= raised
    # past that: at the default of 16 they would take 16 users, and a test can count neither on
    # a machine having 16 ordinary users nor on bare uids (dbus-daemon closes the connection of
    # a uid without a passwd entry: it cannot look up its groups), and adding 16 users would
    # change the machine's user database. Two, not one: each stays well within its budget of
    # calls at once (cnd(8), BUDGETS; an AcquireStream waits for the bus to say who calls and is
    # charged again when it runs on, so nobody alone was refused after 222 of 257). The bound
    # per user has its own test (test_seventeenth_stream_of_a_user).
    CONFIG = config('[Streams]\nMaxPerUser=4096\n')

    def test_two_hundred_fifty_seventh_stream(self):
        ids = {'Ids': [[IDX, 1]]}
        first = StreamUser(self, 'nobody', ids, count=128)
        self.assertEqual(first.hello, {'acquired': 128, 'error': None})
        second = StreamUser(self, 'daemon', ids, count=129)
        self.assertEqual(second.hello['acquired'], 128)
        self.assertEqual(second.hello['error'][0], LIMITS_EXCEEDED)
        self.assertIn('MaxStreams=', second.hello['error'][1])
        # The other user, far from MaxPerUser=, is refused too: the bound is for all.
        again = StreamUser(self, 'nobody', ids)
        self.assertEqual(again.hello['acquired'], 0)
        self.assertEqual(again.hello['error'][0], LIMITS_EXCEEDED)
        self.assertIn('MaxStreams=', again.hello['error'][1])
        self.assertEqual(self.client.get('Streams'), 256)
        # A stream closed makes room for one, anyone's.
        self.assertEqual(second.command('close'), {'closed': True})
        wait_for(lambda: self.client.get('Streams') == 255, what='a place to free')
        self.assertEqual(StreamUser(self, 'nobody', ids).hello, {'acquired': 1, 'error': None})
        self.assertEqual(self.client.get('Streams'), 256)


class StreamLimitInAllBroker(StreamLimitInAll):
    BUS_KIND = 'dbus-broker'


class StreamOnlyGroup(CndTestCase):
    CONFIG = config(f'StreamOnlyGroups={GROUP}\n')

    def test_no_signals_and_no_bus_counts(self):
        got = self.client.subscribe('Message', iface=ID_IFACE, path_namespace=f'{ID_PATH_PREFIX}/{IDX}')
        s = Stream.acquire(self.client, ids_option((IDX, ANY_VAL)))
        self.addCleanup(s.close)
        before = self.client.get_all()
        for seq in range(1000):
            self.injector.send(GROUP, IDX, 1, seq=seq)
        self.assertTrue(s.read_until(lambda: len(s.messages) == 1000))
        self.client.settle(0.5)
        self.assertEqual(got, [])
        after = self.client.get_all()
        self.assertEqual(after['ReceivedMessages'] - before['ReceivedMessages'], 1000)
        self.assertEqual(after['BusDroppedMessages'] - before['BusDroppedMessages'], 0)


class IdChangeRecords(CndTestCase):
    START = False

    def test_ids_added_and_removed(self):
        listing = ConnectorList()
        self.addCleanup(listing.remove)
        self.cnd.write_config(config().replace('ScanIntervalSec=0', 'ScanIntervalSec=0.2'))
        self.cnd.start(env={'CND_TEST_CONNECTOR_LIST': listing.path})
        s = Stream.acquire(self.client, {'IdChanges': GLib.Variant('b', True)})
        self.addCleanup(s.close)
        listing.write([('cn_proc', 1, 1), ('test_driver', 50, 1)])
        self.assertTrue(s.read_until(lambda: len(s.id_changes) >= 1))
        listing.write([('cn_proc', 1, 1)])
        self.assertTrue(s.read_until(lambda: len(s.id_changes) >= 2))
        self.assertEqual(s.id_changes, [(ID_ADDED, 50, 1, 'test_driver'), (ID_REMOVED, 50, 1, 'test_driver')])
        self.assertEqual(s.messages, [])


class ProcessRecords(CndTestCase):
    CONFIG = f'[Connector]\nGroups=1\nScanIntervalSec=0\n[Processes]\nReaderGroup={READER_GROUP}\n'

    def setUp(self):
        self.gid = ensure_group(READER_GROUP)
        super().setUp()
        # cnd's table is up once a program of ours shows.
        got = self.client.subscribe('Started', iface=PROCESSES_IFACE, path=PROCESSES_PATH)
        wait_for(lambda: subprocess.run(['/bin/true']).returncode == 0 and (self.client.settle(0.2) or got),
                 timeout=20, what='a Started')

    def test_a_user_sees_their_own_a_reader_all(self):
        nobody = StreamUser(self, 'nobody', {'Processes': True})
        reader = StreamUser(self, 'nobody', {'Processes': True}, groups=[self.gid])
        # Alive long enough that cnd reads what they run, however busy the machine.
        mine = subprocess.Popen(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups',
                                 '/bin/sh', '-c', 'sleep 0.5; exit 3'])
        theirs = subprocess.Popen(['/bin/sh', '-c', 'sleep 0.5; exit 4'])
        mine.wait()
        theirs.wait()
        self.client.settle(1.5)
        n, r = nobody.command('drain 1'), reader.command('drain 1')
        n_pids = {(t, pid) for t, pid, _, _ in n['processes']}
        r_pids = {(t, pid) for t, pid, _, _ in r['processes']}
        nobody_uid = __import__('pwd').getpwnam('nobody').pw_uid
        self.assertEqual({uid for _, _, uid, _ in n['processes']}, {nobody_uid})
        self.assertIn((STARTED, mine.pid), n_pids)
        self.assertIn((EXITED, mine.pid), n_pids)
        self.assertNotIn((STARTED, theirs.pid), n_pids)
        self.assertIn((STARTED, mine.pid), r_pids)
        self.assertIn((STARTED, theirs.pid), r_pids)
        self.assertIn((EXITED, theirs.pid), r_pids)
        exe = [e for t, pid, _, e in r['processes'] if (t, pid) == (STARTED, theirs.pid)]
        self.assertEqual(exe, ['/usr/bin/dash'])


class ProcessRecordsBroker(ProcessRecords):
    BUS_KIND = 'dbus-broker'


if __name__ == '__main__':
    main()
