#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs a command inside Debian's kernel booted under qemu (TCG), with this machine's root file
system as the guest's, read-only over virtio-9p, and writable tmpfs on /tmp, /run and /var/tmp.
The host cannot load modules; the guest can, so kernel/cnfeed is tested there.

    run-guest.py [--timeout SEC] [--kernel VERSION] [--memory MiB] [--share DIR]... -- COMMAND [ARG...]

Each --share DIR (and the current directory) is exported to the guest on its own, read-only, and
mounted at the same path after the tmpfs mounts: a source or build tree in /tmp or /var/tmp
would otherwise be hidden under them. The command runs as root in the guest, in the current
directory, through /bin/sh. Its output
and the guest's kernel log go to OUTDIR (--out, default a temporary directory that is removed
on success); the exit status is the command's. A guest that does not finish in time is killed
and reported as a failure with its console log."""

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'bus'))
import pace  # noqa: E402

# In this order: each needs the ones before it.
MODULES = ['drivers/virtio/virtio_ring', 'drivers/virtio/virtio', 'drivers/virtio/virtio_pci_modern_dev',
           'drivers/virtio/virtio_pci_legacy_dev', 'drivers/virtio/virtio_pci', 'fs/netfs/netfs',
           'fs/fscache/fscache', 'net/9p/9pnet', 'net/9p/9pnet_virtio', 'fs/9p/9p']

INIT = r'''#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in /modules/*.ko; do insmod "$m" || echo "guest: insmod $m failed"; done
out=$(sed -n 's/.*cnd.out=\([^ ]*\).*/\1/p' /proc/cmdline)
mkdir -p /root
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose hostroot /root || echo "guest: no host root"
mount -t proc proc /root/proc
mount -t sysfs sys /root/sys
mount -t devtmpfs dev /root/dev
mkdir -p /root/dev/pts /root/dev/shm
mount -t devpts devpts /root/dev/pts
mount -t tmpfs shm /root/dev/shm
mount -t tmpfs tmp /root/tmp
mount -t tmpfs run /root/run
mount -t tmpfs vartmp /root/var/tmp
while IFS="$(printf '\t')" read -r tag path; do
        mkdir -p "/root$path"
        mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose "$tag" "/root$path" ||
                echo "guest: cannot mount $path"
done < /shares
mkdir -p "/root$out"
mount -t 9p -o trans=virtio,version=9p2000.L,cache=none out "/root$out"
echo "guest: up after $(cut -d' ' -f1 /proc/uptime) s" > "/root$out/boot"
chroot /root /bin/sh "$out/guest.sh" > "/root$out/output" 2>&1
echo $? > "/root$out/status"
dmesg > "/root$out/dmesg"
sync
umount "/root$out"
poweroff -f
'''


def kernel_version(wanted):
    if wanted:
        return wanted
    versions = sorted(v for v in os.listdir('/lib/modules') if os.path.exists(f'/boot/vmlinuz-{v}'))
    if not versions:
        sys.exit('run-guest: no kernel with modules in /boot and /lib/modules (install linux-image-amd64)')
    return versions[-1]


def exported(shares):
    """The directories to export, outermost first, without those inside another one."""
    result = []
    for d in sorted({os.path.realpath(s) for s in shares}, key=len):
        if not any(d == r or d.startswith(r.rstrip('/') + '/') for r in result):
            result.append(d)
    return result


def fsdev_path(path):
    return path.replace(',', ',,')       # qemu's option syntax


def build_initramfs(workdir, version, shares):
    root = os.path.join(workdir, 'initramfs')
    for d in ('bin', 'proc', 'sys', 'dev', 'root', 'modules'):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    busybox = shutil.which('busybox') or '/bin/busybox'
    shutil.copy(busybox, os.path.join(root, 'bin', 'busybox'))
    for i, m in enumerate(MODULES):
        shutil.copy(f'/lib/modules/{version}/kernel/{m}.ko', os.path.join(root, 'modules', f'{i:02d}-{os.path.basename(m)}.ko'))
    with open(os.path.join(root, 'init'), 'w') as f:
        f.write(INIT)
    with open(os.path.join(root, 'shares'), 'w') as f:
        f.write(''.join(f'share{i}\t{d}\n' for i, d in enumerate(shares)))
    os.chmod(os.path.join(root, 'init'), 0o755)
    image = os.path.join(workdir, 'initramfs.cpio')
    files = subprocess.run(['find', '.'], cwd=root, capture_output=True, text=True, check=True).stdout
    with open(image, 'wb') as f:
        subprocess.run([busybox, 'cpio', '-o', '-H', 'newc'], cwd=root, input=files.encode(), stdout=f,
                       stderr=subprocess.DEVNULL, check=True)
    return image


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--timeout', type=float, default=600)
    ap.add_argument('--kernel', default=None)
    ap.add_argument('--memory', type=int, default=2048)
    ap.add_argument('--cpus', type=int, default=2)
    ap.add_argument('--out', default=None)
    ap.add_argument('--share', action='append', default=[])
    ap.add_argument('command', nargs=argparse.REMAINDER)
    args = ap.parse_args()
    command = args.command[1:] if args.command[:1] == ['--'] else args.command
    if not command:
        ap.error('no command')

    version = kernel_version(args.kernel)
    missing = [what for what, ok in (('qemu-system-x86_64', shutil.which('qemu-system-x86_64')),
                                     (f'/boot/vmlinuz-{version}', os.path.exists(f'/boot/vmlinuz-{version}')),
                                     ('busybox', shutil.which('busybox')))
               if not ok]
    if missing:
        print(f'run-guest: skipped, missing {", ".join(missing)}', file=sys.stderr)
        return 77
    work = tempfile.mkdtemp(prefix='cnd-guest-')
    out = args.out or os.path.join(work, 'out')
    os.makedirs(out, exist_ok=True)
    os.chmod(out, 0o777)
    passed = {k: v for k, v in os.environ.items()
              if k.startswith('CND_') or k in ('PYTHONPATH', 'PYTHONDONTWRITEBYTECODE')}
    # The host's fork pace, for the guest to compare its own with and wait that much longer.
    fork_storm = os.path.join(os.environ.get('CND_BUILD_DIR', ''), 'tests', 'helpers', 'fork-storm')
    if os.access(fork_storm, os.X_OK):
        passed[pace.HOST_PACE_VARIABLE] = repr(pace.fork_pace(fork_storm))
    with open(os.path.join(out, 'guest.sh'), 'w') as f:
        env = ''.join(f'export {k}={shlex.quote(v)}\n' for k, v in passed.items())
        f.write(f'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root\n'
                f'{env}cd {shlex.quote(os.getcwd())}\n{shlex.join(command)}\n')
    shares = exported(args.share + [os.getcwd()])
    image = build_initramfs(work, version, shares)

    qemu = ['qemu-system-x86_64', '-accel', 'tcg,thread=multi', '-m', str(args.memory), '-smp', str(args.cpus),
            '-cpu', 'max', '-nographic', '-no-reboot', '-nodefaults', '-serial', 'stdio',
            '-kernel', f'/boot/vmlinuz-{version}', '-initrd', image,
            '-append', f'console=ttyS0 panic=-1 oops=panic loglevel=4 rdinit=/init cnd.out={out}',
            '-fsdev', 'local,id=hostroot,path=/,security_model=passthrough,readonly=on,multidevs=remap',
            '-device', 'virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot',
            '-fsdev', f'local,id=out,path={out},security_model=passthrough',
            '-device', 'virtio-9p-pci,fsdev=out,mount_tag=out']
    for i, d in enumerate(shares):
        qemu += ['-fsdev', f'local,id=share{i},path={fsdev_path(d)},security_model=passthrough,readonly=on,multidevs=remap',
                 '-device', f'virtio-9p-pci,fsdev=share{i},mount_tag=share{i}']
    console = os.path.join(out, 'console')
    start = time.monotonic()
    with open(console, 'wb') as con:
        proc = subprocess.Popen(qemu, stdout=con, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            proc.wait(timeout=args.timeout)
            timed_out = False
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            timed_out = True
    elapsed = time.monotonic() - start

    def show(name):
        path = os.path.join(out, name)
        if os.path.exists(path):
            with open(path, errors='replace') as f:
                return f.read()
        return ''

    sys.stdout.write(show('output'))
    boot = show('boot').strip()
    status = show('status').strip()
    if timed_out or not status:
        print(f'run-guest: the guest {"timed out after %.0f s" % args.timeout if timed_out else "died"}; '
              f'console log:\n{show("console")[-20000:]}', file=sys.stderr)
        print(f'run-guest: output kept in {out}', file=sys.stderr)
        return 1
    print(f'run-guest: kernel {version}, {boot.removeprefix("guest: ")}, whole run {elapsed:.1f} s, '
          f'exit status {status}', file=sys.stderr)
    if int(status) != 0:
        print(f'run-guest: output kept in {out}', file=sys.stderr)
    elif not args.out:
        shutil.rmtree(work, ignore_errors=True)
    return int(status)


if __name__ == '__main__':
    sys.exit(main())
