#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""kernel/cnfeed and cnd together on a real kernel. Runs inside the guest (run-guest.py), as
root: it loads and unloads the module."""

import os
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'bus'))
from cndtest import (BUILD_DIR, CN_MSG, NETLINK_CONNECTOR, CndTestCase, Injector, MANAGER_IFACE,  # noqa: E402
                     main, reachable_modules, wait_for)

import socket  # noqa: E402

KO = os.environ.get('CND_CNFEED_KO', os.path.join(BUILD_DIR, 'kernel', 'cnfeed.ko'))
PARAMS = '/sys/module/cnfeed/parameters'
IDX = 17
NOTIFY_GROUP = 20
ALL = 0xffffffff
CMD = struct.Struct('=IIIIII')          # op, val, count, size, group, reserved
ADD, DEL, BURST, ECHO = 1, 2, 3, 4
HELPERS = os.path.join(BUILD_DIR, 'tests', 'helpers')
EPERM = 1


def loaded():
    return os.path.exists('/sys/module/cnfeed')


def insmod(*params):
    subprocess.run(['insmod', KO] + list(params), check=True)


def rmmod():
    if loaded():
        subprocess.run(['rmmod', 'cnfeed'], check=True)


def param(name):
    with open(os.path.join(PARAMS, name)) as f:
        return int(f.read())


def cmd(op, val=0, count=0, size=0, group=0, data=b''):
    return CMD.pack(op, val, count, size, group, 0) + data


class RawClient:
    """Talks to cnfeed directly over netlink, as any process could (root or not)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
        self.sock.bind((0, 0))
        self.sock.settimeout(10)
        self.seq = 1000

    def send(self, idx, val, data, ack=0):
        self.seq += 1
        self.sock.sendto(Injector.frame(idx, val, seq=self.seq, ack=ack, data=data), (0, 0))
        return self.seq

    def command(self, data):
        """Returns the reply's data (the command is answered by unicast)."""
        seq = self.send(IDX, 0, data, ack=77)
        while True:
            d = self.sock.recv(65536)
            idx, val, rseq, rack, length, _ = CN_MSG.unpack_from(d, 16)
            if (idx, val, rseq, rack) == (IDX, 0, seq, 78):
                return d[16 + CN_MSG.size:16 + CN_MSG.size + length]

    def status(self, data):
        return struct.unpack('=i', self.command(data)[:4])[0]

    def close(self):
        self.sock.close()


def notify_request(group, idx_ranges, val_ranges):
    body = b''.join(struct.pack('=II', f, r) for f, r in idx_ranges + val_ranges)
    return struct.pack('=IIII', len(idx_ranges), len(val_ranges), group, len(body)) + body


