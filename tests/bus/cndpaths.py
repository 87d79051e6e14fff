# SPDX-License-Identifier: LGPL-2.1-or-later
"""Where the build and the source are, and the programs of the build the tests run."""

import os
import sys

BUILD_DIR = os.environ.get('CND_BUILD_DIR', os.path.join(os.path.dirname(__file__), '../../build'))
SOURCE_DIR = os.environ.get('CND_SOURCE_DIR', os.path.join(os.path.dirname(__file__), '../..'))
CND = os.path.join(BUILD_DIR, 'daemon', 'cnd')
POLICY = os.path.join(BUILD_DIR, 'dbus-policy', 'org.cnd.Connector1.conf')
FORK_STORM = os.path.join(BUILD_DIR, 'tests', 'helpers', 'fork-storm')


def require_built(*programs):
    """Ends a script that needs the build (a benchmark started on a fresh clone) with one line
    saying what to run first, if cnd or one of programs (paths in the build directory) is not
    there."""
    for program in ('daemon/cnd',) + programs:
        if not os.access(os.path.join(BUILD_DIR, program), os.X_OK):
            sys.exit(f'{os.path.basename(sys.argv[0])}: {program} is not built in {os.path.abspath(BUILD_DIR)}; '
                     f'run first: tools/install-deps && meson setup build && meson compile -C build')
