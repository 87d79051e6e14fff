# SPDX-License-Identifier: LGPL-2.1-or-later
"""The kernel side: hand-made connector frames multicast as root (Injector), a raw cn_proc
listener of the test's own (ProcListener), a stand-in for /proc/net/connector (ConnectorList)."""

import os
import socket
import struct
import tempfile

NETLINK_CONNECTOR = 11
NLMSG_DONE = 3
CN_MSG = struct.Struct('=IIIIHH')         # idx, val, seq, ack, len, flags
NLMSGHDR = struct.Struct('=IHHII')        # len, type, flags, seq, pid


class Injector:
    """Multicasts hand-made connector frames as root (the kernel permits it for CAP_NET_ADMIN)."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
        self.sock.bind((0, 0))

    @staticmethod
    def frame(idx, val, seq=0, ack=0, data=b'', flags=0, length=None, nl_type=NLMSG_DONE):
        body = CN_MSG.pack(idx, val, seq, ack, len(data) if length is None else length, flags) + data
        return NLMSGHDR.pack(NLMSGHDR.size + len(body), nl_type, 0, seq, 0) + body

    def send_raw(self, group, datagram):
        self.sock.sendto(datagram, (0, 1 << (group - 1)))

    def send(self, group, idx, val, seq=0, ack=0, data=b'', flags=0):
        self.send_raw(group, self.frame(idx, val, seq, ack, data, flags))

    def close(self):
        self.sock.close()

PROC_EVENT = struct.Struct('=IIQ')
PROC_EVENT_NAMES = {1: 'Fork', 2: 'Exec', 4: 'Uid', 0x40: 'Gid', 0x80: 'Sid', 0x100: 'Ptrace',
                    0x200: 'Comm', 0x40000000: 'Coredump', 0x80000000: 'Exit'}


class ProcListener:
    """A raw cn_proc listener of the test's own: the truth cnd's signals are checked against.
    Records (kind, fields) for Fork, Exec and Exit in a background thread."""

    # Every kind of event, and no acks: a 6.6+ kernel filters a listener that asks with any
    # mask but PROC_EVENT_ALL (0xe00003c7), which alone lets acks through.
    EVENTS_NO_ACKS = 0xc00003c7

    def __init__(self, rcvbuf=256 << 20, mask=None):
        import threading
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_CONNECTOR)
        self.sock.setsockopt(socket.SOL_SOCKET, 33, rcvbuf)      # SO_RCVBUFFORCE
        self.sock.bind((0, 1))                                    # group 1: cn_proc
        self.sock.settimeout(0.2)
        self.forks = []      # (parent_tgid, child_pid)
        self.execs = []      # tgid
        self.exits = []      # pid
        self.acks = 0
        self.ok_acks = []    # the ack values of successful acks (err 0), as a spy would see them
        self.stopping = False
        self.listening = False
        self.listen()
        if mask is not None:
            self._op(1, mask)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    # Kernels before 6.6 keep one listener count for the machine and take an IGNORE whether or
    # not the sender listens: one IGNORE too many leaves every listener without events.
    def listen(self):
        assert not self.listening
        self._op(1)          # PROC_CN_MCAST_LISTEN
        self.listening = True

    def ignore(self):
        assert self.listening
        self._op(2)          # PROC_CN_MCAST_IGNORE
        self.listening = False

    def _op(self, op, mask=None):
        data = struct.pack('=I', op) if mask is None else struct.pack('=II', op, mask)
        self.sock.sendto(Injector.frame(1, 1, seq=0, ack=0, data=data), (0, 0))

    def _run(self):
        while not self.stopping:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                continue     # ENOBUFS: counted by drops()
            off = 0
            while off + 16 <= len(data):
                nl_len = struct.unpack_from('=I', data, off)[0]
                body = data[off + 16 + CN_MSG.size:off + nl_len]
                if len(body) >= PROC_EVENT.size + 16:
                    what = struct.unpack_from('=I', body)[0]
                    f = struct.unpack_from('=IIII', body, PROC_EVENT.size)
                    if what == 0:
                        self.acks += 1
                        if f[0] == 0:
                            self.ok_acks.append(CN_MSG.unpack_from(data, off + 16)[3])
                    elif what == 1:
                        self.forks.append((f[1], f[2]))
                    elif what == 2:
                        self.execs.append(f[1])
                    elif what == 0x80000000:
                        self.exits.append(f[0])
                off += (nl_len + 3) & ~3
                if nl_len < 16:
                    break

    def drops(self):
        meminfo = self.sock.getsockopt(socket.SOL_SOCKET, 55, 4 * 9)   # SO_MEMINFO
        return struct.unpack('=9I', meminfo)[8]

    def close(self):
        self.stopping = True
        self.thread.join()
        if self.listening:
            self.ignore()
        self.sock.close()


class ConnectorList:
    """A file in the format of /proc/net/connector for cnd's test hook CND_TEST_CONNECTOR_LIST:
    the host kernel cannot register connector ids (no modules)."""

    def __init__(self, ids=(('cn_proc', 1, 1),)):
        fd, self.path = tempfile.mkstemp(prefix='cnd-connector-')
        os.fchmod(fd, 0o644)         # cnd reads it as its own user
        os.close(fd)
        self.write(ids)

    def write(self, ids):
        tmp = self.path + '.new'
        with open(tmp, 'w') as f:
            f.write('Name            ID\n' + ''.join(f'{name:<15} {idx}:{val}\n' for name, idx, val in ids))
        os.rename(tmp, self.path)

    def remove(self):
        os.unlink(self.path)


def rss_kib(pid):
    """A process's resident memory."""
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0