class Cnfeed(CndTestCase):
    START = False
    SCAN = '1'

    def setUp(self):
        rmmod()
        self.addCleanup(rmmod)
        super().setUp()
        self.added = self.client.subscribe('IdAdded', iface=MANAGER_IFACE)
        self.removed = self.client.subscribe('IdRemoved', iface=MANAGER_IFACE)

    def start_cnd(self, extra='', scan=None):
        self.cnd.write_config(f'[Connector]\nGroups={IDX}\nScanIntervalSec={scan or self.SCAN}\n{extra}')
        self.cnd.start()

    def request(self, data, timeout_ms=10000):
        return self.client.call('Request', (IDX, 0, data, timeout_ms), '(uuayu)')

    def status(self, data):
        return struct.unpack('=i', bytes(self.request(data)[2])[:4])[0]

    def seen(self, signals, idx, val):
        return [a[2] for a in signals if a[2][:2] == (idx, val)]

    def test_insmod_and_rmmod_while_cnd_runs(self):
        self.start_cnd()
        insmod()
        self.client.pump(lambda: self.seen(self.added, IDX, 0) and self.seen(self.added, ALL, ALL), timeout=30)
        self.assertEqual(self.seen(self.added, IDX, 0), [(IDX, 0, 'cnfeed')])
        self.assertEqual(self.seen(self.added, ALL, ALL), [(ALL, ALL, 'cnfeed_notify')])
        self.assertIn((IDX, 0, 'cnfeed'), self.client.get('Ids'))
        rmmod()
        self.client.pump(lambda: self.seen(self.removed, IDX, 0) and self.seen(self.removed, ALL, ALL),
                         timeout=30)

    def test_notifications_are_one_signal_each_long_before_a_scan(self):
        insmod()
        self.start_cnd(f'[Notify]\nGroup={NOTIFY_GROUP}\n', scan='60')
        wait_for(lambda: param('active_requests') == 1, what="cnd's notification request")
        self.assertIn(NOTIFY_GROUP, self.client.get('Groups'))

        start = time.monotonic()
        self.assertEqual(self.status(cmd(ADD, val=5)), 0)
        self.client.pump(lambda: self.seen(self.added, IDX, 5), timeout=30)
        self.assertEqual(self.status(cmd(DEL, val=5)), 0)
        self.client.pump(lambda: self.seen(self.removed, IDX, 5), timeout=30)
        self.assertLess(time.monotonic() - start, 45)        # the scan comes after 60 s
        self.client.settle(1.0)
        self.assertEqual(len(self.seen(self.added, IDX, 5)), 1)
        self.assertEqual(len(self.seen(self.removed, IDX, 5)), 1)

        # cnd removes its request when it stops.
        self.cnd.stop()
        wait_for(lambda: param('active_requests') == 0, what='the request to go with cnd')

    def test_notification_service_loaded_after_cnd(self):
        # cnd's first request went nowhere; it asks again when {-1,-1} appears.
        self.start_cnd(f'[Notify]\nGroup={NOTIFY_GROUP}\n')
        insmod()
        wait_for(lambda: param('active_requests') == 1, timeout=30, what='the request sent again')
        self.assertEqual(self.status(cmd(ADD, val=6)), 0)
        self.client.pump(lambda: self.seen(self.added, IDX, 6), timeout=30)
        self.client.settle(2.5)                                  # two scans more
        self.assertEqual(len(self.seen(self.added, IDX, 6)), 1)

    def test_service_loaded_again_gets_the_request_again(self):
        insmod()
        self.start_cnd(f'[Notify]\nGroup={NOTIFY_GROUP}\n')
        wait_for(lambda: param('active_requests') == 1, what="cnd's request")
        rmmod()
        insmod()                 # within one scan interval, the same ids and names
        wait_for(lambda: param('active_requests') == 1, timeout=30, what='the request sent again')
        self.assertEqual(self.status(cmd(ADD, val=7)), 0)
        self.client.pump(lambda: self.seen(self.added, IDX, 7), timeout=30)

    def test_rmmod_removes_every_id(self):
        insmod()
        self.start_cnd(f'[Notify]\nGroup={NOTIFY_GROUP}\n')
        for val in (5, 6):
            self.assertEqual(self.status(cmd(ADD, val=val)), 0)
        self.client.pump(lambda: self.seen(self.added, IDX, 5) and self.seen(self.added, IDX, 6), timeout=30)
        rmmod()
        self.client.pump(lambda: all(self.seen(self.removed, *i) for i in ((IDX, 5), (IDX, 6), (IDX, 0), (ALL, ALL))),
                         timeout=30)
        self.client.settle(2.5)
        for i in ((IDX, 5), (IDX, 6), (IDX, 0), (ALL, ALL)):
            self.assertEqual(len(self.seen(self.removed, *i)), 1, i)

    def test_echo_by_the_connector_protocol(self):
        insmod()
        self.start_cnd()
        payload = cmd(ECHO, data=os.urandom(100))
        seq, _ = self.client.call('Send', (IDX, 0, cmd(ECHO)), '(uuay)')
        rseq, rack, data = self.request(payload)
        # Strict matching: the reply has the request's seq (the next cnd sent) and ack + 1.
        self.assertEqual(rseq, (seq + 1) & 0xffffffff)
        self.assertEqual(bytes(data), payload)

    def test_burst_counting_rule(self):
        n = 100000
        insmod()
        self.start_cnd('ReceiveBufferSize=4M\n')
        self.assertEqual(self.status(cmd(ADD, val=9)), 0)
        sub = subprocess.Popen([os.path.join(HELPERS, 'bus-count'), self.bus.address,
                                f'/org/cnd/Connector1/id/{IDX}/9', str(n), '5000'],
                               stdout=subprocess.PIPE, text=True)
        self.assertEqual(sub.stdout.readline().strip(), 'ready')
        before = self.counters()
        self.assertEqual(self.status(cmd(BURST, val=9, count=n, size=16)), 0)
        wait_for(lambda: param('burst_sent') == n and param('burst_active') == 0, timeout=600,
                 what='the burst')
        out, _ = sub.communicate(timeout=600)
        f = out.split()
        delivered, gaps, disorder = (int(f[f.index(k) + 1]) for k in ('received', 'gaps', 'disorder'))
        after = self.counters()
        kernel = after['KernelDroppedMessages'] - before['KernelDroppedMessages']
        bus = after['BusDroppedMessages'] - before['BusDroppedMessages']
        print(f'burst of {n}: delivered {delivered}, kernel dropped {kernel}, bus dropped {bus}')
        self.assertEqual(disorder, 0)                    # nothing twice, nothing out of order
        self.assertEqual(delivered + kernel + bus, n)
        self.assertLessEqual(gaps, kernel + bus)


