#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""cn_proc and an unprivileged user on a kernel before 6.6 (the guest's 6.1). Runs inside the
guest (run-guest.py) as root; the attacks run as nobody.

What 6.1 does, as these tests show: the connector's netlink family has neither
NL_CFG_F_NONROOT_RECV nor NL_CFG_F_NONROOT_SEND there, so nobody can neither join a group (bind
with groups, NETLINK_ADD_MEMBERSHIP) nor multicast: EPERM. A unicast to the kernel (port 0) is
open to anyone, though. cn_proc takes a 4-byte PROC_CN_MCAST_LISTEN or IGNORE from nobody,
refuses it for want of CAP_NET_ADMIN (the machine-wide listener count does not move) and answers
it as every 4-byte op: an ack event (PROC_EVENT_NONE, err EPERM, ack = the sender's ack + 1)
multicast from port 0 to every group-1 listener, whenever anyone listens at all. Other sizes
(the 8-byte struct proc_input of 6.6+) are ignored without an answer. So on 6.1 nobody cannot
listen to cn_proc, but can make the kernel send acks, with an ack field of its choosing, to
every listener, cnd included."""

import json
import os
import random
import socket
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'bus'))
from cndtest import (CN_MSG, NETLINK_CONNECTOR, PROC_EVENT, PROC_IFACE, PROC_PATH, CndTestCase,  # noqa: E402
                     Injector, main, wait_for)
from kernelprobes import proc_kernel_filters  # noqa: E402

EPERM = 1
LISTEN, IGNORE = 1, 2
PROC_EVENT_ALL = 0xe00003c7
PROC_EVENT_NONE, PROC_EVENT_FORK = 0, 1
SOL_NETLINK, NETLINK_ADD_MEMBERSHIP = 270, 1


def as_nobody(code, stdin='', timeout=120):
    """Runs Python code as nobody, without groups or capabilities; returns its stdout."""
    p = subprocess.run(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups',
                        '--inh-caps=-all', '--bounding-set=-all', '/usr/bin/python3', '-c', code],
                       input=stdin, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise AssertionError(f'as nobody: exit {p.returncode}: {p.stderr}')
    return p.stdout


def nobody_sends(messages):
    """nobody sends each (ack, data) to cn_proc's id 1:1 from one unbound socket; returns the
    errno of each sendto, 0 for success."""
    code = ('import json, socket, sys\n'
            f's = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, {NETLINK_CONNECTOR})\n'
            'out = []\n'
            'for f in json.load(sys.stdin):\n'
            '    try:\n'
            '        s.sendto(bytes.fromhex(f), (0, 0))\n'
            '        out.append(0)\n'
            '    except OSError as e:\n'
            '        out.append(e.errno)\n'
            'print(json.dumps(out))\n')
    frames = [Injector.frame(1, 1, seq=7, ack=ack, data=data).hex() for ack, data in messages]
    return json.loads(as_nobody(code, json.dumps(frames)))


def setUpModule():
    # What these tests assert is what a kernel before 6.6 does: on a later one (cn_proc's
    # per-socket filter answers), test_hostile on the host covers what a user may do there.
    if proc_kernel_filters():
        raise unittest.SkipTest('this kernel filters cn_proc per socket (6.6+): the tests of a kernel '
                                'before 6.6 do not apply; test_hostile covers this one')


class RootListener:
    """A raw cn_proc listener of root's: counts once in the kernel's listener count and collects
    the acks (ack, err) and the forks (child pid) that reach group 1."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
        self.sock.setsockopt(socket.SOL_SOCKET, 33, 64 << 20)      # SO_RCVBUFFORCE
        self.sock.bind((0, 1))
        self.sock.settimeout(0.2)
        self.acks, self.forks = [], []
        self.own_ack = random.getrandbits(31)
        self.op(LISTEN, self.own_ack)
        wait_for(lambda: self.drain() or (self.own_ack + 1, 0) in self.acks, what="root's LISTEN ack")

    def op(self, op, ack):
        self.sock.sendto(Injector.frame(1, 1, ack=ack, data=struct.pack('=I', op)), (0, 0))

    def drain(self):
        while True:
            try:
                d = self.sock.recv(65536)
            except (socket.timeout, BlockingIOError):
                return
            _, _, _, ack, length, _ = CN_MSG.unpack_from(d, 16)
            body = d[16 + CN_MSG.size:16 + CN_MSG.size + length]
            what = struct.unpack_from('=I', body)[0]
            if what == PROC_EVENT_NONE:
                self.acks.append((ack, struct.unpack_from('=I', body, PROC_EVENT.size)[0]))
            elif what == PROC_EVENT_FORK:
                self.forks.append(struct.unpack_from('=IIII', body, PROC_EVENT.size)[2])

    def close(self):
        self.op(IGNORE, 0)
        self.sock.close()


class NobodyOnOldKernel(CndTestCase):
    START = False

    def listener(self):
        listener = RootListener()
        self.addCleanup(listener.close)
        return listener

    def test_nobody_can_neither_join_group_1_nor_multicast(self):
        code = ('import json, socket\n'
                'def attempt(f):\n'
                f'    s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, {NETLINK_CONNECTOR})\n'
                '    try:\n'
                '        f(s)\n'
                '        return 0\n'
                '    except OSError as e:\n'
                '        return e.errno\n'
                '    finally:\n'
                '        s.close()\n'
                'print(json.dumps({\n'
                '    "bind 1": attempt(lambda s: s.bind((0, 1))),\n'
                '    "bind 3": attempt(lambda s: s.bind((0, 1 << 2))),\n'     # odd: open on 6.6+
                '    "bind 2": attempt(lambda s: s.bind((0, 1 << 1))),\n'
                f'    "membership 1": attempt(lambda s: s.setsockopt({SOL_NETLINK}, {NETLINK_ADD_MEMBERSHIP}, 1)),\n'
                f'    "multicast 1": attempt(lambda s: s.sendto({Injector.frame(1, 1, data=struct.pack("=I", LISTEN))!r}, (0, 1))),\n'
                '}))\n')
        self.assertEqual(json.loads(as_nobody(code)),
                         {'bind 1': EPERM, 'bind 3': EPERM, 'bind 2': EPERM, 'membership 1': EPERM,
                          'multicast 1': EPERM})

    def test_nobodys_ops_are_refused_and_acked_to_every_listener(self):
        listener = self.listener()
        acks = random.sample(range(1 << 20, 1 << 30), 4)
        sent = nobody_sends([(acks[0], struct.pack('=I', LISTEN)),
                             (acks[1], struct.pack('=I', IGNORE)),
                             (acks[2], struct.pack('=II', LISTEN, PROC_EVENT_ALL)),
                             (acks[3], struct.pack('=II', IGNORE, 0))])
        self.assertEqual(sent, [0, 0, 0, 0])           # the kernel takes every unicast
        wait_for(lambda: listener.drain() or len(listener.acks) >= 3, what="the kernel's acks")
        time.sleep(0.5)
        listener.drain()
        # The 4-byte ops: refused with EPERM, and that answer multicast to root's listener. The
        # 8-byte form: no answer at all.
        self.assertEqual(sorted(a for a in listener.acks if a[0] - 1 in acks),
                         sorted([(acks[0] + 1, EPERM), (acks[1] + 1, EPERM)]))

    def test_nobodys_ignore_does_not_silence_cn_proc(self):
        # Before 6.6 one machine-wide count decides whether cn_proc sends events: had nobody's
        # IGNOREs counted, root's only LISTEN would be undone.
        listener = self.listener()
        sent = nobody_sends([(i, struct.pack('=I', IGNORE)) for i in range(1000, 1020)])
        self.assertEqual(sent, [0] * 20)
        p = subprocess.Popen(['true'])
        p.wait()
        wait_for(lambda: listener.drain() or p.pid in listener.forks, what='the fork event')
        self.assertEqual(sum(1 for a in listener.acks if 1000 < a[0] <= 1020 and a[1] == EPERM), 20)


class CndUnderNobodysAcks(CndTestCase):
    CONFIG = '[Connector]\nGroups=1\nScanIntervalSec=0\n'

    def test_acks_of_nobodys_choosing_do_not_mark_cn_proc_refused(self):
        events = self.client.subscribe(None, iface=PROC_IFACE, path=PROC_PATH)
        wait_for(lambda: self.client.get('Listening', path=PROC_PATH, iface=PROC_IFACE),
                 what='cnd listening to cn_proc')
        before = self.counters()
        # cnd's own LISTEN ack is random: nobody cannot see it on 6.1 (no group 1), only guess.
        n = 2000
        sent = nobody_sends([(random.getrandbits(32), struct.pack('=I', LISTEN)) for _ in range(n)])
        self.assertEqual(sent, [0] * n)
        p = subprocess.Popen(['true'])
        p.wait()
        self.client.pump(lambda: any(m == 'Fork' and a[2] == p.pid for _, m, a in events), timeout=30)
        self.wait_settled()
        after = self.counters()
        print(f'{n} acks from nobody: cnd received {after["ReceivedMessages"] - before["ReceivedMessages"]} '
              f'messages, kernel dropped {after["KernelDroppedMessages"] - before["KernelDroppedMessages"]}',
              file=sys.stderr)
        self.assertTrue(self.client.get('Listening', path=PROC_PATH, iface=PROC_IFACE))
        self.assertEqual(self.client.get('SubscriptionError', path=PROC_PATH, iface=PROC_IFACE), '')
        self.assertNotIn('refused', self.cnd.log_text())


if __name__ == '__main__':
    main()
