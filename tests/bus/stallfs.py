#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""stallfs.py MOUNTPOINT: a FUSE file system of one file, MOUNTPOINT/f (4096 bytes, readable by
all), whose reads are never answered. It speaks the kernel's protocol on /dev/fuse itself (no
libfuse), as root, mounted with allow_other so that any user may map the file. A page of the
file mapped into a process (tests/helpers/mm-stall) then stalls whoever faults it in: a read of
that process's /proc/PID/cmdline waits in the kernel until the server answers or goes. Prints
"ready" once mounted. On SIGTERM (or when killed) the device closes, the kernel aborts the
connection, every waiting read fails with ENOTCONN, and the mount is detached."""

import ctypes
import os
import signal
import struct
import sys

FUSE_LOOKUP, FUSE_FORGET, FUSE_GETATTR, FUSE_OPEN, FUSE_READ = 1, 2, 3, 14, 15
FUSE_RELEASE, FUSE_FLUSH, FUSE_INIT, FUSE_ACCESS = 18, 25, 26, 34
FUSE_INTERRUPT, FUSE_DESTROY, FUSE_BATCH_FORGET = 36, 38, 42
NO_REPLY = (FUSE_FORGET, FUSE_INTERRUPT, FUSE_BATCH_FORGET)
IN_HEADER = struct.Struct('=IIQQIIIHH')         # len, opcode, unique, nodeid, uid, gid, pid, ...
OUT_HEADER = struct.Struct('=IiQ')              # len, error, unique
ROOT, FILE = 1, 2
FILE_SIZE = 4096
MNT_DETACH = 2


def attr(node):
    mode = 0o40755 if node == ROOT else 0o100444
    size = 0 if node == ROOT else FILE_SIZE
    # ino, size, blocks, atime, mtime, ctime, *nsec, mode, nlink, uid, gid, rdev, blksize, flags
    return struct.pack('=QQQQQQIIIIIIIIII', node, size, (size + 511) // 512, 0, 0, 0, 0, 0, 0,
                       mode, 1, 0, 0, 0, 4096, 0)


def reply(fd, unique, error=0, body=b''):
    os.write(fd, OUT_HEADER.pack(OUT_HEADER.size + len(body), error, unique) + body)


def answer(fd, opcode, unique, nodeid, body):
    if opcode == FUSE_INIT:
        major, minor, readahead, flags = struct.unpack_from('=IIII', body)
        # major, minor, max_readahead, flags, max_background, congestion_threshold, max_write,
        # time_gran, max_pages, map_alignment, flags2, unused[7]
        reply(fd, unique, body=struct.pack('=IIIIHHIIHHI7I', 7, min(minor, 31), readahead, 0, 16, 12,
                                           65536, 1, 32, 0, 0, *([0] * 7)))
    elif opcode == FUSE_LOOKUP:
        name = body.split(b'\0', 1)[0]
        if nodeid == ROOT and name == b'f':
            reply(fd, unique, body=struct.pack('=QQQQII', FILE, 0, 3600, 3600, 0, 0) + attr(FILE))
        else:
            reply(fd, unique, -2)       # ENOENT
    elif opcode == FUSE_GETATTR:
        reply(fd, unique, body=struct.pack('=QII', 3600, 0, 0) + attr(nodeid))
    elif opcode == FUSE_OPEN:
        reply(fd, unique, body=struct.pack('=QII', 0, 0, 0))
    elif opcode == FUSE_READ:
        pass                            # never answered: the point
    elif opcode in (FUSE_RELEASE, FUSE_FLUSH, FUSE_ACCESS, FUSE_DESTROY):
        reply(fd, unique)
    elif opcode not in NO_REPLY:
        reply(fd, unique, -38)          # ENOSYS


def main():
    mountpoint = sys.argv[1]
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open('/dev/fuse', os.O_RDWR | os.O_CLOEXEC)
    opts = f'fd={fd},rootmode=40000,user_id=0,group_id=0,allow_other'.encode()
    if libc.mount(b'stallfs', mountpoint.encode(), b'fuse.stallfs', 0, opts) < 0:
        sys.exit(f'stallfs: mount {mountpoint}: {os.strerror(ctypes.get_errno())}')

    def stop(signum, frame):
        os.close(fd)                    # aborts the connection: waiting reads fail
        libc.umount2(mountpoint.encode(), MNT_DETACH)
        os._exit(0)
    signal.signal(signal.SIGTERM, stop)
    print('ready', flush=True)
    while True:
        try:
            msg = os.read(fd, 65536 + 4096)
        except OSError:
            break                       # ENODEV: unmounted
        length, opcode, unique, nodeid = IN_HEADER.unpack_from(msg)[:4]
        answer(fd, opcode, unique, nodeid, msg[IN_HEADER.size:length])
    stop(None, None)


if __name__ == '__main__':
    main()
