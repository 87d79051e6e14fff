#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Fork-storm benchmark: N short-lived processes while three observers watch at once —
a raw cn_proc listener (the truth), cnd relaying to a D-Bus subscriber (proc-count, sd-bus),
and forkstat. Prints the Fork and Exit events of the storm each one captured, and cnd's
LostEvents and drop counters for the run.

    tests/bench/proc-storm.py [--count 20000] [--parallel 4] [--bus dbus-daemon|dbus-broker]
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'bus'))
from cndtest import (BUILD_DIR, PROC_IFACE, PROC_PATH, Client, Daemon, PrivateBus, ProcListener,  # noqa: E402
                     require_built)

HELPERS = os.path.join(BUILD_DIR, 'tests', 'helpers')
PROC = dict(path=PROC_PATH, iface=PROC_IFACE)


def ensure_forkstat():
    if not shutil.which('forkstat'):
        subprocess.run(['apt-get', 'install', '-y', '-q', 'forkstat'], check=True,
                       stdout=subprocess.DEVNULL, env=dict(os.environ, DEBIAN_FRONTEND='noninteractive'))


def forkstat_counts(text, storm_pid):
    """forkstat prints 'TIME fork PARENT parent ...' and 'TIME fork CHILD child ...' lines, and
    'TIME exit PID STATUS ...'. Count the storm's."""
    forks, children, exits = 0, set(), 0
    lines = text.splitlines()
    for i, line in enumerate(lines):
        f = line.split()
        if len(f) >= 4 and f[1] == 'fork' and f[3] == 'parent' and f[2] == str(storm_pid):
            forks += 1
            if i + 1 < len(lines):
                g = lines[i + 1].split()
                if len(g) >= 4 and g[1] == 'fork' and g[3] == 'child':
                    children.add(g[2])
    for line in lines:
        f = line.split()
        if len(f) >= 3 and f[1] == 'exit' and f[2] in children:
            exits += 1
    return forks, exits


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--count', type=int, default=20000)
    ap.add_argument('--parallel', type=int, default=4)
    ap.add_argument('--bus', default='dbus-daemon')
    args = ap.parse_args()
    require_built('tests/helpers/fork-storm', 'tests/helpers/proc-count')
    ensure_forkstat()

    bus = PrivateBus(args.bus).start()
    cnd = Daemon(bus, '[Connector]\nGroups=1\nScanIntervalSec=0\n', log_level='info')
    truth = None
    try:
        cnd.start()
        c = Client(bus.address)
        before = c.get_all()
        lost_before = c.get('LostEvents', **PROC)
        counter = subprocess.Popen([os.path.join(HELPERS, 'proc-count'), bus.address, '3000', '100'],
                                   stdout=subprocess.PIPE, text=True)
        assert counter.stdout.readline().strip() == 'ready'
        forkstat = subprocess.Popen(['forkstat', '-e', 'fork,exit'], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
        truth = ProcListener()
        time.sleep(1.0)

        storm = subprocess.run([os.path.join(HELPERS, 'fork-storm'), str(args.count), str(args.parallel)],
                               capture_output=True, text=True, check=True)
        storm_pid_line = storm.stdout.strip()
        time.sleep(2.0)
        forkstat.send_signal(signal.SIGINT)
        fs_out, _ = forkstat.communicate(timeout=60)
        out, _ = counter.communicate(timeout=600)

        # fork-storm does not print its pid: the one parent with count forks is it.
        parents = [tuple(map(int, re.findall(r'\d+', l))) for l in out.splitlines() if l.startswith('parent')]
        raw_parents = {}
        for p, child in truth.forks:
            raw_parents.setdefault(p, set()).add(child)
        storm_pid = max(raw_parents, key=lambda p: len(raw_parents[p]))
        children = raw_parents[storm_pid]
        raw_exits = sum(1 for pid in truth.exits if pid in children)
        cnd_forks, cnd_exits = next(((f, e) for p, f, e in parents if p == storm_pid), (0, 0))
        fs_forks, fs_exits = forkstat_counts(fs_out, storm_pid)

        after = c.get_all()
        lost = c.get('LostEvents', **PROC) - lost_before
        print(f'fork storm: {storm_pid_line}, {args.parallel} at a time, bus {args.bus}')
        print(f'{"observer":28} {"forks":>7} {"exits":>7}')
        print(f'{"raw cn_proc listener":28} {len(children):7d} {raw_exits:7d}   (own drops: {truth.drops()})')
        print(f'{"cnd -> D-Bus subscriber":28} {cnd_forks:7d} {cnd_exits:7d}')
        print(f'{"forkstat":28} {fs_forks:7d} {fs_exits:7d}')
        print(f'cnd: LostEvents +{lost}, KernelDroppedMessages '
              f'+{after["KernelDroppedMessages"] - before["KernelDroppedMessages"]}, BusDroppedMessages '
              f'+{after["BusDroppedMessages"] - before["BusDroppedMessages"]}')
        c.close()
    finally:
        if truth:
            truth.close()
        cnd.stop()
        bus.stop()


if __name__ == '__main__':
    main()
