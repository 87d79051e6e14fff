# SPDX-License-Identifier: LGPL-2.1-or-later
"""Integration test harness: a private bus (dbus-daemon or dbus-broker) with the shipped
policy, cnd started against it as its own user and the real kernel connector, D-Bus clients,
and a netlink injector that multicasts hand-made cn_msg into connector groups as root.
Each concern has a module of its own; this one holds the test case and names them all, so a
test imports what it needs from here.

Nothing that runs as another user (cnd as user cnd, clients as nobody) is run from the clone:
it may live in /root, mode 0700. reachable() hands them copies in a directory they can read."""


import os
import sys
import time
import unittest

from busnames import (BUS_NAME, ID_IFACE, ID_PATH_PREFIX, MANAGER_IFACE, MANAGER_PATH, NAMES, NAMES_HEADER,
                      PROC_IFACE, PROC_PATH, PROCESSES_IFACE, PROCESSES_PATH, bus_names)
from cndpaths import BUILD_DIR, CND, FORK_STORM, POLICY, SOURCE_DIR, require_built
from cndrunner import Daemon
from dbusclient import Client, Gio, GLib
from kernelside import (CN_MSG, NETLINK_CONNECTOR, NLMSG_DONE, NLMSGHDR, PROC_EVENT, PROC_EVENT_NAMES,
                        ConnectorList, Injector, ProcListener, rss_kib)
from pace import fork_pace, slowdown
from privatebus import (BUS_CONF, JOURNAL_SOCKET, JournalSink, PrivateBus, journal_has_reader,
                        parse_journal_datagram, take_journal_socket)
from staging import (DAEMON_CAPS, DAEMON_USER, HARNESS_MODULES, as_user, ensure_group, ensure_user, reachable,
                     reachable_modules, run_as, spawn_as, unprivileged_user)
from waits import scaled, storm_timeout, wait_for

__all__ = [
    'BUILD_DIR', 'BUS_CONF', 'BUS_NAME', 'CN_MSG', 'CND', 'CndTestCase', 'Client', 'ConnectorList', 'DAEMON_CAPS',
    'DAEMON_USER', 'Daemon', 'FORK_STORM', 'Gio', 'GLib', 'HARNESS_MODULES', 'ID_IFACE', 'ID_PATH_PREFIX',
    'Injector', 'JOURNAL_SOCKET', 'JournalSink', 'MANAGER_IFACE', 'MANAGER_PATH', 'NAMES', 'NAMES_HEADER',
    'NETLINK_CONNECTOR', 'NLMSG_DONE', 'NLMSGHDR', 'POLICY', 'PROC_EVENT', 'PROC_EVENT_NAMES', 'PROC_IFACE',
    'PROC_PATH', 'PROCESSES_IFACE', 'PROCESSES_PATH', 'PrivateBus', 'ProcListener', 'SOURCE_DIR', 'as_user',
    'bus_names', 'ensure_group', 'ensure_user', 'fork_pace', 'journal_has_reader', 'main', 'parse_journal_datagram',
    'reachable', 'reachable_modules', 'require_built', 'rss_kib', 'run_as', 'scaled', 'slowdown', 'spawn_as',
    'storm_timeout', 'take_journal_socket', 'unprivileged_user', 'wait_for',
]


class CndTestCase(unittest.TestCase):
    """Starts a bus and cnd per test; subclasses set CONFIG and BUS_KIND."""

    CONFIG = ''
    BUS_KIND = 'dbus-daemon'
    EXTRA_POLICY = ''
    START = True
    CND_ENV = {}        # what cnd's environment adds (CND_TEST_* hooks)

    def setUp(self):
        self.bus = PrivateBus(self.BUS_KIND, self.EXTRA_POLICY).start()
        self.addCleanup(self.bus.stop)
        self.cnd = Daemon(self.bus, self.CONFIG)
        self.addCleanup(self._stop_cnd)
        if self.START:
            self.cnd.start(env=self.CND_ENV)
        self.client = Client(self.bus.address)
        self.addCleanup(self.client.close)
        self.injector = Injector()
        self.addCleanup(self.injector.close)

    def _failed(self):
        result = getattr(self._outcome, 'result', None)
        return result is not None and any(t is self for t, _ in result.failures + result.errors)

    def _stop_cnd(self):
        # On failure, cnd's log is what tells why.
        if self._failed() and self.cnd.proc and os.path.exists(self.cnd.log_path):
            sys.stderr.write(f'--- cnd log of {self.id()} ---\n{self.cnd.log_text()[-6000:]}--- end ---\n')
        self.cnd.stop()

    def counters(self):
        props = self.client.get_all()
        return {k: props[k] for k in ('ReceivedMessages', 'RejectedMessages', 'KernelDroppedMessages',
                                      'BusDroppedMessages', 'Overruns')}

    def counters_since(self, before):
        """How much each counter of counters() grew since before."""
        return {k: v - before[k] for k, v in self.counters().items()}

    def wait_settled(self, timeout=300):
        """Waits until cnd's counters stop moving: whatever was in flight has been handled."""
        def settled():
            c = self.counters()
            time.sleep(1.0)
            return c == self.counters()
        wait_for(settled, timeout=timeout, interval=0.5, what="cnd's counters to settle")

    def wait_counter(self, name, value, timeout=10.0):
        wait_for(lambda: self.counters()[name] >= value, timeout, what=f'{name} >= {value}')


def main():
    unittest.main(verbosity=2)
