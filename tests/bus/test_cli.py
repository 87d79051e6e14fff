#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The command line and configuration errors, as an admin meets them."""

import os
import socket
import subprocess
import tempfile
import unittest

from cndtest import CND, main


def run(*args, config=None, env=None):
    with tempfile.TemporaryDirectory() as d:
        argv = [CND, '--no-drop-ins'] + list(args)
        if config is not None:
            path = os.path.join(d, 'cnd.conf')
            with open(path, 'w') as f:
                f.write(config)
            argv.append('--config=' + path)
        else:
            path = None
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                           env=dict(os.environ, **(env or {})))
        return p, path


class CommandLine(unittest.TestCase):
    def test_version(self):
        p, _ = run('--version')
        self.assertEqual(p.returncode, 0)
        self.assertRegex(p.stdout, r'^cnd \d+\.\d+\.\d+\n$')

    def test_help(self):
        p, _ = run('--help')
        self.assertEqual(p.returncode, 0)
        for opt in ('--config=FILE', '--check-config', '--version', '--help'):
            self.assertIn(opt, p.stdout)

    def test_unknown_option(self):
        p, _ = run('--frobnicate')
        self.assertEqual(p.returncode, 1)

    def test_check_config_good(self):
        p, _ = run('--check-config', config='[Connector]\nGroups=1 5\nScanIntervalSec=2\n')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('Groups=1 5', p.stdout)
        self.assertIn('ScanIntervalSec=2', p.stdout)

    def test_check_config_bad_names_file_and_line(self):
        cases = {
            '[Connector]\nGroups=1\nGrups=2\n': (3, 'Grups'),
            '[Connector]\nGroups=0\n': (2, '0'),
            '[Connector]\nGroups=33\n': (2, '33'),
            '[Connector]\nAcceptUserspaceSenders=maybe\n': (2, 'maybe'),
            '[Nonsense]\n': (1, 'Nonsense'),
            'Groups=1\n': (1, ''),
            '[Connector]\njust words\n': (2, ''),
            '# comment\n[Bus]\nAdminGroup=no-such-group-here\n': (3, 'no-such-group-here'),
        }
        for text, (line, word) in cases.items():
            with self.subTest(text=text):
                p, path = run('--check-config', config=text)
                self.assertEqual(p.returncode, 1)
                self.assertIn(f'{path}:{line}:', p.stderr)
                self.assertIn(word, p.stderr)

    def test_notify_group_must_be_its_own(self):
        p, path = run('--check-config', config='[Connector]\nGroups=1 20\n[Notify]\nGroup=20\n')
        self.assertEqual(p.returncode, 1)
        self.assertIn(f'{path}: [Notify] Group=20 is also in [Connector] Groups=', p.stderr)

    def test_missing_named_config_is_an_error(self):
        p = subprocess.run([CND, '--no-drop-ins', '--check-config', '--config=/nonexistent/cnd.conf'],
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 1)
        self.assertIn('/nonexistent/cnd.conf', p.stderr)

    def test_bad_config_exits_before_touching_the_bus(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'bus.sock')
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(path)
            listener.listen(1)
            listener.setblocking(False)
            p, _ = run(config='[Connector]\nGroups=x\n', env={'DBUS_SYSTEM_BUS_ADDRESS': 'unix:path=' + path})
            self.assertEqual(p.returncode, 1)
            self.assertIn(':2:', p.stderr)
            with self.assertRaises(BlockingIOError):
                listener.accept()
            listener.close()


if __name__ == '__main__':
    main()