class Refusals(CndTestCase):
    """cnfeed itself, without cnd: privileges, the table bound, release on close."""
    START = False

    def setUp(self):
        rmmod()
        self.addCleanup(rmmod)
        insmod('max_requests=64')
        super().setUp()

    def as_nobody(self, code):
        p = subprocess.run(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups',
                            '/usr/bin/python3', '-c', code], capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, PYTHONPATH=reachable_modules(os.path.abspath(__file__))))
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.strip()

    def test_unprivileged_commands_and_requests_are_refused(self):
        before = param('refused')
        out = self.as_nobody(
            'from test_cnfeed import RawClient, cmd, ADD\n'
            'c = RawClient()\nprint(c.status(cmd(ADD, val=3)))\n')
        self.assertEqual(int(out), -EPERM)
        self.as_nobody(
            'from test_cnfeed import RawClient, notify_request\n'
            'c = RawClient()\nc.send(0xffffffff, 0xffffffff, notify_request(5, [(0, 100)], [(0, 100)]))\n'
            'import time; time.sleep(0.5)\n')
        self.assertEqual(param('refused'), before + 2)
        self.assertEqual(param('data_ids'), 0)
        self.assertEqual(param('active_requests'), 0)

    def test_table_bound_and_release_on_close(self):
        c = RawClient()
        for i in range(10000):
            c.send(ALL, ALL, notify_request(21, [(i, 1)], [(0, ALL)]))
        wait_for(lambda: param('active_requests') == 64, what='the table at its bound')
        self.assertGreater(param('refused_full'), 0)
        c.close()
        wait_for(lambda: param('active_requests') == 0, what='entries freed on close')


class LoadUnloadCycles(CndTestCase):
    CONFIG = f'[Connector]\nGroups={IDX}\nScanIntervalSec=0.5\n[Notify]\nGroup={NOTIFY_GROUP}\n'

    def test_fifty_cycles_under_traffic(self):
        rmmod()
        self.addCleanup(rmmod)
        subprocess.run(['dmesg', '-C'], check=True)
        stop = threading.Event()

        def traffic():
            c = RawClient()
            c.sock.settimeout(0.5)
            while not stop.is_set():
                try:
                    c.send(IDX, 0, cmd(ECHO, data=b'x' * 64))
                    c.send(IDX, 0, cmd(BURST, val=5, count=2000, size=64))
                    c.send(IDX, 0, cmd(ADD, val=5))
                    c.send(ALL, ALL, notify_request(22, [(0, ALL)], [(0, ALL)]))
                    c.send(IDX, 5, b'data')
                except OSError:
                    pass
            c.close()

        threads = [threading.Thread(target=traffic) for _ in range(2)]
        for t in threads:
            t.start()
        try:
            for _ in range(50):
                insmod()
                time.sleep(0.05)
                rmmod()
        finally:
            stop.set()
            for t in threads:
                t.join()
        log = subprocess.run(['dmesg'], capture_output=True, text=True).stdout
        for bad in ('WARNING', 'BUG', 'Oops', 'leak', 'general protection', 'refcount_t'):
            self.assertNotIn(bad, log)
        self.assertIsNone(self.cnd.proc.poll())


if __name__ == '__main__':
    main()
