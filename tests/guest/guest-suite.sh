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
# Process identity on an old kernel, which filters nothing for cnd: the table, its signals and
# its privacy, on both buses (the long-running cases run on the host only).
echo "=== $src/tests/bus/test_processes.py"
/usr/bin/python3 "$src/tests/bus/test_processes.py" \
        Processes.test_started_and_exited Processes.test_killed_by_sigterm \
        Processes.test_fork_only_child_has_parents_program Processes.test_threads_make_no_entries \
        Processes.test_table_starts_from_proc Privacy.test_who_gets_what \
        ProcessesBroker.test_started_and_exited PrivacyBroker.test_who_gets_what || rc=1
echo "=== dmesg warnings:"
dmesg | grep -E "WARNING|BUG|Oops|leak" && rc=1
exit $rc
