#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""cnd's benchmark, side by side in one run on a private dbus-daemon and a private dbus-broker:

  raw ceiling   a plain netlink listener (cn-count) receiving the injected stream
  bus ceiling   a bare sd-bus program (bus-emit) emitting as many equivalent signals
  per-message   cnd relaying the injected stream as Message signals, to 1 and to 4 subscribers
  batched       cnd relaying it as Messages signals (BatchGroups=), to 1 and to 4 subscribers
  latency       injection to subscriber at 1000 messages/s, per-message mode (p50, p99)
  cost          cnd's CPU time per relayed message and its resident memory

Rates are messages delivered per second at a subscriber (the mean over subscribers), also as
ratios to the two ceilings of the same run. For the throughput scenarios the injected stream is
first queued in the reader's socket (the reader stopped) and then drained, so that on this
2-core machine the load generator takes no CPU from what is measured; the rate is from the
first delivery to the last. Every cnd scenario checks the counting rule of
cnd(8) (delivered + KernelDroppedMessages + BusDroppedMessages == injected) and says
VIOLATED loudly when it does not hold.

    tests/bench/bench.py [--count N] [--size BYTES] [--json] [--memory-run N]

--memory-run N also relays N messages (10 million for the target) at the per-message rate the
bus sustains and samples cnd's resident memory along the way."""

import argparse
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'bus'))
from cndtest import BUILD_DIR, ID_PATH_PREFIX, Client, Daemon, PrivateBus, require_built, rss_kib  # noqa: E402

HELPERS = os.path.join(BUILD_DIR, 'tests', 'helpers')
GROUP = 31
IDX = 0x5252
TICK = os.sysconf('SC_CLK_TCK')


def helper(name, *args, **kw):
    return [os.path.join(HELPERS, name)] + [str(a) for a in args]


def parse(out, *keys):
    f = out.split()
    return [int(f[f.index(k) + 1]) for k in keys]


def cpu_seconds(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def subscribers(address, n, expect, idle_ms=3000):
    procs = []
    for _ in range(n):
        p = subprocess.Popen(helper('bus-count', address, f'{ID_PATH_PREFIX}/{IDX}', expect, idle_ms),
                             stdout=subprocess.PIPE, text=True)
        assert p.stdout.readline().strip() == 'ready'
        procs.append(p)
    return procs


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
    p.send_signal(signal.SIGCONT)
    out, _ = p.communicate(timeout=600)
    received, dropped, first, last = parse(out, 'received', 'dropped', 'first_ns', 'last_ns')
    return {'received': received, 'dropped': dropped, 'rate': received / max((last - first) / 1e9, 1e-9),
            'counting_rule': received + dropped == count}


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


def cnd_run(kind, count, size, n_subs, batched, rate=0, sample_memory=False):
    bus = PrivateBus(kind).start()
    config = (f'[Connector]\nGroups={GROUP}\nAcceptUserspaceSenders=yes\nScanIntervalSec=0\n'
              f'ReceiveBufferSize=512M\n' + (f'BatchGroups={GROUP}\n' if batched else ''))
    cnd = Daemon(bus, config, log_level='info')
    try:
        cnd.start()
        client = Client(bus.address)
        # The id's object exists before the clock starts.
        subprocess.run(helper('cn-inject', GROUP, IDX, 0, 1, size, 0, 0xffffffff), check=True, capture_output=True)
        time.sleep(0.3)
        before = client.get_all()
        cpu_before = cpu_seconds(cnd.proc.pid)
        subs = subscribers(bus.address, n_subs, 0, 3000 if rate == 0 else 5000)
        memory = []
        if rate == 0:
            # Throughput: the whole stream is queued in cnd's socket first (cnd stopped), then
            # cnd relays it as fast as the bus takes it. So the load generator takes no CPU from
            # what is measured on this small machine, as for the emitter and the raw listener.
            cnd.signal(signal.SIGSTOP)
            subprocess.run(helper('cn-inject', GROUP, IDX, 0, count, size), check=True, capture_output=True)
            cnd.signal(signal.SIGCONT)
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
        client.close()
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
    finally:
        cnd.stop()
        bus.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--count', type=int, default=500000)
    ap.add_argument('--size', type=int, default=16)
    ap.add_argument('--json', action='store_true')
    ap.add_argument('--memory-run', type=int, default=0)
    ap.add_argument('--buses', default='dbus-daemon,dbus-broker')
    ap.add_argument('--repeat', type=int, default=3, help='runs of each scenario; the median is shown')
    args = ap.parse_args()
    require_built(*(f'tests/helpers/{h}' for h in ('cn-inject', 'cn-count', 'bus-count', 'bus-emit')))

    def median(runs):
        runs = sorted(runs, key=lambda r: r['rate'])
        best = dict(runs[len(runs) // 2])
        best['rates'] = [r['rate'] for r in runs]
        best['counting_rule'] = all(r.get('counting_rule', True) for r in runs)
        return best

    raw = median([raw_ceiling(args.count, args.size) for _ in range(args.repeat)])
    report = {'count': args.count, 'size': args.size, 'repeat': args.repeat, 'raw': raw, 'buses': {}}
    for kind in args.buses.split(','):
        b = report['buses'][kind] = {}
        b['emitter'] = median([bus_ceiling(kind, args.count, args.size, 1) for _ in range(args.repeat)])
        b['emitter x4'] = median([bus_ceiling(kind, args.count, args.size, 4) for _ in range(args.repeat)])
        for name, subs, batched in (('per-message x1', 1, False), ('per-message x4', 4, False),
                                    ('batched x1', 1, True), ('batched x4', 4, True)):
            b[name] = median([cnd_run(kind, args.count, args.size, subs, batched) for _ in range(args.repeat)])
        b['latency'] = cnd_run(kind, 5000, max(args.size, 12), 1, False, rate=1000)
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
          f'raw ceiling (plain netlink listener): {raw:,.0f}/s')
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
        lat = b['latency']
        print(f'  latency at 1000/s, per-message: p50 {lat["latency_us"][0]} us, p99 {lat["latency_us"][1]} us, '
              f'RSS {lat["rss_kib"]} KiB  {"ok" if lat["counting_rule"] else "VIOLATED"}')
        if 'memory-run' in b:
            m = b['memory-run']
            samples = m['rss_samples_kib']
            print(f'  memory over {m["injected"]:,} messages: RSS after 1 s {samples[min(2, len(samples) - 1)]} KiB, '
                  f'max {max(samples)} KiB, end {m["rss_kib"]} KiB  {"ok" if m["counting_rule"] else "VIOLATED"}')


if __name__ == '__main__':
    sys.exit(main())
