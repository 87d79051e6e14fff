#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The example clients of org.cnd.Connector1(5) work for an ordinary user with the shipped policy:
man/examples/proc-watch.py prints other users' process names as data, and
man/examples/stream-reader.c prints exactly the messages of the ids it asked for, in order, its
user's processes with their names as data, and the end of the stream when cnd stops."""

import os
import pwd
import select
import shutil
import subprocess
import tempfile
import threading
import time

from cndtest import BUILD_DIR, SOURCE_DIR, CndTestCase, ConnectorList, main, reachable, scaled, wait_for
from controls import raw_controls

EXAMPLE = os.path.join(SOURCE_DIR, 'man', 'examples', 'proc-watch.py')
STREAM_READER = os.path.join(BUILD_DIR, 'man', 'examples', 'stream-reader')
GROUP, IDX, OTHER_IDX = 27, 0x4c4d, 0x4c4e


def as_nobody(*argv):
    pw = pwd.getpwnam('nobody')
    return ['setpriv', f'--reuid={pw.pw_uid}', f'--regid={pw.pw_gid}', '--clear-groups'] + list(argv)


class Example(CndTestCase):
    CONFIG = '[Connector]\nGroups=1\n'

    def watch_as_nobody(self, program):
        """Runs proc-watch.py as nobody and program (an sh copy nobody can run) as nobody too,
        until an exec and an exit of one of its runs are seen: those two lines, split, and every
        line proc-watch printed. setpriv execs the program in the pid it was started as: the exec
        line is the last of that pid (setpriv's own came first)."""
        watcher = subprocess.Popen(as_nobody('/usr/bin/python3', reachable(EXAMPLE), '--timeout', str(scaled(60))),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address))
        self.addCleanup(watcher.kill)
        seen_exec = seen_exit = None
        deadline = time.monotonic() + scaled(50)
        child = None
        pids, execs, lines = set(), {}, []
        while time.monotonic() < deadline and not seen_exit:
            if child is None or child.poll() is not None:
                # Its match rules go in asynchronously: start processes until one is seen.
                child = subprocess.Popen(as_nobody(program, '-c', 'sleep 1; exit 3'), cwd='/')
                pids.add(child.pid)
            if select.select([watcher.stdout], [], [], 0.1)[0]:
                lines.append(watcher.stdout.readline())
                line = lines[-1].split()
                if line[:1] == ['exec'] and int(line[1]) in pids:
                    execs[int(line[1])] = line
                if line[:1] == ['exit'] and int(line[1]) in execs:
                    seen_exec, seen_exit = execs[int(line[1])], line
        self.assertIsNotNone(seen_exec, watcher.stderr.read() if watcher.poll() is not None else '')
        return seen_exec, seen_exit, lines

    def test_proc_watch_as_nobody(self):
        seen_exec, seen_exit, _ = self.watch_as_nobody('/bin/sh')
        self.assertEqual(seen_exec[2], seen_exec[1])                  # tgid
        self.assertEqual(seen_exit, ['exit', seen_exec[1], str(3 << 8)])

    def test_proc_watch_escapes_comm(self):
        """nobody runs a program whose name (its comm after exec) holds a control of every class
        (C0: ESC and newline; DEL; C1: CSI and OSC; bidi: U+202E and U+2069): proc-watch.py, as
        nobody too, prints each of their bytes as \\xNN, and no line it prints holds a control
        raw."""
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        os.chmod(tmp, 0o755)
        name = 'e\x1b\n\x7f\u009b\u009d\u202e\u2069x'
        self.assertEqual(len(name.encode()), 15)                         # all of it is the comm
        program = os.path.join(tmp, name)
        shutil.copy('/bin/sh', program)
        seen_exec, _, lines = self.watch_as_nobody(program)
        self.assertEqual(seen_exec[3], 'e\\x1b\\x0a\\x7f\\xc2\\x9b\\xc2\\x9d\\xe2\\x80\\xae\\xe2\\x81\\xa9x')
        for line in lines:
            self.assertEqual(raw_controls(line.rstrip('\n')), [], line)


