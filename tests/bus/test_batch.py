#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Batched mode (BatchGroups=): one Messages signal per id per read batch, elements in arrival
order and exact, no signal body past 64 KiB, and nothing lost uncounted."""

import os
import signal

from cndtest import ID_IFACE, ID_PATH_PREFIX, CndTestCase, main, wait_for

PLAIN, BATCHED = 24, 25
IDX = 0x4949
ELEMENT_OVERHEAD = 24        # alignment, seq, ack, flags and array length in the body


class Batched(CndTestCase):
    CONFIG = f"""
[Connector]
Groups={PLAIN} {BATCHED}
BatchGroups={BATCHED}
AcceptUserspaceSenders=yes
ReceiveBufferSize=64M
ScanIntervalSec=0
"""

    def setUp(self):
        super().setUp()
        self.batches = self.client.subscribe('Messages', iface=ID_IFACE, path_namespace=f'{ID_PATH_PREFIX}/{IDX}')
        self.singles = self.client.subscribe('Message', iface=ID_IFACE, path_namespace=f'{ID_PATH_PREFIX}/{IDX}')

    def elements(self, val):
        return [tuple(e[:3]) + (bytes(e[3]),) for path, _, (msgs,) in self.batches
                if path.endswith(f'/{val}') for e in msgs]

    def burst(self, sends):
        """Sends while cnd is stopped, so that it reads them in few batches."""
        self.cnd.signal(signal.SIGSTOP)
        try:
            for group, val, seq, data in sends:
                self.injector.send(group, IDX, val, seq=seq, ack=seq ^ 0xffff, flags=seq & 0xffff, data=data)
        finally:
            self.cnd.signal(signal.SIGCONT)

    def test_content_and_order_per_id(self):
        sends = []
        for i in range(3000):
            val = 1 + i % 2                                      # two ids, interleaved
            sends.append((BATCHED, val, i, os.urandom(i % 100)))
        self.burst(sends)
        self.client.pump(lambda: len(self.elements(1)) + len(self.elements(2)) == 3000, timeout=30)
        self.client.settle()
        for val in (1, 2):
            want = [(seq, seq ^ 0xffff, seq & 0xffff, data) for g, v, seq, data in sends if v == val]
            self.assertEqual(self.elements(val), want)
        self.assertEqual(self.singles, [])
        # Batching happened: fewer signals than messages, and one id's per signal.
        self.assertLess(len(self.batches), 3000 / 10)
        for path, _, (msgs,) in self.batches:
            self.assertGreater(len(msgs), 0)

    def test_no_signal_past_64_kib(self):
        sends = [(BATCHED, 3, i, bytes([i % 256]) * 16384) for i in range(40)]
        self.burst(sends)
        self.client.pump(lambda: len(self.elements(3)) == 40, timeout=30)
        for _, _, (msgs,) in self.batches:
            body = sum(ELEMENT_OVERHEAD + len(e[3]) for e in msgs)
            self.assertLessEqual(body, 64 * 1024)
        self.assertEqual([e[0] for e in self.elements(3)], list(range(40)))
        self.assertTrue(any(len(msgs) == 3 for _, _, (msgs,) in self.batches))

    def test_other_groups_stay_per_message(self):
        self.burst([(PLAIN, 4, 1, b'a'), (BATCHED, 4, 2, b'b'), (PLAIN, 4, 3, b'c')])
        self.client.pump(lambda: len(self.singles) == 2 and self.elements(4), timeout=30)
        self.assertEqual([s[2][2] for s in self.singles], [1, 3])
        self.assertEqual([e[0] for e in self.elements(4)], [2])

    def test_counting_rule(self):
        n = 50000
        self.injector.send(BATCHED, IDX, 5, seq=0xffffffff)      # the id object first
        self.client.pump(lambda: self.elements(5))
        del self.batches[:]
        before = self.counters()
        self.burst([(BATCHED, 5, i, b'') for i in range(n)])

        def accounted():
            self.client.pump()
            c = self.counters()
            return len(self.elements(5)) + c['KernelDroppedMessages'] - before['KernelDroppedMessages'] + \
                c['BusDroppedMessages'] - before['BusDroppedMessages'] >= n
        wait_for(accounted, timeout=60, what='every message delivered or counted')
        self.client.settle(0.5)
        after = self.counters()
        seqs = [e[0] for e in self.elements(5)]
        self.assertEqual(seqs, sorted(set(seqs)))
        self.assertEqual(len(seqs) + after['KernelDroppedMessages'] - before['KernelDroppedMessages'] +
                         after['BusDroppedMessages'] - before['BusDroppedMessages'], n)


class BatchedBroker(Batched):
    BUS_KIND = 'dbus-broker'


if __name__ == '__main__':
    main()
