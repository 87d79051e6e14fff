#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Relay benchmark: messages injected into a connector group as fast as the kernel takes them,
relayed by cnd to one subscriber (bus-count, sd-bus), on a private dbus-daemon and dbus-broker.
Prints per bus: injected, delivered, dropped (kernel/bus), the delivered rate, the injection
rate as a baseline measured in the same run, and cnd's resident memory. Checks the counting
rule and says so loudly when it does not hold.

    tests/bench/relay.py [--count N] [--size BYTES] [--json]
"""

import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'bus'))
from cndtest import BUILD_DIR, Client, Daemon, PrivateBus  # noqa: E402

HELPERS = os.path.join(BUILD_DIR, 'tests', 'helpers')
GROUP = 30
IDX = 0x5151


def rss_kib(pid):
    with open(f'/proc/{pid}/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return 0


def counters(client):
    props = client.get_all()
    return {k: props[k] for k in ('ReceivedMessages', 'KernelDroppedMessages', 'BusDroppedMessages')}


def run(kind, count, size):
    bus = PrivateBus(kind).start()
    cnd = Daemon(bus, f'[Connector]\nGroups={GROUP}\nAcceptUserspaceSenders=yes\nScanIntervalSec=0\n'
                      f'ReceiveBufferSize=64M\n', log_level='info')
    try:
        cnd.start()
        client = Client(bus.address)
        sub = subprocess.Popen([os.path.join(HELPERS, 'bus-count'), bus.address,
                                f'/org/cnd/Connector1/id/{IDX}', str(count), '3000'],
                               stdout=subprocess.PIPE, text=True)
        assert sub.stdout.readline().strip() == 'ready'
        # Warm up: the id object exists before the clock starts.
        subprocess.run([os.path.join(HELPERS, 'cn-inject'), str(GROUP), str(IDX), '0', '1', str(size)],
                       check=True, capture_output=True)
        time.sleep(0.3)
        before = counters(client)

        start_ns = time.monotonic_ns()
        inj = subprocess.run([os.path.join(HELPERS, 'cn-inject'), str(GROUP), str(IDX), '0', str(count),
                              str(size), '0', '1'], check=True, capture_output=True, text=True)
        inject_s = float(inj.stdout.split()[3])
        out, _ = sub.communicate(timeout=600)
        fields = out.split()
        delivered = int(fields[fields.index('received') + 1]) - 1     # less the warm-up message
        last_ns = int(fields[fields.index('last_ns') + 1])
        disorder = int(fields[fields.index('disorder') + 1])

        after = counters(client)
        kernel = after['KernelDroppedMessages'] - before['KernelDroppedMessages']
        busd = after['BusDroppedMessages'] - before['BusDroppedMessages']
        elapsed = (last_ns - start_ns) / 1e9
        result = {
            'bus': kind, 'injected': count, 'size': size, 'delivered': delivered,
            'kernel_dropped': kernel, 'bus_dropped': busd,
            'counting_rule': delivered + kernel + busd == count and disorder == 0,
            'delivered_per_s': delivered / elapsed if elapsed > 0 else 0,
            'injected_per_s': count / inject_s,
            'cnd_rss_kib': rss_kib(cnd.proc.pid),
        }
        client.close()
        return result
    finally:
        cnd.stop()
        bus.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--count', type=int, default=200000)
    ap.add_argument('--size', type=int, default=16)
    ap.add_argument('--json', action='store_true')
    args = ap.parse_args()

    results = [run(kind, args.count, args.size) for kind in ('dbus-daemon', 'dbus-broker')]
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(f'{"bus":12} {"injected":>9} {"delivered":>9} {"k-drop":>8} {"b-drop":>7} '
              f'{"deliv/s":>9} {"inject/s":>9} {"ratio":>6} {"RSS KiB":>8}  rule')
        for r in results:
            print(f'{r["bus"]:12} {r["injected"]:9d} {r["delivered"]:9d} {r["kernel_dropped"]:8d} '
                  f'{r["bus_dropped"]:7d} {r["delivered_per_s"]:9.0f} {r["injected_per_s"]:9.0f} '
                  f'{r["delivered_per_s"] / r["injected_per_s"]:6.2f} {r["cnd_rss_kib"]:8d}  '
                  f'{"ok" if r["counting_rule"] else "VIOLATED"}')
    if not all(r['counting_rule'] for r in results):
        print('COUNTING RULE VIOLATED', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
