#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""cnd's side of the id-notification protocol: notifications on [Notify] Group= become
IdAdded/IdRemoved at once, and the scan that follows only names the id. The host has no
notification service (that is kernel/cnfeed, tested in the guest); here the notifications are
multicast by the test as the module would send them, accepted as AcceptUserspaceSenders=yes
accepts any sender, and the scan reads the test hook's file."""


from cndtest import ID_IFACE, ID_PATH_PREFIX, MANAGER_IFACE, CndTestCase, ConnectorList, main

GROUP = 27
NOTIFY = 28


class Notifications(CndTestCase):
    START = False

    def setUp(self):
        super().setUp()
        self.connector_list = ConnectorList()
        self.addCleanup(self.connector_list.remove)
        # The periodic scan an hour away: an id seen now was seen through its notification.
        self.cnd.write_config(f'[Connector]\nGroups={GROUP}\nAcceptUserspaceSenders=yes\n'
                              f'ScanIntervalSec=3600\n[Notify]\nGroup={NOTIFY}\n')
        self.cnd.start(env={'CND_TEST_CONNECTOR_LIST': self.connector_list.path})
        self.added = self.client.subscribe('IdAdded', iface=MANAGER_IFACE)
        self.removed = self.client.subscribe('IdRemoved', iface=MANAGER_IFACE)
        self.changed = self.client.subscribe('PropertiesChanged', iface='org.freedesktop.DBus.Properties')

    def write_ids(self, ids):
        self.connector_list.write(ids)

    def notify(self, idx, val, removed):
        self.injector.send(NOTIFY, idx, val, seq=0, ack=1 if removed else 0)

    def test_notify_group_is_joined(self):
        self.assertEqual(self.client.get('Groups'), [GROUP, NOTIFY])

    def test_notifications_give_one_signal_each_at_once(self):
        # As in the kernel: the registration is there before its notification; the scan that
        # each notification asks for names it.
        self.write_ids([('cn_proc', 1, 1), ('cnfeed_data', 55, 1)])
        self.notify(55, 1, removed=False)
        self.client.pump(lambda: self.added, timeout=120)  # long before the hourly scan
        self.assertEqual([a[2] for a in self.added], [(55, 1, '')])
        # Named by now or not, depending on how soon the scan it asked for ran.
        self.assertIn((55, 1), [(i, v) for i, v, _ in self.client.get('Ids')])

        # The scan that follows names the id: a PropertiesChanged, no second IdAdded.
        self.client.pump(lambda: any(a[0] == f'{ID_PATH_PREFIX}/55/1' and
                                     a[2][1].get('Name') == 'cnfeed_data' for a in self.changed))
        self.assertEqual(self.client.get('Name', path=f'{ID_PATH_PREFIX}/55/1', iface=ID_IFACE),
                         'cnfeed_data')
        self.assertIn((55, 1, 'cnfeed_data'), self.client.get('Ids'))

        self.write_ids([('cn_proc', 1, 1)])
        self.notify(55, 1, removed=True)
        self.client.pump(lambda: self.removed)
        self.client.settle(1.0)
        self.assertEqual([a[2] for a in self.added], [(55, 1, '')])
        self.assertEqual([a[2] for a in self.removed], [(55, 1, 'cnfeed_data')])

    def test_repeated_notification_is_no_change(self):
        self.write_ids([('cn_proc', 1, 1), ('cnfeed_data', 58, 2)])
        self.notify(58, 2, removed=False)
        self.notify(58, 2, removed=False)
        self.notify(59, 2, removed=True)                  # never added
        self.client.pump(lambda: self.added)
        self.client.settle(0.5)
        self.assertEqual(len(self.added), 1)
        self.assertEqual(self.removed, [])

    def test_other_traffic_on_the_group_is_relayed(self):
        got = self.client.subscribe('Message', iface=ID_IFACE, path_namespace=f'{ID_PATH_PREFIX}/60')
        self.injector.send(NOTIFY, 60, 1, seq=5, data=b'not a notification')
        self.client.pump(lambda: got)
        self.client.settle()
        self.assertEqual(self.added, [])

    def test_reload_moves_the_notify_group(self):
        self.cnd.write_config(f'[Connector]\nGroups={GROUP}\nAcceptUserspaceSenders=yes\n'
                              f'ScanIntervalSec=3600\n[Notify]\nGroup={NOTIFY + 1}\n')
        self.client.call('Reload')
        self.assertEqual(self.client.get('Groups'), [GROUP, NOTIFY + 1])
        self.write_ids([('cn_proc', 1, 1), ('cnfeed_data', 61, 1), ('cnfeed_data', 62, 1)])
        self.notify(61, 1, removed=False)                 # old group: no longer heard
        self.injector.send(NOTIFY + 1, 62, 1, seq=0, ack=0)
        self.client.pump(lambda: self.added)
        self.client.settle()
        self.assertEqual([a[2] for a in self.added][:1], [(62, 1, '')])
        # The scan the notification asked for finds 61:1 too: that is the scan's, not the
        # notification's (which the old group no longer carries).


if __name__ == '__main__':
    main()
