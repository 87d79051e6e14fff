#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Process-table benchmark: a storm of N short-lived execs of /bin/true (fork-storm with a program, run as
nobody), watched in the same run by cnd's Started signals (received by a member of the reader
group), forkstat -e exec and extrace (both as root), and a raw cn_proc listener (the truth).
Prints, for each watcher, the share of the storm's execs for which it reported the executable
and the argument vector; cnd's Started count against the raw exec events, the share with exe
resolved, cnd's CPU per enriched exec; then cnd's RSS as its table grows, extrapolated to a
table of pid_max entries.

    tests/bench/processes-bench.py [--count 20000] [--parallel 4] [--table 8192]
"""

import argparse
import json
import os
import pwd
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'bus'))
from cndtest import (BUILD_DIR, PROCESSES_IFACE, PROCESSES_PATH, Client, Daemon, PrivateBus,  # noqa: E402
                     ProcListener, ensure_group, rss_kib, spawn_as, wait_for)

STORM = os.path.join(BUILD_DIR, 'tests', 'helpers', 'fork-storm')
TRUE = os.path.realpath('/bin/true')
READER_GROUP = 'cnd-readers'


def ensure(tool):
    if not shutil.which(tool):
        subprocess.run(['apt-get', 'install', '-y', '-q', tool], check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, DEBIAN_FRONTEND='noninteractive'))
    return shutil.which(tool)


def cpu_ticks(pid):
    with open(f'/proc/{pid}/stat', 'rb') as f:
        text = f.read()
    fields = text[text.rindex(b')') + 2:].split()
    return int(fields[11]) + int(fields[12])            # utime + stime


def share(n, total):
    return f'{n}/{total} ({100.0 * n / total:.1f}%)' if total else f'{n}/0'


def run_storm(args, bus, cnd, gid):
    truth = ProcListener()
    recorder = spawn_as('nobody', bus.address, 'processes-record', groups=[gid])
    assert recorder.stdout.readline().strip() == 'ready'
    tools = {}
    forkstat = subprocess.Popen([ensure('forkstat'), '-e', 'exec', '-l'], stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, text=True, errors='replace')
    extrace = subprocess.Popen([ensure('extrace'), '-l'], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                               text=True, errors='replace')
    time.sleep(2.0)
    ticks = cpu_ticks(cnd.proc.pid)
    pw = pwd.getpwnam('nobody')
    # setpriv execs the storm in its own pid: the storm's children are that pid's.
    storm = subprocess.Popen(['setpriv', f'--reuid={pw.pw_uid}', f'--regid={pw.pw_gid}', '--clear-groups',
                              STORM, str(args.count), str(args.parallel), TRUE], stdout=subprocess.PIPE, text=True)
    storm_out = storm.communicate()[0]
    time.sleep(3.0)
    ticks = cpu_ticks(cnd.proc.pid) - ticks
    forkstat.terminate()
    tools['forkstat'] = forkstat.communicate()[0]
    extrace.terminate()
    tools['extrace'] = extrace.communicate()[0]
    out, _ = recorder.communicate('', timeout=300)
    got = json.loads(out.strip().splitlines()[-1])['ok']
    truth.close()

    children = {child for parent, child in truth.forks if parent == storm.pid}
    raw = [pid for pid in truth.execs if pid in children]
    ours = [a for a in got['started'] if a[0] in children]
    n = args.count
    print(storm_out.strip())
    print(f'raw listener: {len(children)} forks and {len(raw)} execs of the storm')
    print(f'cnd Started for the storm: {len(ours)} = {share(len(ours), len(raw))} of the raw exec events')
    with_exe = sum(1 for a in ours if a[3] == TRUE)
    with_argv = sum(1 for a in ours if len(a[4]) == 2 and a[4][1].startswith('storm-'))
    print(f'cnd: exe {share(with_exe, n)}, argv {share(with_argv, n)}')
    hz = os.sysconf('SC_CLK_TCK')
    print(f'cnd CPU: {ticks / hz:.2f} s for {len(got["started"])} Started = '
          f'{1e6 * ticks / hz / max(1, len(got["started"])):.0f} us per enriched exec (all of cnd)')
    for name, text in tools.items():
        lines = [line for line in text.splitlines() if 'storm-' in line]
        argv = len({line.split('storm-')[1].split()[0] for line in lines})
        exe = len({line.split('storm-')[1].split()[0] for line in lines if TRUE in line})
        print(f'{name}: exe {share(exe, n)}, argv {share(argv, n)}')


def measure_rss(args, bus, cnd, gid):
    client = Client(bus.address)
    base_tracked = client.get('Tracked', path=PROCESSES_PATH, iface=PROCESSES_IFACE)
    base = rss_kib(cnd.proc.pid)
    sleepers = subprocess.Popen(['/bin/sh', '-c', f'for i in $(seq {args.table}); do sleep 600 & done; wait'])
    wait_for(lambda: client.get('Tracked', path=PROCESSES_PATH, iface=PROCESSES_IFACE) >= base_tracked + args.table,
             timeout=600, interval=1.0, what='the table to fill')
    time.sleep(2)
    tracked = client.get('Tracked', path=PROCESSES_PATH, iface=PROCESSES_IFACE)
    rss = rss_kib(cnd.proc.pid)
    subprocess.run(['pkill', '-P', str(sleepers.pid)])
    sleepers.wait()
    per = (rss - base) / max(1, tracked - base_tracked)
    with open('/proc/sys/kernel/pid_max') as f:
        pid_max = int(f.read())
    print(f'cnd RSS: {base} KiB at {base_tracked} entries, {rss} KiB at {tracked} entries '
          f'({per:.2f} KiB per entry); at {pid_max} entries: ~{base + per * (pid_max - base_tracked):.0f} KiB')


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--count', type=int, default=20000)
    p.add_argument('--parallel', type=int, default=4)
    p.add_argument('--table', type=int, default=8192)
    p.add_argument('--bus', default='dbus-daemon')
    args = p.parse_args()
    gid = ensure_group(READER_GROUP)
    bus = PrivateBus(args.bus).start()
    cnd = Daemon(bus, '[Connector]\nGroups=1\nScanIntervalSec=0\nReceiveBufferSize=64M\n'
                      f'[Processes]\nReaderGroup={READER_GROUP}\n', log_level='info')
    try:
        cnd.start()
        time.sleep(1.0)
        run_storm(args, bus, cnd, gid)
        measure_rss(args, bus, cnd, gid)
    finally:
        cnd.stop()
        bus.stop()


if __name__ == '__main__':
    main()
