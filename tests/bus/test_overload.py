#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Overload: a subscriber that stops reading while ten times what the bus can carry is injected,
and injection at the machine's full rate with nobody listening. cnd must stay up, keep its
memory under its documented bound, answer calls (on dbus-broker), and account for every
message: delivered to a healthy witness, or counted as dropped by the kernel or by cnd."""

import os
import pwd
import re
import signal
import statistics
import subprocess
import threading
import time

import unittest

from cndtest import (BUILD_DIR, ID_PATH_PREFIX, MANAGER_PATH, CndTestCase, main, reachable, rss_kib,
                     wait_for)

# Memory and timing are the plain build's to measure: valgrind and ASan change both.
CHECKED_BUILD = bool(os.environ.get('CND_TEST_WRAPPER') or os.environ.get('CND_TEST_SANITIZED'))

HELPERS = os.path.join(BUILD_DIR, 'tests', 'helpers')
GROUP = 30
IDX = 0x4848
# cnd(8), LOSS ACCOUNTING: with the default MaxQueuedSignals=8192 and small messages cnd stays
# below this much resident memory whatever its subscribers do.
RSS_BOUND_KIB = 32 * 1024


def inject(seconds, rate=0, nice=0, size=16, first_seq=0):
    """Multicasts messages of size bytes for that long (at a rate, or as fast as the kernel takes
    them), numbered from first_seq; returns how many went out."""
    inj = subprocess.run(['nice', '-n', str(nice), os.path.join(HELPERS, 'cn-inject'), str(GROUP), str(IDX), '0',
                          '4000000000', str(size), str(rate), str(first_seq), str(seconds)],
                         capture_output=True, text=True, check=True)
    return int(inj.stdout.split()[1])


class Sampler(threading.Thread):
    """Samples cnd's memory every 0.25 s and, with a client of its own, how long the bus itself
    takes to answer (GetId) and then how long cnd takes (Ping and a property read), one right
    after the other: the bus's answer is the yardstick for cnd's in the same moment."""

    def __init__(self, pid, address):
        super().__init__(daemon=True)
        self.pid, self.address = pid, address
        self.max_rss = 0
        self.samples = []           # (bus's seconds, cnd's seconds)
        self.failures = []
        self.stopping = threading.Event()

    @property
    def max_latency(self):
        return max((c for _, c in self.samples), default=0.0)

    @property
    def max_bus_latency(self):
        return max((b for b, _ in self.samples), default=0.0)

    def rounded(self):
        return [(round(b * 1000, 1), round(c * 1000, 1)) for b, c in self.samples]

    def run(self):
        from cndtest import Client
        client = Client(self.address)
        while not self.stopping.is_set():
            self.max_rss = max(self.max_rss, rss_kib(self.pid))
            start = time.monotonic()
            client.call('GetId', dest='org.freedesktop.DBus', path='/org/freedesktop/DBus',
                        iface='org.freedesktop.DBus')
            middle = time.monotonic()
            try:
                client.call('Ping', path=MANAGER_PATH, iface='org.freedesktop.DBus.Peer')
                client.get('ReceivedMessages')
            except Exception as e:        # a timeout is what is measured here
                self.failures.append(str(e))
            self.samples.append((middle - start, time.monotonic() - middle))
            time.sleep(0.25)
        client.close()


@unittest.skipIf(CHECKED_BUILD, 'resource limits are measured on the plain build')
class StalledSubscriber(CndTestCase):
    CONFIG = f'[Connector]\nGroups={GROUP}\nAcceptUserspaceSenders=yes\nScanIntervalSec=0\n'
    START = False
    SECONDS = 15
    RATE = 1000000      # ten times what one bus carries to one subscriber here
    CHECK_LIVENESS = False      # dbus-daemon itself holds cnd's replies back
    STALLED_USER = 'nobody'

    def subscriber(self, user):
        # Each as a user of its own: dbus-broker keeps its quotas per user, and the stalled
        # subscriber must use up only its own.
        pw = pwd.getpwnam(user)
        p = subprocess.Popen(['setpriv', f'--reuid={pw.pw_uid}', f'--regid={pw.pw_gid}', '--clear-groups',
                              reachable(os.path.join(HELPERS, 'bus-count')), self.bus.address,
                              f'{ID_PATH_PREFIX}/{IDX}', '0', '600000'],
                             stdout=subprocess.PIPE, text=True)
        self.addCleanup(p.kill)
        self.assertEqual(p.stdout.readline().strip(), 'ready')
        return p

    def flood(self, seconds, first_seq=0):
        """Injects at RATE for that long while a Sampler watches; returns (sampler, sent)."""
        sampler = Sampler(self.cnd.proc.pid, self.bus.address)
        sampler.start()
        # The load generator yields to the rest on this small machine: the witness must be able
        # to keep up with what the bus passes on, or the bus (dbus-broker) cuts it off too.
        sent = inject(seconds, self.RATE, nice=10, first_seq=first_seq)
        sampler.stopping.set()
        sampler.join()
        return sampler, sent

    @staticmethod
    def settled_count(witness):
        """What the witness has received once it stops receiving more."""
        last = [-1]

        def settled():
            witness.send_signal(signal.SIGUSR1)
            n = int(witness.stdout.readline().split()[1])
            done, last[0] = n == last[0], n
            return done
        wait_for(settled, timeout=300, interval=1.0, what='the witness to have read everything')
        return last[0]

    def test_stall_bounded_memory_and_exact_accounting(self):
        # A service manager's watchdog: WATCHDOG=1 every half second, overload or not.
        self.cnd.write_config(self.CONFIG)
        self.cnd.start(env={'WATCHDOG_USEC': '1000000'})
        # The id's object exists before the clock starts.
        self.injector.send(GROUP, IDX, 0, seq=0xffffffff)
        time.sleep(0.5)
        witness = self.subscriber('daemon')
        stalled = self.subscriber(self.STALLED_USER)
        unstalled, first_seq = None, 0
        if self.CHECK_LIVENESS:
            # The yardstick: how cnd answers under the same flood while every subscriber reads.
            # cnd's replies queue behind the signals it has written to the bus, so on this
            # machine, loaded or not, that is what an answer costs; a stall must not add to it.
            unstalled, first_seq = self.flood(8)
            self.wait_settled()
        counted_before = self.settled_count(witness)
        stalled.send_signal(signal.SIGSTOP)
        before = self.counters()

        pings_before = self.cnd.read_notifications().count('WATCHDOG=1')
        sampler, sent = self.flood(self.SECONDS, first_seq)  # the witness checks the order
        pings = self.cnd.read_notifications().count('WATCHDOG=1') - pings_before
        self.assertIsNone(witness.poll(), 'the bus cut the witness off')
        # Fed all along: about two a second; a watchdog would fire after a second without one.
        self.assertGreaterEqual(pings, self.SECONDS)

        # The stall ends: the stalled subscriber reads (or is gone); everything settles.
        stalled.send_signal(signal.SIGCONT)

        self.wait_settled()
        counted = self.settled_count(witness)
        witness.send_signal(signal.SIGTERM)
        out, _ = witness.communicate(timeout=60)
        f = out.split()
        delivered, disorder = counted - counted_before, int(f[f.index('disorder') + 1])
        after = self.counters()
        kernel = after['KernelDroppedMessages'] - before['KernelDroppedMessages']
        bus = after['BusDroppedMessages'] - before['BusDroppedMessages']

        print(f'{self.BUS_KIND}: sent {sent} in {self.SECONDS} s; witness got {delivered}, kernel dropped '
              f'{kernel}, cnd dropped {bus}; cnd max RSS {sampler.max_rss} KiB; {pings} watchdog pings')
        for name, s in (('unstalled', unstalled), ('stalled', sampler)):
            if s:
                print(f'  {name}: slowest Ping+Get {s.max_latency:.3f} s, slowest GetId of the bus '
                      f'{s.max_bus_latency:.3f} s; (bus, cnd) ms {s.rounded()}')
        self.assertIsNone(self.cnd.proc.poll())
        self.assertEqual(disorder, 0)
        self.assertEqual(delivered + kernel + bus, sent)
        self.assertLess(sampler.max_rss, RSS_BOUND_KIB)
        if self.CHECK_LIVENESS:
            self.assertEqual(sampler.failures, [])
            # Answers during the stall against answers without it, plus what the bus itself was
            # slow by meanwhile. The slowest of a few dozen samples is a noisy figure, hence the
            # factors; a cnd that the stall held up would answer late by the stall's length.
            slack = sampler.max_bus_latency
            self.assertLessEqual(statistics.median(c for _, c in sampler.samples), 2 * unstalled.max_latency + slack)
            self.assertLessEqual(sampler.max_latency, 4 * unstalled.max_latency + slack)


class StalledSubscriberBroker(StalledSubscriber):
    BUS_KIND = 'dbus-broker'
    CHECK_LIVENESS = True


class StalledRootSubscriberBroker(StalledSubscriberBroker):
    """dbus-broker keeps its quotas per user: cnd runs as its own, so a stalled subscriber
    running as root uses up root's quota, and the broker does not disconnect cnd."""
    STALLED_USER = 'root'
    # The sampler's Ping and Get come from root too, whose quota the stall uses up.
    CHECK_LIVENESS = False


