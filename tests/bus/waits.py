# SPDX-License-Identifier: LGPL-2.1-or-later
"""Waiting as long as this machine needs: bounds scaled by how fast it forks now (pace.py)."""

import sys
import time

from cndpaths import FORK_STORM
from pace import fork_pace, slowdown


def storm_timeout(n, parallel=4, program=None):
    """Seconds a fork-storm of n children (each execing program, if given) may take on this
    machine now: five times what a storm of a twentieth of n takes when measured here, and at
    least a minute. A TCG guest forks some ten times slower than the host, a loaded host some
    times slower: a fixed bound would either flake there or mean nothing here."""
    return max(60.0, 5 * n * fork_pace(FORK_STORM, max(50, n // 20), parallel, program))


_slowdown = None


def scaled(seconds):
    """A wait of seconds on the host, as long as it takes on this machine: in a guest, times how
    much slower than its host it forks (pace.py), printed once."""
    global _slowdown
    if _slowdown is None:
        _slowdown = slowdown(FORK_STORM)
        if _slowdown > 1.0:
            print(f'waits scaled by {_slowdown:.1f}: this machine forks that much slower than its host',
                  file=sys.stderr, flush=True)
    return seconds * _slowdown


def wait_for(predicate, timeout=20.0, interval=0.02, what='condition'):
    timeout = scaled(timeout)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f'timed out after {timeout:.0f}s waiting for {what}')
