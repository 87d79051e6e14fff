#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The interface files for /usr/share/dbus-1/interfaces/ that the build makes with
cnd --bus-introspect: each is a well-formed document holding its whole interface with argument
names, and each says exactly what the running daemon's Introspect says."""

import glob
import os
import subprocess
import unittest
import xml.etree.ElementTree as ET

from cndtest import (BUILD_DIR, BUS_NAME, CND, ID_IFACE, ID_PATH_PREFIX, MANAGER_IFACE, PROC_IFACE, CndTestCase,
                     ConnectorList, main)

DOCTYPE = ('<!DOCTYPE node PUBLIC "-//freedesktop//DTD D-BUS Object Introspection 1.0//EN"\n'
           '"http://www.freedesktop.org/standards/dbus/1.0/introspect.dtd">\n')

TAIL = [('cpu', 'u'), ('timestamp_ns', 't')]

# The API as the product promises it: (name, type) of every argument, in order; for methods
# the in-arguments, then the out-arguments.
EXPECTED = {
    MANAGER_IFACE: {
        'properties': {'Version': 's', 'Groups': 'au', 'Ids': 'a(uus)', 'ReceivedMessages': 't',
                       'RejectedMessages': 't', 'KernelDroppedMessages': 't',
                       'BusDroppedMessages': 't', 'Overruns': 't', 'RefusedCalls': 't', 'Streams': 'u',
                       'StreamLostRecords': 't'},
        'methods': {
            'Send': ([('idx', 'u'), ('val', 'u'), ('data', 'ay')], [('seq', 'u'), ('ack', 'u')]),
            'Request': ([('idx', 'u'), ('val', 'u'), ('data', 'ay'), ('timeout_msec', 'u')],
                        [('seq', 'u'), ('ack', 'u'), ('data', 'ay')]),
            'JoinGroup': ([('group', 'u')], []),
            'LeaveGroup': ([('group', 'u')], []),
            'Reload': ([], []),
            'AcquireStream': ([('options', 'a{sv}')], [('stream', 'h'), ('max_record', 'u')]),
        },
        'signals': {
            'IdAdded': [('idx', 'u'), ('val', 'u'), ('name', 's')],
            'IdRemoved': [('idx', 'u'), ('val', 'u'), ('name', 's')],
            'Overrun': [('kernel_dropped', 't'), ('bus_dropped', 't')],
        },
    },
    ID_IFACE: {
        'properties': {'Idx': 'u', 'Val': 'u', 'Name': 's', 'Registered': 'b', 'ReceivedMessages': 't'},
        'methods': {},
        'signals': {
            'Message': [('idx', 'u'), ('val', 'u'), ('seq', 'u'), ('ack', 'u'), ('flags', 'q'), ('data', 'ay')],
            'Messages': [('messages', 'a(uuqay)')],
        },
    },
    PROC_IFACE: {
        'properties': {'Events': 'as', 'LostEvents': 't', 'UnknownEvents': 't', 'MalformedEvents': 't',
                       'KernelFilter': 'b'},
        'methods': {},
        'signals': {
            'Fork': [('parent_pid', 'u'), ('parent_tgid', 'u'), ('child_pid', 'u'), ('child_tgid', 'u')] + TAIL,
            'Exec': [('pid', 'u'), ('tgid', 'u')] + TAIL,
            'Uid': [('pid', 'u'), ('tgid', 'u'), ('ruid', 'u'), ('euid', 'u')] + TAIL,
            'Gid': [('pid', 'u'), ('tgid', 'u'), ('rgid', 'u'), ('egid', 'u')] + TAIL,
            'Sid': [('pid', 'u'), ('tgid', 'u')] + TAIL,
            'Ptrace': [('pid', 'u'), ('tgid', 'u'), ('tracer_pid', 'u'), ('tracer_tgid', 'u')] + TAIL,
            'Comm': [('pid', 'u'), ('tgid', 'u'), ('comm', 's')] + TAIL,
            'Coredump': [('pid', 'u'), ('tgid', 'u'), ('parent_pid', 'u'), ('parent_tgid', 'u')] + TAIL,
            'Exit': [('pid', 'u'), ('tgid', 'u'), ('exit_code', 'u'), ('exit_signal', 'u'),
                     ('parent_pid', 'u'), ('parent_tgid', 'u')] + TAIL,
        },
    },
}


def xml_path(interface):
    return os.path.join(BUILD_DIR, 'daemon', interface + '.xml')


