# SPDX-License-Identifier: LGPL-2.1-or-later
"""Users and what runs as them: cnd's own user and the admin group as a package creates them,
setpriv arguments, copies of files that another user can read (the clone may be mode 0700),
and busclient.py run as another user."""

import atexit
import os
import pwd
import shutil
import subprocess
import tempfile

from busnames import NAMES_HEADER
from cndpaths import SOURCE_DIR

# What cnd.service runs as (units/cnd.sysusers) and the capabilities it keeps.
DAEMON_USER = 'cnd'
DAEMON_CAPS = ('net_admin', 'sys_ptrace')

_staged = {}
_stage_dir = None


def reachable(path):
    """A copy of path that every user may read and run, made once per test process."""
    global _stage_dir
    path = os.path.realpath(path)
    if path not in _staged:
        if _stage_dir is None:
            _stage_dir = tempfile.mkdtemp(prefix='cnd-stage-')
            os.chmod(_stage_dir, 0o755)
            atexit.register(shutil.rmtree, _stage_dir, True)
        # One directory per file keeps the name (Python modules import each other by it).
        d = os.path.join(_stage_dir, str(len(_staged)))
        os.mkdir(d, 0o755)
        _staged[path] = os.path.join(d, os.path.basename(path))
        shutil.copy2(path, _staged[path])
        os.chmod(_staged[path], 0o755)
    return _staged[path]


# What cndtest imports, and busclient.py: a module missing here fails only as another user.
HARNESS_MODULES = ('busclient.py', 'busnames.py', 'cndpaths.py', 'cndrunner.py', 'dbusclient.py', 'kernelside.py',
                   'pace.py', 'privatebus.py', 'staging.py', 'streamclient.py', 'streamrecords.py', 'waits.py')


def reachable_modules(*names):
    """A directory every user can read holding the harness modules (and names, from tests/),
    for PYTHONPATH: busclient.py run as nobody imports cndtest."""
    here = os.path.dirname(os.path.abspath(__file__))
    d = os.path.dirname(reachable(os.path.join(here, 'cndtest.py')))
    for name in HARNESS_MODULES + (os.path.join(SOURCE_DIR, 'daemon', 'shared', NAMES_HEADER),) + names:
        src = name if os.path.isabs(name) else os.path.join(here, name)
        dst = os.path.join(d, os.path.basename(src))
        if not os.path.exists(dst):
            shutil.copy2(src, dst)
            os.chmod(dst, 0o755)
    return d


def ensure_user(name):
    """cnd's own system user, as its package creates it through sysusers.d."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(['useradd', '--system', '--no-create-home', '--home-dir', '/',
                        '--shell', '/usr/sbin/nologin', name], check=True)
        return pwd.getpwnam(name)


def as_user(user, caps=()):
    """setpriv arguments that run a command as user with only caps (ambient, as systemd's
    AmbientCapabilities= gives them) and no supplementary groups."""
    if user == 'root':
        return []
    pw = ensure_user(user) if user == DAEMON_USER else pwd.getpwnam(user)
    keep = ''.join(f',+{c}' for c in caps)
    return ['setpriv', f'--reuid={pw.pw_uid}', f'--regid={pw.pw_gid}', '--clear-groups',
            f'--inh-caps=-all{keep}', f'--ambient-caps=-all{keep}', f'--bounding-set=-all{keep}']



def unprivileged_user():
    return pwd.getpwnam('nobody')

def _busclient_as(user, address, args, groups):
    modules = reachable_modules()
    pw = pwd.getpwnam(user)
    cmd = ['setpriv', f'--reuid={pw.pw_uid}', f'--regid={pw.pw_gid}']
    cmd += [f'--groups={",".join(str(g) for g in groups)}'] if groups else ['--clear-groups']
    cmd += ['/usr/bin/python3', os.path.join(modules, 'busclient.py'), address] + [str(a) for a in args]
    return cmd, dict(os.environ, PYTHONPATH=modules)


def run_as(user, address, *args, groups=(), timeout=30):
    """Runs busclient.py as another user; returns its JSON answer."""
    import json
    cmd, env = _busclient_as(user, address, args, groups)
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if p.returncode != 0 or not p.stdout.strip():
        raise AssertionError(f'client as {user} failed ({p.returncode}): {p.stderr}')
    return json.loads(p.stdout.strip().splitlines()[-1])


def spawn_as(user, address, *args, groups=()):
    """Like run_as, in the background; the caller reads its stdout."""
    cmd, env = _busclient_as(user, address, args, groups)
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def ensure_group(name):
    """The admin group the shipped policy names; a package creates it through sysusers.d."""
    import grp
    try:
        return grp.getgrnam(name).gr_gid
    except KeyError:
        subprocess.run(['groupadd', '--system', name], check=True)
        return grp.getgrnam(name).gr_gid
