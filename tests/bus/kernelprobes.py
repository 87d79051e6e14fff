# SPDX-License-Identifier: LGPL-2.1-or-later
"""What this kernel allows and does, found out the way cnd finds it out, so that a test asserts
the branch the kernel under it takes instead of the one its author's machine took.

Kernels of the same version differ: whether a user without CAP_NET_ADMIN may join connector
group 1 (cn_proc) is a build's choice (Linux 6.6 opened it, some 6.18 builds close it again), and
cn_proc's per-socket event filter and its machine-wide listener count (before 6.6) change what a
LISTEN does. Every probe here is cached for the test process and says which branch it found
once, on stderr, so a log shows which branch each test ran."""

import errno
import os
import socket
import struct
import subprocess
import sys
import time

NETLINK_CONNECTOR = 11
CN_MSG = struct.Struct('=IIIIHH')         # idx, val, seq, ack, len, flags
NLMSGHDR = struct.Struct('=IHHII')        # len, type, flags, seq, pid
NLMSG_DONE = 3

PROC_CN_MCAST_LISTEN = 1
PROC_CN_MCAST_IGNORE = 2

_said = set()


def branch(what, which, why=''):
    """Prints, once per test process, which branch of a kernel-dependent behaviour this kernel
    takes: the line a reader of the log looks for when a test chose its assertions by it."""
    line = f'kernel {os.uname().release}: {what}: {which}' + (f' ({why})' if why else '')
    if line not in _said:
        _said.add(line)
        print(line, file=sys.stderr, flush=True)


def frame(idx, val, seq=0, ack=0, data=b'', flags=0):
    body = CN_MSG.pack(idx, val, seq, ack, len(data), flags) + data
    return NLMSGHDR.pack(NLMSGHDR.size + len(body), NLMSG_DONE, 0, seq, 0) + body


def proc_op_frame(op, ack=0, mask=None):
    """A cn_proc control message: the 4-byte op, or with mask the 8-byte struct proc_input."""
    data = struct.pack('=I', op) if mask is None else struct.pack('=II', op, mask)
    return frame(1, 1, ack=ack, data=data)


# A user-space probe run as another user: binds a connector socket to one group and prints the
# errno (0 when it could). Inline, so nothing needs to be staged where that user can read it.
_JOIN_PROBE = ('import socket, sys\n'
               's = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 11)\n'
               'try:\n'
               '    s.bind((0, 1 << (int(sys.argv[1]) - 1)))\n'
               '    print(0)\n'
               'except OSError as e:\n'
               '    print(e.errno)\n')

_join_cache = {}


def unprivileged_join_errno(group, user='nobody'):
    """0 if a process of user, without capabilities, may join connector group; else the errno
    the kernel refuses it with (EPERM). Linux 6.6+ normally lets anyone join the odd groups, 1
    (cn_proc) among them; some builds of 6.18 refuse every group, and kernels before 6.6 did."""
    key = (group, user)
    if key not in _join_cache:
        p = subprocess.run(['setpriv', f'--reuid={user}', '--regid=nogroup', '--clear-groups',
                            '/usr/bin/python3', '-c', _JOIN_PROBE, str(group)],
                           capture_output=True, text=True, timeout=60, check=True)
        _join_cache[key] = int(p.stdout.strip())
        e = _join_cache[key]
        branch(f'{user} joining connector group {group}',
               'allowed' if e == 0 else f'refused with {errno.errorcode.get(e, e)}')
    return _join_cache[key]


def cn_proc_op(op):
    """Sends a 4-byte op (1 LISTEN, 2 IGNORE) to cn_proc from a socket of its own that joins no
    group, and closes it."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
    try:
        sock.sendto(proc_op_frame(op), (0, 0))
    finally:
        sock.close()


def _wait_ack(sock, ack, deadline):
    """Whether a message carrying ack arrives on sock before deadline."""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            data = sock.recv(65536)
        except (socket.timeout, BlockingIOError):
            return False
        off = 0
        while off + NLMSGHDR.size + CN_MSG.size <= len(data):
            nl_len = struct.unpack_from('=I', data, off)[0]
            if CN_MSG.unpack_from(data, off + NLMSGHDR.size)[3] == ack:
                return True
            if nl_len < NLMSGHDR.size:
                break
            off += (nl_len + 3) & ~3
    return False


def proc_listen_acked(timeout=1.0):
    """Sends one 4-byte PROC_CN_MCAST_LISTEN (and then an IGNORE, so the count is as it was) on a
    socket of its own and says whether cn_proc acknowledged it. A kernel before 6.6 does so only if
    its machine-wide listener count is at least one with this LISTEN: False there means the count
    was below zero, and nobody gets events."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
    try:
        sock.bind((0, 1))
        ack = int.from_bytes(os.urandom(4), 'little') & 0x7fffffff
        sock.sendto(proc_op_frame(PROC_CN_MCAST_LISTEN, ack=ack), (0, 0))
        acked = _wait_ack(sock, ack + 1, time.monotonic() + timeout)
        sock.sendto(proc_op_frame(PROC_CN_MCAST_IGNORE), (0, 0))
        return acked
    finally:
        sock.close()


_filters = None


def proc_kernel_filters(timeout=1.0):
    """Whether cn_proc filters per socket (6.6+): it answers the 8-byte LISTEN, which older kernels
    ignore. Asked once per test process."""
    global _filters
    if _filters is None:
        sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
        try:
            sock.bind((0, 1))
            ack = int.from_bytes(os.urandom(4), 'little') & 0x7fffffff
            sock.sendto(proc_op_frame(PROC_CN_MCAST_LISTEN, ack=ack, mask=0xffffffff), (0, 0))
            _filters = _wait_ack(sock, ack + 1, time.monotonic() + timeout)
            if _filters:
                # 6.6+ counted it for this socket: take it back. (Older kernels ignored it, and
                # an IGNORE there would take someone else's count.)
                sock.sendto(proc_op_frame(PROC_CN_MCAST_IGNORE), (0, 0))
        finally:
            sock.close()
        branch("cn_proc's per-socket event filter", 'present' if _filters else 'absent',
               'the 8-byte LISTEN was answered' if _filters else
               'the 8-byte LISTEN went unanswered: one machine-wide listener count, as before 6.6')
    return _filters
