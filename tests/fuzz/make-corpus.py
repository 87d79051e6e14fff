#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpus of each fuzz target (tests/fuzz/corpus/<target>/): small valid and
nearly valid inputs from which the fuzzers start. Run again after changing a format."""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, 'corpus', target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), 'wb') as f:
        f.write(data)


def nl(payload, nl_type=3):
    return struct.pack('=IHHII', 16 + len(payload), nl_type, 0, 0, 0) + payload + b'\0' * (-len(payload) % 4)


def cn(idx, val, data=b'', seq=0, ack=0, flags=0, length=None):
    return struct.pack('=IIIIHH', idx, val, seq, ack, len(data) if length is None else length, flags) + data


# fuzz-cnmsg: datagrams
write('fuzz-cnmsg', 'one', nl(cn(1, 1, b'abcd', 5, 6)))
write('fuzz-cnmsg', 'two', nl(cn(3, 4, b'x')) + nl(cn(5, 6, b'yz')))
write('fuzz-cnmsg', 'control', nl(b'', 1) + nl(struct.pack('=i', -1), 2) + nl(b'', 4))
write('fuzz-cnmsg', 'too-long', nl(cn(1, 1, b'ab', length=200)))
write('fuzz-cnmsg', 'max', nl(cn(9, 9, b'\x5a' * 16384)))
write('fuzz-cnmsg', 'short', b'\x10\x00\x00\x00\x03\x00')

# fuzz-proc-event: struct proc_event payloads
hdr = lambda what, cpu=1: struct.pack('=IIQ', what, cpu, 123456789)
write('fuzz-proc-event', 'fork', hdr(1) + struct.pack('=IIII', 10, 10, 11, 11))
write('fuzz-proc-event', 'exec', hdr(2) + struct.pack('=II', 11, 11))
write('fuzz-proc-event', 'uid', hdr(4) + struct.pack('=IIII', 11, 11, 0, 1000))
write('fuzz-proc-event', 'comm', hdr(0x200) + struct.pack('=II', 11, 11) + b'caf\xc3\xa9\xff\0\0\0\0\0\0\0\0\0\0')
write('fuzz-proc-event', 'exit', hdr(0x80000000) + struct.pack('=IIIIII', 11, 11, 768, 17, 10, 10))
write('fuzz-proc-event', 'exit-old', hdr(0x80000000) + struct.pack('=IIII', 11, 11, 9, 17))
write('fuzz-proc-event', 'coredump', hdr(0x40000000) + struct.pack('=IIII', 11, 11, 10, 10))
write('fuzz-proc-event', 'ack', hdr(0, 0xffffffff) + struct.pack('=I', 1))
write('fuzz-proc-event', 'unknown', hdr(0x400) + b'\0' * 24)

# fuzz-conf: configuration text
write('fuzz-conf', 'full', b'''# cnd.conf
[Connector]
Groups=1 7   # cn_proc and ours
AcceptUserspaceSenders=no
ScanIntervalSec=2.5
BatchGroups=7
ReceiveBufferSize=16M
MaxUnregisteredIds=64
[Notify]
Group=9
[Proc]
Events=exec exit
RawMessages=yes
[Bus]
AdminGroup=root
MaxQueuedSignals=4096
MaxPendingRequests=32
''')
write('fuzz-conf', 'crlf', b'[Connector]\r\nGroups=\r\n; x\r\n[Proc]\r\nEvents=all\r\n')
write('fuzz-conf', 'bad', b'[Connector]\nGrups=1\n')
write('fuzz-conf', 'empty', b'')

# fuzz-ini: INI text of any sections and keys
write('fuzz-ini', 'sections', b'; top\n[A]\nkey = value  # c\n[ spaced ]\nk2=a=b\n\n[A]\nk3=\n[]\nk=1#glued\n')
write('fuzz-ini', 'crlf', b'[S]\r\na=1\r\n\r\n# x\r\nb = 2 ; c\r')
write('fuzz-ini', 'errors', b'[S]\nno equals sign\n')
write('fuzz-ini', 'reject', b'[ok]\na=1\n[reject]\nb=2\n')
write('fuzz-ini', 'before-section', b'a=1\n')
write('fuzz-ini', 'nul', b'[S]\na=\0\n')

# fuzz-connector-list: /proc/net/connector
write('fuzz-connector-list', 'kernel', b'Name            ID\ncn_proc         1:1\ncnfeed          17:0\n'
      b'cnfeed_notify   4294967295:4294967295\n')
write('fuzz-connector-list', 'odd', b'Name            ID\nmy driver 3:4\n3:5\nbad line\nx 1:99999999999\n')

# fuzz-notify: id-notification requests
def req(group, idx_ranges, val_ranges):
    body = b''.join(struct.pack('=II', f, r) for f, r in idx_ranges + val_ranges)
    return struct.pack('=IIII', len(idx_ranges), len(val_ranges), group, len(body)) + body
write('fuzz-notify', 'all', req(5, [(0, 0xffffffff), (0xffffffff, 1)], [(0, 0xffffffff), (0xffffffff, 1)]))
write('fuzz-notify', 'one', req(3, [(17, 1)], [(0, 10)]))
write('fuzz-notify', 'remove', req(0, [(17, 1)], [(0, 10)]))
write('fuzz-notify', 'bad-len', struct.pack('=IIII', 1, 1, 3, 8) + b'\0' * 16)

# fuzz-procfs-*: /proc/PID text as Linux 6.x writes it, and odd variants
def stat(comm, state=b'S', ppid=b'1', start=b'98765'):
    return (b'4321 (' + comm + b') ' + state + b' ' + ppid + b' 4321 4321 0 -1 4194560 1234 0 0 0 3 1 0 0 20 0 1 0 '
            + start + b' 10534912 1024 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n')
write('fuzz-procfs-stat', 'plain', stat(b'bash'))
write('fuzz-procfs-stat', 'odd-comm', stat(b') (x\ny) S 1 2 ('))
write('fuzz-procfs-stat', 'kworker', stat(b'kworker/u8:1-events_unbound', b'I', b'2'))
write('fuzz-procfs-stat', 'zombie', stat(b'a\xff\xc3', b'Z', b'2147483647', b'18446744073709551615'))
write('fuzz-procfs-stat', 'cut', stat(b'x')[:60])

write('fuzz-procfs-status', 'kernel', b'Name:\tcat\nUmask:\t0022\nState:\tR (running)\nTgid:\t12674\nNgid:\t0\n'
      b'Pid:\t12674\nPPid:\t12622\nTracerPid:\t0\nUid:\t1000\t0\t1000\t1000\nGid:\t0\t0\t0\t0\nFDSize:\t256\n'
      b'Groups:\t \nVmRSS:\t    1024 kB\nThreads:\t1\nCpus_allowed_list:\t0-1\n')
write('fuzz-procfs-status', 'escaped-name', b'Name:\tx\\nUid:\t0\t0\t0\t0\nUid:\t65534\t65534\t65534\t65534')
write('fuzz-procfs-status', 'no-uid', b'Name:\tx\nPPid:\t1\n')

write('fuzz-procfs-cmdline', 'argv', b'/usr/bin/python3\0-c\0print("two words")\0\0')
write('fuzz-procfs-cmdline', 'odd', b'a\nb\0\0caf\xc3\xa9\0\xff\xfe\\x41\0\xef\xbf\xbe')
write('fuzz-procfs-cmdline', 'setproctitle', b'sshd: root@pts/0')
write('fuzz-procfs-cmdline', 'empty', b'')

write('fuzz-procfs-cgroup', 'unified', b'0::/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service\n')
write('fuzz-procfs-cgroup', 'hybrid', b'12:pids:/system.slice/cron.service\n1:name=systemd:/system.slice/cron.service\n'
      b'0::/system.slice/cron.service\n')
write('fuzz-procfs-cgroup', 'v1-only', b'11:memory:/user.slice\n1:name=systemd:/init.scope\n')
write('fuzz-procfs-cgroup', 'odd-path', b'0::/a\nb\xff (deleted)\n')

write('fuzz-procfs-nspid', 'host', b'Name:\tsh\nTgid:\t700\nPid:\t700\nPPid:\t1\nNStgid:\t700\nNSpid:\t700\n'
      b'Uid:\t0\t0\t0\t0\n')
write('fuzz-procfs-nspid', 'nested', b'NStgid:\t9120\t34\t1\nNSpid:\t9120\t34\t1\nNSpgid:\t9120\t34\t1\n')
write('fuzz-procfs-nspid', 'escaped-name', b'Name:\tx\\nNSpid:\t1\nNSpid:\t7 8\n')
write('fuzz-procfs-nspid', 'bad', b'NSpid:\t0\t-1\n')

# fuzz-container: cgroup paths (raw bytes, escaped as cnd escapes them)
CONTAINER_ID = b'0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'
for name, path in [('docker', b'/system.slice/docker-' + CONTAINER_ID + b'.scope'),
                   ('docker-cgroupfs', b'/docker/' + CONTAINER_ID),
                   ('podman', b'/machine.slice/libpod-conmon-' + CONTAINER_ID + b'.scope'),
                   ('containerd', b'/kubepods.slice/kubepods-pod1.slice/cri-containerd-' + CONTAINER_ID + b'.scope'),
                   ('crio', b'/kubepods/burstable/pod1/crio-' + CONTAINER_ID),
                   ('kubepods', b'/kubepods/besteffort/pod1/' + CONTAINER_ID),
                   ('lxc', b'/lxc.payload.web\xff\xc3\xa9/init.scope'),
                   ('nspawn', b'/machine.slice/machine-my\\x2dbox.scope/payload'),
                   ('user', b'/user.slice/user-1000.slice/user@1000.service/app.slice/sshd.service')]:
    write('fuzz-container', name, path)

# fuzz-unit-path: ROOT NUL PATH (raw bytes; PATH alone with no NUL), as PID 1's cgroup and a
# process's
for name, data in [('system', b'/system.slice/cron.service'),
                   ('user', b'/user.slice/user-1000.slice/user@1000.service/app.slice/a\\x2db.service'),
                   ('session', b'/user.slice/user-1000.slice/session-c2.scope/x.service'),
                   ('machine', b'/machine.slice/machine-x.scope/payload/system.slice/a.service'),
                   ('escaped', b'/_system.slice/_cpu.service/\xff (deleted)'),
                   ('container', b'/docker/0123/init.scope\0/docker/0123/system.slice/getty@tty1.service'),
                   ('legacy-root', b'/lxc/web/system\0/lxc/web/user@65534.service/b.service\rx'),
                   ('odd-root', b'/a//./b/\0/a/b/../c.scope'),
                   ('no-unit', b'/a@b.slice/c@.service')]:
    write('fuzz-unit-path', name, data)

# fuzz-utf8: bytes to escape
write('fuzz-utf8', 'valid', 'caf\u00e9 \u20ac \U0001f600\n\t/usr/bin/x'.encode())
write('fuzz-utf8', 'invalid', b'\xc0\x80\xed\xa0\x80\xef\xbf\xbe\xf4\x90\x80\x80\xe2\x82\\x41\\\\\0')
