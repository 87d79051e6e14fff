#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Id tracking: registrations as /proc/net/connector shows them become IdAdded/IdRemoved, one
per change, with PropertiesChanged on Ids. The host kernel cannot load a module that would
register ids, so these tests use cnd's test hook CND_TEST_CONNECTOR_LIST, a file in the same
format; the guest suite does the same with a real module."""

import time

from cndtest import (ID_IFACE, ID_PATH_PREFIX, MANAGER_IFACE, MANAGER_PATH, CndTestCase,
                     ConnectorList, main, wait_for)

GROUP = 27


class IdTracking(CndTestCase):
    START = False
    SCAN = '0.2'

    def setUp(self):
        super().setUp()
        self.connector_list = ConnectorList()
        self.addCleanup(self.connector_list.remove)
        self.cnd.write_config(f'[Connector]\nGroups={GROUP}\nAcceptUserspaceSenders=yes\n'
                              f'ScanIntervalSec={self.SCAN}\n')
        self.cnd.start(env={'CND_TEST_CONNECTOR_LIST': self.connector_list.path})
        self.added = self.client.subscribe('IdAdded', iface=MANAGER_IFACE)
        self.removed = self.client.subscribe('IdRemoved', iface=MANAGER_IFACE)
        self.changed = self.client.subscribe('PropertiesChanged', iface='org.freedesktop.DBus.Properties',
                                             path=MANAGER_PATH)

    def write_ids(self, ids):
        self.connector_list.write(ids)

    def ids_changes(self):
        return sum(1 for _, _, a in self.changed if a[0] == MANAGER_IFACE and 'Ids' in a[1])

    def test_add_and_remove_give_one_signal_each(self):
        self.write_ids([('cn_proc', 1, 1), ('test_driver', 50, 1)])
        self.client.pump(lambda: self.added)
        self.assertIn((50, 1, 'test_driver'), self.client.get('Ids'))
        path = f'{ID_PATH_PREFIX}/50/1'
        props = self.client.get_all(path=path, iface=ID_IFACE)
        self.assertTrue(props['Registered'])
        self.assertEqual(props['Name'], 'test_driver')

        self.write_ids([('cn_proc', 1, 1)])
        self.client.pump(lambda: self.removed)
        self.assertNotIn((50, 1, 'test_driver'), self.client.get('Ids'))
        self.assertNotIn(path, self.client.managed_objects())   # never carried a message

        time.sleep(1.0)      # five more scans: nothing new to say
        self.client.settle()
        self.assertEqual([a[2] for a in self.added], [(50, 1, 'test_driver')])
        self.assertEqual([a[2] for a in self.removed], [(50, 1, 'test_driver')])
        self.assertEqual(self.ids_changes(), 2)

    def test_new_owner_of_an_id(self):
        self.write_ids([('cn_proc', 1, 1), ('first', 52, 7)])
        self.client.pump(lambda: self.added)
        self.write_ids([('cn_proc', 1, 1), ('second', 52, 7)])
        self.client.pump(lambda: len(self.added) == 2)
        self.assertEqual([a[2] for a in self.removed], [(52, 7, 'first')])
        self.assertEqual([a[2] for a in self.added], [(52, 7, 'first'), (52, 7, 'second')])

    def test_unregistered_id_with_messages_keeps_its_object(self):
        self.write_ids([('cn_proc', 1, 1), ('talker', 53, 1)])
        self.client.pump(lambda: self.added)
        self.injector.send(GROUP, 53, 1, seq=1)
        wait_for(lambda: self.client.get('ReceivedMessages', path=f'{ID_PATH_PREFIX}/53/1',
                                         iface=ID_IFACE) == 1)
        self.write_ids([('cn_proc', 1, 1)])
        self.client.pump(lambda: self.removed)
        props = self.client.get_all(path=f'{ID_PATH_PREFIX}/53/1', iface=ID_IFACE)
        self.assertFalse(props['Registered'])
        self.assertEqual(props['ReceivedMessages'], 1)


class RescanOnUnknownId(IdTracking):
    SCAN = '0'      # no periodic scan: only the start and messages from unknown ids

    def test_message_from_unknown_id_triggers_a_rescan(self):
        self.write_ids([('cn_proc', 1, 1), ('late_driver', 54, 3)])
        time.sleep(0.5)
        self.client.settle()
        self.assertEqual(self.added, [])          # nobody looked
        self.injector.send(GROUP, 54, 3, seq=1)
        self.client.pump(lambda: self.added)
        self.assertEqual([a[2] for a in self.added], [(54, 3, 'late_driver')])

    test_add_and_remove_give_one_signal_each = test_new_owner_of_an_id = None
    test_unregistered_id_with_messages_keeps_its_object = None


if __name__ == '__main__':
    main()
