#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Loss is counted exactly: N injected == delivered + KernelDroppedMessages + BusDroppedMessages."""

import signal

from cndtest import ID_IFACE, ID_PATH_PREFIX, MANAGER_IFACE, CndTestCase, main, wait_for

GROUP = 22
IDX = 0x4343
N = 20000


class CountingRule(CndTestCase):
    # The smallest queue the kernel allows: a burst of N is far larger.
    CONFIG = f"""
[Connector]
Groups={GROUP}
AcceptUserspaceSenders=yes
ReceiveBufferSize=4K
ScanIntervalSec=0
"""

    def test_burst_larger_than_receive_buffer(self):
        got = self.client.subscribe('Message', iface=ID_IFACE, path_namespace=f'{ID_PATH_PREFIX}/{IDX}')
        overruns = self.client.subscribe('Overrun', iface=MANAGER_IFACE)
        # Make the register-on-first-message work happen before the burst.
        self.injector.send(GROUP, IDX, 0, seq=0xffffffff)
        self.client.pump(lambda: len(got) == 1)
        del got[:]
        before = self.counters()

        # A stopped reader is the surest way to overflow its queue on any machine.
        self.cnd.signal(signal.SIGSTOP)
        try:
            for seq in range(N):
                self.injector.send(GROUP, IDX, 0, seq=seq, data=seq.to_bytes(4, 'little'))
        finally:
            self.cnd.signal(signal.SIGCONT)

        def accounted():
            c = self.counters()
            self.client.pump()
            return len(got) + (c['KernelDroppedMessages'] - before['KernelDroppedMessages']) + \
                (c['BusDroppedMessages'] - before['BusDroppedMessages']) >= N
        wait_for(accounted, timeout=60, what='every message to be delivered or counted')
        self.client.settle(0.5)

        after = self.counters()
        kernel_dropped = after['KernelDroppedMessages'] - before['KernelDroppedMessages']
        bus_dropped = after['BusDroppedMessages'] - before['BusDroppedMessages']
        print(f"delivered {len(got)}, kernel dropped {kernel_dropped}, bus dropped {bus_dropped}")
        self.assertEqual(len(got) + kernel_dropped + bus_dropped, N)
        self.assertGreater(kernel_dropped, 0)
        self.assertGreaterEqual(after['Overruns'] - before['Overruns'], 1)
        self.assertEqual(after['ReceivedMessages'] - before['ReceivedMessages'], N - kernel_dropped)

        # In order, no duplicates, payload intact.
        seqs = [args[2] for _, _, args in got]
        self.assertEqual(seqs, sorted(set(seqs)))
        for _, _, args in got:
            self.assertEqual(int.from_bytes(bytes(args[5]), 'little'), args[2])

        # Overrun reports the loss, and its last one carries the final totals.
        wait_for(lambda: self.client.pump() and overruns and
                 overruns[-1][2] == (after['KernelDroppedMessages'], after['BusDroppedMessages']),
                 timeout=10, what='a final Overrun signal with the totals')


class CountingRuleBroker(CountingRule):
    BUS_KIND = 'dbus-broker'


if __name__ == '__main__':
    main()
