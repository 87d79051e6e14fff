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
# Of the host's bus tests, those whose outcome depends on the kernel: cn_proc's subscription
# (listener count, acks, the event filter that 6.1 lacks, a storm through it) and the process
# table fed by a kernel that sends every kind of event. What does not depend on the kernel
# (the decoding of each event, privacy, the journal) runs on the host.
run "$src/tests/bus/test_proc.py" \
        ProcEvents.test_fork_exec_exit_code EventFilter.test_only_configured_kinds ForkStorm \
        StopLeavesNoListener ListenerCountBelowZero AnswersReadLate ErrorAck JoinFailure
run "$src/tests/bus/test_processes.py" \
        Processes.test_started_and_exited Processes.test_fork_only_child_has_parents_program \
        Processes.test_threads_make_no_entries Processes.test_table_starts_from_proc \
        Processes.test_resync_after_loss Processes.test_queue_overflow_resyncs \
        Privacy.test_who_gets_what ProcessesBroker.test_started_and_exited
echo "=== dmesg warnings:"
dmesg | grep -E "WARNING|BUG|Oops|leak" && rc=1
exit $rc
