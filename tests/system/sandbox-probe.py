#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What cnd's sandbox lets a process do to another's memory, found out from inside it.

    sandbox-probe.py PID ADDRESS HEX

scenario.py starts this as an ExecStartPost= of cnd.service itself (a drop-in): systemd gives
every command of a unit the whole of its execution settings (User=, the capability sets,
NoNewPrivileges=, the namespaces, ProtectProc=, the syscall filter), so this runs in exactly the
sandbox the unit gives cnd, whatever a later change to the unit adds, and not in a copy of it.
Prints one line, TAG and a JSON object, to the unit's journal, and always exits 0 (the unit's
start does not depend on it):

    uid, gid, groups, the status fields that make the sandbox (Cap*, NoNewPrivs, Seccomp*),
    and for each attempt what happened: "ok" (or ["ok", what it got]) or the errno's name.

Two ways into another process's memory are tried:

- through /proc, on PID 1 (systemd, root's): /proc/1/mem opened for reading and writing, for
  writing, for reading; /proc/1/environ; and /proc/1/exe read, which cnd needs and has;
- through the system calls that need no file, on PID, a root process the scenario started that
  holds len(HEX) / 2 bytes at ADDRESS: ptrace(2) PTRACE_ATTACH and PTRACE_SEIZE (each let go at
  once where it succeeds), process_vm_readv(2) of those bytes and process_vm_writev(2) of the
  bytes HEX over them. Not on PID 1: the scenario also runs this in a unit whose filter lets
  them through, where they would stop systemd and write into it.
"""

import errno
import json
import os
import sys

TAG = 'cnd-sandbox-probe'
PROC_TARGET = 1
STATUS_FIELDS = ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp', 'Seccomp_filters')
# x86_64, as SystemCallArchitectures=native leaves it.
SYS_PTRACE, SYS_PROCESS_VM_READV, SYS_PROCESS_VM_WRITEV = 101, 310, 311
PTRACE_ATTACH, PTRACE_DETACH, PTRACE_SEIZE, PTRACE_INTERRUPT = 16, 17, 0x4206, 0x4207
WALL = 0x40000000             # __WALL: a tracee that is not a child


class NoCtypes(Exception):
    pass


_ctypes = []


def ctypes_libc():
    """ctypes and libc, loaded once. ctypes makes a callback on import, which
    MemoryDenyWriteExecute= may refuse: that is reported as the attempts' outcome, not the
    probe's end."""
    if not _ctypes:
        try:
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            libc.syscall.restype = ctypes.c_long
        except Exception as e:  # noqa: BLE001
            raise NoCtypes(f'no ctypes: {e!r}')
        _ctypes.extend((ctypes, libc))
    return _ctypes


def syscall(nr, *args):
    ctypes, libc = ctypes_libc()
    r = libc.syscall(ctypes.c_long(nr), *(ctypes.c_long(a) for a in args))
    if r == -1:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return r


def outcome(fn):
    try:
        value = fn()
        return 'ok' if value is None else ['ok', value]
    except NoCtypes as e:
        return str(e)
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))


def open_close(path, flags):
    os.close(os.open(path, flags))


def ptrace_attach(pid):
    syscall(SYS_PTRACE, PTRACE_ATTACH, pid, 0, 0)
    # Past here only where the sandbox lets ptrace through: the target stops (SIGSTOP), is
    # waited for and let go without the signal.
    os.waitpid(pid, WALL)
    syscall(SYS_PTRACE, PTRACE_DETACH, pid, 0, 0)


def ptrace_seize(pid):
    syscall(SYS_PTRACE, PTRACE_SEIZE, pid, 0, 0)
    # As above; a seized process is stopped only by PTRACE_INTERRUPT, and let go once stopped.
    syscall(SYS_PTRACE, PTRACE_INTERRUPT, pid, 0, 0)
    os.waitpid(pid, WALL)
    syscall(SYS_PTRACE, PTRACE_DETACH, pid, 0, 0)


def process_vm(nr, pid, address, data):
    """process_vm_readv or _writev of len(data) bytes at address in pid, from or into a copy of
    data here; returns the bytes moved, as hex."""
    ctypes, _ = ctypes_libc()

    class IoVec(ctypes.Structure):
        _fields_ = [('base', ctypes.c_void_p), ('len', ctypes.c_size_t)]
    here = ctypes.create_string_buffer(data, len(data))
    local, remote = IoVec(ctypes.addressof(here), len(data)), IoVec(address, len(data))
    n = syscall(nr, pid, ctypes.addressof(local), 1, ctypes.addressof(remote), 1, 0)
    return here.raw[:n].hex()


def main():
    pid, address, data = int(sys.argv[1]), int(sys.argv[2]), bytes.fromhex(sys.argv[3])
    with open('/proc/self/status') as f:
        status = dict(line.split(':', 1) for line in f if ':' in line)
    proc = f'/proc/{PROC_TARGET}'
    report = {
        'uid': os.getuid(), 'gid': os.getgid(), 'groups': sorted(os.getgroups()),
        'status': {k: status.get(k, '').strip() for k in STATUS_FIELDS},
        'sees_target': os.path.exists(proc),
        'readlink_exe': outcome(lambda: os.readlink(f'{proc}/exe')),
        'open_mem_rdwr': outcome(lambda: open_close(f'{proc}/mem', os.O_RDWR)),
        'open_mem_wronly': outcome(lambda: open_close(f'{proc}/mem', os.O_WRONLY)),
        'open_mem_rdonly': outcome(lambda: open_close(f'{proc}/mem', os.O_RDONLY)),
        'open_environ': outcome(lambda: open_close(f'{proc}/environ', os.O_RDONLY)),
        'syscall_target': pid,
        'ptrace_attach': outcome(lambda: ptrace_attach(pid)),
        'ptrace_seize': outcome(lambda: ptrace_seize(pid)),
        # Read first, so that a read that gets through shows the target's own bytes.
        'process_vm_readv': outcome(lambda: process_vm(SYS_PROCESS_VM_READV, pid, address, bytes(len(data)))),
        'process_vm_writev': outcome(lambda: process_vm(SYS_PROCESS_VM_WRITEV, pid, address, data)),
    }
    print(TAG, json.dumps(report, sort_keys=True), flush=True)


if __name__ == '__main__':
    try:
        main()
    except Exception as e:  # noqa: BLE001 - the report is the probe's only output
        print(TAG, json.dumps({'error': repr(e)}), flush=True)
