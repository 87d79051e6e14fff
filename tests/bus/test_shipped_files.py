#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The unit, the policy and the install layout are what an admin installs."""

import os
import re
import subprocess
import tempfile
import unittest

from cndtest import BUILD_DIR, BUS_NAME, main

UNIT = os.path.join(BUILD_DIR, 'units', 'cnd.service')


def unit_settings():
    settings = {}
    with open(UNIT) as f:
        for line in f:
            m = re.match(r'^(\w+)=(.*)$', line.strip())
            if m:
                settings.setdefault(m.group(1), []).append(m.group(2))
    return settings


class Unit(unittest.TestCase):
    def test_required_settings(self):
        s = unit_settings()
        self.assertEqual(s['Type'], ['notify'])
        self.assertEqual(s['BusName'], [BUS_NAME])
        self.assertEqual(s['Restart'], ['on-failure'])
        self.assertEqual(s['User'], ['cnd'])
        # CAP_SYS_PTRACE: other users' /proc/PID/exe for the process table.
        self.assertEqual(s['CapabilityBoundingSet'], ['CAP_NET_ADMIN CAP_SYS_PTRACE'])
        self.assertEqual(s['AmbientCapabilities'], ['CAP_NET_ADMIN CAP_SYS_PTRACE'])
        self.assertEqual(s['LogRateLimitBurst'], ['10000'])
        self.assertEqual(s['MemoryMax'], ['96M'])
        self.assertEqual(s['TasksMax'], ['16'])
        self.assertEqual(s['ProtectSystem'], ['strict'])
        self.assertEqual(s['RestrictAddressFamilies'], ['AF_UNIX AF_NETLINK'])
        self.assertIn('WatchdogSec', s)
        self.assertNotIn('PrivateNetwork', s)  # the connector lives in the initial namespace

    def _with_built_binary(self, d):
        # systemd-analyze checks that ExecStart= exists; point it at the build (quoted: the
        # clone may be in a path with spaces).
        path = os.path.join(d, 'cnd.service')
        with open(UNIT) as src, open(path, 'w') as dst:
            dst.write(re.sub(r'^ExecStart=.*$', 'ExecStart="' + os.path.join(BUILD_DIR, 'daemon', 'cnd') + '"',
                             src.read(), flags=re.M))
        return path

    def test_systemd_analyze_verify(self):
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run(['systemd-analyze', 'verify', '--man=no', self._with_built_binary(d)],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(p.stderr.strip(), '')

    def test_exposure_level(self):
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run(['systemd-analyze', 'security', '--offline=yes', '--threshold=20',
                                self._with_built_binary(d)], capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            level = float(re.search(r'Overall exposure level for cnd.service: ([\d.]+)', p.stdout).group(1))
            self.assertLessEqual(level, 2.0)


class Install(unittest.TestCase):
    def test_meson_install_layout(self):
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.run(['meson', 'install', '-C', BUILD_DIR, '--destdir', d, '--no-rebuild'],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            files = {os.path.relpath(os.path.join(root, f), d)
                     for root, _, fs in os.walk(d) for f in fs}
            names = {os.path.basename(f) for f in files}
            for wanted in ('cnd', 'cnd.service', 'org.cnd.Connector1.conf'):
                self.assertIn(wanted, names, sorted(files))
            self.assertTrue(any(f.endswith('dbus-1/system.d/org.cnd.Connector1.conf') for f in files))
            self.assertTrue(any(f.endswith('system/cnd.service') for f in files))
            for page in ('man8/cnd.8', 'man5/cnd.conf.5', 'man5/org.cnd.Connector1.5'):
                self.assertTrue(any(f.endswith(page) for f in files), sorted(files))

            # The service's user and the admin group, for systemd-sysusers.
            sysusers = [f for f in files if f.endswith('sysusers.d/cnd.conf')]
            self.assertEqual(len(sysusers), 1, sorted(files))
            with open(os.path.join(d, sysusers[0])) as f:
                entries = [line.split()[:2] for line in f if line.strip() and not line.startswith('#')]
            self.assertEqual(entries, [['u', 'cnd'], ['g', 'cnd-admin'], ['g', 'cnd-readers']])

            # The interface descriptions, generated from the daemon's vtables.
            for iface in ('Manager', 'Id', 'Proc'):
                self.assertTrue(any(f.endswith(f'dbus-1/interfaces/org.cnd.Connector1.{iface}.xml') for f in files),
                                sorted(files))

            # Bus activation hands the start to systemd.
            activation = [f for f in files if f.endswith('dbus-1/system-services/org.cnd.Connector1.service')]
            self.assertEqual(len(activation), 1, sorted(files))
            with open(os.path.join(d, activation[0])) as f:
                text = f.read()
            for line in ('[D-BUS Service]', f'Name={BUS_NAME}', 'User=root', 'SystemdService=cnd.service'):
                self.assertIn(line, text.splitlines())


if __name__ == '__main__':
    main()
