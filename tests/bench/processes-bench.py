#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Process-table benchmark: a storm of N short-lived execs of /bin/true (fork-storm with a program, run as
nobody), watched in the same run by cnd's Started signals (received by a member of the reader
group), forkstat -e exec and extrace (both as root), and a raw cn_proc listener (the truth).
Prints, for each watcher, the share of the storm's execs for which it reported the executable
and the argument vector; cnd's Started count against the raw exec events, the share with exe
resolved, cnd's CPU per enriched exec. Then cnd's RSS measured with its table as full as the
pid space allows: hold-processes forks the children (by default pid_max less the machine's
tasks and a margin of RSS_MARGIN), cnd's table fills from their fork events, and the children
are released again, for RSS before, at the full table and after.

    tests/bench/processes-bench.py [--count 20000] [--parallel 4] [--table full|N] [--skip-storm]
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
                     ProcListener, ensure_group, rss_kib, spawn_as)

STORM = os.path.join(BUILD_DIR, 'tests', 'helpers', 'fork-storm')
HOLD = os.path.join(BUILD_DIR, 'tests', 'helpers', 'hold-processes')
TRUE = os.path.realpath('/bin/true')
READER_GROUP = 'cnd-readers'
# Pids a full table leaves free, for the machine to go on working meanwhile.
RSS_MARGIN = 1024


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


def count_tasks():
    """The machine's tasks, threads included: each holds a pid."""
    n = 0
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                n += len(os.listdir(f'/proc/{name}/task'))
            except OSError:
                pass                                    # gone meanwhile
    return n


def read_pid_max():
    with open('/proc/sys/kernel/pid_max') as f:
        return int(f.read())


def vm_hwm_kib(pid):
    """A process's peak resident memory, as the kernel has last recorded it."""
    with open(f'/proc/{pid}/status') as f:
        fields = dict(line.split(':', 1) for line in f)
    return int(fields['VmHWM'].split()[0])


def table_size(arg):
    return arg if arg == 'full' else int(arg)


def settle(get, done, timeout, stall=60.0):
    """Polls get() until done() says yes of its value, it stops changing for stall seconds (the
    rest of the machine comes and goes meanwhile too) or timeout passes; returns the value."""
    deadline = time.monotonic() + timeout
    value, since = get(), time.monotonic()
    while not done(value) and time.monotonic() < min(deadline, since + stall):
        time.sleep(0.5)
        now = get()
        if now != value:
            value, since = now, time.monotonic()
    return value


def measure_rss(args, bus, cnd):
    client = Client(bus.address)

    def processes(prop):
        return client.get(prop, path=PROCESSES_PATH, iface=PROCESSES_IFACE)

    pid = cnd.proc.pid
    pid_max = read_pid_max()
    tasks = count_tasks()
    want = pid_max - tasks - RSS_MARGIN if args.table == 'full' else args.table
    base_tracked, base, resyncs = processes('Tracked'), rss_kib(pid), processes('Resyncs')
    print(f'pid_max {pid_max}, {tasks} tasks on the machine: holding {want} processes')

    start = time.monotonic()
    holder = subprocess.Popen([HOLD, str(want)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        line = holder.stdout.readline()
        if not line.startswith('ready '):
            raise AssertionError(f'hold-processes did not get ready: {line!r}')
        count = int(line.split()[1])
        forked = time.monotonic() - start
        target = base_tracked + count
        reached = settle(lambda: processes('Tracked'), lambda n: n >= target, timeout=900)
        filled = time.monotonic() - start
        time.sleep(2)
        full_tracked, full, hwm = processes('Tracked'), rss_kib(pid), vm_hwm_kib(pid)
        tasks_full = count_tasks()
        if reached < target:
            # Which of the children cnd lacks, now that the figures are taken (the list costs memory).
            ours = sum(1 for p in client.call('ListProcesses', path=PROCESSES_PATH, iface=PROCESSES_IFACE)[0]
                       if p[1] == holder.pid)
            print(f'the table stopped at {reached} entries, short of {target}: {ours} of the {count} children in it')
    finally:
        release = time.monotonic()
        holder.stdin.close()
        holder.wait()
    settle(lambda: processes('Tracked'), lambda n: n <= max(base_tracked, full_tracked - count), timeout=600)
    drained = time.monotonic() - release
    time.sleep(2)
    after_tracked, after, hwm_after = processes('Tracked'), rss_kib(pid), vm_hwm_kib(pid)
    resyncs = processes('Resyncs') - resyncs

    per = (full - base) / max(1, full_tracked - base_tracked)
    short = '' if count == want else f' (fork stopped at EAGAIN: {want - count} fewer than asked)'
    print(f'hold-processes: {count} children in {forked:.1f} s{short}; table filled in {filled:.1f} s, '
          f'drained {drained:.1f} s after the release (kills and reaping included); {resyncs} resyncs')
    print(f'cnd RSS: {base} KiB at {base_tracked} entries, {full} KiB at {full_tracked} entries '
          f'({per:.2f} KiB per entry), {after} KiB at {after_tracked} entries after the release '
          f'({after - base:+d} KiB on the start)')
    print(f'cnd VmHWM: {hwm} KiB at the full table, {hwm_after} KiB after the release')
    gap = pid_max - full_tracked
    print(f'measured at {full_tracked} entries: {full} KiB'
          + (f'; {gap} entries ({100.0 * gap / pid_max:.1f}%) short of pid_max {pid_max} '
             f'({tasks_full} tasks on the machine then)' if gap > 0 else f'; pid_max {pid_max}'))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--count', type=int, default=20000)
    p.add_argument('--parallel', type=int, default=4)
    p.add_argument('--table', type=table_size, default='full',
                   help="processes to hold for the RSS: N, or full (pid_max less the machine's tasks and a margin)")
    p.add_argument('--skip-storm', action='store_true', help='only the RSS at a full table')
    p.add_argument('--bus', default='dbus-daemon')
    args = p.parse_args()
    gid = ensure_group(READER_GROUP)
    bus = PrivateBus(args.bus).start()
    cnd = Daemon(bus, '[Connector]\nGroups=1\nScanIntervalSec=0\nReceiveBufferSize=64M\n'
                      f'[Processes]\nReaderGroup={READER_GROUP}\n', log_level='info')
    try:
        cnd.start()
        time.sleep(1.0)
        if not args.skip_storm:
            run_storm(args, bus, cnd, gid)
        measure_rss(args, bus, cnd)
    finally:
        cnd.stop()
        bus.stop()


if __name__ == '__main__':
    main()
