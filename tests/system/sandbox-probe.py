#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What cnd's sandbox lets a process do to another's memory, found out from inside it.

scenario.py starts this as an ExecStartPost= of cnd.service itself (a drop-in): systemd gives
every command of a unit the whole of its execution settings (User=, the capability sets,
NoNewPrivileges=, the namespaces, ProtectProc=, the syscall filter), so this runs in exactly the
sandbox the unit gives cnd, whatever a later change to the unit adds, and not in a copy of it.
Prints one line, TAG and a JSON object, to the unit's journal, and always exits 0 (the unit's
start does not depend on it):

    uid, gid, groups, the status fields that make the sandbox (Cap*, NoNewPrivs, Seccomp*),
    and for each attempt on PID 1 (TARGET below) what happened: "ok" or the errno's name.
"""

import errno
import json
import os

TAG = 'cnd-sandbox-probe'
TARGET = 1
STATUS_FIELDS = ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp', 'Seccomp_filters')
PTRACE_ATTACH = 16
SYS_PTRACE = 101              # x86_64, as SystemCallArchitectures=native leaves it


def outcome(fn):
    try:
        value = fn()
        return 'ok' if value is None else ['ok', value]
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def open_close(path, flags):
    os.close(os.open(path, flags))


def ptrace_attach():
    # ctypes makes a callback on import, which MemoryDenyWriteExecute= may refuse: that is
    # reported, not the probe's end.
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
    except Exception as e:  # noqa: BLE001
        return f'no ctypes: {e!r}'
    if libc.syscall(SYS_PTRACE, PTRACE_ATTACH, TARGET, 0, 0) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    libc.syscall(SYS_PTRACE, 17, TARGET, 0, 0)  # PTRACE_DETACH: never reached in the sandbox


def main():
    with open('/proc/self/status') as f:
        status = dict(line.split(':', 1) for line in f if ':' in line)
    proc = f'/proc/{TARGET}'
    report = {
        'uid': os.getuid(), 'gid': os.getgid(), 'groups': sorted(os.getgroups()),
        'status': {k: status.get(k, '').strip() for k in STATUS_FIELDS},
        'sees_target': os.path.exists(proc),
        'readlink_exe': outcome(lambda: os.readlink(f'{proc}/exe')),
        'open_mem_rdwr': outcome(lambda: open_close(f'{proc}/mem', os.O_RDWR)),
        'open_mem_wronly': outcome(lambda: open_close(f'{proc}/mem', os.O_WRONLY)),
        'open_mem_rdonly': outcome(lambda: open_close(f'{proc}/mem', os.O_RDONLY)),
        'open_environ': outcome(lambda: open_close(f'{proc}/environ', os.O_RDONLY)),
        'ptrace_attach': outcome(ptrace_attach),   # the syscall filter's EPERM, at the last
    }
    print(TAG, json.dumps(report, sort_keys=True), flush=True)


if __name__ == '__main__':
    try:
        main()
    except Exception as e:  # noqa: BLE001 - the report is the probe's only output
        print(TAG, json.dumps({'error': repr(e)}), flush=True)
