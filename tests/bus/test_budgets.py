#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Budgets per user, and the relay's turn: one unprivileged user floods cnd with the reads
anyone may make from 200 connections at once, while a group is relayed at 1000 messages/s and a
fork storm runs, and another user reads a property now and then. The flood shares one budget
however many connections it opens, so the other user is answered every time; and the connector
socket is read at least every RELAY_TURN bus messages, so however fast the flood comes the
kernel drops nothing and cn_proc's table needs no resync. Counts, not times, are asserted."""

import os
import pwd
import signal
import subprocess
import time
import unittest

from cndtest import (BUILD_DIR, PROC_IFACE, PROC_PATH, PROCESSES_IFACE, PROCESSES_PATH, CndTestCase, main,
                     reachable, run_as, storm_timeout, wait_for)

HELPERS = os.path.join(BUILD_DIR, 'tests', 'helpers')
# Floods measure what cnd keeps up with: the plain build's, not valgrind's or ASan's.
CHECKED_BUILD = bool(os.environ.get('CND_TEST_WRAPPER') or os.environ.get('CND_TEST_SANITIZED'))
GROUP = 30
IDX = 0x4849
RATE = 1000
INJECT_SECONDS = 10
CONNECTIONS = 200
FORKS = 5000
# The other user: not nobody, whose budget the flood spends; not root.
OTHER_USER = 'daemon'
OTHER_READS = 60


def as_nobody(*cmd, **kw):
    return subprocess.Popen(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'] + list(cmd), **kw)


@unittest.skipIf(CHECKED_BUILD, 'throughput under a flood is measured on the plain build')
class FloodOfOneUser(CndTestCase):
    CONFIG = (f'[Connector]\nGroups=1 {GROUP}\nAcceptUserspaceSenders=yes\nScanIntervalSec=0\n'
              'ReceiveBufferSize=8M\n')

    def resyncs(self):
        return self.client.get('Resyncs', path=PROCESSES_PATH, iface=PROCESSES_IFACE)

    def test_flood_relay_and_storm(self):
        try:
            pwd.getpwnam(OTHER_USER)
        except KeyError:
            self.skipTest(f'no user {OTHER_USER} to be the other user')
        wait_for(lambda: self.client.get('Listening', path=PROC_PATH, iface=PROC_IFACE), what='cnd to listen')
        before, resyncs = self.counters(), self.resyncs()

        flood = as_nobody(reachable(os.path.join(HELPERS, 'bus-flood')), self.bus.address, str(CONNECTIONS), '3600',
                          stdout=subprocess.PIPE, text=True)
        self.addCleanup(flood.kill)
        time.sleep(2.0)     # every connection is flooding
        allowed = storm_timeout(FORKS)
        inject = subprocess.Popen([os.path.join(HELPERS, 'cn-inject'), str(GROUP), str(IDX), '0',
                                   str(RATE * INJECT_SECONDS), '16', str(RATE)], stdout=subprocess.PIPE, text=True)
        self.addCleanup(inject.kill)
        storm = subprocess.Popen([os.path.join(HELPERS, 'fork-storm'), str(FORKS)], stdout=subprocess.PIPE)
        self.addCleanup(storm.kill)
        other = run_as(OTHER_USER, self.bus.address, 'get-repeat', OTHER_READS, 'Groups', timeout=allowed)
        storm.communicate(timeout=allowed)
        injected = int(inject.communicate(timeout=allowed)[0].split()[1])

        self.assertIsNone(flood.poll(), 'the flood ended before the storm and the relay did')
        flood.send_signal(signal.SIGTERM)
        calls, answered, refused = (int(x) for x in flood.communicate(timeout=120)[0].split()[1::2])
        self.wait_settled()
        grew = self.counters_since(before)
        print(f'flood of {CONNECTIONS} connections of nobody: {calls} calls, {answered} answered, {refused} '
              f'refused; {OTHER_USER}: {other}; {injected} injected into group {GROUP} at {RATE}/s and '
              f'{FORKS} forks: cnd received {grew["ReceivedMessages"]}, KernelDroppedMessages '
              f'+{grew["KernelDroppedMessages"]}, Overruns +{grew["Overruns"]}, Resyncs +{self.resyncs() - resyncs}')
        self.assertEqual(injected, RATE * INJECT_SECONDS)
        # The flood was over its budget for most of the run: the budget is the user's, not each
        # connection's.
        self.assertGreater(refused, answered)
        self.assertEqual(other['ok'], {'answered': OTHER_READS, 'errors': []})
        self.assertEqual(grew['KernelDroppedMessages'], 0)
        self.assertEqual(grew['Overruns'], 0)
        self.assertEqual(self.resyncs() - resyncs, 0)
        self.assertGreaterEqual(grew['ReceivedMessages'], injected + FORKS)


class FloodOfOneUserBroker(FloodOfOneUser):
    BUS_KIND = 'dbus-broker'


if __name__ == '__main__':
    main()
