#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Process-table benchmark: a storm of N short-lived execs of /bin/true (fork-storm with a program, run as
nobody), watched in the same run by cnd's Started signals (received by a member of the reader
group), forkstat -e exec and extrace (both as root), and a raw cn_proc listener (the truth).
Prints, for each watcher, the share of the storm's execs for which it reported the executable
and the argument vector; cnd's Started count against the raw exec events, the share with exe
resolved, cnd's CPU per exec of the storm. Then cnd's RSS measured with its table as full as the
pid space allows: hold-processes forks the children (by default pid_max less the machine's
tasks and a margin of RSS_MARGIN), cnd's table fills from their fork events, and the children
are released again, for RSS before, at the full table and after.

With --relay-latency (first), or alone with --only-relay-latency: what an exec storm costs the
relay of another group. bench.py's latency scenario (cn-inject at a rate into its group, one
bus-count subscriber) is run, each time on a cnd of its own, quiet and during an exec storm
(fork-storm as nobody, started again whenever it ends before the last message is in), with
[Processes] Enabled=no (cnd relays only the Proc signals: the storm's own cost) and with
[Processes] enabled (a read of /proc on each exec). Prints p50, p99 and max of each and the
ratios of the storm with Processes to the quiet run and to the storm without; beside them the
machine's forks per second and busy CPU share over the measurement (a run that other work
disturbed shows there), cnd's and the bus's CPU time, cnd's per fork during the storm, and the
Resyncs and Unresolved that the table counted meanwhile.

