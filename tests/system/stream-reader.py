#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""One cnd stream read on the system bus, for the booted system test: acquires a stream with
AcquireStream({"Processes": true}) as whoever runs it (dbus-python: the reply's file descriptor
is kept), says so on stdout, reads it until a line comes on stdin, reads what is left, and
prints what it got as one JSON line. streamrecords.py (beside it) parses the records;
busnames.py (beside it, with the daemon's names header) names the bus, object and interface.

    stream-reader.py        → {"acquired": true, "max_record": N} or {"error": [NAME, TEXT]},
                              then after a line on stdin: {"hello": ..., "processes": [...], ...}
"""

import json
import select
import socket
import sys

import dbus

from busnames import BUS_NAME, MANAGER_IFACE, MANAGER_PATH
from streamrecords import STARTED, StreamReader


def say(obj):
    print(json.dumps(obj), flush=True)


def main():
    bus = dbus.SystemBus()
    manager = dbus.Interface(bus.get_object(BUS_NAME, MANAGER_PATH), MANAGER_IFACE)
    try:
        fd, max_record = manager.AcquireStream(dbus.Dictionary({'Processes': dbus.Boolean(True)}, signature='sv'))
    except dbus.DBusException as e:
        say({'error': [e.get_dbus_name(), e.get_dbus_message()]})
        return
    stream = StreamReader(socket.socket(fileno=fd.take()), int(max_record))
    say({'acquired': True, 'max_record': int(max_record)})
    while not stream.eof and not select.select([sys.stdin], [], [], 0)[0]:
        stream.read_some(0.2)
    stream.drain(idle=1.0, timeout=30.0)
    tally = stream.tally()
    tally['processes'] = [dict(p, record='started' if kind == STARTED else 'exited') for kind, p in stream.processes]
    say(tally)


if __name__ == '__main__':
    main()
