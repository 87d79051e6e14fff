#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Who may do what: the shipped policy, and the daemon's own check behind it."""


from cndtest import BUS_NAME, ID_IFACE, ID_PATH_PREFIX, MANAGER_PATH, CndTestCase, ensure_group, main, run_as, spawn_as

GROUP = 25
IDX = 0x4545
ADMIN_GROUP = 'cnd-admin'   # meson's default admin_group, named in the shipped policy

ADMIN_CALLS = [
    ('JoinGroup', '(u)', [GROUP + 1]),
    ('LeaveGroup', '(u)', [GROUP]),
    ('Reload', '', []),
    ('Send', '(uuay)', [1, 1, [1, 0, 0, 0]]),
    ('Request', '(uuayu)', [1, 1, [1, 0, 0, 0], 100]),
]

PERMISSIVE = f"""
<policy context="default">
  <allow send_destination="{BUS_NAME}"/>
</policy>
"""


class ShippedPolicy(CndTestCase):
    CONFIG = f"""
[Connector]
Groups={GROUP}
AcceptUserspaceSenders=yes
ScanIntervalSec=0
"""

    def test_anyone_reads_properties_and_introspects(self):
        self.assertEqual(run_as('nobody', self.bus.address, 'get', 'Groups'), {'ok': [GROUP]})
        ids = run_as('nobody', self.bus.address, 'get', 'Ids')['ok']
        self.assertIn([1, 1, 'cn_proc'], ids)
        xml = run_as('nobody', self.bus.address, 'introspect', MANAGER_PATH)['ok']
        self.assertIn('<arg type="u" name="timeout_msec" direction="in"/>', xml)
        self.assertEqual(run_as('nobody', self.bus.address, 'get', 'Name', f'{ID_PATH_PREFIX}/1/1',
                                ID_IFACE), {'ok': 'cn_proc'})

    def test_anyone_receives_signals(self):
        p = spawn_as('nobody', self.bus.address, 'listen', 3, f'{ID_PATH_PREFIX}/{IDX}')
        self.assertEqual(p.stdout.readline().strip(), 'ready')
        for seq in range(3):
            self.injector.send(GROUP, IDX, 1, seq=seq, data=b'hi')
        out, err = p.communicate(timeout=30)
        got = __import__('json').loads(out.strip().splitlines()[-1])
        self.assertEqual([g[2] for g in got['ok']], [0, 1, 2], err)

    def test_admin_methods_denied_to_others(self):
        for method, sig, args in ADMIN_CALLS:
            with self.subTest(method=method):
                r = run_as('nobody', self.bus.address, 'call', method, sig, __import__('json').dumps(args))
                self.assertEqual(r.get('error'), 'org.freedesktop.DBus.Error.AccessDenied', r)
        self.assertEqual(self.client.get('Groups'), [GROUP])

    def test_root_may_change_groups(self):
        self.client.call('JoinGroup', (GROUP + 1,), '(u)')
        self.assertEqual(self.client.get('Groups'), [GROUP, GROUP + 1])
        self.client.call('LeaveGroup', (GROUP + 1,), '(u)')
        self.assertEqual(self.client.get('Groups'), [GROUP])


class AdminGroup(CndTestCase):
    START = False

    def setUp(self):
        self.gid = ensure_group(ADMIN_GROUP)
        super().setUp()
        self.cnd.write_config(f'[Connector]\nGroups={GROUP}\n[Bus]\nAdminGroup={ADMIN_GROUP}\n')
        self.cnd.start()

    def test_member_of_admin_group_is_allowed(self):
        r = run_as('nobody', self.bus.address, 'call', 'JoinGroup', '(u)', f'[{GROUP + 2}]', groups=[self.gid])
        self.assertEqual(r, {'ok': None})
        self.assertEqual(self.client.get('Groups'), [GROUP, GROUP + 2])

    def test_non_member_is_denied(self):
        r = run_as('nobody', self.bus.address, 'call', 'JoinGroup', '(u)', f'[{GROUP + 2}]')
        self.assertEqual(r.get('error'), 'org.freedesktop.DBus.Error.AccessDenied')


class DaemonChecksItself(CndTestCase):
    """A policy that lets everyone through must not open the admin methods."""
    EXTRA_POLICY = PERMISSIVE
    CONFIG = f'[Connector]\nGroups={GROUP}\n'

    def test_daemon_denies_unprivileged_caller(self):
        for method, sig, args in ADMIN_CALLS:
            with self.subTest(method=method):
                r = run_as('nobody', self.bus.address, 'call', method, sig, __import__('json').dumps(args))
                self.assertEqual(r.get('error'), 'org.freedesktop.DBus.Error.AccessDenied', r)
                self.assertIn('Only root', r.get('message', ''))
        self.assertEqual(self.client.get('Groups'), [GROUP])


class ShippedPolicyBroker(ShippedPolicy):
    BUS_KIND = 'dbus-broker'


class AdminGroupBroker(AdminGroup):
    BUS_KIND = 'dbus-broker'


class DaemonChecksItselfBroker(DaemonChecksItself):
    BUS_KIND = 'dbus-broker'


if __name__ == '__main__':
    main()
