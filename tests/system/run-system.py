#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The booted system test: cnd as Debian packages on a real Debian 12 system with systemd as PID 1.

Builds the .debs (tools/build-debs), a fresh Debian 12 root with mmdebstrap from the archive
this machine's apt uses, with both dbus-daemon and dbus-broker, installs the .debs into it with
apt, and boots it twice under qemu (TCG) with Debian's own kernel and initrd, once with each as
the system bus (a generator of the image's reads cnd.test_bus= from the kernel command line). scenario.py runs inside, after multi-user.target, and reports every check; this script
prints them as PASS/FAIL, with the guest's evidence for a failure, and the times and sizes.

Run it alone, as root, after `meson setup build`:

    meson test -C build --suite system --verbose
    tests/system/run-system.py build            (the same, directly)

Options: --only dbus-daemon|dbus-broker, --timeout SEC (per boot), --keep (keep the work
directory with the image and print it), --images DIR (boot the image a --keep run left in
DIR instead of building). CND_DEBS_DIR=DIR uses the cnd_*.deb and cnfeed-dkms_*.deb in DIR
instead of building them. Logs of the last run (console, results, journals, build logs) are
left in BUILD_DIR/tests/system/logs. Exit status 77 (skipped) when qemu or mmdebstrap cannot
be installed."""

import argparse
import fcntl
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.dirname(os.path.dirname(HERE))
SUITE = 'bookworm'
BUSES = ('dbus-daemon', 'dbus-broker')
# What the scenario uses besides the bus: the kernel with the headers DKMS builds cnfeed
# against (dkms brings gcc and make), gdbus for unprivileged clients, python3 for the scenario,
# systemd-journal-remote for shipping cnd's journal entries the way a fleet does, python3-dbus
# for a stream's reader (AcquireStream hands out a file descriptor, which gdbus cannot keep),
# systemd-container for a container registered with machined.
PACKAGES = ['systemd-sysv', 'udev', 'kmod', 'procps', 'linux-image-amd64', 'linux-headers-amd64',
            'dkms', 'python3', 'python3-dbus', 'libglib2.0-bin', 'systemd-journal-remote', 'systemd-container',
            'dbus', 'dbus-broker']
HOST_TOOLS = {'mmdebstrap': 'mmdebstrap', 'qemu-system-x86_64': 'qemu-system-x86',
              'qemu-img': 'qemu-utils', 'mke2fs': 'e2fsprogs'}
# Where the images, their overlays and mmdebstrap's chroots live: outside the clone, whose
# path may be unreachable (/root is 0700) or awkward, and on disk rather than a tmpfs.
# What boot() hands the guest besides the packages: the scenario and the helpers it runs (the
# probe that the unit starts inside its own sandbox, a stream's reader run as other users), and
# the bus names as the tests on the host read them (busnames.py, from the daemon's header).
GUEST_SCRIPTS = ('scenario.py', 'sandbox-probe.py', 'stream-reader.py', os.path.join('..', 'bus', 'streamrecords.py'),
                 os.path.join('..', 'bus', 'busnames.py'),
                 os.path.join('..', '..', 'daemon', 'shared', 'cnd-bus-names.h'))
WORK_PARENT = '/var/tmp'
WORK_PREFIX = 'cnd-system-'
IMAGE_SIZE = '4G'


def log(msg):
    print(f'system: {msg}', flush=True)


def die(msg):
    log(msg)
    sys.exit(1)


def mib(n):
    return f'{n / 1048576:.0f} MiB'


def qemu_opt(path):
    """A path inside a qemu option list, where a comma must be doubled."""
    return path.replace(',', ',,')


def remove_tree(path):
    """Removes a work directory that may hold a chroot: whatever is still mounted below it (an
    mmdebstrap killed mid-way leaves /dev, /proc and /sys bound there) is unmounted first, and
    rm never crosses into another file system."""
    real = os.path.realpath(path)
    with open('/proc/self/mountinfo') as f:
        mounts = [line.split()[4].encode().decode('unicode_escape') for line in f]
    for m in sorted((m for m in mounts if m.startswith(real + '/')), key=len, reverse=True):
        subprocess.run(['umount', '-l', m], stderr=subprocess.DEVNULL)
    subprocess.run(['rm', '-rf', '--one-file-system', real])


def clean_stale_runs():
    """An earlier run that was killed leaves its work directory, and perhaps a qemu or
    mmdebstrap still using it. A run holds a lock on its directory; one whose lock can be taken
    is dead: its processes are ended and its directory removed."""
    for d in glob.glob(os.path.join(WORK_PARENT, WORK_PREFIX + '*')):
        lock = os.path.join(d, 'lock')
        if os.path.exists(os.path.join(d, 'keep')):
            continue
        try:
            fd = os.open(lock, os.O_RDONLY)
        except FileNotFoundError:
            if time.time() - os.stat(d).st_mtime < 60:
                continue  # just created by another run that has not locked it yet
            fd = None
        except OSError:
            continue
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            os.close(fd)
        log(f'removing the leftovers of an interrupted run: {d}')
        kill_users_of(d)
        remove_tree(d)


def kill_users_of(path):
    """Ends the processes that name PATH on their command line (qemu, mmdebstrap) or run in a
    chroot below it (apt and dpkg of an mmdebstrap)."""
    needle = os.path.realpath(path)
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open(f'/proc/{pid}/cmdline', 'rb') as f:
                named = needle.encode() in f.read()
            inside = any(os.readlink(f'/proc/{pid}/{link}').startswith(needle + '/') for link in ('root', 'cwd'))
            if named or inside:
                os.kill(int(pid), signal.SIGKILL)
        except OSError:
            pass


def ensure_host_tools():
    missing = sorted({pkg for tool, pkg in HOST_TOOLS.items() if not shutil.which(tool)})
    if not missing:
        return True
    log(f'installing {" ".join(missing)}')
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    install = ['apt-get', '-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '-q', '--no-install-recommends']
    if subprocess.run(install + missing, env=env).returncode != 0:
        subprocess.run(['apt-get', '-o', 'DPkg::Lock::Timeout=600', 'update', '-q'], env=env)
        subprocess.run(install + missing, env=env)
    return all(shutil.which(tool) for tool in HOST_TOOLS)


def archive_mirrors():
    """The Debian 12 entries of this machine's apt sources, as one-line entries for mmdebstrap:
    the guest comes from the same archive as the host."""
    entries = []
    for path in sorted(glob.glob('/etc/apt/sources.list') + glob.glob('/etc/apt/sources.list.d/*.list')):
        with open(path) as f:
            for line in f:
                words = re.sub(r'\[[^]]*\]', '', line.split('#', 1)[0]).split()
                if len(words) >= 4 and words[0] == 'deb':
                    entries.append((words[1], words[2], words[3:]))
    for path in sorted(glob.glob('/etc/apt/sources.list.d/*.sources')):
        with open(path) as f:
            stanzas = re.split(r'\n\s*\n', f.read())
        for stanza in stanzas:
            fields, key = {}, None
            for line in stanza.splitlines():
                if line.startswith('#'):
                    continue
                if line[:1] in (' ', '\t') and key:
                    fields[key] += ' ' + line.strip()
                elif ':' in line:
                    key, value = line.split(':', 1)
                    key = key.strip().lower()
                    fields[key] = value.strip()
            if 'deb' not in fields.get('types', '').split() or fields.get('enabled', 'yes') == 'no':
                continue
            for uri in fields.get('uris', '').split():
                for suite in fields.get('suites', '').split():
                    entries.append((uri, suite, fields.get('components', '').split()))
    wanted = (SUITE, f'{SUITE}-updates', f'{SUITE}-security', f'{SUITE}/updates')
    lines = []
    for uri, suite, components in entries:
        line = f'deb {uri} {suite} main'
        if suite in wanted and 'main' in components and line not in lines:
            lines.append(line)
    return lines


def run_logged(cmd, logfile, **kw):
    with open(logfile, 'ab') as f:
        return subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, **kw)


def tail(path, lines=40):
    try:
        with open(path, errors='replace') as f:
            return ''.join(f.readlines()[-lines:])
    except OSError:
        return ''


def die_with(child):
    """A child that outlives this script (killed by meson's timeout, Ctrl-C) goes too."""
    def preexec():
        import ctypes
        ctypes.CDLL(None).prctl(1, child)  # PR_SET_PDEATHSIG
    return preexec


def build_debs(top, logs):
    given = os.environ.get('CND_DEBS_DIR')
    if given:
        debs_dir = given
    else:
        fresh = tempfile.mkdtemp(prefix='debs.tmp-', dir=top)
        start = time.monotonic()
        r = run_logged([os.path.join(SOURCE, 'tools', 'build-debs'), fresh],
                       os.path.join(logs, 'build-debs.log'), preexec_fn=die_with(signal.SIGTERM))
        if r.returncode != 0:
            remove_tree(fresh)
            die(f'tools/build-debs failed:\n{tail(os.path.join(logs, "build-debs.log"))}')
        debs_dir = os.path.join(top, 'debs')
        if os.path.exists(debs_dir):
            remove_tree(debs_dir)
        os.rename(fresh, debs_dir)
        log(f'packages built in {time.monotonic() - start:.0f} s into {debs_dir}')
    debs = []
    for name in ('cnd', 'cnfeed-dkms'):
        found = sorted(glob.glob(os.path.join(glob.escape(debs_dir), f'{name}_*.deb')))
        if not found:
            die(f'no {name}_*.deb in {debs_dir}')
        debs.append(found[-1])
    return debs


TEST_UNIT = '''[Unit]
Description=cnd booted system test
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/bin/sh -c 'mkdir -p /run/cnd-test && mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 cndtest /run/cnd-test && exec /usr/bin/python3 /run/cnd-test/scenario.py /run/cnd-test'
ExecStopPost=/bin/systemctl --no-block poweroff --force
StandardOutput=journal+console
TimeoutStartSec=infinity

[Install]
WantedBy=multi-user.target
'''

# A boot with cnd.test_bus=dbus-broker on its kernel command line has dbus-broker as its
# system bus, any other dbus-daemon: the generator's early directory ranks above /lib.
BUS_GENERATOR = r'''#!/bin/sh
if grep -qw 'cnd.test_bus=dbus-broker' /proc/cmdline; then
        ln -sf /lib/systemd/system/dbus-broker.service "$2/dbus.service"
fi
exit 0
'''

# Runs in the chroot at the end of the image build: the packages are installed the way a user
# does (apt with the .deb paths), so their maintainer scripts and DKMS run for real.
CUSTOMIZE = r'''set -e
export DEBIAN_FRONTEND=noninteractive
cd /tmp/cnd-stage
apt-get -o APT::Sandbox::User=root install -y -q ./*.deb
install -m 644 cnd-system-test.service /etc/systemd/system/
systemctl enable cnd-system-test.service
# dbus-broker's package made itself the system bus (dbus.service, an alias in /etc): the boot
# chooses instead, by the generator. (The user bus stays dbus-broker's in both: no check uses
# it.)
rm -f /etc/systemd/system/dbus.service
install -D -m 755 cnd-test-bus /etc/systemd/system-generators/cnd-test-bus
echo cnd-guest > /etc/hostname
echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' > /etc/fstab
apt-get clean
'''


def build_image(work, debs, mirrors):
    """Starts mmdebstrap for the image; returns the process, the root it fills and its log."""
    stage = os.path.join(work, 'stage')
    os.makedirs(stage)
    for d in debs:
        shutil.copy(d, stage)
    with open(os.path.join(stage, 'cnd-system-test.service'), 'w') as f:
        f.write(TEST_UNIT)
    with open(os.path.join(stage, 'cnd-test-bus'), 'w') as f:
        f.write(BUS_GENERATOR)
    with open(os.path.join(stage, 'customize.sh'), 'w') as f:
        f.write(CUSTOMIZE)
    tmp = os.path.join(work, 'tmp')
    os.makedirs(tmp)
    root = os.path.join(work, 'root')
    # unsafe-io: no fsync per unpacked file while building (the image is made from the tree
    # afterwards); the booted system gets dpkg's defaults back.
    cmd = ['mmdebstrap', '--mode=root', '--variant=minbase', '--format=directory', '--dpkgopt=force-unsafe-io',
           '--include=' + ','.join(PACKAGES),
           '--customize-hook=cp -a "$CND_STAGE" "$1/tmp/cnd-stage"',
           '--customize-hook=chroot "$1" /bin/sh /tmp/cnd-stage/customize.sh',
           '--customize-hook=rm -rf "$1/tmp/cnd-stage" "$1/etc/dpkg/dpkg.cfg.d/99mmdebstrap"',
           SUITE, root] + mirrors
    if any('snapshot.debian.org' in m for m in mirrors):
        cmd[1:1] = ['--aptopt=Acquire::Check-Valid-Until "false"']
    env = dict(os.environ, CND_STAGE=stage, TMPDIR=tmp)
    logfile = os.path.join(work, 'share', 'mmdebstrap.log')
    out = open(logfile, 'wb')
    proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            preexec_fn=die_with(signal.SIGTERM))
    out.close()
    return proc, root, logfile


def finish_image(work, root, debs):
    """The root becomes an ext4 image with Debian's own kernel and initrd beside it, and the
    packages that went in (the scenario installs them again on the running system). The
    directory gets its final name only when complete."""
    image_dir = os.path.join(work, 'image')
    part = image_dir + '.part'
    os.makedirs(os.path.join(part, 'debs'))
    for d in debs:
        shutil.copy(d, os.path.join(part, 'debs'))
    kernels = sorted(glob.glob(os.path.join(glob.escape(root), 'boot', 'vmlinuz-*')))
    if not kernels:
        die('no kernel in the image')
    version = os.path.basename(kernels[-1]).removeprefix('vmlinuz-')
    shutil.copy(kernels[-1], os.path.join(part, 'vmlinuz'))
    shutil.copy(os.path.join(root, 'boot', f'initrd.img-{version}'), os.path.join(part, 'initrd.img'))
    subprocess.run(['mke2fs', '-q', '-F', '-t', 'ext4', '-L', 'cndroot', '-d', root,
                    os.path.join(part, 'root.ext4'), IMAGE_SIZE], check=True)
    with open(os.path.join(part, 'kernel-version'), 'w') as f:
        f.write(version + '\n')
    os.rename(part, image_dir)
    size = int(subprocess.run(['du', '-sb', root], capture_output=True, text=True).stdout.split()[0])
    remove_tree(root)
    return image_dir, size


def image_sizes(image_dir):
    root = os.path.join(image_dir, 'root.ext4')
    used = os.stat(root).st_blocks * 512
    boot = sum(os.path.getsize(os.path.join(image_dir, n)) for n in ('vmlinuz', 'initrd.img'))
    return f'ext4 {mib(used)} used of {IMAGE_SIZE}, kernel+initrd {mib(boot)}'


def boot(work, bus, image_dir, timeout, options):
    """Boots a throwaway copy-on-write overlay of the image and waits for the scenario."""
    share = os.path.join(work, f'share-{bus}')
    os.makedirs(share)
    for helper in GUEST_SCRIPTS:
        shutil.copy(os.path.join(HERE, helper), share)
    shutil.copytree(os.path.join(image_dir, 'debs'), os.path.join(share, 'debs'))
    with open(os.path.join(share, 'config.json'), 'w') as f:
        json.dump(dict(options, bus=bus), f)
    overlay = os.path.join(work, f'overlay-{bus}.qcow2')
    subprocess.run(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'raw', '-b',
                    os.path.join(image_dir, 'root.ext4'), overlay], check=True)
    qemu = ['qemu-system-x86_64', '-accel', 'tcg,thread=multi', '-m', '2048', '-smp', '2', '-cpu', 'max',
            '-nographic', '-no-reboot', '-nodefaults', '-serial', 'stdio',
            '-kernel', os.path.join(image_dir, 'vmlinuz'), '-initrd', os.path.join(image_dir, 'initrd.img'),
            '-append', f'console=ttyS0 root=/dev/vda rw panic=-1 loglevel=4 cnd.test_bus={bus}',
            '-drive', f'file={qemu_opt(overlay)},if=virtio,format=qcow2,cache=unsafe',
            '-device', 'virtio-rng-pci',
            '-fsdev', f'local,id=cndtest,path={qemu_opt(share)},security_model=passthrough',
            '-device', 'virtio-9p-pci,fsdev=cndtest,mount_tag=cndtest']
    console = os.path.join(share, 'console.log')
    start = time.monotonic()
    with open(console, 'wb') as con:
        proc = subprocess.Popen(qemu, stdout=con, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                preexec_fn=die_with(signal.SIGKILL))
        try:
            proc.wait(timeout=timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            timed_out = True
    os.unlink(overlay)
    return share, time.monotonic() - start, timed_out


def report(bus, share, wall, timed_out):
    """Prints the guest's checks; returns (passed, failed)."""
    results = []
    path = os.path.join(share, 'results.jsonl')
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                try:
                    results.append(json.loads(line))
                except ValueError:
                    pass  # the last line of a guest that died while writing it
    passed = failed = 0
    info = {}
    for r in results:
        if r.get('kind') == 'info':
            info.update(r['data'])
            continue
        if r['ok']:
            passed += 1
            print(f'PASS [{bus}] {r["name"]}' + (f': {r["note"]}' if r.get('note') else ''))
        else:
            failed += 1
            print(f'FAIL [{bus}] {r["name"]}: {r.get("note", "")}')
            for line in r.get('evidence', '').rstrip().splitlines():
                print(f'    {line}')
    done = os.path.exists(os.path.join(share, 'done'))
    if timed_out or not done:
        failed += 1
        why = f'timed out after {wall:.0f} s' if timed_out else 'stopped before the scenario finished'
        print(f'FAIL [{bus}] the guest {why}; the end of its console:')
        for line in tail(os.path.join(share, 'console.log'), 60).splitlines():
            print(f'    {line}')
    boot_s = info.get('boot_seconds')
    log(f'{bus}: qemu ran {wall:.0f} s; ' +
        (f'multi-user.target {boot_s:.1f} s after the kernel started (systemd took over at '
         f'{info.get("userspace_seconds", 0):.1f} s), the checks {info.get("scenario_seconds", 0):.0f} s'
         if boot_s is not None else 'no timing from the guest'))
    return passed, failed


def keep_logs(top, work):
    """The small files of this run (console logs, results, journals, build logs) replace the
    previous run's in BUILD_DIR/tests/system/logs."""
    fresh = tempfile.mkdtemp(prefix='logs.tmp-', dir=top)
    for path in glob.glob(os.path.join(glob.escape(work), 'share*')):
        if os.path.isdir(path):
            name = os.path.basename(path)
            dest = os.path.join(fresh, 'build' if name == 'share' else name.removeprefix('share-'))
            shutil.copytree(path, dest, ignore=shutil.ignore_patterns('*.py', '*.h', 'debs'))
    logs = os.path.join(top, 'logs')
    if os.path.exists(logs):
        remove_tree(logs)
    os.rename(fresh, logs)
    return logs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('build_dir')
    ap.add_argument('--only', choices=sorted(BUSES), action='append')
    ap.add_argument('--timeout', type=float, default=600, help='per boot, seconds')
    ap.add_argument('--keep', action='store_true')
    ap.add_argument('--images', metavar='DIR')
    args = ap.parse_args()
    buses = args.only or list(BUSES)
    build_dir = os.path.abspath(args.build_dir)
    start = time.monotonic()

    if os.geteuid() != 0:
        log('skipped: needs root (mmdebstrap builds the images, qemu boots them)')
        return 77
    if not ensure_host_tools():
        log(f'skipped: could not install {", ".join(sorted(set(HOST_TOOLS.values())))}')
        return 77
    # meson's timeout and Ctrl-C end this script through the same clean-up.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    # One run at a time per build tree; what a killed run left half-written there goes.
    top = os.path.join(build_dir, 'tests', 'system')
    os.makedirs(top, exist_ok=True)
    build_lock = os.open(os.path.join(top, 'lock'), os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(build_lock, fcntl.LOCK_EX)
    for d in glob.glob(os.path.join(glob.escape(top), '*.tmp-*')):
        remove_tree(d)
    clean_stale_runs()
    work = tempfile.mkdtemp(prefix=WORK_PREFIX, dir=WORK_PARENT)
    lock = os.open(os.path.join(work, 'lock'), os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    share = os.path.join(work, 'share')
    os.makedirs(share)
    ok = False
    try:
        if args.images:
            image = os.path.join(os.path.abspath(args.images), 'image')
            if not os.path.exists(os.path.join(image, 'root.ext4')):
                die(f'no complete image in {args.images}')
        else:
            mirrors = archive_mirrors()
            if not mirrors:
                die(f'no Debian {SUITE} entry with component main in /etc/apt/sources.list*')
            debs = build_debs(top, share)
            log(f'packages: {", ".join(os.path.basename(d) for d in debs)}')
            log(f'archive: {"; ".join(mirrors)}')
            t = time.monotonic()
            proc, root, logfile = build_image(work, debs, mirrors)
            if proc.wait() != 0:
                die(f'mmdebstrap failed:\n{tail(logfile)}')
            took = time.monotonic() - t
            t = time.monotonic()
            image, root_size = finish_image(work, root, debs)
            remove_tree(os.path.join(work, 'tmp'))
            log(f'mmdebstrap {took:.0f} s, ext4 image {time.monotonic() - t:.0f} s; root {mib(root_size)}, '
                f'{image_sizes(image)}')
        passed = failed = 0
        for bus in buses:
            with open(os.path.join(image, 'kernel-version')) as f:
                version = f.read().strip()
            log(f'{bus}: booting Debian {SUITE} with kernel {version}')
            share_dir, wall, timed_out = boot(work, bus, image, args.timeout,
                                              {'kernel': version})
            p, f_ = report(bus, share_dir, wall, timed_out)
            passed += p
            failed += f_
        log(f'{passed} checks passed, {failed} failed; whole test {time.monotonic() - start:.0f} s')
        ok = failed == 0 and passed > 0
    finally:
        log(f'logs in {keep_logs(top, work)}')
        if args.keep:
            # A kept directory is not a leftover: the next run's clean-up leaves it alone.
            open(os.path.join(work, 'keep'), 'w').close()
            log(f'work directory kept: {work}')
        else:
            remove_tree(work)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
