#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The example client of org.cnd.Connector1(5), man/examples/proc-watch.py, works for an
ordinary user with the shipped policy, and prints other users' process names as data."""

import os
import pwd
import select
import shutil
import subprocess
import tempfile
import time

from cndtest import SOURCE_DIR, CndTestCase, main, reachable

EXAMPLE = os.path.join(SOURCE_DIR, 'man', 'examples', 'proc-watch.py')


class Example(CndTestCase):
    CONFIG = '[Connector]\nGroups=1\n'

    def watch_as_nobody(self, program):
        """Runs proc-watch.py as nobody and program (an sh copy) until an exec and an exit of one of
        its runs are seen: those two lines, split, and every line proc-watch printed."""
        pw = pwd.getpwnam('nobody')
        watcher = subprocess.Popen(['setpriv', f'--reuid={pw.pw_uid}', f'--regid={pw.pw_gid}', '--clear-groups',
                                    '/usr/bin/python3', reachable(EXAMPLE), '--timeout', '60'],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address))
        self.addCleanup(watcher.kill)
        seen_exec = seen_exit = None
        deadline = time.monotonic() + 50
        child = None
        pids, lines = set(), []
        while time.monotonic() < deadline and not seen_exit:
            if child is None or child.poll() is not None:
                # Its match rules go in asynchronously: start processes until one is seen.
                child = subprocess.Popen([program, '-c', 'sleep 0.2; exit 3'])
                pids.add(child.pid)
            if select.select([watcher.stdout], [], [], 0.1)[0]:
                lines.append(watcher.stdout.readline())
                line = lines[-1].split()
                if line[:1] == ['exec'] and int(line[1]) in pids:
                    seen_exec = line
                if line[:1] == ['exit'] and seen_exec and int(line[1]) == int(seen_exec[1]):
                    seen_exit = line
        self.assertIsNotNone(seen_exec, watcher.stderr.read() if watcher.poll() is not None else '')
        return seen_exec, seen_exit, lines

    def test_proc_watch_as_nobody(self):
        seen_exec, seen_exit, _ = self.watch_as_nobody('/bin/sh')
        self.assertEqual(seen_exec[2], seen_exec[1])                  # tgid
        self.assertEqual(seen_exit, ['exit', seen_exec[1], str(3 << 8)])

    def test_proc_watch_escapes_comm(self):
        """A program whose name (its comm after exec) holds ESC, a C1 CSI and U+202E: proc-watch.py
        prints each of their bytes as \\xNN, and no line it prints holds a control raw."""
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        program = os.path.join(tmp, 'ev\x1bil\u009b2J\u202eexe')        # 15 bytes: all of it is the comm
        shutil.copy('/bin/sh', program)
        seen_exec, _, lines = self.watch_as_nobody(program)
        self.assertEqual(seen_exec[3], 'ev\\x1bil\\xc2\\x9b2J\\xe2\\x80\\xaeexe')
        for line in lines:
            self.assertEqual([c for c in line.rstrip('\n') if ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f or
                              0x202a <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069], [], line)


if __name__ == '__main__':
    main()
