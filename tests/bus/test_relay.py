#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""cnd relays what the kernel connector carries, exactly and in order, and rejects what it must."""

import os
import signal
import struct

from cndtest import ID_IFACE, ID_PATH_PREFIX, CndTestCase, main, wait_for

GROUP = 21
IDX = 0x4242


class RelayFromUserspace(CndTestCase):
    # Not group 1: process events would move the global counters these tests compare.
    CONFIG = f"""
[Connector]
Groups={GROUP} 31
AcceptUserspaceSenders=yes
ScanIntervalSec=0
"""

    def test_messages_arrive_identical_and_in_order(self):
        got = self.client.subscribe('Message', iface=ID_IFACE, path_namespace=f'{ID_PATH_PREFIX}/{IDX}')
        sent = []
        for i in range(200):
            data = os.urandom(i % 64) + bytes([i % 256])
            msg = (IDX, 7 + i % 3, 1000 + i, 0xfffffff0 + i % 16, i % 65536, data)
            sent.append(msg)
            self.injector.send(GROUP, msg[0], msg[1], seq=msg[2], ack=msg[3], flags=msg[4], data=msg[5])
        self.client.pump(lambda: len(got) >= len(sent))
        self.client.settle()
        self.assertEqual(len(got), len(sent))
        for (path, member, args), msg in zip(got, sent):
            idx, val, seq, ack, flags, data = args
            self.assertEqual(path, f'{ID_PATH_PREFIX}/{msg[0]}/{msg[1]}')
            self.assertEqual((idx, val, seq, ack, flags, bytes(data)), msg)

    def test_id_object_appears_for_unknown_sender_id(self):
        added = self.client.subscribe('InterfacesAdded', iface='org.freedesktop.DBus.ObjectManager')
        self.injector.send(GROUP, IDX, 99, seq=1, data=b'x')
        path = f'{ID_PATH_PREFIX}/{IDX}/99'
        self.client.pump(lambda: any(a[2][0] == path for a in added))
        props = self.client.get_all(path=path, iface=ID_IFACE)
        self.assertEqual(props['Idx'], IDX)
        self.assertEqual(props['Val'], 99)
        self.assertEqual(props['Name'], '')
        self.assertFalse(props['Registered'])
        self.assertEqual(props['ReceivedMessages'], 1)
        self.assertIn(path, self.client.managed_objects())
        # Not registered in the kernel, so not in Ids.
        self.assertNotIn((IDX, 99), [(i, v) for i, v, _ in self.client.get('Ids')])

    def test_malformed_frames_are_counted_and_cnd_stays_up(self):
        before = self.counters()
        good = self.injector.frame(IDX, 1, seq=5, data=b'abc')
        bad = [
            b'\x01\x02',                                               # shorter than nlmsghdr
            struct.pack('=IHHII', 8, 3, 0, 0, 0),                      # nlmsg_len below header
            struct.pack('=IHHII', 4096, 3, 0, 0, 0) + b'\0' * 16,      # nlmsg_len beyond datagram
            self.injector.frame(IDX, 1, data=b'abc', length=200),      # cn_msg len beyond frame
            self.injector.frame(IDX, 1, data=b'\0' * 16385),           # above CONNECTOR_MAX_MSG_SIZE
            struct.pack('=IHHII', 16 + 10, 3, 0, 0, 0) + b'\0' * 12,   # payload shorter than cn_msg
            self.injector.frame(IDX, 1, data=b'abc', nl_type=5),       # reserved netlink type
        ]
        for b in bad:
            self.injector.send_raw(GROUP, b)
        got = self.client.subscribe('Message', iface=ID_IFACE, path_namespace=f'{ID_PATH_PREFIX}/{IDX}')
        self.injector.send_raw(GROUP, good)
        self.client.pump(lambda: len(got) == 1)
        after = self.counters()
        self.assertEqual(after['RejectedMessages'] - before['RejectedMessages'], len(bad))
        self.assertEqual(after['ReceivedMessages'] - before['ReceivedMessages'], 1)
        self.assertEqual(bytes(got[0][2][5]), b'abc')
        self.assertIsNone(self.cnd.proc.poll())

    def test_netlink_control_messages(self):
        before = self.counters()
        got = self.client.subscribe('Message', iface=ID_IFACE, path_namespace=f'{ID_PATH_PREFIX}/{IDX}')
        noop = struct.pack('=IHHII', 16, 1, 0, 0, 0)
        error = struct.pack('=IHHII', 20, 2, 0, 0, 0) + struct.pack('=i', -1)
        overrun = struct.pack('=IHHII', 16, 4, 0, 0, 0)
        for frame in (noop, error, overrun):
            self.injector.send_raw(GROUP, frame)
        self.injector.send(GROUP, IDX, 1, seq=77)
        self.client.pump(lambda: len(got) == 1)
        after = self.counters()
        self.assertEqual(after['RejectedMessages'], before['RejectedMessages'])   # none malformed
        self.assertEqual(after['Overruns'] - before['Overruns'], 1)               # NLMSG_OVERRUN
        self.assertEqual(after['ReceivedMessages'] - before['ReceivedMessages'], 1)
        self.assertIn('Netlink error message', self.cnd.log_text())

    def test_two_messages_in_one_datagram(self):
        got = self.client.subscribe('Message', iface=ID_IFACE, path_namespace=f'{ID_PATH_PREFIX}/{IDX}')
        a = self.injector.frame(IDX, 3, seq=1, data=b'a')
        b = self.injector.frame(IDX, 3, seq=2, data=b'bb')
        pad = b'\0' * ((4 - len(a) % 4) % 4)
        self.injector.send_raw(GROUP, a + pad + b)
        self.client.pump(lambda: len(got) == 2)
        self.assertEqual([g[2][2] for g in got], [1, 2])

    def test_cn_proc_is_known_and_groups_follow_config(self):
        self.assertIn((1, 1, 'cn_proc'), self.client.get('Ids'))
        self.assertEqual(self.client.get('Groups'), [GROUP, 31])
        props = self.client.get_all(path=f'{ID_PATH_PREFIX}/1/1', iface=ID_IFACE)
        self.assertTrue(props['Registered'])
        self.assertEqual(props['Name'], 'cn_proc')

    def test_bound_on_ids_learned_from_messages(self):
        # A flood of spoofed ids must not grow the object tree without bound.
        self.cnd.write_config(self.CONFIG + 'MaxUnregisteredIds=8\n')
        mark = self.cnd.notify_mark()
        self.cnd.signal(signal.SIGHUP)
        self.cnd.wait_notified('READY=1', start=mark)
        got = self.client.subscribe('Message', iface=ID_IFACE, path_namespace=ID_PATH_PREFIX)
        for v in range(500):
            self.injector.send(GROUP, IDX + 1, v, seq=v)
        self.client.pump(lambda: len([g for g in got if g[2][0] == IDX + 1]) == 500)
        objects = [p for p in self.client.managed_objects() if p.startswith(f'{ID_PATH_PREFIX}/{IDX + 1}/')]
        self.assertLessEqual(len(objects), 8)
        # The most recent ones are the survivors.
        self.assertIn(f'{ID_PATH_PREFIX}/{IDX + 1}/499', objects)


class RejectUserspace(CndTestCase):
    CONFIG = f"""
[Connector]
Groups={GROUP}
AcceptUserspaceSenders=no
"""

    def test_userspace_senders_are_rejected_and_counted(self):
        got = self.client.subscribe('Message', iface=ID_IFACE, path_namespace=ID_PATH_PREFIX)
        before = self.counters()
        for i in range(50):
            self.injector.send(GROUP, IDX, 1, seq=i, data=b'spoof')
        wait_for(lambda: self.counters()['RejectedMessages'] - before['RejectedMessages'] == 50)
        self.client.settle()
        self.assertEqual(got, [])
        self.assertEqual(self.counters()['ReceivedMessages'], before['ReceivedMessages'])


if __name__ == '__main__':
    main()
