#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""React to one program being started, through cnd's process table: prints
"started PID UNIT ARGV..." for every Started signal whose exe is the path given. The match
rule names the path as arg3 (Started's exe), so the bus itself filters: the client wakes only
for that program. Needs to run as root or as a member of the reader group (cnd-readers), to
whom the shipped policy gives the Processes signals. --count N ends after N lines, --timeout
SEC after SEC seconds (exit status 1 if --count was given and not reached). See
org.cnd.Connector1(5).

dbus-broker before version 36 (Debian 12 has 33) never matches argN for N > 0
(bus1/dbus-broker#367): there, --no-bus-filter matches every Started and compares exe here."""

import argparse
import json
import os

import gi

gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

BUS_NAME = 'org.cnd.Connector1'
PROCESSES_PATH = '/org/cnd/Connector1/processes'
PROCESSES_IFACE = 'org.cnd.Connector1.Processes'


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


def as_cnd_carries(path):
    """A path as cnd's exe carries it (org.cnd.Connector1(5), Strings from /proc): a backslash
    doubled, a byte that is not UTF-8 as \\xNN, the rest as it is."""
    out = []
    for c in os.fsencode(path).decode('utf-8', 'surrogateescape'):
        if 0xdc80 <= ord(c) <= 0xdcff:
            out.append(f'\\x{ord(c) - 0xdc00:02x}')
        else:
            out.append('\\\\' if c == '\\' else c)
    return ''.join(out)


def quote(s):
    """A match rule's value: inside single quotes a backslash is literal, and a quote is written
    by closing the quotes, an escaped quote and opening them again (the D-Bus specification)."""
    return "'" + s.replace("'", "'\\''") + "'"


def main():
    p = argparse.ArgumentParser(description='Print the unit and arguments of every start of a program.')
    p.add_argument('exe', help='the program, as /proc/PID/exe names it (e.g. /usr/bin/dash)')
    p.add_argument('--count', type=int, default=0, help='exit after N lines')
    p.add_argument('--timeout', type=float, default=0, help='exit after SEC seconds')
    p.add_argument('--no-bus-filter', action='store_true',
                   help='filter here, not by an arg3 match rule (dbus-broker before 36)')
    args = p.parse_args()
    exe_carried = as_cnd_carries(args.exe)

    bus = Gio.bus_get_sync(Gio.BusType.SYSTEM)     # honours $DBUS_SYSTEM_BUS_ADDRESS
    loop = GLib.MainLoop()
    state = {'seen': 0, 'status': 0}

    rule = (f"type='signal',sender='{BUS_NAME}',path='{PROCESSES_PATH}',interface='{PROCESSES_IFACE}',"
            f"member='Started'" + ('' if args.no_bus_filter else f",arg3={quote(exe_carried)}"))
    bus.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'AddMatch',
                  GLib.Variant('(s)', (rule,)), None, Gio.DBusCallFlags.NONE, -1, None)

    def on_started(conn, sender, path, iface, member, params):
        pid, ppid, uid, exe, argv, unit, cgroup, start_time, timestamp_ns, where = params.unpack()
        if exe != exe_carried:
            return      # only with --no-bus-filter: the bus filters otherwise
        # json.dumps writes every control (DEL and all above ASCII too) as a \u escape.
        argv_json = json.dumps(argv)
        print(f'started {pid} {escape(unit) or "-"} {argv_json}', flush=True)
        state['seen'] += 1
        if args.count and state['seen'] >= args.count:
            loop.quit()

    # The bus does the filtering (the match rule above): this only dispatches what arrives.
    bus.signal_subscribe(BUS_NAME, PROCESSES_IFACE, 'Started', PROCESSES_PATH, None,
                         Gio.DBusSignalFlags.NO_MATCH_RULE, on_started)
    print('ready', flush=True)
    if args.timeout:
        def on_timeout():
            state['status'] = 1 if args.count else 0
            loop.quit()
        GLib.timeout_add(int(args.timeout * 1000), on_timeout)
    loop.run()
    return state['status']


if __name__ == '__main__':
    raise SystemExit(main())
