#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Talking back to the kernel: Send, Request, JoinGroup, LeaveGroup, Reload."""

import signal
import subprocess
import struct
import time

from kernelprobes import proc_kernel_filters

from cndtest import (BUS_NAME, ID_IFACE, ID_PATH_PREFIX, MANAGER_PATH, PROC_IFACE, PROC_PATH, Client,
                     CndTestCase, main, wait_for)

GROUP = 26
IDX = 0x4646
LISTEN = struct.pack('=I', 1)      # PROC_CN_MCAST_LISTEN, the 4-byte form every kernel takes
IGNORE = struct.pack('=I', 2)      # PROC_CN_MCAST_IGNORE
GARBAGE = b'\x01\x02\x03'          # cn_proc ignores a message of this length: no reply, ever
PROC_EVENT = struct.Struct('=IIQ')  # what, cpu, timestamp_ns; then the event data
ERRORS = BUS_NAME + '.Error.'


def proc_ack(data):
    what, cpu, ts = PROC_EVENT.unpack_from(data)
    err, = struct.unpack_from('=I', data, PROC_EVENT.size)
    return what, err


class Methods(CndTestCase):
    CONFIG = f"""
[Connector]
Groups=1 {GROUP}
AcceptUserspaceSenders=yes
ScanIntervalSec=0
[Bus]
MaxPendingRequests=150
"""

    def request(self, data, timeout_ms=0, idx=1, val=1):
        return self.client.call('Request', (idx, val, data, timeout_ms), '(uuayu)')

    def test_request_returns_cn_procs_real_ack(self):
        seq, ack, data = self.request(LISTEN)
        self.assertEqual(proc_ack(bytes(data)), (0, 0))   # PROC_EVENT_NONE, err 0
        seq, ack2, data = self.request(LISTEN)
        self.assertEqual(proc_ack(bytes(data)), (0, 0))
        self.assertNotEqual(ack, ack2)                     # a fresh random ack each time

    def test_client_ignore_does_not_silence_cnd(self):
        # The IGNORE goes out on cnd's own socket; cnd must put its subscription back.
        got = self.client.subscribe('Message', iface=ID_IFACE, path=f'{ID_PATH_PREFIX}/1/1')
        self.cnd.write_config(self.CONFIG + '[Proc]\nRawMessages=yes\n')
        self.client.call('Reload')
        self.client.call('Send', (1, 1, IGNORE), '(uuay)')
        del got[:]
        subprocess.run(['true'])                            # a fork, an exec, an exit
        self.client.pump(lambda: len(got) >= 3, timeout=10)

    def test_send_returns_increasing_seq(self):
        # cnd's own subscription settled first: its LISTEN (and, on a kernel that answers it
        # late, a second one) takes seqs too, on a slow machine or under valgrind during the test.
        wait_for(lambda: self.client.get('Listening', path=PROC_PATH, iface=PROC_IFACE), what='cnd to listen')
        if proc_kernel_filters():
            wait_for(lambda: self.client.get('KernelFilter', path=PROC_PATH, iface=PROC_IFACE),
                     what="cnd to find the kernel's filter")
        # Empty data: cn_proc ignores it, and cnd has no subscription of its own to restore.
        seq1, ack1 = self.client.call('Send', (1, 1, b''), '(uuay)')
        seq2, ack2 = self.client.call('Send', (1, 1, b''), '(uuay)')
        self.assertEqual(seq2, (seq1 + 1) & 0xffffffff)
        # A client's LISTEN counted the socket cnd sent it from as a cn_proc listener; cnd's
        # IGNORE on that socket, which undoes it, takes the next seq.
        seq3, _ = self.client.call('Send', (1, 1, LISTEN), '(uuay)')
        seq4, _ = self.client.call('Send', (1, 1, b''), '(uuay)')
        self.assertEqual(seq3, (seq2 + 1) & 0xffffffff)
        self.assertEqual(seq4, (seq3 + 2) & 0xffffffff)

    def test_send_to_unregistered_id(self):
        for idx, val in ((IDX, 1), (0, 0), (0xffffffff, 0xffffffff), (1, 2)):
            with self.subTest(id=(idx, val)):
                name, msg = self.client.call_error('Send', (idx, val, b'x'), '(uuay)')
                self.assertEqual(name, ERRORS + 'NoSuchId')
                self.assertIn(f'{idx}:{val}', msg)

    def test_data_size_limits(self):
        # The kernel drops a message whose 20-byte header and data exceed 16384 bytes without a
        # word: cnd refuses it rather than report a send that never happened.
        for n in (16365, 16384, 16385):
            name, _ = self.client.call_error('Send', (1, 1, b'\0' * n), '(uuay)')
            self.assertEqual(name, 'org.freedesktop.DBus.Error.InvalidArgs')
            name, _ = self.client.call_error('Request', (1, 1, b'\0' * n, 100), '(uuayu)')
            self.assertEqual(name, 'org.freedesktop.DBus.Error.InvalidArgs')
        # At the limit and empty: accepted (cn_proc ignores both lengths).
        self.client.call('Send', (1, 1, b'\0' * 16364), '(uuay)')
        self.client.call('Send', (1, 1, b''), '(uuay)')

    def test_timeout_limits(self):
        name, _ = self.client.call_error('Request', (1, 1, LISTEN, 60001), '(uuayu)')
        self.assertEqual(name, 'org.freedesktop.DBus.Error.InvalidArgs')
        name, _ = self.client.call_error('Request', (1, 1, LISTEN, 0xffffffff), '(uuayu)')
        self.assertEqual(name, 'org.freedesktop.DBus.Error.InvalidArgs')
        # 0 is the default timeout, not "none": an answered request succeeds.
        self.request(LISTEN, 0)
        self.request(LISTEN, 60000)

    def test_unanswered_request_times_out_and_cnd_keeps_serving(self):
        start = time.monotonic()
        name, msg = self.client.call_error('Request', (1, 1, GARBAGE, 300), '(uuayu)')
        elapsed = time.monotonic() - start
        self.assertEqual(name, ERRORS + 'Timeout')
        self.assertGreaterEqual(elapsed, 0.29)
        self.assertIn(1, self.client.get('Groups'))
        self.client.call('Ping', path=MANAGER_PATH, iface='org.freedesktop.DBus.Peer')

    def test_many_concurrent_requests_from_several_clients(self):
        clients = [Client(self.bus.address) for _ in range(4)]
        try:
            pending = []
            for i in range(100):
                pending.append(clients[i % 4].call_async('Request', (1, 1, LISTEN, 20000), '(uuayu)'))
            self.client.pump(lambda: all(pending), timeout=60)
            self.assertEqual([p.get('error') for p in pending if 'error' in p], [])
            acks = [p['ok'][1] for p in pending]
            self.assertEqual(len(set(acks)), 100)
            for p in pending:
                self.assertEqual(proc_ack(bytes(p['ok'][2])), (0, 0))
        finally:
            for c in clients:
                c.close()

    def test_acks_stay_out_of_cnds_stream(self):
        # Where the kernel filters per socket, cnd's filter keeps every ack out of its socket,
        # the replies to its clients' Requests too (they come on the request's own socket);
        # older kernels send cnd every ack, and it shows as a raw message like any other.
        self.cnd.write_config(self.CONFIG + '[Proc]\nRawMessages=yes\n')
        self.client.call('Reload')
        wait_for(lambda: self.client.get('SubscriptionError', path=PROC_PATH, iface=PROC_IFACE) == '' and
                 self.client.get('Listening', path=PROC_PATH, iface=PROC_IFACE))
        time.sleep(1.5)                                     # the probe has its answer, or none
        filtered = self.client.get('KernelFilter', path=PROC_PATH, iface=PROC_IFACE)
        got = self.client.subscribe('Message', iface=ID_IFACE, path=f'{ID_PATH_PREFIX}/1/1')
        seq, ack, data = self.request(LISTEN)
        subprocess.run(['true'])                            # events after the reply, to wait for
        self.client.pump(lambda: any(g[2][3] == 0 and g[2][2] > 0 for g in got) or
                         any(g[2][3] == ack for g in got))
        self.client.settle(0.5)
        self.assertEqual(any(g[2][3] == ack for g in got), not filtered)

    def test_join_and_leave_group(self):
        g = GROUP + 1
        changed = self.client.subscribe('PropertiesChanged', iface='org.freedesktop.DBus.Properties',
                                        path=MANAGER_PATH)
        got = self.client.subscribe('Message', iface=ID_IFACE, path_namespace=f'{ID_PATH_PREFIX}/{IDX}')
        self.injector.send(g, IDX, 1, seq=1)
        self.client.call('JoinGroup', (g,), '(u)')
        self.assertEqual(self.client.get('Groups'), [1, GROUP, g])
        self.client.pump(lambda: any('Groups' in c[2][1] for c in changed))
        self.injector.send(g, IDX, 1, seq=2)
        self.client.pump(lambda: len(got) >= 1)
        self.client.call('LeaveGroup', (g,), '(u)')
        self.assertEqual(self.client.get('Groups'), [1, GROUP])
        self.injector.send(g, IDX, 1, seq=3)
        self.injector.send(GROUP, IDX, 1, seq=4)
        self.client.pump(lambda: len(got) >= 2)
        self.client.settle()
        self.assertEqual([x[2][2] for x in got], [2, 4])
        # Joining twice or leaving a group not joined is not an error.
        self.client.call('LeaveGroup', (g,), '(u)')
        self.client.call('JoinGroup', (GROUP,), '(u)')

    def test_group_out_of_range(self):
        for g in (0, 33, 0xffffffff):
            for method in ('JoinGroup', 'LeaveGroup'):
                with self.subTest(method=method, group=g):
                    name, _ = self.client.call_error(method, (g,), '(u)')
                    self.assertEqual(name, 'org.freedesktop.DBus.Error.InvalidArgs')

    def test_reload_method(self):
        self.cnd.write_config(self.CONFIG.replace(f'Groups=1 {GROUP}', f'Groups=1 {GROUP} 28'))
        self.client.call('Reload')
        self.assertEqual(self.client.get('Groups'), [1, GROUP, 28])
        self.cnd.write_config('[Connector]\nGroups=1\nNoSuchKey=1\n')
        name, msg = self.client.call_error('Reload')
        self.assertEqual(name, ERRORS + 'InvalidConfig')
        self.assertIn(f'{self.cnd.config_path}:3:', msg)
        self.assertEqual(self.client.get('Groups'), [1, GROUP, 28])

    def test_reload_keeps_runtime_changes_to_unchanged_groups(self):
        self.client.call('JoinGroup', (29,), '(u)')
        self.client.call('LeaveGroup', (GROUP,), '(u)')
        # The new configuration adds 28 and drops nothing else.
        self.cnd.write_config(self.CONFIG.replace(f'Groups=1 {GROUP}', f'Groups=1 {GROUP} 28'))
        self.client.call('Reload')
        self.assertEqual(self.client.get('Groups'), [1, 28, 29])
        # Now it drops GROUP (already left) and 1.
        self.cnd.write_config(self.CONFIG.replace(f'Groups=1 {GROUP}', 'Groups=28'))
        self.client.call('Reload')
        self.assertEqual(self.client.get('Groups'), [28, 29])


