# SPDX-License-Identifier: LGPL-2.1-or-later
"""A stream of cnd's (AcquireStream) from the test's side: the fd taken from the reply, its
records read by streamrecords.py."""

import os
import socket

from dbusclient import Client, Gio, GLib
from busnames import BUS_NAME, MANAGER_IFACE, MANAGER_PATH
from streamrecords import (ANY_VAL, EXITED, HELLO, ID_ADDED, ID_REMOVED, LOST, LOST_KERNEL, LOST_STREAM_FULL,
                           MESSAGE, STARTED, StreamReader)


def acquire(client, options, timeout_ms=30000):
    """Calls AcquireStream with options (a dict of GLib.Variant) and returns (socket, max_record)."""
    reply, fds = client.conn.call_with_unix_fd_list_sync(
        BUS_NAME, MANAGER_PATH, MANAGER_IFACE, 'AcquireStream', GLib.Variant('(a{sv})', (options,)),
        GLib.VariantType('(hu)'), Gio.DBusCallFlags.NONE, timeout_ms, None, None)
    handle, max_record = reply.unpack()
    fd = fds.get(handle)
    return socket.socket(fileno=fd), max_record


def ids_option(*ids):
    return {'Ids': GLib.Variant('a(uu)', list(ids))}


class Stream(StreamReader):
    """A stream acquired over the bus."""

    @classmethod
    def acquire(cls, client, options):
        return cls(*acquire(client, options))


def options_from_json(o):
    """AcquireStream's options from JSON: Ids as [[idx, val], ...], the rest by their types."""
    types = {'Ids': 'a(uu)', 'Processes': 'b', 'IdChanges': 'b', 'BufferBytes': 'u'}
    return {k: GLib.Variant(types[k], [tuple(i) for i in v] if k == 'Ids' else v) for k, v in o.items()}


def serve(client, options, count, commands, out):
    """Acquires count streams, says how that went, then obeys commands (lines): 'drain IDLE',
    'eof TIMEOUT', 'close' (the first stream); each answered with one JSON line on out."""
    import json
    streams, error = [], None
    try:
        for _ in range(count):
            streams.append(Stream.acquire(client, options))
    except GLib.Error as e:
        error = [Gio.DBusError.get_remote_error(e), e.message]
    print(json.dumps({'acquired': len(streams), 'error': error}), file=out, flush=True)
    for line in commands:
        cmd, *arg = line.split()
        s = streams[0]
        if cmd == 'drain':
            s.drain(idle=float(arg[0]))
        elif cmd == 'eof':
            s.read_until(lambda: s.eof, timeout=float(arg[0]))
        elif cmd == 'close':
            s.close()
            print(json.dumps({'closed': True}), file=out, flush=True)
            continue
        print(json.dumps(s.tally()), file=out, flush=True)


def open_fds(pid):
    return len(os.listdir(f'/proc/{pid}/fd'))


__all__ = ['Client', 'Stream', 'acquire', 'ids_option', 'options_from_json', 'serve', 'open_fds', 'ANY_VAL', 'HELLO', 'MESSAGE', 'LOST',
           'ID_ADDED', 'ID_REMOVED', 'STARTED', 'EXITED', 'LOST_STREAM_FULL', 'LOST_KERNEL']
