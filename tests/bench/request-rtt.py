#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Round trip of Request(1, 1, PROC_CN_MCAST_LISTEN) against the kernel's cn_proc through cnd,
as a GDBus client sees it, beside a D-Bus Peer.Ping to cnd (the bus's own round trip, the
baseline) measured in the same run. Prints median and p99 over --count calls.

    tests/bench/request-rtt.py [--count 1000] [--bus dbus-daemon|dbus-broker]
"""

import argparse
import os
import statistics
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'bus'))
from cndtest import MANAGER_PATH, Client, Daemon, PrivateBus, require_built  # noqa: E402


def timed(fn, count):
    samples = []
    for _ in range(count):
        t = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t) / 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--count', type=int, default=1000)
    ap.add_argument('--bus', default='dbus-daemon')
    args = ap.parse_args()
    require_built()

    bus = PrivateBus(args.bus).start()
    cnd = Daemon(bus, '[Connector]\nGroups=1\n', log_level='info')
    try:
        cnd.start()
        c = Client(bus.address)
        listen = struct.pack('=I', 1)
        ping = timed(lambda: c.call('Ping', path=MANAGER_PATH, iface='org.freedesktop.DBus.Peer'),
                     args.count)
        req = timed(lambda: c.call('Request', (1, 1, listen, 0), '(uuayu)'), args.count)
        print(f'{args.bus}, {args.count} calls each (microseconds):')
        print(f'  Peer.Ping                 median {ping[0]:8.1f}  p99 {ping[1]:8.1f}')
        print(f'  Request(1:1, LISTEN)      median {req[0]:8.1f}  p99 {req[1]:8.1f}  '
              f'(median {req[0] / ping[0]:.2f} x Ping)')
        c.close()
    finally:
        cnd.stop()
        bus.stop()


if __name__ == '__main__':
    main()
