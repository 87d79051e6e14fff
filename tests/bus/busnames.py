# SPDX-License-Identifier: LGPL-2.1-or-later
"""cnd's D-Bus names, read from the daemon's own header (cnd-bus-names.h)."""

import os

from cndpaths import SOURCE_DIR

NAMES_HEADER = 'cnd-bus-names.h'


def bus_names():
    """The D-Bus names from the daemon's own header (beside this file when staged for another
    user), without the CND_ prefix: {'BUS_NAME': 'org.cnd.Connector1', ...}."""
    import re
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), NAMES_HEADER)
    path = here if os.path.exists(here) else os.path.join(SOURCE_DIR, 'daemon', 'shared', NAMES_HEADER)
    with open(path) as f:
        return {m[1]: m[2] for m in re.finditer(r'^#define CND_(\w+) "([^"]*)"', f.read(), re.M)}


NAMES = bus_names()
BUS_NAME = NAMES['BUS_NAME']
MANAGER_PATH = NAMES['MANAGER_PATH']
MANAGER_IFACE = NAMES['MANAGER_IFACE']
ID_IFACE = NAMES['ID_IFACE']
ID_PATH_PREFIX = NAMES['ID_PATH_PREFIX']
PROC_PATH = NAMES['PROC_PATH']
PROC_IFACE = NAMES['PROC_IFACE']
PROCESSES_PATH = NAMES['PROCESSES_PATH']
PROCESSES_IFACE = NAMES['PROCESSES_IFACE']