def built_interfaces():
    return sorted(os.path.basename(p)[:-len('.xml')]
                  for p in glob.glob(os.path.join(BUILD_DIR, 'daemon', 'org.cnd.*.xml')))


def run_cnd(*args):
    # Under meson test --setup valgrind the option runs under memcheck too.
    wrapper = os.environ.get('CND_TEST_WRAPPER', '').split()
    return subprocess.run(wrapper + [CND] + list(args), capture_output=True, text=True, timeout=120)


def canonical(element):
    """An element as comparable data: tag, attributes and children in order, no whitespace."""
    return (element.tag, sorted(element.attrib.items()), [canonical(c) for c in element])


def args_of(element, direction=None):
    return [(a.get('name'), a.get('type')) for a in element.findall('arg')
            if direction is None or a.get('direction', 'in') == direction]


class Files(unittest.TestCase):
    """What the build made, without a bus."""

    def test_one_file_per_interface_of_cnd(self):
        p = run_cnd('--bus-introspect=list')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(sorted(p.stdout.split()), built_interfaces())
        self.assertLessEqual(set(EXPECTED), set(built_interfaces()))

    def test_files_hold_the_whole_interface(self):
        for name, expected in EXPECTED.items():
            with self.subTest(interface=name):
                with open(xml_path(name)) as f:
                    text = f.read()
                self.assertTrue(text.startswith(DOCTYPE + '<node>\n'), text[:200])
                root = ET.fromstring(text)
                self.assertEqual(root.tag, 'node')
                self.assertEqual([c.get('name') for c in root], [name])
                iface = root[0]
                # Every member promised, with its arguments' names and types in order; more
                # may come (the comparison with the running daemon covers those).
                properties = {p.get('name'): p.get('type') for p in iface.findall('property')}
                methods = {m.get('name'): (args_of(m, 'in'), args_of(m, 'out')) for m in iface.findall('method')}
                signals = {s.get('name'): args_of(s) for s in iface.findall('signal')}
                for member, kind in ((properties, 'properties'), (methods, 'methods'), (signals, 'signals')):
                    for key, value in expected[kind].items():
                        self.assertEqual(member.get(key), value, f'{kind}: {key}')
                for arg in iface.iter('arg'):
                    self.assertTrue(arg.get('name'), ET.tostring(arg))

    def test_file_is_what_the_option_prints(self):
        for name in built_interfaces():
            with self.subTest(interface=name):
                p = run_cnd('--bus-introspect=' + name)
                self.assertEqual(p.returncode, 0, p.stderr)
                with open(xml_path(name)) as f:
                    self.assertEqual(p.stdout, f.read())

    def test_unknown_interface_is_an_error(self):
        for name in (f'{BUS_NAME}.Nope', 'org.freedesktop.DBus.Properties', ''):
            with self.subTest(interface=name):
                p = run_cnd('--bus-introspect=' + name)
                self.assertEqual(p.returncode, 1)
                self.assertEqual(p.stdout, '')
                self.assertIn(f'Interface {name} not found', p.stderr)

    def test_option_needs_an_interface(self):
        p = run_cnd('--bus-introspect')
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout, '')


class RunningDaemon(CndTestCase):
    """The files against Introspect of cnd on a bus."""

    START = False

    def setUp(self):
        super().setUp()
        # Id 1:1 exists whatever the host's kernel offers, so the Id interface has an object.
        self.connector_list = ConnectorList()
        self.addCleanup(self.connector_list.remove)
        self.cnd.start(env={'CND_TEST_CONNECTOR_LIST': self.connector_list.path})

    def interfaces_on_bus(self, path='/', found=None):
        """cnd's own interfaces, each as the first object in the tree that has it shows it."""
        found = {} if found is None else found
        root = ET.fromstring(self.client.introspect(path))
        for iface in root.findall('interface'):
            if not iface.get('name').startswith('org.freedesktop.DBus.'):
                found.setdefault(iface.get('name'), (path, iface))
        for node in root.findall('node'):
            self.interfaces_on_bus(path.rstrip('/') + '/' + node.get('name'), found)
        return found

    def test_files_match_the_running_daemon(self):
        on_bus = self.interfaces_on_bus()
        self.assertEqual(sorted(on_bus), built_interfaces())
        self.assertEqual(on_bus[ID_IFACE][0], f'{ID_PATH_PREFIX}/1/1')
        for name, (path, iface) in on_bus.items():
            with self.subTest(interface=name, path=path):
                file_iface = ET.parse(xml_path(name)).getroot()[0]
                self.assertEqual(canonical(file_iface), canonical(iface))


if __name__ == '__main__':
    main()
