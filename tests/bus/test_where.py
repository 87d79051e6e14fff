#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Where a process runs (the where dictionary of org.cnd.Connector1.Processes and the stream's
process records): namespaces of its own made with unshare, cgroups named as container runtimes
name theirs, and a cgroup tree shaped as a user manager's, whose processes' system unit is
user@UID.service and their own unit the user unit."""

import os
import subprocess
import uuid

from cndtest import main, wait_for
from streamclient import EXITED, STARTED, GLib, Stream
from test_cnctl import Stream as CnctlStream
from test_processes import ProcessesCase, cgroup_of, children_of

ID = '0123456789abcdef' * 4


def cgroup2_mount():
    """The mount point of the cgroup v2 hierarchy showing its root, or None."""
    with open('/proc/self/mountinfo') as f:
        for line in f:
            fields = line.split()
            sep = fields.index('-')
            if fields[sep + 1] == 'cgroup2' and fields[3] == '/':
                return fields[4]
    return None


def namespace(pid, kind):
    target = os.readlink(f'/proc/{pid}/ns/{kind}')
    assert target.startswith(f'{kind}:['), target
    return int(target[len(kind) + 2:-1])


def stop(p):
    p.kill()
    p.wait()


class CgroupTree:
    """Cgroups made for a test under a top cgroup of its own, removed with it."""

    def __init__(self, case):
        self.mount = cgroup2_mount()
        if not self.mount or not os.access(self.mount, os.W_OK):
            case.skipTest('no writable cgroup v2 hierarchy here')
        # A slice, so that libsystemd's unit lookup passes over it as over systemd's own.
        self.top = f'cndtest-{os.getpid()}-{uuid.uuid4().hex[:8]}.slice'
        self.made = []
        self.processes = []
        case.addCleanup(self.remove)

    def run_in(self, path, argv):
        """argv started in the cgroup TOP/path: it moves itself there, then execs argv."""
        d = os.path.join(self.mount, self.top, path)
        parts = os.path.join(self.top, path).split('/')
        for i in range(1, len(parts) + 1):
            p = os.path.join(self.mount, *parts[:i])
            if not os.path.isdir(p):
                os.mkdir(p)
                self.made.append(p)
        code = f'echo $$ > {d}/cgroup.procs && exec "$@"'
        p = subprocess.Popen(['/bin/sh', '-c', code, 'sh'] + argv)
        self.processes.append(p)
        return p

    def remove(self):
        for p in self.processes:
            stop(p)
        for d in reversed(self.made):
            wait_for(lambda: self._rmdir(d), timeout=10, what=f'{d} to empty')

    @staticmethod
    def _rmdir(d):
        try:
            os.rmdir(d)
        except OSError:
            return False
        return True


class WhereCase(ProcessesCase):
    def started_of(self, p, exe='/usr/bin/sleep'):
        """p's Started once it runs exe (after the shell that moved it)."""
        return self.find(self.started, lambda a: a[0] == p.pid and a[3] == exe)

    def where_everywhere(self, pid):
        """The where dictionary of pid's Started, GetProcess and ListProcesses, checked equal."""
        st = self.find(self.started, lambda a: a[0] == pid and a[3] == '/usr/bin/sleep')
        got = self.call('GetProcess', (pid,), '(u)')
        listed = [e for e in self.call('ListProcesses')[0] if e[0] == pid]
        self.assertEqual(len(listed), 1)
        self.assertEqual(got[-1], st[-1])
        self.assertEqual(listed[0][-1], st[-1])
        return st[-1]


class Namespaces(WhereCase):
    def test_own_pid_and_mount_namespace(self):
        stream = Stream.acquire(self.client, {'Processes': GLib.Variant('b', True)})
        self.addCleanup(stream.close)
        outside = subprocess.Popen(['/bin/sleep', '60'])
        self.addCleanup(stop, outside)
        # unshare says it cannot unblock SIGKILL when its child dies of it: not ours to show.
        p = subprocess.Popen(['unshare', '--pid', '--mount', '--fork', '/bin/sleep', '60'], stderr=subprocess.DEVNULL)
        self.addCleanup(stop, p)
        wait_for(lambda: children_of(p.pid), what="unshare's child")
        child = children_of(p.pid)[0]
        where = self.where_everywhere(child)
        self.assertEqual(where['pid_namespace'], namespace(child, 'pid'))
        self.assertEqual(where['mount_namespace'], namespace(child, 'mnt'))
        self.assertNotEqual(where['pid_namespace'], namespace(os.getpid(), 'pid'))
        self.assertNotEqual(where['mount_namespace'], namespace(os.getpid(), 'mnt'))
        self.assertEqual(where['namespace_pid'], 1)
        # No systemd here: known to have no user unit, machine; no container in our cgroup.
        self.assertEqual((where['user_unit'], where['machine'], where['container']), ('', '', ''))
        # A process in ours: our namespaces, its pid the same inside.
        mine = self.where_everywhere(outside.pid)
        self.assertEqual(mine['pid_namespace'], namespace(os.getpid(), 'pid'))
        self.assertEqual(mine['mount_namespace'], namespace(os.getpid(), 'mnt'))
        self.assertEqual(mine['namespace_pid'], self.own_namespace_pid(outside.pid))
        # Exited carries it too, from the table.
        os.kill(child, 9)
        ex = self.find(self.exited, lambda a: a[0] == child)
        self.assertEqual(ex[-1], where)
        # And the stream's records.
        self.assertTrue(stream.read_until(lambda: any(t == EXITED and r['pid'] == child
                                                      for t, r in stream.processes)))
        rec = [r for t, r in stream.processes if t == STARTED and r['pid'] == child and r['exe'] == '/usr/bin/sleep']
        self.assertEqual(len(rec), 1)
        self.assertEqual((rec[0]['pid_namespace'], rec[0]['mount_namespace'], rec[0]['namespace_pid']),
                         (where['pid_namespace'], where['mount_namespace'], 1))
        self.assertEqual(rec[0]['argv'], ['/bin/sleep', '60'])
        self.assertEqual((rec[0]['user_unit'], rec[0]['machine'], rec[0]['container']), ('', '', ''))

    @staticmethod
    def own_namespace_pid(pid):
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith('NSpid:'):
                    return int(line.split()[-1])
        raise AssertionError('no NSpid')


