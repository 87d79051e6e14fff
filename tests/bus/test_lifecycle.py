#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Start-up, reload, stop and loss of the bus, as a service manager sees them."""

import pwd
import signal
import time

from cndtest import ID_IFACE, ID_PATH_PREFIX, MANAGER_IFACE, MANAGER_PATH, CndTestCase, main

GROUP_A = 23
GROUP_B = 24
IDX = 0x4444


class Lifecycle(CndTestCase):
    CONFIG = f"""
[Connector]
Groups={GROUP_A}
AcceptUserspaceSenders=yes
ScanIntervalSec=0
"""

    def test_ready_and_status(self):
        notes = self.cnd.read_notifications()
        self.assertIn('READY=1', notes)
        self.assertTrue(any(n.startswith('STATUS=') for n in notes))
        # The name is owned once READY=1 is sent.
        self.assertEqual(self.client.get('Version', path=MANAGER_PATH), self.client.get('Version'))

    def test_runs_as_its_own_user_with_only_its_capabilities(self):
        # As cnd.service runs it: User=cnd, AmbientCapabilities=CAP_NET_ADMIN CAP_SYS_PTRACE.
        with open(f'/proc/{self.cnd.proc.pid}/status') as f:
            status = dict(line.rstrip('\n').split(':\t', 1) for line in f if ':\t' in line)
        self.assertEqual(int(status['Uid'].split()[0]), pwd.getpwnam('cnd').pw_uid)
        self.assertEqual(int(status['CapEff'], 16), (1 << 12) | (1 << 19))
        self.assertEqual(self.client.get('Groups'), [GROUP_A])

    def test_sigterm_stops_cleanly(self):
        mark = self.cnd.notify_mark()
        self.cnd.signal(signal.SIGTERM)
        self.assertEqual(self.cnd.wait_exit(), 0)
        self.assertIn('STOPPING=1', self.cnd.read_notifications()[mark:])
        self.assertIn(f'Left connector group {GROUP_A}', self.cnd.log_text())

    def test_sigint_stops_cleanly(self):
        self.cnd.signal(signal.SIGINT)
        self.assertEqual(self.cnd.wait_exit(), 0)

    def test_sighup_applies_group_change(self):
        changed = self.client.subscribe('PropertiesChanged', iface='org.freedesktop.DBus.Properties',
                                        path=MANAGER_PATH)
        got = self.client.subscribe('Message', iface=ID_IFACE, path_namespace=f'{ID_PATH_PREFIX}/{IDX}')
        self.assertEqual(self.client.get('Groups'), [GROUP_A])

        self.cnd.write_config(self.CONFIG.replace(f'Groups={GROUP_A}', f'Groups={GROUP_B}'))
        mark = self.cnd.notify_mark()
        self.cnd.signal(signal.SIGHUP)
        self.cnd.wait_notified('READY=1', start=mark)
        self.assertIn('RELOADING=1', self.cnd.read_notifications()[mark:])
        self.assertEqual(self.client.get('Groups'), [GROUP_B])
        self.client.pump(lambda: any(c[2][0] == MANAGER_IFACE and 'Groups' in c[2][1] for c in changed))

        self.injector.send(GROUP_A, IDX, 1, seq=1)
        self.injector.send(GROUP_B, IDX, 1, seq=2)
        self.client.pump(lambda: len(got) >= 1)
        self.client.settle()
        self.assertEqual([g[2][2] for g in got], [2])

    def test_invalid_config_on_sighup_keeps_the_old_one(self):
        self.cnd.write_config(f'[Connector]\nGroups={GROUP_B}\nBogus=1\n')
        mark = self.cnd.notify_mark()
        self.cnd.signal(signal.SIGHUP)
        self.cnd.wait_notified('READY=1', start=mark)
        self.assertEqual(self.client.get('Groups'), [GROUP_A])
        self.assertIn(f'{self.cnd.config_path}:3:', self.cnd.log_text())
        self.assertIsNone(self.cnd.proc.poll())

    def test_losing_the_bus_exits_nonzero(self):
        self.bus.stop()
        self.assertNotEqual(self.cnd.wait_exit(timeout=10), 0)
        self.assertIsNotNone(self.cnd.proc.returncode)


class Watchdog(CndTestCase):
    START = False

    def test_watchdog_is_fed(self):
        self.cnd.start(env={'WATCHDOG_USEC': '200000'})
        time.sleep(1.0)
        self.assertGreaterEqual(self.cnd.read_notifications().count('WATCHDOG=1'), 2)


class LifecycleBroker(Lifecycle):
    BUS_KIND = 'dbus-broker'


if __name__ == '__main__':
    main()
