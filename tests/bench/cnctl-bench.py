#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""cnctl against the tools people reach for today, on a private bus with cnd:

  proc      a fork storm watched at once by a raw cn_proc listener (the truth), by
            `cnctl proc --kinds=fork,exit` as nobody, and by `forkstat -e fork,exit` as root:
            the share of the storm's forks and exits each one shows.
  monitor   the same stream of injected connector messages read by `cnctl monitor --json=short`
            and by `busctl monitor --json=short` (root: it needs the bus's monitoring
            interface), each writing to a pipe: messages per second at the reader.

For the monitor figures the client is stopped (SIGSTOP) while the stream is injected, so the bus
queues it for the client; then it is let go and the rate is taken from its first line to its
last, so that what is measured is the client alone, not the injector or cnd sharing the CPUs; each
client runs alone, --runs times, and the median run is shown.

    tests/bench/cnctl-bench.py [--forks 20000] [--parallel 4] [--messages 50000] [--size 16]
                               [--runs 3] [--bus dbus-daemon|dbus-broker|both] [--json]
"""

import argparse
import importlib.util
import json
import os
import pwd
import signal
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'bus'))
from cndtest import (BUILD_DIR, BUS_NAME, ID_PATH_PREFIX, PROC_IFACE, PROC_PATH, Client, Daemon,  # noqa: E402
                     PrivateBus, ProcListener, reachable, require_built)

HELPERS = os.path.join(BUILD_DIR, 'tests', 'helpers')
CNCTL = os.path.join(BUILD_DIR, 'cnctl', 'cnctl')
GROUP = 31
IDX = 0x5353
MARKER_VAL = 2
# Root may monitor the private bus, as on a real system bus.
MONITOR_POLICY = """
<policy user="root">
  <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Monitoring"/>
