# SPDX-License-Identifier: LGPL-2.1-or-later
"""A D-Bus client on the private bus (Gio), with signal collection."""

import os
import sys
import time

try:
    import gi
except ImportError:
    # Started with another python3 first on PATH (pyenv, a venv): Debian's has the bindings.
    if (os.path.realpath(sys.executable) != os.path.realpath('/usr/bin/python3') and
            os.access('/usr/bin/python3', os.X_OK)):
        os.execv('/usr/bin/python3', ['/usr/bin/python3'] + sys.argv)
    sys.exit(f'{os.path.basename(sys.argv[0])}: needs the GObject bindings of Debian\'s /usr/bin/python3 '
             f'(python3-gi); run first: tools/install-deps')

gi.require_version('Gio', '2.0')
from gi.repository import Gio, GLib  # noqa: E402

from busnames import BUS_NAME, MANAGER_IFACE, MANAGER_PATH  # noqa: E402
from waits import scaled  # noqa: E402


class Client:
    """A D-Bus client on the private bus, with signal collection."""

    def __init__(self, address):
        self.context = GLib.MainContext.new()
        self.context.push_thread_default()
        try:
            self.conn = Gio.DBusConnection.new_for_address_sync(
                address,
                Gio.DBusConnectionFlags.AUTHENTICATION_CLIENT | Gio.DBusConnectionFlags.MESSAGE_BUS_CONNECTION,
                None, None)
        finally:
            self.context.pop_thread_default()
        self.subscriptions = []

    def close(self):
        for s in self.subscriptions:
            self.conn.signal_unsubscribe(s)
        if not self.conn.is_closed():
            try:
                self.conn.close_sync(None)
            except GLib.Error:
                pass  # the bus went away first

    def call(self, method, args=None, signature=None, path=MANAGER_PATH, iface=MANAGER_IFACE,
             dest=BUS_NAME, timeout_ms=30000):
        params = GLib.Variant(signature, args) if signature else None
        reply = self.conn.call_sync(dest, path, iface, method, params, None,
                                    Gio.DBusCallFlags.NONE, timeout_ms, None)
        return reply.unpack() if reply else None

    def call_async(self, method, args=None, signature=None, path=MANAGER_PATH, iface=MANAGER_IFACE,
                   dest=BUS_NAME, timeout_ms=90000):
        """Starts a call; the returned dict gets 'ok' (the unpacked reply) or 'error' (the D-Bus
        error name) and 'message' once pump() has dispatched the reply."""
        result = {}
        params = GLib.Variant(signature, args) if signature else None

        def done(conn, res):
            try:
                result['ok'] = conn.call_finish(res).unpack()
            except GLib.Error as e:
                result['error'] = Gio.DBusError.get_remote_error(e)
                result['message'] = e.message
        self.conn.call(dest, path, iface, method, params, None, Gio.DBusCallFlags.NONE, timeout_ms, None, done)
        return result

    def call_error(self, method, args=None, signature=None, **kw):
        """Calls and returns the D-Bus error name and message; fails if the call succeeds."""
        try:
            self.call(method, args, signature, **kw)
        except GLib.Error as e:
            return Gio.DBusError.get_remote_error(e), e.message
        raise AssertionError(f'{method} succeeded')

    def get(self, prop, path=MANAGER_PATH, iface=MANAGER_IFACE):
        return self.call('Get', (iface, prop), '(ss)', path=path, iface='org.freedesktop.DBus.Properties')[0]

    def get_all(self, path=MANAGER_PATH, iface=MANAGER_IFACE):
        return self.call('GetAll', (iface,), '(s)', path=path, iface='org.freedesktop.DBus.Properties')[0]

    def managed_objects(self):
        return self.call('GetManagedObjects', path=MANAGER_PATH, iface='org.freedesktop.DBus.ObjectManager')[0]

    def introspect(self, path=MANAGER_PATH):
        return self.call('Introspect', path=path, iface='org.freedesktop.DBus.Introspectable')[0]

    def subscribe(self, member, iface=None, path=None, path_namespace=None, sender=BUS_NAME):
        """Collects (path, member, args) of matching signals in the returned list. The match
        rule is in place when this returns (GDBus would add it asynchronously)."""
        got = []
        rule = ["type='signal'"]
        for key, value in (('sender', sender), ('interface', iface), ('member', member),
                           ('path', path), ('path_namespace', path_namespace)):
            if value:
                rule.append(f"{key}='{value}'")
        self.conn.call_sync('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus',
                            'AddMatch', GLib.Variant('(s)', (','.join(rule),)),
                            None, Gio.DBusCallFlags.NONE, -1, None)

        def on_signal(conn, sender_name, obj_path, interface, signal_name, params):
            if path_namespace and not (obj_path == path_namespace or obj_path.startswith(path_namespace + '/')):
                return
            got.append((obj_path, signal_name, params.unpack()))

        self.subscriptions.append(self.conn.signal_subscribe(
            None, iface, member, path, None, Gio.DBusSignalFlags.NO_MATCH_RULE, on_signal))
        return got

    def pump(self, until=None, timeout=10.0):
        """Dispatches incoming messages until until() holds (or just for a moment)."""
        timeout = scaled(timeout)
        deadline = time.monotonic() + timeout
        ctx = GLib.MainContext.default()
        while True:
            while ctx.iteration(False):
                pass
            if until is None or until():
                return True
            if time.monotonic() > deadline:
                if until is None:
                    return True
                raise AssertionError(f'timed out after {timeout}s')
            ctx.iteration(True) if ctx.pending() else time.sleep(0.005)

    def settle(self, seconds=0.3):
        """Gives in-flight signals time to arrive."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            self.pump()
            time.sleep(0.01)
