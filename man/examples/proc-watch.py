#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Watch process starts through cnd, as a desktop service would; any user may run it.
Prints "exec PID TGID COMM" for every Exec signal (COMM's controls escaped) and "exit PID
CODE" when a process seen exec'ing exits (CODE is the kernel's wait status: 768 for
exit(3), 9 for SIGKILL).
--count N ends after N exec lines, --timeout SEC after SEC seconds (exit status 1 if
--count was given and not reached). See org.cnd.Connector1(5)."""

import argparse
import sys

import gi

gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

BUS_NAME = 'org.cnd.Connector1'
PROC_PATH = '/org/cnd/Connector1/proc'
PROC_IFACE = 'org.cnd.Connector1.Proc'


def escape(s):
    """Text from other users shown as data: each byte of a C0 control, DEL, a C1 control, a bidi
    control (U+202A-U+202E, U+2066-U+2069) or of invalid UTF-8 (decoded with surrogateescape)
    as \\xNN, as cnctl(1) shows it. A terminal would act on them: erase lines, set its title."""
    def one(c):
        o = ord(c)
        if o < 0x20 or 0x7f <= o <= 0x9f or 0x202a <= o <= 0x202e or 0x2066 <= o <= 0x2069 or 0xdc80 <= o <= 0xdcff:
            return ''.join(f'\\x{b:02x}' for b in c.encode('utf-8', 'surrogateescape'))
        return c
    return ''.join(one(c) for c in s)


def read_comm(pid):
    try:
        with open(f'/proc/{pid}/comm', 'rb') as f:
            return f.read().rstrip(b'\n').decode('utf-8', 'surrogateescape')
    except OSError:
        return '?'      # gone already (or not ours to read)


def main():
    p = argparse.ArgumentParser(description='Print exec and exit events from cnd.')
    p.add_argument('--count', type=int, default=0, help='exit after N exec lines')
    p.add_argument('--timeout', type=float, default=0, help='exit after SEC seconds')
    args = p.parse_args()

    bus = Gio.bus_get_sync(Gio.BusType.SYSTEM)     # honours $DBUS_SYSTEM_BUS_ADDRESS
    loop = GLib.MainLoop()
    state = {'execs': 0, 'status': 0}
    watched = set()     # pids seen exec'ing whose exit we have not seen yet

    def on_exec(conn, sender, path, iface, member, params):
        pid, tgid, cpu, timestamp_ns = params.unpack()
        watched.add(pid)
        print(f'exec {pid} {tgid} {escape(read_comm(pid))}', flush=True)
        state['execs'] += 1
        if args.count and state['execs'] >= args.count:
            loop.quit()

    def on_exit(conn, sender, path, iface, member, params):
        pid, tgid, exit_code = params.unpack()[:3]
        # A match rule cannot select a pid (argN matches only strings): filter here.
        if pid in watched:
            watched.discard(pid)
            print(f'exit {pid} {exit_code}', flush=True)

    def on_overrun(conn, sender, path, iface, member, params):
        # Events were lost: a real service would resynchronise from /proc here.
        print('overrun: kernel dropped %d, bus dropped %d' % params.unpack(), file=sys.stderr, flush=True)

    def on_timeout():
        state['status'] = 1 if args.count else 0
        loop.quit()

    # Each adds a match rule: type='signal',sender=...,interface=...,member='Exec',path=...
    bus.signal_subscribe(BUS_NAME, PROC_IFACE, 'Exec', PROC_PATH, None, Gio.DBusSignalFlags.NONE, on_exec)
    bus.signal_subscribe(BUS_NAME, PROC_IFACE, 'Exit', PROC_PATH, None, Gio.DBusSignalFlags.NONE, on_exit)
    bus.signal_subscribe(BUS_NAME, 'org.cnd.Connector1.Manager', 'Overrun', '/org/cnd/Connector1', None,
                         Gio.DBusSignalFlags.NONE, on_overrun)
    if args.timeout:
        GLib.timeout_add(int(args.timeout * 1000), on_timeout)
    try:
        loop.run()
    except KeyboardInterrupt:
        pass
    return state['status']


if __name__ == '__main__':
    sys.exit(main())
