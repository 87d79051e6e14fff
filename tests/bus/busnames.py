# SPDX-License-Identifier: LGPL-2.1-or-later
"""cnd's D-Bus names, read from the daemon's own header (cnd-bus-names.h)."""

import os

NAMES_HEADER = 'cnd-bus-names.h'


def bus_names():
    """The D-Bus names from the daemon's own header (beside this file when staged for another
    user or shipped to a booted guest, which has no source tree), without the CND_ prefix:
    {'BUS_NAME': 'org.cnd.Connector1', ...}."""
    import re
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), NAMES_HEADER)
    if not os.path.exists(path):
        from cndpaths import SOURCE_DIR
        path = os.path.join(SOURCE_DIR, 'daemon', 'shared', NAMES_HEADER)
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