class Containers(WhereCase):
    def test_runtimes_named_by_cgroups(self):
        tree = CgroupTree(self)
        cases = {
            'docker': ('system.slice/docker-' + ID + '.scope', 'docker:' + ID),
            'docker-cgroupfs': ('docker/' + ID, 'docker:' + ID),
            'podman': ('machine.slice/libpod-' + ID + '.scope/container', 'podman:' + ID),
            'containerd': ('kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0c1d.slice/'
                           'cri-containerd-' + ID + '.scope', 'containerd:' + ID),
            'cri-o': ('kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0c1d.slice/crio-' + ID
                      + '.scope', 'cri-o:' + ID),
            'lxc': ('lxc.payload.web/init.scope', 'lxc:web'),
            'none': ('system.slice/docker.service', ''),
        }
        procs = {name: tree.run_in(path, ['/bin/sleep', '60']) for name, (path, _) in cases.items()}
        for name, (path, want) in cases.items():
            with self.subTest(runtime=name):
                p = procs[name]
                st = self.started_of(p)
                self.assertTrue(st[6].endswith('/' + tree.top + '/' + path), st[6])
                self.assertEqual(st[6], cgroup_of(p.pid))
                self.assertEqual(self.where_everywhere(p.pid)['container'], want)


class Cnctl(WhereCase):
    def test_proc_shows_the_container(self):
        """cnctl proc, through a stream and through signals, in JSON and as text."""
        tree = CgroupTree(self)
        views = {(via, form): CnctlStream('proc', f'--via={via}', '--kinds=exec', *(['--json=short'] if form == 'json'
                                                                                 else []),
                                          address=self.bus.address)
                 for via in ('stream', 'signals') for form in ('json', 'text')}
        for v in views.values():
            self.addCleanup(lambda v=v: v.proc.poll() is None and v.stop())
        wait_for(lambda: self._ran_and_seen() and all(len(v.lines) > 0 for v in views.values()), timeout=30,
                 what='cnctl to show a program')
        p = tree.run_in('system.slice/docker-' + ID + '.scope', ['/bin/sleep', '60'])
        self.started_of(p)
        for (via, form), v in views.items():
            with self.subTest(via=via, form=form):
                if form == 'json':
                    v.wait_lines(lambda lines: any(f'"pid":{p.pid},' in line and '/usr/bin/sleep' in line
                                                   for line in lines))
                    o = [o for o in v.objects() if o.get('pid') == p.pid and o.get('exe') == '/usr/bin/sleep']
                    self.assertEqual(o[0]['signal'], 'Started')
                    self.assertEqual(o[0]['where']['container'], 'docker:' + ID)
                    self.assertEqual(o[0]['where']['namespace_pid'], Namespaces.own_namespace_pid(p.pid))
                else:
                    # The shell's exec shows first; then sleep's own, in the container by then.
                    def sleeps(line):
                        return f' {p.pid} ' in line and ': /bin/sleep 60' in line
                    v.wait_lines(lambda lines: any(sleeps(line) for line in lines))
                    line = next(line for line in v.lines if sleeps(line))
                    self.assertTrue(line.endswith(f'/bin/sleep 60 (docker:{ID})'), line)


class UserManager(WhereCase):
    CND_ENV = {'CND_TEST_UNIT_LOOKUP': '1'}

    def test_user_unit_is_not_the_unit(self):
        tree = CgroupTree(self)
        p = tree.run_in('user.slice/user-1000.slice/user@1000.service/app.slice/sshd.service', ['/bin/sleep', '60'])
        st = self.started_of(p)
        self.assertEqual(st[5], 'user@1000.service')
        where = self.where_everywhere(p.pid)
        self.assertEqual(where['user_unit'], 'sshd.service')
        self.assertEqual(where['machine'], '')
        self.assertEqual(where['container'], '')
        self.assertEqual(self.call('GetProcess', (p.pid,), '(u)')[4], 'user@1000.service')
        self.assertEqual([e[4] for e in self.call('ListProcesses')[0] if e[0] == p.pid], ['user@1000.service'])
        # A system service's process has a unit and no user unit.
        q = tree.run_in('system.slice/cron.service', ['/bin/sleep', '60'])
        self.assertEqual(self.started_of(q)[5], 'cron.service')
        self.assertEqual(self.where_everywhere(q.pid)['user_unit'], '')
        # Below a session scope, as libsystemd has it: the scope is the unit, what is below the
        # user unit.
        s = tree.run_in('user.slice/user-1000.slice/session-2.scope/x.service', ['/bin/sleep', '60'])
        self.assertEqual(self.started_of(s)[5], 'session-2.scope')
        self.assertEqual(self.where_everywhere(s.pid)['user_unit'], 'x.service')
        p.kill()
        ex = self.find(self.exited, lambda a: a[0] == p.pid)
        self.assertEqual(ex[4], 'user@1000.service')
        self.assertEqual(ex[-1]['user_unit'], 'sshd.service')


class NamespacesBroker(Namespaces):
    BUS_KIND = 'dbus-broker'


if __name__ == '__main__':
    main()
