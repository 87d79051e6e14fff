#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The guest suite: runs inside Debian's kernel under qemu (run-guest.py), as root, where
# kernel/cnfeed can be loaded. $1 is the source tree.
src=$1
rc=0

# 6.1 keeps one cn_proc listener count for the machine and takes any privileged IGNORE: a test
# that sends one too many leaves every later listener without events. Checked after each file.
count_ok() {
        PYTHONPATH="$src/tests/bus" /usr/bin/python3 -c \
                'import sys, kernelprobes; sys.exit(0 if kernelprobes.proc_listen_acked() else 1)'
}

run() {
        echo "=== $*"
        /usr/bin/python3 "$@" || rc=1
        if ! count_ok; then
                echo "FAIL: $1 left cn_proc's listener count below zero"
                rc=1
        fi
}

run "$src/tests/guest/test_cnfeed.py"
run "$src/tests/guest/test_cnproc_unprivileged.py"
run "$src/tests/bus/test_proc.py"
# Process identity on an old kernel, which filters nothing for cnd: the table, its signals, its
# resyncs, its privacy and the journal, on both buses (the rest of the file, run on the host,
# repeats these on the other bus).
run "$src/tests/bus/test_processes.py" \
        Processes.test_started_and_exited Processes.test_killed_by_sigterm Processes.test_core_dump \
        Processes.test_fork_only_child_has_parents_program Processes.test_threads_make_no_entries \
        Processes.test_table_starts_from_proc Processes.test_no_such_process \
        Processes.test_gone_before_read_is_unresolved Processes.test_resync_after_loss \
        Processes.test_queue_overflow_resyncs NoArguments.test_argv_empty \
        Privacy.test_who_gets_what Privacy.test_methods Privacy.test_cnd_checks_callers_itself \
        Journal.test_entries ProcessesBroker.test_started_and_exited PrivacyBroker.test_who_gets_what \
        JournalBroker.test_entries
echo "=== dmesg warnings:"
dmesg | grep -E "WARNING|BUG|Oops|leak" && rc=1
exit $rc
