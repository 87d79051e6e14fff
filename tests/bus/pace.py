# SPDX-License-Identifier: LGPL-2.1-or-later
"""How fast this machine is now, measured rather than assumed: the tests scale what they wait
for by it, so that a TCG guest (some ten times slower than its host) or a loaded host waits
longer instead of failing, while a quick machine does not wait for nothing."""

import os
import subprocess
import time

_measured = {}


def fork_pace(fork_storm, n=200, parallel=4, program=None):
    """Seconds per child of a storm of n (each execing program, if given), measured once per
    process for each shape."""
    key = (fork_storm, n, parallel, program)
    if key not in _measured:
        cmd = [fork_storm, str(n), str(parallel)] + ([program] if program else [])
        start = time.monotonic()
        subprocess.run(cmd, check=True, capture_output=True, timeout=600)
        _measured[key] = (time.monotonic() - start) / n
    return _measured[key]


# run-guest.py hands the guest its host's pace under this name; the guest compares its own.
HOST_PACE_VARIABLE = 'CND_TEST_HOST_FORK_PACE'
SLOWDOWN_VARIABLE = 'CND_TEST_SLOWDOWN'


def slowdown(fork_storm):
    """How many times slower than the host that started it this machine forks now: 1 where no
    host pace was handed down (on the host itself), never less than 1."""
    host = os.environ.get(HOST_PACE_VARIABLE)
    if not host:
        return 1.0
    # Measured once by the test, and handed to what it runs as other users: they may not be
    # able to reach the build (a clone in /root) to measure it themselves.
    if SLOWDOWN_VARIABLE not in os.environ:
        if not os.access(fork_storm, os.X_OK):
            return 1.0
        os.environ[SLOWDOWN_VARIABLE] = repr(max(1.0, fork_pace(fork_storm) / float(host)))
    return float(os.environ[SLOWDOWN_VARIABLE])
