#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A small D-Bus client for the tests to run as another user (setpriv): performs one action
on cnd and prints the outcome as JSON: {"ok": value} or {"error": "org.Error.Name"}."""

import json
import sys

from cndtest import (ID_IFACE, MANAGER_IFACE, MANAGER_PATH, PROC_IFACE, PROC_PATH, PROCESSES_IFACE,
                     PROCESSES_PATH, Client, GLib)


def main():
    address, action, *args = sys.argv[1:]
    c = Client(address)
    try:
        if action == 'get':
            result = c.get(args[0], path=args[1] if len(args) > 1 else MANAGER_PATH,
                           iface=args[2] if len(args) > 2 else MANAGER_IFACE)
        elif action == 'get-repeat':
            # Reads a Manager property n times on this one connection: how many answers came
            # back, and the errors of those that did not.
            n, name = int(args[0]), args[1]
            answered, errors = 0, []
            for _ in range(n):
                try:
                    c.get(name)
                    answered += 1
                except GLib.Error as e:
                    errors.append(Gio_error_name(e))
            result = {'answered': answered, 'errors': errors}
        elif action == 'introspect':
            result = c.introspect(args[0] if args else MANAGER_PATH)
        elif action == 'call':
            method, signature, values = args[0], args[1], json.loads(args[2])
            result = c.call(method, tuple(values) if signature else None, signature or None)
        elif action == 'call-at':
            # A method of another object: path, interface, method, signature, JSON arguments.
            path, iface, method, signature, values = args[0], args[1], args[2], args[3], json.loads(args[4])
            result = c.call(method, tuple(values) if signature else None, signature or None, path=path,
                            iface=iface)
        elif action == 'processes-record':
            # Records Started and Exited, and the public Proc Exec, until stdin closes.
            started = c.subscribe('Started', iface=PROCESSES_IFACE, path=PROCESSES_PATH)
            exited = c.subscribe('Exited', iface=PROCESSES_IFACE, path=PROCESSES_PATH)
            execs = c.subscribe('Exec', iface=PROC_IFACE, path=PROC_PATH)
            print('ready', flush=True)
            import select
            while not select.select([sys.stdin], [], [], 0.01)[0]:
                c.pump()
            sys.stdin.read()
            c.settle(1.0)
            result = {'started': [list(g[2]) for g in started], 'exited': [list(g[2]) for g in exited],
                      'execs': [g[2][1] for g in execs]}
        elif action == 'listen':
            # Prints "ready" once the match is in place, then waits for n Message signals.
            n, namespace = int(args[0]), args[1]
            got = c.subscribe('Message', iface=ID_IFACE, path_namespace=namespace)
            print('ready', flush=True)
            c.pump(lambda: len(got) >= n, timeout=float(args[2]) if len(args) > 2 else 10)
            result = [list(g[2][:5]) + [bytes(g[2][5]).hex()] for g in got]
        elif action == 'emit':
            # Emits a signal as this user: path, interface, member, signature, JSON arguments.
            path, iface, member, signature, values = args[0], args[1], args[2], args[3], json.loads(args[4])
            c.conn.emit_signal(None, path, iface, member, GLib.Variant(signature, tuple(values)))
            c.conn.flush_sync(None)
            result = True
        elif action == 'proc-record':
            # Records Fork and Exit signals until stdin closes, then prints them.
            forks = c.subscribe('Fork', iface=PROC_IFACE, path=PROC_PATH)
            exits = c.subscribe('Exit', iface=PROC_IFACE, path=PROC_PATH)
            print('ready', flush=True)
            import select
            while not select.select([sys.stdin], [], [], 0.01)[0]:
                c.pump()
            sys.stdin.read()
            c.settle(1.0)
            result = {'forks': [[g[2][1], g[2][2]] for g in forks], 'exits': [g[2][0] for g in exits]}
        elif action == 'burst':
            # waves x 100 calls at once (dbus-daemon refuses more than 128 waiting on one
            # connection) of GetAll, or of the method given as call-at's arguments; the error
            # names of those refused.
            errors = []
            # One call first: once the bus has told cnd who calls, the user's budget applies
            # (before, a connection makes a few calls on its own account, cnd(8)).
            c.get('Version')
            if len(args) > 1:
                path, iface, method, signature, values = args[1], args[2], args[3], args[4], json.loads(args[5])
                call = (method, tuple(values), signature)
            else:
                path, iface, call = MANAGER_PATH, 'org.freedesktop.DBus.Properties', ('GetAll', (MANAGER_IFACE,), '(s)')
            for _ in range(int(args[0])):
                pending = [c.call_async(*call, path=path, iface=iface) for _ in range(100)]
                c.pump(lambda: all(pending), timeout=60)
                errors += [p['error'] for p in pending if 'error' in p]
            result = errors
        elif action == 'stream':
            # AcquireStream with JSON options (count times), then commands on stdin, answers
            # on stdout, one JSON line each (streamclient.serve()).
            import streamclient
            options = streamclient.options_from_json(json.loads(args[0]))
            streamclient.serve(c, options, int(args[1]) if len(args) > 1 else 1, sys.stdin, sys.stdout)
            return
        elif action == 'acquire-each':
            # AcquireStream once for each argument, an a{sv} in GVariant text (any key, any
            # type): the outcome of each, {"max_record": n} or {"error": name, "message": text}.
            import streamclient
            result = []
            for text in args:
                v = GLib.Variant.parse(GLib.VariantType('a{sv}'), text, None, None)
                options = {e.get_child_value(0).get_string(): e.get_child_value(1).get_variant()
                           for e in (v.get_child_value(i) for i in range(v.n_children()))}
                try:
                    sock, max_record = streamclient.acquire(c, options)
                    sock.close()
                    result.append({'max_record': max_record})
                except GLib.Error as e:
                    result.append({'error': Gio_error_name(e), 'message': e.message})
        else:
            raise SystemExit(f'unknown action {action}')
        print(json.dumps({'ok': result}, default=str))
    except GLib.Error as e:
        print(json.dumps({'error': Gio_error_name(e), 'message': e.message}))
    except AssertionError as e:
        print(json.dumps({'error': 'timeout', 'message': str(e)}))


def Gio_error_name(e):
    from gi.repository import Gio
    return Gio.DBusError.get_remote_error(e) or str(e)


if __name__ == '__main__':
    main()