@unittest.skipIf(CHECKED_BUILD, 'resource limits are measured on the plain build')
class NoSubscriber(CndTestCase):
    CONFIG = f'[Connector]\nGroups={GROUP}\nAcceptUserspaceSenders=yes\nScanIntervalSec=0\n'

    def test_full_rate_for_thirty_seconds(self):
        before = self.counters()
        sampler = Sampler(self.cnd.proc.pid, self.bus.address)
        sampler.start()
        sent = inject(30)
        sampler.stopping.set()
        sampler.join()

        self.wait_settled()
        after = self.counters()
        received = after['ReceivedMessages'] - before['ReceivedMessages']
        kernel = after['KernelDroppedMessages'] - before['KernelDroppedMessages']
        print(f'no subscriber: sent {sent} in 30 s; cnd received {received}, kernel dropped {kernel}, '
              f'cnd dropped {after["BusDroppedMessages"] - before["BusDroppedMessages"]}; '
              f'max RSS {sampler.max_rss} KiB')
        self.assertEqual(received + kernel, sent)
        self.assertLess(sampler.max_rss, RSS_BOUND_KIB)
        self.assertIsNone(self.cnd.proc.poll())


class QueueBytesBound(CndTestCase):
    """MaxQueuedBytes= bounds the bus queue when signals are large, long before the count bound
    would: the bus is stopped, cnd's writes back up, and cnd pauses its socket."""
    CONFIG = (f'[Connector]\nGroups={GROUP}\nAcceptUserspaceSenders=yes\nScanIntervalSec=0\n'
              f'ReceiveBufferSize=64M\n[Bus]\nMaxQueuedSignals=100000\nMaxQueuedBytes=256K\n')

    def test_large_signals_pause_at_the_byte_bound(self):
        n = 2000
        self.injector.send(GROUP, IDX, 0, seq=0xffffffff)      # the id object first
        wait_for(lambda: self.counters()['ReceivedMessages'] >= 1, what='the first message')
        before = self.counters()

        for p in self.bus.procs:
            p.send_signal(signal.SIGSTOP)
        try:
            subprocess.run([os.path.join(HELPERS, 'cn-inject'), str(GROUP), str(IDX), '0', str(n), '16384'],
                           check=True, capture_output=True)
            wait_for(lambda: 'pausing the connector socket' in self.cnd.log_text(), what='the pause')
        finally:
            for p in self.bus.procs:
                p.send_signal(signal.SIGCONT)

        line = next(l for l in self.cnd.log_text().splitlines() if 'pausing the connector socket' in l)
        queued, kib = (int(x) for x in re.search(r'holds (\d+) signals, about (\d+) KiB', line).groups())
        # 256 KiB of 16 KiB signals: about 15, nowhere near the 100000 the count bound allows.
        self.assertLess(queued, 100)
        self.assertLessEqual(kib, 256 + 17)

        self.wait_settled()
        after = self.counters()
        self.assertEqual(after['ReceivedMessages'] - before['ReceivedMessages'] +
                         after['KernelDroppedMessages'] - before['KernelDroppedMessages'], n)
        self.assertIsNone(self.cnd.proc.poll())


if __name__ == '__main__':
    main()
