#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The example client of org.cnd.Connector1(5), man/examples/proc-watch.py, works for an
ordinary user with the shipped policy."""

import os
import pwd
import select
import subprocess
import time

from cndtest import SOURCE_DIR, CndTestCase, main, reachable

EXAMPLE = os.path.join(SOURCE_DIR, 'man', 'examples', 'proc-watch.py')


class Example(CndTestCase):
    CONFIG = '[Connector]\nGroups=1\n'

    def test_proc_watch_as_nobody(self):
        pw = pwd.getpwnam('nobody')
        watcher = subprocess.Popen(['setpriv', f'--reuid={pw.pw_uid}', f'--regid={pw.pw_gid}', '--clear-groups',
                                    '/usr/bin/python3', reachable(EXAMPLE), '--timeout', '60'],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address))
        self.addCleanup(watcher.kill)
        seen_exec = seen_exit = None
        deadline = time.monotonic() + 50
        child = None
        while time.monotonic() < deadline and not seen_exit:
            if child is None or child.poll() is not None:
                # Its match rules go in asynchronously: start processes until one is seen.
                child = subprocess.Popen(['/bin/sh', '-c', 'sleep 0.2; exit 3'])
                pids = getattr(self, 'pids', set())
                pids.add(child.pid)
                self.pids = pids
            if select.select([watcher.stdout], [], [], 0.1)[0]:
                line = watcher.stdout.readline().split()
                if line[:1] == ['exec'] and int(line[1]) in self.pids:
                    seen_exec = line
                if line[:1] == ['exit'] and seen_exec and int(line[1]) == int(seen_exec[1]):
                    seen_exit = line
        self.assertIsNotNone(seen_exec, watcher.stderr.read() if watcher.poll() is not None else '')
        self.assertEqual(seen_exec[2], seen_exec[1])                  # tgid
        self.assertEqual(seen_exit, ['exit', seen_exec[1], str(3 << 8)])


if __name__ == '__main__':
    main()