</policy>
"""


def proc_storm_module():
    """forkstat's output is parsed as tests/bench/proc-storm.py does."""
    spec = importlib.util.spec_from_file_location('proc_storm', os.path.join(HERE, 'proc-storm.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def as_nobody(argv):
    pw = pwd.getpwnam('nobody')
    return ['setpriv', f'--reuid={pw.pw_uid}', f'--regid={pw.pw_gid}', '--clear-groups'] + argv


class LineReader:
    """Reads a client's stdout in a thread: lines, and when the first and last came."""

    def __init__(self, proc):
        self.proc = proc
        self.lines = []
        self.first = self.last = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        for line in self.proc.stdout:
            now = time.monotonic()
            if self.first is None:
                self.first = now
            self.last = now
            self.lines.append(line)

    def wait_quiet(self, count=None, idle=2.0, timeout=600):
        """Until count(lines) (by default, their number) has not changed for idle seconds."""
        count = count or len
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            now = count(list(self.lines))
            if now == last and (now or now is None):
                return
            last = now
            time.sleep(idle)


def cnctl_proc_counts(lines, storm_pid):
    """Lines of `cnctl proc`: TIME EVENT PID PPID INFO."""
    forks, children = 0, set()
    for line in lines:
        f = line.split()
        if len(f) >= 4 and f[1] == 'fork' and f[3] == str(storm_pid):
            forks += 1
            children.add(f[2])
    exits = sum(1 for line in lines if len(f := line.split()) >= 3 and f[1] == 'exit' and f[2] in children)
    return forks, exits


def bench_proc(kind, count, parallel):
    fs = proc_storm_module()
    fs.ensure_forkstat()
    bus = PrivateBus(kind).start()
    cnd = Daemon(bus, '[Connector]\nGroups=1\nScanIntervalSec=0\nReceiveBufferSize=64M\n', log_level='info')
    truth = None
    try:
        cnd.start()
        c = Client(bus.address)
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address)
        viewer = subprocess.Popen(as_nobody([reachable(CNCTL), 'proc', '--kinds=fork,exit', '--no-legend']),
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        view = LineReader(viewer)
        # Both read as they write: a pipe left unread fills, and then its writer stops reading events.
        forkstat = subprocess.Popen(['forkstat', '-e', 'fork,exit'], stdout=subprocess.PIPE,
                                    stderr=subprocess.DEVNULL, text=True)
        fs_view = LineReader(forkstat)
        truth = ProcListener()
        lost_before = c.get('LostEvents', path=PROC_PATH, iface=PROC_IFACE)
        before = c.get_all()
        time.sleep(1.5)          # both subscribed (cnctl prints nothing until it is)

        storm = subprocess.run([os.path.join(HELPERS, 'fork-storm'), str(count), str(parallel)],
                               capture_output=True, text=True, check=True)
        time.sleep(1.0)
        raw_parents = {}
        for p, child in truth.forks:
            raw_parents.setdefault(p, set()).add(child)
        storm_pid = max(raw_parents, key=lambda p: len(raw_parents[p]))
        # The machine goes on making processes: wait for the storm's lines to stop coming.
        view.wait_quiet(lambda lines: cnctl_proc_counts(lines, storm_pid))
        fs_view.wait_quiet(lambda lines: fs.forkstat_counts(''.join(lines), storm_pid))
        forkstat.send_signal(signal.SIGINT)
        forkstat.wait(120)
        fs_view.thread.join(10)
        fs_out = ''.join(fs_view.lines)
        viewer.terminate()
        viewer.wait(30)
        view.thread.join(10)

        children = raw_parents[storm_pid]
        raw_exits = sum(1 for pid in truth.exits if pid in children)
        after = c.get_all()
        lost = c.get('LostEvents', path=PROC_PATH, iface=PROC_IFACE) - lost_before
        cn_forks, cn_exits = cnctl_proc_counts(view.lines, storm_pid)
        fs_forks, fs_exits = fs.forkstat_counts(fs_out, storm_pid)
        c.close()
        return {
            'bus': kind, 'storm': storm.stdout.strip(), 'parallel': parallel,
            'raw': {'forks': len(children), 'exits': raw_exits, 'own_drops': truth.drops()},
            'cnctl': {'forks': cn_forks, 'exits': cn_exits},
            'forkstat': {'forks': fs_forks, 'exits': fs_exits},
            'cnd': {'lost_events': lost,
                    'kernel_dropped': after['KernelDroppedMessages'] - before['KernelDroppedMessages'],
                    'bus_dropped': after['BusDroppedMessages'] - before['BusDroppedMessages']},
        }
    finally:
        if truth:
            truth.close()
        cnd.stop()
        bus.stop()


def inject(count, size, val=1, first=0):
    subprocess.run([os.path.join(HELPERS, 'cn-inject'), str(GROUP), str(IDX), str(val), str(count), str(size),
                    '0', str(first)], check=True, capture_output=True)


def wait_subscribed(reader, marker):
    """Injects marker messages until one shows in the client's output: it is subscribed."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        inject(1, 16, val=MARKER_VAL)
        time.sleep(0.2)
        if any(marker(line) for line in reader.lines):
            return
    raise RuntimeError('the client never showed the marker')


def bench_monitor_client(kind, name, argv, marker, is_message, count, size, extra_config='', queue_in='client'):
    """One run of a monitor client. queue_in says who is stopped while the stream is injected:
    the client (the bus queues for it) or cnd (its socket queues, for a client that reads a
    stream, whose buffer is bounded)."""
    bus = PrivateBus(kind, MONITOR_POLICY).start()
    config = (f'[Connector]\nGroups={GROUP}\nAcceptUserspaceSenders=yes\nScanIntervalSec=0\n'
              'ReceiveBufferSize=512M\n' + extra_config)
    cnd = Daemon(bus, config, log_level='info')
    try:
        cnd.start()
        c = Client(bus.address)
        env = dict(os.environ, DBUS_SYSTEM_BUS_ADDRESS=bus.address)
        client = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
        reader = LineReader(client)
        wait_subscribed(reader, marker)
        time.sleep(0.5)
        before = c.get_all()
        reader.lines.clear()
        reader.first = reader.last = None

        if queue_in == 'cnd':
            cnd.signal(signal.SIGSTOP)
            inject(count, size)
            cnd.signal(signal.SIGCONT)
            reader.wait_quiet(lambda lines: sum(1 for line in lines if is_message(line)))
            settled = c.get_all()
        else:
            client.send_signal(signal.SIGSTOP)
            inject(count, size)
            # cnd has relayed all it will when its counters stop moving.
            settled = None
            while settled != c.get_all():
                settled = c.get_all()
                time.sleep(1.0)
            client.send_signal(signal.SIGCONT)
            reader.wait_quiet(lambda lines: sum(1 for line in lines if is_message(line)))
        client.terminate()
        client.wait(30)
        reader.thread.join(10)

        shown = [line for line in reader.lines if is_message(line)]
        got = len(shown)
        dropped = (settled['KernelDroppedMessages'] - before['KernelDroppedMessages'] +
                   settled['BusDroppedMessages'] - before['BusDroppedMessages'])
        seconds = (reader.last - reader.first) if reader.first else 0
        c.close()
        return {'bus': kind, 'client': name, 'injected': count, 'shown': got, 'cnd_dropped': dropped,
                'seconds': seconds, 'rate': got / seconds if seconds else 0,
                'bytes_per_line': sum(map(len, shown)) / max(got, 1)}
    finally:
        cnd.stop()
        bus.stop()


def bench_monitor(kind, count, size, runs):
    """Each client runs alone, runs times, on the same stream; the median run counts."""
    path = f'{ID_PATH_PREFIX}/{IDX}'
    clients = [
        ('cnctl monitor --json=short', [CNCTL, 'monitor', '--json=short', str(IDX)],
         lambda line: f'"val":{MARKER_VAL},' in line, lambda line: '"val":1,' in line),
        ('busctl monitor --json=short',
         ['busctl', 'monitor', '--json=short', f"--match=type='signal',sender='{BUS_NAME}',path_namespace='{path}'"],
         lambda line: f'"path":"{path}/{MARKER_VAL}"' in line, lambda line: f'"path":"{path}/1"' in line),
    ]
    results = []
    for name, argv, marker, is_message in clients:
        samples = sorted((bench_monitor_client(kind, name, argv, marker, is_message, count, size)
                          for _ in range(runs)), key=lambda r: r['rate'])
        median = samples[len(samples) // 2]
        median['rates'] = [round(r['rate']) for r in samples]
        results.append(median)
    return results


def print_proc(r):
    print(f'fork storm on {r["bus"]}: {r["storm"]}, {r["parallel"]} at a time')
    print(f'  {"observer":36} {"forks":>7} {"share":>7} {"exits":>7} {"share":>7}')
    raw = r['raw']
    for name, key in (('raw cn_proc listener (root)', 'raw'), ('cnctl proc (nobody, through cnd)', 'cnctl'),
                      ('forkstat -e fork,exit (root)', 'forkstat')):
        v = r[key]
        print(f'  {name:36} {v["forks"]:7d} {100 * v["forks"] / max(raw["forks"], 1):6.1f}% '
              f'{v["exits"]:7d} {100 * v["exits"] / max(raw["exits"], 1):6.1f}%')
    d = r['cnd']
    print(f'  cnd reported lost: LostEvents +{d["lost_events"]}, KernelDroppedMessages +{d["kernel_dropped"]}, '
          f'BusDroppedMessages +{d["bus_dropped"]}; the raw listener\'s own drops: {raw["own_drops"]}')


def print_monitor(results):
    print(f'monitor throughput on {results[0]["bus"]}: {results[0]["injected"]:,} messages queued for the '
          'client, then drained into a pipe')
    print(f'  {"client":30} {"shown":>9} {"lines/s":>10} {"bytes/line":>10} {"cnd lost":>9}  runs (lines/s)')
    for r in results:
        print(f'  {r["client"]:30} {r["shown"]:9,d} {r["rate"]:10,.0f} {r["bytes_per_line"]:10.0f} '
              f'{r["cnd_dropped"]:9,d}  {", ".join(f"{x:,}" for x in r["rates"])}')
    print('  ("cnd lost": what cnd itself dropped while the bus was congested, the same for any client)')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--forks', type=int, default=20000)
    ap.add_argument('--parallel', type=int, default=4)
    ap.add_argument('--messages', type=int, default=50000)
    ap.add_argument('--size', type=int, default=16)
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--bus', default='both', choices=('dbus-daemon', 'dbus-broker', 'both'))
    ap.add_argument('--json', action='store_true')
    args = ap.parse_args()
    require_built('cnctl/cnctl', 'tests/helpers/cn-inject')
    kinds = ('dbus-daemon', 'dbus-broker') if args.bus == 'both' else (args.bus,)
    out = {'proc': [], 'monitor': []}
    for kind in kinds:
        out['proc'].append(bench_proc(kind, args.forks, args.parallel))
        if not args.json:
            print_proc(out['proc'][-1])
        out['monitor'].append(bench_monitor(kind, args.messages, args.size, args.runs))
        if not args.json:
            print_monitor(out['monitor'][-1])
    if args.json:
        print(json.dumps(out, indent=2))


if __name__ == '__main__':
    main()
