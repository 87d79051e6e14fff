#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The guest suite: runs inside Debian's kernel under qemu (run-guest.py), as root, where
# kernel/cnfeed can be loaded. $1 is the source tree.
src=$1
rc=0
for t in "$src/tests/guest/test_cnfeed.py" "$src/tests/guest/test_cnproc_unprivileged.py" \
         "$src/tests/bus/test_proc.py"; do
        echo "=== $t"
        /usr/bin/python3 "$t" || rc=1
done
echo "=== dmesg warnings:"
dmesg | grep -E "WARNING|BUG|Oops|leak" && rc=1
exit $rc