class Limits(CndTestCase):
    CONFIG = """
[Connector]
Groups=1
[Bus]
MaxPendingRequests=5
"""

    def test_limit_gives_limits_exceeded(self):
        # Five seconds for the sixth to find the table full, however busy the machine.
        pending = [self.client.call_async('Request', (1, 1, GARBAGE, 5000), '(uuayu)') for _ in range(5)]
        self.client.pump(timeout=0.1)
        wait_for(lambda: self.client.pump() and self.client.call_error(
            'Request', (1, 1, GARBAGE, 100), '(uuayu)')[0] == ERRORS + 'LimitsExceeded', timeout=5,
            what='LimitsExceeded')
        self.client.pump(lambda: all(pending), timeout=30)
        self.assertEqual({p['error'] for p in pending}, {ERRORS + 'Timeout'})
        # Slots come back once they time out.
        self.request_ok()

    def test_caller_leaving_frees_its_slot(self):
        others = [Client(self.bus.address) for _ in range(5)]
        for c in others:
            c.call_async('Request', (1, 1, GARBAGE, 30000), '(uuayu)')
            c.pump(timeout=0.05)
        wait_for(lambda: self.client.call_error('Request', (1, 1, GARBAGE, 50), '(uuayu)')[0]
                 == ERRORS + 'LimitsExceeded', timeout=5, what='the table to fill')
        for c in others:
            c.close()
        # Long before the 30 s timeout, the slots are free again.
        wait_for(lambda: self.client.call_error('Request', (1, 1, GARBAGE, 50), '(uuayu)')[0]
                 == ERRORS + 'Timeout', timeout=10, what='slots of departed callers to be freed')

    def test_waiting_requests_are_answered_at_shutdown(self):
        pending = self.client.call_async('Request', (1, 1, GARBAGE, 30000), '(uuayu)')
        wait_for(lambda: self.client.pump() and self.client.call_error(
            'Request', (1, 1, GARBAGE, 50), '(uuayu)')[0] == ERRORS + 'Timeout', what='the request to wait')
        self.cnd.signal(signal.SIGTERM)
        self.client.pump(lambda: pending, timeout=20)
        self.assertEqual(pending.get('error'), 'org.freedesktop.DBus.Error.Failed')
        self.assertIn('shutting down', pending.get('message', ''))
        self.assertEqual(self.cnd.wait_exit(), 0)

    def request_ok(self):
        self.client.call('Request', (1, 1, LISTEN, 5000), '(uuayu)')


class MethodsBroker(Methods):
    BUS_KIND = 'dbus-broker'


if __name__ == '__main__':
    main()
