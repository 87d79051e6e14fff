# SPDX-License-Identifier: LGPL-2.1-or-later
"""The records of a cnd stream (AcquireStream), parsed as org.cnd.Connector1(5) and
<cnd/stream.h> define them, and a reader that tallies them: the socket alone, no D-Bus, so that
a client without the GObject bindings (the booted system's) reads streams the same way."""

import select
import socket
import struct
import time

HELLO, MESSAGE, LOST, ID_ADDED, ID_REMOVED, STARTED, EXITED = range(1, 8)
LOST_STREAM_FULL, LOST_KERNEL = 1, 2
ANY_VAL = 0xffffffff
HEADER = struct.Struct('=HHI')
CN_MSG = struct.Struct('=IIIIHH')
LOST_BODY = struct.Struct('=QII')
PROCESS_FIXED = struct.Struct('=IIIIiiIIQQQQQIIII')
# The named strings of a process record, in their order (enum cnd_process_string).
PROCESS_STRINGS = ('exe', 'unit', 'cgroup', 'user_unit', 'machine', 'container')


def align(n):
    return (n + 7) & ~7


def parse_packet(data):
    """The records of one packet: a list of (type, body)."""
    assert len(data) > 0, 'a zero-length packet'
    out, off = [], 0
    while off < len(data):
        rtype, _, length = HEADER.unpack_from(data, off)
        body = data[off + HEADER.size:off + HEADER.size + length]
        assert len(body) == length, f'record of {length} bytes cut at the packet end'
        out.append((rtype, body))
        off += align(HEADER.size + length)
    assert off == len(data), f'packet of {len(data)} bytes, records end at {off}'
    return out


def message(body):
    """(idx, val, seq, ack, flags, data) of a message record."""
    idx, val, seq, ack, length, flags = CN_MSG.unpack_from(body)
    return idx, val, seq, ack, flags, body[CN_MSG.size:CN_MSG.size + length]


def lost(body):
    count, reason, _ = LOST_BODY.unpack_from(body)
    return count, reason


def process(body):
    """A process record as a dict named as the Started/Exited signals' arguments, the where keys
    among them (a string "" and a number 0 where the signal's where leaves the key out)."""
    (size, pid, ppid, uid, code, sig, core, ns_pid, start, ts, runtime, pid_ns, mnt_ns, n_strings, n_named,
     strings_size, _) = PROCESS_FIXED.unpack_from(body)
    strings = body[size:size + strings_size].split(b'\0')[:n_strings]
    text = [s.decode('utf-8', 'surrogateescape') for s in strings]
    record = {'pid': pid, 'ppid': ppid, 'uid': uid, 'exit_code': code, 'exit_signal': sig,
              'core_dumped': bool(core), 'start_time': start, 'timestamp_ns': ts, 'runtime_ns': runtime,
              'pid_namespace': pid_ns, 'mount_namespace': mnt_ns, 'namespace_pid': ns_pid,
              'argv': text[n_named:]}
    # A later writer may name more strings: the arguments still start at n_named.
    record.update(zip(PROCESS_STRINGS, text[:min(n_named, len(PROCESS_STRINGS))]))
    return record


def id_change(body):
    idx, val = struct.unpack_from('=II', body)
    return idx, val, body[8:].split(b'\0')[0].decode('utf-8', 'replace')


class StreamReader:
    """Reads and tallies a stream: messages (by id), lost counts by reason, processes, id changes."""

    def __init__(self, sock, max_record):
        self.sock = sock
        self.max_record = max_record
        self.hello = None
        self.messages = []
        self.lost = {LOST_STREAM_FULL: 0, LOST_KERNEL: 0}
        self.processes = []
        self.id_changes = []
        self.packets = 0
        self.empty_packets = 0
        self.eof = False

    def read_some(self, timeout=0.0):
        """Reads what is there (waiting up to timeout for the first packet); returns how many."""
        n = 0
        wait = timeout
        while not self.eof:
            r, _, _ = select.select([self.sock], [], [], wait)
            if not r:
                return n
            data = self.sock.recv(self.max_record + 1, socket.MSG_DONTWAIT)
            if not data:
                # The end of the stream reads 0 again and again; a zero-length packet would
                # read 0 once, then nothing (EAGAIN) or the next packet.
                try:
                    again = self.sock.recv(self.max_record + 1, socket.MSG_DONTWAIT)
                except BlockingIOError:
                    again = None
                if again == b'':
                    self.eof = True
                    return n
                self.empty_packets += 1
                if again is None:
                    continue
                data = again
            assert len(data) <= self.max_record, f'packet of {len(data)} bytes > max_record {self.max_record}'
            self.take(parse_packet(data))
            self.packets += 1
            n += 1
            wait = 0.0
        return n

    def take(self, records):
        for rtype, body in records:
            if rtype == HELLO:
                assert self.hello is None and not self.messages, 'hello not first'
                self.hello = struct.unpack_from('=II', body)
            elif rtype == MESSAGE:
                self.messages.append(message(body))
            elif rtype == LOST:
                count, reason = lost(body)
                assert count > 0, 'a lost record of 0'
                self.lost[reason] += count
            elif rtype in (STARTED, EXITED):
                self.processes.append((rtype, process(body)))
            elif rtype in (ID_ADDED, ID_REMOVED):
                self.id_changes.append((rtype,) + id_change(body))

    def read_until(self, done, timeout=20.0):
        deadline = time.monotonic() + timeout
        while not done() and not self.eof and time.monotonic() < deadline:
            self.read_some(0.2)
        return done()

    def drain(self, idle=1.0, timeout=120.0):
        """Reads until nothing came for idle seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.read_some(idle) > 0:
            pass

    def close(self):
        self.sock.close()

    def tally(self, keep=1000):
        """What was read, as JSON-able values (for a client run as another user)."""
        seqs = [m[2] for m in self.messages]
        return {'hello': self.hello, 'messages': len(self.messages), 'in_order': seqs == sorted(seqs),
                'lost_full': self.lost[LOST_STREAM_FULL], 'lost_kernel': self.lost[LOST_KERNEL],
                'packets': self.packets, 'empty_packets': self.empty_packets, 'eof': self.eof,
                'processes': [[t, p['pid'], p['uid'], p['exe']] for t, p in self.processes],
                'id_changes': [list(c) for c in self.id_changes],
                'data': [[m[0], m[1], m[2], m[5].hex()] for m in self.messages] if len(self.messages) <= keep else None}
