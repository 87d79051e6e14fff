#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""cnd's benchmark, side by side in one run on a private dbus-daemon and a private dbus-broker:

  raw ceiling   a plain netlink listener (cn-count) receiving the injected stream
  bus ceiling   a bare sd-bus program (bus-emit) emitting as many equivalent signals
  per-message   cnd relaying the injected stream as Message signals, to 1 and to 4 subscribers
  batched       cnd relaying it as Messages signals (BatchGroups=), to 1 and to 4 subscribers
  stream        cnd writing it to streams (AcquireStream) read by stream-count, 1 and 4 clients,
                with StreamOnlyGroups= (no signals for the group); "+signals" is one client with
                batched Messages signals on for the group too (BatchGroups=, nobody subscribed),
                what the signal path costs a stream
  latency       injection to subscriber at 1000 messages/s, per-message mode (p50, p99)
  cost          cnd's CPU time per relayed message and its resident memory

Rates are messages delivered per second at a subscriber (the mean over subscribers), also as
ratios to the two ceilings of the same run. For the throughput scenarios the injected stream is
first queued in the reader's socket (the reader stopped) and then drained, so that on this
2-core machine the load generator takes no CPU from what is measured; the rate is from the
first delivery to the last. Every cnd scenario checks the counting rule of
cnd(8) (delivered + KernelDroppedMessages + BusDroppedMessages == injected) and says
VIOLATED loudly when it does not hold; a stream scenario checks it per stream (received + its
lost records == injected, its kernel-lost records == cnd's KernelDroppedMessages, no disorder).
Stream rows give cnd's CPU time per message per stream client.

The monitor rows compare what a person reaches for: `cnctl monitor --json=short` reading a
stream (`--via=stream`; skipped, saying why, where this cnctl has no --via) against
`busctl monitor --json=short`, lines per second into a pipe from the first line to the last
(tests/bench/cnctl-bench.py's way: busctl is stopped while the stream is injected, the bus queues
for it; for the stream cnd is stopped instead, as a stream's buffer is bounded).

    tests/bench/bench.py [--count N] [--size BYTES] [--json] [--memory-run N] [--monitor-count N]

--memory-run N also relays N messages (10 million for the target) at the per-message rate the
bus sustains and samples cnd's resident memory along the way."""

import argparse
import contextlib
import importlib.util
import json
import os
import resource
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'bus'))
from cndtest import BUILD_DIR, ID_PATH_PREFIX, Client, Daemon, PrivateBus, require_built, rss_kib  # noqa: E402

HELPERS = os.path.join(BUILD_DIR, 'tests', 'helpers')
CNCTL = os.path.join(BUILD_DIR, 'cnctl', 'cnctl')
GROUP = 31
IDX = 0x5252
TICK = os.sysconf('SC_CLK_TCK')


def helper(name, *args, **kw):
    return [os.path.join(HELPERS, name)] + [str(a) for a in args]


def parse(out, *keys):
    f = out.split()
    return [int(f[f.index(k) + 1]) for k in keys]