class StreamReader(CndTestCase):
    """man/examples/stream-reader.c run as nobody."""

    START = False
    GROUPS = f'1 {GROUP}'       # group 1 for the process table

    def setUp(self):
        super().setUp()
        self.connector_list = ConnectorList()
        self.addCleanup(self.connector_list.remove)
        # A scan five times a second: a change of the list is seen without waiting.
        self.cnd.write_config(f'[Connector]\nGroups={self.GROUPS}\nAcceptUserspaceSenders=yes\n'
                              'ScanIntervalSec=0.2\n')
        self.cnd.start(env={'CND_TEST_CONNECTOR_LIST': self.connector_list.path})

    def start_reader(self, *args):
        self.reader = subprocess.Popen(as_nobody(reachable(STREAM_READER), *args),
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                       env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address))
        self.lines = []
        self.reader_thread = threading.Thread(target=self._take_lines, daemon=True)
        self.reader_thread.start()
        self.addCleanup(self._stop_reader)
        # The stream exists once its first record is printed: what is injected after it is in it.
        self.wait_lines(lambda lines: lines[:1] == ['hello version 1 max_record 131072'], 'the hello line')

    def _stop_reader(self):
        if self.reader.poll() is None:
            self.reader.kill()
        self.reader.wait(10)
        self.reader_thread.join(10)
        self.reader.stdout.close()
        self.reader.stderr.close()

    def _take_lines(self):
        for line in self.reader.stdout:
            self.lines.append(line.rstrip('\n'))

    def wait_lines(self, pred, what, timeout=20):
        def done():
            if self.reader.poll() is not None and not pred(list(self.lines)):
                self.reader_thread.join(10)     # what the thread has not taken yet
                raise AssertionError(f'stream-reader exited {self.reader.returncode} before {what}: '
                                     f'{self.lines} {self.reader.stderr.read()}')
            return pred(list(self.lines))
        wait_for(done, timeout, what=what)

    def stop_cnd_and_expect_the_end(self):
        self.cnd.stop()
        self.assertEqual(self.reader.wait(20), 0, self.reader.stderr.read())
        self.reader_thread.join(10)
        self.assertEqual(self.lines[-1], 'end of stream')

    def test_messages_in_order_then_the_end(self):
        self.start_reader(f'{IDX}:1', f'{OTHER_IDX}:*')
        sent = []
        for i in range(60):
            idx, val = [(IDX, 1), (IDX, 2), (OTHER_IDX, i)][i % 3]
            data = bytes([i, 0x1b, 0x9b, 0]) * (i % 5)          # controls too: printed as hex
            self.injector.send(GROUP, idx, val, seq=1000 + i, ack=i * 7, data=data, flags=i % 2)
            if (idx, val) != (IDX, 2):                           # not asked for
                sent.append(f'message {idx}:{val} seq {1000 + i} ack {i * 7} len {len(data)} flags {i % 2} '
                            f'data {data.hex()}')
        self.wait_lines(lambda lines: len(lines) >= 1 + len(sent), f'{len(sent)} message lines')
        self.stop_cnd_and_expect_the_end()
        self.assertEqual(self.lines, ['hello version 1 max_record 131072'] + sent + ['end of stream'])

    def test_id_changes(self):
        self.start_reader('--id-changes')
        self.connector_list.write([('cn_proc', 1, 1), ('late_driver', IDX, 5)])
        # cnd sends what a stream gathered when a read batch of its connector socket ends, and
        # (for now) only then: a message of an id the stream did not ask for ends one.
        self.wait_lines(lambda lines: f'id-added {IDX}:5 late_driver' in lines, 'the id-added line')
        self.connector_list.write([('cn_proc', 1, 1)])
        self.wait_lines(lambda lines: f'id-removed {IDX}:5 late_driver' in lines, 'the id-removed line')
        self.stop_cnd_and_expect_the_end()
        self.assertEqual(self.lines, ['hello version 1 max_record 131072', f'id-added {IDX}:5 late_driver',
                                      f'id-removed {IDX}:5 late_driver', 'end of stream'])

    def test_own_processes_escaped(self):
        """nobody's stream carries nobody's processes alone; a program name and an argument with
        ESC, a C1 CSI and U+202E come out with those bytes as \\xNN, and no line holds a control."""
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp)
        os.chmod(tmp, 0o755)
        evil = 'ev\x1bil\u009b2J\u202eexe'
        escaped = 'ev\\x1bil\\xc2\\x9b2J\\xe2\\x80\\xaeexe'
        program = os.path.join(tmp, evil)
        shutil.copy('/bin/sh', program)
        self.start_reader('--processes')
        nobody = pwd.getpwnam('nobody')
        # Alive long enough for cnd to read it however slow it runs (valgrind); read x waits
        # for its stdin, which the test closes.
        child = subprocess.Popen(as_nobody(program, '-c', 'read x; exit 3', evil), stdin=subprocess.PIPE)
        time.sleep(1.0)
        child.stdin.close()
        self.assertEqual(child.wait(20), 3)
        # setpriv execs the program: its pid is the child's.
        started = f'started pid {child.pid} '
        self.wait_lines(lambda lines: any(line.startswith(f'exited pid {child.pid} ') for line in lines),
                        'the exited line')
        # The program's Started is the last of its pid: setpriv's own exec came first (read late,
        # on a slow machine, after setpriv had become nobody).
        line = [line for line in self.lines if line.startswith(started)][-1]
        self.assertIn(f' uid {nobody.pw_uid} exe {os.path.join(tmp, escaped)} ', line)
        self.assertTrue(line.endswith(f' argv {os.path.join(tmp, escaped)} -c read x; exit 3 {escaped}'), line)
        line = next(line for line in self.lines if line.startswith(f'exited pid {child.pid} '))
        self.assertIn(' exit_code 3 exit_signal -1 core_dumped 0 ', line)
        for line in list(self.lines):
            self.assertRegex(line, rf'^(hello|(started|exited) pid \d+ ppid \d+ uid {nobody.pw_uid} )')
            self.assertEqual(raw_controls(line), [], line)
        self.stop_cnd_and_expect_the_end()

    def test_bad_id_is_refused_before_any_call(self):
        p = subprocess.run(as_nobody(reachable(STREAM_READER), '12'), capture_output=True, text=True,
                           env=dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=self.bus.address), timeout=20)
        self.assertEqual((p.returncode, p.stdout), (1, ''))
        self.assertIn("Not an id: '12'", p.stderr)


class StreamReaderIdle(StreamReader):
    """No traffic on the connector socket at all."""

    GROUPS = str(GROUP)

    def test_id_record_without_traffic(self):
        """An id record gathered outside a read batch of the connector socket (a scan of
        /proc/net/connector) goes out though no message comes to end a batch."""
        self.start_reader('--id-changes')
        self.connector_list.write([('cn_proc', 1, 1), ('late_driver', IDX, 5)])
        self.wait_lines(lambda lines: f'id-added {IDX}:5 late_driver' in lines, 'the id-added line', timeout=5)

    test_id_changes = test_messages_in_order_then_the_end = test_own_processes_escaped = None
    test_bad_id_is_refused_before_any_call = None


class StreamReaderBroker(StreamReader):
    BUS_KIND = 'dbus-broker'


if __name__ == '__main__':
    main()
