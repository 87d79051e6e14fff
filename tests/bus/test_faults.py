#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Faults: a broken connector socket, the bus going away, reload storms under traffic, and
start-up where cnd cannot work: no connector, a bus policy that refuses it."""

import re
import signal
import subprocess
import threading
import time

from cndtest import BUS_NAME, ID_IFACE, ID_PATH_PREFIX, PROC_IFACE, CndTestCase, Daemon, main, wait_for

GROUP = 29
IDX = 0x4747


class SocketFault(CndTestCase):
    """Netlink gives no way to break a socket from outside (ENOBUFS aside), so cnd's test hook
    CND_TEST_NETLINK_READ_FAULT=N makes its Nth read fail as a broken socket would."""
    START = False

    def test_socket_error_reopens_and_rejoins(self):
        self.cnd.write_config(f'[Connector]\nGroups=1 {GROUP}\nAcceptUserspaceSenders=yes\n')
        self.cnd.start(env={'CND_TEST_NETLINK_READ_FAULT': '5'})
        got = self.client.subscribe('Message', iface=ID_IFACE, path_namespace=f'{ID_PATH_PREFIX}/{IDX}')
        execs = self.client.subscribe('Exec', iface=PROC_IFACE)
        for seq in range(20):
            self.injector.send(GROUP, IDX, 1, seq=seq)
            time.sleep(0.02)
        wait_for(lambda: 'Opened a new connector socket' in self.cnd.log_text(), what='the reopen')
        self.assertIsNone(self.cnd.proc.poll())
        self.assertEqual(self.client.get('Groups'), [1, GROUP])

        # Messages and process events flow again on the new socket.
        del got[:]
        self.injector.send(GROUP, IDX, 1, seq=1000)
        self.client.pump(lambda: any(g[2][2] == 1000 for g in got))
        p = subprocess.Popen(['true'])
        p.wait()
        self.client.pump(lambda: any(e[2][0] == p.pid for e in execs))


class BusLoss(CndTestCase):
    # No timer of cnd's runs in this configuration (no rescans, no cn_proc, no watchdog): if cnd
    # exits, the bus's hang-up woke it. How soon depends on the machine's load, and is printed.
    CONFIG = f'[Connector]\nGroups={GROUP}\nScanIntervalSec=0\n'

    def test_bus_killed_exits_nonzero_on_the_hangup(self):
        for proc in self.bus.procs:
            proc.kill()
        start = time.monotonic()
        rc = self.cnd.wait_exit(timeout=120)
        print(f'cnd exited {time.monotonic() - start:.3f} s after the bus was killed')
        self.assertNotEqual(rc, 0)
        # It says why before it goes.
        self.assertRegex(self.cnd.log_text(), r"<3>(\S+:\d+: )?The system bus closed cnd's connection")


class StartupRefused(CndTestCase):
    """cnd does not start, and says why, where it cannot do its job."""
    START = False

    def start_failing(self, **kw):
        self.cnd.stop()
        self.cnd = Daemon(self.bus, f'[Connector]\nGroups={GROUP}\n', **kw)
        self.addCleanup(self.cnd.stop)
        self.cnd.start(wait=False)
        self.assertNotEqual(self.cnd.wait_exit(), 0)
        self.assertNotIn('READY=1', self.cnd.read_notifications())
        return self.cnd.log_text()

    def test_no_connector(self):
        # The connector exists only in the initial network namespace: in another one, cnd meets
        # what it would on a kernel without CONFIG_CONNECTOR, for real.
        log = self.start_failing(user='root', prefix=['unshare', '--net'])
        self.assertRegex(log, r'<3>(\S+:\d+: )?No kernel connector here \(/proc/net/connector: No such file')
        self.assertIn('CONFIG_CONNECTOR', log)

    def test_policy_refuses_the_name(self):
        # The shipped policy lets only cnd (and root) own the name.
        log = self.start_failing(user='nobody')
        self.assertRegex(log, rf'<3>(\S+:\d+: )?Failed to acquire bus name {re.escape(BUS_NAME)}: Permission denied')
        self.assertIn('org.cnd.Connector1.conf', log)


class StartupRefusedBroker(StartupRefused):
    BUS_KIND = 'dbus-broker'


class ReloadStorm(CndTestCase):
    CONFIG = f'[Connector]\nGroups={GROUP}\nAcceptUserspaceSenders=yes\nReceiveBufferSize=64M\n'

    def test_sighup_storm_under_traffic_counts_every_message_once(self):
        n = 20000
        got = self.client.subscribe('Message', iface=ID_IFACE, path_namespace=f'{ID_PATH_PREFIX}/{IDX}')
        self.injector.send(GROUP, IDX, 2, seq=0xffffffff)        # the id object first
        self.client.pump(lambda: got)
        del got[:]
        before = self.counters()

        def hups():
            for _ in range(50):
                self.cnd.signal(signal.SIGHUP)
                time.sleep(0.01)
        t = threading.Thread(target=hups)
        t.start()
        for seq in range(n):
            self.injector.send(GROUP, IDX, 2, seq=seq)
        t.join()

        def accounted():
            self.client.pump()
            c = self.counters()
            return len(got) + c['KernelDroppedMessages'] - before['KernelDroppedMessages'] + \
                c['BusDroppedMessages'] - before['BusDroppedMessages'] >= n
        wait_for(accounted, timeout=120, what='every message delivered or counted')
        self.client.settle(1.0)
        after = self.counters()
        seqs = [g[2][2] for g in got]
        self.assertEqual(len(seqs), len(set(seqs)))               # nothing twice
        self.assertEqual(seqs, sorted(seqs))
        self.assertEqual(len(got) + (after['KernelDroppedMessages'] - before['KernelDroppedMessages']) +
                         (after['BusDroppedMessages'] - before['BusDroppedMessages']), n)
        self.assertEqual(self.client.get('Groups'), [GROUP])
        self.assertIsNone(self.cnd.proc.poll())


if __name__ == '__main__':
    main()