With --baseline CND (an earlier version's cnd, built apart): the storm alone, --repeat times
for each of this build's cnd, that one, and this build's with [Processes] Enabled=no (the cost
of the storm's Proc signals alone), taking turns, each on a cnd of its own, and watched by
proc-read-cost (cnd's /proc reads for each fork and exec, and nothing else: the floor); the
medians of the CPU per exec and of exe and argv resolved, and the ratio of cnd's two figures. With
--unit-lookup (builds with test hooks) units are looked up as on a machine booted with systemd.

    tests/bench/processes-bench.py [--count 20000] [--parallel 4] [--table full|N] [--skip-storm]
        [--relay-latency | --only-relay-latency] [--relay-count 5000] [--relay-rate 1000]
        [--relay-storm 40000] [--relay-repeat 1] [--baseline CND [--repeat 3]] [--unit-lookup]
"""

import argparse
import json
import os
import pwd
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'bus'))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cndtest import (BUILD_DIR, ID_IFACE, ID_PATH_PREFIX, PROCESSES_IFACE, PROCESSES_PATH, Client,  # noqa: E402
                     Daemon, PrivateBus, ProcListener, ensure_group, require_built, rss_kib, spawn_as)
from bench import GROUP, IDX, helper, parse, subscribers  # noqa: E402

STORM = os.path.join(BUILD_DIR, 'tests', 'helpers', 'fork-storm')
HOLD = os.path.join(BUILD_DIR, 'tests', 'helpers', 'hold-processes')
READ_COST = os.path.join(BUILD_DIR, 'tests', 'helpers', 'proc-read-cost')
TRUE = os.path.realpath('/bin/true')
READER_GROUP = 'cnd-readers'
# Pids a full table leaves free, for the machine to go on working meanwhile.
RSS_MARGIN = 1024
# cnd as the storm benchmarks run it.
STORM_CONFIG = ('[Connector]\nGroups=1\nScanIntervalSec=0\nReceiveBufferSize=64M\n'
                f'[Processes]\nReaderGroup={READER_GROUP}\n')
# Room for the seq and the send time, as bench.py's latency scenario.
RELAY_SIZE = 16


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


def storm_command(count, parallel):
    """fork-storm execing /bin/true as nobody; setpriv execs it in its own pid, so the storm's
    children are that pid's."""
    pw = pwd.getpwnam('nobody')
    return ['setpriv', f'--reuid={pw.pw_uid}', f'--regid={pw.pw_gid}', '--clear-groups',
            STORM, str(count), str(parallel), TRUE]


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
    storm = subprocess.Popen(storm_command(args.count, args.parallel), stdout=subprocess.PIPE, text=True)
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
    per_exec = 1e6 * ticks / hz / n
    print(f'cnd CPU: {ticks / hz:.2f} s for {n} execs (and {len(got["started"])} Started) = '
          f'{per_exec:.0f} us per exec (all of cnd)')
    for name, text in tools.items():
        lines = [line for line in text.splitlines() if 'storm-' in line]
        argv = len({line.split('storm-')[1].split()[0] for line in lines})
        exe = len({line.split('storm-')[1].split()[0] for line in lines if TRUE in line})
        print(f'{name}: exe {share(exe, n)}, argv {share(argv, n)}')
    return {'us_per_exec': per_exec, 'exe': with_exe / n, 'argv': with_argv / n}


def storm_reads_alone(args):
    """The storm watched by proc-read-cost alone, which makes cnd's /proc reads for each fork and
    exec and nothing else: the floor of the CPU per exec on this machine."""
    reader = subprocess.Popen([READ_COST], stdout=subprocess.PIPE, text=True)
    try:
        assert reader.stdout.readline().strip() == 'ready'
        storm = subprocess.run(storm_command(args.count, args.parallel), stdout=subprocess.PIPE, text=True)
        print(storm.stdout.strip())
        time.sleep(3.0)
    finally:
        reader.terminate()
    out = dict(zip(*[iter(reader.communicate()[0].split())] * 2))
    print(f'proc-read-cost: {out}')
    return {'us_per_exec': int(out['cpu_us']) / args.count, 'exe': int(out['resolved']) / max(1, int(out['execs']))}


def compare_storms(args, bus, gid):
    """The storm watched by this build's cnd, by the baseline's, and by this build's with
    [Processes] off (what the storm's Proc signals cost alone), taking turns, each on a cnd of its
    own: the medians of each, and the ratio of the first two."""
    env = {'CND_TEST_UNIT_LOOKUP': '1'} if args.unit_lookup else {}
    contenders = (('this build', None, STORM_CONFIG), ('baseline', args.baseline, STORM_CONFIG),
                  ('Processes off', None, STORM_CONFIG + 'Enabled=no\n'))
    runs = {name: [] for name, _, _ in contenders}
    runs['reads alone'] = []
    for i in range(args.repeat):
        print(f'== reads alone, run {i + 1} of {args.repeat}')
        runs['reads alone'].append(storm_reads_alone(args))
        # Each round in another order, so that a drift of the machine's does not favour one.
        for name, binary, config in contenders[i % 3:] + contenders[:i % 3]:
            print(f'== {name}, run {i + 1} of {args.repeat}')
            cnd = Daemon(bus, config, log_level='info', binary=binary)
            try:
                cnd.start(env=env)
                time.sleep(1.0)
                runs[name].append(run_storm(args, bus, cnd, gid))
            finally:
                cnd.stop()
    print(f'storm of {args.count} execs, median of {args.repeat} runs each'
          + (' (units looked up as on a machine booted with systemd, by a baseline built with test hooks'
             ' and CND_TEST_UNIT_LOOKUP; one without looks none up)' if args.unit_lookup else '') + ':')
    med = {}
    for name, rs in runs.items():
        med[name] = {k: statistics.median(r[k] for r in rs) for k in rs[0]}
        each = ', '.join(f'{r["us_per_exec"]:.0f}' for r in rs)
        argv = f', argv {100 * med[name]["argv"]:.1f}%' if 'argv' in med[name] else ''
        print(f'  {name:13}: {med[name]["us_per_exec"]:6.0f} us of CPU per exec ({each}), '
              f'exe {100 * med[name]["exe"]:.1f}%{argv}')
    print(f'  this build / baseline: {med["this build"]["us_per_exec"] / med["baseline"]["us_per_exec"]:.2f}x '
          'the CPU per exec')


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


def machine_stat():
    """From /proc/stat: processes forked on the machine since boot (each exec of the storm's
    one), and the CPU time of all cores, busy and in all."""
    with open('/proc/stat') as f:
        lines = dict(line.split(None, 1) for line in f if ' ' in line)
    cpu = [int(x) for x in lines['cpu'].split()[:8]]
    return int(lines['processes']), sum(cpu) - cpu[3] - cpu[4], sum(cpu)


def tree_ticks(pid):
    """cpu_ticks of pid and of its descendants alive now (the bus: dbus-daemon, or
    dbus-broker-launch and its broker)."""
    try:
        ticks, children = cpu_ticks(pid), []
        for task in os.listdir(f'/proc/{pid}/task'):
            with open(f'/proc/{pid}/task/{task}/children') as f:
                children += [int(c) for c in f.read().split()]
    except OSError:
        return 0                                        # gone meanwhile
    return ticks + sum(tree_ticks(c) for c in children)


def relay_counters(client, processes):
    c = client.get_all()
    c['proc'] = client.get('ReceivedMessages', path=f'{ID_PATH_PREFIX}/1/1', iface=ID_IFACE)
    if processes:
        c.update({k: client.get(k, path=PROCESSES_PATH, iface=PROCESSES_IFACE) for k in ('Unresolved', 'Resyncs')})
    return c


def relay_once(args, bus, cnd, processes, storm):
    """args.relay_count messages at args.relay_rate/s into GROUP, to one bus-count subscriber,
    as bench.py's latency scenario; with storm, fork-storm runs from a second before the first
    message until the subscriber has the last, started again whenever it ends."""
    client = Client(bus.address)
    runs, storms = [], None
    with open('/proc/loadavg') as f:
        loadavg = ' '.join(f.read().split()[:3])
    try:
        if storm:
            storms = subprocess.Popen(storm_command(args.relay_storm, args.parallel), stdout=subprocess.PIPE,
                                      text=True)
            time.sleep(1.0)
        before, stat = relay_counters(client, processes), machine_stat()
        ticks, bus_ticks = cpu_ticks(cnd.proc.pid), tree_ticks(bus.procs[0].pid)
        start = time.monotonic()
        sub = subscribers(bus.address, 1, args.relay_count, 5000)[0]
        inj = subprocess.Popen(helper('cn-inject', GROUP, IDX, 0, args.relay_count, RELAY_SIZE, args.relay_rate),
                               stdout=subprocess.PIPE, text=True)
        while sub.poll() is None:
            if storms and storms.poll() is not None:
                runs.append(storms.communicate()[0].strip())
                storms = subprocess.Popen(storm_command(args.relay_storm, args.parallel), stdout=subprocess.PIPE,
                                          text=True)
            time.sleep(0.05)
        elapsed = time.monotonic() - start
        ticks, bus_ticks = cpu_ticks(cnd.proc.pid) - ticks, tree_ticks(bus.procs[0].pid) - bus_ticks
        forks, busy, total = (b - a for a, b in zip(stat, machine_stat()))
        inj.communicate(timeout=60)
    finally:
        if storms:
            storms.terminate()
            storms.communicate()
    out = sub.communicate()[0]
    time.sleep(0.5)
    after = relay_counters(client, processes)
    client.close()
    received, gaps, disorder = parse(out, 'received', 'gaps', 'disorder')
    hz = os.sysconf('SC_CLK_TCK')
    return {'received': received, 'gaps': gaps, 'disorder': disorder,
            'latency_us': parse(out, 'p50', 'p99', 'max') if 'latency_us' in out else None,
            'delta': {k: after[k] - before[k] for k in after if isinstance(after[k], int) and k in before},
            'cpu_s': ticks / hz, 'bus_cpu_s': bus_ticks / hz, 'forks': forks, 'seconds': elapsed,
            'busy': busy / max(total, 1), 'loadavg': loadavg,
            'storm_runs': len(runs) + (1 if storm else 0), 'storm_ends': runs}


RELAY_CONDITIONS = (((True, False), '(a)  quiet, Processes on'), ((False, True), '(b)  storm, Processes off'),
                    ((True, True), '(c)  storm, Processes on'), ((False, False), "(a') quiet, Processes off"))


def measure_relay_latency(args, bus):
    """Per cnd, [Processes] Enabled=no and then yes: quiet, then during the storm; as many
    times as --relay-repeat says."""
    print(f'relay latency: {args.relay_count} messages of {RELAY_SIZE} bytes at {args.relay_rate}/s into group '
          f'{GROUP}, one bus-count subscriber, {args.bus}; storm: fork-storm {args.relay_storm} {args.parallel} '
          f'{TRUE} as nobody, started again until the last message is in; cnd {BUILD_DIR}')
    runs = []
    for _ in range(args.relay_repeat):
        results = {}
        for enabled in (False, True):
            cnd = Daemon(bus, f'[Connector]\nGroups=1 {GROUP}\nAcceptUserspaceSenders=yes\nScanIntervalSec=0\n'
                              f'ReceiveBufferSize=64M\n[Processes]\nEnabled={"yes" if enabled else "no"}\n'
                              f'ReaderGroup={READER_GROUP}\n', log_level='info')
            try:
                cnd.start()
                # The id's object exists before the clock starts (as in bench.py).
                subprocess.run(helper('cn-inject', GROUP, IDX, 0, 1, RELAY_SIZE, 0, 0xffffffff), check=True,
                               capture_output=True)
                time.sleep(1.0)
                for storm in (False, True):
                    results[enabled, storm] = relay_once(args, bus, cnd, enabled, storm)
            finally:
                cnd.stop()
        print_relay_run(args, results)
        runs.append(results)
    if len(runs) > 1:
        print_relay_medians(runs)
    return runs


def relay_ratios(a, b, c):
    return (f'(c)/(a): p50 {c[0] / max(a[0], 1):.2f}, p99 {c[1] / max(a[1], 1):.2f}; '
            f'(c)/(b): p50 {c[0] / max(b[0], 1):.2f}, p99 {c[1] / max(b[1], 1):.2f}')


def print_relay_run(args, results):
    print(f'  {"":26} {"p50 us":>8} {"p99 us":>8} {"max us":>8} {"received":>9} {"k-drop":>7} {"b-drop":>7} '
          f'{"forks/s":>8} {"busy":>5} {"CPU s":>6} {"us/fork":>8} {"bus s":>6} {"resyncs":>7} {"unresolved":>10}  '
          'loadavg')
    for key, name in RELAY_CONDITIONS:
        r = results[key]
        lat = r['latency_us'] or ('-', '-', '-')
        d = r['delta']
        per_fork = f'{1e6 * r["cpu_s"] / r["forks"]:8.1f}' if key[1] and r['forks'] else f'{"-":>8}'
        complete = '' if r['received'] == args.relay_count and not r['disorder'] else \
            f'  !!! {args.relay_count - r["received"]} missing, {r["disorder"]} out of order'
        print(f'  {name:26} {lat[0]:>8} {lat[1]:>8} {lat[2]:>8} {r["received"]:>9} '
              f'{d["KernelDroppedMessages"]:>7} {d["BusDroppedMessages"]:>7} {r["forks"] / r["seconds"]:8.0f} '
              f'{100 * r["busy"]:4.0f}% {r["cpu_s"]:6.2f} {per_fork} {r["bus_cpu_s"]:6.2f} {d.get("Resyncs", "-"):>7} '
              f'{d.get("Unresolved", "-"):>10}  {r["loadavg"]}{complete}')
    for key, name in RELAY_CONDITIONS[1:3]:
        r = results[key]
        print(f'  {name}: {r["forks"]} forks on the machine in {r["seconds"]:.1f} s, {r["storm_runs"]} '
              f'fork-storm run(s) ({"; ".join(r["storm_ends"]) or "none ended"}), {r["delta"]["proc"]} cn_proc '
              f'messages relayed')
    lat = [results[key]['latency_us'] for key, _ in RELAY_CONDITIONS[:3]]
    if all(lat):
        print('  ' + relay_ratios(*lat))


def print_relay_medians(runs):
    print(f'  median of {len(runs)} runs:{"":9} {"p50 us":>8} {"p99 us":>8} {"max us":>8}')
    medians = []
    for key, name in RELAY_CONDITIONS:
        lat = [r[key]['latency_us'] for r in runs if r[key]['latency_us']]
        m = [statistics.median(x[i] for x in lat) for i in range(3)] if lat else None
        medians.append(m)
        print(f'  {name:26} ' + ' '.join(f'{x:8.0f}' if m else f'{"-":>8}' for x in (m or range(3))))
    if all(medians[:3]):
        print('  ' + relay_ratios(*medians[:3]))


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--count', type=int, default=20000)
    p.add_argument('--parallel', type=int, default=4)
    p.add_argument('--table', type=table_size, default='full',
                   help="processes to hold for the RSS: N, or full (pid_max less the machine's tasks and a margin)")
    p.add_argument('--skip-storm', action='store_true', help='only the RSS at a full table')
    p.add_argument('--relay-latency', action='store_true',
                   help='first, the latency of another group relayed quiet and during an exec storm')
    p.add_argument('--only-relay-latency', action='store_true', help='only that')
    p.add_argument('--relay-count', type=int, default=5000)
    p.add_argument('--relay-rate', type=int, default=1000)
    p.add_argument('--relay-storm', type=int, default=40000, help='execs of each fork-storm run in that section')
    p.add_argument('--relay-repeat', type=int, default=1, help='runs of that section, each printed, then the medians')
    p.add_argument('--bus', default='dbus-daemon')
    p.add_argument('--baseline', metavar='CND',
                   help="another build's cnd (an earlier version's): the storm alone, watched by each in turn")
    p.add_argument('--repeat', type=int, default=3, help='storm runs of each cnd with --baseline')
    p.add_argument('--unit-lookup', action='store_true',
                   help='look units up as on a machine booted with systemd (a build with test hooks)')
    args = p.parse_args()
    require_built('tests/helpers/fork-storm', 'tests/helpers/hold-processes', 'tests/helpers/proc-read-cost')
    gid = ensure_group(READER_GROUP)
    bus = PrivateBus(args.bus).start()
    try:
        if args.relay_latency or args.only_relay_latency:
            measure_relay_latency(args, bus)
            if args.only_relay_latency:
                return
        if args.baseline:
            compare_storms(args, bus, gid)
            return
        cnd = Daemon(bus, STORM_CONFIG, log_level='info')
        try:
            cnd.start(env={'CND_TEST_UNIT_LOOKUP': '1'} if args.unit_lookup else {})
            time.sleep(1.0)
            if not args.skip_storm:
                run_storm(args, bus, cnd, gid)
            measure_rss(args, bus, cnd)
        finally:
            cnd.stop()
    finally:
        bus.stop()


if __name__ == '__main__':
    main()