def cpu_seconds(pid):
    """CPU time of every thread of pid, to the nanosecond (schedstat) where the kernel keeps it:
    a scenario of a few hundred milliseconds is tens of clock ticks only."""
    try:
        total = 0
        for task in os.listdir(f'/proc/{pid}/task'):
            with open(f'/proc/{pid}/task/{task}/schedstat') as f:
                total += int(f.read().split()[0])
        return total / 1e9
    except FileNotFoundError:
        with open(f'/proc/{pid}/stat') as f:
            fields = f.read().rsplit(')', 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK


def start_clients(argv, n):
    """n clients of argv, each ready (its match or its stream in place)."""
    procs = []
    for _ in range(n):
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == 'ready'
        procs.append(p)
    return procs


def subscribers(address, n, expect, idle_ms=3000):
    return start_clients(helper('bus-count', address, f'{ID_PATH_PREFIX}/{IDX}', expect, idle_ms), n)


def collect(procs):
    results = []
    for p in procs:
        out, _ = p.communicate(timeout=900)
        received, disorder, first, last = parse(out, 'received', 'disorder', 'first_ns', 'last_ns')
        lat = parse(out, 'p50', 'p99') if 'latency_us' in out else None
        results.append({'received': received, 'disorder': disorder, 'first_ns': first, 'last_ns': last,
                        'latency_us': lat})
    return results


def raw_ceiling(count, size):
    p = subprocess.Popen(helper('cn-count', GROUP, 2000), stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == 'ready'
    p.send_signal(signal.SIGSTOP)
    subprocess.run(helper('cn-inject', GROUP, IDX, 0, count, size), check=True, capture_output=True)
    # The listener's CPU time is what its reaping adds to the children's: the floor of what any
    # reader of the connector, cnd included, spends per message.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p.send_signal(signal.SIGCONT)
    out, _ = p.communicate(timeout=600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    received, dropped, first, last = parse(out, 'received', 'dropped', 'first_ns', 'last_ns')
    return {'received': received, 'dropped': dropped, 'rate': received / max((last - first) / 1e9, 1e-9),
            'cpu_us_per_message': 1e6 * cpu / max(received, 1), 'counting_rule': received + dropped == count}


def bus_ceiling(kind, count, size, n_subs):
    bus = PrivateBus(kind).start()
    try:
        subs = subscribers(bus.address, n_subs, count)
        emit = subprocess.Popen(helper('bus-emit', bus.address, IDX, 0, count, size),
                                stdout=subprocess.PIPE, text=True)
        assert emit.stdout.readline().strip() == 'ready'
        emit.communicate(timeout=900)
        results = collect(subs)
        rates = [r['received'] / max((r['last_ns'] - r['first_ns']) / 1e9, 1e-9) for r in results]
        return {'received': [r['received'] for r in results], 'rate': sum(rates) / len(rates),
                'counting_rule': all(r['received'] == count for r in results)}
    finally:
        bus.stop()


@contextlib.contextmanager
def cnd_on_bus(kind, size, extra_config=''):
    """A private bus of kind with cnd on it, relaying GROUP, and a client of cnd's; the id's
    object exists before the clock starts."""
    bus = PrivateBus(kind).start()
    config = (f'[Connector]\nGroups={GROUP}\nAcceptUserspaceSenders=yes\nScanIntervalSec=0\n'
              f'ReceiveBufferSize=512M\n' + extra_config)
    cnd = Daemon(bus, config, log_level='info')
    try:
        cnd.start()
        client = Client(bus.address)
        subprocess.run(helper('cn-inject', GROUP, IDX, 0, 1, size, 0, 0xffffffff), check=True, capture_output=True)
        time.sleep(0.3)
        yield bus, cnd, client
        client.close()
    finally:
        cnd.stop()
        bus.stop()


def queue_and_drain(cnd, count, size):
    """The whole stream is queued in cnd's socket first (cnd stopped), then cnd relays it as fast
    as it can. So the load generator takes no CPU from what is measured on this small machine,
    as for the emitter and the raw listener."""
    cnd.signal(signal.SIGSTOP)
    subprocess.run(helper('cn-inject', GROUP, IDX, 0, count, size), check=True, capture_output=True)
    cnd.signal(signal.SIGCONT)


def cnd_run(kind, count, size, n_subs, batched, rate=0, sample_memory=False):
    with cnd_on_bus(kind, size, f'BatchGroups={GROUP}\n' if batched else '') as (bus, cnd, client):
        before = client.get_all()
        cpu_before = cpu_seconds(cnd.proc.pid)
        subs = subscribers(bus.address, n_subs, 0, 3000 if rate == 0 else 5000)
        memory = []
        if rate == 0:
            queue_and_drain(cnd, count, size)
        else:
            inj = subprocess.Popen(helper('cn-inject', GROUP, IDX, 0, count, size, rate), stdout=subprocess.PIPE,
                                   text=True)
            while inj.poll() is None:
                if sample_memory:
                    memory.append(rss_kib(cnd.proc.pid))
                time.sleep(0.5)
        results = collect(subs)
        after = client.get_all()
        cpu = cpu_seconds(cnd.proc.pid) - cpu_before
        relayed = after['ReceivedMessages'] - before['ReceivedMessages']
        kernel = after['KernelDroppedMessages'] - before['KernelDroppedMessages']
        busd = after['BusDroppedMessages'] - before['BusDroppedMessages']
        rule = all(r['received'] + kernel + busd == count and r['disorder'] == 0 for r in results)
        rates = [r['received'] / max((r['last_ns'] - r['first_ns']) / 1e9, 1e-9) for r in results]
        out = {'bus': kind, 'subscribers': n_subs, 'batched': batched, 'injected': count,
               'delivered': [r['received'] for r in results], 'kernel_dropped': kernel, 'bus_dropped': busd,
               'counting_rule': rule, 'rate': sum(rates) / len(rates),
               'cpu_us_per_message': 1e6 * cpu / max(relayed, 1), 'rss_kib': rss_kib(cnd.proc.pid),
               'latency_us': results[0]['latency_us']}
        if sample_memory:
            out['rss_samples_kib'] = memory
        if not rule:
            print(f'!!! COUNTING RULE VIOLATED: {out}', file=sys.stderr)
        return out


def stream_clients(address, n, buffer_bytes, idle_ms=3000):
    return start_clients(helper('stream-count', address, f'{IDX}:0', idle_ms, *([buffer_bytes] if buffer_bytes else [])),
                         n)


def stream_run(kind, count, size, n_clients, signals, buffer_bytes=0):
    """Queue-and-drain as cnd_run(), the messages read from streams. With signals, the group's
    messages also go out as batched Messages signals (nobody subscribed); without, the group is
    StreamOnlyGroups= and makes no signal at all."""
    extra = f'BatchGroups={GROUP}\n' if signals else f'StreamOnlyGroups={GROUP}\n'
    with cnd_on_bus(kind, size, extra) as (bus, cnd, client):
        streams = stream_clients(bus.address, n_clients, buffer_bytes)
        before = client.get_all()
        cpu_before = cpu_seconds(cnd.proc.pid)
        queue_and_drain(cnd, count, size)
        results = []
        for p in streams:
            out, _ = p.communicate(timeout=900)
            keys = ('received', 'disorder', 'lost_full', 'lost_kernel', 'first_ns', 'last_ns', 'eof')
            results.append(dict(zip(keys, parse(out, *keys))))
        after = client.get_all()
        cpu = cpu_seconds(cnd.proc.pid) - cpu_before
        relayed = after['ReceivedMessages'] - before['ReceivedMessages']
        kernel = after['KernelDroppedMessages'] - before['KernelDroppedMessages']
        busd = after['BusDroppedMessages'] - before['BusDroppedMessages']
        stream_lost = after['StreamLostRecords'] - before['StreamLostRecords']
        # Per stream: every message is in it or in a lost record, its kernel losses are cnd's,
        # nothing out of order, and the stream did not end under it.
        rules = [r['received'] + r['lost_full'] + r['lost_kernel'] == count and r['lost_kernel'] == kernel and
                 r['disorder'] == 0 and not r['eof'] for r in results]
        rule = all(rules) and sum(r['lost_full'] for r in results) == stream_lost
        rates = [r['received'] / max((r['last_ns'] - r['first_ns']) / 1e9, 1e-9) for r in results]
        out = {'bus': kind, 'clients': n_clients, 'signals': signals, 'injected': count,
               'delivered': [r['received'] for r in results], 'lost_full': [r['lost_full'] for r in results],
               'lost_kernel': [r['lost_kernel'] for r in results], 'kernel_dropped': kernel, 'bus_dropped': busd,
               'stream_lost_records': stream_lost, 'counting_rule': rule, 'rate': sum(rates) / len(rates),
               'rate_min': min(rates), 'cpu_us_per_message': 1e6 * cpu / max(relayed, 1),
               'cpu_us_per_message_per_client': 1e6 * cpu / max(relayed * n_clients, 1),
               'rss_kib': rss_kib(cnd.proc.pid)}
        if not rule:
            print(f'!!! COUNTING RULE VIOLATED (per stream: {rules}): {out}', file=sys.stderr)
        return out


def cnctl_bench():
    """tests/bench/cnctl-bench.py, whose monitor measurement the monitor rows share."""
    spec = importlib.util.spec_from_file_location('cnctl_bench', os.path.join(os.path.dirname(__file__),
                                                                              'cnctl-bench.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cnctl_via_stream():
    """None if this cnctl reads streams when asked (--via=stream), else why not."""
    help_text = subprocess.run([CNCTL, '--help'], capture_output=True, text=True).stdout
    if '--via' not in help_text:
        return 'this cnctl has no --via option (cnctl --help does not mention it): it reads signals only'
    return None


def monitor_rows(kind, count, size, runs):
    """cnctl monitor through a stream against busctl monitor, each queued then drained."""
    cb = cnctl_bench()
    path = f'{ID_PATH_PREFIX}/{cb.IDX}'
    rows = {}
    clients = [('busctl monitor --json=short',
                ['busctl', 'monitor', '--json=short',
                 f"--match=type='signal',sender='{cb.BUS_NAME}',path_namespace='{path}'"],
                lambda line: f'"path":"{path}/{cb.MARKER_VAL}"' in line, lambda line: f'"path":"{path}/1"' in line,
                '', 'client')]
    skipped = cnctl_via_stream()
    name = 'cnctl monitor --json=short --via=stream'
    if skipped:
        rows[name] = {'skipped': skipped}
    else:
        clients.insert(0, (name, [CNCTL, 'monitor', '--via=stream', '--json=short', str(cb.IDX)],
                           lambda line: f'"val":{cb.MARKER_VAL},' in line, lambda line: '"val":1,' in line,
                           f'StreamOnlyGroups={cb.GROUP}\n', 'cnd'))
    for name, argv, marker, is_message, extra, queue_in in clients:
        samples = sorted((cb.bench_monitor_client(kind, name, argv, marker, is_message, count, size, extra, queue_in)
                          for _ in range(runs)), key=lambda r: r['rate'])
        rows[name] = dict(samples[len(samples) // 2])
        rows[name]['rates'] = [r['rate'] for r in samples]
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--count', type=int, default=500000)
    ap.add_argument('--size', type=int, default=16)
    ap.add_argument('--json', action='store_true')
    ap.add_argument('--memory-run', type=int, default=0)
    ap.add_argument('--buses', default='dbus-daemon,dbus-broker')
    ap.add_argument('--repeat', type=int, default=3, help='runs of each scenario; the median is shown')
    ap.add_argument('--stream-buffer', type=int, default=0,
                    help="the streams' BufferBytes (default: cnd's default)")
    ap.add_argument('--monitor-count', type=int, default=50000,
                    help='messages for the monitor rows (0: no monitor rows)')
    args = ap.parse_args()
    require_built(*(f'tests/helpers/{h}' for h in ('cn-inject', 'cn-count', 'bus-count', 'bus-emit', 'stream-count')))

    def median(runs):
        runs = sorted(runs, key=lambda r: r['rate'])
        best = dict(runs[len(runs) // 2])
        best['rates'] = [r['rate'] for r in runs]
        best['counting_rule'] = all(r.get('counting_rule', True) for r in runs)
        return best

    raw = median([raw_ceiling(args.count, args.size) for _ in range(args.repeat)])
    report = {'count': args.count, 'size': args.size, 'repeat': args.repeat, 'stream_buffer': args.stream_buffer,
              'group': GROUP, 'raw': raw, 'buses': {}}
    for kind in args.buses.split(','):
        b = report['buses'][kind] = {}
        b['emitter'] = median([bus_ceiling(kind, args.count, args.size, 1) for _ in range(args.repeat)])
        b['emitter x4'] = median([bus_ceiling(kind, args.count, args.size, 4) for _ in range(args.repeat)])
        for name, subs, batched in (('per-message x1', 1, False), ('per-message x4', 4, False),
                                    ('batched x1', 1, True), ('batched x4', 4, True)):
            b[name] = median([cnd_run(kind, args.count, args.size, subs, batched) for _ in range(args.repeat)])
        for name, clients, signals in (('stream x1', 1, False), ('stream x4', 4, False),
                                       ('stream x1 +signals', 1, True)):
            b[name] = median([stream_run(kind, args.count, args.size, clients, signals, args.stream_buffer)
                              for _ in range(args.repeat)])
        b['latency'] = cnd_run(kind, 5000, max(args.size, 12), 1, False, rate=1000)
        if args.monitor_count:
            b['monitor'] = monitor_rows(kind, args.monitor_count, args.size, args.repeat)
        if args.memory_run:
            # Steady state: at four fifths of what the bus carries, for as long as it takes.
            b['memory-run'] = cnd_run(kind, args.memory_run, args.size, 1, False, sample_memory=True,
                                      rate=int(0.8 * b['emitter']['rate']))

    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_table(report)
    violated = [s for b in report['buses'].values() for k, s in b.items()
                if k != 'emitter' and not s.get('counting_rule', True)]
    return 1 if violated else 0


def print_table(report):
    raw = report['raw']['rate']
    print(f'{report["count"]:,} messages of {report["size"]} bytes, median of {report["repeat"]} runs each; '
          f'raw ceiling (plain netlink listener): {raw:,.0f}/s, its CPU {report["raw"]["cpu_us_per_message"]:.2f} us/msg')
    for kind, b in report['buses'].items():
        e1, e4 = b['emitter']['rate'], b['emitter x4']['rate']
        print(f'\n{kind}: bus ceiling (bare sd-bus emitter): {e1:,.0f}/s to 1 subscriber, '
              f'{e4:,.0f}/s to each of 4')
        print(f'  {"scenario":21} {"delivered/s":>12} {"x emitter":>9} {"x raw":>6} {"k-drop":>8} '
              f'{"b-drop":>8} {"CPU us/msg":>10} {"RSS KiB":>8}  rule')
        for name in ('per-message x1', 'per-message x4', 'batched x1', 'batched x4'):
            s = b[name]
            emitter = e4 if name.endswith('x4') else e1
            print(f'  {name:21} {s["rate"]:12,.0f} {s["rate"] / emitter:9.2f} {s["rate"] / raw:6.2f} '
                  f'{s["kernel_dropped"]:8d} {s["bus_dropped"]:8d} {s["cpu_us_per_message"]:10.2f} '
                  f'{s["rss_kib"]:8d}  {"ok" if s["counting_rule"] else "VIOLATED"}')
        print(f'  streams (StreamOnlyGroups={report["group"]}: no signal for the group; "+signals": '
              f'BatchGroups={report["group"]} instead, nobody subscribed), BufferBytes '
              f'{report["stream_buffer"] or "default"}:')
        print(f'  {"scenario":21} {"delivered/s":>12} {"x emitter":>9} {"x raw":>6} {"k-drop":>8} '
              f'{"s-lost":>8} {"us/msg/client":>13} {"RSS KiB":>8}  rule')
        for name in ('stream x1', 'stream x4', 'stream x1 +signals'):
            s = b[name]
            emitter = e4 if name.endswith('x4') else e1
            print(f'  {name:21} {s["rate"]:12,.0f} {s["rate"] / emitter:9.2f} {s["rate"] / raw:6.2f} '
                  f'{s["kernel_dropped"]:8d} {sum(s["lost_full"]):8d} {s["cpu_us_per_message_per_client"]:13.2f} '
                  f'{s["rss_kib"]:8d}  {"ok" if s["counting_rule"] else "VIOLATED"}')
        lat = b['latency']
        print(f'  latency at 1000/s, per-message: p50 {lat["latency_us"][0]} us, p99 {lat["latency_us"][1]} us, '
              f'RSS {lat["rss_kib"]} KiB  {"ok" if lat["counting_rule"] else "VIOLATED"}')
        if 'memory-run' in b:
            m = b['memory-run']
            samples = m['rss_samples_kib']
            print(f'  memory over {m["injected"]:,} messages: RSS after 1 s {samples[min(2, len(samples) - 1)]} KiB, '
                  f'max {max(samples)} KiB, end {m["rss_kib"]} KiB  {"ok" if m["counting_rule"] else "VIOLATED"}')
        if 'monitor' in b:
            print_monitor(b['monitor'])


def print_monitor(rows):
    busctl = next((r['rate'] for r in rows.values() if 'rate' in r and r['client'].startswith('busctl')), 0)
    for name, r in rows.items():
        if 'skipped' in r:
            print(f'  {name}: skipped: {r["skipped"]}')
            continue
        ratio = f', {r["rate"] / busctl:.2f}x busctl' if busctl and not name.startswith('busctl') else ''
        print(f'  {name}: {r["rate"]:,.0f} lines/s ({r["shown"]:,} of {r["injected"]:,} shown, '
              f'cnd lost {r["cnd_dropped"]:,}{ratio})')


if __name__ == '__main__':
    sys.exit(main())
